// ffi-rs backend (TSBPF_FFI=ffi-rs): libc's syscall() through ffi-rs's define(). Native memory is
// calloc'd; its zero-copy view comes from createExternalBuffer over a pointer ffi-rs can hold,
// obtained as memcpy(p, p, 0)'s return value (memcpy returns its destination), since ffi-rs has no
// way to turn an integer into a pointer. errno is read on failure only, from this thread's errno
// (__errno_location(), mapped once): ffi-rs's own `errno: true` option doubles every call's cost.
// Much slower per call than koffi (~9 µs vs ~1.1 µs): selectable, not the default.
import { createRequire } from 'node:module';
import type { FfiBackend, NativeMemory, SyscallArg } from './ffi.js';

const require = createRequire(import.meta.url);

export function createFfiRsBackend(): FfiBackend {
  const rs = require('ffi-rs') as typeof import('ffi-rs');
  const { DataType } = rs;
  rs.open({ library: 'libc', path: 'libc.so.6' });
  const I64 = DataType.I64;
  const fns = rs.define({
    syscall: { library: 'libc', retType: I64, paramsType: [I64, I64, I64, I64] },
    __errno_location: { library: 'libc', retType: I64, paramsType: [] },
    calloc: { library: 'libc', retType: I64, paramsType: [I64, I64] },
    free: { library: 'libc', retType: DataType.Void, paramsType: [I64] },
    memcpy: { library: 'libc', retType: DataType.External, paramsType: [I64, I64, I64] },
  });
  const sys3 = fns.syscall as unknown as (args: number[]) => number;
  // define() names functions by their key, so the 7-argument prototype of syscall() needs its own define()
  const sys6 = rs.define({ syscall: { library: 'libc', retType: I64, paramsType: [I64, I64, I64, I64, I64, I64, I64] } }).syscall as unknown as (args: number[]) => number;
  const n = (a: SyscallArg) => (typeof a === 'bigint' ? Number(BigInt.asIntN(64, a)) : a);
  // this thread's errno; each worker thread loads its own backend, so the address stays right
  let errnoCell: Int32Array | undefined;
  const errno = () => (errnoCell ??= new Int32Array(view(Number(fns.__errno_location([])), 4)))[0];

  function view(address: number, length: number): ArrayBuffer {
    const ptr = fns.memcpy([address, address, 0]);
    const buf = rs.createExternalBuffer(ptr, length);
    if (buf.byteOffset !== 0 || buf.buffer.byteLength !== length) {
      // only a copying fallback (runtimes without external buffers) would land here: refuse it
      throw new Error('ffi-rs: createExternalBuffer did not give a zero-copy view of native memory');
    }
    return buf.buffer as ArrayBuffer;
  }

  return {
    name: 'ffi-rs',
    syscall3(nr, a1, a2, a3) {
      const r = Number(sys3([nr, n(a1), n(a2), n(a3)]));
      return r < 0 ? -errno() : r;
    },
    syscall6(nr, a1, a2, a3, a4, a5, a6) {
      const r = Number(sys6([nr, n(a1), n(a2), n(a3), n(a4), n(a5), n(a6)]));
      return r < 0 ? -errno() : r;
    },
    alloc(size: number): NativeMemory {
      const address = Number(fns.calloc([1, size]));
      if (address === 0) throw new Error(`calloc(${size}) failed`);
      return { address, size, buffer: view(address, size) };
    },
    free(mem: NativeMemory) {
      fns.free([mem.address]);
    },
    view,
  };
}
