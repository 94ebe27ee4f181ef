// What the event readers (RingBuffer, PerfEventArray) share: the epoll waiter, 'record' events
// delivered by a loop started with the first listener, the async iterators (iterator.ts), and a
// close() that ends pending waits and releases the mapped pages only once no record is being
// processed (from a callback or a loop body, the record in hand is still given back to the kernel first).
//
// Event-driven delivery ('record' events, the async iterators) runs in turns (iterator.ts: CHUNK,
// TURN_MS). The synchronous consume() is not bounded: it is what the caller asked for, and its hot
// loop stays as flat as it was.
//
// A ring or perf buffer has one consumer: a second reader of the same map in this process is
// refused (two RingBuffers each delivered every record; a second PerfEventArray took over the
// CPUs' slots and its close() emptied them under the first). Readers in other processes cannot be
// seen from here. Within a reader, one consumer at a time too: a consumer that starts ends an
// iterator's pending next(), and takes back a record a next() resolved with that nobody looked at
// (iterator.ts); a record a callback, a listener or a loop body is processing makes it ReaderBusyError.
//
// A reader dropped without close() is released by a FinalizationRegistry (a safety net, not the
// plan): what it holds (mappings, fds, the waiter and its worker thread) lives in a Holdings object
// that never references the reader, and is released once the reader is collected. Until then
// anything that can still use the reader keeps it reachable: a caller's reference, an iterator,
// a pending wait (the waiter holds the reader while it waits: a 'record' loop waiting, a pending
// next(), or a wait() whose caller kept only the promise), a pending turn of the 'record' loop.
import { EventEmitter } from 'node:events';
import type { EpollWaiter } from './waiter.js';
import { ReaderArgumentError, ReaderBusyError } from './errors.js';
import { CHUNK, TURN_MS, nextTurn, Consumers, RecordIterator, type Delivery } from './iterator.js';

/**
 * While a buffer's next record is reserved but not committed, epoll reports the buffer readable at
 * once (the kernel's poll counts reserved bytes) and every wait would return at once until the
 * producer commits: look again after this many ms instead (no spin; the record is not skipped).
 */
export const STALL_POLL_MS = 1;

/**
 * What a reader holds, kept apart from the reader so that it can be released after the reader was
 * collected: it must not reference the reader (nor anything that does).
 */
export interface Holdings {
  /** set by the subclass constructor once its fds exist; a started worker thread keeps it reachable */
  waiter?: EpollWaiter;
  /** the record an async iterator of the reader has (iterator.ts), if one has */
  held?: Delivery;
  /** the reader's buffers, by the index its iterators name them with (emptied by release()) */
  readonly rings: readonly HeldBuffer[];
  /**
   * Give back records still held by iterators, then unmap and close what the reader made. Called
   * once, with no consume() or 'record' round in progress (after close(), or once the reader is
   * gone), or on a constructor's failure (then without a waiter).
   */
  release(): void;
}

/** A buffer that holds the record its last next() returned until it is released or left unread. */
export interface HeldBuffer {
  /** the held record goes: the consumer position past it */
  release(): void;
  /** the held record stays: the next read returns it again */
  unread(): void;
}

/** The record held in buffer `i` goes (`delivered`), or stays to be read again. */
function giveBack(h: Holdings, i: number, delivered: boolean): void {
  const r = h.rings[i];
  if (delivered) r?.release();
  else r?.unread();
}

/**
 * Before the release: a record an iterator's next() resolved with and nobody looked at stays in its
 * buffer (a later reader of the map reads it; its result reads done); one looked at goes.
 */
function settleHeld(h: Holdings): void {
  const d = h.held;
  h.held = undefined;
  if (d === undefined || d.back || d.seen) return;
  d.back = true;
  giveBack(h, d.buffer, false);
}

/** map id → the reader of it in this process and what that reader holds */
const readerOf = new Map<number, { reader: WeakRef<BufferReader>; holdings: Holdings }>();

/**
 * A reader dropped without close(): its waiter ends (the worker thread, which otherwise keeps the
 * waiter reachable and lives on, with the epoll fd and the eventfd), its mappings become zero pages
 * (a record view still held reads zeros, never a fault; retire.ts), its fds close, its maps are
 * free for another reader.
 */
function releaseForgotten(h: Holdings): void {
  h.waiter?.close();
  settleHeld(h);
  h.release();
  for (const [id, c] of readerOf) if (c.holdings === h) readerOf.delete(id);
}

const forgotten = new FinalizationRegistry<Holdings>(releaseForgotten);

