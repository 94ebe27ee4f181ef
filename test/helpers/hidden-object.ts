// A BPF object with hidden-visibility global functions and variables next to ordinary ones,
// compiled by the test into a temporary directory (clang from `make deps`).
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const SOURCE = `#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
__attribute__((visibility("hidden"))) __u32 hidden_var = 3;
__u32 open_var = 4;
__attribute__((visibility("hidden"))) __noinline int hidden_add(int a, int b) { return a + b + hidden_var; }
__noinline int open_add(int a, int b) { return a + b + open_var; }
/* (1 + 2 + 3) + (3 + 4 + 4) = 17 */
SEC("xdp") int hid_prog(struct xdp_md *ctx) { return hidden_add(1, 2) + open_add(3, 4); }
char LICENSE[] SEC("license") = "GPL";
`;

/** Compile the object; returns its path and a cleanup that removes the directory. */
export function buildHiddenObject(): { file: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-hidden-'));
  try {
    writeFileSync(path.join(dir, 'hidden.c'), SOURCE);
    const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', `-I/usr/include/${arch}-linux-gnu`, '-c', 'hidden.c', '-o', 'hidden.o'], { cwd: dir, stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { file: path.join(dir, 'hidden.o'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}
