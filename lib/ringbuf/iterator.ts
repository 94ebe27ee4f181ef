// The async iterators of the event readers (RingBuffer, PerfEventArray, TracePipe) and of
// XdpSocket (lib/xsk: its RX ring is one buffer of frames), and who of a reader's consumers has a
// record.
//
// Hand-written, not async generators: a generator's pending next() runs on by itself (dropped after
// losing a Promise.race against a timeout, it took the next record that came and held it for good:
// every later consume() or iteration was ReaderBusyError), and its return() waits behind a pending
// next(). Here:
// - A next() still waiting holds nothing. It ends (resolves done) at once on return(), on close(),
//   or when another consumer of the reader starts (consume(), read(), wait(), a round of 'record'
//   events, another iterator's next()): one consumer at a time, the newest.
// - A record is the caller's once the result it came in is looked at (its done or value read, as a
//   for await does at once). Until then another consumer starting takes it back: the record goes to
//   that consumer, and the result, when someone reads it at last, says done. So a next() nobody
//   waits for any more does not take a record away from everyone (its iterator is over then).
// - The iterator's own next() or return() is the caller saying the record is done with (the async
//   iterator protocol: results in order): the record goes, looked at or not.
// - Event-driven delivery runs in turns: a round takes at most CHUNK records from each buffer, and
//   after TURN_MS of records the event loop gets a turn (setImmediate): resolutions are microtasks,
//   and a producer faster than the consumer would otherwise starve timers and I/O.

/** How long one turn of event-driven delivery may run before the event loop gets a turn. */
export const TURN_MS = 4;
/** Records taken from one buffer before the next buffer (and the clock) is looked at. */
export const CHUNK = 64;

/** Resolves after the event loop has run timers and I/O once. */
export function nextTurn(): Promise<void> {
  return new Promise((resolve) => setImmediate(resolve));
}

/** A record a next() resolved with, while its iterator has it. Never references the iterator or the reader. */
export interface Delivery {
  /** the buffer it is held in */
  readonly buffer: number;
  /** its result was looked at: the record is delivered */
  seen: boolean;
  /** taken back before anyone looked: the result reads done, the record went to the next consumer */
  back: boolean;
}

/** A reader as its iterators see it. */
export interface RecordSource<T> {
  readonly closed: boolean;
  /** how many buffers are read in turn (more may be added during an iteration) */
  buffers(): number;
  /** the next ready record of buffer `i`, held there until it is given back; undefined when none is ready */
  take(i: number): T | undefined;
  /** the record held in buffer `i` goes: past it for good (`delivered`), or back for the next consumer to take */
  giveBack(i: number, delivered: boolean, value: T): void;
  /** resolves true when records may be ready, false once closed; `signal` abandons it (true) */
  wait(signal: AbortSignal): Promise<boolean>;
  /** a next() starts looking: throws if no consumer may start now, else takes over (Consumers.takeOver) */
  start(by: RecordIterator<T>): void;
  /** the record an iterator of the reader has now (undefined: none), for close() and the reader's safety net */
  holding(d: Delivery | undefined): void;
}

const done = (): IteratorResult<never, undefined> => ({ done: true, value: undefined });

/** a look at a delivered record's result: from now on it is the caller's, unless it was taken back already */
function look(d: Delivery): boolean {
  if (!d.back) d.seen = true;
  return d.back;
}

export class RecordIterator<T> implements AsyncIterableIterator<T, undefined> {
  readonly #src: RecordSource<T>;
  readonly #consumers: Consumers;
  #finished = false;
  /** the record the last next() resolved with, while this iterator has it */
  #delivery: Delivery | undefined;
  #value: T | undefined;
  /** aborts the wait of this iterator's pending next() */
  #waiting: AbortController | undefined;
  /** next() calls not yet settled, the last one's promise: a next() runs after the one before (results come in order) */
  #queued = 0;
  #last: Promise<unknown> | undefined;
  readonly #again = (): Promise<IteratorResult<T, undefined>> => this.#step();
  /** where the round is: the buffer, the records taken from it, whether the round got any */
  #at = 0;
  #taken = 0;
  #got = false;
  /** when the current turn is up (performance.now() time) */
  #turnEnd = performance.now() + TURN_MS;

