/* lib/uring.c — the io_uring engine (--engine uring): a ring per connection,
 * sends queued as linked chains, completions and zero-copy notifications
 * read from the CQ.  Raw syscalls, no liburing; the ring is private here. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/syscall.h>
#include <unistd.h>

/* ======================================================================
 * io_uring engine (--engine uring): raw syscalls, no liburing
 * ====================================================================== */

#ifndef IORING_SEND_ZC_REPORT_USAGE
#define IORING_SEND_ZC_REPORT_USAGE (1U << 3)
#endif
#ifndef IORING_NOTIF_USAGE_ZC_COPIED
#define IORING_NOTIF_USAGE_ZC_COPIED (1U << 31)
#endif

struct uring {
	int fd;
	unsigned sq_mask, cq_mask, sq_entries, cq_entries;
	_Atomic unsigned *sq_head, *sq_tail, *cq_head, *cq_tail;
	unsigned *sq_array;
	struct io_uring_sqe *sqes;
	struct io_uring_cqe *cqes;
	void *sq_map, *cq_map;
	size_t sq_map_len, cq_map_len, sqes_len;
	unsigned unsubmitted;        /* SQEs written since the last io_uring_enter */
};

static int uring_setup(struct uring *u, unsigned entries, unsigned cq_entries)
{
	/* CLAMP: a CQ asked past the kernel's maximum (65,536) gets the
	 * maximum, not EINVAL; the sender bounds what is in flight by it */
	struct io_uring_params p = { .flags = IORING_SETUP_CQSIZE | IORING_SETUP_CLAMP, .cq_entries = cq_entries };
	memset(u, 0, sizeof(*u));
	u->fd = (int)syscall(__NR_io_uring_setup, entries, &p);
	if (u->fd < 0)
		return -1;
	u->sq_entries = p.sq_entries;
	u->cq_entries = p.cq_entries;
	u->sq_map_len = p.sq_off.array + p.sq_entries * sizeof(unsigned);
	u->cq_map_len = p.cq_off.cqes + p.cq_entries * sizeof(struct io_uring_cqe);
	if (p.features & IORING_FEAT_SINGLE_MMAP) {
		if (u->cq_map_len > u->sq_map_len)
			u->sq_map_len = u->cq_map_len;
		u->cq_map_len = 0;
	}
	u->sq_map = mmap(NULL, u->sq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
			 IORING_OFF_SQ_RING);
	u->cq_map = u->sq_map;
	if (u->sq_map != MAP_FAILED && u->cq_map_len)
		u->cq_map = mmap(NULL, u->cq_map_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd,
				 IORING_OFF_CQ_RING);
	u->sqes_len = p.sq_entries * sizeof(struct io_uring_sqe);
	u->sqes = u->sq_map == MAP_FAILED || u->cq_map == MAP_FAILED ? MAP_FAILED :
		mmap(NULL, u->sqes_len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_POPULATE, u->fd, IORING_OFF_SQES);
	if (u->sq_map == MAP_FAILED || u->cq_map == MAP_FAILED || u->sqes == MAP_FAILED) {
		int e = errno;
		if (u->cq_map != MAP_FAILED && u->cq_map != u->sq_map)
			munmap(u->cq_map, u->cq_map_len);
		if (u->sq_map != MAP_FAILED)
			munmap(u->sq_map, u->sq_map_len);
		close(u->fd);
		errno = e;
		return -1;
	}
	char *sq = u->sq_map, *cq = u->cq_map;
	u->sq_head = (_Atomic unsigned *)(sq + p.sq_off.head);
	u->sq_tail = (_Atomic unsigned *)(sq + p.sq_off.tail);
	u->sq_mask = *(unsigned *)(sq + p.sq_off.ring_mask);
	u->sq_array = (unsigned *)(sq + p.sq_off.array);
	u->cq_head = (_Atomic unsigned *)(cq + p.cq_off.head);
	u->cq_tail = (_Atomic unsigned *)(cq + p.cq_off.tail);
	u->cq_mask = *(unsigned *)(cq + p.cq_off.ring_mask);
	u->cqes = (struct io_uring_cqe *)(cq + p.cq_off.cqes);
	return 0;
}

static void uring_teardown(struct uring *u)
{
	munmap(u->sqes, u->sqes_len);
	if (u->cq_map != u->sq_map)
		munmap(u->cq_map, u->cq_map_len);
	munmap(u->sq_map, u->sq_map_len);
	close(u->fd);
}

