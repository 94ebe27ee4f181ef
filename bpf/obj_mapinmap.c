// Maps of maps: an array of maps and a hash of maps declared with __array(values, …), filled
// statically at load time from `.values`. The program reads through the outer map.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct inner_map {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u32);
} inner_a SEC(".maps"), inner_b SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY_OF_MAPS);
	__uint(max_entries, 2);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_arr SEC(".maps") = {
	.values = { &inner_a, &inner_b },
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH_OF_MAPS);
	__uint(max_entries, 8);
	__type(key, __u32);
	__array(values, struct inner_map);
} outer_hash SEC(".maps") = {
	.values = { [3] = &inner_b },
};

/* outer_arr[1][0] + outer_hash[3][1] (both inner_b) */
SEC("xdp")
int through_outer(struct xdp_md *ctx)
{
	__u32 one = 1, three = 3, zero = 0;
	__u32 *a = 0, *b = 0;
	void *inner;

	inner = bpf_map_lookup_elem(&outer_arr, &one);
	if (inner)
		a = bpf_map_lookup_elem(inner, &zero);
	inner = bpf_map_lookup_elem(&outer_hash, &three);
	if (inner)
		b = bpf_map_lookup_elem(inner, &one);
	return (a ? *a : 0) + (b ? *b : 0);
}

char LICENSE[] SEC("license") = "GPL";
