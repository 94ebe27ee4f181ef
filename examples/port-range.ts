// port-range: one listening socket serves a whole range of ports, as Cloudflare does with
// BPF_PROG_TYPE_SK_LOOKUP. The program of bpf/port_range.c runs on the network namespace's sk_lookup
// hook (attachSkLookup, a BPF link): for a new TCP connection or a UDP datagram to any port of a
// --range it hands the kernel the server's socket from a SOCKMAP, and counts per range.
//
// The server is this process: a TCP listener (and a UDP socket when a range is /udp) opened on
// --listen with tsbpf's own sockets, whose fds go into the SOCKMAP. Node serves the TCP listener
// (net.Server.listen({ fd })); Node's dgram cannot adopt an fd, so datagrams are read with the UDP
// socket's recvFrom(), which also says where each was sent. Every reply names the port the client
// asked for: the accepted socket's local port, for UDP the datagram's original destination,
// answered from that address and port so a connected client takes the reply.
//
// sk_lookup attaches to a network namespace, not an interface. Without --interface the example makes
// its throwaway network, runs the server in the first namespace, attaches there, and connects from
// the second to ports of each range (and one just outside it: refused). With --interface IF it
// attaches to the namespace it runs in, which must contain IF (`ip netns exec NS node … --interface
// IF`), and steers only lookups whose ingress interface (the context's ingress_ifindex, the
// kernel's inet_iif) is IF: packets that arrived through IF, and connections made inside the
// namespace to an address of IF (the kernel names the local route's device, though they go over
// lo); others (to 127.0.0.1, through other interfaces) go the kernel's usual way. --interface any
// steers them all. It makes no connections then; every connection the server takes is printed.
// Run: node --import tsx examples/port-range.ts [--interface IF|any] [--range FIRST-LAST[/tcp|/udp]]... [--listen ADDR:PORT] [--seconds N]
import { createServer, type Server, type Socket } from 'node:net';
import { statSync } from 'node:fs';
import { InvalidArgumentError } from 'commander';
import { attachSkLookup, getInterface, openTcpListener, openUdpSocket, type Fd, type TcpListener, type UdpSocket } from '../lib/index.js';
import { runExample } from './lib/run.js';
import { portRequestsAsync } from './lib/traffic.js';
import { collect, parseAddrPort } from './lib/format.js';

/** MAX_RULES of bpf/port_range.c */
const MAX_RULES = 16;
const IPPROTO_TCP = 6;
const IPPROTO_UDP = 17;

interface Range { protocol: number; first: number; last: number }
/** struct range_stats of bpf/port_range.c */
interface RangeStats { steered: bigint; no_socket: bigint; assign_failed: bigint }

const protoName = (p: number) => (p === IPPROTO_TCP ? 'tcp' : 'udp');
const showRange = (r: Range) => `${r.first === r.last ? r.first : `${r.first}-${r.last}`}/${protoName(r.protocol)}`;

/** "FIRST-LAST[/tcp|/udp]" or "PORT[/tcp|/udp]" (default tcp) */
function parseRange(text: string): Range {
  const m = /^(\d+)(?:-(\d+))?(?:\/(tcp|udp))?$/.exec(text);
  const first = Number(m?.[1]);
  const last = m?.[2] === undefined ? first : Number(m[2]);
  if (!m || first < 1 || last > 65535 || first > last) throw new InvalidArgumentError(`expected FIRST-LAST[/tcp|/udp] with 1 <= FIRST <= LAST <= 65535, got ${text}`);
  return { protocol: m[3] === 'udp' ? IPPROTO_UDP : IPPROTO_TCP, first, last };
}

/** Serve TCP on the listener with Node: reply, close, print. Resolves once it listens. */
function serveTcp(listener: TcpListener, conns: Set<Socket>): Promise<Server> {
  const server = createServer((c) => {
    conns.add(c);
    c.on('close', () => conns.delete(c));
    c.on('error', () => { /* the client left before the reply */ });
    const asked = c.localPort;
    c.end(`tcp ${listener.port} via ${asked}\n`);
    console.log(`served tcp port ${asked} to ${c.remoteAddress}:${c.remotePort}`);
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    // net.Server closes the fd it listens on: it gets a duplicate, the listener keeps (and closes) its own
    server.listen({ fd: listener.fd.dup().release() }, () => {
      server.off('error', reject);
      resolve(server);
    });
  });
}

/** Answer every datagram from the address and port it was sent to, until the socket is closed. */
async function serveUdp(sock: UdpSocket): Promise<void> {
  for await (const d of sock.datagrams()) {
    const reply = `udp ${sock.port} via ${d.to.port}\n`;
    try {
      if (d.to.port === sock.port) {
        sock.sendTo(reply, d.from);
      } else {
        // a connected client takes a reply from the port it asked for only: a socket bound there
        const from = openUdpSocket({ address: d.to.address, port: d.to.port, bufferSize: 256 });
        try {
          from.sendTo(reply, d.from);
        } finally {
          from.close();
        }
      }
    } catch (e) {
      console.log(`server: udp reply from ${d.to.address}:${d.to.port}: ${(e as Error).message}`);
    }
    console.log(`served udp port ${d.to.port} to ${d.from.address}:${d.from.port}`);
  }
}

