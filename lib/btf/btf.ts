// A parsed BTF blob (.BTF section, raw file, split BTF on a base): one pass records where each type
// record starts; types are decoded on demand and cached, so opening vmlinux (126k types) builds no
// per-type objects. Lookups by name search the string table and a name-offset index built on first use.
import { ParseError } from '../errors.js';
import { decodeType, extraSize, KIND_NAMES, type TypeSource } from './parse-type.js';
import { BtfStrings } from './strings.js';
import type { BtfKindName, BtfType, BtfTypeOf } from './types.js';

/** struct btf_header (linux/btf.h); the section offsets are relative to the end of the header. */
export interface BtfHeader {
  readonly magic: number;
  readonly version: number;
  readonly flags: number;
  readonly hdrLen: number;
  readonly typeOff: number;
  readonly typeLen: number;
  readonly strOff: number;
  readonly strLen: number;
}

export const BTF_MAGIC = 0xeb9f;
const HEADER_SIZE = 24;
/** libbpf's MAX_RESOLVE_DEPTH: how many typedef/modifier/array levels a walk follows */
const MAX_DEPTH = 32;
const KIND_NUM = new Map<string, number>(KIND_NAMES.map((n, i) => [n, i]));
const utf8 = new TextEncoder();

export interface BtfParseOptions {
  /** the base of split BTF (vmlinux under a module's BTF) */
  readonly base?: Btf;
}

export class Btf implements TypeSource {
  readonly littleEndian: boolean;
  readonly base: Btf | undefined;
  /** the first id of this blob's own types: 1, or base.typeCount for split BTF */
  readonly firstId: number;
  /** one past the last valid id (base ids included) */
  readonly typeCount: number;
  /** the blob as given */
  readonly rawBytes: Uint8Array;
  readonly header: BtfHeader;
  readonly strings: BtfStrings;
  readonly view: DataView;
  /** byte offset in rawBytes of the record of type firstId + i */
  private readonly offsets: Int32Array;
  private readonly cache: (BtfType | undefined)[];
  private nameHeads: Int32Array | undefined;
  private nameNext: Int32Array | undefined;
  private nameShift = 0;
  private readonly byName = new Map<string, number[]>();

  private constructor(bytes: Uint8Array, base: Btf | undefined) {
    this.rawBytes = bytes;
    this.base = base;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    const len = bytes.length;
    if (len < HEADER_SIZE) throw new ParseError(`truncated header: ${len} bytes, need ${HEADER_SIZE}`, { format: 'btf', offset: 0 });
    const le = bytes[0] === 0x9f && bytes[1] === 0xeb;
    if (!le && !(bytes[0] === 0xeb && bytes[1] === 0x9f)) {
      throw new ParseError(`bad magic 0x${(bytes[0] | (bytes[1] << 8)).toString(16).padStart(4, '0')} (want 0xeb9f)`, { format: 'btf', offset: 0 });
    }
    this.littleEndian = le;
    const dv = this.view;
    const h: BtfHeader = {
      magic: BTF_MAGIC, version: bytes[2], flags: bytes[3], hdrLen: dv.getUint32(4, le),
      typeOff: dv.getUint32(8, le), typeLen: dv.getUint32(12, le), strOff: dv.getUint32(16, le), strLen: dv.getUint32(20, le),
    };
    this.header = h;
    if (h.version !== 1) throw new ParseError(`unsupported version ${h.version}`, { format: 'btf', offset: 2 });
    if (h.hdrLen < HEADER_SIZE || h.hdrLen > len) throw new ParseError(`header length ${h.hdrLen} outside 24…${len}`, { format: 'btf', offset: 4 });
    const typeStart = h.hdrLen + h.typeOff;
    const strStart = h.hdrLen + h.strOff;
    if (typeStart + h.typeLen > len) throw new ParseError(`type section ${typeStart}+${h.typeLen} past the end (${len} bytes)`, { format: 'btf', section: 'types', offset: 8 });
    if (strStart + h.strLen > len) throw new ParseError(`string section ${strStart}+${h.strLen} past the end (${len} bytes)`, { format: 'btf', section: 'strings', offset: 16 });
    if (h.typeOff % 4 !== 0) throw new ParseError(`type section offset ${h.typeOff} not 4-byte aligned`, { format: 'btf', section: 'types', offset: 8 });
    if (h.typeLen % 4 !== 0) throw new ParseError(`type section length ${h.typeLen} not a multiple of 4`, { format: 'btf', section: 'types', offset: 12 });
    if (typeStart < strStart + h.strLen && strStart < typeStart + h.typeLen) {
      throw new ParseError('type and string sections overlap', { format: 'btf', offset: 8 });
    }
    if (base && base.littleEndian !== le) throw new ParseError('split BTF and its base differ in byte order', { format: 'btf', offset: 0 });
    this.strings = new BtfStrings(bytes, strStart, h.strLen, base?.strings);
    this.firstId = base ? base.typeCount : 1;
    this.offsets = this.indexTypes(typeStart, h.typeLen);
    this.typeCount = this.firstId + this.offsets.length;
    this.cache = new Array(this.offsets.length);
  }

