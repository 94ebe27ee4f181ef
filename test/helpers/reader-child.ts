// Reader scenarios that can only be judged from outside the process: a stale view that would be a
// SIGSEGV, a process that should exit by itself. runReaderChild() runs this file in a child Node
// (with tsx) and reports its exit and its stdout (one JSON line); the child cleans up after itself
// by exiting (maps and programs are fds, nothing is pinned).
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readdirSync, readFileSync, readlinkSync, writeFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BpfMap } from '../../lib/map/index.js';
import { progTestRun, pageSize, type Fd } from '../../lib/syscall/index.js';
import { RingBuffer } from '../../lib/ringbuf/index.js';
import { PerfEventArray } from '../../lib/perf/index.js';
import { TracePipe, tracefsDir } from '../../lib/tracepipe/index.js';
import { ringbufProducer, perfProducer } from './producers.js';

export interface ChildResult { code: number | null; signal: NodeJS.Signals | null; out: Record<string, unknown> | undefined; stderr: string; timedOut: boolean }

/**
 * Run `mode` in a child process, killed after `deadlineMs`; `wrapper` is a command that runs the node
 * command it is given; `nodeFlags` go to that node (e.g. --expose-gc).
 */
export function runReaderChild(mode: string, deadlineMs = 20000, wrapper: string[] = [], nodeFlags: string[] = []): Promise<ChildResult> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const argv = [...wrapper, process.execPath, ...nodeFlags, '--import', 'tsx', file, mode];
    const child = spawn(argv[0], argv.slice(1), { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    child.stdout.on('data', (d) => { stdout += d; });
    child.stderr.on('data', (d) => { stderr += d; });
    const timer = setTimeout(() => { timedOut = true; child.kill('SIGKILL'); }, deadlineMs);
    child.on('exit', (code, signal) => {
      clearTimeout(timer);
      const line = stdout.split('\n').filter((l) => l.startsWith('{')).pop();
      resolve({ code, signal, out: line ? JSON.parse(line) as Record<string, unknown> : undefined, stderr, timedOut });
    });
  });
}

/**
 * Runs the '<kind>-forgotten' scenario (below) and checks what a user relies on: each dropped reader
 * (idle, waited, with a pending wait, with a pending next() of an iterator, with a 'record'
 * listener) held its pages, and left no mapping, fd or thread once collected; a pending wait, a
 * pending next() and a listener went on working; a reader made before the previous one's safety net
 * ran was not emptied by it; the child exited by itself. `heldMappings` checks the pages each reader
 * held; `afterPendingWait` is what the next reader read after the wait of a dropped one, and why;
 * `afterDroppedNext` what it read after a dropped reader whose dropped next() took a record nobody
 * looked at, and why.
 */
