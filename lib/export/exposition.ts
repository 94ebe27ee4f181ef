// The Prometheus text exposition format (version 0.0.4), written here rather than through
// prom-client's Gauge: prom-client keys a gauge's series by `name:value,` joined, so two label sets
// such as {a="x,b:y", b="z"} and {a="x", b="y,b:z"} (char[] key fields hold any text) were one series
// and the second entry overwrote the first. The exporter keeps its series apart itself and only
// needs them written. The output is prom-client's byte for byte (test/unit/export.test.ts compares).
import type { Labels } from './samples.js';

/** The content type of the text format (as prom-client's Registry.PROMETHEUS_CONTENT_TYPE). */
export const EXPOSITION_CONTENT_TYPE = 'text/plain; version=0.0.4; charset=utf-8';

/** A label value between its quotes: backslash, double quote and line feed escaped. */
export function escapeLabelValue(s: string): string {
  return s.replace(/[\\"\n]/g, (c) => (c === '\n' ? '\\n' : `\\${c}`));
}

/** A HELP text: backslash and line feed escaped. */
export function escapeHelp(s: string): string {
  return s.replace(/[\\\n]/g, (c) => (c === '\n' ? '\\n' : '\\\\'));
}

/** A sample value as the text format spells it (Go's ParseFloat reads all of these). */
export function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** One sample line: name{l="v",…} value (labels in their insertion order, none: no braces). */
export function sampleLine(name: string, labels: Labels, value: number): string {
  let l = '';
  for (const k in labels) l += `${l ? ',' : ''}${k}="${escapeLabelValue(labels[k])}"`;
  return `${name}${l ? `{${l}}` : ''} ${formatValue(value)}`;
}

/** The # HELP and # TYPE lines of a family. */
export function familyHeader(name: string, help: string, type: 'gauge' | 'counter'): string {
  return `# HELP ${name} ${escapeHelp(help)}\n# TYPE ${name} ${type}`;
}
