#!/usr/bin/env python3
"""Tests for plot_results.py on small crafted CSVs whose answers are known.

Run from the repository root with a Python that has matplotlib:
    /usr/bin/python3 tests/test_plot_results.py
Prints one line per test on stdout (PASS: name / FAIL: name — why / SKIP: name — why)
and exits 0 only if every test passed.

The fixture CSVs in tests/fixtures/csv/ are written by this file's generator from the
crafted values below (so the answers can be read off here); a test checks that the
committed files still match it. Regenerate them with:
    /usr/bin/python3 tests/test_plot_results.py --write-fixtures
A realistic full sweep (for looking at the figures) can be written with:
    /usr/bin/python3 tests/test_plot_results.py --write-realistic FILE [--pmu]
"""

import csv
import importlib.util
import io
import itertools
import json
import math
import os
import random
import shutil
import statistics
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "plot_results.py")
FIXTURES = os.path.join(HERE, "fixtures", "csv")
FIGURES = ("throughput", "ratios", "time_per_msg", "latency", "latency_threads",
           "cache_misses", "cpu_per_byte", "scaling", "context_switches", "zc_copied",
           "summary")
KIB = 1024

# The column list exactly as docs/csv-and-json.md ("CSV columns") and run_experiments.sh write it,
# typed out independently of the script so that a drift in either is caught.
EVENTS = ["cycles", "instructions", "cache_references", "cache_misses",
          "l1_dcache_load_misses", "llc_load_misses", "context_switches", "cpu_migrations",
          "page_faults", "task_clock"]
CSV_COLUMNS = (
    "run_id timestamp order repeat status reason strategy variant mode msg_size threads "
    "duration_s warmup_s bytes messages throughput_gbps msgs_per_sec us_per_msg transactions "
    "transactions_per_sec rtt_min_us rtt_mean_us rtt_p50_us rtt_p90_us rtt_p99_us rtt_p999_us "
    "rtt_max_us verify_errors srv_bytes_sent".split()
    + [f"srv_{e}" for e in EVENTS] + [f"srv_{e}_running_pct" for e in EVENTS]
    + [f"cli_{e}" for e in EVENTS] + [f"cli_{e}_running_pct" for e in EVENTS]
    + "perf_user_only srv_cpu_user_s srv_cpu_sys_s cli_cpu_user_s cli_cpu_sys_s "
      "srv_cpu_ns_per_byte cli_cpu_ns_per_byte srv_cycles_per_byte cli_cycles_per_byte "
      "zc_sends zc_completions zc_copied zc_notifications zc_enobufs zc_pool_depth "
      "zc_pool_waits tcp_retrans tcp_rtt_us host_cpu_user_s host_cpu_sys_s host_cpu_irq_s "
      "host_cpu_softirq_s host_cpu_ns_per_byte placement kernel cpu_model link mtu".split())
PMU_EVENTS = ("cycles", "instructions", "cache_references", "cache_misses",
              "l1_dcache_load_misses", "llc_load_misses")
SW_EVENTS = ("context_switches", "cpu_migrations", "page_faults", "task_clock")


