/* tests/fuzz/fuzz_parse.c — libFuzzer target for the command-line value
 * parsers of common.c: parse_size, parse_seconds, parse_uint_range,
 * parse_cpu_list.  Every input (as a NUL-terminated string) goes through
 * all four; AddressSanitizer/UBSan catch memory errors and undefined
 * behaviour, and these properties abort() when violated:
 *  - parse_size: an accepted value is the leading decimal number times the
 *    suffix's unit (K/M/G = 2^10/2^20/2^30, optional "i" and "B"), so a
 *    multiple of that unit, with no overflow; its decimal form parses back
 *    to itself; plain digits that fit in 64 bits are always accepted;
 *  - parse_seconds: accepted values are finite, within 0..DURATION_MAX_S;
 *    plain integers in range are always accepted and exact;
 *  - parse_uint_range: accepted values lie within [lo, hi] and equal the
 *    number the string spells; plain in-range digits are always accepted;
 *  - parse_cpu_list: it never writes past `max` entries (the array is
 *    exactly that big), returns -1 or 1..max CPUs, each < CPU_SETSIZE, and
 *    exactly the CPUs an independent reading of "a,b-c" lists.
 * -DFUZZ_STRICT (make fuzz FUZZ_STRICT=1) adds: accepted integers are
 * plain digits (no leading white space or sign, also over the full 64-bit
 * range) and durations have no "0x" hexadecimal form.  It is off by default
 * because common.c 1.0.0 still accepts "\t80" as port 80 and "\t-5" as
 * 2^64-5 (see tests/fuzz/run.sh).
 */
#define _GNU_SOURCE
#include "common.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "property violated: %s (%s:%d) on \"%s\"\n", \
				#cond, __FILE__, __LINE__, cur_input);           \
			abort();                                                 \
		}                                                                \
	} while (0)

