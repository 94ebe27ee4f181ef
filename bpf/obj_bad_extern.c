// Bad input: code referring to a symbol defined nowhere (an extern outside .kconfig/.ksyms).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

extern __u32 missing_symbol;

SEC("xdp")
int uses_missing(struct xdp_md *ctx)
{
	return missing_symbol;
}

char LICENSE[] SEC("license") = "GPL";
