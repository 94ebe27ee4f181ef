// Program commands of bpf(): load (with the verifier log), test run, attach/detach/query
// (the legacy cgroup/sockmap/flow-dissector and mprog TCX API), stats, bind map.
import { readFileSync } from 'node:fs';
import { bpfCall, bpfError, sysBpf, sysBpfUninterrupted } from './bpf.js';
import { ENABLE_STATS_ATTR, PROG_ATTACH_ATTR, PROG_BIND_MAP_ATTR, PROG_LOAD_ATTR, PROG_QUERY_ATTR, PROG_TEST_RUN_ATTR } from './attr.js';
import { setChars, setU64, writeStruct } from './layout.js';
import { NativeBuffer, cText, scratch } from './memory.js';
import { Fd } from './fd.js';
import { BPF_CMD, progTypeName } from './types.js';
import { ERRNO } from './errno.js';
import { BpfError, BpfPermissionError, VerifierError } from './errors.js';

export interface ProgLoadAttr {
  progType: number;
  /** instructions, 8 bytes each, in the target's byte order */
  insns: Uint8Array;
  license: string;
  name?: string;
  expectedAttachType?: number;
  attachBtfId?: number;
  attachBtfObjFd?: number;
  attachProgFd?: number;
  progBtfFd?: number;
  funcInfo?: Uint8Array;
  funcInfoRecSize?: number;
  lineInfo?: Uint8Array;
  lineInfoRecSize?: number;
  /** fds the instructions refer to by index (BPF_PSEUDO_MAP_IDX…) */
  fdArray?: readonly number[];
  kernVersion?: number;
  progFlags?: number;
  progIfindex?: number;
  progTokenFd?: number;
  /** 0: no log unless the load fails (then it is retried once with level 1 for the error); 1, 2, 4 as the kernel */
  logLevel?: number;
  /** log buffer size; default 4 MiB on failure retries, 1 MiB otherwise */
  logSize?: number;
}

export interface ProgLoadResult {
  fd: Fd;
  /** the verifier log when a log level was asked for ('' otherwise) */
  log: string;
  /** the size the full log needs (kernel >= 6.4; 0 before) */
  logTrueSize: number;
}

const LOG_DEFAULT = 1 << 20;
const LOG_ON_FAILURE = 4 << 20;

/** PROG_LOAD. A rejection throws VerifierError with the log (re-running with level 1 if none was asked). */
export function progLoad(a: ProgLoadAttr): ProgLoadResult {
  if (a.insns.length === 0 || a.insns.length % 8 !== 0) {
    throw bpfError('PROG_LOAD', ERRNO.EINVAL, `instructions must be a non-empty multiple of 8 bytes (got ${a.insns.length})`);
  }
  const first = attemptWithRoom(a, a.logLevel ?? 0, a.logSize ?? LOG_DEFAULT);
  if (first.r >= 0) return { fd: new Fd(first.r, `program ${a.name ?? ''}`.trim()), log: first.log, logTrueSize: first.trueSize };
  const code = -first.r;
  const what = `${progTypeName(a.progType)} program${a.name ? ` ${a.name}` : ''}`;
  if (code !== ERRNO.EINVAL && code !== ERRNO.EACCES && code !== ERRNO.ENOSPC && code !== ERRNO.E2BIG && code !== ERRNO.EFAULT) {
    const e = bpfError('PROG_LOAD', code, what);
    // EPERM with every capability held: bpfError found nothing missing, so say what else refuses a load
    if (code === ERRNO.EPERM && !(e instanceof BpfPermissionError)) throw bpfError('PROG_LOAD', code, `${what}: ${policyRefusal()}`);
    throw e;
  }
  let log = first.log;
  let truncated = code === ERRNO.ENOSPC;
  if (!a.logLevel) {
    // the first attempt ran without a log: run it again with one so the error says why
    const again = attemptWithRoom(a, 1, LOG_ON_FAILURE);
    if (again.r >= 0) {
      // loaded with a log after failing without: keep the program (the failure was transient)
      return { fd: new Fd(again.r, `program ${a.name ?? ''}`.trim()), log: '', logTrueSize: again.trueSize };
    }
    log = again.log;
    truncated = again.r === -ERRNO.ENOSPC;
  }
  throw new VerifierError('PROG_LOAD', code, log, truncated, what);
}

