"""Sample size, minimum detectable effect and duration for a proportion or a mean metric,
sized for the test the Results tab runs: the Welch test, or the sequential confidence
sequence read at the planned end.

Power is computed, not approximated to first order (which under-powers large lifts): the
control's observed value is integrated over its sampling distribution (its binomial
counts, or Gauss-Hermite nodes of its mean), and for each the treatment's values that the
product's own test calls significant in the effect's direction are found by bisection and
weighed by their exact probability. A mean's standard deviation is taken as known and the
same in both arms."""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass

import numpy as np

from growthlab.errors import StatsError
from growthlab.stats.compare import DEFAULT_N_STAR, effect, frequentist, sequential_interval
from growthlab.stats.moments import Moments

PLANNED_METHODS = ("frequentist", "sequential")
MAX_USERS = 10**10  # past this the sample is no plan anyone can run
RATE_NODES = 401  # counts of the control's rate to integrate over, at most
MEAN_NODES = 64  # Gauss-Hermite nodes for the control's mean
TUNING_SAVES = 0.05  # a share of the users worth retuning the sequential test for


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
    method: str = "frequentist"
    n_star: float | None = None  # the sequential tuning
    sd: float | None = None  # a mean metric's standard deviation; None for a rate
    # With an uneven split: the arms (indices into users_per_arm) with the smallest share.
    # The weakest comparison holds them, so their users set the size.
    sized_by: tuple[int, ...] | None = None

    def as_dict(self) -> dict:
        found = asdict(self)
        for optional in ("users_per_arm", "sized_by"):
            if found[optional] is None:
                del found[optional]
        return found

    def change(self) -> tuple[str, str]:
        """Baseline and target in words, with the digits that tell them apart: rates as
        percentages, means as numbers."""
        for digits in range(2, 16):
            shown = tuple(f"{v:.{digits}%}" if self.sd is None else f"{v:,.{digits + 1}g}"
                          for v in (self.baseline, self.target))
            if shown[0] != shown[1]:
                return shown
        return shown


@dataclass(frozen=True)
class _Test:
    """The two-sided test the Results tab runs on one comparison."""

    relative: bool
    alpha: float
    method: str
    n_star: float

    def significant(self, control: Moments, treatment: Moments, direction: int) -> np.ndarray:
        eff = effect(control, treatment, "relative" if self.relative else "absolute")
        if self.method == "sequential":
            low, high = sequential_interval(eff, self.alpha, self.n_star)
        else:
            result = frequentist(eff, self.alpha)
            low, high = result.ci_low, result.ci_high
        return (eff.failure == 0) & ((low > 0) if direction > 0 else (high < 0))


@dataclass(frozen=True)
class _Arm:
    """One arm's true rate (sd None: counts of converted users are observed) or mean."""

    value: float
    sd: float | None
    users: int

    def moments(self, observed: np.ndarray) -> Moments:
        n = np.full(observed.shape, float(self.users))
        if self.sd is None:
            rate = observed / self.users
            return Moments(n, rate, rate * (1 - rate))
        return Moments(n, observed, np.full(observed.shape, self.sd**2))

    @property
    def se(self) -> float:
        """A mean's standard error."""
        return self.sd / math.sqrt(self.users)

    def nodes(self) -> tuple[np.ndarray, np.ndarray]:
        """Observed values (counts for a rate) and their probabilities."""
        if self.sd is not None:
            z, w = np.polynomial.hermite_e.hermegauss(MEAN_NODES)
            return self.value + z * self.se, w / w.sum()
        from scipy.special import gammaln

        n, p = self.users, self.value
        spread = 9 * math.sqrt(n * p * (1 - p))
        low, high = max(0, math.floor(n * p - spread)), min(n, math.ceil(n * p + spread))
        counts = np.unique(np.linspace(low, high, min(high - low + 1, RATE_NODES)).round())
        log = (gammaln(n + 1) - gammaln(counts + 1) - gammaln(n - counts + 1)
               + counts * math.log(p) + (n - counts) * math.log1p(-p))
        weights = np.exp(log - log.max())
        return counts, weights / weights.sum()

    def extreme(self, control: np.ndarray, direction: int) -> np.ndarray:
        """The observed value furthest in `direction` from which the test's significance is
        searched: for a rate, one count short of everyone or no one converting, whose test
        may fail for want of variance (see `end`)."""
        if self.sd is not None:
            return control + direction * (abs(self.value - control) + 40 * self.se)
        return np.full(control.shape, float(self.users - 1 if direction > 0 else 1))

    def end(self, direction: int) -> tuple[float, float]:
        """A rate's count of everyone (or no one) converting, and its chance."""
        if direction > 0:
            return float(self.users), self.value**self.users
        return 0.0, (1 - self.value) ** self.users

    def between(self, a: np.ndarray, b: np.ndarray) -> np.ndarray:
        """Chance the observed value falls between a and b, both included."""
        low, high = np.minimum(a, b), np.maximum(a, b)
        if self.sd is not None:
            from growthlab.stats.tails import ndtr

            return ndtr((high - self.value) / self.se) - ndtr((low - self.value) / self.se)
        from scipy.special import bdtr

        below = np.where(low >= 1, bdtr(np.maximum(low - 1, 0), self.users, self.value), 0.0)
        return bdtr(high, self.users, self.value) - below


