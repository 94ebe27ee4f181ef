// Test programs for lib/attach/netns-link.ts, the two hooks of a network namespace.
//
// sk_lookup (kernel >= 5.9): runs when the namespace looks for a socket for a new TCP connection or
// an incoming UDP datagram, before the kernel's own lookup. Every local port in [port_lo, port_hi]
// is steered to ONE socket: the listening TCP socket at key 0 of `target`, the UDP socket at key 1
// (userspace puts them there). The socket keeps its own port: it now also gets the connections of
// the whole range. Ports outside the range, and lookups when the slot is empty, go on as usual.
//
// flow_dissector: runs wherever the namespace dissects a packet (RPS, flow hashing, tc flower…).
// It only counts and hands the work back to the kernel's dissector (BPF_FLOW_DISSECTOR_CONTINUE,
// kernel >= 6.1), so attaching it changes nothing else.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* the range of local ports steered (host order, inclusive) */
const volatile __u16 port_lo = 0;
const volatile __u16 port_hi = 0;

/* key 0: the TCP listener, key 1: the UDP socket */
struct {
	__uint(type, BPF_MAP_TYPE_SOCKMAP);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} target SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

#define S_TCP_STEERED 0   /* TCP lookups given the listener */
#define S_UDP_STEERED 1   /* UDP lookups given the UDP socket */
#define S_NO_SOCKET 2     /* in the range, but the slot is empty */
#define S_ASSIGN_FAILED 3 /* bpf_sk_assign refused (e.g. an IPv6 lookup for an IPv4-only socket) */
#define S_DISSECTED 4     /* flow dissector runs */
#define S_DISSECTED_IPV4 5
#define S_DISSECTED_UDP 6 /* of those, IPv4 UDP */
#define S_DISSECTED_TCP 7 /* of those, IPv4 TCP */

static __always_inline void add(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("sk_lookup")
int steer_range(struct bpf_sk_lookup *ctx)
{
	struct bpf_sock *sk;
	__u32 key;
	long err;

	if (ctx->local_port < port_lo || ctx->local_port > port_hi)
		return SK_PASS;
	if (ctx->protocol == IPPROTO_TCP)
		key = 0;
	else if (ctx->protocol == IPPROTO_UDP)
		key = 1;
	else
		return SK_PASS;
	sk = bpf_map_lookup_elem(&target, &key);
	if (!sk) {
		add(S_NO_SOCKET);
		return SK_PASS;
	}
	err = bpf_sk_assign(ctx, sk, 0);
	bpf_sk_release(sk);
	if (err) {
		add(S_ASSIGN_FAILED);
		return SK_PASS;
	}
	add(key == 0 ? S_TCP_STEERED : S_UDP_STEERED);
	return SK_PASS;
}

SEC("flow_dissector")
int count_dissect(struct __sk_buff *skb)
{
	struct bpf_flow_keys *keys = skb->flow_keys;
	void *data = (void *)(long)skb->data;
	void *data_end = (void *)(long)skb->data_end;
	__u16 nhoff = keys->nhoff;
	struct iphdr *iph;

	add(S_DISSECTED);
	if (keys->n_proto != bpf_htons(ETH_P_IP) || nhoff > 64)
		return BPF_FLOW_DISSECTOR_CONTINUE;
	iph = data + nhoff;
	if ((void *)(iph + 1) > data_end)
		return BPF_FLOW_DISSECTOR_CONTINUE;
	add(S_DISSECTED_IPV4);
	if (iph->protocol == IPPROTO_UDP)
		add(S_DISSECTED_UDP);
	else if (iph->protocol == IPPROTO_TCP)
		add(S_DISSECTED_TCP);
	return BPF_FLOW_DISSECTOR_CONTINUE;
}

char _license[] SEC("license") = "GPL";
