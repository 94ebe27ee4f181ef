export { PerfEventArray, type PerfRecord, type PerfEventArrayOptions, type PerfCallback } from './reader.js';
