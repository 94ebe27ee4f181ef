// lib/btf's Btf as a CodecTypeSource: the codecs' small view of a type (ints with their encoding,
// members with bitfield sizes, enums with signedness, typedefs and qualifiers as aliases, a
// DATASEC as the struct of its variables), read
// on demand and cached per type id.
import type { Btf } from '../btf/btf.js';
import type { CodecType, CodecTypeSource } from './types.js';

const sources = new WeakMap<Btf, CodecTypeSource>();

function convert(btf: Btf, id: number): CodecType {
  const t = btf.type(id);
  switch (t.kind) {
    case 'void': return { kind: 'void' };
    case 'int': return { kind: 'int', name: t.name, size: t.size, signed: t.signed, char: t.char, bool: t.bool, bitOffset: t.bitOffset, bits: t.bits };
    case 'ptr': return { kind: 'ptr' };
    case 'array': return { kind: 'array', type: t.type, count: t.nelems };
    case 'struct': case 'union':
      return { kind: t.kind, name: t.name, size: t.size, members: t.members.map((m) => ({ name: m.name, type: m.type, bitOffset: m.bitOffset, bitSize: m.bitfieldSize })) };
    case 'enum': case 'enum64': return { kind: 'enum', name: t.name, size: t.size, signed: t.signed, values: t.values };
    case 'float': return { kind: 'float', name: t.name, size: t.size };
    case 'datasec': {
      // a global-data map's value (.bss, .data, .rodata): a struct of its variables, by name
      const members = [];
      for (const v of t.vars) {
        const vt = btf.type(v.type);
        if (vt.kind === 'var') members.push({ name: vt.name, type: vt.type, bitOffset: v.offset * 8, bitSize: 0 });
      }
      return { kind: 'struct', name: t.name, size: t.size, members };
    }
    case 'typedef': return { kind: 'alias', type: t.type, name: t.name };
    case 'const': case 'volatile': case 'restrict': case 'type_tag': return { kind: 'alias', type: t.type };
    default: return { kind: 'other', what: t.kind };
  }
}

/** The codec view of `btf` (one per Btf, types converted on first use). */
export function btfCodecSource(btf: Btf): CodecTypeSource {
  let s = sources.get(btf);
  if (!s) {
    const cache = new Map<number, CodecType>();
    s = {
      get(id: number): CodecType {
        let c = cache.get(id);
        if (!c) cache.set(id, (c = convert(btf, id)));
        return c;
      },
    };
    sources.set(btf, s);
  }
  return s;
}
