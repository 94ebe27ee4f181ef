// Compiles a BTF type into an encoder/decoder pair once: the type graph is walked at compile time
// and turned into straight-line JavaScript (one generated function per struct/union/array type),
// so encoding or decoding a value is field reads/writes on a DataView, never a walk of the types.
// Values use the host's byte order (map values live in the running kernel's order), except
// `__be16/32/64` fields with the networkOrder option.
import { CodecError } from './errors.js';
import { isCharType, resolveAlias, type CodecMember, type CodecType, type CodecTypeSource } from './types.js';
import { H, MAX, MIN } from './runtime.js';

export interface CodecOptions {
  /**
   * char arrays (arrays of `char`) decode as strings (up to the first NUL) when their bytes are
   * UTF-8, else as numbers; encode accepts strings always
   */
  strings?: boolean;
  /** enums decode to their enumerator's name when one matches (encode accepts names always) */
  enumNames?: boolean;
  /**
   * integers declared through the kernel's network-byte-order typedefs (`__be16`, `__be32`,
   * `__be64`) decode to, and encode from, the number they stand for: a `__be16 port` holding
   * bytes 1f 90 reads 8080 (without the option: as the host reads the bytes, 36895 here)
   */
  networkOrder?: boolean;
  /** the root of error paths: 'key' or 'value' (default 'value') */
  what?: string;
}

/**
 * Whether type `id` is an integer declared in network byte order: its typedef/modifier chain
 * passes a `__be16`, `__be32` or `__be64` typedef whose type is a whole integer of that width
 * (what the networkOrder option reads most significant byte first).
 */
export function isNetworkOrderInt(src: CodecTypeSource, id: number): boolean {
  let t = src.get(id);
  for (let hops = 0; t.kind === 'alias' && hops < 64; hops++) {
    const m = t.name ? /^__be(16|32|64)$/.exec(t.name) : null;
    if (m) {
      const r = resolveAlias(src, t.type).t;
      return r?.kind === 'int' && !r.bool && r.size * 8 === Number(m[1]) && r.bits === r.size * 8 && r.bitOffset === 0;
    }
    t = src.get(t.type);
  }
  return false;
}

/** An encoder/decoder pair for one type; BpfMap takes it as keyCodec/valueCodec. */
export interface TypedCodec<T = unknown> {
  /** bytes of one encoded value */
  readonly size: number;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
  /** encode into out[offset, offset + size) (zeroing padding first): no allocation */
  encodeInto(value: T, out: Uint8Array, offset?: number): void;
  /** decode from any offset of a buffer (batch results) */
  decodeAt(bytes: Uint8Array, offset: number): T;
}

const LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

interface EnumMaps {
  names: Map<number | bigint, string>;
  byName: Map<string, number | bigint>;
  other: Map<string, number | bigint> | null;
}

/**
 * Whether an enum's values read signed. BTF's word (kind_flag), except where it cannot be right:
 * clang before 15 calls every enum unsigned, and a 1- or 2-byte (packed) enum with an enumerator
 * too big for its size unsigned can only have it because the enumerator is negative. (A 4-byte
 * enum's 0xffffff9c may be -100 or 4294967196: BTF's word stands.)
 */
function enumSigned(t: Extract<CodecType, { kind: 'enum' }>): boolean {
  if (t.signed || t.size >= 4) return t.signed;
  const max = 2 ** (t.size * 8);
  return t.values.some((v) => Number(v.value) >= max);
}

/** one way to give a union: its member names, the statements encoding it, the bits it covers */
interface Choice {
  names: string[];
  stmt: string;
  mask: Uint8Array;
  /** for a _Bool or float member: the check that the bytes read back as given (see #lossy) */
  lossy: string | null;
}

interface Flat {
  name: string;
  type: number;
  bitOffset: number;
  bitSize: number;
}

class Compiler {
  readonly fns: string[] = [];
  readonly consts: unknown[] = [];
  readonly #names = new Map<string, string>();
  readonly #src: CodecTypeSource;
  readonly #o: CodecOptions;

  constructor(src: CodecTypeSource, o: CodecOptions) {
    this.#src = src;
    this.#o = o;
  }

