/* memcpy_bw.c — single-thread memcpy bandwidth: the physical reference for
 * copybench's throughput figures.
 *
 * A TCP byte sent between two processes on one host is copied at least
 * twice by a CPU (sender's buffer -> socket buffer, socket buffer ->
 * receiver's buffer), so single-stream throughput is bounded near
 * memcpy bandwidth / 2.  This program measures that bandwidth for a buffer
 * that stays in cache (default 64 KiB, like a 64 KiB message) and for one
 * that must go to DRAM (default 256 MiB), each as the median of 5 timed
 * repetitions (each at least --min-time seconds of back-to-back memcpy
 * calls into a page-faulted destination).
 *
 * Bandwidth counts bytes copied (not bytes read + bytes written):
 * GB/s = 10^9 bytes copied per second; Gbit/s = 8 x that, the unit of the
 * suite's throughput.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <inttypes.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "common.h"   /* parse_size, now_ns: the suite's own */

#define DEFAULT_CACHE_BYTES (64ULL << 10)
#define DEFAULT_DRAM_BYTES  (256ULL << 20)
#define DEFAULT_REPS        5
#define DEFAULT_MIN_TIME_S  0.2
#define REPS_MAX            101
#define BYTES_MIN           64ULL
#define BYTES_MAX           (4ULL << 30)

static const char *prog = "memcpy_bw";

struct result {
	const char *name;      /* "cache" or "dram" */
	uint64_t bytes;        /* buffer size */
	double gbytes_s[REPS_MAX];  /* per repetition, 10^9 bytes copied per s */
	int reps;
	double median, min, max;
};

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s [--cache BYTES] [--dram BYTES] [--reps N] [--min-time S] [--json]\n"
		"\n"
		"Single-thread memcpy bandwidth for a cache-resident buffer and a DRAM-sized\n"
		"one, median (min-max) of N timed repetitions. The reference for copybench:\n"
		"a loopback TCP byte costs at least two CPU copies, so best-case single-stream\n"
		"throughput is bounded near memcpy bandwidth / 2.\n"
		"\n"
		"  --cache BYTES   cache-resident buffer size, K/M/G = 1024-based (default 64K)\n"
		"  --dram BYTES    DRAM-sized buffer size (default 256M)\n"
		"  --reps N        timed repetitions per buffer, 1..%d (default %d)\n"
		"  --min-time S    seconds of copying per repetition, 0.001..60 (default %.1f)\n"
		"  --json          one flat JSON object on stdout instead of the table\n"
		"  -h, --help      this text\n"
		"\n"
		"GB/s = 10^9 bytes copied per second (each byte read once and written once);\n"
		"Gbit/s = 8 x GB/s, the unit of copybench's throughput.\n"
		"Exit status: 0 ok, 1 out of memory, 2 usage error.\n",
		prog, REPS_MAX, DEFAULT_REPS, DEFAULT_MIN_TIME_S);
}

static _Noreturn void usage_error(const char *what, const char *arg)
{
	tool_usage_error(prog, what, arg);
}

/* parse_bytes: copybench's size syntax (parse_size: 64, 64K, 256M, 1G,
 * 1024-based), capped at BYTES_MAX; -1 if malformed or too large. */
static int parse_bytes(const char *s, uint64_t *out)
{
	return parse_size(s, out) < 0 || *out > BYTES_MAX ? -1 : 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* measure: time r->reps repetitions of back-to-back memcpy(dst, src,
 * r->bytes), each at least min_time_s long; fill median, min, max. */
static int measure(struct result *r, double min_time_s)
{
	uint8_t *src = malloc(r->bytes), *dst = malloc(r->bytes);
	if (!src || !dst) {
		free(src);
		free(dst);
		fprintf(stderr, "%s: out of memory for two %" PRIu64 "-byte buffers\n", prog, r->bytes);
		return -1;
	}
	/* Touch every page of both buffers so page faults stay out of the timing. */
	for (uint64_t i = 0; i < r->bytes; i++)
		src[i] = (uint8_t)(i * 131u + 7u);
	memset(dst, 0, r->bytes);

	/* Calibrate: how many copies take about min_time_s. */
	uint64_t calls = 1;
	for (;;) {
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < calls; i++) {
			memcpy(dst, src, r->bytes);
			__asm__ volatile("" : : "r"(dst) : "memory");  /* the copy must happen */
		}
		uint64_t dt = now_ns() - t0;
		if (dt >= (uint64_t)(min_time_s * 1e9 / 4) || calls >= (1ull << 40))
			break;
		calls *= 2;
	}
	uint64_t t_cal0 = now_ns();
	for (uint64_t i = 0; i < calls; i++) {
		memcpy(dst, src, r->bytes);
		__asm__ volatile("" : : "r"(dst) : "memory");
	}
	double per_call_s = (double)(now_ns() - t_cal0) / 1e9 / (double)calls;
	uint64_t n = per_call_s > 0 ? (uint64_t)(min_time_s / per_call_s) + 1 : calls;

	for (int k = 0; k < r->reps; k++) {
		uint64_t t0 = now_ns();
		for (uint64_t i = 0; i < n; i++) {
			memcpy(dst, src, r->bytes);
			__asm__ volatile("" : : "r"(dst) : "memory");
		}
		uint64_t dt = now_ns() - t0;
		r->gbytes_s[k] = (double)r->bytes * (double)n / (double)(dt ? dt : 1);
	}
	if (memcmp(dst, src, r->bytes) != 0) {
		fprintf(stderr, "%s: destination differs from source after memcpy\n", prog);
		exit(1);
	}
	free(src);
	free(dst);

	double sorted[REPS_MAX];
	memcpy(sorted, r->gbytes_s, sizeof(double) * (size_t)r->reps);
	qsort(sorted, (size_t)r->reps, sizeof(double), cmp_double);
	r->min = sorted[0];
	r->max = sorted[r->reps - 1];
	r->median = r->reps % 2 ? sorted[r->reps / 2]
				: (sorted[r->reps / 2 - 1] + sorted[r->reps / 2]) / 2;
	return 0;
}

