/* tests/unit.c — unit tests of the pure parts of the shared code (common.h).
 * Prints `PASS: name` / `FAIL: name — why` per test (see tests/run.sh). */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

static int failures;
static char why[256];

#define CHECK(cond, ...)                                   \
	do {                                               \
		if (!(cond)) {                             \
			snprintf(why, sizeof(why), __VA_ARGS__); \
			return false;                      \
		}                                          \
	} while (0)

static void run(const char *name, bool (*fn)(void))
{
	why[0] = '\0';
	if (fn()) {
		printf("PASS: %s\n", name);
	} else {
		printf("FAIL: %s — %s\n", name, why);
		failures++;
	}
}

static bool test_size_split(void)
{
	static const size_t sizes[] = { 64, 65, 71, 72, 100, 1023, 4096, 1 << 20 };
	for (size_t k = 0; k < sizeof(sizes) / sizeof(sizes[0]); k++) {
		size_t s = sizes[k], sum = 0;
		for (int f = 0; f < MSG_FIELDS; f++) {
			size_t len = msg_field_len(s, f);
			/* remainder goes to the first fields, one byte each */
			size_t want = s / 8 + ((size_t)f < s % 8);
			CHECK(len == want, "size %zu field %d: %zu, want %zu", s, f, len, want);
			sum += len;
		}
		CHECK(sum == s, "size %zu: fields sum to %zu", s, sum);
	}
	CHECK(msg_field_len(71, 6) == 9 && msg_field_len(71, 7) == 8, "71 B split wrong");
	return true;
}

static bool test_alloc_fill_stamp(void)
{
	struct msg m;
	CHECK(msg_alloc(&m, 100) == 0, "alloc failed");
	CHECK(m.size == 100 && m.len[0] == 13 && m.len[7] == 12, "layout %zu/%zu", m.len[0], m.len[7]);
	for (int f = 1; f < MSG_FIELDS; f++)
		CHECK(m.field[f] != m.field[f - 1], "fields share memory");
	CHECK(m.field[3][5] == msg_pattern_byte(3, 5), "pattern not filled");
	msg_stamp(&m, 0x0102030405060708ull);
	CHECK(m.field[0][0] == 0x08 && m.field[0][7] == 0x01, "stamp not little endian");
	CHECK(msg_seq(&m) == 0x0102030405060708ull, "seq round trip");
	msg_free(&m);
	/* heap footprint: 64 B = 8 minimum chunks; 1 MiB fields (128 KiB) are
	 * mmapped in whole pages */
	CHECK(msg_mem_bytes(64) == sizeof(struct msg) + 8 * 32, "64 B footprint %llu",
	      (unsigned long long)msg_mem_bytes(64));
	CHECK(msg_mem_bytes(1 << 20) == sizeof(struct msg) + 8 * (132 * 1024ull), "1 MiB footprint %llu",
	      (unsigned long long)msg_mem_bytes(1 << 20));
	CHECK(msg_mem_bytes(4096) >= 4096 + 8 * 8, "4 KiB footprint below its payload");
	return true;
}

static bool test_pattern_distinct(void)
{
	/* neighbouring bytes and the same offset in other fields differ often
	 * enough that a shifted region cannot pass verification */
	int same_next = 0, same_field = 0;
	for (size_t i = 0; i < 4096; i++) {
		same_next += msg_pattern_byte(2, i) == msg_pattern_byte(2, i + 1);
		same_field += msg_pattern_byte(2, i) == msg_pattern_byte(3, i);
	}
	CHECK(same_next < 64 && same_field < 64, "pattern too regular: %d %d", same_next, same_field);
	return true;
}

static bool test_verify(void)
{
	struct msg m;
	char w[160];
	CHECK(msg_alloc(&m, 4096) == 0, "alloc");
	msg_stamp(&m, 41);
	CHECK(msg_verify(&m, 41, true, w, sizeof(w)) == 0, "clean message rejected: %s", w);
	CHECK(msg_verify(&m, 40, false, w, sizeof(w)) < 0, "skipped sequence number not caught");
	CHECK(strstr(w, "sequence 41") != NULL, "reason '%s'", w);
	m.field[5][100] ^= 0x01;
	CHECK(msg_verify(&m, 41, false, w, sizeof(w)) == 0, "seq-only check looked at bytes");
	CHECK(msg_verify(&m, 41, true, w, sizeof(w)) < 0, "corrupted byte not caught");
	CHECK(strstr(w, "field 5 byte 100") != NULL, "reason '%s'", w);
	m.field[5][100] ^= 0x01;
	m.field[0][8] ^= 0x80;   /* first pattern byte after the stamp */
	CHECK(msg_verify(&m, 41, true, w, sizeof(w)) < 0, "byte after stamp not checked");
	msg_free(&m);
	return true;
}

