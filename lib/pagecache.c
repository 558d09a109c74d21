/* lib/pagecache.c — a3's sends from the page cache (--engine sendfile,
 * --engine splice): zero-copy the way iperf3 -Z, netperf TCP_SENDFILE and
 * uperf's sendfilev do it.
 *
 * The messages — the same 8 fields, patterns and sequence stamps — are laid
 * out once, back to back, in a memfd (tmpfs) whose pages the connection owns:
 * a ring of N messages, message i stamped i.  The kernel attaches these
 * page-cache pages to the socket's skbs instead of copying them, and gives
 * no completion for them: a page may be in flight for as long as TCP keeps
 * it.  So no byte of the ring is ever rewritten: message `seq` is sent
 * from ring slot seq mod N, the stream's sequence numbers repeat modulo N,
 * and the receiver checks them modulo N (pc_ring_len, the same on both
 * sides).  Pages still in flight at close outlive the file: skbs hold their
 * own references.
 *
 *   sendfile  sendfile(socket, memfd, offset, size): the kernel splices the
 *             file's pages into the socket (tcp_sendmsg with MSG_SPLICE_PAGES)
 *   splice    vmsplice() of the ring's mapped pages into a pipe (with
 *             SPLICE_F_GIFT where a piece is whole pages, which on Linux
 *             2.6.21+ changes nothing: SPLICE_F_MOVE is a no-op), then
 *             splice() from the pipe to the socket
 *
 * Pages attached this way are not user zero-copy fragments (no ubuf_info),
 * so local delivery need not copy them — unlike MSG_ZEROCOPY's, which it
 * always does (docs/zero-copy.md). */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/sendfile.h>
#include <unistd.h>

struct pc_tx {
	int fd;                  /* the memfd holding the ring */
	void *map;               /* its mapping (splice: vmsplice's source) */
	size_t map_len;
	uint32_t n;              /* messages in the ring */
	uint64_t size;           /* bytes per message */
	bool splice;             /* --engine splice, else sendfile */
	int pipe_r, pipe_w;      /* splice: the pipe between vmsplice and splice */
};

#define PC_PAGE 4096ull

uint32_t pc_ring_len(uint64_t size, uint32_t buffers)
{
	uint64_t n = (PC_RING_BYTES + size - 1) / size;
	if (n < buffers)
		n = buffers;
	if (n < 2)
		n = 2;
	return n > PC_RING_MAX ? PC_RING_MAX : (uint32_t)n;
}

uint64_t pc_mem_bytes(uint64_t size, uint32_t n)
{
	return (n * size + PC_PAGE - 1) & ~(PC_PAGE - 1);
}

const char *engine_name(uint32_t hello_flags)
{
	if (hello_flags & HELLO_F_URING)
		return "uring";
	if (hello_flags & HELLO_F_SENDFILE)
		return "sendfile";
	if (hello_flags & HELLO_F_SPLICE)
		return "splice";
	return "syscall";
}

void pc_tx_close(struct pc_tx *p)
{
	if (!p)
		return;
	if (p->map)
		munmap(p->map, p->map_len);
	if (p->fd >= 0)
		close(p->fd);
	if (p->pipe_r >= 0)
		close(p->pipe_r);
	if (p->pipe_w >= 0)
		close(p->pipe_w);
	free(p);
}

/* Write the ring once: message i's 8 fields back to back at i * size,
 * patterned and stamped i — the layout msg_fill/msg_stamp give a message. */
static void pc_fill(struct pc_tx *p)
{
	for (uint32_t i = 0; i < p->n; i++) {
		struct msg m = { .size = p->size };
		uint8_t *at = (uint8_t *)p->map + (uint64_t)i * p->size;
		for (int f = 0; f < MSG_FIELDS; f++) {
			m.field[f] = at;
			m.len[f] = msg_field_len(p->size, f);
			at += m.len[f];
		}
		msg_fill(&m);
		msg_stamp(&m, i);
	}
}

