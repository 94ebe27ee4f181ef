// The BTF blob handed to BTF_LOAD: the object's .BTF with its DATASECs completed. clang leaves a
// DATASEC's size and its variables' offsets at 0 in a .o (they are final only after linking); the
// kernel refuses a zero-sized DATASEC and wants variables in offset order, so the section sizes
// and symbol values computed by the spec stage (ObjectSpec.source.datasecs) are written in here.
// Pure: no syscall, the spec's bytes are not modified.
import { extraSize } from '../btf/parse-type.js';
import { ObjectError } from './errors.js';
import type { ObjectSpec } from './read.js';
import type { DatasecFixup } from './datasec.js';

const BTF_MAGIC = 0xeb9f;
const HEADER_MIN = 24;

/** The object's BTF as it is uploaded, or undefined when the object has none. */
export function uploadBlob(spec: ObjectSpec): Uint8Array | undefined {
  const raw = spec.source.btfBytes;
  if (!raw) return undefined;
  return patchDatasecs(raw, spec.source.datasecs, spec.littleEndian);
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
