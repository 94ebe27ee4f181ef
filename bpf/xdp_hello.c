// xdp-hello: one bpf_printk line per packet, read back from trace_pipe by examples/xdp-hello.ts.
#include "example_net.h"

SEC("xdp")
int xdp_hello(struct xdp_md *ctx)
{
	void *data = (void *)(long)ctx->data;
	void *end = (void *)(long)ctx->data_end;
	__u32 len = end - data;
	struct pkt4 p;

	if (parse_ipv4(data, end, &p) == 0) {
		__u32 saddr = p.ip->saddr, daddr = p.ip->daddr;
		/* %pI4 prints an IPv4 address given a pointer to its 4 bytes (kernel >= 5.13) */
		if (p.proto == IPPROTO_UDP || p.proto == IPPROTO_TCP)
			bpf_printk("xdp-hello: %pI4:%u > %pI4:%u proto %u len %u",
				   &saddr, bpf_ntohs(p.sport), &daddr, bpf_ntohs(p.dport), p.proto, len);
		else
			bpf_printk("xdp-hello: %pI4 > %pI4 proto %u len %u", &saddr, &daddr, p.proto, len);
	} else {
		struct ethhdr *eth = data;
		__u16 type = (void *)(eth + 1) <= end ? bpf_ntohs(eth->h_proto) : 0;
		bpf_printk("xdp-hello: ethertype 0x%04x len %u", type, len);
	}
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
