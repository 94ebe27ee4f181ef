// The Prometheus exporter on real pinned maps in a private bpffs: codec_conns.o's maps (BTF: struct
// keys and values, per-CPU) and a BTF-less hash in a subdirectory. Values are read at each scrape;
// the CLI serves until SIGTERM and exits 0; a directory off bpffs is refused.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync } from 'node:fs';
import path from 'node:path';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { waitFor } from '../helpers/netns.js';
import { loadObject } from '../../lib/object/load.js';
import type { BpfObject } from '../../lib/object/object.js';
import { BpfMap, possibleCpus } from '../../lib/map/index.js';
import { startExporter, ExportError, type Exporter } from '../../lib/export/index.js';

/** Parse the exposition text: series text ("name{labels}") → value. */
function parse(text: string): Map<string, number> {
  const out = new Map<string, number>();
  for (const line of text.split('\n')) {
    if (!line || line.startsWith('#')) continue;
    const i = line.lastIndexOf(' ');
    out.set(line.slice(0, i), Number(line.slice(i + 1)));
  }
  return out;
}

const u32le = (n: number) => Uint8Array.from([n & 255, (n >>> 8) & 255, (n >>> 16) & 255, n >>> 24]);

describe('tsbpf export: Prometheus metrics from pinned maps', function () {
  this.timeout(60_000);
  let fs: TestBpffs;
  let obj: BpfObject;
  let raw: BpfMap;
  let ex: Exporter | undefined;
  before(function () {
    requirePrivileged(this);
    fs = createTestBpffs();
    obj = loadObject('bpf/codec_conns.o');
    for (const name of ['conns', 'stats']) obj.maps.get(name)!.pin(path.join(fs.dir, name));
    mkdirSync(path.join(fs.dir, 'sub', 'deeper'), { recursive: true });
    raw = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: 8, name: 'raw_counts' });
    raw.pin(path.join(fs.dir, 'sub', 'deeper', 'raw-counts'));
    // a program pin is not a map: skipped
    obj.programs.get('codec_touch')!.pin(path.join(fs.dir, 'prog'));
  });
  afterEach(async () => { await ex?.close(); ex = undefined; });
  after(() => {
    obj?.close();
    raw?.close();
    fs?.cleanup();
  });

  it('serves struct keys as labels, struct fields as series, per-CPU sums, raw values; re-read at every scrape', async () => {
    const conns = obj.maps.get('conns')!;
    const stats = obj.maps.get('stats')!;
    const key = { saddr: 0x0100000a, daddr: 0x0200000a, proto: 17, pad: [0, 0, 0] };
    conns.update(key, { packets: 3n, bytes: 180n });
    const n = possibleCpus();
    stats.update(0, Array.from({ length: n }, (_, c) => ({ packets: BigInt(c + 1), bytes: 100n })));
    raw.update(u32le(7), Uint8Array.from([42, 0, 0, 0, 0, 0, 0, 0]));

    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0', ipv4: true });
    expect(ex.url).to.match(/^http:\/\/127\.0\.0\.1:\d+\/metrics$/);
    const scrape = async () => {
      const r = await fetch(ex!.url);
      expect(r.status).to.equal(200);
      expect(r.headers.get('content-type')).to.match(/^text\/plain/);
      return parse(await r.text());
    };
    const labels = 'saddr="10.0.0.1",daddr="10.0.0.2",proto="17",pad="0,0,0",path="conns"';
    let m = await scrape();
    expect(m.get(`tsbpf_map_conns_packets{${labels}}`)).to.equal(3);
    expect(m.get(`tsbpf_map_conns_bytes{${labels}}`)).to.equal(180);
    expect(m.get('tsbpf_map_stats_packets{key="0",path="stats"}')).to.equal((n * (n + 1)) / 2);
    expect(m.get('tsbpf_map_stats_bytes{key="0",path="stats"}')).to.equal(100 * n);
    expect(m.get('tsbpf_map_raw_counts{key="07000000",path="sub/deeper/raw-counts"}')).to.equal(42);
    expect(m.get(`tsbpf_pinned_map_info{path="conns",map="conns",type="lru_hash",id="${conns.info().id}"}`)).to.equal(1);
    expect(m.get('tsbpf_pinned_map_max_entries{path="conns"}')).to.equal(1024);
    expect(m.get('tsbpf_pinned_map_entries{path="conns"}')).to.equal(1);
    expect(m.get('tsbpf_pinned_map_entries{path="sub/deeper/raw-counts"}')).to.equal(1);
    expect(m.get('tsbpf_export_map_errors')).to.equal(0);
    expect([...m.keys()].filter((k) => k.includes('path="prog"'))).to.deep.equal([]);

    // the next scrape sees the maps as they are then
    conns.update(key, { packets: 4n, bytes: 240n });
    conns.update({ ...key, proto: 6 }, { packets: 1n, bytes: 60n });
    stats.update(0, Array.from({ length: n }, () => ({ packets: 5n, bytes: 0n })));
    raw.delete(u32le(7));
    m = await scrape();
    expect(m.get(`tsbpf_map_conns_packets{${labels}}`)).to.equal(4);
    expect(m.get(`tsbpf_map_conns_bytes{${labels.replace('"17"', '"6"')}}`)).to.equal(60);
    expect(m.get('tsbpf_pinned_map_entries{path="conns"}')).to.equal(2);
    expect(m.get('tsbpf_map_stats_packets{key="0",path="stats"}')).to.equal(5 * n);
    expect(m.get('tsbpf_pinned_map_entries{path="sub/deeper/raw-counts"}')).to.equal(0);
    expect([...m.keys()].some((k) => k.startsWith('tsbpf_map_raw_counts{'))).to.equal(false);
    expect((await fetch(ex.url.replace('/metrics', '/nope'))).status).to.equal(404);
  });

  it('global data (.data, .rodata): one series per numeric variable, found through the DATASEC', async () => {
    const g = loadObject('bpf/obj_globals.o');
    const gfs = createTestBpffs();
    try {
      g.maps.get('.data')!.pin(path.join(gfs.dir, 'globals_data'));
      g.maps.get('.rodata')!.pin(path.join(gfs.dir, 'globals_ro'));
      g.globals.set('data_counter', 123n);
      ex = await startExporter({ pinned: gfs.dir, listen: '127.0.0.1:0' });
      const m = parse(await (await fetch(ex.url)).text());
      expect(m.get('tsbpf_map_globals_data_data_counter{key="0",path="globals_data"}')).to.equal(123);
      expect(m.get('tsbpf_map_globals_data_verdict{key="0",path="globals_data"}')).to.equal(2);
      expect(m.get('tsbpf_map_globals_data_static_counter{key="0",path="globals_data"}')).to.equal(3);
      expect(m.get('tsbpf_map_globals_ro_ro_magic{key="0",path="globals_ro"}')).to.equal(7);
      expect(m.get('tsbpf_pinned_map_entries{path="globals_data"}')).to.equal(1);
      expect(m.get('tsbpf_export_map_errors')).to.equal(0);
    } finally {
      await ex?.close();
      ex = undefined;
      g.close();
      gfs.cleanup();
    }
  });

  it('without --ipv4, address fields are plain numbers', async () => {
    obj.maps.get('conns')!.update({ saddr: 1, daddr: 2, proto: 1, pad: [0, 0, 0] }, { packets: 9n, bytes: 9n });
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0' });
    const m = parse(await (await fetch(ex.url)).text());
    expect(m.get('tsbpf_map_conns_packets{saddr="1",daddr="2",proto="1",pad="0,0,0",path="conns"}')).to.equal(9);
  });

  it('refuses a directory that is not on bpffs, a missing one, and a bad address', async () => {
    const fail = async (o: { pinned: string; listen: string }, re: RegExp) => {
      let err: unknown;
      try { await startExporter(o); } catch (e) { err = e; }
      expect(err).to.be.instanceOf(ExportError);
      expect((err as Error).message).to.match(re);
    };
    await fail({ pinned: '/proc', listen: '127.0.0.1:0' }, /--pinned \/proc is not on bpffs \(filesystem type 0x9fa0\)/);
    await fail({ pinned: path.join(fs.dir, 'missing'), listen: '127.0.0.1:0' }, /no such directory/);
    await fail({ pinned: fs.dir, listen: 'localhost' }, /expected HOST:PORT/);
  });

  it('CLI: serves until SIGTERM and exits 0; a non-bpffs DIR is one Error: line with status 1', async () => {
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', fs.dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    const exited = new Promise<number | null>((resolve) => child.on('exit', (code) => resolve(code)));
    try {
      const started = await waitFor(() => /serving .* at (http\S+)/.test(out), (v) => v, 30_000);
      expect(started, `exporter did not start: ${err}`).to.equal(true);
      const url = /at (http\S+)/.exec(out)![1];
      const m = parse(await (await fetch(url)).text());
      expect(m.get('tsbpf_pinned_map_max_entries{path="stats"}')).to.equal(1);
      child.kill('SIGTERM');
      expect(await exited).to.equal(0);
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', '/tmp', '--listen', '127.0.0.1:0'], { encoding: 'utf8' });
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/^Error: --pinned \/tmp is not on bpffs/);
    expect(r.stderr.trim().split('\n')).to.have.length(1);
  });
});
