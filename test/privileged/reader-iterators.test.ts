// The async iterators of the three event readers (RingBuffer, PerfEventArray, TracePipe) against the
// kernel, in the ways a caller leaves a next() behind: it loses a Promise.race against a timeout and
// is dropped, return() is called while it waits, the reader is closed while it waits. Records come
// from BPF programs run with BPF_PROG_TEST_RUN (test/helpers/producers.ts), each carrying a tag (the
// ring and perf producers' skb->len, the printk producer's text); every tag must reach exactly one
// consumer, and a next() left behind must never stand in a later consumer's way.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { BpfMap } from '../../lib/map/index.js';
import { progTestRun, pageSize, type Fd } from '../../lib/syscall/index.js';
import { RingBuffer } from '../../lib/ringbuf/index.js';
import { PerfEventArray } from '../../lib/perf/index.js';
import { TracePipe } from '../../lib/tracepipe/index.js';
import { ringbufProducer, perfProducer, printkProducer } from '../helpers/producers.js';
import { settles, within } from '../helpers/race.js';

type Reader = RingBuffer | PerfEventArray | TracePipe;

/** A reader with its producer, as the scenarios use it. */
interface Subject {
  readonly reader: Reader;
  /** one record carrying `tag` */
  produce(tag: number): void;
  /** the tags of what consume() (TracePipe: read()) takes now */
  take(): number[];
  /** the tag of an iterated value; undefined for one not made here (other programs print to trace_pipe too) */
  tagOf(v: unknown): number | undefined;
  /** the same map read again by a new reader (ring buffers: what close() left in the ring) */
  reopen?(): Subject;
  close(): void;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

const DONE = { done: true, value: undefined };

const iterator = (s: Subject) => (s.reader as AsyncIterable<unknown>)[Symbol.asyncIterator]();

/**
 * An iterator's next() that lost a race against a 50 ms timeout, still waiting. One that won with a
 * line another program printed to trace_pipe (nothing of ours is made meanwhile) is given up
 * (return()) and the race run again.
 */
async function waitingNext(s: Subject): Promise<{ it: AsyncIterator<unknown>; pending: Promise<IteratorResult<unknown>> }> {
  for (let tries = 0; ; tries++) {
    const it = iterator(s);
    const pending = it.next();
    const r = await within(pending, 50, 'timeout' as const);
    if (r === 'timeout') return { it, pending };
    expect(r.done === false && s.tagOf(r.value) === undefined && tries < 20, 'a next() with nothing of ours to take').to.equal(true);
    await it.return!();
  }
}

/** tags kept in a record's first byte (skb->len; a multiple of 4 is a discarded ring buffer record) */
function* tags(): Generator<number, number> {
  for (let t = 17; t < 256; t++) if (t % 4 !== 0) yield t;
  throw new Error('out of tags');
}

function ringSubject(map?: BpfMap, prog?: Fd): Subject {
  const m = map ?? BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'ri_ring' });
  const p = prog ?? ringbufProducer(m.fd.value);
  const rb = new RingBuffer(m);
  return {
    reader: rb,
    produce: (tag) => { progTestRun(p.value, { data: new Uint8Array(tag) }); },
    take: () => { const got: number[] = []; rb.consume((r) => got.push(r[0])); return got; },
    tagOf: (v) => (v as Uint8Array)[0],
    reopen: () => { rb.close(); return ringSubject(m, p); },
    close: () => { rb.close(); if (!map) { p.close(); m.close(); } },
  };
}

function perfSubject(): Subject {
  const m = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'ri_perf' });
  const p = perfProducer(m.fd.value);
  const pe = new PerfEventArray(m);
  return {
    reader: pe,
    produce: (tag) => { progTestRun(p.value, { data: new Uint8Array(tag) }); },
    // samples of test runs on different CPUs come CPU by CPU: in the order made
    take: () => { const got: number[] = []; pe.consume((d) => got.push(d[0])); return got.sort((a, b) => a - b); },
    tagOf: (v) => (v as { data: Uint8Array }).data[0],
    close: () => { pe.close(); p.close(); m.close(); },
  };
}

