// Functions of an object: every STT_FUNC symbol in an executable section, with its instructions and
// its relocations resolved to symbolic targets (map name, data offset, called function). Calls
// come in the encodings clang emits: against the .text section symbol with imm = start - 1 (static
// functions), against the function symbol with imm = -1 (global ones), or with no relocation at
// all for a call within the same section; all three name the callee's first instruction.
import { ELF as ELF_CONSTANTS, type ObjElf, type ObjRelocation, type ObjSection, type ObjSymbol } from './elf-view.js';
import { INSN_SIZE, OP, PSEUDO, insnImm, insnSrc } from './insn.js';
import { copyBytes } from '../elf/slab.js';
import { ObjectError } from './errors.js';
import type { BtfCoreRelo, BtfExt, BtfFuncInfo, BtfLineInfo } from '../btf/ext.js';
import type { Btf } from '../btf/btf.js';
import type { CoreRelocationSpec, FuncInfo, FunctionSpec, LineInfo, Relocation, RelocationTarget } from './spec.js';

// a local binding: module re-exports are getters under some loaders, and these are read per symbol
const ELF = ELF_CONSTANTS;

/** Where a symbol in a map-holding section points: which map (and offset for data). */
export interface MapLocator {
  /** the map defined at this offset of the .maps / maps section, by section index */
  mapAt(sectionIndex: number, offset: number): string | undefined;
  /** the global data map of a section index */
  dataMap(sectionIndex: number): string | undefined;
  /** '' when an undefined symbol is a .kconfig/.ksyms extern, else why it is not one */
  externProblem?(name: string): string;
}

interface RawFunction {
  name: string;
  section: ObjSection;
  start: number; // instruction index in the section
  count: number;
  global: boolean;
}

/** All functions of executable sections, in section then address order. */
export function collectFunctions(elf: ObjElf): RawFunction[] {
  const out: RawFunction[] = [];
  const sections = elf.sections;
  const exec: boolean[] = new Array(sections.length).fill(false);
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i];
    exec[i] = s.type === ELF.SHT_PROGBITS && (s.flags & ELF.SHF_EXECINSTR) !== 0 && s.size > 0;
  }
  // function symbols by section index, in symbol table order
  const bySection: (ObjSymbol[] | undefined)[] = new Array(sections.length);
  const symbols = elf.symbols;
  for (let i = 0; i < symbols.length; i++) {
    const sym = symbols[i];
    if (sym.type !== ELF.STT_FUNC || sym.shndx >= sections.length || !exec[sym.shndx]) continue;
    (bySection[sym.shndx] ??= []).push(sym);
  }
  for (let idx = 0; idx < sections.length; idx++) {
    if (!exec[idx]) continue;
    const section = sections[idx];
    const syms = bySection[idx];
    if (syms === undefined) {
      throw new ObjectError(`section ${section.name} holds code but no function symbol (was the object stripped?)`, { section: section.name });
    }
    if (!inOrder(syms)) syms.sort(byValue); // the symbol table is usually in address order already
    for (let k = 0; k < syms.length; k++) {
      const sym = syms[k];
      if (sym.value % INSN_SIZE !== 0 || sym.size % INSN_SIZE !== 0 || sym.value + sym.size > section.size) {
        throw new ObjectError(`function ${sym.name} in ${section.name}: offset ${sym.value} / size ${sym.size} are not whole instructions inside the section`, { section: section.name, program: sym.name, symbol: sym.name });
      }
      if (sym.size === 0) continue;
      out.push({ name: sym.name, section, start: sym.value / INSN_SIZE, count: sym.size / INSN_SIZE, global: sym.bind !== ELF.STB_LOCAL });
    }
  }
  return out;
}

function byValue(a: ObjSymbol, b: ObjSymbol): number {
  return a.value - b.value;
}

/** Whether `syms` are by ascending value (a stable sort would leave them as they are). */
function inOrder(syms: readonly ObjSymbol[]): boolean {
  for (let i = 1; i < syms.length; i++) if (syms[i - 1].value > syms[i].value) return false;
  return true;
}

