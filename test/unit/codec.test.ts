// Typed values through BTF: exact bytes for each shape, using the BTF clang wrote for
// bpf/codec_conns.c (read through lib/btf; one test checks that view against bpftool's), and typed errors naming the field.
import { expect } from 'chai';
import { existsSync } from 'node:fs';
import { compileCodec, userCodec, intCodec, CodecError, type CodecType, type CodecTypeSource } from '../../lib/codec/index.js';
import { TsbpfError } from '../../lib/errors.js';
import { bpftoolTypes } from '../helpers/bpftool-btf.js';
import { objectTypes } from '../helpers/object-types.js';
import { BtfBlob } from '../helpers/btf-blob.js';
import { Btf } from '../../lib/btf/index.js';
import { btfCodecSource } from '../../lib/codec/btf-source.js';

const OBJ = 'bpf/codec_conns.o';
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('codec: BTF types to JS values', () => {
  let types: ReturnType<typeof objectTypes>;
  before(function () {
    if (!existsSync(OBJ)) throw new Error(`${OBJ} missing: run make bpf`);
    types = objectTypes(OBJ);
  });

  it('lib/btf gives the codecs the same view of every type as bpftool does (differential)', () => {
    const theirs = bpftoolTypes(OBJ);
    const n = types.btf.typeCount;
    expect(n).to.be.greaterThan(20);
    for (let id = 0; id < n; id++) expect(types.get(id), `type ${id}`).to.deep.equal(theirs.get(id));
  });

  it('conn_key ↔ { saddr, daddr, proto, pad }: exact bytes both ways', () => {
    const c = compileCodec(types, types.byName('STRUCT', 'conn_key'), { what: 'key' });
    expect(c.size).to.equal(12);
    const key = { saddr: 0x0100007f, daddr: 0xc0a80001, proto: 17, pad: [0, 0, 0] };
    const b = c.encode(key);
    expect(hex(b)).to.equal('7f000001' + '0100a8c0' + '11' + '000000');
    expect(c.decode(b)).to.deep.equal(key);
  });

  it('conn_val: 8-byte integers are bigints', () => {
    const c = compileCodec(types, types.byName('STRUCT', 'conn_val'));
    const b = Uint8Array.from(Buffer.from('0300000000000000' + 'b400000000000000', 'hex'));
    expect(c.decode(b)).to.deep.equal({ packets: 3n, bytes: 180n });
    expect(hex(c.encode({ packets: 3n, bytes: 180n }))).to.equal(hex(b));
    expect(hex(c.encode({ packets: 2n ** 64n - 1n, bytes: 5 }))).to.equal('ffffffffffffffff' + '0500000000000000');
  });

  const kitchen = {
    a: 0xaa, b: -2, flags: 5, level: 17, delta: -3, color: 2, comm: [104, 105, 0, 0, 0, 0, 0, 0],
    big: 0x1122334455667788n, neg: -5n, ratio: 0.5, mean: -1.25, ip4: 0x04030201, ok: true,
  };
  const kitchenHex = [
    'aa', '00', 'feff', // a, padding, b (s16 through typedef const volatile)
    '8d', '7d', '0000', // flags=5 | level=17 << 3; delta=-3 in 7 bits; rest of the bitfield unit
    '02000000', // color
    '6869000000000000', // comm
    '00000000', // padding before big
    '8877665544332211', 'fbffffffffffffff', // big, neg
    '0000003f', '00000000', // ratio (f32 0.5), padding
    '000000000000f4bf', // mean (f64 -1.25)
    '01020304', '01', '000000', // anonymous union (ip4), ok, trailing padding
  ].join('');

  it('struct kitchen: padding zeroed, bitfields, typedef/const/volatile skipped, enum, char[], floats, anonymous union, _Bool', () => {
    const c = compileCodec(types, types.byName('STRUCT', 'kitchen'));
    expect(c.size).to.equal(64);
    expect(hex(c.encode(kitchen))).to.equal(kitchenHex);
    const back = c.decode(Uint8Array.from(Buffer.from(kitchenHex, 'hex')));
    // the anonymous union decodes every member over the same bytes
    expect(back).to.deep.equal({ ...kitchen, ip6: [1, 2, 3, 4] });
    // encodeInto zeroes the padding of a dirty buffer
    const dirty = new Uint8Array(70).fill(0xee);
    c.encodeInto(kitchen, dirty, 3);
    expect(hex(dirty.subarray(3, 67))).to.equal(kitchenHex);
    expect(dirty[2]).to.equal(0xee);
    expect(dirty[67]).to.equal(0xee);
  });

  it('char arrays as strings and enums as names on request', () => {
    const c = compileCodec(types, types.byName('STRUCT', 'kitchen'), { strings: true, enumNames: true });
    const v = c.decode(Uint8Array.from(Buffer.from(kitchenHex, 'hex'))) as Record<string, unknown>;
    expect(v.comm).to.equal('hi');
    expect(v.color).to.equal('GREEN');
    // names and strings are accepted on encode (always)
    expect(hex(c.encode({ ...kitchen, comm: 'hi', color: 'GREEN' }))).to.equal(kitchenHex);
    // BLUE = -1 in C; clang 14 declares the enum unsigned: 0xffffffff
    const blue = c.encode({ ...kitchen, color: 'BLUE' });
    expect(hex(blue.subarray(8, 12))).to.equal('ffffffff');
    expect((c.decode(blue) as Record<string, unknown>).color).to.equal('BLUE');
  });

  it('typed errors name the field path: unknown, missing, out of range, wrong length, wrong type', () => {
    const key = compileCodec(types, types.byName('STRUCT', 'conn_key'), { what: 'key' });
    const k = { saddr: 1, daddr: 2, proto: 17, pad: [0, 0, 0] };
    const fails = (v: unknown, path: string, problem: string) => {
      try {
        key.encode(v);
      } catch (e) {
        expect(e).to.be.instanceOf(CodecError).and.instanceOf(TsbpfError);
        expect((e as CodecError).path).to.equal(path);
        expect((e as CodecError).problem).to.equal(problem);
        return;
      }
      expect.fail(`no error for ${path}`);
    };
    fails({ ...k, port: 1 }, 'key.port', 'unknown field');
    fails({ saddr: 1, daddr: 2, pad: [0, 0, 0] }, 'key.proto', 'missing field');
    fails({ ...k, proto: 256 }, 'key.proto', 'out of range');
    fails({ ...k, saddr: -1 }, 'key.saddr', 'out of range');
    fails({ ...k, saddr: 2 ** 32 }, 'key.saddr', 'out of range');
    fails({ ...k, saddr: 1.5 }, 'key.saddr', 'wrong type');
    fails({ ...k, saddr: '1' }, 'key.saddr', 'wrong type');
    fails({ ...k, pad: [0, 0] }, 'key.pad', 'wrong length');
    fails({ ...k, pad: [0, 0, 300] }, 'key.pad[2]', 'out of range');
    fails(null, 'key', 'wrong type');
    fails([1, 2], 'key', 'wrong type');

    const kc = compileCodec(types, types.byName('STRUCT', 'kitchen'));
    expect(() => kc.encode({ ...kitchen, delta: 64 })).to.throw(CodecError, /value\.delta: out of range.*\[-64, 63\]/);
    expect(() => kc.encode({ ...kitchen, flags: 8 })).to.throw(CodecError, /value\.flags: out of range/);
    expect(() => kc.encode({ ...kitchen, big: -1n })).to.throw(CodecError, /value\.big: out of range/);
    expect(() => kc.encode({ ...kitchen, neg: 2n ** 63n })).to.throw(CodecError, /value\.neg: out of range/);
    expect(() => kc.encode({ ...kitchen, comm: 'much too long' })).to.throw(CodecError, /value\.comm: wrong length/);
    expect(() => kc.encode({ ...kitchen, color: 'PINK' })).to.throw(CodecError, /value\.color: wrong type.*RED, GREEN, BLUE/);
    // a union given twice must say the same bytes twice (a decoded value gives every member)
    expect(() => kc.encode({ ...kitchen, ip6: [9, 2, 3, 4] })).to.throw(CodecError, /value: conflicting members: anonymous union: ip6 gives byte 0 as 0x9, an earlier member as 0x1/);
    expect(hex(kc.encode({ ...kitchen, ip6: [1, 2, 3, 4] }))).to.equal(kitchenHex);
    const { ip4: _, ...noUnion } = kitchen;
    expect(() => kc.encode(noUnion)).to.throw(CodecError, /give one of ip4, ip6/);
    expect(() => kc.encode({ ...kitchen, ok: 2 })).to.throw(CodecError, /value\.ok: out of range/);
  });

  it('encode(decode(bytes)) gives the bytes back for every fixture struct, unions included', () => {
    for (const name of ['conn_key', 'conn_val', 'kitchen']) {
      const id = types.byName('STRUCT', name);
      for (const o of [{}, { strings: true, enumNames: true }]) {
        const c = compileCodec(types, id, o);
        for (const fill of [0x00, 0x01, 0x5a]) {
          const bytes = new Uint8Array(c.size).fill(fill);
          // padding reads back as zeros; the rest must survive the round trip
          const again = c.encode(c.decode(bytes));
          expect(hex(c.encode(c.decode(again))), `${name} ${JSON.stringify(o)} fill ${fill}`).to.equal(hex(again));
          expect(c.decode(again)).to.deep.equal(c.decode(bytes));
        }
      }
    }
  });

  it('char arrays as strings: NUL and lone surrogates refused, bytes that are not UTF-8 decode as numbers', () => {
    const c = compileCodec(types, types.byName('STRUCT', 'kitchen'), { strings: true });
    const bytes = Uint8Array.from(Buffer.from(kitchenHex, 'hex'));
    bytes.set([0xff, 0xfe, 0x41, 0], 12); // comm: not UTF-8
    const v = c.decode(bytes) as Record<string, unknown>;
    expect(v.comm).to.deep.equal([-1, -2, 65, 0, 0, 0, 0, 0]);
    expect(hex(c.encode(v))).to.equal(hex(bytes));
    bytes.set([0xc3, 0xa9], 12); // é
    expect((c.decode(bytes) as Record<string, unknown>).comm).to.equal('\u00e9A');
    expect(() => c.encode({ ...kitchen, comm: 'a\0b' })).to.throw(CodecError, /value\.comm: wrong type: .*cannot contain NUL/);
    expect(() => c.encode({ ...kitchen, comm: '\ud800' })).to.throw(CodecError, /value\.comm: wrong type: .*lone surrogate/);
    expect(hex(c.encode({ ...kitchen, comm: '\u{1f600}' })).slice(24, 40)).to.equal('f09f988000000000');
  });

  it('float: a finite number beyond float\'s range is refused, not stored as infinity', () => {
    const c = compileCodec(types, types.byName('STRUCT', 'kitchen'));
    expect(() => c.encode({ ...kitchen, ratio: 1e39 })).to.throw(CodecError, /value\.ratio: out of range/);
    expect(() => c.encode({ ...kitchen, ratio: -1e39 })).to.throw(CodecError, /value\.ratio: out of range/);
    for (const f of [Infinity, -Infinity, 3.4e38, 1e-50]) {
      const back = c.decode(c.encode({ ...kitchen, ratio: f })) as Record<string, number>;
      expect(back.ratio).to.equal(Math.fround(f));
    }
    expect(Number.isNaN((c.decode(c.encode({ ...kitchen, ratio: NaN })) as Record<string, number>).ratio)).to.equal(true);
  });

  it('scalars: a __u32 key takes a number, 64-bit values bigints', () => {
    const u32 = compileCodec(types, types.byName('TYPEDEF', '__u32'), { what: 'key' });
    expect(hex(u32.encode(0x01020304))).to.equal('04030201');
    expect(u32.decode(Uint8Array.of(1, 0, 0, 0))).to.equal(1);
    const u64 = compileCodec(types, types.byName('TYPEDEF', '__u64'));
    expect(u64.decode(Uint8Array.of(1, 0, 0, 0, 0, 0, 0, 0x80))).to.equal(0x8000000000000001n);
    expect(() => u64.decode(Uint8Array.of(1, 2))).to.throw(CodecError, /wrong length/);
  });

  it('hand-built types: a named union, nested arrays, pointers, unsupported kinds', () => {
    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, { kind: 'int', name: 'unsigned short', size: 2, signed: false, char: false, bool: false, bitOffset: 0, bits: 16 }],
      [2, { kind: 'array', type: 1, count: 2 }],
      [3, { kind: 'array', type: 2, count: 2 }],
      [4, { kind: 'ptr' }],
      [5, { kind: 'union', name: 'u', size: 8, members: [{ name: 'p', type: 4, bitOffset: 0, bitSize: 0 }, { name: 'm', type: 3, bitOffset: 0, bitSize: 0 }] }],
      [6, { kind: 'other', what: 'FUNC_PROTO' }],
    ]);
    const src: CodecTypeSource = { get: (id) => t.get(id)! };
    const u = compileCodec(src, 5);
    expect(hex(u.encode({ m: [[1, 2], [3, 4]] }))).to.equal('0100020003000400');
    expect(u.decode(u.encode({ p: 0x10n }))).to.deep.equal({ p: 0x10n, m: [[0x10, 0], [0, 0]] });
    expect(() => u.encode({ m: [[1, 2], [3]] })).to.throw(CodecError, /value\.m\[1\]: wrong length/);
    expect(() => compileCodec(src, 6)).to.throw(CodecError, /unsupported type/);
  });

  it('bitfields of a 64-bit base type are bigints (wide fields through the bigint path)', () => {
    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, { kind: 'int', name: 'unsigned long long', size: 8, signed: false, char: false, bool: false, bitOffset: 0, bits: 64 }],
      [2, { kind: 'int', name: 'long long', size: 8, signed: true, char: false, bool: false, bitOffset: 0, bits: 64 }],
      [3, { kind: 'struct', name: 'w', size: 8, members: [
        { name: 'lo', type: 1, bitOffset: 0, bitSize: 4 },
        { name: 'wide', type: 2, bitOffset: 4, bitSize: 50 },
        { name: 'hi', type: 1, bitOffset: 54, bitSize: 10 },
      ] }],
    ]);
    const c = compileCodec({ get: (id) => t.get(id)! }, 3);
    const v = { lo: 0xan, wide: -(2n ** 49n), hi: 0x3ffn };
    const b = c.encode(v);
    // lo in bits 0-3, wide (two's complement, 50 bits) in 4-53, hi in 54-63
    const want = 0xan | (BigInt.asUintN(50, -(2n ** 49n)) << 4n) | (0x3ffn << 54n);
    expect(new DataView(b.buffer).getBigUint64(0, true)).to.equal(want);
    expect(c.decode(b)).to.deep.equal(v);
    expect(() => c.encode({ ...v, wide: 2n ** 49n })).to.throw(CodecError, /value\.wide: out of range/);
  });

  it('unions as C has them: an anonymous struct is one choice, a nested anonymous union\'s members are choices', () => {
    const int = (size: number) => ({ kind: 'int' as const, name: 'u', size, signed: false, char: false, bool: false, bitOffset: 0, bits: size * 8 });
    const m = (name: string, type: number, bitOffset = 0) => ({ name, type, bitOffset, bitSize: 0 });
    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, int(4)], [2, int(2)], [3, int(1)],
      [4, { kind: 'union', name: '', size: 2, members: [m('b', 2), m('c', 3)] }],
      [5, { kind: 'union', name: '', size: 4, members: [m('a', 1), m('', 4)] }],
      // struct outer { __u32 tag; union { __u32 a; union { __u16 b; __u8 c; }; }; }
      [6, { kind: 'struct', name: 'outer', size: 8, members: [m('tag', 1), m('', 5, 32)] }],
      // union u { struct { __u16 lo; __u16 hi; }; __u32 all; }
      [7, { kind: 'struct', name: '', size: 4, members: [m('lo', 2), m('hi', 2, 16)] }],
      [8, { kind: 'union', name: 'u', size: 4, members: [m('', 7), m('all', 1)] }],
    ]);
    const src: CodecTypeSource = { get: (id) => t.get(id)! };
    const outer = compileCodec(src, 6);
    expect(hex(outer.encode({ tag: 1, b: 0x0302 }))).to.equal('01000000' + '02030000');
    expect(hex(outer.encode({ tag: 1, a: 0x04030201 }))).to.equal('01000000' + '01020304');
    const d = outer.decode(outer.encode({ tag: 1, a: 0x04030201 }));
    expect(d).to.deep.equal({ tag: 1, a: 0x04030201, b: 0x0201, c: 1 });
    expect(hex(outer.encode(d))).to.equal('01000000' + '01020304');
    expect(() => outer.encode({ tag: 1, a: 0x04030201, c: 2 })).to.throw(CodecError, /conflicting members: anonymous union: c gives byte 0 as 0x2/);
    expect(() => outer.encode({ tag: 1 })).to.throw(CodecError, /value: missing field: anonymous union: give one of a, b, c/);
    const u = compileCodec(src, 8);
    expect(hex(u.encode({ lo: 1, hi: 2 }))).to.equal('01000200');
    expect(hex(u.encode({ all: 0x00020001 }))).to.equal('01000200');
    expect(() => u.encode({ lo: 1 })).to.throw(CodecError, /value\.hi: missing field/);
    expect(u.decode(Uint8Array.of(1, 0, 2, 0))).to.deep.equal({ lo: 1, hi: 2, all: 0x00020001 });
    expect(hex(u.encode({ lo: 1, hi: 2, all: 0x00020001 }))).to.equal('01000200');
    expect(() => u.encode({ lo: 1, hi: 3, all: 0x00020001 })).to.throw(CodecError, /union u: all gives byte 2 as 0x2, an earlier member as 0x3/);
  });

  it('bitfields: width from the INT type when kind_flag is 0, enum bitfields by name, _Bool bitfields as booleans', () => {
    // struct s { unsigned a:3; unsigned b:5; unsigned char c; } the old way: kind_flag 0, nr_bits in the INT
    const blob = new BtfBlob();
    const u3 = blob.type('unsigned int', 1, 0, false, 4, 3);
    const u5 = blob.type('unsigned int', 1, 0, false, 4, 5);
    const u8 = blob.type('unsigned char', 1, 0, false, 1, 8);
    const s = blob.type('s', 4, 3, false, 4, blob.str('a'), u3, 0, blob.str('b'), u5, 3, blob.str('c'), u8, 8);
    const c = compileCodec(btfCodecSource(Btf.parse(blob.build())), s);
    expect(hex(c.encode({ a: 1, b: 2, c: 0x77 }))).to.equal('11770000');
    expect(c.decode(Uint8Array.of(0x11, 0x77, 0, 0))).to.deep.equal({ a: 1, b: 2, c: 0x77 });
    expect(() => c.encode({ a: 0, b: 32, c: 0 })).to.throw(CodecError, /value\.b: out of range.*\[0, 31\]/);
    const out = new Uint8Array(6).fill(0xee);
    c.encodeInto({ a: 1, b: 2, c: 0x77 }, out);
    expect(hex(out)).to.equal('11770000eeee');

    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, { kind: 'enum', name: 'small', size: 4, signed: false, values: [{ name: 'S0', value: 0 }, { name: 'S2', value: 2 }] }],
      [2, { kind: 'int', name: '_Bool', size: 1, signed: false, char: false, bool: true, bitOffset: 0, bits: 8 }],
      [3, { kind: 'enum', name: 'e64', size: 8, signed: false, values: [{ name: 'BIG', value: 0x8000000000000001n }] }],
      // packed enum { P_NEG = -3, P_ONE = 1 }: clang calls it unsigned and records 4294967293
      [4, { kind: 'enum', name: 'pk', size: 1, signed: false, values: [{ name: 'P_NEG', value: 4294967293 }, { name: 'P_ONE', value: 1 }] }],
      [5, { kind: 'struct', name: 'bits', size: 16, members: [
        { name: 'st', type: 1, bitOffset: 0, bitSize: 2 },
        { name: 'flag', type: 2, bitOffset: 2, bitSize: 1 },
        { name: 'pk', type: 4, bitOffset: 8, bitSize: 0 },
        { name: 'big', type: 3, bitOffset: 64, bitSize: 64 },
      ] }],
    ]);
    const e = compileCodec({ get: (id) => t.get(id)! }, 5, { enumNames: true });
    const v = { st: 'S2', flag: true, pk: 'P_NEG', big: 'BIG' };
    const b = e.encode(v);
    expect(hex(b)).to.equal('06fd0000000000000100000000000080');
    expect(e.decode(b)).to.deep.equal(v);
    // a 1-byte enum holding 4294967293 can only mean -3: it reads as C reads it
    expect(compileCodec({ get: (id) => t.get(id)! }, 5).decode(b)).to.deep.equal({ st: 2, flag: true, pk: -3, big: 0x8000000000000001n });
    expect(() => e.encode({ ...v, flag: 2 })).to.throw(CodecError, /value\.flag: out of range/);
    expect(() => e.encode({ ...v, st: 'S9' })).to.throw(CodecError, /value\.st: wrong type.*S0, S2/);
  });

  it('a flexible array member may be left out or given as []', () => {
    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, { kind: 'int', name: 'unsigned int', size: 4, signed: false, char: false, bool: false, bitOffset: 0, bits: 32 }],
      [2, { kind: 'array', type: 1, count: 0 }],
      [3, { kind: 'struct', name: 'flex', size: 4, members: [{ name: 'n', type: 1, bitOffset: 0, bitSize: 0 }, { name: 'data', type: 2, bitOffset: 32, bitSize: 0 }] }],
    ]);
    const c = compileCodec({ get: (id) => t.get(id)! }, 3);
    expect(hex(c.encode({ n: 1 }))).to.equal('01000000');
    expect(c.decode(c.encode({ n: 1, data: [] }))).to.deep.equal({ n: 1, data: [] });
    expect(() => c.encode({ n: 1, data: [1] })).to.throw(CodecError, /value\.data: wrong type/);
  });

  it('user codecs for maps without BTF: sizes checked', () => {
    const c = userCodec<{ x: number }>({ size: 4, encode: (v) => Uint8Array.of(v.x, 0, 0, 0), decode: (b) => ({ x: b[0] }) });
    expect(hex(c.encode({ x: 7 }))).to.equal('07000000');
    expect(c.decode(Uint8Array.of(9, 0, 0, 0))).to.deep.equal({ x: 9 });
    const bad = userCodec<number>({ size: 4, encode: () => new Uint8Array(3), decode: () => 0 });
    expect(() => bad.encode(1)).to.throw(CodecError, /gave 3 bytes, its size is 4/);
    const i16 = intCodec(2, true);
    expect(hex(i16.encode(-2))).to.equal('feff');
    expect(() => i16.encode(40000)).to.throw(CodecError, /out of range/);
    expect(intCodec(8).decode(new Uint8Array(8).fill(255))).to.equal(2n ** 64n - 1n);
    // short input and offsets past the end are typed errors, never a RangeError or a short read
    expect(() => intCodec(4).decode(new Uint8Array(2))).to.throw(CodecError, /value: wrong length: 4 bytes at offset 0 do not fit in 2/);
    expect(() => intCodec(4).decodeAt(new Uint8Array(8), 6)).to.throw(CodecError, /wrong length/);
    expect(() => intCodec(4).encodeInto(1, new Uint8Array(4), 2)).to.throw(CodecError, /wrong length/);
    expect(() => intCodec(3 as 4)).to.throw(CodecError, /1, 2, 4 or 8 bytes, not 3/);
    expect(() => c.decode(Uint8Array.of(1, 2))).to.throw(CodecError, /wrong length/);
    expect(() => c.decodeAt(Uint8Array.of(1, 2, 3, 4), 2)).to.throw(CodecError, /wrong length/);
    expect(() => c.encodeInto({ x: 1 }, new Uint8Array(4), 2)).to.throw(CodecError, /wrong length/);
    const into = new Uint8Array(8);
    c.encodeInto({ x: 5 }, into, 2);
    expect(hex(into)).to.equal('0000050000000000');
  });
});

