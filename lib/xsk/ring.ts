// The four single-producer/single-consumer rings of an AF_XDP socket, seen from user space. Pure
// over an ArrayBuffer (the socket maps the kernel's ring pages; the unit tests hand in plain memory)
// and the offsets XDP_MMAP_OFFSETS gave. We produce into the fill and TX rings and consume from the
// RX and completion rings; the kernel does the opposite.
//
// Indices are free-running u32 counters (they wrap at 2^32; an entry lives at index & (size - 1)),
// so every difference is taken modulo 2^32 (`>>> 0`). As libxdp does, each side keeps a cached copy
// of the other side's index and reads the shared one only when the cache says the ring is full
// (producer) or empty (consumer): one shared load per batch, not per entry.
//
// Memory order. The kernel publishes entries with a release store of its index (smp_store_release)
// and reads ours with acquire loads. So: our load of the kernel's index must be an acquire (entries
// read after it are the ones it published), and our store of our index a release (entries written
// or read before it are done when the kernel sees it). lib/ringbuf does the per-record loads and
// stores with plain typed-array accesses on x86-64 only (TSO: every plain load is an acquire, every
// plain store a release, and V8 keeps typed-array accesses in program order around calls and
// Atomics), and with Atomics elsewhere. Here the index accesses are once per batch, so they are
// always Atomics.load/Atomics.store (sequentially consistent, which includes acquire/release): on
// x86-64 that costs one xchg per batch; on arm64 they compile to ldar/stlr, exactly the
// acquire/release the protocol needs, and the plain accesses to descriptors stay ordered between
// them. What arm64 would need if this were ever switched to plain index accesses (as ringbuf does on
// x86-64): explicit barriers (dmb ishld after the index load, dmb ish before the index store),
// which JavaScript cannot express: so keep the Atomics there.

export interface RingOffsets {
  /** byte offsets into the mapping (from struct xdp_ring_offset) */
  readonly producer: number;
  readonly consumer: number;
  readonly desc: number;
  readonly flags: number;
}

/** A ring size the kernel accepts: a power of two, 1 … 2^31 (checked again by the socket with its option name). */
export function isRingSize(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 1 && n <= 0x80000000 && (n & (n - 1)) === 0;
}

