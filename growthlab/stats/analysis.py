"""Analyse per-variant sufficient statistics of whole experiments in one vectorised pass."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from growthlab.errors import StatsError
from growthlab.stats import compare
from growthlab.stats.compare import (
    DEFAULT_N_STAR,
    FEWEST_USERS,
    Alternative,
    Difference,
    Method,
    TestResult,
    bayesian,
    effect,
    frequentist,
    sequential,
)
from growthlab.stats.moments import Moments, cuped_adjust, mean_moments, proportion_moments
from growthlab.stats.srm import SrmResult, srm_test, srm_tests

Correction = Literal["none", "holm", "bh"]
CUPED_COLUMNS = ("pre_sum", "pre_sum_squares", "sum_product")
METHODS = ("frequentist", "bayesian", "sequential")
DIFFERENCES = ("relative", "absolute")
CORRECTIONS = ("none", "holm", "bh")
FAILURES = compare.FAILURES + ("missing_treatment_row", "missing_control_row")


@dataclass(frozen=True)
class MetricRow:
    """One metric for one variant: proportion (conversions) or mean (sum, sum_squares)."""

    metric: str
    variant: str
    users: float
    conversions: float | None = None
    sum: float | None = None
    sum_squares: float | None = None
    pre_sum: float | None = None
    pre_sum_squares: float | None = None
    sum_product: float | None = None
    experiment: str = ""

    @property
    def kind(self) -> str:
        return "proportion" if self.conversions is not None else "mean"

    @property
    def has_cuped(self) -> bool:
        return all(getattr(self, c) is not None for c in CUPED_COLUMNS)


Weights = Mapping[str, float] | Sequence[float]


@dataclass(frozen=True)
class Options:
    """How to analyse. `control` and `weights` name variants: the control is `control`, else
    the variant named "control", else the first listed; weights are a mapping variant ->
    planned share, or a bare list in the order the variants first appear in the rows."""

    method: Method = "frequentist"
    difference: Difference = "relative"
    alpha: float = 0.05
    correction: Correction = "none"
    control: str | None = None
    weights: Weights | None = None
    alternative: Alternative = "two-sided"
    prior_mean: float = 0.0
    prior_sd: float | None = None
    n_star: float = DEFAULT_N_STAR
    cuped: bool = True

    def __post_init__(self):
        for name, value, allowed in (("method", self.method, METHODS),
                                     ("difference", self.difference, DIFFERENCES),
                                     ("correction", self.correction, CORRECTIONS)):
            if value not in allowed:
                raise StatsError(f"{name} must be one of {', '.join(allowed)}, not {value!r}")
        if not 0 < self.alpha < 1:
            raise StatsError(f"alpha must be between 0 and 1, not {self.alpha}")
        if self.method == "bayesian" and self.correction != "none":
            raise StatsError(f"a multiple-testing correction ({self.correction}) adjusts "
                             "p-values and does not apply to the bayesian method, which "
                             "reports a chance to win instead; leave the correction at none")


@dataclass
class Analysis:
    results: list[dict]
    srm: dict[str, SrmResult] = field(default_factory=dict)

    def worst_srm(self) -> tuple[str, SrmResult] | None:
        if not self.srm:
            return None
        return min(self.srm.items(), key=lambda item: item[1].p_value)


def control_of(variants: Sequence[str], wanted: str | None = None, experiment: str = "") -> str:
    """The variant named `wanted` (exactly, else in any case when only one matches), else the
    one named `control` (any case), else the first listed."""
    if wanted is None:
        named = [v for v in variants if v.strip().lower() == "control"]
        if len(named) > 1:
            raise StatsError(f"{_name(experiment)}{' and '.join(named)} both read as the "
                             "control; name the control (--control) exactly")
        return named[0] if named else variants[0]
    alike = _named(variants, wanted)
    if len(alike) > 1:
        raise StatsError(f"{_name(experiment)}control {wanted!r} matches {' and '.join(alike)} "
                         "when case is ignored; give the exact name")
    if not alike:
        raise StatsError(f"{_name(experiment)}control {wanted!r} is not a variant; the variants "
                         f"are {', '.join(variants)}")
    return alike[0]


def _named(variants: Sequence[str], wanted: str) -> list[str]:
    """The variant named `wanted` exactly, else those it names when case is ignored."""
    if wanted in variants:
        return [wanted]
    return [v for v in variants if v.strip().casefold() == wanted.strip().casefold()]


def planned_weights(variants: Sequence[str], weights: Weights | None,
                    experiment: str = "") -> list[float] | None:
    """One planned weight per variant, in the order of `variants`; a name matches a variant
    as --control does (exactly, else in any case when only one matches)."""
    if weights is None:
        return None
    known = ", ".join(variants)
    if isinstance(weights, Mapping):
        unknown = [v for v in weights if len(_named(variants, v)) != 1]
        if unknown:
            raise StatsError(f"{_name(experiment)}weight for {unknown[0]!r}: {unknown[0]!r} is "
                             f"not a variant; the variants are {known}")
        named = {_named(variants, v)[0]: w for v, w in weights.items()}
        if len(named) < len(weights):
            raise StatsError(f"{_name(experiment)}--weights names a variant twice (in "
                             f"different cases); give one weight per variant ({known})")
        weights = named
        missing = [v for v in variants if v not in weights]
        if missing:
            raise StatsError(f"{_name(experiment)}no weight for {missing[0]!r}; give one weight "
                             f"per variant ({known})")
        return [float(weights[v]) for v in variants]
    if len(weights) != len(variants):
        raise StatsError(f"{_name(experiment)}{len(weights)} weights given for {len(variants)} "
                         f"variants ({known}); give one weight per variant in that order, or "
                         "name them (variant=weight)")
    return [float(w) for w in weights]


def drop_constant_metrics(rows: list[MetricRow]) -> tuple[list[MetricRow], list[str]]:
    """Split off proportion metrics where every arm converts all or none of its users.

    Such a metric carries no information to test (for example a milestone every assigned
    user reaches on assignment); an arm with no users says nothing either way. The caller
    reports the skipped names.
    """
    rates: dict[tuple[str, str], set] = {}
    for r in rows:
        seen = rates.setdefault((r.experiment, r.metric), set())
        if r.kind != "proportion":
            seen.add(None)
        elif r.users:
            seen.add(r.conversions / r.users)
    flat = {key for key, seen in rates.items() if seen in ({0.0}, {1.0})}
    kept = [r for r in rows if (r.experiment, r.metric) not in flat]
    skipped = list(dict.fromkeys(r.metric for r in rows if (r.experiment, r.metric) in flat))
    return kept, skipped


@dataclass(frozen=True)
class _Comparison:
    """One treatment against the control on one metric; a row index is None when missing."""

    metric: str
    control: str
    variant: str
    base: int | None
    row: int | None


def _group(rows: Iterable[MetricRow]) -> dict[str, list[tuple[int, MetricRow]]]:
    experiments: dict[str, list[tuple[int, MetricRow]]] = {}
    for i, row in enumerate(rows):
        experiments.setdefault(row.experiment, []).append((i, row))
    return experiments


def _plan(experiment: str, rows: list[tuple[int, MetricRow]],
          options: Options) -> tuple[list[_Comparison], tuple]:
    """Every treatment against the control for every metric, in the order listed."""
    by_metric: dict[str, dict[str, int]] = {}
    for i, r in rows:
        arms = by_metric.setdefault(r.metric, {})
        if r.variant in arms:
            raise StatsError(f"{_name(experiment)}metric '{r.metric}', variant '{r.variant}' "
                             "appears twice; keep one row per metric per variant")
        arms[r.variant] = i
    plain = [r for _, r in rows]
    variants = list(dict.fromkeys(r.variant for r in plain))
    if len(variants) < 2:
        raise StatsError(f"{_name(experiment)}only one variant ({variants[0]!r}); "
                         "results need a control and at least one treatment")
    control = control_of(variants, options.control, experiment)
    kinds = {i: r.kind for i, r in rows}
    comparisons = []
    for metric, arms in by_metric.items():
        base = arms.get(control)
        for variant in variants:
            row = arms.get(variant)
            if variant == control or (row is None and base is None):
                continue
            if row is not None and base is not None and kinds[row] != kinds[base]:
                raise StatsError(f"{_name(experiment)}metric '{metric}' is a {kinds[base]} for "
                                 f"'{control}' but a {kinds[row]} for '{variant}'")
            comparisons.append(_Comparison(metric, control, variant, base, row))
    return comparisons, _srm_inputs(experiment, plain, variants, options.weights)


def _name(experiment: str) -> str:
    return f"experiment '{experiment}', " if experiment else ""


def _label(row: MetricRow) -> str:
    return f"{_name(row.experiment)}metric '{row.metric}', variant '{row.variant}'"


class _Labels:
    """Row labels built only when an error needs one (100k f-strings cost real time)."""

    def __init__(self, rows: Sequence[MetricRow], index: Sequence[int] | None = None):
        self.rows, self.index = rows, index

    def __getitem__(self, i: int) -> str:
        return _label(self.rows[i if self.index is None else self.index[i]])

    def __len__(self) -> int:
        return len(self.rows) if self.index is None else len(self.index)


def _row_moments(rows: list[MetricRow]) -> Moments:
    """Plain mean and variance of every row (checked), computed per kind in one pass each."""
    size = len(rows)
    columns = {f: np.empty(size) for f in ("n", "mean", "var")}
    for kind in ("proportion", "mean"):
        idx = np.array([i for i, r in enumerate(rows) if r.kind == kind], dtype=int)
        if not idx.size:
            continue
        labels = _Labels(rows, idx)
        users = [rows[i].users for i in idx]
        if kind == "proportion":
            m = proportion_moments(users, [rows[i].conversions for i in idx], labels)
        else:
            m = mean_moments(users, [rows[i].sum for i in idx],
                             [rows[i].sum_squares for i in idx], labels)
        for name, column in columns.items():
            column[idx] = getattr(m, name)
    return Moments(**columns)


def _arm(m: Moments, idx: np.ndarray) -> Moments:
    return Moments(m.n[idx], m.mean[idx], m.var[idx])


def _pair_moments(rows: list[MetricRow], moments: Moments, base: np.ndarray, row: np.ndarray,
                  options: Options) -> tuple[Moments, Moments]:
    """Control and treatment moments of every complete comparison, CUPED-adjusted if asked."""
    control, treatment = _arm(moments, base), _arm(moments, row)
    if not options.cuped:
        return control, treatment
    use = np.array([rows[b].has_cuped and rows[t].has_cuped for b, t in zip(base, row,
                                                                           strict=True)],
                   dtype=bool)
    if not use.any():
        return control, treatment
    b, t = base[use], row[use]
    pre = {}
    for arm, idx in (("c", b), ("t", t)):
        for col in ("sum_squares", *CUPED_COLUMNS):
            pre[f"{arm}_{col}"] = np.array([getattr(rows[i], col) for i in idx], float)
    return _cuped_pairs(moments, (control, treatment), use, (b, t), pre,
                        (_Labels(rows, b), _Labels(rows, t)))


def _cuped_pairs(moments: Moments, arms: tuple[Moments, Moments], use: np.ndarray,
                 pairs: tuple[np.ndarray, np.ndarray], pre: dict,
                 labels: tuple) -> tuple[Moments, Moments]:
    """Control and treatment `arms` with the comparisons where `use` (those whose rows
    `pairs` hold pre-period data `pre`) CUPED-adjusted; the raw means are kept."""
    adjusted = cuped_adjust(_arm(moments, pairs[0]), _arm(moments, pairs[1]), pre, labels)

    def pick(adjusted: Moments, raw: Moments) -> Moments:
        mean, var = raw.mean.copy(), raw.var.copy()
        mean[use], var[use] = adjusted.mean, adjusted.var
        return Moments(raw.n, mean, var, raw.mean)

    return pick(adjusted[0], arms[0]), pick(adjusted[1], arms[1])


def _test(eff, options: Options, control: Moments) -> TestResult:
    if options.method == "frequentist":
        if options.alternative == "two-sided" or options.difference == "absolute":
            return frequentist(eff, options.alpha, options.alternative)
        return _one_sided_lift(eff, options, control.unadjusted_mean < 0)
    if options.method == "sequential":
        return sequential(eff, options.alpha, options.n_star)
    return bayesian(eff, options.alpha, options.prior_mean, options.prior_sd,
                    control.unadjusted_mean if options.difference == "absolute" else 1.0)


def _one_sided_lift(eff, options: Options, negative_base: np.ndarray) -> TestResult:
    """A one-sided test of a relative lift: over a negative control mean the lift moves the
    other way from the metric (-10 -> -5 is -50%), so 'greater' tests the lift below 0."""
    asked = frequentist(eff, options.alpha, options.alternative)
    other = frequentist(eff, options.alpha,
                        "less" if options.alternative == "greater" else "greater")

    def pick(a, b):
        return np.where(negative_base, b, a)

    return TestResult(eff.estimate, asked.se, pick(asked.ci_low, other.ci_low),
                      pick(asked.ci_high, other.ci_high),
                      p_value=pick(asked.p_value, other.p_value))


def adjust(p_values, families, correction: Correction) -> np.ndarray:
    """Holm or Benjamini-Hochberg adjusted p-values within each family, as statsmodels'
    multipletests, for all families at once: one sort by (family, p) and one running
    max/min whose keys keep families apart exactly (family, rank of the value)."""
    p = np.asarray(p_values, dtype=float)
    if correction == "none" or p.size == 0:
        return p
    family = np.unique(np.asarray(families), return_inverse=True)[1].ravel()
    order = np.lexsort((p, family))
    fam, sorted_p = family[order], p[order]
    starts = np.flatnonzero(np.r_[True, fam[1:] != fam[:-1]])
    sizes = np.diff(np.r_[starts, fam.size])
    m = np.repeat(sizes, sizes)
    rank = np.arange(fam.size) - np.repeat(starts, sizes)
    if correction == "holm":
        raw = np.minimum((m - rank) * sorted_p, 1.0)
    else:
        raw = np.minimum(sorted_p / ((rank + 1) / m), 1.0)
    values, position = np.unique(raw, return_inverse=True)
    key = fam.astype(np.int64) * values.size + position.ravel()
    if correction == "holm":
        running = np.maximum.accumulate(key)
    else:
        running = np.minimum.accumulate(key[::-1])[::-1]
    out = np.empty_like(p)
    out[order] = values[running - fam.astype(np.int64) * values.size]
    return out


def analyze(rows: Iterable[MetricRow], options: Options | None = None) -> Analysis:
    """Compare every treatment with control for every metric of every experiment.

    A comparison that cannot be computed gets an `error` and no figures; the others are
    analysed. Bad input for the rows themselves raises StatsError.
    """
    options = options or Options()
    rows = list(rows)
    groups = _group(rows)
    if not groups:
        raise StatsError("no result rows to analyse")
    comparisons, family, srm_inputs = [], [], []
    for k, (experiment, exp_rows) in enumerate(groups.items()):
        planned, inputs = _plan(experiment, exp_rows, options)
        comparisons.extend(planned)
        family.extend([k] * len(planned))
        srm_inputs.append(inputs)
    srm = dict(zip(groups, srm_tests(*zip(*srm_inputs, strict=True)), strict=True))
    moments = _row_moments(rows)
    complete = np.array([i for i, c in enumerate(comparisons)
                         if c.base is not None and c.row is not None], dtype=int)
    base = np.array([comparisons[i].base for i in complete], dtype=int)
    row = np.array([comparisons[i].row for i in complete], dtype=int)
    control, treatment = _pair_moments(rows, moments, base, row, options)
    eff = effect(control, treatment, options.difference)
    test = _test(eff, options, control)
    failure = np.array([FAILURES.index("missing_treatment_row") if c.row is None else
                        FAILURES.index("missing_control_row") if c.base is None else 0
                        for c in comparisons], dtype=np.int8)
    failure[complete] = eff.failure
    proportion = np.array([rows[c.base if c.row is None else c.row].kind == "proportion"
                           for c in comparisons], dtype=bool)
    figures = _figures(len(comparisons), complete, failure, test,
                       np.array(family, dtype=int), options, proportion)
    return Analysis(_results(rows, comparisons, moments, failure, figures, options), srm)


def _figures(size: int, complete: np.ndarray, failure: np.ndarray, test: TestResult,
             family: np.ndarray, options: Options,
             proportion: np.ndarray) -> dict[str, np.ndarray | None]:
    """Every reported figure per comparison (NaN where there is none), and `significant`;
    the interval of a `proportion` metric kept to what rates can do (a difference within
    ±100 points, a lift no lower than -100%)."""
    ok = failure == 0

    def spread(values):
        if values is None:
            return None
        out = np.full(size, np.nan)
        out[complete] = values
        out[~ok] = np.nan
        return out

    figures = {name: spread(getattr(test, name)) for name in (
        "estimate", "ci_low", "ci_high", "p_value", "chance_to_win", "risk_control",
        "risk_treatment")}
    low, high = (-1.0, 1.0) if options.difference == "absolute" else (-1.0, np.inf)
    for name in ("ci_low", "ci_high"):
        values = figures[name]
        bounded = proportion & np.isfinite(values)
        values[bounded] = np.clip(values[bounded], low, high)
    p, ctw = figures["p_value"], figures["chance_to_win"]
    figures["adjusted_p_value"] = None
    if p is not None and options.correction != "none":
        # A comparison that failed still counts in its family (as p = 1): the family must
        # not shrink, and the others' correction with it, because a figure is missing.
        adjusted = adjust(np.where(ok, p, 1.0), family, options.correction)
        figures["adjusted_p_value"] = np.where(ok, adjusted, np.nan)
    with np.errstate(invalid="ignore"):
        if ctw is not None:
            significant = (ctw > 1 - options.alpha / 2) | (ctw < options.alpha / 2)
        else:
            used = figures["adjusted_p_value"] if figures["adjusted_p_value"] is not None else p
            significant = used < options.alpha
    figures["significant"] = significant & ok
    return figures


def sample_ratio(rows: list[MetricRow], weights: Weights | None = None) -> SrmResult:
    """The SRM check of one experiment's rows on their own: it stays meaningful when the
    metrics cannot be analysed (an arm with 0 users is the clearest mismatch of all)."""
    variants = list(dict.fromkeys(r.variant for r in rows))
    if len(variants) < 2:
        raise StatsError("a sample-ratio check needs at least two variants")
    return srm_test(*_srm_inputs(rows[0].experiment, rows, variants, weights))


def _srm_inputs(experiment, rows, variants, weights) -> tuple[list, list | None, list]:
    """Users per variant, planned weights and names, in the order variants first appear."""
    users: dict[str, float] = {}
    for r in rows:
        users.setdefault(r.variant, r.users)
    return [users[v] for v in variants], planned_weights(variants, weights, experiment), variants


def _column(values, size: int) -> list:
    """A numpy column as Python floats, with inf/NaN as None (JSON null)."""
    if values is None:
        return [None] * size
    array = np.asarray(values, dtype=float)
    return [v if f else None for v, f in zip(array.tolist(), np.isfinite(array).tolist(),
                                             strict=True)]


def _finite(value: float) -> float | None:
    """A figure, or None (JSON null) for the mean of an arm with no users."""
    return value if np.isfinite(value) else None


def _results(rows, comparisons, moments: Moments, failure, figures, options) -> list[dict]:
    size = len(comparisons)
    columns = {name: _column(figures[name], size) for name in (
        "estimate", "ci_low", "ci_high", "p_value", "adjusted_p_value", "chance_to_win",
        "risk_control", "risk_treatment")}
    significant = figures["significant"].tolist()
    means = moments.mean.tolist()
    out = []
    for k, c in enumerate(comparisons):
        base = rows[c.base] if c.base is not None else None
        row = rows[c.row] if c.row is not None else None
        code = FAILURES[failure[k]]
        risk = None
        if columns["risk_control"][k] is not None:
            risk = {"control": columns["risk_control"][k],
                    "treatment": columns["risk_treatment"][k]}
        out.append({
            "experiment": (row or base).experiment or None, "metric": c.metric,
            "kind": (row or base).kind, "variant": c.variant, "control": c.control,
            "users": int(row.users) if row else None,
            "control_users": int(base.users) if base else None,
            "mean": _finite(means[c.row]) if row else None,
            "control_mean": _finite(means[c.base]) if base else None,
            "difference": options.difference, "estimate": columns["estimate"][k],
            "ci_low": columns["ci_low"][k], "ci_high": columns["ci_high"][k],
            "p_value": columns["p_value"][k], "adjusted_p_value": columns["adjusted_p_value"][k],
            "chance_to_win": columns["chance_to_win"][k], "risk": risk,
            "significant": bool(significant[k]),
            "error": None if code is None else {"code": code, "message": _failure_message(
                code, c, base, row, moments)}})
    return out


def _failure_message(code: str, c: _Comparison, base: MetricRow | None, row: MetricRow | None,
                     moments: Moments) -> str:
    """A true sentence, for a person, on why this comparison has no figures."""
    control, variant = f"'{c.control}'", f"'{c.variant}'"
    if code == "missing_treatment_row":
        return (f"the results have a row for the control {control} but none for {variant} on "
                f"this metric; add the {variant} row to compare them")
    if code == "missing_control_row":
        return (f"the results have a row for {variant} but none for the control {control} on "
                "this metric; add the control's row to compare them")
    if code == "too_few_users":
        return _too_few(((control, base.users), (variant, row.users)))
    proportion = base.kind == "proportion"
    mc, mt = moments.mean[c.base], moments.mean[c.row]
    if code == "zero_control_mean":
        return (f"the control {control} has a mean of 0, so a relative lift is undefined; use "
                "the absolute difference instead")
    if code == "zero_treatment_values":
        what = (f"no user in {variant} converted (0 of {row.users:,.0f}) while some in "
                f"{control} did" if proportion else
                f"every user in {variant} has the value 0 while {control} varies")
        return (f"{what}: with no variation in {variant} the change (-100%) has no spread to "
                f"test it on either scale; check that {variant} records this metric, or "
                "collect more users")
    constant = [(name, mean) for name, mean, var in ((control, mc, moments.var[c.base]),
                                                     (variant, mt, moments.var[c.row]))
                if var <= 0]
    if not constant:
        return ("after the CUPED adjustment no variation is left in either arm (the "
                "pre-period explains it all), so there is nothing to test")
    if proportion:
        said = " and ".join(f"{name} converted {mean:.0%} of its users" for name, mean in constant)
    else:
        said = " and ".join(f"every user in {name} has the value {mean:g}"
                            for name, mean in constant)
    within = "either arm" if len(constant) == 2 else "that arm"
    return (f"{said}: with no variation within {within} there is no standard error to "
            "test with (as in gbstats); collect more users, or check that every arm records "
            "this metric")


def _too_few(arms: Sequence[tuple[str, float]]) -> str:
    """Which arms have fewer users than a comparison needs, how many they have, and how
    many they need."""
    small = [(name, users) for name, users in arms if users < FEWEST_USERS]
    said = " and ".join(f"{name} has {'1 user' if users == 1 else 'no users counted'}"
                        for name, users in small)
    names = " and ".join(name for name, _ in small)
    return (f"{said}: a comparison needs at least {FEWEST_USERS} users in each arm to "
            f"estimate a variance, and far more to detect a change; collect more users in "
            f"{names} (the power planner says how many)")
