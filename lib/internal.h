/* lib/internal.h — what the shared code's files share with each other and
 * not with the binaries: common.h is the public side, this the private one.
 * Included by common.c and every file in lib/, never by an aN_*.c or a test. */
#ifndef COPYBENCH_INTERNAL_H
#define COPYBENCH_INTERNAL_H

#include "../common.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>

/* ---- common.c ---------------------------------------------------------- */
/* A usage error: "prog: message (see --help)" on stderr, exit 2. */
_Noreturn void usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Sleep until t (CLOCK_MONOTONIC ns), through signals. */
void sleep_until_ns(uint64_t t);

/* ---- lib/msg.c --------------------------------------------------------- */
/* n bytes of v, little-endian, into p / out of p: the wire's byte order. */
void put_le(uint8_t *p, uint64_t v, int n);
uint64_t get_le(const uint8_t *p, int n);

/* ---- lib/netio.c ------------------------------------------------------- */
/* recvmsg() until iov is full: 1, 0 on EOF before any byte, -1 with errno
 * (EPIPE: EOF mid-way). */
int net_recvv_all(int fd, struct iovec *iov, int cnt);
/* The same with MSG_TRUNC (--rx discard): the bytes are dropped by the
 * kernel, not copied; iov's memory is left untouched. */
int net_discardv_all(int fd, struct iovec *iov, int cnt);
/* recv() exactly len bytes before deadline_ns: 1, 0 on EOF before any byte,
 * -1 with errno (ETIMEDOUT; EPIPE: EOF mid-way). */
int net_recv_by(int fd, void *buf, size_t len, uint64_t deadline_ns);
/* SO_RCVTIMEO or SO_SNDTIMEO (opt) of `seconds`; a failure is ignored. */
void set_timeout(int fd, int opt, double seconds);
/* TCP_NODELAY (rr: each request and answer leaves at once); a failure is ignored. */
void set_nodelay(int fd);
/* Add t's counters into `into`. */
void tcp_totals_merge(struct tcp_totals *into, const struct tcp_totals *t);

/* ---- lib/report.c ------------------------------------------------------ */
/* The output of a run: out_begin, one out_* per key, out_end — one flat JSON
 * object on stdout, or "key value" lines for people. */
struct out {
	FILE *f;
	bool json;
	int n;
};

void out_begin(struct out *o, bool json);
void out_str(struct out *o, const char *key, const char *v);
void out_u64(struct out *o, const char *key, uint64_t v);
void out_dbl(struct out *o, const char *key, double v);   /* not finite: null / NA */
void out_bool(struct out *o, const char *key, bool v);
void out_end(struct out *o);
/* The zc_* keys (a3's zero-copy counters); tcp_retrans and tcp_rtt_us. */
void out_zc(struct out *o, const struct zc_stats *z);
void out_tcp(struct out *o, const struct tcp_totals *t);

/* ---- lib/window.c ------------------------------------------------------ */
/* perf stat (or perf record) --control fifo:CTL,ACK -D -1: the counters
 * start disabled and follow our "enable"/"disable" at the window's edges.
 * Up to PERF_CTL_MAX perf processes (the driver's perf stat, and perf
 * record -a under --profile). */
#define PERF_CTL_MAX 2
struct perf_ctl {
	int n;                      /* perf processes controlled; 0: none */
	int ctl[PERF_CTL_MAX], ack[PERF_CTL_MAX];
	bool failed;                /* one did not acknowledge a command */
	uint64_t wait_ns;           /* spent waiting for acks: perf's window is longer by this */
};

/* TcpExt counters of this network namespace (/proc/net/netstat): the
 * kernel's tail-loss probes, spurious RTOs and DSACKs received tell a
 * "retransmission" that lost nothing from a real loss. */
struct netstat {
	uint64_t loss_probes, spurious_rtos, dsack_recv, dsack_recv_segs;
	bool ok;                    /* the first three were read */
	bool segs_ok;               /* TCPDSACKRecvSegs too (Linux 5.9+) */
};

struct window_edge {
	uint64_t t_ns;
	struct cpu_usage cpu;
	struct host_cpu host;
	struct netstat net;
};

struct window {
	struct window_edge a, b;
	bool opened, closed, cut;   /* cut: closed early, the run ended first */
};

