// Map entries (decoded JS values) → Prometheus samples: keys become labels, numeric leaves of values
// become series (struct fields as their own metrics, array elements with an `index` label), per-CPU
// values are summed. Pure: no kernel access, so its rules are unit-tested on plain values.

import { isCharType, resolveAlias, type CodecTypeSource } from '../codec/types.js';
import { isNetworkOrderInt } from '../codec/compile.js';

export type Labels = Record<string, string>;

export interface Sample {
  /** full metric name */
  metric: string;
  labels: Labels;
  value: number;
}

export interface SampleOptions {
  /** render u32 key fields named like addresses (…addr, ip, ip4, src, dst) as dotted IPv4 */
  ipv4?: boolean;
}

/** A metric-name-safe version of `s` ([a-zA-Z0-9_], not starting with a digit). */
export function sanitizeName(s: string): string {
  const out = s.replace(/[^a-zA-Z0-9_]/g, '_');
  return /^[0-9]/.test(out) ? `_${out}` : out;
}

/** A label-name-safe version of `s` (no leading `__`, reserved by Prometheus). */
function labelName(s: string): string {
  const out = sanitizeName(s);
  return out.startsWith('__') ? `k${out}` : out || 'key';
}

/**
 * Member names that are explicit padding (pad, _pad, __pad1, pad_2, padding): no label and no
 * series. Two keys that differ only there are one flow, summed.
 */
const PADDING = /^_*pad(ding)?_?\d*$/i;

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const ADDR = /(addr|^ip4?$|^src$|^dst$|_ip$|^ip_)/i;

/**
 * A u32 address as dotted IPv4. `decoded`: the number a __be32 stands for (networkOrder codec):
 * most significant byte first. Otherwise the u32 as it lies in memory (BPF programs keep addresses
 * in network order in plain __u32 fields): bytes in memory order.
 */
function ipv4(n: number, decoded: boolean): string {
  if (decoded) return `${n >>> 24}.${(n >>> 16) & 255}.${(n >>> 8) & 255}.${n & 255}`;
  const b = new Uint8Array(new Uint32Array([n]).buffer);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/**
 * `name`, or name_2, name_3… when `labels` has it already: fields that flatten to one label name
 * (a_b and a.b, x-y and x_y) would otherwise overwrite each other, and distinct keys would merge.
 */
function freeName(labels: Labels, name: string): string {
  if (!Object.hasOwn(labels, name)) return name;
  let i = 2;
  while (Object.hasOwn(labels, `${name}_${i}`)) i++;
  return `${name}_${i}`;
}

/**
 * Labels for a key: a scalar is `key`, struct fields are labels of their own (nested: a_b), padding
 * fields none. `networkOrder`: the label names (as networkOrderKeys() gives them) whose numbers were
 * decoded from network byte order.
 */
export function keyLabels(key: unknown, o: SampleOptions = {}, networkOrder?: ReadonlySet<string>): Labels {
  const out: Labels = {};
  const set = (name: string, text: string) => { out[freeName(out, labelName(name))] = text; };
  const put = (name: string, v: unknown, field: string) => {
    if (v instanceof Uint8Array) set(name, hex(v));
    // an array of numbers is one label (pad="0,0,0"); one holding structs or unions gives each
    // element labels of its own (p_0_a, p_1_a): as text they were all "[object Object]"
    else if (Array.isArray(v)) {
      if (v.some(hasObject)) v.forEach((x, i) => put(`${name}_${i}`, x, field));
      else set(name, v.map((x) => scalarText(x)).join(','));
    }
    else if (v !== null && typeof v === 'object') {
      for (const [k, x] of Object.entries(v)) if (!PADDING.test(k)) put(name === 'key' && field === '' ? k : `${name}_${k}`, x, k);
    }
    else if (o.ipv4 && typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff && ADDR.test(field)) set(name, ipv4(v, networkOrder?.has(name) ?? false));
    else set(name, scalarText(v));
  };
  put('key', key, '');
  return out;
}

/** Whether `v` is or holds (in arrays) a struct or union value. */
function hasObject(v: unknown): boolean {
  if (Array.isArray(v)) return v.some(hasObject);
  return v !== null && typeof v === 'object' && !(v instanceof Uint8Array);
}

function scalarText(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Array.isArray(v)) return v.map(scalarText).join(',');
  if (v instanceof Uint8Array) return hex(v);
  return String(v);
}

/** A numeric leaf as it was decoded: 64-bit integers stay bigint until the last step (exact sums). */
type Num = number | bigint;

