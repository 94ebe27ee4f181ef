// Candidate target types for a local type: every type of a core-compatible kind (enums of either
// width) whose name equals the local one once `___flavour` suffixes are dropped on both sides, in
// id order. vmlinux is searched first; module BTF only when vmlinux has none (libbpf's order).
import type { Btf } from '../btf/btf.js';
import type { BtfKindName } from '../btf/types.js';
import { essentialName, essentialNameLen } from './spec.js';

export interface Candidate {
  readonly btf: Btf;
  readonly id: number;
}

/** Where candidates come from: the kernel (or a given BTF) and, lazily, module BTFs. */
export interface CoreTarget {
  readonly vmlinux: Btf;
  /** module BTFs (split on vmlinux), loaded on first need; none for a caller-given BTF */
  modules?(): readonly Btf[];
}

/** Per target BTF: ids of types whose own name carries a flavour, by essential name (built once). */
const flavoured = new WeakMap<Btf, Map<string, number[]>>();

function flavouredIndex(btf: Btf): Map<string, number[]> {
  let idx = flavoured.get(btf);
  if (idx) return idx;
  idx = new Map();
  for (let id = btf.firstId; id < btf.typeCount; id++) {
    const name = btf.nameOf(id);
    if (name.length < 5 || !name.includes('___')) continue;
    const n = essentialNameLen(name);
    if (n === name.length) continue;
    const key = name.slice(0, n);
    const list = idx.get(key);
    if (list) list.push(id);
    else idx.set(key, [id]);
  }
  flavoured.set(btf, idx);
  return idx;
}

/** Candidates for a local type of `kind` named `name` in one BTF (its own types only for split BTF). */
export function findCandidatesIn(btf: Btf, name: string, kind: BtfKindName): Candidate[] {
  const ess = essentialName(name);
  const kinds: BtfKindName[] = kind === 'enum' || kind === 'enum64' ? ['enum', 'enum64'] : [kind];
  const ids = new Set<number>();
  for (const k of kinds) for (const id of btf.idsByName(ess, k)) if (id >= btf.firstId) ids.add(id);
  for (const id of flavouredIndex(btf).get(ess) ?? []) if (kinds.includes(btf.kindOf(id))) ids.add(id);
  return [...ids].sort((a, b) => a - b).map((id) => ({ btf, id }));
}

/** Candidates in vmlinux, else in the modules. */
export function findCandidates(target: CoreTarget, name: string, kind: BtfKindName): Candidate[] {
  const found = findCandidatesIn(target.vmlinux, name, kind);
  if (found.length > 0 || !target.modules) return found;
  const out: Candidate[] = [];
  for (const m of target.modules()) out.push(...findCandidatesIn(m, name, kind));
  return out;
}
