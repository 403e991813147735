"""Vectorised engine vs a per-row scipy loop over 100,000 metric-variant comparisons.

Run: python benchmarks/stats.py [N]. Prints both timings, the speed ratio and the largest
difference between the two sets of numbers (must be below 1e-9).
"""

import math
import sys
import time

import numpy as np
from scipy import stats as sps

from growthlab.stats import MetricRow, Options, analyze
from growthlab.stats.compare import effect, frequentist
from growthlab.stats.moments import proportion_moments


def per_row(nc, xc, nt, xt, alpha=0.05):
    """The straightforward way: one comparison at a time with scipy."""
    out = []
    for a, b, c, d in zip(nc, xc, nt, xt, strict=True):
        pc, pt = b / a, d / c
        vc, vt = pc * (1 - pc), pt * (1 - pt)
        est = pt / pc - 1
        var = vt / (pc**2 * c) + vc * pt**2 / (pc**4 * a)
        dof = (vc / a + vt / c) ** 2 / ((vc / a) ** 2 / (a - 1) + (vt / c) ** 2 / (c - 1))
        se = math.sqrt(var)
        half = sps.t.ppf(1 - alpha / 2, dof) * se
        out.append((est, est - half, est + half, 2 * sps.t.sf(abs(est / se), dof)))
    return np.array(out)


def main(n: int = 100_000) -> None:
    rng = np.random.default_rng(1)
    nc = rng.integers(1_000, 50_000, n).astype(float)
    nt = rng.integers(1_000, 50_000, n).astype(float)
    xc = rng.binomial(nc.astype(int), 0.1).astype(float)
    xt = rng.binomial(nt.astype(int), 0.105).astype(float)

    start = time.perf_counter()
    test = frequentist(effect(proportion_moments(nc, xc), proportion_moments(nt, xt)))
    engine = time.perf_counter() - start

    rows = [r for i in range(n) for r in (
        MetricRow(f"m{i}", "control", nc[i], xc[i]), MetricRow(f"m{i}", "treatment", nt[i],
                                                                xt[i]))]
    start = time.perf_counter()
    analyze(rows, Options())
    full = time.perf_counter() - start

    start = time.perf_counter()
    baseline = per_row(nc, xc, nt, xt)
    loop = time.perf_counter() - start

    ours = np.column_stack([test.estimate, test.ci_low, test.ci_high, test.p_value])
    diff = float(np.max(np.abs(ours - baseline)))
    print(f"{n:,} comparisons")
    print(f"  vectorised engine      {engine:8.3f} s")
    print(f"  analyze() from rows    {full:8.3f} s  (grouping, labels, SRM per metric set)")
    print(f"  per-row scipy loop     {loop:8.3f} s")
    print(f"  speed-up engine vs loop: {loop / engine:,.0f}x; analyze() vs loop: "
          f"{loop / full:,.1f}x")
    print(f"  largest difference: {diff:.2e} ({'identical' if diff < 1e-9 else 'MISMATCH'})")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