static void print_table(const struct result *res, int n, double min_time_s)
{
	printf("memcpy_bw: single-thread memcpy, median of %d repetitions of >= %.2f s (min-max)\n",
	       res[0].reps, min_time_s);
	printf("%-8s %12s %12s %20s %14s %16s\n", "buffer", "bytes", "GB/s", "GB/s min-max",
	       "Gbit/s", "bound Gbit/s");
	for (int i = 0; i < n; i++) {
		char range[48];
		snprintf(range, sizeof(range), "%.2f-%.2f", res[i].min, res[i].max);
		printf("%-8s %12" PRIu64 " %12.2f %20s %14.1f %16.1f\n", res[i].name, res[i].bytes,
		       res[i].median, range, res[i].median * 8, res[i].median * 8 / 2);
	}
	printf("GB/s = 10^9 bytes copied per second; bound = memcpy Gbit/s / 2, the ceiling for one\n"
	       "TCP stream on one host (each byte is copied at least twice by a CPU).\n");
}

static void print_json(const struct result *res, int n, double min_time_s)
{
	printf("{\"reps\": %d, \"min_time_s\": %g", res[0].reps, min_time_s);
	for (int i = 0; i < n; i++) {
		const struct result *r = &res[i];
		printf(", \"%s_bytes\": %" PRIu64 ", \"%s_gbytes_per_s\": %.4f, \"%s_gbytes_per_s_min\": %.4f"
		       ", \"%s_gbytes_per_s_max\": %.4f, \"%s_gbit_per_s\": %.3f, \"%s_bound_gbit_per_s\": %.3f",
		       r->name, r->bytes, r->name, r->median, r->name, r->min, r->name, r->max,
		       r->name, r->median * 8, r->name, r->median * 4);
	}
	printf("}\n");
}

int main(int argc, char **argv)
{
	static const struct option opts[] = {
		{ "cache", required_argument, NULL, 'c' },
		{ "dram", required_argument, NULL, 'd' },
		{ "reps", required_argument, NULL, 'r' },
		{ "min-time", required_argument, NULL, 't' },
		{ "json", no_argument, NULL, 'j' },
		{ "help", no_argument, NULL, 'h' },
		{ NULL, 0, NULL, 0 },
	};
	uint64_t cache = DEFAULT_CACHE_BYTES, dram = DEFAULT_DRAM_BYTES;
	int reps = DEFAULT_REPS;
	double min_time_s = DEFAULT_MIN_TIME_S;
	bool json = false;
	int opt;

	opterr = 0;
	while ((opt = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		char *end;
		switch (opt) {
		case 'c':
			if (parse_bytes(optarg, &cache) < 0 || cache < BYTES_MIN)
				usage_error("--cache: bad size (64 .. 4G, K/M/G suffixes)", optarg);
			break;
		case 'd':
			if (parse_bytes(optarg, &dram) < 0 || dram < BYTES_MIN)
				usage_error("--dram: bad size (64 .. 4G, K/M/G suffixes)", optarg);
			break;
		case 'r': {
			errno = 0;
			long v = strtol(optarg, &end, 10);
			if (errno || end == optarg || *end || v < 1 || v > REPS_MAX)
				usage_error("--reps: bad count (1 .. 101)", optarg);
			reps = (int)v;
			break;
		}
		case 't':
			errno = 0;
			min_time_s = strtod(optarg, &end);
			if (errno || end == optarg || *end || !(min_time_s >= 0.001 && min_time_s <= 60))
				usage_error("--min-time: bad seconds (0.001 .. 60)", optarg);
			break;
		case 'j':
			json = true;
			break;
		case 'h':
			usage(stdout);
			return 0;
		case ':':
			usage_error("option needs a value", argv[optind - 1]);
		default:
			usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);

	struct result res[2] = {
		{ .name = "cache", .bytes = cache, .reps = reps },
		{ .name = "dram", .bytes = dram, .reps = reps },
	};
	for (int i = 0; i < 2; i++)
		if (measure(&res[i], min_time_s) < 0)
			return 1;
	if (json)
		print_json(res, 2, min_time_s);
	else
		print_table(res, 2, min_time_s);
	return 0;
}