def load_script():
    spec = importlib.util.spec_from_file_location("plot_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pr = load_script()
cbstats = sys.modules["cbstats"]      # imported by plot_results from beside it


# ---- fixture generator ----------------------------------------------------------------

def cell(v):
    """CSV text of a value: integers without '.0', floats with up to 10 digits."""
    if v is None:
        return ""
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else format(v, ".10g")
    return str(v)


class Sweep:
    """Builds rows with the full column list; derived columns follow from the inputs."""

    def __init__(self, kernel="6.1.0-test", cpu_model="Test CPU @ 1.00GHz", link="veth",
                 mtu=1500, duration=2.0, run_id="20250101T000000Z", hour=0):
        self.rows = []
        self.run_id, self.hour = run_id, hour
        self.env = {"kernel": kernel, "cpu_model": cpu_model, "link": link, "mtu": mtu,
                    "placement": "unpinned"}
        self.duration = duration

    def add(self, strategy, size, threads, repeat, gbps, variant="default", mode="stream",
            status="ok", reason="", pmu=False, **cells):
        d = self.duration
        r = dict.fromkeys(CSV_COLUMNS, "")
        order = len(self.rows) + 1
        nbytes = int(gbps * 1e9 / 8 * d) if gbps is not None else None
        msgs = nbytes // size if nbytes is not None else None
        r.update(run_id=self.run_id, timestamp=f"2025-01-01T{self.hour:02d}:{order // 60:02d}:"
                 f"{order % 60:02d}Z", order=order, repeat=repeat, status=status,
                 reason=reason, strategy=strategy, variant=variant, mode=mode,
                 msg_size=size, threads=threads, duration_s=d, warmup_s=0.5, **self.env)
        if nbytes is not None:
            r.update(bytes=nbytes, messages=msgs, throughput_gbps=gbps,
                     msgs_per_sec=msgs / d, us_per_msg=1e6 * d / msgs, verify_errors=0,
                     srv_bytes_sent=nbytes, perf_user_only=0, tcp_retrans=0, tcp_rtt_us=50,
                     srv_cpu_user_s=0.2, srv_cpu_sys_s=1.2, cli_cpu_user_s=0.1,
                     cli_cpu_sys_s=1.4, host_cpu_user_s=0.3, host_cpu_sys_s=2.6,
                     host_cpu_irq_s=0.0, host_cpu_softirq_s=0.2)
            r["srv_cpu_ns_per_byte"] = 1.4e9 / nbytes
            r["cli_cpu_ns_per_byte"] = 1.5e9 / nbytes
            r["host_cpu_ns_per_byte"] = 3.1e9 / nbytes
            for side in ("srv", "cli"):
                for e in PMU_EVENTS:
                    r[f"{side}_{e}"] = r[f"{side}_{e}_running_pct"] = "NA"
                r[f"{side}_cycles_per_byte"] = "NA"
                r.update({f"{side}_context_switches": 40, f"{side}_cpu_migrations": 2,
                          f"{side}_page_faults": 300, f"{side}_task_clock": 1500.0})
                for e in SW_EVENTS:
                    r[f"{side}_{e}_running_pct"] = 100
            if pmu:
                for side, b in (("srv", nbytes), ("cli", nbytes)):
                    cycles = 3.3e9
                    r.update({f"{side}_cycles": cycles, f"{side}_instructions": 4.0e9,
                              f"{side}_cache_references": 9e7, f"{side}_cache_misses": 1e7,
                              f"{side}_l1_dcache_load_misses": 4e7,
                              f"{side}_llc_load_misses": 5e6,
                              f"{side}_cycles_per_byte": cycles / b})
                    for e in PMU_EVENTS:
                        r[f"{side}_{e}_running_pct"] = 100
            if strategy == "a3":
                r.update(zc_sends=msgs, zc_completions=1000, zc_copied=1000,
                         zc_notifications=900, zc_enobufs=0, zc_pool_depth=4,
                         zc_pool_waits=0)
        r.update(cells)
        self.rows.append(r)
        return r

    def text(self, *more, extra=()):
        """The CSV of this sweep, followed by the rows of more sweeps appended to it (as
        the driver appends every sweep to the same file under a new run_id); extra: more
        columns after the contract's (newer drivers' host_busy_cpus, cpus_online)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        columns = list(CSV_COLUMNS) + list(extra)
        w.writerow(columns)
        for r in self.rows + [r for sw in more for r in sw.rows]:
            w.writerow([cell(r.get(c, "")) for c in columns])
        return out.getvalue()


# Crossover fixture: median throughput (Gbit/s) per repeat, chosen so the answers are known.
#   T=1  a2 vs a1: loses at 64 B; at 1 KiB its MEAN wins (4 >= 2) but its median loses
#                  (1 < 2); wins at 16 KiB and 64 KiB            -> crossover 16 KiB
#        a3 vs a1: wins at 64 B only, then loses                  -> null
#   T=2  a2 vs a1: wins at 64 B, ties at 1 KiB (>= counts), wins at 16 KiB; at 64 KiB a1's
#                  mean (34) beats a2's (5) but its median (1) does not -> crossover 64 B
#        a3 vs a1: loses at 64 B and 1 KiB, ties at 16 KiB, wins at 64 KiB -> 16 KiB
CROSSOVER_GBPS = {
    1: {"a1": {64: [1, 1, 1], KIB: [2, 2, 2], 16 * KIB: [4, 4, 4], 64 * KIB: [5, 5, 5]},
        "a2": {64: [.5, .5, .5], KIB: [1, 1, 10], 16 * KIB: [4, 4.5, 5],
               64 * KIB: [6, 6, 6]},
        "a3": {64: [2, 2, 2], KIB: [1, 1, 1], 16 * KIB: [3, 3, 3], 64 * KIB: [4, 4, 4]}},
    2: {"a1": {64: [2, 2, 2], KIB: [3, 3, 3], 16 * KIB: [6, 6, 6], 64 * KIB: [1, 1, 100]},
        "a2": {64: [3, 3, 3], KIB: [3, 3, 3], 16 * KIB: [7, 7, 7], 64 * KIB: [5, 5, 5]},
        "a3": {64: [1, 1, 1], KIB: [2, 2, 2], 16 * KIB: [6, 6, 6], 64 * KIB: [2, 2, 2]}},
}
CROSSOVER_ANSWER = {"a2_vs_a1": {"1": 16 * KIB, "2": 64},
                    "a3_vs_a1": {"1": None, "2": 16 * KIB}}
RETRANS_ORDER = None      # set by crossover_sweep(): the order of the row with retransmits
TASK_CLOCK_NA_ORDER = None


def crossover_sweep():
    """Interleaved repeats; PMU-less; two failed runs; one run with retransmissions."""
    global RETRANS_ORDER, TASK_CLOCK_NA_ORDER
    sw = Sweep()
    for rep in range(3):
        for t, per_strategy in CROSSOVER_GBPS.items():
            for strategy, per_size in per_strategy.items():
                for size, reps in per_size.items():
                    extra = {}
                    if strategy == "a3":   # deferred copy: a3 spends more time in softirq
                        extra["host_cpu_softirq_s"] = 0.6
                        if (t, size) == (1, 64 * KIB):
                            extra["zc_copied"] = 500          # share 0.5 here, 1.0 elsewhere
                    elif strategy == "a2":
                        extra["host_cpu_softirq_s"] = 0.1
                    r = sw.add(strategy, size, t, rep + 1, reps[rep], **extra)
                    if (strategy, size, t, rep) == ("a2", 64 * KIB, 2, 1):
                        r["tcp_retrans"] = 7
                        RETRANS_ORDER = r["order"]
                    if (strategy, size, t, rep) == ("a1", 64, 1, 0):
                        r["srv_task_clock"] = "NA"           # falls back to rusage
                        r["srv_cpu_ns_per_byte"] = 0.25
                        TASK_CLOCK_NA_ORDER = r["order"]
    # Failed runs are named and never counted: this one would make a2 win at 1 KiB.
    sw.add("a2", KIB, 1, 4, 100.0, status="failed", reason="verify errors: 3",
           verify_errors=3)
    sw.add("a3", KIB, 1, 4, None, status="failed", reason="server never ready")
    return sw


# Request-response only. p50 at 64 B: a2's median (19) is lowest though its mean is not.
RR_P50 = {64: {"a1": [20, 21, 22], "a2": [18, 19, 40], "a3": [25, 25, 25]},
          16 * KIB: {"a1": [100, 100, 100], "a2": [90, 90, 90], "a3": [95, 95, 95]}}
RR_P99 = {64: {"a1": [50, 50, 50], "a2": [60, 60, 60], "a3": [55, 55, 55]},
          16 * KIB: {"a1": [200, 200, 200], "a2": [180, 180, 180], "a3": [150, 150, 150]}}


def rr_only_sweep():
    sw = Sweep()
    for rep in range(3):
        for size in RR_P50:
            for strategy in ("a1", "a2", "a3"):
                p50, p99 = RR_P50[size][strategy][rep], RR_P99[size][strategy][rep]
                sw.add(strategy, size, 1, rep + 1, 0.5, mode="rr", transactions=100000,
                       transactions_per_sec=50000, rtt_min_us=p50 * 0.8, rtt_mean_us=p50 * 1.1,
                       rtt_p50_us=p50, rtt_p90_us=(p50 + p99) / 2, rtt_p99_us=p99,
                       rtt_p999_us=p99 * 1.5, rtt_max_us=p99 * 3)
    return sw


def pmu_sweep():
    """A machine with a PMU; a1 only in its per-field variant; one multiplexed counter."""
    sw = Sweep(kernel="6.8.0-pmu", cpu_model="PMU CPU", link="lo", mtu=65536)
    for strategy, variant in (("a1", "per-field"), ("a2", "default"), ("a3", "default")):
        for size, gbps in ((4 * KIB, 8.0), (64 * KIB, 20.0)):
            r = sw.add(strategy, size, 1, 1, gbps * (1.1 if strategy == "a2" else 1.0),
                       variant=variant, pmu=True)
            r["srv_llc_load_misses_running_pct"] = 50
    return sw


# Two sweeps appended to one file: a --quick smoke run (1 s, one repeat), then a full sweep
# (2 s, three repeats). Only the full one may be used by default.
QUICK_ID, FULL_ID = "20250101T000000Z-100", "20250101T010000Z-200"
QUICK_GBPS = {"a1": {64: 50.0, 64 * KIB: 50.0}, "a2": {64: 90.0, 64 * KIB: 90.0}}
FULL_GBPS = {"a1": {64: [1, 2, 3], 64 * KIB: [4, 5, 6]},
             "a2": {64: [0.5, 1, 1.5], 64 * KIB: [7, 8, 9]}}   # medians 2, 5, 1, 8


def quick_then_full():
    quick = Sweep(duration=1.0, run_id=QUICK_ID, hour=0)
    for strategy, per_size in QUICK_GBPS.items():
        for size, gbps in per_size.items():
            quick.add(strategy, size, 1, 1, gbps)
    full = Sweep(duration=2.0, run_id=FULL_ID, hour=1)
    for rep in range(3):
        for strategy, per_size in FULL_GBPS.items():
            for size, reps in per_size.items():
                full.add(strategy, size, 1, rep + 1, float(reps[rep]))
    return quick, full


# A stream sweep, then an rr sweep, in one file: both are the latest of their mode.
STREAM_ID, RR_ID = "20250102T000000Z-300", "20250102T020000Z-400"


def stream_then_rr():
    stream = Sweep(run_id=STREAM_ID, hour=0)
    for strategy in ("a1", "a2"):
        for size in (64, 64 * KIB):
            stream.add(strategy, size, 1, 1, 3.0 if strategy == "a2" else 2.0)
    rr = Sweep(run_id=RR_ID, hour=2)
    for strategy in ("a1", "a2"):
        for size in (64, 64 * KIB):
            rr.add(strategy, size, 1, 1, 0.5, mode="rr", transactions=1000,
                   transactions_per_sec=500, rtt_p50_us=20.0 if strategy == "a1" else 30.0,
                   rtt_p99_us=50.0)
    return stream, rr


# Verdict fixture: six interleaved rounds whose machine state drifts (every strategy in a
# round is scaled by ROUND_FACTOR, as a shared machine does), so unpaired medians overlap
# while the per-round paired ratios a2/a1 below decide. Six rounds: the smallest number with
# a 95% order-statistic interval ([min, max], 96.9%).
ROUND_FACTOR = [1.0, 0.7, 1.3, 0.85, 1.15, 1.0]
A1_GBPS = {64: 1.0, KIB: 4.0, 16 * KIB: 10.0, 64 * KIB: 20.0}
NOISE = [0.90, 1.12, 0.96, 1.06, 1.03, 0.95]          # inside the noise: straddles 1
NOISE_UP = [1.08, 0.97, 1.10, 1.05, 1.09, 1.06]       # median 1.07, yet one round below 1
SMALL = [1.02, 1.03, 1.015, 1.04, 1.025, 1.03]        # small but consistent: resolved
SMALL2 = [1.05, 1.04, 1.06, 1.05, 1.045, 1.055]
SLOWER = [0.50, 0.52, 0.49, 0.51, 0.50, 0.48]
A2_RATIO = {1: {64: NOISE, KIB: NOISE_UP, 16 * KIB: SMALL, 64 * KIB: SMALL2},
            2: {64: SMALL, KIB: SMALL, 16 * KIB: SMALL, 64 * KIB: NOISE_UP}}
VERDICT_CROSSOVER = {"a2_vs_a1": {"1": 16 * KIB, "2": None},
                     "a3_vs_a1": {"1": None, "2": None}}
RR_A2_P50 = [0.95, 0.96, 0.94, 0.95, 0.97, 0.95]      # a2's p50 consistently lower
VERDICTS_ID = "20250201T000000Z-500"


def verdicts_sweep():
    """Stream at 1 and 2 threads, rr at 1 and 2 threads (64 B) and 1 thread (16 KiB); the
    1-thread runs keep 1.0 of 2 online CPUs busy, the 2-thread runs 2.0."""
    sw = Sweep(run_id=VERDICTS_ID)
    for rep, f in enumerate(ROUND_FACTOR):
        for t, per_size in A2_RATIO.items():
            busy = {"host_cpu_user_s": 0.3, "host_cpu_irq_s": 0.0, "host_cpu_softirq_s": 0.2,
                    "host_cpu_sys_s": 1.5 if t == 1 else 3.5, "cpus_online": 2}
            for strategy in ("a1", "a2", "a3"):
                for size, ratios in per_size.items():
                    k = {"a1": 1.0, "a2": ratios[rep], "a3": SLOWER[rep]}[strategy]
                    sw.add(strategy, size, t, rep + 1, round(A1_GBPS[size] * f * k, 6),
                           **busy)
        for t, size in ((1, 64), (2, 64), (1, 16 * KIB)):
            for strategy in ("a1", "a2", "a3"):
                a1_p50 = 20.0 * f * (1 + size / 16384)
                k50 = {"a1": 1.0, "a2": RR_A2_P50[rep], "a3": 1.1}[strategy]
                k99 = {"a1": 1.0, "a2": NOISE[rep], "a3": 1.1}[strategy]
                sw.add(strategy, size, t, rep + 1, 0.5, mode="rr", transactions=100000,
                       transactions_per_sec=50000, rtt_p50_us=round(a1_p50 * k50, 4),
                       rtt_p90_us=round(a1_p50 * 2, 4), rtt_p99_us=round(a1_p50 * 3 * k99, 4),
                       rtt_p999_us=round(a1_p50 * 5, 4), cpus_online=2)
    return sw


# Two machines in one file: a stream sweep on machine A, then an rr sweep on machine B.
MACHINE_A_ID, MACHINE_B_ID = "20250301T000000Z-600", "20250301T010000Z-700"


def machines_mixed():
    a = Sweep(run_id=MACHINE_A_ID, hour=0, kernel="6.1.0-a")
    for strategy in ("a1", "a2"):
        a.add(strategy, 64, 1, 1, 2.0)
    b = Sweep(run_id=MACHINE_B_ID, hour=1, kernel="6.8.0-b")
    for strategy in ("a1", "a2"):
        b.add(strategy, 64, 1, 1, 0.5, mode="rr", transactions=1000,
              transactions_per_sec=500, rtt_p50_us=20.0, rtt_p99_us=50.0)
    return a, b


# A family of pure noise (a2/a1 throughput, 28 points, 6 rounds) with one point whose six
# rounds all fall on one side: p = 2/2^6 = 3.1% alone, q = 28 × 3.1% = 0.875 in its family.
NOISE_ID = "20250501T000000Z-900"
NOISE_SIZES = [64 << (2 * i) for i in range(7)]          # 64 B .. 1 MiB
LONE_POINT = (64 * KIB, 1)                                # (size, threads)
LONE_RATIOS = [1.05, 1.08, 1.03, 1.06, 1.04, 1.07]


def noise_ratios(rnd):
    """Six a2/a1 ratios of pure noise with rounds on both sides of 1."""
    while True:
        xs = [round(rnd.lognormvariate(0, 0.1), 4) for _ in range(6)]
        if min(sum(x < 1 for x in xs), sum(x > 1 for x in xs)) >= 1:
            return xs


def noise_family_sweep():
    rnd = random.Random(20)
    sw = Sweep(run_id=NOISE_ID)
    ratios = {(z, t): LONE_RATIOS if (z, t) == LONE_POINT else noise_ratios(rnd)
              for t in (1, 2, 4, 8) for z in NOISE_SIZES}
    for rep in range(6):
        for (z, t), rs in ratios.items():
            a1 = 10.0 * z / (z + 2048) * (1 + 0.2 * t / 8)
            sw.add("a1", z, t, rep + 1, round(a1, 6))
            sw.add("a2", z, t, rep + 1, round(a1 * rs[rep], 6))
    return sw


# A planned run as the adaptive driver writes it (issue 19's columns): seed, pass, slot,
# dsack_share, precision, perf over the window, split placement, profiled rounds at every
# point. 64 KiB: a2 is a consistent 4% faster over 12 rounds (6 first + 6 extra); 1 MiB:
# a2 is the same as a1 within ±1% over 12 rounds; 4 KiB: noise, 6 rounds. a3 is 0.6× a1.
PLANNED_ID = "20250601T000000Z-1000"
PLANNED_COLUMNS = ("perf_interval", "window", "seed", "pass", "slot", "dsack_share",
                   "precision", "prof_user_copy", "prof_send_copy", "prof_zc_overhead",
                   "prof_deferred_copy", "prof_recv_copy", "prof_stack", "prof_user_other",
                   "prof_idle", "prof_foreign", "prof_samples")
PLANNED_ROUNDS = {4 * KIB: 6, 64 * KIB: 12, 1 << 20: 12}
FOUR_PCT = [1.040, 1.043, 1.037, 1.041, 1.039, 1.044, 1.036, 1.042, 1.040, 1.038, 1.045,
            1.041]
WITHIN_1PCT = [1.004, 0.996, 1.008, 0.993, 1.001, 0.997, 1.006, 0.995, 1.002, 0.999, 1.007,
               0.994]
PLANNED_NOISE = [0.93, 1.08, 0.97, 1.11, 0.95, 1.04]
PLANNED_A2 = {4 * KIB: PLANNED_NOISE, 64 * KIB: FOUR_PCT, 1 << 20: WITHIN_1PCT}
# CPU ns per byte received of each copy (a1, a2, a3) at every size; a profiled round scales
# them by PROF_ROUND[rep] and runs at PROF_SLOWDOWN of the unprofiled throughput.
PROF_NS = {"a1": {"user_copy": 0.30, "send_copy": 0.25, "zc_overhead": 0.0,
                  "deferred_copy": 0.0, "recv_copy": 0.22, "stack": 0.40, "user_other": 0.02},
           "a2": {"user_copy": 0.0, "send_copy": 0.27, "zc_overhead": 0.0,
                  "deferred_copy": 0.0, "recv_copy": 0.22, "stack": 0.41, "user_other": 0.02},
           "a3": {"user_copy": 0.0, "send_copy": 0.01, "zc_overhead": 0.12,
                  "deferred_copy": 0.26, "recv_copy": 0.22, "stack": 0.45, "user_other": 0.02}}
PROF_ROUND = [1.0, 1.02, 0.98, 1.01, 0.99, 1.03]
PROF_SLOWDOWN = 0.9


def planned_sweep():
    sw = Sweep(run_id=PLANNED_ID, duration=1.0)
    sw.env["placement"] = "srv=0;cli=1"
    common = {"perf_interval": "window", "window": "measured", "seed": 4242,
              "precision": 0.05}
    for rep in range(12):
        for z, rounds in PLANNED_ROUNDS.items():
            if rep >= rounds:
                continue
            drift = 1 + 0.1 * ((rep * 7) % 5 - 2) / 2         # the machine's state, per round
            a1 = 10.0 * z / (z + 4096) * drift
            gbps = {"a1": a1, "a2": a1 * PLANNED_A2[z][rep], "a3": a1 * 0.6}
            order = ["a1", "a2", "a3"][rep % 3:] + ["a1", "a2", "a3"][:rep % 3]
            for slot, strategy in enumerate(order):
                r = sw.add(strategy, z, 1, rep + 1, round(gbps[strategy], 6),
                           **common, slot=slot, **{"pass": "first" if rep < 6 else "extra"})
                r["srv_task_clock"] = 900.0
                r["srv_bytes_sent"] = int(r["bytes"] * 1.3)   # the whole life: more bytes
                r["host_cpu_ns_per_byte"] = 2.4e9 / r["bytes"]
                if rep % 2 == 0:
                    r["tcp_retrans"] = 100 * (slot + 1)
                    r["dsack_share"] = 0.9 + 0.02 * slot
                else:
                    r["dsack_share"] = ""
        if rep < 6:                                        # profiled rounds, 6 per point
            for z in PLANNED_ROUNDS:
                for slot, strategy in enumerate(("a1", "a2", "a3")):
                    ns = {c: v * PROF_ROUND[rep] for c, v in PROF_NS[strategy].items()}
                    total = sum(ns.values())
                    gbps = 10.0 * z / (z + 4096) * (0.6 if strategy == "a3" else 1) * \
                        PROF_SLOWDOWN
                    r = sw.add(strategy, z, 1, rep + 1, round(gbps, 6), **common,
                               slot=3 + slot, **{"pass": "first"},
                               prof_idle=0.1, prof_foreign=0.01, prof_samples=4000,
                               **{f"prof_{c}": round(v, 6) for c, v in ns.items()})
                    r["host_cpu_ns_per_byte"] = round(total / 0.8, 6)
    return sw


def bad_fixtures():
    """name -> text of the malformed CSVs."""
    good = crossover_sweep().text().splitlines(keepends=True)
    header = good[0].rstrip("\n").split(",")
    no_col = [",".join(c for c in header if c != "throughput_gbps") + "\n"]
    idx = header.index("throughput_gbps")
    row = good[2].rstrip("\n").split(",")
    row[idx] = "fast"
    return {
        "empty.csv": "",
        "header_only.csv": good[0],
        "missing_column.csv": "".join(no_col + [",".join(
            c for i, c in enumerate(line.rstrip("\n").split(",")) if i != idx) + "\n"
            for line in good[1:3]]),
        "non_numeric.csv": "".join(good[:2] + [",".join(row) + "\n"] + good[3:5]),
        "ragged.csv": "".join(good[:3] + [good[3].rstrip("\n") + ",extra\n"]),
    }


def fixture_texts():
    texts = {"crossover.csv": crossover_sweep().text(), "rr_only.csv": rr_only_sweep().text(),
             "pmu.csv": pmu_sweep().text()}
    quick, full = quick_then_full()
    texts["runs_quick_full.csv"] = quick.text(full)
    stream, rr = stream_then_rr()
    texts["runs_stream_rr.csv"] = stream.text(rr)
    texts["verdicts.csv"] = verdicts_sweep().text(extra=("cpus_online",))
    ma, mb = machines_mixed()
    texts["machines_mixed.csv"] = ma.text(mb)
    one_run_two_kernels = Sweep(run_id="20250401T000000Z-800")
    one_run_two_kernels.add("a1", 64, 1, 1, 2.0)
    one_run_two_kernels.add("a2", 64, 1, 1, 2.0)["kernel"] = "6.9.0-other"
    texts["run_two_kernels.csv"] = one_run_two_kernels.text()
    texts["noise_family.csv"] = noise_family_sweep().text()
    texts["planned.csv"] = planned_sweep().text(extra=PLANNED_COLUMNS)
    texts.update(bad_fixtures())
    return texts


def realistic_sweep(pmu=False, seed=7):
    """3 strategies (+ a1 per-field) × 64 B..1 MiB × 1,2,4,8 threads × 3 repeats, plus rr."""
    rnd = random.Random(seed)
    sw = Sweep(kernel="6.1.0-28-cloud-amd64", cpu_model="Intel(R) Xeon(R) CPU @ 2.20GHz",
               duration=10.0)
    sizes = [64 << (2 * i) for i in range(8)]

    def factor(strategy, size):
        if strategy == "a2":
            return 0.85 if size <= 256 else 1.0 if size <= 4 * KIB else 1.08
        if strategy == "a3":
            return 0.5 if size <= 1 * KIB else 0.8 if size <= 4 * KIB else \
                0.95 if size <= 64 * KIB else 1.02
        if strategy == "a1pf":
            return 0.7 if size <= 1 * KIB else 0.93
        return 1.0
    scale = {1: 1.0, 2: 1.55, 4: 1.62, 8: 1.58}
    for rep in range(3):
        for t in (1, 2, 4, 8):
            for strategy in ("a1", "a1pf", "a2", "a3"):
                for size in sizes:
                    base = 18.0 * size / (size + 2048)
                    gbps = base * factor(strategy, size) * scale[t] * rnd.uniform(0.95, 1.05)
                    name, variant = ("a1", "per-field") if strategy == "a1pf" else \
                        (strategy, "default")
                    r = sw.add(name, size, t, rep + 1, round(gbps, 4), variant=variant,
                               pmu=pmu)
                    nbytes = r["bytes"]
                    busy = min(t, 2) * 10.0 * rnd.uniform(0.8, 0.95)
                    for side in ("srv", "cli"):
                        r[f"{side}_task_clock"] = round(busy * 1000, 2)
                        r[f"{side}_context_switches"] = int(
                            100 * t + nbytes / 2e6 * (1.6 if strategy == "a3" else 1.0))
                        if pmu:
                            cyc = busy * 2.2e9
                            llc = nbytes / 1024 * {"a1": 6, "a2": 4, "a3": 3}[name] * \
                                (1 + 64 / size * 20)
                            r.update({f"{side}_cycles": int(cyc),
                                      f"{side}_instructions": int(cyc * 1.3),
                                      f"{side}_cycles_per_byte": cyc / nbytes,
                                      f"{side}_llc_load_misses": int(llc),
                                      f"{side}_cache_misses": int(llc * 2),
                                      f"{side}_cache_references": int(llc * 9),
                                      f"{side}_l1_dcache_load_misses": int(llc * 12)})
                    r["srv_cpu_user_s"] = round(busy * 0.2, 3)
                    r["srv_cpu_sys_s"] = round(busy * 0.75, 3)
                    r["cli_cpu_user_s"] = round(busy * 0.15, 3)
                    r["cli_cpu_sys_s"] = round(busy * 0.8, 3)
                    r["srv_cpu_ns_per_byte"] = busy * 0.95e9 / nbytes
                    r["cli_cpu_ns_per_byte"] = busy * 0.95e9 / nbytes
                    soft = 10.0 * (0.5 if name == "a3" and size >= 16 * KIB else 0.3)
                    r["host_cpu_softirq_s"] = round(soft, 3)
                    r["host_cpu_ns_per_byte"] = (2 * busy + soft) * 1e9 / nbytes
                    if name == "a3":
                        r["zc_completions"] = r["messages"]
                        r["zc_copied"] = r["messages"]
                    if (rep, t, strategy, size) == (1, 4, "a2", 256 * KIB):
                        r["tcp_retrans"] = 3
    for rep in range(3):
        for strategy in ("a1", "a2", "a3"):
            for size in sizes:
                p50 = (30 + size * 8 / 8e9 * 1e6) * rnd.uniform(0.9, 1.1) * \
                    {"a1": 1.0, "a2": 0.97, "a3": 1.1}[strategy]
                sw.add(strategy, size, 1, rep + 1, round(size * 8 / p50 / 1e3, 4), mode="rr",
                       pmu=pmu, transactions=int(10e6 / p50),
                       transactions_per_sec=round(1e6 / p50, 1),
                       rtt_min_us=round(p50 * 0.8, 2), rtt_mean_us=round(p50 * 1.1, 2),
                       rtt_p50_us=round(p50, 2), rtt_p90_us=round(p50 * 1.4, 2),
                       rtt_p99_us=round(p50 * 2.5, 2), rtt_p999_us=round(p50 * 4, 2),
                       rtt_max_us=round(p50 * 9, 2))
    sw.add("a3", 1 << 20, 8, 4, None, status="failed", reason="client timed out")
    return sw


# ---- helpers --------------------------------------------------------------------------

def run_script(*args, python=None, env=None):
    return subprocess.run([python or sys.executable, SCRIPT, *args], capture_output=True,
                          text=True, timeout=300, env=env, cwd=ROOT)


def strict_json(name):
    """json parse_constant: summary.json must be strict JSON (no NaN, Infinity)."""
    raise AssertionError(f"summary.json holds {name}, which is not JSON")


def hide_matplotlib(tmp):
    """A package 'matplotlib' in tmp that fails to import (put tmp on PYTHONPATH)."""
    os.makedirs(os.path.join(tmp, "matplotlib"))
    with open(os.path.join(tmp, "matplotlib", "__init__.py"), "w") as f:
        f.write("raise ImportError('hidden for this test')\n")


def fixture(name):
    return os.path.join(FIXTURES, name)


def section(report, title_start):
    """Text of the report section whose heading starts with title_start."""
    for part in report.split("\n## ")[1:]:
        if part.startswith(title_start):
            return part
    raise AssertionError(f"no section '{title_start}' in report.md")


class Outputs:
    """The script's outputs for a fixture, made once per fixture."""
    cache = {}
    tmp = None

    @classmethod
    def of(cls, name, *extra):
        key = (name, extra)
        if key not in cls.cache:
            if cls.tmp is None:
                cls.tmp = tempfile.mkdtemp(prefix="test_plot_results.")
            out = os.path.join(cls.tmp, f"{name}-{len(cls.cache)}")
            src = name if os.path.isabs(name) else fixture(name)
            proc = run_script(src, "--out", out, *extra)
            if proc.returncode != 0:
                raise AssertionError(f"exit {proc.returncode}: {proc.stderr.strip()}")
            with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
                summary = json.load(f, parse_constant=strict_json)
            with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
                report = f.read()
            cls.cache[key] = (out, summary, report, proc)
        return cls.cache[key]


# ---- tests ----------------------------------------------------------------------------

class TestContract(unittest.TestCase):
    def test_columns_match_interface(self):
        self.assertEqual(list(pr.COLUMNS), CSV_COLUMNS)

    def test_fixtures_up_to_date(self):
        for name, text in fixture_texts().items():
            with open(fixture(name), encoding="utf-8") as f:
                self.assertEqual(f.read(), text, f"{name} differs from the generator: "
                                 "run with --write-fixtures")

    def test_script_executable_with_env_shebang(self):
        self.assertTrue(os.access(SCRIPT, os.X_OK), "plot_results.py not executable")
        with open(SCRIPT, encoding="utf-8") as f:
            self.assertEqual(f.readline().strip(), "#!/usr/bin/env python3")

    def test_size_labels(self):
        self.assertEqual([pr.fmt_size(s) for s in (64, 1024, 65536, 1 << 20, 1500)],
                         ["64 B", "1 KiB", "64 KiB", "1 MiB", "1500 B"])
        self.assertEqual(pr.parse_size("64K"), 65536)
        self.assertEqual(pr.parse_size("1MiB"), 1 << 20)


    def test_focus_choices(self):
        self.assertEqual(pr.pick_threads([1, 2, 4], None), (1, ""))
        self.assertEqual(pr.pick_threads([2, 4], 3), (2, "3 threads not measured; showing 2"))
        self.assertEqual(pr.pick_size([64, 1024, 65536], None), (65536, ""))
        self.assertEqual(pr.pick_size([64, 1024], 2048),
                         (1024, "2 KiB not measured; showing 1 KiB"))


class TestCrossover(unittest.TestCase):
    """crossover.csv has three rounds: its medians differ, but no verdict can be given."""

    def test_crossover_summary_json(self):
        # the old median rule said a2 from 16 KiB / 64 B, a3 null / 16 KiB; three rounds
        # cannot resolve any of it at 95%, so nothing is a crossover now
        _, summary, _, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["crossover"], {"a2_vs_a1": {"1": None, "2": None},
                                                "a3_vs_a1": {"1": None, "2": None}})
        self.assertTrue(all(c["verdict"] == "cannot tell" for c in summary["comparisons"]))
        self.assertTrue(all(c["reason"].startswith("too few rounds (3;")
                            for c in summary["comparisons"]))

    def test_crossover_report_md(self):
        _, _, report, _ = Outputs.of("crossover.csv")
        a2 = section(report, "Where a2 one-copy")
        self.assertIn("- 1 thread: **none** — cannot tell at 64 B, 1 KiB, 16 KiB, 64 KiB "
                      "(too few rounds)", a2)
        # a2/a1 at 1 KiB, 1 thread: rounds 1/2, 1/2, 10/2 -> median 0.5, [min, max] 0.5–5;
        # no outcome of 3 rounds can be resolved: the smallest detectable difference is ∞
        self.assertIn("| 1 | 0.50 [0.50–0.50] ? ±∞ | 0.50 [0.50–5.00] ? ±∞ |", a2)
        self.assertIn("With 3 rounds no 95% interval exists: [square brackets] are [min, "
                      "max], covering the median with only 75.0%", report)
        says = section(report, "What this run says")
        self.assertIn("**Nothing here is resolved: too few rounds.** Every comparison rests "
                      "on 3 paired rounds", says)

    def test_crossover_rule(self):
        cross = pr.crossover_from_verdicts
        self.assertEqual(cross({64: "slower", KIB: "unresolved", 4 * KIB: "faster",
                                16 * KIB: "faster"}), 4 * KIB)
        self.assertEqual(cross({64: "faster", KIB: "faster"}), 64)
        # a faster size followed by an unresolved or slower one is no crossover
        self.assertIsNone(cross({64: "faster", KIB: "unresolved"}))
        self.assertIsNone(cross({64: "faster", KIB: "faster", 4 * KIB: "slower"}))
        self.assertIsNone(cross({}))

    def test_failed_rows_excluded_and_named(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["rows"]["failed"], 2)
        self.assertEqual(summary["rows"]["ok"], 72)
        reasons = sorted(f["reason"] for f in summary["failed_runs"])
        self.assertEqual(reasons, ["server never ready", "verify errors: 3"])
        self.assertIn("run 20250101T000000Z/73", report)
        self.assertIn("verify errors: 3", report)
        # the failed 100 Gbit/s a2 run would otherwise move a2's median at 1 KiB, 1 thread
        best = {(b["msg_size"], b["threads"]): b for b in summary["best"]}
        self.assertEqual(best[(KIB, 1)]["medians"], {"a1": 2, "a2": 1, "a3": 1})

    def test_best_per_point(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        highest = {(b["msg_size"], b["threads"]): max(b["medians"].items(),
                                                      key=lambda kv: kv[1])
                   for b in summary["best"]}
        self.assertEqual(highest, {
            (64, 1): ("a3", 2), (KIB, 1): ("a1", 2), (16 * KIB, 1): ("a2", 4.5),
            (64 * KIB, 1): ("a2", 6), (64, 2): ("a2", 3), (KIB, 2): ("a1", 3),
            (16 * KIB, 2): ("a2", 7), (64 * KIB, 2): ("a2", 5)})
        # the highest median wins nothing with three rounds: no winner from unpaired medians
        self.assertFalse(any(b["resolved"] for b in summary["best"]))
        self.assertTrue(all(b["leaders"] == ["a1", "a2", "a3"] for b in summary["best"]))
        self.assertIn("| 16 KiB | a1 ? a2 ? a3 | a1 ? a2 ? a3 |", report)
        self.assertIn("Resolved wins: none; the same within ±5% at 0; no single winner at 8 "
                      "of 8 points.", report)

    def test_scaling_efficiency(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        eff = {(e["strategy"], e["msg_size"], e["threads"]): e["efficiency"]
               for e in summary["scaling_efficiency"]}
        self.assertAlmostEqual(eff[("a1", 64, 2)], 1.0)            # 2 / (2 × 1)
        self.assertAlmostEqual(eff[("a2", 64 * KIB, 2)], 5 / 12)   # 5 / (2 × 6)
        self.assertAlmostEqual(eff[("a1", 64 * KIB, 2)], 0.1)      # median 1 / (2 × 5)
        # a1, a2, a3 at 64 KiB: 1 / (2 × 5), 5 / (2 × 6), 2 / (2 × 4)
        self.assertIn("| size | a1 T=2 | a2 T=2 | a3 T=2 |", report)
        self.assertIn("| 64 KiB | 10% | 42% | 25% |", report)


class TestData(unittest.TestCase):
    def test_zc_copied_share(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        shares = {(z["msg_size"], z["threads"]): z["share"] for z in summary["zc_copied_share"]}
        self.assertEqual(len(shares), 8)
        self.assertEqual(shares[(64 * KIB, 1)], 0.5)
        self.assertTrue(all(v == 1.0 for k, v in shares.items() if k != (64 * KIB, 1)))
        self.assertIn("| size | 1 thread | 2 threads |", report)
        self.assertIn("| 64 KiB | 50.0% | 100.0% |", report)
        self.assertIn("Mixed: the copied share ranges from 50.0% to 100.0%", report)

    def test_cpu_falls_back_without_pmu(self):
        rows = pr.load_rows(fixture("crossover.csv"))
        ok = [r for r in rows if r.ok]
        metric, label, text = pr.cpu_cost_metric(ok, "srv")
        self.assertEqual(label, "CPU-ns per byte (task-clock;\nrusage where NA)")
        self.assertIn("cycles not available (no PMU): showing CPU-ns per byte from "
                      "task-clock", text)
        self.assertIn("task-clock NA in 1 row: rusage CPU time used there", text)
        by_order = {int(r.raw["order"]): r for r in ok}
        r = by_order[2]   # a1 1 KiB, 1 thread, 2 Gbit/s for 2 s, task-clock 1500 ms
        self.assertAlmostEqual(metric(r), 1500e6 / 500_000_000)
        self.assertAlmostEqual(metric(by_order[TASK_CLOCK_NA_ORDER]), 0.25)  # rusage

    def test_cpu_uses_cycles_with_pmu(self):
        rows = [r for r in pr.load_rows(fixture("pmu.csv")) if r.ok]
        metric, label, text = pr.cpu_cost_metric(rows, "srv")
        self.assertEqual((label, text), ("cycles per byte (perf)", ""))
        self.assertAlmostEqual(metric(rows[0]), 3.3e9 / (8e9 / 8 * 2))

    def test_na_is_skipped_never_zero(self):
        rows = [r for r in pr.load_rows(fixture("crossover.csv")) if r.ok]
        agg = pr.aggregate(rows, pr.col("srv_cycles"))
        self.assertEqual((agg.stats, agg.missing, agg.rows), ({}, 72, 72))
        zc = pr.aggregate(rows, pr.zc_copied_share)          # empty for a1/a2
        self.assertEqual(zc.missing, 48)
        self.assertEqual({k[0].strategy for k in zc.stats}, {"a3"})
        tc = pr.aggregate(rows, pr.col("srv_task_clock"))     # one NA among 3 repeats
        key = (pr.Series("a1", "default"), 64, 1)
        self.assertEqual(tc.stats[key].n, 2)
        self.assertEqual(tc.stats[key].lo, 1500.0)

    def test_unavailable_counters(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        expected = [f"{side}_{e}" for side in ("srv", "cli") for e in PMU_EVENTS]
        self.assertEqual(summary["unavailable_counters"], expected)
        self.assertEqual(summary["partially_unavailable_counters"], {"srv_task_clock": 1})
        self.assertIn("counters unavailable (NA in every ok row): srv_cycles, ", report)
        _, pmu, pmu_report, _ = Outputs.of("pmu.csv")
        self.assertEqual(pmu["unavailable_counters"], [])
        self.assertEqual(pmu["multiplexed_counters"],
                         {"srv_llc_load_misses": {"rows": 6, "min_running_pct": 50.0}})

    def test_environment(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        env = summary["environment"]
        self.assertEqual((env["kernel"], env["cpu_model"], env["link"], env["mtu"]),
                         ("6.1.0-test", "Test CPU @ 1.00GHz", "veth", 1500))
        self.assertIn("- kernel: 6.1.0-test", report)
        self.assertIn("- link: veth, MTU 1500", report)

    def test_retransmissions_named(self):
        out, summary, report, _ = Outputs.of("crossover.csv")
        with open(os.path.join(out, "retransmissions.csv"), encoding="utf-8") as f:
            runs = list(csv.DictReader(f))
        self.assertEqual([(r["order"], r["tcp_retrans"], r["strategy"], r["msg_size"],
                           r["threads"], r["repeat"], r["dsack_share"]) for r in runs],
                         [(str(RETRANS_ORDER), "7", "a2", str(64 * KIB), "2", "2", "")])
        self.assertEqual(summary["retransmitted_runs"], 1)
        a2 = [g for g in summary["retransmissions"] if g["strategy"] == "a2"][0]
        self.assertEqual((a2["affected"], a2["runs"], a2["median_per_affected_run"],
                          a2["dsack_share_median"]), (1, 25, 7, None))
        text = section(report, "Runs with TCP retransmissions")
        self.assertIn("1 runs had retransmissions", text)
        self.assertIn("| stream | a2 one-copy | 1 of 25 | 7.00 | 7.00 | not recorded |", text)
        # the series without a retransmission are named on one line, not given table rows
        self.assertNotIn("| stream | a1 two-copy |", text)
        self.assertIn("No retransmission in any run of: stream a1 two-copy (24), stream a3 zero-copy (25).", text)

    def test_cpu_softirq_a3_vs_a2(self):
        # paired and corrected, not median counts: a3's softirq per byte is above a2's in
        # every round, but three rounds cannot resolve it
        _, summary, report, _ = Outputs.of("crossover.csv")
        soft = comps_of(summary, "a3", "host_softirq_ns_per_byte", b="a2")
        self.assertEqual(len(soft), 8)
        c = soft[(1, 64)]
        self.assertEqual(c["b"], "a2")
        # 0.6 s over 2 Gbit/s × 2 s  vs  0.1 s over 0.5 Gbit/s × 2 s
        self.assertAlmostEqual(c["ratio"], (0.6e9 / 500_000_000) / (0.1e9 / 125_000_000))
        self.assertTrue(all(c["verdict"] == "cannot tell" and c["above"] == 3
                            for c in soft.values()))
        text = section(report, "Where the CPU went")
        self.assertIn("a3 vs a2, host softirq CPU per byte (paired, corrected): more at 0, "
                      "less at 0, the same at 0, cannot tell at 8 of 8 points.", text)
        self.assertIn("so the data do not show a copy deferred into softirq", text)
        _, summary, report, _ = Outputs.of("verdicts.csv")
        text = section(report, "Where the CPU went")
        self.assertIn("a3 vs a2, host-wide CPU per byte (paired, corrected): more at 8", text)

    def test_no_rr_rows_said_plainly(self):
        out, summary, report, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["latency"], [])
        self.assertIn("No request-response (mode rr) rows", report)
        self.assertTrue(os.path.getsize(os.path.join(out, "latency.png")) > 0)

    def test_rr_latency_answers(self):
        # three rounds: the lowest medians (a2 at 64 B p50, a3 at 16 KiB p99) win nothing
        out, summary, report, _ = Outputs.of("rr_only.csv")
        lat = {e["msg_size"]: e for e in summary["latency"]}
        self.assertEqual(lat[64]["p50"]["medians"], {"a1": 21, "a2": 19, "a3": 25})
        self.assertEqual(lat[16 * KIB]["p99"]["medians"], {"a1": 200, "a2": 180, "a3": 150})
        self.assertFalse(any(e[p]["resolved"] for e in lat.values() for p in ("p50", "p99")))
        self.assertIn("| 64 B | 1 | a1 ? a2 ? a3 | a1 ? a2 ? a3 |", report)
        # no stream rows: the stream questions are declined, not answered with zeros
        self.assertEqual(summary["crossover"], {"a2_vs_a1": {}, "a3_vs_a1": {}})
        self.assertIn("The data cannot answer this", report)

    def test_per_field_only_baseline(self):
        _, summary, report, _ = Outputs.of("pmu.csv")
        self.assertEqual(summary["baseline"]["variant"], "per-field")
        self.assertIn("only the per-field variant of a1 was measured", report)
        self.assertEqual(summary["crossover"]["a2_vs_a1"], {"1": None})   # one round
        self.assertEqual({(c["a"], c["b"]) for c in summary["comparisons"]},
                         {("a2", "a1/per-field"), ("a3", "a1/per-field"), ("a3", "a2")})
        self.assertEqual(summary["environment"]["mtu"], 65536)


def medians(summary):
    """{(strategy, msg_size): median Gbit/s} at 1 thread, from crossover_detail and best."""
    out = {}
    for p in summary["crossover_detail"]["a2_vs_a1"].get("1", []):
        out[("a2", p["msg_size"])] = p["median_gbps"]
        out[("a1", p["msg_size"])] = p["a1_median_gbps"]
    return out


class TestRuns(unittest.TestCase):
    """Sweeps appended to one CSV are not pooled unless asked, and never silently."""

    def test_default_uses_latest_full_sweep_not_quick(self):
        _, summary, report, _ = Outputs.of("runs_quick_full.csv")
        self.assertEqual(summary["repeats"], {"min": 3, "max": 3})
        self.assertEqual(medians(summary), {("a1", 64): 2, ("a1", 64 * KIB): 5,
                                            ("a2", 64): 1, ("a2", 64 * KIB): 8})
        self.assertEqual(summary["crossover"]["a2_vs_a1"], {"1": None})   # 3 rounds
        runs = summary["runs"]
        self.assertEqual((runs["selection"], runs["run_ids"], runs["by_mode"]),
                         ("latest", [FULL_ID], {"stream": FULL_ID}))
        self.assertEqual((runs["rows_left_out"], runs["run_ids_left_out"]), (4, [QUICK_ID]))
        self.assertEqual(summary["rows"]["total"], 12)
        self.assertIn("Rounds per point: 3 rounds.", report)
        self.assertIn(f"Runs used (--run-id latest): stream: `{FULL_ID}`. 4 rows of 1 other "
                      f"run (`{QUICK_ID}`) left out", report)

    def test_explicit_run_id(self):
        _, summary, report, _ = Outputs.of("runs_quick_full.csv", "--run-id", QUICK_ID)
        self.assertEqual(summary["repeats"], {"min": 1, "max": 1})
        self.assertEqual(medians(summary), {("a1", 64): 50, ("a1", 64 * KIB): 50,
                                            ("a2", 64): 90, ("a2", 64 * KIB): 90})
        self.assertEqual(summary["runs"]["run_ids"], [QUICK_ID])
        self.assertEqual(summary["runs"]["rows_left_out"], 12)
        self.assertIn(f"Runs used (--run-id {QUICK_ID}): stream: `{QUICK_ID}`.", report)

    def test_stream_then_rr_both_used(self):
        _, summary, report, _ = Outputs.of("runs_stream_rr.csv")
        self.assertEqual((summary["rows"]["stream_ok"], summary["rows"]["rr_ok"]), (4, 4))
        self.assertEqual(summary["runs"]["by_mode"], {"stream": STREAM_ID, "rr": RR_ID})
        self.assertEqual(summary["runs"]["rows_left_out"], 0)
        self.assertEqual(len(summary["best"]), 2)
        self.assertEqual([e["p50"]["medians"] for e in summary["latency"]],
                         [{"a1": 20, "a2": 30}] * 2)
        self.assertIn("No rows left out.", report)

    def test_all_pools_runs_of_different_modes(self):
        _, summary, _, _ = Outputs.of("runs_stream_rr.csv", "--run-id", "all")
        self.assertEqual(summary["runs"]["run_ids"], [STREAM_ID, RR_ID])

    def refused(self, run_ids, message):
        path = fixture("runs_quick_full.csv")
        proc = run_script(path, "--run-id", run_ids,
                          "--out", os.path.join(tempfile.gettempdir(), "never-written"))
        self.assertEqual((proc.returncode, proc.stdout), (1, ""), proc.stderr)
        self.assertEqual(proc.stderr, f"fatal: {path}: {message}\n")

    def test_all_with_different_durations_refused(self):
        message = (f"cannot pool runs {QUICK_ID} (line 2) and {FULL_ID} (line 6): "
                   "duration_s differs (1 vs 2) for stream a1 two-copy, 64 B, 1 thread; "
                   "choose runs with --run-id ID[,ID...]")
        self.refused("all", message)
        self.refused(f"{QUICK_ID},{FULL_ID}", message)

    def test_unknown_run_id_refused(self):
        self.refused("nope", f"--run-id nope: no such run_id (the file has: {QUICK_ID}, "
                     f"{FULL_ID})")


class TestCpuSources(unittest.TestCase):
    """Sender/receiver CPU per byte: which source each number is from, in both outputs."""

    def test_report_shows_both_sources_labelled(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        cpu = section(report, "Where the CPU went")
        self.assertIn("| size | sender a1 | sender a2 | sender a3 | receiver a1 | receiver a2 "
                      "| receiver a3 | host a1 |", cpu)
        # a1, 1 KiB, 1 thread: 2 Gbit/s for 2 s = 5e8 B; task-clock 1500 ms over the whole
        # life (no perf_interval column: a CSV from before the window); rusage 1.4/1.5 s
        self.assertIn("| 1 KiB | 3.00 | 6.00 | 6.00 | 3.00 |", cpu)
        self.assertIn("perf task-clock over each process's whole life, per byte of the whole "
                      "run (srv_bytes_sent)", cpu)
        self.assertIn("Figure cpu_per_byte plots sender (server): CPU-ns per byte "
                      "(task-clock; rusage where NA); receiver (client): CPU-ns per byte "
                      "(perf task-clock).", cpu)
        e = next(e for e in summary["cpu_per_byte"] if (e["strategy"], e["msg_size"],
                                                         e["threads"]) == ("a1", KIB, 1))
        self.assertAlmostEqual(e["srv_task_clock_ns_per_byte"], 3.0)
        self.assertAlmostEqual(e["srv_cpu_ns_per_byte"], 2.8)

    def test_figure_labels_its_source(self):
        out, _, _, _ = Outputs.of("crossover.csv")
        with open(os.path.join(out, "cpu_per_byte.svg"), encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("CPU-ns per byte (perf task-clock)", svg)
        self.assertIn("rusage where NA)", svg)

    def test_pmu_figure_named_in_report(self):
        _, _, report, _ = Outputs.of("pmu.csv")
        self.assertIn("Figure cpu_per_byte plots sender (server): cycles per byte (perf); "
                      "receiver (client): cycles per byte (perf).", report)

    def test_rusage_only(self):
        rows = [r for r in pr.load_rows(fixture("crossover.csv")) if r.ok]
        for r in rows:
            r.num["srv_task_clock"] = None
        metric, label, text = pr.cpu_cost_metric(rows, "srv")
        self.assertEqual(label, "CPU-ns per byte (rusage)")
        self.assertIn("showing CPU-ns per byte from rusage", text)
        self.assertAlmostEqual(metric(rows[1]), 2.8)


class TestFigures(unittest.TestCase):
    def check_files(self, out):
        for name in FIGURES:
            for ext, magic in ((".png", b"\x89PNG"), (".svg", b"<?xml")):
                path = os.path.join(out, name + ext)
                self.assertTrue(os.path.isfile(path), f"{name}{ext} not written")
                with open(path, "rb") as f:
                    self.assertEqual(f.read(5)[:len(magic)], magic, f"{name}{ext} malformed")
        for name in ("report.md", "summary.json"):
            self.assertTrue(os.path.getsize(os.path.join(out, name)) > 0, name)

    def test_every_figure_written(self):
        out, _, _, proc = Outputs.of("crossover.csv")
        self.check_files(out)
        self.assertIn("summary.json", proc.stdout)
        self.assertEqual(proc.stderr, "")

    def test_every_figure_written_rr_only(self):
        self.check_files(Outputs.of("rr_only.csv")[0])

    def test_every_figure_written_pmu(self):
        self.check_files(Outputs.of("pmu.csv")[0])

    def test_no_pmu_note_in_figure(self):
        out, _, _, _ = Outputs.of("crossover.csv")
        with open(os.path.join(out, "cpu_per_byte.svg"), encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("cycles not available (no PMU)", svg)
        self.assertIn("sender (server)", svg)
        self.assertIn("receiver (client)", svg)

    def test_realistic_sweep(self):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.real.")
        try:
            path = os.path.join(tmp, "results.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(realistic_sweep().text())
            out = os.path.join(tmp, "plots")
            proc = run_script(path, "--out", out)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.check_files(out)
            with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
                summary = json.load(f)
            self.assertEqual(sorted(summary["crossover"]["a2_vs_a1"]), ["1", "2", "4", "8"])
            self.assertEqual(len(summary["best"]), 8 * 4)
            self.assertEqual(len(summary["latency"]), 8)
        finally:
            shutil.rmtree(tmp)


class TestBadInput(unittest.TestCase):
    def refused(self, path, message, code=1):
        proc = run_script(path, "--out", os.path.join(tempfile.gettempdir(), "never-written"))
        self.assertEqual(proc.returncode, code, proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)
        self.assertEqual(proc.stderr, message + "\n")
        self.assertEqual(proc.stdout, "")

    def test_missing_file(self):
        path = fixture("does_not_exist.csv")
        self.refused(path, f"fatal: {path}: no such file")

    def test_empty_file(self):
        path = fixture("empty.csv")
        self.refused(path, f"fatal: {path}: empty file (expected the CSV header)")

    def test_header_only(self):
        path = fixture("header_only.csv")
        self.refused(path, f"fatal: {path}: no data rows after the header")

    def test_missing_column(self):
        path = fixture("missing_column.csv")
        self.refused(path, f"fatal: {path}:1: missing columns: throughput_gbps")

    def test_non_numeric_cell(self):
        path = fixture("non_numeric.csv")
        self.refused(path, f"fatal: {path}:3: column throughput_gbps: not a number: 'fast'")

    def test_ragged_row(self):
        path = fixture("ragged.csv")
        n = len(CSV_COLUMNS)
        self.refused(path, f"fatal: {path}:4: {n + 1} fields, the header has {n}")

    def test_bad_usage_exit_2(self):
        proc = run_script(fixture("crossover.csv"), "--threads", "0")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("must be >= 1", proc.stderr)
        self.assertNotIn("Traceback", proc.stderr)

    def test_matplotlib_missing_message(self):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.nompl.")
        try:
            hide_matplotlib(tmp)
            env = dict(os.environ, PYTHONPATH=tmp)
            proc = run_script(fixture("crossover.csv"), "--out", os.path.join(tmp, "out"),
                              env=env)
            self.assertEqual(proc.returncode, 1, proc.stderr)
            self.assertEqual(proc.stderr, f"fatal: matplotlib not found for {sys.executable}; "
                             "install it with: sudo apt-get install python3-matplotlib\n")
        finally:
            shutil.rmtree(tmp)

    def test_reexec_from_python_without_matplotlib(self):
        if not os.access(pr.SYSTEM_PYTHON, os.X_OK) or subprocess.run(
                [pr.SYSTEM_PYTHON, "-c", "import matplotlib"], capture_output=True).returncode:
            self.skipTest(f"{pr.SYSTEM_PYTHON} has no matplotlib")
        other = None
        for d in os.environ.get("PATH", "").split(os.pathsep):
            cand = os.path.join(d, "python3")
            if os.access(cand, os.X_OK) and subprocess.run(
                    [cand, "-c", "import matplotlib"], capture_output=True).returncode:
                other = cand
                break
        if other is None:
            self.skipTest("no python3 without matplotlib on PATH")
        tmp = tempfile.mkdtemp(prefix="test_plot_results.reexec.")
        try:
            proc = run_script(fixture("pmu.csv"), "--out", tmp, python=other)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            self.assertTrue(os.path.isfile(os.path.join(tmp, "summary.png")))
        finally:
            shutil.rmtree(tmp)


class TestInterval(unittest.TestCase):
    """The order-statistic interval against brute force: every sign pattern, and draws."""

    @staticmethod
    def enumerated_coverage(n, k):
        """Share of the 2^n equally likely below/above-the-median patterns for which
        [x_(k), x_(n+1-k)] holds the median: at least k draws below and k above."""
        hits = 0
        for pattern in range(2 ** n):
            below = bin(pattern).count("1")
            hits += k <= below and n - below >= k
        return hits / 2 ** n

    def test_coverage_matches_enumeration(self):
        for n in range(1, 17):
            for k in range(1, n // 2 + 2):
                self.assertAlmostEqual(pr.order_stat_coverage(n, k),
                                       self.enumerated_coverage(n, k), places=12,
                                       msg=f"n={n} k={k}")

    def test_k_is_the_narrowest_reaching_95(self):
        for n in range(1, 17):
            ks = [k for k in range(1, n // 2 + 1) if self.enumerated_coverage(n, k) >= 0.95]
            self.assertEqual(pr.order_stat_k(n), max(ks) if ks else None, f"n={n}")
        self.assertIsNone(pr.order_stat_k(5))
        self.assertAlmostEqual(pr.order_stat_coverage(5, 1), 0.9375)   # 1 - 2/2^5
        self.assertEqual(pr.order_stat_k(6), 1)
        self.assertAlmostEqual(pr.order_stat_coverage(6, 1), 0.96875)
        self.assertEqual(pr.order_stat_k(9), 2)
        self.assertEqual(pr.median_interval([5, 1, 4, 2, 3, 9, 7, 8, 6])[1:3], (2, 8))

    def test_coverage_by_simulation(self):
        # skewed (log-normal) draws whose true median is 1: the interval's empirical
        # coverage is the exact one, whatever the shape
        rnd = random.Random(13)
        for n in (6, 9, 12):
            trials = 20000
            hit = 0
            for _ in range(trials):
                xs = [rnd.lognormvariate(0, 0.8) for _ in range(n)]
                _, lo, hi, cov = pr.median_interval(xs)
                hit += lo <= 1 <= hi
            self.assertAlmostEqual(hit / trials, cov, delta=0.01, msg=f"n={n}")
            self.assertGreaterEqual(cov, 0.95)

    def test_verdict_direction(self):
        up, down = [1.1, 1.2, 1.05, 1.1, 1.3, 1.15], [0.9, 0.8, 0.95, 0.9, 0.85, 0.92]
        self.assertEqual(pr.judge(up, True)["verdict"], "faster")
        self.assertEqual(pr.judge(up, False)["verdict"], "slower")     # more CPU per byte
        self.assertEqual(pr.judge(down, False)["verdict"], "faster")   # less CPU per byte
        self.assertEqual(pr.judge(down, True)["verdict"], "slower")
        straddle = pr.judge([0.9] + up[1:], True)
        self.assertEqual((straddle["verdict"], straddle["reason"]),
                         ("cannot tell", "the interval includes 1"))
        self.assertEqual(pr.judge([0.9] + up[1:], True, 0.05)["reason"],
                         "the interval includes 1 and reaches beyond ±5%")
        few = pr.judge(up[:5], True)
        self.assertEqual(few["verdict"], "cannot tell")
        self.assertTrue(few["reason"].startswith("too few rounds (5;"), few["reason"])
        self.assertAlmostEqual(few["coverage"], 0.9375)


def comps_of(summary, a, metric, b="a1"):
    """{(threads, msg_size): comparison} of a/b on metric."""
    return {(c["threads"], c["msg_size"]): c for c in summary["comparisons"]
            if c["a"] == a and c["b"] == b and c["metric"] == metric}


class TestVerdicts(unittest.TestCase):
    """verdicts.csv: six paired rounds; noise, small consistent differences, directions."""

    def test_comparison_keys(self):
        _, summary, _, _ = Outputs.of("verdicts.csv")
        c = summary["comparisons"][0]
        for key in ("a", "b", "mode", "msg_size", "threads", "metric", "ratio", "ci_low",
                    "ci_high", "n", "verdict", "coverage"):
            self.assertIn(key, c)
        for key in ("p", "q", "p_same", "q_same", "mdd", "below", "above", "ties",
                    "verdict_uncorrected", "family_size", "precision"):
            self.assertIn(key, c)
        self.assertEqual({(c["metric"], c["mode"]) for c in summary["comparisons"]},
                         {("throughput_gbps", "stream"), ("host_cpu_ns_per_byte", "stream"),
                          ("host_softirq_ns_per_byte", "stream"),
                          ("rtt_p50_us", "rr"), ("rtt_p99_us", "rr")})
        self.assertEqual({(c["a"], c["b"]) for c in summary["comparisons"]},
                         {("a2", "a1"), ("a3", "a1"), ("a3", "a2")})

    def test_noise_unresolved_small_consistent_resolved(self):
        _, summary, _, _ = Outputs.of("verdicts.csv")
        thr = comps_of(summary, "a2", "throughput_gbps")
        for point in ((1, 64), (1, KIB), (2, 64 * KIB)):        # NOISE, NOISE_UP
            self.assertEqual(thr[point]["verdict"], "cannot tell", point)
            self.assertEqual(thr[point]["reason"],
                             "the interval includes 1 and reaches beyond ±5%")
        c = thr[(1, 16 * KIB)]                                  # SMALL: 1.5–4% faster
        self.assertEqual((c["verdict"], c["n"]), ("faster", 6))
        # six of six rounds above 1: p = 2/2^6; five such points in a family of 8: q = 0.05
        self.assertEqual((c["above"], c["below"], c["ties"]), (6, 0, 0))
        self.assertAlmostEqual(c["p"], 2 / 64)
        self.assertAlmostEqual(c["q"], 2 / 64 * 8 / 5)
        self.assertAlmostEqual(c["ratio"], 1.0275, places=4)
        self.assertAlmostEqual(c["ci_low"], 1.015, places=4)
        self.assertAlmostEqual(c["ci_high"], 1.04, places=4)
        self.assertAlmostEqual(c["coverage"], 0.96875)
        self.assertEqual(thr[(2, 64)]["verdict"], "faster")
        # a1's own values swing ±30% with the rounds: unpaired medians overlap, pairing
        # resolves
        agg = pr.aggregate([r for r in pr.load_rows(fixture("verdicts.csv"))
                            if r.raw["mode"] == "stream"], pr.col("throughput_gbps"))
        a1 = agg.stats[(pr.Series("a1", "default"), 16 * KIB, 1)]
        a2 = agg.stats[(pr.Series("a2", "default"), 16 * KIB, 1)]
        self.assertLess(a2.lo, a1.hi)
        a3 = comps_of(summary, "a3", "throughput_gbps")
        self.assertTrue(all(c["verdict"] == "slower" for c in a3.values()))

    def test_direction_of_lower_is_better_metrics(self):
        _, summary, _, _ = Outputs.of("verdicts.csv")
        cpu = comps_of(summary, "a2", "host_cpu_ns_per_byte")[(1, 16 * KIB)]
        self.assertLess(cpu["ci_high"], 1)                 # less CPU per byte than a1
        self.assertEqual(cpu["verdict"], "faster")
        self.assertEqual(comps_of(summary, "a3", "host_cpu_ns_per_byte")[(1, 64)]["verdict"],
                         "slower")
        p50 = comps_of(summary, "a2", "rtt_p50_us")
        self.assertEqual({k: c["verdict"] for k, c in p50.items()},
                         {(1, 64): "faster", (2, 64): "faster", (1, 16 * KIB): "faster"})
        p99 = comps_of(summary, "a2", "rtt_p99_us")
        self.assertTrue(all(c["verdict"] == "cannot tell" for c in p99.values()))
        self.assertTrue(all(c["verdict"] == "slower"
                            for c in comps_of(summary, "a3", "rtt_p50_us").values()))

    def test_crossover_needs_resolved_sizes(self):
        _, summary, report, _ = Outputs.of("verdicts.csv")
        # 2 threads: a2's median ratio is above 1 at every size (the median rule would say
        # 64 B), but 64 KiB is inside the noise: no crossover
        self.assertEqual(summary["crossover"], VERDICT_CROSSOVER)
        a2 = section(report, "Where a2 one-copy")
        self.assertIn("- 1 thread: from **16 KiB** — below it: cannot tell at 64 B, 1 KiB", a2)
        self.assertIn("- 2 threads: **none** — cannot tell at 64 KiB; faster at 64 B, 1 KiB, "
                      "16 KiB but not at every larger size", a2)
        self.assertIn("1.03 (1.015–1.04) **faster**", a2)

    def test_what_this_run_says(self):
        _, _, report, _ = Outputs.of("verdicts.csv")
        self.assertTrue(report.startswith(
            "# copybench results\n\n**Machine:** Test CPU @ 1.00GHz · kernel 6.1.0-test · "
            "link veth, MTU 1500  \n**Measured:** 2025-01-01 00:00–00:03 UTC · **runs:** "
            f"`{VERDICTS_ID}` (stream 144 rows, rr 54 rows)\n"))
        says = section(report, "What this run says")
        self.assertIn("- **a2 vs a1, throughput** (8 points, 6 rounds): **faster** at 5 "
                      "(×1.03–1.05; every round on one side), cannot tell at 3", says)
        self.assertIn("- **a2 vs a1, p50 round trip** (3 points, 6 rounds): **shorter** at 3 "
                      "(×0.95; every round on one side).", says)
        self.assertIn("- **a3 vs a1, throughput** (8 points, 6 rounds): *slower* at 8 (×0.50; "
                      "every round on one side).", says)
        self.assertIn("a2 beats a1 on throughput from **16 KiB** up at 1 thread", says)
        self.assertIn("- Cannot tell at any point: a2 vs a1 p99 round trip (3 points, with 6 "
                      "rounds no difference could be resolved in a family of 3)", says)
        self.assertIn("3.1% at 6 rounds each: the sign test's exact level, not 5%", says)
        self.assertLess(report.index("## What this run says"), report.index("| threads |"))

    def test_best_wins_only_when_resolved(self):
        _, summary, report, _ = Outputs.of("verdicts.csv")
        best = {(b["msg_size"], b["threads"]): b for b in summary["best"]}
        b = best[(16 * KIB, 1)]            # SMALL: 6 of 6 rounds, 5 such points of 8: q 0.05
        self.assertEqual((b["leaders"], b["relation"], b["resolved"]), (["a2"], "won", True))
        self.assertEqual(b["winner"]["label"], "a2 one-copy")
        b = best[(KIB, 1)]                 # NOISE_UP: a2's median is higher, yet cannot tell
        self.assertEqual((b["leaders"], b["relation"], b["resolved"]),
                         (["a1", "a2"], "cannot tell", False))
        self.assertGreater(b["medians"]["a2"], b["medians"]["a1"])
        self.assertIn("| 1 KiB | a1 ? a2 | **a2** |", report)
        self.assertNotIn("≈", report)

    def test_busy_cpus_beside_scaling(self):
        _, summary, report, _ = Outputs.of("verdicts.csv")
        bc = summary["busy_cpus"]
        self.assertEqual((bc["cpus_online"], bc["one_thread_wait_bound"]), (2, True))
        self.assertAlmostEqual(bc["by_threads"]["1"]["median"], 1.0)    # (0.3+1.5+0.2)/2
        self.assertAlmostEqual(bc["by_threads"]["2"]["median"], 2.0)
        text = section(report, "Thread scaling efficiency")
        self.assertIn("1-thread stream runs kept a median 1.00 host CPUs busy (1.00–1.00) of "
                      "the 2.00 CPUs online: they wait", text)
        self.assertIn("of 2.00 online: 1 thread 1.00; 2 threads 2.00.", text)
        e = [e for e in summary["scaling_efficiency"] if (e["strategy"], e["msg_size"]) ==
             ("a1", 16 * KIB)][0]
        self.assertEqual((e["busy_cpus_1_thread"], e["busy_cpus"]), (1.0, 2.0))

    def test_host_busy_cpus_column_preferred(self):
        rows = pr.load_rows(fixture("verdicts.csv"))
        r = next(r for r in rows if r.raw["mode"] == "stream")
        self.assertAlmostEqual(pr.busy_cpus(r), 1.0)
        self.assertEqual(r.num["cpus_online"], 2)
        r.num["host_busy_cpus"] = 1.7
        self.assertEqual(pr.busy_cpus(r), 1.7)


class TestMachines(unittest.TestCase):
    """Rows of different machines are never pooled, and incomplete runs are named."""

    def test_latest_keeps_to_the_latest_runs_machine(self):
        _, summary, report, _ = Outputs.of("machines_mixed.csv")
        runs = summary["runs"]
        self.assertEqual(runs["by_mode"], {"rr": MACHINE_B_ID})
        self.assertEqual(summary["rows"]["stream_ok"], 0)
        self.assertEqual(list(runs["other_machine"]), [MACHINE_A_ID])
        self.assertIn(f"Left out, from another machine or link: run `{MACHINE_A_ID}` (kernel "
                      "6.1.0-a, CPU Test CPU @ 1.00GHz, link veth, MTU 1500)", report)
        self.assertIn(f"No stream rows from this machine: the only stream rows are from run "
                      f"`{MACHINE_A_ID}` on another machine, not used.", report)
        self.assertIn("kernel 6.8.0-b", report.split("\n")[2])

    def refused(self, path, args, message):
        proc = run_script(path, *args,
                          "--out", os.path.join(tempfile.gettempdir(), "never-written"))
        self.assertEqual((proc.returncode, proc.stdout), (2, ""), proc.stderr)
        self.assertEqual(proc.stderr, f"fatal: {path}: {message}\n")

    def test_pooling_two_machines_refused(self):
        path = fixture("machines_mixed.csv")
        msg = (f"--run-id all mixes machines: run {MACHINE_A_ID} (line 2) and run "
               f"{MACHINE_B_ID} (line 4) differ in kernel 6.1.0-a vs 6.8.0-b; choose runs of "
               "one machine with --run-id ID[,ID...]")
        self.refused(path, ("--run-id", "all"), msg)

    def test_one_run_with_two_kernels_refused(self):
        path = fixture("run_two_kernels.csv")
        self.refused(path, (), "run 20250401T000000Z-800 mixes machines: run "
                     "20250401T000000Z-800 (line 2) and run 20250401T000000Z-800 (line 3) "
                     "differ in kernel 6.1.0-test vs 6.9.0-other; choose runs of one machine "
                     "with --run-id ID[,ID...]")

    def run_in(self, tmp, marker):
        shutil.copy(fixture("verdicts.csv"), os.path.join(tmp, "results.csv"))
        if marker is not None:
            os.makedirs(os.path.join(tmp, "results", VERDICTS_ID), exist_ok=True)
            if marker:
                open(os.path.join(tmp, "results", VERDICTS_ID, "COMPLETE"), "w").close()
        out = os.path.join(tmp, "out")
        proc = run_script(os.path.join(tmp, "results.csv"), "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, "summary.json"), encoding="utf-8") as f:
            summary = json.load(f)
        with open(os.path.join(out, "report.md"), encoding="utf-8") as f:
            return summary, f.read()

    def test_incomplete_run_flagged(self):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.incomplete.")
        try:
            summary, report = self.run_in(tmp, marker=False)
            self.assertEqual(summary["runs"]["incomplete"], [VERDICTS_ID])
            self.assertIn(f"**Incomplete run:** `{VERDICTS_ID}` has no results/{VERDICTS_ID}/"
                          "COMPLETE (the sweep was killed or is still running)", report)
            self.assertTrue(all(c["incomplete_run"] for c in summary["comparisons"]))
            self.assertIn("1.03 (1.015–1.04) **faster** †", report)
            self.assertIn("; † = from an incomplete run.", report)
            summary, report = self.run_in(tmp, marker=True)
            self.assertEqual(summary["runs"]["incomplete"], [])
            self.assertNotIn("Incomplete", report)
            self.assertNotIn("†", report)
        finally:
            shutil.rmtree(tmp)

    def test_csv_only_input_says_nothing(self):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.csvonly.")
        try:
            summary, report = self.run_in(tmp, marker=None)     # no results/ at all
            self.assertEqual(summary["runs"]["incomplete"], [])
            self.assertNotIn("Incomplete", report)
        finally:
            shutil.rmtree(tmp)


class TestStatistics(unittest.TestCase):
    """cbstats: the sign test behind the interval, the correction, chance, what was seeable."""

    def test_importable_without_matplotlib(self):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.cbstats.")
        try:
            hide_matplotlib(tmp)
            proc = subprocess.run(
                [sys.executable, "-c", "import sys; import cbstats; "
                 "assert 'matplotlib' not in sys.modules; "
                 "print(cbstats.judge([1.1] * 6, True)['verdict'])"],
                capture_output=True, text=True, cwd=ROOT, timeout=60,
                env=dict(os.environ, PYTHONPATH=tmp))
            self.assertEqual((proc.returncode, proc.stdout, proc.stderr), (0, "faster\n", ""))
        finally:
            shutil.rmtree(tmp)

    def test_exact_chance_per_comparison(self):
        # the chance that n rounds where nothing differs give a verdict: the sign test's
        # exact level, 1 - the interval's coverage — not 5%
        self.assertEqual(cbstats.chance_verdict_probability(6), 2 / 64)        # 3.1%
        self.assertEqual(cbstats.chance_verdict_probability(8), 2 / 256)       # 0.8%
        self.assertEqual(cbstats.chance_verdict_probability(10), 22 / 1024)    # 2.1%
        self.assertEqual(cbstats.chance_verdict_probability(5), 0.0)
        for n in (6, 8, 10):
            self.assertAlmostEqual(cbstats.chance_verdict_probability(n),
                                   1 - pr.order_stat_coverage(n, pr.order_stat_k(n)))

    def test_chance_per_family(self):
        self.assertEqual(cbstats.chance_uncorrected([6] * 28)[0], 0.875)
        self.assertEqual(cbstats.chance_uncorrected([6] * 8)[0], 0.25)
        e, any_ = cbstats.chance_uncorrected([6] * 144)
        self.assertEqual(e, 4.5)
        self.assertAlmostEqual(any_, 1 - (31 / 32) ** 144)                    # 99%
        # after the correction: 28 comparisons of 6 rounds would need >= 18 of them at
        # p = 2/64 at once; exact enumeration of a small mixed family agrees with the DP
        self.assertLess(cbstats.chance_corrected([6] * 28)[0], 1e-9)
        ns = [6, 6, 8, 10]
        dists = [cbstats.null_p_distribution(n) for n in ns]
        expected = anyone = 0.0
        for combo in itertools.product(*dists):
            prob = math.prod(pr_ for _, pr_ in combo)
            q = cbstats.bh_adjust([p for p, _ in combo])
            rejected = sum(1 for x in q if x <= 0.05)
            expected += prob * rejected
            anyone += prob * (rejected > 0)
        got = cbstats.chance_corrected(ns)
        self.assertAlmostEqual(got[0], expected, places=12)
        self.assertAlmostEqual(got[1], anyone, places=12)

    def test_p_agrees_with_the_interval(self):
        # p <= 0.05 exactly when the 95% interval excludes 1; p_same <= 0.05 exactly when it
        # lies inside ±P; rounded values make ties, counted against a verdict
        rnd = random.Random(5)
        for _ in range(3000):
            n = rnd.randint(6, 16)
            xs = [round(rnd.lognormvariate(0.02, 0.04), 2) for _ in range(n)]
            _, lo, hi, _ = pr.median_interval(xs)
            self.assertEqual(cbstats.sign_test_p(xs) <= 0.05, lo > 1 or hi < 1, xs)
            self.assertEqual(cbstats.equivalence_p(xs, 0.05) <= 0.05,
                             1 / 1.05 < lo and hi < 1.05, xs)
        # a tie at 1 counts against: five above and one equal is not six of six
        self.assertAlmostEqual(cbstats.sign_test_p([1.0] + [1.1] * 5), 2 * 7 / 64)
        self.assertEqual(pr.judge([1.0] + [1.1] * 5, True)["verdict"], "cannot tell")

    def test_benjamini_hochberg(self):
        ps = [0.01, 0.04, 0.03, 0.2]
        # sorted 0.01, 0.03, 0.04, 0.2: 4·0.01/1, 4·0.03/2, 4·0.04/3, 4·0.2/4 = 0.04, 0.06,
        # 0.053, 0.2, then the running minimum from the top: 0.06 becomes 0.053
        q = cbstats.bh_adjust(ps)
        for got, want in zip(q, [0.04, 0.16 / 3, 0.16 / 3, 0.2]):
            self.assertAlmostEqual(got, want)
        self.assertEqual(cbstats.bh_adjust([]), [])

    def test_smallest_detectable(self):
        # 6 rounds: only six of six is significant (p = 2/64), so a lone point in a family of
        # 28 (threshold 0.05/28) can never be resolved
        self.assertEqual(cbstats.smallest_detectable(6, 0.15, 0.05 / 28), math.inf)
        d6 = cbstats.smallest_detectable(6, 0.15)
        # 80% power with six of six: Φ(δ/σ)^6 = 0.8
        pi = 0.8 ** (1 / 6)
        self.assertAlmostEqual(d6, math.expm1(0.15 * statistics.NormalDist().inv_cdf(pi)),
                               places=9)
        self.assertLess(cbstats.smallest_detectable(12, 0.15), d6)
        self.assertLess(cbstats.smallest_detectable(12, 0.01, 0.05 / 3), 0.04)
        self.assertEqual(cbstats.smallest_detectable(6, 0.0), 0.0)
        self.assertIsNone(cbstats.smallest_detectable(6, None))

    def test_three_answers(self):
        within = [1.004, 0.996, 1.008, 0.993, 1.001, 0.997]
        self.assertEqual(pr.judge(within, True, 0.05)["verdict"], "same")
        self.assertEqual(pr.judge(within, True)["verdict"], "cannot tell")     # no ±P asked
        self.assertEqual(pr.judge(within, True, 0.005)["verdict"], "cannot tell")
        wide = [0.8, 1.2, 0.9, 1.1, 1.05, 0.95]
        c = pr.judge(wide, True, 0.05)
        self.assertEqual((c["verdict"], c["reason"]),
                         ("cannot tell", "the interval includes 1 and reaches beyond ±5%"))


class TestMultiplicity(unittest.TestCase):
    """noise_family.csv: pure noise at 27 points, one point with six of six rounds above."""

    def test_lone_point_unresolved_after_correction(self):
        _, summary, report, _ = Outputs.of("noise_family.csv")
        thr = comps_of(summary, "a2", "throughput_gbps")
        self.assertEqual(len(thr), 28)
        lone = thr[(LONE_POINT[1], LONE_POINT[0])]
        self.assertEqual((lone["above"], lone["verdict_uncorrected"]), (6, "faster"))
        self.assertAlmostEqual(lone["p"], 2 / 64)
        # q: the running minimum of 28 p / rank over the family (noise points at 5 of 6,
        # p = 14/64, rank above it)
        ps = [c["p"] for c in thr.values()]
        self.assertAlmostEqual(lone["q"], min(28 * p / sum(1 for x in ps if x <= p)
                                              for p in set(ps)))
        self.assertGreater(lone["q"], 0.5)
        self.assertEqual(lone["verdict"], "cannot tell")
        self.assertTrue(lone["reason"].startswith(f"q = {lone['q']:.2f} after the correction "
                                                  "for 28 comparisons (p = 0.031)"),
                        lone["reason"])
        # 6 rounds, family of 28: no difference resolvable (∞; null in strict JSON)
        self.assertEqual((lone["mdd"], lone["mdd_possible"]), (None, False))
        self.assertTrue(all(c["verdict"] == "cannot tell" for c in thr.values()))
        fam = [f for f in summary["families"] if f["metric"] == "throughput_gbps"][0]
        self.assertEqual((fam["resolved_uncorrected"], fam["faster"], fam["slower"]), (1, 0, 0))
        self.assertEqual(fam["chance_uncorrected"], 0.875)

    def test_lone_point_nowhere_in_bold(self):
        out, summary, report, _ = Outputs.of("noise_family.csv")
        tables = "\n".join(line for line in report.splitlines() if line.startswith("|"))
        self.assertNotIn("**", tables)
        self.assertNotIn("**faster**", section(report, "What this run says"))
        self.assertNotIn("a2 one-copy**", report)
        self.assertFalse(any(b["resolved"] for b in summary["best"]))
        self.assertIn("| 64 KiB | a1 ? a2 |", report)
        says = section(report, "What this run says")
        self.assertIn("- **a2 vs a1, throughput** (28 points, 6 rounds): cannot tell at 28 "
                      "(with 6 rounds no difference could be resolved in a family of 28); 1 "
                      "more was resolved before the correction, where chance alone gives "
                      "0.88.", says)
        with open(os.path.join(out, "summary.svg"), encoding="utf-8") as f:
            svg = f.read()
        self.assertIn("best throughput resolved at (size, threads): none of 28", svg)


class TestSpreadLine(unittest.TestCase):
    """The report says why a2 vs a1 stays open when it does at half its points or more: the
    median spread of the rounds' log ratio, the rounds ±P would take at it (the sign test's
    own planning figure), and what a user can change; never when the question resolved."""

    def test_noise_family_says_why_open(self):
        _, summary, report, _ = Outputs.of("noise_family.csv")
        thr = comps_of(summary, "a2", "throughput_gbps")
        sd = statistics.median(c["sd_log"] for c in thr.values())
        line = next(x for x in report.splitlines() if x.startswith("- **Why a2 vs a1 stays open"))
        self.assertIn(f"median SD of {sd:.3f} in log", line)
        self.assertIn("over 28 points", line)
        need = pr.rounds_to_resolve(sd, 0.05)
        self.assertIn(f"at least {need} rounds a point" if need else "more than 400 rounds",
                      line)
        self.assertIn("this run gave 6 rounds", line)
        self.assertIn("--idle-poll on", line)

    def test_resolved_question_has_no_line(self):
        _, _, report, _ = Outputs.of("planned.csv")
        self.assertNotIn("Why a2 vs a1 stays open", report)

    def test_steal_and_idle_poll_in_environment(self):
        """host_cpu_steal_s over window x CPUs: 0.02 s of 1 s x 2 CPUs in seven runs and
        0.2 s in one -> 2.1% overall, 10% at most; idlepoll= in placement is explained."""
        sw = Sweep(run_id="20250801T000000Z-900")
        sw.env["placement"] = "srv=0;cli=1;rps=both;idlepoll=0-1"
        for rep, steal in enumerate((0.02, 0.02, 0.02, 0.2)):
            for strat in ("a1", "a2"):
                sw.add(strat, 64 * KIB, 1, rep + 1, 10.0, cli_window_s=1.0, cpus_online=2,
                       host_cpu_steal_s=steal if strat == "a1" else 0.02,
                       host_cpu_nice_s=0.3)
        tmp = tempfile.mkdtemp(prefix="test_plot_results.steal.")
        try:
            path = os.path.join(tmp, "steal.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(sw.text(extra=("cli_window_s", "cpus_online", "host_cpu_nice_s",
                                       "host_cpu_steal_s")))
            proc = run_script(path, "--out", os.path.join(tmp, "out"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(tmp, "out", "report.md"), encoding="utf-8") as f:
                report = f.read()
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        # 8 rows: seven with 0.02 s, one with 0.2 s, of 2 CPU-seconds each
        self.assertIn("- steal time (a hypervisor ran something else; all CPUs, the runs' "
                      "windows): 2.1% of the CPUs' time, at most 10.0% in one run (8 runs)",
                      report)
        self.assertIn("- idle polling (`idlepoll=`)", report)

    def test_drift_in_environment_spread_and_summary(self):
        """The machine-drift probe's columns (the same in every row of the run) become the
        environment's line, summary.json's environment.drift, and the spread line's share:
        (copy_step / the pairs' SD)^2 of the variance, with the wake-up figures."""
        sw = Sweep(run_id="20250801T000000Z-901")
        drift = dict(drift_copy_gbps=31.5, drift_copy_step=0.04, drift_alu_step=0.012,
                     drift_wake_us=14.9, drift_wake_step=0.056, drift_windows=8,
                     drift_window_s=0.5, drift_sys_ns=251.0, drift_sys_step=0.021,
                     drift_cpus=2)
        for rep, ratio in enumerate((0.7, 1.4, 0.8, 1.3, 0.75, 1.35)):
            sw.add("a1", 64 * KIB, 1, rep + 1, 10.0, **drift)
            sw.add("a2", 64 * KIB, 1, rep + 1, 10.0 * ratio, **drift)
        tmp = tempfile.mkdtemp(prefix="test_plot_results.drift.")
        try:
            path = os.path.join(tmp, "drift.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(sw.text(extra=pr.DRIFT_COLUMNS))
            proc = run_script(path, "--out", os.path.join(tmp, "out"))
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(tmp, "out", "report.md"), encoding="utf-8") as f:
                report = f.read()
            with open(os.path.join(tmp, "out", "summary.json"), encoding="utf-8") as f:
                summary = json.load(f)
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
        self.assertEqual(summary["environment"]["drift"], [{
            "run_id": "20250801T000000Z-901", "copy_gbps": 31.5, "copy_step": 0.04,
            "alu_step": 0.012, "wake_us": 14.9, "wake_step": 0.056, "windows": 8,
            "window_s": 0.5, "sys_ns": 251.0, "sys_step": 0.021, "cpus": 2}])
        self.assertIn("- machine drift before the sweep (tools/cb_drift on the placement's "
                      "CPUs, no traffic, 8 back-to-back windows of 0.5 s; SD: of the log ratio "
                      "of one window to the next): memory copy 31.5 GB/s, SD 0.040 (an integer "
                      "loop: 0.012); a system call (getppid) 251 ns, SD 0.021; a cross-CPU "
                      "wake-up round trip (pipe ping-pong) 14.9 µs, SD 0.056\n", report)
        thr = comps_of(summary, "a2", "throughput_gbps")
        sd = statistics.median(c["sd_log"] for c in thr.values())
        line = next(x for x in report.splitlines() if x.startswith("- **Why a2 vs a1 stays open"))
        self.assertIn("an SD of 0.040 from one window to the next", line)
        share, lo, hi, k = pr.drift_share(summary["environment"]["drift"][0], sd)
        self.assertEqual(k, 12)   # 2 CPUs x (8 windows - 2)
        self.assertIn(f"about {(0.04 / sd) ** 2:.0%} of that variance if throughput moved one "
                      f"to one with copy speed (95% interval {lo:.0%}–{hi:.0%}, 12 degrees of "
                      "freedom)", line)
        self.assertIn("(in the same probe a system call took 251 ns, moving by an SD of 0.021, "
                      "and a cross-CPU wake-up round trip took 14.9 µs, moving by an SD of "
                      "0.056 from one window to the next)", line)

    def test_drift_share_text(self):
        """By the share's 95% interval: half or more, the machine by itself, only more rounds
        help (and the spread line suggests no idle polling); all below half, the share and
        the rest is the runs' own; across half, cannot say; nothing without a probe."""
        d = [{"copy_step": 0.08, "windows": 8, "cpus": 2, "wake_us": None, "wake_step": None,
              "sys_ns": None}]
        # share 0.988, 12 degrees of freedom: the interval starts at 0.51
        high, machine = pr.drift_share_text(d, 0.0805)
        self.assertTrue(machine)
        self.assertIn("The machine by itself moved almost as much", high)
        self.assertIn("only more rounds help", high)
        low, machine = pr.drift_share_text(d, 0.4)
        self.assertFalse(machine)
        self.assertIn("about 4% of that variance", low)
        self.assertIn("the rest comes with the runs themselves", low)
        self.assertNotIn("wake-up round trip", low)
        self.assertNotIn("in the same probe", low)
        # 3 windows on one CPU: 1 degree of freedom, the interval reaches past half: no answer
        few, machine = pr.drift_share_text([dict(d[0], windows=3, cpus=1)], 0.2)
        self.assertFalse(machine)
        self.assertIn("too few windows to say", few)
        self.assertNotIn("the rest comes with the runs", few)
        # a probe that moved more than the pairs: the whole variance, said so
        more, machine = pr.drift_share_text([dict(d[0], copy_step=0.3)], 0.2)
        self.assertTrue(machine)
        self.assertIn("as much or more", more)
        self.assertIn("more than that whole variance (2.2×", more)
        self.assertEqual(pr.drift_share_text([], 0.2), ("", False))
        self.assertEqual(pr.drift_share_text([{"copy_step": None}], 0.2), ("", False))
        # the spread line then suggests no idle polling: nothing on the runs' side can help
        fams = {("a2", "a1", "throughput_gbps"): [
            {"verdict": "cannot tell", "sd_log": 0.0805, "n": 10}] * 4}
        line = pr.spread_line(fams, 0.05, d)[0]
        self.assertIn("only more rounds help", line)
        self.assertIn("What helps: fewer points in the same time (`--sizes`, `--threads`) or a "
                      "longer `--budget`.", line)
        self.assertNotIn("--idle-poll", line)
        self.assertIn("--idle-poll on", pr.spread_line(fams, 0.05, [])[0])

    def test_chi2_quantile(self):
        """Against the exact chi-square quantiles (tables): within 3% from k = 6 on, the
        upper one from k = 2; k = 2's lower tail wider (so its interval is conservative)."""
        exact = {2: (0.0506, 7.378), 6: (1.237, 14.449), 12: (4.404, 23.337),
                 30: (16.791, 46.979)}
        for k, (q_lo, q_hi) in exact.items():
            self.assertAlmostEqual(pr.chi2_quantile(0.975, k) / q_hi, 1, delta=0.03)
            if k > 2:
                self.assertAlmostEqual(pr.chi2_quantile(0.025, k) / q_lo, 1, delta=0.03)
            else:
                self.assertLess(pr.chi2_quantile(0.025, k), q_lo)

    def test_rounds_to_resolve_is_the_fewest(self):
        """Against every n below it (smallest_detectable is a sawtooth in n: a search that
        assumed it falls monotonically gave 61 at SD 0.1, where 56 rounds already do)."""
        for sd in (0.01, 0.04, 0.1):
            n = pr.rounds_to_resolve(sd, 0.05)
            self.assertIsNotNone(n)
            self.assertLessEqual(cbstats.smallest_detectable(n, sd), 0.05)
            for m in range(cbstats.MIN_ROUNDS, n):
                self.assertGreater(cbstats.smallest_detectable(m, sd), 0.05, (sd, m))
        self.assertEqual(pr.rounds_to_resolve(0.0, 0.05), cbstats.MIN_ROUNDS)
        self.assertEqual(pr.rounds_to_resolve(0.01, 0.05), cbstats.MIN_ROUNDS)
        self.assertLess(pr.rounds_to_resolve(0.1, 0.05), pr.rounds_to_resolve(0.2, 0.05))
        self.assertIsNone(pr.rounds_to_resolve(1.0, 0.05))


class TestPlanned(unittest.TestCase):
    """planned.csv: the adaptive driver's columns, unequal rounds, profiled rounds."""

    def test_consistent_4pct_over_12_rounds_resolved(self):
        _, summary, report, _ = Outputs.of("planned.csv")
        c = comps_of(summary, "a2", "throughput_gbps")[(1, 64 * KIB)]
        self.assertEqual((c["n"], c["above"], c["verdict"]), (12, 12, "faster"))
        self.assertAlmostEqual(c["ratio"], statistics.median(FOUR_PCT))
        self.assertLess(c["mdd"], 0.04)
        self.assertGreater(c["mdd"], 0)
        self.assertIn("1.04 (1.04–1.04) **faster**", report)

    def test_inside_precision_is_same(self):
        _, summary, report, _ = Outputs.of("planned.csv")
        c = comps_of(summary, "a2", "throughput_gbps")[(1, 1 << 20)]
        self.assertEqual((c["verdict"], c["precision"]), ("same", 0.05))
        self.assertLessEqual(c["q_same"], 0.05)
        self.assertIn("1.000 (0.995–1.006) same ±5%", report)
        self.assertIn("| 1 MiB | a1 = a2 |", report)
        self.assertIn("±5% comes from the run's plan (precision column)", report)
        noisy = comps_of(summary, "a2", "throughput_gbps")[(1, 4 * KIB)]
        self.assertEqual(noisy["verdict"], "cannot tell")

    def test_precision_option(self):
        _, summary, report, _ = Outputs.of("planned.csv", "--precision", "0.5%")
        c = comps_of(summary, "a2", "throughput_gbps")[(1, 1 << 20)]
        self.assertEqual((c["verdict"], c["precision"]), ("cannot tell", 0.005))
        self.assertIn("±0.5% comes from --precision", report)
        proc = run_script(fixture("planned.csv"), "--precision", "2")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("precision must be between 0 and 1", proc.stderr)

    def test_profiled_rows_not_pooled(self):
        _, summary, _, _ = Outputs.of("planned.csv")
        self.assertEqual(summary["rows"]["profiled_ok"], 54)
        self.assertEqual(summary["rows"]["stream_ok"], 90)
        # a3/a1 is exactly 0.6 in every unprofiled round; pooling the profiled rows (run at
        # 0.9 of the throughput, in the same rounds) would move it
        c = comps_of(summary, "a3", "throughput_gbps")[(1, 64 * KIB)]
        self.assertAlmostEqual(c["ratio"], 0.6)
        self.assertEqual(c["n"], 12)
        cost = summary["profile"]["sampling_cost"]
        self.assertEqual(len(cost), 9)
        self.assertTrue(all(0.85 < x["ratio"] < 0.95 for x in cost))

    def test_each_copy_cost_with_intervals(self):
        _, summary, report, _ = Outputs.of("planned.csv")
        pts = {(p["strategy"], p["msg_size"]): p for p in summary["profile"]["points"]}
        a1 = pts[("a1", 64 * KIB)]
        self.assertEqual(a1["rounds"], 6)
        uc = a1["categories"]["user_copy"]
        scaled = sorted(0.30 * f for f in PROF_ROUND)
        self.assertAlmostEqual(uc["median"], statistics.median(scaled))
        self.assertAlmostEqual((uc["lo"], uc["hi"]), (scaled[0], scaled[-1]))   # n = 6
        total = sum(PROF_NS["a1"].values())
        self.assertAlmostEqual(uc["share_of_host"], 0.30 / (total / 0.8), places=5)
        says = section(report, "What this run says")
        self.assertTrue(says.startswith("What this run says\n\n**Each copy's cost** (1 "
                                        "thread; profiled runs, 6 rounds)"), says[:200])
        self.assertIn("| a1 | 64 KiB | 0.301 (0.294–0.309) 20% |", says)
        self.assertIn("- a3 vs a2 at 64 KiB × 1: more host CPU per byte", says)
        d = [d for d in summary["profile"]["differences"]
             if (d["a"], d["b"], d["msg_size"]) == ("a3", "a2", 64 * KIB)][0]
        self.assertAlmostEqual(d["categories"]["deferred_copy"]["median"],
                               statistics.median(0.26 * f for f in PROF_ROUND))

    def test_unequal_rounds_and_plan(self):
        _, summary, report, _ = Outputs.of("planned.csv")
        plan = summary["plan"]
        self.assertEqual((plan["rounds_min"], plan["rounds_max"]), (6, 12))
        self.assertEqual((plan["points_with_extra_rounds"], plan["extra_rounds"]), (2, 12))
        self.assertEqual(plan["seeds"], ["4242"])
        self.assertEqual([(w["msg_size"], w["threads"]) for w in plan["wide"]], [(4 * KIB, 1)])
        self.assertIn("Rounds per point: 6–12 rounds; 12 extra rounds went to 2 points", report)
        self.assertIn("plan seed 4242", report)
        ns = {c["msg_size"]: c["n"] for c in summary["comparisons"]
              if c["metric"] == "throughput_gbps" and c["a"] == "a2"}
        self.assertEqual(ns, {4 * KIB: 6, 64 * KIB: 12, 1 << 20: 12})

    def test_retransmissions_summary_and_csv(self):
        out, summary, report, _ = Outputs.of("planned.csv")
        g = {x["strategy"]: x for x in summary["retransmissions"]}
        # unprofiled rounds 1, 3, 5, ... (6 of 12 at two points, 3 of 6 at one) per strategy
        self.assertEqual((g["a1"]["affected"], g["a1"]["runs"]), (15, 48))
        self.assertEqual(g["a2"]["median_per_affected_run"], 200)
        self.assertAlmostEqual(g["a2"]["dsack_share_median"], 0.92)
        with open(os.path.join(out, "retransmissions.csv"), encoding="utf-8") as f:
            rows = list(csv.DictReader(f))
        self.assertEqual(len(rows), 45)
        self.assertEqual(summary["retransmitted_runs"], 45)
        self.assertIn("| stream | a2 one-copy | 15 of 48 | 200 | 300 | 92% |", report)
        self.assertIn("the receiver D-SACKed a median 92% of the retransmitted segments", report)

    def test_placement_and_interval_stated(self):
        _, _, report, _ = Outputs.of("planned.csv")
        self.assertIn("- CPU placement: srv=0;cli=1\n", report)
        self.assertIn("- perf counters cover: window\n", report)
        self.assertIn("perf task-clock over the measured window, per byte received in it",
                      report)


class TestTaskClock(unittest.TestCase):
    """perf task-clock per byte: over the window's bytes when perf covered the window."""

    def rows(self, interval):
        sw = Sweep(duration=1.0)
        r = sw.add("a1", 64, 1, 1, 0.197657)
        # row 1 of the committed run: 995.28 ms of task-clock over the window, 24,707,072
        # bytes received in it, 32,505,856 over the whole life
        r.update(bytes=24707072, srv_bytes_sent=32505856, srv_task_clock=995.28,
                 cli_task_clock=692.23, perf_interval=interval)
        tmp = tempfile.mkdtemp(prefix="test_plot_results.taskclock.")
        try:
            path = os.path.join(tmp, "r.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(sw.text(extra=("perf_interval",)))
            return pr.load_rows(path)
        finally:
            shutil.rmtree(tmp)

    def test_window_bytes_when_perf_covered_the_window(self):
        (r,) = self.rows("window")
        self.assertAlmostEqual(pr.task_clock_ns_per_byte("srv")(r), 995.28e6 / 24707072)
        self.assertAlmostEqual(pr.task_clock_ns_per_byte("srv")(r), 40.28, places=2)
        self.assertAlmostEqual(pr.task_clock_ns_per_byte("cli")(r), 692.23e6 / 24707072)

    def test_life_bytes_when_perf_covered_the_life(self):
        (r,) = self.rows("life")
        self.assertAlmostEqual(pr.task_clock_ns_per_byte("srv")(r), 30.62, places=2)
        (r,) = self.rows("srv:window;cli:life")
        self.assertAlmostEqual(pr.task_clock_ns_per_byte("srv")(r), 995.28e6 / 24707072)
        self.assertAlmostEqual(pr.task_clock_ns_per_byte("cli")(r), 692.23e6 / 32505856)

    def test_cache_misses_use_the_same_denominator(self):
        (r,) = self.rows("window")
        r.num["srv_llc_load_misses"] = 24707072.0
        self.assertAlmostEqual(pr.perf_per_byte("srv_llc_load_misses", "srv", 1024)(r), 1024)


def default_job_sweep(seed=11):
    """A job shaped like the default one (issue 19): a1/a2/a3 × 7 sizes × 1, 2, 4, 8
    threads, 6 rounds and 6 extra at a third of the points, rr at 8 points, profiled rounds
    at 4 KiB, 64 KiB, 1 MiB × 1 thread, the planner's columns."""
    rnd = random.Random(seed)
    sw = Sweep(run_id="20250701T000000Z-1100", duration=1.0)
    sw.env["placement"] = "srv=0;cli=1"
    sizes = [64, KIB, 4 * KIB, 16 * KIB, 64 * KIB, 256 * KIB, 1 << 20]
    common = {"perf_interval": "window", "window": "measured", "seed": 7, "precision": 0.05}
    extra = {(z, t) for i, (z, t) in enumerate((z, t) for t in (1, 2, 4, 8) for z in sizes)
             if i % 3 == 0}
    for rep in range(12):
        for t in (1, 2, 4, 8):
            for z in sizes:
                if rep >= 6 and (z, t) not in extra:
                    continue
                base = 18.0 * z / (z + 2048) * min(t, 2) * rnd.uniform(0.9, 1.1)
                for slot, strategy in enumerate(("a1", "a2", "a3")):
                    k = {"a1": 1.0, "a2": rnd.uniform(0.97, 1.07), "a3": 0.6}[strategy]
                    r = sw.add(strategy, z, t, rep + 1, round(base * k, 5), **common,
                               slot=slot, **{"pass": "first" if rep < 6 else "extra"})
                    r["tcp_retrans"] = rnd.choice((0, 0, 120, 5000))
                    r["dsack_share"] = 0.97 if r["tcp_retrans"] else ""
        if rep < 6:
            for z in (4 * KIB, 64 * KIB, 1 << 20):
                for strategy in ("a1", "a2", "a3"):
                    ns = {c: v * rnd.uniform(0.95, 1.05) for c, v in PROF_NS[strategy].items()}
                    sw.add(strategy, z, 1, rep + 1, 5.0, **common, prof_idle=0.1,
                           prof_foreign=0.01, prof_samples=4000,
                           **{f"prof_{c}": round(v, 5) for c, v in ns.items()})
            for z, t in [(z, 1) for z in (64, KIB, 16 * KIB, 64 * KIB, 1 << 20)] + \
                    [(16 * KIB, t) for t in (2, 4, 8)]:
                for strategy in ("a1", "a2", "a3"):
                    p50 = 80 * rnd.uniform(0.9, 1.1)
                    sw.add(strategy, z, t, rep + 1, 0.5, mode="rr", **common,
                           transactions=10000, transactions_per_sec=12000,
                           rtt_p50_us=round(p50, 1), rtt_p99_us=round(p50 * 3, 1))
    return sw


class TestReportLength(unittest.TestCase):
    """One screen first: report.md of the default job stays within ~265 lines (250 before
    the stability section of issue 24, which names only the 3 most unstable runs; 260
    before issue 19's lines on why a2 vs a1 stays open and on steal time)."""
    LIMIT = 265

    def lines(self, path):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.length.")
        try:
            proc = run_script(path, "--out", tmp)
            self.assertEqual(proc.returncode, 0, proc.stderr)
            with open(os.path.join(tmp, "report.md"), encoding="utf-8") as f:
                return f.read().splitlines()
        finally:
            shutil.rmtree(tmp)

    def test_committed_run(self):
        path = os.path.join(ROOT, "results.csv")
        if not os.path.isfile(path):
            self.skipTest("no committed results.csv")
        lines = self.lines(path)
        self.assertLessEqual(len(lines), self.LIMIT)
        self.assertFalse(any("≈" in line for line in lines))

    def test_default_shaped_job(self):
        tmp = tempfile.mkdtemp(prefix="test_plot_results.default.")
        try:
            path = os.path.join(tmp, "results.csv")
            with open(path, "w", encoding="utf-8") as f:
                f.write(default_job_sweep().text(extra=PLANNED_COLUMNS))
            lines = self.lines(path)
        finally:
            shutil.rmtree(tmp)
        self.assertLessEqual(len(lines), self.LIMIT, "\n".join(lines))
        self.assertIn("**Each copy's cost**", "\n".join(lines[:12]))


# ---- the PASS/FAIL protocol -----------------------------------------------------------

# ---- before and after: plot_results.py --compare (cbcompare.py) ------------------------------

# Two crafted result sets, six runs a point in each. NEW/BASE is a known factor at some
# points and 1 at others; within a set every run carries a small noise factor (BASE and NEW
# with different ones), so the runs are unpaired and the answers are known.
CMP_BASE_ID, CMP_NEW_ID = "20260101T000000Z-900", "20260102T000000Z-901"
CMP_NOISE_BASE = [1.0, 1.01, 0.99, 1.005, 0.995, 1.002]
CMP_NOISE_NEW = [0.997, 1.008, 1.0, 0.992, 1.004, 0.99]
CMP_WIDE_BASE = [0.7, 1.3, 0.9, 1.1, 0.8, 1.2]         # noise far beyond ±5%
CMP_WIDE_NEW = [1.25, 0.75, 1.15, 0.85, 1.05, 0.95]
# (strategy, size): (BASE Gbit/s, NEW/BASE factor, wide noise?)
CMP_STREAM = {("a1", 64): (1.0, 1.5, False), ("a1", 64 * KIB): (20.0, 1.0, False),
              ("a2", 64): (1.2, 0.6, False), ("a2", 64 * KIB): (22.0, 1.0, False),
              ("a3", 64 * KIB): (10.0, 1.0, True)}
CMP_RR_P50 = {"a1": (20.0, 0.8), "a2": (19.0, 1.0)}   # (BASE p50 µs, NEW/BASE factor)


def compare_sets(new_kernel="6.18.0-test", new_placement="unpinned"):
    """(BASE, NEW) sweeps per the tables above; NEW on new_kernel with new_placement."""
    base = Sweep(kernel="6.18.0-test", run_id=CMP_BASE_ID, hour=0)
    new = Sweep(kernel=new_kernel, run_id=CMP_NEW_ID, hour=1)
    new.env["placement"] = new_placement
    for rep in range(6):
        for sw, is_new in ((base, False), (new, True)):
            for (strategy, size), (gbps, factor, wide) in CMP_STREAM.items():
                noise = (CMP_WIDE_NEW if is_new else CMP_WIDE_BASE) if wide else \
                    (CMP_NOISE_NEW if is_new else CMP_NOISE_BASE)
                sw.add(strategy, size, 1, rep + 1,
                       round(gbps * (factor if is_new else 1.0) * noise[rep], 6))
            for strategy, (p50, factor) in CMP_RR_P50.items():
                noise = CMP_NOISE_NEW if is_new else CMP_NOISE_BASE
                v = round(p50 * (factor if is_new else 1.0) * noise[rep], 4)
                sw.add(strategy, 64, 1, rep + 1, 0.5, mode="rr", transactions=100000,
                       transactions_per_sec=50000, rtt_p50_us=v, rtt_p99_us=round(v * 3, 4))
    return base, new


class TestCompare(unittest.TestCase):
    """--compare BASE NEW: unpaired Hodges–Lehmann / Mann–Whitney answers per point, the
    correction per metric, and the refusal of a difference not named as the change."""

    def run_compare(self, *args):
        tmp = tempfile.mkdtemp(prefix="test_compare.")
        self.addCleanup(shutil.rmtree, tmp, True)
        out = os.path.join(tmp, "out")
        return tmp, out, (lambda *a: run_script(*a, "--out", out))

    def two_files(self, tmp, **kw):
        base, new = compare_sets(**kw)
        paths = []
        for name, sw in (("base.csv", base), ("new.csv", new)):
            paths.append(os.path.join(tmp, name))
            with open(paths[-1], "w", encoding="utf-8") as f:
                f.write(sw.text())
        return paths

    def compared(self, *extra, **kw):
        tmp, out, run = self.run_compare()
        b, n = self.two_files(tmp, **kw)
        proc = run("--compare", b, n, *extra)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, "compare.json"), encoding="utf-8") as f:
            a = json.load(f, parse_constant=strict_json)
        with open(os.path.join(out, "compare.md"), encoding="utf-8") as f:
            md = f.read()
        self.assertTrue(os.path.getsize(os.path.join(out, "compare.png")) > 10000)
        return a, md, proc

    @staticmethod
    def comp(a, metric, series, size, mode="stream"):
        found = [c for c in a["comparisons"] if (c["metric"], c["series"], c["msg_size"],
                                                 c["mode"]) == (metric, series, size, mode)]
        assert len(found) == 1, (metric, series, size, found)
        return found[0]

    def test_known_factors_give_the_right_answers(self):
        a, md, _ = self.compared("--allow-diff", "kernel", new_kernel="6.19.0-test")
        expect = {("a1", 64): "faster", ("a1", 64 * KIB): "same",
                  ("a2", 64): "slower", ("a2", 64 * KIB): "same",
                  ("a3", 64 * KIB): "cannot tell"}
        for (s, size), verdict in expect.items():
            c = self.comp(a, "throughput_gbps", s, size)
            self.assertEqual(c["verdict"], verdict, c)
            factor = CMP_STREAM[(s, size)][1]
            self.assertLess(c["ci_low"], c["ci_high"])
            self.assertTrue(c["ci_low"] <= factor * 1.02 and factor / 1.02 <= c["ci_high"], c)
            self.assertAlmostEqual(c["ratio"], factor, delta=0.02 * factor)
            self.assertEqual((c["n_base"], c["n_new"], c["family_size"]), (6, 6, 5))
            # the driver's CPU per byte is 3.1e9 / bytes: its answers mirror throughput's
            cpu = self.comp(a, "host_cpu_ns_per_byte", s, size)
            self.assertEqual(cpu["verdict"], verdict, cpu)
            self.assertAlmostEqual(cpu["ratio"], 1 / factor, delta=0.02 / factor)
        # all 36 differences on one side: p = 2 / C(12, 6); five in the family
        c = self.comp(a, "throughput_gbps", "a1", 64)
        self.assertAlmostEqual(c["p"], 2 / 924)
        self.assertAlmostEqual(c["coverage"], 1 - 2 * 19 / 924)
        self.assertEqual(self.comp(a, "rtt_p50_us", "a1", 64, "rr")["verdict"], "faster")
        self.assertEqual(self.comp(a, "rtt_p50_us", "a2", 64, "rr")["verdict"], "same")
        thr = next(m for m in a["metrics"] if m["metric"] == "throughput_gbps")
        self.assertEqual((thr["faster"], thr["slower"], thr["same"], thr["cannot tell"]),
                         (1, 1, 2, 1))
        geo = math.exp(statistics.fmean(math.log(c["ratio"]) for c in a["comparisons"]
                                        if c["metric"] == "throughput_gbps"))
        self.assertAlmostEqual(thr["geomean"], geo)
        self.assertAlmostEqual(thr["geomean"], (1.5 * 0.6) ** 0.2, delta=0.02)
        # the report says it in words, the change first
        self.assertEqual(md.split("\n")[2],
                         "**Compared: kernel 6.18.0-test → 6.19.0-test.**")
        line = next(x for x in md.split("\n") if x.startswith("- **throughput**"))
        self.assertIn("faster at 1 (×1.50)", line)
        self.assertIn("slower at 1 (×0.60)", line)
        self.assertIn("the same within ±5% at 2", line)
        self.assertIn("cannot tell at 1", line)
        self.assertIn("| stream a1 64 KiB × 1 |", md)
        self.assertIn("same within ±5% |", md)

    def test_mismatched_kernel_refused_unless_allowed(self):
        tmp, out, run = self.run_compare()
        b, n = self.two_files(tmp, new_kernel="6.19.0-test")
        proc = run("--compare", b, n)
        self.assertEqual((proc.returncode, proc.stdout), (2, ""), proc.stderr)
        self.assertEqual(proc.stderr,
                         "fatal: BASE and NEW differ in kernel (6.18.0-test → 6.19.0-test), "
                         "which is not named as the change: add --allow-diff kernel if it is\n")
        self.assertFalse(os.path.exists(out))
        # naming another field does not allow this one
        proc = run("--compare", b, n, "--allow-diff", "mtu")
        self.assertEqual(proc.returncode, 2, proc.stderr)
        self.assertIn("differ in kernel", proc.stderr)
        proc = run("--compare", b, n, "--allow-diff", "kernel")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("compared: kernel 6.18.0-test → 6.19.0-test", proc.stdout)

    def test_placement_as_the_change_matches_points_across_it(self):
        tmp, out, run = self.run_compare()
        b, n = self.two_files(tmp, new_placement="pinned")
        proc = run("--compare", b, n)
        self.assertEqual(proc.returncode, 2)
        self.assertIn("differ in placement (unpinned → pinned)", proc.stderr)
        a, md, _ = self.compared("--allow-diff", "placement", new_placement="pinned")
        self.assertEqual(len([c for c in a["comparisons"]
                              if c["metric"] == "throughput_gbps"]), 5)
        self.assertIn("**Compared: placement unpinned → pinned.**", md)

    def test_two_run_ids_of_one_csv(self):
        tmp, out, run = self.run_compare()
        base, new = compare_sets()
        path = os.path.join(tmp, "results.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(base.text(new))
        proc = run(path, "--compare", CMP_BASE_ID, CMP_NEW_ID)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        with open(os.path.join(out, "compare.json"), encoding="utf-8") as f:
            a = json.load(f)
        self.assertEqual((a["base"]["run_ids"], a["new"]["run_ids"]), ([CMP_BASE_ID],
                                                                        [CMP_NEW_ID]))
        self.assertEqual(a["differences"], [])
        self.assertEqual(self.comp(a, "throughput_gbps", "a2", 64)["verdict"], "slower")
        with open(os.path.join(out, "compare.md"), encoding="utf-8") as f:
            self.assertIn("no recorded field differs", f.read())
        # FILE@ID names the same runs; the same runs on both sides are refused
        proc = run("--compare", f"{path}@{CMP_BASE_ID}", f"{path}@{CMP_BASE_ID}")
        self.assertEqual(proc.returncode, 2)
        self.assertIn("the same runs", proc.stderr)
        proc = run(path, "--compare", CMP_BASE_ID, "20990101T000000Z-1")
        self.assertEqual(proc.returncode, 1)
        self.assertIn("no such run_id", proc.stderr)

    def test_mann_whitney_pieces(self):
        for m, n in ((1, 1), (2, 3), (3, 3), (4, 4), (3, 5)):
            brute = [0] * (m * n + 1)
            for pos in itertools.combinations(range(m + n), m):
                brute[sum(1 for i in pos for j in range(i) if j not in pos)] += 1
            self.assertEqual(cbstats.mann_whitney_counts(m, n), brute)
        self.assertAlmostEqual(cbstats.shift_coverage(3, 3, 1), 0.9)      # no 95% interval
        self.assertAlmostEqual(cbstats.shift_coverage(4, 4, 1), 1 - 2 / 70)
        self.assertEqual(cbstats.mann_whitney_critical(3, 3), -1)
        self.assertEqual(cbstats.unpaired_detectable(3, 3, 0.1), math.inf)
        est, lo, hi, cov = cbstats.shift_interval([0, 1, 2, 3], [10, 11, 12, 13])
        self.assertEqual((est, lo, hi), (10, 7, 13))
        # the interval read as a test: p <= 0.05 exactly when it excludes 0 (and the
        # equivalence p exactly when it lies inside the band), ties included
        rnd = random.Random(5)
        for _ in range(300):
            m, n = rnd.randint(4, 7), rnd.randint(4, 7)
            xs = [round(rnd.gauss(0, 1), 1) for _ in range(m)]
            ys = [round(rnd.gauss(rnd.choice((0, 1, 2)), 1), 1) for _ in range(n)]
            _, lo, hi, cov = cbstats.shift_interval(xs, ys)
            if cov < cbstats.CI_LEVEL:
                continue
            self.assertEqual(cbstats.mann_whitney_p(xs, ys) <= 0.05, lo > 0 or hi < 0)
            self.assertEqual(cbstats.mann_whitney_equivalence_p(xs, ys, -0.5, 0.5) <= 0.05,
                             -0.5 < lo and hi < 0.5)
        c = cbstats.judge_unpaired([1, 1.1, 0.9], [2, 2.2, 1.8], True, 0.05)
        self.assertEqual(c["verdict"], "cannot tell")       # 3 and 3: too few runs
        self.assertIn("too few runs", c["reason"])


# ---- per-interval stability (interval_* columns) -------------------------------------------

STAB_ID = "20260103T000000Z-902"
STAB_EXTRA = ("interval_s", "interval_cv", "interval_stall_s", "interval_drift")


def stability_sweep():
    """Six rounds of a1 and a2 at 64 KiB with the receiver's stability recorded: round 3's a2
    run stalled 0.3 s (three 0.1 s intervals), round 5's a1 drifted to 0.6 of its start, and
    round 2's a1 stalled one interval only (below the flag)."""
    sw = Sweep(run_id=STAB_ID)
    for rep in range(1, 7):
        for strategy in ("a1", "a2"):
            stall = {(3, "a2"): 0.3, (2, "a1"): 0.1}.get((rep, strategy), 0.0)
            drift = 0.6 if (rep, strategy) == (5, "a1") else 1.02
            sw.add(strategy, 64 * KIB, 1, rep, 10.0, interval_s=0.1, interval_cv=0.05,
                   interval_stall_s=stall, interval_drift=drift)
    return sw


class TestStability(unittest.TestCase):
    """The report flags runs whose per-interval samples show a stall or a drift."""

    def test_stall_and_drift_flagged(self):
        tmp = tempfile.mkdtemp(prefix="test_stability.")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "results.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(stability_sweep().text(extra=STAB_EXTRA))
        out, summary, report, _ = Outputs.of(path)
        st = summary["stability"]
        self.assertEqual((st["runs"], st["interval_s"], st["cv_median"]), (12, [0.1], 0.05))
        flagged = {(u["repeat"], u["strategy"]): u["why"] for u in st["unstable"]}
        self.assertEqual(flagged, {("3", "a2"): "stalled 0.3 s", ("5", "a1"): "drifted ×0.60"})
        text = section(report, "Stability over time")
        self.assertIn("2 of 12 flagged (stream a1 1, stream a2 1)", text)
        self.assertIn("(repeat 3): stream a2 64 KiB × 1: stalled 0.3 s", text)
        self.assertIn("(repeat 5): stream a1 64 KiB × 1: drifted ×0.60", text)
        self.assertNotIn("repeat 2)", text)

    def test_no_samples_no_section(self):
        _, summary, report, _ = Outputs.of("verdicts.csv")
        self.assertEqual(summary["stability"]["runs"], 0)
        self.assertNotIn("## Stability over time", report)

    def test_timeline_of_flagged_and_chosen_runs(self):
        tmp = tempfile.mkdtemp(prefix="test_timeline.")
        self.addCleanup(shutil.rmtree, tmp, True)
        path = os.path.join(tmp, "results.csv")
        with open(path, "w", encoding="utf-8") as f:
            f.write(stability_sweep().text(extra=STAB_EXTRA))
        raw = os.path.join(tmp, "results", STAB_ID)
        os.makedirs(raw)
        per = [10, 10, 0, 0, 0, 10, 10, 10, 10, 10]       # MB per 0.1 s; round 3's a2 stalled
        samples = [{"t_s": k / 10, "len_s": 0.1, "bytes": b * 10 ** 6, "messages": b * 15,
                    "cpu_s": 0.08 if b else 0.0, "retrans": 0} for k, b in enumerate(per)]
        for side in ("cli", "srv"):                       # order 6: round 3's a2
            with open(os.path.join(raw, f"0006-a2-default-64K-t1-r3.{side}.json"), "w") as f:
                json.dump({"status": "ok", "samples": samples}, f)
        out = os.path.join(tmp, "out")
        proc = run_script(path, "--out", out)
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertIn("timeline", proc.stdout)          # the flagged run kept its samples
        self.assertGreater(os.path.getsize(os.path.join(out, "timeline.png")), 10000)
        proc = run_script(path, "--out", out + "2", "--timeline", f"{STAB_ID}:6")
        self.assertEqual(proc.returncode, 0, proc.stderr)
        self.assertTrue(os.path.exists(os.path.join(out + "2", "timeline.png")))
        proc = run_script(path, "--out", out + "3", "--timeline", "7")
        self.assertEqual(proc.returncode, 1)
        self.assertEqual(proc.stderr, f"fatal: --timeline {STAB_ID}:7: no samples in "
                         f"results/{STAB_ID}/0007-*.cli.json or .srv.json (the run predates "
                         "--interval, or its files were archived)\n")


class ProtocolResult(unittest.TestResult):
    """Prints 'PASS: name' / 'FAIL: name — why' / 'SKIP: name — why', one line per test."""

    @staticmethod
    def name(test):
        return test._testMethodName.removeprefix("test_")

    @staticmethod
    def why(err):
        exc = err[1]
        text = " ".join(str(exc).split()) or type(exc).__name__
        if not isinstance(exc, AssertionError):
            text = f"{type(exc).__name__}: {text}"
        return text[:300]

    def addSuccess(self, test):
        super().addSuccess(test)
        print(f"PASS: {self.name(test)}", flush=True)

    def addFailure(self, test, err):
        super().addFailure(test, err)
        print(f"FAIL: {self.name(test)} — {self.why(err)}", flush=True)

    def addError(self, test, err):
        super().addError(test, err)
        print(f"FAIL: {self.name(test)} — {self.why(err)}", flush=True)

    def addSkip(self, test, reason):
        super().addSkip(test, reason)
        print(f"SKIP: {self.name(test)} — {reason}", flush=True)


def write_fixtures():
    os.makedirs(FIXTURES, exist_ok=True)
    for name, text in fixture_texts().items():
        with open(fixture(name), "w", encoding="utf-8") as f:
            f.write(text)
        print(f"wrote {fixture(name)}")


def main(argv):
    if argv[:1] == ["--write-fixtures"]:
        write_fixtures()
        return 0
    if argv[:1] == ["--write-realistic"] and len(argv) >= 2:
        with open(argv[1], "w", encoding="utf-8") as f:
            f.write(realistic_sweep(pmu="--pmu" in argv).text())
        return 0
    suite = unittest.TestSuite()
    loader = unittest.defaultTestLoader
    for case in (TestContract, TestCrossover, TestInterval, TestStatistics, TestVerdicts,
                 TestMultiplicity, TestPlanned, TestTaskClock, TestMachines, TestData,
                 TestRuns, TestCpuSources, TestFigures, TestBadInput, TestReportLength,
                 TestCompare, TestStability, TestSpreadLine):
        suite.addTests(loader.loadTestsFromTestCase(case))
    result = ProtocolResult()
    try:
        suite.run(result)
    finally:
        if Outputs.tmp:
            shutil.rmtree(Outputs.tmp, ignore_errors=True)
    return 0 if result.wasSuccessful() else 1


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
