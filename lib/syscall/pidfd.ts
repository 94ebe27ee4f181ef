// Another process's file descriptor, duplicated into this one (pidfd_open + pidfd_getfd, Linux 5.6):
// how a socket that some other process opened (a server written in anything) gets into a SOCKMAP,
// or a BPF object fd into this process. The caller needs ptrace rights over the process
// (PTRACE_MODE_ATTACH_REALCREDS: CAP_SYS_PTRACE, or the same user where Yama allows it).
import { closeSync } from 'node:fs';
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { Fd } from './fd.js';
import { BpfArgumentError, BpfError } from './errors.js';
import { ERRNO } from './errno.js';

/** A duplicate, owned here (close-on-exec), of file descriptor `fd` of process `pid`. */
export function fdFromProcess(pid: number, fd: number): Fd {
  const op = 'fdFromProcess';
  if (!Number.isSafeInteger(pid) || pid <= 0 || pid > 0x3fffffff) throw new BpfArgumentError(op, `pid must be a positive process id, got ${String(pid)}`);
  if (!Number.isSafeInteger(fd) || fd < 0 || fd > 0x7fffffff) throw new BpfArgumentError(op, `fd must be a non-negative file descriptor number, got ${String(fd)}`);
  const pidfd = ffi().syscall3(SYS.pidfd_open, pid, 0, 0);
  if (pidfd < 0) throw new BpfError('pidfd_open', -pidfd, -pidfd === ERRNO.ESRCH ? `no process ${pid}` : `process ${pid}`);
  try {
    const r = ffi().syscall3(SYS.pidfd_getfd, pidfd, fd, 0);
    if (r < 0) {
      const why = -r === ERRNO.EBADF ? `process ${pid} has no fd ${fd}`
        : -r === ERRNO.EPERM ? `fd ${fd} of process ${pid}: taking it needs ptrace rights over the process (CAP_SYS_PTRACE)`
          : `fd ${fd} of process ${pid}`;
      throw new BpfError('pidfd_getfd', -r, why);
    }
    return new Fd(r, `fd ${fd} of process ${pid}`);
  } finally {
    closeSync(pidfd);
  }
}
