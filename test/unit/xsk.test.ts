// The pure parts of AF_XDP sockets: ring index arithmetic (cached indices, wrap at 2^32, entries
// written and read where the kernel expects them) over plain memory playing the kernel's side, and
// the option checks made before any system call.
import { expect } from 'chai';
import { openSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { FillRing, CompletionRing, RxRing, TxRing, isRingSize, checkXskOptions, XdpSocket, XskArgumentError, XskClosedError, XskError, type RingOffsets } from '../../lib/xsk/index.js';
import { Fd } from '../../lib/syscall/fd.js';
import { ffi } from '../../lib/syscall/backend.js';
import { SYS } from '../../lib/syscall/numbers.js';
import { SOCKADDR_XDP, XDP_UMEM_REG, XDP_MMAP_OFFSETS, XDP_STATISTICS, XDP_DESC, SOCK_CLOEXEC } from '../../lib/xsk/uapi.js';

// the kernel's layout of a ring: producer and consumer on their own cache lines, flags after the consumer
const OFF: RingOffsets = { producer: 0, consumer: 64, flags: 68, desc: 128 };

/** an AF_UNIX datagram socket: recvfrom(MSG_DONTWAIT) says EAGAIN, epoll never finds it readable */
function datagramSocket(): Fd {
  const r = ffi().syscall3(SYS.socket, 1 /* AF_UNIX */, 2 /* SOCK_DGRAM */ | SOCK_CLOEXEC, 0);
  if (r < 0) throw new Error(`socket(AF_UNIX, SOCK_DGRAM): errno ${-r}`);
  return new Fd(r, 'AF_UNIX socket');
}

/**
 * Two AF_UNIX datagram sockets, `ours` bound to an abstract name: wake() sends it an empty datagram,
 * so that a wait on it ends at once (the socket's next recvfrom takes the datagram away)
 */
function datagramPair(): { ours: Fd; wake(): void; close(): void } {
  const ours = datagramSocket();
  const peer = datagramSocket();
  const name = new TextEncoder().encode(`tsbpf-xsk-test-${process.pid}-${ours.value}`);
  const mem = ffi().alloc(3 + name.length);
  const addr = new Uint8Array(mem.buffer, 0, 3 + name.length);
  addr.set([1, 0, 0]); // sun_family AF_UNIX, then a NUL: an abstract name
  addr.set(name, 3);
  const r = ffi().syscall3(SYS.bind, ours.value, mem.address, addr.length);
  if (r < 0) throw new Error(`bind(AF_UNIX): errno ${-r}`);
  return {
    ours,
    wake() {
      const s = ffi().syscall6(SYS.sendto, peer.value, mem.address, 0, 0, mem.address, addr.length);
      if (s < 0) throw new Error(`sendto(AF_UNIX): errno ${-s}`);
    },
    close() {
      peer.close();
      ffi().free(mem);
    },
  };
}

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

describe('XdpSocket over rings whose indices wrap at 2^32 (a kernel played in plain memory)', () => {
  // The kernel starts every index at 0; to cross 2^32 for real would take 4 billion frames. Here the
  // socket gets rings whose shared indices start just below 2^32, and the test plays the kernel:
  // it moves fill entries to the RX ring (address + 256 + headroom, as copy mode does) and TX
  // entries to the completion ring, while the socket receives, recycles, transmits and reclaims.
  const START = 2 ** 32 - 37;
  type Mem = ReturnType<typeof memory>;
  const ring = <R>(Kind: new (b: ArrayBuffer, o: RingOffsets, n: number) => R, size: number, entryBytes: number): [R, Mem] => {
    const m = memory(size, entryBytes, START);
    return [new Kind(m.buf, OFF, size), m];
  };
  const u64 = (w: Uint32Array, i: number) => w[i + 1] * 2 ** 32 + w[i];
  /**
   * An XdpSocket over rings of o's sizes in plain memory (the fill ring stocked as create() does
   * before bind) and `fd`, by default an AF_UNIX datagram socket: the only syscalls left (recvfrom
   * on an empty RX ring: EAGAIN) go through harmlessly, and a wait sleeps on it (never readable).
   * Returns it with the rings' memory, where the test plays the kernel.
   */
  const socketOverRings = (o: ReturnType<typeof checkXskOptions>, fd = datagramSocket()) => {
    const [fill, fm] = ring(FillRing, o.fillSize, 8);
    const [comp, cm] = ring(CompletionRing, o.completionSize, 8);
    const [rx, rm] = ring(RxRing, o.rxSize, 16);
    const [tx, tm] = ring(TxRing, o.txSize, 16);
    const umem = new Uint8Array(o.frames * o.frameSize);
    const mapping = (b: ArrayBuffer) => ({ buffer: b, address: 0, length: b.byteLength, unmapped: true, unmap() {} });
    const at = fill.reserve(o.rxFrames);
    for (let i = 0; i < o.rxFrames; i++) fill.set(at + i, i * o.frameSize);
    fill.submit();
    const Ctor = XdpSocket as unknown as new (...a: unknown[]) => XdpSocket;
    const x = new Ctor(fd, o, { index: 1, name: 'fake0' }, 'copy', mapping(umem.buffer), {
      fill: [fill, mapping(fm.buf)], comp: [comp, mapping(cm.buf)], rx: [rx, mapping(rm.buf)], tx: [tx, mapping(tm.buf)],
    });
    return { x, umem, fm, cm, rm, tm };
  };
  /**
   * The kernel's receive side in copy mode over those rings: publish(n) moves the next n fill
   * entries to the RX ring (address + 256, `len` bytes), release() then lets their fill entries go,
   * as xsk_flush() does (RX producer first, fill consumer after); inFill() lists the frames (by
   * number) in the fill ring, sorted.
   */
  const kernelRx = (o: ReturnType<typeof checkXskOptions>, fm: Mem, rm: Mem) => {
    let kcons = fm.cons[0];
    return {
      publish(n: number, len = 60) {
        for (let i = 0; i < n; i++) {
          const addr = u64(fm.words, (kcons & (o.fillSize - 1)) * 2);
          rm.words.set([addr + 256, 0, len, 0], (rm.prod[0] & (o.rxSize - 1)) * 4);
          kcons = (kcons + 1) >>> 0;
          rm.prod[0] = (rm.prod[0] + 1) >>> 0;
        }
      },
      release() { fm.cons[0] = kcons; },
      /** with need_wakeup: the driver stopped for want of fill entries (XDP_RING_NEED_WAKEUP on the fill ring) */
      askWakeup() { fm.flags[0] = 1; },
      inFill() {
        const n = (fm.prod[0] - fm.cons[0]) >>> 0;
        return Array.from({ length: n }, (_, i) => u64(fm.words, ((fm.cons[0] + i) & (o.fillSize - 1)) * 2) / o.frameSize).sort((a, b) => a - b);
      },
    };
  };
  const SMALL = { interface: 'fake0', frames: 16, frameSize: 2048, fillSize: 8, completionSize: 8, rxSize: 8, txSize: 8 } as const;
  const ALL = [0, 1, 2, 3, 4, 5, 6, 7];
  const DONE = { done: true, value: undefined };

  it('receives, recycles frame bases, transmits and reclaims across the wrap: no frame lost or doubled', () => {
    const o = checkXskOptions({ interface: 'fake0', frames: 16, frameSize: 2048, headroom: 64, fillSize: 8, completionSize: 4, rxSize: 4, txSize: 8 }, 4096);
    expect(o).to.include({ rxFrames: 8, txFrames: 8 });
    const { x, umem, fm, cm, rm, tm } = socketOverRings(o);
    // the kernel's side
    let seq = 0;
    const kernelRx = (max: number) => {
      let n = 0;
      while (n < max && fm.prod[0] !== fm.cons[0] && ((rm.prod[0] - rm.cons[0]) >>> 0) < 4) {
        const addr = u64(fm.words, (fm.cons[0] & 7) * 2);
        expect(addr % o.frameSize, 'a fill entry is a frame base').to.equal(0);
        const pkt = addr + 256 + o.headroom;
        umem.set([seq & 0xff, (seq >> 8) & 0xff], pkt);
        const d = (rm.prod[0] & 3) * 4;
        rm.words.set([pkt, 0, 60 + (seq % 7), 0], d);
        fm.cons[0] = (fm.cons[0] + 1) >>> 0;
        rm.prod[0] = (rm.prod[0] + 1) >>> 0;
        seq++;
        n++;
      }
      return n;
    };
    const sent: number[] = [];
    const kernelTx = () => {
      while (tm.prod[0] !== tm.cons[0] && ((cm.prod[0] - cm.cons[0]) >>> 0) < 4) {
        const d = (tm.cons[0] & 7) * 4;
        const addr = u64(tm.words, d);
        expect(addr % o.frameSize).to.equal(0);
        expect(addr / o.frameSize).to.be.at.least(o.rxFrames);
        sent.push(umem[addr]);
        cm.words.set([addr % 2 ** 32, 0], (cm.prod[0] & 3) * 2);
        tm.cons[0] = (tm.cons[0] + 1) >>> 0;
        cm.prod[0] = (cm.prod[0] + 1) >>> 0;
      }
    };
    let received = 0;
    let thrown = 0;
    let tx0 = 0;
    for (let round = 0; round < 40; round++) {
      kernelRx(3);
      try {
        x.receive((f, addr) => {
          expect((f[0] | (f[1] << 8))).to.equal(received & 0xffff);
          expect(addr % o.frameSize).to.equal(256 + o.headroom);
          received++;
          if (received % 5 === 0) { thrown++; throw new Error('a callback that throws'); }
        });
      } catch (e) {
        expect((e as Error).message).to.equal('a callback that throws');
      }
      const batch = Array.from({ length: 1 + (round % 5) }, (_, i) => new Uint8Array([(tx0 + i) & 0xff, 1, 2]));
      expect(x.transmit(batch)).to.equal(batch.length);
      tx0 += batch.length;
      kernelTx();
      x.flush();
    }
    kernelTx();
    expect(x.flush()).to.equal(0);
    // every index went past 2^32
    for (const m of [fm, rm, tm, cm]) expect(m.prod[0], 'wrapped').to.be.below(START);
    expect(received).to.equal(seq);
    expect(received).to.be.greaterThan(60);
    expect(thrown).to.be.greaterThan(10);
    expect(sent).to.deep.equal(Array.from({ length: tx0 }, (_, i) => i & 0xff));
    // all receive frames are back in the fill ring (the kernel has none, the RX ring is empty) …
    expect((fm.prod[0] - fm.cons[0]) >>> 0).to.equal(o.rxFrames);
    const inFill = Array.from({ length: o.rxFrames }, (_, i) => u64(fm.words, ((fm.cons[0] + i) & 7) * 2) / o.frameSize).sort((a, b) => a - b);
    expect(inFill).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7]);
    // … and all send frames free again
    expect(x.txFreeFrames).to.equal(o.txFrames);
    x.close();
  });
  /** `body` with a socket over rings of SMALL sizes (and `fd`, as socketOverRings takes it) and the kernel's receive side; closed after */
  const overSmallRings = async (body: (x: XdpSocket, k: ReturnType<typeof kernelRx>) => unknown, fd?: Fd): Promise<void> => {
    const o = checkXskOptions(SMALL, 4096);
    const { x, fm, rm } = socketOverRings(o, fd);
    try {
      await body(x, kernelRx(o, fm, rm));
    } finally {
      x.close();
    }
  };
  /** `p`'s value, or an error once it is still pending after `ms` */
  const settled = async <T>(p: Promise<T>, ms = 2000): Promise<T> => {
    let timer: NodeJS.Timeout | undefined;
    const late = new Promise<never>((_, reject) => { timer = setTimeout(() => reject(new Error(`still pending after ${ms} ms`)), ms); });
    try {
      return await Promise.race([p, late]);
    } finally {
      clearTimeout(timer);
    }
  };
  /** whether `p` settled within `ms`, without looking at its result (then() reads nothing of it) */
  const settles = (p: Promise<unknown>, ms: number): Promise<boolean> => settled(p.then(() => true, () => true), ms).catch(() => false);
  /** full garbage collections (and a turn for the finalizers after each) until `until()`, at most `rounds` */
  const collect = async (until: () => boolean, rounds = 100): Promise<void> => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    for (let i = 0; i < rounds && !until(); i++) {
      gc();
      await new Promise((resolve) => setImmediate(resolve));
    }
  };

  it('a fill ring that looks full for a moment (the kernel publishes an RX entry before it releases the fill entry it came from): recycled frames wait their turn, none is lost or written over another', () => overSmallRings((x, k) => {
    // all 8 receive frames fill the fill ring; user space can see the RX entries (and give their
    // frames back) before the fill entries are released
    expect(x).to.include({ rxFrames: 8 });
    for (let round = 0; round < 12; round++) {
      const n = 1 + (round % 4);
      k.publish(n);
      expect(x.receive(() => {})).to.equal(n);
      k.release();
      // given back at the next look at the rings (a receive(), a wait, the iterator)
      expect(x.receive(() => {})).to.equal(0);
      expect(k.inFill(), `round ${round}`).to.deep.equal(ALL);
    }
  }));

  it('a frame an iterator delivered is its own until its next next() or return(): out of the fill ring, and receive() goes on meanwhile', () => overSmallRings(async (x, k) => {
    k.publish(2, 42);
    k.release();
    const it = x[Symbol.asyncIterator]();
    const first = await it.next();
    expect(first.done).to.equal(false);
    expect(first.value!.length).to.equal(42);
    expect(first.value!.byteOffset).to.equal(256);
    // the other consumer takes the other frame: the iterator's frame is not in its way
    const addrs: number[] = [];
    expect(x.receive((_, addr) => addrs.push(addr))).to.equal(1);
    expect(addrs).to.deep.equal([2048 + 256]);
    expect(k.inFill(), 'frame 0 is the iterator\'s').to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    // the next next() gives it back (and waits: nothing else came), return() ends that one
    const second = it.next();
    expect(k.inFill()).to.deep.equal(ALL);
    await it.return!();
    expect(await second).to.deep.equal(DONE);
    expect(await it.next()).to.deep.equal(DONE);
    // the RX ring was passed once for each frame: the next ones are received, each once
    k.publish(8);
    addrs.length = 0;
    expect(x.receive((_, addr) => addrs.push(addr))).to.equal(8);
    expect(addrs.map((a) => (a - 256) / 2048).sort((a, b) => a - b)).to.deep.equal(ALL);
    expect(x.receive(() => {})).to.equal(0);
  }));

  it('return() ends a pending next() at once: it resolves done and takes no frame (what a caller does whose timeout won a Promise.race)', () => overSmallRings(async (x, k) => {
    const it = x[Symbol.asyncIterator]();
    const pending = it.next();
    expect(await settled(it.return!())).to.deep.equal(DONE);
    expect(await settled(pending)).to.deep.equal(DONE);
    k.publish(1);
    expect(x.receive(() => {})).to.equal(1);
    expect(await it.next()).to.deep.equal(DONE);
  }));

  it('a next() still waiting when another consumer starts (receive(), wait(), another iterator) ends: it resolves done and the newer consumer gets the frame', () => overSmallRings(async (x, k) => {
    const starters: Record<string, () => Promise<number>> = {
      'receive()': async () => x.receive(() => {}),
      'wait()': async () => (await x.wait()) ? x.receive(() => {}) : 0,
      'another iterator': async () => {
        const it = x[Symbol.asyncIterator]();
        const r = await it.next();
        await it.return!();
        return r.done ? 0 : 1;
      },
    };
    for (const [name, start] of Object.entries(starters)) {
      // the caller races next() against a timeout, the timeout wins, the iterator is dropped
      const dropped = x[Symbol.asyncIterator]().next();
      k.publish(1);
      k.release();
      expect(await settled(start()), name).to.equal(1);
      expect(await settled(dropped), name).to.deep.equal(DONE);
      expect(k.inFill(), name).to.deep.equal(ALL);
    }
  }));

  it('a next() dropped after losing a race, then a frame comes: the next consumer (receive(), wait(), another iterator) gets exactly that frame, once, not busy; the dropped result, read later, says done', async () => {
    const pair = datagramPair();
    try {
      await overSmallRings(async (x, k) => {
        const starters: Record<string, () => Promise<number[]>> = {
          'receive()': async () => { const a: number[] = []; x.receive((_, addr) => a.push(addr)); return a; },
          'wait()': async () => { const a: number[] = []; if (await x.wait()) x.receive((_, addr) => a.push(addr)); return a; },
          'another iterator': async () => {
            const it = x[Symbol.asyncIterator]();
            const r = await it.next();
            const a = r.done ? [] : [r.value!.byteOffset];
            await it.return!();
            return a;
          },
        };
        let frame = 0;
        for (const [name, start] of Object.entries(starters)) {
          const dropped = x[Symbol.asyncIterator]().next();
          expect(await settles(dropped, 20), `${name}: nothing came in time`).to.equal(false);
          // the frame comes, and wakes the dropped next(), which takes it: nobody else asked
          k.publish(1, 50 + frame);
          k.release();
          pair.wake();
          expect(await settles(dropped, 2000), `${name}: the dropped next() took the frame`).to.equal(true);
          // before, it held the frame: receive() and wait() found none, and it stayed out of the fill ring for good
          expect(await settled(start()), name).to.deep.equal([frame * 2048 + 256]);
          expect(x.receive(() => { throw new Error(`${name}: a frame twice`); }), name).to.equal(0);
          expect(await dropped, `${name}: the result nobody looked at in time`).to.deep.equal(DONE);
          expect(k.inFill(), name).to.deep.equal(ALL);
          frame++;
        }
      }, pair.ours);
    } finally {
      pair.close();
    }
  });

  it('an iterator dropped while it has a frame looked at keeps it in the RX ring until another consumer starts, then out of the fill ring until its view is garbage too', () => overSmallRings(async (x, k) => {
    k.publish(2, 42);
    k.release();
    // only the view is kept: the iterator and the result are dropped
    let view: Uint8Array | undefined = await (async () => (await x[Symbol.asyncIterator]().next()).value!)();
    view.fill(0xab);
    expect(k.inFill()).to.deep.equal([2, 3, 4, 5, 6, 7]);
    // no other consumer yet: the frame is the RX ring's next, its iterator still reachable
    await collect(() => false, 10);
    expect(k.inFill()).to.deep.equal([2, 3, 4, 5, 6, 7]);
    // receive() takes the frame after it, and moves it out of the way
    const addrs: number[] = [];
    expect(x.receive((_, addr) => addrs.push(addr))).to.equal(1);
    expect(addrs).to.deep.equal([2048 + 256]);
    expect(k.inFill()).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    // the iterator is garbage, the view is not: the frame is not given back (before, it was, under the view)
    await collect(() => k.inFill().length === 8, 20);
    expect(k.inFill()).to.deep.equal([1, 2, 3, 4, 5, 6, 7]);
    expect(view.every((b) => b === 0xab)).to.equal(true);
    view = undefined;
    await collect(() => k.inFill().length === 8);
    expect(k.inFill()).to.deep.equal(ALL);
    // and it is received into again
    k.publish(8);
    expect(x.receive(() => {})).to.equal(8);
  }));

  it('close() while a next() waits ends it (done); a result nobody looked at when close() comes reads done; an iteration begun after close() is XskClosedError', async () => {
    await overSmallRings(async (x) => {
      const it = x[Symbol.asyncIterator]();
      const pending = it.next();
      expect(await settles(pending, 20)).to.equal(false);
      x.close();
      expect(await settled(pending)).to.deep.equal(DONE);
      expect(await it.next()).to.deep.equal(DONE);
    });
    await overSmallRings(async (x, k) => {
      k.publish(1);
      k.release();
      const dropped = x[Symbol.asyncIterator]().next();
      expect(await settles(dropped, 2000)).to.equal(true);
      x.close();
      // before, it read a view of the closed socket's memory
      expect(await dropped).to.deep.equal(DONE);
      let e: unknown;
      try { await x[Symbol.asyncIterator]().next(); } catch (err) { e = err; }
      expect(e).to.be.instanceOf(XskClosedError).and.include({ op: 'iterate' });
    });
  });

  it('a recvfrom that fails is one typed error whether it looked at the binding (an empty RX ring) or woke the fill ring', async () => {
    // /dev/null: recvfrom says ENOTSOCK. No AF_XDP socket would, but both ways must say it the same
    const devNull = () => new Fd(openSync('/dev/null', 'r'), '/dev/null');
    const fail = (fn: () => unknown): XskError => {
      try { fn(); } catch (e) { return e as XskError; }
      throw new Error('no error');
    };
    let looked: XskError | undefined;
    let woke: XskError | undefined;
    // nothing received: the first look at whether the socket is still bound
    await overSmallRings((x) => { looked = fail(() => x.receive(() => {})); }, devNull());
    // a frame received and given back while the kernel asks for a fill ring wakeup
    await overSmallRings((x, k) => {
      k.publish(1);
      k.release();
      k.askWakeup();
      woke = fail(() => x.receive(() => {}));
      // the frame was given back all the same
      expect(k.inFill()).to.deep.equal(ALL);
    }, devNull());
    expect(looked).to.be.instanceOf(XskError).and.include({ op: 'receive', errno: 'ENOTSOCK', interface: 'fake0', queue: 0 });
    expect(woke).to.be.instanceOf(XskError).and.include({ op: 'receive', errno: 'ENOTSOCK', interface: 'fake0', queue: 0 });
    expect(woke!.message).to.equal(looked!.message);
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
    // the UMEM and each ring are one ArrayBuffer (at most 4 GiB): past that koffi aborted the process
    expect(check({ frames: 2 ** 20, frameSize: 4096 })).to.include({ frames: 2 ** 20 });
    expect(check({ frames: 2 ** 21, frameSize: 2048 })).to.include({ frames: 2 ** 21 });
    fails({ frames: 2 ** 20 + 1 }, 'frames', 'a UMEM of 1048577 × 4096 bytes is more than the 4 GiB Node can view in one ArrayBuffer (at most 1048576 frames');
    fails({ frames: 2 ** 21 + 1, frameSize: 2048 }, 'frames', 'at most 2097152 frames of 2048 bytes');
    expect(check({ fillSize: 2 ** 28, completionSize: 2 ** 28, rxSize: 2 ** 27, txSize: 2 ** 27 })).to.include({ fillSize: 2 ** 28, rxSize: 2 ** 27 });
    fails({ fillSize: 2 ** 29 }, 'fillSize', 'is 536870912: at most 268435456 entries of 8 bytes (2^28)');
    fails({ completionSize: 2 ** 31 }, 'completionSize', 'at most 268435456 entries');
    fails({ rxSize: 2 ** 28 }, 'rxSize', 'at most 134217728 entries of 16 bytes (2^27)');
    fails({ txSize: 2 ** 30 }, 'txSize', 'at most 134217728 entries');
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
