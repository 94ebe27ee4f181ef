// xdp-hello: an XDP program says hello (bpf_printk) for every packet it sees; this program prints
// those lines from trace_pipe. Run: node --import tsx examples/xdp-hello.ts [--interface IF] [--seconds N]
import { TracePipe, type TraceLine } from '../lib/index.js';
import { runExample } from './lib/run.js';
import { demoTraffic } from './lib/traffic.js';

await runExample({
  name: 'xdp-hello',
  description: 'print a line for every packet received on an interface (bpf_printk read from trace_pipe)',
  xdp: true,
  async main(ctx) {
    const obj = ctx.load('xdp_hello.o');
    // open trace_pipe before attaching so no line is missed; it is shared by everything that
    // uses bpf_printk on this machine, so only our program's lines are printed
    const pipe = new TracePipe();
    ctx.defer(() => pipe.close());
    ctx.attachXdp(obj.program('xdp_hello'));
    const traffic = ctx.demo && demoTraffic({ ns: ctx.demo.nsB, dst: ctx.demo.addrA, udp: 2, pings: 1, every: ctx.every });

    let lines = 0;
    const show = (line: TraceLine) => {
      if (!line.message.startsWith('xdp-hello: ')) return;
      lines++;
      console.log(`${line.timestamp.toFixed(6)} cpu ${line.cpu} ${line.message}`);
    };
    const reading = (async () => {
      for await (const line of pipe) show(line);
    })();
    await ctx.stopped;
    await traffic?.finish();
    // what arrived since the reader last woke up
    for (const line of pipe.read()) show(line);
    pipe.close();
    await reading;
    console.log(`total: ${lines} lines`);
  },
});