function traceSubject(): Subject {
  const nonce = Math.random().toString(36).slice(2, 6).padEnd(4, 'x');
  const mine = new RegExp(`^ri${nonce}-(\\d+)$`);
  const progs = new Map<number, Fd>();
  const tp = new TracePipe();
  const tagOf = (v: unknown) => { const m = mine.exec((v as { message: string }).message); return m ? Number(m[1]) : undefined; };
  return {
    reader: tp,
    produce: (tag) => {
      let p = progs.get(tag);
      if (!p) progs.set(tag, p = printkProducer(`ri${nonce}-${tag}`));
      progTestRun(p.value, { data: new Uint8Array(64) });
    },
    take: () => tp.read().map(tagOf).filter((t): t is number => t !== undefined),
    tagOf,
    close: () => { tp.close(); for (const p of progs.values()) p.close(); },
  };
}

/** How a newer consumer takes `n` records: each returns their tags. */
type Taker = (s: Subject, n: number) => Promise<number[]>;

const byForAwait: Taker = async (s, n) => {
  const got: number[] = [];
  const loop = (async () => {
    for await (const v of s.reader as AsyncIterable<unknown>) {
      const t = s.tagOf(v);
      if (t !== undefined) got.push(t);
      if (got.length === n) break;
    }
  })();
  expect(await within(loop, 5000, 'late'), `got ${got.join(',')} of ${n}`).to.equal(undefined);
  return got;
};

const takers: Record<string, Taker> = {
  'consume() / read()': async (s) => s.take(),
  'a new for await': byForAwait,
  'wait() and consume()': async (s) => {
    const r = s.reader as RingBuffer | PerfEventArray;
    expect(await within(r.wait(), 5000, 'late')).to.equal(true);
    return s.take();
  },
  "'record' events": async (s, n) => {
    const r = s.reader as RingBuffer | PerfEventArray;
    const got: number[] = [];
    await within(new Promise<void>((resolve, reject) => {
      const onError = (e: unknown) => { r.off('record', onRecord); reject(e); };
      const onRecord = (d: Uint8Array) => {
        got.push(d[0]);
        if (got.length < n) return;
        r.off('record', onRecord);
        r.off('error', onError);
        resolve();
      };
      r.on('error', onError);
      r.on('record', onRecord);
    }), 5000, undefined);
    return got;
  },
};

const subjects: Record<string, { make: () => Subject; takers: string[] }> = {
  RingBuffer: { make: () => ringSubject(), takers: Object.keys(takers) },
  PerfEventArray: { make: perfSubject, takers: Object.keys(takers) },
  TracePipe: { make: traceSubject, takers: ['consume() / read()', 'a new for await'] },
};

