// A parsed BTF blob (.BTF section, raw file, split BTF on a base): one pass records where each type
// record starts; types are decoded on demand and cached, so opening vmlinux (126k types) builds no
// per-type objects. Lookups by name scan the records (kind word first, then the name's bytes) and,
// once lookups repeat, use a name-hash index built in one pass.
import { ParseError } from '../errors.js';
import { decodeType, KIND_NAMES, type TypeSource } from './parse-type.js';
import { BtfStrings } from './strings.js';
import { zeroedInt32s } from '../elf/slab.js';
import type { BtfDatasec, BtfKindName, BtfType, BtfTypeOf } from './types.js';

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
/**
 * Lookups by name answered by a scan before the name index is built: on vmlinux a scan costs ~1 ms,
 * the index ~5–7 ms (hashing 2 MB of names), so it pays off once lookups repeat.
 */
const INDEX_AFTER = 8;
/** blobs with at most this many types cache decoded types in an array (vmlinux: a Map, see `cache`) */
const SMALL_TYPES = 4096;
const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
// Words of a record by kind (linux/btf.h): 3 for struct btf_type plus the fixed trailer, and the
// words per vlen entry. Local tables, not a call into parse-type.ts: this loop runs 126k times.
//                                  void int ptr arr str uni enu fwd tdf vol con res fun fpr var dsc flt dtg ttg e64
const FIXED_WORDS = new Uint8Array([0, 4, 3, 6, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 4, 3, 3]);
const VLEN_WORDS = new Uint8Array([0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3]);

export interface BtfParseOptions {
  /** the base of split BTF (vmlinux under a module's BTF) */
  readonly base?: Btf;
}

export class Btf implements TypeSource {
  // `declare`d, assigned in the constructor: class fields proper are defined by an initializer first
  declare readonly littleEndian: boolean;
  declare readonly base: Btf | undefined;
  /** the first id of this blob's own types: 1, or base.typeCount for split BTF */
  declare readonly firstId: number;
  /** one past the last valid id (base ids included) */
  declare readonly typeCount: number;
  /** the blob as given; read-only (the kernel's vmlinux may be a read-only mapping: copy before changing) */
  declare readonly rawBytes: Uint8Array;
  declare readonly header: BtfHeader;
  declare readonly strings: BtfStrings;
  declare readonly view: DataView;
  /** the whole blob as words when little-endian like the host with aligned type records (else undefined) */
  declare readonly words: Uint32Array | undefined;
  /** byte offset in rawBytes of the record of type firstId + i */
  private declare readonly offsets: Int32Array;
  /** the type section as words when the blob is little-endian like the host and aligned (else DataView) */
  private declare readonly typeWords: Uint32Array | undefined;
  private declare readonly typeStart: number;
  /** decoded types by id (a Map: a 126k-slot array would start in V8's slow dictionary mode) */
  private declare readonly cache: Map<number, BtfType>;
  /** decoded types by id - firstId when the blob is small (an object's BTF), else undefined */
  private declare readonly smallCache: (BtfType | undefined)[] | undefined;
  private declare nameHeads: Int32Array | undefined;
  private declare nameNext: Int32Array | undefined;
  private declare nameShift: number;
  /** lookup results by kind number + 1 (0: any kind), then name */
  private declare readonly byName: (Map<string, number[]> | undefined)[];
  private declare lookups: number;
  /** ids of this blob's own DATASECs, ascending (the loader fixes them up; found in the index pass) */
  declare readonly datasecIds: number[];
  /** alignments worked out so far, by type id (made on first use) */
  private declare aligns: Map<number, number> | undefined;

  private constructor(bytes: Uint8Array, base: Btf | undefined) {
    this.cache = new Map();
    this.nameHeads = undefined;
    this.nameNext = undefined;
    this.nameShift = 0;
    this.byName = [];
    this.lookups = 0;
    this.datasecIds = [];
    this.aligns = undefined;
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
    this.typeStart = typeStart;
    this.words = le && HOST_LE && bytes.byteOffset % 4 === 0 && typeStart % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : undefined;
    this.typeWords = le && HOST_LE && (bytes.byteOffset + typeStart) % 4 === 0
      ? new Uint32Array(bytes.buffer, bytes.byteOffset + typeStart, h.typeLen >>> 2) : undefined;
    this.offsets = this.indexTypes(typeStart, h.typeLen);
    this.smallCache = this.offsets.length <= SMALL_TYPES ? new Array<BtfType | undefined>(this.offsets.length).fill(undefined) : undefined;
    this.typeCount = this.firstId + this.offsets.length;
  }

