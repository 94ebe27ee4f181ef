// attachReuseport: a program that picks which socket of a SO_REUSEPORT group gets each new
// connection or datagram (setsockopt SO_ATTACH_REUSEPORT_EBPF). Without one the kernel picks by a
// hash of the flow.
//
//   const a = openUdpSocket({ port: 7000, reusePort: true }), b = openUdpSocket({ port: 7000, reusePort: true });
//   socks.update(0, a); socks.update(1, b);                    // a REUSEPORT_SOCKARRAY the program selects from
//   const r = attachReuseport({ program: obj.program('select'), socket: a });
//   r.detach();                                                // SO_DETACH_REUSEPORT_BPF: the hash again
//
// - program: BPF_PROG_TYPE_SK_REUSEPORT (SEC("sk_reuseport")): bpf_sk_select_reuseport() with a
//   REUSEPORT_SOCKARRAY, SOCKMAP or SOCKHASH, then SK_PASS (SK_DROP drops; SK_PASS without a
//   selection leaves it to the hash). Or BPF_PROG_TYPE_SOCKET_FILTER (SEC("socket")): it returns the
//   index of the socket in the group, counted in the order they joined it; an index past the group
//   leaves it to the hash.
// - The program belongs to the group, whichever member it was attached through; attaching again
//   replaces it. The kernel cannot be asked which program a group has, so detach() removes whatever
//   program the group has then.
// - The socket must have SO_REUSEPORT set (openUdpSocket/openTcpListener's reusePort) and a TCP one
//   must listen: EINVAL otherwise.
// - The handle does not hold the socket open (an extra reference would keep a member in the group,
//   taking its share of the traffic with nobody reading it): detach() goes through the socket it
//   was given, which must still be open, or through any other member with detachReuseport().
import { Fd } from '../syscall/fd.js';
import { ERRNO } from '../syscall/errno.js';
import { BPF_PROG_TYPE } from '../syscall/types.js';
import { SocketError, setsockoptInt } from '../socket/sys.js';
import { AttachArgumentError, Attachment, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
import { NotASocketError, SOL_SOCKET, socketFd, type SocketRef } from './socket-filter.js';

// asm-generic/socket.h
const SO_ATTACH_REUSEPORT_EBPF = 52;
const SO_DETACH_REUSEPORT_BPF = 68;

export interface AttachReuseportOptions {
  program: AttachableProgram;
  /** a socket of the group (its fd, an Fd, or an object holding one: UdpSocket, TcpListener, RawSocket) */
  socket: SocketRef;
}

export interface ReuseportAttachmentInfo extends AttachmentInfo {
  readonly kind: 'reuseport';
  /** the fd number of the socket it was attached through */
  readonly socketFd: number;
  readonly programId: number;
  readonly programName: string;
}

export class ReuseportAttachment extends Attachment<ReuseportAttachmentInfo> {
  readonly #socket: SocketRef;

  /** @internal use attachReuseport() */
  constructor(info: ReuseportAttachmentInfo, socket: SocketRef) {
    super(info);
    this.#socket = socket;
  }

  protected doDetach(): void {
    const s = this.#socket;
    const fd = typeof s === 'object' && !(s instanceof Fd) ? s.fd : s;
    if (fd instanceof Fd && fd.closed) {
      throw new AttachArgumentError('ReuseportAttachment.detach', `the socket (fd ${this.info.socketFd}) it was attached through is closed: detach through another socket of the group with detachReuseport(socket), or close the group's sockets (the program goes with the group)`);
    }
    detachReuseport(s);
  }
}

/** Remove the program of the SO_REUSEPORT group `socket` is in (none there is not an error). */
export function detachReuseport(socket: SocketRef): void {
  const op = 'detachReuseport';
  const fd = socketFd(op, socket);
  const r = setsockoptInt(fd, SOL_SOCKET, SO_DETACH_REUSEPORT_BPF, 0);
  // ENOENT: the group has no program (detached already, or never had one)
  if (r === 0 || r === -ERRNO.ENOENT) return;
  if (r === -ERRNO.ENOTSOCK || r === -ERRNO.EBADF) throw new NotASocketError(op, fd, -r);
  throw new SocketError('setsockopt(SO_DETACH_REUSEPORT_BPF)', -r, r === -ERRNO.EINVAL ? `fd ${fd} is not in a SO_REUSEPORT group` : `fd ${fd}`);
}

export function attachReuseport(o: AttachReuseportOptions): ReuseportAttachment {
  const op = 'attachReuseport';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, socket } are required');
  const prog = checkProgram(op, o.program, [BPF_PROG_TYPE.SK_REUSEPORT, BPF_PROG_TYPE.SOCKET_FILTER], 'a SO_REUSEPORT group');
  const fd = socketFd(op, o.socket);
  const r = setsockoptInt(fd, SOL_SOCKET, SO_ATTACH_REUSEPORT_EBPF, prog.fd);
  if (r < 0) {
    if (r === -ERRNO.ENOTSOCK || r === -ERRNO.EBADF) throw new NotASocketError(op, fd, -r);
    const why = r === -ERRNO.EINVAL ? ': the socket needs SO_REUSEPORT (reusePort: true), and a TCP socket must be listening' : '';
    throw new SocketError('setsockopt(SO_ATTACH_REUSEPORT_EBPF)', -r, `program ${prog.name} on fd ${fd}${why}`);
  }
  return new ReuseportAttachment({ kind: 'reuseport', socketFd: fd, programId: prog.id, programName: prog.name }, o.socket);
}
