/* common.h — the shared module of copybench's six binaries.
 *
 * copybench measures what each CPU copy costs when Linux sends data over
 * TCP.  The server is the sender; it sends messages of 8 separately
 * heap-allocated fields with one of three strategies:
 *   a1 two-copy  serialize the fields into a staging buffer, then send()
 *                (variant per-field: one send() per field)
 *   a2 one-copy  sendmsg() with an iovec[8] pointing at the fields
 *   a3 zero-copy sendmsg(MSG_ZEROCOPY) on the same iovec, buffers recycled
 *                only when the kernel's completion for them has arrived
 * Every client receives the same way (recvmsg() scattering straight into the
 * 8 field buffers), so differences between strategies come from the sender.
 *
 * Everything but the strategy is shared: each aN_server.c is a `const
 * struct strategy` plus main(); each aN_client.c only names its strategy.
 * This header is the shared code's public side, and the one header the
 * binaries include; its files, one a concern (what they share only among
 * themselves is in lib/internal.h):
 *
 *   common.c       errors, the strategies' names, value parsers, the clock
 *   lib/cli.c      the option table (each option once), --help, value checks
 *   lib/msg.c      messages, message sets, the in-place reader, hello format
 *   lib/netio.c    bytes out and in through short writes/reads; TCP_INFO
 *   lib/conn.c     what a strategy calls on its connection: sends, conn_fail
 *   lib/zc_pool.c  which zero-copy buffers the kernel still holds (pure)
 *   lib/uring.c    io_uring engine: sends submitted, completions read
 *   lib/server.c   server_main: accept, a thread a connection, send loops
 *   lib/client.c   client_main: connect, hello, receive loops, the clock
 *   lib/rx_zc.c    receive zero-copy: the stream mapped, checked in place
 *   lib/pagecache.c a3's sends from the page cache: sendfile, vmsplice+splice
 *   lib/window.c   the measured window: perf control, CPU/host/TCP samples
 *   lib/samples.c  --interval: per-interval samples, stability, their list
 *   lib/report.c   latency histogram; output: one JSON object or key lines
 *
 * Where to look: a byte is sent by the strategy's send() (aN_server.c),
 * called from serve_stream()/serve_rr() (lib/server.c), through
 * conn_sendv() (lib/conn.c) -> net_sendv_all() (lib/netio.c) or
 * uring_tx_send() (lib/uring.c); it is received by client_recv_msg()
 * (lib/client.c) or client_rx_zc() (lib/rx_zc.c).  A MSG_ZEROCOPY
 * completion is read by zc_drain() (a3_server.c), an io_uring completion by
 * uring_tx_cqe() (lib/uring.c).  Every figure a run prints is one key of
 * server_report() (lib/server.c), client_report() (lib/client.c) or
 * out_window() (lib/window.c), written by lib/report.c's out_*().
 */
#ifndef COPYBENCH_COMMON_H
#define COPYBENCH_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/uio.h>

#define COPYBENCH_VERSION "1.0.0"

#define MSG_FIELDS        8
#define MSG_SIZE_MIN      64ULL                 /* bytes: 8 fields of >= 8 B */
#define MSG_SIZE_MAX      (64ULL << 20)         /* bytes: 64 MiB */
#define THREADS_MAX       1024
#define BUFFERS_MAX       4096                  /* --buffers */
#define DURATION_MAX_S    86400.0
#define NS_PER_S          1000000000ull
#define HELLO_TIMEOUT_S   5      /* a peer must send its hello within this */
#define IO_TIMEOUT_S      10     /* a blocked send/recv longer than this fails */
#define DRAIN_TIMEOUT_S   10     /* client: server must close within this after stop */
#define CLIENT_STALL_S    5      /* client: no byte from the server this long = failure */
#define STREAM_GRACE_S    10     /* server: sends end this long after the client's announced end */

/* ---- strategies (common.c) -------------------------------------------- */

