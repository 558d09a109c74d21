/* common.c — everything copybench's six binaries share; see common.h.
 *
 * Layout of this file: errors, names, messages, short-I/O helpers, the
 * hello protocol, value parsers, time/CPU/TCP accounting, JSON output, the
 * command line, the server (accept loop + per-connection thread) and the
 * client (thread loop + measurement window).
 */
#define _GNU_SOURCE
#include "common.h"
#include "lib/internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <limits.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <linux/io_uring.h>
#include <sys/eventfd.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/utsname.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

const char *prog_name = "copybench";

/* ======================================================================
 * errors
 * ====================================================================== */

static void vreport(int err, const char *fmt, va_list ap)
{
	char line[512];
	vsnprintf(line, sizeof(line), fmt, ap);
	if (err)
		fprintf(stderr, "%s: %s: %s\n", prog_name, line, strerror(err));
	else
		fprintf(stderr, "%s: %s\n", prog_name, line);
}

void die(int status, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(err, fmt, ap);
	va_end(ap);
	exit(status);
}

void warning(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(0, fmt, ap);
	va_end(ap);
}

/* A usage error: one line, exit 2, nothing started. */
void usage_error(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	fprintf(stderr, "%s: %s (see --help)\n", prog_name, line);
	exit(2);
}

/* ======================================================================
 * names
 * ====================================================================== */

static const struct strategy_info strategies[] = {
	{ STRAT_A1, "a1", "two-copy" },
	{ STRAT_A2, "a2", "one-copy" },
	{ STRAT_A3, "a3", "zero-copy" },
};

const struct strategy_info *strategy_info(int id)
{
	for (size_t i = 0; i < sizeof(strategies) / sizeof(strategies[0]); i++)
		if (strategies[i].id == id)
			return &strategies[i];
	return NULL;
}

const char *strategy_name(int id)
{
	const struct strategy_info *si = strategy_info(id);
	return si ? si->name : "?";
}

const char *strategy_title(int id)
{
	const struct strategy_info *si = strategy_info(id);
	return si ? si->title : "?";
}

const char *mode_name(int mode)
{
	switch (mode) {
	case MODE_STREAM: return "stream";
	case MODE_RR: return "rr";
	}
	return "?";
}

/* ======================================================================
 * value parsers
 * ====================================================================== */

int parse_uint_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out)
{
	if (!s || !(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

int parse_size(const char *s, uint64_t *out)
{
	if (!s || !*s || !(*s >= '0' && *s <= '9'))
		return -1;
	errno = 0;
	char *end;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno)
		return -1;
	unsigned shift = 0;
	switch (*end) {
	case '\0': break;
	case 'k': case 'K': shift = 10; end++; break;
	case 'm': case 'M': shift = 20; end++; break;
	case 'g': case 'G': shift = 30; end++; break;
	default: return -1;
	}
	if (shift && (*end == 'i' || *end == 'I'))
		end++;                      /* accept KiB-style "Ki" */
	if (shift && (*end == 'b' || *end == 'B'))
		end++;
	if (*end)
		return -1;
	if (shift && v > (UINT64_MAX >> shift))
		return -1;
	*out = (uint64_t)v << shift;
	return 0;
}

int parse_seconds(const char *s, double *out)
{
	/* plain decimal only: digits with at most one '.', optional 's'
	 * (strtod alone would take "0x7", "1e3", "inf") */
	size_t digits = 0, dots = 0, i = 0;
	if (!s)
		return -1;
	for (; s[i] && s[i] != 's'; i++) {
		if (s[i] >= '0' && s[i] <= '9')
			digits++;
		else if (s[i] == '.')
			dots++;
		else
			return -1;
	}
	if (!digits || dots > 1 || (s[i] == 's' && s[i + 1]))
		return -1;
	errno = 0;
	char *end;
	double v = strtod(s, &end);
	if (errno || end == s)
		return -1;
	if (*end == 's' && end[1] == '\0')
		end++;
	if (*end || !isfinite(v) || v < 0 || v > DURATION_MAX_S)
		return -1;
	*out = v;
	return 0;
}

int parse_cpu_list(const char *s, int *cpus, int max)
{
	int n = 0;
	const char *p = s;
	if (!s || !*s)
		return -1;
	for (;;) {
		char *end;
		if (*p < '0' || *p > '9')
			return -1;
		long a = strtol(p, &end, 10), b = a;
		if (*end == '-') {
			p = end + 1;
			if (*p < '0' || *p > '9')
				return -1;
			b = strtol(p, &end, 10);
		}
		if (a < 0 || b < a || b >= CPU_SETSIZE)
			return -1;
		for (long c = a; c <= b; c++) {
			if (n >= max)
				return -1;
			cpus[n++] = (int)c;
		}
		if (*end == '\0')
			return n;
		if (*end != ',')
			return -1;
		p = end + 1;
	}
}

/* ======================================================================
 * time
 * ====================================================================== */

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * NS_PER_S + (uint64_t)ts.tv_nsec;
}

uint64_t deadline_in_s(double s)
{
	return now_ns() + (uint64_t)(s * 1e9);
}

static void sleep_until_ns(uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / NS_PER_S),
			       .tv_nsec = (long)(t % NS_PER_S) };
	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &ts, NULL) == EINTR)
		;
}

/* ======================================================================
 * the server
 * ====================================================================== */

static volatile sig_atomic_t stop_signal;   /* set by SIGINT/SIGTERM */

static void on_stop_signal(int sig)
{
	stop_signal = sig;
}

static void install_signals(void)
{
	struct sigaction sa;
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_stop_signal;   /* no SA_RESTART: poll() returns EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}

struct server {
	const struct config *cfg;
	const struct strategy *strat;
	int event_fd;                  /* a connection thread finished */
	pthread_mutex_t lock;          /* guards everything below */
	uint64_t active, served, rejected, failed, next_index;
	uint64_t bytes_sent, messages_sent;
	uint64_t mem_in_use, mem_budget;   /* message buffers of active connections (bytes) */
	uint64_t msg_size, per_field_conns, rr_conns, uring_conns, fixed_conns;
	struct zc_stats zc;
	struct tcp_totals tcp;         /* each connection's whole life */
	uint64_t buffers;
	char last_error[200];
	/* the measured window: the first connection to start (stream: its start
	 * byte; rr: its first request) anchors it warmup_ms later, for the
	 * client's measured time; the window thread takes its edges */
	struct perf_ctl perf;
	pthread_cond_t win_cond;       /* wakes the window thread early (win_cut) */
	bool win_anchored, win_cut;
	pthread_t win_tid;
	_Atomic uint64_t win_start_ns, win_end_ns;   /* 0 until anchored */
	struct window win;
	uint64_t win_bytes, win_messages;
	struct tcp_totals win_tcp;
};

struct conn_thread {
	struct server *srv;
	int fd;
	uint64_t index;
	uint64_t accepted_ns;   /* the hello must be complete HELLO_TIMEOUT_S after this */
};

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

