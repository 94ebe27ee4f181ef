// The BTF blob handed to BTF_LOAD: the object's types with their DATASECs completed. clang leaves a
// DATASEC's size and its variables' offsets at 0 in a .o (they are final only after linking); the
// kernel refuses a zero-sized DATASEC and wants variables in offset order, so the section sizes
// and symbol values computed by the spec stage (ObjectSpec.source.datasecs) go in here: in place
// in a copy of the object's bytes for a kernel that takes every kind (the common, fast case), or
// through lib/btf (sanitizeBtf, then encodeBtf with the object's string section kept whole, so
// .BTF.ext's file/line offsets stay valid) for an older kernel.
// Pure: no syscall, the spec's bytes are not modified.
import { encodeBtf } from '../btf/encode.js';
import { ALL_BTF_FEATURES, btfNeedsSanitizing, sanitizeBtf, type BtfKernelFeatures } from '../btf/sanitize.js';
import { externBtfTypes, objectExterns } from './externs.js';
import type { BtfType } from '../btf/types.js';
import { ObjectError } from './errors.js';
import type { ObjectSpec } from './read.js';
import type { DatasecFixup } from './datasec.js';
import type { ByteArena } from './link.js';

const NONE: readonly string[] = [];

export interface UploadBlob {
  readonly blob: Uint8Array;
  /** the sanitizer's notes: each type rewritten for the kernel, and why */
  readonly changed: readonly string[];
}

/** The object's BTF as it is uploaded to a kernel with `features`, or undefined when the object has none. */
export function uploadBlob(spec: ObjectSpec, features?: BtfKernelFeatures, arena?: ByteArena): UploadBlob | undefined {
  const raw = spec.source.btfBytes;
  const btf = spec.source.btf;
  if (!raw || !btf) return undefined;
  const externs = objectExterns(spec.source).externs.size > 0;
  if (!externs && (!features || !btfNeedsSanitizing(features))) return { blob: patchBtf(raw, spec.source.datasecs, spec.source.hidden, spec.littleEndian, arena), changed: NONE };
  const fix = new Map(spec.source.datasecs.map((f) => [f.id, f]));
  const types: BtfType[] = [];
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    const f = fix.get(id);
    if (f && t.kind === 'datasec') types.push({ ...t, size: f.size, vars: f.vars });
    else if (spec.source.hidden.has(id) && (t.kind === 'func' || t.kind === 'var')) types.push({ ...t, linkage: 0 });
    else types.push(t);
  }
  // externs: VARs allocated, .kconfig/.ksyms DATASECs laid out, kfuncs behind a dummy VAR (lib/object/externs.ts)
  const clean = sanitizeBtf(externs ? externBtfTypes(types, spec.source) : types, features ?? ALL_BTF_FEATURES);
  const h = btf.header;
  const strings = raw.subarray(h.hdrLen + h.strOff, h.hdrLen + h.strOff + h.strLen);
  return { blob: encodeBtf(clean.types, { littleEndian: spec.littleEndian, strings }), changed: clean.changed };
}

// per object source: null after its first load, then the bytes of its second load, reused while the
// kernel features asked for are the same object (probeBtfFeatures gives one per process)
const uploads = new WeakMap<object, { readonly features: BtfKernelFeatures | undefined; readonly up: UploadBlob | undefined } | null>();

/**
 * uploadBlob for loadObject: a source loaded again (one spec loaded in a loop, a service reloading its
 * object) reuses the bytes made for it before instead of patching or sanitizing its BTF again. The first
 * load of a source builds into `arena` (most sources are loaded once: no copy kept for them). `keep`
 * only for a spec the caller passed: a WeakMap entry per short-lived source costs the GC more than this saves.
 */
export function uploadBlobForLoad(spec: ObjectSpec, features: BtfKernelFeatures | undefined, arena: ByteArena, keep: boolean): UploadBlob | undefined {
  if (!keep) return uploadBlob(spec, features, arena);
  const c = uploads.get(spec.source);
  if (c && c.features === features) return c.up;
  if (c === undefined) {
    uploads.set(spec.source, null);
    return uploadBlob(spec, features, arena);
  }
  const up = uploadBlob(spec, features);
  uploads.set(spec.source, { features, up });
  return up;
}

/** Bytes after a type record's 12-byte common part, by BTF_KIND_* (linux/btf.h); -1 when unknown. */
function recordExtra(kind: number, vlen: number): number {
  switch (kind) {
    case 1: case 14: case 17: return 4; // INT, VAR, DECL_TAG
    case 3: return 12; // ARRAY
    case 4: case 5: case 15: case 19: return 12 * vlen; // STRUCT, UNION, DATASEC, ENUM64
    case 6: case 13: return 8 * vlen; // ENUM, FUNC_PROTO
    case 2: case 7: case 8: case 9: case 10: case 11: case 12: case 16: case 18: return 0;
    default: return -1;
  }
}

/**
 * A copy of raw BTF with the DATASEC records' sizes and variables replaced and `hidden` FUNCs/VARs
 * made static (in `arena`'s bytes when given: the loader copies them into the syscall's memory anyway).
 */
export function patchBtf(raw: Uint8Array, fixups: readonly DatasecFixup[], hidden: ReadonlySet<number>, le: boolean, arena?: ByteArena): Uint8Array {
  if (fixups.length === 0 && hidden.size === 0) return raw;
  let out: Uint8Array;
  if (arena) {
    out = arena.take(raw.length);
    out.set(raw);
  } else {
    out = raw.slice();
  }
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (out.length < 24) throw blobError('shorter than its header');
  const hdrLen = v.getUint32(4, le);
  const start = hdrLen + v.getUint32(8, le);
  const end = start + v.getUint32(12, le);
  if (end > out.length) throw blobError('type section beyond the end of the data');
  // fixups come in id order (datasec.ts walks the ids upwards)
  let next = 0;
  let last = 0;
  for (const id of hidden) if (id > last) last = id;
  if (fixups.length > 0 && fixups[fixups.length - 1].id > last) last = fixups[fixups.length - 1].id;
  let id = 1;
  for (let at = start; at < end && id <= last; id++) {
    if (at + 12 > end) throw blobError(`type ${id} cut short at byte ${at}`);
    const info = v.getUint32(at + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    if (next < fixups.length && fixups[next].id === id) {
      const f = fixups[next++];
      if (kind !== 15 || f.vars.length !== vlen) throw blobError(`type ${id} is not the DATASEC the spec describes`);
      v.setUint32(at + 8, f.size, le);
      for (let i = 0; i < f.vars.length; i++) {
        const p = at + 12 + i * 12;
        v.setUint32(p, f.vars[i].type, le);
        v.setUint32(p + 4, f.vars[i].offset, le);
        v.setUint32(p + 8, f.vars[i].size, le);
      }
    }
    if (hidden.has(id)) {
      // linkage: FUNC keeps it in vlen, VAR in the u32 after the common part
      if (kind === 12) v.setUint32(at + 4, info & ~0xffff, le);
      else if (kind === 14) v.setUint32(at + 12, 0, le);
    }
    const extra = recordExtra(kind, vlen);
    if (extra < 0) throw blobError(`type ${id} has unknown kind ${kind}`);
    at += 12 + extra;
  }
  return out;
}

function blobError(why: string): ObjectError {
  return new ObjectError(`.BTF: ${why}`, { section: '.BTF' });
}
