#!/usr/bin/env python3
"""Plot copybench results and write the analysis, from results.csv alone.

Reads the CSV written by run_experiments.sh (one row per run, columns as listed in
docs/csv-and-json.md, "CSV columns") and writes into the output directory:

  throughput, ratios, time_per_msg, latency, latency_threads, cache_misses, cpu_per_byte,
  scaling, context_switches, zc_copied, summary, profile (with profile rows), timeline
  (runs flagged unstable that kept their per-interval samples, or --timeline RUN)
                       each as .png and .svg
  report.md            the answers, in prose, with the numbers behind them
  summary.json         the same answers for scripts
  retransmissions.csv  every run with TCP retransmissions (the report summarises them)

Which rows: the driver appends every sweep to the same CSV under a new run_id. By default
only the latest sweep is used: per mode (stream, rr) the latest run_id with rows of that
mode, from the same machine as the latest run (--run-id chooses others). Rows that differ in
kernel, cpu_model, link or mtu are never pooled: such a choice is refused (exit 2). A run
directory results/<run_id>/ beside the CSV without a COMPLETE file is reported as incomplete.
Only rows with status "ok" are measured; failed rows are counted and named in the report.

Verdicts: a round is one repeat of one run (the driver puts the strategies of a point
together within a round). Strategies are compared pairwise on the per-round paired ratios
of a metric: their median, a distribution-free 95% interval for that median (sign-test
order statistics, exact binomial coverage; it needs >= 6 rounds), the exact sign-test p,
and a Benjamini–Hochberg q within the comparison's family (strategy pair × metric). Three
answers: faster / slower where q <= 0.05, the same within ±P where the whole interval lies
inside ±P (corrected the same way), else cannot tell, with the smallest difference the
point could have resolved (docs/statistics.md). ±P: --precision, else the
CSV's precision column, else 5%. Rows with a profile (prof_samples) are never pooled with
the others: sampling costs throughput; they give each copy's cost instead.
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
import cbstats  # noqa: E402
from cbstats import (  # noqa: E402
    ALPHA, CI_LEVEL, DEFAULT_PRECISION, MIN_ROUNDS, POWER, judge, median_interval,
    order_stat_coverage, order_stat_k)
import cbcompare  # noqa: E402  (--compare BASE NEW)
import cbtimeline  # noqa: E402  (--timeline RUN)

SYSTEM_PYTHON = "/usr/bin/python3"          # Debian's python3-matplotlib serves this one
REEXEC_GUARD = "COPYBENCH_PLOT_REEXECED"   # set on re-exec so we never loop
MISSING_MPL = ("matplotlib not found for {exe}; "
               "install it with: sudo apt-get install python3-matplotlib")

# ---- the CSV contract (docs/csv-and-json.md, "CSV columns") -----------------------------

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
# The machine-drift probe before a sweep (tools/cb_drift; the same in every row of a run_id).
DRIFT_COLUMNS = ("drift_copy_gbps", "drift_copy_step", "drift_alu_step", "drift_wake_us",
                 "drift_wake_step", "drift_windows", "drift_window_s", "drift_sys_ns",
                 "drift_sys_step", "drift_cpus")
OPTIONAL_NUMERIC_COLUMNS = ("host_busy_cpus", "cpus_online", "srv_window_s", "cli_window_s",
                            "srv_life_cpu_user_s", "srv_life_cpu_sys_s", "tcp_loss_probes",
                            "tcp_spurious_rtos", "tcp_dsack_recv", "tcp_dsack_recv_segs",
                            "zc_in_flight_max",
                            "buffers", "rx_mapped_share", "fixed_buffers",
                            *(f"prof_{c}" for c, _, _ in PROFILE_CATEGORIES),
                            "prof_idle", "prof_foreign", "prof_samples",
                            "local_mtu", "local_speed_mbps", "remote_mtu", "remote_speed_mbps",
                            "seed", "slot", "dsack_share", "precision",
                            "interval_s", "interval_cv", "interval_stall_s", "interval_drift",
                            "host_cpu_nice_s", "host_cpu_steal_s", *DRIFT_COLUMNS)
# Text columns of the planner (read from the row as they are): pass = first / extra
# (extra rounds the adaptive planner gave a point).
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
        and receiver — per-field, the engine, receive zero-copy or discard — so each path
        is a series of its own ("uring", "rx-zerocopy", "sendfile+rx-discard", ...)."""
        parts = [self.raw["variant"]] if self.raw["variant"] not in ("", "default") else []
        if self.raw.get("engine", "") not in ("", "syscall", "NA"):
            parts.append(self.raw["engine"])
        if self.raw.get("rx", "") not in ("", "copy", "NA"):
            parts.append("rx-" + self.raw["rx"])
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


def perf_interval(r, side):
    """What a side's perf columns cover: 'window', 'life', 'failed' or 'NA'. The CSV's
    perf_interval is one value, or 'srv:X;cli:Y' when the sides differ; a CSV from before
    the column counted the whole life."""
    text = r.raw.get("perf_interval")
    if text is None:
        return "life"
    if ";" in text:
        parts = dict(p.split(":", 1) for p in text.split(";") if ":" in p)
        return parts.get(side, "NA")
    return text


def perf_per_byte(name, side, scale=1.0):
    """Metric: a side's perf count * scale over the bytes of the interval it covers — the
    window's payload (bytes) when perf was switched at the window's edges, else every byte
    of the run (srv_bytes_sent, what the client received in its whole life)."""
    def metric(r):
        bytes_col = "bytes" if perf_interval(r, side) == "window" else "srv_bytes_sent"
        v, b = r.num[name], r.num[bytes_col]
        return None if v is None or not b else v * scale / b
    return metric


def task_clock_ns_per_byte(side):
    """CPU-ns per byte from perf's task-clock (msec) over the bytes of its interval."""
    return perf_per_byte(f"{side}_task_clock", side, 1e6)


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


def precision_arg(text):
    """argparse type: a precision as a fraction (0.05) or a percentage (5%), in (0, 1)."""
    t = text.strip()
    try:
        p = float(t[:-1]) / 100 if t.endswith("%") else float(t)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a precision: {text!r} (e.g. 0.05 or 5%)") \
            from None
    if not 0 < p < 1:
        raise argparse.ArgumentTypeError(f"precision must be between 0 and 1 (0%–100%): "
                                         f"{text!r}")
    return p


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

    def __init__(self, path, rows, want_threads=None, want_size=None, runs=None,
                 want_precision=None):
        self.path = path
        self.rows = rows
        self.runs = runs or {"selection": "all", "run_ids": distinct(rows, "run_id"),
                             "rows_used": len(rows), "rows_left_out": 0,
                             "run_ids_left_out": []}
        self.ok = [r for r in rows if r.ok]
        self.failed = [r for r in rows if not r.ok]
        # sampling call chains costs CPU and throughput: profiled runs answer what each copy
        # costs and are never pooled with the rest
        self.profiled = [r for r in self.ok if r.num.get("prof_samples")]
        measured = [r for r in self.ok if not r.num.get("prof_samples")]
        self.stream = [r for r in measured if r.raw["mode"] == "stream"]
        self.rr = [r for r in measured if r.raw["mode"] == "rr"]
        self.precision, self.precision_source = pick_precision(self.ok, want_precision)
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


