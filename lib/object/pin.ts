// LIBBPF_PIN_BY_NAME: a map pinned at <pinPath>/<name> is reused by the next load when it is
// compatible (type, key/value size, max entries, flags, map_extra: libbpf's test) and refused
// with the differences named when it is not.
import { existsSync, mkdirSync, rmdirSync, unlinkSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { objGet, mapInfo, checkBpffs, type MapInfo } from '../syscall/obj.js';
import { fdKind } from '../syscall/fd-kind.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { mapTypeName } from '../syscall/types.js';
import type { Fd } from '../syscall/fd.js';
import { ObjectError, PinMismatchError } from './errors.js';
import type { MapSpec } from './spec.js';

export const DEFAULT_PIN_PATH = '/sys/fs/bpf';

/** Where a by-name map lives; bpffs names cannot contain '.', so such maps cannot be pinned by name. */
export function pinPathOf(root: string, m: MapSpec): string {
  if (m.name.includes('.') || m.name.includes('/')) {
    throw new ObjectError(`map ${m.name}: cannot be pinned by name (bpffs names cannot contain '.' or '/')`, { map: m.name });
  }
  return join(root, m.name);
}

/**
 * Throws NotBpffsError unless pinRoot is (on) a bpffs mount; checked before anything is made. A
 * missing pinRoot is fine when its nearest existing ancestor is on bpffs (makePinRoot creates it).
 */
export function checkPinRoot(pinRoot: string): void {
  let dir = resolve(pinRoot);
  while (!existsSync(dir) && dirname(dir) !== dir) dir = dirname(dir);
  checkBpffs('pin', dir, false, pinRoot);
}

/** Create pinRoot (as libbpf does before pinning); returns the first directory made, if any. */
export function makePinRoot(pinRoot: string): string | undefined {
  return mkdirSync(pinRoot, { recursive: true, mode: 0o700 });
}

/** Remove what makePinRoot made, if it is empty again (failure clean-up). */
export function removePinRoot(first: string | undefined, pinRoot: string): void {
  if (!first) return;
  for (let dir = resolve(pinRoot); ; dir = dirname(dir)) {
    try { rmdirSync(dir); } catch { return; }
    if (dir === resolve(first)) return;
  }
}

/** An fd of the map pinned at `path`, or undefined when nothing is pinned there. */
export function openPinnedMap(path: string): Fd | undefined {
  if (!existsSync(path)) return undefined;
  try {
    return objGet(path);
  } catch (e) {
    if (e instanceof BpfError && e.code === ERRNO.ENOENT) return undefined;
    throw e;
  }
}

/** What differs between a pinned map and the definition (empty: compatible). */
export function pinDifferences(m: MapSpec, info: MapInfo, maxEntries: number, flags: number, have = 'pinned'): string[] {
  const d: string[] = [];
  if (info.type !== m.type) d.push(`type ${mapTypeName(info.type)} ${have}, ${mapTypeName(m.type)} defined`);
  if (info.keySize !== m.keySize) d.push(`key_size ${info.keySize} ${have}, ${m.keySize} defined`);
  if (info.valueSize !== m.valueSize) d.push(`value_size ${info.valueSize} ${have}, ${m.valueSize} defined`);
  if (info.maxEntries !== maxEntries) d.push(`max_entries ${info.maxEntries} ${have}, ${maxEntries} defined`);
  if (info.mapFlags !== flags) d.push(`map_flags 0x${info.mapFlags.toString(16)} ${have}, 0x${flags.toString(16)} defined`);
  if (info.mapExtra !== m.mapExtra) d.push(`map_extra ${info.mapExtra} ${have}, ${m.mapExtra} defined`);
  return d;
}

/** Reuse the pin at `path` if compatible: the fd, undefined when there is none, PinMismatchError otherwise. */
export function reusePinned(m: MapSpec, path: string, maxEntries: number, flags: number): Fd | undefined {
  const fd = openPinnedMap(path);
  if (!fd) return undefined;
  try {
    const kind = fdKind(fd.value);
    if (kind !== 'map') throw new PinMismatchError(m.name, path, [`a bpf ${kind} is pinned there, not a map`]);
    const diff = pinDifferences(m, mapInfo(fd.value), maxEntries, flags);
    if (diff.length > 0) throw new PinMismatchError(m.name, path, diff);
    return fd;
  } catch (e) {
    fd.close();
    throw e;
  }
}

/** Remove a pin this load made (failure clean-up); a pin already gone is fine. */
export function removePin(path: string): void {
  try {
    unlinkSync(path);
  } catch { /* already removed */ }
}
