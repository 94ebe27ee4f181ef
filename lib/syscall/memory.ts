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

// arithmetic, not `& ~7`: bitwise operators wrap above 2^31
const align8 = (n: number) => Math.ceil(n / 8) * 8;

/** The part of NativeBuffer that users of a block need: stable address, bytes, view, free(). */
export interface NativeBlock {
  readonly address: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  free(): void;
}

// Small long-lived blocks (a map's attrs, key and value areas) are carved from shared chunks: one
// calloc + view per chunk instead of per block, which is most of what creating a BpfMap costs in JS.
// A chunk is freed when its last block is; the chunk being carved is rewound instead, so a program
// that creates and closes maps in a loop reuses the same memory without calling into libc.
const CHUNK = 16 * 1024;
const SMALL = 1024;

class Chunk {
  readonly mem: NativeBuffer;
  used = 0;
  live = 0;

  constructor() {
    this.mem = new NativeBuffer(CHUNK);
  }
}

let carving: Chunk | undefined;

class ChunkSlice implements NativeBlock {
  readonly address: number;
  readonly size: number;
  readonly bytes: Uint8Array;
  readonly view: DataView;
  #chunk: Chunk | undefined;

  constructor(chunk: Chunk, off: number, size: number) {
    this.#chunk = chunk;
    this.address = chunk.mem.address + off;
    this.size = size;
    const buf = chunk.mem.bytes.buffer;
    const at = chunk.mem.bytes.byteOffset + off;
    this.bytes = new Uint8Array(buf, at, size);
    this.view = new DataView(buf, at, size);
  }

  get freed(): boolean {
    return this.#chunk === undefined;
  }

  free(): void {
    const c = this.#chunk;
    if (!c) return;
    this.#chunk = undefined;
    if (--c.live > 0) return;
    if (c === carving) c.used = 0;
    else c.mem.free();
  }
}

/**
 * Zeroed native memory that never moves, for objects that keep a small block for their whole life
 * (BpfMap). Blocks up to 1 KiB share chunks; larger ones are a NativeBuffer of their own.
 */
export function nativeBlock(size: number): NativeBlock {
  if (!Number.isSafeInteger(size) || size < 0) throw new BpfArgumentError('nativeBlock', `size must be a non-negative integer, got ${size}`);
  const n = align8(Math.max(size, 8));
  if (n > SMALL) return new NativeBuffer(n);
  if (carving && carving.used + n > CHUNK && carving.live === 0) carving.used = 0;
  if (!carving || carving.used + n > CHUNK) carving = new Chunk(); // the old one is freed with its last block
  const c = carving;
  const off = c.used;
  c.used += n;
  c.live++;
  const b = new ChunkSlice(c, off, n);
  // a rewound chunk holds old contents
  b.bytes.fill(0);
  return b;
}

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

  /** A DataView over the whole main block (attrs placed with attr() are at their offset in it). */
  get view(): DataView {
    return this.#main.view;
  }

  /** The bytes of the main block (same memory as `view`). */
  get bytes(): Uint8Array {
    return this.#main.bytes;
  }

  /** Address of offset 0 of `view`. */
  get base(): number {
    return this.#main.address;
  }

  /**
   * Room for a call's attr, reserved first after reset() so it is always in the main block: its
   * offset into `view` and `bytes`, zeroed. No views made: the cheap form of alloc().
   */
  attr(size: number): number {
    const n = align8(Math.max(size, 1));
    if (this.#used + n > this.#main.size) throw new BpfArgumentError('scratch', `attr of ${size} bytes does not fit`);
    const off = this.#used;
    this.#used += n;
    this.#main.bytes.fill(0, off, off + n);
    return off;
  }

  reset(): void {
    this.#used = 0;
    if (this.#extra.length === 0) return;
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
    if (typeof data === 'string') {
      // ASCII (names, licenses, paths: nearly always) goes in directly, without a TextEncoder
      const n = data.length;
      if (isAscii(data) && this.#used + align8(n + 1) <= this.#main.size) {
        const off = this.#used;
        this.#used += align8(n + 1);
        const b = this.#main.bytes;
        for (let i = 0; i < n; i++) b[off + i] = data.charCodeAt(i);
        b[off + n] = 0;
        return this.#main.address + off;
      }
      data = cString(data);
    }
    const n = data.length;
    if (this.#used + align8(Math.max(n, 1)) <= this.#main.size) {
      // no zeroing and no views: every byte is overwritten
      const off = this.#used;
      this.#used += align8(Math.max(n, 1));
      this.#main.bytes.set(data, off);
      return this.#main.address + off;
    }
    const { address, bytes } = this.alloc(n);
    bytes.set(data);
    return address;
  }
}

function isAscii(s: string): boolean {
  for (let i = 0; i < s.length; i++) if (s.charCodeAt(i) > 0x7f) return false;
  return true;
}

const encoder = new TextEncoder();

export function cString(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 3 + 1);
  const { written } = encoder.encodeInto(s, out);
  return out.subarray(0, written + 1);
}

const decoder = new TextDecoder();

/** The text of a buffer the kernel filled with a C string: up to the first NUL (all of it without one). */
export function cText(bytes: Uint8Array): string {
  const nul = bytes.indexOf(0);
  return decoder.decode(bytes.subarray(0, nul < 0 ? bytes.length : nul));
}

let shared: Scratch | undefined;

/** The process-wide scratch arena, reset for a new call. */
export function scratch(): Scratch {
  shared ??= new Scratch();
  shared.reset();
  return shared;
}
