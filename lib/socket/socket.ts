// Sockets opened through the FFI, for what needs a socket's fd (Node's dgram/net sockets do not
// expose theirs): socket filters (attachSocketFilter), sk_lookup's SOCKMAP, sockets made in another
// network namespace. An AF_PACKET socket that sees an interface's frames (a capture, tcpdump's
// way), and a UDP socket (IPv4 or IPv6) that can tell who sent each datagram and the address and
// port it was sent to (an sk_lookup program may hand it datagrams for many ports). All are
// non-blocking; recv() copies out the next datagram/frame or returns null when none is waiting,
// through one native buffer per socket. The TCP listener is in listen.ts.
//
//   using s = openUdpSocket({ address: '127.0.0.1' });  // s.port: the port the kernel chose
//   attachSocketFilter({ program, socket: s });
//   for (const d of s.drain()) …
//   for await (const d of s.datagrams(signal)) s.sendTo(reply, d.from);   // waits off the event loop
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import type { Fd } from '../syscall/fd.js';
import { NativeBuffer } from '../syscall/memory.js';
import { ERRNO } from '../syscall/errno.js';
import { EpollWaiter } from '../ringbuf/waiter.js';
import { getInterface, type InterfaceRef } from '../netlink/link.js';
import { SocketError, bindTo, openSocket, setIntOption } from './sys.js';
import { SOCKADDR_MAX, SOL_IP, SOL_IPV6, openInet, parseInet, readSockaddr, showInet, writeSockaddr, type InetAddress, type InetSocketOptions } from './inet.js';

export { SocketError } from './sys.js';

const AF_PACKET = 17;
const SOCK_RAW = 3;
const MSG_DONTWAIT = 0x40;
/** linux/if_ether.h: every protocol */
export const ETH_P_ALL = 0x0003;
/** IP_RECVORIGDSTADDR / IPV6_RECVORIGDSTADDR (linux/in.h, linux/in6.h): the option and its cmsg type are one number */
const IP_ORIGDSTADDR = 20;
const IPV6_ORIGDSTADDR = 74;

/** struct sockaddr_ll (linux/if_packet.h), 20 bytes */
const SOCKADDR_LL = { size: 20, family: 0, protocol: 2, ifindex: 4 } as const;
/** struct msghdr (64-bit): name, namelen, iov, iovlen, control, controllen, flags */
const MSGHDR = { size: 56, name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48 } as const;
/** struct iovec (64-bit) */
const IOVEC = { size: 16, base: 0, len: 8 } as const;
/** struct cmsghdr (64-bit): len (size_t), level, type, then the data at 16; each one 8-aligned */
const CMSGHDR = { len: 0, level: 8, type: 12, data: 16 } as const;
/** recvmsg's scratch: msghdr, iovec, the sender's sockaddr, room for the original destination's cmsg */
const RECV = { iov: MSGHDR.size, name: MSGHDR.size + IOVEC.size, control: MSGHDR.size + IOVEC.size + 32, controlSize: 128 } as const;

export class RawSocket {
  readonly fd: Fd;
  /** 'packet' (AF_PACKET, SOCK_RAW: frames from the link layer) or 'udp' */
  readonly kind: 'packet' | 'udp';
  /** the native buffer datagrams are received into (and sent from) */
  protected readonly buf: NativeBuffer;

  /** Takes ownership of `fd`. `bufferSize`: the largest datagram recv() returns whole. */
  constructor(fd: Fd, kind: 'packet' | 'udp', bufferSize = 65536) {
    this.fd = fd;
    this.kind = kind;
    this.buf = new NativeBuffer(bufferSize);
  }

  get closed(): boolean {
    return this.fd.closed;
  }

  /** The local port (UDP sockets; 0 for packet sockets). */
  get port(): number {
    if (this.kind !== 'udp') return 0;
    const fd = this.fd.value; // ClosedError before the freed buffer is touched
    const b = this.buf;
    b.view.setUint32(SOCKADDR_MAX, SOCKADDR_MAX, true);
    const r = ffi().syscall3(SYS.getsockname, fd, b.address, b.address + SOCKADDR_MAX);
    if (r < 0) throw new SocketError('getsockname', -r);
    return b.view.getUint16(2, false); // sin_port and sin6_port: both at 2
  }

