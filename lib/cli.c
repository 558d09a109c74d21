/* lib/cli.c — the command line of the six binaries: the option table
 * (cli_opts[], every option declared once), --help made from it, the value
 * checks, and thread pinning (-A). */
#define _GNU_SOURCE
#include "internal.h"

#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ======================================================================
 * the command line — every option declared once, in cli_opts[]
 * ====================================================================== */

#define CLI_STR_(x) #x
#define CLI_STR(x)  CLI_STR_(x)

/* Long-only options get codes above any short letter. */
enum {
	OPT_VERSION = 1000, OPT_JSON, OPT_WARMUP, OPT_VERIFY, OPT_MODE, OPT_PER_FIELD, OPT_ZC_POOL,
	OPT_MEM_BUDGET, OPT_BUFFERS, OPT_PERF_CTL, OPT_ENGINE, OPT_URING_DEPTH, OPT_FIXED_BUFFERS, OPT_RX,
	OPT_INTERVAL,
};

#define FOR_SERVER  ROLE_SERVER
#define FOR_CLIENT  ROLE_CLIENT
#define FOR_BOTH    (ROLE_SERVER | ROLE_CLIENT)
#define ALL_STRATS  0u

/* One option: the getopt tables, --help and the "does not apply" check
 * are all made from this; cli_set() only converts its value. */
struct cli_opt {
	int id;             /* the short letter, or an OPT_* code */
	const char *name;   /* long name, without "--" */
	const char *arg;    /* value name in --help; NULL: a flag */
	unsigned roles;     /* FOR_SERVER / FOR_CLIENT */
	unsigned strats;    /* STRAT_BIT()s it applies to; ALL_STRATS = every one */
	const char *def;    /* default, applied through cli_set() before the
			     * command line and shown as "(default DEF)"; NULL = none */
	const char *help;   /* "\n" continues the text on the next line */
};