@dataclass(frozen=True)
class _Edges:
    """Where the test turns significant, per observed control value. For a rate it does not
    depend on the treated arm's true rate (only on its users), so a search over effects
    computes it once per arm size and only weighs it by each effect's probabilities."""

    weights: np.ndarray  # of the control's observed values
    edge: np.ndarray  # the treated value from which on, up to `outer`, it is significant
    outer: np.ndarray
    reachable: np.ndarray
    at_end: np.ndarray | None  # a rate: significant when everyone (or no one) converts


def _edges(test: _Test, control: _Arm, treated: _Arm, direction: int) -> _Edges:
    observed, weights = control.nodes()
    base = control.moments(observed)

    def significant(values: np.ndarray) -> np.ndarray:
        return test.significant(base, treated.moments(values), direction)

    if treated.sd is None:  # the count at the control's rate: no effect
        inner = observed * treated.users / control.users
        inner = np.floor(inner) if direction > 0 else np.ceil(inner)
    else:
        inner = observed
    outer = treated.extreme(observed, direction)
    at_end = None
    if treated.sd is None:
        at_end = significant(np.full(observed.shape, treated.end(direction)[0]))
    return _Edges(weights, _edge(significant, inner, outer, whole=treated.sd is None), outer,
                  significant(outer), at_end)


def _chance(test: _Test, control: _Arm, treated: _Arm, direction: int,
            known: dict | None = None) -> float:
    """Power: the chance the test calls the effect significant in its direction. `known`
    keeps a rate's edges by arm size for the next call."""
    key = (control, treated.users, treated.sd, None if treated.sd is None else treated.value,
           direction)
    found = None if known is None else known.get(key)
    if found is None:
        found = _edges(test, control, treated, direction)
        if known is not None:
            known[key] = found
    chance = np.where(found.reachable, treated.between(found.edge, found.outer), 0.0)
    if found.at_end is not None:
        chance += treated.end(direction)[1] * found.at_end
    return float(np.sum(found.weights * chance))


def _edge(significant: Callable, inner: np.ndarray, outer: np.ndarray,
          whole: bool) -> np.ndarray:
    """Per node, the value nearest `inner` (not significant) from which on, up to `outer`,
    the test is significant: by bisection, over whole counts when `whole`."""
    inner, outer = inner.astype(float), outer.astype(float)
    for _ in range(64 if whole else 60):
        open_ = np.abs(outer - inner) > 1 if whole else np.ones(inner.shape, dtype=bool)
        if not open_.any():
            break
        middle = np.floor((inner + outer) / 2) if whole else (inner + outer) / 2
        hit = significant(middle)
        outer = np.where(open_ & hit, middle, outer)
        inner = np.where(open_ & ~hit, middle, inner)
    return outer


def _check(baseline: float, alpha: float, power: float, variants: int, sd: float | None,
           method: str, n_star: float) -> None:
    if sd is None and not 0 < baseline < 1:
        raise StatsError(f"baseline must be a conversion rate between 0 and 1, not {baseline}")
    if sd is not None and not (math.isfinite(sd) and sd > 0 and math.isfinite(baseline)):
        raise StatsError(f"a mean metric needs a finite mean and a positive standard "
                         f"deviation, not mean {baseline} and standard deviation {sd}")
    if not 0 < alpha < 1:
        raise StatsError(f"alpha must be between 0 and 1, not {alpha}")
    if not 0 < power < 1:
        raise StatsError(f"power must be between 0 and 1, not {power}")
    if variants < 2:
        raise StatsError(f"an experiment needs at least 2 variants, not {variants}")
    if method not in PLANNED_METHODS:
        raise StatsError(f"method must be one of {', '.join(PLANNED_METHODS)}, not {method!r}")
    if not (math.isfinite(n_star) and n_star > 0):
        raise StatsError(f"the sequential tuning N* must be positive, not {n_star}")


