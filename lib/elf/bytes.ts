// Bounds-checked reads of an ELF image in its own byte order. Every read that could run past the
// end throws a ParseError naming the offset (and section, where known) instead of a RangeError.

import { ParseError } from '../errors.js';

export class ElfBytes {
  readonly view: DataView;
  readonly length: number;

  /** the input as a plain Uint8Array (a Buffer's subarray would hand Buffers out as section data) */
  readonly bytes: Uint8Array;

  constructor(input: Uint8Array, readonly littleEndian: boolean) {
    const bytes = Object.getPrototypeOf(input) === Uint8Array.prototype ? input : new Uint8Array(input.buffer, input.byteOffset, input.byteLength);
    this.bytes = bytes;
    this.view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
    this.length = bytes.byteLength;
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
    return hi * 0x100000000 + lo;
  }

  /** u64 that may legitimately be large (symbol values): exact up to 2^53, rounded above. */
  u64Loose(offset: number): number {
    const lo = this.view.getUint32(offset + (this.littleEndian ? 0 : 4), this.littleEndian);
    const hi = this.view.getUint32(offset + (this.littleEndian ? 4 : 0), this.littleEndian);
    return hi * 0x100000000 + lo;
  }
}

const decoder = new TextDecoder('utf-8');

/** A string table section: NUL-terminated names looked up by offset, checked. */
export class StringTable {
  private readonly cache = new Map<number, string>();
  constructor(private readonly data: Uint8Array, private readonly sectionName: string, private readonly fileOffset: number) {}

  get(offset: number, what: string): string {
    const hit = this.cache.get(offset);
    if (hit !== undefined) return hit;
    const data = this.data;
    if (offset >= data.length) {
      throw new ParseError(`${what}: string offset ${offset} is outside the string table (${data.length} bytes)`, { format: 'elf', offset: this.fileOffset + offset, section: this.sectionName });
    }
    const end = data.indexOf(0, offset);
    if (end < 0) {
      throw new ParseError(`${what}: string at ${offset} is not NUL-terminated`, { format: 'elf', offset: this.fileOffset + offset, section: this.sectionName });
    }
    // names are short ASCII in practice: build them without the decoder's overhead (bounded, so a
    // huge unterminated-looking name never hits the argument-count limit of apply)
    let ascii = end - offset <= 256;
    for (let i = offset; ascii && i < end; i++) if (data[i]! >= 0x80) ascii = false;
    const s = ascii ? String.fromCharCode.apply(null, data.subarray(offset, end) as unknown as number[]) : decoder.decode(data.subarray(offset, end));
    this.cache.set(offset, s);
    return s;
  }
}
