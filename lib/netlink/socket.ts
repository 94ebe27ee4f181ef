// A NETLINK_ROUTE socket through the FFI layer: socket/bind/getsockname/sendto/recvmsg, close-on-exec.
// Requests are acknowledged (NLM_F_ACK) and dumps read to NLMSG_DONE; every reply's sequence number
// and port id is checked; errors carry the kernel's extended-ack text (NETLINK_EXT_ACK, with
// NETLINK_CAP_ACK so error replies do not echo our whole request back). Receive buffers are sized by
// peeking (MSG_PEEK|MSG_TRUNC); EINTR is retried. A dump a failed read left unfinished is read to its
// end before the socket sends again (the kernel runs one dump per socket at a time). The socket
// lives in the network namespace of the thread that opened it, whatever namespace the thread moves
// to later: open({ netns }) makes it in another one (the thread enters it for the socket() call
// only, netns-enter.ts), and every request on it then acts there.
import { ffi } from '../syscall/backend.js';
import { SYS } from '../syscall/numbers.js';
import { Fd } from '../syscall/fd.js';
import { NativeBuffer } from '../syscall/memory.js';
import { ERRNO } from '../syscall/errno.js';
import {
  AF_NETLINK, MSG_PEEK, MSG_TRUNC, NETLINK_CAP_ACK, NETLINK_EXT_ACK, NETLINK_ROUTE, SOCK_CLOEXEC, SOCK_RAW,
  SOCKADDR_NL_SIZE, SOL_NETLINK, SOL_SOCKET, SO_RCVTIMEO,
} from './constants.js';
import { align4, parseMessages, type MessageBuilder, type NlMessage } from './codec.js';
import { NLMSG } from './constants.js';
import { NetlinkError, NetlinkProtocolError } from './errors.js';
import { AckCollector, DumpCollector, answersTo, type NetlinkReply } from './reply.js';
import { assertNotStranded, inNetns, inNetnsText, usingNetns, type NetnsRef } from './netns-enter.js';

// offsets in the socket's small block of native memory (pointers in syscall args must not move)
const CTL = { kernelAddr: 0, fromAddr: 16, int: 32, iov: 40, msghdr: 64, timeval: 128, size: 160 } as const;
const MSGHDR = { name: 0, namelen: 8, iov: 16, iovlen: 24, control: 32, controllen: 40, flags: 48 } as const;
const REPLY_TIMEOUT_S = 10;
// an interrupted dump is redone at once: with 2000 interfaces and a loop adding and deleting a link
// beside them, about one link dump in four was interrupted and 3 attempts failed 2 lists in 102
const DUMP_RETRIES = 10;

export class NetlinkSocket {
  readonly #fd: Fd;
  readonly #ctl: NativeBuffer;
  #send: NativeBuffer;
  #recv: NativeBuffer;
  #seq: number;
  /** the sequence number of a dump a failed read left running in the kernel (see dump()) */
  #unfinishedDump: number | undefined;
  /** the port id the kernel gave this socket (checked on every reply) */
  readonly portId: number;
  /** the network namespace it was opened in when open() was given one (its path, or "fd N"); errors name it */
  readonly netns: string | undefined;

  private constructor(fd: Fd, ctl: NativeBuffer, portId: number, receiveBufferSize: number, netns: string | undefined) {
    this.#fd = fd;
    this.netns = netns;
    this.#ctl = ctl;
    this.portId = portId;
    this.#send = new NativeBuffer(4096);
    this.#recv = new NativeBuffer(receiveBufferSize);
    this.#seq = (Date.now() & 0x7fffff) * 256;
  }

  /**
   * A NETLINK_ROUTE socket in the calling thread's network namespace, or in `netns` (a path, a name
   * under /run/netns, an fd, an Fd or a Netns: see netns-enter.ts). The receive buffer starts at
   * `receiveBufferSize` bytes (default 32 KiB) and grows to fit any datagram the kernel sends.
   */
  static open(o: { receiveBufferSize?: number; netns?: NetnsRef } = {}): NetlinkSocket {
    assertNotStranded();
    const op = 'socket(AF_NETLINK, NETLINK_ROUTE)';
    if (o.netns === undefined) return NetlinkSocket.#setUp(NetlinkSocket.#socket(op), o.receiveBufferSize, undefined);
    return usingNetns(o.netns, 'NetlinkSocket.open', (ns) => {
      const raw = inNetns(ns, 'NetlinkSocket.open', () => NetlinkSocket.#socket(op), (fd) => ffi().syscall3(SYS.close, fd, 0, 0));
      return NetlinkSocket.#setUp(raw, o.receiveBufferSize, ns!.label);
    });
  }

  static #socket(op: string): number {
    const raw = retry(() => ffi().syscall3(SYS.socket, AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE));
    if (raw < 0) throw new NetlinkError(op, -raw);
    return raw;
  }

