// NUL-terminated names of string tables (ELF .strtab/.shstrtab, BTF strings) as JS strings.
// Reading an object decodes ~100 short ASCII names; building each string costs ~150–250 ns (a
// native call or String.fromCharCode.apply), while hashing its bytes and finding the same name in
// a process-wide table costs ~40 ns. Names repeat across objects and loads ('.text', 'license',
// map and program names), so short ASCII names are interned here; others are decoded each time.

const utf8 = new TextDecoder('utf-8');
/** entries kept before the table is emptied (bounds memory when a vmlinux-sized table streams through) */
const LIMIT = 16384;
/** longer names are decoded each time (rare, and not worth keeping) */
const MAX_INTERNED = 64;
const interned = new Map<number, string>();

/**
 * The string starting at `at` and ending at the first NUL before `limit`, or undefined when no
 * NUL comes before `limit` (the caller reports where). `at` must be < limit ≤ bytes.length.
 */
export function cString(bytes: Uint8Array, at: number, limit: number): string | undefined {
  // FNV-1a over the bytes while looking for the NUL; `high` collects bit 7 (non-ASCII)
  let h = 0x811c9dc5;
  let high = 0;
  let p = at;
  for (; p < limit; p++) {
    const c = bytes[p];
    if (c === 0) break;
    high |= c;
    h = Math.imul(h ^ c, 0x01000193);
  }
  if (p >= limit) return undefined;
  const len = p - at;
  if (len === 0) return '';
  if ((high & 0x80) !== 0 || len > MAX_INTERNED) return utf8.decode(bytes.subarray(at, p));
  const key = h & 0x3fffffff; // a small integer key: heap-number keys hash slowly
  const hit = interned.get(key);
  if (hit !== undefined && hit.length === len) {
    let k = 0;
    while (k < len && hit.charCodeAt(k) === bytes[at + k]) k++;
    if (k === len) return hit;
  }
  const s = String.fromCharCode.apply(null, bytes.subarray(at, p) as unknown as number[]);
  if (interned.size >= LIMIT) interned.clear();
  interned.set(key, s);
  return s;
}
