// Where a function of a linked ELF file (an executable or a shared library, any machine) starts in
// the file: what a uprobe is given. readElf is for BPF objects (EM_BPF, relocatable); this reads the
// header of a linked file itself and shares the section table and symbol decoding with it.
//
// A symbol's st_value is a virtual address; the file offset is st_value minus (p_vaddr - p_offset) of
// the PT_LOAD segment holding it (section headers can lie about that mapping, segments cannot: they
// are what the loader maps). Names may carry a GNU symbol version as nm -D prints them: 'malloc',
// 'realpath@GLIBC_2.2.5', 'realpath@@GLIBC_2.3'. Pure: bytes in, a value out.

import { ParseError, TsbpfError } from '../errors.js';
import { ELF, ELF64_SIZES } from './constants.js';
import { type ElfBytes, StringTable } from './bytes.js';
import { readSections, type Section } from './sections.js';
import { readSymbols, type ElfSymbol } from './symbols.js';
import { readIdent, type ElfHeader } from './header.js';

const STT_GNU_IFUNC = 10;
const SHT_GNU_VERDEF = 0x6ffffffd;
const SHT_GNU_VERSYM = 0x6fffffff;
/** versym bit: not the default version of the name (nm prints '@' rather than '@@') */
const VERSYM_HIDDEN = 0x8000;
const PT_LOAD = 1;

const TYPE_NAMES: Record<number, string> = { 0: 'NOTYPE', 1: 'OBJECT', 2: 'FUNC', 3: 'SECTION', 4: 'FILE', 5: 'COMMON', 6: 'TLS', 10: 'GNU_IFUNC' };

export interface LoadSegment {
  readonly offset: number;
  readonly vaddr: number;
  readonly filesz: number;
  readonly memsz: number;
  /** PF_X | PF_W | PF_R */
  readonly flags: number;
}

/** One defined symbol of .symtab or .dynsym, with its GNU version where the file has them. */
export interface LinkedSymbol {
  /** the name without any '@VERSION' suffix */
  readonly name: string;
  /** the version name ('GLIBC_2.2.5'), if any */
  readonly version: string | undefined;
  /** true for the default version of the name ('@@' in nm), or when unversioned */
  readonly isDefault: boolean;
  readonly value: number;
  readonly size: number;
  /** STT_* */
  readonly type: number;
  /** STB_* */
  readonly bind: number;
  readonly table: '.symtab' | '.dynsym';
}

export interface LinkedElf {
  /** ET_EXEC or ET_DYN */
  readonly fileType: number;
  readonly machine: number;
  readonly segments: readonly LoadSegment[];
  /** defined symbols of .symtab ([] for a stripped file) */
  readonly symtab: readonly LinkedSymbol[];
  /** defined symbols of .dynsym ([] for a static binary) */
  readonly dynsym: readonly LinkedSymbol[];
  /** names .dynsym has undefined: functions this file imports from a library */
  readonly imports: ReadonlySet<string>;
}

/** A function symbol found: its file offset and what matched. */
export interface FunctionOffset {
  readonly offset: number;
  readonly symbol: LinkedSymbol;
}

/** Why a name gave no function offset (the caller words the error: it knows the file and the operation). */
export type FunctionLookupProblem =
  | { readonly problem: 'missing'; readonly imported: boolean; readonly stripped: boolean }
  | { readonly problem: 'not-function'; readonly type: string }
  | { readonly problem: 'ifunc' }
  | { readonly problem: 'ambiguous'; readonly candidates: readonly LinkedSymbol[] }
  | { readonly problem: 'no-segment'; readonly value: number };

function fail(message: string, offset: number): never {
  throw new ParseError(message, { format: 'elf', offset });
}

/** Reads an executable or shared library: its PT_LOAD segments and defined symbols. ParseError if malformed. */
export function readLinkedElf(bytes: Uint8Array): LinkedElf {
  try {
    return readLinked(bytes);
  } catch (e) {
    if (e instanceof TsbpfError) throw e;
    throw new ParseError(`malformed file: ${(e as Error)?.message ?? String(e)}`, { format: 'elf' }, { cause: e });
  }
}

