// readObject: bytes of a clang-built .o → ObjectSpec (programs, subprograms, maps, variables).
// Pure and deterministic: no syscall, no clock, no environment; the same bytes give the same spec.
import { readFileSync } from 'node:fs';
import { basename } from 'node:path';
import { attachTypeName, progTypeName, BPF_PROG_FLAG } from '../syscall/types.js';
import { TsbpfError } from '../errors.js';
import { ELF as ELF_CONSTANTS, type ObjElf, type ObjSection } from './elf-view.js';
import { attachTarget, sectionDef, type SectionDef } from './sections.js';
import { collectFunctions, buildFunctions, type MapLocator } from './functions.js';
import { cString } from '../elf/cstring.js';
import { btfMaps, dataKind, dataMap, legacyMaps, type PlacedMap } from './maps.js';
import { sectionVariables, encodeVariable, type VariableValue } from './variables.js';
import { ObjectError } from './errors.js';
import { openObjectFile, type ObjectSource } from './source.js';
import { externProblem, kconfigMapSpec } from './externs.js';
import type { FunctionSpec, MapSpec, ProgramSpec, VariableSpec } from './spec.js';

// a local binding: module re-exports are getters under some loaders, and these are read per symbol
const ELF = ELF_CONSTANTS;
const utf8 = new TextDecoder();

export interface ReadObjectOptions {
  /** object name used in global data map names (default: the file name up to its first '.') */
  name?: string;
}

/** Where a .maps map's static `.values` slot points, before it is resolved to names. */
interface ValueSlot { map: string; index: number; symbol: string }

export class ObjectSpec {
  /** the object name (file name up to its first '.'), the prefix of global data map names */
  declare readonly name: string;
  declare readonly littleEndian: boolean;
  /** ELF e_machine (247 = BPF) */
  declare readonly machine: number;
  /** programs by function name, in section order */
  declare readonly programs: Map<string, ProgramSpec>;
  /** .text functions (subprograms) by name */
  declare readonly functions: Map<string, FunctionSpec>;
  /** maps by name: BTF-defined and legacy maps by symbol, global data maps by section ('.rodata') */
  declare readonly maps: Map<string, MapSpec>;
  /** global variables by name */
  declare readonly variables: Map<string, VariableSpec>;
  declare readonly license: string;
  declare readonly kernelVersion: number;
  /** the object's raw .BTF, its parsed view and .BTF.ext, for the loader */
  declare readonly source: ObjectSource;

  constructor(init: Omit<ObjectSpec, 'setConstants' | 'setVariable' | 'copy'>) {
    this.name = init.name;
    this.littleEndian = init.littleEndian;
    this.machine = init.machine;
    this.programs = init.programs;
    this.functions = init.functions;
    this.maps = init.maps;
    this.variables = init.variables;
    this.license = init.license;
    this.kernelVersion = init.kernelVersion;
    this.source = init.source;
  }

  /** Set the initial value of a global variable (const volatile included) in its map's data. */
  setVariable(name: string, value: VariableValue): void {
    const v = this.variables.get(name);
    if (!v) {
      const known = [...this.variables.keys()];
      throw new ObjectError(`no global variable ${name} in object ${this.name}${known.length ? ` (variables: ${known.join(', ')})` : ''}`, { symbol: name });
    }
    const m = this.maps.get(v.map);
    if (!m?.data) throw new ObjectError(`variable ${name}: its map ${v.map} has no data`, { map: v.map, symbol: name });
    const bytes = encodeVariable(v, value, this.littleEndian);
    if (!(v.offset >= 0 && v.offset + bytes.length <= m.data.length)) {
      throw new ObjectError(`variable ${name}: bytes ${v.offset}…${v.offset + bytes.length} lie outside its map ${v.map}'s ${m.data.length} bytes of data`, { map: v.map, symbol: name });
    }
    m.data.set(bytes, v.offset);
  }

  /** setVariable for each entry (constants: { only_dport: 53 }). */
  setConstants(values: Readonly<Record<string, VariableValue>>): void {
    for (const [k, v] of Object.entries(values)) this.setVariable(k, v);
  }

