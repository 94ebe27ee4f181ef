// AF_XDP sockets: packets from an XDP program straight into user space, and frames sent from it.
export { XdpSocket, type XskStatistics, type XskFrameCallback, type XskBoundMode } from './socket.js';
export { checkXskOptions, type XdpSocketOptions, type XskBindMode, type CheckedXskOptions } from './options.js';
export { XskError, XskArgumentError, XskClosedError, XskBusyError, XskNoFreeFrameError, XskFrameSizeError, type XskWhere } from './errors.js';
export { FillRing, CompletionRing, RxRing, TxRing, ProducerRing, ConsumerRing, isRingSize, type RingOffsets } from './ring.js';
