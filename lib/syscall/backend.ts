// Picks the FFI backend once per process: koffi by default, ffi-rs with TSBPF_FFI=ffi-rs.
import type { FfiBackend } from './ffi.js';
import { createKoffiBackend } from './koffi.js';
import { createFfiRsBackend } from './ffi-rs.js';

let current: FfiBackend | undefined;

export type FfiBackendName = FfiBackend['name'];

/** The process-wide FFI backend (chosen by TSBPF_FFI on first use). */
export function ffi(): FfiBackend {
  if (current) return current;
  const wanted = (process.env.TSBPF_FFI ?? 'koffi').toLowerCase();
  if (wanted === 'koffi') return (current = createKoffiBackend());
  if (wanted === 'ffi-rs') return (current = createFfiRsBackend());
  throw new Error(`TSBPF_FFI=${process.env.TSBPF_FFI}: unknown FFI backend (use koffi or ffi-rs)`);
}
