// Tail calls through a statically initialised program array: the entry program jumps to the slot
// user space chose in `tail_index`; the slots are filled at load time from `.values`.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

__u32 tail_index;
__u32 tail_ran;

SEC("xdp")
int tail_zero(struct xdp_md *ctx)
{
	tail_ran = 10;
	return XDP_DROP;
}

SEC("xdp")
int tail_two(struct xdp_md *ctx)
{
	tail_ran = 12;
	return XDP_TX;
}

struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, 4);
	__type(key, __u32);
	__array(values, int (void *));
} jmp_table SEC(".maps") = {
	.values = {
		[0] = (void *)&tail_zero,
		[2] = (void *)&tail_two,
	},
};

SEC("xdp")
int tail_entry(struct xdp_md *ctx)
{
	bpf_tail_call(ctx, &jmp_table, tail_index);
	/* an empty slot: the tail call falls through */
	tail_ran = 1;
	return XDP_ABORTED;
}

char LICENSE[] SEC("license") = "GPL";
