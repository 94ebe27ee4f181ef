// Constants clang moves to mergeable sections (.rodata.cst32, .rodata.str1.1) while their BTF
// VARs stay in DATASEC .rodata (clang 14): libbpf loads such objects without BTF; so must we.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

static __u64 table[4] = {10, 20, 30, 40};
static const char hex[] = "0123456789abcdef";
const volatile __u32 mult = 3;
__u64 result;

SEC("xdp")
int mergeable(struct xdp_md *ctx)
{
	__u32 i = ctx->ingress_ifindex & 3;
	result = table[i] * mult + hex[i + 10];
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
