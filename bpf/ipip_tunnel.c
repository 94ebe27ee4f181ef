// ipip-tunnel: an IP-in-IP tunnel made of two BPF programs and no tunnel device. encap_ipip runs on
// the routes to the far side's prefixes (a route's lwt xmit hook, attachLwt) and wraps each packet
// in an outer IPv4 header from this end to the far end; decap_ipip runs on TC ingress of the
// interface and strips that header from IP-in-IP packets the far end sent, so the inner packet goes
// on into the stack as if it had arrived as it is.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/in.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* the tunnel's two ends, network order: set by the loader */
const volatile __u32 local_addr = 0;
const volatile __u32 remote_addr = 0;

struct tunnel_stats {
	__u64 packets;
	__u64 bytes;
};

enum tunnel_counter {
	ENCAPSULATED,
	DECAPSULATED,
	ENCAP_ERRORS, /* bpf_lwt_push_encap refused: packet dropped */
	DECAP_ERRORS, /* bpf_skb_adjust_room refused: packet dropped */
	TUNNEL_COUNTERS,
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TUNNEL_COUNTERS);
	__type(key, __u32);
	__type(value, struct tunnel_stats);
} stats SEC(".maps");

static __always_inline void count(enum tunnel_counter c, __u32 len)
{
	__u32 key = c;
	struct tunnel_stats *s = bpf_map_lookup_elem(&stats, &key);
	if (s) {
		s->packets++;
		s->bytes += len;
	}
}

SEC("lwt_xmit")
int encap_ipip(struct __sk_buff *skb)
{
	__u32 len = skb->len;
	struct iphdr outer = {
		.version = 4,
		.ihl = 5,
		.ttl = 64,
		.protocol = IPPROTO_IPIP,
		.tot_len = bpf_htons(skb->len + sizeof(struct iphdr)),
		.saddr = local_addr,
		.daddr = remote_addr,
	};
	/* the kernel computes the checksum of an outer IPv4 header left at 0 */
	if (bpf_lwt_push_encap(skb, BPF_LWT_ENCAP_IP, &outer, sizeof(outer))) {
		count(ENCAP_ERRORS, len);
		return BPF_DROP;
	}
	count(ENCAPSULATED, len);
	/* the packet now goes to remote_addr: the kernel must route it again (BPF_OK would drop it) */
	return BPF_LWT_REROUTE;
}

SEC("tc")
int decap_ipip(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct ethhdr *eth = data;
	struct iphdr *ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return TC_ACT_OK;
	/* only the far end's tunnel packets to this end; anything else is not ours to touch */
	if (ip->protocol != IPPROTO_IPIP || ip->ihl != 5 || ip->saddr != remote_addr || ip->daddr != local_addr)
		return TC_ACT_OK;
	__u32 len = skb->len;
	/* remove the 20 bytes after the Ethernet header: the outer IPv4 header */
	if (bpf_skb_adjust_room(skb, -(__s32)sizeof(struct iphdr), BPF_ADJ_ROOM_MAC, 0)) {
		count(DECAP_ERRORS, len);
		return TC_ACT_SHOT;
	}
	/* what the far end put in: the inner IP packet, as encap_ipip counted it */
	count(DECAPSULATED, len - sizeof(struct ethhdr) - sizeof(struct iphdr));
	return TC_ACT_OK;
}

char _license[] SEC("license") = "GPL";
