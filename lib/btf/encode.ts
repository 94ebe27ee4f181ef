// encodeBtf: the raw BTF blob (linux/btf.h: header, type section, string section) for a list of
// types in the shared model, as BPF_BTF_LOAD takes it. Pure. Strings are deduplicated, '' at 0.
// Every field is range-checked against its encoding so a bad model is a typed error naming the
// type id, never silently truncated bits in the blob.

import { TsbpfError } from '../errors.js';
import { BTF_KIND, type BtfType } from './types.js';

/** A type that cannot be encoded as given (id out of order, a field too wide for its bits). */
export class BtfEncodeError extends TsbpfError {
  constructor(message: string, readonly typeId: number) {
    super(`BTF encode: type id ${typeId}: ${message}`);
  }
}

export interface EncodeBtfOptions {
  /** byte order of the blob; default little-endian (the host order of every Node platform we run on) */
  readonly littleEndian?: boolean;
  /**
   * A string section to start from (the object's own): it is kept whole as the prefix, so every
   * offset into it stays valid — .BTF.ext func_info/line_info name file names and source lines by
   * offsets into the BTF string section, and those are not in the type model. New names are
   * appended; names already in it are reused at their offsets.
   */
  readonly strings?: Uint8Array;
}

const HEADER_LEN = 24;
const MAX_VLEN = 0xffff;
/** BTF_MAX_NAME_OFFSET: the kernel's limit on a string offset */
const MAX_NAME_OFFSET = 0xffffff;

const INT_SIGNED = 1;
const INT_CHAR = 2;
const INT_BOOL = 4;

/** Growable little/big-endian u32 writer. */
class Words {
  buf = new Uint8Array(4096);
  view = new DataView(this.buf.buffer);
  len = 0;
  constructor(private readonly le: boolean) {}
  private grow(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
    this.view = new DataView(next.buffer);
  }
  u32(v: number): void {
    this.grow(4);
    this.view.setUint32(this.len, v >>> 0, this.le);
    this.len += 4;
  }
}

/** The string section: each distinct string once, in order of first use. */
class Strings {
  private readonly offsets = new Map<string, number>([['', 0]]);
  private buf = new Uint8Array(4096);
  private readonly encoder = new TextEncoder();
  len = 1;

  constructor(initial?: Uint8Array) {
    if (!initial) return;
    if (initial.length === 0 || initial[0] !== 0 || initial[initial.length - 1] !== 0) {
      throw new BtfEncodeError('the string section to start from must begin and end with a NUL', 0);
    }
    const dec = new TextDecoder();
    for (let at = 1; at < initial.length;) {
      const end = initial.indexOf(0, at);
      const s = dec.decode(initial.subarray(at, end));
      if (!this.offsets.has(s)) this.offsets.set(s, at);
      at = end + 1;
    }
    this.reserve(initial.length);
    this.buf.set(initial);
    this.len = initial.length;
  }

  private reserve(n: number): void {
    if (this.len + n <= this.buf.length) return;
    let cap = this.buf.length * 2;
    while (cap < this.len + n) cap *= 2;
    const next = new Uint8Array(cap);
    next.set(this.buf.subarray(0, this.len));
    this.buf = next;
  }

  add(s: string, id: number): number {
    const known = this.offsets.get(s);
    if (known !== undefined) return known;
    const off = this.len;
    if (off > MAX_NAME_OFFSET) throw new BtfEncodeError(`string section passes the kernel's limit of ${MAX_NAME_OFFSET} bytes`, id);
    // UTF-8 is at most 3 bytes per UTF-16 unit, plus the NUL
    this.reserve(s.length * 3 + 1);
    const buf = this.buf;
    let at = off;
    let ascii = true;
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i);
      if (c === 0) throw new BtfEncodeError(`name ${JSON.stringify(s)} contains a NUL`, id);
      if (c >= 0x80) { ascii = false; break; }
      buf[at++] = c;
    }
    if (!ascii) at = off + this.encoder.encodeInto(s, buf.subarray(off)).written;
    buf[at++] = 0;
    this.offsets.set(s, off);
    this.len = at;
    return off;
  }

  bytes(): Uint8Array {
    return this.buf.subarray(0, this.len);
  }
}

