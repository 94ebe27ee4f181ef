// Routes (RTM_NEWROUTE / RTM_DELROUTE / RTM_GETROUTE), as far as BPF needs them: a unicast route
// whose encapsulation is BPF programs (LWTUNNEL_ENCAP_BPF, `ip route add … encap bpf xmit …`), and
// a dump that tells each route's BPF hooks by the names they were given. The kernel keeps only
// those names of a route's programs (no id comes back in a dump), compares routes' BPF
// encapsulations by name alone, and needs the programs' fds again to match one in a delete (it
// rebuilds the encapsulation from the request), so a route is added and deleted with the same
// fds and names.
import {
  AF_UNSPEC, LWT_BPF, LWT_BPF_PROG, LWTUNNEL_ENCAP_BPF, NLM_F, RTAX_MTU, RT_SCOPE, RT_TABLE_MAIN, RTA, RTM, RTM_F_CLONED, RTN_UNICAST, RTPROT_BOOT,
} from './constants.js';
import { MessageBuilder, parseRtmsg, type Attrs, type NlMessage } from './codec.js';
import { NetlinkProtocolError } from './errors.js';
import type { NetlinkSocket } from './socket.js';
import { withSocket } from './link.js';
import { ADDRESS_FAMILY, formatIp, type IpAddress, type IpFamily, type IpPrefix } from './address.js';

export type LwtHook = 'in' | 'out' | 'xmit';
export const LWT_HOOKS: readonly LwtHook[] = ['in', 'out', 'xmit'];
const LWT_ATTR: Readonly<Record<LwtHook, number>> = { in: LWT_BPF.IN, out: LWT_BPF.OUT, xmit: LWT_BPF.XMIT };

/** A route's BPF encapsulation as a dump shows it: the name of each hook's program. */
export type LwtBpfNames = { readonly [H in LwtHook]?: string };

export interface Route {
  readonly family: IpFamily;
  /** the destination prefix ("10.1.0.0/24", "2001:db8::/64"; "0.0.0.0/0" or "::/0" for default) */
  readonly dst: string;
  readonly table: number;
  /** rtm_protocol (3: boot, what `ip route add` marks; 2: kernel) */
  readonly protocol: number;
  readonly scope: number;
  /** rtm_type (1: unicast) */
  readonly type: number;
  /** RTA_PRIORITY, what `ip route` calls metric */
  readonly metric?: number;
  readonly ifindex?: number;
  readonly gateway?: string;
  /** RTA_PREFSRC */
  readonly source?: string;
  /** RTA_METRICS' RTAX_MTU, when the route has one */
  readonly mtu?: number;
  /** enum lwtunnel_encap_types when the route has an encapsulation (6: BPF) */
  readonly encapType?: number;
  /** with a BPF encapsulation: its programs' names per hook */
  readonly bpf?: LwtBpfNames;
}

/** A BPF program for one hook of a route's encapsulation: its fd and the name the route keeps. */
export interface LwtProgramRef {
  readonly fd: number;
  readonly name: string;
}

/** What identifies a route (and, to add one, where it goes) with a BPF encapsulation. */
export interface BpfRouteSpec {
  readonly dst: IpPrefix;
  /** default RT_TABLE_MAIN */
  readonly table?: number;
  readonly metric?: number;
  readonly ifindex?: number;
  readonly gateway?: IpAddress;
  /** RTA_PREFSRC: the source address this host's packets by the route get (`ip route … src ADDR`) */
  readonly source?: IpAddress;
  /** RTA_METRICS' RTAX_MTU: the path MTU of the route (`ip route … mtu N`), e.g. less an encapsulation's header */
  readonly mtu?: number;
  readonly programs: { readonly [H in LwtHook]?: LwtProgramRef };
  /** LWT_BPF_XMIT_HEADROOM: bytes the xmit program may push in front (0-256) */
  readonly headroom?: number;
}

function routeHeader(b: MessageBuilder, r: BpfRouteSpec, add: boolean): MessageBuilder {
  const table = r.table ?? RT_TABLE_MAIN;
  // tables past 255 only fit RTA_TABLE; the header then says RT_TABLE_UNSPEC, as iproute2 sends it.
  // A delete leaves protocol and type unset and scope NOWHERE, which the kernel reads as "any"
  b.rtmsg({
    family: ADDRESS_FAMILY[r.dst.family], dstLen: r.dst.length, table: table < 256 ? table : 0,
    protocol: add ? RTPROT_BOOT : 0, type: add ? RTN_UNICAST : 0,
    scope: !add ? RT_SCOPE.NOWHERE : r.gateway ? RT_SCOPE.UNIVERSE : RT_SCOPE.LINK,
  });
  b.u32(RTA.TABLE, table);
  if (r.dst.length > 0) b.attr(RTA.DST, r.dst.bytes);
  if (r.metric !== undefined) b.u32(RTA.PRIORITY, r.metric);
  if (r.ifindex !== undefined) b.u32(RTA.OIF, r.ifindex);
  if (r.gateway) b.attr(RTA.GATEWAY, r.gateway.bytes);
  if (r.source && add) b.attr(RTA.PREFSRC, r.source.bytes);
  if (r.mtu !== undefined && add) b.nested(RTA.METRICS, (m) => m.u32(RTAX_MTU, r.mtu!));
  b.u16(RTA.ENCAP_TYPE, LWTUNNEL_ENCAP_BPF);
  b.nested(RTA.ENCAP, (e) => {
    for (const h of LWT_HOOKS) {
      const p = r.programs[h];
      if (p) e.nested(LWT_ATTR[h], (n) => n.u32(LWT_BPF_PROG.FD, p.fd).string(LWT_BPF_PROG.NAME, p.name));
    }
    if (r.headroom !== undefined) e.u32(LWT_BPF.XMIT_HEADROOM, r.headroom);
  });
  return b;
}

