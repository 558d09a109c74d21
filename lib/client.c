/* lib/client.c — client_main: one thread per connection (connect, hello,
 * then receive a stream or time request-response round trips), the
 * measured window on the clock every thread shares, and the client's report.
 * Receive zero-copy (--rx zerocopy) is in lib/rx_zc.c. */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <inttypes.h>
#include <math.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

/* ======================================================================
 * the client
 * ====================================================================== */

/* Record why this connection failed; returns -1. */
int client_fail(struct client_thread *t, const char *fmt, ...)
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
				    (cfg->fixed ? HELLO_F_FIXED : 0) | cfg->pagecache,
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

/* Receive one whole message into m's fields and check it.  Returns 1, 0 on
 * EOF at a message boundary, -1 on error (t->err set). */
static int client_recv_msg(struct client_thread *t, struct msg *m, uint64_t *seq)
{
	struct iovec iov[MSG_FIELDS];
	char why[160];
	msg_iov(m, iov);
	bool discard = t->cl->cfg->rx_discard;
	int r = (discard ? net_discardv_all : net_recvv_all)(t->fd, iov, MSG_FIELDS);
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
	if (discard) {   /* nothing to check: the bytes never reached m */
		t->bytes_total += m->size;
		t->rx_discarded += m->size;
		t->messages_total++;
		return 1;
	}
	if (msg_verify(m, *seq, t->cl->cfg->verify, why, sizeof(why)) < 0) {
		if (t->verify_errors++ < 3)
			warning("connection %" PRIu64 ": %s", t->index, why);
		*seq = msg_seq(m);   /* resynchronise so one loss counts once */
	}
	if (++*seq == t->seq_ring)   /* a page-cache ring: modulo its length */
		*seq = 0;
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

/* --interval: this thread's cumulative counters at every boundary due at
 * now (or, ending, at every boundary left). */
static void client_sample(struct client_thread *t, uint64_t now, bool ending)
{
	struct sample cum = { .t_ns = now, .bytes = t->bytes_total, .messages = t->messages_total };
	struct tcp_totals tcp = { 0 };
	sample_thread_cpu(&cum);
	tcp_totals_add(&tcp, t->fd);
	cum.retrans = tcp.retrans;
	if (ending)
		samples_finish(&t->smp, &cum);
	else
		samples_take(&t->smp, &cum);
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
		if (samples_due(&t->smp, now))
			client_sample(t, now, false);
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
	uint64_t seq = 0, n = 0;   /* the stamp expected (modulo a ring), the request's number */

	set_nodelay(t->fd);
	for (;;) {
		uint64_t t0 = now_ns();
		if (t0 >= cl->end_ns || atomic_load_explicit(&cl->abort, memory_order_relaxed))
			break;
		put_le(req, n++, 8);
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
		if (samples_due(&t->smp, t1))
			client_sample(t, t1, false);
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
		if (t->smp.n)   /* a boundary never reached: the counters stopped here */
			client_sample(t, now_ns(), true);
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
	out_u64(o, "pid", (uint64_t)getpid());
	out_str(o, "strategy", strategy_name(cfg->strategy));
	out_str(o, "variant", cfg->per_field ? "per-field" : "default");
	out_str(o, "mode", mode_name(cfg->mode));
	out_str(o, "host", cfg->host);
	out_u64(o, "port", cfg->port);
	out_u64(o, "msg_size", cfg->msg_size);
	out_u64(o, "threads", cfg->threads);
	out_u64(o, "buffers", cfg->buffers);
	out_str(o, "engine", engine_name((cfg->uring ? HELLO_F_URING : 0) | cfg->pagecache));
	out_u64(o, "uring_depth", cfg->uring ? cfg->uring_depth : 0);
	out_bool(o, "fixed_buffers", cfg->fixed);
	out_str(o, "rx", cfg->rx_zc ? "zerocopy" : cfg->rx_discard ? "discard" : "copy");
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
		if (cl->cfg->pagecache)
			th[i].seq_ring = pc_ring_len(cl->cfg->msg_size, (uint32_t)cl->cfg->buffers);
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
	for (uint64_t i = 0; i < cfg->threads; i++)   /* before the barrier: theirs after it */
		if (samples_init(&th[i].smp, cl->warm_ns, cl->end_ns,
				 (uint64_t)(cfg->interval_s * 1e9)) < 0)
			die(1, ENOMEM, "per-interval samples");
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
	uint64_t rx_mapped, rx_copied, rx_win_mapped, rx_win_copied, rx_discarded;
	struct tcp_totals tcp;
	struct hist rtt;
	struct samples smp;
	const char *first_err;
};

static void client_sum(struct client_thread *th, uint64_t n, struct client_totals *tot)
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
		tot->rx_win_mapped += th[i].rx_win_mapped;
		tot->rx_win_copied += th[i].rx_win_copied;
		tot->rx_discarded += th[i].rx_discarded;
		tcp_totals_merge(&tot->tcp, &th[i].tcp);
		hist_merge(&tot->rtt, &th[i].rtt);
		if (samples_merge(&tot->smp, &th[i].smp) < 0)
			die(1, ENOMEM, "per-interval samples");
		samples_free(&th[i].smp);
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
	out_u64(&o, "rx_win_mapped_bytes", tot->rx_win_mapped);
	out_u64(&o, "rx_win_copied_bytes", tot->rx_win_copied);
	out_u64(&o, "rx_discarded_bytes", tot->rx_discarded);
	out_bool(&o, "verify", cfg->verify);
	out_u64(&o, "verify_errors", tot->verify_errors);
	out_window(&o, w, perf);
	out_tcp(&o, &tot->tcp);
	out_str(&o, "cpus", cfg->cpus_text);
	out_str(&o, "status", reason[0] ? "failed" : "ok");
	out_str(&o, "reason", reason);
	if (cfg->interval_s > 0)
		out_samples(&o, &tot->smp, false);
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
