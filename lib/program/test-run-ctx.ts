// The contexts BPF_PROG_TEST_RUN takes in and gives back for packet programs, as typed objects:
// struct xdp_md (XDP) and struct __sk_buff (TC and the other skb programs), declared from the UAPI
// header (linux/bpf.h) and encoded to / decoded from the bytes the kernel reads and writes. Only the
// fields the kernel takes from userspace can be given; the kernel refuses the others (EINVAL).
import { struct } from '../syscall/layout.js';

/** struct xdp_md (linux/bpf.h). */
export const XDP_MD = struct('xdp_md', [
  ['data', 'u32'], ['data_end', 'u32'], ['data_meta', 'u32'],
  ['ingress_ifindex', 'u32'], ['rx_queue_index', 'u32'], ['egress_ifindex', 'u32'],
]);

/** struct __sk_buff (linux/bpf.h); arrays as their first element and padding, pointers as u64 (__bpf_md_ptr). */
export const SK_BUFF = struct('__sk_buff', [
  ['len', 'u32'], ['pkt_type', 'u32'], ['mark', 'u32'], ['queue_mapping', 'u32'], ['protocol', 'u32'],
  ['vlan_present', 'u32'], ['vlan_tci', 'u32'], ['vlan_proto', 'u32'], ['priority', 'u32'],
  ['ingress_ifindex', 'u32'], ['ifindex', 'u32'], ['tc_index', 'u32'],
  ['cb', 'u32'], [null, 'u32'], [null, 'u32'], [null, 'u32'], [null, 'u32'],
  ['hash', 'u32'], ['tc_classid', 'u32'], ['data', 'u32'], ['data_end', 'u32'], ['napi_id', 'u32'],
  ['family', 'u32'], ['remote_ip4', 'u32'], ['local_ip4', 'u32'],
  ['remote_ip6', 'u32'], [null, 'u32'], [null, 'u32'], [null, 'u32'],
  ['local_ip6', 'u32'], [null, 'u32'], [null, 'u32'], [null, 'u32'],
  ['remote_port', 'u32'], ['local_port', 'u32'], ['data_meta', 'u32'], ['flow_keys', 'u64'],
  ['tstamp', 'u64'], ['wire_len', 'u32'], ['gso_segs', 'u32'], ['sk', 'u64'], ['gso_size', 'u32'],
  ['tstamp_type', 'u8'], ['hwtstamp', 'u64'],
]);

/** Entries of __sk_buff.cb (QDISC_CB_PRIV_LEN / 4). */
export const SK_BUFF_CB_LEN = 5;

/** The __sk_buff fields a test run takes from userspace (net/bpf/test_run.c, Linux 6.18); any other non-zero byte is EINVAL. */
export const SK_BUFF_TAKEN: readonly (keyof typeof SK_BUFF.fields)[] = [
  'mark', 'priority', 'ingress_ifindex', 'ifindex', 'cb', 'tstamp', 'wire_len', 'gso_segs', 'gso_size', 'hwtstamp',
];

/** The largest wire_len the kernel takes (GSO_LEGACY_MAX_SIZE) and gso_segs (GSO_MAX_SEGS). */
export const WIRE_LEN_MAX = 65536;
export const GSO_SEGS_MAX = 65535;

/**
 * struct xdp_md to give an XDP program's test run. Offsets are from the start of `data` as given;
 * what is not given is 0, except `dataEnd`, which defaults to the whole input.
 */
export interface XdpMdInit {
  readonly struct: 'xdp_md';
  /** bytes of metadata at the head of the input (data - data_meta): a multiple of 4; the packet follows */
  readonly data?: number;
  /**
   * end of the linear part (default: data.length). A smaller value leaves the rest of the input to
   * fragments (Linux 6.18 and the stable kernels that took it; older kernels want data.length)
   */
  readonly dataEnd?: number;
  /** the interface the packet came in on (in this network namespace); 0: loopback */
  readonly ingressIfindex?: number;
  /** its receive queue; needs ingressIfindex, below the interface's number of RX queues */
  readonly rxQueueIndex?: number;
}

/** struct xdp_md after the run. */
export interface XdpMd {
  readonly struct: 'xdp_md';
  /** bytes of metadata at the head of the output packet */
  readonly data: number;
  /** end of the packet's linear part, from the start of the output */
  readonly dataEnd: number;
  readonly dataMeta: number;
  readonly ingressIfindex: number;
  readonly rxQueueIndex: number;
  readonly egressIfindex: number;
}

/** struct __sk_buff to give a TC (or other skb) program's test run: the fields the kernel takes; the rest is 0. */
export interface SkBuffInit {
  readonly struct: '__sk_buff';
  readonly mark?: number;
  readonly priority?: number;
  /** skb_iif: any number (no interface is looked up) */
  readonly ingressIfindex?: number;
  /** the device the skb is on: 0 or 1 is loopback; another must exist in this network namespace */
  readonly ifindex?: number;
  /** up to 5 u32 of control block (what tc programs pass each other) */
  readonly cb?: readonly number[];
  /** skb->tstamp, ns */
  readonly tstamp?: bigint | number;
  /** the packet's length on the wire (qdisc_skb_cb pkt_len): 0 (the input's length) or from data.length to 65536 */
  readonly wireLen?: number;
  /** at most 65535 */
  readonly gsoSegs?: number;
  readonly gsoSize?: number;
  /** hardware timestamp, ns */
  readonly hwtstamp?: bigint | number;
}

