// examples/xdp-lb.ts as a user runs it: flows to the VIP spread over the backends, every packet of
// a flow reaches the same backend, replies come back from the VIP (TCP handshakes complete), and
// the flow table and summed per-CPU stats it prints agree with what the backends received.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, leftoverNamespaces, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, snmp, type VethNetwork } from '../../examples/lib/netns.js';
import { sendUdp, startTcpServer, startUdpServer, tcpRequestAsync, type UdpServer } from '../../examples/lib/traffic.js';
import { waitFor } from '../helpers/netns.js';

/** the stats line and backend lines after the line starting with `label` */
function report(lines: string[], label: string) {
  const i = lines.findLastIndex((l) => l.startsWith(`${label} `));
  const s = /packets=(\d+) bytes=(\d+) new_flows=(\d+) no_backend=(\d+) replies=(\d+) flows=(\d+)$/.exec(lines[i])!;
  const backends = new Map<string, { flows: number; received?: number }>();
  for (const l of lines.slice(i + 1)) {
    const b = /^ {2}backend (\S+) flows=(\d+)(?: received=(\d+))?$/.exec(l);
    if (!b) break;
    backends.set(b[1], { flows: Number(b[2]), received: b[3] === undefined ? undefined : Number(b[3]) });
  }
  return { packets: Number(s[1]), bytes: Number(s[2]), newFlows: Number(s[3]), noBackend: Number(s[4]), replies: Number(s[5]), flows: Number(s[6]), backends };
}

