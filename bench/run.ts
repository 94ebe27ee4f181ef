// `make bench`: builds the C (libbpf) and Go (cilium/ebpf) baselines, runs them and the TypeScript
// cases under each FFI backend (each in its own child process) in one run, and prints ns/op and the
// ratios against the targets. Contract for adding rows: bench/README.md.
// Env: BENCH_REPEATS (default 3): C, Go and koffi runs are interleaved this many times and the
// fastest of each row is kept, which damps noise from other work on the machine.
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, statSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import type { BenchTarget } from './lib/case.js';
import { PIN_ENV, shareHash100k, type SharedMap } from './lib/shared-map.js';

const here = import.meta.dirname;
const root = path.resolve(here, '..');
const build = path.join(here, 'build');
const REPEATS = Math.max(1, Number(process.env.BENCH_REPEATS ?? 3));
const notes: string[] = [];

interface Row { id: string; ns_per_op?: number; error?: string; title?: string; ref?: string; targets?: BenchTarget[] }
type Impl = 'c' | 'go' | 'koffi' | 'ffi-rs';

const newer = (src: string, out: string) => !existsSync(out) || statSync(src).mtimeMs > statSync(out).mtimeMs;

function buildC(): string[] {
  const dir = path.join(here, 'c');
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.c')).sort()) {
    const src = path.join(dir, f);
    const bin = path.join(build, f.replace(/\.c$/, ''));
    if (newer(src, bin)) {
      const r = spawnSync('cc', ['-O2', '-Wall', '-o', bin, src, '-lbpf'], { encoding: 'utf8' });
      if (r.status !== 0) { notes.push(`C ${f} not built (needs cc and libbpf-dev): ${(r.stderr || String(r.error)).trim().split('\n')[0]}`); continue; }
    }
    out.push(bin);
  }
  return out;
}

function buildGo(): string[] {
  const dir = path.join(here, 'go');
  if (!existsSync(dir)) return [];
  const haveGo = () => spawnSync('go', ['version']).status === 0 && existsSync('/usr/share/gocode/src/github.com/cilium/ebpf');
  if (!haveGo() && process.getuid?.() === 0 && spawnSync('apt-get', ['--version']).status === 0) {
    // like the Makefile's set-up: install what the Go column needs (Debian packages, no module proxy)
    process.stderr.write('bench: installing golang-go golang-github-cilium-ebpf-dev for the Go column\n');
    spawnSync('apt-get', ['install', '-y', '-qq', '--no-install-recommends', 'golang-go', 'golang-github-cilium-ebpf-dev'], { stdio: 'ignore', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
  }
  if (!haveGo()) { notes.push('Go column skipped: no go toolchain or cilium/ebpf sources (apt-get install golang-go golang-github-cilium-ebpf-dev)'); return []; }
  const env = { ...process.env, GO111MODULE: 'off', GOPATH: process.env.GOPATH ?? '/usr/share/gocode', GOCACHE: path.join(build, 'gocache'), GOFLAGS: '' };
  const out: string[] = [];
  for (const f of readdirSync(dir).filter((n) => n.endsWith('.go')).sort()) {
    const src = path.join(dir, f);
    const bin = path.join(build, `${f.replace(/\.go$/, '')}_go`);
    if (newer(src, bin)) {
      const r = spawnSync('go', ['build', '-o', bin, src], { env, encoding: 'utf8' });
      if (r.status !== 0) { notes.push(`Go ${f} not built (needs golang-github-cilium-ebpf-dev): ${(r.stderr || '').trim().split('\n')[0]}`); continue; }
    }
    out.push(bin);
  }
  return out;
}

function parseRows(text: string): Row[] {
  return text.split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l) as Row);
}

function runBinary(bin: string): Row[] {
  const r = spawnSync(bin, [], { encoding: 'utf8', timeout: 600000 });
  if (r.status !== 0) notes.push(`${path.basename(bin)} failed: ${(r.stderr || String(r.error)).trim().split('\n')[0]}`);
  return parseRows(r.stdout ?? '');
}

function runTs(backend: 'koffi' | 'ffi-rs'): Row[] {
  const r = spawnSync(process.execPath, ['--import', 'tsx', path.join(here, 'child.ts'), ...(process.env.BENCH_FILTER ? [process.env.BENCH_FILTER] : [])], {
    cwd: root, encoding: 'utf8', env: { ...process.env, TSBPF_FFI: backend }, timeout: 1200000, maxBuffer: 16 << 20,
  });
  if (r.status !== 0) notes.push(`TS (${backend}) run failed: ${(r.stderr || String(r.error)).trim().split('\n').slice(-3).join(' | ')}`);
  return parseRows(r.stdout ?? '');
}

