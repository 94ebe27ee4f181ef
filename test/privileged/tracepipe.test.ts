// TracePipe against the kernel: a hand-assembled program calls bpf_trace_printk with a unique tag;
// the reader (mounting tracefs when needed) yields exactly those lines, and close() ends a wait.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { progLoad, progTestRun, BPF_PROG_TYPE, type Fd } from '../../lib/syscall/index.js';
import { TracePipe, tracefsDir } from '../../lib/tracepipe/index.js';

const le32 = (n: number) => [...new Uint8Array(new Int32Array([n]).buffer)];
const le16 = (n: number) => [...new Uint8Array(new Int16Array([n]).buffer)];
const insn = (op: number, dst: number, src: number, off: number, imm: number) => [op, (src << 4) | dst, ...le16(off), ...le32(imm)];

/** bpf_trace_printk("<tag>", 12) where tag is 11 characters + NUL */
function printer(tag: string): Fd {
  const b = Buffer.alloc(12);
  b.write(tag);
  const w = (o: number) => b.readInt32LE(o);
  const code = [
    ...insn(0x62, 10, 0, -12, w(0)), ...insn(0x62, 10, 0, -8, w(4)), ...insn(0x62, 10, 0, -4, w(8)), // *(u32 *)(r10 - n) = imm
    ...insn(0xbf, 1, 10, 0, 0), ...insn(0x07, 1, 0, 0, -12), ...insn(0xb7, 2, 0, 0, 12),
    ...insn(0x85, 0, 0, 0, 6), // bpf_trace_printk
    ...insn(0xb7, 0, 0, 0, 0), ...insn(0x95, 0, 0, 0, 0),
  ];
  return progLoad({ progType: BPF_PROG_TYPE.SCHED_CLS, insns: new Uint8Array(code), license: 'GPL', name: 'tp_print' }).fd;
}

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
    const prog = printer(tag);
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

  it('close() during a pending wait ends the iteration', async () => {
    const tp = new TracePipe();
    let ended = false;
    const reading = (async () => { for await (const _ of tp) { /* nothing of ours arrives */ } ended = true; })();
    await new Promise((r) => setTimeout(r, 50));
    tp.close();
    await reading;
    expect(ended).to.equal(true);
  });
});
