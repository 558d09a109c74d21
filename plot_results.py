#!/usr/bin/env python3
"""Plot copybench results and write the analysis, from results.csv alone.

Reads the CSV written by run_experiments.sh (one row per run, columns as listed in
README.md, section "CSV columns") and writes into the output directory:

  throughput, ratios, time_per_msg, latency, latency_threads, cache_misses, cpu_per_byte,
  scaling, context_switches, zc_copied, summary   (each as .png and .svg)
  report.md            the answers, in prose, with the numbers behind them
  summary.json         the same answers for scripts

Which rows: the driver appends every sweep to the same CSV under a new run_id. By default
only the latest sweep is used: per mode (stream, rr) the latest run_id with rows of that
mode, from the same machine as the latest run (--run-id chooses others). Rows that differ in
kernel, cpu_model, link or mtu are never pooled: such a choice is refused (exit 2). A run
directory results/<run_id>/ beside the CSV without a COMPLETE file is reported as incomplete.
Only rows with status "ok" are measured; failed rows are counted and named in the report.

Verdicts: a round is one repeat of one run (the driver interleaves the strategies within a
round). Each strategy is compared with a1 on the per-round paired ratios of a metric: their
median, a distribution-free 95% interval for that median (sign-test order statistics, exact
binomial coverage; it needs >= 6 rounds) and a verdict, faster / slower / unresolved, that
is given only where the interval excludes 1 (README.md, "Reading the report").
Figures draw medians with that order-statistic interval. Empty cells (not applicable) and
NA cells (not available, e.g. no PMU) are skipped, never plotted as 0, and every figure says
what was missing. Every number in the outputs comes from the CSV.
"""

import argparse
import csv
import json
import math
import os
import statistics
import subprocess
import sys
from collections import defaultdict, namedtuple

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))   # cbstats.py lives beside us
from cbstats import (  # noqa: E402
    CI_LEVEL, MIN_ROUNDS, judge, median_interval, order_stat_coverage, order_stat_k)

SYSTEM_PYTHON = "/usr/bin/python3"          # Debian's python3-matplotlib serves this one
REEXEC_GUARD = "COPYBENCH_PLOT_REEXECED"   # set on re-exec so we never loop
MISSING_MPL = ("matplotlib not found for {exe}; "
               "install it with: sudo apt-get install python3-matplotlib")

# ---- the CSV contract (README.md, section "CSV columns") -----------------------------

PERF_EVENTS = ("cycles", "instructions", "cache_references", "cache_misses",
               "l1_dcache_load_misses", "llc_load_misses", "context_switches",
               "cpu_migrations", "page_faults", "task_clock")


def _perf_columns():
    """srv_<E>..., srv_<E>_running_pct..., then the same for cli, as the driver writes them."""
    cols = []
    for side in ("srv", "cli"):
        cols += [f"{side}_{e}" for e in PERF_EVENTS]
        cols += [f"{side}_{e}_running_pct" for e in PERF_EVENTS]
    return cols


COLUMNS = (
    "run_id", "timestamp", "order", "repeat", "status", "reason", "strategy", "variant",
    "mode", "msg_size", "threads", "duration_s", "warmup_s", "bytes", "messages",
    "throughput_gbps", "msgs_per_sec", "us_per_msg", "transactions", "transactions_per_sec",
    "rtt_min_us", "rtt_mean_us", "rtt_p50_us", "rtt_p90_us", "rtt_p99_us", "rtt_p999_us",
    "rtt_max_us", "verify_errors", "srv_bytes_sent",
    *_perf_columns(),
    "perf_user_only", "srv_cpu_user_s", "srv_cpu_sys_s", "cli_cpu_user_s", "cli_cpu_sys_s",
    "srv_cpu_ns_per_byte", "cli_cpu_ns_per_byte", "srv_cycles_per_byte", "cli_cycles_per_byte",
    "zc_sends", "zc_completions", "zc_copied", "zc_notifications", "zc_enobufs",
    "zc_pool_depth", "zc_pool_waits", "tcp_retrans", "tcp_rtt_us", "host_cpu_user_s",
    "host_cpu_sys_s", "host_cpu_irq_s", "host_cpu_softirq_s", "host_cpu_ns_per_byte",
    "placement", "kernel", "cpu_model", "link", "mtu",
)
# Columns the driver writes after these (the measured window, the paths, --profile, two
# hosts) are read when present, so a CSV from before them still plots: the numeric ones
# are in OPTIONAL_NUMERIC_COLUMNS, the text ones are read from the row as they are.
TEXT_COLUMNS = frozenset(("run_id", "timestamp", "status", "reason", "strategy", "variant",
                          "mode", "placement", "kernel", "cpu_model", "link"))
NUMERIC_COLUMNS = tuple(c for c in COLUMNS if c not in TEXT_COLUMNS)
# Read when the header has them (newer drivers write them), None otherwise.
PROFILE_CATEGORIES = (   # run_experiments.sh --profile: CPU ns per byte, all CPUs, the window
    ("user_copy", "user-space copy (a1)", "#0072B2"),
    ("send_copy", "send copy", "#E69F00"),
    ("zc_overhead", "zero-copy pinning + completions", "#009E73"),
    ("deferred_copy", "deferred copy", "#D55E00"),
    ("recv_copy", "receive copy", "#CC79A7"),
    ("stack", "rest of the kernel", "#999999"),
    ("user_other", "rest of user space", "#56B4E9"),
)
OPTIONAL_NUMERIC_COLUMNS = ("host_busy_cpus", "cpus_online", "srv_window_s", "cli_window_s",
                            "srv_life_cpu_user_s", "srv_life_cpu_sys_s", "tcp_loss_probes",
                            "tcp_spurious_rtos", "tcp_dsack_recv", "zc_in_flight_max",
                            "buffers", "rx_mapped_share", "fixed_buffers",
                            *(f"prof_{c}" for c, _, _ in PROFILE_CATEGORIES),
                            "prof_idle", "prof_foreign", "prof_samples",
                            "local_mtu", "local_speed_mbps", "remote_mtu", "remote_speed_mbps")
MACHINE_COLUMNS = ("kernel", "cpu_model", "link", "mtu")   # rows that differ are not pooled
PERF_COUNT_COLUMNS = tuple(f"{side}_{e}" for side in ("srv", "cli") for e in PERF_EVENTS)

# ---- presentation ---------------------------------------------------------------------

SIDES = {"srv": "sender (server)", "cli": "receiver (client)"}

Style = namedtuple("Style", "label color marker linestyle hollow")
SERIES_STYLES = {  # fixed, so a strategy has the same colour in every figure
    ("a1", "default"): Style("a1 two-copy", "#0072B2", "o", "-", False),
    ("a1", "per-field"): Style("a1 two-copy (per-field)", "#CC79A7", "s", "-.", True),
    ("a2", "default"): Style("a2 one-copy", "#E69F00", "^", "-", False),
    ("a3", "default"): Style("a3 zero-copy", "#009E73", "D", "-", False),
}
SPARE_COLOURS = ("#D55E00", "#56B4E9", "#000000", "#F0E442")
LOG_Y_SPAN = 30.0   # a panel whose positive values span more than this factor gets a log y axis
DPI = 120

Series = namedtuple("Series", "strategy variant")
# over rounds: median, its order-statistic interval [lo, hi] with the interval's exact
# coverage (< CI_LEVEL when there are too few rounds: then [lo, hi] = [min, max]), min, max
Stat = namedtuple("Stat", "median lo hi n coverage min max")
Agg = namedtuple("Agg", "stats rows missing")       # stats[(series, size, threads)] -> Stat


class InputError(Exception):
    """Bad input; the message is 'file[:line]: what' and becomes one fatal line; status is
    the exit status (1: unusable file, 2: a choice of runs that cannot be honoured)."""

    def __init__(self, message, status=1):
        super().__init__(message)
        self.status = status


class Row:
    """One CSV row: raw text cells, parsed numbers (None for empty or NA), its line."""
    __slots__ = ("line", "raw", "num")

    def __init__(self, line, raw, num):
        self.line, self.raw, self.num = line, raw, num

    @property
    def series(self):
        """(strategy, variant): the variant names every non-default choice of the sender
        and receiver — per-field, the io_uring engine, receive zero-copy — so each path is
        a series of its own ("uring", "rx-zerocopy", "uring+rx-zerocopy", ...)."""
        parts = [self.raw["variant"]] if self.raw["variant"] not in ("", "default") else []
        if self.raw.get("engine", "") not in ("", "syscall", "NA"):
            parts.append(self.raw["engine"])
        if self.raw.get("rx", "") == "zerocopy":
            parts.append("rx-zerocopy")
        return Series(self.raw["strategy"], "+".join(parts) or "default")

    @property
    def size(self):
        return int(self.num["msg_size"])

    @property
    def threads(self):
        return int(self.num["threads"])

    @property
    def ok(self):
        return self.raw["status"] == "ok"


# ---- input ----------------------------------------------------------------------------

def parse_cell(path, line, column, text):
    """Number in a numeric cell; None for empty (not applicable) or NA (not available)."""
    if text in ("", "NA"):
        return None
    try:
        value = float(text)
    except ValueError:
        raise InputError(f"{path}:{line}: column {column}: not a number: {text!r}") from None
    if not math.isfinite(value):
        raise InputError(f"{path}:{line}: column {column}: not a finite number: {text!r}")
    return value


def parse_row(path, line, header, fields):
    """Row from one record, checking the cells the analysis depends on."""
    raw = {name: cell.strip() for name, cell in zip(header, fields)}
    num = {c: parse_cell(path, line, c, raw[c]) for c in NUMERIC_COLUMNS}
    for c in OPTIONAL_NUMERIC_COLUMNS:
        num[c] = parse_cell(path, line, c, raw[c]) if c in raw else None
    if raw["status"] not in ("ok", "failed"):
        raise InputError(f"{path}:{line}: column status: expected ok or failed, "
                         f"got {raw['status']!r}")
    if raw["status"] == "ok":
        if not raw["strategy"]:
            raise InputError(f"{path}:{line}: column strategy: empty in an ok row")
        if raw["mode"] not in ("stream", "rr"):
            raise InputError(f"{path}:{line}: column mode: expected stream or rr, "
                             f"got {raw['mode']!r}")
        for c in ("msg_size", "threads"):
            v = num[c]
            if v is None or v < 1 or v != int(v):
                raise InputError(f"{path}:{line}: column {c}: expected a positive integer "
                                 f"in an ok row, got {raw[c]!r}")
    return Row(line, raw, num)


def load_rows(path):
    """All rows of the results CSV; InputError on anything we cannot trust."""
    try:
        f = open(path, newline="", encoding="utf-8")
    except FileNotFoundError:
        raise InputError(f"{path}: no such file") from None
    except OSError as e:
        raise InputError(f"{path}: {e.strerror or e}") from None
    rows, header = [], None
    with f:
        reader = csv.reader(f)
        try:
            for fields in reader:
                if not any(cell.strip() for cell in fields):
                    continue  # blank line
                if header is None:
                    header = [h.strip() for h in fields]
                    missing = [c for c in COLUMNS if c not in header]
                    if missing:
                        raise InputError(f"{path}:{reader.line_num}: missing columns: "
                                         + ", ".join(missing))
                    continue
                if len(fields) != len(header):
                    raise InputError(f"{path}:{reader.line_num}: {len(fields)} fields, "
                                     f"the header has {len(header)}")
                rows.append(parse_row(path, reader.line_num, header, fields))
        except csv.Error as e:
            raise InputError(f"{path}:{reader.line_num}: {e}") from None
        except UnicodeDecodeError:
            raise InputError(f"{path}: not UTF-8 text") from None
    if header is None:
        raise InputError(f"{path}: empty file (expected the CSV header)")
    if not rows:
        raise InputError(f"{path}: no data rows after the header")
    return rows


# ---- which runs ------------------------------------------------------------------------

MODES = ("stream", "rr")
# Within one (mode, strategy, variant, size, threads) group, pooled rows must agree on these.
POOL_MUST_AGREE = ("duration_s", "warmup_s", "mtu", "link", "placement")


def run_order(rows):
    """run_ids oldest first: by their latest timestamp (ISO 8601 UTC sorts as text), then
    by the run_id (`<UTC time>-<pid>` sorts by time), then by where they end in the file."""
    key = {}
    for i, r in enumerate(rows):
        rid = r.raw["run_id"]
        ts, _, last = key.get(rid, ("", rid, -1))
        key[rid] = (max(ts, r.raw["timestamp"]), rid, i)
    return sorted(key, key=lambda rid: key[rid])


def parse_run_ids(text):
    """argparse type: 'latest', 'all' or a comma-separated list of run_ids."""
    t = text.strip()
    if t in ("latest", "all"):
        return t
    ids = [i.strip() for i in t.split(",") if i.strip()]
    if not ids:
        raise argparse.ArgumentTypeError(f"no run_id in {text!r}")
    return ids


def machine(r):
    """(kernel, cpu_model, link, mtu) of a row: what must agree for rows to be compared."""
    return tuple(r.raw[c] for c in MACHINE_COLUMNS)


def machine_text(m):
    """'kernel K, CPU C, link L, MTU M' for a machine() tuple."""
    return ", ".join(f"{name} {v or '?'}" for name, v in
                     zip(("kernel", "CPU", "link", "MTU"), m))


def machine_diff(m1, m2):
    """'kernel A vs B' for the first column where two machine() tuples differ."""
    for c, v1, v2 in zip(MACHINE_COLUMNS, m1, m2):
        if v1 != v2:
            return f"{c} {v1 or '(empty)'} vs {v2 or '(empty)'}"
    return ""


def machines_by_run(rows):
    """{run_id: [machine tuples seen in its ok rows, first seen first]}."""
    out = defaultdict(list)
    for r in rows:
        if r.ok and machine(r) not in out[r.raw["run_id"]]:
            out[r.raw["run_id"]].append(machine(r))
    return out


def check_one_machine(path, rows, what):
    """InputError (exit 2) naming the first two rows of rows that differ in MACHINE_COLUMNS."""
    first = {}
    for r in rows:
        if r.ok:
            first.setdefault(machine(r), r)
    if len(first) > 1:
        (m1, r1), (m2, r2) = list(first.items())[:2]
        raise InputError(
            f"{path}: {what} mixes machines: run {r1.raw['run_id']} (line {r1.line}) and "
            f"run {r2.raw['run_id']} (line {r2.line}) differ in {machine_diff(m1, m2)}; "
            "choose runs of one machine with --run-id ID[,ID...]", status=2)


