// Making an AF_XDP socket with its own UMEM: socket(AF_XDP) → UMEM (anonymous pages, XDP_UMEM_REG)
// → ring sizes (setsockopt) → XDP_MMAP_OFFSETS → the four ring mmaps → the fill ring stocked →
// bind(sockaddr_xdp). Any step failing undoes the ones before it: no fd, no mapping, no half-bound
// socket is left. XdpSocket (socket.ts) uses what this makes.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { Fd } from '../syscall/fd.js';
import { scratch } from '../syscall/memory.js';
import { setU64 } from '../syscall/layout.js';
import { mmap, pageSize, PROT, MAP, type Mapping } from '../syscall/mmap.js';
import { BpfError } from '../syscall/errors.js';
import { ERRNO } from '../syscall/errno.js';
import { loadKernelBtf } from '../btf/kernel.js';
import { XskError, type XskWhere } from './errors.js';
import type { CheckedXskOptions } from './options.js';
import type { XskInterface } from './interface.js';
import { CompletionRing, FillRing, RxRing, TxRing, type RingOffsets } from './ring.js';
import {
  AF_XDP, SOL_XDP, SOCK_RAW, SOCK_CLOEXEC, MAP_POPULATE, MAP_ANONYMOUS, XDP_OPT, XDP_BIND, XDP_OPTIONS_ZEROCOPY, XDP_PGOFF,
  SOCKADDR_XDP, XDP_UMEM_REG, XDP_MMAP_OFFSETS, XDP_OPTIONS, XDP_PACKET_HEADROOM,
} from './uapi.js';

/** The mode the kernel bound the socket in. */
export type XskBoundMode = 'copy' | 'zerocopy';

/** The socket's rings, each with its mapping. */
export interface XskRings {
  fill: [FillRing, Mapping];
  comp: [CompletionRing, Mapping];
  rx?: [RxRing, Mapping];
  tx?: [TxRing, Mapping];
}

/** What setUpXsk made: the bound socket, the mode it is bound in, its UMEM and its rings. */
export interface XskParts {
  readonly fd: Fd;
  readonly mode: XskBoundMode;
  readonly umem: Mapping;
  readonly rings: XskRings;
}

/**
 * When this process last closed a socket on a queue ('ifindex/queue' → performance.now()): the
 * kernel frees the queue from a work item a little after (~20 ms here), and a bind() meanwhile is
 * EBUSY; the error then says so instead of suggesting that someone else holds the queue.
 */
const recentlyClosed = new Map<string, number>();
const RECENT_MS = 2000;

/** A socket on this queue was closed now (its bind() EBUSY meanwhile then says why). */
export function noteClosed(ifindex: number, queue: number): void {
  recentlyClosed.set(`${ifindex}/${queue}`, performance.now());
}

/** errno numbers lib/syscall's ERRNO table does not name */
const EAFNOSUPPORT = 97;

/**
 * An AF_XDP socket bound to `o.queue` of `iface`, its fill ring stocked with the receive frames,
 * handed to `make` (what make throws undoes it all as well). A step the kernel refuses throws
 * XskError naming it, and leaves nothing behind.
 */
