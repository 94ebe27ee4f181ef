// The section catalog: what an ELF section name says about the programs in it (program type,
// expected attach type, load flags, attach target). The entries and their order follow libbpf's
// current section_defs (libbpf >= 1.3: tc/ingress and tc/egress are SCHED_CLS with the TCX attach
// types). A name no entry matches is an error naming it, never a guess.
// Only the constant tables of lib/syscall/types.ts are used here: this stage makes no syscall.
import { BPF_ATTACH_TYPE as A, BPF_PROG_TYPE as P } from '../syscall/types.js';
import { ObjectError } from './errors.js';

/** How an entry's name matches a section name. */
type Match =
  /** the section name equals the entry */
  | 'exact'
  /** the entry, or the entry followed by '/…' (libbpf's "name+") */
  | 'plus'
  /** the entry is a prefix ending in '/' and the section name continues after it */
  | 'prefix';

/** What the kernel needs besides the type: attach target from kernel BTF, flags. */
export interface SectionDef {
  /** the catalog name ('tc/ingress', 'kprobe', 'xdp/devmap', 'sk_skb/') */
  readonly name: string;
  readonly match: Match;
  readonly progType: number;
  /** expected_attach_type for PROG_LOAD (0 when the type has none) */
  readonly attachType: number;
  /** PROG_LOAD with BPF_F_SLEEPABLE */
  readonly sleepable?: boolean;
  /** XDP with BPF_F_XDP_HAS_FRAGS */
  readonly xdpFrags?: boolean;
  /**
   * The attach target is a kernel BTF id found from the text after '/': a function (fentry…,
   * with `btfPrefix` prepended: 'bpf_lsm_', 'bpf_iter_'), or a typedef ('btf_trace_' for tp_btf).
   */
  readonly attachBtf?: { readonly prefix: string; readonly kind: 'func' | 'typedef' };
}

const def = (name: string, progType: number, attachType: number, extra: Partial<SectionDef> = {}): SectionDef => {
  let match: Match = 'exact';
  let n = name;
  if (n.endsWith('+')) {
    match = 'plus';
    n = n.slice(0, -1);
  } else if (n.endsWith('/')) {
    match = 'prefix';
  }
  return { name: n, match, progType, attachType, ...extra };
};

const S = { sleepable: true } as const;
const FUNC = { attachBtf: { prefix: '', kind: 'func' } } as const;
const F = { xdpFrags: true } as const;

