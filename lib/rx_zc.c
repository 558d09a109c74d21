/* lib/rx_zc.c — the client's receive zero-copy (--rx zerocopy):
 * TCP_ZEROCOPY_RECEIVE maps the stream, a msg_reader checks it in place. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <unistd.h>

/* --rx zerocopy: TCP_ZEROCOPY_RECEIVE maps the stream's pages into this
 * process (tools/testing/selftests/net/tcp_mmap.c shows the way); the bytes
 * it cannot map (a tail shorter than a page, data in compound pages) come
 * through the small copy buffer or recv().  The messages are checked in
 * place by a msg_reader.  The argument is struct zc_rx_arg (common.h): we
 * pass all of it; a kernel older than 5.12 cuts it to its own length and
 * writes back only that much (zc_rx_answer reads only that much). */
#define ZC_RX_MAP_BYTES   (2u << 20)    /* one mapping per connection */
#define ZC_RX_COPY_BYTES  (64u << 10)   /* recv(): bytes the kernel says to skip, the stream's end */
#define ZC_RX_LOWAT       (256u << 10)  /* SO_RCVLOWAT at most: wake for many pages at once */

struct zc_rx {
	uint8_t *map, *copybuf;
	int32_t copybuf_len;     /* offered to the kernel: under a page (see client_rx_zc) */
	struct msg_reader rd;
	uint64_t warned;         /* reader errors already reported */
};

static atomic_bool zc_rx_mss_warned;