  /** Parse raw BTF: the bytes of a .BTF section or a raw BTF file; split BTF with `opts.base`. */
  static parse(bytes: Uint8Array, opts: BtfParseOptions = {}): Btf {
    return new Btf(bytes, opts.base);
  }

  /** One pass over the type section: where each record starts; kinds and extents checked. */
  private indexTypes(start: number, len: number): Int32Array {
    // sized for the smallest record (12 bytes); pages past the last type are never touched
    const offs = zeroedInt32s(Math.floor(len / 12));
    // the common case (little-endian blob on a little-endian host, aligned): whole words
    const words = this.typeWords;
    const dv = this.view;
    const le = this.littleEndian;
    const endWord = len >>> 2;
    let n = 0;
    for (let w = 0; w < endWord; n++) {
      if (w + 3 > endWord) throw this.badRecord('truncated type record', n, start + 4 * w);
      const info = words !== undefined ? words[w + 1] : dv.getUint32(start + 4 * w + 4, le);
      const kind = (info >>> 24) & 0x1f;
      // record size in words: fixed part + per-vlen part (tables at the top); kind 0 and > 19 are unknown
      const fixed = kind < 20 ? FIXED_WORDS[kind] : 0;
      if (fixed === 0) throw this.badRecord(`unknown kind ${kind}`, n, start + 4 * w);
      const size = fixed + VLEN_WORDS[kind] * (info & 0xffff);
      if (w + size > endWord) throw this.badRecord(`vlen ${info & 0xffff} runs past the end of the type section`, n, start + 4 * w);
      offs[n] = start + 4 * w;
      if (kind === 15) this.datasecIds.push(this.firstId + n);
      w += size;
    }
    return offs.subarray(0, n);
  }

  private badRecord(msg: string, n: number, offset: number): ParseError {
    return new ParseError(msg, { format: 'btf', section: 'types', typeId: this.firstId + n, offset });
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
    const small = this.smallCache;
    if (small !== undefined) {
      // an object's BTF: an array by id (cheaper than a Map before V8 optimizes the caller)
      const i = id - this.firstId;
      let t = i >= 0 && i < small.length ? small[i] : undefined;
      if (t === undefined) {
        t = decodeType(this, id, this.offsetOf(id));
        small[i] = t;
      }
      return t;
    }
    let t = this.cache.get(id);
    if (t === undefined) {
      t = decodeType(this, id, this.offsetOf(id));
      this.cache.set(id, t);
    }
    return t;
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
    const id = this.lookup(name, kind, true)[0];
    return id === undefined ? undefined : this.type(id);
  }

  /** The DATASEC named `name` (the lowest id), as findByName(name, 'datasec') but without a lookup pass. */
  findDatasec(name: string): BtfDatasec | undefined {
    if (this.base || name === '') return this.findByName(name, 'datasec');
    const ids = this.datasecIds;
    for (let i = 0; i < ids.length; i++) if (this.nameOf(ids[i]) === name) return this.type(ids[i]) as BtfDatasec;
    return undefined;
  }

  /** Every type named `name` (of `kind` when given), by ascending id, base types first. */
  findAllByName<K extends BtfKindName>(name: string, kind: K): BtfTypeOf<K>[];
  findAllByName(name: string, kind?: BtfKindName): BtfType[];
  findAllByName(name: string, kind?: BtfKindName): BtfType[] {
    return this.idsByName(name, kind).map((id) => this.type(id));
  }

  /** The ids of the types named `name` (of `kind` when given), ascending. */
  idsByName(name: string, kind?: BtfKindName): number[] {
    return this.lookup(name, kind, false).slice();
  }

