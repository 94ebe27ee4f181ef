// IPv4/IPv6 sockets bound to an address: struct sockaddr_in/sockaddr_in6, and the one way the FFI's
// TCP listener and UDP socket are opened: socket() (inside another network namespace when asked:
// a socket belongs for good to the namespace it was created in, so only that call needs the
// thread there), options, bind(), then the kernel's answer for the local address (the port it
// chose for port 0).
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import type { Fd } from '../syscall/fd.js';
import { NativeBuffer } from '../syscall/memory.js';
import { ERRNO } from '../syscall/errno.js';
import { InvalidAddressError, formatIp, parseIp, type IpAddress } from '../netlink/address.js';
import { inNetns, inNetnsText, usingNetns, type NetnsRef } from '../netlink/netns-enter.js';
import { SocketError, bindTo, openSocket, setIntOption } from './sys.js';

export const AF_INET = 2;
export const AF_INET6 = 10;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOL_SOCKET = 1;
export const SOL_IP = 0;
export const SOL_IPV6 = 41;
const SO_REUSEADDR = 2;
const SO_REUSEPORT = 15;
const IPV6_V6ONLY = 26;

/** struct sockaddr_in (linux/in.h), 16 bytes; the port in network order */
const SOCKADDR_IN = { size: 16, family: 0, port: 2, addr: 4 } as const;
/** struct sockaddr_in6 (linux/in6.h), 28 bytes */
const SOCKADDR_IN6 = { size: 28, family: 0, port: 2, flowinfo: 4, addr: 8, scopeId: 24 } as const;
/** room for either */
export const SOCKADDR_MAX = SOCKADDR_IN6.size;

/** An IP address and port, as a socket has it. */
export interface InetAddress {
  readonly family: 4 | 6;
  /** text: a dotted quad, RFC 5952 IPv6 (an IPv4-mapped one as ::ffff:a.b.c.d) */
  readonly address: string;
  readonly port: number;
}

/** "ADDR:PORT", "[ADDR]:PORT" for IPv6: for messages. */
export const showInet = (a: { family?: number; address: string; port: number }): string =>
  (a.family === 6 || a.address.includes(':') ? `[${a.address}]:${a.port}` : `${a.address}:${a.port}`);

