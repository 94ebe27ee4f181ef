// attachUprobeMulti: one KPROBE program on many functions of one file through one uprobe.multi link
// (LINK_CREATE with BPF_TRACE_UPROBE_MULTI, kernel >= 6.6) instead of a perf event per function as
// attachUprobe makes. The kernel takes the file's path, one file offset per probe, and per probe an
// optional bpf_get_attach_cookie() value and USDT semaphore (ref_ctr) offset; BPF_F_UPROBE_MULTI_RETURN
// makes them all return probes; a pid keeps them to one process (every thread of it).
//
//   const l = attachUprobeMulti({ program, binary: 'libc.so.6', pattern: 'pthread_mutex_*lock' });
//   const m = attachUprobeMulti({ program, binary: './app', symbols: ['f', 'g'], cookies: [1n, 2n], pid });
//   l.info.probes;   // [{ symbol, offset, cookie, refCtrOffset }, …] as given to the kernel
//   l.details();     // the kernel's view (linkDetails): path, flags, pid, offsets, cookies
//   l.detach();      // closes the link (uprobe.multi links have no LINK_DETACH); pin() keeps it
//
// The program must be loaded with expected_attach_type BPF_TRACE_UPROBE_MULTI, which the loader sets
// for libbpf's sections 'uprobe.multi', 'uretprobe.multi' and their sleepable '.s' forms. Without
// symbols/pattern/offsets the section says them: 'uprobe.multi/BINARY:PATTERN'. Patterns are libbpf's
// globs ('*', '?') over function names of .symtab, else .dynsym (findFunctionsMatching: indirect
// functions and aliases of a function already taken are left out).
import { existsSync, statSync } from 'node:fs';
import type { Fd } from '../syscall/fd.js';
import { linkCreate } from '../syscall/link.js';
import { linkDetails, type LinkDetails } from '../syscall/obj.js';
import { ERRNO } from '../syscall/errno.js';
import type { BpfError } from '../syscall/errors.js';
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE, attachTypeName } from '../syscall/types.js';
import { kernelBtfHas } from '../features/probe.js';
import { findFunctionsMatching } from '../elf/function-offset.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { freshLinkId, type LinkAttachmentInfo } from './bpf-link.js';
import { TracingLinkAttachment, checkCookie } from './perf-event.js';
import { attachRefusal, programLabel } from './refusal.js';
import { resolveProbeBinary } from './probe-binary.js';
import {
  ProbeUnsupportedError, SymbolNotFoundError, checkOffset, checkPid, checkProcess, functionOffsetIn, parseProbeSection, readProbeElf, sectionOf,
} from './probe.js';

/** BPF_F_UPROBE_MULTI_RETURN (uprobe_multi.flags) */
const BPF_F_UPROBE_MULTI_RETURN = 1;
/** the kernel's MAX_UPROBE_MULTI_CNT (E2BIG above it) */
const MAX_PROBES = 1 << 20;
const VMLINUX_BTF = '/sys/kernel/btf/vmlinux';
const ALLOWED = [BPF_PROG_TYPE.KPROBE];

/** The kernel has no uprobe.multi links (found in its BTF before anything was asked of it). */
export class UprobeMultiUnsupportedError extends ProbeUnsupportedError {}

/** A pattern matched no function of the binary. */
export class PatternNotMatchedError extends SymbolNotFoundError {
  readonly pattern: string;
  constructor(op: string, pattern: string, binary: string, why: string) {
    super(op, pattern, binary, why);
    this.pattern = pattern;
  }
}