const REF_KIND = {
  ptr: BTF_KIND.PTR, typedef: BTF_KIND.TYPEDEF, volatile: BTF_KIND.VOLATILE, const: BTF_KIND.CONST, restrict: BTF_KIND.RESTRICT, type_tag: BTF_KIND.TYPE_TAG,
} as const;

function u32(v: number, what: string, id: number): number {
  if (!Number.isInteger(v) || v < 0 || v > 0xffffffff) throw new BtfEncodeError(`${what} ${v} is not a u32`, id);
  return v;
}

function ref(v: number, what: string, id: number, count: number): number {
  if (!Number.isInteger(v) || v < 0 || v > count) throw new BtfEncodeError(`${what} refers to type ${v}, outside 0…${count}`, id);
  return v;
}

function vlenOf(n: number, id: number): number {
  if (n > MAX_VLEN) throw new BtfEncodeError(`${n} members/values/params/vars, more than BTF's ${MAX_VLEN}`, id);
  return n;
}

function info(kind: number, vlen: number, kindFlag: boolean): number {
  return ((kindFlag ? 0x80000000 : 0) | (kind << 24) | vlen) >>> 0;
}

/**
 * Encode types 1..n (types[i].id must be i + 1; void is implicit) into a raw BTF blob.
 * Type references may point at 0…n.
 */