/* The next SQE, zeroed; NULL when the SQ is full. */
static struct io_uring_sqe *uring_sqe(struct uring *u)
{
	unsigned tail = atomic_load_explicit(u->sq_tail, memory_order_relaxed);
	if (tail - atomic_load_explicit(u->sq_head, memory_order_acquire) >= u->sq_entries)
		return NULL;
	struct io_uring_sqe *sqe = &u->sqes[tail & u->sq_mask];
	memset(sqe, 0, sizeof(*sqe));
	u->sq_array[tail & u->sq_mask] = tail & u->sq_mask;
	atomic_store_explicit(u->sq_tail, tail + 1, memory_order_release);
	u->unsubmitted++;
	return sqe;
}

/* Submit what is queued (when `submit`) and wait for at least `want`
 * CQEs, at most timeout_ms.  Returns 0, or -1 with errno (ETIME: timed out). */
static int uring_enter(struct uring *u, bool submit, unsigned want, int timeout_ms)
{
	struct __kernel_timespec ts = { .tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000L };
	struct io_uring_getevents_arg arg = { .ts = (uint64_t)(uintptr_t)&ts };
	for (;;) {
		long r = syscall(__NR_io_uring_enter, u->fd, submit ? u->unsubmitted : 0, want,
				 IORING_ENTER_GETEVENTS | IORING_ENTER_EXT_ARG, &arg, sizeof(arg));
		if (r >= 0) {
			u->unsubmitted -= (unsigned)r < u->unsubmitted ? (unsigned)r : u->unsubmitted;
			return 0;
		}
		if (errno != EINTR)
			return -1;
	}
}

static bool uring_cqe(struct uring *u, struct io_uring_cqe *out)
{
	unsigned head = atomic_load_explicit(u->cq_head, memory_order_relaxed);
	if (head == atomic_load_explicit(u->cq_tail, memory_order_acquire))
		return false;
	*out = u->cqes[head & u->cq_mask];
	atomic_store_explicit(u->cq_head, head + 1, memory_order_release);
	return true;
}

bool uring_available(char *why, size_t whylen)
{
	struct uring u;
	if (uring_setup(&u, 2, 4) < 0) {
		int e = errno;
		FILE *f = fopen("/proc/sys/kernel/io_uring_disabled", "r");
		int disabled = 0;
		if (f) {
			if (fscanf(f, "%d", &disabled) != 1)
				disabled = 0;
			fclose(f);
		}
		if (e == EPERM && disabled)
			snprintf(why, whylen, "io_uring is disabled here (kernel.io_uring_disabled=%d): use --engine syscall",
				 disabled);
		else
			snprintf(why, whylen, "io_uring is not available here (io_uring_setup: %s): use --engine syscall",
				 strerror(e));
		return false;
	}
	uring_teardown(&u);
	return true;
}

/* Does the kernel know opcode `op`?  IORING_REGISTER_PROBE (5.6+); a
 * kernel without the probe is taken to know it (the trial or the first
 * send then says). */
static bool uring_has_op(struct uring *r, unsigned op)
{
	size_t len = sizeof(struct io_uring_probe) + 256 * sizeof(struct io_uring_probe_op);
	struct io_uring_probe *probe = calloc(1, len);
	bool has = true;
	if (probe && syscall(__NR_io_uring_register, r->fd, IORING_REGISTER_PROBE, probe, 256) == 0)
		has = op <= probe->last_op && (probe->ops[op].flags & IO_URING_OP_SUPPORTED);
	free(probe);
	return has;
}

#define URING_TRIAL_ID UINT64_MAX   /* user_data of a trial request */

/* A trial SENDMSG_ZC of one byte of buf with `ioprio`, on a TCP socket
 * that is not connected: a kernel that does not know a flag refuses it at
 * prep (-EINVAL); one that does gets as far as the socket (-EPIPE).  Both
 * its CQEs (result, notification) are read, so the ring is left clean.
 * 1 known, 0 not, -1 no answer (errno). */