export async function expectForgottenReaderReleased(kind: 'ringbuf' | 'perf', o: {
  heldMappings: (n: number, step: string) => void;
  afterPendingWait: [number[], string];
  afterDroppedNext: [number[], string];
}): Promise<void> {
  const r = await runReaderChild(`${kind}-forgotten`, 80000, [], ['--expose-gc']);
  expect(r.timedOut, 'the child did not exit by itself').to.equal(false);
  expect(r.code, r.stderr).to.equal(0);
  const out = r.out as Record<string, Record<string, unknown>> & { afterPendingWait: number[]; afterDroppedNext: number[]; replaced: unknown };
  const steps = ['idle', 'waited', 'pendingWait', 'pendingNext', 'droppedNext', 'listener'];
  const left: Record<string, unknown> = {};
  for (const name of steps) {
    const step = out[name] as { heldMappings: number; leftMappings: number; leftFds: string[]; leftThreads: number };
    o.heldMappings(step.heldMappings, name);
    left[name] = { mappings: step.leftMappings, fds: step.leftFds, threads: step.leftThreads };
  }
  // left behind once collected (mappings of the map or the perf events, fds, threads)
  expect(left).to.deep.equal(Object.fromEntries(steps.map((n) => [n, { mappings: 0, fds: [], threads: 0 }])));
  expect(out.waited.run).to.deep.equal({ woke: true, got: [81] });
  expect(out.waited.heldThreads, 'the wait started the worker thread').to.be.greaterThan(0);
  // a pending wait whose caller kept only the promise: the reader stays (mapped, its thread up)
  // and the wait is woken by the record, not ended as if closed
  expect(out.pendingWait.keptWhilePending).to.equal(out.pendingWait.heldMappings);
  expect(out.pendingWait.threadsWhilePending).to.be.greaterThan(0);
  expect(out.pendingWait.resolvedBeforeRecord).to.equal(null);
  expect(out.pendingWait.resolved).to.equal(true);
  expect(out.afterPendingWait, o.afterPendingWait[1]).to.deep.equal(o.afterPendingWait[0]);
  // the same for an iterator's pending next() whose caller kept only the promise: it gets the record
  expect(out.pendingNext.keptWhilePending).to.equal(out.pendingNext.heldMappings);
  expect(out.pendingNext.resolvedBeforeRecord).to.equal(null);
  expect(out.pendingNext.resolved).to.equal(86);
  // a next() nobody kept took a record and was collected with its reader: nobody looked at it
  expect(out.afterDroppedNext, o.afterDroppedNext[1]).to.deep.equal(o.afterDroppedNext[0]);
  // a 'record' listener on a dropped reader still gets records, until it goes
  expect(out.listener.keptWhileListening).to.equal(out.listener.heldMappings);
  expect(out.listener.records).to.deep.equal([89, 93]);
  // a reader made after its predecessor was collected, before that one's safety net ran: not emptied by it
  expect(out.replaced).to.deep.equal([97]);
  // and the child exited by itself with a dropped reader whose waiter thread was up
  expect(out.last).to.deep.equal({ woke: true, got: [101] });
}

/** lines of /proc/self/maps that are bpf map or perf event mappings */
const kernelMappings = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /bpf-map|perf_event/.test(l)).length;

/**
 * One record through the reader's only 'record' listener, which then goes (nothing closed). The record
 * is produced once the loop waits, so it comes through the waiter thread: that thread is then up, and
 * back waiting when the listener goes (a thread Node must be able to stop at exit). Perf's poll
 * reports a wakeup only once, so the wait after the sample really blocks.
 */
async function removeListenerWhileWaiting(reader: RingBuffer | PerfEventArray, prog: Fd): Promise<{ removed: true }> {
  await new Promise<void>((resolve) => {
    const h = () => setImmediate(() => { reader.off('record', h); resolve(); });
    reader.on('record', h);
    setImmediate(() => progTestRun(prog.value, { data: new Uint8Array(77) }));
  });
  return { removed: true };
}

/** this process's fds (number → what), its bpf map and perf event mappings, its threads */
function footprint(): { fds: string[]; mappings: string[]; threads: number } {
  const fds = readdirSync('/proc/self/fd').map((f) => { try { return `${f} ${readlinkSync(`/proc/self/fd/${f}`)}`; } catch { return f; } }).sort();
  const mappings = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => /bpf-map|perf_event/.test(l));
  return { fds, mappings, threads: readdirSync('/proc/self/task').length };
}

const sameFootprint = (a: ReturnType<typeof footprint>, b: ReturnType<typeof footprint>) => JSON.stringify(a) === JSON.stringify(b);

/**
 * A reader dropped without close(), in a child run with --expose-gc: what it holds (mappings, fds,
 * the waiter's worker thread with its epoll fd and eventfd) must go once it is collected, and only
 * then: a dropped reader with a pending wait or a 'record' listener is still in use and must go on
 * working. Each step reports whether the footprint came back to the one of a reader closed by hand.
 */
