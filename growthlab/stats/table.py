"""One experiment's results held as columns, analysed without a row object or a result dict
per comparison: a results table of a million rows fits in memory and analyses in seconds.

The figures are those of `analyze` (same formulas, same failures, same correction); a
result dict is built only for the comparisons a page shows.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, fields
from functools import cached_property

import numpy as np

from growthlab.errors import StatsError
from growthlab.stats.analysis import (
    CUPED_COLUMNS,
    FAILURES,
    MetricRow,
    Options,
    Weights,
    _arm,
    _Comparison,
    _cuped_pairs,
    _failure_message,
    _figures,
    _finite,
    _name,
    _test,
    control_of,
    planned_weights,
)
from growthlab.stats.compare import effect
from growthlab.stats.moments import Moments, mean_moments, proportion_moments
from growthlab.stats.srm import SrmResult, srm_test, srm_tests

NUMBERS = ("users", "conversions", "sum", "sum_squares", *CUPED_COLUMNS)


@dataclass(frozen=True)
class ResultColumns:
    """Per-variant sufficient statistics of one experiment, one array entry per row; NaN
    where a row has no such figure (a proportion has no sum, a mean no conversions)."""

    metric: np.ndarray
    variant: np.ndarray
    users: np.ndarray
    conversions: np.ndarray
    sum: np.ndarray
    sum_squares: np.ndarray
    pre_sum: np.ndarray
    pre_sum_squares: np.ndarray
    sum_product: np.ndarray
    experiment: str = ""

    @classmethod
    def from_tuples(cls, rows: Sequence[tuple], experiment: str = "") -> ResultColumns:
        """From (metric, variant, users, conversions, sum, sum_squares, pre_sum,
        pre_sum_squares, sum_product) tuples, None for a missing figure."""
        values = list(zip(*rows, strict=True)) or [()] * (2 + len(NUMBERS))
        text = [np.array(values[k], dtype=object).reshape(len(rows)) for k in range(2)]
        numbers = [np.array(values[k], dtype=float).reshape(len(rows))
                   for k in range(2, 2 + len(NUMBERS))]
        return cls(*text, *numbers, experiment=experiment)

    @classmethod
    def concat(cls, parts: Sequence[ResultColumns], experiment: str = "") -> ResultColumns:
        if not parts:
            return cls.from_tuples([], experiment)
        return cls(*(np.concatenate([getattr(p, f.name) for p in parts])
                     for f in fields(cls)[:-1]), experiment=experiment)

    @classmethod
    def from_rows(cls, rows: Sequence[MetricRow]) -> ResultColumns:
        return cls.from_tuples([(r.metric, r.variant, *(getattr(r, c) for c in NUMBERS))
                                for r in rows], rows[0].experiment if rows else "")

    def __len__(self) -> int:
        return len(self.metric)

    def take(self, index: np.ndarray) -> ResultColumns:
        taken = ResultColumns(*(getattr(self, f.name)[index] for f in fields(self)[:-1]),
                              experiment=self.experiment)
        renumbered = []  # not rehashed, and numbered by first appearance among the rows kept
        for names, codes in (self.metric_codes, self.variant_codes):
            kept = codes[index]
            present, first = np.unique(kept, return_index=True)
            order = present[np.argsort(first)]
            code = np.empty(len(names), dtype=np.int64)
            code[order] = np.arange(len(order))
            renumbered.append(([names[k] for k in order], code[kept]))
        taken.known_codes(*renumbered)
        return taken

    def known_codes(self, metric: tuple[list[str], np.ndarray] | None,
                    variant: tuple[list[str], np.ndarray] | None) -> None:
        """Set `metric_codes` / `variant_codes` where the caller already knows them (None:
        found when first asked), sparing a hash of every row's text."""
        for name, found in (("metric_codes", metric), ("variant_codes", variant)):
            if found is not None:
                self.__dict__[name] = found

    @cached_property
    def metric_codes(self) -> tuple[list[str], np.ndarray]:
        """Metric names in the order they first appear, and each row's index into them."""
        return _codes(self.metric)

    @cached_property
    def variant_codes(self) -> tuple[list[str], np.ndarray]:
        return _codes(self.variant)

    def row(self, i: int) -> MetricRow:
        figures = {c: _number(getattr(self, c)[i]) for c in NUMBERS}
        return MetricRow(metric=self.metric[i], variant=self.variant[i],
                         experiment=self.experiment, **figures)

    @property
    def proportion(self) -> np.ndarray:
        return ~np.isnan(self.conversions)

    def variants(self) -> list[str]:
        """Variant names in the order they first appear."""
        return self.variant_codes[0]