def select_runs(path, rows, spec):
    """(rows used, runs info) for --run-id spec; InputError when the choice is unusable.

    latest: the latest run_id defines the machine (MACHINE_COLUMNS); per mode, the rows of
    the most recent run_id with rows of that mode on that machine (a stream sweep followed by
    an rr sweep shows both; a quick run followed by a full one shows the full one; a run from
    another machine is left out and named). all / several ids: pooled, refused (exit 2) if
    their rows differ in MACHINE_COLUMNS, or (exit 1) if a group's runs differ in how they
    were measured (POOL_MUST_AGREE)."""
    order = run_order(rows)
    machines = machines_by_run(rows)
    other_machine = {}
    if spec == "latest":
        with_ok = [i for i in order if machines.get(i)]
        latest = with_ok[-1] if with_ok else order[-1]
        check_one_machine(path, [r for r in rows if r.raw["run_id"] == latest],
                          f"run {latest}")
        here = machines[latest][0] if machines.get(latest) else None
        same = {i for i in order if not machines.get(i) or machines[i] == [here]}
        other_machine = {i: machines[i][0] for i in order if i not in same}
        by_mode = {}
        for m in MODES:
            with_mode = {r.raw["run_id"] for r in rows if r.raw["mode"] == m
                         and r.raw["run_id"] in same}
            if with_mode:
                by_mode[m] = max(with_mode, key=order.index)
        chosen = set(by_mode.values()) or {latest}
        used = [r for r in rows if by_mode.get(r.raw["mode"]) == r.raw["run_id"]
                or (r.raw["mode"] not in by_mode and r.raw["run_id"] in chosen)]
    else:
        wanted = order if spec == "all" else spec
        unknown = [i for i in wanted if i not in order]
        if unknown:
            raise InputError(f"{path}: --run-id {', '.join(unknown)}: no such run_id "
                             f"(the file has: {', '.join(order)})")
        chosen = set(wanted)
        by_mode = {m: sorted({r.raw["run_id"] for r in rows if r.raw["mode"] == m
                              and r.raw["run_id"] in chosen}, key=order.index)
                   for m in MODES}
        by_mode = {m: ids for m, ids in by_mode.items() if ids}
        used = [r for r in rows if r.raw["run_id"] in chosen]
        check_one_machine(path, used, f"--run-id {spec if isinstance(spec, str) else ','.join(spec)}")
        if len(chosen) > 1:
            check_poolable(path, used)
    run_ids = [i for i in order if i in chosen]
    modes_elsewhere = {m: [i for i in other_machine
                           if any(r.raw["mode"] == m and r.raw["run_id"] == i for r in rows)]
                       for m in MODES if m not in by_mode}
    info = {"selection": spec if isinstance(spec, str) else ",".join(spec),
            "run_ids": run_ids, "by_mode": by_mode, "rows_used": len(used),
            "rows_left_out": len(rows) - len(used),
            "run_ids_left_out": [i for i in order if i not in run_ids],
            "other_machine": {i: machine_text(m) for i, m in other_machine.items()},
            "modes_only_elsewhere": {m: ids for m, ids in modes_elsewhere.items() if ids},
            "incomplete": incomplete_runs(path, run_ids)}
    if not used:
        raise InputError(f"{path}: --run-id {info['selection']}: no rows")
    return used, info


COMPLETE_MARKER = "COMPLETE"   # the driver writes results/<run_id>/COMPLETE when a sweep ends


def incomplete_runs(path, run_ids):
    """run_ids whose directory results/<run_id>/ beside the CSV lacks COMPLETE (a killed or
    still running sweep). A run without a directory (archived, or CSV-only input) is not
    flagged: only a directory that exists and lacks the marker says the sweep did not end."""
    results = os.path.join(os.path.dirname(os.path.abspath(path)), "results")
    if not os.path.isdir(results):
        return []
    return [i for i in run_ids if os.path.isdir(os.path.join(results, i))
            and not os.path.exists(os.path.join(results, i, COMPLETE_MARKER))]


def check_poolable(path, rows):
    """InputError naming the first group whose runs differ in a POOL_MUST_AGREE column."""
    groups = defaultdict(list)
    for r in rows:
        if r.ok:
            groups[(r.raw["mode"], r.series, r.size, r.threads)].append(r)
    for (mode, series, size, threads), members in groups.items():
        for c in POOL_MUST_AGREE:
            seen = {}
            for r in members:
                v = r.num[c] if c in r.num else r.raw[c]
                seen.setdefault(v, r)
            if len(seen) > 1:
                (v1, r1), (v2, r2) = list(seen.items())[:2]
                show = lambda v: "NA" if v is None else f"{v:g}" if isinstance(v, float) else v
                raise InputError(
                    f"{path}: cannot pool runs {r1.raw['run_id']} (line {r1.line}) and "
                    f"{r2.raw['run_id']} (line {r2.line}): {c} differs ({show(v1)} vs "
                    f"{show(v2)}) for {mode} {style(series).label}, {fmt_size(size)}, "
                    f"{plural(threads)}; choose runs with --run-id ID[,ID...]")


# ---- numbers --------------------------------------------------------------------------

def col(name):
    """Metric: the cell itself."""
    return lambda r: r.num[name]


def per_byte(name, bytes_col, scale=1.0):
    """Metric: cell * scale / bytes (None when either is missing or bytes is 0)."""
    def metric(r):
        v, b = r.num[name], r.num[bytes_col]
        return None if v is None or not b else v * scale / b
    return metric


def zc_copied_share(r):
    """Share of a3's completed sends the kernel reported as copied (None if no completions)."""
    copied, done = r.num["zc_copied"], r.num["zc_completions"]
    return None if copied is None or not done else copied / done


def task_clock_ns_per_byte(side):
    """CPU-ns per byte from perf's task-clock (msec, whole process life), over the bytes of
    the whole life for both sides: srv_bytes_sent, which equals everything the client
    received (warm-up and end of stream included; the binaries guarantee it)."""
    return per_byte(f"{side}_task_clock", "srv_bytes_sent", 1e6)


def cpu_ns_per_byte(side):
    """CPU-ns per byte from perf's task-clock, falling back to rusage when NA."""
    from_clock = task_clock_ns_per_byte(side)
    from_rusage = col(f"{side}_cpu_ns_per_byte")

    def metric(r):
        v = from_clock(r)
        return v if v is not None else from_rusage(r)
    return metric


def aggregate(rows, metric):
    """Median, its interval over rounds, min and max of metric per (series, msg_size, threads).

    Rows where the metric is missing are skipped and counted, never taken as 0.
    """
    values = defaultdict(list)
    missing = 0
    for r in rows:
        v = metric(r)
        if v is None:
            missing += 1
        else:
            values[(r.series, r.size, r.threads)].append(v)
    stats = {}
    for k, v in values.items():
        med, lo, hi, cov = median_interval(v)
        stats[k] = Stat(med, lo, hi, len(v), cov, min(v), max(v))
    return Agg(stats, len(rows), missing)


def series_order(series):
    """Sort key: a1, a1 per-field, a2, a3, then anything else by name."""
    known = list(SERIES_STYLES)
    key = (series.strategy, series.variant)
    return (known.index(key), "", "") if key in known else (len(known), *key)


def style(series, all_series=()):
    """Fixed colour/marker/label for the known series; spare colours for others."""
    key = (series.strategy, series.variant)
    if key in SERIES_STYLES:
        return SERIES_STYLES[key]
    others = sorted(s for s in all_series if (s.strategy, s.variant) not in SERIES_STYLES)
    i = others.index(series) if series in others else 0
    name = series.strategy if series.variant == "default" else \
        f"{series.strategy} ({series.variant})"
    return Style(name, SPARE_COLOURS[i % len(SPARE_COLOURS)], "v", ":", False)


def fmt_size(n):
    """64 B, 1 KiB, 64 KiB, 1 MiB (binary units, as the binaries parse them)."""
    n = int(n)
    for unit, scale in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
        if n >= scale and n % scale == 0:
            return f"{n // scale} {unit}"
    return f"{n} B"


def fmt_num(x):
    """A measured value with about three significant digits; '–' when missing."""
    if x is None:
        return "–"
    a = abs(x)
    if a >= 100:
        return f"{x:,.0f}"
    if a >= 10:
        return f"{x:.1f}"
    if a >= 1:
        return f"{x:.2f}"
    return f"{x:#.3g}"


def parse_size(text):
    """argparse type: bytes with optional K/M/G suffix (powers of 1024)."""
    t = text.strip().upper().removesuffix("B").removesuffix("I")
    scale = {"K": 1 << 10, "M": 1 << 20, "G": 1 << 30}.get(t[-1:], 1)
    try:
        n = int(t[:-1] if scale > 1 else t) * scale
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a size: {text!r} (e.g. 64K)") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"size must be positive: {text!r}")
    return n


def positive_int(text):
    """argparse type: integer >= 1."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {text!r}")
    return n


# ---- the data set, once ----------------------------------------------------------------

class Data:
    """The loaded rows split the ways the figures and the report need them."""

    def __init__(self, path, rows, want_threads=None, want_size=None, runs=None):
        self.path = path
        self.rows = rows
        self.runs = runs or {"selection": "all", "run_ids": distinct(rows, "run_id"),
                             "rows_used": len(rows), "rows_left_out": 0,
                             "run_ids_left_out": []}
        self.ok = [r for r in rows if r.ok]
        self.failed = [r for r in rows if not r.ok]
        self.stream = [r for r in self.ok if r.raw["mode"] == "stream"]
        self.rr = [r for r in self.ok if r.raw["mode"] == "rr"]
        self.series = sorted({r.series for r in self.ok}, key=series_order)
        self.sizes = sorted({r.size for r in self.stream})
        self.threads = sorted({r.threads for r in self.stream})
        self.rr_sizes = sorted({r.size for r in self.rr})
        self.rr_threads = sorted({r.threads for r in self.rr})
        self.focus_threads, self.threads_note = pick_threads(self.threads, want_threads)
        self.focus_size, self.size_note = pick_size(self.sizes, want_size)
        self.baseline, self.baseline_note = pick_baseline(self.stream)

    def style(self, series):
        return style(series, self.series)


def pick_threads(measured, wanted):
    """Thread count for the single-thread-count figures: wanted, else 1, else the smallest."""
    if not measured:
        return None, ""
    if wanted is not None:
        if wanted in measured:
            return wanted, ""
        return measured[0], f"{wanted} threads not measured; showing {measured[0]}"
    return (1 if 1 in measured else measured[0]), ""


def pick_size(measured, wanted):
    """Size for the time-per-message figure: wanted (else 64 KiB), or the nearest measured."""
    if not measured:
        return None, ""
    target = wanted or 64 << 10
    best = min(measured, key=lambda s: (abs(math.log2(s / target)), -s))
    note = "" if best == target or wanted is None else \
        f"{fmt_size(wanted)} not measured; showing {fmt_size(best)}"
    return best, note


def pick_baseline(stream_rows):
    """The a1 series the others are compared with: default variant, else per-field."""
    present = {r.series for r in stream_rows}
    if Series("a1", "default") in present:
        return Series("a1", "default"), ""
    if Series("a1", "per-field") in present:
        return Series("a1", "per-field"), \
            "only the per-field variant of a1 was measured, so it is the baseline"
    return None, "a1 was not measured, so nothing can be compared with it"


def pick_series(data, strategy):
    """The series of one strategy to compare (its default variant if measured)."""
    candidates = [s for s in data.series if s.strategy == strategy]
    for s in candidates:
        if s.variant == "default":
            return s
    return candidates[0] if candidates else None


# ---- analysis (the numbers behind report.md and summary.json) --------------------------

def analyse(data):
    """Every answer of the report as plain data; summary.json is this, report.md its prose."""
    throughput = aggregate(data.stream, col("throughput_gbps"))
    comps = comparisons(data)
    detail = crossover_detail(data, throughput, comps)
    return {
        "source": data.path,
        "runs": data.runs,
        "machine": machine_summary(data),
        "rows": {"total": len(data.rows), "ok": len(data.ok), "failed": len(data.failed),
                 "stream_ok": len(data.stream), "rr_ok": len(data.rr)},
        "repeats": repeat_counts(throughput),
        "interval": {"method": "order statistics of the paired per-round ratios (sign test)",
                     "level": CI_LEVEL, "min_rounds": MIN_ROUNDS},
        "failed_runs": [run_ref(r) | {"reason": r.raw["reason"]} for r in data.failed],
        "baseline": series_ref(data.baseline) if data.baseline else None,
        "baseline_note": data.baseline_note,
        "comparisons": comps,
        "crossover": crossovers(detail),
        "crossover_detail": detail,
        "best": best_per_point(data, throughput),
        "scaling_efficiency": scaling_efficiency(data, throughput),
        "busy_cpus": busy_cpus_summary(data),
        "zc_copied_share": zc_shares(data),
        "cpu_per_byte": cpu_per_byte_table(data),
        "a3_vs_a2_cpu": a3_vs_a2_cpu(data),
        "retransmissions": retransmissions(data),
        "latency": latency_answers(data),
        "environment": environment(data),
        "unavailable_counters": unavailable_counters(data),
        "partially_unavailable_counters": partially_unavailable_counters(data),
        "multiplexed_counters": multiplexed_counters(data),
        "perf_user_only_runs": sum(1 for r in data.ok if r.num["perf_user_only"] == 1),
    }


def machine_summary(data):
    """What the report's first lines name: the machine, the dates, the runs."""
    stamps = sorted(r.raw["timestamp"] for r in data.rows if r.raw["timestamp"])
    env = environment(data)
    return {**{c: env[c] for c in MACHINE_COLUMNS},
            "first_timestamp": stamps[0] if stamps else None,
            "last_timestamp": stamps[-1] if stamps else None,
            "rows_per_run": {i: {m: n for m in MODES for n in [sum(
                1 for r in data.rows if r.raw["run_id"] == i and r.raw["mode"] == m)] if n}
                for i in data.runs["run_ids"]}}


# ---- paired comparisons: every verdict with its interval ------------------------------

Metric = namedtuple("Metric", "column mode higher_is_better label unit")
COMPARE_METRICS = (
    Metric("throughput_gbps", "stream", True, "throughput", "Gbit/s"),
    Metric("host_cpu_ns_per_byte", "stream", False, "host-wide CPU per byte", "ns/B"),
    Metric("rtt_p50_us", "rr", False, "p50 round trip", "µs"),
    Metric("rtt_p99_us", "rr", False, "p99 round trip", "µs"),
)
METRIC_BY_COLUMN = {m.column: m for m in COMPARE_METRICS}


def series_name(series):
    """Short name used in comparisons: 'a2', or 'a1/per-field' for a non-default variant."""
    return series.strategy if series.variant == "default" else \
        f"{series.strategy}/{series.variant}"


def round_values(rows, metric):
    """{(series, msg_size, threads): {(run_id, repeat): value}}: one value per round."""
    out = defaultdict(dict)
    for r in rows:
        v = metric(r)
        if v is not None:
            out[(r.series, r.size, r.threads)].setdefault((r.raw["run_id"], r.raw["repeat"]), v)
    return out


def paired_ratios(values, a, b, size, threads):
    """(ratios a/b of the rounds where both were measured, the run_ids of those rounds)."""
    va, vb = values.get((a, size, threads), {}), values.get((b, size, threads), {})
    rounds = sorted(k for k in set(va) & set(vb) if vb[k] > 0)
    return [va[k] / vb[k] for k in rounds], {k[0] for k in rounds}


def comparisons(data):
    """Every candidate vs the a1 baseline, per metric of COMPARE_METRICS, mode, size and
    thread count, on paired per-round ratios metric(a) / metric(b)."""
    incomplete = set(data.runs.get("incomplete", []))
    out = []
    for m in COMPARE_METRICS:
        rows = data.stream if m.mode == "stream" else data.rr
        base, _ = pick_baseline(rows)
        if base is None:
            continue
        values = round_values(rows, col(m.column))
        cands = sorted({r.series for r in rows if r.series != base}, key=series_order)
        points = sorted({(k[2], k[1]) for k in values})
        for a in cands:
            for threads, size in points:
                ratios, runs = paired_ratios(values, a, base, size, threads)
                if not ratios:
                    continue
                out.append({"a": series_name(a), "b": series_name(base), "mode": m.mode,
                            "msg_size": size, "threads": threads, "metric": m.column,
                            "higher_is_better": m.higher_is_better,
                            **judge(ratios, m.higher_is_better),
                            "incomplete_run": bool(runs & incomplete)})
    return out


