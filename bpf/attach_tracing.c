// Test programs for lib/attach/tracing.ts, written as a network engineer would: who connects where
// (fentry/fexit on tcp_v4_connect), a port policy that refuses connects with -EPERM (fmod_ret on
// security_socket_connect, or the same as a BPF LSM program), and TCP state changes of the sockets
// to one port (tp_btf/inet_sock_set_state). Every program records bpf_get_attach_cookie(), so the
// test sees which link (and which cookie) ran it.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define EPERM 1

/* the process whose connects are counted and refused (0: every process) */
const volatile __u32 target_tgid = 0;
/* connects (IPv4) to this port, host order, are refused with -EPERM; 0: none */
const volatile __u16 blocked_port = 0;
/* tp_btf counts TCP state changes of sockets whose peer port (host order) is this one */
const volatile __u16 watched_port = 0;

struct connect_stats {
	__u64 entries;      /* fentry hits */
	__u64 exits;        /* fexit hits */
	__s64 last_ret;     /* tcp_v4_connect's return value, last seen at exit */
	__u64 entry_cookie; /* bpf_get_attach_cookie() of the fentry link */
	__u64 exit_cookie;  /* … and of the fexit link */
	__u16 entry_dport;  /* the sockaddr_in's port at entry, host order */
	__u16 exit_dport;   /* the same at exit (fexit sees the arguments too) */
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32); /* tgid */
	__type(value, struct connect_stats);
} connects SEC(".maps");

struct denial {
	__u64 count;
	__u64 cookie;
	__u16 port;
	__u16 pad[3];
};

/* key 0: refused by fmod_ret, key 1: refused by lsm */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, struct denial);
} denials SEC(".maps");

struct state_count {
	__u64 count;
	__u64 cookie;
};

/* key: the new TCP state (TCP_SYN_SENT = 2, TCP_ESTABLISHED = 1, TCP_CLOSE = 7, …) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, struct state_count);
} states SEC(".maps");

static __always_inline bool ours(void)
{
	return !target_tgid || (__u32)(bpf_get_current_pid_tgid() >> 32) == target_tgid;
}

static __always_inline __u16 inet_port(struct sockaddr *addr)
{
	/* sockaddr_in's sin_port is the first 2 bytes of sa_data */
	if (!addr || addr->sa_family != AF_INET)
		return 0;
	return bpf_ntohs(((struct sockaddr_in *)addr)->sin_port);
}

static __always_inline struct connect_stats *stats_of_current(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct connect_stats fresh = {}, *s = bpf_map_lookup_elem(&connects, &tgid);

	if (s)
		return s;
	bpf_map_update_elem(&connects, &tgid, &fresh, BPF_NOEXIST);
	return bpf_map_lookup_elem(&connects, &tgid);
}

SEC("fentry/tcp_v4_connect")
int BPF_PROG(connect_entry, struct sock *sk, struct sockaddr *uaddr, int addr_len)
{
	struct connect_stats *s;

	if (!ours() || !(s = stats_of_current()))
		return 0;
	__sync_fetch_and_add(&s->entries, 1);
	s->entry_dport = inet_port(uaddr);
	s->entry_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

SEC("fexit/tcp_v4_connect")
int BPF_PROG(connect_exit, struct sock *sk, struct sockaddr *uaddr, int addr_len, int ret)
{
	struct connect_stats *s;

	if (!ours() || !(s = stats_of_current()))
		return 0;
	__sync_fetch_and_add(&s->exits, 1);
	s->last_ret = ret;
	s->exit_dport = inet_port(uaddr);
	s->exit_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

static __always_inline int refuse(__u32 which, struct sockaddr *address, void *ctx)
{
	__u16 port = inet_port(address);
	struct denial *d;

	if (!blocked_port || port != blocked_port || !ours())
		return 0;
	d = bpf_map_lookup_elem(&denials, &which);
	if (d) {
		__sync_fetch_and_add(&d->count, 1);
		d->cookie = bpf_get_attach_cookie(ctx);
		d->port = port;
	}
	return -EPERM;
}

/* fmod_ret: a non-zero return skips security_socket_connect and is what connect() returns */
SEC("fmod_ret/security_socket_connect")
int BPF_PROG(deny_connect_fmod, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret; /* an earlier fmod_ret already refused */
	return refuse(0, address, ctx);
}

/* the same policy as a BPF LSM hook: ret is what the LSMs before this one decided */
SEC("lsm/socket_connect")
int BPF_PROG(deny_connect_lsm, struct socket *sock, struct sockaddr *address, int addrlen, int ret)
{
	if (ret)
		return ret;
	return refuse(1, address, ctx);
}

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u32 key = newstate;
	struct state_count *c;

	/* state changes on receipt run in softirq, in whatever task: filter by the peer's port */
	if (!watched_port || bpf_ntohs(sk->__sk_common.skc_dport) != watched_port)
		return 0;
	c = bpf_map_lookup_elem(&states, &key);
	if (c) {
		__sync_fetch_and_add(&c->count, 1);
		c->cookie = bpf_get_attach_cookie(ctx);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
