// Programs whose attach target is a kernel BTF id resolved at load time from the section name.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

SEC("fentry/do_nanosleep")
int t_fentry(void *ctx) { return 0; }

SEC("fexit/do_nanosleep")
int t_fexit(void *ctx) { return 0; }

SEC("tp_btf/sched_switch")
int t_tp_btf(void *ctx) { return 0; }

SEC("lsm/file_open")
int t_lsm(void *ctx) { return 0; }

SEC("iter/task")
int t_iter(void *ctx) { return 0; }

char LICENSE[] SEC("license") = "GPL";
