// examples/tcpdump-lite.ts as a user runs it: a tcpdump-like line per IPv4 packet in and out of
// the interface, streamed through the ring buffer, with the right addresses, ports and lengths.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
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

  it('gives TCP segments their payload length (IP length minus IP and TCP headers with options)', async () => {
    const n = createVethNetwork({ label: 'extd' });
    net = n;
    run = runExample('tcpdump-lite', ['--interface', n.vethA], { netns: n.nsA });
    await run.waitForLine(/^attached tcpdump_egress /);
    const port = 20000 + Math.floor(Math.random() * 40000);
    // a TCP server in nsA reads 10 bytes and answers 5; the client in nsB sends 10 and reads them
    const server = spawn('ip', ['netns', 'exec', n.nsA, 'python3', '-c',
      `import socket\ns=socket.socket(); s.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); s.bind(('${n.addrA}',${port})); s.listen(1); print('ready',flush=True)\nc,_=s.accept(); c.recv(10); c.sendall(b'12345'); c.close()`], { stdio: ['ignore', 'pipe', 'inherit'] });
    try {
      await new Promise((resolve) => server.stdout!.once('data', resolve));
      nsExec(n.nsB, ['python3', '-c', `import socket\ns=socket.create_connection(('${n.addrA}',${port}),timeout=5); s.sendall(b'0123456789'); s.recv(5); s.close()`]);
    } finally {
      server.kill();
    }
    const [a, b] = [esc(n.addrA), esc(n.addrB)];
    await run.waitForLine(new RegExp(`Out IP ${a}\\.${port} > ${b}\\.\\d+: TCP, length 5$`), 5000);
    expect(await run.stop()).to.equal(0);
    const tcpIn = run.lines.filter((l) => new RegExp(` In  IP ${b}\\.\\d+ > ${a}\\.${port}: TCP, length (\\d+)$`).test(l));
    // SYN, ACK, data, ACK(s), FIN…: exactly one segment carries the 10 bytes, the rest carry none
    expect(tcpIn.filter((l) => l.endsWith('length 10'))).to.have.length(1);
    expect(tcpIn.filter((l) => !l.endsWith('length 10') && !l.endsWith('length 0'))).to.deep.equal([]);
    expect(tcpIn.length).to.be.at.least(3);
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
