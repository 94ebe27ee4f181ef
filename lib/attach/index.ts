// lib/attach: attach programs to hooks; every function returns an Attachment (detach(), close(),
// Symbol.dispose, info). See handle.ts for the handle contract new hook kinds follow.
export { Attachment, AttachmentGroup, AttachArgumentError, attachAll, checkProgram, type AttachableProgram, type AttachmentInfo } from './handle.js';
export { LinkAttachment, type LinkAttachmentInfo } from './bpf-link.js';
export { attachTc, TcAttachment, type AttachTcOptions, type TcAttachmentInfo } from './tc.js';
export { attachXdp, attachXdpLink, XdpAttachment, type AttachXdpOptions, type AttachXdpLinkOptions, type XdpAttachmentInfo, type XdpLinkAttachmentInfo, type XdpMode } from './xdp.js';
export { attachTcx, type AttachTcxOptions, type TcxAttachmentInfo, type TcxAnchor } from './tcx.js';
