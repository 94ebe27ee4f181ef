// CodecTypeSource from `bpftool btf dump file X -j`: an independent reading of clang's BTF for the
// codec tests (the codec must agree with what bpftool sees in the object).
import { execFileSync } from 'node:child_process';
import type { CodecType, CodecTypeSource } from '../../lib/codec/index.js';

interface J { id: number; kind: string; name: string; size?: number; type_id?: number; nr_elems?: number; bits_offset?: number; nr_bits?: number; encoding?: string; members?: { name: string; type_id: number; bits_offset: number; bitfield_size?: number }[]; values?: { name: string; val: string }[]; vars?: { type_id: number; offset: number }[] }

export function bpftoolTypes(path: string): CodecTypeSource & { byName(kind: string, name: string): number } {
  // enumerator values can exceed 2^53: keep them as strings
  const text = execFileSync('bpftool', ['btf', 'dump', 'file', path, '-j'], { encoding: 'utf8' }).replace(/"val":\s*(-?\d+)/g, '"val":"$1"');
  const types = new Map<number, J>((JSON.parse(text).types as J[]).map((t) => [t.id, t]));
  const get = (id: number): CodecType => {
    if (id === 0) return { kind: 'void' };
    const t = types.get(id);
    if (!t) throw new Error(`no type ${id}`);
    const name = t.name === '(anon)' ? '' : t.name;
    switch (t.kind) {
      case 'INT': return { kind: 'int', name, size: t.size!, signed: t.encoding === 'SIGNED', char: t.encoding === 'CHAR', bool: t.encoding === 'BOOL', bitOffset: t.bits_offset!, bits: t.nr_bits! };
      case 'PTR': return { kind: 'ptr' };
      case 'ARRAY': return { kind: 'array', type: t.type_id!, count: t.nr_elems! };
      case 'STRUCT': case 'UNION': return { kind: t.kind === 'STRUCT' ? 'struct' : 'union', name, size: t.size!, members: t.members!.map((m) => ({ name: m.name === '(anon)' ? '' : m.name, type: m.type_id, bitOffset: m.bits_offset, bitSize: m.bitfield_size ?? 0 })) };
      case 'ENUM': case 'ENUM64': {
        const signed = t.encoding === 'SIGNED';
        const bits = t.size! * 8;
        return { kind: 'enum', name, size: t.size!, signed, values: t.values!.map((v) => {
          const b = signed ? BigInt.asIntN(bits, BigInt(v.val)) : BigInt.asUintN(bits, BigInt(v.val));
          return { name: v.name, value: bits === 64 ? b : Number(b) };
        }) };
      }
      case 'FLOAT': return { kind: 'float', name, size: t.size! };
      case 'DATASEC': // the struct of its variables (VAR entries; ksym FUNCs are not data)
        return { kind: 'struct', name, size: t.size!, members: t.vars!.flatMap((v) => {
          const vt = types.get(v.type_id)!;
          return vt.kind === 'VAR' ? [{ name: vt.name, type: vt.type_id!, bitOffset: v.offset * 8, bitSize: 0 }] : [];
        }) };
      case 'TYPEDEF': return { kind: 'alias', type: t.type_id!, name };
      case 'CONST': case 'VOLATILE': case 'RESTRICT': case 'TYPE_TAG': return { kind: 'alias', type: t.type_id! };
      default: return { kind: 'other', what: t.kind.toLowerCase() };
    }
  };
  return {
    get,
    byName(kind: string, name: string): number {
      for (const t of types.values()) if (t.kind === kind && t.name === name) return t.id;
      throw new Error(`no ${kind} ${name} in ${path}`);
    },
  };
}
