// attachTracing: BTF-targeted programs — fentry, fexit, fmod_ret, fsession (BPF_PROG_TYPE_TRACING
// on a kernel function, through a BPF trampoline), tp_btf (TRACING on a raw tracepoint with typed
// arguments) and lsm (BPF_PROG_TYPE_LSM on a bpf_lsm_ hook). The target was fixed at load time
// (attach_btf_id from the section name), so attaching names nothing: LINK_CREATE with target_fd 0 and
// the program's attach type (kernel >= 5.13; a tracing cookie from 6.0, for tp_btf from 6.10), or
// RAW_TRACEPOINT_OPEN with no name, which every kernel with these programs has (no cookie).
//
//   const a = attachTracing({ program: obj.programs.get('connect_entry')!, cookie: 7n });
//   a.info;   // { kind: 'tracing', attachType: 'fentry', target: 'tcp_v4_connect', mode: 'link', linkId, … }
//   a.detach();
//
// Not here: iter/ (an iterator is read, not attached to an event), lsm_cgroup/ (a cgroup hook, with
// attachCgroup), the .multi variants (many targets per link), freplace (EXT: loadObject does not
// give the target program an EXT program needs at load).
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import type { Fd } from '../syscall/fd.js';
import { linkCreate, rawTracepointOpen } from '../syscall/link.js';
import { expectFdKind } from '../syscall/fd-kind.js';
import { btfInfo, getFdById, linkInfo, progInfo } from '../syscall/obj.js';
import { BPF_ATTACH_TYPE, BPF_LINK_TYPE, BPF_PROG_TYPE, attachTypeName } from '../syscall/types.js';
import { loadKernelBtf, loadModuleBtf } from '../btf/kernel.js';
import type { Btf } from '../btf/btf.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { TracingLinkAttachment, checkCookie } from './perf-event.js';
import type { LinkAttachmentInfo } from './bpf-link.js';

/** How the kernel names the attach types attachTracing takes (libbpf's section prefixes). */
export type TracingAttachType = 'fentry' | 'fexit' | 'fmod_ret' | 'fsession' | 'tp_btf' | 'lsm';

const ATTACH_TYPES: Readonly<Record<TracingAttachType, number>> = {
  fentry: BPF_ATTACH_TYPE.TRACE_FENTRY, fexit: BPF_ATTACH_TYPE.TRACE_FEXIT, fmod_ret: BPF_ATTACH_TYPE.MODIFY_RETURN,
  fsession: BPF_ATTACH_TYPE.TRACE_FSESSION, tp_btf: BPF_ATTACH_TYPE.TRACE_RAW_TP, lsm: BPF_ATTACH_TYPE.LSM_MAC,
};

/** A program attachTracing takes: a BpfProgram (which knows its attach type and target), or its parts. */
export interface TracingProgram extends AttachableProgram {
  /** BPF_ATTACH_TYPE_* it was loaded with (BpfProgram.attachType); 0 or absent when unknown (a pin or an id) */
  readonly attachType?: number;
  /** the target named in its section (BpfProgram.attachTo); '' or absent: read from the kernel */
  readonly attachTo?: string;
}

export interface AttachTracingOptions {
  program: TracingProgram;
  /** bpf_get_attach_cookie() value: mode 'link' only (kernel >= 6.0; tp_btf >= 6.10) */
  cookie?: bigint | number;
  /**
   * 'link': LINK_CREATE only; 'raw_tracepoint': RAW_TRACEPOINT_OPEN only (no cookie). Default: a link,
   * RAW_TRACEPOINT_OPEN where the kernel has no tracing links (info.fallback says why).
   */
  mode?: 'link' | 'raw_tracepoint';
  /**
   * What the program was loaded as, for one from a pin or an id that is fentry, fexit, fmod_ret or
   * fsession (the kernel reports none of them apart; tp_btf and lsm are told from the target).
   * Needed there only for mode 'link' or a cookie: RAW_TRACEPOINT_OPEN uses the kernel's own.
   */
  attachType?: TracingAttachType;
}

