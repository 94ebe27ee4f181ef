// packet-counter: XDP counts received packets per IP protocol in a hash map; this program prints
// the counts every 2 s by iterating the map's keys.
// Run: node --import tsx examples/packet-counter.ts [--interface IF] [--seconds N]
import { runExample } from './lib/run.js';
import { demoTraffic } from './lib/traffic.js';
import { protocolName } from './lib/format.js';

await runExample({
  name: 'packet-counter',
  description: 'count received packets per IP protocol with XDP, printed every 2 seconds',
  xdp: true,
  async main(ctx) {
    const obj = ctx.load('packet_counter.o');
    // key: the protocol number (__u32), value: packets (__u64)
    const protocols = obj.map<number, bigint>('protocols');
    ctx.attachXdp(obj.program('packet_counter'));
    const traffic = ctx.demo && demoTraffic({ ns: ctx.demo.nsB, dst: ctx.demo.addrA, udp: 3, pings: 1, every: ctx.every });

    const show = (label: string) => {
      // walk the keys (BPF_MAP_GET_NEXT_KEY) and look each one up; a key the program adds meanwhile
      // shows up next time
      const rows: [number, bigint][] = [];
      for (const proto of protocols.keys()) {
        const packets = protocols.lookup(proto);
        if (packets !== undefined) rows.push([proto, packets]);
      }
      rows.sort((a, b) => a[0] - b[0]);
      const text = rows.map(([p, n]) => `${protocolName(p)}(${p})=${n}`).join(' ');
      console.log(`${label} ${text || '(no IP packets yet)'}`);
    };
    ctx.every(2000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await traffic?.finish();
    show('final');
  },
});
