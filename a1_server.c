/* a1_server.c — strategy a1, two-copy: the 8 fields are serialized into
 * one contiguous staging buffer (copy 1, user space, memcpy), then send()
 * copies that buffer into the kernel (copy 2).  Variant per-field (asked
 * for by the client): one send() per field, no staging buffer.  With
 * --buffers N (the client's) the fields rotate over N messages; the
 * staging buffer is one. */
#include "common.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct a1_state {
	struct msg_set msgs;
	uint8_t *staging;    /* msg.size bytes; NULL for per-field */
};

static uint64_t a1_mem_bytes(const struct conn *c)
{
	uint64_t msg = conn_buffers(c) * msg_mem_bytes(c->hello.msg_size);
	return c->hello.flags & HELLO_F_PER_FIELD ? msg : msg + c->hello.msg_size;
}

static int a1_open(struct conn *c)
{
	struct a1_state *st = calloc(1, sizeof(*st));
	if (!st || msg_set_alloc(&st->msgs, conn_buffers(c), c->hello.msg_size) < 0) {
		free(st);
		return conn_fail(c, "server out of memory for the message");
	}
	if (!(c->hello.flags & HELLO_F_PER_FIELD)) {
		st->staging = malloc(c->hello.msg_size);
		if (!st->staging) {
			msg_set_free(&st->msgs);
			free(st);
			return conn_fail(c, "server out of memory for the staging buffer");
		}
		memset(st->staging, 0, c->hello.msg_size);   /* touched before the clock starts */
	}
	c->priv = st;
	return 0;
}

static int a1_send(struct conn *c, uint64_t seq)
{
	struct a1_state *st = c->priv;
	struct msg *m = &st->msgs.m[seq % st->msgs.n];

	msg_stamp(m, seq);
	if (!st->staging) {
		for (int f = 0; f < MSG_FIELDS; f++)
			if (conn_send(c, m->field[f], m->len[f]) < 0)
				return -1;
		return 0;
	}
	uint8_t *p = st->staging;
	for (int f = 0; f < MSG_FIELDS; f++) {
		memcpy(p, m->field[f], m->len[f]);
		p += m->len[f];
	}
	return conn_send(c, st->staging, m->size);
}

static int a1_close(struct conn *c)
{
	struct a1_state *st = c->priv;
	if (st) {
		msg_set_free(&st->msgs);
		free(st->staging);
		free(st);
		c->priv = NULL;
	}
	return 0;
}

static const struct strategy a1 = {
	.id = STRAT_A1,
	.mem_bytes = a1_mem_bytes,
	.open = a1_open,
	.send = a1_send,
	.close = a1_close,
};

int main(int argc, char **argv)
{
	return server_main(argc, argv, &a1);
}
