// The externs of an object (libbpf's bpf_object__collect_externs): undefined global or weak ELF
// symbols whose BTF VAR/FUNC sits in the .kconfig or .ksyms DATASEC. .kconfig externs get offsets
// in the .kconfig map in libbpf's order (by alignment descending, size ascending, then name), so
// the map and the instructions come out as libbpf makes them. Pure.
import type { Btf } from '../btf/btf.js';
import type { BtfType } from '../btf/types.js';
import { essentialName } from '../core/spec.js';
import { MAX_ARRAY_VALUE_SIZE } from '../object/limits.js';

export const KCONFIG_SEC = '.kconfig';
export const KSYMS_SEC = '.ksyms';

/** How a .kconfig value is stored (libbpf's enum kcfg_type). */
export type KconfigType = 'bool' | 'tristate' | 'char' | 'int' | 'char_array';

export interface ExternSpec {
  readonly name: string;
  /** the name without a ___flavour suffix (kfuncs are looked up by it) */
  readonly essentialName: string;
  /** STB_WEAK: left zero when the kernel has no value for it */
  readonly weak: boolean;
  readonly section: typeof KCONFIG_SEC | typeof KSYMS_SEC;
  /** the VAR or FUNC in the object's BTF */
  readonly btfId: number;
  /** a kfunc (FUNC) rather than a variable */
  readonly func: boolean;
  /**
   * ksyms: the variable's type with modifiers and typedefs skipped (0: untyped, `const void`, resolved
   * through kallsyms), or the kfunc's FUNC_PROTO
   */
  readonly typeId: number;
  /** .kconfig externs: how the value is stored and where in the .kconfig map */
  readonly kconfig?: { readonly type: KconfigType; readonly size: number; readonly align: number; readonly signed: boolean; readonly offset: number };
}

export interface ExternLayout {
  /** by name, in libbpf's order (kconfig first) */
  readonly externs: ReadonlyMap<string, ExternSpec>;
  /** bytes of the .kconfig map's value (0: no .kconfig externs) */
  readonly kconfigSize: number;
  /** externs that cannot be used, by symbol name, and why (reported when an instruction uses them) */
  readonly problems: ReadonlyMap<string, string>;
}

/** Minimal ELF view: the symbols. */
export interface ExternElf {
  readonly symbols: readonly { readonly name: string; readonly type: number; readonly bind: number; readonly shndx: number }[];
}

const STT_NOTYPE = 0;
const STB_GLOBAL = 1;
const STB_WEAK = 2;
const SHN_UNDEF = 0;
const LINKAGE_EXTERN = 2;

/**
 * libbpf's find_kcfg_type: bool, tristate (enum libbpf_tristate of 4 bytes), char, integers of 1,
 * 2, 4 or 8 bytes, and arrays of chars (elements: 1-byte non-bool ints after typedefs and modifiers;
 * not a recursive call, so an array of itself in crafted BTF is no endless recursion).
 */
export function kconfigType(btf: Btf, id: number): { type: KconfigType; signed: boolean } | undefined {
  const t = btf.type(btf.skipTypedefs(id));
  switch (t.kind) {
    case 'int':
      if (t.bool) return t.size === 1 ? { type: 'bool', signed: false } : undefined;
      if (t.size === 1) return { type: 'char', signed: t.signed };
      if (t.size < 1 || t.size > 8 || (t.size & (t.size - 1)) !== 0) return undefined;
      return { type: 'int', signed: t.signed };
    case 'enum':
    case 'enum64':
      return t.size === 4 && t.name === 'libbpf_tristate' ? { type: 'tristate', signed: false } : undefined;
    case 'array': {
      if (t.nelems === 0) return undefined;
      const elem = btf.type(btf.skipTypedefs(t.type));
      return elem.kind === 'int' && !elem.bool && elem.size === 1 ? { type: 'char_array', signed: false } : undefined;
    }
    default:
      return undefined;
  }
}

/** The DATASEC holding a VAR/FUNC id, by name. */
function datasecsByMember(btf: Btf): Map<number, ExternSpec['section']> {
  const out = new Map<number, ExternSpec['section']>();
  for (const name of [KCONFIG_SEC, KSYMS_SEC] as const) {
    for (const ds of btf.findAllByName(name, 'datasec')) for (const v of ds.vars) out.set(v.type, name);
  }
  return out;
}