/** libbpf's catalog, in its order (the first match wins). */
export const SECTION_DEFS: readonly SectionDef[] = [
  def('socket', P.SOCKET_FILTER, 0),
  def('sk_reuseport/migrate', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT_OR_MIGRATE),
  def('sk_reuseport', P.SK_REUSEPORT, A.SK_REUSEPORT_SELECT),
  def('kprobe+', P.KPROBE, 0),
  def('uprobe+', P.KPROBE, 0),
  def('uprobe.s+', P.KPROBE, 0, S),
  def('kretprobe+', P.KPROBE, 0),
  def('uretprobe+', P.KPROBE, 0),
  def('uretprobe.s+', P.KPROBE, 0, S),
  def('kprobe.multi+', P.KPROBE, A.TRACE_KPROBE_MULTI),
  def('kretprobe.multi+', P.KPROBE, A.TRACE_KPROBE_MULTI),
  def('kprobe.session+', P.KPROBE, A.TRACE_KPROBE_SESSION),
  def('uprobe.multi+', P.KPROBE, A.TRACE_UPROBE_MULTI),
  def('uretprobe.multi+', P.KPROBE, A.TRACE_UPROBE_MULTI),
  def('uprobe.session+', P.KPROBE, A.TRACE_UPROBE_SESSION),
  def('uprobe.multi.s+', P.KPROBE, A.TRACE_UPROBE_MULTI, S),
  def('uretprobe.multi.s+', P.KPROBE, A.TRACE_UPROBE_MULTI, S),
  def('uprobe.session.s+', P.KPROBE, A.TRACE_UPROBE_SESSION, S),
  def('ksyscall+', P.KPROBE, 0),
  def('kretsyscall+', P.KPROBE, 0),
  def('usdt+', P.KPROBE, 0),
  def('usdt.s+', P.KPROBE, 0, S),
  def('tc/ingress', P.SCHED_CLS, A.TCX_INGRESS),
  def('tc/egress', P.SCHED_CLS, A.TCX_EGRESS),
  def('tcx/ingress', P.SCHED_CLS, A.TCX_INGRESS),
  def('tcx/egress', P.SCHED_CLS, A.TCX_EGRESS),
  def('tc', P.SCHED_CLS, 0),
  def('classifier', P.SCHED_CLS, 0),
  def('action', P.SCHED_ACT, 0),
  def('netkit/primary', P.SCHED_CLS, A.NETKIT_PRIMARY),
  def('netkit/peer', P.SCHED_CLS, A.NETKIT_PEER),
  def('tracepoint+', P.TRACEPOINT, 0),
  def('tp+', P.TRACEPOINT, 0),
  def('tracepoint.s+', P.TRACEPOINT, 0, S),
  def('tp.s+', P.TRACEPOINT, 0, S),
  def('raw_tracepoint+', P.RAW_TRACEPOINT, 0),
  def('raw_tp+', P.RAW_TRACEPOINT, 0),
  def('raw_tracepoint.s+', P.RAW_TRACEPOINT, 0, S),
  def('raw_tp.s+', P.RAW_TRACEPOINT, 0, S),
  def('raw_tracepoint.w+', P.RAW_TRACEPOINT_WRITABLE, 0),
  def('raw_tp.w+', P.RAW_TRACEPOINT_WRITABLE, 0),
  def('tp_btf+', P.TRACING, A.TRACE_RAW_TP, { attachBtf: { prefix: 'btf_trace_', kind: 'typedef' } }),
  def('tp_btf.s+', P.TRACING, A.TRACE_RAW_TP, { attachBtf: { prefix: 'btf_trace_', kind: 'typedef' }, sleepable: true }),
  def('fentry+', P.TRACING, A.TRACE_FENTRY, FUNC),
  def('fmod_ret+', P.TRACING, A.MODIFY_RETURN, FUNC),
  def('fexit+', P.TRACING, A.TRACE_FEXIT, FUNC),
  def('fentry.s+', P.TRACING, A.TRACE_FENTRY, { ...FUNC, ...S }),
  def('fmod_ret.s+', P.TRACING, A.MODIFY_RETURN, { ...FUNC, ...S }),
  def('fexit.s+', P.TRACING, A.TRACE_FEXIT, { ...FUNC, ...S }),
  def('fsession+', P.TRACING, A.TRACE_FSESSION, FUNC),
  def('fsession.s+', P.TRACING, A.TRACE_FSESSION, { ...FUNC, ...S }),
  def('fsession.multi+', P.TRACING, A.TRACE_FSESSION_MULTI),
  def('fsession.multi.s+', P.TRACING, A.TRACE_FSESSION_MULTI, S),
  def('fentry.multi+', P.TRACING, A.TRACE_FENTRY_MULTI),
  def('fexit.multi+', P.TRACING, A.TRACE_FEXIT_MULTI),
  def('fentry.multi.s+', P.TRACING, A.TRACE_FENTRY_MULTI, S),
  def('fexit.multi.s+', P.TRACING, A.TRACE_FEXIT_MULTI, S),
  // freplace needs a target program given at load time (not from kernel BTF)
  def('freplace+', P.EXT, 0),
  def('lsm+', P.LSM, A.LSM_MAC, { attachBtf: { prefix: 'bpf_lsm_', kind: 'func' } }),
  def('lsm.s+', P.LSM, A.LSM_MAC, { attachBtf: { prefix: 'bpf_lsm_', kind: 'func' }, sleepable: true }),
  def('lsm_cgroup+', P.LSM, A.LSM_CGROUP, { attachBtf: { prefix: 'bpf_lsm_', kind: 'func' } }),
  def('iter+', P.TRACING, A.TRACE_ITER, { attachBtf: { prefix: 'bpf_iter_', kind: 'func' } }),
  def('iter.s+', P.TRACING, A.TRACE_ITER, { attachBtf: { prefix: 'bpf_iter_', kind: 'func' }, sleepable: true }),
  def('syscall', P.SYSCALL, 0, S),
  def('xdp.frags/devmap', P.XDP, A.XDP_DEVMAP, F),
  def('xdp/devmap', P.XDP, A.XDP_DEVMAP),
  def('xdp.frags/cpumap', P.XDP, A.XDP_CPUMAP, F),
  def('xdp/cpumap', P.XDP, A.XDP_CPUMAP),
  def('xdp.frags', P.XDP, A.XDP, F),
  def('xdp', P.XDP, A.XDP),
  def('perf_event', P.PERF_EVENT, 0),
  def('lwt_in', P.LWT_IN, 0),
  def('lwt_out', P.LWT_OUT, 0),
  def('lwt_xmit', P.LWT_XMIT, 0),
  def('lwt_seg6local', P.LWT_SEG6LOCAL, 0),
  def('sockops', P.SOCK_OPS, A.CGROUP_SOCK_OPS),
  def('sk_skb/stream_parser', P.SK_SKB, A.SK_SKB_STREAM_PARSER),
  def('sk_skb/stream_verdict', P.SK_SKB, A.SK_SKB_STREAM_VERDICT),
  def('sk_skb/verdict', P.SK_SKB, A.SK_SKB_VERDICT),
  def('sk_skb', P.SK_SKB, 0),
  def('sk_msg', P.SK_MSG, A.SK_MSG_VERDICT),
  def('lirc_mode2', P.LIRC_MODE2, A.LIRC_MODE2),
  def('flow_dissector', P.FLOW_DISSECTOR, A.FLOW_DISSECTOR),
  def('cgroup_skb/ingress', P.CGROUP_SKB, A.CGROUP_INET_INGRESS),
  def('cgroup_skb/egress', P.CGROUP_SKB, A.CGROUP_INET_EGRESS),
  def('cgroup/skb', P.CGROUP_SKB, 0),
  def('cgroup/sock_create', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE),
  def('cgroup/sock_release', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_RELEASE),
  def('cgroup/sock', P.CGROUP_SOCK, A.CGROUP_INET_SOCK_CREATE),
  def('cgroup/post_bind4', P.CGROUP_SOCK, A.CGROUP_INET4_POST_BIND),
  def('cgroup/post_bind6', P.CGROUP_SOCK, A.CGROUP_INET6_POST_BIND),
  def('cgroup/bind4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_BIND),
  def('cgroup/bind6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_BIND),
  def('cgroup/connect4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_CONNECT),
  def('cgroup/connect6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_CONNECT),
  def('cgroup/connect_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_CONNECT),
  def('cgroup/sendmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_SENDMSG),
  def('cgroup/sendmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_SENDMSG),
  def('cgroup/sendmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_SENDMSG),
  def('cgroup/recvmsg4', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP4_RECVMSG),
  def('cgroup/recvmsg6', P.CGROUP_SOCK_ADDR, A.CGROUP_UDP6_RECVMSG),
  def('cgroup/recvmsg_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_RECVMSG),
  def('cgroup/getpeername4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETPEERNAME),
  def('cgroup/getpeername6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETPEERNAME),
  def('cgroup/getpeername_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETPEERNAME),
  def('cgroup/getsockname4', P.CGROUP_SOCK_ADDR, A.CGROUP_INET4_GETSOCKNAME),
  def('cgroup/getsockname6', P.CGROUP_SOCK_ADDR, A.CGROUP_INET6_GETSOCKNAME),
  def('cgroup/getsockname_unix', P.CGROUP_SOCK_ADDR, A.CGROUP_UNIX_GETSOCKNAME),
  def('cgroup/sysctl', P.CGROUP_SYSCTL, A.CGROUP_SYSCTL),
  def('cgroup/getsockopt', P.CGROUP_SOCKOPT, A.CGROUP_GETSOCKOPT),
  def('cgroup/setsockopt', P.CGROUP_SOCKOPT, A.CGROUP_SETSOCKOPT),
  def('cgroup/dev', P.CGROUP_DEVICE, A.CGROUP_DEVICE),
  def('struct_ops+', P.STRUCT_OPS, 0),
  def('struct_ops.s+', P.STRUCT_OPS, 0, S),
  def('sk_lookup', P.SK_LOOKUP, A.SK_LOOKUP),
  def('netfilter', P.NETFILTER, A.NETFILTER),
];

function matches(d: SectionDef, section: string): boolean {
  switch (d.match) {
    case 'exact': return section === d.name;
    case 'prefix': return section.startsWith(d.name);
    case 'plus': return section === d.name || section.startsWith(`${d.name}/`);
  }
}

/** findSection's answers: the catalog is fixed and an object asks for the same few names again and again */
const known = new Map<string, SectionDef | null>();

/** What a section name means; a leading '?' (optional program) is ignored here. Undefined if unknown. */
export function findSection(section: string): SectionDef | undefined {
  const hit = known.get(section);
  if (hit !== undefined) return hit ?? undefined;
  const name = section.startsWith('?') ? section.slice(1) : section;
  let found: SectionDef | null = null;
  for (const d of SECTION_DEFS) {
    if (matches(d, name)) {
      found = d;
      break;
    }
  }
  if (known.size >= 1024) known.clear();
  known.set(section, found);
  return found ?? undefined;
}

/** findSection or an ObjectError naming the section (and the program in it, when known). */
export function sectionDef(section: string, program?: string): SectionDef {
  const d = findSection(section);
  if (d) return d;
  throw new ObjectError(
    `unknown section "${section}"${program ? ` of program ${program}` : ''}: no program type is known for it`
    + ' (use a section name from libbpf\'s catalog: xdp, tc, tcx/ingress, socket, kprobe/…, tracepoint/…, …)',
    { section, program },
  );
}

/**
 * The attach target named after the entry's name ('do_nanosleep' of 'fentry/do_nanosleep'), or ''
 * when the entry is an exact name ('tc/ingress' names a direction, not a target).
 */
export function attachTarget(section: string, d: SectionDef): string {
  const name = section.startsWith('?') ? section.slice(1) : section;
  if (d.match === 'exact') return '';
  const rest = name.slice(d.name.length);
  return rest.startsWith('/') ? rest.slice(1) : rest;
}
