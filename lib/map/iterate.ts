// Walking a map: LOOKUP_BATCH chunks where the kernel and map type have them, else GET_NEXT_KEY.
// Iterators own their native memory (a generator interleaves with other syscalls, so the shared
// scratch arena cannot be used across a yield).
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { NativeBuffer } from '../syscall/memory.js';
import { MAP_BATCH_ATTR } from '../syscall/attr.js';
import { BPF_CMD } from '../syscall/types.js';
import { ERRNO } from '../syscall/errno.js';
import { bpfError } from '../syscall/bpf.js';
import type { BpfMap } from './map.js';

export interface BatchChunk {
  count: number;
  /** count keys, keySize bytes each */
  keys: Uint8Array;
  /** count values, valueBytes each */
  values: Uint8Array;
  /** pass back as `cursor` to continue; undefined when the map is exhausted */
  cursor: Uint8Array | undefined;
}

type AnyMap = BpfMap<unknown, unknown>;

// map type → whether LOOKUP_BATCH works for it on this kernel (learned on first use)
const batchWorks = new Map<number, boolean>();
const UNSUPPORTED = new Set<number>([ERRNO.EINVAL, ERRNO.ENOTSUPP, ERRNO.EOPNOTSUPP, ERRNO.ENOSYS]);
const CHUNK_BYTES = 1 << 20;

/** Native memory for batch calls: attr, in/out cursor, keys and values of `count` entries. */
class BatchArea {
  readonly mem: NativeBuffer;
  readonly count: number;
  readonly tokenSize: number;
  readonly inOff: number;
  readonly outOff: number;
  readonly keysOff: number;
  readonly valuesOff: number;

  constructor(map: AnyMap, count: number) {
    this.count = count;
    this.tokenSize = Math.max(8, (map.keySize + 7) & ~7);
    this.inOff = 64;
    this.outOff = this.inOff + this.tokenSize;
    this.keysOff = this.outOff + this.tokenSize;
    this.valuesOff = this.keysOff + ((count * map.keySize + 7) & ~7);
    this.mem = new NativeBuffer(this.valuesOff + count * map.valueBytes);
  }

  /** One batch call; returns -errno or the number of entries, the cursor left in the out token. */
  call(map: AnyMap, first: boolean, andDelete: boolean): { r: number; n: number } {
    const v = this.mem.view;
    const a = this.mem.address;
    const o = MAP_BATCH_ATTR.off;
    v.setBigUint64(o.in_batch, first ? 0n : BigInt(a + this.inOff), true);
    v.setBigUint64(o.out_batch, BigInt(a + this.outOff), true);
    v.setBigUint64(o.keys, BigInt(a + this.keysOff), true);
    v.setBigUint64(o.values, BigInt(a + this.valuesOff), true);
    v.setUint32(o.count, this.count, true);
    v.setUint32(o.map_fd, map.fdNumber, true);
    v.setBigUint64(o.elem_flags, 0n, true);
    v.setBigUint64(o.flags, 0n, true);
    const cmd = andDelete ? BPF_CMD.MAP_LOOKUP_AND_DELETE_BATCH : BPF_CMD.MAP_LOOKUP_BATCH;
    const r = ffi().syscall3(SYS.bpf, cmd, a, MAP_BATCH_ATTR.size);
    return { r, n: v.getUint32(o.count, true) };
  }

  /** The next call continues where the last stopped. */
  advance(): void {
    this.mem.bytes.copyWithin(this.inOff, this.outOff, this.outOff + this.tokenSize);
  }
}

function chunkFor(map: AnyMap): number {
  const per = Math.max(1, map.keySize + map.valueBytes);
  return Math.max(1, Math.min(map.maxEntries || 1, Math.max(64, Math.floor(CHUNK_BYTES / per))));
}

