/* lib/window.c — the measured window: perf's counters switched on and off
 * at its edges (--perf-ctl), the samples taken there (process and host CPU,
 * the TcpExt counters) and the figures over it (out_window). */
#define _GNU_SOURCE
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

/* ======================================================================
 * the measured window — every figure of a run over the same interval
 * ====================================================================== */

void perf_ctl_open(struct perf_ctl *p, const char *const *specs, int n)
{
	memset(p, 0, sizeof(*p));
	for (int i = 0; i < n; i++) {
		char ctl[512];
		const char *comma = strchr(specs[i], ',');
		snprintf(ctl, sizeof(ctl), "%.*s", (int)(comma - specs[i]), specs[i]);
		/* O_NONBLOCK: ENXIO at once when nobody reads it, instead of hanging */
		p->ctl[i] = open(ctl, O_WRONLY | O_NONBLOCK | O_CLOEXEC);
		if (p->ctl[i] < 0)
			die(1, errno, "perf control FIFO %s (run under perf stat --control fifo:CTL,ACK -D -1)", ctl);
		p->ack[i] = open(comma + 1, O_RDONLY | O_NONBLOCK | O_CLOEXEC);
		if (p->ack[i] < 0)
			die(1, errno, "perf acknowledgement FIFO %s", comma + 1);
		p->n++;
	}
}

/* Send "enable" or "disable" to each perf and wait up to 2 s for its "ack". */
static void perf_ctl_cmd(struct perf_ctl *p, const char *cmd)
{
	char line[16], buf[16];
	int n = snprintf(line, sizeof(line), "%s\n", cmd);
	uint64_t t0 = now_ns();
	for (int i = 0; i < p->n && !p->failed; i++) {
		struct pollfd pfd = { .fd = p->ack[i], .events = POLLIN };
		if (write(p->ctl[i], line, (size_t)n) != n || poll(&pfd, 1, 2000) != 1 ||
		    read(p->ack[i], buf, sizeof(buf)) < 3 || strncmp(buf, "ack", 3) != 0) {
			warning("perf did not acknowledge '%s': its counters may not cover the window", cmd);
			p->failed = true;
		}
	}
	p->wait_ns += now_ns() - t0;
}

static const char *perf_ctl_state(const struct perf_ctl *p)
{
	return !p->n ? "off" : p->failed ? "failed" : "window";
}

static void netstat_now(struct netstat *ns)
{
	/* The first three are in every kernel we run on; TCPDSACKRecvSegs (5.9+) counts the
	 * segments D-SACKs covered, comparable to retransmitted segments, where
	 * TCPDSACKRecv counts blocks (one block may cover many segments). */
	static const char *const want[] = { "TCPLossProbes", "TCPSpuriousRTOs", "TCPDSACKRecv",
					    "TCPDSACKRecvSegs" };
	uint64_t *out[] = { &ns->loss_probes, &ns->spurious_rtos, &ns->dsack_recv,
			    &ns->dsack_recv_segs };
	enum { NWANT = sizeof(want) / sizeof(want[0]) };
	char names[8192], values[8192];
	memset(ns, 0, sizeof(*ns));
	FILE *f = fopen("/proc/net/netstat", "r");
	if (!f)
		return;
	while (fgets(names, sizeof(names), f) && fgets(values, sizeof(values), f)) {
		if (strncmp(names, "TcpExt:", 7) != 0)
			continue;
		char *sn, *sv, *n = strtok_r(names, " \n", &sn), *v = strtok_r(values, " \n", &sv);
		unsigned found = 0;
		for (; n && v; n = strtok_r(NULL, " \n", &sn), v = strtok_r(NULL, " \n", &sv))
			for (int i = 0; i < NWANT; i++)
				if (strcmp(n, want[i]) == 0) {
					*out[i] = strtoull(v, NULL, 10);
					found |= 1u << i;
				}
		ns->ok = (found & 7u) == 7u;
		ns->segs_ok = found & 8u;
	}
	fclose(f);
}

