// Interfaces (RTM_GETLINK): list them with a dump, look one up by name or index, and read the XDP
// programs attached to each, per mode.
import { AF_UNSPEC, IFF, IFLA, IFLA_INFO, IFLA_XDP, NLM_F, RTM, XDP_ATTACHED } from './constants.js';
import { MessageBuilder, parseIfinfomsg, type Attrs, type NlMessage } from './codec.js';
import { InterfaceNotFoundError, InvalidInterfaceError, NetlinkError } from './errors.js';
import { NetlinkSocket } from './socket.js';

export type XdpAttachMode = 'drv' | 'skb' | 'hw';

/** What IFLA_XDP says is attached to an interface. */
export interface XdpState {
  /** 'none', one mode, or 'multi' when several modes have a program */
  readonly attached: 'none' | XdpAttachMode | 'multi';
  /** program ids per mode (present only for the modes that have one) */
  readonly drv?: number;
  readonly skb?: number;
  readonly hw?: number;
}

export interface NetInterface {
  readonly index: number;
  readonly name: string;
  /** IFF_* flags (IFF_UP = 1, IFF_LOWER_UP = 0x10000, …) */
  readonly flags: number;
  readonly up: boolean;
  readonly mtu: number;
  /** rtnl link kind ('veth', 'bridge', …) when it has one */
  readonly kind?: string;
  /** link-layer address, colon-separated hex */
  readonly address?: string;
  readonly xdp: XdpState;
}

/** An interface by name (its main name or an alternative name), or by index (a number). */
export type InterfaceRef = string | number;

/** IFNAMSIZ less its NUL: the longest main name */
const IFNAME_MAX = 15;
/** ALTIFNAMSIZ less its NUL: the longest alternative name (`ip link property add dev X altname Y`, kernel 5.5) */
const ALTIFNAME_MAX = 127;
const IFINDEX_MAX = 0x7fffffff;

/**
 * `ref` if it can name an interface; InvalidInterfaceError otherwise (an index that would wrap in
 * the s32 ifi_index, a name with a NUL the kernel would cut at, undefined from a missing option).
 * A name may be an alternative name, so up to 127 bytes (a main name has at most 15).
 */
export function checkInterfaceRef(ref: unknown): InterfaceRef {
  if (typeof ref === 'number') {
    if (!Number.isInteger(ref) || ref < 1 || ref > IFINDEX_MAX) throw new InvalidInterfaceError(ref, 'is not an interface index');
    return ref;
  }
  if (typeof ref !== 'string') throw new InvalidInterfaceError(ref, 'is not an interface');
  if (ref === '') throw new InvalidInterfaceError(ref, 'is not an interface name (empty)');
  if (ref.includes('\0')) throw new InvalidInterfaceError(ref, 'is not an interface name (it contains a NUL byte)');
  const bytes = Buffer.byteLength(ref, 'utf8');
  if (bytes > ALTIFNAME_MAX) throw new InvalidInterfaceError(ref, `is not an interface name (${bytes} bytes, more than ALTIFNAMSIZ allows for an alternative name)`);
  return ref;
}

/** Run fn with the given socket, or with a fresh one closed afterwards. */
export function withSocket<T>(sock: NetlinkSocket | undefined, fn: (s: NetlinkSocket) => T): T {
  if (sock) return fn(sock);
  const s = NetlinkSocket.open();
  try {
    return fn(s);
  } finally {
    s.close();
  }
}

/** RTM_GETLINK dump of every interface. */
export function dumpLinksRequest(): MessageBuilder {
  return new MessageBuilder(RTM.GETLINK, NLM_F.REQUEST | NLM_F.DUMP).ifinfomsg({ family: AF_UNSPEC });
}

/**
 * RTM_GETLINK for one interface, by index or by name. A name that fits IFNAMSIZ goes in IFLA_IFNAME
 * (the kernel finds main and alternative names with it); a longer one can only be an alternative
 * name and goes in IFLA_ALT_IFNAME, as iproute2 sends it (IFLA_IFNAME is cut at 15 bytes).
 */
