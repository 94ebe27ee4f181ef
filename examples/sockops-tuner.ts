// sockops-tuner: TCP options for every connection of a cgroup, set by a sockops program as each one
// is established (no change to the applications): TCP_NODELAY and keepalive after --keepidle seconds.
// Prints how many sockets were tuned every second; in demo mode also what a demo connection's sockets
// report through getsockopt.
// Run: node --import tsx examples/sockops-tuner.ts [--cgroup /sys/fs/cgroup/…] [--keepidle S] [--no-nodelay] [--seconds N]
import { runCgroupExample } from './lib/cgroup.js';
import { positiveNumber } from './lib/run.js';

interface Options { keepidle: number; nodelay: boolean }

// one connection every 300 ms; prints TCP_NODELAY, SO_KEEPALIVE and TCP_KEEPIDLE of both ends
const DEMO = `
import socket, json, time
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8)
def opts(s):
    return [s.getsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY), s.getsockopt(socket.SOL_SOCKET, socket.SO_KEEPALIVE), s.getsockopt(socket.IPPROTO_TCP, socket.TCP_KEEPIDLE)]
while True:
    c = socket.socket(); c.connect(l.getsockname()); s, _ = l.accept()
    print(json.dumps({'client': opts(c), 'server': opts(s)}), flush=True)
    c.close(); s.close(); time.sleep(0.3)
`;

await runCgroupExample<Options>({
  name: 'sockops-tuner',
  description: 'set TCP_NODELAY and keepalive on every TCP connection of a cgroup (sockops + bpf_setsockopt)',
  options(cmd) {
    cmd.option('--keepidle <seconds>', 'keepalive probes after this many idle seconds', (v) => Math.round(positiveNumber(v)), 60)
      .option('--no-nodelay', 'leave TCP_NODELAY (Nagle) alone');
  },
  async main(ctx) {
    const { keepidle, nodelay } = ctx.opts;
    const obj = ctx.load('sockops_tuner.o', { constants: { keepidle, nodelay: nodelay ? 1 : 0 } });
    ctx.attachToCgroup(obj.program('tune'));
    console.log(`setting${nodelay ? ' TCP_NODELAY=1,' : ''} SO_KEEPALIVE=1, TCP_KEEPIDLE=${keepidle}`);
    let last = '';
    if (ctx.demo) {
      ctx.spawnInCgroup(['python3', '-c', DEMO], (line) => {
        const o = JSON.parse(line) as { client: number[]; server: number[] };
        const f = (v: number[]) => `nodelay ${v[0] ? 1 : 0} keepalive ${v[1] ? 1 : 0} keepidle ${v[2]}`;
        last = `demo connection: client ${f(o.client)}; server ${f(o.server)}`;
      });
    }
    const tuned = obj.map<number, bigint>('tuned');
    const show = () => {
      console.log(`tuned ${tuned.lookup(0) ?? 0n} failed ${tuned.lookup(1) ?? 0n}`);
      if (last) console.log(last);
    };
    ctx.every(1000, show);
    await ctx.stopped;
    show();
  },
});
