// bpf() command, map, program, attach and link type numbers (include/uapi/linux/bpf.h, upstream),
// as name → number tables in one place, with lower-case names (bpftool's spelling) both ways.
// Aliases (PROG_RUN, CGROUP_STORAGE) share a number with their original.

export const BPF_CMD = {
  MAP_CREATE: 0, MAP_LOOKUP_ELEM: 1, MAP_UPDATE_ELEM: 2, MAP_DELETE_ELEM: 3, MAP_GET_NEXT_KEY: 4,
  PROG_LOAD: 5, OBJ_PIN: 6, OBJ_GET: 7, PROG_ATTACH: 8, PROG_DETACH: 9, PROG_TEST_RUN: 10, PROG_RUN: 10,
  PROG_GET_NEXT_ID: 11, MAP_GET_NEXT_ID: 12, PROG_GET_FD_BY_ID: 13, MAP_GET_FD_BY_ID: 14,
  OBJ_GET_INFO_BY_FD: 15, PROG_QUERY: 16, RAW_TRACEPOINT_OPEN: 17, BTF_LOAD: 18, BTF_GET_FD_BY_ID: 19,
  TASK_FD_QUERY: 20, MAP_LOOKUP_AND_DELETE_ELEM: 21, MAP_FREEZE: 22, BTF_GET_NEXT_ID: 23,
  MAP_LOOKUP_BATCH: 24, MAP_LOOKUP_AND_DELETE_BATCH: 25, MAP_UPDATE_BATCH: 26, MAP_DELETE_BATCH: 27,
  LINK_CREATE: 28, LINK_UPDATE: 29, LINK_GET_FD_BY_ID: 30, LINK_GET_NEXT_ID: 31, ENABLE_STATS: 32,
  ITER_CREATE: 33, LINK_DETACH: 34, PROG_BIND_MAP: 35, TOKEN_CREATE: 36, PROG_STREAM_READ_BY_FD: 37,
  PROG_ASSOC_STRUCT_OPS: 38,
} as const;

export const BPF_MAP_TYPE = {
  UNSPEC: 0, HASH: 1, ARRAY: 2, PROG_ARRAY: 3, PERF_EVENT_ARRAY: 4, PERCPU_HASH: 5, PERCPU_ARRAY: 6,
  STACK_TRACE: 7, CGROUP_ARRAY: 8, LRU_HASH: 9, LRU_PERCPU_HASH: 10, LPM_TRIE: 11, ARRAY_OF_MAPS: 12,
  HASH_OF_MAPS: 13, DEVMAP: 14, SOCKMAP: 15, CPUMAP: 16, XSKMAP: 17, SOCKHASH: 18,
  CGROUP_STORAGE_DEPRECATED: 19, CGROUP_STORAGE: 19, REUSEPORT_SOCKARRAY: 20,
  PERCPU_CGROUP_STORAGE_DEPRECATED: 21, PERCPU_CGROUP_STORAGE: 21, QUEUE: 22, STACK: 23, SK_STORAGE: 24,
  DEVMAP_HASH: 25, STRUCT_OPS: 26, RINGBUF: 27, INODE_STORAGE: 28, TASK_STORAGE: 29, BLOOM_FILTER: 30,
  USER_RINGBUF: 31, CGRP_STORAGE: 32, ARENA: 33, INSN_ARRAY: 34, RHASH: 35,
} as const;

export const BPF_PROG_TYPE = {
  UNSPEC: 0, SOCKET_FILTER: 1, KPROBE: 2, SCHED_CLS: 3, SCHED_ACT: 4, TRACEPOINT: 5, XDP: 6, PERF_EVENT: 7,
  CGROUP_SKB: 8, CGROUP_SOCK: 9, LWT_IN: 10, LWT_OUT: 11, LWT_XMIT: 12, SOCK_OPS: 13, SK_SKB: 14,
  CGROUP_DEVICE: 15, SK_MSG: 16, RAW_TRACEPOINT: 17, CGROUP_SOCK_ADDR: 18, LWT_SEG6LOCAL: 19, LIRC_MODE2: 20,
  SK_REUSEPORT: 21, FLOW_DISSECTOR: 22, CGROUP_SYSCTL: 23, RAW_TRACEPOINT_WRITABLE: 24, CGROUP_SOCKOPT: 25,
  TRACING: 26, STRUCT_OPS: 27, EXT: 28, LSM: 29, SK_LOOKUP: 30, SYSCALL: 31, NETFILTER: 32,
} as const;