static int uring_trial_zc(struct uring *r, unsigned ioprio, void *buf)
{
	int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (s < 0)
		return -1;
	struct iovec iov = { .iov_base = buf, .iov_len = 1 };
	struct msghdr mh = { .msg_iov = &iov, .msg_iovlen = 1 };
	struct io_uring_sqe *sqe = uring_sqe(r);
	if (!sqe) {
		close(s);
		errno = EBUSY;
		return -1;
	}
	sqe->opcode = IORING_OP_SENDMSG_ZC;
	sqe->fd = s;
	sqe->addr = (uint64_t)(uintptr_t)&mh;
	sqe->len = 1;
	sqe->msg_flags = MSG_NOSIGNAL;
	sqe->ioprio = (uint16_t)ioprio;
	sqe->user_data = URING_TRIAL_ID;
	bool got = false, more = false;
	int res = 0;
	uint64_t deadline = deadline_in_s(2);
	while ((!got || more) && now_ns() < deadline) {
		struct io_uring_cqe cqe;
		if (uring_enter(r, true, 1, 100) < 0 && errno != ETIME)
			break;
		while (uring_cqe(r, &cqe)) {
			if (cqe.flags & IORING_CQE_F_NOTIF) {
				more = false;
				continue;
			}
			got = true;
			res = cqe.res;
			more = cqe.flags & IORING_CQE_F_MORE;
		}
	}
	int e = errno;
	close(s);
	if (!got || more) {
		errno = got ? ETIME : e;
		return -1;
	}
	return res != -EINVAL;
}

bool uring_zc_supported(unsigned ioprio)
{
	struct uring r;
	static char page[4096] __attribute__((aligned(4096)));
	struct iovec region = { .iov_base = page, .iov_len = sizeof(page) };
	if (uring_setup(&r, 2, 4) < 0)
		return false;
	bool ok = uring_has_op(&r, IORING_OP_SENDMSG_ZC) &&
		(!(ioprio & IORING_RECVSEND_FIXED_BUF) ||
		 syscall(__NR_io_uring_register, r.fd, IORING_REGISTER_BUFFERS, &region, 1) == 0) &&
		uring_trial_zc(&r, ioprio, page) == 1;
	uring_teardown(&r);
	return ok;
}

bool uring_fixed_zc_supported(void)
{
	return uring_zc_supported(IORING_SEND_ZC_REPORT_USAGE | IORING_RECVSEND_FIXED_BUF);
}

/* One request in flight: its msghdr and iovec stay put until its result. */
struct uring_req {
	struct msghdr mh;
	struct iovec iov[MSG_FIELDS];
	size_t len;
};

struct uring_tx {
	struct uring ring;
	unsigned depth;              /* requests per chain */
	unsigned queued;             /* in the current chain, not yet submitted */
	struct io_uring_sqe *last;   /* the chain's last SQE (its link is cleared at submit) */
	struct uring_req *req;       /* depth entries */
	bool zc, fixed;
	uintptr_t fixed_base;        /* fixed: the region's start */
	size_t fixed_piece;          /* fixed: bytes per registered piece (the last may be shorter) */
	uint64_t notifs_pending;     /* zc: results seen with F_MORE, notification not yet */
	int first_errno;             /* the first failure's errno, given back with every -1 */
	int fd;                      /* the connection's socket */
	uint64_t issued, reaped;     /* requests put in the SQ / their results read */
	uring_notif_fn notif;
	void *notif_ctx;
};

size_t uring_fixed_piece_len(size_t region_len, size_t unit)
{
	if (!unit || unit > URING_FIXED_PIECE_MAX)
		return 0;
	size_t piece = URING_FIXED_PIECE_MAX / unit * unit;
	return region_len < piece ? region_len : piece;
}

/* Register the region as pieces of at most 1 GiB (the kernel refuses a
 * larger iovec with EFAULT), cut at multiples of `unit` so that no message
 * straddles two.  0, or -1 with errno. */
static int uring_register_region(struct uring_tx *u, const struct iovec *region, size_t unit)
{
	size_t piece = uring_fixed_piece_len(region->iov_len, unit);
	if (!piece) {
		errno = EINVAL;
		return -1;
	}
	size_t n = (region->iov_len + piece - 1) / piece;
	struct iovec *iov = calloc(n, sizeof(*iov));
	if (!iov)
		return -1;
	for (size_t i = 0; i < n; i++) {
		iov[i].iov_base = (char *)region->iov_base + i * piece;
		iov[i].iov_len = i + 1 < n ? piece : region->iov_len - i * piece;
	}
	long r = syscall(__NR_io_uring_register, u->ring.fd, IORING_REGISTER_BUFFERS, iov, (unsigned)n);
	int e = errno;
	free(iov);
	errno = e;
	if (r < 0)
		return -1;
	u->fixed_base = (uintptr_t)region->iov_base;
	u->fixed_piece = piece;
	return 0;
}

