// BpfProgram.testRun: BPF_PROG_TEST_RUN as a whole capability, to unit-test XDP and TC programs
// without an interface. The input is checked against what the kernel takes before the syscall
// (TestRunArgumentError names the option), the output packet gets room for the largest packet
// the program type can make (so ENOSPC does not happen unless a smaller room is asked for, and
// then TestRunNoSpaceError says how much is needed), the context goes in and out as bytes or as
// a typed struct xdp_md / __sk_buff, and the kernel's refusals say what they mean for the input.
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE, attachTypeName, progTypeName } from '../syscall/types.js';
import { BPF_F_TEST, TestRunUnsupportedError, progTestRun, type TestRunAttr } from '../syscall/prog.js';
import { BpfArgumentError } from '../syscall/errors.js';
import { isU32, isU64 } from '../syscall/int-range.js';
import { ERRNO, errnoName } from '../syscall/errno.js';
import { pageSize } from '../syscall/mmap.js';
import { possibleCpus } from '../map/cpus.js';
import {
  GSO_SEGS_MAX, SK_BUFF, SK_BUFF_CB_LEN, WIRE_LEN_MAX, XDP_MD, decodeCtx, encodeCtx, skBuffFieldsNotTaken,
  type SkBuff, type SkBuffInit, type TestRunCtxInit, type XdpMd, type XdpMdInit,
} from './test-run-ctx.js';

/** A context to give: the raw bytes of the program type's context struct, or a typed xdp_md / __sk_buff. */
export type TestRunCtx = Uint8Array | TestRunCtxInit;

/** What the result's `ctx` is for a given `ctx`: the typed struct for a typed one, else bytes. */
export type TestRunCtxOut<C> = C extends XdpMdInit ? XdpMd : C extends SkBuffInit ? SkBuff : Uint8Array;

export interface TestRunOptions<C extends TestRunCtx = TestRunCtx> {
  /**
   * The packet, from its Ethernet header: at least 14 bytes (for XDP, after the metadata the
   * context declares). Packet programs (XDP, TC, socket filter, cgroup skb, LWT, flow dissector)
   * need one; raw tracepoint, syscall and sk_lookup programs take none.
   */
  data?: Uint8Array;
  /**
   * The context the program runs with: raw bytes of its struct (a prefix is enough; the rest is 0),
   * or typed, `{ struct: 'xdp_md', … }` for XDP and `{ struct: '__sk_buff', … }` for TC and the
   * other skb programs. The result's `ctx` is then the same kind, as the program left it.
   */
  ctx?: C;
  /**
   * How many runs (0 and 1: one); `duration` is their average. Up to 2^32 - 1. The runs share one
   * packet and context: each sees what the one before left (a rewrite is not undone in between), and
   * the result is the last one's.
   */
  repeat?: number;
  /**
   * Room for the output packet. Default: the most this program type can give back (XDP: a page,
   * and a page for each fragment of a packet over one page; skb programs: 64 KiB and a page, past
   * the largest packet the skb helpers make), so a packet never fails to fit. 0: no packet back.
   * A room smaller than the packet: TestRunNoSpaceError with the size needed.
   */
  dataSizeOut?: number;
  /** Room for the output context. Default: room for the context's struct when a ctx is given, else none. */
  ctxSizeOut?: number;
  /**
   * BPF_F_TEST flags: XDP_LIVE_FRAMES (XDP: the packets go on for real: XDP_TX out of loopback,
   * XDP_PASS into this namespace's stack; no packet, context or verdict comes back),
   * SKB_CHECKSUM_COMPLETE (skb programs), RUN_ON_CPU (raw tracepoints: set by `cpu`).
   */
  flags?: number;
  /** Raw tracepoint programs: the CPU to run on (sets BPF_F_TEST.RUN_ON_CPU). */
  cpu?: number;
  /** With XDP_LIVE_FRAMES: packets per batch, 1 to 256 (the kernel's default: 64). */
  batchSize?: number;
}

