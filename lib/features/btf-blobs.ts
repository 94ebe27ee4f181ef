// The smallest BTF blobs that use one BTF kind each, for asking the kernel which kinds it accepts.
// Written by hand (not through lib/btf's encoder) so the probe has no dependency beyond bytes.
// Format: include/uapi/linux/btf.h (header, then types, then the string section).

const KIND = {
  int: 1, ptr: 2, array: 3, struct: 4, union: 5, enum: 6, fwd: 7, typedef: 8, volatile: 9, const: 10,
  restrict: 11, func: 12, func_proto: 13, var: 14, datasec: 15, float: 16, decl_tag: 17, type_tag: 18, enum64: 19,
} as const;

export type BtfKindName = keyof typeof KIND;
export const BTF_KIND_NAMES = Object.keys(KIND) as BtfKindName[];

/** A tiny BTF writer: types as u32 words, a string table with dedup. */
class Blob {
  readonly words: number[] = [];
  readonly strings: string[] = [''];
  #offsets = new Map<string, number>([['', 0]]);
  #strLen = 1;

  str(s: string): number {
    const known = this.#offsets.get(s);
    if (known !== undefined) return known;
    const off = this.#strLen;
    this.#offsets.set(s, off);
    this.strings.push(s);
    this.#strLen += Buffer.byteLength(s) + 1;
    return off;
  }

  /** btf_type: name_off, info (vlen | kind << 24 | kflag << 31), size or type; then extra words */
  type(name: string, kind: number, vlen: number, sizeOrType: number, ...extra: number[]): this {
    this.words.push(this.str(name), ((kind << 24) | vlen) >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return this;
  }

  int(name = 'int'): this {
    // size 4, encoding SIGNED (1 << 24), offset 0, 32 bits
    return this.type(name, KIND.int, 0, 4, (1 << 24) | 32);
  }

  bytes(): Uint8Array {
    const typeLen = this.words.length * 4;
    const strs = Buffer.from(`${this.strings.join('\0')}\0`, 'utf8');
    const out = new Uint8Array(24 + typeLen + strs.length);
    const v = new DataView(out.buffer);
    v.setUint16(0, 0xeb9f, true); // magic
    v.setUint8(2, 1); // version
    v.setUint8(3, 0); // flags
    v.setUint32(4, 24, true); // hdr_len
    v.setUint32(8, 0, true); // type_off
    v.setUint32(12, typeLen, true);
    v.setUint32(16, typeLen, true); // str_off
    v.setUint32(20, strs.length, true);
    this.words.forEach((w, i) => v.setUint32(24 + i * 4, w, true));
    out.set(strs, 24 + typeLen);
    return out;
  }
}

/** A blob that needs `kind` and nothing newer than it (type 1 is always an int, except float/enum64). */
export function btfBlobFor(kind: BtfKindName): Uint8Array {
  const b = new Blob();
  switch (kind) {
    case 'int': b.int(); break;
    case 'ptr': b.int().type('', KIND.ptr, 0, 1); break;
    case 'array': b.int().type('', KIND.array, 0, 0, 1, 1, 4); break; // elem type, index type, nelems
    case 'struct': b.int().type('s', KIND.struct, 1, 4, b.str('a'), 1, 0); break; // member: name, type, bit offset
    case 'union': b.int().type('u', KIND.union, 1, 4, b.str('a'), 1, 0); break;
    case 'enum': b.type('e', KIND.enum, 1, 4, b.str('A'), 1); break;
    case 'fwd': b.type('f', KIND.fwd, 0, 0); break;
    case 'typedef': b.int().type('t', KIND.typedef, 0, 1); break;
    case 'volatile': b.int().type('', KIND.volatile, 0, 1); break;
    case 'const': b.int().type('', KIND.const, 0, 1); break;
    case 'restrict': b.int().type('', KIND.ptr, 0, 1).type('', KIND.restrict, 0, 2); break;
    // int f(int a): FUNC_PROTO (ret int, one param), then FUNC with global linkage
    case 'func_proto': b.int().type('', KIND.func_proto, 1, 1, b.str('a'), 1); break;
    case 'func': b.int().type('', KIND.func_proto, 1, 1, b.str('a'), 1).type('f', KIND.func, 1, 2); break;
    // int a; in section .data
    case 'var': b.int().type('a', KIND.var, 0, 1, 1); break;
    case 'datasec': b.int().type('a', KIND.var, 0, 1, 1).type('.data', KIND.datasec, 1, 4, 2, 0, 4); break;
    case 'float': b.type('float', KIND.float, 0, 4); break;
    case 'decl_tag': b.int().type('a', KIND.var, 0, 1, 1).type('tag', KIND.decl_tag, 0, 2, 0xffffffff); break;
    case 'type_tag': b.int().type('tag', KIND.type_tag, 0, 1).type('', KIND.ptr, 0, 2); break;
    case 'enum64': b.type('e', KIND.enum64, 1, 8, b.str('A'), 0, 1); break;
  }
  return b.bytes();
}

/** BTF for local-storage map probes: [1] int, [2] struct bpf_spin_lock { int val }, [3] struct val { int cnt; struct bpf_spin_lock l }. */
export function localStorageBtf(): Uint8Array {
  const b = new Blob();
  b.int();
  b.type('bpf_spin_lock', KIND.struct, 1, 4, b.str('val'), 1, 0);
  b.type('val', KIND.struct, 2, 8, b.str('cnt'), 1, 0, b.str('l'), 2, 32);
  return b.bytes();
}
