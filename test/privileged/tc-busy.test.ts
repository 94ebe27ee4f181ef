// attachTc, attachXdp and the clsact hook while other tools keep changing things: hundreds of
// filters and interfaces removed while tsbpf reads, an interface removed between two requests, a
// read that fails in the middle of a dump. The kernel resumes a dump of tc filters or qdiscs by
// position and never marks it interrupted (no NLM_F_DUMP_INTR for tc), so an entry can be missing
// from a dump that ran while others before it were removed; what decides whether a handle's filter
// or an interface's clsact is there must not be such a dump. A child process does the netlink step
// with its first read held back by strace, and the removals land in that pause.
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, inNsExec, tcFilters, type AttachFixture } from '../helpers/attach-fixtures.js';
import { NetlinkSocket, interfaceIndex, ensureClsact, attachTc } from '../../lib/index.js';
import { attachFilter } from '../../lib/netlink/index.js';
import { SYS } from '../../lib/syscall/numbers.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;

/** Everything a stream has written so far, and a bounded wait for a line of it that matches (no fixed sleep). */
function collect(stream: NodeJS.ReadableStream): { text: () => string; line: (re: RegExp, ms: number, what: () => string) => Promise<string> } {
  let buf = '';
  stream.on('data', (d) => { buf += d; });
  return {
    text: () => buf,
    line: async (re, ms, what) => {
      const deadline = Date.now() + ms;
      for (;;) {
        const found = buf.split('\n').find((l) => re.test(l));
        if (found !== undefined) return found;
        if (Date.now() > deadline) throw new Error(`no ${what()} within ${ms} ms; got: ${buf}`);
        await new Promise((r) => setTimeout(r, 10));
      }
    },
  };
}

