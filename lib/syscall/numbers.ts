// System call numbers per architecture (from the kernel's syscall tables).
// x86_64: arch/x86/entry/syscalls/syscall_64.tbl; arm64 uses the generic table (include/uapi/asm-generic/unistd.h).
const TABLES = {
  x64: { bpf: 321, close: 3, mmap: 9, munmap: 11, socket: 41, bind: 49, listen: 50, getsockname: 51, sendto: 44, recvfrom: 45, sendmsg: 46, recvmsg: 47, setsockopt: 54, getsockopt: 55, setns: 308, rt_sigprocmask: 14, epoll_create1: 291, epoll_ctl: 233, epoll_wait: 232, eventfd2: 290, perf_event_open: 298, ioctl: 16, openat: 257, read: 0, write: 1, getpid: 39, getppid: 110, gettid: 186, clock_gettime: 228, fcntl: 72, statfs: 137, epoll_pwait: 281, pidfd_open: 434, pidfd_getfd: 438 },
  arm64: { bpf: 280, close: 57, mmap: 222, munmap: 215, socket: 198, bind: 200, listen: 201, getsockname: 204, sendto: 206, recvfrom: 207, sendmsg: 211, recvmsg: 212, setsockopt: 208, getsockopt: 209, setns: 268, rt_sigprocmask: 135, epoll_create1: 20, epoll_ctl: 21, epoll_wait: -1 /* only epoll_pwait (22) */, eventfd2: 19, perf_event_open: 241, ioctl: 29, openat: 56, read: 63, write: 64, getpid: 172, getppid: 173, gettid: 178, clock_gettime: 113, fcntl: 25, statfs: 43, epoll_pwait: 22, pidfd_open: 434, pidfd_getfd: 438 },
} as const;

export type SyscallName = keyof (typeof TABLES)['x64'];

function table(): Record<SyscallName, number> {
  const t = (TABLES as Record<string, Record<SyscallName, number>>)[process.arch];
  if (!t) throw new Error(`tsbpf: no system call table for architecture ${process.arch} (supported: x64, arm64)`);
  return t;
}

/** System call numbers for the running architecture. */
export const SYS: Readonly<Record<SyscallName, number>> = table();