static bool test_iov_advance(void)
{
	char a[10], b[5], c[7];
	struct iovec iov[3] = { { a, sizeof(a) }, { b, sizeof(b) }, { c, sizeof(c) } };
	struct iovec *p = iov;
	int cnt = 3;
	p = iov_advance(p, &cnt, 4);         /* inside the first */
	CHECK(cnt == 3 && p == iov && p->iov_base == a + 4 && p->iov_len == 6, "step 1");
	p = iov_advance(p, &cnt, 6);         /* exactly the end of the first */
	CHECK(cnt == 2 && p == iov + 1 && p->iov_len == 5, "step 2");
	p = iov_advance(p, &cnt, 8);         /* across into the third */
	CHECK(cnt == 1 && p == iov + 2 && p->iov_base == c + 3 && p->iov_len == 4, "step 3");
	p = iov_advance(p, &cnt, 4);
	CHECK(cnt == 0, "not done at the end");
	struct iovec z[3] = { { a, 0 }, { b, 0 }, { c, 2 } };
	cnt = 3;
	p = iov_advance(z, &cnt, 0);         /* empty entries are skipped */
	CHECK(cnt == 1 && p == z + 2, "empty entries");
	return true;
}

struct drain_ctx {
	int rfd;
	uint8_t *got;
	size_t have, cap;
	int retries;
};

static void drain_some(struct drain_ctx *d, size_t max)
{
	while (max && d->have < d->cap) {
		ssize_t n = read(d->rfd, d->got + d->have, max < d->cap - d->have ? max : d->cap - d->have);
		if (n <= 0)
			break;
		d->have += (size_t)n;
		max -= (size_t)n;
	}
}

static int on_eagain(void *ctx, int err)
{
	struct drain_ctx *d = ctx;
	if (err != EAGAIN)
		return -1;
	d->retries++;
	drain_some(d, 3000);   /* make room for a part only: forces short writes */
	return 0;
}

static bool test_sendv_short_writes(void)
{
	int sv[2];
	CHECK(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, "socketpair");
	int small = 4096;
	setsockopt(sv[0], SOL_SOCKET, SO_SNDBUF, &small, sizeof(small));
	fcntl(sv[0], F_SETFL, O_NONBLOCK);
	struct msg m;
	CHECK(msg_alloc(&m, 256 * 1024 + 3) == 0, "alloc");
	msg_stamp(&m, 7);
	struct drain_ctx d = { .rfd = sv[1], .cap = m.size };
	d.got = malloc(d.cap);
	struct iovec iov[MSG_FIELDS];
	unsigned calls = 0;
	msg_iov(&m, iov);
	int r = net_sendv_all(sv[0], iov, MSG_FIELDS, 0, &calls, on_eagain, &d, 0);
	CHECK(r == 0, "net_sendv_all failed: %s", strerror(errno));
	close(sv[0]);
	drain_some(&d, d.cap);
	CHECK(d.have == m.size, "received %zu of %zu", d.have, m.size);
	CHECK(calls > 1 && d.retries > 0, "no short writes happened (calls %u)", calls);
	size_t off = 0;
	for (int f = 0; f < MSG_FIELDS; f++) {
		CHECK(memcmp(d.got + off, m.field[f], m.len[f]) == 0, "field %d out of order", f);
		off += m.len[f];
	}
	free(d.got);
	msg_free(&m);
	close(sv[1]);
	return true;
}

static bool test_parse_size(void)
{
	static const struct { const char *s; uint64_t v; } good[] = {
		{ "64", 64 }, { "1K", 1024 }, { "4k", 4096 }, { "64K", 65536 }, { "1M", 1 << 20 },
		{ "64M", 64ull << 20 }, { "2G", 2ull << 30 }, { "16KiB", 16384 }, { "1MB", 1 << 20 },
	};
	static const char *bad[] = { "", "K", "-1", "1.5K", "10X", "1KK", " 64", "64 ",
				     "99999999999999999999", "17179869184G", "0x40" };
	uint64_t v;
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		CHECK(parse_size(good[i].s, &v) == 0, "'%s' rejected", good[i].s);
		CHECK(v == good[i].v, "'%s' -> %" PRIu64, good[i].s, v);
	}
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		CHECK(parse_size(bad[i], &v) < 0, "'%s' accepted", bad[i]);
	return true;
}

