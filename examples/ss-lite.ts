// ss-lite: the TCP and UDP sockets of a network namespace, IPv4 and IPv6, printed like `ss -tuna`
// (Netid State Recv-Q Send-Q Local Address:Port Peer Address:Port). Nothing is attached to an
// interface: two BPF iterators (iter/tcp, iter/udp in bpf/ss_lite.c) walk the kernel's socket
// tables when read and write one 64-byte record per socket; each read is a fresh walk.
//
// Run: node --import tsx examples/ss-lite.ts [--interface any|IF [--netns NAME]...] [--watch] [--extended] [--seconds N]
//
// - Without --interface: a throwaway network (two namespaces, a veth pair) with demo sockets in it:
//   in the first, a TCP listener that never accepts (its 3 connections from the second wait in the
//   accept queue with the 100, 200 and 300 bytes sent to them unread: Recv-Q), a dual-stack IPv6
//   listener with a connection over ::1, a UDP socket that never reads (a connected UDP socket of
//   the second sent it a datagram), a UDP server that does, and a TCP server that answers and
//   closes (one request leaves a TIME-WAIT socket). Once they have settled (sent data acknowledged,
//   no socket half-closed; at most 3 s) the tables of BOTH namespaces are printed, each under a
//   "netns NAME:" line; `ip netns exec NAME ss -tuna` shows the same while the example runs.
// - --interface any: the sockets of the namespace this program runs in (of each --netns NAME, a
//   name from `ip netns list`, instead), nothing of its own. --interface IF: only those IF's traffic
//   reaches: bound to one of IF's addresses, to IF itself (SO_BINDTODEVICE), or to a wildcard
//   address (0.0.0.0, ::) and no other device. IF is looked up in each namespace walked.
// - The table is printed once: then the example exits, or with --seconds it keeps its sockets
//   (and network) until the time is up or Ctrl-C. --watch prints it every 2 s until then.
// - --extended adds `ss -e`'s uid:N (when not 0) and ino:N.
//
// As in `ss` (sock_diag), a listener's Recv-Q is its accept queue and its Send-Q the queue's limit
// (/proc/net/tcp shows 0 there); a UDP socket's queues are buffer memory (skb truesize), not payload
// bytes; time-wait sockets show their substate (a socket closed in FIN-WAIT-2 stays FIN-WAIT-2),
// request sockets (a SYN answered, no final ACK yet) SYN-RECV. Unlike `ss -e`, a request socket's
// uid is its listener's (the iterator gives it, as /proc/net/tcp does). Rows are udp then tcp, IPv4
// then IPv6 as in `ss`; within those, in the order the iterators walk the kernel's hash tables.
import { execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createInterface } from 'node:readline';
import { attachIter, type IterAttachment } from '../lib/index.js';
import { runExample } from './lib/run.js';
import { collect } from './lib/format.js';
import { sendUdpAsync, startTcpServer, startUdpServer, tcpRequestAsync } from './lib/traffic.js';

interface Options { netns?: string[]; watch?: boolean; extended?: boolean }

const RECORD_SIZE = 64;
const AF_INET = 2;
const AF_INET6 = 10;
const STATES: Record<number, string> = {
  1: 'ESTAB', 2: 'SYN-SENT', 3: 'SYN-RECV', 4: 'FIN-WAIT-1', 5: 'FIN-WAIT-2', 6: 'TIME-WAIT',
  7: 'UNCONN', 8: 'CLOSE-WAIT', 9: 'LAST-ACK', 10: 'LISTEN', 11: 'CLOSING',
};
/** TCP states between a close and the end of the connection (TIME-WAIT aside) */
const CLOSING = new Set([4, 5, 8, 9, 11]);

/** one struct ss_record of bpf/ss_lite.c */
interface SocketRecord {
  family: number;
  proto: number;
  state: number;
  v6only: boolean;
  lport: number;
  rport: number;
  recvQ: number;
  sendQ: number;
  uid: number;
  ifindex: number;
  inode: bigint;
  laddr: Uint8Array;
  raddr: Uint8Array;
}

