/* a3_server.c — strategy a3, zero-copy: SO_ZEROCOPY + sendmsg(MSG_ZEROCOPY)
 * on the same iovec[8] as a2, done the way Linux's
 * Documentation/networking/msg_zerocopy.rst asks:
 *
 *  - the kernel pins the fields' pages instead of copying them; a message
 *    must not be rewritten (its sequence stamp) or freed until the kernel's
 *    completion for every sendmsg() call that carried it has arrived;
 *  - so messages come from a pool, recycled by completion: the most
 *    recently completed buffer is reused first (zc_pool, lib/zc_pool.c), so
 *    the working set is what is in flight, as hot as a2's one message;
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
 * Pool depth: what can be in flight — tcp_wmem's maximum over the send
 * buffer each message is charged (at least a page per iovec piece), with
 * headroom for completions not yet read (zc_pool_default_depth); at least
 * the client's --buffers.  --zc-pool BYTES overrides it (ceil(BYTES /
 * msg_size), at least 2).  The pool is allocated and written in open(),
 * before the client starts its clock.
 *
 * --engine uring (the client's): the same iovec as IORING_OP_SENDMSG_ZC,
 * chains of --uring-depth requests (the engine in lib/uring.c), each buffer the
 * kernel's until its notification CQE; IORING_SEND_ZC_REPORT_USAGE says
 * whether it was copied.  With fixed buffers (Linux 6.15+, the client's
 * --fixed-buffers) the pool is one mapping registered with the ring, so
 * the kernel takes no page references per send.
 *
 * --engine sendfile / splice (the client's): no pool and no completions —
 * a ring of messages in a memfd's page cache, written once and sent
 * cyclically (lib/pagecache.c); sequence numbers repeat modulo the ring.
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
/* Completions are read after this many bytes sent (and whenever no buffer
 * is free): often enough that the buffer reused next is one the kernel just
 * let go of, seldom enough that the error-queue read costs little (one
 * recvmsg() per 256 KiB; at 64 KiB messages, one per 4 sends). */
#define ZC_DRAIN_BYTES (256u << 10)

