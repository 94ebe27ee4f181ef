// CO-RE against the running kernel: bpf/core_read.c (BPF_CORE_READ, bitfields, ___flavours, enum,
// type and field existence/size/id relocations, built against this kernel's vmlinux.h by each
// compiler) loads with the same translated code and tag as libbpf 1.1 gives it (bpftool prog
// loadall), and run by BPF_PROG_TEST_RUN it reads what the kernel says is there. A relocation that
// cannot be satisfied is poisoned like libbpf: the verifier's refusal names the relocation.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { bpftool, libbpfLoad, LOADABLE_BUILDS, xlatedCode } from '../helpers/libbpf-diff.js';
import { loadObject, type BpfObject } from '../../lib/object/index.js';
import { loadKernelBtf } from '../../lib/btf/kernel.js';
import { readObject } from '../../lib/object/read.js';
import { CoreCode, relocateCore, coreRelocationsApplied } from '../../lib/object/core.js';
import { VerifierError } from '../../lib/syscall/errors.js';

/** An Ethernet frame for PROG_TEST_RUN: destination MAC, IPv4 ethertype, zero payload. */
function frame(dst: number[], len = 64): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 1], 6);
  f[12] = 0x08;
  return f;
}

const openFds = () => readdirSync('/proc/self/fd').length;