function decode(buf: Buffer): SocketRecord[] {
  if (buf.length % RECORD_SIZE) throw new Error(`iterator output of ${buf.length} bytes is not whole ${RECORD_SIZE}-byte records`);
  const out: SocketRecord[] = [];
  for (let o = 0; o < buf.length; o += RECORD_SIZE) {
    const family = buf[o];
    const alen = family === AF_INET ? 4 : 16;
    out.push({
      family, proto: buf[o + 1], state: buf[o + 2], v6only: buf[o + 3] !== 0,
      lport: buf.readUInt16LE(o + 4), rport: buf.readUInt16LE(o + 6),
      recvQ: buf.readUInt32LE(o + 8), sendQ: buf.readUInt32LE(o + 12),
      uid: buf.readUInt32LE(o + 16), ifindex: buf.readUInt32LE(o + 20), inode: buf.readBigUInt64LE(o + 24),
      laddr: buf.subarray(o + 32, o + 32 + alen), raddr: buf.subarray(o + 48, o + 48 + alen),
    });
  }
  return out;
}

/** inet_ntop(AF_INET6) as glibc writes it (so as `ss -n` prints it) */
function ipv6Text(a: Uint8Array): string {
  const w = Array.from({ length: 8 }, (_, i) => (a[2 * i] << 8) | a[2 * i + 1]);
  let best = { base: -1, len: 0 };
  for (let i = 0; i < 8;) {
    if (w[i] !== 0) { i++; continue; }
    let j = i;
    while (j < 8 && w[j] === 0) j++;
    if (j - i > best.len) best = { base: i, len: j - i };
    i = j;
  }
  if (best.len < 2) best = { base: -1, len: 0 };
  // ::a.b.c.d (IPv4-compatible) and ::ffff:a.b.c.d (IPv4-mapped) end in dotted form
  if (best.base === 0 && (best.len === 6 || (best.len === 5 && w[5] === 0xffff))) {
    return `::${best.len === 5 ? 'ffff:' : ''}${a[12]}.${a[13]}.${a[14]}.${a[15]}`;
  }
  let s = '';
  for (let i = 0; i < 8; i++) {
    if (i === best.base) { s += '::'; i += best.len - 1; continue; }
    s += (s && !s.endsWith(':') ? ':' : '') + w[i].toString(16);
  }
  return s;
}

const isZero = (a: Uint8Array) => a.every((b) => b === 0);

/** an address the way `ss` prints it (inet_addr_print): 0.0.0.0, [::1], * for a dual-stack :: */
function addrText(family: number, a: Uint8Array, v6only: boolean): string {
  if (family === AF_INET) return a.join('.');
  if (!v6only && isZero(a)) return '*';
  return `[${ipv6Text(a)}]`;
}

/** a namespace walked: undefined is this program's own */
type Ns = string | undefined;

function ipJson<T>(ns: Ns, args: string[]): T {
  return JSON.parse(execFileSync('ip', ['-j', ...(ns ? ['-n', ns] : []), ...args], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] })) as T;
}

/** interface names by index, of one namespace (only asked for when a socket is bound to a device) */
function linkNames(ns: Ns): Map<number, string> {
  return new Map(ipJson<{ ifindex: number; ifname: string }[]>(ns, ['link', 'show']).map((l) => [l.ifindex, l.ifname]));
}

interface InterfaceFilter { ifindex: number; addrs: Set<string> }

function interfaceFilter(ns: Ns, dev: string): InterfaceFilter {
  let links: { ifindex: number; addr_info?: { family: string; local: string }[] }[];
  try {
    links = ipJson(ns, ['addr', 'show', 'dev', dev]);
  } catch (e) {
    throw new Error(`no interface ${dev}${ns ? ` in netns ${ns}` : ''}: ${((e as { stderr?: string }).stderr ?? String(e)).trim()}`);
  }
  if (links.length !== 1) throw new Error(`no interface ${dev}${ns ? ` in netns ${ns}` : ''}`);
  return { ifindex: links[0].ifindex, addrs: new Set((links[0].addr_info ?? []).map((a) => a.local)) };
}

