// Map keys and values as bpftool's btf_dumper prints them (bpftool 7.1, `map dump`/`lookup`):
// structs as objects, char arrays holding a C string as strings, enums by name, bitfields and ints
// of odd widths as hex, pointers as %p (plain) or decimal (JSON). Little-endian hosts (the bytes
// come from this kernel). One deliberate difference: floats print as numbers, where bpftool 7.1
// prints "(unsupported-kind" and stops the value.
import type { Btf } from '../btf/btf.js';
import type { JsonWriter } from './json-writer.js';

const MODS = new Set(['typedef', 'const', 'volatile', 'restrict', 'type_tag', 'var']);

export interface DumpContext {
  btf: Btf;
  w: JsonWriter;
  /** plain-text output (bpftool's is_plain_text): hex and pointers unquoted */
  plain: boolean;
}

/** Write the value of type `id` found at `bytes[off…]` (btf_dumper_type). */
export function dumpType(d: DumpContext, id: number, bytes: Uint8Array, off = 0): void {
  dumpAt(d, id, 0, bytes, off);
}

function dumpAt(d: DumpContext, id: number, bitOffset: number, bytes: Uint8Array, off: number): void {
  const t = d.btf.type(id);
  switch (t.kind) {
    case 'int': return dumpInt(d, t.bits, t.bitOffset, t.signed, t.char, t.bool, bitOffset, bytes, off);
    case 'struct': case 'union': {
      d.w.startObject();
      for (const m of t.members) {
        d.w.name(m.name);
        const at = off + (m.bitOffset >> 3);
        if (m.bitfieldSize) bitfield(d, m.bitfieldSize, m.bitOffset & 7, bytes, at);
        else dumpAt(d, m.type, m.bitOffset & 7, bytes, at);
      }
      d.w.endObject();
      return;
    }
    case 'array': {
      if (isString(d.btf, t.type, t.nelems, bytes, off)) {
        const end = bytes.indexOf(0, off);
        d.w.string(String.fromCharCode(...bytes.subarray(off, end)));
        return;
      }
      const size = d.btf.resolveSize(t.type);
      d.w.startArray();
      for (let i = 0; i < t.nelems; i++) dumpAt(d, t.type, 0, bytes, off + i * size);
      d.w.endArray();
      return;
    }
    case 'enum': {
      const v = signedAt(bytes, off, t.size);
      const hit = t.values.find((e) => BigInt(e.value | 0) === v);
      if (hit) d.w.string(hit.name);
      else d.w.number(v);
      return;
    }
    case 'enum64': {
      const v = view(bytes).getBigUint64(off, true);
      const hit = t.values.find((e) => BigInt.asUintN(64, e.value) === v);
      if (hit) d.w.string(hit.name);
      else d.w.number(BigInt.asIntN(64, v));
      return;
    }
    case 'ptr': {
      const v = view(bytes).getBigUint64(off, true);
      d.w.raw(d.plain ? (v === 0n ? '(nil)' : `0x${v.toString(16)}`) : v.toString());
      return;
    }
    case 'float': {
      const dv = view(bytes);
      const f = t.size === 4 ? dv.getFloat32(off, true) : t.size === 8 ? dv.getFloat64(off, true) : NaN;
      // C's spelling of the non-finite ones; JSON has no literal for them, so there they are strings
      const text = Number.isNaN(f) ? 'nan' : f === Infinity ? 'inf' : f === -Infinity ? '-inf' : String(f);
      d.w.raw(d.plain || Number.isFinite(f) ? text : `"${text}"`);
      return;
    }
    case 'void': d.w.raw('(unknown)'); return;
    case 'fwd': d.w.raw('(fwd-kind-invalid)'); return;
    case 'datasec': {
      d.w.startObject().name(t.name).startArray();
      for (const v of t.vars) dumpAt(d, v.type, 0, bytes, off + v.offset);
      d.w.endArray().endObject();
      return;
    }
    default:
      if (t.kind === 'var') {
        d.w.startObject().name(t.name);
        dumpAt(d, t.type, bitOffset, bytes, off);
        d.w.endObject();
        return;
      }
      if (MODS.has(t.kind)) return dumpAt(d, resolve(d.btf, id), bitOffset, bytes, off);
      d.w.raw('(unsupported-kind');
  }
}