export interface TestRunResult<C = Uint8Array> {
  /** the program's return value: an XDP action (XDP_PASS = 2, …), a TC action (TC_ACT_OK = 0, …), … */
  retval: number;
  /** average ns per run, as the kernel measured it */
  duration: number;
  /**
   * The packet as the program left it (empty with dataSizeOut 0 or XDP_LIVE_FRAMES). XDP: starting
   * with its metadata, `ctx.data` bytes of it. Socket filter, cgroup skb and LWT programs see the
   * packet from its network header, and the kernel gives back a zeroed Ethernet header in front.
   */
  data: Uint8Array;
  /** The context as the program left it: bytes (empty when none was asked for), or the typed struct. */
  ctx: C;
}

/** A test-run option that cannot be right, found before the syscall; `option` names it. */
export class TestRunArgumentError extends BpfArgumentError {
  /** 'data', 'ctx', 'repeat', 'dataSizeOut', 'ctxSizeOut', 'flags', 'cpu', 'batchSize' */
  readonly option: string;
  constructor(what: string, option: string, message: string) {
    super('PROG_TEST_RUN', `${what}: ${option}: ${message}`);
    this.option = option;
  }
}

/** The program a test run is for (a BpfProgram's fd, type, expected attach type and name). */
export interface TestRunProgram {
  readonly fd: number;
  readonly type: number;
  readonly attachType: number;
  readonly name: string;
  /** the device it was loaded bound to, if this process knows */
  readonly boundTo?: { readonly ifindex: number; readonly interface: string };
}

const T = BPF_PROG_TYPE;
/** Program types that run on an skb (bpf_prog_test_run_skb). */
const SKB_TYPES: ReadonlySet<number> = new Set([T.SOCKET_FILTER, T.SCHED_CLS, T.SCHED_ACT, T.CGROUP_SKB, T.LWT_IN, T.LWT_OUT, T.LWT_XMIT]);
/** Program types the kernel has no test run for (their bpf_prog_ops have no test_run: ENOTSUPP), Linux 6.18. */
const NO_TEST_RUN: ReadonlySet<number> = new Set([
  T.KPROBE, T.TRACEPOINT, T.PERF_EVENT, T.CGROUP_SOCK, T.SOCK_OPS, T.SK_SKB, T.CGROUP_DEVICE, T.SK_MSG,
  T.CGROUP_SOCK_ADDR, T.LIRC_MODE2, T.LWT_SEG6LOCAL, T.SK_REUSEPORT, T.CGROUP_SYSCTL, T.RAW_TRACEPOINT_WRITABLE,
  T.CGROUP_SOCKOPT, T.EXT, T.LSM,
]);
/** Program types that run once on a context alone: no packet, no repeat (raw tracepoint, syscall). */
const CTX_ONCE: ReadonlySet<number> = new Set([T.RAW_TRACEPOINT, T.SYSCALL]);

/** ETH_HLEN: every packet program's input starts with an Ethernet header. */
const ETH_HLEN = 14;
/** The network headers an skb test run reads, by EtherType: IPv4 (struct iphdr), IPv6 (struct ipv6hdr). */
const NETWORK_HEADER: Readonly<Record<number, { name: string; size: number }>> = { 0x0800: { name: 'IPv4', size: 20 }, 0x86dd: { name: 'IPv6', size: 40 } };
/** TEST_XDP_MAX_BATCH */
const XDP_BATCH_MAX = 256;
/** IP_MAX_MTU: what bpf_skb_change_head and bpf_skb_adjust_room grow a packet to at most (change_tail: SKB_MAX_ALLOC, less). */
const SKB_GROW_MAX = 0xffff;
/** Room for an output context: past every context struct the kernel gives back (__sk_buff: 192 bytes on 6.18). */
const CTX_ROOM = 1024;
/** The most room asked for an output: more than any test run gives back. */
const ROOM_MAX = 1 << 30;
const U32_MAX = 0xffffffff;

