/* a2_server.c — strategy a2, one-copy: sendmsg() with an iovec[8] that
 * points straight at the 8 fields; the kernel gathers them while copying
 * into its socket buffers (the only CPU copy on the sending side). */
#include "common.h"

#include <stdlib.h>
#include <string.h>

static uint64_t a2_mem_bytes(const struct conn *c)
{
	return msg_mem_bytes(c->hello.msg_size);
}

static int a2_open(struct conn *c)
{
	struct msg *m = calloc(1, sizeof(*m));
	if (!m || msg_alloc(m, c->hello.msg_size) < 0) {
		free(m);
		conn_fail(c, "server out of memory for the message");
		return -1;
	}
	c->priv = m;
	return 0;
}

static int a2_send(struct conn *c, uint64_t seq)
{
	struct msg *m = c->priv;
	struct iovec iov[MSG_FIELDS];

	msg_stamp(m, seq);
	msg_iov(m, iov);
	return conn_sendv(c, iov, MSG_FIELDS, 0, NULL, NULL, NULL);
}

static int a2_close(struct conn *c)
{
	if (c->priv) {
		msg_free(c->priv);
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
