// XdpSocket: an AF_XDP socket with its own UMEM, bound to one queue of one interface (libxdp's
// xsk_umem + xsk_socket in one object; Documentation/networking/af_xdp.rst for the model).
//
//   using xsk = XdpSocket.create({ interface: 'eth0', queue: 0, mode: 'auto' });
//   xsk.register(obj.maps.get('xsks'));            // XSKMAP[queue] = this socket
//   for await (const frame of xsk) { … }            // zero-copy views of received frames
//   xsk.transmit([frameBytes]);                       // copied into free UMEM frames and sent
//
// Making one is setup.ts; any step failing there leaves nothing behind.
//
// UMEM frames are shared out once: the first rxFrames are the receive side's and always are in the
// fill ring, with the kernel, in the RX ring (also while a receive callback or an async iterator has
// them), or held by an async iterator whose frame another consumer moved out of the RX ring's way
// (#takeOver). The fill ring has room for all of them; for the moment the kernel has published an RX
// entry but not yet released the fill entry, one given back waits in a short list. The others are
// the send side's, on a free list, in the TX ring or with the kernel until the completion ring gives
// them back.
//
// The async iterator is lib/ringbuf/iterator.ts's, as for the event readers: the RX ring is its one
// buffer (#take, #giveBack), and receive(), wait() and every iterator's next() are the consumers it
// keeps apart (#takeOver).
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import type { Fd } from '../syscall/fd.js';
import { readStruct } from '../syscall/layout.js';
import { pageSize, PROT, type Mapping } from '../syscall/mmap.js';
import { ERRNO } from '../syscall/errno.js';
import { BPF_MAP_TYPE } from '../syscall/types.js';
import { EpollWaiter } from '../ringbuf/waiter.js';
import { retireMapping } from '../ringbuf/retire.js';
import { Consumers, RecordIterator, type Delivery } from '../ringbuf/iterator.js';
import type { BpfMap } from '../map/map.js';
import { XskArgumentError, XskBusyError, XskClosedError, XskError, XskFrameSizeError, XskNoFreeFrameError, type XskWhere } from './errors.js';
import { checkXskOptions, type CheckedXskOptions, type XdpSocketOptions } from './options.js';
import { lookupXskInterface } from './interface.js';
import type { CompletionRing, FillRing, RxRing, TxRing } from './ring.js';
import { getsockopt, noteClosed, setUpXsk, type XskBoundMode, type XskRings } from './setup.js';
import { MSG_DONTWAIT, XDP_OPT, XDP_STATISTICS } from './uapi.js';

/** XDP_STATISTICS: the kernel's counters for this socket (exact below 2^53). */
export interface XskStatistics {
  /**
   * received packets dropped: longer than a frame takes (frameSize − 256 − headroom) or, in copy
   * mode, for want of a frame (those are in rxFillRingEmptyDescs as well); not those of rxRingFull
   */
  readonly rxDropped: number;
  /** dropped: invalid descriptor */
  readonly rxInvalidDescs: number;
  /** TX descriptors the kernel refused as invalid */
  readonly txInvalidDescs: number;
  /** dropped: the RX ring was full (counted here only) */
  readonly rxRingFull: number;
  /** times the kernel found the fill ring empty (a packet dropped for want of a frame) */
  readonly rxFillRingEmptyDescs: number;
  /**
   * times the kernel found the TX ring empty: at the end of each sendto() kick and, in copy mode
   * with needWakeup, of each poll of the socket (every wait() and idle iteration polls it), so it
   * grows with receive-only traffic too
   */
  readonly txRingEmptyDescs: number;
}

/** A received frame: a zero-copy view into the UMEM (valid while the callback runs), and its UMEM address. */
export type XskFrameCallback = (frame: Uint8Array, address: number) => void;

export type { XskBoundMode } from './setup.js';

/** receive()'s default `max`: frames to one call's callback. */
const ROUND = 64;

/** what the safety net releases of a socket dropped without close() */
interface Leftovers {
  readonly maps: Mapping[];
  /** the epoll waiter, once a wait made one: its worker thread would otherwise live on */
  waiter?: EpollWaiter;
}