struct uring_tx *uring_tx_open(struct conn *c, unsigned depth, bool zc, const struct iovec *fixed,
			       size_t fixed_unit, uring_notif_fn notif, void *notif_ctx)
{
	struct uring_tx *u = calloc(1, sizeof(*u));
	if (u)
		u->req = calloc(depth, sizeof(*u->req));
	if (!u || !u->req) {
		free(u);
		conn_fail(c, "server out of memory for the io_uring engine");
		return NULL;
	}
	/* the CQ holds a chain's results plus every notification not yet read
	 * (clamped to the kernel's maximum: uring_tx_room bounds the rest) */
	unsigned cq = 2 * depth + (zc ? 2 * (c->zc.pool_depth + depth) : 0);
	if (uring_setup(&u->ring, depth, cq) < 0) {
		char why[160];
		free(u->req);
		free(u);
		if (!uring_available(why, sizeof(why)))
			conn_fail(c, "%s", why);
		else
			conn_fail(c, "io_uring_setup: %s", strerror(errno));
		return NULL;
	}
	/* what this kernel can do is asked of it, not guessed from its version:
	 * a client on another host cannot know (the reason fits the reply) */
	char why[sizeof(c->err)] = "", one = 0;
	if (!uring_has_op(&u->ring, zc ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG))
		snprintf(why, sizeof(why), "%s", zc ? "server: no io_uring SENDMSG_ZC (Linux 6.1+)" :
			 "server: no io_uring SENDMSG (Linux 5.3+)");
	else if (zc && uring_trial_zc(&u->ring, IORING_SEND_ZC_REPORT_USAGE, &one) == 0)
		snprintf(why, sizeof(why), "server: no SENDMSG_ZC copy report (Linux 6.2+)");
	else if (fixed && uring_register_region(u, fixed, fixed_unit) < 0) {
		int e = errno;
		snprintf(why, sizeof(why), "registering the buffer pool with io_uring: %s%s", strerror(e),
			 e == ENOMEM ? " (RLIMIT_MEMLOCK: raise ulimit -l, or --fixed-buffers off)" : "");
	} else if (fixed && uring_trial_zc(&u->ring, IORING_SEND_ZC_REPORT_USAGE | IORING_RECVSEND_FIXED_BUF,
					 fixed->iov_base) == 0)
		snprintf(why, sizeof(why), "server: no fixed-buffer SENDMSG_ZC: --fixed-buffers off");
	if (why[0]) {
		uring_teardown(&u->ring);
		free(u->req);
		free(u);
		conn_fail(c, "%s", why);
		return NULL;
	}
	u->depth = depth;
	u->fd = c->fd;
	u->zc = zc;
	u->fixed = fixed != NULL;
	u->notif = notif;
	u->notif_ctx = notif_ctx;
	return u;
}


/* Record a failure: the first reason and errno stay (conn_fail keeps the
 * first reason); errno is the first failure's.  Returns -1. */
__attribute__((format(printf, 4, 5)))
static int uring_tx_fail(struct uring_tx *u, struct conn *c, int e, const char *fmt, ...)
{
	char why[sizeof(c->err)];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	if (!u->first_errno)
		u->first_errno = e;
	conn_fail(c, "%s", why);
	errno = u->first_errno;
	return -1;
}

/* A send request failed with e after `sent` of its `len` bytes. */
static int uring_tx_send_failed(struct uring_tx *u, struct conn *c, int e, size_t sent, size_t len)
{
	if (e == ECONNRESET || e == EPIPE)
		return uring_tx_fail(u, c, e, "client reset the connection mid-stream (io_uring: %zu of a %zu-byte"
				     " message sent)", sent, len);
	return uring_tx_fail(u, c, e, "io_uring send: %s (%zu of a %zu-byte message sent)", strerror(e), sent, len);
}

/* Handle one CQE: a request's result (res = bytes or -errno) or a zero-copy
 * notification.  Returns 0, or -1 with c->err set. */
