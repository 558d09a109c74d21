/* a2_server.c — strategy a2, one-copy: sendmsg() with an iovec[8] that
 * points straight at the 8 fields; the kernel gathers them while copying
 * into its socket buffers (the only CPU copy on the sending side).
 * With --buffers N (the client's) messages rotate over N buffers. */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static uint64_t a2_mem_bytes(const struct conn *c)
{
	return conn_buffers(c) * msg_mem_bytes(c->hello.msg_size);
}

static int a2_open(struct conn *c)
{
	struct msg_set *set = calloc(1, sizeof(*set));
	if (!set || msg_set_alloc(set, conn_buffers(c), c->hello.msg_size) < 0) {
		free(set);
		return conn_fail(c, "server out of memory for the message");
	}
	c->priv = set;
	return 0;
}

static int a2_send(struct conn *c, uint64_t seq)
{
	struct msg_set *set = c->priv;
	struct msg *m = &set->m[seq % set->n];
	struct iovec iov[MSG_FIELDS];

	msg_stamp(m, seq);
	msg_iov(m, iov);
	return conn_sendv(c, iov, MSG_FIELDS, 0, NULL, NULL, NULL);
}

static int a2_close(struct conn *c)
{
	if (c->priv) {
		msg_set_free(c->priv);
		free(c->priv);
		c->priv = NULL;
	}
	return 0;
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
