// XdpSocket against the kernel, on a veth pair between two throwaway namespaces: bpf/xsk_redirect.o
// (udp_port set) on vethA redirects UDP to one port into the socket, python3 in nsB sends it, and
// what arrives is checked exactly (count, length, bytes); frames sent with transmit() are caught by
// a packet socket in nsB. veth has no AF_XDP zero-copy: 'copy' works with XDP in skb and in drv
// mode, 'auto' binds in copy mode, 'zerocopy' is refused (EOPNOTSUPP).
import { expect } from 'chai';
import { readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs } from '../helpers/bpffs.js';
import { createTestNetwork, waitFor, ip, type TestNetwork } from '../helpers/netns.js';
import { attachXdp, loadObject, getInterface, openPacketSocket, BpfMap, type BpfObject, type XdpAttachment } from '../../lib/index.js';
import { settles, within } from '../helpers/race.js';
import {
  XdpSocket, XskError, XskArgumentError, XskClosedError, XskBusyError, XskNoFreeFrameError, XskFrameSizeError, type XdpSocketOptions,
} from '../../lib/xsk/index.js';

const PORT = 7777;
const SMALL = { frames: 64, fillSize: 32, completionSize: 32, rxSize: 32, txSize: 32 } as const;

/** this process's sockets and socket mappings (the rings): what a failed or closed XdpSocket must not leave */
function resources(): string[] {
  const fds = readdirSync('/proc/self/fd').map((f) => { try { return readlinkSync(`/proc/self/fd/${f}`); } catch { return ''; } }).filter((l) => l.startsWith('socket:'));
  const maps = readFileSync('/proc/self/maps', 'utf8').split('\n').filter((l) => l.includes('socket:['));
  return [...fds, ...maps].sort();
}

/** payload of a UDP datagram in an Ethernet + IPv4 frame, or undefined for anything else */
function udpPayload(f: Uint8Array): { dport: number; payload: Uint8Array } | undefined {
  if (f.length < 42 || f[12] !== 0x08 || f[13] !== 0x00 || f[23] !== 17) return undefined;
  const ihl = (f[14] & 15) * 4;
  const udp = 14 + ihl;
  return { dport: (f[udp + 2] << 8) | f[udp + 3], payload: f.slice(udp + 8) };
}

function mac(s: string): number[] {
  return s.split(':').map((x) => parseInt(x, 16));
}

function ipBytes(s: string): number[] {
  return s.split('.').map(Number);
}

/** Ethernet + IPv4 + UDP (checksum 0: none, allowed for IPv4) carrying `payload` */
function udpFrame(o: { srcMac: string; dstMac: string; src: string; dst: string; sport: number; dport: number; payload: Uint8Array }): Uint8Array {
  const f = new Uint8Array(42 + o.payload.length);
  const v = new DataView(f.buffer);
  f.set(mac(o.dstMac), 0);
  f.set(mac(o.srcMac), 6);
  v.setUint16(12, 0x0800);
  v.setUint8(14, 0x45);
  v.setUint16(16, 20 + 8 + o.payload.length);
  v.setUint8(22, 64);
  v.setUint8(23, 17);
  f.set(ipBytes(o.src), 26);
  f.set(ipBytes(o.dst), 30);
  let sum = 0;
  for (let i = 14; i < 34; i += 2) sum += v.getUint16(i);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  v.setUint16(24, ~sum & 0xffff);
  v.setUint16(34, o.sport);
  v.setUint16(36, o.dport);
  v.setUint16(38, 8 + o.payload.length);
  f.set(o.payload, 42);
  return f;
}

