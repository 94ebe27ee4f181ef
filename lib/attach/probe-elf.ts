// The parts of an executable or shared library that a uprobe's symbol lookup reads, read alone: the
// ELF header, the program and section header tables, the symbol tables, their string tables and the
// GNU version sections. Everything else of the file (its code and data, most of it: node is ~100 MB,
// of which the tables are a few) stays unread; the result has the file's length, with zeros where
// nothing was read, so the linked-ELF reader finds each table at its file offset. A file whose
// tables cannot be found this way (not ELF64, a table past its end) is read whole, and the reader
// says what is wrong with it.
import { closeSync, fstatSync, openSync, readFileSync, readSync } from 'node:fs';

const SHT_SYMTAB = 2;
const SHT_STRTAB = 3;
const SHT_DYNSYM = 11;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERSYM = 0x6fffffff;
const READ_TYPES = new Set([SHT_SYMTAB, SHT_STRTAB, SHT_DYNSYM, SHT_GNU_VERDEF, SHT_GNU_VERSYM]);
const EHDR = 64;
const SHDR = 64;
const PHDR = 56;

/** The file at `path` with only its headers and symbol-lookup sections read (fs errors are thrown as they are). */
export function readSymbolTables(path: string): Uint8Array {
  const fd = openSync(path, 'r');
  try {
    const size = fstatSync(fd).size;
    // a large zero-filled buffer costs address space, not memory: pages are only mapped when written
    const out = new Uint8Array(size);
    const fill = (at: number, length: number): boolean => {
      if (!Number.isSafeInteger(at) || !Number.isSafeInteger(length) || at < 0 || length < 0 || at + length > size) return false;
      for (let done = 0; done < length;) {
        const n = readSync(fd, out, at + done, length - done, at + done);
        if (n === 0) return false;
        done += n;
      }
      return true;
    };
    if (size < EHDR || !fill(0, EHDR)) return readFileSync(path);
    // ELF64 only (class 2); byte order from EI_DATA
    if (out[0] !== 0x7f || out[1] !== 0x45 || out[2] !== 0x4c || out[3] !== 0x46 || out[4] !== 2 || (out[5] !== 1 && out[5] !== 2)) return readFileSync(path);
    const le = out[5] === 1;
    const v = new DataView(out.buffer);
    const u64 = (at: number) => Number(v.getBigUint64(at, le));
    const phoff = u64(32);
    const shoff = u64(40);
    const phnum = v.getUint16(56, le);
    const shnum = v.getUint16(60, le);
    if (!fill(phoff, phnum * PHDR) || !fill(shoff, shnum * SHDR)) return readFileSync(path);
    for (let i = 0; i < shnum; i++) {
      const at = shoff + i * SHDR;
      if (!READ_TYPES.has(v.getUint32(at + 4, le))) continue;
      if (!fill(u64(at + 24), u64(at + 32))) return readFileSync(path);
    }
    return out;
  } finally {
    closeSync(fd);
  }
}
