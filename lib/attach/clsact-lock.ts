// One host-wide lock for the clsact changes of tsbpf processes. The kernel removes a clsact together
// with every filter on it (RTM_DELQDISC does not refuse while filters are there), so "no filter is
// left: remove the clsact" in one process and "the clsact is there: add a filter" in another must not
// interleave, or the second process's new filter vanishes with the clsact. attachTc holds the lock
// from adding the clsact to adding its filter, detach from listing the filters to removing the clsact.
//
// An OFD lock (fcntl F_OFD_SETLK) on CLSACT_LOCK_PATH: it belongs to the open file, so it goes when
// the fd is closed or the process dies, and two opens in one process exclude each other too. Other
// tools (tc) do not take it: against them only the kernel's own checks hold. Where the lock file
// cannot be made (no /run, not root) or the kernel lacks OFD locks, the work runs unlocked.
import { closeSync, constants, mkdirSync, openSync } from 'node:fs';
import { dirname } from 'node:path';
import { TsbpfError } from '../errors.js';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { ERRNO } from '../syscall/errno.js';
import { NativeBuffer } from '../syscall/memory.js';

export const CLSACT_LOCK_PATH = '/run/tsbpf/clsact.lock';

const F_OFD_SETLK = 37;
const F_WRLCK = 1;
/** struct flock (64-bit): l_type s16 @0, l_whence s16 @2, l_start s64 @8, l_len s64 @16 (0: to EOF), l_pid s32 @24 (0 for OFD locks) */
const FLOCK_SIZE = 32;
const WAIT_STEP_MS = 2;

/** Another process held the clsact lock longer than the wait allows (stopped, or stuck in the kernel). */
export class ClsactLockTimeoutError extends TsbpfError {
  readonly path: string;
  constructor(op: string, path: string, waitedMs: number) {
    super(`${op}: another tsbpf process has held ${path} for over ${waitedMs} ms while changing a clsact qdisc; try again, or find the holder with \`fuser ${path}\``);
    this.path = path;
  }
}

const sleeper = new Int32Array(new SharedArrayBuffer(4));

/** Run fn holding the host-wide clsact lock (or unlocked where there can be none, see above). */
export function withClsactLock<T>(op: string, fn: () => T, o: { path?: string; timeoutMs?: number } = {}): T {
  const path = o.path ?? CLSACT_LOCK_PATH;
  const timeoutMs = o.timeoutMs ?? 15000;
  let fd: number;
  try {
    mkdirSync(dirname(path), { recursive: true, mode: 0o755 });
    fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o600);
  } catch {
    return fn();
  }
  const flock = new NativeBuffer(FLOCK_SIZE);
  try {
    flock.view.setInt16(0, F_WRLCK, true); // whence SEEK_SET, start 0, len 0 (whole file), pid 0
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const r = ffi().syscall3(SYS.fcntl, fd, F_OFD_SETLK, flock.address);
      if (r === 0) break;
      if (r === -ERRNO.EINTR) continue;
      if (r !== -ERRNO.EAGAIN && r !== -ERRNO.EACCES) return fn(); // no OFD locks here (EINVAL before 3.15)
      if (Date.now() >= deadline) throw new ClsactLockTimeoutError(op, path, timeoutMs);
      Atomics.wait(sleeper, 0, 0, WAIT_STEP_MS);
    }
    return fn();
  } finally {
    flock.free();
    closeSync(fd); // releases the lock
  }
}
