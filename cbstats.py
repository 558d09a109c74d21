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
