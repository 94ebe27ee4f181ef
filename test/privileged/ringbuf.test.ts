// RingBuffer against the kernel: a producer program run with BPF_PROG_TEST_RUN emits one 16-byte
// record per run ([skb->len, ~skb->len] as u64s) and reserves-then-discards when len % 4 == 0.
// The program is hand-assembled (test/helpers/producers.ts); bpf/ringbuf_events.c is the same in C.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { waitFor } from '../helpers/netns.js';
import { BpfMap } from '../../lib/map/index.js';
import { progTestRun, pageSize, BPF_MAP_TYPE, BpfError, getFdById, mapInfo, type Fd } from '../../lib/syscall/index.js';
import { ringbufProducer } from '../helpers/producers.js';
import { RingBuffer } from '../../lib/ringbuf/index.js';
import { ReaderArgumentError, ReaderBusyError } from '../../lib/ringbuf/errors.js';
import { EpollWaiter } from '../../lib/ringbuf/waiter.js';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { compileBpf } from '../helpers/compile-bpf.js';
import { readWhileProducing, startSteadyProducer } from '../helpers/steady-producer.js';
import { expectForgottenReaderReleased, runReaderChild } from '../helpers/reader-child.js';
import { loadObject } from '../../lib/object/index.js';

/**
 * Producers in C, compiled by the test (compileBpf). `hold` reserves [skb->len], spins `outer` × 1024
 * bpf_loop rounds (the record stays BUSY), then submits; `force` outputs [skb->len] with
 * BPF_RB_FORCE_WAKEUP; `sized` outputs cfg.size bytes of src (cfg.seq in the first 4 when they
 * fit), or reserves that many with a dynptr and discards them when cfg.discard.
 */
