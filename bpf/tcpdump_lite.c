// tcpdump-lite: TC programs on ingress and egress stream one small record per IPv4 packet through
// a ring buffer; examples/tcpdump-lite.ts prints them like tcpdump does.
#include <linux/pkt_cls.h>
#include "example_net.h"

enum direction { DIR_IN = 0, DIR_OUT = 1 };

struct event {
	__be32 saddr;
	__be32 daddr;
	__u16 sport;    /* host order, 0 without ports */
	__u16 dport;
	__u8 proto;
	__u8 dir;       /* enum direction */
	__u16 len;      /* what tcpdump calls length: the transport payload (ICMP: the ICMP message) */
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

static __always_inline int emit(struct __sk_buff *skb, __u8 dir)
{
	void *end = (void *)(long)skb->data_end;
	struct pkt4 p;
	struct event *e;
	__u32 ip_len, hdr;

	if (parse_ipv4((void *)(long)skb->data, end, &p) != 0)
		return TC_ACT_OK;
	ip_len = bpf_ntohs(p.ip->tot_len);
	hdr = p.ip->ihl * 4;
	if (p.proto == IPPROTO_UDP)
		hdr += sizeof(struct udphdr);
	else if (p.proto == IPPROTO_TCP && p.l4 && p.l4 + sizeof(struct tcphdr) <= end)
		hdr += ((struct tcphdr *)p.l4)->doff * 4;

	e = bpf_ringbuf_reserve(&events, sizeof(*e), 0);
	if (!e)
		return TC_ACT_OK;   /* ring full: the reader is behind, drop the record, not the packet */
	e->saddr = p.ip->saddr;
	e->daddr = p.ip->daddr;
	e->sport = bpf_ntohs(p.sport);
	e->dport = bpf_ntohs(p.dport);
	e->proto = p.proto;
	e->dir = dir;
	e->len = ip_len > hdr ? ip_len - hdr : 0;
	bpf_ringbuf_submit(e, 0);
	return TC_ACT_OK;
}

SEC("tc")
int tcpdump_ingress(struct __sk_buff *skb)
{
	return emit(skb, DIR_IN);
}

SEC("tc")
int tcpdump_egress(struct __sk_buff *skb)
{
	return emit(skb, DIR_OUT);
}

char LICENSE[] SEC("license") = "GPL";
