// `tsbpf btf show` and `tsbpf btf dump id|map|prog` against bpftool 7.1 on the same kernel objects:
// obj_globals.o loaded (five data maps and a program on one BTF object, pinned in a private bpffs),
// a map without BTF, and vmlinux's BTF by id. Outputs compare byte for byte, -j too.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { loadObject } from '../../lib/object/load.js';
import type { BpfObject } from '../../lib/object/object.js';
import { BpfMap } from '../../lib/map/index.js';

const MAX = 64 * 1024 * 1024;
const tsbpf = (...args: string[]) => spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', ...args], { encoding: 'utf8', maxBuffer: MAX });
const bpftool = (...args: string[]) => spawnSync('bpftool', args, { encoding: 'utf8', maxBuffer: MAX });
/** The same command through both tools (-j before the words for bpftool, after for tsbpf): the same stdout and success. */
function same(args: string[], opt?: '-j' | '-p'): string {
  const ours = tsbpf(...args, ...(opt ? [opt] : []));
  const theirs = bpftool(...(opt ? [opt] : []), ...args);
  expect(ours.stdout, `tsbpf ${args.join(' ')} ${opt ?? ''}`).to.equal(theirs.stdout);
  expect(ours.status === 0, ours.stderr).to.equal(theirs.status === 0);
  return ours.stdout;
}

describe('tsbpf btf show / btf dump id|map|prog against bpftool', function () {
  this.timeout(180_000);
  let fs: TestBpffs;
  let obj: BpfObject;
  let bare: BpfMap;
  let btfId: number;
  const pin = (name: string) => path.join(fs.dir, name);
  before(function () {
    requirePrivileged(this);
    fs = createTestBpffs();
    obj = loadObject('bpf/obj_globals.o');
    obj.maps.get('.data')!.pin(pin('data'));
    obj.maps.get('.bss')!.pin(pin('bss'));
    obj.programs.get('globals_prog')!.pin(pin('prog'));
    bare = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 4, maxEntries: 4, name: 'bare' });
    bare.pin(pin('bare'));
    btfId = obj.maps.get('.data')!.info().btfId;
  });
  after(() => {
    obj?.close();
    bare?.close();
    fs?.cleanup();
  });

  it('btf show id N: name, size and the ids of the programs and maps using it in bpftool\'s (hashmap) order', () => {
    for (const opt of [undefined, '-j', '-p'] as const) same(['btf', 'show', 'id', String(btfId)], opt);
    const ours = tsbpf('btf', 'show', 'id', String(btfId)).stdout;
    // six users of one BTF object: the table grows twice on the way, so the order is neither ascending nor reversed
    expect(ours).to.match(new RegExp(`^${btfId}: name <anon>  size \\d+B  prog_ids \\d+  map_ids (\\d+,){4}\\d+\\n$`));
    same(['btf', 'show', 'id', '1']); // vmlinux: name [vmlinux], kernel true
    same(['btf', 'list', 'id', '1'], '-j');
  });

  it('btf show: every BTF object, ours among them as bpftool lists it', () => {
    // other tests may load objects meanwhile: compare our entry and vmlinux's, not the whole listing
    const ours = JSON.parse(tsbpf('btf', 'show', '-j').stdout) as { id: number }[];
    const theirs = JSON.parse(bpftool('-j', 'btf', 'show').stdout) as { id: number }[];
    for (const id of [1, btfId]) expect(ours.find((b) => b.id === id), String(id)).to.deep.equal(theirs.find((b) => b.id === id));
    const line = tsbpf('btf', 'list').stdout.split('\n').find((l) => l.startsWith(`${btfId}: `));
    expect(line).to.equal(bpftool('btf', 'list').stdout.split('\n').find((l) => l.startsWith(`${btfId}: `)));
  });

  it('btf dump id N, map MAP [key|value|kv|all], prog PROG: raw, format c and -j as bpftool prints them', () => {
    const progId = String(obj.programs.get('globals_prog')!.id);
    const sources = [
      ['id', String(btfId)],
      ['map', 'pinned', pin('data')],
      ['map', 'pinned', pin('bss'), 'key'],
      ['map', 'pinned', pin('bss'), 'value'],
      ['map', 'pinned', pin('bss'), 'kv'],
      ['map', 'pinned', pin('bss'), 'all'],
      ['map', 'name', 'obj_glob.data', 'v'], // words by prefix, as bpftool
      ['prog', 'pinned', pin('prog')],
      ['prog', 'id', progId],
      ['prog', 'name', 'globals_prog'],
    ];
    for (const src of sources) {
      same(['btf', 'dump', ...src]);
      same(['btf', 'dump', ...src, 'format', 'c']);
      same(['btf', 'dump', ...src, 'format', 'raw'], '-j');
    }
    // the whole object's BTF by id is the file's own .BTF as the kernel holds it
    expect(tsbpf('btf', 'dump', 'id', String(btfId)).stdout).to.match(/^\[1\] /);
    expect(tsbpf('btf', 'dump', 'map', 'pinned', pin('bss'), 'key').stdout).to.equal("[0] UNKNOWN '(anon)'\n");
  });

  it('btf dump id 1: vmlinux, byte-identical to bpftool', () => {
    const ours = tsbpf('btf', 'dump', 'id', '1');
    expect(ours.status, ours.stderr).to.equal(0);
    expect(ours.stdout === bpftool('btf', 'dump', 'id', '1').stdout).to.equal(true);
  });

  it('bad input: one clear error (JSON on stdout under -j), nothing dumped', () => {
    for (const [args, msg] of [
      [['btf', 'dump', 'id', '4294967295'], "get btf by id (4294967295): No such file or directory"],
      [['btf', 'show', 'id', '4294967295'], "can't get BTF object by id (4294967295): No such file or directory"],
      [['btf', 'dump', 'map', 'pinned', pin('bare')], `map pinned ${pin('bare')} has no BTF (btf_id 0)`],
      [['btf', 'dump', 'map', 'pinned', pin('prog')], `incorrect object type: prog (${pin('prog')} is a pinned prog, not a map)`],
      [['btf', 'dump', 'prog', 'pinned', pin('prog'), 'key'], "unrecognized option: 'key'"],
      [['btf', 'dump', 'map', 'pinned', pin('data'), 'format'], "expecting value for 'format' option"],
      [['btf', 'show', 'name', 'x'], "expected 'id', got: 'name'?"],
    ] as const) {
      const plain = tsbpf(...args);
      expect([plain.status, plain.stdout, plain.stderr], args.join(' ')).to.deep.equal([1, '', `Error: ${msg}\n`]);
      const json = tsbpf(...args, '-j');
      expect([json.status, json.stdout, json.stderr], args.join(' ')).to.deep.equal([1, `${JSON.stringify({ error: msg })}\n`, '']);
    }
    // where bpftool prints the same words (its id errors print two objects: here one)
    same(['btf', 'show', 'id', '4294967295'], '-j');
    same(['btf', 'dump', 'map', 'pinned', pin('data'), 'format', 'xml'], '-j');
  });
});
