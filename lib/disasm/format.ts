// One instruction as text, in the words of the kernel's verifier log and `bpftool prog dump
// xlated` (kernel/bpf/disasm.c, Linux 6.18): `(07) r1 += -8`, `(85) call bpf_map_lookup_elem#1`,
// `(18) r1 = map[id:4]`. Operands the encoding leaves undefined print as the kernel's printf
// prints a missing table entry, `(null)`; a mode a class does not have prints `BUG_<class>_<code>`.
import { helperName } from './helpers.js';
import type { Insn } from './insn.js';
import { ALU, ATOMIC, CLASS, JMP, LD_IMM64, MAY_GOTO, MODE, MOV_OFF, PSEUDO_CALL, SIZE, SRC, cls, mode, op, size, src } from './opcodes.js';

/** Names the disassembler cannot know by itself: call targets and 64-bit immediates (maps, BTF ids…). */
export interface DisasmNames {
  /**
   * The name of a call's target (bpftool: kallsyms; an object file: the kfunc's or subprogram's
   * name). Asked for every call but a helper whose id the helper list has; undefined: the default
   * (`pc+N` of a bpf-to-bpf call, `kernel-function` for a kfunc, `unknown`).
   */
  call?(insn: Insn, index: number): string | undefined;
  /** The operand of a 64-bit immediate load (`next` is its second slot); undefined: `0x<full>`. */
  imm?(insn: Insn, next: Insn, full: bigint, index: number): string | undefined;
}

const NULL = '(null)'; // glibc's printf of a NULL %s, what the kernel's tables give for a hole

const ALU_OPS: Record<number, string> = {
  [ALU.ADD]: '+=', [ALU.SUB]: '-=', [ALU.MUL]: '*=', [ALU.DIV]: '/=', [ALU.OR]: '|=', [ALU.AND]: '&=',
  [ALU.LSH]: '<<=', [ALU.RSH]: '>>=', [ALU.NEG]: 'neg', [ALU.MOD]: '%=', [ALU.XOR]: '^=', [ALU.MOV]: '=',
  [ALU.ARSH]: 's>>=', [ALU.END]: 'endian',
};
const SIGNED_ALU_OPS: Record<number, string> = { [ALU.DIV]: 's/=', [ALU.MOD]: 's%=' };
const ATOMIC_OPS: Record<number, string> = { [ALU.ADD]: 'add', [ALU.AND]: 'and', [ALU.OR]: 'or', [ALU.XOR]: 'xor' };
const FETCHING = new Set([ALU.ADD, ALU.AND, ALU.OR, ALU.XOR].map((o) => o | ATOMIC.FETCH));
const MOVSX: Record<number, string> = { 8: '(s8)', 16: '(s16)', 32: '(s32)' };
const LDST: Record<number, string> = { [SIZE.W]: 'u32', [SIZE.H]: 'u16', [SIZE.B]: 'u8', [SIZE.DW]: 'u64' };
const LDSX: Record<number, string> = { [SIZE.W]: 's32', [SIZE.H]: 's16', [SIZE.B]: 's8' };
const JMP_OPS: Record<number, string> = {
  [JMP.JA]: 'jmp', [JMP.JEQ]: '==', [JMP.JGT]: '>', [JMP.JLT]: '<', [JMP.JGE]: '>=', [JMP.JLE]: '<=',
  [JMP.JSET]: '&', [JMP.JNE]: '!=', [JMP.JSGT]: 's>', [JMP.JSLT]: 's<', [JMP.JSGE]: 's>=', [JMP.JSLE]: 's<=',
  [JMP.CALL]: 'call', [JMP.EXIT]: 'exit',
};

/** printf's %02x of the opcode */
const hex2 = (n: number): string => n.toString(16).padStart(2, '0');
/** printf's %+d: a sign always */
export const signed = (n: number): string => (n < 0 ? String(n) : `+${n}`);
const mem = (insn: Insn, reg: number): string => `(${LDST[size(insn.code)]} *)(r${reg} ${signed(insn.off)})`;

/** The 64-bit value of a wide immediate load: imm of the first slot low, of the second high. */
export function wideImm(insn: Insn, next: Insn): bigint {
  return (BigInt(next.imm >>> 0) << 32n) | BigInt(insn.imm >>> 0);
}

function alu(insn: Insn): string {
  const r = cls(insn.code) === CLASS.ALU ? 'w' : 'r';
  const o = op(insn.code);
  const d = `${r}${insn.dst}`;
  if (o === ALU.END) {
    if (r === 'r') return `r${insn.dst} = bswap${insn.imm} r${insn.dst}`;
    return `r${insn.dst} = ${src(insn.code) === SRC.X ? 'be' : 'le'}${insn.imm} r${insn.dst}`;
  }
  if (o === ALU.NEG) return `${d} = -${d}`;
  const movX = insn.code === (CLASS.ALU64 | ALU.MOV | SRC.X);
  if (movX && insn.off === MOV_OFF.ADDR_SPACE_CAST) return `r${insn.dst} = addr_space_cast(r${insn.src}, ${insn.imm >>> 16}, ${insn.imm & 0xffff})`;
  if (movX && insn.off === MOV_OFF.ADDR_PERCPU) return `r${insn.dst} = &(void __percpu *)(r${insn.src})`;
  const sdivSmod = (o === ALU.DIV || o === ALU.MOD) && insn.off === 1;
  const name = (sdivSmod ? SIGNED_ALU_OPS[o] : ALU_OPS[o]) ?? NULL;
  if (src(insn.code) === SRC.X) {
    const sx = o === ALU.MOV ? MOVSX[insn.off] ?? '' : '';
    return `${d} ${name} ${sx}${r}${insn.src}`;
  }
  return `${d} ${name} ${insn.imm}`;
}

