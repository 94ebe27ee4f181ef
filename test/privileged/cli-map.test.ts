// `tsbpf map …` and `tsbpf prog show` against bpftool 7.1 (the oracle) on the same kernel objects:
// codec_conns.o loaded and its maps pinned in a private bpffs, plus a map without BTF. Outputs are
// compared byte for byte where bpftool prints only what tsbpf reads too (sizes, memlock from
// fdinfo, BTF ids, pins, formatted values); load times within a second.
import { expect } from 'chai';
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { loadObject } from '../../lib/object/load.js';
import type { BpfObject } from '../../lib/object/object.js';
import { BpfMap, possibleCpus } from '../../lib/map/index.js';

const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8' });
const bpftool = (...args: string[]) => spawnSync('bpftool', args, { encoding: 'utf8' });
const ok = (r: ReturnType<typeof tsbpf>) => {
  expect(r.status, r.stderr).to.equal(0);
  return r.stdout;
};
/** The same command through both tools: stdout and exit status (0 or not) must agree. */
function same(args: string[], json = false): string {
  const ours = tsbpf(...args, ...(json ? ['-j'] : []));
  const theirs = bpftool(...(json ? ['-j'] : []), ...args);
  expect(ours.stdout, `tsbpf ${args.join(' ')}`).to.equal(theirs.stdout);
  expect(ours.status === 0, ours.stderr).to.equal(theirs.status === 0);
  return ours.stdout;
}
const rand = () => Math.random().toString(36).slice(2, 8);