/** The ports the demo asks for in a range: its ends and two inside, then one just outside. */
function demoPorts(r: Range, all: Range[], listenPort: number): { inside: number[]; outside?: number } {
  const inside = [...new Set([r.first, Math.min(r.first + 1, r.last), (r.first + r.last) >> 1, r.last])];
  const covered = (p: number) => p === listenPort || all.some((o) => o.protocol === r.protocol && p >= o.first && p <= o.last);
  const outside = [r.last + 1, r.first - 1].find((p) => p >= 1 && p <= 65535 && !covered(p));
  return { inside, outside };
}

await runExample<{ range?: Range[]; listen?: { addr: string; port: number } }>({
  name: 'port-range',
  description: 'steer TCP connections and UDP datagrams to any port of a range to one listening socket (sk_lookup + SOCKMAP)',
  interfaceHelp: 'steer only connections whose ingress interface is this one, in the network namespace this runs in ("any": all of them), instead of making a throwaway network',
  options: (cmd) => cmd
    .option('-r, --range <FIRST-LAST[/tcp|/udp]>', 'ports steered to the server (repeatable, up to 16; tcp unless /udp; default: 8000-8999/tcp and 5300-5399/udp)', collect(parseRange))
    .option('-l, --listen <ADDR:PORT>', 'where the server listens; its own port is served as usual (default: 0.0.0.0:7100)', parseAddrPort),
  async main(ctx) {
    const demo = ctx.demo;
    const ranges = ctx.opts.range ?? [{ protocol: IPPROTO_TCP, first: 8000, last: 8999 }, { protocol: IPPROTO_UDP, first: 5300, last: 5399 }];
    if (ranges.length > MAX_RULES) throw new Error(`at most ${MAX_RULES} ranges (the program's map has ${MAX_RULES} slots), got ${ranges.length}`);
    const listen = ctx.opts.listen ?? { addr: '0.0.0.0', port: 7100 };
    const ifindex = ctx.iface === 'any' ? 0 : getInterface(ctx.iface).index;

    const obj = ctx.load('port_range.o', { constants: { ifindex } });
    const rangesMap = obj.map<number, Range>('ranges');
    const sockets = obj.map<number, Fd>('sockets');
    const stats = obj.map<number, RangeStats>('stats');

    const hasTcp = ranges.some((r) => r.protocol === IPPROTO_TCP);
    const hasUdp = ranges.some((r) => r.protocol === IPPROTO_UDP);
    // the server's sockets, in the namespace this runs in (the demo's first one without --interface)
    const tcp = hasTcp ? openTcpListener({ address: listen.addr, port: listen.port }) : undefined;
    ctx.defer(() => tcp?.close());
    const udp = hasUdp ? openUdpSocket({ address: listen.addr, port: listen.port }) : undefined;
    ctx.defer(() => udp?.close());
    const conns = new Set<Socket>();
    if (tcp) {
      const server = await serveTcp(tcp, conns);
      ctx.defer(() => {
        server.close();
        for (const c of conns) c.destroy();
      });
    }
    // ends when the socket is closed (a receive error is printed and ends UDP service only)
    const udpDone = udp ? serveUdp(udp).catch((e: Error) => console.log(`server: udp: ${e.message}`)) : Promise.resolve();
    console.log(`server pid ${process.pid} listening on ${listen.addr}:${listen.port} (${[hasTcp && 'tcp', hasUdp && 'udp'].filter(Boolean).join(', ')})`);

    // rule i: its range, and the server's socket of its protocol at key i of the SOCKMAP (the map
    // holds a reference of its own to the socket)
    ranges.forEach((r, i) => {
      sockets.update(i, (r.protocol === IPPROTO_TCP ? tcp : udp)!.fd);
      rangesMap.update(i, r);
      console.log(`range ${showRange(r)} -> ${listen.addr}:${listen.port}`);
    });

    const netns = demo ? demo.nsA : undefined;
    const link = attachSkLookup({ program: obj.program('steer_ranges'), netns });
    ctx.defer(() => link.detach());
    const where = demo ? demo.nsA : `the namespace it runs in (net:[${statSync('/proc/thread-self/ns/net').ino}])`;
    console.log(`attached steer_ranges (sk_lookup, link ${link.info.linkId}) to network namespace ${where}; steering ${ifindex ? `connections whose ingress interface is ${ctx.iface}` : 'connections from every interface'}`);

    const show = (label: string) => {
      ranges.forEach((r, i) => {
        const s = stats.lookup(i)!;
        console.log(`${label} ${showRange(r)} steered=${s.steered} no_socket=${s.no_socket} assign_failed=${s.assign_failed}`);
      });
    };

    if (demo) {
      // connections from the second namespace: ports of each range, and one just outside
      const specs: string[] = [];
      for (const r of ranges) {
        const { inside, outside } = demoPorts(r, ranges, listen.port);
        for (const p of inside) specs.push(`${protoName(r.protocol)}:${p}`);
        if (outside !== undefined) specs.push(`${protoName(r.protocol)}:${outside}`);
      }
      const dst = listen.addr === '0.0.0.0' ? demo.addrA : listen.addr;
      const replies = await portRequestsAsync(demo.nsB, dst, specs);
      specs.forEach((s, i) => {
        const [proto, p] = s.split(':');
        console.log(`demo ${proto} ${dst}:${p}: ${replies[i]}`);
      });
    }

    ctx.every(2000, () => show(new Date().toISOString().slice(11, 19)), true);
    await ctx.stopped;
    show('final');
    udp?.close();
    await udpDone;
  },
});
