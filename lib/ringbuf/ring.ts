// One BPF_MAP_TYPE_RINGBUF seen from user space: the consumer page (ours, read-write) and the
// producer page followed by the data pages mapped twice in a row (the kernel's layout), so a
// record that wraps around the end is still contiguous. Pure over the three ArrayBuffers: the
// reader maps them, the unit tests hand in plain memory.
//
// Memory order: the kernel publishes a record by storing its header length with release
// semantics (BUSY bit cleared) and the producer position likewise; we need acquire loads of both
// and a release store of the consumer position after the record was processed, so the kernel
// never reuses bytes we still read. Atomics.load/store give that (sequentially consistent) and
// are used everywhere except the per-record header load and consumer store on x86-64: there every
// plain load is an acquire and every plain store a release (TSO, what libbpf's smp_load_acquire /
// smp_store_release compile to), V8 keeps typed-array accesses in program order around calls and
// Atomics, and the seq-cst versions cost ~8 ns each (xchg), a third of the per-record budget.
import { RingBufferCorruptError } from './errors.js';

export const RINGBUF_BUSY_BIT = 0x80000000;
export const RINGBUF_DISCARD_BIT = 0x40000000;
export const RINGBUF_HDR_SZ = 8;
const TWO32 = 0x100000000;
/** x86-64's total store order: plain loads acquire, plain stores release */
const TSO = process.arch === 'x64';
// drainViews() hands each record out as a Uint8Array, and making one costs ~14 ns in V8 (more than
// the rest of the per-record work). Records of a fixed-size struct come back to the same places in
// the ring, so a ring up to this size keeps the last view made at each 8-byte record slot and hands
// it out again when a record of the same length starts there. Bigger rings would need a bigger
// table (one slot per 8 bytes of data) and get a new view per record.
const VIEW_TABLE_MAX_RING = 1 << 20;

export type RawRecordCallback = (data: Uint8Array, offset: number, length: number, ring: number) => void;
export type RecordCallback = (record: Uint8Array, ring: number) => void;

export class Ring {
  readonly name: string;
  /** data area size in bytes (max_entries; a power of two) */
  readonly size: number;
  readonly #consLo: Int32Array; // low 32 bits of consumer_pos
  readonly #cons64: BigInt64Array;
  readonly #prodLo: Int32Array; // low 32 bits of producer_pos
  readonly #hdr: Int32Array; // data area (twice), as 32-bit words for header loads
  readonly #bytes: Uint8Array; // data area (twice)
  /** the mapping holding the data pages, and where they start in it (for views made by readers) */
  readonly dataBuffer: ArrayBuffer;
  readonly dataOffset: number;
  readonly #mask: number;
  /** consumer position: low 32 bits (uint32) and the high word, kept apart so the hot path is int math */
  #cons: number;
  #consHi: number;
  /** a record returned by next() and not yet released: its total length (0: none) */
  #held = 0;
  /** set by detach(): the memory is about to be unmapped, touch nothing */
  #dead = false;
  /** set by stop(): deliver nothing more (the record in hand is still given back) */
  #stopped = false;
  /** drainViews(): the view last made at each record slot (data offset / 8); made on first use */
  #views: (Uint8Array | undefined)[] | undefined;

