// XdpSocket's options, checked before any system call (pure: unit-tested without a kernel), with
// libxdp's defaults (xsk_umem_config / xsk_socket_config): 4096 frames of 4096 bytes, rings of 2048.
import { constants } from 'node:buffer';
import type { InterfaceRef } from '../netlink/link.js';
import { XskArgumentError } from './errors.js';
import { isRingSize } from './ring.js';
import { XDP_PACKET_HEADROOM, XDP_UMEM_MIN_CHUNK_SIZE } from './uapi.js';

/** 'copy': the kernel copies packets into the UMEM (every driver); 'zerocopy': the driver DMAs into it (needs driver support); 'auto': zero-copy where the driver has it, else copy. */
export type XskBindMode = 'copy' | 'zerocopy' | 'auto';

export interface XdpSocketOptions {
  /** the interface, by name or index, in the calling thread's network namespace */
  interface: InterfaceRef;
  /** the queue to bind to (default 0); an XDP program redirects the packets of this queue to the socket */
  queue?: number;
  /** UMEM frames (default 4096; at most 4 GiB of them, Node's largest ArrayBuffer); with both RX and TX rings, half go to receiving (at most fillSize), the rest to sending */
  frames?: number;
  /** bytes per UMEM frame: a power of two from 2048 to the page size (default 4096) */
  frameSize?: number;
  /**
   * bytes the kernel leaves free in front of each received packet, on top of its own 256 (default 0).
   * A packet longer than frameSize − 256 − headroom is dropped (stats().rxDropped); Linux 6.18 takes
   * at most frameSize − 704 on x86-64 (room for skb_shared_info and 128 bytes of packet)
   */
  headroom?: number;
  /** ring sizes in entries, each a power of two (default 2048; fill and completion at most 2^28, RX and TX 2^27: one ArrayBuffer each); rxSize or txSize 0: no RX (TX) ring */
  fillSize?: number;
  completionSize?: number;
  rxSize?: number;
  txSize?: number;
  /** default 'auto' */
  mode?: XskBindMode;
  /** bind with XDP_USE_NEED_WAKEUP: the kernel says when a sendto()/recvfrom() kick is needed (default true) */
  needWakeup?: boolean;
}

/** Options after defaults and checks, with how the UMEM frames are shared out. */
export interface CheckedXskOptions {
  readonly interface: InterfaceRef;
  readonly queue: number;
  readonly frames: number;
  readonly frameSize: number;
  readonly headroom: number;
  readonly fillSize: number;
  readonly completionSize: number;
  readonly rxSize: number;
  readonly txSize: number;
  readonly mode: XskBindMode;
  readonly needWakeup: boolean;
  /** frames 0 … rxFrames-1 are for receiving (always in the fill ring, the kernel, the RX ring or a callback) */
  readonly rxFrames: number;
  /** the frames after those are for sending */
  readonly txFrames: number;
}

/** the largest ArrayBuffer Node makes over external memory (4 GiB on 64-bit Node 20 … 22) */
const MAX_VIEW = constants.MAX_LENGTH;

const KNOWN = new Set(['interface', 'queue', 'frames', 'frameSize', 'headroom', 'fillSize', 'completionSize', 'rxSize', 'txSize', 'mode', 'needWakeup']);
const OP = 'XdpSocket.create';