function readLinked(bytes: Uint8Array): LinkedElf {
  const file = readIdent(bytes, 'executables and libraries');
  const fileType = file.u16(16);
  if (fileType !== ELF.ET_EXEC && fileType !== ELF.ET_DYN) fail(`e_type ${fileType} is not an executable (2) or a shared object (3)`, 16);

  const phoff = file.u64(32, 'e_phoff');
  const phentsize = file.u16(54);
  const phnum = file.u16(56);
  if (phnum !== 0 && phentsize !== ELF64_SIZES.phdr) fail(`e_phentsize ${phentsize} is not ${ELF64_SIZES.phdr}`, 54);
  file.need(phoff, phnum * ELF64_SIZES.phdr, `program header table (${phnum} entries)`);
  const segments: LoadSegment[] = [];
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * ELF64_SIZES.phdr;
    if (file.u32(at) !== PT_LOAD) continue;
    segments.push({ flags: file.u32(at + 4), offset: file.u64(at + 8, 'p_offset'), vaddr: file.u64Loose(at + 16), filesz: file.u64(at + 32, 'p_filesz'), memsz: file.u64(at + 40, 'p_memsz') });
  }

  const shoff = file.u64(40, 'e_shoff');
  const shentsize = file.u16(58);
  const shnum = file.u16(60);
  const shstrndx = file.u16(62);
  if (shoff === 0 || shnum === 0) return { fileType, machine: file.u16(18), segments, symtab: [], dynsym: [], imports: new Set() };
  if (shentsize !== ELF64_SIZES.shdr) fail(`e_shentsize ${shentsize} is not ${ELF64_SIZES.shdr}`, 58);
  file.need(shoff, shnum * ELF64_SIZES.shdr, `section header table (${shnum} entries)`);
  if (shstrndx >= shnum) fail(`e_shstrndx ${shstrndx} is out of range (${shnum} sections)`, 62);
  // readSections reads only the table's place and the name table's index from the header
  const sections = readSections(file, { shoff, shnum, shstrndx } as ElfHeader);

  const dynIndex = sections.findIndex((s) => s.type === ELF.SHT_DYNSYM);
  const dyn = tableSymbols(file, sections, dynIndex);
  const imports = new Set<string>();
  for (const s of dyn) if (s.shndx === ELF.SHN_UNDEF && s.name !== '') imports.add(splitVersionedName(s.name).name);
  return {
    fileType,
    machine: file.u16(18),
    segments,
    symtab: defined(tableSymbols(file, sections, sections.findIndex((s) => s.type === ELF.SHT_SYMTAB)), '.symtab'),
    dynsym: defined(dyn, '.dynsym', versions(file, sections, dynIndex)),
    imports,
  };
}

/**
 * The symbols of section `index` through readSymbols, which decodes the one SHT_SYMTAB among the
 * sections it is given: .dynsym has the same Elf64_Sym layout, so it is shown to it as that.
 */
function tableSymbols(file: ElfBytes, sections: readonly Section[], index: number): ElfSymbol[] {
  if (index < 0) return [];
  const shown = sections.map((s, i) => {
    if (i === index) return Object.create(s, { type: { value: ELF.SHT_SYMTAB } }) as Section;
    if (s.type === ELF.SHT_SYMTAB) return Object.create(s, { type: { value: ELF.SHT_NULL } }) as Section;
    return s;
  });
  return readSymbols(file, shown).symbols;
}

interface Versions {
  /** per symbol index: the versym entry */
  readonly versym: (i: number) => number;
  /** version index → name (from .gnu.version_d) */
  readonly names: ReadonlyMap<number, string>;
}

