// Map definitions of an object: BTF-defined maps in `.maps` (the struct of __uint/__type/__array
// members clang describes in BTF), legacy `maps` sections (struct bpf_map_def, and iproute2's
// longer struct bpf_elf_map), and one single-entry array per global data section.
import { BPF_MAP_TYPE, BPF_MAP_FLAG, mapTypeName } from '../syscall/types.js';
import { ELF as ELF_CONSTANTS, type ObjElf, type ObjSection, type ObjSymbol } from './elf-view.js';
import type { Btf } from '../btf/btf.js';
import type { BtfComposite } from '../btf/types.js';
import { ObjectError } from './errors.js';
import { copyBytes, zeroedBytes } from '../elf/slab.js';
import type { MapSpec, PinningType } from './spec.js';
import { MAX_ARRAY_VALUE_SIZE } from './limits.js';

// a local binding: module re-exports are getters under some loaders, and these are read per symbol
const ELF = ELF_CONSTANTS;

/** A map and where it sits in its section (for relocations and static .values). */
export interface PlacedMap {
  spec: MapSpec;
  sectionIndex: number;
  offset: number;
  size: number;
  /** .maps: byte offset of the `values` member inside the definition */
  valuesOffset?: number;
}

const BPF_OBJ_NAME_LEN = 16;
const LIBBPF_PIN_BY_NAME = 1;
// iproute2's pinning values (PIN_OBJECT_NS 1 is per object and has no libbpf equivalent)
const IPROUTE2_PIN_GLOBAL_NS = 2;

/** A map's spec: a class so typeName lives on the prototype (object literals with getters are slow to build). */
class MapDef implements MapSpec {
  // `declare`d and assigned in the constructor (in the order class fields had): fields proper are
  // defined by an initializer first, a second pass over every property before V8 optimizes
  declare name: string;
  declare kernelName: string;
  declare type: number;
  declare keySize: number;
  declare valueSize: number;
  declare maxEntries: number;
  declare flags: number;
  declare numaNode: number;
  declare mapExtra: bigint;
  declare pinning: PinningType;
  declare keyTypeId: number;
  declare valueTypeId: number;
  declare readonly kind: MapSpec['kind'];
  declare readonly section: string;
  declare inner?: MapSpec;
  declare values?: (string | undefined)[];
  declare data?: Uint8Array;
  declare readonly readOnly: boolean;

  constructor(name: string, kind: MapSpec['kind'], section: string, readOnly: boolean) {
    this.name = name;
    this.kernelName = name.slice(0, BPF_OBJ_NAME_LEN - 1);
    this.type = 0;
    this.keySize = 0;
    this.valueSize = 0;
    this.maxEntries = 0;
    this.flags = 0;
    this.numaNode = 0;
    this.mapExtra = 0n;
    this.pinning = 'none';
    this.keyTypeId = 0;
    this.valueTypeId = 0;
    this.kind = kind;
    this.section = section;
    this.inner = undefined;
    this.values = undefined;
    this.data = undefined;
    this.readOnly = readOnly;
  }

  get typeName(): string {
    return mapTypeName(this.type);
  }
}

function blankMap(name: string, kind: MapSpec['kind'], section: string, readOnly = false): MapSpec {
  return new MapDef(name, kind, section, readOnly);
}

/** __uint(name, N) is `int (*name)[N]`: the array's element count. */
function fieldInt(btf: Btf, map: string, field: string, typeId: number): number {
  const t = btf.type(btf.skipTypedefs(typeId));
  const arr = t.kind === 'ptr' ? btf.type(t.type) : undefined;
  if (!arr || arr.kind !== 'array') {
    const got = arr ? `a pointer to ${arr.kind}` : t.kind;
    throw new ObjectError(`map ${map}: field ${field} should be __uint(${field}, N) (a pointer to an array), got ${got}`, { map });
  }
  return arr.nelems;
}

/** __ulong(name, N) (an enum of one value) or __uint. */
function fieldLong(btf: Btf, map: string, field: string, typeId: number): bigint {
  const t = btf.type(btf.skipTypedefs(typeId));
  if (t.kind === 'ptr') return BigInt(fieldInt(btf, map, field, typeId));
  if ((t.kind === 'enum' || t.kind === 'enum64') && t.values.length === 1) return BigInt.asUintN(64, BigInt(t.values[0].value));
  throw new ObjectError(`map ${map}: field ${field} should be __ulong(${field}, N) or __uint, got ${t.kind}`, { map });
}

