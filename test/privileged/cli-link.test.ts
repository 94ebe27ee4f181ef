// `tsbpf link show|pin|detach` against bpftool 7.1, on links of five types this test makes in its
// own namespace, cgroup and bpffs: raw_tracepoint, perf_event (tracepoint), cgroup, tcx and xdp.
// Where bpftool 7.1 prints the data, the bytes are its own; what 7.1 does not know (the tcx type's
// name, ifindexes, perf event names, cookies) is newer bpftool's and is checked on its own.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestNetwork, type TestNetwork } from '../helpers/netns.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { ipLink } from '../helpers/attach-fixtures.js';
import {
  loadObject, attachRawTracepoint, attachTracepoint, attachCgroup, attachTcx, attachXdpLink, type Attachment, type BpfObject,
} from '../../lib/index.js';
import { getFdById, linkDetails } from '../../lib/syscall/obj.js';
import { progQuery } from '../../lib/syscall/prog.js';
import { BPF_ATTACH_TYPE } from '../../lib/syscall/types.js';

describe('tsbpf link', function () {
  this.timeout(120_000);
  let net: TestNetwork | undefined;
  let cg: TestCgroup | undefined;
  let fs: TestBpffs | undefined;
  const objs: BpfObject[] = [];
  const links: Attachment[] = [];
  /** link id → what 7.1 knows of it: its type name, or the number it prints for a type it does not know */
  const ids: Record<'raw' | 'tp' | 'cgroup' | 'tcx' | 'xdp', number> = { raw: 0, tp: 0, cgroup: 0, tcx: 0, xdp: 0 };
  let ifindex = 0;

  // both tools run inside the test's namespace, so ifindexes name the test's veth
  const inNs = (cmd: string, args: string[]) => spawnSync('ip', ['netns', 'exec', net!.nsA, cmd, ...args], { encoding: 'utf8' });
  const tsbpf = (...args: string[]) => inNs(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args]);
  const bpftool = (...args: string[]) => {
    const r = inNs('bpftool', args);
    expect(r.status, `bpftool ${args.join(' ')}: ${r.stderr}`).to.equal(0);
    return r.stdout;
  };
  const ok = (...args: string[]) => {
    const r = tsbpf(...args);
    expect(r.status, `tsbpf ${args.join(' ')}: ${r.stdout}${r.stderr}`).to.equal(0);
    return r.stdout;
  };

  before(function () {
    requirePrivileged(this);
    try {
      net = createTestNetwork('link');
      cg = createTestCgroup('link');
      fs = createTestBpffs();
      const trace = loadObject('bpf/attach_trace.o', { constants: { syscall_nr: 110 } });
      objs.push(trace);
      const cgo = loadObject('bpf/attach_cgroup.o');
      objs.push(cgo);
      const tc = loadObject('bpf/tc_counter.o', { pinPath: fs.dir });
      objs.push(tc);
      const xdp = loadObject('bpf/packet_counter.o');
      objs.push(xdp);
      const add = <A extends Attachment>(a: A) => (links.push(a), a);
      ids.raw = add(attachRawTracepoint({ program: trace.programs.get('raw_sys_enter')!, name: 'sys_enter' })).info.linkId;
      ids.tp = add(attachTracepoint({ program: trace.programs.get('tp_getppid')!, category: 'syscalls', name: 'sys_enter_getppid', mode: 'link' })).info.linkId!;
      ids.cgroup = add(attachCgroup({ program: cgo.programs.get('cg_egress')!, cgroup: cg.path, mode: 'link' })).info.linkId!;
      ids.tcx = add(attachTcx({ program: tc.programs.get('tc_ingress')!, interface: net.vethA, direction: 'ingress', netns: net.nsA })).info.linkId;
      ids.xdp = add(attachXdpLink({ program: xdp.programs.get('packet_counter')!, interface: net.vethA, netns: net.nsA })).info.linkId;
      ifindex = ipLink(net.nsA, net.vethA).ifindex;
    } catch (e) {
      cleanup();
      throw e;
    }
  });

  function cleanup(): void {
    for (const l of links.splice(0)) try { l.detach(); } catch { /* already gone */ }
    for (const o of objs.splice(0)) o.close();
    fs?.cleanup();
    cg?.cleanup();
    net?.cleanup();
  }
  after(cleanup);

  /**
   * What bpftool 7.1 prints of tsbpf's text: the header line of each link, but the lines of data it
   * does not know dropped (perf_event, tcx, xdp) and a type it cannot name as `type N`.
   */
  const as71Text = (text: string) => text.split(/(?=^\d+: )/m).map((block) => {
    const m = /^(\d+): (\S+)  /.exec(block)!;
    if (m[2] === 'tcx') block = block.replace('tcx  ', 'type 11  ');
    if (['perf_event', 'tcx', 'xdp'].includes(m[2])) block = block.replace(/\n\t(?!pinned )[^\n]*/g, '');
    return block;
  }).join('');
  /** The same for JSON: the members 7.1 does not print removed, its number for the tcx type. */
  const as71Json = (o: Record<string, unknown>) => {
    const out = { ...o };
    if (out.type === 'tcx') out.type = 11;
    if (out.type === 'raw_tracepoint' || out.type === 'perf_event') delete out.cookie;
    for (const k of ['devname', 'ifindex', 'tracepoint']) delete out[k];
    if (out.type === 11) delete out.attach_type;
    return out;
  };
  const ours = (list: { id: number }[]) => list.filter((l) => Object.values(ids).includes(l.id));
  const ourBlocks = (text: string) => text.split(/(?=^\d+: )/m).filter((b) => Object.values(ids).includes(Number(/^\d+/.exec(b)?.[0]))).join('');

  it('show id N prints what bpftool 7.1 prints, plus what newer bpftool adds', () => {
    for (const [kind, id] of Object.entries(ids)) {
      const text = ok('link', 'show', 'id', String(id));
      expect(as71Text(text), kind).to.equal(bpftool('link', 'show', 'id', String(id)));
      const json = ok('link', 'show', 'id', String(id), '-j');
      expect(JSON.stringify(as71Json(JSON.parse(json))) + '\n', kind).to.equal(bpftool('-j', 'link', 'show', 'id', String(id)));
    }
    const prog = (id: number) => {
      const fd = getFdById('link', id);
      try {
        return linkDetails(fd.value).progId;
      } finally {
        fd.close();
      }
    };
    // newer bpftool's lines for what 7.1 leaves out
    expect(ok('link', 'show', 'id', String(ids.tcx))).to.equal(`${ids.tcx}: tcx  prog ${prog(ids.tcx)}  \n\tifindex ${net!.vethA}(${ifindex})  attach_type tcx_ingress  \n`);
    expect(ok('link', 'show', 'id', String(ids.xdp))).to.equal(`${ids.xdp}: xdp  prog ${prog(ids.xdp)}  \n\tifindex ${net!.vethA}(${ifindex})  \n`);
    expect(ok('link', 'show', 'id', String(ids.tp))).to.equal(`${ids.tp}: perf_event  prog ${prog(ids.tp)}  \n\ttracepoint sys_enter_getppid  \n`);
    expect(JSON.parse(ok('-j', 'link', 'show', 'id', String(ids.tcx)))).to.deep.equal({
      id: ids.tcx, type: 'tcx', prog_id: prog(ids.tcx), devname: net!.vethA, ifindex, attach_type: 'tcx_ingress',
    });
    expect(JSON.parse(ok('-j', 'link', 'show', 'id', String(ids.raw)))).to.include({ tp_name: 'sys_enter', cookie: 0 });
    // -p: bpftool's pretty layout, byte for byte
    expect(ok('-p', 'link', 'show', 'id', String(ids.cgroup))).to.equal(bpftool('-p', 'link', 'show', 'id', String(ids.cgroup)));
  });

  it('show lists every link (the test\'s own compared: others may come and go)', () => {
    expect(as71Text(ourBlocks(ok('link', 'show')))).to.equal(ourBlocks(bpftool('link', 'show')));
    expect(ourBlocks(ok('link', 'list'))).to.match(new RegExp(`^${ids.raw}: raw_tracepoint `));
    const all = JSON.parse(ok('link', 'show', '-j')) as Record<string, unknown>[];
    expect(ours(all as { id: number }[]).map((l) => as71Json(l as Record<string, unknown>)))
      .to.deep.equal(ours(JSON.parse(bpftool('-j', 'link', 'show'))));
    expect(ours(all as { id: number }[]).map((l) => l.id)).to.deep.equal(Object.values(ids).sort((a, b) => a - b));
  });

  it('pin, show -f and show pinned as bpftool; the pin holds the link; a map pin is refused', () => {
    const pin = join(fs!.dir, 'cglink');
    expect(ok('link', 'pin', 'id', String(ids.cgroup), pin)).to.equal('');
    expect(ok('link', 'pin', 'id', String(ids.raw), join(fs!.dir, 'rawlink'), '-j')).to.equal('null\n');
    expect(JSON.parse(bpftool('-j', 'link', 'show', 'pinned', pin))).to.include({ id: ids.cgroup });
    expect(ok('link', 'show', 'pinned', pin)).to.equal(bpftool('link', 'show', 'pinned', pin));
    expect(ok('link', 'show', 'pinned', pin, '-f')).to.equal(bpftool('-f', 'link', 'show', 'pinned', pin));
    expect(ok('link', 'show', 'id', String(ids.cgroup), '-f')).to.contain(`\n\tpinned ${pin}\n`);
    expect(as71Text(ourBlocks(ok('link', 'show', '-f')))).to.equal(ourBlocks(bpftool('-f', 'link', 'show')));
    const jf = ours(JSON.parse(ok('-j', 'link', 'show', '-f'))).map((l) => as71Json(l as unknown as Record<string, unknown>));
    expect(jf).to.deep.equal(ours(JSON.parse(bpftool('-j', '-f', 'link', 'show'))));
    expect(jf.find((l) => l.id === ids.raw)).to.deep.include({ pinned: [join(fs!.dir, 'rawlink')] });
    const map = tsbpf('link', 'show', 'pinned', join(fs!.dir, 'counter'));
    expect(map.status).to.equal(1);
    expect(map.stderr).to.equal(`Error: incorrect object type: map (${join(fs!.dir, 'counter')} is a pinned map, not a link)\n`);
    const again = tsbpf('link', 'pin', 'id', String(ids.cgroup), pin);
    expect(again.status).to.equal(1);
    expect(again.stderr).to.equal(`Error: can't pin the object (${pin}): File exists\n`);
  });

  it('detach takes the program off its hook; the link stays, defunct, while its pin holds it', () => {
    const pin = join(fs!.dir, 'tcxlink');
    ok('link', 'pin', 'id', String(ids.tcx), pin);
    // bpftool 7.1's net show has no tcx: the kernel is asked directly
    const tcxProgs = () => net!.inNs('A', () => progQuery({ targetIfindex: ifindex, attachType: BPF_ATTACH_TYPE.TCX_INGRESS }).progIds);
    expect(tcxProgs()).to.have.length(1);
    expect(ok('link', 'detach', 'pinned', pin)).to.equal('');
    // the kernel's view: no tcx program on the device, the link with ifindex 0
    expect(tcxProgs()).to.deep.equal([]);
    expect(ok('link', 'show', 'pinned', pin)).to.match(/\n\tifindex \(detached\)  attach_type tcx_ingress  \n$/);
    expect(as71Text(ok('link', 'show', 'id', String(ids.tcx)))).to.equal(bpftool('link', 'show', 'id', String(ids.tcx)));
    expect(ipLink(net!.nsA, net!.vethA).xdp?.prog?.id).to.be.a('number');
    expect(ok('link', 'detach', 'id', String(ids.xdp), '-j')).to.equal('null\n');
    expect(ipLink(net!.nsA, net!.vethA).xdp?.prog).to.equal(undefined);
    // raw tracepoint links cannot be detached: the kernel's refusal, in bpftool's words
    const raw = tsbpf('link', 'detach', 'id', String(ids.raw));
    expect(raw.status).to.equal(1);
    expect(raw.stderr).to.equal('Error: failed link detach: Operation not supported\n');
    expect(inNs('bpftool', ['link', 'detach', 'id', String(ids.raw)]).stderr).to.equal('Error: failed link detach: Operation not supported\n');
  });

  it('bad input is one Error: line and status 1 ({"error"} under -j)', () => {
    const cases: [string[], string][] = [
      [['link', 'show', 'id', '4294967295'], 'failed to get link with ID 4294967295: No such file or directory'],
      [['link', 'show', 'id', 'x1'], "can't parse x1 as ID"],
      [['link', 'show', 'id'], "what is 'id'?"],
      [['link', 'show', 'name', 'x'], "expected 'id' or 'pinned', got: 'name'?"],
      [['link', 'show', 'pinned', join(fs!.dir, 'nope')], `bpf obj get (${join(fs!.dir, 'nope')}): No such file or directory`],
      [['link', 'pin', 'id', String(ids.cgroup)], 'a path to pin at is required'],
      [['link', 'detach'], 'link specifier is invalid or missing'],
      [['link', 'detach', 'id', String(ids.cgroup), 'x'], 'link specifier is invalid or missing'],
    ];
    for (const [args, message] of cases) {
      const r = tsbpf(...args);
      expect(r.status, args.join(' ')).to.equal(1);
      expect(r.stdout, args.join(' ')).to.equal('');
      expect(r.stderr, args.join(' ')).to.equal(`Error: ${message}\n`);
      const j = tsbpf('-j', ...args);
      expect(j.status).to.equal(1);
      expect(JSON.parse(j.stdout)).to.deep.equal({ error: message });
    }
  });
});