static bool test_parse_numbers(void)
{
	uint64_t v;
	double d;
	int cpus[8];
	CHECK(parse_uint_range("8", 1, 1024, &v) == 0 && v == 8, "8");
	CHECK(parse_uint_range("0", 1, 1024, &v) < 0, "0 accepted");
	CHECK(parse_uint_range("1025", 1, 1024, &v) < 0, "1025 accepted");
	CHECK(parse_uint_range("-3", 1, 1024, &v) < 0, "-3 accepted");
	CHECK(parse_uint_range("3x", 1, 1024, &v) < 0, "3x accepted");
	CHECK(parse_uint_range("18446744073709551616", 1, UINT64_MAX, &v) < 0, "overflow accepted");
	CHECK(parse_seconds("2.5", &d) == 0 && d == 2.5, "2.5");
	CHECK(parse_seconds("3s", &d) == 0 && d == 3, "3s");
	CHECK(parse_seconds("0", &d) == 0 && d == 0, "0");
	CHECK(parse_seconds("-1", &d) < 0, "-1 accepted");
	CHECK(parse_seconds("nan", &d) < 0, "nan accepted");
	CHECK(parse_seconds("inf", &d) < 0, "inf accepted");
	CHECK(parse_seconds("1e9", &d) < 0, "1e9 accepted");
	CHECK(parse_seconds("2x", &d) < 0, "2x accepted");
	CHECK(parse_seconds("0x7", &d) < 0, "hex float 0x7 accepted");
	CHECK(parse_seconds("1e2", &d) < 0, "exponent accepted");
	CHECK(parse_seconds("1.2.3", &d) < 0, "1.2.3 accepted");
	CHECK(parse_seconds(".5", &d) == 0 && d == 0.5, ".5");
	CHECK(parse_seconds("s", &d) < 0 && parse_seconds("1ss", &d) < 0, "bare or doubled s accepted");
	CHECK(parse_cpu_list("0,2-3", cpus, 8) == 3 && cpus[0] == 0 && cpus[1] == 2 && cpus[2] == 3, "0,2-3");
	CHECK(parse_cpu_list("3-1", cpus, 8) < 0, "3-1 accepted");
	CHECK(parse_cpu_list("0,", cpus, 8) < 0, "0, accepted");
	CHECK(parse_cpu_list("a", cpus, 8) < 0, "a accepted");
	CHECK(parse_cpu_list("0-9", cpus, 8) < 0, "overlong list accepted");
	return true;
}

static bool test_hello(void)
{
	struct hello h = { .magic = HELLO_MAGIC, .version = HELLO_VERSION, .strategy = STRAT_A1,
			   .mode = MODE_STREAM, .flags = HELLO_F_PER_FIELD, .msg_size = 65536 }, g;
	uint8_t buf[HELLO_LEN];
	char w[REPLY_REASON_MAX];
	hello_encode(&h, buf);
	CHECK(buf[0] == 'C' && buf[1] == 'P' && buf[2] == 'Y' && buf[3] == 'B', "magic bytes");
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) == 0, "round trip: %s", w);
	CHECK(g.strategy == STRAT_A1 && g.flags == HELLO_F_PER_FIELD && g.msg_size == 65536, "fields");
	CHECK(hello_decode(buf, 20, &g, w, sizeof(w)) < 0 && strstr(w, "truncated"), "truncated: %s", w);
	buf[0] ^= 1;
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) < 0 && strstr(w, "magic"), "magic: %s", w);
	buf[0] ^= 1;
	struct hello bad = h;
	bad.version = 9;
	hello_encode(&bad, buf);
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) < 0 && strstr(w, "version"), "version: %s", w);
	bad = h;
	bad.msg_size = 0;
	hello_encode(&bad, buf);
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) < 0 && strstr(w, "size"), "size 0: %s", w);
	bad.msg_size = UINT64_MAX;
	hello_encode(&bad, buf);
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) < 0, "size 2^64-1 accepted");
	bad = h;
	bad.strategy = STRAT_A2;   /* per-field is a1's */
	hello_encode(&bad, buf);
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) < 0 && strstr(w, "per-field"), "per-field: %s", w);
	bad = h;
	bad.mode = 77;
	hello_encode(&bad, buf);
	CHECK(hello_decode(buf, sizeof(buf), &g, w, sizeof(w)) < 0 && strstr(w, "mode"), "mode: %s", w);
	return true;
}

static bool test_reply(void)
{
	uint8_t buf[REPLY_LEN];
	char r[REPLY_REASON_MAX];
	int st;
	reply_encode(REPLY_REJECT, "strategy mismatch: server runs a2, client asked for a1", buf);
	CHECK(reply_decode(buf, sizeof(buf), &st, r, sizeof(r)) == 0, "decode");
	CHECK(st == REPLY_REJECT && strcmp(r, "strategy mismatch: server runs a2, client asked for a1") == 0,
	      "got %d '%s'", st, r);
	memset(buf + 8, 'x', REPLY_LEN - 8);   /* no NUL: must stay bounded */
	CHECK(reply_decode(buf, sizeof(buf), &st, r, sizeof(r)) == 0 && strlen(r) < sizeof(r), "unterminated");
	buf[0] = 0;
	CHECK(reply_decode(buf, sizeof(buf), &st, r, sizeof(r)) < 0, "bad magic accepted");
	return true;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return x < y ? -1 : x > y;
}

