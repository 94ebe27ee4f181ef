export { BpfProgram, type ProgramDescription, type ProgramInfoResult, type BoundDevice } from './program.js';
export { TestRunArgumentError, type TestRunOptions, type TestRunResult, type TestRunCtx, type TestRunCtxOut } from './test-run.js';
export { type XdpMdInit, type XdpMd, type SkBuffInit, type SkBuff } from './test-run-ctx.js';
export { BPF_F_TEST, TestRunError, TestRunNoSpaceError, TestRunUnsupportedError } from '../syscall/prog.js';
