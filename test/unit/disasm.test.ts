// The disassembler on hand-made instructions: every class and mode, the newer instructions (sdiv,
// movsx, memsx, bswap, gotol, may_goto, load-acquire/store-release), pseudo calls and loads, the
// kernel's words for opcodes it has none for, and typed errors for bytes that are not instructions.
// Expected texts are the kernel's (kernel/bpf/disasm.c, Linux 6.18) for the same encodings.
import { expect } from 'chai';
import { decodeInsns, disassemble, DisasmError, formatInsn, helperName, kernelSymbols, type Insn } from '../../lib/disasm/index.js';
import { formatTypeOnly } from '../../lib/btf/format-proto.js';
import { Btf } from '../../lib/btf/btf.js';
import { BtfBlob } from '../helpers/btf-blob.js';
import { lineFor } from '../../lib/cli/prog-dump.js';
import { objectDump } from '../../lib/cli/object-dump.js';
import { CliError } from '../../lib/cli/bpf-objects.js';

const I = (code: number, dst = 0, src = 0, off = 0, imm = 0): Insn => ({ code, dst, src, off, imm });
const one = (insn: Insn, next?: Insn) => formatInsn(next ? [insn, next] : [insn], 0);

/** struct bpf_insn bytes, little-endian */
function bytes(...insns: Insn[]): Uint8Array {
  const b = new Uint8Array(insns.length * 8);
  const dv = new DataView(b.buffer);
  insns.forEach((x, i) => {
    b[i * 8] = x.code;
    b[i * 8 + 1] = (x.src << 4) | x.dst;
    dv.setInt16(i * 8 + 2, x.off, true);
    dv.setInt32(i * 8 + 4, x.imm, true);
  });
  return b;
}

