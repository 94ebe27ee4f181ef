// `tsbpf prog dump xlated` against bpftool 7.1, byte for byte, on programs of many kinds loaded here:
// XDP, TC, tracepoint, tp_btf, iterators, netfilter with dynptr kfuncs, bpf-to-bpf calls and
// callbacks (bpf_loop, for_each_map_elem), CO-RE, a program without BTF, inlined map lookups — in
// plain, opcodes, linum and JSON forms. The one difference is newer kernel instructions bpftool
// 7.1 has no words for: the per-CPU address move the kernel inlines (7.1 prints `rX = rY`).
// Then `prog tracelog` prints a bpf_printk line of a test run and ends cleanly on SIGINT.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { loadObject, type BpfObject } from '../../lib/index.js';
import { progDump } from '../../lib/cli/prog-dump.js';
import { CliError } from '../../lib/cli/bpf-objects.js';

const OBJECTS = [
  'bpf/packet_counter.o', 'bpf/tc_proxy.o', 'bpf/exec_counter.o', 'bpf/tcpstates.o', 'bpf/iter_dump.o',
  'bpf/nf_firewall.o', 'bpf/obj_callback.o', 'bpf/obj_subprog.o', 'bpf/core_read.o', 'bpf/codec_conns.o',
  'bpf/build/nog/obj_subprog.o',
];

/** bpftool 7.1's text for the per-CPU address move (BPF_ADDR_PERCPU, Linux 6.10): a plain move */
const as71 = (s: string) => s.replace(/(r\d+) = &\(void __percpu \*\)\((r\d+)\)/g, '$1 = $2');