export function setUpXsk<T>(o: CheckedXskOptions, iface: XskInterface, make: (parts: XskParts) => T): T {
  const where: XskWhere = { interface: iface.name, ifindex: iface.index, queue: o.queue };
  const undo: (() => void)[] = [];
  try {
    const r = ffi().syscall3(SYS.socket, AF_XDP, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (r < 0) throw new XskError('socket(AF_XDP)', -r, where, r === -EAFNOSUPPORT ? 'the kernel has no AF_XDP (CONFIG_XDP_SOCKETS)' : undefined);
    const fd = new Fd(r, `AF_XDP socket on ${iface.name} queue ${o.queue}`);
    undo.push(() => fd.close());

    const umemLen = o.frames * o.frameSize;
    const umem = mapOrThrow(() => mmap(-1, Math.ceil(umemLen / pageSize()) * pageSize(), PROT.READ | PROT.WRITE, MAP.PRIVATE | MAP_ANONYMOUS), 'mmap UMEM', where);
    undo.push(() => umem.unmap());
    umemReg(fd.value, umem.address, umemLen, o, where);
    setRingSize(fd.value, XDP_OPT.UMEM_FILL_RING, o.fillSize, 'XDP_UMEM_FILL_RING', where);
    setRingSize(fd.value, XDP_OPT.UMEM_COMPLETION_RING, o.completionSize, 'XDP_UMEM_COMPLETION_RING', where);
    if (o.rxSize) setRingSize(fd.value, XDP_OPT.RX_RING, o.rxSize, 'XDP_RX_RING', where);
    if (o.txSize) setRingSize(fd.value, XDP_OPT.TX_RING, o.txSize, 'XDP_TX_RING', where);
    const off = mmapOffsets(fd.value, where);

    const ring = (name: string, which: RingOffsets, entries: number, entryBytes: number, pgoff: number): Mapping => {
      const m = mapOrThrow(() => mmap(fd.value, which.desc + entries * entryBytes, PROT.READ | PROT.WRITE, MAP.SHARED | MAP_POPULATE, pgoff), `mmap ${name} ring`, where);
      undo.push(() => m.unmap());
      return m;
    };
    const fm = ring('fill', off.fr, o.fillSize, 8, XDP_PGOFF.FILL_RING);
    const cm = ring('completion', off.cr, o.completionSize, 8, XDP_PGOFF.COMPLETION_RING);
    const rm = o.rxSize ? ring('RX', off.rx, o.rxSize, 16, XDP_PGOFF.RX_RING) : undefined;
    const tm = o.txSize ? ring('TX', off.tx, o.txSize, 16, XDP_PGOFF.TX_RING) : undefined;
    const fill = new FillRing(fm.buffer, off.fr, o.fillSize);
    // stock the fill ring before bind, as libxdp's users do: the kernel can receive at once
    const at = fill.reserve(o.rxFrames);
    for (let i = 0; i < o.rxFrames; i++) fill.set(at + i, i * o.frameSize);
    fill.submit();

    bind(fd.value, iface.index, o, where);
    const mode = boundMode(fd.value, where);
    return make({
      fd, mode, umem, rings: {
        fill: [fill, fm],
        comp: [new CompletionRing(cm.buffer, off.cr, o.completionSize), cm],
        rx: rm && [new RxRing(rm.buffer, off.rx, o.rxSize), rm],
        tx: tm && [new TxRing(tm.buffer, off.tx, o.txSize), tm],
      },
    });
  } catch (e) {
    // the socket first: the ring mappings hold it, the UMEM is pinned until it is gone
    for (const fn of undo) fn();
    throw e;
  }
}

function mapOrThrow(fn: () => Mapping, op: string, where: XskWhere): Mapping {
  try {
    return fn();
  } catch (e) {
    if (e instanceof BpfError) throw new XskError(op, e.code, where, undefined, { cause: e });
    throw e;
  }
}

/**
 * The largest headroom this kernel takes with `frameSize`, or undefined if it cannot be known. Since
 * Linux 6.18 (and its stable backports) XDP_UMEM_REG wants room in each frame for XDP_PACKET_HEADROOM,
 * the headroom, skb_shared_info (cache-aligned: 320 bytes on x86-64 and arm64) and 128 bytes of
 * packet; before that only headroom < frameSize − 256. Read from the kernel's BTF, on the error path only.
 */
function kernelHeadroomLimit(frameSize: number): number | undefined {
  try {
    const info = loadKernelBtf().findByName('skb_shared_info', 'struct');
    if (!info) return undefined;
    return frameSize - XDP_PACKET_HEADROOM - Math.ceil(info.size / 64) * 64 - 128;
  } catch {
    return undefined;
  }
}

function umemReg(fd: number, addr: number, len: number, o: CheckedXskOptions, where: XskWhere): void {
  const s = scratch();
  const reg = s.alloc(XDP_UMEM_REG.size);
  setU64(reg.view, XDP_UMEM_REG.off.addr, addr);
  setU64(reg.view, XDP_UMEM_REG.off.len, len);
  reg.view.setUint32(XDP_UMEM_REG.off.chunk_size, o.frameSize, true);
  reg.view.setUint32(XDP_UMEM_REG.off.headroom, o.headroom, true);
  const r = ffi().syscall6(SYS.setsockopt, fd, SOL_XDP, XDP_OPT.UMEM_REG, reg.address, XDP_UMEM_REG.size, 0);
  if (r < 0) {
    const limit = r === -ERRNO.EINVAL && o.headroom > 0 ? kernelHeadroomLimit(o.frameSize) : undefined;
    throw new XskError('setsockopt(XDP_UMEM_REG)', -r, where, r === -ERRNO.ENOMEM || r === -ERRNO.EPERM || r === -ERRNO.EAGAIN
      ? `${o.frames} frames of ${o.frameSize} bytes (${len} bytes) could not be pinned: RLIMIT_MEMLOCK or memory (ulimit -l, or CAP_IPC_LOCK)`
      : limit !== undefined && o.headroom > limit
        ? `headroom ${o.headroom} is more than this kernel takes with ${o.frameSize}-byte frames: at most ${limit} (each frame keeps ${XDP_PACKET_HEADROOM} bytes of XDP headroom, the kernel's skb_shared_info and 128 bytes of packet)`
        : `${o.frames} frames of ${o.frameSize} bytes, headroom ${o.headroom}`);
  }
}

function setRingSize(fd: number, opt: number, entries: number, name: string, where: XskWhere): void {
  const s = scratch();
  const v = s.alloc(4);
  v.view.setUint32(0, entries, true);
  const r = ffi().syscall6(SYS.setsockopt, fd, SOL_XDP, opt, v.address, 4, 0);
  if (r < 0) throw new XskError(`setsockopt(${name})`, -r, where, `${entries} entries`);
}

function mmapOffsets(fd: number, where: XskWhere): { rx: RingOffsets; tx: RingOffsets; fr: RingOffsets; cr: RingOffsets } {
  const { view: v, length } = getsockopt(fd, XDP_OPT.MMAP_OFFSETS, XDP_MMAP_OFFSETS.size, 'XDP_MMAP_OFFSETS', where);
  // kernels before 5.4 answer without the flags offsets (no need_wakeup): not supported here
  if (length < XDP_MMAP_OFFSETS.size) {
    throw new XskError('getsockopt(XDP_MMAP_OFFSETS)', 0, where, 'the kernel gave ring offsets without flags (before Linux 5.4): not supported');
  }
  const ring = (p: 'rx' | 'tx' | 'fr' | 'cr'): RingOffsets => ({
    producer: Number(v.getBigUint64(XDP_MMAP_OFFSETS.off[`${p}_producer`], true)),
    consumer: Number(v.getBigUint64(XDP_MMAP_OFFSETS.off[`${p}_consumer`], true)),
    desc: Number(v.getBigUint64(XDP_MMAP_OFFSETS.off[`${p}_desc`], true)),
    flags: Number(v.getBigUint64(XDP_MMAP_OFFSETS.off[`${p}_flags`], true)),
  });
  return { rx: ring('rx'), tx: ring('tx'), fr: ring('fr'), cr: ring('cr') };
}

function bind(fd: number, ifindex: number, o: CheckedXskOptions, where: XskWhere): void {
  const s = scratch();
  const a = s.alloc(SOCKADDR_XDP.size);
  const flags = (o.mode === 'copy' ? XDP_BIND.COPY : o.mode === 'zerocopy' ? XDP_BIND.ZEROCOPY : 0) | (o.needWakeup ? XDP_BIND.USE_NEED_WAKEUP : 0);
  a.view.setUint16(SOCKADDR_XDP.off.sxdp_family, AF_XDP, true);
  a.view.setUint16(SOCKADDR_XDP.off.sxdp_flags, flags, true);
  a.view.setUint32(SOCKADDR_XDP.off.sxdp_ifindex, ifindex, true);
  a.view.setUint32(SOCKADDR_XDP.off.sxdp_queue_id, o.queue, true);
  const r = ffi().syscall3(SYS.bind, fd, a.address, SOCKADDR_XDP.size);
  if (r >= 0) return;
  const code = -r;
  let detail: string | undefined;
  if (code === ERRNO.EOPNOTSUPP && o.mode === 'zerocopy') detail = `the driver of ${where.interface} has no AF_XDP zero-copy support; use mode 'copy' or 'auto'`;
  else if (code === ERRNO.EINVAL) detail = `queue ${o.queue} is not an active queue of ${where.interface} (the kernel checks the real queue counts, see ethtool -l), or the UMEM/ring setup was refused`;
  else if (code === ERRNO.EBUSY) {
    const key = `${ifindex}/${o.queue}`;
    const closedAt = recentlyClosed.get(key);
    const ago = closedAt === undefined ? Infinity : performance.now() - closedAt;
    if (ago >= RECENT_MS) recentlyClosed.delete(key);
    detail = ago < RECENT_MS
      ? `queue ${o.queue} of ${where.interface} is still held by the socket this process closed there ${Math.round(ago)} ms ago: the kernel frees the queue a little after close() (from a work item); retry in a few ms`
      : `queue ${o.queue} of ${where.interface} already has an AF_XDP socket (or a UMEM) bound`;
  }
  throw new XskError('bind', code, where, detail);
}

function boundMode(fd: number, where: XskWhere): XskBoundMode {
  const { view } = getsockopt(fd, XDP_OPT.OPTIONS, XDP_OPTIONS.size, 'XDP_OPTIONS', where);
  return (view.getUint32(XDP_OPTIONS.off.flags, true) & XDP_OPTIONS_ZEROCOPY) !== 0 ? 'zerocopy' : 'copy';
}

/** getsockopt(SOL_XDP, opt) into scratch memory: the value (valid until the next scratch() user) and the length the kernel wrote */
export function getsockopt(fd: number, opt: number, size: number, name: string, where: XskWhere): { view: DataView; length: number } {
  const s = scratch();
  const buf = s.alloc(size);
  const len = s.alloc(4);
  len.view.setUint32(0, size, true);
  const r = ffi().syscall6(SYS.getsockopt, fd, SOL_XDP, opt, buf.address, len.address, 0);
  if (r < 0) throw new XskError(`getsockopt(${name})`, -r, where);
  return { view: buf.view, length: len.view.getUint32(0, true) };
}