/** .gnu.version (one u16 per dynamic symbol) and .gnu.version_d (the file's own version names). */
function versions(file: ElfBytes, sections: readonly Section[], dynIndex: number): Versions | undefined {
  const vs = sections.find((s) => s.type === SHT_GNU_VERSYM && s.link === dynIndex);
  if (!vs || dynIndex < 0) return undefined;
  const names = new Map<number, string>();
  const vd = sections.find((s) => s.type === SHT_GNU_VERDEF);
  if (vd) {
    const strs = sections[vd.link];
    if (!strs || strs.type !== ELF.SHT_STRTAB) throw new ParseError(`sh_link ${vd.link} is not a string table`, { format: 'elf', offset: vd.offset, section: vd.name });
    const table = new StringTable(file.bytes, strs.offset, strs.size, strs.name);
    // Elf64_Verdef: vd_version u16, vd_flags u16, vd_ndx u16, vd_cnt u16, vd_hash u32, vd_aux u32, vd_next u32;
    // Elf64_Verdaux: vda_name u32, vda_next u32. The first aux names the version.
    let at = vd.offset;
    for (let n = 0; n < 0x10000; n++) {
      file.need(at, 20, 'version definition', vd.name);
      const aux = at + file.u32(at + 12);
      file.need(aux, 8, 'version definition name', vd.name);
      names.set(file.u16(at + 4), table.get(file.u32(aux), 'name of version', file.u16(at + 4)));
      const next = file.u32(at + 16);
      if (next === 0) break;
      at += next;
      if (at >= vd.offset + vd.size) throw new ParseError('version definition chain leaves its section', { format: 'elf', offset: at, section: vd.name });
    }
  }
  const count = vs.size / 2;
  return { versym: (i) => (i < count ? file.u16(vs.offset + i * 2) : 0), names };
}

function defined(symbols: readonly ElfSymbol[], table: '.symtab' | '.dynsym', v?: Versions): LinkedSymbol[] {
  const out: LinkedSymbol[] = [];
  for (const s of symbols) {
    if (s.shndx === ELF.SHN_UNDEF || s.name === '' || s.type === ELF.STT_SECTION || s.type === ELF.STT_FILE) continue;
    let name = s.name;
    let version: string | undefined;
    let isDefault = true;
    const at = name.indexOf('@');
    if (at > 0) {
      // a versioned name spelled out (.symver in a .symtab): 'f@@V' is the default, 'f@V' is not
      isDefault = name[at + 1] === '@';
      version = name.slice(at + (isDefault ? 2 : 1));
      name = name.slice(0, at);
    } else if (v) {
      const vs = v.versym(s.index);
      // index 0 local, 1 the unversioned global base; a name of the base version is the file's own name
      const idx = vs & 0x7fff;
      isDefault = (vs & VERSYM_HIDDEN) === 0;
      if (idx > 1) version = v.names.get(idx);
    }
    out.push({ name, version, isDefault, value: s.value, size: s.size, type: s.type, bind: s.bind, table });
  }
  return out;
}

/** 'name', 'name@VERSION' or 'name@@VERSION' split; the '@' and '@@' forms match a version alike (as libbpf). */
export function splitVersionedName(symbol: string): { name: string; version: string | undefined } {
  const at = symbol.indexOf('@');
  if (at < 0) return { name: symbol, version: undefined };
  return { name: symbol.slice(0, at), version: symbol.slice(symbol[at + 1] === '@' ? at + 2 : at + 1) };
}

/** The file offset of a symbol's address, through the PT_LOAD segment that maps it. */
export function fileOffsetOf(elf: LinkedElf, vaddr: number): number | undefined {
  for (const s of elf.segments) {
    if (vaddr >= s.vaddr && vaddr < s.vaddr + Math.max(s.memsz, s.filesz)) return vaddr - (s.vaddr - s.offset);
  }
  return undefined;
}

/**
 * The file offset of function `symbol` ('name', 'name@VERSION', 'name@@VERSION'): .symtab first, then
 * .dynsym (a stripped library has only the latter). Without a version the default version is taken
 * when the name has several (what a program linked today calls: realpath → realpath@@GLIBC_2.3). Of
 * several definitions at different places a global one wins over weak ones (libbpf's rule); two
 * globals, or only weak ones, are ambiguous. An indirect function (STT_GNU_IFUNC: its symbol is the
 * resolver, run once at load) is refused rather than probed, as is a symbol of another type.
 */
