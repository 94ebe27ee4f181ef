// Global data of every kind for the loader tests: .rodata (const volatile, set before load), .data,
// .bss, custom .data.* / .rodata.* sections, a static variable (relocated through its section symbol)
// and an array. The XDP program reads what user space wrote and leaves values user space reads back.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

const volatile __u32 ro_magic = 7;
const volatile __u64 ro_big = 0;
__u64 data_counter = 100;
__u32 verdict = XDP_PASS;          /* user space writes it, the program returns it */
__u32 bss_runs;
__u64 bss_sum;
__u32 custom_data SEC(".data.custom") = 5;
const volatile __u32 custom_ro SEC(".rodata.custom") = 9;
static __u32 static_counter = 3;
char greeting[8] = "hello";

SEC("xdp")
int globals_prog(struct xdp_md *ctx)
{
	data_counter += ro_magic;
	bss_runs++;
	static_counter++;
	custom_data += 1;
	bss_sum = ro_magic + custom_ro + ro_big + static_counter + greeting[0];
	return verdict;
}

char LICENSE[] SEC("license") = "GPL";