def pick_precision(rows, wanted):
    """(±P of 'the same within ±P', where it comes from): --precision, else the CSV's
    precision column (the largest when runs differ), else DEFAULT_PRECISION."""
    if wanted is not None:
        return wanted, "--precision"
    planned = sorted({r.num["precision"] for r in rows if r.num.get("precision")})
    if planned:
        more = f"; the runs planned {', '.join(f'±{p:.0%}' for p in planned)}" \
            if len(planned) > 1 else ""
        return planned[-1], f"the run's plan (precision column{more})"
    return DEFAULT_PRECISION, "the default (the CSV has no precision column)"


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
    fams = family_summary(comps)
    return {
        "source": data.path,
        "runs": data.runs,
        "machine": machine_summary(data),
        "rows": {"total": len(data.rows), "ok": len(data.ok), "failed": len(data.failed),
                 "stream_ok": len(data.stream), "rr_ok": len(data.rr),
                 "profiled_ok": len(data.profiled)},
        "repeats": repeat_counts(throughput),
        "method": {"interval": "order statistics of the paired per-round ratios",
                   "test": "exact two-sided sign test (ties counted against a verdict)",
                   "correction": "Benjamini–Hochberg per family (strategy pair × metric)",
                   "level": CI_LEVEL, "fdr": ALPHA, "min_rounds": MIN_ROUNDS,
                   "precision": data.precision, "precision_source": data.precision_source,
                   "mdd_power": POWER,
                   "chance_uncorrected": sum(f["chance_uncorrected"] for f in fams),
                   "chance_corrected": sum(f["chance_corrected"] for f in fams),
                   "comparisons": len(comps)},
        "plan": plan_summary(data, comps),
        "failed_runs": [run_ref(r) | {"reason": r.raw["reason"]} for r in data.failed],
        "baseline": series_ref(data.baseline) if data.baseline else None,
        "baseline_note": data.baseline_note,
        "families": fams,
        "comparisons": comps,
        "crossover": crossovers(detail),
        "crossover_detail": detail,
        "best": best_per_point(data, throughput, comps),
        "scaling_efficiency": scaling_efficiency(data, throughput),
        "busy_cpus": busy_cpus_summary(data),
        "zc_copied_share": zc_shares(data),
        "cpu_per_byte": cpu_per_byte_table(data),
        "perf_interval": perf_intervals(data.ok),
        "profile": profile_answers(data, comps),
        "retransmissions": retransmissions(data),
        "retransmitted_runs": len(retransmitted_runs(data)),
        "latency": latency_answers(data, comps),
        "environment": environment(data),
        "unavailable_counters": unavailable_counters(data),
        "partially_unavailable_counters": partially_unavailable_counters(data),
        "multiplexed_counters": multiplexed_counters(data),
        "perf_user_only_runs": sum(1 for r in data.ok if r.num["perf_user_only"] == 1),
        "stability": stability(data),
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


# ---- paired comparisons: every verdict with its interval, p and q -----------------------

# pairs: "all" = every pair of series measured with the metric (the later one in
# series_order over the earlier: a2/a1, a3/a1, a3/a2); "a3/a2" = that pair only.
Metric = namedtuple("Metric", "column mode higher_is_better label unit pairs")
COMPARE_METRICS = (
    Metric("throughput_gbps", "stream", True, "throughput", "Gbit/s", "all"),
    Metric("host_cpu_ns_per_byte", "stream", False, "host-wide CPU per byte", "ns/B", "all"),
    Metric("host_softirq_ns_per_byte", "stream", False, "host softirq CPU per byte", "ns/B",
           "a3/a2"),
    Metric("rtt_p50_us", "rr", False, "p50 round trip", "µs", "all"),
    Metric("rtt_p99_us", "rr", False, "p99 round trip", "µs", "all"),
)
METRIC_BY_COLUMN = {m.column: m for m in COMPARE_METRICS}
# what a verdict is called per metric: (better, worse)
VERDICT_WORDS = {"throughput_gbps": ("faster", "slower"),
                 "host_cpu_ns_per_byte": ("less", "more"),
                 "host_softirq_ns_per_byte": ("less", "more"),
                 "rtt_p50_us": ("shorter", "longer"), "rtt_p99_us": ("shorter", "longer")}
RESOLVED = ("faster", "slower")


def metric_value(column):
    """The per-row value of a compared metric (a CSV column, or host softirq ns/B)."""
    if column == "host_softirq_ns_per_byte":
        return per_byte("host_cpu_softirq_s", "bytes", 1e9)
    return col(column)


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


def paired_values(values, a, b, size, threads):
    """([(a's value, b's value)] of the rounds where both were measured and positive, the
    run_ids of those rounds)."""
    va, vb = values.get((a, size, threads), {}), values.get((b, size, threads), {})
    rounds = sorted(k for k in set(va) & set(vb) if va[k] > 0 and vb[k] > 0)
    return [(va[k], vb[k]) for k in rounds], {k[0] for k in rounds}


def metric_pairs(m, present):
    """(a, b) series pairs compared on metric m, among the series present."""
    if m.pairs == "a3/a2":
        a3 = [s for s in present if s.strategy == "a3" and s.variant == "default"]
        a2 = [s for s in present if s.strategy == "a2" and s.variant == "default"]
        return [(a3[0], a2[0])] if a3 and a2 else []
    return [(a, b) for i, a in enumerate(present) for b in present[:i]]


def family_key(c):
    """A family of comparisons, corrected together: strategy pair × metric (× its mode)."""
    return (c["a"], c["b"], c["metric"])


def comparisons(data):
    """Every pair of series per metric of COMPARE_METRICS, size and thread count, on paired
    per-round ratios metric(a) / metric(b), corrected per family (cbstats.correct_family)."""
    incomplete = set(data.runs.get("incomplete", []))
    out = []
    for m in COMPARE_METRICS:
        rows = data.stream if m.mode == "stream" else data.rr
        values = round_values(rows, metric_value(m.column))
        present = sorted({k[0] for k in values}, key=series_order)
        points = sorted({(k[2], k[1]) for k in values})
        for a, b in metric_pairs(m, present):
            for threads, size in points:
                pairs, runs = paired_values(values, a, b, size, threads)
                if not pairs:
                    continue
                corr, var_ratio = cbstats.pairing_gain([x for x, _ in pairs],
                                                       [y for _, y in pairs])
                out.append({"a": series_name(a), "b": series_name(b), "mode": m.mode,
                            "msg_size": size, "threads": threads, "metric": m.column,
                            "higher_is_better": m.higher_is_better,
                            **judge([x / y for x, y in pairs], m.higher_is_better,
                                    data.precision),
                            "pairing_corr": corr, "pairing_var_ratio": var_ratio,
                            "incomplete_run": bool(runs & incomplete)})
    return cbstats.correct_families(out, family_key)


def families(comps):
    """{(a, b, metric): [comparisons]} in the order first seen."""
    out = {}
    for c in comps:
        out.setdefault(family_key(c), []).append(c)
    return out


def family_summary(comps):
    """Per family: how many points, verdicts of each kind, resolved before the correction,
    the smallest detectable differences of the cannot-tell points, the achieved pairing, and
    what chance alone would give if nothing differed (exact, from the sign test's null
    distribution at each point's n): without the correction and after it."""
    out = []
    for (a, b, metric), cs in families(comps).items():
        ns = [c["n"] for c in cs]
        raw_e, raw_any = cbstats.chance_uncorrected(ns)
        bh_e, bh_any = cbstats.chance_corrected(ns)
        count = {v: sum(1 for c in cs if c["verdict"] == v)
                 for v in ("faster", "slower", "same", "cannot tell")}
        mdds = [c["mdd"] for c in cs if c["verdict"] == "cannot tell" and c["mdd"] is not None]
        corr = [c["pairing_corr"] for c in cs if c["pairing_corr"] is not None]
        var = [c["pairing_var_ratio"] for c in cs if c["pairing_var_ratio"] is not None]
        out.append({"a": a, "b": b, "metric": metric, "mode": cs[0]["mode"],
                    "points": len(cs), **count,
                    "resolved_uncorrected": sum(1 for c in cs
                                                if c["verdict_uncorrected"] in RESOLVED),
                    "rounds_min": min(ns), "rounds_max": max(ns),
                    "mdd_min": min(mdds) if mdds else None,
                    "mdd_median": statistics.median(mdds) if mdds else None,
                    "pairing_corr_median": statistics.median(corr) if corr else None,
                    "pairing_var_ratio_median": statistics.median(var) if var else None,
                    "chance_uncorrected": raw_e, "chance_uncorrected_any": raw_any,
                    "chance_corrected": bh_e, "chance_corrected_any": bh_any})
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
    paired ratio with its interval and the (corrected) verdict the crossover is decided on."""
    out = {}
    for strategy in ("a2", "a3"):
        cand = pick_series(data, strategy)
        per_t = {}
        if cand and data.baseline:
            by = {(c["threads"], c["msg_size"]): c for c in comps
                  if c["metric"] == "throughput_gbps" and c["a"] == series_name(cand)
                  and c["b"] == series_name(data.baseline)}
            for t in data.threads:
                pts = []
                for s in data.sizes:
                    c, st_a = by.get((t, s)), throughput.stats.get((cand, s, t))
                    st_b = throughput.stats.get((data.baseline, s, t))
                    if c and st_a and st_b:
                        pts.append({"msg_size": s, "median_gbps": st_a.median,
                                    "a1_median_gbps": st_b.median,
                                    **{k: c[k] for k in ("ratio", "ci_low", "ci_high", "n",
                                                         "coverage", "verdict", "reason",
                                                         "p", "q", "mdd")}})
                per_t[str(t)] = pts
        out[f"{strategy}_vs_a1"] = per_t
    return out


def leaders(names, comps):
    """The strategies at one point that no other was resolved better than, and how they
    stand among themselves: (leaders, relation) with relation 'won' (one leader, resolved
    better than every other strategy there), 'same' (every pair of leaders the same within
    ±P), 'cannot tell' or 'alone' (one strategy measured)."""
    beaten = set()
    for c in comps:
        if c["verdict"] == "faster":
            beaten.add(c["b"])
        elif c["verdict"] == "slower":
            beaten.add(c["a"])
    top = [n for n in names if n not in beaten]
    if len(names) == 1:
        return top, "alone"
    if not top:
        return names, "cannot tell"
    if len(top) == 1:
        others = [c for c in comps if top[0] in (c["a"], c["b"])]
        won = len(others) == len(names) - 1 and all(
            (c["verdict"] == "faster") == (c["a"] == top[0]) and c["verdict"] in RESOLVED
            for c in others)
        return top, "won" if won else "cannot tell"
    inner = [c for c in comps if c["a"] in top and c["b"] in top]
    if top and inner and all(c["verdict"] == "same" for c in inner) and \
            len(inner) == len(top) * (len(top) - 1) // 2:
        return top, "same"
    return top, "cannot tell"


def point_answers(comps, metric, mode_rows, medians):
    """Per (msg_size, threads) of a metric's comparisons: leaders() and the medians."""
    at = defaultdict(list)
    for c in comps:
        if c["metric"] == metric:
            at[(c["msg_size"], c["threads"])].append(c)
    names_at = defaultdict(set)
    for r in mode_rows:
        names_at[(r.size, r.threads)].add(r.series)
    out = []
    for (size, threads) in sorted(names_at, key=lambda p: (p[1], p[0])):
        series = sorted(names_at[(size, threads)], key=series_order)
        names = [series_name(s) for s in series]
        here = at.get((size, threads), [])
        top, relation = leaders(names, here)
        contenders = list(top)
        if len(top) == 1 and relation == "cannot tell":   # not resolved against everyone
            contenders += [n for n in names if n != top[0] and not any(
                {c["a"], c["b"]} == {n, top[0]} and c["verdict"] in RESOLVED for c in here)]
        out.append({"msg_size": size, "threads": threads, "leaders": top,
                    "relation": relation, "contenders": contenders, "resolved": relation == "won",
                    "medians": {series_name(s): medians.stats[(s, size, threads)].median
                                for s in series if (s, size, threads) in medians.stats},
                    "winner": series_ref(series[names.index(top[0])])
                    if relation == "won" else None})
    return out


def best_per_point(data, throughput, comps):
    """Per (msg_size, threads) of stream rows: the strategy with the highest throughput only
    where it is resolved faster (paired, corrected) than every other there; else the
    strategies no other was resolved faster than."""
    return point_answers(comps, "throughput_gbps", data.stream, throughput)


LATENCY_COLUMNS = (("p50", "rtt_p50_us"), ("p90", "rtt_p90_us"), ("p99", "rtt_p99_us"),
                   ("p99.9", "rtt_p999_us"))


def latency_answers(data, comps):
    """Per (msg_size, threads) of rr rows: for p50 and p99 the strategy with the shortest
    round trip where resolved (paired, corrected), else the ones that cannot be told apart."""
    if not data.rr:
        return []
    p50 = point_answers(comps, "rtt_p50_us", data.rr, aggregate(data.rr, col("rtt_p50_us")))
    p99 = {(e["msg_size"], e["threads"]): e for e in point_answers(
        comps, "rtt_p99_us", data.rr, aggregate(data.rr, col("rtt_p99_us")))}
    return [{"msg_size": e["msg_size"], "threads": e["threads"], "p50": e,
             "p99": p99[(e["msg_size"], e["threads"])]} for e in p50]


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


RETRANS_CSV = "retransmissions.csv"
RETRANS_FIELDS = ("run_id", "order", "repeat", "line", "status", "strategy", "variant",
                  "mode", "msg_size", "threads", "tcp_retrans", "dsack_share",
                  "throughput_gbps")


def retransmitted_runs(data):
    """Every run (ok or failed) with tcp_retrans > 0: the rows of retransmissions.csv."""
    return [run_ref(r) | {"status": r.raw["status"], "tcp_retrans": r.num["tcp_retrans"],
                          "dsack_share": r.num.get("dsack_share"),
                          "throughput_gbps": r.num["throughput_gbps"]}
            for r in data.rows if (r.num["tcp_retrans"] or 0) > 0]


def retransmissions(data):
    """Per mode and series: runs, runs with retransmissions, the median and largest count
    per affected run, and the median share of retransmitted segments the receiver
    D-SACKed (it had them already: spurious), where the CSV records it."""
    groups = defaultdict(list)
    for r in data.rows:
        if r.raw["strategy"]:
            groups[(r.raw["mode"], r.series)].append(r)
    out = []
    for (mode, series), rows in sorted(groups.items(),
                                       key=lambda kv: (kv[0][0] != "stream",
                                                       series_order(kv[0][1]))):
        hit = [r for r in rows if (r.num["tcp_retrans"] or 0) > 0]
        shares = [r.num["dsack_share"] for r in hit if r.num.get("dsack_share") is not None]
        counts = [r.num["tcp_retrans"] for r in hit]
        out.append({"mode": mode, **series_ref(series), "runs": len(rows),
                    "affected": len(hit),
                    "median_per_affected_run": statistics.median(counts) if counts else None,
                    "max_per_run": max(counts) if counts else None,
                    "dsack_share_median": statistics.median(shares) if shares else None,
                    "dsack_share_runs": len(shares)})
    return out


STALL_FLAG_INTERVALS = 2   # a receiver stalled this many intervals in a row: flagged
DRIFT_FLAG = 0.25          # last third's throughput over the first third's beyond ±this: flagged


def stability(data):
    """The ok runs' per-interval stability (interval_* columns, the receiver's): how many runs
    recorded it, the median coefficient of variation of per-interval throughput, and every
    run flagged unstable, with why: a stall of STALL_FLAG_INTERVALS intervals or more, or a
    drift beyond ±DRIFT_FLAG."""
    rows = [r for r in data.ok if r.num.get("interval_s")]
    unstable = []
    for r in rows:
        why = []
        stall, drift = r.num.get("interval_stall_s"), r.num.get("interval_drift")
        if stall is not None and stall >= STALL_FLAG_INTERVALS * r.num["interval_s"] - 1e-9:
            why.append(f"stalled {stall:g} s")
        if drift is not None and not 1 / (1 + DRIFT_FLAG) <= drift <= 1 + DRIFT_FLAG:
            why.append(f"drifted ×{drift:.2f}")
        if why:
            unstable.append(run_ref(r) | {"why": "; ".join(why), "interval_stall_s": stall,
                                          "interval_drift": drift,
                                          "interval_cv": r.num.get("interval_cv")})
    cvs = [r.num["interval_cv"] for r in rows if r.num.get("interval_cv") is not None]
    return {"runs": len(rows), "interval_s": sorted({r.num["interval_s"] for r in rows}),
            "cv_median": statistics.median(cvs) if cvs else None, "unstable": unstable,
            "stall_flag_intervals": STALL_FLAG_INTERVALS, "drift_flag": DRIFT_FLAG}


def report_stability(a):
    """'Stability over time': the flagged runs (nothing when no run recorded samples)."""
    st = a["stability"]
    if not st["runs"]:
        return []
    iv = ", ".join(f"{v:g}" for v in st["interval_s"])
    out = ["## Stability over time", "",
           f"{st['runs']} runs recorded per-interval samples ({iv} s; the receiver's, "
           "docs/csv-and-json.md); the median coefficient of variation of their per-interval "
           f"throughput is {fmt_num(st['cv_median'])}. A run is flagged when its receiver "
           f"stalled {STALL_FLAG_INTERVALS} intervals in a row or more (each at or below 10% "
           f"of its median) or its last third's throughput differs from its first third's by "
           f"more than ±{fmt_pct(DRIFT_FLAG)}."]
    if not st["unstable"]:
        return out + ["", "No run was flagged.", ""]
    per = defaultdict(int)
    for u in st["unstable"]:
        per[(u["mode"], u["strategy"])] += 1
    counts = ", ".join(f"{mode} {strategy} {n}" for (mode, strategy), n in sorted(per.items()))
    worst = sorted(st["unstable"], key=instability)[:UNSTABLE_SHOWN]
    out += ["", f"{len(st['unstable'])} of {st['runs']} flagged ({counts}); the "
            f"{len(worst)} most unstable below, every one in summary.json "
            "`stability.unstable` (each run's samples are in its raw `*.cli.json` / "
            "`*.srv.json` under `results/<run_id>/`; `plot_results.py --timeline` draws them):",
            ""]
    for u in worst:
        out.append(f"- run `{u['run_id']}` #{u['order']} (repeat {u['repeat']}): {u['mode']} "
                   f"{u['strategy']} {fmt_size(u['msg_size'])} × {u['threads']}: {u['why']}")
    return out + [""]


UNSTABLE_SHOWN = 3


def instability(u):
    """Sort key, most unstable first: the longest stall, then the largest drift either way."""
    drift = u.get("interval_drift")
    return (-(u.get("interval_stall_s") or 0),
            -abs(math.log(drift)) if drift and drift > 0 else 0)


def write_retransmissions(data, path):
    """retransmissions.csv: one row per run with retransmissions (RETRANS_FIELDS)."""
    with open(path, "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(RETRANS_FIELDS)
        for run in retransmitted_runs(data):
            w.writerow(["" if run[k] is None else
                        (f"{run[k]:g}" if isinstance(run[k], float) else run[k])
                        for k in RETRANS_FIELDS])


def point_key(r):
    return (r.raw["mode"], r.size, r.threads)


def plan_summary(data, comps):
    """How the rounds were planned: the seeds, rounds per point (first pass and extra), the
    points whose intervals stayed too wide to decide at ±P (cbstats.is_decisive: the rule
    the driver's extra rounds use), and the precision in use."""
    rounds = defaultdict(set)
    extra = defaultdict(set)
    for r in data.stream + data.rr:
        rounds[point_key(r)].add((r.raw["run_id"], r.raw["repeat"]))
        if r.raw.get("pass") == "extra":
            extra[point_key(r)].add((r.raw["run_id"], r.raw["repeat"]))
    counts = [len(v) for v in rounds.values()]
    wide = defaultdict(list)
    for c in comps:
        if c["metric"] in ("throughput_gbps", "rtt_p50_us") and not cbstats.is_decisive(
                cbstats.bounds_width(c["ci_low"], c["ci_high"]), data.precision):
            wide[(c["mode"], c["msg_size"], c["threads"])].append(
                f"{c['a']}/{c['b']} {fmt_ratio(c['ci_low'])}–{fmt_ratio(c['ci_high'])}")
    seeds = sorted({r.raw["seed"] for r in data.ok if r.raw.get("seed") not in (None, "", "NA")})
    return {"precision": data.precision, "precision_source": data.precision_source,
            "seeds": seeds, "points": len(rounds),
            "rounds_min": min(counts) if counts else 0,
            "rounds_max": max(counts) if counts else 0,
            "points_with_extra_rounds": len(extra),
            "extra_rounds": sum(len(v) for v in extra.values()),
            "wide": [{"mode": k[0], "msg_size": k[1], "threads": k[2], "intervals": v}
                     for k, v in sorted(wide.items(), key=lambda kv: (kv[0][0] != "stream",
                                                                       kv[0][2], kv[0][1]))]}


# ---- each copy's cost, from profiled runs (run_experiments.sh --profile) --------------

PROFILE_CATS = tuple(c for c, _, _ in PROFILE_CATEGORIES)


def prof_total(r):
    """CPU ns per byte of every category of a profiled row (idle and foreign left out)."""
    vals = [r.num.get(f"prof_{c}") for c in PROFILE_CATS]
    return None if any(v is None for v in vals) else sum(vals)


def interval_of(values):
    """{median, lo, hi, n, coverage} of values over rounds (None for none)."""
    if not values:
        return None
    med, lo, hi, cov = median_interval(values)
    return {"median": med, "lo": lo, "hi": hi, "n": len(values), "coverage": cov}


def profile_answers(data, comps):
    """Each copy's cost per profiled point: per category the median ns/B over rounds with its
    interval and its share of the same rows' host CPU per byte; per pair of strategies the
    per-round paired differences of each category between neighbours in series order (a2 -
    a1, a3 - a2: each step removes a copy); and what sampling cost: the
    throughput of profiled runs over that of unprofiled runs of the same points."""
    prof = [r for r in data.profiled if r.raw["mode"] == "stream"]
    if not prof:
        return {"points": [], "differences": [], "sampling_cost": []}
    by = defaultdict(list)
    for r in prof:
        by[(r.series, r.size, r.threads)].append(r)
    points = []
    for (s, size, t), rows in sorted(by.items(), key=lambda kv: (kv[0][2], kv[0][1],
                                                                 series_order(kv[0][0]))):
        cats = {}
        for c in PROFILE_CATS + ("idle", "foreign"):
            vals = [r.num[f"prof_{c}"] for r in rows if r.num.get(f"prof_{c}") is not None]
            shares = [r.num[f"prof_{c}"] / r.num["host_cpu_ns_per_byte"] for r in rows
                      if r.num.get(f"prof_{c}") is not None and r.num["host_cpu_ns_per_byte"]]
            cats[c] = interval_of(vals)
            if cats[c] is not None and c in PROFILE_CATS:
                cats[c]["share_of_host"] = statistics.median(shares) if shares else None
        points.append({**series_ref(s), "msg_size": size, "threads": t, "rounds": len(rows),
                       "categories": cats,
                       "total": interval_of([v for v in map(prof_total, rows) if v is not None]),
                       "host": interval_of([r.num["host_cpu_ns_per_byte"] for r in rows
                                            if r.num["host_cpu_ns_per_byte"]])})
    diffs = []
    series = sorted({k[0] for k in by}, key=series_order)
    for size, t in sorted({(k[1], k[2]) for k in by}):
        # each step removes a copy: a2 - a1, a3 - a2 (a3 - a1 is their sum)
        for a, b in zip(series[1:], series):
            ra = {(r.raw["run_id"], r.raw["repeat"]): r for r in by.get((a, size, t), [])}
            rb = {(r.raw["run_id"], r.raw["repeat"]): r for r in by.get((b, size, t), [])}
            common = sorted(set(ra) & set(rb))
            if not common:
                continue
            per_cat = {}
            for c in PROFILE_CATS:
                d = [ra[k].num[f"prof_{c}"] - rb[k].num[f"prof_{c}"] for k in common
                     if ra[k].num.get(f"prof_{c}") is not None
                     and rb[k].num.get(f"prof_{c}") is not None]
                per_cat[c] = interval_of(d)
            verdict = next((c for c in comps if c["metric"] == "host_cpu_ns_per_byte"
                            and (c["a"], c["b"]) == (series_name(a), series_name(b))
                            and (c["msg_size"], c["threads"]) == (size, t)), None)
            diffs.append({"a": series_name(a), "b": series_name(b), "msg_size": size,
                          "threads": t, "rounds": len(common), "categories": per_cat,
                          "host_cpu_verdict": verdict["verdict"] if verdict else None,
                          "host_cpu_ratio": verdict["ratio"] if verdict else None})
    thr = aggregate(data.stream, col("throughput_gbps"))
    thr_prof = aggregate(prof, col("throughput_gbps"))
    cost = [{**series_ref(k[0]), "msg_size": k[1], "threads": k[2],
             "profiled_gbps": st.median, "unprofiled_gbps": thr.stats[k].median,
             "ratio": st.median / thr.stats[k].median}
            for k, st in sorted(thr_prof.stats.items(), key=lambda kv: (kv[0][2], kv[0][1],
                                                                       series_order(kv[0][0])))
            if k in thr.stats and thr.stats[k].median]
    return {"points": points, "differences": diffs, "sampling_cost": cost}


def distinct(rows, column):
    seen = []
    for r in rows:
        v = r.raw[column]
        if v not in seen:
            seen.append(v)
    return seen


def environment(data):
    """kernel, cpu_model, link, mtu, placement: a string (or number) when all rows agree,
    else the list of values seen; drift: the machine-drift probe of each run_id that has
    one (drift_runs)."""
    env = {}
    for c in ("kernel", "cpu_model", "link", "mtu", "placement"):
        vals = [v for v in distinct(data.rows, c) if v != ""]
        if c == "mtu":
            vals = [int(float(v)) if v not in ("NA",) else v for v in vals]
        env[c] = vals[0] if len(vals) == 1 else (vals or None)
    env["drift"] = drift_runs(data)
    return env


def drift_runs(data):
    """The machine-drift probe (tools/cb_drift, before the sweep) of each run_id whose rows
    carry one: [{run_id, copy_gbps, copy_step, alu_step, wake_us, wake_step, windows,
    window_s, sys_ns, sys_step, cpus}] in the rows' order (a value the probe could not give is None)."""
    out = {}
    for r in data.rows:
        rid = r.raw["run_id"]
        if rid not in out and r.num.get("drift_copy_step") is not None:
            out[rid] = {"run_id": rid, **{c[len("drift_"):]: r.num.get(c) for c in DRIFT_COLUMNS}}
    return list(out.values())


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
    """A ratio with two decimals (three when within 2% of 1, where the band matters; one
    from 10 up)."""
    return f"{x:.3f}" if abs(x - 1) < 0.02 else f"{x:.1f}" if x >= 10 else f"{x:.2f}"


def fmt_pct(x):
    """A fraction as a percentage: '5%', '27%', '4.3%'; '∞' for math.inf."""
    if x == math.inf:
        return "∞"
    pct = x * 100
    if abs(pct - round(pct)) < 1e-9 or pct >= 9.5:
        return f"{pct:.0f}%"
    return f"{pct:.1f}%"


def fmt_interval(c):
    """'(1.05–1.20)' for a comparison's CI_LEVEL interval; '[1.05–1.20]' for [min, max] when
    there were too few rounds for one."""
    text = f"{fmt_ratio(c['ci_low'])}–{fmt_ratio(c['ci_high'])}"
    return f"({text})" if c["coverage"] >= CI_LEVEL else f"[{text}]"


def verdict_mark(c):
    """'**faster**', '*slower*' (in the metric's words), 'same ±5%', or '? ±27%' (cannot
    tell; the smallest difference the point would have resolved)."""
    better, worse = VERDICT_WORDS[c["metric"]]
    if c["verdict"] == "faster":
        return f"**{better}**"
    if c["verdict"] == "slower":
        return f"*{worse}*"
    if c["verdict"] == "same":
        return f"same ±{fmt_pct(c['precision'])}"
    return "?" + (f" ±{fmt_pct(c['mdd'])}" if c.get("mdd") is not None else "")


def verdict_cell(c):
    """Table cell: 'ratio (interval) answer', † if a run is incomplete."""
    return f"{fmt_ratio(c['ratio'])} {fmt_interval(c)} {verdict_mark(c)}" + \
        (" †" if c.get("incomplete_run") else "")


def reading_legend(a):
    """How to read every verdict cell (said once, in 'How to read this report')."""
    m = a["method"]
    comps = a["comparisons"]
    text = (f"Cell: median of the per-round paired ratios, its {CI_LEVEL:.0%} interval, and "
            f"the answer: **faster**/*slower* (for CPU **less**/*more*, for round trips "
            f"**shorter**/*longer*) where the interval excludes 1 and the family's "
            f"Benjamini–Hochberg q ≤ {m['fdr']:.2f}; `same ±{fmt_pct(m['precision'])}` "
            f"where the whole interval lies inside ±{fmt_pct(m['precision'])} (corrected "
            f"alike); `? ±x%` cannot tell: ±x% is the smallest difference that point would "
            f"have resolved with {POWER:.0%} chance (its rounds' spread and n, at the "
            "threshold the correction left in its family; ±∞: no difference could, with "
            "that many rounds in that family)")
    few = sorted({c["n"] for c in comps if c["coverage"] < CI_LEVEL})
    if few:
        covs = "/".join(f"{order_stat_coverage(n, 1):.1%}" for n in few)
        text += (f". With {'/'.join(map(str, few))} rounds no {CI_LEVEL:.0%} interval "
                 f"exists: [square brackets] are [min, max], covering the median with only "
                 f"{covs}")
    if any(c.get("incomplete_run") for c in comps):
        text += "; † = from an incomplete run"
    return text + "."


def verdict_table(comps):
    """Markdown table of comparisons: a column per size, a row per (pair, thread count)
    when the points form a grid; else a column per point and a row per pair."""
    pairs = list(dict.fromkeys(f"{c['a']}/{c['b']}" for c in comps))
    sizes = sorted({c["msg_size"] for c in comps})
    ts = sorted({c["threads"] for c in comps})
    by = {(f"{c['a']}/{c['b']}", c["threads"], c["msg_size"]): c for c in comps}
    points = sorted({(c["threads"], c["msg_size"]) for c in comps})
    if len(points) == len(sizes) * len(ts):
        lead = ["threads"] if len(pairs) == 1 else ["pair", "threads"]
        rows = [([] if len(pairs) == 1 else [p]) + [t] +
                [verdict_cell(by[(p, t, s)]) if (p, t, s) in by else "–" for s in sizes]
                for p in pairs for t in ts
                if any((p, t, s) in by for s in sizes)]
        return md_table(lead + [fmt_size(s) for s in sizes], rows)
    rows = [[p] + [verdict_cell(by[(p, t, s)]) if (p, t, s) in by else "–"
                   for t, s in points] for p in pairs]
    return md_table(["pair"] + [f"{fmt_size(s)} × {t}" for t, s in points], rows)


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
            f"faster than a1 (paired throughput {strategy}/a1, corrected) at that size and "
            "at every larger measured size.", ""]
    for t, size in answers.items():
        pts = detail[t]
        below = [p for p in pts if size is None or p["msg_size"] < size]
        parts = []
        for verdict, word in (("cannot tell", "cannot tell at"), ("same", "the same at"),
                              ("slower", "slower at"), ("faster", "faster at")):
            at = [p["msg_size"] for p in below if p["verdict"] == verdict]
            if at:
                few = verdict == "cannot tell" and all(
                    "too few rounds" in p["reason"] for p in below
                    if p["verdict"] == "cannot tell")
                parts.append(f"{word} {sizes_list(at)}" + (" (too few rounds)" if few else "")
                             + (" but not at every larger size" if verdict == "faster"
                                else ""))
        ans = f"from **{fmt_size(size)}**" if size is not None else "**none**"
        where = "below it: " if size is not None else ""
        out.append(f"- {plural(int(t))}: {ans}" + (f" — {where}{'; '.join(parts)}"
                                                   if parts else ""))
    comps = [c for c in a["comparisons"] if c["metric"] == "throughput_gbps"
             and c["a"] == strategy and c["b"] == (a["baseline"] or {}).get("strategy")]
    out += ["", f"Throughput {strategy}/a1, paired per round:", ""]
    return out + verdict_table(comps) + [""]


def answer_text(e, unit=""):
    """A point's answer: '**a2**' (resolved best), 'a1 = a2' (the same within ±P),
    'a1 ? a2' (cannot tell apart); strategies not named were resolved worse than one named."""
    if e["relation"] in ("won", "alone"):
        name = e["leaders"][0]
        med = e["medians"].get(name)
        value = f" ({fmt_num(med)}{unit})" if unit and med is not None else ""
        return (f"**{name}**" if e["relation"] == "won" else f"{name} (alone)") + value
    return (" = " if e["relation"] == "same" else " ? ").join(e["contenders"])


def report_best(a):
    out = ["## Best strategy for each size and thread count", ""]
    best = a["best"]
    if not best:
        return out + ["No ok stream rows: the data cannot answer this.", ""]
    out += ["**a2**: resolved faster than every other strategy there (paired per round, "
            "corrected); `a1 = a2`: the same within "
            f"±{fmt_pct(a['method']['precision'])}; `a1 ? a2`: cannot tell apart; a "
            "strategy not named was resolved slower than one named. Paired ratios: "
            "summary.json `comparisons`.", ""]
    sizes = sorted({b["msg_size"] for b in best})
    ts = sorted({b["threads"] for b in best})
    by = {(b["msg_size"], b["threads"]): b for b in best}
    out += md_table(["size"] + [plural(t) for t in ts],
                    [[fmt_size(s)] + [answer_text(by[(s, t)]) if (s, t) in by else "–"
                                      for t in ts] for s in sizes])
    wins = defaultdict(int)
    for b in best:
        if b["resolved"]:
            wins[b["leaders"][0]] += 1
    won = ", ".join(f"{k} {v}" for k, v in wins.items()) or "none"
    same = sum(1 for b in best if b["relation"] == "same")
    out += ["", f"Resolved wins: {won}; the same within ±{fmt_pct(a['method']['precision'])}"
            f" at {same}; no single winner at "
            f"{sum(1 for b in best if not b['resolved'])} of {len(best)} points.", ""]
    return out


def report_other_comparisons(a):
    """Host-wide CPU per byte, host softirq and rr round trips, every pair, paired."""
    out = []
    for column in ("host_cpu_ns_per_byte", "host_softirq_ns_per_byte", "rtt_p50_us",
                   "rtt_p99_us"):
        m = METRIC_BY_COLUMN[column]
        comps = [c for c in a["comparisons"] if c["metric"] == column]
        if not comps:
            continue
        if not out:
            out = ["## Host CPU per byte and round trips, paired", "",
                   "Ratio = metric(a) / metric(b) per round; lower is better for all of these.",
                   ""]
        pairs = list(dict.fromkeys(f"{c['a']}/{c['b']}" for c in comps))
        out += [f"{m.label} ({m.unit})" + (f", {pairs[0]}" if len(pairs) == 1 else "") + ":",
                ""] + verdict_table(comps) + [""]
    return out


def rounds_text(lo, hi):
    return plural(lo, "round") if lo == hi else f"{lo}–{hi} rounds"


def mdd_text(cs):
    """'could not see differences below ±27%' for a family's cannot-tell points."""
    mdds = [c["mdd"] for c in cs if c["mdd"] is not None]
    if not mdds:
        return ""
    finite = sorted(m for m in mdds if m != math.inf)
    if not finite:
        ns = sorted({c["n"] for c in cs})
        return (f"with {'/'.join(map(str, ns))} rounds no difference could be resolved in "
                f"a family of {cs[0]['family_size']}")
    lo, hi = fmt_pct(finite[0]), fmt_pct(finite[-1])
    text = f"could not see differences below ±{lo if lo == hi else f'{lo[:-1]}–{hi}'}"
    if len(finite) < len(mdds):
        text += f"; {len(mdds) - len(finite)} could not resolve any"
    return text


def family_line(f, cs, precision):
    """One line of 'What this run says' for a family of comparisons."""
    better, worse = VERDICT_WORDS[f["metric"]]
    parts = []
    for verdict, word in (("faster", f"**{better}**"), ("slower", f"*{worse}*")):
        hit = [c for c in cs if c["verdict"] == verdict]
        if hit:
            lo = fmt_ratio(min(c["ratio"] for c in hit))
            hi = fmt_ratio(max(c["ratio"] for c in hit))
            rng = lo if lo == hi else f"{lo}–{hi}"
            sides = [c for c in hit if min(c["below"], c["above"]) + c["ties"] == 0]
            all_rounds = (f"; every round on one side at {len(sides)}" if sides
                          and len(sides) < len(hit) else
                          "; every round on one side" if sides else "")
            parts.append(f"{word} at {len(hit)} (×{rng}{all_rounds})")
    if f["same"]:
        parts.append(f"the same within ±{fmt_pct(precision)} at {f['same']}")
    unsure = [c for c in cs if c["verdict"] == "cannot tell"]
    if unsure:
        why = mdd_text(unsure)
        parts.append(f"cannot tell at {len(unsure)}" + (f" ({why})" if why else ""))
    lost = f["resolved_uncorrected"] - f["faster"] - f["slower"]
    text = (f"- **{f['a']} vs {f['b']}, {METRIC_BY_COLUMN[f['metric']].label}** "
            f"({plural(f['points'], 'point')}, {rounds_text(f['rounds_min'], f['rounds_max'])}"
            f"): " + ", ".join(parts))
    if lost:
        text += (f"; {lost} more {'was' if lost == 1 else 'were'} resolved before the "
                 f"correction, where chance alone gives {f['chance_uncorrected']:.2f}")
    return text + "."


def rounds_to_resolve(sd_log, precision, limit=400):
    """The fewest paired rounds with which a true difference of ±precision would be
    resolved with POWER chance (cbstats.smallest_detectable at the uncorrected level, so a
    lower bound), at a spread sd_log; None beyond limit (the exact sign test's cost grows
    fast with n: 0.06 s at 400 rounds, 2 s at 1000). smallest_detectable is a sawtooth in
    n — within a run of equal critical counts it rises — so only the first n of each tooth
    (where the critical count grows) can be the fewest; the first such n that is enough
    is the answer."""
    def enough(n):
        d = cbstats.smallest_detectable(n, sd_log)
        return d is not None and d <= precision
    teeth, c = [], cbstats.critical_count(cbstats.MIN_ROUNDS - 1, cbstats.ALPHA)
    for n in range(cbstats.MIN_ROUNDS, limit + 1):
        # critical_count(n) is critical_count(n - 1) or one more
        if 2 * cbstats.binom_half_cdf(n, c + 1) <= cbstats.ALPHA:
            c += 1
            teeth.append(n)
    if not teeth or not enough(teeth[-1]):   # the teeth's lowest points fall with n
        return None
    return next(n for n in teeth if enough(n))


def spread_line(fams, precision, drift=()):
    """Why the suite's first question (a2 vs a1 throughput) stayed open, when it did at
    half its points or more: the rounds' spread, the rounds resolving ±P would take at it,
    how much of it the machine's own drift explains (drift_share_text), and what a user
    can change. [] otherwise."""
    cs = next((cs for (x, y, metric), cs in fams.items()
               if (x, y) == ("a2", "a1") and metric == "throughput_gbps"), [])
    open_cs = [c for c in cs if c["verdict"] == "cannot tell"]
    sds = [c["sd_log"] for c in cs if c.get("sd_log") is not None]
    if not cs or 2 * len(open_cs) < len(cs) or not sds:
        return []
    sd = statistics.median(sds)
    need = rounds_to_resolve(sd, precision)
    why, machine = drift_share_text(drift, sd)
    ns = sorted({c["n"] for c in cs})
    return [f"- **Why a2 vs a1 stays open here: the runs' spread.** One round's a2/a1 "
            f"throughput ratio varied by a median SD of {sd:.3f} in log (about "
            f"±{fmt_pct(math.expm1(sd))}) over {plural(len(cs), 'point')}; resolving "
            f"±{fmt_pct(precision)} at that spread takes "
            + (f"at least {need} rounds a point" if need else "more than 400 rounds a point")
            + f", and this run gave {rounds_text(ns[0], ns[-1])}."
            + why
            + " What helps: fewer points in the same time (`--sizes`, `--threads`)"
            + (" or a longer `--budget`." if machine else
               ", a longer `--budget`, or, on a virtual machine, `--idle-poll on` (less "
               "spread, but every byte then costs more CPU: docs/sweep.md, \"Idle "
               "polling\").")]


def chi2_quantile(p, k):
    """The p-quantile of the chi-square distribution with k degrees of freedom
    (Wilson-Hilferty's cube-root approximation: within a few percent from k = 2 on, the
    tails of k = 1 wider than exact, which keeps an interval from it conservative)."""
    z = statistics.NormalDist().inv_cdf(p)
    return k * max(1 - 2 / (9 * k) + z * math.sqrt(2 / (9 * k)), 0.0) ** 3


def drift_share(d, sd):
    """The share of a pairs' variance sd^2 that the machine's copy speed alone would give
    (probe d's copy_step^2 / sd^2), with its 95% interval from the probe's degrees of
    freedom (cpus x (windows - 2): each CPU's windows give windows - 1 consecutive ratios,
    their mean removed); cpus unknown (rows before the drift_cpus column) counts as 1.
    (share, low, high, k), or None without the figures."""
    c, n = d.get("copy_step"), d.get("windows")
    if c is None or n is None or n < 3 or not sd:
        return None
    k = int(d.get("cpus") or 1) * (int(n) - 2)
    share = (c / sd) ** 2
    return (share, share * k / chi2_quantile(0.975, k),
            share * k / max(chi2_quantile(0.025, k), 1e-12), k)


def drift_share_text(drift, sd):
    """How much of the pairs' spread sd (SD of a log ratio) the machine's own drift
    explains: the probe's copy_step is the SD of the log ratio of two back-to-back windows
    of the same memcpy, as long as a run's measured part, so its square over sd's is the
    share of the variance the machine's copy speed alone would give a pair measured one
    after the other, if throughput moved one to one with copy speed (an estimate: copy
    only, and the pairs' runs are further apart than two windows). The answer goes by
    the share's 95% interval: half or more (machine), below half, or cannot say.
    (text, True when the interval says half or more); ('', False) without a probe."""
    got = drift_share(drift[0], sd) if drift else None
    if got is None:
        return "", False
    share, lo, hi, k = got
    c = drift[0]["copy_step"]
    probe = ("tools/cb_drift before the sweep, the same memcpy in back-to-back windows as "
             "long as a run")
    est = (f"{min(share, 1):.0%} of that variance if throughput moved one to one with copy "
           f"speed (95% interval {min(lo, 1):.0%}–{min(hi, 1):.0%}, {k} degrees of freedom)")
    if share > 1:
        est = (f"more than that whole variance ({share:.1f}×, 95% interval {lo:.1f}–{hi:.1f}×, "
               f"{k} degrees of freedom)")
    if lo >= 0.5:
        return (f" The machine by itself moved {'as much or more' if c >= sd else 'almost as much'}: "
                f"its copy speed moved by an SD of {c:.3f} from one window to the next "
                f"({probe}), {est}: two runs measured one after the other cannot agree more "
                "closely here, whatever copybench does; only more rounds help.", True)
    if hi >= 0.5:
        return (f" The machine's own copy speed moved by an SD of {c:.3f} from one window to "
                f"the next ({probe}), {est}: too few windows to say whether the machine or "
                "the runs dominate (`--drift-windows` more).", False)
    d, other = drift[0], []
    if d.get("sys_ns") is not None and d.get("sys_step") is not None:
        other.append(f"a system call took {d['sys_ns']:.0f} ns, moving by an SD of "
                     f"{d['sys_step']:.3f}")
    if d.get("wake_us") is not None and d.get("wake_step") is not None:
        other.append(f"a cross-CPU wake-up round trip took {d['wake_us']:.1f} µs, moving by "
                     f"an SD of {d['wake_step']:.3f}")
    return (f" The machine's own copy speed moved far less, an SD of {c:.3f} from one window "
            f"to the next ({probe}), about {est}; the rest comes with the runs themselves: "
            "the kernel's network path and, on a virtual machine, the wake-ups"
            + (f" (in the same probe {', and '.join(other)} from one window to the next)"
               if other else "") + ".", False)


def report_findings(a, data):
    """'What this run says': each copy's cost first (with profile rows), then every family's
    answers in one line each, the crossovers, chance, and the run's conditions."""
    out = ["## What this run says", ""]
    out += profile_headline(a)
    comps = a["comparisons"]
    fams = families(comps)
    precision = a["method"]["precision"]
    quiet = []
    for f in a["families"]:
        cs = fams[(f["a"], f["b"], f["metric"])]
        if f["cannot tell"] == f["points"] and not f["resolved_uncorrected"]:
            quiet.append((f, cs))
            continue
        out.append(family_line(f, cs, precision))
    if quiet:
        out.append("- Cannot tell at any point: " + "; ".join(
            f"{f['a']} vs {f['b']} {METRIC_BY_COLUMN[f['metric']].label} "
            f"({plural(f['points'], 'point')}, {mdd_text(cs) or 'too few rounds'})"
            for f, cs in quiet) + ".")
    out += spread_line(fams, precision, a["environment"]["drift"])
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
    if not comps:
        out.append("- No two strategies could be compared (they were not measured at a "
                   "common point).")
    else:
        m = a["method"]
        ns = sorted({c["n"] for c in comps})
        per_n = ", ".join(f"{cbstats.chance_verdict_probability(n):.1%} at {n} rounds"
                          for n in ns)
        out.append(f"- Chance: if nothing differed, judging each of the {len(comps)} "
                   f"comparisons alone would give {m['chance_uncorrected']:.2f} verdicts "
                   f"({per_n} each: the sign test's exact level, not "
                   f"{1 - CI_LEVEL:.0%}); after the correction per family, "
                   f"{fmt_chance(m['chance_corrected'])}.")
    shares = [z["share"] for z in a["zc_copied_share"]]
    if shares and min(shares) >= 0.99:
        out.append(f"- The kernel copied {pct_range(min(shares), max(shares))} of a3's "
                   "zero-copy sends anyway: a3 measures the zero-copy API plus a deferred "
                   "copy here.")
    bc = a["busy_cpus"]
    if bc["one_thread_wait_bound"]:
        out.append("- " + wait_bound_text(bc))
    out += retrans_headline(a)
    return out + [""]


def fmt_chance(x):
    return "< 0.001" if x < 0.001 else f"{x:.3f}"


def retrans_headline(a):
    """One line on retransmissions in 'What this run says' (nothing when there were none)."""
    rt = a["retransmissions"]
    hit = sum(g["affected"] for g in rt)
    if not hit:
        return []
    runs = sum(g["runs"] for g in rt)
    shares = [g["dsack_share_median"] for g in rt if g["dsack_share_median"] is not None]
    dsack = (f"; the receiver D-SACKed a median {fmt_pct(statistics.median(shares))} of "
             "the retransmitted segments (it had them already: spurious, not lost)"
             if shares else "")
    return [f"- {hit} of {runs} runs had TCP retransmissions{dsack} (per strategy: "
            "\"Runs with TCP retransmissions\")."]


FAILED_SHOWN = 8   # failed runs named in the report; summary.json has them all


def report_method(a, data):
    """How to read the report: the verdict rule, the precision, the rounds, the pairing."""
    m, plan = a["method"], a["plan"]
    r = a["rows"]
    out = ["## How to read this report", "",
           f"Source: `{a['source']}` — {r['total']} rows: {r['ok']} ok ({r['stream_ok']} "
           f"stream, {r['rr_ok']} request-response"
           + (f", {r['profiled_ok']} profiled" if r["profiled_ok"] else "")
           + f"), {r['failed']} failed. {runs_text(a['runs'])}", "",
           f"Strategies are compared in pairs on the per-round paired ratios of a metric "
           f"(a round = one repeat; its runs are paired by run_id and repeat). Each "
           f"comparison carries the exact sign-test p; a verdict needs the "
           f"Benjamini–Hochberg q ≤ {m['fdr']:.2f} within its family (strategy pair × "
           f"metric), so at most {m['fdr']:.0%} of the verdicts of a family are expected to "
           f"be false. ±{fmt_pct(m['precision'])} comes from {m['precision_source']}.", "",
           reading_legend(a), ""]
    rounds = (f"Rounds per point: {rounds_text(plan['rounds_min'], plan['rounds_max'])}"
              + (f"; {plan['extra_rounds']} extra rounds went to "
                 f"{plural(plan['points_with_extra_rounds'], 'point')} whose intervals were "
                 f"too wide to decide at ±{fmt_pct(plan['precision'])} (wider than "
                 f"±{fmt_pct(cbstats.decisive_width(plan['precision']))})"
                 if plan["extra_rounds"] else "")
              + (f"; plan seed {', '.join(plan['seeds'])} (`--seed` repeats it)"
                 if plan["seeds"] else "") + ".")
    wide = plan["wide"]
    if wide:
        shown = ", ".join(f"{w['mode']} {fmt_size(w['msg_size'])}×{w['threads']}"
                          for w in wide[:8])
        rounds += (f" Still too wide to decide at ±{fmt_pct(plan['precision'])} (throughput, "
                   f"p50): {len(wide)} of {plan['points']} points ({shown}"
                   + (", …; all in summary.json, plan.wide" if len(wide) > 8 else "") + ").")
    out += [rounds, ""]
    pairing = [f for f in a["families"] if f["pairing_corr_median"] is not None
               and f["metric"] in ("throughput_gbps", "host_cpu_ns_per_byte", "rtt_p50_us")]
    if pairing:
        out += ["Pairing achieved (median over points of the correlation of log a and log b "
                "across rounds; paired variance / unpaired): " + "; ".join(
                    f"{f['a']}/{f['b']} {METRIC_BY_COLUMN[f['metric']].label} "
                    f"{f['pairing_corr_median']:+.2f} ({f['pairing_var_ratio_median']:.2f})"
                    for f in pairing) + ".", ""]
    failed = a["failed_runs"]
    if failed:
        out += ["Failed runs (excluded from every figure and answer):", ""]
        out += [f"- {describe_run(f)}: {f['reason'] or 'no reason recorded'}"
                for f in failed[:FAILED_SHOWN]]
        if len(failed) > FAILED_SHOWN:
            out.append(f"- … and {len(failed) - FAILED_SHOWN} more (summary.json "
                       "`failed_runs`)")
        out.append("")
    if a["baseline_note"]:
        out += [f"Note: {a['baseline_note']}.", ""]
    return out


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
    busy = "; ".join(f"{plural(int(t))} {fmt_num(v['median'])}"
                     for t, v in bc["by_threads"].items())
    online = f" of {fmt_num(bc['cpus_online'])} online" if bc["cpus_online"] else ""
    out += ["Efficiency = median throughput at T threads / (T × median at 1 thread); 100% "
            "is perfect scaling. The host's median busy CPUs over the window ((user+sys+irq+"
            f"softirq host CPU time) / duration, or host_busy_cpus){online}: {busy}.", ""]
    if bc["one_thread_wait_bound"]:
        out += [wait_bound_text(bc), ""]
    labels = list(dict.fromkeys(e["label"] for e in a["scaling_efficiency"]))
    names = {e["label"]: series_name(Series(e["strategy"], e["variant"]))
             for e in a["scaling_efficiency"]}
    by = {(e["label"], e["msg_size"], e["threads"]): e["efficiency"]
          for e in a["scaling_efficiency"]}
    sizes = sorted({e["msg_size"] for e in a["scaling_efficiency"]})
    out += md_table(["size"] + [f"{names[lb]} T={t}" for lb in labels for t in ts],
                    [[fmt_size(s)] + [f"{by[(lb, s, t)] * 100:.0f}%" if (lb, s, t) in by
                                      else "–" for lb in labels for t in ts]
                     for s in sizes]) + [""]
    return out


def report_zc(a, data):
    out = ["## How much of a3's traffic the kernel copied anyway", ""]
    shares = a["zc_copied_share"]
    if not shares:
        return out + ["No a3 stream rows with zero-copy completions: the data cannot "
                      "answer this.", ""]
    vals = [s["share"] for s in shares]
    link = a["environment"]["link"]
    lo, hi = min(vals), max(vals)
    out += [f"Share = zc_copied / zc_completions per run (median over repeats): the fraction "
            "of completed MSG_ZEROCOPY sends whose completion carried "
            f"SO_EE_CODE_ZEROCOPY_COPIED, at {plural(len(shares), 'point')}.", ""]
    if lo < 0.99:
        sizes = sorted({s["msg_size"] for s in shares})
        ts = sorted({s["threads"] for s in shares})
        by = {(s["msg_size"], s["threads"]): s["share"] for s in shares}
        out += md_table(["size"] + [plural(t) for t in ts],
                        [[fmt_size(z)] + [f"{by[(z, t)] * 100:.1f}%" if (z, t) in by else "–"
                                          for t in ts] for z in sizes]) + [""]
    if lo >= 0.99:
        out.append(f"The kernel copied {pct_range(lo, hi)} of a3's completed sends "
                   f"at every measured point (link: {link}). On this path zero-copy did "
                   "not avoid the copy, it deferred it: a3 measures the cost of the "
                   "zero-copy API (page pinning, completion notifications) plus a copy. "
                   "The kernel documents this for delivery to a local socket (loopback or "
                   "veth on one host); a saving needs a real NIC between two hosts.")
    elif hi <= 0.01:
        out.append(f"The kernel reported at most {hi * 100:.1f}% of a3's sends as copied: "
                   "the sends were really zero-copy on this path.")
    else:
        out.append(f"Mixed: the copied share ranges from {lo * 100:.1f}% to {hi * 100:.1f}% "
                   "across the measured points, so a3 was only partly zero-copy here.")
    return out + [""]


def perf_intervals(rows):
    """The CSV's perf_interval values of rows ('life' for a CSV from before the column)."""
    return sorted({r.raw.get("perf_interval", "life") for r in rows}) or ["life"]


def interval_words(ivs, per_byte=True):
    """What the perf columns cover, from the CSV's perf_interval values (and which bytes a
    count per byte is over)."""
    if ivs == ["window"]:
        return "over the measured window" + (", per byte received in it" if per_byte else "")
    if ivs == ["life"]:
        return "over each process's whole life" + (
            ", per byte of the whole run (srv_bytes_sent)" if per_byte else "")
    if per_byte:
        return ("over the window where perf_interval is window (per byte received in it), "
                "else over the process's whole life (per byte of the whole run)")
    return "over the window where perf_interval is window, else over the whole life"


def report_cpu(a, data):
    out = ["## Where the CPU went", ""]
    t = data.focus_threads
    entries = [e for e in a["cpu_per_byte"] if e["threads"] == t]
    if not entries:
        return out + ["No ok stream rows: the data cannot answer this.", ""]
    names = list(dict.fromkeys(series_name(Series(e["strategy"], e["variant"]))
                               for e in entries))
    by = {(series_name(Series(e["strategy"], e["variant"])), e["msg_size"]): e
          for e in entries}
    sizes = sorted({e["msg_size"] for e in entries})
    cols = (("srv_task_clock_ns_per_byte", "sender"), ("cli_task_clock_ns_per_byte",
                                                       "receiver"),
            ("host_cpu_ns_per_byte", "host"), ("host_softirq_ns_per_byte", "softirq"))
    out += [f"CPU-ns per payload byte at {plural(t)}, medians over rounds (summary.json "
            "`cpu_per_byte` has every thread count and rusage beside task-clock). Sender = "
            f"server, receiver = client: perf task-clock {interval_words(a['perf_interval'])}"
            "; on one host "
            "they show where the kernel ran the stack, not what a strategy costs. Host = "
            "all CPUs' user+sys+irq+softirq over the client's window, softirq alone beside "
            "it: the receive path and deferred copies run there.", ""]
    shown = "; ".join(f"{SIDES[side]}: {cpu_cost_metric(data.stream, side)[1]}".replace(
        "\n", " ") for side in ("srv", "cli"))
    out += [f"Figure cpu_per_byte plots {shown}.", ""]
    out += md_table(["size"] + [f"{w} {n}" for _, w in cols for n in names],
                    [[fmt_size(z)] + [fmt_num(by[(n, z)][k]) if (n, z) in by else "–"
                                      for k, _ in cols for n in names] for z in sizes]) + [""]
    fams = {(f["a"], f["b"], f["metric"]): f for f in a["families"]}
    host = fams.get(("a3", "a2", "host_cpu_ns_per_byte"))
    soft = fams.get(("a3", "a2", "host_softirq_ns_per_byte"))
    if not host and not soft:
        return out + ["a2 and a3 were not both measured, so whether zero-copy deferred the "
                      "copy into softirq cannot be read from this data.", ""]
    for f, what in ((host, "host-wide CPU per byte"), (soft, "host softirq CPU per byte")):
        if f:
            out.append(f"a3 vs a2, {what} (paired, corrected): more at {f['slower']}, less "
                       f"at {f['faster']}, the same at {f['same']}, cannot tell at "
                       f"{f['cannot tell']} of {plural(f['points'], 'point')}.")
    if soft:
        share = soft["slower"] / soft["points"]
        copied = [s["share"] for s in a["zc_copied_share"]]
        verdict = ("and the kernel reported a3's sends as copied: consistent with the copy "
                   "being deferred into softirq rather than removed"
                   if share > 0.5 and copied and min(copied) >= 0.5 else
                   "so the data do not show a copy deferred into softirq"
                   if share <= 0.5 else
                   "but the kernel did not report most sends as copied, so this is not "
                   "clearly a deferred copy")
        out += ["", f"At {share * 100:.0f}% of the points a3 was resolved to spend more "
                f"softirq time per byte than a2, {verdict}."]
    return out + [""]


def report_retrans(a):
    out = ["## Runs with TCP retransmissions", ""]
    rt = [g for g in a["retransmissions"] if g["runs"]]
    if not any(g["affected"] for g in rt):
        return out + ["None: tcp_retrans was 0 or empty in every run.", ""]
    out += [f"{a['retransmitted_runs']} runs had retransmissions, which stall the sender and "
            f"distort its throughput; each is listed in `{RETRANS_CSV}` beside this report. "
            "D-SACKed share = retransmitted segments the receiver reported it already had "
            "(dsack_share: TCPDSACKRecvSegs / retransmitted segments; near 100% spurious, "
            "from reordering; near 0 real losses), where the CSV records it.", ""]
    rows = [[g["mode"], g["label"], f"{g['affected']} of {g['runs']}",
             fmt_num(g["median_per_affected_run"]), fmt_num(g["max_per_run"]),
             fmt_pct(g["dsack_share_median"]) if g["dsack_share_median"] is not None
             else "not recorded"] for g in rt if g["affected"]]
    clean = [f"{g['mode']} {g['label']} ({g['runs']})" for g in rt if not g["affected"]]
    return out + md_table(["mode", "strategy", "runs affected", "median per affected run",
                           "most in a run", "D-SACKed share (median)"], rows) + (
        ["", f"No retransmission in any run of: {', '.join(clean)}."] if clean else []) + [""]


def report_latency(a):
    out = ["## Latency (request-response)", ""]
    if not a["latency"]:
        return out + ["No request-response (mode rr) rows with status ok: the data cannot "
                      "answer which strategy has the lowest latency.", ""]
    rows = [[fmt_size(e["msg_size"]), e["threads"], answer_text(e["p50"], " µs"),
             answer_text(e["p99"], " µs")] for e in a["latency"]]
    out += ["Shortest round trip per point: **a2** where resolved shorter than every other "
            "strategy (paired, corrected; its median), `a1 = a2` the same within "
            f"±{fmt_pct(a['method']['precision'])}, `a1 ? a2` cannot tell apart.", ""]
    return out + md_table(["size", "threads", "p50", "p99"], rows) + [""]


def report_environment(a, data):
    env = a["environment"]

    def show(v):
        return ", ".join(map(str, v)) if isinstance(v, list) else ("unknown" if v is None
                                                                   else str(v))
    placements = defaultdict(int)
    for r in data.rows:
        placements[r.raw["placement"] or "?"] += 1
    out = ["## Environment", "",
           f"- kernel: {show(env['kernel'])}",
           f"- CPU: {show(env['cpu_model'])}",
           f"- link: {show(env['link'])}, MTU {show(env['mtu'])}",
           "- CPU placement: " + ", ".join(
               f"{p} ({plural(n, 'row')})" if len(placements) > 1 else p
               for p, n in placements.items()),
           f"- perf counters cover: {', '.join(a['perf_interval'])}"]
    if any("idlepoll=" in p for p in placements):
        out.append("- idle polling (`idlepoll=`): idle CPUs spun in the idle class instead of "
                   "halting (tools/cb_idle_poll); its time is nice time, left out of the host "
                   "CPU figures")
    out.extend(steal_lines(data))
    out.extend(drift_lines(env["drift"]))
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


def drift_lines(drift):
    """The environment's lines on the machine-drift probe, one per run_id that has one."""
    out = []
    for d in drift:
        sys_ = (f"; a system call (getppid) {d['sys_ns']:.0f} ns, SD {d['sys_step']:.3f}"
                if d.get("sys_ns") is not None and d.get("sys_step") is not None else "")
        wake = (f"; a cross-CPU wake-up round trip (pipe ping-pong) {d['wake_us']:.1f} µs, "
                f"SD {d['wake_step']:.3f}" if d.get("wake_us") is not None
                and d.get("wake_step") is not None else "")
        windows = "" if d.get("windows") is None else f"{int(d['windows'])} "
        length = "" if d.get("window_s") is None else f" of {d['window_s']:g} s"
        out.append(f"- machine drift before the sweep{'' if len(drift) == 1 else ' ' + d['run_id']} "
                   f"(tools/cb_drift on the placement's CPUs, no traffic, {windows}back-to-back "
                   f"windows{length}; SD: of the log ratio of one window to the next): memory "
                   f"copy {fmt_num(d['copy_gbps'])} GB/s, SD {d['copy_step']:.3f} (an integer "
                   "loop: "
                   + ("NA" if d.get("alu_step") is None else f"{d['alu_step']:.3f}")
                   + f"){sys_}{wake}")
    return out


def steal_lines(data):
    """The environment's line on steal time: the share of the CPUs' time over the ok rows'
    windows that a hypervisor gave to something else (/proc/stat steal, all CPUs), and the
    most any one run lost; nothing when no row recorded it."""
    got = [(r.num["host_cpu_steal_s"], r.num["cli_window_s"] * r.num["cpus_online"])
           for r in data.rows if r.ok and r.num.get("host_cpu_steal_s") is not None
           and r.num.get("cli_window_s") and r.num.get("cpus_online")]
    if not got:
        return []
    share = sum(s for s, _ in got) / sum(c for _, c in got)
    worst = max(s / c for s, c in got)
    return [f"- steal time (a hypervisor ran something else; all CPUs, the runs' windows): "
            f"{share:.1%} of the CPUs' time, at most {worst:.1%} in one run "
            f"({plural(len(got), 'run')})"]


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
    """report.md: the answers first (one screen), then how to read them, then the detail."""
    lines = header_lines(a)
    lines += report_findings(a, data)
    lines += report_method(a, data)
    lines += report_crossover(a, "a2", "a2 one-copy")
    lines += report_crossover(a, "a3", "a3 zero-copy")
    lines += report_best(a)
    lines += report_other_comparisons(a)
    lines += report_profile(a)
    lines += report_cpu(a, data)
    lines += report_scaling(a, data)
    lines += report_zc(a, data)
    lines += report_paths(a, data)
    lines += report_retrans(a)
    lines += report_stability(a)
    lines += report_latency(a)
    lines += report_environment(a, data)
    lines += report_between_hosts(data)
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(lines) + "\n")


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


