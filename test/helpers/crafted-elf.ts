// Crafted and damaged BPF objects for malformed-input tests, written independently of lib/elf and
// lib/btf (so the readers are not checked against themselves): a minimal ELF64 little-endian
// relocatable writer, and locators of section headers and BTF type records inside real objects.

/** One section of a crafted object; link/info may name another section. */
export interface CraftSection {
  name: string;
  type: number;
  flags: number;
  data: Uint8Array;
  link?: number | string;
  info?: number | string;
  entsize?: number;
  /** sh_size when it should differ from data.length (NOBITS) */
  size?: number | bigint;
}

export const SHT = { PROGBITS: 1, SYMTAB: 2, STRTAB: 3, REL: 9, NOBITS: 8 } as const;
export const SHF = { WRITE: 1, ALLOC: 2, EXECINSTR: 4, INFO_LINK: 0x40 } as const;

/** An ELF64 LE ET_REL EM_BPF file with a null section first and .shstrtab last. */
export function craftElf(sections: readonly CraftSection[]): Uint8Array {
  const all: CraftSection[] = [{ name: '', type: 0, flags: 0, data: new Uint8Array(0) }, ...sections, { name: '.shstrtab', type: SHT.STRTAB, flags: 0, data: new Uint8Array(0) }];
  const shstr = new StringTable();
  const nameOffs = all.map((s) => (s.name ? shstr.add(s.name) : 0));
  all[all.length - 1].data = shstr.bytes();
  const index = (v: number | string | undefined): number => (typeof v === 'string' ? all.findIndex((s) => s.name === v) : v ?? 0);
  let off = 64;
  const offs = all.map((s) => {
    off = (off + 7) & ~7;
    const at = off;
    if (s.type !== SHT.NOBITS) off += s.data.length;
    return at;
  });
  const shoff = (off + 7) & ~7;
  const out = new Uint8Array(shoff + 64 * all.length);
  const dv = new DataView(out.buffer);
  out.set([0x7f, 0x45, 0x4c, 0x46, 2, 1, 1]);
  dv.setUint16(16, 1, true); // ET_REL
  dv.setUint16(18, 247, true); // EM_BPF
  dv.setUint32(20, 1, true);
  dv.setBigUint64(40, BigInt(shoff), true);
  dv.setUint16(52, 64, true);
  dv.setUint16(58, 64, true);
  dv.setUint16(60, all.length, true);
  dv.setUint16(62, all.length - 1, true);
  all.forEach((s, i) => {
    if (s.type !== SHT.NOBITS) out.set(s.data, offs[i]);
    const h = shoff + 64 * i;
    dv.setUint32(h, nameOffs[i], true);
    dv.setUint32(h + 4, s.type, true);
    dv.setBigUint64(h + 8, BigInt(s.flags), true);
    dv.setBigUint64(h + 24, BigInt(offs[i]), true);
    dv.setBigUint64(h + 32, BigInt(s.size ?? s.data.length), true);
    dv.setUint32(h + 40, index(s.link), true);
    dv.setUint32(h + 44, index(s.info), true);
    dv.setBigUint64(h + 48, 8n, true);
    dv.setBigUint64(h + 56, BigInt(s.entsize ?? 0), true);
  });
  return out;
}

export class StringTable {
  private readonly b: number[] = [0];
  add(s: string): number {
    const at = this.b.length;
    this.b.push(...Buffer.from(s, 'utf8'), 0);
    return at;
  }
  bytes(): Uint8Array {
    return Uint8Array.from(this.b);
  }
}

export interface CraftSymbol { name: number; bind: number; type: number; shndx: number; value: number; size: number }

/** A .symtab body: the null symbol, then `syms`. */
export function symbolTable(syms: readonly CraftSymbol[]): Uint8Array {
  const out = new Uint8Array(24 * (syms.length + 1));
  const dv = new DataView(out.buffer);
  syms.forEach((s, i) => {
    const at = 24 * (i + 1);
    dv.setUint32(at, s.name, true);
    out[at + 4] = (s.bind << 4) | s.type;
    dv.setUint16(at + 6, s.shndx, true);
    dv.setBigUint64(at + 8, BigInt(s.value), true);
    dv.setBigUint64(at + 16, BigInt(s.size), true);
  });
  return out;
}