describe('tsbpf map / prog show against bpftool', function () {
  this.timeout(120_000);
  let fs: TestBpffs;
  let obj: BpfObject;
  let raw: BpfMap;
  const pin = (name: string) => path.join(fs.dir, name);
  before(function () {
    requirePrivileged(this);
    fs = createTestBpffs();
    obj = loadObject('bpf/codec_conns.o');
    for (const name of ['conns', 'stats', 'kitchen']) obj.maps.get(name)!.pin(pin(name));
    obj.programs.get('codec_touch')!.pin(pin('codec_touch'));
    raw = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 16, name: `raw_${rand()}` });
    raw.pin(pin('raw'));
  });
  after(() => {
    obj?.close();
    raw?.close();
    fs?.cleanup();
  });

  it('map show: plain and -j identical to bpftool (with -f pins, memlock, btf_id)', () => {
    for (const name of ['conns', 'stats', 'kitchen', 'raw']) {
      same(['map', 'show', 'pinned', pin(name), '-f']);
      const j = JSON.parse(same(['map', 'show', 'pinned', pin(name), '-f'], true));
      expect(j.pinned).to.deep.equal([pin(name)]);
    }
    const conns = JSON.parse(ok(tsbpf('map', 'show', 'pinned', pin('conns'), '-j')));
    expect(conns).to.include({ type: 'lru_hash', name: 'conns', bytes_key: 12, bytes_value: 16, max_entries: 1024, flags: 0 });
    expect(conns.btf_id).to.be.above(0);
    // by id, and within the listing of every map
    same(['map', 'show', 'id', String(conns.id)]);
    const all = JSON.parse(ok(tsbpf('map', 'show', '-j'))) as { id: number }[];
    expect(all.find((m) => m.id === conns.id)).to.deep.equal(conns);
  });

  it('map update/lookup/delete take bpftool\'s argument shape; dump plain and -j identical to bpftool', () => {
    const key = ['key', '10', '0', '0', '1', '0x0a', '0', '0', '2', '17', '0', '0', '0'];
    ok(tsbpf('map', 'update', 'pinned', pin('conns'), ...key, 'value', 'hex', '03', '00', '00', '00', '00', '00', '00', '00', 'b4', '00', '00', '00', '00', '00', '00', '00'));
    // what bpftool reads is what we wrote (and the typed map agrees)
    const b = JSON.parse(bpftool('-j', 'map', 'lookup', 'pinned', pin('conns'), ...key).stdout);
    expect(b.formatted).to.deep.equal({ key: { saddr: 0x0100000a, daddr: 0x0200000a, proto: 17, pad: [0, 0, 0] }, value: { packets: 3, bytes: 180 } });
    execFileSync('bpftool', ['map', 'update', 'pinned', pin('conns'), 'key', '1', '2', '3', '4', '5', '6', '7', '8', '6', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0', '60', '0', '0', '0', '0', '0', '0', '0']);
    for (const json of [false, true]) {
      same(['map', 'dump', 'pinned', pin('conns')], json);
      same(['map', 'lookup', 'pinned', pin('conns'), ...key], json);
    }
    ok(tsbpf('map', 'delete', 'pinned', pin('conns'), ...key));
    for (const json of [false, true]) same(['map', 'lookup', 'pinned', pin('conns'), ...key], json); // not found, both
    const left = JSON.parse(ok(tsbpf('map', 'dump', 'pinned', pin('conns'), '-j')));
    expect(left).to.have.length(1);
    expect(left[0].formatted.value).to.deep.equal({ packets: 1, bytes: 60 });
  });

  it('per-CPU: an update writes every CPU; dump shows "values": [{"cpu": n, "value": …}] like bpftool', () => {
    ok(tsbpf('map', 'update', 'pinned', pin('stats'), 'key', '0', '0', '0', '0', 'value', '7', '0', '0', '0', '0', '0', '0', '0', '0x10', '1', '0', '0', '0', '0', '0', '0'));
    for (const json of [false, true]) same(['map', 'dump', 'pinned', pin('stats')], json);
    const d = JSON.parse(ok(tsbpf('map', 'dump', 'pinned', pin('stats'), '-j')));
    expect(d[0].formatted.values).to.deep.equal(Array.from({ length: possibleCpus() }, (_, cpu) => ({ cpu, value: { packets: 7, bytes: 272 } })));
  });

  it('kitchen struct: identical to bpftool up to the float member (where bpftool 7.1 stops); bitfields hex, enum by name, char[] as string', () => {
    const bytes = 'aa 00 fe ff 8d 7d 00 00 02 00 00 00 68 69 00 00 00 00 00 00 00 00 00 00 88 77 66 55 44 33 22 11 fb ff ff ff ff ff ff ff 00 00 00 3f 00 00 00 00 00 00 00 00 00 00 f4 bf 01 02 03 04 01 00 00 00'.split(' ');
    ok(tsbpf('map', 'update', 'pinned', pin('kitchen'), 'key', '0', '0', '0', '0', 'value', 'hex', ...bytes));
    const ours = ok(tsbpf('map', 'dump', 'pinned', pin('kitchen')));
    const theirs = bpftool('map', 'dump', 'pinned', pin('kitchen')).stdout;
    const cut = theirs.indexOf('"ratio": ');
    expect(cut).to.be.above(0);
    expect(ours.slice(0, cut)).to.equal(theirs.slice(0, cut));
    expect(ours.slice(cut)).to.match(/^"ratio": 0\.5,\n\s+"mean": -1\.25,/);
    const j = JSON.parse(ok(tsbpf('map', 'dump', 'pinned', pin('kitchen'), '-j')));
    expect(j[0].formatted.value).to.deep.include({ a: 170, b: -2, flags: '0x5', level: '0x11', delta: '0x7d', color: 'GREEN', comm: 'hi', neg: -5, ratio: 0.5, mean: -1.25, ok: true });
    expect(j[0].formatted.value['']).to.deep.equal({ ip4: 0x04030201, ip6: [1, 2, 3, 4] });
  });

  it('a map without BTF: hex entries and "Found N elements" like bpftool; by id too', () => {
    same(['map', 'dump', 'pinned', pin('raw')]); // empty
    ok(tsbpf('map', 'update', 'pinned', pin('raw'), 'key', '1', '0', '0', '0', 'value', '0xff', '0', '0', '0', '0', '0', '0', '1'));
    ok(tsbpf('map', 'update', 'pinned', pin('raw'), 'key', '2', '0', '0', '0', 'value', '2', '0', '0', '0', '0', '0', '0', '0', 'noexist'));
    const id = String(raw.info().id);
    for (const json of [false, true]) {
      same(['map', 'dump', 'id', id], json);
      same(['map', 'lookup', 'id', id, 'key', '2', '0', '0', '0'], json);
    }
    expect(ok(tsbpf('map', 'dump', 'id', id))).to.match(/Found 2 elements\n$/);
    same(['map', 'show', 'id', `0x${Number(id).toString(16)}`]); // ids as strtoul reads them, like bpftool
    same(['map', 'show', 'id', `0${Number(id).toString(8)}`]);
    expect(raw.lookup(1)).to.deep.equal(Uint8Array.from([0xff, 0, 0, 0, 0, 0, 0, 1]));
  });

  it('maps without keys (queue, stack, bloom filter): dump lists nothing, as bpftool ("Found 0 elements", [])', () => {
    for (const type of ['queue', 'stack', 'bloom_filter'] as const) {
      const m = BpfMap.create({ type, keySize: 0, valueSize: 4, maxEntries: 4, name: `kl_${rand()}` });
      try {
        m.push(Uint8Array.of(1, 2, 3, 4));
        m.pin(pin(`kl_${type}`));
        for (const json of [false, true]) {
          const ours = tsbpf('map', 'dump', 'pinned', pin(`kl_${type}`), ...(json ? ['-j'] : []));
          const theirs = bpftool(...(json ? ['-j'] : []), 'map', 'dump', 'pinned', pin(`kl_${type}`));
          // bpftool prints the same and exits with its failed GET_NEXT_KEY's -EINVAL (234): tsbpf exits 0
          expect(ours.stdout, `${type} ${json}`).to.equal(theirs.stdout);
          expect(ours.status, ours.stderr).to.equal(0);
        }
      } finally {
        m.close();
      }
    }
  });

  it('getnext, peek, push/enqueue, pop/dequeue, freeze and pin print what bpftool prints', () => {
    const h = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: `gn_${rand()}` });
    const q = BpfMap.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 4, name: `q_${rand()}` });
    const q2 = BpfMap.create({ type: 'queue', keySize: 0, valueSize: 4, maxEntries: 4, name: `q2_${rand()}` });
    try {
      h.update(1, Uint8Array.of(5, 0, 0, 0));
      h.update(2, Uint8Array.of(6, 0, 0, 0));
      h.pin(pin('gn'));
      // the walk order is the hash's (a random seed per map): ask the map which key comes last
      const first = h.nextKey(undefined)!;
      const last = h.nextKey(first)!;
      const keyArgs = (k: Uint8Array) => ['key', ...[...k].map(String)];
      for (const json of [false, true]) {
        same(['map', 'getnext', 'pinned', pin('gn')], json);
        same(['map', 'getnext', 'pinned', pin('gn'), ...keyArgs(first)], json);
      }
      // after the last key both fail (under -j with the error object on stdout)
      for (const json of [false, true]) same(['map', 'getnext', 'pinned', pin('gn'), ...keyArgs(last)], json);
      // the same operations on two queues, one through each tool: the same output and the same contents
      q.pin(pin('qa'));
      q2.pin(pin('qb'));
      const both = (args: (p: string) => string[], json = false) => {
        const ours = tsbpf(...args(pin('qa')), ...(json ? ['-j'] : []));
        const theirs = bpftool(...(json ? ['-j'] : []), ...args(pin('qb')));
        expect(ours.stdout, args('Q').join(' ')).to.equal(theirs.stdout);
        expect(ours.status === 0, `${args('Q').join(' ')}: ${ours.stderr}`).to.equal(theirs.status === 0);
      };
      both((p) => ['map', 'peek', 'pinned', p]); // empty: "Not found"
      both((p) => ['map', 'push', 'pinned', p, 'value', '1', '2', '3', '4']);
      both((p) => ['map', 'enqueue', 'pinned', p, 'value', '5', '6', '7', '8']);
      both((p) => ['map', 'peek', 'pinned', p], true);
      both((p) => ['map', 'pop', 'pinned', p]);
      both((p) => ['map', 'dequeue', 'pinned', p], true);
      both((p) => ['map', 'pop', 'pinned', p]); // empty: bpftool's "Error: empty map" (on stdout) and a failure status
      both((p) => ['map', 'pop', 'pinned', p], true);
      both((p) => ['map', 'freeze', 'pinned', p]);
      both((p) => ['map', 'push', 'pinned', p, 'value', '1', '2', '3', '4']); // frozen: refused by both
      ok(tsbpf('map', 'pin', 'pinned', pin('gn'), pin('gn2')));
      expect(BpfMap.fromPin(pin('gn2')).info().id).to.equal(h.info().id);
      expect(tsbpf('map', 'pin', 'pinned', pin('gn'), pin('gn2')).stderr).to.match(/^Error: can't pin the object \(.*gn2\): File exists\n$/);
      ok(tsbpf('prog', 'pin', 'pinned', pin('codec_touch'), pin('prog2')));
      expect(bpftool('prog', 'show', 'pinned', pin('prog2')).stdout).to.equal(bpftool('prog', 'show', 'pinned', pin('codec_touch')).stdout);
    } finally {
      for (const name of ['prog2', 'gn2', 'gn', 'qa', 'qb']) rmSync(pin(name), { force: true });
      h.close();
      q.close();
      q2.close();
    }
  });

  it('a dump piped into a reader that stops early (| head) ends quietly with status 0', () => {
    const big = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8192, name: `big_${rand()}` });
    try {
      for (let i = 0; i < 8192; i++) big.update(i, new Uint8Array(8).fill(i & 0xff));
      big.pin(pin('big'));
      // ~400 KB of output: far more than a pipe holds, so the writer meets a closed pipe
      const r = spawnSync('bash', ['-c', `set -o pipefail; ${process.execPath} --import tsx lib/cli/main.ts map dump pinned ${pin('big')} | head -c 64 >/dev/null`], { encoding: 'utf8' });
      expect(r.stderr).to.equal('');
      expect(r.status).to.equal(0);
    } finally {
      big.close();
    }
  });

  it('bad input: one Error: line on stderr, exit status 1, no stack trace', () => {
    const cases: [string[], RegExp][] = [
      [['map', 'dump', 'id', '4294967295'], /^Error: get map by id \(4294967295\): No such file or directory\n$/],
      [['map', 'dump', 'pinned', pin('codec_touch')], /is a pinned prog, not a map/],
      [['map', 'show', 'pinned', pin('nothing')], /No such file or directory/],
      [['map', 'dump', 'pinned', '/proc/version'], /not on a bpffs mount/],
      [['map', 'lookup', 'pinned', pin('stats'), 'key', '0', '0', '0'], /key expected 4 bytes got 3/],
      [['map', 'update', 'pinned', pin('stats'), 'key', '0', '0', '0', '0', '0', 'value', '1'], /expected key or value, got: 0|value expected/],
      [['map', 'update', 'pinned', pin('raw'), 'key', '1', '0', '0', '0', 'value', '256', '0', '0', '0', '0', '0', '0', '0'], /value byte 256 does not fit in a byte/],
      [['map', 'update', 'pinned', pin('raw'), 'key', 'x1', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0'], /error parsing byte: x1/],
      [['map', 'update', 'pinned', pin('stats'), 'key', '1', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0', '0'], /update failed: Argument list too long/],
      [['map', 'update', 'pinned', pin('raw'), 'key', '1', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0', 'noexist'], /update failed: File exists/],
      [['map', 'delete', 'pinned', pin('raw'), 'key', '9', '0', '0', '0'], /delete failed: No such file or directory/],
      [['map', 'dump', 'tag', 'conns'], /expected 'id', 'name' or 'pinned', got: 'tag'/],
      [['map', 'dump', 'name', `nomap_${rand()}`], /no map matches name nomap_/],
      [['map', 'dump', 'name', 'a_name_too_long_for_a_map'], /can't parse name/],
      [['prog', 'show', 'id', '4294967295'], /get by id \(4294967295\): No such file or directory/],
      [['prog', 'show', 'tag', '12345'], /can't parse tag/],
      [['prog', 'show', 'pinned', pin('raw')], /is a pinned map, not a prog/],
    ];
    for (const [args, msg] of cases) {
      const r = tsbpf(...args);
      expect(r.status, `${args.join(' ')}: ${r.stderr}`).to.equal(1);
      expect(r.stderr, args.join(' ')).to.match(msg);
      expect(r.stderr.trim().split('\n'), args.join(' ')).to.have.length(1);
      expect(r.stderr).to.match(/^Error: /);
      expect(r.stderr).to.not.match(/\n\s+at /);
    }
  });

  it('prog show: identical to bpftool apart from the load time (same second ±1)', () => {
    const norm = (s: string) => s.replace(/loaded_at \S+/, 'loaded_at T');
    const ours = ok(tsbpf('prog', 'show', 'pinned', pin('codec_touch'), '-f'));
    const theirs = bpftool('prog', 'show', 'pinned', pin('codec_touch'), '-f').stdout;
    expect(norm(ours)).to.equal(norm(theirs));
    expect(ours).to.match(/^\d+: xdp {2}name codec_touch {2}tag [0-9a-f]{16} {2}gpl\n\tloaded_at \S+ {2}uid 0\n\txlated \d+B {2}jited \d+B {2}memlock \d+B {2}map_ids \d+\n\tpinned .*\n\tbtf_id \d+\n$/);
    const oj = JSON.parse(ok(tsbpf('prog', 'show', 'pinned', pin('codec_touch'), '-j', '-f')));
    const tj = JSON.parse(bpftool('-j', '-f', 'prog', 'show', 'pinned', pin('codec_touch')).stdout);
    expect(Math.abs(oj.loaded_at - tj.loaded_at)).to.be.at.most(1);
    expect({ ...oj, loaded_at: 0 }).to.deep.equal({ ...tj, loaded_at: 0 });
    expect(oj.map_ids).to.deep.equal([JSON.parse(ok(tsbpf('map', 'show', 'pinned', pin('stats'), '-j'))).id]);
    const all = JSON.parse(ok(tsbpf('prog', 'show', '-j'))) as { id: number }[];
    expect(all.find((p) => p.id === oj.id)).to.deep.include({ name: 'codec_touch', type: 'xdp', tag: tj.tag });
  });

  it('prog show: a name longer than 15 characters in full (from BTF) and bpf_metadata_* variables, like bpftool', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-meta-'));
    let o: BpfObject | undefined;
    try {
      writeFileSync(path.join(dir, 'meta.c'), [
        '#include <linux/bpf.h>',
        '#include <bpf/bpf_helpers.h>',
        'volatile const char bpf_metadata_owner[] SEC(".rodata") = "tsbpf";',
        'volatile const int bpf_metadata_level SEC(".rodata") = 7;',
        'SEC("xdp") int a_rather_long_program_name(struct xdp_md *ctx) { return bpf_metadata_level ? XDP_PASS : XDP_DROP; }',
        'char LICENSE[] SEC("license") = "GPL";',
      ].join('\n'));
      const arch = process.arch === 'arm64' ? 'aarch64' : 'x86_64';
      execFileSync('clang', ['-target', 'bpf', '-O2', '-g', `-I/usr/include/${arch}-linux-gnu`, '-c', 'meta.c', '-o', 'meta.o'], { cwd: dir, stdio: 'pipe' });
      o = loadObject(path.join(dir, 'meta.o'));
      o.programs.get('a_rather_long_program_name')!.pin(pin('meta_prog'));
      const norm = (s: string) => s.replace(/loaded_at \S+/, 'loaded_at T');
      const ours = ok(tsbpf('prog', 'show', 'pinned', pin('meta_prog')));
      expect(norm(ours)).to.equal(norm(bpftool('prog', 'show', 'pinned', pin('meta_prog')).stdout));
      expect(ours).to.match(/name a_rather_long_program_name {2}tag/);
      expect(ours).to.match(/\tmetadata:\n\t\towner = "tsbpf"\n\t\tlevel = 7\n$/);
      const oj = JSON.parse(ok(tsbpf('prog', 'show', 'pinned', pin('meta_prog'), '-j')));
      const tj = JSON.parse(bpftool('-j', 'prog', 'show', 'pinned', pin('meta_prog')).stdout);
      expect({ ...oj, loaded_at: 0 }).to.deep.equal({ ...tj, loaded_at: 0 });
      expect(oj.metadata).to.deep.equal({ owner: 'tsbpf', level: 7 });
    } finally {
      o?.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('name and tag select as bpftool\'s do: one match is the object, several a JSON array (show) or each map in turn (dump), a single-object command refuses several', () => {
    const name = `dup_${rand()}`;
    const a = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name });
    const b = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 2, name });
    const again = loadObject('bpf/codec_conns.o'); // a second codec_touch, with the first one's tag
    try {
      a.update(7, Uint8Array.of(1, 2, 3, 4));
      for (const json of [false, true]) {
        same(['map', 'show', 'name', name], json);
        same(['map', 'dump', 'name', name], json); // no BTF: headers, hex lines, "Found N elements", a blank line between
        same(['map', 'show', 'name', 'conns'], json);
        same(['map', 'dump', 'name', 'conns'], json); // BTF: [{"id", …, "elements": […]}, …]
        same(['map', 'lookup', 'name', name, 'key', '7', '0', '0', '0'], json); // several maps match this handle
      }
      expect(JSON.parse(ok(tsbpf('map', 'show', 'name', name, '-j'))).map((m: { id: number }) => m.id)).to.deep.equal([a.info().id, b.info().id]);
      same(['map', 'lookup', 'name', raw.info().name, 'key', '9', '0', '0', '0']); // one match: "Not found", as bpftool
      const norm = (s: string) => s.replace(/("loaded_at":|loaded_at )[^ ,\n]+/g, '$1T');
      const tag = again.programs.get('codec_touch')!.info().tag;
      for (const json of [false, true]) {
        for (const args of [['prog', 'show', 'name', 'codec_touch'], ['prog', 'show', 'tag', tag], ['prog', 'show', 'tag', tag.toUpperCase()]]) {
          const ours = tsbpf(...args, ...(json ? ['-j'] : []));
          const theirs = bpftool(...(json ? ['-j'] : []), ...args);
          expect(norm(ours.stdout), args.join(' ')).to.equal(norm(theirs.stdout));
        }
      }
      expect(JSON.parse(ok(tsbpf('prog', 'show', 'name', 'codec_touch', '-j')))).to.have.length(2);
      same(['prog', 'pin', 'name', 'codec_touch', pin('nope')], true); // several programs match this handle
    } finally {
      again.close();
      a.close();
      b.close();
    }
  });

  it('-j / -p errors: bpftool\'s {"error": "…"} on stdout and nothing on stderr, a failure status', () => {
    const cases = [
      ['map', 'show', 'id', '4294967295'],
      ['map', 'dump', 'bogus', '1'],
      ['map', 'show', 'name', 'a_name_too_long_for_a_map'],
      ['prog', 'show', 'id', '0x7fffffff'],
      ['prog', 'show', 'tag', 'xyz'],
      ['map', 'lookup', 'pinned', pin('raw'), 'key', '1', '0'],
      ['map', 'update', 'pinned', pin('raw'), 'key', '1', '0', '0', '0', 'value', '1', '0', '0', '0', '0', '0', '0', '0', 'exist', 'any'],
    ];
    for (const args of cases) {
      for (const opt of ['-j', '-p']) {
        const ours = tsbpf(opt, ...args);
        const theirs = bpftool(opt, ...args);
        expect(theirs.status, `bpftool ${args.join(' ')}`).to.equal(255);
        expect(ours.stdout, `${opt} ${args.join(' ')}`).to.equal(theirs.stdout);
        expect(ours.stderr).to.equal('');
        expect(ours.status).to.equal(1);
      }
    }
  });

  it('prog arrays and maps of maps: values given as `pinned PATH` / `id N`, dumps (ids, empty slots skipped) and .bss DATASECs identical to bpftool', () => {
    const tail = loadObject('bpf/obj_tailcall.o');
    const mim = loadObject('bpf/obj_mapinmap.o');
    try {
      tail.maps.get('jmp_table')!.pin(pin('jmp'));
      tail.maps.get('.bss')!.pin(pin('tail_bss'));
      tail.programs.get('tail_zero')!.pin(pin('tail_zero'));
      mim.maps.get('outer_hash')!.pin(pin('outer_hash'));
      ok(tsbpf('map', 'update', 'pinned', pin('jmp'), 'key', '3', '0', '0', '0', 'value', 'pinned', pin('tail_zero')));
      ok(tsbpf('map', 'update', 'pinned', pin('outer_hash'), 'key', '9', '0', '0', '0', 'value', 'id', String(mim.maps.get('inner_b')!.info().id)));
      for (const json of [false, true]) {
        for (const m of ['jmp', 'outer_hash', 'tail_bss']) same(['map', 'dump', 'pinned', pin(m)], json);
      }
      const slot = JSON.parse(ok(tsbpf('map', 'lookup', 'pinned', pin('jmp'), 'key', '3', '0', '0', '0', '-j')));
      expect(Buffer.from(slot.value.map((x: string) => parseInt(x, 16))).readUInt32LE(0)).to.equal(tail.programs.get('tail_zero')!.id);
      const r = tsbpf('map', 'update', 'pinned', pin('jmp'), 'key', '1', '0', '0', '0', 'value', 'pinned', pin('tail_bss'));
      expect(r.status).to.equal(1);
      expect(r.stderr).to.match(/is a pinned map, not a prog/);
    } finally {
      tail.close();
      mim.close();
    }
  });
});
