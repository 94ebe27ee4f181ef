// examples/packet-counter.ts as a user runs it: the per-protocol counts it prints are the packets
// sent to the interface, on --interface and on its own throwaway network.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, demoTrafficSent, leftoverNamespaces, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';
import { pingAsync, sendUdp } from '../../examples/lib/traffic.js';

/** "final hopopt(0)=1 icmp(1)=3 udp(17)=7" → { 0: 1, 1: 3, 17: 7 } */
function counts(line: string): Record<number, number> {
  const out: Record<number, number> = {};
  for (const m of line.matchAll(/\S+\((\d+)\)=(\d+)/g)) out[Number(m[1])] = Number(m[2]);
  return out;
}

describe('example packet-counter', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; net?.cleanup(); net = undefined; });

  it('counts UDP and ICMP packets received on --interface, printed every 2 s and at exit', async () => {
    net = createVethNetwork({ label: 'expc' });
    run = runExample('packet-counter', ['--interface', net.vethA, '--xdp-mode', 'skb'], { netns: net.nsA });
    await run.waitForLine(/^attached packet_counter \(xdp skb\) to /);
    sendUdp(net.nsB, { dst: net.addrA, port: 9, count: 7 });
    expect(await pingAsync(net.nsB, net.addrA, 3)).to.equal(3);
    // the periodic line shows them within one period
    const periodic = await run.waitForLine(/^\d\d:\d\d:\d\d .*icmp\(1\)=3.*udp\(17\)=7/, 5000);
    expect(counts(periodic[0])).to.include({ 1: 3, 17: 7 });
    expect(await run.stop()).to.equal(0);
    const final = run.lines.find((l) => l.startsWith('final '))!;
    expect(counts(final)).to.include({ 1: 3, 17: 7 });
    expect(nsExec(net.nsA, ['ip', 'link', 'show', net.vethA])).not.to.match(/xdp/);
  });

  it('runs on its own veth pair and namespaces by default: the counts are the demo traffic', async () => {
    run = runExample('packet-counter', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const sent = await demoTrafficSent(run);
    expect(sent.udp).to.be.greaterThan(0);
    const final = counts(run.lines.find((l) => l.startsWith('final '))!);
    expect(final[17]).to.equal(sent.udp);
    expect(final[1]).to.equal(sent.pings);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
