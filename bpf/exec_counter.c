// exec-counter: counts program executions per command name from the sched:sched_process_exec
// tracepoint, with what it knows about the last one: pid, the parent's pid and the user id, read from
// the kernel's task_struct with CO-RE (BPF_CORE_READ: the offsets are fixed up at load time for the
// running kernel, so the object is not tied to the vmlinux.h it was compiled against).
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

struct exec_key {
	char comm[16];
};

struct exec_info {
	__u64 count;
	__u32 pid;
	__u32 ppid;
	__u32 uid;
	__u32 pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 10240);
	__type(key, struct exec_key);
	__type(value, struct exec_info);
} execs SEC(".maps");

SEC("tracepoint/sched/sched_process_exec")
int count_exec(void *ctx)
{
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	struct exec_key key = {};
	struct exec_info *info, fresh = {};

	/* exec has already given the task its new name */
	BPF_CORE_READ_STR_INTO(&key.comm, task, comm);
	info = bpf_map_lookup_elem(&execs, &key);
	if (!info) {
		bpf_map_update_elem(&execs, &key, &fresh, BPF_NOEXIST);
		info = bpf_map_lookup_elem(&execs, &key);
		if (!info)
			return 0;
	}
	__sync_fetch_and_add(&info->count, 1);
	info->pid = BPF_CORE_READ(task, tgid);
	info->ppid = BPF_CORE_READ(task, real_parent, tgid);
	info->uid = BPF_CORE_READ(task, cred, uid.val);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
