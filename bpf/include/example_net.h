// Packet parsing and checksum helpers shared by the example programs (bpf/xdp_*.c, bpf/tc_*.c,
// bpf/conntrack.c, bpf/packet_counter.c, bpf/tcpdump_lite.c). IPv4 only unless a function says so.
#pragma once
#include <stddef.h>
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/ip.h>
#include <linux/ipv6.h>
#include <linux/in.h>
#include <linux/udp.h>
#include <linux/tcp.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

/* A service as the NAT and load-balancer examples key their maps (network byte order: the
 * __be types say so in the BTF, and `tsbpf export` shows the numbers they stand for). */
struct service {
	__be32 addr;
	__be16 port;
	__u8 proto;     /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 pad;
};

/* Where a service's packets go, or come from (network byte order). */
struct endpoint {
	__be32 addr;
	__be16 port;
	__u16 pad;
};

/* what the examples need of an IPv4 packet; pointers stay inside [data, end) */
struct pkt4 {
	struct iphdr *ip;
	void *l4;            /* the transport header, NULL when it does not fit */
	__u16 *l4_check;     /* where the UDP/TCP checksum lives, NULL for other protocols */
	__be16 sport;        /* network order, 0 for protocols without ports */
	__be16 dport;
	__u8 proto;
};

/* Parse Ethernet + IPv4 (+ UDP/TCP ports). Returns 0 for an IPv4 packet, -1 otherwise. */
static __always_inline int parse_ipv4(void *data, void *end, struct pkt4 *p)
{
	struct ethhdr *eth = data;
	struct iphdr *ip;

	p->l4 = 0;
	p->l4_check = 0;
	p->sport = 0;
	p->dport = 0;
	if ((void *)(eth + 1) > end || eth->h_proto != bpf_htons(ETH_P_IP))
		return -1;
	ip = (void *)(eth + 1);
	if ((void *)(ip + 1) > end || ip->ihl < 5)
		return -1;
	p->ip = ip;
	p->proto = ip->protocol;
	/* fragments after the first carry no transport header */
	if (ip->frag_off & bpf_htons(0x1fff))
		return 0;
	void *l4 = (void *)ip + ip->ihl * 4;
	if (ip->protocol == IPPROTO_UDP) {
		struct udphdr *udp = l4;
		if ((void *)(udp + 1) > end)
			return 0;
		p->l4 = udp;
		p->l4_check = &udp->check;
		p->sport = udp->source;
		p->dport = udp->dest;
	} else if (ip->protocol == IPPROTO_TCP) {
		struct tcphdr *tcp = l4;
		if ((void *)(tcp + 1) > end)
			return 0;
		p->l4 = tcp;
		p->l4_check = &tcp->check;
		p->sport = tcp->source;
		p->dport = tcp->dest;
	} else if (ip->protocol == IPPROTO_ICMP) {
		/* type, code, checksum, and 4 bytes of rest (linux/icmp.h drags in libc headers) */
		if (l4 + 8 > end)
			return 0;
		p->l4 = l4;
	}
	return 0;
}

/* The IP protocol (IPv4 protocol or IPv6 next header) of an Ethernet frame, -1 when not IP. */
static __always_inline int ip_protocol(void *data, void *end)
{
	struct ethhdr *eth = data;

	if ((void *)(eth + 1) > end)
		return -1;
	if (eth->h_proto == bpf_htons(ETH_P_IP)) {
		struct iphdr *ip = (void *)(eth + 1);
		if ((void *)(ip + 1) > end)
			return -1;
		return ip->protocol;
	}
	if (eth->h_proto == bpf_htons(ETH_P_IPV6)) {
		struct ipv6hdr *ip6 = (void *)(eth + 1);
		if ((void *)(ip6 + 1) > end)
			return -1;
		return ip6->nexthdr;
	}
	return -1;
}

/*
 * Incremental checksum update (RFC 1624, eqn. 3: HC' = ~(~HC + ~m + m')) for XDP, which has no
 * csum_replace helpers. Works on the 16-bit words as they sit in memory, so byte order does not
 * matter as long as `from`/`to` are read from/written to the packet as-is.
 */
