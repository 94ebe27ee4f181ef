// Signals and the bpf() commands they interrupt: the verifier gives up with EAGAIN and test runs
// end with EINTR when a signal is pending for the thread. A profiler (node --cpu-prof) sends one
// every interval, so loads and runs longer than that failed every time. Here they succeed, and the
// thread's signal mask is as it was.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';

describe('signals: PROG_LOAD and PROG_TEST_RUN under a profiler', function () {
  this.timeout(60_000);
  before(function () { requirePrivileged(this); });

  it('loads and test runs longer than the SIGPROF interval of node --cpu-prof succeed; the signal mask is restored', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-prof-'));
    try {
      const r = spawnSync(process.execPath, ['--cpu-prof', '--cpu-prof-interval', '100', '--cpu-prof-dir', dir, '--import', 'tsx', 'test/helpers/signal-child.ts'], { encoding: 'utf8', timeout: 50_000 });
      expect(r.status, r.stderr).to.equal(0);
      const out = JSON.parse(r.stdout.trim().split('\n').pop()!) as { loads: number; runs: number; failures: string[]; failed: number; before: string; after: string };
      expect(out.failures).to.deep.equal([]);
      expect([out.loads, out.runs]).to.deep.equal([20, 5]);
      expect(out.after).to.equal(out.before);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
