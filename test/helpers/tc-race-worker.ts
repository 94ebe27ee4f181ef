// A process of the clsact race tests (test/privileged/tc.test.ts), started with `ip netns exec` so it
// runs in the test namespace. From START (ms since the epoch, so that the workers run at the same
// time) for DURATION ms it either
//   attach DEV PIN DIR START DURATION   attaches and detaches one pinned program on one direction, or
//   churn DEV - - START DURATION        adds and removes the interface's clsact every few ms, as another tool could,
//   hold - - - START DURATION           holds tsbpf's clsact lock,
// and prints what happened as JSON ({"ok": N, "<error message>": N, …}).
import { attachTc, BpfProgram, NetlinkSocket, interfaceIndex, ensureClsact, deleteClsact, type TcDirection } from '../../lib/index.js';
import { withClsactLock } from '../../lib/attach/clsact-lock.js';

const [mode, dev, pin, dir, start, duration] = process.argv.slice(2);
const stats: Record<string, number> = {};
const bump = (k: string) => { stats[k] = (stats[k] ?? 0) + 1; };
const sleeper = new Int32Array(new SharedArrayBuffer(4));
const end = Number(start) + Number(duration);
const wait = Number(start) - Date.now();
if (wait > 0) Atomics.wait(sleeper, 0, 0, wait);

if (mode === 'attach') {
  const prog = BpfProgram.fromPin(pin);
  while (Date.now() < end) {
    let a;
    try {
      a = attachTc({ program: prog, interface: dev, direction: dir as TcDirection });
    } catch (e) {
      bump(`attach failed: ${(e as Error).message}`);
      continue;
    }
    try {
      a.detach();
      bump('ok');
    } catch (e) {
      bump(`detach failed: ${(e as Error).message}`);
    }
  }
  prog.close();
} else if (mode === 'churn') {
  const s = NetlinkSocket.open();
  const idx = interfaceIndex(dev, s);
  // a few milliseconds with and without a clsact, as a tool or an admin script would do, only often
  const pause = () => Atomics.wait(sleeper, 0, 0, 1 + Math.floor(Math.random() * 3));
  while (Date.now() < end) {
    try { ensureClsact(idx, s); } catch { /* someone else's state: keep going */ }
    pause();
    try { deleteClsact(idx, s); bump('ok'); } catch { /* already gone */ }
    pause();
  }
  s.close();
} else if (mode === 'hold') {
  withClsactLock('race worker', () => {
    process.stdout.write('locked\n');
    Atomics.wait(sleeper, 0, 0, end - Date.now());
  });
  bump('ok');
}
process.stdout.write(`${JSON.stringify(stats)}\n`);
