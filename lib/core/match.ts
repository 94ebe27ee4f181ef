// Matching a local access spec against one target candidate (libbpf's bpf_core_spec_match and
// bpf_core_match_member): member names are matched exactly, anonymous members searched through,
// array indices checked against the target's bounds; the target spec's bit offset accumulates.
import type { Btf } from '../btf/btf.js';
import { fieldsAreCompat, typesAreCompat, typesMatch } from './compat.js';
import { CORE_RELO, isEnumvalBased, isFieldBased, isTypeBased } from './kinds.js';
import {
  isComposite, isFlexArray, sameEssentialName, skipModsAndTypedefs, SPEC_MAX_LEN, SpecError,
  type Accessor, type AccessSpec,
} from './spec.js';

/** The target spec when `targId` in `targ` satisfies `local`, else undefined. */
export function specMatch(local: AccessSpec, targ: Btf, targId: number): AccessSpec | undefined {
  const spec: AccessSpec = { btf: targ, rootTypeId: targId, kind: local.kind, raw: [], accessors: [], bitOffset: 0 };
  if (isTypeBased(local.kind)) {
    const ok = local.kind === CORE_RELO.TYPE_MATCHES
      ? typesMatch(local.btf, local.rootTypeId, targ, targId)
      : typesAreCompat(local.btf, local.rootTypeId, targ, targId);
    return ok ? spec : undefined;
  }
  if (isEnumvalBased(local.kind)) {
    const { id, t } = skipModsAndTypedefs(targ, targId);
    if (t.kind !== 'enum' && t.kind !== 'enum64') return undefined;
    const want = local.accessors[0].name!;
    const i = t.values.findIndex((v) => sameEssentialName(want, v.name));
    if (i < 0) return undefined;
    spec.accessors.push({ typeId: id, idx: i, name: t.values[i].name });
    spec.raw.push(i);
    return spec;
  }
  if (!isFieldBased(local.kind)) throw new SpecError(`unknown relocation kind ${local.kind}`);
  let id = targId;
  for (let i = 0; i < local.accessors.length; i++) {
    const la = local.accessors[i];
    const cur = skipModsAndTypedefs(targ, id);
    id = cur.id;
    if (la.name !== undefined) {
      const next = matchMember(local.btf, la, targ, id, spec);
      if (next === undefined) return undefined;
      id = next;
      continue;
    }
    // an array index; the first one indexes the root type itself
    if (i > 0) {
      if (cur.t.kind !== 'array') return undefined;
      const flex = isFlexArray(targ, spec.accessors[spec.accessors.length - 1], cur.t);
      if (!flex && la.idx >= cur.t.nelems) return undefined;
      id = skipModsAndTypedefs(targ, cur.t.type).id;
    }
    if (spec.raw.length === SPEC_MAX_LEN) throw new SpecError(`target access deeper than ${SPEC_MAX_LEN}`);
    spec.accessors.push({ typeId: id, idx: la.idx });
    spec.raw.push(la.idx);
    let size: number;
    try {
      size = targ.resolveSize(id);
    } catch (e) {
      throw new SpecError(`target type [${id}] has no size: ${(e as Error).message}`);
    }
    spec.bitOffset += la.idx * size * 8;
  }
  return spec;
}

/**
 * Find local member `la` in target composite `targId` (searching anonymous members), push its
 * accessor onto `spec` and return the member's type id; undefined when absent or incompatible.
 */
function matchMember(local: Btf, la: Accessor, targ: Btf, targId: number, spec: AccessSpec): number | undefined {
  const { id, t } = skipModsAndTypedefs(targ, targId);
  if (!isComposite(t)) return undefined;
  const lt = local.type(la.typeId);
  if (!isComposite(lt)) throw new SpecError(`local accessor type [${la.typeId}] is no struct or union`);
  const lm = lt.members[la.idx];
  for (let i = 0; i < t.members.length; i++) {
    const m = t.members[i];
    if (spec.raw.length === SPEC_MAX_LEN) throw new SpecError(`target access deeper than ${SPEC_MAX_LEN}`);
    // speculate this member is the one
    spec.bitOffset += m.bitOffset;
    spec.raw.push(i);
    if (m.name === '') {
      const found = matchMember(local, la, targ, m.type, spec);
      if (found !== undefined) return found;
    } else if (m.name === lm.name) {
      spec.accessors.push({ typeId: id, idx: i, name: m.name });
      if (fieldsAreCompat(local, lm.type, targ, m.type)) return m.type;
      spec.accessors.pop();
      // libbpf stops at the first member of that name, compatible or not
      spec.bitOffset -= m.bitOffset;
      spec.raw.pop();
      return undefined;
    }
    spec.bitOffset -= m.bitOffset;
    spec.raw.pop();
  }
  return undefined;
}