def _number(value: float) -> float | None:
    return None if np.isnan(value) else float(value)


def _codes(values: np.ndarray) -> tuple[list[str], np.ndarray]:
    """Each distinct value's code, numbered in the order values first appear."""
    values = values.tolist()
    index = {v: i for i, v in enumerate(dict.fromkeys(values))}
    return list(index), np.fromiter(map(index.__getitem__, values), dtype=np.int64,
                                    count=len(values))


class _Labels:
    """Row labels for error messages, built only when one is needed."""

    def __init__(self, columns: ResultColumns, index: np.ndarray):
        self.columns, self.index = columns, index

    def __getitem__(self, i: int) -> str:
        j = self.index[i]
        return (f"{_name(self.columns.experiment)}metric '{self.columns.metric[j]}', variant "
                f"'{self.columns.variant[j]}'")

    def __len__(self) -> int:
        return len(self.index)


def drop_constant_metrics(columns: ResultColumns) -> tuple[ResultColumns, list[str]]:
    """As `analysis.drop_constant_metrics`: proportion metrics every arm converts all or none
    of its users (an arm with no users saying nothing either way) carry nothing to test; they
    are split off and named."""
    names, code = columns.metric_codes
    with np.errstate(invalid="ignore", divide="ignore"):
        rate = np.where(columns.proportion & (columns.users > 0),
                        columns.conversions / columns.users, np.nan)
    rows = np.bincount(code, ~(columns.proportion & (columns.users == 0)), len(names))
    flat = (rows > 0) & ((np.bincount(code, rate == 0, len(names)) == rows)
                         | (np.bincount(code, rate == 1, len(names)) == rows))
    keep = ~flat[code]
    return columns.take(np.flatnonzero(keep)), [n for n, f in zip(names, flat, strict=True) if f]


def sample_ratio(columns: ResultColumns, weights: Weights | None = None) -> SrmResult:
    """As `analysis.sample_ratio`: users per variant (each variant's first row) against the
    planned split."""
    names, code = columns.variant_codes
    if len(names) < 2:
        raise StatsError("a sample-ratio check needs at least two variants")
    first = np.unique(code, return_index=True)[1]
    return srm_test(columns.users[first].tolist(),
                    planned_weights(names, weights, columns.experiment), names)


