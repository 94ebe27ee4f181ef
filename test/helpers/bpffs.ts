// A private bpffs instance per test: mounted on a fresh temporary directory, unmounted
// (which drops every pin in it) and removed by cleanup(), even after a failure.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

export interface TestBpffs {
  readonly dir: string;
  cleanup(): void;
}

export function createTestBpffs(): TestBpffs {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-bpffs-'));
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir], { stdio: 'pipe' });
  } catch (err) {
    rmSync(dir, { recursive: true, force: true });
    throw err;
  }
  let done = false;
  return {
    dir,
    cleanup() {
      if (done) return;
      done = true;
      try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { /* not mounted */ }
      rmSync(dir, { recursive: true, force: true });
    },
  };
}