/* From now on, sends must end by the client's announced stop plus slack. */
static void conn_set_deadline(struct conn *c)
{
	uint64_t ms = c->hello.duration_ms ? c->hello.duration_ms : (uint64_t)(DURATION_MAX_S * 1000);
	c->deadline_ns = now_ns() + ms * 1000000ull + (uint64_t)STREAM_GRACE_S * NS_PER_S;
}

/* True when the client asked us to stop (FIN or any byte) — or left. */
static bool peer_stopped(int fd, bool *reset)
{
	char buf[64];
	ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
	if (n >= 0)
		return true;
	if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
		return false;
	*reset = true;
	return true;
}

static void serve_reject(int fd, struct server *srv, const char *why)
{
	uint8_t reply[REPLY_LEN];
	reply_encode(REPLY_REJECT, why, reply);
	(void)net_send_all(fd, reply, sizeof(reply));
	warning("refused a connection: %s", why);
	pthread_mutex_lock(&srv->lock);
	srv->rejected++;
	pthread_mutex_unlock(&srv->lock);
}

/* What one connection did, for the server's totals. */
struct conn_result {
	uint64_t bytes, messages;            /* the whole connection */
	uint64_t win_bytes, win_messages;    /* in the server's window */
	uint64_t pend_bytes, pend_msgs;      /* sent since the last conn_tick() */
	struct tcp_totals tcp, win_tcp;      /* TCP_INFO: the whole connection / the window */
	bool tcp_opened, tcp_closed;         /* win_tcp's edges taken */
	uint64_t retrans0;                   /* total_retrans at the window's start */
	uint64_t reserved;       /* bytes of the memory budget this connection holds */
	bool served, failed;
};

/* The window thread: takes the window's edges at the anchored times; a
 * cut (the server is ending) closes it early. */
static bool server_sleep_until(struct server *srv, uint64_t t)
{
	struct timespec ts = { .tv_sec = (time_t)(t / NS_PER_S), .tv_nsec = (long)(t % NS_PER_S) };
	while (!srv->win_cut && now_ns() < t)
		pthread_cond_timedwait(&srv->win_cond, &srv->lock, &ts);
	return !srv->win_cut;
}

static void *server_window_main(void *arg)
{
	struct server *srv = arg;
	pthread_mutex_lock(&srv->lock);
	if (server_sleep_until(srv, srv->win_start_ns)) {
		pthread_mutex_unlock(&srv->lock);
		window_open(&srv->win, &srv->perf);
		pthread_mutex_lock(&srv->lock);
		server_sleep_until(srv, srv->win_end_ns);
		pthread_mutex_unlock(&srv->lock);
		window_close(&srv->win, &srv->perf);
		/* the client stops by its own clock, started a little before the
		 * start byte reached us: ending that little early is the window */
		uint64_t len = srv->win_end_ns - srv->win_start_ns;
		srv->win.cut = srv->win.b.t_ns + len / 100 + 20000000ull < srv->win_end_ns;
		return NULL;
	}
	pthread_mutex_unlock(&srv->lock);
	return NULL;
}

/* The first connection to start anchors the window; later ones share it. */
static void server_anchor_window(struct server *srv, const struct hello *h)
{
	pthread_mutex_lock(&srv->lock);
	if (!srv->win_anchored && h->duration_ms) {
		uint64_t start = now_ns() + (uint64_t)h->warmup_ms * 1000000ull;
		atomic_store(&srv->win_end_ns, start + (uint64_t)(h->duration_ms - h->warmup_ms) * 1000000ull);
		atomic_store(&srv->win_start_ns, start);
		srv->win_anchored = pthread_create(&srv->win_tid, NULL, server_window_main, srv) == 0;
		if (!srv->win_anchored)
			warning("cannot start the window thread: figures cover no window");
	}
	pthread_mutex_unlock(&srv->lock);
}

static uint64_t tcp_total_retrans(int fd)
{
	struct tcp_totals t = { 0 };
	tcp_totals_add(&t, fd);
	return t.retrans;
}

/* Called by the connection's thread every few messages: the bytes sent
 * since the last call count in the window when now is inside it; TCP_INFO
 * is taken when the window opens and when it closes (or at the end). */
static void conn_tick(struct server *srv, struct conn *c, struct conn_result *res, bool ending)
{
	uint64_t now = now_ns(), ws = atomic_load_explicit(&srv->win_start_ns, memory_order_relaxed);
	uint64_t we = atomic_load_explicit(&srv->win_end_ns, memory_order_relaxed);
	if (ws && now >= ws && now < we) {
		res->win_bytes += res->pend_bytes;
		res->win_messages += res->pend_msgs;
	}
	res->pend_bytes = res->pend_msgs = 0;
	if (ws && now >= ws && !res->tcp_opened) {
		res->retrans0 = tcp_total_retrans(c->fd);
		res->tcp_opened = true;
	}
	if (res->tcp_opened && !res->tcp_closed && (now >= we || ending)) {
		tcp_totals_add(&res->win_tcp, c->fd);
		res->win_tcp.retrans -= res->retrans0;
		res->tcp_closed = true;
	}
}

/* Stream messages until the client stops us.  Returns 0, or -1 with
 * c->err set. */
static int serve_stream(struct server *srv, struct conn *c, struct conn_result *res)
{
	const struct strategy *s = srv->strat;
	uint64_t size = c->hello.msg_size;
	/* the clock every ~64 KiB sent, the peer every ~1 MiB */
	uint64_t tick_every = size >= (1u << 16) ? 1 : (1u << 16) / size;
	uint64_t check_every = size >= (1u << 20) ? 1 : (1u << 20) / size;
	uint64_t seq = 0, since_tick = 0, since_check = 0;
	char go;

	int r = net_recv_by(c->fd, &go, 1, deadline_in_s(IO_TIMEOUT_S));
	if (r <= 0 || go != START_BYTE) {
		conn_fail(c, "client never sent its start byte");
		return -1;
	}
	conn_set_deadline(c);
	server_anchor_window(srv, &c->hello);
	for (;;) {
		if (s->send(c, seq) < 0) {
			if (errno == EPIPE || errno == ECONNRESET)
				conn_fail(c, "client reset the connection mid-stream");
			else if (errno == EAGAIN || errno == EWOULDBLOCK)
				conn_fail(c, "send blocked for %d s: client stopped reading", IO_TIMEOUT_S);
			else if (errno == ETIMEDOUT)
				conn_fail(c, "client stopped reading: still sending %d s past its announced end",
					 STREAM_GRACE_S);
			else if (!c->err[0])
				conn_fail(c, "send: %s", strerror(errno));
			return -1;
		}
		seq++;
		res->bytes += size;
		res->messages++;
		res->pend_bytes += size;
		res->pend_msgs++;
		if (++since_tick >= tick_every) {
			since_tick = 0;
			conn_tick(srv, c, res, false);
		}
		if (++since_check >= check_every) {
			bool reset = false;
			since_check = 0;
			if (stop_signal)
				return 0;
			if (now_ns() > c->deadline_ns) {
				conn_fail(c, "client did not stop %d s past its announced end", STREAM_GRACE_S);
				return -1;
			}
			if (peer_stopped(c->fd, &reset)) {
				if (reset) {
					conn_fail(c, "client reset the connection mid-stream");
					return -1;
				}
				return 0;
			}
		}
	}
}

