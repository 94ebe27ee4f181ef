// libbpf baseline for the map benchmarks: the same operations bench/cases/map.ts measures in
// TypeScript. Prints one JSON object per line: {"id": ..., "ns_per_op": ...} (see bench/README.md).
#include <bpf/bpf.h>
#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define ROUNDS 7

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

// median over ROUNDS of (time of fn over ops) / ops
static double measure(void (*fn)(int fd, long ops), int fd, long ops)
{
	double r[ROUNDS];
	fn(fd, ops / 10 + 1); // warm up
	for (int i = 0; i < ROUNDS; i++) {
		double t = now_ns();
		fn(fd, ops);
		r[i] = (now_ns() - t) / ops;
	}
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	return r[ROUNDS / 2];
}

static void die(const char *what)
{
	fprintf(stderr, "map_ops: %s: %s\n", what, strerror(errno));
	exit(1);
}

static volatile uint64_t sink;

static void lookup_loop(int fd, long ops)
{
	uint32_t key;
	uint64_t value;
	for (long i = 0; i < ops; i++) {
		key = i & 1023;
		if (bpf_map_lookup_elem(fd, &key, &value))
			die("lookup");
		sink += value;
	}
}

static void update_loop(int fd, long ops)
{
	uint32_t key;
	uint64_t value;
	for (long i = 0; i < ops; i++) {
		key = i & 1023;
		value = i;
		if (bpf_map_update_elem(fd, &key, &value, BPF_ANY))
			die("update");
	}
}

#define BIG 100000

// every key with GET_NEXT_KEY, every value with LOOKUP_ELEM
static void per_key_loop(int fd, long ops)
{
	for (long r = 0; r < ops; r++) {
		uint32_t key, next;
		uint64_t value;
		long n = 0;
		int err = bpf_map_get_next_key(fd, NULL, &next);
		while (!err) {
			key = next;
			if (bpf_map_lookup_elem(fd, &key, &value) == 0) {
				sink += value;
				n++;
			}
			err = bpf_map_get_next_key(fd, &key, &next);
		}
		if (n != BIG)
			die("per-key walk saw the wrong count");
	}
}

// batches of the same size tsbpf uses (1 MiB of keys + values per call)
#define CHUNK ((1 << 20) / (sizeof(uint32_t) + sizeof(uint64_t)))
static void batch_loop(int fd, long ops)
{
	static uint32_t keys[BIG + CHUNK];
	static uint64_t values[BIG + CHUNK];
	for (long r = 0; r < ops; r++) {
		uint64_t in = 0, out = 0;
		long n = 0;
		int first = 1;
		for (;;) {
			uint32_t count = CHUNK;
			int err = bpf_map_lookup_batch(fd, first ? NULL : &in, &out, keys + n, values + n, &count, NULL);
			n += count;
			if (err && errno == ENOENT)
				break;
			if (err)
				die("lookup_batch");
			in = out;
			first = 0;
		}
		for (long i = 0; i < n; i++)
			sink += values[i];
		if (n != BIG)
			die("batch dump saw the wrong count");
	}
}

static int create(enum bpf_map_type type, uint32_t max)
{
	int fd = bpf_map_create(type, NULL, sizeof(uint32_t), sizeof(uint64_t), max, NULL);
	if (fd < 0)
		die("map create");
	return fd;
}

static void row(const char *id, double ns)
{
	printf("{\"id\":\"%s\",\"ns_per_op\":%.1f}\n", id, ns);
	fflush(stdout);
}

int main(void)
{
	int arr = create(BPF_MAP_TYPE_ARRAY, 1024);
	int hash = create(BPF_MAP_TYPE_HASH, 1024);
	update_loop(hash, 1024);
	row("array_lookup", measure(lookup_loop, arr, 200000));
	row("array_update", measure(update_loop, arr, 200000));
	row("hash_lookup", measure(lookup_loop, hash, 200000));
	row("hash_update", measure(update_loop, hash, 200000));

	// the map bench/run.ts pinned for every implementation (see bench/lib/shared-map.ts), else our own
	const char *pin = getenv("BENCH_HASH100K_PIN");
	int big = pin ? bpf_obj_get(pin) : create(BPF_MAP_TYPE_HASH, BIG);
	if (big < 0)
		die("open pinned hash100k");
	for (uint32_t k = 0; !pin && k < BIG; k++) {
		uint64_t v = k;
		if (bpf_map_update_elem(big, &k, &v, BPF_ANY))
			die("fill");
	}
	row("hash100k_batch_dump", measure(batch_loop, big, 3) / BIG);
	row("hash100k_per_key", measure(per_key_loop, big, 2) / BIG);
	close(arr);
	close(hash);
	close(big);
	return 0;
}
