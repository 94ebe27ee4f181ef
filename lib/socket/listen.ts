// A listening TCP socket opened through the FFI, for what needs the fd of one: an sk_lookup
// program's SOCKMAP (one socket takes the connections of a whole port range), a socket in another
// network namespace (netns: made there, it stays there whatever this thread does later), reuseport
// groups. Node's net sockets do not expose their fds; this one can be served by Node all the same:
// net.Server.listen({ fd }) takes a listening TCP fd number. The server closes the fd it is given
// when it closes, so give it a duplicate and keep the listener: each closes its own.
//
//   using l = openTcpListener({ address: '0.0.0.0', port: 7100, netns: 'pod1' });
//   sockets.update(0, l.fd);                                   // into an sk_lookup SOCKMAP
//   net.createServer(onConnection).listen({ fd: l.fd.dup().release() });
import type { Fd } from '../syscall/fd.js';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { ERRNO } from '../syscall/errno.js';
import { openInet, showInet, type InetAddress, type InetSocketOptions } from './inet.js';
import { SocketError } from './sys.js';

/** SOMAXCONN since Linux 5.4 (the kernel caps a larger backlog at net.core.somaxconn) */
const DEFAULT_BACKLOG = 4096;

export interface TcpListenerOptions extends InetSocketOptions {
  /** listen(2)'s backlog: connections the kernel completes before they are accepted (default 4096, capped at net.core.somaxconn) */
  backlog?: number;
}

/** A listening TCP socket; it owns its fd (close() or Symbol.dispose). */
export class TcpListener {
  readonly fd: Fd;
  /** where it listens: the address and the port (the one the kernel chose for port 0) */
  readonly local: InetAddress;

  /** Takes ownership of `fd`, a listening socket bound to `local`. */
  constructor(fd: Fd, local: InetAddress) {
    this.fd = fd;
    this.local = local;
  }

  get port(): number {
    return this.local.port;
  }

  get address(): string {
    return this.local.address;
  }

  get closed(): boolean {
    return this.fd.closed;
  }

  /** Stop listening (connections not yet accepted are reset). Idempotent; duplicates given away stay open. */
  close(): void {
    this.fd.close();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return `TcpListener(${showInet(this.local)}${this.closed ? ', closed' : ''})`;
  }
}

/** A TCP socket listening on address:port (default 127.0.0.1, a port the kernel chooses). */
export function openTcpListener(o: TcpListenerOptions = {}): TcpListener {
  const op = 'openTcpListener';
  const backlog = o?.backlog ?? DEFAULT_BACKLOG;
  if (!Number.isInteger(backlog) || backlog < 0 || backlog > 0x7fffffff) throw new SocketError(op, ERRNO.EINVAL, `backlog ${String(backlog)} must be a non-negative integer`);
  const s = openInet(op, 'TCP', o, ({ fd, what, at }) => {
    const r = ffi().syscall3(SYS.listen, fd.value, backlog, 0);
    if (r < 0) throw new SocketError('listen', -r, what, at);
  });
  return new TcpListener(s.fd, s.local);
}
