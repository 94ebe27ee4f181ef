// tc-proxy: a transparent client-side proxy in TC. This program fills two maps from each
// --service: `egress_nat` (VIP:port -> backend) rewrites the destination of outgoing requests,
// `ingress_nat` (backend -> VIP:port) rewrites the source of the replies back, so the client's
// socket talks to the VIP and never learns about the backend.
// Run: node --import tsx examples/tc-proxy.ts [--interface IF --service VIP:PORT=BACKEND:PORT[/tcp] ...] [--seconds N]
import { runExample } from './lib/run.js';
import { startUdpServer, udpRequestAsync } from './lib/traffic.js';
import { nsExec } from './lib/netns.js';
import { collect, endpoint, parseService, serviceKey, showService, sumCpus, type Endpoint, type Service, type ServiceSpec } from './lib/format.js';

await runExample<{ service?: ServiceSpec[] }>({
  name: 'tc-proxy',
  description: 'send traffic for VIP:PORT to a backend and rewrite the replies back, with TC on egress and ingress',
  options: (cmd) => cmd.option('-S, --service <VIP:PORT=BACKEND:PORT[/tcp]>', 'a service (repeatable; default udp)', collect(parseService)),
  async main(ctx) {
    const demo = ctx.demo;
    const services = ctx.opts.service ?? [];
    // the demo's client, backend and route are made for its own service: a --service given here was
    // loaded besides it while the requests went to the first one given (nothing listening there)
    if (demo && services.length) throw new Error('--service goes with --interface IF; the throwaway network (no --interface) brings its own service');
    if (demo) {
      // the client runs here in nsA; the backend is a UDP echo server in nsB
      const vip = `${demo.spare}.20`;
      services.push({ proto: 17, vip: { addr: vip, port: 7000 }, backend: { addr: demo.addrB, port: 8000 } });
      nsExec(demo.nsA, ['ip', 'route', 'add', `${vip}/32`, 'via', demo.addrB]);
    }
    if (services.length === 0) throw new Error('no --service given (VIP:PORT=BACKEND:PORT)');

    const obj = ctx.load('tc_proxy.o');
    const egress = obj.map<Service, Endpoint>('egress_nat');
    const ingress = obj.map<Service, Endpoint>('ingress_nat');
    const proxied = obj.map<number, bigint[]>('proxied');
    for (const s of services) {
      egress.update(serviceKey(s.vip.addr, s.vip.port, s.proto), endpoint(s.backend.addr, s.backend.port));
      ingress.update(serviceKey(s.backend.addr, s.backend.port, s.proto), endpoint(s.vip.addr, s.vip.port));
      console.log(`service ${showService(s)}`);
    }
    ctx.attachTc(obj.program('proxy_egress'), 'egress');
    ctx.attachTc(obj.program('proxy_ingress'), 'ingress');

    let requests = 0;
    let answered = 0;
    let inflight: Promise<void> = Promise.resolve();
    if (demo) {
      const s = services[0];
      const server = startUdpServer(demo.nsB, s.backend.addr, s.backend.port, { echo: true });
      ctx.defer(() => server.stop());
      await server.ready;
      ctx.every(1000, () => {
        inflight = (async () => {
          const payload = `request-${++requests}`;
          const reply = await udpRequestAsync(demo.nsA, s.vip.addr, s.vip.port, payload);
          if (reply === `${s.vip.addr} ${s.vip.port} ${payload}`) answered++;
          console.log(`client: ${payload} to ${s.vip.addr}:${s.vip.port} -> ${reply === 'timeout' ? 'no reply' : `reply from ${reply}`}`);
        })();
        return inflight;
      }, true);
    }
    const show = (label: string) => {
      const c = (i: number) => sumCpus(proxied.lookup(i) ?? [], (v) => v);
      console.log(`${label} egress rewritten=${c(0)} ingress rewritten=${c(1)}`);
    };
    ctx.every(2000, () => show(new Date().toISOString().slice(11, 19)));
    await ctx.stopped;
    await inflight;
    if (demo) console.log(`demo: ${answered} of ${requests} requests answered by the VIP`);
    show('final');
  },
});