export function findFunctionOffset(elf: LinkedElf, symbol: string): FunctionOffset | FunctionLookupProblem {
  const { name, version } = splitVersionedName(symbol);
  let first: FunctionLookupProblem | undefined;
  for (const table of [elf.symtab, elf.dynsym]) {
    let named = table.filter((s) => s.name === name && (version === undefined || s.version === version));
    if (named.length === 0) continue;
    if (version === undefined && named.some((s) => s.isDefault)) named = named.filter((s) => s.isDefault);
    const funcs = named.filter((s) => s.type === ELF.STT_FUNC);
    if (funcs.length === 0) {
      first ??= named.some((s) => s.type === STT_GNU_IFUNC) ? { problem: 'ifunc' } : { problem: 'not-function', type: TYPE_NAMES[named[0].type] ?? `type ${named[0].type}` };
      continue;
    }
    const byValue = new Map<number, LinkedSymbol>();
    for (const s of funcs) if (!byValue.has(s.value) || byValue.get(s.value)!.bind === ELF.STB_WEAK) byValue.set(s.value, s);
    let picked = [...byValue.values()];
    if (picked.length > 1) {
      const strong = picked.filter((s) => s.bind !== ELF.STB_WEAK);
      if (strong.length !== 1) return { problem: 'ambiguous', candidates: picked };
      picked = strong;
    }
    const s = picked[0];
    const offset = s.value === 0 ? undefined : fileOffsetOf(elf, s.value);
    if (offset === undefined) return { problem: 'no-segment', value: s.value };
    return { offset, symbol: s };
  }
  return first ?? { problem: 'missing', imported: elf.imports.has(name), stripped: elf.symtab.length === 0 };
}

/**
 * libbpf's glob: '*' any run of characters (none too), '?' any one; everything else itself (no
 * classes, no escapes). Iterative, remembering the last '*' to retry from: linear in practice.
 */
export function globMatch(name: string, pattern: string): boolean {
  let n = 0;
  let p = 0;
  let star = -1;
  let resume = 0;
  while (n < name.length) {
    if (p < pattern.length && (pattern[p] === '?' || pattern[p] === name[n])) {
      n++;
      p++;
    } else if (p < pattern.length && pattern[p] === '*') {
      star = p++;
      resume = n;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === '*') p++;
  return p === pattern.length;
}

/** The functions a glob selects, and what it matched that cannot be probed (named by the caller's error). */
export interface PatternMatches {
  /** one per file offset, in offset order */
  readonly functions: readonly FunctionOffset[];
  /** names of indirect functions (STT_GNU_IFUNC) that matched and were left out */
  readonly ifuncs: readonly string[];
  /** the table searched ('.symtab' when any of its functions matched, else '.dynsym') */
  readonly table: '.symtab' | '.dynsym' | undefined;
}

/**
 * The functions whose name (without version) matches `pattern` (globMatch). As libbpf: .symtab when
 * any of its functions matches, else .dynsym, so a name in both is taken once. Beyond libbpf: a name
 * with several versions keeps its default one (what findFunctionOffset picks), and names at one
 * address (aliases: getppid and __getppid) are one probe, not two (the kernel would run the program
 * once per probe at that address); the representative is a global name before a weak one, then the
 * first by name. Indirect functions are left out and listed (their symbol is the resolver).
 */
export function findFunctionsMatching(elf: LinkedElf, pattern: string): PatternMatches {
  const ifuncs = new Set<string>();
  for (const [table, label] of [[elf.symtab, '.symtab'], [elf.dynsym, '.dynsym']] as const) {
    const byName = new Map<string, LinkedSymbol[]>();
    for (const s of table) {
      if (!globMatch(s.name, pattern)) continue;
      if (s.type === STT_GNU_IFUNC) ifuncs.add(s.name);
      if (s.type !== ELF.STT_FUNC || s.value === 0) continue;
      byName.set(s.name, [...(byName.get(s.name) ?? []), s]);
    }
    if (byName.size === 0) continue;
    const byOffset = new Map<number, LinkedSymbol>();
    for (const versions of byName.values()) {
      const picked = versions.some((s) => s.isDefault) ? versions.filter((s) => s.isDefault) : versions;
      for (const s of picked) {
        const offset = fileOffsetOf(elf, s.value);
        if (offset === undefined) continue;
        const had = byOffset.get(offset);
        const better = !had || (had.bind === ELF.STB_WEAK && s.bind !== ELF.STB_WEAK) || (had.bind === s.bind && s.name < had.name);
        if (better) byOffset.set(offset, s);
      }
    }
    const functions = [...byOffset].sort((a, b) => a[0] - b[0]).map(([offset, symbol]) => ({ offset, symbol }));
    return { functions, ifuncs: [...ifuncs].sort(), table: label };
  }
  return { functions: [], ifuncs: [...ifuncs].sort(), table: undefined };
}
