// `tsbpf map create` against bpftool 7.1's: the same words create the same map (compared through
// `bpftool map show`, ids aside), print the same (nothing; null with -j) and fail with the same
// error where bpftool words it the same; a failure leaves no pin and no map. Each tool pins into
// its own private bpffs (bpftool mounts one over any directory that is not bpffs: never let it).
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { BpfMap } from '../../lib/map/index.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
const bpftool = (...args: string[]) => spawnSync('bpftool', args, { encoding: 'utf8' });
const rand = () => Math.random().toString(36).slice(2, 8);
const mapNames = () => (JSON.parse(bpftool('-j', 'map', 'show').stdout) as { name?: string }[]).map((m) => m.name);

describe('tsbpf map create against bpftool', function () {
  this.timeout(180_000);
  let ours: TestBpffs;
  let theirs: TestBpffs;
  let inner: BpfMap;
  before(function () {
    requirePrivileged(this);
    ours = createTestBpffs();
    theirs = createTestBpffs();
    inner = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2, name: `in_${rand()}` });
    inner.pin(path.join(ours.dir, 'inner'));
  });
  after(() => {
    inner?.close();
    ours?.cleanup();
    theirs?.cleanup();
  });

  it('creates and pins what bpftool creates (type, sizes, flags, name, inner_map); prints nothing, null with -j', () => {
    const specs = [
      ['type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'flags', '1'],
      ['type', 'array', 'key', '4', 'value', '8', 'entries', '0x10', 'flags', '0x400'],
      ['ty', 'percpu_array', 'k', '4', 'v', '24', 'e', '4'], // words by prefix, numbers as strtoul reads them
      ['entries', '32', 'value', '16', 'key', '12', 'type', 'lru_hash'], // any order
      ['type', 'lpm_trie', 'key', '8', 'value', '4', 'entries', '16', 'flags', '1'],
      ['type', 'queue', 'key', '0', 'value', '4', 'entries', '8'],
      ['type', 'ringbuf', 'key', '0', 'value', '0', 'entries', '4096'],
      ['type', 'bloom_filter', 'key', '0', 'value', '4', 'entries', '16'],
      ['type', 'hash_of_maps', 'key', '4', 'value', '4', 'entries', '4', 'inner_map', 'pinned', path.join(ours.dir, 'inner')],
      ['type', 'array_of_maps', 'key', '4', 'value', '4', 'entries', '4', 'inner_map', 'id', String(inner.info().id)],
    ];
    specs.forEach((spec, i) => {
      const name = `mc${i}_${rand()}`;
      const json = i % 2 === 1;
      const o = tsbpf('map', 'create', path.join(ours.dir, `m${i}`), ...spec, 'name', name, ...(json ? ['-j'] : []));
      const t = bpftool(...(json ? ['-j'] : []), 'map', 'create', path.join(theirs.dir, `m${i}`), ...spec, 'name', name);
      expect([o.status, o.stdout, o.stderr], spec.join(' ')).to.deep.equal([0, t.stdout, '']);
      expect(t.status, t.stderr).to.equal(0);
      for (const opt of [[], ['-j']]) {
        const show = (dir: string) => bpftool(...opt, 'map', 'show', 'pinned', path.join(dir, `m${i}`)).stdout.replace(/^\d+:|"id":\d+/, 'ID');
        expect(show(ours.dir), spec.join(' ')).to.equal(show(theirs.dir));
      }
    });
  });

  it('refusals: bpftool\'s error, no pin and no map left behind', () => {
    const name = `bad_${rand()}`;
    const taken = path.join(ours.dir, 'taken');
    const takenTheirs = path.join(theirs.dir, 'taken');
    tsbpf('map', 'create', taken, 'type', 'hash', 'key', '4', 'value', '4', 'entries', '1', 'name', `tk_${rand()}`);
    bpftool('map', 'create', takenTheirs, 'type', 'hash', 'key', '4', 'value', '4', 'entries', '1', 'name', `tk_${rand()}`);
    const cases: [string[], string][] = [
      [['type', 'hashy', 'key', '4', 'value', '8', 'entries', '16', 'name', name], 'unrecognized map type: hashy'],
      [['type', 'hash', 'key', '4', 'value', '8', 'entries', '16'], 'map name not specified'],
      [['type', 'hash', 'key', '4', 'key', '8', 'entries', '16', 'name', name], 'key size already specified'],
      [['type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', name, 'flags', '0x'], "can't parse 0x as flags"],
      [['type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', name, 'bogus', '1'], 'unknown arg bogus'],
      [['type', 'hash', 'key', '0', 'value', '8', 'entries', '16', 'name', name], 'map create failed: Invalid argument'],
      [['type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', name, 'dev', 'nosuchdev0'], "unrecognized netdevice 'nosuchdev0': No such device"],
      [['type', 'hash', 'key', '4', 'value', '8', 'entries', '16', 'name', name, 'dev', 'lo'], 'map create failed: Operation not supported'],
    ];
    for (const [spec, msg] of cases) {
      const at = (dir: string) => path.join(dir, 'never');
      const o = tsbpf('map', 'create', at(ours.dir), ...spec);
      const t = bpftool('map', 'create', at(theirs.dir), ...spec);
      expect([o.status, o.stdout, o.stderr], spec.join(' ')).to.deep.equal([1, '', `Error: ${msg}\n`]);
      expect(t.stderr, spec.join(' ')).to.equal(`Error: ${msg}\n`);
      const oj = tsbpf('-j', 'map', 'create', at(ours.dir), ...spec);
      expect(oj.stdout).to.equal(bpftool('-j', 'map', 'create', at(theirs.dir), ...spec).stdout);
      expect(existsSync(at(ours.dir))).to.equal(false);
    }
    // the pin exists: the map made for it goes again
    const o = tsbpf('map', 'create', taken, 'type', 'hash', 'key', '4', 'value', '4', 'entries', '1', 'name', name);
    const t = bpftool('map', 'create', takenTheirs, 'type', 'hash', 'key', '4', 'value', '4', 'entries', '1', 'name', name);
    expect(o.stderr).to.equal(`Error: can't pin the object (${taken}): File exists\n`);
    expect(t.stderr).to.equal(`Error: can't pin the object (${takenTheirs}): File exists\n`);
    // tsbpf only (bpftool would mount a bpffs or cut the name): a path off bpffs, a missing directory, a long name
    for (const [file, nm, msg] of [
      ['/tmp/tsbpf-not-bpffs-pin', name, /^Error: can't pin the object \(\/tmp\/tsbpf-not-bpffs-pin\): .* is not on a bpffs mount/],
      [path.join(ours.dir, 'nodir', 'm'), name, /directory .*nodir does not exist/],
      [path.join(ours.dir, 'long'), 'a_name_longer_than_15', /^Error: map create failed: map name "a_name_longer_than_15": at most 15 characters/],
    ] as const) {
      const r = tsbpf('map', 'create', file, 'type', 'hash', 'key', '4', 'value', '4', 'entries', '1', 'name', nm);
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(msg);
      expect(existsSync(file)).to.equal(false);
    }
    expect(mapNames()).to.not.include(name);
    expect(mapNames()).to.not.include('a_name_longer_t');
    expect(readdirSync(ours.dir).filter((n) => !n.endsWith('.debug') && !/^m\d$/.test(n)).sort()).to.deep.equal(['inner', 'taken']);
  });
});
