// The section header table. elfy (named by the project's user) decodes it where it is right:
// sh_type, sh_addr, sh_offset, sh_size, sh_link, sh_info, in either byte order (its endian-reader
// handles ELFDATA2MSB, checked against llvm-readelf on the bpfeb objects in test/unit/elf.test.ts).
// Read here instead:
//  - sh_addralign and sh_entsize: elfy 1.0.0 reads them at bytes 46 and 54 of each ELF64 entry
//    instead of 48 and 56, so it reports e.g. addralign 0x80000 for 8 (pinned by a unit test);
//  - sh_flags: elfy turns them into a name set and drops bits above 31 (its mask loop is 32-bit);
//  - names: elfy returns '' for an sh_name outside .shstrtab and never checks the NUL, we throw.
// elfy's own failures (assert on .shstrtab's type, RangeError on short reads) become ParseErrors.
// Cost: elfy.parse is 32 of readElf's 82 µs on tc_counter.o and 128 of 165 µs on obj_sections.o
// (it maps flag names and slices a Buffer per section); a DataView table would be cheaper, but at
// these sizes it is not worth leaving the library the user asked for.

import elfy from 'elfy';
import { ParseError } from '../errors.js';
import { ELF } from './constants.js';
import { type ElfBytes, StringTable } from './bytes.js';
import type { ElfHeader } from './header.js';
import type { ElfRelocation } from './relocations.js';

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
  /** decoded SHT_REL/SHT_RELA entries that apply to this section (empty when none) */
  readonly relocations: readonly ElfRelocation[];
}

/** A section under construction: relocations are attached after the symbol table is read. */
export interface MutableSection extends Omit<ElfSection, 'relocations'> {
  relocations: ElfRelocation[];
}

const typeByElfyName: ReadonlyMap<string, number> = new Map(
  Object.entries(elfy.constants.sectType).map(([num, name]) => [name, Number(num)]),
);

function elfyType(t: string | number, index: number, shdr: number): number {
  if (typeof t === 'number') return t;
  const n = typeByElfyName.get(t);
  if (n === undefined) throw new ParseError(`section ${index}: elfy returned an unknown type name '${t}'`, { format: 'elf', offset: shdr + 4 });
  return n;
}

export function readSections(file: ElfBytes, header: ElfHeader): MutableSection[] {
  const { shoff, shnum, shstrndx } = header;
  const buf = Buffer.from(file.bytes.buffer, file.bytes.byteOffset, file.bytes.byteLength);
  let parsed;
  try {
    parsed = elfy.parse(buf).body.sections;
  } catch (e) {
    throw new ParseError(`section header table: ${(e as Error).message}`, { format: 'elf', offset: shoff }, { cause: e });
  }
  if (parsed.length !== shnum) throw new ParseError(`elfy decoded ${parsed.length} sections, e_shnum is ${shnum}`, { format: 'elf', offset: shoff });

  // .shstrtab first: every name is resolved through it
  const strShdr = shoff + shstrndx * 64;
  const strSec = parsed[shstrndx]!;
  if (elfyType(strSec.type, shstrndx, strShdr) !== ELF.SHT_STRTAB) {
    throw new ParseError(`e_shstrndx ${shstrndx} is not a string table`, { format: 'elf', offset: strShdr + 4 });
  }
  file.need(strSec.off, strSec.size, 'section name string table', '.shstrtab');
  const names = new StringTable(file.bytes.subarray(strSec.off, strSec.off + strSec.size), '.shstrtab', strSec.off);

  const sections: MutableSection[] = new Array(shnum);
  for (let i = 0; i < shnum; i++) {
    const e = parsed[i]!;
    const shdr = shoff + i * 64;
    const name = i === 0 ? '' : names.get(file.u32(shdr), `name of section ${i}`);
    const type = elfyType(e.type, i, shdr);
    const flags = file.u64(shdr + 8, 'sh_flags', name);
    const offset = e.off;
    const size = e.size;
    let data: Uint8Array = file.bytes.subarray(0, 0);
    if (type !== ELF.SHT_NOBITS && type !== ELF.SHT_NULL && size > 0) {
      if (!(offset + size <= file.length)) {
        throw new ParseError(`contents (offset ${offset}, size ${size}) run past the end of the file (${file.length} bytes)`, { format: 'elf', offset: shdr + 24, section: name });
      }
      data = file.bytes.subarray(offset, offset + size);
    }
    sections[i] = {
      index: i, name, type, flags,
      addr: e.addr, offset, size, link: e.link, info: e.info,
      addralign: file.u64(shdr + 48, 'sh_addralign', name),
      entsize: file.u64(shdr + 56, 'sh_entsize', name),
      data,
      relocations: [],
    };
  }
  return sections;
}
