// koffi backend: libc's syscall() declared with fixed integer arguments. On the SysV ABIs the
// variadic callee reads integer args from the same registers, so the fixed prototype is exact
// and avoids koffi's slower variadic path.
import { createRequire } from 'node:module';
import type { FfiBackend, NativeMemory, SyscallArg } from './ffi.js';

const require = createRequire(import.meta.url);

export function createKoffiBackend(): FfiBackend {
  const koffi = require('koffi');
  const libc = koffi.load('libc.so.6');
  const sys3 = libc.func('intptr_t syscall(intptr_t, intptr_t, intptr_t, intptr_t)');
  const sys6 = libc.func('intptr_t syscall(intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t, intptr_t)');
  const calloc = libc.func('intptr_t calloc(size_t, size_t)');
  const cfree = libc.func('void free(intptr_t)');
  const errno: () => number = koffi.errno;

  return {
    name: 'koffi',
    syscall3(nr: number, a1: SyscallArg, a2: SyscallArg, a3: SyscallArg): number {
      const r = Number(sys3(nr, a1, a2, a3));
      return r < 0 ? -errno() : r;
    },
    syscall6(nr, a1, a2, a3, a4, a5, a6) {
      const r = Number(sys6(nr, a1, a2, a3, a4, a5, a6));
      return r < 0 ? -errno() : r;
    },
    alloc(size: number): NativeMemory {
      const address = Number(calloc(1, size));
      if (address === 0) throw new Error(`calloc(${size}) failed`);
      return { address, size, buffer: koffi.view(address, size) };
    },
    free(mem: NativeMemory) {
      cfree(mem.address);
    },
    view(address: number, length: number): ArrayBuffer {
      return koffi.view(address, length);
    },
  };
}
