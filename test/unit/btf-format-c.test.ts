// `format c` is for compiling against: this kernel's vmlinux.h compiles in a BPF program that reads
// task_struct and sk_buff fields, and every struct/union/enum it declares has the size (and every
// named member the offset) that BTF says — checked by clang itself through _Static_assert.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Btf } from '../../lib/btf/btf.js';
import { formatBtfC } from '../../lib/btf/format-c.js';
import type { BtfFormatSource } from '../../lib/btf/format-raw.js';
import { readBtfFile } from '../../lib/cli/btf.js';
import { readElf } from '../../lib/elf/index.js';
import { parseBtfExt } from '../../lib/btf/ext.js';
import { builtObjects } from '../helpers/bpf-objects.js';

const VMLINUX = '/sys/kernel/btf/vmlinux';

function clang(args: string[], cwd: string, compiler = 'clang'): { status: number | null; err: string } {
  const r = spawnSync(compiler, args, { cwd, encoding: 'utf8', maxBuffer: 64 * 1024 * 1024 });
  return { status: r.status, err: r.stderr ?? String(r.error) };
}

/**
 * _Static_asserts of sizeof for every struct, union and enum whose name is unique in the BTF (a
 * duplicate is renamed name___N and is checked through its first occurrence only), and of offsetof
 * for their named, non-bitfield members.
 */
function layoutAsserts(btf: BtfFormatSource): string {
  const count = new Map<string, number>();
  // struct, union and enum tags share one C namespace
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if ((t.kind === 'struct' || t.kind === 'union' || t.kind === 'enum' || t.kind === 'enum64' || t.kind === 'fwd') && t.name) {
      count.set(t.name, (count.get(t.name) ?? 0) + 1);
    }
  }
  // va_list is 24 bytes in x86-64 BTF but __builtin_va_list is a pointer for clang's BPF target:
  // what embeds one cannot have BTF's layout in any BPF compile (bpftool's header has the same)
  const vaMemo = new Map<number, boolean>();
  const embedsVaList = (id: number): boolean => {
    const known = vaMemo.get(id);
    if (known !== undefined) return known;
    vaMemo.set(id, false);
    const t = btf.type(id);
    let r = false;
    if (t.kind === 'typedef') r = t.name === '__builtin_va_list' || embedsVaList(t.type);
    else if (t.kind === 'array' || t.kind === 'const' || t.kind === 'volatile' || t.kind === 'type_tag') r = embedsVaList(t.type);
    else if (t.kind === 'struct' || t.kind === 'union') r = t.members.some((m) => embedsVaList(m.type));
    vaMemo.set(id, r);
    return r;
  };
  const out: string[] = [];
  let n = 0;
  for (let id = 1; id < btf.typeCount; id++) {
    const t = btf.type(id);
    if (!t.name || count.get(t.name) !== 1) continue;
    if (t.kind === 'enum' || t.kind === 'enum64') {
      if (t.values.length === 0) continue;
      out.push(`_Static_assert(sizeof(enum ${t.name}) == ${t.size}, "enum ${t.name}");`);
      n++;
    } else if ((t.kind === 'struct' || t.kind === 'union') && !embedsVaList(id)) {
      const c = `${t.kind} ${t.name}`;
      out.push(`_Static_assert(sizeof(${c}) == ${t.size}, "${c}");`);
      n++;
      for (const m of t.members) {
        if (!m.name || m.bitfieldSize) continue;
        out.push(`_Static_assert(__builtin_offsetof(${c}, ${m.name}) == ${m.bitOffset / 8}, "${c}.${m.name}");`);
        n++;
      }
    }
  }
  out.push(`/* ${n} assertions */`);
  return `${out.join('\n')}\n`;
}

const PROGRAM = `
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char LICENSE[] SEC("license") = "GPL";

SEC("tp_btf/sched_switch")
int on_switch(unsigned long long *ctx)
{
	struct task_struct *prev = (void *)ctx[1];
	int pid = BPF_CORE_READ(prev, pid);
	int ppid = BPF_CORE_READ(prev, real_parent, tgid);
	unsigned int flags = prev->flags;
	return pid + ppid + (int)flags;
}

SEC("tc")
int on_skb(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	return skb->len + skb->protocol + BPF_CORE_READ(skb, dev, ifindex);
}
`;