describe('CO-RE against the running kernel', () => {
  let fs: TestBpffs | undefined;
  let obj: BpfObject | undefined;
  before(function () {
    requirePrivileged(this);
    if (!existsSync('bpf/core_read.o')) throw new Error('bpf/core_read.o is missing: run make bpf');
  });
  afterEach(() => {
    obj?.close();
    obj = undefined;
    fs?.cleanup();
    fs = undefined;
  });

  for (const build of LOADABLE_BUILDS) {
    const file = path.join(build.dir, 'core_read.o');
    it(`core_read.o built by ${build.name}: same translated code and tag as libbpf's relocation`, function () {
      if (!existsSync(file)) this.skip();
      fs = createTestBpffs();
      const theirs = libbpfLoad(file, fs.dir, 'core_read');
      obj = loadObject(file);
      const ours = bpftool('prog', 'show', 'id', String(obj.programs.get('core_read')!.id));
      const code = xlatedCode(ours.id);
      expect(code, 'translated code').to.equal(xlatedCode(theirs.id));
      expect(ours.tag, 'tag').to.equal(theirs.tag);
      // the code really was relocated: the flavoured task_struct___new.__state read has the kernel's offset
      const state = loadKernelBtf().findByName('task_struct', 'struct')!.members.find((m) => m.name === '__state')!;
      expect(code).to.include(`r1 = ${state.bitOffset / 8}\n`);
    });
  }

  for (const build of LOADABLE_BUILDS) {
    const file = path.join(build.dir, 'core_read.o');
    it(`every relocation of core_read.o built by ${build.name} (dead-code poisons included) gets libbpf's value, by its debug log`, function () {
      if (!existsSync(file)) this.skip();
      fs = createTestBpffs();
      const run = spawnSync('bpftool', ['-d', 'prog', 'loadall', file, path.join(fs.dir, 'p')], { encoding: 'utf8' });
      expect(run.status, run.stderr).to.equal(0);
      const log = run.stderr; // libbpf's debug output
      // "relo #13: patched insn #97 (ALU/ALU64) imm 1 -> 0" / "relo #16: substituting insn #115 w/ invalid insn"
      const theirs = new Map<string, string>();
      for (const m of log.matchAll(/prog '(\w+)': relo #(\d+): (?:patched insn #(\d+) \([^)]*\) \w+ -?\d+ -> (-?\d+)|substituting insn #(\d+) w\/ invalid insn)/g)) {
        const key = `${m[1]} #${m[2]}`;
        if (theirs.has(key)) continue; // an LD_IMM64's second half is substituted too
        theirs.set(key, m[3] !== undefined ? `insn ${m[3]} = ${m[4]}` : `insn ${m[5]} poisoned`);
      }
      const spec = readObject(file);
      const core = new CoreCode(spec.source.btf, spec.littleEndian, loadKernelBtf());
      for (const f of [...spec.programs.values(), ...spec.functions.values()]) core.code(f);
      const ours = new Map<string, string>();
      for (const [fn, list] of core.applied) {
        for (const a of list) ours.set(`${fn} #${a.relocation.index}`, a.poisoned ? `insn ${a.relocation.insn} poisoned` : `insn ${a.relocation.insn} = ${BigInt.asIntN(64, a.result.newVal)}`);
      }
      expect(ours.size).to.be.greaterThan(20);
      expect([...ours.keys()].some((k) => k.startsWith('read_tgid #')), 'the subprogram\'s relocations').to.equal(true);
      expect(ours).to.deep.equal(theirs);
    });
  }

  it('relocateCore gives the code loadObject loads, and loadObject takes it as it is (no second relocation)', () => {
    const spec = readObject('bpf/core_read.o');
    const relocated = relocateCore(spec);
    expect(relocated).to.not.equal(spec);
    expect(relocated.functions.get('read_tgid')!.coreRelos).to.deep.equal([]);
    expect(spec.functions.get('read_tgid')!.coreRelos.length).to.be.greaterThan(0);
    expect([...coreRelocationsApplied(relocated).keys()]).to.include.members(['core_read', 'read_tgid']);
    // it used to check the relocated immediates against clang's again and refuse them
    obj = loadObject(relocated);
    const direct = loadObject('bpf/core_read.o');
    try {
      expect(bpftool('prog', 'show', 'id', String(obj.program('core_read').id)).tag).to.equal(bpftool('prog', 'show', 'id', String(direct.program('core_read').id)).tag);
    } finally {
      direct.close();
    }
    // what no loaded program reaches is not relocated, as loadObject does not relocate it
    const none = readObject('bpf/core_read.o');
    for (const p of none.programs.values()) p.autoload = false;
    expect(relocateCore(none)).to.equal(none);
  });

  it('reads what the kernel has: sk_buff fields and bitfield, the current task, enum values, type facts', () => {
    obj = loadObject('bpf/core_read.o');
    const prog = obj.programs.get('core_read')!;
    const g = obj.globals;
    const vmlinux = loadKernelBtf();

    // PACKET_OTHERHOST (3): unicast to a MAC that is not the device's
    expect(prog.testRun({ data: frame([0x02, 0, 0, 0, 0, 2], 80) }).retval).to.equal(0);
    expect(g.get('out_len')).to.equal(80);
    expect(g.get('out_protocol')).to.equal(0x0008); // htons(ETH_P_IP) read as a little-endian u16
    expect(g.get('out_pkt_type')).to.equal(3n);
    expect(prog.testRun({ data: frame([0x01, 0, 0x5e, 0, 0, 1]) }).retval).to.equal(0);
    expect(g.get('out_pkt_type')).to.equal(2n); // PACKET_MULTICAST
    expect(g.get('out_len')).to.equal(64);

    const skb = vmlinux.findByName('sk_buff', 'struct')!;
    expect(g.get('out_len_size')).to.equal(4);
    expect(g.get('out_len_offset')).to.equal(skb.members.find((m) => m.name === 'len')!.bitOffset / 8);
    expect(g.get('out_skb_size')).to.equal(skb.size);
    expect(g.get('out_skb_exists')).to.equal(1);
    expect(g.get('out_nosuch_exists')).to.equal(0);
    expect(g.get('out_nosuch_matches')).to.equal(0);
    expect(g.get('out_task_matches')).to.equal(1);
    expect(g.get('out_task_id_kernel')).to.equal(vmlinux.findByName('task_struct', 'struct')!.id);
    expect(g.get('out_task_id_local')).to.equal(obj.spec.source.btf!.findByName('task_struct', 'struct')!.id);

    // the task running the test is this process's main thread
    expect(g.get('out_tgid')).to.equal(process.pid);
    expect(g.get('out_pid')).to.equal(process.pid);
    expect(g.get('out_parent_tgid')).to.equal(process.ppid);
    expect(g.get('out_sub_tgid')).to.equal(process.pid); // read by a .text subprogram
    const comm = Buffer.from(g.get('out_comm') as Uint8Array).toString('latin1').replace(/\0.*$/s, '');
    expect(comm).to.equal(readFileSync('/proc/self/comm', 'latin1').trim());
    expect(g.get('out_state')).to.equal(0n); // TASK_RUNNING, read through the ___new flavour
    expect(g.get('out_has_new_state')).to.equal(1);
    expect(g.get('out_has_old_state')).to.equal(0);

    const mapType = vmlinux.findByName('bpf_map_type', 'enum')!;
    expect(g.get('out_ringbuf_exists')).to.equal(1);
    expect(g.get('out_ringbuf_value')).to.equal(BigInt(mapType.values.find((v) => v.name === 'BPF_MAP_TYPE_RINGBUF')!.value));
    expect(g.get('out_nosuch_enum_exists')).to.equal(0);
  });

  it('an unguarded read of a field the kernel lacks: the verifier refuses the poisoned call, the error names the relocation, nothing is left', function () {
    fs = createTestBpffs();
    // libbpf refuses it too, naming the same relocation
    let libbpf = '';
    try {
      execFileSync('bpftool', ['-d', 'prog', 'loadall', 'bpf/core_poison.o', path.join(fs.dir, 'p')], { stdio: 'pipe', encoding: 'utf8' });
    } catch (e) {
      libbpf = String((e as { stderr?: string }).stderr ?? '');
    }
    expect(libbpf).to.include('struct task_struct___old.state (0:0 @ offset 0)');

    const before = openFds();
    let err: unknown;
    try {
      obj = loadObject('bpf/core_poison.o');
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(VerifierError);
    const msg = (err as Error).message;
    expect(msg).to.include('program core_poisoned');
    expect(msg).to.include('unknown#195896080');
    expect(msg).to.match(/relocation #\d+ of core_poisoned \(insn \d+, access string 0:0\)/);
    expect(msg).to.include('<byte_off> [');
    expect(msg).to.include('struct task_struct___old.state (0:0 @ offset 0)');
    expect(msg).to.include('no matching field');
    expect(openFds()).to.equal(before);
  });
});