enum strategy_id { STRAT_A1 = 1, STRAT_A2 = 2, STRAT_A3 = 3 };
enum test_mode {
	MODE_STREAM = 1,   /* the server streams messages until the client stops it */
	MODE_RR = 2,       /* request-response: RR_REQ_LEN-byte request, one message back */
};
#define RR_REQ_LEN 8       /* bytes: the request carries its little-endian number */
#define RR_BYE UINT64_MAX  /* request number that ends the exchange cleanly */
#define HELLO_F_PER_FIELD 0x1u  /* a1 only: one send() per field */
#define HELLO_F_URING     0x2u  /* a2/a3: send through io_uring (--engine uring) */
#define HELLO_F_FIXED     0x4u  /* a3 + uring: the pool is one registered buffer */
#define HELLO_F_SENDFILE  0x8u  /* a3: sendfile() from a ring in a memfd (--engine sendfile) */
#define HELLO_F_SPLICE    0x10u /* a3: vmsplice() + splice() of that ring (--engine splice) */
#define HELLO_F_PAGECACHE (HELLO_F_SENDFILE | HELLO_F_SPLICE)
#define HELLO_F_ALL       (HELLO_F_PER_FIELD | HELLO_F_URING | HELLO_F_FIXED | HELLO_F_PAGECACHE)
#define URING_DEPTH_DEFAULT 16  /* --uring-depth: requests submitted together */
#define URING_DEPTH_MAX   256

#define STRAT_BIT(id) (1u << (id))

/* The facts about each strategy, in one table (common.c). */
struct strategy_info {
	int id;              /* enum strategy_id */
	const char *name;    /* "a1" */
	const char *title;   /* "two-copy" */
};
const struct strategy_info *strategy_info(int id);   /* NULL when unknown */
const char *strategy_name(int id);   /* "a1".."a3", "?" when unknown */
const char *strategy_title(int id);  /* "two-copy", "one-copy", "zero-copy" */
const char *mode_name(int mode);

/* ---- messages (lib/msg.c) --------------------------------------------- */

/* A message of `size` bytes is split over 8 fields: every field gets
 * size/8 bytes and the first size%8 fields one byte more.  Field 0 starts
 * with the 8-byte little-endian sequence number; all other bytes follow a
 * fixed pattern that depends on (field, offset) only. */
struct msg {
	uint8_t *field[MSG_FIELDS];
	size_t len[MSG_FIELDS];
	size_t size;                 /* sum of len[] */
};

size_t msg_field_len(size_t size, int field);
int msg_alloc(struct msg *m, size_t size);    /* each field malloc'd + patterned; -1 ENOMEM */
void msg_free(struct msg *m);
uint8_t msg_pattern_byte(int field, size_t offset);
void msg_fill(struct msg *m);                 /* write the pattern into every field */
void msg_stamp(struct msg *m, uint64_t seq);  /* seq into field 0, bytes 0..7 */
uint64_t msg_seq(const struct msg *m);
/* 0 when m carries `seq` (and, if check_bytes, every pattern byte is right);
 * otherwise -1 and a short description in why. */
int msg_verify(const struct msg *m, uint64_t seq, bool check_bytes, char *why, size_t whylen);
void msg_iov(const struct msg *m, struct iovec iov[MSG_FIELDS]);

/* The receive side's check of a byte stream of messages, for a receiver
 * that reads in place (receive zero-copy): the same checks as msg_verify
 * — the sequence stamp of every message, every pattern byte with
 * check_bytes — on chunks cut anywhere.  Pure. */
struct msg_reader {
	uint64_t size;               /* message size */
	uint64_t field_start[MSG_FIELDS + 1];
	bool check_bytes;
	uint64_t pos;                /* offset inside the current message */
	uint64_t seq;                /* sequence the current message must carry */
	uint64_t ring;               /* sequences repeat modulo this (a page-cache ring); 0: never */
	uint8_t stamp[8];
	bool bad;                    /* the current message failed a check already */
	uint64_t messages;           /* whole messages read */
	uint64_t errors;             /* messages that failed a check */
	char why[160];               /* the first error */
};
void msg_reader_init(struct msg_reader *r, uint64_t size, bool check_bytes);
/* Take n bytes; returns the number of messages they completed. */
uint64_t msg_reader_feed(struct msg_reader *r, const uint8_t *p, size_t n);
/* n messages of one size, each its own 8 allocations (--buffers). */
struct msg_set {
	struct msg *m;
	uint32_t n;
	void *region;            /* msg_set_alloc_region: the one mapping holding every field */
	size_t region_len;
};
int msg_set_alloc(struct msg_set *set, uint32_t n, size_t size);   /* 0, or -1 ENOMEM */
/* The same, every field carved (64-byte aligned) from one page-aligned
 * mapping — what io_uring registers as one fixed buffer. */