  /** Parse raw BTF: the bytes of a .BTF section or a raw BTF file; split BTF with `opts.base`. */
  static parse(bytes: Uint8Array, opts: BtfParseOptions = {}): Btf {
    return new Btf(bytes, opts.base);
  }

  /** One pass over the type section: where each record starts; kinds and extents checked. */
  private indexTypes(start: number, len: number): Int32Array {
    const dv = this.view;
    const le = this.littleEndian;
    const end = start + len;
    const offs = new Int32Array(Math.floor(len / 12));
    let n = 0;
    for (let off = start; off < end; n++) {
      if (off + 12 > end) throw new ParseError('truncated type record', { format: 'btf', section: 'types', typeId: this.firstId + n, offset: off });
      const info = dv.getUint32(off + 4, le);
      const extra = extraSize((info >>> 24) & 0x1f, info & 0xffff);
      if (extra < 0) throw new ParseError(`unknown kind ${(info >>> 24) & 0x1f}`, { format: 'btf', section: 'types', typeId: this.firstId + n, offset: off });
      if (off + 12 + extra > end) {
        throw new ParseError(`vlen ${info & 0xffff} runs past the end of the type section`, { format: 'btf', section: 'types', typeId: this.firstId + n, offset: off });
      }
      offs[n] = off;
      off += 12 + extra;
    }
    return n === offs.length ? offs : offs.slice(0, n);
  }

  private offsetOf(id: number): number {
    const i = id - this.firstId;
    if (i < 0 || i >= this.offsets.length || !Number.isInteger(id)) {
      throw new ParseError(`type id ${id} out of range (valid: 0…${this.typeCount - 1})`, { format: 'btf', typeId: id });
    }
    return this.offsets[i];
  }

  /** The type `id` (0 is void), decoded on first use and cached. */
  type(id: number): BtfType {
    if (id < this.firstId) {
      if (this.base && id >= 1) return this.base.type(id);
      if (id === 0) return VOID;
    }
    const off = this.offsetOf(id);
    const i = id - this.firstId;
    return (this.cache[i] ??= decodeType(this, id, off));
  }

  /** The type `id`, which must be of `kind` (ParseError otherwise). */
  typeOf<K extends BtfKindName>(id: number, kind: K): BtfTypeOf<K> {
    const t = this.type(id);
    if (t.kind !== kind) throw new ParseError(`is ${t.kind}, expected ${kind}`, { format: 'btf', typeId: id });
    return t as BtfTypeOf<K>;
  }

  /** BTF_KIND_* number of `id` without decoding it. */
  kindNum(id: number): number {
    if (id < this.firstId) {
      if (this.base && id >= 1) return this.base.kindNum(id);
      if (id === 0) return 0;
    }
    return (this.view.getUint32(this.offsetOf(id) + 4, this.littleEndian) >>> 24) & 0x1f;
  }

  kindOf(id: number): BtfKindName {
    return KIND_NAMES[this.kindNum(id)];
  }

