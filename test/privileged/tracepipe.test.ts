// TracePipe against the kernel: a hand-assembled program calls bpf_trace_printk with a unique tag;
// the reader (mounting tracefs when needed) yields exactly those lines, and close() ends a wait.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { progTestRun } from '../../lib/syscall/index.js';
import { printkProducer } from '../helpers/producers.js';
import { TracePipe, TracePipeError, tracefsDir } from '../../lib/tracepipe/index.js';
import { runReaderChild } from '../helpers/reader-child.js';

const isMounted = () => readFileSync('/proc/self/mounts', 'utf8').split('\n').some((l) => l.split(' ')[2] === 'tracefs');

describe('TracePipe (bpf_printk output)', function () {
  this.timeout(20000);
  let mountedHere = false;
  const open: { close(): void }[] = [];
  before(function () {
    requirePrivileged(this);
    mountedHere = !isMounted();
  });
  afterEach(() => { for (const x of open.splice(0)) x.close(); });
  after(() => {
    // leave the machine as found; another reader may hold it busy, then it stays
    if (mountedHere && isMounted()) try { execFileSync('umount', ['/sys/kernel/tracing'], { stdio: 'pipe' }); } catch { /* busy */ }
  });

  it('mounts tracefs when needed and yields the program\'s lines with task, pid, cpu, timestamp', async () => {
    expect(tracefsDir()).to.match(/\/tracing$/);
    const tag = `t${Math.random().toString(36).slice(2, 12).padEnd(10, 'x')}`;
    const prog = printkProducer(tag);
    open.push(prog);
    const tp = new TracePipe();
    open.push(tp);
    const before = Number(readFileSync('/proc/uptime', 'utf8').split(' ')[0]);
    setTimeout(() => { for (let i = 0; i < 3; i++) progTestRun(prog.value, { data: new Uint8Array(64) }); }, 30);
    const got = [];
    for await (const line of tp) {
      if (line.message !== tag) continue; // other programs on this machine print too
      got.push(line);
      if (got.length === 3) break;
    }
    expect(got).to.have.length(3);
    for (const l of got) {
      expect(l.pid).to.equal(process.pid);
      expect(l.event).to.equal('bpf_trace_printk');
      expect(l.timestamp).to.be.within(before - 1, before + 60);
      expect(l.cpu).to.be.a('number');
    }
  });

  it('a message printed with a newline and colons comes as one record (its second line was dropped)', async () => {
    const id = Math.random().toString(36).slice(2, 6).padEnd(4, 'x');
    const tag = `n${id}\nb: c`; // 11 characters: printkProducer's most
    const prog = printkProducer(tag);
    open.push(prog);
    const tp = new TracePipe();
    open.push(tp);
    progTestRun(prog.value, { data: new Uint8Array(64) });
    const got = [];
    const deadline = Date.now() + 5000;
    while (got.length === 0 && Date.now() < deadline) {
      got.push(...tp.read().filter((l) => l.message.startsWith(`n${id}`)));
      if (got.length === 0) await new Promise((r) => setTimeout(r, 10));
    }
    expect(got.map((l) => l.message)).to.deep.equal([tag]);
    expect(got[0].pid).to.equal(process.pid);
  });

  it('mounts tracefs where it is not mounted (a private mount namespace without it, in a child process)', async () => {
    // the namespace goes with the child: nothing is left mounted here
    const r = await runReaderChild('tracefs-mount', 20000, ['unshare', '--mount', '--propagation', 'private', 'sh', '-c',
      'umount -l /sys/kernel/tracing 2>/dev/null; umount -l /sys/kernel/debug 2>/dev/null; exec "$@"', 'sh']);
    expect(r.code, r.stderr).to.equal(0);
    expect(r.out).to.deep.equal({
      before: [],
      refused: 'TracePipeError: no trace_pipe under /sys/kernel/tracing or /sys/kernel/debug/tracing (tracefs is not mounted)',
      dir: '/sys/kernel/tracing',
      after: ['/sys/kernel/tracing'],
      pipe: true,
    });
  });

  it('close() during a pending wait ends the iteration', async () => {
    const tp = new TracePipe();
    let ended = false;
    const reading = (async () => { for await (const _ of tp) { /* nothing of ours arrives */ } ended = true; })();
    await new Promise((r) => setTimeout(r, 50));
    tp.close();
    await reading;
    expect(ended).to.equal(true);
  });

  it('a TracePipe dropped without close() gives trace_pipe back once collected (child process, --expose-gc)', async () => {
    // before, it held trace_pipe (one reader at a time: every later open was EBUSY) and its waiter
    // thread with its fds for the life of the process
    const r = await runReaderChild('tracepipe-forgotten', 30000, [], ['--expose-gc']);
    expect(r.timedOut, 'the child did not exit by itself').to.equal(false);
    expect(r.code, r.stderr).to.equal(0);
    const out = r.out as { used: { got: boolean; threads: number }; reopened: boolean; lastError: string; leftFds: string[]; leftThreads: number };
    expect(out.used.got, 'the dropped reader read a line first').to.equal(true);
    expect(out.reopened, out.lastError).to.equal(true);
    expect({ fds: out.leftFds, threads: out.leftThreads }).to.deep.equal({ fds: [], threads: 0 });
  });

  it('a second reader and a path that is no trace_pipe are TracePipeErrors saying so', () => {
    const tp = new TracePipe();
    open.push(tp);
    expect(() => new TracePipe()).to.throw(TracePipeError, /trace_pipe: another reader has it open \(the kernel allows one at a time/);
    expect(() => new TracePipe({ path: '/etc/hostname' })).to.throw(TracePipeError, /cannot wait on \/etc\/hostname: not a trace_pipe/);
    expect(() => new TracePipe({ path: '/no/such/trace_pipe' })).to.throw(TracePipeError, /cannot open \/no\/such\/trace_pipe: ENOENT/);
  });
});
