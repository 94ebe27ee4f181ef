// Test programs for lib/attach/lwt.ts: one per lightweight-tunnel hook of a route. LWT programs
// see the packet from its network header (no Ethernet header). Each counts what it sees by hook;
// in and xmit drop UDP datagrams to `drop_port`. (The test of an xmit program pushing an
// encapsulation uses the ipip-tunnel example's encap_ipip.)
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <linux/ip.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct hits {
	__u64 packets;
	__u64 bytes;
	__u64 dropped;
};

enum hook { HOOK_IN, HOOK_OUT, HOOK_XMIT, HOOK_COUNT };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, HOOK_COUNT);
	__type(key, __u32);
	__type(value, struct hits);
} hits SEC(".maps");

const volatile __u16 drop_port = 0;

static __always_inline struct hits *count(struct __sk_buff *skb, __u32 hook)
{
	struct hits *h = bpf_map_lookup_elem(&hits, &hook);
	if (h) {
		__sync_fetch_and_add(&h->packets, 1);
		__sync_fetch_and_add(&h->bytes, skb->len);
	}
	return h;
}

/* BPF_DROP for an IPv4 UDP datagram to drop_port, BPF_OK for anything else */
static __always_inline int verdict(struct __sk_buff *skb, struct hits *h)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct iphdr *ip = data;
	if ((void *)(ip + 1) > end || ip->version != 4 || ip->protocol != IPPROTO_UDP || ip->ihl != 5)
		return BPF_OK;
	struct udphdr *udp = (void *)(ip + 1);
	if ((void *)(udp + 1) > end || drop_port == 0 || udp->dest != bpf_htons(drop_port))
		return BPF_OK;
	if (h)
		__sync_fetch_and_add(&h->dropped, 1);
	return BPF_DROP;
}

SEC("lwt_in")
int count_in(struct __sk_buff *skb)
{
	return verdict(skb, count(skb, HOOK_IN));
}

SEC("lwt_out")
int count_out(struct __sk_buff *skb)
{
	count(skb, HOOK_OUT);
	return BPF_OK;
}

SEC("lwt_xmit")
int count_xmit(struct __sk_buff *skb)
{
	return verdict(skb, count(skb, HOOK_XMIT));
}

char _license[] SEC("license") = "GPL";
