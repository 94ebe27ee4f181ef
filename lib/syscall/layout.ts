// Declared C struct layouts: fields listed in header order, offsets computed with the C ABI's
// natural alignment (u32: 4, u64: 8 — bpf.h's __aligned_u64 — char[N]: 1), and unions given as
// explicit `at` offsets. Every bpf_attr variant and info struct is declared once with this.

import { TsbpfError } from '../errors.js';
import { cText } from './memory.js';

export type FieldType = 'u8' | 'u32' | 's32' | 'u64' | { readonly char: number };

/** [name, type] in order, [name, type, atOffset] for a union member, or [null, type] for padding. */
export type FieldDecl = readonly [name: string | null, type: FieldType, at?: number];

export interface Field {
  readonly offset: number;
  readonly type: FieldType;
  readonly size: number;
}

export interface Layout<F extends string = string> {
  readonly name: string;
  /** total size, rounded up to 8 (bpf.h's structs are aligned(8)) */
  readonly size: number;
  readonly fields: Readonly<Record<F, Field>>;
  /** offsets by field name, for hot paths */
  readonly off: Readonly<Record<F, number>>;
}

function sizeOf(t: FieldType): number {
  if (typeof t === 'object') return t.char;
  return t === 'u8' ? 1 : t === 'u64' ? 8 : 4;
}

function alignOf(t: FieldType): number {
  return typeof t === 'object' ? 1 : sizeOf(t);
}

type Names<D extends readonly FieldDecl[]> = Exclude<D[number][0], null>;

export function struct<const D extends readonly FieldDecl[]>(name: string, decls: D): Layout<Names<D>> {
  const fields: Record<string, Field> = {};
  const off: Record<string, number> = {};
  let pos = 0;
  let end = 0;
  for (const [n, type, at] of decls) {
    const size = sizeOf(type);
    let offset: number;
    if (at !== undefined) {
      offset = at;
    } else {
      const a = alignOf(type);
      offset = Math.ceil(pos / a) * a;
      pos = offset + size;
    }
    end = Math.max(end, offset + size);
    if (n !== null) {
      if (n in fields) throw new TsbpfError(`layout ${name}: field ${n} declared twice`);
      fields[n] = { offset, type, size };
      off[n] = offset;
    }
  }
  return Object.freeze({ name, size: Math.ceil(end / 8) * 8, fields: Object.freeze(fields), off: Object.freeze(off) }) as Layout<Names<D>>;
}

export type FieldValue = number | bigint | string | Uint8Array;

/** Zero [base, base+size) and write the given fields. Strings go into char[N] NUL-terminated. */
export function writeStruct<F extends string>(
  view: DataView, base: number, layout: Layout<F>, values: Partial<Record<F, FieldValue | undefined>>,
): void {
  const bytes = new Uint8Array(view.buffer, view.byteOffset + base, layout.size);
  bytes.fill(0);
  for (const key in values) {
    const v = values[key];
    if (v === undefined) continue;
    const f = layout.fields[key];
    if (!f) throw new TsbpfError(`layout ${layout.name}: no field ${key}`);
    const o = base + f.offset;
    const t = f.type;
    if (typeof t === 'object') {
      writeChars(bytes, f.offset, t.char - 1, v as string | Uint8Array);
    } else if (t === 'u64') {
      setU64(view, o, v as number | bigint);
    } else if (t === 's32') {
      view.setInt32(o, Number(v), true);
    } else if (t === 'u8') {
      view.setUint8(o, Number(v));
    } else {
      view.setUint32(o, Number(v) >>> 0, true);
    }
  }
}

/**
 * A u64 field (little-endian, as every attr): two u32 halves for non-negative safe integers (addresses,
 * sizes: no BigInt on the common path), BigInt.asUintN otherwise.
 */
export function setU64(view: DataView, o: number, v: number | bigint): void {
  if (typeof v === 'number' && v >= 0 && v <= Number.MAX_SAFE_INTEGER) {
    view.setUint32(o, v % 0x100000000, true);
    view.setUint32(o + 4, Math.floor(v / 0x100000000), true);
  } else {
    view.setBigUint64(o, BigInt.asUintN(64, BigInt(v)), true);
  }
}

/**
 * A char[N] field of `layout` written into a zeroed struct at `base` (for attr writers that set fields
 * one by one from the layout's offsets): at most N-1 bytes, so it stays NUL-terminated.
 */
export function setChars<F extends string>(bytes: Uint8Array, base: number, layout: Layout<F>, field: F, v: string | Uint8Array): void {
  const f = layout.fields[field];
  if (typeof f.type !== 'object') throw new TsbpfError(`layout ${layout.name}: ${field} is no char array`);
  writeChars(bytes, base + f.offset, f.type.char - 1, v);
}

const encoder = new TextEncoder();

/** At most `max` bytes of a string (UTF-8) or bytes at `at`; the char[N] was zeroed, so it stays NUL-terminated. */
function writeChars(out: Uint8Array, at: number, max: number, v: string | Uint8Array): void {
  if (typeof v !== 'string') {
    const n = Math.min(v.length, max);
    out.set(n === v.length ? v : v.subarray(0, n), at);
    return;
  }
  const n = Math.min(v.length, max);
  for (let i = 0; i < n; i++) {
    const c = v.charCodeAt(i);
    if (c > 0x7f) {
      // not ASCII: encode the whole string and cut it at `max` bytes, as before
      const enc = encoder.encode(v);
      const m = Math.min(enc.length, max);
      out.fill(0, at, at + n);
      out.set(enc.subarray(0, m), at);
      return;
    }
    out[at + i] = c;
  }
}

/** Read a struct into a plain object: numbers for u32/s32/u8, bigint for u64, string for char[N]. */
export function readStruct<F extends string>(view: DataView, base: number, layout: Layout<F>): Record<F, number | bigint | string> {
  const out = {} as Record<F, number | bigint | string>;
  for (const key of Object.keys(layout.fields) as F[]) {
    const f = layout.fields[key];
    const o = base + f.offset;
    if (o + f.size > view.byteLength) continue;
    if (typeof f.type === 'object') {
      out[key] = cText(new Uint8Array(view.buffer, view.byteOffset + o, f.type.char));
    } else if (f.type === 'u64') {
      out[key] = view.getBigUint64(o, true);
    } else if (f.type === 's32') {
      out[key] = view.getInt32(o, true);
    } else if (f.type === 'u8') {
      out[key] = view.getUint8(o);
    } else {
      out[key] = view.getUint32(o, true);
    }
  }
  return out;
}