static bool test_hist_known(void)
{
	static struct hist h;
	hist_init(&h);
	for (uint64_t v = 1; v <= 100000; v++)
		hist_record(&h, v);
	static const double qs[] = { 0.5, 0.9, 0.99, 0.999 };
	for (size_t i = 0; i < 4; i++) {
		double want = qs[i] * 100000, got = hist_quantile(&h, qs[i]);
		CHECK(fabs(got - want) / want <= 0.01, "q%g: %g, want %g", qs[i], got, want);
	}
	CHECK(hist_quantile(&h, 1.0) == 100000, "max quantile %g", hist_quantile(&h, 1.0));
	CHECK(h.min_ns == 1 && h.max_ns == 100000 && h.count == 100000, "min/max/count");
	CHECK(h.sum_ns == 5000050000ull, "sum %" PRIu64, h.sum_ns);
	return true;
}

static bool test_hist_random(void)
{
	/* log-uniform samples over 100 ns .. 100 ms against exact order statistics */
	enum { N = 200000 };
	static uint64_t v[N];
	static struct hist a, b, all;
	hist_init(&a);
	hist_init(&b);
	hist_init(&all);
	uint64_t x = 88172645463325252ull;
	for (int i = 0; i < N; i++) {
		x ^= x << 13; x ^= x >> 7; x ^= x << 17;
		double u = (double)(x >> 11) / 9007199254740992.0;
		v[i] = (uint64_t)(100.0 * pow(1e6, u));
		hist_record(i % 2 ? &a : &b, v[i]);
		hist_record(&all, v[i]);
	}
	hist_merge(&a, &b);
	CHECK(memcmp(&a, &all, sizeof(a)) == 0, "merge of halves differs from the whole");
	qsort(v, N, sizeof(v[0]), cmp_u64);
	static const double qs[] = { 0.01, 0.5, 0.9, 0.99, 0.999 };
	for (size_t i = 0; i < 5; i++) {
		uint64_t rank = (uint64_t)ceil(qs[i] * N);
		double want = (double)v[rank - 1], got = hist_quantile(&all, qs[i]);
		CHECK(fabs(got - want) / want <= 0.01, "q%g: %g, want %g", qs[i], got, want);
	}
	hist_init(&b);
	CHECK(hist_quantile(&b, 0.5) == 0, "empty histogram");
	hist_record(&b, UINT64_MAX);   /* the largest value has a bucket */
	CHECK(hist_quantile(&b, 0.5) == (double)UINT64_MAX, "huge value");
	return true;
}

/* ---- the zero-copy pool ------------------------------------------------ */

/* Send one message on buffer `slot` in `calls` sendmsg() calls. */
static void pool_send(struct zc_pool *p, int slot, unsigned calls)
{
	unsigned *n = zc_pool_begin(p, slot);
	*n += calls;
	zc_pool_end(p);
}

static bool test_pool_lifo(void)
{
	struct zc_pool p;
	CHECK(zc_pool_init(&p, 4) == 0, "init");
	int a = zc_pool_take(&p), b, c;
	CHECK(a == 0, "first buffer %d, want 0", a);
	pool_send(&p, a, 1);                       /* call 0 */
	b = zc_pool_take(&p);
	pool_send(&p, b, 1);                       /* call 1 */
	c = zc_pool_take(&p);
	pool_send(&p, c, 1);                       /* call 2 */
	CHECK(p.in_flight == 3 && zc_pool_outstanding(&p) == 3, "in flight %u", p.in_flight);
	CHECK(zc_pool_complete(&p, 0, 2) == 0, "complete 0..1");
	/* the most recently completed buffer (b) comes back first, then a */
	int x = zc_pool_take(&p);
	CHECK(x == b, "took %d after completing %d,%d; want %d (LIFO)", x, a, b, b);
	pool_send(&p, x, 1);                       /* call 3 */
	int y = zc_pool_take(&p);
	CHECK(y == a, "then %d, want %d", y, a);
	pool_send(&p, y, 1);                       /* call 4 */
	int z = zc_pool_take(&p);                  /* the never-used fourth */
	CHECK(z == 3, "then %d, want 3", z);
	pool_send(&p, z, 1);                       /* call 5 */
	CHECK(zc_pool_take(&p) == -1, "a fifth buffer from a pool of 4");
	CHECK(p.in_flight_max == 4, "high-water %u", p.in_flight_max);
	CHECK(zc_pool_complete(&p, 2, 4) == 0, "complete 2..5");
	CHECK(p.in_flight == 0 && p.count == 0 && zc_pool_outstanding(&p) == 0, "all back");
	zc_pool_free(&p);
	return true;
}

