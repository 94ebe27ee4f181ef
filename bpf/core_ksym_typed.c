// A typed __ksym: the per-CPU runqueues variable by its vmlinux BTF id (LD_IMM64 PSEUDO_BTF_ID).
// The kernel then looks its address up in kallsyms, which holds data symbols only with
// CONFIG_KALLSYMS_ALL: where that is off, the verifier's refusal names the symbol the id denotes.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>

extern const struct rq runqueues __ksym;

__s32 out_rq_cpu = -1;

SEC("tc")
int ksym_typed(struct __sk_buff *ctx)
{
	struct rq *rq = bpf_per_cpu_ptr(&runqueues, 0);

	if (rq)
		out_rq_cpu = rq->cpu;
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
