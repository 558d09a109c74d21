#!/usr/bin/env python3
"""cbstats — copybench's statistics: pure functions of numbers, standard library only.

The distribution-free interval for a median, the exact sign test behind it, the three-way
verdict on a paired ratio (faster / slower / the same within ±P / cannot tell), the
Benjamini–Hochberg correction per family of comparisons, the smallest difference a point
could have resolved, and how many verdicts chance alone would give. Used by
plot_results.py (the report and figures) and run_experiments.sh (which rounds to run
next). No I/O, no matplotlib: it runs under any python3.
"""

import bisect
import functools
import math
import random
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
#
# Ties: round-trip percentiles come from a bucketed histogram, so values repeat. For a
# distribution with atoms the closed interval covers the median with at least the stated
# probability (P(X < m) and P(X > m) are then at most 1/2), and a ratio exactly at 1 (or
# exactly on a ±P bound) counts against a verdict: ties make the answers conservative,
# never bolder.
#
# The sign test is the same interval read as a test: the CI_LEVEL interval excludes 1
# exactly when the two-sided sign-test p (ties counted against) is at most ALPHA. So a
# verdict per comparison carries its exact p; a family of comparisons is then corrected
# with Benjamini–Hochberg (false-discovery rate ALPHA), and only what passes is resolved.

CI_LEVEL = 0.95
ALPHA = 1 - CI_LEVEL    # two-sided test level per comparison, and the family's FDR
MIN_ROUNDS = 6          # smallest n with 1 - 2/2^n >= CI_LEVEL
DEFAULT_PRECISION = 0.05    # ±P of "the same within ±P" when the run does not say
POWER = 0.8             # the smallest detectable difference is the one seen this often


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


# ---- the sign test ----------------------------------------------------------------------

def binom_half_cdf(n, j):
    """P(B <= j) for B ~ Binomial(n, 1/2); 0 for j < 0."""
    if j < 0:
        return 0.0
    return sum(math.comb(n, i) for i in range(min(j, n) + 1)) / 2 ** n


def sign_counts(values, center=1.0):
    """(below, above, ties) of values against center."""
    below = sum(1 for v in values if v < center)
    above = sum(1 for v in values if v > center)
    return below, above, len(values) - below - above


def sign_test_p(values, center=1.0):
    """Exact two-sided sign-test p for 'the median is center', ties counted against
    (given to the minority side): min(1, 2 P(B <= min(below, above) + ties)). p <= ALPHA
    exactly when the CI_LEVEL order-statistic interval excludes center."""
    if not values:
        return 1.0
    below, above, ties = sign_counts(values, center)
    return min(1.0, 2 * binom_half_cdf(len(values), min(below, above) + ties))


def band(precision):
    """(low, high) bounds of 'the same within ±precision' for a ratio: [1/(1+P), 1+P]."""
    return 1 / (1 + precision), 1 + precision


def equivalence_p(values, precision):
    """p of 'the same within ±precision': both one-sided sign tests (median above
    1/(1+P), median below 1+P; a value on a bound counts against), the larger p doubled.
    p <= ALPHA exactly when the CI_LEVEL interval lies strictly inside the band."""
    if not values:
        return 1.0
    low, high = band(precision)
    n = len(values)
    at_or_below = sum(1 for v in values if v <= low)
    at_or_above = sum(1 for v in values if v >= high)
    return min(1.0, 2 * binom_half_cdf(n, max(at_or_below, at_or_above)))


def critical_count(n, alpha):
    """Largest c with 2 P(B <= c) <= alpha (a sign test of n rounds is significant when at
    most c rounds fall on the minority side); -1 when no outcome of n rounds reaches alpha."""
    c = -1
    while c + 1 <= n and 2 * binom_half_cdf(n, c + 1) <= alpha:
        c += 1
    return c


