#!/usr/bin/env python3
"""cbcompare — before and after: `plot_results.py --compare BASE NEW`.

Compares two result sets made at different times (a kernel, sysctl, MTU or NIC setting
changed in between): for every point both measured (mode, strategy and its variant, engine
and receive path, size, threads, placement), the factor NEW/BASE of each metric with a
distribution-free interval for unpaired runs (Hodges–Lehmann with its Mann–Whitney interval,
cbstats.judge_unpaired), the same Benjamini–Hochberg correction per family (here: one metric)
and the same answers as the main report (faster / slower / the same within ±P / cannot
tell), and a geometric-mean line per metric. Writes compare.md, compare.json and compare.png
(+ .svg) into the output directory.

It refuses (exit 2, one line) to compare sets that differ in a recorded field not named as
the change with --allow-diff FIELD (COMPARE_FIELDS), and says the compared difference at the
top of compare.md. The CSV reading and the choice of runs are plot_results.py's, passed in
as the module `pr` (see run()) so that the script run as __main__ is not loaded twice.
docs/compare.md is the manual.
"""

import math
import os
import statistics
import sys
from collections import namedtuple

import cbstats

# Recorded fields the two sets must share unless one is named as the change: the machine
# (plot_results.MACHINE_COLUMNS), where the threads ran, and how long each run measured.
COMPARE_FIELDS = ("kernel", "cpu_model", "link", "mtu", "placement", "duration_s", "warmup_s")
FIELD_WORDS = {"kernel": "kernel", "cpu_model": "CPU", "link": "link", "mtu": "MTU",
               "placement": "placement", "duration_s": "duration (s)",
               "warmup_s": "warm-up (s)"}

# column, rows it comes from (stream / rr / profiled stream), higher is better, label, unit
CMetric = namedtuple("CMetric", "column rows higher_is_better label unit")
PROFILE_METRICS = ("user_copy", "send_copy", "zc_overhead", "deferred_copy", "recv_copy",
                   "stack", "user_other")    # plot_results.PROFILE_CATEGORIES, in order
METRICS = (
    CMetric("throughput_gbps", "stream", True, "throughput", "Gbit/s"),
    CMetric("host_cpu_ns_per_byte", "stream", False, "host-wide CPU per byte", "ns/B"),
    *(CMetric(f"prof_{c}", "profiled", False, f"{c.replace('_', ' ')} (profiled)", "ns/B")
      for c in PROFILE_METRICS),
    CMetric("rtt_p50_us", "rr", False, "p50 round trip", "µs"),
    CMetric("rtt_p99_us", "rr", False, "p99 round trip", "µs"),
)
WORDS = {True: ("faster", "slower"), False: ("less", "more")}   # (better, worse) per direction
RTT_WORDS = ("shorter", "longer")
METRIC_DIRECTION = {m.column: m.higher_is_better for m in METRICS}

Side = namedtuple("Side", "name path spec rows runs")   # one of the two result sets


class CompareError(Exception):
    """A comparison that cannot be made: one line, exit status 2 (a usage choice)."""


def parse_side(text, default_csv, pr):
    """(path, run selection) of one --compare argument: FILE (its latest runs, as the report
    chooses them), FILE@ID[,ID...] (those runs; 'all' pools), or ID[,ID...] (runs of the
    positional CSV)."""
    if os.path.exists(text):
        return text, "latest"
    if "@" in text:
        path, ids = text.rsplit("@", 1)
        return path, pr.parse_run_ids(ids)
    return default_csv, pr.parse_run_ids(text)


def load_side(name, text, default_csv, pr):
    """Side: its ok rows as plot_results selects them (one machine, poolable runs)."""
    try:
        path, spec = parse_side(text, default_csv, pr)
    except Exception as e:      # argparse.ArgumentTypeError from parse_run_ids
        raise CompareError(f"--compare {name} {text!r}: {e}") from None
    rows, runs = pr.select_runs(path, pr.load_rows(path), spec)
    return Side(name, path, text, [r for r in rows if r.ok], runs)


def field_value(r, field):
    """A row's value of a COMPARE_FIELDS field, as text ('2' and '2.0' agree)."""
    v = r.raw.get(field, "")
    try:
        return f"{float(v):g}"
    except ValueError:
        return v


