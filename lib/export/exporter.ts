// The Prometheus exporter of pinned maps (`tsbpf export --pinned DIR --listen HOST:PORT`): every
// scrape walks DIR (recursively), opens each pinned map, reads all its entries at that moment (no
// cache) and serves them in Prometheus's text format, written by prom-client (lib/export/exposition.ts).
// Maps with BTF are decoded with lib/codec (structs, enums, char arrays); maps without BTF give their
// key as hex and 1/2/4/8-byte values as integers.
// Metadata of each map is exported as tsbpf_pinned_map_{info,max_entries,entries}. A scrape yields
// to the event loop as it goes (a 100k-entry map takes seconds), and concurrent scrapes share one read.
import { createServer, type Server } from 'node:http';
import { isIPv6 } from 'node:net';
import { gzip } from 'node:zlib';
import { accessSync, constants, readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { TsbpfError } from '../errors.js';
import { BpfMap } from '../map/map.js';
import { BPF_FS_MAGIC, objGet, statfsType, type MapInfo } from '../syscall/obj.js';
import { BpfError } from '../syscall/errors.js';
import type { Fd } from '../syscall/fd.js';
import { compileCodec, type TypedCodec } from '../codec/compile.js';
import { btfCodecSource } from '../codec/btf-source.js';
import { CodecError } from '../codec/errors.js';
import { intCodec } from '../codec/user.js';
import { mapBtf } from './map-btf.js';
import { addNum, entrySamplesExact, networkOrderKeys, notQuantities, sanitizeName, type ExactSample, type Labels, type SampleOptions } from './samples.js';
import { EXPOSITION_CONTENT_TYPE, formatFamily, type ExpositionSample } from './exposition.js';
import { fdKind } from '../syscall/fd-kind.js';
import { BPF_MAP_FLAG, BPF_MAP_TYPE } from '../syscall/types.js';

/** A directory that cannot be exported (missing, not a directory, not on bpffs) or a bad listen address. */
export class ExportError extends TsbpfError {}

export interface ExporterOptions extends SampleOptions {
  /** a directory on bpffs; every map pinned under it (recursively) is exported */
  pinned: string;
  /** 'HOST:PORT' ('127.0.0.1:9435', '[::1]:0'), or ':PORT' for every address (IPv6 and IPv4); port 0 picks a free one */
  listen: string;
  /**
   * called when a map (or a subdirectory) cannot be read during a scrape, with its path and the
   * error, at every scrape it fails (mapErrorWarner() makes it once per map and kind of failure);
   * it is counted in tsbpf_export_map_errors and tsbpf_export_map_read_errors_total (default: ignored)
   */
  onMapError?: (path: string, err: unknown) => void;
  /** called when a scrape fails as a whole (DIR gone or no longer on bpffs: a 500), once per read however many requests shared it */
  onScrapeError?: (err: unknown) => void;
}

/** Per pin path and kind of failure: the failures counted since the exporter started. */
export type ErrorTotals = Map<string, { path: string; error: string; n: number }>;

/** How the maps of one BTF key/value pair are read: codecs compiled once, not at every scrape. */
interface MapReading {
  key: TypedCodec | undefined;
  value: TypedCodec | undefined;
  /** value parts that are no quantity */
  skip: Set<string> | undefined;
  /** key labels decoded from network byte order */
  networkOrder: Set<string> | undefined;
}

/**
 * Readings kept from scrape to scrape, by BTF object id and key/value type ids (the kernel hands
 * out BTF ids cyclically, so an id is not another BTF's while the exporter runs): the BTF is fetched
 * and the codecs compiled when a map with new types appears, not for every map at every scrape.
 * Readings no map used in a scrape are dropped after it.
 */
export class ReadingCache {
  /** undefined: maps with these ids have no BTF (read raw) */
  readonly #readings = new Map<string, MapReading | undefined>();
  #used = new Set<string>();
  get(id: string, make: () => MapReading | undefined): MapReading | undefined {
    this.#used.add(id);
    if (this.#readings.has(id)) return this.#readings.get(id);
    const r = make();
    this.#readings.set(id, r);
    return r;
  }
  /** drops what the scrape just ended did not use */
  endScrape(): void {
    for (const id of this.#readings.keys()) if (!this.#used.has(id)) this.#readings.delete(id);
    this.#used = new Set();
  }
  get size(): number {
    return this.#readings.size;
  }
}

/**
 * The kind of a read failure, for counting and warning once: 'CMD: ERRNO' for a bpf() error (its
 * cause's if it is wrapped), the errno code of a file system error, else the error's class.
 */
export function failureKind(e: unknown): string {
  if (e instanceof BpfError) return `${e.cmd}: ${e.errno}`;
  if (e instanceof ExportError && e.cause !== undefined) return failureKind(e.cause);
  const code = (e as NodeJS.ErrnoException | undefined)?.code;
  if (typeof code === 'string') return code;
  return e instanceof Error ? e.name : typeof e;
}

/**
 * An onMapError that writes one warning line per map and kind of failure (a broken map fails the
 * same way at every scrape): a map that fails another way later is reported again.
 */
export function mapErrorWarner(write: (line: string) => void): (path: string, err: unknown) => void {
  const seen = new Set<string>();
  return (path, err) => {
    const id = `${path}\0${failureKind(err)}`;
    if (seen.has(id)) return;
    seen.add(id);
    write(`warning: ${path}: ${err instanceof Error ? err.message : String(err)} (not repeated: tsbpf_export_map_read_errors_total counts them)\n`);
  };
}

export interface Exporter {
  readonly server: Server;
  /** the address actually listened on, e.g. http://127.0.0.1:40123/metrics */
  readonly url: string;
  close(): Promise<void>;
}

const le = (b: Uint8Array): bigint => {
  let v = 0n;
  for (let i = b.length - 1; i >= 0; i--) v = (v << 8n) | BigInt(b[i]);
  return v;
};

/** Lets the event loop run (other requests, signals) in the middle of a long scrape. */
const tick = () => new Promise<void>((resolve) => setImmediate(resolve));
/** entries read between two ticks: ~10 ms of decoding */
const ENTRIES_PER_TICK = 2048;

/** Checks that DIR exists, is a directory we may list and is on bpffs (at start and at every scrape: it may be unmounted). */
function checkDir(dir: string): void {
  let st;
  try {
    st = statSync(dir);
  } catch (e) {
    throw new ExportError(`--pinned ${dir}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) throw new ExportError(`--pinned ${dir}: not a directory`);
  try {
    accessSync(dir, constants.R_OK | constants.X_OK);
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new ExportError(`--pinned ${dir}: cannot be listed: ${code === 'EACCES' ? 'EACCES (permission denied)' : (e as Error).message}`, { cause: e });
  }
  const fsType = statfsType(dir) >>> 0;
  if (fsType !== BPF_FS_MAGIC) {
    throw new ExportError(`--pinned ${dir} is not on bpffs (filesystem type 0x${fsType.toString(16)}): maps are pinned on a bpffs mount, e.g. /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)`);
  }
}

const utf8 = new TextDecoder('utf-8', { fatal: true });

/**
 * Every pin under `dir` (walk order: sorted, depth first). A subdirectory removed or replaced
 * while it is walked is gone, not an error; one that cannot be read is reported and skipped. A name
 * that is not UTF-8 is reported and skipped: as a string it is another name (U+FFFD for each bad
 * byte), which no pin has, and it could not be a label anyway.
 */
function pinnedFiles(dir: string, onError: (path: string, err: unknown) => void): string[] {
  const out: string[] = [];
  const walk = (d: string, top: boolean) => {
    let list;
    try {
      list = readdirSync(d, { withFileTypes: true, encoding: 'buffer' });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (top) throw new ExportError(`--pinned ${dir}: cannot be listed: ${code ?? (e as Error).message}`, { cause: e });
      if (code !== 'ENOENT' && code !== 'ENOTDIR') onError(d, e);
      return;
    }
    const named: [string, (typeof list)[number]][] = [];
    for (const e of list) {
      try {
        named.push([utf8.decode(e.name), e]);
      } catch {
        const shown = join(d, e.name.toString('latin1').replace(/[\x80-\xff]/g, (c) => `\\x${c.charCodeAt(0).toString(16)}`));
        onError(shown, new ExportError('the name is not UTF-8: skipped (rename the pin)'));
      }
    }
    for (const [name, e] of named.sort((a, b) => (a[0] < b[0] ? -1 : 1))) {
      const p = join(d, name);
      if (e.isDirectory()) walk(p, false);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir, true);
  return out;
}

const T = BPF_MAP_TYPE;
/**
 * Map types whose values, as user space reads them, are no quantity: program and map ids
 * (prog_array, *_of_maps), ifindexes and queue sizes (devmap, cpumap), stack addresses, a
 * struct_ops state and ops table (refcnt, state, flags), instruction offsets (insn_array). Their
 * entries are counted, no value series.
 */
const COUNT_ONLY = new Set<number>([T.PROG_ARRAY, T.ARRAY_OF_MAPS, T.HASH_OF_MAPS, T.DEVMAP, T.DEVMAP_HASH, T.CPUMAP, T.STACK_TRACE, T.STRUCT_OPS, T.INSN_ARRAY]);
/**
 * Map types user space cannot walk: lookups are refused (perf_event_array and cgroup_array:
 * ENOTSUPP; sockets and AF_XDP sockets: ENOSPC/EOPNOTSUPP) or keys are fds (local storage). Also
 * those without keys (queue, stack, bloom filter, ring buffers, arena). Metadata only.
 */
const META_ONLY = new Set<number>([
  T.PERF_EVENT_ARRAY, T.CGROUP_ARRAY, T.SOCKMAP, T.SOCKHASH, T.XSKMAP, T.REUSEPORT_SOCKARRAY,
  T.SK_STORAGE, T.INODE_STORAGE, T.TASK_STORAGE, T.CGRP_STORAGE,
]);
const ARRAYS = new Set<number>([T.ARRAY, T.PERCPU_ARRAY]);

/**
 * The codecs of a map with BTF (undefined without): keys with strings and enum names, values with
 * enums as numbers (a state is a quantity; its name would drop the series), both with __be16/32/64
 * fields as the numbers they stand for (ports, addresses).
 */
function mapReading(info: MapInfo): MapReading | undefined {
  let kb;
  try {
    kb = mapBtf(info);
    if (!kb) return undefined;
  } catch (e) {
    // BTF_GET_FD_BY_ID needs CAP_SYS_ADMIN where CAP_BPF reads the map itself
    if (e instanceof BpfError && e.errno === 'EPERM') throw new ExportError(`its BTF cannot be read (${e.message}): decoding maps with BTF needs CAP_SYS_ADMIN`, { cause: e });
    throw e;
  }
  const src = btfCodecSource(kb.btf);
  const key = kb.keyTypeId ? orRaw(() => compileCodec(src, kb.keyTypeId, { what: 'key', strings: true, enumNames: true, networkOrder: true })) : undefined;
  const value = orRaw(() => compileCodec(src, kb.valueTypeId, { strings: true, networkOrder: true }));
  return {
    key,
    value,
    skip: value ? notQuantities(src, kb.valueTypeId) : undefined,
    networkOrder: key ? networkOrderKeys(src, kb.keyTypeId) : undefined,
  };
}

/** A codec, or undefined for a type the codecs cannot express (the map is then read raw). */
function orRaw<T>(compile: () => T): T | undefined {
  try {
    return compile();
  } catch (e) {
    if (e instanceof CodecError) return undefined;
    throw e;
  }
}

/**
 * One scrape's series, per metric and exact label set. Two entries whose keys decode to the same
 * labels (strings equal up to their NUL, keys differing in padding) are summed, as ebpf_exporter
 * does; label sets that differ are two series whatever their values hold (',', '=', ':', quotes).
 */
class Series {
  readonly families = new Map<string, { paths: Set<string>; series: Map<string, ExactSample> }>();
  /** families listed first, in this order, whatever order their samples come in */
  constructor(first: readonly string[] = []) {
    for (const name of first) this.families.set(name, { paths: new Set(), series: new Map() });
  }
  add(s: ExactSample): void {
    let f = this.families.get(s.metric);
    if (!f) this.families.set(s.metric, (f = { paths: new Set(), series: new Map() }));
    if (s.labels.path !== undefined) f.paths.add(s.labels.path);
    // labels in insertion order: the same for every entry of one map (one key type), and series of
    // two maps differ in their path anyway. NUL cannot be in a label name and ends C strings.
    let id = '';
    for (const k in s.labels) id += `${k}\0${s.labels[k]}\0`;
    const had = f.series.get(id);
    if (had) had.value = addNum(had.value, s.value);
    else f.series.set(id, s);
  }
}

/** Adds the samples of one pinned map, read now. Non-map pins give nothing. */
async function mapSamples(dir: string, path: string, o: SampleOptions, out: Series, onError: (path: string, err: unknown) => void, cache: ReadingCache): Promise<void> {
  let fd: Fd;
  try {
    // read-only: all a scrape needs, and all a 0444 pin or bpf_preload's 0400 maps.debug allow
    // without CAP_DAC_OVERRIDE
    fd = objGet(path, BPF_MAP_FLAG.RDONLY);
  } catch (e) {
    // gone since the walk, or not a map (a link pin refuses a read-only open: EINVAL)
    if (e instanceof BpfError && (e.errno === 'ENOENT' || e.errno === 'EINVAL')) return;
    throw e;
  }
  if (fdKind(fd.value) !== 'map') {
    fd.close();
    return;
  }
  const m = BpfMap.fromFd(fd) as BpfMap<unknown, unknown>;
  try {
    const info = m.info();
    const base: Labels = { path: relative(dir, path) };
    // metadata first: a map whose entries cannot be read is still listed
    out.add({ metric: 'tsbpf_pinned_map_info', labels: { ...base, map: info.name, type: info.typeName, id: String(info.id) }, value: 1 });
    out.add({ metric: 'tsbpf_pinned_map_max_entries', labels: base, value: info.maxEntries });
    if (m.keySize === 0 || m.valueSize === 0 || META_ONLY.has(info.type)) return;
    const countOnly = COUNT_ONLY.has(info.type);
    let skip: Set<string> | undefined;
    let networkOrder: Set<string> | undefined;
    const r = countOnly ? undefined : cache.get(`${info.btfId}:${info.btfKeyTypeId}:${info.btfValueTypeId}:${info.btfVmlinuxValueTypeId}`, () => mapReading(info));
    if (r) {
      m.withCodecs({ key: r.key && r.key.size === m.keySize ? r.key : undefined, value: r.value && r.value.size === m.valueSize ? r.value : undefined });
      if (m.keyCodec) networkOrder = r.networkOrder;
      if (m.valueCodec) skip = r.skip;
    }
    // an array's key is its index whatever the BTF says (global-data maps have no key type)
    if (!m.keyCodec && ARRAYS.has(info.type) && m.keySize === 4) m.withCodecs({ key: intCodec(4, false, 'key') });
    const metric = `tsbpf_map_${sanitizeName(path.slice(path.lastIndexOf('/') + 1))}`;
    const numericRaw = !m.valueCodec && [1, 2, 4, 8].includes(m.valueSize);
    // this map's samples are kept only once all its entries were read (no half a map)
    const mine: ExactSample[] = [];
    let n = 0;
    try {
      for (const [k, v] of m.entries()) {
        if (++n % ENTRIES_PER_TICK === 0) await tick();
        if (countOnly) continue;
        let value: unknown = v;
        if (!m.valueCodec) {
          if (!numericRaw) continue;
          value = Array.isArray(v) ? v.map((x: Uint8Array) => le(x)) : le(v as Uint8Array);
        }
        for (const s of entrySamplesExact(metric, base, k, value, m.perCpu, o, skip, networkOrder)) mine.push(s);
      }
    } catch (e) {
      onError(path, e);
      return;
    }
    for (const s of mine) out.add(s);
    out.add({ metric: 'tsbpf_pinned_map_entries', labels: base, value: n });
  } finally {
    m.close();
  }
}

const HELP: Record<string, string> = {
  tsbpf_pinned_map_info: 'a map pinned under the exported directory (labels: pin path, kernel name, type, id)',
  tsbpf_pinned_map_max_entries: 'max_entries of a pinned map',
  tsbpf_pinned_map_entries: 'entries read from a pinned map at this scrape',
  tsbpf_export_map_errors: 'pinned maps (or directories) that could not be read at this scrape',
  tsbpf_export_map_read_errors_total: 'scrapes at which a pinned map (or directory) could not be read, since the exporter started, by kind of failure',
};

/**
 * The metrics text of DIR right now (what a scrape returns). A map or subdirectory that cannot be
 * read is counted in tsbpf_export_map_errors and passed to `onMapError`; DIR itself gone or no
 * longer on bpffs is an ExportError. `errorTotals` (kept from scrape to scrape by the exporter)
 * counts failures by pin and kind, served as the counter tsbpf_export_map_read_errors_total;
 * `cache` (also kept by the exporter) keeps the maps' codecs.
 */
export async function collectMetrics(dir: string, o: SampleOptions & { onMapError?: ExporterOptions['onMapError']; errorTotals?: ErrorTotals; cache?: ReadingCache } = {}): Promise<{ text: string; contentType: string }> {
  checkDir(dir);
  const cache = o.cache ?? new ReadingCache();
  // the exporter's own families first (entries were written after the first map's series)
  const series = new Series(['tsbpf_export_map_errors', 'tsbpf_export_map_read_errors_total', 'tsbpf_pinned_map_info', 'tsbpf_pinned_map_max_entries', 'tsbpf_pinned_map_entries']);
  let errors = 0;
  const onError = (p: string, e: unknown) => {
    errors++;
    if (o.errorTotals) {
      const path = relative(dir, p);
      const error = failureKind(e);
      const id = `${path}\0${error}`;
      const t = o.errorTotals.get(id);
      if (t) t.n++;
      else o.errorTotals.set(id, { path, error, n: 1 });
    }
    o.onMapError?.(p, e);
  };
  for (const p of pinnedFiles(dir, onError)) {
    try {
      await mapSamples(dir, p, o, series, onError, cache);
    } catch (e) {
      onError(p, e);
    }
    await tick();
  }
  cache.endScrape();
  series.add({ metric: 'tsbpf_export_map_errors', labels: {}, value: errors });
  const counters = new Set<string>();
  if (o.errorTotals?.size) {
    counters.add('tsbpf_export_map_read_errors_total');
    for (const t of o.errorTotals.values()) series.add({ metric: 'tsbpf_export_map_read_errors_total', labels: { path: t.path, error: t.error }, value: t.n });
  }
  // formatted family by family with a tick between (a 100k-entry map is ~0.5 s of text), series as
  // Series keeps them: one line per distinct label set, whatever the label values hold
  const text: string[] = [];
  for (const [name, f] of series.families) {
    if (!f.series.size) continue;
    const help = HELP[name] ?? `numeric contents of pinned map${f.paths.size > 1 ? 's' : ''} ${[...f.paths].join(', ')}`;
    const samples: ExpositionSample[] = [];
    for (const s of f.series.values()) samples.push({ labels: s.labels, value: Number(s.value) });
    series.families.delete(name);
    text.push(await formatFamily(name, help, counters.has(name) ? 'counter' : 'gauge', samples));
    await tick();
  }
  return { text: `${text.join('\n\n')}\n`, contentType: EXPOSITION_CONTENT_TYPE };
}

/**
 * HOST:PORT → [host, port]; IPv6 hosts in brackets. `:PORT` (as Go exporters take it, e.g.
 * node_exporter's --web.listen-address=:9100) is every address: host undefined, which Node listens
 * on as `::` with IPv4 too (dual-stack), or 0.0.0.0 where the host has no IPv6.
 */
export function parseListen(listen: string): [string | undefined, number] {
  const m = /^(?:\[([^\]]+)\]|([^:\[\]]*)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (m && port <= 65535) return [m[1] ?? (m[2] || undefined), port];
  const colon = listen.lastIndexOf(':');
  const what = isIPv6(listen.slice(0, colon)) && /^:\d+$/.test(listen.slice(colon))
    ? `an IPv6 address goes in brackets: [${listen.slice(0, colon)}]${listen.slice(colon)}`
    : m ? `port ${port} is over 65535` : 'expected HOST:PORT, [IPv6]:PORT or :PORT for every address (e.g. 127.0.0.1:9435, [::1]:9435, :9435)';
  throw new ExportError(`--listen ${JSON.stringify(listen)}: ${what}`);
}

/** Checks DIR (exists, a directory, on bpffs) and serves its maps' metrics at /metrics. */
export async function startExporter(o: ExporterOptions): Promise<Exporter> {
  checkDir(o.pinned);
  const [host, port] = parseListen(o.listen);
  // scrapes that arrive while one is being read share its result: N concurrent scrapers cost one read
  let inflight: Promise<{ text: string; contentType: string }> | undefined;
  const errorTotals: ErrorTotals = new Map();
  const cache = new ReadingCache();
  const scrape = () => (inflight ??= collectMetrics(o.pinned, { ...o, errorTotals, cache })
    .catch((e: unknown) => {
      o.onScrapeError?.(e);
      throw e;
    })
    .finally(() => { inflight = undefined; }));
  const server = createServer((req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'GET' && req.method !== 'HEAD') {
      res.writeHead(405, { allow: 'GET, HEAD' }).end();
      return;
    }
    if (path === '/') {
      res.writeHead(200, { 'content-type': 'text/html' }).end('<html><body><a href="/metrics">metrics</a></body></html>\n');
      return;
    }
    if (path !== '/metrics') {
      res.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try /metrics\n');
      return;
    }
    const failed = (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`error reading ${o.pinned}: ${(e as Error).message}\n`);
    // gzip when the scraper takes it (Prometheus always does): a 100k-entry map is ~10 MB of text
    const gz = acceptsGzip(req.headers['accept-encoding']);
    scrape().then((m) => {
      const headers = { 'content-type': m.contentType, vary: 'Accept-Encoding', ...(gz ? { 'content-encoding': 'gzip' } : {}) };
      if (req.method === 'HEAD') res.writeHead(200, headers).end();
      else if (!gz) res.writeHead(200, headers).end(m.text);
      else gzip(m.text, (err, body) => (err ? failed(err) : res.writeHead(200, headers).end(body)));
    }, failed);
  });
  await new Promise<void>((resolve, reject) => {
    const failed = (e: NodeJS.ErrnoException) => reject(new ExportError(`cannot listen on ${o.listen}: ${listenFailure(e)}`, { cause: e }));
    server.once('error', failed);
    server.listen({ port, host }, () => {
      server.off('error', failed);
      resolve();
    });
  });
  const addr = server.address();
  const shown = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : o.listen;
  return {
    server,
    url: `http://${shown}/metrics`,
    close: async () => {
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
      // a scrape under way holds map fds until it ends: closed means closed
      await inflight?.catch(() => undefined);
    },
  };
}

/** Whether an Accept-Encoding header takes gzip (named, else *, with a q above 0). */
export function acceptsGzip(header: string | undefined): boolean {
  const q: Record<string, number> = {};
  for (const part of (header ?? '').split(',')) {
    const [name, ...params] = part.split(';').map((x) => x.trim().toLowerCase());
    const qp = params.find((x) => x.startsWith('q='));
    q[name] = qp ? Number(qp.slice(2)) : 1;
  }
  const v = q.gzip ?? q['*'];
  return v !== undefined && v > 0;
}

/** The listen error as a user reads it: the errno and what it means here. */
function listenFailure(e: NodeJS.ErrnoException): string {
  const why: Record<string, string> = {
    EADDRINUSE: 'address already in use (another exporter on this port?)',
    EADDRNOTAVAIL: 'no interface has this address',
    EACCES: 'permission denied (ports below 1024 need CAP_NET_BIND_SERVICE)',
    ENOTFOUND: 'no such host',
    EAI_AGAIN: 'the host name cannot be resolved now',
  };
  return e.code ? `${e.code}${why[e.code] ? ` (${why[e.code]})` : ''}` : e.message;
}