int msg_set_alloc_region(struct msg_set *set, uint32_t n, size_t size);
void msg_set_free(struct msg_set *set);
/* Heap bytes one message of `size` really takes: its 8 allocations with
 * malloc's per-chunk overhead (what a 64-byte message costs is mostly that). */
uint64_t msg_mem_bytes(uint64_t size);

/* ---- short reads and writes, handled in one place (lib/netio.c) ------- */

/* Drop `n` consumed bytes from the front of an iovec array; returns the new
 * start and updates *cnt.  Pure: used by the send and receive loops. */
struct iovec *iov_advance(struct iovec *iov, int *cnt, size_t n);

/* Called on a send error other than EINTR; return 0 to retry, -1 to fail. */
typedef int (*send_retry_fn)(void *ctx, int err);

/* sendmsg() until all bytes of iov[0..cnt) are sent.  *calls (if non-NULL)
 * is increased by the number of successful sendmsg() calls (the zero-copy
 * notification counter counts these).  A deadline_ns (CLOCK_MONOTONIC, 0 =
 * none) ends a send that keeps making only partial progress: ETIMEDOUT.
 * Returns 0, or -1 with errno set. */
int net_sendv_all(int fd, struct iovec *iov, int cnt, int flags,
		  unsigned *calls, send_retry_fn retry, void *ctx, uint64_t deadline_ns);
int net_send_all(int fd, const void *buf, size_t len);
/* recv() until buf is full.  Returns 1 when full, 0 on EOF before any
 * byte, -1 with errno on error (EPIPE for EOF mid-buffer). */
int net_recv_all(int fd, void *buf, size_t len);

/* ---- the hello protocol (lib/msg.c: its wire format) ------------------ */

#define HELLO_MAGIC   0x42595043u  /* "CPYB" little endian */
#define HELLO_VERSION 1
#define HELLO_LEN     32
#define REPLY_LEN     64
#define REPLY_REASON_MAX (REPLY_LEN - 8)
enum { REPLY_ACCEPT = 0, REPLY_REJECT = 1 };
#define START_BYTE 'G'   /* client -> server after the barrier: start sending */

struct hello {
	uint32_t magic;
	uint16_t version;
	uint8_t strategy;      /* enum strategy_id */
	uint8_t mode;          /* enum test_mode */
	uint32_t flags;        /* HELLO_F_* */
	uint64_t msg_size;     /* bytes */
	uint32_t duration_ms;  /* client's warm-up + measured time; 0 = not given */
	uint32_t warmup_ms;    /* of that, the unmeasured warm-up */
	uint16_t buffers;      /* message buffers the sender rotates over; 0 = 1 */
	uint16_t uring_depth;  /* HELLO_F_URING: requests per linked chain; 0 = default */
};

void hello_encode(const struct hello *h, uint8_t out[HELLO_LEN]);
/* Decode and validate; on error returns -1 with a one-line reason. */
int hello_decode(const uint8_t *buf, size_t len, struct hello *h, char *why, size_t whylen);
void reply_encode(int status, const char *reason, uint8_t out[REPLY_LEN]);
int reply_decode(const uint8_t *buf, size_t len, int *status, char *reason, size_t reasonlen);

/* ---- parsing, exit-free; -1 is the caller's usage error (common.c) ---- */

int parse_size(const char *s, uint64_t *out);           /* 64, 4K, 1M, 2G (1024-based) */
int parse_seconds(const char *s, double *out);          /* 2, 0.5 (>= 0) */
int parse_uint_range(const char *s, uint64_t lo, uint64_t hi, uint64_t *out);
/* "0,2-3" -> cpus[], returns count or -1 */
int parse_cpu_list(const char *s, int *cpus, int max);
/* The small tools' (tools/, bench/) usage error: one line "PROG: WHAT 'ARG' (see
 * --help)" on stderr, exit 2. */
_Noreturn void tool_usage_error(const char *prog, const char *what, const char *arg);
/* A tool's required --cpus LIST (arg NULL: not given): the CPUs into cpus[], at most
 * max, each once; returns their count; a usage error (tool_usage_error) otherwise. */
int tool_cpu_list(const char *prog, const char *arg, int *cpus, int max);

