// What the object's BTF should say once the sections are laid out (libbpf's btf_fixup_datasec and
// its hidden-symbol rule): each DATASEC's size is its ELF section's size and each variable's offset
// is its symbol's value, variables sorted by offset; functions and variables whose symbols are
// global but STV_HIDDEN (__hidden) or STV_INTERNAL get static linkage, so the verifier checks such functions with
// their callers like static ones. Computed with the spec (pure); applied by btf-blob.ts.
import type { Btf } from '../btf/btf.js';
import { ELF as ELF_CONSTANTS, type ObjElf } from './elf-view.js';
import { ObjectError } from './errors.js';

// a local binding: module re-exports are getters under some loaders, and these are read per symbol
const ELF = ELF_CONSTANTS;

export interface DatasecFixup {
  /** type id of the DATASEC */
  readonly id: number;
  readonly size: number;
  readonly vars: readonly { readonly type: number; readonly offset: number; readonly size: number }[];
}

export function datasecFixups(elf: ObjElf, btf: Btf): DatasecFixup[] {
  const out: DatasecFixup[] = [];
  const ids = btf.datasecIds;
  if (ids.length === 0) return out;
  const values = symbolValues(elf);
  // the DATASEC already seen for a section index (two would make the layout ambiguous)
  const seen = new Map<number, number>();
  for (let k = 0; k < ids.length; k++) {
    const id = ids[k];
    const t = btf.typeOf(id, 'datasec');
    const s = elf.section(t.name);
    // DATASECs of sections the object does not have (.ksyms, .kconfig externs) stay as they are
    if (!s) continue;
    const before = seen.get(s.index);
    if (before !== undefined) {
      throw new ObjectError(`section ${s.name} is described by two BTF DATASECs (type ids ${before} and ${id})`, { section: s.name });
    }
    seen.set(s.index, id);
    const byName = values.get(s.index);
    const vars: { type: number; offset: number; size: number }[] = new Array(t.vars.length);
    let changed = t.size !== s.size;
    for (let i = 0; i < t.vars.length; i++) {
      const vi = t.vars[i];
      const v = btf.type(vi.type);
      const offset = v.name && byName ? byName.get(v.name) : undefined;
      vars[i] = { type: vi.type, offset: offset ?? vi.offset, size: vi.size };
    }
    vars.sort(byOffset);
    for (let i = 0; i < vars.length && !changed; i++) changed = vars[i].offset !== t.vars[i].offset || vars[i].type !== t.vars[i].type;
    if (changed) out.push({ id, size: s.size, vars });
  }
  return out;
}

/** Values of the named, non-section symbols by section index then name (the last of a name wins): one pass. */
function symbolValues(elf: ObjElf): Map<number, Map<string, number>> {
  const out = new Map<number, Map<string, number>>();
  const symbols = elf.symbols;
  for (let i = 0; i < symbols.length; i++) {
    const sym = symbols[i];
    if (!sym.name || sym.type === ELF.STT_SECTION) continue;
    let m = out.get(sym.shndx);
    if (!m) out.set(sym.shndx, (m = new Map()));
    m.set(sym.name, sym.value);
  }
  return out;
}

function byOffset(a: { offset: number }, b: { offset: number }): number {
  return a.offset - b.offset;
}

/** Type ids of global FUNCs and VARs whose ELF symbols are hidden (to be given static linkage). */
export function hiddenGlobals(elf: ObjElf, btf: Btf): number[] {
  const out: number[] = [];
  const symbols = elf.symbols;
  for (let i = 0; i < symbols.length; i++) {
    const sym = symbols[i];
    if ((sym.visibility !== ELF.STV_HIDDEN && sym.visibility !== ELF.STV_INTERNAL) || sym.bind === ELF.STB_LOCAL || !sym.name) continue;
    const kind = sym.type === ELF.STT_FUNC ? 'func' : sym.type === ELF.STT_OBJECT ? 'var' : undefined;
    if (!kind) continue;
    for (const id of btf.idsByName(sym.name, kind)) {
      const t = btf.type(id);
      if ((t.kind === 'func' || t.kind === 'var') && t.linkage === 1) out.push(id);
    }
  }
  return out.sort((a, b) => a - b);
}
