// sockmap-redirect: TCP connections of a cgroup short-circuit the stack. A sockops program puts
// every established socket of the cgroup into a sockhash keyed by its (address, port); an sk_msg
// program on that sockhash hands each sent message straight to the peer socket's receive queue
// (bpf_msg_redirect_hash with BPF_F_INGRESS) when the peer is in the map too, else lets it go through
// TCP. Counters: sockets added, messages and bytes seen, messages redirected.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct sock_key {
	__u32 ip4;  /* network order */
	__u32 port; /* host order */
};

struct {
	__uint(type, BPF_MAP_TYPE_SOCKHASH);
	__uint(max_entries, 1024);
	__type(key, struct sock_key);
	__type(value, __u64);
} socks SEC(".maps");

struct stats {
	__u64 sockets;
	__u64 messages;
	__u64 bytes;
	__u64 redirected;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct stats);
} totals SEC(".maps");

static __always_inline struct stats *stats(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&totals, &zero);
}

SEC("sockops")
int add_socket(struct bpf_sock_ops *ops)
{
	struct sock_key key = {};
	struct stats *s;

	if (ops->family != 2 /* AF_INET */)
		return 1;
	if (ops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	key.ip4 = ops->local_ip4;
	key.port = ops->local_port;
	if (bpf_sock_hash_update(ops, &socks, &key, BPF_ANY) == 0 && (s = stats()))
		__sync_fetch_and_add(&s->sockets, 1);
	return 1;
}

SEC("sk_msg")
int redirect(struct sk_msg_md *msg)
{
	/* the peer's key: remote_port holds the port in network order in its upper 16 bits */
	struct sock_key peer = { .ip4 = msg->remote_ip4, .port = bpf_ntohl(msg->remote_port) };
	struct stats *s = stats();

	if (s) {
		__sync_fetch_and_add(&s->messages, 1);
		__sync_fetch_and_add(&s->bytes, msg->size);
	}
	if (bpf_msg_redirect_hash(msg, &socks, &peer, BPF_F_INGRESS) == SK_PASS && s)
		__sync_fetch_and_add(&s->redirected, 1);
	return SK_PASS;
}

char LICENSE[] SEC("license") = "GPL";
