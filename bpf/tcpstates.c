// tcpstates: one record per TCP state change (IPv4 and IPv6), like bcc's tcpstates, from the
// tp_btf/inet_sock_set_state tracepoint. Its arguments are typed by the kernel's BTF, so the socket
// is read with plain member accesses that vmlinux.h's preserve_access_index turns into CO-RE
// relocations (fixed up at load for the running kernel), and the verifier knows each pointer's type.
// The time since the socket's previous change comes from a hash map keyed by the socket's address,
// deleted when the socket reaches TCP_CLOSE. Records go to user space through a ring buffer.
//
// The kernel releases the local port before it sets TCP_CLOSE (tcp_set_state: inet_put_port, then
// the state and its tracepoint), so a socket reads port 0 at its last change: the port kept from
// its previous change is reported instead. Before connect() picks a port (CLOSE -> SYN_SENT) the
// port is 0 and stays so.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_tracing.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_endian.h>

#define AF_INET 2
#define AF_INET6 10
#define IPPROTO_TCP 6
#define TCP_CLOSE_STATE 7 /* enum's TCP_CLOSE, spelled out: vmlinux.h has it too, this stays readable */

/*
 * Only sockets of these network namespaces (the inode number of /proc/PID/ns/net, the same as
 * `ls -iL`): netns_a or netns_b. Both 0: every namespace.
 */
const volatile __u32 netns_a = 0;
const volatile __u32 netns_b = 0;

struct event {
	__u64 skaddr;    /* the struct sock's address: one socket's changes share it */
	__u64 delta_us;  /* since this socket's previous change; 0 for its first one seen */
	__u8 saddr[16];  /* local address: IPv4 in the first 4 bytes, network order */
	__u8 daddr[16];  /* remote address */
	__u32 netns;     /* the socket's network namespace inode */
	__u32 pid;       /* the current task's (C-PID): meaningful in process context only */
	__u16 family;    /* AF_INET or AF_INET6 */
	__u16 sport;     /* local port, host order (0 before connect() chose it: CLOSE -> SYN_SENT) */
	__u16 dport;     /* remote port, host order */
	__u16 pad;
	__s32 oldstate;  /* TCP_* of include/net/tcp_states.h */
	__s32 newstate;
	char comm[16];   /* the current task's (C-COMM) */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

struct last {
	__u64 ns;        /* bpf_ktime_get_ns() of the socket's last state change */
	__u16 sport;     /* its local port then (the kernel has cleared it by TCP_CLOSE) */
	__u16 pad[3];
};

/* the socket's address -> its last state change */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, __u64);
	__type(value, struct last);
} last_change SEC(".maps");

SEC("tp_btf/inet_sock_set_state")
int BPF_PROG(tcp_set_state, const struct sock *sk, const int oldstate, const int newstate)
{
	__u16 family = sk->__sk_common.skc_family;
	struct last *prev, next = {};
	__u64 key = (__u64)sk;
	struct event *e;
	__u32 ns;

	/* the tracepoint is also hit for other inet protocols (SCTP, MPTCP's own socket) */
	if (sk->sk_protocol != IPPROTO_TCP || (family != AF_INET && family != AF_INET6))
		return 0;
	ns = sk->__sk_common.skc_net.net->ns.inum;
	if ((netns_a || netns_b) && ns != netns_a && ns != netns_b)
		return 0;

	next.ns = bpf_ktime_get_ns();
	next.sport = sk->__sk_common.skc_num;
	prev = bpf_map_lookup_elem(&last_change, &key);
	if (prev && !next.sport)
		next.sport = prev->sport;
	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (e) {
		e->skaddr = key;
		e->delta_us = prev ? (next.ns - prev->ns) / 1000 : 0;
		e->netns = ns;
		e->pid = bpf_get_current_pid_tgid() >> 32;
		e->family = family;
		e->sport = next.sport;
		e->dport = bpf_ntohs(sk->__sk_common.skc_dport);
		e->pad = 0;
		e->oldstate = oldstate;
		e->newstate = newstate;
		bpf_get_current_comm(e->comm, sizeof(e->comm));
		__builtin_memset(e->saddr, 0, sizeof(e->saddr));
		__builtin_memset(e->daddr, 0, sizeof(e->daddr));
		/* bpf_core_read: a probe read of the field the relocated offset names, of the size given */
		if (family == AF_INET) {
			bpf_core_read(e->saddr, 4, &sk->__sk_common.skc_rcv_saddr);
			bpf_core_read(e->daddr, 4, &sk->__sk_common.skc_daddr);
		} else {
			bpf_core_read(e->saddr, 16, &sk->__sk_common.skc_v6_rcv_saddr);
			bpf_core_read(e->daddr, 16, &sk->__sk_common.skc_v6_daddr);
		}
		bpf_ringbuf_submit(e, 0);
	}

	/* a socket that reaches CLOSE is done with (its memory may be a new socket's next) */
	if (newstate == TCP_CLOSE_STATE)
		bpf_map_delete_elem(&last_change, &key);
	else
		bpf_map_update_elem(&last_change, &key, &next, BPF_ANY);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