  nameOf(id: number): string {
    if (id < this.firstId) {
      if (this.base && id >= 1) return this.base.nameOf(id);
      if (id === 0) return '';
    }
    const at = this.view.getUint32(this.offsetOf(id), this.littleEndian);
    return this.strings.at(at, id);
  }

  stringAt(offset: number): string {
    return this.strings.at(offset);
  }

  /** The first type (lowest id) named `name`, of `kind` when given. */
  findByName<K extends BtfKindName>(name: string, kind: K): BtfTypeOf<K> | undefined;
  findByName(name: string, kind?: BtfKindName): BtfType | undefined;
  findByName(name: string, kind?: BtfKindName): BtfType | undefined {
    const ids = this.idsByName(name, kind);
    return ids.length ? this.type(ids[0]) : undefined;
  }

  /** Every type named `name` (of `kind` when given), by ascending id, base types first. */
  findAllByName<K extends BtfKindName>(name: string, kind: K): BtfTypeOf<K>[];
  findAllByName(name: string, kind?: BtfKindName): BtfType[];
  findAllByName(name: string, kind?: BtfKindName): BtfType[] {
    return this.idsByName(name, kind).map((id) => this.type(id));
  }

  /** The ids of the types named `name` (of `kind` when given), ascending. */
  idsByName(name: string, kind?: BtfKindName): number[] {
    let k = -1;
    if (kind !== undefined) {
      k = KIND_NUM.get(kind) ?? -1;
      if (k < 0) throw new ParseError(`unknown kind name '${kind}'`, { format: 'btf' });
    }
    if (name === 'void' && (k <= 0)) return [0];
    if (name === '' || k === 0) return [];
    let all = this.byName.get(name);
    if (!all) {
      const offs = this.strings.offsetsOf(utf8.encode(`${name}\0`));
      all = [];
      if (offs.length) this.collectIds(offs, all);
      this.byName.set(name, all);
    }
    return k < 0 ? all.slice() : all.filter((id) => this.kindNum(id) === k);
  }

  /** Append the ids whose name offset is one of `offs`, base first, ascending. */
  private collectIds(offs: readonly number[], out: number[]): void {
    if (this.base) {
      const own = offs.filter((o) => o < this.base!.strings.endOffset);
      if (own.length) this.base.collectIds(own, out);
    }
    if (!this.nameHeads) this.buildNameIndex();
    const heads = this.nameHeads!;
    const next = this.nameNext!;
    const start = out.length;
    for (const o of offs) {
      for (let i = heads[Math.imul(o, 0x9e3779b1) >>> this.nameShift]; i >= 0; i = next[i]) {
        if (this.view.getUint32(this.offsets[i], this.littleEndian) === o) out.push(this.firstId + i);
      }
    }
    if (out.length - start > 1) {
      const mine = out.splice(start).sort((a, b) => a - b);
      out.push(...mine);
    }
  }

  /** Chains of type indexes by name offset (Fibonacci hash); one pass, two typed arrays. */
  private buildNameIndex(): void {
    const n = this.offsets.length;
    let bits = 1;
    while (1 << bits < n) bits++;
    const heads = new Int32Array(1 << bits).fill(-1);
    const next = new Int32Array(n);
    const shift = 32 - bits;
    const dv = this.view;
    const le = this.littleEndian;
    const offs = this.offsets;
    for (let i = n - 1; i >= 0; i--) {
      const o = dv.getUint32(offs[i], le);
      if (o === 0) continue;
      const h = Math.imul(o, 0x9e3779b1) >>> shift;
      next[i] = heads[h];
      heads[h] = i;
    }
    this.nameHeads = heads;
    this.nameNext = next;
    this.nameShift = shift;
  }

  /** The u32 after name_off and info: size or type, by kind. */
  private sizeOrType(id: number): number {
    if (id < this.firstId && this.base) return this.base.sizeOrType(id);
    return this.view.getUint32(this.offsetOf(id) + 8, this.littleEndian);
  }

  /** A u32 of the kind-specific data after the 12-byte record of `id`. */
  private extraU32(id: number, index: number): number {
    if (id < this.firstId && this.base) return this.base.extraU32(id, index);
    return this.view.getUint32(this.offsetOf(id) + 12 + 4 * index, this.littleEndian);
  }

