"""Sample size, minimum detectable effect and duration for a proportion metric, sized for
the Welch test the analysis runs (normal approximation)."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass

from growthlab.errors import StatsError


@dataclass(frozen=True)
class PowerPlan:
    users_per_variant: int
    total_users: int
    baseline: float
    target: float
    mde: float
    relative: bool
    alpha: float
    comparison_alpha: float
    power: float
    variants: int
    days: float | None = None
    users_per_arm: tuple[int, ...] | None = None  # with planned shares: the control's first

    def as_dict(self) -> dict:
        found = asdict(self)
        if self.users_per_arm is None:
            del found["users_per_arm"]
        return found


def _check(baseline: float, alpha: float, power: float, variants: int) -> None:
    if not 0 < baseline < 1:
        raise StatsError(f"baseline must be a conversion rate between 0 and 1, not {baseline}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, not {alpha}")
    if not 0 < power < 1:
        raise StatsError(f"power must be between 0 and 1, not {power}")
    if variants < 2:
        raise StatsError(f"an experiment needs at least 2 variants, not {variants}")


def _target(baseline: float, mde: float, relative: bool) -> float:
    target = baseline * (1 + mde) if relative else baseline + mde
    if mde == 0:
        raise StatsError("the minimum detectable effect cannot be 0")
    if not 0 < target < 1:
        raise StatsError(f"baseline {baseline} with MDE {mde} gives a rate of {target:.4g}, "
                         "outside 0-1; use a smaller MDE")
    if target == baseline:
        raise StatsError(f"MDE {mde} is too small to tell apart from the baseline {baseline}; "
                         "use a larger MDE")
    return target


def _shares(shares: Sequence[float] | None, variants: int) -> list[float] | None:
    """Planned traffic shares (the control's first), scaled to add up to 1."""
    if shares is None:
        return None
    if len(shares) != variants or not all(math.isfinite(s) and s > 0 for s in shares):
        raise StatsError(f"give one positive planned share per variant ({variants}), control "
                         f"first, not {list(shares)}")
    total = sum(shares)
    return [s / total for s in shares]


def _arms(shares: list[float] | None) -> list[tuple[float, float]]:
    """Each comparison's inverse shares (treatment, control): how many users of the sample
    one user of that arm stands for; (1, 1) when sizing per arm of an even split."""
    if shares is None:
        return [(1.0, 1.0)]
    return [(1 / s, 1 / shares[0]) for s in shares[1:]]


def _statistic(baseline: float, target: float, relative: bool, treated_weight: float = 1.0,
               control_weight: float = 1.0) -> tuple[float, float]:
    """Mean (per square root of a user of the sample) and standard deviation of the test
    statistic the analysis computes, to first order in the two observed rates. An arm with
    weight w holds 1/w of the sample (weights 1: the sample is one arm's users).

    The statistic is the difference of rates over its estimated standard error: for the
    relative lift the delta-method one of `stats.compare.effect`, which scales the control's
    variance by (target / baseline)^2. That error moves with the observed rates, so under a
    real lift the statistic spreads less than a standard normal; sizing as if it did not
    would over-power large lifts."""
    difference = target - baseline
    control = baseline * (1 - baseline) * control_weight
    treated = target * (1 - target) * treated_weight
    if relative:
        ratio = target / baseline
        q = treated + ratio**2 * control
        dq_target = treated_weight * (1 - 2 * target) + control_weight * 2 * (ratio - target)
        dq_baseline = -control_weight * ratio**2
    else:
        q = treated + control
        dq_target = treated_weight * (1 - 2 * target)
        dq_baseline = control_weight * (1 - 2 * baseline)
    d_target = (1 - difference * dq_target / (2 * q)) / math.sqrt(q)
    d_baseline = (-1 - difference * dq_baseline / (2 * q)) / math.sqrt(q)
    spread = math.sqrt(d_target**2 * treated + d_baseline**2 * control)
    return difference / math.sqrt(q), spread


def _quantiles(comparison_alpha: float, power: float) -> tuple[float, float]:
    from growthlab.stats.tails import ndtri

    return ndtri(1 - comparison_alpha / 2), ndtri(power)


def plan(baseline: float, mde: float, *, relative: bool = False, alpha: float = 0.05,
         power: float = 0.8, variants: int = 2, daily_users: float | None = None,
         shares: Sequence[float] | None = None) -> PowerPlan:
    """Users per variant for the two-sided test the analysis runs: on the relative lift when
    `relative` (the MDE is then relative too), else on the absolute difference; alpha is
    split over the treatment arms (Bonferroni). With the design's planned `shares` (the
    control's first), every comparison gets its power with each arm holding its share of
    the users: `users_per_arm` says how many, `users_per_variant` is the largest arm."""
    variants = len(shares) if shares is not None else variants
    _check(baseline, alpha, power, variants)
    split = _shares(shares, variants)
    target = _target(baseline, mde, relative)
    comparison_alpha = alpha / (variants - 1)
    z_alpha, z_power = _quantiles(comparison_alpha, power)
    if math.isinf(z_alpha):
        raise StatsError(f"alpha {alpha} is too small to plan for: no sample would reach it; "
                         "use one such as 0.05")
    n = 0.0
    for weights in _arms(split):
        mean, spread = _statistic(baseline, target, relative, *weights)
        n = max(n, ((z_alpha + z_power * spread) / abs(mean)) ** 2)
    if daily_users is not None and daily_users <= 0:
        raise StatsError(f"daily users must be positive, not {daily_users}")
    arms = tuple(math.ceil(s * n) for s in split) if split else (math.ceil(n),) * variants
    total = sum(arms)
    days = total / daily_users if daily_users else None
    return PowerPlan(max(arms), total, baseline, target, mde, relative, alpha,
                     comparison_alpha, power, variants, days, arms if split else None)


def detectable_effect(baseline: float, users: int, *, alpha: float = 0.05,
                      power: float = 0.8, variants: int = 2, relative: bool = False,
                      shares: Sequence[float] | None = None) -> float:
    """The smallest upward effect the same test detects with this many users per variant,
    or with planned `shares` (the control's first) this many users in the experiment."""
    variants = len(shares) if shares is not None else variants
    _check(baseline, alpha, power, variants)
    split = _shares(shares, variants)
    smallest = min(split) * users if split else users
    if smallest < 2:
        raise StatsError(f"too few users: {users:,} leave an arm fewer than 2")
    z_alpha, z_power = _quantiles(alpha / (variants - 1), power)

    def shortfall(target: float) -> float:
        return min(mean * math.sqrt(users) - z_alpha - z_power * spread
                   for mean, spread in (_statistic(baseline, target, relative, *weights)
                                        for weights in _arms(split)))

    highest = 1 - 1e-12
    if shortfall(highest) < 0:
        raise StatsError("too few users: no effect within 0-100% would be detectable")
    target = _root(shortfall, baseline, highest)
    return target / baseline - 1 if relative else target - baseline


def _root(func, low: float, high: float) -> float:
    """Where `func` (negative at `low`, not at `high`) crosses 0, by bisection to the last
    representable number: at most a few hundred cheap steps, and no scipy.optimize to import
    on the page that plans."""
    while (middle := (low + high) / 2) not in (low, high):
        low, high = (middle, high) if func(middle) < 0 else (low, middle)
    return high
