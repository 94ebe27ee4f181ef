// Test program for lib/attach/netfilter.ts: a BPF_PROG_TYPE_NETFILTER program (kernel >= 6.4) that
// counts the packets it sees per L4 protocol (IPv4 protocol / IPv6 next header) and drops UDP to
// one port, accepting everything else.
//
// The context is struct bpf_nf_ctx { state, skb }: both read-only, trusted BTF pointers, read with
// CO-RE (vmlinux.h). The headers are copied with bpf_probe_read_kernel from skb->head at
// skb->network_header, which works at every inet hook whatever skb->data is. (The kernel's own
// verifier_netfilter_ctx selftest uses the bpf_dynptr_from_skb/bpf_dynptr_slice kfuncs instead;
// they work too, but an object with kfunc externs has BTF that only a loader resolving them makes
// loadable, and every test object here is also loaded as raw BTF.) The header bytes are read as
// bytes (no bitfields), so the object reads the same built for either byte order.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

#define NF_DROP 0
#define NF_ACCEPT 1
#define NFPROTO_IPV4 2
#define NFPROTO_IPV6 10
#define IPPROTO_UDP 17

/* packets seen, by L4 protocol number */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 256);
	__type(key, __u32);
	__type(value, __u64);
} packets SEC(".maps");

/* key 0: UDP datagrams dropped (to blocked_port) */
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} drops SEC(".maps");

/* UDP destination port to drop (host order); 0 drops nothing */
const volatile __u16 blocked_port = 0;

static __always_inline void bump(void *map, __u32 key)
{
	__u64 *v = bpf_map_lookup_elem(map, &key);

	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("netfilter")
int nf_count_drop(struct bpf_nf_ctx *ctx)
{
	struct sk_buff *skb = ctx->skb;
	unsigned char *l3 = skb->head + skb->network_header;
	__u8 ip[40], udp[4];
	__u32 proto, l4off;

	if (ctx->state->pf == NFPROTO_IPV4) {
		if (bpf_probe_read_kernel(ip, 20, l3))
			return NF_ACCEPT;
		proto = ip[9];
		l4off = (ip[0] & 0x0f) * 4;
		/* a fragment after the first carries no L4 header */
		if (((ip[6] & 0x1f) | ip[7]) != 0)
			l4off = 0;
	} else if (ctx->state->pf == NFPROTO_IPV6) {
		if (bpf_probe_read_kernel(ip, 40, l3))
			return NF_ACCEPT;
		proto = ip[6];
		l4off = 40; /* extension headers are not walked: their L4 is not looked at */
	} else {
		return NF_ACCEPT;
	}
	bump(&packets, proto);
	if (proto != IPPROTO_UDP || l4off < 20 || !blocked_port)
		return NF_ACCEPT;
	/* the ports are read from the linear data only (skb->tail is its end as an offset from
	 * head on 64-bit kernels): a header in paged fragments is not looked at */
	if (skb->network_header + l4off + sizeof(udp) > skb->tail ||
	    bpf_probe_read_kernel(udp, sizeof(udp), l3 + l4off))
		return NF_ACCEPT;
	if (((__u16)udp[2] << 8 | udp[3]) != blocked_port)
		return NF_ACCEPT;
	bump(&drops, 0);
	return NF_DROP;
}

char LICENSE[] SEC("license") = "GPL";
