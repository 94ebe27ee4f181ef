import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { closeSync, constants, mkdtempSync, openSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { parseTraceLine, TracePipe } from '../../lib/tracepipe/index.js';

const HEAD = '            node-4242    [001] b..11 75055.249303: ';

/** A TracePipe over a FIFO, written by the test in the pieces it chooses (as reads of trace_pipe may come). */
function withFifo(run: (tp: TracePipe, write: (text: string | Buffer) => void) => void, o: { event?: string | null } = {}): void {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-tracepipe-'));
  let tp: TracePipe | undefined;
  let w: number | undefined;
  try {
    const fifo = path.join(dir, 'trace_pipe');
    execFileSync('mkfifo', [fifo]);
    tp = new TracePipe({ path: fifo, ...o });
    w = openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK);
    const fd = w;
    run(tp, (text) => { writeSync(fd, typeof text === 'string' ? Buffer.from(text) : text); });
  } finally {
    if (w !== undefined) closeSync(w);
    tp?.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

describe('trace_pipe line parsing', () => {
  it('parses the default format with flags', () => {
    const l = parseTraceLine('          <idle>-0       [001] d.s3.  1234.567890: bpf_trace_printk: hello world: 42');
    expect(l).to.deep.include({ task: '<idle>', pid: 0, cpu: 1, flags: 'd.s3.', timestamp: 1234.56789, event: 'bpf_trace_printk', message: 'hello world: 42' });
  });

  it('tasks with dashes and spaces, the tgid column, no flags column', () => {
    expect(parseTraceLine(' kworker/u4:2-mm-99  (   77) [000] ....  5.000001: bpf_trace_printk: x')).to.deep.include({ task: 'kworker/u4:2-mm', pid: 99, tgid: 77, cpu: 0, flags: '....', message: 'x' });
    expect(parseTraceLine('  my task-1234  [003]  10.5: bpf_trace_printk: y')).to.deep.include({ task: 'my task', pid: 1234, cpu: 3, flags: '', timestamp: 10.5, message: 'y' });
    expect(parseTraceLine('  node-5 (-------) [002] ..... 7.25: sched_switch: prev=a')).to.deep.include({ tgid: undefined, event: 'sched_switch', message: 'prev=a' });
  });

  it('non-record lines give undefined', () => {
    expect(parseTraceLine('CPU:1 [LOST 3 EVENTS]')).to.equal(undefined);
    expect(parseTraceLine('')).to.equal(undefined);
  });
});

describe('TracePipe over a FIFO (the reads trace_pipe gives)', () => {
  it('a message printed with newlines keeps them; the newlines that end it are dropped', () => {
    withFifo((tp, write) => {
      write(`${HEAD}bpf_trace_printk: a\nb:c\n${HEAD}bpf_trace_printk: x: y\n\n${HEAD}bpf_trace_printk: two\n\nz\n`);
      expect(tp.read().map((l) => l.message)).to.deep.equal(['a\nb:c', 'x: y', 'two\n\nz']);
    });
  });

  it("another event's continuation lines are not taken for a record; lost-event lines are counted", () => {
    withFifo((tp, write) => {
      write(`${HEAD}sched_switch: prev=a\nmore of it\n${HEAD}bpf_trace_printk: mine\nCPU:1 [LOST 3 EVENTS]\nCPU:0 [LOST 4 EVENTS]\n`);
      const lines = tp.read();
      expect(lines.map((l) => [l.event, l.message])).to.deep.equal([['bpf_trace_printk', 'mine']]);
      expect(tp.lost).to.equal(7);
    });
  });

  it('a line or a UTF-8 character cut between two reads comes whole', () => {
    withFifo((tp, write) => {
      const line = Buffer.from(`${HEAD}bpf_trace_printk: é€ ok\n`);
      const cut = line.indexOf(Buffer.from('€')) + 1; // inside the 3 bytes of €
      write(line.subarray(0, cut));
      expect(tp.read()).to.deep.equal([]);
      write(line.subarray(cut));
      expect(tp.read().map((l) => l.message)).to.deep.equal(['é€ ok']);
    });
  });
});