const LOG_MAX = 256 << 20;

/**
 * One load; if it failed only because the log did not fit (ENOSPC: since 6.4 a full log fails even a
 * valid program) and the kernel said how much room it needs (log_true_size), once more with that room.
 */
function attemptWithRoom(a: ProgLoadAttr, logLevel: number, logSize: number): { r: number; log: string; trueSize: number } {
  const r = attemptLoad(a, logLevel, logSize);
  if (r.r === -ERRNO.ENOSPC && logLevel > 0 && r.trueSize > logSize && r.trueSize <= LOG_MAX) return attemptLoad(a, logLevel, r.trueSize);
  return r;
}

function attemptLoad(a: ProgLoadAttr, logLevel: number, logSize: number): { r: number; log: string; trueSize: number } {
  const s = scratch();
  const at = s.attr(PROG_LOAD_ATTR.size);
  const log = logLevel > 0 ? s.alloc(logSize) : undefined;
  let fdArray = 0;
  if (a.fdArray && a.fdArray.length > 0) {
    const fa = s.alloc(a.fdArray.length * 4);
    for (let i = 0; i < a.fdArray.length; i++) fa.view.setInt32(i * 4, a.fdArray[i], true);
    fdArray = fa.address;
  }
  const insns = s.put(a.insns);
  const license = s.put(a.license);
  const funcInfo = a.funcInfo ? s.put(a.funcInfo) : 0;
  const lineInfo = a.lineInfo ? s.put(a.lineInfo) : 0;
  // field by field at the layout's offsets into the zeroed attr (the load path's writer: no object of
  // 25 optional fields walked by name); absent fields stay 0
  const view = s.view;
  const O = PROG_LOAD_ATTR.off;
  view.setUint32(at + O.prog_type, a.progType, true);
  view.setUint32(at + O.insn_cnt, a.insns.length / 8, true);
  setU64(view, at + O.insns, insns);
  setU64(view, at + O.license, license);
  view.setUint32(at + O.log_level, logLevel, true);
  if (log) {
    view.setUint32(at + O.log_size, logSize, true);
    setU64(view, at + O.log_buf, log.address);
  }
  view.setUint32(at + O.kern_version, a.kernVersion ?? 0, true);
  view.setUint32(at + O.prog_flags, a.progFlags ?? 0, true);
  if (a.name !== undefined) setChars(s.bytes, at, PROG_LOAD_ATTR, 'prog_name', a.name);
  view.setUint32(at + O.prog_ifindex, a.progIfindex ?? 0, true);
  view.setUint32(at + O.expected_attach_type, a.expectedAttachType ?? 0, true);
  view.setUint32(at + O.prog_btf_fd, a.progBtfFd ?? 0, true);
  if (a.funcInfo) {
    view.setUint32(at + O.func_info_rec_size, a.funcInfoRecSize ?? 0, true);
    setU64(view, at + O.func_info, funcInfo);
    if (a.funcInfoRecSize) view.setUint32(at + O.func_info_cnt, a.funcInfo.length / a.funcInfoRecSize, true);
  }
  if (a.lineInfo) {
    view.setUint32(at + O.line_info_rec_size, a.lineInfoRecSize ?? 0, true);
    setU64(view, at + O.line_info, lineInfo);
    if (a.lineInfoRecSize) view.setUint32(at + O.line_info_cnt, a.lineInfo.length / a.lineInfoRecSize, true);
  }
  view.setUint32(at + O.attach_btf_id, a.attachBtfId ?? 0, true);
  // one u32 slot: a BTF object fd (kernel module BTF) or a target program fd (freplace/fentry on BPF)
  view.setUint32(at + O.attach_prog_fd, a.attachProgFd ?? a.attachBtfObjFd ?? 0, true);
  setU64(view, at + O.fd_array, fdArray);
  view.setInt32(at + O.prog_token_fd, a.progTokenFd ?? 0, true);
  // the verifier gives up with EAGAIN when a signal is pending for the thread (a profiler's SIGPROF)
  const r = sysBpfUninterrupted(BPF_CMD.PROG_LOAD, s.base + at, PROG_LOAD_ATTR.size, ERRNO.EAGAIN);
  const trueSize = view.getUint32(at + PROG_LOAD_ATTR.off.log_true_size, true);
  return { r, log: log ? cText(log.bytes) : '', trueSize };
}

