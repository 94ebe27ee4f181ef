// The pure parts of AF_XDP sockets: ring index arithmetic (cached indices, wrap at 2^32, entries
// written and read where the kernel expects them) over plain memory playing the kernel's side, and
// the option checks made before any system call.
import { expect } from 'chai';
import { FillRing, CompletionRing, RxRing, TxRing, isRingSize, checkXskOptions, XskArgumentError, type RingOffsets } from '../../lib/xsk/index.js';
import { SOCKADDR_XDP, XDP_UMEM_REG, XDP_MMAP_OFFSETS, XDP_STATISTICS, XDP_DESC } from '../../lib/xsk/uapi.js';

// the kernel's layout of a ring: producer and consumer on their own cache lines, flags after the consumer
const OFF: RingOffsets = { producer: 0, consumer: 64, flags: 68, desc: 128 };

function memory(size: number, entryBytes: number, start = 0): { buf: ArrayBuffer; prod: Uint32Array; cons: Uint32Array; flags: Uint32Array; words: Uint32Array } {
  const buf = new ArrayBuffer(OFF.desc + size * entryBytes);
  const prod = new Uint32Array(buf, OFF.producer, 1);
  const cons = new Uint32Array(buf, OFF.consumer, 1);
  prod[0] = start;
  cons[0] = start;
  return { buf, prod, cons, flags: new Uint32Array(buf, OFF.flags, 1), words: new Uint32Array(buf, OFF.desc, (size * entryBytes) / 4) };
}

describe('xsk rings', () => {
  it('isRingSize: powers of two from 1 to 2^31', () => {
    for (const n of [1, 2, 4, 2048, 2 ** 31]) expect(isRingSize(n), String(n)).to.equal(true);
    for (const n of [0, 3, 1000, 2 ** 32, -2, 1.5, NaN, '8']) expect(isRingSize(n), String(n)).to.equal(false);
  });

  it('fill ring: reserves up to the size, publishes on submit, frees what the kernel consumed', () => {
    const m = memory(8, 8);
    const fill = new FillRing(m.buf, OFF, 8);
    expect(fill.free()).to.equal(8);
    const at = fill.reserve(6);
    expect(at).to.equal(0);
    for (let i = 0; i < 6; i++) fill.set(at + i, i * 4096);
    // not visible to the kernel before submit()
    expect(m.prod[0]).to.equal(0);
    fill.submit();
    expect(m.prod[0]).to.equal(6);
    expect(fill.outstanding).to.equal(6);
    expect([...m.words.subarray(0, 12)]).to.deep.equal([0, 0, 4096, 0, 8192, 0, 12288, 0, 16384, 0, 20480, 0]);
    expect(fill.reserve(3)).to.equal(-1);
    // the kernel consumes 4: room again (the cached consumer index is refreshed only when needed)
    m.cons[0] = 4;
    expect(fill.reserve(3)).to.equal(6);
    fill.set(8, 0x1_0000_2000); // index 8 wraps to slot 0; a 64-bit address is two halves
    expect([m.words[0], m.words[1]]).to.deep.equal([0x2000, 1]);
  });

  it('producer and consumer indices wrap at 2^32', () => {
    const start = 0xffff_fffe;
    const m = memory(4, 16, start);
    const tx = new TxRing(m.buf, OFF, 4);
    const at = tx.reserve(4);
    expect(at).to.equal(start);
    for (let i = 0; i < 4; i++) tx.set(at + i, 4096 * i, 60 + i);
    tx.submit();
    expect(m.prod[0]).to.equal(2); // 0xfffffffe + 4 mod 2^32
    expect(tx.outstanding).to.equal(4);
    // slot of index 0xfffffffe is 2: addr 0, len 60
    expect([...m.words.subarray(8, 12)]).to.deep.equal([0, 0, 60, 0]);
    expect([...m.words.subarray(0, 4)]).to.deep.equal([8192, 0, 62, 0]);
    m.cons[0] = 1;
    expect(tx.free(1)).to.equal(3);

    const r = memory(4, 16, start);
    const rx = new RxRing(r.buf, OFF, 4);
    expect(rx.peek(64)).to.equal(0);
    r.words.set([256, 0, 42, 0], 8); // slot 2 = index 0xfffffffe
    r.words.set([4352, 0, 43, 7], 12);
    r.words.set([8448, 0, 44, 0], 0);
    r.prod[0] = 1; // three entries: 0xfffffffe, 0xffffffff, 0
    expect(rx.peek(64)).to.equal(3);
    expect(rx.peek(2)).to.equal(2);
    const p = rx.position;
    expect([rx.addr(p), rx.len(p), rx.addr(p + 1), rx.len(p + 1), rx.options(p + 1), rx.addr((p + 2) >>> 0), rx.len((p + 2) >>> 0)])
      .to.deep.equal([256, 42, 4352, 43, 7, 8448, 44]);
    // peek consumes nothing; release gives back and publishes the consumer index
    rx.release(2);
    expect(r.cons[0]).to.equal(0);
    expect(rx.peek(64)).to.equal(1);
    rx.release(1);
    expect(r.cons[0]).to.equal(1);
    expect(rx.peek(64)).to.equal(0);
  });

  it('completion ring: reads addresses the kernel produced, reads its index only when empty', () => {
    const m = memory(4, 8);
    const comp = new CompletionRing(m.buf, OFF, 4);
    m.words.set([4096, 0, 0x3000, 2]);
    m.prod[0] = 2;
    expect(comp.peek(8)).to.equal(2);
    expect([comp.addr(0), comp.addr(1)]).to.deep.equal([4096, 2 * 2 ** 32 + 0x3000]);
    m.prod[0] = 3; // cached: still 2 until those are given back
    expect(comp.peek(8)).to.equal(2);
    comp.release(2);
    expect(comp.peek(8)).to.equal(1);
  });

  it('needsWakeup reads the flags word', () => {
    const m = memory(2, 8);
    const fill = new FillRing(m.buf, OFF, 2);
    expect(fill.needsWakeup()).to.equal(false);
    m.flags[0] = 1;
    expect(fill.needsWakeup()).to.equal(true);
  });

  it('layouts have the kernel sizes and offsets (if_xdp.h)', () => {
    expect([SOCKADDR_XDP.size, SOCKADDR_XDP.off.sxdp_flags, SOCKADDR_XDP.off.sxdp_ifindex, SOCKADDR_XDP.off.sxdp_queue_id, SOCKADDR_XDP.off.sxdp_shared_umem_fd]).to.deep.equal([16, 2, 4, 8, 12]);
    expect([XDP_UMEM_REG.size, XDP_UMEM_REG.off.chunk_size, XDP_UMEM_REG.off.headroom, XDP_UMEM_REG.off.flags, XDP_UMEM_REG.off.tx_metadata_len]).to.deep.equal([32, 16, 20, 24, 28]);
    expect([XDP_MMAP_OFFSETS.size, XDP_MMAP_OFFSETS.off.fr_producer, XDP_MMAP_OFFSETS.off.cr_flags]).to.deep.equal([128, 64, 120]);
    expect(XDP_STATISTICS.size).to.equal(48);
    expect([XDP_DESC.size, XDP_DESC.off.len, XDP_DESC.off.options]).to.deep.equal([16, 8, 12]);
  });
});

