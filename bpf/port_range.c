// port-range: one socket serves a whole range of ports (BPF_PROG_TYPE_SK_LOOKUP, kernel >= 5.9), the
// way Cloudflare puts a service's many ports on a few sockets. The program runs when the network
// namespace looks for a socket for a new TCP connection (its SYN) or an incoming UDP datagram,
// before the kernel's own lookup. Userspace (examples/port-range.ts) fills `ranges`: rule i steers
// its protocol's lookups for any local port in [first, last] to the socket at key i of `sockets`
// (a listening TCP socket, or an unconnected UDP socket). The socket keeps its own address and
// port; the connections it accepts keep the port the client asked for (getsockname() says which).
// Lookups that match no rule, or whose rule has no socket yet, go on to the kernel's own lookup.
//
// Ports are in HOST byte order here (the context's local_port is), unlike the packet examples.
// `ifindex` (const volatile, 0 = any): only lookups for packets that arrived through that
// interface are steered (ingress_ifindex, kernel >= 5.17); traffic over other interfaces (lo…)
// is left alone.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>

#define MAX_RULES 16

/* One rule: key i of `ranges`; its socket is key i of `sockets`, its counters key i of `stats`. */
struct port_range {
	__u32 protocol; /* IPPROTO_TCP or IPPROTO_UDP; 0: an empty slot */
	__u16 first;    /* the first and last local port steered (host byte order, inclusive) */
	__u16 last;
};

/* What rule i did. */
struct range_stats {
	__u64 steered;       /* lookups given the rule's socket */
	__u64 no_socket;     /* in the range, but the rule's slot of `sockets` is empty */
	__u64 assign_failed; /* bpf_sk_assign refused (e.g. an IPv6 lookup for an IPv4-only socket) */
};

const volatile __u32 ifindex = 0;

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct port_range);
} ranges SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, __u64);
} sockets SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct range_stats);
} stats SEC(".maps");

SEC("sk_lookup")
int steer_ranges(struct bpf_sk_lookup *ctx)
{
	struct range_stats *st;
	struct port_range *r;
	struct bpf_sock *sk;
	__u32 i, rule = MAX_RULES;
	__u32 port = ctx->local_port;
	__u32 proto = ctx->protocol;
	long err;

	if (ifindex && ctx->ingress_ifindex != ifindex)
		return SK_PASS;
	/* the first rule that matches wins */
	for (i = 0; i < MAX_RULES; i++) {
		__u32 k = i;

		r = bpf_map_lookup_elem(&ranges, &k);
		if (!r || !r->protocol)
			continue;
		if (r->protocol == proto && port >= r->first && port <= r->last) {
			rule = i;
			break;
		}
	}
	if (rule >= MAX_RULES)
		return SK_PASS;
	st = bpf_map_lookup_elem(&stats, &rule);
	if (!st)
		return SK_PASS;
	sk = bpf_map_lookup_elem(&sockets, &rule);
	if (!sk) {
		__sync_fetch_and_add(&st->no_socket, 1);
		return SK_PASS;
	}
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err) {
		__sync_fetch_and_add(&st->assign_failed, 1);
		return SK_PASS;
	}
	__sync_fetch_and_add(&st->steered, 1);
	return SK_PASS;
}

char _license[] SEC("license") = "GPL";
