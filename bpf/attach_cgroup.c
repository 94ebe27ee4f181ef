// Test programs for lib/attach/cgroup.ts: one per kind of cgroup hook, each with an effect a test
// can see from outside (a count, a dropped datagram, a rewritten port, a refused sysctl read).
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/if_ether.h>
#include <linux/in.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_endian.h>

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 16);
	__type(key, __u32);
	__type(value, __u64);
} counts SEC(".maps");

/* keys of counts */
#define K_EGRESS 0        /* every packet a socket of the cgroup sent */
#define K_EGRESS_DROP 1   /* of those, dropped (to drop_port) */
#define K_INGRESS 2       /* every packet a socket of the cgroup received */
#define K_CONNECT 3       /* connect() calls seen by connect4 */
#define K_SOCKOPS_ACTIVE 4
#define K_SOCKOPS_PASSIVE 5
#define K_SYSCTL 6
#define K_SOCK_CREATE 7 /* UDP sockets refused */
#define K_SETSOCKOPT 8 /* SO_PRIORITY refused */
#define K_DEVICE 9     /* /dev/null (char 1:3) refused */

/* UDP/TCP destination port whose packets cgroup_skb/egress drops (0: none) */
const volatile __u16 drop_port = 0;
/* connect4 rewrites connections to from_port into to_port */
const volatile __u16 from_port = 0;
const volatile __u16 to_port = 0;

static __always_inline void bump(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&counts, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

/* the UDP/TCP destination port of an IPv4 packet (cgroup_skb data starts at the IP header), or 0 */
static __always_inline __u16 dest_port(struct __sk_buff *skb)
{
	__u8 vihl, proto;
	__be16 port;

	if (skb->protocol != bpf_htons(ETH_P_IP))
		return 0;
	if (bpf_skb_load_bytes(skb, 0, &vihl, 1) || bpf_skb_load_bytes(skb, 9, &proto, 1))
		return 0;
	if (proto != IPPROTO_UDP && proto != IPPROTO_TCP)
		return 0;
	if (bpf_skb_load_bytes(skb, (vihl & 0xf) * 4 + 2, &port, 2))
		return 0;
	return bpf_ntohs(port);
}

SEC("cgroup_skb/egress")
int cg_egress(struct __sk_buff *skb)
{
	bump(K_EGRESS);
	if (drop_port && dest_port(skb) == drop_port) {
		bump(K_EGRESS_DROP);
		return 0;
	}
	return 1;
}

SEC("cgroup_skb/ingress")
int cg_ingress(struct __sk_buff *skb)
{
	bump(K_INGRESS);
	return 1;
}

SEC("cgroup/connect4")
int cg_connect4(struct bpf_sock_addr *ctx)
{
	bump(K_CONNECT);
	if (from_port && ctx->user_port == bpf_htons(from_port))
		ctx->user_port = bpf_htons(to_port);
	return 1;
}

SEC("sockops")
int cg_sockops(struct bpf_sock_ops *ops)
{
	if (ops->op == BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB)
		bump(K_SOCKOPS_ACTIVE);
	else if (ops->op == BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		bump(K_SOCKOPS_PASSIVE);
	return 1;
}

/* refuses every sysctl access of the cgroup's processes */
SEC("cgroup/sysctl")
int cg_sysctl(struct bpf_sysctl *ctx)
{
	bump(K_SYSCTL);
	return 0;
}

/* refuses creating UDP sockets */
SEC("cgroup/sock_create")
int cg_sock_create(struct bpf_sock *sk)
{
	if (sk->type == 2 /* SOCK_DGRAM */ && sk->protocol == IPPROTO_UDP) {
		bump(K_SOCK_CREATE);
		return 0;
	}
	return 1;
}

/* refuses setsockopt(SOL_SOCKET, SO_PRIORITY); lets every other option through to the kernel */
SEC("cgroup/setsockopt")
int cg_setsockopt(struct bpf_sockopt *ctx)
{
	if (ctx->level == 1 /* SOL_SOCKET */ && ctx->optname == 12 /* SO_PRIORITY */) {
		bump(K_SETSOCKOPT);
		return 0;
	}
	ctx->optlen = 0; /* unchanged: the kernel handles the option as given */
	return 1;
}

/* refuses every access to /dev/null (char 1:3) */
SEC("cgroup/dev")
int cg_dev(struct bpf_cgroup_dev_ctx *ctx)
{
	if ((ctx->access_type & 0xffff) == BPF_DEVCG_DEV_CHAR && ctx->major == 1 && ctx->minor == 3) {
		bump(K_DEVICE);
		return 0;
	}
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