function formatInet(ip: IpAddress): string {
  const b = ip.bytes;
  // what a dual-stack socket reports for an IPv4 peer: shown the way inet_ntop(3) shows it
  if (ip.family === 6 && b.subarray(0, 10).every((x) => x === 0) && b[10] === 0xff && b[11] === 0xff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  return formatIp(ip);
}

/** Write the sockaddr of `ip`:`port` at `off` (an IPv4 address into an IPv6 socket's as ::ffff:a.b.c.d); its size. */
export function writeSockaddr(v: DataView, off: number, ip: IpAddress, port: number, socketFamily: 4 | 6 = ip.family): number {
  if (socketFamily === 4) {
    v.setUint16(off + SOCKADDR_IN.family, AF_INET, true);
    v.setUint16(off + SOCKADDR_IN.port, port, false);
    for (let i = 0; i < 4; i++) v.setUint8(off + SOCKADDR_IN.addr + i, ip.bytes[i] ?? 0);
    for (let i = 8; i < SOCKADDR_IN.size; i++) v.setUint8(off + i, 0);
    return SOCKADDR_IN.size;
  }
  for (let i = 0; i < SOCKADDR_IN6.size; i++) v.setUint8(off + i, 0);
  v.setUint16(off + SOCKADDR_IN6.family, AF_INET6, true);
  v.setUint16(off + SOCKADDR_IN6.port, port, false);
  if (ip.family === 4) {
    v.setUint16(off + SOCKADDR_IN6.addr + 10, 0xffff, false);
    ip.bytes.forEach((x, i) => v.setUint8(off + SOCKADDR_IN6.addr + 12 + i, x));
  } else {
    ip.bytes.forEach((x, i) => v.setUint8(off + SOCKADDR_IN6.addr + i, x));
  }
  return SOCKADDR_IN6.size;
}

/** The sockaddr_in/in6 of `len` bytes at `off`; undefined for another family or a short one. */
export function readSockaddr(v: DataView, off: number, len: number): InetAddress | undefined {
  if (len < 2) return undefined;
  const family = v.getUint16(off, true);
  const port = len >= 4 ? v.getUint16(off + 2, false) : 0;
  if (family === AF_INET && len >= SOCKADDR_IN.addr + 4) {
    return { family: 4, address: formatInet({ family: 4, bytes: new Uint8Array(v.buffer, v.byteOffset + off + SOCKADDR_IN.addr, 4) }), port };
  }
  if (family === AF_INET6 && len >= SOCKADDR_IN6.addr + 16) {
    return { family: 6, address: formatInet({ family: 6, bytes: new Uint8Array(v.buffer, v.byteOffset + off + SOCKADDR_IN6.addr, 16) }), port };
  }
  return undefined;
}

/** `text` as an IP address, or a SocketError(op, EINVAL) that says why. */
export function parseInet(op: string, text: unknown): IpAddress {
  try {
    return parseIp(text);
  } catch (e) {
    if (e instanceof InvalidAddressError) throw new SocketError(op, ERRNO.EINVAL, `${e.message}${String(text).includes('%') ? ' (a zone such as %eth0 is not taken)' : ''}`, String(text));
    throw e;
  }
}

/** Options shared by openTcpListener and openUdpSocket. */
export interface InetSocketOptions {
  /** the local address, IPv4 or IPv6 ('0.0.0.0' or '::' for all of them); default 127.0.0.1, or ::1 with v6 */
  address?: string;
  /** the local port; default 0: one the kernel chooses (the socket's .port says which) */
  port?: number;
  /** an IPv6 socket: ::1 when no address is given; an address given must be IPv6 */
  v6?: boolean;
  /** IPV6_V6ONLY on an IPv6 socket: no IPv4 through it (default: the kernel's net.ipv6.bindv6only, usually 0: both) */
  v6Only?: boolean;
  /** SO_REUSEPORT: more sockets may bind the same address and port; the kernel spreads the load over them */
  reusePort?: boolean;
  /** create the socket in this network namespace (a /run/netns name, a path, an fd, an Fd or a Netns); it stays in it for good */
  netns?: NetnsRef;
}

export interface BoundSocket {
  readonly fd: Fd;
  readonly local: InetAddress;
}

/**
 * A bound TCP or UDP socket (`prepare` runs after bind, e.g. listen(); a throw closes the socket).
 * Arguments that cannot be right are SocketError(op, EINVAL) before any system call.
 */
export function openInet(op: string, kind: 'TCP' | 'UDP', o: InetSocketOptions, prepare?: (s: { fd: Fd; family: 4 | 6; what: string; at: string }) => void): BoundSocket {
  if (o === null || typeof o !== 'object') throw new SocketError(op, ERRNO.EINVAL, 'options must be an object');
  const ip = o.address === undefined ? parseInet(op, o.v6 ? '::1' : '127.0.0.1') : parseInet(op, o.address);
  const port = o.port ?? 0;
  const at = showInet({ family: ip.family, address: o.address ?? formatIp(ip), port });
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SocketError(op, ERRNO.EINVAL, `port ${String(port)} is out of range (0-65535)`, at);
  if (o.v6 && ip.family !== 6) throw new SocketError(op, ERRNO.EINVAL, `v6 was asked for but ${o.address} is an IPv4 address`, at);
  if (o.v6Only !== undefined && ip.family !== 6) throw new SocketError(op, ERRNO.EINVAL, 'v6Only is for IPv6 sockets', at);
  return usingNetns(o.netns, op, (ns) => {
    const what = `${kind} socket ${at}${inNetnsText(ns)}`;
    const fd = inNetns(ns, op, () => openSocket(ip.family === 4 ? AF_INET : AF_INET6, kind === 'TCP' ? SOCK_STREAM : SOCK_DGRAM, 0, what), (made) => made.close());
    try {
      // a listener comes back on its port while connections of its last run are in TIME_WAIT (as Node's do)
      if (kind === 'TCP') setIntOption(fd, SOL_SOCKET, SO_REUSEADDR, 1, 'SO_REUSEADDR', what, at);
      if (o.reusePort) setIntOption(fd, SOL_SOCKET, SO_REUSEPORT, 1, 'SO_REUSEPORT', what, at);
      if (o.v6Only !== undefined) setIntOption(fd, SOL_IPV6, IPV6_V6ONLY, o.v6Only ? 1 : 0, 'IPV6_V6ONLY', what, at);
      bindTo(fd, (v) => writeSockaddr(v, 0, ip, port), ip.family === 4 ? SOCKADDR_IN.size : SOCKADDR_IN6.size, what, at);
      prepare?.({ fd, family: ip.family, what, at });
      return { fd, local: localAddress(fd, what, at) };
    } catch (e) {
      fd.close();
      throw e;
    }
  });
}

/** getsockname(2): the address and port a socket is bound to. */
export function localAddress(fd: Fd, what: string, at?: string): InetAddress {
  const b = new NativeBuffer(SOCKADDR_MAX + 4);
  try {
    b.view.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
    const r = ffi().syscall3(SYS.getsockname, fd.value, b.address, b.address + SOCKADDR_MAX);
    if (r < 0) throw new SocketError('getsockname', -r, what, at);
    const a = readSockaddr(b.view, 0, b.view.getUint32(SOCKADDR_MAX, true));
    if (!a) throw new SocketError('getsockname', 97 /* EAFNOSUPPORT */, `${what} is not an IPv4 or IPv6 socket`, at);
    return a;
  } finally {
    b.free();
  }
}
