// Waiting for ring/perf buffer fds without blocking Node's event loop.
//
// libuv can watch only fds it opened in its own terms (sockets, pipes, ttys); an epoll fd handed
// to net.Socket is rejected, and polling epoll from timers either burns CPU or adds latency. So a
// small worker thread does the one blocking call: it sleeps in epoll_pwait only while the main
// thread has armed it (after finding the buffers empty), posts one message when an fd is ready,
// and goes back to sleep on a shared word. The main thread never makes a blocking call. close()
// wakes the worker through an eventfd in the same epoll set. Level-triggered epoll closes the race
// between "buffers looked empty" and "worker entered epoll_pwait": data present then is reported.
import { Worker } from 'node:worker_threads';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { BpfArgumentError, BpfError } from '../syscall/errors.js';
import { Fd } from '../syscall/fd.js';
import { Epoll, EPOLL } from '../syscall/epoll.js';
import { NativeBuffer } from '../syscall/memory.js';
import { IDLE, ARMED, CLOSED } from './wait-state.js';

const EFD_CLOEXEC = 0o2000000;
const EFD_NONBLOCK = 0o4000;
// The worker body: .js from the build. Running from the .ts sources (under tsx), a worker does not
// inherit tsx's loader hooks on Node 20, so a small bootstrap registers tsx in the worker first.
const FROM_SOURCE = import.meta.url.endsWith('.ts');
const WORKER_URL = new URL(FROM_SOURCE ? './wait-worker.ts' : './wait-worker.js', import.meta.url);
const BOOTSTRAP = `const { workerData } = require('node:worker_threads');
import(workerData.tsx).then((t) => { t.register(); return import(workerData.url); });`;

function startWorker(data: Record<string, unknown>): Worker {
  if (!FROM_SOURCE) return new Worker(WORKER_URL, { workerData: data });
  return new Worker(BOOTSTRAP, { eval: true, workerData: { ...data, url: WORKER_URL.href, tsx: pathToFileURL(createRequire(import.meta.url).resolve('tsx/esm/api')).href.replace(/\.cjs$/, '.mjs') } });
}

export class EpollWaiter {
  readonly #epoll: Epoll;
  readonly #wake: Fd;
  readonly #state = new Int32Array(new SharedArrayBuffer(4));
  #worker: Worker | undefined;
  #armed = false;
  #closed = false;
  #pending: { resolve: (ready: boolean) => void; reject: (e: unknown) => void; holder?: object }[] = [];

  /** what the fds are, for errors ('ring/perf buffer fds', 'the RX ring of an AF_XDP socket') */
  readonly #what: string;