async function forgottenReader(kind: 'ringbuf' | 'perf'): Promise<Record<string, unknown>> {
  const gc = (globalThis as { gc?: () => void }).gc;
  if (!gc) throw new Error('reader-child: run with --expose-gc');
  const map = kind === 'ringbuf'
    ? BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rc_forgot' })
    : BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'rc_pforgot' });
  const prog = kind === 'ringbuf' ? ringbufProducer(map.fd.value) : perfProducer(map.fd.value);
  const make = (): RingBuffer | PerfEventArray => (kind === 'ringbuf' ? new RingBuffer(map) : new PerfEventArray(map));
  // the producer's record has skb->len in its first byte (an Ethernet header at least; 4n + 1
  // lengths are never discarded by the ring buffer producer)
  const produce = (len: number) => progTestRun(prog.value, { data: new Uint8Array(len) });
  const drain = (r: RingBuffer | PerfEventArray) => { const got: number[] = []; (r.consume as (cb: (d: Uint8Array) => void) => number)((d) => got.push(d[0])); return got; };
  const turn = () => new Promise((r) => setTimeout(r, 20));
  /** collect garbage until `ok` (bounded), the footprint then */
  const collectUntil = async (ok: (f: ReturnType<typeof footprint>) => boolean, ms = 5000) => {
    const deadline = Date.now() + ms;
    let f = footprint();
    while (!ok(f) && Date.now() < deadline) { gc(); await turn(); f = footprint(); }
    return f;
  };
  /** collect garbage for `ms`, then the footprint (what is still held after that) */
  const collectFor = async (ms: number) => { for (const end = Date.now() + ms; Date.now() < end;) { gc(); await turn(); } return footprint(); };
  /** a reader that waited (a record wakes it: the waiter's thread is up), its records consumed */
  const waited = async (r: RingBuffer | PerfEventArray, len: number) => {
    const woke = r.wait();
    setImmediate(() => produce(len));
    return { woke: await woke, got: drain(r) };
  };

  // the footprint of a reader used and closed by hand (the first worker thread may load what stays)
  const warm = make();
  const warmRun = await waited(warm, 77);
  warm.close();
  await collectFor(200);
  const base = footprint();
  const out: Record<string, unknown> = { warm: warmRun };
  const step = async (name: string, held: ReturnType<typeof footprint>, extra: Record<string, unknown> = {}) => {
    const after = await collectUntil((f) => sameFootprint(f, base));
    out[name] = {
      ...extra,
      // what the reader held beyond the base while it was alive
      heldMappings: held.mappings.length - base.mappings.length, heldFds: held.fds.length - base.fds.length, heldThreads: held.threads - base.threads,
      // what is left once it is collected
      leftMappings: after.mappings.length - base.mappings.length, leftFds: after.fds.filter((f) => !base.fds.includes(f)), leftThreads: after.threads - base.threads,
    };
  };

  // 1. never waited: mappings (and fds) only
  let held = (() => { make(); return footprint(); })();
  await step('idle', held);

  // 2. waited once: the waiter's worker thread is up (idle again); the reader is dropped
  let run: unknown;
  held = await (async () => { const r = make(); run = await waited(r, 81); return footprint(); })();
  await step('waited', held, { run });

  // 3. a pending wait, the caller keeping only its promise: the reader is in use until it resolves
  let resolved: boolean | undefined;
  held = (() => { make().wait().then((v) => { resolved = v; }, (e: unknown) => { resolved = String(e) as unknown as boolean; }); return footprint(); })();
  const whilePending = await collectFor(300);
  const early = resolved ?? null;
  produce(85);
  await collectUntil(() => resolved !== undefined, 3000);
  await step('pendingWait', held, {
    keptWhilePending: whilePending.mappings.length - base.mappings.length, threadsWhilePending: whilePending.threads - base.threads,
    resolvedBeforeRecord: early, resolved,
  });
  // the record the wait was woken by is still in a ring buffer: a reader made now takes it (the map is free again)
  const again = make();
  out.afterPendingWait = drain(again);
  again.close();
  await collectUntil((f) => sameFootprint(f, base));

  // 3b. an iterator's pending next(), the caller keeping only its promise (and looking at the record as it comes)
  let nextGot: number | string | undefined;
  held = (() => {
    const it = (make() as AsyncIterable<Uint8Array | { data: Uint8Array }>)[Symbol.asyncIterator]();
    it.next().then((r) => { nextGot = r.done ? 'done' : ('data' in r.value ? r.value.data : r.value)[0]; }, (e: unknown) => { nextGot = String(e); });
    return footprint();
  })();
  const whileNext = await collectFor(300);
  const earlyNext = nextGot ?? null;
  produce(86);
  await collectUntil(() => nextGot !== undefined, 3000);
  await step('pendingNext', held, { keptWhilePending: whileNext.mappings.length - base.mappings.length, resolvedBeforeRecord: earlyNext, resolved: nextGot });

  // 3c. an iterator's next() nobody keeps: it takes the record that comes, which nobody looks at, and
  // the reader is collected
  held = (() => { void (make() as AsyncIterable<unknown>)[Symbol.asyncIterator]().next(); return footprint(); })();
  await collectFor(300);
  produce(87);
  await step('droppedNext', held);
  const after = make();
  out.afterDroppedNext = drain(after);
  after.close();
  await collectUntil((f) => sameFootprint(f, base));

  // 4. a 'record' listener on a dropped reader: records still come, until the listener goes
  const records: number[] = [];
  held = (() => {
    const r = make();
    r.on('record', function listener(this: RingBuffer | PerfEventArray, d: Uint8Array) {
      records.push(d[0]);
      if (records.length === 2) this.off('record', listener);
    });
    return footprint();
  })();
  const whileListening = await collectFor(300);
  produce(89);
  await collectUntil(() => records.length === 1, 3000);
  await collectFor(100);
  produce(93);
  await collectUntil(() => records.length === 2, 3000);
  await step('listener', held, { records: [...records], keptWhileListening: whileListening.mappings.length - base.mappings.length });

  // 5. a reader made right after the one before it was collected, before that one's safety net ran
  // (a task after the collection): it is not emptied under it (perf: its CPU slots)
  (() => { make(); })();
  await turn();
  gc();
  let next: RingBuffer | PerfEventArray | undefined;
  try { next = make(); } catch (e) { out.replaced = String(e); }
  if (next) {
    await collectFor(200);
    produce(97);
    out.replaced = drain(next);
    next.close();
  }
  await collectUntil((f) => sameFootprint(f, base));

  // 6. last, a reader dropped after a wait and not collected: the process must still exit by itself
  await (async () => { const r = make(); out.last = await waited(r, 101); })();
  out.base = { mappings: base.mappings.length, threads: base.threads };
  return out;
}

