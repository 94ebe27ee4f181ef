// attachUprobe / attachKprobe against the kernel. Targets: a C program compiled here with a known
// function (tsbpf_target(x) returns 3x+1), run as child processes whose pids key the counts, and
// libc's getppid, which Node calls only for process.ppid (checked with strace), counted for this
// process. Counts, argument, return value and cookies are exact; detach ends counting; a pinned link
// outlives close(); pid filtering; typed errors leave no fd behind. The kprobe PMU is absent on the
// kernels this project runs on (no CONFIG_KPROBES): there the typed refusal is asserted; where the
// PMU exists the kprobe is really attached and counted.
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { within } from '../helpers/race.js';
import { loadObject, AttachArgumentError, BpfError, type BpfObject } from '../../lib/index.js';
import { ffi, SYS } from '../../lib/syscall/index.js';
import {
  attachUprobe, attachKprobe, ProbeBinaryError, ProbeUnsupportedError, SymbolNotFoundError, NotAFunctionError,
} from '../../lib/attach/probe.js';
import { PerfEventAttachment, TracingLinkAttachment } from '../../lib/attach/perf-event.js';

const TARGET_C = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
__attribute__((noinline)) long tsbpf_target(long x) { __asm__ volatile(""); return x * 3 + 1; }
int tsbpf_data = 5;
int main(int argc, char **argv) {
  /* with a third argument: wait for a byte on stdin first, so the test knows the pid before the calls */
  if (argc > 3) { char c; if (read(0, &c, 1) != 1) return 2; }
  long n = atol(argv[1]), base = atol(argv[2]), sum = 0;
  for (long i = 0; i < n; i++) sum += tsbpf_target(base + i);
  printf("%ld\\n", sum + tsbpf_data);
  return 0;
}
`;

interface Stats { calls: bigint; returns: bigint; last_arg: bigint; last_ret: bigint; entry_cookie: bigint; return_cookie: bigint }

const openFds = () => readdirSync('/proc/self/fd').length;

describe('attachUprobe / attachKprobe', function () {
  this.timeout(30_000);
  let obj: BpfObject;
  let dir: string;
  let target: string;
  let ppid: number;
  const prog = (name: string) => obj.programs.get(name)!;
  const stats = (tgid: number): Stats | undefined => obj.maps.get('stats')!.lookup(tgid) as Stats | undefined;
  const ours = (): Stats => stats(process.pid) ?? { calls: 0n, returns: 0n, last_arg: 0n, last_ret: 0n, entry_cookie: 0n, return_cookie: 0n };
  const callPpid = (n: number) => {
    for (let i = 0; i < n; i++) void process.ppid;
  };
  /** runs the target: n calls of tsbpf_target(base..base+n-1); its pid */
  const run = (n: number, base: number): number => {
    const r = spawnSync(target, [String(n), String(base)], { encoding: 'utf8', timeout: 10_000 });
    expect(r.status, r.stderr).to.equal(0);
    return r.pid!;
  };

  before(function () {
    requirePrivileged(this);
    const gcc = spawnSync('gcc', ['--version']);
    requirePrivileged(this, gcc.status !== 0 && 'needs gcc (make apt) to build the uprobe target');
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-probe-'));
    writeFileSync(join(dir, 'target.c'), TARGET_C);
    target = join(dir, 'target');
    execFileSync('gcc', ['-O1', '-o', target, join(dir, 'target.c')]);
    obj = loadObject('bpf/attach_probe.o');
    ppid = process.ppid;
  });
  after(() => {
    obj?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  for (const mode of ['link', 'ioctl'] as const) {
    it(`uprobe + uretprobe on a function of a compiled program (${mode}): exact calls, argument, return value${mode === 'link' ? ', cookies' : ''}; detach ends it`, () => {
      const fds = openFds();
      const cookies = mode === 'link' ? { entry: 0xfeed_0000_0001n, ret: 42n } : undefined;
      const e = attachUprobe({ program: prog('probe_entry'), binary: target, symbol: 'tsbpf_target', mode, cookie: cookies?.entry });
      const r = attachUprobe({ program: prog('probe_return'), binary: target, symbol: 'tsbpf_target', retprobe: true, mode, cookie: cookies?.ret });
      let pid: number;
      try {
        expect(e).to.be.instanceOf(mode === 'link' ? TracingLinkAttachment : PerfEventAttachment);
        expect(e.info).to.include({ kind: 'uprobe', binary: target, symbol: 'tsbpf_target', pid: -1, mode, programName: 'probe_entry' });
        expect(r.info).to.include({ kind: 'uretprobe', mode, programName: 'probe_return' });
        expect(e.info.offset).to.equal(r.info.offset).and.be.greaterThan(0);
        expect(e.info.linkId !== undefined).to.equal(mode === 'link');
        pid = run(7, 100);
        expect(stats(pid)).to.deep.equal({
          calls: 7n, returns: 7n, last_arg: 106n, last_ret: 319n, entry_cookie: cookies?.entry ?? 0n, return_cookie: cookies?.ret ?? 0n,
        });
      } finally {
        e.detach();
        r.detach();
      }
      expect(openFds()).to.equal(fds);
      const after = run(5, 1);
      expect(stats(after)).to.equal(undefined);
      obj.maps.get('stats')!.delete(pid);
    });
  }

  it("libc getppid from the programs' sections ('uprobe/libc.so.6:getppid'), this process only: counts exactly Node's process.ppid calls", () => {
    const before = ours();
    const e = attachUprobe({ program: prog('getppid_entry'), pid: process.pid });
    const r = attachUprobe({ program: prog('getppid_return'), pid: process.pid, cookie: 9n });
    try {
      expect(e.info).to.include({ kind: 'uprobe', symbol: 'getppid', pid: process.pid });
      expect(r.info).to.include({ kind: 'uretprobe', symbol: 'getppid' });
      expect(e.info.binary).to.match(/\/libc\.so\.6$/);
      callPpid(13);
      const now = ours();
      expect(now.calls - before.calls).to.equal(13n);
      expect(now.returns - before.returns).to.equal(13n);
      expect(now.last_ret).to.equal(BigInt(ppid));
      expect(now.return_cookie).to.equal(9n);
    } finally {
      e.detach();
      r.detach();
    }
    const was = ours();
    callPpid(4);
    expect(ours()).to.deep.equal(was);
  });

  it('pid: a probe for another process counts that process only, never this one or a third', async () => {
    const before = ours();
    // A waits for a byte before its calls, so its probe can be made for its pid first
    const a = spawn(target, ['3', '10', 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((res) => a.on('exit', (code) => res(code)));
    try {
      expect(a.pid).to.be.a('number');
      const e = attachUprobe({ program: prog('probe_entry'), binary: target, symbol: 'tsbpf_target', pid: a.pid! });
      const g = attachUprobe({ program: prog('getppid_entry'), pid: a.pid! });
      try {
        expect(e.info.pid).to.equal(a.pid);
        const other = run(4, 50);
        callPpid(6);
        a.stdin!.end('x');
        expect(await within(exited, 10_000, 'timeout')).to.equal(0);
        expect(stats(a.pid!)?.calls).to.equal(3n);
        expect(stats(a.pid!)?.last_arg).to.equal(12n);
        expect(stats(other)).to.equal(undefined);
        expect(ours().calls).to.equal(before.calls);
      } finally {
        e.detach();
        g.detach();
      }
    } finally {
      a.kill();
    }
  });

  it('a pinned uprobe link outlives close() until the pin goes; detach() of a pinned one says it cannot', async () => {
    let fs: TestBpffs | undefined;
    try {
      fs = createTestBpffs();
      const pin = join(fs.dir, 'uprobe_link');
      const e = attachUprobe({ program: prog('getppid_entry'), pid: process.pid });
      (e as TracingLinkAttachment<never>).pin(pin);
      e.close();
      let before = ours().calls;
      callPpid(4);
      expect(ours().calls - before).to.equal(4n);
      const p = attachUprobe({ program: prog('getppid_entry'), pid: process.pid }) as TracingLinkAttachment<never>;
      p.pin(join(fs.dir, 'second'));
      expect(() => p.detach()).to.throw(AttachArgumentError, /is pinned at .*second/);
      unlinkSync(join(fs.dir, 'second'));
      unlinkSync(pin);
      // a link is freed once its last reference (the pin) goes: poll until calls stop counting
      const deadline = Date.now() + 5000;
      let last: bigint;
      do {
        last = ours().calls;
        callPpid(1);
        await new Promise((res) => setTimeout(res, 20));
      } while (ours().calls !== last && Date.now() < deadline);
      before = ours().calls;
      callPpid(5);
      expect(ours().calls - before).to.equal(0n);
    } finally {
      fs?.cleanup();
    }
  });

  it('bad input is a typed error before the kernel is asked, and nothing is left behind', () => {
    const fds = openFds();
    const entry = prog('probe_entry');
    const notElf = join(dir, 'target.c');
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'no_such_function' }))
      .to.throw(SymbolNotFoundError, `symbol no_such_function in ${target}: no such function in .symtab or .dynsym`)
      .that.includes({ symbol: 'no_such_function', binary: target });
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'printf' })).to.throw(SymbolNotFoundError, /is only imported here/);
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'tsbpf_data' }))
      .to.throw(NotAFunctionError, /tsbpf_data .*type OBJECT, not a function/).that.includes({ symbolType: 'OBJECT' });
    expect(() => attachUprobe({ program: entry, binary: 'libc.so.6', symbol: 'memcpy' })).to.throw(NotAFunctionError, /indirect function/);
    expect(() => attachUprobe({ program: entry, binary: notElf, symbol: 'main' })).to.throw(ProbeBinaryError, /is not an ELF executable or shared library/);
    expect(() => attachUprobe({ program: entry, binary: join(dir, 'gone'), symbol: 'main' })).to.throw(ProbeBinaryError, /gone: no such file \(ENOENT\)/);
    expect(() => attachUprobe({ program: entry, binary: dir, symbol: 'main' })).to.throw(ProbeBinaryError, /is not a regular file/);
    expect(() => attachUprobe({ program: entry, binary: 'libtsbpf-nothing.so.9', symbol: 'f' })).to.throw(ProbeBinaryError, /libtsbpf-nothing\.so\.9: not found \(looked in LD_LIBRARY_PATH, \/etc\/ld\.so\.cache/);
    expect(() => attachUprobe({ program: entry, symbol: 'main' })).to.throw(AttachArgumentError, /binary is required \(section uprobe names none\)/);
    expect(() => attachUprobe({ program: entry, binary: target })).to.throw(AttachArgumentError, /symbol or offset is required/);
    for (const pid of [0, -2, 1.5, '1' as never, 2 ** 31]) {
      expect(() => attachUprobe({ program: entry, binary: target, symbol: 'main', pid }), String(pid)).to.throw(AttachArgumentError, /pid must be a process id/);
    }
    let gone = 32767;
    while (existsSync(`/proc/${gone}`)) gone--;
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'main', pid: gone })).to.throw(AttachArgumentError, `pid ${gone}: no such process`);
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'main', mode: 'ioctl', cookie: 1 })).to.throw(AttachArgumentError, /a cookie needs a link/);
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'main', cookie: -1 })).to.throw(AttachArgumentError, /cookie must be a u64/);
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'main', offset: -4 })).to.throw(AttachArgumentError, /offset must be a non-negative integer/);
    expect(() => attachUprobe({ program: prog('getppid_return'), retprobe: false })).to.throw(AttachArgumentError, /retprobe: false contradicts program getppid_return's section uretprobe\/libc\.so\.6:getppid/);
    expect(() => attachUprobe({ program: entry, binary: target, symbol: 'tsbpf_target', offset: 4, retprobe: true })).to.throw(AttachArgumentError, /a uretprobe takes no offset/);
    const tp = loadObject('bpf/attach_trace.o', { constants: { syscall_nr: SYS.getppid } });
    try {
      expect(() => attachUprobe({ program: tp.programs.get('tp_getppid')!, binary: target, symbol: 'main' }))
        .to.throw(AttachArgumentError, /tp_getppid is of type tracepoint; a uprobe takes kprobe/);
    } finally {
      tp.close();
    }
    expect(openFds()).to.equal(fds);
  });

  it("the kernel's refusal is a BpfError naming the probe, with nothing left behind", () => {
    const fds = openFds();
    // an offset past the end of the file: the uprobe PMU refuses it
    let err: unknown;
    try {
      attachUprobe({ program: prog('probe_entry'), binary: target, offset: 0x7fff_0000 }).detach();
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(BpfError);
    expect((err as BpfError).message).to.match(new RegExp(`^perf_event_open: EINVAL .*: uprobe ${target} at file offset 0x7fff0000$`));
    expect(openFds()).to.equal(fds);
  });

  const KPROBE_PMU = '/sys/bus/event_source/devices/kprobe';
  if (!existsSync(KPROBE_PMU)) {
    it(`attachKprobe: this kernel has no kprobe PMU (${KPROBE_PMU} is absent), so it is a typed refusal before any syscall`, () => {
      const fds = openFds();
      for (const o of [{ program: prog('kprobe_getppid') }, { program: prog('kretprobe_getppid') }, { program: prog('probe_entry'), symbol: 'do_unlinkat', cookie: 1n }]) {
        let err: unknown;
        try {
          attachKprobe(o).detach();
        } catch (e) {
          err = e;
        }
        expect(err).to.be.instanceOf(ProbeUnsupportedError).that.includes({ pmu: 'kprobe' });
        expect((err as Error).message).to.include('no kprobe PMU').and.include('CONFIG_KPROBES').and.include('fentry/fexit');
      }
      // argument errors still come first
      expect(() => attachKprobe({ program: prog('kprobe_getppid'), symbol: 'no/such' })).to.throw(AttachArgumentError, /kernel function name/);
      expect(() => attachKprobe({ program: prog('kretprobe_getppid'), retprobe: false })).to.throw(AttachArgumentError, /contradicts/);
      expect(openFds()).to.equal(fds);
    });
  } else {
    it('attachKprobe (this kernel has the kprobe PMU): kprobe + kretprobe on the getppid system call count exactly this process\'s calls', () => {
      const sys = { x64: '__x64_sys_getppid', arm64: '__arm64_sys_getppid' }[process.arch as 'x64' | 'arm64'];
      if (!sys) throw new Error(`no getppid system call symbol known for ${process.arch}`);
      const before = ours();
      const k = attachKprobe({ program: prog('kprobe_getppid'), symbol: sys, cookie: 5n });
      const r = attachKprobe({ program: prog('kretprobe_getppid'), symbol: sys });
      try {
        expect(k.info).to.include({ kind: 'kprobe', symbol: sys, offset: 0, pid: -1 });
        expect(r.info).to.include({ kind: 'kretprobe', symbol: sys });
        for (let i = 0; i < 17; i++) ffi().syscall3(SYS.getppid, 0, 0, 0);
        const now = ours();
        expect(now.calls - before.calls).to.equal(17n);
        expect(now.returns - before.returns).to.equal(17n);
        expect(now.entry_cookie).to.equal(5n);
        expect(now.last_ret).to.equal(BigInt(ppid));
      } finally {
        k.detach();
        r.detach();
      }
      const was = ours();
      ffi().syscall3(SYS.getppid, 0, 0, 0);
      expect(ours().calls).to.equal(was.calls);
    });
  }
});
