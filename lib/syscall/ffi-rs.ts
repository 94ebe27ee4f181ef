// ffi-rs backend (TSBPF_FFI=ffi-rs). Being written: see issue 2.
import type { FfiBackend } from './ffi.js';

export function createFfiRsBackend(): FfiBackend {
  throw new Error('the ffi-rs backend is not written yet');
}