/* Request-response: for each RR_REQ_LEN-byte request, one message.  The
 * client ends the exchange by closing its side.  Returns 0, or -1 with
 * c->err set. */
static int serve_rr(struct server *srv, struct conn *c, struct conn_result *res)
{
	const struct strategy *s = srv->strat;
	uint8_t req[RR_REQ_LEN];
	uint64_t seq = 0;

	set_nodelay(c->fd);
	conn_set_deadline(c);
	for (;;) {
		if (now_ns() > c->deadline_ns) {
			conn_fail(c, "client kept asking %d s past its announced end", STREAM_GRACE_S);
			return -1;
		}
		int r = net_recv_all(c->fd, req, sizeof(req));
		if (r == 0) {   /* a client that finished says goodbye first */
			conn_fail(c, "client reset the connection: closed without its goodbye");
			return -1;
		}
		if (r > 0 && get_le(req, 8) == RR_BYE)
			return 0;
		if (r < 0) {
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				conn_fail(c, "client sent no request for %d s", IO_TIMEOUT_S);
			else if (errno == EPIPE)
				conn_fail(c, "client closed the connection mid-request");
			else
				conn_fail(c, "client reset the connection mid-stream");
			return -1;
		}
		if (seq == 0)
			server_anchor_window(srv, &c->hello);
		if (get_le(req, 8) != seq) {
			conn_fail(c, "request %" PRIu64 " arrived as number %" PRIu64,
				 seq, get_le(req, 8));
			return -1;
		}
		if (s->send(c, seq) < 0) {
			if (!c->err[0])
				conn_fail(c, "send: %s", strerror(errno));
			return -1;
		}
		seq++;
		res->bytes += c->hello.msg_size;
		res->messages++;
		res->pend_bytes += c->hello.msg_size;
		res->pend_msgs++;
		conn_tick(srv, c, res, false);
		if (stop_signal)
			return 0;
	}
}


/* Read and decode the hello within HELLO_TIMEOUT_S of the accept.
 * Returns 0, or -1 with the reason in why. */
static int conn_read_hello(const struct conn_thread *ct, struct conn *c, char *why, size_t whylen)
{
	uint8_t hbuf[HELLO_LEN];
	int r = net_recv_by(c->fd, hbuf, sizeof(hbuf), ct->accepted_ns + (uint64_t)HELLO_TIMEOUT_S * NS_PER_S);
	if (r <= 0) {
		const char *what = r == 0 ? "closed before its hello" :
			errno == ETIMEDOUT ? "sent no complete hello within the timeout" :
			errno == EPIPE ? "sent a truncated hello" : "failed while sending its hello";
		snprintf(why, whylen, "peer %s", what);
		return -1;
	}
	if (hello_decode(hbuf, sizeof(hbuf), &c->hello, why, whylen) < 0)
		return -1;
	if (c->hello.strategy != ct->srv->strat->id) {
		snprintf(why, whylen, "strategy mismatch: server runs %s, client asked for %s",
			 strategy_name(ct->srv->strat->id), strategy_name(c->hello.strategy));
		return -1;
	}
	return 0;
}

/* Take this connection's message buffers out of the memory budget.
 * Returns 0, or -1 with the reason in why. */
static int conn_reserve(struct server *srv, const struct conn *c, struct conn_result *res,
			char *why, size_t whylen)
{
	uint64_t mem = srv->strat->mem_bytes(c);
	pthread_mutex_lock(&srv->lock);
	bool fits = srv->mem_in_use + mem <= srv->mem_budget;
	if (fits)
		srv->mem_in_use += mem;
	uint64_t in_use = srv->mem_in_use;
	pthread_mutex_unlock(&srv->lock);
	if (!fits) {
		snprintf(why, whylen, "server memory budget: needs %llu MiB, %llu of %llu MiB in use",
			 (unsigned long long)((mem + (1 << 20) - 1) >> 20), (unsigned long long)(in_use >> 20),
			 (unsigned long long)(srv->mem_budget >> 20));
		return -1;
	}
	res->reserved = mem;
	return 0;
}

/* Admit a connection: hello, strategy, memory budget, the strategy's open.
 * A refused peer has been answered; returns 0 admitted, -1 refused. */
static int conn_admit(const struct conn_thread *ct, struct conn *c, struct conn_result *res)
{
	struct server *srv = ct->srv;
	char why[200];   /* the wire copy is cut to REPLY_REASON_MAX - 1 */
	if (conn_read_hello(ct, c, why, sizeof(why)) < 0 ||
	    conn_reserve(srv, c, res, why, sizeof(why)) < 0) {
		serve_reject(c->fd, srv, why);
		return -1;
	}
	if (srv->strat->open(c) < 0) {
		serve_reject(c->fd, srv, c->err[0] ? c->err : "server could not set up the connection");
		return -1;
	}
	return 0;
}

/* Accept, stream (or answer requests), close the strategy.  The stream's
 * error is the cause; a close error after it is kept beside it.  Returns
 * true when the connection failed (c->err says why). */
static bool conn_serve(struct server *srv, struct conn *c, struct conn_result *res)
{
	const struct strategy *s = srv->strat;
	uint8_t reply[REPLY_LEN];
	bool failed = false;
	reply_encode(REPLY_ACCEPT, "", reply);
	set_timeout(c->fd, SO_RCVTIMEO, IO_TIMEOUT_S);
	if (net_send_all(c->fd, reply, sizeof(reply)) < 0)
		failed = conn_fail(c, "could not answer the hello: %s", strerror(errno)) < 0;
	else if ((c->hello.mode == MODE_RR ? serve_rr : serve_stream)(srv, c, res) < 0)
		failed = true;
	/* before close(): a3 disconnects a failed socket, and TCP_INFO is then zeros */
	conn_tick(srv, c, res, true);
	tcp_totals_add(&res->tcp, c->fd);
	char stream_err[sizeof(c->err)];
	snprintf(stream_err, sizeof(stream_err), "%s", c->err);
	c->err[0] = '\0';
	c->aborted = failed;
	if (s->close(c) < 0) {
		if (stream_err[0]) {
			char close_err[sizeof(c->err)];
			snprintf(close_err, sizeof(close_err), "%s", c->err);
			conn_fail(c, "%.90s; %.60s", stream_err, close_err);
		}
		failed = true;
	} else if (stream_err[0]) {
		conn_fail(c, "%s", stream_err);
	}
	return failed;
}