  constructor(src: RecordSource<T>, consumers: Consumers) {
    this.#src = src;
    this.#consumers = consumers;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    // a then() only for a next() called before the last one settled: a then() (or a closure) on
    // every call made a for await several times slower
    if (this.#queued++ === 0) return (this.#last = this.#step());
    return (this.#last = this.#last!.then(this.#again, this.#again));
  }

  /** Ends the iteration at once: a pending next() resolves done, the record in hand goes. */
  return(): Promise<IteratorResult<T, undefined>> {
    this.#giveBack(true);
    this.end();
    return Promise.resolve(done());
  }

  [Symbol.asyncIterator](): this {
    return this;
  }

  /** Another consumer started (or return()): a pending next() resolves done, later ones too. */
  end(): void {
    this.#finished = true;
    this.#waiting?.abort();
  }

  /** The record this iterator has, if nobody looked at it yet, goes back for the next consumer; the iterator ends. */
  takeBack(): boolean {
    if (this.has !== 'unseen') return false;
    this.#giveBack(false);
    this.end();
    return true;
  }

  /** What this iterator has: no record (taken back or given back already: by close() too), one nobody looked at yet, one looked at. */
  get has(): 'none' | 'unseen' | 'seen' {
    const d = this.#delivery;
    return d === undefined || d.back ? 'none' : d.seen ? 'seen' : 'unseen';
  }

  /** the record in hand goes: delivered (the consumer moves past it), or back if nobody looked and `delivered` is false */
  #giveBack(delivered: boolean): void {
    const d = this.#delivery;
    if (d === undefined) return;
    const value = this.#value as T;
    this.#delivery = undefined;
    this.#value = undefined;
    this.#consumers.released(this);
    this.#src.holding(undefined);
    if (d.back) return; // taken back already (close(), the safety net)
    if (!delivered && !d.seen) d.back = true;
    this.#src.giveBack(d.buffer, !d.back, value);
  }

  async #step(): Promise<IteratorResult<T, undefined>> {
    const src = this.#src;
    try {
      // the record the last next() resolved with is done with
      this.#giveBack(true);
      if (this.#finished) return done();
      if (src.closed) {
        this.end();
        return done();
      }
      src.start(this);
      this.#consumers.waiting(this);
      try {
        for (;;) {
          for (let n = src.buffers(); this.#at < n; this.#at++, this.#taken = 0) {
            // at most CHUNK from a buffer before the next one: a busy one does not starve the others
            if (this.#taken === CHUNK) continue;
            const value = src.take(this.#at);
            if (value === undefined) continue;
            this.#taken++;
            this.#got = true;
            return this.#deliver(this.#at, value);
          }
          // a round is over
          this.#at = 0;
          this.#taken = 0;
          if (!this.#got) {
            const w = this.#waiting = new AbortController();
            const ready = await src.wait(w.signal);
            this.#waiting = undefined;
            this.#turnEnd = performance.now() + TURN_MS;
            if (!ready) break;
          } else {
            this.#got = false;
            if (performance.now() >= this.#turnEnd) {
              await nextTurn();
              this.#turnEnd = performance.now() + TURN_MS;
            }
          }
          if (this.#finished || src.closed) break;
        }
      } finally {
        this.#consumers.waited(this);
      }
      this.end();
      return done();
    } catch (e) {
      this.end();
      throw e;
    } finally {
      --this.#queued;
    }
  }

  #deliver(buffer: number, value: T): IteratorResult<T, undefined> {
    const d: Delivery = { buffer, seen: false, back: false };
    this.#delivery = d;
    this.#value = value;
    this.#consumers.holds(this);
    this.#src.holding(d);
    return new Delivered(d, value) as unknown as IteratorResult<T, undefined>;
  }
}

/**
 * The result of a next() that delivered a record. The caller looks at it (reads done or value) as
 * it takes it: from then on the record is its own, unless it was taken back before. (A class: an
 * object literal with getters gets a hidden class of its own each time, ~1 µs more per record.)
 */
class Delivered<T> {
  readonly #d: Delivery;
  readonly #value: T;

  constructor(d: Delivery, value: T) {
    this.#d = d;
    this.#value = value;
  }

  get done(): boolean {
    return look(this.#d);
  }

  get value(): T | undefined {
    return look(this.#d) ? undefined : this.#value;
  }

  /** console.log / util.inspect: shown as the plain result it stands for (showing it is looking at it) */
  [Symbol.for('nodejs.util.inspect.custom')](_depth: number, options: object, inspect: (v: unknown, o: object) => string): string {
    return inspect({ done: this.done, value: this.value }, options);
  }
}
// enumerable, as a plain result's properties are (for...in, deep equality)
for (const key of ['done', 'value']) {
  Object.defineProperty(Delivered.prototype, key, { ...Object.getOwnPropertyDescriptor(Delivered.prototype, key), enumerable: true });
}

/**
 * Who of a reader's consumers has something: the iterator whose next() is pending, the iterator
 * that has a record. `blocking`: a record an iterator has (looked at) stands in every other
 * consumer's way (ring and perf buffers: its bytes stay in the ring, the consumer position at it,
 * until it is given back); else (trace lines: strings of their own) it is in nobody's way.
 */
export class Consumers {
  readonly #blocking: boolean;
  #pending: RecordIterator<unknown> | undefined;
  #holder: RecordIterator<unknown> | undefined;

  constructor(blocking: boolean) {
    this.#blocking = blocking;
  }

  /** nothing to end or take back: a consumer may start as it is */
  get quiet(): boolean {
    return this.#pending === undefined && this.#holder === undefined;
  }

  /**
   * Another consumer starts (`by`, if an iterator): the pending next() of another iterator ends
   * (resolves done), and a record another iterator's next() resolved with comes back if nobody has
   * looked at it (that iterator ends). Returns true if a record came back. A record looked at stays
   * where it is: in a blocking reader `busy` throws then (without `busy`, nothing happens).
   */
  takeOver(busy?: () => never, by?: RecordIterator<unknown>): boolean {
    let back = false;
    const h = this.#holder;
    if (h !== undefined && h !== by) {
      const has = h.has;
      if (has === 'unseen') back = h.takeBack();
      else if (has === 'seen' && this.#blocking) busy?.();
      else this.#holder = undefined; // nothing, or in nobody's way
    }
    const p = this.#pending;
    if (p !== undefined && p !== by) {
      this.#pending = undefined;
      p.end();
    }
    return back;
  }

  /** `it` looks for records (and may wait): the next consumer to start ends it */
  waiting(it: RecordIterator<unknown>): void {
    this.#pending = it;
  }

  waited(it: RecordIterator<unknown>): void {
    if (this.#pending === it) this.#pending = undefined;
  }

  holds(it: RecordIterator<unknown>): void {
    this.#holder = it;
  }

  released(it: RecordIterator<unknown>): void {
    if (this.#holder === it) this.#holder = undefined;
  }
}