static const struct cli_opt cli_opts[] = {
	{ 'H', "host", "HOST", FOR_CLIENT, ALL_STRATS, "127.0.0.1", "server address" },
	{ 'p', "port", "PORT", FOR_BOTH, ALL_STRATS, "9090", "TCP port, 1-65535" },
	{ 'B', "bind", "ADDR", FOR_SERVER, ALL_STRATS, "0.0.0.0", "address to listen on" },
	{ 'n', "connections", "N", FOR_SERVER, ALL_STRATS, NULL,
	  "exit after N served connections, 1-1000000\n(default: run until SIGINT/SIGTERM)" },
	{ 's', "size", "BYTES", FOR_CLIENT, ALL_STRATS, "64K",
	  "message size, 64..64M, K/M/G = 1024-based" },
	{ 't', "threads", "N", FOR_CLIENT, ALL_STRATS, "1",
	  "connections, one thread each, 1-" CLI_STR(THREADS_MAX) },
	{ 'd', "duration", "SECONDS", FOR_CLIENT, ALL_STRATS, "10",
	  "measured time, > 0, fractions allowed" },
	{ OPT_WARMUP, "warmup", "SECONDS", FOR_CLIENT, ALL_STRATS, "0", "unmeasured time before it" },
	{ OPT_BUFFERS, "buffers", "N", FOR_CLIENT, ALL_STRATS, "1",
	  "message buffers the server rotates over, 1-" CLI_STR(BUFFERS_MAX) ", to compare\n"
	  "strategies at one working set (a3: the pool's minimum)" },
	{ OPT_VERIFY, "verify", NULL, FOR_CLIENT, ALL_STRATS, NULL,
	  "check every byte, not only sequence numbers" },
	{ OPT_MODE, "mode", "stream|rr", FOR_CLIENT, ALL_STRATS, "stream",
	  "stream: the server sends messages back to back and\n"
	  "throughput is measured (default); rr: each thread\n"
	  "sends an " CLI_STR(RR_REQ_LEN) "-byte request and waits for one message,\n"
	  "and every round trip is timed (latency percentiles)" },
	{ 'A', "cpus", "LIST", FOR_BOTH, ALL_STRATS, NULL,
	  "pin this program's threads (one per connection)\nround-robin to CPUs, e.g. 0,2-3" },
	{ OPT_MEM_BUDGET, "mem-budget", "BYTES", FOR_SERVER, ALL_STRATS, NULL,
	  "message buffers of all connections together; a\n"
	  "connection beyond it is refused (default: half the RAM)" },
	{ OPT_ZC_POOL, "zc-pool", "BYTES", FOR_SERVER, STRAT_BIT(STRAT_A3), NULL,
	  "zero-copy buffer pool per connection, K/M/G suffixes\n"
	  "(default: what the send buffer holds in flight, a page\n"
	  "per iovec piece, x 1.5 + 2; at least the client's --buffers)" },
	{ OPT_PER_FIELD, "per-field", NULL, FOR_CLIENT, STRAT_BIT(STRAT_A1), NULL,
	  "server sends with one send() per field" },
	{ OPT_ENGINE, "engine", "syscall|uring|sendfile|splice", FOR_CLIENT, STRAT_BIT(STRAT_A2) | STRAT_BIT(STRAT_A3),
	  "syscall",
	  "how the server sends: sendmsg() calls, or io_uring\n"
	  "(a2: IORING_OP_SENDMSG, a3: IORING_OP_SENDMSG_ZC); a3 only:\n"
	  "sendfile() or vmsplice()+splice() from the page cache — a\n"
	  "ring of N messages written once into a memfd and sent\n"
	  "cyclically, N = max(--buffers, 4 MiB / size, 2), at most\n"
	  "65536: sequence numbers repeat modulo N, and this client\n"
	  "checks them modulo N" },
	{ OPT_URING_DEPTH, "uring-depth", "N", FOR_CLIENT, STRAT_BIT(STRAT_A2) | STRAT_BIT(STRAT_A3),
	  CLI_STR(URING_DEPTH_DEFAULT),
	  "io_uring: requests submitted together as one linked\nchain, 1-" CLI_STR(URING_DEPTH_MAX) },
	{ OPT_RX, "rx", "copy|zerocopy|discard", FOR_CLIENT, ALL_STRATS, "copy",
	  "how this client receives: recvmsg() into the 8 fields, or\n"
	  "TCP_ZEROCOPY_RECEIVE (the stream mapped, checked in place;\n"
	  "stream mode; only page-sized segments map), or recvmsg()\n"
	  "with MSG_TRUNC (discard: the kernel drops the bytes without\n"
	  "copying them; only byte counts are checked, not sequence\n"
	  "numbers: a control that shows the sender's cost alone)" },
	{ OPT_FIXED_BUFFERS, "fixed-buffers", "on|off", FOR_CLIENT, STRAT_BIT(STRAT_A3), NULL,
	  "io_uring: a3's pool as one registered buffer\n(default: on where the kernel has it, Linux 6.15+)" },
	{ OPT_PERF_CTL, "perf-ctl", "CTL,ACK", FOR_BOTH, ALL_STRATS, NULL,
	  "FIFOs of a perf stat run under which this runs\n"
	  "(perf stat --control fifo:CTL,ACK -D -1): its counters are\n"
	  "enabled at the measured window's start, disabled at its end;\n"
	  "twice for two perf processes" },
	{ OPT_INTERVAL, "interval", "SECONDS", FOR_BOTH, ALL_STRATS, NULL,
	  "per-interval samples over the measured window (e.g. 0.1):\n"
	  "bytes, messages, thread CPU, retransmissions (a3's sender:\n"
	  "completions, copied); --json lists them (default: none)" },
	{ OPT_JSON, "json", NULL, FOR_BOTH, ALL_STRATS, NULL, "print one JSON object on stdout at exit" },
	{ 'h', "help", NULL, FOR_BOTH, ALL_STRATS, NULL, "this help" },
	{ OPT_VERSION, "version", NULL, FOR_BOTH, ALL_STRATS, NULL, "print the version" },
};
#define CLI_NOPTS (sizeof(cli_opts) / sizeof(cli_opts[0]))

static const struct cli_opt *cli_find(int id)
{
	for (size_t i = 0; i < CLI_NOPTS; i++)
		if (cli_opts[i].id == id)
			return &cli_opts[i];
	return NULL;
}

static bool cli_applies(const struct cli_opt *o, const struct config *c)
{
	return (o->roles & c->role) && (o->strats == ALL_STRATS || (o->strats & STRAT_BIT(c->strategy)));
}

/* Every -A CPU must be one this process may run on: a usage error now,
 * not a failure when the first thread starts. */
