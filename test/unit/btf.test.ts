// lib/btf parser: every kind decoded from hand-written blobs (both byte orders, kind_flag meanings),
// helpers, name lookups, malformed input (only ParseError, also under fuzzing), and differential runs
// against `bpftool btf dump -j` for this kernel's vmlinux, a split blob on top of it, and every object
// in bpf/ and bpf/build/*/.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../../lib/btf/btf.js';
import { loadKernelBtf, loadModuleBtf, readWholeFile, setKernelBtfMapper, KernelBtfError } from '../../lib/btf/kernel.js';
import { mapFileReadOnly } from '../../lib/syscall/map-file.js';
import type { BtfKindName, BtfType } from '../../lib/btf/types.js';
import { ParseError } from '../../lib/errors.js';
import { readElf } from '../../lib/elf/index.js';
import { BtfBlob, KIND } from '../helpers/btf-blob.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

/** One blob with every kind; ids in comments. */
function everyKind(): { blob: BtfBlob; ids: Record<string, number> } {
  const b = new BtfBlob();
  const ids: Record<string, number> = {};
  ids.int = b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);                 // SIGNED, 32 bits
  ids.char = b.type('char', KIND.INT, 0, false, 1, (2 << 24) | 8);                // CHAR
  ids.bool = b.type('_Bool', KIND.INT, 0, false, 1, (4 << 24) | (3 << 16) | 1);   // BOOL, offset 3, 1 bit
  ids.ptr = b.type('', KIND.PTR, 0, false, ids.int);
  ids.array = b.type('', KIND.ARRAY, 0, false, 0, ids.int, ids.int, 4);
  ids.bits = b.type('bits', KIND.STRUCT, 3, true, 8,                              // kind_flag: bitfields
    b.str('a'), ids.int, (3 << 24) | 0, b.str('b'), ids.int, (29 << 24) | 3, b.str('c'), ids.int, 32);
  ids.plain = b.type('plain', KIND.STRUCT, 2, false, 8, b.str('x'), ids.int, 0, 0, ids.int, 32);
  ids.union = b.type('u', KIND.UNION, 1, false, 4, b.str('i'), ids.int, 0);
  ids.senum = b.type('se', KIND.ENUM, 2, true, 4, b.str('NEG'), -5, b.str('POS'), 7);
  ids.uenum = b.type('ue', KIND.ENUM, 1, false, 4, b.str('BIG'), 0xffffffff);
  ids.fwdu = b.type('fu', KIND.FWD, 0, true, 0);
  ids.fwds = b.type('fs', KIND.FWD, 0, false, 0);
  ids.typedef = b.type('myint', KIND.TYPEDEF, 0, false, ids.int);
  ids.volatile = b.type('', KIND.VOLATILE, 0, false, ids.typedef);
  ids.const = b.type('', KIND.CONST, 0, false, ids.volatile);
  ids.restrict = b.type('', KIND.RESTRICT, 0, false, ids.ptr);
  ids.proto = b.type('', KIND.FUNC_PROTO, 2, false, ids.int, b.str('n'), ids.int, 0, 0); // int (int n, ...)
  ids.func = b.type('f', KIND.FUNC, 1, false, ids.proto);                          // vlen = linkage global
  ids.var = b.type('v', KIND.VAR, 0, false, ids.int, 2);                           // extern
  ids.datasec = b.type('.data', KIND.DATASEC, 1, false, 4, ids.var, 0, 4);
  ids.float = b.type('double', KIND.FLOAT, 0, false, 8);
  ids.tagType = b.type('tag', KIND.DECL_TAG, 0, false, ids.plain, -1);
  ids.tagMember = b.type('mtag', KIND.DECL_TAG, 0, false, ids.plain, 1);
  ids.typeTag = b.type('user', KIND.TYPE_TAG, 0, false, ids.int);
  ids.senum64 = b.type('se64', KIND.ENUM64, 2, true, 8, b.str('M'), 0xfffffffe, 0xffffffff, b.str('H'), 0, 0x40000000);
  ids.uenum64 = b.type('ue64', KIND.ENUM64, 1, false, 8, b.str('U'), 1, 0x80000000);
  return { blob: b, ids };
}

/** each kind's fields without its id (Omit over the union itself keeps only the shared fields) */
type WithoutId<T> = T extends unknown ? Omit<T, 'id'> : never;

