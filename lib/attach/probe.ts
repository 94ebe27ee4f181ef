// attachUprobe and attachKprobe: a KPROBE-type program on a perf event of the kernel's uprobe or
// kprobe PMU (perf_event_open with the PMU's dynamic type from sysfs), then on the event as for a
// tracepoint (perf-event.ts: a link with an optional cookie, else PERF_EVENT_IOC_SET_BPF + ENABLE).
//
//   uprobe:  config1 = address of the binary's path, config2 = the function's FILE offset (found in
//            its .symtab/.dynsym here), config bit from format/retprobe, config's ref_ctr_offset field
//            (format/ref_ctr_offset) for a USDT semaphore; pid -1 on CPU 0 for every process (the
//            program runs wherever the probe is hit, as for tracepoints), or pid N on any CPU.
//   kprobe:  config1 = address of the kernel function's name, config2 = offset in it.
// Without symbol/binary/retprobe the program's section says them, in libbpf's forms:
// 'uprobe/PATH:FUNC[+OFF]', 'uprobe/PATH:OFF', 'uretprobe/PATH:FUNC', 'kprobe/FUNC[+OFF]', 'kretprobe/FUNC'.
//
//   const u = attachUprobe({ program, binary: 'libc.so.6', symbol: 'getppid', pid: process.pid });
//   const k = attachKprobe({ program, symbol: 'do_unlinkat' });   // needs the kprobe PMU (CONFIG_KPROBES)
//   u.detach(); k.detach();
import { existsSync, readFileSync } from 'node:fs';
import { readSymbolTables } from './probe-elf.js';
import { Fd } from '../syscall/fd.js';
import { BPF_PROG_TYPE } from '../syscall/types.js';
import { perfEventOpen } from '../perf/open.js';
import { ParseError } from '../errors.js';
import { readLinkedElf, findFunctionOffset, type LinkedElf, type LinkedSymbol } from '../elf/function-offset.js';
import { AttachArgumentError, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
import type { LinkAttachmentInfo } from './bpf-link.js';
import { attachToPerfEvent, checkPerfEventOptions, type PerfEventAttachment, type TracingLinkAttachment } from './perf-event.js';
import { ProbeBinaryError, resolveProbeBinary } from './probe-binary.js';

export { ProbeBinaryError };

export type ProbeKind = 'uprobe' | 'uretprobe' | 'kprobe' | 'kretprobe';

/** The kernel has no PMU for this kind of probe (found before anything was asked of it). */
export class ProbeUnsupportedError extends AttachArgumentError {
  /** 'uprobe' or 'kprobe' */
  readonly pmu: 'uprobe' | 'kprobe';
  constructor(op: string, pmu: 'uprobe' | 'kprobe', why: string) {
    super(op, why);
    this.pmu = pmu;
  }
}

/** A symbol of the binary gives no function to probe: missing, only imported, not a function, ambiguous. */
export class SymbolNotFoundError extends AttachArgumentError {
  readonly symbol: string;
  /** the file searched (resolved path) */
  readonly binary: string;
  constructor(op: string, symbol: string, binary: string, why: string) {
    super(op, `symbol ${symbol} in ${binary}: ${why}`);
    this.symbol = symbol;
    this.binary = binary;
  }
}

/** The symbol exists but is no plain function (an object, an indirect function's resolver, …). */
export class NotAFunctionError extends SymbolNotFoundError {
  /** the symbol's ELF type: 'OBJECT', 'GNU_IFUNC', … */
  readonly symbolType: string;
  constructor(op: string, symbol: string, binary: string, symbolType: string, why: string) {
    super(op, symbol, binary, why);
    this.symbolType = symbolType;
  }
}

/** What a u/kprobe section name says (libbpf's forms); `target` fields only when the name has them. */
export interface ProbeSection {
  readonly family: 'uprobe' | 'kprobe';
  readonly retprobe: boolean;
  /** uprobe.s / uretprobe.s */
  readonly sleepable: boolean;
  /** uprobe.multi, kprobe.session, usdt…: programs made for another attach path */
  readonly other?: string;
  readonly binary?: string;
  readonly symbol?: string;
  /** '+OFF' after the symbol, or the whole target when it is a number (a raw file offset) */
  readonly offset?: number;
}

const SECTION_RE = /^(uprobe|uretprobe|kprobe|kretprobe)(\.s)?(?:\/(.*))?$/s;
const OTHER_RE = /^(?:(?:u|k)(?:ret)?probe\.(?:multi|session)(?:\.s)?|usdt)(?:\/|$)/;
const NUMBER_RE = /^(?:0x[0-9a-fA-F]+|[0-9]+)$/;
const KSYM_RE = /^[A-Za-z_][A-Za-z0-9_.]*$/;

/**
 * A section name's probe: undefined when it is no u/kprobe section. A malformed target (no ':FUNC'
 * after the binary, an offset that is no number, an offset on a return probe) is an
 * AttachArgumentError naming the section.
 */
export function parseProbeSection(section: string, op = 'parseProbeSection'): ProbeSection | undefined {
  const name = section.startsWith('?') ? section.slice(1) : section;
  if (OTHER_RE.test(name)) {
    const kind = name.split('/')[0];
    return { family: kind.startsWith('k') ? 'kprobe' : 'uprobe', retprobe: kind.includes('ret'), sleepable: kind.endsWith('.s'), other: kind };
  }
  const m = SECTION_RE.exec(name);
  if (!m) return undefined;
  const family = m[1].startsWith('k') ? 'kprobe' as const : 'uprobe' as const;
  const retprobe = m[1].includes('ret');
  const sleepable = m[2] !== undefined;
  if (sleepable && family === 'kprobe') return undefined;
  const base = { family, retprobe, sleepable };
  const rest = m[3];
  if (rest === undefined || rest === '') return base;
  const bad = (why: string): never => {
    throw new AttachArgumentError(op, `section ${JSON.stringify(section)}: ${why}`);
  };
  let binary: string | undefined;
  let target = rest;
  if (family === 'uprobe') {
    // the binary is everything up to the last ':' (a path may hold one; a symbol cannot)
    const colon = rest.lastIndexOf(':');
    if (colon <= 0) bad(`names no function: the form is ${m[1]}/BINARY:FUNCTION[+OFFSET] (or BINARY:OFFSET)`);
    binary = rest.slice(0, colon);
    target = rest.slice(colon + 1);
  }
  if (target === '') bad('names no function after the binary');
  if (family === 'uprobe' && NUMBER_RE.test(target)) return { ...base, binary, offset: Number(target) };
  const plus = target.lastIndexOf('+');
  let symbol = target;
  let offset: number | undefined;
  if (plus >= 0) {
    const off = target.slice(plus + 1);
    if (!NUMBER_RE.test(off)) bad(`offset ${JSON.stringify(off)} after '+' is not a number`);
    symbol = target.slice(0, plus);
    offset = Number(off);
    if (!Number.isSafeInteger(offset)) bad(`offset ${off} is too large`);
    if (retprobe && offset !== 0) bad('a return probe takes no offset into the function (it fires when the function returns)');
  }
  if (symbol === '') bad('names no function before the offset');
  if (family === 'kprobe' && !KSYM_RE.test(symbol)) bad(`${JSON.stringify(symbol)} is not a kernel function name`);
  return { ...base, binary, symbol, offset };
}

interface CommonProbeOptions {
  program: AttachableProgram;
  /** a return probe; default: what the section says (uretprobe/kretprobe), else false */
  retprobe?: boolean;
  /** bpf_get_attach_cookie() value (links only) */
  cookie?: bigint | number;
  /** 'link' (LINK_CREATE only), 'ioctl' (PERF_EVENT_IOC_SET_BPF only); default a link, ioctl where links are missing */
  mode?: 'link' | 'ioctl';
}

export interface AttachUprobeOptions extends CommonProbeOptions {
  /** a path, or a name resolved as libbpf does ('libc.so.6' through ld.so.cache, 'bash' through PATH); default: the section's */
  binary?: string;
  /** function name, 'name@VERSION' or 'name@@VERSION' as nm -D shows them; default: the section's */
  symbol?: string;
  /** bytes into the function when `symbol` is given; the file offset itself when it is not */
  offset?: number;
  /** only this process (a pid); default every process */
  pid?: number;
  /** offset in the file of a USDT semaphore the kernel counts up while the probe exists */
  refCtrOffset?: number;
}

export interface AttachKprobeOptions extends CommonProbeOptions {
  /** the kernel function; default: the section's */
  symbol?: string;
  /** bytes into the function (entry probes only) */
  offset?: number;
}

export interface UprobeAttachmentInfo extends AttachmentInfo {
  readonly kind: 'uprobe' | 'uretprobe';
  /** the file probed (resolved, absolute) */
  readonly binary: string;
  /** the symbol asked for (undefined for a raw offset) */
  readonly symbol: string | undefined;
  /** the file offset the kernel was given */
  readonly offset: number;
  /** the process probed, -1 for all */
  readonly pid: number;
  readonly mode: 'link' | 'ioctl';
  readonly linkId?: number;
  readonly programId: number;
  readonly programName: string;
}

export interface KprobeAttachmentInfo extends AttachmentInfo {
  readonly kind: 'kprobe' | 'kretprobe';
  readonly binary: undefined;
  readonly symbol: string;
  /** bytes into the function */
  readonly offset: number;
  readonly pid: -1;
  readonly mode: 'link' | 'ioctl';
  readonly linkId?: number;
  readonly programId: number;
  readonly programName: string;
}

export type UprobeAttachment = TracingLinkAttachment<UprobeAttachmentInfo & LinkAttachmentInfo> | PerfEventAttachment<UprobeAttachmentInfo>;
export type KprobeAttachment = TracingLinkAttachment<KprobeAttachmentInfo & LinkAttachmentInfo> | PerfEventAttachment<KprobeAttachmentInfo>;

const PMU_DIR = '/sys/bus/event_source/devices';

/** A probe PMU's dynamic type and where its config fields go (sysfs format/: 'config:0', 'config:32-63'). */
interface ProbePmu {
  readonly type: number;
  readonly retprobeBit: number;
  /** shift and width of ref_ctr_offset in config (uprobe PMU, kernel >= 4.20) */
  readonly refCtr?: { readonly shift: number; readonly width: number };
}

function readPmu(op: string, pmu: 'uprobe' | 'kprobe'): ProbePmu {
  const dir = `${PMU_DIR}/${pmu}`;
  if (!existsSync(dir)) {
    const why = pmu === 'kprobe'
      ? `this kernel has no kprobe PMU (${dir} is missing: built without CONFIG_KPROBES/CONFIG_KPROBE_EVENTS); trace kernel functions with an fentry/fexit program (SEC("fentry/FUNC")) or a tracepoint instead`
      : `this kernel has no uprobe PMU (${dir} is missing: built without CONFIG_UPROBE_EVENTS)`;
    throw new ProbeUnsupportedError(op, pmu, why);
  }
  const read = (f: string) => readFileSync(`${dir}/${f}`, 'utf8').trim();
  const type = Number(read('type'));
  if (!Number.isInteger(type) || type < 0) throw new ProbeUnsupportedError(op, pmu, `${dir}/type is not a PMU type (${JSON.stringify(read('type'))})`);
  const field = (f: string) => {
    const text = existsSync(`${dir}/format/${f}`) ? read(`format/${f}`) : undefined;
    if (text === undefined) return undefined;
    const m = /^config:(\d+)(?:-(\d+))?$/.exec(text);
    if (!m) throw new ProbeUnsupportedError(op, pmu, `${dir}/format/${f} is ${JSON.stringify(text)}, not a field of config`);
    const lo = Number(m[1]);
    return { shift: lo, width: (m[2] === undefined ? lo : Number(m[2])) - lo + 1 };
  };
  const ret = field('retprobe');
  if (!ret || ret.width !== 1) throw new ProbeUnsupportedError(op, pmu, `${dir}/format/retprobe is missing or not one bit`);
  return { type, retprobeBit: ret.shift, refCtr: pmu === 'uprobe' ? field('ref_ctr_offset') : undefined };
}

/** The program's section, if it is a BpfProgram (or anything carrying one). */
export function sectionOf(p: AttachableProgram): string | undefined {
  const s = (p as { section?: unknown } | undefined)?.section;
  return typeof s === 'string' ? s : undefined;
}

export function checkOffset(op: string, what: string, v: unknown): void {
  if (v !== undefined && (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0)) throw new AttachArgumentError(op, `${what} must be a non-negative integer, got ${String(v)}`);
}

/** A uprobe's pid option: a process id, or -1 (or absent) for every process. */
export function checkPid(op: string, pid: unknown): void {
  if (pid !== undefined && pid !== -1 && (typeof pid !== 'number' || !Number.isInteger(pid) || pid <= 0 || pid > 0x3fffffff)) {
    throw new AttachArgumentError(op, `pid must be a process id (a positive integer) or -1 for every process, got ${String(pid)}`);
  }
}

/** The process a uprobe is for exists (checked last before the kernel is asked: it may exit meanwhile). */
export function checkProcess(op: string, pid: number): void {
  if (pid !== -1 && !existsSync(`/proc/${pid}`)) throw new AttachArgumentError(op, `pid ${pid}: no such process`);
}

/** Section defaults for one family; the section's own errors, and a program made for another attach path. */
function sectionDefaults(op: string, program: AttachableProgram, family: 'uprobe' | 'kprobe', retprobe: boolean | undefined): ProbeSection | undefined {
  if (!program || typeof program !== 'object') return undefined;
  const section = sectionOf(program);
  if (section === undefined) return undefined;
  const sec = parseProbeSection(section, op);
  // a program of the other family (kprobe section given to attachUprobe…) gets no defaults from it
  if (!sec || sec.family !== family) return undefined;
  if (sec.other) throw new AttachArgumentError(op, `program ${program.name} is in section ${section}: ${sec.other} programs attach through their own link type, not a ${family} perf event`);
  if (retprobe === false && sec.retprobe) throw new AttachArgumentError(op, `retprobe: false contradicts program ${program.name}'s section ${section} (a return probe)`);
  return sec;
}

function commonChecks(op: string, o: CommonProbeOptions | undefined, what: string): asserts o is CommonProbeOptions {
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, `options { program, ${what} } are required`);
  checkPerfEventOptions(op, o);
  if (o.retprobe !== undefined && typeof o.retprobe !== 'boolean') throw new AttachArgumentError(op, `retprobe must be a boolean, got ${String(o.retprobe)}`);
}

