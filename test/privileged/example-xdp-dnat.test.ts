// examples/xdp-dnat.ts as a user runs it: datagrams to VIP:port reach a UDP server on the backend
// address only while the example runs, and the receiving kernel accepts their checksums (TX
// checksum offload is off on the test veths, so it really verifies them).
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, snmp, type VethNetwork } from '../../examples/lib/netns.js';
import { sendUdp, startUdpServer, type UdpServer } from '../../examples/lib/traffic.js';
import { waitFor } from '../helpers/netns.js';

describe('example xdp-dnat', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  let server: UdpServer | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { run?.kill(); run = undefined; server?.stop(); server = undefined; net?.cleanup(); net = undefined; });

  for (const mode of ['auto', 'skb'] as const) {
    it(`rewrites VIP:port to the backend with valid IP and UDP checksums (--xdp-mode ${mode})`, async () => {
      const n = createVethNetwork({ label: 'exdn' });
      net = n;
      const vip = `${n.spare}.10`;
      nsExec(n.nsB, ['ip', 'route', 'add', `${vip}/32`, 'via', n.addrA]);
      server = startUdpServer(n.nsA, n.addrA, 8000);
      await server.ready;

      // without the example, the kernel in nsA drops them (not its address, no forwarding)
      const addrErrors = snmp(n.nsA, 'Ip', 'InAddrErrors');
      sendUdp(n.nsB, { dst: vip, port: 7000, count: 2 });
      expect(await waitFor(() => snmp(n.nsA, 'Ip', 'InAddrErrors'), (v) => v === addrErrors + 2)).to.equal(addrErrors + 2);
      expect(server.received).to.have.length(0);

      run = runExample('xdp-dnat', ['--interface', n.vethA, '--xdp-mode', mode, '--service', `${vip}:7000=${n.addrA}:8000`], { netns: n.nsA });
      await run.waitForLine(new RegExp(`^service udp ${vip.replace(/\./g, '\\.')}:7000 -> `));
      await run.waitForLine(/^attached xdp_dnat /);
      const before = { csum: snmp(n.nsA, 'Udp', 'InCsumErrors'), ip: snmp(n.nsA, 'Ip', 'InHdrErrors'), dgrams: snmp(n.nsA, 'Udp', 'InDatagrams') };
      const [sport] = sendUdp(n.nsB, { dst: vip, port: 7000, count: 5, size: 40 });
      const srv = server;
      await waitFor(() => srv.received.length, (v) => v >= 5);
      expect(server.received).to.have.length(5);
      for (const d of server.received) expect(d).to.include({ from: n.addrB, port: sport, len: 40 });
      expect(snmp(n.nsA, 'Udp', 'InCsumErrors')).to.equal(before.csum);
      expect(snmp(n.nsA, 'Ip', 'InHdrErrors')).to.equal(before.ip);
      expect(snmp(n.nsA, 'Udp', 'InDatagrams')).to.equal(before.dgrams + 5);
      expect(await run.stop()).to.equal(0);
      expect(run.lines.find((l) => l.startsWith('final '))).to.equal('final rewritten=5');
      expect(nsExec(n.nsA, ['ip', 'link', 'show', n.vethA])).not.to.match(/xdp/);
    });
  }

  it('rewrites TCP too: the SYN to VIP:port arrives at the backend port with a valid checksum', async () => {
    const n = createVethNetwork({ label: 'exdn' });
    net = n;
    const vip = `${n.spare}.11`;
    nsExec(n.nsB, ['ip', 'route', 'add', `${vip}/32`, 'via', n.addrA]);
    run = runExample('xdp-dnat', ['--interface', n.vethA, '--service', `${vip}:7001=${n.addrA}:8001/tcp`], { netns: n.nsA });
    await run.waitForLine(/^attached xdp_dnat /);
    const before = { csum: snmp(n.nsA, 'Tcp', 'InCsumErrors'), segs: snmp(n.nsA, 'Tcp', 'InSegs'), resets: snmp(n.nsA, 'Tcp', 'OutRsts') };
    // nothing listens on 8001: a SYN that arrives intact is answered with a RST (counted), one with
    // a bad checksum is counted in InCsumErrors and never answered
    nsExec(n.nsB, ['python3', '-c', `import socket\ns=socket.socket(); s.settimeout(0.5)\ntry: s.connect(('${vip}',7001))\nexcept Exception: pass`]);
    expect(await waitFor(() => snmp(n.nsA, 'Tcp', 'OutRsts'), (v) => v > before.resets)).to.be.greaterThan(before.resets);
    expect(snmp(n.nsA, 'Tcp', 'InSegs')).to.be.greaterThan(before.segs);
    expect(snmp(n.nsA, 'Tcp', 'InCsumErrors')).to.equal(before.csum);
    expect(await run.stop()).to.equal(0);
    expect(run.lines.find((l) => l.startsWith('final '))).to.match(/^final rewritten=[1-9]/);
  });

  it('runs on its own veth pair and namespaces by default: the backend receives what was rewritten', async () => {
    run = runExample('xdp-dnat', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const m = /^final rewritten=(\d+) backend received=(\d+)$/.exec(run.lines.find((l) => l.startsWith('final '))!)!;
    expect(Number(m[1])).to.be.greaterThan(0);
    expect(m[2]).to.equal(m[1]);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });

  it('--service without --interface is an error, not demo traffic sent to it with no backend listening; the demo network is removed', async () => {
    run = runExample('xdp-dnat', ['--service', '198.19.254.10:7000=198.19.254.11:8000']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: --service goes with --interface IF/);
    expect(run.output()).to.not.match(/^attached /m);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
