// Externs at the object stage (pure): which undefined symbols are .kconfig/.ksyms externs, the
// '.kconfig' map (read-only, frozen, laid out as libbpf lays it out), and the object's BTF rewritten
// as the kernel takes it (extern VARs allocated, .ksyms entries as 4-byte ints, kfunc FUNCs global
// behind a dummy VAR). Their values come at load time: lib/object/extern-binding.ts.
import type { BtfType } from '../btf/types.js';
import { BPF_MAP_FLAG, BPF_MAP_TYPE, mapTypeName } from '../syscall/types.js';
import { collectExterns, KCONFIG_SEC, KSYMS_SEC, type ExternLayout } from '../externs/collect.js';
import { internalMapName } from './maps.js';
import { ELF as ELF_CONSTANTS } from './elf-view.js';
import type { ObjectSource } from './source.js';
import type { ObjectSpec } from './read.js';
import type { MapSpec, PinningType } from './spec.js';

// a local binding: module re-exports are getters under some loaders, and these are read per symbol
const ELF = ELF_CONSTANTS;

const layouts = new WeakMap<ObjectSource, ExternLayout>();
/** The layout of an object without undefined global symbols (most objects): nothing to collect. */
const NONE: ExternLayout = Object.freeze({ externs: new Map(), kconfigSize: 0, problems: new Map() });

/** Whether any symbol is an undefined global or weak one (collectExterns' candidates). */
function hasUndefinedGlobals(src: ObjectSource): boolean {
  const symbols = src.elf.symbols;
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    if (s.shndx === ELF.SHN_UNDEF && s.type === ELF.STT_NOTYPE && (s.bind === ELF.STB_GLOBAL || s.bind === ELF.STB_WEAK) && s.name) return true;
  }
  return false;
}

/** The externs of an object (computed once per parsed object). */
export function objectExterns(src: ObjectSource): ExternLayout {
  let l = layouts.get(src);
  if (!l) {
    if (!hasUndefinedGlobals(src)) return NONE;
    l = collectExterns(src.elf, src.btf);
    layouts.set(src, l);
  }
  return l;
}

/** The '.kconfig' map of an object with .kconfig externs (zeros until load fills it). */
class KconfigMap implements MapSpec {
  name = KCONFIG_SEC;
  kernelName: string;
  type: number = BPF_MAP_TYPE.ARRAY;
  keySize = 4;
  valueSize: number;
  maxEntries = 1;
  // libbpf: read-only for programs, mmapable (extern VARs are not static), frozen after writing
  flags = BPF_MAP_FLAG.RDONLY_PROG | BPF_MAP_FLAG.MMAPABLE;
  numaNode = 0;
  mapExtra = 0n;
  pinning: PinningType = 'none';
  keyTypeId = 0;
  valueTypeId: number;
  readonly kind = 'data' as const;
  readonly section = KCONFIG_SEC;
  data: Uint8Array;
  readonly readOnly = true;

  constructor(objectName: string, size: number, datasecId: number) {
    this.kernelName = internalMapName(objectName, KCONFIG_SEC);
    this.valueSize = size;
    this.valueTypeId = datasecId;
    this.data = new Uint8Array(size);
  }

  get typeName(): string {
    return mapTypeName(this.type);
  }
}

/** The '.kconfig' map spec for `readObject`, or undefined when the object has no .kconfig externs. */
export function kconfigMapSpec(objectName: string, src: ObjectSource): MapSpec | undefined {
  const l = objectExterns(src);
  if (l.kconfigSize === 0) return undefined;
  const ds = src.btf?.findDatasec(KCONFIG_SEC);
  return new KconfigMap(objectName, l.kconfigSize, ds?.id ?? 0);
}

/** Whether `name` is an extern an instruction may refer to (for the spec's relocations). */
export function isExtern(src: ObjectSource, name: string): boolean {
  return objectExterns(src).externs.has(name);
}

/** Why an undefined symbol is no usable extern ('' when it is one, or unknown). */
export function externProblem(src: ObjectSource, name: string): string {
  const l = objectExterns(src);
  if (l.externs.has(name)) return '';
  return l.problems.get(name) ?? 'not a .kconfig or .ksyms extern';
}

/**
 * The object's BTF types as the kernel takes them when there are externs (libbpf's
 * collect_externs + btf_fixup_datasec): extern VARs allocated; .kconfig VARs at their map offsets;
 * .ksyms VARs as 4-byte ints and kfunc FUNCs global, represented in the DATASEC by a `dummy_ksym`
 * VAR appended at the end; DATASEC entries sorted by offset. `types[i]` has id i + 1.
 */
export function externBtfTypes(types: readonly BtfType[], src: ObjectSource): BtfType[] {
  const l = objectExterns(src);
  if (l.externs.size === 0 || !src.btf) return types as BtfType[];
  const out = types.slice();
  const at = (id: number) => out[id - 1];
  const set = (t: BtfType) => { out[t.id - 1] = t; };
  const intId = out.find((t) => t.kind === 'int' && t.bits === 32)?.id ?? 0;
  let dummyId = 0;
  for (const t of types) {
    if (t.kind !== 'datasec' || (t.name !== KCONFIG_SEC && t.name !== KSYMS_SEC)) continue;
    if (t.name === KCONFIG_SEC) {
      const vars = t.vars.map((vs) => {
        const v = at(vs.type);
        const e = l.externs.get(v.name);
        if (v.kind === 'var') set({ ...v, linkage: 1 });
        return { ...vs, offset: e?.kconfig?.offset ?? vs.offset };
      });
      set({ ...t, size: l.kconfigSize, vars: vars.sort((a, b) => a.offset - b.offset) });
      continue;
    }
    const vars = t.vars.map((vs, i) => {
      const v = at(vs.type);
      let type = vs.type;
      if (v.kind === 'func') {
        if (!dummyId) {
          dummyId = out.length + 1;
          out.push({ id: dummyId, kind: 'var', name: 'dummy_ksym', type: intId, linkage: 1 });
        }
        const proto = at(v.type);
        if (proto?.kind === 'func_proto' && proto.params.some((p) => p.type !== 0 && p.name === '')) {
          set({ ...proto, params: proto.params.map((p) => (p.type !== 0 && p.name === '' ? { ...p, name: 'dummy_ksym' } : p)) });
        }
        set({ ...v, linkage: 1 });
        type = dummyId;
      } else if (v.kind === 'var') {
        set({ ...v, linkage: 1, type: intId });
      }
      return { type, offset: 4 * i, size: 4 };
    });
    set({ ...t, size: 4 * vars.length, vars });
  }
  return out;
}

/** Whether the spec has externs to resolve at load. */
export function hasExterns(spec: ObjectSpec): boolean {
  return objectExterns(spec.source).externs.size > 0;
}