/** Whether `relocations` are by ascending instruction (a stable sort would leave them as they are). */
function relocationsInOrder(relocations: readonly Relocation[]): boolean {
  for (let i = 1; i < relocations.length; i++) if (relocations[i - 1].insn > relocations[i].insn) return false;
  return true;
}

/** What building one function needs to know about the others. */
interface Context {
  readonly elf: ObjElf;
  readonly maps: MapLocator;
  readonly ext: BtfExt | undefined;
  /** the BTF .BTF.ext refers to (type ids, strings) */
  readonly btf: Btf | undefined;
  /** section index → its func_info and line_info records, checked and by insn_off (made on first use) */
  readonly extRecords: Map<number, SectionExt>;
  /** section index → its functions by start instruction */
  readonly starts: Map<number, Map<number, RawFunction>>;
  /** section index → its relocations by ascending offset, checked to be on instructions (made on first use) */
  readonly sortedRelocations: Map<number, readonly ObjRelocation[]>;
  /** section index → its CO-RE relocation records (with their index in the section) by ascending insn_off */
  readonly sortedCore: Map<number, readonly IndexedCoreRelo[]>;
}

interface IndexedCoreRelo {
  readonly insnOff: number;
  readonly record: BtfCoreRelo;
  readonly index: number;
}

/** Resolve the relocations of every function and cut its instructions and .BTF.ext records. */
export function buildFunctions(elf: ObjElf, raw: readonly RawFunction[], maps: MapLocator, ext: BtfExt | undefined, btf?: Btf): FunctionSpec[] {
  const starts = new Map<number, Map<number, RawFunction>>();
  for (let i = 0; i < raw.length; i++) {
    const f = raw[i];
    let m = starts.get(f.section.index);
    if (!m) starts.set(f.section.index, (m = new Map()));
    m.set(f.start, f);
  }
  const ctx: Context = { elf, maps, ext, btf, extRecords: new Map(), starts, sortedRelocations: new Map(), sortedCore: new Map() };
  const out: FunctionSpec[] = [];
  for (let i = 0; i < raw.length; i++) out.push(buildFunction(ctx, raw[i]));
  return out;
}

/** The function starting at `sectionInsn` of `section`: a call or function pointer target. */
function calleeAt(ctx: Context, f: RawFunction, section: ObjSection, sectionInsn: number, symbol: string): string {
  const fn = ctx.starts.get(section.index)?.get(sectionInsn);
  if (!fn) {
    throw new ObjectError(`function ${f.name}: call or function pointer into ${section.name} at instruction ${sectionInsn}, where no function starts${symbol ? ` (symbol ${symbol})` : ''}`, { section: f.section.name, program: f.name, symbol });
  }
  if (section.name !== '.text') {
    throw new ObjectError(`function ${f.name}: calls ${fn.name} in section ${section.name}; called functions must be in .text (programs cannot call programs)`, { section: f.section.name, program: f.name, symbol: fn.name });
  }
  return fn.name;
}

/**
 * The relocations of `f`'s section by ascending offset, sorted once per section (clang emits them in
 * order already), so each function finds its own by binary search instead of scanning them all.
 */
function sortedRelocations(ctx: Context, f: RawFunction): readonly ObjRelocation[] {
  const index = f.section.index;
  let rels = ctx.sortedRelocations.get(index);
  if (rels === undefined) {
    const all = ctx.elf.relocationsFor(index);
    let ordered = true;
    for (let k = 0; k < all.length; k++) {
      const r = all[k];
      if (r.offset % INSN_SIZE !== 0) throw new ObjectError(`relocation at byte ${r.offset} of ${f.section.name} is not on an instruction`, { section: f.section.name, program: f.name });
      if (k > 0 && all[k - 1].offset > r.offset) ordered = false;
    }
    rels = ordered ? all : all.slice().sort(byOffset);
    ctx.sortedRelocations.set(index, rels);
  }
  return rels;
}

function byOffset(a: ObjRelocation, b: ObjRelocation): number {
  return a.offset - b.offset;
}

