// port-range: one listening socket serves a whole range of ports, as Cloudflare does with
// BPF_PROG_TYPE_SK_LOOKUP. The program of bpf/port_range.c runs on the network namespace's sk_lookup
// hook (attachSkLookup, a BPF link): for a new TCP connection or a UDP datagram to any port of a
// --range it hands the kernel the server's socket from a SOCKMAP, and counts per range.
//
// The server is a small python3 process started by this program in the namespace it attaches to,
// listening on --listen (TCP, and UDP when a range is /udp); every reply names the port the client
// asked for (the accepted socket's local port; for UDP the datagram's original destination,
// answered from that port so a connected client takes the reply). Node's sockets do not expose
// their fds and tsbpf's FFI sockets have no TCP listener, so this process takes the server's
// sockets with pidfd_getfd(2) and puts them into the SOCKMAP, where they stay while the server
// lives.
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
import { spawn, type ChildProcess } from 'node:child_process';
import { statSync } from 'node:fs';
import { createInterface } from 'node:readline';
import { InvalidArgumentError } from 'commander';
import { attachSkLookup, fdFromProcess, getInterface, type Fd, type BpfMap } from '../lib/index.js';
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

// the server: a TCP listener and/or a UDP socket on ADDR:PORT; first line {pid, tcp, udp} (its fds,
// -1 for none), then a line per connection or datagram served; it ends when its stdin closes
const SERVER = `
import json, os, select, socket, struct, sys
addr, port, want_tcp, want_udp = sys.argv[1], int(sys.argv[2]), sys.argv[3] == '1', sys.argv[4] == '1'
t = u = None
if want_tcp:
    t = socket.socket(); t.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1); t.bind((addr, port)); t.listen(128)
if want_udp:
    u = socket.socket(socket.AF_INET, socket.SOCK_DGRAM); u.bind((addr, port))
    u.setsockopt(socket.SOL_IP, 20, 1)  # IP_RECVORIGDSTADDR
print(json.dumps({'pid': os.getpid(), 'tcp': t.fileno() if t else -1, 'udp': u.fileno() if u else -1}), flush=True)
watch = [s for s in (t, u) if s] + [sys.stdin]
while True:
    r, _, _ = select.select(watch, [], [])
    if sys.stdin in r and not sys.stdin.buffer.read1(64):
        break
    if t in r:
        c, peer = t.accept()
        asked = c.getsockname()[1]
        try:
            c.sendall(b'tcp %d via %d\\n' % (port, asked))
        except OSError:
            pass
        c.close()
        print(json.dumps({'proto': 'tcp', 'port': asked, 'from': '%s:%d' % peer[:2]}), flush=True)
    if u in r:
        data, anc, _, peer = u.recvmsg(2048, 256)
        to = (addr, port)
        for level, kind, d in anc:
            if level == socket.SOL_IP and kind == 20:
                to = (socket.inet_ntoa(d[4:8]), struct.unpack('!H', d[2:4])[0])
        reply = b'udp %d via %d\\n' % (port, to[1])
        if to[1] == port:
            u.sendto(reply, peer)
        else:
            s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
            s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            try:
                s.bind(to); s.sendto(reply, peer)
            except OSError as e:
                print(json.dumps({'error': 'udp reply from %s:%d: %s' % (to[0], to[1], e)}), flush=True)
            s.close()
        print(json.dumps({'proto': 'udp', 'port': to[1], 'from': '%s:%d' % peer[:2]}), flush=True)
`;

interface Server { pid: number; tcp: number; udp: number; child: ChildProcess }

/** Start the server (in this thread's network namespace) and wait (bounded) for its first line. */
function startServer(addr: string, port: number, tcp: boolean, udp: boolean, onLine: (m: Record<string, string | number>) => void): Promise<Server> {
  const child = spawn('python3', ['-u', '-c', SERVER, addr, String(port), tcp ? '1' : '0', udp ? '1' : '0'], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`the server on ${addr}:${port} did not start within 10 s`)), 10_000);
    child.once('close', (code) => {
      clearTimeout(timer);
      reject(new Error(`the server on ${addr}:${port} exited (${code ?? child.signalCode}): ${stderr.trim().split('\n').at(-1)}`));
    });
    let first = true;
    createInterface({ input: child.stdout! }).on('line', (line) => {
      const m = JSON.parse(line) as Record<string, string | number>;
      if (first) {
        first = false;
        clearTimeout(timer);
        resolve({ pid: Number(m.pid), tcp: Number(m.tcp), udp: Number(m.udp), child });
      } else {
        onLine(m);
      }
    });
  });
}

/** Close the server's stdin (it exits at EOF) and wait for it, SIGKILL after 3 s. */
function stopServer(s: Server): Promise<void> {
  const c = s.child;
  if (c.exitCode !== null || c.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    const timer = setTimeout(() => c.kill('SIGKILL'), 3000);
    c.once('exit', () => {
      clearTimeout(timer);
      resolve();
    });
    c.stdin!.end();
  });
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
    const server = await startServer(listen.addr, listen.port, hasTcp, hasUdp, (m) => {
      if (m.error) console.log(`server: ${m.error}`);
      else console.log(`served ${m.proto} port ${m.port} to ${m.from}`);
    });
    ctx.defer(() => {
      server.child.stdin!.end();
      if (server.child.exitCode === null && server.child.signalCode === null) server.child.kill('SIGKILL');
    });
    console.log(`server pid ${server.pid} listening on ${listen.addr}:${listen.port} (${[hasTcp && 'tcp', hasUdp && 'udp'].filter(Boolean).join(', ')})`);

    // rule i: its range, and the server's socket of its protocol at key i of the SOCKMAP (the map
    // holds the socket; this process's copy of the fd goes right away)
    const taken = new Map<number, Fd>();
    try {
      for (const proto of [IPPROTO_TCP, IPPROTO_UDP]) {
        const fd = proto === IPPROTO_TCP ? server.tcp : server.udp;
        if (fd >= 0) taken.set(proto, fdFromProcess(server.pid, fd));
      }
      ranges.forEach((r, i) => {
        sockets.update(i, taken.get(r.protocol)!);
        rangesMap.update(i, r);
        console.log(`range ${showRange(r)} -> ${listen.addr}:${listen.port}`);
      });
    } finally {
      for (const fd of taken.values()) fd.close();
    }

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
    // the server ends when its stdin closes; waited for (bounded) so none is left when this exits
    await stopServer(server);
  },
});
