// ss-lite: the TCP and UDP socket tables of a network namespace, IPv4 and IPv6, as fixed-size
// binary records written by BPF iterators (iter/tcp, iter/udp) with bpf_seq_write(); the reader,
// examples/ss-lite.ts, prints them the way `ss -tuna` does. The queue sizes are the ones `ss`
// gets from sock_diag (tcp_diag_get_info, udp_diag_get_info), which for TCP listeners differ from
// /proc/net/tcp: Recv-Q is the accept backlog and Send-Q its limit there.
//
// The tcp iterator hands over a struct sock_common that is one of three things: a full socket
// (listener or connection), a time-wait socket or a request socket (a SYN answered, the handshake
// not finished). The fields of sock_common (addresses, ports, state, bound device) are valid for
// all three; the rest is read only after the matching bpf_skc_to_*() cast says what it is.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* one record per socket: 64 bytes, host byte order except the addresses (network order, as the
 * kernel keeps them; an IPv4 address is the first 4 bytes) */
struct ss_record {
	__u8 family;		/* AF_INET or AF_INET6 */
	__u8 proto;		/* IPPROTO_TCP or IPPROTO_UDP */
	__u8 state;		/* TCP_* as sock_diag reports it: time-wait's substate, SYN_RECV for requests */
	__u8 v6only;		/* IPV6_V6ONLY of a full AF_INET6 socket (ss prints :: as * without it) */
	__u16 lport;
	__u16 rport;
	__u32 rqueue;		/* Recv-Q */
	__u32 wqueue;		/* Send-Q */
	__u32 uid;
	__u32 ifindex;		/* bound device (SO_BINDTODEVICE), 0 for none */
	__u64 inode;		/* the socket's inode, 0 when no file holds it (not accepted yet, time-wait, request) */
	__u8 laddr[16];
	__u8 raddr[16];
};

/* the states of include/net/tcp_states.h that are told apart here */
enum {
	SS_TCP_ESTABLISHED = 1,
	SS_TCP_SYN_RECV = 3,
	SS_TCP_TIME_WAIT = 6,
	SS_TCP_LISTEN = 10,
	SS_TCP_NEW_SYN_RECV = 12,
};

/* sock_i_ino(): the inode of the socket file, through the socket_alloc that holds both */
static __u64 socket_inode(struct sock *sk)
{
	struct socket *sock = sk->sk_socket;
	struct socket_alloc *alloc;
	unsigned long ino = 0;

	if (!sock)
		return 0;
	alloc = container_of(sock, struct socket_alloc, socket);
	bpf_probe_read_kernel(&ino, sizeof(ino), &alloc->vfs_inode.i_ino);
	return ino;
}

/* what every kind of socket has in its sock_common; false for families other than IPv4/IPv6 */
static bool fill_common(struct ss_record *r, struct sock_common *skc, __u8 proto, __u32 uid)
{
	__u16 family = skc->skc_family;

	if (family != AF_INET && family != AF_INET6)
		return false;
	r->family = family;
	r->proto = proto;
	r->state = skc->skc_state;
	r->lport = skc->skc_num;
	r->rport = bpf_ntohs(skc->skc_dport);
	r->uid = uid;
	r->ifindex = skc->skc_bound_dev_if;
	if (family == AF_INET) {
		__builtin_memcpy(r->laddr, &skc->skc_rcv_saddr, 4);
		__builtin_memcpy(r->raddr, &skc->skc_daddr, 4);
	} else {
		__builtin_memcpy(r->laddr, &skc->skc_v6_rcv_saddr, 16);
		__builtin_memcpy(r->raddr, &skc->skc_v6_daddr, 16);
		r->v6only = skc->skc_ipv6only;
	}
	return true;
}

SEC("iter/tcp")
int ss_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct ss_record r = {};
	struct tcp_timewait_sock *tw;
	struct tcp_request_sock *req;
	struct tcp_sock *tp;

	if (!skc || !fill_common(&r, skc, IPPROTO_TCP, ctx->uid))
		return 0;
	tp = bpf_skc_to_tcp_sock(skc);
	if (tp) {
		struct sock *sk = &tp->inet_conn.icsk_inet.sk;

		if (r.state == SS_TCP_LISTEN) {
			r.rqueue = sk->sk_ack_backlog;
			r.wqueue = sk->sk_max_ack_backlog;
		} else {
			/* unlocked: a transient negative difference is read as 0, as the kernel does */
			int unread = (int)(tp->rcv_nxt - tp->copied_seq);

			r.rqueue = unread > 0 ? unread : 0;
			r.wqueue = tp->write_seq - tp->snd_una;
		}
		r.inode = socket_inode(sk);
	} else if ((tw = bpf_skc_to_tcp_timewait_sock(skc))) {
		/* a socket closed in FIN_WAIT2 also ends up here: its state is the substate */
		r.state = tw->tw_sk.tw_substate;
		r.uid = 0;
		r.v6only = 0;
	} else if ((req = bpf_skc_to_tcp_request_sock(skc))) {
		r.state = SS_TCP_SYN_RECV;
		r.v6only = 0;
	} else {
		return 0;
	}
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

SEC("iter/udp")
int ss_udp(struct bpf_iter__udp *ctx)
{
	struct udp_sock *udp = ctx->udp_sk;
	struct ss_record r = {};
	struct sock *sk;

	if (!udp)
		return 0;
	sk = &udp->inet.sk;
	if (!fill_common(&r, &sk->__sk_common, IPPROTO_UDP, ctx->uid))
		return 0;
	/* udp_rqueue_get(): receive memory (skb truesize, not payload bytes) less what is being freed */
	r.rqueue = sk->sk_backlog.rmem_alloc.counter - udp->forward_deficit;
	/* sk_wmem_alloc_get(): the refcount starts at 1 */
	r.wqueue = sk->sk_wmem_alloc.refs.counter - 1;
	r.inode = socket_inode(sk);
	bpf_seq_write(ctx->meta->seq, &r, sizeof(r));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