def _target(baseline: float, mde: float, relative: bool, sd: float | None) -> float:
    target = baseline * (1 + mde) if relative else baseline + mde
    if mde == 0:
        raise StatsError("the minimum detectable effect cannot be 0")
    if relative and baseline <= 0:
        raise StatsError(f"a relative effect needs a positive baseline, not {baseline}; plan "
                         "the absolute difference")
    if sd is None and not 0 < target < 1:
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


def _arm_users(n: int, split: list[float] | None, variants: int) -> list[int]:
    """Users of each arm (the control's first) in a sample of n: n each without a split."""
    return [math.ceil(s * n) for s in split] if split else [n] * variants


def _lowest_power(test: _Test, baseline: float, target: float, sd: float | None,
                  users: list[int], known: dict | None = None) -> float:
    """The power of the weakest comparison of a treatment arm with the control."""
    direction = 1 if target > baseline else -1
    control = _Arm(baseline, sd, users[0])
    return min(_chance(test, control, _Arm(target, sd, n), direction, known)
               for n in sorted(set(users[1:])))


def _first_guess(baseline: float, target: float, sd: float | None, relative: bool,
                 comparison_alpha: float, power: float) -> float:
    """Users per arm of an even split by the first-order normal formula: where the search
    starts."""
    from growthlab.stats.tails import ndtri

    control = sd**2 if sd is not None else baseline * (1 - baseline)
    treated = sd**2 if sd is not None else target * (1 - target)
    spread = treated + control * ((target / baseline) ** 2 if relative else 1)
    z = ndtri(1 - comparison_alpha / 2) + ndtri(power)
    return z * z * spread / (target - baseline) ** 2