  private checkedRef(id: number, t: number): number {
    if (t >= this.typeCount) throw new ParseError(`refers to type id ${t} beyond the last type ${this.typeCount - 1}`, { format: 'btf', typeId: id });
    return t;
  }

  /** The byte size of a type, following typedefs, modifiers, vars and arrays (btf__resolve_size). */
  resolveSize(id: number): number {
    let mult = 1;
    let cur = id;
    for (let depth = 0; depth < MAX_DEPTH; depth++) {
      const k = this.kindNum(cur);
      switch (k) {
        case 1: case 4: case 5: case 6: case 15: case 16: case 19: { // sized kinds
          const size = mult * this.sizeOrType(cur);
          if (size > 0xffffffff) throw new ParseError(`size of type id ${id} overflows 32 bits`, { format: 'btf', typeId: id });
          return size;
        }
        case 2: return mult * 8; // pointers of the BPF target
        case 8: case 9: case 10: case 11: case 14: case 17: case 18: // typedef, modifiers, var, decl_tag, type_tag
          cur = this.checkedRef(cur, this.sizeOrType(cur));
          break;
        case 3: // array: nelems × element
          mult *= this.extraU32(cur, 2);
          if (mult > 0xffffffff) throw new ParseError(`size of type id ${id} overflows 32 bits`, { format: 'btf', typeId: id });
          cur = this.checkedRef(cur, this.extraU32(cur, 0));
          break;
        default:
          throw new ParseError(`${KIND_NAMES[k]} (type id ${cur}) has no size`, { format: 'btf', typeId: id });
      }
    }
    throw new ParseError('type chain too deep (a reference cycle?)', { format: 'btf', typeId: id });
  }

  /** The natural alignment of a type in bytes; 1 for packed structs (btf__align_of). */
  alignment(id: number): number {
    return this.alignOf(id, 0);
  }

  private alignOf(id: number, depth: number): number {
    if (depth > MAX_DEPTH) throw new ParseError('type chain too deep (a reference cycle?)', { format: 'btf', typeId: id });
    const k = this.kindNum(id);
    switch (k) {
      case 1: case 6: case 16: case 19: return Math.min(8, this.sizeOrType(id));
      case 2: return 8;
      case 8: case 9: case 10: case 11: case 18: return this.alignOf(this.checkedRef(id, this.sizeOrType(id)), depth + 1);
      case 3: return this.alignOf(this.checkedRef(id, this.extraU32(id, 0)), depth + 1);
      case 4: case 5: {
        const t = this.typeOf(id, k === 4 ? 'struct' : 'union');
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type, depth + 1);
          if (a <= 0) return a;
          if (m.bitOffset % (8 * a) !== 0) return 1; // a member off its natural alignment: packed
          if (a > max) max = a;
        }
        return t.size % max !== 0 ? 1 : max;
      }
      default:
        throw new ParseError(`${KIND_NAMES[k]} has no alignment`, { format: 'btf', typeId: id });
    }
  }

  /** Skip const, volatile, restrict and type_tag. */
  skipModifiers(id: number): number {
    return this.skip(id, false);
  }

  /** Skip typedefs and modifiers. */
  skipTypedefs(id: number): number {
    return this.skip(id, true);
  }

  private skip(id: number, typedefs: boolean): number {
    let cur = id;
    for (let depth = 0; depth <= MAX_DEPTH; depth++) {
      const k = this.kindNum(cur);
      if (!(k === 9 || k === 10 || k === 11 || k === 18 || (typedefs && k === 8))) return cur;
      cur = this.checkedRef(cur, this.sizeOrType(cur));
    }
    throw new ParseError('type chain too deep (a reference cycle?)', { format: 'btf', typeId: id });
  }

  /** Decode every type once, so malformed records surface now rather than at first use. */
  validate(): void {
    for (let id = this.firstId; id < this.typeCount; id++) this.type(id);
  }
}

const VOID: BtfType = Object.freeze({ id: 0, kind: 'void', name: '' });
