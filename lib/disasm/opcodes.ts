// The eBPF instruction encoding (include/uapi/linux/bpf_common.h and linux/bpf.h, Linux 6.18):
// an 8-bit opcode = class (low 3 bits) | size or source | mode or operation, and the src_reg kinds
// that turn a call or a 64-bit immediate load into a pseudo instruction.

export const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, JMP32: 0x06, ALU64: 0x07 } as const;

/** BPF_SIZE (bits 3-4) of loads and stores */
export const SIZE = { W: 0x00, H: 0x08, B: 0x10, DW: 0x18 } as const;

/** BPF_MODE (bits 5-7) of loads and stores; NOSPEC is the kernel-internal speculation barrier (no UAPI) */
export const MODE = { IMM: 0x00, ABS: 0x20, IND: 0x40, MEM: 0x60, MEMSX: 0x80, ATOMIC: 0xc0, NOSPEC: 0xc0 } as const;

/** BPF_SRC (bit 3) of ALU and JMP: the operand is imm (K) or src_reg (X); for BPF_END, to little/big endian */
export const SRC = { K: 0x00, X: 0x08 } as const;

/** BPF_OP (bits 4-7) of ALU and ALU64 */
export const ALU = {
  ADD: 0x00, SUB: 0x10, MUL: 0x20, DIV: 0x30, OR: 0x40, AND: 0x50, LSH: 0x60, RSH: 0x70,
  NEG: 0x80, MOD: 0x90, XOR: 0xa0, MOV: 0xb0, ARSH: 0xc0, END: 0xd0,
} as const;

/** BPF_OP (bits 4-7) of JMP and JMP32 */
export const JMP = {
  JA: 0x00, JEQ: 0x10, JGT: 0x20, JGE: 0x30, JSET: 0x40, JNE: 0x50, JSGT: 0x60, JSGE: 0x70,
  CALL: 0x80, EXIT: 0x90, JLT: 0xa0, JLE: 0xb0, JSLT: 0xc0, JSLE: 0xd0, JCOND: 0xe0,
} as const;

/** imm of a BPF_ATOMIC store: an ALU op, maybe with FETCH, or one of the special operations */
export const ATOMIC = { FETCH: 0x01, XCHG: 0xe0 | 0x01, CMPXCHG: 0xf0 | 0x01, LOAD_ACQ: 0x100, STORE_REL: 0x110 } as const;

/** src_reg of a 64-bit immediate load (BPF_LD | BPF_IMM | BPF_DW) */
export const PSEUDO_LD = { MAP_FD: 1, MAP_VALUE: 2, BTF_ID: 3, FUNC: 4, MAP_IDX: 5, MAP_IDX_VALUE: 6 } as const;

/** src_reg of a call: a helper (0), a bpf-to-bpf call (pc-relative imm), a kfunc (imm is a BTF id) */
export const PSEUDO_CALL = { HELPER: 0, CALL: 1, KFUNC: 2 } as const;

/** src_reg of BPF_JMP | BPF_JCOND (Linux 6.9) */
export const MAY_GOTO = 0;

/** off of ALU64 | MOV | X with a meaning of its own: arena address-space cast (6.9), per-CPU address (kernel-internal) */
export const MOV_OFF = { ADDR_SPACE_CAST: 1, ADDR_PERCPU: -1 } as const;

export const LD_IMM64 = CLASS.LD | MODE.IMM | SIZE.DW;

export const cls = (code: number): number => code & 0x07;
export const size = (code: number): number => code & 0x18;
export const mode = (code: number): number => code & 0xe0;
export const op = (code: number): number => code & 0xf0;
export const src = (code: number): number => code & 0x08;
