#!/usr/bin/env python3
"""cbstats — copybench's statistics: pure functions of numbers, standard library only.

The distribution-free interval for a median and the verdict on a paired ratio, used by
plot_results.py (the report and figures) and run_experiments.sh (which rounds to run next).
No I/O, no matplotlib: it runs under any python3.
"""

import math
import statistics

# A distribution-free interval for a median.
#
# For n independent draws of a continuous distribution with median m, the number B of
# draws below m is Binomial(n, 1/2), whatever the distribution's shape. The interval between
# the k-th smallest and the k-th largest draw, [x_(k), x_(n+1-k)], misses m exactly when
# B < k or B > n - k, so it covers m with probability P(k <= B <= n - k): exact, not
# asymptotic. The report uses the largest k (the narrowest interval) whose coverage is at
# least CI_LEVEL. With n < MIN_ROUNDS even [min, max] covers less (1 - 2/2^n: 93.75% at
# n = 5, 75% at n = 3), so no 95% interval exists and no verdict is given.

CI_LEVEL = 0.95
MIN_ROUNDS = 6      # smallest n with 1 - 2/2^n >= CI_LEVEL


def order_stat_coverage(n, k):
    """Exact probability that [x_(k), x_(n+1-k)] of n continuous draws covers their median."""
    if n < 1 or k < 1 or 2 * k > n + 1:
        return 0.0
    return sum(math.comb(n, i) for i in range(k, n - k + 1)) / 2 ** n


def order_stat_k(n, level=CI_LEVEL):
    """Largest k with order_stat_coverage(n, k) >= level; None when not even k = 1 reaches it."""
    best = None
    for k in range(1, n // 2 + 1):
        if order_stat_coverage(n, k) < level:
            break
        best = k
    return best


def median_interval(values, level=CI_LEVEL):
    """(median, lo, hi, coverage) of values: the order-statistic interval for the median
    with the largest k reaching level, else [min, max] with the (lower) coverage it has."""
    xs = sorted(values)
    n = len(xs)
    k = order_stat_k(n, level) or 1
    return statistics.median(xs), xs[k - 1], xs[n - k], order_stat_coverage(n, k)



def judge(ratios, higher_is_better):
    """Verdict on a vs b from the paired ratios a/b: median, interval, coverage, verdict.

    faster: a is better than b by the metric's direction (higher throughput, or lower CPU
    per byte or round trip), i.e. the interval lies wholly above 1 (higher is better) or
    wholly below 1 (lower is better); slower: wholly on the other side; otherwise, or with
    too few rounds for a CI_LEVEL interval, unresolved with the reason."""
    n = len(ratios)
    med, lo, hi, cov = median_interval(ratios)
    reason = ""
    if cov < CI_LEVEL:
        verdict = "unresolved"
        reason = (f"too few rounds ({n}; a {CI_LEVEL:.0%} interval needs {MIN_ROUNDS}, "
                  f"[min, max] covers {cov:.1%})")
    elif lo > 1 or hi < 1:
        verdict = "faster" if (lo > 1) == higher_is_better else "slower"
    else:
        verdict, reason = "unresolved", "the interval includes 1"
    return {"ratio": med, "ci_low": lo, "ci_high": hi, "n": n, "coverage": cov,
            "verdict": verdict, "reason": reason}


# ---- Rounds where the question needs them (run_experiments.sh --budget/--precision) ----
#
# After the first pass the driver asks which points are still open: a point (mode, size,
# threads, engine, rx) is open while the interval of any of its paired ratios (each other
# strategy / the baseline, one ratio per round in which both ran) is wider than +-P, i.e.
# its half-width in log terms exceeds log(1 + P): sqrt(hi / lo) > 1 + P. A point with too
# few paired rounds for a CI_LEVEL interval is open with an infinite width. This is a rule
# on the interval's width only, never on its verdict: stopping when a result turns
# significant would inflate false verdicts; stopping on precision does not.


def interval_width(ratios, level=CI_LEVEL):
    """Half-width of the median_interval of ratios, as a fraction: sqrt(hi / lo) - 1 (0.05
    = the interval spans +-5% around its geometric centre); inf when the ratios cannot give
    a level interval (too few rounds) or the interval reaches 0."""
    if not ratios:
        return math.inf
    _, lo, hi, cov = median_interval(ratios, level)
    if cov < level or lo <= 0:
        return math.inf
    return math.sqrt(hi / lo) - 1


def open_points(rows, precision, baseline="a1", level=CI_LEVEL):
    """The points still wider than +-precision, widest first.

    rows: (point, round, strategy, value) tuples, value > 0 (one per run; a repeated
    (point, round, strategy) keeps the first). Per point the baseline is `baseline` when it
    ran there, else the first strategy by name; every other strategy is paired with it by
    round. Returns [(point, width, rounds)]: width = the widest of the point's comparisons
    (interval_width), rounds = the fewest paired rounds among them. A point with a single
    strategy has nothing to compare and is never open."""
    values = {}
    for point, rnd, strategy, value in rows:
        if value > 0:
            values.setdefault(point, {}).setdefault(strategy, {}).setdefault(rnd, value)
    out = []
    for point, by_strategy in values.items():
        base = baseline if baseline in by_strategy else min(by_strategy)
        widths, counts = [], []
        for strategy, by_round in by_strategy.items():
            if strategy == base:
                continue
            b = by_strategy[base]
            ratios = [by_round[r] / b[r] for r in by_round if r in b]
            widths.append(interval_width(ratios, level))
            counts.append(len(ratios))
        if widths and max(widths) > precision:
            out.append((point, max(widths), min(counts)))
    out.sort(key=lambda p: (-p[1], str(p[0])))
    return out


def main(argv=None):
    """`cbstats.py open --precision P [--baseline S]`: reads TSV on stdin (point, round,
    strategy, value; one run a line) and prints the open points widest first, one a line:
    point, width (fraction, or inf), paired rounds. Exit 0; 2 on bad input."""
    import argparse
    import sys
    parser = argparse.ArgumentParser(prog="cbstats.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    op = sub.add_parser("open", help="points whose paired-ratio interval is wider than +-P")
    op.add_argument("--precision", type=float, required=True, help="P, a fraction (0.05 = +-5%%)")
    op.add_argument("--baseline", default="a1", help="the strategy the others are paired with")
    args = parser.parse_args(argv)
    if not args.precision > 0:
        parser.error("--precision must be > 0")
    rows = []
    for n, line in enumerate(sys.stdin, 1):
        line = line.rstrip("\n")
        if not line:
            continue
        f = line.split("\t")
        try:
            if len(f) != 4:
                raise ValueError(f"{len(f)} fields, want 4")
            rows.append((f[0], f[1], f[2], float(f[3])))
        except ValueError as e:
            print(f"cbstats.py: stdin line {n}: {e}", file=sys.stderr)
            return 2
    for point, width, rounds in open_points(rows, args.precision, args.baseline):
        print(f"{point}\t{'inf' if math.isinf(width) else f'{width:.4f}'}\t{rounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
