// The socket system calls the FFI sockets share (socket, bind, setsockopt) and their error. Every
// socket is made non-blocking and close-on-exec: Node's event loop must never wait in a recv, and
// a child process must not inherit a listening socket.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { Fd } from '../syscall/fd.js';
import { NativeBuffer } from '../syscall/memory.js';
import { errnoMessage, errnoName } from '../syscall/errno.js';
import { TsbpfError } from '../errors.js';

const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;

/** A socket system call that failed: the call, the errno name and number, and the address when one was involved. */
export class SocketError extends TsbpfError {
  readonly op: string;
  readonly errno: string;
  readonly code: number;
  /** "ADDR:PORT" ("[ADDR]:PORT" for IPv6) the socket was to be bound to, when there was one */
  readonly address?: string;
  constructor(op: string, code: number, detail?: string, address?: string) {
    super(`${op}: ${errnoName(code)} (${errnoMessage(code)})${detail ? `: ${detail}` : ''}`);
    this.op = op;
    this.errno = errnoName(code);
    this.code = code;
    if (address !== undefined) this.address = address;
  }
}

/** socket(2), non-blocking and close-on-exec; `what` names it in errors and in the Fd. */
export function openSocket(family: number, type: number, protocol: number, what: string): Fd {
  const r = ffi().syscall3(SYS.socket, family, type | SOCK_NONBLOCK | SOCK_CLOEXEC, protocol);
  if (r < 0) throw new SocketError('socket', -r, what);
  return new Fd(r, what);
}

/** bind(2) to the sockaddr `fill` writes (`size` bytes). */
export function bindTo(fd: Fd, fill: (v: DataView) => void, size: number, what: string, address?: string): void {
  const a = new NativeBuffer(size);
  try {
    fill(a.view);
    const r = ffi().syscall3(SYS.bind, fd.value, a.address, size);
    if (r < 0) throw new SocketError('bind', -r, what, address);
  } finally {
    a.free();
  }
}

/** setsockopt(2) of an int option on a raw fd number: 0, or -errno for the caller to word. */
export function setsockoptInt(fd: number, level: number, option: number, value: number): number {
  const a = new NativeBuffer(4);
  try {
    a.view.setInt32(0, value, true);
    return ffi().syscall6(SYS.setsockopt, fd, level, option, a.address, 4, 0);
  } finally {
    a.free();
  }
}

/** setsockopt(2) of an int option; `name` is the option's name for errors ('SO_REUSEPORT'). */
export function setIntOption(fd: Fd, level: number, option: number, value: number, name: string, what: string, address?: string): void {
  const r = setsockoptInt(fd.value, level, option, value);
  if (r < 0) throw new SocketError(`setsockopt(${name})`, -r, what, address);
}
