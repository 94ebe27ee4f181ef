// `tsbpf cgroup show|attach|detach` against bpftool 7.1: the same text and JSON for a cgroup with a
// link and a PROG_ATTACH program, attach/detach seen by bpftool, bad input as one error line.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestCgroup, type TestCgroup } from '../helpers/cgroup.js';
import { loadObject, attachCgroup, queryCgroup, type BpfObject } from '../../lib/index.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
const bpftool = (...args: string[]) => execFileSync('bpftool', args, { encoding: 'utf8' });

describe('tsbpf cgroup', function () {
  this.timeout(60_000);
  let cg: TestCgroup | undefined;
  let obj: BpfObject | undefined;
  before(function () { requirePrivileged(this); });
  afterEach(() => { obj?.close(); obj = undefined; cg?.cleanup(); cg = undefined; });

  it('show prints what bpftool cgroup show prints (text, effective, JSON)', () => {
    cg = createTestCgroup('cli');
    obj = loadObject('bpf/attach_cgroup.o');
    const a = attachCgroup({ program: obj.programs.get('cg_egress')!, cgroup: cg.path, mode: 'attach' });
    const b = attachCgroup({ program: obj.programs.get('cg_sockops')!, cgroup: cg.path });
    const c = attachCgroup({ program: obj.programs.get('cg_connect4')!, cgroup: cg.path });
    try {
      const ours = tsbpf('cgroup', 'show', cg.path);
      expect(ours.status, ours.stderr).to.equal(0);
      expect(ours.stdout).to.equal(bpftool('cgroup', 'show', cg.path));
      expect(ours.stdout).to.match(/cg_egress/);
      expect(tsbpf('cgroup', 'show', cg.path, 'effective').stdout).to.equal(bpftool('cgroup', 'show', cg.path, 'effective'));
      expect(JSON.parse(tsbpf('cgroup', 'show', cg.path, '-j').stdout)).to.deep.equal(JSON.parse(bpftool('-j', 'cgroup', 'show', cg.path)));
      // -p is bpftool's pretty layout byte for byte (it was "unknown option '-p'")
      expect(tsbpf('cgroup', 'show', cg.path, '-p').stdout).to.equal(bpftool('-p', 'cgroup', 'show', cg.path));
      expect(tsbpf('-p', 'cgroup', 'show', cg.path, 'effective').stdout).to.equal(bpftool('-p', 'cgroup', 'show', cg.path, 'effective'));
    } finally {
      for (const x of [a, b, c]) x.detach();
    }
    expect(tsbpf('cgroup', 'show', cg.path).stdout).to.equal(bpftool('cgroup', 'show', cg.path));
  });

  it('attach and detach by program id, as bpftool sees them; bad input is one error line', () => {
    cg = createTestCgroup('cli');
    obj = loadObject('bpf/attach_cgroup.o');
    const prog = obj.programs.get('cg_ingress')!;
    const r = tsbpf('cgroup', 'attach', cg.path, 'ingress', 'id', String(prog.id), 'multi');
    expect(r.status, r.stderr).to.equal(0);
    expect(r.stdout).to.equal(`attached cg_ingress (id ${prog.id}) to ${cg.path} cgroup_inet_ingress multi\n`);
    // the attachment outlives the command
    expect(JSON.parse(bpftool('-j', 'cgroup', 'show', cg.path))).to.deep.include({
      id: prog.id, attach_type: 'cgroup_inet_ingress', attach_flags: 'multi', name: 'cg_ingress', attach_btf_name: '', attach_btf_obj_id: 0, attach_btf_id: 0,
    });
    const d = tsbpf('cgroup', 'detach', cg.path, 'cgroup_inet_ingress', 'id', String(prog.id));
    expect(d.status, d.stderr).to.equal(0);
    expect(queryCgroup(cg.path, 'ingress').progIds).to.deep.equal([]);
    // under -j/-p attach and detach print bpftool's `null` (they refused the option)
    for (const opt of ['-j', '-p']) {
      const aj = tsbpf(opt, 'cgroup', 'attach', cg.path, 'ingress', 'id', String(prog.id), 'multi');
      expect(aj.status, aj.stdout + aj.stderr).to.equal(0);
      expect(aj.stdout).to.equal('null\n');
      expect(queryCgroup(cg.path, 'ingress').progIds).to.deep.equal([prog.id]);
      const dj = tsbpf('cgroup', 'detach', cg.path, 'ingress', 'id', String(prog.id), opt);
      expect(dj.status, dj.stdout + dj.stderr).to.equal(0);
      expect(dj.stdout).to.equal('null\n');
      expect(queryCgroup(cg.path, 'ingress').progIds).to.deep.equal([]);
    }
    const missing = `${cg.path}/nope`;
    const bad = tsbpf('cgroup', 'show', missing);
    expect(bad.status).to.equal(1);
    expect(bad.stderr.trim()).to.match(new RegExp(`^Error: .*cgroup ${missing}: does not exist$`));
    const wrong = tsbpf('cgroup', 'attach', cg.path, 'connect4', 'id', String(prog.id));
    expect(wrong.status).to.equal(1);
    expect(wrong.stderr.trim()).to.match(/^Error: .*cg_ingress is of type cgroup_skb; the cgroup_inet4_connect hook takes cgroup_sock_addr$/);
    expect(queryCgroup(cg.path, 'connect4').progIds).to.deep.equal([]);
  });
});