  /** A deep copy: editing it leaves this spec as it was. */
  copy(): ObjectSpec {
    const cloneMap = (m: MapSpec): MapSpec => {
      const c = Object.create(Object.getPrototypeOf(m), Object.getOwnPropertyDescriptors(m)) as MapSpec;
      if (m.data) c.data = m.data.slice();
      if (m.values) c.values = m.values.slice();
      if (m.inner) c.inner = cloneMap(m.inner);
      return c;
    };
    return new ObjectSpec({
      ...this,
      programs: new Map([...this.programs].map(([k, p]) => [k, Object.create(Object.getPrototypeOf(p), Object.getOwnPropertyDescriptors(p)) as ProgramSpec])),
      functions: new Map(this.functions),
      maps: new Map([...this.maps].map(([k, m]) => [k, cloneMap(m)])),
      variables: new Map(this.variables),
    });
  }
}

/** The object name libbpf would give a file: its base name up to the first '.'. */
export function objectNameOf(path: string): string {
  const b = basename(path);
  const dot = b.indexOf('.');
  return dot < 0 ? b : b.slice(0, dot);
}

/** Read a BPF object file (path or bytes) into an ObjectSpec. Throws ParseError / ObjectError. */
export function readObject(pathOrBytes: string | Uint8Array, o: ReadObjectOptions = {}): ObjectSpec {
  let bytes: Uint8Array;
  if (typeof pathOrBytes === 'string') {
    try {
      bytes = readFileSync(pathOrBytes);
    } catch (e) {
      throw new ObjectError(`cannot read object file ${pathOrBytes}: ${(e as Error).message}`, {}, { cause: e });
    }
  } else {
    bytes = pathOrBytes;
  }
  // a plain Uint8Array view: Buffer's slice() would alias the file's bytes instead of copying them
  bytes = new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const name = o.name ?? (typeof pathOrBytes === 'string' ? objectNameOf(pathOrBytes) : 'obj');
  const step: ReadStep = { what: 'parsing ELF, BTF and .BTF.ext', section: undefined };
  try {
    return build(openObjectFile(bytes), name, step);
  } catch (e) {
    if (e instanceof TsbpfError) throw e;
    throw readerBug(e, name, step);
  }
}

/** What readObject was doing: the place a reader bug is reported at. */
export interface ReadStep {
  what: string;
  section: string | undefined;
}

/**
 * An error no check anticipated (a reader bug) as an ObjectError that still says where it happened
 * (the step and section) and what it was, never a bare RangeError/TypeError; the original is the cause.
 */
export function readerBug(e: unknown, name: string, step: Readonly<ReadStep>): ObjectError {
  const err = e instanceof Error ? e : undefined;
  const at = step.section !== undefined ? `${step.what} (section ${step.section})` : step.what;
  return new ObjectError(`object ${name}: unexpected ${err?.name ?? 'error'} while ${at}: ${err?.message ?? String(e)}`, { section: step.section }, { cause: e });
}