def differences(base, new, allowed):
    """[{field, base, new, allowed}] for every COMPARE_FIELDS field whose values differ
    between the sets (values: sorted distinct texts joined by ', '). CompareError on the
    first that differs and is not allowed."""
    out = []
    for f in COMPARE_FIELDS:
        vb = sorted({field_value(r, f) for r in base.rows})
        vn = sorted({field_value(r, f) for r in new.rows})
        if vb == vn:
            continue
        d = {"field": f, "base": ", ".join(vb) or "(empty)",
             "new": ", ".join(vn) or "(empty)", "allowed": f in allowed}
        if not d["allowed"]:
            raise CompareError(
                f"BASE and NEW differ in {f} ({d['base']} → {d['new']}), which is not named "
                f"as the change: add --allow-diff {f} if it is")
        out.append(d)
    return out


def point_of(r, pr, ignored):
    """The point a row measures: mode, series (strategy, variant, engine, rx), size, threads
    and every COMPARE_FIELDS field not named as the change (a changed one is the change)."""
    return (r.raw["mode"], pr.series_name(r.series), r.size, r.threads,
            tuple(field_value(r, f) for f in COMPARE_FIELDS if f not in ignored))


def metric_rows(rows, which):
    """The rows a metric comes from: profiled runs only for prof_*, never for the rest."""
    if which == "profiled":
        return [r for r in rows if r.num.get("prof_samples") and r.raw["mode"] == "stream"]
    return [r for r in rows if not r.num.get("prof_samples") and r.raw["mode"] == which]


def values_by_point(rows, m, pr, ignored):
    """{point: [positive values of metric m, one per run]}."""
    get = pr.metric_value(m.column) if not m.column.startswith("prof_") else pr.col(m.column)
    out = {}
    for r in metric_rows(rows, m.rows):
        v = get(r)
        if v is not None and v > 0:
            out.setdefault(point_of(r, pr, ignored), []).append(v)
    return out


def point_order(p):
    """Sort key of a point: mode, strategy order, threads, size."""
    return (p[0], p[1], p[3], p[2], p[4])


def compare(base, new, precision, pr, allowed=()):
    """Every answer of compare.md as plain data (compare.json is this)."""
    diffs = differences(base, new, set(allowed))
    ignored = {d["field"] for d in diffs}
    comps, per_metric, only = [], [], {"base": set(), "new": set()}
    for m in METRICS:
        vb = values_by_point(base.rows, m, pr, ignored)
        vn = values_by_point(new.rows, m, pr, ignored)
        only["base"] |= set(vb) - set(vn)
        only["new"] |= set(vn) - set(vb)
        family = []
        for p in sorted(set(vb) & set(vn), key=point_order):
            c = cbstats.judge_unpaired(vb[p], vn[p], m.higher_is_better, precision)
            family.append({"metric": m.column, "mode": p[0], "series": p[1],
                           "msg_size": p[2], "threads": p[3],
                           "higher_is_better": m.higher_is_better,
                           "base_median": statistics.median(vb[p]),
                           "new_median": statistics.median(vn[p]), **c})
        cbstats.correct_family(family, detectable=cbstats.judge_unpaired_detectable)
        comps += family
        if family:
            counts = {v: sum(1 for c in family if c["verdict"] == v)
                      for v in ("faster", "slower", "same", "cannot tell")}
            per_metric.append({"metric": m.column, "label": m.label, "unit": m.unit,
                               "points": len(family), **counts,
                               "geomean": cbstats.geometric_mean([c["ratio"] for c in family]),
                               "resolved_range": resolved_range(family),
                               "mdd_range": mdd_range(family)})
    if not comps:
        raise CompareError("BASE and NEW measured no point in common (mode, strategy, size, "
                           "threads, placement): nothing to compare")
    return {"base": side_ref(base), "new": side_ref(new), "differences": diffs,
            "same": same_fields(base, ignored),
            "method": {"estimate": "Hodges–Lehmann (median of log new - log base)",
                       "interval": "Mann–Whitney order statistics of the differences, "
                                   f"exact coverage >= {cbstats.CI_LEVEL:.0%}",
                       "test": "exact two-sided Mann–Whitney, ties counted against",
                       "correction": "Benjamini–Hochberg per metric",
                       "alpha": cbstats.ALPHA, "precision": precision,
                       "power": cbstats.POWER},
            "metrics": per_metric, "comparisons": comps,
            "only_base": len(only["base"] - only["new"]),
            "only_new": len(only["new"] - only["base"])}