export interface TracingAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'tracing';
  readonly attachType: TracingAttachType;
  /** the kernel function, tracepoint (tp_btf) or LSM hook without its bpf_lsm_ prefix */
  readonly target: string;
  readonly mode: 'link' | 'raw_tracepoint';
  /** the cookie given (mode 'link') */
  readonly cookie?: bigint;
  /** why RAW_TRACEPOINT_OPEN was used when no mode was asked for */
  readonly fallback?: string;
}

/**
 * Tracing links cannot be LINK_DETACHed (EOPNOTSUPP on 6.18: neither tracing nor raw tracepoint
 * links have the operation), so detach() closes the link, which ends it unless a pin holds it.
 */
export type TracingAttachment = TracingLinkAttachment<TracingAttachmentInfo>;

const ALLOWED = [BPF_PROG_TYPE.TRACING, BPF_PROG_TYPE.LSM] as const;

export function attachTracing(o: AttachTracingOptions): TracingAttachment {
  const op = 'attachTracing';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program } are required');
  if (o.mode !== undefined && o.mode !== 'link' && o.mode !== 'raw_tracepoint') {
    throw new AttachArgumentError(op, `mode must be 'link' or 'raw_tracepoint', got ${String(o.mode)}`);
  }
  checkCookie(op, o.cookie);
  // RAW_TRACEPOINT_OPEN passes no cookie to fentry/fexit/fmod_ret/lsm: it would be dropped without a word
  if (o.cookie !== undefined && o.mode === 'raw_tracepoint') throw new AttachArgumentError(op, "a cookie needs mode 'link' (RAW_TRACEPOINT_OPEN has no cookie for these programs)");
  if (o.attachType !== undefined && !Object.hasOwn(ATTACH_TYPES, o.attachType)) {
    throw new AttachArgumentError(op, `attachType must be one of ${Object.keys(ATTACH_TYPES).join(', ')}, got ${String(o.attachType)}`);
  }
  let prog: ReturnType<typeof checkProgram>;
  try {
    prog = checkProgram(op, o.program, ALLOWED, 'attachTracing');
  } catch (e) {
    if (e instanceof AttachArgumentError && isExt(o.program)) {
      throw new AttachArgumentError(op, `program ${o.program.name} is of type ext (freplace), which attachTracing does not take: loadObject cannot give the target program it needs at load`, { cause: e });
    }
    throw e;
  }
  const info = progInfo(prog.fd);
  const label = `program ${prog.name}`;
  if (info.attachBtfId === 0) throw new AttachArgumentError(op, `${label} was loaded without an attach target (attach_btf_id 0): load it from a section such as fentry/<function>`);

  const claimed = o.program.attachType;
  if (claimed !== undefined && (!Number.isInteger(claimed) || claimed < 0)) {
    throw new AttachArgumentError(op, `program.attachType must be a BPF_ATTACH_TYPE number (0: unknown), got ${String(claimed)}`);
  }
  const target = targetOf(o.program, info.type, info.attachBtfId, info.attachBtfObjId);
  const known = claimed ? claimed : undefined;
  let attachType = known ?? (o.attachType !== undefined ? ATTACH_TYPES[o.attachType] : undefined) ?? target.impliedAttachType;
  if (info.type === BPF_PROG_TYPE.LSM && attachType === undefined) attachType = BPF_ATTACH_TYPE.LSM_MAC;
  if (known !== undefined && o.attachType !== undefined && ATTACH_TYPES[o.attachType] !== known) {
    throw new AttachArgumentError(op, `${label} was loaded as ${tracingName(known) ?? attachTypeName(known)}, not ${o.attachType}`);
  }
  if (attachType !== undefined) refuseOtherHooks(op, label, attachType);
  const typeName = attachType !== undefined ? tracingName(attachType) : undefined;
  if (attachType !== undefined && typeName === undefined) {
    throw new AttachArgumentError(op, `${label} is a ${attachTypeName(attachType)} program; attachTracing takes ${Object.keys(ATTACH_TYPES).join(', ')}`);
  }
  const what = `${typeName ?? 'tracing'} ${target.name} (${label})`;

  let useLink = o.mode !== 'raw_tracepoint';
  if (useLink && attachType === undefined) {
    if (o.mode === 'link' || o.cookie !== undefined) {
      throw new AttachArgumentError(op, `${label} came without its attach type (a pin or an id: the kernel does not say whether it is fentry, fexit, fmod_ret or fsession); pass attachType for mode 'link' or a cookie`);
    }
    useLink = false; // RAW_TRACEPOINT_OPEN attaches it as whatever it was loaded as
  }
  if (o.cookie !== undefined) checkCookieSupport(op, attachType!);

  const cookie = o.cookie !== undefined ? BigInt(o.cookie) : undefined;
  const base = { kind: 'tracing' as const, target: target.name, programId: prog.id, programName: prog.name };
  let fallback: string | undefined;
  if (useLink) {
    let link: Fd | undefined;
    try {
      link = linkCreate({ progFd: prog.fd, targetFd: 0, attachType: attachType!, tracingCookie: cookie });
    } catch (e) {
      if (!(e instanceof BpfError)) throw e;
      // before 5.13 LINK_CREATE knows no tracing attach type (EINVAL); a cookie has nowhere else to go
      const noLinks = (e.code === ERRNO.EINVAL || e.code === ERRNO.EOPNOTSUPP) && o.mode === undefined && cookie === undefined;
      if (!noLinks) throw new BpfError(e.cmd, e.code, what, { cause: e });
      fallback = `LINK_CREATE failed with ${e.errno}: no tracing links on this kernel (or not this attach type)`;
    }
    if (link) return own(link, (l) => ({ ...base, ...l, mode: 'link' as const, ...(cookie !== undefined ? { cookie } : {}) }), typeName);
  }
  let link: Fd;
  try {
    link = rawTracepointOpen(prog.fd);
  } catch (e) {
    if (!(e instanceof BpfError)) throw e;
    throw new BpfError(e.cmd, e.code, what, { cause: e });
  }
  return own(link, (l) => ({ ...base, ...l, mode: 'raw_tracepoint' as const, ...(fallback ? { fallback } : {}) }), typeName);
}

