// The two hooks of a network namespace itself (no interface, no cgroup): sk_lookup and the flow
// dissector. Both are BPF_LINK_TYPE_NETNS links, LINK_CREATE with target_fd = a namespace fd
// (flow dissector kernel >= 5.8, sk_lookup >= 5.9); the namespace is named, never entered.
//
//   const l = attachSkLookup({ program, netns: 'pod1' });             // default: the caller's own
//   const f = attachFlowDissector({ program, netns: '/proc/1234/ns/net' });
//   l.detach(); f.detach();
//
// What the kernel does (kernel/bpf/net_namespace.c, net/core/flow_dissector.c):
// - sk_lookup: up to 64 links per namespace, run in the order they were made (E2BIG beyond). There
//   is no PROG_ATTACH for it: links only.
// - flow dissector: ONE program per namespace. A second link is E2BIG; a link while a program is
//   attached with PROG_ATTACH, and PROG_ATTACH while a link is there, are EEXIST. PROG_ATTACH is the
//   old way (mode 'attach'): it takes target_fd 0 and acts on the CALLING THREAD's namespace (so the
//   thread enters `netns` for it and for the PROG_DETACH), it silently replaces a program attached
//   the same way (refused here first: PROG_QUERY) and outlives the process until detach() or the
//   namespace's end. Its handle keeps an fd of the namespace to detach there, which keeps the
//   namespace alive (as any open namespace fd does) until detach() or close(). A flow
//   dissector in the root namespace overrides every other namespace's, so the kernel refuses one
//   there while any other namespace has one, and one anywhere else while the root has one (EEXIST).
// - A link does not hold its namespace: when the namespace goes away the link is detached by the
//   kernel (link info netns_ino 0), and so after LINK_DETACH (a defunct link, the fd still open).
//   detach() and close() work on such a link all the same (LINK_DETACH of a defunct link is 0);
//   LinkAttachment.update() on it is the kernel's ENOLINK.
import { BpfError } from '../syscall/errors.js';
import { ERRNO, errnoName } from '../syscall/errno.js';
import { Fd, dupCloexec } from '../syscall/fd.js';
import { linkCreate } from '../syscall/link.js';
import { progAttach, progDetach, progQuery } from '../syscall/prog.js';
import { BPF_ATTACH_TYPE as A, BPF_PROG_TYPE as P, attachTypeName } from '../syscall/types.js';
import { inNetns, Netns, NetnsError, usingNetns, type NetnsRef } from '../netlink/netns-enter.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { LinkAttachment } from './bpf-link.js';
import { ProgAttachment } from './prog-attach.js';
import { attachRefusal, programLabel } from './refusal.js';

/** The namespace of the calling thread (what `netns` defaults to). */
export const OWN_NETNS = '/proc/thread-self/ns/net';

export type NetnsHook = 'sk_lookup' | 'flow_dissector';

const HOOKS: Readonly<Record<NetnsHook, { attachType: number; progType: number }>> = {
  sk_lookup: { attachType: A.SK_LOOKUP, progType: P.SK_LOOKUP },
  flow_dissector: { attachType: A.FLOW_DISSECTOR, progType: P.FLOW_DISSECTOR },
};

export interface AttachSkLookupOptions {
  program: AttachableProgram;
  /** the network namespace (a /run/netns name, a path, an fd, an Fd or a Netns); default: the caller's own */
  netns?: NetnsRef;
}

export interface AttachFlowDissectorOptions {
  program: AttachableProgram;
  /** as AttachSkLookupOptions.netns */
  netns?: NetnsRef;
  /** 'link' (LINK_CREATE only), 'attach' (PROG_ATTACH only); default: a link, PROG_ATTACH when the kernel has no netns links */
  mode?: 'link' | 'attach';
}

export interface NetnsAttachmentInfo {
  readonly kind: NetnsHook;
  /** the namespace as given, resolved (its path, "fd N"), or /proc/thread-self/ns/net for the caller's own */
  readonly netns: string;
  /** its inode (`ip netns identify`, the N of net:[N]) when attached */
  readonly netnsIno: number;
  readonly programId: number;
  readonly programName: string;
  readonly attachType: number;
  readonly attachTypeName: string;
  /** 'link' (a BPF link owns it) or 'attach' (PROG_ATTACH, this handle) */
  readonly mode: 'link' | 'attach';
  /** the kernel's link id in mode 'link' */
  readonly linkId?: number;
  /** why a link was not used when PROG_ATTACH was the fallback */
  readonly fallback?: string;
}

