// attachUprobeMulti against the kernel. The target is a C program compiled here: tsbpf_mf_N(x)
// returns 10x + N for N = 1, 2, 3, called n1, n2, n3 times with arguments base, base+1, …; it also
// has an alias of tsbpf_mf_1, an indirect function, and a USDT-style semaphore in .probes whose value
// it prints first. Child processes run it; their pids key the counts, and the attach cookie (one per
// function) says which probe of a link fired: counts, argument sums and return-value sums are exact.
// Also: the libc section target ('uprobe.multi/libc.so.6:getpp?d') counted for this process's
// process.ppid calls; pid filtering; link info from the kernel and `tsbpf link show`; a pinned link;
// typed errors before the kernel is asked and the kernel's own refusal, leaving nothing behind.
import { expect } from 'chai';
import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, readdirSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { linkExists, linksOf } from '../helpers/links.js';
import { within } from '../helpers/race.js';
import { loadObject, readObject, AttachArgumentError, BpfError, type BpfObject } from '../../lib/index.js';
import { SYS } from '../../lib/syscall/index.js';
import { BPF_ATTACH_TYPE, BPF_PROG_FLAG } from '../../lib/syscall/types.js';
import { readLinkedElf, fileOffsetOf, findFunctionOffset, globMatch } from '../../lib/elf/function-offset.js';
import { NotAFunctionError, ProbeBinaryError, ProbeUnsupportedError, SymbolNotFoundError } from '../../lib/attach/probe.js';
import {
  attachUprobeMulti, parseUprobeMultiSection, setUprobeMultiSupportForTesting, PatternNotMatchedError, UprobeMultiAttachment,
  UprobeMultiUnsupportedError, type AttachUprobeMultiOptions,
} from '../../lib/attach/uprobe-multi.js';

const TARGET_C = `
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>
#define MF(n) __attribute__((noinline)) long tsbpf_mf_##n(long x) { __asm__ volatile(""); return x * 10 + n; }
MF(1) MF(2) MF(3)
long tsbpf_mf_1_alias(long x) __attribute__((alias("tsbpf_mf_1")));
__attribute__((noinline)) long tsbpf_other(long x) { __asm__ volatile(""); return x; }
typedef long mf_fn(long);
static mf_fn *resolve_mf(void) { return tsbpf_mf_2; }
long tsbpf_mf_ifunc(long x) __attribute__((ifunc("resolve_mf")));
/* what a USDT semaphore is: a short the kernel counts up while a probe names it as its ref_ctr */
volatile unsigned short tsbpf_sem __attribute__((used, section(".probes")));
int tsbpf_data = 5;
int main(int argc, char **argv) {
  /* argv: n1 n2 n3 base [wait]; with "wait", a byte on stdin first, so the test knows the pid before the calls */
  if (argc > 5) { char c; if (read(0, &c, 1) != 1) return 2; }
  long n1 = atol(argv[1]), n2 = atol(argv[2]), n3 = atol(argv[3]), base = atol(argv[4]), sum = 0;
  printf("sem %u\\n", tsbpf_sem);
  for (long i = 0; i < n1; i++) sum += tsbpf_mf_1(base + i);
  for (long i = 0; i < n2; i++) sum += tsbpf_mf_2(base + i);
  for (long i = 0; i < n3; i++) sum += tsbpf_mf_3(base + i);
  printf("%ld\\n", sum + tsbpf_other(tsbpf_data));
  return 0;
}
`;

const ENTRY = 0;
const RETURN = 1;
const SLEEPABLE = 2;
interface HitKey { tgid: number; kind: number; cookie: bigint }
interface Hit { count: bigint; sum: bigint }

const openFds = () => readdirSync('/proc/self/fd').length;
/** n calls with arguments base … base+n-1: the count and the argument sum */
const args = (n: number, base: number): Hit => ({ count: BigInt(n), sum: BigInt(n * base + (n * (n - 1)) / 2) });
/** … and the sum of tsbpf_mf_k's return values (10x + k) */
const rets = (n: number, base: number, k: number): Hit => ({ count: BigInt(n), sum: args(n, base).sum * 10n + BigInt(n * k) });

