/* lib/server.c — server_main: listen, accept, one thread per connection
 * (the hello, the memory budget, then the strategy's send() in a stream or
 * request-response loop), the window thread, and the server's report. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

/* ======================================================================
 * the server
 * ====================================================================== */

/* set by SIGINT/SIGTERM, read by every connection's thread: an atomic (lock-free, so safe in a handler) */
static atomic_int stop_signal;
_Static_assert(ATOMIC_INT_LOCK_FREE == 2, "stop_signal is set in a signal handler");

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
	uint64_t msg_size, per_field_conns, rr_conns, fixed_conns;
	const char *engine;      /* the served connections' engine, "mixed"; NULL: none served */
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
	struct samples smp;            /* --interval: every connection's, merged */
};

struct conn_thread {
	struct server *srv;
	int fd;
	uint64_t index;
	uint64_t accepted_ns;   /* the hello must be complete HELLO_TIMEOUT_S after this */
};

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
	struct samples smp;                  /* --interval, from the window's anchoring */
	bool smp_set;                        /* smp set up (or tried: once) */
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
		atomic_store_explicit(&srv->win_end_ns, start + (uint64_t)(h->duration_ms - h->warmup_ms) * 1000000ull,
				      memory_order_release);
		atomic_store_explicit(&srv->win_start_ns, start, memory_order_release);   /* last: publishes the end */
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

/* --interval: this connection's cumulative counters at every boundary due
 * at now (ending: at every boundary left).  Its own thread's counters. */
static void conn_sample(struct conn *c, struct conn_result *res, uint64_t now, bool ending)
{
	struct sample cum = { .t_ns = now, .bytes = res->bytes, .messages = res->messages,
			      .retrans = tcp_total_retrans(c->fd),
			      .zc_completions = c->zc.completions, .zc_copied = c->zc.copied };
	sample_thread_cpu(&cum);
	if (ending)
		samples_finish(&res->smp, &cum);
	else
		samples_take(&res->smp, &cum);
}

/* Called by the connection's thread every few messages: the bytes sent
 * since the last call count in the window when now is inside it; TCP_INFO
 * is taken when the window opens and when it closes (or at the end). */
static void conn_tick(struct server *srv, struct conn *c, struct conn_result *res, bool ending)
{
	/* acquire pairs with the anchor's release: a start seen means its end is seen */
	uint64_t now = now_ns(), ws = atomic_load_explicit(&srv->win_start_ns, memory_order_acquire);
	uint64_t we = atomic_load_explicit(&srv->win_end_ns, memory_order_acquire);
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
	if (ws && !res->smp_set && srv->cfg->interval_s > 0) {
		res->smp_set = true;
		if (samples_init(&res->smp, ws, we, (uint64_t)(srv->cfg->interval_s * 1e9)) < 0)
			warning("per-interval samples: a window of more than %d intervals, or no memory",
				SAMPLES_MAX - 1);
	}
	if (ending && res->smp.s)
		conn_sample(c, res, now, true);
	else if (samples_due(&res->smp, now))
		conn_sample(c, res, now, false);
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
			snprintf(c->err, sizeof(c->err), "%.90s; %.60s", stream_err, close_err);
		}
		failed = true;
	} else if (stream_err[0]) {
		snprintf(c->err, sizeof(c->err), "%s", stream_err);
	}
	return failed;
}

/* Add a finished connection into the server's totals. */
static void conn_account(struct server *srv, const struct conn *c, struct conn_result *res)
{
	pthread_mutex_lock(&srv->lock);
	if (res->served && samples_merge(&srv->smp, &res->smp) < 0)
		warning("per-interval samples of a connection left out: no memory");
	samples_free(&res->smp);
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
		const char *engine = engine_name(c->hello.flags);
		srv->engine = !srv->engine || !strcmp(srv->engine, engine) ? engine : "mixed";
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
	out_u64(&o, "pid", (uint64_t)getpid());
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
	out_str(&o, "engine", srv->engine ? srv->engine : "syscall");
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
	if (cfg->interval_s > 0)
		out_samples(&o, &srv->smp, srv->strat->has_zc_stats);
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
