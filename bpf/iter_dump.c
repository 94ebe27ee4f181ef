// BPF iterators for lib/attach/iter.ts: each run walks kernel objects and writes text (or bytes) that
// userspace reads from the iterator's fd, as /proc files are read. A TCP socket table like
// /proc/net/tcp or `ss -tan`, the tasks of a process, and the elements of a map.
#include "vmlinux.h"
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>
#include <bpf/bpf_tracing.h>

/* one line per TCP socket of the reader's network namespace (listeners, connections, time-wait):
 * "LADDR:LPORT RADDR:RPORT STATE UID" with STATE the kernel's TCP_* number (10 = LISTEN) */
SEC("iter/tcp")
int dump_tcp(struct bpf_iter__tcp *ctx)
{
	struct sock_common *skc = ctx->sk_common;
	struct seq_file *seq = ctx->meta->seq;

	if (!skc)
		return 0;
	if (skc->skc_family != 2 /* AF_INET */)
		return 0;
	BPF_SEQ_PRINTF(seq, "%pI4:%u %pI4:%u %u %u\n", &skc->skc_rcv_saddr, skc->skc_num,
		       &skc->skc_daddr, bpf_ntohs(skc->skc_dport), skc->skc_state, ctx->uid);
	return 0;
}

/* "TGID TID COMM" per thread */
SEC("iter/task")
int dump_task(struct bpf_iter__task *ctx)
{
	struct task_struct *task = ctx->task;
	struct seq_file *seq = ctx->meta->seq;

	if (!task)
		return 0;
	BPF_SEQ_PRINTF(seq, "%d %d %s\n", task->tgid, task->pid, task->comm);
	return 0;
}

/* "ID LEVEL" per cgroup the walk visits (the order and start are given when attaching) */
SEC("iter/cgroup")
int dump_cgroup(struct bpf_iter__cgroup *ctx)
{
	struct cgroup *cgrp = ctx->cgroup;

	if (!cgrp)
		return 0;
	BPF_SEQ_PRINTF(ctx->meta->seq, "%llu %d\n", cgrp->kn->id, cgrp->level);
	return 0;
}

/* binary output: one 24-byte record { u32 id; u32 max_entries; char name[16] } per BPF map.
 * (Map element iterators, iter/bpf_map_elem, fail PROG_LOAD with EPERM on the 6.18 test machine,
 * with libbpf too, so the map walk shown here is the list of maps.) */
SEC("iter/bpf_map")
int dump_maps(struct bpf_iter__bpf_map *ctx)
{
	struct seq_file *seq = ctx->meta->seq;
	struct bpf_map *map = ctx->map;
	struct { __u32 id; __u32 max_entries; char name[16]; } rec = {};

	if (!map)
		return 0;
	rec.id = map->id;
	rec.max_entries = map->max_entries;
	bpf_probe_read_kernel_str(rec.name, sizeof(rec.name), map->name);
	bpf_seq_write(seq, &rec, sizeof(rec));
	return 0;
}

/* a map for the test to find in dump_maps' output */
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 1234);
	__type(key, __u32);
	__type(value, __u64);
} iter_seen SEC(".maps");

char LICENSE[] SEC("license") = "GPL";
