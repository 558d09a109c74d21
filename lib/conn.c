/* lib/conn.c — what a strategy's code calls on its connection (struct conn
 * in common.h): its sends, bounded by the connection's deadline, its buffer
 * count, its failure reason, and the zero-copy counters' sum. */
#define _GNU_SOURCE
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>

int conn_sendv(struct conn *c, struct iovec *iov, int cnt, int flags,
	       unsigned *calls, send_retry_fn retry, void *ctx)
{
	return net_sendv_all(c->fd, iov, cnt, flags, calls, retry, ctx, c->deadline_ns);
}

int conn_send(struct conn *c, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	return net_sendv_all(c->fd, &iov, 1, 0, NULL, NULL, NULL, c->deadline_ns);
}

uint32_t conn_buffers(const struct conn *c)
{
	return c->hello.buffers ? c->hello.buffers : 1;
}

int conn_fail(struct conn *c, const char *fmt, ...)
{
	va_list ap;
	if (c->err[0])   /* the first reason is the cause: what follows is its consequence */
		return -1;
	va_start(ap, fmt);
	vsnprintf(c->err, sizeof(c->err), fmt, ap);
	va_end(ap);
	return -1;
}

void zc_stats_add(struct zc_stats *into, const struct zc_stats *z)
{
	into->sends += z->sends;
	into->completions += z->completions;
	into->copied += z->copied;
	into->notifications += z->notifications;
	into->enobufs += z->enobufs;
	into->pool_waits += z->pool_waits;
	into->missing += z->missing;
	if (z->pool_depth > into->pool_depth)
		into->pool_depth = z->pool_depth;
	if (z->in_flight_max > into->in_flight_max)
		into->in_flight_max = z->in_flight_max;
}
