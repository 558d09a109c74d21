/* common.c — the small utilities every part of copybench uses: errors, the
 * strategies' names, the value parsers, the clock.  The rest of the shared
 * code is in lib/, one file a concern; common.h maps it. */
#define _GNU_SOURCE
#include "common.h"
#include "lib/internal.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

const char *prog_name = "copybench";

/* ======================================================================
 * errors
 * ====================================================================== */

static void vreport(int err, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", prog_name, line, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", prog_name, line);
}

void die(int status, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(err, fmt, ap);
	va_end(ap);
	exit(status);
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
}

/* A usage error: one line, exit 2, nothing started. */
void usage_error(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s (see --help)\n", prog_name, line);
	exit(2);
}

/* ======================================================================
 * names
 * ====================================================================== */

static const struct strategy_info strategies[] = {
	{ STRAT_A1, "a1", "two-copy" },
	{ STRAT_A2, "a2", "one-copy" },
	{ STRAT_A3, "a3", "zero-copy" },
};

const struct strategy_info *strategy_info(int id)
{
	for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		if (strategies[i].id == id)
			return &strategies[i];
	return NULL;
}

const char *strategy_name(int id)
{
	const struct strategy_info *si = strategy_info(id);
	return si ? si->name : "?";
}

const char *strategy_title(int id)
{
	const struct strategy_info *si = strategy_info(id);
	return si ? si->title : "?";
}

const char *mode_name(int mode)
{
	switch (mode) {
	case MODE_STREAM: return "stream";
	case MODE_RR: return "rr";
	}
	return "?";
}

/* ======================================================================
 * value parsers
 * ====================================================================== */

int parse_uint_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!s || !(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s || !(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;                      /* accept KiB-style "Ki" */
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	/* plain decimal only: digits with at most one '.', optional 's'
	 * (strtod alone would take "0x7", "1e3", "inf") */
	size_t digits = 0, dots = 0, i = 0;
	if (!s)
		return -1;
	for (; s[i] && s[i] != 's'; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.')
			dots++;
		else
			return -1;
	}
	if (!digits || dots > 1 || (s[i] == 's' && s[i + 1]))
		return -1;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (*end == 's' && end[1] == '\0')
		end++;
	if (*end || !isfinite(v) || v < 0 || v > DURATION_MAX_S)
		return -1;
	*out = v;
	return 0;
}

int parse_cpu_list(const char *s, int *cpus, int max)
{
	int n = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		long a = strtol(p, &end, 10), b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -1;
			b = strtol(p, &end, 10);
		}
		if (a < 0 || b < a || b >= CPU_SETSIZE)
			return -1;
		for (long c = a; c <= b; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = (int)c;
		}
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

void tool_usage_error(const char *prog, const char *what, const char *arg)
{
	fprintf(stderr, "%s: %s '%s' (see --help)\n", prog, what, arg);
	exit(2);
}

int tool_cpu_list(const char *prog, const char *arg, int *cpus, int max)
{
	if (!arg) {
		fprintf(stderr, "%s: --cpus LIST is required (see --help)\n", prog);
		exit(2);
	}
	int n = parse_cpu_list(arg, cpus, max);
	if (n <= 0)
		tool_usage_error(prog, "--cpus: not a CPU list", arg);
	for (int i = 0; i < n; i++)
		for (int j = 0; j < i; j++)
			if (cpus[i] == cpus[j])
				tool_usage_error(prog, "--cpus: a CPU listed twice in", arg);
	return n;
}

/* ======================================================================
 * time
 * ====================================================================== */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t deadline_in_s(double s)
{
	return now_ns() + (uint64_t)(s * 1e9);
}

void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / NS_PER_S),
			       .tv_nsec = (long)(t % NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}
