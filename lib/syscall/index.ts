// lib/syscall: everything other modules need from the bpf() layer, from one import.
export { ffi } from './backend.js';
export { SYS } from './numbers.js';
export * from './errno.js';
export * from './errors.js';
export { Fd, ensureGoodFd } from './fd.js';
export { NativeBuffer, Scratch, scratch, cString } from './memory.js';
export { struct, writeStruct, readStruct, type Layout, type Field, type FieldDecl, type FieldType, type FieldValue } from './layout.js';
export * from './attr.js';
export * from './info.js';
export * from './types.js';
export { sysBpf, bpfCall, bpfError } from './bpf.js';
export * from './map.js';
export * from './prog.js';
export * from './obj.js';
export * from './btf.js';
export * from './link.js';
export { mmap, Mapping, pageSize, PROT, MAP } from './mmap.js';
export { Epoll, EPOLL, type EpollEvent } from './epoll.js';
