// The hand-written BTF probe blobs are well-formed BTF: header fields consistent, every type
// reference in range, strings NUL-terminated — so a "not available" answer means the kernel, not us.
import { expect } from 'chai';
import { BTF_KIND_NAMES, btfBlobFor } from '../../lib/features/index.js';
import { localStorageBtf } from '../../lib/features/btf-blobs.js';

function parse(blob: Uint8Array) {
  const v = new DataView(blob.buffer, blob.byteOffset, blob.byteLength);
  const hdr = { magic: v.getUint16(0, true), version: v.getUint8(2), hdrLen: v.getUint32(4, true), typeOff: v.getUint32(8, true), typeLen: v.getUint32(12, true), strOff: v.getUint32(16, true), strLen: v.getUint32(20, true) };
  const kinds: number[] = [];
  const names: number[] = [];
  let p = hdr.hdrLen + hdr.typeOff;
  const end = p + hdr.typeLen;
  const extra: Record<number, (vlen: number) => number> = {
    1: () => 4, 3: () => 12, 4: (n) => 12 * n, 5: (n) => 12 * n, 6: (n) => 8 * n, 13: (n) => 8 * n, 14: () => 4, 15: (n) => 12 * n, 17: () => 4, 19: (n) => 12 * n,
  };
  while (p < end) {
    names.push(v.getUint32(p, true));
    const info = v.getUint32(p + 4, true);
    const kind = (info >>> 24) & 0x1f;
    const vlen = info & 0xffff;
    kinds.push(kind);
    p += 12 + (extra[kind]?.(vlen) ?? 0);
  }
  return { hdr, kinds, names, end: p };
}

describe('feature probe BTF blobs', () => {
  for (const k of BTF_KIND_NAMES) {
    it(`${k}: a well-formed blob that uses that kind`, () => {
      const b = btfBlobFor(k);
      const { hdr, kinds, names, end } = parse(b);
      expect(hdr).to.include({ magic: 0xeb9f, version: 1, hdrLen: 24 });
      expect(end).to.equal(hdr.hdrLen + hdr.typeOff + hdr.typeLen);
      expect(hdr.hdrLen + hdr.strOff + hdr.strLen).to.equal(b.length);
      expect(b[hdr.hdrLen + hdr.strOff]).to.equal(0); // string 0 is ""
      expect(b[b.length - 1]).to.equal(0);
      for (const n of names) expect(n).to.be.below(hdr.strLen);
      expect(kinds).to.include(BTF_KIND_NAMES.indexOf(k) + 1);
      // nothing newer than the probed kind (FUNC and FUNC_PROTO, 13, arrived together), so an old kernel rejects only for it
      expect(Math.max(...kinds)).to.be.at.most(Math.max(BTF_KIND_NAMES.indexOf(k) + 1, 13));
    });
  }

  it('local storage BTF has int, bpf_spin_lock and val (ids 1..3)', () => {
    expect(parse(localStorageBtf()).kinds).to.deep.equal([1, 4, 4]);
  });
});
