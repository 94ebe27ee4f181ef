// BPF iterators at the syscall level: ITER_CREATE makes a fresh walk of an iterator link, an fd
// that read(2) runs the program over (a seq_file, as /proc files are).
import { readSync } from 'node:fs';
import { bpfCall } from './bpf.js';
import { ITER_CREATE_ATTR } from './attr.js';
import { scratch } from './memory.js';
import { Fd } from './fd.js';
import { BpfError } from './errors.js';
import { ERRNO } from './errno.js';
import { BPF_CMD } from './types.js';

/** ITER_CREATE: a new iterator fd over the link's objects; each fd is one walk from the start. */
export function iterCreate(linkFd: number, what?: string): Fd {
  const s = scratch();
  const attr = s.alloc(ITER_CREATE_ATTR.size);
  attr.view.setUint32(ITER_CREATE_ATTR.off.link_fd, linkFd, true);
  return new Fd(bpfCall(BPF_CMD.ITER_CREATE, attr.address, ITER_CREATE_ATTR.size, what), 'iterator');
}

/**
 * Read an iterator fd to its end. The program runs inside read(2), in the reading thread, so this is
 * synchronous work like reading /proc, with no waiting on events. More than `maxBytes` is an error
 * (a program that never ends its walk would otherwise fill memory).
 */
export function readIterFd(fd: Fd, maxBytes: number, what: string): Buffer {
  const chunks: Buffer[] = [];
  let total = 0;
  // seq_file hands out at most its buffer (a few pages) per read; 64 KiB takes several at once
  let buf = Buffer.allocUnsafe(64 * 1024);
  for (;;) {
    let n: number;
    try {
      n = readSync(fd.value, buf, 0, buf.length, null);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).errno;
      if (code === -ERRNO.EINTR || code === -ERRNO.EAGAIN) continue;
      // E2BIG: one object's output was larger than the seq_file buffer (8 pages)
      if (typeof code === 'number') throw new BpfError('read(iterator)', -code, what, { cause: e });
      throw e;
    }
    if (n === 0) break;
    total += n;
    if (total > maxBytes) throw new BpfError('read(iterator)', ERRNO.EFBIG, `${what}: more than ${maxBytes} bytes (raise maxBytes if that is expected)`);
    chunks.push(buf.subarray(0, n));
    buf = Buffer.allocUnsafe(buf.length);
  }
  return chunks.length === 1 ? chunks[0] : Buffer.concat(chunks, total);
}