/* Add a finished connection into the server's totals. */
static void conn_account(struct server *srv, const struct conn *c, const struct conn_result *res)
{
	pthread_mutex_lock(&srv->lock);
	srv->active--;
	/* a3 may have leaked a pool the kernel still holds: keep it counted */
	if (!c->zc.missing)
		srv->mem_in_use -= res->reserved;
	if (res->served) {
		srv->served++;
		srv->failed += res->failed;
		srv->bytes_sent += res->bytes;
		srv->messages_sent += res->messages;
		srv->win_bytes += res->win_bytes;
		srv->win_messages += res->win_messages;
		srv->buffers = conn_buffers(c);
		srv->msg_size = c->hello.msg_size;
		srv->per_field_conns += (c->hello.flags & HELLO_F_PER_FIELD) != 0;
		srv->uring_conns += (c->hello.flags & HELLO_F_URING) != 0;
		srv->fixed_conns += (c->hello.flags & HELLO_F_FIXED) != 0;
		srv->rr_conns += c->hello.mode == MODE_RR;
		zc_stats_add(&srv->zc, &c->zc);
		tcp_totals_merge(&srv->tcp, &res->tcp);
		tcp_totals_merge(&srv->win_tcp, &res->win_tcp);
		if (res->failed)
			snprintf(srv->last_error, sizeof(srv->last_error), "%s", c->err);
	}
	pthread_mutex_unlock(&srv->lock);
	uint64_t one = 1;
	if (write(srv->event_fd, &one, sizeof(one)) < 0) {
		/* the main loop also wakes up on its poll timeout */
	}
}

static void *conn_thread_main(void *arg)
{
	struct conn_thread *ct = arg;
	struct server *srv = ct->srv;
	struct conn c = { .fd = ct->fd, .opts = &srv->cfg->sopts };
	struct conn_result res = { 0 };

	pin_self(srv->cfg, ct->index);
	set_timeout(c.fd, SO_RCVTIMEO, HELLO_TIMEOUT_S);
	set_timeout(c.fd, SO_SNDTIMEO, IO_TIMEOUT_S);
	if (conn_admit(ct, &c, &res) == 0) {
		res.served = true;
		res.failed = conn_serve(srv, &c, &res);
		if (res.failed)
			warning("connection %" PRIu64 " failed: %s", ct->index, c.err);
	}
	shutdown(c.fd, SHUT_WR);
	close(c.fd);
	conn_account(srv, &c, &res);
	free(ct);
	return NULL;
}

/* One fd per connection: make room for THREADS_MAX of them (plus slack),
 * so the cap, not EMFILE, is what refuses the extra peers. */
static uint64_t conn_cap = THREADS_MAX;

static void raise_fd_limit(void)
{
	struct rlimit rl;
	const rlim_t want = THREADS_MAX + 64;
	if (getrlimit(RLIMIT_NOFILE, &rl) < 0 || rl.rlim_cur >= want)
		return;
	rl.rlim_cur = rl.rlim_max < want ? rl.rlim_max : want;
	(void)setrlimit(RLIMIT_NOFILE, &rl);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < want) {
		conn_cap = rl.rlim_cur > 96 ? rl.rlim_cur - 64 : 32;
		warning("open-file limit %llu: serving at most %llu connections at once",
		       (unsigned long long)rl.rlim_cur, (unsigned long long)conn_cap);
	}
}

static int server_listen(const struct config *cfg, const struct strategy *s)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM,
				  .ai_flags = AI_PASSIVE | AI_NUMERICHOST };
	struct addrinfo *ai;
	char port[8];
	snprintf(port, sizeof(port), "%u", cfg->port);
	int err = getaddrinfo(cfg->bind_addr, port, &hints, &ai);
	if (err)
		usage_error("bad bind address '%s': %s", cfg->bind_addr, gai_strerror(err));
	int fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		die(1, errno, "socket");
	int one = 1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (s->listen_setup && s->listen_setup(fd) < 0)
		exit(1);    /* the strategy said why */
	if (bind(fd, ai->ai_addr, ai->ai_addrlen) < 0)
		die(1, errno, "bind %s:%u", cfg->bind_addr, cfg->port);
	if (listen(fd, 1024) < 0)
		die(1, errno, "listen");
	freeaddrinfo(ai);
	return fd;
}

/* Whole-life CPU of the server process, beside the window's. */
static void out_life(struct out *o, const struct cpu_usage *cpu0, uint64_t start_ns)
{
	struct cpu_usage cpu1;
	cpu_usage_now(&cpu1);
	out_dbl(o, "life_s", (double)(now_ns() - start_ns) / 1e9);
	out_dbl(o, "life_cpu_user_s", cpu1.user_s - cpu0->user_s);
	out_dbl(o, "life_cpu_sys_s", cpu1.sys_s - cpu0->sys_s);
}

static void server_report(struct server *srv, const struct cpu_usage *cpu0, uint64_t start_ns)
{
	const struct config *cfg = srv->cfg;
	double secs = srv->win.opened && srv->win.closed ? (double)(srv->win.b.t_ns - srv->win.a.t_ns) / 1e9 : NAN;
	const char *variant = srv->per_field_conns == 0 ? "default" :
		srv->per_field_conns == srv->served ? "per-field" : "mixed";
	struct out o;
	if (!cfg->json)
		printf("%s_server (%s) summary\n", strategy_name(srv->strat->id), strategy_title(srv->strat->id));
	out_begin(&o, cfg->json);
	out_str(&o, "version", COPYBENCH_VERSION);
	out_str(&o, "role", "server");
	out_str(&o, "bind", cfg->bind_addr);
	out_str(&o, "strategy", strategy_name(srv->strat->id));
	out_str(&o, "variant", variant);
	out_str(&o, "mode", srv->rr_conns == 0 ? "stream" : srv->rr_conns == srv->served ? "rr" : "mixed");
	out_u64(&o, "port", cfg->port);
	out_u64(&o, "msg_size", srv->msg_size);
	out_u64(&o, "connections", srv->served);
	out_u64(&o, "rejected", srv->rejected);
	out_u64(&o, "failed", srv->failed);
	out_u64(&o, "buffers", srv->buffers);
	out_str(&o, "engine", srv->uring_conns == 0 ? "syscall" : srv->uring_conns == srv->served ? "uring" : "mixed");
	out_bool(&o, "fixed_buffers", srv->fixed_conns > 0);
	out_u64(&o, "bytes_sent", srv->bytes_sent);
	out_u64(&o, "messages_sent", srv->messages_sent);
	out_u64(&o, "bytes", srv->win_bytes);
	out_u64(&o, "messages", srv->win_messages);
	out_dbl(&o, "seconds", secs);
	out_dbl(&o, "gbps", (double)srv->win_bytes * 8 / secs / 1e9);
	out_window(&o, &srv->win, &srv->perf);
	out_tcp(&o, &srv->win_tcp);
	out_u64(&o, "life_tcp_retrans", srv->tcp.retrans);
	out_life(&o, cpu0, start_ns);
	out_str(&o, "cpus", cfg->cpus_text);
	if (srv->strat->has_zc_stats)
		out_zc(&o, &srv->zc);
	out_str(&o, "status", srv->failed ? "failed" : "ok");
	out_str(&o, "reason", srv->failed ? srv->last_error : "");
	out_end(&o);
	if (srv->strat->has_zc_stats && srv->zc.completions)
		fprintf(stderr, "%s: the kernel reported %" PRIu64 " of %" PRIu64
			" zero-copy sends as copied (%.1f%%)\n", prog_name, srv->zc.copied,
			srv->zc.completions, 100.0 * (double)srv->zc.copied / (double)srv->zc.completions);
}

