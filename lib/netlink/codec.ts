// Netlink message encoding and decoding: one request = nlmsghdr + fixed header + attributes, each
// padded to 4 bytes (NLMSG_ALIGN / NLA_ALIGN). Pure: no sockets here, so requests are unit-tested
// byte for byte. Decoding checks every length against its container and throws
// NetlinkProtocolError, never a RangeError; encoding refuses what its fields cannot hold (an attribute
// past nla_len's 65535 bytes, an ifindex outside s32) with NetlinkEncodeError instead of wrapping.
import {
  IFINFOMSG_SIZE, NLA_F_NESTED, NLA_HDRLEN, NLA_TYPE_MASK, NLMSG_HDRLEN, RTMSG_SIZE, TCMSG_SIZE,
} from './constants.js';
import { NetlinkEncodeError, NetlinkProtocolError } from './errors.js';

export const align4 = (n: number): number => (n + 3) & ~3;

/** nla_len is a u16 that counts the header too */
const NLA_MAX_LEN = 0xffff;

/** An s32 header field (ifi_index, tcm_ifindex): DataView.setInt32 would wrap 2**32+2 to 2 */
function s32Field(what: string, v: number): number {
  if (!Number.isInteger(v) || v < -0x80000000 || v > 0x7fffffff) throw new NetlinkEncodeError(`${what} ${v} is not a 32-bit signed integer`);
  return v;
}

const utf8 = new TextEncoder();
const utf8d = new TextDecoder();

/** Builds one netlink message. Little-endian host order (x86_64, arm64), as the kernel expects. */
export class MessageBuilder {
  #bytes: Uint8Array;
  #view: DataView;
  #len = NLMSG_HDRLEN;

  constructor(readonly type: number, readonly flags: number, capacity = 256) {
    this.#bytes = new Uint8Array(capacity);
    this.#view = new DataView(this.#bytes.buffer);
    this.#view.setUint16(4, type, true);
    this.#view.setUint16(6, flags, true);
  }

  get length(): number {
    return this.#len;
  }

  #reserve(n: number): number {
    const at = this.#len;
    const need = at + align4(n);
    if (need > this.#bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.#bytes.length * 2));
      grown.set(this.#bytes);
      this.#bytes = grown;
      this.#view = new DataView(grown.buffer);
    }
    this.#len = need;
    return at;
  }

  /** struct ifinfomsg */
  ifinfomsg(o: { family?: number; type?: number; index?: number; flags?: number; change?: number } = {}): this {
    const at = this.#reserve(IFINFOMSG_SIZE);
    const v = this.#view;
    v.setUint8(at, o.family ?? 0);
    v.setUint16(at + 2, o.type ?? 0, true);
    v.setInt32(at + 4, s32Field('ifi_index', o.index ?? 0), true);
    v.setUint32(at + 8, o.flags ?? 0, true);
    v.setUint32(at + 12, o.change ?? 0, true);
    return this;
  }

  /** struct rtgenmsg: the family byte, padded to 4 (RTM_GETNSID) */
  rtgenmsg(family = 0): this {
    const at = this.#reserve(4);
    this.#view.setUint8(at, family);
    return this;
  }

  /** struct tcmsg */
  tcmsg(o: { family?: number; ifindex: number; handle?: number; parent?: number; info?: number }): this {
    const at = this.#reserve(TCMSG_SIZE);
    const v = this.#view;
    v.setUint8(at, o.family ?? 0);
    v.setInt32(at + 4, s32Field('tcm_ifindex', o.ifindex), true);
    v.setUint32(at + 8, (o.handle ?? 0) >>> 0, true);
    v.setUint32(at + 12, (o.parent ?? 0) >>> 0, true);
    v.setUint32(at + 16, (o.info ?? 0) >>> 0, true);
    return this;
  }