function describeSymbol(s: LinkedSymbol): string {
  return `${s.name}${s.version ? `${s.isDefault ? '@@' : '@'}${s.version}` : ''} at 0x${s.value.toString(16)} (${s.table}${s.bind === 2 ? ', weak' : ''})`;
}

/** The file offset of `symbol` in the file at `path`, or a typed error naming both. */
export function resolveUprobeOffset(op: string, path: string, symbol: string): { offset: number; symbol: LinkedSymbol } {
  return functionOffsetIn(op, path, readProbeElf(op, path), symbol);
}

/** The executable or library at `path` read for its symbols; ProbeBinaryError when it cannot be. */
export function readProbeElf(op: string, path: string): LinkedElf {
  let bytes: Uint8Array;
  try {
    bytes = readSymbolTables(path);
  } catch (e) {
    throw new ProbeBinaryError(op, path, `cannot be read (${(e as NodeJS.ErrnoException).code ?? String(e)})`, { cause: e });
  }
  let elf: LinkedElf;
  try {
    elf = readLinkedElf(bytes);
  } catch (e) {
    if (!(e instanceof ParseError)) throw e;
    throw new ProbeBinaryError(op, path, `is not an ELF executable or shared library (${e.message})`, { cause: e });
  }
  return elf;
}

/** resolveUprobeOffset in a file already read (several symbols of one file read it once). */
export function functionOffsetIn(op: string, path: string, elf: LinkedElf, symbol: string): { offset: number; symbol: LinkedSymbol } {
  const r = findFunctionOffset(elf, symbol);
  if ('offset' in r) return r;
  switch (r.problem) {
    case 'missing':
      if (r.imported) throw new SymbolNotFoundError(op, symbol, path, 'is only imported here (undefined): probe it in the library that defines it (e.g. binary: \'libc.so.6\')');
      if (elf.symtab.length === 0 && elf.dynsym.length === 0) throw new SymbolNotFoundError(op, symbol, path, 'the file has no symbols (stripped); give offset');
      throw new SymbolNotFoundError(op, symbol, path, `no such function in ${r.stripped ? '.dynsym (the file is stripped: no .symtab)' : '.symtab or .dynsym'}`);
    case 'not-function':
      throw new NotAFunctionError(op, symbol, path, r.type, `is a symbol of type ${r.type}, not a function`);
    case 'ifunc':
      throw new NotAFunctionError(op, symbol, path, 'GNU_IFUNC', 'is an indirect function (STT_GNU_IFUNC): its symbol is the resolver, run once when the library loads; probe the implementation it selects instead (by its own name where the file has one, or by offset)');
    case 'ambiguous':
      throw new SymbolNotFoundError(op, symbol, path, `is ambiguous: ${r.candidates.map(describeSymbol).join(', ')}; name a version (name@VERSION) or give offset`);
    case 'no-segment':
      throw new SymbolNotFoundError(op, symbol, path, `its address 0x${r.value.toString(16)} lies in no loadable segment`);
  }
}