/* Start a thread for an accepted connection, or refuse it when the server
 * is at its cap or out of threads. */
static void server_start_conn(struct server *srv, int fd, const pthread_attr_t *attr)
{
	pthread_mutex_lock(&srv->lock);
	bool busy = srv->active >= conn_cap;
	if (!busy)
		srv->active++;
	uint64_t index = srv->next_index++;
	pthread_mutex_unlock(&srv->lock);
	if (busy) {
		char why[REPLY_REASON_MAX];
		snprintf(why, sizeof(why), "server busy: %llu connections active", (unsigned long long)conn_cap);
		serve_reject(fd, srv, why);
		close(fd);
		return;
	}
	struct conn_thread *ct = malloc(sizeof(*ct));
	pthread_t tid;
	int err = ENOMEM;
	if (ct) {
		*ct = (struct conn_thread){ .srv = srv, .fd = fd, .index = index, .accepted_ns = now_ns() };
		err = pthread_create(&tid, attr, conn_thread_main, ct);
	}
	if (err) {
		free(ct);
		serve_reject(fd, srv, "server out of threads");
		close(fd);
		pthread_mutex_lock(&srv->lock);
		srv->active--;
		pthread_mutex_unlock(&srv->lock);
	}
}

/* Accept connections until -n of them were served or a signal came. */
static void server_accept_loop(struct server *srv, int lfd)
{
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	bool emfile_warned = false;
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		bool done = srv->cfg->max_conns && srv->served >= srv->cfg->max_conns;
		pthread_mutex_unlock(&srv->lock);
		if (done || stop_signal)
			break;
		struct pollfd pfd[2] = { { .fd = lfd, .events = POLLIN }, { .fd = srv->event_fd, .events = POLLIN } };
		if (poll(pfd, 2, 500) < 0) {
			if (errno == EINTR)
				continue;
			die(1, errno, "poll");
		}
		uint64_t n;
		if (pfd[1].revents && read(srv->event_fd, &n, sizeof(n)) < 0) {
			/* nothing to drain */
		}
		if (!(pfd[0].revents & POLLIN))
			continue;
		int fd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
		if (fd >= 0) {
			emfile_warned = false;
			server_start_conn(srv, fd, &attr);
		} else if (errno == EMFILE || errno == ENFILE) {
			if (!emfile_warned)
				warning("accept: %s; waiting for connections to end", strerror(errno));
			emfile_warned = true;
			poll(NULL, 0, 100);
		} else if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED) {
			die(1, errno, "accept");
		}
	}
	pthread_attr_destroy(&attr);
}

/* The connections are over: a window still open closes now (cut short). */
static void server_end_window(struct server *srv)
{
	pthread_mutex_lock(&srv->lock);
	bool anchored = srv->win_anchored;
	srv->win_cut = true;
	pthread_cond_broadcast(&srv->win_cond);
	pthread_mutex_unlock(&srv->lock);
	if (anchored)
		pthread_join(srv->win_tid, NULL);
}

/* Let running connections finish: they see stop_signal within one check
 * interval, and each is bounded by its I/O timeouts. */
static void server_wait_conns(struct server *srv)
{
	uint64_t deadline = deadline_in_s(IO_TIMEOUT_S + DRAIN_TIMEOUT_S);
	for (;;) {
		pthread_mutex_lock(&srv->lock);
		uint64_t active = srv->active;
		pthread_mutex_unlock(&srv->lock);
		if (!active)
			break;
		if (now_ns() > deadline) {
			warning("%" PRIu64 " connections still running at exit", active);
			break;
		}
		poll(NULL, 0, 20);
	}
}

int server_main(int argc, char **argv, const struct strategy *s)
{
	static struct config cfg;
	static struct server srv;
	struct cpu_usage cpu0;
	uint64_t start_ns = now_ns();

	set_prog_name(argv[0], "server");
	cfg.role = ROLE_SERVER;
	cfg.strategy = s->id;
	parse_cli(argc, argv, &cfg);
	install_signals();
	raise_fd_limit();
	cpu_usage_now(&cpu0);
	perf_ctl_open(&srv.perf, cfg.perf_ctl, cfg.nperf_ctl);

	srv.cfg = &cfg;
	srv.strat = s;
	/* Half the machine's memory for message buffers: a client asking for
	 * 1024 × 64 MiB is refused, not OOM-killed. */
	srv.mem_budget = cfg.mem_budget ? cfg.mem_budget :
		(uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE) / 2;
	pthread_mutex_init(&srv.lock, NULL);
	pthread_condattr_t ca;
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&srv.win_cond, &ca);
	pthread_condattr_destroy(&ca);
	srv.event_fd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
	if (srv.event_fd < 0)
		die(1, errno, "eventfd");
	int lfd = server_listen(&cfg, s);
	fprintf(stderr, "%s: listening on %s:%u (%s, %s)\n", prog_name, cfg.bind_addr, cfg.port,
		strategy_name(s->id), strategy_title(s->id));
	server_accept_loop(&srv, lfd);
	close(lfd);
	server_wait_conns(&srv);
	server_end_window(&srv);
	pthread_mutex_lock(&srv.lock);
	server_report(&srv, &cpu0, start_ns);
	int status = srv.failed ? 1 : 0;
	pthread_mutex_unlock(&srv.lock);
	return status;
}

/* ======================================================================
 * the client
 * ====================================================================== */

struct client {
	const struct config *cfg;
	pthread_barrier_t barrier;
	struct addrinfo *addr;
	uint64_t start_ns, warm_ns, end_ns;   /* set before the second barrier */
	atomic_bool abort;
};

struct client_thread {
	struct client *cl;
	pthread_t tid;
	uint64_t index;
	int fd;
	uint64_t bytes, messages;              /* in the measured window */
	uint64_t bytes_total, messages_total;  /* everything received */
	uint64_t verify_errors;
	struct tcp_totals tcp;
	struct hist rtt;                       /* rr: round trips begun in the window */
	struct zc_rx *zrx;                     /* --rx zerocopy; NULL: recvmsg() into the fields */
	uint64_t rx_mapped, rx_copied;         /* --rx zerocopy: bytes mapped / copied */
	bool connected, failed;
	char err[200];
};