  /** The next datagram (or frame) waiting, copied out; null when none is. */
  recv(): Uint8Array | null {
    const fd = this.fd.value;
    const b = this.buf;
    const r = ffi().syscall6(SYS.recvfrom, fd, b.address, b.size, MSG_DONTWAIT, 0, 0);
    if (r === -ERRNO.EAGAIN) return null;
    if (r < 0) throw new SocketError('recvfrom', -r, `${this.kind} socket`);
    return b.bytes.slice(0, r);
  }

  /** Everything waiting now. */
  drain(): Uint8Array[] {
    const out: Uint8Array[] = [];
    for (let d = this.recv(); d !== null; d = this.recv()) out.push(d);
    return out;
  }

  close(): void {
    if (this.fd.closed) return;
    this.fd.close();
    this.buf.free();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

/**
 * An AF_PACKET raw socket: every frame (Ethernet header included) of `interface` (all interfaces of
 * the network namespace when omitted) with the given ethertype (default ETH_P_ALL), in and out.
 * Opened in the calling thread's network namespace. Needs CAP_NET_RAW.
 */
export function openPacketSocket(o: { interface?: InterfaceRef; protocol?: number } = {}): RawSocket {
  const proto = o.protocol ?? ETH_P_ALL;
  const ifindex = o.interface === undefined ? 0 : getInterface(o.interface).index;
  const what = `packet socket${o.interface !== undefined ? ` on ${o.interface}` : ''}`;
  const fd = openSocket(AF_PACKET, SOCK_RAW, htons(proto), what);
  try {
    bindTo(fd, (v) => {
      v.setUint16(SOCKADDR_LL.family, AF_PACKET, true);
      v.setUint16(SOCKADDR_LL.protocol, proto, false);
      v.setInt32(SOCKADDR_LL.ifindex, ifindex, true);
    }, SOCKADDR_LL.size, what);
    return new RawSocket(fd, 'packet');
  } catch (e) {
    fd.close();
    throw e;
  }
}

/** A datagram as recvFrom() gives it. */
export interface Datagram {
  readonly data: Uint8Array;
  /** who sent it */
  readonly from: InetAddress;
  /**
   * where it was sent: the original destination (IP_ORIGDSTADDR), which differs from the socket's
   * own address and port when an sk_lookup program steered it here. A reply meant to be taken by a
   * connected client goes out from this address and port (a socket bound to them, see openUdpSocket).
   */
  readonly to: InetAddress;
}

export interface UdpSocketOptions extends InetSocketOptions {
  /** the largest datagram received whole (default 65536) */
  bufferSize?: number;
}

/** A bound UDP socket (IPv4 or IPv6) with the sender and original destination of each datagram. */
export class UdpSocket extends RawSocket {
  /** the address and port it is bound to (the port the kernel chose for port 0) */
  readonly local: InetAddress;
  readonly #scratch = new NativeBuffer(RECV.control + RECV.controlSize);
  #waiter: EpollWaiter | undefined;

  /** Takes ownership of `fd`, a UDP socket bound to `local` with IP(V6)_RECVORIGDSTADDR on. */
  constructor(fd: Fd, local: InetAddress, bufferSize = 65536) {
    super(fd, 'udp', bufferSize);
    this.local = local;
  }

  override get port(): number {
    return this.local.port;
  }

  get address(): string {
    return this.local.address;
  }

  /** The next datagram waiting, with its sender and original destination; null when none is. */
  recvFrom(): Datagram | null {
    const fd = this.fd.value;
    const h = this.#scratch;
    const v = h.view;
    const ptr = (off: number, p: number) => v.setBigUint64(off, BigInt(p), true);
    ptr(MSGHDR.name, h.address + RECV.name);
    v.setUint32(MSGHDR.namelen, SOCKADDR_MAX, true);
    ptr(MSGHDR.iov, h.address + RECV.iov);
    ptr(MSGHDR.iovlen, 1);
    ptr(MSGHDR.control, h.address + RECV.control);
    ptr(MSGHDR.controllen, RECV.controlSize);
    v.setInt32(MSGHDR.flags, 0, true);
    ptr(RECV.iov + IOVEC.base, this.buf.address);
    ptr(RECV.iov + IOVEC.len, this.buf.size);
    const r = ffi().syscall3(SYS.recvmsg, fd, h.address, MSG_DONTWAIT);
    if (r === -ERRNO.EAGAIN) return null;
    if (r < 0) throw new SocketError('recvmsg', -r, `UDP socket ${showInet(this.local)}`);
    const from = readSockaddr(v, RECV.name, v.getUint32(MSGHDR.namelen, true)) ?? { family: this.local.family, address: '', port: 0 };
    let to: InetAddress = this.local;
    const controlLen = Number(v.getBigUint64(MSGHDR.controllen, true));
    for (let off = 0; off + CMSGHDR.data <= controlLen;) {
      const at = RECV.control + off;
      const len = Number(v.getBigUint64(at + CMSGHDR.len, true));
      if (len < CMSGHDR.data) break;
      const level = v.getInt32(at + CMSGHDR.level, true);
      const type = v.getInt32(at + CMSGHDR.type, true);
      if ((level === SOL_IP && type === IP_ORIGDSTADDR) || (level === SOL_IPV6 && type === IPV6_ORIGDSTADDR)) {
        to = readSockaddr(v, at + CMSGHDR.data, len - CMSGHDR.data) ?? to;
      }
      off += Math.ceil(len / 8) * 8;
    }
    return { data: this.buf.bytes.slice(0, r), from, to };
  }

  /** Send `data` to `to` (an IPv4 address to an IPv6 socket goes as ::ffff:a.b.c.d). */
  sendTo(data: Uint8Array | string, to: { address: string; port: number }): void {
    const fd = this.fd.value;
    const bytes = typeof data === 'string' ? new TextEncoder().encode(data) : data;
    const dest = showInet(to);
    if (bytes.length > this.buf.size) throw new SocketError('sendto', 90 /* EMSGSIZE */, `${bytes.length} bytes, more than the socket's buffer of ${this.buf.size}`, dest);
    if (!Number.isInteger(to?.port) || to.port < 1 || to.port > 65535) throw new SocketError('sendto', ERRNO.EINVAL, `port ${String(to?.port)} is out of range (1-65535)`, dest);
    const ip = parseInet('sendto', to.address);
    const h = this.#scratch;
    const size = writeSockaddr(h.view, RECV.name, ip, to.port, this.local.family);
    this.buf.bytes.set(bytes);
    const r = ffi().syscall6(SYS.sendto, fd, this.buf.address, bytes.length, MSG_DONTWAIT, h.address + RECV.name, size);
    if (r < 0) throw new SocketError('sendto', -r, `from UDP socket ${showInet(this.local)}`, dest);
  }

  /**
   * Datagrams as they come (recvFrom()), waiting between them without blocking the event loop (a
   * worker sleeps in epoll). Ends when the socket is closed or `signal` aborts.
   */
  async *datagrams(signal?: AbortSignal): AsyncGenerator<Datagram, void, undefined> {
    for (;;) {
      if (this.closed || signal?.aborted) return;
      const d = this.recvFrom();
      if (d) {
        yield d;
        continue;
      }
      this.#waiter ??= new EpollWaiter([this.fd.value], `UDP socket ${showInet(this.local)}`);
      if (!(await this.#waiter.wait(signal, this))) return;
    }
  }

  override close(): void {
    if (this.closed) return;
    // the waiter first: its worker leaves epoll before the fd goes
    this.#waiter?.close();
    this.#waiter = undefined;
    super.close();
    this.#scratch.free();
  }
}

/**
 * A UDP socket bound to address:port (default 127.0.0.1, a port the kernel chooses: see .port),
 * IPv4 or IPv6, in another network namespace with `netns`. It reports each datagram's original
 * destination (recvFrom().to), the port a client asked for when an sk_lookup program steered it here.
 */
export function openUdpSocket(o: UdpSocketOptions = {}): UdpSocket {
  const s = openInet('openUdpSocket', 'UDP', o, ({ fd, family, what, at }) => {
    if (family === 6) setIntOption(fd, SOL_IPV6, IPV6_ORIGDSTADDR, 1, 'IPV6_RECVORIGDSTADDR', what, at);
    // on an IPv6 socket too: IPv4 datagrams to a dual-stack socket carry the IPv4 option's cmsg
    setIntOption(fd, SOL_IP, IP_ORIGDSTADDR, 1, 'IP_RECVORIGDSTADDR', what, at);
  });
  try {
    return new UdpSocket(s.fd, s.local, o.bufferSize);
  } catch (e) {
    s.fd.close();
    throw e;
  }
}

function htons(n: number): number {
  return ((n & 0xff) << 8) | ((n >> 8) & 0xff);
}
