// libbpf baseline for the loader row (issue 4): bpf_object__open_file + bpf_object__load +
// bpf_object__close of a 2-program object (bpf/obj_callback.o: two XDP programs with a callback
// subprogram each, a BTF array map and .data), ns per whole open+load+close. Run from the repo root.
#include <bpf/libbpf.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define ROUNDS 7
static const char *path = "bpf/obj_callback.o";

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

static void load_loop(long ops)
{
	for (long i = 0; i < ops; i++) {
		struct bpf_object *obj = bpf_object__open_file(path, NULL);
		int err = libbpf_get_error(obj);
		if (err || bpf_object__load(obj)) {
			fprintf(stderr, "object_load: %s: %s\n", path, strerror(errno));
			exit(1);
		}
		bpf_object__close(obj);
	}
}

static int quiet(enum libbpf_print_level level, const char *fmt, va_list args)
{
	return 0;
}

int main(void)
{
	const long ops = 100;
	double r[ROUNDS];
	libbpf_set_print(quiet);
	load_loop(ops / 10); // warm up
	for (int i = 0; i < ROUNDS; i++) {
		double t = now_ns();
		load_loop(ops);
		r[i] = (now_ns() - t) / ops;
	}
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	printf("{\"id\":\"object_load\",\"ns_per_op\":%.1f}\n", r[ROUNDS / 2]);
	return 0;
}
