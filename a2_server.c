/* a2_server.c — strategy a2, one-copy: sendmsg() with an iovec[8] that
 * points straight at the 8 fields; the kernel gathers them while copying
 * into its socket buffers (the only CPU copy on the sending side).
 * With --buffers N (the client's) messages rotate over N buffers.  With
 * --engine uring the same iovec goes out as IORING_OP_SENDMSG, the copying
 * baseline for a3's SENDMSG_ZC inside the same engine: up to --uring-depth
 * requests are submitted at once, so that many buffers are in use. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

struct a2_state {
	struct msg_set msgs;
	struct uring_tx *tx;     /* --engine uring; NULL for sendmsg() */
};

static unsigned a2_uring_depth(const struct conn *c)
{
	return c->hello.uring_depth ? c->hello.uring_depth : URING_DEPTH_DEFAULT;
}

/* Buffers: --buffers, and with io_uring one per request of a chain. */
static uint32_t a2_buffers(const struct conn *c)
{
	uint32_t n = conn_buffers(c);
	if ((c->hello.flags & HELLO_F_URING) && n < a2_uring_depth(c))
		n = a2_uring_depth(c);
	return n;
}

static uint64_t a2_mem_bytes(const struct conn *c)
{
	return a2_buffers(c) * msg_mem_bytes(c->hello.msg_size);
}

static int a2_close(struct conn *c);

static int a2_open(struct conn *c)
{
	struct a2_state *st = calloc(1, sizeof(*st));
	if (!st || msg_set_alloc(&st->msgs, a2_buffers(c), c->hello.msg_size) < 0) {
		free(st);
		return conn_fail(c, "server out of memory for the message");
	}
	c->priv = st;
	if ((c->hello.flags & HELLO_F_URING) &&
	    !(st->tx = uring_tx_open(c, a2_uring_depth(c), false, NULL, 0, NULL, NULL))) {
		a2_close(c);   /* conn_fail keeps the open's reason */
		return -1;
	}
	return 0;
}

static int a2_send(struct conn *c, uint64_t seq)
{
	struct a2_state *st = c->priv;
	struct msg *m = &st->msgs.m[seq % st->msgs.n];
	struct iovec iov[MSG_FIELDS];

	msg_stamp(m, seq);    /* safe: with io_uring, this buffer's last request has completed */
	msg_iov(m, iov);
	if (st->tx)
		return uring_tx_send(st->tx, c, iov, MSG_FIELDS, seq, NULL);
	return conn_sendv(c, iov, MSG_FIELDS, 0, NULL, NULL, NULL);
}

static int a2_close(struct conn *c)
{
	struct a2_state *st = c->priv;
	int r = 0;
	if (!st)
		return 0;
	if (st->tx) {
		if (!c->aborted)   /* the messages still queued go out before the close */
			r = uring_tx_flush(st->tx, c);
		/* every request's result read before its buffer is freed */
		if (uring_tx_close(st->tx, c) < 0) {
			c->priv = NULL;   /* a request may still read them: leak, never free */
			return -1;
		}
	}
	msg_set_free(&st->msgs);
	free(st);
	c->priv = NULL;
	return r;
}

static const struct strategy a2 = {
	.id = STRAT_A2,
	.mem_bytes = a2_mem_bytes,
	.open = a2_open,
	.send = a2_send,
	.close = a2_close,
};

int main(int argc, char **argv)
{
	return server_main(argc, argv, &a2);
}