const FLAG_NAMES: Record<number, string> = {
  [BPF_F_TEST.RUN_ON_CPU]: 'RUN_ON_CPU', [BPF_F_TEST.XDP_LIVE_FRAMES]: 'XDP_LIVE_FRAMES', [BPF_F_TEST.SKB_CHECKSUM_COMPLETE]: 'SKB_CHECKSUM_COMPLETE',
};
const KNOWN_FLAGS = BPF_F_TEST.RUN_ON_CPU | BPF_F_TEST.XDP_LIVE_FRAMES | BPF_F_TEST.SKB_CHECKSUM_COMPLETE;

/** The context struct of a program type that has a typed one. */
function ctxStruct(type: number): TestRunCtxInit['struct'] | undefined {
  if (type === T.XDP) return 'xdp_md';
  if (SKB_TYPES.has(type)) return '__sk_buff';
  return undefined;
}

/** The BPF_F_TEST flags a program type takes. */
function flagsTaken(type: number): number {
  if (type === T.XDP) return BPF_F_TEST.XDP_LIVE_FRAMES;
  if (SKB_TYPES.has(type)) return BPF_F_TEST.SKB_CHECKSUM_COMPLETE;
  if (type === T.RAW_TRACEPOINT) return BPF_F_TEST.RUN_ON_CPU;
  return 0;
}

function flagList(flags: number): string {
  const names = Object.entries(FLAG_NAMES).filter(([bit]) => flags & Number(bit)).map(([, n]) => n);
  return names.length ? names.join(', ') : 'none';
}

/** The default room for the output packet: the largest packet this program type can give back. */
export function defaultDataRoom(type: number, dataLength: number, page = pageSize()): number {
  if (type === T.XDP) {
    // the linear part lives in one page (headroom, packet, skb_shared_info); a packet over it goes on
    // in fragments of a page each, and bpf_xdp_adjust_tail grows only the last one, up to its page
    return page * (1 + Math.ceil(dataLength / page));
  }
  if (SKB_TYPES.has(type)) return Math.max(dataLength, SKB_GROW_MAX) + page;
  // flow dissector: struct bpf_flow_keys (56 bytes)
  return dataLength + page;
}

interface Plan {
  attr: TestRunAttr;
  /** the typed context's struct, when the ctx given was typed */
  typed?: TestRunCtxInit['struct'];
}

