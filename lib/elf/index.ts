// lib/elf: ELF64 reader for BPF objects (little- and big-endian). Pure, no syscalls.
export { readElf, type ElfFile } from './file.js';
export type { ElfSection } from './sections.js';
export type { ElfSymbol } from './symbols.js';
export type { ElfRelocation } from './relocations.js';
export { ELF, ELF64_SIZES } from './constants.js';
