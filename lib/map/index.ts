export { BpfMap, type Codec, type UpdateFlag, type BpfMapCreateOptions, type MapDescription, type MapInfoResult } from './map.js';
export { type BatchChunk } from './iterate.js';
export { possibleCpus, parseCpuList, isPerCpu } from './cpus.js';