/** does IF's traffic reach this socket? */
function reaches(r: SocketRecord, f: InterfaceFilter): boolean {
  if (r.ifindex) return r.ifindex === f.ifindex;
  if (isZero(r.laddr)) return true;
  if (r.family === AF_INET) return f.addrs.has(r.laddr.join('.'));
  const text = ipv6Text(r.laddr);
  const mapped = /^::ffff:(\d+\.\d+\.\d+\.\d+)$/.exec(text);
  return f.addrs.has(mapped ? mapped[1] : text);
}

interface Row { netid: string; state: string; recvQ: number; sendQ: number; local: string; peer: string; extra: string }

function toRows(recs: SocketRecord[], ns: Ns, extended: boolean): Row[] {
  let names: Map<number, string> | undefined;
  const ifname = (i: number) => (names ??= linkNames(ns)).get(i) ?? String(i);
  // udp before tcp and IPv4 before IPv6 as ss lists them; the walk's order otherwise (sort is stable)
  const order = (r: SocketRecord) => (r.proto === 17 ? 0 : 2) + (r.family === AF_INET ? 0 : 1);
  return [...recs].sort((a, b) => order(a) - order(b)).map((r) => {
    const dev = r.ifindex ? `%${ifname(r.ifindex)}` : '';
    return {
      netid: r.proto === 6 ? 'tcp' : 'udp',
      state: STATES[r.state] ?? `state-${r.state}`,
      recvQ: r.recvQ,
      sendQ: r.sendQ,
      local: `${addrText(r.family, r.laddr, r.v6only)}${dev}:${r.lport || '*'}`,
      peer: `${addrText(r.family, r.raddr, r.v6only)}:${r.rport || '*'}`,
      extra: extended ? `${r.uid ? ` uid:${r.uid}` : ''} ino:${r.inode}` : '',
    };
  });
}

/** the table, ss's way: columns as wide as their widest cell, addresses right-aligned at the ':' */
function table(rows: Row[]): string[] {
  const split = (s: string) => { const i = s.lastIndexOf(':'); return [s.slice(0, i), s.slice(i)]; };
  const head = { netid: 'Netid', state: 'State', recvQ: 'Recv-Q', sendQ: 'Send-Q', local: 'Local Address:Port', peer: 'Peer Address:Port' };
  const cells = [head, ...rows].map((r) => ({ ...r, recvQ: String(r.recvQ), sendQ: String(r.sendQ), l: split(r.local), p: split(r.peer) }));
  const w = (f: (c: (typeof cells)[number]) => string) => Math.max(...cells.map((c) => f(c).length));
  const [wn, ws, wr, wq, wla, wlp, wpa, wpp] = [w((c) => c.netid), w((c) => c.state), w((c) => c.recvQ), w((c) => c.sendQ), w((c) => c.l[0]), w((c) => c.l[1]), w((c) => c.p[0]), w((c) => c.p[1])];
  return cells.map((c, i) => [
    c.netid.padEnd(wn), c.state.padEnd(ws), c.recvQ.padEnd(wr), c.sendQ.padEnd(wq),
    `${c.l[0].padStart(wla)}${c.l[1].padEnd(wlp)}`, `${c.p[0].padStart(wpa)}${c.p[1].padEnd(wpp)}${i > 0 ? rows[i - 1].extra : ''}`,
  ].join(' ').trimEnd());
}

