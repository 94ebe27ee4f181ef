// The ELF facts the object stage uses come from lib/elf as they are; these names keep the object
// code reading in the field's words (one parser, one set of constants).
export { ELF } from '../elf/index.js';
export type { ElfFile as ObjElf, ElfSection as ObjSection, ElfSymbol as ObjSymbol, ElfRelocation as ObjRelocation } from '../elf/index.js';
