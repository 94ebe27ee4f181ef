// Privileged tests skip with a stated reason when they cannot run here; with
// TSBPF_REQUIRE_PRIVILEGED=1 (CI) a skip is a failure instead.
import { existsSync } from 'node:fs';

export function privilegeProblem(): string | undefined {
  if (process.platform !== 'linux') return 'needs Linux';
  if (typeof process.getuid === 'function' && process.getuid() !== 0) return 'needs root (CAP_BPF, CAP_NET_ADMIN)';
  if (!existsSync('/sys/kernel/btf/vmlinux')) return 'needs kernel BTF at /sys/kernel/btf/vmlinux';
  return undefined;
}

/** Call in a `before`/`beforeEach` hook (or a test) with mocha's `this`. */
export function requirePrivileged(ctx: Mocha.Context, extra?: string | false): void {
  const why = privilegeProblem() ?? (extra || undefined);
  if (!why) return;
  if (process.env.TSBPF_REQUIRE_PRIVILEGED === '1') throw new Error(`privileged test cannot run: ${why} (TSBPF_REQUIRE_PRIVILEGED=1)`);
  console.log(`      skip: ${why}`);
  ctx.skip();
}
