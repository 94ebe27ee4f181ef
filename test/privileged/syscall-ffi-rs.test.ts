// Both FFI backends must pass the same tests: this file re-runs the FFI, syscall and map suites in a
// child process with TSBPF_FFI=ffi-rs (the backend is chosen once per process), so CI covers both.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';

const root = path.resolve(import.meta.dirname, '../..');
const FILES = [
  'test/unit/ffi.test.ts', 'test/unit/syscall.test.ts', 'test/privileged/syscall.test.ts', 'test/privileged/syscall-link.test.ts',
  'test/privileged/syscall-mmap.test.ts', 'test/privileged/map.test.ts', 'test/privileged/features.test.ts',
];

describe('the ffi-rs backend passes the FFI, syscall, link, map and feature tests', function () {
  before(function () { requirePrivileged(this); });

  if (process.env.TSBPF_FFI === 'ffi-rs') {
    it('is already the backend of this run', () => undefined);
    return;
  }

  it(`runs ${FILES.join(', ')} under TSBPF_FFI=ffi-rs`, function () {
    this.timeout(300000);
    const r = spawnSync(process.execPath, [path.join(root, 'test/run.mjs'), ...FILES], {
      cwd: root, encoding: 'utf8', env: { ...process.env, TSBPF_FFI: 'ffi-rs' }, maxBuffer: 64 << 20,
    });
    const out = `${r.stdout}\n${r.stderr}`;
    const m = /(\d+) passed, (\d+) failed/.exec(out);
    expect(m, `no summary line from the ffi-rs run:\n${out}`).to.not.equal(null);
    expect(Number(m![2]), `ffi-rs run failures:\n${out}`).to.equal(0);
    expect(Number(m![1])).to.be.greaterThan(20);
    expect(r.status, out).to.equal(0);
  });
});
