// Typed errors of value encoding: which field, and what was wrong with it.
import { TsbpfError } from '../errors.js';

export type CodecProblem = 'unknown field' | 'missing field' | 'out of range' | 'wrong length' | 'wrong type' | 'unsupported type' | 'conflicting members';

/** A JS value that does not fit its BTF type (or a type the codec cannot handle). Never silent truncation. */
export class CodecError extends TsbpfError {
  /** 'value', 'value.saddr', 'key.pad[2]' */
  readonly path: string;
  readonly problem: CodecProblem;
  readonly detail: string;
  constructor(path: string, problem: CodecProblem, detail: string) {
    super(`${path}: ${problem}: ${detail}`);
    this.path = path;
    this.problem = problem;
    this.detail = detail;
  }

  /** the same error with its root renamed ('value' → 'value[3]' for one CPU's slot of a per-CPU value) */
  under(root: string): CodecError {
    const dot = this.path.search(/[.[]/);
    return new CodecError(root + (dot < 0 ? '' : this.path.slice(dot)), this.problem, this.detail);
  }
}
