// What the object's BTF should say once the sections are laid out (libbpf's btf_fixup_datasec and
// its hidden-symbol rule): each DATASEC's size is its ELF section's size and each variable's offset
// is its symbol's value, variables sorted by offset; functions and variables whose symbols are
// global but STV_HIDDEN (__hidden) or STV_INTERNAL get static linkage, so the verifier checks such functions with
// their callers like static ones. Computed with the spec (pure); applied by btf-blob.ts.
import type { Btf } from '../btf/btf.js';
import { ELF as ELF_CONSTANTS, type ObjElf } from './elf-view.js';

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
  let symbols: Map<number, Map<string, number>> | undefined;
  for (let id = 1; id < btf.typeCount; id++) {
    if (btf.kindOf(id) !== 'datasec') continue;
    const t = btf.typeOf(id, 'datasec');
    const s = elf.section(t.name);
    // DATASECs of sections the object does not have (.ksyms, .kconfig externs) stay as they are
    if (!s) continue;
    if (!symbols) {
      // symbol values by section, built once for all DATASECs
      symbols = new Map();
      for (const sym of elf.symbols) {
        if (!sym.name || sym.type === ELF.STT_SECTION) continue;
        let m = symbols.get(sym.shndx);
        if (!m) symbols.set(sym.shndx, (m = new Map()));
        m.set(sym.name, sym.value);
      }
    }
    const values = symbols.get(s.index) ?? new Map<string, number>();
    const vars = t.vars.map((vi) => {
      const v = btf.type(vi.type);
      const offset = v.name ? values.get(v.name) : undefined;
      return { type: vi.type, offset: offset ?? vi.offset, size: vi.size };
    });
    vars.sort((a, b) => a.offset - b.offset);
    const changed = t.size !== s.size || vars.some((x, i) => x.offset !== t.vars[i].offset || x.type !== t.vars[i].type);
    if (changed) out.push({ id, size: s.size, vars });
  }
  return out;
}

/** Type ids of global FUNCs and VARs whose ELF symbols are hidden (to be given static linkage). */
export function hiddenGlobals(elf: ObjElf, btf: Btf): number[] {
  const out: number[] = [];
  for (const sym of elf.symbols) {
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