/** test.flags of PROG_TEST_RUN (BPF_F_TEST_*, linux/bpf.h). */
export const BPF_F_TEST = {
  /** run on `cpu` (raw tracepoint programs) */
  RUN_ON_CPU: 1 << 0,
  /** XDP: send the packets on for real (XDP_TX, XDP_REDIRECT, XDP_PASS into the stack), `batchSize` at a time */
  XDP_LIVE_FRAMES: 1 << 1,
  /** skb programs: the packet comes with CHECKSUM_COMPLETE (skb->csum computed over it) */
  SKB_CHECKSUM_COMPLETE: 1 << 2,
} as const;

/** What PROG_TEST_RUN takes, as the kernel takes it (BpfProgram.testRun checks and sizes it first). */
export interface TestRunAttr {
  data?: Uint8Array;
  /** room for the output packet; 0: none asked for (the kernel still reports its size). Default data.length + 256 */
  dataSizeOut?: number;
  ctx?: Uint8Array;
  /** room for the output context; 0 or absent: none asked for */
  ctxSizeOut?: number;
  repeat?: number;
  flags?: number;
  cpu?: number;
  batchSize?: number;
  /** read `ctx` back after the run: BPF_PROG_TYPE_SYSCALL programs write their context there, not to ctx_out */
  ctxBack?: boolean;
}

export interface TestRunOutput {
  retval: number;
  /** average ns per run as measured by the kernel */
  duration: number;
  /** the output packet (as much as the room held) */
  data: Uint8Array;
  /** the output context (or with `ctxBack`, the context input as the program left it) */
  ctx: Uint8Array;
  /** the output packet's whole size as the kernel reported it (packet programs: also when no room was asked for) */
  dataSize: number;
  /** the output context's whole size as the kernel reported it (0 when none was asked for) */
  ctxSize: number;
}

/** PROG_TEST_RUN refused by the kernel: the errno, and what it means for the program and input given. */
export class TestRunError extends BpfError {
  constructor(code: number, detail?: string, options?: { cause?: unknown }) {
    super('PROG_TEST_RUN', code, detail, options);
  }
}

/**
 * The kernel has no test run for this program: its type has none (ENOTSUPP: kprobes, tracepoints,
 * sockops, …), or it is an XDP program for devmap/cpumap entries (EINVAL). BpfProgram.testRun
 * throws it before the syscall when the program's type or attach type says so.
 */
export class TestRunUnsupportedError extends TestRunError {}

/**
 * ENOSPC: the program ran, but its output packet (or context) is larger than the room given for
 * it. The kernel copied what fit and reported the whole size: `needed` is the room to give.
 */
export class TestRunNoSpaceError extends TestRunError {
  /** which output did not fit */
  readonly output: 'data' | 'ctx';
  /** the whole size of that output */
  readonly needed: number;
  /** the room that was given (dataSizeOut or ctxSizeOut) */
  readonly room: number;
  /** the program's verdict and timing: the run itself happened */
  readonly retval: number;
  readonly duration: number;
  /** the first `room` bytes of the output packet (all of it when it was the context that did not fit) */
  readonly data: Uint8Array;

