// Reader scenarios that can only be judged from outside the process: a stale view that would be a
// SIGSEGV, a process that should exit by itself. runReaderChild() runs this file in a child Node
// (with tsx) and reports its exit and its stdout (one JSON line); the child cleans up after itself
// by exiting (maps and programs are fds, nothing is pinned).
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { BpfMap } from '../../lib/map/index.js';
import { progTestRun, pageSize, type Fd } from '../../lib/syscall/index.js';
import { RingBuffer } from '../../lib/ringbuf/index.js';
import { PerfEventArray } from '../../lib/perf/index.js';
import { tracefsDir } from '../../lib/tracepipe/index.js';
import { ringbufProducer, perfProducer } from './producers.js';

export interface ChildResult { code: number | null; signal: NodeJS.Signals | null; out: Record<string, unknown> | undefined; stderr: string; timedOut: boolean }

/** Run `mode` in a child process, killed after `deadlineMs`; `wrapper` is a command that runs the node command it is given. */
export function runReaderChild(mode: string, deadlineMs = 20000, wrapper: string[] = []): Promise<ChildResult> {
  const file = fileURLToPath(import.meta.url);
  return new Promise((resolve) => {
    const argv = [...wrapper, process.execPath, '--import', 'tsx', file, mode];
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
   * close() while a for await, a wait() and a 'record' loop are all waiting (the waiter thread is in
   * epoll_pwait after a first record came through it): every one ends, and the process exits.
   */
  async 'ringbuf-exit-after-close'() {
    const map = BpfMap.create({ type: 'ringbuf', maxEntries: pageSize(), name: 'rc_close' });
    const prog = ringbufProducer(map.fd.value);
    const rb = new RingBuffer(map);
    // the record goes to one of the two consumers, whichever looks first
    let records = 0;
    let first: () => void = () => {};
    const firstCame = new Promise<void>((resolve) => { first = resolve; });
    const loop = (async () => { for await (const _ of rb) if (++records === 1) first(); })();
    rb.on('record', () => { if (++records === 1) first(); });
    setImmediate(() => progTestRun(prog.value, { data: new Uint8Array(77) }));
    await firstCame;
    const waited = rb.wait();
    await new Promise((r) => setImmediate(r));
    rb.close();
    await loop;
    return { records, wait: await waited };
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
