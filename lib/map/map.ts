// BpfMap: a live BPF map owning its fd. Single-element operations run on a per-map block of native
// memory (two element attrs, key, value and next-key areas) whose pointers are written once, so a
// lookup is: copy the key in, one syscall, copy the value out. Keys and values are raw bytes unless
// the map was given codecs (lib/codec wraps BTF types that way); raw Uint8Array always works.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { Fd } from '../syscall/fd.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { nativeBlock, type NativeBlock } from '../syscall/memory.js';
import { MAP_ELEM_ATTR } from '../syscall/attr.js';
import { BPF_CMD, BPF_MAP_FLAG, BPF_MAP_TYPE, BPF_UPDATE, mapTypeName, mapTypeNumber } from '../syscall/types.js';
import { ERRNO } from '../syscall/errno.js';
import { bpfError } from '../syscall/bpf.js';
import { BpfArgumentError, BpfError, ClosedError } from '../syscall/errors.js';
import { CodecError } from '../codec/errors.js';
import { isU32, isU64 } from '../syscall/int-range.js';
import { mapCreate, mapDeleteBatch, mapFreeze, mapUpdateBatch } from '../syscall/map.js';
import { mapInfo, objGet, objPin, getFdById, type MapInfo } from '../syscall/obj.js';
import { isPerCpu, possibleCpus } from './cpus.js';
import { batchLookup, MapIterator, releaseAreas, type BatchChunk } from './iterate.js';

/** Turns JS values into key/value bytes and back (BTF codecs implement this). */
export interface Codec<T> {
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

export type UpdateFlag = 'any' | 'noexist' | 'exist';

export interface BpfMapCreateOptions {
  /** 'hash', 'array', 'percpu_hash', 'lru_hash', 'ringbuf', 'prog_array', 'array_of_maps', … or the number */
  type: string | number;
  keySize?: number;
  valueSize?: number;
  maxEntries: number;
  /** map_flags (BPF_MAP_FLAG.*) */
  flags?: number;
  name?: string;
  /** for array_of_maps / hash_of_maps: a map of the inner shape */
  innerMap?: BpfMap<unknown, unknown> | Fd;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  mapExtra?: bigint | number;
  numaNode?: number;
  ifindex?: number;
}

/** The shape of a map as created (what info() reports, without a syscall). */
export interface MapDescription {
  type: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  flags: number;
  name: string;
}

export interface MapInfoResult extends MapInfo {
  typeName: string;
}

const FLAG = { any: BPF_UPDATE.ANY, noexist: BPF_UPDATE.NOEXIST, exist: BPF_UPDATE.EXIST } as const;
// arithmetic, not `& ~7`: sizes are u32 and bitwise operators wrap above 2^31
const align8 = (n: number) => Math.ceil(n / 8) * 8;
/** the most one value (all CPUs' slots of a per-CPU map) may take here: a typed array must hold it */
const MAX_VALUE_AREA = 2 ** 30;
const EMPTY = new Uint8Array(0);
const NR_BPF = SYS.bpf;
const ATTR = MAP_ELEM_ATTR.size;
// types whose values are fds on update (and ids on lookup). Not devmap/cpumap: their values are an
// ifindex / a queue size (a program fd only as the second field of the 8-byte form)
const FD_VALUED = new Set<number>([
  BPF_MAP_TYPE.PROG_ARRAY, BPF_MAP_TYPE.ARRAY_OF_MAPS, BPF_MAP_TYPE.HASH_OF_MAPS, BPF_MAP_TYPE.PERF_EVENT_ARRAY,
  BPF_MAP_TYPE.CGROUP_ARRAY, BPF_MAP_TYPE.SOCKMAP, BPF_MAP_TYPE.SOCKHASH, BPF_MAP_TYPE.XSKMAP, BPF_MAP_TYPE.REUSEPORT_SOCKARRAY,
]);

// blocks of the native memory of maps dropped without close()
const forgotten = new FinalizationRegistry<NativeBlock>((mem) => mem.free());

/**
 * K and V are what keys and values are in JS: raw Uint8Array for a map without codecs (V is one
 * Uint8Array per possible CPU for a per-CPU map), JS values for a map with BTF codecs. A bare
 * `BpfMap` does not say (unknown); create()/fromPin()/… give raw bytes unless told otherwise.
 */
export class BpfMap<K = unknown, V = unknown> {
  readonly fd: Fd;
  readonly type: number;
  readonly typeName: string;
  readonly keySize: number;
  readonly valueSize: number;
  readonly maxEntries: number;
  readonly flags: number;
  readonly name: string;
  /** per-CPU maps: one value per possible CPU */
  readonly perCpu: boolean;
  readonly cpus: number;
  /** bytes the kernel reads/writes for one value (valueSize, or round8(valueSize) × CPUs) */
  readonly valueBytes: number;
  keyCodec: Codec<K> | undefined;
  valueCodec: Codec<V> | undefined;

