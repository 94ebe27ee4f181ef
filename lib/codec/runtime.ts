// Helpers the generated codec functions call: range checks that throw CodecError with the field
// path, bitfield access, strings in char arrays, 128-bit integers.
import { CodecError } from './errors.js';

export const MIN = (bits: number, signed: boolean): bigint => (signed ? -(1n << BigInt(bits - 1)) : 0n);
export const MAX = (bits: number, signed: boolean): bigint => (signed ? (1n << BigInt(bits - 1)) - 1n : (1n << BigInt(bits)) - 1n);

const utf8 = new TextEncoder();
// ignoreBOM: a leading EF BB BF stays in the string (dropping it would lose 3 bytes on the way back)
const text = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

function show(x: unknown): string {
  if (typeof x === 'bigint') return `${x}n`;
  if (typeof x === 'string') return JSON.stringify(x.length > 40 ? `${x.slice(0, 40)}…` : x);
  if (Array.isArray(x)) return `an array of ${x.length}`;
  if (x === null) return 'null';
  return typeof x === 'object' ? 'an object' : String(x);
}

const range = (p: string, x: unknown, min: bigint | number, max: bigint | number): never => {
  throw new CodecError(p, 'out of range', `${show(x)} is outside [${min}, ${max}]`);
};

// with /u a valid pair is one code point, so only a lone half matches
const LONE_SURROGATE = /\p{Cs}/u;
const F32_MAX = 3.4028234663852886e38;

interface UnionSoFar {
  bytes: Uint8Array;
  mask: Uint8Array;
}