  constructor(fds: readonly number[], what = 'ring/perf buffer fds') {
    this.#what = what;
    this.#epoll = new Epoll(16);
    let wake: Fd | undefined;
    try {
      const r = ffi().syscall3(SYS.eventfd2, 0, EFD_CLOEXEC | EFD_NONBLOCK, 0);
      if (r < 0) throw new BpfError('eventfd2', -r);
      wake = new Fd(r, 'eventfd');
      for (const fd of fds) this.#epoll.add(fd, EPOLL.IN);
      this.#epoll.add(wake.value, EPOLL.IN);
    } catch (e) {
      // nothing left behind: neither the epoll set nor the eventfd
      wake?.close();
      this.#epoll.close();
      throw e;
    }
    this.#wake = wake;
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Watch one more fd; a wait in progress is woken by it too (epoll_ctl on the set it sleeps in). */
  add(fd: number): void {
    if (this.#closed) throw new BpfArgumentError('EpollWaiter.add', 'the waiter is closed');
    this.#epoll.add(fd, EPOLL.IN);
  }

  /** Ready fds right now, without waiting (for synchronous polling). */
  poll(): number {
    return this.#closed ? 0 : this.#epoll.wait(0).length;
  }

  /**
   * Resolves true when a watched fd is (or may be) readable, false once close() was called.
   * Call it only after draining the buffers: readiness of data already there is reported at once.
   * `signal` abandons the wait: it resolves true at once (look again, as after a spurious wakeup),
   * and once no wait is pending the waiter no longer keeps the process alive. `holder` is kept
   * reachable while this wait is pending (a started worker keeps the waiter reachable, and the
   * waiter its pending waits): a reader whose caller kept only the promise is not collected (and
   * released by its safety net) under its own wait.
   */
  wait(signal?: AbortSignal, holder?: object): Promise<boolean> {
    if (this.#closed) return Promise.resolve(false);
    if (signal?.aborted) return Promise.resolve(true);
    const p = new Promise<boolean>((resolve, reject) => {
      const w = { resolve, reject, holder };
      this.#pending.push(w);
      signal?.addEventListener('abort', () => {
        const i = this.#pending.indexOf(w);
        if (i < 0) return;
        this.#pending.splice(i, 1);
        if (this.#pending.length === 0) this.#disarm();
        resolve(true);
      }, { once: true });
    });
    this.#arm();
    return p;
  }

  /** Ends pending and future waits (they resolve false); the fds are released once the worker is gone. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    const pending = this.#pending;
    this.#pending = [];
    for (const w of pending) w.resolve(false);
    const worker = this.#worker;
    if (!worker) {
      this.#release();
      return;
    }
    Atomics.store(this.#state, 0, CLOSED);
    Atomics.notify(this.#state, 0);
    this.#kick();
    worker.unref();
    worker.once('exit', () => this.#release());
  }

  #release(): void {
    this.#epoll.close();
    this.#wake.close();
  }

  #arm(): void {
    if (this.#armed) return;
    this.#armed = true;
    if (!this.#worker) {
      const w = startWorker({ epollFd: this.#epoll.fd.value, wakeFd: this.#wake.value, state: this.#state.buffer });
      w.on('message', (m: unknown) => this.#onMessage(m));
      w.on('error', (e) => this.#fail(e));
      this.#worker = w;
    }
    // a pending wait keeps the process alive, as a socket read would; an idle reader does not
    this.#worker.ref();
    Atomics.store(this.#state, 0, ARMED);
    Atomics.notify(this.#state, 0);
  }

  /**
   * Nobody waits any more: take the worker out of epoll_pwait and let the process exit. An unref'd
   * worker blocked in a syscall would still hang the exit (Node joins its worker threads and cannot
   * interrupt the syscall); asleep in Atomics.wait it can be stopped.
   */
  #disarm(): void {
    if (!this.#armed) return;
    this.#armed = false;
    this.#worker?.unref();
    if (Atomics.compareExchange(this.#state, 0, ARMED, IDLE) !== ARMED) return; // already reporting
    this.#kick();
  }

  /** make the wake eventfd readable (the worker leaves epoll_pwait) */
  #kick(): void {
    const one = new NativeBuffer(8);
    one.view.setBigUint64(0, 1n, true);
    ffi().syscall3(SYS.write, this.#wake.value, one.address, 8);
    one.free();
  }

  #onMessage(m: unknown): void {
    this.#armed = false;
    this.#worker?.unref();
    if (typeof m === 'object' && m !== null && 'errno' in m) {
      this.#fail(new BpfError('epoll_pwait', (m as { errno: number }).errno, `waiting for ${this.#what}`));
      return;
    }
    const pending = this.#pending;
    this.#pending = [];
    for (const w of pending) w.resolve(true);
    // a report sent before a disarm and a re-arm: the worker is back in epoll_pwait for waits that
    // were just resolved (spuriously, which is allowed); take it out until someone waits again
    if (!this.#closed && Atomics.load(this.#state, 0) === ARMED) {
      this.#armed = true;
      this.#disarm();
    }
  }

  #fail(e: unknown): void {
    this.#armed = false;
    const pending = this.#pending;
    this.#pending = [];
    for (const w of pending) w.reject(e);
  }
}