struct a3_state {
	struct msg_set msgs;         /* pool.depth message buffers */
	struct zc_pool pool;
	uint64_t enobufs_since_ns;   /* start of the current ENOBUFS streak; 0 = none */
	uint64_t since_drain;        /* bytes sent since completions were last read */
	struct uring_tx *tx;         /* --engine uring; NULL for sendmsg() */
	struct pc_tx *pc;            /* --engine sendfile|splice: the ring; no pool then */
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

/* One error-queue message: a zero-copy completion, or an error. */
static int zc_completion(struct a3_state *st, const struct cmsghdr *cm)
{
	struct conn *c = st->c;
	struct sock_extended_err ee;
	if (!((cm->cmsg_level == SOL_IP && cm->cmsg_type == IP_RECVERR) ||
	      (cm->cmsg_level == SOL_IPV6 && cm->cmsg_type == IPV6_RECVERR)))
		return conn_fail(c, "unexpected control message on the error queue (level %d, type %d)",
				 cm->cmsg_level, cm->cmsg_type);
	memcpy(&ee, CMSG_DATA(cm), sizeof(ee));
	if (ee.ee_origin != SO_EE_ORIGIN_ZEROCOPY || ee.ee_errno != 0)
		return conn_fail(c, "unexpected error-queue message (origin %u, errno %u)",
				 ee.ee_origin, ee.ee_errno);
	uint64_t n = (uint64_t)(uint32_t)(ee.ee_data - ee.ee_info) + 1;
	c->zc.notifications++;
	c->zc.completions += n;
	if (ee.ee_code & SO_EE_CODE_ZEROCOPY_COPIED)
		c->zc.copied += n;
	if (zc_pool_complete(&st->pool, ee.ee_info, n) < 0)
		return conn_fail(c, "completion range %u..%u does not match the calls in flight",
				 ee.ee_info, ee.ee_data);
	return 0;
}

/* Read every completion queued now.  Returns 0, or -1 with c->err set. */
static int zc_drain(struct a3_state *st)
{
	struct conn *c = st->c;
	if (st->tx)
		return uring_tx_wait_notif(st->tx, c, 0);
	for (;;) {
		union {
			struct cmsghdr align;
			char buf[CMSG_SPACE(sizeof(struct sock_extended_err) + sizeof(struct sockaddr_in6))];
		} control;
		struct msghdr mh = { .msg_control = control.buf, .msg_controllen = sizeof(control.buf) };
		if (recvmsg(c->fd, &mh, MSG_ERRQUEUE | MSG_DONTWAIT) < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				return 0;
			if (errno == EINTR)
				continue;
			return conn_fail(c, "reading zero-copy completions: %s", strerror(errno));
		}
		if (mh.msg_flags & MSG_CTRUNC)
			return conn_fail(c, "a zero-copy completion did not fit its control buffer (MSG_CTRUNC)");
		struct cmsghdr *cm = CMSG_FIRSTHDR(&mh);
		if (!cm)
			return conn_fail(c, "an error-queue message without a completion");
		for (; cm; cm = CMSG_NXTHDR(&mh, cm))
			if (zc_completion(st, cm) < 0)
				return -1;
	}
}

/* Wait up to timeout_ms for completions (POLLERR), then drain them.  A
 * disconnected socket reports POLLHUP at once: sleep instead of spinning.
 * With io_uring: wait for notification CQEs instead. */
static int zc_wait(struct a3_state *st, int timeout_ms)
{
	if (st->tx)
		return uring_tx_wait_notif(st->tx, st->c, timeout_ms);
	struct pollfd pfd = { .fd = st->c->fd, .events = 0 };
	int r = poll(&pfd, 1, timeout_ms);
	if (r < 0 && errno != EINTR)
		return conn_fail(st->c, "poll: %s", strerror(errno));
	if (r > 0 && !(pfd.revents & POLLERR))
		poll(NULL, 0, timeout_ms < 5 ? timeout_ms : 5);
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
		conn_fail(st->c, "ENOBUFS for %d s: raise net.core.optmem_max or the memlock limit (ulimit -l)",
			  IO_TIMEOUT_S);
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
	pc_tx_close(st->pc);
	if (uring_tx_close(st->tx, st->c) < 0)
		return;   /* a request may still read the pool: leak it, never free */
	msg_set_free(&st->msgs);
	zc_pool_free(&st->pool);
	free(st);
}

/* Pool depth: --zc-pool in messages (>= 2), else what can be in flight;
 * never fewer than the client's --buffers. */
static uint32_t a3_depth(const struct conn *c)
{
	uint64_t size = c->hello.msg_size, depth;
	if (c->opts->zc_pool_bytes)
		depth = (c->opts->zc_pool_bytes + size - 1) / size;
	else
		depth = zc_pool_default_depth(size, wmem_max_bytes());
	if (depth < conn_buffers(c))
		depth = conn_buffers(c);
	if (depth < 2)
		depth = 2;
	return depth > 1u << 20 ? 1u << 20 : (uint32_t)depth;
}

/* io_uring: the notification of request `id` (one request per message). */
static int a3_notif(void *ctx, uint64_t id)
{
	struct a3_state *st = ctx;
	if (zc_pool_complete(&st->pool, (uint32_t)id, 1) < 0)
		return conn_fail(st->c, "io_uring notification for request %llu, which is not in flight",
				 (unsigned long long)id);
	return 0;
}

static uint64_t a3_mem_bytes(const struct conn *c)
{
	uint64_t size = c->hello.msg_size;
	if (c->hello.flags & HELLO_F_PAGECACHE)
		return pc_mem_bytes(size, pc_ring_len(size, conn_buffers(c)));
	return a3_depth(c) * (msg_mem_bytes(c->hello.msg_size) + 2 * sizeof(uint32_t) +
			      2 * sizeof(struct zc_record));
}

/* --engine sendfile|splice: the ring instead of the pool. */
static int a3_open_pagecache(struct conn *c)
{
	struct a3_state *st = calloc(1, sizeof(*st));
	if (!st)
		return conn_fail(c, "server out of memory");
	uint32_t n = pc_ring_len(c->hello.msg_size, conn_buffers(c));
	st->c = c;
	st->pc = pc_tx_open(c, n, c->hello.flags & HELLO_F_SPLICE);
	if (!st->pc) {
		free(st);
		return -1;
	}
	c->zc.pool_depth = n;
	c->priv = st;
	return 0;
}

static int a3_open(struct conn *c)
{
	if (c->hello.flags & HELLO_F_PAGECACHE)
		return a3_open_pagecache(c);
	int on = 0;
	socklen_t len = sizeof(on);
	if (getsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &on, &len) < 0 || !on) {
		on = 1;
		if (setsockopt(c->fd, SOL_SOCKET, SO_ZEROCOPY, &on, sizeof(on)) < 0)
			return conn_fail(c, "SO_ZEROCOPY on the connection: %s", strerror(errno));
	}
	uint64_t size = c->hello.msg_size;
	uint32_t depth = a3_depth(c);
	struct a3_state *st = calloc(1, sizeof(*st));
	if (!st || zc_pool_init(&st->pool, depth) < 0) {
		free(st);
		return conn_fail(c, "server out of memory for a %u-message pool", depth);
	}
	st->c = c;
	/* every buffer allocated and written now, before the clock starts */
	bool fixed = c->hello.flags & HELLO_F_FIXED;
	if ((fixed ? msg_set_alloc_region : msg_set_alloc)(&st->msgs, depth, size) < 0) {
		a3_free(st);
		return conn_fail(c, "server out of memory for a %u x %llu-byte pool", depth,
				 (unsigned long long)size);
	}
	c->zc.pool_depth = depth;
	if (c->hello.flags & HELLO_F_URING) {
		struct iovec region = { .iov_base = st->msgs.region, .iov_len = st->msgs.region_len };
		unsigned udepth = c->hello.uring_depth ? c->hello.uring_depth : URING_DEPTH_DEFAULT;
		/* the region holds the messages one after another, each `unit` bytes */
		size_t unit = (size_t)(st->msgs.m[1].field[0] - st->msgs.m[0].field[0]);
		st->tx = uring_tx_open(c, udepth, true, fixed ? &region : NULL, unit, a3_notif, st);
		if (!st->tx) {
			a3_free(st);
			return -1;
		}
	}
	c->priv = st;
	return 0;
}