  /** All ids named `name` of `kind` (cached), or with `firstOnly` at least the lowest (a scan stops there). */
  private lookup(name: string, kind: BtfKindName | undefined, firstOnly: boolean): readonly number[] {
    let k = -1;
    if (kind !== undefined) {
      k = KIND_NUM.get(kind) ?? -1;
      if (k < 0) throw new ParseError(`unknown kind name '${kind}'`, { format: 'btf' });
    }
    if (name === 'void' && (k <= 0)) return [0];
    if (name === '' || k === 0) return [];
    // results cached per kind (-1: any kind); a kind lets the scan skip other kinds' names unread
    let cached = this.byName[k + 1];
    let ids = cached?.get(name);
    if (!ids) {
      ids = [];
      // like btf__find_by_name_kind, a scan for the first match stops at it (not cached: partial)
      const partial = firstOnly && !this.nameHeads && this.lookups + 1 < INDEX_AFTER;
      this.collectIds(encodeName(name), k, ids, partial);
      if (!partial) (cached ??= this.byName[k + 1] = new Map()).set(name, ids);
    }
    return ids;
  }

  /**
   * Append the ids of this blob's types (base first) named by the UTF-8 `name` and of kind number
   * `kind` (-1: any), ascending. The first lookups compare names in one pass over the types (~1 ms on
   * vmlinux, like libbpf's btf__find_by_name_kind); from the INDEX_AFTER-th lookup on, a name-hash
   * index built in one pass answers in microseconds.
   */
  private collectIds(name: Uint8Array, kind: number, out: number[], firstOnly = false): void {
    if (this.base) {
      this.base.collectIds(name, kind, out, firstOnly);
      if (firstOnly && out.length) return;
    }
    if (!this.nameHeads && ++this.lookups >= INDEX_AFTER) this.buildNameIndex();
    const offs = this.offsets;
    const n = offs.length;
    const heads = this.nameHeads;
    const words = this.typeWords;
    if (heads || words === undefined) {
      const first = this.firstId;
      if (heads) {
        const next = this.nameNext!;
        for (let i = heads[hashName(name, 0, name.length) >>> this.nameShift]; i >= 0; i = next[i]) {
          if (this.nameIs(offs[i], name) && (kind < 0 || this.kindNum(first + i) === kind)) out.push(first + i);
        }
      } else {
        for (let i = 0; i < n; i++) {
          if ((kind < 0 || this.kindNum(first + i) === kind) && this.nameIs(offs[i], name)) {
            out.push(first + i);
            if (firstOnly) return;
          }
        }
      }
      return;
    }
    // the hot case, inlined: the kind (next to name_off), then the first byte and the terminator
    const bytes = this.rawBytes;
    const strings = this.strings;
    const first = strings.firstOffset;
    const strStart = strings.start;
    const strLen = strings.len;
    const typeStart = this.typeStart;
    const len = name.length;
    const c0 = name[0];
    for (let i = 0; i < n; i++) {
      const w = (offs[i] - typeStart) >>> 2;
      if (kind >= 0 && ((words[w + 1] >>> 24) & 0x1f) !== kind) continue;
      const o: number = words[w];
      const rel: number = o - first;
      if (rel <= 0 || rel >= strLen) {
        if (o !== 0 && this.nameIs(offs[i], name)) { // base string or bad offset
          out.push(this.firstId + i);
          if (firstOnly) return;
        }
        continue;
      }
      const p = strStart + rel;
      if (bytes[p] !== c0 || bytes[p + len] !== 0) continue;
      let k = 1;
      while (k < len && bytes[p + k] === name[k]) k++;
      if (k === len) {
        out.push(this.firstId + i);
        if (firstOnly) return;
      }
    }
  }

  /** Whether the record at byte `off` is named `name` (UTF-8, no NUL). */
  private nameIs(off: number, name: Uint8Array): boolean {
    const o = this.nameOffAt(off);
    if (o === 0) return false;
    const p = this.strings.indexOf(o);
    if (p < 0) return this.strings.has(o) && this.strings.equals(o, name); // a base string (split BTF)
    const bytes = this.rawBytes;
    const len = name.length;
    if (bytes[p] !== name[0] || bytes[p + len] !== 0) return false;
    for (let k = 1; k < len; k++) if (bytes[p + k] !== name[k]) return false;
    return true;
  }

  /** name_off of the record at byte `off` */
  private nameOffAt(off: number): number {
    const w = this.typeWords;
    return w !== undefined ? w[(off - this.typeStart) >>> 2] : this.view.getUint32(off, this.littleEndian);
  }

