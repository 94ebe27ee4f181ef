// tcpdump-lite: TC programs on ingress and egress send one record per IPv4 packet through a ring
// buffer; this program prints them the way tcpdump does.
// Run: node --import tsx examples/tcpdump-lite.ts [--interface IF] [--seconds N]
import { RingBuffer } from '../lib/index.js';
import { runExample } from './lib/run.js';
import { demoTraffic } from './lib/traffic.js';
import { u32ToIpv4 } from './lib/format.js';

const L4: Record<number, string> = { 1: 'ICMP', 6: 'TCP', 17: 'UDP' };

/** one struct event of bpf/tcpdump_lite.c (16 bytes, host byte order but the addresses) */
function format(r: Uint8Array, iface: string): string {
  const v = new DataView(r.buffer, r.byteOffset, r.byteLength);
  const saddr = u32ToIpv4(v.getUint32(0, true));
  const daddr = u32ToIpv4(v.getUint32(4, true));
  const sport = v.getUint16(8, true);
  const dport = v.getUint16(10, true);
  const proto = v.getUint8(12);
  const dir = v.getUint8(13) === 0 ? 'In ' : 'Out';
  const len = v.getUint16(14, true);
  const us = Math.floor((performance.timeOrigin + performance.now()) * 1000);
  const time = `${new Date(us / 1000).toTimeString().slice(0, 8)}.${String(us % 1_000_000).padStart(6, '0')}`;
  const ports = proto === 6 || proto === 17;
  const src = ports ? `${saddr}.${sport}` : saddr;
  const dst = ports ? `${daddr}.${dport}` : daddr;
  return `${time} ${iface} ${dir} IP ${src} > ${dst}: ${L4[proto] ?? `ip-proto-${proto}`}, length ${len}`;
}

await runExample({
  name: 'tcpdump-lite',
  description: 'print a tcpdump-like line for every IPv4 packet in and out of an interface (TC + ring buffer)',
  async main(ctx) {
    const obj = ctx.load('tcpdump_lite.o');
    const rb = new RingBuffer(obj.map('events'));
    ctx.defer(() => rb.close());
    ctx.attachTc(obj.program('tcpdump_ingress'), 'ingress');
    ctx.attachTc(obj.program('tcpdump_egress'), 'egress');
    const traffic = ctx.demo && demoTraffic({ ns: ctx.demo.nsB, dst: ctx.demo.addrA, udp: 2, pings: 1, every: ctx.every });

    let packets = 0;
    const show = (r: Uint8Array) => {
      packets++;
      console.log(format(r, ctx.iface));
    };
    const reading = (async () => {
      for await (const r of rb) show(r);
    })();
    await ctx.stopped;
    await traffic?.finish();
    rb.consume(show);   // what came since the reader last woke up
    rb.close();
    await reading;
    console.log(`${packets} packets captured`);
  },
});
