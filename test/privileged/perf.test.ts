// PerfEventArray against the kernel: a hand-assembled program calls bpf_perf_event_output with
// [skb->len, ~skb->len] on the current CPU; every sample arrives once with its bytes, and samples
// dropped on a full buffer are counted (received + lost = produced).
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { waitFor } from '../helpers/netns.js';
import { BpfMap } from '../../lib/map/index.js';
import { progTestRun, BPF_MAP_TYPE, getFdById, mapInfo } from '../../lib/syscall/index.js';
import { perfProducer } from '../helpers/producers.js';
import { PerfEventArray } from '../../lib/perf/index.js';
import { ReaderArgumentError, ReaderBusyError } from '../../lib/ringbuf/errors.js';
import { readWhileProducing } from '../helpers/steady-producer.js';
import { expectForgottenReaderReleased, runReaderChild } from '../helpers/reader-child.js';
import { compileBpf } from '../helpers/compile-bpf.js';
import { loadObject } from '../../lib/object/index.js';

/** bpf_perf_event_output of cfg.size bytes of src (cfg.seq in the first 4) on the current CPU. */
const SIZED_SOURCE = `#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#define MAX 4096
struct cfg { __u32 size; __u32 seq; };
struct src { __u8 data[MAX]; };
struct { __uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY); __uint(key_size, 4); __uint(value_size, 4); } samples SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct cfg); } cfg SEC(".maps");
struct { __uint(type, BPF_MAP_TYPE_ARRAY); __uint(max_entries, 1); __type(key, __u32); __type(value, struct src); } src SEC(".maps");
SEC("tc") int sized(struct __sk_buff *skb) {
	__u32 k = 0;
	struct cfg *c = bpf_map_lookup_elem(&cfg, &k);
	struct src *b = bpf_map_lookup_elem(&src, &k);
	if (!c || !b) return 3;
	__u32 size = c->size;
	if (size < 4 || size > MAX) return 3;
	*(__u32 *)b->data = c->seq;
	return bpf_perf_event_output(skb, &samples, BPF_F_CURRENT_CPU, b->data, size) ? 2 : 0;
}
char LICENSE[] SEC("license") = "GPL";
`;

function decode(d: Uint8Array): number {
  // raw samples are padded so that size + 4 is a multiple of 8: 16 bytes come back as 20
  expect(d.length).to.equal(20);
  const v = new DataView(d.buffer, d.byteOffset, 16);
  expect(v.getBigUint64(8, true)).to.equal(BigInt.asUintN(64, ~v.getBigUint64(0, true)));
  return Number(v.getBigUint64(0, true));
}