  constructor(o: { output: 'data' | 'ctx'; needed: number; room: number; retval: number; duration: number; data: Uint8Array }) {
    const what = o.output === 'data' ? 'output packet' : 'output context';
    const option = o.output === 'data' ? 'dataSizeOut' : 'ctxSizeOut';
    super(ERRNO.ENOSPC, `the ${what} is ${o.needed} bytes, more than the ${o.room} bytes of room given (${option}); the program ran (retval ${o.retval}): run it again with ${option}: ${o.needed} or more`);
    this.output = o.output;
    this.needed = o.needed;
    this.room = o.room;
    this.retval = o.retval;
    this.duration = o.duration;
    this.data = o.data;
  }
}

let outputs: NativeBuffer | undefined;

/**
 * Room for a test run's outputs, zeroed, kept from one run to the next (a run's room is often 64 KiB:
 * a new block each time costs more than the run). Zeroed because some program types (tracing) leave
 * data_size_out as it was given without writing a byte.
 */
function outputArea(size: number): NativeBuffer {
  if (!outputs || outputs.size < size) {
    outputs?.free();
    outputs = new NativeBuffer(Math.ceil(size / 4096) * 4096);
  } else {
    outputs.bytes.fill(0, 0, size);
  }
  return outputs;
}

/**
 * PROG_TEST_RUN (BPF_PROG_RUN) as the kernel takes it. Failures are TestRunError (TestRunNoSpaceError
 * when an output did not fit its room, TestRunUnsupportedError for ENOTSUPP), BpfPermissionError
 * when privileges are missing. `explain` adds what an errno means for the caller's input.
 */
export function progTestRun(progFd: number, o: TestRunAttr = {}, explain?: (code: number) => string | undefined): TestRunOutput {
  const s = scratch();
  const at = s.attr(PROG_TEST_RUN_ATTR.size);
  const room = o.dataSizeOut ?? (o.data ? o.data.length + 256 : 0);
  const ctxRoom = o.ctxSizeOut ?? 0;
  const out = room + ctxRoom > 0 ? outputArea(room + ctxRoom) : undefined;
  const dataOut = room > 0 ? { address: out!.address, bytes: out!.bytes.subarray(0, room) } : undefined;
  const ctxOut = ctxRoom > 0 ? { address: out!.address + room, bytes: out!.bytes.subarray(room, room + ctxRoom) } : undefined;
  const ctxIn = o.ctx && o.ctx.length > 0 ? s.alloc(o.ctx.length) : undefined;
  if (ctxIn) ctxIn.bytes.set(o.ctx!);
  const v = s.view;
  const O = PROG_TEST_RUN_ATTR.off;
  v.setUint32(at + O.prog_fd, progFd, true);
  if (o.data) {
    v.setUint32(at + O.data_size_in, o.data.length, true);
    setU64(v, at + O.data_in, s.put(o.data));
  }
  if (dataOut) {
    v.setUint32(at + O.data_size_out, room, true);
    setU64(v, at + O.data_out, dataOut.address);
  }
  v.setUint32(at + O.repeat, o.repeat ?? 0, true);
  if (ctxIn) {
    v.setUint32(at + O.ctx_size_in, ctxIn.bytes.length, true);
    setU64(v, at + O.ctx_in, ctxIn.address);
  }
  if (ctxOut) {
    v.setUint32(at + O.ctx_size_out, ctxRoom, true);
    setU64(v, at + O.ctx_out, ctxOut.address);
  }
  v.setUint32(at + O.flags, o.flags ?? 0, true);
  v.setUint32(at + O.cpu, o.cpu ?? 0, true);
  v.setUint32(at + O.batch_size, o.batchSize ?? 0, true);
  // a signal pending during the runs ends them with EINTR before anything is written back: run
  // again (not live frames: what they sent went out)
  const r = ((o.flags ?? 0) & BPF_F_TEST.XDP_LIVE_FRAMES) !== 0
    ? sysBpf(BPF_CMD.PROG_TEST_RUN, s.base + at, PROG_TEST_RUN_ATTR.size)
    : sysBpfUninterrupted(BPF_CMD.PROG_TEST_RUN, s.base + at, PROG_TEST_RUN_ATTR.size, ERRNO.EINTR);
  const retval = v.getUint32(at + O.retval, true);
  const duration = v.getUint32(at + O.duration, true);
  // the kernel writes the whole sizes back only when it finished the run
  const dataSize = v.getUint32(at + O.data_size_out, true);
  const ctxSize = v.getUint32(at + O.ctx_size_out, true);
  const data = dataOut ? dataOut.bytes.slice(0, Math.min(dataSize, room)) : new Uint8Array(0);
  if (r < 0) {
    const code = -r;
    if (code === ERRNO.ENOSPC && dataOut && dataSize > room) {
      throw new TestRunNoSpaceError({ output: 'data', needed: dataSize, room, retval, duration, data });
    }
    if (code === ERRNO.ENOSPC && ctxOut && ctxSize > ctxRoom) {
      throw new TestRunNoSpaceError({ output: 'ctx', needed: ctxSize, room: ctxRoom, retval, duration, data });
    }
    const detail = explain?.(code);
    const e = bpfError(BPF_CMD.PROG_TEST_RUN, code, detail);
    if (e instanceof BpfPermissionError) throw e;
    throw code === ERRNO.ENOTSUPP ? new TestRunUnsupportedError(code, detail) : new TestRunError(code, detail);
  }
  let ctx = new Uint8Array(0);
  if (o.ctxBack && ctxIn) ctx = ctxIn.bytes.slice();
  else if (ctxOut) ctx = ctxOut.bytes.slice(0, Math.min(ctxSize, ctxRoom));
  return { retval, duration, data, ctx, dataSize, ctxSize };
}

