// ipip-tunnel: an IP-in-IP tunnel made of two BPF programs and no tunnel device (the kernel needs
// no ipip module). Each end puts encap_ipip on its routes to the far side's prefixes (attachLwt:
// the route's xmit hook wraps every packet in an outer IPv4 header to the far end, which the kernel
// then routes) and decap_ipip on TC ingress of its interface (it strips that header from what the
// far end sent, and the inner packet goes on into the stack).
//
// Without --interface, both ends run here: the demo's two namespaces each get a site address on
// their loopback (A: SPARE.1, B: SPARE.129), and a client in A asks an echo server on B's site
// address through the tunnel, which carries the request one way and the reply the other.
// Run: node --import tsx examples/ipip-tunnel.ts [--interface IF --local ADDR --remote ADDR --route PREFIX... [--source ADDR]] [--seconds N]
import { InvalidArgumentError } from 'commander';
import { attachLwt, attachTc, getInterface, parsePrefix, NetlinkSocket, type BpfObject, type InvalidAddressError } from '../lib/index.js';
import { runExample, type ExampleContext } from './lib/run.js';
import { nsExec } from './lib/netns.js';
import { startUdpServer, udpRequestAsync } from './lib/traffic.js';
import { collect, ipv4ToU32, sumCpus } from './lib/format.js';

interface TunnelOptions {
  local?: string;
  remote?: string;
  route?: string[];
  source?: string;
}

interface TunnelStats { packets: bigint; bytes: bigint }
const COUNTERS = ['encapsulated', 'decapsulated', 'encap errors', 'decap errors'] as const;
/** the outer IPv4 header each packet carries through the tunnel */
const OUTER_HEADER = 20;

function prefix(v: string): string {
  try {
    parsePrefix(v);
  } catch (e) {
    throw new InvalidArgumentError((e as InvalidAddressError).message);
  }
  return v;
}

/** One end: its routes to the far side through encap_ipip, decap_ipip on ingress; the object, for its counters. */
function tunnelEnd(ctx: ExampleContext<TunnelOptions>, o: { iface: string; local: string; remote: string; routes: string[]; source?: string; netns?: string }): BpfObject {
  // the routes' MTU leaves room for the outer header, so TCP through the tunnel sends segments that fit
  const sock = NetlinkSocket.open(o.netns ? { netns: o.netns } : {});
  let mtu: number;
  try {
    mtu = getInterface(o.iface, sock).mtu - OUTER_HEADER;
  } finally {
    sock.close();
  }
  const obj = ctx.load('ipip_tunnel.o', { constants: { local_addr: ipv4ToU32(o.local), remote_addr: ipv4ToU32(o.remote) } });
  const where = o.netns ? ` in ${o.netns}` : '';
  for (const route of o.routes) {
    const r = attachLwt({
      route, interface: o.iface, xmit: obj.program('encap_ipip'), headroom: OUTER_HEADER, mtu,
      ...(o.source ? { source: o.source } : {}), ...(o.netns ? { netns: o.netns } : {}),
    });
    ctx.defer(() => r.detach());
    console.log(`route ${route} dev ${o.iface}${o.source ? ` src ${o.source}` : ''} mtu ${mtu}${where}: encapsulated to ${o.remote}`);
  }
  const tc = attachTc({ program: obj.program('decap_ipip'), interface: o.iface, direction: 'ingress', ...(o.netns ? { netns: o.netns } : {}) });
  ctx.defer(() => tc.detach());
  console.log(`attached decap_ipip (tc ingress) to ${o.iface}${where}: IP-in-IP from ${o.remote} to ${o.local} decapsulated`);
  return obj;
}

function counters(obj: BpfObject): Record<(typeof COUNTERS)[number], { packets: bigint; bytes: bigint }> {
  const stats = obj.map<number, TunnelStats[]>('stats');
  const out = {} as Record<(typeof COUNTERS)[number], { packets: bigint; bytes: bigint }>;
  COUNTERS.forEach((name, i) => {
    const perCpu = stats.lookup(i) ?? [];
    out[name] = { packets: sumCpus(perCpu, (v) => v.packets), bytes: sumCpus(perCpu, (v) => v.bytes) };
  });
  return out;
}

