// examples/tc-proxy.ts as a user runs it: a UDP client connected to VIP:port gets its replies from
// VIP:port while the backend sees the client, through the egress and ingress rewrites; the
// kernels on both sides accept the checksums (TX checksum offload is off on the test veths).
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, snmp, type VethNetwork } from '../../examples/lib/netns.js';
import { startUdpServer, udpRequestAsync, type UdpServer } from '../../examples/lib/traffic.js';

describe('example tc-proxy', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  let server: UdpServer | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; server?.stop(); server = undefined; net?.cleanup(); net = undefined; });

  it('round-trips UDP requests to VIP:port through the backend on --interface', async () => {
    const n = createVethNetwork({ label: 'extp' });
    net = n;
    const vip = `${n.spare}.20`;
    nsExec(n.nsA, ['ip', 'route', 'add', `${vip}/32`, 'via', n.addrB]);
    server = startUdpServer(n.nsB, n.addrB, 8000, { echo: true });
    await server.ready;
    // without the example nobody answers for the VIP
    expect(await udpRequestAsync(n.nsA, vip, 7000, 'nobody', 500)).to.equal('timeout');

    run = runExample('tc-proxy', ['--interface', n.vethA, '--service', `${vip}:7000=${n.addrB}:8000`], { netns: n.nsA });
    await run.waitForLine(/^attached proxy_ingress \(tc ingress\) to /);
    const csum = { a: snmp(n.nsA, 'Udp', 'InCsumErrors'), b: snmp(n.nsB, 'Udp', 'InCsumErrors') };
    for (let i = 0; i < 3; i++) {
      expect(await udpRequestAsync(n.nsA, vip, 7000, `hello-${i}`)).to.equal(`${vip} 7000 hello-${i}`);
    }
    // the request sent without the example was dropped in nsB (the VIP is nobody's address there)
    expect(server.received.map((d) => d.data)).to.deep.equal(['hello-0', 'hello-1', 'hello-2']);
    for (const d of server.received) expect(d.from).to.equal(n.addrA);
    expect(snmp(n.nsA, 'Udp', 'InCsumErrors')).to.equal(csum.a);
    expect(snmp(n.nsB, 'Udp', 'InCsumErrors')).to.equal(csum.b);
    expect(await run.stop()).to.equal(0);
    expect(run.lines.find((l) => l.startsWith('final '))).to.equal('final egress rewritten=3 ingress rewritten=3');
    expect(nsExec(n.nsA, ['tc', 'filter', 'show', 'dev', n.vethA, 'egress'])).to.equal('');
  });

  it('runs on its own veth pair and namespaces by default: every demo request is answered by the VIP', async () => {
    run = runExample('tc-proxy', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const m = /^demo: (\d+) of (\d+) requests answered by the VIP$/.exec(run.lines.find((l) => l.startsWith('demo: '))!)!;
    expect(Number(m[2])).to.be.greaterThan(0);
    expect(m[1]).to.equal(m[2]);
    expect(run.lines.find((l) => l.startsWith('final '))).to.equal(`final egress rewritten=${m[2]} ingress rewritten=${m[2]}`);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });

  it('--service without --interface is an error, not demo requests sent to it with no backend listening; the demo network is removed', async () => {
    run = runExample('tc-proxy', ['--service', '198.19.252.20:7000=198.19.252.21:8000/tcp']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: --service goes with --interface IF/);
    expect(run.output()).to.not.match(/^attached /m);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
