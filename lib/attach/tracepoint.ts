// attachTracepoint and attachRawTracepoint.
//
// A tracepoint program runs on a perf event of type PERF_TYPE_TRACEPOINT whose config is the
// tracepoint's id (tracefs events/<category>/<name>/id). The event is opened for pid -1 on CPU 0 as
// libbpf does: a BPF program on a tracepoint event runs on every CPU whatever the event's CPU. The
// program goes onto the event through a BPF link (LINK_CREATE, BPF_PERF_EVENT, kernel >= 5.15), or
// on older kernels (or mode: 'ioctl') through PERF_EVENT_IOC_SET_BPF + ENABLE; either way closing the
// event ends it. A raw tracepoint program (no perf event, the tracepoint's raw arguments) is attached
// with RAW_TRACEPOINT_OPEN, whose fd is a link.
//
//   const t = attachTracepoint({ program, category: 'sched', name: 'sched_process_exec' });
//   const r = attachRawTracepoint({ program, name: 'sys_enter' });
//   t.detach(); r.detach();
import { existsSync, readFileSync } from 'node:fs';
import { Fd } from '../syscall/fd.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { rawTracepointOpen } from '../syscall/link.js';
import { BPF_PROG_TYPE } from '../syscall/types.js';
import { PERF_TYPE_TRACEPOINT } from '../perf/attr.js';
import { perfEventOpen } from '../perf/open.js';
import { tracefsDir } from '../tracepipe/reader.js';
import { AttachArgumentError, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
import { attachToPerfEvent, checkCookie, checkPerfEventOptions, PerfEventAttachment, TracingLinkAttachment } from './perf-event.js';
import { freshLinkId, type LinkAttachmentInfo } from './bpf-link.js';

// the attachment classes are shared with uprobes and kprobes (perf-event.ts); exported here as before
export { PerfEventAttachment, TracingLinkAttachment };

/** The tracepoint is not in tracefs (or the raw tracepoint not in the kernel). */
export class TracepointNotFoundError extends AttachArgumentError {
  /** 'category:name', or the raw tracepoint's name */
  readonly tracepoint: string;
  constructor(op: string, tracepoint: string, why: string) {
    super(op, `tracepoint ${tracepoint} ${why}`);
    this.tracepoint = tracepoint;
  }
}

export interface AttachTracepointOptions {
  program: AttachableProgram;
  /** the directory under tracefs events/: 'syscalls', 'sched', 'net', … */
  category: string;
  /** the event: 'sys_enter_getppid', 'sched_process_exec', … */
  name: string;
  /** 'link' (LINK_CREATE only), 'ioctl' (PERF_EVENT_IOC_SET_BPF only); default a link, ioctl where links are missing */
  mode?: 'link' | 'ioctl';
  /** bpf_get_attach_cookie() value (links only) */
  cookie?: bigint | number;
}

export interface TracepointAttachmentInfo extends AttachmentInfo {
  readonly kind: 'tracepoint';
  readonly category: string;
  readonly name: string;
  /** the tracepoint's id in tracefs */
  readonly tracepointId: number;
  readonly mode: 'link' | 'ioctl';
  readonly programId: number;
  readonly programName: string;
  /** the kernel's link id in mode 'link' */
  readonly linkId?: number;
}

export interface AttachRawTracepointOptions {
  program: AttachableProgram;
  /** the tracepoint's name without category: 'sys_enter', 'sched_switch', … */
  name: string;
  /** bpf_get_attach_cookie() value (kernel >= 6.10) */
  cookie?: bigint | number;
}

export interface RawTracepointAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'raw_tracepoint';
  readonly name: string;
}

export type TracepointAttachment = TracingLinkAttachment<TracepointAttachmentInfo & LinkAttachmentInfo> | PerfEventAttachment<TracepointAttachmentInfo>;

// a tracefs name component: no path separators, no '..'
const NAME_RE = /^[A-Za-z0-9_.-]+$/;

/** The tracepoint's id from tracefs (mounted at /sys/kernel/tracing when missing). */
export function tracepointId(category: string, name: string, op = 'tracepointId'): number {
  for (const [what, v] of [['category', category], ['name', name]] as const) {
    if (typeof v !== 'string' || !NAME_RE.test(v) || v === '.' || v === '..') {
      throw new AttachArgumentError(op, `tracepoint ${what} must be a plain tracefs name, got ${JSON.stringify(v)}`);
    }
  }
  const dir = tracefsDir();
  const path = `${dir}/events/${category}/${name}/id`;
  if (!existsSync(path)) {
    const why = existsSync(`${dir}/events/${category}`) ? `does not exist (no ${name} under ${dir}/events/${category})` : `does not exist (no category ${category} under ${dir}/events)`;
    throw new TracepointNotFoundError(op, `${category}:${name}`, why);
  }
  const id = Number.parseInt(readFileSync(path, 'utf8').trim(), 10);
  if (!Number.isInteger(id) || id < 0) throw new TracepointNotFoundError(op, `${category}:${name}`, `has an unreadable id in ${path}`);
  return id;
}

function openTracepointEvent(id: number, what: string): Fd {
  // pid -1 on CPU 0, as libbpf: a BPF program on a tracepoint event runs on every CPU
  return perfEventOpen({ attr: { type: PERF_TYPE_TRACEPOINT, config: id, sample_period: 1, wakeup_events: 1 }, pid: -1, cpu: 0 }, `tracepoint ${what} (id ${id})`, `perf event ${what}`);
}

export function attachTracepoint(o: AttachTracepointOptions): TracepointAttachment {
  const op = 'attachTracepoint';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, category, name } are required');
  checkPerfEventOptions(op, o);
  const allowed = [BPF_PROG_TYPE.TRACEPOINT];
  const prog = checkProgram(op, o.program, allowed, 'a tracepoint');
  const id = tracepointId(o.category, o.name, op);
  const what = `${o.category}:${o.name}`;
  const event = openTracepointEvent(id, what);
  const base = { kind: 'tracepoint' as const, category: o.category, name: o.name, tracepointId: id, programId: prog.id, programName: prog.name };
  return attachToPerfEvent(event, prog.fd, allowed, base, `tracepoint ${what}`, o);
}

export function attachRawTracepoint(o: AttachRawTracepointOptions): TracingLinkAttachment<RawTracepointAttachmentInfo> {
  const op = 'attachRawTracepoint';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, name } are required');
  if (typeof o.name !== 'string' || !NAME_RE.test(o.name)) throw new AttachArgumentError(op, `name must be a tracepoint name like 'sys_enter', got ${JSON.stringify(o.name)}`);
  checkCookie(op, o.cookie);
  const allowed = [BPF_PROG_TYPE.RAW_TRACEPOINT, BPF_PROG_TYPE.RAW_TRACEPOINT_WRITABLE];
  const prog = checkProgram(op, o.program, allowed, 'a raw tracepoint');
  let link: Fd;
  try {
    link = rawTracepointOpen(prog.fd, o.name, o.cookie);
  } catch (e) {
    if (e instanceof BpfError && e.code === ERRNO.ENOENT) throw new TracepointNotFoundError(op, o.name, 'does not exist in the kernel (raw tracepoints are named without category: sys_enter, sched_switch, …)');
    throw e;
  }
  return new TracingLinkAttachment({ kind: 'raw_tracepoint' as const, name: o.name, linkId: freshLinkId(link), programId: prog.id, programName: prog.name }, link, allowed);
}
