// The 100k-entry hash map that every implementation walks in the same run. The cost of a kernel
// walk depends on the map instance (where its buckets and elements landed in memory): measured
// here, one C process walked its own fresh map at ~60 or ~150 ns/entry from run to run, on the same
// CPU. So the map is made once, pinned in a private bpffs, and C, Go and TypeScript all open that
// pin (env BENCH_HASH100K_PIN): the rows compare the walkers, not two maps.
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { BpfMap } from '../../lib/map/index.js';

export const BIG = 100000;
export const PIN_ENV = 'BENCH_HASH100K_PIN';

/** keys 0..BIG-1 (u32) with value = key (u64) */
export function fillHash100k(): BpfMap<Uint8Array, Uint8Array> {
  const m = BpfMap.create({ type: 'hash', keySize: 4, valueSize: 8, maxEntries: BIG, name: 'bench_hash100k' });
  const keys = new Uint8Array(BIG * 4);
  const values = new Uint8Array(BIG * 8);
  const kv = new DataView(keys.buffer);
  const vv = new DataView(values.buffer);
  for (let i = 0; i < BIG; i++) { kv.setUint32(i * 4, i, true); vv.setBigUint64(i * 8, BigInt(i), true); }
  m.updateBatch(keys, values);
  return m;
}

export interface SharedMap {
  readonly pin: string;
  /** unmounts the private bpffs (dropping the pin and so the map) and removes its directory */
  cleanup(): void;
}

export function shareHash100k(): SharedMap {
  const dir = mkdtempSync(path.join(tmpdir(), 'tsbpf-bench-'));
  let mounted = false;
  const cleanup = () => {
    if (mounted) { try { execFileSync('umount', [dir], { stdio: 'pipe' }); } catch { /* already gone */ } mounted = false; }
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    execFileSync('mount', ['-t', 'bpf', 'bpf', dir], { stdio: 'pipe' });
    mounted = true;
    const pin = path.join(dir, 'hash100k');
    const m = fillHash100k();
    try { m.pin(pin); } finally { m.close(); }
    return { pin, cleanup };
  } catch (e) {
    cleanup();
    throw e;
  }
}
