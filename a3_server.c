/* a3_server.c — strategy a3, zero-copy: SO_ZEROCOPY + sendmsg(MSG_ZEROCOPY)
 * on the same iovec[8] as a2, done the way Linux's
 * Documentation/networking/msg_zerocopy.rst asks:
 *
 *  - the kernel pins the fields' pages instead of copying them; a message
 *    must not be rewritten (its sequence stamp) or freed until the kernel's
 *    completion for every sendmsg() call that carried it has arrived;
 *  - so messages come from a pool (a FIFO ring), recycled by completion;
 *  - completions are read from the error queue (recvmsg(MSG_ERRQUEUE));
 *    each carries an inclusive range [ee_info, ee_data] of per-socket send
 *    call counters (u32, one per successful zero-copy call) and the flag
 *    SO_EE_CODE_ZEROCOPY_COPIED when the kernel copied after all — which it
 *    always does for loopback and veth delivery; we count it, not guess it;
 *  - ENOBUFS (optmem_max or RLIMIT_MEMLOCK exhausted) is handled by draining
 *    completions and retrying;
 *  - before the connection closes, every outstanding completion is waited
 *    for (ZC_CLOSE_TIMEOUT_S); buffers still held by the kernel after that
 *    are leaked on purpose rather than freed under it.
 *
 * Pool memory per connection: depth × msg_size, where depth =
 * ceil(--zc-pool / msg_size), at least 2.  Default --zc-pool: the socket's
 * largest send buffer (tcp_wmem max) plus two messages, so the pool is not
 * what throttles the sender.
 */
#define _GNU_SOURCE
#include "common.h"

#include <errno.h>
#include <linux/errqueue.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>

#ifndef SO_ZEROCOPY
#define SO_ZEROCOPY 60
#endif
#ifndef MSG_ZEROCOPY
#define MSG_ZEROCOPY 0x4000000
#endif
#ifndef SO_EE_ORIGIN_ZEROCOPY
#define SO_EE_ORIGIN_ZEROCOPY 5
#endif
#ifndef SO_EE_CODE_ZEROCOPY_COPIED
#define SO_EE_CODE_ZEROCOPY_COPIED 1
#endif

#define ZC_CLOSE_TIMEOUT_S 5

struct zc_slot {
	struct msg msg;
	uint64_t first_id, last_id;  /* send-call counters that carried it (64-bit extended) */
	uint64_t outstanding;        /* of those, not yet completed */
};

struct a3_state {
	struct zc_slot *slot;
	uint64_t depth;
	uint64_t head, count;        /* ring of in-flight slots, oldest at head */
	uint64_t next_id;            /* counter of the next zero-copy call */
	uint64_t enobufs_since_ns;   /* start of the current ENOBUFS streak; 0 = none */
	struct conn *c;
};

static uint64_t wmem_max_bytes(void)
{
	unsigned long long lo, def, max = 4ull << 20;
	FILE *f = fopen("/proc/sys/net/ipv4/tcp_wmem", "r");
	if (f) {
		if (fscanf(f, "%llu %llu %llu", &lo, &def, &max) != 3)
			max = 4ull << 20;
		fclose(f);
	}
	return max;
}

static int a3_listen_setup(int fd)
{
	int one = 1;
	if (setsockopt(fd, SOL_SOCKET, SO_ZEROCOPY, &one, sizeof(one)) < 0) {
		if (errno == ENOPROTOOPT || errno == EOPNOTSUPP || errno == EINVAL)
			warning("SO_ZEROCOPY is not supported here (%s): a3 needs Linux >= 4.14 with TCP MSG_ZEROCOPY",
			       strerror(errno));
		else
			warning("setsockopt SO_ZEROCOPY: %s", strerror(errno));
		return -1;
	}
	return 0;
}

/* Mark the calls [lo, lo+n) complete.  Returns -1 when the range covers
 * calls we never made or completed twice: that would be a lie. */
