// cls_bpf filters in direct-action mode on the clsact hook (RTM_NEWTFILTER / RTM_DELTFILTER /
// RTM_GETTFILTER). A filter is addressed by direction (parent), chain, priority and handle; when the
// caller leaves priority or handle out the kernel picks them and we read them back from the NLM_F_ECHO
// copy. Add and delete both name the chain (TCA_CHAIN, as `tc filter … chain N` does): the kernel
// reads a request without one as chain 0, so a delete must say which chain its filter is in.
import {
  AF_UNSPEC, CLSACT_PARENT, ETH_P_ALL_BE, NLM_F, RTM, TCA, TCA_BPF, TCA_BPF_FLAG_ACT_DIRECT,
} from './constants.js';
import { MessageBuilder, parseTcmsg, type NlMessage } from './codec.js';
import { NetlinkError, NetlinkProtocolError } from './errors.js';
import type { NetlinkSocket } from './socket.js';
import { withSocket } from './link.js';

export type TcDirection = 'ingress' | 'egress';

export interface TcFilter {
  readonly ifindex: number;
  readonly direction: TcDirection;
  /** 'bpf' for cls_bpf; other classifiers are listed too */
  readonly kind: string;
  readonly priority: number;
  readonly handle: number;
  /** ethertype in host order (0x0003 = ETH_P_ALL) */
  readonly protocol: number;
  readonly chain: number;
  /** TCA_BPF_NAME: what `tc filter show` prints */
  readonly name?: string;
  readonly progId?: number;
  /** the program's tag as hex */
  readonly tag?: string;
  readonly directAction: boolean;
}

export interface FilterSpec {
  ifindex: number;
  direction: TcDirection;
  progFd: number;
  /** TCA_BPF_NAME; `tc filter show` prints it */
  name: string;
  /** 1..65535; 0/undefined lets the kernel choose */
  priority?: number;
  /** 0/undefined lets the kernel choose */
  handle?: number;
  /** replace the filter at priority+handle instead of failing when it exists */
  replace?: boolean;
  /** the filter chain (TCA_CHAIN); default 0, where packets start */
  chain?: number;
}

/** Where one filter is: what RTM_DELTFILTER needs to find it. */
export interface FilterAddress {
  ifindex: number;
  direction: TcDirection;
  priority: number;
  handle: number;
  /** default 0 */
  chain?: number;
}

const tcInfo = (priority: number, protocolBe = ETH_P_ALL_BE) => ((priority << 16) | protocolBe) >>> 0;

export function attachFilterRequest(f: FilterSpec): MessageBuilder {
  const flags = NLM_F.REQUEST | NLM_F.ACK | NLM_F.ECHO | NLM_F.CREATE | (f.replace ? NLM_F.REPLACE : NLM_F.EXCL);
  return new MessageBuilder(RTM.NEWTFILTER, flags)
    .tcmsg({ family: AF_UNSPEC, ifindex: f.ifindex, handle: f.handle ?? 0, parent: CLSACT_PARENT[f.direction], info: tcInfo(f.priority ?? 0) })
    .u32(TCA.CHAIN, f.chain ?? 0)
    .string(TCA.KIND, 'bpf')
    .nested(TCA.OPTIONS, (b) => b
      .u32(TCA_BPF.FD, f.progFd)
      .string(TCA_BPF.NAME, f.name)
      .u32(TCA_BPF.FLAGS, TCA_BPF_FLAG_ACT_DIRECT));
}

export function deleteFilterRequest(f: FilterAddress): MessageBuilder {
  return new MessageBuilder(RTM.DELTFILTER, NLM_F.REQUEST | NLM_F.ACK)
    .tcmsg({ family: AF_UNSPEC, ifindex: f.ifindex, handle: f.handle, parent: CLSACT_PARENT[f.direction], info: tcInfo(f.priority) })
    .u32(TCA.CHAIN, f.chain ?? 0)
    .string(TCA.KIND, 'bpf');
}

/** RTM_GETTFILTER for one filter (not a dump): the kernel answers with it, or ENOENT/EINVAL. */
export function getFilterRequest(f: FilterAddress): MessageBuilder {
  return new MessageBuilder(RTM.GETTFILTER, NLM_F.REQUEST | NLM_F.ACK)
    .tcmsg({ family: AF_UNSPEC, ifindex: f.ifindex, handle: f.handle, parent: CLSACT_PARENT[f.direction], info: tcInfo(f.priority) })
    .u32(TCA.CHAIN, f.chain ?? 0)
    .string(TCA.KIND, 'bpf');
}

