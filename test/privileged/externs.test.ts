// Externs against the running kernel: bpf/core_externs.c (.kconfig bool/tristate/int/long/string
// values, LINUX_KERNEL_VERSION, weak missing options, an untyped __ksym, kfuncs from SCHED_CLS)
// loads with the same translated code, tag and .kconfig map contents as libbpf 1.1 gives it
// (bpftool prog loadall) for each compiler, and run by BPF_PROG_TEST_RUN sees the values the kernel
// config, uname, kallsyms and the task list have. A typed __ksym carries its vmlinux BTF id. Bad
// input (a strong CONFIG_ the config lacks, an unknown ksym or kfunc, a reachable absent weak kfunc,
// no kernel BTF for CO-RE, an ambiguous CO-RE match): typed errors naming it, nothing left behind.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { release, tmpdir } from 'node:os';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { bpftool, libbpfLoad, LOADABLE_BUILDS, xlatedCode } from '../helpers/libbpf-diff.js';
import { loadObject, type BpfObject } from '../../lib/object/index.js';
import { loadKernelBtf } from '../../lib/btf/kernel.js';
import { encodeBtf } from '../../lib/btf/encode.js';
import type { BtfType } from '../../lib/btf/types.js';
import { BpfError, VerifierError } from '../../lib/syscall/errors.js';
import { ERRNO } from '../../lib/syscall/errno.js';
import { readObject, LoadError } from '../../lib/object/index.js';
import { bindExterns, externCode } from '../../lib/object/extern-binding.js';
import { ExternError } from '../../lib/externs/errors.js';
import { CoreNoKernelBtfError, CoreRelocationError } from '../../lib/core/errors.js';

const openFds = () => readdirSync('/proc/self/fd').length;

/** The kernel config as the test reads it itself (gzip or plain). */
function kernelConfig(): Map<string, string> {
  const boot = `/boot/config-${release()}`;
  const raw = existsSync(boot) ? readFileSync(boot) : readFileSync('/proc/config.gz');
  const text = (raw[0] === 0x1f ? gunzipSync(raw) : raw).toString('latin1');
  const out = new Map<string, string>();
  for (const line of text.split('\n')) {
    const m = /^(CONFIG_\w+)=(.*)$/.exec(line);
    if (m) out.set(m[1], m[2]);
  }
  return out;
}

/** The one .kconfig map of a loaded program, as bytes (bpftool's hex dump). */
function kconfigBytes(progId: number): number[] {
  const p = bpftool('prog', 'show', 'id', String(progId));
  for (const id of p.map_ids as number[]) {
    const m = bpftool('map', 'show', 'id', String(id));
    if ((m.name as string).endsWith('.kconfig')) {
      const d = bpftool('map', 'dump', 'id', String(id));
      return (d[0].value as string[]).map((h) => parseInt(h, 16));
    }
  }
  throw new Error(`program ${progId} uses no .kconfig map`);
}

/** Compile a small BPF C source in a temporary directory. */
function compile(source: string): { file: string; cleanup(): void } {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-externs-'));
  try {
    writeFileSync(path.join(dir, 'x.c'), source);
    const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
    execFileSync('clang', ['-target', 'bpf', '-O2', '-g', `-I/usr/include/${arch}-linux-gnu`, '-c', 'x.c', '-o', 'x.o'], { cwd: dir, stdio: 'pipe' });
  } catch (e) {
    rmSync(dir, { recursive: true, force: true });
    throw e;
  }
  return { file: path.join(dir, 'x.o'), cleanup: () => rmSync(dir, { recursive: true, force: true }) };
}

const HEAD = `#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
char LICENSE[] SEC("license") = "GPL";
`;

