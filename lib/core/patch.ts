// Writing a relocation's result into its instruction (libbpf's bpf_core_patch_insn): ALU/ALU64
// immediates, LDX/ST/STX offsets (and access sizes where that is safe), LD_IMM64 immediates. The
// value clang wrote is checked first. An unsatisfiable relocation turns the instruction into a call
// of helper 0xbad2310, which the verifier reports as "invalid func unknown#195896080" if reached.
import type { CoreResult } from './calc.js';

export const POISON_HELPER = 195896080; // 0xbad2310: "bad relo"

const BPF_CLASS = 0x07;
const CLASS = { LD: 0x00, LDX: 0x01, ST: 0x02, STX: 0x03, ALU: 0x04, JMP: 0x05, ALU64: 0x07 } as const;
const BPF_K = 0x00;
const SRC_MASK = 0x08;
const SIZE_MASK = 0x18;
const SIZE_OF: Record<number, number> = { 0x00: 4, 0x08: 2, 0x10: 1, 0x18: 8 };
const SIZE_CODE: Record<number, number> = { 4: 0x00, 2: 0x08, 1: 0x10, 8: 0x18 };
const LD_IMM64 = 0x18;
const CALL = 0x85;

/** Why an instruction could not take its relocation (libbpf refuses the object then). */
export class PatchError extends Error {}

/** What patching did, for the caller's notes. */
export type PatchOutcome = { poisoned: false; from: bigint; to: bigint; sizeFrom?: number; sizeTo?: number } | { poisoned: true; reason: string };

function poisonAt(bytes: Uint8Array, v: DataView, i: number, le: boolean): void {
  const at = i * 8;
  bytes[at] = CALL;
  bytes[at + 1] = 0; // dst and src registers
  v.setInt16(at + 2, 0, le);
  v.setInt32(at + 4, POISON_HELPER, le);
}

/** Patch instruction `i` of `insns` (object byte order) with `res`. */
export function patchInsn(insns: Uint8Array, i: number, res: CoreResult, littleEndian: boolean): PatchOutcome {
  const le = littleEndian;
  const v = new DataView(insns.buffer, insns.byteOffset, insns.byteLength);
  const n = insns.length / 8;
  if (i < 0 || i >= n) throw new PatchError(`instruction ${i} is outside the function (${n} instructions)`);
  const at = i * 8;
  const code = insns[at];
  const poison = (reason: string): PatchOutcome => {
    if (code === LD_IMM64 && i + 1 < n) poisonAt(insns, v, i + 1, le);
    poisonAt(insns, v, i, le);
    return { poisoned: true, reason };
  };
  if (res.poison) return poison(res.reason ?? 'no matching target');
  const cls = code & BPF_CLASS;
  const { origVal, newVal } = res;
  switch (cls) {
    case CLASS.ALU: case CLASS.ALU64: {
      if ((code & SRC_MASK) !== BPF_K) throw new PatchError(`instruction ${i} (ALU, opcode 0x${code.toString(16)}) takes no immediate`);
      const imm = v.getInt32(at + 4, le);
      // compared as C does: the s32 immediate widened to the u64 value
      if (res.validate && BigInt.asUintN(64, BigInt(imm)) !== origVal) {
        throw new PatchError(`unexpected ALU immediate at instruction ${i}: got ${imm}, expected ${origVal} (→ ${newVal})`);
      }
      v.setInt32(at + 4, Number(BigInt.asIntN(32, newVal)), le);
      return { poisoned: false, from: BigInt(imm), to: newVal };
    }
    case CLASS.LDX: case CLASS.ST: case CLASS.STX: {
      const off = v.getInt16(at + 2, le);
      if (res.validate && BigInt.asUintN(64, BigInt(off)) !== origVal) {
        throw new PatchError(`unexpected memory offset at instruction ${i}: got ${off}, expected ${origVal} (→ ${newVal})`);
      }
      if (newVal > 0x7fffn) throw new PatchError(`offset ${newVal} at instruction ${i} does not fit an instruction's 16-bit offset`);
      if (res.failMemSizeAdjust) {
        return poison(`the field is ${res.origSize} bytes locally and ${res.newSize} in the target, and is neither a pointer nor an unsigned integer`);
      }
      v.setInt16(at + 2, Number(newVal), le);
      const out: PatchOutcome = { poisoned: false, from: BigInt(off), to: newVal };
      if (res.newSize !== res.origSize) {
        const have = SIZE_OF[code & SIZE_MASK];
        if (have !== res.origSize) throw new PatchError(`instruction ${i} accesses ${have} bytes, the local field is ${res.origSize}`);
        const sz = SIZE_CODE[res.newSize];
        if (sz === undefined) throw new PatchError(`instruction ${i}: the target field is ${res.newSize} bytes, which no load or store takes`);
        insns[at] = (code & ~SIZE_MASK) | sz;
        out.sizeFrom = res.origSize;
        out.sizeTo = res.newSize;
      }
      return out;
    }
    case CLASS.LD: {
      const regs = insns[at + 1];
      const src = le ? regs >> 4 : regs & 0xf;
      if (code !== LD_IMM64 || i + 1 >= n || src !== 0 || v.getInt16(at + 2, le) !== 0
        || insns[at + 8] !== 0 || insns[at + 9] !== 0 || v.getInt16(at + 10, le) !== 0) {
        throw new PatchError(`instruction ${i} (LD_IMM64) has an unexpected form`);
      }
      const imm = BigInt(v.getUint32(at + 4, le)) | (BigInt(v.getUint32(at + 12, le)) << 32n);
      if (res.validate && imm !== origVal) throw new PatchError(`unexpected 64-bit immediate at instruction ${i}: got ${imm}, expected ${origVal} (→ ${newVal})`);
      const u = BigInt.asUintN(64, newVal);
      v.setUint32(at + 4, Number(u & 0xffffffffn), le);
      v.setUint32(at + 12, Number(u >> 32n), le);
      return { poisoned: false, from: imm, to: newVal };
    }
    default:
      throw new PatchError(`instruction ${i} (opcode 0x${code.toString(16)}) is not one a CO-RE relocation can patch`);
  }
}
