// BPF instructions as the object stage reads and rewrites them: 8 bytes each (opcode, dst/src
// register nibbles, s16 offset, s32 imm), in the object's byte order. On big-endian targets the
// register byte has dst in the high nibble (the kernel's __BPF_REG order for bpfeb).

export const INSN_SIZE = 8;

/** Opcodes and pseudo source registers the relocations look at (include/uapi/linux/bpf.h). */
export const OP = {
  /** BPF_LD | BPF_IMM | BPF_DW: the first half of a 16-byte 64-bit immediate load */
  LD_IMM64: 0x18,
  /** BPF_JMP | BPF_CALL */
  CALL: 0x85,
  /** BPF_JMP | BPF_EXIT */
  EXIT: 0x95,
} as const;

export const PSEUDO = {
  MAP_FD: 1,
  MAP_VALUE: 2,
  BTF_ID: 3,
  FUNC: 4,
  MAP_IDX: 5,
  MAP_IDX_VALUE: 6,
  /** src_reg of a call: BPF-to-BPF */
  CALL: 1,
  KFUNC_CALL: 2,
} as const;

/** Read/write access to instruction fields of one byte order. */
export class Insns {
  readonly bytes: Uint8Array;
  readonly view: DataView;
  readonly le: boolean;

  constructor(bytes: Uint8Array, littleEndian: boolean) {
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.le = littleEndian;
  }

  get count(): number {
    return this.bytes.length / INSN_SIZE;
  }

  code(i: number): number {
    return this.bytes[i * INSN_SIZE];
  }

  src(i: number): number {
    const r = this.bytes[i * INSN_SIZE + 1];
    return this.le ? r >> 4 : r & 0xf;
  }

  setSrc(i: number, src: number): void {
    const at = i * INSN_SIZE + 1;
    const r = this.bytes[at];
    this.bytes[at] = this.le ? (r & 0x0f) | (src << 4) : (r & 0xf0) | src;
  }

  off(i: number): number {
    return this.view.getInt16(i * INSN_SIZE + 2, this.le);
  }

  imm(i: number): number {
    return this.view.getInt32(i * INSN_SIZE + 4, this.le);
  }

  setImm(i: number, v: number): void {
    this.view.setInt32(i * INSN_SIZE + 4, v | 0, this.le);
  }

  isLdImm64(i: number): boolean {
    return this.code(i) === OP.LD_IMM64;
  }

  /** a BPF-to-BPF call (call with src_reg BPF_PSEUDO_CALL) */
  isSubprogCall(i: number): boolean {
    return this.code(i) === OP.CALL && this.src(i) === PSEUDO.CALL;
  }

  isPseudoFunc(i: number): boolean {
    return this.code(i) === OP.LD_IMM64 && this.src(i) === PSEUDO.FUNC;
  }
}

/** imm (s32) of instruction `i` of `code`, read without a DataView (the reader makes none per function). */
export function insnImm(code: Uint8Array, i: number, littleEndian: boolean): number {
  const o = i * INSN_SIZE + 4;
  return littleEndian
    ? code[o] | (code[o + 1] << 8) | (code[o + 2] << 16) | (code[o + 3] << 24)
    : (code[o] << 24) | (code[o + 1] << 16) | (code[o + 2] << 8) | code[o + 3];
}

/** src_reg of instruction `i` of `code`. */
export function insnSrc(code: Uint8Array, i: number, littleEndian: boolean): number {
  const r = code[i * INSN_SIZE + 1];
  return littleEndian ? r >> 4 : r & 0xf;
}
