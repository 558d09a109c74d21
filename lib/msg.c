/* lib/msg.c — the message: its 8 fields, pattern, stamp and check; message
 * sets (--buffers); the in-place reader of a byte stream of messages; the
 * hello protocol's wire format.  Pure: no sockets, no threads. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

/* ======================================================================
 * messages
 * ====================================================================== */

size_t msg_field_len(size_t size, int field)
{
	return size / MSG_FIELDS + ((size_t)field < size % MSG_FIELDS ? 1 : 0);
}

uint8_t msg_pattern_byte(int field, size_t offset)
{
	/* Changes every byte and differs per field, so a shifted, swapped or
	 * stale region never matches by accident. */
	uint32_t x = (uint32_t)offset * 2654435761u + (uint32_t)field * 0x9e3779b9u;
	return (uint8_t)(x >> 24 ^ x >> 11 ^ (uint32_t)offset);
}

void msg_fill(struct msg *m)
{
	for (int f = 0; f < MSG_FIELDS; f++)
		for (size_t i = 0; i < m->len[f]; i++)
			m->field[f][i] = msg_pattern_byte(f, i);
}

int msg_alloc(struct msg *m, size_t size)
{
	memset(m, 0, sizeof(*m));
	m->size = size;
	for (int f = 0; f < MSG_FIELDS; f++) {
		m->len[f] = msg_field_len(size, f);
		m->field[f] = malloc(m->len[f] ? m->len[f] : 1);
		if (!m->field[f]) {
			msg_free(m);
			errno = ENOMEM;
			return -1;
		}
	}
	msg_fill(m);
	return 0;
}

void msg_free(struct msg *m)
{
	for (int f = 0; f < MSG_FIELDS; f++) {
		free(m->field[f]);
		m->field[f] = NULL;
	}
}

void msg_stamp(struct msg *m, uint64_t seq)
{
	for (int i = 0; i < 8; i++)
		m->field[0][i] = (uint8_t)(seq >> (8 * i));
}

uint64_t msg_seq(const struct msg *m)
{
	uint64_t seq = 0;
	for (int i = 0; i < 8; i++)
		seq |= (uint64_t)m->field[0][i] << (8 * i);
	return seq;
}

int msg_verify(const struct msg *m, uint64_t seq, bool check_bytes, char *why, size_t whylen)
{
	uint64_t got = msg_seq(m);
	if (got != seq) {
		snprintf(why, whylen, "sequence %" PRIu64 " where %" PRIu64 " was expected", got, seq);
		return -1;
	}
	if (!check_bytes)
		return 0;
	for (int f = 0; f < MSG_FIELDS; f++) {
		for (size_t i = f == 0 ? 8 : 0; i < m->len[f]; i++) {
			if (m->field[f][i] != msg_pattern_byte(f, i)) {
				snprintf(why, whylen, "message %" PRIu64 " field %d byte %zu is 0x%02x, expected 0x%02x",
					 seq, f, i, m->field[f][i], msg_pattern_byte(f, i));
				return -1;
			}
		}
	}
	return 0;
}

int msg_set_alloc(struct msg_set *set, uint32_t n, size_t size)
{
	memset(set, 0, sizeof(*set));
	set->m = calloc(n ? n : 1, sizeof(*set->m));
	if (!set->m)
		return -1;
	for (; set->n < n; set->n++) {
		if (msg_alloc(&set->m[set->n], size) < 0) {
			msg_set_free(set);
			errno = ENOMEM;
			return -1;
		}
	}
	return 0;
}

