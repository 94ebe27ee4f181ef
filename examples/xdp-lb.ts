// xdp-lb: a layer-4 load balancer in XDP. A VIP spreads its flows over backends: the first packet
// of a flow picks one (hash of addresses and ports), the LRU `flows` table keeps every later
// packet of that flow on it, the destination is rewritten (checksums fixed) and the packet goes
// up the stack to a local backend or on to a routed one. Replies leaving through the same
// interface get the VIP back as their source (TC egress), so TCP works end to end. Per-CPU stats
// are summed here.
// Run: node --import tsx examples/xdp-lb.ts [--interface IF --vip VIP:PORT[/tcp] --backend ADDR:PORT ...] [--seconds N]
import { runExample } from './lib/run.js';
import { sendUdpAsync, startUdpServer, type UdpServer } from './lib/traffic.js';
import { nsExec } from './lib/netns.js';
import { collect, endpoint, parseAddrPort, serviceKey, sumCpus, u32ToIpv4, ntohs, type Endpoint, type Service } from './lib/format.js';

const MAX_BACKENDS = 16;   // as in bpf/xdp_lb.c

/** the structs of bpf/xdp_lb.c (addresses and ports in network order) */
interface VipInfo { id: number; count: number }
interface Flow { saddr: number; daddr: number; sport: number; dport: number; proto: number; pad: number[] }
interface Stats { packets: bigint; bytes: bigint; new_flows: bigint; no_backend: bigint; replies: bigint }

interface Options {
  vip?: string;
  backend?: { addr: string; port: number }[];
}

await runExample<Options>({
  name: 'xdp-lb',
  description: 'balance the flows to a VIP over backends in XDP (LRU flow table, replies rewritten back to the VIP in TC, per-CPU stats)',
  xdp: true,
  options: (cmd) => cmd
    .option('--vip <VIP:PORT[/tcp]>', 'the service address (default udp)')
    .option('-b, --backend <ADDR:PORT>', `a backend (repeatable, up to ${MAX_BACKENDS})`, collect(parseAddrPort)),
  async main(ctx) {
    const demo = ctx.demo;
    let vipText = ctx.opts.vip;
    const backends = ctx.opts.backend ?? [];
    // the demo makes its own VIP and backends: a --vip given here was replaced without a word and
    // --backend addresses were added to the demo's, where no server can listen
    if (demo && (vipText !== undefined || backends.length)) throw new Error('--vip and --backend go with --interface IF; the throwaway network (no --interface) brings its own VIP and backends');
    const servers: UdpServer[] = [];
    if (demo) {
      // three echoing backends on local addresses of nsA, the clients in nsB reach the VIP through nsA
      vipText = `${demo.spare}.30:80`;
      nsExec(demo.nsB, ['ip', 'route', 'add', `${demo.spare}.30/32`, 'via', demo.addrA]);
      for (const i of [1, 2, 3]) {
        nsExec(demo.nsA, ['ip', 'addr', 'add', `${demo.spare}.${i}/32`, 'dev', 'lo']);
        backends.push({ addr: `${demo.spare}.${i}`, port: 8080 });
      }
    }
    if (!vipText) throw new Error('no --vip given (VIP:PORT)');
    const m = /^(.*?)(?:\/(udp|tcp))?$/.exec(vipText)!;
    const vip = parseAddrPort(m[1]);
    const proto = m[2] === 'tcp' ? 6 : 17;
    if (backends.length === 0 || backends.length > MAX_BACKENDS) throw new Error(`give 1 to ${MAX_BACKENDS} --backend ADDR:PORT`);

    const obj = ctx.load('xdp_lb.o');
    const vips = obj.map<Service, VipInfo>('vips');
    const table = obj.map<number, Endpoint>('backends');
    const flows = obj.map<Flow, Endpoint>('flows');
    const stats = obj.map<number, Stats[]>('stats');
    const id = 0;
    backends.forEach((b, slot) => table.update(id * MAX_BACKENDS + slot, endpoint(b.addr, b.port)));
    vips.update(serviceKey(vip.addr, vip.port, proto), { id, count: backends.length });
    console.log(`vip ${proto === 6 ? 'tcp' : 'udp'} ${vip.addr}:${vip.port} -> ${backends.map((b) => `${b.addr}:${b.port}`).join(', ')}`);
    ctx.attachXdp(obj.program('xdp_lb'));
    ctx.attachTc(obj.program('lb_reply'), 'egress');

    let sent = 0;
    let inflight: Promise<void> = Promise.resolve();
    if (demo) {
      for (const b of backends) {
        const s = startUdpServer(demo.nsA, b.addr, b.port, { echo: true });
        servers.push(s);
        ctx.defer(() => s.stop());
      }
      await Promise.all(servers.map((s) => s.ready));
      // every second: 4 new flows (4 client sockets) of 3 datagrams each
      ctx.every(1000, () => {
        inflight = (async () => {
          await sendUdpAsync(demo.nsB, { dst: vip.addr, port: vip.port, count: 12, flows: 4 });
          sent += 12;
        })();
        return inflight;
      }, true);
    }

    const show = (label: string) => {
      const perBackend = new Map<string, number>();
      let n = 0;
      for (const [, b] of flows.entries()) {
        const key = `${u32ToIpv4(b.addr)}:${ntohs(b.port)}`;
        perBackend.set(key, (perBackend.get(key) ?? 0) + 1);
        n++;
      }
      const s = stats.lookup(0) ?? [];
      console.log(`${label} packets=${sumCpus(s, (v) => v.packets)} bytes=${sumCpus(s, (v) => v.bytes)} new_flows=${sumCpus(s, (v) => v.new_flows)} no_backend=${sumCpus(s, (v) => v.no_backend)} replies=${sumCpus(s, (v) => v.replies)} flows=${n}`);
      for (const b of backends) {
        const key = `${b.addr}:${b.port}`;
        const got = servers[backends.indexOf(b)];
        console.log(`  backend ${key} flows=${perBackend.get(key) ?? 0}${got ? ` received=${got.received.length}` : ''}`);
      }
    };
    ctx.every(2000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await inflight;
    if (demo) {
      await new Promise((r) => setTimeout(r, 100));   // the last datagrams may still be in the backlog
      console.log(`demo traffic from ${demo.nsB}: ${sent} UDP datagrams to ${vip.addr}:${vip.port}`);
    }
    show('final');
  },
});
