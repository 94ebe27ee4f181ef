// BPF_PROG_TEST_RUN without a kernel: what BpfProgram.testRun refuses before the syscall (and the
// option it names), how it sizes the outputs, the xdp_md / __sk_buff layouts and their typed form,
// and `tsbpf prog run`'s argument words, hex dump and JSON as bpftool 7.1 has them.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { planTestRun, defaultDataRoom, TestRunArgumentError, type TestRunOptions, type TestRunProgram } from '../../lib/program/test-run.js';
import { SK_BUFF, XDP_MD, decodeCtx, encodeCtx, skBuffFieldsNotTaken } from '../../lib/program/test-run-ctx.js';
import { BPF_F_TEST, TestRunUnsupportedError } from '../../lib/syscall/prog.js';
import { BPF_ATTACH_TYPE, BPF_PROG_TYPE } from '../../lib/syscall/types.js';
import { BpfArgumentError } from '../../lib/syscall/errors.js';
import { pageSize } from '../../lib/syscall/mmap.js';
import { possibleCpus } from '../../lib/map/cpus.js';
import { hexDump, parseRunArgs, runText } from '../../lib/cli/prog-run.js';

const prog = (type: number, attachType = 0): TestRunProgram => ({ fd: -1, type, attachType, name: 'p' });
const XDP = prog(BPF_PROG_TYPE.XDP);
const TC = prog(BPF_PROG_TYPE.SCHED_CLS);
const RAW_TP = prog(BPF_PROG_TYPE.RAW_TRACEPOINT);
const pkt = (n = 64) => new Uint8Array(n);

/** planTestRun must throw TestRunArgumentError naming `option`, its message matching `text`. */
function refused(p: TestRunProgram, o: TestRunOptions, option: string, text: RegExp): void {
  let err: unknown;
  try {
    planTestRun(p, o);
  } catch (e) {
    err = e;
  }
  expect(err, `${option}: no error`).to.be.instanceOf(TestRunArgumentError);
  expect(err).to.be.instanceOf(BpfArgumentError);
  const e = err as TestRunArgumentError;
  expect(e.option).to.equal(option);
  expect(e.op).to.equal('PROG_TEST_RUN');
  expect(e.message).to.match(text);
}

