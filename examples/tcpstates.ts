// tcpstates: a line per TCP state change (IPv4 and IPv6), like bcc's tcpstates. The program of
// bpf/tcpstates.c runs on the tp_btf/inet_sock_set_state tracepoint (attachTracing), keeps when each
// socket last changed state, and sends records through a ring buffer (RingBuffer).
//
// It attaches to no interface: it watches network namespaces. Without --interface it makes its own
// throwaway network and watches its two namespaces, where it runs TCP servers (IPv4 and IPv6) in the
// first and connects to them from the second every second. With --interface IF it watches the
// namespace it runs in (IF must be there: `ip netns exec NS node … --interface IF` watches NS) and
// makes no connections. --all watches every namespace of the machine.
// Run: node --import tsx examples/tcpstates.ts [--interface IF] [--all] [--seconds N]
import { statSync } from 'node:fs';
import { RingBuffer, attachTracing } from '../lib/index.js';
import { runExample, type ExampleContext } from './lib/run.js';
import { ip, nsExec } from './lib/netns.js';
import { startTcpServer, tcpRequestAsync } from './lib/traffic.js';
import { u32ToIpv4 } from './lib/format.js';

/** include/net/tcp_states.h */
const STATES = ['', 'ESTABLISHED', 'SYN_SENT', 'SYN_RECV', 'FIN_WAIT1', 'FIN_WAIT2', 'TIME_WAIT', 'CLOSE',
  'CLOSE_WAIT', 'LAST_ACK', 'LISTEN', 'CLOSING', 'NEW_SYN_RECV', 'BOUND_INACTIVE'];
const TCP_CLOSE = 7;
const TCP_LISTEN = 10;
const AF_INET = 2;
const DEMO_PORT = 7100;

function stateName(n: number): string {
  return STATES[n] || `state-${n}`;
}

/** struct event of bpf/tcpstates.c (88 bytes; host byte order but the addresses) */
interface StateChange {
  skaddr: bigint;
  deltaUs: bigint;
  laddr: string;
  raddr: string;
  netns: number;
  pid: number;
  lport: number;
  rport: number;
  oldstate: number;
  newstate: number;
  comm: string;
}

function ipv6(b: Uint8Array): string {
  const words = Array.from({ length: 8 }, (_, i) => (b[2 * i] << 8) | b[2 * i + 1]);
  if (words.slice(0, 5).every((w) => w === 0) && words[5] === 0xffff) return `::ffff:${b[12]}.${b[13]}.${b[14]}.${b[15]}`;
  // the longest run of two or more zero words becomes ::
  let best = 0;
  let len = 0;
  for (let i = 0; i < 8; i++) {
    let j = i;
    while (j < 8 && words[j] === 0) j++;
    if (j - i > len) { best = i; len = j - i; }
    i = j; // words[j] is not zero: no run starts there
  }
  const hex = words.map((w) => w.toString(16));
  if (len < 2) return hex.join(':');
  return `${hex.slice(0, best).join(':')}::${hex.slice(best + len).join(':')}`;
}

function decode(r: Uint8Array): StateChange {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const family = v.getUint16(56, true);
  const addr = (off: number) => (family === AF_INET ? u32ToIpv4(v.getUint32(off, true)) : ipv6(r.subarray(off, off + 16)));
  const comm = r.subarray(72, 88);
  const nul = comm.indexOf(0);
  return {
    skaddr: v.getBigUint64(0, true),
    deltaUs: v.getBigUint64(8, true),
    laddr: addr(16),
    raddr: addr(32),
    netns: v.getUint32(48, true),
    pid: v.getUint32(52, true),
    lport: v.getUint16(58, true),
    rport: v.getUint16(60, true),
    oldstate: v.getInt32(64, true),
    newstate: v.getInt32(68, true),
    comm: Buffer.from(nul < 0 ? comm : comm.subarray(0, nul)).toString('latin1'),
  };
}

const HEADER = `${'SKADDR'.padEnd(16)} ${'C-PID'.padEnd(7)} ${'C-COMM'.padEnd(10)} ${'LADDR'.padEnd(15)} ${'LPORT'.padEnd(5)} ${'RADDR'.padEnd(15)} ${'RPORT'.padEnd(5)} ${'OLDSTATE'.padEnd(11)} -> ${'NEWSTATE'.padEnd(11)} MS`;

function format(e: StateChange): string {
  const ms = `${e.deltaUs / 1000n}.${String(e.deltaUs % 1000n).padStart(3, '0')}`;
  return `${e.skaddr.toString(16).padStart(16, '0')} ${String(e.pid).padEnd(7)} ${e.comm.slice(0, 10).padEnd(10)} ${e.laddr.padEnd(15)} ${String(e.lport).padEnd(5)} ${e.raddr.padEnd(15)} ${String(e.rport).padEnd(5)} ${stateName(e.oldstate).padEnd(11)} -> ${stateName(e.newstate).padEnd(11)} ${ms}`;
}

function netnsInode(path: string): number {
  return statSync(path).ino;
}

