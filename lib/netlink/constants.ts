// Netlink and rtnetlink numbers and fixed headers, declared once (linux/netlink.h, rtnetlink.h,
// if_link.h, pkt_sched.h, pkt_cls.h, socket.h). Every other netlink file takes its numbers from here.

export const AF_NETLINK = 16;
export const AF_UNSPEC = 0;
export const SOCK_RAW = 3;
export const SOCK_CLOEXEC = 0o2000000;
export const NETLINK_ROUTE = 0;

export const SOL_SOCKET = 1;
export const SO_RCVTIMEO = 20; // SO_RCVTIMEO_OLD: struct timeval (64-bit longs on x86_64/arm64)
export const SOL_NETLINK = 270;
export const NETLINK_CAP_ACK = 10;
export const NETLINK_EXT_ACK = 11;

export const MSG_PEEK = 0x2;
export const MSG_TRUNC = 0x20;

/** struct nlmsghdr: len u32, type u16, flags u16, seq u32, pid u32 */
export const NLMSG_HDRLEN = 16;
/** struct nlattr: len u16, type u16 */
export const NLA_HDRLEN = 4;
/** struct sockaddr_nl: family u16, pad u16, pid u32, groups u32 */
export const SOCKADDR_NL_SIZE = 12;

export const NLMSG = { NOOP: 1, ERROR: 2, DONE: 3, OVERRUN: 4 } as const;

export const NLM_F = {
  REQUEST: 0x1, MULTI: 0x2, ACK: 0x4, ECHO: 0x8, DUMP_INTR: 0x10, DUMP_FILTERED: 0x20,
  // GET requests
  ROOT: 0x100, MATCH: 0x200, ATOMIC: 0x400, DUMP: 0x300,
  // NEW requests
  REPLACE: 0x100, EXCL: 0x200, CREATE: 0x400, APPEND: 0x800,
  // flags of an NLMSG_ERROR acknowledgement
  CAPPED: 0x100, ACK_TLVS: 0x200,
} as const;

export const NLA_F_NESTED = 0x8000;
export const NLA_F_NET_BYTEORDER = 0x4000;
export const NLA_TYPE_MASK = ~(NLA_F_NESTED | NLA_F_NET_BYTEORDER) & 0xffff;

/** Attributes after the nlmsgerr of an extended acknowledgement (enum nlmsgerr_attrs). */
export const NLMSGERR_ATTR = { MSG: 1, OFFS: 2, COOKIE: 3, POLICY: 4, MISS_TYPE: 5, MISS_NEST: 6 } as const;

export const RTM = {
  NEWLINK: 16, DELLINK: 17, GETLINK: 18, SETLINK: 19,
  NEWQDISC: 36, DELQDISC: 37, GETQDISC: 38,
  NEWROUTE: 24, DELROUTE: 25, GETROUTE: 26,
  NEWTFILTER: 44, DELTFILTER: 45, GETTFILTER: 46,
  NEWNSID: 88, DELNSID: 89, GETNSID: 90,
} as const;

/** RTM_*NSID attributes (linux/net_namespace.h) */
export const NETNSA = { NSID: 1, PID: 2, FD: 3, TARGET_NSID: 4, CURRENT_NSID: 5 } as const;

/** struct rtmsg: family, dst_len, src_len, tos, table, protocol, scope, type (u8 each), flags u32 */
export const RTMSG_SIZE = 12;

/** Route attributes (enum rtattr_type_t) */
export const RTA = {
  DST: 1, SRC: 2, IIF: 3, OIF: 4, GATEWAY: 5, PRIORITY: 6, PREFSRC: 7, METRICS: 8, MULTIPATH: 9,
  TABLE: 15, MARK: 16, VIA: 18, PREF: 20, ENCAP_TYPE: 21, ENCAP: 22, EXPIRES: 23, NH_ID: 30,
} as const;
/** RTA_METRICS members (RTAX_*): the route's path MTU */
export const RTAX_MTU = 2;
/** rtm_type: RTN_UNICAST, a gateway or direct route (the others: local, broadcast, blackhole, …) */
export const RTN_UNICAST = 1;
/** rtm_protocol: RTPROT_BOOT, what `ip route add` marks its routes with */
export const RTPROT_BOOT = 3;
/** rtm_scope: a route through a gateway is universe, one straight onto a link is link; NOWHERE in a delete matches any */
export const RT_SCOPE = { UNIVERSE: 0, LINK: 253, HOST: 254, NOWHERE: 255 } as const;
/** rt_class_t: the main table, where `ip route` adds */
export const RT_TABLE_MAIN = 254;
/** rtm_flags: RTM_F_CLONED marks IPv6 route cache entries a dump also lists */
export const RTM_F_CLONED = 0x200;
/** enum lwtunnel_encap_types: a route's encapsulation is BPF programs */
export const LWTUNNEL_ENCAP_BPF = 6;
/** RTA_ENCAP of a BPF encapsulation: one nest per hook, and the headroom xmit may push (linux/lwtunnel.h) */
export const LWT_BPF = { IN: 1, OUT: 2, XMIT: 3, XMIT_HEADROOM: 4 } as const;
export const LWT_BPF_PROG = { FD: 1, NAME: 2 } as const;
export const LWT_BPF_MAX_HEADROOM = 256;
/** the kernel keeps a hook's program name up to 256 bytes with its NUL (MAX_PROG_NAME) */
export const LWT_BPF_PROG_NAME_MAX = 255;