export interface ProgAttachAttr {
  /** cgroup/netns/sockmap fd, or an ifindex for TCX (set `ifindex`) */
  targetFd?: number;
  targetIfindex?: number;
  progFd: number;
  attachType: number;
  attachFlags?: number;
  replaceFd?: number;
  /** mprog anchors (TCX): with BPF_F_BEFORE/AFTER, an fd or (with BPF_F_ID) an id */
  relativeFd?: number;
  relativeId?: number;
  expectedRevision?: bigint | number;
}

function attachAttr(cmd: number, a: ProgAttachAttr): void {
  const s = scratch();
  const attr = s.alloc(PROG_ATTACH_ATTR.size);
  writeStruct(attr.view, 0, PROG_ATTACH_ATTR, {
    target_fd: a.targetFd ?? a.targetIfindex, attach_bpf_fd: a.progFd, attach_type: a.attachType,
    attach_flags: a.attachFlags, replace_bpf_fd: a.replaceFd, relative_fd: a.relativeFd ?? a.relativeId,
    expected_revision: a.expectedRevision,
  });
  bpfCall(cmd, attr.address, PROG_ATTACH_ATTR.size);
}

export function progAttach(a: ProgAttachAttr): void {
  attachAttr(BPF_CMD.PROG_ATTACH, a);
}

/** progFd may be 0 for attach types that detach whatever is there (legacy single-program hooks). */
export function progDetach(a: ProgAttachAttr): void {
  attachAttr(BPF_CMD.PROG_DETACH, a);
}

export interface ProgQueryResult {
  attachFlags: number;
  progIds: number[];
  progAttachFlags: number[];
  linkIds: number[];
  linkAttachFlags: number[];
  revision: bigint;
}

