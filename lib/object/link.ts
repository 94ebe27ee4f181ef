// Linking one program: its own code, then every .text function it reaches (calls and callback
// pointers, transitively) appended once each, depth first in first-use order as libbpf does. Call and
// function-pointer immediates become offsets relative to the instruction; func_info and line_info
// move with their functions. Map references are left for the loader with their final positions.
import { INSN_SIZE, Insns, PSEUDO } from './insn.js';
import { ObjectError } from './errors.js';
import type { FuncInfo, FunctionSpec, LineInfo, ProgramSpec } from './spec.js';

export interface MapReference {
  /** instruction index in the linked program (the first half of the LD_IMM64) */
  readonly insn: number;
  readonly map: string;
  /** data references: offset into the map's value; undefined for a map fd */
  readonly offset?: number;
}

export interface LinkedProgram {
  /** instructions in the object's byte order */
  readonly insns: Uint8Array;
  readonly funcInfo: readonly FuncInfo[];
  readonly lineInfo: readonly LineInfo[];
  readonly mapRefs: readonly MapReference[];
  /** functions in order with their start instruction (the program first) */
  readonly layout: readonly { readonly name: string; readonly start: number }[];
}

/**
 * Bytes (not zeroed: the taker writes every one) for results that live only until the caller has copied them (the loader's reused
 * buffer: a fresh Uint8Array above 64 bytes is an off-heap allocation, ~1 µs each). Default: new ones.
 */
export interface ByteArena {
  take(size: number): Uint8Array;
}

/** Where a function's instructions come from: CO-RE-relocated copies at load time (lib/object/core.ts). */
export interface CodeSource {
  code(fn: FunctionSpec): Uint8Array;
}

/** The functions a program is made of, depth first, with their start instructions. */
interface Layout {
  readonly order: FunctionSpec[];
  readonly start: Map<string, number>;
  total: number;
}

/**
 * Depth first, in instruction order: a callee is appended, then what it calls, before the caller's
 * next call (libbpf's order, so the loaded code and its tag are the same).
 */
function append(l: Layout, prog: ProgramSpec, fn: FunctionSpec, functions: ReadonlyMap<string, FunctionSpec>): void {
  l.start.set(fn.name, l.total);
  l.total += fn.instructions.length / INSN_SIZE;
  l.order.push(fn);
  for (const r of fn.relocations) {
    if (r.target.kind !== 'call' && r.target.kind !== 'func') continue;
    const name = r.target.function;
    if (l.start.has(name)) continue;
    const callee = functions.get(name);
    if (!callee) throw new ObjectError(`program ${prog.name}: ${fn.name} calls ${name}, which is not a function in .text`, { program: prog.name, section: prog.section, symbol: name });
    append(l, prog, callee, functions);
  }
}

/** `source` gives the instructions to use per function (default: each function's own). */
export function linkProgram(prog: ProgramSpec, functions: ReadonlyMap<string, FunctionSpec>, littleEndian: boolean, source?: CodeSource, arena?: ByteArena): LinkedProgram {
  const l: Layout = { order: [], start: new Map(), total: 0 };
  append(l, prog, prog, functions);
  const { order, start, total } = l;

  const out = arena ? arena.take(total * INSN_SIZE) : new Uint8Array(total * INSN_SIZE);
  const insns = new Insns(out, littleEndian);
  const funcInfo: FuncInfo[] = [];
  const lineInfo: LineInfo[] = [];
  const mapRefs: MapReference[] = [];
  const layout: { name: string; start: number }[] = [];
  for (const fn of order) {
    const base = start.get(fn.name)!;
    out.set(source ? source.code(fn) : fn.instructions, base * INSN_SIZE);
    for (const r of fn.relocations) {
      const at = base + r.insn;
      const t = r.target;
      switch (t.kind) {
        case 'call':
          insns.setImm(at, start.get(t.function)! - at - 1);
          break;
        case 'func':
          insns.setSrc(at, PSEUDO.FUNC);
          insns.setImm(at, start.get(t.function)! - at - 1);
          insns.setImm(at + 1, 0);
          break;
        case 'map':
          mapRefs.push({ insn: at, map: t.map });
          break;
        case 'data':
          mapRefs.push({ insn: at, map: t.map, offset: t.offset });
          break;
      }
    }
    for (const f of fn.funcInfo) funcInfo.push({ insn: base + f.insn, typeId: f.typeId });
    for (const l of fn.lineInfo) lineInfo.push({ insn: base + l.insn, fileNameOff: l.fileNameOff, lineOff: l.lineOff, lineCol: l.lineCol });
    layout.push({ name: fn.name, start: base });
  }
  return { insns: out, funcInfo, lineInfo, mapRefs, layout };
}

/** Where applyMapFds finds the fd of a map by name. */
export interface MapFds {
  fdOf(map: string): number;
}

/** Write the map fds (and data offsets) into a linked program's LD_IMM64 instructions. */
export function applyMapFds(insns: Uint8Array, refs: readonly MapReference[], fds: MapFds | ((map: string) => number), littleEndian: boolean): void {
  if (refs.length === 0) return;
  const v = new Insns(insns, littleEndian);
  for (const r of refs) {
    const fd = typeof fds === 'function' ? fds(r.map) : fds.fdOf(r.map);
    if (r.offset === undefined) {
      v.setSrc(r.insn, PSEUDO.MAP_FD);
      v.setImm(r.insn, fd);
      v.setImm(r.insn + 1, 0);
    } else {
      v.setSrc(r.insn, PSEUDO.MAP_VALUE);
      v.setImm(r.insn, fd);
      v.setImm(r.insn + 1, r.offset);
    }
  }
}

/** func_info / line_info records as PROG_LOAD takes them (8 and 16 bytes, host order). */
export function encodeFuncInfo(records: readonly FuncInfo[], littleEndian: boolean, arena?: ByteArena): Uint8Array {
  const out = arena ? arena.take(records.length * 8) : new Uint8Array(records.length * 8);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    v.setUint32(i * 8, r.insn, littleEndian);
    v.setUint32(i * 8 + 4, r.typeId, littleEndian);
  }
  return out;
}

export function encodeLineInfo(records: readonly LineInfo[], littleEndian: boolean, arena?: ByteArena): Uint8Array {
  const out = arena ? arena.take(records.length * 16) : new Uint8Array(records.length * 16);
  const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
  for (let i = 0; i < records.length; i++) {
    const r = records[i];
    v.setUint32(i * 16, r.insn, littleEndian);
    v.setUint32(i * 16 + 4, r.fileNameOff, littleEndian);
    v.setUint32(i * 16 + 8, r.lineOff, littleEndian);
    v.setUint32(i * 16 + 12, r.lineCol, littleEndian);
  }
  return out;
}
