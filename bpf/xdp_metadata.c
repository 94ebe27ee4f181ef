// xdp-metadata: the XDP RX metadata kfuncs (Linux 6.3; vlan tag 6.8) asked for every packet, and what
// they said written to a ring buffer with the packet's addresses, then XDP_PASS. The kfuncs are only
// for a program loaded bound to its device (loadObject's programs.<name>.interface): the verifier
// refuses them in any other, and the driver of that device supplies them (veth does).
// The other programs help test/privileged/xdp-metadata.test.ts make the packets: the flow hash TC
// sees, a VLAN tag pushed on the sender, and frames sent back with XDP_TX.
#include "example_net.h"

/* include/net/xdp.h, not UAPI: only its size and kind matter for the kfunc's prototype check */
enum xdp_rss_hash_type {
	XDP_RSS_TYPE_NONE = 0,
};

extern int bpf_xdp_metadata_rx_timestamp(const struct xdp_md *ctx, __u64 *timestamp) __ksym;
extern int bpf_xdp_metadata_rx_hash(const struct xdp_md *ctx, __u32 *hash, enum xdp_rss_hash_type *rss_type) __ksym;
extern int bpf_xdp_metadata_rx_vlan_tag(const struct xdp_md *ctx, __be16 *vlan_proto, __u16 *vlan_tci) __ksym;

/* one per packet; the kfuncs' return codes are 0 or a negative errno (-ENODATA: nothing for this packet) */
struct meta_record {
	__u64 timestamp;
	__s32 timestamp_err;
	__s32 hash_err;
	__u32 hash;
	__u32 rss_type;
	__s32 vlan_err;
	__be16 vlan_proto;
	__u16 vlan_tci;
	__be16 eth_proto;   /* as the program sees it: an offloaded VLAN tag is not in the packet */
	__u8 ip_proto;      /* IPv4 only; 0 otherwise */
	__u8 pad;
	__be32 saddr;
	__be32 daddr;
	__be16 sport;
	__be16 dport;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 64 * 1024);
} records SEC(".maps");

SEC("xdp")
int xdp_metadata(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct meta_record *r;
	enum xdp_rss_hash_type rss = XDP_RSS_TYPE_NONE;
	struct pkt4 p;

	r = bpf_ringbuf_reserve(&records, sizeof(*r), 0);
	if (!r)
		return XDP_PASS;
	__builtin_memset(r, 0, sizeof(*r));
	r->timestamp_err = bpf_xdp_metadata_rx_timestamp(ctx, &r->timestamp);
	r->hash_err = bpf_xdp_metadata_rx_hash(ctx, &r->hash, &rss);
	r->rss_type = rss;
	r->vlan_err = bpf_xdp_metadata_rx_vlan_tag(ctx, &r->vlan_proto, &r->vlan_tci);
	if ((void *)(eth + 1) <= end)
		r->eth_proto = eth->h_proto;
	if (parse_ipv4(data, end, &p) == 0) {
		r->ip_proto = p.proto;
		r->saddr = p.ip->saddr;
		r->daddr = p.ip->daddr;
		r->sport = p.sport;
		r->dport = p.dport;
	}
	bpf_ringbuf_submit(r, 0);
	return XDP_PASS;
}

/* The flow hash the stack gives the same packets (skb_get_hash, with the kernel's own seed), read by
 * a TC program: what rx_hash on veth should equal. Keyed by (source port << 16 | destination port). */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 64);
	__type(key, __u32);
	__type(value, __u32);
} tc_hashes SEC(".maps");

SEC("tc")
int tc_flow_hash(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	struct pkt4 p;
	__u32 key, hash;

	if (parse_ipv4(data, end, &p) == 0 && p.proto == IPPROTO_UDP) {
		key = (__u32)bpf_ntohs(p.sport) << 16 | bpf_ntohs(p.dport);
		hash = bpf_get_hash_recalc(skb);
		bpf_map_update_elem(&tc_hashes, &key, &hash, BPF_ANY);
	}
	return 0; /* TC_ACT_OK */
}

/* For the sender's side: give UDP datagrams to port vlan_dport a VLAN tag the way a VLAN device on
 * a NIC with VLAN offload does, in the skb's metadata (bpf_skb_vlan_push), not in the frame: veth
 * keeps it there, and rx_vlan_tag on the receiving veth reads it. */
const volatile __u16 vlan_dport = 0;
const volatile __u16 vlan_tci = 0;

/* an IPv4 UDP datagram to `port` (never, when port is 0: the program was not asked to act) */
static __always_inline int udp_to(long data, long end, __u16 port)
{
	struct pkt4 p;

	return port && parse_ipv4((void *)data, (void *)end, &p) == 0 && p.proto == IPPROTO_UDP && p.dport == bpf_htons(port);
}

SEC("tc")
int tc_vlan_push(struct __sk_buff *skb)
{
	if (udp_to(skb->data, skb->data_end, vlan_dport))
		bpf_skb_vlan_push(skb, bpf_htons(ETH_P_8021Q), vlan_tci);
	return 0; /* TC_ACT_OK */
}

/* For the peer: send UDP datagrams to port bounce_dport back out where they came in (XDP_TX), so
 * that they reach the other veth as XDP frames, with no skb behind them for the kfuncs to read. */
const volatile __u16 bounce_dport = 0;

SEC("xdp")
int xdp_bounce(struct xdp_md *ctx)
{
	if (udp_to(ctx->data, ctx->data_end, bounce_dport))
		return XDP_TX;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