/** btf__resolve_type: through typedefs, qualifiers and vars. */
function resolve(btf: Btf, id: number): number {
  for (let depth = 0; depth < 32; depth++) {
    const t = btf.type(id);
    if (!MODS.has(t.kind) || !('type' in t)) return id;
    id = t.type;
  }
  return id;
}

function view(b: Uint8Array): DataView {
  return new DataView(b.buffer, b.byteOffset, b.byteLength);
}

function signedAt(b: Uint8Array, off: number, size: number): bigint {
  const v = view(b);
  switch (size) {
    case 8: return v.getBigInt64(off, true);
    case 4: return BigInt(v.getInt32(off, true));
    case 2: return BigInt(v.getInt16(off, true));
    default: return BigInt(v.getInt8(off));
  }
}

function unsignedAt(b: Uint8Array, off: number, bytes: number): bigint {
  let v = 0n;
  for (let i = bytes - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[off + i] ?? 0);
  return v;
}

/** bpftool's is_str_array: char elements (not through typedefs), printable up to a NUL inside the array. */
function isString(btf: Btf, elem: number, n: number, b: Uint8Array, off: number): boolean {
  if (!n) return false;
  let t = btf.type(elem);
  while (t.kind === 'const' || t.kind === 'volatile' || t.kind === 'restrict' || t.kind === 'type_tag') t = btf.type(t.type);
  if (t.kind !== 'int' || t.size !== 1 || (!t.char && t.name !== 'char')) return false;
  for (let i = 0; i < n; i++) {
    const c = b[off + i];
    if (c === 0) return true;
    if (c <= 0x1f || c >= 0x7f) return false;
  }
  return false;
}

function dumpInt(d: DumpContext, bits: number, intOffset: number, signed: boolean, char: boolean, bool: boolean, bitOffset: number, b: Uint8Array, off: number): void {
  if (bitOffset || intOffset || bits & 7) return intBits(d, bits, intOffset, bitOffset, b, off);
  if (bits === 128) return hex(d, unsignedAt(b, off, 16));
  const v = view(b);
  if (char) {
    const c = b[off];
    if (c >= 0x20 && c < 0x7f) d.w.raw(`"${String.fromCharCode(c)}"`);
    else d.w.raw(d.plain ? `0x${c.toString(16)}` : `"\\u00${c.toString(16).padStart(2, '0')}"`);
    return;
  }
  if (bool) return void d.w.bool(b[off] !== 0);
  switch (bits) {
    case 64: d.w.number(signed ? v.getBigInt64(off, true) : v.getBigUint64(off, true)); return;
    case 32: d.w.number(signed ? v.getInt32(off, true) : v.getUint32(off, true)); return;
    case 16: d.w.number(signed ? v.getInt16(off, true) : v.getUint16(off, true)); return;
    case 8: d.w.number(signed ? v.getInt8(off) : v.getUint8(off)); return;
    default: intBits(d, bits, intOffset, bitOffset, b, off);
  }
}

function intBits(d: DumpContext, bits: number, intOffset: number, bitOffset: number, b: Uint8Array, off: number): void {
  const total = bitOffset + intOffset;
  bitfield(d, bits, total & 7, b, off + (total >> 3));
}

/** A bitfield of `bits` starting `bitOffset` (< 8) bits into b[off]: always hex, as bpftool. */
function bitfield(d: DumpContext, bits: number, bitOffset: number, b: Uint8Array, off: number): void {
  const bytes = (bitOffset + bits + 7) >> 3;
  const raw = unsignedAt(b, off, bytes);
  hex(d, (raw >> BigInt(bitOffset)) & ((1n << BigInt(bits)) - 1n));
}

function hex(d: DumpContext, v: bigint): void {
  const h = `0x${v.toString(16)}`;
  d.w.raw(d.plain ? h : `"${h}"`);
}