def crossover_from_verdicts(verdicts):
    """Smallest size from which the verdict is faster at that size and every larger one:
    {msg_size: verdict} -> size, or None (a faster size followed by an unresolved or slower
    one is no crossover)."""
    found = None
    for s in sorted(verdicts, reverse=True):
        if verdicts[s] != "faster":
            break
        found = s
    return found


def crossovers(detail):
    """{"a2_vs_a1": {"<threads>": size|None}, "a3_vs_a1": {...}}, read off crossover_detail
    for the thread counts where both were measured at a common size."""
    return {key: {t: crossover_from_verdicts({p["msg_size"]: p["verdict"] for p in pts})
                  for t, pts in per_t.items() if pts}
            for key, per_t in detail.items()}


def crossover_detail(data, throughput, comps):
    """Per comparison and thread count, every size both were measured at: medians, the
    paired ratio with its interval and the verdict the crossover is decided on."""
    out = {}
    for strategy in ("a2", "a3"):
        cand = pick_series(data, strategy)
        per_t = {}
        if cand and data.baseline:
            by = {(c["threads"], c["msg_size"]): c for c in comps
                  if c["metric"] == "throughput_gbps" and c["a"] == series_name(cand)}
            for t in data.threads:
                pts = []
                for s in data.sizes:
                    c, st_a = by.get((t, s)), throughput.stats.get((cand, s, t))
                    st_b = throughput.stats.get((data.baseline, s, t))
                    if c and st_a and st_b:
                        pts.append({"msg_size": s, "median_gbps": st_a.median,
                                    "a1_median_gbps": st_b.median,
                                    **{k: c[k] for k in ("ratio", "ci_low", "ci_high", "n",
                                                         "coverage", "verdict", "reason")}})
                per_t[str(t)] = pts
        out[f"{strategy}_vs_a1"] = per_t
    return out


def within_pct(c):
    """Half-width, in %, of the band around 1 that holds c's interval (for 'a ≈ b')."""
    return 100 * max(abs(c["ci_low"] - 1), abs(c["ci_high"] - 1))


def best_per_point(data, throughput):
    """Per (msg_size, threads): the series with the highest median throughput, and whether
    it wins: only if resolved faster (paired, CI_LEVEL) than every other series there;
    otherwise the series it cannot be told from, with the band their intervals span."""
    values = round_values(data.stream, col("throughput_gbps"))
    points = defaultdict(list)
    for (series, size, threads), st in throughput.stats.items():
        points[(size, threads)].append((series, st))
    best = []
    for (size, threads) in sorted(points):
        cands = sorted(points[(size, threads)], key=lambda p: series_order(p[0]))
        series, st = max(cands, key=lambda p: p[1].median)  # first of equals wins
        others = sorted((p for p in cands if p[0] != series), key=lambda p: -p[1].median)
        ties, vs_runner = [], None
        for other, _ in others:
            ratios, _ = paired_ratios(values, series, other, size, threads)
            c = judge(ratios, True) if ratios else None
            if vs_runner is None:
                vs_runner = c
            if c is None or c["verdict"] != "faster":
                ties.append((other, c))
        resolved = bool(others) and not ties
        if resolved or not others:
            answer = style(series).label
        else:
            names = " ≈ ".join(series_name(x) for x in [series] + [t[0] for t in ties])
            judged = [c for _, c in ties if c]
            if judged and all(c["coverage"] >= CI_LEVEL for c in judged) and \
                    len(judged) == len(ties):
                answer = f"{names} (within ±{max(within_pct(c) for c in judged):.0f}%)"
            else:
                answer = (f"{series_name(series)} highest median, unresolved "
                          "(too few rounds)")
        best.append({"msg_size": size, "threads": threads, **series_ref(series),
                     "throughput_gbps": st.median,
                     "next_best_gbps": others[0][1].median if others else None,
                     "resolved": resolved, "answer": answer,
                     "tied_with": [series_name(t[0]) for t in ties],
                     "vs_runner_up": vs_runner})
    return best


def busy_cpus(r):
    """Host CPUs kept busy over the window: host_busy_cpus if the CSV has it, else
    (user + sys + irq + softirq host CPU seconds) / duration_s."""
    if r.num.get("host_busy_cpus") is not None:
        return r.num["host_busy_cpus"]
    parts = [r.num[f"host_cpu_{c}_s"] for c in ("user", "sys", "irq", "softirq")]
    d = r.num["duration_s"]
    return None if any(p is None for p in parts) or not d else sum(parts) / d


WAIT_BOUND_SHARE = 0.8   # busy CPUs below this share of the reference: the run waited


def busy_cpus_summary(data):
    """Busy CPUs per thread count (medians over every stream row at that count) and the
    reference they are judged against: cpus_online, else the most busy at any count."""
    per_t = {}
    for t in data.threads:
        vals = [v for r in data.stream if r.threads == t for v in [busy_cpus(r)]
                if v is not None]
        if vals:
            per_t[t] = {"median": statistics.median(vals), "min": min(vals),
                        "max": max(vals), "rows": len(vals)}
    online = [r.num["cpus_online"] for r in data.stream if r.num.get("cpus_online")]
    cpus_online = statistics.median(online) if online else None
    ref = cpus_online or max((v["median"] for v in per_t.values()), default=None)
    one = per_t.get(1)
    wait_bound = bool(one and ref and one["median"] < WAIT_BOUND_SHARE * ref)
    return {"by_threads": {str(t): v for t, v in per_t.items()}, "cpus_online": cpus_online,
            "reference": ref,
            "reference_is": "cpus_online" if cpus_online else "most busy at any thread count",
            "one_thread_wait_bound": wait_bound}


def series_ref(series):
    return {"strategy": series.strategy, "variant": series.variant,
            "label": style(series).label}


def run_ref(r):
    """How a run is named in the report: run_id/order plus its configuration."""
    return {"run_id": r.raw["run_id"], "order": r.raw["order"], "repeat": r.raw["repeat"],
            "line": r.line, "strategy": r.raw["strategy"], "variant": r.raw["variant"],
            "mode": r.raw["mode"], "msg_size": r.raw["msg_size"], "threads": r.raw["threads"]}


def repeat_counts(throughput):
    ns = [s.n for s in throughput.stats.values()]
    return {"min": min(ns), "max": max(ns)} if ns else {"min": 0, "max": 0}


def scaling_efficiency(data, throughput):
    """median(T threads) / (T * median(1 thread)) per series and size, beside the host's
    median busy CPUs at 1 and at T threads (an efficiency above 100% with CPUs idle at 1
    thread says the 1-thread run waited, not that caches got better)."""
    busy = aggregate(data.stream, busy_cpus)
    out = []
    for series in data.series:
        for size in data.sizes:
            one = throughput.stats.get((series, size, 1))
            if not one or not one.median:
                continue
            b1 = busy.stats.get((series, size, 1))
            for t in data.threads:
                st = throughput.stats.get((series, size, t))
                if t == 1 or not st:
                    continue
                bt = busy.stats.get((series, size, t))
                out.append({**series_ref(series), "msg_size": size, "threads": t,
                            "efficiency": st.median / (t * one.median),
                            "busy_cpus_1_thread": b1.median if b1 else None,
                            "busy_cpus": bt.median if bt else None})
    return out


def zc_shares(data):
    """Per (msg_size, threads) of a3: median over repeats of zc_copied / zc_completions."""
    a3 = [r for r in data.stream if r.raw["strategy"] == "a3"]
    share = aggregate(a3, zc_copied_share)
    copied = aggregate(a3, col("zc_copied"))
    done = aggregate(a3, col("zc_completions"))
    out = []
    for key in sorted(share.stats, key=lambda k: (k[1], k[2], series_order(k[0]))):
        st = share.stats[key]
        out.append({"msg_size": key[1], "threads": key[2], "share": st.median,
                    "min": st.min, "max": st.max, "repeats": st.n,
                    "zc_copied_median": copied.stats[key].median if key in copied.stats else None,
                    "zc_completions_median": done.stats[key].median
                    if key in done.stats else None})
    return out


CPU_METRICS = {   # *_task_clock_*: perf task-clock; *_cpu_ns_per_byte: rusage (the CSV's)
    "srv_task_clock_ns_per_byte": task_clock_ns_per_byte("srv"),
    "srv_cpu_ns_per_byte": col("srv_cpu_ns_per_byte"),
    "cli_task_clock_ns_per_byte": task_clock_ns_per_byte("cli"),
    "cli_cpu_ns_per_byte": col("cli_cpu_ns_per_byte"),
    "host_cpu_ns_per_byte": col("host_cpu_ns_per_byte"),
    "host_softirq_ns_per_byte": per_byte("host_cpu_softirq_s", "bytes", 1e9),
}


def cpu_per_byte_table(data):
    """Median CPU-ns per byte per (series, msg_size, threads): sender and receiver from both
    perf task-clock and rusage, host-wide, host softirq."""
    aggs = {name: aggregate(data.stream, m) for name, m in CPU_METRICS.items()}
    keys = set().union(*(a.stats for a in aggs.values()))
    out = []
    for series, size, threads in sorted(keys, key=lambda k: (k[2], k[1], series_order(k[0]))):
        entry = {**series_ref(series), "msg_size": size, "threads": threads}
        for name, a in aggs.items():
            st = a.stats.get((series, size, threads))
            entry[name] = st.median if st else None
        out.append(entry)
    return out


def a3_vs_a2_cpu(data):
    """Where a3's host-wide and softirq ns/byte exceed a2's: the deferred copy, if any."""
    a2, a3 = pick_series(data, "a2"), pick_series(data, "a3")
    if not a2 or not a3:
        return {"points": [], "softirq_higher": 0, "host_higher": 0, "compared": 0}
    host = aggregate(data.stream, CPU_METRICS["host_cpu_ns_per_byte"])
    soft = aggregate(data.stream, CPU_METRICS["host_softirq_ns_per_byte"])
    points = []
    for t in data.threads:
        for s in data.sizes:
            h2, h3 = host.stats.get((a2, s, t)), host.stats.get((a3, s, t))
            s2, s3 = soft.stats.get((a2, s, t)), soft.stats.get((a3, s, t))
            if not (h2 and h3) and not (s2 and s3):
                continue
            points.append({
                "msg_size": s, "threads": t,
                "a2_host_ns_per_byte": h2.median if h2 else None,
                "a3_host_ns_per_byte": h3.median if h3 else None,
                "a2_softirq_ns_per_byte": s2.median if s2 else None,
                "a3_softirq_ns_per_byte": s3.median if s3 else None,
                "a3_softirq_higher": (s3.median > s2.median) if s2 and s3 else None,
                "a3_host_higher": (h3.median > h2.median) if h2 and h3 else None})
    return {"points": points, "compared": len(points),
            "softirq_higher": sum(1 for p in points if p["a3_softirq_higher"]),
            "softirq_compared": sum(1 for p in points if p["a3_softirq_higher"] is not None),
            "host_higher": sum(1 for p in points if p["a3_host_higher"]),
            "host_compared": sum(1 for p in points if p["a3_host_higher"] is not None)}


def retransmissions(data):
    """Every run (ok or failed) with tcp_retrans > 0."""
    return [run_ref(r) | {"status": r.raw["status"], "tcp_retrans": r.num["tcp_retrans"],
                          "throughput_gbps": r.num["throughput_gbps"]}
            for r in data.rows if (r.num["tcp_retrans"] or 0) > 0]


LATENCY_COLUMNS = (("p50", "rtt_p50_us"), ("p90", "rtt_p90_us"), ("p99", "rtt_p99_us"),
                   ("p99.9", "rtt_p999_us"))


def latency_answers(data):
    """Per (msg_size, threads) of rr rows: the series with the lowest median p50 and p99."""
    if not data.rr:
        return []
    aggs = {name: aggregate(data.rr, col(c)) for name, c in LATENCY_COLUMNS
            if name in ("p50", "p99")}
    points = sorted({(r.size, r.threads) for r in data.rr}, key=lambda p: (p[1], p[0]))
    out = []
    for size, threads in points:
        entry = {"msg_size": size, "threads": threads}
        for name, a in aggs.items():
            cands = [(s, a.stats[(s, size, threads)]) for s in data.series
                     if (s, size, threads) in a.stats]
            if cands:
                series, st = min(cands, key=lambda p: p[1].median)
                entry[name] = {**series_ref(series), "us": st.median}
            else:
                entry[name] = None
        out.append(entry)
    return out


def distinct(rows, column):
    seen = []
    for r in rows:
        v = r.raw[column]
        if v not in seen:
            seen.append(v)
    return seen


def environment(data):
    """kernel, cpu_model, link, mtu, placement: a string (or number) when all rows agree,
    else the list of values seen."""
    env = {}
    for c in ("kernel", "cpu_model", "link", "mtu", "placement"):
        vals = [v for v in distinct(data.rows, c) if v != ""]
        if c == "mtu":
            vals = [int(float(v)) if v not in ("NA",) else v for v in vals]
        env[c] = vals[0] if len(vals) == 1 else (vals or None)
    return env


def unavailable_counters(data):
    """perf event columns missing (NA or empty) in every ok row."""
    if not data.ok:
        return []
    return [c for c in PERF_COUNT_COLUMNS if all(r.num[c] is None for r in data.ok)]


def partially_unavailable_counters(data):
    """perf event columns missing in some, but not all, ok rows: {column: rows missing}."""
    out = {}
    for c in PERF_COUNT_COLUMNS:
        n = sum(1 for r in data.ok if r.num[c] is None)
        if 0 < n < len(data.ok):
            out[c] = n
    return out


def multiplexed_counters(data):
    """perf event columns that ran less than 100% of the time in some ok row (scaled)."""
    out = {}
    for c in PERF_COUNT_COLUMNS:
        pcts = [r.num[f"{c}_running_pct"] for r in data.ok
                if r.num[f"{c}_running_pct"] is not None]
        low = [p for p in pcts if p < 100]
        if low:
            out[c] = {"rows": len(low), "min_running_pct": min(low)}
    return out


# ---- report.md ------------------------------------------------------------------------

def md_table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(c) for c in row) + " |" for row in rows]
    return lines


def describe_run(ref):
    label = style(Series(ref["strategy"], ref["variant"] or "default")).label \
        if ref["strategy"] else "(no strategy)"
    size = fmt_size(ref["msg_size"]) if ref["msg_size"] not in ("", "NA") else "?"
    return (f"run {ref['run_id']}/{ref['order']} (line {ref['line']}): {label}, {size}, "
            f"{ref['threads'] or '?'} thread{'' if ref['threads'] == '1' else 's'}, "
            f"{ref['mode'] or '?'}, repeat {ref['repeat']}")


def pct_range(lo, hi):
    """'100.0%' or '50.0–100.0%'."""
    return f"{lo * 100:.1f}%" if f"{lo:.3f}" == f"{hi:.3f}" else \
        f"{lo * 100:.1f}–{hi * 100:.1f}%"


def fmt_ratio(x):
    """A ratio with two decimals (three when within 2% of 1, where the band matters)."""
    return f"{x:.3f}" if abs(x - 1) < 0.02 else f"{x:.2f}"


