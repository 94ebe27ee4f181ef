// xdp-dnat: destination NAT in XDP. This program fills the `services` map (VIP:port -> backend
// addr:port); the XDP program rewrites matching packets' destination, fixes the IP and UDP/TCP
// checksums, and passes them up the stack, which delivers (or routes) them to the backend.
// Run: node --import tsx examples/xdp-dnat.ts [--interface IF --service VIP:PORT=BACKEND:PORT[/tcp] ...] [--seconds N]
import { runExample } from './lib/run.js';
import { demoTraffic, startUdpServer, type DemoTraffic, type UdpServer } from './lib/traffic.js';
import { nsExec } from './lib/netns.js';
import { collect, endpoint, parseService, serviceKey, showService, sumCpus, type Endpoint, type Service, type ServiceSpec } from './lib/format.js';

await runExample<{ service?: ServiceSpec[] }>({
  name: 'xdp-dnat',
  description: 'rewrite the destination of packets to VIP:PORT to a backend in XDP, fixing IP and UDP/TCP checksums',
  xdp: true,
  options: (cmd) => cmd.option('-S, --service <VIP:PORT=BACKEND:PORT[/tcp]>', 'a service (repeatable; default udp)', collect(parseService)),
  async main(ctx) {
    const demo = ctx.demo;
    const services = ctx.opts.service ?? [];
    // the demo's client, backend and route are made for its own service: a --service given here was
    // loaded besides it while the traffic went to the first one given (nothing listening there)
    if (demo && services.length) throw new Error('--service goes with --interface IF; the throwaway network (no --interface) brings its own service');
    if (demo) {
      // the client in nsB reaches the VIP through nsA; the backend is a UDP server in nsA
      const vip = `${demo.spare}.10`;
      services.push({ proto: 17, vip: { addr: vip, port: 7000 }, backend: { addr: demo.addrA, port: 8000 } });
      nsExec(demo.nsB, ['ip', 'route', 'add', `${vip}/32`, 'via', demo.addrA]);
    }
    if (services.length === 0) throw new Error('no --service given (VIP:PORT=BACKEND:PORT)');

    const obj = ctx.load('xdp_dnat.o');
    const map = obj.map<Service, Endpoint>('services');
    const rewritten = obj.map<number, bigint[]>('rewritten');
    for (const s of services) {
      map.update(serviceKey(s.vip.addr, s.vip.port, s.proto), endpoint(s.backend.addr, s.backend.port));
      console.log(`service ${showService(s)}`);
    }
    ctx.attachXdp(obj.program('xdp_dnat'));

    let traffic: DemoTraffic | undefined;
    let server: UdpServer | undefined;
    if (demo) {
      const s = services[0];
      const backend = startUdpServer(demo.nsA, s.backend.addr, s.backend.port);
      server = backend;
      ctx.defer(() => backend.stop());
      await backend.ready;
      traffic = demoTraffic({ ns: demo.nsB, dst: s.vip.addr, port: s.vip.port, udp: 2, every: ctx.every });
    }
    const show = (label: string) => {
      const n = sumCpus(rewritten.lookup(0) ?? [], (v) => v);
      console.log(`${label} rewritten=${n}${server ? ` backend received=${server.received.length}` : ''}`);
    };
    ctx.every(2000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await traffic?.finish();
    show('final');
  },
});
