// ELF constants (elf.h, and LLVM's own section types) that BPF objects use. One place: the
// object stage re-exports these instead of declaring its own.

export const ELF = {
  // e_ident
  ELFMAG: 0x7f454c46,
  EI_NIDENT: 16,
  ELFCLASS32: 1,
  ELFCLASS64: 2,
  ELFDATA2LSB: 1,
  ELFDATA2MSB: 2,
  EV_CURRENT: 1,
  // e_type
  ET_NONE: 0,
  ET_REL: 1,
  ET_EXEC: 2,
  ET_DYN: 3,
  // e_machine: old LLVM (before 3.9's EM_BPF) wrote EM_NONE
  EM_NONE: 0,
  EM_BPF: 247,
  // sh_type
  SHT_NULL: 0,
  SHT_PROGBITS: 1,
  SHT_SYMTAB: 2,
  SHT_STRTAB: 3,
  SHT_RELA: 4,
  SHT_NOBITS: 8,
  SHT_REL: 9,
  SHT_DYNSYM: 11,
  SHT_SYMTAB_SHNDX: 18,
  SHT_LLVM_ADDRSIG: 0x6fff4c03,
  // sh_flags
  SHF_WRITE: 0x1,
  SHF_ALLOC: 0x2,
  SHF_EXECINSTR: 0x4,
  SHF_MERGE: 0x10,
  SHF_STRINGS: 0x20,
  SHF_INFO_LINK: 0x40,
  SHF_EXCLUDE: 0x80000000,
  // symbol type (low nibble of st_info)
  STT_NOTYPE: 0,
  STT_OBJECT: 1,
  STT_FUNC: 2,
  STT_SECTION: 3,
  STT_FILE: 4,
  // symbol binding (high nibble of st_info)
  STB_LOCAL: 0,
  STB_GLOBAL: 1,
  STB_WEAK: 2,
  // symbol visibility (low 2 bits of st_other)
  STV_DEFAULT: 0,
  STV_INTERNAL: 1,
  STV_HIDDEN: 2,
  STV_PROTECTED: 3,
  // special section indices
  SHN_UNDEF: 0,
  SHN_LORESERVE: 0xff00,
  SHN_ABS: 0xfff1,
  SHN_COMMON: 0xfff2,
  SHN_XINDEX: 0xffff,
  /** R_BPF_64_64: LD_IMM64 of a symbol's address */
  R_BPF_64_64: 1,
  R_BPF_64_ABS64: 2,
  R_BPF_64_ABS32: 3,
  R_BPF_64_NODYLD32: 4,
  /** R_BPF_64_32: call (clang >= 12; older used 10 for calls too) */
  R_BPF_64_32: 10,
} as const;

/** Entry sizes of the ELF64 structures this reader decodes. */
export const ELF64_SIZES = {
  ehdr: 64,
  shdr: 64,
  phdr: 56,
  sym: 24,
  rel: 16,
  rela: 24,
} as const;
