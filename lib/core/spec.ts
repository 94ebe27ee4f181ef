// Access specs: what a CO-RE relocation's access string ("0:1:2") means in a BTF. The first index
// is an array index on the root type; each next one a member (struct/union) or element (array).
// Anonymous members add their offset but no named accessor, as in libbpf's bpf_core_parse_spec.
import type { Btf } from '../btf/btf.js';
import type { BtfArray, BtfComposite, BtfType } from '../btf/types.js';
import { coreReloKindName, isEnumvalBased, isFieldBased, isTypeBased } from './kinds.js';

/** libbpf's BPF_CORE_SPEC_MAX_LEN: the deepest access string it takes */
export const SPEC_MAX_LEN = 64;

export interface Accessor {
  /** the struct/union/enum holding the member (mods and typedefs skipped), or the array element type */
  readonly typeId: number;
  /** member / element / enumerator index */
  readonly idx: number;
  /** member or enumerator name; undefined for an array index */
  readonly name?: string;
}

export interface AccessSpec {
  readonly btf: Btf;
  readonly rootTypeId: number;
  readonly kind: number;
  /** every index of the access string (target specs: indices in the target's types) */
  readonly raw: number[];
  /** named members and array indices (anonymous members are skipped) */
  readonly accessors: Accessor[];
  bitOffset: number;
}

/** Why a spec cannot be built: the relocation is malformed for its BTF (libbpf: -EINVAL). */
export class SpecError extends Error {}

/** Length of a name without its `___flavour` suffix (libbpf's bpf_core_essential_name_len). */
export function essentialNameLen(name: string): number {
  const n = name.length;
  for (let i = n - 5; i >= 0; i--) {
    if (name[i] !== '_' && name[i + 1] === '_' && name[i + 2] === '_' && name[i + 3] === '_' && name[i + 4] !== '_') return i + 1;
  }
  return n;
}

export function essentialName(name: string): string {
  return name.slice(0, essentialNameLen(name));
}

/** Same name once flavours are dropped (libbpf's strncmp over the essential length). */
export function sameEssentialName(a: string, b: string): boolean {
  const la = essentialNameLen(a);
  return la === essentialNameLen(b) && a.slice(0, la) === b.slice(0, la);
}

export function skipModsAndTypedefs(btf: Btf, id: number): { id: number; t: BtfType } {
  const s = btf.skipTypedefs(id);
  return { id: s, t: btf.type(s) };
}

export function isComposite(t: BtfType): t is BtfComposite {
  return t.kind === 'struct' || t.kind === 'union';
}

export function isAnyEnum(t: BtfType): boolean {
  return t.kind === 'enum' || t.kind === 'enum64';
}

/** A flexible array member: the last named member of its struct and declared with 0 elements. */
export function isFlexArray(btf: Btf, prev: Accessor | undefined, arr: BtfArray): boolean {
  if (!prev?.name || arr.nelems > 0) return false;
  const t = btf.type(prev.typeId);
  return isComposite(t) && prev.idx === t.members.length - 1;
}

function resolveSize(btf: Btf, id: number): number {
  try {
    return btf.resolveSize(id);
  } catch (e) {
    throw new SpecError(`type [${id}] has no size: ${(e as Error).message}`);
  }
}

/** Parse the access string of a relocation of `kind` on local type `typeId` (bpf_core_parse_spec). */
export function parseAccessSpec(btf: Btf, typeId: number, accessStr: string, kind: number): AccessSpec {
  const spec: AccessSpec = { btf, rootTypeId: typeId, kind, raw: [], accessors: [], bitOffset: 0 };
  if (!/^\d+(:\d+)*$/.test(accessStr)) throw new SpecError(`access string "${accessStr}" is not a list of indices`);
  const raw = accessStr.split(':').map(Number);
  if (raw.length > SPEC_MAX_LEN) throw new SpecError(`access string "${accessStr}" is deeper than ${SPEC_MAX_LEN}`);
  spec.raw.push(...raw);
  if (isTypeBased(kind)) {
    if (accessStr !== '0') throw new SpecError(`type relocation with access string "${accessStr}" (must be "0")`);
    return spec;
  }
  let { id, t } = skipModsAndTypedefs(btf, typeId);
  const first = raw[0];
  spec.accessors.push({ typeId: id, idx: first });
  if (isEnumvalBased(kind)) {
    if (t.kind !== 'enum' && t.kind !== 'enum64') throw new SpecError(`enum value relocation on ${t.kind} [${id}]`);
    if (raw.length !== 1 || first >= t.values.length) throw new SpecError(`enumerator index "${accessStr}" outside enum [${id}] of ${t.values.length}`);
    spec.accessors[0] = { typeId: id, idx: first, name: t.values[first].name };
    return spec;
  }
  if (!isFieldBased(kind)) throw new SpecError(`unknown relocation kind ${kind}`);
  spec.bitOffset = first * resolveSize(btf, id) * 8;
  for (let i = 1; i < raw.length; i++) {
    ({ id, t } = skipModsAndTypedefs(btf, id));
    const idx = raw[i];
    if (isComposite(t)) {
      if (idx >= t.members.length) throw new SpecError(`member index ${idx} outside ${t.kind} [${id}] of ${t.members.length} members`);
      const m = t.members[idx];
      spec.bitOffset += m.bitOffset;
      if (m.name) spec.accessors.push({ typeId: id, idx, name: m.name });
      id = m.type;
    } else if (t.kind === 'array') {
      const elem = skipModsAndTypedefs(btf, t.type);
      const flex = isFlexArray(btf, spec.accessors[spec.accessors.length - 1], t);
      if (!flex && idx >= t.nelems) throw new SpecError(`array index ${idx} outside [${id}] of ${t.nelems} elements`);
      id = elem.id;
      spec.accessors.push({ typeId: id, idx });
      spec.bitOffset += idx * resolveSize(btf, id) * 8;
    } else {
      throw new SpecError(`access index ${i} ("${accessStr}") reaches ${t.kind} [${id}], which has no members or elements`);
    }
  }
  return spec;
}

/** A type as C names it: 'struct task_struct', 'int', 'typedef u32'. */
export function typeLabel(btf: Btf, id: number): string {
  const t = btf.type(id);
  const name = t.name || '<anon>';
  return t.kind === 'int' || t.kind === 'float' || t.kind === 'void' ? name : `${t.kind} ${name}`;
}

/** The spec as libbpf prints it: `<byte_off> [12] struct s.a.b[2] (0:1:0:2 @ offset 12)`. */
export function formatSpec(spec: AccessSpec): string {
  const head = `<${coreReloKindName(spec.kind)}> [${spec.rootTypeId}] ${typeLabel(spec.btf, spec.rootTypeId)}`;
  if (isTypeBased(spec.kind)) return head;
  if (isEnumvalBased(spec.kind)) {
    const a = spec.accessors[0];
    const t = spec.btf.type(a.typeId);
    const v = t.kind === 'enum' || t.kind === 'enum64' ? t.values[a.idx]?.value : undefined;
    return `${head}::${a.name} = ${String(v)}`;
  }
  let path = '';
  spec.accessors.forEach((a, i) => {
    if (a.name) path += `.${a.name}`;
    else if (i > 0 || a.idx > 0) path += `[${a.idx}]`;
  });
  const off = spec.bitOffset % 8 ? `${Math.floor(spec.bitOffset / 8)}.${spec.bitOffset % 8}` : `${spec.bitOffset / 8}`;
  return `${head}${path} (${spec.raw.join(':')} @ offset ${off})`;
}
