// setns(2): move the calling thread (only it: namespaces are per task, not per process) into the
// namespace an fd refers to. For a network namespace that works in a multi-threaded process such as
// Node (the kernel checks CAP_SYS_ADMIN over both namespaces, nothing else); a user namespace is
// refused there (EINVAL, the thread group is not empty), a mount namespace too (EINVAL: Node's
// threads share one fs_struct). lib/netlink/netns-enter.ts builds the enter-and-return on it.
import { ffi } from './backend.js';
import { SYS } from './numbers.js';

/** CLONE_NEWNET: the nstype that makes setns refuse (EINVAL) an fd of any other namespace kind. */
export const CLONE_NEWNET = 0x40000000;

/** setns(fd, nstype): 0, or -errno. */
export function setns(fd: number, nstype: number): number {
  return ffi().syscall3(SYS.setns, fd, nstype, 0);
}
