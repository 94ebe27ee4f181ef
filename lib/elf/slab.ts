// Small private arrays carved from shared 64 KiB buffers. A new typed array above 64 bytes is an
// off-heap allocation in V8 (~0.7 µs each on this machine, against ~60 ns for a view), and reading
// an object made several (each function's instructions, the BTF type index). A piece is its owner's
// alone and is handed out once, so it is zero-filled until written; only its .buffer is shared (use
// byteOffset/byteLength with it, as with Node's pooled Buffers; structuredClone copies the chunk).

const CHUNK = 64 * 1024;
/** larger pieces get their own allocation (64 bytes and below are on V8's heap already) */
const MAX_PIECE = 4 * 1024;
const MIN_PIECE = 65;
let chunk = new ArrayBuffer(CHUNK);
let used = 0;

/** Byte offset in `chunk` of `size` fresh bytes, 8-aligned (may replace `chunk`: read it after). */
function take(size: number): number {
  if (used + size > CHUNK) {
    chunk = new ArrayBuffer(CHUNK);
    used = 0;
  }
  const at = used;
  used = (used + size + 7) & ~7;
  return at;
}

/** `size` zero bytes of one's own. */
export function zeroedBytes(size: number): Uint8Array {
  if (size < MIN_PIECE || size > MAX_PIECE) return new Uint8Array(size);
  const at = take(size);
  return new Uint8Array(chunk, at, size);
}

/** A private copy of src[from, to). */
export function copyBytes(src: Uint8Array, from: number, to: number): Uint8Array {
  const size = to - from;
  if (size < MIN_PIECE || size > MAX_PIECE) return src.slice(from, to);
  const at = take(size);
  const out = new Uint8Array(chunk, at, size);
  out.set(src.subarray(from, to));
  return out;
}

/** `count` zero Int32s of one's own. */
export function zeroedInt32s(count: number): Int32Array {
  const size = count * 4;
  if (size < MIN_PIECE || size > MAX_PIECE) return new Int32Array(count);
  const at = take(size);
  return new Int32Array(chunk, at, count);
}
