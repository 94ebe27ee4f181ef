// The bpf() system call itself and the mapping of its failures to typed errors.
// Command functions (map.ts, prog.ts, obj.ts, link.ts, btf.ts) build their attr in native memory
// and go through here.
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { BpfError, BpfPermissionError, KeyExistsError, KeyNotFoundError, missingCapabilities } from './errors.js';
import { ERRNO } from './errno.js';
import { cmdName } from './types.js';

const NR_BPF = SYS.bpf;

/** bpf(cmd, attr, size) with attr an address of native memory: the result (>= 0) or -errno. */
export function sysBpf(cmd: number, attr: number, size: number): number {
  return ffi().syscall3(NR_BPF, cmd, attr, size);
}

/** bpf(cmd, attr, size); throws the typed error for a failure. `detail` names what was being done. */
export function bpfCall(cmd: number, attr: number, size: number, detail?: string): number {
  const r = ffi().syscall3(NR_BPF, cmd, attr, size);
  if (r < 0) throw bpfError(cmd, -r, detail);
  return r;
}

/** The typed error for bpf command `cmd` failing with `code` (positive errno). */
export function bpfError(cmd: number | string, code: number, detail?: string): BpfError {
  const name = typeof cmd === 'number' ? cmdName(cmd) : cmd;
  if (code === ERRNO.EPERM || (code === ERRNO.EACCES && name !== 'PROG_LOAD')) {
    const missing = missingCapabilities();
    // EPERM with every capability held is not a privilege problem (a frozen or read-only map, lockdown)
    if (missing.length > 0) return new BpfPermissionError(name, code, missing, detail);
  }
  if (code === ERRNO.ENOENT && (name === 'MAP_LOOKUP_ELEM' || name === 'MAP_DELETE_ELEM' || name === 'MAP_LOOKUP_AND_DELETE_ELEM')) {
    return new KeyNotFoundError(name, code, detail ?? 'key not found');
  }
  if (code === ERRNO.EEXIST && name === 'MAP_UPDATE_ELEM') return new KeyExistsError(name, code, detail ?? 'key already exists');
  return new BpfError(name, code, detail);
}
