// Raw instructions: 8 bytes each (struct bpf_insn: code, dst_reg:4 | src_reg:4, s16 off, s32 imm),
// decoded in the byte order of the object or the host. A 64-bit immediate load takes two slots.
import { ParseError } from '../errors.js';
import { LD_IMM64 } from './opcodes.js';

/** Malformed instruction bytes: a length that is not whole instructions, a 64-bit load cut in half. */
export class DisasmError extends ParseError {
  constructor(message: string, offset: number) {
    super(message, { format: 'bpf instructions', offset });
  }
}

export interface Insn {
  readonly code: number;
  readonly dst: number;
  readonly src: number;
  /** signed 16-bit */
  readonly off: number;
  /** signed 32-bit */
  readonly imm: number;
}

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

/**
 * The instructions of `bytes`; `littleEndian` is the encoding's byte order (a big-endian object
 * has dst_reg in the high nibble). Throws DisasmError when the bytes are not whole instructions or
 * the last one is the first half of a 64-bit immediate load.
 */
export function decodeInsns(bytes: Uint8Array, littleEndian = HOST_LE): Insn[] {
  if (bytes.length % 8 !== 0) throw new DisasmError(`${bytes.length} bytes are not whole 8-byte instructions`, bytes.length - (bytes.length % 8));
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const out: Insn[] = [];
  for (let at = 0; at < bytes.length; at += 8) {
    const regs = bytes[at + 1];
    out.push({
      code: bytes[at],
      dst: littleEndian ? regs & 0x0f : regs >> 4,
      src: littleEndian ? regs >> 4 : regs & 0x0f,
      off: dv.getInt16(at + 2, littleEndian),
      imm: dv.getInt32(at + 4, littleEndian),
    });
  }
  checkWide(out);
  return out;
}

/** A 64-bit immediate load needs its second slot; the last instruction cannot be one that is not skipped. */
export function checkWide(insns: readonly Insn[]): void {
  for (let i = 0; i < insns.length; i++) {
    if (insns[i].code !== LD_IMM64) continue;
    if (i + 1 >= insns.length) throw new DisasmError(`instruction ${i} is a 64-bit immediate load without its second half`, i * 8);
    i++;
  }
}
