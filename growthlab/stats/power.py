"""Sample size, minimum detectable effect and duration for a proportion metric, sized for
the Welch test the analysis runs (normal approximation)."""

from __future__ import annotations

import math
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

    def as_dict(self) -> dict:
        return asdict(self)


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


def _statistic(baseline: float, target: float, relative: bool) -> tuple[float, float]:
    """Mean (per square root of a user per arm) and standard deviation of the test statistic
    the analysis computes, to first order in the two observed rates.

    The statistic is the difference of rates over its estimated standard error: for the
    relative lift the delta-method one of `stats.compare.effect`, which scales the control's
    variance by (target / baseline)^2. That error moves with the observed rates, so under a
    real lift the statistic spreads less than a standard normal; sizing as if it did not
    would over-power large lifts."""
    difference = target - baseline
    control, treated = baseline * (1 - baseline), target * (1 - target)
    if relative:
        ratio = target / baseline
        q = treated + ratio**2 * control
        dq_target, dq_baseline = 1 - 4 * target + 2 * ratio, -ratio**2
    else:
        q = treated + control
        dq_target, dq_baseline = 1 - 2 * target, 1 - 2 * baseline
    d_target = (1 - difference * dq_target / (2 * q)) / math.sqrt(q)
    d_baseline = (-1 - difference * dq_baseline / (2 * q)) / math.sqrt(q)
    spread = math.sqrt(d_target**2 * treated + d_baseline**2 * control)
    return difference / math.sqrt(q), spread


def _quantiles(comparison_alpha: float, power: float) -> tuple[float, float]:
    from growthlab.stats.tails import ndtri

    return ndtri(1 - comparison_alpha / 2), ndtri(power)


def plan(baseline: float, mde: float, *, relative: bool = False, alpha: float = 0.05,
         power: float = 0.8, variants: int = 2, daily_users: float | None = None) -> PowerPlan:
    """Users per variant for the two-sided test the analysis runs: on the relative lift when
    `relative` (the MDE is then relative too), else on the absolute difference; alpha is
    split over the treatment arms (Bonferroni)."""
    _check(baseline, alpha, power, variants)
    target = _target(baseline, mde, relative)
    comparison_alpha = alpha / (variants - 1)
    z_alpha, z_power = _quantiles(comparison_alpha, power)
    if math.isinf(z_alpha):
        raise StatsError(f"alpha {alpha} is too small to plan for: no sample would reach it; "
                         "use one such as 0.05")
    mean, spread = _statistic(baseline, target, relative)
    n = ((z_alpha + z_power * spread) / abs(mean)) ** 2
    if daily_users is not None and daily_users <= 0:
        raise StatsError(f"daily users must be positive, not {daily_users}")
    users = math.ceil(n)
    days = users * variants / daily_users if daily_users else None
    return PowerPlan(users, users * variants, baseline, target, mde, relative, alpha,
                     comparison_alpha, power, variants, days)


def detectable_effect(baseline: float, users_per_variant: int, *, alpha: float = 0.05,
                      power: float = 0.8, variants: int = 2, relative: bool = False) -> float:
    """The smallest upward effect the same test detects with this many users per variant."""
    _check(baseline, alpha, power, variants)
    if users_per_variant < 2:
        raise StatsError(f"users per variant must be at least 2, not {users_per_variant}")
    z_alpha, z_power = _quantiles(alpha / (variants - 1), power)

    def shortfall(target: float) -> float:
        mean, spread = _statistic(baseline, target, relative)
        return mean * math.sqrt(users_per_variant) - z_alpha - z_power * spread

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
