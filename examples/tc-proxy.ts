// tc-proxy: a transparent client-side proxy in TC. This program fills two maps from each
// --service: `egress_nat` (VIP:port -> backend) rewrites the destination of outgoing requests,
// `ingress_nat` (backend -> VIP:port) rewrites the source of the replies back, so the client's
// socket talks to the VIP and never learns about the backend.
// Run: node --import tsx examples/tc-proxy.ts [--interface IF --service VIP:PORT=BACKEND:PORT[/tcp] ...] [--seconds N]
import { runExample } from './lib/run.js';
import { startUdpServer, udpRequestAsync } from './lib/traffic.js';
import { nsExec } from './lib/netns.js';
import { collect, htons, ipv4ToU32, parseService, showService, sumCpus, type ServiceSpec } from './lib/format.js';

/** struct nat_key / struct nat_val of bpf/tc_proxy.c (addresses and ports in network order) */
interface NatKey { addr: number; port: number; proto: number; pad: number }
interface NatVal { addr: number; port: number; pad: number }

await runExample<{ service?: ServiceSpec[] }>({
  name: 'tc-proxy',
  description: 'send traffic for VIP:PORT to a backend and rewrite the replies back, with TC on egress and ingress',
  options: (cmd) => cmd.option('-S, --service <VIP:PORT=BACKEND:PORT[/tcp]>', 'a service (repeatable; default udp)', collect(parseService)),
  async main(ctx) {
    const demo = ctx.demo;
    const services = ctx.opts.service ?? [];
    if (demo) {
      // the client runs here in nsA; the backend is a UDP echo server in nsB
      const vip = `${demo.spare}.20`;
      services.push({ proto: 17, vip: { addr: vip, port: 7000 }, backend: { addr: demo.addrB, port: 8000 } });
      nsExec(demo.nsA, ['ip', 'route', 'add', `${vip}/32`, 'via', demo.addrB]);
    }
    if (services.length === 0) throw new Error('no --service given (VIP:PORT=BACKEND:PORT)');

    const obj = ctx.load('tc_proxy.o');
    const egress = ctx.map<NatKey, NatVal>(obj, 'egress_nat');
    const ingress = ctx.map<NatKey, NatVal>(obj, 'ingress_nat');
    const proxied = ctx.map<number, bigint[]>(obj, 'proxied');
    for (const s of services) {
      const vip = { addr: ipv4ToU32(s.vip.addr), port: htons(s.vip.port) };
      const backend = { addr: ipv4ToU32(s.backend.addr), port: htons(s.backend.port) };
      egress.update({ ...vip, proto: s.proto, pad: 0 }, { ...backend, pad: 0 });
      ingress.update({ ...backend, proto: s.proto, pad: 0 }, { ...vip, pad: 0 });
      console.log(`service ${showService(s)}`);
    }
    ctx.attachTc(ctx.program(obj, 'proxy_egress'), 'egress');
    ctx.attachTc(ctx.program(obj, 'proxy_ingress'), 'ingress');

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
      });
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