/** PROG_QUERY: what is attached at a hook (cgroup fd, or ifindex for TCX). */
export function progQuery(o: { targetFd?: number; targetIfindex?: number; attachType: number; queryFlags?: number; max?: number }): ProgQueryResult {
  const max = o.max ?? 64;
  const s = scratch();
  const attr = s.alloc(PROG_QUERY_ATTR.size);
  const ids = s.alloc(max * 4);
  const flags = s.alloc(max * 4);
  const links = s.alloc(max * 4);
  const linkFlags = s.alloc(max * 4);
  writeStruct(attr.view, 0, PROG_QUERY_ATTR, {
    target_fd: o.targetFd ?? o.targetIfindex, attach_type: o.attachType, query_flags: o.queryFlags,
    prog_ids: ids.address, prog_cnt: max, prog_attach_flags: flags.address,
    link_ids: links.address, link_attach_flags: linkFlags.address,
  });
  let r = sysBpf(BPF_CMD.PROG_QUERY, attr.address, PROG_QUERY_ATTR.size);
  if (r === -ERRNO.EINVAL) {
    // kernels before 6.6 know no link_ids / prog_attach_flags: ask again with the short form
    attr.view.setBigUint64(PROG_QUERY_ATTR.off.prog_attach_flags, 0n, true);
    attr.view.setBigUint64(PROG_QUERY_ATTR.off.link_ids, 0n, true);
    attr.view.setBigUint64(PROG_QUERY_ATTR.off.link_attach_flags, 0n, true);
    attr.view.setUint32(PROG_QUERY_ATTR.off.prog_cnt, max, true);
    r = sysBpf(BPF_CMD.PROG_QUERY, attr.address, PROG_QUERY_ATTR.off.prog_attach_flags);
  }
  if (r < 0) throw bpfError(BPF_CMD.PROG_QUERY, -r);
  const n = Math.min(attr.view.getUint32(PROG_QUERY_ATTR.off.prog_cnt, true), max);
  const u32s = (b: { view: DataView }) => Array.from({ length: n }, (_, i) => b.view.getUint32(i * 4, true));
  return {
    attachFlags: attr.view.getUint32(PROG_QUERY_ATTR.off.attach_flags, true),
    progIds: u32s(ids), progAttachFlags: u32s(flags), linkIds: u32s(links), linkAttachFlags: u32s(linkFlags),
    revision: attr.view.getBigUint64(PROG_QUERY_ATTR.off.revision, true),
  };
}

/** ENABLE_STATS: run-time statistics stay on while the returned fd is open. */
export function enableStats(type = 0): Fd {
  const s = scratch();
  const attr = s.alloc(ENABLE_STATS_ATTR.size);
  attr.view.setUint32(ENABLE_STATS_ATTR.off.type, type, true);
  return new Fd(bpfCall(BPF_CMD.ENABLE_STATS, attr.address, ENABLE_STATS_ATTR.size), 'stats');
}

/** PROG_BIND_MAP: keep a map alive with a program that does not reference it in code (.rodata metadata). */
export function progBindMap(progFd: number, mapFd: number, flags = 0): void {
  const s = scratch();
  const attr = s.alloc(PROG_BIND_MAP_ATTR.size);
  writeStruct(attr.view, 0, PROG_BIND_MAP_ATTR, { prog_fd: progFd, map_fd: mapFd, flags });
  bpfCall(BPF_CMD.PROG_BIND_MAP, attr.address, PROG_BIND_MAP_ATTR.size);
}

/**
 * Why a process with CAP_BPF, CAP_PERFMON and CAP_SYS_ADMIN gets EPERM from PROG_LOAD without a
 * verifier log: a kernel policy. A locked-down kernel refuses BPF trampoline programs (fentry, fexit,
 * fmod_ret, lsm) so; securityfs says the lockdown mode when it is mounted.
 */
function policyRefusal(): string {
  let mode: string | undefined;
  try {
    mode = /\[(\w+)\]/.exec(readFileSync('/sys/kernel/security/lockdown', 'utf8'))?.[1];
  } catch { /* securityfs not mounted, or no lockdown LSM */ }
  const lockdown = mode && mode !== 'none' ? `the kernel is locked down (${mode})` : 'a kernel policy such as lockdown (/sys/kernel/security/lockdown)';
  return `refused although no capability is missing: ${lockdown} refuses some program types here (trampoline programs — fentry, fexit, fmod_ret, lsm — on a locked-down kernel)`;
}
