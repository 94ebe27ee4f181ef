// attachLwt: bpf/attach_lwt.o on routes of the test's own namespaces (B sends to addresses of a
// spare /24 through A). out and xmit count what B's route sends and xmit drops one port, which a
// UDP server in A sees; in counts and drops on A's forwarding route and A's forward counter agrees;
// the ipip-tunnel example's encap_ipip (bpf/ipip_tunnel.o) pushes IP-in-IP headers, read on A's
// interface with a packet socket. `ip route` is the
// oracle for what the kernel holds; bad options are typed errors that leave no route and no fd.
import { expect } from 'chai';
import { readdirSync, readlinkSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, nsExec, waitFor, type TestNetwork } from '../helpers/netns.js';
import { snmp } from '../../examples/lib/netns.js';
import { ipv4ToU32, sumCpus } from '../../examples/lib/format.js';
import { sendUdp, startUdpServer, type UdpServer } from '../../examples/lib/traffic.js';
import { loadObject, AttachArgumentError, type BpfObject } from '../../lib/index.js';
import { InterfaceNotFoundError, NetlinkError, listRoutes, NetlinkSocket } from '../../lib/netlink/index.js';
import { openPacketSocket } from '../../lib/socket/socket.js';
import { attachLwt, LwtAttachment, type AttachLwtOptions } from '../../lib/attach/lwt.js';
import { netShow, formatNetShow } from '../../lib/cli/net.js';

interface Hits { packets: bigint; bytes: bigint; dropped: bigint }
const HOOK = { in: 0, out: 1, xmit: 2 } as const;

/** this process's fds of BPF objects and sockets, to see that a refusal kept none */
const bpfFds = () => readdirSync('/proc/self/fd').map((fd) => {
  try {
    return readlinkSync(`/proc/self/fd/${fd}`);
  } catch {
    return '';
  }
}).filter((t) => /^anon_inode:bpf|^socket:/.test(t)).length;

/** the routes of a namespace that carry BPF programs, as `ip route` prints them */
const ipRoutes = (ns: string, family: '-4' | '-6' = '-4') => nsExec(ns, ['ip', family, 'route', 'show', 'table', 'all']).split('\n').filter((l) => l.includes('encap bpf')).map((l) => l.replace(/\s+/g, ' ').trim());