static __always_inline __u16 csum_fold32(__u32 s)
{
	s = (s & 0xffff) + (s >> 16);
	s = (s & 0xffff) + (s >> 16);
	return (__u16)s;
}

static __always_inline void csum_replace4(__u16 *check, __u32 from, __u32 to)
{
	__u32 s = (__u16)~*check;
	s += (__u16)~(from & 0xffff);
	s += (__u16)~(from >> 16);
	s += to & 0xffff;
	s += to >> 16;
	*check = ~csum_fold32(s);
}

static __always_inline void csum_replace2(__u16 *check, __u16 from, __u16 to)
{
	__u32 s = (__u16)~*check;
	s += (__u16)~from;
	s += to;
	*check = ~csum_fold32(s);
}

/*
 * Rewrite the destination address and port of a parsed UDP/TCP packet in place, fixing the IP
 * header checksum and the transport checksum (which covers the address through the pseudo
 * header). A UDP checksum of 0 means "none" and stays 0; a computed 0 is sent as 0xffff.
 */
static __always_inline void rewrite_dest4(struct pkt4 *p, __be32 addr, __be16 port)
{
	__u16 *check = p->l4_check;
	int udp_none = p->proto == IPPROTO_UDP && check && *check == 0;

	if (check && !udp_none) {
		csum_replace4(check, p->ip->daddr, addr);
		csum_replace2(check, p->dport, port);
		if (p->proto == IPPROTO_UDP && *check == 0)
			*check = 0xffff;
	}
	csum_replace4(&p->ip->check, p->ip->daddr, addr);
	p->ip->daddr = addr;
	if (p->proto == IPPROTO_UDP)
		((struct udphdr *)p->l4)->dest = port;
	else if (p->proto == IPPROTO_TCP)
		((struct tcphdr *)p->l4)->dest = port;
	p->dport = port;
}

/*
 * The same for TC: rewrite the source (src = 1) or destination address and port of a parsed
 * UDP/TCP packet in an skb. bpf_l3/l4_csum_replace fix the checksums and also handle
 * CHECKSUM_PARTIAL skbs (locally generated packets whose checksum the NIC completes: only the
 * pseudo-header part is updated then).
 */
#define EX_IP_OFF ETH_HLEN
static __always_inline void skb_rewrite4(struct __sk_buff *skb, struct pkt4 *p, int src, __be32 addr, __be16 port)
{
	__u32 l4_off = EX_IP_OFF + p->ip->ihl * 4;
	__u32 check_off = l4_off + (p->proto == IPPROTO_UDP ? offsetof(struct udphdr, check) : offsetof(struct tcphdr, check));
	__u32 port_off = l4_off + (src ? 0 : 2);   /* source, dest: the first two 16-bit fields of both */
	__be32 old_addr = src ? p->ip->saddr : p->ip->daddr;
	__be16 old_port = src ? p->sport : p->dport;
	/* a UDP checksum of 0 means "none": leave it, and never produce 0 */
	__u64 mangled = p->proto == IPPROTO_UDP ? BPF_F_MARK_MANGLED_0 : 0;

	/* p's packet pointers are invalid after the first helper call that may change the skb */
	bpf_l4_csum_replace(skb, check_off, old_addr, addr, BPF_F_PSEUDO_HDR | mangled | sizeof(addr));
	bpf_l4_csum_replace(skb, check_off, old_port, port, mangled | sizeof(port));
	bpf_l3_csum_replace(skb, EX_IP_OFF + offsetof(struct iphdr, check), old_addr, addr, sizeof(addr));
	bpf_skb_store_bytes(skb, EX_IP_OFF + (src ? offsetof(struct iphdr, saddr) : offsetof(struct iphdr, daddr)), &addr, sizeof(addr), 0);
	bpf_skb_store_bytes(skb, port_off, &port, sizeof(port), 0);
}
