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

/**
 * What linking a program does whatever the bytes of its code: the functions in order with their starts,
 * the call and callback immediates to set, the map references. It depends only on the spec's functions
 * and relocations (read-only), so a program loaded again and again (loadObject of one ObjectSpec) can
 * keep it. Only then: a WeakMap entry per short-lived spec costs V8's GC far more than the plan saves
 * (~15 us per program measured when every load reads its file afresh).
 */
interface LinkPlan {
  readonly functions: ReadonlyMap<string, FunctionSpec>;
  readonly order: readonly FunctionSpec[];
  readonly bases: readonly number[];
  readonly total: number;
  /** [instruction, callee start, 1 for a callback pointer (ld_imm64) / 0 for a call] triples */
  readonly jumps: readonly number[];
  readonly mapRefs: readonly MapReference[];
  /** links made from this plan: from the second on, encoded func/line info is kept */
  uses: number;
  funcInfo?: { le: boolean; bytes: Uint8Array };
  lineInfo?: { le: boolean; bytes: Uint8Array };
}

const plans = new WeakMap<ProgramSpec, LinkPlan>();

/** A kept plan is used only while the functions it laid out are still the ones the spec has, same sizes. */
function stillValid(plan: LinkPlan, prog: ProgramSpec, functions: ReadonlyMap<string, FunctionSpec>): boolean {
  if (plan.functions !== functions || plan.order[0] !== prog) return false;
  let end = 0;
  for (let i = 0; i < plan.order.length; i++) {
    const fn = plan.order[i];
    if (i > 0 && functions.get(fn.name) !== fn) return false;
    if (plan.bases[i] !== end) return false;
    end += fn.instructions.length / INSN_SIZE;
  }
  return end === plan.total;
}

function planOf(prog: ProgramSpec, functions: ReadonlyMap<string, FunctionSpec>, keep: boolean): LinkPlan {
  const known = keep ? plans.get(prog) : undefined;
  if (known && stillValid(known, prog, functions)) return known;
  const l: Layout = { order: [], start: new Map(), total: 0 };
  append(l, prog, prog, functions);
  const { order, start, total } = l;
  const bases: number[] = [];
  const jumps: number[] = [];
  const mapRefs: MapReference[] = [];
  for (const fn of order) {
    const base = start.get(fn.name)!;
    bases.push(base);
    for (const r of fn.relocations) {
      const at = base + r.insn;
      const t = r.target;
      switch (t.kind) {
        case 'call':
          jumps.push(at, start.get(t.function)!, 0);
          break;
        case 'func':
          jumps.push(at, start.get(t.function)!, 1);
          break;
        case 'map':
          mapRefs.push({ insn: at, map: t.map });
          break;
        case 'data':
          mapRefs.push({ insn: at, map: t.map, offset: t.offset });
          break;
      }
    }
  }
  const plan: LinkPlan = { functions, order, bases, total, jumps, mapRefs, uses: 0 };
  if (keep) plans.set(prog, plan);
  return plan;
}

/**
 * `source` gives the instructions to use per function (default: each function's own). `keep`: the
 * program will be linked again (the loader says so for an ObjectSpec its caller passed): keep the plan
 * and, from the second link on, the encoded func/line info.
 */
export function linkProgram(prog: ProgramSpec, functions: ReadonlyMap<string, FunctionSpec>, littleEndian: boolean, source?: CodeSource, arena?: ByteArena, keep = false): Linked {
  const plan = planOf(prog, functions, keep);
  plan.uses++;
  const { order, bases, total, jumps } = plan;
  const out = arena ? arena.take(total * INSN_SIZE) : new Uint8Array(total * INSN_SIZE);
  for (let i = 0; i < order.length; i++) out.set(source ? source.code(order[i]) : order[i].instructions, bases[i] * INSN_SIZE);
  if (jumps.length > 0) {
    const insns = new Insns(out, littleEndian);
    for (let j = 0; j < jumps.length; j += 3) {
      const at = jumps[j];
      insns.setImm(at, jumps[j + 1] - at - 1);
      if (jumps[j + 2] === 1) {
        insns.setSrc(at, PSEUDO.FUNC);
        insns.setImm(at + 1, 0);
      }
    }
  }
  return new Linked(out, plan);
}

