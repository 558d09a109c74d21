/* tests/fuzz/fuzz_hello.c — libFuzzer target for the wire protocol:
 * hello_decode/hello_encode and reply_decode/reply_encode (lib/msg.c).
 *
 * Built by `make fuzz` with -fsanitize=fuzzer,address,undefined, so any
 * out-of-bounds access or undefined behaviour is a finding; on top of that
 * the properties below abort() when violated:
 *  - a hello that decodes is valid: magic, version, strategy a1..a3, a named
 *    mode, msg_size within MSG_SIZE_MIN..MSG_SIZE_MAX (what the server then
 *    allocates — the cap that bounds memory per connection);
 *  - it re-encodes to the same bytes at every field's offset (reserved
 *    bytes re-encode as zero), and the re-encoding decodes to the same
 *    struct;
 *  - a refused hello comes with a one-line, NUL-terminated reason that fits
 *    the caller's buffer, whatever its size;
 *  - a reply that decodes gives a printable, NUL-terminated reason that fits
 *    the caller's buffer (its size is taken from the input too), and
 *    reply_encode/reply_decode round-trip status and reason.
 * Buffers handed to the code under test are heap-allocated at their exact
 * size so AddressSanitizer sees a one-byte overrun.
 */
#include "common.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHECK(cond)                                                              \
	do {                                                                     \
		if (!(cond)) {                                                   \
			fprintf(stderr, "property violated: %s (%s:%d)\n", #cond, \
				__FILE__, __LINE__);                             \
			abort();                                                 \
		}                                                                \
	} while (0)

/* the bytes hello_encode writes from struct fields (the rest is reserved) */
static int hello_field_byte(int i)
{
	return i < 12 || (i >= 16 && i < 32);
}

static void check_reason(const char *why, size_t whylen)
{
	size_t n = strnlen(why, whylen);
	CHECK(n < whylen);                        /* NUL-terminated inside the buffer */
	CHECK(whylen == 1 || n > 0);              /* says something when it can */
	CHECK(memchr(why, '\n', n) == NULL);      /* one line */
}

static void fuzz_hello(const uint8_t *data, size_t size, size_t whylen)
{
	struct hello h, h2;
	uint8_t *buf = malloc(size ? size : 1);   /* exact size: overruns are caught */
	char *why = malloc(whylen);
	uint8_t out[HELLO_LEN];

	CHECK(buf && why);
	memcpy(buf, data, size);
	memset(&h, 0, sizeof(h));
	memset(why, 'X', whylen);
	if (hello_decode(buf, size, &h, why, whylen) != 0) {
		check_reason(why, whylen);
		free(buf);
		free(why);
		return;
	}
	CHECK(size >= HELLO_LEN);
	CHECK(h.magic == HELLO_MAGIC);
	CHECK(h.version == HELLO_VERSION);
	CHECK(h.strategy >= STRAT_A1 && h.strategy <= STRAT_A3);
	CHECK(strcmp(strategy_name(h.strategy), "?") != 0);
	CHECK(strcmp(mode_name(h.mode), "?") != 0);
	CHECK(h.msg_size >= MSG_SIZE_MIN && h.msg_size <= MSG_SIZE_MAX);
	CHECK(!(h.flags & HELLO_F_PER_FIELD) || h.strategy == STRAT_A1);

	hello_encode(&h, out);
	for (int i = 0; i < HELLO_LEN; i++) {
		if (hello_field_byte(i))
			CHECK(out[i] == buf[i]);
		else
			CHECK(out[i] == 0 || out[i] == buf[i]);
	}
	memset(&h2, 0, sizeof(h2));
	CHECK(hello_decode(out, HELLO_LEN, &h2, why, whylen) == 0);
	CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
	free(buf);
	free(why);
}

/* Any struct hello the client could build: encode, decode; a decoded one
 * must be the same struct. */
static void fuzz_hello_roundtrip(const uint8_t *data, size_t size)
{
	struct hello h, h2;
	uint8_t out[HELLO_LEN];
	char why[REPLY_REASON_MAX];

	if (size < 20)
		return;
	memset(&h, 0, sizeof(h));
	memcpy(&h.magic, data, 4);
	memcpy(&h.version, data + 4, 2);
	h.strategy = data[6];
	h.mode = data[7];
	memcpy(&h.flags, data + 8, 4);
	memcpy(&h.msg_size, data + 12, 8);
	if (data[0] & 1)                          /* half the time a plausible hello */
		h.magic = HELLO_MAGIC, h.version = HELLO_VERSION,
		h.msg_size = MSG_SIZE_MIN + h.msg_size % (MSG_SIZE_MAX - MSG_SIZE_MIN + 2);
	hello_encode(&h, out);
	memset(&h2, 0, sizeof(h2));
	if (hello_decode(out, sizeof(out), &h2, why, sizeof(why)) == 0)
		CHECK(memcmp(&h, &h2, sizeof(h)) == 0);
}

static void fuzz_reply(const uint8_t *data, size_t size, size_t reasonlen)
{
	uint8_t *buf = malloc(size ? size : 1);
	char *reason = malloc(reasonlen);
	int status = -12345;

	CHECK(buf && reason);
	memcpy(buf, data, size);
	if (reply_decode(buf, size, &status, reason, reasonlen) == 0) {
		CHECK(size >= REPLY_LEN);
		size_t n = strnlen(reason, reasonlen);
		CHECK(n < reasonlen);
		CHECK(n <= REPLY_REASON_MAX);
		for (size_t i = 0; i < n; i++)
			CHECK(reason[i] >= 32 && reason[i] < 127);
		uint32_t st = (uint32_t)buf[4] | (uint32_t)buf[5] << 8 | (uint32_t)buf[6] << 16 |
			      (uint32_t)buf[7] << 24;
		CHECK(status == (int)st);

		/* what the server would send back with this status and reason */
		uint8_t out[REPLY_LEN];
		char again[REPLY_LEN + 1];
		int status2 = -1;
		reply_encode(status, reason, out);
		CHECK(reply_decode(out, sizeof(out), &status2, again, sizeof(again)) == 0);
		CHECK(status2 == status);
		size_t keep = n < REPLY_REASON_MAX - 1 ? n : REPLY_REASON_MAX - 1;
		CHECK(strlen(again) == keep && memcmp(again, reason, keep) == 0);
	}
	free(buf);
	free(reason);
}

/* reply_encode with an arbitrary reason string: always decodes, printable,
 * truncated to REPLY_REASON_MAX - 1 bytes. */
static void fuzz_reply_encode(const uint8_t *data, size_t size)
{
	char *reason = malloc(size + 1);
	uint8_t out[REPLY_LEN];
	char back[REPLY_LEN];
	int status = -1;

	CHECK(reason);
	memcpy(reason, data, size);
	reason[size] = '\0';
	reply_encode(REPLY_REJECT, reason, out);
	CHECK(reply_decode(out, sizeof(out), &status, back, sizeof(back)) == 0);
	CHECK(status == REPLY_REJECT);
	size_t n = strlen(reason);
	CHECK(strlen(back) == (n < REPLY_REASON_MAX - 1 ? n : REPLY_REASON_MAX - 1));
	free(reason);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	/* the caller's buffer sizes come from the last byte: 1..96 */
	size_t len = size ? 1 + data[size - 1] % 96 : 1;

	fuzz_hello(data, size, len);
	fuzz_hello_roundtrip(data, size);
	fuzz_reply(data, size, len);
	fuzz_reply_encode(data, size);
	return 0;
}
