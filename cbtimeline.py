#!/usr/bin/env python3
"""cbtimeline — a run over time: `plot_results.py --timeline RUN` (timeline.png + .svg).

Each run of the sweep keeps its binaries' JSON under results/<run_id>/ beside the CSV, and
with --interval (the driver passes 0.1) that JSON ends with the run's per-interval samples
(docs/csv-and-json.md, "Per-interval samples"). This draws them for chosen runs, or by
default for the most unstable runs the report flagged: per run one row of panels —
throughput per interval (receiver and sender), CPU per interval (each side's connection
threads, in CPUs), and the sender's retransmissions (a3: its completions and copied sends).
The plot_results module is passed in as `pr` (its figure helpers), as cbcompare does.
"""

import glob
import json
import os

DEFAULT_RUNS = 4   # flagged runs drawn when --timeline is not given


class TimelineError(Exception):
    """A --timeline run without samples: one line, exit status 1."""


def raw_json(csv_path, run_id, order, side):
    """Path of results/<run_id>/<order>-*.<side>.json beside the CSV, or None."""
    d = os.path.join(os.path.dirname(os.path.abspath(csv_path)), "results", run_id)
    found = sorted(glob.glob(os.path.join(d, f"{int(order):04d}-*.{side}.json")))
    return found[0] if found else None


def load_samples(path):
    """The samples list of one binary's JSON (None when it has none or cannot be read)."""
    try:
        with open(path, encoding="utf-8") as f:
            d = json.load(f)
    except (OSError, ValueError):
        return None
    return d.get("samples") or None


def parse_run(text, data):
    """(run_id, order) of RUN_ID:ORDER, or ORDER alone when one selected run has it."""
    run_id, _, order = text.rpartition(":")
    if not order.isdigit():
        raise TimelineError(f"--timeline {text!r}: expected RUN_ID:ORDER or ORDER")
    if run_id:
        return run_id, int(order)
    ids = sorted({r.raw["run_id"] for r in data.rows if r.raw["order"] == order})
    if len(ids) != 1:
        raise TimelineError(f"--timeline {text!r}: order {order} is in {len(ids)} of the "
                            "runs used; name it as RUN_ID:ORDER")
    return ids[0], int(order)


def runs_to_draw(args, data, a, pr):
    """[(run_id, order, title, cli samples, srv samples)]: the --timeline runs (TimelineError
    when one has no samples), else up to DEFAULT_RUNS flagged runs that kept theirs."""
    rows = {(r.raw["run_id"], int(r.raw["order"])): r for r in data.rows}
    if args.timeline:
        wanted, strict = [parse_run(t, data) for t in args.timeline], True
    else:
        flagged = sorted(a["stability"]["unstable"], key=lambda u: (
            -(u["interval_stall_s"] or 0), -abs((u["interval_drift"] or 1) - 1)))
        wanted, strict = [(u["run_id"], int(u["order"])) for u in flagged], False
    out = []
    for run_id, order in wanted:
        cli = raw_json(data.path, run_id, order, "cli")
        srv = raw_json(data.path, run_id, order, "srv")
        sc, ss = (load_samples(p) if p else None for p in (cli, srv))
        if not sc and not ss:
            if strict:
                raise TimelineError(f"--timeline {run_id}:{order}: no samples in "
                                    f"results/{run_id}/{order:04d}-*.cli.json or .srv.json "
                                    "(the run predates --interval, or its files were archived)")
            continue
        r = rows.get((run_id, order))
        title = f"run {run_id} #{order}" + (
            f": {r.raw['mode']} {r.raw['strategy']} {pr.fmt_size(r.size)} × {r.threads}, "
            f"repeat {r.raw['repeat']}" if r and r.ok else "")
        out.append((run_id, order, title, sc or [], ss or []))
        if not strict and len(out) == DEFAULT_RUNS:
            break
    return out


def mid(s):
    return [x["t_s"] + x["len_s"] / 2 for x in s]


def draw(runs, chosen, out_dir, pr):
    """timeline.png (+ .svg) of runs (runs_to_draw; chosen: named with --timeline); None
    when there is nothing to draw."""
    if not runs:
        return None
    fig, axes = pr.new_figure(3 * len(runs), panel_w=4.6, panel_h=2.6, ncols=3)
    for i, (_, _, title, cli, srv) in enumerate(runs):
        ax_t, ax_c, ax_r = axes[3 * i:3 * i + 3]
        for s, label, style in ((cli, "receiver", "-"), (srv, "sender", "--")):
            if s:
                ax_t.step(mid(s), [x["bytes"] * 8 / x["len_s"] / 1e9 for x in s],
                          where="mid", linestyle=style, label=label)
                ax_c.step(mid(s), [x["cpu_s"] / x["len_s"] for x in s], where="mid",
                          linestyle=style, label=label)
        ax_t.set_title(f"{title}\nthroughput per interval")
        ax_t.set_ylabel("Gbit/s")
        ax_c.set_title("CPU of the connection threads")
        ax_c.set_ylabel("CPUs")
        if srv:
            ax_r.step(mid(srv), [x["retrans"] for x in srv], where="mid", label="retransmitted")
            if "zc_completions" in srv[0]:
                ax_r.step(mid(srv), [x["zc_completions"] for x in srv], where="mid",
                          label="zero-copy completions")
                ax_r.step(mid(srv), [x["zc_copied"] for x in srv], where="mid",
                          linestyle=":", label="of them copied")
        ax_r.set_title("sender, per interval")
        ax_r.set_ylabel("count")
        for ax in (ax_t, ax_c, ax_r):
            ax.set_xlabel("s into the measured window")
            ax.set_ylim(bottom=0)
            if ax.get_legend_handles_labels()[0]:
                ax.legend(fontsize=7)
    pr.finish(fig, "Runs over time: per-interval samples (--interval)", (),
              "Each step is one interval of the measured window; throughput is bytes × 8 / the "
              "interval's length, CPU the connection threads' CPU time over it. "
              + ("Runs chosen with --timeline." if chosen else
                 "The runs the report flagged as unstable (a stall or a drift), most stalled "
                 "first."))
    return pr.save(fig, out_dir, "timeline")
