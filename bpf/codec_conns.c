// Types for the codec tests (lib/codec): the conntrack key/value of DESIGN.md and a struct with
// every shape a codec meets (bitfields, enums, char arrays, signed and 64-bit ints, floats,
// an anonymous union, implicit padding, typedef and const). Maps make the types part of the BTF.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct conn_key {
	__u32 saddr;
	__u32 daddr;
	__u8 proto;
	__u8 pad[3];
};

struct conn_val {
	__u64 packets;
	__u64 bytes;
};

enum color { RED = 1, GREEN = 2, BLUE = -1 };

typedef const volatile __s16 s16_t;

struct kitchen {
	__u8 a;            /* then 1 byte of padding */
	s16_t b;
	__u32 flags : 3;
	__u32 level : 5;
	__s32 delta : 7;   /* signed bitfield */
	enum color color;
	char comm[8];
	__u64 big;
	__s64 neg;
	float ratio;
	double mean;
	union {
		__u32 ip4;
		__u8 ip6[4];
	};
	_Bool ok;
	/* 7 bytes of trailing padding */
};

struct {
	__uint(type, BPF_MAP_TYPE_LRU_HASH);
	__uint(max_entries, 1024);
	__type(key, struct conn_key);
	__type(value, struct conn_val);
} conns SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct conn_val);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct kitchen);
} kitchen SEC(".maps");

SEC("xdp")
int codec_touch(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct conn_val *v = bpf_map_lookup_elem(&stats, &k);
	if (v)
		v->packets++;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
