// What the cgroup examples (sockops-tuner, sockmap-redirect) share: the command line (--cgroup,
// --seconds), a throwaway cgroup v2 directory when no --cgroup is given (with demo connections made
// by a python3 child that runs inside it), and a clean exit: on SIGINT/SIGTERM, after --seconds or on
// an error, programs are detached, the child is stopped and the throwaway cgroup removed.
import { Command } from 'commander';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { attachCgroup, cgroup2Mount, type BpfObject, type BpfProgram, type LoadObjectOptions } from '../../lib/index.js';
import { positiveNumber } from './run.js';
import { ExampleLifetime } from './lifetime.js';

export interface CgroupExampleContext<O> {
  readonly opts: O & { cgroup?: string; seconds?: number };
  /** the cgroup programs attach to (a throwaway one without --cgroup) */
  readonly cgroup: string;
  /** true when the example made the cgroup (and runs demo connections in it) */
  readonly demo: boolean;
  readonly stopped: Promise<void>;
  defer(fn: () => void): void;
  every(ms: number, fn: () => void): void;
  load(file: string, o?: LoadObjectOptions): BpfObject;
  /** attach a cgroup program to the cgroup (its hook from its section); detached at the end */
  attachToCgroup(program: BpfProgram): void;
  /** start argv inside the cgroup (stopped at the end); its stdout lines go to onLine */
  spawnInCgroup(argv: string[], onLine: (line: string) => void): ChildProcess;
}

export interface CgroupExampleSpec<O> {
  name: string;
  description: string;
  options?(cmd: Command): void;
  main(ctx: CgroupExampleContext<O>): Promise<void>;
}

export async function runCgroupExample<O>(spec: CgroupExampleSpec<O>, argv = process.argv): Promise<void> {
  const cmd = new Command(spec.name)
    .description(spec.description)
    .option('-c, --cgroup <path>', 'attach to this cgroup v2 directory instead of a throwaway one with demo connections')
    .option('-s, --seconds <n>', 'stop after this many seconds (default: run until Ctrl-C)', positiveNumber);
  spec.options?.(cmd);
  cmd.parse(argv);
  const opts = cmd.opts<O & { cgroup?: string; seconds?: number }>();

  const life = new ExampleLifetime();
  await life.run(async () => {
    let cgroup = opts.cgroup;
    const demo = !cgroup;
    if (!cgroup) {
      const dir = join(cgroup2Mount(), `tsbpf-${spec.name}-${randomBytes(3).toString('hex')}`);
      mkdirSync(dir);
      life.defer(() => removeCgroup(dir));
      cgroup = dir;
      console.log(`demo cgroup: ${dir}`);
    }
    const target = cgroup;
    life.stopAfter(opts.seconds);
    const ctx: CgroupExampleContext<O> = {
      opts, cgroup: target, demo, stopped: life.stopped,
      defer: (fn) => life.defer(fn),
      every: (ms, fn) => life.every(ms, fn),
      load: (file, o) => life.load(file, o),
      attachToCgroup: (program) => {
        const a = attachCgroup({ program, cgroup: target });
        life.defer(() => a.detach());
        console.log(`attached ${program.name} (${a.info.attachTypeName}, ${a.info.mode}) to ${target}`);
      },
      spawnInCgroup: (args, onLine) => {
        const child = spawn('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', target, ...args], { stdio: ['ignore', 'pipe', 'inherit'] });
        let partial = '';
        child.stdout!.on('data', (b: Buffer) => {
          const parts = (partial + b.toString()).split('\n');
          partial = parts.pop() ?? '';
          for (const l of parts) onLine(l);
        });
        life.defer(() => { child.kill('SIGKILL'); });
        return child;
      },
    };
    await spec.main(ctx);
  });
}

/** rmdir once the processes in it are gone (a killed child leaves the cgroup a moment later). */
function removeCgroup(dir: string): void {
  const deadline = Date.now() + 5000;
  for (;;) {
    try {
      rmdirSync(dir);
      return;
    } catch (e) {
      if (Date.now() > deadline) throw e;
      for (const pid of readFileSync(join(dir, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean)) {
        try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
      }
      Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, 20);
    }
  }
}