  /** struct rtmsg */
  rtmsg(o: { family: number; dstLen?: number; srcLen?: number; tos?: number; table?: number; protocol?: number; scope?: number; type?: number; flags?: number }): this {
    const at = this.#reserve(RTMSG_SIZE);
    const v = this.#view;
    v.setUint8(at, o.family);
    v.setUint8(at + 1, o.dstLen ?? 0);
    v.setUint8(at + 2, o.srcLen ?? 0);
    v.setUint8(at + 3, o.tos ?? 0);
    v.setUint8(at + 4, o.table ?? 0);
    v.setUint8(at + 5, o.protocol ?? 0);
    v.setUint8(at + 6, o.scope ?? 0);
    v.setUint8(at + 7, o.type ?? 0);
    v.setUint32(at + 8, (o.flags ?? 0) >>> 0, true);
    return this;
  }

  /** An attribute with raw payload (padded to 4 bytes; nla_len counts the unpadded payload). */
  attr(type: number, payload: Uint8Array): this {
    if (NLA_HDRLEN + payload.length > NLA_MAX_LEN) {
      throw new NetlinkEncodeError(`attribute ${type} carries ${payload.length} bytes; nla_len holds at most ${NLA_MAX_LEN - NLA_HDRLEN} bytes of payload`);
    }
    const at = this.#reserve(NLA_HDRLEN + payload.length);
    this.#view.setUint16(at, NLA_HDRLEN + payload.length, true);
    this.#view.setUint16(at + 2, type, true);
    this.#bytes.set(payload, at + NLA_HDRLEN);
    return this;
  }

  u8(type: number, v: number): this {
    return this.attr(type, Uint8Array.of(v));
  }

  u16(type: number, v: number): this {
    const b = new Uint8Array(2);
    new DataView(b.buffer).setUint16(0, v & 0xffff, true);
    return this.attr(type, b);
  }

  u32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setUint32(0, v >>> 0, true);
    return this.attr(type, b);
  }

  s32(type: number, v: number): this {
    const b = new Uint8Array(4);
    new DataView(b.buffer).setInt32(0, v, true);
    return this.attr(type, b);
  }

  /** NUL-terminated string (NLA_NUL_STRING / NLA_STRING both accept it). */
  string(type: number, s: string): this {
    const enc = utf8.encode(s);
    const b = new Uint8Array(enc.length + 1);
    b.set(enc);
    return this.attr(type, b);
  }

  /** Attributes written inside fn nest in one attribute of `type` (with NLA_F_NESTED, as libbpf sends). */
  nested(type: number, fn: (b: this) => void): this {
    const at = this.#reserve(NLA_HDRLEN);
    fn(this);
    if (this.#len - at > NLA_MAX_LEN) {
      throw new NetlinkEncodeError(`nested attribute ${type} holds ${this.#len - at - NLA_HDRLEN} bytes; nla_len holds at most ${NLA_MAX_LEN - NLA_HDRLEN}`);
    }
    this.#view.setUint16(at, this.#len - at, true);
    this.#view.setUint16(at + 2, type | NLA_F_NESTED, true);
    return this;
  }

  /** The finished message with nlmsg_len, nlmsg_seq and nlmsg_pid (0: to the kernel) filled in. */
  finish(seq: number, pid = 0): Uint8Array {
    this.#view.setUint32(0, this.#len, true);
    this.#view.setUint32(8, seq >>> 0, true);
    this.#view.setUint32(12, pid >>> 0, true);
    return this.#bytes.slice(0, this.#len);
  }
}

/** One received message: header fields and its payload (after the nlmsghdr). */
export interface NlMessage {
  readonly type: number;
  readonly flags: number;
  readonly seq: number;
  readonly pid: number;
  readonly payload: Uint8Array;
}

/** Split a datagram into messages (NLMSG_OK / NLMSG_NEXT with every length checked). */
export function parseMessages(buf: Uint8Array): NlMessage[] {
  const out: NlMessage[] = [];
  const v = new DataView(buf.buffer, buf.byteOffset, buf.byteLength);
  let off = 0;
  while (off + NLMSG_HDRLEN <= buf.length) {
    const len = v.getUint32(off, true);
    if (len < NLMSG_HDRLEN || off + len > buf.length) {
      throw new NetlinkProtocolError(`message at offset ${off} claims ${len} bytes, ${buf.length - off} received`);
    }
    out.push({
      type: v.getUint16(off + 4, true), flags: v.getUint16(off + 6, true),
      seq: v.getUint32(off + 8, true), pid: v.getUint32(off + 12, true),
      payload: buf.subarray(off + NLMSG_HDRLEN, off + len),
    });
    off += align4(len);
  }
  return out;
}

