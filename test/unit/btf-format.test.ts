// BTF formatting against bpftool 7.1 as the oracle: raw text byte for byte, JSON deep-equal, C
// header text — for hand-made types of every kind, every object in bpf/, this kernel's vmlinux and
// a split BTF on top of it.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../../lib/btf/btf.js';
import { encodeBtf } from '../../lib/btf/encode.js';
import { formatBtfRaw, formatTypeRaw, type BtfFormatSource } from '../../lib/btf/format-raw.js';
import { formatBtfJson } from '../../lib/btf/format-json.js';
import { formatBtfC } from '../../lib/btf/format-c.js';
import { btfDump, readBtfFile } from '../../lib/cli/btf.js';
import type { BtfType } from '../../lib/btf/types.js';
import { ParseError } from '../../lib/errors.js';
import { builtObjects } from '../helpers/bpf-objects.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';
const MAX = 256 * 1024 * 1024;

function bpftool(args: string[]): { out: string; status: number | null; err: string } {
  const r = spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: MAX });
  return { out: r.stdout, status: r.status, err: r.stderr };
}

function haveBpftool(): boolean {
  return spawnSync('bpftool', ['version'], { encoding: 'utf8' }).status === 0;
}

// Debian's bpftool predates libbpf's mode(byte) on 1-byte enums (its header gets sizeof 4 wrong);
// we keep libbpf's fix, and give 2-byte enums mode(HI) (libbpf has no fix for those), so C text is
// compared with those attributes taken out
function withoutByteMode(c: string): string {
  return c.replaceAll(' __attribute__((mode(byte)))', '').replaceAll(' __attribute__((mode(HI)))', '');
}

