// Types for `tsbpf gen types` (lib/codec/ts-types.ts, test/unit/gen-types.test.ts): the shapes the
// codec objects leave out. Typedefs of an anonymous struct, an anonymous enum, a named struct and an
// array; a typedef sharing its struct's name and one clashing with another struct's; struct names
// TypeScript keeps for itself or the module uses; arrays of structs, 2-D arrays and
// arrays past the tuple length; nested anonymous members; a keyless queue and bloom filter, an array
// map whose key has no BTF type, a per-CPU hash, a ring buffer; a struct global.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

typedef struct { __u32 lo; __u32 hi; } pair_t;
typedef struct node node;
struct node { __u16 id; __u8 kind; __u8 pad; };
typedef struct node alias_node;
typedef struct node other;		/* clashes with struct other */
struct other { __u32 a; };
typedef enum { ST_IDLE, ST_BUSY = 5 } state_t;
typedef __u8 mac_t[6];
struct string { __u32 len; };
struct Maps { __u32 n; };

struct record {
	pair_t span;
	node head;
	alias_node nodes[3];
	other twin;
	struct other o;
	state_t state;
	mac_t mac;
	__u32 samples[20];
	char path[24];
	struct string s;
	struct Maps m;
	union {
		__u64 whole;
		struct {
			__u32 low;
			union { __u32 high; __s32 shigh; };
		};
	};
	enum { ANON_A = 1, ANON_B } anon_enum;
	void *ptr;
	int constructor;
	__u32 : 8;
	__u32 flag : 1;
	__u64 deep_bits : 40;
	float matrix[2][2];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16);
	__type(key, pair_t);
	__type(value, struct record);
} records SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, 8);
	__type(value, struct node);
} pending SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_BLOOM_FILTER);
	__uint(max_entries, 16);
	__type(value, __u32);
} seen_ids SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 4);
	__uint(key_size, 4);
	__type(value, struct node);
} untyped_keys SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_HASH);
	__uint(max_entries, 16);
	__type(key, struct node);
	__type(value, __u64);
} per_node SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, state_t);
} states SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} events SEC(".maps");

struct record last_record;
const volatile state_t default_state = ST_BUSY;
volatile __u64 touches = 1;

SEC("xdp")
int gen_touch(struct xdp_md *ctx)
{
	touches++;
	last_record.flag = 1;
	return default_state == ST_BUSY ? XDP_PASS : XDP_DROP;
}

char LICENSE[] SEC("license") = "GPL";
