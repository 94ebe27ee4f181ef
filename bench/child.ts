// Runs every case of bench/cases/*.ts in this process (one FFI backend, chosen by TSBPF_FFI)
// and prints one JSON row per case: {"id", "ns_per_op"} or {"id", "error"}.
// Usage: node --import tsx bench/child.ts [id-filter-regexp]
import { readdirSync } from 'node:fs';
import path from 'node:path';
import { pathToFileURL } from 'node:url';
import type { BenchCase } from './lib/case.js';

const dir = path.join(import.meta.dirname, 'cases');
const filter = process.argv[2] ? new RegExp(process.argv[2]) : undefined;
for (const f of readdirSync(dir).filter((n) => n.endsWith('.ts')).sort()) {
  const mod = (await import(pathToFileURL(path.join(dir, f)).href)) as { cases?: BenchCase[] };
  for (const c of mod.cases ?? []) {
    if (filter && !filter.test(c.id)) continue;
    try {
      process.stdout.write(`${JSON.stringify({ id: c.id, title: c.title, ref: c.ref, targets: c.targets, ns_per_op: Math.round(c.run() * 10) / 10 })}\n`);
    } catch (e) {
      process.stdout.write(`${JSON.stringify({ id: c.id, title: c.title, error: (e as Error).message })}\n`);
    }
  }
}