describe('attachUprobeMulti', function () {
  this.timeout(60_000);
  let obj: BpfObject;
  let dir: string;
  let target: string;
  let offsets: Record<'mf1' | 'mf2' | 'mf3' | 'sem', number>;
  const prog = (name: string) => obj.programs.get(name)!;
  const progIds = () => [...obj.programs.values()].map((p) => p.id);
  const hitsMap = () => obj.maps.get('hits')!;
  /** every count of process `tgid`, keyed 'kind:cookie' */
  const hitsOf = (tgid: number): Record<string, Hit> => {
    const out: Record<string, Hit> = {};
    for (const [k, v] of hitsMap().entries()) {
      const key = k as unknown as HitKey;
      if (key.tgid === tgid) out[`${key.kind}:${key.cookie}`] = v as unknown as Hit;
    }
    return out;
  };
  /** runs the target; its pid and the semaphore value it saw */
  const run = (n1: number, n2: number, n3: number, base: number): { pid: number; sem: number } => {
    const r = spawnSync(target, [n1, n2, n3, base].map(String), { encoding: 'utf8', timeout: 10_000 });
    expect(r.status, r.stderr).to.equal(0);
    return { pid: r.pid!, sem: Number(/^sem (\d+)$/m.exec(r.stdout)![1]) };
  };
  const callPpid = (n: number) => {
    for (let i = 0; i < n; i++) void process.ppid;
  };

  before(function () {
    requirePrivileged(this);
    requirePrivileged(this, spawnSync('gcc', ['--version']).status !== 0 && 'needs gcc (make apt) to build the uprobe target');
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-uprobe-multi-'));
    writeFileSync(join(dir, 'target.c'), TARGET_C);
    target = join(dir, 'target');
    execFileSync('gcc', ['-O1', '-o', target, join(dir, 'target.c')]);
    const elf = readLinkedElf(readFileSync(target));
    const fn = (s: string) => {
      const r = findFunctionOffset(elf, s);
      if (!('offset' in r)) throw new Error(`${s}: ${JSON.stringify(r)}`);
      return r.offset;
    };
    const sem = elf.symtab.find((s) => s.name === 'tsbpf_sem')!;
    offsets = { mf1: fn('tsbpf_mf_1'), mf2: fn('tsbpf_mf_2'), mf3: fn('tsbpf_mf_3'), sem: fileOffsetOf(elf, sem.value)! };
    obj = loadObject('bpf/attach_uprobe_multi.o');
  });
  afterEach(function () {
    // every test detaches what it made, even when it fails: no link of these programs may remain
    if (obj) expect(linksOf(progIds()), 'links left behind').to.deep.equal([]);
  });
  after(() => {
    setUprobeMultiSupportForTesting(undefined);
    obj?.close();
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('the loader gives uprobe.multi sections their expected attach type (and BPF_F_SLEEPABLE for .s)', () => {
    for (const name of ['multi_entry', 'multi_return', 'multi_sleepable', 'multi_getppid']) {
      expect(prog(name).attachType, name).to.equal(BPF_ATTACH_TYPE.TRACE_UPROBE_MULTI);
    }
    expect(prog('plain_uprobe').attachType).to.equal(0);
    expect(parseUprobeMultiSection('uprobe.multi.s')).to.deep.equal({ retprobe: false, sleepable: true });
    expect(parseUprobeMultiSection('uretprobe.multi//usr/bin/a:b:f*')).to.deep.equal({ retprobe: true, sleepable: false, binary: '/usr/bin/a:b', pattern: 'f*' });
    expect(parseUprobeMultiSection('?uprobe.multi/libc.so.6:getpp?d')).to.deep.equal({ retprobe: false, sleepable: false, binary: 'libc.so.6', pattern: 'getpp?d' });
    expect(parseUprobeMultiSection('uprobe/libc.so.6:getppid')).to.equal(undefined);
    expect(() => parseUprobeMultiSection('uprobe.multi/libc.so.6', 'op')).to.throw(AttachArgumentError, /op: section "uprobe.multi\/libc.so.6": the form is uprobe.multi\/BINARY:PATTERN/);
    for (const [name, pattern, want] of [['tsbpf_mf_1', 'tsbpf_mf_*', true], ['tsbpf_mf_1', 'tsbpf_mf_?', true], ['tsbpf_mf_1_alias', 'tsbpf_mf_?', false],
      ['abc', '*', true], ['', '*', true], ['abc', 'a*c*', true], ['abc', '*b', false], ['aXbXc', 'a*b*c', true], ['getppid', 'getpp?d', true]] as const) {
      expect(globMatch(name, pattern), `${name} ~ ${pattern}`).to.equal(want);
    }
    const spec = readObject('bpf/attach_uprobe_multi.o').programs;
    expect(spec.get('multi_sleepable')!.flags & BPF_PROG_FLAG.SLEEPABLE).to.equal(BPF_PROG_FLAG.SLEEPABLE);
    expect(spec.get('multi_entry')!.flags & BPF_PROG_FLAG.SLEEPABLE).to.equal(0);
  });

  it('symbols + cookies: one link counts each function exactly, by cookie; link info from the kernel; detach ends it', () => {
    const fds = openFds();
    const cookies = [0x101n, 0x102n, 0xfeed_0000_0103n];
    const l = attachUprobeMulti({ program: prog('multi_entry'), binary: target, symbols: ['tsbpf_mf_1', 'tsbpf_mf_2', 'tsbpf_mf_3'], cookies });
    try {
      expect(l).to.be.instanceOf(UprobeMultiAttachment);
      expect(l.info).to.include({ kind: 'uprobe.multi', binary: target, pattern: undefined, pid: -1, programName: 'multi_entry' });
      expect(l.info.probes).to.deep.equal([
        { symbol: 'tsbpf_mf_1', offset: offsets.mf1, cookie: cookies[0], refCtrOffset: 0 },
        { symbol: 'tsbpf_mf_2', offset: offsets.mf2, cookie: cookies[1], refCtrOffset: 0 },
        { symbol: 'tsbpf_mf_3', offset: offsets.mf3, cookie: cookies[2], refCtrOffset: 0 },
      ]);
      const d = l.details();
      expect(d).to.include({ type: 12, id: l.info.linkId, progId: prog('multi_entry').id, flags: 0, pid: 0, name: target });
      expect(d.probes).to.deep.equal([offsets.mf1, offsets.mf2, offsets.mf3].map((o, i) => ({ offset: BigInt(o), refCtrOffset: 0n, cookie: cookies[i] })));
      const { pid } = run(3, 5, 7, 10);
      expect(hitsOf(pid)).to.deep.equal({ [`${ENTRY}:${cookies[0]}`]: args(3, 10), [`${ENTRY}:${cookies[1]}`]: args(5, 10), [`${ENTRY}:${cookies[2]}`]: args(7, 10) });
      expect(() => l.update(prog('multi_return'))).to.throw(AttachArgumentError, /cannot change its program/);
    } finally {
      l.detach();
    }
    expect(linkExists(l.info.linkId)).to.equal(false);
    expect(openFds()).to.equal(fds);
    expect(hitsOf(run(2, 2, 2, 1).pid)).to.deep.equal({});
  });

  it('uretprobe.multi (retprobe from the section) sees each return value; offsets given raw; flags say a return probe', () => {
    const l = attachUprobeMulti({ program: prog('multi_return'), binary: target, offsets: [offsets.mf3, offsets.mf1], cookies: [3, 1] });
    try {
      expect(l.info).to.include({ kind: 'uretprobe.multi' });
      expect(l.info.probes.map((p) => p.symbol)).to.deep.equal([undefined, undefined]);
      expect(l.details()).to.include({ flags: 1 });
      const { pid } = run(4, 6, 2, 100);
      expect(hitsOf(pid)).to.deep.equal({ [`${RETURN}:1`]: rets(4, 100, 1), [`${RETURN}:3`]: rets(2, 100, 3) });
    } finally {
      l.detach();
    }
    expect(() => attachUprobeMulti({ program: prog('multi_return'), binary: target, symbols: ['tsbpf_mf_1'], retprobe: false }))
      .to.throw(AttachArgumentError, /retprobe: false contradicts program multi_return's section uretprobe\.multi/);
  });

  it("a glob: aliases are one probe, an indirect function is left out; '?' matches one character", () => {
    const all = attachUprobeMulti({ program: prog('multi_entry'), binary: target, pattern: 'tsbpf_mf_*' });
    try {
      // tsbpf_mf_1_alias is tsbpf_mf_1's address: one probe, named by the first name; tsbpf_mf_ifunc is a resolver
      expect(all.info.pattern).to.equal('tsbpf_mf_*');
      expect(all.info.probes.map((p) => [p.symbol, p.offset])).to.deep.equal([['tsbpf_mf_1', offsets.mf1], ['tsbpf_mf_2', offsets.mf2], ['tsbpf_mf_3', offsets.mf3]].sort((a, b) => (a[1] as number) - (b[1] as number)));
      const { pid } = run(2, 3, 4, 0);
      expect(hitsOf(pid)).to.deep.equal({ [`${ENTRY}:0`]: { count: 9n, sum: args(2, 0).sum + args(3, 0).sum + args(4, 0).sum } });
    } finally {
      all.detach();
    }
    const one = attachUprobeMulti({ program: prog('multi_sleepable'), binary: target, pattern: 'tsbpf_mf_?' });
    try {
      expect(one.info.probes).to.have.length(3);
      const { pid } = run(1, 1, 1, 7);
      expect(hitsOf(pid)).to.deep.equal({ [`${SLEEPABLE}:0`]: { count: 3n, sum: 21n } });
    } finally {
      one.detach();
    }
  });

  it("the section's target ('uprobe.multi/libc.so.6:getpp?d'), this process only: counts exactly process.ppid's calls", () => {
    const key = { tgid: process.pid, kind: ENTRY, cookie: 0n };
    const before = (hitsMap().lookup(key) as unknown as Hit | undefined)?.count ?? 0n;
    const l = attachUprobeMulti({ program: prog('multi_getppid'), pid: process.pid });
    try {
      expect(l.info).to.include({ kind: 'uprobe.multi', pattern: 'getpp?d', pid: process.pid });
      expect(l.info.binary).to.match(/\/libc\.so\.6$/);
      expect(l.info.probes.map((p) => p.symbol)).to.deep.equal(['getppid']);
      expect(l.details()).to.include({ pid: process.pid });
      callPpid(11);
      expect((hitsMap().lookup(key) as unknown as Hit).count - before).to.equal(11n);
    } finally {
      l.detach();
    }
    const was = (hitsMap().lookup(key) as unknown as Hit).count;
    callPpid(3);
    expect((hitsMap().lookup(key) as unknown as Hit).count).to.equal(was);
  });

  it('pid: a link for another process counts that process only, not a second one running the same binary', async () => {
    const a = spawn(target, ['2', '0', '1', '40', 'wait'], { stdio: ['pipe', 'ignore', 'ignore'] });
    const exited = new Promise<number | null>((res) => a.on('exit', (code) => res(code)));
    try {
      expect(a.pid).to.be.a('number');
      const l = attachUprobeMulti({ program: prog('multi_entry'), binary: target, symbols: ['tsbpf_mf_1', 'tsbpf_mf_3'], cookies: [1, 3], pid: a.pid! });
      try {
        expect(l.info.pid).to.equal(a.pid);
        expect(l.details().pid).to.equal(a.pid);
        const other = run(5, 5, 5, 1);
        a.stdin!.end('x');
        expect(await within(exited, 10_000, 'timeout')).to.equal(0);
        expect(hitsOf(a.pid!)).to.deep.equal({ [`${ENTRY}:1`]: args(2, 40), [`${ENTRY}:3`]: args(1, 40) });
        expect(hitsOf(other.pid)).to.deep.equal({});
      } finally {
        l.detach();
      }
    } finally {
      a.kill();
    }
  });

  it("refCtrOffsets: the kernel counts the target's semaphore up while the link exists; a second link at that offset without it is the kernel's refusal", () => {
    expect(run(0, 0, 0, 0).sem).to.equal(0);
    const l = attachUprobeMulti({ program: prog('multi_entry'), binary: target, symbols: ['tsbpf_mf_1', 'tsbpf_mf_2'], refCtrOffsets: [offsets.sem, 0], cookies: [1n, 2n] });
    try {
      expect(l.details().probes!.map((p) => p.refCtrOffset)).to.deep.equal([BigInt(offsets.sem), 0n]);
      const r = run(1, 1, 0, 3);
      expect(r.sem).to.equal(1);
      expect(hitsOf(r.pid)).to.deep.equal({ [`${ENTRY}:1`]: args(1, 3), [`${ENTRY}:2`]: args(1, 3) });
      const fds = openFds();
      let err: unknown;
      try {
        attachUprobeMulti({ program: prog('multi_return'), binary: target, symbols: ['tsbpf_mf_3', 'tsbpf_mf_1'] }).detach();
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(BpfError).that.includes({ errno: 'EINVAL' });
      expect((err as Error).message).to.include(`uretprobe.multi ${target} (2 probes: tsbpf_mf_3, tsbpf_mf_1), program multi_return`)
        .and.include('different refCtrOffset');
      expect(openFds()).to.equal(fds);
    } finally {
      l.detach();
    }
    expect(run(0, 0, 0, 0).sem).to.equal(0);
  });

  it('a pinned link outlives close() until the pin goes; detach() of a pinned one says it cannot; `tsbpf link show` prints it', async () => {
    let fs: TestBpffs | undefined;
    const made: UprobeMultiAttachment[] = [];
    try {
      fs = createTestBpffs();
      const pin = join(fs.dir, 'uprobe_multi');
      const l = attachUprobeMulti({ program: prog('multi_entry'), binary: target, symbols: ['tsbpf_mf_2', 'tsbpf_mf_3'], cookies: [2n, 0x33n] });
      made.push(l);
      const id = l.info.linkId;
      l.pin(pin);
      const cli = (...a: string[]) => execFileSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'link', 'show', 'id', String(id), ...a], { encoding: 'utf8' });
      const plain = cli('-f');
      expect(plain).to.include(`${id}: uprobe_multi  prog ${prog('multi_entry').id}`);
      expect(plain).to.include(`\tuprobe.multi  path ${target}  func_cnt 2  `);
      expect(plain).to.include(`\t0x${offsets.mf2.toString(16).padEnd(16)} 0x${'0'.padEnd(16)} 0x${'2'.padEnd(16)}`);
      expect(plain).to.include(`\t0x${offsets.mf3.toString(16).padEnd(16)} 0x${'0'.padEnd(16)} 0x${'33'.padEnd(16)}`);
      expect(plain).to.include(`\tpinned ${pin}`);
      const json = JSON.parse(cli('-j'));
      expect(json).to.deep.include({ id, type: 'uprobe_multi', retprobe: false, path: target, func_cnt: 2, pid: 0 });
      expect(json.funcs).to.deep.equal([{ offset: offsets.mf2, ref_ctr_offset: 0, cookie: 2 }, { offset: offsets.mf3, ref_ctr_offset: 0, cookie: 0x33 }]);
      l.close();
      expect(hitsOf(run(0, 2, 0, 1).pid)).to.deep.equal({ [`${ENTRY}:2`]: args(2, 1) });
      const p = attachUprobeMulti({ program: prog('multi_entry'), binary: target, offsets: [offsets.mf1] });
      made.push(p);
      p.pin(join(fs.dir, 'second'));
      expect(() => p.detach()).to.throw(AttachArgumentError, /is pinned at .*second/);
      unlinkSync(join(fs.dir, 'second'));
      unlinkSync(pin);
      // a link goes once its last reference (the pin) does, a little later (the kernel defers it)
      const deadline = Date.now() + 5000;
      while ((linkExists(id) || linkExists(p.info.linkId)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
      expect(linkExists(id)).to.equal(false);
      expect(linkExists(p.info.linkId)).to.equal(false);
      expect(hitsOf(run(3, 3, 3, 1).pid)).to.deep.equal({});
    } finally {
      // on a failure half-way: our fds go, and unmounting the test's bpffs drops its pins
      for (const a of made) a.close();
      fs?.cleanup();
      const deadline = Date.now() + 5000;
      while (made.some((a) => linkExists(a.info.linkId)) && Date.now() < deadline) await new Promise((res) => setTimeout(res, 10));
    }
  });

  it('bad input is a typed error before the kernel is asked, and nothing is left behind', () => {
    const fds = openFds();
    const entry = prog('multi_entry');
    const t = (o: Partial<AttachUprobeMultiOptions>) => () => attachUprobeMulti({ program: entry, binary: target, ...o });
    expect(t({ pattern: 'nothing_*' })).to.throw(PatternNotMatchedError, `attachUprobeMulti: symbol nothing_* in ${target}: no function matches`)
      .that.includes({ pattern: 'nothing_*', binary: target });
    expect(t({ pattern: 'tsbpf_mf_if*' })).to.throw(PatternNotMatchedError, /matches only indirect functions \(tsbpf_mf_ifunc\)/);
    expect(t({ symbols: ['tsbpf_mf_1', 'no_such_function'] })).to.throw(SymbolNotFoundError, `symbol no_such_function in ${target}: no such function`);
    expect(t({ symbols: ['tsbpf_mf_ifunc'] })).to.throw(NotAFunctionError, /indirect function/);
    expect(t({ symbols: ['tsbpf_data'] })).to.throw(NotAFunctionError, /type OBJECT/);
    expect(t({ symbols: ['tsbpf_mf_1', 'tsbpf_mf_1_alias'] })).to.throw(AttachArgumentError, /tsbpf_mf_1 \(#0\) and tsbpf_mf_1_alias \(#1\) are both at file offset .*run twice/);
    expect(t({ symbols: ['tsbpf_mf_1', 'tsbpf_mf_2'], cookies: [1n] })).to.throw(AttachArgumentError, 'cookies has 1 entries for 2 symbols: one each');
    expect(t({ offsets: [offsets.mf1], refCtrOffsets: [0, 0] })).to.throw(AttachArgumentError, 'refCtrOffsets has 2 entries for 1 offsets: one each');
    expect(t({ pattern: 'tsbpf_mf_*', cookies: [1n, 2n, 3n] })).to.throw(AttachArgumentError, /cookies need symbols or offsets/);
    expect(t({ symbols: ['tsbpf_mf_1'], pattern: 'x*' })).to.throw(AttachArgumentError, /symbols and pattern exclude each other/);
    expect(t({ symbols: [] })).to.throw(AttachArgumentError, /symbols is empty/);
    expect(t({})).to.throw(AttachArgumentError, /symbols, pattern or offsets is required \(section uprobe\.multi names none\)/);
    expect(() => attachUprobeMulti({ program: entry, symbols: ['f'] })).to.throw(AttachArgumentError, /binary is required/);
    expect(t({ offsets: [0x7fff_0000] })).to.throw(AttachArgumentError, /offsets\[0\] 0x7fff0000 is past the end of/);
    expect(t({ offsets: [-1] })).to.throw(AttachArgumentError, /offsets\[0\] must be a non-negative integer/);
    expect(t({ symbols: ['tsbpf_mf_1'], refCtrOffsets: [offsets.sem + 1] })).to.throw(AttachArgumentError, /is odd/);
    expect(t({ symbols: ['tsbpf_mf_1'], cookies: [-1] })).to.throw(AttachArgumentError, /cookie must be a u64/);
    for (const pid of [-2, 0, 1.5, '1' as never]) expect(t({ symbols: ['tsbpf_mf_1'], pid }), String(pid)).to.throw(AttachArgumentError, /pid must be a process id/);
    let gone = 32767;
    while (existsSync(`/proc/${gone}`)) gone--;
    expect(t({ symbols: ['tsbpf_mf_1'], pid: gone })).to.throw(AttachArgumentError, `pid ${gone}: no such process`);
    expect(t({ binary: join(dir, 'gone'), symbols: ['f'] })).to.throw(ProbeBinaryError, /no such file/);
    expect(t({ binary: join(dir, 'target.c'), symbols: ['f'] })).to.throw(ProbeBinaryError, /is not an ELF/);
    // a program loaded for perf-event uprobes, and one of another type
    expect(() => attachUprobeMulti({ program: prog('plain_uprobe'), binary: target, symbols: ['tsbpf_mf_1'] }))
      .to.throw(AttachArgumentError, /plain_uprobe is in section uprobe, not uprobe\.multi.*attachUprobe/);
    const bare = { fd: prog('plain_uprobe').fd, name: 'plain_uprobe', attachType: 0 };
    expect(() => attachUprobeMulti({ program: bare, binary: target, symbols: ['tsbpf_mf_1'] }))
      .to.throw(AttachArgumentError, /plain_uprobe was loaded without an expected attach type .*trace_uprobe_multi/);
    const tp = loadObject('bpf/attach_trace.o', { constants: { syscall_nr: SYS.getppid } });
    try {
      expect(() => attachUprobeMulti({ program: tp.programs.get('tp_getppid')!, binary: target, symbols: ['tsbpf_mf_1'] }))
        .to.throw(AttachArgumentError, /tp_getppid is of type tracepoint; a uprobe\.multi link takes kprobe/);
    } finally {
      tp.close();
    }
    // a kernel without uprobe.multi links (its BTF lacks the link struct): said before anything is made
    setUprobeMultiSupportForTesting(() => false);
    try {
      expect(t({ symbols: ['tsbpf_mf_1'] })).to.throw(UprobeMultiUnsupportedError, /this kernel has no uprobe\.multi links .*attachUprobe instead/)
        .that.is.instanceOf(ProbeUnsupportedError).and.includes({ pmu: 'uprobe' });
    } finally {
      setUprobeMultiSupportForTesting(undefined);
    }
    expect(openFds()).to.equal(fds);
  });
});