static bool test_pool_partial_calls(void)
{
	/* a message sent in 3 calls; an ENOBUFS-retry drain sees the first
	 * two complete while the third is still to be made */
	struct zc_pool p;
	CHECK(zc_pool_init(&p, 2) == 0, "init");
	int s = zc_pool_take(&p);
	unsigned *calls = zc_pool_begin(&p, s);
	*calls += 2;                                /* calls 0, 1 succeeded */
	CHECK(zc_pool_complete(&p, 0, 2) == 0, "completion of the partial message's calls refused");
	CHECK(p.in_flight == 1, "buffer freed while its message is still being sent");
	*calls += 1;                                /* call 2 */
	zc_pool_end(&p);
	CHECK(p.in_flight == 1, "freed before its last call completed");
	CHECK(zc_pool_complete(&p, 2, 1) == 0, "complete call 2");
	CHECK(p.in_flight == 0, "not freed after all calls completed");
	/* a message whose calls all completed before it ended is free at end */
	s = zc_pool_take(&p);
	calls = zc_pool_begin(&p, s);
	*calls += 1;                                /* call 3 */
	CHECK(zc_pool_complete(&p, 3, 1) == 0, "complete call 3 mid-message");
	zc_pool_end(&p);
	CHECK(p.in_flight == 0 && p.count == 0, "in flight %u, records %u", p.in_flight, p.count);
	/* a send that made no call gives its buffer back */
	s = zc_pool_take(&p);
	zc_pool_begin(&p, s);
	zc_pool_end(&p);
	CHECK(p.in_flight == 0 && p.nfree == 2 && p.next_id == 4, "failed send kept its buffer");
	zc_pool_free(&p);
	return true;
}

static bool test_pool_ranges(void)
{
	struct zc_pool p;
	CHECK(zc_pool_init(&p, 8) == 0, "init");
	for (int i = 0; i < 6; i++)
		pool_send(&p, zc_pool_take(&p), 1);     /* calls 0..5 */
	/* out of order: a later range first, then the earlier one */
	CHECK(zc_pool_complete(&p, 3, 2) == 0, "complete 3..4 first");
	CHECK(p.in_flight == 4 && p.count == 6, "in flight %u records %u", p.in_flight, p.count);
	CHECK(zc_pool_complete(&p, 0, 3) == 0, "then 0..2");
	CHECK(p.count == 1, "records %u after 0..4, want 1", p.count);
	/* completed twice, or calls never made: refused */
	CHECK(zc_pool_complete(&p, 4, 1) < 0, "call 4 completed twice accepted");
	CHECK(zc_pool_complete(&p, 5, 2) < 0, "call 6 (never made) accepted");
	CHECK(zc_pool_complete(&p, 5, 1) == 0, "call 5");
	/* one merged range over several multi-call messages */
	for (int i = 0; i < 3; i++)
		pool_send(&p, zc_pool_take(&p), 2);     /* calls 6..11 */
	CHECK(zc_pool_complete(&p, 6, 6) == 0, "merged 6..11");
	CHECK(p.in_flight == 0 && p.count == 0, "in flight %u", p.in_flight);
	zc_pool_free(&p);
	/* the kernel's counter is u32: ranges across the wrap are matched */
	CHECK(zc_pool_init(&p, 4) == 0, "init");
	p.next_id = 0xfffffffeull;
	for (int i = 0; i < 4; i++)
		pool_send(&p, zc_pool_take(&p), 1);     /* 2^32-2 .. 2^32+1 */
	CHECK(zc_pool_complete(&p, 0xfffffffeu, 4) == 0, "range across the u32 wrap");
	CHECK(p.in_flight == 0, "wrap left %u in flight", p.in_flight);
	zc_pool_free(&p);
	return true;
}

static bool test_pool_depth(void)
{
	/* 8 sub-page fields cost 8 pages of send buffer each */
	uint32_t d = zc_pool_default_depth(64, 4u << 20);
	CHECK(d == 128 + 64 + 2, "64 B under 4 MiB: depth %u, want 194", d);
	/* 64 KiB: 8 x 8 KiB fields = 16 pages = 64 KiB; 64 fit */
	d = zc_pool_default_depth(64 << 10, 4u << 20);
	CHECK(d == 64 + 32 + 2, "64 KiB: depth %u, want 98", d);
	/* 36 KiB = 8 x 4608 B: 2 pages each, 64 KiB charged, not 36 */
	d = zc_pool_default_depth(36 << 10, 4u << 20);
	CHECK(d == 98, "36 KiB: depth %u, want 98", d);
	/* a message larger than the send buffer: one in flight, plus headroom */
	d = zc_pool_default_depth(64u << 20, 4u << 20);
	CHECK(d == 3, "64 MiB: depth %u, want 3", d);
	return true;
}

/* n messages of `size` as the sender puts them on the wire */
static uint8_t *wire_messages(uint64_t size, uint64_t first_seq, int n)
{
	struct msg m;
	uint8_t *w = malloc(size * (size_t)n), *p = w;
	if (!w || msg_alloc(&m, size) < 0)
		return NULL;
	for (int k = 0; k < n; k++) {
		msg_stamp(&m, first_seq + (uint64_t)k);
		for (int f = 0; f < MSG_FIELDS; f++) {
			memcpy(p, m.field[f], m.len[f]);
			p += m.len[f];
		}
	}
	msg_free(&m);
	return w;
}

