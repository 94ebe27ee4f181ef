// lib/attach: attach programs to hooks; every function returns an Attachment (detach(), close(),
// Symbol.dispose, info). See handle.ts for the handle contract new hook kinds follow.
//
// Choosing the path (the caller's explicit choice; nothing falls back from one to the other):
//   attachTc      netlink clsact + cls_bpf. Outlives the process (until detach() or `tc filter del`);
//                 visible to `tc filter show`; ordered by priority; works on every kernel with clsact.
//   attachTcx     BPF link (kernel >= 6.6). Goes with the handle/process unless pinned; ordered by
//                 before/after anchors; runs BEFORE every cls_bpf filter of the same hook; a verdict
//                 other than TCX_NEXT (TC_ACT_UNSPEC, -1) ends the tcx chain — TC_ACT_OK included.
//   attachXdp     netlink IFLA_XDP. Outlives the process; one program per mode; replace with
//                 `replace` (optionally only if an expected program is still there).
//   attachXdpLink BPF link (kernel >= 5.9). Goes with the handle unless pinned; while it exists,
//                 netlink can neither replace nor remove the program (EBUSY "Can't replace active BPF
//                 XDP link"), which protects it from other tools.
export { Attachment, AttachmentGroup, AttachArgumentError, attachAll, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
export { LinkAttachment, type LinkAttachmentInfo } from './bpf-link.js';
export { attachTc, TcAttachment, type AttachTcOptions, type TcAttachmentInfo } from './tc.js';
export { attachXdp, attachXdpLink, XdpAttachment, type AttachXdpOptions, type AttachXdpLinkOptions, type XdpAttachmentInfo, type XdpLinkAttachmentInfo, type XdpMode } from './xdp.js';
export { attachTcx, type AttachTcxOptions, type TcxAttachmentInfo, type TcxAnchor } from './tcx.js';