static int zc_complete(struct a3_state *st, uint32_t lo32, uint64_t n)
{
	if (!st->count)
		return -1;
	uint64_t base = st->slot[st->head].first_id;
	uint64_t lo = base + (uint32_t)(lo32 - (uint32_t)base);
	uint64_t hi = lo + n - 1, matched = 0;
	for (uint64_t i = 0; i < st->count; i++) {
		struct zc_slot *s = &st->slot[(st->head + i) % st->depth];
		uint64_t a = lo > s->first_id ? lo : s->first_id;
		uint64_t b = hi < s->last_id ? hi : s->last_id;
		if (a > b)
			continue;
		if (b - a + 1 > s->outstanding)
			return -1;
		s->outstanding -= b - a + 1;
		matched += b - a + 1;
	}
	if (matched != n)
		return -1;
	while (st->count && st->slot[st->head].outstanding == 0) {
		st->head = (st->head + 1) % st->depth;
		st->count--;
	}
	return 0;
}

/* Read every completion queued now.  Returns 0, or -1 with c->err set. */
static int zc_drain(struct a3_state *st)
{
	struct conn *c = st->c;
	for (;;) {
		char control[128];
		struct msghdr mh = { .msg_control = control, .msg_controllen = sizeof(control) };
		if (recvmsg(c->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			conn_fail(c, "reading zero-copy completions: %s", strerror(errno));
			return -1;
		}
		for (struct cmsghdr *cm = CMSG_FIRSTHDR(&mh); cm; cm = CMSG_NXTHDR(&mh, cm)) {
			if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
			      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
				continue;
			struct sock_extended_err ee;
			memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
			if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0) {
				conn_fail(c, "unexpected error-queue message (origin %u, errno %u)",
					 ee.ee_origin, ee.ee_errno);
				return -1;
			}
			uint64_t n = (uint64_t)(uint32_t)(ee.ee_data - ee.ee_info) + 1;
			c->zc.notifications++;
			c->zc.completions += n;
			if (ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
				c->zc.copied += n;
			if (zc_complete(st, ee.ee_info, n) < 0) {
				conn_fail(c, "completion range %u..%u does not match the calls in flight",
					 ee.ee_info, ee.ee_data);
				return -1;
			}
		}
	}
}

/* Wait up to timeout_ms for completions (POLLERR), then drain them. */
static int zc_wait(struct a3_state *st, int timeout_ms)
{
	struct pollfd pfd = { .fd = st->c->fd, .events = 0 };
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0 && errno != EINTR) {
		conn_fail(st->c, "poll: %s", strerror(errno));
		return -1;
	}
	return zc_drain(st);
}

/* ENOBUFS: the socket's notification/pinning budget is spent.  Drain and
 * retry, for at most IO_TIMEOUT_S in a row. */
static int a3_retry(void *ctx, int err)
{
	struct a3_state *st = ctx;
	if (err != ENOBUFS)
		return -1;
	uint64_t now = now_ns();
	if (!st->enobufs_since_ns)
		st->enobufs_since_ns = now;
	else if (now - st->enobufs_since_ns > (uint64_t)IO_TIMEOUT_S * NS_PER_S) {
		conn_fail(st->c, "ENOBUFS for %d s: raise net.core.optmem_max or the memlock limit (ulimit -l)", IO_TIMEOUT_S);
		errno = ENOBUFS;
		return -1;
	}
	st->c->zc.enobufs++;
	if (zc_wait(st, 10) < 0) {
		errno = EIO;
		return -1;
	}
	return 0;
}

static void a3_free(struct a3_state *st)
{
	for (uint64_t i = 0; i < st->depth; i++)
		msg_free(&st->slot[i].msg);
	free(st->slot);
	free(st);
}

/* Pool depth: --zc-pool (default tcp_wmem max + 2 messages) in messages, >= 2. */
static uint64_t a3_depth(const struct conn *c)
{
	uint64_t size = c->hello.msg_size;
	uint64_t pool = c->opts->zc_pool_bytes ? c->opts->zc_pool_bytes : wmem_max_bytes() + 2 * size;
	uint64_t depth = (pool + size - 1) / size;
	return depth < 2 ? 2 : depth;
}

static uint64_t a3_mem_bytes(const struct conn *c)
{
	return a3_depth(c) * (msg_mem_bytes(c->hello.msg_size) + sizeof(struct zc_slot) - sizeof(struct msg));
}

