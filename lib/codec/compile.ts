// Compiles a BTF type into an encoder/decoder pair once: the type graph is walked at compile time
// and turned into straight-line JavaScript (one generated function per struct/union/array type),
// so encoding or decoding a value is field reads/writes on a DataView, never a walk of the types.
// Values use the host's byte order (map values live in the running kernel's order).
import { CodecError } from './errors.js';
import type { CodecMember, CodecType, CodecTypeSource } from './types.js';
import { H, MAX, MIN } from './runtime.js';

export interface CodecOptions {
  /** char arrays (arrays of `char`) decode as strings (up to the first NUL); encode accepts strings always */
  strings?: boolean;
  /** enums decode to their enumerator's name when one matches (encode accepts names always) */
  enumNames?: boolean;
  /** the root of error paths: 'key' or 'value' (default 'value') */
  what?: string;
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
    for (let hops = 0; hops < 64; hops++) {
      const t = this.#src.get(id);
      if (t.kind !== 'alias') return { id, t };
      id = t.type;
    }
    throw new CodecError(`type ${id}`, 'unsupported type', 'typedef/modifier chain longer than 64 (a loop?)');
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
    const { t } = this.resolve(id);
    return t.kind === 'int' && t.size === 1 && (t.char || t.name === 'char');
  }

  // ---- decode ----

  /** an expression decoding type `id` at byte offset expression `o` */
  dec(id: number, o: string): string {
    const { id: rid, t } = this.resolve(id);
    const E = LE ? 'true' : 'false';
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
        const raw = this.#enumRaw(t.size, t.signed, o, rid);
        if (!this.#o.enumNames) return raw;
        const names = new Map<number | bigint, string>();
        for (const e of t.values) if (!names.has(e.value)) names.set(t.size === 8 ? BigInt(e.value) : Number(e.value), e.name);
        return `H.enumName(${this.#const(names)}, ${raw})`;
      }
      case 'array':
        if (this.#o.strings && this.#isChar(t.type)) return `H.str(b, ${o}, ${t.count})`;
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
    return `H.getBits(b, ${o} + ${bitOffset >> 3}, ${bitOffset & 7}, ${bits}, ${signed}, ${size === 8})`;
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
    else if (t.kind === 'struct' || t.kind === 'union') body = kind === 'd' ? this.#decStruct(t.members) : this.#encStruct(t.kind, t.members, t.name);
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
      parts.push(`${JSON.stringify(m.name)}: ${this.#decMember(m)}`);
    }
    return `return { ${parts.join(', ')} };`;
  }

  #decMember(m: Flat): string {
    const { t } = this.resolve(m.type);
    if (m.bitSize > 0 || m.bitOffset % 8 !== 0) {
      if (t.kind !== 'int' && t.kind !== 'enum') throw new CodecError(m.name, 'unsupported type', 'bitfield of a non-integer type');
      return this.#decBits(t.size, t.signed, 'o', m.bitOffset, m.bitSize || t.size * 8);
    }
    return this.dec(m.type, `o + ${m.bitOffset / 8}`);
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
        return this.#encInt(t.size, t.signed, t.bool, o, x, p, rid);
      }
      case 'ptr': return `v.setBigUint64(${o}, H.big(${x}, 0n, ${this.#const(MAX(64, false))}, ${p}), ${E});`;
      case 'float':
        if (t.size === 4) return `v.setFloat32(${o}, H.float(${x}, ${p}), ${E});`;
        if (t.size === 8) return `v.setFloat64(${o}, H.float(${x}, ${p}), ${E});`;
        throw new CodecError(`type ${rid}`, 'unsupported type', `${t.size}-byte float ${t.name}`);
      case 'enum': {
        const byName = new Map<string, number | bigint>(t.values.map((e) => [e.name, t.size === 8 ? BigInt(e.value) : Number(e.value)]));
        return this.#encInt(t.size, t.signed, false, o, `H.enumValue(${this.#const(byName)}, ${x}, ${p})`, p, rid);
      }
      case 'array': case 'struct': case 'union':
        return `${this.#fn('e', rid)}(v, b, ${o}, ${x}, ${p});`;
      default:
        throw new CodecError(`type ${rid}`, 'unsupported type', t.kind === 'other' ? t.what : t.kind);
    }
  }

  #encInt(size: number, signed: boolean, bool: boolean, o: string, x: string, p: string, id: number): string {
    const E = LE ? 'true' : 'false';
    const bits = size * 8;
    if (size === 8) return `v.${signed ? 'setBigInt64' : 'setBigUint64'}(${o}, H.big(${x}, ${this.#const(MIN(64, signed))}, ${this.#const(MAX(64, signed))}, ${p}), ${E});`;
    const set = { 1: 'Int8', 2: 'Int16', 4: 'Int32' }[size as 1 | 2 | 4];
    if (!set) throw new CodecError(`type ${id}`, 'unsupported type', `${size}-byte integer`);
    const val = bool ? `H.bool(${x}, ${p})` : `H.int(${x}, ${Number(MIN(bits, signed))}, ${Number(MAX(bits, signed))}, ${p})`;
    const setter = signed ? set : `Uint${set.slice(3)}`;
    return `v.set${setter}(${o}, ${val}${size === 1 ? '' : `, ${E}`});`;
  }

  #encBits(size: number, signed: boolean, o: string, bitOffset: number, bits: number, x: string, p: string): string {
    if (!LE) throw new CodecError('bitfield', 'unsupported type', 'bitfields on big-endian hosts');
    const check = bits > 32 || size === 8
      ? `H.big(${x}, ${this.#const(MIN(bits, signed))}, ${this.#const(MAX(bits, signed))}, ${p})`
      : `H.int(${x}, ${Number(MIN(bits, signed))}, ${Number(MAX(bits, signed))}, ${p})`;
    return `H.setBits(b, ${o} + ${bitOffset >> 3}, ${bitOffset & 7}, ${bits}, ${check});`;
  }

  #encArray(elem: number, count: number): string {
    const es = this.sizeOf(elem);
    const str = this.#isChar(elem) ? `if (typeof x === 'string') { H.putStr(b, o, ${count}, x, p); return; }\n` : '';
    return `if (x === undefined) H.missing(p);\n${str}if (x === null || typeof x !== 'object' || typeof x.length !== 'number') H.wrongType(p, 'an array of ${count}', x);\n`
      + `if (x.length !== ${count}) H.wrongLength(p, ${count}, x.length);\n`
      + `for (let i = 0; i < ${count}; i++) { ${this.enc(elem, `o + i * ${es}`, 'x[i]', `p + '[' + i + ']'`)} }`;
  }

  #encStruct(kind: 'struct' | 'union', members: readonly CodecMember[], name: string): string {
    const flat = this.#flatten(members, 0);
    const known = new Set<string>();
    const lines: string[] = [];
    const what = `${kind}${name ? ` ${name}` : ''}`;
    lines.push(`if (x === undefined) H.missing(p);`, `if (x === null || typeof x !== 'object' || Array.isArray(x)) H.wrongType(p, 'an object (${what})', x);`);
    const memberStmt = (m: Flat, xe: string, pe: string): string => {
      const { t } = this.resolve(m.type);
      if (m.bitSize > 0 || m.bitOffset % 8 !== 0) {
        if (t.kind !== 'int' && t.kind !== 'enum') throw new CodecError(m.name, 'unsupported type', 'bitfield of a non-integer type');
        const val = t.kind === 'enum' ? `H.enumValue(${this.#const(new Map(t.values.map((e) => [e.name, Number(e.value)])))}, ${xe}, ${pe})` : xe;
        return this.#encBits(t.size, t.signed, 'o', m.bitOffset, m.bitSize || t.size * 8, val, pe);
      }
      return this.enc(m.type, `o + ${m.bitOffset / 8}`, xe, pe);
    };
    const unionGroup = (ms: readonly Flat[], xe: string, label: string): string => {
      // exactly one member of a union is given
      const names = ms.map((m) => m.name);
      const body = ms.map((m) => `if (${xe}[${JSON.stringify(m.name)}] !== undefined) { n++; ${memberStmt(m, `${xe}[${JSON.stringify(m.name)}]`, `p + ${JSON.stringify('.' + m.name)}`)} }`).join('\n');
      return `{ let n = 0;\n${body}\nif (n !== 1) H.unionCount(p, ${JSON.stringify(label)}, ${JSON.stringify(names)}, n); }`;
    };
    if (kind === 'union') {
      for (const m of flat) known.add(m.name);
      lines.push(unionGroup(flat, 'x', what));
    } else {
      for (const m of flat) {
        const { t } = this.resolve(m.type);
        if (m.name === '' && t.kind === 'union') {
          // anonymous union inside a struct: its members sit at this level, one of them given
          const inner = this.#flatten(t.members, m.bitOffset);
          for (const im of inner) known.add(im.name);
          lines.push(unionGroup(inner, 'x', 'anonymous union'));
          continue;
        }
        if (m.name === '') continue; // unnamed padding member
        known.add(m.name);
        lines.push(memberStmt(m, `x[${JSON.stringify(m.name)}]`, `p + ${JSON.stringify('.' + m.name)}`));
      }
    }
    lines.splice(2, 0, `for (const k in x) if (!${this.#const(known)}.has(k)) H.unknown(p, k, ${this.#const([...known])});`);
    return lines.join('\n');
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
  return {
    size,
    decode(bytes: Uint8Array): T {
      if (bytes.length < size) throw new CodecError(root, 'wrong length', `${bytes.length} bytes to decode, the type has ${size}`);
      return made.decodeAt(bytes, 0);
    },
    decodeAt(bytes: Uint8Array, offset: number): T {
      if (offset < 0 || offset + size > bytes.length) throw new CodecError(root, 'wrong length', `${size} bytes at offset ${offset} do not fit in ${bytes.length}`);
      return made.decodeAt(bytes, offset);
    },
    encode(value: T): Uint8Array {
      const out = new Uint8Array(size);
      made.encodeInto(value, out, 0);
      return out;
    },
    encodeInto(value: T, out: Uint8Array, offset = 0): void {
      if (offset < 0 || offset + size > out.length) throw new CodecError(root, 'wrong length', `${size} bytes at offset ${offset} do not fit in ${out.length}`);
      made.encodeInto(value, out, offset);
    },
  };
}