describe('xsk options', () => {
  const check = (o: object) => checkXskOptions({ interface: 'eth9', ...o }, 4096);
  const fails = (o: object, option: string, text?: string) => {
    let e: unknown;
    try { check(o); } catch (err) { e = err; }
    expect(e, JSON.stringify(o)).to.be.instanceOf(XskArgumentError);
    expect(e).to.include({ option });
    if (text) expect((e as Error).message).to.contain(text);
  };

  it("libxdp's defaults, frames shared half and half (receive side at most the fill ring)", () => {
    expect(check({})).to.deep.include({
      queue: 0, frames: 4096, frameSize: 4096, headroom: 0, fillSize: 2048, completionSize: 2048, rxSize: 2048, txSize: 2048,
      mode: 'auto', needWakeup: true, rxFrames: 2048, txFrames: 2048,
    });
    expect(check({ frames: 64, fillSize: 16 })).to.include({ rxFrames: 16, txFrames: 48 });
    expect(check({ frames: 64, txSize: 0 })).to.include({ rxFrames: 64, txFrames: 0 });
    expect(check({ frames: 64, rxSize: 0 })).to.include({ rxFrames: 0, txFrames: 64 });
    expect(check({ frameSize: 2048, headroom: 2048 - 256 - 1 })).to.include({ frameSize: 2048, headroom: 1791 });
  });

  it('refuses what the kernel would, naming the option', () => {
    fails({ fillSize: 1000 }, 'fillSize', 'fillSize must be a power of two');
    fails({ completionSize: 0 }, 'completionSize');
    fails({ rxSize: 3 }, 'rxSize');
    fails({ txSize: 2 ** 32 }, 'txSize');
    fails({ rxSize: 0, txSize: 0 }, 'rxSize', 'a socket needs an RX or a TX ring');
    fails({ frameSize: 1024 }, 'frameSize');
    fails({ frameSize: 3072 }, 'frameSize');
    fails({ frameSize: 8192 }, 'frameSize', 'to the page size 4096');
    fails({ headroom: 4096 - 256 }, 'headroom');
    fails({ headroom: -1 }, 'headroom');
    fails({ frames: 0 }, 'frames');
    fails({ frames: 1 }, 'frames', 'too few to share');
    fails({ queue: -1 }, 'queue');
    fails({ queue: 1.5 }, 'queue');
    fails({ mode: 'fast' }, 'mode');
    fails({ needWakeup: 1 }, 'needWakeup');
    fails({ rxsize: 8 }, 'rxsize', 'is not an option');
    let e: unknown;
    try { checkXskOptions({} as never, 4096); } catch (err) { e = err; }
    expect(e).to.be.instanceOf(XskArgumentError).and.include({ option: 'interface' });
  });
});
