// sockops-tuner: sets TCP options on every connection of a cgroup as it is established (both the
// connecting and the accepting end): TCP_NODELAY, and keepalive probes after `keepidle` idle seconds.
// The values are const volatile, set by the loader before load. Counters: sockets tuned, failures.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

/* not in the UAPI headers bpf programs can include (sys/socket.h, netinet/tcp.h) */
#define SOL_SOCKET 1
#define SO_KEEPALIVE 9
#define SOL_TCP 6
#define TCP_NODELAY 1
#define TCP_KEEPIDLE 4

const volatile __u32 nodelay = 1;
const volatile __u32 keepidle = 0; /* seconds; 0: leave keepalive alone */

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} tuned SEC(".maps");

#define T_OK 0
#define T_FAILED 1

static __always_inline void count(__u32 key)
{
	__u64 *v = bpf_map_lookup_elem(&tuned, &key);
	if (v)
		__sync_fetch_and_add(v, 1);
}

SEC("sockops")
int tune(struct bpf_sock_ops *ops)
{
	int one = 1, idle = keepidle, err = 0;

	if (ops->op != BPF_SOCK_OPS_ACTIVE_ESTABLISHED_CB && ops->op != BPF_SOCK_OPS_PASSIVE_ESTABLISHED_CB)
		return 1;
	if (nodelay)
		err |= bpf_setsockopt(ops, SOL_TCP, TCP_NODELAY, &one, sizeof(one));
	if (idle) {
		err |= bpf_setsockopt(ops, SOL_SOCKET, SO_KEEPALIVE, &one, sizeof(one));
		err |= bpf_setsockopt(ops, SOL_TCP, TCP_KEEPIDLE, &idle, sizeof(idle));
	}
	count(err ? T_FAILED : T_OK);
	return 1;
}

char LICENSE[] SEC("license") = "GPL";
