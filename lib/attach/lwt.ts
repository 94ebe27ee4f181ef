// attachLwt: BPF programs on a route (lightweight tunnel BPF, `ip route add PREFIX … encap bpf
// in|out|xmit …`): a route whose encapsulation is up to three programs, each run for the packets
// that route carries.
//
//   const r = attachLwt({ route: '10.9.0.0/24', interface: 'veth0', xmit: obj.program('encap'), headroom: 20 });
//   r.info;     // { kind: 'lwt', route: '10.9.0.0/24', table: 254, metric: 0, interface: 'veth0', programs: { xmit: … } }
//   r.detach(); // the route goes (only if it is still ours), or dispose
//
// The hooks (BPF_PROG_TYPE_LWT_IN, _OUT, _XMIT; programs answer BPF_OK, BPF_DROP, and xmit also
// BPF_REDIRECT or BPF_LWT_REROUTE):
// - in: packets received and routed by this route (forwarded ones: the namespace must forward);
// - out: packets this host sends by this route, before the neighbour layer;
// - xmit: packets about to leave by this route; it may push an encapsulation header
//   (bpf_lwt_push_encap, up to `headroom` bytes, at most 256) and must then return BPF_LWT_REROUTE.
//
// What the kernel does that a user meets:
// - The route holds its programs; it stays when the process exits (a netlink attachment). close()
//   lets go of the handle and leaves the route.
// - A route keeps its programs' names, not their ids: `ip route` and listRoutes() show the names.
//   It compares encapsulations by name, so two routes whose programs have the same names look the
//   same to a delete: detach() first checks that the route is still there with this handle's
//   names, and deletes it with the same programs (IPv4 matches them; IPv6 matches the destination,
//   table, metric and interface).
// - A route to the prefix with the same table and metric already there is EEXIST, unless `replace`
//   (then it takes that route's place, whatever it was).
// - netns: the route goes in that namespace (the netlink socket is opened there and kept for detach).
import { BPF_PROG_TYPE } from '../syscall/types.js';
import type { Fd } from '../syscall/fd.js';
import { NetlinkSocket } from '../netlink/socket.js';
import { NetlinkError } from '../netlink/errors.js';
import { getInterface, type InterfaceRef } from '../netlink/link.js';
import { inNetnsText, usingNetns, type NetnsRef } from '../netlink/netns-enter.js';
import { LWT_BPF_MAX_HEADROOM, LWT_BPF_PROG_NAME_MAX, RT_TABLE_MAIN } from '../netlink/constants.js';
import { InvalidAddressError, formatIp, formatPrefix, parseIp, parsePrefix, type IpFamily } from '../netlink/address.js';
import { LWT_HOOKS, addBpfRoute, deleteBpfRoute, listRoutes, type BpfRouteSpec, type LwtHook, type LwtProgramRef } from '../netlink/route.js';
import { Attachment, AttachArgumentError, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';

export type { LwtHook } from '../netlink/route.js';

export interface AttachLwtOptions {
  /** the destination prefix, "10.9.0.0/24" or "2001:db8::/64" (an address alone: a host route) */
  route: string;
  /** the route's output interface (needed unless `via` names a gateway the kernel can reach) */
  interface?: InterfaceRef;
  /** a gateway address of the same family */
  via?: string;
  /** the source address for packets this host sends by the route (`ip route … src ADDR`): one of its own addresses */
  source?: string;
  /** the route's path MTU (`ip route … mtu N`): with an encapsulation, the interface's less its header, so TCP picks segments that fit */
  mtu?: number;
  /** the routing table (default 254, main) */
  table?: number;
  /** the route's metric (RTA_PRIORITY); IPv6 routes without one get 1024 from the kernel */
  metric?: number;
  /** BPF_PROG_TYPE_LWT_IN: packets this route receives */
  in?: AttachableProgram;
  /** BPF_PROG_TYPE_LWT_OUT: packets this host sends by the route */
  out?: AttachableProgram;
  /** BPF_PROG_TYPE_LWT_XMIT: packets leaving by the route */
  xmit?: AttachableProgram;
  /** bytes the xmit program may push in front of the packet (0-256); only with `xmit` */
  headroom?: number;
  /** take the place of a route with the same destination, table and metric instead of failing (EEXIST) */
  replace?: boolean;
  /** the namespace of the route (default: the calling thread's) */
  netns?: NetnsRef;
}

export interface LwtProgramInfo {
  readonly id: number;
  /** the name the route keeps (the program's name): what `ip route` prints */
  readonly name: string;
}

export interface LwtAttachmentInfo extends AttachmentInfo {
  readonly kind: 'lwt';
  /** the destination prefix as the kernel keeps it */
  readonly route: string;
  readonly family: IpFamily;
  readonly table: number;
  readonly metric?: number;
  readonly interface?: string;
  readonly ifindex?: number;
  readonly via?: string;
  readonly source?: string;
  readonly mtu?: number;
  readonly headroom?: number;
  readonly programs: { readonly [H in LwtHook]?: LwtProgramInfo };
  /** the network namespace given as `netns` (its path, or "fd N"); absent: the caller's */
  readonly netns?: string;
}

const HOOK_TYPE: Readonly<Record<LwtHook, number>> = { in: BPF_PROG_TYPE.LWT_IN, out: BPF_PROG_TYPE.LWT_OUT, xmit: BPF_PROG_TYPE.LWT_XMIT };

export class LwtAttachment extends Attachment<LwtAttachmentInfo> {
  readonly #sock: NetlinkSocket;
  readonly #spec: BpfRouteSpec;
  readonly #fds: Fd[];

  /** @internal use attachLwt() */
  constructor(info: LwtAttachmentInfo, sock: NetlinkSocket, spec: BpfRouteSpec, fds: Fd[]) {
    super(info);
    this.#sock = sock;
    this.#spec = spec;
    this.#fds = fds;
  }

  /** true while the route is there with this handle's programs (by name, all the kernel keeps; IPv4 dumps leave a metric of 0 out) */
  isAttached(): boolean {
    const i = this.info;
    return listRoutes({ family: i.family }, this.#sock).some((r) => r.dst === i.route && r.table === i.table
      && (r.metric ?? 0) === (i.metric ?? 0)
      && (i.ifindex === undefined || r.ifindex === i.ifindex)
      && LWT_HOOKS.every((h) => r.bpf?.[h] === i.programs[h]?.name));
  }

  protected doDetach(): void {
    // someone deleted or replaced the route since: nothing of this handle is there to remove
    if (!this.isAttached()) return;
    try {
      deleteBpfRoute(this.#spec, { op: `detach lwt route ${this.info.route}${inNetnsText(this.#sock.netns)}` }, this.#sock);
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 3 /* ESRCH: gone meanwhile */) return;
      throw e;
    }
  }

  protected override release(): void {
    this.#sock.close();
    for (const fd of this.#fds) fd.close();
  }
}

function checkU32(op: string, what: string, v: unknown, min: number, max: number): number {
  if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
    throw new AttachArgumentError(op, `${what} must be an integer from ${min} to ${max}, got ${typeof v === 'number' ? v : String(v)}`);
  }
  return v;
}

export function attachLwt(o: AttachLwtOptions): LwtAttachment {
  const op = 'attachLwt';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options must be an object');
  let dst;
  let via;
  let source;
  try {
    dst = parsePrefix(o.route, 'route prefix');
    via = o.via === undefined ? undefined : parseIp(o.via, 'gateway');
    source = o.source === undefined ? undefined : parseIp(o.source, 'source address');
  } catch (e) {
    if (e instanceof InvalidAddressError) throw new AttachArgumentError(op, e.message, { cause: e });
    throw e;
  }
  if (via && via.family !== dst.family) throw new AttachArgumentError(op, `gateway ${o.via} is IPv${via.family}, route ${o.route} is IPv${dst.family}`);
  if (source && source.family !== dst.family) throw new AttachArgumentError(op, `source ${o.source} is IPv${source.family}, route ${o.route} is IPv${dst.family}`);
  const hooks = LWT_HOOKS.filter((h) => o[h] !== undefined);
  if (hooks.length === 0) throw new AttachArgumentError(op, `route ${o.route}: no program given (in, out or xmit)`);
  const table = o.table === undefined ? RT_TABLE_MAIN : checkU32(op, 'table', o.table, 1, 0xffffffff);
  const metric = o.metric === undefined ? undefined : checkU32(op, 'metric', o.metric, 0, 0xffffffff);
  // 68 and 1280 are the smallest MTUs IPv4 and IPv6 allow; no IP packet is larger than 65535 bytes
  const mtu = o.mtu === undefined ? undefined : checkU32(op, 'mtu', o.mtu, dst.family === 4 ? 68 : 1280, 65535);
  let headroom: number | undefined;
  if (o.headroom !== undefined) {
    headroom = checkU32(op, 'headroom', o.headroom, 0, LWT_BPF_MAX_HEADROOM);
    if (!o.xmit) throw new AttachArgumentError(op, 'headroom is room for what an xmit program pushes; no xmit program was given');
  }
  if (o.interface === undefined && !via) throw new AttachArgumentError(op, `route ${o.route}: give an interface, a gateway (via), or both`);

  const sock = usingNetns(o.netns, op, (ns) => NetlinkSocket.open({ netns: ns }));
  const where = inNetnsText(sock.netns);
  const fds: Fd[] = [];
  try {
    const programs: { -readonly [H in LwtHook]?: LwtProgramRef } = {};
    const infos: { -readonly [H in LwtHook]?: LwtProgramInfo } = {};
    for (const h of hooks) {
      const p = checkProgram(op, o[h]!, [HOOK_TYPE[h]], `the ${h} hook of a route`);
      if (!p.name) throw new AttachArgumentError(op, `the ${h} program has no name; a route keeps its programs by name`);
      if (Buffer.byteLength(p.name) > LWT_BPF_PROG_NAME_MAX) throw new AttachArgumentError(op, `the ${h} program's name is over ${LWT_BPF_PROG_NAME_MAX} bytes`);
      infos[h] = { id: p.id, name: p.name };
    }
    const iface = o.interface === undefined ? undefined : getInterface(o.interface, sock);
    // the handle's own fds, in the add and kept for the delete, which must name the programs again
    // by fd: the caller's may be closed (and their numbers reused) by then
    for (const h of hooks) {
      const dup = o[h]!.fd.dup();
      fds.push(dup);
      programs[h] = { fd: dup.value, name: infos[h]!.name };
    }
    const spec: BpfRouteSpec = {
      dst, table, programs,
      ...(metric !== undefined ? { metric } : {}), ...(iface ? { ifindex: iface.index } : {}),
      ...(via ? { gateway: via } : {}), ...(source ? { source } : {}), ...(mtu !== undefined ? { mtu } : {}), ...(headroom !== undefined ? { headroom } : {}),
    };
    const label = `route ${formatPrefix(dst)}${iface ? ` dev ${iface.name}` : ''}${via ? ` via ${formatIp(via)}` : ''} table ${table}${where}`;
    let echoed;
    try {
      echoed = addBpfRoute(spec, { replace: o.replace === true, op: `${op} ${label}` }, sock);
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 17 /* EEXIST */) {
        throw new NetlinkError(`${op} ${label}`, e.code, { extack: e.extack, detail: `a route to ${formatPrefix(dst)} with that table and metric is already there; replace: true takes its place` });
      }
      throw e;
    }
    const first = infos[hooks[0]]!;
    const info: LwtAttachmentInfo = {
      kind: 'lwt', route: formatPrefix(dst), family: dst.family, table: echoed?.table ?? table,
      programId: first.id, programName: first.name, programs: infos,
      ...((echoed?.metric ?? metric) !== undefined ? { metric: echoed?.metric ?? metric } : {}),
      ...(iface ? { interface: iface.name, ifindex: iface.index } : echoed?.ifindex !== undefined ? { ifindex: echoed.ifindex } : {}),
      ...(via ? { via: formatIp(via) } : {}), ...(source ? { source: formatIp(source) } : {}), ...(mtu !== undefined ? { mtu } : {}), ...(headroom !== undefined ? { headroom } : {}),
      ...(sock.netns !== undefined ? { netns: sock.netns } : {}),
    };
    // the delete names the route as the kernel completed it (IPv6's default metric, the gateway's device)
    const kept: BpfRouteSpec = { ...spec, ...(info.metric !== undefined ? { metric: info.metric } : {}), ...(info.ifindex !== undefined ? { ifindex: info.ifindex } : {}) };
    return new LwtAttachment(info, sock, kept, fds);
  } catch (e) {
    for (const fd of fds) fd.close();
    sock.close();
    throw e;
  }
}