static bool test_msg_reader(void)
{
	static const uint64_t sizes[] = { 64, 71, 4096, 65536 + 3 };
	uint32_t rnd = 12345;
	for (size_t z = 0; z < sizeof(sizes) / sizeof(sizes[0]); z++) {
		uint64_t size = sizes[z];
		int n = 5;
		uint8_t *w = wire_messages(size, 0, n);
		CHECK(w, "alloc");
		struct msg_reader r;
		msg_reader_init(&r, size, true);
		uint64_t done = 0;
		for (size_t off = 0; off < size * (size_t)n;) {   /* chunks cut anywhere */
			rnd = rnd * 1103515245u + 12345u;
			size_t len = 1 + (rnd >> 8) % (size_t)(size + 7);
			if (len > size * (size_t)n - off)
				len = size * (size_t)n - off;
			done += msg_reader_feed(&r, w + off, len);
			off += len;
		}
		CHECK(done == 5 && r.messages == 5 && r.errors == 0, "size %" PRIu64 ": %" PRIu64 " done, %" PRIu64 " errors: %s",
		      size, done, r.errors, r.why);
		/* a flipped pattern byte in message 3: one error, named */
		msg_reader_init(&r, size, true);
		w[3 * size + size / 2] ^= 0x5a;
		msg_reader_feed(&r, w, size * (size_t)n);
		CHECK(r.errors == 1 && strstr(r.why, "message 3 field"), "flip: %" PRIu64 " errors: %s", r.errors, r.why);
		/* without check_bytes only sequence numbers are checked */
		msg_reader_init(&r, size, false);
		msg_reader_feed(&r, w, size * (size_t)n);
		CHECK(r.errors == 0, "flip seen without check_bytes");
		free(w);
		/* a lost message (1 missing) counts once, then the stream resyncs */
		uint8_t *a = wire_messages(size, 0, 1), *b = wire_messages(size, 2, 3);
		CHECK(a && b, "alloc");
		msg_reader_init(&r, size, true);
		msg_reader_feed(&r, a, size);
		msg_reader_feed(&r, b, size * 3);
		CHECK(r.errors == 1 && strstr(r.why, "sequence 2 where 1"), "loss: %" PRIu64 ": %s", r.errors, r.why);
		free(a);
		free(b);
	}
	return true;
}

/* TCP_ZEROCOPY_RECEIVE's answer on kernels that know less of the struct:
 * on 5.10 (24 bytes back) the copy buffer's room we passed in must not be
 * read as 64 KiB copied (it fed stale bytes into the stream). */
static bool test_zc_rx_answer(void)
{
	static const struct { size_t len; bool inq, copybuf; } kernels[] = {
		{ 16, false, false },   /* 4.18 */
		{ 24, true, false },    /* 5.3 .. 5.10 */
		{ 40, true, true },     /* 5.11 */
		{ 64, true, true },     /* 5.12+ */
	};
	CHECK(sizeof(struct zc_rx_arg) == 64, "struct is %zu bytes, the kernel's 64", sizeof(struct zc_rx_arg));
	for (size_t i = 0; i < sizeof(kernels) / sizeof(kernels[0]); i++) {
		struct zc_rx_arg zc = { .length = 8192, .recv_skip_hint = 100, .inq = 5000, .err = 0,
					.copybuf_len = 65536, .msg_flags = 7 };
		zc_rx_answer(&zc, kernels[i].len);
		CHECK(zc.length == 8192 && zc.recv_skip_hint == 100, "len %zu: length/hint lost", kernels[i].len);
		CHECK((zc.inq == 5000) == kernels[i].inq, "len %zu: inq %u", kernels[i].len, zc.inq);
		CHECK((zc.copybuf_len == 65536) == kernels[i].copybuf, "len %zu: copybuf_len %d taken as copied",
		      kernels[i].len, zc.copybuf_len);
		CHECK((zc.msg_flags == 7) == (kernels[i].len == 64), "len %zu: msg_flags %u", kernels[i].len, zc.msg_flags);
	}
	return true;
}

/* Registered buffers: the kernel refuses one over 1 GiB (EFAULT), so a
 * larger region goes in pieces cut at message boundaries. */
static bool test_uring_fixed_pieces(void)
{
	const size_t G = 1ull << 30, M = 1ull << 20;
	CHECK(uring_fixed_piece_len(64 * M, M) == 64 * M, "small region: one piece");
	CHECK(uring_fixed_piece_len(2 * G, M) == G, "2 GiB of 1 MiB messages: %zu", uring_fixed_piece_len(2 * G, M));
	size_t unit = 1049088;   /* 1 MiB + 8 x 64-byte field padding */
	size_t p = uring_fixed_piece_len(2 * G, unit);
	CHECK(p <= G && p % unit == 0 && p + unit > G, "odd unit: piece %zu", p);
	CHECK(uring_fixed_piece_len(10 * G, 3 * 64) % (3 * 64) == 0, "pieces hold whole messages");
	CHECK(uring_fixed_piece_len(2 * G, G + 1) == 0, "a message over 1 GiB cannot be registered");
	return true;
}

