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
 * place by a msg_reader.  <netinet/tcp.h> has only the first 16 bytes of
 * the kernel's struct: this is the whole of it (Linux 5.11+ layout; the
 * kernel takes the optlen it is given). */
struct tcp_zc_rx_arg {
	uint64_t address;        /* in: the mapping */
	uint32_t length;         /* in: bytes to map; out: mapped */
	uint32_t recv_skip_hint; /* out: bytes to read with recv() instead */
	uint32_t inq;            /* out: bytes in the receive queue */
	int32_t err;
	uint64_t copybuf_address;
	int32_t copybuf_len;     /* in: room; out: bytes copied there */
	uint32_t flags;
	uint64_t msg_control, msg_controllen;
	uint32_t msg_flags, reserved;
};
#define ZC_RX_MAP_BYTES   (2u << 20)    /* one mapping per connection */
#define ZC_RX_COPY_BYTES  (64u << 10)
#define ZC_RX_LOWAT       (256u << 10)  /* SO_RCVLOWAT: wake for whole pages */

struct zc_rx {
	uint8_t *map, *copybuf;
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
	int lowat = ZC_RX_LOWAT, mss = 0;
	socklen_t len = sizeof(mss);
	(void)setsockopt(t->fd, SOL_SOCKET, SO_RCVLOWAT, &lowat, sizeof(lowat));
	long page = sysconf(_SC_PAGESIZE);
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

/* Check what arrived; count it as mapped or copied. */
static uint64_t zc_rx_feed(struct client_thread *t, const uint8_t *p, size_t n, bool mapped)
{
	struct zc_rx *z = t->zrx;
	uint64_t msgs = msg_reader_feed(&z->rd, p, n);
	*(mapped ? &t->rx_mapped : &t->rx_copied) += n;
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

/* One round: map what can be mapped, take the rest by copy.  Returns 1
 * with the messages completed in *msgs (maybe 0), 0 on EOF at a message
 * boundary, -1 on error (t->err set). */
int client_rx_zc(struct client_thread *t, uint64_t *msgs)
{
	struct zc_rx *z = t->zrx;
	uint64_t stall_end = deadline_in_s(CLIENT_STALL_S);
	*msgs = 0;
	for (;;) {
		struct tcp_zc_rx_arg zc = { .address = (uint64_t)(uintptr_t)z->map, .length = ZC_RX_MAP_BYTES,
					   .copybuf_address = (uint64_t)(uintptr_t)z->copybuf,
					   .copybuf_len = ZC_RX_COPY_BYTES };
		socklen_t len = sizeof(zc);
		bool progress = false;
		if (getsockopt(t->fd, IPPROTO_TCP, TCP_ZEROCOPY_RECEIVE, &zc, &len) < 0) {
			/* after the peer's FIN the kernel answers EIO: what is left
			 * (and the end of the stream) comes by recv() */
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
		/* nothing queued: wait for more, or the end of the stream */
		struct pollfd pfd = { .fd = t->fd, .events = POLLIN };
		int r = poll(&pfd, 1, 100);
		if (r < 0 && errno != EINTR)
			return client_fail(t, "poll: %s", strerror(errno));
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
