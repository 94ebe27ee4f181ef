// nf_firewall: a small stateless IPv4 firewall on a netfilter hook (SEC("netfilter"), kernel >= 6.4),
// the program of examples/nf-firewall.ts. Userspace fills two rule maps:
//   deny_src   LPM_TRIE  {prefixlen, source prefix}      -> rule number  (longest prefix wins)
//   deny_port  HASH      {destination port, protocol}    -> rule number  (UDP and TCP)
// A packet is dropped (NF_DROP) by the first rule it matches, source prefixes first; every other
// packet is accepted (NF_ACCEPT). Packets and bytes (IP total length) are counted per rule in a
// per-CPU array indexed by rule number, and in per-CPU totals: dropped, accepted, and packets that
// came in through another interface than `ifindex` (accepted without a look).
//
// The packet is read through a dynptr over the skb (bpf_dynptr_from_skb + bpf_dynptr_slice, the
// kfuncs the kernel gives netfilter programs): at the IPv4 prerouting, input and forward hooks
// skb->data is the IP header, and a slice copies what is not in the linear part, so ports that sit
// in paged fragments (GRO, napi_gro_frags drivers) are seen too. Non-first fragments carry no
// ports: they are matched by source only (dropping the first fragment is enough to stop a
// datagram, unless the link was made with defrag, in which case the program sees whole datagrams).
// Headers are declared here byte by byte (no bitfields), so the object reads the same built for
// either byte order.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

#define NF_DROP 0
#define NF_ACCEPT 1
#define NFPROTO_IPV4 2
#define IPPROTO_TCP 6
#define IPPROTO_UDP 17

/* rule numbers are indexes of rule_stats */
#define MAX_RULES 64

/* the key of deny_src, as LPM tries want it: prefix length in bits, then the address bytes */
struct src_rule {
	__u32 prefixlen;
	__be32 addr;
};

/* the key of deny_port: explicit zero padding, the key is hashed byte by byte */
struct port_rule {
	__be16 port;
	__u8 proto;     /* IPPROTO_UDP or IPPROTO_TCP */
	__u8 pad;
};

struct counter {
	__u64 packets;
	__u64 bytes;    /* IP total length */
};

/* totals' indexes */
enum {
	TOTAL_DROPPED = 0,
	TOTAL_ACCEPTED = 1,
	TOTAL_OTHER_INTERFACE = 2,
	TOTAL_N,
};

struct {
	__uint(type, BPF_MAP_TYPE_LPM_TRIE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__uint(max_entries, MAX_RULES);
	__type(key, struct src_rule);
	__type(value, __u32);
} deny_src SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_RULES);
	__type(key, struct port_rule);
	__type(value, __u32);
} deny_port SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_RULES);
	__type(key, __u32);
	__type(value, struct counter);
} rule_stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, TOTAL_N);
	__type(key, __u32);
	__type(value, struct counter);
} totals SEC(".maps");

/* only packets that came in through this interface are looked at; 0: every interface */
const volatile __u32 ifindex = 0;

extern int bpf_dynptr_from_skb(struct __sk_buff *skb, __u64 flags, struct bpf_dynptr *ptr__uninit) __ksym;
extern void *bpf_dynptr_slice(const struct bpf_dynptr *ptr, __u32 offset, void *buffer__opt, __u32 buffer__szk) __ksym;

struct ipv4 {
	__u8 version_ihl;
	__u8 tos;
	__be16 tot_len;
	__be16 id;
	__be16 frag_off;
	__u8 ttl;
	__u8 protocol;
	__be16 check;
	__be32 saddr;
	__be32 daddr;
};

static __always_inline void count(void *map, __u32 key, __u64 bytes)
{
	struct counter *c = bpf_map_lookup_elem(map, &key);

	/* per-CPU: no atomics, userspace adds the CPUs' values */
	if (c) {
		c->packets++;
		c->bytes += bytes;
	}
}

static __always_inline int drop(__u32 rule, __u64 bytes)
{
	count(&rule_stats, rule, bytes);
	count(&totals, TOTAL_DROPPED, bytes);
	return NF_DROP;
}

SEC("netfilter")
int nf_firewall(struct bpf_nf_ctx *ctx)
{
	const struct nf_hook_state *state = ctx->state;
	struct bpf_dynptr ptr;
	struct ipv4 ipbuf, *ip;
	__be16 portbuf[2], *ports;
	struct src_rule src = { .prefixlen = 32 };
	struct port_rule dst = {};
	__u32 *rule, l4off;
	__u64 len;

	if (state->pf != NFPROTO_IPV4)
		return NF_ACCEPT;
	if (ifindex) {
		struct net_device *in = state->in;

		/* no input device (output hooks) or another one: not this firewall's traffic */
		if (!in || in->ifindex != ifindex) {
			count(&totals, TOTAL_OTHER_INTERFACE, ctx->skb->len);
			return NF_ACCEPT;
		}
	}
	if (bpf_dynptr_from_skb((struct __sk_buff *)ctx->skb, 0, &ptr))
		return NF_ACCEPT;
	ip = bpf_dynptr_slice(&ptr, 0, &ipbuf, sizeof(ipbuf));
	if (!ip)
		return NF_ACCEPT;    /* shorter than an IP header: the stack has already refused those */
	len = bpf_ntohs(ip->tot_len);

	src.addr = ip->saddr;
	rule = bpf_map_lookup_elem(&deny_src, &src);
	if (rule)
		return drop(*rule, len);

	if ((ip->protocol == IPPROTO_UDP || ip->protocol == IPPROTO_TCP) &&
	    !(ip->frag_off & bpf_htons(0x1fff))) {
		l4off = (ip->version_ihl & 0x0f) * 4;
		/* both UDP and TCP begin with the source and destination ports */
		ports = bpf_dynptr_slice(&ptr, l4off, portbuf, sizeof(portbuf));
		if (ports) {
			dst.port = ports[1];
			dst.proto = ip->protocol;
			rule = bpf_map_lookup_elem(&deny_port, &dst);
			if (rule)
				return drop(*rule, len);
		}
	}
	count(&totals, TOTAL_ACCEPTED, len);
	return NF_ACCEPT;
}

char LICENSE[] SEC("license") = "GPL";