abstract class Ring {
  /** entries (a power of two) */
  readonly size: number;
  protected readonly mask: number;
  protected readonly prod: Uint32Array;
  protected readonly cons: Uint32Array;
  readonly #flags: Uint32Array;
  /** descriptors as 32-bit words */
  protected readonly words: Uint32Array;

  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number, entryBytes: number) {
    if (!isRingSize(size)) throw new RangeError(`ring size ${size} is not a power of two`);
    this.size = size;
    this.mask = size - 1;
    this.prod = new Uint32Array(buffer, off.producer, 1);
    this.cons = new Uint32Array(buffer, off.consumer, 1);
    this.#flags = new Uint32Array(buffer, off.flags, 1);
    this.words = new Uint32Array(buffer, off.desc, (size * entryBytes) / 4);
  }

  /** The ring's flags word has XDP_RING_NEED_WAKEUP (only set when bound with need_wakeup). */
  needsWakeup(): boolean {
    return (Atomics.load(this.#flags, 0) & 1) !== 0;
  }
}

/** A ring we produce into (fill: u64 addresses; TX: descriptors). */
export abstract class ProducerRing extends Ring {
  /** our producer index: entries before it are reserved (written or being written) */
  #prod: number;
  /** the kernel's consumer index plus size, as last read: we may produce up to here */
  #limit: number;

  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number, entryBytes: number) {
    super(buffer, off, size, entryBytes);
    this.#prod = Atomics.load(this.prod, 0);
    this.#limit = (Atomics.load(this.cons, 0) + size) >>> 0;
  }

  /** Free slots, at least `wanted` if there are that many (reads the kernel's index only when needed). */
  free(wanted = 1): number {
    const free = (this.#limit - this.#prod) >>> 0;
    if (free >= wanted) return free;
    this.#limit = (Atomics.load(this.cons, 0) + this.size) >>> 0;
    return (this.#limit - this.#prod) >>> 0;
  }

  /** Reserve `n` slots: the index of the first (write entries at index, index + 1, …), or -1 if fewer are free. */
  reserve(n: number): number {
    if (this.free(n) < n) return -1;
    const at = this.#prod;
    this.#prod = (at + n) >>> 0;
    return at;
  }

  /** Publish every reserved entry to the kernel (release store of the producer index). */
  submit(): void {
    Atomics.store(this.prod, 0, this.#prod);
  }

  /** Entries published and not yet consumed by the kernel. */
  get outstanding(): number {
    return (Atomics.load(this.prod, 0) - Atomics.load(this.cons, 0)) >>> 0;
  }
}

/** A ring we consume from (RX: descriptors; completion: u64 addresses). */
export abstract class ConsumerRing extends Ring {
  /** our consumer index: entries before it were given back */
  #cons: number;
  /** the kernel's producer index, as last read */
  #avail: number;

  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number, entryBytes: number) {
    super(buffer, off, size, entryBytes);
    this.#cons = Atomics.load(this.cons, 0);
    this.#avail = Atomics.load(this.prod, 0);
  }

  /** Index of the first entry not given back yet (entries peek() reports start here). */
  get position(): number {
    return this.#cons;
  }

  /** Entries ready, up to `max` (reads the kernel's index only when the cached one says none). Consumes nothing. */
  peek(max: number): number {
    let n = (this.#avail - this.#cons) >>> 0;
    if (n === 0) {
      this.#avail = Atomics.load(this.prod, 0);
      n = (this.#avail - this.#cons) >>> 0;
    }
    return n < max ? n : max;
  }

  /** Give the first `n` peeked entries back to the kernel (release store of the consumer index). */
  release(n: number): void {
    if (n <= 0) return;
    this.#cons = (this.#cons + n) >>> 0;
    Atomics.store(this.cons, 0, this.#cons);
  }
}

// UMEM addresses are u64; ours are below 2^53 (the UMEM is in our address space's range of offsets,
// far below that), written as two u32 halves, low first (little-endian hosts: x86-64, arm64).
const TWO32 = 0x100000000;

/** The fill ring: UMEM frame addresses we hand the kernel to receive into. */
export class FillRing extends ProducerRing {
  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number) {
    super(buffer, off, size, 8);
  }

  set(index: number, addr: number): void {
    const w = ((index & this.mask) >>> 0) * 2;
    this.words[w] = addr % TWO32;
    this.words[w + 1] = Math.floor(addr / TWO32);
  }
}

/** The completion ring: UMEM addresses of frames the kernel has sent. */
export class CompletionRing extends ConsumerRing {
  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number) {
    super(buffer, off, size, 8);
  }

  addr(index: number): number {
    const w = ((index & this.mask) >>> 0) * 2;
    return this.words[w + 1] * TWO32 + this.words[w];
  }
}

/** The TX ring: descriptors (UMEM address, length, options) of frames to send. */
export class TxRing extends ProducerRing {
  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number) {
    super(buffer, off, size, 16);
  }

  set(index: number, addr: number, len: number, options = 0): void {
    const w = ((index & this.mask) >>> 0) * 4;
    this.words[w] = addr % TWO32;
    this.words[w + 1] = Math.floor(addr / TWO32);
    this.words[w + 2] = len;
    this.words[w + 3] = options;
  }
}

/** The RX ring: descriptors of received frames (the address points at the packet's first byte). */
export class RxRing extends ConsumerRing {
  constructor(buffer: ArrayBuffer, off: RingOffsets, size: number) {
    super(buffer, off, size, 16);
  }

  addr(index: number): number {
    const w = ((index & this.mask) >>> 0) * 4;
    return this.words[w + 1] * TWO32 + this.words[w];
  }

  len(index: number): number {
    return this.words[((index & this.mask) >>> 0) * 4 + 2];
  }

  options(index: number): number {
    return this.words[((index & this.mask) >>> 0) * 4 + 3];
  }
}