def fmt_interval(c):
    """'(1.05–1.20)' for a comparison's CI_LEVEL interval; '[1.05–1.20]' for [min, max] when
    there were too few rounds for one."""
    text = f"{fmt_ratio(c['ci_low'])}–{fmt_ratio(c['ci_high'])}"
    return f"({text})" if c["coverage"] >= CI_LEVEL else f"[{text}]"


def verdict_cell(c):
    """Table cell: 'ratio (interval) verdict', '?' for unresolved, † if a run is incomplete."""
    mark = {"faster": "**faster**", "slower": "*slower*"}.get(c["verdict"], "?")
    return f"{fmt_ratio(c['ratio'])} {fmt_interval(c)} {mark}" + \
        (" †" if c.get("incomplete_run") else "")


def verdict_legend(comps):
    """The line under a verdict table that says what its brackets are."""
    covs = sorted({round(c["coverage"], 4) for c in comps if c["coverage"] < CI_LEVEL})
    text = (f"Cell: median of the per-round paired ratios (its interval) and the verdict; "
            f"? = unresolved. The interval is the {CI_LEVEL:.0%} order-statistic interval "
            "for the median")
    if covs:
        ns = sorted({c["n"] for c in comps if c["coverage"] < CI_LEVEL})
        text += (f"; with {'/'.join(map(str, ns))} rounds none exists and the square "
                 f"bracket is [min, max], which covers the median with only "
                 f"{'/'.join(f'{v:.1%}' for v in covs)}: no verdict")
    if any(c.get("incomplete_run") for c in comps):
        text += "; † = from an incomplete run"
    return text + "."


def verdict_table(comps, legend=True):
    """Markdown table of comparisons of one (a, metric): a row per thread count, a column
    per size; legend: the line saying what the brackets are."""
    sizes = sorted({c["msg_size"] for c in comps})
    ts = sorted({c["threads"] for c in comps})
    by = {(c["threads"], c["msg_size"]): c for c in comps}
    rows = [[t] + [verdict_cell(by[(t, s)]) if (t, s) in by else "–" for s in sizes]
            for t in ts]
    return md_table(["threads"] + [fmt_size(s) for s in sizes], rows) + \
        (["", verdict_legend(comps)] if legend else [])


def sizes_list(sizes):
    return ", ".join(fmt_size(s) for s in sorted(sizes))


def report_crossover(a, strategy, title):
    key = f"{strategy}_vs_a1"
    answers, detail = a["crossover"][key], a["crossover_detail"][key]
    out = [f"## Where {title} starts beating a1 two-copy", ""]
    if not answers:
        out += [f"The data cannot answer this: {strategy} and a1 were not both measured in "
                "stream mode at any common size.", ""]
        return out
    out += [f"Crossover = the smallest measured size from which {strategy} is resolved "
            f"faster than a1 (the {CI_LEVEL:.0%} interval of the per-round paired "
            f"throughput ratio {strategy}/a1 lies above 1) at that size and at every larger "
            "measured size; a faster size followed by an unresolved or slower one is not a "
            "crossover.", ""]
    for t, size in answers.items():
        pts = detail[t]
        below = [p for p in pts if size is None or p["msg_size"] < size]
        unres = [p["msg_size"] for p in below if p["verdict"] == "unresolved"]
        slower = [p["msg_size"] for p in below if p["verdict"] == "slower"]
        faster = [p["msg_size"] for p in below if p["verdict"] == "faster"]
        ans = f"from **{fmt_size(size)}**" if size is not None else "**none**"
        parts = []
        if unres:
            few = all("too few rounds" in p["reason"] for p in below
                      if p["verdict"] == "unresolved")
            parts.append(f"unresolved at {sizes_list(unres)}"
                         + (" (too few rounds)" if few else ""))
        if slower:
            parts.append(f"slower at {sizes_list(slower)}")
        if faster:
            parts.append(f"faster at {sizes_list(faster)} but not at every larger size")
        where = "below it: " if size is not None else ""
        out.append(f"- {plural(int(t))}: {ans}" + (f" — {where}{'; '.join(parts)}"
                                                   if parts else ""))
    out += ["", f"Throughput {strategy}/a1, paired per round:", ""]
    comps = [c for c in a["comparisons"] if c["metric"] == "throughput_gbps"
             and c["a"] == strategy and c["b"].startswith("a1")]
    out += verdict_table(comps) + [""]
    return out


def report_best(a):
    out = ["## Best strategy for each size and thread count", ""]
    if not a["best"]:
        return out + ["No ok stream rows: the data cannot answer this.", ""]
    out += [f"A strategy wins a point only where its throughput is resolved faster "
            f"({CI_LEVEL:.0%} interval of the paired ratio above 1) than every other "
            "strategy's there; otherwise the answer names the strategies that cannot be told "
            "apart, with the band (±%) their intervals span. Medians in Gbit/s.", ""]
    rows = []
    for b in a["best"]:
        v = b["vs_runner_up"]
        rows.append([fmt_size(b["msg_size"]), b["threads"],
                     f"**{b['answer']}**" if b["resolved"] else b["answer"],
                     fmt_num(b["throughput_gbps"]), fmt_num(b["next_best_gbps"]),
                     f"{fmt_ratio(v['ratio'])} {fmt_interval(v)}" if v else "–"])
    out += md_table(["size", "threads", "answer", "highest median", "runner-up median",
                     "highest/runner-up, paired (interval)"], rows)
    wins = defaultdict(int)
    for b in a["best"]:
        if b["resolved"]:
            wins[b["label"]] += 1
    won = ", ".join(f"{k} {v}" for k, v in wins.items()) or "none"
    out += ["", f"Resolved wins: {won}; {sum(1 for b in a['best'] if not b['resolved'])} of "
            f"{len(a['best'])} points unresolved.", ""]
    return out


def report_other_comparisons(a):
    """Host-wide CPU per byte and rr round trips: each strategy vs a1, paired."""
    out = []
    for column in ("host_cpu_ns_per_byte", "rtt_p50_us", "rtt_p99_us"):
        m = METRIC_BY_COLUMN[column]
        comps = [c for c in a["comparisons"] if c["metric"] == column]
        if not comps:
            continue
        if not out:
            out = ["## Host-wide CPU per byte and round trips, each strategy vs a1", "",
                   "Ratio = metric(strategy) / metric(a1) per round; lower is better for all "
                   "three, so **faster** means the strategy used less CPU per byte or had the "
                   "shorter round trip (interval below 1). "
                   + verdict_legend([c for c in a["comparisons"]
                                     if c["metric"] != "throughput_gbps"]), ""]
        for cand in dict.fromkeys(c["a"] for c in comps):
            mine = [c for c in comps if c["a"] == cand]
            out += [f"{m.label} ({m.unit}), {cand}/{mine[0]['b']}:", ""]
            out += verdict_table(mine, legend=False) + [""]
    return out


FINDING_TEXT = {   # what a ratio r = metric(a) / metric(b) says, per metric
    "throughput_gbps": "{a} moves {r}× {b}'s bytes",
    "host_cpu_ns_per_byte": "{a} spends {r}× {b}'s host-wide CPU per byte",
    "rtt_p50_us": "{a}'s median round trip takes {r}× {b}'s",
    "rtt_p99_us": "{a}'s p99 round trip takes {r}× {b}'s",
}
FINDINGS_SHOWN = 4   # per (strategy, metric); the rest are in the tables


def finding_text(c):
    """'a2 moves 1.12× a1's bytes at 64 KiB, 2 threads (95% CI 1.05–1.20, 6 rounds)'."""
    head = FINDING_TEXT[c["metric"]].format(a=c["a"], b=c["b"], r=fmt_ratio(c["ratio"]))
    return (f"{head} at {fmt_size(c['msg_size'])}, {plural(c['threads'])} "
            f"({CI_LEVEL:.0%} CI {fmt_interval(c)[1:-1]}, {c['n']} rounds)"
            + (" † incomplete run" if c.get("incomplete_run") else ""))


def report_findings(a, data):
    """'What this run says': resolved findings only, each with its interval."""
    out = ["## What this run says", ""]
    comps = a["comparisons"]
    groups = defaultdict(list)
    for c in comps:
        groups[(c["a"], c["b"], c["metric"])].append(c)
    quiet = []
    for (name, base, column), cs in groups.items():
        res = [c for c in cs if c["verdict"] != "unresolved"]
        if not res:
            quiet.append(f"{name} vs {base} {METRIC_BY_COLUMN[column].label} "
                         f"({plural(len(cs), 'point')})")
            continue
        f = sum(1 for c in res if c["verdict"] == "faster")
        label = "better" if not METRIC_BY_COLUMN[column].higher_is_better else "faster"
        out.append(f"- **{name} vs {base}, {METRIC_BY_COLUMN[column].label}**: {label} at "
                   f"{f}, worse at {len(res) - f} of {plural(len(cs), 'point')} "
                   f"({len(cs) - len(res)} unresolved):")
        res.sort(key=lambda c: (c["threads"], c["msg_size"]))
        for c in res[:FINDINGS_SHOWN]:
            out.append(f"  - {finding_text(c)}")
        if len(res) > FINDINGS_SHOWN:
            out.append(f"  - … and {len(res) - FINDINGS_SHOWN} more in the tables below")
        chance = (1 - CI_LEVEL) * len(cs)
        if len(res) <= max(1, 2 * chance):
            out.append(f"  - (with {plural(len(cs), 'point')} at {CI_LEVEL:.0%} each, about "
                       f"{chance:.1f} would resolve by chance where there is no difference: "
                       f"{'this lone verdict is' if len(res) == 1 else 'these verdicts are'} "
                       "weak evidence on its own)")
    for key, per_t in a["crossover"].items():
        got = {t: v for t, v in per_t.items() if v is not None}
        if got:
            out.append(f"- {key.split('_')[0]} beats a1 on throughput from "
                       + "; ".join(f"**{fmt_size(v)}** up at {plural(int(t))}"
                                   for t, v in got.items())
                       + " (resolved at that size and every larger one).")
    few = [c for c in comps if c["coverage"] < CI_LEVEL]
    if comps and len(few) == len(comps):
        ns = sorted({c["n"] for c in comps})
        cov = max(c["coverage"] for c in comps)
        out.append(f"- **Nothing here is resolved: too few rounds.** Every comparison rests on "
                   f"{'/'.join(map(str, ns))} paired rounds; a distribution-free "
                   f"{CI_LEVEL:.0%} interval for a median needs at least {MIN_ROUNDS} (with "
                   f"{ns[-1]}, [min, max] covers the median with only {cov:.1%}). Run the "
                   f"sweep with `--repeats {MIN_ROUNDS}` or more.")
    elif quiet:
        out.append("- Unresolved at every point: " + "; ".join(quiet) + ".")
    if not comps:
        out.append("- No strategy could be compared with a1 (a1 and another strategy were "
                   "not measured at a common point).")
    shares = [z["share"] for z in a["zc_copied_share"]]
    if shares and min(shares) >= 0.99:
        out.append(f"- The kernel copied {pct_range(min(shares), max(shares))} of a3's "
                   "zero-copy sends anyway (local delivery): a3 measures the zero-copy API "
                   "plus a deferred copy here.")
    bc = a["busy_cpus"]
    if bc["one_thread_wait_bound"]:
        out.append("- " + wait_bound_text(bc))
    return out + [""]


def wait_bound_text(bc):
    one = bc["by_threads"]["1"]
    ref = (f"of the {fmt_num(bc['cpus_online'])} CPUs online" if bc["cpus_online"] else
           f"against {fmt_num(bc['reference'])} at the busiest thread count")
    return (f"1-thread stream runs kept a median {fmt_num(one['median'])} host CPUs busy "
            f"({fmt_num(one['min'])}–{fmt_num(one['max'])}) {ref}: they wait (for the peer, "
            "for wake-ups) rather than compute, so a scaling efficiency above 100% means "
            "idle CPU put to work at more threads, not a cache effect.")


def report_scaling(a, data):
    out = ["## Thread scaling efficiency, beside the host's busy CPUs", ""]
    if not a["scaling_efficiency"]:
        why = "no 1-thread runs to scale from" if 1 not in data.threads else \
            "only one thread count was measured"
        return out + [f"The data cannot answer this: {why}.", ""]
    ts = sorted({e["threads"] for e in a["scaling_efficiency"]})
    bc = a["busy_cpus"]
    online = f" of {fmt_num(bc['cpus_online'])} online" if bc["cpus_online"] else ""
    out += ["Efficiency = median throughput at T threads / (T × median at 1 thread); 100% "
            "is perfect scaling. In brackets: the host's median busy CPUs over the window "
            "((user+sys+irq+softirq host CPU time) / duration, or host_busy_cpus)"
            f"{online}.", ""]
    if bc["one_thread_wait_bound"]:
        out += [wait_bound_text(bc), ""]
    table = defaultdict(dict)
    busy1 = {}
    for e in a["scaling_efficiency"]:
        table[(e["label"], e["msg_size"])][e["threads"]] = e
        busy1[(e["label"], e["msg_size"])] = e["busy_cpus_1_thread"]
    labels = [style(s).label for s in data.series]

    def cell(e):
        busy = f" ({fmt_num(e['busy_cpus'])})" if e["busy_cpus"] is not None else ""
        return f"{e['efficiency'] * 100:.0f}%{busy}"
    rows = [[label, fmt_size(size), fmt_num(busy1[(label, size)])]
            + [cell(v[t]) if t in v else "–" for t in ts]
            for (label, size), v in sorted(table.items(),
                                           key=lambda kv: (labels.index(kv[0][0])
                                                           if kv[0][0] in labels else 99,
                                                           kv[0][1]))]
    out += md_table(["strategy", "size", "busy CPUs, 1 thread"] + [f"T={t}" for t in ts],
                    rows) + [""]
    return out


def report_zc(a, data):
    out = ["## How much of a3's traffic the kernel copied anyway", ""]
    shares = a["zc_copied_share"]
    if not shares:
        return out + ["No a3 stream rows with zero-copy completions: the data cannot "
                      "answer this.", ""]
    vals = [s["share"] for s in shares]
    link = a["environment"]["link"]
    out += ["Share = zc_copied / zc_completions per run (median over repeats): the fraction "
            "of completed MSG_ZEROCOPY sends whose completion carried "
            "SO_EE_CODE_ZEROCOPY_COPIED.", ""]
    rows = [[fmt_size(s["msg_size"]), s["threads"], f"{s['share'] * 100:.1f}%",
             fmt_num(s["zc_copied_median"]), fmt_num(s["zc_completions_median"])]
            for s in shares]
    out += md_table(["size", "threads", "copied share", "zc_copied", "zc_completions"],
                    rows) + [""]
    lo, hi = min(vals), max(vals)
    if lo >= 0.99:
        out.append(f"The kernel copied {pct_range(lo, hi)} of a3's completed sends "
                   f"at every measured point (link: {link}). On this path zero-copy did "
                   "not avoid the copy, it deferred it: a3 measures the cost of the "
                   "zero-copy API (page pinning, completion notifications) plus a copy. "
                   "This is what the kernel documents for delivery to a local socket "
                   "(loopback or veth on one host); a saving needs a real NIC between two "
                   "hosts.")
    elif hi <= 0.01:
        out.append(f"The kernel reported at most {hi * 100:.1f}% of a3's sends as copied: "
                   "the sends were really zero-copy on this path.")
    else:
        out.append(f"Mixed: the copied share ranges from {lo * 100:.1f}% to {hi * 100:.1f}% "
                   "across the measured points, so a3 was only partly zero-copy here.")
    return out + [""]


