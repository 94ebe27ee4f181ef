// BPF-to-BPF calls: static and global functions in .text, nested calls, a subprogram shared by
// programs in different sections (each program gets its own appended copy), and a global function
// taking the context. Results come back as the programs' return values.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

__u32 sub_calls;

static __noinline int add_static(int a, int b)
{
	sub_calls++;
	return a + b;
}

static __noinline int twice(int x)
{
	return add_static(x, x);
}

__noinline int mul_global(int a, int b)
{
	return a * b;
}

__noinline int len_global(struct xdp_md *ctx)
{
	if (!ctx)
		return 0;
	return ctx->data_end - ctx->data;
}

/* twice(3) + mul_global(2, 5) = 16 */
SEC("xdp")
int sub_first(struct xdp_md *ctx)
{
	return twice(3) + mul_global(2, 5);
}

/* add_static(20, 1) + twice(1) + packet length */
SEC("xdp")
int sub_second(struct xdp_md *ctx)
{
	return add_static(20, 1) + twice(1) + len_global(ctx);
}

/* only a global function: mul_global(6, 7) = 42 */
SEC("tc")
int sub_tc(struct __sk_buff *skb)
{
	return mul_global(6, 7);
}

char LICENSE[] SEC("license") = "GPL";
