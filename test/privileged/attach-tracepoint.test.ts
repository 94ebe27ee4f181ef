// attachTracepoint (perf event + link, or ioctl) and attachRawTracepoint: a program counts getppid()
// calls of this test's own thread (made through the FFI, so the count is exact), detach stops it,
// bad tracepoints and wrong program types are typed errors.
import { expect } from 'chai';
import { join } from 'node:path';
import { readdirSync, unlinkSync } from 'node:fs';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { counter } from '../helpers/attach-fixtures.js';
import {
  loadObject, attachTracepoint, attachRawTracepoint, tracepointId, TracepointNotFoundError, TracingLinkAttachment, PerfEventAttachment, AttachArgumentError,
  type BpfObject,
} from '../../lib/index.js';
import { ffi, SYS } from '../../lib/syscall/index.js';

describe('attachTracepoint / attachRawTracepoint', function () {
  this.timeout(30_000);
  let obj: BpfObject;
  let tid: number;
  before(function () {
    requirePrivileged(this);
    obj = loadObject('bpf/attach_trace.o', { constants: { syscall_nr: SYS.getppid } });
    tid = ffi().syscall3(SYS.gettid, 0, 0, 0);
  });
  after(() => obj?.close());

  const calls = () => counter(obj.maps.get('calls'), tid);
  const getppid = (n: number) => {
    for (let i = 0; i < n; i++) ffi().syscall3(SYS.getppid, 0, 0, 0);
  };

  for (const mode of ['link', 'ioctl'] as const) {
    it(`syscalls:sys_enter_getppid (${mode}) counts exactly this thread's calls until detached`, () => {
      const before = calls();
      const fds = openFds();
      const t = attachTracepoint({ program: obj.programs.get('tp_getppid')!, category: 'syscalls', name: 'sys_enter_getppid', mode });
      try {
        expect(t).to.be.instanceOf(mode === 'link' ? TracingLinkAttachment : PerfEventAttachment);
        expect(t.info).to.include({ kind: 'tracepoint', mode, category: 'syscalls', name: 'sys_enter_getppid', programName: 'tp_getppid' });
        expect(t.info.tracepointId).to.equal(tracepointId('syscalls', 'sys_enter_getppid'));
        if (mode === 'link') expect((t as TracingLinkAttachment<never>).query().type).to.equal(7); // BPF_LINK_TYPE_PERF_EVENT
        getppid(37);
        expect(calls() - before).to.equal(37n);
      } finally {
        t.detach();
      }
      getppid(11);
      expect(calls() - before).to.equal(37n);
      expect(openFds()).to.equal(fds); // the perf event and the link are closed
    });
  }

  it('close() of an unpinned tracepoint link ends it too', () => {
    const before = calls();
    const t = attachTracepoint({ program: obj.programs.get('tp_getppid')!, category: 'syscalls', name: 'sys_enter_getppid' });
    getppid(3);
    t.close();
    getppid(5);
    expect(calls() - before).to.equal(3n);
  });

  it('raw tracepoint sys_enter counts the same calls; a pinned link outlives the handle until unpinned', async () => {
    const prog = obj.programs.get('raw_sys_enter')!;
    let before = calls();
    const r = attachRawTracepoint({ program: prog, name: 'sys_enter' });
    try {
      expect(r.info).to.include({ kind: 'raw_tracepoint', name: 'sys_enter', programId: prog.id });
      expect(r.query().type).to.equal(1); // BPF_LINK_TYPE_RAW_TRACEPOINT
      getppid(23);
      expect(calls() - before).to.equal(23n);
    } finally {
      r.detach();
    }
    getppid(4);
    expect(calls() - before).to.equal(23n);

    let fs: TestBpffs | undefined;
    try {
      fs = createTestBpffs();
      const pin = join(fs.dir, 'raw_link');
      const p = attachRawTracepoint({ program: prog, name: 'sys_enter' });
      p.pin(pin);
      // the kernel has no LINK_DETACH for raw tracepoint links: a pinned one cannot be ended from here
      expect(() => p.detach()).to.throw(AttachArgumentError, `the link is pinned at ${pin}`);
      expect(p.closed).to.equal(true);
      before = calls();
      getppid(6);
      expect(calls() - before).to.equal(6n);
      unlinkSync(pin);
      // the link is freed once its last reference (the pin) goes: poll until calls stop counting
      const deadline = Date.now() + 5000;
      let last: bigint;
      do {
        last = calls();
        getppid(1);
        await new Promise((res) => setTimeout(res, 20));
      } while (calls() !== last && Date.now() < deadline);
      before = calls();
      getppid(5);
      expect(calls() - before).to.equal(0n);
    } finally {
      fs?.cleanup();
    }
  });

  it('a tracepoint that does not exist and a program of the wrong type are typed errors', () => {
    const tp = obj.programs.get('tp_getppid')!;
    const raw = obj.programs.get('raw_sys_enter')!;
    expect(() => attachTracepoint({ program: tp, category: 'syscalls', name: 'sys_enter_nothing' }))
      .to.throw(TracepointNotFoundError, /tracepoint syscalls:sys_enter_nothing does not exist \(no sys_enter_nothing under .*events\/syscalls\)/);
    expect(() => attachTracepoint({ program: tp, category: 'nocategory', name: 'x' }))
      .to.throw(TracepointNotFoundError, /no category nocategory/);
    // cookies are u64s (a raw SyntaxError/RangeError before, 1.5 written as 1) and need a link
    for (const cookie of ['x', {}, NaN, Infinity, 1.5, -1, 2n ** 64n]) {
      expect(() => attachTracepoint({ program: tp, category: 'syscalls', name: 'sys_enter_getppid', cookie: cookie as never }), String(cookie))
        .to.throw(AttachArgumentError, /cookie must be a u64/);
      expect(() => attachRawTracepoint({ program: raw, name: 'sys_enter', cookie: cookie as never }), String(cookie))
        .to.throw(AttachArgumentError, /cookie must be a u64/);
    }
    expect(() => attachTracepoint({ program: tp, category: 'syscalls', name: 'sys_enter_getppid', mode: 'ioctl', cookie: 42 }))
      .to.throw(AttachArgumentError, /a cookie needs a link/);
    expect(() => attachTracepoint({ program: tp, category: 'syscalls', name: '../sched/sched_switch' }))
      .to.throw(AttachArgumentError, /plain tracefs name/);
    expect(() => attachTracepoint({ program: raw, category: 'syscalls', name: 'sys_enter_getppid' }))
      .to.throw(AttachArgumentError, /raw_sys_enter is of type raw_tracepoint; a tracepoint takes tracepoint/);
    expect(() => attachRawTracepoint({ program: tp, name: 'sys_enter' }))
      .to.throw(AttachArgumentError, /tp_getppid is of type tracepoint; a raw tracepoint takes raw_tracepoint/);
    expect(() => attachRawTracepoint({ program: raw, name: 'no_such_raw_tp' }))
      .to.throw(TracepointNotFoundError, /tracepoint no_such_raw_tp does not exist/);
    const before = calls();
    getppid(3);
    expect(calls() - before).to.equal(0n);
  });
});

function openFds(): number {
  return readdirSync('/proc/self/fd').length;
}
