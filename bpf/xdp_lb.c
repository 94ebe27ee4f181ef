// xdp-lb: a layer-4 load balancer in XDP. A packet to a VIP (`vips`: VIP:port/proto -> id and
// backend count) belongs to a flow; a new flow picks a backend from `backends` (index
// id * MAX_BACKENDS + slot) by a hash of its addresses and ports and remembers it in the LRU
// `flows` table, so every packet of a flow goes to the same backend even when the backend set
// changes. The destination is rewritten (checksums fixed incrementally) and the packet goes on up
// the stack (XDP_PASS), which delivers it to a local backend or routes it to a remote one.
// Replies leave through the same interface: a TC egress program finds them in the LRU `replies`
// table (filled with each new flow) and gives them the VIP back as their source, so clients talk
// to the VIP only and TCP handshakes complete. `stats` counts per CPU; userspace sums the CPUs.
#include <linux/pkt_cls.h>
#include "example_net.h"

#define MAX_BACKENDS 16
#define MAX_VIPS 64

struct vip_info {
	__u32 id;       /* < MAX_VIPS */
	__u32 count;    /* backends in use, <= MAX_BACKENDS */
};

struct flow {            /* network byte order */
	__be32 saddr;
	__be32 daddr;    /* the VIP */
	__be16 sport;
	__be16 dport;
	__u8 proto;
	__u8 pad[3];
};

struct lb_stats {
	__u64 packets;     /* packets to a VIP, rewritten */
	__u64 bytes;       /* their IP bytes */
	__u64 new_flows;   /* flows that picked a backend */
	__u64 no_backend;  /* packets to a VIP without backends, passed unchanged */
	__u64 replies;     /* replies given the VIP back as their source */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_VIPS);
	__type(key, struct service);
	__type(value, struct vip_info);
} vips SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_VIPS * MAX_BACKENDS);
	__type(key, __u32);
	__type(value, struct endpoint);
} backends SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow);
	__type(value, struct endpoint);
} flows SEC(".maps");

/* a reply's own 5-tuple (backend -> client) -> the VIP it answers for */
struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 65536);
	__type(key, struct flow);
	__type(value, struct endpoint);
} replies SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct lb_stats);
} stats SEC(".maps");

/* a cheap mix of the flow's fields (murmur3's finalizer): spreads neighbouring ports apart */
static __always_inline __u32 flow_hash(const struct flow *f)
{
	__u32 h = f->saddr ^ (f->daddr * 0x9e3779b1) ^ (((__u32)f->sport << 16) | f->dport) ^ f->proto;
	h ^= h >> 16;
	h *= 0x85ebca6b;
	h ^= h >> 13;
	h *= 0xc2b2ae35;
	h ^= h >> 16;
	return h;
}

SEC("xdp")
int xdp_lb(struct xdp_md *ctx)
{
	struct pkt4 p;
	struct service key = {};
	struct flow f = {};
	struct vip_info *vi;
	struct endpoint *b;
	struct lb_stats *st;
	__u32 zero = 0;

	if (parse_ipv4((void *)(long)ctx->data, (void *)(long)ctx->data_end, &p) != 0 || !p.l4_check)
		return XDP_PASS;
	key.addr = p.ip->daddr;
	key.port = p.dport;
	key.proto = p.proto;
	vi = bpf_map_lookup_elem(&vips, &key);
	if (!vi)
		return XDP_PASS;
	st = bpf_map_lookup_elem(&stats, &zero);
	if (!st)
		return XDP_PASS;

	f.saddr = p.ip->saddr;
	f.daddr = p.ip->daddr;
	f.sport = p.sport;
	f.dport = p.dport;
	f.proto = p.proto;
	b = bpf_map_lookup_elem(&flows, &f);
	if (!b) {
		__u32 count = vi->count, idx;
		if (count == 0 || count > MAX_BACKENDS || vi->id >= MAX_VIPS) {
			st->no_backend++;
			return XDP_PASS;
		}
		idx = vi->id * MAX_BACKENDS + flow_hash(&f) % count;
		b = bpf_map_lookup_elem(&backends, &idx);
		if (!b || bpf_map_update_elem(&flows, &f, b, BPF_ANY) != 0) {
			st->no_backend++;
			return XDP_PASS;
		}
		struct flow r = { .saddr = b->addr, .daddr = f.saddr, .sport = b->port, .dport = f.sport, .proto = f.proto };
		struct endpoint vip = { .addr = f.daddr, .port = f.dport };
		bpf_map_update_elem(&replies, &r, &vip, BPF_ANY);
		st->new_flows++;
	}
	st->packets++;
	st->bytes += bpf_ntohs(p.ip->tot_len);
	rewrite_dest4(&p, b->addr, b->port);
	return XDP_PASS;
}

SEC("tc")
int lb_reply(struct __sk_buff *skb)
{
	struct pkt4 p;
	struct flow r = {};
	struct endpoint *vip;
	struct lb_stats *st;
	__u32 zero = 0;

	if (parse_ipv4((void *)(long)skb->data, (void *)(long)skb->data_end, &p) != 0 || !p.l4_check)
		return TC_ACT_OK;
	r.saddr = p.ip->saddr;
	r.daddr = p.ip->daddr;
	r.sport = p.sport;
	r.dport = p.dport;
	r.proto = p.proto;
	vip = bpf_map_lookup_elem(&replies, &r);
	if (!vip)
		return TC_ACT_OK;
	skb_rewrite4(skb, &p, 1, vip->addr, vip->port);
	st = bpf_map_lookup_elem(&stats, &zero);
	if (st)
		st->replies++;
	return TC_ACT_OK;
}

char LICENSE[] SEC("license") = "GPL";
