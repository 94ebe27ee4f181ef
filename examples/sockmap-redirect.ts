// sockmap-redirect: TCP connections made by the processes of a cgroup skip the TCP/IP stack between
// their two ends: sockops fills a sockhash with the cgroup's established sockets, sk_msg redirects what
// one end sends into the other's receive queue. Prints the counters every second.
// Run: node --import tsx examples/sockmap-redirect.ts [--cgroup /sys/fs/cgroup/…] [--seconds N]
import { attachSockMap } from '../lib/index.js';
import { runCgroupExample } from './lib/cgroup.js';

interface Stats { sockets: bigint; messages: bigint; bytes: bigint; redirected: bigint }

// demo connections: one every 300 ms, 1000 bytes there and 500 back, checked on arrival
const DEMO = `
import socket, json, time
l = socket.socket(); l.bind(('127.0.0.1', 0)); l.listen(8)
def take(s, n):
    got = b''
    while len(got) < n:
        b = s.recv(65536)
        if not b: break
        got += b
    return got
while True:
    c = socket.socket(); c.settimeout(5); c.connect(l.getsockname()); s, _ = l.accept(); s.settimeout(5)
    c.sendall(b'q' * 1000); a = take(s, 1000); s.sendall(b'r' * 500); b = take(c, 500)
    print(json.dumps({'ok': a == b'q' * 1000 and b == b'r' * 500}), flush=True)
    c.close(); s.close(); time.sleep(0.3)
`;

await runCgroupExample({
  name: 'sockmap-redirect',
  description: 'redirect the TCP messages of a cgroup\'s local connections socket to socket (sockops + sockhash + sk_msg)',
  async main(ctx) {
    const obj = ctx.load('sockmap_redirect.o');
    const socks = obj.map('socks');
    // the sk_msg program first: a socket takes the map's programs when it is added
    const link = attachSockMap({ program: obj.program('redirect'), map: socks });
    ctx.defer(() => link.detach());
    console.log(`attached redirect (${link.info.attachTypeName}, ${link.info.mode}) to map ${socks.name}`);
    ctx.attachToCgroup(obj.program('add_socket'));
    let demoOk = 0;
    let demoBad = 0;
    if (ctx.demo) {
      ctx.spawnInCgroup(['python3', '-c', DEMO], (line) => {
        if ((JSON.parse(line) as { ok: boolean }).ok) demoOk++;
        else demoBad++;
      });
    }
    const totals = obj.map<number, Stats>('totals');
    const show = () => {
      const s = totals.lookup(0)!;
      const demo = ctx.demo ? ` (demo connections: ${demoOk} intact, ${demoBad} damaged)` : '';
      console.log(`sockets ${s.sockets} messages ${s.messages} bytes ${s.bytes} redirected ${s.redirected}${demo}`);
    };
    ctx.every(1000, show);
    await ctx.stopped;
    show();
  },
});