describe('externs against the running kernel', () => {
  let fs: TestBpffs | undefined;
  let obj: BpfObject | undefined;
  let built: { cleanup(): void } | undefined;
  before(function () {
    requirePrivileged(this);
    if (!existsSync('bpf/core_externs.o')) throw new Error('bpf/core_externs.o is missing: run make bpf');
  });
  afterEach(() => {
    obj?.close();
    obj = undefined;
    fs?.cleanup();
    fs = undefined;
    built?.cleanup();
    built = undefined;
  });

  for (const build of LOADABLE_BUILDS) {
    const file = path.join(build.dir, 'core_externs.o');
    it(`core_externs.o built by ${build.name}: same translated code, tag and .kconfig contents as libbpf`, function () {
      if (!existsSync(file)) this.skip();
      fs = createTestBpffs();
      const theirs = libbpfLoad(file, fs.dir, 'externs');
      obj = loadObject(file);
      const ours = bpftool('prog', 'show', 'id', String(obj.programs.get('externs')!.id));
      expect(xlatedCode(ours.id), 'translated code').to.equal(xlatedCode(theirs.id));
      expect(ours.tag, 'tag').to.equal(theirs.tag);
      expect(kconfigBytes(ours.id), '.kconfig map').to.deep.equal(kconfigBytes(theirs.id));
      const kc = bpftool('map', 'show', 'id', String((ours.map_ids as number[]).find((id) => bpftool('map', 'show', 'id', String(id)).name.endsWith('.kconfig'))));
      expect(kc.name).to.equal('core_ex.kconfig');
      expect(kc.frozen).to.equal(1);
      expect(obj.warnings, 'the object BTF is taken as rewritten for externs').to.deep.equal([]);
    });
  }

  it('sees what the kernel config, uname, kallsyms and the task list say', () => {
    obj = loadObject('bpf/core_externs.o');
    const g = obj.globals;
    g.set('want_pid', process.pid);
    expect(obj.programs.get('externs')!.testRun({ data: new Uint8Array(72) }).retval).to.equal(0);
    const cfg = kernelConfig();
    const [maj, min, pat] = release().split(/[.-]/).map(Number);
    expect(g.get('out_version')).to.equal((maj << 16) + (min << 8) + Math.min(pat, 255));
    expect(g.get('out_bpf_syscall')).to.equal(cfg.get('CONFIG_BPF_SYSCALL') === 'y' ? 1 : 0);
    const ct = cfg.get('CONFIG_NF_CONNTRACK');
    expect(g.get('out_conntrack')).to.equal(ct === 'y' ? 1 : ct === 'm' ? 2 : 0);
    expect(g.get('out_hz')).to.equal(Number(cfg.get('CONFIG_HZ')));
    expect(g.get('out_nr_cpus')).to.equal(BigInt(cfg.get('CONFIG_NR_CPUS')!));
    const lv = Buffer.from(g.get('out_localversion') as Uint8Array).toString('latin1').replace(/\0.*$/s, '');
    expect(lv).to.equal((cfg.get('CONFIG_LOCALVERSION') ?? '""').slice(1, -1).slice(0, 15));
    expect(g.get('out_no_such_option')).to.equal(0);
    expect(g.get('out_no_such_number')).to.equal(0);
    const kallsyms = readFileSync('/proc/kallsyms', 'latin1').split('\n').find((l) => /^\S+ \S bpf_prog_put$/.test(l))!;
    expect(g.get('out_prog_put')).to.equal(BigInt(`0x${kallsyms.split(' ')[0]}`));
    expect(g.get('out_no_such_symbol')).to.equal(0n);
    // kfuncs: bpf_cast_to_kern_ctx gave the sk_buff, bpf_task_from_pid this process
    expect(g.get('out_kern_len')).to.equal(72);
    expect(g.get('out_task_tgid')).to.equal(process.pid);
  });

  it('a typed __ksym carries the variable\'s vmlinux BTF id (the kernel then needs its address in kallsyms)', () => {
    const vmlinuxId = loadKernelBtf().findByName('runqueues', 'var')!.id;
    // the instruction tsbpf writes: LD_IMM64 with src_reg BPF_PSEUDO_BTF_ID and the VAR's id
    const spec = bindExterns(readObject('bpf/core_ksym_typed.o')).spec;
    const fn = spec.programs.get('ksym_typed')!;
    const code = externCode(spec, fn, fn.instructions, () => 0);
    const ld = fn.relocations.find((r) => r.target.kind === 'extern' && r.target.name === 'runqueues')!.insn;
    const v = new DataView(code.buffer, code.byteOffset);
    expect(code[ld * 8 + 1] >> 4, 'src_reg').to.equal(3);
    expect(v.getInt32(ld * 8 + 4, true), 'imm').to.equal(vmlinuxId);
    expect(v.getInt32(ld * 8 + 12, true), 'btf fd (0: vmlinux)').to.equal(0);

    let err: unknown;
    try {
      obj = loadObject('bpf/core_ksym_typed.o');
    } catch (e) {
      err = e;
    }
    if (kernelConfig().get('CONFIG_KALLSYMS_ALL') === 'y') {
      expect(err).to.equal(undefined);
      expect(obj!.programs.get('ksym_typed')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(0);
      expect(obj!.globals.get('out_rq_cpu')).to.equal(0);
    } else {
      // without data symbols in kallsyms the kernel cannot place the variable: ENOENT, as libbpf gets
      expect(err).to.be.instanceOf(LoadError);
      expect(((err as LoadError).cause as BpfError).code).to.equal(ERRNO.ENOENT);
      fs = createTestBpffs();
      let libbpf = '';
      try {
        execFileSync('bpftool', ['-d', 'prog', 'loadall', 'bpf/core_ksym_typed.o', path.join(fs.dir, 'p')], { stdio: 'pipe', encoding: 'utf8' });
      } catch (e) {
        libbpf = String((e as { stderr?: string }).stderr ?? '');
      }
      expect(libbpf).to.include("failed to find the address for kernel symbol 'runqueues'");
    }
  });

  it('a strong CONFIG_ the kernel config lacks: ExternError naming it, nothing made', () => {
    const b = compile(`${HEAD}extern int CONFIG_TSBPF_NOT_IN_ANY_KERNEL __kconfig;
SEC("tc") int p(struct __sk_buff *ctx) { return CONFIG_TSBPF_NOT_IN_ANY_KERNEL; }`);
    built = b;
    const before = openFds();
    expect(() => loadObject(b.file)).to.throw(ExternError, /CONFIG_TSBPF_NOT_IN_ANY_KERNEL: the kernel config has no value/);
    expect(openFds()).to.equal(before);
    // the same object with a config given: loads, the program returns the value
    obj = loadObject(b.file, { kconfig: 'CONFIG_TSBPF_NOT_IN_ANY_KERNEL=7\n' });
    expect(obj.programs.get('p')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(7);
    expect(() => loadObject(b.file, { kconfig: 'CONFIG_TSBPF_NOT_IN_ANY_KERNEL=y\n' })).to.throw(ExternError, /implies a bool, tristate or char type/);
  });

  it('LINUX_HAS_BPF_COOKIE from the kernel\'s helper list, LINUX_HAS_SYSCALL_WRAPPER from kallsyms', () => {
    const b = compile(`${HEAD}extern _Bool LINUX_HAS_BPF_COOKIE __kconfig;
extern _Bool LINUX_HAS_SYSCALL_WRAPPER __kconfig;
SEC("tc") int p(struct __sk_buff *ctx) { return LINUX_HAS_BPF_COOKIE * 2 + LINUX_HAS_SYSCALL_WRAPPER; }`);
    built = b;
    obj = loadObject(b.file);
    const cookie = loadKernelBtf().findByName('bpf_func_id', 'enum')!.values.some((v) => v.name === 'BPF_FUNC_get_attach_cookie');
    const wrapper = process.arch === 'x64' && /^\S+ \S __x64_sys_bpf$/m.test(readFileSync('/proc/kallsyms', 'latin1'));
    expect(obj.programs.get('p')!.testRun({ data: new Uint8Array(64) }).retval).to.equal((cookie ? 2 : 0) + (wrapper ? 1 : 0));
  });

  it('an unknown strong ksym or kfunc: ExternError naming it, nothing made', () => {
    const before = openFds();
    for (const [decl, use, want] of [
      ['extern const void tsbpf_no_such_ksym __ksym;', 'return (int)(long)&tsbpf_no_such_ksym;', /\(ksym\) tsbpf_no_such_ksym: not in \/proc\/kallsyms/],
      ['extern const int tsbpf_no_such_var __ksym;', 'return tsbpf_no_such_var;', /\(ksym\) tsbpf_no_such_var: no such variable in the kernel's BTF/],
      ['extern void tsbpf_no_such_kfunc(void) __ksym;', 'tsbpf_no_such_kfunc(); return 0;', /\(kfunc\) tsbpf_no_such_kfunc: no such function/],
      ['extern int bpf_task_from_pid(void) __ksym;', 'return bpf_task_from_pid();', /\(kfunc\) bpf_task_from_pid: its prototype .* is incompatible/],
    ] as const) {
      const b = compile(`${HEAD}${decl}\nSEC("tc") int p(struct __sk_buff *ctx) { ${use} }`);
      try {
        let err: unknown;
        try {
          loadObject(b.file).close();
        } catch (e) {
          err = e;
        }
        expect(err, decl).to.be.instanceOf(ExternError);
        expect((err as Error).message, decl).to.match(want);
      } finally {
        b.cleanup();
      }
    }
    expect(openFds()).to.equal(before);
  });

  it('an absent __weak kfunc: guarded calls load (dead code), a reachable call is refused by the verifier', () => {
    const b = compile(`${HEAD}extern void tsbpf_weak_kfunc(void) __ksym __weak;
SEC("tc") int guarded(struct __sk_buff *ctx) { if (tsbpf_weak_kfunc) { tsbpf_weak_kfunc(); return 2; } return 1; }
SEC("?tc") int called(struct __sk_buff *ctx) { tsbpf_weak_kfunc(); return 0; }`);
    built = b;
    obj = loadObject(b.file);
    expect(obj.programs.get('guarded')!.testRun({ data: new Uint8Array(64) }).retval).to.equal(1);
    obj.close();
    obj = undefined;
    const spec = readObject(b.file);
    spec.programs.get('called')!.autoload = true;
    spec.programs.get('guarded')!.autoload = false;
    expect(() => loadObject(spec)).to.throw(VerifierError, /unknown#2002000000[\s\S]*call of tsbpf_weak_kfunc, a __weak kfunc this kernel does not have|call of tsbpf_weak_kfunc, a __weak kfunc this kernel does not have[\s\S]*unknown#2002000000/);
  });

  it('CO-RE bad input: no kernel BTF, an ambiguous match; typed errors, nothing made', () => {
    const before = openFds();
    expect(() => loadObject('bpf/core_read.o', { kernelBtf: '/nonexistent/vmlinux' })).to.throw(CoreNoKernelBtfError, /\/nonexistent\/vmlinux/);
    // a target BTF with two flavours of sk_buff placing len differently
    const int: BtfType = { id: 1, kind: 'int', name: 'unsigned int', size: 4, bitOffset: 0, bits: 32, signed: false, char: false, bool: false };
    const skb = (id: number, name: string, off: number): BtfType => ({ id, kind: 'struct', name, size: 16, kindFlag: false, members: [{ name: 'len', type: 1, bitOffset: off, bitfieldSize: 0 }] });
    const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-btf-'));
    try {
      writeFileSync(path.join(dir, 'vmlinux'), encodeBtf([int, skb(2, 'sk_buff', 0), skb(3, 'sk_buff___2', 64)]));
      let err: unknown;
      try {
        loadObject('bpf/core_read.o', { kernelBtf: path.join(dir, 'vmlinux') });
      } catch (e) {
        err = e;
      }
      expect(err).to.be.instanceOf(CoreRelocationError);
      const c = err as CoreRelocationError;
      expect(c.message).to.match(/ambiguous/);
      expect(c.program).to.equal('core_read');
      expect(c.type).to.equal('struct sk_buff');
      expect(c.accessStr).to.equal('0:6');
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
    expect(openFds()).to.equal(before);
  });
});