static void check_cpus_allowed(const struct config *c, const char *text)
{
	cpu_set_t allowed;
	CPU_ZERO(&allowed);
	if (sched_getaffinity(0, sizeof(allowed), &allowed) < 0)
		return;   /* cannot tell; pinning will report it */
	for (int i = 0; i < c->ncpus; i++)
		if (!CPU_ISSET(c->cpus[i], &allowed))
			usage_error("bad CPU list '%s': CPU %d is not available here (%d CPUs allowed)",
				    text, c->cpus[i], CPU_COUNT(&allowed));
}

/* One option's help: "  -p, --port PORT          text (default 9090)";
 * "(default)" in the text is where the default goes, else at the end. */
static void print_opt_help(const struct cli_opt *o)
{
	char head[64], text[512], def[64] = "";
	snprintf(head, sizeof(head), "  %c%c%c --%s%s%s", o->id < 256 ? '-' : ' ',
		 o->id < 256 ? o->id : ' ', o->id < 256 ? ',' : ' ', o->name, o->arg ? " " : "",
		 o->arg ? o->arg : "");
	if (o->def)
		snprintf(def, sizeof(def), "(default %s)", o->def);
	const char *mark = strstr(o->help, "(default)");
	if (mark)
		snprintf(text, sizeof(text), "%.*s%s%s", (int)(mark - o->help), o->help, def,
			 mark + strlen("(default)"));
	else
		snprintf(text, sizeof(text), "%s%s%s", o->help, def[0] ? " " : "", def);
	if (strlen(head) >= 27)   /* a long head: the text starts on the next line */
		printf("%s\n%27s", head, "");
	else
		printf("%-27s", head);
	for (const char *p = text; *p; p++) {
		putchar(*p);
		if (*p == '\n')
			printf("%27s", "");
	}
	putchar('\n');
}

static void print_help(const struct config *c)
{
	const char *s = strategy_name(c->strategy), *title = strategy_title(c->strategy);
	if (c->role == ROLE_SERVER)
		printf("Usage: %s_server [options]\n"
		       "copybench %s (%s) sender: accepts clients and streams messages of 8 heap\n"
		       "fields to each, one thread per connection.\n\n", s, s, title);
	else
		printf("Usage: %s_client [options]\n"
		       "copybench %s (%s) receiver: asks a %s_server for messages and receives them\n"
		       "with recvmsg() into 8 field buffers (the same way for every strategy).\n\n",
		       s, s, title, s);
	for (size_t i = 0; i < CLI_NOPTS; i++)
		if (cli_applies(&cli_opts[i], c))
			print_opt_help(&cli_opts[i]);
	if (c->role == ROLE_CLIENT && c->strategy == STRAT_A1)
		printf("\na1 sends with send() only: --engine uring applies to a2 and a3.\n");
	if (c->role == ROLE_CLIENT)
		printf("\nus_per_msg is time per message (1e6 / msgs_per_sec), not latency.\n");
	printf("%sExit status: 0 ok, 1 runtime failure%s, 2 usage error.\n",
	       c->role == ROLE_CLIENT ? "" : "\n", c->role == ROLE_CLIENT ? " or data errors" : "");
	printf("Manual: docs/programs.md (options, output); docs/zero-copy.md (--engine, --rx,\n"
	       "--zc-pool, --fixed-buffers); docs/measurement.md (--perf-ctl, the window);\n"
	       "docs/csv-and-json.md (every --json key).\n");
}

/* A two-valued option: true for `yes`, false for `no`, else a usage error
 * naming both. */
static bool cli_pick(const char *arg, const char *what, const char *no, const char *yes)
{
	if (strcmp(arg, no) && strcmp(arg, yes))
		usage_error("bad %s '%s' (expected %s or %s)", what, arg, no, yes);
	return strcmp(arg, yes) == 0;
}

/* The client's choice of paths: engine, receive.  Returns false
 * for an option that is not one of these. */
