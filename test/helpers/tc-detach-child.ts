// A process of the busy-hook test (test/privileged/tc-busy.test.ts), started with `ip netns exec` so
// it runs in the test namespace: attaches the pinned program PIN to DEV ingress at PRIO (handle 1),
// prints "ready", waits for a line on stdin, detaches, and prints {"detached": …} as JSON. The test
// slows its netlink reads from outside (strace) while other filters come and go on the hook.
import { createInterface } from 'node:readline';
import { attachTc, BpfProgram } from '../../lib/index.js';

const [pin, dev, prio] = process.argv.slice(2);
const prog = BpfProgram.fromPin(pin);
const a = attachTc({ program: prog, interface: dev, direction: 'ingress', priority: Number(prio), handle: 1 });
process.stdout.write(`ready ${JSON.stringify(a.info)}\n`);
const rl = createInterface({ input: process.stdin });
rl.once('line', () => {
  rl.close();
  process.stdin.destroy();
  a.detach();
  prog.close();
  process.stdout.write(`${JSON.stringify({ detached: a.detached })}\n`);
});
