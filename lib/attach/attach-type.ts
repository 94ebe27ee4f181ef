// Attach types by number, by the kernel's name ('cgroup_inet4_connect', as bpftool prints them) or by
// bpftool's short attach-command names ('connect4', 'ingress', 'msg_verdict', …).
import { BPF_ATTACH_TYPE as A, attachTypeNumber } from '../syscall/types.js';
import { AttachArgumentError } from './handle.js';

/** A BPF_ATTACH_TYPE number, its lower-case name, or bpftool's short name. */
export type AttachTypeRef = number | string;

/** bpftool's `cgroup attach` / `prog attach` spellings (bpftool's attach_type_strings). */
const SHORT: Readonly<Record<string, number>> = {
  ingress: A.CGROUP_INET_INGRESS, egress: A.CGROUP_INET_EGRESS, sock_create: A.CGROUP_INET_SOCK_CREATE,
  sock_release: A.CGROUP_INET_SOCK_RELEASE, sock_ops: A.CGROUP_SOCK_OPS, sockops: A.CGROUP_SOCK_OPS,
  device: A.CGROUP_DEVICE, bind4: A.CGROUP_INET4_BIND, bind6: A.CGROUP_INET6_BIND,
  post_bind4: A.CGROUP_INET4_POST_BIND, post_bind6: A.CGROUP_INET6_POST_BIND,
  connect4: A.CGROUP_INET4_CONNECT, connect6: A.CGROUP_INET6_CONNECT, connect_unix: A.CGROUP_UNIX_CONNECT,
  sendmsg4: A.CGROUP_UDP4_SENDMSG, sendmsg6: A.CGROUP_UDP6_SENDMSG, sendmsg_unix: A.CGROUP_UNIX_SENDMSG,
  recvmsg4: A.CGROUP_UDP4_RECVMSG, recvmsg6: A.CGROUP_UDP6_RECVMSG, recvmsg_unix: A.CGROUP_UNIX_RECVMSG,
  getpeername4: A.CGROUP_INET4_GETPEERNAME, getpeername6: A.CGROUP_INET6_GETPEERNAME, getpeername_unix: A.CGROUP_UNIX_GETPEERNAME,
  getsockname4: A.CGROUP_INET4_GETSOCKNAME, getsockname6: A.CGROUP_INET6_GETSOCKNAME, getsockname_unix: A.CGROUP_UNIX_GETSOCKNAME,
  sysctl: A.CGROUP_SYSCTL, getsockopt: A.CGROUP_GETSOCKOPT, setsockopt: A.CGROUP_SETSOCKOPT,
  msg_verdict: A.SK_MSG_VERDICT, skb_verdict: A.SK_SKB_VERDICT, stream_verdict: A.SK_SKB_STREAM_VERDICT,
  stream_parser: A.SK_SKB_STREAM_PARSER, flow_dissector: A.FLOW_DISSECTOR,
};

export function resolveAttachType(op: string, ref: AttachTypeRef): number {
  if (typeof ref === 'number') {
    if (Number.isInteger(ref) && ref >= 0 && Object.values(A).includes(ref as never)) return ref;
    throw new AttachArgumentError(op, `unknown attach type ${ref}`);
  }
  if (typeof ref === 'string') {
    const n = SHORT[ref] ?? attachTypeNumber(ref);
    if (n !== undefined) return n;
  }
  throw new AttachArgumentError(op, `unknown attach type ${String(ref)} (a BPF_ATTACH_TYPE number, a name like 'cgroup_inet4_connect', or bpftool's 'connect4')`);
}