static bool cli_set_path(struct config *c, int id, const char *arg)
{
	switch (id) {
	case OPT_ENGINE:
		if (strcmp(arg, "syscall") && strcmp(arg, "uring") && strcmp(arg, "sendfile") && strcmp(arg, "splice"))
			usage_error("bad engine '%s' (expected syscall, uring, sendfile or splice)", arg);
		c->uring = strcmp(arg, "uring") == 0;
		c->pagecache = !strcmp(arg, "sendfile") ? HELLO_F_SENDFILE :
			       !strcmp(arg, "splice") ? HELLO_F_SPLICE : 0;
		if (c->pagecache && c->strategy != STRAT_A3)
			usage_error("--engine %s applies to a3 only (it sends from the page cache)", arg);
		break;
	case OPT_URING_DEPTH:
		if (parse_uint_range(arg, 1, URING_DEPTH_MAX, &c->uring_depth))
			usage_error("bad io_uring depth '%s' (expected 1-%d)", arg, URING_DEPTH_MAX);
		break;
	case OPT_RX:
		if (strcmp(arg, "copy") && strcmp(arg, "zerocopy") && strcmp(arg, "discard"))
			usage_error("bad receive mode '%s' (expected copy, zerocopy or discard)", arg);
		c->rx_zc = strcmp(arg, "zerocopy") == 0;
		c->rx_discard = strcmp(arg, "discard") == 0;
		break;
	case OPT_FIXED_BUFFERS:
		c->fixed = !cli_pick(arg, "fixed-buffers", "on", "off");
		break;
	default:
		return false;
	}
	return true;
}

/* Buffers, pools, budgets and perf's FIFOs.  Returns false for an option
 * that is not one of these. */
static bool cli_set_resources(struct config *c, int id, const char *arg)
{
	switch (id) {
	case OPT_BUFFERS:
		if (parse_uint_range(arg, 1, BUFFERS_MAX, &c->buffers))
			usage_error("bad buffer count '%s' (expected 1-%d)", arg, BUFFERS_MAX);
		break;
	case OPT_ZC_POOL:
		if (parse_size(arg, &c->sopts.zc_pool_bytes) || c->sopts.zc_pool_bytes == 0 ||
		    c->sopts.zc_pool_bytes > (64ULL << 30))
			usage_error("bad pool size '%s' (expected 1..64G bytes)", arg);
		break;
	case OPT_MEM_BUDGET:
		if (parse_size(arg, &c->mem_budget) || c->mem_budget == 0)
			usage_error("bad memory budget '%s' (expected bytes > 0, K/M/G suffixes)", arg);
		break;
	case OPT_PERF_CTL: {
		const char *comma = strchr(arg, ',');
		if (!comma || comma == arg || !comma[1] || strchr(comma + 1, ','))
			usage_error("bad perf control '%s' (expected CTL_FIFO,ACK_FIFO)", arg);
		if (c->nperf_ctl == PERF_CTL_MAX)
			usage_error("--perf-ctl at most %d times (perf stat, and perf record)", PERF_CTL_MAX);
		c->perf_ctl[c->nperf_ctl++] = arg;
		break;
	}
	default:
		return false;
	}
	return true;
}

/* Convert one option's value into c; a bad value is a usage error. */
static void cli_set(struct config *c, int id, const char *arg)
{
	if (cli_set_path(c, id, arg) || cli_set_resources(c, id, arg))
		return;
	uint64_t v;
	switch (id) {
	case 'p':
		if (parse_uint_range(arg, 1, 65535, &v))
			usage_error("bad port '%s' (expected 1-65535)", arg);
		c->port = (uint16_t)v;
		break;
	case 'B':
		c->bind_addr = arg;
		break;
	case 'n':
		if (parse_uint_range(arg, 1, 1000000, &c->max_conns))
			usage_error("bad connection count '%s' (expected 1-1000000)", arg);
		break;
	case 'A':
		c->ncpus = parse_cpu_list(arg, c->cpus, THREADS_MAX);
		if (c->ncpus < 1)
			usage_error("bad CPU list '%s' (expected e.g. 0,2-3; CPUs < %d)", arg, CPU_SETSIZE);
		snprintf(c->cpus_text, sizeof(c->cpus_text), "%s", arg);
		check_cpus_allowed(c, arg);
		break;
	case 'H':
		c->host = arg;
		break;
	case 's':
		if (parse_size(arg, &c->msg_size) || c->msg_size < MSG_SIZE_MIN || c->msg_size > MSG_SIZE_MAX)
			usage_error("bad message size '%s' (expected 64..64M bytes; K/M/G suffixes are 1024-based)", arg);
		break;
	case 't':
		if (parse_uint_range(arg, 1, THREADS_MAX, &c->threads))
			usage_error("bad thread count '%s' (expected 1-%d)", arg, THREADS_MAX);
		break;
	case 'd':
		if (parse_seconds(arg, &c->duration_s) || c->duration_s <= 0)
			usage_error("bad duration '%s' (expected seconds > 0, at most %g)", arg, DURATION_MAX_S);
		break;
	case OPT_WARMUP:
		if (parse_seconds(arg, &c->warmup_s))
			usage_error("bad warmup '%s' (expected seconds >= 0, at most %g)", arg, DURATION_MAX_S);
		break;
	case OPT_INTERVAL:
		if (parse_seconds(arg, &c->interval_s) || c->interval_s < 0.001)
			usage_error("bad interval '%s' (expected seconds >= 0.001)", arg);
		break;
	case OPT_VERIFY:
		c->verify = true;
		break;
	case OPT_MODE:
		c->mode = cli_pick(arg, "mode", "stream", "rr") ? MODE_RR : MODE_STREAM;
		break;
	case OPT_PER_FIELD:
		c->per_field = true;
		break;
	case OPT_JSON:
		c->json = true;
		break;
	case 'h':
		print_help(c);
		exit(0);
	case OPT_VERSION:
		printf("%s copybench %s\n", prog_name, COPYBENCH_VERSION);
		exit(0);
	}
}