const PRODUCERS_SOURCE = `#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#define RING 16384
struct cfg { __u32 size; __u32 seq; __u32 discard; };
struct src { __u8 data[RING]; };
struct { __uint(type, BPF_MAP_TYPE_RINGBUF); __uint(max_entries, RING); } events SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct cfg); } cfg SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct src); } src SEC(".maps");
const volatile __u32 outer = 1;
static long inner(__u64 i, void *ctx) { return 0; }
static long round(__u64 i, void *ctx) { bpf_loop(1024, inner, 0, 0); return 0; }
SEC("tc") int hold(struct __sk_buff *skb) {
	__u64 *r = bpf_ringbuf_reserve(&events, 8, 0);
	if (!r) return 1;
	*r = skb->len;
	bpf_loop(outer, round, 0, 0);
	bpf_ringbuf_submit(r, 0);
	return 0;
}
SEC("tc") int force(struct __sk_buff *skb) {
	__u64 v = skb->len;
	return bpf_ringbuf_output(&events, &v, 8, BPF_RB_FORCE_WAKEUP) ? 1 : 0;
}
SEC("tc") int sized(struct __sk_buff *skb) {
	__u32 k = 0;
	struct cfg *c = bpf_map_lookup_elem(&cfg, &k);
	struct src *b = bpf_map_lookup_elem(&src, &k);
	if (!c || !b) return 3;
	__u32 size = c->size;
	if (size < 1 || size > RING) return 3;
	if (size >= 4) *(__u32 *)b->data = c->seq;
	if (c->discard) {
		struct bpf_dynptr p;
		long r = bpf_ringbuf_reserve_dynptr(&events, size, 0, &p);
		bpf_ringbuf_discard_dynptr(&p, 0);
		return r ? 2 : 0;
	}
	return bpf_ringbuf_output(&events, b->data, size, 0) ? 2 : 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

/** Run the producer once per length; returns the lengths that make a delivered (not discarded) record. */
function produce(prog: Fd, lengths: number[]): number[] {
  for (const len of lengths) progTestRun(prog.value, { data: new Uint8Array(len) });
  return lengths.filter((l) => l % 4 !== 0);
}

function decode(rec: Uint8Array): number {
  expect(rec.length).to.equal(16);
  const v = new DataView(rec.buffer, rec.byteOffset, rec.byteLength);
  const len = v.getBigUint64(0, true);
  expect(v.getBigUint64(8, true)).to.equal(BigInt.asUintN(64, ~len));
  return Number(len);
}

/** this process's open fds (number → what) and its bpf mappings: what a failed constructor must not leave */
function resources(): string[] {
  const fds = readdirSync('/proc/self/fd').map((f) => { try { return `${f} ${readlinkSync(`/proc/self/fd/${f}`)}`; } catch { return f; } });
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /bpf|eventfd|epoll/.test(l));
  return [...fds, ...maps].sort();
}

/** Wait (bounded) until resources() is `before` again: a waiter's thread gives its fds back asynchronously, not under the next test's checks. */
async function settle(before: string[]): Promise<void> {
  await waitFor(() => resources().join('\n'), (now) => now === before.join('\n'), 10000);
}

const range = (from: number, n: number) => Array.from({ length: n }, (_, i) => from + i);

describe('RingBuffer (BPF_MAP_TYPE_RINGBUF)', function () {
  this.timeout(20000);
  const open: { close(): void }[] = [];
  const track = <T extends { close(): void }>(x: T): T => { open.push(x); return x; };

  before(function () { requirePrivileged(this); });
  afterEach(() => { for (const x of open.splice(0).reverse()) x.close(); });

  it('delivers every committed record once, in order, with its bytes; discarded ones are skipped', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: 4 * pageSize(), name: 'rb_t1' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    const want = produce(prog, range(64, 100));
    const got: number[] = [];
    expect(rb.consume((rec, ring) => { expect(ring).to.equal(0); got.push(decode(rec)); })).to.equal(want.length);
    expect(got).to.deep.equal(want);
    // nothing is delivered twice and the ring is empty
    expect(rb.consume(() => expect.fail('record delivered twice'))).to.equal(0);
  });

  it('wraps around the end of the ring across many fills (the data pages are mapped twice)', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_wrap' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    const got: number[] = [];
    const want: number[] = [];
    // 24 bytes per record (8 header + 16): 50 records never fit in one page without wrapping
    for (let round = 0; round < 20; round++) {
      want.push(...produce(prog, range(20 + round * 50, 50)));
      rb.consume((rec) => got.push(decode(rec)));
    }
    expect(got).to.deep.equal(want);
  });

  it('records of every size the ring takes, straddling its end: each once with its bytes, through consume, consumeRaw and the iterator; discarded ones of every size skipped', async function () {
    this.timeout(120000);
    const built = compileBpf(PRODUCERS_SOURCE, 'rbprod');
    let obj: ReturnType<typeof loadObject> | undefined;
    try {
      obj = loadObject(built.file);
      const rb = track(new RingBuffer(obj.maps.get('events')!));
      const cfg = obj.maps.get('cfg')!;
      const prog = obj.programs.get('sized')!.fd.value;
      const k0 = new Uint8Array(4);
      const pattern = Uint8Array.from({ length: 16384 }, (_, i) => (i * 7 + 3) & 0xff);
      obj.maps.get('src')!.update(k0, pattern);
      const c = new DataView(new ArrayBuffer(12));
      const run = (size: number, seq: number, discard: boolean) => {
        c.setUint32(0, size, true); c.setUint32(4, seq, true); c.setUint32(8, discard ? 1 : 0, true);
        cfg.update(k0, new Uint8Array(c.buffer));
        return progTestRun(prog, { data: new Uint8Array(64) }).retval;
      };
      const want: [number, number][] = []; // [seq, size] of each record kept
      let got = 0;
      const bad: string[] = [];
      const check = (rec: Uint8Array) => {
        const [seq, size] = want[got++] ?? [0, -1];
        if (rec.length !== size) { bad.push(`record ${got}: ${rec.length} bytes, not ${size}`); return; }
        for (let i = 0; i < size; i++) {
          const b = size >= 4 && i < 4 ? (seq >>> (8 * i)) & 0xff : pattern[i];
          if (rec[i] !== b) { bad.push(`record ${got} (${size} bytes): byte ${i} is ${rec[i]}, not ${b}`); return; }
        }
      };
      const ways = ['consume', 'consumeRaw', 'iterator'] as const;
      let drains = 0;
      const drain = async () => {
        const way = ways[drains++ % 3];
        if (way === 'consumeRaw') rb.consumeRaw((d, o, l) => check(d.subarray(o, o + l)));
        else if (way === 'iterator' && got < want.length) {
          for await (const rec of rb) { check(rec); if (got === want.length) break; }
        }
        rb.consume(check); // also gives back discarded records after the last one kept
      };
      // a record's 8-byte header and its data, rounded up to 8, must fit in the ring less 8 bytes:
      // the kernel keeps producer − consumer below the ring's size
      const max = 16384 - 16;
      let seq = 0;
      for (let size = 1; size <= max; size++) {
        const discard = size % 5 === 0;
        let r = run(size, ++seq, discard);
        if (r === 2) { await drain(); r = run(size, seq, discard); }
        expect(r, `size ${size}`).to.equal(0);
        if (!discard) want.push([seq, size]);
      }
      await drain();
      expect(bad.slice(0, 5)).to.deep.equal([]);
      expect(got).to.equal(want.length);
      expect(rb.pending()).to.deep.equal([0]);
      // one byte more never fits (the ring is empty now)
      expect(run(max + 1, ++seq, false)).to.equal(2);
      expect(rb.consume(() => expect.fail('nothing was produced'))).to.equal(0);
      expect(drains).to.be.greaterThan(100);
    } finally {
      for (const x of open.splice(0).reverse()) x.close();
      obj?.close();
      built.cleanup();
    }
  });

  it('async iterator: waits without blocking the event loop, then yields records in order', async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: 4 * pageSize(), name: 'rb_iter' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    try {
      const got: number[] = [];
      const reading = (async () => {
        for await (const rec of rb) {
          got.push(decode(rec));
          if (got.length === 30) break;
        }
      })();
      // the reader is now waiting; the loop must keep running timers meanwhile
      await waitFor(() => ticks, (t) => t >= 10, 5000);
      expect(ticks).to.be.at.least(10);
      const want = produce(prog, range(1000, 40));
      await reading;
      expect(got).to.deep.equal(want);
    } finally {
      clearInterval(timer);
    }
  });

  it('close() during a pending wait ends the iteration', async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_close' }));
    const rb = new RingBuffer(map);
    let ended = false;
    const reading = (async () => {
      for await (const _ of rb) expect.fail('no record was produced');
      ended = true;
    })();
    await new Promise((r) => setTimeout(r, 50));
    expect(ended).to.equal(false);
    rb.close();
    await reading;
    expect(ended).to.equal(true);
    expect(rb.closed).to.equal(true);
  });

  it("'record' events and several ring buffers behind one reader", async () => {
    const a = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_a' }));
    const b = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_b' }));
    const pa = track(ringbufProducer(a.fd.value));
    const pb = track(ringbufProducer(b.fd.value));
    const rb = track(new RingBuffer([a, b]));
    const got: [number, number][] = [];
    rb.on('record', (rec: Uint8Array, ring: number) => got.push([ring, decode(rec)]));
    await new Promise((r) => setTimeout(r, 20));
    const wantA = produce(pa, [21, 22, 23]).map((l) => [0, l]);
    const wantB = produce(pb, [31, 33]).map((l) => [1, l]);
    await waitFor(() => got.length, (n) => n >= 5, 5000);
    const later = produce(pb, [35]).map((l) => [1, l]);
    await waitFor(() => got.length, (n) => n >= 6, 5000);
    expect(got.filter(([r]) => r === 0)).to.deep.equal(wantA);
    expect(got.filter(([r]) => r === 1)).to.deep.equal([...wantB, ...later]);
  });

  it('close() from inside a callback or a loop body stops cleanly (no access to unmapped pages)', async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_inner' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = new RingBuffer(map);
    produce(prog, [21, 22, 23]);
    let seen = 0;
    expect(rb.consume(() => { seen++; rb.close(); })).to.equal(1);
    expect(seen).to.equal(1);
    expect(rb.consume(() => expect.fail('closed'))).to.equal(0);

    const rb2 = new RingBuffer(map);
    const got: number[] = [];
    for await (const rec of rb2) {
      got.push(decode(rec));
      rb2.close();
    }
    // the first reader closed inside its first callback, which still gave record 21 back
    expect(got).to.deep.equal([22]);
    // and the second gave 22 back on leaving the loop: 23 is next
    const rb3 = track(new RingBuffer(map));
    const rest: number[] = [];
    rb3.consume((rec) => rest.push(decode(rec)));
    expect(rest).to.deep.equal([23]);
  });

  it("a once('record') listener takes one record: the others stay for the next reader", async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_once' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    produce(prog, [41, 42, 43]);
    const first = await new Promise<number>((resolve) => rb.once('record', (rec: Uint8Array) => resolve(decode(rec))));
    expect(first).to.equal(41);
    const rest: number[] = [];
    rb.consume((rec) => rest.push(decode(rec)));
    expect(rest).to.deep.equal([42, 43]);
  });

  for (const how of ['events', 'iterator'] as const) {
    it(`a producer faster than the reader does not hold the event loop (${how === 'events' ? "'record' events" : 'the async iterator'})`, async () => {
      const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: 64 * pageSize(), name: 'rb_steady' }));
      const prog = track(ringbufProducer(map.fd.value));
      const rb = track(new RingBuffer(map));
      // 1 µs per record: slower than the producer thread (~0.1 µs per run)
      const r = await readWhileProducing(rb, how, prog.value, 1);
      expect(r.producerRunning, 'the producer was still running at the end').to.equal(true);
      expect(r.ticks).to.equal(60);
      expect(r.records).to.be.greaterThan(1000);
      // a turn is ~4 ms; the bound leaves room for a loaded 2-CPU machine (a hold lasts the whole 6 s)
      expect(r.gapMs).to.be.below(1000);
    });
  }

  it("a throwing 'record' listener: the error goes to 'error', its record is consumed, delivery goes on", async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_throw' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    const got: number[] = [];
    const errors: unknown[] = [];
    rb.on('error', (e) => errors.push(e));
    rb.on('record', (rec: Uint8Array) => {
      const v = decode(rec);
      got.push(v);
      if (v % 10 === 2) throw new Error(`bad ${v}`);
    });
    const want = produce(prog, [21, 22, 23]);
    await waitFor(() => got.length, (n) => n >= 3, 5000);
    // later records still come (the loop went back to waiting)
    want.push(...produce(prog, [41, 42, 43]));
    await waitFor(() => got.length, (n) => n >= 6, 5000);
    expect(got).to.deep.equal(want);
    expect(errors.map((e) => (e as Error).message)).to.deep.equal(['bad 22', 'bad 42']);
    expect(rb.pending()).to.deep.equal([0]);
  });

  it("a throwing 'record' listener without an 'error' listener: an uncaught exception, and delivery goes on", async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_throw2' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    // mocha's own handler would fail the test: stand in for it while the reader runs
    const saved = process.listeners('uncaughtException');
    process.removeAllListeners('uncaughtException');
    const uncaught: unknown[] = [];
    process.on('uncaughtException', (e) => uncaught.push(e));
    try {
      const got: number[] = [];
      rb.on('record', (rec: Uint8Array) => {
        got.push(decode(rec));
        if (got.length === 1) throw new Error('first');
      });
      const want = produce(prog, [41, 42]);
      await waitFor(() => got.length, (n) => n >= 2, 5000);
      want.push(...produce(prog, [43]));
      await waitFor(() => got.length + uncaught.length, (n) => n >= 4, 5000);
      expect(got).to.deep.equal(want);
      expect(uncaught.map((e) => (e as Error).message)).to.deep.equal(['first']);
    } finally {
      process.removeAllListeners('uncaughtException');
      for (const l of saved) process.on('uncaughtException', l);
    }
  });

  it('consume() from inside a callback or a loop body is a typed error; each record still arrives once', async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_nested' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    const want = produce(prog, range(61, 12)); // 61..72 without the multiples of 4
    const got: number[] = [];
    const inner: number[] = [];
    // the nested consume() throws out of the callback: the outer consume() stops after that record
    expect(() => rb.consume((rec) => {
      got.push(decode(rec));
      if (got.length === 2) rb.consume((r) => inner.push(decode(r)), 1);
    })).to.throw(ReaderBusyError, /RingBuffer: consume\(\) while a record is being processed/);
    expect(() => rb.consumeRaw((d, o, l) => {
      got.push(decode(d.subarray(o, o + l)));
      rb.consumeRaw(() => inner.push(-1));
    })).to.throw(ReaderBusyError, /consumeRaw\(\)/);
    expect(got).to.have.length(3);
    // a loop body holding a record cannot consume either; the loop goes on
    let caught: unknown;
    for await (const rec of rb) {
      got.push(decode(rec));
      try { rb.consume(() => expect.fail('nested')); } catch (e) { caught = e; }
      break;
    }
    expect(caught).to.be.instanceOf(ReaderBusyError);
    rb.consume((rec) => got.push(decode(rec)));
    expect(inner).to.deep.equal([]);
    // every record exactly once, in order
    expect(got).to.deep.equal(want);
    expect(rb.pending()).to.deep.equal([0]);
  });

  it('pending() inside a callback counts the records not yet given back (the one in hand included)', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_pend' }));
    const prog = track(ringbufProducer(map.fd.value));
    const rb = track(new RingBuffer(map));
    produce(prog, [71, 72, 73, 75]); // 72 is reserved and discarded: 24 bytes all the same
    const seen: number[] = [];
    rb.consume(() => seen.push(rb.pending()[0]));
    // 24 bytes per record (8 header + 16 data); the discarded one goes back on the way to the next
    expect(seen).to.deep.equal([96, 48, 24]);
    expect(rb.pending()).to.deep.equal([0]);
  });

  it('a record view kept past close() reads zeros instead of faulting (in a child process)', async () => {
    const r = await runReaderChild('ringbuf-view-after-close');
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.code, r.stderr).to.equal(0);
    const out = r.out as { before: number[]; after: number[]; mappedBefore: number; mappedAfter: number };
    expect(out.before).to.deep.equal([77, 0, 0, 0, 0, 0, 0, 0]); // skb->len as a u64
    expect(out.after).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    // the kernel's pages were given back at close(): two mappings (consumer; producer + data) gone
    expect(out.mappedBefore - out.mappedAfter).to.equal(2);
  });

  it("removing the last 'record' listener lets the process exit (in a child process)", async () => {
    // nothing is closed: an idle reader must not hold the process (before, the loop's wait did)
    const r = await runReaderChild('ringbuf-exit-after-off', 10000);
    expect(r.timedOut, 'the child did not exit by itself within 10 s').to.equal(false);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.out).to.deep.equal({ removed: true });
  });

  it("a once('record') listener gone with its record lets the process exit (in a child process)", async () => {
    // the loop went on to wait after the round in which its last listener went, and nothing ended
    // that wait: the process ran on until the next record
    const r = await runReaderChild('ringbuf-exit-after-once', 10000);
    expect(r.timedOut, 'the child did not exit by itself within 10 s').to.equal(false);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.out).to.deep.equal({ record: 77 });
  });

  it('close() while a \'record\' loop, a wait() and a for await wait ends them all, and the process exits (in a child process)', async () => {
    const r = await runReaderChild('ringbuf-exit-after-close', 10000);
    expect(r.timedOut, 'the child did not exit by itself within 10 s').to.equal(false);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.out).to.deep.equal({ records: 1, iterated: 0, loop: 'ended', wait: false });
  });

  it('a reader dropped without close() releases what it held once collected, and not while a wait or a \'record\' listener still uses it (in a child process with --expose-gc)', async function () {
    this.timeout(90000);
    // before, nothing was released: the two mappings (consumer page; producer and data pages, which
    // keep the map alive in the kernel too) stayed for good, and once a wait had started the waiter's
    // worker thread lived on, with its event loop's fds, the epoll fd and the eventfd
    await expectForgottenReaderReleased('ringbuf', {
      heldMappings: (n, step) => expect(n, step).to.equal(2),
      afterPendingWait: [[85], 'the record that woke the dropped wait is still in the ring, and the map is free again'],
      afterDroppedNext: [[87], 'a record a dropped next() took and nobody looked at stays in the ring when the reader is collected'],
    });
  });

  it('close() while an async iterator holds a record gives the record and the pages back at once', async () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: 64 * pageSize(), name: 'rb_held' }));
    const prog = track(ringbufProducer(map.fd.value));
    const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('bpf-map')).length;
    const m0 = mapped();
    produce(prog, [81, 82]);
    const rb = new RingBuffer(map);
    expect(mapped()).to.equal(m0 + 2);
    // a loop step taken by hand and never finished (the loop body may never resume)
    const it = rb[Symbol.asyncIterator]();
    const first = await it.next();
    expect(decode(first.value as Uint8Array)).to.equal(81);
    rb.close();
    expect(mapped()).to.equal(m0);
    // 81 went back to the kernel at close(): the next reader starts at 82
    const next = track(new RingBuffer(map));
    const rest: number[] = [];
    next.consume((rec) => rest.push(decode(rec)));
    expect(rest).to.deep.equal([82]);
    // the abandoned step can still be finished, and the loop is over
    expect(await it.return!(undefined)).to.deep.equal({ value: undefined, done: true });
    expect((await it.next()).done).to.equal(true);
  });

  it('a map another RingBuffer of this process reads is refused (each record went to both); free again once that one is closed', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_shared' }));
    const other = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_shared2' }));
    const prog = track(ringbufProducer(map.fd.value));
    const second = track(getFdById('map', mapInfo(map.fd.value).id));
    const first = track(new RingBuffer(map));
    const before = resources();
    const already = /^RingBuffer: map rb_shared \(id \d+\) is already read by another RingBuffer of this process; a buffer has one consumer \(close that reader first\)$/;
    expect(() => new RingBuffer(map)).to.throw(ReaderArgumentError, already);
    expect(() => new RingBuffer([other, second])).to.throw(ReaderArgumentError, already);
    expect(resources()).to.deep.equal(before);
    const want = produce(prog, [21, 22, 23]);
    const got: number[] = [];
    first.consume((rec) => got.push(decode(rec)));
    expect(got).to.deep.equal(want);
    // closed from inside its callback, the reader still owns the map until the callback returns
    // (the record in hand is given back then): a new reader made meanwhile would read it again
    produce(prog, [25, 26]);
    first.consume(() => {
      first.close();
      expect(() => new RingBuffer(map)).to.throw(ReaderArgumentError, already);
    });
    const next = track(new RingBuffer(second));
    const rest: number[] = [];
    next.consume((rec) => rest.push(decode(rec)));
    expect(rest).to.deep.equal([26]);
  });

  for (const how of ['events', 'iterator', 'wait'] as const) {
    it(`a record reserved and not yet committed holds back the later ones without a spin (${how === 'events' ? "'record' events" : how === 'iterator' ? 'the async iterator' : 'wait() and consume()'})`, async function () {
      this.timeout(60000);
      const fds = resources();
      // After a wakeup epoll reports the ring readable at once for as long as a reserved record
      // sits at its head (the kernel's poll counts reserved bytes): each wait returned at once
      // and the reader went round ~20 times a millisecond until the producer committed.
      const built = compileBpf(PRODUCERS_SOURCE, 'rbprod');
      let obj: ReturnType<typeof loadObject> | undefined;
      let rb: RingBuffer | undefined;
      let loop: Promise<void> | undefined;
      let producer: ReturnType<typeof startSteadyProducer> | undefined;
      let waits = 0;
      const wait = EpollWaiter.prototype.wait;
      EpollWaiter.prototype.wait = function (this: EpollWaiter, ...args: Parameters<EpollWaiter['wait']>) { waits++; return wait.apply(this, args); };
      try {
        obj = loadObject(built.file, { constants: { outer: 1 << 19 } });
        const reader = rb = new RingBuffer(obj.maps.get('events')!);
        const got: number[] = [];
        const take = (rec: Uint8Array) => got.push(Number(new DataView(rec.buffer, rec.byteOffset, 8).getBigUint64(0, true)));
        if (how === 'events') reader.on('record', take);
        else if (how === 'iterator') loop = (async () => { for await (const rec of reader) take(rec); })();
        else loop = (async () => { while (await reader.wait()) reader.consume(take); })();
        const force = obj.programs.get('force')!.fd.value;
        // the waiting side is up (its first record came through a wakeup)
        progTestRun(force, { data: new Uint8Array(60) });
        await waitFor(() => got.length, (n) => n === 1, 10000, 1);
        // the hold program has reserved its record (~1 s of spinning before it commits)
        producer = startSteadyProducer(obj.programs.get('hold')!.fd.value, { length: 77, repeat: 1, calls: 1 });
        await waitFor(() => reader.pending()[0], (n) => n > 0, 10000, 1);
        const w0 = waits;
        const t0 = performance.now();
        progTestRun(force, { data: new Uint8Array(99) }); // after the held one, and wakes the reader
        await waitFor(() => got.length, (n) => n === 3, 20000, 1);
        const stalledMs = performance.now() - t0;
        expect(got).to.deep.equal([60, 77, 99]);
        expect(stalledMs, 'the record was held long enough to tell').to.be.above(20);
        expect(waits - w0, `waits in ${Math.round(stalledMs)} ms of a held record`).to.be.at.most(3);
        expect(reader.pending()).to.deep.equal([0]);
      } finally {
        EpollWaiter.prototype.wait = wait;
        await producer?.stop();
        rb?.close();
        await loop;
        obj?.close();
        built.cleanup();
        await settle(fds);
      }
    });
  }

  for (const how of ['events', 'iterator'] as const) {
    it(`add(): a ring added while a wait is pending is read by it, with the next ring index (${how === 'events' ? "'record' events" : 'the async iterator'})`, async () => {
      const fds = resources();
      const a = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_add_a' }));
      const b = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_add_b' }));
      const pa = track(ringbufProducer(a.fd.value));
      const pb = track(ringbufProducer(b.fd.value));
      const rb = track(new RingBuffer(a));
      const got: [number, number][] = [];
      const take = (rec: Uint8Array, ring: number) => got.push([ring, decode(rec)]);
      let loop: Promise<void> | undefined;
      if (how === 'events') rb.on('record', take);
      else loop = (async () => { for await (const rec of rb) take(rec, got.length === 0 ? 0 : 1); })();
      try {
        // a record through a wakeup: the waiting side is up, and then waits again
        produce(pa, [21]);
        await waitFor(() => got.length, (n) => n === 1, 10000, 1);
        // a record already in the ring when it is added, then one produced after
        produce(pb, [31]);
        expect(rb.add(b)).to.equal(1);
        await waitFor(() => got.length, (n) => n === 2, 10000, 1);
        produce(pb, [33]);
        await waitFor(() => got.length, (n) => n === 3, 10000, 1);
        expect(got).to.deep.equal([[0, 21], [1, 31], [1, 33]]);
        expect(rb.pending()).to.deep.equal([0, 0]);
        // the maps of this reader, of another reader, of the wrong type; a closed reader
        expect(() => rb.add(a.fd)).to.throw(ReaderArgumentError, /^RingBuffer: map rb_add_a \(id \d+\) is read by this reader already \(ring 0\)$/);
        const c = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_add_c' }));
        track(new RingBuffer(c));
        expect(() => rb.add(c)).to.throw(ReaderArgumentError, /rb_add_c \(id \d+\) is already read by another RingBuffer/);
        const h = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: 'rb_add_h' }));
        expect(() => rb.add(h)).to.throw(ReaderArgumentError, /hash map, not a ringbuf/);
        expect(rb.pending()).to.have.length(2);
      } finally {
        rb.close();
        await loop;
      }
      expect(() => rb.add(b)).to.throw(ReaderArgumentError, /^RingBuffer: add\(\): the reader is closed$/);
      // and b is free for another reader once this one is closed
      new RingBuffer(b).close();
      for (const x of open.splice(0).reverse()) x.close();
      await settle(fds);
    });
  }

  it('a ring size the kernel refuses (not a power of 2, not whole pages) is an error saying the rule', () => {
    const rule = new RegExp(`EINVAL.*max_entries ${3 * pageSize()}, .*: the max_entries of a ringbuf map \\(its size in bytes\\) must be a power of 2 and a multiple of the page size \\(${pageSize()}\\)$`);
    expect(() => track(BpfMap.create({ type: 'ringbuf', maxEntries: 3 * pageSize(), name: 'rb_size' }))).to.throw(BpfError, rule);
    expect(() => track(BpfMap.create({ type: 'ringbuf', maxEntries: 5000, name: 'rb_size' }))).to.throw(BpfError, /max_entries 5000, .*must be a power of 2 and a multiple of the page size/);
    expect(() => track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize() / 2, name: 'rb_size' }))).to.throw(BpfError, /must be a power of 2 and a multiple of the page size/);
    // a size that is right is created (and a failure of another kind gets no such words)
    track(BpfMap.create({ type: 'ringbuf', maxEntries: 2 * pageSize(), name: 'rb_size' }));
  });

  it('rejects maps that are not ring buffers with a typed error', () => {
    const h = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: 'rb_hash' }));
    expect(() => new RingBuffer(h)).to.throw(ReaderArgumentError, /hash map, not a ringbuf/);
    expect(() => new RingBuffer([])).to.throw(ReaderArgumentError, /no maps/);
    // an Fd works too: the shape comes from the kernel
    expect(() => new RingBuffer(h.fd)).to.throw(ReaderArgumentError, /not a ringbuf/);
    // a user ring buffer goes the other way: not readable here, and said so
    const u = track(BpfMap.create({ type: 'user_ringbuf', maxEntries: pageSize(), name: 'rb_user' }));
    expect(() => new RingBuffer(u)).to.throw(ReaderArgumentError, /rb_user \(id \d+\) is a user_ringbuf map, not a ringbuf \(a user_ringbuf carries records the other way, from user space to bpf_user_ringbuf_drain\(\); tsbpf has no writer for it\)$/);
  });

  it('the same map twice is a typed error naming it, and a failed constructor leaves nothing behind', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_twice' }));
    const other = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_other' }));
    const hash = track(BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: 'rb_h' }));
    const id = mapInfo(map.fd.value).id;
    const second = track(getFdById('map', id)); // another fd of the same map
    const before = resources();
    const twice = new RegExp(`^RingBuffer: map rb_twice \\(id ${id}\\) is given twice \\(at 1 and 2\\)$`);
    expect(() => new RingBuffer([other, map, map])).to.throw(ReaderArgumentError, twice);
    expect(() => new RingBuffer([other, map, map.fd])).to.throw(ReaderArgumentError, twice);
    expect(() => new RingBuffer([other, map, second])).to.throw(ReaderArgumentError, twice);
    expect(() => new RingBuffer([map, other, hash])).to.throw(ReaderArgumentError, /rb_h \(id \d+\) is a hash map/);
    expect(resources()).to.deep.equal(before);
    // the waiter itself: epoll_ctl fails (EEXIST) after the eventfd was made: both are closed
    expect(() => new EpollWaiter([map.fd.value, map.fd.value])).to.throw(BpfError, /EEXIST/);
    expect(resources()).to.deep.equal(before);
    // and two different maps still make one reader
    const rb = track(new RingBuffer([map, other]));
    expect(rb.pending()).to.deep.equal([0, 0]);
  });

  it('a read-only or write-only fd of the map is refused saying so (it failed as a bare EACCES from mmap)', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_mode' }));
    const id = mapInfo(map.fd.value).id;
    const before = resources();
    for (const [flag, words] of [[1 << 3, 'read-only \\(BPF_F_RDONLY\\)'], [1 << 4, 'write-only \\(BPF_F_WRONLY\\)']] as const) {
      const fd = getFdById('map', id, flag); // as BpfMap.fromPin(path, { readOnly: true }) opens it
      try {
        expect(() => new RingBuffer(fd)).to.throw(ReaderArgumentError, new RegExp(`^RingBuffer: map rb_mode \\(id ${id}\\) is open ${words}; RingBuffer needs it read-write \\(it maps the records and stores the consumer position\\): open it without readOnly/writeOnly$`));
      } finally {
        fd.close();
      }
    }
    expect(resources()).to.deep.equal(before);
    track(new RingBuffer(map));
  });

  it('a program fd given as the map is refused by kind, even with a shape that says ringbuf', () => {
    const map = track(BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rb_kind' }));
    const prog = track(ringbufProducer(map.fd.value));
    // OBJ_GET_INFO_BY_FD answers for a program too: read as a map_info it looked like a prog_array
    expect(() => new RingBuffer(prog)).to.throw(ReaderArgumentError, new RegExp(`^RingBuffer: the map argument \\(fd ${prog.value}\\) is a bpf prog, not a map$`));
    // a shape given with the fd is not trusted (it mapped the pages of whatever the fd was)
    expect(() => new RingBuffer({ fd: prog, type: BPF_MAP_TYPE.RINGBUF, maxEntries: pageSize() })).to.throw(ReaderArgumentError, /is a bpf prog, not a map/);
    // nor a size: a wrong one mmap'd the wrong number of pages (EINVAL)
    const rb = track(new RingBuffer({ fd: map.fd, type: BPF_MAP_TYPE.RINGBUF, maxEntries: 2 * pageSize() }));
    produce(prog, [51]);
    expect(rb.consume((rec) => expect(decode(rec)).to.equal(51))).to.equal(1);
  });
});