def chance_verdict_probability(n, alpha=ALPHA):
    """Probability that one comparison of n rounds gives a verdict where nothing differs
    (continuous values): 2 P(B <= c) — 2/2^6 = 3.1% at n = 6, not alpha; 0 below MIN_ROUNDS."""
    c = critical_count(n, alpha)
    return 2 * binom_half_cdf(n, c) if c >= 0 else 0.0


def log_sd(ratios):
    """Sample standard deviation of log(ratio) (the rounds' spread); None below 2 values."""
    if len(ratios) < 2:
        return None
    return statistics.stdev(math.log(r) for r in ratios)


def smallest_detectable(n, sd_log, alpha=ALPHA, power=POWER):
    """Smallest true difference (a fraction: 0.04 = 4%) that a sign test of n rounds at
    level alpha would resolve with probability power, if the rounds' log ratios were
    normal with standard deviation sd_log. math.inf when no outcome of n rounds reaches
    alpha; None when the spread is unknown (n < 2). A planning figure: the normal model is
    used only here, never for a verdict."""
    c = critical_count(n, alpha)
    if c < 0:
        return math.inf
    if sd_log is None:
        return None
    if sd_log == 0:
        return 0.0

    def detect(pi):     # P(at most c of n rounds on the minority side), pi = P(majority)
        return sum(math.comb(n, j) * (1 - pi) ** j * pi ** (n - j) for j in range(c + 1))
    lo, hi = 0.5, 1.0
    for _ in range(60):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if detect(mid) >= power else (mid, hi)
    return math.expm1(sd_log * statistics.NormalDist().inv_cdf(hi))


# ---- one comparison ----------------------------------------------------------------------

def interval_verdict(lo, hi, coverage, higher_is_better, precision, too_few):
    """(verdict, reason) of a ratio's interval [lo, hi] with its coverage, before any
    correction: faster/slower where it lies wholly above or below 1 (by the metric's
    direction), same where it lies strictly inside [1/(1+P), 1+P], else cannot tell;
    too_few is the reason when the coverage is below CI_LEVEL."""
    if coverage < CI_LEVEL:
        return "cannot tell", too_few
    if lo > 1 or hi < 1:
        return ("faster" if (lo > 1) == higher_is_better else "slower"), ""
    if precision and band(precision)[0] < lo and hi < band(precision)[1]:
        return "same", ""
    return "cannot tell", "the interval includes 1" + (
        f" and reaches beyond ±{precision:.0%}" if precision else "")


def judge(ratios, higher_is_better, precision=None):
    """Verdict on a vs b from the paired ratios a/b, before any correction for the family.

    faster: a is better than b by the metric's direction (higher throughput, or lower CPU
    per byte or round trip), i.e. the interval lies wholly above 1 (higher is better) or
    wholly below 1 (lower is better); slower: wholly on the other side; same: with a
    precision P, the interval lies strictly inside [1/(1+P), 1+P]; otherwise, or with too
    few rounds for a CI_LEVEL interval, cannot tell, with the reason. Also returned: the
    exact sign-test p (p_same for 'the same within ±P'), the rounds on each side of 1
    and the rounds' spread (sd_log)."""
    n = len(ratios)
    med, lo, hi, cov = median_interval(ratios)
    below, above, ties = sign_counts(ratios)
    verdict, reason = interval_verdict(
        lo, hi, cov, higher_is_better, precision,
        f"too few rounds ({n}; a {CI_LEVEL:.0%} interval needs {MIN_ROUNDS}, "
        f"[min, max] covers {cov:.1%})")
    return {"ratio": med, "ci_low": lo, "ci_high": hi, "n": n, "coverage": cov,
            "verdict": verdict, "reason": reason, "p": sign_test_p(ratios),
            "p_same": equivalence_p(ratios, precision) if precision else None,
            "precision": precision, "below": below, "above": above, "ties": ties,
            "sd_log": log_sd(ratios)}


# ---- a family of comparisons ---------------------------------------------------------------

