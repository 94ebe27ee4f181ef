// lib/attach: attach programs to hooks; every function returns an Attachment (detach(), close(),
// Symbol.dispose, info). See handle.ts for the handle contract new hook kinds follow.
//
// Choosing the path (the caller's explicit choice; nothing falls back from one to the other):
//   attachTc      netlink clsact + cls_bpf. Outlives the process (until detach() or `tc filter del`);
//                 visible to `tc filter show`; ordered by priority; works on every kernel with clsact.
//                 tsbpf processes change clsact qdiscs under one host-wide lock (clsact-lock.ts).
//   attachTcx     BPF link (kernel >= 6.6). Goes with the handle/process unless pinned; ordered by
//                 before/after anchors; runs BEFORE every cls_bpf filter of the same hook; a verdict
//                 other than TCX_NEXT (TC_ACT_UNSPEC, -1) ends the tcx chain — TC_ACT_OK included.
//   attachXdp     netlink IFLA_XDP. Outlives the process; one program per mode; replace with
//                 `replace` (optionally only if an expected program is still there).
//   attachXdpLink BPF link (kernel >= 5.9). Goes with the handle unless pinned; while it exists,
//                 netlink can neither replace nor remove the program (EBUSY "Can't replace active BPF
//                 XDP link"), which protects it from other tools.
// Each of the four takes `netns` (a /run/netns NAME, a path, an fd, an Fd or a Netns): the interface
// is in that network namespace, and the calling thread enters it only for the steps the kernel
// resolves there (the netlink socket, the LINK_CREATE), coming back before the call returns.
//
// Hooks that are not interfaces (a BPF link where the kernel has one, the older command where not;
// `mode` forces either, and info.mode / info.fallback say what was used):
//   attachCgroup        cgroup v2 hooks: link (>= 5.7), else PROG_ATTACH with BPF_F_ALLOW_MULTI
//                       (which outlives the process until detach()).
//   attachSockMap       sk_msg / sk_skb on a sockmap or sockhash: link (>= 6.10), else PROG_ATTACH
//                       (which silently replaces the map's program at that hook).
//   attachSocketFilter  SO_ATTACH_BPF on one socket (lib/socket opens sockets Node does not expose).
//   attachReuseport     SO_ATTACH_REUSEPORT_EBPF: the program of a SO_REUSEPORT group picks each packet's socket;
//                       detach() through the socket given (kept by reference, not held open) or detachReuseport(member).
//   attachTracepoint    perf event of the tracepoint + link (>= 5.15), else PERF_EVENT_IOC_SET_BPF.
//   attachRawTracepoint RAW_TRACEPOINT_OPEN (a link). Perf and raw tracepoint links have no
//                       LINK_DETACH: detach() closes them, which ends them unless pinned.
//   attachTracing       fentry/fexit/fmod_ret/fsession/tp_btf/lsm (target fixed at load): link (>= 5.13), else
//                       RAW_TRACEPOINT_OPEN. Tracing links have no LINK_DETACH: detach() closes them.
//   attachUprobe        perf event of the uprobe PMU (symbol → file offset from .symtab/.dynsym) + link, else ioctl.
//   attachKprobe        perf event of the kprobe PMU; a typed ProbeUnsupportedError where the kernel has none.
//   attachUprobeMulti   one uprobe.multi link (>= 6.6) for many functions of one file (symbols, a glob or offsets; cookies, pid); no LINK_DETACH: detach() closes it.
//   attachNetfilter     netfilter BPF link (>= 6.4) on an inet hook of one namespace (`netns`: the LINK_CREATE
//                       runs there); a priority of its own per family+hook+namespace (EBUSY); LINK_DETACH yes, no LINK_UPDATE.
//   attachSkLookup      sk_lookup on a network namespace: BPF link only (>= 5.9), up to 64, run in order.
//   attachFlowDissector flow dissector of a namespace (one per namespace): link (>= 5.8), else PROG_ATTACH
//                       (mode 'attach': in the thread's namespace, entered for attach and detach).
//   attachLwt           a route whose encapsulation is BPF programs (lwt in/out/xmit), over rtnetlink
//                       (RTM_NEWROUTE). Outlives the process like a route; detach() deletes it if still ours.
//   attachIter          an iterator link (iter/tcp, iter/task, …): nothing runs until it is read;
//                       each read()/text() is one walk (ITER_CREATE + read(2)). No LINK_DETACH either.
export { Attachment, AttachmentGroup, AttachArgumentError, attachAll, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
export { LinkAttachment, type LinkAttachmentInfo } from './bpf-link.js';
export { attachTc, TcAttachment, type AttachTcOptions, type TcAttachmentInfo } from './tc.js';
export { ClsactLockTimeoutError, CLSACT_LOCK_PATH } from './clsact-lock.js';
export { attachXdp, attachXdpLink, XdpAttachment, type AttachXdpOptions, type AttachXdpLinkOptions, type XdpAttachmentInfo, type XdpLinkAttachmentInfo, type XdpMode } from './xdp.js';
export { attachTcx, type AttachTcxOptions, type TcxAttachmentInfo, type TcxAnchor } from './tcx.js';
export { ProgAttachment, type ProgAttachmentInfo } from './prog-attach.js';
export { resolveAttachType, type AttachTypeRef } from './attach-type.js';
export {
  attachCgroup, queryCgroup, cgroup2Mount, CgroupError,
  type AttachCgroupOptions, type CgroupAttachFlags, type CgroupAttachmentInfo, type CgroupAttachment, type CgroupLinkAttachment, type CgroupProgAttachment,
} from './cgroup.js';
export { attachSockMap, type AttachSockMapOptions, type AttachableMap, type SockMapAttachmentInfo, type SockMapAttachment } from './sockmap.js';
export { attachSocketFilter, SocketFilterAttachment, NotASocketError, type AttachSocketFilterOptions, type SocketFilterAttachmentInfo, type SocketRef } from './socket-filter.js';
export {
  attachTracepoint, attachRawTracepoint, tracepointId, TracepointNotFoundError, TracingLinkAttachment, PerfEventAttachment,
  type AttachTracepointOptions, type AttachRawTracepointOptions, type TracepointAttachmentInfo, type RawTracepointAttachmentInfo, type TracepointAttachment,
} from './tracepoint.js';
export { attachIter, IterAttachment, type AttachIterOptions, type IterAttachmentInfo, type IterReadOptions, type CgroupIterOrder } from './iter.js';
export {
  attachUprobe, attachKprobe, parseProbeSection, resolveUprobeOffset, ProbeBinaryError, ProbeUnsupportedError, SymbolNotFoundError, NotAFunctionError,
  type AttachUprobeOptions, type AttachKprobeOptions, type UprobeAttachmentInfo, type KprobeAttachmentInfo, type UprobeAttachment, type KprobeAttachment, type ProbeSection, type ProbeKind,
} from './probe.js';
export { attachTracing, type AttachTracingOptions, type TracingAttachmentInfo, type TracingAttachment, type TracingAttachType, type TracingProgram } from './tracing.js';
export {
  attachSkLookup, attachFlowDissector, queryNetns, NetnsProgAttachment, OWN_NETNS,
  type AttachSkLookupOptions, type AttachFlowDissectorOptions, type NetnsAttachmentInfo, type NetnsHook,
  type SkLookupAttachment, type FlowDissectorAttachment, type FlowDissectorLinkAttachment, type FlowDissectorProgAttachment,
} from './netns-link.js';
export { attachNetfilter, NetfilterLinkAttachment, NETFILTER_PRIORITY, type AttachNetfilterOptions, type NetfilterAttachmentInfo, type NetfilterFamily, type NetfilterHook, type NetfilterKernelHook } from './netfilter.js';
export { attachLwt, LwtAttachment, type AttachLwtOptions, type LwtAttachmentInfo, type LwtProgramInfo, type LwtHook } from './lwt.js';
export {
  attachUprobeMulti, parseUprobeMultiSection, uprobeMultiSupported, UprobeMultiAttachment, UprobeMultiUnsupportedError, PatternNotMatchedError,
  type AttachUprobeMultiOptions, type UprobeMultiAttachmentInfo, type UprobeMultiProbe, type UprobeMultiSection,
} from './uprobe-multi.js';
export { attachReuseport, detachReuseport, ReuseportAttachment, type AttachReuseportOptions, type ReuseportAttachmentInfo } from './reuseport.js';
