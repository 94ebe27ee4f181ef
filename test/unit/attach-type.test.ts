// Attach types as callers write them: numbers, the kernel's names, bpftool's short names.
import { expect } from 'chai';
import { resolveAttachType, AttachArgumentError, BPF_ATTACH_TYPE as A } from '../../lib/index.js';

describe('resolveAttachType', () => {
  it('takes numbers, kernel names (any case) and bpftool short names', () => {
    expect(resolveAttachType('t', A.CGROUP_INET4_CONNECT)).to.equal(10);
    expect(resolveAttachType('t', 0)).to.equal(A.CGROUP_INET_INGRESS);
    expect(resolveAttachType('t', 'cgroup_inet4_connect')).to.equal(10);
    expect(resolveAttachType('t', 'CGROUP_INET_EGRESS')).to.equal(1);
    const short: Record<string, number> = {
      ingress: 0, egress: 1, sock_ops: 3, sockops: 3, connect4: 10, connect6: 11, bind4: 8, sendmsg6: 15, recvmsg4: 19,
      getpeername6: 30, getsockname4: 31, sysctl: 18, getsockopt: 21, setsockopt: 22, sock_release: 34,
      msg_verdict: 7, stream_parser: 4, stream_verdict: 5, skb_verdict: 38, connect_unix: 49,
    };
    for (const [name, n] of Object.entries(short)) expect(resolveAttachType('t', name), name).to.equal(n);
  });

  it('refuses what is not an attach type, naming it', () => {
    for (const bad of [-1, 1.5, 999, 'nonsense', '', null, {}]) {
      expect(() => resolveAttachType('op', bad as never)).to.throw(AttachArgumentError, /^op: unknown attach type/);
    }
  });
});