def json_safe(x):
    """x with every non-finite float (an mdd of math.inf: no difference resolvable) as
    null, so summary.json is strict JSON; mdd_possible says which null that is."""
    if isinstance(x, float) and not math.isfinite(x):
        return None
    if isinstance(x, dict):
        return {k: json_safe(v) for k, v in x.items()}
    if isinstance(x, (list, tuple)):
        return [json_safe(v) for v in x]
    return x


def write_summary(a, path):
    """summary.json: the same answers for scripts (strict JSON)."""
    with open(path, "w", encoding="utf-8") as f:
        json.dump(json_safe(a), f, indent=2, ensure_ascii=False, allow_nan=False)
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
        for i, (event, name) in enumerate(CACHE_EVENTS):
            metric_panel(axes[row * 3 + i], data, data.stream,
                         perf_per_byte(f"{side}_{event}", side, 1024),
                         f"{SIDES[side]}: {name}",
                         "misses per KiB", f"{side}_{event}", t)
    finish(fig, f"Cache misses per KiB of payload vs message size ({plural(t)})",
           series_handles(data, data.stream),
           f"perf counts {interval_words(perf_intervals(data.stream))}. "
           + focus_footer(data))
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
           f"perf task-clock {interval_words(perf_intervals(data.stream))}. "
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
           f"Counted by perf stat {interval_words(perf_intervals(data.stream), False)}. "
           + focus_footer(data))
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
    """The headline answers printed under the summary page's panels (the report's verdicts)."""
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
        m = a["method"]
        res = sum(1 for c in comps if c["verdict"] in RESOLVED)
        same = sum(1 for c in comps if c["verdict"] == "same")
        raw = sum(1 for c in comps if c["verdict_uncorrected"] in RESOLVED)
        lines.append(f"{len(comps)} paired comparisons: {res} resolved (q ≤ {m['fdr']:.2f} "
                     f"per family; {raw} before the correction), {same} the same within "
                     f"±{fmt_pct(m['precision'])}, {len(comps) - res - same} cannot tell; "
                     f"chance alone: {m['chance_uncorrected']:.2f} uncorrected, "
                     f"{fmt_chance(m['chance_corrected'])} corrected")
    for f in a["families"]:
        if f["metric"] == "throughput_gbps":
            lines.append(f"throughput {f['a']}/{f['b']}: faster {f['faster']}, slower "
                         f"{f['slower']}, same {f['same']}, cannot tell {f['cannot tell']} "
                         f"of {f['points']}")
    if a["best"]:
        wins = defaultdict(int)
        for b in a["best"]:
            if b["resolved"]:
                wins[b["leaders"][0]] += 1
        lines.append("best throughput resolved at (size, threads): " + ("; ".join(
            f"{k} {v} of {len(a['best'])}" for k, v in wins.items()) or
            f"none of {len(a['best'])}"))
    shares = [s["share"] for s in a["zc_copied_share"]]
    if shares:
        lines.append(f"a3 sends copied by the kernel: {pct_range(min(shares), max(shares))} "
                     "across sizes and thread counts")
    if a["latency"]:
        won = [e for e in a["latency"] if e["p50"]["resolved"]]
        lines.append(f"shortest p50 round trip resolved at {len(won)} of "
                     f"{len(a['latency'])} rr points"
                     + (": " + "; ".join(f"{fmt_size(e['msg_size'])}×{e['threads']}: "
                                         f"{e['p50']['leaders'][0]}" for e in won)
                        if won else ""))
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
    llc = perf_per_byte("srv_llc_load_misses", "srv", 1024)
    if any(llc(r) is not None for r in data.stream):
        metric_panel(axes[6], data, data.stream, llc, "sender (server): LLC load misses",
                     "misses per KiB", "srv_llc_load_misses", t)
    else:   # no PMU: the verdicts themselves, where a counter panel would say nothing
        comps = [c for c in a["comparisons"] if c["metric"] == "throughput_gbps"
                 and c["threads"] == t and a["baseline"]
                 and c["b"] == series_name(data.baseline)]
        ratio_panel(axes[6], data, comps, f"throughput / a1's, paired, {plural(t)}",
                    "ratio to a1 (> 1: more)", a["method"]["precision"])
    metric_panel(axes[7], data, data.stream, col("srv_context_switches"),
                 "sender (server): context switches", "per run", "srv_context_switches", t)
    zc_panel(axes[8], data)
    finish(fig, "copybench summary" + (f" (rows 2–3 at {plural(t)})" if t else ""),
           series_handles(data, data.ok) + extra + verdict_handles(a),
           focus_footer(data), footer_lines=answers)
    return save(fig, out_dir, "summary")