describe('btf format c: the header compiles, with the layout BTF describes', function () {
  this.timeout(180000);
  let dir: string;
  before(function () {
    if (spawnSync('clang', ['--version']).status !== 0) this.skip(); // no compiler to check with
    dir = mkdtempSync(join(tmpdir(), 'tsbpf-btf-c-'));
  });
  after(() => {
    if (dir) rmSync(dir, { recursive: true, force: true });
  });

  it('vmlinux.h: a BPF program reading task_struct and sk_buff fields compiles (clang -target bpf -O2 -g)', function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    const btf = Btf.parse(readFileSync(VMLINUX));
    writeFileSync(join(dir, 'vmlinux.h'), formatBtfC(btf));
    // bpf_cast_to_kern_ctx is a kfunc: declared here as programs do
    const src = PROGRAM.replace('char LICENSE', 'extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;\nchar LICENSE')
      .replace('#include <bpf/bpf_core_read.h>', '#include <bpf/bpf_core_read.h>\n#define __ksym __attribute__((section(".ksyms")))');
    writeFileSync(join(dir, 'prog.c'), src);
    // Debian's clang 14, and clang-16 / clang-19 where installed
    const compilers = ['clang', 'clang-16', 'clang-19'].filter((c) => spawnSync(c, ['--version']).status === 0);
    for (const cc of compilers) {
      const r = clang(['-target', 'bpf', '-O2', '-g', '-c', 'prog.c', '-o', `prog-${cc}.o`], dir, cc);
      expect(r.status, `${cc}: ${r.err}`).to.equal(0);
      // field reads through the header's structs became CO-RE relocations against them
      const obj = readElf(readFileSync(join(dir, `prog-${cc}.o`)));
      const objBtf = Btf.parse(obj.section('.BTF')!.data);
      const relos = [...parseBtfExt(obj.section('.BTF.ext')!.data, objBtf).coreRelos.values()].flat();
      const roots = new Set(relos.map((r) => objBtf.type(r.typeId).name));
      expect([...roots], cc).to.include.members(['task_struct', 'sk_buff', 'net_device']);
    }
  });

  it('vmlinux.h: every uniquely named struct, union and enum has BTF\'s size and member offsets', function () {
    if (!existsSync(VMLINUX)) this.skip(); // kernel without CONFIG_DEBUG_INFO_BTF
    const btf = Btf.parse(readFileSync(VMLINUX));
    writeFileSync(join(dir, 'vmlinux.h'), formatBtfC(btf));
    const asserts = layoutAsserts(btf);
    expect(asserts).to.include('sizeof(struct sk_buff)');
    writeFileSync(join(dir, 'layout.c'), `#include "vmlinux.h"\n${asserts}`);
    const r = clang(['-target', 'bpf', '-fsyntax-only', 'layout.c'], dir);
    expect(r.status, r.err.slice(0, 4000)).to.equal(0);
  });

  it('the C dump of every bpf/ object compiles and keeps its layouts', function () {
    let compiled = 0;
    for (const obj of builtObjects()) {
      let btf: Btf;
      try {
        btf = readBtfFile(obj);
      } catch {
        continue; // built without -g: no BTF to dump
      }
      const base = obj.replaceAll('/', '_');
      writeFileSync(join(dir, `${base}.h`), formatBtfC(btf));
      writeFileSync(join(dir, `${base}.c`), `#include "${base}.h"\n${layoutAsserts(btf)}`);
      const target = obj.includes('/bpfeb/') ? 'bpfeb' : 'bpfel';
      const r = clang(['-target', target, '-O2', '-g', '-c', `${base}.c`, '-o', `${base}.o`], dir);
      expect(r.status, `${obj}: ${r.err}`).to.equal(0);
      compiled++;
    }
    expect(compiled).to.be.greaterThan(0);
  });
});