/** __type(name, T) is `T *name`: the pointed-to type (not skipping typedefs, as libbpf). */
function fieldType(btf: Btf, map: string, field: string, typeId: number): number {
  const t = btf.type(typeId);
  if (t.kind !== 'ptr') throw new ObjectError(`map ${map}: field ${field} should be __type(${field}, T) (a pointer), got ${t.kind}`, { map });
  return t.type;
}

/** key_size/value_size, given directly or by the key/value type: both must agree. */
function setSize(m: MapSpec, which: 'keySize' | 'valueSize', n: number): void {
  if (m[which] !== 0 && m[which] !== n) throw new ObjectError(`map ${m.name}: conflicting ${which === 'keySize' ? 'key' : 'value'} size ${m[which]} != ${n}`, { map: m.name });
  m[which] = n;
}

/** Fill `m` from the members of a map definition struct; returns the byte offset of `values` if any. */
function parseDef(btf: Btf, m: MapSpec, def: BtfComposite, inner: boolean): number | undefined {
  let valuesOffset: number | undefined;
  const members = def.members;
  for (let i = 0; i < members.length; i++) {
    const mem = members[i];
    switch (mem.name) {
      case 'type': m.type = fieldInt(btf, m.name, mem.name, mem.type); break;
      case 'max_entries': m.maxEntries = fieldInt(btf, m.name, mem.name, mem.type); break;
      case 'map_flags': m.flags = fieldInt(btf, m.name, mem.name, mem.type); break;
      case 'numa_node': m.numaNode = fieldInt(btf, m.name, mem.name, mem.type); break;
      case 'key_size': setSize(m, 'keySize', fieldInt(btf, m.name, mem.name, mem.type)); break;
      case 'value_size': setSize(m, 'valueSize', fieldInt(btf, m.name, mem.name, mem.type)); break;
      case 'key': {
        const id = fieldType(btf, m.name, mem.name, mem.type);
        setSize(m, 'keySize', btf.resolveSize(id));
        m.keyTypeId = id;
        break;
      }
      case 'value': {
        const id = fieldType(btf, m.name, mem.name, mem.type);
        setSize(m, 'valueSize', btf.resolveSize(id));
        m.valueTypeId = id;
        break;
      }
      case 'map_extra': m.mapExtra = fieldLong(btf, m.name, mem.name, mem.type); break;
      case 'pinning': {
        if (inner) throw new ObjectError(`map ${m.name}: an inner map definition cannot be pinned`, { map: m.name });
        const v = fieldInt(btf, m.name, mem.name, mem.type);
        if (v !== 0 && v !== LIBBPF_PIN_BY_NAME) throw new ObjectError(`map ${m.name}: invalid pinning value ${v} (0 none, 1 LIBBPF_PIN_BY_NAME)`, { map: m.name });
        m.pinning = v === LIBBPF_PIN_BY_NAME ? 'byName' : 'none';
        break;
      }
      case 'values': {
        if (inner) throw new ObjectError(`map ${m.name}: multi-level inner maps are not supported`, { map: m.name });
        if (i !== members.length - 1) throw new ObjectError(`map ${m.name}: the values member must be the last one`, { map: m.name });
        const mapInMap = m.type === BPF_MAP_TYPE.ARRAY_OF_MAPS || m.type === BPF_MAP_TYPE.HASH_OF_MAPS;
        if (!mapInMap && m.type !== BPF_MAP_TYPE.PROG_ARRAY) {
          throw new ObjectError(`map ${m.name}: __array(values, …) needs a map-in-map or prog array type (got ${mapTypeName(m.type)})`, { map: m.name });
        }
        setSize(m, 'valueSize', 4);
        const arr = btf.type(mem.type);
        if (arr.kind !== 'array' || arr.nelems !== 0) throw new ObjectError(`map ${m.name}: values must be a zero-sized array`, { map: m.name });
        const ptr = btf.type(btf.skipTypedefs(arr.type));
        if (ptr.kind !== 'ptr') throw new ObjectError(`map ${m.name}: values must be an array of pointers, got ${ptr.kind}`, { map: m.name });
        const target = btf.type(btf.skipTypedefs(ptr.type));
        if (m.type === BPF_MAP_TYPE.PROG_ARRAY) {
          if (target.kind !== 'func_proto') throw new ObjectError(`map ${m.name}: prog array values must point to functions, got ${target.kind}`, { map: m.name });
        } else {
          if (target.kind !== 'struct') throw new ObjectError(`map ${m.name}: inner map definition must be a struct, got ${target.kind}`, { map: m.name });
          const innerSpec = blankMap(`${m.name}.inner`, 'btf', m.section);
          parseDef(btf, innerSpec, target, true);
          m.inner = innerSpec;
        }
        valuesOffset = mem.bitOffset / 8;
        break;
      }
      default:
        // unknown fields are tolerated (libbpf's non-strict mode); they change nothing in the kernel
        break;
    }
  }
  if (m.type === 0) throw new ObjectError(`map ${m.name}: no map type given (__uint(type, BPF_MAP_TYPE_…))`, { map: m.name });
  if (m.type === BPF_MAP_TYPE.PERF_EVENT_ARRAY) {
    if (m.keySize === 0) m.keySize = 4;
    if (m.valueSize === 0) m.valueSize = 4;
  }
  return valuesOffset;
}

