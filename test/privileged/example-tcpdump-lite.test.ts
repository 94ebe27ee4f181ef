// examples/tcpdump-lite.ts as a user runs it: a tcpdump-like line per IPv4 packet in and out of
// the interface, streamed through the ring buffer, with the right addresses, ports and lengths.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, demoTrafficSent, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';
import { pingAsync, sendUdp } from '../../examples/lib/traffic.js';

describe('example tcpdump-lite', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; net?.cleanup(); net = undefined; });

  it('prints every UDP datagram and ICMP echo in both directions on --interface', async () => {
    net = createVethNetwork({ label: 'extd' });
    run = runExample('tcpdump-lite', ['--interface', net.vethA], { netns: net.nsA });
    await run.waitForLine(/^attached tcpdump_egress \(tc egress\) to /);
    const port = 20000 + Math.floor(Math.random() * 40000);
    const [sport] = sendUdp(net.nsB, { dst: net.addrA, port, count: 4, size: 33 });
    expect(await pingAsync(net.nsB, net.addrA, 2)).to.equal(2);
    const [a, b, dev] = [esc(net.addrA), esc(net.addrB), esc(net.vethA)];
    const time = '\\d\\d:\\d\\d:\\d\\d\\.\\d{6}';
    const udp = new RegExp(`^${time} ${dev} In  IP ${b}\\.${sport} > ${a}\\.${port}: UDP, length 33$`);
    // echo request and reply: 8 bytes of ICMP header + the 13-byte payload
    const request = new RegExp(`^${time} ${dev} In  IP ${b} > ${a}: ICMP, length 21$`);
    const reply = new RegExp(`^${time} ${dev} Out IP ${a} > ${b}: ICMP, length 21$`);
    await run.waitForLine(reply, 5000);
    expect(await run.stop()).to.equal(0);
    expect(run.lines.filter((l) => udp.test(l))).to.have.length(4);
    expect(run.lines.filter((l) => request.test(l))).to.have.length(2);
    expect(run.lines.filter((l) => reply.test(l))).to.have.length(2);
    const captured = Number(/^(\d+) packets captured$/.exec(run.lines.at(-1)!)?.[1]);
    expect(captured).to.equal(run.lines.filter((l) => / IP /.test(l)).length);
    expect(nsExec(net.nsA, ['tc', 'filter', 'show', 'dev', net.vethA, 'ingress'])).to.equal('');
  });

  it('runs on its own veth pair and namespaces by default and captures the demo traffic', async () => {
    run = runExample('tcpdump-lite', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const sent = await demoTrafficSent(run);
    expect(run.lines.filter((l) => / In {2}IP \S+ > \S+\.7000: UDP, length 16$/.test(l))).to.have.length(sent.udp);
    expect(run.lines.filter((l) => / In {2}IP \S+ > \S+: ICMP, length 21$/.test(l))).to.have.length(sent.pings);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