def resolved_range(family):
    """[lowest, highest] ratio of the resolved points of a family (None if none)."""
    rs = [c["ratio"] for c in family if c["verdict"] in ("faster", "slower")]
    return [min(rs), max(rs)] if rs else None


def mdd_range(family):
    """[smallest, largest] difference the cannot-tell points could have resolved (None if
    none has a finite one)."""
    ms = [c["mdd"] for c in family if c["verdict"] == "cannot tell" and c["mdd"] is not None
          and math.isfinite(c["mdd"])]
    return [min(ms), max(ms)] if ms else None


def side_ref(side):
    return {"spec": side.spec, "path": side.path, "run_ids": side.runs["run_ids"],
            "rows": len(side.rows)}


def same_fields(side, ignored):
    """{field: value} of the COMPARE_FIELDS both sets share (the first set's values)."""
    return {f: ", ".join(sorted({field_value(r, f) for r in side.rows}))
            for f in COMPARE_FIELDS if f not in ignored}


# ---- compare.md -------------------------------------------------------------------------

def change_line(a):
    """'kernel 6.18.0 → 6.19.0' for the compared difference, or what it is when no
    recorded field differs."""
    if a["differences"]:
        return "; ".join(f"{FIELD_WORDS[d['field']]} {d['base']} → {d['new']}"
                         for d in a["differences"])
    return ("no recorded field differs (" + ", ".join(FIELD_WORDS[f] for f in COMPARE_FIELDS)
            + "): the change is something the CSV does not record")


def words(m_column, higher_is_better):
    return RTT_WORDS if m_column.startswith("rtt_") else WORDS[higher_is_better]


def answer(c, pr):
    better, worse = words(c["metric"], c["higher_is_better"])
    if c["verdict"] == "faster":
        return f"**{better}**"
    if c["verdict"] == "slower":
        return f"*{worse}*"
    if c["verdict"] == "same":
        return f"same within ±{pr.fmt_pct(c['precision'])}"
    mdd = c.get("mdd")
    return "cannot tell" + (f" (±{pr.fmt_pct(mdd)})" if mdd is not None else "")


def metric_line(s, a, pr):
    """'throughput (8 points): faster at 3 (×1.18–1.22), ...; geometric mean ×1.08'."""
    m = next(m for m in METRICS if m.column == s["metric"])
    better, worse = words(m.column, m.higher_is_better)
    parts = []
    for v, word in (("faster", better), ("slower", worse)):
        if s[v]:
            rs = [c["ratio"] for c in a["comparisons"]
                  if c["metric"] == m.column and c["verdict"] == v]
            parts.append(f"{word} at {s[v]} (×{pr.fmt_ratio(min(rs))}–"
                         f"{pr.fmt_ratio(max(rs))})" if len(rs) > 1 else
                         f"{word} at 1 (×{pr.fmt_ratio(rs[0])})")
    if s["same"]:
        parts.append(f"the same within ±{pr.fmt_pct(a['method']['precision'])} at {s['same']}")
    if s["cannot tell"]:
        md = s["mdd_range"]
        parts.append(f"cannot tell at {s['cannot tell']}" + (
            f" (could not see differences below ±{pr.fmt_pct(md[0])}"
            + (f"–{pr.fmt_pct(md[1])})" if pr.fmt_pct(md[1]) != pr.fmt_pct(md[0]) else ")")
            if md else ""))
    return (f"- **{s['label']}** ({s['points']} point{'s' if s['points'] != 1 else ''}): "
            + ", ".join(parts) + f"; geometric mean of NEW/BASE ×{pr.fmt_ratio(s['geomean'])}")


