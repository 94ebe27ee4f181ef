// attachTc: a direct-action cls_bpf filter on the clsact hook, over tsbpf's rtnetlink client.
// The attachment outlives the process unless detached; detach() removes the filter only while it
// still runs this handle's program. clsact is added when missing and removed again when the last
// filter on it goes — but only by a handle that owns it: the handle that added it, or a later handle
// of this process attached to that same clsact while an owner was still live (see ClsactClaim). A
// clsact that was already there, that someone re-created since, or that still carries any filter
// (ours or anyone's) stays. Adding clsact+filter and removing the clsact run under a host-wide lock
// of tsbpf processes (clsact-lock.ts); a clsact another tool removes between attachTc's steps is
// added again.
//
// With `netns` the interface is looked for in that network namespace: the calling thread enters it
// only to open the netlink socket (netns-enter.ts), which stays there; every step, detach() too, goes
// through that socket from the thread's own namespace.
import { statSync } from 'node:fs';
import { BPF_PROG_TYPE } from '../syscall/types.js';
import { NetlinkSocket } from '../netlink/socket.js';
import { InterfaceNotFoundError, NetlinkError } from '../netlink/errors.js';
import { inNetnsText, usingNetns, type Netns, type NetnsRef } from '../netlink/netns-enter.js';
import { getInterface, type InterfaceRef } from '../netlink/link.js';
import { ensureClsact, deleteClsact, hookQdisc } from '../netlink/qdisc.js';
import { attachFilter, detachFilter, getFilter, listFilters, type TcDirection, type TcFilter } from '../netlink/filter.js';
import { withClsactLock } from './clsact-lock.js';
import { Attachment, AttachArgumentError, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';

export interface AttachTcOptions {
  program: AttachableProgram;
  /** interface name or index, in the calling thread's network namespace or in `netns` */
  interface: InterfaceRef;
  direction: TcDirection;
  /**
   * the network namespace the interface is in (default: the calling thread's): a path
   * (/run/netns/NAME, /proc/PID/ns/net), a bare NAME (/run/netns/NAME, as `ip -n NAME`), an open fd
   * of one (a number or an Fd, borrowed) or a Netns. Checked before anything is attached (NetnsError).
   */
  netns?: NetnsRef;
  /** filter priority 1..65535 (lower runs first); omitted: the kernel picks one below the existing ones */
  priority?: number;
  /** filter handle; omitted: the kernel picks one */
  handle?: number;
  /** replace the filter at priority+handle (both required) instead of failing with EEXIST */
  replace?: boolean;
  /** TCA_BPF_NAME shown by `tc filter show` (default: the program's name); at most 256 bytes, no NUL */
  name?: string;
  /** never remove the clsact qdisc on detach, even if this attach created it */
  keepQdisc?: boolean;
}

export interface TcAttachmentInfo extends AttachmentInfo {
  readonly kind: 'tc';
  readonly interface: string;
  readonly ifindex: number;
  readonly direction: TcDirection;
  /** as the kernel chose or confirmed it */
  readonly priority: number;
  readonly handle: number;
  /** the filter chain (0: where packets start) */
  readonly chain: number;
  readonly programId: number;
  readonly programName: string;
  /** whether this attach added the clsact qdisc */
  readonly createdQdisc: boolean;
  /** the network namespace given as `netns` (its path, or "fd N"); absent: the caller's */
  readonly netns?: string;
}

/** The clsact claims' key: the namespace (the one given, else the calling thread's) and the ifindex in it. */
function netnsKey(ifindex: number, ns: Netns | undefined): string {
  let ino = ns?.inode ?? 0;
  if (!ns) {
    try {
      ino = statSync('/proc/thread-self/ns/net').ino;
    } catch { /* no procfs: one namespace assumed */ }
  }
  return `${ino}:${ifindex}`;
}

/**
 * The live handles that may remove a clsact tsbpf added, keyed by "<netns inode>:<ifindex>". The
 * handle that adds the clsact starts a claim; a handle that attaches later to an existing clsact joins
 * it only if one of the claim's filters is still there (removing a clsact removes its filters, so one
 * re-created by someone else carries none of ours). Handles leave on detach() or close(); a claim
 * with no handle left is forgotten, so nothing stale outlives the handles.
 */
class ClsactClaim {
  readonly members = new Set<TcAttachment>();
  /** the clsact it was about is gone (a new one was added since): nobody removes through it */
  dead = false;
}

const claims = new Map<string, ClsactClaim>();

const GONE = new Set([2 /* ENOENT */, 19 /* ENODEV */]);

/** CLS_BPF_NAME_LEN: TCA_BPF_NAME is an NLA_NUL_STRING the kernel takes up to 256 bytes long (then its NUL) */
const FILTER_NAME_MAX = 256;

/** The filter name as cls_bpf takes it, or an AttachArgumentError naming it. */
function checkFilterName(op: string, name: unknown): string {
  if (typeof name !== 'string') throw new AttachArgumentError(op, `name must be a string, got ${typeof name}`);
  const shown = JSON.stringify(name.length > 40 ? `${name.slice(0, 40)}…` : name);
  const bytes = Buffer.byteLength(name, 'utf8');
  if (bytes > FILTER_NAME_MAX) throw new AttachArgumentError(op, `filter name ${shown} is ${bytes} bytes; cls_bpf takes at most ${FILTER_NAME_MAX}`);
  if (name.includes('\0')) throw new AttachArgumentError(op, `filter name ${shown} contains a NUL byte; the kernel would keep only what comes before it`);
  return name;
}

/** Is this filter the one a handle attached (same place, a cls_bpf filter, same program)? */
const isOurs = (i: TcAttachmentInfo, f: TcFilter): boolean =>
  f.kind === 'bpf' && f.direction === i.direction && f.chain === i.chain && f.priority === i.priority && f.handle === i.handle && (f.progId === undefined || f.progId === i.programId);

/**
 * The filter at a handle's place if it is still the handle's, asked for by its address: a dump of
 * the hook could leave it out while other filters come and go (see getFilter).
 */
function ourFilter(i: TcAttachmentInfo, sock: NetlinkSocket): TcFilter | undefined {
  const f = getFilter({ ifindex: i.ifindex, direction: i.direction, chain: i.chain, priority: i.priority, handle: i.handle }, sock);
  return f && isOurs(i, f) ? f : undefined;
}

export class TcAttachment extends Attachment<TcAttachmentInfo> {
  readonly #sock: NetlinkSocket;
  readonly #key: string;
  #claim: ClsactClaim | undefined;

  /** @internal use attachTc() */
  constructor(info: TcAttachmentInfo, sock: NetlinkSocket, key: string, claim: ClsactClaim | undefined) {
    super(info);
    this.#sock = sock;
    this.#key = key;
    this.#claim = claim;
    claim?.members.add(this);
  }

  protected doDetach(): void {
    const i = this.info;
    let removed = false;
    try {
      // only our filter: one that another program replaced since (attachTc replace, `tc filter
      // replace`) belongs to whoever put it there and stays
      if (ourFilter(i, this.#sock)) {
        detachFilter({ ifindex: i.ifindex, direction: i.direction, chain: i.chain, priority: i.priority, handle: i.handle }, this.#sock);
        removed = true;
      }
    } catch (e) {
      // already removed (by `tc`, or with its interface, or with its clsact after we listed it): the
      // goal is reached
      if (!(e instanceof NetlinkError && (GONE.has(e.code) || (e.code === 22 /* EINVAL */ && !this.#filterThere())))) throw e;
    }
    // a filter of ours we just removed proves the clsact is still the claimed one; when someone else
    // removed it, the clsact there now may be theirs (re-created), and it stays
    const claim = this.#claim;
    if (claim && !claim.dead && removed) withClsactLock('TcAttachment.detach', () => releaseQdisc(i.ifindex, this.#sock));
  }

  /** Is this handle's filter still on the interface (false too when that cannot be told)? */
  #filterThere(): boolean {
    try {
      return ourFilter(this.info, this.#sock) !== undefined;
    } catch {
      return true;
    }
  }

  protected override release(): void {
    const claim = this.#claim;
    this.#claim = undefined;
    if (claim) {
      claim.members.delete(this);
      if (claim.members.size === 0 && claims.get(this.#key) === claim) claims.delete(this.#key);
    }
    this.#sock.close();
  }
}

/**
 * EINVAL because the clsact went away under the request: another process removed it between our
 * look and our change. The kernel says so in its extended ack ("Parent Qdisc doesn't exists", sic);
 * without one, the hook is looked at.
 */
function clsactGone(e: NetlinkError, ifindex: number, sock: NetlinkSocket): boolean {
  if (e.code !== 22 /* EINVAL */) return false;
  if (e.extack !== undefined) return /^Parent Qdisc doesn'?t exist/.test(e.extack);
  try {
    return hookQdisc(ifindex, sock)?.kind !== 'clsact';
  } catch {
    return false;
  }
}

/** how often attachTc adds clsact and filter again when the clsact is removed between the two */
const ATTACH_ATTEMPTS = 5;

/**
 * Remove the clsact once no filter is left on it in either direction (anyone's, in any chain). Run
 * under the clsact lock, so no tsbpf process adds a filter between the look and the removal.
 */
function releaseQdisc(ifindex: number, sock: NetlinkSocket): void {
  try {
    if (listFilters(ifindex, 'ingress', sock).length > 0 || listFilters(ifindex, 'egress', sock).length > 0) return;
    deleteClsact(ifindex, sock);
  } catch (e) {
    if (!(e instanceof NetlinkError && (GONE.has(e.code) || e.code === 22 /* EINVAL: no qdisc */))) throw e;
  }
}

/**
 * The claim a new attachment will take part in, decided before its filter goes in (which may replace
 * a member's): a fresh one when it added the clsact (a claim left from an earlier clsact on that
 * interface is dead: that clsact is gone), the live one when one of its handles' filters is on the
 * interface, none otherwise (or with keepQdisc). A fresh claim is registered by attachTc on success.
 */
function claimFor(key: string, ifindex: number, created: boolean, keepQdisc: boolean, sock: NetlinkSocket): ClsactClaim | undefined {
  const old = claims.get(key);
  if (created) {
    if (old) {
      old.dead = true;
      claims.delete(key);
    }
    return keepQdisc ? undefined : new ClsactClaim();
  }
  if (!old || keepQdisc) return undefined;
  let live: boolean;
  try {
    live = [...old.members].some((m) => m.info.ifindex === ifindex && ourFilter(m.info, sock) !== undefined);
  } catch {
    return undefined; // could not tell: no claim, the clsact stays
  }
  if (live) return old;
  old.dead = true;
  claims.delete(key);
  return undefined;
}

/**
 * A netlink refusal of the clsact or the filter, said as attachTc's: which hook, interface and
 * program, the priority and handle asked for, and what the usual refusals mean.
 */
function refusalNamed<T>(o: AttachTcOptions, iface: { name: string; index: number }, prog: { id: number; name: string }, ns: Netns | undefined, fn: () => T): T {
  try {
    return fn();
  } catch (e) {
    if (!(e instanceof NetlinkError) || e instanceof InterfaceNotFoundError) throw e;
    const at = `attachTc ${o.direction} on ${iface.name} (ifindex ${iface.index})${inNetnsText(ns)}`;
    if (e.code === 19 /* ENODEV */) {
      // found by getInterface, gone by the time its clsact or filter went in: deleted, or moved to
      // another namespace (which removes its qdiscs): nothing of this attach stays on it
      throw new InterfaceNotFoundError(o.interface, {
        op: at, netns: ns?.label,
        detail: 'the interface went away (deleted, or moved to another network namespace) after it was looked up; nothing was attached',
      });
    }
    const asked = [o.priority !== undefined ? `prio ${o.priority}` : '', o.handle !== undefined ? `handle 0x${o.handle.toString(16)}` : ''].filter(Boolean).join(' ');
    const hint = e.code === 17 /* EEXIST */ && e.op.startsWith('RTM_NEWTFILTER')
      ? `a filter with ${asked || 'this priority and handle'} is there already (another priority or handle, or replace: true)`
      : e.code === 22 /* EINVAL */ && e.extack !== undefined && /Protocol mismatch|kind does not match/.test(e.extack)
        ? `priority ${o.priority} holds filters of another ${/Protocol/.test(e.extack) ? 'protocol' : 'kind'}: choose another priority`
        : undefined;
    const detail = [`program ${prog.name} (id ${prog.id})${asked ? `, ${asked}` : ''}`, e.detail, hint].filter(Boolean).join('; ');
    throw new NetlinkError(at, e.code, { extack: e.extack, extackOffset: e.extackOffset, detail });
  }
}

/** Attach `program` as a direct-action cls_bpf filter on the interface's clsact hook. */
export function attachTc(o: AttachTcOptions): TcAttachment {
  const op = 'attachTc';
  if (o.direction !== 'ingress' && o.direction !== 'egress') throw new AttachArgumentError(op, `direction must be 'ingress' or 'egress', got ${String(o.direction)}`);
  if (o.priority !== undefined && (!Number.isInteger(o.priority) || o.priority < 1 || o.priority > 0xffff)) {
    throw new AttachArgumentError(op, `priority must be an integer 1..65535, got ${o.priority}`);
  }
  if (o.handle !== undefined && (!Number.isInteger(o.handle) || o.handle < 1 || o.handle > 0xffffffff)) {
    throw new AttachArgumentError(op, `handle must be an integer 1..0xffffffff, got ${o.handle}`);
  }
  if (o.replace && (o.priority === undefined || o.handle === undefined)) {
    throw new AttachArgumentError(op, 'replace needs the priority and handle of the filter to replace');
  }
  // the socket keeps the namespace: the Netns is needed only to open it
  return usingNetns(o.netns, op, (ns) => attachTcIn(o, ns));
}

function attachTcIn(o: AttachTcOptions, ns: Netns | undefined): TcAttachment {
  const op = 'attachTc';
  // cls_bpf takes classifiers only (bpf_prog_get_type_dev(…, SCHED_CLS)): a SCHED_ACT program is an act_bpf action
  const prog = checkProgram(op, o.program, [BPF_PROG_TYPE.SCHED_CLS], 'a tc (cls_bpf) hook');
  const name = checkFilterName(op, o.name ?? prog.name);
  const sock = NetlinkSocket.open({ netns: ns });
  try {
    const iface = getInterface(o.interface, sock);
    const key = netnsKey(iface.index, ns);
    // clsact and filter in one step as far as other tsbpf processes go (see clsact-lock.ts); a clsact
    // that someone else (tc) removes between the two is added again
    const { created, claim, filter } = refusalNamed(o, iface, prog, ns, () => withClsactLock(op, () => {
      for (let attempt = 1; ; attempt++) {
        const { created } = ensureClsact(iface.index, sock);
        const claim = claimFor(key, iface.index, created, o.keepQdisc ?? false, sock);
        try {
          const filter = attachFilter({
            ifindex: iface.index, direction: o.direction, progFd: prog.fd, name,
            priority: o.priority, handle: o.handle, replace: o.replace,
          }, sock);
          return { created, claim, filter };
        } catch (e) {
          if (attempt < ATTACH_ATTEMPTS && e instanceof NetlinkError && clsactGone(e, iface.index, sock)) continue;
          // leave the interface as it was: a clsact we just added goes again
          if (created) {
            try { releaseQdisc(iface.index, sock); } catch { /* the attach error is the one to report */ }
          }
          throw e;
        }
      }
    }));
    const info: TcAttachmentInfo = {
      kind: 'tc', interface: iface.name, ifindex: iface.index, direction: o.direction,
      priority: filter.priority, handle: filter.handle, chain: filter.chain, programId: filter.progId ?? prog.id, programName: prog.name,
      createdQdisc: created, ...(ns ? { netns: ns.label } : {}),
    };
    if (claim && !claims.has(key)) claims.set(key, claim);
    return new TcAttachment(info, sock, key, claim);
  } catch (e) {
    sock.close();
    throw e;
  }
}