int zc_rx_open(struct client_thread *t)
{
	const struct config *cfg = t->cl->cfg;
	struct zc_rx *z = calloc(1, sizeof(*z));
	if (!z || !(z->copybuf = malloc(ZC_RX_COPY_BYTES))) {
		free(z);
		return client_fail(t, "out of memory for receive zero-copy");
	}
	z->map = mmap(NULL, ZC_RX_MAP_BYTES, PROT_READ, MAP_SHARED, t->fd, 0);
	if (z->map == MAP_FAILED) {
		free(z->copybuf);
		free(z);
		return client_fail(t, "mmap of the TCP socket for receive zero-copy: %s", strerror(errno));
	}
	msg_reader_init(&z->rd, cfg->msg_size, cfg->verify);
	z->rd.ring = t->seq_ring;
	long page = sysconf(_SC_PAGESIZE);
	z->copybuf_len = (int32_t)page - 1;
	/* SO_RCVLOWAT gathers pages before poll() wakes us (tcp_mmap.c's chunk),
	 * but a value whose buffer space exceeds sk_rcvbuf raises sk_rcvbuf and
	 * clamps the window to the value (tcp_set_rcvlowat) until autotuning
	 * grows it: the run would start with another window than --rx copy.  A
	 * quarter of the receive buffer stays below it (space is about twice
	 * the window). */
	int rcvbuf = 0, mss = 0;
	socklen_t len = sizeof(rcvbuf);
	if (getsockopt(t->fd, SOL_SOCKET, SO_RCVBUF, &rcvbuf, &len) == 0 && rcvbuf / 4 >= page) {
		int lowat = rcvbuf / 4 < (int)ZC_RX_LOWAT ? rcvbuf / 4 : (int)ZC_RX_LOWAT;
		(void)setsockopt(t->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	}
	len = sizeof(mss);
	int got = getsockopt(t->fd, IPPROTO_TCP, TCP_MAXSEG, &mss, &len);
	if (got == 0 && mss % page && !atomic_exchange(&zc_rx_mss_warned, true))
		warning("receive zero-copy: the path's MSS is %d, not a multiple of the %ld-byte page: little or"
			" nothing will be mapped (page-sized segments: e.g. veth MTU 4148)", mss, page);
	t->zrx = z;
	return 0;
}

void zc_rx_close(struct client_thread *t)
{
	if (!t->zrx)
		return;
	munmap(t->zrx->map, ZC_RX_MAP_BYTES);
	free(t->zrx->copybuf);
	free(t->zrx);
	t->zrx = NULL;
}

void zc_rx_answer(struct zc_rx_arg *zc, size_t len)
{
#define ZC_RX_HAS(field) (len >= offsetof(struct zc_rx_arg, field) + sizeof(zc->field))
	if (!ZC_RX_HAS(length))
		zc->length = 0;
	if (!ZC_RX_HAS(recv_skip_hint))
		zc->recv_skip_hint = 0;
	if (!ZC_RX_HAS(inq))
		zc->inq = 0;
	if (!ZC_RX_HAS(err))
		zc->err = 0;
	if (!ZC_RX_HAS(copybuf_len))
		zc->copybuf_len = 0;   /* a kernel without the copy buffer copied nothing there */
	if (!ZC_RX_HAS(msg_flags))
		zc->msg_flags = 0;
#undef ZC_RX_HAS
}

/* Check what arrived; count it as mapped or copied. */
static uint64_t zc_rx_feed(struct client_thread *t, const uint8_t *p, size_t n, bool mapped)
{
	struct zc_rx *z = t->zrx;
	uint64_t msgs = msg_reader_feed(&z->rd, p, n);
	*(mapped ? &t->rx_mapped : &t->rx_copied) += n;
	uint64_t now = now_ns();
	if (now >= t->cl->warm_ns && now < t->cl->end_ns)   /* the share the figures report */
		*(mapped ? &t->rx_win_mapped : &t->rx_win_copied) += n;
	for (; z->warned < z->rd.errors; z->warned++)
		if (z->warned < 3)
			warning("connection %" PRIu64 ": %s", t->index, z->rd.why);
	t->verify_errors = z->rd.errors;
	return msgs;
}

/* After a recv() on the stream gave n: 0 = the stream ended at a message
 * boundary, -1 = an error (t->err set), 1 = go on. */
static int zc_rx_end(struct client_thread *t, ssize_t n)
{
	if (n == 0)
		return t->zrx->rd.pos ? client_fail(t, "server closed the connection mid-message") : 0;
	if (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
		return client_fail(t, "receive: %s", strerror(errno));
	return 1;
}

/* One round: wait for data, map what can be mapped, take the rest by
 * copy.  Returns 1 with the messages completed in *msgs (maybe 0), 0 on
 * EOF at a message boundary, -1 on error (t->err set).
 *
 * What is mapped must depend on the stream, not on how far the reader
 * lags: so each call first waits in poll() for SO_RCVLOWAT's worth
 * (tcp_mmap.c does the same), and the copy buffer offered is under a page.
 * The kernel copies a whole round into it when the queue holds no more
 * than its size (and sub-page stragglers after the mapped pages); with a
 * 64 KiB buffer a reader that kept up had its mappable pages copied. */
int client_rx_zc(struct client_thread *t, uint64_t *msgs)
{
	struct zc_rx *z = t->zrx;
	uint64_t stall_end = deadline_in_s(CLIENT_STALL_S);
	*msgs = 0;
	for (;;) {
		struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
		int r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR)
			return client_fail(t, "poll: %s", strerror(errno));
		struct zc_rx_arg zc = { .address = (uint64_t)(uintptr_t)z->map, .length = ZC_RX_MAP_BYTES,
					.copybuf_address = (uint64_t)(uintptr_t)z->copybuf,
					.copybuf_len = z->copybuf_len };
		socklen_t len = sizeof(zc);
		bool progress = false;
		if (getsockopt(t->fd, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &zc, &len) < 0) {
			/* after the peer's FIN the kernel answers EIO: what is left
			 * (and the end of the stream) comes by recv() */
			if (errno == ENOPROTOOPT)
				return client_fail(t, "TCP_ZEROCOPY_RECEIVE is not supported by this kernel (Linux"
						   " 4.18+): use --rx copy");
			if (errno != EIO)
				return client_fail(t, "TCP_ZEROCOPY_RECEIVE: %s", strerror(errno));
			ssize_t n = recv(t->fd, z->copybuf, ZC_RX_COPY_BYTES, MSG_DONTWAIT);
			int end = zc_rx_end(t, n);
			if (end <= 0)
				return end;
			if (n > 0) {
				*msgs += zc_rx_feed(t, z->copybuf, (size_t)n, false);
				break;
			}
			memset(&zc, 0, sizeof(zc));
			zc.inq = 1;   /* not known: do not take the wake-up for the end */
		}
		zc_rx_answer(&zc, len);
		if (zc.err)
			return client_fail(t, "receive: %s", strerror(zc.err < 0 ? -zc.err : zc.err));
		if (zc.length) {
			*msgs += zc_rx_feed(t, z->map, zc.length, true);
			madvise(z->map, (zc.length + 4095) & ~4095u, MADV_DONTNEED);
			progress = true;
		}
		if (zc.copybuf_len > 0) {
			*msgs += zc_rx_feed(t, z->copybuf, (size_t)zc.copybuf_len, false);
			progress = true;
		}
		if (zc.recv_skip_hint) {
			size_t want = zc.recv_skip_hint < ZC_RX_COPY_BYTES ? zc.recv_skip_hint : ZC_RX_COPY_BYTES;
			ssize_t n = recv(t->fd, z->copybuf, want, MSG_DONTWAIT);
			if (n > 0) {
				*msgs += zc_rx_feed(t, z->copybuf, (size_t)n, false);
				progress = true;
			}
		}
		if (progress)
			break;
		/* nothing taken: the end of the stream, or wait again */
		if (r > 0 && zc.inq == 0) {
			char b;
			int end = zc_rx_end(t, recv(t->fd, &b, 1, MSG_PEEK | MSG_DONTWAIT));
			if (end <= 0)
				return end;
		}
		if (now_ns() > stall_end)
			return client_fail(t, "server sent nothing for %d s", CLIENT_STALL_S);
	}
	t->bytes_total += *msgs * t->cl->cfg->msg_size;
	t->messages_total += *msgs;
	return 1;
}
