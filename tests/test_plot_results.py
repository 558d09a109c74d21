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
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
SCRIPT = os.path.join(ROOT, "plot_results.py")
FIXTURES = os.path.join(HERE, "fixtures", "csv")
FIGURES = ("throughput", "time_per_msg", "latency", "cache_misses", "cpu_per_byte",
           "context_switches", "zc_copied", "summary")
KIB = 1024

# The column list exactly as README.md ("CSV columns") and run_experiments.sh write it,
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
      "host_cpu_softirq_s host_cpu_ns_per_byte placement kernel cpu_model link mtu "
      "remote_host remote_role remote_kernel remote_cpu_model local_addr remote_addr "
      "local_if local_driver local_firmware local_mtu local_speed_mbps local_sg local_tso "
      "local_gso remote_if remote_driver remote_firmware remote_mtu remote_speed_mbps "
      "remote_sg remote_tso remote_gso".split())
PMU_EVENTS = ("cycles", "instructions", "cache_references", "cache_misses",
              "l1_dcache_load_misses", "llc_load_misses")
SW_EVENTS = ("context_switches", "cpu_migrations", "page_faults", "task_clock")


def load_script():
    spec = importlib.util.spec_from_file_location("plot_results", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


pr = load_script()


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

    def text(self, *more):
        """The CSV of this sweep, followed by the rows of more sweeps appended to it (as
        the driver appends every sweep to the same file under a new run_id)."""
        out = io.StringIO()
        w = csv.writer(out, lineterminator="\n")
        w.writerow(CSV_COLUMNS)
        for r in self.rows + [r for sw in more for r in sw.rows]:
            w.writerow([cell(r[c]) for c in CSV_COLUMNS])
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
                summary = json.load(f)
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
    def test_crossover_summary_json(self):
        _, summary, _, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["crossover"], CROSSOVER_ANSWER)

    def test_crossover_report_md(self):
        _, _, report, _ = Outputs.of("crossover.csv")
        a2 = section(report, "Where a2 one-copy")
        self.assertIn("- 1 thread: from **16 KiB**", a2)
        self.assertIn("- 2 threads: from **64 B**", a2)
        a3 = section(report, "Where a3 zero-copy")
        self.assertIn("- 1 thread: **not in the measured range**", a3)
        self.assertIn("- 2 threads: from **16 KiB**", a3)
        # the medians the answer rests on are shown: a2/a1 at 1 KiB, 1 thread = 1/2
        self.assertIn("0.500 (1.00 / 2.00)", a2)

    def test_mean_and_median_disagree(self):
        data = CROSSOVER_GBPS[1]
        means = {s: sum(v) / len(v) for s, v in data["a2"].items()}
        a1_means = {s: sum(v) / len(v) for s, v in data["a1"].items()}
        # on means the answer would be 1 KiB; on medians it is 16 KiB
        self.assertEqual(pr.crossover_size(means, a1_means), KIB)
        _, summary, _, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["crossover"]["a2_vs_a1"]["1"], 16 * KIB)
        # and at 2 threads a1's 64 KiB mean (34) hides that its median (1) loses to a2
        self.assertEqual(summary["crossover"]["a2_vs_a1"]["2"], 64)

    def test_single_win_then_losses_is_null(self):
        self.assertIsNone(pr.crossover_size({64: 2, 1024: 1, 4096: 1},
                                            {64: 1, 1024: 2, 4096: 2}))
        self.assertIsNone(pr.crossover_size({64: 1, 1024: 3, 4096: 1},
                                            {64: 2, 1024: 2, 4096: 2}))
        self.assertEqual(pr.crossover_size({64: 2, 1024: 2}, {64: 2, 1024: 1}), 64)
        _, summary, _, _ = Outputs.of("crossover.csv")
        self.assertIsNone(summary["crossover"]["a3_vs_a1"]["1"])

    def test_failed_rows_excluded_and_named(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["rows"]["failed"], 2)
        self.assertEqual(summary["rows"]["ok"], 72)
        reasons = sorted(f["reason"] for f in summary["failed_runs"])
        self.assertEqual(reasons, ["server never ready", "verify errors: 3"])
        self.assertIn("run 20250101T000000Z/73", report)
        self.assertIn("verify errors: 3", report)
        # the failed 100 Gbit/s a2 run would otherwise win 1 KiB at 1 thread
        best = {(b["msg_size"], b["threads"]): b for b in summary["best"]}
        self.assertEqual(best[(KIB, 1)]["strategy"], "a1")

    def test_best_per_point(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        best = {(b["msg_size"], b["threads"]): (b["strategy"], b["throughput_gbps"])
                for b in summary["best"]}
        self.assertEqual(best, {
            (64, 1): ("a3", 2), (KIB, 1): ("a1", 2), (16 * KIB, 1): ("a2", 4.5),
            (64 * KIB, 1): ("a2", 6), (64, 2): ("a2", 3), (KIB, 2): ("a1", 3),
            (16 * KIB, 2): ("a2", 7), (64 * KIB, 2): ("a2", 5)})
        self.assertIn("| 16 KiB | 1 | a2 one-copy | 4.50 |", report)

    def test_scaling_efficiency(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        eff = {(e["strategy"], e["msg_size"], e["threads"]): e["efficiency"]
               for e in summary["scaling_efficiency"]}
        self.assertAlmostEqual(eff[("a1", 64, 2)], 1.0)            # 2 / (2 × 1)
        self.assertAlmostEqual(eff[("a2", 64 * KIB, 2)], 5 / 12)   # 5 / (2 × 6)
        self.assertAlmostEqual(eff[("a1", 64 * KIB, 2)], 0.1)      # median 1 / (2 × 5)
        self.assertIn("| a2 one-copy | 64 KiB | 42% |", report)


class TestData(unittest.TestCase):
    def test_zc_copied_share(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        shares = {(z["msg_size"], z["threads"]): z["share"] for z in summary["zc_copied_share"]}
        self.assertEqual(len(shares), 8)
        self.assertEqual(shares[(64 * KIB, 1)], 0.5)
        self.assertTrue(all(v == 1.0 for k, v in shares.items() if k != (64 * KIB, 1)))
        self.assertIn("| 64 KiB | 1 | 50.0% |", report)
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
        _, summary, report, _ = Outputs.of("crossover.csv")
        retrans = summary["retransmissions"]
        self.assertEqual([(r["order"], r["tcp_retrans"]) for r in retrans],
                         [(str(RETRANS_ORDER), 7.0)])
        text = section(report, "Runs with TCP retransmissions")
        self.assertIn(f"run 20250101T000000Z/{RETRANS_ORDER}", text)
        self.assertIn("a2 one-copy, 64 KiB, 2 threads, stream, repeat 2", text)

    def test_cpu_softirq_a3_vs_a2(self):
        _, summary, report, _ = Outputs.of("crossover.csv")
        cmp_ = summary["a3_vs_a2_cpu"]
        self.assertEqual((cmp_["softirq_higher"], cmp_["softirq_compared"]), (8, 8))
        p = [x for x in cmp_["points"] if (x["msg_size"], x["threads"]) == (64, 1)][0]
        # 0.6 s over 2 Gbit/s × 2 s  vs  0.1 s over 0.5 Gbit/s × 2 s
        self.assertAlmostEqual(p["a3_softirq_ns_per_byte"], 0.6e9 / 500_000_000)
        self.assertAlmostEqual(p["a2_softirq_ns_per_byte"], 0.1e9 / 125_000_000)
        text = section(report, "Where the CPU went")
        self.assertIn("exceeded a2's at 8 of 8 measured (size, threads) points", text)
        self.assertIn("consistent with the copy being deferred into softirq", text)

    def test_no_rr_rows_said_plainly(self):
        out, summary, report, _ = Outputs.of("crossover.csv")
        self.assertEqual(summary["latency"], [])
        self.assertIn("No request-response (mode rr) rows", report)
        self.assertTrue(os.path.getsize(os.path.join(out, "latency.png")) > 0)

    def test_rr_latency_answers(self):
        out, summary, report, _ = Outputs.of("rr_only.csv")
        lat = {e["msg_size"]: e for e in summary["latency"]}
        self.assertEqual((lat[64]["p50"]["strategy"], lat[64]["p50"]["us"]), ("a2", 19))
        self.assertEqual((lat[64]["p99"]["strategy"], lat[64]["p99"]["us"]), ("a1", 50))
        self.assertEqual(lat[16 * KIB]["p50"]["strategy"], "a2")
        self.assertEqual(lat[16 * KIB]["p99"]["strategy"], "a3")
        self.assertIn("| 64 B | 1 | a2 one-copy (19.0 µs) | a1 two-copy (50.0 µs) |", report)
        # no stream rows: the stream questions are declined, not answered with zeros
        self.assertEqual(summary["crossover"], {"a2_vs_a1": {}, "a3_vs_a1": {}})
        self.assertIn("The data cannot answer this", report)

    def test_per_field_only_baseline(self):
        _, summary, report, _ = Outputs.of("pmu.csv")
        self.assertEqual(summary["baseline"]["variant"], "per-field")
        self.assertIn("only the per-field variant of a1 was measured", report)
        self.assertEqual(summary["crossover"]["a2_vs_a1"], {"1": 4 * KIB})
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
        self.assertEqual(summary["crossover"]["a2_vs_a1"], {"1": 64 * KIB})
        runs = summary["runs"]
        self.assertEqual((runs["selection"], runs["run_ids"], runs["by_mode"]),
                         ("latest", [FULL_ID], {"stream": FULL_ID}))
        self.assertEqual((runs["rows_left_out"], runs["run_ids_left_out"]), (4, [QUICK_ID]))
        self.assertEqual(summary["rows"]["total"], 12)
        self.assertIn("Medians over 3 repeats", report)
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
        self.assertEqual([e["p50"]["strategy"] for e in summary["latency"]], ["a1", "a1"])
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
        self.assertIn("| size | strategy | sender ns/B (task-clock) | sender ns/B (rusage) | "
                      "receiver ns/B (task-clock) | receiver ns/B (rusage) |", cpu)
        # a1, 1 KiB, 1 thread: 2 Gbit/s for 2 s = 5e8 B; task-clock 1500 ms; rusage 1.4/1.5 s
        self.assertIn("| 1 KiB | a1 two-copy | 3.00 | 2.80 | 3.00 | 3.00 |", cpu)
        self.assertIn("Figure 4 (cpu_per_byte) plots sender (server): CPU-ns per byte "
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
        self.assertIn("Figure 4 (cpu_per_byte) plots sender (server): cycles per byte (perf); "
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
            os.makedirs(os.path.join(tmp, "matplotlib"))
            with open(os.path.join(tmp, "matplotlib", "__init__.py"), "w") as f:
                f.write("raise ImportError('hidden for this test')\n")
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


# ---- the PASS/FAIL protocol -----------------------------------------------------------

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
    for case in (TestContract, TestCrossover, TestData, TestRuns, TestCpuSources, TestFigures,
                 TestBadInput):
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