const expected = (ids: Record<string, number>): Record<string, WithoutId<BtfType>> => ({
  int: { kind: 'int', name: 'int', size: 4, bitOffset: 0, bits: 32, signed: true, char: false, bool: false },
  char: { kind: 'int', name: 'char', size: 1, bitOffset: 0, bits: 8, signed: false, char: true, bool: false },
  bool: { kind: 'int', name: '_Bool', size: 1, bitOffset: 3, bits: 1, signed: false, char: false, bool: true },
  ptr: { kind: 'ptr', name: '', type: ids.int },
  array: { kind: 'array', name: '', type: ids.int, indexType: ids.int, nelems: 4 },
  bits: { kind: 'struct', name: 'bits', size: 8, kindFlag: true, members: [
    { name: 'a', type: ids.int, bitOffset: 0, bitfieldSize: 3 },
    { name: 'b', type: ids.int, bitOffset: 3, bitfieldSize: 29 },
    { name: 'c', type: ids.int, bitOffset: 32, bitfieldSize: 0 },
  ] },
  plain: { kind: 'struct', name: 'plain', size: 8, kindFlag: false, members: [
    { name: 'x', type: ids.int, bitOffset: 0, bitfieldSize: 0 }, { name: '', type: ids.int, bitOffset: 32, bitfieldSize: 0 },
  ] },
  union: { kind: 'union', name: 'u', size: 4, kindFlag: false, members: [{ name: 'i', type: ids.int, bitOffset: 0, bitfieldSize: 0 }] },
  senum: { kind: 'enum', name: 'se', size: 4, signed: true, values: [{ name: 'NEG', value: -5 }, { name: 'POS', value: 7 }] },
  uenum: { kind: 'enum', name: 'ue', size: 4, signed: false, values: [{ name: 'BIG', value: 0xffffffff }] },
  fwdu: { kind: 'fwd', name: 'fu', union: true },
  fwds: { kind: 'fwd', name: 'fs', union: false },
  typedef: { kind: 'typedef', name: 'myint', type: ids.int },
  volatile: { kind: 'volatile', name: '', type: ids.typedef },
  const: { kind: 'const', name: '', type: ids.volatile },
  restrict: { kind: 'restrict', name: '', type: ids.ptr },
  proto: { kind: 'func_proto', name: '', returnType: ids.int, params: [{ name: 'n', type: ids.int }, { name: '', type: 0 }] },
  func: { kind: 'func', name: 'f', type: ids.proto, linkage: 1 },
  var: { kind: 'var', name: 'v', type: ids.int, linkage: 2 },
  datasec: { kind: 'datasec', name: '.data', size: 4, vars: [{ type: ids.var, offset: 0, size: 4 }] },
  float: { kind: 'float', name: 'double', size: 8 },
  tagType: { kind: 'decl_tag', name: 'tag', type: ids.plain, componentIdx: -1 },
  tagMember: { kind: 'decl_tag', name: 'mtag', type: ids.plain, componentIdx: 1 },
  typeTag: { kind: 'type_tag', name: 'user', type: ids.int },
  senum64: { kind: 'enum64', name: 'se64', size: 8, signed: true, values: [{ name: 'M', value: -2n }, { name: 'H', value: 0x40000000n << 32n }] },
  uenum64: { kind: 'enum64', name: 'ue64', size: 8, signed: false, values: [{ name: 'U', value: (0x80000000n << 32n) | 1n }] },
});

function expectParseError(fn: () => unknown, re?: RegExp): ParseError {
  try {
    fn();
  } catch (e) {
    expect(e, String(e)).to.be.instanceOf(ParseError);
    if (re) expect((e as Error).message).to.match(re);
    return e as ParseError;
  }
  throw new Error('expected a ParseError');
}

/** Everything a user may call on a parsed blob, so lazily found malformations surface. */
function exercise(btf: Btf): void {
  for (let id = 0; id < btf.typeCount; id++) {
    btf.type(id);
    btf.kindOf(id);
    btf.nameOf(id);
    for (const f of [() => btf.resolveSize(id), () => btf.alignment(id), () => btf.skipTypedefs(id)]) {
      try { f(); } catch (e) { if (!(e instanceof ParseError)) throw e; }
    }
  }
  btf.findAllByName('int');
  btf.findByName('bits', 'struct');
}