static int a3_open(struct conn *c)
{
	int on = 0;
	socklen_t len = sizeof(on);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &on, &len) < 0 || !on) {
		on = 1;
		if (setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &on, sizeof(on)) < 0) {
			conn_fail(c, "SO_ZEROCOPY on the connection: %s", strerror(errno));
			return -1;
		}
	}
	uint64_t size = c->hello.msg_size, depth = a3_depth(c);
	struct a3_state *st = calloc(1, sizeof(*st));
	if (st)
		st->slot = calloc(depth, sizeof(*st->slot));
	if (!st || !st->slot) {
		free(st);
		conn_fail(c, "server out of memory for a %llu-message pool",
			 (unsigned long long)depth);
		return -1;
	}
	st->c = c;
	st->depth = depth;
	for (uint64_t i = 0; i < depth; i++) {
		if (msg_alloc(&st->slot[i].msg, size) < 0) {
			a3_free(st);
			conn_fail(c, "server out of memory for a %llu x %llu-byte pool",
				 (unsigned long long)depth, (unsigned long long)size);
			return -1;
		}
	}
	c->zc.pool_depth = depth;
	c->priv = st;
	return 0;
}

static int a3_send(struct conn *c, uint64_t seq)
{
	struct a3_state *st = c->priv;
	if (st->count == st->depth) {
		/* the oldest buffer is still the kernel's: wait for it */
		uint64_t deadline = deadline_in_s(IO_TIMEOUT_S);
		c->zc.pool_waits++;
		while (st->count == st->depth) {
			if (zc_wait(st, 100) < 0) {
				errno = EIO;
				return -1;
			}
			if (st->count == st->depth && now_ns() > deadline) {
				conn_fail(c, "no zero-copy completion for %d s", IO_TIMEOUT_S);
				errno = ETIMEDOUT;
				return -1;
			}
		}
	}
	struct zc_slot *s = &st->slot[(st->head + st->count) % st->depth];
	struct iovec iov[MSG_FIELDS];
	unsigned calls = 0;

	msg_stamp(&s->msg, seq);    /* safe: no completion is pending for s */
	msg_iov(&s->msg, iov);
	int r = conn_sendv(c, iov, MSG_FIELDS, MSG_ZEROCOPY, &calls, a3_retry, st);
	st->enobufs_since_ns = 0;
	if (calls) {
		s->first_id = st->next_id;
		s->last_id = st->next_id + calls - 1;
		s->outstanding = calls;
		st->next_id += calls;
		st->count++;
		c->zc.sends += calls;
	}
	return r;
}

/* Drop the connection (tcp_disconnect): the kernel purges the send queue
 * and completes every zero-copy send still in it, so the pool can be freed
 * even when the peer stopped reading. */
static void zc_disconnect(struct conn *c)
{
	struct sockaddr unspec = { .sa_family = AF_UNSPEC };
	(void)connect(c->fd, &unspec, sizeof(unspec));
}

static int zc_wait_all(struct a3_state *st, uint64_t deadline)
{
	while (st->count && now_ns() < deadline)
		if (zc_wait(st, 50) < 0)
			return -1;
	return 0;
}

static int a3_close(struct conn *c)
{
	struct a3_state *st = c->priv;
	if (!st)
		return 0;
	if (c->aborted)   /* the stream failed: nobody will read what is queued */
		zc_disconnect(c);
	uint64_t deadline = deadline_in_s(ZC_CLOSE_TIMEOUT_S);
	int r = zc_wait_all(st, deadline);
	if (r == 0 && st->count && !c->aborted) {
		/* the peer left data unread: drop it so the kernel lets go */
		zc_disconnect(c);
		r = zc_wait_all(st, deadline_in_s(1));
		if (r == 0 && !st->count)
			conn_fail(c, "peer stopped reading; connection dropped to recover the zero-copy buffers");
	}
	c->priv = NULL;
	if (st->count) {
		for (uint64_t i = 0; i < st->count; i++)
			c->zc.missing += st->slot[(st->head + i) % st->depth].outstanding;
		if (r == 0)
			conn_fail(c, "%llu zero-copy completions missing after %d s",
				 (unsigned long long)c->zc.missing, ZC_CLOSE_TIMEOUT_S);
		/* the kernel may still read these buffers: leak them, never free */
		return -1;
	}
	a3_free(st);
	return r < 0 || c->err[0] ? -1 : 0;
}

static const struct strategy a3 = {
	.id = STRAT_A3,
	.has_zc_stats = true,
	.listen_setup = a3_listen_setup,
	.mem_bytes = a3_mem_bytes,
	.open = a3_open,
	.send = a3_send,
	.close = a3_close,
};

int main(int argc, char **argv)
{
	return server_main(argc, argv, &a3);
}
