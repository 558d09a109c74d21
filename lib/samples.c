/* lib/samples.c — per-interval samples over the measured window
 * (--interval): the boundaries, each thread's own cumulative counters at
 * them (taken from its own loop: no locks, no shared counters), their
 * merge after join, the stability figures, and the JSON list. */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

uint64_t samples_boundary(const struct samples *s, uint32_t k)
{
	uint64_t b = s->start_ns + (uint64_t)k * s->interval_ns;
	return k + 1 >= s->n || b > s->end_ns ? s->end_ns : b;
}

int samples_init(struct samples *s, uint64_t start_ns, uint64_t end_ns, uint64_t interval_ns)
{
	memset(s, 0, sizeof(*s));
	if (!interval_ns || end_ns <= start_ns)
		return 0;                       /* off: samples_due() is never true */
	uint64_t n = (end_ns - start_ns + interval_ns - 1) / interval_ns + 1;
	if (n > SAMPLES_MAX)
		return -1;
	s->s = calloc(n, sizeof(*s->s));
	if (!s->s)
		return -1;
	s->start_ns = start_ns;
	s->end_ns = end_ns;
	s->interval_ns = interval_ns;
	s->n = (uint32_t)n;
	return 0;
}

void samples_free(struct samples *s)
{
	free(s->s);
	memset(s, 0, sizeof(*s));
}

void samples_take(struct samples *s, const struct sample *cum)
{
	while (samples_due(s, cum->t_ns))
		s->s[s->taken++] = *cum;
}

void samples_finish(struct samples *s, const struct sample *cum)
{
	while (s->taken < s->n)
		s->s[s->taken++] = *cum;
}

int samples_merge(struct samples *into, const struct samples *from)
{
	if (!from->n)
		return 0;
	if (!into->n) {
		if (samples_init(into, from->start_ns, from->end_ns, from->interval_ns) < 0)
			return -1;
		into->taken = from->taken;
	} else if (into->start_ns != from->start_ns || into->end_ns != from->end_ns ||
		   into->interval_ns != from->interval_ns) {
		return -1;
	}
	if (from->taken < into->taken)
		into->taken = from->taken;
	for (uint32_t k = 0; k < into->n; k++) {
		struct sample *a = &into->s[k];
		const struct sample *b = &from->s[k];
		a->t_ns = b->t_ns > a->t_ns ? b->t_ns : a->t_ns;
		a->bytes += b->bytes;
		a->messages += b->messages;
		a->cpu_ns += b->cpu_ns;
		a->retrans += b->retrans;
		a->zc_completions += b->zc_completions;
		a->zc_copied += b->zc_copied;
	}
	return 0;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

void samples_stability(const struct samples *s, struct stability *st)
{
	*st = (struct stability){ .cv = NAN, .stall_s = NAN, .drift = NAN };
	if (s->taken < 2 || s->taken < s->n)
		return;
	/* full intervals only: a last one shorter than half an interval is left out */
	uint32_t m = s->n - 1;
	if (m > 1 && samples_boundary(s, m) - samples_boundary(s, m - 1) < s->interval_ns / 2)
		m--;
	double *rate = malloc(2 * (size_t)m * sizeof(double));
	if (!rate)
		return;
	double *sorted = rate + m, sum = 0, sq = 0;
	for (uint32_t k = 0; k < m; k++) {
		double len = (double)(samples_boundary(s, k + 1) - samples_boundary(s, k)) / 1e9;
		rate[k] = (double)(s->s[k + 1].bytes - s->s[k].bytes) / len;
		sum += rate[k];
	}
	double mean = sum / m;
	for (uint32_t k = 0; k < m; k++)
		sq += (rate[k] - mean) * (rate[k] - mean);
	st->intervals = m;
	if (m >= 2 && mean > 0)
		st->cv = sqrt(sq / (m - 1)) / mean;
	memcpy(sorted, rate, m * sizeof(double));
	qsort(sorted, m, sizeof(double), cmp_double);
	double median = m % 2 ? sorted[m / 2] : (sorted[m / 2 - 1] + sorted[m / 2]) / 2;
	uint32_t run = 0, longest = 0;
	for (uint32_t k = 0; k < m; k++) {
		run = rate[k] <= STALL_SHARE * median ? run + 1 : 0;
		longest = run > longest ? run : longest;
	}
	st->stall_s = (double)longest * (double)s->interval_ns / 1e9;
	if (m >= 3) {
		uint32_t third = m / 3;
		double first = 0, last = 0;
		for (uint32_t k = 0; k < third; k++) {
			first += rate[k];
			last += rate[m - 1 - k];
		}
		st->drift = first > 0 ? last / first : NAN;
	}
	free(rate);
}

void sample_thread_cpu(struct sample *cum)
{
	struct timespec ts;
	if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) == 0)
		cum->cpu_ns = (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

/* The stability keys, then (JSON only) the list; it must be the object's
 * last key: the driver's flat-object reader stops at the first list. */
void out_samples(struct out *o, const struct samples *s, bool zc)
{
	struct stability st;
	samples_stability(s, &st);
	out_dbl(o, "interval_s", s->n ? (double)s->interval_ns / 1e9 : NAN);
	out_u64(o, "intervals", st.intervals);
	out_dbl(o, "interval_cv", st.cv);
	out_dbl(o, "interval_stall_s", st.stall_s);
	out_dbl(o, "interval_drift", st.drift);
	if (!o->json)
		return;
	fprintf(o->f, ", \"samples\": [");
	for (uint32_t k = 0; s->n && k + 1 < s->taken; k++) {
		const struct sample *a = &s->s[k], *b = &s->s[k + 1];
		fprintf(o->f, "%s{\"t_s\": %.6g, \"len_s\": %.6g, \"bytes\": %" PRIu64
			", \"messages\": %" PRIu64 ", \"cpu_s\": %.6g, \"retrans\": %" PRIu64,
			k ? ", " : "", (double)(samples_boundary(s, k) - s->start_ns) / 1e9,
			(double)(samples_boundary(s, k + 1) - samples_boundary(s, k)) / 1e9,
			b->bytes - a->bytes, b->messages - a->messages,
			(double)(b->cpu_ns - a->cpu_ns) / 1e9, b->retrans - a->retrans);
		if (zc)
			fprintf(o->f, ", \"zc_completions\": %" PRIu64 ", \"zc_copied\": %" PRIu64,
				b->zc_completions - a->zc_completions, b->zc_copied - a->zc_copied);
		fputc('}', o->f);
	}
	fputc(']', o->f);
	o->n++;
}