describe('XdpSocket (AF_XDP)', function () {
  this.timeout(30_000);
  let net: TestNetwork;
  let obj: BpfObject;
  let xdp: XdpAttachment | undefined;
  const open: XdpSocket[] = [];
  let baseline: string[];

  before(function () { requirePrivileged(this); });
  beforeEach(() => {
    baseline = resources();
    net = createTestNetwork('xsk');
    obj = loadObject('bpf/xsk_redirect.o', { constants: { udp_port: PORT } });
  });
  afterEach(() => {
    for (const x of open.splice(0)) x.close();
    try { xdp?.detach(); } catch { /* the namespace may be gone */ }
    xdp = undefined;
    obj?.close();
    net?.cleanup();
  });
  after(() => {
    if (baseline) expect(resources()).to.deep.equal(baseline);
  });

  const attach = (mode: 'skb' | 'drv') => {
    xdp = net.inNs('A', () => attachXdp({ program: obj.programs.get('xsk_redirect')!, interface: net.vethA, mode }));
  };
  /** a socket in nsA; closed after the test */
  const create = (o: Partial<XdpSocketOptions> = {}): XdpSocket => {
    const x = net.inNs('A', () => XdpSocket.create({ interface: net.vethA, mode: 'copy', ...SMALL, ...o }));
    open.push(x);
    return x;
  };
  /** create() once the queue is free: the kernel frees it a little after close() (from a work item), EBUSY until then */
  const createWhenFree = async (o: Partial<XdpSocketOptions> = {}): Promise<XdpSocket> => {
    let last: unknown;
    const x = await waitFor(() => {
      try { return create(o); } catch (e) { last = e; return undefined; }
    }, (v) => v !== undefined || !(last instanceof XskError && last.errno === 'EBUSY'), 3000, 5);
    if (!x) throw last;
    return x;
  };
  const xsks = () => obj.maps.get('xsks') as BpfMap<unknown, unknown>;
  const verdicts = () => {
    const m = obj.maps.get('verdicts') as BpfMap<number, bigint>;
    const n = (k: number) => m.lookup(k)!;
    return { redirected: n(0), passed: n(1) };
  };
  /** receive() until `n` frames arrived or the deadline passed; copies of the frames */
  const receiveAll = async (x: XdpSocket, n: number): Promise<Uint8Array[]> => {
    const got: Uint8Array[] = [];
    await waitFor(() => { x.receive((f) => got.push(f.slice())); return got.length; }, (k) => k >= n);
    return got;
  };

  const DONE = { done: true, value: undefined };

  for (const mode of ['skb', 'drv'] as const) {
    it(`receives exactly the UDP datagrams redirected by XDP in ${mode} mode (copy mode), byte for byte`, async () => {
      attach(mode);
      const x = create();
      expect(x.mode).to.equal('copy');
      expect(x).to.include({ interface: net.vethA, queue: 0, frameSize: 4096, rxFrames: 32, txFrames: 32 });
      x.register(xsks());
      net.sendUdp({ count: 25, port: PORT, size: 100 });
      const got = await receiveAll(x, 25);
      expect(got).to.have.length(25);
      for (const f of got) {
        expect(f.length).to.equal(14 + 20 + 8 + 100);
        const u = udpPayload(f)!;
        expect(u.dport).to.equal(PORT);
        expect(Buffer.from(u.payload).toString()).to.equal('x'.repeat(100));
      }
      // nothing else came: every datagram was redirected once, none more
      expect(verdicts().redirected).to.equal(25n);
      expect(x.receive(() => { throw new Error('no more frames expected'); })).to.equal(0);
      // more than the 32 receive frames: they go back to the fill ring after each callback
      net.sendUdp({ count: 30, port: PORT, size: 10 });
      expect(await receiveAll(x, 30)).to.have.length(30);
      net.sendUdp({ count: 30, port: PORT, size: 10 });
      expect(await receiveAll(x, 30)).to.have.length(30);
      expect(x.stats()).to.deep.equal({ rxDropped: 0, rxInvalidDescs: 0, txInvalidDescs: 0, rxRingFull: 0, rxFillRingEmptyDescs: 0, txRingEmptyDescs: 0 });
    });
  }

  it('a fragmented datagram to the port goes to the stack whole: the socket gets no partial datagram', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    const before = verdicts();
    // 3000 bytes over a 1500-byte MTU: three fragments, only the first with the UDP header (and port)
    net.sendUdp({ count: 1, port: PORT, size: 3000 });
    net.sendUdp({ count: 1, port: PORT, size: 7 });
    const got = await receiveAll(x, 1);
    await waitFor(() => verdicts().passed, (n) => n >= before.passed + 3n);
    expect(x.receive((f) => got.push(f.slice()))).to.equal(0);
    expect(got.map((f) => f.length)).to.deep.equal([14 + 20 + 8 + 7]);
    expect(verdicts().redirected).to.equal(before.redirected + 1n);
    expect(Number(verdicts().passed - before.passed)).to.be.at.least(3);
  });

  it('delivers through the async iterator without blocking the event loop, and ends it at close()', async () => {
    attach('skb');
    // room for all 40 at once: the sender may well be faster than the loop
    const x = create({ headroom: 128, frames: 512, fillSize: 256, rxSize: 256 });
    x.register(xsks());
    const seen: number[] = [];
    let ticks = 0;
    const timer = setInterval(() => ticks++, 5);
    const loop = (async () => {
      for await (const f of x) {
        seen.push(f.length);
        if (seen.length === 40) x.close();
      }
    })();
    // the iterator is waiting now (in a worker thread): timers still run
    await waitFor(() => ticks, (t) => t >= 3, 2000, 5);
    net.sendUdp({ count: 40, port: PORT, size: 33 });
    await loop;
    clearInterval(timer);
    expect(seen).to.deep.equal(Array(40).fill(14 + 20 + 8 + 33));
    expect(x.closed).to.equal(true);
  });

  it('close() ends a pending wait (it resolves false) and a pending iteration', async () => {
    attach('skb');
    const x = create();
    const w = x.wait();
    const it = x[Symbol.asyncIterator]();
    const n = it.next();
    setTimeout(() => x.close(), 20);
    expect(await w).to.equal(false);
    expect(await n).to.deep.equal(DONE);
    expect(await it.next()).to.deep.equal(DONE);
    expect(await x.wait()).to.equal(false);
    let e: unknown;
    try { await x[Symbol.asyncIterator]().next(); } catch (err) { e = err; }
    expect(e).to.be.instanceOf(XskClosedError).and.include({ op: 'iterate' });
  });

  it('close() after a next() took a frame nobody looked at: its result reads done', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    const it = x[Symbol.asyncIterator]();
    const n = it.next();
    net.sendUdp({ count: 1, port: PORT, size: 5 });
    expect(await settles(n, 5000)).to.equal(true);
    x.close();
    // before, it read a view of the closed socket's memory
    expect(await n).to.deep.equal(DONE);
    expect(await it.next()).to.deep.equal(DONE);
  });

  it('wait() resolves true when a frame arrives, and the frame is there', async () => {
    attach('drv');
    const x = create();
    x.register(xsks());
    const w = x.wait();
    net.sendUdp({ count: 1, port: PORT, size: 5 });
    expect(await w).to.equal(true);
    const got = await receiveAll(x, 1);
    expect(got.map((f) => f.length)).to.deep.equal([47]);
  });

  it('counts drops in stats(): an empty fill ring (receive frames all in use), a full RX ring, a packet too long for a frame', async () => {
    attach('skb');
    // 4 receive frames: the first 4 datagrams fill them, the other 6 find the fill ring empty
    const x = create({ frames: 8, fillSize: 4, rxSize: 4, txSize: 4, completionSize: 4 });
    expect(x.rxFrames).to.equal(4);
    x.register(xsks());
    net.sendUdp({ count: 10, port: PORT, size: 8 });
    const s = await waitFor(() => x.stats(), (v) => v.rxFillRingEmptyDescs >= 6);
    // (copy mode counts each of those in rxDropped as well)
    expect(s).to.include({ rxFillRingEmptyDescs: 6, rxDropped: 6, rxRingFull: 0 });
    expect((await receiveAll(x, 4)).length).to.equal(4);
    // 16 receive frames, an RX ring of 4: 4 arrive, 12 find the RX ring full
    x.close();
    const y = await createWhenFree({ frames: 32, fillSize: 16, rxSize: 4, txSize: 16, completionSize: 16 });
    y.register(xsks());
    net.sendUdp({ count: 16, port: PORT, size: 8 });
    const t = await waitFor(() => y.stats(), (v) => v.rxRingFull >= 12);
    expect(t).to.include({ rxRingFull: 12, rxFillRingEmptyDescs: 0, rxDropped: 0 });
    expect((await receiveAll(y, 4)).length).to.equal(4);
    // a packet longer than frameSize − 256 − headroom does not fit a frame: dropped, in rxDropped
    y.close();
    const z = await createWhenFree({ frameSize: 2048, headroom: 1000 });
    z.register(xsks());
    net.sendUdp({ count: 1, port: PORT, size: 2048 - 256 - 1000 - 42 });
    net.sendUdp({ count: 1, port: PORT, size: 2048 - 256 - 1000 - 42 + 1 });
    net.sendUdp({ count: 1, port: PORT, size: 8 });
    expect((await receiveAll(z, 2)).map((f) => f.length)).to.deep.equal([792, 50]);
    expect(z.stats()).to.include({ rxDropped: 1, rxRingFull: 0, rxFillRingEmptyDescs: 0 });
  });

  it('transmits frames that arrive on the peer exactly (more than one 32-frame kick), and reclaims every frame', async () => {
    const x = create({ frames: 512, fillSize: 128, completionSize: 256, rxSize: 128, txSize: 256 });
    expect(x.txFrames).to.equal(384);
    const a = net.inNs('A', () => getInterface(net.vethA));
    const b = net.inNs('B', () => getInterface(net.vethB));
    const cap = net.inNs('B', () => openPacketSocket({ interface: net.vethB }));
    try {
      const frames = Array.from({ length: 200 }, (_, i) => udpFrame({
        srcMac: a.address!, dstMac: b.address!, src: net.addrA, dst: net.addrB, sport: 5000, dport: 6000,
        payload: new TextEncoder().encode(`tsbpf-xsk ${i.toString().padStart(4, '0')}`),
      }));
      expect(x.transmit(frames.slice(0, 150))).to.equal(150);
      expect(x.transmit(frames.slice(150))).to.equal(50);
      const got: Uint8Array[] = [];
      await waitFor(() => {
        for (const f of cap.drain()) if (udpPayload(f)?.dport === 6000) got.push(f);
        x.flush();
        return got.length;
      }, (n) => n >= 200);
      expect(got.length).to.equal(200);
      expect(got.map((f) => Buffer.from(f).toString('hex'))).to.deep.equal(frames.map((f) => Buffer.from(f).toString('hex')));
      expect(await waitFor(() => x.flush(), (n) => n === 0)).to.equal(0);
      expect(x.txFreeFrames).to.equal(384);
      expect(x.stats().txInvalidDescs).to.equal(0);
    } finally {
      cap.close();
    }
  });

  it('refuses a frame larger than the frame size or empty, and more frames than are free: nothing is sent', () => {
    const x = create({ frameSize: 2048, frames: 8, fillSize: 4, completionSize: 4, rxSize: 4, txSize: 4 });
    expect(x.txFrames).to.equal(4);
    const err = (fn: () => unknown) => { try { fn(); } catch (e) { return e; } return undefined; };
    const big = err(() => x.transmit([new Uint8Array(60), new Uint8Array(2049)])) as XskFrameSizeError;
    expect(big).to.be.instanceOf(XskFrameSizeError);
    expect(big).to.include({ index: 1, length: 2049, frameSize: 2048 });
    expect(big.message).to.contain(`AF_XDP socket on ${net.vethA} queue 0: transmit`).and.contain('larger than the 2048-byte UMEM frame');
    expect(err(() => x.transmit([new Uint8Array(0)]))).to.be.instanceOf(XskFrameSizeError);
    // more than the socket can ever have in flight: no retry would help
    const many = err(() => x.transmit(Array.from({ length: 5 }, () => new Uint8Array(60)))) as XskArgumentError;
    expect(many).to.be.instanceOf(XskArgumentError).and.include({ option: 'frames' });
    expect(many.message).to.contain('frames has 5 frames: at most 4 fit in one call (the TX ring has 4 slots, the socket 4 send frames); nothing was sent');
    expect(x.txInFlight).to.equal(0);
  });

  it('with the interface down, frames wait in the TX ring (XskNoFreeFrameError when too few are left) and go once it is up', async () => {
    const x = create({ frames: 16, fillSize: 8, completionSize: 8, rxSize: 8, txSize: 8 });
    expect(x.txFrames).to.equal(8);
    const a = net.inNs('A', () => getInterface(net.vethA));
    const b = net.inNs('B', () => getInterface(net.vethB));
    const frame = (i: number) => udpFrame({ srcMac: a.address!, dstMac: b.address!, src: net.addrA, dst: net.addrB, sport: 5000, dport: 6001, payload: new Uint8Array([i]) });
    const cap = net.inNs('B', () => openPacketSocket({ interface: net.vethB }));
    try {
      net.inNs('A', () => ip('link', 'set', net.vethA, 'down'));
      // the kick says ENETDOWN: not an error, the frames stay posted
      expect(x.transmit([0, 1, 2, 3, 4, 5].map(frame))).to.equal(6);
      expect(x.flush()).to.equal(6);
      let none: unknown;
      try { x.transmit([frame(6), frame(7), frame(8)]); } catch (e) { none = e; }
      expect(none).to.be.instanceOf(XskNoFreeFrameError).and.include({ wanted: 3, available: 2 });
      expect((none as Error).message).to.contain('3 frames to send, 2 free UMEM frames');
      net.inNs('A', () => ip('link', 'set', net.vethA, 'up'));
      const got: number[] = [];
      await waitFor(() => {
        for (const f of cap.drain()) if (udpPayload(f)?.dport === 6001) got.push(udpPayload(f)!.payload[0]);
        x.flush();
        return got.length;
      }, (n) => n >= 6);
      expect(got).to.deep.equal([0, 1, 2, 3, 4, 5]);
      expect(await waitFor(() => x.flush(), (n) => n === 0)).to.equal(0);
    } finally {
      cap.close();
    }
  });

  it('transmit() sends a whole batch when the completion ring is smaller than it (the kernel stops at a full completion ring)', async () => {
    const x = create({ frames: 128, fillSize: 8, rxSize: 8, completionSize: 4, txSize: 64 });
    const a = net.inNs('A', () => getInterface(net.vethA));
    const b = net.inNs('B', () => getInterface(net.vethB));
    const cap = net.inNs('B', () => openPacketSocket({ interface: net.vethB }));
    try {
      const frames = Array.from({ length: 64 }, (_, i) => udpFrame({ srcMac: a.address!, dstMac: b.address!, src: net.addrA, dst: net.addrB, sport: 5000, dport: 6002, payload: new Uint8Array([i]) }));
      expect(x.transmit(frames)).to.equal(64);
      // no flush(): transmit() itself kicked until the TX ring was empty
      const got: number[] = [];
      await waitFor(() => {
        for (const f of cap.drain()) if (udpPayload(f)?.dport === 6002) got.push(udpPayload(f)!.payload[0]);
        return got.length;
      }, (n) => n >= 64, 3000);
      expect(got).to.deep.equal(frames.map((_, i) => i));
      expect(x.flush()).to.equal(0);
    } finally {
      cap.close();
    }
  });

  it('transmit() sends the rest of a batch after a frame the device dropped (sendto EBUSY: completed, not sent)', async () => {
    const x = create();
    const a = net.inNs('A', () => getInterface(net.vethA));
    const b = net.inNs('B', () => getInterface(net.vethB));
    const cap = net.inNs('B', () => openPacketSocket({ interface: net.vethB }));
    try {
      const frame = (i: number) => udpFrame({ srcMac: a.address!, dstMac: b.address!, src: net.addrA, dst: net.addrB, sport: 5000, dport: 6003, payload: new Uint8Array([i]) });
      // a frame shorter than an Ethernet header: veth drops it, the kick says EBUSY
      expect(x.transmit([new Uint8Array(8), frame(1), new Uint8Array(3), frame(2), frame(3)])).to.equal(5);
      // no flush(): transmit() kicked on past the drops
      const got: number[] = [];
      await waitFor(() => {
        for (const f of cap.drain()) if (udpPayload(f)?.dport === 6003) got.push(udpPayload(f)!.payload[0]);
        return got.length;
      }, (n) => n >= 3, 2000);
      expect(got).to.deep.equal([1, 2, 3]);
      expect(x.flush()).to.equal(0);
    } finally {
      cap.close();
    }
  });

  it('a removed interface ends iteration and wait() with an XskError (ENXIO) instead of waiting forever; receive() says so too', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    net.sendUdp({ count: 2, port: PORT, size: 3 });
    let seen = 0;
    let ended: unknown = 'pending';
    const loop = (async () => {
      try {
        for await (const f of x) if (f.length === 45) seen++;
        ended = 'returned';
      } catch (e) { ended = e; }
    })();
    await waitFor(() => seen, (n) => n === 2);
    // the kernel unbinds the socket (sk_err ENETDOWN) but poll() reports nothing on an unbound socket
    net.inNs('A', () => ip('link', 'del', net.vethA));
    await waitFor(() => ended, (e) => e !== 'pending', 5000);
    if (ended === 'pending') x.close(); // (what ends it otherwise)
    await loop;
    expect(ended).to.be.instanceOf(XskError).and.include({ op: 'iterate', errno: 'ENXIO', interface: net.vethA, queue: 0 });
    expect((ended as Error).message).to.contain(`the socket is no longer bound: ${net.vethA} was removed`);
    let waited: unknown;
    try { await x.wait(); } catch (e) { waited = e; }
    expect(waited).to.be.instanceOf(XskError).and.include({ op: 'wait', errno: 'ENXIO' });
    expect(() => x.receive(() => {})).to.throw(XskError, 'no longer bound');
    x.close();
  });

  it("binds 'auto' in copy mode on veth, and refuses 'zerocopy' with a clear error leaving nothing behind", async () => {
    attach('drv');
    // the interface by index this time
    const index = net.inNs('A', () => getInterface(net.vethA).index);
    const x = create({ mode: 'auto', interface: index });
    expect(x).to.include({ mode: 'copy', interface: net.vethA, ifindex: index });
    x.close();
    const before = resources();
    let e: XskError | undefined;
    try { await createWhenFree({ mode: 'zerocopy' }); } catch (err) { e = err as XskError; }
    expect(e).to.be.instanceOf(XskError);
    expect(e).to.include({ op: 'bind', errno: 'EOPNOTSUPP', interface: net.vethA, queue: 0 });
    expect(e!.message).to.contain('no AF_XDP zero-copy support');
    expect(resources()).to.deep.equal(before);
  });

  it('bind EBUSY right after close() on the same queue says the kernel is still freeing it, not that someone holds it', async () => {
    const busy: XskError[] = [];
    for (let i = 0; i < 5 && busy.length === 0; i++) {
      (await createWhenFree()).close();
      try { create().close(); } catch (e) { busy.push(e as XskError); }
    }
    // (the kernel frees the queue from a work item: here always later than the next bind)
    expect(busy, 'EBUSY seen').to.have.length.greaterThan(0);
    expect(busy[0]).to.include({ op: 'bind', errno: 'EBUSY' });
    expect(busy[0].message).to.match(/is still held by the socket this process closed there \d+ ms ago: the kernel frees the queue a little after close\(\)/);
    await createWhenFree();
  });

  it('refuses bad input with typed errors naming what and where, before any syscall where it can', () => {
    const before = resources();
    const err = (o: Partial<XdpSocketOptions>) => { try { create(o); } catch (e) { return e as XskError; } throw new Error('no error'); };
    const missing = err({ interface: 'tsbpf-nope0' });
    expect(missing).to.be.instanceOf(XskError).and.include({ op: 'interface lookup', errno: 'ENODEV' });
    expect(missing.message).to.contain('"tsbpf-nope0"');
    expect(err({ interface: 999_999 })).to.include({ op: 'interface lookup', errno: 'ENODEV' }).and.have.property('message').that.contains('no interface with index 999999');
    const q = err({ queue: 7 }) as XskArgumentError;
    expect(q).to.be.instanceOf(XskArgumentError).and.include({ option: 'queue' });
    expect(q.message).to.contain(`queue 7 does not exist: ${net.vethA} has 2 RX and 2 TX queues`);
    // veth has 2 queues (one per CPU) of which 1 is active: the kernel says EINVAL at bind
    const q1 = err({ queue: 1 });
    expect(q1).to.include({ op: 'bind', errno: 'EINVAL', queue: 1 });
    expect(q1.message).to.contain('queue 1 is not an active queue');
    expect(err({ rxSize: 1000 })).to.be.instanceOf(XskArgumentError).and.include({ option: 'rxSize' });
    expect(err({ fillSize: 0 })).to.be.instanceOf(XskArgumentError).and.include({ option: 'fillSize' });
    expect(err({ frameSize: 3000 })).to.be.instanceOf(XskArgumentError).and.include({ option: 'frameSize' });
    expect(err({ frameSize: 8192 }).message).to.contain('frameSize must be a power of two from 2048 to the page size 4096');
    expect(err({ headroom: 4096 - 256 })).to.be.instanceOf(XskArgumentError).and.include({ option: 'headroom' });
    // the kernel wants room for skb_shared_info (320 bytes here) and 128 bytes of packet as well (Linux 6.18)
    const hr = err({ headroom: 4096 - 256 - 1 });
    expect(hr).to.include({ op: 'setsockopt(XDP_UMEM_REG)', errno: 'EINVAL' });
    expect(hr.message).to.contain('headroom 3839 is more than this kernel takes with 4096-byte frames: at most 3392');
    expect(err({ frameSize: 2048, headroom: 1345 }).message).to.contain('at most 1344');
    expect(err({ mode: 'fast' as never })).to.be.instanceOf(XskArgumentError).and.include({ option: 'mode' });
    // an 8 GiB UMEM (mmap'd lazily) or fill ring (the kernel vmallocs it) was made, and viewing it
    // aborted the process (koffi: FATAL ERROR napi_get_last_error_info); now refused first
    expect(err({ frames: 2 ** 21 })).to.be.instanceOf(XskArgumentError).and.include({ option: 'frames' });
    expect(err({ fillSize: 2 ** 30 })).to.be.instanceOf(XskArgumentError).and.include({ option: 'fillSize' });
    expect(resources()).to.deep.equal(before);
  });

  it('register() puts the socket in an XSKMAP at its queue, refuses another map type or key, and nothing works after close()', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    net.sendUdp({ count: 2, port: PORT, size: 1 });
    expect(await receiveAll(x, 2)).to.have.length(2);
    expect(verdicts()).to.deep.equal({ redirected: 2n, passed: verdicts().passed });
    const hash = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: 'not_xsk' });
    try {
      expect(() => x.register(hash)).to.throw(XskArgumentError, 'map not_xsk is a hash map, not an xskmap');
    } finally {
      hash.close();
    }
    expect(() => x.register(xsks(), 64)).to.throw(XskArgumentError, 'key 64 is outside the map xsks (0 … 63)');
    x.close();
    // the kernel takes a closed socket out of the map (once it is released): datagrams pass to the
    // stack again (user space cannot look an XSKMAP up: EOPNOTSUPP)
    const passed = verdicts().passed;
    await waitFor(() => { net.sendUdp({ count: 1, port: PORT, size: 1 }); return verdicts(); }, (v) => v.passed > passed, 10_000, 50);
    expect(Number(verdicts().redirected)).to.be.at.most(3);
    for (const fn of [() => x.receive(() => {}), () => x.transmit([new Uint8Array(60)]), () => x.stats(), () => x.register(xsks()), () => x.flush()]) {
      expect(fn).to.throw(XskClosedError, `AF_XDP socket on ${net.vethA} queue 0`);
    }
    expect(x.closed).to.equal(true);
    x.close();
  });

  it("a socket dropped without close(): the safety net releases its fd, rings and UMEM, and its waiter's worker thread", async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const threads = () => readdirSync('/proc/self/task').length;
    const before = resources();
    const t0 = threads();
    await (async () => {
      const x = net.inNs('A', () => XdpSocket.create({ interface: net.vethA, mode: 'copy', ...SMALL }));
      // a wait makes the waiter and its thread (nothing arrives: the signal ends it)
      expect(await x.wait(AbortSignal.timeout(20))).to.equal(true);
      expect(threads()).to.equal(t0 + 1);
      expect(resources().length).to.be.greaterThan(before.length);
    })();
    const left = await waitFor(() => { gc(); return { resources: resources(), threads: threads() }; },
      (v) => v.threads === t0 && v.resources.length === before.length, 5000, 50);
    expect(left.resources).to.deep.equal(before);
    expect(left.threads).to.equal(t0);
  });

  it('two sockets on two interfaces (two networks) in one process, each iterated, registered through a pinned XSKMAP (BpfMap.fromPin)', async () => {
    const fs = createTestBpffs();
    const net2 = createTestNetwork('xsk2');
    const obj2 = loadObject('bpf/xsk_redirect.o', { constants: { udp_port: PORT } });
    let xdp2: XdpAttachment | undefined;
    let pinned: BpfMap<unknown, unknown> | undefined;
    try {
      attach('skb');
      xdp2 = net2.inNs('A', () => attachXdp({ program: obj2.programs.get('xsk_redirect')!, interface: net2.vethA, mode: 'skb' }));
      const x = create();
      const y = net2.inNs('A', () => XdpSocket.create({ interface: net2.vethA, mode: 'copy', ...SMALL }));
      open.push(y);
      expect([x.interface, y.interface]).to.deep.equal([net.vethA, net2.vethA]);
      x.register(xsks());
      (obj2.maps.get('xsks') as BpfMap<unknown, unknown>).pin(`${fs.dir}/xsks`);
      pinned = BpfMap.fromPin(`${fs.dir}/xsks`);
      y.register(pinned);
      const take = async (s: XdpSocket, n: number) => {
        const lengths: number[] = [];
        for await (const f of s) if (lengths.push(f.length) === n) break;
        return lengths;
      };
      const both = Promise.all([take(x, 5), take(y, 7)]);
      net.sendUdp({ count: 5, port: PORT, size: 1 });
      net2.sendUdp({ count: 7, port: PORT, size: 2 });
      expect(await both).to.deep.equal([Array(5).fill(43), Array(7).fill(44)]);
      // break gave the frame back: both still receive, by iteration again and by receive()
      net.sendUdp({ count: 3, port: PORT, size: 1 });
      net2.sendUdp({ count: 3, port: PORT, size: 2 });
      expect(await take(x, 3)).to.deep.equal([43, 43, 43]);
      expect((await receiveAll(y, 3)).map((f) => f.length)).to.deep.equal([44, 44, 44]);
    } finally {
      pinned?.close();
      try { xdp2?.detach(); } catch { /* */ }
      obj2.close();
      net2.cleanup();
      fs.cleanup();
    }
  });

  it('register() refuses a send-only socket (rxSize 0): the kernel would take it into the XSKMAP, with nowhere to put what is redirected', () => {
    const x = create({ rxSize: 0 });
    expect(() => x.register(xsks())).to.throw(XskArgumentError, 'rxSize is 0: a socket without an RX ring cannot receive what an XSKMAP redirects to it');
  });

  it('map.update(queue, xsk) is not checked like register(): lib/map sees an fd, and the kernel takes a send-only socket (no program attached, no traffic: see XdpSocket.fd)', () => {
    // nothing is attached here, and the entry goes at once: in generic (skb) XDP, Linux 6.18 would
    // flush the RX ring the socket does not have (xsk_generic_rcv → xsk_flush)
    const x = create({ rxSize: 0 });
    const map = xsks();
    try {
      for (const value of [x, x.fd]) {
        map.update(x.queue, value);
        expect(map.delete(x.queue)).to.equal(true);
      }
    } finally {
      map.delete(x.queue);
    }
  });

  it('a next() dropped after losing a race against a timeout, then a frame comes: receive() (wait(), a new for await) gets exactly that frame, once, not busy; the dropped result, read later, says done', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    const takers: Record<string, () => Promise<number[]>> = {
      'receive()': async () => (await receiveAll(x, 1)).map((f) => f.length),
      'wait() and receive()': async () => {
        expect(await within(x.wait(), 5000, 'late')).to.equal(true);
        const got: number[] = [];
        x.receive((f) => got.push(f.length));
        return got;
      },
      'a new for await': async () => {
        const got: number[] = [];
        for await (const f of x) if (got.push(f.length) === 1) break;
        return got;
      },
    };
    let size = 1;
    for (const [name, take] of Object.entries(takers)) {
      // nothing comes in time (a Promise.race with a timeout): the caller drops the iterator
      const dropped = x[Symbol.asyncIterator]().next();
      expect(await within(dropped, 20, 'timeout'), name).to.equal('timeout');
      // a datagram comes while nobody else asks: the dropped next() takes it, and nobody looks
      net.sendUdp({ count: 1, port: PORT, size });
      expect(await settles(dropped, 5000), `${name}: the dropped next() took the frame`).to.equal(true);
      // before, it held the frame (out of the fill ring until garbage-collected): receive() found none
      expect(await within(take(), 5000, 'late'), name).to.deep.equal([42 + size]);
      expect(x.receive(() => { throw new Error(`${name}: a frame twice`); }), name).to.equal(0);
      expect(await dropped, `${name}: the result nobody looked at in time`).to.deep.equal(DONE);
      size++;
    }
    // and nothing was lost on the way: more than the 32 receive frames flow
    net.sendUdp({ count: 20, port: PORT, size: 9 });
    expect(await receiveAll(x, 20)).to.have.length(20);
    net.sendUdp({ count: 20, port: PORT, size: 9 });
    expect(await receiveAll(x, 20)).to.have.length(20);
    expect(x.stats()).to.include({ rxDropped: 0, rxFillRingEmptyDescs: 0 });
  });

  it('racing next() against a timeout 20 times in a row: every frame reaches one consumer once, never busy, and every dropped result reads done', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    const want: number[] = [];
    const got: number[] = [];
    const dropped: Promise<IteratorResult<Uint8Array, undefined>>[] = [];
    for (let i = 0; i < 20; i++) {
      const it = x[Symbol.asyncIterator]();
      const size = i + 1;
      want.push(42 + size);
      const send = () => net.sendUdp({ count: 1, port: PORT, size });
      // the datagram comes before, during or after the race
      if (i % 3 === 0) send();
      else if (i % 3 === 1) setTimeout(send, 5);
      const next = it.next();
      const r = await within(next, 10, 'timeout' as const);
      if (r === 'timeout') {
        dropped.push(next);
      } else {
        // a won race: the frame is the caller's; return() gives it back, the iterator ends
        if (!r.done) got.push(r.value.length);
        await it.return!();
      }
      if (i % 3 === 2) send();
      if (i % 2 === 0) await new Promise((resolve) => setTimeout(resolve, 15));
      // the dropped iterator never stands in the way
      x.receive((f) => got.push(f.length));
    }
    await new Promise((resolve) => setTimeout(resolve, 200));
    x.receive((f) => got.push(f.length));
    expect(got.sort((a, b) => a - b)).to.deep.equal(want);
    expect(dropped.length, 'some races were lost').to.be.greaterThan(0);
    expect(await Promise.all(dropped)).to.deep.equal(dropped.map(() => DONE));
    expect(x.stats()).to.include({ rxDropped: 0, rxFillRingEmptyDescs: 0 });
  });

  it('a frame looked at is the iterator\'s until its next next() or return(): never written over meanwhile; dropped, it comes back once its view is garbage, not before', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    // a for await body has a frame while receive() in the body takes 40 more through the other 31 receive frames
    net.sendUdp({ count: 1, port: PORT, size: 1 });
    for await (const f of x) {
      const copy = f.slice();
      for (let round = 0; round < 2; round++) {
        net.sendUdp({ count: 20, port: PORT, size: 2 });
        expect((await receiveAll(x, 20)).map((g) => g.length)).to.deep.equal(Array(20).fill(44));
      }
      expect(f).to.deep.equal(copy);
      break;
    }
    expect(x.stats()).to.include({ rxDropped: 0, rxFillRingEmptyDescs: 0 });
    // an iterator dropped with a frame looked at; only its view is kept
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const collect = async (rounds: number) => {
      for (let i = 0; i < rounds; i++) {
        gc();
        await new Promise((resolve) => setImmediate(resolve));
      }
    };
    net.sendUdp({ count: 1, port: PORT, size: 3 });
    let view: Uint8Array | undefined = await (async () => (await x[Symbol.asyncIterator]().next()).value!)();
    const copy = view.slice();
    // receive() moves it out of the RX ring's way; the iterator is garbage, the view is not
    expect(x.receive(() => {})).to.equal(0);
    await collect(20);
    // 31 receive frames for 32 datagrams: one finds the fill ring empty, none goes into the view's frame
    // (before, the frame went back to the fill ring when its iterator was collected, and was received into)
    net.sendUdp({ count: 32, port: PORT, size: 4 });
    expect(await receiveAll(x, 31)).to.have.length(31);
    expect((await waitFor(() => x.stats(), (s) => s.rxFillRingEmptyDescs >= 1)).rxFillRingEmptyDescs).to.equal(1);
    expect(x.receive(() => {})).to.equal(0);
    expect(view).to.deep.equal(copy);
    // the view dropped too: the frame comes back, all 32 receive frames take datagrams again
    view = undefined;
    await collect(20);
    net.sendUdp({ count: 32, port: PORT, size: 4 });
    expect(await receiveAll(x, 32)).to.have.length(32);
    expect(x.stats()).to.include({ rxFillRingEmptyDescs: 1 });
  });

  it('one consumer at a time: receive() from a receive callback is refused; close() from one releases after it returns', async () => {
    attach('skb');
    const x = create();
    x.register(xsks());
    net.sendUdp({ count: 3, port: PORT, size: 4 });
    expect(await x.wait()).to.equal(true);
    let inner: unknown;
    const frames: number[] = [];
    await waitFor(() => x.receive((f) => {
      try { x.receive(() => {}); } catch (e) { inner = e; }
      frames.push(f.length);
      x.close();
      // still readable after close() inside the callback
      frames.push(f[12]);
    }), (n) => n > 0 || x.closed);
    expect(inner).to.be.instanceOf(XskBusyError);
    expect(frames).to.deep.equal([46, 0x08]);
    expect(x.closed).to.equal(true);
  });
});
