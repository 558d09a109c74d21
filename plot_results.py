#!/usr/bin/env python3
"""Plot copybench results and write the analysis, from results.csv alone.

Reads the CSV written by run_experiments.sh (one row per run, columns as listed in
README.md, section "CSV columns") and writes into the output directory:

  throughput, time_per_msg, latency, cache_misses, cpu_per_byte, context_switches,
  zc_copied, summary   (each as .png and .svg)
  report.md            the answers, in prose, with the numbers behind them
  summary.json         the same answers for scripts

The driver appends every sweep to the same CSV under a new run_id; by default only the
latest run of each mode (stream, rr) is used (--run-id), so a quick smoke run never pools
with a full sweep. Only rows with status "ok" are measured; failed rows are counted and
named in the report.
Repeats are reduced to their median, drawn with min-max error bars. Empty cells (not
applicable) and NA cells (not available, e.g. no PMU) are skipped, never plotted as 0,
and every figure says what was missing. Every number in the outputs comes from the CSV.
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
    # two hosts (run_experiments.sh --remote; empty on one host)
    "remote_host", "remote_role", "remote_kernel", "remote_cpu_model", "local_addr",
    "remote_addr", "local_if", "local_driver", "local_firmware", "local_mtu",
    "local_speed_mbps", "local_sg", "local_tso", "local_gso", "remote_if", "remote_driver",
    "remote_firmware", "remote_mtu", "remote_speed_mbps", "remote_sg", "remote_tso",
    "remote_gso",
)
TEXT_COLUMNS = frozenset(("run_id", "timestamp", "status", "reason", "strategy", "variant",
                          "mode", "placement", "kernel", "cpu_model", "link",
                          "remote_host", "remote_role", "remote_kernel", "remote_cpu_model",
                          "local_addr", "remote_addr", "local_if", "local_driver",
                          "local_firmware", "local_sg", "local_tso", "local_gso", "remote_if",
                          "remote_driver", "remote_firmware", "remote_sg", "remote_tso",
                          "remote_gso"))
NUMERIC_COLUMNS = tuple(c for c in COLUMNS if c not in TEXT_COLUMNS)
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
Stat = namedtuple("Stat", "median lo hi n")         # over repeats
Agg = namedtuple("Agg", "stats rows missing")       # stats[(series, size, threads)] -> Stat


class InputError(Exception):
    """Bad input; the message is 'file[:line]: what' and becomes one fatal line."""


class Row:
    """One CSV row: raw text cells, parsed numbers (None for empty or NA), its line."""
    __slots__ = ("line", "raw", "num")

    def __init__(self, line, raw, num):
        self.line, self.raw, self.num = line, raw, num

    @property
    def series(self):
        return Series(self.raw["strategy"], self.raw["variant"] or "default")

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


def select_runs(path, rows, spec):
    """(rows used, runs info) for --run-id spec; InputError when the choice is unusable.

    latest: per mode, the rows of the most recent run_id that has rows of that mode (a
    stream sweep followed by an rr sweep shows both; a quick run followed by a full one
    shows the full one). all / several ids: pooled, refused if a group's runs differ in
    how they were measured (POOL_MUST_AGREE)."""
    order = run_order(rows)
    if spec == "latest":
        by_mode = {}
        for m in MODES:
            with_mode = {r.raw["run_id"] for r in rows if r.raw["mode"] == m}
            if with_mode:
                by_mode[m] = max(with_mode, key=order.index)
        chosen = set(by_mode.values()) or {order[-1]}
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
        if len(chosen) > 1:
            check_poolable(path, used)
    run_ids = [i for i in order if i in chosen]
    info = {"selection": spec if isinstance(spec, str) else ",".join(spec),
            "run_ids": run_ids, "by_mode": by_mode, "rows_used": len(used),
            "rows_left_out": len(rows) - len(used),
            "run_ids_left_out": [i for i in order if i not in run_ids]}
    if not used:
        raise InputError(f"{path}: --run-id {info['selection']}: no rows")
    return used, info


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
    """Median, min and max of metric over repeats, per (series, msg_size, threads).

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
    stats = {k: Stat(statistics.median(v), min(v), max(v), len(v)) for k, v in values.items()}
    return Agg(stats, len(rows), missing)


def medians_by_size(agg, series, threads):
    """{msg_size: median} of one series at one thread count."""
    return {k[1]: s.median for k, s in agg.stats.items() if k[0] == series and k[2] == threads}


