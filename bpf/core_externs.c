// Externs test program: .kconfig values (bool, tristate, int, char, string, LINUX_KERNEL_VERSION,
// weak missing ones), untyped __ksym
// (a kallsyms address), kfunc calls resolved to vmlinux BTF FUNC ids. Run with BPF_PROG_TEST_RUN
// (SCHED_CLS), it stores what it saw in .bss.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>


extern unsigned int LINUX_KERNEL_VERSION __kconfig;
extern bool CONFIG_BPF_SYSCALL __kconfig;
extern enum libbpf_tristate CONFIG_NF_CONNTRACK __kconfig __weak;
extern int CONFIG_HZ __kconfig;
extern unsigned long CONFIG_NR_CPUS __kconfig;
extern char CONFIG_LOCALVERSION[16] __kconfig __weak;
extern bool CONFIG_TSBPF_NO_SUCH_OPTION __kconfig __weak;
extern int CONFIG_TSBPF_NO_SUCH_NUMBER __kconfig __weak;

extern const void bpf_prog_put __ksym;
extern const void tsbpf_no_such_symbol __ksym __weak;

extern void *bpf_cast_to_kern_ctx(void *obj) __ksym;
extern struct task_struct *bpf_task_from_pid(s32 pid) __ksym;
extern void bpf_task_release(struct task_struct *p) __ksym;

__u32 out_version;
__u32 out_bpf_syscall;
__u32 out_conntrack;
__s32 out_hz;
__u64 out_nr_cpus;
char out_localversion[16];
__u32 out_no_such_option;
__s32 out_no_such_number;
__u64 out_prog_put;
__u64 out_no_such_symbol;
__u32 out_kern_len;
__s32 want_pid;
__s32 out_task_tgid = -1;

SEC("tc")
int externs(struct __sk_buff *ctx)
{
	struct sk_buff *skb = bpf_cast_to_kern_ctx(ctx);
	struct task_struct *t;

	out_version = LINUX_KERNEL_VERSION;
	out_bpf_syscall = CONFIG_BPF_SYSCALL;
	out_conntrack = CONFIG_NF_CONNTRACK;
	out_hz = CONFIG_HZ;
	out_nr_cpus = CONFIG_NR_CPUS;
	__builtin_memcpy(out_localversion, CONFIG_LOCALVERSION, sizeof(out_localversion));
	out_no_such_option = CONFIG_TSBPF_NO_SUCH_OPTION;
	out_no_such_number = CONFIG_TSBPF_NO_SUCH_NUMBER;

	out_prog_put = (__u64)&bpf_prog_put;
	out_no_such_symbol = (__u64)&tsbpf_no_such_symbol;

	out_kern_len = skb->len;
	t = bpf_task_from_pid(want_pid);
	if (t) {
		out_task_tgid = t->tgid;
		bpf_task_release(t);
	}
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
