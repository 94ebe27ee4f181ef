// The BTF string section: NUL-terminated strings addressed by byte offset. Split BTF continues the
// base's offsets (offsets below the base's length are the base's strings).
import { ParseError } from '../errors.js';
import { cString, tableNames } from '../elf/cstring.js';

export class BtfStrings {
  /** offsets below this belong to the base's table */
  readonly firstOffset: number;
  /** one past the last valid offset (the base's included) */
  readonly endOffset: number;
  private readonly bytes: Uint8Array;
  /** where this table's bytes start in the blob, and how many there are */
  readonly start: number;
  readonly len: number;
  private readonly base: BtfStrings | undefined;
  private readonly format: string;
  /** strings already decoded, by offset in this table (shared with earlier blobs of the same strings) */
  private readonly known: Map<number, string> | undefined;

  /** `start`/`len`: the section within `bytes` (already bounds-checked by the caller). */
  constructor(bytes: Uint8Array, start: number, len: number, base?: BtfStrings, format = 'btf') {
    this.bytes = bytes;
    this.start = start;
    this.len = len;
    this.base = base;
    this.format = format;
    this.firstOffset = base ? base.endOffset : 0;
    this.endOffset = this.firstOffset + len;
    if (len > 0 && bytes[start + len - 1] !== 0) {
      throw new ParseError('string section does not end with NUL', { format, section: 'strings', offset: start + len - 1 });
    }
    // the empty string lives at offset 0 of a base table (split tables may start with any string)
    if (!base && (len === 0 || bytes[start] !== 0)) {
      throw new ParseError('string section does not start with the empty string', { format, section: 'strings', offset: start });
    }
    this.known = tableNames(bytes, start, len);
  }

  /** Whether `offset` names a string of this table (or its base). */
  has(offset: number): boolean {
    return offset >= 0 && offset < this.endOffset;
  }

  /** The string at `offset`; ParseError when out of range. */
  at(offset: number, typeId?: number): string {
    if (offset < this.firstOffset) {
      if (this.base && offset >= 0) return this.base.at(offset, typeId);
      throw this.outOfRange(offset, typeId);
    }
    const rel = offset - this.firstOffset;
    const known = this.known;
    if (known !== undefined) {
      const hit = known.get(rel);
      if (hit !== undefined) return hit;
    }
    if (rel >= this.len) throw this.outOfRange(offset, typeId);
    // the section ends with a NUL (checked above), so the string always ends inside it
    const s = cString(this.bytes, this.start + rel, this.start + this.len)!;
    known?.set(rel, s);
    return s;
  }

  /** Whether the string at `offset` (known valid) equals the UTF-8 bytes `name` (without NUL). */
  equals(offset: number, name: Uint8Array): boolean {
    if (offset < this.firstOffset) return this.base!.equals(offset, name);
    const s = this.start + offset - this.firstOffset;
    const bytes = this.bytes;
    const n = name.length;
    if (s + n >= this.start + this.len) return false;
    for (let i = 0; i < n; i++) if (bytes[s + i] !== name[i]) return false;
    return bytes[s + n] === 0;
  }

  /** Index into the blob of the string at `offset` of this table (not the base's), or -1. */
  indexOf(offset: number): number {
    const rel = offset - this.firstOffset;
    return rel >= 0 && rel < this.len ? this.start + rel : -1;
  }

  private outOfRange(offset: number, typeId?: number): ParseError {
    return new ParseError(`string offset ${offset} out of range (string section holds ${this.endOffset} bytes)`, { format: this.format, section: 'strings', typeId });
  }
}