def verdict_handles(a):
    """Legend entries for the verdict markers of ratio panels (none without comparisons)."""
    from matplotlib.lines import Line2D
    if not a["comparisons"]:
        return []
    p = fmt_pct(a["method"]["precision"])
    return [Line2D([], [], color="#555555", marker="o", linestyle="none",
                   label="differs (q ≤ 0.05)"),
            Line2D([], [], color="#555555", marker="o", markerfacecolor=SAME_FILL,
                   linestyle="none", label=f"same within ±{p} (band)"),
            Line2D([], [], color="#555555", marker="o", markerfacecolor="white",
                   linestyle="none", label="cannot tell")]


SAME_FILL = "#bbbbbb"   # marker face of a 'same within ±P' verdict


def ratio_panel(ax, data, comps, title, ylabel, precision):
    """Paired ratio vs size of each candidate against a1, with its interval: filled markers
    resolved, grey the same within ±P, hollow cannot tell; a line at 1 and the ±P band.
    Returns True if anything was drawn."""
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
            face = {"faster": st.color, "slower": st.color, "same": SAME_FILL}.get(
                c["verdict"], "white")
            ax.errorbar([x], [c["ratio"]], yerr=[[c["ratio"] - c["ci_low"]],
                                                 [c["ci_high"] - c["ratio"]]],
                        color=st.color, marker=st.marker, markersize=5.5,
                        markerfacecolor=face, capsize=3, elinewidth=1.0, linestyle="none")
        drawn += [c["ci_low"] for c in pts] + [c["ci_high"] for c in pts]
    low, high = cbstats.band(precision)
    ax.axhspan(low, high, color="#999999", alpha=0.18, linewidth=0)
    ax.axhline(1.0, color="#333333", linewidth=0.9, linestyle=":")
    sizes = sorted({c["msg_size"] for c in comps})
    size_axis(ax, sizes)
    if len(sizes) == 1:        # one size: keep the dodged markers together around it
        ax.set_xlim(sizes[0] / 2, sizes[0] * 2)
    ax.set_ylabel(ylabel)
    lo, hi = min(drawn + [low]), max(drawn + [high])
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
    base = series_name(data.baseline) if data.baseline else None
    vs_base = [c for c in a["comparisons"] if c["b"] == base]
    panels = []
    for column, name, ylabel in RATIO_ROWS:
        comps = [c for c in vs_base if c["metric"] == column]
        for t in sorted({c["threads"] for c in comps}):
            panels.append((f"{name}, {plural(t)}", ylabel,
                           [c for c in comps if c["threads"] == t]))
    if not panels:
        return no_data_figure(data, out_dir, "ratios", "Each strategy vs a1, paired per round",
                              "paired ratios to a1",
                              "a1 and another strategy were not measured at a common point:\n"
                              "nothing to compare.")
    ncols = min(4, max(len({c["threads"] for c in vs_base}), 2))
    fig, axes = new_figure(len(panels), panel_w=4.3, panel_h=3.1, ncols=ncols)
    for ax, (title, ylabel, comps) in zip(axes, panels):
        ratio_panel(ax, data, comps, title, ylabel, a["method"]["precision"])
    names = {series_name(s): s for s in data.series}
    handles = [Line2D([], [], color=data.style(names[n]).color,
                      marker=data.style(names[n]).marker, linestyle="-",
                      label=f"{data.style(names[n]).label} / {base}")
               for n in dict.fromkeys(c["a"] for c in vs_base) if n in names]
    finish(fig, "Each strategy vs a1: median of the per-round paired ratios, with its "
           "interval", handles + verdict_handles(a),
           "Ratio = metric(strategy) / metric(a1) in the same round; dotted line: equal; grey "
           f"band: ±{fmt_pct(a['method']['precision'])}. Filled: resolved (the interval "
           "excludes 1 and the Benjamini–Hochberg q of its family (strategy pair × metric) is "
           "≤ 0.05); grey: the same within the band (corrected alike); hollow: cannot tell. "
           + env_line(data))
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