/** The BTF-defined maps of the `.maps` section, in DATASEC order. */
export function btfMaps(elf: ObjElf, btf: Btf | undefined, section: ObjSection): PlacedMap[] {
  if (!btf) throw new ObjectError('the object has a .maps section but no BTF to describe it (was it built with -g?)', { section: section.name });
  const ds = btf.findDatasec(section.name);
  if (ds === undefined) throw new ObjectError('no BTF DATASEC describes the .maps section', { section: section.name });
  // symbol values are authoritative for offsets (clang leaves some DATASEC offsets to the loader)
  const symbolOffset = new Map<string, ObjSymbol>();
  const symbols = elf.symbols;
  for (let i = 0; i < symbols.length; i++) {
    const s = symbols[i];
    if (s.shndx === section.index && s.type !== ELF.STT_SECTION && s.name) symbolOffset.set(s.name, s);
  }
  const out: PlacedMap[] = [];
  for (let i = 0; i < ds.vars.length; i++) {
    const vi = ds.vars[i];
    const v = btf.type(vi.type);
    if (v.kind !== 'var' || !v.name) throw new ObjectError(`.maps DATASEC entry of type ${vi.type} is not a named variable`, { section: section.name });
    const sym = symbolOffset.get(v.name);
    if (v.linkage !== 1 || sym?.bind === ELF.STB_LOCAL) {
      throw new ObjectError(`map ${v.name} is ${v.linkage === 2 ? 'extern' : 'static'}: maps in .maps must be global definitions (drop "static")`, { map: v.name, section: section.name });
    }
    const def = btf.type(btf.skipTypedefs(v.type));
    if (def.kind !== 'struct') throw new ObjectError(`map ${v.name}: definition is a ${def.kind}, not a struct`, { map: v.name, section: section.name });
    const spec = blankMap(v.name, 'btf', section.name);
    const valuesOffset = parseDef(btf, spec, def, false);
    out.push({ spec, sectionIndex: section.index, offset: sym?.value ?? vi.offset, size: vi.size, valuesOffset });
  }
  return out;
}

/** Legacy map definitions: struct bpf_map_def (5 × u32) or iproute2's bpf_elf_map (9 × u32). */
export function legacyMaps(elf: ObjElf, section: ObjSection): PlacedMap[] {
  const syms = elf.symbols
    .filter((s) => s.shndx === section.index && s.type !== ELF.STT_SECTION && s.name)
    .sort((a, b) => a.value - b.value);
  if (syms.length === 0) return [];
  const defSize = Math.floor(section.data.length / syms.length);
  if (defSize < 16 || section.data.length % syms.length !== 0) {
    throw new ObjectError(`legacy maps section: ${section.data.length} bytes for ${syms.length} maps is not a whole number of map definitions`, { section: section.name });
  }
  const view = new DataView(section.data.buffer, section.data.byteOffset, section.data.byteLength);
  const u32 = (off: number, i: number) => (i * 4 < defSize ? view.getUint32(off + i * 4, elf.littleEndian) : 0);
  return syms.map((s) => {
    if (s.value % defSize !== 0 || s.value + defSize > section.data.length) {
      throw new ObjectError(`legacy map ${s.name}: offset ${s.value} is not a definition boundary (definitions are ${defSize} bytes)`, { map: s.name, section: section.name });
    }
    const m = blankMap(s.name, 'legacy', section.name);
    m.type = u32(s.value, 0);
    m.keySize = u32(s.value, 1);
    m.valueSize = u32(s.value, 2);
    m.maxEntries = u32(s.value, 3);
    m.flags = u32(s.value, 4);
    // iproute2's bpf_elf_map: id, pinning, inner_id, inner_idx follow; global-namespace pins are by name
    const pinning: PinningType = defSize >= 28 && u32(s.value, 6) === IPROUTE2_PIN_GLOBAL_NS ? 'byName' : 'none';
    m.pinning = pinning;
    if (m.type === 0) throw new ObjectError(`legacy map ${s.name}: map type 0 (unspec)`, { map: s.name });
    return { spec: m, sectionIndex: section.index, offset: s.value, size: defSize };
  });
}

