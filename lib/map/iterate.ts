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
import { BpfArgumentError } from '../syscall/errors.js';
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
/** the most native memory one batch call may use here (keys + values of its entries) */
const MAX_BATCH_BYTES = 2 ** 31;
// arithmetic, not `& ~7`: sizes are u32 and bitwise operators wrap above 2^31
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** Bytes of the cursor token a batch call reads and writes: the key rounded up to 8 (at least 8). */
export function batchTokenSize(map: AnyMap): number {
  return Math.max(8, align8(map.keySize));
}
/** typed arrays up to this size live on V8's heap (typed_array_max_size_in_heap) */
const SMALL_ENTRY = 64;

/** A copy of `len` bytes at `off`: a byte loop into a fresh small array beats slice()'s generic path. */
function copyOut(from: Uint8Array, off: number, len: number): Uint8Array {
  const out = new Uint8Array(len);
  for (let j = 0; j < len; j++) out[j] = from[off + j];
  return out;
}

/** Native memory for batch calls: attr, in/out cursor, keys and values of `count` entries. */
class BatchArea {
  readonly mem: NativeBuffer;
  readonly count: number;
  readonly tokenSize: number;
  readonly inOff: number;
  readonly outOff: number;
  readonly keysOff: number;
  readonly valuesOff: number;

  constructor(map: AnyMap, count: number, op = 'MAP_LOOKUP_BATCH') {
    this.count = count;
    this.tokenSize = batchTokenSize(map);
    this.inOff = 64;
    this.outOff = this.inOff + this.tokenSize;
    this.keysOff = this.outOff + this.tokenSize;
    this.valuesOff = this.keysOff + align8(count * map.keySize);
    const size = this.valuesOff + count * map.valueBytes;
    if (size > MAX_BATCH_BYTES) {
      throw new BpfArgumentError(op, `a batch of ${count} entries of map${map.name ? ` ${map.name}` : ''} needs ${size} bytes (${map.keySize}-byte keys, ${map.valueBytes}-byte values): more than one batch may take here (2 GiB); ask for fewer`);
    }
    this.mem = new NativeBuffer(size);
  }