def _smallest(enough: Callable[[int], bool], guess: float, least: int, mde: float) -> int:
    """The smallest sample (at least `least`) that is `enough`, searched from `guess`."""
    high = max(least, min(math.ceil(guess), MAX_USERS))
    while not enough(high):
        if high >= MAX_USERS:
            raise StatsError(f"MDE {mde} is too small to plan for: it needs more than "
                             f"{MAX_USERS:,} users; use a larger MDE")
        high = min(2 * high, MAX_USERS)
    low = max(least - 1, high // 2)
    while low >= least and enough(low):
        high, low = low, max(least - 1, low // 2)
    while high - low > 1:
        middle = (low + high) // 2
        low, high = (low, middle) if enough(middle) else (middle, high)
    return high


def plan(baseline: float, mde: float, *, relative: bool = False, alpha: float = 0.05,
         power: float = 0.8, variants: int = 2, daily_users: float | None = None,
         shares: Sequence[float] | None = None, method: str = "frequentist",
         n_star: float = DEFAULT_N_STAR, sd: float | None = None) -> PowerPlan:
    """Users per variant for the two-sided test the analysis runs (`method`: frequentist, or
    sequential with tuning `n_star`, read at the planned end): on the relative lift when
    `relative` (the MDE is then relative too), else on the absolute difference; alpha is
    split over the treatment arms (Bonferroni). `baseline` is a rate, or with `sd` a mean
    metric's control mean. With the design's planned `shares` (the control's first), every
    comparison gets its power with each arm holding its share of the users: `users_per_arm`
    says how many, `users_per_variant` is the largest arm."""
    variants = len(shares) if shares is not None else variants
    _check(baseline, alpha, power, variants, sd, method, n_star)
    split = _shares(shares, variants)
    target = _target(baseline, mde, relative, sd)
    comparison_alpha = alpha / (variants - 1)
    guess = _first_guess(baseline, target, sd, relative, comparison_alpha, power)
    if math.isinf(guess):
        raise StatsError(f"alpha {alpha} is too small to plan for: no sample would reach it; "
                         "use one such as 0.05")
    if daily_users is not None and daily_users <= 0:
        raise StatsError(f"daily users must be positive, not {daily_users}")
    test = _Test(relative, comparison_alpha, method, n_star)
    n = _smallest(lambda k: _lowest_power(test, baseline, target, sd, _arm_users(
        k, split, variants)) >= power, guess / min(split) if split else guess,
        math.ceil(2 / min(split)) if split else 2, mde)
    arms = tuple(_arm_users(n, split, variants))
    total = sum(arms)
    days = total / daily_users if daily_users else None
    return PowerPlan(max(arms), total, baseline, target, mde, relative, alpha,
                     comparison_alpha, power, variants, days, arms if split else None,
                     method, n_star if method == "sequential" else None, sd, _sized_by(split))


def tuned_to_its_end(baseline: float, mde: float, **options) -> PowerPlan | None:
    """For a sequential plan (`options` as for `plan`): the plan with N* near the users of
    the comparison that sets its size at its end (a control and one arm: the sequence is
    read on each comparison's users), where the confidence sequence is then tightest, when
    that saves at least TUNING_SAVES of the users; else None. N* must be set before the test
    starts."""
    if options.get("method") != "sequential":
        return None
    first = plan(baseline, mde, **options)
    tuned = first
    for _ in range(3):  # the size moves with N*; a few steps settle it
        tuned = plan(baseline, mde, **{**options, "n_star": float(_compared(tuned))})
        if abs(tuned.n_star - _compared(tuned)) < 0.02 * _compared(tuned):
            break
    return tuned if tuned.total_users <= (1 - TUNING_SAVES) * first.total_users else None


def _compared(p: PowerPlan) -> int:
    """Users of the plan's weakest comparison: the control and its smallest other arm."""
    if p.users_per_arm:
        return p.users_per_arm[0] + min(p.users_per_arm[1:])
    return 2 * p.users_per_variant


def what_sets_the_size(p: PowerPlan, names: Sequence[str],
                       shares: Sequence[float] | None) -> str | None:
    """Which arm the plan's size comes from, with its share and users (`names` and `shares`
    in the plan's order, the control's first): "the holdout (1%) needs 4,302 users: it sets
    the size". None with an even split."""
    from growthlab.io import percents

    if not p.sized_by or shares is None:
        return None
    share = percents(shares)[p.sized_by[0]]
    arms = [names[i] for i in p.sized_by]
    users = p.users_per_arm[p.sized_by[0]]
    if len(arms) == 1:
        return f"the {arms[0]} ({share}) needs {users:,} users: it sets the size"
    return (f"the {', '.join(arms[:-1])} and {arms[-1]} ({share} each) need {users:,} users "
            "each: they set the size")


def _sized_by(split: list[float] | None) -> tuple[int, ...] | None:
    """The arms with the smallest share of an uneven split."""
    if not split or len(set(split)) == 1:
        return None
    return tuple(i for i, share in enumerate(split) if share == min(split))


def detectable_effect(baseline: float, users: int, *, alpha: float = 0.05,
                      power: float = 0.8, variants: int = 2, relative: bool = False,
                      shares: Sequence[float] | None = None, method: str = "frequentist",
                      n_star: float = DEFAULT_N_STAR, sd: float | None = None,
                      direction: int = 1) -> float:
    """The smallest effect, upward (or downward with `direction` -1), the same test detects
    with this many users per variant, or with planned `shares` (the control's first) this
    many users in the experiment."""
    variants = len(shares) if shares is not None else variants
    _check(baseline, alpha, power, variants, sd, method, n_star)
    split = _shares(shares, variants)
    smallest = min(split) * users if split else users
    if smallest < 2:
        raise StatsError(f"too few users: {users:,} leave an arm fewer than 2")
    test = _Test(relative, alpha / (variants - 1), method, n_star)
    arms = _arm_users(int(users), split, variants)
    known: dict = {}  # the sample is fixed: a rate's edges are the same for every effect

    def enough(target: float) -> bool:
        return _lowest_power(test, baseline, target, sd, arms, known) >= power

    near, far = _far(baseline, sd, direction, enough)
    while abs(far - near) > 1e-6 * abs(far - baseline):
        middle = (near + far) / 2
        near, far = (near, middle) if enough(middle) else (middle, far)
    return far / baseline - 1 if relative else far - baseline


def _far(baseline: float, sd: float | None, direction: int,
         enough: Callable) -> tuple[float, float]:
    """The nearest of a few effects in `direction` that is detectable, and the one before it
    (not detectable), else why there is none. A rate's effects go by 32nds of the way to 0
    or 100%, then halve what is left: a rate cut to almost 0 is less detectable than a
    smaller cut, as its arm often converts no one and no relative lift can be computed."""
    if sd is None:
        room = 1 - baseline if direction > 0 else baseline
        steps = [k / 32 for k in range(1, 32)] + [1 - 0.5**k for k in range(6, 31)]
        candidates = [baseline + direction * room * step for step in steps]
    else:
        candidates = [baseline + direction * 10.0**k * sd for k in range(-3, 13)]
    near = baseline
    for far in candidates:
        if enough(far):
            return near, far
        near = far
    raise StatsError("too few users: no effect within 0-100% would be detectable"
                     if sd is None else "too few users: no effect on this mean would be "
                     "detectable")