@dataclass
class ColumnAnalysis:
    """Every comparison's figures as arrays (NaN where there is none); `result(k)` is the
    k-th result dict exactly as `analyze` writes it."""

    columns: ResultColumns
    options: Options
    metric: np.ndarray  # per comparison: the metric and variant compared with `control`
    variant: np.ndarray
    control: str
    base: np.ndarray  # row index of the control (-1: missing)
    row: np.ndarray  # row index of the variant (-1: missing)
    failure: np.ndarray  # index in FAILURES, 0 when computed
    figures: dict[str, np.ndarray | None]
    moments: Moments

    def __len__(self) -> int:
        return len(self.metric)

    @property
    def significant(self) -> np.ndarray:
        return self.figures["significant"]

    @property
    def failed(self) -> np.ndarray:
        return self.failure > 0

    @property
    def corrected_away(self) -> np.ndarray:
        """Comparisons significant by their own p-value but not by the adjusted one."""
        p, adjusted = self.figures["p_value"], self.figures["adjusted_p_value"]
        if p is None or adjusted is None:
            return np.zeros(len(self), dtype=bool)
        with np.errstate(invalid="ignore"):
            return (p < self.options.alpha) & ~self.significant & ~self.failed

    def figure_names(self) -> tuple[str, ...]:
        """The optional figures this method reports (p-value, adjusted p, chance to win)."""
        return tuple(f for f in ("p_value", "adjusted_p_value", "chance_to_win")
                     if self.figures[f] is not None)

    def result(self, k: int) -> dict:
        base = self.columns.row(self.base[k]) if self.base[k] >= 0 else None
        row = self.columns.row(self.row[k]) if self.row[k] >= 0 else None
        value = {name: self._figure(name, k) for name in (
            "estimate", "ci_low", "ci_high", "p_value", "adjusted_p_value", "chance_to_win",
            "risk_control", "risk_treatment")}
        risk = None
        if value["risk_control"] is not None:
            risk = {"control": value["risk_control"], "treatment": value["risk_treatment"]}
        code = FAILURES[self.failure[k]]
        error = None
        if code is not None:
            comparison = _Comparison(self.metric[k], self.control, self.variant[k],
                                     _index(self.base[k]), _index(self.row[k]))
            error = {"code": code, "message": _failure_message(code, comparison, base, row,
                                                               self.moments)}
        means = self.moments.mean
        return {
            "experiment": self.columns.experiment or None, "metric": self.metric[k],
            "kind": (row or base).kind, "variant": self.variant[k], "control": self.control,
            "users": int(row.users) if row else None,
            "control_users": int(base.users) if base else None,
            "mean": _finite(float(means[self.row[k]])) if row else None,
            "control_mean": _finite(float(means[self.base[k]])) if base else None,
            "difference": self.options.difference, "estimate": value["estimate"],
            "ci_low": value["ci_low"], "ci_high": value["ci_high"],
            "p_value": value["p_value"], "adjusted_p_value": value["adjusted_p_value"],
            "chance_to_win": value["chance_to_win"], "risk": risk,
            "significant": bool(self.significant[k]), "error": error}

    def results(self, index) -> list[dict]:
        return [self.result(int(k)) for k in index]

    def records(self, keys: Sequence[str], start: int = 0, stop: int | None = None) -> list[dict]:
        """Result dicts of comparisons start..stop as `result` builds them, with these keys in
        this order."""
        values = self.fields(start, stop)
        return [dict(zip(keys, v, strict=True)) for v in zip(*(values[key] for key in keys),
                                                             strict=True)]

    def fields(self, start: int = 0, stop: int | None = None) -> dict[str, list]:
        """Each field of the result dicts of comparisons start..stop, as a list of the values
        `result` gives it, made column by column (a million comparisons in about a second)."""
        k = np.arange(start, len(self) if stop is None else min(stop, len(self)))
        base, row = self.base[k], self.row[k]
        either = np.where(row >= 0, row, base)
        users, means = self.columns.users, self.moments.mean
        figures = {name: _column(self.figures[name], k) for name in (
            "estimate", "ci_low", "ci_high", "p_value", "adjusted_p_value", "chance_to_win",
            "risk_control", "risk_treatment")}
        risk = [None if c is None else {"control": c, "treatment": t} for c, t in zip(
            figures.pop("risk_control"), figures.pop("risk_treatment"), strict=True)]
        error = [None] * len(k)
        for j in np.flatnonzero(self.failure[k]).tolist():
            error[j] = self.result(int(k[j]))["error"]
        kind = np.where(self.columns.proportion[either], "proportion", "mean").tolist()
        return figures | {
            "experiment": [self.columns.experiment or None] * len(k),
            "metric": self.metric[k].tolist(), "kind": kind, "variant": self.variant[k].tolist(),
            "control": [self.control] * len(k),
            "users": _optional(users[row].astype(np.int64), row),
            "control_users": _optional(users[base].astype(np.int64), base),
            "mean": _means(means, row), "control_mean": _means(means, base),
            "difference": [self.options.difference] * len(k), "risk": risk,
            "significant": self.significant[k].tolist(), "error": error}

    def _figure(self, name: str, k: int) -> float | None:
        values = self.figures[name]
        if values is None or not np.isfinite(values[k]):
            return None
        return float(values[k])


def _column(values: np.ndarray | None, k: np.ndarray) -> list:
    """Python floats, None where there is no finite figure (JSON null)."""
    if values is None:
        return [None] * len(k)
    taken = values[k]
    return [v if f else None for v, f in zip(taken.tolist(), np.isfinite(taken).tolist(),
                                             strict=True)]


def _means(means: np.ndarray, index: np.ndarray) -> list:
    """The means of rows `index`, None where the row is missing or has no users."""
    taken = means[index]
    return _optional(taken, np.where(np.isfinite(taken), index, -1))


def _optional(values: np.ndarray, index: np.ndarray) -> list:
    """Python numbers, None where the row is missing (index -1)."""
    return [v if i >= 0 else None for v, i in zip(values.tolist(), index.tolist(), strict=True)]


def analyze_experiments(parts: Sequence[ResultColumns], options: Options | None = None
                        ) -> tuple[list[ColumnAnalysis], dict[str, SrmResult]]:
    """`analyze_columns` for each experiment and the sample-ratio check of each, as
    `analyze` gives them for the rows of all experiments together."""
    options = options or Options()
    if not parts:
        raise StatsError("no result rows to analyse")
    analyses = [analyze_columns(p, options) for p in parts]
    inputs = []
    for p in parts:
        names, code = p.variant_codes
        first = np.unique(code, return_index=True)[1]
        inputs.append((p.users[first].tolist(),
                       planned_weights(names, options.weights, p.experiment), names))
    srm = srm_tests(*zip(*inputs, strict=True))
    return analyses, dict(zip((p.experiment for p in parts), srm, strict=True))


