// attachNetfilter: a BPF_PROG_TYPE_NETFILTER program on a netfilter hook of one network namespace
// through a netfilter BPF link (BPF_LINK_TYPE_NETFILTER, kernel >= 6.4, CONFIG_NETFILTER_BPF_LINK).
// The program runs among the namespace's other netfilter hooks (nftables and iptables chains,
// conntrack, defrag) in priority order, lowest first, and answers NF_ACCEPT (1) or NF_DROP (0).
//
//   const l = attachNetfilter({ program, family: 'ipv4', hook: 'input', priority: 10, netns: 'pod1' });
//   l.info;     // { kind: 'netfilter', family: 'ipv4', hook: 'input', priority: 10, defrag: false, linkId, … }
//   l.detach(); // LINK_DETACH: the hook goes now (even with the link pinned); or close() / dispose
//
// What the kernel does, and what is checked here before it is asked:
// - family: 'ipv4' or 'ipv6' (nft's 'ip' and 'ip6' too). The kernel has no netfilter link for
//   inet, arp, bridge or netdev (EAFNOSUPPORT): an inet program is two links, one per family.
// - hook: nft's words 'prerouting', 'input', 'forward', 'output', 'postrouting' (what bpftool and
//   `nft list hooks` print, and what info.hook says), or the kernel's NF_INET_PRE_ROUTING,
//   NF_INET_LOCAL_IN, NF_INET_FORWARD, NF_INET_LOCAL_OUT, NF_INET_POST_ROUTING. Others: EPROTO.
// - priority: a 32-bit signed integer, but not INT_MIN (NF_IP_PRI_FIRST) nor INT_MAX
//   (NF_IP_PRI_LAST, where conntrack confirms): ERANGE. With defrag it must be above
//   NF_IP_PRI_CONNTRACK_DEFRAG (-400), after the defragmentation it asks for: ERANGE otherwise.
// - a BPF hook needs a priority nobody else has at that family and hook of the namespace: not
//   another BPF link, and not nftables, iptables, conntrack or defrag hooks either (defrag sits at
//   -400 on prerouting and output once any user asked for it): EBUSY. Only the kernel knows, so
//   that refusal is wrapped with the hook, priority, namespace and program.
// - defrag (BPF_F_NETFILTER_IP_DEFRAG, kernel >= 6.6): the kernel's IPv4/IPv6 defragmentation is
//   enabled in the namespace for as long as the link lives, so the program sees whole datagrams.
//   Older kernels refuse the flag (EOPNOTSUPP); kernels without CONFIG_NF_DEFRAG_IPV4/6 refuse it
//   with EAFNOSUPPORT.
// - netns: the kernel registers the hook in the calling thread's network namespace, so with
//   `netns` the LINK_CREATE runs with the thread in that namespace and the thread comes back
//   before attachNetfilter returns; without it, the hook is in the caller's namespace. The link
//   holds the namespace (it stays while the link does). LINK_DETACH and close() need nothing of it.
// - netfilter links have no LINK_UPDATE (EOPNOTSUPP): update() says so with the hook named; attach
//   the new program at another priority and detach the old one.
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../syscall/types.js';
import { inNetnsText, usingNetns, type Netns, type NetnsRef } from '../netlink/netns-enter.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import type { Fd } from '../syscall/fd.js';
import { AttachArgumentError, checkProgram, type AttachableProgram } from './handle.js';
import { attachRefusal, programLabel } from './refusal.js';
import { LinkAttachment, freshLinkId, type LinkAttachmentInfo } from './bpf-link.js';
import { linkCreateIn } from './netns.js';

export type NetfilterFamily = 'ipv4' | 'ipv6';
export type NetfilterHook = 'prerouting' | 'input' | 'forward' | 'output' | 'postrouting';

/** The kernel's names of the inet hooks (enum nf_inet_hooks), accepted as `hook` too. */
export type NetfilterKernelHook = 'NF_INET_PRE_ROUTING' | 'NF_INET_LOCAL_IN' | 'NF_INET_FORWARD' | 'NF_INET_LOCAL_OUT' | 'NF_INET_POST_ROUTING';

/** NFPROTO_* */
const FAMILIES: Readonly<Record<string, { name: NetfilterFamily; pf: number }>> = {
  ipv4: { name: 'ipv4', pf: 2 }, ip: { name: 'ipv4', pf: 2 },
  ipv6: { name: 'ipv6', pf: 10 }, ip6: { name: 'ipv6', pf: 10 },
};

