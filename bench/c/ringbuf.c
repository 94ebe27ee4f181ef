// libbpf baseline for the ring buffer row (bench/cases/ringbuf.ts): a SCHED_CLS program run with
// BPF_PROG_TEST_RUN (repeat = BATCH) writes one 16-byte record per run into a BPF ring buffer,
// and ring_buffer__poll(rb, 0) hands each record to a callback. The program is the same
// instruction sequence the TypeScript side loads (bpf/ringbuf_events.c in C). Prints
// {"id":"ringbuf_events","ns_per_op":...}: ns per event, produced and consumed.
#include <bpf/bpf.h>
#include <bpf/libbpf.h>
#include <errno.h>
#include <linux/bpf.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 7
#define BATCH 4096

static double now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return ts.tv_sec * 1e9 + ts.tv_nsec;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static void die(const char *what)
{
	fprintf(stderr, "ringbuf: %s: %s\n", what, strerror(errno));
	exit(1);
}

static volatile uint64_t sink;
static long received;

static int on_record(void *ctx, void *data, size_t size)
{
	sink += *(uint64_t *)data + size;
	received++;
	return 0;
}

#define INSN(op, d, s, o, i) ((struct bpf_insn){ .code = (op), .dst_reg = (d), .src_reg = (s), .off = (o), .imm = (i) })

static int prog_fd;
static struct ring_buffer *rb;
static char pkt[65];

static void run(long ops)
{
	LIBBPF_OPTS(bpf_test_run_opts, o, .data_in = pkt, .data_size_in = sizeof(pkt), .repeat = BATCH);
	long want = received + ops;
	while (received < want) {
		if (bpf_prog_test_run_opts(prog_fd, &o))
			die("test run");
		if (ring_buffer__poll(rb, 0) < 0)
			die("poll");
	}
}

int main(void)
{
	int map_fd = bpf_map_create(BPF_MAP_TYPE_RINGBUF, "rb_bench", 0, 0, 256 * 1024, NULL);
	if (map_fd < 0)
		die("map create");
	// r6 = skb->len; store [r6, ~r6]; if (r6 & 3) == 0 reserve+discard, else bpf_ringbuf_output
	struct bpf_insn insns[] = {
		INSN(0x61, 6, 1, 0, 0), INSN(0x7b, 10, 6, -16, 0), INSN(0xbf, 7, 6, 0, 0), INSN(0xa7, 7, 0, 0, -1),
		INSN(0x7b, 10, 7, -8, 0), INSN(0xbf, 2, 6, 0, 0), INSN(0x57, 2, 0, 0, 3), INSN(0x15, 2, 0, 9, 0),
		INSN(0x18, 1, 1, 0, map_fd), INSN(0, 0, 0, 0, 0), INSN(0xbf, 2, 10, 0, 0), INSN(0x07, 2, 0, 0, -16),
		INSN(0xb7, 3, 0, 0, 16), INSN(0xb7, 4, 0, 0, 0), INSN(0x85, 0, 0, 0, 130), INSN(0xb7, 0, 0, 0, 0),
		INSN(0x95, 0, 0, 0, 0),
		INSN(0x18, 1, 1, 0, map_fd), INSN(0, 0, 0, 0, 0), INSN(0xb7, 2, 0, 0, 16), INSN(0xb7, 3, 0, 0, 0),
		INSN(0x85, 0, 0, 0, 131), INSN(0x15, 0, 0, 3, 0), INSN(0xbf, 1, 0, 0, 0), INSN(0xb7, 2, 0, 0, 0),
		INSN(0x85, 0, 0, 0, 133), INSN(0xb7, 0, 0, 0, 0), INSN(0x95, 0, 0, 0, 0),
	};
	prog_fd = bpf_prog_load(BPF_PROG_TYPE_SCHED_CLS, "rb_bench", "GPL", insns, sizeof(insns) / sizeof(insns[0]), NULL);
	if (prog_fd < 0)
		die("prog load");
	rb = ring_buffer__new(map_fd, on_record, NULL, NULL);
	if (!rb)
		die("ring_buffer__new");
	long ops = 200000;
	double r[ROUNDS];
	run(ops / 10);
	for (int i = 0; i < ROUNDS; i++) {
		double t = now_ns();
		run(ops);
		r[i] = (now_ns() - t) / ops;
	}
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	printf("{\"id\":\"ringbuf_events\",\"ns_per_op\":%.2f}\n", r[ROUNDS / 2]);
	// the producer alone (test runs with nobody consuming but the ring drained once per batch)
	return 0;
}
