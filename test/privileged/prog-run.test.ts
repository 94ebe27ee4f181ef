// BPF_PROG_TEST_RUN against the kernel: real XDP and TC programs run on crafted packets without an
// interface. xdp_dnat.o and tc_proxy.o rewrite a UDP packet's destination (checked byte for byte,
// checksums recomputed here); bpf/prog_run_net.c grows packets as far as the kernel lets them
// (the default room must hold them) and reads and writes its context (xdp_md, __sk_buff). Then the
// errors (the kernel agrees with what testRun refuses before the syscall), and `tsbpf prog run`
// against `bpftool prog run` on the same pinned programs. No fd or pin is left.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { loadObject } from '../../lib/object/load.js';
import type { BpfObject } from '../../lib/object/object.js';
import { BpfProgram } from '../../lib/program/program.js';
import { TestRunArgumentError } from '../../lib/program/test-run.js';
import { BPF_F_TEST, TestRunError, TestRunNoSpaceError, TestRunUnsupportedError, progLoad, progTestRun } from '../../lib/syscall/prog.js';
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../../lib/syscall/types.js';
import { ClosedError } from '../../lib/syscall/errors.js';

const XDP_PASS = 2;
const TC_ACT_OK = 0;
const openFds = () => readdirSync('/proc/self/fd').length;

/** 16-bit one's complement sum of `b` (big-endian words), folded. */
function sum16(b: Uint8Array, start = 0): number {
  let s = start;
  for (let i = 0; i < b.length; i += 2) s += (b[i] << 8) | (b[i + 1] ?? 0);
  while (s > 0xffff) s = (s & 0xffff) + (s >>> 16);
  return s;
}

/** An Ethernet + IPv4 + UDP frame with both checksums right. */
function udp4(src: readonly number[], dst: readonly number[], sport: number, dport: number, payload: Uint8Array): Uint8Array {
  const ipLen = 20 + 8 + payload.length;
  const f = new Uint8Array(14 + ipLen);
  const v = new DataView(f.buffer);
  f.set([2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2], 0);
  v.setUint16(12, 0x0800);
  f.set([0x45, 0], 14);
  v.setUint16(16, ipLen);
  v.setUint16(18, 0x1234);
  f[22] = 64;
  f[23] = 17;
  f.set(src, 26);
  f.set(dst, 30);
  v.setUint16(24, ~sum16(f.subarray(14, 34)) & 0xffff);
  v.setUint16(34, sport);
  v.setUint16(36, dport);
  v.setUint16(38, 8 + payload.length);
  f.set(payload, 42);
  v.setUint16(40, udpChecksum(f));
  return f;
}

/** The UDP checksum the frame's headers call for (pseudo header + UDP header and payload, check field 0). */
function udpChecksum(f: Uint8Array): number {
  const udp = f.slice(34, 14 + new DataView(f.buffer, f.byteOffset).getUint16(16));
  udp[6] = 0;
  udp[7] = 0;
  const pseudo = new Uint8Array([...f.subarray(26, 34), 0, 17, udp.length >> 8, udp.length & 0xff]);
  const c = ~sum16(udp, sum16(pseudo)) & 0xffff;
  return c === 0 ? 0xffff : c;
}

function checksumsRight(f: Uint8Array): void {
  expect(sum16(f.subarray(14, 34)), 'IPv4 header checksum').to.equal(0xffff);
  expect(new DataView(f.buffer, f.byteOffset).getUint16(40), 'UDP checksum').to.equal(udpChecksum(f));
}

/** struct service / struct endpoint of example_net.h (network byte order) */
const service = (addr: readonly number[], port: number) => new Uint8Array([...addr, port >> 8, port & 0xff, 17, 0]);
const endpoint = (addr: readonly number[], port: number) => new Uint8Array([...addr, port >> 8, port & 0xff, 0, 0]);

