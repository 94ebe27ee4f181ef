// `tsbpf prog loadall FILE PINDIR [pinmaps DIR]` against bpftool's: the same pin layout for an
// object Debian's libbpf 1.1 loads, the seed object it cannot load, and nothing pinned on failure.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
const bpftool = (...args: string[]) => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
const pins = (dir: string) => readdirSync(dir).filter((n) => !n.endsWith('.debug')).sort();

describe('tsbpf prog loadall', () => {
  let ours: TestBpffs;
  let theirs: TestBpffs;
  before(function () { requirePrivileged(this); });
  beforeEach(() => { ours = createTestBpffs(); theirs = createTestBpffs(); });
  afterEach(() => { ours?.cleanup(); theirs?.cleanup(); });

  it('pins programs and maps where bpftool prog loadall … pinmaps does', () => {
    const r = tsbpf('prog', 'loadall', 'bpf/obj_globals.o', path.join(ours.dir, 'progs'), 'pinmaps', path.join(ours.dir, 'maps'));
    expect(r.status, r.stderr).to.equal(0);
    execFileSync('bpftool', ['prog', 'loadall', 'bpf/obj_globals.o', path.join(theirs.dir, 'progs'), 'pinmaps', path.join(theirs.dir, 'maps')]);
    expect(pins(path.join(ours.dir, 'progs'))).to.deep.equal(pins(path.join(theirs.dir, 'progs')));
    expect(pins(path.join(ours.dir, 'maps'))).to.deep.equal(pins(path.join(theirs.dir, 'maps')));
    // the pinned program outlives the CLI process and uses the pinned maps
    const prog = bpftool('prog', 'show', 'pinned', path.join(ours.dir, 'progs', 'globals_prog'));
    const data = bpftool('map', 'show', 'pinned', path.join(ours.dir, 'maps', 'obj_glob_data'));
    expect(prog.map_ids).to.include(data.id);
    expect(r.stdout).to.match(new RegExp(`prog globals_prog id ${prog.id} pinned`));
  });

  it('loads the seed object bpftool 7.1 cannot (tc/ingress, tc/egress); the by-name map goes under pinmaps', () => {
    const b = spawnSync('bpftool', ['prog', 'loadall', 'bpf/tc_counter.o', path.join(theirs.dir, 'progs')], { encoding: 'utf8' });
    expect(b.status).to.not.equal(0);
    const r = tsbpf('prog', 'loadall', 'bpf/tc_counter.o', path.join(ours.dir, 'progs'), 'pinmaps', path.join(ours.dir, 'maps'), '-j');
    expect(r.status, r.stderr).to.equal(0);
    const out = JSON.parse(r.stdout);
    expect(out.programs.map((p: { name: string }) => p.name)).to.deep.equal(['tc_ingress', 'tc_egress']);
    expect(pins(path.join(ours.dir, 'maps'))).to.deep.equal(['counter', 'tc_count_rodata']);
    const shown = bpftool('prog', 'show', 'pinned', path.join(ours.dir, 'progs', 'tc_egress'));
    expect(shown.type).to.equal('sched_cls');
    expect(bpftool('map', 'dump', 'pinned', path.join(ours.dir, 'maps', 'counter'))).to.have.length(2);
  });

  it('a failing load pins nothing and says why', () => {
    const r = tsbpf('prog', 'loadall', 'bpf/obj_bad_license.o', path.join(ours.dir, 'progs'), 'pinmaps', path.join(ours.dir, 'maps'));
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/gpl_only/);
    expect(r.stderr).to.match(/GPL-restricted/);
    expect(pins(ours.dir)).to.deep.equal([]);
  });
});