/** Whether a program checkProgram refused is an EXT one (for a clearer word than "wrong type"). */
function isExt(p: TracingProgram): boolean {
  try {
    expectFdKind(p.fd.value, 'prog', 'program');
    return progInfo(p.fd.value).type === BPF_PROG_TYPE.EXT;
  } catch {
    return false;
  }
}

/** The kernel's name of a tracing attach type, undefined for the others. */
function tracingName(n: number): TracingAttachType | undefined {
  return (Object.keys(ATTACH_TYPES) as TracingAttachType[]).find((k) => ATTACH_TYPES[k] === n);
}

function refuseOtherHooks(op: string, label: string, attachType: number): void {
  const other: Partial<Record<number, string>> = {
    [BPF_ATTACH_TYPE.TRACE_ITER]: 'an iterator (iter/): it is read through an iterator link, not attached to an event',
    [BPF_ATTACH_TYPE.LSM_CGROUP]: 'an lsm_cgroup program: a cgroup hook, attached with attachCgroup',
    [BPF_ATTACH_TYPE.TRACE_FENTRY_MULTI]: 'a multi-function program (fentry.multi): not supported here',
    [BPF_ATTACH_TYPE.TRACE_FEXIT_MULTI]: 'a multi-function program (fexit.multi): not supported here',
    [BPF_ATTACH_TYPE.TRACE_FSESSION_MULTI]: 'a multi-function program (fsession.multi): not supported here',
  };
  const why = other[attachType];
  if (why) throw new AttachArgumentError(op, `${label} is ${why}`);
}

