// Test programs for lib/attach/sockmap.ts. sockops (on a test cgroup) puts every established TCP
// socket into a sockhash keyed by its local port; sk_msg counts what those sockets send and
// redirects it straight into the peer's receive queue; sk_skb counts what they receive.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 64);
	__type(key, __u32);   /* local port, host order */
	__type(value, __u64);
} socks SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 8);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

#define S_INSERTED 0   /* sockets put into socks */
#define S_MSGS 1       /* sk_msg verdicts */
#define S_MSG_BYTES 2
#define S_REDIRECTED 3 /* of those, redirected to the peer */
#define S_SKBS 4       /* sk_skb verdicts */
#define S_SKB_BYTES 5

static __always_inline void add(__u32 key, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &key);
	if (v)
		__sync_fetch_and_add(v, n);
}

SEC("sockops")
int sm_sockops(struct bpf_sock_ops *ops)
{
	__u32 key;

	if (ops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	key = ops->local_port;
	if (bpf_sock_hash_update(ops, &socks, &key, BPF_NOEXIST) == 0)
		add(S_INSERTED, 1);
	return 1;
}

SEC("sk_msg")
int sm_msg(struct sk_msg_md *msg)
{
	/* the peer's local port: remote_port holds the port in network order in its upper half */
	__u32 peer = bpf_ntohl(msg->remote_port);

	add(S_MSGS, 1);
	add(S_MSG_BYTES, msg->size);
	if (bpf_msg_redirect_hash(msg, &socks, &peer, BPF_F_INGRESS) == SK_PASS) {
		add(S_REDIRECTED, 1);
		return SK_PASS;
	}
	return SK_PASS;
}

SEC("sk_skb/stream_verdict")
int sm_skb(struct __sk_buff *skb)
{
	add(S_SKBS, 1);
	add(S_SKB_BYTES, skb->len);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
