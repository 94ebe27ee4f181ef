// A producer on another thread, for the reader tests: it runs a BPF program (by fd number: threads
// share the fd table) with BPF_PROG_TEST_RUN in batches until stopped, so records keep coming while
// the main thread reads, as under real traffic. The worker is this same module, registered with
// tsx first (a worker does not inherit tsx's loader hooks on Node 20).
import { Worker, isMainThread, workerData } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { progTestRun } from '../../lib/syscall/index.js';

interface Job { steadyProducer: true; progFd: number; length: number; repeat: number; maxMs: number; calls: number; state: SharedArrayBuffer }

export interface SteadyProducer {
  /** program runs so far (one record each for the ring/perf producers) */
  runs(): number;
  /** false once the thread stopped producing (stop() or maxMs) */
  running(): boolean;
  /** stop and wait (bounded) for the thread to end */
  stop(): Promise<void>;
}

const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((t) => { t.register(); return import(workerData.url); });`;

/**
 * Start running `progFd` on a `length`-byte packet, `repeat` runs per test-run call, until stop()
 * or for `maxMs` at most (so a test whose main thread never gets to call stop() still ends), or
 * after `calls` test-run calls (the first one is always made).
 */
export function startSteadyProducer(progFd: number, o: { length?: number; repeat?: number; maxMs?: number; calls?: number } = {}): SteadyProducer {
  const { length = 65, repeat = 2000, maxMs = 5000, calls = Infinity } = o;
  // [0]: stop flag, [1]: runs, [2]: 1 once the producing loop ended
  const state = new Int32Array(new SharedArrayBuffer(12));
  const tsx = pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs');
  const job: Job = { steadyProducer: true, progFd, length, repeat, maxMs, calls, state: state.buffer as SharedArrayBuffer };
  const w = new Worker(BOOTSTRAP, { eval: true, workerData: { ...job, tsx, url: import.meta.url } });
  let failure: unknown;
  w.on('error', (e) => { failure = e; });
  const exited = new Promise<void>((resolve) => w.once('exit', () => resolve()));
  return {
    runs: () => Atomics.load(state, 1),
    running: () => Atomics.load(state, 2) === 0,
    async stop() {
      Atomics.store(state, 0, 1);
      const timer = new Promise<'timeout'>((resolve) => setTimeout(() => resolve('timeout'), 5000).unref());
      if ((await Promise.race([exited, timer])) === 'timeout') {
        await w.terminate();
        throw new Error('steady producer did not stop within 5 s');
      }
      if (failure) throw failure;
    },
  };
}

/**
 * Watch the event loop with a 5 ms timer until it ticked `ticks` times: the longest gap between two
 * ticks in ms (a loop held by a reader shows up as one long gap). Bounded by `deadlineMs`, checked
 * by each tick and by a timer of its own (both need the loop: a producer with maxMs ends a hold).
 */
export async function longestLoopGap(ticks = 60, deadlineMs = 15000): Promise<{ gapMs: number; ticks: number }> {
  let last = performance.now();
  let gap = 0;
  let n = 0;
  const start = last;
  await new Promise<void>((resolve) => {
    const iv = setInterval(() => {
      const t = performance.now();
      gap = Math.max(gap, t - last);
      last = t;
      if (++n >= ticks || t - start > deadlineMs) {
        clearInterval(iv);
        resolve();
      }
    }, 5);
  });
  return { gapMs: gap, ticks: n };
}

/** What readWhileProducing() saw. */
export interface HoldReport { gapMs: number; ticks: number; records: number; producerRunning: boolean }

/**
 * Read `reader` through 'record' events or an async iterator, spending `perRecordUs` µs on each
 * record (slower than the producer, so the buffer never runs dry), while `progFd` runs on another
 * thread (for 6 s at most); then watch the event loop for 60 ticks of 5 ms. The reader is closed
 * and the producer stopped at the end, also on failure.
 */
export async function readWhileProducing(
  reader: { on(event: 'record', f: () => void): unknown; close(): void } & AsyncIterable<unknown>,
  how: 'events' | 'iterator', progFd: number, perRecordUs: number,
): Promise<HoldReport> {
  let records = 0;
  const slow = () => {
    const until = performance.now() + perRecordUs / 1000;
    while (performance.now() < until);
    records++;
  };
  if (how === 'events') reader.on('record', slow);
  else void (async () => { for await (const _ of reader) slow(); })();
  const producer = startSteadyProducer(progFd, { maxMs: 6000 });
  try {
    const deadline = Date.now() + 5000;
    while (producer.runs() === 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
    // a held loop shows as one gap as long as the producer runs (maxMs ends it)
    const { gapMs, ticks } = await longestLoopGap(60);
    return { gapMs, ticks, records, producerRunning: producer.running() };
  } finally {
    reader.close();
    await producer.stop();
  }
}

if (!isMainThread && (workerData as Job | undefined)?.steadyProducer) {
  const { progFd, length, repeat, maxMs, calls, state } = workerData as Job;
  const st = new Int32Array(state);
  const data = new Uint8Array(length);
  const end = Date.now() + maxMs;
  let made = 0;
  do {
    progTestRun(progFd, { data, repeat });
    Atomics.add(st, 1, repeat);
  } while (++made < calls && Atomics.load(st, 0) === 0 && Date.now() < end);
  Atomics.store(st, 2, 1);
}
