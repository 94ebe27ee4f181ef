// lib/btf: BTF types, the lazy parser, .BTF.ext and the running kernel's BTF.
export * from './types.js';
export { Btf, BTF_MAGIC, type BtfHeader, type BtfParseOptions } from './btf.js';
export { BtfStrings } from './strings.js';
export { KIND_NAMES } from './parse-type.js';
export { parseBtfExt, type BtfExt, type BtfFuncInfo, type BtfLineInfo, type BtfCoreRelo } from './ext.js';
export { loadKernelBtf, loadModuleBtf, readWholeFile, setKernelBtfMapper, KernelBtfError, KERNEL_BTF_DIR, type KernelBtfOptions, type FileMapper } from './kernel.js';