/** Index of the first of `items` (ascending by `at`) whose `at` is `target` or more: a binary search. */
function firstAtOrAfter<T>(items: readonly T[], at: (item: T) => number, target: number): number {
  let lo = 0;
  let hi = items.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (at(items[mid]) < target) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

function relocationOffset(r: ObjRelocation): number {
  return r.offset;
}

function recordInsnOff(r: { readonly insnOff: number }): number {
  return r.insnOff;
}

function byInsn(a: Relocation, b: Relocation): number {
  return a.insn - b.insn;
}

/** Whether one of `relocations` is at instruction `i`. */
function relocated(relocations: readonly Relocation[], i: number): boolean {
  for (let k = 0; k < relocations.length; k++) if (relocations[k].insn === i) return true;
  return false;
}

function buildFunction(ctx: Context, f: RawFunction): FunctionSpec {
  const { elf, ext } = ctx;
  const le = elf.littleEndian;
  const code = copyBytes(f.section.data, f.start * INSN_SIZE, (f.start + f.count) * INSN_SIZE);
  const count = f.count;
  const relocations: Relocation[] = [];

  const rels = sortedRelocations(ctx, f);
  const end = (f.start + count) * INSN_SIZE;
  for (let k = firstAtOrAfter(rels, relocationOffset, f.start * INSN_SIZE); k < rels.length && rels[k].offset < end; k++) {
    const r = rels[k];
    const i = r.offset / INSN_SIZE - f.start;
    const sym = elf.symbols[r.symbol];
    if (!sym) throw new ObjectError(`relocation at instruction ${i} of ${f.name} names symbol #${r.symbol}, which does not exist`, { section: f.section.name, program: f.name });
    const symName = sym.name || (sym.type === ELF.STT_SECTION ? (elf.sections[sym.shndx]?.name ?? '') : '');
    const target = resolve(ctx, f, code, i, sym, symName);
    relocations.push({ insn: i, target, symbol: symName });
  }
  // calls within the same section carry no relocation: imm is relative to the call itself
  // (a lookup table of relocated instructions only where a linear search could grow long)
  const seen = relocations.length > 16 ? new Uint8Array(count) : undefined;
  if (seen) for (const r of relocations) seen[r.insn] = 1;
  for (let i = 0; i < count; i++) {
    const op = code[i * INSN_SIZE];
    if (op !== OP.CALL && op !== OP.LD_IMM64) continue;
    if (seen ? seen[i] === 1 : relocated(relocations, i)) continue;
    const src = insnSrc(code, i, le);
    if (op === OP.CALL && src === PSEUDO.CALL) {
      const callee = calleeAt(ctx, f, f.section, f.start + i + insnImm(code, i, le) + 1, '');
      relocations.push({ insn: i, target: { kind: 'call', function: callee }, symbol: '' });
    } else if (op === OP.LD_IMM64 && src === PSEUDO.FUNC) {
      throw new ObjectError(`function ${f.name}: function pointer at instruction ${i} has no relocation`, { section: f.section.name, program: f.name });
    }
    if (op === OP.LD_IMM64) i++; // the second half of a 16-byte load is no instruction of its own
  }
  if (!relocationsInOrder(relocations)) relocations.sort(byInsn);

  const lo = f.start * INSN_SIZE;
  const hi = (f.start + f.count) * INSN_SIZE;
  const funcInfo: FuncInfo[] = [];
  const lineInfo: LineInfo[] = [];
  if (ext) {
    const recs = sectionExt(ctx, f.section);
    const fis = recs.funcInfo;
    for (let k = firstAtOrAfter(fis, recordInsnOff, lo); k < fis.length && fis[k].insnOff < hi; k++) {
      funcInfo.push({ insn: (fis[k].insnOff - lo) / INSN_SIZE, typeId: fis[k].typeId });
    }
    const lis = recs.lineInfo;
    for (let k = firstAtOrAfter(lis, recordInsnOff, lo); k < lis.length && lis[k].insnOff < hi; k++) {
      const r = lis[k];
      lineInfo.push({ insn: (r.insnOff - lo) / INSN_SIZE, fileNameOff: r.fileNameOff, lineOff: r.lineOff, lineCol: r.lineCol });
    }
  }
  const coreRelos: CoreRelocationSpec[] = [];
  const core = sortedCore(ctx, f.section);
  for (let k = firstAtOrAfter(core, recordInsnOff, lo); k < core.length && core[k].insnOff < hi; k++) {
    const { record: r, index } = core[k];
    if (r.insnOff % INSN_SIZE !== 0) throw new ObjectError(`function ${f.name}: CO-RE relocation ${index} of ${f.section.name} is not on an instruction`, { section: f.section.name, program: f.name });
    coreRelos.push({ insn: (r.insnOff - lo) / INSN_SIZE, typeId: r.typeId, accessStr: r.accessStr, kind: r.kind, index });
  }
  // in record order, as the section lists them (sorting by insn_off kept equal offsets in that order)
  if (!coreInRecordOrder(coreRelos)) coreRelos.sort((a, b) => a.index - b.index);
  return { name: f.name, section: f.section.name, sectionInsn: f.start, instructions: code, relocations, funcInfo, lineInfo, coreRelos, global: f.global };
}

/** The func_info and line_info records of one section, checked, by ascending insn_off. */
interface SectionExt {
  readonly funcInfo: readonly BtfFuncInfo[];
  readonly lineInfo: readonly BtfLineInfo[];
}

/**
 * The CO-RE relocation records of `section` by ascending insn_off, each with its index in the
 * section, sorted once per section so each function finds its own by binary search (a scan of the
 * whole section per function was quadratic in the number of functions).
 */
function sortedCore(ctx: Context, section: ObjSection): readonly IndexedCoreRelo[] {
  let core = ctx.sortedCore.get(section.index);
  if (core === undefined) {
    const recs = ctx.ext?.coreRelos.get(section.name) ?? [];
    core = byInsnOff(recs.map((record, index) => ({ insnOff: record.insnOff, record, index })));
    ctx.sortedCore.set(section.index, core);
  }
  return core;
}

function coreInRecordOrder(relos: readonly CoreRelocationSpec[]): boolean {
  for (let k = 1; k < relos.length; k++) if (relos[k - 1].index > relos[k].index) return false;
  return true;
}

const NO_EXT: SectionExt = Object.freeze({ funcInfo: [], lineInfo: [] });

/**
 * The .BTF.ext func_info and line_info records of `section`, checked once per section as the kernel
 * checks them at PROG_LOAD (check_btf_func, check_btf_line): each insn_off on an instruction inside
 * the section, func_info naming a FUNC, line_info's file and line strings inside the BTF strings.
 * A bad record is an ObjectError naming the section and the record, not a fractional instruction.
 */
function sectionExt(ctx: Context, section: ObjSection): SectionExt {
  let recs = ctx.extRecords.get(section.index);
  if (recs !== undefined) return recs;
  const fis = ctx.ext?.funcInfo.get(section.name);
  const lis = ctx.ext?.lineInfo.get(section.name);
  if (!fis && !lis) {
    ctx.extRecords.set(section.index, NO_EXT);
    return NO_EXT;
  }
  const btf = ctx.btf;
  const where = { section: section.name };
  if (fis) {
    for (let k = 0; k < fis.length; k++) {
      const r = fis[k];
      checkInsnOff(section, 'func_info', k, r.insnOff);
      const why = btf === undefined ? 'there is no BTF'
        : r.typeId === 0 || r.typeId >= btf.typeCount ? `valid ids are 1…${btf.typeCount - 1}`
          : btf.kindNum(r.typeId) !== FUNC_KIND ? `it is a ${btf.kindOf(r.typeId)}` : '';
      if (why) throw new ObjectError(`func_info record ${k} of section ${section.name}: type id ${r.typeId} is not a FUNC (${why})`, where);
    }
  }
  if (lis) {
    for (let k = 0; k < lis.length; k++) {
      const r = lis[k];
      checkInsnOff(section, 'line_info', k, r.insnOff);
      for (const [field, off] of [['file_name_off', r.fileNameOff], ['line_off', r.lineOff]] as const) {
        if (btf === undefined || !btf.strings.has(off)) {
          throw new ObjectError(`line_info record ${k} of section ${section.name}: ${field} ${off} is outside the BTF string section`, where);
        }
      }
    }
  }
  recs = { funcInfo: fis ? byInsnOff(fis) : [], lineInfo: lis ? byInsnOff(lis) : [] };
  ctx.extRecords.set(section.index, recs);
  return recs;
}

const FUNC_KIND = 12; // BTF_KIND_FUNC

function checkInsnOff(section: ObjSection, what: string, k: number, insnOff: number): void {
  if (insnOff % INSN_SIZE !== 0) {
    throw new ObjectError(`${what} record ${k} of section ${section.name}: insn_off ${insnOff} is not on an instruction (a multiple of ${INSN_SIZE})`, { section: section.name });
  }
  if (insnOff >= section.size) {
    throw new ObjectError(`${what} record ${k} of section ${section.name}: insn_off ${insnOff} is outside the section (${section.size} bytes)`, { section: section.name });
  }
}

/** `recs` by ascending insn_off (as clang writes them; a sorted copy otherwise). */
function byInsnOff<T extends { readonly insnOff: number }>(recs: readonly T[]): readonly T[] {
  for (let k = 1; k < recs.length; k++) {
    if (recs[k - 1].insnOff > recs[k].insnOff) return recs.slice().sort((a, b) => a.insnOff - b.insnOff);
  }
  return recs;
}

function resolve(ctx: Context, f: RawFunction, insns: Uint8Array, i: number, sym: ObjSymbol, symName: string): RelocationTarget {
  const { elf, maps } = ctx;
  const le = elf.littleEndian;
  const where = { section: f.section.name, program: f.name, symbol: symName };
  const code = insns[i * INSN_SIZE];
  if (sym.shndx === ELF.SHN_UNDEF) {
    const why = symName ? maps.externProblem?.(symName) : undefined;
    if (why === '' && (code === OP.LD_IMM64 || code === OP.CALL)) return { kind: 'extern', name: symName };
    throw new ObjectError(`function ${f.name}: instruction ${i} refers to ${symName || 'an unnamed symbol'}, which is defined nowhere in the object${why ? ` (${why})` : ''}`, where);
  }
  const section = elf.sections[sym.shndx];
  if (!section || sym.shndx >= ELF.SHN_ABS) {
    throw new ObjectError(`function ${f.name}: instruction ${i} refers to ${symName} in section #${sym.shndx}, which holds nothing loadable`, where);
  }
  if (code === OP.CALL) {
    if (insnSrc(insns, i, le) !== PSEUDO.CALL) {
      throw new ObjectError(`function ${f.name}: call at instruction ${i} to ${symName} is not a BPF-to-BPF call (src_reg ${insnSrc(insns, i, le)})`, where);
    }
    if ((section.flags & ELF.SHF_EXECINSTR) === 0) throw new ObjectError(`function ${f.name}: call at instruction ${i} to ${symName}, which is not code`, where);
    return { kind: 'call', function: calleeAt(ctx, f, section, sym.value / INSN_SIZE + insnImm(insns, i, le) + 1, symName) };
  }
  if (code !== OP.LD_IMM64 || i + 1 >= insns.length / INSN_SIZE) {
    throw new ObjectError(`function ${f.name}: relocation against ${symName} at instruction ${i} (opcode 0x${code.toString(16)}) is neither a 64-bit load nor a call`, where);
  }
  if ((section.flags & ELF.SHF_EXECINSTR) !== 0) {
    const off = sym.value + insnImm(insns, i, le);
    if (off % INSN_SIZE !== 0) throw new ObjectError(`function ${f.name}: function pointer to ${symName}+${insnImm(insns, i, le)} is not on an instruction`, where);
    return { kind: 'func', function: calleeAt(ctx, f, section, off / INSN_SIZE, symName) };
  }
  const data = maps.dataMap(sym.shndx);
  if (data !== undefined) return { kind: 'data', map: data, offset: sym.value + insnImm(insns, i, le) };
  // a map symbol: the map defined at this offset (section symbols add the offset in imm)
  const off = sym.type === ELF.STT_SECTION ? insnImm(insns, i, le) : sym.value;
  const map = maps.mapAt(sym.shndx, off);
  if (map !== undefined) return { kind: 'map', map };
  throw new ObjectError(`function ${f.name}: instruction ${i} refers to ${symName} in section ${section.name}, which is neither a map nor global data${section.name === '.maps' ? ' (a static map? maps must be global)' : ''}`, where);
}
