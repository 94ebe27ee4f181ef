// A program on a perf event: what tracepoints, uprobes and kprobes share once their event is open.
// The program goes on through a BPF link (LINK_CREATE BPF_PERF_EVENT, kernel >= 5.15, the only way
// to give it a cookie), or on older kernels (or mode: 'ioctl') through PERF_EVENT_IOC_SET_BPF +
// ENABLE; either way closing the event ends it. One rule for every kind of event, so they fail,
// fall back and clean up alike.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import type { Fd } from '../syscall/fd.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { isU64 } from '../syscall/int-range.js';
import { linkCreate, linkDetach } from '../syscall/link.js';
import { BPF_ATTACH_TYPE } from '../syscall/types.js';
import { PERF_EVENT_IOC_DISABLE, PERF_EVENT_IOC_ENABLE, PERF_EVENT_IOC_SET_BPF } from '../perf/attr.js';
import { AttachArgumentError, Attachment, type AttachmentInfo } from './handle.js';
import { LinkAttachment, freshLinkId, type LinkAttachmentInfo } from './bpf-link.js';

/**
 * A link the kernel cannot LINK_DETACH (perf event and raw tracepoint links): detach() closes it,
 * which ends it unless it is pinned; a pinned one says so instead of pretending.
 */
export class TracingLinkAttachment<I extends LinkAttachmentInfo> extends LinkAttachment<I> {
  readonly #extra: Fd | undefined;

  /** `extra`: an fd the link needs kept open until the end (the perf event), owned from here */
  constructor(info: I, fd: Fd, allowedTypes: readonly number[], extra?: Fd) {
    super(info, fd, allowedTypes);
    this.#extra = extra;
  }

  protected override doDetach(): void {
    try {
      linkDetach(this.fd.value);
    } catch (e) {
      if (!(e instanceof BpfError) || (e.code !== ERRNO.EOPNOTSUPP && e.code !== ERRNO.EINVAL)) throw e;
      // closing our fd (release) ends it, unless a pin holds it
      if (this.pinnedAt !== undefined) {
        // nothing this handle can do ends the link: it lets go of its fd (closed, not detached) and says so
        this.close();
        throw new AttachArgumentError(`${this.info.kind}.detach`, `the link is pinned at ${this.pinnedAt} and this kernel cannot detach it (LINK_DETACH: ${e.errno}); remove the pin to end it`);
      }
    }
  }

  protected override release(): void {
    super.release();
    this.#extra?.close();
  }
}

/** A program on its perf event by ioctl (no link): closing the event ends it. */
export class PerfEventAttachment<I extends AttachmentInfo = AttachmentInfo> extends Attachment<I> {
  readonly #event: Fd;

  constructor(info: I, event: Fd) {
    super(info);
    this.#event = event;
  }

  protected doDetach(): void {
    ffi().syscall3(SYS.ioctl, this.#event.value, PERF_EVENT_IOC_DISABLE, 0);
  }

  protected override release(): void {
    this.#event.close();
  }
}

/** A bpf_get_attach_cookie() value: a u64, as a bigint or a safe integer. */
export function checkCookie(op: string, cookie: unknown): void {
  if (cookie !== undefined && !isU64(cookie)) throw new AttachArgumentError(op, `cookie must be a u64 (a bigint, or a non-negative safe integer), got ${typeof cookie === 'string' ? JSON.stringify(cookie) : String(cookie)}`);
}

/** The mode and cookie options every perf-event attach takes, checked before anything is opened. */
export function checkPerfEventOptions(op: string, o: { mode?: unknown; cookie?: unknown }): void {
  if (o.mode !== undefined && o.mode !== 'link' && o.mode !== 'ioctl') throw new AttachArgumentError(op, `mode must be 'link' or 'ioctl', got ${String(o.mode)}`);
  checkCookie(op, o.cookie);
  // PERF_EVENT_IOC_SET_BPF has no cookie: it would be dropped without a word
  if (o.cookie !== undefined && o.mode === 'ioctl') throw new AttachArgumentError(op, "a cookie needs a link (mode 'link'): the ioctl attachment has none");
}

export type PerfEventModeInfo<B> = B & { readonly mode: 'link' | 'ioctl'; readonly linkId?: number };

/**
 * Put program `progFd` on the open perf `event` (owned from here: closed on failure, else by the
 * attachment). `base` is the info without mode/linkId; `what` names the event in errors ('tracepoint
 * sched:sched_switch', 'uprobe /usr/lib/…/libc.so.6:getppid'). Without a mode a link is tried first
 * and the ioctl taken where links are missing (EINVAL/EOPNOTSUPP and no cookie asked for).
 */
export function attachToPerfEvent<B extends AttachmentInfo & { readonly programId: number; readonly programName: string }>(
  event: Fd, progFd: number, allowed: readonly number[], base: B, what: string, o: { mode?: 'link' | 'ioctl'; cookie?: bigint | number },
): TracingLinkAttachment<PerfEventModeInfo<B> & LinkAttachmentInfo> | PerfEventAttachment<PerfEventModeInfo<B>> {
  try {
    if (o.mode !== 'ioctl') {
      try {
        const link = linkCreate({ progFd, targetFd: event.value, attachType: BPF_ATTACH_TYPE.PERF_EVENT, perfEventCookie: o.cookie });
        return new TracingLinkAttachment({ ...base, mode: 'link' as const, linkId: freshLinkId(link) }, link, allowed, event);
      } catch (e) {
        const unsupported = e instanceof BpfError && (e.code === ERRNO.EINVAL || e.code === ERRNO.EOPNOTSUPP) && o.cookie === undefined;
        if (o.mode === 'link' || !unsupported) throw e instanceof BpfError ? new BpfError(e.cmd, e.code, what, { cause: e }) : e;
      }
    }
    ioctl(event, PERF_EVENT_IOC_SET_BPF, progFd, what);
    ioctl(event, PERF_EVENT_IOC_ENABLE, 0, what);
    return new PerfEventAttachment({ ...base, mode: 'ioctl' as const }, event);
  } catch (e) {
    event.close();
    throw e;
  }
}

function ioctl(fd: Fd, req: number, arg: number, what: string): void {
  const r = ffi().syscall3(SYS.ioctl, fd.value, req, arg);
  if (r < 0) throw new BpfError(req === PERF_EVENT_IOC_SET_BPF ? 'ioctl(PERF_EVENT_IOC_SET_BPF)' : 'ioctl(PERF_EVENT_IOC_ENABLE)', -r, what);
}

