// BpfMap with BTF codecs against the kernel: struct keys/values as plain objects, a number for a
// __u32 key, per-CPU values as one value per possible CPU, raw bytes still accepted.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { objectTypes } from '../helpers/object-types.js';
import { BpfMap, possibleCpus } from '../../lib/map/index.js';
import { withBtfCodecs, CodecError } from '../../lib/codec/index.js';
import { loadObject } from '../../lib/object/index.js';
import { existsSync } from 'node:fs';
import { execFileSync } from 'node:child_process';

describe('BpfMap with BTF codecs', () => {
  const open: BpfMap<unknown, unknown>[] = [];
  before(function () { requirePrivileged(this); });
  afterEach(() => { for (const m of open.splice(0)) m.close(); });

  it('conns.lookup({ saddr, daddr, proto: 17, pad: [0, 0, 0] }) → { packets, bytes }', () => {
    const types = objectTypes('bpf/codec_conns.o');
    const raw = BpfMap.create({ type: 'lru_hash', keySize: 12, valueSize: 16, maxEntries: 64, name: 'conns' });
    open.push(raw);
    const conns = withBtfCodecs(raw, types, types.byName('STRUCT', 'conn_key'), types.byName('STRUCT', 'conn_val'));
    const key = { saddr: 0x0a000001, daddr: 0x0a000002, proto: 17, pad: [0, 0, 0] };
    conns.update(key, { packets: 3n, bytes: 180n });
    expect(conns.lookup(key)).to.deep.equal({ packets: 3n, bytes: 180n });
    expect(conns.lookup({ ...key, proto: 6 })).to.equal(undefined);
    // the bytes in the kernel are the C layout
    const k = new Uint8Array(12);
    new DataView(k.buffer).setUint32(0, 0x0a000001, true);
    new DataView(k.buffer).setUint32(4, 0x0a000002, true);
    k[8] = 17;
    expect(Buffer.from(conns.lookupBytes(k)!).toString('hex')).to.equal('0300000000000000b400000000000000');
    expect([...conns.entries()]).to.deep.equal([[key, { packets: 3n, bytes: 180n }]]);
    expect(() => conns.update({ ...key, proto: 300 }, { packets: 1n, bytes: 1n })).to.throw(CodecError, /key\.proto: out of range/);
    expect(() => conns.update(key, { packets: 1n })).to.throw(CodecError, /value\.bytes: missing field/);
  });

  it('a loaded object\'s maps: char arrays as strings and enums by name when loadObject is asked to', () => {
    const kitchen = {
      a: 1, b: -2, flags: 5, level: 17, delta: -3, color: 'GREEN', comm: 'hi', big: 1n, neg: -5n, ratio: 0.5, mean: -1.25, ip4: 0x04030201, ok: true,
    };
    for (const [typedMaps, want] of [
      [{ strings: true, enumNames: true }, { comm: 'hi', color: 'GREEN' }],
      [true, { comm: [104, 105, 0, 0, 0, 0, 0, 0], color: 2 }],
    ] as const) {
      const obj = loadObject('bpf/codec_conns.o', { typedMaps });
      try {
        const m = obj.maps.get('kitchen')!;
        m.update(0, kitchen);
        expect(m.lookup(0)).to.deep.equal({ ...kitchen, ...want, ip6: [1, 2, 3, 4] });
      } finally {
        obj.close();
      }
    }
  });

  it("loadObject({ typedMaps: { networkOrder: true } }): xdp_lb.o's __be16/__be32 flow fields take and give port numbers and addresses; the bytes are network order", () => {
    const obj = loadObject('bpf/xdp_lb.o', { typedMaps: { networkOrder: true } });
    try {
      const flows = obj.maps.get('flows')!;
      const key = { saddr: 0x0a000002, daddr: 0x0a000064, sport: 40000, dport: 53, proto: 17, pad: [0, 0, 0] };
      flows.update(key, { addr: 0xc0a80107, port: 5353, pad: 0 });
      expect(flows.lookup(key)).to.deep.equal({ addr: 0xc0a80107, port: 5353, pad: 0 });
      const k = Buffer.from('0a000002' + '0a000064' + '9c40' + '0035' + '11000000', 'hex');
      expect(Buffer.from(flows.lookupBytes(k)!).toString('hex')).to.equal('c0a80107' + '14e9' + '0000');
      expect(() => flows.update({ ...key, dport: 65536 }, { addr: 1, port: 1, pad: 0 })).to.throw(CodecError, /key\.dport: out of range/);
    } finally {
      obj.close();
    }
  });

  it('per-CPU stats.lookup(0) → one { packets, bytes } per possible CPU', () => {
    const types = objectTypes('bpf/codec_conns.o');
    const raw = BpfMap.create({ type: 'percpu_array', keySize: 4, valueSize: 16, maxEntries: 1, name: 'stats' });
    open.push(raw);
    const stats = withBtfCodecs(raw, types, types.byName('TYPEDEF', '__u32'), types.byName('STRUCT', 'conn_val'));
    const n = possibleCpus();
    const vals = Array.from({ length: n }, (_, c) => ({ packets: BigInt(c + 1), bytes: BigInt(100 * c) }));
    stats.update(0, vals);
    expect(stats.lookup(0)).to.deep.equal(vals);
    // an error in one CPU's value names that CPU's slot
    const bad = vals.map((v, c) => (c === n - 1 ? { ...v, bytes: -1n } : v));
    expect(() => stats.update(0, bad)).to.throw(CodecError, new RegExp(`^value\\[${n - 1}\\]\\.bytes: out of range`));
    expect(stats.lookup(0)).to.deep.equal(vals);
  });

  // C's own view: read_shape reads each field of in[0] into seen[0]; write_shape stores known values
  // into made[0]. clang 14's BTF has no signed enums; clang 19's has (and ENUM64).
  for (const path of ['bpf/codec_shapes.o', 'bpf/build/clang19/codec_shapes.o']) {
    it(`${path}: the program reads what the user wrote, the user reads what the program wrote`, function () {
      if (!existsSync(path)) this.skip();
      const value = {
        a: 5, cross: 0x1a5, sneg: -7, ebf: 'E32_NEG', flag: true, wide: -0x123456789n,
        u128: (0x0102030405060708n << 64n) | 0x90a0b0c0d0e0f000n, s128: -2n, e1: 'PK_NEG', e2: 'E16_NEG', e4: 'E32_NEG', ok: true,
        lo: 0xbeef, hi: 0xdead, n1: 1, n2: 2, matrix: [[0, 7, 0], [0, 0, 9]], name: 'tsbpf', big: 0xfedcba9876543210n, al: 0xcafe,
        ps: { a: 0xab, b: 0x11223344, c: 0x8000000000000001n }, tail: 0xee,
      };
      const obj = loadObject(path, { typedMaps: { strings: true, enumNames: true } });
      try {
        const run = (name: string) => expect(obj.programs.get(name)!.testRun({ data: new Uint8Array(64) }).retval).to.equal(2); // XDP_PASS
        // the C source's numbers for the enums (PK_NEG = -3, E32_NEG = -100) mean the same
        for (const v of [value, { ...value, e1: -3, e2: -2, e4: -100, ebf: -100 }]) {
          obj.map('in').update(0, v);
          run('read_shape');
          expect(obj.map('seen').lookup(0)).to.deep.equal({
            a: 5n, cross: 0x1a5n, sneg: -7n, ebf: -100n, flag: 1n, wide: -0x123456789n, u128_lo: 0x90a0b0c0d0e0f000n, u128_hi: 0x0102030405060708n,
            s128_lo: 2n ** 64n - 2n, s128_hi: -1n, e1: -3n, e2: -2n, e4: -100n, ok: 1n, ip4: 0xdeadbeefn, lo: 0xbeefn, hi: 0xdeadn, n1: 1n, n2: 2n,
            m12: 9n, name0: 116n, name5: 0n, big: 0xfedcba9876543210n, al: 0xcafen, ps_a: 0xabn, ps_b: 0x11223344n, ps_c: 0x8000000000000001n, tail: 0xeen,
          });
        }
        run('write_shape');
        const made = obj.map('made');
        expect(made.lookup(0)).to.deep.equal({ ...value, ip4: 0xdeadbeef, ip6: [0xef, 0xbe, 0xad, 0xde] });
        const raw = made.lookupBytes(Uint8Array.of(0, 0, 0, 0))!;
        expect(Buffer.from(made.valueCodec!.encode(made.lookup(0))).equals(raw)).to.equal(true);
        // bpftool's formatted view: strings, enum names, bitfields as their raw bits
        const dump = JSON.parse(execFileSync('bpftool', ['-j', 'map', 'dump', 'id', String(made.info().id)], { encoding: 'utf8' })) as { formatted: { value: Record<string, unknown> } }[];
        const f = dump[0].formatted.value;
        expect([f.name, f.e1, f.e2, f.e4, f.matrix]).to.deep.equal(['tsbpf', 'PK_NEG', 'E16_NEG', 'E32_NEG', value.matrix]);
        expect([f.a, f.cross, f.sneg, f.ebf, f.wide]).to.deep.equal(['0x5', '0x1a5', '0x9', '0x9c', `0x${BigInt.asUintN(40, value.wide).toString(16)}`]);
      } finally {
        obj.close();
      }
    });
  }
});