function build(src: ObjectSource, name: string, step: ReadStep): ObjectSpec {
  const elf = src.elf;
  step.what = 'reading sections';
  if (elf.machine !== ELF.EM_BPF && elf.machine !== ELF.EM_NONE) throw new ObjectError(`object ${name} is not a BPF object: ELF machine ${elf.machine} (BPF is ${ELF.EM_BPF})`);
  if (!elf.is64) throw new ObjectError(`object ${name} is not a 64-bit ELF file`);
  if (elf.fileType !== 1) throw new ObjectError(`object ${name} is not a relocatable object (ELF type ${elf.fileType}); give the .o clang made`);

  let license = '';
  let kernelVersion = 0;
  const placed: PlacedMap[] = [];
  const dataSections = new Map<number, string>();
  const variables = new Map<string, VariableSpec>();
  let mapsSection: ObjSection | undefined;

  // indexed loops here and below: before V8 optimizes this code, for-of makes an iterator result per step
  const sections = elf.sections;
  for (let i = 0; i < sections.length; i++) {
    const s = sections[i];
    step.section = s.name;
    if (s.name === 'license') {
      const d = s.data;
      license = (d.length > 0 ? cString(d, 0, d.length) : '') ?? utf8.decode(d);
    } else if (s.name === 'version') {
      if (s.data.length !== 4) throw new ObjectError(`version section is ${s.data.length} bytes, not 4`, { section: 'version' });
      kernelVersion = new DataView(s.data.buffer, s.data.byteOffset, 4).getUint32(0, elf.littleEndian);
    } else if (s.name === '.maps') {
      mapsSection = s;
    } else if (s.name === 'maps') {
      placed.push(...legacyMaps(elf, s));
    } else if ((s.type === ELF.SHT_PROGBITS || s.type === ELF.SHT_NOBITS) && (s.flags & ELF.SHF_EXECINSTR) === 0 && s.size > 0) {
      const kind = dataKind(s.name);
      if (!kind) continue;
      const m = dataMap(name, s, kind, src.btf, src.hidden);
      placed.push(m);
      dataSections.set(s.index, m.spec.name);
      const vars = sectionVariables(elf, src.btf, s, kind === 'rodata');
      for (let k = 0; k < vars.length; k++) {
        const v = vars[k];
        if (variables.has(v.name)) throw new ObjectError(`variable ${v.name} is defined twice (${variables.get(v.name)!.map} and ${v.map})`, { symbol: v.name });
        variables.set(v.name, v);
      }
    }
  }
  step.what = 'reading map definitions';
  step.section = mapsSection?.name;
  if (mapsSection) placed.push(...btfMaps(elf, src.btf, mapsSection));
  step.section = undefined;

  const maps = new Map<string, MapSpec>();
  for (let i = 0; i < placed.length; i++) {
    const p = placed[i];
    if (maps.has(p.spec.name)) throw new ObjectError(`map name ${p.spec.name} is used twice in object ${name}`, { map: p.spec.name });
    maps.set(p.spec.name, p.spec);
  }
  // .kconfig externs live in a map of their own (lib/object/externs.ts)
  step.what = 'laying out .kconfig and .ksyms externs';
  const kconfig = kconfigMapSpec(name, src);
  if (kconfig) maps.set(kconfig.name, kconfig);
  step.what = 'reading functions and their relocations';
  const fns = buildFunctions(elf, collectFunctions(elf), new Locator(placed, dataSections, src), src.ext, src.btf);
  const programs = new Map<string, ProgramSpec>();
  const functions = new Map<string, FunctionSpec>();
  for (let i = 0; i < fns.length; i++) {
    const f = fns[i];
    if (programs.has(f.name) || functions.has(f.name)) {
      throw new ObjectError(`function name ${f.name} is defined twice in object ${name}`, { program: f.name, section: f.section });
    }
    if (f.section === '.text') {
      functions.set(f.name, f);
      continue;
    }
    if (!f.global) throw new ObjectError(`program ${f.name} in section ${f.section} is static: programs must be global functions`, { program: f.name, section: f.section });
    programs.set(f.name, programSpec(f, license, kernelVersion));
  }
  for (const n of maps.keys()) {
    if (programs.has(n)) throw new ObjectError(`name ${n} is both a program and a map in object ${name}`, { map: n, program: n });
  }
  step.what = 'resolving static .values of maps';
  step.section = mapsSection?.name;
  if (mapsSection) resolveValues(elf, mapsSection, placed, programs, maps);

  return new ObjectSpec({ name, littleEndian: elf.littleEndian, machine: elf.machine, programs, functions, maps, variables, license, kernelVersion, source: src });
}

/** Where relocations point (functions.ts): a class, as closures made per object cost a __name() each under tsx. */
class Locator implements MapLocator {
  constructor(private readonly placed: readonly PlacedMap[], private readonly dataSections: ReadonlyMap<number, string>, private readonly src: ObjectSource) {}

  mapAt(idx: number, off: number): string | undefined {
    const placed = this.placed;
    for (let i = 0; i < placed.length; i++) {
      const p = placed[i];
      if (p.sectionIndex === idx && p.offset === off && p.spec.kind !== 'data') return p.spec.name;
    }
    return undefined;
  }

  dataMap(idx: number): string | undefined {
    return this.dataSections.get(idx);
  }

  externProblem(n: string): string {
    return externProblem(this.src, n);
  }
}

