// readElf: an ELF64 BPF object (either byte order) as sections, symbols and relocations.
// Pure: bytes in, a value out; every malformation is a ParseError with format 'elf'.

import { ParseError, TsbpfError } from '../errors.js';
import { readHeader } from './header.js';
import { readSections, type ElfSection } from './sections.js';
import { readSymbols, type ElfSymbol } from './symbols.js';
import { readRelocations, type ElfRelocation } from './relocations.js';

export interface ElfFile {
  readonly littleEndian: boolean;
  /** e_machine: EM_BPF (247) or EM_NONE (0) */
  readonly machine: number;
  /** always true: only ELFCLASS64 is accepted */
  readonly is64: boolean;
  /** e_type (ET_REL = 1) */
  readonly fileType: number;
  /** EI_OSABI */
  readonly osabi: number;
  /** e_flags */
  readonly flags: number;
  /** all sections by index (index 0 is the null section) */
  readonly sections: readonly ElfSection[];
  /** the symbol table by index (index 0 is the null symbol); [] when there is none */
  readonly symbols: readonly ElfSymbol[];
  /** the SHT_SYMTAB section, if any */
  readonly symtab: ElfSection | undefined;
  /** first section with this name */
  section(name: string): ElfSection | undefined;
  /** relocations applying to section `index` (empty when none or out of range; see ElfSection.relocations) */
  relocationsFor(index: number): readonly ElfRelocation[];
}

const none: readonly ElfRelocation[] = Object.freeze([]);

class Elf implements ElfFile {
  // `declare`d, assigned in the constructor: class fields proper are defined by an initializer
  // first, a second pass over every property before V8 optimizes (see sections.ts)
  declare readonly littleEndian: boolean;
  declare readonly machine: number;
  declare readonly is64: boolean;
  declare readonly fileType: number;
  declare readonly osabi: number;
  declare readonly flags: number;
  declare readonly sections: readonly ElfSection[];
  declare readonly symbols: readonly ElfSymbol[];
  declare readonly symtab: ElfSection | undefined;

  constructor(
    littleEndian: boolean, machine: number, is64: boolean, fileType: number, osabi: number, flags: number,
    sections: readonly ElfSection[], symbols: readonly ElfSymbol[], symtab: ElfSection | undefined,
  ) {
    this.littleEndian = littleEndian;
    this.machine = machine;
    this.is64 = is64;
    this.fileType = fileType;
    this.osabi = osabi;
    this.flags = flags;
    this.sections = sections;
    this.symbols = symbols;
    this.symtab = symtab;
  }

  section(name: string): ElfSection | undefined {
    // a scan: an object has a few dozen sections and is asked for a handful by name
    const sections = this.sections;
    for (let i = 0; i < sections.length; i++) if (sections[i].name === name) return sections[i];
    return undefined;
  }

  relocationsFor(index: number): readonly ElfRelocation[] {
    return this.sections[index]?.relocations ?? none;
  }
}

export function readElf(bytes: Uint8Array): ElfFile {
  try {
    const { header, file } = readHeader(bytes);
    const sections = readSections(file, header);
    const { symtab, symbols } = readSymbols(file, sections);
    readRelocations(file, sections, symtab, symbols);
    return new Elf(header.littleEndian, header.machine, header.is64, header.fileType, header.osabi, header.flags, sections, symbols, symtab);
  } catch (e) {
    if (e instanceof TsbpfError) throw e;
    // a check this reader forgot must still surface as a ParseError, never a RangeError
    throw new ParseError(`malformed file: ${(e as Error)?.message ?? String(e)}`, { format: 'elf' }, { cause: e });
  }
}