def report_cpu(a, data):
    out = ["## Where the CPU went", ""]
    t = data.focus_threads
    entries = [e for e in a["cpu_per_byte"] if e["threads"] == t]
    if not entries:
        return out + ["No ok stream rows: the data cannot answer this.", ""]
    out += [f"CPU-ns per payload byte at {t} thread{'s' if t != 1 else ''} (medians; "
            "summary.json has every thread count), each process's CPU time from two "
            "sources: **task-clock** = perf stat task-clock over the process's whole life; "
            "**rusage** = getrusage user+sys (the CSV's srv_/cli_cpu_ns_per_byte). Sender = "
            "server; receiver = client; task-clock per byte over every byte of the run "
            "(srv_bytes_sent = all the client received), rusage: the sender's over its "
            "whole life, the receiver's over the measured window. Host = all CPUs' "
            "user+sys+irq+softirq over the client's window, softirq = host softirq alone. "
            "On one host the receive path and deferred copies run in softirq, which "
            "per-process figures miss.", ""]
    shown = "; ".join(f"{SIDES[side]}: {cpu_cost_metric(data.stream, side)[1]}".replace(
        "\n", " ") for side in ("srv", "cli"))
    out += [f"Figure 4 (cpu_per_byte) plots {shown}.", ""]
    rows = [[fmt_size(e["msg_size"]), e["label"], fmt_num(e["srv_task_clock_ns_per_byte"]),
             fmt_num(e["srv_cpu_ns_per_byte"]), fmt_num(e["cli_task_clock_ns_per_byte"]),
             fmt_num(e["cli_cpu_ns_per_byte"]), fmt_num(e["host_cpu_ns_per_byte"]),
             fmt_num(e["host_softirq_ns_per_byte"])] for e in entries]
    out += md_table(["size", "strategy", "sender ns/B (task-clock)", "sender ns/B (rusage)",
                     "receiver ns/B (task-clock)", "receiver ns/B (rusage)", "host ns/B",
                     "host softirq ns/B"], rows) + [""]
    cmp_ = a["a3_vs_a2_cpu"]
    if not cmp_["points"]:
        return out + ["a2 and a3 were not both measured, so whether zero-copy deferred the "
                      "copy into softirq cannot be read from this data.", ""]
    soft = [p for p in cmp_["points"] if p["a3_softirq_higher"] is not None]
    host = [p for p in cmp_["points"] if p["a3_host_higher"] is not None]
    if soft:
        higher = [p for p in soft if p["a3_softirq_higher"]]
        listed = ": " + ", ".join(f"{fmt_size(p['msg_size'])}×{p['threads']} "
                                  f"({fmt_num(p['a3_softirq_ns_per_byte'])} vs "
                                  f"{fmt_num(p['a2_softirq_ns_per_byte'])} ns/B)"
                                  for p in higher) if 0 < len(higher) <= 8 else ""
        out.append(f"a3's host softirq time per byte exceeded a2's at {len(higher)} of "
                   f"{len(soft)} measured (size, threads) points{listed}"
                   + (" (every point is in summary.json, a3_vs_a2_cpu)"
                      if len(higher) > 8 else "") + ".")
    else:
        out.append("Host softirq time was not available for both a2 and a3.")
    if host:
        higher = [p for p in host if p["a3_host_higher"]]
        out.append("")
        out.append(f"a3's host-wide CPU time per byte exceeded a2's at {len(higher)} of "
                   f"{len(host)} points.")
    if soft:
        share = len([p for p in soft if p["a3_softirq_higher"]]) / len(soft)
        copied = [s["share"] for s in a["zc_copied_share"]]
        verdict = ("and the kernel reported a3's sends as copied: consistent with the copy "
                   "being deferred into softirq rather than removed"
                   if share > 0.5 and copied and min(copied) >= 0.5 else
                   "so the data do not show a copy deferred into softirq"
                   if share <= 0.5 else
                   "but the kernel did not report most sends as copied, so this is not "
                   "clearly a deferred copy")
        out += ["", f"In {share * 100:.0f}% of the points a3 spent more softirq time per "
                f"byte than a2, {verdict}."]
    return out + [""]


def report_retrans(a):
    out = ["## Runs with TCP retransmissions", ""]
    if not a["retransmissions"]:
        return out + ["None: tcp_retrans was 0 or empty in every run.", ""]
    n, total = len(a["retransmissions"]), a["rows"]["total"]
    out += [f"{n} of {total} runs had retransmissions, which stall the sender and distort "
            "its throughput:", ""]
    for r in a["retransmissions"]:
        out.append(f"- {describe_run(r)}: {r['tcp_retrans']:.0f} retransmissions, "
                   f"{fmt_num(r['throughput_gbps'])} Gbit/s, status {r['status']}")
    return out + [""]


def report_latency(a):
    out = ["## Latency (request-response)", ""]
    if not a["latency"]:
        return out + ["No request-response (mode rr) rows with status ok: the data cannot "
                      "answer which strategy has the lowest latency.", ""]
    rows = []
    for e in a["latency"]:
        cells = [fmt_size(e["msg_size"]), e["threads"]]
        for p in ("p50", "p99"):
            cells.append(f"{e[p]['label']} ({fmt_num(e[p]['us'])} µs)" if e[p] else "–")
        rows.append(cells)
    out += ["Lowest median round-trip percentiles per size:", ""]
    return out + md_table(["size", "threads", "lowest p50", "lowest p99"], rows) + [""]


def report_environment(a, data):
    env = a["environment"]

    def show(v):
        return ", ".join(map(str, v)) if isinstance(v, list) else ("unknown" if v is None
                                                                   else str(v))
    out = ["## Environment", "",
           f"- kernel: {show(env['kernel'])}",
           f"- CPU: {show(env['cpu_model'])}",
           f"- link: {show(env['link'])}, MTU {show(env['mtu'])}",
           f"- CPU placement: {show(env['placement'])}"]
    for c in ("kernel", "cpu_model", "link", "mtu"):
        if isinstance(env[c], list):
            out.append(f"- note: rows with different {c} values are pooled in the figures")
    un = a["unavailable_counters"]
    out.append("- counters unavailable (NA in every ok row): "
               + (", ".join(un) if un else "none"))
    part = a["partially_unavailable_counters"]
    if part:
        out.append("- counters missing in some ok rows: "
                   + ", ".join(f"{c} ({plural(n, 'row')})" for c, n in part.items()))
    mux = a["multiplexed_counters"]
    if mux:
        out.append("- multiplexed counters (perf-scaled; running < 100%): "
                   + ", ".join(f"{c} (min {fmt_num(v['min_running_pct'])}%)"
                               for c, v in mux.items()))
    if a["perf_user_only_runs"]:
        out.append(f"- {a['perf_user_only_runs']} ok runs counted user space only (:u) — "
                   "the kernel copies under test are missing from their counters")
    return out + [""]


def runs_text(runs):
    """The report's line on which run_ids were used and what was left out."""
    by_mode = runs.get("by_mode", {})
    per_mode = "; ".join(f"{m}: {', '.join(f'`{i}`' for i in ([v] if isinstance(v, str) else v))}"
                         for m, v in by_mode.items())
    used = per_mode or ", ".join(f"`{i}`" for i in runs["run_ids"])
    text = f"Runs used (--run-id {runs['selection']}): {used}."
    if runs["rows_left_out"]:
        text += (f" {plural(runs['rows_left_out'], 'row')} of "
                 f"{plural(len(runs['run_ids_left_out']), 'other run')} "
                 f"({', '.join(f'`{i}`' for i in runs['run_ids_left_out'])}) left out; "
                 "choose them with --run-id.")
    else:
        text += " No rows left out."
    return text


def header_lines(a):
    """The report's first lines: the machine, the dates, the runs, and what is incomplete
    or from elsewhere."""
    m, runs = a["machine"], a["runs"]

    def one(v):
        return "mixed: " + ", ".join(map(str, v)) if isinstance(v, list) else \
            ("unknown" if v in (None, "") else str(v))
    first, last = m["first_timestamp"], m["last_timestamp"]
    when = "unknown"
    if first:
        when = first.replace("T", " ").rstrip("Z")[:16]
        if last and last[:10] == first[:10]:
            when += "–" + last[11:16]
        elif last:
            when += " – " + last.replace("T", " ").rstrip("Z")[:16]
        when += " UTC"
    listed = [f"`{i}` (" + ", ".join(f"{mode} {plural(n, 'row')}" for mode, n in
                                    m["rows_per_run"].get(i, {}).items()) + ")"
              for i in runs["run_ids"]]
    lines = ["# copybench results", "",
             f"**Machine:** {one(m['cpu_model'])} · kernel {one(m['kernel'])} · link "
             f"{one(m['link'])}, MTU {one(m['mtu'])}  ",
             f"**Measured:** {when} · **runs:** {'; '.join(listed) or 'none'}", ""]
    for i in runs.get("incomplete", []):
        lines += [f"**Incomplete run:** `{i}` has no results/{i}/{COMPLETE_MARKER} (the sweep "
                  "was killed or is still running): its points are marked † below.", ""]
    for i, text in runs.get("other_machine", {}).items():
        lines += [f"Left out, from another machine or link: run `{i}` ({text}); it is never "
                  f"pooled with this one (see it alone with --run-id {i}).", ""]
    for mode, ids in runs.get("modes_only_elsewhere", {}).items():
        lines += [f"No {mode} rows from this machine: the only {mode} rows are from run "
                  f"{', '.join(f'`{i}`' for i in ids)} on another machine, not used.", ""]
    return lines


def write_report(a, data, path):
    """report.md: the assignment's questions answered from the data."""
    r = a["rows"]
    reps = a["repeats"]
    reps_text = plural(reps["min"], "round") if reps["min"] == reps["max"] else \
        f"{reps['min']}–{reps['max']} rounds"
    lines = header_lines(a)
    lines += report_findings(a, data)
    lines += [f"Source: `{a['source']}` — {r['total']} rows: {r['ok']} ok "
              f"({r['stream_ok']} stream, {r['rr_ok']} request-response), {r['failed']} "
              f"failed. {reps_text.capitalize()} (repeats) per configuration, ok rows only; "
              "strategies are compared on per-round paired ratios. Every number below is "
              "computed from the CSV.", "",
              runs_text(a["runs"]), ""]
    if a["failed_runs"]:
        lines += ["Failed runs (excluded from every figure and answer):", ""]
        lines += [f"- {describe_run(f)}: {f['reason'] or 'no reason recorded'}"
                  for f in a["failed_runs"]] + [""]
    if a["baseline_note"]:
        lines += [f"Note: {a['baseline_note']}.", ""]
    lines += report_crossover(a, "a2", "a2 one-copy")
    lines += report_crossover(a, "a3", "a3 zero-copy")
    lines += report_best(a)
    lines += report_other_comparisons(a)
    lines += report_scaling(a, data)
    lines += report_zc(a, data)
    lines += report_paths(a, data)
    lines += report_cpu(a, data)
    lines += report_profile(a, data)
    lines += report_retrans(a)
    lines += report_latency(a)
    lines += report_environment(a, data)
    lines += report_between_hosts(data)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines))


ZC_REAL_SHARE = 0.5   # a point whose median COPIED share is at most this was really zero-copy


def report_between_hosts(data):
    """Two-host rows (link=remote) only: the COPIED share per point, and the sender's CPU per
    byte a3 vs a2 at the points where zero-copy really happened. Nothing on one host."""
    remote = [r for r in data.stream if r.raw.get("link") == "remote"]
    if not remote:
        return []
    a3 = [r for r in remote if r.raw["strategy"] == "a3"]
    out = ["## Between hosts", "",
           f"{plural(len(remote), 'stream row')} between this host and "
           f"{', '.join(sorted({r.raw.get('remote_host') or '?' for r in remote}))} "
           "(link=remote). COPIED share = zc_copied / zc_completions of a3 (median over "
           "repeats); it falls below 100% where the NIC really sent from user pages "
           "(scatter-gather: local_sg " + ", ".join(sorted({r.raw.get("local_sg") or "NA"
                                                            for r in remote})) + ").", ""]
    share = aggregate(a3, zc_copied_share)
    if not share.stats:
        return out + ["No a3 rows with zero-copy completions: the COPIED share cannot be "
                      "read.", ""]
    cpu = aggregate(remote, cpu_ns_per_byte("srv"))
    a2 = Series("a2", "default")
    rows, real = [], []
    for (series, size, threads), st in sorted(share.stats.items(), key=lambda kv: kv[0][1:]):
        c2, c3 = cpu.stats.get((a2, size, threads)), cpu.stats.get((series, size, threads))
        saving = (1 - c3.median / c2.median) if c2 and c3 and c2.median else None
        if st.median <= ZC_REAL_SHARE and saving is not None:
            real.append((size, threads, saving))
        rows.append([fmt_size(size), threads, f"{st.median * 100:.1f}%",
                     fmt_num(c2.median) if c2 else "–", fmt_num(c3.median) if c3 else "–",
                     f"{saving * 100:+.0f}%" if saving is not None else "–"])
    out += md_table(["size", "threads", "COPIED share", "a2 sender ns/B", "a3 sender ns/B",
                     "a3 saving"], rows) + [""]
    if not real:
        out.append(f"At no point was a3's COPIED share at most {ZC_REAL_SHARE * 100:.0f}% "
                   "with a2 measured too: these rows cannot say what zero-copy saves on "
                   "this link (a3 paid for the API and a copy).")
    else:
        best, worst = max(real, key=lambda p: p[2]), min(real, key=lambda p: p[2])
        span = f"{best[2] * 100:.0f}%" if len(real) == 1 else \
            f"{worst[2] * 100:.0f}% to {best[2] * 100:.0f}%"
        out.append(f"Zero-copy really happened at {len(real)} of {len(rows)} points; there "
                   f"a3's sender CPU per byte (perf task-clock, else rusage) was {span} lower "
                   f"than a2's (negative: higher; best {fmt_size(best[0])} × "
                   f"{plural(best[1])}).")
    return out + [""]