describe('tsbpf prog dump xlated', function () {
  this.timeout(300_000);
  const objs: BpfObject[] = [];
  const progs: { name: string; id: number; file: string }[] = [];
  const bpftool = (...args: string[]) => {
    const r = spawnSync('bpftool', args, { encoding: 'utf8' });
    expect(r.status, `bpftool ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r.stdout;
  };
  const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });

  before(function () {
    requirePrivileged(this);
    try {
      for (const file of OBJECTS) {
        const o = loadObject(file);
        objs.push(o);
        for (const [name, p] of o.programs) progs.push({ name, id: p.info().id, file });
      }
    } catch (e) {
      cleanup();
      throw e;
    }
  });

  function cleanup(): void {
    for (const o of objs.splice(0)) o.close();
  }
  after(cleanup);

  const FORMS: [string, string[], { json?: boolean; pretty?: boolean }][] = [
    ['plain', [], {}], ['opcodes', ['opcodes'], {}], ['linum', ['linum'], {}],
    ['-j', [], { json: true }], ['-j opcodes', ['opcodes'], { json: true }], ['-p linum', ['linum'], { pretty: true }],
  ];
  for (const [form, words, opts] of FORMS) {
    it(`${form}: every program as bpftool prints it`, () => {
      const flag = opts.pretty ? ['-p'] : opts.json ? ['-j'] : [];
      for (const p of progs) {
        const ours = progDump(['xlated', 'id', String(p.id), ...words], opts);
        expect(as71(ours), `${p.file} ${p.name} ${form}`).to.equal(bpftool('prog', 'dump', 'xlated', 'id', String(p.id), ...words, ...flag));
      }
    });
  }

  it('covers what it claims: subprograms, callbacks, kfuncs, maps, no BTF, the per-CPU move', () => {
    const dump = (file: string, name: string) => progDump(['xlated', 'id', String(progs.find((p) => p.file === file && p.name === name)!.id)], {});
    const sub = dump('bpf/obj_subprog.o', progs.find((p) => p.file === 'bpf/obj_subprog.o')!.name);
    expect(sub).to.match(/call pc[+-]\d+#bpf_prog_[0-9a-f]{16}_\w+/);
    expect(sub).to.match(/^\w.*\(.*\):$/m); // function headers from BTF
    // the kernel inlines bpf_loop: the callback is called as a subprogram
    expect(dump('bpf/obj_callback.o', 'loop_prog')).to.match(/r2 = subprog\[\+\d+\][\s\S]*call pc\+\d+#bpf_prog_[0-9a-f]{16}_add_index/);
    expect(dump('bpf/obj_callback.o', 'each_prog')).to.match(/r2 = subprog\[\+\d+\][\s\S]*call bpf_for_each_array_elem#/);
    const nf = dump('bpf/nf_firewall.o', progs.find((p) => p.file === 'bpf/nf_firewall.o')!.name);
    expect(nf).to.match(/call bpf_dynptr_from_skb\w*#-?\d+/).and.to.match(/r1 = map\[id:\d+\]/);
    const nog = dump('bpf/build/nog/obj_subprog.o', progs.find((p) => p.file === 'bpf/build/nog/obj_subprog.o')!.name);
    expect(nog).not.to.match(/^;/m);
    expect(progs.some((p) => /&\(void __percpu \*\)/.test(progDump(['xlated', 'id', String(p.id)], {}))), 'an inlined per-CPU lookup').to.equal(true);
  });

  it('from the command line: several programs of one name with their headers, file FILE, exit status', () => {
    const name = progs.find((p) => p.file === 'bpf/build/nog/obj_subprog.o')!.name;
    for (const flag of [[], ['-j'], ['-p']]) {
      const r = tsbpf('prog', 'dump', 'xlated', 'name', name, ...flag);
      expect(r.status, r.stderr).to.equal(0);
      expect(as71(r.stdout)).to.equal(bpftool('prog', 'dump', 'xlated', 'name', name, ...flag));
    }
    const dir = mkdtempSync(join(tmpdir(), 'tsbpf-dump-'));
    try {
      const id = String(progs[0].id);
      expect(tsbpf('prog', 'dump', 'xlated', 'id', id, 'file', join(dir, 'ours')).status).to.equal(0);
      bpftool('prog', 'dump', 'xlated', 'id', id, 'file', join(dir, 'theirs'));
      expect(readFileSync(join(dir, 'ours'))).to.deep.equal(readFileSync(join(dir, 'theirs')));
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('says what is wrong: no such program, jited, an unknown word', () => {
    expect(() => progDump(['xlated', 'id', '4294967295'], {})).to.throw(CliError, /get by id \(4294967295\)/);
    expect(() => progDump(['jited', 'id', String(progs[0].id)], {})).to.throw(CliError, /jited/);
    expect(() => progDump(['xlated', 'id', String(progs[0].id), 'bogus'], {})).to.throw(CliError, /unexpected argument: bogus/);
    expect(() => progDump(['xlated', 'name', 'no_such_prog_x'], {})).to.throw(CliError, /no program matches name no_such_prog_x/);
    const r = tsbpf('prog', 'dump', 'xlated', 'id', '4294967295', '-j');
    expect(r.status).to.equal(1);
    expect(JSON.parse(r.stdout)).to.have.property('error');
  });
});

describe('tsbpf prog tracelog', function () {
  this.timeout(60_000);
  let obj: BpfObject | undefined;
  before(function () { requirePrivileged(this); });
  after(() => obj?.close());

  for (const json of [false, true]) {
    it(`prints a program's bpf_printk line${json ? ' as a JSON string' : ''} and ends on SIGINT`, async () => {
      const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'prog', 'tracelog', ...(json ? ['-j'] : [])], { stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      let err = '';
      child.stdout.on('data', (d: Buffer) => { out += d.toString(); });
      child.stderr.on('data', (d: Buffer) => { err += d.toString(); });
      const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
      try {
        obj ??= loadObject('bpf/xdp_hello.o');
        const prog = obj.programs.get('xdp_hello')!;
        // run the program until its line comes out (the reader may start after the first run)
        const deadline = Date.now() + 20_000;
        while (!/xdp-hello: ethertype 0x0000 len 64/.test(out)) {
          expect(Date.now(), `no bpf_printk line in time: ${out}${err}`).to.be.below(deadline);
          prog.testRun({ data: new Uint8Array(64) });
          await new Promise((r) => setTimeout(r, 100));
        }
        child.kill('SIGINT');
        const code = await Promise.race([exited, new Promise((r) => setTimeout(() => r('timeout'), 10_000))]);
        expect(code, err).to.equal(0);
        if (json) {
          const lines = JSON.parse(out) as string[];
          expect(lines.some((l) => / bpf_trace_printk: xdp-hello: ethertype 0x0000 len 64\n$/.test(l))).to.equal(true);
        } else {
          expect(out).to.match(/^.*-\d+ +.*\[\d+\].* bpf_trace_printk: xdp-hello: ethertype 0x0000 len 64$/m);
        }
      } finally {
        if (child.exitCode === null && child.signalCode === null) {
          child.kill('SIGKILL');
          await exited;
        }
      }
    });
  }
});