/** struct ifinfomsg: family u8, pad u8, type u16, index s32, flags u32, change u32 */
export const IFINFOMSG_SIZE = 16;
/** struct tcmsg: family u8, pad u8, pad u16, ifindex s32, handle u32, parent u32, info u32 */
export const TCMSG_SIZE = 20;

export const IFLA = {
  ADDRESS: 1, IFNAME: 3, MTU: 4, LINK: 5, OPERSTATE: 16, LINKINFO: 18, EXT_MASK: 29, XDP: 43,
  /** IFLA_TARGET_NETNSID (= IFLA_IF_NETNSID): a request about the peer namespace with this nsid */
  TARGET_NETNSID: 46,
  /** an alternative name (`ip link property add dev X altname Y`), up to ALTIFNAMSIZ-1 = 127 bytes */
  ALT_IFNAME: 53,
} as const;
export const IFLA_INFO = { KIND: 1 } as const;
export const IFLA_XDP = {
  FD: 1, ATTACHED: 2, FLAGS: 3, PROG_ID: 4, DRV_PROG_ID: 5, SKB_PROG_ID: 6, HW_PROG_ID: 7, EXPECTED_FD: 8,
} as const;
export const XDP_FLAGS = { UPDATE_IF_NOEXIST: 1, SKB_MODE: 2, DRV_MODE: 4, HW_MODE: 8, REPLACE: 16 } as const;
export const XDP_ATTACHED = { NONE: 0, DRV: 1, SKB: 2, HW: 3, MULTI: 4 } as const;

/** net_device flags (linux/if.h) */
export const IFF = { UP: 0x1, BROADCAST: 0x2, LOOPBACK: 0x8, POINTOPOINT: 0x10, RUNNING: 0x40, NOARP: 0x80, PROMISC: 0x100, MULTICAST: 0x1000, LOWER_UP: 0x10000 } as const;

export const TCA = { KIND: 1, OPTIONS: 2, CHAIN: 11 } as const;
export const TCA_BPF = {
  ACT: 1, POLICE: 2, CLASSID: 3, OPS_LEN: 4, OPS: 5, FD: 6, NAME: 7, FLAGS: 8, FLAGS_GEN: 9, TAG: 10, ID: 11,
} as const;
export const TCA_BPF_FLAG_ACT_DIRECT = 1;
/** TCA_CLS_FLAGS_* in TCA_BPF_FLAGS_GEN */
export const TCA_CLS_FLAGS = { SKIP_HW: 1, SKIP_SW: 2, IN_HW: 4, NOT_IN_HW: 8 } as const;

/** clsact (like ingress) hangs off the TC_H_INGRESS/TC_H_CLSACT pseudo-parent with handle ffff: */
export const TC_H_CLSACT = 0xfffffff1;
export const TC_H_INGRESS = 0xfffffff1;
export const CLSACT_HANDLE = 0xffff0000;
export const TC_H_MIN_INGRESS = 0xfff2;
export const TC_H_MIN_EGRESS = 0xfff3;
/** parent of a filter on the clsact hook of each direction: TC_H_MAKE(TC_H_CLSACT, TC_H_MIN_*) */
export const CLSACT_PARENT = { ingress: 0xfffffff2, egress: 0xfffffff3 } as const;
/** ETH_P_ALL in network byte order as tcm_info's low 16 bits carry it */
export const ETH_P_ALL_BE = 0x0300;
