// xsk-redirect: hand packets to the AF_XDP socket registered for the queue they arrived on, the
// usual `bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS)` (no socket at that key: the packet
// goes on to the stack). With udp_port set (before load), only IPv4 UDP to that port is redirected
// and everything else (ARP above all, or the peer could not resolve us) passes. So do fragments:
// only the first carries the port, and the socket would get the start of a datagram whose rest
// went to the stack; passed, all of them, the stack reassembles the datagram.
// Used by examples/xdp-sock.ts and test/privileged/xsk.test.ts.
#include "example_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_XSKMAP);
	__uint(max_entries, 64);
	__type(key, __u32);     /* queue index */
	__type(value, __u32);   /* AF_XDP socket (an fd from user space) */
} xsks SEC(".maps");

/* 0: packets redirected to a socket; 1: packets passed to the stack (no match, or no socket) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

/* UDP destination port to redirect (host order); 0: every packet */
const volatile __u16 udp_port = 0;

static __always_inline int count(__u32 key, int verdict)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	return verdict;
}

SEC("xdp")
int xsk_redirect(struct xdp_md *ctx)
{
	if (udp_port) {
		struct pkt4 p;
		if (parse_ipv4((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) != 0 ||
		    p.proto != IPPROTO_UDP ||
		    (p.ip->frag_off & bpf_htons(0x3fff)) ||	/* IP_MF or a fragment offset */
		    p.dport != bpf_htons(udp_port))
			return count(1, XDP_PASS);
	}
	int verdict = bpf_redirect_map(&xsks, ctx->rx_queue_index, XDP_PASS);
	return count(verdict == XDP_REDIRECT ? 0 : 1, verdict);
}

char LICENSE[] SEC("license") = "GPL";
