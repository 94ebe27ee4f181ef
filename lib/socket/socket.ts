// Sockets opened through the FFI, for socket filters (attachSocketFilter takes a socket fd, and Node's
// dgram/net sockets do not expose theirs): an AF_PACKET socket that sees an interface's frames (a
// capture, tcpdump's way) and a UDP socket. Both are non-blocking; recv() copies out the next
// datagram/frame or returns null when none is waiting, through one native buffer per socket.
//
//   using s = openUdpSocket({ address: '127.0.0.1' });  // s.port: the port the kernel chose
//   attachSocketFilter({ program, socket: s });
//   for (const d of s.drain()) …
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { Fd } from '../syscall/fd.js';
import { NativeBuffer } from '../syscall/memory.js';
import { errnoMessage, errnoName, ERRNO } from '../syscall/errno.js';
import { TsbpfError } from '../errors.js';
import { getInterface, type InterfaceRef } from '../netlink/link.js';

const AF_INET = 2;
const AF_PACKET = 17;
const SOCK_DGRAM = 2;
const SOCK_RAW = 3;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const MSG_DONTWAIT = 0x40;
/** linux/if_ether.h: every protocol */
export const ETH_P_ALL = 0x0003;

/** struct sockaddr_ll (linux/if_packet.h), 20 bytes */
const SOCKADDR_LL = { size: 20, family: 0, protocol: 2, ifindex: 4 } as const;
/** struct sockaddr_in (linux/in.h), 16 bytes */
const SOCKADDR_IN = { size: 16, family: 0, port: 2, addr: 4 } as const;

/** A socket system call that failed: the call, the errno name and number. */
export class SocketError extends TsbpfError {
  readonly op: string;
  readonly errno: string;
  readonly code: number;
  constructor(op: string, code: number, detail?: string) {
    super(`${op}: ${errnoName(code)} (${errnoMessage(code)})${detail ? `: ${detail}` : ''}`);
    this.op = op;
    this.errno = errnoName(code);
    this.code = code;
  }
}

export class RawSocket {
  readonly fd: Fd;
  /** 'packet' (AF_PACKET, SOCK_RAW: frames from the link layer) or 'udp' */
  readonly kind: 'packet' | 'udp';
  readonly #buf: NativeBuffer;

  /** Takes ownership of `fd`. `bufferSize`: the largest datagram recv() returns whole. */
  constructor(fd: Fd, kind: 'packet' | 'udp', bufferSize = 65536) {
    this.fd = fd;
    this.kind = kind;
    this.#buf = new NativeBuffer(bufferSize);
  }

  get closed(): boolean {
    return this.fd.closed;
  }

  /** The local port (UDP sockets; 0 for packet sockets). */
  get port(): number {
    if (this.kind !== 'udp') return 0;
    const b = this.#buf;
    b.view.setUint32(SOCKADDR_IN.size, SOCKADDR_IN.size, true);
    const r = ffi().syscall3(SYS.getsockname, this.fd.value, b.address, b.address + SOCKADDR_IN.size);
    if (r < 0) throw new SocketError('getsockname', -r);
    return b.view.getUint16(SOCKADDR_IN.port, false);
  }

  /** The next datagram (or frame) waiting, copied out; null when none is. */
  recv(): Uint8Array | null {
    const b = this.#buf;
    const r = ffi().syscall6(SYS.recvfrom, this.fd.value, b.address, b.size, MSG_DONTWAIT, 0, 0);
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
    this.#buf.free();
  }

  [Symbol.dispose](): void {
    this.close();
  }
}

function open(family: number, type: number, protocol: number, what: string): Fd {
  const r = ffi().syscall3(SYS.socket, family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (r < 0) throw new SocketError('socket', -r, what);
  return new Fd(r, what);
}

function bindTo(fd: Fd, fill: (v: DataView) => void, size: number, what: string): void {
  const a = new NativeBuffer(size);
  try {
    fill(a.view);
    const r = ffi().syscall3(SYS.bind, fd.value, a.address, size);
    if (r < 0) throw new SocketError('bind', -r, what);
  } finally {
    a.free();
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
  const fd = open(AF_PACKET, SOCK_RAW, htons(proto), what);
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

/** A UDP socket bound to address:port (default 127.0.0.1, a port the kernel chooses: see .port). */
export function openUdpSocket(o: { address?: string; port?: number } = {}): RawSocket {
  const address = o.address ?? '127.0.0.1';
  const parts = address.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) {
    throw new SocketError('openUdpSocket', ERRNO.EINVAL, `${address} is not an IPv4 address`);
  }
  const port = o.port ?? 0;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new SocketError('openUdpSocket', ERRNO.EINVAL, `port ${port} out of range`);
  const what = `UDP socket ${address}:${port}`;
  const fd = open(AF_INET, SOCK_DGRAM, 0, what);
  try {
    bindTo(fd, (v) => {
      v.setUint16(SOCKADDR_IN.family, AF_INET, true);
      v.setUint16(SOCKADDR_IN.port, port, false);
      parts.forEach((p, i) => v.setUint8(SOCKADDR_IN.addr + i, p));
    }, SOCKADDR_IN.size, what);
    return new RawSocket(fd, 'udp');
  } catch (e) {
    fd.close();
    throw e;
  }
}

function htons(n: number): number {
  return ((n & 0xff) << 8) | ((n >> 8) & 0xff);
}