for (const [name, { make, takers: kinds }] of Object.entries(subjects)) {
  describe(`${name}: a next() left behind (async iterator)`, function () {
    this.timeout(30000);
    let s!: Subject;
    const tag = tags();

    before(function () { requirePrivileged(this); });
    // a reader of its own for each case, its waiting side up (the waiter's worker thread started:
    // a record came through it)
    beforeEach(async () => {
      s = make();
      const t = tag.next().value;
      const up = byForAwait(s, 1);
      s.produce(t);
      expect(await up).to.deep.equal([t]);
    });
    afterEach(() => s?.close());
    /** at the end of a case: nothing was left over, nothing is delivered twice */
    const nothingLeft = () => expect(s.take(), 'left over').to.deep.equal([]);

    it('dropped after losing a race against a timeout, it is ended by the next consumer, which gets what comes later', async () => {
      const dropped = (await waitingNext(s)).pending;
      expect(s.take()).to.deep.equal([]);
      // before, it went on waiting: it took the next record, and held it for good
      expect(await settles(dropped, 2000), 'the dropped next() ended').to.equal(true);
      expect(await dropped).to.deep.equal(DONE);
      const t = tag.next().value;
      s.produce(t);
      await sleep(200); // a next() still waiting would have been woken by now
      expect(s.take()).to.deep.equal([t]);
      nothingLeft();
    });

    for (const kind of kinds) {
      it(`a record it took before anyone else asked, nobody looking at it, goes to the next consumer (${kind}); its result reads done`, async () => {
        const dropped = (await waitingNext(s)).pending;
        const t = tag.next().value;
        s.produce(t);
        // the dropped next() takes it (nobody else asked for it): the promise settles
        expect(await settles(dropped, 5000), 'the dropped next() took the record').to.equal(true);
        // before, the record was held (ring and perf: every later consumer was ReaderBusyError) or gone (trace_pipe)
        expect(await takers[kind](s, 1)).to.deep.equal([t]);
        expect(await dropped, 'the result nobody looked at in time').to.deep.equal(DONE);
        // and the reader goes on
        const u = tag.next().value;
        s.produce(u);
        expect(s.take()).to.deep.equal([u]);
        nothingLeft();
      });
    }

    it('return() while a next() waits ends both at once, taking nothing', async () => {
      const { it, pending } = await waitingNext(s);
      // before, return() waited behind the pending next(), which waited for a record
      expect(await within(it.return!(), 1000, 'pending')).to.deep.equal(DONE);
      expect(await within(pending, 1000, 'pending')).to.deep.equal(DONE);
      const t = tag.next().value;
      s.produce(t);
      await sleep(200);
      expect(s.take()).to.deep.equal([t]);
      expect(await it.next()).to.deep.equal(DONE);
      nothingLeft();
    });

    it('racing next() against a timeout over and over: each record reaches one consumer once, and none is held', async () => {
      const want: number[] = [];
      const got: number[] = [];
      for (let i = 0; i < 20; i++) {
        const it = iterator(s);
        const t = tag.next().value;
        want.push(t);
        // the record comes before, during or after the race
        if (i % 3 === 0) s.produce(t);
        else if (i % 3 === 1) setTimeout(() => s.produce(t), 5);
        const r = await within(it.next(), 10, 'timeout' as const);
        if (r !== 'timeout') {
          // a won race: the record is the caller's; return() gives it back, the iterator ends
          const v = s.tagOf(r.value);
          if (v !== undefined) got.push(v);
          await it.return!();
        }
        if (i % 3 === 2) s.produce(t);
        if (i % 2 === 0) await sleep(15);
        // the dropped iterator never stands in the way
        got.push(...s.take());
      }
      await sleep(200);
      got.push(...s.take());
      expect(got.sort((a, b) => a - b)).to.deep.equal(want.sort((a, b) => a - b));
      nothingLeft();
    });

    if (name === 'RingBuffer') {
      it('close() while a next() resolved with a record nobody looked at: the record stays in the ring for the next reader', async () => {
        const dropped = (await waitingNext(s)).pending;
        const t = tag.next().value;
        s.produce(t);
        expect(await settles(dropped, 5000)).to.equal(true);
        // before, close() gave it back to the kernel: it was gone
        const closed = s;
        s = s.reopen!();
        expect(s.take()).to.deep.equal([t]);
        expect(await dropped).to.deep.equal(DONE);
        nothingLeft();
        // and the closed reader reads nothing, busy with nothing
        expect(closed.take()).to.deep.equal([]);
        expect(await (closed.reader as RingBuffer).wait()).to.equal(false);
      });
    }

    it('close() while a next() waits: it resolves done, and so does every next() after', async () => {
      const { it, pending } = await waitingNext(s);
      s.reader.close();
      expect(await within(pending, 1000, 'pending')).to.deep.equal(DONE);
      expect(await it.next()).to.deep.equal(DONE);
      expect(await iterator(s).next()).to.deep.equal(DONE);
    });
  });
}
