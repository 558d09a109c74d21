/* cb_drift.c — how steadily this machine copies memory, window by window:
 * the floor under any comparison of two runs measured one after the other.
 *
 * copybench compares strategies on paired runs: a1's run, then a2's, seconds
 * apart.  If the machine itself copies faster in one second than in the next
 * (a neighbour on a shared core or cache, a host reclaiming memory, frequency
 * steps), no choice of placement or run order can make two such runs agree
 * more closely than that.  This program measures it without the network: on
 * each CPU of --cpus at once, one pinned thread alternates a memcpy of --size
 * bytes (the work under test), a fixed integer loop that touches no memory
 * (the control: it moves only with the CPU's own speed) and a run of the
 * cheapest system call (getppid: the cost of entering and leaving the kernel,
 * which a virtual machine or a CPU's mitigations may make dearer), for --windows
 * back-to-back windows of --window seconds, and reports the spread of the
 * log ratio of consecutive windows' speeds.  Then, when LIST has two CPUs
 * or more, the first two pass a byte back and forth through two pipes, each
 * side blocked in read() in between, for as many windows: every round trip is
 * two wake-ups of a sleeping thread on another CPU, the path a receiver woken
 * by a packet and a sender woken by an ACK take (on a virtual machine, an
 * idle vCPU that halted must first be brought back by the hypervisor).
 * run_experiments.sh runs it before a sweep, with windows as long as its runs
 * (docs/sweep.md, "Machine drift").
 */
#define _GNU_SOURCE
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "common.h"   /* parse_cpu_list, parse_seconds, parse_size, parse_uint_range, now_ns */

#define CPUS_MAX 1024
#define WINDOWS_MAX 1000
#define DEFAULT_WINDOW_S 0.5
#define DEFAULT_WINDOWS 8
#define DEFAULT_SIZE (1u << 20)
#define CHUNK_BYTES (4u << 20)   /* copied between two clock reads */
#define ALU_ITERS 50000          /* integer steps between two clock reads (~0.1 ms) */
#define SYS_CALLS 200            /* system calls between two clock reads (~0.1 ms) */

static const char *prog = "cb_drift";

static void usage(FILE *f)
{
	fprintf(f,
		"Usage: %s --cpus LIST [--window S] [--windows N] [--size BYTES]\n"
		"\n"
		"How steadily this machine copies memory from one window of time to the next.\n"
		"On each CPU of LIST at once, one pinned thread alternates a memcpy of BYTES\n"
		"(the work copybench measures), a fixed integer loop that touches no memory (the\n"
		"control) and getppid() calls (entering and leaving the kernel), for N\n"
		"back-to-back windows of S seconds; then the first two CPUs\n"
		"of LIST pass a byte back and forth through pipes for N more windows, each side\n"
		"asleep in read() in between (cross-CPU wake-ups). Prints one line per CPU, then\n"
		"one for all of them (the copy variances pooled), key=value:\n"
		"  copy_gbps  median copy speed over the windows, GB/s (10^9 bytes a second)\n"
		"  copy_step  SD of the natural log of the ratio of consecutive windows' copy\n"
		"             speeds: how far two runs of S seconds measured one after the other\n"
		"             differ on this machine by itself (0.03 is about 3%%)\n"
		"  alu_step   the same for the integer loop: the CPU's own speed steps\n"
		"  sys_ns     median time of one system call (getppid), nanoseconds\n"
		"  sys_step   the same SD as copy_step, for the system calls\n"
		"  wake_us    (the 'all' line) median round trip of the ping-pong, microseconds:\n"
		"             two cross-CPU wake-ups; NA with one CPU\n"
		"  wake_step  the same SD as copy_step, for the ping-pong's round trips a second\n"
		"  windows    N\n"
		"run_experiments.sh runs it before a sweep (docs/sweep.md, \"Machine drift\").\n"
		"Run it on an otherwise idle machine: other work in the windows counts as drift.\n"
		"\n"
		"  --cpus LIST     CPUs, e.g. 0,2-3\n"
		"  --window S      seconds per window, 0.01..60 (default %.1f)\n"
		"  --windows N     windows, 3..%d (default %d)\n"
		"  --size BYTES    bytes per memcpy, 4K..1G, e.g. 64K, 1M (default 1M)\n"
		"  -h, --help      this text\n"
		"\n"
		"Exit status: 0 measured, 1 runtime failure (memory, a CPU not allowed), 2 usage error.\n",
		prog, DEFAULT_WINDOW_S, WINDOWS_MAX, DEFAULT_WINDOWS);
}

static _Noreturn void usage_error(const char *what, const char *arg)
{
	tool_usage_error(prog, what, arg);
}