# ---- each copy's cost (profiled runs) --------------------------------------------------

PROFILE_SHORT = {"user_copy": "user copy", "send_copy": "send copy",
                 "zc_overhead": "zero-copy overhead", "deferred_copy": "deferred copy",
                 "recv_copy": "receive copy", "stack": "rest of kernel",
                 "user_other": "rest of user"}


def fmt_iv(iv, signed=False):
    """'0.210 (0.190–0.240)' for an interval_of() result; '[..]' for [min, max] when too
    few rounds; '–' for none."""
    if iv is None:
        return "–"
    if iv["lo"] == iv["hi"] == 0:
        return "0"
    f = (lambda x: f"{x:+.3f}") if signed else (lambda x: f"{x:.3f}")
    br = "()" if iv["coverage"] >= CI_LEVEL else "[]"
    return f"{f(iv['median'])} {br[0]}{f(iv['lo'])}–{f(iv['hi'])}{br[1]}"


def profile_headline(a):
    """Each copy's cost per strategy, first in 'What this run says' (profiled runs only)."""
    prof = a["profile"]
    if not prof["points"]:
        return []
    ts = sorted({p["threads"] for p in prof["points"]})
    rounds = [p["rounds"] for p in prof["points"]]
    out = [f"**Each copy's cost** ({', '.join(plural(t) for t in ts)}; profiled runs, "
           f"{rounds_text(min(rounds), max(rounds))}): CPU ns per byte received, median "
           f"over rounds with its {CI_LEVEL:.0%} interval, and its share of the same runs' "
           "host CPU per byte.", ""]
    rows = []
    for p in prof["points"]:
        cells = []
        for c in PROFILE_CATS:
            iv = p["categories"].get(c)
            share = iv.get("share_of_host") if iv else None
            cells.append(fmt_iv(iv) + (f" {fmt_pct(share)}" if share is not None else ""))
        rows.append([series_name(Series(p["strategy"], p["variant"])),
                     fmt_size(p["msg_size"]) + ("" if len(ts) == 1 else f" × {p['threads']}")]
                    + cells + [fmt_iv(p["total"]), fmt_iv(p["host"])])
    out += md_table(["strategy", "size"] + [PROFILE_SHORT[c] for c in PROFILE_CATS]
                    + ["profiled total", "host CPU/B"], rows) + [""]
    explained = []
    for d in prof["differences"]:
        if d["host_cpu_verdict"] not in RESOLVED:
            continue
        moved = sorted(((c, iv) for c, iv in d["categories"].items()
                        if iv and iv["coverage"] >= CI_LEVEL
                        and (iv["lo"] > 0 or iv["hi"] < 0)),
                       key=lambda kv: -abs(kv[1]["median"]))
        what = "; ".join(f"{PROFILE_SHORT[c]} {iv['median']:+.3f}" for c, iv in moved) \
            or "no category's paired difference is resolved"
        word = "more" if d["host_cpu_verdict"] == "slower" else "less"
        explained.append(f"- {d['a']} vs {d['b']} at {fmt_size(d['msg_size'])} × "
                         f"{d['threads']}: {word} host CPU per byte (×"
                         f"{fmt_ratio(d['host_cpu_ratio'])}, resolved); per round in the "
                         f"profile, {d['a']} − {d['b']} (ns/B): {what}.")
    if explained:
        out += ["What explains the resolved host-CPU differences (categories whose paired "
                "difference interval excludes 0; descriptive, not verdicts):", ""] + \
            explained + [""]
    else:
        out += ["No host-CPU difference was resolved at the profiled points; the paired "
                "differences per category are in \"Each copy's cost: differences\".", ""]
    return out