describe('lib/btf: Btf.parse', () => {
  describe('every kind from a hand-written blob', () => {
    for (const littleEndian of [true, false]) {
      it(`decodes all 19 kinds with kind_flag interpreted (${littleEndian ? 'little' : 'big'}-endian)`, () => {
        const { blob, ids } = everyKind();
        const btf = Btf.parse(blob.build({ littleEndian }));
        expect(btf.littleEndian).to.equal(littleEndian);
        expect(btf.firstId).to.equal(1);
        expect(btf.typeCount).to.equal(Object.keys(ids).length + 1);
        const want = expected(ids);
        for (const [k, id] of Object.entries(ids)) {
          expect(btf.type(id), k).to.deep.equal({ id, ...want[k] });
          expect(btf.kindOf(id), k).to.equal(want[k].kind);
          expect(btf.nameOf(id), k).to.equal(want[k].name);
        }
        expect(btf.type(0)).to.deep.equal({ id: 0, kind: 'void', name: '' });
        expect(btf.type(ids.int)).to.equal(btf.type(ids.int)); // cached
      });
    }

    it('tolerates a header longer than 24 bytes', () => {
      const { blob, ids } = everyKind();
      const btf = Btf.parse(blob.build({ hdrLen: 32 }));
      expect(btf.header.hdrLen).to.equal(32);
      expect(btf.type(ids.bits)).to.deep.include({ name: 'bits', size: 8 });
    });

    it('reads a blob that sits at an odd offset of its buffer (no aligned word view)', () => {
      const { blob, ids } = everyKind();
      const raw = blob.build();
      const shifted = new Uint8Array(raw.length + 1);
      shifted.set(raw, 1);
      const btf = Btf.parse(shifted.subarray(1));
      expect(btf.type(ids.senum64)).to.deep.equal({ id: ids.senum64, ...expected(ids).senum64 });
      expect(btf.findByName('bits', 'struct')?.id).to.equal(ids.bits);
    });
  });

  describe('helpers', () => {
    const { blob, ids } = everyKind();
    const btf = Btf.parse(blob.build());

    it('resolveSize follows typedefs, modifiers, vars and arrays like btf__resolve_size', () => {
      expect(btf.resolveSize(ids.const)).to.equal(4);
      expect(btf.resolveSize(ids.array)).to.equal(16);
      expect(btf.resolveSize(ids.ptr)).to.equal(8);
      expect(btf.resolveSize(ids.var)).to.equal(4);
      expect(btf.resolveSize(ids.bits)).to.equal(8);
      expect(btf.resolveSize(ids.senum64)).to.equal(8);
      expectParseError(() => btf.resolveSize(ids.func), /has no size/);
      expectParseError(() => btf.resolveSize(ids.fwds), /has no size/);
      expectParseError(() => btf.resolveSize(0), /has no size/);
    });

    it('alignment: natural, packed structs 1 (btf__align_of)', () => {
      const b = new BtfBlob();
      const int = b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
      const long = b.type('long', KIND.INT, 0, false, 8, (1 << 24) | 64);
      const ch = b.type('char', KIND.INT, 0, false, 1, 8);
      const natural = b.type('n', KIND.STRUCT, 2, false, 16, b.str('c'), ch, 0, b.str('l'), long, 64);
      const packed = b.type('p', KIND.STRUCT, 2, false, 5, b.str('c'), ch, 0, b.str('i'), int, 8);
      const arr = b.type('', KIND.ARRAY, 0, false, 0, long, int, 3);
      const td = b.type('t', KIND.TYPEDEF, 0, false, natural);
      const p = Btf.parse(b.build());
      expect(p.alignment(int)).to.equal(4);
      expect(p.alignment(natural)).to.equal(8);
      expect(p.alignment(packed)).to.equal(1);
      expect(p.alignment(arr)).to.equal(8);
      expect(p.alignment(td)).to.equal(8);
      expect(btf.alignment(ids.ptr)).to.equal(8);
    });

    it('skipModifiers stops at typedefs, skipTypedefs does not', () => {
      expect(btf.skipModifiers(ids.const)).to.equal(ids.typedef);
      expect(btf.skipTypedefs(ids.const)).to.equal(ids.int);
      expect(btf.skipTypedefs(ids.typeTag)).to.equal(ids.int);
      expect(btf.skipModifiers(ids.int)).to.equal(ids.int);
    });

    it('a reference cycle is a ParseError, not a hang', () => {
      const b = new BtfBlob();
      b.type('a', KIND.TYPEDEF, 0, false, 2);
      b.type('', KIND.CONST, 0, false, 1);
      const c = Btf.parse(b.build());
      expectParseError(() => c.resolveSize(1), /cycle/);
      expectParseError(() => c.skipTypedefs(1), /cycle/);
      expectParseError(() => c.alignment(2), /cycle/);
    });

    it('alignment walks a type shared by many members once (memoized), not once per path', () => {
      // S0 { S1 a, b; } … S19 { S20 a, b; }, S20 = int: 2^20 paths from S0, 21 distinct types
      const b = new BtfBlob();
      const int = b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
      const depth = 20;
      const first = b.nextId;
      for (let k = 0; k < depth; k++) {
        const next = k === depth - 1 ? int : first + k + 1;
        b.type(`S${k}`, KIND.STRUCT, 2, false, 4, b.str('a'), next, 0, b.str('b'), next, 0);
      }
      const p = Btf.parse(b.build());
      let lookups = 0;
      const kindNum = p.kindNum.bind(p);
      p.kindNum = (id: number) => (lookups++, kindNum(id));
      expect(p.alignment(first)).to.equal(4);
      expect(lookups).to.be.below(4 * (depth + 1));
      lookups = 0;
      expect(p.alignment(first)).to.equal(4);
      expect(lookups).to.equal(0);
    });

    it('a struct that contains itself is a cycle; a failed alignment does not poison the next call', () => {
      const b = new BtfBlob();
      const int = b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
      const self = b.type('S', KIND.STRUCT, 1, false, 4, b.str('s'), int + 1, 0);
      const proto = b.type('', KIND.FUNC_PROTO, 0, false, int);
      const holder = b.type('H', KIND.STRUCT, 1, false, 4, b.str('f'), proto, 0);
      const outer = b.type('O', KIND.STRUCT, 1, false, 4, b.str('h'), holder, 0);
      const p = Btf.parse(b.build());
      expect(expectParseError(() => p.alignment(self), /contains itself/).typeId).to.equal(self);
      for (let i = 0; i < 2; i++) expectParseError(() => p.alignment(outer), /func_proto has no alignment/);
    });

    it('a size-0 int, enum or enum64 has no alignment (a ParseError, not 0 or NaN)', () => {
      const b = new BtfBlob();
      const int0 = b.type('int0', KIND.INT, 0, false, 0, 0);
      const enum0 = b.type('e0', KIND.ENUM, 1, false, 0, b.str('A'), 0);
      const e64 = b.type('libbpf_tristate', KIND.ENUM64, 1, false, 0, b.str('TRI_NO'), 0, 0);
      const td = b.type('t', KIND.TYPEDEF, 0, false, e64);
      const p = Btf.parse(b.build());
      for (const id of [int0, enum0, e64, td]) expectParseError(() => p.alignment(id), /of size 0 has no alignment/);
    });

    it('resolveSize of an array of itself reports the cycle, not a size overflow', () => {
      const b = new BtfBlob();
      const int = b.type('int', KIND.INT, 0, false, 4, (1 << 24) | 32);
      const arr = b.type('', KIND.ARRAY, 0, false, 0, int + 1, int, 2);
      const td = b.type('t', KIND.TYPEDEF, 0, false, arr);
      const p = Btf.parse(b.build());
      for (const id of [arr, td]) expectParseError(() => p.resolveSize(id), /contains itself/);
    });

    it('findByName / findAllByName by name and kind, lowest id first; void; unknown names', () => {
      const b = new BtfBlob();
      const fwd = b.type('node', KIND.FWD, 0, false, 0);
      const int = b.type('int', KIND.INT, 0, false, 4, 32);
      const st = b.type('node', KIND.STRUCT, 1, false, 4, b.str('v'), int, 0);
      const td = b.type('node', KIND.TYPEDEF, 0, false, st);
      const raw = b.build();
      // the first lookups scan; after a dozen other names the name index answers
      for (const warm of [0, 12]) {
        const p = Btf.parse(raw);
        for (let i = 0; i < warm; i++) expect(p.findByName(`other${i}`)).to.equal(undefined);
        expect(p.findAllByName('node').map((t) => t.id)).to.deep.equal([fwd, st, td]);
        expect(p.findByName('node', 'struct')?.id).to.equal(st);
        expect(p.findByName('node', 'typedef')?.id).to.equal(td);
        expect(p.findByName('node', 'union')).to.equal(undefined);
        expect(p.findByName('nod')).to.equal(undefined);
        expect(p.findByName('nodes')).to.equal(undefined);
        expect(p.findByName('void')?.kind).to.equal('void');
        expect(p.findAllByName('')).to.deep.equal([]);
      }
    });
  });

  describe('malformed input: ParseError naming where', () => {
    const good = () => everyKind().blob.build();
    const patch = (f: (dv: DataView, b: Uint8Array) => void) => {
      const b = good();
      f(new DataView(b.buffer), b);
      return b;
    };

    it('truncated header, bad magic, bad version, header length', () => {
      expect(expectParseError(() => Btf.parse(good().subarray(0, 23)), /truncated header/).offset).to.equal(0);
      expectParseError(() => Btf.parse(new Uint8Array(0)), /truncated header/);
      expectParseError(() => Btf.parse(patch((_, b) => { b[0] = 0x7f; })), /bad magic/);
      expectParseError(() => Btf.parse(patch((_, b) => { b[2] = 2; })), /version/);
      expectParseError(() => Btf.parse(patch((dv) => dv.setUint32(4, 12, true))), /header length/);
      expectParseError(() => Btf.parse(patch((dv) => dv.setUint32(4, 0xffffff00, true))), /header length/);
    });

    it('type and string sections past the end, misaligned, overlapping', () => {
      const e = expectParseError(() => Btf.parse(patch((dv) => dv.setUint32(12, 0x7ffffff0, true))), /type section/);
      expect(e.section).to.equal('types');
      expectParseError(() => Btf.parse(patch((dv) => dv.setUint32(20, 0xffffffff, true))), /string section .* past the end/);
      expectParseError(() => Btf.parse(patch((dv) => dv.setUint32(8, 2, true))), /not 4-byte aligned/);
      expectParseError(() => Btf.parse(patch((dv) => dv.setUint32(16, 4, true))), /overlap/);
      expectParseError(() => Btf.parse(patch((dv, b) => { b[b.length - 1] = 0x41; })), /does not end with NUL/);
    });

    it('unknown kind, vlen past the end, truncated record', () => {
      const b1 = new BtfBlob();
      b1.type('int', KIND.INT, 0, false, 4, 32);
      b1.type('x', 20, 0, false, 0);
      const e = expectParseError(() => Btf.parse(b1.build()), /unknown kind 20/);
      expect(e.typeId).to.equal(2);
      expect(e.offset).to.equal(24 + 16);
      const b0 = new BtfBlob();
      b0.type('x', 0, 0, false, 0);
      expectParseError(() => Btf.parse(b0.build()), /unknown kind 0/);
      const b2 = new BtfBlob();
      b2.type('s', KIND.STRUCT, 0xffff, false, 4, 0, 0, 0);
      expect(expectParseError(() => Btf.parse(b2.build()), /vlen 65535 runs past/).typeId).to.equal(1);
      const b3 = new BtfBlob();
      b3.type('int', KIND.INT, 0, false, 4, 32);
      b3.raw(0, KIND.PTR << 24);
      expect(expectParseError(() => Btf.parse(b3.build()), /truncated type record/).typeId).to.equal(2);
    });

    it('string offsets and type ids out of range surface on decode with the type id', () => {
      const b = new BtfBlob();
      b.type(0x10000, KIND.INT, 0, false, 4, 32);
      b.type('p', KIND.PTR, 0, false, 7);
      b.type('s', KIND.STRUCT, 1, false, 4, 0x20000, 1, 0);
      b.type('t', KIND.TYPEDEF, 0, false, 9);
      const p = Btf.parse(b.build());
      expect(expectParseError(() => p.type(1), /string offset 65536/).typeId).to.equal(1);
      expect(expectParseError(() => p.nameOf(1), /string offset/).typeId).to.equal(1);
      expect(expectParseError(() => p.type(2), /type id 7 beyond/).typeId).to.equal(2);
      expect(expectParseError(() => p.resolveSize(4), /type id 9 beyond/).typeId).to.equal(4);
      expect(expectParseError(() => p.skipTypedefs(4), /type id 9 beyond/).typeId).to.equal(4);
      expectParseError(() => p.type(3), /string offset 131072/);
      expect(expectParseError(() => p.type(5), /type id 5 out of range/).typeId).to.equal(5);
      expectParseError(() => p.type(-1), /out of range/);
      expectParseError(() => p.type(1.5), /out of range/);
      expectParseError(() => p.kindOf(99), /out of range/);
      expectParseError(() => p.stringAt(1 << 20), /out of range/);
      expectParseError(() => p.findByName('x', 'nonsense' as never), /unknown kind name/);
    });

    it('fuzz: truncated and bit-flipped blobs raise ParseError only, never hang', function () {
      this.timeout(120000);
      let seed = 0x2545f491;
      const rand = (n: number) => {
        seed ^= seed << 13; seed ^= seed >>> 17; seed ^= seed << 5;
        return (seed >>> 0) % n;
      };
      const objBtf = readElf(readFileSync('bpf/obj_globals.o')).section('.BTF')!.data;
      const inputs = [everyKind().blob.build(), everyKind().blob.build({ littleEndian: false }), objBtf];
      let parsed = 0;
      for (const input of inputs) {
        for (let round = 0; round < 1500; round++) {
          const b = round % 3 === 0 ? input.slice(0, rand(input.length)) : input.slice();
          if (round % 3 !== 0) for (let k = 0, n = 1 + rand(4); k < n; k++) b[rand(b.length)] ^= 1 << rand(8);
          try {
            exercise(Btf.parse(b));
            parsed++;
          } catch (e) {
            if (!(e instanceof ParseError)) throw new Error(`round ${round}: ${String(e)}`, { cause: e });
          }
        }
      }
      expect(parsed).to.be.greaterThan(0);
    });
  });
});

