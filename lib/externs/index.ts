// lib/externs: .kconfig values, __ksym variables and kfuncs of BPF objects, resolved against the running kernel.
export { ExternError, type ExternKind } from './errors.js';
export { collectExterns, kconfigType, KCONFIG_SEC, KSYMS_SEC, type ExternSpec, type ExternLayout, type KconfigType } from './collect.js';
export {
  parseKernelConfig, readKernelConfig, kernelConfigPaths, linuxKernelVersion, kernelVersionCode, setKconfigValue, setKconfigNumber,
  type KernelConfig,
} from './kconfig.js';
export { parseKallsyms, readKallsyms } from './kallsyms.js';
export { resolveExterns, type ResolvedExtern, type ResolvedExterns, type ExternSources, type ModuleBtf } from './resolve.js';