/* Open the FIFOs of each --perf-ctl CTL,ACK; one that cannot be opened is fatal. */
void perf_ctl_open(struct perf_ctl *p, const char *const *specs, int n);
/* The window's edges: perf enabled, then the samples; the samples, then perf
 * disabled. */
void window_open(struct window *w, struct perf_ctl *p);
void window_close(struct window *w, struct perf_ctl *p);
/* The window's keys: its length, CPU, host, TCP-stack and perf figures (NA
 * when there was no window). */
void out_window(struct out *o, const struct window *w, const struct perf_ctl *p);

/* ---- lib/samples.c ------------------------------------------------------ */
/* cum->cpu_ns = the calling thread's CPU time. */
void sample_thread_cpu(struct sample *cum);
/* interval_s, intervals, interval_cv, interval_stall_s, interval_drift; with
 * JSON then "samples": one object per interval (zc: a3's counters too).
 * Must come last: the driver's reader of flat objects stops at a list. */
void out_samples(struct out *o, const struct samples *s, bool zc);

/* ---- lib/cli.c --------------------------------------------------------- */
enum role { ROLE_SERVER = 1, ROLE_CLIENT = 2 };

struct config {
	enum role role;
	int strategy;
	uint16_t port;
	bool json;
	int cpus[THREADS_MAX];
	int ncpus;
	char cpus_text[256];
	const char *perf_ctl[PERF_CTL_MAX];   /* --perf-ctl CTL,ACK, once per perf */
	int nperf_ctl;
	/* server */
	const char *bind_addr;
	uint64_t max_conns;        /* 0 = until signalled */
	uint64_t mem_budget;       /* bytes of message buffers over all connections; 0 = default */
	struct server_opts sopts;
	/* client */
	const char *host;
	uint64_t msg_size;
	uint64_t threads;
	uint64_t buffers;          /* --buffers */
	bool uring;                /* --engine uring */
	uint32_t pagecache;        /* --engine sendfile|splice: HELLO_F_SENDFILE or _SPLICE; 0 none */
	uint64_t uring_depth;      /* --uring-depth */
	int fixed;                 /* --fixed-buffers: 1 on, 0 off, -1 default */
	bool rx_zc;                /* --rx zerocopy */
	bool rx_discard;           /* --rx discard: recv(MSG_TRUNC), nothing copied or checked */
	double duration_s, warmup_s;
	double interval_s;         /* --interval: per-interval samples; 0 = none */
	bool verify, per_field;
	int mode;
};

/* c->role and c->strategy set: the defaults, then argv's options, into c; a
 * usage error exits 2, --help and --version exit 0. */
void parse_cli(int argc, char **argv, struct config *c);
/* Pin the calling thread to -A's CPU for thread `index` (round-robin);
 * nothing without -A; a failure is fatal. */
void pin_self(const struct config *c, uint64_t index);
/* prog_name = argv0's last path element (fallback when there is none). */
void set_prog_name(const char *argv0, const char *fallback);

/* ---- lib/client.c ------------------------------------------------------ */
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
	uint64_t seq_ring;                     /* sequence numbers repeat modulo this (0: never) */
	uint64_t rx_mapped, rx_copied;         /* --rx zerocopy: bytes mapped / copied */
	uint64_t rx_win_mapped, rx_win_copied; /* of those, inside the measured window */
	uint64_t rx_discarded;                 /* --rx discard: bytes the kernel dropped uncopied */
	struct samples smp;                    /* --interval: over the window */
	bool connected, failed;
	char err[200];
};

/* Record why this connection failed (t->err, t->failed); returns -1. */
int client_fail(struct client_thread *t, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- lib/rx_zc.c ------------------------------------------------------- */
/* --rx zerocopy: map t's socket, set up the in-place reader (t->zrx); 0, or
 * -1 with t->err set. */
int zc_rx_open(struct client_thread *t);
void zc_rx_close(struct client_thread *t);   /* no t->zrx: nothing */
/* One receive round: 1 with the messages it completed in *msgs (maybe 0),
 * 0 on EOF at a message boundary, -1 with t->err set. */
int client_rx_zc(struct client_thread *t, uint64_t *msgs);

#endif
