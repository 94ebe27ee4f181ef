// conntrack: a TC program on ingress and egress keeps packets and bytes per connection
// (saddr, daddr, protocol) in an LRU hash and running totals in a per-CPU array; this program
// prints the table every 2 s, with the totals summed across CPUs.
// Run: node --import tsx examples/conntrack.ts [--interface IF] [--seconds N]
import { runExample } from './lib/run.js';
import { demoTraffic } from './lib/traffic.js';
import { protocolName, sumCpus, u32ToIpv4 } from './lib/format.js';

/** struct conn_key of bpf/conntrack.c: addresses in network order, explicit zero padding */
interface ConnKey { saddr: number; daddr: number; proto: number; pad: number[] }
/** struct conn_val: packets and IP bytes */
interface ConnVal { packets: bigint; bytes: bigint }

await runExample({
  name: 'conntrack',
  description: 'packets and bytes per connection (saddr, daddr, protocol) seen by TC on an interface, both directions',
  async main(ctx) {
    const obj = ctx.load('conntrack.o');
    const conns = obj.map<ConnKey, ConnVal>('conns');
    const totals = obj.map<number, ConnVal[]>('totals');   // per-CPU: one value per possible CPU
    const prog = obj.program('conntrack');
    ctx.attachTc(prog, 'ingress');
    ctx.attachTc(prog, 'egress');
    const traffic = ctx.demo && demoTraffic({ ns: ctx.demo.nsB, dst: ctx.demo.addrA, udp: 2, pings: 1, size: 100, every: ctx.every });

    const show = (label: string) => {
      const rows = [...conns.entries()].sort((a, b) => Number(b[1].bytes - a[1].bytes));
      console.log(`${label} ${rows.length} connections`);
      for (const [k, v] of rows) {
        const flow = `${u32ToIpv4(k.saddr)} > ${u32ToIpv4(k.daddr)}`;
        console.log(`  ${flow.padEnd(33)} ${protocolName(k.proto).padEnd(9)} packets=${v.packets} bytes=${v.bytes}`);
      }
      const perCpu = totals.lookup(0) ?? [];
      console.log(`  totals: packets=${sumCpus(perCpu, (v) => v.packets)} bytes=${sumCpus(perCpu, (v) => v.bytes)} (summed over ${perCpu.length} CPUs)`);
    };
    ctx.every(2000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await traffic?.finish();
    show('final');
  },
});
