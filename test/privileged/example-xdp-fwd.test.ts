// examples/xdp-fwd.ts as a user runs it: a router namespace between a client and a server, the
// example attached to both router interfaces. Datagrams from the client reach the server with
// their TTL decremented once, counted as forwarded by the program, while the router's kernel
// forwards none of them (Ip ForwDatagrams stays): XDP did the routing, not the stack.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, demoNamespaces, demoTrafficSent, leftoverNamespaces, esc, type ExampleRun } from '../helpers/example-run.js';
import { createVethNetwork, nsExec, routeThrough, setGro, snmp, type VethLeg, type VethNetwork } from '../../examples/lib/netns.js';
import { sendUdp, startUdpServer, type UdpServer } from '../../examples/lib/traffic.js';
import { waitFor } from '../helpers/netns.js';

/** the numbers of the example's "final …" line */
function finalLine(run: ExampleRun): { forwarded: number; kernel: number; received?: number; ttl?: string } {
  const line = run.lines.find((l) => l.startsWith('final '));
  const m = /^final forwarded=(\d+) bytes=\d+ passed: .* kernel-forwarded=(\d+)(?: server received=(\d+) ttl=(\S+))?$/.exec(line ?? '');
  if (!m) throw new Error(`no final line:\n${run.output()}`);
  return { forwarded: Number(m[1]), kernel: Number(m[2]), received: m[3] === undefined ? undefined : Number(m[3]), ttl: m[4] };
}

