/* cb_idle_poll.c — keeps idle CPUs polling instead of halting, for the
 * sweep's --idle-poll.
 *
 * On a virtual machine an idle vCPU halts and leaves to the hypervisor; the
 * next wake-up (a packet's IPI, a woken receiver) has to bring it back, tens
 * of microseconds that land at random inside a run: the sender then waits
 * and its throughput moves from run to run (bench/README.md, "Idle polling").
 * A CPU that is never idle never halts.  This program runs one thread per
 * CPU of --cpus, each pinned there, under SCHED_IDLE at nice 19, spinning on
 * the pause instruction (what the kernel's own poll_idle does): any other
 * task preempts it at once, and pause leaves a hyper-thread sibling the
 * core's resources.  Its CPU time is "nice" in /proc/stat, which the
 * binaries' host CPU columns leave out, and a profile counts its samples as
 * idle (comm cb_idle_poll).
 *
 * It stops on SIGTERM/SIGINT, when its parent exits (PR_SET_PDEATHSIG), and
 * after --max-seconds at the latest: it can never outlive the sweep for long.
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <sched.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#include "common.h"   /* parse_cpu_list, parse_seconds, now_ns */

#define CPUS_MAX 1024
#define DEFAULT_MAX_S 3600.0

static const char *prog = "cb_idle_poll";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s --cpus LIST [--max-seconds S]\n"
		"\n"
		"Keeps the CPUs of LIST from halting while they are idle: one thread per CPU,\n"
		"pinned there, under SCHED_IDLE at nice 19, spinning on the pause instruction.\n"
		"Any other task preempts it at once. run_experiments.sh --idle-poll starts it\n"
		"for the sweep (docs/sweep.md, \"Idle polling\").\n"
		"\n"
		"  --cpus LIST        CPUs, e.g. 0,2-3\n"
		"  --max-seconds S    exit after S seconds at the latest, > 0, at most a day\n"
		"                     (default %.0f)\n"
		"  --parent PID       exit at once unless PID is this process's parent (a driver\n"
		"                     that died before the poller armed its parent-death signal)\n"
		"  -h, --help         this text\n"
		"\n"
		"It also exits on SIGTERM or SIGINT and when its parent process exits.\n"
		"Its CPU time counts as nice time in /proc/stat.\n"
		"Exit status: 0 stopped, 1 runtime failure (SCHED_IDLE, affinity), 2 usage error.\n",
		prog, DEFAULT_MAX_S);
}

static _Noreturn void usage_error(const char *what, const char *arg)
{
	tool_usage_error(prog, what, arg);
}

/* set by the signal handler, read by every poller: lock-free atomics */
static atomic_bool stop;
static uint64_t deadline_ns;

static void on_signal(int sig)
{
	(void)sig;
	atomic_store_explicit(&stop, true, memory_order_relaxed);
}

/* The pause instruction: a spin-wait hint that frees the core for a
 * hyper-thread sibling (what the kernel's cpu_relax issues). */
static inline void cpu_pause(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#elif defined(__aarch64__)
	__asm__ __volatile__("yield" ::: "memory");
#else
	__asm__ __volatile__("" ::: "memory");
#endif
}

static atomic_bool failed;

/* One CPU's poller (pinned from its creation): switches itself to SCHED_IDLE
 * (sched_setscheduler on the calling thread: glibc's attributes refuse the
 * idle class), then checks the stop flag and the clock every 2^10 pauses
 * (tens of microseconds of its own CPU time: a prompt stop even when it gets
 * only the idle class's sliver of a busy CPU). */
static void *poll_cpu(void *arg)
{
	struct sched_param sp = { 0 };
	if (sched_setscheduler(0, SCHED_IDLE, &sp) != 0) {
		fprintf(stderr, "%s: cannot switch to SCHED_IDLE on CPU %d: %s\n", prog,
			*(const int *)arg, strerror(errno));
		atomic_store(&failed, true);
		atomic_store(&stop, true);
		return NULL;
	}
	while (!atomic_load_explicit(&stop, memory_order_relaxed) && now_ns() < deadline_ns) {
		for (int i = 0; i < (1 << 10); i++)
			cpu_pause();
	}
	return NULL;
}

