// The ring buffer consumer logic over plain memory laid out as the kernel does (consumer page;
// producer page + data twice): headers, BUSY/DISCARD bits, 8-byte alignment, position carry,
// and a corrupt length as a typed error.
import { expect } from 'chai';
import { Ring, RINGBUF_BUSY_BIT, RINGBUF_DISCARD_BIT, RingBufferCorruptError } from '../../lib/ringbuf/index.js';

const PAGE = 4096;
const SIZE = 4096;

class FakeRing {
  cons = new ArrayBuffer(PAGE);
  prod = new ArrayBuffer(PAGE + 2 * SIZE);
  pos: bigint;
  constructor(start = 0n) {
    this.pos = start;
    new DataView(this.cons).setBigUint64(0, start, true);
    new DataView(this.prod).setBigUint64(0, start, true);
  }
  /** write a record at the producer position (into both data copies) and publish it */
  put(bytes: number[], flags = 0): void {
    const d = new DataView(this.prod, PAGE);
    const off = Number(this.pos & BigInt(SIZE - 1));
    const total = (bytes.length + 8 + 7) & ~7;
    for (const base of [0, SIZE]) {
      for (let i = 0; i < total; i++) {
        const at = (off + i) % SIZE + base;
        d.setUint8(at, i < 8 ? 0 : bytes[i - 8] ?? 0);
      }
    }
    for (const base of [0, SIZE]) {
      // header: may itself wrap only at 8-byte granularity, never inside (records are 8-aligned)
      d.setUint32(base + off, (bytes.length | flags) >>> 0, true);
    }
    this.pos += BigInt(total);
    new DataView(this.prod).setBigUint64(0, this.pos, true);
  }
  consumer(): bigint {
    return new DataView(this.cons).getBigUint64(0, true);
  }
}

