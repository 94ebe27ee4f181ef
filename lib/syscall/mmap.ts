// mmap(2) of BPF maps (ring buffers, BPF_F_MMAPABLE arrays, arenas) and a view over the mapping.
import { readFileSync } from 'node:fs';
import { constants } from 'node:buffer';
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { BpfArgumentError, BpfError } from './errors.js';

export const PROT = { NONE: 0, READ: 1, WRITE: 2 } as const;
export const MAP = { SHARED: 0x01, PRIVATE: 0x02, FIXED: 0x10 } as const;

/** A live mapping; `buffer` is a zero-copy ArrayBuffer over it, valid until unmap(). */
export class Mapping {
  readonly address: number;
  readonly length: number;
  #buffer: ArrayBuffer | undefined;

  constructor(address: number, length: number) {
    this.address = address;
    this.length = length;
    this.#buffer = ffi().view(address, length);
  }

  get buffer(): ArrayBuffer {
    if (!this.#buffer) throw new BpfError('munmap', 9, 'the mapping was unmapped');
    return this.#buffer;
  }

  get unmapped(): boolean {
    return this.#buffer === undefined;
  }

  /** Idempotent. Views made from `buffer` must not be used afterwards. */
  unmap(): void {
    if (!this.#buffer) return;
    this.#buffer = undefined;
    ffi().syscall3(SYS.munmap, this.address, this.length, 0);
  }

  [Symbol.dispose](): void {
    this.unmap();
  }
}

/** mmap(NULL, length, prot, flags, fd, offset); offset must be page-aligned. */
export function mmap(fd: number, length: number, prot: number, flags: number = MAP.SHARED, offset = 0): Mapping {
  // one ArrayBuffer views the whole mapping: past Node's limit (4 GiB in Node 20) koffi aborts the
  // process (an uncatchable FATAL ERROR) and ffi-rs throws a bare Error, after the mapping was made
  if (!Number.isSafeInteger(length) || length <= 0 || length > constants.MAX_LENGTH) {
    throw new BpfArgumentError('mmap', `${length} bytes of fd ${fd}: a mapping is viewed as one ArrayBuffer, 1 … ${constants.MAX_LENGTH} bytes in this Node`);
  }
  const r = ffi().syscall6(SYS.mmap, 0, length, prot, flags, fd, offset);
  // addresses are positive; failures are -1..-4095
  if (r < 0 && r > -4096) throw new BpfError('mmap', -r, `fd ${fd}, ${length} bytes at offset ${offset}`);
  return new Mapping(r, length);
}

let page: number | undefined;

/** The system page size (from the auxiliary vector through /proc/self/auxv; 4096 if unreadable). */
export function pageSize(): number {
  if (page !== undefined) return page;
  page = 4096;
  try {
    // auxv: pairs of u64 (type, value); AT_PAGESZ = 6
    const b = readFileSync('/proc/self/auxv');
    for (let o = 0; o + 16 <= b.length; o += 16) {
      if (b.readBigUInt64LE(o) === 6n) { page = Number(b.readBigUInt64LE(o + 8)); break; }
    }
  } catch { /* keep 4096 */ }
  return page;
}