export function dumpFiltersRequest(ifindex: number, direction: TcDirection): MessageBuilder {
  return new MessageBuilder(RTM.GETTFILTER, NLM_F.REQUEST | NLM_F.DUMP)
    .tcmsg({ family: AF_UNSPEC, ifindex, parent: CLSACT_PARENT[direction] });
}

/** A filter from an RTM_NEWTFILTER message; undefined for the per-priority head the dump also sends. */
export function parseFilter(m: NlMessage, direction: TcDirection): TcFilter | undefined {
  const t = parseTcmsg(m.payload);
  const opts = t.attrs.nested(TCA.OPTIONS);
  if (!opts) return undefined;
  const kind = t.attrs.string(TCA.KIND) ?? '';
  const proto = t.info & 0xffff;
  const tag = opts.bytes(TCA_BPF.TAG);
  const out: { -readonly [K in keyof TcFilter]: TcFilter[K] } = {
    ifindex: t.ifindex, direction, kind, priority: t.info >>> 16, handle: t.handle,
    protocol: ((proto & 0xff) << 8) | (proto >> 8), chain: t.attrs.u32(TCA.CHAIN) ?? 0,
    directAction: kind === 'bpf' && ((opts.u32(TCA_BPF.FLAGS) ?? 0) & TCA_BPF_FLAG_ACT_DIRECT) !== 0,
  };
  if (kind === 'bpf') {
    const name = opts.string(TCA_BPF.NAME);
    if (name !== undefined) out.name = name;
    const id = opts.u32(TCA_BPF.ID);
    if (id !== undefined) out.progId = id;
    if (tag) out.tag = Buffer.from(tag).toString('hex');
  }
  return out;
}

/** Filters on one direction of an interface's clsact hook (empty when there is no clsact). */
export function listFilters(ifindex: number, direction: TcDirection, sock?: NetlinkSocket): TcFilter[] {
  return withSocket(sock, (s) => s.dump(dumpFiltersRequest(ifindex, direction), `RTM_GETTFILTER ${direction} (dump)`)
    .filter((m) => m.type === RTM.NEWTFILTER)
    .map((m) => parseFilter(m, direction))
    .filter((f): f is TcFilter => f !== undefined));
}

/**
 * The cls_bpf filter at one address (chain, priority, handle), asked for directly; undefined when
 * there is none: no such handle (ENOENT), no filter chain, clsact or priority of ETH_P_ALL cls_bpf
 * filters there (EINVAL), or no such interface (ENODEV). Unlike a dump, which the kernel resumes
 * by position and does not mark when filters come and go meanwhile (a tc dump never carries
 * NLM_F_DUMP_INTR), this cannot miss a filter that is there.
 */
export function getFilter(f: FilterAddress, sock?: NetlinkSocket): TcFilter | undefined {
  return withSocket(sock, (s) => {
    let reply;
    try {
      reply = s.request(getFilterRequest(f), `RTM_GETTFILTER ${f.direction}`);
    } catch (e) {
      if (e instanceof NetlinkError && (e.code === 2 /* ENOENT */ || e.code === 22 /* EINVAL */ || e.code === 19 /* ENODEV */)) return undefined;
      throw e;
    }
    return reply.messages.filter((m) => m.type === RTM.NEWTFILTER).map((m) => parseFilter(m, f.direction)).find((x) => x !== undefined);
  });
}

/** Add (or replace) a direct-action cls_bpf filter; returns it as the kernel echoed it back. */
export function attachFilter(f: FilterSpec, sock?: NetlinkSocket): TcFilter {
  return withSocket(sock, (s) => {
    const reply = s.request(attachFilterRequest(f), `RTM_NEWTFILTER ${f.direction}`);
    const echoed = reply.messages.filter((m) => m.type === RTM.NEWTFILTER).map((m) => parseFilter(m, f.direction)).find((x) => x !== undefined);
    if (!echoed) throw new NetlinkProtocolError(`RTM_NEWTFILTER ${f.direction}: no NLM_F_ECHO copy of the new filter in the reply`);
    return echoed;
  });
}

export function detachFilter(f: FilterAddress, sock?: NetlinkSocket): void {
  withSocket(sock, (s) => s.request(deleteFilterRequest(f), `RTM_DELTFILTER ${f.direction}`));
}