/** Every kind and flag the dump distinguishes, including those clang's objects never carry. */
function everyKind(): BtfType[] {
  const t: BtfType[] = [
    { id: 1, kind: 'int', name: 'int', size: 4, bitOffset: 0, bits: 32, signed: true, char: false, bool: false },
    { id: 2, kind: 'int', name: 'char', size: 1, bitOffset: 0, bits: 8, signed: false, char: true, bool: false },
    { id: 3, kind: 'int', name: '_Bool', size: 1, bitOffset: 0, bits: 8, signed: false, char: false, bool: true },
    { id: 4, kind: 'int', name: 'long unsigned int', size: 8, bitOffset: 0, bits: 64, signed: false, char: false, bool: false },
    { id: 5, kind: 'ptr', name: '', type: 6 },
    { id: 6, kind: 'struct', name: 'node', size: 24, kindFlag: true, members: [
      { name: 'next', type: 5, bitOffset: 0, bitfieldSize: 0 },
      { name: 'flags', type: 1, bitOffset: 64, bitfieldSize: 3 },
      { name: 'mode', type: 1, bitOffset: 67, bitfieldSize: 5 },
      { name: '', type: 7, bitOffset: 128, bitfieldSize: 0 },
    ] },
    { id: 7, kind: 'union', name: '', size: 8, kindFlag: false, members: [
      { name: 'u', type: 4, bitOffset: 0, bitfieldSize: 0 },
      { name: 'c', type: 8, bitOffset: 0, bitfieldSize: 0 },
    ] },
    { id: 8, kind: 'array', name: '', type: 2, indexType: 1, nelems: 8 },
    { id: 9, kind: 'enum', name: 'color', size: 4, signed: false, values: [
      { name: 'RED', value: 0 }, { name: 'BIG', value: 0xf0000000 },
    ] },
    { id: 10, kind: 'enum', name: 'delta', size: 4, signed: true, values: [{ name: 'MINUS', value: -5 }, { name: 'PLUS', value: 7 }] },
    { id: 11, kind: 'enum64', name: 'wide', size: 8, signed: false, values: [
      { name: 'W_MAX', value: 0xffffffffffffffffn }, { name: 'W_ONE', value: 1n },
    ] },
    { id: 12, kind: 'enum64', name: 'swide', size: 8, signed: true, values: [{ name: 'S_NEG', value: -(1n << 40n) }] },
    { id: 13, kind: 'enum', name: 'tiny', size: 1, signed: false, values: [{ name: 'TINY_A', value: 1 }] },
    { id: 14, kind: 'fwd', name: 'opaque_s', union: false },
    { id: 15, kind: 'fwd', name: 'opaque_u', union: true },
    { id: 16, kind: 'typedef', name: 'node_t', type: 6 },
    { id: 17, kind: 'volatile', name: '', type: 1 },
    { id: 18, kind: 'const', name: '', type: 17 },
    { id: 19, kind: 'restrict', name: '', type: 20 },
    { id: 20, kind: 'ptr', name: '', type: 18 },
    { id: 21, kind: 'func_proto', name: '', returnType: 1, params: [
      { name: 'a', type: 19 }, { name: '', type: 16 }, { name: '', type: 0 },
    ] },
    { id: 22, kind: 'func', name: 'f_static', type: 21, linkage: 0 },
    { id: 23, kind: 'func', name: 'f_global', type: 21, linkage: 1 },
    { id: 24, kind: 'func', name: 'f_extern', type: 21, linkage: 2 },
    { id: 25, kind: 'var', name: 'v_static', type: 1, linkage: 0 },
    { id: 26, kind: 'var', name: 'v_global', type: 9, linkage: 1 },
    { id: 27, kind: 'var', name: 'v_extern', type: 4, linkage: 2 },
    { id: 28, kind: 'datasec', name: '.data', size: 16, vars: [
      { type: 25, offset: 0, size: 4 }, { type: 26, offset: 4, size: 4 }, { type: 27, offset: 8, size: 8 },
    ] },
    { id: 29, kind: 'float', name: 'double', size: 8 },
    { id: 30, kind: 'decl_tag', name: 'on_type', type: 6, componentIdx: -1 },
    { id: 31, kind: 'decl_tag', name: 'on_member', type: 6, componentIdx: 1 },
    { id: 32, kind: 'type_tag', name: 'user', type: 1 },
    { id: 33, kind: 'ptr', name: '', type: 32 },
    { id: 34, kind: 'struct', name: 'holder', size: 32, kindFlag: false, members: [
      { name: 'p', type: 33, bitOffset: 0, bitfieldSize: 0 },
      { name: 'cb', type: 35, bitOffset: 64, bitfieldSize: 0 },
      { name: 'd', type: 29, bitOffset: 128, bitfieldSize: 0 },
      { name: 't', type: 13, bitOffset: 192, bitfieldSize: 0 },
      { name: 'o', type: 36, bitOffset: 200, bitfieldSize: 0 },
    ] },
    { id: 35, kind: 'ptr', name: '', type: 21 },
    // a second struct named node: the C dump calls it node___2
    { id: 36, kind: 'array', name: '', type: 2, indexType: 1, nelems: 3 },
    { id: 37, kind: 'struct', name: 'node', size: 4, kindFlag: false, members: [{ name: 'x', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
    { id: 38, kind: 'enum', name: '', size: 4, signed: false, values: [{ name: 'TOP_LEVEL_CONST', value: 42 }] },
    { id: 39, kind: 'struct', name: 'empty', size: 0, kindFlag: false, members: [] },
    { id: 40, kind: 'struct', name: 'packed_s', size: 5, kindFlag: false, members: [
      { name: 'c', type: 2, bitOffset: 0, bitfieldSize: 0 }, { name: 'i', type: 1, bitOffset: 8, bitfieldSize: 0 },
    ] },
  ];
  return t;
}

function readKernelVmlinux(): Uint8Array {
  return readFileSync(VMLINUX);
}

/** A small split BTF on top of `base` (a module's BTF in miniature): ids and strings continue the base's. */
function splitBtfBlob(base: Btf): Uint8Array {
  const first = base.typeCount;
  const skb = base.findByName('sk_buff', 'struct')!.id;
  const int = base.findByName('int', 'int')!.id;
  const names = ['tsbpf_split', 'skb', 'len', 'tsbpf_split_fn', 'tsbpf_u32_t'];
  const strOff = new Map<string, number>();
  let strs = '\0';
  for (const n of names) { strOff.set(n, base.header.strLen + strs.length); strs += `${n}\0`; }
  const s = (n: string): number => strOff.get(n)!;
  const info = (kind: number, vlen: number): number => (kind << 24) | vlen;
  const words = [
    s('tsbpf_split'), info(4, 2), 16, s('skb'), first + 1, 0, s('len'), int, 64, // [first] STRUCT
    0, info(2, 0), skb, // PTR to the base's struct sk_buff
    0, info(13, 1), int, s('skb'), first + 1, // FUNC_PROTO int (struct sk_buff *skb)
    s('tsbpf_split_fn'), info(12, 1), first + 2, // FUNC, global
    s('tsbpf_u32_t'), info(8, 0), base.findByName('u32', 'typedef')!.id, // TYPEDEF
  ];
  const typeLen = words.length * 4;
  const strBytes = Buffer.from(strs, 'latin1');
  const out = Buffer.alloc(24 + typeLen + strBytes.length);
  out.writeUInt16LE(0xeb9f, 0); out[2] = 1; out[3] = 0;
  out.writeUInt32LE(24, 4); out.writeUInt32LE(0, 8); out.writeUInt32LE(typeLen, 12);
  out.writeUInt32LE(typeLen, 16); out.writeUInt32LE(strBytes.length, 20);
  words.forEach((w, i) => out.writeUInt32LE(w >>> 0, 24 + 4 * i));
  strBytes.copy(out, 24 + typeLen);
  return out;
}

/** A hand-made list as the formatters' source, without any parser in between. */
function listSource(types: BtfType[]): BtfFormatSource {
  const VOID: BtfType = { id: 0, kind: 'void', name: '' };
  return { firstId: 1, typeCount: types.length + 1, type: (id) => (id === 0 ? VOID : types[id - 1]!) };
}

describe('btf format: against bpftool', function () {
  this.timeout(180000);
  let dir: string;
  before(function () {
    if (!haveBpftool()) this.skip(); // the oracle is missing: nothing to compare with
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-format-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('every kind, hand-made: raw byte-identical, JSON deep-equal, C the same text', () => {
    const types = everyKind();
    const file = join(dir, 'kinds.btf');
    writeFileSync(file, encodeBtf(types));
    const src = listSource(types);
    expect(formatBtfRaw(src)).to.equal(bpftool(['btf', 'dump', 'file', file, 'format', 'raw']).out);
    expect(JSON.parse(formatBtfJson(src))).to.deep.equal(JSON.parse(bpftool(['-j', 'btf', 'dump', 'file', file]).out));
    const c = formatBtfC(src);
    expect(withoutByteMode(c)).to.equal(bpftool(['btf', 'dump', 'file', file, 'format', 'c']).out);
    // the parsed blob formats the same as the list it came from
    expect(formatBtfRaw(Btf.parse(encodeBtf(types)))).to.equal(formatBtfRaw(src));
    // what a user reads in the C text
    expect(c).to.include('struct node___2 {');
    expect(c).to.include('enum tiny {\n\tTINY_A = 1,\n} __attribute__((mode(byte)));');
    expect(c).to.include('\tW_MAX = 18446744073709551615ULL,');
    expect(c).to.include('\tS_NEG = -1099511627776LL,');
    expect(c).to.include('\tint flags: 3;\n\tint mode: 5;');
    expect(c).to.include('struct empty {};');
    expect(c).to.include('} __attribute__((packed));');
    expect(c).to.include('\tint (*cb)(volatile const int * restrict a, node_t, ...);');
    expect(c).to.include('\tint __attribute__((btf_type_tag("user"))) *p;');
  });

  it('one type at a time: the DATASEC line names its variables', () => {
    const src = listSource(everyKind());
    expect(formatTypeRaw(src, src.type(28))).to.equal([
      "[28] DATASEC '.data' size=16 vlen=3",
      "\ttype_id=25 offset=0 size=4 (VAR 'v_static')",
      "\ttype_id=26 offset=4 size=4 (VAR 'v_global')",
      "\ttype_id=27 offset=8 size=8 (VAR 'v_extern')",
    ].join('\n'));
  });

  it('rootIds: only those types and what they need, in dependency order', () => {
    const c = formatBtfC(listSource(everyKind()), { rootIds: [34], prologue: false });
    expect(c.indexOf('enum tiny {')).to.be.greaterThan(-1);
    expect(c.indexOf('typedef struct node node_t;')).to.be.lessThan(c.indexOf('struct holder {'));
    expect(c).not.to.include('packed_s');
    expect(c).not.to.include('#ifndef');
  });

  it('a struct that embeds itself by value is a typed error naming the type, not a stack overflow', () => {
    const loop: BtfType[] = [
      { id: 1, kind: 'struct', name: 'a', size: 4, kindFlag: false, members: [{ name: 'x', type: 2, bitOffset: 0, bitfieldSize: 0 }] },
      { id: 2, kind: 'struct', name: '', size: 4, kindFlag: false, members: [{ name: 'y', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
    ];
    expect(() => formatBtfC(listSource(loop))).to.throw(ParseError, /unsatisfiable type cycle at type id 1/);
  });

  it('reference cycles (malformed BTF) are a typed error, never a hang or a RangeError', () => {
    const ptrLoop: BtfType[] = [
      { id: 1, kind: 'ptr', name: '', type: 2 },
      { id: 2, kind: 'const', name: '', type: 1 },
      { id: 3, kind: 'typedef', name: 't', type: 1 },
    ];
    expect(() => formatBtfC(listSource(ptrLoop))).to.throw(ParseError);
    const typedefLoop: BtfType[] = [
      { id: 1, kind: 'typedef', name: 'a', type: 2 },
      { id: 2, kind: 'ptr', name: '', type: 1 },
      { id: 3, kind: 'struct', name: 's', size: 8, kindFlag: false, members: [{ name: 'p', type: 1, bitOffset: 0, bitfieldSize: 0 }] },
    ];
    expect(() => formatBtfC(listSource(typedefLoop))).to.throw(ParseError);
    expect(formatBtfRaw(listSource(typedefLoop))).to.match(/^\[1\] TYPEDEF 'a' type_id=2\n/);
  });

  it('encodings and linkages bpftool has no word for print as it prints them', () => {
    const src = listSource(everyKind());
    const odd: BtfType[] = [
      { id: 90, kind: 'int', name: 'odd', size: 1, bitOffset: 0, bits: 8, signed: true, char: true, bool: false },
      { id: 91, kind: 'func', name: 'f', type: 21, linkage: 7 },
      { id: 92, kind: 'var', name: 'v', type: 1, linkage: 3 },
    ];
    expect(odd.map((t) => formatTypeRaw(src, t))).to.deep.equal([
      "[90] INT 'odd' size=1 bits_offset=0 nr_bits=8 encoding=UNKN",
      "[91] FUNC 'f' type_id=21 linkage=(unknown)",
      "[92] VAR 'v' type_id=1, linkage=(unknown)",
    ]);
  });

  it('every object in bpf/ (all builds, bpfeb included): raw, JSON and C as bpftool prints them', function () {
    const objects = builtObjects();
    if (objects.length === 0) throw new Error('no bpf/*.o: run make bpf bpf-variants');
    let compared = 0;
    for (const obj of objects) {
      const expRaw = bpftool(['btf', 'dump', 'file', obj, 'format', 'raw']);
      if (expRaw.status !== 0) {
        // built without -g: bpftool finds no BTF, and neither do we
        expect(() => readBtfFile(obj), obj).to.throw(/no \.BTF section/);
        continue;
      }
      const btf = readBtfFile(obj);
      expect(formatBtfRaw(btf), obj).to.equal(expRaw.out);
      expect(JSON.parse(formatBtfJson(btf)), obj).to.deep.equal(JSON.parse(bpftool(['-j', 'btf', 'dump', 'file', obj]).out));
      expect(withoutByteMode(formatBtfC(btf)), obj).to.equal(bpftool(['btf', 'dump', 'file', obj, 'format', 'c']).out);
      // the CLI's own path gives the same text
      expect(btfDump(['file', obj, 'format', 'raw'], {}), obj).to.equal(expRaw.out);
      compared++;
    }
    expect(compared).to.be.greaterThan(objects.length / 2);
    expect(objects.some((o) => o.includes('/bpfeb/'))).to.equal(true);
  });

  it('vmlinux: raw byte-identical, JSON deep-equal, C the same text but for mode(byte)', function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    const btf = Btf.parse(readKernelVmlinux());
    const raw = formatBtfRaw(btf);
    expect(raw === bpftool(['btf', 'dump', 'file', VMLINUX, 'format', 'raw']).out, 'raw text differs').to.equal(true);
    expect(JSON.parse(formatBtfJson(btf))).to.deep.equal(JSON.parse(bpftool(['-j', 'btf', 'dump', 'file', VMLINUX]).out));
    const c = formatBtfC(btf);
    const expC = bpftool(['btf', 'dump', 'file', VMLINUX, 'format', 'c']).out;
    expect(withoutByteMode(c) === expC, 'C text differs beyond mode(byte)').to.equal(true);
    // the only difference: one mode(byte) per named 1-byte enum
    let oneByte = 0;
    for (let id = 1; id < btf.typeCount; id++) {
      const t = btf.type(id);
      if ((t.kind === 'enum' || t.kind === 'enum64') && t.size === 1 && t.values.length) oneByte++;
    }
    expect(c.split('__attribute__((mode(byte)))').length - 1).to.equal(oneByte);
  });

  it('split BTF on vmlinux (-B): only its own types, numbered after the base', function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    const base = Btf.parse(readKernelVmlinux());
    const file = join(dir, 'split.btf');
    writeFileSync(file, splitBtfBlob(base));
    const btf = readBtfFile(file, base);
    const raw = formatBtfRaw(btf);
    expect(raw).to.equal(bpftool(['-B', VMLINUX, 'btf', 'dump', 'file', file, 'format', 'raw']).out);
    expect(raw.startsWith(`[${base.typeCount}] `)).to.equal(true);
    expect(JSON.parse(formatBtfJson(btf))).to.deep.equal(JSON.parse(bpftool(['-j', '-B', VMLINUX, 'btf', 'dump', 'file', file]).out));
    expect(btfDump(['file', file], { baseBtf: VMLINUX })).to.equal(raw);
    const c = formatBtfC(btf);
    expect(withoutByteMode(c) === bpftool(['-B', VMLINUX, 'btf', 'dump', 'file', file, 'format', 'c']).out).to.equal(true);
    expect(c).to.include('struct tsbpf_split {');
  });
});
