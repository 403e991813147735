"""Sample size, minimum detectable effect and duration for a proportion metric."""

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


def plan(baseline: float, mde: float, *, relative: bool = False, alpha: float = 0.05,
         power: float = 0.8, variants: int = 2, daily_users: float | None = None) -> PowerPlan:
    """Users per variant to detect `mde` (two-sided, Cohen's h, Bonferroni over treatment arms)."""
    from statsmodels.stats.power import NormalIndPower
    from statsmodels.stats.proportion import proportion_effectsize

    _check(baseline, alpha, power, variants)
    target = _target(baseline, mde, relative)
    comparison_alpha = alpha / (variants - 1)
    h = abs(proportion_effectsize(target, baseline))
    n = NormalIndPower().solve_power(effect_size=h, alpha=comparison_alpha, power=power, ratio=1.0)
    if daily_users is not None and daily_users <= 0:
        raise StatsError(f"daily users must be positive, not {daily_users}")
    users = math.ceil(n)
    days = users * variants / daily_users if daily_users else None
    return PowerPlan(users, users * variants, baseline, target, mde, relative, alpha,
                     comparison_alpha, power, variants, days)


def detectable_effect(baseline: float, users_per_variant: int, *, alpha: float = 0.05,
                      power: float = 0.8, variants: int = 2, relative: bool = False) -> float:
    """The smallest upward effect detectable with this many users per variant."""
    from statsmodels.stats.power import NormalIndPower

    _check(baseline, alpha, power, variants)
    if users_per_variant < 2:
        raise StatsError(f"users per variant must be at least 2, not {users_per_variant}")
    h = NormalIndPower().solve_power(nobs1=users_per_variant, alpha=alpha / (variants - 1),
                                     power=power, ratio=1.0)
    phi = 2 * math.asin(math.sqrt(baseline)) + h
    if phi >= math.pi:
        raise StatsError("too few users: no effect within 0-100% would be detectable")
    target = math.sin(phi / 2) ** 2
    return target / baseline - 1 if relative else target - baseline
