// `bpftool btf dump file PATH format raw`, byte for byte (bpftool 7.1, src/btf.c dump_btf_type):
// one "[id] KIND 'name' …" line per type, members/values/params/vars on tab-indented lines.
import type { BtfType } from './types.js';

/** What the formatters need from a parsed BTF (the Btf class has it; tests hand-make it). */
export interface BtfFormatSource {
  /** the first id this BTF defines: 1, or the base's type count for split BTF */
  readonly firstId: number;
  /** one past the last id (base ids included for split BTF) */
  readonly typeCount: number;
  /** any id below typeCount, base ids included (0 is void) */
  type(id: number): BtfType;
}

/** bpftool's kind names (btf_kind_str); void is BTF_KIND_UNKN. */
export const KIND_STR: Readonly<Record<BtfType['kind'], string>> = {
  void: 'UNKNOWN', int: 'INT', ptr: 'PTR', array: 'ARRAY', struct: 'STRUCT', union: 'UNION', enum: 'ENUM',
  fwd: 'FWD', typedef: 'TYPEDEF', volatile: 'VOLATILE', const: 'CONST', restrict: 'RESTRICT', func: 'FUNC',
  func_proto: 'FUNC_PROTO', var: 'VAR', datasec: 'DATASEC', float: 'FLOAT', decl_tag: 'DECL_TAG',
  type_tag: 'TYPE_TAG', enum64: 'ENUM64',
};

/** bpftool prints a missing name (name_off 0) as (anon). */
export function anonName(name: string): string {
  return name === '' ? '(anon)' : name;
}

/** BTF_INT_ENCODING as bpftool words it; a combination of bits is UNKN there too. */
export function intEncoding(t: { signed: boolean; char: boolean; bool: boolean }): string {
  const enc = (t.signed ? 1 : 0) | (t.char ? 2 : 0) | (t.bool ? 4 : 0);
  switch (enc) {
    case 0: return '(none)';
    case 1: return 'SIGNED';
    case 2: return 'CHAR';
    case 4: return 'BOOL';
    default: return 'UNKN';
  }
}

/** BTF_FUNC_* and BTF_VAR_* share the words. */
export function linkageStr(linkage: number): string {
  switch (linkage) {
    case 0: return 'static';
    case 1: return 'global';
    case 2: return 'extern';
    default: return '(unknown)';
  }
}

/** An enum value as C prints it with %d (signed) or %u (unsigned) from the raw 32 bits. */
export function enum32Value(value: number, signed: boolean): number {
  return signed ? value | 0 : value >>> 0;
}

/** An enum64 value as %lld / %llu print the raw 64 bits. */
export function enum64Value(value: bigint, signed: boolean): bigint {
  return signed ? BigInt.asIntN(64, value) : BigInt.asUintN(64, value);
}

/** The text of one type, without the trailing newline. */
export function formatTypeRaw(btf: BtfFormatSource, t: BtfType): string {
  let s = `[${t.id}] ${KIND_STR[t.kind]} '${anonName(t.name)}'`;
  switch (t.kind) {
    case 'int':
      return `${s} size=${t.size} bits_offset=${t.bitOffset} nr_bits=${t.bits} encoding=${intEncoding(t)}`;
    case 'ptr': case 'const': case 'volatile': case 'restrict': case 'typedef': case 'type_tag':
      return `${s} type_id=${t.type}`;
    case 'array':
      return `${s} type_id=${t.type} index_type_id=${t.indexType} nr_elems=${t.nelems}`;
    case 'struct': case 'union': {
      s += ` size=${t.size} vlen=${t.members.length}`;
      for (const m of t.members) {
        s += `\n\t'${anonName(m.name)}' type_id=${m.type} bits_offset=${m.bitOffset}`;
        if (m.bitfieldSize) s += ` bitfield_size=${m.bitfieldSize}`;
      }
      return s;
    }
    case 'enum': {
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      for (const v of t.values) s += `\n\t'${anonName(v.name)}' val=${enum32Value(v.value, t.signed)}`;
      return s;
    }
    case 'enum64': {
      s += ` encoding=${t.signed ? 'SIGNED' : 'UNSIGNED'} size=${t.size} vlen=${t.values.length}`;
      const suffix = t.signed ? 'LL' : 'ULL';
      for (const v of t.values) s += `\n\t'${anonName(v.name)}' val=${enum64Value(v.value, t.signed)}${suffix}`;
      return s;
    }
    case 'fwd':
      return `${s} fwd_kind=${t.union ? 'union' : 'struct'}`;
    case 'func':
      return `${s} type_id=${t.type} linkage=${linkageStr(t.linkage)}`;
    case 'func_proto': {
      s += ` ret_type_id=${t.returnType} vlen=${t.params.length}`;
      for (const p of t.params) s += `\n\t'${anonName(p.name)}' type_id=${p.type}`;
      return s;
    }
    case 'var':
      // the comma is bpftool's
      return `${s} type_id=${t.type}, linkage=${linkageStr(t.linkage)}`;
    case 'datasec': {
      s += ` size=${t.size} vlen=${t.vars.length}`;
      for (const v of t.vars) {
        s += `\n\ttype_id=${v.type} offset=${v.offset} size=${v.size}`;
        // bpftool names the variable only when the id is in range
        if (v.type < btf.typeCount) {
          const vt = btf.type(v.type);
          s += ` (${KIND_STR[vt.kind]} '${anonName(vt.name)}')`;
        }
      }
      return s;
    }
    case 'float':
      return `${s} size=${t.size}`;
    case 'decl_tag':
      return `${s} type_id=${t.type} component_idx=${t.componentIdx}`;
    default:
      return s;
  }
}

/** The whole raw dump: the types this BTF defines (from firstId: a split BTF's own types only). */
export function formatBtfRaw(btf: BtfFormatSource): string {
  return joinChunked(btf, (t) => `${formatTypeRaw(btf, t)}\n`);
}

/**
 * The text of every own type, joined a chunk at a time: each type's short-lived pieces die young and
 * only flat chunk strings survive, so the collector never has to trace hundreds of thousands of
 * rope fragments (on vmlinux this halves the time).
 */
export function joinChunked(btf: BtfFormatSource, one: (t: BtfType) => string, sep = ''): string {
  const chunks: string[] = [];
  let part: string[] = [];
  for (let id = btf.firstId; id < btf.typeCount; id++) {
    part.push(one(btf.type(id)));
    if (part.length === 1024) {
      chunks.push(part.join(sep));
      part = [];
    }
  }
  if (part.length) chunks.push(part.join(sep));
  return chunks.join(sep);
}
