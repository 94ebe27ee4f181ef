// The BTF blob handed to BTF_LOAD: the object's .BTF with its DATASECs completed. clang leaves a
// DATASEC's size and its variables' offsets at 0 in a .o (they are final only after linking); the
// kernel refuses a zero-sized DATASEC and wants variables in offset order, so the section sizes
// and symbol values computed by the spec stage (ObjectSpec.source.datasecs) are written in here.
// For an older kernel the types are rewritten (lib/btf sanitizeBtf) and encoded anew, keeping the
// object's string section so .BTF.ext's file/line offsets stay valid.
// Pure: no syscall, the spec's bytes are not modified.
import { extraSize } from '../btf/parse-type.js';
import { encodeBtf } from '../btf/encode.js';
import { btfNeedsSanitizing, sanitizeBtf, type BtfKernelFeatures } from '../btf/sanitize.js';
import type { BtfType } from '../btf/types.js';
import { ObjectError } from './errors.js';
import type { ObjectSpec } from './read.js';
import type { DatasecFixup } from './datasec.js';

const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;

export interface UploadBlob {
  readonly blob: Uint8Array;
  /** the sanitizer's notes: each type rewritten for the kernel, and why */
  readonly changed: readonly string[];
}

/** The object's BTF as it is uploaded to a kernel with `features`, or undefined when the object has none. */
export function uploadBlob(spec: ObjectSpec, features?: BtfKernelFeatures): UploadBlob | undefined {
  const raw = spec.source.btfBytes;
  const btf = spec.source.btf;
  if (!raw || !btf) return undefined;
  if (!features || !btfNeedsSanitizing(features)) return { blob: patchDatasecs(raw, spec.source.datasecs, spec.littleEndian), changed: [] };
  const fix = new Map(spec.source.datasecs.map((f) => [f.id, f]));
  const types: BtfType[] = [];
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    const f = fix.get(id);
    types.push(f && t.kind === 'datasec' ? { ...t, size: f.size, vars: f.vars } : t);
  }
  const { types: clean, changed } = sanitizeBtf(types, features);
  const h = btf.header;
  const strings = raw.subarray(h.hdrLen + h.strOff, h.hdrLen + h.strOff + h.strLen);
  return { blob: encodeBtf(clean, { littleEndian: spec.littleEndian, strings }), changed };
}

export function patchDatasecs(raw: Uint8Array, fixups: readonly DatasecFixup[], le: boolean): Uint8Array {
  if (fixups.length === 0) return raw;
  const out = raw.slice();
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  if (out.length < HEADER_MIN || v.getUint16(0, le) !== BTF_MAGIC) throw new ObjectError('.BTF: bad magic', { section: '.BTF' });
  const hdrLen = v.getUint32(4, le);
  const start = hdrLen + v.getUint32(8, le);
  const end = start + v.getUint32(12, le);
  if (end > out.length) throw new ObjectError('.BTF: type section beyond the end of the data', { section: '.BTF' });
  const byId = new Map(fixups.map((f) => [f.id, f]));
  let id = 1;
  for (let at = start; at < end; id++) {
    if (at + 12 > end) throw new ObjectError(`.BTF: type ${id} cut short at byte ${at}`, { section: '.BTF' });
    const info = v.getUint32(at + 4, le);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    const f = byId.get(id);
    if (f) {
      if (kind !== 15 || f.vars.length !== vlen) throw new ObjectError(`.BTF: type ${id} is not the DATASEC the spec describes`, { section: '.BTF' });
      v.setUint32(at + 8, f.size, le);
      f.vars.forEach((vi, i) => {
        const p = at + 12 + i * 12;
        v.setUint32(p, vi.type, le);
        v.setUint32(p + 4, vi.offset, le);
        v.setUint32(p + 8, vi.size, le);
      });
    }
    const extra = extraSize(kind, vlen);
    if (extra < 0) throw new ObjectError(`.BTF: type ${id} has unknown kind ${kind}`, { section: '.BTF' });
    at += 12 + extra;
  }
  return out;
}