static int uring_tx_cqe(struct uring_tx *u, struct conn *c, const struct io_uring_cqe *cqe, unsigned *results)
{
	if (cqe->flags & IORING_CQE_F_NOTIF) {
		u->notifs_pending--;
		c->zc.notifications++;
		c->zc.completions++;
		bool copied = (uint32_t)cqe->res & IORING_NOTIF_USAGE_ZC_COPIED;
		c->zc.copied += copied;
		return u->notif ? u->notif(u->notif_ctx, cqe->user_data) : 0;
	}
	(*results)++;
	u->reaped++;
	struct uring_req *r = &u->req[cqe->user_data % u->depth];
	if (u->zc && (cqe->flags & IORING_CQE_F_MORE))
		u->notifs_pending++;
	else if (u->zc && u->notif && u->notif(u->notif_ctx, cqe->user_data) < 0)   /* no notification will come */
		return -1;
	if (cqe->res == -ECANCELED)
		return uring_tx_fail(u, c, ECANCELED, "a send earlier in the chain failed");
	if (cqe->res < 0)
		return uring_tx_send_failed(u, c, -cqe->res, 0, r->len);
	if ((size_t)cqe->res != r->len) {
		/* MSG_WAITALL: progress, then an error the result does not carry;
		 * the socket still holds it (a reset: ECONNRESET) */
		int e = 0;
		socklen_t elen = sizeof(e);
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &e, &elen) < 0 || e == 0)
			e = EPIPE;
		return uring_tx_send_failed(u, c, e, (size_t)cqe->res, r->len);
	}
	return 0;
}

/* Read every CQE there is; wait up to timeout_ms for at least `want`. */
static int uring_tx_reap(struct uring_tx *u, struct conn *c, unsigned want, int timeout_ms, unsigned *results)
{
	struct io_uring_cqe cqe;
	int err = 0;
	/* an open chain is never submitted in part: its requests would run
	 * beside the rest of it and could reach the socket out of order */
	if (want && uring_enter(&u->ring, u->queued == 0, want, timeout_ms) < 0 && errno != ETIME)
		return uring_tx_fail(u, c, errno, "io_uring_enter: %s", strerror(errno));
	while (uring_cqe(&u->ring, &cqe))
		if (uring_tx_cqe(u, c, &cqe, results) < 0)
			err = -1;   /* keep reading: every CQE is accounted for */
	if (err)
		errno = u->first_errno ? u->first_errno : EIO;
	return err;
}

/* Submit the current chain and wait for all of its results: the next
 * chain starts only then, so the messages reach the socket in order. */
int uring_tx_flush(struct uring_tx *u, struct conn *c)
{
	if (!u->queued)
		return 0;
	u->last->flags &= (uint8_t)~IOSQE_IO_LINK;
	unsigned want = u->queued, got = 0;
	uint64_t deadline = deadline_in_s(IO_TIMEOUT_S);
	u->queued = 0;
	while (got < want) {
		if (uring_tx_reap(u, c, want - got, 100, &got) < 0)
			return -1;
		if (got < want && now_ns() > deadline)
			return uring_tx_fail(u, c, EAGAIN, "send blocked for %d s: client stopped reading", IO_TIMEOUT_S);
	}
	return 0;
}

/* Closing the ring's fd cancels its requests asynchronously: one armed on
 * the socket's poll can still run (and read its buffers) after the close.
 * So every submitted request's result is read first: an open chain is
 * taken back from the SQ unsubmitted (the kernel reads the SQ only in
 * io_uring_enter), and what still waits on the socket is woken by shutting
 * the socket down, which fails it.  Returns 0, or -1 when a request may
 * still run: the ring is then leaked and so must the caller's buffers be. */
int uring_tx_close(struct uring_tx *u, struct conn *c)
{
	if (!u)
		return 0;
	if (u->ring.unsubmitted) {
		unsigned tail = atomic_load_explicit(u->ring.sq_tail, memory_order_relaxed);
		atomic_store_explicit(u->ring.sq_tail, tail - u->ring.unsubmitted, memory_order_release);
		u->issued -= u->ring.unsubmitted;
		u->ring.unsubmitted = 0;
		u->queued = 0;
	}
	bool shut = false;
	uint64_t deadline = c->aborted ? 0 : deadline_in_s(1);   /* aborted: nobody reads, shut now */
	while (u->reaped < u->issued) {
		unsigned results = 0;
		uint64_t before = u->reaped;
		(void)uring_tx_reap(u, c, 1, 100, &results);   /* their errors are the close's, not news */
		if (u->reaped > before)
			continue;
		if (now_ns() < deadline)
			continue;
		if (shut)
			break;
		shutdown(u->fd, SHUT_RDWR);   /* a send waiting for room fails now */
		shut = true;
		deadline = deadline_in_s(IO_TIMEOUT_S);
	}
	if (u->reaped < u->issued) {
		conn_fail(c, "%" PRIu64 " io_uring requests still running at close: their buffers are leaked",
			  u->issued - u->reaped);
		return -1;
	}
	uring_teardown(&u->ring);
	free(u->req);
	free(u);
	return 0;
}

