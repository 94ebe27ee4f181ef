// Global variables of every value kind obj.globals reads and writes: float, double, _Bool, a struct,
// an integer, and const volatile ones set before load. The program copies the float's bits and the
// others into `out` so the test sees what the program read.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

struct pt {
	__u16 x;
	__u16 y;
};

float v_float;
double v_double;
_Bool v_bool;
struct pt v_pt;
__u32 v_u32;
const volatile _Bool c_flag = 0;
const volatile double c_scale = 1.5;

__u64 out_float_bits;
__u64 out_sum;

SEC("xdp")
int global_kinds(struct xdp_md *ctx)
{
	__u32 bits;

	__builtin_memcpy(&bits, &v_float, sizeof(bits));
	out_float_bits = bits;
	out_sum = v_bool + v_pt.x + v_pt.y + v_u32 + c_flag;
	return XDP_PASS;
}

/* uses no global data: the loader binds .rodata to it all the same (as libbpf) */
SEC("xdp")
int no_globals(struct xdp_md *ctx)
{
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
