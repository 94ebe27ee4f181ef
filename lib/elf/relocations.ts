// SHT_REL (and SHT_RELA, which BPF objects do not use but costs nothing) sections, decoded and
// attached to the section they relocate (sh_info). DataView, for the reason given in symbols.ts.

import { ParseError } from '../errors.js';
import { ELF, ELF64_SIZES } from './constants.js';
import type { ElfBytes } from './bytes.js';
import type { MutableSection } from './sections.js';
import type { ElfSymbol } from './symbols.js';

export interface ElfRelocation {
  /** r_offset: byte offset in the target section */
  readonly offset: number;
  /** ELF64_R_TYPE(r_info): R_BPF_* */
  readonly type: number;
  /** ELF64_R_SYM(r_info): index into the symbol table */
  readonly symbol: number;
  /** r_addend, SHT_RELA only */
  readonly addend?: number;
}

export function readRelocations(file: ElfBytes, sections: readonly MutableSection[], symtab: MutableSection | undefined, symbols: readonly ElfSymbol[]): void {
  const view = file.view;
  const le = file.littleEndian;
  for (const rel of sections) {
    if (rel.type !== ELF.SHT_REL && rel.type !== ELF.SHT_RELA) continue;
    const isRela = rel.type === ELF.SHT_RELA;
    const entsize = isRela ? ELF64_SIZES.rela : ELF64_SIZES.rel;
    const where = { format: 'elf', offset: rel.offset, section: rel.name };
    if (rel.entsize !== entsize) throw new ParseError(`relocation entsize ${rel.entsize}, want ${entsize}`, where);
    if (rel.size % entsize !== 0) throw new ParseError(`relocation section size ${rel.size} is not a multiple of ${entsize}`, where);
    const target = rel.info === 0 ? undefined : sections[rel.info];
    if (!target) throw new ParseError(`relocations apply to section ${rel.info}, which does not exist`, where);
    if (!symtab || rel.link !== symtab.index) throw new ParseError(`relocation sh_link ${rel.link} is not the symbol table`, where);

    const count = rel.size / entsize;
    for (let i = 0; i < count; i++) {
      const at = rel.offset + i * entsize;
      const offset = file.u64(at, 'r_offset', rel.name);
      // r_info = sym << 32 | type; the halves are read separately so no BigInt is needed
      const type = view.getUint32(at + (le ? 8 : 12), le);
      const symbol = view.getUint32(at + (le ? 12 : 8), le);
      if (symbol >= symbols.length) {
        throw new ParseError(`relocation ${i}: symbol index ${symbol} is out of range (${symbols.length} symbols)`, { format: 'elf', offset: at + 8, section: rel.name });
      }
      if (target.type !== ELF.SHT_NOBITS && offset >= target.size) {
        throw new ParseError(`relocation ${i}: offset ${offset} is outside ${target.name} (${target.size} bytes)`, { format: 'elf', offset: at, section: rel.name });
      }
      target.relocations.push(isRela
        ? { offset, type, symbol, addend: Number(view.getBigInt64(at + 16, le)) }
        : { offset, type, symbol });
    }
  }
}
