// Possible CPUs: per-CPU maps hold one value slot per possible CPU (not online CPUs), each slot
// rounded up to 8 bytes. The kernel lists them in /sys/devices/system/cpu/possible ("0-3", "0,2-5").
import { readFileSync } from 'node:fs';
import { BPF_MAP_TYPE } from '../syscall/types.js';
import { TsbpfError } from '../errors.js';

/** Parse a kernel CPU list ("0-3,8") into the number of CPUs it names. */
export function parseCpuList(text: string): number {
  let n = 0;
  for (const part of text.trim().split(',')) {
    if (part === '') continue;
    const m = /^(\d+)(?:-(\d+))?$/.exec(part);
    if (!m) throw new TsbpfError(`cannot parse CPU list ${JSON.stringify(text)}`);
    const lo = Number(m[1]);
    const hi = m[2] !== undefined ? Number(m[2]) : lo;
    n += hi - lo + 1;
  }
  return n;
}

let cached: number | undefined;

export function possibleCpus(): number {
  cached ??= parseCpuList(readFileSync('/sys/devices/system/cpu/possible', 'utf8'));
  return cached;
}

const PER_CPU = new Set<number>([
  BPF_MAP_TYPE.PERCPU_HASH, BPF_MAP_TYPE.PERCPU_ARRAY, BPF_MAP_TYPE.LRU_PERCPU_HASH, BPF_MAP_TYPE.PERCPU_CGROUP_STORAGE,
]);

export function isPerCpu(mapType: number): boolean {
  return PER_CPU.has(mapType);
}
