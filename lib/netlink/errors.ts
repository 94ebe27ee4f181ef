// Typed errors of the rtnetlink client. NetlinkError is the kernel saying no: the operation, the
// errno, and the kernel's own extended-ack text when it gave one ("Exclusivity flag on, cannot
// modify"). NetlinkProtocolError is a reply that breaks the protocol (never the user's fault).
// NetlinkEncodeError is a request that cannot be written down (an attribute past nla_len's 16 bits):
// thrown before anything is sent.
import { TsbpfError } from '../errors.js';
import { errnoMessage, errnoName } from '../syscall/errno.js';

export class NetlinkError extends TsbpfError {
  /** what was asked: 'RTM_NEWTFILTER', 'socket', 'attachTc', … */
  readonly op: string;
  /** 'EEXIST', 'ENODEV', … */
  readonly errno: string;
  /** the positive errno number */
  readonly code: number;
  /** the kernel's extended-ack message, when it sent one */
  readonly extack?: string;
  /** byte offset in the request of the attribute the kernel blamed (NLMSGERR_ATTR_OFFS) */
  readonly extackOffset?: number;
  /** what the library added to the kernel's answer (the message has it after the extack) */
  readonly detail?: string;
  constructor(op: string, code: number, o: { extack?: string; extackOffset?: number; detail?: string } = {}) {
    const c = Math.abs(code);
    const parts = [`${op}: ${errnoName(c)} (${errnoMessage(c)})`];
    if (o.extack) parts.push(`kernel: ${o.extack}`);
    if (o.detail) parts.push(o.detail);
    super(parts.join(': '));
    this.op = op;
    this.errno = errnoName(c);
    this.code = c;
    if (o.extack !== undefined) this.extack = o.extack;
    if (o.extackOffset !== undefined) this.extackOffset = o.extackOffset;
    if (o.detail !== undefined) this.detail = o.detail;
  }
}

/**
 * The named interface does not exist in the network namespace looked in (ENODEV): the caller's, or
 * the one given as `netns` (its path or "fd N"); at the lookup, or (with `op` and `detail`) gone
 * when an attach that had found it went on to change it.
 */
export class InterfaceNotFoundError extends NetlinkError {
  readonly interface: string | number;
  /** the network namespace looked in, when it was not the caller's */
  readonly netns?: string;
  constructor(iface: string | number, o: { op?: string; detail?: string; netns?: string } = {}) {
    const where = o.netns !== undefined ? `network namespace ${o.netns}` : 'this network namespace';
    super(o.op ?? 'interface lookup', 19, { detail: o.detail ?? `no interface ${typeof iface === 'number' ? `with index ${iface}` : JSON.stringify(iface)} in ${where}` });
    this.interface = iface;
    if (o.netns !== undefined) this.netns = o.netns;
  }
}

/**
 * An interface argument that cannot name one: neither a string nor a number, an index outside
 * 1..2147483647 (ifindex is a positive s32), a name that is empty, longer than 127 bytes (an
 * alternative name's ALTIFNAMSIZ; a main name has at most 15) or holds a NUL (the kernel would read
 * a shorter name). Thrown before the kernel is asked.
 */
export class InvalidInterfaceError extends TsbpfError {
  /** the argument as given */
  readonly interface: unknown;
  constructor(iface: unknown, why: string) {
    super(`interface lookup: ${describe(iface)} ${why}; give an interface name (1..15 bytes, an alternative name up to 127) or index (an integer 1..2147483647)`);
    this.interface = iface;
  }
}

function describe(v: unknown): string {
  if (typeof v === 'string') return JSON.stringify(v.length > 40 ? `${v.slice(0, 40)}…` : v);
  if (typeof v === 'number' || typeof v === 'bigint') return String(v);
  if (v === null || v === undefined) return String(v);
  return `a ${typeof v === 'object' ? (v.constructor?.name ?? 'object') : typeof v}`;
}

/** A reply that cannot be right: truncated, wrong sequence number or port id, unknown framing. */
export class NetlinkProtocolError extends TsbpfError {
  constructor(message: string) {
    super(`netlink: ${message}`);
  }
}

/**
 * A request that cannot be encoded: an attribute (or a nest) longer than the 65535 bytes its u16
 * nla_len can say, a header field out of its range. Thrown while building, before anything is sent,
 * so the kernel never parses a corrupt message.
 */
export class NetlinkEncodeError extends TsbpfError {
  constructor(message: string) {
    super(`netlink request: ${message}`);
  }
}
