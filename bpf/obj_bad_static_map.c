// Bad input: a map declared static in .maps (libbpf refuses such maps; so does tsbpf, by name).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

static struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} hidden_map SEC(".maps");

SEC("xdp")
int uses_static_map(struct xdp_md *ctx)
{
	__u32 k = 0;
	__u32 *v = bpf_map_lookup_elem(&hidden_map, &k);

	return v ? *v : 0;
}

char LICENSE[] SEC("license") = "GPL";