const best = new Map<Impl, Map<string, number>>();
const meta = new Map<string, Row>();
function keep(impl: Impl, rows: Row[]): void {
  const m = best.get(impl) ?? new Map<string, number>();
  best.set(impl, m);
  for (const row of rows) {
    if (row.title || row.targets) meta.set(row.id, { ...meta.get(row.id), ...row });
    if (row.error) { notes.push(`${impl} ${row.id}: ${row.error}`); continue; }
    if (row.ns_per_op === undefined) continue;
    const prev = m.get(row.id);
    m.set(row.id, prev === undefined ? row.ns_per_op : Math.min(prev, row.ns_per_op));
  }
}

mkdirSync(build, { recursive: true });
const cBins = buildC();
const goBins = buildGo();
let shared: SharedMap | undefined;
try {
  shared = shareHash100k();
  process.env[PIN_ENV] = shared.pin;
} catch (e) {
  notes.push(`hash100k rows walk a map per process (no shared pin: ${(e as Error).message.split('\n')[0]}); they vary with the map instance`);
}
const dropShared = () => { shared?.cleanup(); shared = undefined; };
for (const sig of ['SIGINT', 'SIGTERM'] as const) process.once(sig, () => { dropShared(); process.exit(130); });
try {
  for (let i = 0; i < REPEATS; i++) {
    process.stderr.write(`bench: round ${i + 1}/${REPEATS}\n`);
    for (const b of cBins) keep('c', runBinary(b));
    for (const b of goBins) keep('go', runBinary(b));
    keep('koffi', runTs('koffi'));
    if (i === 0) keep('ffi-rs', runTs('ffi-rs')); // ~15x slower per call: once is enough to see it
  }
} finally {
  dropShared();
}

const get = (impl: Impl, id: string | undefined) => (id === undefined ? undefined : best.get(impl)?.get(id));
const ns = (v: number | undefined) => (v === undefined ? '—' : v >= 100 ? v.toFixed(0) : v.toFixed(1));
const ratio = (a: number | undefined, b: number | undefined) => (a === undefined || b === undefined ? '—' : `${(a / b).toFixed(2)}×`);

const ids = [...new Set([...(best.get('koffi')?.keys() ?? []), ...(best.get('c')?.keys() ?? []), ...(best.get('go')?.keys() ?? [])])];
const header = ['case (ns/op)', 'C libbpf', 'Go cilium', 'TS koffi', 'TS ffi-rs', 'koffi/C', 'ffi-rs/C', 'koffi/Go'];
const table: string[][] = [header];
for (const id of ids) {
  const ref = meta.get(id)?.ref ?? id;
  table.push([
    id, ns(get('c', id)), ns(get('go', id)), ns(get('koffi', id)), ns(get('ffi-rs', id)),
    ratio(get('koffi', id), get('c', ref)), ratio(get('ffi-rs', id), get('c', ref)), ratio(get('koffi', id), get('go', ref)),
  ]);
}
const widths = header.map((_, c) => Math.max(...table.map((r) => r[c].length)));
const line = (r: string[]) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]) : cell.padStart(widths[c]))).join('  ');
const out: string[] = ['', line(table[0]), widths.map((w) => '-'.repeat(w)).join('  '), ...table.slice(1).map(line), ''];

out.push('targets (TS koffi / baseline; ffi-rs shown for reference):');
const results: Array<{ id: string; label: string; ratio?: number; met?: boolean }> = [];
for (const id of ids) {
  for (const t of meta.get(id)?.targets ?? []) {
    const base = t.against === 'ts' ? get('koffi', t.ref ?? id) : get(t.against ?? 'c', t.ref ?? id);
    const baseRs = t.against === 'ts' ? get('ffi-rs', t.ref ?? id) : base;
    const k = get('koffi', id);
    const r = k !== undefined && base !== undefined ? k / base : undefined;
    const met = r === undefined ? undefined : r <= t.max;
    const rs = get('ffi-rs', id);
    results.push({ id, label: t.label, ratio: r, met });
    out.push(`  ${id.padEnd(widths[0])}  ${t.label.padEnd(34)} koffi ${r === undefined ? '—' : `${r.toFixed(3)}×`} ${met === undefined ? '' : met ? 'met' : 'NOT met'}   (ffi-rs ${ratio(rs, baseRs)})`);
  }
}
if (notes.length) out.push('', 'notes:', ...notes.map((n) => `  ${n}`));
process.stdout.write(`${out.join('\n')}\n`);
writeFileSync(path.join(build, 'results.json'), JSON.stringify({ when: new Date().toISOString(), best: Object.fromEntries([...best].map(([k, v]) => [k, Object.fromEntries(v)])), targets: results, notes }, null, 2));
void execFileSync;
