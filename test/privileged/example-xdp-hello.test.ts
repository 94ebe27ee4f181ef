// examples/xdp-hello.ts as a user runs it: on an interface given with --interface (inside a test
// namespace), and on its own throwaway network; the bpf_printk lines it prints match the packets.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, demoTrafficSent, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';
import { pingAsync, sendUdp } from '../../examples/lib/traffic.js';

describe('example xdp-hello', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; net?.cleanup(); net = undefined; });

  it('prints one line per packet received on --interface, and detaches on SIGINT', async () => {
    net = createVethNetwork({ label: 'exh' });
    run = runExample('xdp-hello', ['--interface', net.vethA], { netns: net.nsA });
    await run.waitForLine(/^attached xdp_hello \(xdp drv\) to /);
    const port = 20000 + Math.floor(Math.random() * 40000);
    const [sport] = sendUdp(net.nsB, { dst: net.addrA, port, count: 5, size: 16 });
    expect(await pingAsync(net.nsB, net.addrA, 2)).to.equal(2);
    const udp = new RegExp(`xdp-hello: ${esc(net.addrB)}:${sport} > ${esc(net.addrA)}:${port} proto 17 len (\\d+)$`);
    const icmp = new RegExp(`xdp-hello: ${esc(net.addrB)} > ${esc(net.addrA)} proto 1 len (\\d+)$`);
    await run.waitForLine(icmp);
    expect(await run.stop()).to.equal(0);
    const udpLines = run.lines.filter((l) => udp.test(l));
    expect(udpLines).to.have.length(5);
    // Ethernet 14 + IP 20 + UDP 8 + 16 bytes of payload
    expect(udp.exec(udpLines[0])![1]).to.equal('58');
    expect(run.lines.filter((l) => icmp.test(l))).to.have.length(2);
    const total = Number(/^total: (\d+) lines$/.exec(run.lines.at(-1)!)?.[1]);
    expect(total).to.equal(run.lines.filter((l) => / xdp-hello: /.test(l)).length);
    expect(nsExec(net.nsA, ['ip', 'link', 'show', net.vethA])).not.to.match(/xdp/);
  });

  it('a missing --interface is a clear error naming it, with exit status 1', async () => {
    net = createVethNetwork({ label: 'exh' });
    run = runExample('xdp-hello', ['--interface', 'tsbpfnope0'], { netns: net.nsA });
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: .*tsbpfnope0/);
    expect(run.lines.some((l) => l.startsWith('attached '))).to.equal(false);
  });

  it('runs on its own veth pair and namespaces by default and removes them', async () => {
    run = runExample('xdp-hello', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const sent = await demoTrafficSent(run);
    expect(sent.udp).to.be.greaterThan(0);
    expect(run.lines.filter((l) => /xdp-hello: \S+ > \S+:7000 proto 17 len 58$/.test(l))).to.have.length(sent.udp);
    expect(run.lines.filter((l) => /xdp-hello: \S+ > \S+ proto 1 /.test(l))).to.have.length(sent.pings);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
