// A process of the busy-hook tests (test/privileged/tc-busy.test.ts), started with `ip netns exec`
// so it runs in the test namespace. It sets up, prints "ready …", waits for a line on stdin, does one
// netlink step and prints what came of it as one JSON line. The test slows the step's netlink reads
// from outside (strace) while other filters or interfaces come and go.
//   detach PIN DEV PRIO   attaches the pinned program to DEV ingress at PRIO (handle 1); the step: detach() → {"detached": …}
//   hook DEV              the step: hookQdisc() of DEV → {"kind": "clsact" | null}
//   redump DEV            the step: listFilters() of DEV ingress three times on one socket → {"first": count or errno, …}
//   tc|xdp PIN DEV        the step: attachTc (ingress) or attachXdp (skb) of the pinned program
//                         → {"attached": info} or {"error": class name, "errno", "message"}
import { createInterface } from 'node:readline';
import { attachTc, attachXdp, BpfProgram, interfaceIndex, NetlinkError } from '../../lib/index.js';
import { hookQdisc, listFilters, NetlinkSocket } from '../../lib/netlink/index.js';

const [mode, ...args] = process.argv.slice(2);
let step: () => unknown;
if (mode === 'detach') {
  const [pin, dev, prio] = args;
  const prog = BpfProgram.fromPin(pin);
  const a = attachTc({ program: prog, interface: dev, direction: 'ingress', priority: Number(prio), handle: 1 });
  process.stdout.write(`ready ${JSON.stringify(a.info)}\n`);
  step = () => {
    a.detach();
    prog.close();
    return { detached: a.detached };
  };
} else if (mode === 'hook') {
  const idx = interfaceIndex(args[0]);
  process.stdout.write(`ready ${idx}\n`);
  step = () => ({ kind: hookQdisc(idx)?.kind ?? null });
} else if (mode === 'redump') {
  const s = NetlinkSocket.open();
  const idx = interfaceIndex(args[0], s);
  process.stdout.write('ready\n');
  const count = () => {
    try {
      return listFilters(idx, 'ingress', s).length;
    } catch (e) {
      if (!(e instanceof NetlinkError)) throw e;
      return e.errno;
    }
  };
  step = () => ({ first: count(), second: count(), third: count() });
} else if (mode === 'tc' || mode === 'xdp') {
  const [pin, dev] = args;
  const prog = BpfProgram.fromPin(pin);
  process.stdout.write('ready\n');
  step = () => {
    try {
      const a = mode === 'tc' ? attachTc({ program: prog, interface: dev, direction: 'ingress' }) : attachXdp({ program: prog, interface: dev, mode: 'skb' });
      return { attached: a.info };
    } catch (e) {
      if (!(e instanceof NetlinkError)) throw e;
      return { error: e.constructor.name, errno: e.errno, message: e.message };
    }
  };
} else {
  throw new Error(`unknown mode ${mode}`);
}
const rl = createInterface({ input: process.stdin });
rl.once('line', () => {
  rl.close();
  process.stdin.destroy();
  process.stdout.write(`${JSON.stringify(step())}\n`);
});
