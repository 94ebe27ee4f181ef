// attachTcx: a TCX BPF link (kernel >= 6.6) on ingress or egress. Unlike attachTc the attachment is
// owned by the link: it goes when the handle is detached or closed (or the process exits) unless the
// link is pinned. TCX programs run before cls_bpf filters on the same hook, in an explicit order
// (before/after anchors) instead of priorities; netlink tools (`tc filter show`) do not see them.
// With `netns`, the LINK_CREATE runs with the calling thread in that network namespace (the kernel
// resolves its ifindex there) and the thread is back in its own before attachTcx returns.
import { BPF_ATTACH_FLAG, BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../syscall/types.js';
import type { InterfaceRef } from '../netlink/link.js';
import { inNetnsText, usingNetns, type Netns, type NetnsRef } from '../netlink/netns-enter.js';
import type { TcDirection } from '../netlink/filter.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { isU32, isU64 } from '../syscall/int-range.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { attachRefusal, programLabel } from './refusal.js';
import { LinkAttachment, type LinkAttachmentInfo } from './bpf-link.js';
import { interfaceIn, linkCreateIn } from './netns.js';

/** Where in the hook's list the program goes, relative to another program or link. */
export type TcxAnchor =
  | AttachableProgram
  | LinkAttachment
  | { readonly programId: number }
  | { readonly linkId: number };

export interface AttachTcxOptions {
  program: AttachableProgram;
  interface: InterfaceRef;
  direction: TcDirection;
  /** run before this program/link (or first of all with 'first') */
  before?: TcxAnchor | 'first';
  /** run after this program/link (or last of all with 'last'); the default is appending */
  after?: TcxAnchor | 'last';
  /** fail with ESTALE unless the hook's revision is still this one (from a PROG_QUERY) */
  expectedRevision?: bigint | number;
  /** the interface's network namespace (default: the calling thread's); as AttachTcOptions.netns */
  netns?: NetnsRef;
}

export interface TcxAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'tcx';
  readonly interface: string;
  readonly ifindex: number;
  readonly direction: TcDirection;
  /** the network namespace given as `netns` (its path, or "fd N"); absent: the caller's */
  readonly netns?: string;
}

/** An id the kernel could have given: 1 … 2^32 − 1. */
function isId(n: unknown): n is number {
  return isU32(n) && n >= 1;
}

function anchor(op: string, side: 'before' | 'after', a: TcxAnchor | 'first' | 'last'): { flags: number; relativeFd?: number; relativeId?: number; label: string } {
  // BPF_F_BEFORE without a relative means first, BPF_F_AFTER without one last: the other way round
  // cannot be said to the kernel (it would silently mean the opposite end)
  if (a === 'first' || a === 'last') {
    const end = side === 'before' ? 'first' : 'last';
    if (a !== end) throw new AttachArgumentError(op, `${side}: '${a}' cannot be; ${side === 'before' ? "before: 'first' or after: 'last'" : "after: 'last' or before: 'first'"} says where the end is`);
    return { flags: 0, label: a };
  }
  if (a === null || typeof a !== 'object') throw new AttachArgumentError(op, `${side}: an anchor is a program, a LinkAttachment, { programId }, { linkId } or '${side === 'before' ? 'first' : 'last'}', got ${String(a)}`);
  if (a instanceof LinkAttachment) {
    if (a.closed) throw new AttachArgumentError(op, `${side}: the anchor link (id ${a.info.linkId}) is ${a.detached ? 'detached' : 'closed'}`);
    return { flags: BPF_ATTACH_FLAG.LINK, relativeFd: a.fd.value, label: `link id ${a.info.linkId}` };
  }
  if ('linkId' in a) {
    if (!isId(a.linkId)) throw new AttachArgumentError(op, `${side}: linkId must be a link id (an integer 1 … 2^32 − 1), got ${String(a.linkId)}`);
    return { flags: BPF_ATTACH_FLAG.LINK | BPF_ATTACH_FLAG.ID, relativeId: a.linkId, label: `link id ${a.linkId}` };
  }
  if ('programId' in a) {
    if (!isId(a.programId)) throw new AttachArgumentError(op, `${side}: programId must be a program id (an integer 1 … 2^32 − 1), got ${String(a.programId)}`);
    return { flags: BPF_ATTACH_FLAG.ID, relativeId: a.programId, label: `program id ${a.programId}` };
  }
  if ('fd' in a && a.fd) {
    if (a.fd.closed) throw new AttachArgumentError(op, `${side}: the anchor program ${a.name} is closed`);
    return { flags: 0, relativeFd: a.fd.value, label: `program ${a.name}` };
  }
  throw new AttachArgumentError(op, `${side}: an anchor is a program, a LinkAttachment, { programId } or { linkId }`);
}

