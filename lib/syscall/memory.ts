// Native memory for syscall arguments. Everything a bpf_attr points at (keys, values, instructions,
// log buffers, names) is copied here first: V8 may move small Buffers, native memory never moves.
import { ffi } from './backend.js';
import type { NativeMemory } from './ffi.js';
import { BpfArgumentError } from './errors.js';

/** An owned block of native memory with byte and DataView access. */
export class NativeBuffer {
  readonly address: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  #mem: NativeMemory | undefined;

  constructor(size: number) {
    if (!Number.isSafeInteger(size) || size < 0) throw new BpfArgumentError('NativeBuffer', `size must be a non-negative integer, got ${size}`);
    const mem = ffi().alloc(Math.max(8, size));
    this.#mem = mem;
    this.address = mem.address;
    this.size = mem.size;
    this.bytes = new Uint8Array(mem.buffer, 0, mem.size);
    this.view = new DataView(mem.buffer, 0, mem.size);
  }

  get freed(): boolean {
    return this.#mem === undefined;
  }

  free(): void {
    if (!this.#mem) return;
    ffi().free(this.#mem);
    this.#mem = undefined;
  }
}

const align8 = (n: number) => (n + 7) & ~7;

/**
 * A bump allocator over native memory for the duration of one synchronous call: reset() at the start,
 * place() the attr and its pointees, call, read results, done. Requests that do not fit the main block
 * get their own block, released at the next reset(). One per process suffices: calls never interleave.
 */
export class Scratch {
  #main: NativeBuffer;
  #used = 0;
  #extra: NativeBuffer[] = [];

  constructor(size = 64 * 1024) {
    this.#main = new NativeBuffer(size);
  }

  reset(): void {
    this.#used = 0;
    for (const b of this.#extra) b.free();
    this.#extra.length = 0;
  }

  /** Zeroed native bytes: returns the address and a Uint8Array/DataView over exactly them. */
  alloc(size: number): { address: number; bytes: Uint8Array; view: DataView } {
    if (!Number.isSafeInteger(size) || size < 0) throw new BpfArgumentError('scratch', `size must be a non-negative integer, got ${size}`);
    const n = align8(Math.max(size, 1));
    if (this.#used + n <= this.#main.size) {
      const off = this.#used;
      this.#used += n;
      const bytes = this.#main.bytes.subarray(off, off + size);
      bytes.fill(0);
      return { address: this.#main.address + off, bytes, view: new DataView(bytes.buffer, bytes.byteOffset, size) };
    }
    const b = new NativeBuffer(n);
    this.#extra.push(b);
    return { address: b.address, bytes: b.bytes.subarray(0, size), view: new DataView(b.bytes.buffer, 0, size) };
  }

  /** Copy bytes (or a NUL-terminated string) into native memory; returns the address. */
  put(data: Uint8Array | string): number {
    const src = typeof data === 'string' ? cString(data) : data;
    const { address, bytes } = this.alloc(src.length);
    bytes.set(src);
    return address;
  }
}

export function cString(s: string): Uint8Array {
  const enc = new TextEncoder().encode(s);
  const out = new Uint8Array(enc.length + 1);
  out.set(enc);
  return out;
}

let shared: Scratch | undefined;

/** The process-wide scratch arena, reset for a new call. */
export function scratch(): Scratch {
  shared ??= new Scratch();
  shared.reset();
  return shared;
}
