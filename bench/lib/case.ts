// The contract between bench/run.ts and the files that add benchmark rows (see bench/README.md).

/** A ratio this row must meet: TS ns/op ÷ the `ref` row's ns/op in `against` (C by default). */
export interface BenchTarget {
  /** id of the row to divide by (default: this row's id) */
  ref?: string;
  /** which implementation's `ref` row: 'c' (libbpf, default), 'go' (cilium/ebpf) or 'ts' (the same backend) */
  against?: 'c' | 'go' | 'ts';
  /** the ratio must be at most this (1.10 = "≤ 1.10× C"; 0.2 = "≥ 5× faster") */
  max: number;
  /** how the table states the target */
  label: string;
}

export interface BenchCase {
  /** stable id; a C/Go row with the same id is the baseline */
  id: string;
  title: string;
  /** the C/Go row this row's ratio columns divide by (default: the same id) */
  ref?: string;
  /** runs the measurement and returns ns per op (use measure()) */
  run(): number;
  targets?: BenchTarget[];
}

export const ROUNDS = 7;
/** after 3 rounds, stop once a case has used this much time (keeps the ~15x slower ffi-rs run short) */
const BUDGET_NS = 3e9;

/**
 * Median over the rounds of (time of fn(ops)) / ops, after a warm-up of ops/10 (or `warmup` ops: heavy
 * cases whose code runs once per op need more calls before V8 has optimized it); in ns per op.
 * Under TSBPF_FFI=ffi-rs the op counts are divided by 10 (each call costs ~15x more).
 */
export function measure(fn: (ops: number) => void, ops: number, warmup?: number): number {
  const ffiRs = process.env.TSBPF_FFI === 'ffi-rs';
  const n = ffiRs && ops >= 10 ? Math.ceil(ops / 10) : ops;
  const w = warmup === undefined ? Math.ceil(n / 10) : ffiRs && warmup >= 10 ? Math.ceil(warmup / 10) : warmup;
  if (w > 0) fn(w);
  const r: number[] = [];
  const start = process.hrtime.bigint();
  for (let i = 0; i < ROUNDS; i++) {
    const t = process.hrtime.bigint();
    fn(n);
    r.push(Number(process.hrtime.bigint() - t) / n);
    if (i >= 2 && Number(process.hrtime.bigint() - start) > BUDGET_NS) break;
  }
  r.sort((a, b) => a - b);
  return r[r.length >> 1];
}