/** What the usual LINK_CREATE refusals at a tcx hook mean. */
function tcxHint(e: BpfError, anchored: boolean, revision: bigint | number | undefined): string | undefined {
  switch (e.code) {
    case ERRNO.EEXIST: return 'the program is already attached at this hook (a program goes once per hook)';
    case ERRNO.ENOENT: return anchored ? 'the anchor is not attached at this hook' : undefined;
    case ERRNO.EINVAL: return anchored ? 'the anchor is not attached at this hook, or not something an anchor can be' : undefined;
    case 116 /* ESTALE */: return `the hook changed since revision ${revision} (read it again with PROG_QUERY)`;
    case ERRNO.ERANGE: return 'the hook holds as many programs as it can';
    default: return undefined;
  }
}

export function attachTcx(o: AttachTcxOptions): LinkAttachment<TcxAttachmentInfo> {
  const op = 'attachTcx';
  if (o.direction !== 'ingress' && o.direction !== 'egress') throw new AttachArgumentError(op, `direction must be 'ingress' or 'egress', got ${String(o.direction)}`);
  if (o.before !== undefined && o.after !== undefined) throw new AttachArgumentError(op, 'give before or after, not both');
  const rev = o.expectedRevision;
  if (rev !== undefined && !isU64(rev)) {
    throw new AttachArgumentError(op, `expectedRevision must be a non-negative integer (a revision PROG_QUERY gave), got ${String(rev)}`);
  }
  return usingNetns(o.netns, op, (ns) => attachTcxIn(o, ns));
}

function attachTcxIn(o: AttachTcxOptions, ns: Netns | undefined): LinkAttachment<TcxAttachmentInfo> {
  const op = 'attachTcx';
  const rev = o.expectedRevision;
  const allowed = [BPF_PROG_TYPE.SCHED_CLS];
  const prog = checkProgram(op, o.program, allowed, 'a tcx hook');
  const iface = interfaceIn(o.interface, ns);
  let flags = 0;
  let rel: { relativeFd?: number; relativeId?: number; label?: string } = {};
  if (o.before !== undefined) {
    const a = anchor(op, 'before', o.before);
    flags = BPF_ATTACH_FLAG.BEFORE | a.flags;
    rel = a;
  } else if (o.after !== undefined) {
    const a = anchor(op, 'after', o.after);
    flags = BPF_ATTACH_FLAG.AFTER | a.flags;
    rel = a;
  }
  let fd;
  try {
    fd = linkCreateIn(ns, op, {
      progFd: prog.fd, targetIfindex: iface.index,
      attachType: o.direction === 'ingress' ? BPF_ATTACH_TYPE.TCX_INGRESS : BPF_ATTACH_TYPE.TCX_EGRESS,
      flags, relativeFd: rel.relativeFd, relativeId: rel.relativeId, expectedRevision: rev,
    });
  } catch (e) {
    const place = rel.label ? ` ${o.before !== undefined ? 'before' : 'after'} ${rel.label}` : '';
    const anchored = rel.relativeFd !== undefined || rel.relativeId !== undefined;
    throw attachRefusal(e, `tcx ${o.direction} on ${iface.name} (ifindex ${iface.index})${inNetnsText(ns)}, ${programLabel(prog)}${place}`, (x) => tcxHint(x, anchored, rev));
  }
  return LinkAttachment.own<TcxAttachmentInfo>(fd, allowed, (linkId) => ({
    kind: 'tcx', interface: iface.name, ifindex: iface.index, direction: o.direction,
    linkId, programId: prog.id, programName: prog.name, ...(ns ? { netns: ns.label } : {}),
  }));
}