/** nft's hook words by enum nf_inet_hooks number */
const HOOKS: readonly NetfilterHook[] = ['prerouting', 'input', 'forward', 'output', 'postrouting'];
const KERNEL_HOOKS: readonly NetfilterKernelHook[] = ['NF_INET_PRE_ROUTING', 'NF_INET_LOCAL_IN', 'NF_INET_FORWARD', 'NF_INET_LOCAL_OUT', 'NF_INET_POST_ROUTING'];

/**
 * The kernel's named priorities (enum nf_ip_hook_priorities; IPv6's are the same numbers). A BPF
 * hook may take none of first/last, and none that another hook of the namespace holds (EBUSY): the
 * named ones are where conntrack, nftables' and iptables' tables sit once something uses them.
 */
export const NETFILTER_PRIORITY = {
  first: -2147483648, rawBeforeDefrag: -450, conntrackDefrag: -400, raw: -300, selinuxFirst: -225,
  conntrack: -200, mangle: -150, natDst: -100, filter: 0, security: 50, natSrc: 100,
  selinuxLast: 225, conntrackHelper: 300, last: 2147483647,
} as const;

/** BPF_F_NETFILTER_IP_DEFRAG (kernel >= 6.6) */
const BPF_F_NETFILTER_IP_DEFRAG = 1;

export interface AttachNetfilterOptions {
  /** a BPF_PROG_TYPE_NETFILTER program (SEC("netfilter")) */
  program: AttachableProgram;
  /** 'ipv4' or 'ipv6' (or nft's 'ip' / 'ip6') */
  family: NetfilterFamily | 'ip' | 'ip6';
  /** nft's hook word, or the kernel's NF_INET_* name */
  hook: NetfilterHook | NetfilterKernelHook;
  /** lower runs earlier; 32-bit signed, not INT_MIN/INT_MAX, free at this hook (NETFILTER_PRIORITY names the usual ones) */
  priority: number;
  /** defragment before the program runs (kernel >= 6.6); priority must then be above -400 */
  defrag?: boolean;
  /** the network namespace of the hook (default: the calling thread's); as AttachTcxOptions.netns */
  netns?: NetnsRef;
}

export interface NetfilterAttachmentInfo extends LinkAttachmentInfo {
  readonly kind: 'netfilter';
  readonly family: NetfilterFamily;
  readonly hook: NetfilterHook;
  readonly priority: number;
  readonly defrag: boolean;
  /** the network namespace given as `netns` (its path, or "fd N"); absent: the caller's */
  readonly netns?: string;
}

/** A netfilter link: LinkAttachment, with update()'s refusal said for what it is. */
export class NetfilterLinkAttachment extends LinkAttachment<NetfilterAttachmentInfo> {
  override update(program: AttachableProgram): void {
    try {
      super.update(program);
    } catch (e) {
      throw attachRefusal(e, `netfilter link id ${this.info.linkId} (${where(this.info)})`, (x) =>
        x.code === ERRNO.EOPNOTSUPP ? 'netfilter links cannot change their program: attach the new one at another priority, then detach this one' : undefined);
    }
  }
}

const where = (i: { family: string; hook: string; priority: number; defrag: boolean }): string =>
  `${i.family} ${i.hook} priority ${i.priority}${i.defrag ? ' with defrag' : ''}`;

interface Checked { family: NetfilterFamily; pf: number; hook: NetfilterHook; hooknum: number; priority: number; defrag: boolean }

