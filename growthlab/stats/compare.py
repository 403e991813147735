"""Comparisons of a treatment arm against control: frequentist, sequential, Bayesian.

All functions are vectorised: each array entry is one metric x variant comparison.
Formulas follow GrowthBook's gbstats so numbers agree with that engine.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Literal

import numpy as np

from growthlab.errors import StatsError
from growthlab.stats.moments import Moments
from growthlab.stats.tails import ndtr, ndtri

Difference = Literal["relative", "absolute"]
Alternative = Literal["two-sided", "greater", "less"]
Method = Literal["frequentist", "bayesian", "sequential"]
DEFAULT_N_STAR = 5000.0
FAILURES = (None, "no_variance", "zero_treatment_values", "zero_control_mean", "too_few_users")
FEWEST_USERS = 2  # per arm: one user gives no variance to test with


@dataclass(frozen=True)
class Effect:
    """Point estimate of the treatment effect, its variance and Welch degrees of freedom.

    `failure` holds, per comparison, 0 or the index in FAILURES of why it cannot be
    computed; such entries carry harmless placeholder figures that are never reported.
    """

    estimate: np.ndarray
    variance: np.ndarray
    dof: np.ndarray
    n_total: np.ndarray
    failure: np.ndarray


@dataclass(frozen=True)
class TestResult:
    estimate: np.ndarray
    se: np.ndarray
    ci_low: np.ndarray
    ci_high: np.ndarray
    p_value: np.ndarray | None = None
    chance_to_win: np.ndarray | None = None
    risk_control: np.ndarray | None = None
    risk_treatment: np.ndarray | None = None


def effect(control: Moments, treatment: Moments,
           difference: Difference = "relative") -> Effect:
    """Lift or absolute difference of treatment over control (gbstats' formulas).

    The relative lift is the difference of (possibly CUPED-adjusted) means over the
    unadjusted control mean, with a delta-method variance.
    """
    mc, vc, nc = control.mean, control.var, control.n
    mt, vt, nt = treatment.mean, treatment.var, treatment.n
    base, treated = control.unadjusted_mean, treatment.unadjusted_mean
    few = (nc < FEWEST_USERS) | (nt < FEWEST_USERS)
    nc, nt = np.where(few, 2.0, nc), np.where(few, 2.0, nt)  # placeholders, never reported
    failure = np.zeros(nc.size, dtype=np.int8)
    # As gbstats: an arm without variance (a rate of 0% or 100%) gives no standard error
    # the normal approximation can trust, whichever arm it is.
    failure[(vc <= 0) | (vt <= 0)] = FAILURES.index("no_variance")
    if difference == "relative":
        failure[(vt <= 0) & (treated == 0) & (vc > 0)] = FAILURES.index("zero_treatment_values")
        failure[(base == 0) & (vc > 0)] = FAILURES.index("zero_control_mean")
        safe = np.where((base == 0) | ~np.isfinite(base), 1.0, base)
        estimate = (mt - mc) / safe
        variance = vt / (safe**2 * nt) + vc * treated**2 / (safe**4 * nc)
    elif difference == "absolute":
        estimate = mt - mc
        variance = vt / nt + vc / nc
    else:
        raise StatsError(f"difference must be 'relative' or 'absolute', not {difference!r}")
    # The root cause, whatever else an arm of one user looks like (no variance, say).
    failure[few] = FAILURES.index("too_few_users")
    failed = failure > 0
    variance = np.where(failed, 1.0, variance)
    a, b = np.where(failed, 1.0, vc / nc), np.where(failed, 1.0, vt / nt)
    dof = (a + b) ** 2 / (a**2 / (nc - 1) + b**2 / (nt - 1))
    return Effect(np.where(failed, 0.0, estimate), variance, dof, nc + nt, failure)


def _check_alpha(alpha: float) -> None:
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, not {alpha}")


def frequentist(eff: Effect, alpha: float = 0.05,
                alternative: Alternative = "two-sided") -> TestResult:
    """Welch t-test on the effect (t tails from scipy.special: scipy.stats takes ~0.8 s to
    import)."""
    from scipy import special

    _check_alpha(alpha)
    se = np.sqrt(eff.variance)
    t = eff.estimate / se
    if alternative == "two-sided":
        p = 2 * special.stdtr(eff.dof, -np.abs(t))
        half = special.stdtrit(eff.dof, 1 - alpha / 2) * se
        low, high = eff.estimate - half, eff.estimate + half
    elif alternative == "greater":
        p = special.stdtr(eff.dof, -t)
        low = eff.estimate - special.stdtrit(eff.dof, 1 - alpha) * se
        high = np.full_like(t, np.inf)
    elif alternative == "less":
        p = special.stdtr(eff.dof, t)
        low = np.full_like(t, -np.inf)
        high = eff.estimate + special.stdtrit(eff.dof, 1 - alpha) * se
    else:
        raise StatsError(f"alternative must be two-sided, greater or less, not {alternative!r}")
    return TestResult(eff.estimate, se, low, high, p_value=p)


def sequential_rho(alpha: float, n_star: float) -> float:
    """Mixture tuning so the confidence sequence is tightest near n_star users (Howard et al.)."""
    return float(np.sqrt((-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / n_star))


def _sequential_halfwidth(s2, n, rho, alpha):
    return np.sqrt(s2) * np.sqrt(
        2 * (n * rho**2 + 1) * np.log(np.sqrt(n * rho**2 + 1) / alpha) / (n * rho) ** 2
    )


def sequential(eff: Effect, alpha: float = 0.05, n_star: float = DEFAULT_N_STAR) -> TestResult:
    """Always-valid asymptotic confidence sequence; p-value is the smallest alpha excluding 0."""
    low, high = sequential_interval(eff, alpha, n_star)
    return TestResult(eff.estimate, np.sqrt(eff.variance), low, high,
                      p_value=_sequential_p_value(eff, n_star))


def sequential_interval(eff: Effect, alpha: float = 0.05,
                        n_star: float = DEFAULT_N_STAR) -> tuple[np.ndarray, np.ndarray]:
    """The always-valid interval alone, without the p-value's bisection (the planner reads
    it thousands of times)."""
    _check_alpha(alpha)
    if n_star <= 0:
        raise StatsError(f"the sequential tuning N* must be positive, not {n_star}")
    n = eff.n_total
    half = _sequential_halfwidth(eff.variance * n, n, sequential_rho(alpha, n_star), alpha)
    return eff.estimate - half, eff.estimate + half


def _sequential_p_value(eff: Effect, n_star: float, iterations: int = 60) -> np.ndarray:
    """Bisection on log(alpha) for the alpha whose interval just touches 0 (vectorised): the
    interval of `_sequential_halfwidth` excludes 0 when its square is below the estimate's,
    compared without a square root or exp on each step."""
    target = eff.estimate**2
    twice_s2, n_squared = 2 * eff.variance * eff.n_total, eff.n_total**2
    lo = np.full(target.shape, np.log(1e-300))
    hi = np.zeros(target.shape)
    for _ in range(iterations):
        mid = (lo + hi) / 2
        rho2 = (np.log(1 - 2 * mid) - 2 * mid) / n_star
        spread = eff.n_total * rho2 + 1
        half2 = twice_s2 * spread * (0.5 * np.log(spread) - mid) / (n_squared * rho2)
        excludes = half2 < target
        hi = np.where(excludes, mid, hi)
        lo = np.where(excludes, lo, mid)
    return np.minimum(np.exp(hi), 1.0)


def bayesian(eff: Effect, alpha: float = 0.05, prior_mean: float = 0.0,
             prior_sd: float | None = None, scale=1.0) -> TestResult:
    """Gaussian posterior on the effect; flat prior unless prior_sd is given. The prior is on
    the relative lift (as gbstats' default prior_type): on an absolute difference `scale` is
    each control's |mean|, which turns it into the same belief there (flat where that is 0)."""
    _check_alpha(alpha)
    if prior_sd is not None and prior_sd <= 0:
        raise StatsError(f"prior standard deviation must be positive, not {prior_sd}")
    if prior_sd is not None and not 0 < prior_sd * prior_sd < math.inf:
        raise StatsError(f"prior standard deviation {prior_sd} is too far from the scale of "
                         "any effect to compute with; use one such as 0.1 (a 10% lift)")
    if prior_sd is None:
        mean, var = eff.estimate, eff.variance
    else:
        scale = np.abs(scale)
        with np.errstate(divide="ignore"):
            prior_precision = np.where(scale > 0, 1 / (prior_sd * scale) ** 2, 0.0)
        var = 1 / (1 / eff.variance + prior_precision)
        mean = var * (eff.estimate / eff.variance + prior_mean * scale * prior_precision)
    sd = np.sqrt(var)
    z = ndtri(1 - alpha / 2)
    ctw = ndtr(mean / sd)
    risk_control, risk_treatment = _risk(mean, sd, ctw)
    return TestResult(mean, sd, mean - z * sd, mean + z * sd, chance_to_win=ctw,
                      risk_control=risk_control, risk_treatment=risk_treatment)


def _risk(mu, sigma, ctw):
    """Expected loss of choosing control / treatment (as gbstats' get_risk).

    Loss of control = E[max(effect, 0)]; loss of treatment = E[max(-effect, 0)].
    """
    density = sigma * (np.exp(-(mu / sigma) ** 2 / 2) / np.sqrt(2 * np.pi))
    return ctw * mu + density, density - (1 - ctw) * mu
