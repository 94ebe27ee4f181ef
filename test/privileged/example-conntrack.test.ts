// examples/conntrack.ts as a user runs it: per-connection packets and bytes (IP lengths) in the
// LRU hash and the per-CPU totals summed across CPUs, both directions through TC.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, demoTrafficSent, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';
import { pingAsync, sendUdp } from '../../examples/lib/traffic.js';

interface Row { from: string; to: string; proto: string; packets: number; bytes: number }

/** the rows and totals of the last table (after the line starting with `label`) */
function table(lines: string[], label: string): { rows: Row[]; totals: { packets: number; bytes: number; cpus: number } } {
  const start = lines.findLastIndex((l) => l.startsWith(`${label} `));
  const rows: Row[] = [];
  for (const l of lines.slice(start + 1)) {
    const r = /^ {2}(\S+) > (\S+)\s+(\S+)\s+packets=(\d+) bytes=(\d+)$/.exec(l);
    if (r) { rows.push({ from: r[1], to: r[2], proto: r[3], packets: Number(r[4]), bytes: Number(r[5]) }); continue; }
    const t = /^ {2}totals: packets=(\d+) bytes=(\d+) \(summed over (\d+) CPUs\)$/.exec(l);
    if (t) return { rows, totals: { packets: Number(t[1]), bytes: Number(t[2]), cpus: Number(t[3]) } };
  }
  throw new Error(`no table after "${label}" in:\n${lines.join('\n')}`);
}

/** CPUs the kernel may ever use ("0-1" → 2): per-CPU maps have one value for each */
function possibleCpus(): number {
  return readFileSync('/sys/devices/system/cpu/possible', 'utf8').trim().split(',')
    .reduce((n, r) => { const [a, b] = r.split('-').map(Number); return n + (b === undefined ? 1 : b - a + 1); }, 0);
}

describe('example conntrack', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; net?.cleanup(); net = undefined; });

  it('counts packets and IP bytes per (saddr, daddr, proto) and totals that are the sum of the table', async () => {
    net = createVethNetwork({ label: 'exct' });
    run = runExample('conntrack', ['--interface', net.vethA], { netns: net.nsA });
    await run.waitForLine(/^attached conntrack \(tc egress\) to /);
    sendUdp(net.nsB, { dst: net.addrA, port: 9, count: 5, size: 100 });
    expect(await pingAsync(net.nsB, net.addrA, 2)).to.equal(2);
    await run.waitForLine(new RegExp(`^ {2}${esc(net.addrB)} > ${esc(net.addrA)}\\s+icmp\\s+packets=2 `), 5000);
    // SIGTERM (what a service manager sends) ends it as cleanly as Ctrl-C
    expect(await run.stop(20_000, 'SIGTERM')).to.equal(0);
    const { rows, totals } = table(run.lines, 'final');
    const row = (from: string, to: string, proto: string) => rows.find((r) => r.from === from && r.to === to && r.proto === proto);
    // IP bytes: 20 + 8 + 100 per datagram; echo requests 20 + 8 + 13 (the sender's payload)
    expect(row(net.addrB, net.addrA, 'udp')).to.include({ packets: 5, bytes: 5 * 128 });
    expect(row(net.addrB, net.addrA, 'icmp')).to.include({ packets: 2, bytes: 2 * 41 });
    // egress: the echo replies (and port unreachables for the UDP, rate limited)
    expect(row(net.addrA, net.addrB, 'icmp')!.packets).to.be.at.least(2);
    expect(totals.packets).to.equal(rows.reduce((s, r) => s + r.packets, 0));
    expect(totals.bytes).to.equal(rows.reduce((s, r) => s + r.bytes, 0));
    expect(totals.cpus).to.equal(possibleCpus());
    expect(nsExec(net.nsA, ['tc', 'filter', 'show', 'dev', net.vethA, 'ingress'])).to.equal('');
    expect(nsExec(net.nsA, ['tc', 'filter', 'show', 'dev', net.vethA, 'egress'])).to.equal('');
  });

  it('runs on its own veth pair and namespaces by default: the table shows the demo traffic', async () => {
    run = runExample('conntrack', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const sent = await demoTrafficSent(run);
    const { rows, totals } = table(run.lines, 'final');
    const udp = rows.filter((r) => r.proto === 'udp');
    expect(udp).to.have.length(1);
    expect(udp[0]).to.include({ packets: sent.udp, bytes: sent.udp * 128 });
    expect(totals.packets).to.equal(rows.reduce((s, r) => s + r.packets, 0));
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
