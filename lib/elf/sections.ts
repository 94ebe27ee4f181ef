// The section header table (Elf64_Shdr, 64 bytes an entry), read as words (little-endian on a
// little-endian host) or with DataView in the file's order.
// Not through elfy (named by the project's user), by measurement and by correctness:
//  - cost: elfy.parse was ~50 µs of readObject's ~150 µs on bpf/obj_callback.o (it maps flag names
//    and slices a Buffer per section, and decodes program headers), a third of the budget the
//    object_load bench target (≤ 1.2× libbpf) leaves for all of reading and linking; this table is
//    ~2 µs once optimized (~15 µs before V8 optimizes it, as in the bench's first few hundred loads);
//  - elfy 1.0.0 reads ELF64 sh_addralign and sh_entsize two bytes early, drops sh_flags bits above
//    31 and returns '' for an sh_name outside .shstrtab.
// test/unit/elf.test.ts keeps elfy as a second reader of the fields it gets right (type, offset,
// size, link, info in both byte orders) and pins its misreads.

import { ParseError } from '../errors.js';
import { ELF } from './constants.js';
import { type ElfBytes, StringTable } from './bytes.js';
import type { ElfHeader } from './header.js';
import { checkRelocations, decodeRelocations, type ElfRelocation } from './relocations.js';

export interface ElfSection {
  readonly index: number;
  readonly name: string;
  /** sh_type (SHT_*) */
  readonly type: number;
  /** sh_flags (SHF_*) */
  readonly flags: number;
  readonly addr: number;
  /** sh_offset: where the contents start in the file */
  readonly offset: number;
  /** sh_size (the size also for NOBITS, which has no contents in the file) */
  readonly size: number;
  readonly link: number;
  readonly info: number;
  readonly addralign: number;
  readonly entsize: number;
  /** contents as a view into the input bytes (empty for SHT_NOBITS); do not write through it */
  readonly data: Uint8Array;
  /**
   * decoded SHT_REL/SHT_RELA entries that apply to this section (empty when none); those of a
   * section not loaded (no SHF_ALLOC: debug info) are checked on first read, a ParseError if malformed
   */
  readonly relocations: readonly ElfRelocation[];
}

/** Where the entries of one SHT_REL/SHT_RELA section applying to a section are (checked by readRelocations). */
export interface RelocationSource {
  readonly offset: number;
  readonly count: number;
  readonly rela: boolean;
  /** the SHT_REL/SHT_RELA section's name and the symbol count, for checking and messages */
  readonly section: string;
  readonly symbols: number;
  /** entries checked (at once for loaded targets, else on first read) */
  checked: boolean;
}

/**
 * A section as read: header fields decoded at once; the contents view and the relocation entries
 * are made on first use (a BPF object's debug sections and their relocations are never read, and
 * making them was a fifth of readElf). Every check is done by readSections/readRelocations.
 */
export class Section implements ElfSection {
  // `declare`d fields assigned in the constructor: class fields proper are defined by an initializer
  // first, which doubles the cost of building the ~30 sections of an object before V8 optimizes it
  declare readonly index: number;
  declare readonly name: string;
  declare readonly type: number;
  declare readonly flags: number;
  declare readonly addr: number;
  declare readonly offset: number;
  declare readonly size: number;
  declare readonly link: number;
  declare readonly info: number;
  declare readonly addralign: number;
  declare readonly entsize: number;
  /** set by readRelocations: the entries to decode into `relocations` */
  declare relocationSources: RelocationSource[] | undefined;
  private declare readonly file: ElfBytes;
  private declare contents: Uint8Array | undefined;
  private declare entries: ElfRelocation[] | undefined;

  constructor(
    file: ElfBytes, index: number, name: string, type: number, flags: number, addr: number,
    offset: number, size: number, link: number, info: number, addralign: number, entsize: number,
  ) {
    this.index = index;
    this.name = name;
    this.type = type;
    this.flags = flags;
    this.addr = addr;
    this.offset = offset;
    this.size = size;
    this.link = link;
    this.info = info;
    this.addralign = addralign;
    this.entsize = entsize;
    this.relocationSources = undefined;
    this.file = file;
    this.contents = undefined;
    this.entries = undefined;
  }

  get data(): Uint8Array {
    if (this.contents === undefined) {
      const has = this.type !== ELF.SHT_NOBITS && this.type !== ELF.SHT_NULL && this.size > 0;
      this.contents = has ? this.file.bytes.subarray(this.offset, this.offset + this.size) : this.file.bytes.subarray(0, 0);
    }
    return this.contents;
  }