describe('BpfProgram.testRun: checks before the syscall', () => {
  it('a packet program needs a packet of at least an Ethernet header (XDP: after its metadata)', () => {
    refused(XDP, {}, 'data', /runs on a packet/);
    refused(TC, { data: pkt(13) }, 'data', /13 bytes; the kernel takes at least 14/);
    refused(XDP, { data: pkt(0) }, 'data', /0 bytes/);
    expect(() => planTestRun(TC, { data: pkt(14) })).to.not.throw();
    // 8 bytes of metadata + 13 of packet: short; + 14: enough
    refused(XDP, { data: pkt(21), ctx: { struct: 'xdp_md', data: 8 } }, 'data', /13 bytes after 8 bytes of metadata/);
    expect(() => planTestRun(XDP, { data: pkt(22), ctx: { struct: 'xdp_md', data: 8 } })).to.not.throw();
    // skb programs: the IPv4 or IPv6 header the EtherType announces must be there
    const ip = (n: number, type: number) => Object.assign(pkt(n), { 12: type >> 8, 13: type & 0xff });
    refused(TC, { data: ip(33, 0x0800) }, 'data', /an IPv4 packet \(EtherType 0x0800\) must hold its 20-byte header: at least 34 bytes, got 33/);
    refused(prog(BPF_PROG_TYPE.SOCKET_FILTER), { data: ip(53, 0x86dd) }, 'data', /IPv6 .* at least 54 bytes, got 53/);
    expect(() => planTestRun(TC, { data: ip(34, 0x0800) })).to.not.throw();
    expect(() => planTestRun(TC, { data: ip(14, 0x0806) })).to.not.throw();
    expect(() => planTestRun(XDP, { data: ip(14, 0x0800) })).to.not.throw();
    refused(RAW_TP, { data: pkt() }, 'data', /take no packet/);
    refused(TC, { data: 'abc' as unknown as Uint8Array }, 'data', /Uint8Array/);
  });

  it('repeat, sizes and flags are integers in their range', () => {
    for (const v of [-1, 1.5, 2 ** 32, Number.NaN]) refused(XDP, { data: pkt(), repeat: v }, 'repeat', /integer from 0 to 4294967295/);
    refused(XDP, { data: pkt(), dataSizeOut: -1 }, 'dataSizeOut', /integer from 0/);
    refused(XDP, { data: pkt(), dataSizeOut: 2 ** 31 }, 'dataSizeOut', /to 1073741824/);
    refused(TC, { data: pkt(), ctxSizeOut: 0.5 }, 'ctxSizeOut', /integer/);
    expect(planTestRun(XDP, { data: pkt(), repeat: 2 ** 32 - 1 }).attr.repeat).to.equal(2 ** 32 - 1);
  });

  it('a flag of another program type, cpu and batchSize where they do not belong', () => {
    refused(TC, { data: pkt(), flags: BPF_F_TEST.XDP_LIVE_FRAMES }, 'flags', /XDP_LIVE_FRAMES is not for sched_cls programs \(they take: SKB_CHECKSUM_COMPLETE\)/);
    refused(XDP, { data: pkt(), flags: BPF_F_TEST.SKB_CHECKSUM_COMPLETE }, 'flags', /SKB_CHECKSUM_COMPLETE is not for xdp programs/);
    refused(XDP, { data: pkt(), flags: BPF_F_TEST.RUN_ON_CPU }, 'flags', /RUN_ON_CPU/);
    refused(XDP, { data: pkt(), cpu: 0 }, 'cpu', /only raw tracepoint/);
    refused(RAW_TP, { cpu: possibleCpus() }, 'cpu', /does not exist/);
    expect(planTestRun(RAW_TP, { cpu: 0 }).attr.flags).to.equal(BPF_F_TEST.RUN_ON_CPU);
    refused(XDP, { data: pkt(), batchSize: 8 }, 'batchSize', /XDP_LIVE_FRAMES/);
    refused(XDP, { data: pkt(), flags: BPF_F_TEST.XDP_LIVE_FRAMES, batchSize: 257 }, 'batchSize', /at most 256/);
    refused(XDP, { data: pkt(), flags: BPF_F_TEST.XDP_LIVE_FRAMES, dataSizeOut: 100 }, 'dataSizeOut', /no packet or context comes back/);
    const live = planTestRun(XDP, { data: pkt(), flags: BPF_F_TEST.XDP_LIVE_FRAMES, batchSize: 256 }).attr;
    expect([live.dataSizeOut, live.ctxSizeOut, live.batchSize]).to.deep.equal([0, 0, 256]);
    // a bit no kernel flag has yet is the kernel's to judge
    expect(planTestRun(TC, { data: pkt(), flags: 1 << 9 }).attr.flags).to.equal(1 << 9);
  });

  it('raw tracepoint and syscall programs: once, no context back', () => {
    refused(RAW_TP, { repeat: 2 }, 'repeat', /run once/);
    expect(planTestRun(RAW_TP, { repeat: 1, ctx: pkt(8) }).attr.repeat).to.equal(0);
    refused(RAW_TP, { ctx: pkt(8), ctxSizeOut: 8 }, 'ctxSizeOut', /give no context back/);
    const sys = planTestRun(prog(BPF_PROG_TYPE.SYSCALL), { ctx: pkt(8) }).attr;
    expect([sys.ctxBack, sys.ctxSizeOut, sys.dataSizeOut]).to.deep.equal([true, 0, 0]);
  });

  it('types without a test run, and XDP programs for devmap/cpumap entries: TestRunUnsupportedError', () => {
    for (const type of [BPF_PROG_TYPE.KPROBE, BPF_PROG_TYPE.TRACEPOINT, BPF_PROG_TYPE.SOCK_OPS, BPF_PROG_TYPE.SK_SKB, BPF_PROG_TYPE.CGROUP_SOCK_ADDR]) {
      expect(() => planTestRun(prog(type), { data: pkt() })).to.throw(TestRunUnsupportedError).with.property('errno', 'ENOTSUPP');
    }
    expect(() => planTestRun(prog(BPF_PROG_TYPE.XDP, BPF_ATTACH_TYPE.XDP_DEVMAP), { data: pkt() }))
      .to.throw(TestRunUnsupportedError, /xdp_devmap entries has no test run/).with.property('errno', 'EINVAL');
  });

  it('a typed context must be the program type\'s struct, with the fields in their range', () => {
    refused(XDP, { data: pkt(), ctx: { struct: '__sk_buff', mark: 1 } }, 'ctx', /context is struct xdp_md, not __sk_buff/);
    refused(TC, { data: pkt(), ctx: { struct: 'xdp_md' } }, 'ctx', /context is struct __sk_buff, not xdp_md/);
    refused(RAW_TP, { ctx: { struct: 'xdp_md' } }, 'ctx', /as bytes/);
    refused(TC, { data: pkt(), ctx: { mark: 1 } as never }, 'ctx', /Uint8Array or a typed context/);
    refused(TC, { data: pkt(), ctx: { struct: '__sk_buff', cb: [1, 2, 3, 4, 5, 6] } }, 'ctx', /at most 5/);
    refused(TC, { data: pkt(), ctx: { struct: '__sk_buff', mark: -1 } }, 'ctx', /mark must be an integer/);
    refused(TC, { data: pkt(), ctx: { struct: '__sk_buff', wireLen: 63 } }, 'ctx', /wireLen 63 must be 0 or from the packet's length \(64\) to 65536/);
    refused(TC, { data: pkt(), ctx: { struct: '__sk_buff', wireLen: 65537 } }, 'ctx', /wireLen/);
    refused(TC, { data: pkt(), ctx: { struct: '__sk_buff', gsoSegs: 65536 } }, 'ctx', /gsoSegs/);
    refused(TC, { data: pkt(), ctx: { struct: '__sk_buff', tstamp: -1n } }, 'ctx', /tstamp/);
    expect(() => planTestRun(TC, { data: pkt(), ctx: { struct: '__sk_buff', wireLen: 64, gsoSegs: 65535, tstamp: 2n ** 63n } })).to.not.throw();
  });

  it('struct xdp_md as the kernel has it: no data_meta or egress_ifindex, aligned metadata inside the input, a queue with its interface', () => {
    const md = (f: Partial<Record<keyof typeof XDP_MD.fields, number>>) => {
      const b = new Uint8Array(XDP_MD.size);
      for (const [k, v] of Object.entries(f)) new DataView(b.buffer).setUint32(XDP_MD.off[k as keyof typeof XDP_MD.fields], v, true);
      return b;
    };
    refused(XDP, { data: pkt(), ctx: md({ data_end: 64, data_meta: 4 }) }, 'ctx', /data_meta must be 0/);
    refused(XDP, { data: pkt(), ctx: md({ data_end: 64, egress_ifindex: 2 }) }, 'ctx', /egress_ifindex must be 0/);
    refused(XDP, { data: pkt(), ctx: md({ data: 6, data_end: 64 }) }, 'ctx', /multiple of 4, got 6/);
    refused(XDP, { data: pkt(), ctx: md({ data_end: 65 }) }, 'ctx', /data_end 65 is past the end of the input \(64 bytes\)/);
    refused(XDP, { data: pkt(), ctx: md({ data: 8, data_end: 4 }) }, 'ctx', /past data_end 4/);
    refused(XDP, { data: pkt(), ctx: { struct: 'xdp_md', rxQueueIndex: 1 } }, 'ctx', /rx_queue_index 1 needs ingress_ifindex/);
    // a prefix of the struct is what the kernel takes too (the rest is 0)
    expect(planTestRun(XDP, { data: pkt(), ctx: md({ data: 4 }).subarray(0, 4) }).attr.ctx!.length).to.equal(4);
  });

  it('sizes the outputs for the largest the program type gives back; ctx room only with a ctx', () => {
    const page = pageSize();
    expect(planTestRun(XDP, { data: pkt() }).attr.dataSizeOut).to.equal(2 * page);
    expect(planTestRun(XDP, { data: pkt(page + 1) }).attr.dataSizeOut).to.equal(3 * page);
    expect(defaultDataRoom(BPF_PROG_TYPE.XDP, 73152, 4096)).to.equal(4096 * 19);
    expect(planTestRun(TC, { data: pkt() }).attr.dataSizeOut).to.equal(0xffff + page);
    expect(planTestRun(TC, { data: pkt(), dataSizeOut: 0 }).attr.dataSizeOut).to.equal(0);
    expect(planTestRun(TC, { data: pkt(), dataSizeOut: 20 }).attr.dataSizeOut).to.equal(20);
    expect(planTestRun(TC, { data: pkt() }).attr.ctxSizeOut).to.equal(0);
    expect(planTestRun(TC, { data: pkt(), ctx: { struct: '__sk_buff' } }).attr.ctxSizeOut).to.equal(1024);
    expect(planTestRun(TC, { data: pkt(), ctx: new Uint8Array(2000) }).attr.ctxSizeOut).to.equal(2000);
    expect(planTestRun(XDP, { data: pkt(), ctx: { struct: 'xdp_md' } }).typed).to.equal('xdp_md');
    // tracing programs leave data_out alone: no room unless asked
    expect(planTestRun(prog(BPF_PROG_TYPE.TRACING), { data: pkt() }).attr.dataSizeOut).to.equal(0);
  });
});

describe('test-run contexts: struct xdp_md and struct __sk_buff', () => {
  it('the layouts are the UAPI header\'s (linux/bpf.h, 6.18)', () => {
    expect(XDP_MD.size).to.equal(24);
    expect(XDP_MD.off).to.deep.equal({ data: 0, data_end: 4, data_meta: 8, ingress_ifindex: 12, rx_queue_index: 16, egress_ifindex: 20 });
    expect(SK_BUFF.size).to.equal(192);
    expect(SK_BUFF.off).to.include({
      len: 0, mark: 8, priority: 32, ingress_ifindex: 36, ifindex: 40, tc_index: 44, cb: 48, hash: 68, data: 76, data_end: 80,
      remote_ip6: 100, local_ip6: 116, remote_port: 132, data_meta: 140, flow_keys: 144, tstamp: 152, wire_len: 160,
      gso_segs: 164, sk: 168, gso_size: 176, tstamp_type: 180, hwtstamp: 184,
    });
  });

  it('encodes a typed context at those offsets and decodes it back', () => {
    const x = encodeCtx({ struct: 'xdp_md', data: 8, ingressIfindex: 3, rxQueueIndex: 1 }, 100);
    expect(Array.from(new Uint32Array(x.buffer))).to.deep.equal([8, 100, 0, 3, 1, 0]);
    expect(decodeCtx('xdp_md', x)).to.deep.equal({ struct: 'xdp_md', data: 8, dataEnd: 100, dataMeta: 0, ingressIfindex: 3, rxQueueIndex: 1, egressIfindex: 0 });
    const s = encodeCtx({ struct: '__sk_buff', mark: 7, priority: 2, ingressIfindex: 4, ifindex: 1, cb: [9, 8], tstamp: 2n ** 40n, wireLen: 80, gsoSegs: 3, gsoSize: 1400, hwtstamp: 5 }, 64);
    const v = new DataView(s.buffer);
    expect([v.getUint32(8, true), v.getUint32(32, true), v.getUint32(48, true), v.getUint32(52, true), v.getBigUint64(152, true), v.getUint32(176, true)])
      .to.deep.equal([7, 2, 9, 8, 2n ** 40n, 1400]);
    expect(decodeCtx('__sk_buff', s)).to.deep.equal({
      struct: '__sk_buff', mark: 7, priority: 2, ingressIfindex: 4, ifindex: 1, cb: [9, 8, 0, 0, 0], tstamp: 2n ** 40n,
      wireLen: 80, gsoSegs: 3, gsoSize: 1400, hwtstamp: 5n,
    });
    expect(skBuffFieldsNotTaken(s)).to.deep.equal([]);
    // a shorter context reads as zeros past its end
    expect(decodeCtx('xdp_md', new Uint8Array([4, 0, 0, 0]))).to.include({ data: 4, dataEnd: 0 });
  });

  it('names the __sk_buff fields the kernel does not take', () => {
    const s = new Uint8Array(200);
    const v = new DataView(s.buffer);
    v.setUint32(SK_BUFF.off.len, 1, true);
    v.setUint32(SK_BUFF.off.mark, 1, true);
    v.setUint32(SK_BUFF.off.remote_ip6 + 8, 1, true);
    s[SK_BUFF.off.tstamp_type] = 1;
    s[196] = 1;
    expect(skBuffFieldsNotTaken(s)).to.deep.equal(['len', 'remote_ip6', 'tstamp_type', 'bytes past its 192']);
  });
});

describe('tsbpf prog run: arguments and output as bpftool', function () {
  this.timeout(60_000);

  it('reads the keywords by any unambiguous prefix, numbers as strtoul', () => {
    expect(parseRunArgs(['data_i', 'in.bin', 'data_o', '-', 'data_s', '0x100', 'ctx_i', 'c', 'ctx_o', 'co', 'ctx_s', '010', 'r', '5']))
      .to.deep.equal({ dataIn: 'in.bin', dataOut: '-', dataSizeOut: 256, ctxIn: 'c', ctxOut: 'co', ctxSizeOut: 8, repeat: 5 });
    expect(parseRunArgs(['ctx_in', '-'])).to.deep.equal({ ctxIn: '-' });
  });

  for (const [words, msg] of [
    [['data', 'f'], "ambiguous prefix: 'data' could be 'data_in' or 'data_out' or 'data_size_out'"],
    [['data_in', 'f', 'c', 'x'], "ambiguous prefix: 'c' could be 'ctx_in' or 'ctx_out' or 'ctx_size_out'"],
    [['data_in', 'f', 'bogus', '1'], "expected no more arguments, 'data_in', 'data_out', 'data_size_out', 'ctx_in', 'ctx_out', 'ctx_size_out' or 'repeat', got: 'bogus'?"],
    [['data_in', 'f', 'repeat', 'x'], "can't parse x as repeat number"],
    [['data_in', 'f', 'data_size_out', '12k'], "can't parse 12k as output data size"],
    [['data_in', 'f', 'ctx_size_out', '-1'], "can't parse -1 as output context size"],
    [['data_in', 'f', 'repeat', '4294967296'], 'repeat number 4294967296 is over 4294967295'],
    [['data_in', 'f', 'repeat'], "expected a number after 'repeat'"],
    [['data_in'], "expected a FILE (or -) after 'data_in'"],
    [['data_in', '-', 'ctx_in', '-'], 'cannot use standard input for both data_in and ctx_in'],
    [['repeat', '2'], "a program runs on 'data_in FILE' (a packet) and/or 'ctx_in FILE' (a context): give one"],
  ] as const) {
    it(`${words.join(' ')}: ${msg}`, () => {
      expect(() => parseRunArgs(words)).to.throw(msg);
    });
  }

  it('hex dump: bpftool\'s hex_print, byte for byte', () => {
    const b = new Uint8Array([0x02, 0x41, 0x41, 0x41, 0x41, 0x41, 0x42, 0x42, 0x42, 0x42, 0x42, 0x42, 0x08, 0x00, 0x00, 0x01, 0x7e, 0x7f, 0x20]);
    expect(hexDump(b)).to.equal(
      '0000000\t0241 4141 4141 4242 4242 4242 0800 0001 | .AAAAABB BBBB....\n'
      + '0000010\t7e7f 20                                 | ~. \n');
    expect(hexDump(new Uint8Array(0))).to.equal('');
  });

  it('prints the outputs sent to stdout, then the verdict; JSON with data_out/ctx_out arrays first', () => {
    const outcome = { retval: 2, duration: 31, data: new Uint8Array([1, 2]), ctx: new Uint8Array([3]) };
    expect(runText(outcome, { dataIn: 'f' }, {})).to.equal('Return value: 2, duration: 31ns\n');
    expect(runText(outcome, { dataIn: 'f', repeat: 2 }, {})).to.equal('Return value: 2, duration (average): 31ns\n');
    expect(runText(outcome, { dataIn: 'f', dataOut: '-', ctxOut: '-' }, {})).to.equal(`${hexDump(outcome.data)}${hexDump(outcome.ctx)}Return value: 2, duration: 31ns\n`);
    expect(runText(outcome, { dataIn: 'f', dataOut: '-', ctxOut: 'file' }, { json: true })).to.equal('{"data_out":[1,2],"retval":2,"duration":31}\n');
    expect(runText(outcome, { dataIn: 'f' }, { pretty: true })).to.equal('{\n    "retval": 2,\n    "duration": 31\n}\n');
  });

  it('a mistake before any kernel object: one Error: line, status 1', () => {
    for (const [args, line] of [
      [['prog', 'run'], "Error: missing required argument 'args'"],
      [['prog', 'run', 'id', 'x', 'data_in', 'f'], "Error: can't parse x as ID"],
      [['prog', 'run', 'bogus', '1', 'data_in', 'f'], "Error: expected 'id', 'tag', 'name' or 'pinned', got: 'bogus'?"],
    ] as const) {
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
      expect(r.status, r.stderr).to.equal(1);
      expect(r.stdout).to.equal('');
      expect(r.stderr).to.equal(`${line}\n`);
    }
  });
});
