// packet-counter: XDP counts received packets per IP protocol (IPv4 protocol / IPv6 next header)
// in a hash map; examples/packet-counter.ts prints it every 2 s by iterating the keys.
#include "example_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 256);
	__type(key, __u32);     /* IP protocol number */
	__type(value, __u64);   /* packets */
} protocols SEC(".maps");

SEC("xdp")
int packet_counter(struct xdp_md *ctx)
{
	int proto = ip_protocol((void *)(long)ctx->data, (void *)(long)ctx->data_end);
	__u32 key;
	__u64 one = 1, *n;

	if (proto < 0)
		return XDP_PASS;
	key = proto;
	n = bpf_map_lookup_elem(&protocols, &key);
	if (n)
		__sync_fetch_and_add(n, 1);
	else if (bpf_map_update_elem(&protocols, &key, &one, BPF_NOEXIST) != 0) {
		/* another CPU inserted it first */
		n = bpf_map_lookup_elem(&protocols, &key);
		if (n)
			__sync_fetch_and_add(n, 1);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
