// SHT_REL (and SHT_RELA, which BPF objects do not use but costs nothing) sections, decoded and
// attached to the section they relocate (sh_info). DataView, for the reason given in symbols.ts.

import { ParseError } from '../errors.js';
import { ELF, ELF64_SIZES } from './constants.js';
import type { ElfBytes } from './bytes.js';
import type { RelocationSource, Section } from './sections.js';
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

/**
 * Check every SHT_REL/SHT_RELA section (entry size, target, symbol table) and hang it on its target
 * section; the entries become objects on first use (Section). Entries relocating a loaded section
 * (SHF_ALLOC: code, maps, data) are checked now (symbol in range, offset inside the target); those
 * of debug sections, which nothing here reads (libbpf skips them too), when first read.
 */
export function readRelocations(file: ElfBytes, sections: readonly Section[], symtab: Section | undefined, symbols: readonly ElfSymbol[]): void {
  const nsyms = symbols.length;
  for (let s = 0; s < sections.length; s++) {
    const rel = sections[s];
    if (rel.type !== ELF.SHT_REL && rel.type !== ELF.SHT_RELA) continue;
    const isRela = rel.type === ELF.SHT_RELA;
    const entsize = isRela ? ELF64_SIZES.rela : ELF64_SIZES.rel;
    if (rel.entsize !== entsize) throw new ParseError(`relocation entsize ${rel.entsize}, want ${entsize}`, { format: 'elf', offset: rel.offset, section: rel.name });
    if (rel.size % entsize !== 0) throw new ParseError(`relocation section size ${rel.size} is not a multiple of ${entsize}`, { format: 'elf', offset: rel.offset, section: rel.name });
    const target = rel.info === 0 ? undefined : sections[rel.info];
    if (!target) throw new ParseError(`relocations apply to section ${rel.info}, which does not exist`, { format: 'elf', offset: rel.offset, section: rel.name });
    if (!symtab || rel.link !== symtab.index) throw new ParseError(`relocation sh_link ${rel.link} is not the symbol table`, { format: 'elf', offset: rel.offset, section: rel.name });
    const src: RelocationSource = { offset: rel.offset, count: rel.size / entsize, rela: isRela, section: rel.name, symbols: nsyms, checked: false };
    if ((target.flags & ELF.SHF_ALLOC) !== 0) checkRelocations(file, src, target);
    (target.relocationSources ??= []).push(src);
  }
}

/** Check the entries of `src` against their target: symbol in range, offset inside it; ParseError if not. */
export function checkRelocations(file: ElfBytes, src: RelocationSource, target: Section): void {
  const view = file.view;
  const le = file.littleEndian;
  const nsyms = src.symbols;
  const count = src.count;
  const entsize = src.rela ? ELF64_SIZES.rela : ELF64_SIZES.rel;
  // r_offset must lie inside the target (a NOBITS target has no contents to check against)
  const limit = target.type === ELF.SHT_NOBITS ? Infinity : target.size;
  const words = file.words;
  if (words !== undefined && src.offset % 4 === 0) {
    // the common case (little-endian object on a little-endian host, aligned): whole words
    const step = entsize >>> 2;
    let w = src.offset >>> 2;
    let i = 0;
    for (; i < count; i++, w += step) if (!(words[w + 3] < nsyms && words[w] < limit && words[w + 1] === 0)) break;
    if (i === count) {
      src.checked = true;
      return;
    }
  }
  // words of r_offset (low, high) and of r_info's symbol half, by byte order
  const lo = le ? 0 : 4;
  const hi = le ? 4 : 0;
  const sym = le ? 12 : 8;
  for (let i = 0, at = src.offset; i < count; i++, at += entsize) {
    // r_info = sym << 32 | type; the halves are read separately so no BigInt is needed
    const symbol = view.getUint32(at + sym, le);
    const offLo = view.getUint32(at + lo, le);
    if (symbol < nsyms && offLo < limit && view.getUint32(at + hi, le) === 0) continue;
    // something is off: the checks again, in order, for the message
    const offset = file.u64(at, 'r_offset', src.section);
    if (symbol >= nsyms) {
      throw new ParseError(`relocation ${i}: symbol index ${symbol} is out of range (${nsyms} symbols)`, { format: 'elf', offset: at + 8, section: src.section });
    }
    if (offset >= limit) {
      throw new ParseError(`relocation ${i}: offset ${offset} is outside ${target.name} (${target.size} bytes)`, { format: 'elf', offset: at, section: src.section });
    }
  }
  src.checked = true;
}

/** Append the entries of one checked relocation section to `out`. */
export function decodeRelocations(file: ElfBytes, src: RelocationSource, out: ElfRelocation[]): void {
  const view = file.view;
  const le = file.littleEndian;
  const entsize = src.rela ? ELF64_SIZES.rela : ELF64_SIZES.rel;
  for (let i = 0, at = src.offset; i < src.count; i++, at += entsize) {
    const offset = file.u64Loose(at);
    const type = view.getUint32(at + (le ? 8 : 12), le);
    const symbol = view.getUint32(at + (le ? 12 : 8), le);
    out.push(src.rela ? { offset, type, symbol, addend: Number(view.getBigInt64(at + 16, le)) } : { offset, type, symbol });
  }
}