describe('attachLwt: BPF programs on routes (lwt_in, lwt_out, lwt_xmit)', function () {
  this.timeout(60_000);
  let net: TestNetwork | undefined;
  let obj: BpfObject | undefined;
  let servers: UdpServer[] = [];
  const handles: LwtAttachment[] = [];

  before(function () { requirePrivileged(this); });
  afterEach(() => {
    for (const h of handles.splice(0)) {
      try { h.detach(); } catch { h.close(); }
    }
    for (const s of servers) s.stop();
    servers = [];
    obj?.close();
    obj = undefined;
    net?.cleanup();
    net = undefined;
  });

  const hits = (hook: keyof typeof HOOK): Hits => obj!.map<number, Hits>('hits').lookup(HOOK[hook])!;
  const attach = (o: AttachLwtOptions): LwtAttachment => {
    const h = attachLwt(o);
    handles.push(h);
    return h;
  };
  /** the spare /24's .1 on A's loopback, and UDP servers there */
  async function serversInA(n: TestNetwork, spare: string, ports: number[]): Promise<UdpServer[]> {
    nsExec(n.nsA, ['ip', 'addr', 'add', `${spare}.1/32`, 'dev', 'lo']);
    const made = ports.map((p) => startUdpServer(n.nsA, `${spare}.1`, p));
    servers.push(...made);
    await Promise.all(made.map((s) => s.ready));
    return made;
  }
  function network(label: string): TestNetwork & { spare: string } {
    net = createTestNetwork(label);
    // the test network's spare block: a /24 routed nowhere else
    const spare = `198.18.${250 + (Number(net.addrA.split('.')[2]) % 6)}`;
    return Object.assign(net, { spare });
  }

  it('runs out and xmit for what a route sends: exact counts, one port dropped, `ip route` shows them, detach removes the route', async () => {
    const n = network('lwto');
    const [kept, dropped] = await serversInA(n, n.spare, [9000, 9001]);
    // B's own second address (TEST-NET-1), the source its packets by the route get
    nsExec(n.nsB, ['ip', 'addr', 'add', '192.0.2.1/32', 'dev', 'lo']);
    obj = loadObject('bpf/attach_lwt.o', { constants: { drop_port: 9001 } });
    const r = attach({
      route: `${n.spare}.0/24`, via: n.addrA, interface: n.vethB, netns: n.nsB, source: '192.0.2.1',
      out: obj.program('count_out'), xmit: obj.program('count_xmit'), headroom: 0, mtu: 1400,
    });
    expect(r.info).to.deep.include({ kind: 'lwt', route: `${n.spare}.0/24`, family: 4, table: 254, interface: n.vethB, via: n.addrA, source: '192.0.2.1', mtu: 1400, headroom: 0 });
    expect(r.info.programs).to.deep.equal({
      out: { id: obj.program('count_out').id, name: 'count_out' },
      xmit: { id: obj.program('count_xmit').id, name: 'count_xmit' },
    });
    expect(r.info.netns).to.equal(`/run/netns/${n.nsB}`);
    expect(ipRoutes(n.nsB)).to.deep.equal([`${n.spare}.0/24 encap bpf out count_out xmit count_xmit via ${n.addrA} dev ${n.vethB} src 192.0.2.1 mtu 1400`]);
    expect(r.isAttached()).to.equal(true);
    // `tsbpf net show` lists the route in a section of its own (bpftool has none), with the programs' names
    const shown = netShow(undefined, { netns: n.nsB });
    const idx = r.info.ifindex!;
    expect(shown.lwt).to.deep.equal([{ devname: n.vethB, ifindex: idx, route: `${n.spare}.0/24`, table: 254, out: 'count_out', xmit: 'count_xmit' }]);
    expect(formatNetShow(shown).split('\n\n').slice(-2)).to.deep.equal(['tcx:', `lwt:\n${n.vethB}(${idx}) route ${n.spare}.0/24 out count_out xmit count_xmit\n`]);
    expect(netShow('lo', { netns: n.nsB }).lwt).to.equal(undefined);

    sendUdp(n.nsB, { dst: `${n.spare}.1`, port: 9000, count: 5, size: 100 });
    // a packet this host sends and xmit (or out) drops is the sender's EPERM, one sendto at a time
    for (let i = 0; i < 3; i++) {
      expect(() => sendUdp(n.nsB, { dst: `${n.spare}.1`, port: 9001, count: 1, size: 100 })).to.throw(/Operation not permitted/);
    }
    await waitFor(() => kept.received.length, (x) => x >= 5);
    expect(kept.received.map((d) => d.from)).to.deep.equal(new Array(5).fill('192.0.2.1'));
    // every datagram passed out, then xmit; xmit dropped the 3 to 9001 before they left B
    expect(hits('out')).to.deep.equal({ packets: 8n, bytes: 8n * 128n, dropped: 0n });
    expect(hits('xmit')).to.deep.equal({ packets: 8n, bytes: 8n * 128n, dropped: 3n });
    expect(dropped.received.length).to.equal(0);
    expect(hits('in').packets).to.equal(0n);

    r.detach();
    expect(r.detached).to.equal(true);
    expect(ipRoutes(n.nsB)).to.deep.equal([]);
    expect(() => sendUdp(n.nsB, { dst: `${n.spare}.1`, port: 9000, count: 1 })).to.throw(/unreachable/i);
    r.detach(); // idempotent
  });

  it('runs in for what a forwarding route receives, and drops in it before forwarding', async () => {
    const n = network('lwti');
    nsExec(n.nsA, ['sysctl', '-qw', 'net.ipv4.ip_forward=1']);
    // the route leads back out the interface the packets came in by, where A would send ICMP
    // redirects; with redirects on, 6.18 forwarded only the first packet of an lwt in route (the
    // others vanished after the program, uncounted), so A is a router that does not redirect
    for (const conf of ['all', n.vethA]) nsExec(n.nsA, ['sysctl', '-qw', `net.ipv4.conf.${conf}.send_redirects=0`]);
    nsExec(n.nsB, ['ip', 'route', 'add', `${n.spare}.128/25`, 'via', n.addrA]);
    obj = loadObject('bpf/attach_lwt.o', { constants: { drop_port: 9001 } });
    attach({ route: `${n.spare}.128/25`, interface: n.vethA, netns: n.nsA, in: obj.program('count_in') });
    expect(ipRoutes(n.nsA)).to.deep.equal([`${n.spare}.128/25 encap bpf in count_in dev ${n.vethA} scope link`]);
    const forwarded = snmp(n.nsA, 'Ip', 'ForwDatagrams');
    sendUdp(n.nsB, { dst: `${n.spare}.130`, port: 9000, count: 4 });
    sendUdp(n.nsB, { dst: `${n.spare}.130`, port: 9001, count: 2 });
    const h = await waitFor(() => hits('in'), (x) => x.packets >= 6n);
    expect(h).to.deep.equal({ packets: 6n, bytes: 6n * 44n, dropped: 2n });
    // what in let through went on to ip_forward; what it dropped did not
    expect(await waitFor(() => snmp(n.nsA, 'Ip', 'ForwDatagrams') - forwarded, (x) => x >= 4)).to.equal(4);
    expect(hits('out').packets + hits('xmit').packets).to.equal(0n);
  });

  it('lets xmit push an IP-in-IP header and reroute the packet (read on the far side with a packet socket)', async () => {
    const n = network('lwte');
    // B's end of the ipip-tunnel example: outer headers from B to A
    obj = loadObject('bpf/ipip_tunnel.o', { constants: { local_addr: ipv4ToU32(n.addrB), remote_addr: ipv4ToU32(n.addrA) } });
    const capture = n.inNs('A', () => openPacketSocket({ interface: n.vethA }));
    try {
      attach({ route: `${n.spare}.64/26`, interface: n.vethB, netns: n.nsB, xmit: obj.program('encap_ipip'), headroom: 20 });
      sendUdp(n.nsB, { dst: `${n.spare}.70`, port: 9000, count: 3, size: 30 });
      const outer = (f: Uint8Array) => f.length >= 14 + 20 && f[12] === 0x08 && f[13] === 0x00 && f[14 + 9] === 4;
      const frames: Uint8Array[] = [];
      await waitFor(() => frames.push(...capture.drain().filter(outer)), () => frames.length >= 3);
      expect(frames.length).to.equal(3);
      for (const f of frames) {
        const ip = Buffer.from(f.subarray(14));
        const ipText = (at: number) => [...ip.subarray(at, at + 4)].join('.');
        expect({ src: ipText(12), dst: ipText(16), len: ip.readUInt16BE(2), ttl: ip[8] }).to.deep.equal({ src: n.addrB, dst: n.addrA, len: 20 + 20 + 8 + 30, ttl: 64 });
        // the kernel filled in the outer checksum: a header that sums to 0xffff
        let sum = 0;
        for (let i = 0; i < 20; i += 2) sum += ip.readUInt16BE(i);
        while (sum > 0xffff) sum = (sum & 0xffff) + (sum >> 16);
        expect(sum).to.equal(0xffff);
        const inner = ip.subarray(20);
        expect({ proto: inner[9], dst: [...inner.subarray(16, 20)].join('.'), dport: inner.readUInt16BE(22) }).to.deep.equal({ proto: 17, dst: `${n.spare}.70`, dport: 9000 });
      }
      // ENCAPSULATED (index 0): packets and their inner bytes, summed over the CPUs
      const encapsulated = obj.map<number, { packets: bigint; bytes: bigint }[]>('stats').lookup(0)!;
      expect({ packets: sumCpus(encapsulated, (v) => v.packets), bytes: sumCpus(encapsulated, (v) => v.bytes) }).to.deep.equal({ packets: 3n, bytes: 3n * (20n + 8n + 30n) });
    } finally {
      capture.close();
    }
  });

  it('replaces a route only when asked, and leaves the replacement alone on detach; close() keeps the route; IPv6 routes get the kernel\'s metric', async () => {
    const n = network('lwtr');
    obj = loadObject('bpf/attach_lwt.o');
    const route = `${n.spare}.0/24`;
    const first = attach({ route, interface: n.vethB, netns: n.nsB, out: obj.program('count_out') });
    const taken = (() => {
      try {
        attach({ route, interface: n.vethB, netns: n.nsB, xmit: obj.program('count_xmit') });
      } catch (e) {
        return e;
      }
      return undefined;
    })();
    expect(taken).to.be.instanceOf(NetlinkError).with.property('errno', 'EEXIST');
    expect((taken as Error).message).to.include(route).and.include('replace: true');
    const second = attach({ route, interface: n.vethB, netns: n.nsB, xmit: obj.program('count_xmit'), replace: true });
    expect(ipRoutes(n.nsB)).to.deep.equal([`${route} encap bpf xmit count_xmit dev ${n.vethB} scope link`]);
    expect(first.isAttached()).to.equal(false);
    first.detach(); // the route is the replacement's now: nothing of the first handle's to remove
    expect(ipRoutes(n.nsB)).to.have.length(1);
    second.close();
    expect(ipRoutes(n.nsB)).to.have.length(1);
    nsExec(n.nsB, ['ip', 'route', 'del', route]);

    const v6 = attach({ route: '2001:db8:1::/64', interface: n.vethB, netns: n.nsB, xmit: obj.program('count_xmit'), table: 1000 });
    expect(v6.info).to.deep.include({ route: '2001:db8:1::/64', family: 6, table: 1000, metric: 1024 });
    expect(ipRoutes(n.nsB, '-6')).to.deep.equal([`2001:db8:1::/64 encap bpf xmit count_xmit dev ${n.vethB} table 1000 metric 1024 pref medium`]);
    const sock = NetlinkSocket.open({ netns: n.nsB });
    try {
      expect(listRoutes({ family: 6 }, sock).filter((x) => x.bpf)).to.deep.equal([{
        family: 6, dst: '2001:db8:1::/64', table: 1000, protocol: 3, scope: 0, type: 1, metric: 1024,
        ifindex: v6.info.ifindex, encapType: 6, bpf: { xmit: 'count_xmit' },
      }]);
    } finally {
      sock.close();
    }
    v6.detach();
    expect(ipRoutes(n.nsB, '-6')).to.deep.equal([]);

    // detach() after the caller closed its programs still removes the route (the delete names the
    // programs by the handle's own fds; a stale fd number could name another program)
    const other = loadObject('bpf/attach_lwt.o');
    const mine = attach({ route, interface: n.vethB, netns: n.nsB, out: other.program('count_out') });
    other.close();
    mine.detach();
    expect(ipRoutes(n.nsB)).to.deep.equal([]);
  });

  it('refuses bad options with typed errors before the kernel is asked, and kernel refusals leave nothing', () => {
    const n = network('lwtb');
    obj = loadObject('bpf/attach_lwt.o');
    const out = obj.program('count_out');
    const xmit = obj.program('count_xmit');
    const fds = bpfFds();
    const base = { interface: n.vethB, netns: n.nsB };
    const refusals: [Partial<AttachLwtOptions>, RegExp][] = [
      [{ route: 'nonsense', out }, /"nonsense" is not an IPv4 or IPv6 route prefix/],
      [{ route: '10.1.0.1/24', out }, /host bits set past \/24 \(the prefix is 10\.1\.0\.0\/24\)/],
      [{ route: '10.1.0.0/33', out }, /prefix length "33"; IPv4 takes 0 to 32/],
      [{ route: '10.1.0.0/24', via: '2001:db8::1', out }, /gateway 2001:db8::1 is IPv6, route 10\.1\.0\.0\/24 is IPv4/],
      [{ route: '10.1.0.0/24', source: '::1', out }, /source ::1 is IPv6, route 10\.1\.0\.0\/24 is IPv4/],
      [{ route: '10.1.0.0/24', out, mtu: 60 }, /mtu must be an integer from 68 to 65535, got 60/],
      [{ route: '2001:db8::/64', out, mtu: 1000 }, /mtu must be an integer from 1280 to 65535, got 1000/],
      [{ route: '10.1.0.0/24', source: 'me', out }, /"me" is not an IPv4 or IPv6 source address/],
      [{ route: '10.1.0.0/24' }, /no program given \(in, out or xmit\)/],
      [{ route: '10.1.0.0/24', out, headroom: 20 }, /no xmit program was given/],
      [{ route: '10.1.0.0/24', xmit, headroom: 300 }, /headroom must be an integer from 0 to 256, got 300/],
      [{ route: '10.1.0.0/24', xmit: out }, /program count_out is of type lwt_out; the xmit hook of a route takes lwt_xmit/],
      [{ route: '10.1.0.0/24', out, table: 0 }, /table must be an integer from 1/],
      [{ route: '10.1.0.0/24', out, interface: undefined }, /give an interface, a gateway \(via\), or both/],
    ];
    for (const [o, msg] of refusals) {
      expect(() => attachLwt({ ...base, ...o } as AttachLwtOptions), JSON.stringify(o, (k, v) => (k === 'out' || k === 'xmit' ? v.name : v))).to.throw(AttachArgumentError, msg);
    }
    expect(() => attachLwt({ ...base, route: '10.1.0.0/24', out, interface: 'nosuchdev0' })).to.throw(InterfaceNotFoundError, /nosuchdev0/);
    // the kernel's refusal: a gateway it cannot reach
    const e = (() => {
      try {
        attachLwt({ ...base, route: '10.1.0.0/24', via: '10.99.0.1', out });
      } catch (x) {
        return x;
      }
      return undefined;
    })();
    expect(e).to.be.instanceOf(NetlinkError);
    expect((e as NetlinkError).message).to.include('attachLwt route 10.1.0.0/24 dev').and.include('via 10.99.0.1').and.include(n.nsB);
    expect(ipRoutes(n.nsB)).to.deep.equal([]);
    expect(bpfFds()).to.equal(fds);
  });
});