def write_md(a, path, pr):
    p = pr.fmt_pct(a["method"]["precision"])
    out = ["# Before and after: NEW / BASE", "",
           f"**Compared: {change_line(a)}.**", ""]
    for key, name in (("base", "BASE"), ("new", "NEW")):
        s = a[key]
        out.append(f"- {name}: `{s['path']}`, run{'s' if len(s['run_ids']) > 1 else ''} "
                   f"{', '.join(s['run_ids'])} ({s['rows']} ok rows)")
    same = ", ".join(f"{FIELD_WORDS[f]} {v or '(empty)'}" for f, v in a["same"].items())
    out += [f"- The same in both: {same}.", ""]
    if a["only_base"] or a["only_new"]:
        out += [f"Points measured by one set only (not compared): {a['only_base']} in BASE, "
                f"{a['only_new']} in NEW.", ""]
    out += ["## What changed", ""]
    out += [metric_line(s, a, pr) for s in a["metrics"]]
    out += ["", "## How to read this", "",
            "Each point's runs in BASE and in NEW are unpaired (made at different times). "
            "The ratio is the Hodges–Lehmann estimate of the factor NEW/BASE (the median of "
            "every log(new) − log(base)), in brackets its distribution-free Mann–Whitney "
            f"interval (exact coverage ≥ {cbstats.CI_LEVEL:.0%}; square brackets: too few "
            "runs for one, [min, max] shown). It assumes independent runs and that NEW "
            "differs from BASE by a factor (the same shape of spread on a log scale). Answers "
            "are corrected per metric (Benjamini–Hochberg, q ≤ 0.05): faster/slower (less/"
            f"more CPU, shorter/longer round trips) where the interval excludes 1, the same "
            f"within ±{p} where it lies inside ±{p}, else cannot tell with the smallest "
            "difference that point could have resolved with 80% chance (a planning figure "
            "under a normal model). docs/compare.md has the details.", ""]
    for s in a["metrics"]:
        comps = [c for c in a["comparisons"] if c["metric"] == s["metric"]]
        out += [f"## {s['label']} ({s['unit']})", "",
                "| point | BASE median (runs) | NEW median (runs) | NEW/BASE (interval) | q "
                "| q same | answer |", "|---|---|---|---|---|---|---|"]
        for c in comps:
            iv = f"{pr.fmt_ratio(c['ci_low'])}–{pr.fmt_ratio(c['ci_high'])}"
            iv = f"({iv})" if c["coverage"] >= cbstats.CI_LEVEL else f"[{iv}]"
            out.append(f"| {point_text(c, pr)} | {pr.fmt_num(c['base_median'])} "
                       f"({c['n_base']}) | {pr.fmt_num(c['new_median'])} ({c['n_new']}) | "
                       f"{pr.fmt_ratio(c['ratio'])} {iv} | {c['q']:.2g} | "
                       f"{'–' if c['q_same'] is None else format(c['q_same'], '.2g')} | "
                       f"{answer(c, pr)} |")
        out.append("")
    with open(path, "w", encoding="utf-8") as f:
        f.write("\n".join(out))


def point_text(c, pr):
    return f"{c['mode']} {c['series']} {pr.fmt_size(c['msg_size'])} × {c['threads']}"


# ---- compare.png --------------------------------------------------------------------------