function checkOptions(op: string, o: AttachNetfilterOptions): Checked {
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, family, hook, priority } are required');
  const fam = typeof o.family === 'string' && Object.hasOwn(FAMILIES, o.family) ? FAMILIES[o.family] : undefined;
  if (!fam) {
    const why = o.family === ('inet' as string)
      ? "'inet' cannot be: a netfilter link is on one family (attach once with 'ipv4' and once with 'ipv6')"
      : `must be 'ipv4' or 'ipv6' (or 'ip' / 'ip6'; the kernel has netfilter links for no other family), got ${show(o.family)}`;
    throw new AttachArgumentError(op, `family ${why}`);
  }
  let hooknum = typeof o.hook === 'string' ? HOOKS.indexOf(o.hook as NetfilterHook) : -1;
  if (hooknum < 0 && typeof o.hook === 'string') hooknum = KERNEL_HOOKS.indexOf(o.hook as NetfilterKernelHook);
  if (hooknum < 0) {
    throw new AttachArgumentError(op, `hook must be one of ${HOOKS.map((h) => `'${h}'`).join(', ')} (or the kernel's NF_INET_* names), got ${show(o.hook)}`);
  }
  const p = o.priority;
  if (typeof p !== 'number' || !Number.isInteger(p) || p < NETFILTER_PRIORITY.first || p > NETFILTER_PRIORITY.last) {
    throw new AttachArgumentError(op, `priority must be a 32-bit signed integer, got ${show(p)}`);
  }
  if (p === NETFILTER_PRIORITY.first || p === NETFILTER_PRIORITY.last) {
    throw new AttachArgumentError(op, `priority ${p} cannot be: the kernel keeps INT_MIN (NF_IP_PRI_FIRST) and INT_MAX (NF_IP_PRI_LAST, conntrack confirm) from BPF hooks; use ${p < 0 ? p + 1 : p - 1} or anything between`);
  }
  if (o.defrag !== undefined && typeof o.defrag !== 'boolean') throw new AttachArgumentError(op, `defrag must be true or false, got ${show(o.defrag)}`);
  const defrag = o.defrag === true;
  if (defrag && p <= NETFILTER_PRIORITY.conntrackDefrag) {
    throw new AttachArgumentError(op, `priority ${p} cannot be with defrag: the program must run after defragmentation (NF_IP_PRI_CONNTRACK_DEFRAG, -400), so above -400`);
  }
  return { family: fam.name, pf: fam.pf, hook: HOOKS[hooknum], hooknum, priority: p, defrag };
}

function show(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v);
  if (typeof v === 'bigint') return `${v}n`;
  return String(v);
}

/** What the usual LINK_CREATE refusals at a netfilter hook mean. */
function netfilterHint(e: BpfError, c: Checked): string | undefined {
  switch (e.code) {
    case ERRNO.EBUSY:
      return `another hook of this namespace already has priority ${c.priority} at ${c.family} ${c.hook} (a BPF link, or nftables, iptables, conntrack or defrag: a BPF hook needs a priority of its own); pick another`;
    case ERRNO.EOPNOTSUPP:
      return c.defrag ? 'the kernel has no BPF_F_NETFILTER_IP_DEFRAG (kernel >= 6.6)' : 'the kernel has no netfilter BPF links (kernel >= 6.4 with CONFIG_NETFILTER_BPF_LINK)';
    case 97 /* EAFNOSUPPORT */:
      return c.defrag ? `the kernel has no ${c.family} defragmentation for BPF (CONFIG_NF_DEFRAG_${c.family === 'ipv4' ? 'IPV4' : 'IPV6'})` : undefined;
    case ERRNO.EINVAL:
      return 'netfilter links need kernel >= 6.4';
    default:
      return undefined;
  }
}

export function attachNetfilter(o: AttachNetfilterOptions): NetfilterLinkAttachment {
  const op = 'attachNetfilter';
  const c = checkOptions(op, o);
  const allowed = [BPF_PROG_TYPE.NETFILTER];
  const prog = checkProgram(op, o.program, allowed, 'a netfilter hook');
  return usingNetns(o.netns, op, (ns) => attachIn(op, c, prog, allowed, ns));
}

function attachIn(op: string, c: Checked, prog: { id: number; name: string; fd: number }, allowed: readonly number[], ns: Netns | undefined): NetfilterLinkAttachment {
  let fd: Fd;
  try {
    fd = linkCreateIn(ns, op, {
      progFd: prog.fd, attachType: BPF_ATTACH_TYPE.NETFILTER,
      netfilter: { pf: c.pf, hooknum: c.hooknum, priority: c.priority, flags: c.defrag ? BPF_F_NETFILTER_IP_DEFRAG : 0 },
    });
  } catch (e) {
    throw attachRefusal(e, `netfilter ${where(c)}${inNetnsText(ns)}, ${programLabel(prog)}`, (x) => netfilterHint(x, c));
  }
  const linkId = freshLinkId(fd);
  const info: NetfilterAttachmentInfo = {
    kind: 'netfilter', family: c.family, hook: c.hook, priority: c.priority, defrag: c.defrag,
    linkId, programId: prog.id, programName: prog.name, ...(ns ? { netns: ns.label } : {}),
  };
  return new NetfilterLinkAttachment(info, fd, allowed);
}