describe('codec: the awkward C shapes of bpf/codec_shapes.c (clang 14 BTF)', () => {
  const SHAPES = 'bpf/codec_shapes.o';
  let types: ReturnType<typeof objectTypes>;
  before(function () {
    if (!existsSync(SHAPES)) throw new Error(`${SHAPES} missing: run make bpf`);
    types = objectTypes(SHAPES);
  });
  const shape = () => compileCodec<Record<string, unknown>>(types, types.byName('STRUCT', 'shape'), { strings: true, enumNames: true });
  const value = {
    a: 5, cross: 0x1a5, sneg: -7, ebf: 'E32_NEG', flag: true, wide: -0x123456789n,
    u128: (0x0102030405060708n << 64n) | 0x90a0b0c0d0e0f000n, s128: -2n, e1: 'PK_NEG', e2: 'E16_NEG', e4: 'E32_NEG', ok: true,
    lo: 0xbeef, hi: 0xdead, n1: 1, n2: 2, matrix: [[0, 7, 0], [0, 0, 9]], name: 'tsbpf', big: 0xfedcba9876543210n, al: 0xcafe,
    ps: { a: 0xab, b: 0x11223344, c: 0x8000000000000001n }, tail: 0xee,
  };
  // the bytes write_shape stores (checked against the kernel in test/privileged/codec-map.test.ts)
  const bytes = '2d9d9c0100000000' + '7798badcfe000000' + '00f0e0d0c0b0a0900807060504030201' + 'fe' + 'ff'.repeat(15)
    + 'fd00feff' + '9cffffff' + '01000000' + 'efbeadde' + '0102' + '000700000009' + '747362706600' + '0000' + '1032547698badcfe'
    + '0000000000000000' + 'feca0000' + 'ab443322110100000000000080' + 'ee' + '00'.repeat(14);

  it('packed and 4-byte enums with negative enumerators: names, and the C value or BTF\'s value as numbers', () => {
    const c = shape();
    expect(hex(c.encode(value))).to.equal(bytes);
    expect(c.decode(Uint8Array.from(Buffer.from(bytes, 'hex')))).to.deep.equal({ ...value, ip4: 0xdeadbeef, ip6: [0xef, 0xbe, 0xad, 0xde] });
    // the C source's numbers: PK_NEG = -3 (1 byte), E16_NEG = -2, E32_NEG = -100, also as an 8-bit bitfield
    expect(hex(c.encode({ ...value, e1: -3, e2: -2, e4: -100, ebf: -100 }))).to.equal(bytes);
    // BTF's numbers (clang 14 records -100 as 4294967196) are the same bits
    expect(hex(c.encode({ ...value, e1: 253, e4: 4294967196, ebf: 156 }))).to.equal(bytes);
    // a packed enum can only hold 0xfffffffd because it is negative: it reads as C reads it
    const n = compileCodec<Record<string, unknown>>(types, types.byName('STRUCT', 'shape')).decode(Uint8Array.from(Buffer.from(bytes, 'hex')));
    expect([n.e1, n.e2, n.e4, n.ebf]).to.deep.equal([-3, -2, 4294967196, 156]);
    expect(() => c.encode({ ...value, e1: 128 })).to.throw(CodecError, /value\.e1: out of range.*\[-128, 127\]/);
    expect(() => c.encode({ ...value, e4: -101 })).to.throw(CodecError, /value\.e4: out of range/);
    expect(() => c.encode({ ...value, ebf: -101 })).to.throw(CodecError, /value\.ebf: out of range/);
  });

  it('a char array takes its bytes as a Uint8Array (bytes over 0x7f included)', () => {
    const c = shape();
    const name = Buffer.from([0xc3, 0xa9, 0xff, 0x80, 0x41, 0]);
    const b = c.encode({ ...value, name });
    expect(hex(b.subarray(72, 78))).to.equal('c3a9ff804100');
    expect((c.decode(b) as Record<string, unknown>).name).to.deep.equal([-61, -87, -1, -128, 65, 0]);
    expect(() => c.encode({ ...value, name: Buffer.from('abc') })).to.throw(CodecError, /value\.name: wrong length: expected 6 elements, got 3/);
    // a __u8 array too; a _Bool array does not take bytes
    expect(hex(c.encode({ ...value, matrix: [Uint8Array.of(0, 7, 0), Uint8Array.of(0, 0, 9)] }))).to.equal(bytes);
  });

  it('offsets and buffers that are not one are typed errors, never a truncated offset or a TypeError', () => {
    const c = shape();
    const buf = new Uint8Array(300);
    expect(() => c.decodeAt(buf, NaN)).to.throw(CodecError, /value: wrong length: 128 bytes at offset NaN/);
    expect(() => c.decodeAt(buf, 1.5)).to.throw(CodecError, /wrong length/);
    expect(() => c.encodeInto(value, buf, 1.5)).to.throw(CodecError, /wrong length/);
    expect(() => c.decode(new ArrayBuffer(128) as unknown as Uint8Array)).to.throw(CodecError, /value: wrong type: expected a Uint8Array/);
    expect(() => c.encodeInto(value, null as unknown as Uint8Array)).to.throw(CodecError, /value: wrong type/);
  });

  it('encode(decode(bytes)) keeps every byte that is not padding', () => {
    const c = shape();
    // the padding of struct shape (zeroed by encode), from its BTF layout
    const pad = new Set<number>([4, 5, 6, 7, 13, 14, 15, 49, 57, 58, 59, 78, 79, 88, 89, 90, 91, 92, 93, 94, 95, ...Array.from({ length: 14 }, (_, i) => 114 + i)]);
    for (let seed = 1; seed < 40; seed++) {
      const b = new Uint8Array(c.size);
      for (let i = 0; i < b.length; i++) b[i] = (i * 131 + seed * 71) & 0xff;
      b[56] &= 1; // _Bool ok: a C _Bool holds 0 or 1
      b[3] &= 1; // _Bool flag:1 shares its byte with nothing else
      const back = c.encode(c.decode(b));
      for (let i = 0; i < b.length; i++) expect(back[i], `seed ${seed} byte ${i}`).to.equal(pad.has(i) ? 0 : b[i]);
    }
  });

  it('unions with _Bool and float members: a decoded value encodes back to its bytes (NaN payloads, _Bool bytes over 1)', () => {
    const c = compileCodec<Record<string, unknown>>(types, types.byName('STRUCT', 'puns'));
    // f: a signalling NaN; b: the byte 2; d: a NaN with a payload; flag:1 / low:4 over 0b1010
    const bytes = '0100807f' + '02000000' + '010000000000f07f' + '0a00000000000000';
    const v = c.decode(Uint8Array.from(Buffer.from(bytes, 'hex')));
    expect(v).to.deep.equal({ f: NaN, fbits: 0x7f800001, b: true, byte: 2, named: { d: NaN, dbits: 0x7ff0000000000001n }, flag: false, low: 10 });
    expect(hex(c.encode(v))).to.equal(bytes);
    // each member alone still encodes as itself
    expect(hex(c.encode({ f: 1, b: true, named: { d: -1.25 }, flag: true }))).to.equal('0000803f' + '01000000' + '000000000000f4bf' + '0100000000000000');
    // members that disagree are refused, whichever is given first
    expect(() => c.encode({ ...v, b: false })).to.throw(CodecError, /value: conflicting members: anonymous union: the other members' bytes do not read as the b given/);
    expect(() => c.encode({ ...v, f: 1 })).to.throw(CodecError, /conflicting members.*as the f given/);
    expect(() => c.encode({ ...v, named: { d: 0.5, dbits: 1n } })).to.throw(CodecError, /value\.named: conflicting members: union: the other members' bytes do not read as the d given/);
    expect(() => c.encode({ ...v, flag: true })).to.throw(CodecError, /conflicting members.*as the flag given/);
    expect(hex(c.encode({ ...v, f: 1, fbits: 0x3f800000 })).slice(0, 8)).to.equal('0000803f');
  });

  it('a char array starting with a UTF-8 BOM keeps it; a member named __proto__ is a property', () => {
    const c = shape();
    const b = c.encode(value);
    b.set([0xef, 0xbb, 0xbf, 0x41, 0, 0], 72);
    const v = c.decode(b);
    expect(v.name).to.equal('\ufeffA');
    expect(hex(c.encode(v))).to.equal(hex(b));
    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, { kind: 'int', name: 'unsigned int', size: 4, signed: false, char: false, bool: false, bitOffset: 0, bits: 32 }],
      [2, { kind: 'struct', name: 'p', size: 8, members: [{ name: '__proto__', type: 1, bitOffset: 0, bitSize: 0 }, { name: 'x', type: 1, bitOffset: 32, bitSize: 0 }] }],
    ]);
    const p = compileCodec<Record<string, unknown>>({ get: (id) => t.get(id)! }, 2);
    const d = p.decode(Uint8Array.of(1, 0, 0, 0, 2, 0, 0, 0));
    expect(Object.keys(d)).to.deep.equal(['__proto__', 'x']);
    expect(Object.getPrototypeOf(d)).to.equal(Object.prototype);
    expect(hex(p.encode(d))).to.equal('0100000002000000');
  });

  it('a bitfield of an __int128 is a bigint, never a rounded number', () => {
    const t = new Map<number, ReturnType<CodecTypeSource['get']>>([
      [1, { kind: 'int', name: 'unsigned __int128', size: 16, signed: false, char: false, bool: false, bitOffset: 0, bits: 128 }],
      [2, { kind: 'int', name: '__int128', size: 16, signed: true, char: false, bool: false, bitOffset: 0, bits: 128 }],
      // struct w128 { unsigned __int128 lo : 70; __int128 hi : 58; } (clang's BTF)
      [3, { kind: 'struct', name: 'w128', size: 16, members: [{ name: 'lo', type: 1, bitOffset: 0, bitSize: 70 }, { name: 'hi', type: 2, bitOffset: 70, bitSize: 58 }] }],
    ]);
    const c = compileCodec({ get: (id) => t.get(id)! }, 3);
    const all = new Uint8Array(16).fill(0xff);
    expect(c.decode(all)).to.deep.equal({ lo: 2n ** 70n - 1n, hi: -1n });
    expect(hex(c.encode(c.decode(all)))).to.equal(hex(all));
    const v = { lo: 2n ** 69n + 1n, hi: -(2n ** 57n) };
    expect(c.decode(c.encode(v))).to.deep.equal(v);
  });
});