export type DataKind = 'data' | 'rodata' | 'bss';

/** .data, .rodata, .bss and their '.'-suffixed custom forms (libbpf's rule). */
export function dataKind(name: string): DataKind | undefined {
  if (name.charCodeAt(0) !== 0x2e) return undefined; // '.'
  switch (name.charCodeAt(1)) {
    case 0x64: return name === '.data' || name.startsWith('.data.') ? 'data' : undefined; // 'd'
    case 0x72: return name === '.rodata' || name.startsWith('.rodata.') ? 'rodata' : undefined; // 'r'
    case 0x62: return name === '.bss' || name.startsWith('.bss.') ? 'bss' : undefined; // 'b'
    default: return undefined;
  }
}

/**
 * libbpf's kernel-visible name of a global data map: up to 8 characters of the object name then
 * the section name ('tc_coun.rodata'); custom sections ('.data.x') keep their own name only.
 */
export function internalMapName(objectName: string, section: string): string {
  const sfx = Math.min(Math.max(7, section.length), BPF_OBJ_NAME_LEN - 1);
  const pfx = section.indexOf('.', 1) >= 0 ? 0 : Math.min(BPF_OBJ_NAME_LEN - sfx - 1, objectName.length);
  return `${objectName.slice(0, pfx)}${section.slice(0, sfx)}`.replace(/[^A-Za-z0-9_.]/g, '_');
}

/** One single-entry array map per non-empty global data section. */
export function dataMap(objectName: string, section: ObjSection, kind: DataKind, btf: Btf | undefined, hidden: ReadonlySet<number>): PlacedMap {
  if (section.size > MAX_ARRAY_VALUE_SIZE) {
    // a NOBITS section's size is only a number in its header: refuse before allocating it
    throw new ObjectError(`section ${section.name} is ${section.size} bytes; a global data map's value can be at most ${MAX_ARRAY_VALUE_SIZE} (the kernel's KMALLOC_MAX_SIZE for array values)`, { section: section.name, map: section.name });
  }
  const m = blankMap(section.name, 'data', section.name, kind === 'rodata');
  m.kernelName = internalMapName(objectName, section.name);
  m.type = BPF_MAP_TYPE.ARRAY;
  m.keySize = 4;
  m.valueSize = section.size;
  m.maxEntries = 1;
  const ds = btf?.findDatasec(section.name);
  let exposed = false;
  if (btf && ds !== undefined) {
    // key type 0 and the DATASEC as value type, as libbpf gives them (bpftool dumps variables by name)
    m.valueTypeId = ds.id;
    for (let i = 0; i < ds.vars.length; i++) {
      const vi = ds.vars[i];
      const v = btf.type(vi.type);
      if (v.kind === 'var' && v.linkage !== 0 && !hidden.has(vi.type)) {
        exposed = true;
        break;
      }
    }
  }
  // mmapable when a global (non-static) variable lives there, as libbpf decides; dropped at load where unsupported
  m.flags = (kind === 'rodata' ? BPF_MAP_FLAG.RDONLY_PROG : 0) | (exposed ? BPF_MAP_FLAG.MMAPABLE : 0);
  m.data = kind === 'bss' || section.type === ELF.SHT_NOBITS ? zeroedBytes(section.size) : copyBytes(section.data, 0, section.data.length);
  return { spec: m, sectionIndex: section.index, offset: 0, size: section.size };
}