// ---- differential against bpftool ----

interface JType { id: number; kind: string; name: string; [k: string]: unknown }

function bpftoolJson(path: string, base?: string): JType[] {
  const args = ['btf', 'dump', 'file', path, ...(base ? ['-B', base] : []), '-j'];
  // enumerator values can exceed 2^53: keep them as strings
  const text = execFileSync('bpftool', args, { encoding: 'utf8', maxBuffer: 1 << 30 }).replace(/"val":\s*(-?\d+)/g, '"val":"$1"');
  return (JSON.parse(text) as { types: JType[] }).types;
}

const LINKAGE = ['static', 'global', 'extern'];
const anon = (s: string) => (s === '' ? '(anon)' : s);

/** Our type in bpftool's JSON shape (btf_dumper's dump_btf_type). */
function asBpftool(t: BtfType): JType {
  const head = { id: t.id, kind: t.kind.toUpperCase(), name: anon(t.name) };
  switch (t.kind) {
    case 'int': return { ...head, size: t.size, bits_offset: t.bitOffset, nr_bits: t.bits, encoding: t.signed ? 'SIGNED' : t.char ? 'CHAR' : t.bool ? 'BOOL' : '(none)' };
    case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': return { ...head, type_id: t.type };
    case 'array': return { ...head, type_id: t.type, index_type_id: t.indexType, nr_elems: t.nelems };
    case 'struct': case 'union': return { ...head, size: t.size, vlen: t.members.length, members: t.members.map((m) => ({ name: anon(m.name), type_id: m.type, bits_offset: m.bitOffset, ...(m.bitfieldSize ? { bitfield_size: m.bitfieldSize } : {}) })) };
    // bpftool 7.1 prints an unsigned 32-bit enumerator through a u64 after sign-extending it
    // (jsonw_uint_field(w, "val", v->val) with a __s32 val): 0xffffffff reads 18446744073709551615
    case 'enum': return { ...head, encoding: t.signed ? 'SIGNED' : 'UNSIGNED', size: t.size, vlen: t.values.length, values: t.values.map((v) => ({ name: v.name, val: String(t.signed ? v.value : BigInt.asUintN(64, BigInt(v.value | 0))) })) };
    case 'enum64': return { ...head, encoding: t.signed ? 'SIGNED' : 'UNSIGNED', size: t.size, vlen: t.values.length, values: t.values.map((v) => ({ name: v.name, val: String(v.value) })) };
    case 'fwd': return { ...head, fwd_kind: t.union ? 'union' : 'struct' };
    case 'func': return { ...head, type_id: t.type, linkage: LINKAGE[t.linkage] ?? '(unknown)' };
    case 'func_proto': return { ...head, ret_type_id: t.returnType, vlen: t.params.length, params: t.params.map((p) => ({ name: anon(p.name), type_id: p.type })) };
    case 'var': return { ...head, type_id: t.type, linkage: LINKAGE[t.linkage] ?? '(unknown)' };
    case 'datasec': return { ...head, size: t.size, vlen: t.vars.length, vars: t.vars.map((v) => ({ type_id: v.type, offset: v.offset, size: v.size })) };
    case 'float': return { ...head, size: t.size };
    case 'decl_tag': return { ...head, type_id: t.type, component_idx: t.componentIdx };
    case 'void': return head;
  }
}

