// Test programs for lib/attach/uprobe-multi.ts: uprobe.multi programs that count, per process (tgid),
// per attach cookie and per kind (entry, return, sleepable entry), the calls they see and the sum of
// the first argument (entries) or of the return value (returns). A cookie tells which function of a
// multi link fired, so one map answers "how often was each function called, by whom". The libc
// program names its target in its section, libbpf style, with a '?' glob: getppid is what Node's
// process.ppid calls. plain_uprobe is the wrong kind of program for a uprobe.multi link.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/ptrace.h>
#include <bpf/bpf_helpers.h>
/* the Makefile builds for this machine; registers are named per architecture in bpf_tracing.h */
#if !defined(__TARGET_ARCH_x86) && !defined(__TARGET_ARCH_arm64) && !defined(__TARGET_ARCH_riscv) && !defined(__TARGET_ARCH_s390)
#define __TARGET_ARCH_x86
#endif
#include <bpf/bpf_tracing.h>

enum hit_kind { HIT_ENTRY = 0, HIT_RETURN = 1, HIT_SLEEPABLE = 2 };

struct hit_key {
	__u32 tgid;
	__u32 kind;   /* enum hit_kind */
	__u64 cookie; /* bpf_get_attach_cookie(): which probe of the link */
};

struct hit {
	__u64 count;
	__u64 sum; /* of the first argument (entries) or of the return value (returns) */
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1024);
	__type(key, struct hit_key);
	__type(value, struct hit);
} hits SEC(".maps");

static __always_inline void count(struct pt_regs *ctx, __u32 kind, __u64 value)
{
	struct hit_key key = {
		.tgid = bpf_get_current_pid_tgid() >> 32,
		.kind = kind,
		.cookie = bpf_get_attach_cookie(ctx),
	};
	struct hit zero = {}, *h = bpf_map_lookup_elem(&hits, &key);
	if (!h) {
		bpf_map_update_elem(&hits, &key, &zero, BPF_NOEXIST);
		h = bpf_map_lookup_elem(&hits, &key);
		if (!h)
			return;
	}
	__sync_fetch_and_add(&h->count, 1);
	__sync_fetch_and_add(&h->sum, value);
}

SEC("uprobe.multi")
int multi_entry(struct pt_regs *ctx)
{
	count(ctx, HIT_ENTRY, PT_REGS_PARM1(ctx));
	return 0;
}

SEC("uretprobe.multi")
int multi_return(struct pt_regs *ctx)
{
	count(ctx, HIT_RETURN, PT_REGS_RC(ctx));
	return 0;
}

SEC("uprobe.multi.s")
int multi_sleepable(struct pt_regs *ctx)
{
	count(ctx, HIT_SLEEPABLE, PT_REGS_PARM1(ctx));
	return 0;
}

SEC("uprobe.multi/libc.so.6:getpp?d")
int multi_getppid(struct pt_regs *ctx)
{
	count(ctx, HIT_ENTRY, 0);
	return 0;
}

SEC("uprobe")
int plain_uprobe(struct pt_regs *ctx)
{
	count(ctx, HIT_ENTRY, 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
