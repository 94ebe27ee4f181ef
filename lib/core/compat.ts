// libbpf's CO-RE compatibility rules (relo_core.c): when a target field can stand for a local one
// (bpf_core_fields_are_compat), when a target type is a candidate for a local type
// (bpf_core_types_are_compat) and the stricter TYPE_MATCHES rule (bpf_core_types_match).
// Results are 1 (yes), 0 (no); a malformed or too deep chain throws SpecError (libbpf: -EINVAL).
import type { Btf } from '../btf/btf.js';
import type { BtfType } from '../btf/types.js';
import { isAnyEnum, isComposite, sameEssentialName, skipModsAndTypedefs, SpecError } from './spec.js';

/** libbpf's recursion limit for these walks */
const MAX_DEPTH = 32;

/** Same kind, or both enums of either width (btf_kind_core_compat). */
export function kindsCoreCompat(a: BtfType, b: BtfType): boolean {
  return a.kind === b.kind || (isAnyEnum(a) && isAnyEnum(b));
}

function tooDeep(): never {
  throw new SpecError('type chain deeper than 32 levels');
}

/** One of the names empty, or the same once flavours are dropped. */
function namesCompat(a: string, b: string): boolean {
  return a === '' || b === '' || sameEssentialName(a, b);
}

/** Can a target member of type `targId` be accessed as local member type `localId`? */
export function fieldsAreCompat(local: Btf, localId: number, targ: Btf, targId: number): boolean {
  for (let depth = MAX_DEPTH; ; ) {
    if (--depth < 0) tooDeep();
    const l = skipModsAndTypedefs(local, localId);
    const t = skipModsAndTypedefs(targ, targId);
    if (isComposite(l.t) && isComposite(t.t)) return true;
    if (!kindsCoreCompat(l.t, t.t)) return false;
    switch (l.t.kind) {
      case 'ptr': case 'float':
        return true;
      case 'fwd': case 'enum': case 'enum64':
        return namesCompat(l.t.name, t.t.name);
      case 'int':
        // only the deprecated bitfield-like integers are refused
        return l.t.bitOffset === 0 && (t.t as typeof l.t).bitOffset === 0;
      case 'array':
        localId = l.t.type;
        targId = (t.t as typeof l.t).type;
        continue;
      default:
        return false;
    }
  }
}

/** Is target type `targId` (already name-matched) compatible with local `localId`? */
export function typesAreCompat(local: Btf, localId: number, targ: Btf, targId: number, level = MAX_DEPTH): boolean {
  if (!kindsCoreCompat(local.type(localId), targ.type(targId))) return false;
  for (let depth = MAX_DEPTH; ; ) {
    if (--depth < 0) tooDeep();
    const l = skipModsAndTypedefs(local, localId);
    const t = skipModsAndTypedefs(targ, targId);
    if (!kindsCoreCompat(l.t, t.t)) return false;
    switch (l.t.kind) {
      case 'void': case 'struct': case 'union': case 'enum': case 'enum64': case 'fwd':
        return true;
      case 'int':
        return l.t.bitOffset === 0 && (t.t as typeof l.t).bitOffset === 0;
      case 'ptr':
        localId = l.t.type;
        targId = (t.t as typeof l.t).type;
        continue;
      case 'array':
        localId = l.t.type;
        targId = (t.t as typeof l.t).type;
        continue;
      case 'func_proto': {
        const tp = t.t as typeof l.t;
        if (l.t.params.length !== tp.params.length) return false;
        for (let i = 0; i < l.t.params.length; i++) {
          if (level <= 0) tooDeep();
          const lp = local.skipTypedefs(l.t.params[i].type);
          const tpp = targ.skipTypedefs(tp.params[i].type);
          if (!typesAreCompat(local, lp, targ, tpp, level - 1)) return false;
        }
        localId = local.skipTypedefs(l.t.returnType);
        targId = targ.skipTypedefs(tp.returnType);
        continue;
      }
      default:
        return false;
    }
  }
}

/** Names equal once flavours are dropped; an empty target name matches only an empty local one. */
function namesMatch(local: string, targ: string): boolean {
  if (targ === '') return local === '';
  return sameEssentialName(local, targ);
}

/** TYPE_MATCHES: the target has every local member/enumerator by name with matching types (bpf_core_types_match). */
export function typesMatch(local: Btf, localId: number, targ: Btf, targId: number, behindPtr = false, level = MAX_DEPTH): boolean {
  if (level <= 0) tooDeep();
  for (let depth = MAX_DEPTH; ; ) {
    if (--depth < 0) tooDeep();
    const l = skipModsAndTypedefs(local, localId);
    const t = skipModsAndTypedefs(targ, targId);
    if (!namesMatch(l.t.name, t.t.name)) return false;
    const lt = l.t;
    const tt = t.t;
    switch (lt.kind) {
      case 'void':
        return tt.kind === 'void';
      case 'fwd':
        if (behindPtr) {
          if (tt.kind === 'fwd') return lt.union === tt.union;
          return (tt.kind === 'struct' && !lt.union) || (tt.kind === 'union' && lt.union);
        }
        return tt.kind === 'fwd' && lt.union === tt.union;
      case 'enum': case 'enum64': {
        if (tt.kind !== 'enum' && tt.kind !== 'enum64') return false;
        if (lt.size !== tt.size || lt.values.length > tt.values.length) return false;
        return lt.values.every((lv) => tt.values.some((tv) => namesMatch(lv.name, tv.name)));
      }
      case 'struct': case 'union':
        if (behindPtr) {
          if (tt.kind === lt.kind) return true;
          return tt.kind === 'fwd' && (lt.kind === 'union') === tt.union;
        }
        if (tt.kind !== lt.kind) return false;
        if (lt.members.length > tt.members.length) return false;
        for (const lm of lt.members) {
          const ok = tt.members.some((tm) => namesMatch(lm.name, tm.name) && typesMatch(local, lm.type, targ, tm.type, behindPtr, level - 1));
          if (!ok) return false;
        }
        return true;
      case 'int':
        return tt.kind === 'int' && lt.size === tt.size && lt.signed === tt.signed;
      case 'ptr':
        if (tt.kind !== 'ptr') return false;
        behindPtr = true;
        localId = lt.type;
        targId = tt.type;
        continue;
      case 'array':
        if (tt.kind !== 'array' || lt.nelems !== tt.nelems) return false;
        localId = lt.type;
        targId = tt.type;
        continue;
      case 'func_proto': {
        if (tt.kind !== 'func_proto' || lt.params.length !== tt.params.length) return false;
        for (let i = 0; i < lt.params.length; i++) {
          if (!typesMatch(local, lt.params[i].type, targ, tt.params[i].type, behindPtr, level - 1)) return false;
        }
        localId = lt.returnType;
        targId = tt.returnType;
        continue;
      }
      default:
        return false;
    }
  }
}
