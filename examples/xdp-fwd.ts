// xdp-fwd: an IP router in XDP. The program is attached to every interface it forwards between
// and routes each IPv4/IPv6 packet with bpf_fib_lookup (the kernel's routes and neighbours): when
// the next hop is known and the way out is one of those interfaces (the `tx_ports` devmap), it
// decrements the TTL, rewrites the Ethernet addresses and redirects the frame straight out;
// everything else (ARP, packets for the router, unresolved neighbours) goes to the kernel.
// Run: node --import tsx examples/xdp-fwd.ts [--interface IF --interface IF ...] [--seconds N]
import { readFileSync } from 'node:fs';
import { getInterface } from '../lib/index.js';
import { runExample } from './lib/run.js';
import { demoTraffic, startUdpServer, type DemoTraffic, type UdpServer } from './lib/traffic.js';
import { routeThrough, setGro, snmp } from './lib/netns.js';
import { sumCpus } from './lib/format.js';

/** struct fwd_stats of bpf/xdp_fwd.c: one counter per outcome */
type Stats = Record<string, bigint>;

const PORT = 7000;

/** net.ipv4.conf.IF.forwarding of the namespace this process runs in */
function forwardingOn(iface: string): boolean {
  return readFileSync(`/proc/sys/net/ipv4/conf/${iface}/forwarding`, 'utf8').trim() === '1';
}

await runExample<object>({
  name: 'xdp-fwd',
  description: 'route IPv4/IPv6 packets between interfaces in XDP: bpf_fib_lookup, TTL decrement, MAC rewrite, bpf_redirect_map through a devmap',
  xdp: true,
  repeatInterface: true,
  interfaceHelp: 'forward between these existing interfaces (at least two) instead of a throwaway network of three namespaces',
  async main(ctx) {
    const demo = ctx.demo;
    let server: UdpServer | undefined;
    let traffic: DemoTraffic | undefined;
    let ports = [...ctx.interfaces];
    let serverAddr = '';
    if (demo) {
      // nsA (this process) is the router between the client in nsB and a server in a third namespace
      const leg = routeThrough(demo, { label: 'ex', block: 19 });
      ctx.defer(() => leg.cleanup());
      console.log(`server network: ${demo.nsA} (${leg.peer} ${leg.peerAddr}) <-> ${leg.ns} (${leg.veth} ${leg.addr}); ${demo.nsA} routes between them`);
      // frames XDP redirects out of a veth are dropped unless its peer runs NAPI: GRO on (or an XDP program)
      setGro(demo.nsB, demo.vethB, true);
      setGro(leg.ns, leg.veth, true);
      ports = [demo.vethA, leg.peer];
      serverAddr = leg.addr;
      server = startUdpServer(leg.ns, leg.addr, PORT);
      ctx.defer(() => server?.stop());
    }
    if (ports.length < 2) throw new Error(`xdp-fwd forwards between interfaces: give --interface at least twice (got ${ports.join(', ')})`);
    if (new Set(ports).size !== ports.length) throw new Error(`an interface is given twice: ${ports.join(', ')}`);
    // every interface is looked up before anything is attached: a wrong name leaves nothing behind
    const links = ports.map((p) => getInterface(p));
    for (const l of links) {
      if (!forwardingOn(l.name)) console.log(`note: forwarding is off on ${l.name}: its packets go to the kernel (fwd_disabled); sysctl -w net.ipv4.conf.${l.name}.forwarding=1`);
      if (l.kind === 'veth' && !demo) console.log(`note: ${l.name} is a veth: frames sent out through it reach its peer only if the peer has GRO on or an XDP program`);
    }

    const obj = ctx.load('xdp_fwd.o');
    const txPorts = obj.map<number, number>('tx_ports');
    const stats = obj.map<number, Stats[]>('stats');
    for (const l of links) txPorts.update(l.index, l.index);
    console.log(`forwarding between ${links.map((l) => `${l.name} (ifindex ${l.index})`).join(', ')}`);
    for (const l of links) ctx.attachXdp(obj.program('xdp_fwd'), l.name);

    if (demo && server) {
      await server.ready;
      traffic = demoTraffic({ ns: demo.nsB, dst: serverAddr, port: PORT, udp: 5, every: ctx.every });
    }
    const show = (label: string) => {
      const perCpu = stats.lookup(0) ?? [];
      const total = (field: string) => sumCpus(perCpu, (v) => v[field]);
      const passed = Object.keys(perCpu[0] ?? {}).filter((f) => !f.startsWith('forwarded') && total(f) > 0n).map((f) => `${f}=${total(f)}`);
      const extra = server ? ` server received=${server.received.length} ttl=${[...new Set(server.received.map((d) => d.ttl))].join(',') || '-'}` : '';
      console.log(`${label} forwarded=${total('forwarded')} bytes=${total('forwarded_bytes')} passed: ${passed.join(' ') || 'none'} kernel-forwarded=${snmp(null, 'Ip', 'ForwDatagrams')}${extra}`);
    };
    ctx.every(1000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await traffic?.finish();
    show('final');
  },
});
