import { expect } from 'chai';
import { ffi } from '../../lib/syscall/backend.js';
import type { NativeMemory } from '../../lib/syscall/ffi.js';
import { cString, nativeBlock, scratch } from '../../lib/syscall/memory.js';
import { struct, writeStruct } from '../../lib/syscall/layout.js';

describe('native memory blocks and the scratch arena', () => {
  it('nativeBlock: zeroed, disjoint, stable memory that the FFI sees at its address', () => {
    const a = nativeBlock(40);
    const b = nativeBlock(40);
    try {
      expect(a.bytes.every((x) => x === 0)).to.equal(true);
      a.bytes.fill(0x11);
      b.bytes.fill(0x22);
      expect(Math.abs(a.address - b.address)).to.be.at.least(40);
      expect(new Uint8Array(ffi().view(a.address, 40))[39]).to.equal(0x11);
      expect(new Uint8Array(ffi().view(b.address, 40))[0]).to.equal(0x22);
      a.view.setUint32(0, 0xdeadbeef, true);
      expect(new DataView(ffi().view(a.address, 4)).getUint32(0, true)).to.equal(0xdeadbeef);
    } finally {
      a.free();
      b.free();
    }
  });

  it('nativeBlock: memory handed out again after free() is zeroed again', () => {
    for (let i = 0; i < 50; i++) {
      const x = nativeBlock(64);
      expect(x.bytes.every((v) => v === 0)).to.equal(true);
      x.bytes.fill(0xff);
      x.free();
      x.free(); // idempotent
    }
  });

  it('nativeBlock: a chunk that is full is freed with its last block; large blocks are their own', () => {
    const backend = ffi();
    const realFree = backend.free;
    const realAlloc = backend.alloc;
    const freed: number[] = [];
    const allocated: NativeMemory[] = [];
    backend.free = (m: NativeMemory) => { freed.push(m.address); realFree.call(backend, m); };
    backend.alloc = (n: number) => { const m = realAlloc.call(backend, n); allocated.push(m); return m; };
    try {
      // 40 blocks of 1 KiB need at least two 16 KiB chunks
      const blocks = Array.from({ length: 40 }, () => nativeBlock(1024));
      expect(allocated.length).to.be.at.least(2);
      expect(allocated.every((m) => m.size === 16 * 1024)).to.equal(true);
      for (const b of blocks.slice(0, 39)) b.free();
      // the chunks filled earlier go back to libc with their last block; the one being carved stays
      const retired = allocated.slice(0, -1).map((m) => m.address);
      expect(freed.filter((a) => retired.includes(a))).to.have.members(retired);
      const current = allocated[allocated.length - 1].address;
      expect(freed).to.not.include(current);
      blocks[39].free();
      expect(freed).to.not.include(current);
      // and is carved again from its start
      const again = nativeBlock(1024);
      expect(again.address).to.equal(current);
      again.free();
      const big = nativeBlock(5000);
      expect(big.size).to.be.at.least(5000);
      expect(allocated[allocated.length - 1].size).to.be.at.least(5000);
      big.free();
      expect(freed).to.include(allocated[allocated.length - 1].address);
    } finally {
      backend.free = realFree;
      backend.alloc = realAlloc;
    }
  });

  it('Scratch.put copies bytes and NUL-terminated strings (ASCII and UTF-8) into native memory', () => {
    const s = scratch();
    const bytes = s.put(new Uint8Array([1, 2, 3]));
    const ascii = s.put('license');
    const utf8 = s.put('Grüße');
    expect([...new Uint8Array(ffi().view(bytes, 3))]).to.deep.equal([1, 2, 3]);
    expect([...new Uint8Array(ffi().view(ascii, 8))]).to.deep.equal([...new TextEncoder().encode('license'), 0]);
    expect([...new Uint8Array(ffi().view(utf8, 8))]).to.deep.equal([...new TextEncoder().encode('Grüße'), 0]);
    expect([...cString('ü')]).to.deep.equal([0xc3, 0xbc, 0]);
  });

  it('writeStruct: char[N] keeps at most N-1 bytes of a name (UTF-8 cut like before), u64 from numbers and bigints', () => {
    const L = struct('t', [['name', { char: 8 }], ['big', 'u64'], ['n', 'u32']]);
    const buf = new DataView(new ArrayBuffer(L.size));
    writeStruct(buf, 0, L, { name: 'abcdefghijk', big: 2 ** 40 + 5, n: 7 });
    expect(new TextDecoder().decode(new Uint8Array(buf.buffer, 0, 8))).to.equal('abcdefg\0');
    expect(buf.getBigUint64(8, true)).to.equal(2n ** 40n + 5n);
    writeStruct(buf, 0, L, { name: 'ab€€€', big: -1n });
    expect([...new Uint8Array(buf.buffer, 0, 8)]).to.deep.equal([...new TextEncoder().encode('ab€€').subarray(0, 7), 0]);
    expect(buf.getBigUint64(8, true)).to.equal(2n ** 64n - 1n);
    expect(buf.getUint32(16, true)).to.equal(0);
  });
});
