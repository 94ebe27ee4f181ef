// Bounds-checked reads of an ELF image in its own byte order. Every read that could run past the
// end throws a ParseError naming the offset (and section, where known) instead of a RangeError.

import { ParseError } from '../errors.js';
import { cString, tableNames } from './cstring.js';

const HOST_LE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;

export class ElfBytes {
  // `declare`d, assigned in the constructor (see sections.ts)
  declare readonly view: DataView;
  declare readonly length: number;
  /** the input as a plain Uint8Array (a Buffer's subarray would hand Buffers out as section data) */
  declare readonly bytes: Uint8Array;
  /** the file as 32-bit words when it is little-endian like the host and 4-byte aligned (else undefined) */
  declare readonly words: Uint32Array | undefined;
  declare readonly littleEndian: boolean;

  constructor(input: Uint8Array, littleEndian: boolean) {
    const bytes = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
    this.bytes = bytes;
    this.words = littleEndian && HOST_LE && bytes.byteOffset % 4 === 0 ? new Uint32Array(bytes.buffer, bytes.byteOffset, bytes.byteLength >>> 2) : undefined;
    this.littleEndian = littleEndian;
  }

  /** Throws unless [offset, offset+size) lies inside the file. */
  need(offset: number, size: number, what: string, section?: string): void {
    if (!(offset >= 0 && size >= 0 && offset + size <= this.length)) {
      throw new ParseError(`${what} (${size} bytes) runs past the end of the file (${this.length} bytes)`, { format: 'elf', offset, section });
    }
  }

  u16(offset: number): number { return this.view.getUint16(offset, this.littleEndian); }
  u32(offset: number): number { return this.view.getUint32(offset, this.littleEndian); }

  /** u64 as a number; throws when the value cannot be held exactly (> 2^53), as no sane object has one. */
  u64(offset: number, what: string, section?: string): number {
    const lo = this.view.getUint32(offset + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(offset + (this.littleEndian ? 4 : 0), this.littleEndian);
    if (hi > 0x1fffff) throw new ParseError(`${what} 0x${hi.toString(16)}${lo.toString(16).padStart(8, '0')} is beyond 2^53`, { format: 'elf', offset, section });
    return hi === 0 ? lo : hi * 0x100000000 + lo;
  }

  /** u64 that may legitimately be large (symbol values): exact up to 2^53, rounded above. */
  u64Loose(offset: number): number {
    const lo = this.view.getUint32(offset + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(offset + (this.littleEndian ? 4 : 0), this.littleEndian);
    return hi === 0 ? lo : hi * 0x100000000 + lo;
  }
}

/** A string table section: NUL-terminated names looked up by offset, checked. */
export class StringTable {
  private declare readonly bytes: Uint8Array;
  private declare readonly start: number;
  private declare readonly size: number;
  private declare readonly sectionName: string;
  /** names already decoded, by offset (shared with earlier reads of a table with the same bytes) */
  private declare readonly known: Map<number, string> | undefined;

  /** `start`/`size`: the section within the file's `bytes` (already bounds-checked by the caller) */
  constructor(bytes: Uint8Array, start: number, size: number, sectionName: string) {
    this.bytes = bytes;
    this.start = start;
    this.size = size;
    this.sectionName = sectionName;
    this.known = tableNames(bytes, start, size);
  }

  /** The name at `offset`; `what` and `index` say whose name it is in an error ('name of symbol', 3). */
  get(offset: number, what: string, index = -1): string {
    const known = this.known;
    if (known !== undefined) {
      const hit = known.get(offset);
      if (hit !== undefined) return hit;
    }
    if (offset >= this.size) {
      throw new ParseError(`${whose(what, index)}: string offset ${offset} is outside the string table (${this.size} bytes)`, { format: 'elf', offset: this.start + offset, section: this.sectionName });
    }
    const s = cString(this.bytes, this.start + offset, this.start + this.size);
    if (s === undefined) {
      throw new ParseError(`${whose(what, index)}: string at ${offset} is not NUL-terminated`, { format: 'elf', offset: this.start + offset, section: this.sectionName });
    }
    known?.set(offset, s);
    return s;
  }
}

function whose(what: string, index: number): string {
  return index < 0 ? what : `${what} ${index}`;
}
