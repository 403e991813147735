"""A results CSV read column by column into one ResultColumns per experiment.

The checks are those of `io.parse_results_csv`, done on whole columns; when any fails (or the
file is unusual: blank lines, short rows) the row parser reads the file instead, so every
error message stays exactly its own.
"""

from __future__ import annotations

import csv
import io
import sys
from pathlib import Path

import numpy as np

from growthlab.io import (
    MAX_FIELD_CHARS,
    MAX_MAGNITUDE,
    MAX_USERS,
    MIN_MAGNITUDE,
    parse_results_csv,
    read_file,
    read_text,
    safe_cell,
)
from growthlab.stats.analysis import CUPED_COLUMNS
from growthlab.stats.table import NUMBERS, ResultColumns

NAMES = ("experiment", "metric", "variant")
CHUNK = 100_000


class _Unusual(Exception):
    """The column reader cannot vouch for this file; the row parser decides."""


def read_results_columns(path: str | Path) -> list[ResultColumns]:
    """The results of each experiment, in the order experiments first appear."""
    data = read_file(path)
    try:
        return _columns(read_text(data, str(path)))
    except (_Unusual, csv.Error):
        return _from_rows(parse_results_csv(data, str(path)))


def _from_rows(rows) -> list[ResultColumns]:
    experiments: dict[str, list] = {}
    for r in rows:
        experiments.setdefault(r.experiment, []).append(r)
    return [ResultColumns.from_rows(part) for part in experiments.values()]


def _columns(text: str) -> list[ResultColumns]:
    reader = csv.reader(io.StringIO(text, newline=""))
    header = [h.strip().lower() for h in next(reader, [])]
    if (len(set(header)) != len(header) or not {"metric", "variant", "users"} <= set(header)
            or not ("conversions" in header or {"sum", "sum_squares"} <= set(header))):
        raise _Unusual
    names: dict[str, list] = {c: [] for c in NAMES if c in header}
    numbers: dict[str, list] = {c: [] for c in NUMBERS if c in header}
    while chunk := [values for _, values in zip(range(CHUNK), reader, strict=False)]:
        if any(len(values) != len(header) for values in chunk):
            raise _Unusual
        by_column = dict(zip(header, zip(*chunk, strict=True), strict=True))
        if max(max(map(len, values)) for values in by_column.values()) > MAX_FIELD_CHARS:
            raise _Unusual
        for column, parts in names.items():
            parts.append(list(map(sys.intern, map(str.strip, by_column[column]))))
        for column, parts in numbers.items():
            parts.append(_floats(by_column[column]))
    if not names["metric"]:
        raise _Unusual
    text_columns = {c: np.array([v for p in parts for v in p], dtype=object)
                    for c, parts in names.items()}
    size = len(text_columns["metric"])
    columns = {c: np.concatenate(parts) if c in numbers else np.full(size, np.nan)
               for c, parts in ((c, numbers.get(c)) for c in NUMBERS)}
    experiment = text_columns.get("experiment", np.full(size, "", dtype=object))
    _check(experiment, text_columns["metric"], text_columns["variant"], columns)
    return _split(experiment, text_columns["metric"], text_columns["variant"], columns)


def _floats(values: tuple[str, ...]) -> np.ndarray:
    """Python's own float() of each field (NaN for an empty one), as the row parser reads."""
    try:
        return np.fromiter(map(float, values), dtype=float, count=len(values))
    except ValueError:
        try:
            return np.array([float(v) if v.strip() else np.nan for v in values], dtype=float)
        except ValueError:
            raise _Unusual from None


def _check(experiment, metric, variant, c: dict[str, np.ndarray]) -> None:
    """Every rule of the row parser, on whole columns; _Unusual when one is broken."""
    for names in (metric, variant):
        if any(not v or safe_cell(v) != v for v in set(names.tolist())):
            raise _Unusual
    if len(set(zip(experiment.tolist(), metric.tolist(), variant.tolist(),
                   strict=True))) != len(metric):
        raise _Unusual
    users, conversions = c["users"], c["conversions"]
    proportion = ~np.isnan(conversions)
    mean = ~proportion
    with np.errstate(invalid="ignore"):
        bad = (~_whole(users) | (users < 0) | (users > MAX_USERS)
               | (proportion & (~_whole(conversions) | (conversions < 0)
                                | (conversions > users))))
        for column in ("sum", "sum_squares"):
            bad |= mean & ~_computable(c[column])
        bad |= mean & (c["sum_squares"] < 0)
        given = [mean & ~np.isnan(c[col]) for col in CUPED_COLUMNS]
        for col, present in zip(CUPED_COLUMNS, given, strict=True):
            bad |= present & ~_computable(c[col])
        bad |= (given[0] != given[1]) | (given[0] != given[2])
    if bad.any() or _mixed_cuped(experiment, metric, mean, given[0]):
        raise _Unusual
    for column in ("sum", "sum_squares", *CUPED_COLUMNS):
        c[column][proportion] = np.nan


def _whole(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (values == np.trunc(values))


def _computable(values: np.ndarray) -> np.ndarray:
    size = np.abs(values)
    return np.isfinite(values) & ((values == 0) | ((size >= MIN_MAGNITUDE)
                                                   & (size <= MAX_MAGNITUDE)))


def _mixed_cuped(experiment, metric, mean, cuped) -> bool:
    """A mean metric with CUPED columns for some variants and not others."""
    seen: dict[tuple, set] = {}
    for key, has in zip(zip(experiment[mean].tolist(), metric[mean].tolist(), strict=True),
                        cuped[mean].tolist(), strict=True):
        seen.setdefault(key, set()).add(has)
    return any(len(s) > 1 for s in seen.values())


def _split(experiment, metric, variant, columns) -> list[ResultColumns]:
    names, code = np.unique(experiment, return_inverse=True)
    first = np.unique(code, return_index=True)[1]
    parts = []
    for k in np.argsort(first, kind="stable"):
        rows = np.flatnonzero(code == k)
        parts.append(ResultColumns(metric[rows], variant[rows],
                                   *(columns[c][rows] for c in NUMBERS),
                                   experiment=str(names[k])))
    return parts