// a forgotten socket: its mappings become zero pages (a frame view still held reads zeros, never a
// fault), its waiter's worker thread ends (with its epoll fd and eventfd); its Fd closes itself
// through lib/syscall's own registry
const forgotten = new FinalizationRegistry<Leftovers>((left) => {
  left.waiter?.close();
  for (const m of left.maps) retireMapping(m, PROT.READ | PROT.WRITE);
});

/** errno numbers lib/syscall's ERRNO table does not name */
const ENETDOWN = 100;
const ENXIO = 6;
/**
 * How often an idle wait (and an empty receive()) looks whether the socket is still bound. When its
 * interface is removed (or moved to another namespace) the kernel unbinds the socket and sets
 * sk_err, but poll() on an unbound AF_XDP socket reports no event at all: a wait would sleep forever.
 */
const BOUND_CHECK_MS = 1000;
/**
 * a kick that did not go through now but will later (libxdp treats the same ones as harmless);
 * ENETDOWN: the interface is down, and may come back up
 */
const TRANSIENT_KICK = new Set<number>([ERRNO.EAGAIN, ERRNO.EBUSY, ERRNO.ENOBUFS, ENETDOWN]);

/**
 * What one async iterator has: the frame its last next() resolved with, from #take until #giveBack.
 * While it is socket.#inRing its RX descriptor is the ring's next one (the RX consumer index at it);
 * after #takeOver moved it out of the way, only the frame is held (out of the fill ring).
 */
interface RxHold {
  /** that next()'s delivery (iterator.ts): whether its result was looked at, or taken back */
  d: Delivery | undefined;
  /** the view it came as */
  view: Uint8Array | undefined;
  /** the frame's UMEM base */
  base: number;
}

/** A frame moved out of the RX ring for an iterator that was dropped with it: its socket, its UMEM base. */
interface KeptFrame {
  readonly socket: WeakRef<XdpSocket>;
  readonly base: number;
}

export class XdpSocket {
  /**
   * The AF_XDP socket: what an XSKMAP holds. Put it there with register(), which refuses a send-only
   * socket (rxSize 0). `map.update(queue, xsk)` (or with `xsk.fd`) writes the fd as well but checks
   * nothing: lib/map sees an fd holder, not a socket with rings, and Linux 6.18 takes any AF_XDP
   * socket into an XSKMAP. With a send-only one there, what the program redirects to it has no RX
   * ring to go to; in generic (skb) XDP the kernel's xsk_generic_rcv() even flushes that missing
   * ring after the failed receive (a NULL pointer, read in the 6.18 source).
   */
  readonly fd: Fd;
  /** the interface's name and index */
  readonly interface: string;
  readonly ifindex: number;
  readonly queue: number;
  /** how the kernel bound it ('auto' becomes 'copy' or 'zerocopy') */
  readonly mode: XskBoundMode;
  readonly needWakeup: boolean;
  readonly frames: number;
  readonly frameSize: number;
  readonly headroom: number;
  /** frames for receiving and for sending (see the options' `frames`) */
  readonly rxFrames: number;
  readonly txFrames: number;
  readonly #where: XskWhere;
  readonly #umem: Mapping;
  readonly #maps: Mapping[];
  readonly #leftovers: Leftovers;
  readonly #bytes: Uint8Array;
  readonly #buffer: ArrayBuffer;
  readonly #fill: FillRing;
  readonly #comp: CompletionRing;
  readonly #rx: RxRing | undefined;
  readonly #tx: TxRing | undefined;
  readonly #txFree: number[] = [];
  readonly #frameMask: number;
  #waiter: EpollWaiter | undefined;
  #closed = false;
  #released = false;
  /** receive() callbacks running (close() meanwhile leaves the memory alone until they return) */
  #depth = 0;
  /** the async iterators' pending next() and the frame one of them has in the RX ring (iterator.ts) */
  readonly #consumers = new Consumers(false);
  /** the iterator's hold whose frame's RX descriptor is the ring's next one (at most one: #takeOver) */
  #inRing: RxHold | undefined;
  /** Date.now() of the last recvfrom (each one also says whether the socket is still bound) */
  #boundCheckedAt = 0;
  /** a kick said ENXIO: the kernel unbound the socket, for good (an empty receive() then looks every time) */
  #unbound = false;
  /** receive frames given back while the fill ring looked full (see #recycle) */
  readonly #unfilled: number[] = [];