const VIP = [10, 99, 0, 1];
const BACKEND = [10, 99, 0, 7];
const CLIENT = [10, 99, 0, 2];
const payload = new TextEncoder().encode('tsbpf prog run\n');

const tsbpf = (args: string[], input?: Uint8Array) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { input, encoding: 'utf8' });
const bpftool = (args: string[], input?: Uint8Array) => spawnSync('bpftool', args, { input, encoding: 'utf8' });
const noDuration = (s: string) => s.replace(/duration( \(average\))?: \d+ns/g, 'duration$1: Nns').replace(/"duration": ?\d+/g, '"duration":N');

describe('BPF_PROG_TEST_RUN: XDP and TC programs on crafted packets', function () {
  this.timeout(120_000);
  let fdsBefore = 0;
  let dnat: BpfObject;
  let proxy: BpfObject;
  let net: BpfObject;
  const frame = udp4(CLIENT, VIP, 40000, 53, payload);

  before(function () {
    requirePrivileged(this);
    fdsBefore = openFds();
    dnat = loadObject('bpf/xdp_dnat.o');
    dnat.maps.get('services')!.update(service(VIP, 53), endpoint(BACKEND, 5353));
    proxy = loadObject('bpf/tc_proxy.o');
    proxy.maps.get('egress_nat')!.update(service(VIP, 53), endpoint(BACKEND, 5353));
    net = loadObject('bpf/prog_run_net.o');
  });
  after(() => {
    dnat?.close();
    proxy?.close();
    net?.close();
    if (fdsBefore) expect(openFds(), 'fds left open').to.be.at.most(fdsBefore);
  });

  /** The frame with its destination rewritten to the backend, checksums recomputed. */
  const rewritten = () => udp4(CLIENT, BACKEND, 40000, 5353, payload);

  it('XDP (xdp_dnat): XDP_PASS, destination rewritten to the backend, both checksums right; other packets untouched', () => {
    const r = dnat.program('xdp_dnat').testRun({ data: frame });
    expect(r.retval).to.equal(XDP_PASS);
    expect(r.data).to.deep.equal(rewritten());
    checksumsRight(r.data);
    expect(r.ctx).to.deep.equal(new Uint8Array(0));
    expect(r.duration).to.be.a('number');
    const other = udp4(CLIENT, VIP, 40000, 80, payload);
    const o = dnat.program('xdp_dnat').testRun({ data: other });
    expect([o.retval, o.data]).to.deep.equal([XDP_PASS, other]);
  });

  it('TC (tc_proxy egress, bpf_l3/l4_csum_replace): TC_ACT_OK and the same rewrite', () => {
    const r = proxy.program('proxy_egress').testRun({ data: frame });
    expect(r.retval).to.equal(TC_ACT_OK);
    expect(r.data).to.deep.equal(rewritten());
    checksumsRight(r.data);
  });

  it('repeat > 1: the same verdict and packet (the runs share the packet: the second run sees the rewrite)', () => {
    const counter = dnat.maps.get('rewritten')!;
    const count = () => (counter.lookup(0) as bigint[]).reduce((a, b) => a + b, 0n);
    const before = count();
    const r = dnat.program('xdp_dnat').testRun({ data: frame, repeat: 1000 });
    expect([r.retval, r.data]).to.deep.equal([XDP_PASS, rewritten()]);
    expect(count() - before, 'rewrites counted: only the first run found the VIP').to.equal(1n);
    const t = proxy.program('proxy_egress').testRun({ data: frame, repeat: 50 });
    expect([t.retval, t.data]).to.deep.equal([TC_ACT_OK, rewritten()]);
    // a program that changes its context each run shows the sharing: mark + 1 per run
    const c = net.program('tc_ctx').testRun({ data: frame, repeat: 3, ctx: { struct: '__sk_buff', mark: 10 } });
    expect(c.ctx.mark).to.equal(13);
  });

  it('__sk_buff in and out, typed: the fields the kernel takes go in, the program\'s changes come back', () => {
    const r = net.program('tc_ctx').testRun({
      data: frame, ctx: { struct: '__sk_buff', mark: 0x41, priority: 3, ingressIfindex: 7, cb: [0, 0, 0, 0, 9], wireLen: 100, gsoSegs: 2, tstamp: 123n },
    });
    expect(r.retval, 'the verdict is cb[4] as given').to.equal(9);
    expect(r.ctx).to.deep.equal({
      struct: '__sk_buff', mark: 0x42, priority: 6, ingressIfindex: 7, ifindex: 1, cb: [7, 1, 100, frame.length, 9],
      tstamp: 123n, wireLen: 100, gsoSegs: 2, gsoSize: 0, hwtstamp: 0n,
    });
    expect(r.data[0], 'the first byte became the low byte of the mark').to.equal(0x41);
    expect(r.data.subarray(1)).to.deep.equal(frame.subarray(1));
    // the same as bytes: the kernel's 192-byte struct comes back
    const raw = new Uint8Array(192);
    new DataView(raw.buffer).setUint32(8, 5, true);
    const b = net.program('tc_ctx').testRun({ data: frame, ctx: raw });
    expect(b.ctx.length).to.equal(192);
    expect(new DataView(b.ctx.buffer).getUint32(8, true)).to.equal(6);
    // a context out without one in: what the kernel made (ifindex 1, wire_len the packet's length)
    const made = new DataView(net.program('tc_ctx').testRun({ data: frame, ctxSizeOut: 192 }).ctx.buffer);
    expect([made.getUint32(40, true), made.getUint32(160, true)]).to.deep.equal([1, frame.length]);
  });

  it('xdp_md in and out: metadata before the packet, ingress interface and queue', () => {
    const meta = new Uint8Array([0x2a, 0, 0, 0]);
    const r = net.program('xdp_ctx').testRun({ data: new Uint8Array([...meta, ...frame]), ctx: { struct: 'xdp_md', data: 4 } });
    expect(r.retval, 'the first metadata word').to.equal(0x2a);
    expect(r.ctx).to.deep.equal({ struct: 'xdp_md', data: 4, dataEnd: 4 + frame.length, dataMeta: 0, ingressIfindex: 0, rxQueueIndex: 0, egressIfindex: 0 });
    expect(r.data).to.deep.equal(new Uint8Array([...meta, ...frame]));
    const lo = net.program('xdp_ctx').testRun({ data: frame, ctx: { struct: 'xdp_md', ingressIfindex: 1 } });
    expect([lo.retval, lo.ctx.ingressIfindex]).to.deep.equal([16, 1]);
    expect(() => net.program('xdp_ctx').testRun({ data: frame, ctx: { struct: 'xdp_md', ingressIfindex: 1, rxQueueIndex: 5 } }))
      .to.throw(TestRunError, /EINVAL.*rx_queue_index 5 may not be a receive queue of interface 1/);
    expect(() => net.program('xdp_ctx').testRun({ data: frame, ctx: { struct: 'xdp_md', ingressIfindex: 0x7ffffff0 } }))
      .to.throw(TestRunError, /ENODEV.*not in this network namespace \(xdp_md.ingress_ifindex\)/);
  });

  it('the default room holds the largest packet a program makes; a smaller one is TestRunNoSpaceError with the size needed', () => {
    for (const [name, len] of [['xdp_grow', 64], ['xdp_grow', 5000], ['xdp_grow', 73152], ['tc_grow', 64]] as const) {
      const data = new Uint8Array(len);
      data[12] = 8;
      const r = net.program(name).testRun({ data });
      expect(r.data.length, `${name} on ${len} bytes grew`).to.be.above(len);
      // the same run with room to spare gives the same packet: the default cut nothing
      expect(net.program(name).testRun({ data, dataSizeOut: 1 << 20 }).data).to.deep.equal(r.data);
    }
    let err: TestRunNoSpaceError | undefined;
    try {
      dnat.program('xdp_dnat').testRun({ data: frame, dataSizeOut: 20 });
    } catch (e) {
      err = e as TestRunNoSpaceError;
    }
    expect(err).to.be.instanceOf(TestRunNoSpaceError);
    expect(err).to.include({ output: 'data', needed: frame.length, room: 20, retval: XDP_PASS, errno: 'ENOSPC', cmd: 'PROG_TEST_RUN' });
    expect(err!.data).to.deep.equal(rewritten().subarray(0, 20));
    expect(err!.message).to.contain(`run it again with dataSizeOut: ${frame.length} or more`);
    expect(() => net.program('tc_ctx').testRun({ data: frame, ctx: { struct: '__sk_buff' }, ctxSizeOut: 24 }))
      .to.throw(TestRunNoSpaceError).that.includes({ output: 'ctx', needed: 192, room: 24 });
    // no room asked for: no packet back, and no error
    expect(net.program('tc_grow').testRun({ data: frame, dataSizeOut: 0 }).data.length).to.equal(0);
  });

  it('refuses before the syscall what the kernel would: short packets, a closed program, types without a test run', () => {
    expect(() => dnat.program('xdp_dnat').testRun({ data: frame.subarray(0, 13) })).to.throw(TestRunArgumentError, /at least 14/);
    // and the kernel agrees: 13 bytes is EINVAL, 14 runs; for an skb, an IPv4 packet needs its IP header
    expect(() => progTestRun(dnat.program('xdp_dnat').fd.value, { data: frame.subarray(0, 13) })).to.throw(TestRunError).with.property('errno', 'EINVAL');
    expect(progTestRun(dnat.program('xdp_dnat').fd.value, { data: frame.subarray(0, 14) }).retval).to.equal(XDP_PASS);
    const arp = Uint8Array.from(frame.subarray(0, 14), (b, i) => (i === 13 ? 6 : b));
    expect(progTestRun(proxy.program('proxy_egress').fd.value, { data: arp }).retval).to.equal(TC_ACT_OK);
    expect(() => progTestRun(proxy.program('proxy_egress').fd.value, { data: frame.subarray(0, 33) })).to.throw(TestRunError).with.property('errno', 'EINVAL');
    expect(() => proxy.program('proxy_egress').testRun({ data: frame.subarray(0, 33) })).to.throw(TestRunArgumentError, /IPv4 .* at least 34 bytes, got 33/);
    expect(proxy.program('proxy_egress').testRun({ data: frame.subarray(0, 34) }).retval).to.equal(TC_ACT_OK);
    const p = BpfProgram.fromFd(progLoad({ progType: BPF_PROG_TYPE.XDP, insns: retImm(XDP_PASS), license: 'GPL' }).fd);
    p.close();
    expect(() => p.testRun({ data: frame })).to.throw(ClosedError);
    // every type testRun turns away as having no test run, the kernel turns away with ENOTSUPP
    const T = BPF_PROG_TYPE;
    const A = BPF_ATTACH_TYPE;
    for (const [type, attach] of [
      [T.KPROBE], [T.TRACEPOINT], [T.PERF_EVENT], [T.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE], [T.SOCK_OPS], [T.SK_SKB], [T.CGROUP_DEVICE],
      [T.SK_MSG], [T.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT], [T.SK_REUSEPORT], [T.CGROUP_SYSCTL], [T.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT],
      [T.LWT_SEG6LOCAL], [T.RAW_TRACEPOINT_WRITABLE],
    ] as const) {
      const q = BpfProgram.fromFd(progLoad({ progType: type, insns: retImm(1), license: 'GPL', expectedAttachType: attach }).fd);
      try {
        expect(() => progTestRun(q.fd.value, { data: frame }), q.typeName).to.throw(TestRunUnsupportedError).with.property('errno', 'ENOTSUPP');
        expect(() => q.testRun({ data: frame }), q.typeName).to.throw(TestRunUnsupportedError, /has no test run/);
      } finally {
        q.close();
      }
    }
  });

  it('the kernel\'s refusals say what they mean for the input', () => {
    const raw = new Uint8Array(192);
    raw[0] = 1; // __sk_buff.len: not taken
    expect(() => proxy.program('proxy_egress').testRun({ data: frame, ctx: raw }))
      .to.throw(TestRunError, /EINVAL.*sets fields the kernel does not take: len/);
    expect(() => proxy.program('proxy_egress').testRun({ data: frame, ctx: { struct: '__sk_buff', ifindex: 0x7ffffff0 } }))
      .to.throw(TestRunError, /ENODEV.*__sk_buff.ifindex/);
    expect(() => proxy.program('proxy_egress').testRun({ data: new Uint8Array(5000) }))
      .to.throw(TestRunError, /EINVAL.*5000 bytes\) may be longer than an skb test run takes/);
    const tail = new Uint8Array(300);
    tail[250] = 1;
    expect(() => proxy.program('proxy_egress').testRun({ data: frame, ctx: tail })).to.throw(TestRunError, /E2BIG.*longer than the kernel's struct __sk_buff/);
  });

  it('XDP_LIVE_FRAMES: the packets go on (here dropped), nothing comes back', () => {
    const drop = BpfProgram.fromFd(progLoad({ progType: BPF_PROG_TYPE.XDP, insns: retImm(1), license: 'GPL' }).fd);
    try {
      const r = drop.testRun({ data: frame, flags: BPF_F_TEST.XDP_LIVE_FRAMES, repeat: 100, batchSize: 16 });
      expect([r.retval, r.data.length, r.ctx.length]).to.deep.equal([0, 0, 0]);
    } finally {
      drop.close();
    }
  });
});