describe('codec: networkOrder (__be16/__be32/__be64 as the numbers they stand for)', () => {
  const int = (name: string, size: number): CodecType => ({ kind: 'int', name, size, signed: false, char: false, bool: false, bitOffset: 0, bits: size * 8 });
  const types: Record<number, CodecType> = {
    1: int('unsigned short', 2), 2: { kind: 'alias', name: '__u16', type: 1 }, 3: { kind: 'alias', name: '__be16', type: 2 },
    4: int('unsigned int', 4), 5: { kind: 'alias', name: '__u32', type: 4 }, 6: { kind: 'alias', name: '__be32', type: 5 },
    7: int('unsigned long long', 8), 8: { kind: 'alias', name: '__u64', type: 7 }, 9: { kind: 'alias', name: '__be64', type: 8 },
    10: { kind: 'alias', type: 3 }, // const __be16
    11: { kind: 'alias', name: 'port_t', type: 10 }, // typedef const __be16 port_t
    12: { kind: 'array', type: 3, count: 2 },
    13: { kind: 'struct', name: 'svc', size: 28, members: [
      { name: 'port', type: 3, bitOffset: 0, bitSize: 0 },
      { name: 'hport', type: 2, bitOffset: 16, bitSize: 0 },
      { name: 'addr', type: 6, bitOffset: 32, bitSize: 0 },
      { name: 'cookie', type: 9, bitOffset: 64, bitSize: 0 },
      { name: 'alias', type: 11, bitOffset: 128, bitSize: 0 },
      { name: 'ports', type: 12, bitOffset: 144, bitSize: 0 },
      { name: 'tail', type: 5, bitOffset: 192, bitSize: 0 },
    ] },
    // a typedef named __be32 over a 2-byte int is not the kernel's __be32: left alone
    14: { kind: 'alias', name: '__be32', type: 1 },
  };
  const src: CodecTypeSource = { get: (id) => types[id] ?? { kind: 'void' } };
  const bytes = Uint8Array.from(Buffer.from('1f90' + '1f90' + '0a000001' + '0000000000000102' + '0035' + '00500bb8' + '0000' + '0a000001', 'hex'));
  const value = { port: 8080, hport: 0x901f, addr: 0x0a000001, cookie: 0x102n, alias: 53, ports: [80, 3000], tail: 0x0100000a };

  it('decodes and encodes them most significant byte first, through typedefs and qualifiers, in arrays; the rest in host order', () => {
    const c = compileCodec(src, 13, { networkOrder: true });
    expect(c.decode(bytes)).to.deep.equal(value);
    expect(hex(c.encode(value))).to.equal(hex(bytes));
    const s = compileCodec(src, 3, { networkOrder: true, what: 'key' });
    expect(s.decode(Uint8Array.from([0x1f, 0x90]))).to.equal(8080);
    expect(hex(s.encode(443))).to.equal('01bb');
    expect(compileCodec(src, 14, { networkOrder: true }).decode(Uint8Array.from([0x1f, 0x90]))).to.equal(0x901f);
  });

  it('without the option the bytes read as the host reads them (bpftool\'s view)', () => {
    const c = compileCodec(src, 13);
    expect(c.decode(bytes)).to.deep.include({ port: 0x901f, addr: 0x0100000a, cookie: 0x0201000000000000n, ports: [0x5000, 0xb80b] });
  });

  it('range checks stay: a port over 65535 is a CodecError naming the field', () => {
    const c = compileCodec(src, 13, { networkOrder: true });
    expect(() => c.encode({ ...value, port: 70000 })).to.throw(CodecError, /value\.port: out of range/);
  });

  it('the examples declare their wire fields __be16/__be32: xdp_lb.o\'s flow key reads its ports as numbers', function () {
    if (!existsSync('bpf/xdp_lb.o')) throw new Error('bpf/xdp_lb.o missing: run make bpf');
    const t = objectTypes('bpf/xdp_lb.o');
    const c = compileCodec(t, t.byName('STRUCT', 'flow'), { networkOrder: true, what: 'key' });
    const key = { saddr: 0x0a000002, daddr: 0x0a000064, sport: 40000, dport: 53, proto: 17, pad: [0, 0, 0] };
    expect(hex(c.encode(key))).to.equal('0a000002' + '0a000064' + '9c40' + '0035' + '11000000');
    expect(c.decode(c.encode(key))).to.deep.equal(key);
  });
});
