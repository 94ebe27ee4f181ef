// AF_XDP's user-space interface (include/uapi/linux/if_xdp.h, linux/socket.h): constants and one
// layout per kernel struct. The layout helper has no 16-bit field type: sockaddr_xdp's two __u16
// are declared as char[2] for their offsets and written with setUint16 (little-endian, as the host).
import { struct } from '../syscall/layout.js';

export const AF_XDP = 44;
export const SOL_XDP = 283;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const MSG_DONTWAIT = 0x40;
/** mmap: populate the ring pages at once (what libxdp does) */
export const MAP_POPULATE = 0x8000;
/** MAP_ANONYMOUS: 0x20 on x86, arm, arm64, riscv, powerpc, s390 (0x800 on mips) */
export const MAP_ANONYMOUS = process.arch.startsWith('mips') ? 0x800 : 0x20;

/** setsockopt/getsockopt names at SOL_XDP */
export const XDP_OPT = {
  MMAP_OFFSETS: 1, RX_RING: 2, TX_RING: 3, UMEM_REG: 4, UMEM_FILL_RING: 5, UMEM_COMPLETION_RING: 6, STATISTICS: 7, OPTIONS: 8,
} as const;

/** sockaddr_xdp.sxdp_flags */
export const XDP_BIND = { SHARED_UMEM: 1 << 0, COPY: 1 << 1, ZEROCOPY: 1 << 2, USE_NEED_WAKEUP: 1 << 3 } as const;

/** xdp_ring_offset.flags word: the kernel wants a sendto/recvfrom/poll to make progress */
export const XDP_RING_NEED_WAKEUP = 1 << 0;
/** xdp_options.flags: the socket is bound in zero-copy mode */
export const XDP_OPTIONS_ZEROCOPY = 1 << 0;
/** bytes the kernel keeps in front of every received packet (XDP_PACKET_HEADROOM) */
export const XDP_PACKET_HEADROOM = 256;
/** the smallest UMEM chunk (XDP_UMEM_MIN_CHUNK_SIZE) */
export const XDP_UMEM_MIN_CHUNK_SIZE = 2048;

/** mmap page offsets selecting which ring of the socket is mapped */
export const XDP_PGOFF = {
  RX_RING: 0,
  TX_RING: 0x80000000,
  FILL_RING: 0x100000000,
  COMPLETION_RING: 0x180000000,
} as const;

export const SOCKADDR_XDP = struct('sockaddr_xdp', [
  ['sxdp_family', { char: 2 }], ['sxdp_flags', { char: 2 }], ['sxdp_ifindex', 'u32'], ['sxdp_queue_id', 'u32'], ['sxdp_shared_umem_fd', 'u32'],
]);

export const XDP_UMEM_REG = struct('xdp_umem_reg', [
  ['addr', 'u64'], ['len', 'u64'], ['chunk_size', 'u32'], ['headroom', 'u32'], ['flags', 'u32'], ['tx_metadata_len', 'u32'],
]);

/** struct xdp_mmap_offsets: four struct xdp_ring_offset { producer, consumer, desc, flags } (rx, tx, fill, completion) */
export const XDP_MMAP_OFFSETS = struct('xdp_mmap_offsets', [
  ['rx_producer', 'u64'], ['rx_consumer', 'u64'], ['rx_desc', 'u64'], ['rx_flags', 'u64'],
  ['tx_producer', 'u64'], ['tx_consumer', 'u64'], ['tx_desc', 'u64'], ['tx_flags', 'u64'],
  ['fr_producer', 'u64'], ['fr_consumer', 'u64'], ['fr_desc', 'u64'], ['fr_flags', 'u64'],
  ['cr_producer', 'u64'], ['cr_consumer', 'u64'], ['cr_desc', 'u64'], ['cr_flags', 'u64'],
]);

export const XDP_STATISTICS = struct('xdp_statistics', [
  ['rx_dropped', 'u64'], ['rx_invalid_descs', 'u64'], ['tx_invalid_descs', 'u64'],
  ['rx_ring_full', 'u64'], ['rx_fill_ring_empty_descs', 'u64'], ['tx_ring_empty_descs', 'u64'],
]);

export const XDP_OPTIONS = struct('xdp_options', [['flags', 'u32']]);

/** struct xdp_desc: an RX/TX ring entry (fill and completion entries are a bare __u64 address) */
export const XDP_DESC = struct('xdp_desc', [['addr', 'u64'], ['len', 'u32'], ['options', 'u32']]);
