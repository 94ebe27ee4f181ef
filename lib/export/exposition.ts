// The Prometheus text of one metric family, written by prom-client's Registry from label sets the
// exporter keeps apart itself. prom-client's Gauge/Counter key their series by `name:value,` joined,
// so two label sets such as {a="x,b:y", b="z"} and {a="x", b="y,b:z"} (char[] key fields hold any
// text) were one series, the second overwriting the first; a metric whose get() hands the registry
// the exact series leaves only the formatting (escaping, HELP/TYPE lines) to prom-client.
import { Counter, Gauge, Registry } from 'prom-client';
import type { Labels } from './samples.js';

/** The content type of the text format (prom-client's). */
export const EXPOSITION_CONTENT_TYPE = Registry.PROMETHEUS_CONTENT_TYPE;

export interface ExpositionSample {
  labels: Labels;
  value: number;
}

type Exact = { get(): Promise<{ name: string; help: string; type: string; aggregator: string; values: ExpositionSample[] }> };

/** A metric of prom-client's kind whose series are `samples` as given, none merged. */
function exactMetric(kind: 'gauge' | 'counter', name: string, help: string, samples: ExpositionSample[]): Gauge | Counter {
  const m = kind === 'counter' ? new Counter({ name, help, registers: [] }) : new Gauge({ name, help, registers: [] });
  (m as unknown as Exact).get = async () => ({ name, help, type: kind, aggregator: 'sum', values: samples });
  return m;
}

/**
 * `# HELP`, `# TYPE` and one line per sample (labels in their insertion order), as prom-client
 * writes them: label values and HELP escaped, NaN spelt `Nan` (Prometheus reads it, case-blind).
 */
export async function formatFamily(name: string, help: string, kind: 'gauge' | 'counter', samples: ExpositionSample[]): Promise<string> {
  const registry = new Registry();
  registry.registerMetric(exactMetric(kind, name, help, samples));
  return registry.getSingleMetricAsString(name);
}