/* The server asks its kernel what SENDMSG_ZC takes (no version guesses):
 * a flag the kernel does not know is refused at prep, and answered no. */
static bool test_uring_zc_probe(void)
{
	if (!uring_zc_supported(0))
		return true;   /* no io_uring or no SENDMSG_ZC here: nothing to tell apart */
	CHECK(!uring_zc_supported(1u << 12), "a send flag no kernel has was taken as supported");
	return true;
}

/* The page-cache engines: the ring length both sides compute, the hello's
 * rules for the engine flags, and a stream reader that wraps with the ring. */
static bool test_pagecache_ring(void)
{
	CHECK(pc_ring_len(64, 1) == PC_RING_MAX && pc_ring_len(65536, 1) == 64 &&
	      pc_ring_len(1 << 20, 1) == 4 && pc_ring_len(64ull << 20, 1) == 2 && pc_ring_len(1000, 1) == 4195,
	      "ring lengths %u %u %u %u %u", pc_ring_len(64, 1), pc_ring_len(65536, 1), pc_ring_len(1 << 20, 1),
	      pc_ring_len(64ull << 20, 1), pc_ring_len(1000, 1));
	CHECK(pc_ring_len(1 << 20, 100) == 100, "--buffers is the minimum: %u", pc_ring_len(1 << 20, 100));
	CHECK(pc_mem_bytes(1000, 3) == 4096 && pc_mem_bytes(4096, 2) == 8192, "whole pages");
	CHECK(!strcmp(engine_name(HELLO_F_SENDFILE), "sendfile") && !strcmp(engine_name(HELLO_F_SPLICE), "splice") &&
	      !strcmp(engine_name(HELLO_F_URING | HELLO_F_FIXED), "uring") && !strcmp(engine_name(0), "syscall"),
	      "engine names");
	struct hello h = { .magic = HELLO_MAGIC, .version = HELLO_VERSION, .strategy = STRAT_A3,
			   .mode = MODE_STREAM, .flags = HELLO_F_SENDFILE, .msg_size = 65536 }, g;
	uint8_t buf[HELLO_LEN];
	char w[REPLY_REASON_MAX];
	static const struct { uint8_t strategy; uint32_t flags; bool ok; } cases[] = {
		{ STRAT_A3, HELLO_F_SENDFILE, true }, { STRAT_A3, HELLO_F_SPLICE, true },
		{ STRAT_A2, HELLO_F_SENDFILE, false }, { STRAT_A1, HELLO_F_SPLICE, false },
		{ STRAT_A3, HELLO_F_SENDFILE | HELLO_F_SPLICE, false },
		{ STRAT_A3, HELLO_F_SENDFILE | HELLO_F_URING, false },
	};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		h.strategy = cases[i].strategy;
		h.flags = cases[i].flags;
		hello_encode(&h, buf);
		int r = hello_decode(buf, sizeof(buf), &g, w, sizeof(w));
		CHECK((r == 0) == cases[i].ok && (r == 0 || strstr(w, "sendfile")), "case %zu: %d %s", i, r, w);
	}
	/* a ring of 3: the stream 0 1 2 0 1 is right, 0 1 2 3 is not */
	uint64_t size = 71;
	uint8_t *a = wire_messages(size, 0, 3), *b = wire_messages(size, 0, 2), *c = wire_messages(size, 3, 1);
	CHECK(a && b && c, "alloc");
	struct msg_reader r;
	msg_reader_init(&r, size, true);
	r.ring = 3;
	msg_reader_feed(&r, a, size * 3);
	msg_reader_feed(&r, b, size * 2);
	CHECK(r.messages == 5 && r.errors == 0, "wrapped stream: %" PRIu64 " errors: %s", r.errors, r.why);
	msg_reader_init(&r, size, true);
	r.ring = 3;
	msg_reader_feed(&r, a, size * 3);
	msg_reader_feed(&r, c, size);
	CHECK(r.errors == 1 && strstr(r.why, "sequence 3 where 0"), "no wrap: %" PRIu64 ": %s", r.errors, r.why);
	free(a);
	free(b);
	free(c);
	return true;
}

/* Per-interval samples: a thread's checks fill the boundaries they pass,
 * two threads merge per boundary, and a run of empty intervals is a stall. */
