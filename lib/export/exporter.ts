// The Prometheus exporter of pinned maps (`tsbpf export --pinned DIR --listen HOST:PORT`): every
// scrape walks DIR (recursively), opens each pinned map, reads all its entries at that moment (no
// cache) and serves them through prom-client. Maps with BTF are decoded with lib/codec (structs,
// enums, char arrays); maps without BTF give their key as hex and 1/2/4/8-byte values as integers.
// Metadata of each map is exported as tsbpf_pinned_map_{info,max_entries,entries}.
import { createServer, type Server } from 'node:http';
import { readdirSync, statSync } from 'node:fs';
import { join, relative } from 'node:path';
import { Gauge, Registry } from 'prom-client';
import { TsbpfError } from '../errors.js';
import { BpfMap } from '../map/map.js';
import { BPF_FS_MAGIC, objGet, statfsType } from '../syscall/obj.js';
import { BpfError } from '../syscall/errors.js';
import type { Fd } from '../syscall/fd.js';
import { compileCodec } from '../codec/compile.js';
import { btfCodecSource } from '../codec/btf-source.js';
import { CodecError } from '../codec/errors.js';
import { intCodec } from '../codec/user.js';
import { mapBtf } from './map-btf.js';
import { entrySamples, sanitizeName, type Labels, type Sample, type SampleOptions } from './samples.js';
import { fdKind } from '../syscall/fd-kind.js';

/** A directory that cannot be exported (missing, not a directory, not on bpffs) or a bad listen address. */
export class ExportError extends TsbpfError {}

export interface ExporterOptions extends SampleOptions {
  /** a directory on bpffs; every map pinned under it (recursively) is exported */
  pinned: string;
  /** 'HOST:PORT' ('127.0.0.1:9435', '[::1]:0'); port 0 picks a free one */
  listen: string;
  /** called with a message when one map cannot be read during a scrape (default: ignored) */
  onMapError?: (path: string, err: unknown) => void;
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

/** Every pin under `dir` that is a map: its path (walk order: sorted, depth first). */
function pinnedMaps(dir: string): string[] {
  const out: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile()) out.push(p);
    }
  };
  walk(dir);
  return out;
}

const ARRAYS = new Set(['array', 'percpu_array']);

/** A codec, or undefined for a type the codecs cannot express (the map is then read raw). */
function orRaw<T>(compile: () => T): T | undefined {
  try {
    return compile();
  } catch (e) {
    if (e instanceof CodecError) return undefined;
    throw e;
  }
}

/** Samples of one pinned map, read now. Non-map pins give nothing. */
function mapSamples(dir: string, path: string, o: SampleOptions): Sample[] | undefined {
  let fd: Fd;
  try {
    fd = objGet(path);
  } catch (e) {
    // not a pin (bpffs also holds plain files, e.g. bpf_preload's maps.debug): nothing to export
    if (e instanceof BpfError && (e.errno === 'ENOENT' || e.errno === 'EINVAL')) return undefined;
    throw e;
  }
  if (fdKind(fd.value) !== 'map') {
    fd.close();
    return undefined;
  }
  const m = BpfMap.fromFd(fd) as BpfMap<unknown, unknown>;
  try {
    const info = m.info();
    const rel = relative(dir, path);
    const base: Labels = { path: rel };
    const meta: Labels = { ...base, map: info.name, type: info.typeName, id: String(info.id) };
    const out: Sample[] = [
      { metric: 'tsbpf_pinned_map_info', labels: meta, value: 1 },
      { metric: 'tsbpf_pinned_map_max_entries', labels: base, value: info.maxEntries },
    ];
    if (m.keySize === 0 || m.valueSize === 0) return out; // queues, stacks, ring buffers: metadata only
    const kb = mapBtf(info);
    if (kb) {
      const src = btfCodecSource(kb.btf);
      const key = kb.keyTypeId ? orRaw(() => compileCodec(src, kb.keyTypeId, { what: 'key', strings: true, enumNames: true })) : undefined;
      const value = orRaw(() => compileCodec(src, kb.valueTypeId, { strings: true, enumNames: true }));
      m.withCodecs({ key: key && key.size === m.keySize ? key : undefined, value: value && value.size === m.valueSize ? value : undefined });
    }
    // an array's key is its index whatever the BTF says (global-data maps have no key type)
    if (!m.keyCodec && ARRAYS.has(info.typeName) && m.keySize === 4) m.withCodecs({ key: intCodec(4, false, 'key') });
    const metric = `tsbpf_map_${sanitizeName(path.slice(path.lastIndexOf('/') + 1))}`;
    const numericRaw = !m.valueCodec && [1, 2, 4, 8].includes(m.valueSize);
    let n = 0;
    for (const [k, v] of m.entries()) {
      n++;
      let value: unknown = v;
      if (!m.valueCodec) {
        if (!numericRaw) continue;
        value = Array.isArray(v) ? v.map((x: Uint8Array) => le(x)) : le(v as Uint8Array);
      }
      out.push(...entrySamples(metric, base, k, value, m.perCpu, o));
    }
    out.push({ metric: 'tsbpf_pinned_map_entries', labels: base, value: n });
    return out;
  } finally {
    m.close();
  }
}

