// The part of elfy 1.0.0 (CommonJS, no bundled types) that test/unit/elf.test.ts reads as a second opinion.
declare module 'elfy' {
  interface ElfySection {
    /** resolved name (elfy returns '' for out-of-range offsets: we resolve names ourselves) */
    name: string;
    /** sh_type as elfy's lowercase name ('progbits', 'rel', ...) or the number when it has none */
    type: string | number;
    flags: Record<string, boolean>;
    addr: number;
    off: number;
    size: number;
    link: number;
    info: number;
    /** WRONG for ELF64 in 1.0.0: read from byte 46 of the header instead of 48 */
    addralign: number;
    /** WRONG for ELF64 in 1.0.0: read from byte 54 instead of 56 */
    entsize: number;
    data: Buffer;
  }
  interface ElfyFile {
    class: string;
    endian: string;
    machine: string | undefined;
    shnum: number;
    shstrndx: number;
    body: { programs: unknown[]; sections: ElfySection[] };
  }
  const elfy: {
    parse(buf: Buffer): ElfyFile;
    constants: { sectType: Record<number, string>; machine: Record<number, string> };
  };
  export default elfy;
  export type { ElfySection, ElfyFile };
}
