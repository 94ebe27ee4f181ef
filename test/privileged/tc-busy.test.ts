// attachTc and its detach on a hook other tools keep changing: hundreds of filters, added and
// removed while tsbpf reads. The kernel dumps tc filters by position and never marks a dump
// interrupted (no NLM_F_DUMP_INTR for tc), so a filter can be missing from a dump that ran while
// others were removed; what decides whether a handle's filter is there must not be such a dump.
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createAttachFixture, tcFilters, type AttachFixture } from '../helpers/attach-fixtures.js';
import { NetlinkSocket, interfaceIndex, ensureClsact } from '../../lib/index.js';
import { attachFilter } from '../../lib/netlink/index.js';

const hasStrace = spawnSync('strace', ['-V']).status === 0;

/** Resolve with the first line of `stream` that matches, reject after `ms` (bounded wait, no fixed sleep). */
function lineMatching(stream: NodeJS.ReadableStream, re: RegExp, ms: number, what: string): Promise<string> {
  return new Promise((resolve, reject) => {
    let buf = '';
    const timer = setTimeout(() => reject(new Error(`no ${what} within ${ms} ms; got: ${buf}`)), ms);
    stream.on('data', (d) => {
      buf += d;
      const line = buf.split('\n').find((l) => re.test(l));
      if (line !== undefined) {
        clearTimeout(timer);
        resolve(line);
      }
    });
  });
}

describe('attachTc on a busy hook', function () {
  let fx: AttachFixture;
  before(function () { requirePrivileged(this, !hasStrace && 'needs strace (to slow the netlink reads of a child process)'); });
  beforeEach(() => { fx = createAttachFixture('tcbusy'); });
  afterEach(() => fx?.cleanup());

  it('detach() removes its filter while other filters before it on the hook are being removed', async function () {
    this.timeout(60_000);
    const { net } = fx;
    const dev = net.vethA;
    const pin = join(fx.bpffs.dir, 'busy_ing');
    fx.tc.programs.get('tc_ingress')!.pin(pin);
    // 230 filters of another program at priorities 1..230, with long names so that the first datagram
    // of a dump holds only some of them; ours goes at priority 250, after all of them
    const others = 230;
    net.inNs('A', () => {
      const s = NetlinkSocket.open();
      try {
        const idx = interfaceIndex(dev, s);
        ensureClsact(idx, s);
        const fd = fx.tc.programs.get('tc_egress')!.fd.value;
        for (let p = 1; p <= others; p++) attachFilter({ ifindex: idx, direction: 'ingress', progFd: fd, name: `other${p}`.padEnd(200, '-'), priority: p, handle: 1 }, s);
      } finally {
        s.close();
      }
    });
    const child = spawn('ip', ['netns', 'exec', net.nsA, process.execPath, '--import', 'tsx', 'test/helpers/tc-detach-child.ts', pin, dev, '250'], { stdio: ['pipe', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d) => { stderr += d; });
    const exited = new Promise<number | null>((res) => child.on('close', res));
    let strace: ReturnType<typeof spawn> | undefined;
    try {
      await lineMatching(child.stdout, /^ready /, 20_000, `"ready" from the child (stderr: ${stderr})`);
      expect(tcFilters(net.nsA, dev, 'ingress').filter((l) => l.includes(' tc_ingress '))).to.have.length(1);
      // the child's next netlink read waits 1.5 s before it starts: its request has gone out, the
      // kernel has answered the first part, and the rest comes only as the child reads on
      strace = spawn('strace', ['-p', String(child.pid), '-e', 'trace=recvmsg', '-e', 'inject=recvmsg:delay_enter=1500000:when=1', '-o', '/dev/null'], { stdio: ['ignore', 'ignore', 'pipe'] });
      await lineMatching(strace.stderr!, /attached/, 10_000, 'strace attached');
      child.stdin.end('go\n');
      // meanwhile another tool removes the 230 filters in front of ours
      await new Promise((r) => setTimeout(r, 200));
      execFileSync('tc', ['-n', net.nsA, '-batch', '-'], { input: Array.from({ length: others }, (_, i) => `filter del dev ${dev} ingress prio ${i + 1}`).join('\n') + '\n' });
      const result = await lineMatching(child.stdout, /detached/, 20_000, `the detach result (stderr: ${stderr})`);
      expect(JSON.parse(result)).to.deep.equal({ detached: true });
      expect(await exited).to.equal(0);
      // the detach said done: the filter must be gone
      expect(tcFilters(net.nsA, dev, 'ingress')).to.deep.equal([]);
    } finally {
      child.kill('SIGKILL');
      strace?.kill('SIGKILL');
    }
  });
});