def report_profile(a):
    """The profiled runs' paired differences per category, and what sampling cost."""
    prof = a["profile"]
    if not prof["points"]:
        return []
    out = ["## Each copy's cost: differences, and what sampling cost", "",
           "Per round, a − b of each category in CPU ns per byte (median, its "
           f"{CI_LEVEL:.0%} interval over rounds). Figure: `profile.png`.", ""]
    rows = [[f"{d['a']} − {d['b']}", f"{fmt_size(d['msg_size'])} × {d['threads']}"]
            + [fmt_iv(d["categories"][c], signed=True) for c in PROFILE_CATS]
            for d in prof["differences"]]
    out += md_table(["pair", "point"] + [PROFILE_SHORT[c] for c in PROFILE_CATS], rows) + [""]
    cost = prof["sampling_cost"]
    if cost:
        ratios = [c["ratio"] for c in cost]
        out.append(f"Sampling cost: profiled runs moved ×{fmt_ratio(statistics.median(ratios))}"
                   f" (×{fmt_ratio(min(ratios))} to ×{fmt_ratio(max(ratios))} over "
                   f"{len(cost)} (strategy, point) pairs) the bytes of unprofiled runs "
                   "at the same points (medians over rounds); their throughput is never "
                   "pooled with the others'.")
    else:
        out.append("Sampling cost: no point was measured both with and without a profile.")
    return out + [""]


