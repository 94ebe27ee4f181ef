// Types for the codec tests against the kernel (test/privileged/codec-map.test.ts): C's own view of
// a struct with the awkward shapes (bitfields across bytes, signed and enum bitfields, packed enums
// with negative enumerators, __int128, _Bool, anonymous unions and structs, a packed struct, an
// aligned(16) member, nested arrays, a char array, trailing padding). read_shape reads every field
// of in[0] as C sees it into seen[0] (one __s64 per field); write_shape stores known values into
// made[0] by field, so a decode can be compared with what C wrote.
#include <linux/bpf.h>
#include <linux/types.h>
#include <bpf/bpf_helpers.h>

enum pk_neg { PK_ONE = 1, PK_NEG = -3 } __attribute__((packed));
enum e16 { E16_A = 0x1234, E16_NEG = -2 } __attribute__((packed));
enum e32 { E32_A = 7, E32_NEG = -100 };

struct packed_s {
	__u8 a;
	__u32 b;
	__u64 c;
} __attribute__((packed));

struct shape {
	__u8 a : 3;
	__u16 cross : 9;	/* bits 3..11: crosses a byte boundary */
	__s8 sneg : 4;		/* signed */
	enum e32 ebf : 8;	/* enum bitfield holding a negative enumerator */
	_Bool flag : 1;
	__s64 wide : 40;	/* 64-bit base */
	unsigned __int128 u128;
	__int128 s128;
	enum pk_neg e1;
	enum e16 e2;
	enum e32 e4;
	_Bool ok;
	union {
		__u32 ip4;
		__u8 ip6[4];
		struct { __u16 lo; __u16 hi; };
	};
	struct { __u8 n1; __u8 n2; };
	__u8 matrix[2][3];
	char name[6];
	__u64 big;
	__u32 al __attribute__((aligned(16)));
	struct packed_s ps;
	__u8 tail;		/* then trailing padding */
};

/* each field of a shape as C reads it, widened to 64 bits */
struct seen {
	__s64 a, cross, sneg, ebf, flag, wide;
	__u64 u128_lo, u128_hi, s128_lo;
	__s64 s128_hi, e1, e2, e4, ok, ip4, lo, hi, n1, n2, m12, name0, name5;
	__u64 big;
	__s64 al, ps_a, ps_b;
	__u64 ps_c;
	__s64 tail;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct shape);
} in SEC(".maps"), made SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct seen);
} seen SEC(".maps");

/* unions whose members do not all give back every bit as JS values (_Bool, float) */
struct puns {
	union { float f; __u32 fbits; };
	union { _Bool b; __u8 byte; };
	union { double d; __u64 dbits; } named;
	union { _Bool flag : 1; __u8 low : 4; };
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct puns);
} puns SEC(".maps");

SEC("xdp")
int read_shape(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct shape *s = bpf_map_lookup_elem(&in, &k);
	struct seen *o = bpf_map_lookup_elem(&seen, &k);
	if (!s || !o)
		return XDP_ABORTED;
	o->a = s->a;
	o->cross = s->cross;
	o->sneg = s->sneg;
	o->ebf = s->ebf;
	o->flag = s->flag;
	o->wide = s->wide;
	o->u128_lo = (__u64)s->u128;
	o->u128_hi = (__u64)(s->u128 >> 64);
	o->s128_lo = (__u64)s->s128;
	o->s128_hi = (__s64)(s->s128 >> 64);
	o->e1 = s->e1;
	o->e2 = s->e2;
	o->e4 = s->e4;
	o->ok = s->ok;
	o->ip4 = s->ip4;
	o->lo = s->lo;
	o->hi = s->hi;
	o->n1 = s->n1;
	o->n2 = s->n2;
	o->m12 = s->matrix[1][2];
	o->name0 = s->name[0];
	o->name5 = s->name[5];
	o->big = s->big;
	o->al = s->al;
	o->ps_a = s->ps.a;
	o->ps_b = s->ps.b;
	o->ps_c = s->ps.c;
	o->tail = s->tail;
	return XDP_PASS;
}

SEC("xdp")
int write_shape(struct xdp_md *ctx)
{
	__u32 k = 0;
	struct shape *s = bpf_map_lookup_elem(&made, &k);
	if (!s)
		return XDP_ABORTED;
	s->a = 5;
	s->cross = 0x1a5;
	s->sneg = -7;
	s->ebf = E32_NEG;
	s->flag = 1;
	s->wide = -0x123456789;
	s->u128 = ((unsigned __int128)0x0102030405060708ULL << 64) | 0x90a0b0c0d0e0f000ULL;
	s->s128 = -2;
	s->e1 = PK_NEG;
	s->e2 = E16_NEG;
	s->e4 = E32_NEG;
	s->ok = 1;
	s->lo = 0xbeef;
	s->hi = 0xdead;
	s->n1 = 1;
	s->n2 = 2;
	s->matrix[0][1] = 7;
	s->matrix[1][2] = 9;
	__builtin_memcpy(s->name, "tsbpf", 6);
	s->big = 0xfedcba9876543210ULL;
	s->al = 0xcafe;
	s->ps.a = 0xab;
	s->ps.b = 0x11223344;
	s->ps.c = 0x8000000000000001ULL;
	s->tail = 0xee;
	return XDP_PASS;
}

char LICENSE[] SEC("license") = "GPL";
