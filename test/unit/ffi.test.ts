import { expect } from 'chai';
import { ffi } from '../../lib/syscall/backend.js';
import { SYS } from '../../lib/syscall/numbers.js';

describe(`FFI backend (${process.env.TSBPF_FFI ?? 'koffi'})`, () => {
  it('makes a raw syscall: getpid() is this process', () => {
    expect(ffi().syscall3(SYS.getpid, 0, 0, 0)).to.equal(process.pid);
  });

  it('reports failures as -errno: close(-1) is -EBADF', () => {
    expect(ffi().syscall3(SYS.close, -1, 0, 0)).to.equal(-9);
  });

  it('gives native memory a stable address and a live view', () => {
    const mem = ffi().alloc(64);
    try {
      expect(mem.address).to.be.greaterThan(0);
      new Uint8Array(mem.buffer).fill(0xab);
      const again = new Uint8Array(ffi().view(mem.address, 64));
      expect(again[63]).to.equal(0xab);
    } finally {
      ffi().free(mem);
    }
  });
});