type LinkInfoOf<K extends NetnsHook> = NetnsAttachmentInfo & { readonly kind: K; readonly mode: 'link'; readonly linkId: number };
export type SkLookupAttachment = LinkAttachment<LinkInfoOf<'sk_lookup'>>;
export type FlowDissectorLinkAttachment = LinkAttachment<LinkInfoOf<'flow_dissector'>>;
export type FlowDissectorProgAttachment = NetnsProgAttachment<NetnsAttachmentInfo & { readonly kind: 'flow_dissector'; readonly mode: 'attach' }>;
export type FlowDissectorAttachment = FlowDissectorLinkAttachment | FlowDissectorProgAttachment;

/**
 * A flow dissector attached with PROG_ATTACH. The kernel detaches it (PROG_DETACH, target_fd 0) in
 * the calling thread's namespace, so the handle owns a duplicate of the namespace fd to enter it
 * again, and of the program fd to name the program.
 */
export class NetnsProgAttachment<I extends NetnsAttachmentInfo & { readonly mode: 'attach' }> extends ProgAttachment<I> {
  readonly #netns: Fd;
  readonly #prog: Fd;

  /** Takes ownership of `netns` and `prog` (duplicates made by the attach function). */
  constructor(info: I, netns: Fd, prog: Fd) {
    super(info, netns, prog);
    this.#netns = netns;
    this.#prog = prog;
  }