export function getLinkRequest(ref: InterfaceRef): MessageBuilder {
  const b = new MessageBuilder(RTM.GETLINK, NLM_F.REQUEST | NLM_F.ACK);
  if (typeof ref === 'number') return b.ifinfomsg({ family: AF_UNSPEC, index: ref });
  const long = Buffer.byteLength(ref, 'utf8') > IFNAME_MAX;
  return b.ifinfomsg({ family: AF_UNSPEC }).string(long ? IFLA.ALT_IFNAME : IFLA.IFNAME, ref);
}

export function parseXdp(a: Attrs | undefined): XdpState {
  if (!a) return { attached: 'none' };
  const mode = a.u8(IFLA_XDP.ATTACHED) ?? XDP_ATTACHED.NONE;
  const single = a.u32(IFLA_XDP.PROG_ID);
  const out: { attached: XdpState['attached']; drv?: number; skb?: number; hw?: number } = { attached: 'none' };
  const drv = a.u32(IFLA_XDP.DRV_PROG_ID) ?? (mode === XDP_ATTACHED.DRV ? single : undefined);
  const skb = a.u32(IFLA_XDP.SKB_PROG_ID) ?? (mode === XDP_ATTACHED.SKB ? single : undefined);
  const hw = a.u32(IFLA_XDP.HW_PROG_ID) ?? (mode === XDP_ATTACHED.HW ? single : undefined);
  if (drv) out.drv = drv;
  if (skb) out.skb = skb;
  if (hw) out.hw = hw;
  out.attached = mode === XDP_ATTACHED.DRV ? 'drv' : mode === XDP_ATTACHED.SKB ? 'skb' : mode === XDP_ATTACHED.HW ? 'hw' : mode === XDP_ATTACHED.MULTI ? 'multi' : 'none';
  return out;
}

export function parseLink(m: NlMessage): NetInterface {
  const { index, flags, attrs } = parseIfinfomsg(m.payload);
  const mac = attrs.bytes(IFLA.ADDRESS);
  const kind = attrs.nested(IFLA.LINKINFO)?.string(IFLA_INFO.KIND);
  const out: { -readonly [K in keyof NetInterface]: NetInterface[K] } = {
    index, name: attrs.string(IFLA.IFNAME) ?? '', flags, up: (flags & IFF.UP) !== 0,
    mtu: attrs.u32(IFLA.MTU) ?? 0, xdp: parseXdp(attrs.nested(IFLA.XDP)),
  };
  if (kind) out.kind = kind;
  if (mac && mac.length > 0) out.address = [...mac].map((x) => x.toString(16).padStart(2, '0')).join(':');
  return out;
}

/** Every interface of the calling thread's network namespace, in index order. */
export function listInterfaces(sock?: NetlinkSocket): NetInterface[] {
  return withSocket(sock, (s) => s.dump(dumpLinksRequest(), 'RTM_GETLINK (dump)').filter((m) => m.type === RTM.NEWLINK).map(parseLink))
    .sort((a, b) => a.index - b.index);
}

/**
 * One interface by name or index; InterfaceNotFoundError when there is none (naming the socket's
 * namespace when it was opened in another), InvalidInterfaceError (before asking the kernel) when
 * `ref` cannot name one.
 */
export function getInterface(ref: InterfaceRef, sock?: NetlinkSocket): NetInterface {
  ref = checkInterfaceRef(ref);
  return withSocket(sock, (s) => {
    let reply;
    try {
      reply = s.request(getLinkRequest(ref), 'RTM_GETLINK');
    } catch (e) {
      if (e instanceof NetlinkError && e.code === 19) throw new InterfaceNotFoundError(ref, { netns: s.netns });
      throw e;
    }
    const m = reply.messages.find((x) => x.type === RTM.NEWLINK);
    if (!m) throw new InterfaceNotFoundError(ref, { netns: s.netns });
    return parseLink(m);
  });
}

/** name → index (a number is checked to exist and returned). */
export function interfaceIndex(ref: InterfaceRef, sock?: NetlinkSocket): number {
  return getInterface(ref, sock).index;
}

/** index → name. */
export function interfaceName(index: number, sock?: NetlinkSocket): string {
  return getInterface(index, sock).name;
}
