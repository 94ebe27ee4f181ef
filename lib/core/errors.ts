// Errors of CO-RE relocation: which relocation (index, kind, instruction), of which local type and
// access string, and why it could not be applied. An unsatisfiable relocation is not an error here
// (it is poisoned like libbpf does); these are the cases libbpf refuses outright.
import { TsbpfError } from '../errors.js';

export interface CoreRelocationWhere {
  /** the function (program or subprogram) holding the instruction */
  readonly program?: string;
  /** the relocation's index in its ELF section's .BTF.ext records */
  readonly index?: number;
  /** instruction index within the function */
  readonly insn?: number;
  /** libbpf's kind name ('byte_off', 'field_exists', …) */
  readonly kind?: string;
  readonly accessStr?: string;
  /** the local root type, e.g. 'struct task_struct' */
  readonly type?: string;
}

export class CoreRelocationError extends TsbpfError {
  readonly program?: string;
  readonly index?: number;
  readonly insn?: number;
  readonly kind?: string;
  readonly accessStr?: string;
  readonly type?: string;
  constructor(message: string, where: CoreRelocationWhere = {}, options?: { cause?: unknown }) {
    const at = [
      where.program !== undefined ? `program ${where.program}` : '',
      where.index !== undefined ? `relocation #${where.index}` : '',
      where.insn !== undefined ? `insn ${where.insn}` : '',
      where.kind !== undefined ? `<${where.kind}>` : '',
      where.type !== undefined ? where.type : '',
      where.accessStr !== undefined ? `access ${where.accessStr}` : '',
    ].filter(Boolean).join(' ');
    super(`CO-RE${at ? ` (${at})` : ''}: ${message}`, options);
    this.program = where.program;
    this.index = where.index;
    this.insn = where.insn;
    this.kind = where.kind;
    this.accessStr = where.accessStr;
    this.type = where.type;
  }
}

/** No kernel BTF to relocate against (CONFIG_DEBUG_INFO_BTF off, or the given file unreadable). */
export class CoreNoKernelBtfError extends CoreRelocationError {}
