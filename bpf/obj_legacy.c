// Legacy map definitions: struct bpf_map_def in the "maps" section (libbpf 1.0 dropped them; tsbpf
// still reads them), plus a "version" section as old kprobe objects carry.
#include <linux/bpf.h>
#include <linux/types.h>
#include <linux/version.h>
#include <bpf/bpf_helpers.h>

struct bpf_map_def {
	unsigned int type;
	unsigned int key_size;
	unsigned int value_size;
	unsigned int max_entries;
	unsigned int map_flags;
};

struct bpf_map_def SEC("maps") legacy_hash = {
	.type = BPF_MAP_TYPE_HASH,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u64),
	.max_entries = 16,
};

struct bpf_map_def SEC("maps") legacy_array = {
	.type = BPF_MAP_TYPE_ARRAY,
	.key_size = sizeof(__u32),
	.value_size = sizeof(__u32),
	.max_entries = 2,
};

/* legacy_array[0] + legacy_hash[7], written by user space */
SEC("socket")
int legacy_prog(struct __sk_buff *skb)
{
	__u32 zero = 0, seven = 7;
	__u32 *a = bpf_map_lookup_elem(&legacy_array, &zero);
	__u64 *h = bpf_map_lookup_elem(&legacy_hash, &seven);

	return (a ? *a : 0) + (h ? *h : 0);
}

char LICENSE[] SEC("license") = "GPL";
__u32 _version SEC("version") = LINUX_VERSION_CODE;