/** Check the options against what the kernel takes for this program and size the outputs (no syscall). */
export function planTestRun(p: TestRunProgram, o: TestRunOptions): Plan {
  const what = `${progTypeName(p.type)} program${p.name ? ` ${p.name}` : ''}`;
  const bad = (option: string, message: string) => new TestRunArgumentError(what, option, message);
  if (NO_TEST_RUN.has(p.type)) {
    throw new TestRunUnsupportedError(ERRNO.ENOTSUPP, `${what}: the kernel has no test run for ${progTypeName(p.type)} programs (it runs XDP, TC, socket filter, cgroup skb, LWT, flow dissector, raw tracepoint, tracing, sk_lookup, syscall and netfilter programs)`);
  }
  if (p.type === T.XDP && (p.attachType === BPF_ATTACH_TYPE.XDP_DEVMAP || p.attachType === BPF_ATTACH_TYPE.XDP_CPUMAP)) {
    throw new TestRunUnsupportedError(ERRNO.EINVAL, `${what}: an XDP program for ${attachTypeName(p.attachType)} entries has no test run (the kernel runs only plain XDP programs)`);
  }
  if (p.boundTo) {
    // the kernel refuses with EINVAL: its kfuncs would be the device driver's, and a test run has no device
    throw new TestRunUnsupportedError(ERRNO.EINVAL, `${what}: a program bound to a device (${p.boundTo.interface}, ifindex ${p.boundTo.ifindex}) has no test run; load it unbound to test it (without calls of the XDP RX metadata kfuncs)`);
  }
  const u32 = (option: string, v: number | undefined, max = U32_MAX): number | undefined => {
    if (v === undefined) return undefined;
    if (!upTo(v, max)) throw bad(option, `must be an integer from 0 to ${max}, got ${String(v)}`);
    return v;
  };
  const repeat = u32('repeat', o.repeat);
  let flags = u32('flags', o.flags) ?? 0;
  const cpu = u32('cpu', o.cpu);
  const batchSize = u32('batchSize', o.batchSize);
  const dataSizeOut = u32('dataSizeOut', o.dataSizeOut, ROOM_MAX);
  const ctxSizeOut = u32('ctxSizeOut', o.ctxSizeOut, ROOM_MAX);
  const data = o.data;
  if (data !== undefined && !(data instanceof Uint8Array)) throw bad('data', `must be a Uint8Array, got ${typeof data}`);

  // flags: a known flag this program type does not take is a mistake; unknown bits are the kernel's to judge
  const misplaced = flags & KNOWN_FLAGS & ~flagsTaken(p.type);
  if (misplaced) throw bad('flags', `${flagList(misplaced)} is not for ${progTypeName(p.type)} programs (they take: ${flagList(flagsTaken(p.type))})`);
  if (cpu !== undefined) {
    if (p.type !== T.RAW_TRACEPOINT) throw bad('cpu', 'only raw tracepoint programs run on a chosen CPU');
    const n = possibleCpus();
    if (cpu >= n) throw bad('cpu', `CPU ${cpu} does not exist (this machine has ${n}: 0 to ${n - 1})`);
    flags |= BPF_F_TEST.RUN_ON_CPU;
  }
  const live = (flags & BPF_F_TEST.XDP_LIVE_FRAMES) !== 0;
  if (batchSize !== undefined && batchSize !== 0) {
    if (!live) throw bad('batchSize', 'is for XDP_LIVE_FRAMES runs (flags: BPF_F_TEST.XDP_LIVE_FRAMES)');
    if (batchSize > XDP_BATCH_MAX) throw bad('batchSize', `at most ${XDP_BATCH_MAX} packets a batch, got ${batchSize}`);
  }
  if (live && (dataSizeOut || ctxSizeOut)) {
    throw bad(dataSizeOut ? 'dataSizeOut' : 'ctxSizeOut', 'XDP_LIVE_FRAMES sends the packets on: no packet or context comes back');
  }

  const packetProgram = p.type === T.XDP || SKB_TYPES.has(p.type) || p.type === T.FLOW_DISSECTOR;
  if (packetProgram && !data) throw bad('data', `a ${progTypeName(p.type)} program runs on a packet: give one (at least ${ETH_HLEN} bytes, from the Ethernet header)`);

  // the context: typed or bytes, of the program type's struct
  let ctx: Uint8Array | undefined;
  let typed: TestRunCtxInit['struct'] | undefined;
  if (o.ctx !== undefined) {
    if (o.ctx instanceof Uint8Array) {
      ctx = o.ctx;
    } else if (typeof o.ctx === 'object' && o.ctx !== null && (o.ctx.struct === 'xdp_md' || o.ctx.struct === '__sk_buff')) {
      const want = ctxStruct(p.type);
      if (o.ctx.struct !== want) {
        throw bad('ctx', want ? `a ${progTypeName(p.type)} program's context is struct ${want}, not ${o.ctx.struct}` : `${progTypeName(p.type)} programs take their context as bytes, not a typed ${o.ctx.struct}`);
      }
      typed = o.ctx.struct;
      if (typed === '__sk_buff') checkSkBuffInit(o.ctx as SkBuffInit, data?.length ?? 0, bad);
      else checkXdpMdInit(o.ctx as XdpMdInit, bad);
      ctx = encodeCtx(o.ctx, data?.length ?? 0);
    } else {
      throw bad('ctx', "must be a Uint8Array or a typed context ({ struct: 'xdp_md', … } or { struct: '__sk_buff', … })");
    }
  }

  // the packet
  const meta = p.type === T.XDP && ctx ? checkXdpCtx(ctx, data!.length, bad) : 0;
  if (packetProgram && data) {
    if (data.length - meta < ETH_HLEN) {
      throw bad('data', `the packet is ${data.length - meta} bytes${meta ? ` after ${meta} bytes of metadata` : ''}; the kernel takes at least ${ETH_HLEN} (an Ethernet header)`);
    }
    // an skb test run reads the network header the EtherType announces (Linux 6.18: EINVAL when it is cut)
    const need = SKB_TYPES.has(p.type) ? NETWORK_HEADER[(data[12] << 8) | data[13]] : undefined;
    if (need && data.length < ETH_HLEN + need.size) {
      throw bad('data', `an ${need.name} packet (EtherType 0x${((data[12] << 8) | data[13]).toString(16).padStart(4, '0')}) must hold its ${need.size}-byte header: at least ${ETH_HLEN + need.size} bytes, got ${data.length}`);
    }
  } else if (data && (CTX_ONCE.has(p.type) || p.type === T.SK_LOOKUP)) {
    throw bad('data', `${progTypeName(p.type)} programs take no packet, only a context (ctx)`);
  }
  if (CTX_ONCE.has(p.type)) {
    if (repeat !== undefined && repeat > 1) throw bad('repeat', `${progTypeName(p.type)} programs run once (no repeat)`);
    if (ctxSizeOut) throw bad('ctxSizeOut', `${progTypeName(p.type)} programs give no context back${p.type === T.SYSCALL ? ' in ctx_out (the context they change is the result\'s ctx)' : ''}`);
  }

  const hasCtxOut = ctxStruct(p.type) !== undefined || p.type === T.FLOW_DISSECTOR || p.type === T.SK_LOOKUP;
  const attr: TestRunAttr = {
    data,
    // other program types give no packet back (tracing ones leave data_out as it was)
    dataSizeOut: live ? 0 : dataSizeOut ?? (data && packetProgram ? defaultDataRoom(p.type, data.length) : 0),
    ctx,
    ctxSizeOut: live ? 0 : ctxSizeOut ?? (ctx && hasCtxOut ? Math.max(ctx.length, CTX_ROOM) : 0),
    // raw tracepoint and syscall programs refuse any repeat, 1 included
    repeat: CTX_ONCE.has(p.type) ? 0 : repeat,
    flags,
    cpu,
    batchSize,
    ctxBack: p.type === T.SYSCALL,
  };
  return { attr, typed };
}

