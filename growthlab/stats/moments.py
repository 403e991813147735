"""Sufficient statistics -> per-arm mean and variance, with checks that name the culprit.

Everything here takes numpy arrays (one entry per metric x variant) and is vectorised.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from growthlab.errors import StatsError


@dataclass(frozen=True)
class Moments:
    """Per-arm sample size, mean and (unbiased) variance of the per-user metric."""

    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray


def _arr(x) -> np.ndarray:
    return np.atleast_1d(np.asarray(x, dtype=float))


def _labels(labels: Sequence[str] | None, size: int) -> Sequence[str]:
    if labels is None:
        return [f"row {i + 1}" for i in range(size)]
    return labels


def _fail(mask: np.ndarray, labels: Sequence[str], what: str) -> None:
    if mask.any():
        i = int(np.flatnonzero(mask)[0])
        more = int(mask.sum()) - 1
        extra = f" (and {more} more)" if more else ""
        raise StatsError(f"{labels[i]}: {what}{extra}")


def proportion_moments(users, conversions, labels: Sequence[str] | None = None) -> Moments:
    """Conversion rate p and variance p(1-p), as gbstats' ProportionStatistic."""
    n, x = _arr(users), _arr(conversions)
    names = _labels(labels, n.size)
    _fail(~np.isfinite(n) | ~np.isfinite(x), names, "users and conversions must be numbers")
    _fail(n < 2, names, "needs at least 2 users to estimate a variance")
    _fail(x < 0, names, "conversions cannot be negative")
    _fail(x > n, names, "conversions are more than users; check the columns")
    p = x / n
    return Moments(n, p, p * (1 - p))


def mean_moments(users, total, sum_squares, labels: Sequence[str] | None = None) -> Moments:
    """Mean and unbiased variance from (n, sum, sum of squares)."""
    n, s, ss = _arr(users), _arr(total), _arr(sum_squares)
    names = _labels(labels, n.size)
    _fail(~np.isfinite(n) | ~np.isfinite(s) | ~np.isfinite(ss), names,
          "users, sum and sum_squares must be numbers")
    _fail(n < 2, names, "needs at least 2 users to estimate a variance")
    _fail(ss < 0, names, "sum_squares cannot be negative")
    var = (ss - s * s / n) / (n - 1)
    scale = np.maximum(ss / (n - 1), 1.0)
    _fail(var < -1e-9 * scale, names,
          "negative variance: sum_squares is smaller than sum^2 / users; check the columns")
    return Moments(n, s / n, np.maximum(var, 0.0))


def cuped_adjust(control: Moments, treatment: Moments, pre: dict[str, np.ndarray],
                 labels: Sequence[str] | None = None) -> tuple[Moments, Moments]:
    """CUPED: remove the part of each arm's variance explained by the pre-period metric.

    `pre` holds, per arm ('c' and 't'), arrays pre_sum, pre_sum_squares, sum_product, sum.
    theta is pooled over both arms (minimises the variance of the difference).
    """
    names = _labels(labels, control.n.size)
    arms = []
    for arm, m in (("c", control), ("t", treatment)):
        n = m.n
        x_sum, x_ss = pre[f"{arm}_pre_sum"], pre[f"{arm}_pre_sum_squares"]
        xy = pre[f"{arm}_sum_product"]
        y_sum = m.mean * n
        var_x = (x_ss - x_sum * x_sum / n) / (n - 1)
        _fail(var_x < -1e-9 * np.maximum(x_ss / (n - 1), 1.0), names,
              "negative pre-period variance: check pre_sum_squares")
        cov = (xy - x_sum * y_sum / n) / (n - 1)
        arms.append((n, x_sum / n, np.maximum(var_x, 0.0), cov))
    (nc, mxc, vxc, covc), (nt, mxt, vxt, covt) = arms
    denom = vxc / nc + vxt / nt
    theta = np.divide(covc / nc + covt / nt, denom, out=np.zeros_like(denom), where=denom > 0)
    pooled_x = (mxc * nc + mxt * nt) / (nc + nt)
    adjusted = []
    for m, mx, vx, cov in ((control, mxc, vxc, covc), (treatment, mxt, vxt, covt)):
        var = np.maximum(m.var + theta**2 * vx - 2 * theta * cov, 0.0)
        adjusted.append(Moments(m.n, m.mean - theta * (mx - pooled_x), var))
    return adjusted[0], adjusted[1]
