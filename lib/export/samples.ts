// Map entries (decoded JS values) → Prometheus samples: keys become labels, numeric leaves of values
// become series (struct fields as their own metrics, array elements with an `index` label), per-CPU
// values are summed. Pure: no kernel access, so its rules are unit-tested on plain values.

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

const hex = (b: Uint8Array) => Buffer.from(b.buffer, b.byteOffset, b.byteLength).toString('hex');
const ADDR = /(addr|^ip4?$|^src$|^dst$|_ip$|^ip_)/i;

function ipv4(n: number): string {
  // the u32 as it lies in memory (network order in BPF programs): bytes in memory order
  const b = new Uint8Array(new Uint32Array([n]).buffer);
  return `${b[0]}.${b[1]}.${b[2]}.${b[3]}`;
}

/** Labels for a key: a scalar is `key`, struct fields are labels of their own (nested: a_b). */
export function keyLabels(key: unknown, o: SampleOptions = {}): Labels {
  const out: Labels = {};
  const put = (name: string, v: unknown, field: string) => {
    if (v instanceof Uint8Array) out[labelName(name)] = hex(v);
    else if (Array.isArray(v)) out[labelName(name)] = v.map((x) => scalarText(x)).join(',');
    else if (v !== null && typeof v === 'object') for (const [k, x] of Object.entries(v)) put(name === 'key' && field === '' ? k : `${name}_${k}`, x, k);
    else if (o.ipv4 && typeof v === 'number' && Number.isInteger(v) && v >= 0 && v <= 0xffffffff && ADDR.test(field)) out[labelName(name)] = ipv4(v);
    else out[labelName(name)] = scalarText(v);
  };
  put('key', key, '');
  return out;
}

function scalarText(v: unknown): string {
  if (typeof v === 'boolean') return v ? '1' : '0';
  if (Array.isArray(v)) return v.map(scalarText).join(',');
  if (v instanceof Uint8Array) return hex(v);
  return String(v);
}

function toNumber(v: unknown): number | undefined {
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  return undefined;
}

/** Numeric leaves of a value: [name suffix ('' for a scalar), index label or undefined, number]. */
export function numericLeaves(value: unknown, suffix = '', index?: string, out: [string, string | undefined, number][] = []): [string, string | undefined, number][] {
  const n = toNumber(value);
  if (n !== undefined) out.push([suffix, index, n]);
  else if (Array.isArray(value)) value.forEach((x, i) => numericLeaves(x, suffix, index === undefined ? String(i) : `${index}.${i}`, out));
  else if (value !== null && typeof value === 'object' && !(value instanceof Uint8Array)) {
    for (const [k, x] of Object.entries(value)) numericLeaves(x, suffix ? `${suffix}_${sanitizeName(k)}` : sanitizeName(k), index, out);
  }
  // strings (char arrays, enum names) and raw bytes carry no number
  return out;
}

/**
 * Samples of one map entry. `value` is one decoded value, or (perCpu) one per CPU to be summed.
 * Every sample carries `base` labels (the pin path).
 */
export function entrySamples(metricBase: string, base: Labels, key: unknown, value: unknown, perCpu: boolean, o: SampleOptions = {}): Sample[] {
  // key labels never shadow the pin path or the array index: such a field becomes key_<name>
  const labels: Labels = {};
  for (const [k, v] of Object.entries(keyLabels(key, o))) labels[k in base || k === 'index' ? `key_${k}` : k] = v;
  Object.assign(labels, base);
  const sums = new Map<string, Sample>();
  const values = perCpu && Array.isArray(value) ? value : [value];
  for (const v of values) {
    for (const [suffix, index, n] of numericLeaves(v)) {
      const metric = suffix ? `${metricBase}_${suffix}` : metricBase;
      const id = `${metric}\0${index ?? ''}`;
      const s = sums.get(id);
      if (s) s.value += n;
      else sums.set(id, { metric, labels: index === undefined ? labels : { ...labels, index }, value: n });
    }
  }
  return [...sums.values()];
}
