// lib/elf/slab.ts and cstring.ts: pooled private copies never overlap (also across chunk changes),
// zeroed pieces are zero; interned and remembered names equal a plain decode.
import { expect } from 'chai';
import { copyBytes, zeroedBytes, zeroedInt32s } from '../../lib/elf/slab.js';
import { cString, tableNames } from '../../lib/elf/cstring.js';

describe('lib/elf: pooled copies and names', () => {
  it('pieces are private: filling each leaves every other intact, over several chunks', () => {
    const pieces: [Uint8Array, number][] = [];
    const src = new Uint8Array(5000);
    for (let i = 0; i < 3000; i++) {
      const n = 1 + ((i * 37) % 3000);
      let p: Uint8Array;
      if (i % 3 === 0) {
        src.fill(i & 0xff);
        p = copyBytes(src, 1, 1 + n);
      } else if (i % 3 === 1) {
        p = zeroedBytes(n);
        expect(p.every((x) => x === 0)).to.equal(true);
        p.fill(i & 0xff);
      } else {
        const a = zeroedInt32s(1 + (n >> 2));
        expect(a.every((x) => x === 0)).to.equal(true);
        p = new Uint8Array(a.buffer, a.byteOffset, a.byteLength);
        p.fill(i & 0xff);
      }
      expect(p.length).to.be.greaterThan(0);
      pieces.push([p, i & 0xff]);
    }
    for (const [p, v] of pieces) expect(p.every((x) => x === v)).to.equal(true);
  });

  it('cString: interned names equal a decode; unterminated is undefined; non-ASCII is UTF-8', () => {
    const enc = new TextEncoder();
    const bytes = new Uint8Array([0, ...enc.encode('license'), 0, ...enc.encode('.text'), 0, ...enc.encode('héllo'), 0, 0x61, 0x62]);
    expect(cString(bytes, 1, bytes.length)).to.equal('license');
    expect(cString(bytes, 1, bytes.length)).to.equal('license');
    expect(cString(bytes, 9, bytes.length)).to.equal('.text');
    expect(cString(bytes, 15, bytes.length)).to.equal('héllo');
    expect(cString(bytes, 0, bytes.length)).to.equal('');
    expect(cString(bytes, bytes.length - 2, bytes.length)).to.equal(undefined);
    // same hash bucket reused by another name must not return the old one
    for (let i = 0; i < 2000; i++) {
      const s = `n${i}`;
      const b = new Uint8Array([...enc.encode(s), 0]);
      expect(cString(b, 0, b.length)).to.equal(s);
    }
  });

  it('tableNames: the same map for the same bytes, another for other bytes', () => {
    const a = new Uint8Array([9, 0, 0x61, 0, 0x62, 0, 9]);
    const b = a.slice();
    const c = a.slice();
    c[2] = 0x63;
    const ma = tableNames(a, 1, 5)!;
    expect(tableNames(b, 1, 5)).to.equal(ma);
    expect(tableNames(c, 1, 5)).to.not.equal(ma);
    expect(tableNames(a, 0, 0)).to.equal(undefined);
  });
});