function openProbeEvent(pmu: ProbePmu, retprobe: boolean, name: string, offset: number, pid: number, refCtr: number, what: string): Fd {
  const config = (retprobe ? 1n << BigInt(pmu.retprobeBit) : 0n) | (pmu.refCtr ? BigInt(refCtr) << BigInt(pmu.refCtr.shift) : 0n);
  // every process: pid -1 on CPU 0 (the program runs wherever the probe is hit); one process: any CPU
  return perfEventOpen({ attr: { type: pmu.type, config, config2: offset }, config1String: name, pid, cpu: pid === -1 ? 0 : -1 }, what);
}

const ALLOWED = [BPF_PROG_TYPE.KPROBE];

export function attachUprobe(o: AttachUprobeOptions): UprobeAttachment {
  const op = 'attachUprobe';
  commonChecks(op, o, 'binary, symbol | offset');
  checkOffset(op, 'offset', o.offset);
  if (o.symbol !== undefined && (typeof o.symbol !== 'string' || o.symbol === '' || /[\s\0]/.test(o.symbol))) throw new AttachArgumentError(op, `symbol must be a function name, got ${JSON.stringify(o.symbol)}`);
  checkPid(op, o.pid);
  const sec = sectionDefaults(op, o.program, 'uprobe', o.retprobe);
  const retprobe = o.retprobe ?? sec?.retprobe ?? false;
  const binary = o.binary ?? sec?.binary;
  if (binary === undefined) throw new AttachArgumentError(op, `binary is required${sec ? ` (section ${sectionOf(o.program)} names none)` : ''}`);
  // the section's target is taken whole, or not at all when either of symbol/offset is given
  const fromSection = o.symbol === undefined && o.offset === undefined;
  const symbol = fromSection ? sec?.symbol : o.symbol;
  const extra = fromSection ? sec?.offset : o.offset;
  if (symbol === undefined && extra === undefined) throw new AttachArgumentError(op, `symbol or offset is required${sec ? ` (section ${sectionOf(o.program)} names no function)` : ''}`);
  if (retprobe && symbol !== undefined && extra) throw new AttachArgumentError(op, `a uretprobe takes no offset into ${symbol} (it fires when the function returns)`);
  const pid = o.pid ?? -1;
  const refCtr = o.refCtrOffset ?? 0;
  checkOffset(op, 'refCtrOffset', o.refCtrOffset);
  const pmu = readPmu(op, 'uprobe');
  if (refCtr !== 0 && (!pmu.refCtr || refCtr >= 2 ** pmu.refCtr.width)) throw new AttachArgumentError(op, pmu.refCtr ? `refCtrOffset must be below 2^${pmu.refCtr.width}, got ${refCtr}` : 'refCtrOffset needs a kernel whose uprobe PMU has format/ref_ctr_offset (>= 4.20)');
  checkProcess(op, pid);

  const path = resolveProbeBinary(op, binary);
  const offset = (symbol !== undefined ? resolveUprobeOffset(op, path, symbol).offset : 0) + (extra ?? 0);
  const prog = checkProgram(op, o.program, ALLOWED, 'a uprobe');
  const kind = retprobe ? 'uretprobe' as const : 'uprobe' as const;
  const where = symbol !== undefined ? `${path}:${symbol}${extra ? `+${extra}` : ''} (file offset 0x${offset.toString(16)})` : `${path} at file offset 0x${offset.toString(16)}`;
  const what = `${kind} ${where}${pid === -1 ? '' : ` for pid ${pid}`}`;
  const event = openProbeEvent(pmu, retprobe, path, offset, pid, refCtr, what);
  const base = { kind, binary: path, symbol, offset, pid, programId: prog.id, programName: prog.name };
  return attachToPerfEvent(event, prog.fd, ALLOWED, base, what, o);
}

