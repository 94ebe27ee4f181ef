// BpfMap against the kernel: create by type name, element operations and their typed errors,
// iteration (batch and next-key) under concurrent deletion, per-CPU values, pins, ids, codecs.
import { expect } from 'chai';
import path from 'node:path';
import { readdirSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { BpfMap, possibleCpus, type Codec } from '../../lib/map/index.js';
import { BpfArgumentError, ClosedError, KeyExistsError, NotBpffsError, BpfError } from '../../lib/syscall/errors.js';
import { ffi } from '../../lib/syscall/backend.js';

const u32 = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
const u64 = (n: bigint) => new Uint8Array(new BigUint64Array([n]).buffer);
const rdU32 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getUint32(0, true);
const rdU64 = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.byteLength).getBigUint64(0, true);
const openFds = () => readdirSync('/proc/self/fd').length;
const rnd = () => `t${Math.random().toString(36).slice(2, 10)}`;

describe('BpfMap', () => {
  const maps: BpfMap<unknown, unknown>[] = [];
  const track = <T extends BpfMap<any, any>>(m: T) => { maps.push(m as BpfMap<unknown, unknown>); return m; };
  let fdsBefore = 0;
  before(function () { requirePrivileged(this); fdsBefore = openFds(); });
  afterEach(() => { for (const m of maps.splice(0)) m.close(); });
  after(() => { if (fdsBefore) expect(openFds(), 'fds left open').to.be.at.most(fdsBefore); });

  it('creates a hash map by type name; lookup/update/delete with the three update flags', () => {
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: rnd() }));
    expect(m.lookup(u32(1))).to.equal(undefined);
    m.update(u32(1), u64(10n));
    expect(rdU64(m.lookup(u32(1))!)).to.equal(10n);
    expect(() => m.update(u32(1), u64(11n), 'noexist')).to.throw(KeyExistsError);
    m.update(u32(1), u64(12n), 'exist');
    expect(() => m.update(u32(2), u64(1n), 'exist')).to.throw(BpfError).with.property('errno', 'ENOENT');
    expect(rdU64(m.lookup(1)!)).to.equal(12n); // a number key for a 4-byte key
    const out = new Uint8Array(8);
    expect(m.lookupInto(u32(1), out)).to.equal(true);
    expect(rdU64(out)).to.equal(12n);
    expect(m.lookupInto(u32(99), out)).to.equal(false);
    expect(() => m.lookupInto(u32(1), new Uint8Array(4))).to.throw(BpfArgumentError, /output buffer/);
    expect(rdU64(m.lookupAndDelete(u32(1))!)).to.equal(12n);
    expect(m.delete(u32(1))).to.equal(false);
    const info = m.info();
    expect(info).to.include({ typeName: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: m.name });
  });

  it('keeps element operations off the native allocator (flat hot path)', () => {
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 64 }));
    const backend = ffi() as { alloc: (n: number) => unknown };
    const alloc = backend.alloc;
    let calls = 0;
    backend.alloc = (n: number) => { calls++; return alloc.call(backend, n); };
    try {
      const out = new Uint8Array(8);
      for (let i = 0; i < 500; i++) {
        m.update(u32(i & 63), u64(BigInt(i)));
        m.lookup(u32(i & 63));
        m.lookupInto(u32(i & 63), out);
        if (i % 2) m.delete(u32(i & 63));
        m.nextKey(u32(i & 63));
      }
    } finally {
      backend.alloc = alloc;
    }
    expect(calls).to.equal(0);
  });

  it('checks key and value lengths, type names and closed maps before any syscall', () => {
    const m = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2 }));
    expect(() => m.lookup(new Uint8Array(3))).to.throw(BpfArgumentError, /key is 3 bytes.*4-byte keys/);
    expect(() => m.update(u32(0), new Uint8Array(5))).to.throw(BpfArgumentError, /value is 5 bytes/);
    expect(() => m.update(u32(0), u32(1), 'sometimes' as 'any')).to.throw(BpfArgumentError);
    expect(() => BpfMap.create({ type: 'hashy', keySize: 4, valueSize: 4, maxEntries: 1 })).to.throw(BpfArgumentError, /unknown map type "hashy"/);
    // what the kernel refuses comes back with the shape that was asked for
    expect(() => BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 0, name: 'zero' }))
      .to.throw(BpfError, /MAP_CREATE: EINVAL .*hash map zero \(key_size 4, value_size 4, max_entries 0/);
    m.close();
    expect(() => m.lookup(u32(0))).to.throw(ClosedError);
    expect(() => [...m.entries()]).to.throw(ClosedError);
    m.close();
  });

  it('takes integer keys as the bytes of a C integer and refuses the ones that do not fit', () => {
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8 }));
    m.update(7, u64(70n));
    expect(rdU64(m.lookup(u32(7))!)).to.equal(70n);
    m.update(-1, u64(1n)); // two's complement, as (__u32)-1 in C
    expect(rdU64(m.lookup(u32(0xffffffff))!)).to.equal(1n);
    expect(rdU64(m.lookup(0xffffffff)!)).to.equal(1n);
    m.update(9n, u64(90n));
    expect(rdU64(m.lookup(u32(9))!)).to.equal(90n);
    for (const bad of [2 ** 32, -(2 ** 31) - 1, 1.5, NaN, 2n ** 32n]) {
      for (const op of [() => m.lookup(bad), () => m.update(bad, u64(0n)), () => m.delete(bad), () => m.lookupInto(bad, new Uint8Array(8))]) {
        expect(op).to.throw(BpfArgumentError, /key .* is not an integer that fits 4 bytes \(-2147483648\.\.4294967295\)/);
      }
    }
    // nothing was written by the refused calls (2^32 would have been key 0 if truncated)
    expect(m.lookup(0)).to.equal(undefined);
    expect([...m.keys()].length).to.equal(3);

    const m2 = track(BpfMap.create({ type: 'hash', keySize: 2, valueSize: 4, maxEntries: 4 }));
    m2.update(0xffff, u32(5));
    expect(() => m2.update(0x10000, u32(5))).to.throw(BpfArgumentError, /fits 2 bytes/);
    const m8 = track(BpfMap.create({ type: 'hash', keySize: 8, valueSize: 4, maxEntries: 4 }));
    m8.update(2n ** 64n - 1n, u32(1));
    expect(rdU32(m8.lookup(-1)!)).to.equal(1);
    m8.update(2 ** 40, u32(2));
    expect(rdU32(m8.lookup(u64(2n ** 40n))!)).to.equal(2);
    expect(() => m8.lookup(2n ** 64n)).to.throw(BpfArgumentError, /fits 8 bytes/);
    const m3 = track(BpfMap.create({ type: 'hash', keySize: 3, valueSize: 4, maxEntries: 4 }));
    expect(() => m3.lookup(1)).to.throw(BpfArgumentError, /1, 2, 4 or 8-byte key/);
    m.close();
    expect(() => m.lookup(7)).to.throw(ClosedError);
    expect(() => m.update(7, u64(0n))).to.throw(ClosedError);
  });

  for (const [type, n] of [['hash', 3000], ['lru_hash', 500], ['array', 300], ['percpu_hash', 200]] as const) {
    it(`iterates every entry of a ${type} map (entries, keys)`, () => {
      // An LRU map can evict before it is full: each CPU takes free nodes from the shared list 128 at a
      // time (LOCAL_FREE_TARGET), and a CPU that finds the shared list empty evicts rather than use
      // another CPU's spare nodes. A fill that migrated between the CPUs lost 125 of 500 this way.
      const room = type === 'lru_hash' ? n + 128 * possibleCpus() : n;
      const m = track(BpfMap.create({ type, keySize: 4, valueSize: 4, maxEntries: room }));
      for (let i = 0; i < n; i++) m.update(u32(i), type === 'percpu_hash' ? Array.from({ length: possibleCpus() }, (_, c) => u32(i + c)) : u32(i * 2));
      const got = new Map<number, unknown>();
      for (const [k, v] of m.entries()) got.set(rdU32(k as Uint8Array), v);
      expect(got.size).to.equal(n);
      for (const [k, v] of got) {
        if (type === 'percpu_hash') expect((v as Uint8Array[]).map(rdU32)).to.deep.equal(Array.from({ length: possibleCpus() }, (_, c) => k + c));
        else expect(rdU32(v as Uint8Array)).to.equal(k * 2);
      }
      expect([...m.keys()].length).to.equal(n);
    });
  }

  for (const valueSize of [8, 100]) {
    it(`entries kept from a walk of several batch chunks stay intact (${valueSize}-byte values)`, () => {
      // more entries than one 1 MiB chunk holds: entries of earlier chunks must not change when the
      // batch area is refilled (small entries are copied out, big ones are views into a chunk copy)
      const n = valueSize === 8 ? 150000 : 12000;
      const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize, maxEntries: n }));
      const keys = new Uint8Array(n * 4);
      const values = new Uint8Array(n * valueSize);
      const kv = new DataView(keys.buffer);
      const vv = new DataView(values.buffer);
      for (let i = 0; i < n; i++) { kv.setUint32(i * 4, i, true); vv.setUint32(i * valueSize, i ^ 0x5a5a5a5a, true); vv.setUint32(i * valueSize + valueSize - 4, i, true); }
      m.updateBatch(keys, values);
      const all = [...m.entries()] as [Uint8Array, Uint8Array][];
      expect(all).to.have.length(n);
      const seen = new Set<number>();
      const wrong: string[] = [];
      for (const [k, v] of all) {
        const key = rdU32(k);
        seen.add(key);
        const d = new DataView(v.buffer, v.byteOffset, v.byteLength);
        if (v.length !== valueSize || d.getUint32(0, true) !== ((key ^ 0x5a5a5a5a) >>> 0) || d.getUint32(valueSize - 4, true) !== key) wrong.push(`key ${key}: ${[...v.subarray(0, 8)]}`);
      }
      expect(wrong.slice(0, 5)).to.deep.equal([]);
      expect(seen.size).to.equal(n);
    });
  }

  it('keeps iterating when entries are deleted during the walk', () => {
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 2000 }));
    for (let i = 0; i < 2000; i++) m.update(u32(i), u32(i));
    const seen = new Set<number>();
    for (const [k] of m.entries()) {
      const key = rdU32(k);
      expect(seen.has(key), `key ${key} twice`).to.equal(false);
      seen.add(key);
      m.delete(k); // the current one
      m.delete(u32((key + 1000) % 2000)); // and another one, maybe not yet seen
    }
    expect(seen.size).to.be.within(1000, 2000);
    expect([...m.keys()]).to.have.length(0);
  });

  it('walks with GET_NEXT_KEY when the map type has no batch ops, surviving deletion of the current key', () => {
    const inner = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }));
    const outer = track(BpfMap.create({ type: 'hash_of_maps', keySize: 4, valueSize: 4, maxEntries: 8, innerMap: inner }));
    for (let i = 0; i < 5; i++) outer.update(u32(i), inner);
    const keys: number[] = [];
    for (const k of outer.keys()) { keys.push(rdU32(k)); outer.delete(k); }
    expect(keys.sort()).to.deep.equal([0, 1, 2, 3, 4]);
  });

  it('pushes, peeks and pops queues (FIFO) and stacks (LIFO), which have no keys', () => {
    const q = track(BpfMap.create({ type: 'queue', valueSize: 4, maxEntries: 4 }));
    const st = track(BpfMap.create({ type: 'stack', valueSize: 4, maxEntries: 4 }));
    for (const m of [q, st]) for (const n of [1, 2, 3]) m.push(u32(n));
    expect(rdU32(q.peek()!)).to.equal(1);
    expect([q.pop(), q.pop(), q.pop()].map((v) => rdU32(v!))).to.deep.equal([1, 2, 3]);
    expect([st.pop(), st.pop(), st.pop()].map((v) => rdU32(v!))).to.deep.equal([3, 2, 1]);
    expect(q.pop()).to.equal(undefined);
    expect(st.peek()).to.equal(undefined);
    expect(() => [...q.entries()]).to.throw(BpfArgumentError, /no keys to walk/);
  });

  it('gives per-CPU maps one value per possible CPU and checks the count', () => {
    const cpus = possibleCpus();
    const m = track(BpfMap.create({ type: 'percpu_array', keySize: 4, valueSize: 4, maxEntries: 1 }));
    expect(m.valueBytes).to.equal(8 * cpus); // 4-byte values in 8-byte slots
    m.update(0, Array.from({ length: cpus }, (_, c) => u32(100 + c)));
    expect((m.lookup(0) as unknown as Uint8Array[]).map(rdU32)).to.deep.equal(Array.from({ length: cpus }, (_, c) => 100 + c));
    expect(() => m.update(0, [...Array.from({ length: cpus }, () => u32(1)), u32(1)])).to.throw(BpfArgumentError, /needs \d+ entries/);
    expect(() => m.update(0, u32(1))).to.throw(BpfArgumentError, /per-CPU/);
    // each CPU's bytes must be one value: a longer one would spill into the next CPU's slot
    const slots = (f: (c: number) => Uint8Array) => Array.from({ length: cpus }, (_, c) => f(c));
    expect(() => m.update(0, slots((c) => new Uint8Array(c === cpus - 1 ? 8 : 4)))).to.throw(BpfArgumentError, new RegExp(`value\\[${cpus - 1}\\] is 8 bytes, map has 4-byte values`));
    expect(() => m.update(0, slots(() => Uint8Array.of(1, 2)))).to.throw(BpfArgumentError, /value\[0\] is 2 bytes/);
    expect((m.lookup(0) as unknown as Uint8Array[]).map(rdU32)).to.deep.equal(Array.from({ length: cpus }, (_, c) => 100 + c));

  });

  it('does explicit batch lookup, update and delete', () => {
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 64 }));
    const keys = new Uint8Array(40 * 4); const vals = new Uint8Array(40 * 4);
    for (let i = 0; i < 40; i++) { keys.set(u32(i), i * 4); vals.set(u32(i + 7), i * 4); }
    expect(m.updateBatch(keys, vals)).to.equal(40);
    let total = 0; let cursor: Uint8Array | undefined; let rounds = 0;
    do { const c = m.lookupBatch({ cursor, count: 16 }); total += c.count; cursor = c.cursor; } while (cursor && ++rounds < 50);
    expect(total).to.equal(40);
    expect(() => m.lookupBatch({ count: 1.5 })).to.throw(BpfArgumentError, /count must be a positive integer/);
    expect(m.deleteBatch(keys.subarray(0, 80))).to.equal(20);
    expect([...m.keys()]).to.have.length(20);
  });

  it('batch lookup into the caller\'s buffers: every entry once, no arrays of its own, sizes checked', () => {
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 300, name: 'into' }));
    const keys = new Uint8Array(300 * 4); const vals = new Uint8Array(300 * 8);
    for (let i = 0; i < 300; i++) { keys.set(u32(i), i * 4); vals.set(u64(BigInt(i) * 3n), i * 8); }
    m.updateBatch(keys, vals);
    const kb = new Uint8Array(64 * 4); const vb = new Uint8Array(64 * 8);
    const got = new Map<number, bigint>();
    let cursor: Uint8Array | undefined; let calls = 0;
    do {
      const c = m.lookupBatch({ cursor, count: 64, keys: kb, values: vb });
      expect(c.keys.buffer).to.equal(kb.buffer);
      expect(c.values.buffer).to.equal(vb.buffer);
      expect(c.keys.length).to.equal(c.count * 4);
      for (let i = 0; i < c.count; i++) got.set(rdU32(c.keys.subarray(i * 4, i * 4 + 4)), rdU64(c.values.subarray(i * 8, i * 8 + 8)));
      cursor = c.cursor;
    } while (cursor && ++calls < 100);
    expect(got.size).to.equal(300);
    for (const [k, v] of got) expect(v).to.equal(BigInt(k) * 3n);
    expect(() => m.lookupBatch({ count: 64, keys: kb.subarray(4), values: vb })).to.throw(BpfArgumentError, /MAP_LOOKUP_BATCH: keys buffer needs 256 bytes for 64 keys, got 252 for map into/);
    expect(() => m.lookupBatch({ count: 64, keys: kb, values: vb.subarray(8) })).to.throw(BpfArgumentError, /values buffer needs 512 bytes for 64 values, got 504/);
    expect(() => m.lookupBatch({ count: 64, keys: kb })).to.throw(BpfArgumentError, /keys and values buffers go together/);
    // and-delete into the same buffers takes entries out
    const first = m.lookupBatch({ count: 64, keys: kb, values: vb, andDelete: true });
    expect(first.count).to.be.greaterThan(0);
    expect([...m.keys()]).to.have.length(300 - first.count);
  });

  it('freezes, pins and opens from the pin and from the id', function () {
    let fs: TestBpffs | undefined;
    try {
      fs = createTestBpffs();
      const m = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1, name: rnd() }));
      m.update(0, u32(77));
      m.freeze();
      expect(() => m.update(0, u32(78))).to.throw(BpfError).with.property('errno', 'EPERM');
      const p = path.join(fs.dir, m.name);
      m.pin(p);
      const a = track(BpfMap.fromPin(p));
      expect(rdU32(a.lookup(0)!)).to.equal(77);
      expect(a.name).to.equal(m.name);
      const b = track(BpfMap.fromId(m.info().id));
      expect(rdU32(b.lookup(0)!)).to.equal(77);
      expect(() => m.pin('/tmp/not-bpffs')).to.throw(NotBpffsError);
    } finally {
      fs?.cleanup();
    }
  });

  it('speaks JS values through codecs and still takes raw bytes', () => {
    const num: Codec<number> = { encode: (n) => u32(n), decode: (b) => rdU32(b) };
    const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4 }).withCodecs({ key: num, value: num }));
    m.update(5, 50);
    m.update(u32(6), u32(60));
    expect(m.lookup(5)).to.equal(50);
    expect(m.lookup(u32(6))).to.equal(60);
    expect(new Map(m.entries())).to.deep.equal(new Map([[5, 50], [6, 60]]));
  });

  describe('bad input (each once silently wrong, a crash or a leaked RangeError/TypeError)', () => {
    it('lookupBatch: a huge count is sized safely (it wrapped at 2^32 bytes and the kernel wrote past the buffer); cursors are checked', () => {
      const m = track(BpfMap.create({ type: 'hash', keySize: 4096, valueSize: 4, maxEntries: 4, name: rnd() }));
      const key = new Uint8Array(4096).fill(0xaa);
      m.update(key, u32(0x11223344));
      for (const count of [2 ** 20, 2 ** 30, 2 ** 32 - 1]) {
        const c = m.lookupBatch({ count });
        expect(c.count, String(count)).to.equal(1);
        expect(c.keys.every((b) => b === 0xaa), String(count)).to.equal(true);
        expect(rdU32(c.values)).to.equal(0x11223344);
      }
      for (const cursor of [new Uint8Array(0), new Uint8Array(4095), [0, 0, 0, 0, 0, 0, 0, 0], 5]) {
        expect(() => m.lookupBatch({ cursor: cursor as never }), String(cursor)).to.throw(BpfArgumentError, /cursor must be the 4096-byte cursor a previous lookupBatch\(\) returned/);
      }
    });

    it('a map whose Fd was closed behind its back is closed (its fd number soon names another map)', () => {
      const a = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 8, name: rnd() }));
      a.fd.close();
      const b = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 8, name: rnd() }));
      expect(a.closed).to.equal(true);
      expect(() => a.update(7, u32(0x41414141))).to.throw(ClosedError);
      expect(() => a.info()).to.throw(ClosedError);
      expect(rdU32(b.lookup(7)!)).to.equal(0);
      // two BpfMaps on one Fd: closing either closes both
      const c = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 8, name: rnd() }));
      BpfMap.fromFd(c.fd).close();
      expect(() => c.lookup(0)).to.throw(ClosedError);
    });

    it('flags, ids, options and paths are checked, never truncated or coerced', function () {
      const m = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 8, name: rnd() }));
      m.update(1, u32(1));
      for (const flag of ['constructor', '__proto__', NaN, 1.5, 2 ** 32 + 1, -1]) {
        expect(() => m.update(1, u32(2), flag as never), String(flag)).to.throw(BpfArgumentError, /update flag .* is not 'any', 'noexist', 'exist' or a BPF_\* flags number/);
      }
      for (const flag of ['exist', 0.5, NaN]) expect(() => m.lookup(1, flag as never), String(flag)).to.throw(BpfArgumentError, /lookup flags must be/);
      expect(() => m.updateBatch(u32(5), u32(5), 'noexist' as never)).to.throw(BpfArgumentError, /the kernel takes only 'any' or BPF_F_LOCK for a batch/);
      expect(m.lookup(5)).to.equal(undefined);
      expect(() => m.updateBatch(null as never, u32(5))).to.throw(BpfArgumentError, /keys must be a Uint8Array/);
      expect(() => m.lookupAndDelete()).to.throw(BpfArgumentError, /hash map .* needs a key \(only queues and stacks pop without one\)/);
      const id = m.info().id;
      for (const bad of [id + 2 ** 32, id + 0.5, String(id), -1]) expect(() => BpfMap.fromId(bad as never), String(bad)).to.throw(BpfArgumentError, /map id must be an integer/);
      const create = (o: object) => () => track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, ...o } as never));
      expect(create({ type: undefined })).to.throw(BpfArgumentError, /unknown map type undefined/);
      expect(create({ flags: 1.5 })).to.throw(BpfArgumentError, /flags must be a u32, got 1.5/);
      expect(create({ flags: '1' })).to.throw(BpfArgumentError, /flags must be a u32, got "1"/);
      expect(create({ name: 12345 })).to.throw(BpfArgumentError, /map name 12345/);
      expect(create({ type: 'bloom_filter', keySize: 0, mapExtra: 1.5 })).to.throw(BpfArgumentError, /mapExtra must be a u64/);
      expect(create({ type: 'array_of_maps', innerMap: 3 })).to.throw(BpfArgumentError, /innerMap must be a BpfMap or an Fd/);
      expect(create({ type: 'array', valueSize: 2 ** 31 - 8 })).to.throw(BpfArgumentError, /valueSize 2147483640 is more than one value can take here/);
      expect(() => BpfMap.fromFd(3 as never)).to.throw(BpfArgumentError, /expected an Fd/);
      // numaNode is read only with BPF_F_NUMA_NODE: given, the flag goes with it
      const numa = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1, numaNode: 0 }));
      expect(numa.info().mapFlags & 4).to.equal(4);
      let fs: TestBpffs | undefined;
      try {
        fs = createTestBpffs();
        expect(() => m.pin(`${fs!.dir}/a\0b`)).to.throw(BpfArgumentError, /contains a NUL byte/);
        expect(readdirSync(fs.dir).filter((n) => !n.endsWith('.debug'))).to.deep.equal([]);
        expect(() => BpfMap.fromPin(null as never)).to.throw(BpfArgumentError, /path must be a non-empty string/);
        expect(() => m.pin(`${fs!.dir}/my.map`)).to.throw(BpfArgumentError, /bpffs refuses names with a '.'/);
        expect(() => m.pin(`${fs!.dir}/no/such/dir/m`)).to.throw(BpfArgumentError, new RegExp(`directory ${fs.dir}/no/such/dir does not exist \\(create it on the bpffs at ${fs.dir} first\\)`));
      } finally {
        fs?.cleanup();
      }
      // frozen: a second freeze and a batch say so
      const a = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2, name: rnd() }));
      a.freeze();
      expect(() => a.freeze()).to.throw(BpfError, /is frozen already, or was opened read-only/);
      expect(() => a.updateBatch(new Uint8Array(8), new Uint8Array(8))).to.throw(BpfError, /refused before the first of 2 entries: none written/);
    });

    it('devmap and cpumap values are interface indexes and queue sizes, not fds; sockmap takes a u64 fd', () => {
      const other = track(BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 }));
      const cpumap = track(BpfMap.create({ type: 'cpumap', keySize: 4, valueSize: 4, maxEntries: 1, name: rnd() }));
      expect(() => cpumap.update(0, other)).to.throw(BpfArgumentError, /a cpumap map .* holds queue sizes, not fds/);
      const devmap = track(BpfMap.create({ type: 'devmap', keySize: 4, valueSize: 4, maxEntries: 1, name: rnd() }));
      expect(() => devmap.update(0, other.fd)).to.throw(BpfArgumentError, /holds interface indexes, not fds/);
      const sock = track(BpfMap.create({ type: 'sockmap', keySize: 4, valueSize: 8, maxEntries: 1 }));
      const bytes = sock.encodeValue(other.fd);
      expect(bytes.length).to.equal(8);
      expect(rdU64(bytes)).to.equal(BigInt(other.fd.value));
    });

    it('bloom filters answer contains(value); peek() and lookup() would test stale bytes', () => {
      const bloom = track(BpfMap.create({ type: 'bloom_filter', keySize: 0, valueSize: 4, maxEntries: 64, name: rnd() }));
      bloom.push(u32(0xaaaaaaaa));
      expect(bloom.contains(u32(0xaaaaaaaa))).to.equal(true);
      expect(bloom.contains(u32(0x55555555))).to.equal(false);
      expect(() => bloom.peek()).to.throw(BpfArgumentError, /peek\(\) on a bloom filter .*: ask contains\(value\)/);
      expect(() => bloom.lookupInto(new Uint8Array(0), new Uint8Array(4))).to.throw(BpfArgumentError, /lookup\(\) on a bloom filter/);
      const hash = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 1 }));
      expect(() => hash.contains(u32(1))).to.throw(BpfArgumentError, /contains\(\) is for bloom filters/);
    });
  });
});
