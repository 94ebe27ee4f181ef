// The BPF disassembler: raw instructions → the kernel's text for each (`(bf) r6 = r1`). See
// format.ts for the words, insn.ts for decoding, kallsyms.ts for naming calls of a loaded program.
import { checkWide, decodeInsns, type Insn } from './insn.js';
import { formatInsn, type DisasmNames } from './format.js';
import { LD_IMM64 } from './opcodes.js';

export { DisasmError, decodeInsns, type Insn } from './insn.js';
export { formatInsn, signed, wideImm, type DisasmNames } from './format.js';
export { helperName, HELPER_NAMES } from './helpers.js';
export { kernelSymbols, type KernelSymbols } from './kallsyms.js';

export interface DisasmLine {
  /** the instruction's index (a 64-bit immediate load takes two; its second has no line) */
  readonly index: number;
  readonly insn: Insn;
  /** the second slot of a 64-bit immediate load */
  readonly next?: Insn;
  readonly text: string;
}

export interface DisassembleOptions extends DisasmNames {
  /** byte order of `insns` when given as bytes (default: the host's) */
  readonly littleEndian?: boolean;
}

/** Every instruction of `insns` (bytes or decoded) as text; throws DisasmError for truncated bytes. */
export function disassemble(insns: Uint8Array | readonly Insn[], o: DisassembleOptions = {}): DisasmLine[] {
  const list = insns instanceof Uint8Array ? decodeInsns(insns, o.littleEndian) : insns;
  if (!(insns instanceof Uint8Array)) checkWide(list);
  const out: DisasmLine[] = [];
  for (let i = 0; i < list.length; i++) {
    const insn = list[i];
    const wide = insn.code === LD_IMM64;
    out.push({ index: i, insn, ...(wide ? { next: list[i + 1] } : {}), text: formatInsn(list, i, o) });
    if (wide) i++;
  }
  return out;
}