/* ---- time (common.c), CPU and host (lib/window.c), TCP (lib/netio.c) - */

uint64_t now_ns(void);             /* CLOCK_MONOTONIC */
uint64_t deadline_in_s(double s);  /* now_ns() + s seconds */
struct cpu_usage {
	double user_s, sys_s;          /* this process, getrusage(RUSAGE_SELF) */
	long ctx_vol, ctx_invol;
};
void cpu_usage_now(struct cpu_usage *u);
struct host_cpu {
	double user_s, nice_s, sys_s, irq_s, softirq_s, steal_s;  /* all CPUs, /proc/stat */
	bool ok;
};
void host_cpu_now(struct host_cpu *h);

struct tcp_totals {
	uint64_t retrans;       /* retransmitted segments, summed over connections */
	double rtt_us_sum;      /* smoothed RTT, summed (divide by n) */
	uint64_t n;
};
void tcp_totals_add(struct tcp_totals *t, int fd);

/* ---- latency histogram: fixed memory, mergeable, pure (lib/report.c) - */

/* Log-linear buckets over nanoseconds: exact below 256 ns, then 128 buckets
 * per power of two, so a reported value (the bucket's midpoint, clamped to
 * [min, max]) is within 0.4% of the true sample.  About 58 KiB. */
#define HIST_SUB_BITS 7
#define HIST_BUCKETS  (256 + (64 - 8) * 128)
struct hist {
	uint64_t count, sum_ns, min_ns, max_ns;
	uint64_t bucket[HIST_BUCKETS];
};
void hist_init(struct hist *h);
void hist_record(struct hist *h, uint64_t ns);
void hist_merge(struct hist *into, const struct hist *h);
/* The value at quantile q (0..1], in ns; 0 when empty. */
double hist_quantile(const struct hist *h, double q);

/* ---- per-interval samples, --interval (lib/samples.c) ------------------ */

/* The measured window [start, end) cut at boundaries start + k * interval
 * (k = 0 .. n-1, the last one end).  Each thread keeps its own samples: at
 * the first check at or after a boundary it stores its cumulative counters
 * (samples_take), so interval k is sample k+1 minus sample k, exact to the
 * thread's check granularity; a thread that ends early repeats its last
 * counters (samples_finish).  Merged after join.  Pure but for allocation. */
#define SAMPLES_MAX     100000   /* boundaries a window may have */
#define STALL_SHARE     0.1      /* an interval below this share of the median rate stalled */
struct sample {
	uint64_t t_ns;            /* when taken (CLOCK_MONOTONIC) */
	uint64_t bytes, messages; /* cumulative, sent or received */
	uint64_t cpu_ns;          /* the thread's CPU time (CLOCK_THREAD_CPUTIME_ID) */
	uint64_t retrans;         /* TCP_INFO total_retrans of its socket */
	uint64_t zc_completions, zc_copied;   /* a3's sender */
};
struct samples {
	uint64_t start_ns, end_ns, interval_ns;
	uint32_t n, taken;        /* boundaries; boundaries filled so far */
	struct sample *s;         /* n of them; NULL when off */
};
/* interval_ns 0 (or an empty window): off, nothing allocated.  -1 when
 * the window has more than SAMPLES_MAX boundaries or memory runs out. */
int samples_init(struct samples *s, uint64_t start_ns, uint64_t end_ns, uint64_t interval_ns);
void samples_free(struct samples *s);
uint64_t samples_boundary(const struct samples *s, uint32_t k);
/* Is a boundary due at now?  The hot paths' only cost: one comparison. */
static inline bool samples_due(const struct samples *s, uint64_t now_ns)
{
	return s->taken < s->n && now_ns >= samples_boundary(s, s->taken);
}
void samples_take(struct samples *s, const struct sample *cum);    /* every due boundary */
void samples_finish(struct samples *s, const struct sample *cum);  /* every boundary left */
/* Add from's counters per boundary into into (set up from from when empty);
 * -1 when their boundaries differ. */
int samples_merge(struct samples *into, const struct samples *from);
/* Over the full intervals' rates (bytes / nominal length; a last interval
 * shorter than half is left out): cv = their coefficient of variation;
 * stall_s = the longest run of intervals at or below STALL_SHARE of their
 * median, in seconds; drift = the last third's mean over the first
 * third's.  NaN where undefined (too few intervals, samples incomplete). */
