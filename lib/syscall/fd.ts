// An owning file descriptor for a kernel object (map, program, BTF, link). close() is the plan;
// the FinalizationRegistry only closes what a caller forgot, so a dropped object leaks no fd.
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { BpfArgumentError, ClosedError, BpfError } from './errors.js';

const F_DUPFD_CLOEXEC = 1030;

function sysClose(fd: number): void {
  ffi().syscall3(SYS.close, fd, 0, 0);
}

const forgotten = new FinalizationRegistry<number>((fd) => sysClose(fd));

/**
 * Move a new fd away from 0: a kernel object on fd 0 would be mistaken for "no fd" by the many
 * attrs where 0 means absent (and closed by code that "closes stdin"). Same rule as libbpf.
 */
export function ensureGoodFd(fd: number, cmd = 'fcntl'): number {
  if (fd !== 0) return fd;
  const moved = ffi().syscall3(SYS.fcntl, 0, F_DUPFD_CLOEXEC, 3);
  sysClose(0);
  if (moved < 0) throw new BpfError(cmd, -moved, 'could not move the new fd 0 above 2');
  return moved;
}

/**
 * fcntl(F_DUPFD_CLOEXEC) of any fd number: the new fd (above 2, close-on-exec), or -errno. Callers
 * that take an fd someone else owns (a cgroup, a socket, a namespace) keep a copy of their own with
 * it and word a failure for what the fd was meant to be.
 */
export function dupCloexec(fd: number): number {
  return ffi().syscall3(SYS.fcntl, fd, F_DUPFD_CLOEXEC, 3);
}

export class Fd {
  #value: number;
  readonly #what: string;
  #watchers: (() => void)[] | undefined;

  /** Takes ownership of `value` (a fresh fd from the kernel). fd 0 is moved above 2 first. */
  constructor(value: number, what = 'file descriptor') {
    if (!Number.isInteger(value) || value < 0) throw new BpfArgumentError('Fd', `invalid fd ${value}`);
    this.#value = ensureGoodFd(value);
    this.#what = what;
    forgotten.register(this, this.#value, this);
  }

  /** The fd number; throws ClosedError after close(). */
  get value(): number {
    if (this.#value < 0) throw new ClosedError(this.#what);
    return this.#value;
  }

  get closed(): boolean {
    return this.#value < 0;
  }

  /** A second owning fd on the same kernel object. */
  dup(): Fd {
    const r = dupCloexec(this.value);
    if (r < 0) throw new BpfError('fcntl(F_DUPFD_CLOEXEC)', -r, `duplicating ${this.#what}`);
    return new Fd(r, this.#what);
  }

  /** Give up ownership without closing: the caller now owns the returned fd number. */
  release(): number {
    const v = this.value;
    forgotten.unregister(this);
    this.#value = -1;
    this.#notify();
    return v;
  }

  /** Idempotent. */
  close(): void {
    if (this.#value < 0) return;
    forgotten.unregister(this);
    sysClose(this.#value);
    this.#value = -1;
    this.#notify();
  }

  /**
   * Call `fn` once when this Fd is closed or released. Owners that keep the number for a fast path
   * (BpfMap) stop using it then: the number may soon name another object.
   */
  onClose(fn: () => void): void {
    if (this.#value < 0) return fn();
    (this.#watchers ??= []).push(fn);
  }

  #notify(): void {
    const w = this.#watchers;
    this.#watchers = undefined;
    if (w) for (const fn of w) fn();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  toString(): string {
    return this.#value < 0 ? `Fd(closed)` : `Fd(${this.#value})`;
  }
}
