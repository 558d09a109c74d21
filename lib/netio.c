/* lib/netio.c — the socket verbs every side uses: send and receive whole
 * buffers through short reads and writes (the one place that handles them),
 * socket options, TCP_INFO. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>

/* ======================================================================
 * short reads and writes
 * ====================================================================== */

struct iovec *iov_advance(struct iovec *iov, int *cnt, size_t n)
{
	while (*cnt > 0 && n >= iov->iov_len) {
		n -= iov->iov_len;
		iov++;
		(*cnt)--;
	}
	if (*cnt > 0 && n) {
		iov->iov_base = (uint8_t *)iov->iov_base + n;
		iov->iov_len -= n;
	}
	/* skip empty entries so callers see "done" as cnt == 0 */
	while (*cnt > 0 && iov->iov_len == 0) {
		iov++;
		(*cnt)--;
	}
	return iov;
}

int net_sendv_all(int fd, struct iovec *iov, int cnt, int flags,
		  unsigned *calls, send_retry_fn retry, void *ctx, uint64_t deadline_ns)
{
	iov = iov_advance(iov, &cnt, 0);
	while (cnt > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		ssize_t n = sendmsg(fd, &mh, flags | MSG_NOSIGNAL);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			if (retry && retry(ctx, errno) == 0)
				continue;
			return -1;
		}
		if (calls)
			(*calls)++;
		iov = iov_advance(iov, &cnt, (size_t)n);
		/* a partial send restarts SO_SNDTIMEO: a peer that takes a few
		 * bytes now and then would hold us forever without this */
		if (cnt > 0 && deadline_ns && now_ns() > deadline_ns) {
			errno = ETIMEDOUT;
			return -1;
		}
	}
	return 0;
}

int net_send_all(int fd, const void *buf, size_t len)
{
	struct iovec iov = { .iov_base = (void *)buf, .iov_len = len };
	return net_sendv_all(fd, &iov, 1, 0, NULL, NULL, NULL, 0);
}

/* recvmsg(flags) until iov is full: 1 full, 0 EOF before any byte, -1
 * error (errno; EPIPE for EOF in the middle). */
static int net_recvv_flags(int fd, struct iovec *iov, int cnt, int flags)
{
	bool started = false;
	iov = iov_advance(iov, &cnt, 0);
	while (cnt > 0) {
		struct msghdr mh = { .msg_iov = iov, .msg_iovlen = (size_t)cnt };
		ssize_t n = recvmsg(fd, &mh, flags);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (n == 0) {
			if (!started)
				return 0;
			errno = EPIPE;
			return -1;
		}
		started = true;
		iov = iov_advance(iov, &cnt, (size_t)n);
	}
	return 1;
}

int net_recvv_all(int fd, struct iovec *iov, int cnt)
{
	return net_recvv_flags(fd, iov, cnt, 0);
}

/* TCP's MSG_TRUNC: the kernel frees the bytes without copying them (the
 * iovec only gives the count; its memory is never written). */
int net_discardv_all(int fd, struct iovec *iov, int cnt)
{
	return net_recvv_flags(fd, iov, cnt, MSG_TRUNC);
}

int net_recv_all(int fd, void *buf, size_t len)
{
	struct iovec iov = { .iov_base = buf, .iov_len = len };
	return net_recvv_all(fd, &iov, 1);
}

/* recv() exactly len bytes before deadline_ns (CLOCK_MONOTONIC): the
 * deadline covers the whole buffer, so a peer trickling one byte at a time
 * cannot hold the connection longer.  Returns 1, 0 on EOF before any byte,
 * -1 with errno (ETIMEDOUT, EPIPE for EOF in the middle). */
int net_recv_by(int fd, void *buf, size_t len, uint64_t deadline_ns)
{
	size_t have = 0;
	while (have < len) {
		uint64_t now = now_ns();
		if (now >= deadline_ns) {
			errno = ETIMEDOUT;
			return -1;
		}
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		int timeout_ms = (int)((deadline_ns - now + 999999) / 1000000);
		int r = poll(&pfd, 1, timeout_ms);
		if (r < 0 && errno != EINTR)
			return -1;
		if (r <= 0)
			continue;
		ssize_t n = recv(fd, (uint8_t *)buf + have, len - have, MSG_DONTWAIT);
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return -1;
		}
		if (n == 0) {
			if (!have)
				return 0;
			errno = EPIPE;
			return -1;
		}
		have += (size_t)n;
	}
	return 1;
}

void set_timeout(int fd, int opt, double seconds)
{
	struct timeval tv = { .tv_sec = (time_t)seconds,
			      .tv_usec = (suseconds_t)((seconds - (double)(time_t)seconds) * 1e6) };
	(void)setsockopt(fd, SOL_SOCKET, opt, &tv, sizeof(tv));
}

void set_nodelay(int fd)
{
	int one = 1;
	(void)setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
}

/* ======================================================================
 * TCP_INFO: a connection's retransmissions and RTT
 * ====================================================================== */

void tcp_totals_add(struct tcp_totals *t, int fd)
{
	struct tcp_info ti;
	socklen_t len = sizeof(ti);
	memset(&ti, 0, sizeof(ti));
	if (getsockopt(fd, IPPROTO_TCP, TCP_INFO, &ti, &len) == 0) {
		t->retrans += ti.tcpi_total_retrans;
		t->rtt_us_sum += ti.tcpi_rtt;
		t->n++;
	}
}

void tcp_totals_merge(struct tcp_totals *into, const struct tcp_totals *t)
{
	into->retrans += t->retrans;
	into->rtt_us_sum += t->rtt_us_sum;
	into->n += t->n;
}