/** Attributes by type (flags masked off; a repeated type keeps the last). */
export class Attrs {
  readonly #map = new Map<number, Uint8Array>();

  constructor(bytes: Uint8Array, what = 'attributes') {
    const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    let off = 0;
    while (off + NLA_HDRLEN <= bytes.length) {
      const len = v.getUint16(off, true);
      const type = v.getUint16(off + 2, true) & NLA_TYPE_MASK;
      if (len < NLA_HDRLEN || off + len > bytes.length) {
        throw new NetlinkProtocolError(`${what}: attribute ${type} at offset ${off} claims ${len} bytes, ${bytes.length - off} left`);
      }
      this.#map.set(type, bytes.subarray(off + NLA_HDRLEN, off + len));
      off += align4(len);
    }
  }

  has(type: number): boolean {
    return this.#map.has(type);
  }

  bytes(type: number): Uint8Array | undefined {
    return this.#map.get(type);
  }

  u8(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 1 ? b[0] : undefined;
  }

  u16(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 2 ? new DataView(b.buffer, b.byteOffset, 2).getUint16(0, true) : undefined;
  }

  u32(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getUint32(0, true) : undefined;
  }

  s32(type: number): number | undefined {
    const b = this.#map.get(type);
    return b && b.length >= 4 ? new DataView(b.buffer, b.byteOffset, 4).getInt32(0, true) : undefined;
  }

  /** A string attribute without its NUL terminator. */
  string(type: number): string | undefined {
    const b = this.#map.get(type);
    if (!b) return undefined;
    const nul = b.indexOf(0);
    return utf8d.decode(nul < 0 ? b : b.subarray(0, nul));
  }

  nested(type: number): Attrs | undefined {
    const b = this.#map.get(type);
    return b ? new Attrs(b, `nested attribute ${type}`) : undefined;
  }
}

/** struct ifinfomsg at the start of a payload, and the attributes after it. */
export function parseIfinfomsg(p: Uint8Array): { family: number; type: number; index: number; flags: number; attrs: Attrs } {
  if (p.length < IFINFOMSG_SIZE) throw new NetlinkProtocolError(`ifinfomsg needs ${IFINFOMSG_SIZE} bytes, got ${p.length}`);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    family: v.getUint8(0), type: v.getUint16(2, true), index: v.getInt32(4, true), flags: v.getUint32(8, true),
    attrs: new Attrs(p.subarray(IFINFOMSG_SIZE), 'ifinfomsg'),
  };
}

/** struct tcmsg at the start of a payload, and the attributes after it. */
export function parseTcmsg(p: Uint8Array): { family: number; ifindex: number; handle: number; parent: number; info: number; attrs: Attrs } {
  if (p.length < TCMSG_SIZE) throw new NetlinkProtocolError(`tcmsg needs ${TCMSG_SIZE} bytes, got ${p.length}`);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    family: v.getUint8(0), ifindex: v.getInt32(4, true), handle: v.getUint32(8, true),
    parent: v.getUint32(12, true), info: v.getUint32(16, true),
    attrs: new Attrs(p.subarray(TCMSG_SIZE), 'tcmsg'),
  };
}

/** struct rtmsg at the start of a payload, and the attributes after it. */
export function parseRtmsg(p: Uint8Array): { family: number; dstLen: number; srcLen: number; tos: number; table: number; protocol: number; scope: number; type: number; flags: number; attrs: Attrs } {
  if (p.length < RTMSG_SIZE) throw new NetlinkProtocolError(`rtmsg needs ${RTMSG_SIZE} bytes, got ${p.length}`);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  return {
    family: p[0], dstLen: p[1], srcLen: p[2], tos: p[3], table: p[4], protocol: p[5], scope: p[6], type: p[7],
    flags: v.getUint32(8, true), attrs: new Attrs(p.subarray(RTMSG_SIZE), 'rtmsg'),
  };
}