// nsA of the demo: a TCP listener that never accepts, a dual-stack IPv6 listener with a connection
// over ::1 (64 bytes sent, not read), a UDP socket that never reads; "ready" once the data is acked
const DEMO_A = `import socket,sys,time,fcntl,termios,struct
addr,port,udp,port6=sys.argv[1],int(sys.argv[2]),int(sys.argv[3]),int(sys.argv[4])
l=socket.socket(); l.setsockopt(socket.SOL_SOCKET,socket.SO_REUSEADDR,1); l.bind((addr,port)); l.listen(16)
l6=socket.socket(socket.AF_INET6); l6.setsockopt(socket.IPPROTO_IPV6,socket.IPV6_V6ONLY,0); l6.bind(('::',port6)); l6.listen(8)
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.bind((addr,udp))
c=socket.create_connection(('::1',port6),timeout=5); c.sendall(b'6'*64)
end=time.time()+5
while struct.unpack('I',fcntl.ioctl(c,termios.TIOCOUTQ,b'\\0'*4))[0] and time.time()<end: time.sleep(0.01)
print('ready',flush=True)
sys.stdin.read()`;

// nsB of the demo: 3 connections to the listener that never accepts, each sending its bytes, and a
// connected UDP socket sending one datagram; "ready" once every byte is acked (so in the peer's queue)
const DEMO_B = `import socket,sys,time,fcntl,termios,struct
addr,port,udp=sys.argv[1],int(sys.argv[2]),int(sys.argv[3])
cs=[]
for n in sys.argv[4].split(','):
  c=socket.create_connection((addr,port),timeout=5); c.sendall(b'x'*int(n)); cs.append(c)
u=socket.socket(socket.AF_INET,socket.SOCK_DGRAM); u.connect((addr,udp)); u.send(b'u'*50)
end=time.time()+5
while any(struct.unpack('I',fcntl.ioctl(c,termios.TIOCOUTQ,b'\\0'*4))[0] for c in cs) and time.time()<end: time.sleep(0.01)
print('ready',flush=True)
sys.stdin.read()`;

/** a python3 holder of sockets in ns: resolves when it prints "ready"; ends when we close its stdin (or exit) */
function holder(ns: string, script: string, args: (string | number)[]): { ready: Promise<void>; stop(): void } {
  const child: ChildProcess = spawn('ip', ['netns', 'exec', ns, 'python3', '-c', script, ...args.map(String)], { stdio: ['pipe', 'pipe', 'pipe'] });
  let stderr = '';
  child.stderr!.on('data', (b: Buffer) => { stderr += b.toString(); });
  const ready = new Promise<void>((resolve, reject) => {
    createInterface({ input: child.stdout! }).on('line', (l) => { if (l === 'ready') resolve(); });
    child.once('exit', (code) => reject(new Error(`demo sockets in ${ns} exited (${code}): ${stderr.trim()}`)));
  });
  ready.catch(() => { /* reported to whoever awaits ready */ });
  return {
    ready,
    stop: () => {
      child.stdin!.end();
      if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    },
  };
}

const DEMO_PORTS = { tcp: 7100, tcpServer: 7101, tcp6: 7102, udpServer: 7000, udp: 7001 };
const DEMO_SENT = [100, 200, 300];