def _index(i: int) -> int | None:
    return None if i < 0 else int(i)


def analyze_columns(columns: ResultColumns, options: Options | None = None) -> ColumnAnalysis:
    """Compare every treatment with the control on every metric of one experiment, as
    `analyze` does for its rows, in one vectorised pass."""
    options = options or Options()
    experiment = columns.experiment
    if not len(columns):
        raise StatsError("no result rows to analyse")
    metrics, m = columns.metric_codes
    variants, v = columns.variant_codes
    _check_unique(columns, m * len(variants) + v)
    if len(variants) < 2:
        raise StatsError(f"{_name(experiment)}only one variant ({variants[0]!r}); "
                         "results need a control and at least one treatment")
    control = control_of(variants, options.control, experiment)
    grid = np.full((len(metrics), len(variants)), -1, dtype=np.int64)
    grid[m, v] = np.arange(len(columns))
    c = variants.index(control)
    present = (grid >= 0) | (grid[:, [c]] >= 0)
    present[:, c] = False
    mi, vi = np.nonzero(present)
    row, base = grid[mi, vi], grid[mi, c]
    proportion = columns.proportion
    complete = np.flatnonzero((row >= 0) & (base >= 0))
    _check_kinds(columns, proportion, base[complete], row[complete], control)
    moments = _row_moments(columns, proportion)
    control_m, treatment_m = _pair_moments(columns, moments, base[complete], row[complete],
                                           options)
    eff = effect(control_m, treatment_m, options.difference)
    failure = np.where(row < 0, FAILURES.index("missing_treatment_row"),
                       np.where(base < 0, FAILURES.index("missing_control_row"), 0)
                       ).astype(np.int8)
    failure[complete] = eff.failure
    figures = _figures(len(mi), complete, failure, _test(eff, options, control_m),
                       np.zeros(len(mi), dtype=int), options,
                       proportion[np.where(row >= 0, row, base)])
    metric_names = np.array(metrics, dtype=object)
    variant_names = np.array(variants, dtype=object)
    return ColumnAnalysis(columns, options, metric_names[mi], variant_names[vi], control, base,
                          row, failure, figures, moments)


def _check_unique(columns: ResultColumns, key: np.ndarray) -> None:
    order = np.argsort(key, kind="stable")
    repeated = np.flatnonzero(key[order][1:] == key[order][:-1])
    if repeated.size:
        i = int(order[1:][repeated].min())
        raise StatsError(f"{_name(columns.experiment)}metric '{columns.metric[i]}', variant "
                         f"'{columns.variant[i]}' appears twice; keep one row per metric per "
                         "variant")


def _check_kinds(columns, proportion, base, row, control) -> None:
    mixed = np.flatnonzero(proportion[base] != proportion[row])
    if mixed.size:
        b, r = base[mixed[0]], row[mixed[0]]
        kind = {True: "proportion", False: "mean"}
        raise StatsError(f"{_name(columns.experiment)}metric '{columns.metric[b]}' is a "
                         f"{kind[bool(proportion[b])]} for '{control}' but a "
                         f"{kind[bool(proportion[r])]} for '{columns.variant[r]}'")


def _row_moments(columns: ResultColumns, proportion: np.ndarray) -> Moments:
    size = len(columns)
    out = {f: np.empty(size) for f in ("n", "mean", "var")}
    for is_proportion in (True, False):
        idx = np.flatnonzero(proportion == is_proportion)
        if not idx.size:
            continue
        labels = _Labels(columns, idx)
        if is_proportion:
            m = proportion_moments(columns.users[idx], columns.conversions[idx], labels)
        else:
            m = mean_moments(columns.users[idx], columns.sum[idx], columns.sum_squares[idx],
                             labels)
        for name, column in out.items():
            column[idx] = getattr(m, name)
    return Moments(**out)


def _pair_moments(columns: ResultColumns, moments: Moments, base: np.ndarray, row: np.ndarray,
                  options: Options) -> tuple[Moments, Moments]:
    control, treatment = _arm(moments, base), _arm(moments, row)
    if not options.cuped:
        return control, treatment
    has = np.logical_and.reduce([~np.isnan(getattr(columns, c)) for c in CUPED_COLUMNS])
    use = has[base] & has[row]
    if not use.any():
        return control, treatment
    b, t = base[use], row[use]
    pre = {f"{arm}_{col}": getattr(columns, col)[idx]
           for arm, idx in (("c", b), ("t", t)) for col in ("sum_squares", *CUPED_COLUMNS)}
    return _cuped_pairs(moments, (control, treatment), use, (b, t), pre,
                        (_Labels(columns, b), _Labels(columns, t)))