export const BPF_ATTACH_TYPE = {
  CGROUP_INET_INGRESS: 0, CGROUP_INET_EGRESS: 1, CGROUP_INET_SOCK_CREATE: 2, CGROUP_SOCK_OPS: 3,
  SK_SKB_STREAM_PARSER: 4, SK_SKB_STREAM_VERDICT: 5, CGROUP_DEVICE: 6, SK_MSG_VERDICT: 7,
  CGROUP_INET4_BIND: 8, CGROUP_INET6_BIND: 9, CGROUP_INET4_CONNECT: 10, CGROUP_INET6_CONNECT: 11,
  CGROUP_INET4_POST_BIND: 12, CGROUP_INET6_POST_BIND: 13, CGROUP_UDP4_SENDMSG: 14, CGROUP_UDP6_SENDMSG: 15,
  LIRC_MODE2: 16, FLOW_DISSECTOR: 17, CGROUP_SYSCTL: 18, CGROUP_UDP4_RECVMSG: 19, CGROUP_UDP6_RECVMSG: 20,
  CGROUP_GETSOCKOPT: 21, CGROUP_SETSOCKOPT: 22, TRACE_RAW_TP: 23, TRACE_FENTRY: 24, TRACE_FEXIT: 25,
  MODIFY_RETURN: 26, LSM_MAC: 27, TRACE_ITER: 28, CGROUP_INET4_GETPEERNAME: 29, CGROUP_INET6_GETPEERNAME: 30,
  CGROUP_INET4_GETSOCKNAME: 31, CGROUP_INET6_GETSOCKNAME: 32, XDP_DEVMAP: 33, CGROUP_INET_SOCK_RELEASE: 34,
  XDP_CPUMAP: 35, SK_LOOKUP: 36, XDP: 37, SK_SKB_VERDICT: 38, SK_REUSEPORT_SELECT: 39,
  SK_REUSEPORT_SELECT_OR_MIGRATE: 40, PERF_EVENT: 41, TRACE_KPROBE_MULTI: 42, LSM_CGROUP: 43, STRUCT_OPS: 44,
  NETFILTER: 45, TCX_INGRESS: 46, TCX_EGRESS: 47, TRACE_UPROBE_MULTI: 48, CGROUP_UNIX_CONNECT: 49,
  CGROUP_UNIX_SENDMSG: 50, CGROUP_UNIX_RECVMSG: 51, CGROUP_UNIX_GETPEERNAME: 52, CGROUP_UNIX_GETSOCKNAME: 53,
  NETKIT_PRIMARY: 54, NETKIT_PEER: 55, TRACE_KPROBE_SESSION: 56, TRACE_UPROBE_SESSION: 57,
  TRACE_FSESSION: 58, TRACE_FENTRY_MULTI: 59, TRACE_FEXIT_MULTI: 60, TRACE_FSESSION_MULTI: 61,
} as const;

export const BPF_LINK_TYPE = {
  UNSPEC: 0, RAW_TRACEPOINT: 1, TRACING: 2, CGROUP: 3, ITER: 4, NETNS: 5, XDP: 6, PERF_EVENT: 7,
  KPROBE_MULTI: 8, STRUCT_OPS: 9, NETFILTER: 10, TCX: 11, UPROBE_MULTI: 12, NETKIT: 13, SOCKMAP: 14,
  TRACING_MULTI: 15,
} as const;

/** Map creation flags (map_flags). */
export const BPF_MAP_FLAG = {
  NO_PREALLOC: 1 << 0, NO_COMMON_LRU: 1 << 1, NUMA_NODE: 1 << 2, RDONLY: 1 << 3, WRONLY: 1 << 4,
  STACK_BUILD_ID: 1 << 5, ZERO_SEED: 1 << 6, RDONLY_PROG: 1 << 7, WRONLY_PROG: 1 << 8, CLONE: 1 << 9,
  MMAPABLE: 1 << 10, PRESERVE_ELEMS: 1 << 11, INNER_MAP: 1 << 12, LINK: 1 << 13, PATH_FD: 1 << 14,
  VTYPE_BTF_OBJ_FD: 1 << 15, TOKEN_FD: 1 << 16, SEGV_ON_FAULT: 1 << 17, NO_USER_CONV: 1 << 18,
} as const;