/* A free buffer.  Completions are read every ZC_DRAIN_BYTES and when no
 * buffer is left; only when none has arrived yet does the send wait, and
 * that is what pool_waits counts. */
static int a3_take(struct a3_state *st)
{
	int slot;
	if (st->since_drain >= ZC_DRAIN_BYTES) {
		st->since_drain = 0;
		if (zc_drain(st) < 0) {
			errno = EIO;
			return -1;
		}
	}
	if ((slot = zc_pool_take(&st->pool)) >= 0)
		return slot;
	st->since_drain = 0;
	/* io_uring: what is queued must go out before its notifications can come */
	if ((st->tx && uring_tx_flush(st->tx, st->c) < 0) || zc_drain(st) < 0) {
		errno = EIO;
		return -1;
	}
	if ((slot = zc_pool_take(&st->pool)) >= 0)
		return slot;
	uint64_t deadline = deadline_in_s(IO_TIMEOUT_S);
	st->c->zc.pool_waits++;
	while ((slot = zc_pool_take(&st->pool)) < 0) {
		if (zc_wait(st, 100) < 0) {
			errno = EIO;
			return -1;
		}
		if (now_ns() > deadline) {
			conn_fail(st->c, "no zero-copy completion for %d s", IO_TIMEOUT_S);
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return slot;
}

static int a3_send(struct conn *c, uint64_t seq)
{
	struct a3_state *st = c->priv;
	if (st->pc)
		return pc_tx_send(st->pc, c, seq);
	int slot = a3_take(st);
	if (slot < 0)
		return -1;
	struct msg *m = &st->msgs.m[slot];
	struct iovec iov[MSG_FIELDS];

	msg_stamp(m, seq);    /* safe: no completion is pending for this buffer */
	msg_iov(m, iov);
	unsigned *calls = zc_pool_begin(&st->pool, slot);   /* each call registered as it succeeds */
	int r;
	if (st->tx) {
		uint64_t id = st->pool.next_id;   /* this request's number, as the notification says */
		r = uring_tx_send(st->tx, c, iov, MSG_FIELDS, id, calls);   /* a call once it is queued */
	} else {
		r = conn_sendv(c, iov, MSG_FIELDS, MSG_ZEROCOPY, calls, a3_retry, st);
	}
	c->zc.sends += *calls;
	st->since_drain += m->size;
	zc_pool_end(&st->pool);
	st->enobufs_since_ns = 0;
	if (st->pool.in_flight_max > c->zc.in_flight_max)
		c->zc.in_flight_max = st->pool.in_flight_max;
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
	while (st->pool.in_flight && now_ns() < deadline)
		if (zc_wait(st, 50) < 0)
			return -1;
	return 0;
}

static int a3_close(struct conn *c)
{
	struct a3_state *st = c->priv;
	if (!st)
		return 0;
	if (st->pc) {   /* in-flight pages hold their own references: free now */
		c->priv = NULL;
		a3_free(st);
		return c->err[0] ? -1 : 0;
	}
	if (c->aborted)   /* the stream failed: nobody will read what is queued */
		zc_disconnect(c);
	/* io_uring: every queued request is submitted and gets its result (on
	 * a dropped connection, an error at once), so each buffer is accounted */
	if (st->tx && uring_tx_flush(st->tx, c) < 0 && !c->aborted) {
		c->aborted = true;
		zc_disconnect(c);
	}
	int r = zc_wait_all(st, deadline_in_s(ZC_CLOSE_TIMEOUT_S));
	if (r == 0 && st->pool.in_flight && !c->aborted) {
		/* the peer left data unread: drop it so the kernel lets go */
		zc_disconnect(c);
		r = zc_wait_all(st, deadline_in_s(1));
		if (r == 0 && !st->pool.in_flight)
			conn_fail(c, "peer stopped reading; connection dropped to recover the zero-copy buffers");
	}
	c->priv = NULL;
	if (st->pool.in_flight) {
		c->zc.missing += zc_pool_outstanding(&st->pool);
		if (r == 0)
			conn_fail(c, "%llu zero-copy completions missing after %d s",
				  (unsigned long long)c->zc.missing, ZC_CLOSE_TIMEOUT_S);
		/* the kernel may still read these buffers: leak them, never free;
		 * the ring goes (it keeps what its notifications still hold) */
		if (uring_tx_close(st->tx, c) == 0)
			st->tx = NULL;
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