def write_summary(a, path):
    """summary.json: the same answers for scripts."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(a, f, indent=2, ensure_ascii=False)
        f.write("\n")


# ---- figures --------------------------------------------------------------------------

def import_pyplot(allow_reexec, argv):
    """pyplot on the Agg backend; re-exec under SYSTEM_PYTHON if this Python lacks it."""
    try:
        import matplotlib
        matplotlib.use("Agg")
        import matplotlib.pyplot as plt
    except ImportError:
        if allow_reexec:
            reexec_with_system_python(argv)  # returns only if that cannot help
        raise
    plt.rcParams.update({"font.size": 9, "axes.titlesize": 10, "axes.grid": True,
                         "grid.alpha": 0.3, "svg.fonttype": "none"})
    return plt


def reexec_with_system_python(argv):
    """Replace this process with SYSTEM_PYTHON running this script, if that has matplotlib."""
    if os.environ.get(REEXEC_GUARD) or not os.access(SYSTEM_PYTHON, os.X_OK):
        return
    if os.path.realpath(sys.executable) == os.path.realpath(SYSTEM_PYTHON):
        return
    try:
        probe = subprocess.run([SYSTEM_PYTHON, "-c", "import matplotlib"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                               timeout=60, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return
    if probe.returncode != 0:
        return
    sys.stdout.flush()
    sys.stderr.flush()
    env = dict(os.environ, **{REEXEC_GUARD: "1"})
    os.execve(SYSTEM_PYTHON, [SYSTEM_PYTHON, os.path.abspath(__file__), *argv], env)


def pyplot():
    import matplotlib.pyplot as plt  # already on Agg: main() imported it first
    return plt


def new_figure(n, panel_w=4.6, panel_h=3.3, ncols=None, extra_h=0.0):
    """Figure with n panels in a grid; returns (fig, list of n axes)."""
    plt = pyplot()
    ncols = ncols or (n if n <= 3 else 2 if n == 4 else 3)
    nrows = math.ceil(n / ncols)
    fig, axes = plt.subplots(nrows, ncols, squeeze=False,
                             figsize=(panel_w * ncols, panel_h * nrows + 1.1 + extra_h))
    flat = [ax for row in axes for ax in row]
    for ax in flat[n:]:
        ax.set_visible(False)
    return fig, flat[:n]


def size_axis(ax, sizes):
    """Log-2 x axis for message sizes, ticks at the measured sizes with readable labels."""
    ax.set_xscale("log", base=2)
    ticks = sizes if len(sizes) <= 9 else sizes[::2]
    ax.set_xticks(ticks)
    ax.set_xticklabels([fmt_size(s) for s in ticks], rotation=35, ha="right")
    ax.minorticks_off()
    ax.set_xlabel("message size")


def threads_axis(ax, threads):
    ax.set_xscale("log", base=2)
    ax.set_xticks(threads)
    ax.set_xticklabels([str(t) for t in threads])
    ax.minorticks_off()
    ax.set_xlabel("threads")


def y_axis(ax, values, log_ok=True):
    """Log y when allowed and positive values span more than LOG_Y_SPAN (per-byte costs
    over sizes do); else linear from 0, where ratios between lines read true."""
    pos = [v for v in values if v > 0]
    if log_ok and pos and min(values) > 0 and max(pos) / min(pos) > LOG_Y_SPAN:
        ax.set_yscale("log")
    else:
        ax.set_ylim(bottom=0, top=max(values) * 1.08 if values and max(values) > 0 else 1)


def note(ax, lines):
    """Small grey note between a panel's title and its plot: what was missing or
    substituted. Kept outside the plot area so it never hides data."""
    lines = [line for text in lines if text for line in text.split("\n")]
    if not lines:
        return
    ax.text(0.0, 1.015, "\n".join(lines), transform=ax.transAxes, va="bottom", ha="left",
            fontsize=7, color="#555555", linespacing=1.15)
    ax.set_title(ax.get_title(), pad=5 + 9 * len(lines))


def no_data(ax, text):
    """Panel that plainly says it has nothing to show."""
    ax.text(0.5, 0.5, text, transform=ax.transAxes, ha="center", va="center", fontsize=8.5,
            color="#444444")
    ax.set_xticks([])
    ax.set_yticks([])
    ax.grid(False)


def draw_errorbar(ax, xs, stats, st, linestyle=None, label=None, markersize=4.5):
    """Medians joined by a line, with min-max error bars."""
    ax.errorbar(xs, [s.median for s in stats],
                yerr=[[s.median - s.lo for s in stats], [s.hi - s.median for s in stats]],
                color=st.color, marker=st.marker, linestyle=linestyle or st.linestyle,
                markersize=markersize, markerfacecolor="white" if st.hollow else st.color,
                capsize=3, linewidth=1.4, elinewidth=0.9, label=label)


def draw_vs_size(ax, data, agg, threads, linestyle=None):
    """One line per series at one thread count; returns the values drawn (for y limits)."""
    drawn = []
    for s in data.series:
        pts = sorted((k[1], st) for k, st in agg.stats.items() if k[0] == s and k[2] == threads)
        if not pts:
            continue
        draw_errorbar(ax, [p[0] for p in pts], [p[1] for p in pts], data.style(s), linestyle)
        drawn += [p[1].lo for p in pts] + [p[1].hi for p in pts]
    return drawn


def missing_note(agg, what):
    """'<what> missing in k of n rows: skipped' when some rows lacked the metric."""
    if agg.missing and agg.missing < agg.rows:
        return f"{what} NA/empty in {agg.missing} of {agg.rows} rows: skipped"
    return ""


def unavailable_text(what, agg):
    return f"{what} not available:\nNA or empty in all {agg.rows} ok rows"


def metric_panel(ax, data, rows, metric, title, ylabel, what, threads, log_ok=True,
                 notes=()):
    """Metric vs size panel with its missing-data notes; says so when nothing is there."""
    ax.set_title(title)
    if not rows:
        no_data(ax, "no ok stream rows")
        return []
    agg = aggregate(rows, metric)
    if not agg.stats:
        no_data(ax, unavailable_text(what, agg))
        return []
    drawn = draw_vs_size(ax, data, agg, threads)
    if not drawn:
        no_data(ax, f"no {what} at {threads} threads")
        return []
    size_axis(ax, data.sizes)
    ax.set_ylabel(ylabel)
    y_axis(ax, drawn, log_ok)
    note(ax, [*notes, missing_note(agg, what)])
    return drawn


def series_handles(data, rows):
    """Legend entries for the series present in rows, in the fixed order."""
    from matplotlib.lines import Line2D
    present = {r.series for r in rows}
    handles = []
    for s in data.series:
        if s in present:
            st = data.style(s)
            handles.append(Line2D([], [], color=st.color, marker=st.marker, markersize=5,
                                  markerfacecolor="white" if st.hollow else st.color,
                                  linestyle=st.linestyle, label=st.label))
    return handles


def finish(fig, title, handles=(), footer="", footer_lines=None):
    """Title and one legend on top, a wrapped footer, then a layout that leaves room."""
    import textwrap
    w, h = fig.get_size_inches()
    fig.text(0.5, 1 - 0.12 / h, title, ha="center", va="top", fontsize=11.5,
             fontweight="bold")
    top_in = 0.45
    if handles:
        ncol = max(1, min(len(handles), int(w / 2.0)))
        rows = math.ceil(len(handles) / ncol)
        fig.legend(handles=handles, loc="upper center", ncol=ncol, frameon=False,
                   bbox_to_anchor=(0.5, 1 - 0.40 / h), fontsize=8.5, handlelength=2.6)
        top_in += 0.25 * rows + 0.1
    lines = footer_lines or []
    if footer:
        lines = lines + textwrap.wrap(footer, width=int(w * 15.5))
    if lines:
        fig.text(0.01, 0.08 / h, "\n".join(lines), ha="left", va="bottom", fontsize=7.5,
                 color="#444444", linespacing=1.3)
    bottom_in = 0.1 + 0.155 * len(lines)
    fig.tight_layout(rect=(0, bottom_in / h, 1, 1 - top_in / h), h_pad=1.2, w_pad=1.0)


def save(fig, out_dir, name):
    """Write name.png and name.svg, close the figure, return the PNG path."""
    base = os.path.join(out_dir, name)
    fig.savefig(base + ".png", dpi=DPI)
    fig.savefig(base + ".svg")
    pyplot().close(fig)
    return base + ".png"


def env_line(data):
    env = environment(data)

    def one(v):
        return "mixed" if isinstance(v, list) else (v if v is not None else "?")
    ids = data.runs["run_ids"]
    return (f"{os.path.basename(data.path)}, run{'s' if len(ids) != 1 else ''} "
            f"{', '.join(ids)}: kernel {one(env['kernel'])}; "
            f"{one(env['cpu_model'])}; link {one(env['link'])}, MTU {one(env['mtu'])}. "
            + interval_note(data) + " NA/empty cells skipped, never plotted as 0.")


def interval_note(data):
    """What the error bars are, for the rounds this data has."""
    ns = sorted({n for n in repeats_seen(data)})
    text = (f"Medians over rounds; error bars: order-statistic interval for the median "
            f"({CI_LEVEL:.0%} with >= {MIN_ROUNDS} rounds)")
    few = [n for n in ns if order_stat_k(n) is None]
    if few:
        covs = "/".join(f"{order_stat_coverage(n, 1):.0%}" for n in few)
        text += (f"; with {'/'.join(map(str, few))} rounds it is [min, max], covering the "
                 f"median with only {covs}")
    return text + "."


def repeats_seen(data):
    """The numbers of rounds per (series, size, threads, mode) in the ok rows."""
    count = defaultdict(int)
    for r in data.ok:
        count[(r.raw["mode"], r.series, r.size, r.threads)] += 1
    return set(count.values())


def focus_footer(data):
    """Footer of the figures drawn at one thread count: says if --threads was not measured."""
    return (f"{data.threads_note}. " if data.threads_note else "") + env_line(data)


def plural(n, word="thread"):
    """'1 thread', '4 threads'; 'no stream rows' for a thread count that does not exist."""
    if n is None:
        return "no stream rows"
    return f"{n} {word}{'s' if n != 1 else ''}"


def plot_throughput(data, out_dir):
    """Figure 1: throughput vs message size, a panel per thread count."""
    threads = data.threads or [None]
    fig, axes = new_figure(len(threads))
    agg = aggregate(data.stream, col("throughput_gbps"))
    top = max((st.hi for st in agg.stats.values()), default=1)
    for ax, t in zip(axes, threads):
        ax.set_title(plural(t) if t else "throughput")
        if not agg.stats:
            no_data(ax, "no ok stream rows with throughput")
            continue
        draw_vs_size(ax, data, agg, t)
        size_axis(ax, data.sizes)
        ax.set_ylabel("throughput (Gbit/s)")
        ax.set_ylim(0, top * 1.08)   # one scale across panels: compare thread counts
        note(ax, [missing_note(agg, "throughput_gbps")])
    finish(fig, "Throughput vs message size (stream mode)",
           series_handles(data, data.stream), env_line(data))
    return save(fig, out_dir, "throughput")


def no_data_figure(data, out_dir, name, title, panel_title, text):
    """A one-panel figure saying why there is nothing to draw (the file still exists)."""
    fig, (ax,) = new_figure(1, panel_w=7.2, panel_h=2.6)
    ax.set_title(panel_title)
    no_data(ax, text)
    finish(fig, title, footer=env_line(data))
    return save(fig, out_dir, name)


def draw_vs_threads(ax, data, agg):
    """One line per series of agg's stats against thread count; the upper interval ends
    drawn (empty when nothing was)."""
    drawn = []
    for s in data.series:
        pts = sorted((k[2], st) for k, st in agg.stats.items() if k[0] == s)
        if pts:
            draw_errorbar(ax, [p[0] for p in pts], [p[1] for p in pts], data.style(s))
            drawn += [p[1].hi for p in pts]
    return drawn


def time_per_msg_panel(ax, data):
    """us_per_msg vs threads at the focus size; returns True if drawn."""
    size = data.focus_size
    ax.set_title(f"time per message at {fmt_size(size)}" if size else "time per message")
    agg = aggregate([r for r in data.stream if r.size == size], col("us_per_msg"))
    drawn = draw_vs_threads(ax, data, agg)
    if not drawn:
        no_data(ax, "no ok stream rows with us_per_msg")
        return False
    threads_axis(ax, data.threads)
    ax.set_ylabel("µs per message (1e6 / msgs per s)")
    ax.set_ylim(0, max(drawn) * 1.08)
    note(ax, [data.size_note, missing_note(agg, "us_per_msg")])
    return True


def plot_time_per_msg(data, out_dir):
    """Figure 2a: time per message vs thread count at one size."""
    fig, (ax,) = new_figure(1, panel_w=7.2, panel_h=4.0)
    time_per_msg_panel(ax, data)
    finish(fig, "Time per message vs threads (stream: inverse throughput, not latency)",
           series_handles(data, data.stream), env_line(data))
    return save(fig, out_dir, "time_per_msg")


def plot_latency(data, out_dir):
    """Figure 2b: round-trip percentiles vs size from request-response rows."""
    if not data.rr:
        fig, (ax,) = new_figure(1, panel_w=7.2, panel_h=2.6)
        ax.set_title("round-trip latency percentiles")
        no_data(ax, "No request-response (mode rr) rows with status ok:\n"
                "no latency percentiles to plot.\n\n"
                "(Time per message in stream mode is inverse throughput, not latency.)")
        finish(fig, "Request-response latency", footer=env_line(data))
        return save(fig, out_dir, "latency")
    threads = 1 if 1 in data.rr_threads else data.rr_threads[0]
    fig, axes = new_figure(len(LATENCY_COLUMNS), ncols=2)
    rows = [r for r in data.rr if r.threads == threads]
    for ax, (name, c) in zip(axes, LATENCY_COLUMNS):
        ax.set_title(f"{name} round trip")
        agg = aggregate(rows, col(c))
        drawn = draw_vs_size(ax, data, agg, threads)
        if not drawn:
            no_data(ax, unavailable_text(c, agg))
            continue
        size_axis(ax, data.rr_sizes)
        ax.set_ylabel("round-trip time (µs)")
        y_axis(ax, drawn)
        note(ax, [missing_note(agg, c)])
    other = [t for t in data.rr_threads if t != threads]
    footer = env_line(data) + (f" rr rows at {', '.join(map(str, other))} threads are in "
                               "summary.json, not drawn." if other else "")
    finish(fig, f"Request-response round-trip time vs message size ({plural(threads)})",
           series_handles(data, rows), footer)
    return save(fig, out_dir, "latency")


CACHE_EVENTS = (("llc_load_misses", "LLC load misses"),
                ("l1_dcache_load_misses", "L1-dcache load misses"),
                ("cache_misses", "cache-misses (generic)"))


def plot_cache_misses(data, out_dir):
    """Figure 3: cache misses per KiB of payload vs size, sender row and receiver row."""
    fig, axes = new_figure(6, ncols=3)
    t = data.focus_threads
    for row, side in enumerate(("srv", "cli")):
        bytes_col = "srv_bytes_sent" if side == "srv" else "bytes"
        for i, (event, name) in enumerate(CACHE_EVENTS):
            metric_panel(axes[row * 3 + i], data, data.stream,
                         per_byte(f"{side}_{event}", bytes_col, 1024),
                         f"{SIDES[side]}: {name}",
                         f"misses per KiB {'sent' if side == 'srv' else 'received'}",
                         f"{side}_{event}", t)
    finish(fig, f"Cache misses per KiB of payload vs message size ({plural(t)})",
           series_handles(data, data.stream), focus_footer(data))
    return save(fig, out_dir, "cache_misses")


def cpu_cost_metric(rows, side):
    """(metric, axis label, note) for a side's CPU cost per byte.

    Cycles per byte where the CSV has them; where it has none (no PMU), CPU-ns per byte
    from perf task-clock, each row falling back to rusage when task-clock is NA too.
    """
    cycles = col(f"{side}_cycles_per_byte")
    if any(cycles(r) is not None for r in rows):
        return cycles, "cycles per byte (perf)", ""
    clock = task_clock_ns_per_byte(side)
    rusage = col(f"{side}_cpu_ns_per_byte")
    from_clock = sum(1 for r in rows if clock(r) is not None)
    from_rusage = sum(1 for r in rows if clock(r) is None and rusage(r) is not None)
    if not from_clock and from_rusage:
        return (rusage, "CPU-ns per byte (rusage)",
                "cycles and task-clock not available: showing CPU-ns per byte from rusage")
    text = "cycles not available (no PMU): showing CPU-ns per byte from task-clock"
    label = "CPU-ns per byte (perf task-clock)"
    if from_rusage:
        text += (f"\n(task-clock NA in {plural(from_rusage, 'row')}: rusage CPU time "
                 "used there)")
        label = "CPU-ns per byte (task-clock;\nrusage where NA)"
    return cpu_ns_per_byte(side), label, text


def plot_cpu_panels(axes, data, t):
    """Sender, receiver and host-wide CPU cost per byte at t threads; returns the extra
    legend entries (line styles of the host panel)."""
    from matplotlib.lines import Line2D
    for ax, side in zip(axes, ("srv", "cli")):
        metric, ylabel, text = cpu_cost_metric(data.stream, side)
        wrapped = text.replace(": showing ", ":\nshowing ")
        metric_panel(ax, data, data.stream, metric,
                     f"{SIDES[side]}: where the kernel ran it", ylabel, ylabel, t,
                     notes=[wrapped])
    ax = axes[2]
    ax.set_title("host-wide, all CPUs: compares strategies")
    if not data.stream:
        no_data(ax, "no ok stream rows")
        return []
    host = aggregate(data.stream, CPU_METRICS["host_cpu_ns_per_byte"])
    soft = aggregate(data.stream, CPU_METRICS["host_softirq_ns_per_byte"])
    drawn = draw_vs_size(ax, data, host, t) + draw_vs_size(ax, data, soft, t, linestyle="--")
    if not drawn:
        no_data(ax, unavailable_text("host CPU time", host))
        return []
    size_axis(ax, data.sizes)
    ax.set_ylabel("CPU-ns per byte")
    y_axis(ax, drawn)
    note(ax, ["solid: user+sys+irq+softirq; dashed: softirq alone",
              missing_note(host, "host_cpu_ns_per_byte"),
              missing_note(soft, "host_cpu_softirq_s")])
    return [Line2D([], [], color="#555555", linestyle="-", label="host total"),
            Line2D([], [], color="#555555", linestyle="--", label="host softirq")]


def plot_cpu_per_byte(data, out_dir):
    """Figure 4: cycles (or CPU-ns) per byte vs size: sender, receiver, host-wide."""
    fig, axes = new_figure(3)
    t = data.focus_threads
    extra = plot_cpu_panels(axes, data, t) or []
    finish(fig, f"CPU cost per payload byte vs message size ({plural(t)})",
           series_handles(data, data.stream) + extra,
           "Per-process CPU on one host measures where the kernel ran the network stack "
           "(the sender's task runs the receiver's softirq work in one regime, not in "
           "another), not what a strategy costs: compare strategies on the host-wide panel. "
           + focus_footer(data))
    return save(fig, out_dir, "cpu_per_byte")


def plot_context_switches(data, out_dir):
    """Figure 5: context switches per run vs size, sender and receiver panels."""
    fig, axes = new_figure(2)
    t = data.focus_threads
    for ax, side in zip(axes, ("srv", "cli")):
        metric_panel(ax, data, data.stream, col(f"{side}_context_switches"), SIDES[side],
                     "context switches per run", f"{side}_context_switches", t)
    finish(fig, f"Context switches vs message size ({plural(t)})",
           series_handles(data, data.stream),
           "Counted by perf stat over each process's whole life (warm-up and set-up "
           "included). " + focus_footer(data))
    return save(fig, out_dir, "context_switches")


def zc_panel(ax, data):
    """a3's copied share vs size, a line per thread count; returns True if drawn."""
    ax.set_title("a3 zero-copy: completed sends the kernel copied")
    a3 = [r for r in data.stream if r.raw["strategy"] == "a3"]
    if not a3:
        no_data(ax, "no ok a3 stream rows")
        return False
    agg = aggregate(a3, zc_copied_share)
    if not agg.stats:
        no_data(ax, "zc_copied / zc_completions\nnot available in any ok a3 row")
        return False
    plt = pyplot()
    ts = sorted({k[2] for k in agg.stats})
    cmap = plt.get_cmap("viridis")
    markers = "osD^v<>p"
    for i, t in enumerate(ts):
        pts = sorted((k[1], st) for k, st in agg.stats.items() if k[2] == t)
        pct = [s._replace(median=s.median * 100, lo=s.lo * 100, hi=s.hi * 100)
               for _, s in pts]
        # hollow markers shrinking per thread count: equal shares stay visible, nested
        st = Style("", cmap(i / max(len(ts) - 1, 1) * 0.85), markers[i % len(markers)],
                   "-", True)
        draw_errorbar(ax, [p[0] for p in pts], pct, st, label=plural(t),
                      markersize=max(10 - 2 * i, 3))
    size_axis(ax, sorted({r.size for r in a3}))
    ax.set_ylabel("copied share of completed sends (%)")
    ax.set_ylim(0, 108)
    ax.legend(fontsize=7.5, loc="lower right", framealpha=0.9)
    link = environment(data)["link"]
    note(ax, [f"link: {link}" if link and not isinstance(link, list) else "",
              missing_note(agg, "zc_copied/zc_completions")])
    return True


