// The one small FFI surface the rest of tsbpf stands on: a raw syscall and memory that never moves.
// Backends: koffi (default, ~1.15x raw C per call) and ffi-rs (TSBPF_FFI=ffi-rs, much slower per call).

/** An integer argument to a syscall: a plain number where it fits, a bigint for 64-bit values. */
export type SyscallArg = number | bigint;

/** Native memory outside V8's heap: its address is stable for the memory's whole life. */
export interface NativeMemory {
  readonly address: number;
  readonly buffer: ArrayBuffer;
  readonly size: number;
}

export interface FfiBackend {
  readonly name: 'koffi' | 'ffi-rs';
  /** syscall(nr, a1, a2, a3): the result when >= 0, or -errno. The hot path of every map operation. */
  syscall3(nr: number, a1: SyscallArg, a2: SyscallArg, a3: SyscallArg): number;
  /** syscall with six arguments: the result when >= 0, or -errno. */
  syscall6(nr: number, a1: SyscallArg, a2: SyscallArg, a3: SyscallArg, a4: SyscallArg, a5: SyscallArg, a6: SyscallArg): number;
  /** Allocate zeroed native memory that is never moved nor freed by the GC (freed with free()). */
  alloc(size: number): NativeMemory;
  free(mem: NativeMemory): void;
  /** An ArrayBuffer over existing native memory (mmap'd pages): no copy, valid while the mapping lives. */
  view(address: number, length: number): ArrayBuffer;
}