/** struct __sk_buff after the run: the fields the kernel writes back (and gso_size, as given). */
export interface SkBuff {
  readonly struct: '__sk_buff';
  readonly mark: number;
  readonly priority: number;
  readonly ingressIfindex: number;
  /** the device the skb was on (1: loopback) */
  readonly ifindex: number;
  readonly cb: readonly number[];
  readonly tstamp: bigint;
  readonly wireLen: number;
  readonly gsoSegs: number;
  readonly gsoSize: number;
  readonly hwtstamp: bigint;
}

export type TestRunCtxInit = XdpMdInit | SkBuffInit;

/** The bytes of a typed context (its struct's size; fields not given are 0). */
export function encodeCtx(c: TestRunCtxInit, dataLength: number): Uint8Array {
  if (c.struct === 'xdp_md') {
    const b = new Uint8Array(XDP_MD.size);
    const v = new DataView(b.buffer);
    v.setUint32(XDP_MD.off.data, c.data ?? 0, true);
    v.setUint32(XDP_MD.off.data_end, c.dataEnd ?? dataLength, true);
    v.setUint32(XDP_MD.off.ingress_ifindex, c.ingressIfindex ?? 0, true);
    v.setUint32(XDP_MD.off.rx_queue_index, c.rxQueueIndex ?? 0, true);
    return b;
  }
  const b = new Uint8Array(SK_BUFF.size);
  const v = new DataView(b.buffer);
  const O = SK_BUFF.off;
  v.setUint32(O.mark, c.mark ?? 0, true);
  v.setUint32(O.priority, c.priority ?? 0, true);
  v.setUint32(O.ingress_ifindex, c.ingressIfindex ?? 0, true);
  v.setUint32(O.ifindex, c.ifindex ?? 0, true);
  (c.cb ?? []).forEach((x, i) => v.setUint32(O.cb + 4 * i, x, true));
  v.setBigUint64(O.tstamp, BigInt(c.tstamp ?? 0), true);
  v.setUint32(O.wire_len, c.wireLen ?? 0, true);
  v.setUint32(O.gso_segs, c.gsoSegs ?? 0, true);
  v.setUint32(O.gso_size, c.gsoSize ?? 0, true);
  v.setBigUint64(O.hwtstamp, BigInt(c.hwtstamp ?? 0), true);
  return b;
}

/** A context the kernel gave back, as the typed object of `kind` (missing bytes read as 0). */
export function decodeCtx(kind: 'xdp_md', b: Uint8Array): XdpMd;
export function decodeCtx(kind: '__sk_buff', b: Uint8Array): SkBuff;
export function decodeCtx(kind: TestRunCtxInit['struct'], b: Uint8Array): XdpMd | SkBuff;
export function decodeCtx(kind: TestRunCtxInit['struct'], b: Uint8Array): XdpMd | SkBuff {
  const size = kind === 'xdp_md' ? XDP_MD.size : SK_BUFF.size;
  const full = new Uint8Array(Math.max(size, b.length));
  full.set(b);
  const v = new DataView(full.buffer);
  const u32 = (o: number) => v.getUint32(o, true);
  if (kind === 'xdp_md') {
    const O = XDP_MD.off;
    return {
      struct: 'xdp_md', data: u32(O.data), dataEnd: u32(O.data_end), dataMeta: u32(O.data_meta),
      ingressIfindex: u32(O.ingress_ifindex), rxQueueIndex: u32(O.rx_queue_index), egressIfindex: u32(O.egress_ifindex),
    };
  }
  const O = SK_BUFF.off;
  return {
    struct: '__sk_buff', mark: u32(O.mark), priority: u32(O.priority), ingressIfindex: u32(O.ingress_ifindex), ifindex: u32(O.ifindex),
    cb: Array.from({ length: SK_BUFF_CB_LEN }, (_, i) => u32(O.cb + 4 * i)), tstamp: v.getBigUint64(O.tstamp, true),
    wireLen: u32(O.wire_len), gsoSegs: u32(O.gso_segs), gsoSize: u32(O.gso_size), hwtstamp: v.getBigUint64(O.hwtstamp, true),
  };
}

/** The fields of a raw __sk_buff that are set (non-zero) but that the kernel does not take, by their C names. */
export function skBuffFieldsNotTaken(b: Uint8Array): string[] {
  const taken = new Set<string>(SK_BUFF_TAKEN);
  const out: string[] = [];
  const fields = Object.entries(SK_BUFF.fields).sort((x, y) => x[1].offset - y[1].offset);
  // each named field spans up to the next one (arrays and padding included)
  for (let i = 0; i < fields.length; i++) {
    const [name, f] = fields[i];
    const end = i + 1 < fields.length ? fields[i + 1][1].offset : SK_BUFF.size;
    if (taken.has(name)) {
      // a taken field's padding after it (tstamp_type's 3 bytes are not taken: it is its own field)
      if (b.subarray(f.offset + f.size * (name === 'cb' ? SK_BUFF_CB_LEN : 1), Math.min(end, b.length)).some((x) => x !== 0)) out.push(`padding after ${name}`);
      continue;
    }
    if (b.subarray(f.offset, Math.min(end, b.length)).some((x) => x !== 0)) out.push(name);
  }
  if (b.length > SK_BUFF.size && b.subarray(SK_BUFF.size).some((x) => x !== 0)) out.push(`bytes past its ${SK_BUFF.size}`);
  return out;
}