export interface AttachUprobeMultiOptions {
  /** a KPROBE program loaded with expected_attach_type BPF_TRACE_UPROBE_MULTI (SEC("uprobe.multi…")) */
  program: AttachableProgram;
  /** a path, or a name resolved as attachUprobe does ('libc.so.6', 'bash'); default: the section's */
  binary?: string;
  /** function names ('name', 'name@VERSION', 'name@@VERSION'), one probe each; */
  symbols?: readonly string[];
  /** or a glob ('*', '?') over function names; default: the section's */
  pattern?: string;
  /** or file offsets, one probe each */
  offsets?: readonly number[];
  /** per probe (symbols or offsets), bpf_get_attach_cookie() values */
  cookies?: readonly (bigint | number)[];
  /** per probe (symbols or offsets), file offsets of USDT semaphores the kernel counts up (0: none) */
  refCtrOffsets?: readonly number[];
  /** only this process (a pid); -1 or absent: every process */
  pid?: number;
  /** return probes; default what the section says (uretprobe.multi), else false */
  retprobe?: boolean;
}

export interface UprobeMultiProbe {
  /** the symbol asked for or matched (undefined for a raw offset) */
  readonly symbol: string | undefined;
  /** the file offset the kernel was given */
  readonly offset: number;
  readonly cookie: bigint;
  readonly refCtrOffset: number;
}

export interface UprobeMultiAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'uprobe.multi' | 'uretprobe.multi';
  /** the file probed (resolved, absolute) */
  readonly binary: string;
  /** the glob the probes came from, if they came from one */
  readonly pattern: string | undefined;
  /** in the order given to the kernel (offset order for a pattern) */
  readonly probes: readonly UprobeMultiProbe[];
  /** the process probed, -1 for all */
  readonly pid: number;
}

/** A uprobe.multi link: closed (not LINK_DETACHed, which it lacks) to end it; no program swap. */
export class UprobeMultiAttachment extends TracingLinkAttachment<UprobeMultiAttachmentInfo> {
  /** The kernel's view of the link now: path (name), flags, pid (0: all), per probe offset, refCtrOffset, cookie. */
  details(): LinkDetails {
    return linkDetails(this.fd.value);
  }

  /** uprobe.multi links have no LINK_UPDATE in the kernel: said here rather than as its EINVAL. */
  override update(_program: AttachableProgram): void {
    throw new AttachArgumentError(`${this.info.kind}.update`, `link id ${this.info.linkId} cannot change its program (the kernel has no LINK_UPDATE for uprobe.multi links); attach the new program and detach this link`);
  }
}

/** What a uprobe.multi section says; undefined for any other section. */
export interface UprobeMultiSection {
  readonly retprobe: boolean;
  readonly sleepable: boolean;
  readonly binary?: string;
  readonly pattern?: string;
}

const MULTI_KINDS = new Set(['uprobe.multi', 'uretprobe.multi', 'uprobe.multi.s', 'uretprobe.multi.s']);

/** 'uprobe.multi[.s]/BINARY:PATTERN' and 'uretprobe.multi…' (libbpf's forms; the binary ends at the last ':'). */
export function parseUprobeMultiSection(section: string, op = 'parseUprobeMultiSection'): UprobeMultiSection | undefined {
  const sec = parseProbeSection(section, op);
  if (!sec?.other || !MULTI_KINDS.has(sec.other)) return undefined;
  const base = { retprobe: sec.retprobe, sleepable: sec.sleepable };
  const slash = section.indexOf('/');
  const target = slash < 0 ? '' : section.slice(slash + 1);
  if (target === '') return base;
  const colon = target.lastIndexOf(':');
  if (colon <= 0 || colon === target.length - 1) {
    throw new AttachArgumentError(op, `section ${JSON.stringify(section)}: the form is ${sec.other}/BINARY:PATTERN (a binary and a glob of its functions)`);
  }
  return { ...base, binary: target.slice(0, colon), pattern: target.slice(colon + 1) };
}

let support: boolean | undefined;
let supportOverride: (() => boolean | undefined) | undefined;

/**
 * Whether the kernel has uprobe.multi links: its BTF has struct bpf_uprobe_multi_link exactly when
 * it does (>= 6.6 with CONFIG_UPROBES). Undefined without kernel BTF: then the kernel's answer says.
 */
