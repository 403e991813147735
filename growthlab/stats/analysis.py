"""Analyse per-variant sufficient statistics of whole experiments in one vectorised pass."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np

from growthlab.errors import StatsError
from growthlab.stats.compare import (
    DEFAULT_N_STAR,
    Alternative,
    Difference,
    Method,
    bayesian,
    effect,
    frequentist,
    sequential,
)
from growthlab.stats.moments import Moments, cuped_adjust, mean_moments, proportion_moments
from growthlab.stats.srm import SrmResult, srm_test

Correction = Literal["none", "holm", "bh"]
CUPED_COLUMNS = ("pre_sum", "pre_sum_squares", "sum_product")
METHODS = ("frequentist", "bayesian", "sequential")
DIFFERENCES = ("relative", "absolute")
CORRECTIONS = ("none", "holm", "bh")


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


@dataclass(frozen=True)
class Options:
    method: Method = "frequentist"
    difference: Difference = "relative"
    alpha: float = 0.05
    correction: Correction = "none"
    weights: Sequence[float] | None = None
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


@dataclass
class Analysis:
    results: list[dict]
    srm: dict[str, SrmResult] = field(default_factory=dict)

    def worst_srm(self) -> tuple[str, SrmResult] | None:
        if not self.srm:
            return None
        return min(self.srm.items(), key=lambda item: item[1].p_value)


def control_of(variants: Sequence[str]) -> str:
    """The variant named `control`, else the first listed."""
    return "control" if "control" in variants else variants[0]


def drop_constant_metrics(rows: list[MetricRow]) -> tuple[list[MetricRow], list[str]]:
    """Split off proportion metrics where every arm converts all or none of its users.

    Such a metric carries no information to test (for example a milestone every assigned
    user reaches on assignment); the caller reports the skipped names.
    """
    rates: dict[tuple[str, str], set] = {}
    for r in rows:
        rate = r.conversions / r.users if r.kind == "proportion" and r.users else None
        rates.setdefault((r.experiment, r.metric), set()).add(rate)
    flat = {key for key, seen in rates.items() if seen in ({0.0}, {1.0})}
    kept = [r for r in rows if (r.experiment, r.metric) not in flat]
    skipped = list(dict.fromkeys(r.metric for r in rows if (r.experiment, r.metric) in flat))
    return kept, skipped


def _group(rows: Iterable[MetricRow]) -> dict[str, list[MetricRow]]:
    experiments: dict[str, list[MetricRow]] = {}
    for row in rows:
        experiments.setdefault(row.experiment, []).append(row)
    return experiments


def _pairs(experiment: str, rows: list[MetricRow]) -> tuple[list[tuple[MetricRow, MetricRow]], str,
                                                             list[str]]:
    """(control row, treatment row) for every metric and treatment, in the order listed."""
    by_metric: dict[str, dict[str, MetricRow]] = {}
    for r in rows:
        arms = by_metric.setdefault(r.metric, {})
        if r.variant in arms:
            raise StatsError(f"{_name(experiment)}metric '{r.metric}', variant '{r.variant}' "
                             "appears twice; keep one row per metric per variant")
        arms[r.variant] = r
    variants = list(dict.fromkeys(r.variant for r in rows))
    if len(variants) < 2:
        raise StatsError(f"{_name(experiment)}only one variant ({variants[0]!r}); "
                         "results need a control and at least one treatment")
    control = control_of(variants)
    pairs = []
    for metric, arms in by_metric.items():
        base = arms.get(control)
        if base is None:
            raise StatsError(f"{_name(experiment)}metric '{metric}' has no row for the control "
                             f"variant '{control}'")
        for variant, row in arms.items():
            if variant == control:
                continue
            if (row.conversions is None) != (base.conversions is None):
                raise StatsError(f"{_name(experiment)}metric '{metric}' is a {base.kind} for "
                                 f"'{control}' but a {row.kind} for '{variant}'")
            pairs.append((base, row))
    return pairs, control, variants


def _name(experiment: str) -> str:
    return f"experiment '{experiment}', " if experiment else ""


def _label(row: MetricRow) -> str:
    return f"{_name(row.experiment)}metric '{row.metric}', variant '{row.variant}'"


class _Labels:
    """Row labels built only when an error needs one (100k f-strings cost real time)."""

    def __init__(self, rows: list[MetricRow]):
        self.rows = rows

    def __getitem__(self, i: int) -> str:
        return _label(self.rows[i])

    def __len__(self) -> int:
        return len(self.rows)


def _moments(rows: list[MetricRow], kind: str) -> Moments:
    labels = _Labels(rows)
    users = [r.users for r in rows]
    if kind == "proportion":
        return proportion_moments(users, [r.conversions for r in rows], labels)
    return mean_moments(users, [r.sum for r in rows], [r.sum_squares for r in rows], labels)


def _pair_moments(pairs, options: Options) -> tuple[Moments, Moments]:
    """Moments for control and treatment of every pair, in pair order (computed per kind)."""
    size = len(pairs)
    arms = [{f: np.empty(size) for f in ("n", "mean", "var")} for _ in range(2)]
    for kind in ("proportion", "mean"):
        idx = np.array([i for i, (c, _) in enumerate(pairs) if c.kind == kind], dtype=int)
        if not idx.size:
            continue
        c = _moments([pairs[i][0] for i in idx], kind)
        t = _moments([pairs[i][1] for i in idx], kind)
        if kind == "mean" and options.cuped:
            c, t = _apply_cuped(c, t, [pairs[i] for i in idx])
        for arm, m in zip(arms, (c, t), strict=True):
            for name, column in arm.items():
                column[idx] = getattr(m, name)
    return Moments(**arms[0]), Moments(**arms[1])


def _apply_cuped(c: Moments, t: Moments, pairs) -> tuple[Moments, Moments]:
    use = np.array([a.has_cuped and b.has_cuped for a, b in pairs])
    if not use.any():
        return c, t
    pre = {}
    for arm, which in (("c", 0), ("t", 1)):
        for col in CUPED_COLUMNS:
            pre[f"{arm}_{col}"] = np.array([getattr(p[which], col) or 0.0 for p in pairs], float)
    ac, at = cuped_adjust(c, t, pre, _Labels([b for _, b in pairs]))

    def pick(adjusted: Moments, raw: Moments) -> Moments:
        return Moments(raw.n, np.where(use, adjusted.mean, raw.mean),
                       np.where(use, adjusted.var, raw.var))

    return pick(ac, c), pick(at, t)


def _adjust(p_values: np.ndarray, correction: Correction) -> np.ndarray:
    if correction == "none" or p_values.size == 0:
        return p_values
    from statsmodels.stats.multitest import multipletests

    method = {"holm": "holm", "bh": "fdr_bh"}[correction]
    return multipletests(p_values, method=method)[1]


def analyze(rows: Iterable[MetricRow], options: Options | None = None) -> Analysis:
    """Compare every treatment with control for every metric of every experiment."""
    options = options or Options()
    groups = _group(rows)
    if not groups:
        raise StatsError("no result rows to analyse")
    pairs, srm, experiment_of = [], {}, []
    for experiment, exp_rows in groups.items():
        exp_pairs, control, variants = _pairs(experiment, exp_rows)
        pairs.extend(exp_pairs)
        experiment_of.extend([experiment] * len(exp_pairs))
        srm[experiment] = _srm(experiment, exp_rows, control, variants, options.weights)
    if not pairs:
        raise StatsError("no metric has both a control and a treatment row")
    control, treatment = _pair_moments(pairs, options)
    eff = effect(control, treatment, options.difference, _Labels([p[1] for p in pairs]))
    if options.method == "frequentist":
        test = frequentist(eff, options.alpha, options.alternative)
    elif options.method == "sequential":
        test = sequential(eff, options.alpha, options.n_star)
    else:
        test = bayesian(eff, options.alpha, options.prior_mean, options.prior_sd)
    adjusted = None
    if test.p_value is not None:
        adjusted = np.array(test.p_value, dtype=float)
        families = np.array(experiment_of, dtype=object)
        for experiment in groups:
            mask = families == experiment
            adjusted[mask] = _adjust(test.p_value[mask], options.correction)
    return Analysis(_results(pairs, control, treatment, test, adjusted, options), srm)


def sample_ratio(rows: list[MetricRow], weights: Sequence[float] | None = None) -> SrmResult:
    """The SRM check of one experiment's rows on their own: it stays meaningful when the
    metrics cannot be analysed (an arm with 0 users is the clearest mismatch of all)."""
    variants = list(dict.fromkeys(r.variant for r in rows))
    if len(variants) < 2:
        raise StatsError("a sample-ratio check needs at least two variants")
    return _srm(rows[0].experiment, rows, control_of(variants), variants, weights)


def _srm(experiment, rows, control, variants, weights) -> SrmResult:
    users: dict[str, float] = {}
    for r in rows:
        users.setdefault(r.variant, r.users)
    ordered = [control] + [v for v in variants if v != control]
    if weights is not None and len(weights) != len(ordered):
        raise StatsError(f"{_name(experiment)}{len(weights)} weights given for {len(ordered)} "
                         f"variants ({', '.join(ordered)}); give one weight per variant")
    return srm_test([users[v] for v in ordered], weights)


def _column(values) -> list:
    """A numpy column as Python floats, with inf/NaN as None (JSON null)."""
    if values is None:
        return []
    array = np.asarray(values, dtype=float)
    return [v if f else None for v, f in zip(array.tolist(), np.isfinite(array).tolist(),
                                             strict=True)]


def _results(pairs, control: Moments, treatment: Moments, test, adjusted, options) -> list:
    size = len(pairs)
    p = _column(test.p_value) or [None] * size
    adj = _column(adjusted) if adjusted is not None and options.correction != "none" else [
        None] * size
    ctw = _column(test.chance_to_win) or [None] * size
    risk_c, risk_t = _column(test.risk_control), _column(test.risk_treatment)
    columns = zip(pairs, _column(treatment.mean), _column(control.mean), _column(test.estimate),
                  _column(test.ci_low), _column(test.ci_high), p, adj, ctw, strict=True)
    out = []
    for k, ((base, row), mean, control_mean, estimate, low, high, p_k, adj_k, ctw_k) in \
            enumerate(columns):
        if ctw_k is not None:
            significant = ctw_k > 1 - options.alpha / 2 or ctw_k < options.alpha / 2
            risk = {"control": risk_c[k], "treatment": risk_t[k]}
        else:
            significant = (adj_k if options.correction != "none" else p_k) < options.alpha
            risk = None
        out.append({
            "experiment": row.experiment or None, "metric": row.metric, "kind": row.kind,
            "variant": row.variant, "control": base.variant, "users": int(row.users),
            "control_users": int(base.users), "mean": mean, "control_mean": control_mean,
            "difference": options.difference, "estimate": estimate, "ci_low": low,
            "ci_high": high, "p_value": p_k, "adjusted_p_value": adj_k, "chance_to_win": ctw_k,
            "risk": risk, "significant": bool(significant)})
    return out