  get relocations(): readonly ElfRelocation[] {
    if (this.entries === undefined) {
      const out: ElfRelocation[] = [];
      const srcs = this.relocationSources;
      if (srcs !== undefined) {
        for (let i = 0; i < srcs.length; i++) {
          if (!srcs[i].checked) checkRelocations(this.file, srcs[i], this);
          decodeRelocations(this.file, srcs[i], out);
        }
      }
      this.entries = out;
    }
    return this.entries;
  }
}

export function readSections(file: ElfBytes, header: ElfHeader): Section[] {
  const { shoff, shnum, shstrndx } = header;
  // readHeader checked that the whole table lies inside the file

  // .shstrtab first: every name is resolved through it
  const strShdr = shoff + shstrndx * 64;
  if (file.u32(strShdr + 4) !== ELF.SHT_STRTAB) {
    throw new ParseError(`e_shstrndx ${shstrndx} is not a string table`, { format: 'elf', offset: strShdr + 4 });
  }
  const strOff = file.u64(strShdr + 24, 'sh_offset', '.shstrtab');
  const strSize = file.u64(strShdr + 32, 'sh_size', '.shstrtab');
  file.need(strOff, strSize, 'section name string table', '.shstrtab');
  const names = new StringTable(file.bytes, strOff, strSize, '.shstrtab');

  const sections: Section[] = new Array(shnum);
  const words = file.words;
  if (words !== undefined && shoff % 4 === 0) {
    // the common case (little-endian object on a little-endian host, aligned): whole words, every
    // u64 checked to be below 2^53 at once; anything odd goes through the checked reads below
    let i = 0;
    for (; i < shnum; i++) {
      const w = (shoff >>> 2) + i * 16;
      // high words of flags, addr, offset, size, addralign, entsize (addr may be large: not checked)
      if (((words[w + 3] | words[w + 7] | words[w + 9] | words[w + 13] | words[w + 15]) >>> 0) > 0x1fffff) break;
      const name = i === 0 ? '' : names.get(words[w], 'name of section', i);
      const type = words[w + 1];
      // (a zero high word adds nothing: skipping the float multiply keeps small values small
      // integers, where unoptimized code would box each result)
      const offset = words[w + 7] === 0 ? words[w + 6] : words[w + 6] + words[w + 7] * 0x100000000;
      const size = words[w + 9] === 0 ? words[w + 8] : words[w + 8] + words[w + 9] * 0x100000000;
      if (type !== ELF.SHT_NOBITS && type !== ELF.SHT_NULL && size > 0 && !(offset + size <= file.length)) break;
      sections[i] = new Section(
        file, i, name, type,
        words[w + 3] === 0 ? words[w + 2] : words[w + 2] + words[w + 3] * 0x100000000,
        words[w + 5] === 0 ? words[w + 4] : words[w + 4] + words[w + 5] * 0x100000000,
        offset, size, words[w + 10], words[w + 11],
        words[w + 13] === 0 ? words[w + 12] : words[w + 12] + words[w + 13] * 0x100000000,
        words[w + 15] === 0 ? words[w + 14] : words[w + 14] + words[w + 15] * 0x100000000,
      );
    }
    if (i === shnum) return sections;
  }
  for (let i = 0; i < shnum; i++) {
    const shdr = shoff + i * 64;
    const name = i === 0 ? '' : names.get(file.u32(shdr), 'name of section', i);
    const type = file.u32(shdr + 4);
    const offset = file.u64(shdr + 24, 'sh_offset', name);
    const size = file.u64(shdr + 32, 'sh_size', name);
    if (type !== ELF.SHT_NOBITS && type !== ELF.SHT_NULL && size > 0 && !(offset + size <= file.length)) {
      throw new ParseError(`contents (offset ${offset}, size ${size}) run past the end of the file (${file.length} bytes)`, { format: 'elf', offset: shdr + 24, section: name });
    }
    sections[i] = new Section(
      file, i, name, type,
      file.u64(shdr + 8, 'sh_flags', name),
      file.u64Loose(shdr + 16),
      offset, size,
      file.u32(shdr + 40),
      file.u32(shdr + 44),
      file.u64(shdr + 48, 'sh_addralign', name),
      file.u64(shdr + 56, 'sh_entsize', name),
    );
  }
  return sections;
}
