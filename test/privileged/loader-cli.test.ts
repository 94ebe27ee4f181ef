// `tsbpf prog load OBJ PATH` and `tsbpf prog loadall OBJ PINDIR` with `[type TYPE] [map {idx|name}
// MAP] [pinmaps DIR]` against bpftool's: the same program pinned and the same pin layout for objects
// Debian's libbpf 1.1 loads, the seed object it cannot load, maps reused by index and by name, the
// same errors, and nothing pinned on failure.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
const bpftool = (...args: string[]) => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
const bpftoolRun = (...args: string[]) => spawnSync('bpftool', args, { encoding: 'utf8' });
/** What `prog show` says of a pinned program apart from what differs between two loads (ids, load time, maps). */
const shown = (pin: string) => {
  const { id, loaded_at, map_ids, btf_id, ...rest } = bpftool('prog', 'show', 'pinned', pin);
  return { ...rest, maps: (map_ids as number[] | undefined)?.length ?? 0, btf: btf_id !== undefined };
};
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

  it('prog load pins the first program (by section, then offset) as bpftool prog load does; prints nothing, null with -j', () => {
    const r = tsbpf('prog', 'load', 'bpf/obj_tailcall.o', path.join(ours.dir, 'tail'));
    expect([r.status, r.stdout, r.stderr]).to.deep.equal([0, '', '']);
    execFileSync('bpftool', ['prog', 'load', 'bpf/obj_tailcall.o', path.join(theirs.dir, 'tail')], { stdio: 'pipe' }); // libbpf's notes on stderr
    expect(shown(path.join(ours.dir, 'tail'))).to.deep.equal(shown(path.join(theirs.dir, 'tail')));
    expect(shown(path.join(ours.dir, 'tail')).name).to.equal('tail_zero');
    const j = tsbpf('-j', 'prog', 'load', 'bpf/xdp_hello.o', path.join(ours.dir, 'hello'), 'type', 'xdp');
    expect([j.status, j.stdout]).to.deep.equal([0, bpftoolRun('-j', 'prog', 'load', 'bpf/xdp_hello.o', path.join(theirs.dir, 'hello'), 'type', 'xdp').stdout]);
    expect(shown(path.join(ours.dir, 'hello'))).to.deep.equal(shown(path.join(theirs.dir, 'hello')));
    // only the pinned program outlives the command (the others went with the object)
    expect(pins(ours.dir)).to.deep.equal(['hello', 'tail']);
  });

  it('type TYPE: every program gets the type of that section name (the seed object as classifier, which bpftool 7.1 cannot name by its sections)', () => {
    const r = tsbpf('prog', 'load', 'bpf/tc_counter.o', path.join(ours.dir, 'cls'), 'type', 'classifier', 'pinmaps', path.join(ours.dir, 'maps'));
    expect(r.status, r.stderr).to.equal(0);
    expect(bpftool('prog', 'show', 'pinned', path.join(ours.dir, 'cls'))).to.include({ type: 'sched_cls', name: 'tc_ingress' });
    expect(pins(path.join(ours.dir, 'maps'))).to.deep.equal(['counter', 'tc_count_rodata']);
  });

  it('map idx N / map name NAME hand an existing map to the object, counted and named as bpftool does', () => {
    for (const fs of [ours, theirs]) {
      const tool = fs === ours ? tsbpf : bpftoolRun;
      const r = tool('prog', 'loadall', 'bpf/obj_globals.o', path.join(fs.dir, 'first'), 'pinmaps', path.join(fs.dir, 'maps'));
      expect(r.status, r.stderr).to.equal(0);
      const data = path.join(fs.dir, 'maps', 'obj_glob_data');
      const custom = bpftool('map', 'show', 'pinned', path.join(fs.dir, 'maps', '_data_custom')).id;
      // libbpf's order for this object: .rodata, .data, .data.custom, .rodata.custom, .bss
      const l = tool('prog', 'load', 'bpf/obj_globals.o', path.join(fs.dir, 'again'), 'map', 'idx', '1', 'pinned', data, 'map', 'name', '.data.custom', 'id', String(custom));
      expect([l.status, l.stderr], fs.dir).to.deep.equal([0, '']);
      const ids = bpftool('prog', 'show', 'pinned', path.join(fs.dir, 'again')).map_ids as number[];
      expect(ids).to.include(bpftool('map', 'show', 'pinned', data).id);
      expect(ids).to.include(custom);
      expect(ids).to.not.include(bpftool('map', 'show', 'pinned', path.join(fs.dir, 'maps', 'obj_glob_bss')).id);
    }
  });

  it('refusals: bpftool\'s words where it has them, the pin and maps directories left empty', () => {
    const data = path.join(ours.dir, 'data');
    const m = tsbpf('map', 'create', data, 'type', 'array', 'key', '4', 'value', '24', 'entries', '1', 'name', 'data');
    expect(m.status, m.stderr).to.equal(0);
    const theirData = path.join(theirs.dir, 'data');
    execFileSync('bpftool', ['map', 'create', theirData, 'type', 'array', 'key', '4', 'value', '24', 'entries', '1', 'name', 'data']);
    const same: [string[], string][] = [
      [['map', 'idx', '9', 'pinned', 'DATA'], "map idx '9' not used"],
      [['map', 'name', 'nope', 'pinned', 'DATA'], "unable to find map 'nope'"],
      [['map', 'idx', '1', 'pinned', 'DATA', 'map', 'name', 'obj_glob.data', 'pinned', 'DATA'], 'replacement for map idx 1 specified more than once'],
      [['map', 'key', '1', 'pinned', 'DATA'], "expected 'idx' or 'name', got: 'key'?"],
      [['map', 'idx', 'x', 'pinned', 'DATA'], "can't parse x as IDX"],
      [['map', 'idx', '1', 'id', '4294967295'], 'get map by id (4294967295): No such file or directory'],
      [['type', 'xdp', 'type', 'xdp'], 'program type already specified'],
    ];
    for (const [words, msg] of same) {
      const o = tsbpf('prog', 'load', 'bpf/obj_globals.o', path.join(ours.dir, 'p'), ...words.map((w) => (w === 'DATA' ? data : w)));
      const t = bpftoolRun('prog', 'load', 'bpf/obj_globals.o', path.join(theirs.dir, 'p'), ...words.map((w) => (w === 'DATA' ? theirData : w)));
      expect([o.status, o.stdout, o.stderr], words.join(' ')).to.deep.equal([1, '', `Error: ${msg}\n`]);
      expect(t.stderr, words.join(' ')).to.contain(`Error: ${msg}\n`);
    }
    const only: [string[], RegExp][] = [
      [['bpf/obj_globals.o', path.join(ours.dir, 'p'), 'type', 'nosuchtype'], /^Error: unrecognized program type 'nosuchtype'/],
      [['bpf/obj_globals.o', path.join(ours.dir, 'p'), 'dev', 'lo'], /^Error: 'dev' \(hardware offload\) is not supported/],
      // libbpf would take a map that differs from the definition: tsbpf says how it differs
      [['bpf/obj_globals.o', path.join(ours.dir, 'p'), 'map', 'idx', '0', 'pinned', data], /does not match its definition: value_size 24 given, 16 defined/],
      [['bpf/obj_globals.o', path.join(ours.dir, 'data')], /^Error: can't pin the object \(.*data\): File exists\n$/],
      [['bpf/obj_globals.o', '/tmp/tsbpf-no-bpffs-prog'], /^Error: can't pin the object \(\/tmp\/tsbpf-no-bpffs-prog\): .*not on a bpffs mount/],
      [['bpf/obj_globals.o', path.join(ours.dir, 'nodir', 'p')], /directory .*nodir does not exist/],
      [['bpf/obj_bad_license.o', path.join(ours.dir, 'p'), 'pinmaps', path.join(ours.dir, 'badmaps')], /GPL-restricted/],
      [['bpf/obj_globals.o'], /^Error: usage: tsbpf prog load OBJ PATH/],
    ];
    for (const [args, msg] of only) {
      const o = tsbpf('prog', 'load', ...args);
      expect(o.status, args.join(' ')).to.equal(1);
      expect(o.stderr, args.join(' ')).to.match(msg);
    }
    expect(pins(ours.dir)).to.deep.equal(['data']);
  });
});