  /** One batch call for up to `count` entries; returns -errno or the number of entries, the cursor left in the out token. */
  call(map: AnyMap, first: boolean, andDelete: boolean, count = this.count): { r: number; n: number } {
    const v = this.mem.view;
    const a = this.mem.address;
    const o = MAP_BATCH_ATTR.off;
    v.setBigUint64(o.in_batch, first ? 0n : BigInt(a + this.inOff), true);
    v.setBigUint64(o.out_batch, BigInt(a + this.outOff), true);
    v.setBigUint64(o.keys, BigInt(a + this.keysOff), true);
    v.setBigUint64(o.values, BigInt(a + this.valuesOff), true);
    v.setUint32(o.count, count, true);
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

/** Where lookupBatch() copies a chunk: the caller's buffers, reused from call to call. */
export interface BatchOutput {
  keys: Uint8Array;
  values: Uint8Array;
}

/**
 * One explicit batch call for BpfMap.lookupBatch(), through the map's reused batch area. The chunk
 * is copied into `out` when given (no allocation per entry or per chunk), else into fresh arrays.
 */
export function batchLookup(map: AnyMap, cursor: Uint8Array | undefined, count: number, andDelete: boolean, out?: BatchOutput): BatchChunk {
  const op = andDelete ? 'MAP_LOOKUP_AND_DELETE_BATCH' : 'MAP_LOOKUP_BATCH';
  const token = batchTokenSize(map);
  if (cursor !== undefined && !(cursor instanceof Uint8Array && cursor.length === token)) {
    throw new BpfArgumentError(op, `cursor must be the ${token}-byte cursor a previous lookupBatch() returned (or undefined to start), got ${cursor instanceof Uint8Array ? `${cursor.length} bytes` : cursor === null ? 'null' : typeof cursor}`);
  }
  // a map holds at most maxEntries: a larger count would only size memory no entry can fill
  if (!out && map.maxEntries > 0) count = Math.min(count, map.maxEntries);
  const area = takeArea(map, count, op);
  try {
    if (cursor) area.mem.bytes.set(cursor, area.inOff);
    const { r, n } = area.call(map, cursor === undefined, andDelete, count);
    if (r < 0 && r !== -ERRNO.ENOENT) throw bpfError(andDelete ? BPF_CMD.MAP_LOOKUP_AND_DELETE_BATCH : BPF_CMD.MAP_LOOKUP_BATCH, -r, map.name || undefined);
    const b = area.mem.bytes;
    const kb = n * map.keySize;
    const vb = n * map.valueBytes;
    let keys: Uint8Array;
    let values: Uint8Array;
    if (out) {
      keys = out.keys.subarray(0, kb);
      values = out.values.subarray(0, vb);
      keys.set(b.subarray(area.keysOff, area.keysOff + kb));
      values.set(b.subarray(area.valuesOff, area.valuesOff + vb));
    } else {
      keys = b.slice(area.keysOff, area.keysOff + kb);
      values = b.slice(area.valuesOff, area.valuesOff + vb);
    }
    return { count: n, keys, values, cursor: r === -ERRNO.ENOENT ? undefined : b.slice(area.outOff, area.outOff + area.tokenSize) };
  } finally {
    giveArea(map, area);
  }
}

const areas = new FinalizationRegistry<NativeBuffer>((mem) => mem.free());

// one idle batch area per map, reused by the next walk or lookupBatch() call: a fresh 1 MiB area
// costs an mmap/munmap pair and ~256 page faults (~9 us each on the VM measured here)
const idle = new WeakMap<AnyMap, BatchArea>();
const idleAreas = new FinalizationRegistry<NativeBuffer>((mem) => mem.free());

/** An area for at least `count` entries (default: a walk's chunk); kept for reuse when it is a walk's size. */
function takeArea(map: AnyMap, count = chunkFor(map), op?: string): BatchArea {
  const a = idle.get(map);
  if (a && a.count >= count) {
    idle.delete(map);
    idleAreas.unregister(a);
    return a;
  }
  return new BatchArea(map, Math.max(count, chunkFor(map)), op);
}

function giveArea(map: AnyMap, area: BatchArea): void {
  if (map.closed || idle.has(map) || area.count !== chunkFor(map)) {
    area.mem.free();
    return;
  }
  idle.set(map, area);
  idleAreas.register(area, area.mem, area);
}

/** Free the idle batch area of a map (BpfMap.close() calls this). */
export function releaseAreas(map: AnyMap): void {
  const a = idle.get(map);
  if (!a) return;
  idle.delete(map);
  idleAreas.unregister(a);
  a.mem.free();
}

/**
 * Iterates a map as [key, value] (mode 'entries') or keys (mode 'keys'), decoded by the map's codecs.
 * A plain class rather than nested generators: one next() per entry, and each key/value a view into
 * one copy of the whole chunk, keeps the per-entry cost to a few allocations.
 */
export class MapIterator<T> implements IterableIterator<T> {
  readonly #map: AnyMap;
  readonly #mode: 'entries' | 'keys';
  readonly #raw: boolean;
  #area: BatchArea | undefined;
  #fallback: Generator<[Uint8Array, Uint8Array | undefined]> | undefined;
  #first = true;
  #last = false;
  #keys: ArrayBuffer | undefined;
  #values: ArrayBuffer | undefined;
  #n = 0;
  #i = 0;

  constructor(map: AnyMap, mode: 'entries' | 'keys') {
    this.#map = map;
    this.#mode = mode;
    this.#raw = !map.keyCodec && !map.valueCodec && !map.perCpu;
    if (batchWorks.get(map.type) === false || map.keySize === 0) {
      this.#fallback = nextKeyEntries(map, mode === 'entries');
    } else {
      this.#area = takeArea(map);
      areas.register(this, this.#area.mem, this);
    }
  }

  [Symbol.iterator](): this {
    return this;
  }

  next(): IteratorResult<T> {
    for (;;) {
      if (this.#i < this.#n) {
        const i = this.#i++;
        const map = this.#map;
        const ks = map.keySize;
        let k: unknown;
        let v: unknown;
        if (this.#keys === undefined) {
          // small entries: each copied out of the batch area (reused, so its pages stay mapped)
          const area = this.#area!;
          k = copyOut(area.mem.bytes, area.keysOff + i * ks, ks);
          if (!this.#raw) k = map.decodeKey(k as Uint8Array);
          if (this.#mode === 'keys') return { done: false, value: k as T };
          const vs = map.valueBytes;
          v = copyOut(area.mem.bytes, area.valuesOff + i * vs, vs);
        } else {
          k = new Uint8Array(this.#keys, i * ks, ks);
          if (!this.#raw) k = map.decodeKey(k as Uint8Array);
          if (this.#mode === 'keys') return { done: false, value: k as T };
          const vs = map.valueBytes;
          v = new Uint8Array(this.#values!, i * vs, vs);
        }
        if (!this.#raw) v = map.decodeValue(v as Uint8Array);
        return { done: false, value: [k, v] as T };
      }
      if (this.#fallback) {
        const r = this.#fallback.next();
        if (r.done) return this.#finish();
        const [k, v] = r.value;
        const key = this.#map.decodeKey(k);
        return { done: false, value: (this.#mode === 'keys' ? key : [key, this.#map.decodeValue(v!)]) as T };
      }
      if (this.#last || !this.#area) return this.#finish();
      this.#fetch();
    }
  }

  return(): IteratorResult<T> {
    return this.#finish();
  }

  #finish(): IteratorResult<T> {
    if (this.#area) {
      areas.unregister(this);
      giveArea(this.#map, this.#area);
      this.#area = undefined;
    }
    this.#fallback?.return(undefined);
    this.#fallback = undefined;
    this.#n = this.#i = 0;
    return { done: true, value: undefined };
  }

  /** One LOOKUP_BATCH call into the area; falls back to GET_NEXT_KEY if the first one is refused. */
  #fetch(): void {
    const map = this.#map;
    let area = this.#area!;
    const { r, n } = area.call(map, this.#first, false);
    if (r < 0 && r !== -ERRNO.ENOENT) {
      if (this.#first && UNSUPPORTED.has(-r)) {
        batchWorks.set(map.type, false);
        this.#finish();
        this.#fallback = nextKeyEntries(map, this.#mode === 'entries');
        return;
      }
      if (r === -ERRNO.ENOSPC && n === 0) {
        // a hash bucket holds more entries than fit: retry from the same cursor with more room
        const bigger = new BatchArea(map, area.count * 2);
        bigger.mem.bytes.set(area.mem.bytes.subarray(area.inOff, area.inOff + area.tokenSize), bigger.inOff);
        areas.unregister(this);
        area.mem.free();
        this.#area = area = bigger;
        areas.register(this, area.mem, this);
        return;
      }
      throw bpfError(BPF_CMD.MAP_LOOKUP_BATCH, -r, map.name || undefined);
    }
    batchWorks.set(map.type, true);
    if (r === -ERRNO.ENOENT) this.#last = true;
    else area.advance();
    this.#first = false;
    if (map.keySize <= SMALL_ENTRY && map.valueBytes <= SMALL_ENTRY) {
      // next() copies each entry out of the area into V8's young generation: no chunk-sized copy
      // (fresh pages: ~9 us per 4 KiB page fault on this VM) and ~4% less per entry than views into one
      this.#keys = this.#values = undefined;
    } else {
      // one copy of the chunk; entries are views into it
      const b = area.mem.bytes;
      this.#keys = b.slice(area.keysOff, area.keysOff + n * map.keySize).buffer;
      this.#values = this.#mode === 'entries' ? b.slice(area.valuesOff, area.valuesOff + n * map.valueBytes).buffer : undefined;
    }
    this.#n = n;
    this.#i = 0;
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
