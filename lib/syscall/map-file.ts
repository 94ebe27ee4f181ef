// A whole file mapped read-only (zero-copy), for /sys/kernel/btf/vmlinux: since Linux 6.16 the kernel
// maps its BTF pages straight into the process (PROT_READ + MAP_PRIVATE only; all pages mapped at
// mmap time), where read(2) of that sysfs file hands out one page per call (1,350 calls for 5.5 MB).
// The mapping lives as long as its ArrayBuffer: a FinalizationRegistry unmaps it once no view is
// left (it holds only the address, never the buffer).
import { closeSync, fstatSync, openSync } from 'node:fs';
import { ffi } from './backend.js';
import { SYS } from './numbers.js';

const PROT_READ = 1;
const MAP_PRIVATE = 2;

const unmapper = new FinalizationRegistry<{ address: number; length: number }>((m) => {
  ffi().syscall3(SYS.munmap, m.address, m.length, 0);
});

/**
 * The file's bytes as a read-only mapping (writing through the view faults), or undefined when the
 * file cannot be opened or mapped (older kernels, other sysfs files): the caller then reads it.
 */
export function mapFileReadOnly(path: string): Uint8Array | undefined {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch {
    return undefined; // the reading fallback reports why
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= 0) return undefined;
    const address = ffi().syscall6(SYS.mmap, 0, size, PROT_READ, MAP_PRIVATE, fd, 0);
    if (address < 0 && address > -4096) return undefined; // EINVAL/ENODEV/EACCES: not mappable here
    const buffer = ffi().view(address, size);
    unmapper.register(buffer, { address, length: size });
    return new Uint8Array(buffer);
  } catch {
    return undefined;
  } finally {
    closeSync(fd);
  }
}
