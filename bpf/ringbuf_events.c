// Ring buffer producer of the reader tests and bench (the instruction sequence in
// test/helpers/producers.ts is this program): one 16-byte record per run, [skb->len, ~skb->len];
// when skb->len % 4 == 0 a record is reserved and discarded instead (readers must skip it).
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct event {
	__u64 len;
	__u64 not_len;
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 256 * 1024);
} events SEC(".maps");

SEC("tc")
int ringbuf_events(struct __sk_buff *skb)
{
	struct event e = { .len = skb->len, .not_len = ~(__u64)skb->len };

	if ((skb->len & 3) == 0) {
		struct event *r = bpf_ringbuf_reserve(&events, sizeof(*r), 0);
		if (r)
			bpf_ringbuf_discard(r, 0);
		return 0;
	}
	bpf_ringbuf_output(&events, &e, sizeof(e), 0);
	return 0;
}

char LICENSE[] SEC("license") = "GPL";