/* What the command line asks for. */
struct args {
	int cpus[CPUS_MAX];
	int ncpus;
	double window_s;
	int windows;
	size_t size;
};

/* One CPU's measurement: per window, the time spent in each kind of work and
 * how much of it was done. */
/* The first window's start (0 until every probe thread is ready), and quit:
 * a thread could not be started, the others leave without measuring. */
static atomic_uint ready;
static _Atomic uint64_t start_at;
static atomic_bool quit;

struct probe {
	const struct args *a;
	int cpu;
	double copy_ns[WINDOWS_MAX], copy_bytes[WINDOWS_MAX];
	double alu_ns[WINDOWS_MAX], alu_iters[WINDOWS_MAX];
	double sys_ns[WINDOWS_MAX], sys_calls[WINDOWS_MAX];
	volatile uint64_t sink;   /* keeps the copies and the loop's result alive */
};

/* The ping-pong between two CPUs: round trips per window. */
struct pingpong {
	const struct args *a;
	int fwd[2], back[2];    /* pipes: first CPU -> second, second -> first */
	double trips[WINDOWS_MAX];
	double ns[WINDOWS_MAX];   /* each window's length as measured (its last trip may overrun) */
};

/* ALU_ITERS steps of a linear congruential generator: a chain of dependent
 * multiplies and adds in registers (the barrier keeps the compiler from
 * folding or vectorising it). */
static uint64_t alu_chunk(uint64_t x)
{
	for (int i = 0; i < ALU_ITERS; i++) {
		x = x * 6364136223846793005ULL + 1442695040888963407ULL;
		__asm__ __volatile__("" : "+r"(x));
	}
	return x;
}

static void *probe_cpu(void *arg)
{
	struct probe *p = arg;
	const struct args *a = p->a;
	size_t copies = a->size >= CHUNK_BYTES ? 1 : CHUNK_BYTES / a->size;
	void *s = NULL, *d = NULL;
	if (posix_memalign(&s, 4096, a->size) != 0 || posix_memalign(&d, 4096, a->size) != 0) {
		free(s);
		free(d);
		return (void *)"out of memory";
	}
	char *src = s, *dst = d;
	memset(src, 1, a->size);   /* fault both in before the first window */
	memset(dst, 2, a->size);
	uint64_t x = (uint64_t)p->cpu + 1, sink = 0, start;
	/* every CPU's first window starts at the same moment, once all are ready */
	atomic_fetch_add(&ready, 1);
	while ((start = atomic_load(&start_at)) == 0 && !atomic_load(&quit))
		sched_yield();
	for (int w = 0; w < a->windows && start; w++) {
		uint64_t end = start + (uint64_t)((w + 1) * a->window_s * 1e9), t0, t1, t2, t3;
		do {
			t0 = now_ns();
			for (size_t i = 0; i < copies; i++) {
				memcpy(dst, src, a->size);
				src[i % a->size]++;
				sink += (unsigned char)dst[(i * 4099) % a->size];
			}
			t1 = now_ns();
			x = alu_chunk(x);
			t2 = now_ns();
			for (int i = 0; i < SYS_CALLS; i++)
				sink += (uint64_t)syscall(SYS_getppid);   /* not glibc's: a real entry */
			t3 = now_ns();
			p->copy_ns[w] += (double)(t1 - t0);
			p->copy_bytes[w] += (double)copies * (double)a->size;
			p->alu_ns[w] += (double)(t2 - t1);
			p->alu_iters[w] += ALU_ITERS;
			p->sys_ns[w] += (double)(t3 - t2);
			p->sys_calls[w] += SYS_CALLS;
		} while (t3 < end);
	}
	p->sink = sink + x;
	free(src);
	free(dst);
	return NULL;
}

/* The median of n values (sorted in place). */
static int cmp_double(const void *x, const void *y)
{
	double a = *(const double *)x, b = *(const double *)y;
	return (a > b) - (a < b);
}