function toNum(v: unknown): Num | undefined {
  if (typeof v === 'number' || typeof v === 'bigint') return v;
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** a + b, exact while both are integers (float64 rounds above 2^53: round once, at the end) */
export function addNum(a: Num, b: Num): Num {
  return typeof a === 'bigint' && typeof b === 'bigint' ? a + b : Number(a) + Number(b);
}

/**
 * Numeric leaves of a value with their decoded numbers. `skip`: name suffixes that are no
 * quantity whatever their bytes hold (char arrays, which decode as numbers when not UTF-8; pointers).
 */
export function leaves(value: unknown, skip?: ReadonlySet<string>, suffix = '', index?: string, out: [string, string | undefined, Num][] = []): [string, string | undefined, Num][] {
  // suffix → the member path that has it: fields that flatten alike (a_b and a.b) are two series
  // (a_b, a_b_2), not one sum. Array elements share their path: they differ by index.
  const owner = new Map<string, string>();
  const walk = (v: unknown, suffix: string, path: string, index: string | undefined) => {
    if (skip?.has(suffix)) return;
    const n = toNum(v);
    if (n !== undefined) out.push([suffix, index, n]);
    else if (Array.isArray(v)) v.forEach((x, i) => walk(x, suffix, path, index === undefined ? String(i) : `${index}.${i}`));
    else if (v !== null && typeof v === 'object' && !(v instanceof Uint8Array)) {
      for (const [k, x] of Object.entries(v)) {
        const p = `${path}\0${k}`;
        const name = suffix ? `${suffix}_${sanitizeName(k)}` : sanitizeName(k);
        let s = name;
        for (let i = 2; owner.has(s) && owner.get(s) !== p; i++) s = `${name}_${i}`;
        owner.set(s, p);
        walk(x, s, p, index);
      }
    }
    // strings (char arrays, enum names) and raw bytes carry no number
  };
  walk(value, suffix, '', index);
  return out;
}

/**
 * The name suffixes (as leaves() spells them) of the parts of BTF type `id` that are no quantity:
 * char arrays (text, or its bytes as numbers when they are not UTF-8: a series that would come and
 * go with the content), pointers and padding fields. Anonymous struct/union members sit at their
 * parent's level, as the codecs decode them.
 */
export function notQuantities(src: CodecTypeSource, id: number): Set<string> {
  const out = new Set<string>();
  const walk = (i: number, suffix: string, depth: number) => {
    if (depth > 64) return; // a loop in bad BTF: the codec refused it already
    const t = resolveAlias(src, i).t;
    if (t?.kind === 'ptr') out.add(suffix);
    else if (t?.kind === 'array') {
      if (isCharType(resolveAlias(src, t.type).t)) out.add(suffix);
      else walk(t.type, suffix, depth + 1);
    } else if (t?.kind === 'struct' || t?.kind === 'union') {
      for (const m of t.members) {
        const name = sanitizeName(m.name);
        const s = m.name === '' ? suffix : suffix ? `${suffix}_${name}` : name;
        if (PADDING.test(m.name)) out.add(s);
        else walk(m.type, s, depth + 1);
      }
    }
  };
  walk(id, '', 0);
  return out;
}

/**
 * The label names (as keyLabels() spells them before sanitizing: `key` for a scalar key, a struct's
 * field names, a_b for nested fields) of the key parts declared `__be16`, `__be32` or `__be64`
 * (isNetworkOrderInt): the parts a networkOrder codec decodes to the number they stand for.
 */
export function networkOrderKeys(src: CodecTypeSource, id: number): Set<string> {
  const out = new Set<string>();
  // prefix: the label name of the struct being walked (undefined: the key itself)
  const walk = (i: number, prefix: string | undefined, depth: number) => {
    if (depth > 64) return;
    if (isNetworkOrderInt(src, i)) { out.add(prefix ?? 'key'); return; }
    const t = resolveAlias(src, i).t;
    if (t?.kind === 'struct' || t?.kind === 'union') {
      for (const m of t.members) walk(m.type, m.name === '' ? prefix : prefix === undefined ? m.name : `${prefix}_${m.name}`, depth + 1);
    }
  };
  walk(id, undefined, 0);
  return out;
}

/** Numeric leaves of a value: [name suffix ('' for a scalar), index label or undefined, number]. */
export function numericLeaves(value: unknown, suffix = '', index?: string, out: [string, string | undefined, number][] = []): [string, string | undefined, number][] {
  for (const [s, i, n] of leaves(value, undefined, suffix, index)) out.push([s, i, Number(n)]);
  return out;
}

/** A sample before its value is rounded to a float64 (the exporter sums equal series exactly). */
export interface ExactSample {
  metric: string;
  labels: Labels;
  value: Num;
}

/**
 * Samples of one map entry, exact. `value` is one decoded value, or (perCpu) one per CPU to be
 * summed. Every sample carries `base` labels (the pin path).
 * `skip`: value parts that are no quantity (notQuantities()); `networkOrder`: key parts decoded from
 * network byte order (networkOrderKeys()).
 */
export function entrySamplesExact(metricBase: string, base: Labels, key: unknown, value: unknown, perCpu: boolean, o: SampleOptions = {}, skip?: ReadonlySet<string>, networkOrder?: ReadonlySet<string>): ExactSample[] {
  // key labels never shadow the pin path or the array index: such a field becomes key_<name>
  const labels: Labels = {};
  for (const [k, v] of Object.entries(keyLabels(key, o, networkOrder))) labels[freeName(labels, Object.hasOwn(base, k) || k === 'index' ? `key_${k}` : k)] = v;
  Object.assign(labels, base);
  const sums = new Map<string, ExactSample>();
  const values = perCpu && Array.isArray(value) ? value : [value];
  for (const v of values) {
    for (const [suffix, index, n] of leaves(v, skip)) {
      const metric = suffix ? `${metricBase}_${suffix}` : metricBase;
      const id = `${metric}\0${index ?? ''}`;
      const s = sums.get(id);
      if (s) s.value = addNum(s.value, n);
      else sums.set(id, { metric, labels: index === undefined ? labels : { ...labels, index }, value: n });
    }
  }
  return [...sums.values()];
}

/**
 * Samples of one map entry. `value` is one decoded value, or (perCpu) one per CPU to be summed
 * (exactly: 64-bit counters are added as integers and rounded to a float64 once).
 * Every sample carries `base` labels (the pin path).
 */
export function entrySamples(metricBase: string, base: Labels, key: unknown, value: unknown, perCpu: boolean, o: SampleOptions = {}): Sample[] {
  return entrySamplesExact(metricBase, base, key, value, perCpu, o).map((s) => ({ ...s, value: Number(s.value) }));
}
