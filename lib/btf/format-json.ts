// `bpftool -j btf dump file PATH`: {"types":[{id, kind, name, …}]}, the same keys in the same order
// and the same value types as bpftool 7.1's json writer (numbers stay exact: enum64 values are
// written as their decimal digits, not through a double).
import type { BtfType } from './types.js';
import {
  type BtfFormatSource, KIND_STR, joinChunked, anonName, intEncoding, linkageStr, enum32Value, enum64Value,
} from './format-raw.js';

const str = JSON.stringify;

/** One type as a JSON object text. */
export function formatTypeJson(t: BtfType): string {
  let s = `{"id":${t.id},"kind":"${KIND_STR[t.kind]}","name":${str(anonName(t.name))}`;
  switch (t.kind) {
    case 'int':
      s += `,"size":${t.size},"bits_offset":${t.bitOffset},"nr_bits":${t.bits},"encoding":"${intEncoding(t)}"`;
      break;
    case 'ptr': case 'const': case 'volatile': case 'restrict': case 'typedef': case 'type_tag':
      s += `,"type_id":${t.type}`;
      break;
    case 'array':
      s += `,"type_id":${t.type},"index_type_id":${t.indexType},"nr_elems":${t.nelems}`;
      break;
    case 'struct': case 'union': {
      const ms: string[] = [];
      for (const m of t.members) {
        ms.push(`{"name":${str(anonName(m.name))},"type_id":${m.type},"bits_offset":${m.bitOffset}${
          m.bitfieldSize ? `,"bitfield_size":${m.bitfieldSize}` : ''}}`);
      }
      s += `,"size":${t.size},"vlen":${t.members.length},"members":[${ms.join(',')}]`;
      break;
    }
    case 'enum': case 'enum64': {
      const vs: string[] = [];
      for (const v of t.values) {
        // bpftool widens btf_enum's __s32 val to u64 for an unsigned enum: 0xf0000000 prints as 2^64 - 2^28
        const val = t.kind === 'enum'
          ? (t.signed ? enum32Value(v.value as number, true) : BigInt.asUintN(64, BigInt((v.value as number) | 0)))
          : enum64Value(v.value as bigint, t.signed);
        vs.push(`{"name":${str(anonName(v.name))},"val":${val}}`);
      }
      s += `,"encoding":"${t.signed ? 'SIGNED' : 'UNSIGNED'}","size":${t.size},"vlen":${t.values.length},"values":[${vs.join(',')}]`;
      break;
    }
    case 'fwd':
      s += `,"fwd_kind":"${t.union ? 'union' : 'struct'}"`;
      break;
    case 'func': case 'var':
      s += `,"type_id":${t.type},"linkage":"${linkageStr(t.linkage)}"`;
      break;
    case 'func_proto': {
      const ps = t.params.map((p) => `{"name":${str(anonName(p.name))},"type_id":${p.type}}`);
      s += `,"ret_type_id":${t.returnType},"vlen":${t.params.length},"params":[${ps.join(',')}]`;
      break;
    }
    case 'datasec': {
      const vs = t.vars.map((v) => `{"type_id":${v.type},"offset":${v.offset},"size":${v.size}}`);
      s += `,"size":${t.size},"vlen":${t.vars.length},"vars":[${vs.join(',')}]`;
      break;
    }
    case 'float':
      s += `,"size":${t.size}`;
      break;
    case 'decl_tag':
      s += `,"type_id":${t.type},"component_idx":${t.componentIdx}`;
      break;
    default:
      break;
  }
  return `${s}}`;
}

/** The JSON dump (with a trailing newline, as bpftool ends it): a split BTF's own types only. */
export function formatBtfJson(btf: BtfFormatSource): string {
  return `{"types":[${joinChunked(btf, formatTypeJson, ',')}]}\n`;
}
