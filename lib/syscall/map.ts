// Map commands of bpf(): create, element operations, batches, freeze. Each copies its inputs into
// the scratch arena (stable native memory) and its outputs out of it. BpfMap (lib/map) has its own
// preallocated hot path for single elements; these are the general forms other modules call.
import { bpfCall, bpfError, sysBpf } from './bpf.js';
import { MAP_BATCH_ATTR, MAP_CREATE_ATTR, MAP_ELEM_ATTR } from './attr.js';
import { setChars, setU64, writeStruct } from './layout.js';
import { scratch } from './memory.js';
import { Fd } from './fd.js';
import { BPF_CMD, BPF_MAP_TYPE, mapTypeName } from './types.js';
import { ERRNO } from './errno.js';
import { pageSize } from './mmap.js';

export interface MapCreateAttr {
  mapType: number;
  keySize: number;
  valueSize: number;
  maxEntries: number;
  mapFlags?: number;
  innerMapFd?: number;
  numaNode?: number;
  mapName?: string;
  mapIfindex?: number;
  btfFd?: number;
  btfKeyTypeId?: number;
  btfValueTypeId?: number;
  btfVmlinuxValueTypeId?: number;
  mapExtra?: bigint | number;
  valueTypeBtfObjFd?: number;
  mapTokenFd?: number;
}

export function mapCreate(a: MapCreateAttr): Fd {
  const s = scratch();
  const at = s.attr(MAP_CREATE_ATTR.size);
  // field by field at the layout's offsets into the zeroed attr; absent fields stay 0
  const v = s.view;
  const O = MAP_CREATE_ATTR.off;
  v.setUint32(at + O.map_type, a.mapType, true);
  v.setUint32(at + O.key_size, a.keySize, true);
  v.setUint32(at + O.value_size, a.valueSize, true);
  v.setUint32(at + O.max_entries, a.maxEntries, true);
  v.setUint32(at + O.map_flags, a.mapFlags ?? 0, true);
  v.setUint32(at + O.inner_map_fd, a.innerMapFd ?? 0, true);
  v.setUint32(at + O.numa_node, a.numaNode ?? 0, true);
  if (a.mapName !== undefined) setChars(s.bytes, at, MAP_CREATE_ATTR, 'map_name', a.mapName);
  v.setUint32(at + O.map_ifindex, a.mapIfindex ?? 0, true);
  v.setUint32(at + O.btf_fd, a.btfFd ?? 0, true);
  v.setUint32(at + O.btf_key_type_id, a.btfKeyTypeId ?? 0, true);
  v.setUint32(at + O.btf_value_type_id, a.btfValueTypeId ?? 0, true);
  v.setUint32(at + O.btf_vmlinux_value_type_id, a.btfVmlinuxValueTypeId ?? 0, true);
  if (a.mapExtra !== undefined) setU64(v, at + O.map_extra, a.mapExtra);
  v.setInt32(at + O.value_type_btf_obj_fd, a.valueTypeBtfObjFd ?? 0, true);
  v.setInt32(at + O.map_token_fd, a.mapTokenFd ?? 0, true);
  const fd = sysBpf(BPF_CMD.MAP_CREATE, s.base + at, MAP_CREATE_ATTR.size);
  if (fd < 0) {
    // the shape goes into the error: EINVAL from MAP_CREATE means "not valid for this map type"
    const shape = `${mapTypeName(a.mapType)} map${a.mapName ? ` ${a.mapName}` : ''} (key_size ${a.keySize}, value_size ${a.valueSize}, max_entries ${a.maxEntries}, map_flags 0x${(a.mapFlags ?? 0).toString(16)})`;
    throw bpfError(BPF_CMD.MAP_CREATE, -fd, shape + ringSizeRule(a, -fd));
  }
  return new Fd(fd, a.mapName ? `map ${a.mapName}` : 'map');
}

/** The rule a ring buffer's size broke, when EINVAL is about it (the errno alone does not say). */
function ringSizeRule(a: MapCreateAttr, errno: number): string {
  if (errno !== ERRNO.EINVAL || (a.mapType !== BPF_MAP_TYPE.RINGBUF && a.mapType !== BPF_MAP_TYPE.USER_RINGBUF)) return '';
  const page = pageSize();
  const n = a.maxEntries;
  if (n >= page && n % page === 0 && (n & (n - 1)) === 0) return '';
  return `: the max_entries of a ${mapTypeName(a.mapType)} map (its size in bytes) must be a power of 2 and a multiple of the page size (${page})`;
}