/** A program's spec: a class so the derived names live on the prototype (object literals with getters are slow to build). */
class Program implements ProgramSpec {
  // `declare`d, assigned in the constructor: see MapDef in maps.ts
  declare readonly name: string;
  declare readonly section: string;
  declare readonly sectionInsn: number;
  declare readonly instructions: Uint8Array;
  declare readonly relocations: FunctionSpec['relocations'];
  declare readonly funcInfo: FunctionSpec['funcInfo'];
  declare readonly lineInfo: FunctionSpec['lineInfo'];
  declare readonly coreRelos: FunctionSpec['coreRelos'];
  declare readonly global: boolean;
  declare type: number;
  declare attachType: number;
  declare attachTo: string;
  declare flags: number;
  declare autoload: boolean;
  declare license: string;
  declare kernelVersion: number;
  declare readonly sectionDef?: SectionDef;

  constructor(f: FunctionSpec, def: SectionDef, license: string, kernelVersion: number) {
    this.name = f.name;
    this.section = f.section;
    this.sectionInsn = f.sectionInsn;
    this.instructions = f.instructions;
    this.relocations = f.relocations;
    this.funcInfo = f.funcInfo;
    this.lineInfo = f.lineInfo;
    this.coreRelos = f.coreRelos;
    this.global = f.global;
    this.type = def.progType;
    this.attachType = def.attachType;
    this.attachTo = attachTarget(f.section, def);
    this.flags = (def.sleepable ? BPF_PROG_FLAG.SLEEPABLE : 0) | (def.xdpFrags ? BPF_PROG_FLAG.XDP_HAS_FRAGS : 0);
    this.autoload = !f.section.startsWith('?');
    this.license = license;
    this.kernelVersion = kernelVersion;
    this.sectionDef = def;
  }

  get typeName(): string {
    return progTypeName(this.type);
  }

  get attachTypeName(): string {
    return this.attachType ? attachTypeName(this.attachType) : '';
  }
}

function programSpec(f: FunctionSpec, license: string, kernelVersion: number): ProgramSpec {
  return new Program(f, sectionDef(f.section, f.name), license, kernelVersion);
}

/** Static `.values = { … }` of prog arrays and maps of maps: relocations in .rel.maps name the slots. */
function resolveValues(elf: ObjElf, section: ObjSection, placed: readonly PlacedMap[], programs: ReadonlyMap<string, ProgramSpec>, maps: ReadonlyMap<string, MapSpec>): void {
  const slots: ValueSlot[] = [];
  for (const r of elf.relocationsFor(section.index)) {
    const owner = placed.find((p) => p.sectionIndex === section.index && r.offset >= p.offset && r.offset < p.offset + p.size);
    const sym = elf.symbols[r.symbol];
    if (!owner || !sym) throw new ObjectError(`relocation at byte ${r.offset} of .maps is inside no map`, { section: '.maps' });
    if (owner.valuesOffset === undefined) throw new ObjectError(`map ${owner.spec.name}: relocation at byte ${r.offset - owner.offset} of its definition, which has no values member`, { map: owner.spec.name });
    const rel = r.offset - owner.offset - owner.valuesOffset;
    if (rel < 0 || rel % 8 !== 0) throw new ObjectError(`map ${owner.spec.name}: values relocation at byte ${rel} is not a slot`, { map: owner.spec.name });
    slots.push({ map: owner.spec.name, index: rel / 8, symbol: sym.name });
  }
  for (const s of slots) {
    const m = maps.get(s.map)!;
    const isProgArray = m.inner === undefined;
    if (isProgArray ? !programs.has(s.symbol) : !maps.has(s.symbol)) {
      throw new ObjectError(`map ${s.map}: slot ${s.index} refers to ${s.symbol}, which is not a ${isProgArray ? 'program' : 'map'} of this object`, { map: s.map, symbol: s.symbol });
    }
    if (s.index >= m.maxEntries) throw new ObjectError(`map ${s.map}: slot ${s.index} is beyond max_entries ${m.maxEntries}`, { map: s.map });
    m.values ??= [];
    m.values[s.index] = s.symbol;
  }
}