def bh_adjust(ps):
    """Benjamini–Hochberg adjusted p-values (q), in the order of ps: q_(i) =
    min over j >= i of m p_(j) / j, at most 1. Rejecting where q <= alpha is the step-up
    procedure: the largest k with p_(k) <= k alpha / m, and every p at or below it."""
    m = len(ps)
    order = sorted(range(m), key=lambda i: ps[i])
    q = [1.0] * m
    running = 1.0
    for rank in range(m, 0, -1):
        i = order[rank - 1]
        running = min(running, ps[i] * m / rank)
        q[i] = min(1.0, running)
    return q


def correct_family(comps, alpha=ALPHA, detectable=None):
    """Apply Benjamini–Hochberg to one family of judge() results (in place; returns them).

    Each gets q (for 'differs') and q_same (for 'the same within ±P', corrected separately:
    a different question), the verdict before the correction as verdict_uncorrected, and the
    final verdict: faster/slower only where q <= alpha, same only where q_same <= alpha,
    else cannot tell with the reason. mdd: the smallest difference the point would have
    resolved with POWER chance, at the threshold the correction left for one more verdict in
    this family, alpha (R + 1) / m, R = the family's resolved differences (math.inf, with
    mdd_possible False, when no outcome of the point's rounds could pass it). detectable(c,
    level): that figure for one comparison at a level (default: the paired sign test's,
    smallest_detectable of c's n and sd_log; unpaired sets use unpaired_detectable)."""
    m = len(comps)
    if not m:
        return comps
    qs = bh_adjust([c["p"] for c in comps])
    ps_same = [c["p_same"] for c in comps]
    qs_same = bh_adjust(ps_same) if all(p is not None for p in ps_same) else [None] * m
    for c, q, q_same in zip(comps, qs, qs_same):
        c["q"], c["q_same"] = q, q_same
        c["verdict_uncorrected"] = c["verdict"]
        if c["verdict"] in ("faster", "slower") and q > alpha:
            c["verdict"] = "cannot tell"
            c["reason"] = (f"q = {q:.2f} after the correction for {m} comparisons "
                           f"(p = {c['p']:.3f})")
        elif c["verdict"] == "same" and (q_same is None or q_same > alpha):
            c["verdict"] = "cannot tell"
            c["reason"] = (f"inside ±{c['precision']:.0%}, but q = {q_same:.2f} after the "
                           f"correction for {m} comparisons")
    resolved = sum(1 for c in comps if c["verdict"] in ("faster", "slower"))
    threshold = alpha * (resolved + 1) / m
    if detectable is None:
        def detectable(c, level):
            return smallest_detectable(c["n"], c["sd_log"], level)
    for c in comps:
        c["family_size"] = m
        c["mdd"] = detectable(c, min(alpha, threshold))
        c["mdd_possible"] = c["mdd"] != math.inf
    return comps


def correct_families(comps, key, alpha=ALPHA):
    """correct_family on each group of comps sharing key(c); returns comps."""
    groups = {}
    for c in comps:
        groups.setdefault(key(c), []).append(c)
    for members in groups.values():
        correct_family(members, alpha)
    return comps


# ---- what chance alone would give ------------------------------------------------------------

def chance_uncorrected(ns, alpha=ALPHA):
    """(expected verdicts, probability of at least one) if nothing differed, for
    comparisons of ns rounds each judged alone (no correction)."""
    probs = [chance_verdict_probability(n, alpha) for n in ns]
    none = math.prod(1 - p for p in probs)
    return sum(probs), 1 - none