export function uprobeMultiSupported(): boolean | undefined {
  if (supportOverride) return supportOverride();
  if (!existsSync(VMLINUX_BTF)) return undefined;
  return (support ??= kernelBtfHas('bpf_uprobe_multi_link'));
}

/** Tests only: answer uprobeMultiSupported() with `fn` (undefined restores the kernel's answer). */
export function setUprobeMultiSupportForTesting(fn: (() => boolean | undefined) | undefined): void {
  supportOverride = fn;
}

function checkList<T>(op: string, what: string, v: unknown, each: (x: unknown, i: number) => T): T[] | undefined {
  if (v === undefined) return undefined;
  if (!Array.isArray(v)) throw new AttachArgumentError(op, `${what} must be an array, got ${String(v)}`);
  if (v.length === 0) throw new AttachArgumentError(op, `${what} is empty`);
  if (v.length > MAX_PROBES) throw new AttachArgumentError(op, `${what} has ${v.length} entries; the kernel takes at most ${MAX_PROBES} probes per link`);
  return v.map(each);
}

/** Where the program says it belongs, and a program made for another attach path refused. */
function sectionDefaults(op: string, program: AttachableProgram, retprobe: boolean | undefined): UprobeMultiSection | undefined {
  if (!program || typeof program !== 'object') return undefined;
  const section = sectionOf(program);
  if (section === undefined || section === '') return undefined;
  const sec = parseUprobeMultiSection(section, op);
  if (sec) {
    if (retprobe === false && sec.retprobe) throw new AttachArgumentError(op, `retprobe: false contradicts program ${program.name}'s section ${section} (a return probe)`);
    return sec;
  }
  const other = parseProbeSection(section, op);
  if (other?.family === 'uprobe') {
    const use = other.other === undefined ? 'attach it with attachUprobe, or put it in SEC("uprobe.multi")' : `${other.other} programs are not attached by attachUprobeMulti`;
    throw new AttachArgumentError(op, `program ${program.name} is in section ${section}, not uprobe.multi/uretprobe.multi: ${use}`);
  }
  return undefined;
}

/** A loaded program's expected attach type, when the handle says it (BpfProgram does). */
function checkAttachType(op: string, program: AttachableProgram): boolean {
  const t = (program as { attachType?: unknown }).attachType;
  if (typeof t !== 'number') return false;
  if (t !== BPF_ATTACH_TYPE.TRACE_UPROBE_MULTI) {
    const was = t === 0 ? 'without an expected attach type (a perf-event uprobe/kprobe program)' : `for ${attachTypeName(t)}`;
    throw new AttachArgumentError(op, `program ${program.name} was loaded ${was}; a uprobe.multi link takes a program loaded for trace_uprobe_multi (SEC("uprobe.multi…") or SEC("uretprobe.multi…"))`);
  }
  return true;
}

/** What the usual LINK_CREATE refusals of a uprobe.multi link mean. */
function hint(e: BpfError, typeKnown: boolean, pid: number): string | undefined {
  switch (e.code) {
    case ERRNO.EINVAL:
      return [
        typeKnown ? undefined : 'the program must be loaded for trace_uprobe_multi (SEC("uprobe.multi…"))',
        'a probe already at one of these offsets (another link or perf event) has a different refCtrOffset',
        'or an offset is not at an instruction the kernel can probe',
      ].filter(Boolean).join('; ');
    case ERRNO.EOPNOTSUPP:
      return 'this kernel has no uprobe.multi links (kernel >= 6.6 with CONFIG_UPROBES)';
    case ERRNO.ESRCH:
      return `process ${pid} is gone`;
    default:
      return undefined;
  }
}

function show(list: readonly { symbol?: string; offset: number }[]): string {
  const names = list.slice(0, 4).map((p) => p.symbol ?? `0x${p.offset.toString(16)}`);
  return `${list.length === 1 ? '1 probe' : `${list.length} probes`}: ${names.join(', ')}${list.length > 4 ? ', …' : ''}`;
}