/* zc: room in the CQ for one more request.  A request of the open chain
 * may post two CQEs (result, notification) before they are read, and each
 * earlier request whose notification has not come holds one; the CQ (at
 * most the kernel's maximum) must hold them all, so a larger pool waits
 * here for notifications.  Returns 0, or -1 with c->err set. */
static int uring_tx_room(struct uring_tx *u, struct conn *c)
{
	uint64_t deadline = 0;
	while (u->zc && u->notifs_pending + 2 * ((uint64_t)u->queued + 1) > u->ring.cq_entries) {
		unsigned results = 0;
		if (u->queued) {
			if (uring_tx_flush(u, c) < 0)
				return -1;
			continue;
		}
		if (!deadline)
			deadline = deadline_in_s(IO_TIMEOUT_S);
		else if (now_ns() > deadline)
			return uring_tx_fail(u, c, ETIMEDOUT, "no io_uring notification for %d s", IO_TIMEOUT_S);
		if (uring_tx_reap(u, c, 1, 100, &results) < 0)
			return -1;
	}
	return 0;
}

int uring_tx_send(struct uring_tx *u, struct conn *c, const struct iovec *iov, int cnt, uint64_t id,
		  unsigned *calls)
{
	struct uring_req *r = &u->req[id % u->depth];
	if (uring_tx_room(u, c) < 0)
		return -1;
	struct io_uring_sqe *sqe = uring_sqe(&u->ring);
	if (!sqe)
		return uring_tx_fail(u, c, EIO, "io_uring submission queue full");
	u->issued++;
	if (calls)   /* from now on a result (and, zc, a notification) will come */
		(*calls)++;
	memcpy(r->iov, iov, (size_t)cnt * sizeof(*iov));
	r->mh = (struct msghdr){ .msg_iov = r->iov, .msg_iovlen = (size_t)cnt };
	r->len = 0;
	for (int i = 0; i < cnt; i++)
		r->len += iov[i].iov_len;
	sqe->opcode = u->zc ? IORING_OP_SENDMSG_ZC : IORING_OP_SENDMSG;
	sqe->fd = c->fd;
	sqe->addr = (uint64_t)(uintptr_t)&r->mh;
	sqe->len = 1;
	sqe->msg_flags = MSG_WAITALL | MSG_NOSIGNAL;
	sqe->flags = IOSQE_IO_LINK;
	sqe->user_data = id;
	if (u->zc)
		sqe->ioprio = IORING_SEND_ZC_REPORT_USAGE | (u->fixed ? IORING_RECVSEND_FIXED_BUF : 0);
	if (u->fixed)   /* the piece holding the message (it lies in one) */
		sqe->buf_index = (uint16_t)(((uintptr_t)iov[0].iov_base - u->fixed_base) / u->fixed_piece);
	u->last = sqe;
	/* rr: the answer goes now, the client is waiting for it */
	if (++u->queued == u->depth || c->hello.mode == MODE_RR)
		return uring_tx_flush(u, c);
	return 0;
}

/* zc: read notifications that are there, waiting up to timeout_ms for one. */
int uring_tx_wait_notif(struct uring_tx *u, struct conn *c, int timeout_ms)
{
	unsigned results = 0;
	/* a CQE can come for a notification not yet read, and for a submitted
	 * request whose result is not read yet (after a flush that returned
	 * early, or timed out): wait for either.  With neither, nothing will
	 * come: sleep, so that a caller's wait loop does not spin */
	uint64_t submitted = u->issued - u->queued;
	if (!u->notifs_pending && submitted == u->reaped) {
		if (timeout_ms > 0)
			sleep_until_ns(now_ns() + (uint64_t)timeout_ms * 1000000ull);
		return uring_tx_reap(u, c, 0, 0, &results);
	}
	return uring_tx_reap(u, c, 1, timeout_ms, &results);
}
