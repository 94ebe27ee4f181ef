// BpfMap against libbpf (bench/c/map_ops.c): single-element lookup/update on array and hash maps,
// and walking a 100k-entry hash map with entries() (batch) and with next-key + lookup.
import { BpfMap } from '../../lib/map/index.js';
import { ffi } from '../../lib/syscall/backend.js';
import { SYS } from '../../lib/syscall/numbers.js';
import { MAP_ELEM_ATTR } from '../../lib/syscall/attr.js';
import { BPF_CMD } from '../../lib/syscall/types.js';
import { measure, type BenchCase } from '../lib/case.js';
import { BIG, PIN_ENV, fillHash100k } from '../lib/shared-map.js';
let sink = 0;

function small(type: 'array' | 'hash'): BpfMap<Uint8Array, Uint8Array> {
  const m = BpfMap.create({ type, keySize: 4, valueSize: 8, maxEntries: 1024 });
  const v = new Uint8Array(8);
  for (let k = 0; k < 1024; k++) m.update(u32(k), v);
  return m;
}

function u32(n: number): Uint8Array {
  return new Uint8Array(new Uint32Array([n]).buffer);
}

function lookupCase(type: 'array' | 'hash'): BenchCase {
  return {
    id: `${type}_lookup`,
    title: `${type} lookup (4-byte key, 8-byte value)`,
    targets: [{ max: 1.1, label: '≤ 1.10× C' }],
    run() {
      const m = small(type);
      // keys prepared up front, as a C caller has its key in a variable
      const keys = Array.from({ length: 1024 }, (_, i) => u32(i));
      try {
        return measure((ops) => {
          for (let i = 0; i < ops; i++) sink += m.lookup(keys[i & 1023])!.length;
        }, 200000);
      } finally {
        m.close();
      }
    },
  };
}

// the C-shaped lookup: the value lands in a buffer the caller owns (no allocation per call)
function lookupIntoCase(type: 'array' | 'hash'): BenchCase {
  return {
    id: `${type}_lookup_into`,
    title: `${type} lookupInto (caller's buffer, like bpf_map_lookup_elem)`,
    ref: `${type}_lookup`,
    targets: [{ ref: `${type}_lookup`, max: 1.1, label: '≤ 1.10× C' }],
    run() {
      const m = small(type);
      const keys = Array.from({ length: 1024 }, (_, i) => u32(i));
      const out = new Uint8Array(8);
      try {
        return measure((ops) => {
          for (let i = 0; i < ops; i++) if (m.lookupInto(keys[i & 1023], out)) sink += out[0];
        }, 200000);
      } finally {
        m.close();
      }
    },
  };
}

function updateCase(type: 'array' | 'hash'): BenchCase {
  return {
    id: `${type}_update`,
    title: `${type} update`,
    targets: [{ max: 1.1, label: '≤ 1.10× C' }],
    run() {
      const m = small(type);
      const keys = Array.from({ length: 1024 }, (_, i) => u32(i));
      const value = new Uint8Array(8);
      const dv = new DataView(value.buffer);
      try {
        return measure((ops) => {
          for (let i = 0; i < ops; i++) {
            dv.setUint32(0, i, true);
            m.update(keys[i & 1023], value);
          }
        }, 200000);
      } finally {
        m.close();
      }
    },
  };
}

// the 100k map the C and Go baselines walk too (pinned by bench/run.ts), else one made for this
// process; shared by the walk cases so they read the same kernel memory
let shared: BpfMap<Uint8Array, Uint8Array> | undefined;
function bigMap(): BpfMap<Uint8Array, Uint8Array> {
  const pin = process.env[PIN_ENV];
  shared ??= pin ? BpfMap.fromPin(pin) : fillHash100k();
  return shared;
}

const entriesCase: BenchCase = {
  id: 'hash100k_entries',
  title: 'entries() over a 100k hash map (per entry)',
  ref: 'hash100k_batch_dump',
  targets: [
    { ref: 'hash100k_batch_dump', max: 1.2, label: '≤ 1.2× C batch dump' },
    { ref: 'hash100k_per_key', max: 0.2, label: '≥ 5× faster than C per-key' },
    { ref: 'hash100k_batch_dump_ts', against: 'ts', max: 1.2, label: '≤ 1.2× batch calls, same map (TS)' },
  ],
  run() {
    const m = bigMap();
    return measure(() => {
      let n = 0;
      for (const [, v] of m.entries()) { n++; sink += v[0]; }
      if (n !== BIG) throw new Error(`entries() saw ${n} of ${BIG}`);
    }, 1) / BIG;
  },
};

