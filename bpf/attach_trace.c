// Test programs for lib/attach/tracepoint.ts: count getppid() calls per thread, from the
// syscalls:sys_enter_getppid tracepoint and from the sys_enter raw tracepoint. getppid because
// nothing else in a Node process calls it: V8 calls getpid() at every GC (GCTracer::Print) and
// Node at every process.env read, which made a count of getpid() calls one too high now and then.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 4096);
	__type(key, __u32);   /* thread id */
	__type(value, __u64); /* calls seen */
} calls SEC(".maps");

/* the system call number the raw tracepoint counts (getppid's differs per architecture) */
const volatile __u64 syscall_nr = 0;

static __always_inline void count_thread(void)
{
	__u32 tid = (__u32)bpf_get_current_pid_tgid();
	__u64 one = 1, *v = bpf_map_lookup_elem(&calls, &tid);
	if (v)
		__sync_fetch_and_add(v, 1);
	else
		bpf_map_update_elem(&calls, &tid, &one, BPF_NOEXIST);
}

SEC("tracepoint/syscalls/sys_enter_getppid")
int tp_getppid(void *ctx)
{
	count_thread();
	return 0;
}

/* raw_syscalls:sys_enter: args[0] is the pt_regs pointer, args[1] the system call number */
SEC("raw_tracepoint/sys_enter")
int raw_sys_enter(struct bpf_raw_tracepoint_args *ctx)
{
	if (ctx->args[1] == syscall_nr)
		count_thread();
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