/** Runs an element command with key (and value area) in scratch memory; returns -errno or the result. */
function elem(cmd: number, fd: number, key: Uint8Array | undefined, valueIn: Uint8Array | undefined, valueOutSize: number, flags: number | bigint) {
  const s = scratch();
  const attr = s.alloc(MAP_ELEM_ATTR.size);
  const keyAddr = key ? s.put(key) : 0;
  const val = valueIn ? { address: s.put(valueIn), bytes: undefined } : valueOutSize > 0 ? s.alloc(valueOutSize) : { address: 0, bytes: undefined };
  const v = attr.view;
  v.setUint32(MAP_ELEM_ATTR.off.map_fd, fd, true);
  v.setBigUint64(MAP_ELEM_ATTR.off.key, BigInt(keyAddr), true);
  v.setBigUint64(MAP_ELEM_ATTR.off.value, BigInt(val.address), true);
  v.setBigUint64(MAP_ELEM_ATTR.off.flags, BigInt(flags), true);
  const r = sysBpf(cmd, attr.address, MAP_ELEM_ATTR.size);
  return { r, out: val.bytes };
}

/** The value for `key`; undefined when absent (ENOENT). */
export function mapLookupElem(fd: number, key: Uint8Array, valueSize: number, flags = 0): Uint8Array | undefined {
  const { r, out } = elem(BPF_CMD.MAP_LOOKUP_ELEM, fd, key, undefined, valueSize, flags);
  if (r === -ERRNO.ENOENT) return undefined;
  if (r < 0) throw bpfError(BPF_CMD.MAP_LOOKUP_ELEM, -r);
  return out!.slice();
}

/** flags: BPF_UPDATE.ANY / NOEXIST / EXIST (| F_LOCK). KeyExistsError for NOEXIST on a present key. */
export function mapUpdateElem(fd: number, key: Uint8Array, value: Uint8Array, flags: number | bigint = 0): void {
  const { r } = elem(BPF_CMD.MAP_UPDATE_ELEM, fd, key, value, 0, flags);
  if (r < 0) throw bpfError(BPF_CMD.MAP_UPDATE_ELEM, -r);
}

/** Throws KeyNotFoundError when absent. */
export function mapDeleteElem(fd: number, key: Uint8Array, flags = 0): void {
  const { r } = elem(BPF_CMD.MAP_DELETE_ELEM, fd, key, undefined, 0, flags);
  if (r < 0) throw bpfError(BPF_CMD.MAP_DELETE_ELEM, -r);
}

/** For queues/stacks pass no key. Throws KeyNotFoundError when absent. */
export function mapLookupAndDeleteElem(fd: number, key: Uint8Array | undefined, valueSize: number, flags = 0): Uint8Array {
  const { r, out } = elem(BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM, fd, key, undefined, valueSize, flags);
  if (r < 0) throw bpfError(BPF_CMD.MAP_LOOKUP_AND_DELETE_ELEM, -r);
  return out!.slice();
}

/** The key after `key` (the first key when undefined); undefined at the end. */
export function mapGetNextKey(fd: number, key: Uint8Array | undefined, keySize: number): Uint8Array | undefined {
  const { r, out } = elem(BPF_CMD.MAP_GET_NEXT_KEY, fd, key, undefined, keySize, 0);
  if (r === -ERRNO.ENOENT) return undefined;
  if (r < 0) throw bpfError(BPF_CMD.MAP_GET_NEXT_KEY, -r);
  return out!.slice();
}

export function mapFreeze(fd: number): void {
  const s = scratch();
  const attr = s.alloc(MAP_ELEM_ATTR.size);
  attr.view.setUint32(MAP_ELEM_ATTR.off.map_fd, fd, true);
  bpfCall(BPF_CMD.MAP_FREEZE, attr.address, MAP_ELEM_ATTR.size);
}

export interface BatchResult {
  /** count entries: keys count*keySize bytes, values count*valueSize bytes */
  count: number;
  keys: Uint8Array;
  values: Uint8Array;
  /** opaque position to pass as inBatch to continue; undefined when the map is exhausted */
  next: Uint8Array | undefined;
}

