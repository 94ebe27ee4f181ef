// BPF C compiled by a test into a temporary directory (clang from `make deps`), for producers that
// cannot be hand-assembled (test/helpers/producers.ts): a bpf_loop callback needs BTF func_info,
// a variable-size output needs the verifier's bounds on a map value.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

/** Compile `source`; returns the object's path and a cleanup that removes the directory. */
export function compileBpf(source: string, name: string): { file: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), `tsbpf-${name}-`));
  try {
    writeFileSync(path.join(dir, `${name}.c`), source);
    const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', `-I/usr/include/${arch}-linux-gnu`, `-I${path.resolve('bpf/include')}`, '-c', `${name}.c`, '-o', `${name}.o`], { cwd: dir, stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { file: path.join(dir, `${name}.o`), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