  /** Chains of type indexes by a hash of their names' bytes; one pass, two typed arrays. */
  private buildNameIndex(): void {
    const n = this.offsets.length;
    let bits = 1;
    while (1 << bits < n) bits++;
    const heads = new Int32Array(1 << bits).fill(-1);
    const next = new Int32Array(n);
    const shift = 32 - bits;
    const offs = this.offsets;
    const bytes = this.rawBytes;
    const strings = this.strings;
    const first = strings.firstOffset;
    const strStart = strings.start;
    const strLen = strings.len;
    for (let i = n - 1; i >= 0; i--) {
      const o = this.nameOffAt(offs[i]);
      const rel = o - first;
      let h: number;
      if (rel > 0 && rel < strLen) {
        // FNV-1a up to the NUL (the section ends with one), inlined: 126k names
        h = 0x811c9dc5;
        for (let p = strStart + rel, c = bytes[p]; c !== 0; c = bytes[++p]) h = Math.imul(h ^ c, 0x01000193);
      } else {
        if (o === 0 || !strings.has(o)) continue; // anonymous, or a bad offset decoding reports
        const s = utf8.encode(strings.at(o)); // a base string (split BTF): rare
        h = hashName(s, 0, s.length);
      }
      const slot = h >>> shift;
      next[i] = heads[slot];
      heads[slot] = i;
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
    let arrays: number[] | undefined;
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
          // an array met again is a cycle (reported as such, not as the size overflow it leads to)
          if (arrays?.includes(cur)) throw new ParseError(`array type id ${cur} contains itself (a reference cycle)`, { format: 'btf', typeId: id });
          (arrays ??= []).push(cur);
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

  /**
   * The natural alignment of a type in bytes; 1 for packed structs (btf__align_of). Memoized per
   * type id, so types shared by many members are walked once (a struct of n members of the same
   * struct, nested d deep, would otherwise cost n^d); a type reached again while its own alignment
   * is being worked out is a cycle, a ParseError.
   */
  alignment(id: number): number {
    const known = this.aligns?.get(id);
    return known !== undefined ? known : this.alignOf(id, 0, new Set());
  }

  private alignOf(id: number, depth: number, inProgress: Set<number>): number {
    const aligns = (this.aligns ??= new Map());
    const known = aligns.get(id);
    if (known !== undefined) return known;
    if (inProgress.has(id)) throw new ParseError('type contains itself (a reference cycle through members, typedefs or arrays)', { format: 'btf', typeId: id });
    if (depth > MAX_DEPTH) throw new ParseError(`types nest deeper than ${MAX_DEPTH} levels`, { format: 'btf', typeId: id });
    inProgress.add(id);
    const a = this.computeAlign(id, depth, inProgress);
    inProgress.delete(id);
    aligns.set(id, a);
    return a;
  }

  private computeAlign(id: number, depth: number, inProgress: Set<number>): number {
    const k = this.kindNum(id);
    switch (k) {
      case 1: case 6: case 16: case 19: {
        const size = this.sizeOrType(id);
        if (size === 0) throw new ParseError(`${KIND_NAMES[k]} of size 0 has no alignment`, { format: 'btf', typeId: id });
        return Math.min(8, size);
      }
      case 2: return 8;
      case 8: case 9: case 10: case 11: case 18: return this.alignOf(this.checkedRef(id, this.sizeOrType(id)), depth + 1, inProgress);
      case 3: return this.alignOf(this.checkedRef(id, this.extraU32(id, 0)), depth + 1, inProgress);
      case 4: case 5: {
        const t = this.typeOf(id, k === 4 ? 'struct' : 'union');
        let max = 1;
        for (const m of t.members) {
          const a = this.alignOf(m.type, depth + 1, inProgress);
          if (a > max) max = a;
          // a (non-bitfield) member off its natural alignment: packed
          if (m.bitfieldSize === 0 && m.bitOffset % (8 * a) !== 0) return 1;
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

const encoded = new Map<string, Uint8Array>();

/** The UTF-8 bytes of a looked-up name, kept: the same few names are looked up in every object. */
function encodeName(name: string): Uint8Array {
  let b = encoded.get(name);
  if (b === undefined) {
    b = utf8.encode(name);
    if (encoded.size >= 4096) encoded.clear();
    encoded.set(name, b);
  }
  return b;
}

/** FNV-1a over bytes[from, to) (chains keep its top bits; buildNameIndex inlines the same). */
function hashName(bytes: Uint8Array, from: number, to: number): number {
  let h = 0x811c9dc5;
  for (let i = from; i < to; i++) h = Math.imul(h ^ bytes[i], 0x01000193);
  return h;
}

const VOID: BtfType = Object.freeze({ id: 0, kind: 'void', name: '' });
