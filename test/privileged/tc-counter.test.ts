// examples/tc-counter.ts run as a user runs it: the demo (`make demo`) in a private mount namespace
// (so its bpffs mount at /sys/fs/bpf cannot meet another run's), and on the test's own veth with
// --interface, stopped by SIGINT, with and without --keep-pin. Counters must climb, and nothing may
// be left: filters, clsact, namespaces, veths, the pin, the bpffs mount.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, type TestNetwork } from '../helpers/netns.js';
import { runExample, netnsList, type ExampleRun } from '../helpers/example-run.js';
import { inNsExec, tcFilters, tcQdiscKinds } from '../helpers/attach-fixtures.js';

const run = promisify(execFile);

/** [ingress, egress] of every per-second counter line */
function counterLines(out: string): [number, number][] {
  return [...out.matchAll(/^\s*\d+s\s+ingress (\d+) packets \(\+\d+\)\s+egress (\d+) packets/gm)].map((m) => [Number(m[1]), Number(m[2])]);
}

describe('examples/tc-counter.ts', function () {
  before(function () { requirePrivileged(this); });

  it('demo: builds its own network, counts climbing both ways, and leaves nothing behind', async () => {
    // only bpffs mounts count: a bind mount of sysfs's own /sys/fs/bpf (bpftool leaves one when it
    // mounts bpffs itself) is not the demo's to remove
    const bpffsAtDefault = `awk '$2 == "/sys/fs/bpf" && $3 == "bpf"' /proc/self/mounts | wc -l`;
    const script = [
      `echo "::before=$(${bpffsAtDefault})"`,
      'node --import tsx examples/tc-counter.ts --seconds 4; echo "::rc=$?"',
      `echo "::mounted=$(${bpffsAtDefault})"`,
      'echo "::pin=$(test -e /sys/fs/bpf/ebpf-plugin/counter && echo yes || echo no)"',
    ].join('; ');
    const { stdout } = await run('unshare', ['-m', '--propagation', 'private', 'bash', '-c', script], { cwd: process.cwd(), timeout: 60_000 });
    expect(stdout).to.contain('::rc=0');
    expect(stdout).to.match(/attached tc_ingress to \S+ ingress .*clsact added/);
    const lines = counterLines(stdout);
    expect(lines.length).to.be.greaterThanOrEqual(3);
    const [first, last] = [lines[0], lines[lines.length - 1]];
    expect(last[0]).to.be.greaterThan(first[0]);
    expect(last[1]).to.be.greaterThan(first[1]);
    // UDP goes 5/s in and 2/s out: the two counters of one map climb independently
    expect(last[0]).to.not.equal(last[1]);
    expect(stdout).to.match(/detached tc_ingress from \S+; clsact removed/);
    expect(stdout).to.contain('removed pin /sys/fs/bpf/ebpf-plugin/counter');
    const before = /::before=(\d+)/.exec(stdout)?.[1];
    expect(stdout).to.contain(`::mounted=${before}`);
    expect(stdout).to.contain('::pin=no');
    const ns = /demo network: (\S+) \((\S+) .*<-> (\S+) /.exec(stdout);
    expect(ns, 'the demo names its network').to.not.equal(null);
    expect(netnsList()).to.not.include.members([ns![1], ns![3]]);
    expect((await run('ip', ['-o', 'link', 'show', 'type', 'veth'])).stdout).to.not.contain(ns![2]);
  });

  describe('on an existing interface', () => {
    let net: TestNetwork;
    let ex: ExampleRun | undefined;
    beforeEach(() => { net = createTestNetwork('tcc'); });
    afterEach(() => {
      ex?.kill();
      ex = undefined;
      net.cleanup();
    });

    it('counts the packets sent to it and detaches cleanly on SIGINT', async () => {
      ex = runExample('tc-counter', ['--interface', net.vethA], { netns: net.nsA });
      await ex.waitForLine(/attached tc_egress/, 20_000);
      expect(tcFilters(net.nsA, net.vethA, 'ingress').join('\n')).to.contain('tc_ingress direct-action');
      net.sendUdp({ count: 25, port: 9 });
      // a per-second line showing the counter has seen all 25 datagrams (and maybe ARP)
      const seen = await ex.waitForLine(/ingress (2[5-9]|[3-9]\d|\d{3,}) packets/, 10_000);
      expect(Number(seen[1])).to.be.greaterThanOrEqual(25);
      const code = await ex.stop(20_000, 'SIGINT');
      expect(code).to.equal(0);
      expect(ex.output()).to.contain('SIGINT: stopping');
      expect(tcFilters(net.nsA, net.vethA, 'ingress')).to.deep.equal([]);
      expect(tcFilters(net.nsA, net.vethA, 'egress')).to.deep.equal([]);
      expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    });

    it('--keep-pin leaves the counter map pinned (readable by bpftool) and everything else removed', async () => {
      const script = [
        `node --import tsx examples/tc-counter.ts --interface ${net.vethA} --seconds 2 --keep-pin; echo "::rc=$?"`,
        'bpftool -j map dump pinned /sys/fs/bpf/ebpf-plugin/counter',
      ].join('; ');
      // ip netns exec gives the command its own mount namespace: the pin and mount go with it
      const out = inNsExec(net.nsA, 'bash', '-c', script);
      expect(out).to.contain('::rc=0');
      expect(out).to.contain('counter map stays pinned at /sys/fs/bpf/ebpf-plugin/counter');
      const dump = JSON.parse(out.slice(out.indexOf('['))) as { key: string[] | number; formatted?: { key: number } }[];
      expect(dump.map((e) => e.formatted?.key ?? (Array.isArray(e.key) ? Number(e.key[0]) : e.key))).to.deep.equal([0, 1]);
      expect(tcQdiscKinds(net.nsA, net.vethA)).to.not.include('clsact');
    });
  });
});