/** The extern VAR or FUNC named `name` (libbpf's find_extern_btf_id): the first of that name. */
function externBtf(btf: Btf, name: string): { t: BtfType; problem?: string } | undefined {
  for (const kind of ['var', 'func'] as const) {
    for (const t of btf.findAllByName(name, kind)) {
      if (t.kind === 'var' || t.kind === 'func') {
        return t.linkage === LINKAGE_EXTERN ? { t } : { t, problem: `its BTF ${t.kind} [${t.id}] is not extern` };
      }
    }
  }
  return undefined;
}

export function collectExterns(elf: ExternElf, btf: Btf | undefined): ExternLayout {
  const externs: ExternSpec[] = [];
  const problems = new Map<string, string>();
  const undef = elf.symbols.filter((s) => s.name && s.shndx === SHN_UNDEF && s.type === STT_NOTYPE && (s.bind === STB_GLOBAL || s.bind === STB_WEAK));
  if (undef.length === 0 || !btf) {
    for (const s of undef) problems.set(s.name, 'the object has no BTF to say what it is');
    return { externs: new Map(), kconfigSize: 0, problems };
  }
  const secOf = datasecsByMember(btf);
  for (const s of undef) {
    const found = externBtf(btf, s.name);
    if (!found) { problems.set(s.name, 'no BTF VAR or FUNC describes it'); continue; }
    if (found.problem) { problems.set(s.name, found.problem); continue; }
    const t = found.t as BtfType & { type: number };
    const section = secOf.get(t.id);
    if (!section) { problems.set(s.name, 'it is in neither .kconfig nor .ksyms (declare it __kconfig or __ksym)'); continue; }
    const base = { name: s.name, essentialName: essentialName(s.name), weak: s.bind === STB_WEAK, section, btfId: t.id, func: t.kind === 'func' };
    if (section === KCONFIG_SEC) {
      if (t.kind === 'func') { problems.set(s.name, 'a function cannot be a .kconfig extern'); continue; }
      const kt = kconfigType(btf, t.type);
      if (!kt) { problems.set(s.name, `its type ${btf.type(btf.skipTypedefs(t.type)).kind} is not one a .kconfig value can have (bool, enum libbpf_tristate, char, integers, char arrays)`); continue; }
      let size: number;
      let align: number;
      try {
        size = btf.resolveSize(t.type);
        align = btf.alignment(t.type);
      } catch (e) {
        problems.set(s.name, `its type has no size: ${(e as Error).message}`);
        continue;
      }
      if (size > MAX_ARRAY_VALUE_SIZE) {
        problems.set(s.name, `its type is ${size} bytes, more than the .kconfig map's value can hold (${MAX_ARRAY_VALUE_SIZE})`);
        continue;
      }
      externs.push({ ...base, typeId: btf.skipTypedefs(t.type), kconfig: { ...kt, size, align, offset: 0 } });
    } else {
      externs.push({ ...base, typeId: t.kind === 'func' ? t.type : btf.skipTypedefs(t.type) });
    }
  }
  // libbpf's cmp_externs: kconfig before ksyms; kconfig by alignment descending, size ascending; then name
  const rank = (e: ExternSpec) => (e.section === KCONFIG_SEC ? 0 : 1);
  externs.sort((a, b) => rank(a) - rank(b)
    || (a.kconfig && b.kconfig ? (b.kconfig.align - a.kconfig.align) || (a.kconfig.size - b.kconfig.size) : 0)
    || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
  let off = 0;
  const laidOut: ExternSpec[] = [];
  for (const e of externs) {
    if (!e.kconfig) {
      laidOut.push(e);
      continue;
    }
    const offset = Math.ceil(off / e.kconfig.align) * e.kconfig.align;
    if (offset + e.kconfig.size > MAX_ARRAY_VALUE_SIZE) {
      // the map would be larger than any array value the kernel makes: this one stays out (and is reported when used)
      problems.set(e.name, `at offset ${offset} with its ${e.kconfig.size} bytes, the .kconfig map's value would exceed ${MAX_ARRAY_VALUE_SIZE} bytes`);
      continue;
    }
    off = offset + e.kconfig.size;
    laidOut.push({ ...e, kconfig: { ...e.kconfig, offset } });
  }
  return { externs: new Map(laidOut.map((e) => [e.name, e])), kconfigSize: off, problems };
}
