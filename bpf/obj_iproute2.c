// iproute2's longer map definition (struct bpf_elf_map: id, pinning, inner map fields after the
// five libbpf fields) in the "maps" section, as tc's own examples are written.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/pkt_cls.h>
#include <bpf/bpf_helpers.h>

struct bpf_elf_map {
	__u32 type;
	__u32 size_key;
	__u32 size_value;
	__u32 max_elem;
	__u32 flags;
	__u32 id;
	__u32 pinning;
	__u32 inner_id;
	__u32 inner_idx;
};

#define PIN_GLOBAL_NS 2

struct bpf_elf_map SEC("maps") tc_stats = {
	.type = BPF_MAP_TYPE_ARRAY,
	.size_key = sizeof(__u32),
	.size_value = sizeof(__u64),
	.max_elem = 4,
	.pinning = PIN_GLOBAL_NS,
};

SEC("classifier")
int tc_count(struct __sk_buff *skb)
{
	__u32 key = 0;
	__u64 *n = bpf_map_lookup_elem(&tc_stats, &key);

	if (n)
		__sync_fetch_and_add(n, 1);
	return TC_ACT_OK;
}

char __license[] SEC("license") = "GPL";
