// Whether a JS value fits a kernel integer field: checked before an attr is written, since the
// layout writers truncate (setUint32 of 2^32 + 1 is 1, a bigint past 64 bits wraps).

/** An integer 0 … 2^32 − 1 (ids, flags, sizes). */
export function isU32(n: unknown): n is number {
  return typeof n === 'number' && Number.isInteger(n) && n >= 0 && n <= 0xffffffff;
}

/** A u64 given as a bigint, or as a number that is a safe non-negative integer (cookies, map_extra, revisions). */
export function isU64(n: unknown): n is bigint | number {
  return typeof n === 'bigint' ? n >= 0n && n < 1n << 64n : typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;
}
