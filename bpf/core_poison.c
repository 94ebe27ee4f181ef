// Bad input for CO-RE: an unguarded read of a field this kernel does not have (task_struct.state
// became __state in 5.14). The relocation is poisoned; the verifier reaches it and refuses the program.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

__u64 out_state;

SEC("tc")
int core_poisoned(struct __sk_buff *ctx)
{
	struct task_struct___old *t = (void *)bpf_get_current_task();

	out_state = BPF_CORE_READ(t, state);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