int msg_set_alloc_region(struct msg_set *set, uint32_t n, size_t size)
{
	size_t per = 0;
	for (int f = 0; f < MSG_FIELDS; f++)
		per += (msg_field_len(size, f) + 63) & ~(size_t)63;
	memset(set, 0, sizeof(*set));
	set->region_len = (per * n + 4095) & ~(size_t)4095;
	set->m = calloc(n ? n : 1, sizeof(*set->m));
	set->region = mmap(NULL, set->region_len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
	if (!set->m || set->region == MAP_FAILED) {
		free(set->m);
		if (set->region != MAP_FAILED)
			munmap(set->region, set->region_len);
		memset(set, 0, sizeof(*set));
		errno = ENOMEM;
		return -1;
	}
	uint8_t *p = set->region;
	for (set->n = 0; set->n < n; set->n++) {
		struct msg *m = &set->m[set->n];
		m->size = size;
		for (int f = 0; f < MSG_FIELDS; f++) {
			m->len[f] = msg_field_len(size, f);
			m->field[f] = p;
			p += (m->len[f] + 63) & ~(size_t)63;
		}
		msg_fill(m);   /* written now: first-touch faults before the clock */
	}
	return 0;
}

void msg_set_free(struct msg_set *set)
{
	for (uint32_t i = 0; i < set->n && !set->region; i++)
		msg_free(&set->m[i]);
	if (set->region)
		munmap(set->region, set->region_len);
	free(set->m);
	memset(set, 0, sizeof(*set));
}

uint64_t msg_mem_bytes(uint64_t size)
{
	uint64_t total = sizeof(struct msg);
	for (int f = 0; f < MSG_FIELDS; f++) {
		uint64_t len = msg_field_len(size, f);
		if (len >= 128 * 1024)     /* glibc mmaps these: whole pages */
			total += (len + 16 + 4095) & ~4095ull;
		else                       /* chunk header, 16-byte rounding, 32-byte minimum */
			total += len + 8 < 32 ? 32 : (len + 8 + 15) & ~15ull;
	}
	return total;
}

void msg_iov(const struct msg *m, struct iovec iov[MSG_FIELDS])
{
	for (int f = 0; f < MSG_FIELDS; f++) {
		iov[f].iov_base = m->field[f];
		iov[f].iov_len = m->len[f];
	}
}

void msg_reader_init(struct msg_reader *r, uint64_t size, bool check_bytes)
{
	memset(r, 0, sizeof(*r));
	r->size = size;
	r->check_bytes = check_bytes;
	for (int f = 0; f < MSG_FIELDS; f++)
		r->field_start[f + 1] = r->field_start[f] + msg_field_len(size, f);
}

static void msg_reader_error(struct msg_reader *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void msg_reader_error(struct msg_reader *r, const char *fmt, ...)
{
	va_list ap;
	r->errors++;
	va_start(ap, fmt);
	vsnprintf(r->why, sizeof(r->why), fmt, ap);
	va_end(ap);
}

/* The 8-byte stamp is whole: check it, resynchronise on a mismatch. */
static bool msg_reader_stamp(struct msg_reader *r)
{
	uint64_t got = 0;
	for (int i = 0; i < 8; i++)
		got |= (uint64_t)r->stamp[i] << (8 * i);
	if (got == r->seq)
		return true;
	msg_reader_error(r, "sequence %" PRIu64 " where %" PRIu64 " was expected", got, r->seq);
	r->seq = got;   /* one loss counts once */
	return false;
}

uint64_t msg_reader_feed(struct msg_reader *r, const uint8_t *p, size_t n)
{
	uint64_t done = 0;
	while (n) {
		if (r->pos < 8) {                 /* the stamp, in field 0 */
			r->stamp[r->pos++] = *p++;
			n--;
			if (r->pos == 8 && !msg_reader_stamp(r))
				r->bad = true;
		} else {
			uint64_t take = r->size - r->pos < n ? r->size - r->pos : n;
			for (uint64_t k = 0; r->check_bytes && k < take; k++) {
				uint64_t off = r->pos + k;
				int f = 0;
				while (off >= r->field_start[f + 1])
					f++;
				uint8_t want = msg_pattern_byte(f, (size_t)(off - r->field_start[f]));
				if (p[k] != want && !r->bad) {
					msg_reader_error(r, "message %" PRIu64 " field %d byte %" PRIu64 " is 0x%02x, expected 0x%02x",
							 r->seq, f, off - r->field_start[f], p[k], want);
					r->bad = true;
				}
			}
			r->pos += take;
			p += take;
			n -= take;
		}
		if (r->pos == r->size) {
			r->pos = 0;
			if (++r->seq == r->ring)
				r->seq = 0;
			r->messages++;
			done++;
			r->bad = false;
		}
	}
	return done;
}

/* ======================================================================
 * the hello protocol — explicit little-endian layout, host independent
 *   0 magic u32 | 4 version u16 | 6 strategy u8 | 7 mode u8 | 8 flags u32
 *  12 duration_ms u32 (warm-up + duration; 0 = not given) | 16 msg_size u64
 *  24 warmup_ms u32 | 28 buffers u16 (0 = 1) | 30 uring_depth u16 (0 = default)
 * ====================================================================== */

void put_le(uint8_t *p, uint64_t v, int n)
{
	for (int i = 0; i < n; i++)
		p[i] = (uint8_t)(v >> (8 * i));
}

uint64_t get_le(const uint8_t *p, int n)
{
	uint64_t v = 0;
	for (int i = 0; i < n; i++)
		v |= (uint64_t)p[i] << (8 * i);
	return v;
}

void hello_encode(const struct hello *h, uint8_t out[HELLO_LEN])
{
	memset(out, 0, HELLO_LEN);
	put_le(out + 0, h->magic, 4);
	put_le(out + 4, h->version, 2);
	out[6] = h->strategy;
	out[7] = h->mode;
	put_le(out + 8, h->flags, 4);
	put_le(out + 12, h->duration_ms, 4);
	put_le(out + 16, h->msg_size, 8);
	put_le(out + 24, h->warmup_ms, 4);
	put_le(out + 28, h->buffers, 2);
	put_le(out + 30, h->uring_depth, 2);
}

int hello_decode(const uint8_t *buf, size_t len, struct hello *h, char *why, size_t whylen)
{
	if (len < HELLO_LEN) {
		snprintf(why, whylen, "truncated hello (%zu of %d bytes)", len, HELLO_LEN);
		return -1;
	}
	h->magic = (uint32_t)get_le(buf, 4);
	h->version = (uint16_t)get_le(buf + 4, 2);
	h->strategy = buf[6];
	h->mode = buf[7];
	h->flags = (uint32_t)get_le(buf + 8, 4);
	h->duration_ms = (uint32_t)get_le(buf + 12, 4);
	h->msg_size = get_le(buf + 16, 8);
	h->warmup_ms = (uint32_t)get_le(buf + 24, 4);
	h->buffers = (uint16_t)get_le(buf + 28, 2);
	h->uring_depth = (uint16_t)get_le(buf + 30, 2);
	if (h->magic != HELLO_MAGIC) {
		snprintf(why, whylen, "not a copybench client (bad magic 0x%08" PRIx32 ")", h->magic);
		return -1;
	}
	if (h->version != HELLO_VERSION) {
		snprintf(why, whylen, "protocol version %u not supported (this is %d)",
			 h->version, HELLO_VERSION);
		return -1;
	}
	if (!strategy_info(h->strategy)) {
		snprintf(why, whylen, "unknown strategy %u", h->strategy);
		return -1;
	}
	if (h->mode != MODE_STREAM && h->mode != MODE_RR) {
		snprintf(why, whylen, "unknown mode %u", h->mode);
		return -1;
	}
	if (h->flags & ~HELLO_F_ALL) {
		snprintf(why, whylen, "unknown flags 0x%" PRIx32, h->flags);
		return -1;
	}
	if ((h->flags & HELLO_F_PER_FIELD) && h->strategy != STRAT_A1) {
		snprintf(why, whylen, "per-field applies to a1 only");
		return -1;
	}
	if ((h->flags & HELLO_F_URING) && h->strategy == STRAT_A1) {
		snprintf(why, whylen, "the io_uring engine applies to a2 and a3 only");
		return -1;
	}
	if ((h->flags & HELLO_F_PAGECACHE) &&
	    (h->strategy != STRAT_A3 || (h->flags & (HELLO_F_URING | HELLO_F_FIXED)) ||
	     (h->flags & HELLO_F_PAGECACHE) == HELLO_F_PAGECACHE)) {
		snprintf(why, whylen, "the sendfile and splice engines apply to a3 only, one engine at a time");
		return -1;
	}
	if ((h->flags & HELLO_F_FIXED) && (h->strategy != STRAT_A3 || !(h->flags & HELLO_F_URING))) {
		snprintf(why, whylen, "fixed buffers apply to a3 with the io_uring engine only");
		return -1;
	}
	if (h->uring_depth > URING_DEPTH_MAX) {
		snprintf(why, whylen, "io_uring depth %u, at most %d", h->uring_depth, URING_DEPTH_MAX);
		return -1;
	}
	if (h->msg_size < MSG_SIZE_MIN || h->msg_size > MSG_SIZE_MAX) {
		snprintf(why, whylen, "message size %" PRIu64 " not in 64..64M", h->msg_size);
		return -1;
	}
	if (h->buffers > BUFFERS_MAX) {
		snprintf(why, whylen, "%u buffers asked for, at most %d", h->buffers, BUFFERS_MAX);
		return -1;
	}
	if (h->duration_ms && h->warmup_ms > h->duration_ms) {
		snprintf(why, whylen, "warm-up %" PRIu32 " ms longer than the whole run (%" PRIu32 " ms)",
			 h->warmup_ms, h->duration_ms);
		return -1;
	}
	return 0;
}

/* reply: 0 magic u32 | 4 status u32 | 8 reason (NUL padded) */
void reply_encode(int status, const char *reason, uint8_t out[REPLY_LEN])
{
	memset(out, 0, REPLY_LEN);
	put_le(out, HELLO_MAGIC, 4);
	put_le(out + 4, (uint32_t)status, 4);
	if (reason)
		strncpy((char *)out + 8, reason, REPLY_REASON_MAX - 1);
}

int reply_decode(const uint8_t *buf, size_t len, int *status, char *reason, size_t reasonlen)
{
	if (len < REPLY_LEN || get_le(buf, 4) != HELLO_MAGIC)
		return -1;
	*status = (int)get_le(buf + 4, 4);
	size_t n = strnlen((const char *)buf + 8, REPLY_REASON_MAX);
	if (n >= reasonlen)
		n = reasonlen - 1;
	for (size_t i = 0; i < n; i++) {
		char ch = (char)buf[8 + i];
		reason[i] = (ch >= 32 && ch < 127) ? ch : '?';
	}
	reason[n] = '\0';
	return 0;
}