/* getopt's tables from cli_opts[]: every option of every program, so one
 * meant for another program is told apart from an unknown one. */
static void cli_tables(struct option *longopts, char *shortopts)
{
	char *sp = shortopts;
	*sp++ = ':';
	for (size_t i = 0; i < CLI_NOPTS; i++) {
		const struct cli_opt *o = &cli_opts[i];
		longopts[i] = (struct option){ o->name, o->arg ? required_argument : no_argument, NULL, o->id };
		if (o->id < 256) {
			*sp++ = (char)o->id;
			if (o->arg)
				*sp++ = ':';
		}
	}
	longopts[CLI_NOPTS] = (struct option){ NULL, 0, NULL, 0 };
	*sp = '\0';
}

void parse_cli(int argc, char **argv, struct config *c)
{
	struct option longopts[CLI_NOPTS + 1];
	char shortopts[2 * CLI_NOPTS + 2];
	int opt;

	cli_tables(longopts, shortopts);
	snprintf(c->cpus_text, sizeof(c->cpus_text), "unpinned");
	c->fixed = -1;
	for (size_t i = 0; i < CLI_NOPTS; i++)
		if (cli_opts[i].def)
			cli_set(c, cli_opts[i].id, cli_opts[i].def);
	opterr = 0;
	while ((opt = getopt_long(argc, argv, shortopts, longopts, NULL)) != -1) {
		const char *name = optind > 1 && optind - 1 < argc ? argv[optind - 1] : "?";
		const struct cli_opt *o = cli_find(opt);
		if (opt == ':')
			usage_error("option '%s' needs a value", name);
		if (!o)
			usage_error("unknown option '%s'", name);
		if (!cli_applies(o, c))
			usage_error("option '--%s' does not apply to %s_%s", o->name,
				    strategy_name(c->strategy), c->role == ROLE_SERVER ? "server" : "client");
		cli_set(c, opt, optarg);
	}
	if (optind < argc)
		usage_error("unexpected argument '%s'", argv[optind]);
	if (c->fixed == 1 && !c->uring)
		usage_error("--fixed-buffers applies to --engine uring");
	if (c->rx_zc && c->mode == MODE_RR)
		usage_error("--rx zerocopy measures stream receive; it does not apply to --mode rr");
	if (c->rx_discard && c->verify)
		usage_error("--verify checks bytes, and --rx discard receives none");
	if (c->role == ROLE_CLIENT && c->interval_s > 0 &&
	    c->duration_s / c->interval_s >= SAMPLES_MAX)
		usage_error("--interval %g cuts a %g s window into more than %d intervals",
			    c->interval_s, c->duration_s, SAMPLES_MAX - 1);
	if (c->fixed == -1)
		c->fixed = c->uring && c->strategy == STRAT_A3 && uring_fixed_zc_supported();
}

void pin_self(const struct config *c, uint64_t index)
{
	if (!c->ncpus)
		return;
	cpu_set_t set;
	CPU_ZERO(&set);
	int cpu = c->cpus[index % (uint64_t)c->ncpus];
	CPU_SET(cpu, &set);
	int err = pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
	if (err)
		die(1, err, "cannot pin thread to CPU %d", cpu);
}

void set_prog_name(const char *argv0, const char *fallback)
{
	const char *slash = argv0 ? strrchr(argv0, '/') : NULL;
	prog_name = slash ? slash + 1 : (argv0 && *argv0 ? argv0 : fallback);
}
