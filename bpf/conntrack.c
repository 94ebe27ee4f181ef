// conntrack: packets and bytes (IP total length) per (saddr, daddr, proto) in an LRU hash, plus
// totals in a per-CPU array that userspace sums across CPUs. One TC program, attached to both
// ingress and egress of an interface, so both directions of a flow show up.
#include <linux/pkt_cls.h>
#include "example_net.h"

struct conn_key {
	__be32 saddr;
	__be32 daddr;
	__u8 proto;
	__u8 pad[3];    /* explicit, always zero: the key is hashed byte by byte */
};

struct conn_val {
	__u64 packets;
	__u64 bytes;
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 4096);
	__type(key, struct conn_key);
	__type(value, struct conn_val);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn_val);
} totals SEC(".maps");

SEC("tc")
int conntrack(struct __sk_buff *skb)
{
	struct pkt4 p;
	struct conn_key key = {};
	struct conn_val *v, *t;
	__u32 zero = 0;
	__u64 len;

	if (parse_ipv4((void *)(long)skb->data, (void *)(long)skb->data_end, &p) != 0)
		return TC_ACT_OK;
	key.saddr = p.ip->saddr;
	key.daddr = p.ip->daddr;
	key.proto = p.proto;
	len = bpf_ntohs(p.ip->tot_len);

	v = bpf_map_lookup_elem(&conns, &key);
	if (v) {
		__sync_fetch_and_add(&v->packets, 1);
		__sync_fetch_and_add(&v->bytes, len);
	} else {
		struct conn_val init = { .packets = 1, .bytes = len };
		if (bpf_map_update_elem(&conns, &key, &init, BPF_NOEXIST) != 0) {
			v = bpf_map_lookup_elem(&conns, &key);
			if (v) {
				__sync_fetch_and_add(&v->packets, 1);
				__sync_fetch_and_add(&v->bytes, len);
			}
		}
	}
	/* per-CPU: no atomics needed, userspace adds the CPUs' values */
	t = bpf_map_lookup_elem(&totals, &zero);
	if (t) {
		t->packets++;
		t->bytes += len;
	}
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