export function encodeBtf(types: readonly BtfType[], opts: EncodeBtfOptions = {}): Uint8Array {
  const le = opts.littleEndian ?? true;
  const w = new Words(le);
  const strs = new Strings(opts.strings);
  const n = types.length;
  for (let i = 0; i < n; i++) {
    const t = types[i]!;
    const id = i + 1;
    if (t.id !== id) throw new BtfEncodeError(`found at position ${id} of the list: types must be given in id order from 1`, t.id);
    const name = strs.add(t.name, id);
    switch (t.kind) {
      case 'void':
        throw new BtfEncodeError('void is type 0 and is not encoded', id);
      case 'int': {
        const enc = (t.signed ? INT_SIGNED : 0) | (t.char ? INT_CHAR : 0) | (t.bool ? INT_BOOL : 0);
        if (!(t.bits >= 0 && t.bits <= 128 && t.bitOffset >= 0 && t.bitOffset <= 0xff)) throw new BtfEncodeError(`int bits ${t.bits} / offset ${t.bitOffset} out of range`, id);
        w.u32(name); w.u32(info(BTF_KIND.INT, 0, false)); w.u32(u32(t.size, 'size', id));
        w.u32((enc << 24) | (t.bitOffset << 16) | t.bits);
        break;
      }
      case 'ptr': case 'typedef': case 'volatile': case 'const': case 'restrict': case 'type_tag': {
        w.u32(name); w.u32(info(REF_KIND[t.kind], 0, t.kind === 'type_tag' && t.attribute === true)); w.u32(ref(t.type, t.kind, id, n));
        break;
      }
      case 'array':
        w.u32(name); w.u32(info(BTF_KIND.ARRAY, 0, false)); w.u32(0);
        w.u32(ref(t.type, 'element type', id, n)); w.u32(ref(t.indexType, 'index type', id, n)); w.u32(u32(t.nelems, 'nelems', id));
        break;
      case 'struct': case 'union': {
        w.u32(name); w.u32(info(t.kind === 'struct' ? BTF_KIND.STRUCT : BTF_KIND.UNION, vlenOf(t.members.length, id), t.kindFlag));
        w.u32(u32(t.size, 'size', id));
        for (const m of t.members) {
          w.u32(strs.add(m.name, id)); w.u32(ref(m.type, `member ${m.name || '(anon)'}`, id, n));
          if (t.kindFlag) {
            if (!(m.bitOffset >= 0 && m.bitOffset <= 0xffffff && m.bitfieldSize >= 0 && m.bitfieldSize <= 0xff)) {
              throw new BtfEncodeError(`member ${m.name}: bit offset ${m.bitOffset} / bitfield size ${m.bitfieldSize} do not fit kind_flag's 24+8 bits`, id);
            }
            w.u32((m.bitfieldSize << 24) | m.bitOffset);
          } else {
            if (m.bitfieldSize !== 0) throw new BtfEncodeError(`member ${m.name} is a bitfield but kindFlag is false`, id);
            w.u32(u32(m.bitOffset, `member ${m.name} bit offset`, id));
          }
        }
        break;
      }
      case 'enum':
        w.u32(name); w.u32(info(BTF_KIND.ENUM, vlenOf(t.values.length, id), t.signed)); w.u32(u32(t.size, 'size', id));
        for (const v of t.values) {
          if (!Number.isInteger(v.value) || v.value < -0x80000000 || v.value > 0xffffffff) throw new BtfEncodeError(`enumerator ${v.name} value ${v.value} does not fit 32 bits`, id);
          w.u32(strs.add(v.name, id)); w.u32(v.value);
        }
        break;
      case 'enum64':
        w.u32(name); w.u32(info(BTF_KIND.ENUM64, vlenOf(t.values.length, id), t.signed)); w.u32(u32(t.size, 'size', id));
        for (const v of t.values) {
          if (v.value < -(1n << 63n) || v.value >= 1n << 64n) throw new BtfEncodeError(`enumerator ${v.name} value ${v.value} does not fit 64 bits`, id);
          const bits = BigInt.asUintN(64, v.value);
          w.u32(strs.add(v.name, id)); w.u32(Number(bits & 0xffffffffn)); w.u32(Number(bits >> 32n));
        }
        break;
      case 'fwd':
        w.u32(name); w.u32(info(BTF_KIND.FWD, 0, t.union)); w.u32(0);
        break;
      case 'func':
        if (!(t.linkage >= 0 && t.linkage <= MAX_VLEN)) throw new BtfEncodeError(`linkage ${t.linkage} out of range`, id);
        w.u32(name); w.u32(info(BTF_KIND.FUNC, t.linkage, false)); w.u32(ref(t.type, 'func proto', id, n));
        break;
      case 'func_proto':
        w.u32(name); w.u32(info(BTF_KIND.FUNC_PROTO, vlenOf(t.params.length, id), false)); w.u32(ref(t.returnType, 'return type', id, n));
        for (const p of t.params) { w.u32(strs.add(p.name, id)); w.u32(ref(p.type, `param ${p.name}`, id, n)); }
        break;
      case 'var':
        w.u32(name); w.u32(info(BTF_KIND.VAR, 0, false)); w.u32(ref(t.type, 'var type', id, n)); w.u32(u32(t.linkage, 'linkage', id));
        break;
      case 'datasec':
        w.u32(name); w.u32(info(BTF_KIND.DATASEC, vlenOf(t.vars.length, id), false)); w.u32(u32(t.size, 'size', id));
        for (const v of t.vars) { w.u32(ref(v.type, 'var', id, n)); w.u32(u32(v.offset, 'var offset', id)); w.u32(u32(v.size, 'var size', id)); }
        break;
      case 'float':
        w.u32(name); w.u32(info(BTF_KIND.FLOAT, 0, false)); w.u32(u32(t.size, 'size', id));
        break;
      case 'decl_tag':
        if (!Number.isInteger(t.componentIdx) || t.componentIdx < -1 || t.componentIdx > 0x7fffffff) throw new BtfEncodeError(`component index ${t.componentIdx} out of range`, id);
        w.u32(name); w.u32(info(BTF_KIND.DECL_TAG, 0, t.attribute === true)); w.u32(ref(t.type, 'tagged type', id, n)); w.u32(t.componentIdx);
        break;
      default:
        throw new BtfEncodeError(`unknown kind ${(t as { kind: string }).kind}`, id);
    }
  }

  const str = strs.bytes();
  const out = new Uint8Array(HEADER_LEN + w.len + str.length);
  const v = new DataView(out.buffer);
  v.setUint16(0, 0xeb9f, le);
  out[2] = 1; // version
  out[3] = 0; // flags
  v.setUint32(4, HEADER_LEN, le);
  v.setUint32(8, 0, le); // type_off
  v.setUint32(12, w.len, le);
  v.setUint32(16, w.len, le); // str_off: strings follow the types
  v.setUint32(20, str.length, le);
  out.set(w.buf.subarray(0, w.len), HEADER_LEN);
  out.set(str, HEADER_LEN + w.len);
  return out;
}
