export { TracePipe, TracePipeError, tracefsDir, type TracePipeOptions } from './reader.js';
export { parseTraceLine, type TraceLine } from './parse.js';