export function attachKprobe(o: AttachKprobeOptions): KprobeAttachment {
  const op = 'attachKprobe';
  commonChecks(op, o, 'symbol');
  checkOffset(op, 'offset', o.offset);
  const sec = sectionDefaults(op, o.program, 'kprobe', o.retprobe);
  const retprobe = o.retprobe ?? sec?.retprobe ?? false;
  const fromSection = o.symbol === undefined;
  const symbol = fromSection ? sec?.symbol : o.symbol;
  const offset = (fromSection ? sec?.offset : o.offset) ?? 0;
  if (symbol === undefined) throw new AttachArgumentError(op, `symbol is required${sec ? ` (section ${sectionOf(o.program)} names no function)` : ''}`);
  if (typeof symbol !== 'string' || !KSYM_RE.test(symbol)) throw new AttachArgumentError(op, `symbol must be a kernel function name, got ${JSON.stringify(symbol)}`);
  if (retprobe && offset !== 0) throw new AttachArgumentError(op, `a kretprobe takes no offset into ${symbol} (it fires when the function returns)`);
  // before anything else touches the kernel: on a kernel without kprobes nothing is made
  const pmu = readPmu(op, 'kprobe');
  const prog = checkProgram(op, o.program, ALLOWED, 'a kprobe');
  const kind = retprobe ? 'kretprobe' as const : 'kprobe' as const;
  const what = `${kind} ${symbol}${offset ? `+${offset}` : ''}`;
  const event = openProbeEvent(pmu, retprobe, symbol, offset, -1, 0, what);
  const base = { kind, binary: undefined, symbol, offset, pid: -1 as const, programId: prog.id, programName: prog.name };
  return attachToPerfEvent(event, prog.fd, ALLOWED, base, what, o);
}