describe('Ring (ring buffer consumer over memory)', () => {
  it('reads records in order, skips discarded ones, advances the consumer once per record', () => {
    const f = new FakeRing();
    const r = new Ring(f.cons, f.prod, PAGE, SIZE, 'events');
    f.put([1, 2, 3]);
    f.put([9, 9], RINGBUF_DISCARD_BIT);
    f.put([4, 5, 6, 7, 8, 9, 10, 11, 12]);
    const got: number[][] = [];
    expect(r.drain((d, o, l) => got.push([...d.subarray(o, o + l)]), Infinity)).to.equal(2);
    expect(got).to.deep.equal([[1, 2, 3], [4, 5, 6, 7, 8, 9, 10, 11, 12]]);
    // 16 + 16 + 24 bytes: header + data rounded up to 8
    expect(f.consumer()).to.equal(56n);
    expect(r.drain(() => expect.fail('twice'), Infinity)).to.equal(0);
  });

  it('next()/release(): the consumer moves only on release, once', () => {
    const f = new FakeRing();
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    f.put([7]);
    const rec = r.next()!;
    expect([...rec]).to.deep.equal([7]);
    expect(f.consumer()).to.equal(0n);
    r.release();
    r.release();
    expect(f.consumer()).to.equal(16n);
    expect(r.next()).to.equal(undefined);
  });

  it('next()/unread(): a record left in the ring (nobody looked at it) comes again, the consumer where it was; a discarded one before it stays skipped', () => {
    const f = new FakeRing();
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    f.put([9], RINGBUF_DISCARD_BIT);
    f.put([7]);
    f.put([8]);
    expect([...r.next()!]).to.deep.equal([7]);
    r.unread();
    expect(f.consumer()).to.equal(16n); // past the discarded record only
    const got: number[] = [];
    expect(r.drainViews((rec) => got.push(rec[0]), Infinity)).to.equal(2);
    expect(got).to.deep.equal([7, 8]);
    expect(f.consumer()).to.equal(48n);
  });

  it('stops at a record still being written (BUSY)', () => {
    const f = new FakeRing();
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    f.put([1]);
    f.put([2], RINGBUF_BUSY_BIT);
    expect(r.stalled, 'a committed record is next').to.equal(false);
    expect(r.drain(() => {}, Infinity)).to.equal(1);
    expect(f.consumer()).to.equal(16n);
    expect(r.pending).to.equal(16);
    // the reader looks again on a timer while this holds (epoll would report the ring readable)
    expect(r.stalled).to.equal(true);
    expect(r.next()).to.equal(undefined);
    expect(r.stalled).to.equal(true);
    // committed: no longer stalled, and delivered
    new DataView(f.prod, PAGE).setUint32(16, 1, true);
    expect(r.stalled).to.equal(false);
    expect([...r.next()!]).to.deep.equal([2]);
    r.release();
    expect(r.stalled, 'empty').to.equal(false);
  });

  it('records wrapping past the end read contiguously (data mapped twice)', () => {
    const f = new FakeRing(BigInt(SIZE - 16));
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    const data = Array.from({ length: 40 }, (_, i) => i + 1);
    f.put(data);
    const got: number[][] = [];
    r.drain((d, o, l) => got.push([...d.subarray(o, o + l)]), Infinity);
    expect(got).to.deep.equal([data]);
  });

  it('carries the consumer position past 2^32 with a full 64-bit store', () => {
    const f = new FakeRing(2n ** 32n - 16n);
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    f.put([1, 2, 3, 4]);
    f.put([5]);
    const got: number[] = [];
    r.drain((d, o) => got.push(d[o]), Infinity);
    expect(got).to.deep.equal([1, 5]);
    expect(f.consumer()).to.equal(2n ** 32n + 16n);
    expect(r.consumerPosition).to.equal(2 ** 32 + 16);
  });

  it('a record longer than the ring is a typed error, not a read past the mapping', () => {
    const f = new FakeRing();
    const r = new Ring(f.cons, f.prod, PAGE, SIZE, 'events');
    f.put([1]);
    new DataView(f.prod, PAGE).setUint32(0, SIZE + 100, true);
    expect(() => r.drain(() => {}, Infinity)).to.throw(RingBufferCorruptError, /ring buffer events: record of 4196 bytes is larger than the 4096-byte ring at consumer position 0/);
    expect(() => r.next()).to.throw(RingBufferCorruptError);
    expect(f.consumer()).to.equal(0n);
  });

  for (const how of ['drain', 'drainViews'] as const) {
    it(`${how}(): a throwing callback still consumes its record (never delivered twice)`, () => {
      const f = new FakeRing();
      const r = new Ring(f.cons, f.prod, PAGE, SIZE);
      f.put([1]);
      f.put([2]);
      const got: number[] = [];
      const run = (cb: (first: number) => void) => how === 'drain'
        ? r.drain((d, o) => cb(d[o]), Infinity)
        : r.drainViews((rec) => cb(rec[0]), Infinity);
      expect(() => run(() => { throw new Error('boom'); })).to.throw('boom');
      run((b) => got.push(b));
      expect(got).to.deep.equal([2]);
    });
  }

  it('drainViews(): each record as its own view, wrapping records contiguous, consumer once per record', () => {
    const f = new FakeRing(BigInt(SIZE - 16));
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    const long = Array.from({ length: 40 }, (_, i) => i + 1);
    f.put(long);
    f.put([9, 9], RINGBUF_DISCARD_BIT);
    f.put([3, 4, 5]);
    f.put([]);
    const got: number[][] = [];
    expect(r.drainViews((rec, ring) => { expect(ring).to.equal(0); got.push([...rec]); }, Infinity)).to.equal(3);
    expect(got).to.deep.equal([long, [3, 4, 5], []]);
    expect(f.consumer()).to.equal(BigInt(SIZE - 16 + 48 + 16 + 16 + 8));
    expect(r.drainViews(() => expect.fail('twice'), Infinity)).to.equal(0);
  });

  it('drainViews(): a record slot hands out the same view again only for a record of the same length there', () => {
    const f = new FakeRing();
    const r = new Ring(f.cons, f.prod, PAGE, SIZE);
    const seen: Uint8Array[] = [];
    const take = (rec: Uint8Array) => seen.push(rec);
    // 256 records of 8 + 8 bytes fill the 4096-byte ring once: the next lap reuses the same slots
    for (let i = 0; i < 256; i++) f.put([i, 0, 0, 0, 0, 0, 0, 1]);
    r.drainViews(take, Infinity);
    f.put([42, 0, 0, 0, 0, 0, 0, 2]); // same slot as the first record, same length
    f.put([43, 1]); // same slot as the second, another length
    r.drainViews(take, Infinity);
    expect(seen).to.have.length(258);
    expect(seen[256]).to.equal(seen[0]);
    expect([...seen[256]]).to.deep.equal([42, 0, 0, 0, 0, 0, 0, 2]);
    expect(seen[257]).to.not.equal(seen[1]);
    expect([...seen[257]]).to.deep.equal([43, 1]);
    expect(f.consumer()).to.equal(256n * 16n + 32n);
  });

});
