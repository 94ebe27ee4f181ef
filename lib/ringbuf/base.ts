// What the event readers (RingBuffer, PerfEventArray) share: the epoll waiter, 'record' events
// delivered by a loop started with the first listener, and a close() that ends pending waits and
// releases the mapped pages only once no record is being processed (from a callback or a loop
// body, the record in hand is still given back to the kernel first).
import { EventEmitter } from 'node:events';
import type { EpollWaiter } from './waiter.js';

export abstract class BufferReader extends EventEmitter {
  /** set by the subclass constructor once its fds exist */
  protected waiter!: EpollWaiter;
  #closed = false;
  #looping = false;
  /** consume() calls and iterator records in progress */
  #depth = 0;

  constructor() {
    super();
    // a 'record' listener starts delivery through events
    this.on('newListener', (event: string) => {
      if (event === 'record' && !this.#looping) queueMicrotask(() => void this.#loop());
    });
  }

  get closed(): boolean {
    return this.#closed;
  }

  /** Resolves true when records may be ready, false once closed. Never blocks the event loop. */
  wait(): Promise<boolean> {
    return this.waiter.wait();
  }

  /** Stop reading: a pending wait or iteration ends, the pages are released. The map stays open. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.stopDelivery();
    this.waiter.close();
    if (this.#depth === 0) this.releasePages();
    this.emit('close');
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /** around the processing of records: close() meanwhile defers releasePages() to the last leave() */
  protected enter(): void {
    this.#depth++;
  }

  protected leave(): void {
    if (--this.#depth === 0 && this.#closed) this.releasePages();
  }

  /** deliver no more records (memory still mapped) */
  protected abstract stopDelivery(): void;
  /** unmap and close what the reader made (called once, with no record in progress) */
  protected abstract releasePages(): void;
  /** deliver every ready record as a 'record' event */
  protected abstract emitReady(): void;

  async #loop(): Promise<void> {
    if (this.#looping) return;
    this.#looping = true;
    try {
      while (!this.#closed && this.listenerCount('record') > 0) {
        this.emitReady();
        if (!(await this.waiter.wait())) break;
      }
    } catch (e) {
      if (this.listenerCount('error') > 0) this.emit('error', e);
      else queueMicrotask(() => { throw e; });
    } finally {
      this.#looping = false;
    }
  }
}
