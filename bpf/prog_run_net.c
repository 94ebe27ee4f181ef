// Programs for the BPF_PROG_TEST_RUN tests (test/privileged/prog-run.test.ts): XDP and TC
// programs that grow their packet as far as the kernel lets them (so the output is as large as
// a test run can make it), and programs whose verdict and packet depend on their context
// (struct xdp_md, struct __sk_buff) so the context's way in and out can be checked.
#include <linux/pkt_cls.h>
#include "example_net.h"

/* XDP: push the packet's start back and its end out, each as far as the kernel allows. */
SEC("xdp")
int xdp_grow(struct xdp_md *ctx)
{
	for (int i = 0; i < 64; i++)
		if (bpf_xdp_adjust_head(ctx, -8))
			break;
	for (int i = 0; i < 8; i++)
		if (bpf_xdp_adjust_head(ctx, -1))
			break;
	for (int i = 0; i < 128; i++)
		if (bpf_xdp_adjust_tail(ctx, 64))
			break;
	for (int i = 0; i < 64; i++)
		if (bpf_xdp_adjust_tail(ctx, 1))
			break;
	return XDP_TX;
}

/* XDP: the first 4 bytes of metadata when there are some, else ingress_ifindex * 16 + rx_queue_index. */
SEC("xdp")
int xdp_ctx(struct xdp_md *ctx)
{
	void *meta = (void *)(long)ctx->data_meta;
	void *data = (void *)(long)ctx->data;

	if (meta + 4 <= data)
		return *(__u32 *)meta;
	return ctx->ingress_ifindex * 16 + ctx->rx_queue_index;
}

/*
 * TC: grow the packet at its end, then at its start, each as far as the kernel allows
 * (bpf_skb_change_tail stops at SKB_MAX_ALLOC, bpf_skb_change_head at the device's MTU).
 */
SEC("tc")
int tc_grow(struct __sk_buff *skb)
{
	__u32 len = skb->len;

	for (int i = 0; i < 128; i++) {
		if (bpf_skb_change_tail(skb, len + 1024, 0))
			break;
		len += 1024;
	}
	for (int i = 0; i < 1024; i++) {
		if (bpf_skb_change_tail(skb, len + 1, 0))
			break;
		len += 1;
	}
	for (int i = 0; i < 128; i++)
		if (bpf_skb_change_head(skb, 1024, 0))
			break;
	for (int i = 0; i < 1024; i++)
		if (bpf_skb_change_head(skb, 1, 0))
			break;
	return TC_ACT_OK;
}

/*
 * TC: the context in and out. mark + 1, priority * 2, cb[0] = ingress_ifindex, cb[1] = ifindex,
 * cb[2] = wire_len, cb[3] = len; the verdict is cb[4] as given. The packet's first byte (the
 * destination MAC) becomes the low byte of the mark it came with.
 */
SEC("tc")
int tc_ctx(struct __sk_buff *skb)
{
	void *data = (void *)(long)skb->data;
	void *end = (void *)(long)skb->data_end;
	__u32 verdict = skb->cb[4];

	if (data + 1 <= end)
		*(__u8 *)data = skb->mark & 0xff;
	skb->mark = skb->mark + 1;
	skb->priority = skb->priority * 2;
	skb->cb[0] = skb->ingress_ifindex;
	skb->cb[1] = skb->ifindex;
	skb->cb[2] = skb->wire_len;
	skb->cb[3] = skb->len;
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
