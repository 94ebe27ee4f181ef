// Test program for lib/attach/socket-filter.ts, for UDP and AF_PACKET sockets alike (it reads from
// the network header, which both see): keeps IPv4 UDP datagrams to `port` unless their payload
// starts with 'd', drops everything else, and counts what it did.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

#define V_KEPT 0
#define V_DROPPED 1 /* UDP to port, payload starting with 'd' */
#define V_OTHER 2   /* anything else (dropped) */

const volatile __u16 port = 0;

static __always_inline int count(__u32 key, int verdict)
{
	__u64 *v = bpf_map_lookup_elem(&verdicts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
	return verdict;
}

SEC("socket")
int udp_filter(struct __sk_buff *skb)
{
	__u8 vihl, proto, first;
	__be16 dport;
	__u32 l4;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return count(V_OTHER, 0);
	if (bpf_skb_load_bytes_relative(skb, 0, &vihl, 1, BPF_HDR_START_NET) ||
	    bpf_skb_load_bytes_relative(skb, 9, &proto, 1, BPF_HDR_START_NET) || proto != IPPROTO_UDP)
		return count(V_OTHER, 0);
	l4 = (vihl & 0xf) * 4;
	if (bpf_skb_load_bytes_relative(skb, l4 + 2, &dport, 2, BPF_HDR_START_NET) || bpf_ntohs(dport) != port)
		return count(V_OTHER, 0);
	if (bpf_skb_load_bytes_relative(skb, l4 + 8, &first, 1, BPF_HDR_START_NET) == 0 && first == 'd')
		return count(V_DROPPED, 0);
	return count(V_KEPT, skb->len);
}

char LICENSE[] SEC("license") = "GPL";