describe('example xdp-fwd', function () {
  this.timeout(60_000);
  let net: VethNetwork | undefined;
  let leg: VethLeg | undefined;
  let run: ExampleRun | undefined;
  let server: UdpServer | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    run?.kill(); run = undefined;
    server?.stop(); server = undefined;
    leg?.cleanup(); leg = undefined;
    net?.cleanup(); net = undefined;
  });

  /**
   * client (nsB) — router (nsA) — server (leg.ns), a UDP server on the server's address; with ipv6
   * the two links get IPv6 addresses as well, and the server listens on its IPv6 one
   */
  async function router(ipv6: boolean): Promise<{ n: VethNetwork; l: VethLeg; s: UdpServer; dst: string; client: string }> {
    const n = createVethNetwork({ label: 'exfw' });
    net = n;
    const l = routeThrough(n, { label: 'exfw' });
    leg = l;
    // the router's frames redirected out of a veth need NAPI on the peer: GRO on (see the example)
    setGro(n.nsB, n.vethB, true);
    setGro(l.ns, l.veth, true);
    let dst = l.addr;
    let client = n.addrB;
    if (ipv6) {
      for (const [ns, dev, addr] of [[n.nsA, n.vethA, 'fd00:f0::1'], [n.nsB, n.vethB, 'fd00:f0::2'], [n.nsA, l.peer, 'fd00:f1::1'], [l.ns, l.veth, 'fd00:f1::2']]) {
        nsExec(ns, ['ip', 'addr', 'add', `${addr}/64`, 'dev', dev, 'nodad']);
      }
      nsExec(n.nsB, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:f0::1']);
      nsExec(l.ns, ['ip', '-6', 'route', 'add', 'default', 'via', 'fd00:f1::1']);
      nsExec(n.nsA, ['sysctl', '-qw', 'net.ipv6.conf.all.forwarding=1']);
      dst = 'fd00:f1::2';
      client = 'fd00:f0::2';
    }
    const s = startUdpServer(l.ns, dst, 7000);
    server = s;
    await s.ready;
    return { n, l, s, dst, client };
  }

  /** the router's kernel's own count of forwarded packets (Ip ForwDatagrams, Ip6 OutForwDatagrams) */
  function kernelForwarded(ns: string, ipv6: boolean): number {
    if (!ipv6) return snmp(ns, 'Ip', 'ForwDatagrams');
    const m = /^Ip6OutForwDatagrams\s+(\d+)$/m.exec(nsExec(ns, ['cat', '/proc/net/snmp6']));
    if (!m) throw new Error(`no Ip6OutForwDatagrams in /proc/net/snmp6 of ${ns}`);
    return Number(m[1]);
  }

  for (const [mode, ipv6] of [['auto', false], ['skb', false], ['auto', true]] as const) {
    it(`forwards client -> server in XDP with the ${ipv6 ? 'IPv6 hop limit' : 'TTL'} decremented, the router's stack forwarding none of them (--xdp-mode ${mode})`, async () => {
      const { n, l, s, dst, client } = await router(ipv6);
      // the kernel routes the first datagram and resolves the server's MAC on the way (the program
      // passes packets whose next hop has no neighbour entry yet)
      sendUdp(n.nsB, { dst, port: 7000, count: 1 });
      expect(await waitFor(() => s.received.length, (v) => v === 1)).to.equal(1);

      run = runExample('xdp-fwd', ['--interface', n.vethA, '--interface', l.peer, '--xdp-mode', mode], { netns: n.nsA });
      await run.waitForLine(new RegExp(`^attached xdp_fwd \\(xdp ${mode === 'skb' ? 'skb' : 'drv'}\\) to ${esc(l.peer)}$`));
      const forwardedByKernel = kernelForwarded(n.nsA, ipv6);
      const N = 20;
      const [sport] = sendUdp(n.nsB, { dst, port: 7000, count: N, size: 32 });
      expect(await waitFor(() => s.received.length, (v) => v >= 1 + N)).to.equal(1 + N);
      for (const d of s.received.slice(1)) expect(d).to.include({ from: client, port: sport, len: 32, ttl: 63 });
      expect(kernelForwarded(n.nsA, ipv6)).to.equal(forwardedByKernel);
      expect(snmp(l.ns, 'Ip', 'InHdrErrors')).to.equal(0);
      expect(await run.stop()).to.equal(0);
      expect(finalLine(run).forwarded).to.be.at.least(N);
      for (const dev of [n.vethA, l.peer]) expect(nsExec(n.nsA, ['ip', 'link', 'show', dev])).not.to.match(/xdp/);
    });
  }

  it('runs on its own three namespaces by default: the server receives every datagram sent, one hop down, and everything is removed', async () => {
    run = runExample('xdp-fwd', ['--seconds', '4']);
    const names = await demoNamespaces(run);
    const m = await run.waitForLine(/^server network: \S+ \(.*\) <-> (\S+) \(/);
    names.push(m[1]);
    expect(await run.exited()).to.equal(0);
    const sent = await demoTrafficSent(run);
    const f = finalLine(run);
    expect(sent.udp).to.be.greaterThan(0);
    expect(f.received).to.equal(sent.udp);
    expect(f.ttl).to.equal('63');
    // all but the first few (before the neighbour was known) went through XDP
    expect(f.forwarded).to.be.at.least(sent.udp - f.kernel);
    expect(f.forwarded).to.be.greaterThan(f.kernel);
    expect(leftoverNamespaces(names)).to.deep.equal([]);
  });

  it('--interface given once is an error and attaches nothing', async () => {
    const n = createVethNetwork({ label: 'exfw' });
    net = n;
    run = runExample('xdp-fwd', ['--interface', n.vethA], { netns: n.nsA });
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: xdp-fwd forwards between interfaces: give --interface at least twice/);
    expect(run.output()).to.not.match(/^attached /m);
    expect(nsExec(n.nsA, ['ip', 'link', 'show', n.vethA])).not.to.match(/xdp/);
  });

  it('a missing interface is an error naming it, before anything is attached', async () => {
    const n = createVethNetwork({ label: 'exfw' });
    net = n;
    run = runExample('xdp-fwd', ['--interface', n.vethA, '--interface', 'tsbpfnosuch0'], { netns: n.nsA });
    expect(await run.exited()).to.equal(1);
    expect(run.output()).to.match(/error: .*no interface "tsbpfnosuch0"/);
    expect(run.output()).to.not.match(/^attached /m);
    expect(nsExec(n.nsA, ['ip', 'link', 'show', n.vethA])).not.to.match(/xdp/);
  });
});
