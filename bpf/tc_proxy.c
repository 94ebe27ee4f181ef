// tc-proxy: a transparent client-side proxy in TC. On egress, packets to a service address
// (`egress_nat`: VIP:port/proto -> backend addr:port) get their destination rewritten; on
// ingress, replies from the backend (`ingress_nat`: backend addr:port/proto -> VIP:port) get their
// source rewritten back, so the client's socket sees the VIP answer. Userspace fills both maps.
// Checksums are fixed with bpf_l3_csum_replace/bpf_l4_csum_replace (skb_rewrite4 in example_net.h).
#include <linux/pkt_cls.h>
#include "example_net.h"

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct service);     /* VIP */
	__type(value, struct endpoint);  /* backend */
} egress_nat SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct service);     /* backend */
	__type(value, struct endpoint);  /* VIP */
} ingress_nat SEC(".maps");

/* [0] packets rewritten on egress, [1] on ingress; per CPU */
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} proxied SEC(".maps");

static __always_inline void count(__u32 i)
{
	__u64 *n = bpf_map_lookup_elem(&proxied, &i);
	if (n)
		(*n)++;
}

SEC("tc")
int proxy_egress(struct __sk_buff *skb)
{
	struct pkt4 p;
	struct service key = {};
	struct endpoint *to;

	if (parse_ipv4((void *)(long)skb->data, (void *)(long)skb->data_end, &p) != 0 || !p.l4_check)
		return TC_ACT_OK;
	key.addr = p.ip->daddr;
	key.port = p.dport;
	key.proto = p.proto;
	to = bpf_map_lookup_elem(&egress_nat, &key);
	if (!to)
		return TC_ACT_OK;
	skb_rewrite4(skb, &p, 0, to->addr, to->port);
	count(0);
	return TC_ACT_OK;
}

SEC("tc")
int proxy_ingress(struct __sk_buff *skb)
{
	struct pkt4 p;
	struct service key = {};
	struct endpoint *to;

	if (parse_ipv4((void *)(long)skb->data, (void *)(long)skb->data_end, &p) != 0 || !p.l4_check)
		return TC_ACT_OK;
	key.addr = p.ip->saddr;
	key.port = p.sport;
	key.proto = p.proto;
	to = bpf_map_lookup_elem(&ingress_nat, &key);
	if (!to)
		return TC_ACT_OK;
	skb_rewrite4(skb, &p, 1, to->addr, to->port);
	count(1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