/**
 * A once('record') listener takes the one record that comes through the waiter thread (produced once
 * the loop waits) and goes with it, nothing closed: the process must exit by itself.
 */
async function onceWhileWaiting(reader: RingBuffer | PerfEventArray, prog: Fd): Promise<{ record: number }> {
  const record = await new Promise<number>((resolve) => {
    reader.once('record', (d: Uint8Array) => resolve(d[0]));
    setImmediate(() => progTestRun(prog.value, { data: new Uint8Array(77) }));
  });
  return { record };
}

const scenarios: Record<string, () => Promise<Record<string, unknown>> | Record<string, unknown>> = {
  /** the only 'record' listener is a once() listener, gone with its record: the process must exit */
  'ringbuf-exit-after-once'() {
    const map = BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rc_once' });
    return onceWhileWaiting(new RingBuffer(map), ringbufProducer(map.fd.value));
  },
  'perf-exit-after-once'() {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'rc_ponce' });
    return onceWhileWaiting(new PerfEventArray(map), perfProducer(map.fd.value));
  },
  /** a reader dropped without close() (run with --expose-gc) */
  'ringbuf-forgotten': () => forgottenReader('ringbuf'),
  'perf-forgotten': () => forgottenReader('perf'),
  /** a record view kept past close() is read (and the kernel's pages are gone) */
  'ringbuf-view-after-close'() {
    const map = BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rc_view' });
    const prog = ringbufProducer(map.fd.value);
    progTestRun(prog.value, { data: new Uint8Array(77) });
    const rb = new RingBuffer(map);
    let kept: Uint8Array | undefined;
    rb.consume((rec) => { kept = rec; });
    const before = [...kept!.subarray(0, 8)];
    const mapped = kernelMappings();
    rb.close();
    return { before, after: [...kept!.subarray(0, 8)], mappedBefore: mapped, mappedAfter: kernelMappings() };
  },
  'perf-view-after-close'() {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'rc_pview' });
    const prog = perfProducer(map.fd.value);
    const pe = new PerfEventArray(map);
    progTestRun(prog.value, { data: new Uint8Array(77) });
    let kept: Uint8Array | undefined;
    pe.consume((d) => { kept = d; });
    const before = [...kept!.subarray(0, 8)];
    const mapped = kernelMappings();
    pe.close();
    return { before, after: [...kept!.subarray(0, 8)], mappedBefore: mapped, mappedAfter: kernelMappings() };
  },
  /** the only 'record' listener is removed while the loop waits (nothing closed): the process must exit */
  'ringbuf-exit-after-off'() {
    const map = BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rc_exit' });
    return removeListenerWhileWaiting(new RingBuffer(map), ringbufProducer(map.fd.value));
  },
  /**
   * close() while a 'record' loop, a wait() and a for await are all waiting (the waiter thread is in
   * epoll_pwait after a first record came through it): every one ends, and the process exits. The
   * for await starts last: a wait() or a 'record' round starting after it would end its next().
   */
  async 'ringbuf-exit-after-close'() {
    const map = BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rc_close' });
    const prog = ringbufProducer(map.fd.value);
    const rb = new RingBuffer(map);
    let records = 0;
    await new Promise<void>((resolve) => {
      rb.on('record', () => { if (++records === 1) resolve(); });
      setImmediate(() => progTestRun(prog.value, { data: new Uint8Array(77) }));
    });
    const waited = rb.wait();
    let iterated = 0;
    const loop = (async () => { for await (const _ of rb) iterated++; return 'ended'; })();
    await new Promise((r) => setImmediate(r));
    rb.close();
    return { records, iterated, loop: await loop, wait: await waited };
  },
  /**
   * A TracePipe that read and waited (its waiter thread up), dropped without close(): once collected,
   * trace_pipe opens again (the kernel takes one reader) and its fds and thread are gone. Run with
   * --expose-gc.
   */
  async 'tracepipe-forgotten'() {
    const gc = (globalThis as { gc?: () => void }).gc;
    if (!gc) throw new Error('reader-child: run with --expose-gc');
    const marker = `${tracefsDir()}/trace_marker`;
    const closedByHand = new TracePipe();
    closedByHand.close();
    const base = footprint();
    const use = async () => {
      const tp = new TracePipe({ event: null });
      const it = tp[Symbol.asyncIterator]();
      const next = it.next();
      setImmediate(() => writeFileSync(marker, 'tsbpf forgotten tracepipe\n'));
      const first = await next; // a line (woke the waiter thread)
      await it.return?.();
      return { got: !first.done, threads: footprint().threads };
    };
    const used = await use();
    let reopened = false;
    let lastError = '';
    for (const end = Date.now() + 5000; !reopened && Date.now() < end;) {
      gc();
      await new Promise((r) => setTimeout(r, 20));
      try {
        new TracePipe().close();
        reopened = true;
      } catch (e) { lastError = (e as Error).message; }
    }
    // the thread goes asynchronously after its waiter is closed
    let left = footprint();
    for (const end = Date.now() + 3000; !sameFootprint(left, base) && Date.now() < end;) {
      await new Promise((r) => setTimeout(r, 20));
      left = footprint();
    }
    return { used, reopened, lastError, leftFds: left.fds.filter((f) => !base.fds.includes(f)), leftThreads: left.threads - base.threads };
  },
  /** run in a mount namespace without tracefs: tracefsDir() mounts it (there only) */
  'tracefs-mount'() {
    const tracefs = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').filter((l) => / (tracefs|debugfs) /.test(l)).map((l) => l.split(' ')[1]);
    const before = tracefs();
    let refused = '';
    try { tracefsDir({ mount: false }); } catch (e) { refused = `${(e as Error).constructor.name}: ${(e as Error).message}`; }
    const dir = tracefsDir();
    return { before, refused, dir, after: tracefs(), pipe: existsSync(`${dir}/trace_pipe`) };
  },
  'perf-exit-after-off'() {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'rc_pexit' });
    return removeListenerWhileWaiting(new PerfEventArray(map), perfProducer(map.fd.value));
  },
};

if (process.argv[1] && import.meta.url === pathToFileURL(process.argv[1]).href) {
  const mode = process.argv[2];
  const run = scenarios[mode];
  if (!run) throw new Error(`reader-child: unknown mode ${mode}`);
  process.stdout.write(`${JSON.stringify(await run())}\n`);
}
