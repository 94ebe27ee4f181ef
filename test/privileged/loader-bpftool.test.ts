// Differential: tsbpf's loadObject against bpftool's `prog loadall` (Debian's libbpf 1.1) on the
// same object files, built by each available compiler. For every program: the same type, the same
// tag (the kernel's hash of the instructions as loaded), the same translated instructions once map
// ids are replaced by map names, the same BTF func info; for every map it uses: the same name,
// type, sizes, flags and BTF key/value type ids.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { loadObject, type BpfObject } from '../../lib/object/index.js';

const bpftool = (...args: string[]) => JSON.parse(execFileSync('bpftool', ['-j', ...args], { encoding: 'utf8' }));
const xlated = (id: number) => execFileSync('bpftool', ['prog', 'dump', 'xlated', 'id', String(id)], { encoding: 'utf8' });

// objects Debian's libbpf 1.1 can load (no legacy maps section, no section names newer than 1.1)
const OBJECTS = ['obj_globals', 'obj_subprog', 'obj_callback', 'obj_tailcall', 'obj_mapinmap', 'codec_conns'];
const BUILDS = [
  { name: 'clang', dir: 'bpf' },
  { name: 'clang-16', dir: 'bpf/build/clang16' },
  { name: 'clang-19', dir: 'bpf/build/clang19' },
  { name: 'clang -mcpu=v3', dir: 'bpf/build/v3' },
];

interface MapFacts { name: string; type: string; bytes_key: number; bytes_value: number; max_entries: number; flags: number; btf_key_type_id?: number; btf_value_type_id?: number }

function mapFacts(id: number): MapFacts {
  const m = bpftool('map', 'show', 'id', String(id));
  return {
    name: m.name, type: m.type, bytes_key: m.bytes_key, bytes_value: m.bytes_value, max_entries: m.max_entries, flags: m.flags,
    btf_key_type_id: m.btf_key_type_id ?? 0, btf_value_type_id: m.btf_value_type_id ?? 0,
  };
}

/** A program as loaded: type, tag, its maps, the translated code with map ids named, func info names. */
function progFacts(id: number) {
  const p = bpftool('prog', 'show', 'id', String(id));
  const maps = ((p.map_ids ?? []) as number[]).map(mapFacts);
  const names = new Map(((p.map_ids ?? []) as number[]).map((mid, i) => [String(mid), maps[i].name]));
  const code = xlated(id)
    .replace(/map\[id:(\d+)\]/g, (_, mid: string) => `map[${names.get(mid) ?? `?${mid}`}]`)
    // the values' kernel addresses differ from load to load
    .replace(/0x[0-9a-f]{12,16}/g, 'ADDR');
  return { type: p.type, tag: p.tag, name: p.name, gpl: p.gpl_compatible, maps: maps.sort((a, b) => a.name.localeCompare(b.name)), code };
}

describe('loadObject vs bpftool prog loadall (libbpf 1.1)', () => {
  let fs: TestBpffs;
  let obj: BpfObject | undefined;
  before(function () {
    requirePrivileged(this);
    try { execFileSync('bpftool', ['version'], { stdio: 'pipe' }); } catch { this.skip(); }
  });
  beforeEach(() => { fs = createTestBpffs(); });
  afterEach(() => {
    obj?.close();
    obj = undefined;
    fs?.cleanup(); // unmounting drops bpftool's pins: its programs and maps go with them
  });

  for (const build of BUILDS) {
    for (const name of OBJECTS) {
      const file = path.join(build.dir, `${name}.o`);
      it(`${name}.o built by ${build.name}: same programs, code and maps`, function () {
        if (!existsSync(file)) this.skip();
        const pinDir = path.join(fs.dir, 'progs');
        execFileSync('bpftool', ['prog', 'loadall', file, pinDir], { stdio: 'pipe' });
        obj = loadObject(file);
        expect(obj.programs.size).to.be.greaterThan(0);
        for (const [pname, p] of obj.programs) {
          const theirs = progFacts(bpftool('prog', 'show', 'pinned', path.join(pinDir, pname)).id);
          const ours = progFacts(p.id);
          expect(ours.name, pname).to.equal(theirs.name);
          expect(ours.type, pname).to.equal(theirs.type);
          expect(ours.gpl, pname).to.equal(theirs.gpl);
          expect(ours.maps, `${pname}: maps`).to.deep.equal(theirs.maps);
          expect(ours.code, `${pname}: translated code`).to.equal(theirs.code);
          expect(ours.tag, `${pname}: tag`).to.equal(theirs.tag);
        }
      });
    }
  }
});