const perKeyCase: BenchCase = {
  id: 'hash100k_per_key',
  title: 'next-key + lookup over a 100k hash map (per entry)',
  run() {
    const m = bigMap();
    try {
      return measure(() => {
        let n = 0;
        for (let k = m.nextKey(undefined); k; k = m.nextKey(k)) {
          const v = m.lookup(k);
          if (v) { n++; sink += v[0]; }
        }
        if (n !== BIG) throw new Error(`walk saw ${n} of ${BIG}`);
      }, 1) / BIG;
    } finally {
      m.close(); // the last case to use the shared map
      shared = undefined;
    }
  },
};

// the kernel's share of a batch walk as TS sees it: explicit lookupBatch calls, no per-entry objects
const batchCallsCase: BenchCase = {
  id: 'hash100k_batch_dump_ts',
  title: 'lookupBatch() chunks over the same 100k map (per entry)',
  ref: 'hash100k_batch_dump',
  run() {
    const m = bigMap();
    return measure(() => {
      let n = 0;
      let cursor: Uint8Array | undefined;
      do {
        const c = m.lookupBatch({ cursor, count: Math.floor((1 << 20) / 12) });
        n += c.count;
        cursor = c.cursor;
      } while (cursor);
      if (n !== BIG) throw new Error(`batches saw ${n} of ${BIG}`);
    }, 1) / BIG;
  },
};

// a dump loop shaped like C's: the same caller-owned 1 MiB of keys and values every call
const batchIntoCase: BenchCase = {
  id: 'hash100k_batch_into',
  title: 'lookupBatch() into reused buffers over the same 100k map (per entry)',
  ref: 'hash100k_batch_dump',
  targets: [{ ref: 'hash100k_batch_dump', max: 1.2, label: '≤ 1.2× C batch dump' }],
  run() {
    const m = bigMap();
    const count = Math.floor((1 << 20) / 12);
    const keys = new Uint8Array(count * 4);
    const values = new Uint8Array(count * 8);
    return measure(() => {
      let n = 0;
      let cursor: Uint8Array | undefined;
      do {
        const c = m.lookupBatch({ cursor, count, keys, values });
        for (let i = 0; i < c.count; i++) sink = (sink + values[i * 8]) & 0xffffff;
        n += c.count;
        cursor = c.cursor;
      } while (cursor);
      if (n !== BIG) throw new Error(`batches saw ${n} of ${BIG}`);
    }, 1) / BIG;
  },
};

// the FFI's own cost: one bare bpf(MAP_LOOKUP_ELEM) with an attr prepared once, no key or value copies
const floorCase: BenchCase = {
  id: 'array_lookup_ffi_floor',
  title: 'bare FFI bpf() array lookup (floor: no key/value copy)',
  ref: 'array_lookup',
  run() {
    const m = small('array');
    const mem = ffi().alloc(64);
    try {
      const v = new DataView(mem.buffer);
      v.setUint32(MAP_ELEM_ATTR.off.map_fd, m.fdNumber, true);
      v.setBigUint64(MAP_ELEM_ATTR.off.key, BigInt(mem.address + 32), true);
      v.setBigUint64(MAP_ELEM_ATTR.off.value, BigInt(mem.address + 40), true);
      const sys = ffi();
      return measure((ops) => {
        for (let i = 0; i < ops; i++) if (sys.syscall3(SYS.bpf, BPF_CMD.MAP_LOOKUP_ELEM, mem.address, MAP_ELEM_ATTR.size) < 0) throw new Error('lookup failed');
      }, 200000);
    } finally {
      ffi().free(mem);
      m.close();
    }
  },
};

export const cases: BenchCase[] = [
  floorCase, lookupCase('array'), lookupIntoCase('array'), updateCase('array'), lookupCase('hash'), lookupIntoCase('hash'), updateCase('hash'), batchCallsCase, batchIntoCase, entriesCase, perKeyCase,
];

export function sinkValue(): number {
  return sink;
}
