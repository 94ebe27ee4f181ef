// Perf event array producer of the reader tests (test/helpers/producers.ts assembles the same):
// bpf_perf_event_output of [skb->len, ~skb->len] on the current CPU's buffer, once per run.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct {
	__uint(type, BPF_MAP_TYPE_PERF_EVENT_ARRAY);
	__uint(key_size, sizeof(__u32));
	__uint(value_size, sizeof(__u32));
} events SEC(".maps");

SEC("tc")
int perf_events(struct __sk_buff *skb)
{
	__u64 e[2] = { skb->len, ~(__u64)skb->len };

	bpf_perf_event_output(skb, &events, BPF_F_CURRENT_CPU, e, sizeof(e));
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
