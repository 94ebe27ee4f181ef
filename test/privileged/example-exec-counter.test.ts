// examples/exec-counter.ts as a user runs it: executions of a uniquely named copy of `true` are
// counted exactly, with the pid, parent pid and user id the CO-RE reads of task_struct give.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdtempSync, rmSync } from 'node:fs';
import { randomBytes } from 'node:crypto';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { runExample, type ExampleRun } from '../helpers/example-run.js';

describe('example exec-counter', function () {
  this.timeout(60_000);
  let run: ExampleRun | undefined;
  let dir: string | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => {
    run?.kill();
    run = undefined;
    if (dir) rmSync(dir, { recursive: true, force: true });
    dir = undefined;
  });

  it('counts the executions of one command with its last pid, parent pid and uid', async () => {
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-exec-'));
    chmodDir(dir);
    const name = `tsbpfx${randomBytes(3).toString('hex')}`; // 12 characters: the whole comm
    const bin = join(dir, name);
    copyFileSync('/bin/true', bin);
    run = runExample('exec-counter', ['--comm', name]);
    await run.waitForLine(/^attached count_exec \(tracepoint sched:sched_process_exec, link\)$/);
    // five runs from one shell (the parent); the last as user 65534 through setpriv (also a child of the shell)
    const out = execFileSync('sh', ['-c', `echo $$; for i in 1 2 3 4; do "${bin}"; done; setpriv --reuid=65534 --regid=65534 --clear-groups "${bin}"`], { encoding: 'utf8' });
    const shellPid = Number(out.trim());
    const [, pid] = await run.waitForLine(new RegExp(`^exec ${name} count 5 pid (\\d+) ppid ${shellPid} uid 65534$`));
    expect(Number(pid)).to.be.greaterThan(shellPid);
    expect(await run.stop()).to.equal(0);
    expect(run.lines.at(-1)).to.equal('total: 5 execs');
    // only the --comm name was printed
    expect(run.lines.filter((l) => l.startsWith('exec ') && !l.startsWith(`exec ${name} `))).to.deep.equal([]);
  });
});

function chmodDir(d: string): void {
  // the copy runs as user 65534 too: the directory must be searchable by it
  execFileSync('chmod', ['755', d]);
}