describe('example xdp-lb', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let run: ExampleRun | undefined;
  const servers: UdpServer[] = [];
  const tcpServers: { stop(): void }[] = [];
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    run?.kill(); run = undefined;
    for (const s of [...servers.splice(0), ...tcpServers.splice(0)]) s.stop();
    net?.cleanup(); net = undefined;
  });

  it('spreads 12 flows over 3 backends, keeps each flow on one backend, counts them per CPU', async () => {
    const n = createVethNetwork({ label: 'exlb' });
    net = n;
    const vip = `${n.spare}.30`;
    nsExec(n.nsB, ['ip', 'route', 'add', `${vip}/32`, 'via', n.addrA]);
    const backends = [1, 2, 3].map((i) => `${n.spare}.${i}`);
    for (const b of backends) {
      nsExec(n.nsA, ['ip', 'addr', 'add', `${b}/32`, 'dev', 'lo']);
      servers.push(startUdpServer(n.nsA, b, 8080, { echo: true }));
    }
    await Promise.all(servers.map((s) => s.ready));
    run = runExample('xdp-lb', ['--interface', n.vethA, '--vip', `${vip}:80`, ...backends.flatMap((b) => ['--backend', `${b}:8080`])], { netns: n.nsA });
    await run.waitForLine(/^attached xdp_lb /);
    const csum = { a: snmp(n.nsA, 'Udp', 'InCsumErrors'), b: snmp(n.nsB, 'Udp', 'InCsumErrors') };
    const ports = sendUdp(n.nsB, { dst: vip, port: 80, count: 36, flows: 12, size: 16 });
    expect(new Set(ports).size).to.equal(12);
    const total = () => servers.reduce((s, x) => s + x.received.length, 0);
    expect(await waitFor(total, (v) => v >= 36)).to.equal(36);
    expect(snmp(n.nsA, 'Udp', 'InCsumErrors')).to.equal(csum.a);

    // each flow (source port) landed on exactly one backend, three datagrams each
    const owner = new Map<number, number>();
    servers.forEach((s, i) => {
      for (const d of s.received) {
        expect(d.from).to.equal(n.addrB);
        expect(owner.get(d.port) ?? i, `flow ${d.port} split over backends`).to.equal(i);
        owner.set(d.port, i);
      }
    });
    expect([...owner.keys()].sort()).to.deep.equal([...ports].sort());
    const flowsPer = servers.map((_, i) => [...owner.values()].filter((o) => o === i).length);
    expect(flowsPer.filter((f) => f > 0).length, 'backends used').to.be.at.least(2);

    // the backends echo every datagram: the replies left with the VIP as their source
    const replies = () => Number(/replies=(\d+)/.exec(run!.lines.filter((l) => / replies=/.test(l)).at(-1) ?? '')?.[1] ?? -1);
    await run.waitForLine(/ replies=36 /, 5000);
    expect(replies()).to.equal(36);
    expect(snmp(n.nsB, 'Udp', 'InCsumErrors')).to.equal(csum.b);
    expect(await run.stop()).to.equal(0);
    const r = report(run.lines, 'final');
    // IP bytes: 20 + 8 + 16 per datagram
    expect(r).to.include({ packets: 36, bytes: 36 * 44, newFlows: 12, noBackend: 0, replies: 36, flows: 12 });
    backends.forEach((b, i) => expect(r.backends.get(`${b}:8080`)?.flows, b).to.equal(flowsPer[i]));
    expect(nsExec(n.nsA, ['ip', 'link', 'show', n.vethA])).not.to.match(/xdp/);
  });

  it('balances TCP connections end to end: the client talks to the VIP, the handshake completes through the rewrites', async () => {
    const n = createVethNetwork({ label: 'exlb' });
    net = n;
    const vip = `${n.spare}.31`;
    nsExec(n.nsB, ['ip', 'route', 'add', `${vip}/32`, 'via', n.addrA]);
    const backends = [1, 2].map((i) => `${n.spare}.${i}`);
    const tcp = backends.map((b, i) => {
      nsExec(n.nsA, ['ip', 'addr', 'add', `${b}/32`, 'dev', 'lo']);
      return startTcpServer(n.nsA, b, 8080, `backend-${i}`);
    });
    tcpServers.push(...tcp);
    await Promise.all(tcp.map((t) => t.ready));
    run = runExample('xdp-lb', ['--interface', n.vethA, '--vip', `${vip}:80/tcp`, ...backends.flatMap((b) => ['--backend', `${b}:8080`])], { netns: n.nsA });
    await run.waitForLine(/^attached lb_reply \(tc egress\) /);
    const csum = { a: snmp(n.nsA, 'Tcp', 'InCsumErrors'), b: snmp(n.nsB, 'Tcp', 'InCsumErrors') };
    const answers: string[] = [];
    for (let i = 0; i < 6; i++) answers.push(await tcpRequestAsync(n.nsB, vip, 80));
    // the client's peer is the VIP every time; the data comes from one of the backends
    for (const a of answers) expect(a).to.match(new RegExp(`^${vip.replace(/\./g, '\\.')} 80 backend-[01]$`));
    expect(snmp(n.nsA, 'Tcp', 'InCsumErrors')).to.equal(csum.a);
    expect(snmp(n.nsB, 'Tcp', 'InCsumErrors')).to.equal(csum.b);
    expect(await run.stop()).to.equal(0);
    const r = report(run.lines, 'final');
    expect(r).to.include({ newFlows: 6, noBackend: 0, flows: 6 });
    expect(r.replies).to.be.at.least(6 * 2);   // SYN-ACK and data/FIN at least
    expect(r.packets).to.be.at.least(6 * 3);   // SYN, ACK, FIN-ACK…
  });

  it('runs on its own veth pair and namespaces by default: the backends received every packet it balanced', async () => {
    run = runExample('xdp-lb', ['--seconds', '3']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(0);
    const sent = Number(/(\d+) UDP datagrams/.exec(run.lines.find((l) => l.startsWith('demo traffic'))!)![1]);
    const r = report(run.lines, 'final');
    expect(sent).to.be.greaterThan(0);
    expect(r.packets).to.equal(sent);
    expect(r.newFlows).to.equal(sent / 3);
    expect([...r.backends.values()].reduce((s, b) => s + b.flows, 0)).to.equal(r.flows);
    expect([...r.backends.values()].reduce((s, b) => s + (b.received ?? 0), 0)).to.equal(sent);
    expect(r.replies).to.equal(sent);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });

  it('--vip/--backend without --interface is an error, not a VIP replaced and backends added to the demo ones; the demo network is removed', async () => {
    run = runExample('xdp-lb', ['--vip', '198.19.254.30:80/tcp', '--backend', '198.19.254.1:8080']);
    const names = await demoNamespaces(run);
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: --vip and --backend go with --interface IF/);
    expect(run.output()).to.not.match(/^attached /m);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });
});