  #fdNum: number;
  #mem: NativeBlock;
  #attr: number; // element attr: key → value
  #nextAttr: number; // GET_NEXT_KEY attr: key → next key
  #key: Uint8Array;
  #value: Uint8Array;
  #next: Uint8Array;
  #attrView: DataView;
  // the attrs' key pointer: NULL for maps without keys (queue, stack, bloom filter), as the kernel requires
  #keyPtr: bigint;
  // the backend held by the map: a call through ffi() on every operation cost ~30-40 ns
  readonly #sys = ffi();

  /** Wrap an fd the caller hands over (the loader does this); `desc` must describe the map. */
  constructor(fd: Fd, desc: MapDescription, codecs: { key?: Codec<K>; value?: Codec<V> } = {}) {
    this.fd = fd;
    this.#fdNum = fd.value;
    this.type = desc.type;
    this.typeName = mapTypeName(desc.type);
    this.keySize = desc.keySize;
    this.valueSize = desc.valueSize;
    this.maxEntries = desc.maxEntries;
    this.flags = desc.flags;
    this.name = desc.name;
    this.perCpu = isPerCpu(desc.type);
    this.cpus = this.perCpu ? possibleCpus() : 1;
    checkValueArea('BpfMap', desc.type, desc.valueSize, desc.name);
    this.valueBytes = this.perCpu ? align8(desc.valueSize) * this.cpus : desc.valueSize;
    this.keyCodec = codecs.key;
    this.valueCodec = codecs.value;

    const keyOff = 2 * ATTR;
    const valOff = keyOff + align8(Math.max(this.keySize, 1));
    const nextOff = valOff + align8(Math.max(this.valueBytes, 1));
    const mem = nativeBlock(nextOff + align8(Math.max(this.keySize, 1)));
    this.#mem = mem;
    forgotten.register(this, mem, this);
    this.#attr = mem.address;
    this.#nextAttr = mem.address + ATTR;
    this.#key = mem.bytes.subarray(keyOff, keyOff + this.keySize);
    this.#value = mem.bytes.subarray(valOff, valOff + this.valueBytes);
    this.#next = mem.bytes.subarray(nextOff, nextOff + this.keySize);
    this.#attrView = mem.view;
    const v = mem.view;
    this.#keyPtr = this.keySize > 0 ? BigInt(mem.address + keyOff) : 0n;
    setAttr(v, 0, this.#fdNum, this.#keyPtr, mem.address + valOff);
    setAttr(v, ATTR, this.#fdNum, this.#keyPtr, mem.address + nextOff);
    // the fd closed behind this map's back (map.fd.close(), a second BpfMap on the same Fd): the
    // number must not be used again, it may soon be another map's
    fd.onClose(() => this.#drop());
  }

  /** MAP_CREATE. Unknown types and impossible sizes fail here, before the syscall. */
  static create<K = Uint8Array, V = Uint8Array>(o: BpfMapCreateOptions): BpfMap<K, V> {
    if (o === null || typeof o !== 'object') throw new BpfArgumentError('BpfMap.create', `options must be an object, got ${String(o)}`);
    const type = typeof o.type === 'number' ? o.type : typeof o.type === 'string' ? mapTypeNumber(o.type) : undefined;
    if (type === undefined || !Number.isInteger(type) || type <= 0) {
      throw new BpfArgumentError('BpfMap.create', `unknown map type ${JSON.stringify(o.type)} (known: ${Object.keys(BPF_MAP_TYPE).filter((k) => k !== 'UNSPEC' && !k.endsWith('DEPRECATED')).map((k) => k.toLowerCase()).join(', ')})`);
    }
    const keySize = o.keySize ?? 0;
    const valueSize = o.valueSize ?? 0;
    checkU32('keySize', keySize);
    checkU32('valueSize', valueSize);
    checkU32('maxEntries', o.maxEntries);
    if (o.name !== undefined && (typeof o.name !== 'string' || !MAP_NAME.test(o.name))) {
      throw new BpfArgumentError('BpfMap.create', `map name ${typeof o.name === 'string' ? JSON.stringify(o.name) : String(o.name)}: at most 15 characters of [A-Za-z0-9_.]`);
    }
    let flags = o.flags ?? 0;
    checkU32('flags', flags);
    for (const k of ['btfFd', 'btfKeyTypeId', 'btfValueTypeId', 'btfVmlinuxValueTypeId', 'ifindex'] as const) {
      if (o[k] !== undefined) checkU32(k, o[k]);
    }
    if (o.numaNode !== undefined) {
      checkU32('numaNode', o.numaNode);
      flags = (flags | BPF_MAP_FLAG.NUMA_NODE) >>> 0; // the kernel reads numa_node only with this flag
    }
    const extra = o.mapExtra;
    if (extra !== undefined && !isU64(extra)) {
      throw new BpfArgumentError('BpfMap.create', `mapExtra must be a u64 (a number or bigint), got ${String(extra)}`);
    }
    if (o.innerMap !== undefined && !(o.innerMap instanceof BpfMap || o.innerMap instanceof Fd)) {
      throw new BpfArgumentError('BpfMap.create', `innerMap must be a BpfMap or an Fd (a map of the inner shape), got ${typeof o.innerMap}`);
    }
    const inner = o.innerMap instanceof BpfMap ? o.innerMap.fd : o.innerMap;
    checkValueArea('BpfMap.create', type, valueSize, o.name);
    const fd = mapCreate({
      mapType: type, keySize, valueSize, maxEntries: o.maxEntries, mapFlags: flags, mapName: o.name,
      innerMapFd: inner?.value, btfFd: o.btfFd, btfKeyTypeId: o.btfKeyTypeId, btfValueTypeId: o.btfValueTypeId,
      btfVmlinuxValueTypeId: o.btfVmlinuxValueTypeId, mapExtra: extra, numaNode: o.numaNode, mapIfindex: o.ifindex,
    });
    try {
      return new BpfMap(fd, { type, keySize, valueSize, maxEntries: o.maxEntries, flags, name: o.name ?? '' });
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /** Take ownership of an fd of an existing map; its shape comes from OBJ_GET_INFO_BY_FD. */
  static fromFd<K = Uint8Array, V = Uint8Array>(fd: Fd, what?: string): BpfMap<K, V> {
    if (!(fd instanceof Fd)) throw new BpfArgumentError('BpfMap.fromFd', `expected an Fd (new Fd(n) takes ownership of a raw fd number), got ${fd === null ? 'null' : typeof fd}`);
    what ??= `fd ${fd.value}`;
    try {
      expectFdKind(fd.value, 'map', what);
      const i = mapInfo(fd.value);
      return new BpfMap(fd, { type: i.type, keySize: i.keySize, valueSize: i.valueSize, maxEntries: i.maxEntries, flags: i.mapFlags, name: i.name });
    } catch (e) {
      fd.close();
      throw e;
    }
  }

  /** Open a pinned map (the path must be on bpffs). */
  static fromPin<K = Uint8Array, V = Uint8Array>(path: string, o: { readOnly?: boolean; writeOnly?: boolean } = {}): BpfMap<K, V> {
    return BpfMap.fromFd(objGet(path, (o.readOnly ? 1 << 3 : 0) | (o.writeOnly ? 1 << 4 : 0)), `pin ${path}`);
  }

  static fromId<K = Uint8Array, V = Uint8Array>(id: number): BpfMap<K, V> {
    return BpfMap.fromFd(getFdById('map', id));
  }

  /** Attach codecs (the BTF layer does this); returns this map, typed by them. */
  withCodecs<K2 = K, V2 = V>(codecs: { key?: Codec<K2>; value?: Codec<V2> }): BpfMap<K2, V2> {
    const self = this as unknown as BpfMap<K2, V2>;
    if (codecs.key) self.keyCodec = codecs.key;
    if (codecs.value) self.valueCodec = codecs.value;
    return self;
  }

  get closed(): boolean {
    return this.#fdNum < 0;
  }

  /** The value at `key`, or undefined when absent. Per-CPU maps give an array with one value per CPU. */
  lookup(key: K | Uint8Array | number | bigint, flags = 0): V | undefined {
    if (!this.#lookupRaw(key, flags)) return undefined;
    const raw = this.#copyValue();
    return this.perCpu || this.valueCodec ? this.decodeValue(raw) : raw as V;
  }

  /**
   * The allocation-free lookup (as C's bpf_map_lookup_elem): copies the raw value into `out`
   * (valueBytes long) and returns true, or returns false when the key is absent.
   */
  lookupInto(key: K | Uint8Array | number | bigint, out: Uint8Array, flags = 0): boolean {
    if (out.length !== this.valueBytes) throw this.#outSizeError(out);
    if (!this.#lookupRaw(key, flags)) return false;
    const src = this.#value;
    const n = src.length;
    if (n <= 64) for (let i = 0; i < n; i++) out[i] = src[i];
    else out.set(src);
    return true;
  }

  /** lookup() without decoding: a copy of the raw value bytes (valueBytes long). */
  lookupBytes(key: K | Uint8Array | number | bigint, flags = 0): Uint8Array | undefined {
    return this.#lookupRaw(key, flags) ? this.#copyValue() : undefined;
  }

  // The element calls below keep their common case flat and small (#quickKey, no flags, errors built
  // out of line). Measured on a PVM guest (PTI, no PCID): JS run around each syscall costs several times
  // what it costs in a loop without one (cold caches and TLB after the kernel entry); the earlier shape
  // (encodeKey + #putKey, errors in line, ffi() per call) was ~180 ns per lookupInto above a bare FFI
  // call, this one ~60-100.

  /** MAP_LOOKUP_ELEM into the value area; false when the key is absent. */
  #lookupRaw(key: K | Uint8Array | number | bigint, flags: number): boolean {
    if (!this.#quickKey(key)) this.#putKey(key, 'MAP_LOOKUP_ELEM');
    if (flags !== 0) this.#setFlags(this.#lookupFlags(flags));
    const r = this.#sys.syscall3(NR_BPF, BPF_CMD.MAP_LOOKUP_ELEM, this.#attr, ATTR);
    if (flags !== 0) this.#setFlags(0);
    return r >= 0 || this.#absent(r, BPF_CMD.MAP_LOOKUP_ELEM);
  }

  /** Write `value` at `key`. 'noexist' throws KeyExistsError for a present key; 'exist' needs one. */
  update(key: K | Uint8Array | number | bigint, value: V | Uint8Array | readonly (V | Uint8Array)[] | BpfMap<unknown, unknown> | Fd, flag: UpdateFlag | number = 'any'): void {
    if (!this.#quickKey(key)) this.#putKey(key, 'MAP_UPDATE_ELEM');
    const dst = this.#value;
    const n = dst.length;
    if (value instanceof Uint8Array && value.length === n && n <= 64) for (let i = 0; i < n; i++) dst[i] = value[i];
    else this.#putValue(value, 'MAP_UPDATE_ELEM');
    const f = flag === 'any' ? 0 : this.#updateFlag(flag);
    if (f !== 0) this.#setFlags(f);
    const r = this.#sys.syscall3(NR_BPF, BPF_CMD.MAP_UPDATE_ELEM, this.#attr, ATTR);
    if (f !== 0) this.#setFlags(0);
    if (r < 0) throw this.#failure(r, BPF_CMD.MAP_UPDATE_ELEM);
  }

  /** Remove `key`; false when it was not there. */
  delete(key: K | Uint8Array | number | bigint): boolean {
    if (!this.#quickKey(key)) this.#putKey(key, 'MAP_DELETE_ELEM');
    // the kernel wants value and flags zero for a delete: pass only map_fd and key (it zero-fills the rest)
    const r = this.#sys.syscall3(NR_BPF, BPF_CMD.MAP_DELETE_ELEM, this.#attr, MAP_ELEM_ATTR.off.value);
    return r >= 0 || this.#absent(r, BPF_CMD.MAP_DELETE_ELEM);
  }

  /**
   * The hot path's key placement, in line: raw bytes of the key's size, or a number for a 4-byte key
   * of a map without a key codec (0..2^32-1, as C's stack variable). False for anything else, which
   * #putKey then encodes and checks (a closed map is false here too, and #putKey throws).
   */
  #quickKey(key: unknown): boolean {
    if (this.#fdNum < 0) return false;
    const d = this.#key;
    const n = d.length;
    if (key instanceof Uint8Array) {
      // keyless maps (queue, stack, bloom filter) take the slow path, which knows them
      if (key.length !== n || n > 32 || n === 0) return false;
      for (let i = 0; i < n; i++) d[i] = key[i];
      return true;
    }
    if (typeof key !== 'number' || n !== 4 || key >>> 0 !== key || this.keyCodec !== undefined) return false;
    d[0] = key;
    d[1] = key >>> 8;
    d[2] = key >>> 16;
    d[3] = key >>> 24;
    return true;
  }

  /** A failed element call whose ENOENT means "not there": false for it, the typed error otherwise. */
  #absent(r: number, cmd: number): false {
    if (r === -ERRNO.ENOENT) return false;
    throw this.#failure(r, cmd);
  }

  #failure(r: number, cmd: number): BpfError {
    return bpfError(cmd, -r, this.#where('map '));
  }

  #updateFlag(flag: UpdateFlag | number): number {
    if (typeof flag === 'string' && Object.hasOwn(FLAG, flag)) return FLAG[flag];
    if (isU32(flag)) return flag;
    throw new BpfArgumentError('MAP_UPDATE_ELEM', `update flag ${typeof flag === 'string' ? JSON.stringify(flag) : String(flag)} is not 'any', 'noexist', 'exist' or a BPF_* flags number (u32)`);
  }

  #lookupFlags(flags: unknown): number {
    if (isU32(flags)) return flags;
    throw new BpfArgumentError('MAP_LOOKUP_ELEM', `lookup flags must be a BPF_* flags number (BPF_F_LOCK), got ${typeof flags === 'string' ? JSON.stringify(flags) : String(flags)}`);
  }

  #outSizeError(out: Uint8Array): BpfArgumentError {
    return new BpfArgumentError('MAP_LOOKUP_ELEM', `output buffer is ${out.length} bytes, map${this.#where(' ')} has ${this.valueBytes}-byte values`);
  }

  /** Remove and return the value at `key` (queues and stacks: pass no key); undefined when absent. */
  lookupAndDelete(key?: K | Uint8Array | number | bigint): V | undefined {
    const v = this.#attrView;
    if (key === undefined) {
      this.#check('MAP_LOOKUP_AND_DELETE_ELEM');
      if (this.keySize !== 0) throw new BpfArgumentError('MAP_LOOKUP_AND_DELETE_ELEM', `a ${this.typeName} map${this.#where(' ')} needs a key (only queues and stacks pop without one)`);
      v.setBigUint64(MAP_ELEM_ATTR.off.key, 0n, true);
    } else {
      this.#putKey(key, 'MAP_LOOKUP_AND_DELETE_ELEM');
    }
    const r = this.#sys.syscall3(NR_BPF, BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM, this.#attr, ATTR);
    if (key === undefined) v.setBigUint64(MAP_ELEM_ATTR.off.key, this.#keyPtr, true);
    if (r === -ERRNO.ENOENT) return undefined;
    if (r < 0) throw bpfError(BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM, -r, this.#where('map '));
    return this.decodeValue(this.#copyValue());
  }

  /** The key after `key` (the first when undefined) as raw bytes; undefined at the end. */
  nextKey(key: K | Uint8Array | number | bigint | undefined): Uint8Array | undefined {
    this.#check('MAP_GET_NEXT_KEY');
    const v = this.#attrView;
    if (key === undefined) v.setBigUint64(ATTR + MAP_ELEM_ATTR.off.key, 0n, true);
    else this.#putKey(key, 'MAP_GET_NEXT_KEY');
    const r = this.#sys.syscall3(NR_BPF, BPF_CMD.MAP_GET_NEXT_KEY, this.#nextAttr, ATTR);
    if (key === undefined) v.setBigUint64(ATTR + MAP_ELEM_ATTR.off.key, this.#keyPtr, true);
    if (r === -ERRNO.ENOENT) return undefined;
    if (r < 0) throw bpfError(BPF_CMD.MAP_GET_NEXT_KEY, -r, this.#where('map '));
    return this.#next.slice();
  }

  /** Queue/stack: add a value (BPF_MAP_TYPE_QUEUE / STACK have no keys). */
  push(value: V | Uint8Array, flag: UpdateFlag | number = 'any'): void {
    this.update(EMPTY, value, flag);
  }

  /** Queue/stack: remove and return the next value; undefined when empty. */
  pop(): V | undefined {
    return this.lookupAndDelete();
  }

  /** Queue/stack: the next value without removing it; undefined when empty. */
  peek(): V | undefined {
    if (this.type === BPF_MAP_TYPE.BLOOM_FILTER) throw this.#bloomLookup('peek()');
    return this.lookup(EMPTY);
  }

  /**
   * Bloom filter: whether `value` may be in the set (false: certainly not). A bloom filter has no
   * keys and gives no values back; push() adds to it.
   */
  contains(value: V | Uint8Array): boolean {
    this.#check('MAP_LOOKUP_ELEM');
    if (this.type !== BPF_MAP_TYPE.BLOOM_FILTER) throw new BpfArgumentError('MAP_LOOKUP_ELEM', `contains() is for bloom filters; map${this.#where(' ')} is a ${this.typeName} (lookup() it)`);
    this.#putValue(value, 'MAP_LOOKUP_ELEM');
    const r = this.#sys.syscall3(NR_BPF, BPF_CMD.MAP_LOOKUP_ELEM, this.#attr, ATTR);
    return r >= 0 || this.#absent(r, BPF_CMD.MAP_LOOKUP_ELEM);
  }

  /** lookup() on a bloom filter would test whatever bytes the value area held last */
  #bloomLookup(what: string): BpfArgumentError {
    return new BpfArgumentError('MAP_LOOKUP_ELEM', `${what} on a bloom filter${this.#where(' ')}: ask contains(value) whether a value is in it`);
  }

  /**
   * Every [key, value]. Uses LOOKUP_BATCH where the kernel and map type have it (one syscall per
   * chunk), GET_NEXT_KEY + lookup otherwise. Entries deleted while iterating are skipped, never fatal.
   */
  entries(): IterableIterator<[K, V]> {
    this.#check('MAP_LOOKUP_BATCH');
    this.#needKeys('entries()');
    return new MapIterator<[K, V]>(this as unknown as BpfMap<unknown, unknown>, 'entries');
  }

  keys(): IterableIterator<K> {
    this.#check('MAP_GET_NEXT_KEY');
    this.#needKeys('keys()');
    return new MapIterator<K>(this as unknown as BpfMap<unknown, unknown>, 'keys');
  }

  *values(): IterableIterator<V> {
    for (const [, v] of this.entries()) yield v;
  }

  [Symbol.iterator](): IterableIterator<[K, V]> {
    return this.entries();
  }

  /**
   * One LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH) call: up to `count` entries after `cursor`.
   * Keys and values are packed raw bytes (valueBytes each); `cursor` is undefined when the map is done.
   * With `keys` and `values` (room for `count` entries each) the chunk is copied into them and the
   * result's keys/values are views of their first `count` entries: a dump loop that passes the same
   * buffers every time allocates nothing per entry, as C's bpf_map_lookup_batch into its own arrays.
   */
  lookupBatch(o: { cursor?: Uint8Array; count?: number; andDelete?: boolean; keys?: Uint8Array; values?: Uint8Array } = {}): BatchChunk {
    const op = o.andDelete ? 'MAP_LOOKUP_AND_DELETE_BATCH' : 'MAP_LOOKUP_BATCH';
    this.#check(op);
    const count = o.count ?? 256;
    if (!Number.isInteger(count) || count < 1 || count > 0xffffffff) throw new BpfArgumentError(op, `count must be a positive integer, got ${count}`);
    if ((o.keys === undefined) !== (o.values === undefined)) throw new BpfArgumentError(op, 'keys and values buffers go together: pass both or neither');
    if (o.keys && o.values) {
      if (!(o.keys instanceof Uint8Array) || o.keys.length < count * this.keySize) throw new BpfArgumentError(op, `keys buffer needs ${count * this.keySize} bytes for ${count} keys, got ${o.keys instanceof Uint8Array ? o.keys.length : typeof o.keys}${this.#where(' for map ')}`);
      if (!(o.values instanceof Uint8Array) || o.values.length < count * this.valueBytes) throw new BpfArgumentError(op, `values buffer needs ${count * this.valueBytes} bytes for ${count} values, got ${o.values instanceof Uint8Array ? o.values.length : typeof o.values}${this.#where(' for map ')}`);
      return batchLookup(this, o.cursor, count, o.andDelete ?? false, { keys: o.keys, values: o.values });
    }
    return batchLookup(this, o.cursor, count, o.andDelete ?? false);
  }

  /** MAP_UPDATE_BATCH: keys and values packed back to back (count = keys.length / keySize). */
  updateBatch(keys: Uint8Array, values: Uint8Array, flag: 'any' | number = 'any'): number {
    this.#check('MAP_UPDATE_BATCH');
    const count = this.#batchCount(keys, 'MAP_UPDATE_BATCH');
    if (!(values instanceof Uint8Array)) throw new BpfArgumentError('MAP_UPDATE_BATCH', `values must be a Uint8Array of packed values, got ${values === null ? 'null' : typeof values}`);
    // the kernel takes no BPF_NOEXIST/BPF_EXIST for a batch (elem_flags other than BPF_F_LOCK: EINVAL)
    const f = flag === 'any' ? 0 : flag;
    if (!isU32(f) || (f & ~BPF_UPDATE.F_LOCK) !== 0) {
      throw new BpfArgumentError('MAP_UPDATE_BATCH', `batch update flag ${typeof flag === 'string' ? JSON.stringify(flag) : String(flag)}: the kernel takes only 'any' or BPF_F_LOCK for a batch (no 'noexist'/'exist')`);
    }
    if (values.length !== count * this.valueBytes) {
      throw new BpfArgumentError('MAP_UPDATE_BATCH', `${count} keys need ${count * this.valueBytes} bytes of values, got ${values.length}${this.#where(' for ')}`);
    }
    return mapUpdateBatch(this.#fdNum, keys, values, count, f);
  }

  /** MAP_DELETE_BATCH: keys packed back to back. Returns how many were deleted. */
  deleteBatch(keys: Uint8Array): number {
    this.#check('MAP_DELETE_BATCH');
    return mapDeleteBatch(this.#fdNum, keys, this.#batchCount(keys, 'MAP_DELETE_BATCH'));
  }

  /** MAP_FREEZE: no more writes from user space (programs still write). */
  freeze(): void {
    this.#check('MAP_FREEZE');
    try {
      mapFreeze(this.#fdNum);
    } catch (e) {
      // a frozen map refuses writes, a second freeze included
      if (e instanceof BpfError && e.code === ERRNO.EPERM) throw bpfError(BPF_CMD.MAP_FREEZE, e.code, `map${this.#where(' ')} is frozen already, or was opened read-only`);
      throw e;
    }
  }

  /** Pin at `path` on a bpffs mount. */
  pin(path: string): void {
    this.#check('OBJ_PIN');
    objPin(this.#fdNum, path);
  }

  info(): MapInfoResult {
    this.#check('OBJ_GET_INFO_BY_FD');
    const i = mapInfo(this.#fdNum);
    return { ...i, typeName: mapTypeName(i.type) };
  }

  close(): void {
    this.#drop();
    this.fd.close();
  }

  /** Stop using the fd and free the native memory (close(), or the Fd closed by someone else). */
  #drop(): void {
    if (this.#fdNum < 0) return;
    this.#fdNum = -1;
    releaseAreas(this as unknown as BpfMap<unknown, unknown>);
    forgotten.unregister(this);
    this.#mem.free();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** Raw value bytes → the value (codec-decoded; per-CPU: one per CPU). */
  decodeValue(bytes: Uint8Array): V {
    if (this.perCpu) {
      const stride = align8(this.valueSize);
      const out: unknown[] = new Array(this.cpus);
      for (let c = 0; c < this.cpus; c++) {
        const b = bytes.subarray(c * stride, c * stride + this.valueSize);
        out[c] = this.valueCodec ? this.valueCodec.decode(b) : b;
      }
      return out as V;
    }
    return this.valueCodec ? this.valueCodec.decode(bytes) : bytes as V;
  }

  decodeKey(bytes: Uint8Array): K {
    return this.keyCodec ? this.keyCodec.decode(bytes) : bytes as K;
  }

  /** A key (bytes, a codec value, or a number for 1/2/4/8-byte keys) → its bytes, checked. */
  encodeKey(key: K | Uint8Array | number | bigint, op = 'encode key'): Uint8Array {
    let b: Uint8Array;
    if (key instanceof Uint8Array) b = key;
    else if (this.keyCodec) b = this.keyCodec.encode(key as K);
    else if (typeof key === 'number' || typeof key === 'bigint') b = intBytes(key, this.keySize, op, 'key');
    else throw new BpfArgumentError(op, `key must be a Uint8Array (or a number for a 1/2/4/8-byte key) when the map has no key codec${this.#where(' for ')}`);
    if (b.length !== this.keySize) throw new BpfArgumentError(op, `key is ${b.length} bytes, map${this.#where(' ')} has ${this.keySize}-byte keys`);
    return b;
  }

  /** A value (bytes, codec value, per-CPU array, or map/program fd holder) → its bytes, checked. */
  encodeValue(value: unknown, op = 'encode value'): Uint8Array {
    if (this.perCpu && Array.isArray(value)) {
      if (value.length !== this.cpus) throw new BpfArgumentError(op, `per-CPU value needs ${this.cpus} entries (possible CPUs), got ${value.length}`);
      const stride = align8(this.valueSize);
      const out = new Uint8Array(this.valueBytes);
      for (let c = 0; c < value.length; c++) {
        let b: Uint8Array;
        try {
          b = this.#single(value[c], op);
        } catch (e) {
          throw e instanceof CodecError ? e.under(`value[${c}]`) : e;
        }
        if (b.length !== this.valueSize) throw new BpfArgumentError(op, `value[${c}] is ${b.length} bytes, map${this.#where(' ')} has ${this.valueSize}-byte values`);
        out.set(b, c * stride);
      }
      return out;
    }
    if (this.perCpu && value instanceof Uint8Array && value.length === this.valueSize && this.valueBytes !== this.valueSize) {
      throw new BpfArgumentError(op, `per-CPU map${this.#where(' ')}: give an array of ${this.cpus} values or ${this.valueBytes} bytes (8-byte aligned slots)`);
    }
    const b = this.perCpu && value instanceof Uint8Array ? value : this.#single(value, op);
    if (b.length !== this.valueBytes) throw new BpfArgumentError(op, `value is ${b.length} bytes, map${this.#where(' ')} has ${this.valueBytes}-byte values`);
    return b;
  }

  #single(value: unknown, op: string): Uint8Array {
    if (value instanceof Uint8Array) return value;
    if (FD_VALUED.has(this.type)) {
      const fd = value instanceof Fd ? value : (value as { fd?: unknown })?.fd instanceof Fd ? (value as { fd: Fd }).fd : undefined;
      // sockmap/sockhash/reuseport_sockarray also take the fd as a u64 (valueSize 8)
      if (fd) return intBytes(fd.value, this.valueSize === 8 ? 8 : 4, op, 'value');
    }
    if (value instanceof Fd || value instanceof BpfMap) {
      throw new BpfArgumentError(op, `a ${this.typeName} map${this.#where(' ')} holds ${this.type === BPF_MAP_TYPE.DEVMAP || this.type === BPF_MAP_TYPE.DEVMAP_HASH ? 'interface indexes' : this.type === BPF_MAP_TYPE.CPUMAP ? 'queue sizes' : 'values'}, not fds: give the value's bytes or number`);
    }
    if (this.valueCodec) return this.valueCodec.encode(value as V);
    if (typeof value === 'number' || typeof value === 'bigint') return intBytes(value, this.valueSize, op, 'value');
    throw new BpfArgumentError(op, `value must be a Uint8Array when the map has no value codec${this.#where(' for ')}`);
  }

  #putKey(key: K | Uint8Array | number | bigint, op: string): void {
    if (this.#fdNum < 0) throw new ClosedError(`map${this.#where(' ')}`);
    if (op === 'MAP_LOOKUP_ELEM' && this.type === BPF_MAP_TYPE.BLOOM_FILTER) throw this.#bloomLookup('lookup()');
    // an integer key of a map without a key codec goes straight into the key area, as C's stack variable
    if (typeof key === 'number' && this.keyCodec === undefined) return writeInt(this.#key, key, this.keySize, op, 'key');
    const b = this.encodeKey(key, op);
    const dst = this.#key;
    const n = b.length;
    // a byte loop beats TypedArray.prototype.set for the small keys of the hot path
    if (n <= 32) for (let i = 0; i < n; i++) dst[i] = b[i];
    else dst.set(b);
  }

  /** A fresh copy of the value area (byte loop for small values: cheaper than slice()). */
  #copyValue(): Uint8Array {
    const src = this.#value;
    const n = src.length;
    if (n > 64) return src.slice();
    const out = new Uint8Array(n);
    for (let i = 0; i < n; i++) out[i] = src[i];
    return out;
  }

  #putValue(value: unknown, op: string): void {
    const b = this.encodeValue(value, op);
    const dst = this.#value;
    const n = b.length;
    if (n <= 64) for (let i = 0; i < n; i++) dst[i] = b[i];
    else dst.set(b);
  }

  #setFlags(f: number): void {
    this.#attrView.setUint32(MAP_ELEM_ATTR.off.flags, f, true);
  }

  #check(op: string): void {
    if (this.#fdNum < 0) throw new ClosedError(`map${this.#where(' ')}`);
    void op;
  }

  #needKeys(op: string): void {
    if (this.keySize === 0) throw new BpfArgumentError(op, `a ${this.typeName} map${this.#where(' ')} has no keys to walk (use pop()/peek() for queues and stacks)`);
  }

  #batchCount(keys: Uint8Array, op: string): number {
    if (!(keys instanceof Uint8Array)) throw new BpfArgumentError(op, `keys must be a Uint8Array of packed keys, got ${keys === null ? 'null' : typeof keys}`);
    if (this.keySize === 0 || keys.length % this.keySize !== 0) {
      throw new BpfArgumentError(op, `${keys.length} bytes of keys is not a multiple of the ${this.keySize}-byte key${this.#where(' of ')}`);
    }
    return keys.length / this.keySize;
  }

  #where(prefix = ''): string {
    return this.name ? `${prefix}${this.name}` : '';
  }

  /** Internal: the raw fd number (for iterators); throws when closed. */
  get fdNumber(): number {
    if (this.#fdNum < 0) throw new ClosedError(`map${this.#where(' ')}`);
    return this.#fdNum;
  }
}

const MAP_NAME = /^[A-Za-z0-9_.]{0,15}$/;

/** Throws unless one value (every CPU's 8-byte-aligned slot of a per-CPU map) fits a typed array here. */
function checkValueArea(op: string, type: number, valueSize: number, name: string | undefined): void {
  const perCpu = isPerCpu(type);
  if ((perCpu ? align8(valueSize) * possibleCpus() : valueSize) <= MAX_VALUE_AREA) return;
  throw new BpfArgumentError(op, `${name ? `map ${name}: ` : ''}valueSize ${valueSize}${perCpu ? ` × ${possibleCpus()} CPUs` : ''} is more than one value can take here (1 GiB)`);
}

function checkU32(what: string, n: number): void {
  if (!isU32(n)) throw new BpfArgumentError('BpfMap.create', `${what} must be a u32, got ${typeof n === 'string' ? JSON.stringify(n) : String(n)}`);
}

/** One element attr of a map's block: its fd and the key and value (or next key) pointers. */
function setAttr(v: DataView, base: number, fd: number, keyPtr: bigint, out: number): void {
  v.setUint32(base + MAP_ELEM_ATTR.off.map_fd, fd, true);
  v.setBigUint64(base + MAP_ELEM_ATTR.off.key, keyPtr, true);
  v.setBigUint64(base + MAP_ELEM_ATTR.off.value, BigInt(out), true);
}

function intBytes(n: number | bigint, size: number, op: string, what: string): Uint8Array {
  const b = new Uint8Array(size);
  writeInt(b, n, size, op, what);
  return b;
}

/**
 * A number or bigint as a little-endian `size`-byte integer at dst[0..size), written byte by byte (a
 * DataView over a small array's buffer would move it off V8's heap). Both readings of the bytes are
 * accepted, unsigned and two's complement (-2^(8·size-1) .. 2^(8·size)-1); anything else is an error,
 * never a silent truncation.
 */
function writeInt(dst: Uint8Array, n: number | bigint, size: number, op: string, what: string): void {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) {
    throw new BpfArgumentError(op, `a number ${what} needs a 1, 2, 4 or 8-byte ${what} (this map's is ${size} bytes): pass a Uint8Array`);
  }
  if (size < 8 && typeof n === 'number') {
    const lim = 2 ** (8 * size);
    if (!(Number.isInteger(n) && n >= -lim / 2 && n < lim)) throw intRangeError(n, size, op, what);
    const x = n >>> 0;
    dst[0] = x;
    if (size > 1) dst[1] = x >>> 8;
    if (size > 2) {
      dst[2] = x >>> 16;
      dst[3] = x >>> 24;
    }
    return;
  }
  if (typeof n === 'number' && !Number.isInteger(n)) throw intRangeError(n, size, op, what);
  const big = BigInt(n);
  const bits = BigInt(8 * size);
  if (big < -(1n << (bits - 1n)) || big >= 1n << bits) throw intRangeError(n, size, op, what);
  const x = BigInt.asUintN(8 * size, big);
  for (let i = 0; i < size; i++) dst[i] = Number((x >> BigInt(8 * i)) & 0xffn);
}

function intRangeError(n: number | bigint, size: number, op: string, what: string): BpfArgumentError {
  const bits = BigInt(8 * size);
  return new BpfArgumentError(op, `${what} ${String(n)} is not an integer that fits ${size} bytes (${-(1n << (bits - 1n))}..${(1n << bits) - 1n})`);
}