def plot_zc_copied(data, out_dir):
    """Figure 6: share of a3's completed sends the kernel reported as copied, vs size."""
    fig, (ax,) = new_figure(1, panel_w=7.2, panel_h=4.0)
    zc_panel(ax, data)
    finish(fig, "Zero-copy sends copied anyway (SO_EE_CODE_ZEROCOPY_COPIED)",
           footer="Share = zc_copied / zc_completions per run. The kernel documents that "
           "sends delivered to a local socket (loopback, veth on one host) are always "
           "copied. " + env_line(data))
    return save(fig, out_dir, "zc_copied")


def summary_lines(a):
    """The headline answers printed under the summary page's panels."""
    lines = []
    for key, name in (("a2_vs_a1", "a2 one-copy resolved faster than a1"),
                      ("a3_vs_a1", "a3 zero-copy resolved faster than a1")):
        cross = a["crossover"][key]
        if cross:
            lines.append(f"{name} from: " + "; ".join(
                f"{plural(int(k))}: {fmt_size(v) if v else 'none'}"
                for k, v in cross.items()))
    comps = a["comparisons"]
    if comps:
        res = sum(1 for c in comps if c["verdict"] != "unresolved")
        few = sum(1 for c in comps if c["coverage"] < CI_LEVEL)
        lines.append(f"comparisons with a1 resolved at {CI_LEVEL:.0%}: {res} of {len(comps)}"
                     + (f" ({few} with too few rounds for an interval)" if few else ""))
    wins = defaultdict(int)
    for b in a["best"]:
        if b["resolved"]:
            wins[b["label"]] += 1
    if a["best"]:
        lines.append("resolved best throughput at (size, threads): " + ("; ".join(
            f"{k} {v} of {len(a['best'])}" for k, v in wins.items()) or "none"))
    shares = [s["share"] for s in a["zc_copied_share"]]
    if shares:
        lines.append(f"a3 sends copied by the kernel: {pct_range(min(shares), max(shares))} "
                     "across sizes and thread counts")
    if a["latency"]:
        lines.append("lowest median p50 round trip: " + "; ".join(
            f"{fmt_size(e['msg_size'])}×{e['threads']}: {e['p50']['strategy']}"
            for e in a["latency"] if e["p50"]))
    cmp_ = a["a3_vs_a2_cpu"]
    if cmp_.get("softirq_compared"):
        lines.append(f"a3 spent more host softirq time per byte than a2 at "
                     f"{cmp_['softirq_higher']} of {cmp_['softirq_compared']} points")
    if a["unavailable_counters"]:
        lines.append(f"counters unavailable: {len(a['unavailable_counters'])} perf "
                     "event columns (see report.md)")
    if a["rows"]["failed"]:
        lines.append(f"{plural(a['rows']['failed'], 'failed run')} excluded "
                     "(named in report.md)")
    return lines


def plot_summary(data, a, out_dir):
    """Figure 7: one page with the headline panels and the answers."""
    answers = summary_lines(a)
    fig, axes = new_figure(9, panel_w=4.8, panel_h=3.3, ncols=3,
                           extra_h=0.16 * (len(answers) + 2))
    t = data.focus_threads
    tmax = data.threads[-1] if data.threads else None
    thr = aggregate(data.stream, col("throughput_gbps"))
    for ax, tt in zip(axes[:2], (t, tmax)):
        metric_panel(ax, data, data.stream, col("throughput_gbps"),
                     "throughput" + (f", {plural(tt)}" if tt else ""), "Gbit/s",
                     "throughput", tt, log_ok=False)
    if thr.stats:
        top = max(st.hi for st in thr.stats.values()) * 1.08
        for ax in axes[:2]:
            if ax.lines:
                ax.set_ylim(0, top)
    ax = axes[2]
    if data.rr:
        rt = 1 if 1 in data.rr_threads else data.rr_threads[0]
        ax.set_title(f"p99 round trip (rr), {plural(rt)}")
        agg = aggregate(data.rr, col("rtt_p99_us"))
        drawn = draw_vs_size(ax, data, agg, rt)
        if drawn:
            size_axis(ax, data.rr_sizes)
            ax.set_ylabel("µs")
            y_axis(ax, drawn)
        else:
            no_data(ax, unavailable_text("rtt_p99_us", agg))
    else:
        time_per_msg_panel(ax, data)
    extra = plot_cpu_panels(axes[3:6], data, t) or []
    metric_panel(axes[6], data, data.stream,
                 per_byte("srv_llc_load_misses", "srv_bytes_sent", 1024),
                 "sender (server): LLC load misses", "misses per KiB sent",
                 "srv_llc_load_misses", t)
    metric_panel(axes[7], data, data.stream, col("srv_context_switches"),
                 "sender (server): context switches", "per run", "srv_context_switches", t)
    zc_panel(axes[8], data)
    finish(fig, "copybench summary" + (f" (rows 2–3 at {plural(t)})" if t else ""),
           series_handles(data, data.ok) + extra, focus_footer(data), footer_lines=answers)
    return save(fig, out_dir, "summary")


def ratio_panel(ax, data, comps, title, ylabel):
    """Paired ratio vs size of each candidate against a1, with its interval: filled markers
    resolved, hollow unresolved, a line at 1. Returns True if anything was drawn."""
    ax.set_title(title)
    if not comps:
        no_data(ax, "nothing to compare with a1 here")
        return False
    cands = list(dict.fromkeys(c["a"] for c in comps))
    names = {series_name(s): s for s in data.series}
    drawn = []
    for i, name in enumerate(cands):
        pts = sorted((c for c in comps if c["a"] == name), key=lambda c: c["msg_size"])
        st = data.style(names[name]) if name in names else style(Series(name, "default"))
        xs = [c["msg_size"] * (1 + 0.04 * (i - (len(cands) - 1) / 2)) for c in pts]  # dodge
        ys = [c["ratio"] for c in pts]
        ax.plot(xs, ys, color=st.color, linestyle=st.linestyle, linewidth=1.2)
        for x, c in zip(xs, pts):
            resolved = c["verdict"] != "unresolved"
            ax.errorbar([x], [c["ratio"]], yerr=[[c["ratio"] - c["ci_low"]],
                                                 [c["ci_high"] - c["ratio"]]],
                        color=st.color, marker=st.marker, markersize=5.5 if resolved else 5,
                        markerfacecolor=st.color if resolved else "white", capsize=3,
                        elinewidth=1.0, linestyle="none")
        drawn += [c["ci_low"] for c in pts] + [c["ci_high"] for c in pts]
    ax.axhline(1.0, color="#333333", linewidth=0.9, linestyle=":")
    sizes = sorted({c["msg_size"] for c in comps})
    size_axis(ax, sizes)
    if len(sizes) == 1:        # one size: keep the dodged markers together around it
        ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
    ax.set_ylabel(ylabel)
    lo, hi = min(drawn + [1.0]), max(drawn + [1.0])
    if hi / lo > 4:
        ax.set_yscale("log", base=2)
        from matplotlib.ticker import FuncFormatter
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
    else:
        pad = (hi - lo) * 0.08 or 0.05
        ax.set_ylim(lo - pad, hi + pad)
    return True


RATIO_ROWS = (("throughput_gbps", "throughput", "throughput / a1's  (> 1: more)"),
              ("host_cpu_ns_per_byte", "host-wide CPU per byte",
               "CPU per byte / a1's  (< 1: less)"),
              ("rtt_p50_us", "p50 round trip", "p50 / a1's  (< 1: shorter)"),
              ("rtt_p99_us", "p99 round trip", "p99 / a1's  (< 1: shorter)"))


def plot_ratios(data, out_dir, a):
    """Figure: every strategy's paired ratio to a1 with its interval, per metric and
    thread count: the verdicts of the report, drawn."""
    from matplotlib.lines import Line2D
    panels = []
    for column, name, ylabel in RATIO_ROWS:
        comps = [c for c in a["comparisons"] if c["metric"] == column]
        for t in sorted({c["threads"] for c in comps}):
            panels.append((f"{name}, {plural(t)}", ylabel,
                           [c for c in comps if c["threads"] == t]))
    if not panels:
        return no_data_figure(data, out_dir, "ratios", "Each strategy vs a1, paired per round",
                              "paired ratios to a1",
                              "a1 and another strategy were not measured at a common point:\n"
                              "nothing to compare.")
    ncols = min(4, max(len({c["threads"] for c in a["comparisons"]}), 2))
    fig, axes = new_figure(len(panels), panel_w=4.3, panel_h=3.1, ncols=ncols)
    for ax, (title, ylabel, comps) in zip(axes, panels):
        ratio_panel(ax, data, comps, title, ylabel)
    names = {series_name(s): s for s in data.series}
    handles = [Line2D([], [], color=data.style(names[n]).color,
                      marker=data.style(names[n]).marker, linestyle="-",
                      label=f"{data.style(names[n]).label} / {a['comparisons'][0]['b']}")
               for n in dict.fromkeys(c["a"] for c in a["comparisons"]) if n in names]
    handles += [Line2D([], [], color="#555555", marker="o", linestyle="none",
                       label="resolved (interval excludes 1)"),
                Line2D([], [], color="#555555", marker="o", markerfacecolor="white",
                       linestyle="none", label="unresolved")]
    finish(fig, "Each strategy vs a1: median of the per-round paired ratios, with its "
           "interval", handles,
           "Ratio = metric(strategy) / metric(a1) in the same round (the driver interleaves "
           "strategies within a round); dotted line: equal. Filled: resolved (the interval "
           "excludes 1), hollow: unresolved. " + env_line(data))
    return save(fig, out_dir, "ratios")