  /** the type behind typedef/const/volatile/restrict/type_tag */
  resolve(id: number): { id: number; t: CodecType } {
    const r = resolveAlias(this.#src, id);
    if (r.t === undefined) throw new CodecError(`type ${r.id}`, 'unsupported type', 'typedef/modifier chain longer than 64 (a loop?)');
    return { id: r.id, t: r.t };
  }

  /** whether `id` is a network-order integer and the option asks to read those as such */
  #bigEndian(id: number): boolean {
    return this.#o.networkOrder === true && isNetworkOrderInt(this.#src, id);
  }

  sizeOf(id: number): number {
    const { t } = this.resolve(id);
    switch (t.kind) {
      case 'int': case 'struct': case 'union': case 'enum': case 'float': return t.size;
      case 'ptr': return 8;
      case 'array': return t.count * this.sizeOf(t.type);
      default: throw new CodecError(`type ${id}`, 'unsupported type', `${t.kind === 'other' ? t.what : t.kind} has no size`);
    }
  }

  #const(x: unknown): string {
    this.consts.push(x);
    return `K[${this.consts.length - 1}]`;
  }

  /** struct/union members with anonymous struct members flattened into their parent (C's view) */
  #flatten(members: readonly CodecMember[], base: number, unions = false): Flat[] {
    const out: Flat[] = [];
    for (const m of members) {
      const { t } = this.resolve(m.type);
      if (m.name === '' && (t.kind === 'struct' || (unions && t.kind === 'union'))) out.push(...this.#flatten(t.members, base + m.bitOffset, unions));
      else out.push({ name: m.name, type: m.type, bitOffset: base + m.bitOffset, bitSize: m.bitSize });
    }
    return out;
  }

  #isChar(id: number): boolean {
    return isCharType(this.resolve(id).t);
  }

  /** a whole-byte 1-byte integer (not _Bool): an array of them may be given as a Uint8Array */
  #isByte(id: number): boolean {
    const { t } = this.resolve(id);
    return t.kind === 'int' && t.size === 1 && t.bits === 8 && t.bitOffset === 0 && !t.bool;
  }

  // ---- decode ----

  /** an expression decoding type `id` at byte offset expression `o` */
  dec(id: number, o: string): string {
    const { id: rid, t } = this.resolve(id);
    const E = LE && !this.#bigEndian(id) ? 'true' : 'false';
    switch (t.kind) {
      case 'int': {
        if (t.bits !== t.size * 8 || t.bitOffset !== 0) return this.#decBits(t.size, t.signed, o, t.bitOffset, t.bits);
        if (t.bool && t.size === 1) return `(v.getUint8(${o}) !== 0)`;
        switch (t.size) {
          case 1: return t.signed ? `v.getInt8(${o})` : `v.getUint8(${o})`;
          case 2: return t.signed ? `v.getInt16(${o}, ${E})` : `v.getUint16(${o}, ${E})`;
          case 4: return t.signed ? `v.getInt32(${o}, ${E})` : `v.getUint32(${o}, ${E})`;
          case 8: return t.signed ? `v.getBigInt64(${o}, ${E})` : `v.getBigUint64(${o}, ${E})`;
          case 16: return `H.u128(v, ${o}, ${t.signed}, ${E})`;
        }
        throw new CodecError(`type ${rid}`, 'unsupported type', `${t.size}-byte integer ${t.name}`);
      }
      case 'ptr': return `v.getBigUint64(${o}, ${E})`;
      case 'float':
        if (t.size === 4) return `v.getFloat32(${o}, ${E})`;
        if (t.size === 8) return `v.getFloat64(${o}, ${E})`;
        throw new CodecError(`type ${rid}`, 'unsupported type', `${t.size}-byte float ${t.name}`);
      case 'enum': {
        const raw = this.#enumRaw(t.size, enumSigned(t), o, rid);
        if (!this.#o.enumNames) return raw;
        return `H.enumName(${this.#const(this.#enumMaps(t, t.size * 8).names)}, ${raw})`;
      }
      case 'array':
        // text when the bytes are UTF-8; otherwise the numbers (lossless, and encode takes them back)
        if (this.#o.strings && this.#isChar(t.type)) return `(H.str(b, ${o}, ${t.count}) ?? ${this.#fn('d', rid)}(v, b, ${o}))`;
        return `${this.#fn('d', rid)}(v, b, ${o})`;
      case 'struct': case 'union':
        return `${this.#fn('d', rid)}(v, b, ${o})`;
      default:
        throw new CodecError(`type ${rid}`, 'unsupported type', t.kind === 'other' ? t.what : t.kind);
    }
  }

  #enumRaw(size: number, signed: boolean, o: string, id: number): string {
    const E = LE ? 'true' : 'false';
    switch (size) {
      case 1: return signed ? `v.getInt8(${o})` : `v.getUint8(${o})`;
      case 2: return signed ? `v.getInt16(${o}, ${E})` : `v.getUint16(${o}, ${E})`;
      case 4: return signed ? `v.getInt32(${o}, ${E})` : `v.getUint32(${o}, ${E})`;
      case 8: return signed ? `v.getBigInt64(${o}, ${E})` : `v.getBigUint64(${o}, ${E})`;
    }
    throw new CodecError(`type ${id}`, 'unsupported type', `${size}-byte enum`);
  }

  #decBits(size: number, signed: boolean, o: string, bitOffset: number, bits: number): string {
    if (!LE) throw new CodecError('bitfield', 'unsupported type', 'bitfields on big-endian hosts');
    // a bitfield of a 64- or 128-bit type is a bigint, as the whole type is
    return `H.getBits(b, ${o} + ${bitOffset >> 3}, ${bitOffset & 7}, ${bits}, ${signed}, ${size >= 8})`;
  }

  /** the name of the generated decode ('d') or encode ('e') function for a compound type */
  #fn(kind: 'd' | 'e', id: number): string {
    const key = `${kind}${id}`;
    const have = this.#names.get(key);
    if (have) return have;
    this.#names.set(key, key);
    const { t } = this.resolve(id);
    let body: string;
    if (t.kind === 'array') body = kind === 'd' ? this.#decArray(t.type, t.count) : this.#encArray(t.type, t.count);
    else if (t.kind === 'struct' || t.kind === 'union') body = kind === 'd' ? this.#decStruct(t.members) : this.#encStruct(t.kind, t.members, t.name, t.size);
    else throw new CodecError(`type ${id}`, 'unsupported type', t.kind);
    this.fns.push(kind === 'd' ? `function ${key}(v, b, o) {\n${body}\n}` : `function ${key}(v, b, o, x, p) {\n${body}\n}`);
    return key;
  }

  #decArray(elem: number, count: number): string {
    const es = this.sizeOf(elem);
    return `const a = new Array(${count});\nfor (let i = 0; i < ${count}; i++) a[i] = ${this.dec(elem, `o + i * ${es}`)};\nreturn a;`;
  }

  #decStruct(members: readonly CodecMember[]): string {
    const parts: string[] = [];
    // anonymous structs and unions: their members at this level (every union member decoded)
    for (const m of this.#flatten(members, 0, true)) {
      if (m.name === '') continue; // unnamed padding
      // a member named __proto__ in a literal would set the prototype: computed, it is a property
      parts.push(`${m.name === '__proto__' ? '["__proto__"]' : JSON.stringify(m.name)}: ${this.#decMember(m)}`);
    }
    return `return { ${parts.join(', ')} };`;
  }

  #decMember(m: Flat): string {
    const { t } = this.resolve(m.type);
    const bf = this.#bitfield(m, t);
    if (bf && t.kind === 'int' && t.bool) return `(${this.#decBits(t.size, false, 'o', bf.off, bf.bits)} !== 0)`;
    if (bf && t.kind === 'enum') {
      const raw = this.#decBits(t.size, enumSigned(t), 'o', bf.off, bf.bits);
      return this.#o.enumNames ? `H.enumName(${this.#const(this.#enumMaps(t, bf.bits).names)}, ${raw})` : raw;
    }
    if (bf && t.kind === 'int') return this.#decBits(t.size, t.signed, 'o', bf.off, bf.bits);
    return this.dec(m.type, `o + ${m.bitOffset / 8}`);
  }

  /**
   * Where a member is stored as a bitfield: its bit offset and width, or null for a whole-bytes member.
   * BTF says it two ways: kind_flag=1 puts the width in the member (bitSize); kind_flag=0 leaves
   * bitSize 0 and puts the width (and any extra offset) in the member's INT type (nr_bits, bits_offset).
   */
  #bitfield(m: Flat, t: CodecType): { off: number; bits: number } | null {
    if (t.kind === 'int') {
      const bits = m.bitSize || t.bits;
      const off = m.bitOffset + (m.bitSize ? 0 : t.bitOffset);
      return bits === t.size * 8 && off % 8 === 0 ? null : { off, bits };
    }
    if (m.bitSize === 0 && m.bitOffset % 8 === 0) return null;
    if (t.kind !== 'enum') throw new CodecError(m.name, 'unsupported type', 'bitfield of a non-integer type');
    return { off: m.bitOffset, bits: m.bitSize || t.size * 8 };
  }

  /**
   * An enum's maps for a field `bits` wide (the enum's size, or a bitfield's width), values
   * normalised to how those bits read back: BTF may record a negative enumerator of an enum it
   * calls unsigned (clang before 15 has no signed enums: -100 is 4294967196), so values are taken
   * modulo the width in the enum's signedness. `other` maps an enumerator's value in the other
   * signedness ('-100' for 4294967196) to it: the user may write the value the C source has.
   */
  #enumMaps(t: Extract<CodecType, { kind: 'enum' }>, bits: number): EnumMaps {
    const signed = enumSigned(t);
    const big = t.size === 8;
    const read = (v: number | bigint, s: boolean): bigint => (s ? BigInt.asIntN(bits, BigInt(v)) : BigInt.asUintN(bits, BigInt(v)));
    const names = new Map<number | bigint, string>();
    const byName = new Map<string, number | bigint>();
    const other = new Map<string, number | bigint>();
    for (const e of t.values) {
      const b = read(e.value, signed);
      const v = big ? b : Number(b);
      if (!names.has(v)) names.set(v, e.name);
      byName.set(e.name, v);
      const alt = read(e.value, !signed);
      if (alt !== b) other.set(String(alt), v);
    }
    return { names, byName, other: other.size ? other : null };
  }

  // ---- encode ----

  /** statements encoding JS expression `x` as type `id` at byte offset `o`, error path expression `p` */
  enc(id: number, o: string, x: string, p: string): string {
    const { id: rid, t } = this.resolve(id);
    const E = LE ? 'true' : 'false';
    switch (t.kind) {
      case 'int': {
        if (t.bits !== t.size * 8 || t.bitOffset !== 0) return this.#encBits(t.size, t.signed, o, t.bitOffset, t.bits, x, p);
        if (t.size === 16) return `H.setU128(v, ${o}, H.big(${x}, ${this.#const(MIN(128, t.signed))}, ${this.#const(MAX(128, t.signed))}, ${p}), ${E});`;
        return this.#encInt(t.size, t.signed, t.bool, o, x, p, rid, this.#bigEndian(id));
      }
      case 'ptr': return `v.setBigUint64(${o}, H.big(${x}, 0n, ${this.#const(MAX(64, false))}, ${p}), ${E});`;
      case 'float':
        if (t.size === 4) return `v.setFloat32(${o}, H.float32(${x}, ${p}), ${E});`;
        if (t.size === 8) return `v.setFloat64(${o}, H.float(${x}, ${p}), ${E});`;
        throw new CodecError(`type ${rid}`, 'unsupported type', `${t.size}-byte float ${t.name}`);
      case 'enum':
        return this.#encInt(t.size, enumSigned(t), false, o, this.#enumValue(t, t.size * 8, x, p), p, rid);
      case 'array': case 'struct': case 'union':
        return `${this.#fn('e', rid)}(v, b, ${o}, ${x}, ${p});`;
      default:
        throw new CodecError(`type ${rid}`, 'unsupported type', t.kind === 'other' ? t.what : t.kind);
    }
  }

  /** the expression turning an enum field's JS value (a name, or a number in either reading) into its number */
  #enumValue(t: Extract<CodecType, { kind: 'enum' }>, bits: number, x: string, p: string): string {
    const { byName, other } = this.#enumMaps(t, bits);
    return `H.enumValue(${this.#const(byName)}, ${other ? this.#const(other) : 'null'}, ${x}, ${p})`;
  }

  #encInt(size: number, signed: boolean, bool: boolean, o: string, x: string, p: string, id: number, bigEndian = false): string {
    const E = LE && !bigEndian ? 'true' : 'false';
    const bits = size * 8;
    if (size === 8) return `v.${signed ? 'setBigInt64' : 'setBigUint64'}(${o}, H.big(${x}, ${this.#const(MIN(64, signed))}, ${this.#const(MAX(64, signed))}, ${p}), ${E});`;
    const set = { 1: 'Int8', 2: 'Int16', 4: 'Int32' }[size as 1 | 2 | 4];
    if (!set) throw new CodecError(`type ${id}`, 'unsupported type', `${size}-byte integer`);
    const val = bool ? `H.bool(${x}, ${p})` : `H.int(${x}, ${Number(MIN(bits, signed))}, ${Number(MAX(bits, signed))}, ${p})`;
    const setter = signed ? set : `Uint${set.slice(3)}`;
    return `v.set${setter}(${o}, ${val}${size === 1 ? '' : `, ${E}`});`;
  }

  #encBits(size: number, signed: boolean, o: string, bitOffset: number, bits: number, x: string, p: string, bool = false): string {
    if (!LE) throw new CodecError('bitfield', 'unsupported type', 'bitfields on big-endian hosts');
    const check = bool ? `H.bool(${x}, ${p})`
      : bits > 32 || size >= 8
        ? `H.big(${x}, ${this.#const(MIN(bits, signed))}, ${this.#const(MAX(bits, signed))}, ${p})`
        : `H.int(${x}, ${Number(MIN(bits, signed))}, ${Number(MAX(bits, signed))}, ${p})`;
    return `H.setBits(b, ${o} + ${bitOffset >> 3}, ${bitOffset & 7}, ${bits}, ${check});`;
  }

  #encArray(elem: number, count: number): string {
    if (count === 0) return `if (x !== undefined && (x === null || typeof x !== 'object' || x.length !== 0)) H.wrongType(p, 'nothing or [] (a flexible array member)', x);`;
    const es = this.sizeOf(elem);
    const str = this.#isChar(elem) ? `if (typeof x === 'string') { H.putStr(b, o, ${count}, x, p); return; }\n` : '';
    // bytes for an array of bytes (Buffer.from('…') for a char[], whose elements read as -128..127)
    const raw = this.#isByte(elem) ? `if (x instanceof Uint8Array) { if (x.length !== ${count}) H.wrongLength(p, ${count}, x.length); b.set(x, o); return; }\n` : '';
    return `if (x === undefined) H.missing(p);\n${str}${raw}if (x === null || typeof x !== 'object' || typeof x.length !== 'number') H.wrongType(p, 'an array of ${count}', x);\n`
      + `if (x.length !== ${count}) H.wrongLength(p, ${count}, x.length);\n`
      + `for (let i = 0; i < ${count}; i++) { ${this.enc(elem, `o + i * ${es}`, 'x[i]', `p + '[' + i + ']'`)} }`;
  }

  /** the statement encoding one named member from x[name] (offsets relative to the generated function's o) */
  #memberStmt(m: Flat): string {
    const xe = `x[${JSON.stringify(m.name)}]`;
    const pe = `p + ${JSON.stringify('.' + m.name)}`;
    const { t } = this.resolve(m.type);
    const bf = this.#bitfield(m, t);
    if (!bf) return this.enc(m.type, `o + ${m.bitOffset / 8}`, xe, pe);
    if (t.kind === 'enum') return this.#encBits(t.size, enumSigned(t), 'o', bf.off, bf.bits, this.#enumValue(t, bf.bits, xe, pe), pe);
    if (t.kind !== 'int') throw new CodecError(m.name, 'unsupported type', 'bitfield of a non-integer type');
    return this.#encBits(t.size, t.signed && !t.bool, 'o', bf.off, bf.bits, xe, pe, t.bool);
  }

  /** statements encoding struct members (at bit `base`): anonymous structs flattened, each anonymous union one group */
  #encFields(members: readonly CodecMember[], base: number, known: Set<string>): string[] {
    const lines: string[] = [];
    for (const m of members) {
      const { t } = this.resolve(m.type);
      const off = base + m.bitOffset;
      if (m.name === '' && t.kind === 'struct') lines.push(...this.#encFields(t.members, off, known));
      else if (m.name === '' && t.kind === 'union') lines.push(this.#encUnion(t.members, off, t.size, 'anonymous union', known));
      else if (m.name !== '') { // an unnamed member that is not a struct/union is padding
        known.add(m.name);
        lines.push(this.#memberStmt({ name: m.name, type: m.type, bitOffset: off, bitSize: m.bitSize }));
      }
    }
    return lines;
  }

  /**
   * The choices of a union (at bit `base`): each named member is one; an anonymous struct is one
   * (all its fields); an anonymous union's members are choices of this union (C's view).
   */
  #choices(members: readonly CodecMember[], base: number, known: Set<string>): Choice[] {
    const out: Choice[] = [];
    for (const m of members) {
      const { t } = this.resolve(m.type);
      const off = base + m.bitOffset;
      if (m.name === '' && t.kind === 'union') { out.push(...this.#choices(t.members, off, known)); continue; }
      if (m.name === '' && t.kind !== 'struct') continue; // padding
      const names = new Set<string>();
      const flat: Flat = { name: m.name, type: m.type, bitOffset: off, bitSize: m.bitSize };
      const stmt = m.name === '' ? this.#encFields(t.kind === 'struct' ? t.members : [], off, names).join('\n') : (names.add(m.name), this.#memberStmt(flat));
      for (const n of names) known.add(n);
      out.push({ names: [...names], stmt, mask: this.#cover(flat), lossy: m.name === '' ? null : this.#lossy(flat) });
    }
    return out;
  }

  /**
   * For a member whose JS value does not give back every bit (_Bool: any non-zero byte is true; float:
   * a signalling NaN comes back quiet), the check that the union's final bytes still read as the
   * value given; null for the rest.
   */
  #lossy(m: Flat): string | null {
    const { t } = this.resolve(m.type);
    if (t.kind === 'int' && t.bool) return `H.sameBool(${this.#decMember(m)}, x[${JSON.stringify(m.name)}])`;
    if (t.kind === 'float' && (t.size === 4 || t.size === 8)) return `Object.is(${this.#decMember(m)}, ${t.size === 4 ? 'Math.fround' : ''}(x[${JSON.stringify(m.name)}]))`;
    return null;
  }

  /** the bits member `m` occupies, as one byte of mask per byte from the member's own union start */
  #cover(m: Flat, mask?: Uint8Array, start?: number): Uint8Array {
    const { t } = this.resolve(m.type);
    start ??= m.bitOffset & ~7;
    mask ??= new Uint8Array(0);
    const set = (from: number, bits: number): Uint8Array => {
      const end = from - start! + bits;
      if (mask!.length < (end + 7) >> 3) { const grown = new Uint8Array((end + 7) >> 3); grown.set(mask!); mask = grown; }
      for (let i = from - start!; i < end; i++) mask![i >> 3] |= 1 << (i & 7);
      return mask!;
    };
    if (t.kind === 'struct' || t.kind === 'union') {
      for (const c of t.members) {
        if (c.name === '' && !['struct', 'union'].includes(this.resolve(c.type).t.kind)) continue; // padding: written as zeros
        mask = this.#cover({ name: c.name, type: c.type, bitOffset: m.bitOffset + c.bitOffset, bitSize: c.bitSize }, mask, start);
      }
      return mask;
    }
    if (t.kind === 'array') {
      const { t: et } = this.resolve(t.type);
      const es = this.sizeOf(t.type) * 8;
      if (et.kind !== 'struct' && et.kind !== 'union' && et.kind !== 'array') return set(m.bitOffset, es * t.count);
      for (let i = 0; i < t.count; i++) mask = this.#cover({ name: '', type: t.type, bitOffset: m.bitOffset + i * es, bitSize: 0 }, mask, start);
      return mask;
    }
    const bf = t.kind === 'int' || t.kind === 'enum' ? this.#bitfield(m, t) : null;
    return bf ? set(bf.off, bf.bits) : set(m.bitOffset, this.sizeOf(m.type) * 8);
  }

  /**
   * One union (at bit `base`, `size` bytes): at least one choice given; when several are (a decoded
   * value gives them all), each is encoded in turn and the bits they share must agree. _Bool and
   * float members go first and the others' bits win over theirs: a decoded { b: true, x: 2 } or
   * { f: NaN, u: 0x7f800001 } gives its bytes back; the bytes must then still read as the value given.
   */
  #encUnion(members: readonly CodecMember[], base: number, size: number, label: string, known: Set<string>): string {
    const all0 = this.#choices(members, base, known);
    const choices = [...all0.filter((c) => c.lossy), ...all0.filter((c) => !c.lossy)];
    const at = `o + ${base >> 3}`;
    const all = all0.flatMap((c) => c.names);
    const given = (c: Choice): string => c.names.map((n) => `x[${JSON.stringify(n)}] !== undefined`).join(' || ') || 'false';
    const body = choices.map((c) => {
      const mask = new Uint8Array(size);
      mask.set(c.mask.subarray(0, size));
      const k = this.#const(mask);
      const exact = c.lossy ? 'false' : 'true';
      return `if (${given(c)}) { if (n) keep = H.unionStash(b, ${at}, ${size}, keep, last);\n${c.stmt}\n`
        + `if (n) H.unionMerge(b, ${at}, keep, ${k}, ${exact}, p, ${JSON.stringify(label)}, ${JSON.stringify(c.names.join('/'))}); last = ${c.lossy ? 'null' : k}; n++; }`;
    }).join('\n');
    const checks = choices.filter((c) => c.lossy && choices.length > 1).map((c) => `if (n > 1 && ${given(c)} && !${c.lossy}) `
      + `H.unionLost(p, ${JSON.stringify(label)}, ${JSON.stringify(c.names[0])});`).join('\n');
    return `{ let n = 0, keep = null, last = null;\n${body}\nif (n === 0) H.unionCount(p, ${JSON.stringify(label)}, ${JSON.stringify(all)});\n${checks} }`;
  }

  #encStruct(kind: 'struct' | 'union', members: readonly CodecMember[], name: string, size: number): string {
    const known = new Set<string>();
    const what = `${kind}${name ? ` ${name}` : ''}`;
    const fields = kind === 'union' ? [this.#encUnion(members, 0, size, what, known)] : this.#encFields(members, 0, known);
    return [
      `if (x === undefined) H.missing(p);`,
      `if (x === null || typeof x !== 'object' || Array.isArray(x)) H.wrongType(p, 'an object (${what})', x);`,
      `for (const k in x) if (!${this.#const(known)}.has(k)) H.unknown(p, k, ${this.#const([...known])});`,
      ...fields,
    ].join('\n');
  }
}

/** Compile the codec of BTF type `id` (typedefs and modifiers are looked through). */
export function compileCodec<T = unknown>(src: CodecTypeSource, id: number, o: CodecOptions = {}): TypedCodec<T> {
  const c = new Compiler(src, o);
  const size = c.sizeOf(id);
  const root = o.what ?? 'value';
  const decExpr = c.dec(id, 'o');
  const encStmt = c.enc(id, 'o', 'x', JSON.stringify(root));
  // v and b cover the whole ArrayBuffer (cached per buffer: no DataView per value); o is absolute
  const source = `"use strict";\n${c.fns.join('\n')}\n`
    + `let lastBuf = null, v = null, b = null;\n`
    + `function views(x) { const buf = x.buffer; if (buf !== lastBuf) { lastBuf = buf; v = new DataView(buf); b = new Uint8Array(buf); } }\n`
    + `function decodeAt(x, o) { views(x); o += x.byteOffset; return ${decExpr}; }\n`
    + `function encodeInto(x, out, o) { views(out); o += out.byteOffset; b.fill(0, o, o + ${size}); ${encStmt} }\n`
    + `return { decodeAt, encodeInto };`;
  const made = new Function('H', 'K', source)(H, c.consts) as {
    decodeAt(bytes: Uint8Array, o: number): T;
    encodeInto(value: T, out: Uint8Array, o: number): void;
  };
  // DataView would read a NaN or fractional offset as a truncated one, and a non-buffer throws a TypeError
  const fits = (bytes: Uint8Array, offset: number): void => {
    if (!(bytes instanceof Uint8Array)) throw new CodecError(root, 'wrong type', `expected a Uint8Array of ${size} bytes, got ${bytes === null ? 'null' : typeof bytes}`);
    if (!Number.isInteger(offset) || offset < 0 || offset + size > bytes.length) throw new CodecError(root, 'wrong length', `${size} bytes at offset ${offset} do not fit in ${bytes.length}`);
  };
  return {
    size,
    decode(bytes: Uint8Array): T {
      if (!(bytes instanceof Uint8Array)) fits(bytes, 0);
      if (bytes.length < size) throw new CodecError(root, 'wrong length', `${bytes.length} bytes to decode, the type has ${size}`);
      return made.decodeAt(bytes, 0);
    },
    decodeAt(bytes: Uint8Array, offset: number): T {
      fits(bytes, offset);
      return made.decodeAt(bytes, offset);
    },
    encode(value: T): Uint8Array {
      const out = new Uint8Array(size);
      made.encodeInto(value, out, 0);
      return out;
    },
    encodeInto(value: T, out: Uint8Array, offset = 0): void {
      fits(out, offset);
      made.encodeInto(value, out, offset);
    },
  };
}