/** The namespaces to watch (inodes, at most two; none: every one), and the line that says so. */
function watched(ctx: ExampleContext<{ all?: boolean }>): { inodes: number[]; what: string } {
  if (ctx.opts.interface) {
    // this program attaches to no interface: IF names the namespace, which must be the current one
    try {
      ip('link', 'show', 'dev', ctx.opts.interface);
    } catch {
      throw new Error(`no interface ${ctx.opts.interface} in this network namespace: --interface names the namespace to watch (run the example inside it, e.g. with ip netns exec)`);
    }
  }
  if (ctx.opts.all) return { inodes: [], what: 'every network namespace' };
  if (ctx.demo) {
    const [a, b] = [ctx.demo.nsA, ctx.demo.nsB].map((n) => netnsInode(`/var/run/netns/${n}`));
    return { inodes: [a, b], what: `network namespaces ${a} (${ctx.demo.nsA}) and ${b} (${ctx.demo.nsB})` };
  }
  const self = netnsInode('/proc/thread-self/ns/net');
  return { inodes: [self], what: `network namespace ${self} (this process's, where ${ctx.opts.interface} is)` };
}

await runExample<{ all?: boolean }>({
  name: 'tcpstates',
  description: 'print TCP state changes (IPv4 and IPv6) like bcc tcpstates: tp_btf/inet_sock_set_state + ring buffer',
  interfaceHelp: 'watch the network namespace this process runs in (it must have this interface; the program attaches to no interface) instead of a throwaway network, and make no connections',
  options(cmd) {
    cmd.option('--all', 'watch every network namespace, not only the throwaway network\'s or the current one');
  },
  async main(ctx) {
    const { inodes, what } = watched(ctx);
    const obj = ctx.load('tcpstates.o', { constants: { netns_a: inodes[0] ?? 0, netns_b: inodes[1] ?? 0 } });
    const rb = new RingBuffer(obj.map('events'));
    ctx.defer(() => rb.close());
    const link = attachTracing({ program: obj.program('tcp_set_state') });
    ctx.defer(() => link.detach());
    console.log(`attached tcp_set_state (${link.info.attachType} ${link.info.target}, ${link.info.mode}); watching ${what}`);
    console.log(HEADER);

    let changes = 0;
    const listeners = new Set<bigint>();
    let waiting: (() => void) | undefined;
    const show = (r: Uint8Array) => {
      const e = decode(r);
      changes++;
      if (e.newstate === TCP_LISTEN && e.lport === DEMO_PORT) listeners.add(e.skaddr);
      if (e.newstate === TCP_CLOSE) listeners.delete(e.skaddr);
      console.log(format(e));
      waiting?.();
    };
    const reading = (async () => {
      for await (const r of rb) show(r);
    })();

    const demo = ctx.demo && await demoConnections(ctx);
    await ctx.stopped;
    if (demo) {
      await demo.finish();
      // the servers' listening sockets close as their processes exit: wait (bounded) for those changes
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, 2000);
        waiting = () => { if (listeners.size === 0) { clearTimeout(t); resolve(); } };
        waiting();
      });
      console.log(demo.summary());
    }
    rb.consume(show); // what came since the reader last woke up
    rb.close();
    await reading;
    console.log(`${changes} state changes`);
  },
});

/**
 * The demo: TCP servers in the first namespace on an IPv4 and an IPv6 address (each answers and
 * closes), and every second one connection to each from the second namespace.
 */
async function demoConnections(ctx: ExampleContext<{ all?: boolean }>): Promise<{ finish(): Promise<void>; summary(): string }> {
  const net = ctx.demo!;
  // IPv6 addresses from the documentation/benchmarking prefix 2001:2::/48, one /64 per demo network
  const [, , c, d] = net.subnet.split('.').map(Number);
  const prefix = `2001:2:0:${((c << 8) | d).toString(16)}`;
  const [a6, b6] = [`${prefix}::1`, `${prefix}::2`];
  nsExec(net.nsA, ['ip', '-6', 'addr', 'add', `${a6}/64`, 'dev', net.vethA, 'nodad']);
  nsExec(net.nsB, ['ip', '-6', 'addr', 'add', `${b6}/64`, 'dev', net.vethB, 'nodad']);
  const servers = [startTcpServer(net.nsA, net.addrA, DEMO_PORT, 'hello'), startTcpServer(net.nsA, a6, DEMO_PORT, 'hello')];
  let stopped = false;
  const stop = () => {
    if (stopped) return;
    stopped = true;
    for (const s of servers) s.stop();
  };
  ctx.defer(stop);
  await Promise.all(servers.map((s) => s.ready));
  const made = { v4: 0, v6: 0 };
  let inflight: Promise<void> = Promise.resolve();
  let finished = false;
  ctx.every(1000, () => {
    if (finished) return Promise.resolve();
    inflight = (async () => {
      await tcpRequestAsync(net.nsB, net.addrA, DEMO_PORT);
      made.v4++;
      await tcpRequestAsync(net.nsB, a6, DEMO_PORT);
      made.v6++;
    })();
    return inflight;
  }, true);
  return {
    async finish() {
      finished = true;
      await inflight.catch(() => { /* reported by every() */ });
      stop();
    },
    summary: () => `demo connections from ${net.nsB}: ${made.v4} to ${net.addrA}:${DEMO_PORT}, ${made.v6} to [${a6}]:${DEMO_PORT}`,
  };
}