function show(obj: BpfObject): string {
  const c = counters(obj);
  const errors = c['encap errors'].packets + c['decap errors'].packets;
  return `encapsulated=${c.encapsulated.packets} (${c.encapsulated.bytes} B) decapsulated=${c.decapsulated.packets} (${c.decapsulated.bytes} B)${errors ? ` errors=${errors}` : ''}`;
}

await runExample<TunnelOptions>({
  name: 'ipip-tunnel',
  description: 'an IP-in-IP tunnel from a route\'s lwt xmit program (encapsulation) and a TC ingress program (decapsulation), without a tunnel device',
  options: (cmd) => cmd
    .option('--local <addr>', 'this end\'s tunnel address (the outer source); with --interface')
    .option('--remote <addr>', 'the far end\'s tunnel address (the outer destination); with --interface')
    .option('--route <prefix>', 'a prefix behind the far end, routed through the tunnel (repeatable); with --interface', collect(prefix))
    .option('--source <addr>', 'the source address of this host\'s packets into the tunnel (one of its own); with --interface'),
  async main(ctx) {
    const { demo, opts } = ctx;
    if (demo) {
      if (opts.local || opts.remote || opts.route || opts.source) throw new Error('--local, --remote, --route and --source go with --interface IF; the throwaway network (no --interface) brings its own tunnel');
      const siteA = `${demo.spare}.1`;
      const siteB = `${demo.spare}.129`;
      nsExec(demo.nsA, ['ip', 'addr', 'add', `${siteA}/32`, 'dev', 'lo']);
      nsExec(demo.nsB, ['ip', 'addr', 'add', `${siteB}/32`, 'dev', 'lo']);
      const a = tunnelEnd(ctx, { iface: demo.vethA, local: demo.addrA, remote: demo.addrB, routes: [`${demo.spare}.128/25`], source: siteA });
      const b = tunnelEnd(ctx, { iface: demo.vethB, local: demo.addrB, remote: demo.addrA, routes: [`${demo.spare}.0/25`], source: siteB, netns: demo.nsB });
      const server = startUdpServer(demo.nsB, siteB, 7000, { echo: true });
      ctx.defer(() => server.stop());
      await server.ready;
      let requests = 0;
      let answered = 0;
      let inflight: Promise<void> = Promise.resolve();
      ctx.every(1000, () => {
        inflight = (async () => {
          const payload = `request-${++requests}`;
          const reply = await udpRequestAsync(demo.nsA, siteB, 7000, payload);
          if (reply === `${siteB} 7000 ${payload}`) answered++;
          console.log(`client ${siteA}: ${payload} to ${siteB}:7000 -> ${reply === 'timeout' ? 'no reply' : `reply from ${reply}`}`);
        })();
        return inflight;
      }, true);
      ctx.every(2000, () => console.log(`${new Date().toISOString().slice(11, 19)} A ${show(a)} | B ${show(b)}`));
      await ctx.stopped;
      await inflight;
      console.log(`final A ${show(a)} | B ${show(b)}`);
      console.log(`demo: ${answered} of ${requests} requests answered through the tunnel`);
      return;
    }
    const missing = (['local', 'remote', 'route'] as const).filter((k) => !opts[k]);
    if (missing.length) throw new Error(`--interface needs ${missing.map((k) => `--${k}`).join(', ')}`);
    const obj = tunnelEnd(ctx, { iface: ctx.iface, local: opts.local!, remote: opts.remote!, routes: opts.route!, source: opts.source });
    ctx.every(2000, () => console.log(`${new Date().toISOString().slice(11, 19)} ${show(obj)}`));
    await ctx.stopped;
    console.log(`final ${show(obj)}`);
  },
});
