// Test programs for lib/attach/reuseport.ts. select_by_payload picks the socket of a UDP
// SO_REUSEPORT group by the first payload byte: '0'..'3' is that index of `socks` (a
// REUSEPORT_SOCKARRAY), 'd' drops the datagram, anything else is left to the kernel's hash.
// pick_second is the older form (a socket filter program): it returns index 1 of the group.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/udp.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_REUSEPORT_SOCKARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} socks SEC(".maps");

enum verdict { SELECTED, DROPPED, HASHED, SELECT_FAILED, VERDICTS };

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, VERDICTS);
	__type(key, __u32);
	__type(value, __u64);
} verdicts SEC(".maps");

static __always_inline int count(__u32 v, int ret)
{
	__u64 *n = bpf_map_lookup_elem(&verdicts, &v);
	if (n)
		__sync_fetch_and_add(n, 1);
	return ret;
}

SEC("sk_reuseport")
int select_by_payload(struct sk_reuseport_md *md)
{
	/* for UDP, data starts at the UDP header */
	__u8 *first = (__u8 *)md->data + sizeof(struct udphdr);
	if (md->ip_protocol != 17 || (void *)(first + 1) > md->data_end)
		return count(HASHED, SK_PASS);
	if (*first == 'd')
		return count(DROPPED, SK_DROP);
	if (*first < '0' || *first > '3')
		return count(HASHED, SK_PASS);
	__u32 key = *first - '0';
	if (bpf_sk_select_reuseport(md, &socks, &key, 0))
		return count(SELECT_FAILED, SK_DROP);
	return count(SELECTED, SK_PASS);
}

SEC("socket")
int pick_second(struct __sk_buff *skb)
{
	return 1;
}

char _license[] SEC("license") = "GPL";
