// libbpf baseline for the BTF row: open /sys/kernel/btf/vmlinux with btf__parse, find struct sk_buff
// with btf__find_by_name_kind and walk its members (name, type, bit offset); what
// bench/cases/btf.ts measures in TypeScript. Prints {"id", "ns_per_op", "rss_kb"} (bench/README.md);
// rss_kb: resident memory the parsed BTF adds (peak RSS delta of one parse held open).
// Row btf_find_200_names: open + btf__find_by_name_kind for 200 struct names (every 40th named
// struct in id order), per whole op: what a CO-RE or codec user's many lookups cost.
#include <bpf/btf.h>
#include <bpf/libbpf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#define ROUNDS 7
#define PATH "/sys/kernel/btf/vmlinux"

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

static volatile unsigned long sink;

static struct btf *open_and_walk(void)
{
	struct btf *btf = btf__parse(PATH, NULL);
	if (!btf) {
		fprintf(stderr, "btf_parse: btf__parse %s failed\n", PATH);
		exit(1);
	}
	int id = btf__find_by_name_kind(btf, "sk_buff", BTF_KIND_STRUCT);
	if (id <= 0) {
		fprintf(stderr, "btf_parse: struct sk_buff not found\n");
		exit(1);
	}
	const struct btf_type *t = btf__type_by_id(btf, id);
	const struct btf_member *m = btf_members(t);
	for (int i = 0; i < btf_vlen(t); i++, m++)
		sink += strlen(btf__name_by_offset(btf, m->name_off)) + m->type + btf_member_bit_offset(t, i);
	return btf;
}

static long rss_kb(void)
{
	FILE *f = fopen("/proc/self/statm", "r");
	long pages = 0, resident = 0;
	if (f) {
		if (fscanf(f, "%ld %ld", &pages, &resident) != 2)
			resident = 0;
		fclose(f);
	}
	return resident * 4;
}

#define NAMES 200
static const char *names[NAMES];

static void pick_names(void)
{
	struct btf *btf = btf__parse(PATH, NULL);
	int n = 0, seen = 0;
	for (unsigned id = 1; id < btf__type_cnt(btf) && n < NAMES; id++) {
		const struct btf_type *t = btf__type_by_id(btf, id);
		if (!btf_is_struct(t) || !t->name_off)
			continue;
		if (seen++ % 40 == 0)
			names[n++] = strdup(btf__name_by_offset(btf, t->name_off));
	}
	btf__free(btf);
	if (n != NAMES) {
		fprintf(stderr, "btf_parse: only %d struct names\n", n);
		exit(1);
	}
}

static void open_and_find_names(void)
{
	struct btf *btf = btf__parse(PATH, NULL);
	for (int i = 0; i < NAMES; i++) {
		int id = btf__find_by_name_kind(btf, names[i], BTF_KIND_STRUCT);
		if (id <= 0) {
			fprintf(stderr, "btf_parse: struct %s not found\n", names[i]);
			exit(1);
		}
		sink += id;
	}
	btf__free(btf);
}

int main(void)
{
	double r[ROUNDS];
	long before = rss_kb();
	struct btf *held = open_and_walk();
	long delta = rss_kb() - before;
	btf__free(held);
	for (int i = 0; i < 3; i++)
		btf__free(open_and_walk()); // warm up
	for (int i = 0; i < ROUNDS; i++) {
		double t = now_ns();
		btf__free(open_and_walk());
		r[i] = now_ns() - t;
	}
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	printf("{\"id\":\"btf_parse_vmlinux\",\"ns_per_op\":%.1f,\"rss_kb\":%ld}\n", r[ROUNDS / 2], delta);
	pick_names();
	open_and_find_names(); // warm up
	for (int i = 0; i < ROUNDS; i++) {
		double t = now_ns();
		open_and_find_names();
		r[i] = now_ns() - t;
	}
	qsort(r, ROUNDS, sizeof(r[0]), cmp_double);
	printf("{\"id\":\"btf_find_200_names\",\"ns_per_op\":%.1f}\n", r[ROUNDS / 2]);
	return 0;
}