def plot_profile(data, out_dir, a):
    """Each copy's cost: a panel per profiled size, a group of bars per category, a bar per
    strategy with its interval over rounds (None when no row carries a profile)."""
    points = a["profile"]["points"]
    if not points:
        return None
    keys = sorted({(p["msg_size"], p["threads"]) for p in points}, key=lambda k: (k[1], k[0]))
    fig, axes = new_figure(len(keys), panel_w=5.2, panel_h=3.6, ncols=min(len(keys), 3))
    names = list(dict.fromkeys((p["strategy"], p["variant"]) for p in points))
    width = 0.8 / max(len(names), 1)
    for ax, (size, t) in zip(axes, keys):
        ax.set_title(f"{fmt_size(size)}, {plural(t)}")
        here = {(p["strategy"], p["variant"]): p for p in points
                if (p["msg_size"], p["threads"]) == (size, t)}
        for i, key in enumerate(names):
            p = here.get(key)
            if not p:
                continue
            st = data.style(Series(*key))
            xs, hs, lo, hi = [], [], [], []
            for j, c in enumerate(PROFILE_CATS):
                iv = p["categories"].get(c)
                if iv is None:
                    continue
                xs.append(j + (i - (len(names) - 1) / 2) * width)
                hs.append(iv["median"])
                lo.append(iv["median"] - iv["lo"])
                hi.append(iv["hi"] - iv["median"])
            ax.bar(xs, hs, width=width, color=st.color, yerr=[lo, hi], capsize=2,
                   error_kw={"elinewidth": 0.8, "ecolor": "#333333"})
        ax.set_xticks(range(len(PROFILE_CATS)))
        ax.set_xticklabels([PROFILE_SHORT[c] for c in PROFILE_CATS], rotation=35, ha="right",
                           fontsize=8)
        ax.set_ylabel("CPU ns per byte received")
        ax.set_ylim(bottom=0)
        ax.grid(axis="x", visible=False)
    from matplotlib.patches import Patch
    rounds = [p["rounds"] for p in points]
    finish(fig, "Each copy's cost per byte, strategy by strategy (profiled runs)",
           [Patch(color=data.style(Series(*k)).color, label=data.style(Series(*k)).label)
            for k in names],
           "perf record -a -g -e cpu-clock over each run's measured window (all CPUs, both "
           "ends), every sample's call chain in one category (run_experiments.sh --help, "
           "--profile); bar = median over "
           f"{rounds_text(min(rounds), max(rounds))} of samples × period / bytes received in "
           f"the window, whiskers = its {CI_LEVEL:.0%} order-statistic interval; idle CPU and "
           "other processes left out. " + env_line(data))
    return save(fig, out_dir, "profile")


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
        out.append("No completion-reported zero-copy send avoided its copy on this machine: "
                   "every one was copied at delivery (local sockets), and no receiver mapped "
                   "more than half.")
    return out + [""] + report_paths_copies(data, t)