/** Defaults applied and every option checked; XskArgumentError naming the option otherwise. `page`: the page size. */
export function checkXskOptions(o: XdpSocketOptions, page: number): CheckedXskOptions {
  if (typeof o !== 'object' || o === null) throw new XskArgumentError(OP, 'options', `must be an object, got ${o === null ? 'null' : typeof o}`);
  for (const k of Object.keys(o)) if (!KNOWN.has(k)) throw new XskArgumentError(OP, k, `is not an option (known: ${[...KNOWN].join(', ')})`);
  const where = { interface: o.interface };
  const int = (name: keyof XdpSocketOptions, v: unknown, def: number, min: number, max: number): number => {
    if (v === undefined) return def;
    if (typeof v !== 'number' || !Number.isInteger(v) || v < min || v > max) {
      throw new XskArgumentError(OP, name, `must be an integer ${min} … ${max}, got ${typeof v === 'number' ? v : typeof v}`, where);
    }
    return v;
  };
  const fail = (name: string, message: string): never => {
    throw new XskArgumentError(OP, name, message, where);
  };
  const ring = (name: 'fillSize' | 'completionSize' | 'rxSize' | 'txSize', allowZero: boolean): number => {
    const v = o[name];
    if (v === undefined) return 2048;
    if (allowZero && v === 0) return 0;
    if (!isRingSize(v)) {
      throw new XskArgumentError(OP, name, `must be a power of two (1 … 2^31${allowZero ? ', or 0 for none' : ''}), got ${typeof v === 'number' ? v : typeof v}`, where);
    }
    // the ring's mapping (its entries after the kernel's producer/consumer/flags words, under a page)
    // is seen through one ArrayBuffer as well
    const entryBytes = name === 'rxSize' || name === 'txSize' ? 16 : 8;
    const most = 2 ** Math.floor(Math.log2((MAX_VIEW - 4096) / entryBytes));
    if (v > most) fail(name, `is ${v}: at most ${most} entries of ${entryBytes} bytes (2^${Math.log2(most)}), the most Node can view in one ArrayBuffer`);
    return v;
  };
  if (o.interface === undefined) throw new XskArgumentError(OP, 'interface', 'is required (a name or an index)');
  const queue = int('queue', o.queue, 0, 0, 0xffffffff);
  const frameSize = o.frameSize ?? 4096;
  if (typeof frameSize !== 'number' || !Number.isInteger(frameSize) || frameSize < XDP_UMEM_MIN_CHUNK_SIZE || frameSize > page || (frameSize & (frameSize - 1)) !== 0) {
    throw new XskArgumentError(OP, 'frameSize', `must be a power of two from ${XDP_UMEM_MIN_CHUNK_SIZE} to the page size ${page} (2048 or 4096), got ${typeof frameSize === 'number' ? frameSize : typeof frameSize}`, where);
  }
  // the UMEM and each ring are seen through one ArrayBuffer over their mapping: larger than Node's
  // largest (buffer.constants.MAX_LENGTH, 4 GiB), koffi aborts the process making it (ffi-rs throws)
  const maxFrames = Math.floor(MAX_VIEW / frameSize);
  if (typeof o.frames === 'number' && Number.isInteger(o.frames) && o.frames > maxFrames) {
    fail('frames', `is ${o.frames}: a UMEM of ${o.frames} × ${frameSize} bytes is more than the ${MAX_VIEW / 2 ** 30} GiB Node can view in one ArrayBuffer (at most ${maxFrames} frames of ${frameSize} bytes)`);
  }
  const frames = int('frames', o.frames, 4096, 1, maxFrames);
  const headroom = int('headroom', o.headroom, 0, 0, frameSize - XDP_PACKET_HEADROOM - 1);
  const fillSize = ring('fillSize', false);
  const completionSize = ring('completionSize', false);
  const rxSize = ring('rxSize', true);
  const txSize = ring('txSize', true);
  if (rxSize === 0 && txSize === 0) throw new XskArgumentError(OP, 'rxSize', 'and txSize are both 0: a socket needs an RX or a TX ring', where);
  const mode = o.mode ?? 'auto';
  if (mode !== 'copy' && mode !== 'zerocopy' && mode !== 'auto') throw new XskArgumentError(OP, 'mode', `must be 'copy', 'zerocopy' or 'auto', got ${JSON.stringify(mode)}`, where);
  const needWakeup = o.needWakeup ?? true;
  if (typeof needWakeup !== 'boolean') throw new XskArgumentError(OP, 'needWakeup', `must be a boolean, got ${typeof needWakeup}`, where);
  const rxFrames = rxSize === 0 ? 0 : Math.min(fillSize, txSize === 0 ? frames : Math.floor(frames / 2));
  const txFrames = txSize === 0 ? 0 : frames - rxFrames;
  if (rxSize !== 0 && rxFrames === 0) throw new XskArgumentError(OP, 'frames', `is ${frames}: too few to share between receiving and sending (at least 2)`, where);
  return { interface: o.interface, queue, frames, frameSize, headroom, fillSize, completionSize, rxSize, txSize, mode, needWakeup, rxFrames, txFrames };
}
