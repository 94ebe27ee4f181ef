// Typed errors of AF_XDP sockets. XskError is the kernel saying no to one step of making or using a
// socket (the step, the errno, and which interface and queue); XskArgumentError is an option that
// cannot be right, thrown before any system call; the TX errors say why frames were not sent.
import { TsbpfError } from '../errors.js';
import { errnoMessage, errnoName } from '../syscall/errno.js';

/** Where a socket is (or was to be) bound: the interface as given, its index when known, the queue. */
export interface XskWhere {
  readonly interface?: string | number;
  readonly ifindex?: number;
  readonly queue?: number;
}

function place(w: XskWhere): string {
  if (w.interface === undefined) return '';
  const name = typeof w.interface === 'number' ? `ifindex ${w.interface}` : w.interface;
  return ` on ${name}${w.queue !== undefined ? ` queue ${w.queue}` : ''}`;
}

/** A failed step of an AF_XDP socket ('socket', 'XDP_UMEM_REG', 'mmap fill ring', 'bind', 'sendto', …). */
export class XskError extends TsbpfError {
  /** the step that failed */
  readonly op: string;
  /** 'EINVAL', 'EOPNOTSUPP', … ('' when the kernel was not asked) */
  readonly errno: string;
  /** the positive errno number (0 when the kernel was not asked) */
  readonly code: number;
  readonly interface?: string | number;
  readonly queue?: number;
  constructor(op: string, code: number, where: XskWhere, detail?: string, options?: { cause?: unknown }) {
    const c = Math.abs(code);
    const err = c ? `: ${errnoName(c)} (${errnoMessage(c)})` : '';
    super(`AF_XDP socket${place(where)}: ${op}${err}${detail ? `: ${detail}` : ''}`, options);
    this.op = op;
    this.errno = c ? errnoName(c) : '';
    this.code = c;
    if (where.interface !== undefined) this.interface = where.interface;
    if (where.queue !== undefined) this.queue = where.queue;
  }
}

/** An option or argument that cannot be right (ring size not a power of two, a frame size the kernel refuses, a map of the wrong type). */
export class XskArgumentError extends XskError {
  /** the option or argument at fault: 'ringSizes.fill', 'frameSize', 'map', … */
  readonly option: string;
  constructor(op: string, option: string, message: string, where: XskWhere = {}) {
    super(op, 0, where, `${option} ${message}`);
    this.option = option;
  }
}

/** The socket (or its UMEM) was used after close(). */
export class XskClosedError extends XskError {
  constructor(op: string, where: XskWhere) {
    super(op, 0, where, 'the socket is closed');
  }
}

/**
 * transmit() found too few free UMEM frames (or TX ring slots) for the frames given: nothing of
 * this call was sent. Frames come back as the kernel completes earlier sends; retry after a while.
 */
export class XskNoFreeFrameError extends XskError {
  /** frames asked for */
  readonly wanted: number;
  /** frames (and TX ring slots) free after reclaiming the completion ring */
  readonly available: number;
  constructor(wanted: number, available: number, where: XskWhere) {
    super('transmit', 0, where, `${wanted} frame${wanted === 1 ? '' : 's'} to send, ${available} free UMEM frame${available === 1 ? '' : 's'} (or TX ring slots) after reclaiming completions; nothing was sent, retry once earlier frames complete`);
    this.wanted = wanted;
    this.available = available;
  }
}

/** transmit() got a frame that does not fit a UMEM frame (or is empty): nothing of this call was sent. */
export class XskFrameSizeError extends XskError {
  /** index of the frame in the array given */
  readonly index: number;
  readonly length: number;
  readonly frameSize: number;
  constructor(index: number, length: number, frameSize: number, where: XskWhere) {
    super('transmit', 0, where, length === 0
      ? `frame ${index} is empty; nothing was sent`
      : `frame ${index} is ${length} bytes, larger than the ${frameSize}-byte UMEM frame; nothing was sent`);
    this.index = index;
    this.length = length;
    this.frameSize = frameSize;
  }
}

/**
 * receive() or iteration from inside a receive callback: the callback's frames go back to the fill
 * ring when it returns. (A frame an async iterator holds is out of everyone's way: not busy.)
 */
export class XskBusyError extends XskError {
  constructor(op: string, where: XskWhere) {
    super(op, 0, where, 'called from inside a receive callback, whose frames are given back when it returns; one consumer at a time');
  }
}
