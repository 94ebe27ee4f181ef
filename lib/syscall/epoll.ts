// epoll(7) over raw syscalls, for waiting on ring/perf buffer fds. The wait is synchronous: callers
// use timeout 0 to poll from the event loop, or a bounded timeout where blocking is acceptable.
import { ffi } from './backend.js';
import { SYS } from './numbers.js';
import { BpfError } from './errors.js';
import { Fd } from './fd.js';
import { NativeBuffer } from './memory.js';

export const EPOLL = { IN: 0x001, PRI: 0x002, OUT: 0x004, ERR: 0x008, HUP: 0x010, ET: 1 << 31 } as const;
const EPOLL_CLOEXEC = 0o2000000;
const CTL = { ADD: 1, DEL: 2, MOD: 3 } as const;
// struct epoll_event is packed on x86_64 (12 bytes: u32 events, u64 data), naturally aligned elsewhere (16)
const EVENT_SIZE = process.arch === 'x64' ? 12 : 16;
const DATA_OFF = process.arch === 'x64' ? 4 : 8;

export interface EpollEvent {
  events: number;
  /** the `data` given to add() (here: a number, commonly the fd) */
  data: number;
}

export class Epoll {
  readonly fd: Fd;
  readonly #events: NativeBuffer;
  readonly #max: number;

  constructor(maxEvents = 64) {
    const r = ffi().syscall3(SYS.epoll_create1, EPOLL_CLOEXEC, 0, 0);
    if (r < 0) throw new BpfError('epoll_create1', -r);
    this.fd = new Fd(r, 'epoll');
    this.#max = maxEvents;
    this.#events = new NativeBuffer(maxEvents * EVENT_SIZE);
  }

  add(fd: number, events: number = EPOLL.IN, data: number = fd): void {
    this.#ctl(CTL.ADD, fd, events, data);
  }

  modify(fd: number, events: number, data: number = fd): void {
    this.#ctl(CTL.MOD, fd, events, data);
  }

  remove(fd: number): void {
    this.#ctl(CTL.DEL, fd, 0, 0);
  }

  /** Ready events; [] after `timeoutMs` (0: do not wait, -1: wait forever). EINTR gives []. */
  wait(timeoutMs = 0): EpollEvent[] {
    const ev = this.#events;
    const r = ffi().syscall6(SYS.epoll_pwait, this.fd.value, ev.address, this.#max, timeoutMs, 0, 8);
    if (r === -4) return [];
    if (r < 0) throw new BpfError('epoll_pwait', -r);
    const out: EpollEvent[] = [];
    for (let i = 0; i < r; i++) {
      const o = i * EVENT_SIZE;
      out.push({ events: ev.view.getUint32(o, true), data: Number(ev.view.getBigUint64(o + DATA_OFF, true)) });
    }
    return out;
  }

  close(): void {
    if (this.fd.closed) return;
    this.fd.close();
    this.#events.free();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  #ctl(op: number, fd: number, events: number, data: number): void {
    const e = new NativeBuffer(16);
    try {
      e.view.setUint32(0, events >>> 0, true);
      e.view.setBigUint64(DATA_OFF, BigInt(data), true);
      const r = ffi().syscall6(SYS.epoll_ctl, this.fd.value, op, fd, e.address, 0, 0);
      if (r < 0) throw new BpfError('epoll_ctl', -r, `fd ${fd}`);
    } finally {
      e.free();
    }
  }
}
