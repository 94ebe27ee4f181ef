// Bad input: a proprietary license calling a GPL-only helper (bpf_trace_printk); the verifier's
// words must reach the user. A map is created first so the test sees it released.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} lic_map SEC(".maps");

SEC("xdp")
int gpl_only(struct xdp_md *ctx)
{
	static const char fmt[] = "hi %d\n";
	__u32 k = 0;
	__u64 *v = bpf_map_lookup_elem(&lic_map, &k);

	bpf_trace_printk(fmt, sizeof(fmt), v ? *v : 0);
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "Proprietary";
