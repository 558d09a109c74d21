/* lib/report.c — the latency histogram (pure, mergeable) and the output of
 * a run: one flat JSON object, or "key value" lines.  Which keys each side
 * prints: server_report (lib/server.c), client_report (lib/client.c),
 * out_window (lib/window.c). */
#define _GNU_SOURCE
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

/* ======================================================================
 * latency histogram
 * ====================================================================== */

void hist_init(struct hist *h)
{
	memset(h, 0, sizeof(*h));
	h->min_ns = UINT64_MAX;
}

static unsigned hist_index(uint64_t v)
{
	if (v < 256)
		return (unsigned)v;
	unsigned e = 63u - (unsigned)__builtin_clzll(v);      /* 8..63 */
	unsigned shift = e - HIST_SUB_BITS;
	return 256u + (e - 8u) * 128u + (unsigned)((v >> shift) - 128u);
}

/* [lo, lo + width) covered by bucket i */
static void hist_bucket_range(unsigned i, uint64_t *lo, uint64_t *width)
{
	if (i < 256) {
		*lo = i;
		*width = 1;
		return;
	}
	unsigned e = (i - 256u) / 128u + 8u, sub = (i - 256u) % 128u;
	unsigned shift = e - HIST_SUB_BITS;
	*lo = (uint64_t)(128u + sub) << shift;
	*width = 1ull << shift;
}

void hist_record(struct hist *h, uint64_t ns)
{
	h->count++;
	h->sum_ns += ns;
	if (ns < h->min_ns)
		h->min_ns = ns;
	if (ns > h->max_ns)
		h->max_ns = ns;
	h->bucket[hist_index(ns)]++;
}

void hist_merge(struct hist *into, const struct hist *h)
{
	into->count += h->count;
	into->sum_ns += h->sum_ns;
	if (h->min_ns < into->min_ns)
		into->min_ns = h->min_ns;
	if (h->max_ns > into->max_ns)
		into->max_ns = h->max_ns;
	for (unsigned i = 0; i < HIST_BUCKETS; i++)
		into->bucket[i] += h->bucket[i];
}

double hist_quantile(const struct hist *h, double q)
{
	if (!h->count)
		return 0;
	/* the smallest sample with at least ceil(q * count) samples <= it */
	uint64_t rank = (uint64_t)ceil(q * (double)h->count);
	if (rank < 1)
		rank = 1;
	if (rank > h->count)
		rank = h->count;
	uint64_t seen = 0;
	for (unsigned i = 0; i < HIST_BUCKETS; i++) {
		seen += h->bucket[i];
		if (seen >= rank) {
			uint64_t lo, width;
			hist_bucket_range(i, &lo, &width);
			double v = (double)lo + (double)(width - 1) / 2.0;
			if (v < (double)h->min_ns)
				v = (double)h->min_ns;
			if (v > (double)h->max_ns)
				v = (double)h->max_ns;
			return v;
		}
	}
	return (double)h->max_ns;
}

/* ======================================================================
 * output — human lines, or one flat JSON object
 * ====================================================================== */

void out_begin(struct out *o, bool json)
{
	o->f = stdout;
	o->json = json;
	o->n = 0;
	if (json)
		fputc('{', o->f);
}

static void out_key(struct out *o, const char *key)
{
	if (o->json)
		fprintf(o->f, "%s\"%s\": ", o->n++ ? ", " : "", key);
	else
		fprintf(o->f, "%-20s ", key);
}

void out_str(struct out *o, const char *key, const char *v)
{
	out_key(o, key);
	if (!o->json) {
		fprintf(o->f, "%s\n", v);
		return;
	}
	fputc('"', o->f);
	for (const char *p = v; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (ch == '"' || ch == '\\')
			fprintf(o->f, "\\%c", ch);
		else if (ch < 32)
			fprintf(o->f, "\\u%04x", ch);
		else
			fputc(ch, o->f);
	}
	fputc('"', o->f);
}

void out_u64(struct out *o, const char *key, uint64_t v)
{
	out_key(o, key);
	fprintf(o->f, o->json ? "%" PRIu64 : "%" PRIu64 "\n", v);
}

void out_dbl(struct out *o, const char *key, double v)
{
	out_key(o, key);
	if (!isfinite(v))
		fputs(o->json ? "null" : "NA\n", o->f);
	else
		fprintf(o->f, o->json ? "%.6g" : "%.6g\n", v);
}

void out_bool(struct out *o, const char *key, bool v)
{
	out_key(o, key);
	fputs(v ? "true" : "false", o->f);
	if (!o->json)
		fputc('\n', o->f);
}

void out_end(struct out *o)
{
	if (o->json)
		fputs("}\n", o->f);
	fflush(o->f);
}

void out_zc(struct out *o, const struct zc_stats *z)
{
	out_u64(o, "zc_sends", z->sends);
	out_u64(o, "zc_completions", z->completions);
	out_u64(o, "zc_copied", z->copied);
	out_u64(o, "zc_notifications", z->notifications);
	out_u64(o, "zc_enobufs", z->enobufs);
	out_u64(o, "zc_pool_depth", z->pool_depth);
	out_u64(o, "zc_pool_waits", z->pool_waits);
	out_u64(o, "zc_in_flight_max", z->in_flight_max);
	out_u64(o, "zc_missing", z->missing);
}

void out_tcp(struct out *o, const struct tcp_totals *t)
{
	out_u64(o, "tcp_retrans", t->retrans);
	out_dbl(o, "tcp_rtt_us", t->n ? t->rtt_us_sum / (double)t->n : NAN);
}