export const H = {
  missing(p: string): never {
    throw new CodecError(p, 'missing field', 'no value given');
  },
  wrongType(p: string, want: string, x: unknown): never {
    throw new CodecError(p, 'wrong type', `expected ${want}, got ${show(x)}`);
  },
  wrongLength(p: string, want: number, got: number): never {
    throw new CodecError(p, 'wrong length', `expected ${want} elements, got ${got}`);
  },
  unknown(p: string, k: string, known: readonly string[]): never {
    throw new CodecError(`${p}.${k}`, 'unknown field', `the type has ${known.length ? known.join(', ') : 'no fields'}`);
  },
  unionCount(p: string, what: string, names: readonly string[]): never {
    throw new CodecError(p, 'missing field', `${what}: give one of ${names.join(', ')}`);
  },
  /**
   * before encoding a further member of a union: keep the bytes so far (and which bits exact members
   * set: `last` is null after a _Bool/float one), zero the union
   */
  unionStash(b: Uint8Array, o: number, size: number, keep: UnionSoFar | null, last: Uint8Array | null): UnionSoFar {
    keep ??= { bytes: new Uint8Array(size), mask: last ? Uint8Array.from(last) : new Uint8Array(size) };
    keep.bytes.set(b.subarray(o, o + size));
    b.fill(0, o, o + size);
    return keep;
  },
  /**
   * after it: the bits an exact member wrote must agree with earlier exact members' (a _Bool/float
   * member's bits are overwritten, and checked by unionLost at the end); the union's bytes become
   * the union of both
   */
  unionMerge(b: Uint8Array, o: number, keep: UnionSoFar, mask: Uint8Array, exact: boolean, p: string, what: string, name: string): void {
    for (let i = 0; i < mask.length; i++) {
      const now = b[o + i];
      if (exact && (now ^ keep.bytes[i]) & keep.mask[i] & mask[i]) {
        throw new CodecError(p, 'conflicting members', `${what}: ${name} gives byte ${i} as 0x${now.toString(16)}, an earlier member as 0x${keep.bytes[i].toString(16)}`);
      }
      b[o + i] = now | (keep.bytes[i] & ~mask[i]);
      if (exact) keep.mask[i] |= mask[i];
    }
  },
  unionLost(p: string, what: string, name: string): never {
    throw new CodecError(p, 'conflicting members', `${what}: the other members' bytes do not read as the ${name} given`);
  },
  /** a _Bool read back (true/false) against the value given (true/false/0/1) */
  sameBool(read: boolean, given: unknown): boolean {
    return read === (given === true || given === 1 || given === 1n);
  },
  /** a number-valued integer field (up to 32 bits) */
  int(x: unknown, min: number, max: number, p: string): number {
    if (typeof x === 'number') {
      if (!Number.isInteger(x)) return H.wrongType(p, 'an integer', x);
      if (x < min || x > max) return range(p, x, min, max);
      return x;
    }
    if (typeof x === 'bigint') {
      if (x < BigInt(min) || x > BigInt(max)) return range(p, x, min, max);
      return Number(x);
    }
    if (x === undefined) return H.missing(p);
    return H.wrongType(p, 'an integer', x);
  },
  /** a bigint-valued integer field (64/128 bits; safe-integer numbers are accepted) */
  big(x: unknown, min: bigint, max: bigint, p: string): bigint {
    let b: bigint;
    if (typeof x === 'bigint') b = x;
    else if (typeof x === 'number') {
      if (!Number.isSafeInteger(x)) return H.wrongType(p, 'a bigint (or a safe integer number)', x);
      b = BigInt(x);
    } else if (x === undefined) return H.missing(p);
    else return H.wrongType(p, 'a bigint', x);
    if (b < min || b > max) return range(p, x, min, max);
    return b;
  },
  bool(x: unknown, p: string): number {
    if (typeof x === 'boolean') return x ? 1 : 0;
    return H.int(x, 0, 1, p);
  },
  float(x: unknown, p: string): number {
    if (typeof x === 'number') return x;
    if (x === undefined) return H.missing(p);
    return H.wrongType(p, 'a number', x);
  },
  /** a float: finite numbers beyond its range are refused (rounding, and underflow towards 0, are C's) */
  float32(x: unknown, p: string): number {
    const f = H.float(x, p);
    if (Number.isFinite(f) && !Number.isFinite(Math.fround(f))) return range(p, x, -F32_MAX, F32_MAX);
    return f;
  },
  enumName(names: Map<number | bigint, string>, v: number | bigint): string | number | bigint {
    return names.get(v) ?? v;
  },
  /** an enum field's value: a name, a number, or an enumerator's value in the other signedness (`other`) */
  enumValue(byName: Map<string, number | bigint>, other: Map<string, number | bigint> | null, x: unknown, p: string): unknown {
    if (typeof x !== 'string') return other !== null && (typeof x === 'number' || typeof x === 'bigint') ? other.get(String(x)) ?? x : x;
    const v = byName.get(x);
    if (v === undefined) throw new CodecError(p, 'wrong type', `${JSON.stringify(x)} is not an enumerator (${[...byName.keys()].join(', ')})`);
    return v;
  },
  /** a char array as text: up to the first NUL; undefined when those bytes are not UTF-8 */
  str(b: Uint8Array, o: number, n: number): string | undefined {
    let end = o;
    while (end < o + n && b[end] !== 0) end++;
    try {
      return text.decode(b.subarray(o, end));
    } catch {
      return undefined;
    }
  },
  putStr(b: Uint8Array, o: number, n: number, s: string, p: string): void {
    // a NUL would end the string early when read back; a lone surrogate has no UTF-8
    if (s.includes('\0')) throw new CodecError(p, 'wrong type', 'a string for a char array cannot contain NUL (give the bytes as an array of numbers)');
    if (LONE_SURROGATE.test(s)) throw new CodecError(p, 'wrong type', 'the string has a lone surrogate (no UTF-8 for it)');
    const bytes = utf8.encode(s);
    if (bytes.length > n) throw new CodecError(p, 'wrong length', `${bytes.length} bytes of UTF-8 do not fit in char[${n}]`);
    b.set(bytes, o);
  },
  /** a little-endian bitfield of `bits` bits starting `shift` bits into byte `o` */
  getBits(b: Uint8Array, o: number, shift: number, bits: number, signed: boolean, asBig: boolean): number | bigint {
    const nbytes = (shift + bits + 7) >> 3;
    if (!asBig && nbytes <= 6) {
      // exact in doubles: up to 48 bits of bytes
      let w = 0;
      for (let i = nbytes - 1; i >= 0; i--) w = w * 256 + b[o + i];
      const span = 2 ** bits;
      let x = Math.floor(w / 2 ** shift) % span;
      if (signed && x >= span / 2) x -= span;
      return x;
    }
    let v = 0n;
    for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i]);
    v = (v >> BigInt(shift)) & ((1n << BigInt(bits)) - 1n);
    if (signed && v >> BigInt(bits - 1)) v -= 1n << BigInt(bits);
    return asBig ? v : Number(v);
  },
  setBits(b: Uint8Array, o: number, shift: number, bits: number, x: number | bigint): void {
    const nbytes = (shift + bits + 7) >> 3;
    const mask = ((1n << BigInt(bits)) - 1n) << BigInt(shift);
    let v = 0n;
    for (let i = nbytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[o + i]);
    v = (v & ~mask) | ((BigInt.asUintN(bits, BigInt(x)) << BigInt(shift)) & mask);
    for (let i = 0; i < nbytes; i++) { b[o + i] = Number(v & 0xffn); v >>= 8n; }
  },
  u128(v: DataView, o: number, signed: boolean, le: boolean): bigint {
    const lo = v.getBigUint64(le ? o : o + 8, le);
    const hi = v.getBigUint64(le ? o + 8 : o, le);
    const u = (hi << 64n) | lo;
    return signed ? BigInt.asIntN(128, u) : u;
  },
  setU128(v: DataView, o: number, x: bigint, le: boolean): void {
    const u = BigInt.asUintN(128, x);
    v.setBigUint64(le ? o : o + 8, u & 0xffffffffffffffffn, le);
    v.setBigUint64(le ? o + 8 : o, u >> 64n, le);
  },
};