static const char *cur_input = "";

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* strtoull of plain digits, or false when it does not fit */
static bool digits_value(const char *s, size_t n, uint64_t *out)
{
	uint64_t v = 0;
	if (n == 0)
		return false;
	for (size_t i = 0; i < n; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	*out = v;
	return true;
}

static void fuzz_size(const char *s)
{
	uint64_t v = 0, n;
	if (parse_size(s, &v) != 0) {
		if (all_digits(s) && digits_value(s, strlen(s), &n))
			CHECK(!"plain 64-bit digits rejected");
		return;
	}
	size_t nd = strspn(s, "0123456789");
	CHECK(nd > 0);
	CHECK(digits_value(s, nd, &n));
	const char *rest = s + nd;
	unsigned shift = 0;
	switch (*rest) {
	case '\0': break;
	case 'k': case 'K': shift = 10; break;
	case 'm': case 'M': shift = 20; break;
	case 'g': case 'G': shift = 30; break;
	default: CHECK(!"accepted an unknown suffix");
	}
	if (shift) {
		rest++;
		if (*rest == 'i' || *rest == 'I')
			rest++;
		if (*rest == 'b' || *rest == 'B')
			rest++;
	}
	CHECK(*rest == '\0');
	CHECK(n <= (UINT64_MAX >> shift));
	CHECK(v == n << shift);
	CHECK(v % (1ull << shift) == 0);
	char back[32];
	uint64_t v2 = 0;
	snprintf(back, sizeof(back), "%llu", (unsigned long long)v);
	CHECK(parse_size(back, &v2) == 0 && v2 == v);
}

static void fuzz_seconds(const char *s)
{
	double v = -1;
	size_t len = strlen(s);
	if (parse_seconds(s, &v) != 0) {
		uint64_t n;
		if (all_digits(s) && len <= 5 && digits_value(s, len, &n) && (double)n <= DURATION_MAX_S)
			CHECK(!"plain in-range integer seconds rejected");
		return;
	}
	CHECK(isfinite(v) && v >= 0 && v <= DURATION_MAX_S);
	CHECK(isdigit((unsigned char)s[0]) || s[0] == '.');
	if (all_digits(s) && len <= 5) {
		uint64_t n = 0;
		CHECK(digits_value(s, len, &n) && v == (double)n);
	}
#ifdef FUZZ_STRICT
	CHECK(strpbrk(s, "xXpP") == NULL);
#endif
}

static void fuzz_uint_range(const char *s)
{
	/* the ranges the CLI uses (port, threads, -n), an exact one, and —
	 * strict only — the full range, where strtoull's "-5" wraps around */
	static const struct { uint64_t lo, hi; } ranges[] = {
		{ 1, 65535 }, { 1, THREADS_MAX }, { 1, 1000000 }, { 7, 7 },
#ifdef FUZZ_STRICT
		{ 0, UINT64_MAX },
#endif
	};
	for (size_t k = 0; k < sizeof(ranges) / sizeof(ranges[0]); k++) {
		uint64_t v = 0, n = 0, lo = ranges[k].lo, hi = ranges[k].hi;
		size_t len = strlen(s);
		if (parse_uint_range(s, lo, hi, &v) != 0) {
			if (all_digits(s) && digits_value(s, len, &n) && n >= lo && n <= hi)
				CHECK(!"plain in-range digits rejected");
			continue;
		}
		CHECK(v >= lo && v <= hi);
		const char *p = s;
#ifdef FUZZ_STRICT
		CHECK(isdigit((unsigned char)*p));
#else
		/* strtoull skips leading white space and takes a '+' after it;
		 * parse_uint_range only refuses them in the first byte */
		while (isspace((unsigned char)*p))
			p++;
		if (p != s && *p == '+')
			p++;
#endif
		CHECK(all_digits(p));
		CHECK(digits_value(p, strlen(p), &n) && n == v);
	}
}

/* an independent reading of "a,b-c": -1 if malformed or over max */
static int ref_cpu_list(const char *s, int *cpus, int max)
{
	int n = 0;
	if (!*s)
		return -1;
	for (;;) {
		size_t da = strspn(s, "0123456789");
		uint64_t a, b;
		if (!da || !digits_value(s, da, &a))
			return -1;
		s += da;
		b = a;
		if (*s == '-') {
			s++;
			size_t db = strspn(s, "0123456789");
			if (!db || !digits_value(s, db, &b))
				return -1;
			s += db;
		}
		if (b < a || b >= CPU_SETSIZE)
			return -1;
		for (uint64_t c = a; c <= b; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = (int)c;
		}
		if (*s == '\0')
			return n;
		if (*s != ',')
			return -1;
		s++;
	}
}

static void fuzz_cpu_list(const char *s, int max)
{
	int *cpus = malloc(sizeof(int) * (size_t)max);   /* exact size: overruns are caught */
	int *want = malloc(sizeof(int) * (size_t)max);
	CHECK(cpus && want);
	int n = parse_cpu_list(s, cpus, max);
	int m = ref_cpu_list(s, want, max);
	CHECK(n == -1 || (n >= 1 && n <= max));
	CHECK(n == m);
	for (int i = 0; i < n; i++) {
		CHECK(cpus[i] >= 0 && cpus[i] < CPU_SETSIZE);
		CHECK(cpus[i] == want[i]);
	}
	free(cpus);
	free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size > 4096)
		return 0;
	char *s = malloc(size + 1);
	if (!s)
		return 0;
	memcpy(s, data, size);
	s[size] = '\0';
	cur_input = s;
	fuzz_size(s);
	fuzz_seconds(s);
	fuzz_uint_range(s);
	/* the CLI passes THREADS_MAX; smaller arrays probe the bound */
	fuzz_cpu_list(s, size ? 1 + data[0] % 8 : 1);
	fuzz_cpu_list(s, THREADS_MAX);
	cur_input = "";
	free(s);
	return 0;
}