def crossover_size(candidate, baseline):
    """Smallest measured size s with candidate[s] >= baseline[s] at s and every larger size.

    Both are {msg_size: median}; only sizes measured for both count. None when the
    candidate loses at the largest common size (one win followed by losses is no crossover).
    """
    found = None
    for s in sorted(set(candidate) & set(baseline), reverse=True):
        if candidate[s] >= baseline[s]:
            found = s
        else:
            break
    return found


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
    detail = crossover_detail(data, throughput)
    return {
        "source": data.path,
        "runs": data.runs,
        "rows": {"total": len(data.rows), "ok": len(data.ok), "failed": len(data.failed),
                 "stream_ok": len(data.stream), "rr_ok": len(data.rr)},
        "repeats": repeat_counts(throughput),
        "failed_runs": [run_ref(r) | {"reason": r.raw["reason"]} for r in data.failed],
        "baseline": series_ref(data.baseline) if data.baseline else None,
        "baseline_note": data.baseline_note,
        "crossover": crossovers(detail),
        "crossover_detail": detail,
        "best": best_per_point(data, throughput),
        "scaling_efficiency": scaling_efficiency(data, throughput),
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


def crossovers(detail):
    """{"a2_vs_a1": {"<threads>": size|None}, "a3_vs_a1": {...}}, read off crossover_detail
    for the thread counts where both were measured at a common size."""
    return {key: {t: crossover_size({p["msg_size"]: p["median_gbps"] for p in pts},
                                    {p["msg_size"]: p["a1_median_gbps"] for p in pts})
                  for t, pts in per_t.items() if pts}
            for key, per_t in detail.items()}


def crossover_detail(data, throughput):
    """Per comparison and thread count, the medians at every size both were measured at:
    the crossover is decided on these (crossovers())."""
    out = {}
    for strategy in ("a2", "a3"):
        cand = pick_series(data, strategy)
        per_t = {}
        if cand and data.baseline:
            for t in data.threads:
                c = medians_by_size(throughput, cand, t)
                b = medians_by_size(throughput, data.baseline, t)
                per_t[str(t)] = [{"msg_size": s, "median_gbps": c[s], "a1_median_gbps": b[s],
                                  "ratio": c[s] / b[s] if b[s] else None}
                                 for s in sorted(set(c) & set(b))]
        out[f"{strategy}_vs_a1"] = per_t
    return out


def best_per_point(data, throughput):
    """Per (msg_size, threads): the series with the highest median throughput."""
    points = defaultdict(list)
    for (series, size, threads), st in throughput.stats.items():
        points[(size, threads)].append((series, st))
    best = []
    for (size, threads) in sorted(points):
        cands = sorted(points[(size, threads)], key=lambda p: series_order(p[0]))
        series, st = max(cands, key=lambda p: p[1].median)  # first of equals wins
        runner = sorted((p[1].median for p in cands if p[0] != series), reverse=True)
        best.append({"msg_size": size, "threads": threads, **series_ref(series),
                     "throughput_gbps": st.median,
                     "next_best_gbps": runner[0] if runner else None})
    return best


def scaling_efficiency(data, throughput):
    """median(T threads) / (T * median(1 thread)) per series and size."""
    out = []
    for series in data.series:
        for size in data.sizes:
            one = throughput.stats.get((series, size, 1))
            if not one or not one.median:
                continue
            for t in data.threads:
                st = throughput.stats.get((series, size, t))
                if t == 1 or not st:
                    continue
                out.append({**series_ref(series), "msg_size": size, "threads": t,
                            "efficiency": st.median / (t * one.median)})
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
                    "min": st.lo, "max": st.hi, "repeats": st.n,
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


def report_crossover(a, strategy, title):
    key = f"{strategy}_vs_a1"
    answers, detail = a["crossover"][key], a["crossover_detail"][key]
    out = [f"## Where {title} starts beating a1 two-copy", ""]
    if not answers:
        out += [f"The data cannot answer this: {strategy} and a1 were not both measured in "
                "stream mode at any common size.", ""]
        return out
    out += [f"Crossover = the smallest measured size from which {strategy}'s median "
            "throughput is ≥ a1's at that size and at every larger measured size "
            "(medians over repeats; one win followed by losses is not a crossover).", ""]
    for t, size in answers.items():
        ans = f"from **{fmt_size(size)}**" if size is not None else \
            "**not in the measured range**"
        out.append(f"- {t} thread{'s' if t != '1' else ''}: {ans}")
    out += [""]
    sizes = sorted({p["msg_size"] for pts in detail.values() for p in pts})
    rows = []
    for t, pts in detail.items():
        by = {p["msg_size"]: p for p in pts}
        rows.append([t] + [
            (f"{fmt_num(by[s]['ratio'])} ({fmt_num(by[s]['median_gbps'])} / "
             f"{fmt_num(by[s]['a1_median_gbps'])})" if s in by and by[s]["ratio"] is not None
             else "–") for s in sizes])
    out += [f"Median throughput ratio {strategy}/a1 (Gbit/s {strategy} / a1):", ""]
    out += md_table(["threads"] + [fmt_size(s) for s in sizes], rows) + [""]
    return out


def report_best(a):
    out = ["## Best strategy for each size and thread count", ""]
    if not a["best"]:
        return out + ["No ok stream rows: the data cannot answer this.", ""]
    out += ["Highest median throughput (Gbit/s); the runner-up's median beside it.", ""]
    rows = [[fmt_size(b["msg_size"]), b["threads"], b["label"], fmt_num(b["throughput_gbps"]),
             fmt_num(b["next_best_gbps"])] for b in a["best"]]
    out += md_table(["size", "threads", "best", "Gbit/s", "runner-up Gbit/s"], rows)
    wins = defaultdict(int)
    for b in a["best"]:
        wins[b["label"]] += 1
    out += ["", "Wins: " + ", ".join(f"{k} {v} of {len(a['best'])}" for k, v in wins.items())
            + ".", ""]
    return out


def report_scaling(a, data):
    out = ["## Thread scaling efficiency", ""]
    if not a["scaling_efficiency"]:
        why = "no 1-thread runs to scale from" if 1 not in data.threads else \
            "only one thread count was measured"
        return out + [f"The data cannot answer this: {why}.", ""]
    ts = sorted({e["threads"] for e in a["scaling_efficiency"]})
    out += ["Efficiency = median throughput at T threads / (T × median at 1 thread); "
            "100% is perfect scaling.", ""]
    table = defaultdict(dict)
    for e in a["scaling_efficiency"]:
        table[(e["label"], e["msg_size"])][e["threads"]] = e["efficiency"]
    labels = [style(s).label for s in data.series]
    rows = [[label, fmt_size(size)] + [f"{v[t] * 100:.0f}%" if t in v else "–" for t in ts]
            for (label, size), v in sorted(table.items(),
                                           key=lambda kv: (labels.index(kv[0][0])
                                                           if kv[0][0] in labels else 99,
                                                           kv[0][1]))]
    out += md_table(["strategy", "size"] + [f"T={t}" for t in ts], rows) + [""]
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


def write_report(a, data, path):
    """report.md: the assignment's questions answered from the data."""
    r = a["rows"]
    reps = a["repeats"]
    reps_text = plural(reps["min"], "repeat") if reps["min"] == reps["max"] else \
        f"{reps['min']}–{reps['max']} repeats"
    lines = ["# copybench results", "",
             f"Source: `{a['source']}` — {r['total']} rows: {r['ok']} ok "
             f"({r['stream_ok']} stream, {r['rr_ok']} request-response), {r['failed']} failed. "
             f"Medians over {reps_text} per "
             "configuration (ok rows only). Every number below is computed from the CSV.", "",
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
    lines += report_scaling(a, data)
    lines += report_zc(a, data)
    lines += report_cpu(a, data)
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
            "Medians over repeats, error bars min–max; NA/empty cells skipped, never "
            "plotted as 0.")


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


def time_per_msg_panel(ax, data):
    """us_per_msg vs threads at the focus size; returns True if drawn."""
    size = data.focus_size
    ax.set_title(f"time per message at {fmt_size(size)}" if size else "time per message")
    agg = aggregate([r for r in data.stream if r.size == size], col("us_per_msg"))
    drawn = []
    for s in data.series:
        pts = sorted((k[2], st) for k, st in agg.stats.items() if k[0] == s)
        if pts:
            draw_errorbar(ax, [p[0] for p in pts], [p[1] for p in pts], data.style(s))
            drawn += [p[1].hi for p in pts]
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
        metric_panel(ax, data, data.stream, metric, SIDES[side], ylabel, ylabel, t,
                     notes=[wrapped])
    ax = axes[2]
    ax.set_title("host-wide, all CPUs")
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
           series_handles(data, data.stream) + extra, focus_footer(data))
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
        pct = [Stat(s.median * 100, s.lo * 100, s.hi * 100, s.n) for _, s in pts]
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
    for key, name in (("a2_vs_a1", "a2 one-copy ≥ a1"), ("a3_vs_a1", "a3 zero-copy ≥ a1")):
        cross = a["crossover"][key]
        if cross:
            lines.append(f"{name} from: " + "; ".join(
                f"{plural(int(k))}: {fmt_size(v) if v else 'not in measured range'}"
                for k, v in cross.items()))
    wins = defaultdict(int)
    for b in a["best"]:
        wins[b["label"]] += 1
    if wins:
        lines.append("best median throughput at (size, threads): " + "; ".join(
            f"{k} {v} of {len(a['best'])}" for k, v in wins.items()))
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


FIGURES = (plot_throughput, plot_time_per_msg, plot_latency, plot_cache_misses,
           plot_cpu_per_byte, plot_context_switches, plot_zc_copied)


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


def die(message):
    print(f"fatal: {message}", file=sys.stderr)
    return 1


def main(argv=None):
    """Entry point; returns the exit status. Re-execs only when run from the command line."""
    from_command_line = argv is None
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parse_args(argv)
    try:
        rows, runs = select_runs(args.csv, load_rows(args.csv), args.run_id)
    except InputError as e:
        return die(str(e))
    try:
        import_pyplot(from_command_line, argv)
    except ImportError:
        return die(MISSING_MPL.format(exe=sys.executable))
    data = Data(args.csv, rows, args.threads, args.size, runs)
    analysis = analyse(data)
    try:
        os.makedirs(args.out, exist_ok=True)
        written = [fig(data, args.out) for fig in FIGURES]
        written.append(plot_summary(data, analysis, args.out))
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