type Bad = (option: string, message: string) => TestRunArgumentError;

/** an integer 0 … max (max ≤ 2^32 − 1) */
const upTo = (v: unknown, max: number): v is number => isU32(v) && v <= max;

function checkU32(v: unknown, name: string, bad: Bad, max = U32_MAX): void {
  if (v !== undefined && !upTo(v, max)) throw bad('ctx', `${name} must be an integer from 0 to ${max}, got ${String(v)}`);
}

function checkU64(v: unknown, name: string, bad: Bad): void {
  if (v !== undefined && !isU64(v)) throw bad('ctx', `${name} must be a non-negative 64-bit integer (bigint, or a safe integer), got ${String(v)}`);
}

function checkXdpMdInit(c: XdpMdInit, bad: Bad): void {
  for (const k of ['data', 'dataEnd', 'ingressIfindex', 'rxQueueIndex'] as const) checkU32(c[k], k, bad);
}

function checkSkBuffInit(c: SkBuffInit, dataLength: number, bad: Bad): void {
  for (const k of ['mark', 'priority', 'ingressIfindex', 'ifindex', 'gsoSize'] as const) checkU32(c[k], k, bad);
  checkU32(c.gsoSegs, 'gsoSegs', bad, GSO_SEGS_MAX);
  checkU64(c.tstamp, 'tstamp', bad);
  checkU64(c.hwtstamp, 'hwtstamp', bad);
  if (c.cb !== undefined) {
    if (!Array.isArray(c.cb) || c.cb.length > SK_BUFF_CB_LEN) throw bad('ctx', `cb is an array of at most ${SK_BUFF_CB_LEN} u32 (__sk_buff.cb), got ${Array.isArray(c.cb) ? `${c.cb.length} entries` : typeof c.cb}`);
    c.cb.forEach((x, i) => checkU32(x, `cb[${i}]`, bad));
  }
  if (c.wireLen !== undefined && c.wireLen !== 0) {
    checkU32(c.wireLen, 'wireLen', bad);
    if (c.wireLen < dataLength || c.wireLen > WIRE_LEN_MAX) throw bad('ctx', `wireLen ${c.wireLen} must be 0 or from the packet's length (${dataLength}) to ${WIRE_LEN_MAX}`);
  }
}