describe('disassembler', () => {
  describe('ALU and ALU64', () => {
    const cases: [Insn, string][] = [
      [I(0x07, 1, 0, 0, -8), '(07) r1 += -8'],
      [I(0x04, 2, 0, 0, 7), '(04) w2 += 7'],
      [I(0x0f, 1, 2), '(0f) r1 += r2'],
      [I(0x1c, 3, 4), '(1c) w3 -= w4'],
      [I(0x27, 1, 0, 0, 3), '(27) r1 *= 3'],
      [I(0x37, 1, 0, 0, 10), '(37) r1 /= 10'],
      [I(0x37, 1, 0, 1, 10), '(37) r1 s/= 10'],
      [I(0x3f, 1, 2, 1), '(3f) r1 s/= r2'],
      [I(0x97, 1, 0, 1, 10), '(97) r1 s%= 10'],
      [I(0x9c, 1, 2, 0), '(9c) w1 %= w2'],
      [I(0x47, 1, 0, 0, 0x10), '(47) r1 |= 16'],
      [I(0x57, 1, 0, 0, 0xff), '(57) r1 &= 255'],
      [I(0x67, 1, 0, 0, 32), '(67) r1 <<= 32'],
      [I(0x77, 1, 0, 0, 32), '(77) r1 >>= 32'],
      [I(0xc7, 1, 0, 0, 32), '(c7) r1 s>>= 32'],
      [I(0x87, 4), '(87) r4 = -r4'],
      [I(0x84, 4), '(84) w4 = -w4'],
      [I(0xa7, 1, 0, 0, -1), '(a7) r1 ^= -1'],
      [I(0xb7, 0, 0, 0, 0), '(b7) r0 = 0'],
      [I(0xb4, 0, 0, 0, -2), '(b4) w0 = -2'],
      [I(0xbf, 6, 1), '(bf) r6 = r1'],
      [I(0xbf, 1, 2, 8), '(bf) r1 = (s8)r2'],
      [I(0xbf, 1, 2, 16), '(bf) r1 = (s16)r2'],
      [I(0xbf, 1, 2, 32), '(bf) r1 = (s32)r2'],
      [I(0xbc, 1, 2, 8), '(bc) w1 = (s8)w2'],
      [I(0xbf, 1, 2, 1, 0x10000), '(bf) r1 = addr_space_cast(r2, 1, 0)'],
      [I(0xbf, 0, 0, -1), '(bf) r0 = &(void __percpu *)(r0)'],
      [I(0xd4, 1, 0, 0, 16), '(d4) r1 = le16 r1'],
      [I(0xdc, 1, 0, 0, 32), '(dc) r1 = be32 r1'],
      [I(0xd7, 1, 0, 0, 64), '(d7) r1 = bswap64 r1'],
      // 0xe0 and 0xf0 are no ALU operation: the kernel's table has a hole there
      [I(0xe7, 1, 0, 0, 5), '(e7) r1 (null) 5'],
      [I(0xff, 1, 2), '(ff) r1 (null) r2'],
    ];
    for (const [insn, text] of cases) it(text, () => expect(one(insn)).to.equal(text));
  });

  describe('loads and stores', () => {
    const cases: [Insn, string][] = [
      [I(0x61, 2, 1, 4), '(61) r2 = *(u32 *)(r1 +4)'],
      [I(0x79, 1, 10, -8), '(79) r1 = *(u64 *)(r10 -8)'],
      [I(0x69, 1, 2, 0), '(69) r1 = *(u16 *)(r2 +0)'],
      [I(0x71, 1, 2, 32767), '(71) r1 = *(u8 *)(r2 +32767)'],
      [I(0x91, 1, 2, -32768), '(91) r1 = *(s8 *)(r2 -32768)'],
      [I(0x89, 1, 2, 2), '(89) r1 = *(s16 *)(r2 +2)'],
      [I(0x81, 1, 2, 2), '(81) r1 = *(s32 *)(r2 +2)'],
      [I(0x99, 1, 2, 2), '(99) r1 = *((null) *)(r2 +2)'],
      [I(0x21, 1, 2), 'BUG_ldx_21'],
      [I(0x7a, 10, 0, -8, 0), '(7a) *(u64 *)(r10 -8) = 0'],
      [I(0x62, 1, 0, 4, -1), '(62) *(u32 *)(r1 +4) = -1'],
      [I(0xc2, 0, 0), '(c2) nospec'],
      [I(0x22, 0, 0), 'BUG_st_22'],
      [I(0x7b, 10, 1, -16), '(7b) *(u64 *)(r10 -16) = r1'],
      [I(0x73, 1, 2, 3), '(73) *(u8 *)(r1 +3) = r2'],
      [I(0xdb, 1, 2, 0, 0x00), '(db) lock *(u64 *)(r1 +0) += r2'],
      [I(0xc3, 1, 2, 8, 0x50), '(c3) lock *(u32 *)(r1 +8) &= r2'],
      [I(0xdb, 1, 2, 0, 0x40), '(db) lock *(u64 *)(r1 +0) |= r2'],
      [I(0xdb, 1, 2, 0, 0xa0), '(db) lock *(u64 *)(r1 +0) ^= r2'],
      [I(0xdb, 1, 2, -4, 0x01), '(db) r2 = atomic64_fetch_add((u64 *)(r1 -4), r2)'],
      [I(0xc3, 1, 2, 0, 0x51), '(c3) r2 = atomic_fetch_and((u32 *)(r1 +0), r2)'],
      [I(0xdb, 1, 2, 0, 0x41), '(db) r2 = atomic64_fetch_or((u64 *)(r1 +0), r2)'],
      [I(0xdb, 1, 2, 0, 0xa1), '(db) r2 = atomic64_fetch_xor((u64 *)(r1 +0), r2)'],
      [I(0xdb, 1, 3, 0, 0xe1), '(db) r3 = atomic64_xchg((u64 *)(r1 +0), r3)'],
      [I(0xc3, 1, 3, 0, 0xf1), '(c3) r0 = atomic_cmpxchg((u32 *)(r1 +0), r0, r3)'],
      [I(0xdb, 0, 1, 8, 0x100), '(db) r0 = load_acquire((u64 *)(r1 +8))'],
      [I(0xd3, 1, 2, 0, 0x110), '(d3) store_release((u8 *)(r1 +0), r2)'],
      [I(0xdb, 1, 2, 0, 0x21), 'BUG_db'],
      [I(0x23, 1, 2), 'BUG_23'],
      [I(0x30, 0, 0, 0, 12), '(30) r0 = *(u8 *)skb[12]'],
      [I(0x48, 0, 7, 0, 2), '(48) r0 = *(u16 *)skb[r7 + 2]'],
      [I(0x08, 0, 0), 'BUG_ld_08'],
    ];
    for (const [insn, text] of cases) it(text, () => expect(one(insn)).to.equal(text));

    it('a 64-bit immediate: low half first, then the high half', () => {
      expect(one(I(0x18, 1, 0, 0, 1), I(0, 0, 0, 0, 0x12345678))).to.equal('(18) r1 = 0x1234567800000001');
      expect(one(I(0x18, 2, 0, 0, -1), I(0, 0, 0, 0, -1))).to.equal('(18) r2 = 0xffffffffffffffff');
      expect(one(I(0x18, 2, 0, 0, 0), I(0, 0, 0, 0, 0))).to.equal('(18) r2 = 0x0');
      // a pseudo kind without a namer prints its raw value (a map fd, a BTF id…)
      expect(one(I(0x18, 1, 1, 0, 5), I(0))).to.equal('(18) r1 = 0x5');
    });

    it('pseudo loads are named by the caller', () => {
      const names = { imm: (i: Insn, next: Insn, full: bigint) => (i.src === 2 ? `map[id:${i.imm}][0]+${next.imm}` : i.src === 4 ? `subprog[${i.imm}]` : `?${full}`) };
      expect(formatInsn([I(0x18, 1, 2, 0, 7), I(0, 0, 0, 0, 16)], 0, names)).to.equal('(18) r1 = map[id:7][0]+16');
      expect(formatInsn([I(0x18, 2, 4, 0, 5), I(0)], 0, names)).to.equal('(18) r2 = subprog[5]');
      expect(formatInsn([I(0x18, 2, 3, 0, 9), I(0)], 0, names)).to.equal('(18) r2 = ?9');
    });
  });

  describe('jumps and calls', () => {
    const cases: [Insn, string][] = [
      [I(0x05, 0, 0, 3), '(05) goto pc+3'],
      [I(0x05, 0, 0, -4), '(05) goto pc-4'],
      [I(0x06, 0, 0, 0, -70000), '(06) gotol pc-70000'],
      [I(0xe5, 0, 0, 5), '(e5) may_goto pc+5'],
      [I(0x0d, 3), '(0d) gotox r3'],
      [I(0x95), '(95) exit'],
      [I(0x15, 1, 0, 2, 0), '(15) if r1 == 0x0 goto pc+2'],
      [I(0x55, 1, 0, -2, -1), '(55) if r1 != 0xffffffff goto pc-2'],
      [I(0x2d, 1, 2, 1), '(2d) if r1 > r2 goto pc+1'],
      [I(0xa6, 1, 0, 1, 10), '(a6) if w1 < 0xa goto pc+1'],
      [I(0xde, 1, 2, 1), '(de) if w1 s<= w2 goto pc+1'],
      [I(0x45, 1, 0, 1, 4), '(45) if r1 & 0x4 goto pc+1'],
      [I(0x65, 1, 0, 1, 4), '(65) if r1 s> 0x4 goto pc+1'],
      [I(0xbd, 1, 2, 1), '(bd) if r1 <= r2 goto pc+1'],
      // JMP32 has no exit: the operation's name in a conditional jump
      [I(0x96, 1, 0, 1, 0), '(96) if w1 exit 0x0 goto pc+1'],
      [I(0xe5, 0, 1, 5), '(e5) if r0 (null) 0x0 goto pc+5'],
      [I(0x85, 0, 0, 0, 1), '(85) call bpf_map_lookup_elem#1'],
      [I(0x85, 0, 0, 0, 0), '(85) call bpf_unspec#0'],
      [I(0x85, 0, 0, 0, 211), '(85) call bpf_cgrp_storage_delete#211'],
      [I(0x85, 0, 0, 0, 999), '(85) call unknown#999'],
      [I(0x85, 0, 0, 0, -5), '(85) call unknown#-5'],
      [I(0x85, 0, 1, 0, 3), '(85) call pc+3'],
      [I(0x85, 0, 1, 0, -7), '(85) call pc-7'],
      [I(0x85, 0, 2, 0, 12345), '(85) call kernel-function#12345'],
    ];
    for (const [insn, text] of cases) it(text, () => expect(one(insn)).to.equal(text));

    it('calls are named by the caller where the helper list does not know them', () => {
      const names = { call: (i: Insn) => (i.src === 2 ? 'bpf_dynptr_from_skb' : i.src === 1 ? `${i.imm}#sub` : 'ksym') };
      expect(formatInsn([I(0x85, 0, 2, 0, 777)], 0, names)).to.equal('(85) call bpf_dynptr_from_skb#777');
      expect(formatInsn([I(0x85, 0, 1, 0, 2)], 0, names)).to.equal('(85) call pc2#sub');
      // a helper id the list has is not asked for
      expect(formatInsn([I(0x85, 0, 0, 0, 5)], 0, names)).to.equal('(85) call bpf_ktime_get_ns#5');
      expect(formatInsn([I(0x85, 0, 0, 0, 5000)], 0, names)).to.equal('(85) call ksym#5000');
      expect(helperName(12)).to.equal('bpf_tail_call');
      expect(helperName(212)).to.equal(undefined);
    });
  });

  describe('decoding', () => {
    it('skips the second slot of a 64-bit load and numbers instructions by slot', () => {
      const lines = disassemble(bytes(I(0x18, 1, 0, 0, 1), I(0, 0, 0, 0, 2), I(0xb7, 0, 0, 0, 0), I(0x95)));
      expect(lines.map((l) => [l.index, l.text])).to.deep.equal([[0, '(18) r1 = 0x200000001'], [2, '(b7) r0 = 0'], [3, '(95) exit']]);
      expect(lines[0].next?.imm).to.equal(2);
    });

    it('reads big-endian encodings (dst_reg in the high nibble)', () => {
      const b = new Uint8Array([0x07, 0x10, 0xff, 0xf8, 0xff, 0xff, 0xff, 0xf8]);
      expect(decodeInsns(b, false)).to.deep.equal([{ code: 7, dst: 1, src: 0, off: -8, imm: -8 }]);
      expect(disassemble(b, { littleEndian: false })[0].text).to.equal('(07) r1 += -8');
    });

    it('refuses bytes that are not whole instructions with a typed error', () => {
      expect(() => decodeInsns(new Uint8Array(7))).to.throw(DisasmError, /7 bytes are not whole 8-byte instructions/);
      expect(() => decodeInsns(new Uint8Array(12))).to.throw(DisasmError, /offset 8/);
    });

    it('refuses a 64-bit load cut in half, as bytes or decoded', () => {
      const b = bytes(I(0xb7), I(0x18, 1, 0, 0, 1));
      expect(() => decodeInsns(b)).to.throw(DisasmError, /instruction 1 is a 64-bit immediate load without its second half.*offset 8/);
      expect(() => disassemble([I(0x18, 1)])).to.throw(DisasmError);
      // a wide load's second slot that looks like another wide load is data, not an instruction
      expect(disassemble(bytes(I(0x18, 1, 0, 0, 1), I(0x18, 0, 0, 0, 2))).length).to.equal(1);
      expect(disassemble(new Uint8Array(0))).to.deep.equal([]);
    });
  });

  describe('kernel symbols', () => {
    const text = [
      'ffffffff81000000 T _stext',
      'ffffffff814ded50 T __bpf_call_base',
      'ffffffff81500000 T bpf_map_lookup_elem',
      'ffffffff81500000 t alias_one',
      'ffffffffc0001000 t bpf_prog_0123456789abcdef_sub\t[bpf]',
      '0000000000000000 A zero_addr',
      'garbage line',
    ].join('\n');

    it('finds a symbol by exact address, with the call base', () => {
      const k = kernelSymbols(text);
      expect(k.callBase).to.equal(0xffffffff814ded50n);
      expect(k.find(0xffffffffc0001000n)).to.equal('bpf_prog_0123456789abcdef_sub');
      expect(k.find(0xffffffff81500000n)).to.be.oneOf(['bpf_map_lookup_elem', 'alias_one']);
      expect(k.find(0xffffffff81500001n)).to.equal(undefined);
      expect(k.find(0n)).to.equal(undefined);
    });

    it('has nothing when kallsyms hides addresses', () => {
      const k = kernelSymbols('0000000000000000 T _stext\n0000000000000000 T __bpf_call_base\n');
      expect(k.callBase).to.equal(0n);
      expect(k.find(0n)).to.equal(undefined);
    });
  });

  describe('line info lookup (libbpf bpf_prog_linfo__lfind)', () => {
    const li = (insnOff: number) => ({ insnOff, fileNameOff: 0, lineOff: insnOff, lineCol: 0 });
    it('takes the last record at or before the instruction, from the records not yet printed', () => {
      const lines = [li(0), li(0), li(3), li(5)];
      expect(lineFor(lines, 0, 0)).to.equal(lines[1]);
      expect(lineFor(lines, 1, 1)).to.equal(lines[1]); // the shared record comes again
      expect(lineFor(lines, 2, 2)).to.equal(undefined);
      expect(lineFor(lines, 4, 2)).to.equal(lines[2]);
      expect(lineFor(lines, 9, 4)).to.equal(undefined);
    });
  });

  describe('function signatures (bpftool btf_dumper_type_only)', () => {
    // linux/btf.h kinds
    const K = { INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, FWD: 7, TYPEDEF: 8, CONST: 10, FUNC: 12, PROTO: 13, TYPE_TAG: 18 };
    const b = new BtfBlob();
    const int = b.type('int', K.INT, 0, false, 4, (1 << 24) | 32);
    const md = b.type('xdp_md', K.STRUCT, 0, false, 0);
    const pmd = b.type('', K.PTR, 0, false, md);
    const cchar = b.type('', K.CONST, 0, false, b.type('char', K.INT, 0, false, 1, 8));
    const pcc = b.type('', K.PTR, 0, false, cchar);
    const u32 = b.type('__u32', K.TYPEDEF, 0, false, int);
    const arr = b.type('', K.ARRAY, 0, false, 0, u32, int, 4);
    const fwd = b.type('later', K.FWD, 0, true, 0);
    const pfwd = b.type('', K.PTR, 0, false, fwd);
    const proto1 = b.type('', K.PROTO, 1, false, int, b.str('ctx'), pmd);
    const f1 = b.type('xdp_prog', K.FUNC, 0, false, proto1);
    const proto2 = b.type('', K.PROTO, 4, false, 0, b.str('fmt'), pcc, 0, u32, b.str('u'), pfwd, 0, 0);
    const f2 = b.type('logf', K.FUNC, 0, false, proto2);
    const tag = b.type('user', K.TYPE_TAG, 0, false, int);
    const ptag = b.type('', K.PTR, 0, false, tag);
    const proto3 = b.type('', K.PROTO, 1, false, int, b.str('p'), ptag);
    const f3 = b.type('tagged', K.FUNC, 0, false, proto3);
    const long = b.type('x'.repeat(1100), K.FUNC, 0, false, proto1);
    const btf = Btf.parse(b.build());

    it('prints a program function as bpftool does', () => {
      expect(formatTypeOnly(btf, f1)).to.equal('int xdp_prog(struct xdp_md * ctx)');
    });
    it('drops the space before an unnamed parameter, prints varargs, fwd unions, const', () => {
      expect(formatTypeOnly(btf, f2)).to.equal('void logf(const char * fmt, __u32, union later * u, ...)');
      expect(formatTypeOnly(btf, arr)).to.equal('__u32 [4]');
    });
    it('gives nothing for kinds bpftool has no words for, too long a text, or a bad id', () => {
      expect(formatTypeOnly(btf, f3)).to.equal('');
      expect(formatTypeOnly(btf, long)).to.equal('');
      expect(formatTypeOnly(btf, 9999)).to.equal('');
    });
  });

  describe('object dump (before load)', () => {
    it('links subprograms and names relocations from the object', () => {
      const loop = objectDump('bpf/obj_callback.o', ['loop_prog'], {});
      expect(loop).to.match(/^loop_prog \(section xdp\):\nint loop_prog\(struct xdp_md \* ctx\):\n; int loop_prog/);
      expect(loop).to.match(/\(18\) r1 = map\[\.data\]\+0\n/).and.to.match(/\(18\) r2 = subprog\[add_index\]\n/);
      expect(loop).to.match(/\(85\) call bpf_loop#181\n/).and.to.match(/^int add_index\(__u32 index, void \* data\):$/m);
      expect(objectDump('bpf/obj_callback.o', ['each_prog'], {})).to.match(/r1 = map\[cb_values\]\n/);
    });

    it('names kfuncs and bpf-to-bpf calls; opcodes and JSON as prog dump prints them', () => {
      const nf = objectDump('bpf/nf_firewall.o', ['netfilter', 'opcodes'], {});
      expect(nf).to.match(/\(85\) call bpf_dynptr_from_skb#0\n {7}85 20 00 00 00 00 00 00\n/);
      const sub = objectDump('bpf/obj_subprog.o', [], {});
      expect(sub).to.match(/\(85\) call pc[+-]\d+#\w+\n/);
      const j = JSON.parse(objectDump('bpf/obj_subprog.o', ['linum'], { json: true })) as { name: string; section: string; insns: { disasm: string; line_num?: number }[] }[];
      expect(j.length).to.be.greaterThan(0);
      expect(j[0].insns[0].disasm).to.match(/^\([0-9a-f]{2}\) /);
      expect(j[0].insns.some((i) => typeof i.line_num === 'number')).to.equal(true);
    });

    it('without BTF there are no headers nor source lines', () => {
      const nog = objectDump('bpf/build/nog/obj_subprog.o', [], {});
      expect(nog).not.to.match(/^;/m);
      expect(nog).to.match(/^ {3}0: \(/m);
    });

    it('an unknown program or section says what there is', () => {
      expect(() => objectDump('bpf/obj_callback.o', ['nope'], {})).to.throw(CliError, /no program or section nope in obj_callback \(programs: loop_prog \(xdp\)/);
    });
  });
});
