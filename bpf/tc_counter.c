// The seed scenario: two TC programs (ingress, egress) counting packets in one shared array map,
// pinned by name so `bpftool map dump pinned <pinPath>/counter` shows it. `only_dport` (a const
// volatile set before load) narrows the count to UDP/TCP packets to that destination port.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/pkt_cls.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
	__uint(pinning, LIBBPF_PIN_BY_NAME);
} counter SEC(".maps");

/* 0: count every packet; otherwise only UDP/TCP packets to this destination port */
const volatile __u16 only_dport = 0;

/* the destination port of a UDP/TCP packet over IPv4/IPv6 (no extension headers), or 0 */
static __always_inline __u16 dest_port(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	__u8 proto;
	void *l4;

	if ((void *)(eth + 1) > end)
		return 0;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return 0;
		proto = ip->protocol;
		l4 = (void *)ip + ip->ihl * 4;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return 0;
		proto = ip6->nexthdr;
		l4 = ip6 + 1;
	} else {
		return 0;
	}
	if (proto == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return 0;
		return bpf_ntohs(udp->dest);
	}
	if (proto == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return 0;
		return bpf_ntohs(tcp->dest);
	}
	return 0;
}

static __always_inline int count(struct __sk_buff *skb, __u32 index)
{
	__u64 *n;

	if (only_dport && dest_port(skb) != only_dport)
		return TC_ACT_OK;
	n = bpf_map_lookup_elem(&counter, &index);
	if (n)
		__sync_fetch_and_add(n, 1);
	return TC_ACT_OK;
}

SEC("tc/ingress")
int tc_ingress(struct __sk_buff *skb)
{
	return count(skb, 0);
}

SEC("tc/egress")
int tc_egress(struct __sk_buff *skb)
{
	return count(skb, 1);
}

char LICENSE[] SEC("license") = "Dual BSD/GPL";
