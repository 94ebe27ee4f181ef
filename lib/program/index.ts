export { BpfProgram, type ProgramDescription, type ProgramInfoResult } from './program.js';
