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
    """Per-arm sample size, mean and (unbiased) variance of the per-user metric.

    After CUPED, `mean` and `var` are the regression-adjusted figures and `unadjusted_mean`
    keeps the plain mean (a relative lift is over the plain control mean, as in gbstats).
    """

    n: np.ndarray
    mean: np.ndarray
    var: np.ndarray
    unadjusted_mean: np.ndarray | None = None

    def __post_init__(self):
        if self.unadjusted_mean is None:
            object.__setattr__(self, "unadjusted_mean", self.mean)


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
        extra = f" (and {more} more row{'s' * (more > 1)} with the same problem)" if more else ""
        raise StatsError(f"{labels[i]}: {what}{extra}")


def _per_user(total: np.ndarray, n: np.ndarray) -> np.ndarray:
    """total / n, NaN for an arm with no users (it has no mean)."""
    return np.divide(total, n, out=np.full_like(total, np.nan), where=n > 0)


def proportion_moments(users, conversions, labels: Sequence[str] | None = None) -> Moments:
    """Conversion rate p and variance p(1-p), as gbstats' ProportionStatistic. An arm of
    fewer than 2 users is kept: its comparisons fail alone (compare.effect says why)."""
    n, x = _arr(users), _arr(conversions)
    names = _labels(labels, n.size)
    _fail(~np.isfinite(n) | ~np.isfinite(x), names, "users and conversions must be numbers")
    _fail(n < 0, names, "users cannot be negative")
    _fail(x < 0, names, "conversions cannot be negative")
    _fail(x > n, names, "conversions are more than users; check the columns")
    p = _per_user(x, n)
    return Moments(n, p, np.nan_to_num(p * (1 - p)))


def mean_moments(users, total, sum_squares, labels: Sequence[str] | None = None) -> Moments:
    """Mean and unbiased variance from (n, sum, sum of squares); 0 for an arm of fewer than
    2 users, whose comparisons fail alone."""
    n, s, ss = _arr(users), _arr(total), _arr(sum_squares)
    names = _labels(labels, n.size)
    _fail(~np.isfinite(n) | ~np.isfinite(s) | ~np.isfinite(ss), names,
          "users, sum and sum_squares must be numbers")
    _fail(n < 0, names, "users cannot be negative")
    _fail(ss < 0, names, "sum_squares cannot be negative")
    mean = _per_user(s, n)
    k = np.maximum(n - 1, 1)
    var = np.where(n > 1, (ss - s * np.nan_to_num(mean)) / k, 0.0)
    scale = np.maximum(ss / k, 1.0)
    _fail(var < -1e-9 * scale, names,
          "negative variance: sum_squares is smaller than sum^2 / users; check the columns")
    return Moments(n, mean, np.maximum(var, 0.0))


def cuped_adjust(control: Moments, treatment: Moments, pre: dict[str, np.ndarray],
                 labels: Sequence[Sequence[str]] | None = None) -> tuple[Moments, Moments]:
    """CUPED as gbstats' regression adjustment: one theta pooled over both arms.

    `pre` holds, per arm ('c' and 't'), arrays sum_squares, pre_sum, pre_sum_squares and
    sum_product; `labels` names each pair's control and treatment rows for error messages.
    theta = covariance(post, pre) / variance(pre) over both arms' users taken together
    (0 when either is constant), each arm's mean becomes mean - theta * pre mean and its
    variance var + theta^2 var(pre) - 2 theta cov(post, pre).
    """
    names = labels or [_labels(None, control.n.size)] * 2
    arms = []
    for arm, m, arm_names in (("c", control, names[0]), ("t", treatment, names[1])):
        x_sum, x_ss, xy = pre[f"{arm}_pre_sum"], pre[f"{arm}_pre_sum_squares"], pre[
            f"{arm}_sum_product"]
        arms.append(_pre_period(m, x_sum, x_ss, xy, arm_names))
    (c_x, c_vx, c_cov), (t_x, t_vx, t_cov) = arms
    theta = _pooled_theta(control, treatment, pre)
    adjusted = []
    for m, x_sum, var_x, cov in ((control, c_x, c_vx, c_cov), (treatment, t_x, t_vx, t_cov)):
        var = np.maximum(m.var + theta**2 * var_x - 2 * theta * cov, 0.0)
        adjusted.append(Moments(m.n, m.mean - theta * _per_user(x_sum, m.n), var, m.mean))
    return adjusted[0], adjusted[1]


def _pre_period(m: Moments, x_sum, x_ss, xy, names) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(pre_sum, pre-period variance, covariance with the metric) of one arm, checked."""
    n = m.n
    k = np.maximum(n - 1, 1)  # an arm of fewer than 2 users fails its comparison anyway
    var_x = (x_ss - x_sum * _per_user(x_sum, n)) / k
    tolerance = 1e-9 * np.maximum(x_ss / k, 1.0)
    _fail(var_x < -tolerance, names,
          "pre_sum_squares is smaller than pre_sum^2 / users, which no data can give; "
          "check the CUPED columns")
    var_x = np.maximum(var_x, 0.0)
    cov = (xy - x_sum * m.mean) / k
    rounding = 1e-9 * (np.abs(xy) + np.abs(x_sum * m.mean)) / k
    _fail(np.abs(cov) > np.sqrt(var_x * m.var) * (1 + 1e-9) + rounding, names,
          "sum_product is inconsistent with the other columns (it implies a correlation "
          "between the metric and its pre-period beyond -1..1); check the CUPED columns")
    return x_sum, var_x, cov


def _pooled_theta(control: Moments, treatment: Moments, pre: dict[str, np.ndarray]):
    n = control.n + treatment.n
    y_sum = np.nan_to_num(control.mean * control.n + treatment.mean * treatment.n)
    y_ss = pre["c_sum_squares"] + pre["t_sum_squares"]
    x_sum = pre["c_pre_sum"] + pre["t_pre_sum"]
    x_ss = pre["c_pre_sum_squares"] + pre["t_pre_sum_squares"]
    xy = pre["c_sum_product"] + pre["t_sum_product"]
    n, k = np.maximum(n, 1), np.maximum(n - 1, 1)
    var_x = (x_ss - x_sum**2 / n) / k
    var_y = (y_ss - y_sum**2 / n) / k
    cov = (xy - x_sum * y_sum / n) / k
    usable = (var_x > 0) & (var_y > 0)
    return np.divide(cov, var_x, out=np.zeros_like(cov), where=usable)