export function attachUprobeMulti(o: AttachUprobeMultiOptions): UprobeMultiAttachment {
  const op = 'attachUprobeMulti';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, binary, symbols | pattern | offsets } are required');
  if (o.retprobe !== undefined && typeof o.retprobe !== 'boolean') throw new AttachArgumentError(op, `retprobe must be a boolean, got ${String(o.retprobe)}`);
  checkPid(op, o.pid);
  const given = (['symbols', 'pattern', 'offsets'] as const).filter((k) => o[k] !== undefined);
  if (given.length > 1) throw new AttachArgumentError(op, `${given.join(' and ')} exclude each other: give one`);
  const symbols = checkList(op, 'symbols', o.symbols, (s, i) => {
    if (typeof s !== 'string' || s === '' || /[\s\0]/.test(s)) throw new AttachArgumentError(op, `symbols[${i}] must be a function name, got ${JSON.stringify(s)}`);
    return s;
  });
  const offsets = checkList(op, 'offsets', o.offsets, (v, i) => {
    checkOffset(op, `offsets[${i}]`, v);
    return v as number;
  });
  const cookies = checkList(op, 'cookies', o.cookies, (v, i) => {
    checkCookie(op, v);
    if (v === undefined) throw new AttachArgumentError(op, `cookies[${i}] is missing`);
    return BigInt(v as bigint | number);
  });
  const refCtrs = checkList(op, 'refCtrOffsets', o.refCtrOffsets, (v, i) => {
    checkOffset(op, `refCtrOffsets[${i}]`, v);
    // the kernel's semaphore is a 16-bit counter it refuses unaligned (EINVAL)
    if ((v as number) % 2 !== 0) throw new AttachArgumentError(op, `refCtrOffsets[${i}] 0x${(v as number).toString(16)} is odd: a USDT semaphore is a 2-byte aligned short`);
    return v as number;
  });
  if (o.pattern !== undefined && (typeof o.pattern !== 'string' || o.pattern === '' || /[\s\0]/.test(o.pattern))) {
    throw new AttachArgumentError(op, `pattern must be a glob of function names, got ${JSON.stringify(o.pattern)}`);
  }
  const sec = sectionDefaults(op, o.program, o.retprobe);
  const retprobe = o.retprobe ?? sec?.retprobe ?? false;
  const binary = o.binary ?? sec?.binary;
  const pattern = given.length === 0 ? sec?.pattern : o.pattern;
  const named = sec ? ` (section ${sectionOf(o.program)} names none)` : '';
  if (binary === undefined) throw new AttachArgumentError(op, `binary is required${named}`);
  if (!symbols && !offsets && pattern === undefined) throw new AttachArgumentError(op, `symbols, pattern or offsets is required${named}`);
  const count = symbols?.length ?? offsets?.length;
  for (const [what, list] of [['cookies', cookies], ['refCtrOffsets', refCtrs]] as const) {
    if (!list) continue;
    // a pattern's matches are known only once the file is read: which one would get which value?
    if (count === undefined) throw new AttachArgumentError(op, `${what} need symbols or offsets (one each, in their order), not a pattern`);
    if (list.length !== count) throw new AttachArgumentError(op, `${what} has ${list.length} entries for ${count} ${symbols ? 'symbols' : 'offsets'}: one each`);
  }
  const pid = o.pid ?? -1;
  if (uprobeMultiSupported() === false) {
    throw new UprobeMultiUnsupportedError(op, 'uprobe', `this kernel has no uprobe.multi links (its BTF has no bpf_uprobe_multi_link: kernel < 6.6, or built without CONFIG_UPROBES); attach each function with attachUprobe instead`);
  }

  const path = resolveProbeBinary(op, binary);
  let found: { symbol?: string; offset: number }[];
  if (offsets) {
    found = offsets.map((offset) => ({ offset }));
  } else {
    const elf = readProbeElf(op, path);
    if (symbols) {
      found = symbols.map((symbol) => ({ symbol, offset: functionOffsetIn(op, path, elf, symbol).offset }));
    } else {
      const m = findFunctionsMatching(elf, pattern!);
      if (m.functions.length === 0) {
        const why = m.ifuncs.length > 0
          ? `it matches only indirect functions (${m.ifuncs.join(', ')}), whose symbols are resolvers: probe the implementations by name or offset`
          : `no function matches${pattern!.includes('@') ? ' (patterns match names without their @VERSION)' : ''}`;
        throw new PatternNotMatchedError(op, pattern!, path, why);
      }
      found = m.functions.map((f) => ({ symbol: f.symbol.name, offset: f.offset }));
    }
  }
  checkDistinct(op, path, found);
  checkInFile(op, path, found, refCtrs);
  const prog = checkProgram(op, o.program, ALLOWED, 'a uprobe.multi link');
  const typeKnown = checkAttachType(op, o.program);
  checkProcess(op, pid);

  const kind = retprobe ? 'uretprobe.multi' as const : 'uprobe.multi' as const;
  const where = `${kind} ${path} (${show(found)})${pid === -1 ? '' : ` for pid ${pid}`}, ${programLabel(prog)}`;
  let fd: Fd;
  try {
    fd = linkCreate({
      progFd: prog.fd, attachType: BPF_ATTACH_TYPE.TRACE_UPROBE_MULTI,
      uprobeMulti: {
        path, offsets: found.map((p) => p.offset), refCtrOffsets: refCtrs, cookies,
        flags: retprobe ? BPF_F_UPROBE_MULTI_RETURN : 0, pid: pid === -1 ? 0 : pid,
      },
    });
  } catch (e) {
    throw attachRefusal(e, where, (x) => hint(x, typeKnown, pid));
  }
  const probes = found.map((p, i) => ({ symbol: p.symbol, offset: p.offset, cookie: cookies?.[i] ?? 0n, refCtrOffset: refCtrs?.[i] ?? 0 }));
  const info: UprobeMultiAttachmentInfo = {
    kind, binary: path, pattern: symbols || offsets ? undefined : pattern, probes, pid,
    linkId: freshLinkId(fd), programId: prog.id, programName: prog.name,
  };
  return new UprobeMultiAttachment(info, fd, ALLOWED);
}