/** Wait (bounded) until thread `pid` is held by strace at the entry of `call` (ptrace stop 't' in that syscall). */
async function heldIn(pid: number, call: 'sendto' | 'recvmsg'): Promise<void> {
  const deadline = Date.now() + 10_000;
  let seen = '';
  for (;;) {
    try {
      const state = readFileSync(`/proc/${pid}/stat`, 'utf8').replace(/^.*\) /s, '').split(' ')[0];
      seen = `${state} ${readFileSync(`/proc/${pid}/syscall`, 'utf8').split(' ')[0]}`;
    } catch { /* gone: the checks below say so */ }
    if (seen === `t ${SYS[call]}`) return;
    if (Date.now() > deadline) throw new Error(`the child was not held in ${call} within 10 s (state and syscall: ${seen})`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/**
 * test/helpers/tc-slow-child.ts `args` in namespace `ns`: once it is ready, its first netlink read
 * after the go (or the `call` given, e.g. its second request sent: 'sendto', 2) is held back 1.5 s
 * (strace), and `meanwhile` runs once it is held (or at once, with another strace injection given
 * as a string). Resolves with the child's JSON answer.
 */
async function slowChild(ns: string, args: string[], meanwhile: () => void, call: [string, number | string] = ['recvmsg', 1]): Promise<unknown> {
  const child = spawn('ip', ['netns', 'exec', ns, process.execPath, '--import', 'tsx', 'test/helpers/tc-slow-child.ts', ...args], { stdio: ['pipe', 'pipe', 'pipe'] });
  const out = collect(child.stdout);
  const err = collect(child.stderr);
  const exited = new Promise<number | null>((res) => child.on('close', res));
  let strace: ReturnType<typeof spawn> | undefined;
  try {
    await out.line(/^ready\b/, 20_000, () => `"ready" from the child (stderr: ${err.text()})`);
    // `ip netns exec` execs node: child.pid is the node process, whose main thread does the netlink reads
    strace = spawn('strace', ['-p', String(child.pid), '-e', `trace=${call[0]}`, '-e', `inject=${call[0]}:${typeof call[1] === 'string' ? call[1] : `delay_enter=1500000:when=${call[1]}`}`, '-o', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
    await collect(strace.stderr!).line(/attached/, 10_000, () => 'strace attached');
    child.stdin.end('go\n');
    if (typeof call[1] === 'number') await heldIn(child.pid!, call[0] as 'sendto' | 'recvmsg');
    meanwhile();
    const answer = await out.line(/^\{/, 20_000, () => `the child's answer (stderr: ${err.text()})`);
    expect(await exited, err.text()).to.equal(0);
    return JSON.parse(answer);
  } finally {
    child.kill('SIGKILL');
    strace?.kill('SIGKILL');
  }
}

describe('netlink under stress: busy hooks, interfaces that go away, dumps cut short', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this, !hasStrace && 'needs strace (to slow the netlink reads of a child process)'); });
  beforeEach(() => { fx = createAttachFixture('tcbusy'); });
  afterEach(() => fx?.cleanup());

  /**
   * `count` filters of tc_egress on the ingress hook of veth A at priorities 1…count, with names
   * padded to 200 bytes so that a dump of them takes several datagrams
   */
  const addFilters = (count: number, prefix: string) => fx.net.inNs('A', () => {
    const s = NetlinkSocket.open();
    try {
      const idx = interfaceIndex(fx.net.vethA, s);
      ensureClsact(idx, s);
      const fd = fx.tc.programs.get('tc_egress')!.fd.value;
      for (let p = 1; p <= count; p++) attachFilter({ ifindex: idx, direction: 'ingress', progFd: fd, name: `${prefix}${p}`.padEnd(200, '-'), priority: p, handle: 1 }, s);
    } finally {
      s.close();
    }
  });

  it('detach() removes its filter while other filters before it on the hook are being removed', async function () {
    this.timeout(60_000);
    const { net } = fx;
    const dev = net.vethA;
    const pin = join(fx.bpffs.dir, 'busy_ing');
    fx.tc.programs.get('tc_ingress')!.pin(pin);
    // 230 filters of another program at priorities 1..230, with long names so that the first datagram
    // of a dump holds only some of them; ours goes at priority 250, after all of them
    const others = 230;
    addFilters(others, 'other');
    const answer = await slowChild(net.nsA, ['detach', pin, dev, '250'], () => {
      expect(tcFilters(net.nsA, dev, 'ingress').filter((l) => l.includes(' tc_ingress '))).to.have.length(1);
      // another tool removes the 230 filters in front of ours
      execFileSync('tc', ['-n', net.nsA, '-batch', '-'], { input: Array.from({ length: others }, (_, i) => `filter del dev ${dev} ingress prio ${i + 1}`).join('\n') + '\n' });
    });
    expect(answer).to.deep.equal({ detached: true });
    // the detach said done: the filter must be gone
    expect(tcFilters(net.nsA, dev, 'ingress')).to.deep.equal([]);
  });

  it('hookQdisc() finds the clsact of an interface while interfaces made before it are being removed', async function () {
    this.timeout(60_000);
    const { net } = fx;
    // 400 interfaces with a clsact each (more than the first datagram of a dump holds), then ours: a
    // dump of every qdisc lists ours after theirs. Their veth peers live in a third namespace, whose
    // removal takes all 400 away at once (one batch in the kernel, tens of ms)
    const nsC = net.nsA.replace(/-a$/, '-c');
    const others = 400;
    const batch = (tool: string, lines: string[]) => execFileSync(tool, ['-n', net.nsA, '-batch', '-'], { input: `${lines.join('\n')}\n` });
    execFileSync('ip', ['netns', 'add', nsC]);
    try {
      batch('ip', Array.from({ length: others }, (_, i) => `link add bo${i} type veth peer name bp${i} netns ${nsC}`));
      batch('tc', Array.from({ length: others }, (_, i) => `qdisc add dev bo${i} clsact`));
      expect(inNsExec(net.nsA, 'ip', 'link', 'add', 'busyours', 'type', 'veth', 'peer', 'name', 'busyoursp')).to.not.match(/^ERR/);
      expect(inNsExec(net.nsA, 'tc', 'qdisc', 'add', 'dev', 'busyours', 'clsact')).to.not.match(/^ERR/);
      const answer = await slowChild(net.nsA, ['hook', 'busyours'], () => {
        execFileSync('ip', ['netns', 'del', nsC]);
        const deadline = Date.now() + 5000;
        while (inNsExec(net.nsA, 'ip', '-o', 'link', 'show', 'dev', 'bo0').startsWith('ERR') === false && Date.now() < deadline);
      });
      expect(answer).to.deep.equal({ kind: 'clsact' });
    } finally {
      try { execFileSync('ip', ['netns', 'del', nsC], { stdio: 'ignore' }); } catch { /* removed by the test */ }
    }
  });

  it('attachTc to an existing clsact shows `tc monitor` only its filter, no qdisc event (a read is not a change)', async function () {
    this.timeout(30_000);
    const { net } = fx;
    expect(inNsExec(net.nsA, 'tc', 'qdisc', 'add', 'dev', net.vethA, 'clsact')).to.not.match(/^ERR/);
    const mon = spawn('ip', ['netns', 'exec', net.nsA, 'tc', 'monitor'], { stdio: ['ignore', 'pipe', 'pipe'] });
    const seen = collect(mon.stdout);
    try {
      // tc monitor is listening once it reports a change made after it started
      const probe = () => inNsExec(net.nsA, 'tc', 'qdisc', 'replace', 'dev', 'lo', 'root', 'pfifo_fast');
      probe();
      await seen.line(/dev lo/, 10_000, () => '`tc monitor` to start');
      const before = seen.text().length;
      const a = net.inNs('A', () => attachTc({ program: fx.tc.programs.get('tc_ingress')!, interface: net.vethA, direction: 'ingress' }));
      a.detach();
      probe(); // a change after ours: when it shows, everything before it has been printed
      const deadline = Date.now() + 10_000;
      while (seen.text().slice(before).split('\n').filter((l) => l.includes('dev lo')).length < 1 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 10));
      const ours = seen.text().slice(before).split('\n').filter((l) => l.includes(`dev ${net.vethA}`));
      expect(ours.filter((l) => /^(added |deleted )?filter /.test(l)), ours.join('\n')).to.have.length.greaterThan(0);
      expect(ours.filter((l) => l.includes('qdisc')), ours.join('\n')).to.deep.equal([]);
    } finally {
      mon.kill('SIGKILL');
    }
  });

  for (const kind of ['tc', 'xdp'] as const) {
    it(`attach${kind === 'tc' ? 'Tc' : 'Xdp'}: an interface removed between its lookup and the attach is InterfaceNotFoundError, nothing left`, async function () {
      this.timeout(60_000);
      const { net } = fx;
      const pin = join(fx.bpffs.dir, `gone_${kind}`);
      (kind === 'tc' ? fx.tc.programs.get('tc_ingress')! : fx.xdp.programs.get('packet_counter')!).pin(pin);
      // the first request (RTM_GETLINK) finds it; the second (clsact, or IFLA_XDP) waits while it is deleted
      const answer = await slowChild(net.nsA, [kind, pin, net.vethA], () => {
        expect(inNsExec(net.nsA, 'ip', 'link', 'del', net.vethA)).to.not.match(/^ERR/);
      }, ['sendto', 2]) as { error?: string; errno?: string; message?: string };
      const op = kind === 'tc' ? 'attachTc ingress' : 'attachXdp skb mode';
      expect(answer).to.deep.include({ error: 'InterfaceNotFoundError', errno: 'ENODEV' });
      expect(answer.message).to.match(new RegExp(`^${op} on ${net.vethA} \\(ifindex \\d+\\): ENODEV \\(No such device\\): the interface went away \\(deleted, or moved to another network namespace\\) after it was looked up; nothing was attached$`));
      expect(inNsExec(net.nsA, 'tc', 'qdisc', 'show')).to.not.contain('clsact');
      expect(inNsExec(net.nsA, 'ip', '-o', 'link', 'show')).to.not.contain('xdp');
    });
  }

  it('a dump cut short by a failed read (as a reply timeout ends it) does not make the next dump on that socket EBUSY', async function () {
    this.timeout(60_000);
    const { net } = fx;
    const dev = net.vethA;
    // enough filters for a dump of several datagrams
    addFilters(200, 'f');
    // the child's third read fails with EAGAIN (what SO_RCVTIMEO gives when the kernel is slow), in
    // the middle of the dump; the kernel still holds the rest of it for that socket
    const answer = await slowChild(net.nsA, ['redump', dev], () => {}, ['recvmsg', 'error=EAGAIN:when=3']);
    expect(answer).to.deep.equal({ first: 'EAGAIN', second: 200, third: 200 });
  });
});
