// A tiny raw-BTF writer for tests, independent of lib/btf (so parser tests do not check the library
// against itself): records are written word by word exactly as linux/btf.h lays them out.

export class BtfBlob {
  private readonly strBytes: number[] = [0];
  private readonly strOffs = new Map<string, number>();
  private readonly words: number[] = [];
  /** id the next type() gets */
  nextId: number;
  /** first string offset of this blob (split BTF: the base's string length) */
  private readonly strBase: number;

  constructor(opts: { firstId?: number; strBase?: number } = {}) {
    this.nextId = opts.firstId ?? 1;
    this.strBase = opts.strBase ?? 0;
    if (this.strBase) this.strBytes.length = 0; // split: no leading empty string needed
  }

  /** String offset of `s` (added once); '' is 0. */
  str(s: string): number {
    if (s === '') return 0;
    let off = this.strOffs.get(s);
    if (off === undefined) {
      off = this.strBase + this.strBytes.length;
      this.strBytes.push(...Buffer.from(s, 'utf8'), 0);
      this.strOffs.set(s, off);
    }
    return off;
  }

  /** A record: name, kind, vlen, kind_flag, size-or-type, then the kind's trailing words. Returns the id. */
  type(name: string | number, kind: number, vlen: number, kflag: boolean, sizeOrType: number, ...extra: number[]): number {
    const nameOff = typeof name === 'number' ? name : this.str(name);
    this.words.push(nameOff, ((kflag ? 1 : 0) << 31 | kind << 24 | vlen) >>> 0, sizeOrType >>> 0, ...extra.map((w) => w >>> 0));
    return this.nextId++;
  }

  /** Raw words appended to the type section (for malformed records). */
  raw(...w: number[]): void {
    this.words.push(...w.map((x) => x >>> 0));
  }

  build(opts: { littleEndian?: boolean; hdrLen?: number; version?: number } = {}): Uint8Array {
    const le = opts.littleEndian ?? true;
    const hdrLen = opts.hdrLen ?? 24;
    const typeLen = this.words.length * 4;
    const strLen = this.strBytes.length;
    const out = new Uint8Array(hdrLen + typeLen + strLen);
    const dv = new DataView(out.buffer);
    dv.setUint16(0, 0xeb9f, le);
    out[2] = opts.version ?? 1;
    dv.setUint32(4, hdrLen, le);
    dv.setUint32(8, 0, le);
    dv.setUint32(12, typeLen, le);
    dv.setUint32(16, typeLen, le);
    dv.setUint32(20, strLen, le);
    this.words.forEach((w, i) => dv.setUint32(hdrLen + 4 * i, w, le));
    out.set(this.strBytes, hdrLen + typeLen);
    return out;
  }
}

export const KIND = {
  INT: 1, PTR: 2, ARRAY: 3, STRUCT: 4, UNION: 5, ENUM: 6, FWD: 7, TYPEDEF: 8, VOLATILE: 9, CONST: 10,
  RESTRICT: 11, FUNC: 12, FUNC_PROTO: 13, VAR: 14, DATASEC: 15, FLOAT: 16, DECL_TAG: 17, TYPE_TAG: 18, ENUM64: 19,
} as const;