function compareAll(btf: Btf, want: JType[], what: string): void {
  expect(btf.typeCount - btf.firstId, `${what}: type count`).to.equal(want.length);
  for (const w of want) {
    const got = asBpftool(btf.type(w.id));
    if (JSON.stringify(got) !== JSON.stringify(w)) expect(got, `${what}: type ${w.id}`).to.deep.equal(w);
  }
}

const objects = [
  ...readdirSync('bpf').filter((f) => f.endsWith('.o')).map((f) => `bpf/${f}`),
  ...(existsSync('bpf/build') ? readdirSync('bpf/build').flatMap((v) => readdirSync(`bpf/build/${v}`).filter((f) => f.endsWith('.o')).map((f) => `bpf/build/${v}/${f}`)) : []),
];

describe('lib/btf: differential against bpftool btf dump -j', function () {
  this.timeout(300000);

  it(`${VMLINUX}: every type equals bpftool's reading`, function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    const btf = loadKernelBtf({ cache: false });
    const want = bpftoolJson(VMLINUX);
    compareAll(btf, want, 'vmlinux');
    // the kinds this kernel is known to carry, so the comparison covered them
    const kinds = new Set(want.map((t) => t.kind));
    for (const k of ['DECL_TAG', 'TYPE_TAG', 'ENUM64', 'FLOAT', 'DATASEC', 'VAR', 'FWD']) expect(kinds.has(k), k).to.equal(true);
    // lookups by name agree with bpftool for a sample of names, through the scan and the index
    const byName = new Map<string, number[]>();
    for (const t of want) if (t.name !== '(anon)') byName.set(`${t.kind}/${t.name}`, [...(byName.get(`${t.kind}/${t.name}`) ?? []), t.id]);
    const sample = [...byName.keys()].filter((_, i) => i % 997 === 0).concat(['STRUCT/sk_buff', 'STRUCT/task_struct', 'ENUM/bpf_map_type']);
    for (const key of sample) {
      const [kind, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
      expect(btf.findAllByName(name, kind.toLowerCase() as BtfKindName).map((t) => t.id), key).to.deep.equal(byName.get(key));
    }
    // sizes: every struct/union/typedef resolves to bpftool's size of what it names
    for (const t of want) {
      if (t.kind === 'STRUCT' || t.kind === 'UNION') expect(btf.resolveSize(t.id)).to.equal(t.size);
    }
    const skb = btf.findByName('sk_buff', 'struct')!;
    expect(btf.alignment(skb.id)).to.equal(8);
  });

  it('split BTF on vmlinux (hand-written module blob) equals bpftool -B reading', function () {
    if (!existsSync(VMLINUX)) this.skip();
    const base = loadKernelBtf();
    const skb = base.findByName('sk_buff', 'struct')!.id;
    const int = base.findByName('int', 'int')!.id;
    const b = new BtfBlob({ firstId: base.typeCount, strBase: base.strings.endOffset });
    const ptr = b.type('', KIND.PTR, 0, false, skb);
    const mine = b.type('tsbpf_mod_state', KIND.STRUCT, 3, false, 16, b.str('skb'), ptr, 0, b.str('count'), int, 64, b.str('pad'), int, 96);
    const fwd = b.type(findBaseNameOffset(base, 'sk_buff'), KIND.FWD, 0, false, 0); // named with a base string
    b.type('tsbpf_mod_fn', KIND.FUNC_PROTO, 1, false, int, b.str('s'), mine);
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-split-'));
    try {
      const file = join(dir, 'mod.btf');
      const raw = b.build();
      writeFileSync(file, raw);
      const split = Btf.parse(raw, { base });
      expect(split.firstId).to.equal(base.typeCount);
      expect(split.base).to.equal(base);
      const want = bpftoolJson(file, VMLINUX);
      compareAll(split, want.filter((t) => t.id >= base.typeCount), 'split');
      expect(split.type(skb)).to.equal(base.type(skb));
      expect(split.nameOf(fwd)).to.equal('sk_buff');
      expect(split.findByName('sk_buff')?.id).to.equal(skb); // a first match in the base ends the search
      expect(split.findByName('sk_buff', 'fwd')?.id).to.equal(fwd);
      expect(split.findAllByName('sk_buff').map((t) => t.id)).to.deep.equal([skb, fwd]);
      expect(split.findByName('tsbpf_mod_state', 'struct')?.id).to.equal(mine);
      expect(split.resolveSize(mine)).to.equal(16);
      expect(split.resolveSize(ptr)).to.equal(8);
      expect(split.stringAt(findBaseNameOffset(base, 'sk_buff'))).to.equal('sk_buff');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('loadKernelBtf caches; loadModuleBtf reads a module or names what is missing', () => {
    if (!existsSync(VMLINUX)) return;
    expect(loadKernelBtf()).to.equal(loadKernelBtf());
    expect(loadKernelBtf({ cache: false })).to.not.equal(loadKernelBtf());
    const modules = readdirSync('/sys/kernel/btf').filter((m) => m !== 'vmlinux');
    if (modules.length) {
      const m = loadModuleBtf(modules[0]);
      expect(m.firstId).to.equal(loadKernelBtf().typeCount);
      m.validate();
    }
    expect(() => loadModuleBtf('tsbpf_no_such_module')).to.throw(KernelBtfError, /ENOENT/);
    expect(() => loadModuleBtf('../etc')).to.throw(KernelBtfError, /bad module name/);
  });

  it('the zero-copy mapping of vmlinux holds the bytes read(2) gives; files that cannot be mapped fall back to reading', function () {
    if (!existsSync(VMLINUX)) this.skip();
    const mapped = mapFileReadOnly(VMLINUX);
    // kernels before 6.16 refuse to mmap their BTF: then loadKernelBtf reads, which the tests above cover
    if (!mapped) this.skip();
    const read = readWholeFile(VMLINUX);
    expect(Buffer.from(mapped!.buffer, mapped!.byteOffset, mapped!.byteLength).equals(read)).to.equal(true);
    expect(mapFileReadOnly('/sys/kernel/notes')).to.equal(undefined); // sysfs file without mmap
    expect(mapFileReadOnly('/nonexistent/tsbpf')).to.equal(undefined);
    try {
      setKernelBtfMapper(mapFileReadOnly);
      const viaMap = loadKernelBtf({ cache: false });
      const viaRead = Btf.parse(read);
      expect(viaMap.typeCount).to.equal(viaRead.typeCount);
      const skb = viaMap.findByName('sk_buff', 'struct')!;
      expect(skb).to.deep.equal(viaRead.findByName('sk_buff', 'struct'));
      setKernelBtfMapper(() => undefined); // a mapper that declines: read instead
      expect(loadKernelBtf({ cache: false }).typeCount).to.equal(viaRead.typeCount);
    } finally {
      setKernelBtfMapper(undefined);
    }
  });

  for (const path of objects) {
    it(`${path}: every type equals bpftool's reading`, function () {
      const sec = readElf(readFileSync(path)).section('.BTF');
      if (!sec) {
        expect(path, 'only the -g-less variants lack .BTF').to.match(/\/nog\//);
        return;
      }
      const btf = Btf.parse(sec.data);
      expect(btf.littleEndian, 'byte order').to.equal(!path.includes('/bpfeb/'));
      compareAll(btf, bpftoolJson(path), path);
    });
  }
});

/** The string offset of `name` in `btf`'s table (for naming a split type with a base string). */
function findBaseNameOffset(btf: Btf, name: string): number {
  return nameOffsetOf(btf, btf.findByName(name)!.id);
}

function nameOffsetOf(btf: Btf, id: number): number {
  // walk records from the start as linux/btf.h lays them out (independent of the parser's index)
  const dv = new DataView(btf.rawBytes.buffer, btf.rawBytes.byteOffset, btf.rawBytes.byteLength);
  const le = btf.littleEndian;
  let off = btf.header.hdrLen + btf.header.typeOff;
  for (let cur = btf.firstId; ; cur++) {
    if (cur === id) return dv.getUint32(off, le);
    const info = dv.getUint32(off + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const per = [0, 0, 0, 0, 12, 12, 8, 0, 0, 0, 0, 0, 0, 8, 0, 12, 0, 0, 0, 12][kind];
    const fixed = [0, 4, 0, 12, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 4, 0, 0, 4, 0, 0][kind];
    off += 12 + fixed + per * vlen;
  }
}

describe('lib/btf: DATASECs of object BTF', () => {
  it('datasecIds lists every DATASEC and findDatasec answers as findByName(name, "datasec")', () => {
    const dir = 'bpf';
    let seen = 0;
    for (const f of readdirSync(dir).filter((x) => x.endsWith('.o'))) {
      const sec = readElf(new Uint8Array(readFileSync(join(dir, f)))).section('.BTF');
      if (!sec || sec.size === 0) continue;
      const btf = Btf.parse(sec.data);
      const all: number[] = [];
      for (let id = 1; id < btf.typeCount; id++) if (btf.kindOf(id) === 'datasec') all.push(id);
      expect(btf.datasecIds, f).to.deep.equal(all);
      for (const id of all) {
        const name = btf.nameOf(id);
        expect(btf.findDatasec(name), `${f} ${name}`).to.equal(btf.findByName(name, 'datasec'));
        seen++;
      }
      expect(btf.findDatasec('.no_such_section')).to.equal(undefined);
    }
    expect(seen).to.be.greaterThan(10);
  });
});
