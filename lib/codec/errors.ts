// Typed errors of value encoding: which field, and what was wrong with it.
import { TsbpfError } from '../errors.js';

export type CodecProblem = 'unknown field' | 'missing field' | 'out of range' | 'wrong length' | 'wrong type' | 'unsupported type';

/** A JS value that does not fit its BTF type (or a type the codec cannot handle). Never silent truncation. */
export class CodecError extends TsbpfError {
  /** 'value', 'value.saddr', 'key.pad[2]' */
  readonly path: string;
  readonly problem: CodecProblem;
  constructor(path: string, problem: CodecProblem, detail: string) {
    super(`${path}: ${problem}: ${detail}`);
    this.path = path;
    this.problem = problem;
  }
}