/** The rules the kernel has for an XDP test run's struct xdp_md; returns the metadata length. */
function checkXdpCtx(ctx: Uint8Array, dataLength: number, bad: Bad): number {
  const md = decodeCtx('xdp_md', ctx.subarray(0, Math.min(ctx.length, XDP_MD.size)));
  if (md.dataMeta !== 0) throw bad('ctx', `xdp_md.data_meta must be 0 (the input starts with the metadata), got ${md.dataMeta}`);
  if (md.egressIfindex !== 0) throw bad('ctx', `xdp_md.egress_ifindex must be 0 (a test run has no egress interface), got ${md.egressIfindex}`);
  if (md.data % 4 !== 0) throw bad('ctx', `xdp_md.data (the metadata length) must be a multiple of 4, got ${md.data}`);
  // ctx bytes shorter than data_end's offset leave it 0 (then it is not checked here; the kernel says)
  if (ctx.length >= XDP_MD.off.data_end + 4) {
    if (md.dataEnd > dataLength) throw bad('ctx', `xdp_md.data_end ${md.dataEnd} is past the end of the input (${dataLength} bytes)`);
    if (md.data > md.dataEnd) throw bad('ctx', `xdp_md.data ${md.data} (the metadata length) is past data_end ${md.dataEnd}`);
  }
  if (md.rxQueueIndex !== 0 && md.ingressIfindex === 0) throw bad('ctx', `xdp_md.rx_queue_index ${md.rxQueueIndex} needs ingress_ifindex (the queue of which interface?)`);
  return md.data;
}

