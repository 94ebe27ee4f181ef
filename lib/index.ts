// tsbpf public API.

export { BpfMap, type Codec, type UpdateFlag, type BpfMapCreateOptions, type MapDescription, type MapInfoResult, type BatchChunk, possibleCpus } from './map/index.js';
export {
  BpfError, KeyNotFoundError, KeyExistsError, BpfPermissionError, VerifierError, ClosedError, BpfArgumentError, NotBpffsError,
} from './syscall/errors.js';
export { Fd } from './syscall/fd.js';
export { fdFromProcess } from './syscall/pidfd.js';
export { BPF_MAP_TYPE, BPF_PROG_TYPE, BPF_ATTACH_TYPE, BPF_LINK_TYPE, BPF_MAP_FLAG, BPF_ATTACH_FLAG, BPF_PROG_FLAG } from './syscall/types.js';
export { probe, type Features } from './features/index.js';
export { compileCodec, userCodec, intCodec, withBtfCodecs, CodecError, type CodecOptions, type TypedCodec, type UserCodec, type CodecType, type CodecTypeSource, type MapCodecOptions } from './codec/index.js';
export { generateTypes, type GenerateTypesOptions } from './codec/index.js';
export { RingBuffer, ReaderArgumentError, ReaderBusyError, RingBufferCorruptError, type MapSource, type RecordCallback, type RawRecordCallback } from './ringbuf/index.js';
export { TracePipe, TracePipeError, tracefsDir, parseTraceLine, type TraceLine, type TracePipeOptions } from './tracepipe/index.js';
export { PerfEventArray, type PerfRecord, type PerfEventArrayOptions, type PerfCallback } from './perf/index.js';
export {
  readObject, loadObject, ObjectSpec, BpfObject, Globals, ObjectError, LoadError, PinMismatchError, SECTION_DEFS, findSection, DEFAULT_PIN_PATH,
  type ReadObjectOptions, type LoadObjectOptions, type ProgramLoadOptions, type ObjectLocation, type SectionDef, type VariableValue,
  type ProgramSpec, type FunctionSpec, type MapSpec, type VariableSpec, type Relocation, type RelocationTarget, type FuncInfo, type LineInfo, type PinningType,
} from './object/index.js';
export {
  BpfProgram, TestRunArgumentError, TestRunError, TestRunNoSpaceError, TestRunUnsupportedError, BPF_F_TEST,
  type ProgramDescription, type ProgramInfoResult, type BoundDevice, type TestRunOptions, type TestRunResult, type TestRunCtx, type TestRunCtxOut,
  type XdpMdInit, type XdpMd, type SkBuffInit, type SkBuff,
} from './program/index.js';
export {
  Btf, parseBtfExt, loadKernelBtf, loadModuleBtf, KernelBtfError, BTF_KIND, BTF_LINKAGE,
  type BtfHeader, type BtfParseOptions, type BtfExt, type BtfFuncInfo, type BtfLineInfo, type BtfCoreRelo, type KernelBtfOptions,
  type BtfType, type BtfTypeOf, type BtfKindName, type BtfVoid, type BtfInt, type BtfRef, type BtfArray, type BtfMember, type BtfComposite,
  type BtfEnum, type BtfEnum64, type BtfFwd, type BtfFunc, type BtfParam, type BtfFuncProto, type BtfVar, type BtfVarSecinfo,
  type BtfDatasec, type BtfFloat, type BtfDeclTag,
} from './btf/index.js';
export { readElf, ELF, ELF64_SIZES, type ElfFile, type ElfSection, type ElfSymbol, type ElfRelocation } from './elf/index.js';
export { encodeBtf, BtfEncodeError, type EncodeBtfOptions } from './btf/encode.js';
export { sanitizeBtf, btfNeedsSanitizing, btfFeaturesFromKinds, ALL_BTF_FEATURES, type BtfKernelFeatures, type SanitizedBtf } from './btf/sanitize.js';
export { formatBtfRaw, formatTypeRaw, type BtfFormatSource } from './btf/format-raw.js';
export { formatBtfJson } from './btf/format-json.js';
export { formatBtfC, type FormatCOptions } from './btf/format-c.js';
// loadKernelBtf maps /sys/kernel/btf/vmlinux (zero-copy, Linux >= 6.16) instead of 1,350 page-sized
// reads; the mapper lives in lib/syscall so lib/btf stays free of the FFI
import { setKernelBtfMapper as installKernelBtfMapper } from './btf/kernel.js';
import { mapFileReadOnly } from './syscall/map-file.js';
installKernelBtfMapper(mapFileReadOnly);
export {
  attachTc, attachXdp, attachXdpLink, attachTcx, attachAll, Attachment, AttachmentGroup, LinkAttachment, TcAttachment, XdpAttachment, AttachArgumentError, ClsactLockTimeoutError,
  type AttachableProgram, type AttachmentInfo, type LinkAttachmentInfo, type AttachTcOptions, type TcAttachmentInfo, type AttachXdpOptions,
  type AttachXdpLinkOptions, type XdpAttachmentInfo, type XdpLinkAttachmentInfo, type XdpMode, type AttachTcxOptions, type TcxAttachmentInfo, type TcxAnchor,
} from './attach/index.js';
export {
  NetlinkSocket, NetlinkError, NetlinkProtocolError, NetlinkEncodeError, InterfaceNotFoundError, InvalidInterfaceError, listInterfaces, getInterface, interfaceIndex, interfaceName,
  listQdiscs, ensureClsact, deleteClsact, listFilters, queryXdp, listRoutes, InvalidAddressError, parseIp, parsePrefix, formatIp, formatPrefix,
  type NetInterface, type XdpState, type XdpAttachMode, type InterfaceRef, type Qdisc, type TcFilter, type TcDirection, type Route, type LwtBpfNames, type IpAddress, type IpPrefix, type IpFamily,
} from './netlink/index.js';
export {
  attachUprobeMulti, UprobeMultiAttachment, UprobeMultiUnsupportedError, PatternNotMatchedError,
  type AttachUprobeMultiOptions, type UprobeMultiAttachmentInfo, type UprobeMultiProbe,
} from './attach/index.js';
export { attachReuseport, detachReuseport, ReuseportAttachment, type AttachReuseportOptions, type ReuseportAttachmentInfo } from './attach/index.js';
export { attachLwt, LwtAttachment, type AttachLwtOptions, type LwtAttachmentInfo, type LwtProgramInfo, type LwtHook } from './attach/index.js';
export { Netns, NetnsError, NetnsReturnError, type NetnsRef } from './netlink/netns-enter.js';
export { btfCodecSource } from './codec/btf-source.js';
export {
  CORE_RELO, coreReloKindName, CoreRelocationError, CoreNoKernelBtfError, CoreRelocator, essentialName, parseAccessSpec, formatSpec,
  fieldsAreCompat, typesAreCompat, typesMatch, findCandidates, POISON_HELPER,
  type CoreRelocationWhere, type AccessSpec, type CoreResult, type Candidate, type CoreTarget, type CoreRelocation, type CoreApplied,
} from './core/index.js';
export { CoreCode, relocateCore, coreRelocationsApplied, loadBtfFile, type CoreBtfOption } from './object/core.js';
export {
  attachCgroup, queryCgroup, cgroup2Mount, CgroupError, attachSockMap, attachSocketFilter, SocketFilterAttachment, NotASocketError,
  attachTracepoint, attachRawTracepoint, tracepointId, TracepointNotFoundError, TracingLinkAttachment, PerfEventAttachment, ProgAttachment,
  type AttachCgroupOptions, type CgroupAttachFlags, type CgroupAttachmentInfo, type CgroupAttachment, type AttachSockMapOptions, type AttachableMap,
  type SockMapAttachmentInfo, type SockMapAttachment, type AttachSocketFilterOptions, type SocketFilterAttachmentInfo, type SocketRef,
  type AttachTracepointOptions, type AttachRawTracepointOptions, type TracepointAttachmentInfo, type RawTracepointAttachmentInfo,
  type TracepointAttachment, type ProgAttachmentInfo, type AttachTypeRef, resolveAttachType,
} from './attach/index.js';
export {
  attachUprobe, attachKprobe, ProbeBinaryError, ProbeUnsupportedError, SymbolNotFoundError, NotAFunctionError,
  type AttachUprobeOptions, type AttachKprobeOptions, type UprobeAttachmentInfo, type KprobeAttachmentInfo, type UprobeAttachment, type KprobeAttachment,
} from './attach/index.js';
export { attachTracing, type AttachTracingOptions, type TracingAttachmentInfo, type TracingAttachment, type TracingAttachType, type TracingProgram } from './attach/index.js';
export {
  attachSkLookup, attachFlowDissector, queryNetns, NetnsProgAttachment,
  type AttachSkLookupOptions, type AttachFlowDissectorOptions, type NetnsAttachmentInfo, type NetnsHook,
  type SkLookupAttachment, type FlowDissectorAttachment, type FlowDissectorLinkAttachment, type FlowDissectorProgAttachment,
} from './attach/index.js';
export { attachNetfilter, NetfilterLinkAttachment, NETFILTER_PRIORITY, type AttachNetfilterOptions, type NetfilterAttachmentInfo, type NetfilterFamily, type NetfilterHook, type NetfilterKernelHook } from './attach/index.js';
export { attachIter, IterAttachment, type AttachIterOptions, type IterAttachmentInfo, type IterReadOptions, type CgroupIterOrder } from './attach/index.js';
export { openPacketSocket, openUdpSocket, RawSocket, UdpSocket, SocketError, ETH_P_ALL, type Datagram, type UdpSocketOptions } from './socket/socket.js';
export { openTcpListener, TcpListener, type TcpListenerOptions } from './socket/listen.js';
export type { InetAddress, InetSocketOptions } from './socket/inet.js';
export {
  startExporter, collectMetrics, mapErrorWarner, ExportError, mapBtf, btfById, entrySamples, keyLabels,
  type Exporter, type ExporterOptions, type MapBtf, type Sample, type SampleOptions,
} from './export/index.js';
export {
  ExternError, collectExterns, resolveExterns, parseKernelConfig, readKernelConfig, linuxKernelVersion, kernelVersionCode, parseKallsyms, readKallsyms,
  type ExternKind, type ExternSpec, type ExternLayout, type KconfigType, type KernelConfig, type ResolvedExtern, type ResolvedExterns, type ExternSources,
} from './externs/index.js';
export {
  XdpSocket, XskError, XskArgumentError, XskClosedError, XskBusyError, XskNoFreeFrameError, XskFrameSizeError,
  type XdpSocketOptions, type XskBindMode, type XskBoundMode, type XskStatistics, type XskFrameCallback, type XskWhere,
} from './xsk/index.js';
export {
  disassemble, decodeInsns, formatInsn, DisasmError, helperName, HELPER_NAMES, kernelSymbols,
  type Insn, type DisasmLine, type DisasmNames, type DisassembleOptions, type KernelSymbols,
} from './disasm/index.js';
