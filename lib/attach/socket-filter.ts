// attachSocketFilter: a socket_filter program on one socket (setsockopt SOL_SOCKET SO_ATTACH_BPF).
// The program sees every packet the socket would receive and returns how many bytes to keep (0 drops
// it). A socket has one filter: attaching replaces the one there (classic BPF included), and detach()
// (SO_DETACH_BPF) removes whatever filter the socket has then.
//
// The socket is given as an fd, or anything with one (RawSocket from openPacketSocket/openUdpSocket;
// Node's own dgram/net sockets do not expose their fd). The handle keeps a duplicate of the fd so that
// detach() reaches the same socket even if the caller closed theirs (and a reused fd number is never
// touched): the socket stays open until detach() or close().
import { Fd, dupCloexec } from '../syscall/fd.js';
import { ERRNO, errnoName } from '../syscall/errno.js';
import { BPF_PROG_TYPE } from '../syscall/types.js';
import { SocketError, setsockoptInt } from '../socket/sys.js';
import { AttachArgumentError, Attachment, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';

// asm-generic/socket.h (x86_64 and arm64)
export const SOL_SOCKET = 1;
const SO_DETACH_BPF = 27; // = SO_DETACH_FILTER
const SO_ATTACH_BPF = 50;
/** The fd given is not a socket (ENOTSOCK) or not open (EBADF). */
export class NotASocketError extends AttachArgumentError {
  readonly fd: number;
  readonly errno: string;
  constructor(op: string, fd: number, code: number) {
    super(op, code === ERRNO.EBADF ? `fd ${fd} is not an open file descriptor (EBADF)` : `fd ${fd} is not a socket (${errnoName(code)})`);
    this.fd = fd;
    this.errno = errnoName(code);
  }
}

/** A socket: its fd number, an Fd, or an object holding one (RawSocket). */
export type SocketRef = number | Fd | { readonly fd: number | Fd };

export interface AttachSocketFilterOptions {
  program: AttachableProgram;
  socket: SocketRef;
}

export interface SocketFilterAttachmentInfo extends AttachmentInfo {
  readonly kind: 'socket_filter';
  /** the caller's fd number of the socket */
  readonly socketFd: number;
  readonly programId: number;
  readonly programName: string;
}

export class SocketFilterAttachment extends Attachment<SocketFilterAttachmentInfo> {
  readonly #socket: Fd;

  constructor(info: SocketFilterAttachmentInfo, socket: Fd) {
    super(info);
    this.#socket = socket;
  }

  protected doDetach(): void {
    const r = setsockoptInt(this.#socket.value, SOL_SOCKET, SO_DETACH_BPF, 0);
    // ENOENT: no filter any more (detached or replaced by someone else)
    if (r < 0 && r !== -ERRNO.ENOENT) throw new SocketError('setsockopt(SO_DETACH_BPF)', -r, `fd ${this.info.socketFd}`);
  }

  protected override release(): void {
    this.#socket.close();
  }
}

/** The fd number of a socket given as a number, an Fd or an object holding one. */
export function socketFd(op: string, s: SocketRef): number {
  const v = typeof s === 'object' && s !== null && !(s instanceof Fd) ? s.fd : s;
  const n = v instanceof Fd ? v.value : v;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) throw new AttachArgumentError(op, `socket must be a socket fd (or an object with one), got ${String(n)}`);
  return n;
}

export function attachSocketFilter(o: AttachSocketFilterOptions): SocketFilterAttachment {
  const op = 'attachSocketFilter';
  if (!o || typeof o !== 'object') throw new AttachArgumentError(op, 'options { program, socket } are required');
  const prog = checkProgram(op, o.program, [BPF_PROG_TYPE.SOCKET_FILTER], 'a socket');
  const fd = socketFd(op, o.socket);
  const dup = dupCloexec(fd);
  if (dup < 0) throw new NotASocketError(op, fd, -dup);
  const own = new Fd(dup, `socket fd ${fd}`);
  const r = setsockoptInt(own.value, SOL_SOCKET, SO_ATTACH_BPF, prog.fd);
  if (r < 0) {
    own.close();
    if (r === -ERRNO.ENOTSOCK) throw new NotASocketError(op, fd, ERRNO.ENOTSOCK);
    throw new SocketError('setsockopt(SO_ATTACH_BPF)', -r, `program ${prog.name} on fd ${fd}`);
  }
  return new SocketFilterAttachment({ kind: 'socket_filter', socketFd: fd, programId: prog.id, programName: prog.name }, own);
}
