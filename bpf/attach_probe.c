// Test programs for lib/attach/probe.ts: a uprobe and a uretprobe that count calls per process
// (tgid) and keep the last first argument, return value and attach cookie, for a function of a
// test binary (sections without a target: the test names it) and for libc's getppid (sections
// naming it, libbpf style: Node's process.ppid calls uv_os_getppid → getppid, nothing else in Node
// does). The kprobe pair counts the getppid system call where the kernel has kprobes.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
/* the Makefile builds for this machine; registers are named per architecture in bpf_tracing.h */
#if !defined(__TARGET_ARCH_x86) && !defined(__TARGET_ARCH_arm64) && !defined(__TARGET_ARCH_riscv) && !defined(__TARGET_ARCH_s390)
#define __TARGET_ARCH_x86
#endif
#include <bpf/bpf_tracing.h>

struct probe_stats {
	__u64 calls;       /* entries seen */
	__u64 returns;     /* returns seen */
	__u64 last_arg;    /* first argument of the last entry */
	__u64 last_ret;    /* return value of the last return */
	__u64 entry_cookie;
	__u64 return_cookie;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, __u32);   /* tgid */
	__type(value, struct probe_stats);
} stats SEC(".maps");

static __always_inline struct probe_stats *stats_of_process(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	struct probe_stats zero = {}, *s = bpf_map_lookup_elem(&stats, &tgid);
	if (s)
		return s;
	bpf_map_update_elem(&stats, &tgid, &zero, BPF_NOEXIST);
	return bpf_map_lookup_elem(&stats, &tgid);
}

static __always_inline int on_entry(struct pt_regs *ctx)
{
	struct probe_stats *s = stats_of_process();
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->calls, 1);
	s->last_arg = PT_REGS_PARM1(ctx);
	s->entry_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

static __always_inline int on_return(struct pt_regs *ctx)
{
	struct probe_stats *s = stats_of_process();
	if (!s)
		return 0;
	__sync_fetch_and_add(&s->returns, 1);
	s->last_ret = PT_REGS_RC(ctx);
	s->return_cookie = bpf_get_attach_cookie(ctx);
	return 0;
}

SEC("uprobe")
int probe_entry(struct pt_regs *ctx)
{
	return on_entry(ctx);
}

SEC("uretprobe")
int probe_return(struct pt_regs *ctx)
{
	return on_return(ctx);
}

SEC("uprobe/libc.so.6:getppid")
int getppid_entry(struct pt_regs *ctx)
{
	return on_entry(ctx);
}

SEC("uretprobe/libc.so.6:getppid")
int getppid_return(struct pt_regs *ctx)
{
	return on_return(ctx);
}

SEC("kprobe/__x64_sys_getppid")
int kprobe_getppid(struct pt_regs *ctx)
{
	return on_entry(ctx);
}

SEC("kretprobe/__x64_sys_getppid")
int kretprobe_getppid(struct pt_regs *ctx)
{
	return on_return(ctx);
}

char LICENSE[] SEC("license") = "GPL";
