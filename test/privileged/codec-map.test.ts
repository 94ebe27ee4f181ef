// BpfMap with BTF codecs against the kernel: struct keys/values as plain objects, a number for a
// __u32 key, per-CPU values as one value per possible CPU, raw bytes still accepted.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { objectTypes } from '../helpers/object-types.js';
import { BpfMap, possibleCpus } from '../../lib/map/index.js';
import { withBtfCodecs, CodecError } from '../../lib/codec/index.js';
import { loadObject } from '../../lib/object/index.js';

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
});