/** A .rel body: (offset, symbol, type) entries. */
export function relTable(rels: readonly { offset: number; symbol: number; type: number }[]): Uint8Array {
  const out = new Uint8Array(16 * rels.length);
  const dv = new DataView(out.buffer);
  rels.forEach((r, i) => {
    dv.setBigUint64(16 * i, BigInt(r.offset), true);
    dv.setUint32(16 * i + 8, r.type, true);
    dv.setUint32(16 * i + 12, r.symbol, true);
  });
  return out;
}

/** A section header of an existing little-endian object, by name: where it is, where its data is. */
export interface HeaderAt { header: number; offset: number; size: number; index: number }

export function sectionHeader(bytes: Uint8Array, name: string): HeaderAt {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const shoff = Number(dv.getBigUint64(40, true));
  const shnum = dv.getUint16(60, true);
  const strHdr = shoff + 64 * dv.getUint16(62, true);
  const strOff = Number(dv.getBigUint64(strHdr + 24, true));
  for (let i = 0; i < shnum; i++) {
    const h = shoff + 64 * i;
    const n = strOff + dv.getUint32(h, true);
    const end = bytes.indexOf(0, n);
    if (Buffer.from(bytes.subarray(n, end)).toString('utf8') === name) {
      return { header: h, offset: Number(dv.getBigUint64(h + 24, true)), size: Number(dv.getBigUint64(h + 32, true)), index: i };
    }
  }
  throw new Error(`no section ${name}`);
}

// words of a BTF record by kind (linux/btf.h): fixed part and per-vlen part
const FIXED = [0, 4, 3, 6, 3, 3, 3, 3, 3, 3, 3, 3, 3, 3, 4, 3, 3, 4, 3, 3];
const PER_VLEN = [0, 0, 0, 0, 3, 3, 2, 0, 0, 0, 0, 0, 0, 2, 0, 3, 0, 0, 0, 3];

/** File offset of BTF type `id`'s record in the .BTF section of a little-endian object. */
export function btfRecord(bytes: Uint8Array, id: number): number {
  const s = sectionHeader(bytes, '.BTF');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = dv.getUint32(s.offset + 4, true);
  let p = s.offset + hdrLen + dv.getUint32(s.offset + 8, true);
  for (let n = 1; n < id; n++) {
    const info = dv.getUint32(p + 4, true);
    p += 4 * (FIXED[(info >>> 24) & 0x1f] + PER_VLEN[(info >>> 24) & 0x1f] * (info & 0xffff));
  }
  return p;
}

/** The .BTF.ext func_info or line_info subsection of a little-endian object: record size, first block. */
export function btfExtBlock(bytes: Uint8Array, which: 'func_info' | 'line_info'): { recSize: number; nameOff: number; count: number; first: number } {
  const s = sectionHeader(bytes, '.BTF.ext');
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const hdrLen = dv.getUint32(s.offset + 4, true);
  const start = s.offset + hdrLen + dv.getUint32(s.offset + (which === 'func_info' ? 8 : 16), true);
  return { recSize: dv.getUint32(start, true), nameOff: dv.getUint32(start + 4, true), count: dv.getUint32(start + 8, true), first: start + 12 };
}

export function u32(bytes: Uint8Array, at: number): number {
  return new DataView(bytes.buffer, bytes.byteOffset).getUint32(at, true);
}

export function setU32(bytes: Uint8Array, at: number, v: number): void {
  new DataView(bytes.buffer, bytes.byteOffset).setUint32(at, v >>> 0, true);
}

export function setU64(bytes: Uint8Array, at: number, v: bigint): void {
  new DataView(bytes.buffer, bytes.byteOffset).setBigUint64(at, v, true);
}

/** What `fn` threw (fails the test when it returns). */
export function thrown(fn: () => unknown): Error {
  try {
    fn();
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected an error, got none');
}