await runExample<Options>({
  name: 'ss-lite',
  description: 'the TCP and UDP sockets of a network namespace, printed like `ss -tuna`, from BPF iterators (iter/tcp, iter/udp)',
  interfaceHelp: "'any': the table of the namespace this process runs in (or of --netns NAME); IF: only the sockets IF's traffic reaches. The program attaches to no interface",
  secondsDefault: 'print once and exit; with --watch, until Ctrl-C',
  options(cmd) {
    cmd.option('-N, --netns <name>', 'with --interface: walk this namespace (from `ip netns list`) instead of this program\'s (repeatable)', collect(String))
      .option('-w, --watch', 'print the table every 2 s')
      .option('-e, --extended', 'add uid:N (when not 0) and ino:N, as ss -e does');
  },
  async main(ctx) {
    const { demo, opts } = ctx;
    if (demo && opts.netns) throw new Error('--netns goes with --interface (any, or an interface of that namespace); the throwaway network (no --interface) brings its own namespaces');
    const obj = ctx.load('ss_lite.o');
    const iters: IterAttachment[] = [];
    for (const name of ['ss_udp', 'ss_tcp']) {
      const it = attachIter({ program: obj.program(name) });
      ctx.defer(() => it.detach());
      iters.push(it);
    }
    const walk = (ns: Ns) => decode(Buffer.concat(iters.map((it) => it.read(ns ? { netns: ns } : {}))));

    // the namespaces to walk, each with its interface filter (none for --interface any or the demo)
    const targets: { ns: Ns; title?: string; filter?: InterfaceFilter }[] = [];
    if (demo) {
      targets.push({ ns: demo.nsA, title: `netns ${demo.nsA}:` }, { ns: demo.nsB, title: `netns ${demo.nsB}:` });
      await startDemo(ctx.defer, demo.nsA, demo.nsB, demo.addrA);
      // settle: the demo's data acknowledged (its holders waited for that) and no socket half-closed
      const deadline = Date.now() + 3000;
      while (Date.now() < deadline && targets.some((t) => walk(t.ns).some((r) => r.proto === 6 && CLOSING.has(r.state)))) {
        await new Promise((r) => setTimeout(r, 20));
      }
    } else {
      for (const ns of opts.netns ?? [undefined]) {
        targets.push({ ns, title: ns ? `netns ${ns}:` : undefined, filter: ctx.iface === 'any' ? undefined : interfaceFilter(ns, ctx.iface) });
      }
    }

    const show = () => {
      const out: string[] = [];
      if (opts.watch) out.push(new Date().toTimeString().slice(0, 8));
      for (const t of targets) {
        const recs = walk(t.ns).filter((r) => !t.filter || reaches(r, t.filter));
        if (t.title) out.push(t.title);
        out.push(...table(toRows(recs, t.ns, opts.extended ?? false)), `${recs.length} socket${recs.length === 1 ? '' : 's'}`);
      }
      console.log(out.join('\n'));
    };
    if (opts.watch) {
      ctx.every(2000, show, true);
    } else {
      show();
      if (!opts.seconds) return;
    }
    await ctx.stopped;
  },
});

async function startDemo(defer: (fn: () => void) => void, nsA: string, nsB: string, addrA: string): Promise<void> {
  const p = DEMO_PORTS;
  const a = holder(nsA, DEMO_A, [addrA, p.tcp, p.udp, p.tcp6]);
  defer(() => a.stop());
  const udpServer = startUdpServer(nsA, addrA, p.udpServer);
  defer(() => udpServer.stop());
  const tcpServer = startTcpServer(nsA, addrA, p.tcpServer, 'bye');
  defer(() => tcpServer.stop());
  await Promise.all([a.ready, udpServer.ready, tcpServer.ready]);
  const b = holder(nsB, DEMO_B, [addrA, p.tcp, p.udp, DEMO_SENT.join(',')]);
  defer(() => b.stop());
  await b.ready;
  // the server closes first: its end waits in TIME-WAIT (60 s)
  await tcpRequestAsync(nsB, addrA, p.tcpServer);
  await sendUdpAsync(nsB, { dst: addrA, port: p.udpServer, count: 2 });
  const deadline = Date.now() + 3000;
  while (udpServer.received.length < 2 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
  console.log(`demo sockets: tcp ${addrA}:${p.tcp} (never accepts; ${DEMO_SENT.length} connections from ${nsB} sent ${DEMO_SENT.join(', ')} bytes), `
    + `tcp [::]:${p.tcp6} (one connection over ::1 sent 64 bytes), tcp ${addrA}:${p.tcpServer} (answered one request and closed), `
    + `udp ${addrA}:${p.udp} (never reads; one 50-byte datagram), udp ${addrA}:${p.udpServer} (read ${udpServer.received.length} datagrams)`);
}
