// Run by test/privileged/signals.test.ts under a profiler that sends this thread SIGPROF every
// 100 µs: loads and test runs that take longer than that, and the thread's blocked-signal mask
// before and after. Prints one JSON line.
import { readFileSync } from 'node:fs';
import { loadObject } from '../../lib/object/load.js';

const sigBlk = () => /^SigBlk:\s*(\S+)/m.exec(readFileSync('/proc/thread-self/status', 'utf8'))![1];
const before = sigBlk();
const failures: string[] = [];
let loads = 0;
let runs = 0;
for (let i = 0; i < 20; i++) {
  try {
    loadObject('bpf/xdp_lb.o').close();
    loads++;
  } catch (e) {
    failures.push((e as Error).message.split('\n')[0]);
  }
}
const obj = loadObject('bpf/xdp_dnat.o');
try {
  const prog = obj.program('xdp_dnat');
  for (let i = 0; i < 5; i++) {
    try {
      // ~10 ms of runs: interrupted by the profiler's signal every time
      if (prog.testRun({ data: new Uint8Array(64), repeat: 100_000 }).retval === 2 /* XDP_PASS */) runs++;
    } catch (e) {
      failures.push((e as Error).message.split('\n')[0]);
    }
  }
} finally {
  obj.close();
}
console.log(JSON.stringify({ loads, runs, failures: failures.slice(0, 3), failed: failures.length, before, after: sigBlk() }));
