// The bpf() system call itself and the mapping of its failures to typed errors.
// Command functions (map.ts, prog.ts, obj.ts, link.ts, btf.ts) build their attr in native memory
// and go through here.
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { BpfError, BpfPermissionError, KeyExistsError, KeyNotFoundError, missingCapabilities } from './errors.js';
import { ERRNO } from './errno.js';
import { cmdName } from './types.js';
import { NativeBuffer } from './memory.js';

const NR_BPF = SYS.bpf;

/** bpf(cmd, attr, size) with attr an address of native memory: the result (>= 0) or -errno. */
export function sysBpf(cmd: number, attr: number, size: number): number {
  return ffi().syscall3(NR_BPF, cmd, attr, size);
}

/** tries before a command a signal interrupted runs with signals blocked (libbpf retries a load 5 times) */
const SIGNAL_RETRIES = 5;
const SIG_BLOCK = 0;
const SIG_SETMASK = 2;
/** the mask to block (every signal; SIGKILL and SIGSTOP cannot be) and the thread's mask before */
let sigsets: NativeBuffer | undefined;

/**
 * bpf() for a command that a signal pending for the calling thread interrupts, failing with
 * `interrupted` (PROG_LOAD: the verifier gives up with EAGAIN; PROG_TEST_RUN: EINTR between runs):
 * nothing the caller did wrong. Such signals come often in Node (a profiler's SIGPROF every
 * millisecond, SIGCHLD), so the call is tried again; when they keep coming (work longer than
 * their interval) the last try runs with the thread's signals blocked: they wait until it returns,
 * as they would for any system call that cannot be interrupted (SIGKILL still ends the process).
 */
export function sysBpfUninterrupted(cmd: number, attr: number, size: number, interrupted: number): number {
  let r = sysBpf(cmd, attr, size);
  for (let i = 1; r === -interrupted && i < SIGNAL_RETRIES; i++) r = sysBpf(cmd, attr, size);
  if (r !== -interrupted) return r;
  const sets = (sigsets ??= new NativeBuffer(16));
  // every signal but glibc's own two (32, 33: thread cancellation and setxid, which other threads wait on)
  sets.view.setBigUint64(0, 0xffffffffffffffffn & ~((1n << 31n) | (1n << 32n)), true);
  const blocked = ffi().syscall6(SYS.rt_sigprocmask, SIG_BLOCK, sets.address, sets.address + 8, 8, 0, 0);
  try {
    return sysBpf(cmd, attr, size);
  } finally {
    if (blocked === 0) ffi().syscall6(SYS.rt_sigprocmask, SIG_SETMASK, sets.address + 8, 0, 8, 0, 0);
  }
}

/** bpf(cmd, attr, size); throws the typed error for a failure. `detail` names what was being done. */
export function bpfCall(cmd: number, attr: number, size: number, detail?: string): number {
  const r = ffi().syscall3(NR_BPF, cmd, attr, size);
  if (r < 0) throw bpfError(cmd, -r, detail);
  return r;
}

/** The typed error for bpf command `cmd` failing with `code` (positive errno). */
export function bpfError(cmd: number | string, code: number, detail?: string): BpfError {
  const name = typeof cmd === 'number' ? cmdName(cmd) : cmd;
  if (code === ERRNO.EPERM || (code === ERRNO.EACCES && name !== 'PROG_LOAD')) {
    const missing = missingCapabilities();
    // EPERM with every capability held is not a privilege problem (a frozen or read-only map, lockdown)
    if (missing.length > 0) return new BpfPermissionError(name, code, missing, detail);
  }
  if (code === ERRNO.ENOENT && (name === 'MAP_LOOKUP_ELEM' || name === 'MAP_DELETE_ELEM' || name === 'MAP_LOOKUP_AND_DELETE_ELEM')) {
    return new KeyNotFoundError(name, code, detail ?? 'key not found');
  }
  if (code === ERRNO.EEXIST && name === 'MAP_UPDATE_ELEM') return new KeyExistsError(name, code, detail ?? 'key already exists');
  return new BpfError(name, code, detail);
}