void cpu_usage_now(struct cpu_usage *u)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	u->user_s = (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6;
	u->sys_s = (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
	u->ctx_vol = ru.ru_nvcsw;
	u->ctx_invol = ru.ru_nivcsw;
}

void host_cpu_now(struct host_cpu *h)
{
	unsigned long long user = 0, nice = 0, sys = 0, idle = 0, iowait = 0, irq = 0, softirq = 0,
			   steal = 0;
	memset(h, 0, sizeof(*h));
	FILE *f = fopen("/proc/stat", "r");
	if (!f)
		return;
	/* steal (the 8th) since Linux 2.6.11: time a hypervisor ran something else */
	if (fscanf(f, "cpu %llu %llu %llu %llu %llu %llu %llu %llu",
		   &user, &nice, &sys, &idle, &iowait, &irq, &softirq, &steal) == 8) {
		double hz = (double)sysconf(_SC_CLK_TCK);
		h->user_s = (double)user / hz;   /* niced time apart: the idle poller's */
		h->nice_s = (double)nice / hz;
		h->sys_s = (double)sys / hz;
		h->irq_s = (double)irq / hz;
		h->softirq_s = (double)softirq / hz;
		h->steal_s = (double)steal / hz;
		h->ok = true;
	}
	fclose(f);
}

static void out_cpu(struct out *o, const struct cpu_usage *a, const struct cpu_usage *b)
{
	out_dbl(o, "cpu_user_s", b->user_s - a->user_s);
	out_dbl(o, "cpu_sys_s", b->sys_s - a->sys_s);
	out_u64(o, "ctx_switches_vol", (uint64_t)(b->ctx_vol - a->ctx_vol));
	out_u64(o, "ctx_switches_invol", (uint64_t)(b->ctx_invol - a->ctx_invol));
}

static void out_host(struct out *o, const struct host_cpu *a, const struct host_cpu *b)
{
	bool ok = a->ok && b->ok;
	out_dbl(o, "host_cpu_user_s", ok ? b->user_s - a->user_s : NAN);
	out_dbl(o, "host_cpu_nice_s", ok ? b->nice_s - a->nice_s : NAN);
	out_dbl(o, "host_cpu_steal_s", ok ? b->steal_s - a->steal_s : NAN);
	out_dbl(o, "host_cpu_sys_s", ok ? b->sys_s - a->sys_s : NAN);
	out_dbl(o, "host_cpu_irq_s", ok ? b->irq_s - a->irq_s : NAN);
	out_dbl(o, "host_cpu_softirq_s", ok ? b->softirq_s - a->softirq_s : NAN);
}

static void window_edge_now(struct window_edge *e)
{
	e->t_ns = now_ns();
	cpu_usage_now(&e->cpu);
	host_cpu_now(&e->host);
	netstat_now(&e->net);
}

/* perf's counters open just before our samples and close just after them. */
void window_open(struct window *w, struct perf_ctl *p)
{
	perf_ctl_cmd(p, "enable");
	window_edge_now(&w->a);
	w->opened = true;
}

void window_close(struct window *w, struct perf_ctl *p)
{
	window_edge_now(&w->b);
	perf_ctl_cmd(p, "disable");
	w->closed = true;
}

/* CPU, host and TCP-stack figures over the window (NA when there was none). */
void out_window(struct out *o, const struct window *w, const struct perf_ctl *p)
{
	bool ok = w->opened && w->closed;
	const struct window_edge *a = &w->a, *b = &w->b;
	double secs = ok ? (double)(b->t_ns - a->t_ns) / 1e9 : NAN;
	out_str(o, "window", !ok ? "none" : w->cut ? "cut-short" : "measured");
	out_dbl(o, "window_s", secs);
	if (ok) {
		out_cpu(o, &a->cpu, &b->cpu);
		out_host(o, &a->host, &b->host);
	} else {   /* nothing sampled: NA, never a difference of zeros */
		static const char *const keys[] = { "cpu_user_s", "cpu_sys_s", "ctx_switches_vol",
			"ctx_switches_invol", "host_cpu_user_s", "host_cpu_nice_s", "host_cpu_sys_s",
			"host_cpu_irq_s", "host_cpu_softirq_s", "host_cpu_steal_s" };
		for (size_t i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
			out_dbl(o, keys[i], NAN);
	}
	bool hok = ok && a->host.ok && b->host.ok;
	double busy = hok ? (b->host.user_s + b->host.sys_s + b->host.irq_s + b->host.softirq_s) -
			    (a->host.user_s + a->host.sys_s + a->host.irq_s + a->host.softirq_s) : NAN;
	out_dbl(o, "host_busy_cpus", hok && secs > 0 ? busy / secs : NAN);
	out_u64(o, "cpus_online", (uint64_t)sysconf(_SC_NPROCESSORS_ONLN));
	bool nok = ok && a->net.ok && b->net.ok;
	out_dbl(o, "tcp_loss_probes", nok ? (double)(b->net.loss_probes - a->net.loss_probes) : NAN);
	out_dbl(o, "tcp_spurious_rtos", nok ? (double)(b->net.spurious_rtos - a->net.spurious_rtos) : NAN);
	out_dbl(o, "tcp_dsack_recv", nok ? (double)(b->net.dsack_recv - a->net.dsack_recv) : NAN);
	out_dbl(o, "tcp_dsack_recv_segs", nok && a->net.segs_ok && b->net.segs_ok ?
		(double)(b->net.dsack_recv_segs - a->net.dsack_recv_segs) : NAN);
	out_str(o, "perf_counters", perf_ctl_state(p));
	out_dbl(o, "perf_ack_ms", !p->n ? NAN : (double)p->wait_ns / 1e6);
}
