// exec-counter: counts program executions per command name (sched:sched_process_exec tracepoint),
// with the pid, parent pid and user id of the last one, which the program reads from the kernel's
// task_struct through CO-RE relocations. Prints the names whose count changed, every second.
// Run: node --import tsx examples/exec-counter.ts [--seconds N] [--comm NAME]
import { Command } from 'commander';
import { loadObject, attachTracepoint } from '../lib/index.js';
import { objectPath, positiveNumber } from './lib/run.js';

interface ExecInfo { count: bigint; pid: number; ppid: number; uid: number }

const cmd = new Command('exec-counter')
  .description('count program executions per command name (tracepoint + CO-RE reads of task_struct)')
  .option('-s, --seconds <n>', 'stop after this many seconds (default: run until Ctrl-C)', positiveNumber)
  .option('--comm <name>', 'only print this command name')
  .parse();
const opts = cmd.opts<{ seconds?: number; comm?: string }>();

let status = 0;
const obj = loadObject(objectPath('exec_counter.o'));
try {
  const t = attachTracepoint({ program: obj.program('count_exec'), category: 'sched', name: 'sched_process_exec' });
  try {
    console.log(`attached count_exec (tracepoint sched:sched_process_exec, ${t.info.mode})`);
    const execs = obj.map<{ comm: string | number[] }, ExecInfo>('execs');
    const seen = new Map<string, bigint>();
    const text = (c: string | number[]) => (typeof c === 'string' ? c : String.fromCharCode(...c.filter((x) => x !== 0)));
    const show = () => {
      for (const [k, v] of execs.entries()) {
        const comm = text(k.comm).replace(/\0.*$/, '');
        if ((opts.comm && comm !== opts.comm) || seen.get(comm) === v.count) continue;
        seen.set(comm, v.count);
        console.log(`exec ${comm} count ${v.count} pid ${v.pid} ppid ${v.ppid} uid ${v.uid}`);
      }
    };
    await new Promise<void>((resolve) => {
      const timer = setInterval(show, 1000);
      const end = (sig?: string) => {
        if (sig) console.log(`\n${sig}: stopping`);
        clearInterval(timer);
        resolve();
      };
      process.once('SIGINT', () => end('SIGINT'));
      process.once('SIGTERM', () => end('SIGTERM'));
      if (opts.seconds) setTimeout(end, opts.seconds * 1000);
    });
    show();
    console.log(`total: ${[...seen.values()].reduce((a, b) => a + b, 0n)} execs`);
  } finally {
    t.detach();
  }
} catch (e) {
  console.error(`error: ${(e as Error).message}`);
  status = 1;
} finally {
  obj.close();
}
process.exit(status);