  /** Options, bind and port id of a fresh socket (wherever it was made: it keeps its namespace). */
  static #setUp(raw: number, receiveBufferSize: number | undefined, netns: string | undefined): NetlinkSocket {
    const f = ffi();
    const fd = new Fd(raw, 'netlink socket');
    const ctl = new NativeBuffer(CTL.size);
    try {
      const v = ctl.view;
      v.setUint16(CTL.kernelAddr, AF_NETLINK, true); // nl_pid 0 = the kernel
      v.setInt32(CTL.int, 1, true);
      // extended acks and capped acks are best effort: kernels before 4.12 lack NETLINK_EXT_ACK
      for (const opt of [NETLINK_EXT_ACK, NETLINK_CAP_ACK]) {
        f.syscall6(SYS.setsockopt, fd.value, SOL_NETLINK, opt, ctl.address + CTL.int, 4, 0);
      }
      // a reply that never comes must not hang Node forever
      v.setBigInt64(CTL.timeval, BigInt(REPLY_TIMEOUT_S), true);
      f.syscall6(SYS.setsockopt, fd.value, SOL_SOCKET, SO_RCVTIMEO, ctl.address + CTL.timeval, 16, 0);
      const b = retry(() => f.syscall3(SYS.bind, fd.value, ctl.address + CTL.kernelAddr, SOCKADDR_NL_SIZE));
      if (b < 0) throw new NetlinkError('bind(AF_NETLINK)', -b);
      v.setUint32(CTL.int, SOCKADDR_NL_SIZE, true);
      const g = f.syscall3(SYS.getsockname, fd.value, ctl.address + CTL.fromAddr, ctl.address + CTL.int);
      if (g < 0) throw new NetlinkError('getsockname(AF_NETLINK)', -g);
      return new NetlinkSocket(fd, ctl, v.getUint32(CTL.fromAddr + 4, true), receiveBufferSize ?? 32 * 1024, netns);
    } catch (e) {
      fd.close();
      ctl.free();
      throw e;
    }
  }

  get closed(): boolean {
    return this.#fd.closed;
  }

  /** the receive buffer's current size (grown by peeking when a datagram is larger) */
  get receiveBufferSize(): number {
    return this.#recv.size;
  }

  /** Send `msg` with NLM_F_ACK and read until the acknowledgement; throws NetlinkError on a refusal. */
  request(msg: MessageBuilder, op: string): NetlinkReply {
    op = this.#where(op);
    const seq = this.#transmit(msg, op);
    const ack = new AckCollector(op);
    while (!ack.done) for (const m of this.#receive(op, seq)) if (ack.feed(m)) break;
    return ack.reply();
  }

  /**
   * Send a dump request (`msg` built with NLM_F_DUMP) and read every part until NLMSG_DONE. A dump
   * the kernel marks interrupted (NLM_F_DUMP_INTR: the table changed while it was read) is redone.
   * A dump left unfinished by a failed read (a reply timeout) is read to its end before this
   * socket sends anything else: until then the kernel refuses every other dump on it (EBUSY).
   */
  dump(msg: MessageBuilder, op: string): NlMessage[] {
    op = this.#where(op);
    for (let attempt = 1; ; attempt++) {
      const seq = this.#transmit(msg, op);
      const d = new DumpCollector(op);
      // where a throw comes from: a read (the kernel may still be dumping) or a part the kernel
      // sent (an error in place of the dump or of its NLMSG_DONE: nothing is left running)
      let reading = true;
      try {
        while (!d.done) {
          const parts = this.#receive(op, seq);
          reading = false;
          for (const m of parts) if (d.feed(m)) break;
          reading = true;
        }
      } catch (e) {
        // a failed recvmsg consumed nothing: the rest of the dump is still the kernel's to send
        if (reading && e instanceof NetlinkError) this.#unfinishedDump = seq;
        throw e;
      }
      if (!d.interrupted) return d.messages;
      if (attempt >= DUMP_RETRIES) {
        throw new NetlinkError(op, ERRNO.EINTR, { detail: `dump interrupted (NLM_F_DUMP_INTR) ${attempt} times in a row: the table kept changing` });
      }
    }
  }

  /** `op` naming the namespace the socket acts in when it is not the caller's (callers that said it already keep their words) */
  #where(op: string): string {
    const ns = inNetnsText(this.netns);
    return ns && !op.includes(ns) ? `${op}${ns}` : op;
  }

  close(): void {
    if (this.#fd.closed) return;
    this.#fd.close();
    this.#ctl.free();
    this.#send.free();
    this.#recv.free();
  }

  [Symbol.dispose](): void {
    this.close();
  }

  /**
   * Read an unfinished dump of this socket to its end (its NLMSG_DONE, or the error in its place);
   * reading is what makes the kernel go on with it. Its messages are dropped.
   */
  #settle(op: string): void {
    const seq = this.#unfinishedDump;
    if (seq === undefined) return;
    for (;;) {
      let msgs: NlMessage[];
      try {
        msgs = this.#datagram(op);
      } catch (e) {
        // given up on (the next dump meets the kernel's EBUSY if it still runs): never wedged for good
        this.#unfinishedDump = undefined;
        if (!(e instanceof NetlinkError)) throw e;
        throw new NetlinkError(op, e.code, { detail: `an earlier dump on this socket (sequence ${seq}) is still unfinished and the kernel refuses another until it ends: ${e.detail ?? e.message}` });
      }
      if (msgs.some((m) => m.seq === seq && (m.type === NLMSG.DONE || m.type === NLMSG.ERROR))) {
        this.#unfinishedDump = undefined;
        return;
      }
    }
  }

  #transmit(msg: MessageBuilder, op: string): number {
    if (this.#fd.closed) throw new NetlinkError(op, ERRNO.EBADF, { detail: 'the netlink socket is closed' });
    this.#settle(op);
    this.#seq = (this.#seq + 1) >>> 0 || 1;
    const bytes = msg.finish(this.#seq);
    if (bytes.length > this.#send.size) {
      this.#send.free();
      this.#send = new NativeBuffer(bytes.length);
    }
    this.#send.bytes.set(bytes);
    const f = ffi();
    const r = retry(() => f.syscall6(SYS.sendto, this.#fd.value, this.#send.address, bytes.length, 0, this.#ctl.address + CTL.kernelAddr, SOCKADDR_NL_SIZE));
    if (r < 0) throw new NetlinkError(op, -r, { detail: 'sendto on the netlink socket failed' });
    return this.#seq;
  }

  /** One datagram's messages that answer `seq` (stale answers to earlier requests are skipped). */
  #receive(op: string, seq: number): NlMessage[] {
    return answersTo(this.#datagram(op), this.portId, seq, op);
  }

  /** The messages of the next datagram from the kernel, whatever they answer. */
  #datagram(op: string): NlMessage[] {
    const fd = this.#fd.value;
    // peek with a 0-byte buffer: MSG_TRUNC makes recvmsg return the datagram's real length
    let n = this.#recvmsg(op, fd, 0, MSG_PEEK | MSG_TRUNC);
    if (n > this.#recv.size) {
      this.#recv.free();
      this.#recv = new NativeBuffer(align4(n) + 4096);
    }
    n = this.#recvmsg(op, fd, this.#recv.size, 0);
    const v = this.#ctl.view;
    if (v.getInt32(CTL.msghdr + MSGHDR.flags, true) & MSG_TRUNC) throw new NetlinkProtocolError(`${op}: reply truncated to ${this.#recv.size} bytes`);
    const from = v.getUint32(CTL.fromAddr + 4, true);
    if (from !== 0) throw new NetlinkProtocolError(`${op}: datagram from port ${from}, not from the kernel`);
    return parseMessages(this.#recv.bytes.slice(0, n));
  }

  #recvmsg(op: string, fd: number, len: number, flags: number): number {
    const f = ffi();
    const c = this.#ctl;
    const v = c.view;
    v.setBigUint64(CTL.iov, BigInt(this.#recv.address), true);
    v.setBigUint64(CTL.iov + 8, BigInt(len), true);
    v.setBigUint64(CTL.msghdr + MSGHDR.name, BigInt(c.address + CTL.fromAddr), true);
    v.setUint32(CTL.msghdr + MSGHDR.namelen, SOCKADDR_NL_SIZE, true);
    v.setBigUint64(CTL.msghdr + MSGHDR.iov, BigInt(c.address + CTL.iov), true);
    v.setBigUint64(CTL.msghdr + MSGHDR.iovlen, 1n, true);
    v.setBigUint64(CTL.msghdr + MSGHDR.control, 0n, true);
    v.setBigUint64(CTL.msghdr + MSGHDR.controllen, 0n, true);
    v.setInt32(CTL.msghdr + MSGHDR.flags, 0, true);
    const r = retry(() => f.syscall3(SYS.recvmsg, fd, c.address + CTL.msghdr, flags));
    if (r === -ERRNO.EAGAIN) throw new NetlinkError(op, ERRNO.EAGAIN, { detail: `no reply from the kernel within ${REPLY_TIMEOUT_S} s` });
    if (r < 0) throw new NetlinkError(op, -r, { detail: 'recvmsg on the netlink socket failed' });
    return r;
  }
}

function retry(call: () => number): number {
  let r: number;
  do r = call(); while (r === -ERRNO.EINTR);
  return r;
}