function stx(insn: Insn): string | undefined {
  const m = mode(insn.code);
  if (m === MODE.MEM) return `*${mem(insn, insn.dst)} = r${insn.src}`;
  if (m !== MODE.ATOMIC) return undefined;
  const bits = size(insn.code) === SIZE.DW ? '64' : '';
  const imm = insn.imm;
  if (imm === ALU.ADD || imm === ALU.AND || imm === ALU.OR || imm === ALU.XOR) return `lock *${mem(insn, insn.dst)} ${ALU_OPS[imm]} r${insn.src}`;
  if (FETCHING.has(imm)) return `r${insn.src} = atomic${bits}_fetch_${ATOMIC_OPS[imm & ~ATOMIC.FETCH]}(${mem(insn, insn.dst)}, r${insn.src})`;
  if (imm === ATOMIC.CMPXCHG) return `r0 = atomic${bits}_cmpxchg(${mem(insn, insn.dst)}, r0, r${insn.src})`;
  if (imm === ATOMIC.XCHG) return `r${insn.src} = atomic${bits}_xchg(${mem(insn, insn.dst)}, r${insn.src})`;
  if (imm === ATOMIC.LOAD_ACQ) return `r${insn.dst} = load_acquire(${mem(insn, insn.src)})`;
  if (imm === ATOMIC.STORE_REL) return `store_release(${mem(insn, insn.dst)}, r${insn.src})`;
  return undefined;
}

function callName(insn: Insn, index: number, names: DisasmNames | undefined): string {
  if (insn.src === PSEUDO_CALL.HELPER) {
    const h = helperName(insn.imm);
    if (h !== undefined) return h;
  }
  const n = names?.call?.(insn, index);
  if (n !== undefined) return n;
  if (insn.src === PSEUDO_CALL.CALL) return signed(insn.imm);
  if (insn.src === PSEUDO_CALL.KFUNC) return 'kernel-function';
  return 'unknown';
}

function jmp(insn: Insn, index: number, names: DisasmNames | undefined): string {
  const c = insn.code;
  if (op(c) === JMP.CALL) {
    const name = callName(insn, index, names);
    return insn.src === PSEUDO_CALL.CALL ? `call pc${name}` : `call ${name}#${insn.imm}`;
  }
  if (c === (CLASS.JMP | JMP.JA)) return `goto pc${signed(insn.off)}`;
  if (c === (CLASS.JMP | JMP.JA | SRC.X)) return `gotox r${insn.dst}`;
  if (c === (CLASS.JMP | JMP.JCOND) && insn.src === MAY_GOTO) return `may_goto pc${signed(insn.off)}`;
  if (c === (CLASS.JMP32 | JMP.JA)) return `gotol pc${signed(insn.imm)}`;
  if (c === (CLASS.JMP | JMP.EXIT)) return 'exit';
  const r = cls(c) === CLASS.JMP32 ? 'w' : 'r';
  const rhs = src(c) === SRC.X ? `${r}${insn.src}` : `0x${(insn.imm >>> 0).toString(16)}`;
  return `if ${r}${insn.dst} ${JMP_OPS[op(c)] ?? NULL} ${rhs} goto pc${signed(insn.off)}`;
}

/**
 * The text of `insns[i]` (without a newline): `(code) what it does`, or the kernel's `BUG_…` for
 * an opcode it has no words for. A 64-bit immediate load reads `insns[i + 1]` too.
 */
export function formatInsn(insns: readonly Insn[], i: number, names?: DisasmNames): string {
  const insn = insns[i];
  const c = insn.code;
  const p = `(${hex2(c)}) `;
  switch (cls(c)) {
    case CLASS.ALU:
    case CLASS.ALU64:
      return p + alu(insn);
    case CLASS.STX: {
      const t = stx(insn);
      return t === undefined ? `BUG_${hex2(c)}` : p + t;
    }
    case CLASS.ST:
      if (mode(c) === MODE.MEM) return `${p}*${mem(insn, insn.dst)} = ${insn.imm}`;
      if (mode(c) === MODE.NOSPEC) return `${p}nospec`;
      return `BUG_st_${hex2(c)}`;
    case CLASS.LDX:
      if (mode(c) === MODE.MEM) return `${p}r${insn.dst} = *${mem(insn, insn.src)}`;
      if (mode(c) === MODE.MEMSX) return `${p}r${insn.dst} = *(${LDSX[size(c)] ?? NULL} *)(r${insn.src} ${signed(insn.off)})`;
      return `BUG_ldx_${hex2(c)}`;
    case CLASS.LD: {
      if (mode(c) === MODE.ABS) return `${p}r0 = *(${LDST[size(c)]} *)skb[${insn.imm}]`;
      if (mode(c) === MODE.IND) return `${p}r0 = *(${LDST[size(c)]} *)skb[r${insn.src} + ${insn.imm}]`;
      if (c !== LD_IMM64) return `BUG_ld_${hex2(c)}`;
      const next = insns[i + 1] ?? { code: 0, dst: 0, src: 0, off: 0, imm: 0 };
      const full = wideImm(insn, next);
      return `${p}r${insn.dst} = ${names?.imm?.(insn, next, full, i) ?? `0x${full.toString(16)}`}`;
    }
    default:
      return p + jmp(insn, i, names);
  }
}
