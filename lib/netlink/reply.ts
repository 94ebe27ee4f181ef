// Reading replies, pure so the rules are unit-tested without a kernel: which messages answer a
// request (port id and sequence number), when a request is acknowledged (NLMSG_ERROR 0) or refused,
// when a dump is complete (NLMSG_DONE, possibly carrying an error) or was interrupted
// (NLM_F_DUMP_INTR), and the extended-ack text inside NLMSG_ERROR and NLMSG_DONE.
import { NLM_F, NLMSG, NLMSG_HDRLEN, NLMSGERR_ATTR } from './constants.js';
import { Attrs, align4, type NlMessage } from './codec.js';
import { NetlinkError, NetlinkProtocolError } from './errors.js';

/** The kernel's answer to a request: the messages before the acknowledgement (e.g. NLM_F_ECHO's copy). */
export interface NetlinkReply {
  readonly messages: NlMessage[];
  /** extended-ack text the kernel attached to a success (a warning), if any */
  readonly warning?: string;
}

/**
 * The messages of a datagram that answer request `seq` of port `portId`. Answers to an earlier,
 * abandoned request (older sequence numbers) are dropped; anything else is a protocol error.
 */
export function answersTo(msgs: readonly NlMessage[], portId: number, seq: number, op: string): NlMessage[] {
  const out: NlMessage[] = [];
  for (const m of msgs) {
    if (m.pid !== portId) throw new NetlinkProtocolError(`${op}: reply for port ${m.pid}, this socket is port ${portId}`);
    if (m.seq !== seq) {
      if (((seq - m.seq) >>> 0) < 0x80000000) continue;
      throw new NetlinkProtocolError(`${op}: reply with sequence ${m.seq}, expected ${seq}`);
    }
    out.push(m);
  }
  return out;
}

/** Collects the answer to an NLM_F_ACK request; feed() returns true at the acknowledgement. */
export class AckCollector {
  readonly messages: NlMessage[] = [];
  done = false;
  warning: string | undefined;

  constructor(readonly op: string) {}

  feed(m: NlMessage): boolean {
    if (m.type === NLMSG.ERROR) {
      const e = decodeError(m);
      if (e.code !== 0) throw new NetlinkError(this.op, e.code, { extack: e.extack, extackOffset: e.offset });
      this.warning = e.extack;
      this.done = true;
      return true;
    }
    if (m.type === NLMSG.OVERRUN) throw new NetlinkProtocolError(`${this.op}: NLMSG_OVERRUN`);
    if (m.type !== NLMSG.NOOP) this.messages.push(m);
    return false;
  }

  reply(): NetlinkReply {
    return this.warning ? { messages: this.messages, warning: this.warning } : { messages: this.messages };
  }
}

/** Collects the parts of a dump; feed() returns true at NLMSG_DONE. */
export class DumpCollector {
  readonly messages: NlMessage[] = [];
  done = false;
  /** some part carried NLM_F_DUMP_INTR: the table changed during the dump, redo it */
  interrupted = false;

  constructor(readonly op: string) {}

  feed(m: NlMessage): boolean {
    if (m.flags & NLM_F.DUMP_INTR) this.interrupted = true;
    if (m.type === NLMSG.DONE) {
      const e = decodeDone(m);
      if (e.code !== 0) throw new NetlinkError(this.op, e.code, { extack: e.extack });
      this.done = true;
      return true;
    }
    if (m.type === NLMSG.ERROR) {
      const e = decodeError(m);
      if (e.code !== 0) throw new NetlinkError(this.op, e.code, { extack: e.extack, extackOffset: e.offset });
      return false;
    }
    if (m.type === NLMSG.OVERRUN) throw new NetlinkProtocolError(`${this.op}: NLMSG_OVERRUN`);
    if (m.type !== NLMSG.NOOP) this.messages.push(m);
    return false;
  }
}

export interface DecodedError { code: number; extack?: string; offset?: number }

/** NLMSG_ERROR: int error, the request's header (and payload unless NLM_F_CAPPED), then ack TLVs. */
export function decodeError(m: NlMessage): DecodedError {
  const p = m.payload;
  if (p.length < 4) throw new NetlinkProtocolError(`NLMSG_ERROR with ${p.length} bytes of payload`);
  const v = new DataView(p.buffer, p.byteOffset, p.byteLength);
  const code = -v.getInt32(0, true);
  if (!(m.flags & NLM_F.ACK_TLVS)) return { code };
  let tlvAt = 4 + NLMSG_HDRLEN;
  if (!(m.flags & NLM_F.CAPPED) && p.length >= 4 + NLMSG_HDRLEN) tlvAt = 4 + align4(v.getUint32(4, true));
  if (tlvAt > p.length) return { code };
  return { code, ...ackTlvs(p.subarray(tlvAt)) };
}

/** NLMSG_DONE: an int error (0 = complete), then ack TLVs when NLM_F_ACK_TLVS is set. */
export function decodeDone(m: NlMessage): DecodedError {
  const p = m.payload;
  if (p.length < 4) return { code: 0 };
  const code = -new DataView(p.buffer, p.byteOffset, 4).getInt32(0, true);
  if (!(m.flags & NLM_F.ACK_TLVS)) return { code };
  return { code, ...ackTlvs(p.subarray(4)) };
}

function ackTlvs(b: Uint8Array): { extack?: string; offset?: number } {
  const a = new Attrs(b, 'extended ack');
  const out: { extack?: string; offset?: number } = {};
  const msg = a.string(NLMSGERR_ATTR.MSG);
  if (msg) out.extack = msg;
  const off = a.u32(NLMSGERR_ATTR.OFFS);
  if (off !== undefined) out.offset = off;
  return out;
}