/**
 * MAP_LOOKUP_BATCH (or LOOKUP_AND_DELETE_BATCH): up to `count` entries after position `inBatch`
 * (start when undefined). The batch token is opaque and at most max(keySize, 8) bytes here.
 * Errors: EINVAL/ENOTSUPP/EOPNOTSUPP mean the map type has no batch ops.
 */
export function mapLookupBatch(
  fd: number, o: { inBatch?: Uint8Array; count: number; keySize: number; valueSize: number; elemFlags?: number; andDelete?: boolean },
): BatchResult {
  const s = scratch();
  const tokenSize = Math.max(o.keySize, 8);
  const attr = s.alloc(MAP_BATCH_ATTR.size);
  const inTok = o.inBatch ? s.put(padTo(o.inBatch, tokenSize)) : 0;
  const outTok = s.alloc(tokenSize);
  const keys = s.alloc(o.count * o.keySize);
  const values = s.alloc(o.count * o.valueSize);
  writeStruct(attr.view, 0, MAP_BATCH_ATTR, {
    in_batch: inTok, out_batch: outTok.address, keys: keys.address, values: values.address,
    count: o.count, map_fd: fd, elem_flags: o.elemFlags,
  });
  const cmd = o.andDelete ? BPF_CMD.MAP_LOOKUP_AND_DELETE_BATCH : BPF_CMD.MAP_LOOKUP_BATCH;
  const r = sysBpf(cmd, attr.address, MAP_BATCH_ATTR.size);
  const count = attr.view.getUint32(MAP_BATCH_ATTR.off.count, true);
  if (r < 0 && r !== -ERRNO.ENOENT) throw bpfError(cmd, -r);
  return {
    count,
    keys: keys.bytes.slice(0, count * o.keySize),
    values: values.bytes.slice(0, count * o.valueSize),
    next: r === -ERRNO.ENOENT ? undefined : outTok.bytes.slice(),
  };
}

/** MAP_UPDATE_BATCH: `count` keys and values packed back to back. Returns how many were written. */
export function mapUpdateBatch(fd: number, keys: Uint8Array, values: Uint8Array, count: number, elemFlags = 0): number {
  const s = scratch();
  const attr = s.alloc(MAP_BATCH_ATTR.size);
  writeStruct(attr.view, 0, MAP_BATCH_ATTR, { keys: s.put(keys), values: s.put(values), count, map_fd: fd, elem_flags: elemFlags });
  const r = sysBpf(BPF_CMD.MAP_UPDATE_BATCH, attr.address, MAP_BATCH_ATTR.size);
  const done = attr.view.getUint32(MAP_BATCH_ATTR.off.count, true);
  if (r < 0) throw bpfError(BPF_CMD.MAP_UPDATE_BATCH, -r, batchProgress(done, count, 'entries'));
  return done;
}

/** MAP_DELETE_BATCH: `count` keys packed back to back. Returns how many were deleted. */
export function mapDeleteBatch(fd: number, keys: Uint8Array, count: number, elemFlags = 0): number {
  const s = scratch();
  const attr = s.alloc(MAP_BATCH_ATTR.size);
  writeStruct(attr.view, 0, MAP_BATCH_ATTR, { keys: s.put(keys), count, map_fd: fd, elem_flags: elemFlags });
  const r = sysBpf(BPF_CMD.MAP_DELETE_BATCH, attr.address, MAP_BATCH_ATTR.size);
  const done = attr.view.getUint32(MAP_BATCH_ATTR.off.count, true);
  if (r < 0) throw bpfError(BPF_CMD.MAP_DELETE_BATCH, -r, batchProgress(done, count, 'keys'));
  return done;
}

/**
 * How far a failed batch got. The kernel writes the count back only once its loop has run (it stops
 * at the entry that failed), so a count left as asked means it refused before the first (a frozen
 * map, a flag it does not take).
 */
function batchProgress(done: number, count: number, what: string): string {
  return done >= count ? `refused before the first of ${count} ${what}: none written` : `after ${done} of ${count} ${what}`;
}

function padTo(b: Uint8Array, n: number): Uint8Array {
  if (b.length >= n) return b;
  const out = new Uint8Array(n);
  out.set(b);
  return out;
}
