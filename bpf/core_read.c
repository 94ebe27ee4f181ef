// CO-RE test program: reads kernel structs through relocations of every kind, against this
// machine's vmlinux.h. Run with BPF_PROG_TEST_RUN (SCHED_CLS: the context is the kernel's sk_buff),
// it stores what it read in .bss for the test to compare with what the kernel and libbpf say.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

// flavours: the same struct as two kernel generations define it (task_struct.state became __state in 5.14)
struct task_struct___old {
	long state;
} __attribute__((preserve_access_index));

struct task_struct___new {
	unsigned int __state;
} __attribute__((preserve_access_index));

// a flavoured enum: local values differ from the kernel's, the relocated value is the kernel's
enum bpf_map_type___local {
	BPF_MAP_TYPE_RINGBUF___local = 1000,
	BPF_MAP_TYPE_NO_SUCH_TYPE___local = 1001,
};

// a type no kernel has
struct tsbpf_no_such_struct {
	int x;
};

__u32 out_len;
__u32 out_len_size;
__u32 out_len_offset;
__u16 out_protocol;
__u64 out_pkt_type;
__u32 out_pkt_type_probed;
__u32 out_tgid;
__u32 out_pid;
char out_comm[16];
__u64 out_state;
__u32 out_has_old_state;
__u32 out_has_new_state;
__u64 out_ringbuf_value;
__u32 out_ringbuf_exists;
__u32 out_nosuch_enum_exists;
__u32 out_skb_exists;
__u32 out_nosuch_exists;
__u32 out_skb_size;
__u32 out_task_id_kernel;
__u32 out_task_id_local;
__u32 out_task_matches;
__u32 out_nosuch_matches;
__u32 out_parent_tgid;
__u32 out_sub_tgid;

// a subprogram in .text with relocations of its own (relocated in its section, then appended)
static __attribute__((noinline)) __u32 read_tgid(struct task_struct *t)
{
	return BPF_CORE_READ(t, tgid);
}

SEC("tc")
int core_read(struct __sk_buff *ctx)
{
	// for SCHED_CLS the context the program gets is the kernel's struct sk_buff
	struct sk_buff *skb = (struct sk_buff *)(long)ctx;
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct task_struct___new *tn = (void *)task;
	struct task_struct___old *to = (void *)task;

	out_len = BPF_CORE_READ(skb, len);
	out_len_size = bpf_core_field_size(skb->len);
	out_len_offset = bpf_core_field_offset(skb->len);
	out_protocol = BPF_CORE_READ(skb, protocol);
	out_pkt_type = BPF_CORE_READ_BITFIELD_PROBED(skb, pkt_type);

	out_tgid = BPF_CORE_READ(task, tgid);
	out_pid = BPF_CORE_READ(task, pid);
	out_parent_tgid = BPF_CORE_READ(task, real_parent, tgid);
	out_sub_tgid = read_tgid(task);
	BPF_CORE_READ_STR_INTO(&out_comm, task, comm);

	out_has_new_state = bpf_core_field_exists(tn->__state);
	out_has_old_state = bpf_core_field_exists(to->state);
	if (bpf_core_field_exists(tn->__state))
		out_state = BPF_CORE_READ(tn, __state);
	else
		out_state = BPF_CORE_READ(to, state); // poisoned on new kernels: dead code the verifier drops

	out_ringbuf_exists = bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___local);
	if (out_ringbuf_exists)
		out_ringbuf_value = bpf_core_enum_value(enum bpf_map_type___local, BPF_MAP_TYPE_RINGBUF___local);
	out_nosuch_enum_exists = bpf_core_enum_value_exists(enum bpf_map_type___local, BPF_MAP_TYPE_NO_SUCH_TYPE___local);

	out_skb_exists = bpf_core_type_exists(struct sk_buff);
	out_nosuch_exists = bpf_core_type_exists(struct tsbpf_no_such_struct);
	out_skb_size = bpf_core_type_size(struct sk_buff);
	out_task_id_kernel = bpf_core_type_id_kernel(struct task_struct);
	out_task_id_local = bpf_core_type_id_local(struct task_struct);
#if __clang_major__ >= 15 // TYPE_MATCHES is new in clang 15 (clang 14 crashes on it)
	out_task_matches = bpf_core_type_matches(struct task_struct___new);
	out_nosuch_matches = bpf_core_type_matches(struct tsbpf_no_such_struct);
#else
	out_task_matches = 1;
#endif
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