struct stability {
	uint32_t intervals;
	double cv, stall_s, drift;
};
void samples_stability(const struct samples *s, struct stability *st);

/* ---- the server (lib/server.c) ---------------------------------------- */

struct zc_stats {
	uint64_t sends;          /* successful MSG_ZEROCOPY sendmsg() calls */
	uint64_t completions;    /* send calls the kernel reported complete */
	uint64_t copied;         /* of those, marked SO_EE_CODE_ZEROCOPY_COPIED */
	uint64_t notifications;  /* error-queue messages read */
	uint64_t enobufs;        /* ENOBUFS retries */
	uint64_t pool_depth;     /* message buffers in the pool */
	uint64_t pool_waits;     /* sends that blocked: no buffer free, no completion queued */
	uint64_t in_flight_max;  /* most buffers the kernel held at once (the working set) */
	uint64_t missing;        /* completions still outstanding at close */
};

/* ---- zero-copy buffer pool: pure bookkeeping (lib/zc_pool.c) ---------- */

/* Which message buffers the kernel still holds.  A buffer is free only when
 * the completion of every send call that carried it has arrived; free
 * buffers are reused most-recently-completed first (a LIFO), so the working
 * set is what is really in flight, not the whole pool.  Send calls are
 * counted per socket (the kernel's u32 counter, extended to 64 bits here);
 * each call is registered the moment it succeeds, so a completion that
 * arrives while a message is still being sent (an ENOBUFS retry drains the
 * error queue mid-message) is matched. */
struct zc_record {               /* the calls that carried one buffer */
	uint32_t slot;
	bool open;                   /* its message is still being sent */
	uint64_t first_id;           /* counter of its first call */
	unsigned calls, done;        /* calls made so far / completed */
};
struct zc_pool {
	uint32_t depth;              /* buffers */
	uint32_t *free;              /* stack of free buffer indices; top = free[nfree - 1] */
	uint32_t nfree;
	struct zc_record *rec;       /* ring of records in send order, oldest at head */
	uint32_t cap, head, count;
	uint64_t next_id;            /* counter of the next call */
	uint32_t in_flight, in_flight_max;   /* buffers the kernel holds (now, high-water) */
};
int zc_pool_init(struct zc_pool *p, uint32_t depth);   /* 0, or -1 ENOMEM */
void zc_pool_free(struct zc_pool *p);
/* A free buffer for the next message (the most recently completed), or -1
 * when every buffer is still the kernel's. */
int zc_pool_take(struct zc_pool *p);
/* Start sending buffer `slot`: returns the counter sendmsg() calls are
 * added to as they succeed (pass it to net_sendv_all's `calls`). */
unsigned *zc_pool_begin(struct zc_pool *p, int slot);
/* The message is sent (or failed): a buffer no call carried is free again. */
void zc_pool_end(struct zc_pool *p);
/* The kernel completed the n calls from lo32 (its u32 counter).  Returns
 * 0, or -1 when the range covers calls never made or completed twice. */
int zc_pool_complete(struct zc_pool *p, uint32_t lo32, uint64_t n);
/* Calls made but not yet completed. */
uint64_t zc_pool_outstanding(const struct zc_pool *p);
/* Default depth: what the send buffer can hold in flight, with headroom.
 * Each iovec piece of a zero-copy send is charged at least a whole page
 * of send buffer, so a message of `size` bytes in 8 fields costs
 * sum(max(1, pages(field))) pages; `sndbuf_max` is tcp_wmem's maximum. */
uint32_t zc_pool_default_depth(uint64_t size, uint64_t sndbuf_max);

/* ---- connections (lib/conn.c), the strategy's contract (lib/server.c) - */

struct server_opts {
	uint64_t zc_pool_bytes;  /* a3: pool size; 0 = default */
};

/* One accepted connection, owned by its thread. */
struct conn {
	int fd;
	struct hello hello;
	const struct server_opts *opts;
	struct zc_stats zc;      /* filled by a3 */
	void *priv;              /* strategy's per-connection state */
	bool aborted;            /* set before close(): the stream failed, the peer is gone or stuck */
	uint64_t deadline_ns;    /* sends past this fail: the client announced when it stops */
	char err[160];           /* why the connection failed */
};