struct pc_tx *pc_tx_open(struct conn *c, uint32_t n, bool splice)
{
	struct pc_tx *p = calloc(1, sizeof(*p));
	if (!p) {
		conn_fail(c, "server out of memory");
		return NULL;
	}
	p->fd = p->pipe_r = p->pipe_w = -1;
	p->n = n;
	p->size = c->hello.msg_size;
	p->splice = splice;
	p->map_len = pc_mem_bytes(p->size, n);
	p->fd = memfd_create("copybench-ring", MFD_CLOEXEC);
	if (p->fd < 0) {
		conn_fail(c, "memfd_create for the page-cache ring: %s", strerror(errno));
		goto fail;
	}
	/* fallocate, not ftruncate: the pages exist (and tmpfs has room for
	 * them) before the clock starts, or the error is said here */
	if (fallocate(p->fd, 0, 0, (off_t)p->map_len) < 0) {
		conn_fail(c, "allocating a %zu-byte page-cache ring (tmpfs): %s", p->map_len, strerror(errno));
		goto fail;
	}
	p->map = mmap(NULL, p->map_len, PROT_READ | PROT_WRITE, MAP_SHARED, p->fd, 0);
	if (p->map == MAP_FAILED) {
		p->map = NULL;
		conn_fail(c, "mapping the page-cache ring: %s", strerror(errno));
		goto fail;
	}
	pc_fill(p);
	if (!splice) {   /* sendfile reads the file; the mapping is not needed */
		munmap(p->map, p->map_len);
		p->map = NULL;
		return p;
	}
	int fds[2];
	if (pipe2(fds, O_CLOEXEC) < 0) {
		conn_fail(c, "pipe for splice: %s", strerror(errno));
		goto fail;
	}
	p->pipe_r = fds[0];
	p->pipe_w = fds[1];
	/* a pipe as large as a message (up to fs.pipe-max-size) takes it in one
	 * vmsplice; a failure only means more rounds */
	int want = p->size > (1u << 20) ? 1 << 20 : (int)p->size;
	(void)fcntl(p->pipe_w, F_SETPIPE_SZ, want);
	return p;
fail:
	pc_tx_close(p);
	return NULL;
}

/* Past the connection's deadline with bytes still to send: ETIMEDOUT, as
 * net_sendv_all does after a partial send. */
static int pc_late(const struct conn *c)
{
	if (c->deadline_ns && now_ns() > c->deadline_ns) {
		errno = ETIMEDOUT;
		return -1;
	}
	return 0;
}

static int pc_sendfile(struct pc_tx *p, struct conn *c, off_t off)
{
	uint64_t left = p->size;
	while (left) {
		ssize_t k = sendfile(c->fd, p->fd, &off, left);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {   /* the ring is shorter than it was made: cannot happen */
			errno = EIO;
			return conn_fail(c, "sendfile sent nothing at ring offset %lld", (long long)off);
		}
		left -= (uint64_t)k;
		if (left && pc_late(c) < 0)
			return -1;
	}
	return 0;
}

/* The pipe's bytes to the socket: splice() until `len` have gone. */
static int pc_drain_pipe(struct pc_tx *p, struct conn *c, size_t len, bool more)
{
	while (len) {
		ssize_t k = splice(p->pipe_r, NULL, c->fd, NULL, len, SPLICE_F_MOVE | (more ? SPLICE_F_MORE : 0));
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		if (k == 0) {
			errno = EIO;
			return conn_fail(c, "splice to the socket moved nothing");
		}
		len -= (size_t)k;
		if (len && pc_late(c) < 0)
			return -1;
	}
	return 0;
}

static int pc_splice(struct pc_tx *p, struct conn *c, uint64_t off)
{
	uint8_t *at = (uint8_t *)p->map + off;
	uint64_t left = p->size;
	while (left) {
		struct iovec iov = { .iov_base = at, .iov_len = left };
		/* gift only whole pages: the kernel's rule for SPLICE_F_GIFT */
		bool whole = ((uintptr_t)at % PC_PAGE) == 0 && left % PC_PAGE == 0;
		ssize_t k = vmsplice(p->pipe_w, &iov, 1, whole ? SPLICE_F_GIFT : 0);
		if (k < 0) {
			if (errno == EINTR)
				continue;
			return conn_fail(c, "vmsplice of the ring into the pipe: %s", strerror(errno));
		}
		if (pc_drain_pipe(p, c, (size_t)k, (uint64_t)k < left) < 0)
			return -1;
		at += k;
		left -= (uint64_t)k;
	}
	return 0;
}

int pc_tx_send(struct pc_tx *p, struct conn *c, uint64_t seq)
{
	uint64_t off = (seq % p->n) * p->size;
	return p->splice ? pc_splice(p, c, off) : pc_sendfile(p, c, (off_t)off);
}
