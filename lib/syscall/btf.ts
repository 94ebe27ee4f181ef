// BTF_LOAD: hand a BTF blob to the kernel, with its checker's log on failure.
import { sysBpf, bpfError } from './bpf.js';
import { BTF_LOAD_ATTR } from './attr.js';
import { writeStruct } from './layout.js';
import { cText, scratch } from './memory.js';
import { Fd } from './fd.js';
import { BPF_CMD } from './types.js';
import { ERRNO } from './errno.js';
import { VerifierError } from './errors.js';

export interface BtfLoadOptions {
  /** 0: log only when the load fails (retried with level 1); 1 or 2 to always log */
  logLevel?: number;
  logSize?: number;
  tokenFd?: number;
}

export interface BtfLoadResult { fd: Fd; log: string }

export function btfLoad(blob: Uint8Array, o: BtfLoadOptions = {}): BtfLoadResult {
  let first = attempt(blob, o.logLevel ?? 0, o.logSize ?? (1 << 20), o.tokenFd);
  // a log that did not fit fails the load (ENOSPC); the kernel says how much room it needs
  if (first.r === -ERRNO.ENOSPC && o.logLevel && first.trueSize > (o.logSize ?? (1 << 20))) first = attempt(blob, o.logLevel, first.trueSize, o.tokenFd);
  if (first.r >= 0) return { fd: new Fd(first.r, 'BTF'), log: first.log };
  const code = -first.r;
  if (code !== ERRNO.EINVAL && code !== ERRNO.ENOSPC && code !== ERRNO.E2BIG && code !== ERRNO.EACCES) throw bpfError('BTF_LOAD', code);
  let log = first.log;
  if (!o.logLevel) {
    const again = attempt(blob, 1, 4 << 20, o.tokenFd);
    if (again.r >= 0) return { fd: new Fd(again.r, 'BTF'), log: '' };
    log = again.log;
  }
  throw new VerifierError('BTF_LOAD', code, log, code === ERRNO.ENOSPC, 'BTF rejected');
}

function attempt(blob: Uint8Array, logLevel: number, logSize: number, tokenFd?: number) {
  const s = scratch();
  const at = s.attr(BTF_LOAD_ATTR.size);
  const log = logLevel > 0 ? s.alloc(logSize) : undefined;
  writeStruct(s.view, at, BTF_LOAD_ATTR, {
    btf: s.put(blob), btf_size: blob.length, btf_log_buf: log?.address, btf_log_size: log ? logSize : undefined,
    btf_log_level: logLevel || undefined, btf_token_fd: tokenFd, btf_flags: tokenFd !== undefined ? 1 << 16 : undefined,
  });
  const r = sysBpf(BPF_CMD.BTF_LOAD, s.base + at, BTF_LOAD_ATTR.size);
  return { r, log: log ? cText(log.bytes) : '', trueSize: s.view.getUint32(at + BTF_LOAD_ATTR.off.btf_log_true_size, true) };
}
