// lib/export: Prometheus metrics from pinned maps, and the BTF of live maps read back from the kernel.
export { startExporter, collectMetrics, parseListen, failureKind, mapErrorWarner, ExportError, type Exporter, type ExporterOptions, type ErrorTotals } from './exporter.js';
export { entrySamples, keyLabels, numericLeaves, sanitizeName, type Sample, type SampleOptions, type Labels } from './samples.js';
export { mapBtf, btfById, type MapBtf } from './map-btf.js';