  /**
   * @param consumer the consumer page (consumer_pos at offset 0)
   * @param producer the producer page (producer_pos at 0) followed by 2 × size bytes of data
   * @param dataOffset where the data starts in `producer` (the page size)
   */
  constructor(consumer: ArrayBuffer, producer: ArrayBuffer, dataOffset: number, size: number, name = '') {
    this.name = name;
    this.size = size;
    this.#mask = size - 1;
    // little-endian hosts keep the low half first (BPF ring buffers exist on LE and BE; the
    // low word's index follows the host's order)
    const lo = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1 ? 0 : 1;
    this.#consLo = new Int32Array(consumer, lo * 4, 1);
    this.#cons64 = new BigInt64Array(consumer, 0, 1);
    this.#prodLo = new Int32Array(producer, lo * 4, 1);
    this.#hdr = new Int32Array(producer, dataOffset, (2 * size) / 4);
    this.#bytes = new Uint8Array(producer, dataOffset, 2 * size);
    this.dataBuffer = producer;
    this.dataOffset = dataOffset;
    const c = BigInt.asUintN(64, Atomics.load(this.#cons64, 0));
    this.#cons = Number(c & 0xffffffffn);
    this.#consHi = Number(c >> 32n);
  }

  /** consumer_pos as last stored by us */
  get consumerPosition(): number {
    return this.#consHi * TWO32 + this.#cons;
  }

  /**
   * Bytes committed or reserved by producers and not yet given back (a record being processed
   * counts until its callback returns or it is released). Read from the shared consumer position,
   * which a drain stores after each record (its own copy is written back only at the end).
   */
  get pending(): number {
    return ((Atomics.load(this.#prodLo, 0) >>> 0) - (Atomics.load(this.#consLo, 0) >>> 0)) >>> 0;
  }

  /** The next record is reserved and not committed yet (it holds back every record after it). */
  get stalled(): boolean {
    if (this.#dead || this.#held !== 0) return false;
    if (this.#cons === (Atomics.load(this.#prodLo, 0) >>> 0)) return false;
    return (Atomics.load(this.#hdr, (this.#cons & this.#mask) >>> 2) & RINGBUF_BUSY_BIT) !== 0;
  }

  /**
   * The next committed record as a zero-copy view (valid until release()), skipping discarded
   * records; undefined when none is ready (empty, or the next one is still being written).
   * Releases the previously returned record first if the caller did not.
   */
  next(): Uint8Array | undefined {
    if (this.#dead) return undefined;
    if (this.#held !== 0) this.release();
    if (this.#stopped) return undefined;
    const prod = Atomics.load(this.#prodLo, 0) >>> 0;
    for (;;) {
      if (this.#cons === prod) return undefined;
      const off = this.#cons & this.#mask;
      const hdr = Atomics.load(this.#hdr, off >>> 2) >>> 0;
      if (hdr & RINGBUF_BUSY_BIT) return undefined;
      const len = hdr & 0x3fffffff; // without the BUSY and DISCARD bits
      const total = (len + RINGBUF_HDR_SZ + 7) & ~7;
      if (total > this.size) {
        throw new RingBufferCorruptError(this.name, this.consumerPosition, `record of ${len} bytes is larger than the ${this.size}-byte ring`);
      }
      if (hdr & RINGBUF_DISCARD_BIT) {
        // a discarded record is consumed (the producer may be waiting for room) but not delivered
        this.#advance(total);
        continue;
      }
      this.#held = total;
      return this.#bytes.subarray(off + RINGBUF_HDR_SZ, off + RINGBUF_HDR_SZ + len);
    }
  }

  /** Give the record from next() back to the kernel: the consumer position moves past it, once. */
  release(): void {
    const t = this.#held;
    if (t === 0 || this.#dead) return;
    this.#held = 0;
    this.#advance(t);
  }

  /**
   * Leave the record from next() in the ring, as if next() had not returned it: the consumer
   * position stays, the next next() or drain returns it again.
   */
  unread(): void {
    this.#held = 0;
  }

  /** Deliver no more records; a record being processed is still released. Idempotent. */
  stop(): void {
    this.#stopped = true;
  }

  /** Stop all access (before the owner unmaps the pages); idempotent. */
  detach(): void {
    this.#stopped = true;
    this.#dead = true;
    this.#views = undefined;
  }

  /**
   * The hot loop: every ready record to `cb` as (data, offset, length, ring) over one shared view of the
   * data pages (no allocation per record), the consumer position stored after each callback.
   * Returns how many records were delivered.
   */
  drain(cb: RawRecordCallback, limit: number, ring = 0): number {
    return this.#drain(cb, limit, ring, false);
  }

  /**
   * drain() with each record as its own view (valid while `cb` runs; the same view object may be
   * handed out again for a later record at the same place in the ring).
   */
  drainViews(cb: RecordCallback, limit: number, ring = 0): number {
    if (this.#views === undefined && this.size <= VIEW_TABLE_MAX_RING) {
      // filled with push: a large `new Array(n)` starts as a slow dictionary
      const t: (Uint8Array | undefined)[] = [];
      for (let i = (this.size >>> 3) + 1; i > 0; i--) t.push(undefined);
      this.#views = t;
    }
    return this.#drain(cb, limit, ring, true);
  }

  // One loop for both: the two callback call sites stay apart, so each sees only its own kind of
  // callback (a call site shared by both made each ~3 ns slower per record).
  #drain(cb: RawRecordCallback | RecordCallback, limit: number, ring: number, asViews: boolean): number {
    if (this.#dead || limit <= 0) return 0;
    if (this.#held !== 0) this.release();
    const hdrs = this.#hdr;
    const bytes = this.#bytes;
    const mask = this.#mask;
    const size = this.size;
    const consLo = this.#consLo;
    const views = this.#views;
    const ab = this.dataBuffer;
    const base = this.dataOffset + RINGBUF_HDR_SZ;
    let n = 0;
    let prod = Atomics.load(this.#prodLo, 0) >>> 0;
    let cons = this.#cons;
    // bytes of a record handed to cb and not yet given back (so a throwing cb still consumes it)
    let owed = 0;
    try {
      while (n < limit && !this.#stopped) {
        if (cons === prod) {
          // caught up with what we saw: look again once before returning
          const p = Atomics.load(this.#prodLo, 0) >>> 0;
          if (p === prod) break;
          prod = p;
          continue;
        }
        const off = cons & mask;
        const hdr = TSO ? hdrs[off >>> 2] : Atomics.load(hdrs, off >>> 2);
        if (hdr & RINGBUF_BUSY_BIT) break;
        const len = hdr & 0x3fffffff;
        const total = (len + RINGBUF_HDR_SZ + 7) & ~7;
        if (total > size) throw new RingBufferCorruptError(this.name, this.#consHi * TWO32 + cons, `record of ${len} bytes is larger than the ${size}-byte ring`);
        if ((hdr & RINGBUF_DISCARD_BIT) === 0) {
          owed = total;
          if (!asViews) {
            (cb as RawRecordCallback)(bytes, off + RINGBUF_HDR_SZ, len, ring);
          } else if (views === undefined) {
            // new Uint8Array(buffer, offset, length) is cheaper than subarray() in V8
            (cb as RecordCallback)(new Uint8Array(ab, base + off, len), ring);
          } else {
            const slot = (off >>> 3) + 1;
            let v = views[slot];
            if (v === undefined || v.length !== len) views[slot] = v = new Uint8Array(ab, base + off, len);
            (cb as RecordCallback)(v, ring);
          }
          owed = 0;
          n++;
          if (this.#dead) return n; // closed from the callback: the pages are gone
        }
        const after = (cons + total) >>> 0;
        if (after < total) {
          this.#cons = cons;
          this.#advance(total);
        } else if (TSO) {
          consLo[0] = after | 0;
        } else {
          Atomics.store(consLo, 0, after | 0);
        }
        cons = after;
      }
    } finally {
      this.#cons = cons;
      if (owed !== 0 && !this.#dead) this.#advance(owed);
    }
    return n;
  }

  #advance(total: number): void {
    const after = (this.#cons + total) >>> 0;
    this.#cons = after;
    // We are the only writer of consumer_pos: while the high word is unchanged a 32-bit store of
    // the low word is the same as a 64-bit store; at a carry store all 64 bits at once.
    if (after >= total) Atomics.store(this.#consLo, 0, after | 0);
    else Atomics.store(this.#cons64, 0, BigInt(++this.#consHi) * 0x100000000n + BigInt(after));
  }
}