interface Target {
  name: string;
  /** what the target's BTF type says the program is, where it says (tp_btf, iter) */
  impliedAttachType?: number;
}

/** The target's name: the section's, else the attach BTF type's name from the kernel, prefix removed. */
function targetOf(p: TracingProgram, progType: number, btfId: number, btfObjId: number): Target {
  const named = typeof p.attachTo === 'string' && p.attachTo !== '' ? p.attachTo : undefined;
  const t = attachBtfType(btfId, btfObjId);
  if (!t) return { name: named ?? `btf id ${btfId}${btfObjId ? ` of btf object ${btfObjId}` : ' of a BPF program'}` };
  const strip = (prefix: string) => (t.name.startsWith(prefix) ? t.name.slice(prefix.length) : t.name);
  if (t.kind === 'typedef' && t.name.startsWith('btf_trace_')) return { name: named ?? strip('btf_trace_'), impliedAttachType: BPF_ATTACH_TYPE.TRACE_RAW_TP };
  if (t.kind === 'func' && t.name.startsWith('bpf_iter_')) return { name: named ?? strip('bpf_iter_'), impliedAttachType: BPF_ATTACH_TYPE.TRACE_ITER };
  // bpf_lsm_ is stripped for LSM programs only: fentry on bpf_lsm_file_open is fentry on that function
  return { name: named ?? (progType === BPF_PROG_TYPE.LSM ? strip('bpf_lsm_') : t.name) };
}

/** The attach BTF type (vmlinux or a module's); undefined when it cannot be read (a BPF program's BTF, a gone module). */
function attachBtfType(btfId: number, btfObjId: number): { name: string; kind: string } | undefined {
  if (btfObjId === 0) return undefined;
  let btf: Btf;
  try {
    const fd = getFdById('btf', btfObjId);
    let name: string;
    let kernel: boolean;
    try {
      ({ name, kernelBtf: kernel } = btfInfo(fd.value));
    } finally {
      fd.close();
    }
    if (!kernel) return undefined;
    btf = name === 'vmlinux' ? loadKernelBtf() : loadModuleBtf(name);
    const t = btf.type(btfId);
    return { name: t.name, kind: t.kind };
  } catch {
    return undefined;
  }
}

/** Kernels before the cookie field was there read past it silently: ask kernel BTF for the link struct's cookie. */
function checkCookieSupport(op: string, attachType: number): void {
  const [struct, since] = attachType === BPF_ATTACH_TYPE.TRACE_RAW_TP ? ['bpf_raw_tp_link', '6.10'] : ['bpf_tramp_link', '6.0'];
  let has = false;
  try {
    const t = loadKernelBtf().findByName(struct, 'struct');
    has = !!t && 'members' in t && t.members.some((m) => m.name === 'cookie');
  } catch { /* no kernel BTF: no cookie either */ }
  if (!has) throw new AttachArgumentError(op, `this kernel has no cookie for ${tracingName(attachType)} links (struct ${struct} has no cookie: Linux >= ${since})`);
}

/**
 * Own a fresh link: its id, and its attach type as the kernel reports it (a tracing link says; a raw
 * tracepoint link is tp_btf). The fd is closed if the link cannot be described.
 */
function own(
  link: Fd,
  info: (l: { linkId: number; attachType: TracingAttachType }) => TracingAttachmentInfo,
  known: TracingAttachType | undefined,
): TracingAttachment {
  let made: TracingAttachmentInfo;
  try {
    const l = linkInfo(link.value);
    const reported = l.type === BPF_LINK_TYPE.RAW_TRACEPOINT ? 'tp_btf' : l.attachType !== undefined ? tracingName(l.attachType) : undefined;
    const attachType = reported ?? known;
    if (attachType === undefined) throw new AttachArgumentError('attachTracing', `link ${l.id} has an attach type this library does not name (${l.attachType})`);
    made = info({ linkId: l.id, attachType });
  } catch (e) {
    link.close();
    throw e;
  }
  return new TracingLinkAttachment(made, link, ALLOWED);
}
