// Codecs for maps without BTF: the user gives the size and the two functions; we check sizes so a
// wrong encoder fails here rather than in the kernel.
import { CodecError } from './errors.js';
import type { TypedCodec } from './compile.js';

export interface UserCodec<T> {
  size: number;
  encode(value: T): Uint8Array;
  decode(bytes: Uint8Array): T;
}

/** the bytes [offset, offset + size) of a buffer, or a typed error naming what does not fit */
function fits(what: string, size: number, len: number, offset: number): void {
  if (!Number.isInteger(offset) || offset < 0 || offset + size > len) {
    throw new CodecError(what, 'wrong length', `${size} bytes at offset ${offset} do not fit in ${len}`);
  }
}

export function userCodec<T>(c: UserCodec<T>, what = 'value'): TypedCodec<T> {
  const { size } = c;
  if (!Number.isInteger(size) || size < 0) throw new CodecError(what, 'wrong type', `codec size must be a non-negative integer, got ${size}`);
  const encode = (value: T): Uint8Array => {
    const b = c.encode(value);
    if (!(b instanceof Uint8Array)) throw new CodecError(what, 'wrong type', 'the codec\'s encode() must return a Uint8Array');
    if (b.length !== size) throw new CodecError(what, 'wrong length', `the codec's encode() gave ${b.length} bytes, its size is ${size}`);
    return b;
  };
  return {
    size,
    encode,
    decode: (bytes) => {
      fits(what, size, bytes.length, 0);
      return c.decode(bytes.length === size ? bytes : bytes.subarray(0, size));
    },
    encodeInto(value, out, offset = 0) {
      fits(what, size, out.length, offset);
      out.set(encode(value), offset);
    },
    decodeAt: (bytes, offset) => {
      fits(what, size, bytes.length, offset);
      return c.decode(bytes.subarray(offset, offset + size));
    },
  };
}

/** Codecs for the plain integer types (maps without BTF, numeric keys): 1, 2, 4 or 8 bytes. */
export function intCodec(size: 1 | 2 | 4 | 8, signed = false, what = 'value'): TypedCodec<number | bigint> {
  if (size !== 1 && size !== 2 && size !== 4 && size !== 8) throw new CodecError(what, 'unsupported type', `integers are 1, 2, 4 or 8 bytes, not ${String(size)}`);
  const bits = size * 8;
  const min = signed ? -(2 ** (bits - 1)) : 0;
  const max = signed ? 2 ** (bits - 1) - 1 : 2 ** bits - 1;
  const get = (v: DataView, o: number): number | bigint => {
    switch (size) {
      case 1: return signed ? v.getInt8(o) : v.getUint8(o);
      case 2: return signed ? v.getInt16(o, true) : v.getUint16(o, true);
      case 4: return signed ? v.getInt32(o, true) : v.getUint32(o, true);
      default: return signed ? v.getBigInt64(o, true) : v.getBigUint64(o, true);
    }
  };
  const put = (value: number | bigint, out: Uint8Array, o: number): void => {
    fits(what, size, out.length, o);
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    if (size === 8) {
      const b = typeof value === 'bigint' ? value : Number.isSafeInteger(value) ? BigInt(value) : NaN;
      if (typeof b !== 'bigint') throw new CodecError(what, 'wrong type', `expected a bigint, got ${value}`);
      if (b !== (signed ? BigInt.asIntN(64, b) : BigInt.asUintN(64, b))) throw new CodecError(what, 'out of range', `${value} does not fit ${bits} bits`);
      if (signed) v.setBigInt64(o, b, true); else v.setBigUint64(o, b, true);
      return;
    }
    const n = typeof value === 'bigint' ? Number(value) : value;
    if (typeof n !== 'number' || !Number.isInteger(n)) throw new CodecError(what, 'wrong type', `expected an integer, got ${String(value)}`);
    if (n < min || n > max) throw new CodecError(what, 'out of range', `${value} is outside [${min}, ${max}]`);
    if (size === 1) v.setUint8(o, n & 0xff);
    else if (size === 2) v.setUint16(o, n & 0xffff, true);
    else v.setUint32(o, n >>> 0, true);
  };
  return {
    size,
    encode(value) { const out = new Uint8Array(size); put(value, out, 0); return out; },
    encodeInto(value, out, offset = 0) { put(value, out, offset); },
    decode: (bytes) => {
      fits(what, size, bytes.length, 0);
      return get(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), 0);
    },
    decodeAt: (bytes, offset) => {
      fits(what, size, bytes.length, offset);
      return get(new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength), offset);
    },
  };
}