/** What an errno from the kernel means for this program and these options. */
function explain(p: TestRunProgram, o: TestRunOptions, attr: TestRunAttr, code: number): string {
  const type = progTypeName(p.type);
  const what = `${type} program${p.name ? ` ${p.name}` : ''}`;
  const n = attr.data?.length ?? 0;
  const page = pageSize();
  const ctxNote = (): string[] => {
    if (!attr.ctx) return [];
    if (p.type === T.XDP) {
      const md = decodeCtx('xdp_md', attr.ctx.subarray(0, Math.min(attr.ctx.length, XDP_MD.size)));
      const out: string[] = [];
      if (md.data) out.push(`${md.data} bytes of metadata may be over the kernel's limit (216 on Linux 6.18: XDP_PACKET_HEADROOM less struct xdp_frame; 32 on older kernels)`);
      if (md.dataEnd !== n) out.push(`xdp_md.data_end ${md.dataEnd} is not the input's length ${n} (kernels before 6.18 want it to be)`);
      if (md.rxQueueIndex) out.push(`rx_queue_index ${md.rxQueueIndex} may not be a receive queue of interface ${md.ingressIfindex}`);
      return out;
    }
    if (SKB_TYPES.has(p.type)) {
      const extra = skBuffFieldsNotTaken(attr.ctx);
      return extra.length ? [`the __sk_buff sets fields the kernel does not take: ${extra.join(', ')} (it takes mark, priority, ingress_ifindex, ifindex, cb, tstamp, wire_len, gso_segs, gso_size, hwtstamp)`] : [];
    }
    return [];
  };
  const reasons: string[] = [];
  switch (code) {
    case ERRNO.EINVAL:
      if (p.type === T.XDP) {
        if ((attr.flags ?? 0) & BPF_F_TEST.XDP_LIVE_FRAMES) reasons.push(`with XDP_LIVE_FRAMES the packet (${n} bytes) must fit a page with the kernel's headroom (about ${page - 640} bytes)`);
        reasons.push(...ctxNote());
        if (!p.attachType) reasons.push('the program may be for devmap or cpumap entries, or bound to a device');
      } else if (SKB_TYPES.has(p.type)) {
        // bpf_test_init: the packet, NET_SKB_PAD of headroom and skb_shared_info fit in a page
        if (n > page - 384) reasons.push(`the packet (${n} bytes) may be longer than an skb test run takes (a page less headroom and skb_shared_info: ${page - 384} bytes with ${page}-byte pages on x86-64)`);
        reasons.push(...ctxNote());
      } else if (CTX_ONCE.has(p.type)) {
        reasons.push(`the context (${attr.ctx?.length ?? 0} bytes) may be shorter than the program reads, or longer than the kernel takes`);
      }
      return `${what}: the kernel refused the input${reasons.length ? `: ${reasons.join('; ')}` : ''}`;
    case ERRNO.ENODEV:
      return `${what}: the context names an interface that is not in this network namespace (${p.type === T.XDP ? 'xdp_md.ingress_ifindex' : '__sk_buff.ifindex'})`;
    case ERRNO.E2BIG:
      if (o.batchSize && o.batchSize > XDP_BATCH_MAX) return `${what}: batchSize is over ${XDP_BATCH_MAX}`;
      return `${what}: the context (${attr.ctx?.length ?? 0} bytes) is longer than the kernel's struct${p.type === T.XDP ? ` xdp_md (${XDP_MD.size} bytes on 6.18)` : SKB_TYPES.has(p.type) ? ` __sk_buff (${SK_BUFF.size} bytes on 6.18)` : ''} and its extra bytes are not zero`;
    case ERRNO.ENOMEM:
      if (p.type === T.XDP && n > page) return `${what}: the packet (${n} bytes) needs more fragments than an xdp_buff holds (17 fragments of a page after the linear part)`;
      return `${what}: the kernel could not allocate the run's memory`;
    case ERRNO.EINTR:
      return `${what}: a signal came during the runs${attr.repeat ? ` (repeat ${attr.repeat}): ask for fewer` : ''}`;
    case ERRNO.ENOSPC:
      return `${what}: the output packet's fragments did not fit the room given (dataSizeOut ${attr.dataSizeOut})`;
    case ERRNO.ENOTSUPP:
      return `${what}: the kernel has no test run for ${type} programs`;
    case ERRNO.EPERM:
    case ERRNO.EACCES:
      return `${what}: the kernel refused to run it (missing privileges, kernel.unprivileged_bpf_disabled, lockdown or an LSM)`;
    case ERRNO.EFAULT:
      return `${what}: the kernel could not read the input or write the output`;
    default:
      if (errnoName(code) === 'ENXIO') return `${what}: CPU ${attr.cpu} is not online`;
      return what;
  }
}

/**
 * BPF_PROG_TEST_RUN of program `p` (see BpfProgram.testRun). Leaves nothing behind: the buffers
 * are the call's scratch memory.
 */
export function testRun<C extends TestRunCtx>(p: TestRunProgram, o: TestRunOptions<C>): TestRunResult<TestRunCtxOut<C>> {
  const plan = planTestRun(p, o);
  const out = progTestRun(p.fd, plan.attr, (code) => explain(p, o, plan.attr, code));
  const ctx = plan.typed ? decodeCtx(plan.typed, out.ctx) : out.ctx;
  return { retval: out.retval, duration: out.duration, data: out.data, ctx: ctx as TestRunCtxOut<C> };
}