def plot_scaling(data, out_dir, a):
    """Figure: scaling efficiency vs size at the smallest T > 1, beside the host's busy
    CPUs at 1 thread and at T: where efficiency passes 100%, the 1-thread run left CPUs idle."""
    from matplotlib.lines import Line2D
    fig, axes = new_figure(2, panel_w=5.6, panel_h=3.7)
    more = [t for t in data.threads if t > 1]
    t = more[0] if more else None
    eff = [e for e in a["scaling_efficiency"] if e["threads"] == t]
    ax = axes[0]
    ax.set_title(f"scaling efficiency, 1 → {plural(t)}" if t else "scaling efficiency")
    if not eff:
        no_data(ax, "needs 1-thread runs and another thread count")
    else:
        top = 100
        for s in data.series:
            pts = sorted((e["msg_size"], e["efficiency"] * 100) for e in eff
                         if e["strategy"] == s.strategy and e["variant"] == s.variant)
            if pts:
                st = data.style(s)
                ax.plot([p[0] for p in pts], [p[1] for p in pts], color=st.color,
                        marker=st.marker, linestyle=st.linestyle,
                        markerfacecolor="white" if st.hollow else st.color)
                top = max(top, max(p[1] for p in pts))
        ax.axhline(100, color="#333333", linewidth=0.9, linestyle=":")
        size_axis(ax, data.sizes)
        ax.set_ylabel(f"throughput at {t} / ({t} × at 1 thread) (%)")
        ax.set_ylim(0, top * 1.1)
    ax = axes[1]
    ax.set_title("host's busy CPUs" + (f": 1 thread (solid), {t} (dashed)" if t else ""))
    agg = aggregate(data.stream, busy_cpus)
    drawn = []
    for tt, ls in ((1, None), (t, "--")):
        if tt is not None:
            drawn += draw_vs_size(ax, data, agg, tt, linestyle=ls)
    bc = a["busy_cpus"]
    if not drawn:
        no_data(ax, "host CPU time not available")
    else:
        size_axis(ax, data.sizes)
        ax.set_ylabel("busy CPUs (host CPU-s / window s)")
        if bc["cpus_online"]:
            ax.axhline(bc["cpus_online"], color="#333333", linestyle=":", linewidth=1.0)
            ax.text(data.sizes[0], bc["cpus_online"], "CPUs online", va="bottom",
                    fontsize=7.5, color="#333333")
        ax.set_ylim(0, max(drawn + [bc["cpus_online"] or 0]) * 1.15)
    footer = ("Busy CPUs = (host user+sys+irq+softirq CPU time) / duration over the measured "
              "window (host_busy_cpus when the CSV has it). ")
    if bc["one_thread_wait_bound"]:
        footer += wait_bound_text(bc) + " "
    handles = series_handles(data, data.stream) + [
        Line2D([], [], color="#555555", linestyle="-", label="1 thread"),
        Line2D([], [], color="#555555", linestyle="--", label=plural(t) if t else "")]
    finish(fig, "Thread scaling beside the host's busy CPUs", handles,
           footer + env_line(data))
    return save(fig, out_dir, "scaling")


def rr_threads_size(data):
    """The rr size measured at the most thread counts (the smallest among equals), or None
    when no rr size has more than one thread count."""
    counts = defaultdict(set)
    for r in data.rr:
        counts[r.size].add(r.threads)
    best = min(counts, key=lambda s: (-len(counts[s]), s), default=None)
    return best if best is not None and len(counts[best]) > 1 else None


def plot_latency_threads(data, out_dir):
    """Figure: rr round-trip p50 and p99 vs thread count at one size."""
    size = rr_threads_size(data)
    if size is None:
        return no_data_figure(data, out_dir, "latency_threads",
                              "Request-response latency vs threads",
                              "round-trip latency vs threads",
                              "No rr size was measured at more than one thread count:\n"
                              "nothing to plot against threads (latency vs size is in "
                              "latency.png).")
    rows = [r for r in data.rr if r.size == size]
    ts = sorted({r.threads for r in rows})
    fig, axes = new_figure(2, panel_w=5.4, panel_h=3.6)
    for ax, (name, c) in zip(axes, (("p50", "rtt_p50_us"), ("p99", "rtt_p99_us"))):
        ax.set_title(f"{name} round trip at {fmt_size(size)}")
        agg = aggregate(rows, col(c))
        drawn = draw_vs_threads(ax, data, agg)
        if not drawn:
            no_data(ax, unavailable_text(c, agg))
            continue
        threads_axis(ax, ts)
        ax.set_ylabel("round-trip time (µs)")
        ax.set_ylim(0, max(drawn) * 1.08)
        note(ax, [missing_note(agg, c)])
    finish(fig, f"Request-response round-trip time vs threads ({fmt_size(size)})",
           series_handles(data, rows),
           "Each thread is one connection doing one request-response at a time. "
           + env_line(data))
    return save(fig, out_dir, "latency_threads")


# ---- where each byte's CPU goes (run_experiments.sh --profile) ------------------------

def profile_table(data):
    """{(series, size): {category: median ns/byte}} at the focus thread count, from the
    rows that carry a profile; {} when none does."""
    rows = [r for r in data.stream if r.threads == data.focus_threads
            and r.num.get("prof_samples")]
    values = defaultdict(lambda: defaultdict(list))
    for r in rows:
        for c, _, _ in PROFILE_CATEGORIES:
            v = r.num.get(f"prof_{c}")
            if v is not None:
                values[(r.series, r.size)][c].append(v)
        for c in ("idle", "foreign"):
            v = r.num.get(f"prof_{c}")
            if v is not None:
                values[(r.series, r.size)][c].append(v)
    return {k: {c: statistics.median(v) for c, v in d.items()} for k, d in values.items()}


def plot_profile(data, out_dir):
    """Where each byte's CPU goes: a stacked bar per size, a panel per series (None when
    no row carries a profile)."""
    table = profile_table(data)
    if not table:
        return None
    series = [s for s in data.series if any(k[0] == s for k in table)]
    sizes = sorted({k[1] for k in table})
    fig, axes = new_figure(len(series), panel_w=max(3.2, 0.55 * len(sizes) + 1.6),
                           panel_h=3.8, ncols=min(len(series), 4), extra_h=0.9)
    top = max(sum(d.get(c, 0) for c, _, _ in PROFILE_CATEGORIES) for d in table.values())
    for ax, s in zip(axes, series):
        ax.set_title(data.style(s).label, fontsize=10)
        xs = range(len(sizes))
        bottom = [0.0] * len(sizes)
        for c, label, colour in PROFILE_CATEGORIES:
            h = [table.get((s, z), {}).get(c, 0.0) for z in sizes]
            ax.bar(xs, h, bottom=bottom, color=colour, width=0.7,
                   label=label if s == series[0] else None)
            bottom = [b + x for b, x in zip(bottom, h)]
        ax.set_xticks(list(xs))
        ax.set_xticklabels([fmt_size(z) for z in sizes], fontsize=8)
        ax.set_ylim(0, top * 1.08)
        ax.set_xlabel("message size")
        ax.set_ylabel("CPU ns per byte (all CPUs)")
        ax.grid(axis="y", alpha=0.3)
    handles, _ = axes[0].get_legend_handles_labels()
    for ax in axes[len(series):]:
        ax.set_visible(False)
    fig.legend(handles=handles[::-1], loc="center right", frameon=False, fontsize=8.5,
               bbox_to_anchor=(1.0, 0.5), title="stacked, bottom to top", title_fontsize=8)
    env = environment(data)
    finish(fig, f"Where each byte's CPU goes, copy by copy ({plural(data.focus_threads)})",
           footer="perf record -a -g -e cpu-clock over each run's measured window (all CPUs, "
           "both ends), every sample's call chain in one category (run_experiments.sh "
           "--help, --profile); bar = median over rounds of samples x period / bytes "
           "received in the window; idle CPU and other processes left out. "
           f"{os.path.basename(data.path)}: kernel {env['kernel']}; {env['cpu_model']}; "
           f"link {env['link']}, MTU {env['mtu']}.")
    fig.subplots_adjust(right=0.80)
    return save(fig, out_dir, "profile")


def report_profile(a, data):
    """What each copy costs, from --profile; nothing when no row carries a profile."""
    table = profile_table(data)
    if not table:
        return []
    out = ["## Where each byte's CPU goes, copy by copy", "",
           f"From `run_experiments.sh --profile` ({plural(data.focus_threads)}): call chains "
           "sampled on all CPUs over each run's window, in CPU ns per byte received "
           "(median over rounds); `idle` and `foreign` (other processes) are shares of all "
           "samples. Figure: `profile.png`.", ""]
    cats = [c for c, _, _ in PROFILE_CATEGORIES]
    rows = []
    for (s, z), d in sorted(table.items(), key=lambda kv: (series_order(kv[0][0]), kv[0][1])):
        total = sum(d.get(c, 0) for c in cats)
        rows.append([series_name(s), fmt_size(z)] + [f"{d.get(c, 0):.3f}" for c in cats]
                    + [f"{total:.3f}", f"{d.get('idle', 0) * 100:.0f}%",
                       f"{d.get('foreign', 0) * 100:.0f}%"])
    out += md_table(["series", "size"] + cats + ["total", "idle", "foreign"], rows) + [""]
    by = defaultdict(dict)
    for (s, z), d in table.items():
        if s.variant == "default":
            by[z][s.strategy] = d
    for z in sorted(by):
        d = by[z]
        if "a1" in d and "a2" in d:
            a1, a2 = d["a1"], d["a2"]
            saved = a1.get("user_copy", 0) - a2.get("user_copy", 0)
            gather = (a2.get("send_copy", 0) + a2.get("stack", 0)) - \
                (a1.get("send_copy", 0) + a1.get("stack", 0))
            out.append(f"- {fmt_size(z)}: one-copy saves a1's user-space copy, "
                       f"{saved:.3f} ns/B; a2's kernel send path (copy + rest of the "
                       f"stack) costs {gather:+.3f} ns/B against a1's — "
                       + ("the gather eats the saving." if gather >= saved else
                          "the saving stands.")
                       + " (medians of a few rounds: a difference this small may be noise.)")
        if "a3" in d and "a2" in d:
            a2, a3 = d["a2"], d["a3"]
            moved = a3.get("deferred_copy", 0) + a3.get("zc_overhead", 0)
            out.append(f"- {fmt_size(z)}: zero-copy removes the send copy ({a2.get('send_copy', 0):.3f} → "
                       f"{a3.get('send_copy', 0):.3f} ns/B) but pays {a3.get('zc_overhead', 0):.3f} "
                       f"ns/B of pinning and completions and {a3.get('deferred_copy', 0):.3f} ns/B "
                       "of deferred copy at local delivery"
                       + (" — more than it saved: that is why zero-copy is not fastest here."
                          if moved > a2.get("send_copy", 0) else "."))
    return out + [""]


def report_paths(a, data):
    """Every zero-copy path side by side; nothing unless the sweep had the --engines or
    --rx axes."""
    paths = [s for s in data.series if s.variant not in ("default", "per-field")]
    if not paths:
        return []
    t = data.focus_threads
    out = ["## Every zero-copy path", "",
           f"Each sender and receiver path at {plural(t)}: median throughput and host CPU "
           "per byte over rounds, the kernel's copied share of zero-copy sends "
           "(zc_copied / zc_completions: MSG_ZEROCOPY's SO_EE_CODE_ZEROCOPY_COPIED or "
           "io_uring's IORING_NOTIF_USAGE_ZC_COPIED), and the receiver's mapped share "
           "(TCP_ZEROCOPY_RECEIVE). Verdicts against a1 are in the comparison tables.", ""]
    rows, removes = [], []
    for s in data.series:
        for z in data.sizes:
            rs = [r for r in data.stream if r.series == s and r.size == z and r.threads == t]
            if not rs:
                continue
            def med(f):
                v = [x for x in (f(r) for r in rs) if x is not None]
                return statistics.median(v) if v else None
            gb = med(col("throughput_gbps"))
            cpu = med(col("host_cpu_ns_per_byte"))
            cs = med(zc_copied_share)
            ms = med(lambda r: r.num.get("rx_mapped_share"))
            rows.append([series_name(s), fmt_size(z), fmt_num(gb), fmt_num(cpu),
                         "" if cs is None else f"{cs * 100:.0f}%",
                         "" if ms is None else f"{ms * 100:.0f}%"])
            if (cs is not None and cs < 0.99) or (ms is not None and ms > 0.5):
                removes.append((series_name(s), z, cs, ms))
    out += md_table(["series", "size", "Gbit/s", "host CPU ns/B", "copied share",
                     "mapped share"], rows) + [""]
    if removes:
        out.append("A copy really disappeared where the kernel says so: " + "; ".join(
            f"{n} at {fmt_size(z)}"
            + ("" if ms is None else f" (receiver mapped {ms * 100:.0f}%)")
            + ("" if cs is None or cs >= 0.99 else f" (sender copied only {cs * 100:.0f}%)")
            for n, z, cs, ms in removes) + ". Everywhere else any zero-copy send was "
            "copied at delivery and the receiver copied every byte.")
    else:
        out.append("No path avoided a copy on this machine: every zero-copy send was copied "
                   "at delivery (local sockets) and no receiver mapped more than half.")
    return out + [""]


FIGURES = (plot_throughput, plot_time_per_msg, plot_latency, plot_latency_threads,
           plot_cache_misses, plot_cpu_per_byte, plot_context_switches, plot_zc_copied)
FIGURES_OF_ANSWERS = (plot_ratios, plot_scaling)   # drawn from the analysis


# ---- command line ---------------------------------------------------------------------

def parse_args(argv):
    p = argparse.ArgumentParser(description=__doc__,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("csv", nargs="?", default="results.csv",
                   help="results CSV (default: results.csv)")
    p.add_argument("--out", default="plots", metavar="DIR",
                   help="output directory (default: plots)")
    p.add_argument("--threads", type=positive_int, metavar="N",
                   help="thread count for the cache, CPU and context-switch figures "
                        "(default: 1, else the smallest measured)")
    p.add_argument("--size", type=parse_size, metavar="SIZE",
                   help="message size for time per message vs threads, e.g. 64K "
                        "(default: 64K, else the nearest measured)")
    p.add_argument("--run-id", type=parse_run_ids, default="latest", metavar="ID[,ID...]",
                   help="runs to use: 'latest' (default: per mode, stream and rr, the most "
                        "recent run_id with rows of that mode), 'all', or run_ids; pooled "
                        "runs must agree on duration, warm-up, MTU, link and placement")
    return p.parse_args(argv)


def die(message, status=1):
    print(f"fatal: {message}", file=sys.stderr)
    return status


def main(argv=None):
    """Entry point; returns the exit status. Re-execs only when run from the command line."""
    from_command_line = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    try:
        rows, runs = select_runs(args.csv, load_rows(args.csv), args.run_id)
    except InputError as e:
        return die(str(e), e.status)
    try:
        import_pyplot(from_command_line, argv)
    except ImportError:
        return die(MISSING_MPL.format(exe=sys.executable))
    data = Data(args.csv, rows, args.threads, args.size, runs)
    analysis = analyse(data)
    try:
        os.makedirs(args.out, exist_ok=True)
        written = [fig(data, args.out) for fig in FIGURES]
        written += [fig(data, args.out, analysis) for fig in FIGURES_OF_ANSWERS]
        written.append(plot_summary(data, analysis, args.out))
        profile = plot_profile(data, args.out)
        if profile:
            written.append(profile)
        report = os.path.join(args.out, "report.md")
        summary = os.path.join(args.out, "summary.json")
        write_report(analysis, data, report)
        write_summary(analysis, summary)
    except OSError as e:
        return die(f"{e.filename or args.out}: {e.strerror or e}")
    names = ",".join(os.path.splitext(os.path.basename(w))[0] for w in written)
    print(f"wrote {os.path.join(args.out, '{' + names + '}')}.png (+ .svg)")
    print(f"wrote {report} and {summary}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