/** One explicit batch call for BpfMap.lookupBatch(). */
export function batchLookup(map: AnyMap, cursor: Uint8Array | undefined, count: number, andDelete: boolean): BatchChunk {
  const area = new BatchArea(map, count);
  try {
    if (cursor) area.mem.bytes.set(cursor.subarray(0, area.tokenSize), area.inOff);
    const { r, n } = area.call(map, cursor === undefined, andDelete);
    if (r < 0 && r !== -ERRNO.ENOENT) throw bpfError(andDelete ? BPF_CMD.MAP_LOOKUP_AND_DELETE_BATCH : BPF_CMD.MAP_LOOKUP_BATCH, -r, map.name || undefined);
    const b = area.mem.bytes;
    return {
      count: n,
      keys: b.slice(area.keysOff, area.keysOff + n * map.keySize),
      values: b.slice(area.valuesOff, area.valuesOff + n * map.valueBytes),
      cursor: r === -ERRNO.ENOENT ? undefined : b.slice(area.outOff, area.outOff + area.tokenSize),
    };
  } finally {
    area.mem.free();
  }
}

/** [key, value] raw pairs (value undefined when !withValues and the next-key path is taken). */
export function* iterateEntries(map: AnyMap, withValues: boolean): Generator<[Uint8Array, Uint8Array | undefined]> {
  if (batchWorks.get(map.type) !== false && map.keySize > 0) {
    const it = batchEntries(map);
    const first = it.next();
    if (first.done && first.value === false) {
      batchWorks.set(map.type, false);
    } else {
      batchWorks.set(map.type, true);
      if (!first.done) yield first.value;
      yield* it;
      return;
    }
  }
  yield* nextKeyEntries(map, withValues);
}

/** Returns false (before yielding anything) when the map type has no batch lookups. */
function* batchEntries(map: AnyMap): Generator<[Uint8Array, Uint8Array], boolean> {
  let count = chunkFor(map);
  let area = new BatchArea(map, count);
  try {
    let first = true;
    for (;;) {
      const { r, n } = area.call(map, first, false);
      if (r < 0 && r !== -ERRNO.ENOENT) {
        if (first && UNSUPPORTED.has(-r)) return false;
        if (r === -ERRNO.ENOSPC && n === 0) {
          // a hash bucket holds more entries than fit: retry from the same cursor with more room
          const bigger = new BatchArea(map, count * 2);
          bigger.mem.bytes.set(area.mem.bytes.subarray(area.inOff, area.inOff + area.tokenSize), bigger.inOff);
          area.mem.free();
          area = bigger;
          count *= 2;
          continue;
        }
        throw bpfError(BPF_CMD.MAP_LOOKUP_BATCH, -r, map.name || undefined);
      }
      if (n > 0) {
        // one copy per chunk; entries are views into it
        const keys = area.mem.bytes.slice(area.keysOff, area.keysOff + n * map.keySize);
        const values = area.mem.bytes.slice(area.valuesOff, area.valuesOff + n * map.valueBytes);
        const ks = map.keySize;
        const vs = map.valueBytes;
        if (r === -ERRNO.ENOENT) {
          for (let i = 0; i < n; i++) yield [keys.subarray(i * ks, i * ks + ks), values.subarray(i * vs, i * vs + vs)];
          return true;
        }
        area.advance();
        first = false;
        for (let i = 0; i < n; i++) yield [keys.subarray(i * ks, i * ks + ks), values.subarray(i * vs, i * vs + vs)];
        continue;
      }
      if (r === -ERRNO.ENOENT) return true;
      area.advance();
      first = false;
    }
  } finally {
    area.mem.free();
  }
}

/**
 * GET_NEXT_KEY walk. The next key is fetched before the current one is handed out, so the caller may
 * delete what it is given. A key deleted by someone else makes hash maps restart from the start: keys
 * already handed out are remembered and not repeated.
 */
function* nextKeyEntries(map: AnyMap, withValues: boolean): Generator<[Uint8Array, Uint8Array | undefined]> {
  const seen = new Set<string>();
  let cur = map.nextKey(undefined);
  while (cur) {
    const next = map.nextKey(cur);
    const id = latin1(cur);
    if (!seen.has(id)) {
      seen.add(id);
      if (!withValues) {
        yield [cur, undefined];
      } else {
        const v = map.lookupBytes(cur);
        if (v !== undefined) yield [cur, v];
      }
    }
    cur = next;
  }
}

function latin1(b: Uint8Array): string {
  let s = '';
  for (let i = 0; i < b.length; i++) s += String.fromCharCode(b[i]);
  return s;
}