static double median(double *v, int n)
{
	qsort(v, (size_t)n, sizeof(*v), cmp_double);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

/* The sample variance of the log ratios of consecutive windows' rates
 * (work / ns): the square of the *_step figures. */
static double step_var(const double *work, const double *ns, int n)
{
	double d[WINDOWS_MAX], mean = 0, ss = 0;
	for (int w = 1; w < n; w++) {
		d[w - 1] = log((work[w] / ns[w]) / (work[w - 1] / ns[w - 1]));
		mean += d[w - 1];
	}
	mean /= n - 1;
	for (int i = 0; i < n - 1; i++)
		ss += (d[i] - mean) * (d[i] - mean);
	return ss / (n - 2);
}

/* The copy speed of each window of p, GB/s, into v; returns its median. */
static double copy_gbps(const struct probe *p, int n, double *v)
{
	for (int w = 0; w < n; w++)
		v[w] = p->copy_bytes[w] / p->copy_ns[w];   /* bytes per ns = GB/s */
	return median(v, n);
}

/* pin_self: the calling thread onto one CPU; 0 or an error number. */
static int pin_self(int cpu)
{
	cpu_set_t set;
	CPU_ZERO(&set);
	CPU_SET(cpu, &set);
	return pthread_setaffinity_np(pthread_self(), sizeof(set), &set);
}

/* The ping-pong's far side (the second CPU): returns every byte until EOF.
 * It closes its write end when it stops, for whatever reason, so the near
 * side's read() sees EOF instead of waiting for ever. */
static void *echo_cpu(void *arg)
{
	struct pingpong *pp = arg;
	void *err = NULL;
	char c;
	if (pin_self(pp->a->cpus[1]) != 0) {
		err = (void *)"cannot pin to the second CPU";
	} else {
		while (read(pp->fwd[0], &c, 1) == 1) {
			if (write(pp->back[1], &c, 1) != 1) {
				err = (void *)"pipe write failed";
				break;
			}
		}
	}
	close(pp->back[1]);
	return err;
}

/* pingpong: N windows of round trips between the first two CPUs of a (the
 * calling thread on the first); NULL or what failed. */
static const char *pingpong(const struct args *a, struct pingpong *pp)
{
	pthread_t tid;
	void *err = NULL;
	const char *fail = NULL;
	char c = 'x';
	if (pipe(pp->fwd) != 0)
		return "cannot make a pipe";
	if (pipe(pp->back) != 0) {
		close(pp->fwd[0]), close(pp->fwd[1]);
		return "cannot make a pipe";
	}
	if (pin_self(a->cpus[0]) != 0)
		fail = "cannot pin to the first CPU";
	else if (pthread_create(&tid, NULL, echo_cpu, pp) != 0)
		fail = "cannot start a thread";
	if (fail) {
		close(pp->fwd[0]), close(pp->fwd[1]), close(pp->back[0]), close(pp->back[1]);
		return fail;
	}
	uint64_t start = now_ns() + 10000000ULL;   /* the far side is asleep in read() by then */
	while (now_ns() < start)
		;
	uint64_t prev = start, t = start;
	for (int w = 0; w < a->windows && !fail; w++) {
		uint64_t end = start + (uint64_t)((w + 1) * a->window_s * 1e9);
		do {
			if (write(pp->fwd[1], &c, 1) != 1 || read(pp->back[0], &c, 1) != 1) {
				fail = "the ping-pong stopped";
				break;
			}
			pp->trips[w]++;
		} while ((t = now_ns()) < end);
		pp->ns[w] = (double)(t - prev);
		prev = t;
	}
	close(pp->fwd[1]);   /* EOF: the far side returns (and closes back[1]) */
	pthread_join(tid, &err);
	close(pp->fwd[0]), close(pp->back[0]);
	if (err)
		return err;
	return fail;
}

/* parse_args: the command line into *a; usage errors exit 2, --help exits 0. */
static void parse_args(int argc, char **argv, struct args *a)
{
	static const struct option opts[] = {
		{ "cpus", required_argument, NULL, 'A' },
		{ "window", required_argument, NULL, 'w' },
		{ "windows", required_argument, NULL, 'n' },
		{ "size", required_argument, NULL, 's' },
		{ "help", no_argument, NULL, 'h' },
		{ 0 }
	};
	const char *cpu_arg = NULL;
	uint64_t v;
	int c;
	a->window_s = DEFAULT_WINDOW_S;
	a->windows = DEFAULT_WINDOWS;
	a->size = DEFAULT_SIZE;
	opterr = 0;   /* one line of our own instead of getopt's */
	while ((c = getopt_long(argc, argv, ":A:h", opts, NULL)) != -1) {
		switch (c) {
		case 'A': cpu_arg = optarg; break;
		case 'w':
			if (parse_seconds(optarg, &a->window_s) || !(a->window_s >= 0.01) ||
			    a->window_s > 60)
				usage_error("--window: not a number of seconds in [0.01, 60]", optarg);
			break;
		case 'n':
			if (parse_uint_range(optarg, 3, WINDOWS_MAX, &v))
				usage_error("--windows: not a whole number in [3, 1000]", optarg);
			a->windows = (int)v;
			break;
		case 's':
			if (parse_size(optarg, &v) || v < 4096 || v > (1u << 30))
				usage_error("--size: not a size in [4K, 1G]", optarg);
			a->size = (size_t)v;
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

/* report: one line per CPU, then the pooled line (pp NULL: one CPU, no
 * ping-pong); 1 when out of memory. */
static int report(const struct args *a, struct probe *p, const struct pingpong *pp)
{
	static double v[WINDOWS_MAX];
	double copy_var = 0, alu_var = 0, sys_var = 0, *all, *sys_all;
	int n = a->windows;
	all = malloc((size_t)a->ncpus * (size_t)n * sizeof(*all));
	sys_all = malloc((size_t)a->ncpus * (size_t)n * sizeof(*sys_all));
	if (!all || !sys_all) {
		fprintf(stderr, "%s: out of memory\n", prog);
		free(all);
		free(sys_all);
		return 1;
	}
	for (int i = 0; i < a->ncpus; i++) {
		double cv = step_var(p[i].copy_bytes, p[i].copy_ns, n);
		double av = step_var(p[i].alu_iters, p[i].alu_ns, n);
		double sv = step_var(p[i].sys_calls, p[i].sys_ns, n);
		double g = copy_gbps(&p[i], n, v);
		memcpy(all + (size_t)i * n, v, (size_t)n * sizeof(*v));
		for (int w = 0; w < n; w++)
			v[w] = sys_all[(size_t)i * n + w] = p[i].sys_ns[w] / p[i].sys_calls[w];
		printf("cpu=%d copy_gbps=%.3f copy_step=%.4f alu_step=%.4f sys_ns=%.1f sys_step=%.4f "
		       "windows=%d\n", p[i].cpu, g, sqrt(cv), sqrt(av), median(v, n), sqrt(sv), n);
		copy_var += cv;
		alu_var += av;
		sys_var += sv;
	}
	printf("all copy_gbps=%.3f copy_step=%.4f alu_step=%.4f sys_ns=%.1f sys_step=%.4f",
	       median(all, a->ncpus * n), sqrt(copy_var / a->ncpus), sqrt(alu_var / a->ncpus),
	       median(sys_all, a->ncpus * n), sqrt(sys_var / a->ncpus));
	if (pp) {
		for (int w = 0; w < n; w++)
			v[w] = pp->ns[w] / pp->trips[w] / 1e3;   /* µs per round trip */
		printf(" wake_us=%.2f wake_step=%.4f", median(v, n), sqrt(step_var(pp->trips, pp->ns, n)));
	} else {
		printf(" wake_us=NA wake_step=NA");
	}
	printf(" windows=%d\n", n);
	free(all);
	free(sys_all);
	return 0;
}

int main(int argc, char **argv)
{
	static struct args a;
	parse_args(argc, argv, &a);
	struct probe *p = calloc((size_t)a.ncpus, sizeof(*p));
	pthread_t *tid = calloc((size_t)a.ncpus, sizeof(*tid));
	if (!p || !tid) {
		fprintf(stderr, "%s: out of memory\n", prog);
		return 1;
	}
	int started = 0, rc = 0;
	for (int i = 0; i < a.ncpus; i++) {
		pthread_attr_t attr;
		cpu_set_t set;
		p[i] = (struct probe){ .a = &a, .cpu = a.cpus[i] };
		CPU_ZERO(&set);
		CPU_SET(a.cpus[i], &set);
		pthread_attr_init(&attr);
		pthread_attr_setaffinity_np(&attr, sizeof(set), &set);
		int e = pthread_create(&tid[i], &attr, probe_cpu, &p[i]);
		pthread_attr_destroy(&attr);
		if (e) {
			fprintf(stderr, "%s: cannot start on CPU %d: %s\n", prog, a.cpus[i],
				e == EINVAL ? "no such CPU online (or not allowed here)" : strerror(e));
			rc = 1;
			break;
		}
		started++;
	}
	if (rc) {
		atomic_store(&quit, true);
	} else {
		/* all threads have faulted their buffers in: start 10 ms from now */
		while (atomic_load(&ready) < (unsigned)started)
			sched_yield();
		atomic_store(&start_at, now_ns() + 10000000ULL);
	}
	for (int i = 0; i < started; i++) {
		void *err = NULL;
		pthread_join(tid[i], &err);
		if (err) {
			fprintf(stderr, "%s: CPU %d: %s\n", prog, a.cpus[i], (const char *)err);
			rc = 1;
		}
	}
	static struct pingpong pp;
	const char *err = NULL;
	pp.a = &a;
	if (rc == 0 && a.ncpus >= 2 && (err = pingpong(&a, &pp)) != NULL) {
		fprintf(stderr, "%s: ping-pong between CPUs %d and %d: %s\n", prog, a.cpus[0],
			a.cpus[1], err);
		rc = 1;
	}
	if (rc == 0)
		rc = report(&a, p, a.ncpus >= 2 ? &pp : NULL);
	free(p);
	free(tid);
	return rc;
}
