// tc-proxy: a transparent client-side proxy in TC. On egress, packets to a service address
// (`egress_nat`: VIP:port/proto -> backend addr:port) get their destination rewritten; on
// ingress, replies from the backend (`ingress_nat`: backend addr:port/proto -> VIP:port) get their
// source rewritten back, so the client's socket sees the VIP answer. Userspace fills both maps.
// Checksums are fixed with bpf_l3_csum_replace/bpf_l4_csum_replace, which also handle
// CHECKSUM_PARTIAL skbs (locally generated packets whose checksum the NIC completes).
#include <stddef.h>
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

#define IP_OFF ETH_HLEN
#define IP_CSUM_OFF (IP_OFF + offsetof(struct iphdr, check))
#define IP_SRC_OFF (IP_OFF + offsetof(struct iphdr, saddr))
#define IP_DST_OFF (IP_OFF + offsetof(struct iphdr, daddr))

/* Rewrite the source (src = 1) or destination address and port of skb. */
static __always_inline void rewrite(struct __sk_buff *skb, struct pkt4 *p, int src, __be32 addr, __be16 port)
{
	__u32 l4_off = IP_OFF + p->ip->ihl * 4;
	__u32 check_off = l4_off + (p->proto == IPPROTO_UDP ? offsetof(struct udphdr, check) : offsetof(struct tcphdr, check));
	__u32 port_off = l4_off + (src ? 0 : 2);   /* source, dest: the first two 16-bit fields of both */
	__be32 old_addr = src ? p->ip->saddr : p->ip->daddr;
	__be16 old_port = src ? p->sport : p->dport;
	/* a UDP checksum of 0 means "none": leave it, and never produce 0 */
	__u64 mangled = p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	/* p's packet pointers are invalid after the first helper call that may change the skb */
	bpf_l4_csum_replace(skb, check_off, old_addr, addr, BPF_F_PSEUDO_HDR | mangled | sizeof(addr));
	bpf_l4_csum_replace(skb, check_off, old_port, port, mangled | sizeof(port));
	bpf_l3_csum_replace(skb, IP_CSUM_OFF, old_addr, addr, sizeof(addr));
	bpf_skb_store_bytes(skb, src ? IP_SRC_OFF : IP_DST_OFF, &addr, sizeof(addr), 0);
	bpf_skb_store_bytes(skb, port_off, &port, sizeof(port), 0);
}

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
	rewrite(skb, &p, 0, to->addr, to->port);
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
	rewrite(skb, &p, 1, to->addr, to->port);
	count(1);
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
