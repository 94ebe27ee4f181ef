// mmap and epoll on BPF maps: a BPF_F_MMAPABLE array seen through its mapping (both directions),
// and a ring buffer written by a hand-assembled program: epoll reports it readable and the
// producer position in the mapped page moves by one record.
import { expect } from 'chai';
import { requirePrivileged } from '../helpers/privileged.js';
import * as S from '../../lib/syscall/index.js';

const le32 = (n: number) => [...new Uint8Array(new Int32Array([n]).buffer)];
const le16 = (n: number) => [...new Uint8Array(new Int16Array([n]).buffer)];
const insn = (op: number, dst: number, src: number, off: number, imm: number) => [op, (src << 4) | dst, ...le16(off), ...le32(imm)];

describe('mmap and epoll on BPF maps', () => {
  before(function () { requirePrivileged(this); });

  it('maps a BPF_F_MMAPABLE array: syscall writes show in the mapping and back', () => {
    const fd = S.mapCreate({ mapType: S.BPF_MAP_TYPE.ARRAY, keySize: 4, valueSize: 8, maxEntries: 4, mapFlags: S.BPF_MAP_FLAG.MMAPABLE });
    let m: S.Mapping | undefined;
    try {
      m = S.mmap(fd.value, S.pageSize(), S.PROT.READ | S.PROT.WRITE);
      const view = new DataView(m.buffer);
      S.mapUpdateElem(fd.value, new Uint8Array(le32(2)), new Uint8Array(new BigUint64Array([77n]).buffer));
      expect(view.getBigUint64(16, true)).to.equal(77n);
      view.setBigUint64(24, 99n, true);
      expect(S.mapLookupElem(fd.value, new Uint8Array(le32(3)), 8)).to.deep.equal(new Uint8Array(new BigUint64Array([99n]).buffer));
    } finally {
      m?.unmap();
      fd.close();
    }
    expect(m!.unmapped).to.equal(true);
  });

  it('wakes epoll for a ring buffer record and shows the producer position through mmap', () => {
    const page = S.pageSize();
    const rb = S.mapCreate({ mapType: S.BPF_MAP_TYPE.RINGBUF, keySize: 0, valueSize: 0, maxEntries: page });
    const ep = new S.Epoll();
    let prod: S.Mapping | undefined;
    let prog: S.Fd | undefined;
    try {
      // *(u64 *)(r10 - 8) = 42; r1 = rb; r2 = r10 - 8; r3 = 8; r4 = 0; call bpf_ringbuf_output; r0 = 0; exit
      const code = [
        ...insn(0x7a, 10, 0, -8, 42), ...insn(0x18, 1, 1, 0, rb.value), ...insn(0, 0, 0, 0, 0),
        ...insn(0xbf, 2, 10, 0, 0), ...insn(0x07, 2, 0, 0, -8), ...insn(0xb7, 3, 0, 0, 8), ...insn(0xb7, 4, 0, 0, 0),
        ...insn(0x85, 0, 0, 0, 130), ...insn(0xb7, 0, 0, 0, 0), ...insn(0x95, 0, 0, 0, 0),
      ];
      prog = S.progLoad({ progType: S.BPF_PROG_TYPE.SCHED_CLS, insns: new Uint8Array(code), license: 'GPL', name: 'rb_out' }).fd;
      ep.add(rb.value, S.EPOLL.IN);
      expect(ep.wait(0)).to.deep.equal([]);
      // the producer page follows the consumer page and is read-only for user space
      prod = S.mmap(rb.value, page, S.PROT.READ, S.MAP.SHARED, page);
      const before = new DataView(prod.buffer).getBigUint64(0, true);
      S.progTestRun(prog.value, { data: new Uint8Array(64) });
      const ready = ep.wait(2000);
      expect(ready).to.have.length(1);
      expect(ready[0].data).to.equal(rb.value);
      expect(ready[0].events & S.EPOLL.IN).to.not.equal(0);
      // one record: 8-byte header + 8 bytes of data
      expect(new DataView(prod.buffer).getBigUint64(0, true) - before).to.equal(16n);
    } finally {
      prod?.unmap();
      prog?.close();
      ep.close();
      rb.close();
    }
  });
});