describe('PerfEventArray (BPF_MAP_TYPE_PERF_EVENT_ARRAY)', function () {
  this.timeout(20000);
  const open: { close(): void }[] = [];
  before(function () { requirePrivileged(this); });
  afterEach(() => { for (const x of open.splice(0).reverse()) x.close(); });

  const setup = (pages?: number) => {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'perf_t' });
    open.push(map);
    const prog = perfProducer(map.fd.value);
    open.push(prog);
    const pe = new PerfEventArray(map, { pages });
    open.push(pe);
    return { map, prog, pe };
  };

  it('delivers each sample once, in order, with its CPU and bytes', async () => {
    const { prog, pe } = setup();
    expect(pe.cpus.length).to.be.at.least(1);
    const got: number[] = [];
    const perCpu = new Map<number, number[]>();
    const lens = Array.from({ length: 50 }, (_, i) => 64 + i);
    for (const l of lens) progTestRun(prog.value, { data: new Uint8Array(l) });
    pe.consume((d, cpu) => {
      expect(pe.cpus).to.include(cpu);
      const l = decode(d);
      got.push(l);
      perCpu.set(cpu, [...(perCpu.get(cpu) ?? []), l]);
    });
    for (const seq of perCpu.values()) expect(seq).to.deep.equal([...seq].sort((a, b) => a - b));
    // test runs may hop CPUs between runs: order holds per CPU, all arrive exactly once
    expect([...got].sort((a, b) => a - b)).to.deep.equal(lens);
    expect(pe.consume(() => expect.fail('twice'))).to.equal(0);
    expect(pe.lost).to.equal(0);
  });

  it('samples of every size a one-page buffer takes, straddling its end (copied whole), each once with its bytes', function () {
    this.timeout(120000);
    const built = compileBpf(SIZED_SOURCE, 'perfsized');
    const mask = execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }).trim().split(' ').pop()!;
    let obj: ReturnType<typeof loadObject> | undefined;
    try {
      obj = loadObject(built.file);
      const pe = new PerfEventArray(obj.maps.get('samples')!, { pages: 1 });
      open.push(pe);
      // one CPU's buffer, so that its samples come in the order they were made
      execFileSync('taskset', ['-p', '-c', String(pe.cpus[0]), String(process.pid)], { stdio: 'pipe' });
      const k0 = new Uint8Array(4);
      const pattern = Uint8Array.from({ length: 4096 }, (_, i) => (i * 7 + 3) & 0xff);
      obj.maps.get('src')!.update(k0, pattern);
      const cfg = obj.maps.get('cfg')!;
      const prog = obj.programs.get('sized')!.fd.value;
      const c = new DataView(new ArrayBuffer(8));
      const run = (size: number, seq: number) => {
        c.setUint32(0, size, true); c.setUint32(4, seq, true);
        cfg.update(k0, new Uint8Array(c.buffer));
        return progTestRun(prog, { data: new Uint8Array(64) }).retval;
      };
      const want: [number, number][] = [];
      let got = 0;
      const bad: string[] = [];
      const check = (d: Uint8Array) => {
        const [seq, size] = want[got++] ?? [0, -1];
        // the raw data is padded so that it and its u32 size end on 8 bytes
        if (d.length !== ((size + 4 + 7) & ~7) - 4) { bad.push(`sample ${got}: ${d.length} bytes for ${size}`); return; }
        for (let i = 0; i < size; i++) {
          const b = i < 4 ? (seq >>> (8 * i)) & 0xff : pattern[i];
          if (d[i] !== b) { bad.push(`sample ${got} (${size} bytes): byte ${i} is ${d[i]}, not ${b}`); return; }
        }
      };
      // a sample is an 8-byte header, the u32 size and the padded data: 4076 bytes fill the page
      const max = 4096 - 20;
      let seq = 0;
      for (let size = 4; size <= max; size++) {
        expect(run(size, ++seq), `size ${size}`).to.equal(0);
        want.push([seq, size]);
        // big ones one at a time; small ones a few together, so that they end anywhere in the page
        if (size > 1000 || size % 3 === 0) pe.consume(check);
      }
      pe.consume(check);
      expect(bad.slice(0, 5)).to.deep.equal([]);
      expect(got).to.equal(want.length);
      expect(pe.lost).to.equal(0);
      expect(run(max + 1, ++seq)).to.equal(2); // the kernel cannot place it: one lost sample
    } finally {
      execFileSync('taskset', ['-p', mask, String(process.pid)], { stdio: 'pipe' });
      for (const x of open.splice(0).reverse()) x.close();
      obj?.close();
      built.cleanup();
    }
  });

  it('async iterator wakes up for samples and close() ends it', async () => {
    const { prog, pe } = setup();
    const got: number[] = [];
    let ended = false;
    const reading = (async () => { for await (const r of pe) got.push(decode(r.data)); ended = true; })();
    await new Promise((r) => setTimeout(r, 30));
    for (const l of [100, 101, 102]) progTestRun(prog.value, { data: new Uint8Array(l) });
    await waitFor(() => got.length, (n) => n >= 3, 5000);
    expect(got.sort()).to.deep.equal([100, 101, 102]);
    pe.close();
    await reading;
    expect(ended).to.equal(true);
  });

  it('counts samples lost on a full buffer: received + lost = produced', async () => {
    const { prog, pe } = setup(1);
    // keep this thread's test runs on one CPU, whose buffer then overflows and later reports the loss
    const mask = execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }).trim().split(' ').pop()!;
    execFileSync('taskset', ['-p', '-c', String(pe.cpus[0]), String(process.pid)], { stdio: 'pipe' });
    try {
      let received = 0;
      const lostEvents: number[] = [];
      pe.on('lost', (n: number) => lostEvents.push(n));
      const produced = 400; // 32 bytes each: one 4 KiB page holds ~128
      for (let i = 0; i < produced; i++) progTestRun(prog.value, { data: new Uint8Array(64) });
      received += pe.consume((d) => { decode(d); });
      // the kernel writes the LOST record at the CPU's next sample once there is room again
      let extra = 0;
      while (received + pe.lost < produced + extra && extra < 200) {
        progTestRun(prog.value, { data: new Uint8Array(64) });
        extra++;
        received += pe.consume((d) => { decode(d); });
      }
      expect(pe.lost).to.be.greaterThan(0);
      expect(lostEvents.reduce((a, b) => a + b, 0)).to.equal(pe.lost);
      expect(received + pe.lost).to.equal(produced + extra);
    } finally {
      execFileSync('taskset', ['-p', mask, String(process.pid)], { stdio: 'pipe' });
    }
  });

  it('wakeupEvents / watermark: a waiting reader is woken after that many samples or bytes; values that do not fit are typed errors', () => {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'perf_wake' });
    open.push(map);
    const prog = perfProducer(map.fd.value);
    open.push(prog);
    for (const bad of [{ wakeupEvents: -1 }, { wakeupEvents: 1.5 }, { wakeupEvents: 0 }, { wakeupEvents: 2 ** 32 }, { watermark: Number.NaN }, { wakeupEvents: '2' as unknown as number }]) {
      // -1 became 0xffffffff in the attr: a reader that was never woken
      expect(() => new PerfEventArray(map, bad), JSON.stringify(bad)).to.throw(ReaderArgumentError, /(wakeupEvents|watermark) must be an integer from 1 to 4294967295, got /);
    }
    expect(() => new PerfEventArray(map, { wakeupEvents: 2, watermark: 64 })).to.throw(ReaderArgumentError, /one setting/);
    const mask = execFileSync('taskset', ['-p', String(process.pid)], { encoding: 'utf8' }).trim().split(' ').pop()!;
    try {
      for (const o of [{ wakeupEvents: 3 }, { watermark: 64 }, {}]) {
        const pe = new PerfEventArray(map, o);
        open.push(pe);
        execFileSync('taskset', ['-p', '-c', String(pe.cpus[0]), String(process.pid)], { stdio: 'pipe' });
        // is the reader's epoll set ready right now (what ends a wait)? 32 bytes a sample here
        const waiter = (pe as unknown as { waiter: { poll(): number } }).waiter;
        const ready: number[] = [];
        for (let i = 0; i < 4; i++) {
          progTestRun(prog.value, { data: new Uint8Array(70) });
          ready.push(waiter.poll());
        }
        expect(ready, JSON.stringify(o)).to.deep.equal(o.wakeupEvents || o.watermark ? [0, 0, 1, 0] : [1, 1, 1, 1]);
        expect(pe.consume((d) => { decode(d); })).to.equal(4);
        pe.close();
      }
    } finally {
      execFileSync('taskset', ['-p', mask, String(process.pid)], { stdio: 'pipe' });
    }
  });

  it('close() from inside a callback stops after that sample', () => {
    const { prog, pe } = setup();
    for (const l of [70, 71, 72]) progTestRun(prog.value, { data: new Uint8Array(l) });
    let seen = 0;
    expect(pe.consume(() => { seen++; pe.close(); })).to.equal(1);
    expect(seen).to.equal(1);
    expect(pe.closed).to.equal(true);
    expect(pe.consume(() => expect.fail('closed'))).to.equal(0);
  });

  for (const how of ['events', 'iterator'] as const) {
    it(`a producer faster than the reader does not hold the event loop (${how === 'events' ? "'record' events" : 'the async iterator'})`, async () => {
      const { prog, pe } = setup(64);
      // test runs of bpf_perf_event_output take ~15 µs each here (a wakeup per sample): 40 µs per
      // record keeps the reader the slower side
      const r = await readWhileProducing(pe, how, prog.value, 40);
      expect(r.producerRunning, 'the producer was still running at the end').to.equal(true);
      expect(r.ticks).to.equal(60);
      expect(r.records).to.be.greaterThan(200);
      expect(r.gapMs).to.be.below(1000);
    });
  }

  it('close() after the caller closed the map leaves alone the map that reused its fd number', () => {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'perf_reuse' });
    open.push(map);
    const pe = new PerfEventArray(map);
    open.push(pe);
    const fdNumber = map.fd.value;
    map.close();
    // the lowest free fd number: the one the perf map had
    const victim = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 64, name: 'perf_victim' });
    open.push(victim);
    expect(victim.fd.value).to.equal(fdNumber);
    const key = (n: number) => new Uint8Array(new Uint32Array([n]).buffer);
    for (let i = 0; i < 8; i++) victim.update(key(i), key(100 + i));
    pe.close();
    let left = 0;
    for (const _ of victim.keys()) left++;
    expect(left).to.equal(8);
  });

  it('consume() from inside a callback is a typed error; each sample still arrives once', () => {
    const { prog, pe } = setup();
    const lens = [80, 81, 82, 83, 84];
    for (const l of lens) progTestRun(prog.value, { data: new Uint8Array(l) });
    const got: number[] = [];
    expect(() => pe.consume((d) => {
      got.push(decode(d));
      pe.consume(() => expect.fail('nested'));
    })).to.throw(ReaderBusyError, /PerfEventArray: consume\(\) while a record is being processed/);
    pe.consume((d) => got.push(decode(d)));
    expect(got.sort((a, b) => a - b)).to.deep.equal(lens);
  });

  it("a throwing 'record' listener: the error goes to 'error', delivery goes on", async () => {
    const { prog, pe } = setup();
    const got: number[] = [];
    const errors: string[] = [];
    pe.on('error', (e: Error) => errors.push(e.message));
    pe.on('record', (d: Uint8Array) => {
      const v = decode(d);
      got.push(v);
      if (v === 91) throw new Error('bad 91');
    });
    for (const l of [90, 91, 92]) progTestRun(prog.value, { data: new Uint8Array(l) });
    await waitFor(() => got.length, (n) => n >= 3, 5000);
    progTestRun(prog.value, { data: new Uint8Array(93) });
    await waitFor(() => got.length, (n) => n >= 4, 5000);
    expect(got.sort((a, b) => a - b)).to.deep.equal([90, 91, 92, 93]);
    expect(errors).to.deep.equal(['bad 91']);
  });

  it('a sample view kept past close() reads zeros instead of faulting (in a child process)', async () => {
    const r = await runReaderChild('perf-view-after-close');
    expect(r.signal, r.stderr).to.equal(null);
    expect(r.code, r.stderr).to.equal(0);
    const out = r.out as { before: number[]; after: number[]; mappedBefore: number; mappedAfter: number };
    expect(out.before).to.deep.equal([77, 0, 0, 0, 0, 0, 0, 0]);
    expect(out.after).to.deep.equal([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(out.mappedBefore).to.be.greaterThan(0);
    expect(out.mappedAfter).to.equal(0);
  });

  it("removing the last 'record' listener lets the process exit (in a child process)", async () => {
    // nothing is closed: an idle reader must not hold the process (before, the loop's wait did)
    const r = await runReaderChild('perf-exit-after-off', 10000);
    expect(r.timedOut, 'the child did not exit by itself within 10 s').to.equal(false);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.out).to.deep.equal({ removed: true });
  });

  it("a once('record') listener gone with its record lets the process exit (in a child process)", async () => {
    // the loop went on to wait after the round in which its last listener went, and nothing ended
    // that wait: the process ran on until the next record
    const r = await runReaderChild('perf-exit-after-once', 10000);
    expect(r.timedOut, 'the child did not exit by itself within 10 s').to.equal(false);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.out).to.deep.equal({ record: 77 });
  });

  it('a reader dropped without close() releases what it held once collected, and not while a wait or a \'record\' listener still uses it (in a child process with --expose-gc)', async function () {
    this.timeout(90000);
    // before, the fds closed themselves (Fd's own safety net) but each CPU's mapping stayed for good,
    // its perf event alive with it (and in the map's slot, filled on by the program); once a wait
    // had started, the waiter's worker thread lived on too, with its event loop's fds, the epoll fd
    // and the eventfd
    await expectForgottenReaderReleased('perf', {
      heldMappings: (n, step) => expect(n, step).to.be.greaterThan(0),
      afterPendingWait: [[], 'the sample that woke it went with that reader\'s buffer; the map is free again'],
      afterDroppedNext: [[], 'the sample went with that reader\'s buffer; the map is free again'],
    });
  });

  it('close() while an async iterator holds a sample releases the buffers at once', async () => {
    const { prog, pe } = setup();
    const mapped = () => readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('perf_event')).length;
    expect(mapped()).to.equal(pe.cpus.length);
    progTestRun(prog.value, { data: new Uint8Array(85) });
    const it = pe[Symbol.asyncIterator]();
    const first = await it.next();
    expect(decode((first.value as { data: Uint8Array }).data)).to.equal(85);
    pe.close();
    expect(mapped()).to.equal(0);
    expect(await it.return!(undefined)).to.deep.equal({ value: undefined, done: true });
  });

  it('a map another PerfEventArray of this process reads is refused (it took over the CPU slots, and its close() emptied them)', () => {
    const { map, prog, pe } = setup();
    const already = /^PerfEventArray: map perf_t \(id \d+\) is already read by another PerfEventArray of this process; a buffer has one consumer \(close that reader first\)$/;
    expect(() => new PerfEventArray(map)).to.throw(ReaderArgumentError, already);
    // the first reader still gets every sample
    const lens = [110, 111, 112, 113, 114];
    for (const l of lens) progTestRun(prog.value, { data: new Uint8Array(l) });
    const got: number[] = [];
    pe.consume((d) => got.push(decode(d)));
    expect(got.sort((a, b) => a - b)).to.deep.equal(lens);
    // and once it is closed the map can be read again
    pe.close();
    const next = new PerfEventArray(map);
    open.push(next);
    progTestRun(prog.value, { data: new Uint8Array(115) });
    const later: number[] = [];
    next.consume((d) => later.push(decode(d)));
    expect(later).to.deep.equal([115]);
  });

  it('a read-only fd of the map is refused saying so (it failed as a bare EPERM from the slot update)', () => {
    const map = BpfMap.create({ type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 64, name: 'perf_mode' });
    open.push(map);
    const id = mapInfo(map.fd.value).id;
    const fd = getFdById('map', id, 1 << 3); // BPF_F_RDONLY, as BpfMap.fromPin(path, { readOnly: true })
    open.push(fd);
    expect(() => new PerfEventArray(fd)).to.throw(ReaderArgumentError, new RegExp(`^PerfEventArray: map perf_mode \\(id ${id}\\) is open read-only \\(BPF_F_RDONLY\\); PerfEventArray needs it read-write \\(it stores a buffer fd for each CPU in it\\): open it without readOnly/writeOnly$`));
    expect(readFileSync('/proc/self/maps', 'utf8')).to.not.include('perf_event');
  });

  it('rejects a map of the wrong type', () => {
    const rb = BpfMap.create({ type: 'ringbuf', maxEntries: 4096, name: 'perf_wrong' });
    open.push(rb);
    expect(() => new PerfEventArray(rb)).to.throw(ReaderArgumentError, /ringbuf map, not a perf_event_array/);
  });

  it('a program fd given as the map is refused by kind (it read as a prog_array map before)', () => {
    const { prog } = setup();
    expect(() => new PerfEventArray(prog)).to.throw(ReaderArgumentError, new RegExp(`^PerfEventArray: the map argument \\(fd ${prog.value}\\) is a bpf prog, not a map$`));
    expect(() => new PerfEventArray({ fd: prog, type: BPF_MAP_TYPE.PERF_EVENT_ARRAY, maxEntries: 64 })).to.throw(ReaderArgumentError, /is a bpf prog, not a map/);
  });
});