/** r0 = imm; exit */
function retImm(imm: number): Uint8Array {
  return new Uint8Array([0xb7, 0, 0, 0, imm & 0xff, (imm >> 8) & 0xff, 0, 0, 0x95, 0, 0, 0, 0, 0, 0, 0]);
}

describe('tsbpf prog run against bpftool prog run', function () {
  this.timeout(120_000);
  let fs: TestBpffs;
  let dir: string;
  let fdsBefore = 0;
  const frame = udp4(CLIENT, VIP, 40000, 53, payload);
  const pin = (n: string) => path.join(fs.dir, n);
  const file = (n: string) => path.join(dir, n);

  before(function () {
    requirePrivileged(this);
    fdsBefore = openFds();
    fs = createTestBpffs();
    dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-prog-run-'));
    const dnat = loadObject('bpf/xdp_dnat.o');
    const net = loadObject('bpf/prog_run_net.o');
    try {
      dnat.maps.get('services')!.update(service(VIP, 53), endpoint(BACKEND, 5353));
      dnat.program('xdp_dnat').pin(pin('xdp_dnat'));
      net.program('tc_ctx').pin(pin('tc_ctx'));
      net.program('xdp_grow').pin(pin('xdp_grow'));
    } finally {
      dnat.close();
      net.close();
    }
    writeFileSync(file('frame'), frame);
    writeFileSync(file('badctx'), new Uint8Array([1, 0, 0, 0])); // __sk_buff.len: not taken
  });
  after(() => {
    fs?.cleanup();
    if (dir) rmSync(dir, { recursive: true, force: true });
    if (fdsBefore) expect(openFds(), 'fds left open').to.be.at.most(fdsBefore);
  });

  it('the verdict, the hex dump of data_out and -j/-p: bpftool\'s output (but the duration)', () => {
    for (const args of [
      ['prog', 'run', 'pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_out', '-'],
      ['prog', 'run', 'pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'repeat', '10'],
      ['prog', 'run', 'pinned', pin('xdp_grow'), 'data_in', file('frame'), 'data_out', '-'],
      ['-j', 'prog', 'run', 'pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_out', '-'],
      ['-p', 'prog', 'run', 'pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_out', '-', 'repeat', '3'],
    ]) {
      const ours = tsbpf(args);
      const theirs = bpftool(args);
      expect(theirs.status, theirs.stderr).to.equal(0);
      expect(ours.status, ours.stderr).to.equal(0);
      expect(noDuration(ours.stdout), args.join(' ')).to.equal(noDuration(theirs.stdout));
    }
    const j = JSON.parse(tsbpf(['prog', 'run', 'pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_out', '-', '-j']).stdout);
    expect(j.retval).to.equal(XDP_PASS);
    expect(new Uint8Array(j.data_out)).to.deep.equal(udp4(CLIENT, BACKEND, 40000, 5353, payload));
  });

  it('data and context through files and stdin: the same bytes as bpftool writes', () => {
    const ctx = new Uint8Array(192);
    new DataView(ctx.buffer).setUint32(8, 0x41, true); // mark
    new DataView(ctx.buffer).setUint32(64, 3, true); // cb[4]: the verdict
    writeFileSync(file('ctx'), ctx);
    for (const [tool, run] of [['ours', tsbpf], ['bpftool', bpftool]] as const) {
      const r = run(['prog', 'run', 'pinned', pin('tc_ctx'), 'data_in', '-', 'data_out', file(`data.${tool}`), 'ctx_in', file('ctx'), 'ctx_out', file(`ctx.${tool}`)], frame);
      expect(r.status, r.stderr).to.equal(0);
      expect(noDuration(r.stdout)).to.equal('Return value: 3, duration: Nns\n');
    }
    expect(readFileSync(file('data.ours'))).to.deep.equal(readFileSync(file('data.bpftool')));
    expect(readFileSync(file('ctx.ours'))).to.deep.equal(readFileSync(file('ctx.bpftool')));
    expect(readFileSync(file('ctx.ours')).readUInt32LE(8)).to.equal(0x42);
  });

  it('mistakes and refusals: one Error: line, status 1', () => {
    for (const [args, line] of [
      [['pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_size_out', '20'],
        /^Error: failed to run program: No space left on device: the output packet is 57 bytes, more than data_size_out 20 \(the program ran, retval 2\): give data_size_out 57 or more$/],
      [['pinned', pin('xdp_dnat'), 'data', file('frame')], /^Error: ambiguous prefix: 'data' could be 'data_in' or 'data_out' or 'data_size_out'$/],
      [['pinned', pin('xdp_dnat'), 'data_in', file('nope')], /^Error: failed to open .*nope: No such file or directory$/],
      [['pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_out', '/nonexistent/out'], /^Error: failed to open \/nonexistent\/out: No such file or directory$/],
      [['pinned', pin('xdp_dnat')], /^Error: a program runs on 'data_in FILE'/],
      [['pinned', pin('nope'), 'data_in', file('frame')], /^Error: bpf obj get \(.*nope\): No such file or directory$/],
      [['pinned', pin('tc_ctx'), 'data_in', file('frame'), 'ctx_in', file('badctx')], /^Error: failed to run program: PROG_TEST_RUN: EINVAL .*sets fields the kernel does not take: len /],
    ] as const) {
      const r = tsbpf(['prog', 'run', ...args]);
      expect(r.status, args.join(' ')).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr.split('\n').filter(Boolean)).to.have.length(1);
      expect(r.stderr.trim()).to.match(line);
    }
    // under -j the error is bpftool's {"error": …} on stdout
    const j = tsbpf(['prog', 'run', 'pinned', pin('xdp_dnat'), 'data_in', file('frame'), 'data_size_out', '20', '-j']);
    expect(j.status).to.equal(1);
    expect(JSON.parse(j.stdout).error).to.match(/No space left on device/);
  });
});
