// The Prometheus exporter on real pinned maps in a private bpffs: codec_conns.o's maps (BTF: struct
// keys and values, per-CPU) and a BTF-less hash in a subdirectory. Values are read at each scrape;
// the CLI serves until SIGTERM and exits 0; a directory off bpffs is refused.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readlinkSync, renameSync, rmdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import http from 'node:http';
import path from 'node:path';
import { gunzipSync } from 'node:zlib';
import { requirePrivileged } from '../helpers/privileged.js';
import { createTestBpffs, type TestBpffs } from '../helpers/bpffs.js';
import { waitFor } from '../helpers/netns.js';
import { loadObject } from '../../lib/object/load.js';
import type { BpfObject } from '../../lib/object/object.js';
import { BpfMap, possibleCpus } from '../../lib/map/index.js';
import { startExporter, ExportError, type Exporter } from '../../lib/export/index.js';
import { btfLoad } from '../../lib/syscall/btf.js';
import { loadKernelBtf } from '../../lib/btf/kernel.js';
import type { Fd } from '../../lib/syscall/fd.js';
import { BtfBlob, KIND } from '../helpers/btf-blob.js';

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
    const labels = 'saddr="10.0.0.1",daddr="10.0.0.2",proto="17",path="conns"';
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
    // the exporter's own families come first, then the maps' (_entries came after the first map's series)
    const types = (await (await fetch(ex.url)).text()).split('\n').filter((l) => l.startsWith('# TYPE ')).map((l) => l.split(' ')[2]);
    expect(types.slice(0, 4)).to.deep.equal(['tsbpf_export_map_errors', 'tsbpf_pinned_map_info', 'tsbpf_pinned_map_max_entries', 'tsbpf_pinned_map_entries']);
    expect(types.slice(4).every((t) => t.startsWith('tsbpf_map_'))).to.equal(true);

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
    const head = await fetch(ex.url, { method: 'HEAD' });
    expect([head.status, head.headers.get('content-type'), await head.text()]).to.deep.equal([200, 'text/plain; version=0.0.4; charset=utf-8', '']);
    // gzip when asked (Prometheus always asks), the same text; plain text otherwise
    const get = (encoding: string, method = 'GET') => new Promise<{ headers: Record<string, unknown>; body: Buffer }>((resolve, reject) => {
      http.request(ex!.url, { method, headers: { 'accept-encoding': encoding } }, (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c)).on('end', () => resolve({ headers: res.headers, body: Buffer.concat(chunks) })).on('error', reject);
      }).on('error', reject).end();
    });
    const plain = await get('identity');
    const zipped = await get('gzip');
    expect([plain.headers['content-encoding'], zipped.headers['content-encoding'], zipped.headers.vary]).to.deep.equal([undefined, 'gzip', 'Accept-Encoding']);
    expect(gunzipSync(zipped.body).toString()).to.equal(plain.body.toString());
    expect(plain.body.toString()).to.match(/^tsbpf_map_conns_packets\{/m);
    expect((await get('gzip;q=0')).headers['content-encoding']).to.equal(undefined);
    const zhead = await get('gzip', 'HEAD');
    expect([zhead.headers['content-encoding'], zhead.body.length]).to.deep.equal(['gzip', 0]);
    const post = await fetch(ex.url, { method: 'POST' });
    expect([post.status, post.headers.get('allow')]).to.deep.equal([405, 'GET, HEAD']);
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
    expect(m.get('tsbpf_map_conns_packets{saddr="1",daddr="2",proto="1",path="conns"}')).to.equal(9);
  });

  it('__be16/__be32 fields (xdp_lb.o) show the numbers they stand for, padding shows nowhere; a path re-pinned with other types is read with them', async () => {
    const lb = loadObject('bpf/xdp_lb.o');
    const lfs = createTestBpffs();
    try {
      lb.maps.get('flows')!.pin(path.join(lfs.dir, 'flows'));
      // the bytes as the XDP program stores them: network order (a typed map without networkOrder takes host numbers)
      const be32 = (ip: string) => Buffer.from(ip.split('.').map(Number)).readUInt32LE(0);
      const be16 = (n: number) => ((n & 255) << 8) | (n >>> 8);
      lb.maps.get('flows')!.update(
        { saddr: be32('10.0.0.2'), daddr: be32('10.0.0.100'), sport: be16(40000), dport: be16(53), proto: 17, pad: [0, 0, 0] },
        { addr: be32('10.1.0.7'), port: be16(5353), pad: 0 });
      ex = await startExporter({ pinned: lfs.dir, listen: '127.0.0.1:0', ipv4: true });
      let m = parse(await (await fetch(ex.url)).text());
      const labels = 'saddr="10.0.0.2",daddr="10.0.0.100",sport="40000",dport="53",proto="17",path="flows"';
      expect(m.get(`tsbpf_map_flows_port{${labels}}`)).to.equal(5353);
      expect(m.get(`tsbpf_map_flows_addr{${labels}}`)).to.equal(0x0a010007);
      expect([...m.keys()].filter((k) => /pad/.test(k))).to.deep.equal([]);
      expect(m.get('tsbpf_export_map_errors')).to.equal(0);

      // the same pin path now holds conntrack.o's map (other BTF, other key): read with its own types
      rmSync(path.join(lfs.dir, 'flows'));
      const ct = loadObject('bpf/conntrack.o');
      try {
        ct.maps.get('conns')!.pin(path.join(lfs.dir, 'flows'));
        ct.maps.get('conns')!.update({ saddr: be32('192.168.1.1'), daddr: be32('192.168.1.2'), proto: 6, pad: [0, 0, 0] }, { packets: 2n, bytes: 120n });
        m = parse(await (await fetch(ex.url)).text());
        expect(m.get('tsbpf_map_flows_packets{saddr="192.168.1.1",daddr="192.168.1.2",proto="6",path="flows"}')).to.equal(2);
        expect([...m.keys()].some((k) => k.startsWith('tsbpf_map_flows_port'))).to.equal(false);
      } finally {
        ct.close();
      }
    } finally {
      await ex?.close();
      ex = undefined;
      lb.close();
      lfs.cleanup();
    }
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

  it('--listen [::1]:PORT and localhost:PORT serve; an unbracketed IPv6 address or a missing port is one clear error', async () => {
    for (const [listen, url] of [['[::1]:0', /^http:\/\/\[::1\]:\d+\/metrics$/], ['localhost:0', /^http:\/\/(127\.0\.0\.1|\[::1\]):\d+\/metrics$/]] as const) {
      ex = await startExporter({ pinned: fs.dir, listen });
      expect(ex.url).to.match(url);
      expect(parse(await (await fetch(ex.url)).text()).get('tsbpf_pinned_map_max_entries{path="stats"}')).to.equal(1);
      await ex.close();
      ex = undefined;
    }
    const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', fs.dir, '--listen', '::1:9435'], { encoding: 'utf8', timeout: 30_000 });
    expect([r.status, r.stderr]).to.deep.equal([1, 'Error: --listen "::1:9435": an IPv6 address goes in brackets: [::1]:9435\n']);
  });

  it('CLI: --listen :PORT is every address, IPv6 and IPv4 (as node_exporter\'s :9100), in a network namespace of its own', () => {
    // the namespace has only lo: "every address" stays private to the test
    const script = `ip link set lo up || exit 1
      ${process.execPath} --import tsx lib/cli/main.ts export --pinned ${fs.dir} --listen :0 >"$T/out" 2>"$T/err" &
      pid=$!
      trap 'kill -KILL $pid 2>/dev/null' EXIT
      for i in $(seq 300); do grep -q serving "$T/out" && break; sleep 0.1; done
      cat "$T/out"
      port=$(sed -n 's/.*:\\([0-9]*\\)\\/metrics$/\\1/p' "$T/out")
      curl -sS "http://127.0.0.1:$port/metrics" | grep '^tsbpf_pinned_map_max_entries{path="stats"}'
      curl -gsS "http://[::1]:$port/metrics" | grep '^tsbpf_pinned_map_max_entries{path="stats"}'
      kill -TERM $pid; wait $pid; echo "exit $?"; cat "$T/err"`;
    const tmp = mkdtempSync(path.join(tmpdir(), 'tsbpf-export-'));
    try {
      // on a timeout sh gets SIGTERM and its EXIT trap kills the exporter
      const r = spawnSync('unshare', ['-n', 'sh', '-c', `trap 'exit 1' TERM; ${script}`], { encoding: 'utf8', timeout: 60_000, env: { ...process.env, T: tmp } });
      expect(r.stdout.replace(/:\d+\//, ':PORT/'), r.stderr).to.equal([
        `serving ${fs.dir} at http://[::]:PORT/metrics`,
        'tsbpf_pinned_map_max_entries{path="stats"} 1',
        'tsbpf_pinned_map_max_entries{path="stats"} 1',
        'exit 0',
        '',
      ].join('\n'));
    } finally {
      rmSync(tmp, { recursive: true, force: true });
    }
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

  it('CLI: a SIGINT or SIGTERM sent the moment "serving" is printed (as a supervisor would) still exits 0', async () => {
    for (const signal of ['SIGINT', 'SIGTERM'] as const) {
      const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', fs.dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
      let err = '';
      child.stderr.on('data', (d: Buffer) => { err += d; });
      child.stdout.on('data', (d: Buffer) => { if (d.toString().includes('serving ')) child.kill(signal); });
      const timer = setTimeout(() => child.kill('SIGKILL'), 30_000);
      const [code, sig] = await new Promise<[number | null, string | null]>((resolve) => child.on('exit', (c, s) => resolve([c, s])));
      clearTimeout(timer);
      expect([code, sig], `${signal}: ${err}`).to.deep.equal([0, null]);
    }
  });

  it('CLI: a --listen address in use is one Error: line naming it, status 1', async () => {
    const { createServer } = await import('node:net');
    const busy = createServer();
    await new Promise<void>((resolve) => busy.listen(0, '127.0.0.1', resolve));
    try {
      const port = (busy.address() as { port: number }).port;
      const r = spawnSync(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', fs.dir, '--listen', `127.0.0.1:${port}`], { encoding: 'utf8', timeout: 30_000 });
      expect(r.status).to.equal(1);
      expect(r.stderr).to.equal(`Error: cannot listen on 127.0.0.1:${port}: EADDRINUSE (address already in use (another exporter on this port?))\n`);
    } finally {
      busy.close();
    }
  });
});

/** One scrape: status, body, parsed series. */
async function scrapeUrl(url: string): Promise<{ status: number; text: string; m: Map<string, number> }> {
  const r = await fetch(url);
  const text = await r.text();
  return { status: r.status, text, m: parse(text) };
}

/** The bpf objects this process has open (maps, programs, links, BTF): fd → kind. */
function bpfFds(): Record<string, string> {
  const out: Record<string, string> = {};
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      const l = readlinkSync(`/proc/self/fd/${fd}`);
      if (l.startsWith('anon_inode:bpf')) out[fd] = l;
    } catch { /* closed meanwhile (readdir's own fd) */ }
  }
  return out;
}

const u64le = (n: bigint) => { const b = new Uint8Array(8); new DataView(b.buffer).setBigUint64(0, n, true); return b; };

/**
 * A BTF blob (loaded into the kernel) with the shapes the codec_conns objects lack: a key that is a
 * char array (two keys equal up to their NUL decode to the same label) and a value with an enum, a
 * char array, a pointer and a 64-bit counter.
 */
function shapesBtf(): { fd: Fd; name8: number; u32: number; val: number; pair: number } {
  const b = new BtfBlob();
  const u32 = b.type('unsigned int', KIND.INT, 0, false, 4, 32);
  const char = b.type('char', KIND.INT, 0, false, 1, (2 << 24) | 8);
  const u64 = b.type('unsigned long long', KIND.INT, 0, false, 8, 64);
  const charArr8 = b.type('', KIND.ARRAY, 0, false, 0, char, u32, 8);
  const name8 = b.type('name_key', KIND.STRUCT, 1, false, 8, b.str('name'), charArr8, 0);
  const state = b.type('state', KIND.ENUM, 2, false, 4, b.str('IDLE'), 0, b.str('BUSY'), 7);
  const ptr = b.type('', KIND.PTR, 0, false, u32);
  const val = b.type('shape_val', KIND.STRUCT, 4, false, 32,
    b.str('state'), state, 0, b.str('label'), charArr8, 32, b.str('owner'), ptr, 128, b.str('hits'), u64, 192);
  const pair = b.type('pair', KIND.STRUCT, 2, false, 16, b.str('packets'), u64, 0, b.str('bytes'), u64, 64);
  return { fd: btfLoad(b.build()).fd, name8, u32, val, pair };
}

describe('tsbpf export: every map type, odd values, large maps, races', function () {
  this.timeout(120_000);
  let fs: TestBpffs;
  let ex: Exporter | undefined;
  const owned: { close(): void }[] = [];
  beforeEach(function () {
    requirePrivileged(this);
    fs = createTestBpffs();
  });
  afterEach(async () => {
    await ex?.close();
    ex = undefined;
    for (const o of owned.splice(0)) o.close();
    fs?.cleanup();
  });
  const create = (pin: string, o: Parameters<typeof BpfMap.create>[0]) => {
    const m = BpfMap.create(o);
    owned.push(m);
    m.pin(path.join(fs.dir, pin));
    return m;
  };

  it('every pinnable map type: metadata for all, no read error, no program/map ids, ifindexes or stack addresses as values', async () => {
    const inner = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
    owned.push(inner);
    create('aom', { type: 'array_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner }).update(u32le(0), u32le(inner.fd.value));
    create('hom', { type: 'hash_of_maps', keySize: 4, valueSize: 4, maxEntries: 2, innerMap: inner });
    create('progs', { type: 'prog_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('devs', { type: 'devmap', keySize: 4, valueSize: 4, maxEntries: 2 }).update(u32le(0), u32le(1));
    create('devhash', { type: 'devmap_hash', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('cpus', { type: 'cpumap', keySize: 4, valueSize: 4, maxEntries: 1 });
    create('xsks', { type: 'xskmap', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('socks', { type: 'sockmap', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('sockh', { type: 'sockhash', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('reuse', { type: 'reuseport_sockarray', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('perf', { type: 'perf_event_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('cgroups', { type: 'cgroup_array', keySize: 4, valueSize: 4, maxEntries: 2 });
    create('stacks', { type: 'stack_trace', keySize: 4, valueSize: 8, maxEntries: 2 });
    create('queue', { type: 'queue', valueSize: 4, maxEntries: 2 });
    create('stack', { type: 'stack', valueSize: 4, maxEntries: 2 });
    create('bloom', { type: 'bloom_filter', valueSize: 4, maxEntries: 2 });
    create('ring', { type: 'ringbuf', maxEntries: 4096 });
    create('uring', { type: 'user_ringbuf', maxEntries: 4096 });
    create('lpm', { type: 'lpm_trie', keySize: 8, valueSize: 8, maxEntries: 2, flags: 1 }).update(Uint8Array.from([24, 0, 0, 0, 10, 0, 0, 0]), u64le(5n));
    create('lrupc', { type: 'lru_percpu_hash', keySize: 4, valueSize: 8, maxEntries: 2 }).update(u32le(1), Array.from({ length: possibleCpus() }, () => u64le(2n)));
    // a struct_ops map's value is its state and ops table (refcnt, state, flags…): no quantity
    const ops = loadKernelBtf().findByName('bpf_struct_ops_tcp_congestion_ops', 'struct')!;
    const t = shapesBtf();
    owned.push(t.fd);
    create('ops', { type: 'struct_ops', keySize: 4, valueSize: ops.size, maxEntries: 1, btfFd: t.fd.value, btfVmlinuxValueTypeId: ops.id, name: 'ops' });
    const errors: string[] = [];
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0', onMapError: (p, e) => errors.push(`${p}: ${(e as Error).message}`) });
    const { m } = await scrapeUrl(ex.url);
    expect(errors).to.deep.equal([]);
    expect(m.get('tsbpf_export_map_errors')).to.equal(0);
    const pins = ['aom', 'hom', 'progs', 'devs', 'devhash', 'cpus', 'xsks', 'socks', 'sockh', 'reuse', 'perf', 'cgroups', 'stacks', 'queue', 'stack', 'bloom', 'ring', 'uring', 'lpm', 'lrupc', 'ops'];
    for (const p of pins) expect(m.get(`tsbpf_pinned_map_max_entries{path="${p}"}`), p).to.be.a('number');
    // what these maps hold for user space is an id, an ifindex or an address, not a quantity: no series
    for (const p of ['aom', 'hom', 'progs', 'devs', 'devhash', 'cpus', 'xsks', 'socks', 'sockh', 'reuse', 'perf', 'cgroups', 'stacks', 'ops']) {
      expect([...m.keys()].filter((k) => k.startsWith(`tsbpf_map_${p}`)), p).to.deep.equal([]);
    }
    // ... but the slots in use are counted where the kernel can tell
    expect(m.get('tsbpf_pinned_map_entries{path="aom"}')).to.equal(1);
    expect(m.get('tsbpf_pinned_map_entries{path="devs"}')).to.equal(1);
    expect(m.get('tsbpf_pinned_map_entries{path="ops"}')).to.equal(1);
    expect(m.get('tsbpf_map_lpm{key="180000000a000000",path="lpm"}')).to.equal(5);
    expect(m.get('tsbpf_map_lrupc{key="01000000",path="lrupc"}')).to.equal(2 * possibleCpus());
  });

  it('values: enums as numbers; char arrays and pointers never series (whatever their bytes); keys equal as labels are summed', async () => {
    const t = shapesBtf();
    owned.push(t.fd);
    const m = create('shapes', { type: 'hash', keySize: 8, valueSize: 32, maxEntries: 8, btfFd: t.fd.value, btfKeyTypeId: t.name8, btfValueTypeId: t.val });
    const key = (s: number[]) => Uint8Array.from([...s, ...Array(8 - s.length).fill(0)]);
    const val = (state: number, label: number[], hits: bigint) => {
      const b = new Uint8Array(32);
      const v = new DataView(b.buffer);
      v.setUint32(0, state, true);
      b.set(label, 4);
      v.setBigUint64(16, 0xffff888012345678n, true);
      v.setBigUint64(24, hits, true);
      return b;
    };
    // "ab" then bytes after the NUL: two kernel keys, one label set
    m.update(key([0x61, 0x62, 0, 1]), val(7, [0xff, 0xfe, 0x80], 5n));
    m.update(key([0x61, 0x62, 0, 2]), val(7, [0x68, 0x69], 6n));
    m.update(key([0x63]), val(0, [0x68, 0x69], 1n));
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0' });
    const { m: s } = await scrapeUrl(ex.url);
    expect(s.get('tsbpf_map_shapes_hits{name="ab",path="shapes"}')).to.equal(11);
    expect(s.get('tsbpf_map_shapes_state{name="ab",path="shapes"}')).to.equal(14);
    expect(s.get('tsbpf_map_shapes_state{name="c",path="shapes"}')).to.equal(0);
    expect([...s.keys()].filter((k) => /^tsbpf_map_shapes_(label|owner)/.test(k))).to.deep.equal([]);
    expect(s.get('tsbpf_pinned_map_entries{path="shapes"}')).to.equal(3);
  });

  it("char[] key fields holding ',', '=', ':', quotes, backslashes, newlines: every distinct key is its own series, escaped", async () => {
    // struct { char a[8]; char b[8]; } -> u64: prom-client's series hash (`a:x,b:y,`) made
    // {a="x,b:y",b="z"} and {a="x",b="y,b:z"} one series, the second overwriting the first
    const b = new BtfBlob();
    const u32 = b.type('unsigned int', KIND.INT, 0, false, 4, 32);
    const char = b.type('char', KIND.INT, 0, false, 1, (2 << 24) | 8);
    const u64 = b.type('unsigned long long', KIND.INT, 0, false, 8, 64);
    const arr = b.type('', KIND.ARRAY, 0, false, 0, char, u32, 8);
    const key = b.type('two_names', KIND.STRUCT, 2, false, 16, b.str('a'), arr, 0, b.str('b'), arr, 64);
    const btf = btfLoad(b.build()).fd;
    owned.push(btf);
    const m = create('names', { type: 'hash', keySize: 16, valueSize: 8, maxEntries: 16, btfFd: btf.value, btfKeyTypeId: key, btfValueTypeId: u64 });
    const k = (x: string, y: string) => { const o = new Uint8Array(16); o.set(Buffer.from(x), 0); o.set(Buffer.from(y), 8); return o; };
    const pairs: [string, string][] = [['x,b:y', 'z'], ['x', 'y,b:z'], ['p=1', 'q'], ['p', '1,q'], ['"', '\\'], ['\\"', ''], ['\n', '=,']];
    pairs.forEach(([x, y], i) => m.update(k(x, y), u64le(BigInt(i + 1))));
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0' });
    const { text } = await scrapeUrl(ex.url);
    const esc = (s: string) => s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
    const lines = text.split('\n').filter((l) => l.startsWith('tsbpf_map_names{')).sort();
    expect(lines).to.deep.equal(pairs.map(([x, y], i) => `tsbpf_map_names{a="${esc(x)}",b="${esc(y)}",path="names"} ${i + 1}`).sort());
    expect(text).to.include('\ntsbpf_map_names{a="\\"",b="\\\\",path="names"} 5\n');
    expect(parse(text).get('tsbpf_pinned_map_entries{path="names"}')).to.equal(pairs.length);
  });

  it('per-CPU 64-bit counters are summed exactly, then rounded once', async function () {
    const n = possibleCpus();
    if (n < 2) this.skip(); // one CPU: nothing is summed
    const stats = create('stats', { type: 'percpu_array', keySize: 4, valueSize: 8, maxEntries: 1 });
    // 2^53+1 and 1: float64 additions give 2^53 (each +1 rounds away), the exact sum is 2^53+2
    stats.update(u32le(0), Array.from({ length: n }, (_, c) => u64le(c === 0 ? 2n ** 53n + 1n : c === 1 ? 1n : 0n)));
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0' });
    const { text } = await scrapeUrl(ex.url);
    expect(text).to.match(/^tsbpf_map_stats\{key="0",path="stats"\} 9007199254740994$/m);
  });

  it('subdirectories made and removed while scrapes walk the tree never fail a scrape', async () => {
    create('steady', { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    // another process makes and removes nested directories as fast as it can
    const churn = spawn('sh', ['-c', `cd ${fs.dir} && while :; do mkdir -p a/b/c b/c; rmdir a/b/c a/b a b/c b; done`], { stdio: 'ignore' });
    try {
      ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0' });
      const statuses = new Set<number>();
      const deadline = Date.now() + 20_000;
      for (let i = 0; i < 300 && Date.now() < deadline; i++) {
        const { status, text, m } = await scrapeUrl(ex.url);
        statuses.add(status);
        expect(status, text).to.equal(200);
        expect(m.get('tsbpf_export_map_errors'), text).to.equal(0);
        expect(m.get('tsbpf_map_steady{key="0",path="steady"}')).to.equal(0);
      }
    } finally {
      churn.kill('SIGKILL');
      await new Promise((r) => (churn.exitCode !== null || churn.signalCode !== null ? r(undefined) : churn.once('exit', r)));
    }
  });

  it('DIR unmounted or removed under a running exporter: the scrape fails (500) saying so, not an empty 200', async () => {
    const other = createTestBpffs();
    try {
      const m = BpfMap.create({ type: 'array', keySize: 4, valueSize: 4, maxEntries: 1 });
      owned.push(m);
      m.pin(path.join(other.dir, 'm'));
      ex = await startExporter({ pinned: other.dir, listen: '127.0.0.1:0' });
      expect((await scrapeUrl(ex.url)).status).to.equal(200);
      spawnSync('umount', [other.dir]);
      let r = await scrapeUrl(ex.url);
      expect(r.status).to.equal(500);
      expect(r.text).to.match(/is not on bpffs \(filesystem type 0x[0-9a-f]+\)/);
      rmdirSync(other.dir);
      r = await scrapeUrl(ex.url);
      expect(r.status).to.equal(500);
      expect(r.text).to.match(/no such directory/);
    } finally {
      other.cleanup();
    }
  });

  it('CLI: DIR unmounted under it: every scrape is a 500, stderr says why once (it said nothing)', async () => {
    const other = createTestBpffs();
    const child = spawn(process.execPath, ['--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', other.dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    try {
      const started = await waitFor(() => /at (http\S+)/.exec(out), (v) => v !== null, 30_000);
      expect(started, `exporter did not start: ${err}`).to.not.equal(null);
      expect((await scrapeUrl(started![1])).status).to.equal(200);
      spawnSync('umount', [other.dir]);
      for (let i = 0; i < 3; i++) expect((await scrapeUrl(started![1])).status).to.equal(500);
      expect(err).to.match(new RegExp(`^warning: scrape failed: --pinned ${other.dir} is not on bpffs \\(filesystem type 0x[0-9a-f]+\\)[^\\n]*\\(not repeated\\)\\n$`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
      other.cleanup();
    }
  });

  it('maps are opened read-only: a 0444 pin and the bpf_preload iterator pins are served/skipped without CAP_DAC_OVERRIDE', async () => {
    create('ro', { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }).update(u32le(0), u64le(3n));
    chmodSync(path.join(fs.dir, 'ro'), 0o444);
    // root without the capability to write what its mode forbids (an exporter in a locked-down unit)
    const child = spawn('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, '--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', fs.dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    try {
      const started = await waitFor(() => /at (http\S+)/.exec(out), (v) => v !== null, 30_000);
      expect(started, `exporter did not start: ${err}`).to.not.equal(null);
      const { m } = await scrapeUrl(started![1]);
      expect(m.get('tsbpf_map_ro{key="0",path="ro"}'), err).to.equal(3);
      expect(m.get('tsbpf_export_map_errors'), err).to.equal(0);
      expect(err).to.equal('');
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    }
  });

  it('CLI: a DIR the exporter may not list (no CAP_DAC_OVERRIDE) is refused at start: one Error: line, status 1', async () => {
    const locked = path.join(fs.dir, 'locked');
    mkdirSync(locked, { mode: 0 });
    const r = spawnSync('setpriv', ['--bounding-set', '-dac_override,-dac_read_search', process.execPath, '--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', locked, '--listen', '127.0.0.1:0'], { encoding: 'utf8', timeout: 20_000 });
    expect(r.stderr).to.equal(`Error: --pinned ${locked}: cannot be listed: EACCES (permission denied)\n`);
    expect(r.status).to.equal(1);
  });

  it('CLI: a map that fails at every scrape is one warning per kind of failure, and counted by path and kind in tsbpf_export_map_read_errors_total', async () => {
    const t = shapesBtf();
    owned.push(t.fd);
    // with CAP_BPF but no CAP_SYS_ADMIN the maps read, their BTF (BTF_GET_FD_BY_ID) does not
    create('typed', { type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, btfFd: t.fd.value, btfKeyTypeId: t.u32, btfValueTypeId: t.pair });
    create('other', { type: 'array', keySize: 4, valueSize: 16, maxEntries: 1, btfFd: t.fd.value, btfKeyTypeId: t.u32, btfValueTypeId: t.pair });
    create('fine', { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    const child = spawn('setpriv', ['--bounding-set', '-sys_admin,-dac_override,-dac_read_search', process.execPath, '--import', 'tsx', 'lib/cli/main.ts', 'export', '--pinned', fs.dir, '--listen', '127.0.0.1:0'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    let err = '';
    child.stdout.on('data', (d: Buffer) => { out += d; });
    child.stderr.on('data', (d: Buffer) => { err += d; });
    try {
      const started = await waitFor(() => /at (http\S+)/.exec(out), (v) => v !== null, 30_000);
      expect(started, `exporter did not start: ${err}`).to.not.equal(null);
      const url = started![1];
      for (let i = 0; i < 3; i++) expect((await scrapeUrl(url)).m.get('tsbpf_map_fine{key="0",path="fine"}')).to.equal(0);
      // the same pin now fails another way: a map its mode does not let this process open
      spawnSync('rm', [path.join(fs.dir, 'typed')]);
      create('typed', { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
      chmodSync(path.join(fs.dir, 'typed'), 0);
      let m = new Map<string, number>();
      let text = '';
      for (let i = 0; i < 2; i++) ({ m, text } = await scrapeUrl(url));
      expect(m.get('tsbpf_export_map_errors')).to.equal(2);
      expect(m.get('tsbpf_export_map_read_errors_total{path="typed",error="BTF_GET_FD_BY_ID: EPERM"}')).to.equal(3);
      expect(m.get('tsbpf_export_map_read_errors_total{path="other",error="BTF_GET_FD_BY_ID: EPERM"}')).to.equal(5);
      expect(m.get('tsbpf_export_map_read_errors_total{path="typed",error="OBJ_GET: EACCES"}')).to.equal(2);
      expect(text).to.include('# TYPE tsbpf_export_map_read_errors_total counter\n');
      const lines = err.trim().split('\n');
      expect(lines, err).to.have.length(3);
      const esc = (x: string) => x.replace(/[()/]/g, '\\$&');
      expect(lines[0]).to.match(new RegExp(`^${esc(`warning: ${fs.dir}/other: its BTF cannot be read (BTF_GET_FD_BY_ID: EPERM (Operation not permitted): btf id `)}\\d+${esc('): decoding maps with BTF needs CAP_SYS_ADMIN (not repeated: tsbpf_export_map_read_errors_total counts them)')}$`));
      expect(lines[1]).to.match(new RegExp(`^warning: ${fs.dir}/typed: its BTF cannot be read \\(BTF_GET_FD_BY_ID: EPERM `));
      expect(lines[2]).to.match(new RegExp(`^warning: ${fs.dir}/typed: OBJ_GET: EACCES`));
    } finally {
      child.kill('SIGKILL');
      await new Promise((r) => (child.exitCode !== null || child.signalCode !== null ? r(undefined) : child.once('exit', r)));
    }
  });

  it('a pin whose name is not UTF-8 is a read error naming it (it vanished without a word)', async () => {
    create('good', { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 }).update(u32le(0), u64le(4n));
    create('tmp', { type: 'array', keySize: 4, valueSize: 8, maxEntries: 1 });
    renameSync(path.join(fs.dir, 'tmp'), Buffer.concat([Buffer.from(`${fs.dir}/bad`), Buffer.from([0xff]), Buffer.from('name')]));
    const errors: string[] = [];
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0', onMapError: (p, e) => errors.push(`${p}: ${(e as Error).message}`) });
    const { m } = await scrapeUrl(ex.url);
    expect(errors).to.deep.equal([`${fs.dir}/bad\\xffname: the name is not UTF-8: skipped (rename the pin)`]);
    expect(m.get('tsbpf_export_map_errors')).to.equal(1);
    expect(m.get('tsbpf_export_map_read_errors_total{path="bad\\\\xffname",error="ExportError"}')).to.equal(1);
    expect(m.get('tsbpf_map_good{key="0",path="good"}')).to.equal(4);
  });

  it('a 100k-entry hash of structs is served in full, and the event loop answers other requests while it is read', async () => {
    const N = 100_000;
    const t = shapesBtf();
    owned.push(t.fd);
    const big = create('big', { type: 'hash', keySize: 4, valueSize: 16, maxEntries: N, btfFd: t.fd.value, btfKeyTypeId: t.u32, btfValueTypeId: t.pair });
    const keys = new Uint8Array(4 * N);
    const values = new Uint8Array(16 * N);
    const kv = new DataView(keys.buffer);
    const vv = new DataView(values.buffer);
    for (let i = 0; i < N; i++) {
      kv.setUint32(4 * i, i, true);
      vv.setBigUint64(16 * i, BigInt(i), true);
      vv.setBigUint64(16 * i + 8, BigInt(i) * 100n, true);
    }
    big.updateBatch(keys, values);
    const errors: unknown[] = [];
    ex = await startExporter({ pinned: fs.dir, listen: '127.0.0.1:0', onMapError: (_, e) => errors.push(e) });
    // the order responses are finished in: a request for / sent while the scrape runs comes first
    const finished: string[] = [];
    const sent = new Promise<void>((resolve) => ex!.server.on('request', (req, res) => {
      res.on('finish', () => finished.push(req.url!));
      if (req.url === '/metrics') resolve();
    }));
    const scrape = scrapeUrl(ex.url);
    await sent;
    expect((await fetch(ex.url.replace('/metrics', '/'))).status).to.equal(200);
    const { status, m } = await scrape;
    expect(errors).to.deep.equal([]);
    expect(status).to.equal(200);
    expect(finished).to.deep.equal(['/', '/metrics']);
    expect(m.get('tsbpf_export_map_errors')).to.equal(0);
    expect(m.get('tsbpf_pinned_map_entries{path="big"}')).to.equal(N);
    expect(m.get('tsbpf_map_big_packets{key="99999",path="big"}')).to.equal(99999);
    expect(m.get('tsbpf_map_big_bytes{key="99999",path="big"}')).to.equal(9999900);

    // concurrent scrapes share one read and all get it; close() in the middle of a scrape resolves
    // once that scrape let go of its map fds
    const before = bpfFds();
    const scrapes = [1, 2, 3].map(() => fetch(ex!.url).then((r) => r.status, () => 'aborted'));
    await new Promise((r) => ex!.server.once('request', r));
    await ex.close();
    ex = undefined;
    expect(bpfFds()).to.deep.equal(before);
    for (const st of await Promise.all(scrapes)) expect([200, 'aborted']).to.include(st);
  });
});
