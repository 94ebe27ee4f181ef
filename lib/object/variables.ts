// Global variables by name: each global data section's BTF DATASEC lists its VARs with offsets, so
// `constants: { only_dport: 53 }` and obj.globals can find a variable's bytes inside its map value.
import { ELF as ELF_CONSTANTS, type ObjElf, type ObjSection } from './elf-view.js';
import type { Btf } from '../btf/btf.js';
import { ObjectError } from './errors.js';
import type { VariableSpec } from './spec.js';

// a local binding: module re-exports are getters under some loaders, and these are read per symbol
const ELF = ELF_CONSTANTS;

/** The variables of one global data section (none without BTF). */
export function sectionVariables(elf: ObjElf, btf: Btf | undefined, section: ObjSection, readOnly: boolean): VariableSpec[] {
  if (!btf) return [];
  const ds = btf.findDatasec(section.name);
  if (ds === undefined) return [];
  const symbols = new Map<string, number>();
  const elsewhere = new Set<string>();
  const syms = elf.symbols;
  for (let i = 0; i < syms.length; i++) {
    const s = syms[i];
    if (s.type !== ELF.STT_OBJECT || !s.name) continue;
    if (s.shndx === section.index) symbols.set(s.name, s.value);
    else elsewhere.add(s.name);
  }
  const out: VariableSpec[] = [];
  for (let i = 0; i < ds.vars.length; i++) {
    const vi = ds.vars[i];
    const v = btf.type(vi.type);
    if (v.kind !== 'var' || !v.name) continue;
    const typeId = v.type;
    // clang lists a constant it moved to a mergeable section (`static const char hex[] = "…"` in
    // .rodata.str1.1, a 32-byte table in .rodata.cst32) under .rodata all the same: the variable is
    // not in this section, and the kernel will refuse that BTF as libbpf's users see (it loads on
    // without BTF, as libbpf does)
    if (!symbols.has(v.name) && elsewhere.has(v.name)) continue;
    const offset = symbols.get(v.name) ?? vi.offset;
    if (offset + vi.size > section.size) {
      throw new ObjectError(`variable ${v.name}: bytes ${offset}…${offset + vi.size} lie outside its section ${section.name} (${section.size} bytes)`, { section: section.name, symbol: v.name });
    }
    const t = btf.type(btf.skipTypedefs(typeId));
    let int: VariableSpec['int'];
    let float: VariableSpec['float'];
    if ((t.kind === 'int' || t.kind === 'enum' || t.kind === 'enum64') && [1, 2, 4, 8].includes(t.size)) {
      int = t.kind === 'int' && t.bool ? { size: t.size, signed: false, bool: true } : { size: t.size, signed: t.signed };
    } else if (t.kind === 'ptr' && vi.size === 8) {
      int = { size: 8, signed: false };
    } else if (t.kind === 'float' && (t.size === 4 || t.size === 8)) {
      float = t.size;
    }
    out.push({ name: v.name, map: section.name, offset, size: vi.size, typeId, readOnly, int, float });
  }
  return out;
}

export type VariableValue = number | bigint | boolean | Uint8Array;

/**
 * The bytes of `value` for variable `v` in the object's byte order: integers and enums take a
 * number, bigint or boolean, _Bool true/false (or 0/1), float/double a number, anything else (structs,
 * arrays, unions) its bytes. A value of another kind is an ObjectError, never reinterpreted bits.
 */
export function encodeVariable(v: VariableSpec, value: VariableValue, littleEndian: boolean): Uint8Array {
  const where = { map: v.map, symbol: v.name };
  if (value instanceof Uint8Array) {
    if (value.length !== v.size) throw new ObjectError(`variable ${v.name}: ${value.length} bytes given, it has ${v.size}`, where);
    return value;
  }
  const shown = typeof value === 'string' ? JSON.stringify(value) : Array.isArray(value) ? 'an array' : String(value);
  if (v.float) {
    if (typeof value !== 'number') throw new ObjectError(`variable ${v.name} is a ${v.float === 4 ? 'float' : 'double'}: give a number, got ${shown}`, where);
    if (v.float === 4 && Number.isFinite(value) && !Number.isFinite(Math.fround(value))) {
      throw new ObjectError(`variable ${v.name}: ${value} is out of range for a float`, where);
    }
    const out = new Uint8Array(v.size);
    const view = new DataView(out.buffer);
    if (v.float === 4) view.setFloat32(0, value, littleEndian);
    else view.setFloat64(0, value, littleEndian);
    return out;
  }
  if (!v.int) throw new ObjectError(`variable ${v.name} is ${v.size} bytes and no number: give its value as a Uint8Array of ${v.size} bytes`, where);
  if (typeof value !== 'number' && typeof value !== 'bigint' && typeof value !== 'boolean') {
    throw new ObjectError(`variable ${v.name}: ${shown} is not an integer (give a number, bigint or boolean)`, where);
  }
  const size = v.int.size;
  if (typeof value === 'number' && !Number.isInteger(value)) throw new ObjectError(`variable ${v.name}: ${value} is not an integer`, where);
  const n = typeof value === 'boolean' ? (value ? 1n : 0n) : BigInt(value);
  if (v.int.bool && n !== 0n && n !== 1n) throw new ObjectError(`variable ${v.name} is a _Bool: give true or false (or 0/1), got ${shown}`, where);
  const bits = BigInt(size * 8);
  const min = v.int.signed ? -(1n << (bits - 1n)) : 0n;
  const max = v.int.signed ? (1n << (bits - 1n)) - 1n : (1n << bits) - 1n;
  // accept either reading of the bits (a u32 given as -1, an s8 given as 255) but nothing wider
  if (n < -(1n << (bits - 1n)) || n > (1n << bits) - 1n) {
    throw new ObjectError(`variable ${v.name}: ${n} does not fit in ${size} bytes (${min}…${max})`, where);
  }
  const out = new Uint8Array(v.size);
  const view = new DataView(out.buffer);
  const u = BigInt.asUintN(size * 8, n);
  if (size === 8) view.setBigUint64(0, u, littleEndian);
  else if (size === 4) view.setUint32(0, Number(u), littleEndian);
  else if (size === 2) view.setUint16(0, Number(u), littleEndian);
  else view.setUint8(0, Number(u));
  return out;
}

/** A variable's value from its bytes: number (≤ 4 bytes) / bigint (8) for integers, boolean for _Bool, number for float/double, else a copy. */
export function decodeVariable(v: VariableSpec, bytes: Uint8Array, littleEndian: boolean): number | bigint | boolean | Uint8Array {
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (v.float) return v.float === 4 ? view.getFloat32(0, littleEndian) : view.getFloat64(0, littleEndian);
  if (!v.int) return bytes.slice();
  if (v.int.bool) return view.getUint8(0) !== 0;
  const s = v.int.signed;
  switch (v.int.size) {
    case 1: return s ? view.getInt8(0) : view.getUint8(0);
    case 2: return s ? view.getInt16(0, littleEndian) : view.getUint16(0, littleEndian);
    case 4: return s ? view.getInt32(0, littleEndian) : view.getUint32(0, littleEndian);
    default: return s ? view.getBigInt64(0, littleEndian) : view.getBigUint64(0, littleEndian);
  }
}
