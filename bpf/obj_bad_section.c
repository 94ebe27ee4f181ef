// Bad input: a program in a section no catalog entry matches (the loader must name it, not guess).
#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>

SEC("xdp")
int fine_prog(void *ctx) { return 2; }

SEC("nonsense/thing")
int lost_prog(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