def plot(a, out_dir, pr):
    """One panel per metric: every point's NEW/BASE with its interval, a line at 1 and the
    ±P band; filled: resolved, grey: the same within ±P, hollow: cannot tell."""
    from matplotlib.lines import Line2D
    from matplotlib.ticker import FuncFormatter
    panels = a["metrics"]
    npts = max(s["points"] for s in panels)
    ncols = min(len(panels), 4)
    fig, axes = pr.new_figure(len(panels), panel_w=4.4, panel_h=max(2.6, 1.2 + 0.22 * npts),
                              ncols=ncols)
    low, high = cbstats.band(a["method"]["precision"])
    for ax, s in zip(axes, panels):
        comps = [c for c in a["comparisons"] if c["metric"] == s["metric"]]
        ys = list(range(len(comps)))[::-1]
        for y, c in zip(ys, comps):
            st = pr.style(pr.Series(*(c["series"].split("/", 1) + ["default"])[:2]))
            face = {"faster": st.color, "slower": st.color, "same": pr.SAME_FILL}.get(
                c["verdict"], "white")
            ax.errorbar([c["ratio"]], [y], xerr=[[c["ratio"] - c["ci_low"]],
                                                 [c["ci_high"] - c["ratio"]]],
                        color=st.color, marker=st.marker, markersize=5,
                        markerfacecolor=face, capsize=2.5, elinewidth=1.0, linestyle="none")
        ax.axvspan(low, high, color="#999999", alpha=0.18, linewidth=0)
        ax.axvline(1.0, color="#333333", linewidth=0.9, linestyle=":")
        if s["geomean"]:
            ax.axvline(s["geomean"], color="#D55E00", linewidth=0.9, linestyle="--")
        ax.set_yticks(ys)
        ax.set_yticklabels([point_text(c, pr).split(" ", 1)[1] for c in comps], fontsize=7)
        ax.set_ylim(-0.7, len(comps) - 0.3)
        lo = min([c["ci_low"] for c in comps] + [low])
        hi = max([c["ci_high"] for c in comps] + [high])
        if hi / lo > 4:      # factors far apart: a log axis keeps ×2 and ×0.5 alike
            ax.set_xscale("log", base=2)
            ax.set_xlim(lo / 1.1, hi * 1.1)
        else:
            pad = (hi - lo) * 0.08
            ax.set_xlim(lo - pad, hi + pad)
        ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:g}×"))
        better = words(s["metric"], METRIC_DIRECTION[s["metric"]])[0]
        ax.set_title(f"{s['label']}\nNEW/BASE ({'> 1' if METRIC_DIRECTION[s['metric']] else '< 1'}"
                     f": {better})")
    p = pr.fmt_pct(a["method"]["precision"])
    handles = [Line2D([], [], color="#555555", marker="o", linestyle="none",
                      label="differs (q ≤ 0.05)"),
               Line2D([], [], color="#555555", marker="o", markerfacecolor=pr.SAME_FILL,
                      linestyle="none", label=f"same within ±{p} (band)"),
               Line2D([], [], color="#555555", marker="o", markerfacecolor="white",
                      linestyle="none", label="cannot tell"),
               Line2D([], [], color="#D55E00", linestyle="--", label="geometric mean")]
    pr.finish(fig, f"NEW / BASE per point: {change_line(a)}", handles,
              "Ratio: Hodges–Lehmann estimate of NEW/BASE over unpaired runs, with its "
              f"Mann–Whitney {cbstats.CI_LEVEL:.0%} interval; dotted line: equal; grey band: "
              f"±{p}; answers corrected per metric (Benjamini–Hochberg). BASE: "
              f"{', '.join(a['base']['run_ids'])}; NEW: {', '.join(a['new']['run_ids'])}.")
    return pr.save(fig, out_dir, "compare")


# ---- entry point ----------------------------------------------------------------------------

def run(args, pr, allow_reexec, argv):
    """plot_results.py --compare: returns the exit status. pr is the plot_results module
    (its reader, run selection, formatting and figure helpers)."""
    try:
        base = load_side("BASE", args.compare[0], args.csv, pr)
        new = load_side("NEW", args.compare[1], args.csv, pr)
        if (os.path.realpath(base.path), base.runs["run_ids"]) == \
                (os.path.realpath(new.path), new.runs["run_ids"]):
            raise CompareError("BASE and NEW are the same runs of the same file: "
                               "nothing to compare")
        precision, source = pr.pick_precision(base.rows + new.rows, args.precision)
        a = compare(base, new, precision, pr, args.allow_diff or ())
        a["method"]["precision_source"] = source
    except pr.InputError as e:
        return pr.die(str(e), e.status)
    except CompareError as e:
        return pr.die(str(e), 2)
    try:
        pr.import_pyplot(allow_reexec, argv)
    except ImportError:
        return pr.die(pr.MISSING_MPL.format(exe=sys.executable))
    try:
        os.makedirs(args.out, exist_ok=True)
        md, js = os.path.join(args.out, "compare.md"), os.path.join(args.out, "compare.json")
        write_md(a, md, pr)
        pr.write_summary(a, js)
        png = plot(a, args.out, pr)
    except OSError as e:
        return pr.die(f"{e.filename or args.out}: {e.strerror or e}")
    print(f"compared: {change_line(a)}")
    print(f"wrote {md}, {js} and {png} (+ .svg)")
    return 0
