// examples/ipip-tunnel.ts as a user runs it: on its own network, requests and their replies cross
// the tunnel and every counter of both ends agrees with them; on the test's network, one process
// per end (as on two hosts) carries UDP both ways, the frames on the wire between them are IP-in-IP
// (read with a packet socket on the far end's interface), and stopping removes the routes and
// filters; a missing option is an error that leaves nothing attached.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, type VethNetwork } from '../../examples/lib/netns.js';
import { startUdpServer, udpRequestAsync, type UdpServer } from '../../examples/lib/traffic.js';
import { waitFor } from '../helpers/netns.js';
import { openPacketSocket } from '../../lib/socket/socket.js';

const counts = /encapsulated=(\d+) \((\d+) B\) decapsulated=(\d+) \((\d+) B\)/;
const endCounts = (text: string) => {
  const m = counts.exec(text)!;
  return { enc: Number(m[1]), encBytes: Number(m[2]), dec: Number(m[3]), decBytes: Number(m[4]) };
};
/** routes with BPF programs and tc filters of one end, as iproute2 shows them */
const attachedIn = (ns: string, dev: string) => [
  ...nsExec(ns, ['ip', 'route', 'show']).split('\n').filter((l) => l.includes('encap bpf')),
  ...nsExec(ns, ['tc', 'filter', 'show', 'dev', dev, 'ingress']).split('\n').filter(Boolean),
];

describe('example ipip-tunnel', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let runs: ExampleRun[] = [];
  let server: UdpServer | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    for (const r of runs) r.kill();
    runs = [];
    server?.stop();
    server = undefined;
    net?.cleanup();
    net = undefined;
  });

  it('runs both ends on its own network: every request and reply crosses the tunnel, and both ends count them', async () => {
    const run = runExample('ipip-tunnel', ['--seconds', '3']);
    runs.push(run);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const done = /^demo: (\d+) of (\d+) requests answered through the tunnel$/.exec(run.lines.find((l) => l.startsWith('demo: ')) ?? '');
    expect(done, run.output()).to.not.equal(null);
    const [answered, requests] = [Number(done![1]), Number(done![2])];
    expect(requests).to.be.greaterThan(0);
    expect(answered).to.equal(requests);
    const [a, b] = run.lines.find((l) => l.startsWith('final A '))!.split(' | ').map(endCounts);
    // A wrapped each request and unwrapped each reply; B the other way round; same bytes both sides
    expect(a).to.deep.equal({ enc: requests, encBytes: a.encBytes, dec: requests, decBytes: b.encBytes });
    expect(b).to.deep.equal({ enc: requests, encBytes: b.encBytes, dec: requests, decBytes: a.encBytes });
    expect(a.encBytes).to.be.greaterThan(requests * 28);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });

  it('one process per end on the test\'s network: IP-in-IP frames on the wire, UDP both ways, nothing left after a stop', async () => {
    const n = createVethNetwork({ label: 'exip' });
    net = n;
    const siteA = `${n.spare}.1`;
    const siteB = `${n.spare}.129`;
    nsExec(n.nsA, ['ip', 'addr', 'add', `${siteA}/32`, 'dev', 'lo']);
    nsExec(n.nsB, ['ip', 'addr', 'add', `${siteB}/32`, 'dev', 'lo']);
    const endA = runExample('ipip-tunnel', ['--interface', n.vethA, '--local', n.addrA, '--remote', n.addrB, '--route', `${n.spare}.128/25`, '--source', siteA], { netns: n.nsA });
    const endB = runExample('ipip-tunnel', ['--interface', n.vethB, '--local', n.addrB, '--remote', n.addrA, '--route', `${n.spare}.0/25`, '--source', siteB], { netns: n.nsB });
    runs.push(endA, endB);
    for (const [end, dev] of [[endA, n.vethA], [endB, n.vethB]] as const) await end.waitForLine(new RegExp(`^attached decap_ipip \\(tc ingress\\) to ${esc(dev)}`));
    expect(endA.lines).to.include(`route ${n.spare}.128/25 dev ${n.vethA} src ${siteA} mtu 1480: encapsulated to ${n.addrB}`);
    server = startUdpServer(n.nsB, siteB, 7000, { echo: true });
    await server.ready;

    const capture = n.inNs('B', () => openPacketSocket({ interface: n.vethB }));
    try {
      for (let i = 1; i <= 3; i++) expect(await udpRequestAsync(n.nsA, siteB, 7000, `hello-${i}`)).to.equal(`${siteB} 7000 hello-${i}`);
      expect(server.received.map((d) => d.from)).to.deep.equal([siteA, siteA, siteA]);
      // what crossed the veth: A's requests and B's replies, each inside an outer header between the ends
      const ipip = (f: Uint8Array) => f.length >= 34 && f[12] === 0x08 && f[13] === 0x00 && f[23] === 4;
      const frames: Uint8Array[] = [];
      await waitFor(() => frames.push(...capture.drain().filter(ipip)), () => frames.length >= 6);
      const seen = frames.map((f) => {
        const ip = Buffer.from(f.subarray(14));
        const addr = (at: number) => [...ip.subarray(at, at + 4)].join('.');
        return `${addr(12)}>${addr(16)} [${addr(32)}>${addr(36)} proto ${ip[29]}]`;
      });
      expect(seen).to.deep.equal([
        ...Array.from({ length: 6 }, (_, i) => (i % 2 === 0 ? `${n.addrA}>${n.addrB} [${siteA}>${siteB} proto 17]` : `${n.addrB}>${n.addrA} [${siteB}>${siteA} proto 17]`)),
      ]);
    } finally {
      capture.close();
    }
    expect(await endA.stop()).to.equal(0);
    expect(await endB.stop()).to.equal(0);
    expect(endCounts(endA.lines.find((l) => l.startsWith('final '))!)).to.deep.include({ enc: 3, dec: 3 });
    expect(endCounts(endB.lines.find((l) => l.startsWith('final '))!)).to.deep.include({ enc: 3, dec: 3 });
    expect(attachedIn(n.nsA, n.vethA)).to.deep.equal([]);
    expect(attachedIn(n.nsB, n.vethB)).to.deep.equal([]);
  });

  it('--interface without --remote and a route with host bits are errors; nothing is attached', async () => {
    const n = createVethNetwork({ label: 'exip' });
    net = n;
    const noRemote = runExample('ipip-tunnel', ['--interface', n.vethA, '--local', n.addrA, '--route', '10.9.0.0/24'], { netns: n.nsA });
    runs.push(noRemote);
    expect(await noRemote.exited()).to.equal(1);
    expect(noRemote.output()).to.match(/--interface needs --remote/);
    const hostBits = runExample('ipip-tunnel', ['--interface', n.vethA, '--local', n.addrA, '--remote', n.addrB, '--route', '10.9.0.1/24'], { netns: n.nsA });
    runs.push(hostBits);
    expect(await hostBits.exited()).to.not.equal(0);
    expect(hostBits.output()).to.match(/"10\.9\.0\.1\/24" has host bits set past \/24 \(the prefix is 10\.9\.0\.0\/24\)/);
    expect(attachedIn(n.nsA, n.vethA)).to.deep.equal([]);
  });
});