def null_p_distribution(n):
    """[(p, probability)] of the two-sided sign-test p of n continuous rounds where
    nothing differs: p = min(1, 2 P(B <= j)) with j = min(below, above)."""
    out = {}
    for j in range(n // 2 + 1):
        prob = (math.comb(n, j) * (2 if 2 * j != n else 1)) / 2 ** n
        p = min(1.0, 2 * binom_half_cdf(n, j))
        out[p] = out.get(p, 0.0) + prob
    return sorted(out.items())


def chance_corrected(ns, alpha=ALPHA, floor=1e-15):
    """(expected verdicts, probability of at least one) if nothing differed, for one
    family of comparisons of ns rounds each, after Benjamini–Hochberg at alpha.

    Exact up to floor: each comparison's p takes a few values (null_p_distribution); only
    which step-up threshold alpha r / m it passes matters, so the family's state is how many
    comparisons sit at each threshold level, summed over every combination (states less
    likely than floor are dropped)."""
    m = len(ns)
    if not m:
        return 0.0, 0.0
    options = []
    for n in ns:
        per_level = {}
        for p, prob in null_p_distribution(n):
            level = math.ceil(p * m / alpha - 1e-12) if p <= alpha else None
            per_level[level] = per_level.get(level, 0.0) + prob
        options.append(per_level)
    levels = sorted({lv for o in options for lv in o if lv is not None})
    index = {lv: i for i, lv in enumerate(levels)}
    states = {tuple([0] * len(levels)): 1.0}
    for per_level in options:
        nxt = {}
        for state, prob in states.items():
            for lv, q in per_level.items():
                pr = prob * q
                if pr < floor:
                    continue
                s = state
                if lv is not None:
                    s = list(state)
                    s[index[lv]] += 1
                    s = tuple(s)
                nxt[s] = nxt.get(s, 0.0) + pr
        states = nxt
    expected = anyone = 0.0
    for state, prob in states.items():
        rejected, below = 0, 0
        for lv, count in zip(levels, state):
            below += count
            if below >= lv:
                rejected = below
        expected += prob * rejected
        anyone += prob * (rejected > 0)
    return expected, anyone


def pairing_gain(xs, ys):
    """How much pairing by round helped, for paired positive values a (xs) and b (ys):
    (correlation of log a and log b across rounds, variance of log(a/b) over the
    unpaired variance var(log a) + var(log b)); None where undefined (fewer than 3
    rounds, or a side without spread)."""
    if len(xs) < 3:
        return None, None
    la, lb = [math.log(x) for x in xs], [math.log(y) for y in ys]
    va, vb = statistics.variance(la), statistics.variance(lb)
    if va == 0 or vb == 0:
        return None, None
    diff = statistics.variance([a - b for a, b in zip(la, lb)])
    return statistics.correlation(la, lb), diff / (va + vb)



# ---- two unpaired sets (plot_results.py --compare) ------------------------------------------
#
# Before and after a change (a kernel, a sysctl) the runs cannot be paired by round: they were
# made at different times. Each point then has m runs in BASE and n runs in NEW, and the
# question is by what factor NEW differs from BASE. On log values the factor is a shift, and
# the Hodges–Lehmann estimate of a shift is the median of the m n differences
# log(new_j) - log(base_i). Its distribution-free interval comes from the Mann–Whitney
# statistic U (the number of differences below the true shift): if the two sets differ only
# by that shift (same shape and spread on the log scale) and every run is independent, U has
# the same exact distribution as with no shift, so [D_(k), D_(mn+1-k)] of the sorted
# differences misses the shift with probability 2 P(U <= k - 1): exact, not asymptotic.
# With m = n = 3 even [min, max] covers only 90% (2/20 outside); 4 and 4 reach 97.1%.
# The interval read as a test is the exact two-sided Mann–Whitney test, ties counted
# against, exactly as the sign test above: p <= ALPHA exactly when the interval excludes 0.


def mann_whitney_counts(m, n):
    """Exact null distribution of the Mann–Whitney U of samples of m and n continuous
    values, as counts: entry u is the number of the C(m+n, m) orderings with U = u (the
    coefficients of the Gaussian binomial coefficient [m+n choose m] in q)."""
    size = m * n + 1
    c = [1] + [0] * (size - 1)
    for i in range(1, m + 1):       # times (1 - q^(n+i)) / (1 - q^i), exactly in integers
        for u in range(size - 1, n + i - 1, -1):
            c[u] -= c[u - n - i]
        for u in range(i, size):
            c[u] += c[u - i]
    return c


def mann_whitney_cdf(m, n, u):
    """P(U <= u) for the Mann–Whitney U of m and n continuous values with no shift;
    0 for u < 0."""
    if u < 0:
        return 0.0
    counts = mann_whitney_counts(m, n)
    return sum(counts[:min(u, m * n) + 1]) / math.comb(m + n, m)


def shift_coverage(m, n, k):
    """Exact probability that [D_(k), D_(mn+1-k)] of the m n sorted differences covers
    the shift: 1 - 2 P(U <= k - 1)."""
    if m < 1 or n < 1 or k < 1 or 2 * k > m * n + 1:
        return 0.0
    return 1 - 2 * mann_whitney_cdf(m, n, k - 1)


def shift_interval(xs, ys, level=CI_LEVEL):
    """(estimate, lo, hi, coverage) of the shift ys - xs: the Hodges–Lehmann estimate (the
    median of every y - x) and the Mann–Whitney interval [D_(k), D_(mn+1-k)] with the
    largest k whose coverage reaches level, else [min, max] with the coverage it has."""
    diffs = sorted(y - x for x in xs for y in ys)
    m, n = len(xs), len(ys)
    k = 1
    while shift_coverage(m, n, k + 1) >= level:
        k += 1
    return statistics.median(diffs), diffs[k - 1], diffs[m * n - k], shift_coverage(m, n, k)


def mann_whitney_p(xs, ys, center=0.0):
    """Exact two-sided Mann–Whitney p for 'the shift ys - xs is center', ties counted
    against: min(1, 2 P(U <= min(below, above) + ties)) over the m n differences. p <=
    ALPHA exactly when the CI_LEVEL shift_interval excludes center."""
    if not xs or not ys:
        return 1.0
    below, above, ties = sign_counts([y - x for x in xs for y in ys], center)
    return min(1.0, 2 * mann_whitney_cdf(len(xs), len(ys), min(below, above) + ties))


def mann_whitney_equivalence_p(xs, ys, low, high):
    """p of 'the shift ys - xs lies inside (low, high)': both one-sided Mann–Whitney tests
    (a difference on a bound counts against), the larger p doubled. p <= ALPHA exactly
    when the CI_LEVEL shift_interval lies strictly inside."""
    if not xs or not ys:
        return 1.0
    diffs = [y - x for x in xs for y in ys]
    outside = max(sum(1 for d in diffs if d <= low), sum(1 for d in diffs if d >= high))
    return min(1.0, 2 * mann_whitney_cdf(len(xs), len(ys), outside))


def mann_whitney_critical(m, n, alpha=ALPHA):
    """Largest c with 2 P(U <= c) <= alpha; -1 when no outcome of m and n runs reaches it."""
    counts, total = mann_whitney_counts(m, n), math.comb(m + n, m)
    c, below = -1, 0
    for u in range(m * n + 1):
        below += counts[u]
        if 2 * below / total > alpha:
            break
        c = u
    return c


def pooled_log_sd(xs, ys):
    """Pooled standard deviation of log values within the two sets (positive values); None
    without at least 2 values in one set and 3 in all."""
    parts = [[math.log(v) for v in s] for s in (xs, ys)]
    dof = sum(len(p) - 1 for p in parts if len(p) > 1)
    if dof < 1 or len(xs) + len(ys) < 3:
        return None
    ss = sum((len(p) - 1) * statistics.variance(p) for p in parts if len(p) > 1)
    return math.sqrt(ss / dof)


def unpaired_detectable(m, n, sd_log, alpha=ALPHA, power=POWER):
    """Smallest true factor (a fraction: 0.04 = 4%) that the Mann–Whitney test of m and n
    runs at level alpha would resolve with probability power, if log values were normal
    with standard deviation sd_log in both sets. math.inf when no outcome of m and n runs
    reaches alpha; None when the spread is unknown. A planning figure, never a verdict:
    the normal model is used only here (shift_power_sd)."""
    c = mann_whitney_critical(m, n, alpha)
    if c < 0:
        return math.inf
    if sd_log is None:
        return None
    return math.expm1(sd_log * shift_power_sd(m, n, c, power))


@functools.lru_cache(maxsize=None)
def shift_power_sd(m, n, c, power=POWER, trials=1000):
    """Smallest shift d, in standard deviations, at which at most c of the m n differences
    y - x fall below 0 (the Mann–Whitney test's rejection of no shift) with probability
    power, for x ~ N(0, 1) and y ~ N(d, 1): found by bisection over one fixed set of trials
    simulated with a seed of m and n (deterministic; the power is exact to about 1.5%)."""
    rnd = random.Random(f"mann-whitney {m} {n}")
    sets = [(sorted(rnd.gauss(0, 1) for _ in range(m)), [rnd.gauss(0, 1) for _ in range(n)])
            for _ in range(trials)]

    def detects(d):
        hits = sum(1 for xs, ys in sets
                   if sum(len(xs) - bisect.bisect_left(xs, y + d) for y in ys) <= c)
        return hits >= power * trials
    lo, hi = 0.0, 1.0
    while not detects(hi):
        lo, hi = hi, hi * 2
    for _ in range(30):
        mid = (lo + hi) / 2
        lo, hi = (lo, mid) if detects(mid) else (mid, hi)
    return hi


def judge_unpaired(base, new, higher_is_better, precision=None):
    """Verdict on NEW vs BASE from unpaired positive values of one point, before any
    correction; the same keys and answers as judge(), on the factor new/base: ratio = the
    Hodges–Lehmann estimate exp(median of log new - log base), [ci_low, ci_high] its
    Mann–Whitney interval, p and p_same the exact Mann–Whitney tests (ties against),
    below/above/ties the m n differences against 1, n_base/n_new the runs, n = the fewer of
    them, sd_log the pooled spread of log values. faster: NEW is better by the metric's
    direction (interval wholly above 1 for higher_is_better, below 1 otherwise)."""
    lb, ln = [math.log(v) for v in base], [math.log(v) for v in new]
    est, lo, hi, cov = shift_interval(lb, ln)
    ratio, ci_low, ci_high = math.exp(est), math.exp(lo), math.exp(hi)
    below, above, ties = sign_counts([y - x for x in lb for y in ln], 0.0)
    verdict, reason = interval_verdict(
        ci_low, ci_high, cov, higher_is_better, precision,
        f"too few runs ({len(base)} and {len(new)}; [min, max] of the differences "
        f"covers {cov:.1%}, a {CI_LEVEL:.0%} interval needs more)")
    p_same = None
    if precision:
        low, high = band(precision)
        p_same = mann_whitney_equivalence_p(lb, ln, math.log(low), math.log(high))
    return {"ratio": ratio, "ci_low": ci_low, "ci_high": ci_high,
            "n": min(len(base), len(new)), "n_base": len(base), "n_new": len(new),
            "coverage": cov, "verdict": verdict, "reason": reason,
            "p": mann_whitney_p(lb, ln), "p_same": p_same, "precision": precision,
            "below": below, "above": above, "ties": ties, "sd_log": pooled_log_sd(base, new)}


def judge_unpaired_detectable(c, level):
    """correct_family's detectable for judge_unpaired results (unpaired_detectable)."""
    return unpaired_detectable(c["n_base"], c["n_new"], c["sd_log"], level)


def geometric_mean(values):
    """exp(mean(log v)) of positive values; None for none."""
    return math.exp(statistics.fmean(math.log(v) for v in values)) if values else None


# ---- Rounds where the question needs them (run_experiments.sh --budget/--precision) ----
#
# After the first pass the driver asks which points are still open. A comparison is
# *decisive* at precision P when its interval is narrow enough that the three-way answer
# cannot stay open: hi / lo <= 1 + P. Such an interval either excludes 1 (a difference) or,
# containing 1, lies within [1/(1+P), 1+P] (the same within +-P); only a wider one can
# straddle both 1 and a bound of the band. So the target is a half-width (around the
# geometric centre) of sqrt(1 + P) - 1, about P/2: 2.5% for P = 5%. A point (mode, size,
# threads, engine, rx) is open while any comparison of two of its strategies (every pair,
# one ratio per round in which both ran) is wider than that; a comparison with too few
# paired rounds for a CI_LEVEL interval is open with an infinite width. This is a rule on
# the interval's width only, never on its verdict: stopping when a result turns significant
# would inflate false verdicts; stopping on precision does not. (After the Benjamini–
# Hochberg correction a decisive comparison can still be "cannot tell": the rule settles
# the per-comparison answer, the correction then decides which answers stand.)


def decisive_width(precision):
    """The half-width (as interval_width measures it) at or below which a comparison is
    decisive at +-precision: sqrt(1 + P) - 1 (0.0247 for 0.05)."""
    return math.sqrt(1 + precision) - 1


def interval_width(ratios, level=CI_LEVEL):
    """Half-width of the median_interval of ratios, as a fraction: sqrt(hi / lo) - 1 (0.05
    = the interval spans +-5% around its geometric centre); inf when the ratios cannot give
    a level interval (too few rounds) or the interval reaches 0."""
    if not ratios:
        return math.inf
    _, lo, hi, cov = median_interval(ratios, level)
    return bounds_width(lo, hi) if cov >= level else math.inf


def bounds_width(lo, hi):
    """interval_width of an interval given by its bounds: sqrt(hi / lo) - 1 (inf if lo <= 0)."""
    return math.sqrt(hi / lo) - 1 if lo > 0 else math.inf


def is_decisive(width, precision):
    """True when a comparison of that half-width (interval_width) is decisive at
    +-precision (hi / lo <= 1 + P; a tiny tolerance for rounding)."""
    return width <= decisive_width(precision) + 1e-12


def open_points(rows, precision, level=CI_LEVEL):
    """The points whose comparisons are not all decisive at +-precision, widest first.

    rows: (point, round, strategy, value) tuples, value > 0 (one per run; a repeated
    (point, round, strategy) keeps the first). Every pair of a point's strategies is a
    comparison, paired by round. Returns [(point, width, rounds)]: width = the widest of
    the point's comparisons (interval_width), rounds = the fewest paired rounds among
    them. A point with a single strategy has nothing to compare and is never open."""
    values = {}
    for point, rnd, strategy, value in rows:
        if value > 0:
            values.setdefault(point, {}).setdefault(strategy, {}).setdefault(rnd, value)
    out = []
    for point, by_strategy in values.items():
        names = sorted(by_strategy)
        widths, counts = [], []
        for i, a in enumerate(names):
            for b in names[i + 1:]:
                ra, rb = by_strategy[a], by_strategy[b]
                ratios = [ra[r] / rb[r] for r in ra if r in rb]
                widths.append(interval_width(ratios, level))
                counts.append(len(ratios))
        if widths and not is_decisive(max(widths), precision):
            out.append((point, max(widths), min(counts)))
    out.sort(key=lambda p: (-p[1], str(p[0])))
    return out


def main(argv=None):
    """`cbstats.py open --precision P`: reads TSV on stdin (point, round, strategy, value;
    one run a line) and prints the points not yet decisive at +-P, widest first, one a
    line: point, width (half-width as a fraction, or inf), paired rounds. Exit 0; 2 on bad
    input."""
    import argparse
    import sys
    parser = argparse.ArgumentParser(prog="cbstats.py", description=__doc__.split("\n")[0])
    sub = parser.add_subparsers(dest="command", required=True)
    op = sub.add_parser("open", help="points with a paired-ratio interval too wide to "
                        "decide at +-P (hi/lo > 1 + P)")
    op.add_argument("--precision", type=float, required=True, help="P, a fraction (0.05 = +-5%%)")
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
    for point, width, rounds in open_points(rows, args.precision):
        print(f"{point}\t{'inf' if math.isinf(width) else f'{width:.4f}'}\t{rounds}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
