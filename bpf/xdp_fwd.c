// xdp-fwd: an IP router in XDP. Each IPv4/IPv6 packet is routed with bpf_fib_lookup() (the
// kernel's own routing table and neighbour cache, as seen from the interface it came in on); when
// the route and the next hop's MAC are known and the way out is one of the interfaces in
// `tx_ports`, the TTL / hop limit is decremented (the IPv4 header checksum fixed incrementally),
// the Ethernet addresses are rewritten and the frame is sent straight out with
// bpf_redirect_map(), never reaching the stack. Everything else (ARP, neighbour discovery,
// packets to the router itself, routes without a resolved neighbour yet, TTL about to expire)
// goes up the stack with XDP_PASS, and the kernel does what it always does. `stats` counts the
// outcomes per CPU: forwarded, or passed and why (one field per bpf_fib_lookup return code).
#include "example_net.h"

#define AF_INET 2
#define AF_INET6 10

/* one field per outcome: userspace sums the CPUs and prints the fields that are not 0 */
struct fwd_stats {
	__u64 forwarded;        /* redirected out through tx_ports */
	__u64 forwarded_bytes;  /* their frame bytes */
	__u64 not_ip;           /* not IPv4/IPv6 (ARP, …) or a header cut short */
	__u64 ttl_expired;      /* TTL / hop limit <= 1: the stack answers with ICMP time exceeded */
	__u64 not_tx_port;      /* routed out through an interface not in tx_ports */
	/* bpf_fib_lookup's answers other than success (BPF_FIB_LKUP_RET_*) */
	__u64 blackhole;
	__u64 unreachable;
	__u64 prohibit;
	__u64 not_fwded;        /* local delivery: the packet is for the router itself */
	__u64 fwd_disabled;     /* forwarding is off on the interface it came in on */
	__u64 unsupp_lwt;
	__u64 no_neigh;         /* the next hop's MAC is not known yet: the stack resolves it */
	__u64 frag_needed;      /* larger than the way out's MTU */
	__u64 no_src_addr;
	__u64 fib_other;        /* a return code this program does not know */
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fwd_stats);
} stats SEC(".maps");

/* the interfaces it forwards between: ifindex -> ifindex, filled by userspace */
struct {
	__uint(type, BPF_MAP_TYPE_DEVMAP);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u32);
} tx_ports SEC(".maps");

static __always_inline __u64 *fib_counter(struct fwd_stats *s, int rc)
{
	switch (rc) {
	case BPF_FIB_LKUP_RET_BLACKHOLE: return &s->blackhole;
	case BPF_FIB_LKUP_RET_UNREACHABLE: return &s->unreachable;
	case BPF_FIB_LKUP_RET_PROHIBIT: return &s->prohibit;
	case BPF_FIB_LKUP_RET_NOT_FWDED: return &s->not_fwded;
	case BPF_FIB_LKUP_RET_FWD_DISABLED: return &s->fwd_disabled;
	case BPF_FIB_LKUP_RET_UNSUPP_LWT: return &s->unsupp_lwt;
	case BPF_FIB_LKUP_RET_NO_NEIGH: return &s->no_neigh;
	case BPF_FIB_LKUP_RET_FRAG_NEEDED: return &s->frag_needed;
	case BPF_FIB_LKUP_RET_NO_SRC_ADDR: return &s->no_src_addr;
	default: return &s->fib_other;
	}
}

static __always_inline int pass(__u64 *counter)
{
	if (counter)
		(*counter)++;
	return XDP_PASS;
}

SEC("xdp")
int xdp_fwd(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	struct ethhdr *eth = data;
	struct bpf_fib_lookup fib = {};
	struct iphdr *ip = 0;
	struct ipv6hdr *ip6 = 0;
	struct fwd_stats *s;
	__u32 zero = 0;
	int rc;

	s = bpf_map_lookup_elem(&stats, &zero);
	if (!s)
		return XDP_PASS;
	if ((void *)(eth + 1) > end)
		return pass(&s->not_ip);

	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end || ip->ihl < 5)
			return pass(&s->not_ip);
		if (ip->ttl <= 1)
			return pass(&s->ttl_expired);
		fib.family = AF_INET;
		fib.tos = ip->tos;
		fib.l4_protocol = ip->protocol;
		fib.tot_len = bpf_ntohs(ip->tot_len);
		fib.ipv4_src = ip->saddr;
		fib.ipv4_dst = ip->daddr;
	} else if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return pass(&s->not_ip);
		if (ip6->hop_limit <= 1)
			return pass(&s->ttl_expired);
		fib.family = AF_INET6;
		/* traffic class and flow label: the first word less the version nibble */
		fib.flowinfo = *(__be32 *)ip6 & bpf_htonl(0x0fffffff);
		fib.l4_protocol = ip6->nexthdr;
		fib.tot_len = bpf_ntohs(ip6->payload_len) + sizeof(*ip6);
		__builtin_memcpy(fib.ipv6_src, &ip6->saddr, sizeof(fib.ipv6_src));
		__builtin_memcpy(fib.ipv6_dst, &ip6->daddr, sizeof(fib.ipv6_dst));
	} else {
		return pass(&s->not_ip);
	}
	fib.ifindex = ctx->ingress_ifindex;

	rc = bpf_fib_lookup(ctx, &fib, sizeof(fib), 0);
	if (rc != BPF_FIB_LKUP_RET_SUCCESS)
		return pass(fib_counter(s, rc));
	/* fib.ifindex is now the way out: only the interfaces userspace put in tx_ports */
	if (!bpf_map_lookup_elem(&tx_ports, &fib.ifindex))
		return pass(&s->not_tx_port);

	if (ip) {
		/* ttl and protocol share a 16-bit word of the checksummed header */
		__u16 *word = (__u16 *)&ip->ttl;
		__u16 old = *word;
		ip->ttl--;
		csum_replace2(&ip->check, old, *word);
	} else if (ip6) {
		ip6->hop_limit--;   /* IPv6 has no header checksum */
	}
	__builtin_memcpy(eth->h_dest, fib.dmac, ETH_ALEN);
	__builtin_memcpy(eth->h_source, fib.smac, ETH_ALEN);
	s->forwarded++;
	s->forwarded_bytes += end - data;
	return bpf_redirect_map(&tx_ports, fib.ifindex, 0);
}

char LICENSE[] SEC("license") = "GPL";