/** RTM_NEWROUTE of a unicast route with BPF programs; `replace` takes the place of a route with the same destination, table and metric. */
export function addBpfRouteRequest(r: BpfRouteSpec, o: { replace?: boolean } = {}): MessageBuilder {
  const flags = NLM_F.REQUEST | NLM_F.ACK | NLM_F.ECHO | NLM_F.CREATE | (o.replace ? NLM_F.REPLACE : NLM_F.EXCL);
  return routeHeader(new MessageBuilder(RTM.NEWROUTE, flags), r, true);
}

/** RTM_DELROUTE of exactly that route: IPv4 matches the encapsulation too (by the programs' names). */
export function deleteBpfRouteRequest(r: BpfRouteSpec): MessageBuilder {
  return routeHeader(new MessageBuilder(RTM.DELROUTE, NLM_F.REQUEST | NLM_F.ACK), r, false);
}

export function dumpRoutesRequest(family: IpFamily | undefined): MessageBuilder {
  return new MessageBuilder(RTM.GETROUTE, NLM_F.REQUEST | NLM_F.DUMP).rtmsg({ family: family ? ADDRESS_FAMILY[family] : AF_UNSPEC });
}

function parseBpfNames(encap: Attrs): LwtBpfNames {
  const out: { -readonly [H in LwtHook]?: string } = {};
  for (const h of LWT_HOOKS) {
    const name = encap.nested(LWT_ATTR[h])?.string(LWT_BPF_PROG.NAME);
    if (name !== undefined) out[h] = name;
  }
  return out;
}

/** A route from an RTM_NEWROUTE message; undefined for families other than IPv4/IPv6 and for IPv6 cache clones. */
export function parseRoute(m: NlMessage): Route | undefined {
  const r = parseRtmsg(m.payload);
  const family: IpFamily | undefined = r.family === ADDRESS_FAMILY[4] ? 4 : r.family === ADDRESS_FAMILY[6] ? 6 : undefined;
  if (!family || (r.flags & RTM_F_CLONED) !== 0) return undefined;
  const size = family === 4 ? 4 : 16;
  const addr = (type: number): string | undefined => {
    const b = r.attrs.bytes(type);
    if (!b) return undefined;
    if (b.length !== size) throw new NetlinkProtocolError(`route attribute ${type} holds ${b.length} bytes, an IPv${family} address has ${size}`);
    return formatIp({ family, bytes: b });
  };
  const out: { -readonly [K in keyof Route]: Route[K] } = {
    family, dst: `${addr(RTA.DST) ?? (family === 4 ? '0.0.0.0' : '::')}/${r.dstLen}`,
    table: r.attrs.u32(RTA.TABLE) ?? r.table, protocol: r.protocol, scope: r.scope, type: r.type,
  };
  const metric = r.attrs.u32(RTA.PRIORITY);
  if (metric !== undefined) out.metric = metric;
  const oif = r.attrs.u32(RTA.OIF);
  if (oif !== undefined) out.ifindex = oif;
  const gw = addr(RTA.GATEWAY);
  if (gw !== undefined) out.gateway = gw;
  const src = addr(RTA.PREFSRC);
  if (src !== undefined) out.source = src;
  const mtu = r.attrs.nested(RTA.METRICS)?.u32(RTAX_MTU);
  if (mtu !== undefined) out.mtu = mtu;
  const encapType = r.attrs.u16(RTA.ENCAP_TYPE);
  if (encapType !== undefined) {
    out.encapType = encapType;
    const encap = r.attrs.nested(RTA.ENCAP);
    if (encapType === LWTUNNEL_ENCAP_BPF && encap) out.bpf = parseBpfNames(encap);
  }
  return out;
}

/** Every IPv4 and/or IPv6 route of every table in the socket's namespace (IPv6 cache clones left out). */
export function listRoutes(o: { family?: IpFamily } = {}, sock?: NetlinkSocket): Route[] {
  return withSocket(sock, (s) => s.dump(dumpRoutesRequest(o.family), 'RTM_GETROUTE (dump)')
    .filter((m) => m.type === RTM.NEWROUTE)
    .map(parseRoute)
    .filter((r): r is Route => r !== undefined));
}

/** Add a route with BPF programs; returns it as the kernel echoed it back (with the metric and table it chose). */
export function addBpfRoute(r: BpfRouteSpec, o: { replace?: boolean; op?: string } = {}, sock?: NetlinkSocket): Route | undefined {
  return withSocket(sock, (s) => {
    const reply = s.request(addBpfRouteRequest(r, o), o.op ?? 'RTM_NEWROUTE');
    return reply.messages.filter((m) => m.type === RTM.NEWROUTE).map(parseRoute).find((x) => x !== undefined);
  });
}

export function deleteBpfRoute(r: BpfRouteSpec, o: { op?: string } = {}, sock?: NetlinkSocket): void {
  withSocket(sock, (s) => s.request(deleteBpfRouteRequest(r), o.op ?? 'RTM_DELROUTE'));
}