const HELP: Record<string, string> = {
  tsbpf_pinned_map_info: 'a map pinned under the exported directory (labels: pin path, kernel name, type, id)',
  tsbpf_pinned_map_max_entries: 'max_entries of a pinned map',
  tsbpf_pinned_map_entries: 'entries read from a pinned map at this scrape',
  tsbpf_export_map_errors: 'pinned maps that could not be read at this scrape',
};

/** The metrics text of DIR right now (what a scrape returns). */
export async function collectMetrics(dir: string, o: SampleOptions & { onMapError?: ExporterOptions['onMapError'] } = {}): Promise<{ text: string; contentType: string }> {
  const samples: Sample[] = [];
  let errors = 0;
  for (const p of pinnedMaps(dir)) {
    try {
      samples.push(...(mapSamples(dir, p, o) ?? []));
    } catch (e) {
      errors++;
      o.onMapError?.(p, e);
    }
  }
  samples.push({ metric: 'tsbpf_export_map_errors', labels: {}, value: errors });
  const registry = new Registry();
  const byMetric = new Map<string, Sample[]>();
  for (const s of samples) {
    const list = byMetric.get(s.metric);
    if (list) list.push(s);
    else byMetric.set(s.metric, [s]);
  }
  for (const [name, list] of byMetric) {
    const labelNames = [...new Set(list.flatMap((s) => Object.keys(s.labels)))];
    const g = new Gauge({ name, help: HELP[name] ?? `numeric contents of pinned map ${list[0].labels.path ?? ''}`, labelNames, registers: [registry] });
    for (const s of list) g.set(s.labels, s.value);
  }
  return { text: await registry.metrics(), contentType: registry.contentType };
}

/** HOST:PORT → [host, port]; IPv6 hosts in brackets. */
export function parseListen(listen: string): [string, number] {
  const m = /^(?:\[([^\]]+)\]|([^:]+)):(\d{1,5})$/.exec(listen);
  const port = m ? Number(m[3]) : NaN;
  if (!m || port > 65535) throw new ExportError(`--listen ${JSON.stringify(listen)}: expected HOST:PORT (e.g. 127.0.0.1:9435)`);
  return [m[1] ?? m[2], port];
}

/** Checks DIR (exists, a directory, on bpffs) and serves its maps' metrics at /metrics. */
export async function startExporter(o: ExporterOptions): Promise<Exporter> {
  let st;
  try {
    st = statSync(o.pinned);
  } catch (e) {
    throw new ExportError(`--pinned ${o.pinned}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (e as Error).message}`, { cause: e });
  }
  if (!st.isDirectory()) throw new ExportError(`--pinned ${o.pinned}: not a directory`);
  const fsType = statfsType(o.pinned) >>> 0;
  if (fsType !== BPF_FS_MAGIC) {
    throw new ExportError(`--pinned ${o.pinned} is not on bpffs (filesystem type 0x${fsType.toString(16)}): maps are pinned on a bpffs mount, e.g. /sys/fs/bpf (mount -t bpf bpf /sys/fs/bpf)`);
  }
  const [host, port] = parseListen(o.listen);
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
    collectMetrics(o.pinned, o).then(
      (m) => res.writeHead(200, { 'content-type': m.contentType }).end(req.method === 'HEAD' ? undefined : m.text),
      (e: unknown) => res.writeHead(500, { 'content-type': 'text/plain' }).end(`error reading ${o.pinned}: ${(e as Error).message}\n`),
    );
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', (e) => reject(new ExportError(`cannot listen on ${o.listen}: ${(e as NodeJS.ErrnoException).code ?? e.message}`, { cause: e })));
    server.listen(port, host, () => resolve());
  });
  const addr = server.address();
  const shown = typeof addr === 'object' && addr ? `${addr.family === 'IPv6' ? `[${addr.address}]` : addr.address}:${addr.port}` : o.listen;
  return {
    server,
    url: `http://${shown}/metrics`,
    close: () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    }),
  };
}
