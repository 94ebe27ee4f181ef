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

/** tables above this size are not remembered (vmlinux's BTF strings: 2 MB read once) */
const MAX_TABLE = 16 * 1024;
/** how many tables are remembered, most recent first */
const TABLES = 16;
const recent: { bytes: Uint8Array; names: Map<number, string> }[] = [];

/**
 * Decoded names by offset for the string table bytes[start, start+len): the same map again when a
 * table with the same bytes was seen lately (reading an object again, or several objects from one
 * build), so its names cost a map lookup instead of a decode; undefined for a large table.
 * Callers must only put cString(bytes, start + offset, start + len) under `offset`.
 */
export function tableNames(bytes: Uint8Array, start: number, len: number): Map<number, string> | undefined {
  if (len > MAX_TABLE || len === 0) return undefined;
  const table = bytes.subarray(start, start + len);
  for (let i = 0; i < recent.length; i++) {
    const r = recent[i];
    if (r.bytes.length !== len || Buffer.compare(r.bytes, table) !== 0) continue;
    if (i > 0) {
      recent.splice(i, 1);
      recent.unshift(r);
    }
    return r.names;
  }
  const r = { bytes: table.slice(), names: new Map<number, string>() };
  recent.unshift(r);
  if (recent.length > TABLES) recent.pop();
  return r.names;
}
