// Giving a reader's mapped pages back without leaving a hole under views that may still exist.
//
// Records are zero-copy Uint8Array views of the mapped pages, and nothing stops a caller from keeping
// one past close(). Reading it after a munmap() is a SIGSEGV that kills Node. So close() replaces
// the mapping in place with anonymous zero pages (mmap MAP_FIXED over the same range, same
// protection): the kernel's pages are released at once (the map and the perf events can be freed),
// a stale view reads zeros, and the range itself is unmapped only once the ArrayBuffer over it has
// been garbage collected, when no view of it can be left.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { MAP, type Mapping } from '../syscall/mmap.js';

/** MAP_ANONYMOUS: 0x20 on x86, arm, arm64, riscv, powerpc, s390 (0x800 on mips) */
const MAP_ANONYMOUS = process.arch.startsWith('mips') ? 0x800 : 0x20;

const unmapLater = new FinalizationRegistry<{ address: number; length: number }>(({ address, length }) => {
  ffi().syscall3(SYS.munmap, address, length, 0);
});

/**
 * Release the kernel's pages behind `m` and leave zero pages with protection `prot` in their place,
 * unmapped when the mapping's ArrayBuffer is collected. Do not use `m` afterwards (and drop every
 * typed array over its buffer: they would keep the range mapped). Falls back to a plain unmap
 * if the replacement mapping cannot be made.
 */
export function retireMapping(m: Mapping, prot: number): void {
  if (m.unmapped) return;
  const buffer = m.buffer;
  const r = ffi().syscall6(SYS.mmap, m.address, m.length, prot, MAP.PRIVATE | MAP.FIXED | MAP_ANONYMOUS, -1, 0);
  if (r !== m.address) {
    m.unmap();
    return;
  }
  unmapLater.register(buffer, { address: m.address, length: m.length });
}