/* A sending strategy.  The server calls, per connection and from that
 * connection's thread only:
 *   mem_bytes(c)     bytes open() will allocate for this hello (the server
 *                    refuses a connection that would exceed its memory budget)
 *   open(c)          allocate per-connection state into c->priv; 0 or -1 (c->err set)
 *   send(c, seq)     send one complete message stamped with seq; 0, or -1
 *                    with errno set (EPIPE/ECONNRESET: the peer left)
 *   close(c)         wait for anything the kernel still holds (a3:
 *                    outstanding completions, with a deadline), free state;
 *                    0, or -1 with c->err set
 * and once, before listen():
 *   listen_setup(fd) (optional) prepare the listening socket; on failure it
 *                    prints its own one-line reason and returns -1, and the
 *                    server exits with status 1. */
struct strategy {
	int id;                              /* enum strategy_id */
	bool has_zc_stats;                   /* report the zc_* keys */
	int (*listen_setup)(int fd);
	uint64_t (*mem_bytes)(const struct conn *c);
	int (*open)(struct conn *c);
	int (*send)(struct conn *c, uint64_t seq);
	int (*close)(struct conn *c);
};

/* Message buffers the client asked the sender to rotate over (>= 1). */
uint32_t conn_buffers(const struct conn *c);
/* Record why the connection failed (c->err) unless a reason is recorded
 * already (the first is the cause); returns -1 for `return conn_fail(...)`. */