  private constructor(fd: Fd, o: CheckedXskOptions, iface: { index: number; name: string }, mode: XskBoundMode, umem: Mapping, rings: XskRings) {
    this.fd = fd;
    this.interface = iface.name;
    this.ifindex = iface.index;
    this.queue = o.queue;
    this.mode = mode;
    this.needWakeup = o.needWakeup;
    this.frames = o.frames;
    this.frameSize = o.frameSize;
    this.headroom = o.headroom;
    this.rxFrames = o.rxFrames;
    this.txFrames = o.txFrames;
    this.#where = { interface: iface.name, ifindex: iface.index, queue: o.queue };
    this.#umem = umem;
    this.#buffer = umem.buffer;
    this.#bytes = new Uint8Array(this.#buffer, 0, o.frames * o.frameSize);
    this.#frameMask = o.frameSize - 1;
    this.#fill = rings.fill[0];
    this.#comp = rings.comp[0];
    this.#rx = rings.rx?.[0];
    this.#tx = rings.tx?.[0];
    this.#maps = [rings.fill[1], rings.comp[1], ...(rings.rx ? [rings.rx[1]] : []), ...(rings.tx ? [rings.tx[1]] : []), umem];
    for (let i = o.frames - 1; i >= o.rxFrames; i--) this.#txFree.push(i * o.frameSize);
    this.#leftovers = { maps: this.#maps };
    forgotten.register(this, this.#leftovers, this);
  }

  /**
   * An AF_XDP socket bound to `queue` of `interface` (in the calling thread's network namespace),
   * its fill ring stocked with the receive frames. Options are checked before any system call;
   * a step the kernel refuses throws XskError naming it, and leaves nothing behind.
   */
  static create(options: XdpSocketOptions): XdpSocket {
    const o = checkXskOptions(options, pageSize());
    const iface = lookupXskInterface(o.interface, o.queue);
    return setUpXsk(o, iface, (parts) => new XdpSocket(parts.fd, o, iface, parts.mode, parts.umem, parts.rings));
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Frames posted to the TX ring and not yet given back by the completion ring. */
  get txInFlight(): number {
    return this.txFrames - this.#txFree.length;
  }

  /** Send frames free right now (before reclaiming completions). */
  get txFreeFrames(): number {
    return this.#txFree.length;
  }

  /**
   * Put this socket in an XSKMAP at `key` (default: its queue, what `bpf_redirect_map(&xsks,
   * ctx->rx_queue_index, …)` looks up). The kernel takes it out again when the socket closes.
   * The checked way in: XskArgumentError for a send-only socket (rxSize 0), which the kernel would
   * take without a word; `map.update(key, xsk)` cannot tell (see `fd`).
   */
  register(map: BpfMap<unknown, unknown>, key: number = this.queue): void {
    this.#check('register');
    // the kernel takes a socket without an RX ring into the map; what it redirects there has nowhere to go
    if (!this.#rx) throw new XskArgumentError('register', 'rxSize', 'is 0: a socket without an RX ring cannot receive what an XSKMAP redirects to it', this.#where);
    this.#checkMap(map, key, 'register');
    map.update(key, this);
  }

  /** Take the entry at `key` (default: the queue) out of the XSKMAP. */
  unregister(map: BpfMap<unknown, unknown>, key: number = this.queue): void {
    this.#check('unregister');
    this.#checkMap(map, key, 'unregister');
    map.delete(key);
  }

  /**
   * Each received frame (up to `max`) to `cb` as a zero-copy view of the UMEM, valid while `cb`
   * runs (copy it to keep it); the frames go back to the fill ring once `cb` returned (or threw:
   * the frame in hand counts as received). Returns how many were delivered; never waits. With none,
   * at most once a second it looks whether the socket is still bound (XskError ENXIO if not).
   * A consumer of its own: an async iterator's next() still waiting for a frame ends (done), a frame
   * a next() resolved with and nobody looked at comes here first (its result reads done), and one
   * an iterator has (looked at) is not in the way: this takes the frames after it. XskBusyError
   * from inside a receive callback.
   */
  receive(cb: XskFrameCallback, max = ROUND): number {
    this.#check('receive');
    if (this.#depth > 0) throw new XskBusyError('receive', this.#where);
    const rx = this.#rxRing('receive');
    if (typeof cb !== 'function') throw new XskArgumentError('receive', 'callback', `must be a function, got ${typeof cb}`, this.#where);
    if (!Number.isInteger(max) || max < 1) throw new XskArgumentError('receive', 'max', `must be a positive integer, got ${max}`, this.#where);
    if (!this.#consumers.quiet) this.#takeOver();
    this.#refill();
    const n = rx.peek(max);
    if (n === 0) {
      this.#wake('receive', this.#unbound || Date.now() - this.#boundCheckedAt >= BOUND_CHECK_MS);
      return 0;
    }
    const start = rx.position;
    const buf = this.#buffer;
    let done = 0;
    this.#depth++;
    try {
      while (done < n) {
        const i = start + done;
        const addr = rx.addr(i);
        const len = rx.len(i);
        done++;
        cb(new Uint8Array(buf, addr, len), addr);
        if (this.#closed) break;
      }
    } finally {
      this.#depth--;
      if (this.#closed) {
        if (this.#depth === 0) this.#release();
      } else {
        this.#recycle(done);
        this.#wake('receive', false);
      }
    }
    return done;
  }

  /**
   * Resolves true when frames may be waiting in the RX ring, false once the socket is closed (a
   * pending wait ends then). Never blocks the event loop: a worker thread sleeps in epoll (lib/ringbuf's
   * waiter). `signal` abandons the wait (it resolves true). Rejects with XskError ENXIO once the
   * socket is unbound (its interface removed: looked at every second while waiting). A consumer of
   * its own, as receive() is: an async iterator's next() still waiting for a frame ends (done), and
   * a frame a next() resolved with and nobody looked at stays in the RX ring (it resolves true).
   */
  wait(signal?: AbortSignal): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    const rx = this.#rxRing('wait');
    if (!this.#consumers.quiet) this.#takeOver();
    if (rx.peek(1) > 0) return Promise.resolve(true);
    return this.#wait(rx, signal, 'wait');
  }

  /**
   * Sleep until the RX ring has frames, looking every BOUND_CHECK_MS whether the socket is still
   * bound (XskError ENXIO once its interface is gone: the kernel's poll never says so).
   */
  async #wait(rx: RxRing, signal: AbortSignal | undefined, op: string): Promise<boolean> {
    for (;;) {
      if (this.#closed) return false;
      this.#refill();
      if (rx.peek(1) > 0) return true;
      this.#wake(op, true);
      if (signal?.aborted) return true;
      this.#waiter ??= this.#leftovers.waiter = new EpollWaiter([this.fd.value], 'the RX ring of an AF_XDP socket');
      const tick = new AbortController();
      const abort = () => tick.abort();
      const timer = setTimeout(abort, BOUND_CHECK_MS);
      timer.unref();
      signal?.addEventListener('abort', abort, { once: true });
      let ready: boolean;
      try {
        ready = await this.#waiter.wait(tick.signal);
      } finally {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
      }
      if (!ready || this.#closed) return false;
      // epoll said readable, or the caller gave up: done; only the timer's tick looks again
      if (!tick.signal.aborted || signal?.aborted) return true;
    }
  }

  /**
   * Received frames, one at a time, as zero-copy views; waits without blocking the event loop; ends
   * at close(), and throws XskError ENXIO once the socket is unbound (its interface removed).
   * XskClosedError for one begun after close(), XskBusyError from inside a receive callback.
   *
   * One consumer at a time, by the rule of the event readers' iterators (lib/ringbuf/iterator.ts):
   * - A next() still waiting holds nothing. It ends (resolves done) at once on return() (to give up
   *   on a next() whose timeout won a Promise.race, call it), on close(), or when another consumer
   *   starts: receive(), wait(), another iterator's next(). The newest consumer wins.
   * - A frame is the caller's once the result it came in is looked at (its done or value read, as a
   *   for await does at once), until the iterator's next next() or return() (in a for await: until
   *   the body ends). Until then the view stays valid and the frame out of the fill ring; it is in
   *   nobody's way (receive() beside a for await takes the frames after it).
   * - A frame nobody looked at (it came to a next() that lost a Promise.race and was dropped) goes
   *   to the next consumer that starts, in its place in the RX ring: not lost, not given twice. Its
   *   result, read at last, says done; it does too after close() (the frame stayed in the RX ring).
   * - An iterator dropped while it has a frame that was looked at (no next(), no return()) keeps it
   *   in the RX ring until another consumer starts, then out of the fill ring until the view it came
   *   as is garbage-collected (the iterator and the result hold that view too); then the frame goes
   *   back to the fill ring. A subarray, a DataView or `frame.buffer` kept past that do not hold the
   *   frame and may see it written over: copy what you keep.
   * Frames come in turns of ~4 ms, after each of which the event loop gets a turn (timers and I/O
   * run while a steady stream is read).
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array, undefined> {
    const socket = this;
    const hold: RxHold = { d: undefined, view: undefined, base: -1 };
    let started = false;
    return new RecordIterator<Uint8Array>({
      // the iterator asks first: an iteration begun after close() is XskClosedError, one the
      // socket's close() finds going simply ends
      get closed() {
        if (!socket.#closed) return false;
        if (!started) throw new XskClosedError('iterate', socket.#where);
        return true;
      },
      buffers: () => 1,
      take: () => this.#take(hold),
      giveBack: (_, delivered) => this.#giveBack(hold, delivered),
      wait: (signal) => this.#wait(this.#rx!, signal, 'iterate'),
      start: (by) => {
        started = true;
        if (this.#depth > 0) throw new XskBusyError('iterate', this.#where);
        this.#rxRing('iterate');
        if (!this.#consumers.quiet) this.#takeOver(by);
      },
      holding: (d) => {
        hold.d = d;
      },
    }, this.#consumers);
  }

  /** frames moved out of the RX ring for iterators dropped with them: back to their socket's fill ring once their view is garbage */
  static readonly #kept = new FinalizationRegistry<KeptFrame>((k) => {
    const socket = k.socket.deref();
    if (socket) socket.#returnFrame(k.base);
  });

  /**
   * The RX ring's next frame for an iterator's next(), as a view; its descriptor stays in the ring
   * (the consumer index at it) until #giveBack. Gives the fill ring what waits for it first, and
   * wakes the driver if it asks (need_wakeup): the frame given back just before is there now.
   */
  #take(hold: RxHold): Uint8Array | undefined {
    this.#refill();
    this.#wake('iterate', false);
    const rx = this.#rx!;
    if (rx.peek(1) === 0) return undefined;
    const at = rx.position;
    const addr = rx.addr(at);
    const view = new Uint8Array(this.#buffer, addr, rx.len(at));
    hold.base = addr - (addr & this.#frameMask);
    hold.view = view;
    this.#inRing = hold;
    return view;
  }

  /**
   * An iterator is done with its frame (`delivered`): the RX consumer index passes it (if still at
   * it) and the frame goes back to the fill ring. Not delivered (nobody looked at it, another
   * consumer starts): it stays in the RX ring, the next one. No system call (return() must not
   * throw): the next consumer wakes the kernel.
   */
  #giveBack(hold: RxHold, delivered: boolean): void {
    hold.d = undefined;
    hold.view = undefined;
    if (this.#inRing === hold) {
      this.#inRing = undefined;
      if (delivered && !this.#closed) this.#recycle(1);
      return;
    }
    // moved out of the RX ring by #takeOver (only a frame looked at is: delivered)
    XdpSocket.#kept.unregister(hold);
    this.#returnFrame(hold.base);
  }

  /**
   * Another consumer starts (`by`, if an iterator's next()): an iterator's next() still waiting ends
   * (resolves done); a frame a next() resolved with that nobody looked at stays where it is, the RX
   * ring's next one, for this consumer (its result reads done); one looked at moves out of the
   * way: the RX consumer index passes it, and the frame stays out of the fill ring, its iterator's
   * until its next next() or return() (the iterator dropped: until the view is garbage, #kept).
   */
  #takeOver(by?: RecordIterator<Uint8Array>): void {
    const h = this.#inRing;
    if (h !== undefined && h.d?.seen) {
      this.#inRing = undefined;
      this.#rx!.release(1);
      XdpSocket.#kept.register(h.view!, { socket: new WeakRef(this), base: h.base }, h);
    }
    this.#consumers.takeOver(undefined, by as RecordIterator<unknown> | undefined);
  }

  /**
   * Copy each frame into a free UMEM frame, post them all on the TX ring and kick the kernel.
   * All or nothing: XskFrameSizeError for a frame that is empty or larger than frameSize,
   * XskNoFreeFrameError when fewer frames (or TX ring slots) are free than given, nothing sent.
   * Returns how many were posted. Completed frames are reclaimed here and by flush().
   */
  transmit(frames: readonly Uint8Array[]): number {
    this.#check('transmit');
    const tx = this.#tx;
    if (!tx) throw new XskArgumentError('transmit', 'txSize', 'is 0: this socket has no TX ring', this.#where);
    if (!Array.isArray(frames)) throw new XskArgumentError('transmit', 'frames', `must be an array of Uint8Array, got ${typeof frames}`, this.#where);
    const n = frames.length;
    for (let i = 0; i < n; i++) {
      const f = frames[i];
      if (!(f instanceof Uint8Array)) throw new XskArgumentError('transmit', `frames[${i}]`, `must be a Uint8Array, got ${f === null ? 'null' : typeof f}`, this.#where);
      if (f.length === 0 || f.length > this.frameSize) throw new XskFrameSizeError(i, f.length, this.frameSize, this.#where);
    }
    if (n === 0) return 0;
    const most = Math.min(tx.size, this.txFrames);
    if (n > most) {
      throw new XskArgumentError('transmit', 'frames', `has ${n} frames: at most ${most} fit in one call (the TX ring has ${tx.size} slot${tx.size === 1 ? '' : 's'}, the socket ${this.txFrames} send frame${this.txFrames === 1 ? '' : 's'}); nothing was sent, send them in smaller batches`, this.#where);
    }
    this.#reclaim();
    const available = Math.min(this.#txFree.length, tx.free(n));
    if (available < n) throw new XskNoFreeFrameError(n, available, this.#where);
    const at = tx.reserve(n);
    const bytes = this.#bytes;
    const free = this.#txFree;
    for (let i = 0; i < n; i++) {
      const addr = free.pop()!;
      const f = frames[i];
      bytes.set(f, addr);
      tx.set(at + i, addr, f.length);
    }
    tx.submit();
    this.#kick();
    return n;
  }

  /**
   * Kick the kernel to send what is still in the TX ring (copy mode sends at most 32 frames per
   * kick) and reclaim completed frames. Returns the frames still in flight.
   */
  flush(): number {
    this.#check('flush');
    if (!this.#tx) return 0;
    this.#reclaim();
    if (this.#tx.outstanding > 0) this.#kick();
    this.#reclaim();
    return this.txInFlight;
  }

  /** XDP_STATISTICS */
  stats(): XskStatistics {
    this.#check('stats');
    const { view } = getsockopt(this.fd.value, XDP_OPT.STATISTICS, XDP_STATISTICS.size, 'XDP_STATISTICS', this.#where);
    const v = readStruct(view, 0, XDP_STATISTICS) as Record<string, bigint>;
    return {
      rxDropped: Number(v.rx_dropped), rxInvalidDescs: Number(v.rx_invalid_descs), txInvalidDescs: Number(v.tx_invalid_descs),
      rxRingFull: Number(v.rx_ring_full), rxFillRingEmptyDescs: Number(v.rx_fill_ring_empty_descs), txRingEmptyDescs: Number(v.tx_ring_empty_descs),
    };
  }

  /**
   * Close the socket and release its rings and UMEM: a pending wait or iteration ends. From inside a
   * receive callback the memory is released when the callback returns. Frame views kept past close()
   * read zeros (the pages are replaced, never left unmapped under them); the result of a next() that
   * nobody looked at yet reads done. Idempotent.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    // a frame a next() resolved with and nobody looked at stays in the RX ring: its result reads done
    const h = this.#inRing;
    this.#inRing = undefined;
    if (h?.d !== undefined && !h.d.seen) h.d.back = true;
    this.#waiter?.close();
    if (this.#depth === 0) this.#release();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #release(): void {
    if (this.#released) return;
    this.#released = true;
    forgotten.unregister(this);
    this.#txFree.length = 0;
    // the fd first; the ring mappings hold the socket until they go, and the UMEM stays pinned until then
    this.fd.close();
    for (const m of this.#maps) retireMapping(m, PROT.READ | PROT.WRITE);
    noteClosed(this.ifindex, this.queue);
  }

  #check(op: string): void {
    if (this.#closed) throw new XskClosedError(op, this.#where);
  }

  #rxRing(op: string): RxRing {
    if (!this.#rx) throw new XskArgumentError(op, 'rxSize', 'is 0: this socket has no RX ring', this.#where);
    return this.#rx;
  }

  /**
   * A receive frame back to the fill ring (or to #unfilled, see #recycle), out of any ring until
   * now. No system call: the caller wakes the kernel if it wants to (the safety net must not throw).
   */
  #returnFrame(base: number): void {
    if (this.#closed) return;
    const fill = this.#fill;
    if (this.#unfilled.length === 0 && fill.free(1) >= 1) {
      fill.set(fill.reserve(1), base);
      fill.submit();
    } else {
      this.#unfilled.push(base);
      this.#refill();
    }
  }

  #checkMap(map: BpfMap<unknown, unknown>, key: number, op: string): void {
    const m = map as Partial<BpfMap<unknown, unknown>> | null;
    if (typeof m !== 'object' || m === null || typeof m.type !== 'number' || typeof m.update !== 'function') {
      throw new XskArgumentError(op, 'map', `must be a BpfMap of type xskmap, got ${m === null ? 'null' : typeof m}`, this.#where);
    }
    if (m.type !== BPF_MAP_TYPE.XSKMAP) {
      throw new XskArgumentError(op, 'map', `${m.name ? `${m.name} ` : ''}is a ${m.typeName} map, not an xskmap (BPF_MAP_TYPE_XSKMAP)`, this.#where);
    }
    if (!Number.isInteger(key) || key < 0 || key >= m.maxEntries!) {
      throw new XskArgumentError(op, 'key', `${key} is outside the map${m.name ? ` ${m.name}` : ''} (0 … ${m.maxEntries! - 1})`, this.#where);
    }
  }

  /**
   * `n` RX entries from the ring's position were processed: their frames go back to the fill ring.
   * The fill ring has room for every receive frame, but not always at once: the kernel publishes
   * an RX entry before it releases the fill entry its frame came from (xsk_flush(): RX producer
   * first, fill consumer after), so for a moment the ring can look full. What does not fit waits
   * in #unfilled (in order) and goes at the next look at the rings (#refill). No system call: a
   * caller that may throw wakes the kernel after (#wake).
   */
  #recycle(n: number): void {
    if (n === 0) return;
    const rx = this.#rx!;
    const fill = this.#fill;
    const start = rx.position;
    const mask = this.#frameMask;
    const waiting = this.#unfilled;
    const now = waiting.length === 0 ? Math.min(n, fill.free(n)) : 0;
    if (now > 0) {
      const at = fill.reserve(now);
      for (let i = 0; i < now; i++) {
        const addr = rx.addr(start + i);
        fill.set(at + i, addr - (addr & mask));
      }
    }
    for (let i = now; i < n; i++) {
      const addr = rx.addr(start + i);
      waiting.push(addr - (addr & mask));
    }
    rx.release(n);
    if (now > 0) fill.submit();
    if (waiting.length > 0) this.#refill();
  }

  /** Frames #recycle could not put in the fill ring yet: as many as fit now. */
  #refill(): void {
    const waiting = this.#unfilled;
    if (waiting.length === 0) return;
    const fill = this.#fill;
    const n = Math.min(waiting.length, fill.free(waiting.length));
    if (n === 0) return;
    const at = fill.reserve(n);
    for (let i = 0; i < n; i++) fill.set(at + i, waiting[i]);
    waiting.splice(0, n);
    fill.submit();
  }

  /**
   * The one recvfrom(MSG_DONTWAIT) of the receive side, for either of its two reasons: `look`, to
   * see whether the socket is still bound (an idle wait looks every round, an empty receive() at
   * most every BOUND_CHECK_MS), and with need_wakeup, to wake a driver that stopped for want of
   * fill entries (when the fill ring says so). It costs nothing in copy mode (0, or the error) and
   * at most a wakeup of the driver in zero-copy mode, as libxdp does. Whichever the reason, a
   * failure is judged by #kickFailed: ENXIO (the interface was removed or moved to another network
   * namespace) is the same XskError naming `op`.
   */
  #wake(op: string, look: boolean): void {
    if (!look && !(this.needWakeup && this.#fill.needsWakeup())) return;
    this.#boundCheckedAt = Date.now();
    const r = ffi().syscall6(SYS.recvfrom, this.fd.value, 0, 0, MSG_DONTWAIT, 0, 0);
    if (r < 0) this.#kickFailed(op, -r, 'recvfrom (RX wakeup)');
  }

  /**
   * A kick (recvfrom for the receive side, sendto for TX) that failed with `code`: returns for one
   * that will go through later (TRANSIENT_KICK, a down interface among them); throws XskError
   * naming `op` otherwise, ENXIO saying that the socket is no longer bound.
   */
  #kickFailed(op: string, code: number, call?: string): void {
    if (code === ENXIO) {
      this.#unbound = true;
      throw new XskError(op, ENXIO, this.#where, `the socket is no longer bound: ${this.interface} was removed (or moved to another network namespace); close() it and make a new socket`);
    }
    if (!TRANSIENT_KICK.has(code)) throw new XskError(op, code, this.#where, call);
  }

  /** completed TX frames back to the free list */
  #reclaim(): void {
    const comp = this.#comp;
    const n = comp.peek(comp.size);
    if (n === 0) return;
    const start = comp.position;
    const mask = this.#frameMask;
    for (let i = 0; i < n; i++) {
      const addr = comp.addr(start + i);
      this.#txFree.push(addr - (addr & mask));
    }
    comp.release(n);
  }

  /**
   * sendto(MSG_DONTWAIT) when the kernel wants it (always without need_wakeup). Copy mode sends at
   * most 32 frames per call, and stops early at a full completion ring (it reserves a completion
   * slot per frame), saying EAGAIN when frames are left, and at a frame the device dropped (EBUSY:
   * completed but not sent; veth at a full backlog or a frame shorter than an Ethernet header):
   * reclaim and kick again for as long as the TX ring empties (each round takes at least one
   * frame, so this ends).
   */
  #kick(): void {
    const tx = this.#tx!;
    if (this.needWakeup && !tx.needsWakeup()) return;
    let left = tx.outstanding;
    for (;;) {
      const r = ffi().syscall6(SYS.sendto, this.fd.value, 0, 0, MSG_DONTWAIT, 0, 0);
      if (r >= 0) return;
      this.#kickFailed('sendto (TX kick)', -r);
      if (-r !== ERRNO.EAGAIN && -r !== ERRNO.EBUSY) return;
      this.#reclaim();
      const now = tx.outstanding;
      if (now === 0 || now >= left) return;
      left = now;
    }
  }
}