export abstract class BufferReader extends EventEmitter {
  /** what this reader holds (set by the subclass constructor: adopt()) */
  #holdings!: Holdings;
  #closed = false;
  #looping = false;
  /** aborts the delivery loop's wait (no 'record' listener left) */
  #stopWaiting: AbortController | undefined;
  /** consume() calls and rounds of 'record' events in progress (synchronous: they end soon) */
  #depth = 0;
  /** the iterators' pending next() and the record one of them has */
  readonly #consumers = new Consumers(true);
  /** ids of the maps this reader consumes (claimMaps) */
  #claimed: number[] = [];
  /** pending STALL_POLL_MS pauses: close() ends them */
  readonly #pauses = new Set<() => void>();

  constructor() {
    super();
    // a 'record' listener starts delivery through events
    this.on('newListener', (event: string) => {
      if (event === 'record' && !this.#looping) queueMicrotask(() => void this.#loop());
    });
    // and the last one gone ends it: a pending wait of the loop would keep the process alive
    this.on('removeListener', (event: string) => {
      if (event === 'record' && this.listenerCount('record') === 0) this.#stopWaiting?.abort();
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** the epoll waiter of the reader's fds */
  protected get waiter(): EpollWaiter {
    return this.#holdings.waiter!;
  }

  /**
   * At the end of the subclass constructor: `holdings` (with its waiter) is what this reader holds,
   * released by close(), or by the safety net if the reader is collected without one.
   */
  protected adopt(holdings: Holdings): void {
    this.#holdings = holdings;
    forgotten.register(this, holdings, holdings);
  }

  /**
   * Resolves true when records may be ready, false once closed. Never blocks the event loop. A
   * consumer of its own: an iterator's pending next() ends (done), and a record a next() resolved
   * with and nobody looked at comes back (then it resolves true at once).
   */
  wait(): Promise<boolean> {
    if (!this.#consumers.quiet && this.#consumers.takeOver()) return Promise.resolve(!this.#closed);
    return this.#waitForRecords();
  }

  /**
   * Stop reading: a pending wait or iteration ends, the pages are released. The map stays open.
   * A record held by an async iterator is given back at once (a loop body that never resumes does
   * not keep the pages; one a next() resolved with and nobody looked at stays in the ring for a
   * later reader of the map); from inside a callback, the record in hand is given back when it returns.
   */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopDelivery();
    this.waiter.close();
    for (const end of [...this.#pauses]) end();
    if (this.#depth === 0) this.#releaseAll();
    this.emit('close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Refuse maps another live reader of this process consumes, then (once the subclass has made
   * everything) record them as ours until our pages are released.
   */
  protected checkUnread(maps: readonly { id: number; label: string }[]): void {
    for (const m of maps) {
      const claim = readerOf.get(m.id);
      const other = claim?.reader.deref();
      if (other && other !== this) {
        throw new ReaderArgumentError(this.constructor.name, `map ${m.label} is already read by another ${other.constructor.name} of this process; a buffer has one consumer (close that reader first)`);
      }
    }
    // a reader of these maps was collected and its safety net has not run yet (it runs in a later
    // task): release what it held now, before this reader takes over (a late release would empty
    // the perf slots this reader is about to fill)
    for (const m of maps) {
      const claim = readerOf.get(m.id);
      if (claim && claim.reader.deref() === undefined) {
        forgotten.unregister(claim.holdings);
        releaseForgotten(claim.holdings);
      }
    }
  }

  /** record `ids` as read by this reader (after adopt()) until its holdings are released */
  protected claimMaps(ids: readonly number[]): void {
    const claim = { reader: new WeakRef<BufferReader>(this), holdings: this.#holdings };
    for (const id of ids) readerOf.set(id, claim);
    this.#claimed.push(...ids);
  }

  /** release the holdings once, then the maps are free for another reader */
  #releaseAll(): void {
    forgotten.unregister(this.#holdings);
    settleHeld(this.#holdings);
    this.#holdings.release();
    for (const id of this.#claimed) if (readerOf.get(id)?.holdings === this.#holdings) readerOf.delete(id);
    this.#claimed = [];
  }

  /** Some buffer's next record is reserved but not committed yet (see STALL_POLL_MS). */
  protected stalled(): boolean {
    return false;
  }

  /**
   * Wait for records (true) or close (false); `signal` abandons the wait (true: look again). A
   * stalled buffer is looked at again after STALL_POLL_MS instead of through epoll, which would
   * report it readable at once, over and over.
   */
  #waitForRecords(signal?: AbortSignal): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    // the waiter holds this reader while the wait is pending: it will still be read when woken
    if (!this.stalled()) return this.waiter.wait(signal, this);
    return new Promise<boolean>((resolve) => {
      const end = () => {
        clearTimeout(timer);
        this.#pauses.delete(end);
        signal?.removeEventListener('abort', end);
        resolve(!this.#closed);
      };
      const timer = setTimeout(end, STALL_POLL_MS);
      this.#pauses.add(end);
      signal?.addEventListener('abort', end, { once: true });
    });
  }

  /**
   * Around a consume() or a round of 'record' events (close() meanwhile defers the release of the
   * holdings to the last leave()). Throws ReaderBusyError while a record is being processed, which
   * would be given back underneath its user (and a nested drain would store a stale consumer
   * position). A consumer starting ends an iterator's pending next() and takes back a record a
   * next() resolved with that nobody has looked at.
   */
  protected enterConsumer(operation: string): void {
    if (this.#depth > 0) this.#busy(operation);
    if (!this.#consumers.quiet) this.#consumers.takeOver(() => this.#busy(operation));
    this.#depth++;
  }

  #busy(operation: string): never {
    throw new ReaderBusyError(this.constructor.name, operation);
  }

  /**
   * An async iterator of the reader's buffers (Holdings.rings; iterator.ts): `take(i)` is the next
   * ready record of buffer i, held there until it is released or left unread.
   */
  protected iterate<T>(take: (i: number) => T | undefined): RecordIterator<T> {
    const reader = this;
    return new RecordIterator<T>({
      get closed() {
        return reader.#closed;
      },
      buffers: () => this.#holdings.rings.length,
      take,
      giveBack: (i, delivered) => giveBack(this.#holdings, i, delivered),
      wait: (signal) => this.#waitForRecords(signal),
      start: (by) => {
        if (this.#depth > 0) this.#busy('async iteration');
        if (!this.#consumers.quiet) this.#consumers.takeOver(() => this.#busy('async iteration'), by as RecordIterator<unknown>);
      },
      holding: (d) => {
        this.#holdings.held = d;
      },
    }, this.#consumers);
  }

  protected leave(): void {
    if (--this.#depth === 0 && this.#closed) this.#releaseAll();
  }

  /**
   * One round of emitReady: up to `limit` records of each buffer, record by record (not a whole
   * drain), so delivery stops as soon as the last 'record' listener is gone and a once('record')
   * listener does not take the rest of the chunk down with it. `emitOne` emits the next ready record
   * of a buffer and gives it back, or returns false when the buffer has none.
   */
  protected emitRound<R>(buffers: readonly R[], limit: number, emitOne: (buffer: R, index: number) => boolean): boolean {
    let more = false;
    this.enterConsumer("'record' events");
    try {
      for (let i = 0; i < buffers.length; i++) {
        let k = 0;
        for (; k < limit && !this.#closed && this.listenerCount('record') > 0; k++) {
          if (!emitOne(buffers[i], i)) break;
        }
        if (k === limit) more = true;
      }
    } finally {
      this.leave();
    }
    return more && !this.#closed;
  }

  /**
   * emit() for the delivery loop ('record', perf's 'lost'). A listener that throws does not stop
   * delivery: its record counts as consumed, the error goes to 'error' listeners (or is thrown
   * asynchronously when there are none, as EventEmitter would), and the next record is delivered.
   */
  protected emitFromLoop(event: string, a: unknown, b: number): void {
    try {
      this.emit(event, a, b);
    } catch (e) {
      this.#report(e);
    }
  }

  /** to 'error' listeners, else (or when one throws) an uncaught exception; never throws here */
  #report(e: unknown): void {
    if (this.listenerCount('error') > 0) {
      try {
        this.emit('error', e);
        return;
      } catch (thrown) {
        e = thrown;
      }
    }
    queueMicrotask(() => { throw e; });
  }

  /** deliver no more records (memory still mapped) */
  protected abstract stopDelivery(): void;
  /**
   * Deliver up to `limit` ready records of each buffer as 'record' events (fewer once no 'record'
   * listener is left); true when some buffer may have more.
   */
  protected abstract emitReady(limit: number): boolean;

  async #loop(): Promise<void> {
    if (this.#looping) return;
    this.#looping = true;
    try {
      while (!this.#closed && this.listenerCount('record') > 0) {
        const end = performance.now() + TURN_MS;
        let more: boolean;
        while ((more = this.emitReady(CHUNK)) && performance.now() < end);
        // the last listener went during the round (a once('record') listener, an off() from a
        // listener): its removeListener found no wait to abort, and a wait begun now would hold
        // the process (and the reader) until the next record
        if (this.#closed || this.listenerCount('record') === 0) break;
        if (more) {
          await nextTurn();
        } else {
          const stop = this.#stopWaiting = new AbortController();
          const ready = await this.#waitForRecords(stop.signal);
          this.#stopWaiting = undefined;
          if (!ready) break;
        }
      }
    } catch (e) {
      // not a listener's error (those are reported per record): the buffer is corrupt or the wait
      // failed, and delivery stops
      this.#report(e);
    } finally {
      this.#looping = false;
    }
  }
}