PAGE_CACHE_ENGINES = ("sendfile", "splice")


def report_paths_copies(data, t):
    """Which copy the page-cache engines (sendfile, splice: no completions to report a copy)
    and the discarding receiver removed, from the profiled rows at t threads: per series and
    size the median send, deferred and receive copy (ns/B) over rounds with its interval,
    and, generated from them, where a copy is gone (median at most 10% of the largest
    median of that copy at that size). Nothing unless such a path was profiled."""
    prof = [r for r in data.profiled if r.raw["mode"] == "stream"]
    if t is None:   # every run profiled (--profile): no plain rows to take the focus from
        t = min((r.threads for r in prof), default=None)
    prof = [r for r in prof if r.threads == t]
    if not any(r.raw.get("engine") in PAGE_CACHE_ENGINES or r.raw.get("rx") == "discard"
               for r in prof):
        return []
    cats = ("send_copy", "deferred_copy", "recv_copy")
    words = {"send_copy": "send copy", "deferred_copy": "deferred copy",
             "recv_copy": "receive copy"}
    meds, rows = {}, []
    for z in sorted({r.size for r in prof}):
        for s in sorted({r.series for r in prof if r.size == z}, key=series_order):
            rs = [r for r in prof if r.series == s and r.size == z]
            cells = []
            for c in cats:
                iv = interval_of([r.num[f"prof_{c}"] for r in rs
                                  if r.num.get(f"prof_{c}") is not None])
                meds[(s, z, c)] = None if iv is None else iv["median"]
                if iv is None:
                    cells.append("")
                else:
                    span = f"{fmt_num(iv['lo'])}–{fmt_num(iv['hi'])}"
                    cells.append(f"{fmt_num(iv['median'])} "
                                 + (f"({span})" if iv["coverage"] >= CI_LEVEL else f"[{span}]"))
            rows.append([series_name(s), fmt_size(z), str(len(rs))] + cells)
    gone = []
    for (s, z, c), m in meds.items():
        top = max((v for (s2, z2, c2), v in meds.items() if z2 == z and c2 == c and v), default=0)
        variant = s.variant.split("+")
        pc = any(e in variant for e in PAGE_CACHE_ENGINES)
        if m is not None and top > 0 and m <= 0.1 * top and (
                (pc and c != "recv_copy") or ("rx-discard" in variant and c == "recv_copy")):
            gone.append(f"{series_name(s)} at {fmt_size(z)}: no {words[c]} "
                        f"({fmt_num(m)} against up to {fmt_num(top)} ns/B)")
    out = ["Which copy the page-cache engines and the discarding receiver removed, from the "
           f"profiled runs at {plural(t)} (median ns/B over rounds, {CI_LEVEL:.0%} interval in "
           "parentheses, [min–max] with too few rounds). sendfile and splice get no completion, "
           "so no copied share can say it; the profile does.", ""]
    out += md_table(["series", "size", "rounds", "send copy", "deferred copy", "receive copy"],
                    rows) + [""]
    out.append(("A copy is gone (at most 10% of the largest at that size): " + "; ".join(gone)
                + ".") if gone else
               "No page-cache engine or discarding receiver removed a copy here: each kept at "
               "least 10% of the largest send, deferred or receive copy at its size.")
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
    p.add_argument("--precision", type=precision_arg, metavar="P",
                   help="±P of 'the same within ±P', e.g. 0.05 or 5%% (default: the CSV's "
                        "precision column, the run's plan; else 0.05)")
    p.add_argument("--compare", nargs=2, metavar=("BASE", "NEW"),
                   help="before and after instead of the report: compare.md, compare.json "
                        "and compare.png in --out; each side is FILE, FILE@ID[,ID...] or "
                        "ID[,ID...] (runs of the positional CSV) (docs/compare.md)")
    p.add_argument("--allow-diff", action="append", choices=cbcompare.COMPARE_FIELDS,
                   metavar="FIELD", help="with --compare: FIELD is the change, so BASE and "
                   "NEW may differ in it (" + ", ".join(cbcompare.COMPARE_FIELDS) + "); "
                   "repeatable")
    p.add_argument("--timeline", action="append", metavar="RUN",
                   help="draw timeline.png of this run's per-interval samples (RUN_ID:ORDER, "
                        "or ORDER; repeatable; default: the runs flagged unstable)")
    args = p.parse_args(argv)
    if args.allow_diff and not args.compare:
        p.error("--allow-diff names the change between the sets of --compare BASE NEW")
    if args.compare and args.run_id != "latest":
        p.error("--compare chooses runs per side: FILE@ID[,ID...] or ID[,ID...]")
    return args


def die(message, status=1):
    print(f"fatal: {message}", file=sys.stderr)
    return status


def main(argv=None):
    """Entry point; returns the exit status. Re-execs only when run from the command line."""
    from_command_line = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    if args.compare:
        return cbcompare.run(args, sys.modules[__name__], from_command_line, argv)
    try:
        rows, runs = select_runs(args.csv, load_rows(args.csv), args.run_id)
    except InputError as e:
        return die(str(e), e.status)
    try:
        import_pyplot(from_command_line, argv)
    except ImportError:
        return die(MISSING_MPL.format(exe=sys.executable))
    data = Data(args.csv, rows, args.threads, args.size, runs, args.precision)
    analysis = analyse(data)
    try:
        timeline_runs = cbtimeline.runs_to_draw(args, data, analysis, sys.modules[__name__])
    except cbtimeline.TimelineError as e:
        return die(str(e))
    try:
        os.makedirs(args.out, exist_ok=True)
        written = [fig(data, args.out) for fig in FIGURES]
        written += [fig(data, args.out, analysis) for fig in FIGURES_OF_ANSWERS]
        written.append(plot_summary(data, analysis, args.out))
        profile = plot_profile(data, args.out, analysis)
        if profile:
            written.append(profile)
        timeline = cbtimeline.draw(timeline_runs, bool(args.timeline), args.out,
                                   sys.modules[__name__])
        if timeline:
            written.append(timeline)
        report = os.path.join(args.out, "report.md")
        summary = os.path.join(args.out, "summary.json")
        write_report(analysis, data, report)
        write_summary(analysis, summary)
        write_retransmissions(data, os.path.join(args.out, RETRANS_CSV))
    except OSError as e:
        return die(f"{e.filename or args.out}: {e.strerror or e}")
    names = ",".join(os.path.splitext(os.path.basename(w))[0] for w in written)
    print(f"wrote {os.path.join(args.out, '{' + names + '}')}.png (+ .svg)")
    print(f"wrote {report}, {summary} and {os.path.join(args.out, RETRANS_CSV)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
