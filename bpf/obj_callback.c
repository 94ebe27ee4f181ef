// Callbacks: static functions passed by address (LD_IMM64 PSEUDO_FUNC) to bpf_loop and
// bpf_for_each_map_elem. The sums come back as return values.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__type(value, __u64);
} cb_values SEC(".maps");

struct bpf_map;

struct loop_ctx {
	__u64 sum;
};

static int add_index(__u32 index, void *data)
{
	struct loop_ctx *c = data;

	c->sum += index;
	return 0;
}

static __u64 sum_elem(struct bpf_map *map, __u32 *key, __u64 *val, struct loop_ctx *c)
{
	c->sum += *val;
	return 0;
}

/* 0 + 1 + … + (loop_count - 1) */
__u32 loop_count = 10;

SEC("xdp")
int loop_prog(struct xdp_md *ctx)
{
	struct loop_ctx c = { 0 };

	bpf_loop(loop_count, add_index, &c, 0);
	return c.sum;
}

/* the sum of cb_values' four values */
SEC("xdp")
int each_prog(struct xdp_md *ctx)
{
	struct loop_ctx c = { 0 };

	bpf_for_each_map_elem(&cb_values, sum_elem, &c, 0);
	return c.sum;
}

char LICENSE[] SEC("license") = "GPL";