/* What the command line asks for. */
struct args {
	int cpus[CPUS_MAX];
	int ncpus;
	double max_s;
	pid_t parent;   /* 0: not given */
};

/* parse_args: the command line into *a; usage errors exit 2, --help exits 0. */
static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'A' },
		{ "max-seconds", required_argument, NULL, 'm' },
		{ "parent", required_argument, NULL, 'P' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cpu_arg = NULL;
	uint64_t pid;
	int c;
	a->max_s = DEFAULT_MAX_S;
	a->parent = 0;
	opterr = 0;   /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":A:h", opts, NULL)) != -1) {
		switch (c) {
		case 'A': cpu_arg = optarg; break;
		case 'm':
			if (parse_seconds(optarg, &a->max_s) || !(a->max_s > 0) || a->max_s > 86400)
				usage_error("--max-seconds: not a number of seconds in (0, 86400]", optarg);
			break;
		case 'P':
			if (parse_uint_range(optarg, 1, 0x3fffffff, &pid))
				usage_error("--parent: not a process ID", optarg);
			a->parent = (pid_t)pid;
			break;
		case 'h': usage(stdout); exit(0);
		case ':': usage_error("option needs a value", argv[optind - 1]);
		default: usage_error("unknown option", argv[optind - 1]);
		}
	}
	if (optind < argc)
		usage_error("unexpected argument", argv[optind]);
	a->ncpus = tool_cpu_list(prog, cpu_arg, a->cpus, CPUS_MAX);
}

/* start_pollers: one thread per CPU of a, each born pinned there (its
 * attributes), every signal blocked in it (they go to main); returns how many
 * started, with *rc 1 (and the stop flag set) when one could not. */
static int start_pollers(struct args *a, pthread_t *tid, int *rc)
{
	sigset_t block, old;
	int started = 0;
	sigfillset(&block);
	pthread_sigmask(SIG_BLOCK, &block, &old);
	for (int i = 0; i < a->ncpus; i++) {
		pthread_attr_t attr;
		cpu_set_t set;
		CPU_ZERO(&set);
		CPU_SET(a->cpus[i], &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		int e = pthread_create(&tid[i], &attr, poll_cpu, &a->cpus[i]);
		pthread_attr_destroy(&attr);
		if (e) {
			fprintf(stderr, "%s: cannot start a poller on CPU %d: %s\n", prog, a->cpus[i],
				e == EINVAL ? "no such CPU online (or not allowed here)" : strerror(e));
			atomic_store(&stop, true);
			*rc = 1;
			break;
		}
		started++;
	}
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	return started;
}

int main(int argc, char **argv)
{
	static struct args a;
	parse_args(argc, argv, &a);

	/* Leave with the parent: a killed sweep leaves no spinning CPUs.  A parent
	 * that died before the signal was armed shows as another parent (init, or a
	 * subreaper): checked after arming it. */
	if (prctl(PR_SET_PDEATHSIG, SIGTERM) != 0 || getppid() == 1 ||
	    (a.parent && getppid() != a.parent))
		return 0;
	struct sigaction sa = { .sa_handler = on_signal };
	sigemptyset(&sa.sa_mask);
	sigaction(SIGTERM, &sa, NULL);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGHUP, &sa, NULL);
	if (setpriority(PRIO_PROCESS, 0, 19) != 0) {
		fprintf(stderr, "%s: cannot set nice 19: %s\n", prog, strerror(errno));
		return 1;
	}
	deadline_ns = now_ns() + (uint64_t)(a.max_s * 1e9);

	pthread_t *tid = calloc((size_t)a.ncpus, sizeof(*tid));
	if (!tid) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	int rc = 0, started = start_pollers(&a, tid, &rc);
	/* main sleeps until a signal, the deadline or a failed start */
	while (!atomic_load_explicit(&stop, memory_order_relaxed) && now_ns() < deadline_ns) {
		struct timespec ts = { 0, 100 * 1000 * 1000 };
		nanosleep(&ts, NULL);
	}
	atomic_store(&stop, true);
	for (int i = 0; i < started; i++)
		pthread_join(tid[i], NULL);
	free(tid);
	return rc || atomic_load(&failed) ? 1 : 0;
}