int conn_fail(struct conn *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add one connection's zero-copy counters into a total (pool_depth: the largest). */
void zc_stats_add(struct zc_stats *into, const struct zc_stats *z);

/* ---- the io_uring engine, --engine uring (lib/uring.c) -------------------
 * A strategy queues each message's iovec with uring_tx_send(); requests go
 * to the kernel as IOSQE_IO_LINK chains of up to `depth`, one chain at a
 * time (a chain runs in order; two chains in flight could not), each with
 * MSG_WAITALL so a request sends its whole message or fails.  With zc, each
 * request is IORING_OP_SENDMSG_ZC and its buffer is the kernel's until the
 * notification CQE (F_NOTIF) arrives, reported to notif(ctx, id); the
 * notification's IORING_NOTIF_USAGE_ZC_COPIED is counted in c->zc.copied. */
typedef int (*uring_notif_fn)(void *ctx, uint64_t id);
struct uring_tx;
/* Ring for one connection; fixed: the region to register (NULL: none),
 * laid out in messages of fixed_unit bytes each (registered in pieces of
 * uring_fixed_piece_len).  NULL with c->err set on failure. */
struct uring_tx *uring_tx_open(struct conn *c, unsigned depth, bool zc, const struct iovec *fixed,
			       size_t fixed_unit, uring_notif_fn notif, void *notif_ctx);
/* The kernel registers no buffer over 1 GiB (EFAULT): a region is
 * registered in pieces of the largest multiple of `unit` (one message's
 * bytes) up to that, the last piece shorter.  0 when a unit alone is over
 * 1 GiB.  Pure. */
#define URING_FIXED_PIECE_MAX (1ull << 30)
size_t uring_fixed_piece_len(size_t region_len, size_t unit);
/* Queue one message (iov copied; its bytes must stay until its result, or
 * zc: its notification); the chain is submitted and waited for when full.
 * *calls (if non-NULL) is increased once the request is queued, before any
 * of its CQEs can be read: a send that failed before that queued none. */
int uring_tx_send(struct uring_tx *u, struct conn *c, const struct iovec *iov, int cnt, uint64_t id,
		  unsigned *calls);
int uring_tx_flush(struct uring_tx *u, struct conn *c);   /* submit and finish the open chain */
/* zc: read the CQEs there are; wait up to timeout_ms for one while a
 * notification or a submitted request's result is still to come (sleep
 * timeout_ms when nothing is).  0, or -1 with c->err set. */
int uring_tx_wait_notif(struct uring_tx *u, struct conn *c, int timeout_ms);
/* Read every submitted request's result (an open chain is dropped unsent;
 * one still waiting is failed by shutting the socket down), then free the
 * ring.  -1 (c->err set): a request may still run, the ring is leaked, and
 * the caller must leak the buffers it sends from too.  NULL: 0. */
int uring_tx_close(struct uring_tx *u, struct conn *c);
/* Can this process make a ring?  false with the reason (and the fix) in why. */
bool uring_available(char *why, size_t whylen);
/* Does this kernel take IORING_OP_SENDMSG_ZC with these send flags
 * (sqe->ioprio: IORING_RECVSEND_*, IORING_SEND_ZC_*)?  Asked of it by a
 * trial send on an unconnected socket (a flag it does not know fails at
 * prep), never guessed from the version.  The server asks the same of each
 * connection's ring and refuses the connection, saying what is missing. */
bool uring_zc_supported(unsigned ioprio);
/* SENDMSG_ZC with registered buffers and the copy report (Linux 6.15+):
 * --fixed-buffers' default on the client. */
bool uring_fixed_zc_supported(void);

/* ---- receive zero-copy's kernel interface (lib/rx_zc.c) ---------------
 * struct tcp_zerocopy_receive as of Linux 5.12 (<netinet/tcp.h> has only its
 * first 16 bytes).  The kernel reads and writes back only as much of it as
 * it knows, and says how much in the optlen it returns: 16 bytes on 4.18,
 * then inq and err (24 bytes until 5.10), the copy buffer and flags (40 on
 * 5.11), 64 since 5.12.  Fields past that length are absent: never read
 * them. */
struct zc_rx_arg {
	uint64_t address;        /* in: the mapping */
	uint32_t length;         /* in: bytes to map; out: mapped */
	uint32_t recv_skip_hint; /* out: bytes to read with recv() instead */
	uint32_t inq;            /* out: bytes in the receive queue */
	int32_t err;             /* out: the socket's error */
	uint64_t copybuf_address;/* in: the copy buffer (5.11+) */
	int32_t copybuf_len;     /* in: room; out: bytes copied there (5.11+) */
	uint32_t flags;          /* in (5.11+) */
	uint64_t msg_control, msg_controllen;   /* 5.12+ */
	uint32_t msg_flags, reserved;
};
/* After TCP_ZEROCOPY_RECEIVE returned `len` (its optlen): the out fields
 * the kernel did not write are set to "nothing" (0), so a field we passed
 * in (copybuf_len's room) is never taken for the kernel's answer.  Pure. */
void zc_rx_answer(struct zc_rx_arg *zc, size_t len);

/* ---- sending from the page cache, a3 --engine sendfile|splice (lib/pagecache.c)
 * A ring of N messages written once into a memfd and sent cyclically:
 * message seq goes out from slot seq mod N, stamped seq mod N, because the
 * kernel gives no completion for these pages and a page that may be in
 * flight is never rewritten.  The receiver checks sequence numbers modulo
 * the same N. */
#define PC_RING_BYTES (4ull << 20)   /* the ring holds at least this much */
#define PC_RING_MAX   65536          /* messages */
/* N for a message size and the client's --buffers: max(--buffers,
 * ceil(PC_RING_BYTES / size), 2), at most PC_RING_MAX.  Pure. */
uint32_t pc_ring_len(uint64_t size, uint32_t buffers);
uint64_t pc_mem_bytes(uint64_t size, uint32_t n);   /* the ring's bytes, whole pages */
/* "syscall", "uring", "sendfile" or "splice" for a hello's flags. */
const char *engine_name(uint32_t hello_flags);
struct pc_tx;
/* The ring of n messages for c (splice: and its pipe), written before the
 * clock starts; NULL with c->err set on failure. */
struct pc_tx *pc_tx_open(struct conn *c, uint32_t n, bool splice);
/* Send message seq (slot seq mod n) whole; 0, or -1 with errno set. */
int pc_tx_send(struct pc_tx *p, struct conn *c, uint64_t seq);
void pc_tx_close(struct pc_tx *p);   /* NULL: nothing */

/* ---- a strategy's sends (lib/conn.c); server_main, client_main ------- */

/* A strategy's sends: the shared short-write loops, bounded by c->deadline_ns. */
int conn_sendv(struct conn *c, struct iovec *iov, int cnt, int flags,
	       unsigned *calls, send_retry_fn retry, void *ctx);
int conn_send(struct conn *c, const void *buf, size_t len);

int server_main(int argc, char **argv, const struct strategy *s);
int client_main(int argc, char **argv, int strategy_id);

/* ---- errors (common.c) ------------------------------------------------ */

extern const char *prog_name;
_Noreturn void die(int status, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* One line "prog: message" on stderr; the program goes on. */
void warning(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
