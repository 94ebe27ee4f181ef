// xdp-dnat: destination NAT in XDP. Userspace fills `services` (VIP:port/proto -> backend
// addr:port); matching UDP/TCP packets get their destination rewritten, the IP header checksum
// and the UDP/TCP checksum fixed incrementally, and go on up the stack (XDP_PASS), which routes
// or delivers them to the backend.
#include "example_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct service);
	__type(value, struct endpoint);   /* the backend */
} services SEC(".maps");

/* [0] packets rewritten, per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} rewritten SEC(".maps");

SEC("xdp")
int xdp_dnat(struct xdp_md *ctx)
{
	struct pkt4 p;
	struct service key = {};
	struct endpoint *b;
	__u32 zero = 0;
	__u64 *n;

	if (parse_ipv4((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) != 0 || !p.l4_check)
		return XDP_PASS;
	key.addr = p.ip->daddr;
	key.port = p.dport;
	key.proto = p.proto;
	b = bpf_map_lookup_elem(&services, &key);
	if (!b)
		return XDP_PASS;
	rewrite_dest4(&p, b->addr, b->port);
	n = bpf_map_lookup_elem(&rewritten, &zero);
	if (n)
		(*n)++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
