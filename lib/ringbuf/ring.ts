// One BPF_MAP_TYPE_RINGBUF seen from user space: the consumer page (ours, read-write) and the
// producer page followed by the data pages mapped twice in a row (the kernel's layout), so a
// record that wraps around the end is still contiguous. Pure over the three ArrayBuffers: the
// reader maps them, the unit tests hand in plain memory.
//
// Memory order: the kernel publishes a record by storing its header length with release
// semantics (BUSY bit cleared) and the producer position likewise; we load both with
// Atomics.load (sequentially consistent, so at least acquire). The consumer position is stored
// with Atomics.store after the record was processed, so the kernel never reuses bytes we still read.
import { RingBufferCorruptError } from './errors.js';

export const RINGBUF_BUSY_BIT = 0x80000000;
export const RINGBUF_DISCARD_BIT = 0x40000000;
export const RINGBUF_HDR_SZ = 8;
const TWO32 = 0x100000000;

export class Ring {
  readonly name: string;
  /** data area size in bytes (max_entries; a power of two) */
  readonly size: number;
  readonly #consLo: Int32Array; // low 32 bits of consumer_pos
  readonly #cons64: BigInt64Array;
  readonly #prodLo: Int32Array; // low 32 bits of producer_pos
  readonly #hdr: Int32Array; // data area (twice), as 32-bit words for header loads
  readonly #bytes: Uint8Array; // data area (twice)
  readonly #mask: number;
  /** consumer position as a plain number (exact up to 2^53 bytes consumed) */
  #cons: number;
  /** a record returned by next() and not yet released: its total length (0: none) */
  #held = 0;
  /** set by detach(): the memory is about to be unmapped, touch nothing */
  #dead = false;

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
    this.#cons = Number(BigInt.asUintN(64, Atomics.load(this.#cons64, 0)));
  }

  /** consumer_pos as last stored by us */
  get consumerPosition(): number {
    return this.#cons;
  }

  /** bytes committed or reserved by producers and not yet consumed */
  get pending(): number {
    return ((Atomics.load(this.#prodLo, 0) >>> 0) - (this.#cons % TWO32) + TWO32) % TWO32;
  }

  /**
   * The next committed record as a zero-copy view (valid until release()), skipping discarded
   * records; undefined when none is ready (empty, or the next one is still being written).
   * Releases the previously returned record first if the caller did not.
   */
  next(): Uint8Array | undefined {
    if (this.#dead) return undefined;
    if (this.#held !== 0) this.release();
    const prod = Atomics.load(this.#prodLo, 0) >>> 0;
    for (;;) {
      const consLo = this.#cons % TWO32;
      if (consLo === prod) return undefined;
      const off = this.#cons & this.#mask;
      const hdr = Atomics.load(this.#hdr, off >>> 2) >>> 0;
      if (hdr & RINGBUF_BUSY_BIT) return undefined;
      const len = hdr & 0x3fffffff; // without the BUSY and DISCARD bits
      const total = (len + RINGBUF_HDR_SZ + 7) & ~7;
      if (total > this.size) {
        throw new RingBufferCorruptError(this.name, this.#cons, `record of ${len} bytes is larger than the ${this.size}-byte ring`);
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

  /** Stop all access (before the owner unmaps the pages); idempotent. */
  detach(): void {
    this.#dead = true;
  }

  #advance(total: number): void {
    const before = this.#cons;
    const after = before + total;
    this.#cons = after;
    // We are the only writer of consumer_pos: while the high word is unchanged a 32-bit store of
    // the low word is the same as a 64-bit store; at a carry store all 64 bits at once.
    if (Math.floor(after / TWO32) === Math.floor(before / TWO32)) Atomics.store(this.#consLo, 0, after % TWO32 | 0);
    else Atomics.store(this.#cons64, 0, BigInt(after));
  }
}