  protected override doDetach(): void {
    const op = `${this.info.kind} detach`;
    const ns = Netns.open(this.#netns.value, op);
    try {
      inNetns(ns, op, () => progDetach({ targetFd: 0, progFd: this.#prog.value, attachType: this.info.attachType }));
    } catch (e) {
      // ENOENT: it is not there any more (detached by someone else, or another program took its place)
      if (e instanceof BpfError && e.code === ERRNO.ENOENT) return;
      throw attachRefusal(e, `${this.info.kind} in network namespace ${this.info.netns}, ${programLabel({ name: this.info.programName, id: this.info.programId })}`);
    } finally {
      ns.close();
    }
  }
}

/** The program ids attached at a namespace hook (PROG_QUERY with the namespace fd), links' and PROG_ATTACH's alike. */
export function queryNetns(hook: NetnsHook, netns?: NetnsRef): number[] {
  const op = 'queryNetns';
  const h = HOOKS[hook as NetnsHook];
  if (!h || !Object.hasOwn(HOOKS, hook)) throw new AttachArgumentError(op, `hook must be 'sk_lookup' or 'flow_dissector', got ${String(hook)}`);
  return usingNetns(netns ?? OWN_NETNS, op, (ns) => progQuery({ targetFd: ns!.fd, attachType: h.attachType }).progIds);
}

/** An sk_lookup program on a network namespace: a BPF link (kernel >= 5.9), one of up to 64 that run in order. */
export function attachSkLookup(o: AttachSkLookupOptions): SkLookupAttachment {
  const op = 'attachSkLookup';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, netns? } are required');
  const mode = (o as { mode?: unknown }).mode;
  if (mode !== undefined && mode !== 'link') {
    throw new AttachArgumentError(op, `sk_lookup programs attach only through a BPF link (the kernel has no PROG_ATTACH for them): mode must be 'link' or absent, got ${String(mode)}`);
  }
  const prog = checkProgram(op, o.program, [P.SK_LOOKUP], 'the sk_lookup hook');
  return usingNetns(o.netns ?? OWN_NETNS, op, (ns) => netnsLink(op, 'sk_lookup', prog, ns!));
}

/** A flow dissector program on a network namespace: a link (>= 5.8), else (or with mode 'attach') PROG_ATTACH. */
export function attachFlowDissector(o: AttachFlowDissectorOptions & { mode: 'link' }): FlowDissectorLinkAttachment;
export function attachFlowDissector(o: AttachFlowDissectorOptions & { mode: 'attach' }): FlowDissectorProgAttachment;
export function attachFlowDissector(o: AttachFlowDissectorOptions): FlowDissectorAttachment;
export function attachFlowDissector(o: AttachFlowDissectorOptions): FlowDissectorAttachment {
  const op = 'attachFlowDissector';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, netns?, mode? } are required');
  if (o.mode !== undefined && o.mode !== 'link' && o.mode !== 'attach') throw new AttachArgumentError(op, `mode must be 'link' or 'attach', got ${String(o.mode)}`);
  const prog = checkProgram(op, o.program, [P.FLOW_DISSECTOR], 'the flow_dissector hook');
  return usingNetns(o.netns ?? OWN_NETNS, op, (ns): FlowDissectorAttachment => {
    let fallback: string | undefined;
    if (o.mode !== 'attach') {
      try {
        return netnsLink(op, 'flow_dissector', prog, ns!);
      } catch (e) {
        if (o.mode === 'link' || !linkUnsupported(e)) throw e;
        fallback = `LINK_CREATE failed with ${(e as BpfError).errno}: no netns links on this kernel`;
      }
    }
    return flowDissectorProgAttach(op, o.program, prog, ns!, fallback);
  });
}

const nsText = (ns: Netns): string => `network namespace ${ns.label} (net:[${ns.inode}])`;

function netnsLink<K extends NetnsHook>(op: string, kind: K, prog: { id: number; name: string; fd: number }, ns: Netns): LinkAttachment<LinkInfoOf<K>> {
  const h = HOOKS[kind];
  let fd: Fd;
  try {
    fd = linkCreate({ progFd: prog.fd, targetFd: ns.fd, attachType: h.attachType });
  } catch (e) {
    throw attachRefusal(e, `${kind} in ${nsText(ns)}, ${programLabel(prog)}`, (x) => linkHint(kind, x));
  }
  return LinkAttachment.own<LinkInfoOf<K>>(fd, [h.progType], (linkId) => ({
    kind, netns: ns.label, netnsIno: ns.inode, linkId, programId: prog.id, programName: prog.name,
    attachType: h.attachType, attachTypeName: attachTypeName(h.attachType), mode: 'link' as const,
  }));
}

function flowDissectorProgAttach(op: string, program: AttachableProgram, prog: { id: number; name: string; fd: number }, ns: Netns, fallback: string | undefined): FlowDissectorProgAttachment {
  const attachType = A.FLOW_DISSECTOR;
  const where = `flow_dissector in ${nsText(ns)}, ${programLabel(prog)}`;
  // PROG_ATTACH would replace a program attached the same way without a word: asked first
  let there: number[] = [];
  try {
    there = progQuery({ targetFd: ns.fd, attachType }).progIds;
  } catch { /* no PROG_QUERY for namespaces (kernel < 5.8): the kernel decides */ }
  if (there.length > 0) {
    throw new AttachArgumentError(op, `${where}: the namespace has ${there[0] === prog.id ? 'this program' : `program id ${there[0]}`} as its flow dissector already (one per namespace): detach it first`);
  }
  const nsFd = dupNetns(op, ns);
  let progFd: Fd;
  try {
    progFd = program.fd.dup();
  } catch (e) {
    nsFd.close();
    throw e;
  }
  try {
    inNetns(ns, op, () => progAttach({ targetFd: 0, progFd: prog.fd, attachType }));
  } catch (e) {
    nsFd.close();
    progFd.close();
    throw attachRefusal(e, where, (x) => attachHint(x));
  }
  return new NetnsProgAttachment({
    kind: 'flow_dissector' as const, netns: ns.label, netnsIno: ns.inode, programId: prog.id, programName: prog.name,
    attachType, attachTypeName: attachTypeName(attachType), mode: 'attach' as const, ...(fallback ? { fallback } : {}),
  }, nsFd, progFd);
}

/** A duplicate of the namespace fd for the handle (the Netns keeps, or borrows, its own). */
function dupNetns(op: string, ns: Netns): Fd {
  const r = dupCloexec(ns.fd);
  if (r < 0) throw new NetnsError(op, ns.label, `cannot be duplicated (fcntl: ${errnoName(-r)})`, -r);
  return new Fd(r, `network namespace ${ns.label}`);
}

/** EINVAL/EOPNOTSUPP from LINK_CREATE: a kernel before 5.8 (no netns links). */
function linkUnsupported(e: unknown): boolean {
  return e instanceof BpfError && (e.code === ERRNO.EINVAL || e.code === ERRNO.EOPNOTSUPP || e.code === ERRNO.ENOTSUPP);
}

const ROOT_HINT = 'a flow dissector in the root namespace overrides all others, so the kernel refuses one there while another namespace has one, and one elsewhere while the root namespace has one';

function linkHint(kind: NetnsHook, e: BpfError): string | undefined {
  if (kind === 'sk_lookup') {
    if (e.code === ERRNO.E2BIG) return 'the namespace has as many sk_lookup links as it can hold (64)';
    if (e.code === ERRNO.EINVAL) return 'sk_lookup links need kernel >= 5.9';
    return undefined;
  }
  if (e.code === ERRNO.E2BIG) return 'the namespace has a flow dissector link already (one per namespace): detach it first';
  if (e.code === ERRNO.EEXIST) return `a flow dissector attached with PROG_ATTACH is there (detach it first), or ${ROOT_HINT}`;
  if (e.code === ERRNO.EINVAL) return 'flow dissector links need kernel >= 5.8';
  return undefined;
}

function attachHint(e: BpfError): string | undefined {
  if (e.code === ERRNO.EEXIST) return `a flow dissector link holds this namespace's hook (PROG_ATTACH cannot join or replace it), or ${ROOT_HINT}`;
  if (e.code === ERRNO.EINVAL) return 'the program is attached here already';
  return undefined;
}
