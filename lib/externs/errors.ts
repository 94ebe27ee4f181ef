// Errors of extern resolution: which extern (.kconfig value, __ksym variable or kfunc) could not
// be given a value, and why. A __weak extern that is absent is not an error (it stays zero).
import { TsbpfError } from '../errors.js';

export type ExternKind = 'kconfig' | 'ksym' | 'kfunc';

export class ExternError extends TsbpfError {
  /** the extern's name (CONFIG_HZ, bpf_task_from_pid, …) */
  readonly extern: string;
  readonly kind: ExternKind | undefined;
  constructor(extern: string, kind: ExternKind | undefined, message: string, options?: { cause?: unknown }) {
    super(`extern ${kind ? `(${kind}) ` : ''}${extern}: ${message}`, options);
    this.extern = extern;
    this.kind = kind;
  }
}