/* Record why this connection failed; returns -1. */
static int client_fail(struct client_thread *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int client_fail(struct client_thread *t, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(t->err, sizeof(t->err), fmt, ap);
	va_end(ap);
	t->failed = true;
	return -1;
}

static int client_connect(struct client_thread *t)
{
	const struct config *cfg = t->cl->cfg;
	struct addrinfo *ai = t->cl->addr;
	uint8_t hbuf[HELLO_LEN], rbuf[REPLY_LEN];
	char reason[REPLY_REASON_MAX];
	int status;

	t->fd = socket(ai->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (t->fd < 0) {
		client_fail(t, "socket: %s", strerror(errno));
		return -1;
	}
	set_timeout(t->fd, SO_SNDTIMEO, HELLO_TIMEOUT_S);
	if (connect(t->fd, ai->ai_addr, ai->ai_addrlen) < 0) {
		client_fail(t, "connect to %s port %u: %s", cfg->host, cfg->port, strerror(errno));
		return -1;
	}
	t->connected = true;
	struct hello h = { .magic = HELLO_MAGIC, .version = HELLO_VERSION,
			   .strategy = (uint8_t)cfg->strategy, .mode = (uint8_t)cfg->mode,
			   .flags = (cfg->per_field ? HELLO_F_PER_FIELD : 0) | (cfg->uring ? HELLO_F_URING : 0) |
				    (cfg->fixed ? HELLO_F_FIXED : 0),
			   .uring_depth = (uint16_t)cfg->uring_depth, .msg_size = cfg->msg_size,
			   .duration_ms = (uint32_t)ceil((cfg->warmup_s + cfg->duration_s) * 1000),
			   .warmup_ms = (uint32_t)ceil(cfg->warmup_s * 1000), .buffers = (uint16_t)cfg->buffers };
	hello_encode(&h, hbuf);
	set_timeout(t->fd, SO_RCVTIMEO, HELLO_TIMEOUT_S);
	if (net_send_all(t->fd, hbuf, sizeof(hbuf)) < 0) {
		client_fail(t, "sending hello: %s", strerror(errno));
		return -1;
	}
	int r = net_recv_all(t->fd, rbuf, sizeof(rbuf));
	if (r <= 0) {
		client_fail(t, "%s:%u did not answer the hello: %s", cfg->host, cfg->port,
			 r == 0 ? "connection closed" :
			 (errno == EAGAIN || errno == EWOULDBLOCK) ? "timed out" : strerror(errno));
		return -1;
	}
	if (reply_decode(rbuf, sizeof(rbuf), &status, reason, sizeof(reason)) < 0) {
		client_fail(t, "%s:%u is not a copybench server", cfg->host, cfg->port);
		return -1;
	}
	if (status != REPLY_ACCEPT) {
		client_fail(t, "server refused: %s", reason);
		return -1;
	}
	return 0;
}

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

static int zc_rx_open(struct client_thread *t)
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

static void zc_rx_close(struct client_thread *t)
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
static int client_rx_zc(struct client_thread *t, uint64_t *msgs)
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

/* Receive one whole message into m's fields and check it.  Returns 1, 0 on
 * EOF at a message boundary, -1 on error (t->err set). */
static int client_recv_msg(struct client_thread *t, struct msg *m, uint64_t *seq)
{
	struct iovec iov[MSG_FIELDS];
	char why[160];
	msg_iov(m, iov);
	int r = net_recvv_all(t->fd, iov, MSG_FIELDS);
	if (r < 0) {
		if (errno == EAGAIN || errno == EWOULDBLOCK)
			client_fail(t, "server sent nothing for %d s", CLIENT_STALL_S);
		else if (errno == EPIPE)
			client_fail(t, "server closed the connection mid-message");
		else
			client_fail(t, "receive: %s", strerror(errno));
		return -1;
	}
	if (r == 0)
		return 0;
	if (msg_verify(m, *seq, t->cl->cfg->verify, why, sizeof(why)) < 0) {
		if (t->verify_errors++ < 3)
			warning("connection %" PRIu64 ": %s", t->index, why);
		*seq = msg_seq(m);   /* resynchronise so one loss counts once */
	}
	(*seq)++;
	t->bytes_total += m->size;
	t->rx_copied += m->size;
	t->messages_total++;
	return 1;
}

/* The next messages of a stream: one by recvmsg(), or as many as one
 * receive zero-copy round completed (*msgs, maybe 0).  Returns as
 * client_recv_msg. */
static int client_rx(struct client_thread *t, struct msg *m, uint64_t *seq, uint64_t *msgs)
{
	if (t->zrx)
		return client_rx_zc(t, msgs);
	int r = client_recv_msg(t, m, seq);
	*msgs = r > 0;
	return r;
}

static void client_stream(struct client_thread *t, struct msg *m)
{
	struct client *cl = t->cl;
	uint64_t seq = 0;
	/* Reading the clock costs ~20 ns; small messages check it every 16
	 * (receive zero-copy returns many messages a call: every call). */
	uint64_t mask = m->size < 16384 && !t->zrx ? 15 : 0;
	char go = START_BYTE;

	if (net_send_all(t->fd, &go, 1) < 0) {
		client_fail(t, "sending start: %s", strerror(errno));
		return;
	}
	/* Answering the server's reply this quickly (hello, reply, start byte)
	 * puts the socket in the kernel's interactive ("pingpong") delayed-ACK
	 * mode, which a bulk receiver never enters: measured with
	 * bench/vs_iperf3.sh at 1 KiB, the sender then sent one message per
	 * packet and ~15% more CPU per byte than iperf3, whose receiver never
	 * writes on its data socket.  Leave that mode: ACK like a bulk receiver. */
	int one = 1;
	(void)setsockopt(t->fd, IPPROTO_TCP, TCP_QUICKACK, &one, sizeof(one));
	uint64_t pending_b = 0, pending_m = 0, calls = 0, msgs;
	for (;;) {
		int r = client_rx(t, m, &seq, &msgs);
		if (r < 0)
			return;
		if (r == 0) {
			client_fail(t, "server closed the connection early, after %" PRIu64 " messages",
				 t->messages_total);
			return;
		}
		pending_b += msgs * m->size;
		pending_m += msgs;
		if ((++calls & mask) != 0)
			continue;
		uint64_t now = now_ns();
		if (now >= cl->warm_ns && now < cl->end_ns) {
			t->bytes += pending_b;
			t->messages += pending_m;
		}
		pending_b = pending_m = 0;
		if (now >= cl->end_ns || atomic_load_explicit(&cl->abort, memory_order_relaxed))
			break;
	}
	/* Ask the server to stop, then take everything it already sent: every
	 * byte is received and checked, so bytes_total equals its bytes_sent. */
	shutdown(t->fd, SHUT_WR);
	uint64_t deadline = deadline_in_s(DRAIN_TIMEOUT_S);
	for (;;) {
		int r = client_rx(t, m, &seq, &msgs);
		if (r == 0)
			break;
		if (r < 0 || now_ns() > deadline) {
			if (r > 0)
				client_fail(t, "server kept sending %d s after stop", DRAIN_TIMEOUT_S);
			return;
		}
	}
}

/* Request-response: time each round trip (request out, whole message in). */
static void client_rr(struct client_thread *t, struct msg *m)
{
	struct client *cl = t->cl;
	uint8_t req[RR_REQ_LEN];
	uint64_t seq = 0;

	set_nodelay(t->fd);
	for (;;) {
		uint64_t t0 = now_ns();
		if (t0 >= cl->end_ns || atomic_load_explicit(&cl->abort, memory_order_relaxed))
			break;
		put_le(req, seq, 8);
		if (net_send_all(t->fd, req, sizeof(req)) < 0) {
			client_fail(t, "sending request: %s", strerror(errno));
			return;
		}
		int r = client_recv_msg(t, m, &seq);
		uint64_t t1 = now_ns();
		if (r <= 0) {
			if (r == 0)
				client_fail(t, "server closed the connection after %" PRIu64 " round trips",
					 t->messages_total);
			return;
		}
		if (t0 >= cl->warm_ns) {
			hist_record(&t->rtt, t1 - t0);
			t->bytes += m->size;
			t->messages++;
		}
	}
	put_le(req, RR_BYE, 8);
	if (net_send_all(t->fd, req, sizeof(req)) < 0) {
		client_fail(t, "sending goodbye: %s", strerror(errno));
		return;
	}
	shutdown(t->fd, SHUT_WR);
	int r = client_recv_msg(t, m, &seq);
	if (r != 0) {
		if (r > 0)
			client_fail(t, "server sent a message nobody asked for");
	}
}

static void *client_thread_main(void *arg)
{
	struct client_thread *t = arg;
	struct client *cl = t->cl;
	struct msg m;
	bool have_msg = false;

	pin_self(cl->cfg, t->index);
	if (msg_alloc(&m, cl->cfg->msg_size) < 0) {
		client_fail(t, "out of memory for a %" PRIu64 "-byte message", cl->cfg->msg_size);
	} else {
		have_msg = true;
		if (client_connect(t) < 0 || (cl->cfg->rx_zc && zc_rx_open(t) < 0))
			t->failed = true;
	}
	if (t->failed)
		atomic_store(&cl->abort, true);
	pthread_barrier_wait(&cl->barrier);   /* 1: everyone connected (or failed) */
	pthread_barrier_wait(&cl->barrier);   /* 2: the clock starts */
	if (!t->failed && !atomic_load(&cl->abort)) {
		set_timeout(t->fd, SO_RCVTIMEO, CLIENT_STALL_S);
		set_timeout(t->fd, SO_SNDTIMEO, CLIENT_STALL_S);
		if (cl->cfg->mode == MODE_RR)
			client_rr(t, &m);
		else
			client_stream(t, &m);
		if (t->failed)
			atomic_store(&cl->abort, true);
	}
	if (t->fd >= 0) {
		if (t->connected)
			tcp_totals_add(&t->tcp, t->fd);
		close(t->fd);
	}
	zc_rx_close(t);
	if (have_msg)
		msg_free(&m);
	return NULL;
}

/* The keys that say what a client run was, first in every client object. */
static void out_client_header(struct out *o, const struct config *cfg)
{
	out_str(o, "version", COPYBENCH_VERSION);
	out_str(o, "role", "client");
	out_str(o, "strategy", strategy_name(cfg->strategy));
	out_str(o, "variant", cfg->per_field ? "per-field" : "default");
	out_str(o, "mode", mode_name(cfg->mode));
	out_str(o, "host", cfg->host);
	out_u64(o, "port", cfg->port);
	out_u64(o, "msg_size", cfg->msg_size);
	out_u64(o, "threads", cfg->threads);
	out_u64(o, "buffers", cfg->buffers);
	out_str(o, "engine", cfg->uring ? "uring" : "syscall");
	out_u64(o, "uring_depth", cfg->uring ? cfg->uring_depth : 0);
	out_bool(o, "fixed_buffers", cfg->fixed);
	out_str(o, "rx", cfg->rx_zc ? "zerocopy" : "copy");
}

/* Nothing could start: say why, and with --json still print one object
 * (status failed) so a script never mistakes it for a measurement. */
static int client_fail_early(const struct config *cfg, const char *why)
{
	fprintf(stderr, "%s: %s\n", prog_name, why);
	if (cfg->json) {
		struct out o;
		out_begin(&o, true);
		out_client_header(&o, cfg);
		out_str(&o, "status", "failed");
		out_str(&o, "reason", why);
		out_end(&o);
	}
	return 1;
}

/* Bytes of RAM this process may sensibly use: half of what is available. */
static uint64_t mem_allowance(void)
{
	unsigned long long kb = 0;
	char line[128];
	FILE *f = fopen("/proc/meminfo", "r");
	while (f && fgets(line, sizeof(line), f))
		if (sscanf(line, "MemAvailable: %llu kB", &kb) == 1)
			break;
	if (f)
		fclose(f);
	uint64_t avail = kb ? (uint64_t)kb * 1024 :
		(uint64_t)sysconf(_SC_PHYS_PAGES) * (uint64_t)sysconf(_SC_PAGESIZE);
	return avail / 2;
}

/* Refuse (usage error) a request whose receive buffers cannot fit. */
static void client_check_memory(const struct config *cfg)
{
	uint64_t need = cfg->threads * msg_mem_bytes(cfg->msg_size), allow = mem_allowance();
	if (need > allow)
		usage_error("%llu threads x %llu-byte messages need %llu MiB of receive buffers, more than"
			    " half of this machine's available memory (%llu MiB)",
			    (unsigned long long)cfg->threads, (unsigned long long)cfg->msg_size,
			    (unsigned long long)(need >> 20), (unsigned long long)(allow >> 20));
}

static struct client_thread *client_start_threads(struct client *cl)
{
	uint64_t n = cl->cfg->threads;
	struct client_thread *th = calloc(n, sizeof(*th));
	if (!th)
		die(1, ENOMEM, "thread table");
	pthread_barrier_init(&cl->barrier, NULL, (unsigned)n + 1);
	for (uint64_t i = 0; i < n; i++) {
		th[i].cl = cl;
		th[i].index = i;
		th[i].fd = -1;
		hist_init(&th[i].rtt);
		int e = pthread_create(&th[i].tid, NULL, client_thread_main, &th[i]);
		if (e)
			die(1, e, "cannot start thread %" PRIu64, i);
	}
	return th;
}

/* Start the clock once every thread is connected, take the window's edges
 * (CPU, host, perf), wait for the threads.  Returns true when a connection
 * failed before the clock started (nothing was measured). */
static bool client_measure(struct client *cl, struct client_thread *th, struct window *w,
			   struct perf_ctl *perf)
{
	const struct config *cfg = cl->cfg;
	pthread_barrier_wait(&cl->barrier);
	cl->start_ns = now_ns();
	cl->warm_ns = cl->start_ns + (uint64_t)(cfg->warmup_s * 1e9);
	cl->end_ns = cl->warm_ns + (uint64_t)(cfg->duration_s * 1e9);
	bool aborted = atomic_load(&cl->abort);
	pthread_barrier_wait(&cl->barrier);
	if (!aborted) {
		sleep_until_ns(cl->warm_ns);
		window_open(w, perf);
		sleep_until_ns(cl->end_ns);
		window_close(w, perf);
	}
	for (uint64_t i = 0; i < cfg->threads; i++)
		pthread_join(th[i].tid, NULL);
	pthread_barrier_destroy(&cl->barrier);
	return aborted;
}

/* Every thread's counters, summed after join. */
struct client_totals {
	uint64_t bytes, messages, bytes_total, messages_total, verify_errors, failed;
	uint64_t rx_mapped, rx_copied;
	struct tcp_totals tcp;
	struct hist rtt;
	const char *first_err;
};

static void client_sum(const struct client_thread *th, uint64_t n, struct client_totals *tot)
{
	hist_init(&tot->rtt);
	for (uint64_t i = 0; i < n; i++) {
		tot->bytes += th[i].bytes;
		tot->messages += th[i].messages;
		tot->bytes_total += th[i].bytes_total;
		tot->messages_total += th[i].messages_total;
		tot->verify_errors += th[i].verify_errors;
		tot->rx_mapped += th[i].rx_mapped;
		tot->rx_copied += th[i].rx_copied;
		tcp_totals_merge(&tot->tcp, &th[i].tcp);
		hist_merge(&tot->rtt, &th[i].rtt);
		if (th[i].failed) {
			tot->failed++;
			if (!tot->first_err)
				tot->first_err = th[i].err;
		}
	}
}

/* Why the run failed, "" when it did not. */
static void client_reason(const struct client_totals *tot, uint64_t n, bool aborted, char *reason, size_t len)
{
	reason[0] = '\0';
	if (aborted)   /* nothing was measured: the object still says why */
		snprintf(reason, len, "%s", tot->first_err ? tot->first_err : "aborted");
	else if (tot->failed)
		snprintf(reason, len, "%" PRIu64 " of %" PRIu64 " connections failed: %s",
			 tot->failed, n, tot->first_err);
	else if (tot->verify_errors)
		snprintf(reason, len, "%" PRIu64 " messages failed verification", tot->verify_errors);
}

static void out_rtt(struct out *o, const struct hist *rtt, double secs)
{
	bool any = rtt->count > 0;
	out_u64(o, "transactions", rtt->count);
	out_dbl(o, "transactions_per_sec", (double)rtt->count / secs);
	out_dbl(o, "rtt_min_us", any ? (double)rtt->min_ns / 1e3 : NAN);
	out_dbl(o, "rtt_mean_us", any ? (double)rtt->sum_ns / (double)rtt->count / 1e3 : NAN);
	out_dbl(o, "rtt_p50_us", any ? hist_quantile(rtt, 0.50) / 1e3 : NAN);
	out_dbl(o, "rtt_p90_us", any ? hist_quantile(rtt, 0.90) / 1e3 : NAN);
	out_dbl(o, "rtt_p99_us", any ? hist_quantile(rtt, 0.99) / 1e3 : NAN);
	out_dbl(o, "rtt_p999_us", any ? hist_quantile(rtt, 0.999) / 1e3 : NAN);
	out_dbl(o, "rtt_max_us", any ? (double)rtt->max_ns / 1e3 : NAN);
}

static void client_report(const struct config *cfg, const struct client_totals *tot,
			  const struct window *w, const struct perf_ctl *perf, const char *reason)
{
	double secs = cfg->duration_s;
	double mps = (double)tot->messages / secs;
	struct out o;
	if (!cfg->json)
		printf("%s_client (%s) results\n", strategy_name(cfg->strategy), strategy_title(cfg->strategy));
	out_begin(&o, cfg->json);
	out_client_header(&o, cfg);
	out_bool(&o, "per_field", cfg->per_field);
	out_dbl(&o, "seconds", secs);
	out_dbl(&o, "warmup_s", cfg->warmup_s);
	out_u64(&o, "bytes", tot->bytes);
	out_u64(&o, "messages", tot->messages);
	out_u64(&o, "bytes_total", tot->bytes_total);
	out_u64(&o, "messages_total", tot->messages_total);
	out_dbl(&o, "gbps", (double)tot->bytes * 8 / secs / 1e9);
	out_dbl(&o, "msgs_per_sec", mps);
	out_dbl(&o, "us_per_msg", tot->messages ? 1e6 / mps : NAN);
	if (cfg->mode == MODE_RR)
		out_rtt(&o, &tot->rtt, secs);
	out_u64(&o, "rx_mapped_bytes", tot->rx_mapped);
	out_u64(&o, "rx_copied_bytes", tot->rx_copied);
	out_bool(&o, "verify", cfg->verify);
	out_u64(&o, "verify_errors", tot->verify_errors);
	out_window(&o, w, perf);
	out_tcp(&o, &tot->tcp);
	out_str(&o, "cpus", cfg->cpus_text);
	out_str(&o, "status", reason[0] ? "failed" : "ok");
	out_str(&o, "reason", reason);
	out_end(&o);
}

int client_main(int argc, char **argv, int strategy_id)
{
	static struct config cfg;
	static struct client_totals tot;   /* static: the histogram is ~58 KiB */
	struct client cl = { .cfg = &cfg };
	struct window w = { 0 };
	struct perf_ctl perf;
	char reason[256];

	set_prog_name(argv[0], "client");
	cfg.role = ROLE_CLIENT;
	cfg.strategy = strategy_id;
	parse_cli(argc, argv, &cfg);
	signal(SIGPIPE, SIG_IGN);
	client_check_memory(&cfg);
	perf_ctl_open(&perf, cfg.perf_ctl, cfg.nperf_ctl);
	if (cfg.uring && !uring_available(reason, sizeof(reason)))
		return client_fail_early(&cfg, reason);   /* the server (on this host) could not either */

	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	char port[8];
	snprintf(port, sizeof(port), "%u", cfg.port);
	int err = getaddrinfo(cfg.host, port, &hints, &cl.addr);
	if (err) {
		snprintf(reason, sizeof(reason), "cannot resolve host '%s': %s", cfg.host, gai_strerror(err));
		return client_fail_early(&cfg, reason);
	}
	struct client_thread *th = client_start_threads(&cl);
	bool aborted = client_measure(&cl, th, &w, &perf);
	freeaddrinfo(cl.addr);
	client_sum(th, cfg.threads, &tot);
	client_reason(&tot, cfg.threads, aborted, reason, sizeof(reason));
	if (!aborted || cfg.json)    /* nothing measured and no --json: just say why */
		client_report(&cfg, &tot, &w, &perf, reason);
	if (reason[0])
		fprintf(stderr, "%s: %s\n", prog_name, reason);
	free(th);
	return reason[0] ? 1 : 0;
}