static bool test_samples(void)
{
	const uint64_t ms = 1000000ull, start = 1000 * ms;
	struct samples a, b, sum = { 0 };
	struct stability st;
	CHECK(samples_init(&a, start, start + 1000 * ms, 100 * ms) == 0 && a.n == 11, "n %u", a.n);
	CHECK(samples_init(&b, start, start + 1000 * ms, 100 * ms) == 0, "init b");
	CHECK(samples_boundary(&a, 10) == start + 1000 * ms, "last boundary");
	CHECK(!samples_due(&a, start - 1) && samples_due(&a, start), "due at the start");
	/* a checks every 10 ms and gets 1000 bytes a check, none after 300 until 600 ms */
	uint64_t bytes = 0;
	for (uint64_t t = 0; t <= 1000; t += 10) {
		if (t <= 300 || t > 600)
			bytes += 1000;
		struct sample cum = { .t_ns = start + t * ms, .bytes = bytes, .messages = bytes / 100 };
		if (samples_due(&a, cum.t_ns))
			samples_take(&a, &cum);
	}
	CHECK(a.taken == a.n, "taken %u of %u", a.taken, a.n);
	CHECK(a.s[3].bytes == a.s[6].bytes && a.s[3].bytes == 31000, "stalled intervals moved bytes");
	samples_stability(&a, &st);
	CHECK(st.intervals == 10, "intervals %u", st.intervals);
	CHECK(fabs(st.stall_s - 0.3) < 1e-9, "stall %g, want 0.3", st.stall_s);
	CHECK(st.cv > 0.5, "cv %g", st.cv);
	/* b checks once, late (a thread blocked the whole window), then ends early */
	struct sample late = { .t_ns = start + 450 * ms, .bytes = 5000 };
	samples_take(&b, &late);
	CHECK(b.taken == 5, "late check filled %u boundaries, want 5", b.taken);
	late.bytes = 7000;
	samples_finish(&b, &late);
	CHECK(b.taken == b.n && b.s[10].bytes == 7000, "finish");
	CHECK(samples_merge(&sum, &a) == 0 && samples_merge(&sum, &b) == 0, "merge");
	CHECK(sum.s[10].bytes - sum.s[0].bytes == (a.s[10].bytes - a.s[0].bytes) + 2000,
	      "merged total %" PRIu64, sum.s[10].bytes - sum.s[0].bytes);
	/* steady: no stall, cv 0, no drift */
	struct samples c;
	CHECK(samples_init(&c, start, start + 1000 * ms, 100 * ms) == 0, "init c");
	for (uint32_t k = 0; k < c.n; k++)
		c.s[k] = (struct sample){ .t_ns = samples_boundary(&c, k), .bytes = 5000ull * k };
	c.taken = c.n;
	samples_stability(&c, &st);
	CHECK(st.stall_s == 0 && st.cv < 1e-12 && fabs(st.drift - 1) < 1e-12,
	      "steady: stall %g cv %g drift %g", st.stall_s, st.cv, st.drift);
	struct samples d;
	CHECK(samples_init(&d, start, start + 500 * ms, 100 * ms) == 0, "init d");
	CHECK(samples_merge(&d, &c) < 0, "merged samples of another window");
	samples_free(&d);
	CHECK(samples_init(&d, start, start + 1000 * ms, 0) == 0 && !d.n && !samples_due(&d, start),
	      "interval 0 is off");
	CHECK(samples_init(&d, 0, 1000 * 1000 * ms, ms / 100) < 0, "too many boundaries accepted");
	samples_free(&a);
	samples_free(&b);
	samples_free(&c);
	samples_free(&sum);
	return true;
}

int main(void)
{
	run("size split places the remainder in the first fields", test_size_split);
	run("message alloc, fill, stamp", test_alloc_fill_stamp);
	run("pattern is irregular", test_pattern_distinct);
	run("verify catches a skipped sequence and a corrupted byte", test_verify);
	run("iov_advance on partial writes", test_iov_advance);
	run("net_sendv_all survives short writes", test_sendv_short_writes);
	run("parse_size good and bad", test_parse_size);
	run("parse numbers, seconds, CPU lists", test_parse_numbers);
	run("hello encode/decode and rejects", test_hello);
	run("reply encode/decode", test_reply);
	run("histogram percentiles of 1..100000 within 1%", test_hist_known);
	run("histogram vs exact quantiles, merge", test_hist_random);
	run("zero-copy pool reuses the most recently completed buffer", test_pool_lifo);
	run("zero-copy pool registers each call as it is made", test_pool_partial_calls);
	run("zero-copy pool: out-of-order, merged, wrapped, bogus ranges", test_pool_ranges);
	run("zero-copy pool depth from the send-buffer charge", test_pool_depth);
	run("stream reader checks messages cut anywhere", test_msg_reader);
	run("receive zero-copy reads only the answer the kernel wrote", test_zc_rx_answer);
	run("io_uring registers a region in pieces of at most 1 GiB", test_uring_fixed_pieces);
	run("io_uring SENDMSG_ZC flags are asked of the kernel by a trial", test_uring_zc_probe);
	run("page-cache ring: its length, the hello's engine rules, sequences modulo the ring", test_pagecache_ring);
	run("per-interval samples: boundaries, merge, stall", test_samples);
	return failures ? 1 : 0;
}