/**
 * A linked program. func_info and line_info are the functions' own records moved by each function's
 * start: the loader encodes them straight into PROG_LOAD's bytes (funcInfoBytes, lineInfoBytes), the
 * record arrays are made when asked for.
 */
export class Linked implements LinkedProgram {
  readonly insns: Uint8Array;
  readonly #plan: LinkPlan;
  #layout: { name: string; start: number }[] | undefined;

  constructor(insns: Uint8Array, plan: LinkPlan) {
    this.insns = insns;
    this.#plan = plan;
  }

  get mapRefs(): readonly MapReference[] {
    return this.#plan.mapRefs;
  }

  get layout(): readonly { readonly name: string; readonly start: number }[] {
    const { order, bases } = this.#plan;
    return (this.#layout ??= order.map((f, i) => ({ name: f.name, start: bases[i] })));
  }

  get funcInfo(): readonly FuncInfo[] {
    const { order, bases } = this.#plan;
    const out: FuncInfo[] = [];
    order.forEach((fn, i) => {
      for (const f of fn.funcInfo) out.push({ insn: bases[i] + f.insn, typeId: f.typeId });
    });
    return out;
  }

  get lineInfo(): readonly LineInfo[] {
    const { order, bases } = this.#plan;
    const out: LineInfo[] = [];
    order.forEach((fn, i) => {
      for (const l of fn.lineInfo) out.push({ insn: bases[i] + l.insn, fileNameOff: l.fileNameOff, lineOff: l.lineOff, lineCol: l.lineCol });
    });
    return out;
  }

  get funcInfoCount(): number {
    let n = 0;
    for (const fn of this.#plan.order) n += fn.funcInfo.length;
    return n;
  }

  get lineInfoCount(): number {
    let n = 0;
    for (const fn of this.#plan.order) n += fn.lineInfo.length;
    return n;
  }

  /**
   * func_info records as PROG_LOAD takes them (8 bytes each), the same bytes as encodeFuncInfo(funcInfo).
   * Read-only: a program linked again keeps and returns the same bytes.
   */
  funcInfoBytes(littleEndian: boolean, arena?: ByteArena): Uint8Array {
    const plan = this.#plan;
    if (plan.funcInfo?.le === littleEndian) return plan.funcInfo.bytes;
    const keep = plan.uses > 1;
    const n = this.funcInfoCount;
    const out = arena && !keep ? arena.take(n * 8) : new Uint8Array(n * 8);
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let at = 0;
    for (let i = 0; i < plan.order.length; i++) {
      const base = plan.bases[i];
      for (const f of plan.order[i].funcInfo) {
        v.setUint32(at, base + f.insn, littleEndian);
        v.setUint32(at + 4, f.typeId, littleEndian);
        at += 8;
      }
    }
    if (keep) plan.funcInfo = { le: littleEndian, bytes: out };
    return out;
  }

  /** line_info records as PROG_LOAD takes them (16 bytes each), the same bytes as encodeLineInfo(lineInfo); read-only. */
  lineInfoBytes(littleEndian: boolean, arena?: ByteArena): Uint8Array {
    const plan = this.#plan;
    if (plan.lineInfo?.le === littleEndian) return plan.lineInfo.bytes;
    const keep = plan.uses > 1;
    const n = this.lineInfoCount;
    const out = arena && !keep ? arena.take(n * 16) : new Uint8Array(n * 16);
    const v = new DataView(out.buffer, out.byteOffset, out.byteLength);
    let at = 0;
    for (let i = 0; i < plan.order.length; i++) {
      const base = plan.bases[i];
      for (const l of plan.order[i].lineInfo) {
        v.setUint32(at, base + l.insn, littleEndian);
        v.setUint32(at + 4, l.fileNameOff, littleEndian);
        v.setUint32(at + 8, l.lineOff, littleEndian);
        v.setUint32(at + 12, l.lineCol, littleEndian);
        at += 16;
      }
    }
    if (keep) plan.lineInfo = { le: littleEndian, bytes: out };
    return out;
  }
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
