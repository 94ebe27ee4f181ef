// The ELF file header (Elf64_Ehdr). Read here, not by elfy: elfy does not know EM_BPF and accepts
// ELFCLASS32, and every later bound check depends on these fields being validated first.

import { ParseError } from '../errors.js';
import { ELF, ELF64_SIZES } from './constants.js';
import { ElfBytes } from './bytes.js';

export interface ElfHeader {
  readonly littleEndian: boolean;
  readonly is64: true;
  /** EI_OSABI */
  readonly osabi: number;
  /** e_type (ET_REL = 1 for clang's objects) */
  readonly fileType: number;
  /** e_machine: EM_BPF (247) or EM_NONE (0, old LLVM) */
  readonly machine: number;
  /** e_flags */
  readonly flags: number;
  readonly shoff: number;
  readonly shentsize: number;
  readonly shnum: number;
  readonly shstrndx: number;
}

function fail(message: string, offset: number): never {
  throw new ParseError(message, { format: 'elf', offset });
}

/**
 * Checks e_ident (magic, ELF64, byte order, version) and that the ELF64 header is there; returns the
 * bytes wrapper in the file's byte order. Shared by the BPF object reader and the reader of linked
 * binaries (uprobes); `files` names what is read, for the ELFCLASS32 refusal.
 */
export function readIdent(bytes: Uint8Array, files = 'BPF objects'): ElfBytes {
  if (bytes.byteLength < ELF.EI_NIDENT) fail(`file is ${bytes.byteLength} bytes, too short for an ELF identification`, 0);
  if (bytes[0] !== 0x7f || bytes[1] !== 0x45 || bytes[2] !== 0x4c || bytes[3] !== 0x46) {
    fail(`bad magic ${Array.from(bytes.subarray(0, 4), (b) => b.toString(16).padStart(2, '0')).join(' ')} (want 7f 45 4c 46): not an ELF file`, 0);
  }
  const cls = bytes[4]!;
  if (cls === ELF.ELFCLASS32) fail(`ELFCLASS32 file: ${files} are read as ELF64 only`, 4);
  if (cls !== ELF.ELFCLASS64) fail(`bad ELF class ${cls}`, 4);
  const data = bytes[5]!;
  if (data !== ELF.ELFDATA2LSB && data !== ELF.ELFDATA2MSB) fail(`bad ELF data encoding ${data}`, 5);
  if (bytes[6] !== ELF.EV_CURRENT) fail(`bad ELF identification version ${bytes[6]}`, 6);
  const file = new ElfBytes(bytes, data === ELF.ELFDATA2LSB);
  file.need(0, ELF64_SIZES.ehdr, 'ELF64 header');
  return file;
}

/** Checks e_ident and reads the ELF64 header of a BPF object; returns the bytes wrapper in the file's byte order. */
export function readHeader(bytes: Uint8Array): { header: ElfHeader; file: ElfBytes } {
  const file = readIdent(bytes);

  const machine = file.u16(18);
  if (machine !== ELF.EM_BPF && machine !== ELF.EM_NONE) fail(`e_machine ${machine} is not EM_BPF (247) or EM_NONE`, 18);
  const shoff = file.u64(40, 'e_shoff');
  const shentsize = file.u16(58);
  const shnum = file.u16(60);
  const shstrndx = file.u16(62);
  if (shoff === 0 || shnum === 0) {
    // shnum 0 with an offset is extended numbering (count in section 0), unheard of in BPF objects
    if (shoff !== 0) fail('extended section numbering (e_shnum 0) is not supported', 60);
    fail('file has no section header table', 40);
  }
  if (shentsize !== ELF64_SIZES.shdr) fail(`e_shentsize ${shentsize} is not ${ELF64_SIZES.shdr}`, 58);
  file.need(shoff, shnum * shentsize, `section header table (${shnum} entries)`);
  // no program headers in a relocatable object, but elfy decodes any it finds: check them first
  // so it never reads past a short entry
  const phoff = file.u64(32, 'e_phoff');
  const phentsize = file.u16(54);
  const phnum = file.u16(56);
  if (phoff !== 0 && phnum !== 0) {
    if (phentsize !== ELF64_SIZES.phdr) fail(`e_phentsize ${phentsize} is not ${ELF64_SIZES.phdr}`, 54);
    file.need(phoff, phnum * phentsize, `program header table (${phnum} entries)`);
  }
  if (shstrndx === ELF.SHN_XINDEX) fail('extended section name index (SHN_XINDEX) is not supported', 62);
  if (shstrndx >= shnum) fail(`e_shstrndx ${shstrndx} is out of range (${shnum} sections)`, 62);

  return {
    file,
    header: {
      littleEndian: file.littleEndian,
      is64: true,
      osabi: bytes[7]!,
      fileType: file.u16(16),
      machine,
      flags: file.u32(48),
      shoff, shentsize, shnum, shstrndx,
    },
  };
}