/** Two probes at one offset would run the program twice per call: refused, naming both. */
function checkDistinct(op: string, path: string, found: readonly { symbol?: string; offset: number }[]): void {
  const seen = new Map<number, number>();
  found.forEach((p, i) => {
    const j = seen.get(p.offset);
    if (j === undefined) {
      seen.set(p.offset, i);
      return;
    }
    const name = (k: number) => (found[k].symbol !== undefined ? `${found[k].symbol} (#${k})` : `#${k}`);
    throw new AttachArgumentError(op, `${path}: ${name(j)} and ${name(i)} are both at file offset 0x${p.offset.toString(16)}; the program would run twice for each call there (give it once)`);
  });
}

/** The kernel refuses offsets past the end of the file (EINVAL); said here with the one at fault. */
function checkInFile(op: string, path: string, found: readonly { symbol?: string; offset: number }[], refCtrs: readonly number[] | undefined): void {
  const size = statSync(path).size;
  found.forEach((p, i) => {
    if (p.offset >= size) throw new AttachArgumentError(op, `offsets[${i}] 0x${p.offset.toString(16)} is past the end of ${path} (${size} bytes)`);
    const r = refCtrs?.[i] ?? 0;
    if (r >= size) throw new AttachArgumentError(op, `refCtrOffsets[${i}] 0x${r.toString(16)} is past the end of ${path} (${size} bytes)`);
  });
}
