// A throwaway cgroup v2 directory for attach tests: commands run inside it (the shell moves itself
// into cgroup.procs, then execs), and cleanup() kills what is left in it and removes it.
import { execFileSync, type ExecFileSyncOptions } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, rmdirSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { cgroup2Mount } from '../../lib/attach/cgroup.js';

export interface TestCgroup {
  readonly path: string;
  /** run argv inside the cgroup; stdout, or 'ERR <stderr>' on a non-zero exit */
  run(argv: string[], opts?: ExecFileSyncOptions): string;
  /** python3 -c script inside the cgroup */
  python(script: string): string;
  cleanup(): void;
}

export function createTestCgroup(label = 't'): TestCgroup {
  const path = join(cgroup2Mount(), `tsbpf-${label}-${randomBytes(3).toString('hex')}`);
  mkdirSync(path);
  const run = (argv: string[], opts: ExecFileSyncOptions = {}) => {
    try {
      return execFileSync('sh', ['-c', 'echo $$ > "$0/cgroup.procs" && exec "$@"', path, ...argv], {
        encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], timeout: 20_000, ...opts,
      }) as string;
    } catch (e) {
      const x = e as { stderr?: string; stdout?: string };
      return `ERR ${x.stderr ?? ''}${x.stdout ?? ''}${x.stderr || x.stdout ? '' : String(e)}`;
    }
  };
  return {
    path,
    run,
    python: (script) => run(['python3', '-c', script]),
    cleanup() {
      if (!existsSync(path)) return;
      for (let i = 0; i < 50; i++) {
        const pids = readFileSync(join(path, 'cgroup.procs'), 'utf8').split('\n').filter(Boolean);
        for (const pid of pids) {
          try { process.kill(Number(pid), 'SIGKILL'); } catch { /* gone */ }
        }
        try {
          rmdirSync(path);
          return;
        } catch {
          execFileSync('sleep', ['0.05']);
        }
      }
      rmdirSync(path);
    },
  };
}