/** Element update flags (MAP_UPDATE_ELEM flags; LOCK also for lookups). */
export const BPF_UPDATE = { ANY: 0, NOEXIST: 1, EXIST: 2, F_LOCK: 4 } as const;

/** PROG_ATTACH / LINK_CREATE flags (mprog: BEFORE/AFTER/ID/REPLACE anchor a position). */
export const BPF_ATTACH_FLAG = {
  ALLOW_OVERRIDE: 1 << 0, ALLOW_MULTI: 1 << 1, REPLACE: 1 << 2, BEFORE: 1 << 3, AFTER: 1 << 4,
  ID: 1 << 5, PREORDER: 1 << 6, LINK: 1 << 13,
} as const;

/** PROG_LOAD prog_flags. */
export const BPF_PROG_FLAG = {
  STRICT_ALIGNMENT: 1 << 0, ANY_ALIGNMENT: 1 << 1, TEST_RND_HI32: 1 << 2, TEST_STATE_FREQ: 1 << 3,
  SLEEPABLE: 1 << 4, XDP_HAS_FRAGS: 1 << 5, XDP_DEV_BOUND_ONLY: 1 << 6, TEST_REG_INVARIANTS: 1 << 7,
} as const;

/** ENABLE_STATS types. */
export const BPF_STATS = { RUN_TIME: 0 } as const;

export type MapTypeName = Lowercase<keyof typeof BPF_MAP_TYPE>;
export type ProgTypeName = Lowercase<keyof typeof BPF_PROG_TYPE>;
export type AttachTypeName = Lowercase<keyof typeof BPF_ATTACH_TYPE>;
export type LinkTypeName = Lowercase<keyof typeof BPF_LINK_TYPE>;

function reverse(table: Record<string, number>, skip: readonly string[] = []): Map<number, string> {
  const m = new Map<number, string>();
  for (const [k, v] of Object.entries(table)) if (!skip.includes(k) && !m.has(v)) m.set(v, k.toLowerCase());
  return m;
}
// the deprecated spellings come first in the header; name the number by its current spelling
const MAP_NAMES = reverse(BPF_MAP_TYPE, ['CGROUP_STORAGE_DEPRECATED', 'PERCPU_CGROUP_STORAGE_DEPRECATED']);
const PROG_NAMES = reverse(BPF_PROG_TYPE);
const ATTACH_NAMES = reverse(BPF_ATTACH_TYPE);
const LINK_NAMES = reverse(BPF_LINK_TYPE);
const CMD_NAMES = reverse(BPF_CMD, ['PROG_RUN']);

function lookup(table: Record<string, number>, name: string): number | undefined {
  return table[name.toUpperCase()];
}

/** 'hash' → 1; undefined for an unknown name. */
export const mapTypeNumber = (name: string) => lookup(BPF_MAP_TYPE, name);
/** 1 → 'hash'; 'unknown(N)' for a number newer than this table. */
export const mapTypeName = (n: number) => MAP_NAMES.get(n) ?? `unknown(${n})`;
export const progTypeNumber = (name: string) => lookup(BPF_PROG_TYPE, name);
export const progTypeName = (n: number) => PROG_NAMES.get(n) ?? `unknown(${n})`;
export const attachTypeNumber = (name: string) => lookup(BPF_ATTACH_TYPE, name);
export const attachTypeName = (n: number) => ATTACH_NAMES.get(n) ?? `unknown(${n})`;
export const linkTypeNumber = (name: string) => lookup(BPF_LINK_TYPE, name);
export const linkTypeName = (n: number) => LINK_NAMES.get(n) ?? `unknown(${n})`;
/** 2 → 'MAP_UPDATE_ELEM' (the name BpfError.cmd carries). */
export const cmdName = (n: number) => CMD_NAMES.get(n)?.toUpperCase() ?? `CMD_${n}`;
