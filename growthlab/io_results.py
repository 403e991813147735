"""A results CSV read column by column into one ResultColumns per experiment.

The checks are those of `io.parse_results_csv`, done on whole columns; when any fails (or the
file is unusual: quoted fields, blank lines, short rows) the row parser reads the file instead,
so every error message stays exactly its own.
"""

from __future__ import annotations

import sys
from operator import methodcaller
from pathlib import Path

import numpy as np

from growthlab.io import (
    FORMULA_PREFIXES,
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
EMPTY = {"": "nan"}


class _Unusual(Exception):
    """The column reader cannot vouch for this file; the row parser decides."""


def read_results_columns(path: str | Path) -> list[ResultColumns]:
    """The results of each experiment, in the order experiments first appear."""
    data = read_file(path)
    try:
        return _columns(read_text(data, str(path)))
    except _Unusual:
        return _from_rows(parse_results_csv(data, str(path)))


def _from_rows(rows) -> list[ResultColumns]:
    experiments: dict[str, list] = {}
    for r in rows:
        experiments.setdefault(r.experiment, []).append(r)
    return [ResultColumns.from_rows(part) for part in experiments.values()]


def _columns(text: str) -> list[ResultColumns]:
    header, lines = _lines(text)
    if (len(set(header)) != len(header) or not {"metric", "variant", "users"} <= set(header)
            or not ("conversions" in header or {"sum", "sum_squares"} <= set(header))):
        raise _Unusual
    at = {name: i for i, name in enumerate(header)}
    names: dict[str, list] = {c: [] for c in NAMES if c in at}
    numbers: dict[str, list] = {c: [] for c in NUMBERS if c in at}
    for start in range(0, len(lines), CHUNK):
        part = lines[start:start + CHUNK]
        fields = ",".join(part).split(",")
        if max(map(len, part)) > MAX_FIELD_CHARS and max(map(len, fields)) > MAX_FIELD_CHARS:
            raise _Unusual
        for column, parts in names.items():
            parts.extend(map(sys.intern, map(str.strip, fields[at[column]::len(header)])))
        for column, parts in numbers.items():
            parts.append(_floats(fields[at[column]::len(header)]))
    text_columns = {c: np.array(parts, dtype=object) for c, parts in names.items()}
    size = len(lines)
    columns = {c: np.concatenate(numbers[c]) if c in numbers else np.full(size, np.nan)
               for c in NUMBERS}
    experiment = text_columns.get("experiment", np.full(size, "", dtype=object))
    _check(text_columns["metric"], text_columns["variant"], columns)
    return _split(experiment, text_columns["metric"], text_columns["variant"], columns)


def _lines(text: str) -> tuple[list[str], list[str]]:
    """The header and the data lines of a file csv reads as one row per line, each with as
    many fields as the header: no quotes, no lone carriage return, no NUL, no blank line."""
    text = text.replace("\r\n", "\n")
    if any(c in text for c in '"\r\x00'):
        raise _Unusual
    lines = text.split("\n")
    if lines[-1] == "":
        lines.pop()
    header = [h.strip().lower() for h in lines[0].split(",")]
    commas = len(header) - 1
    if len(lines) < 2 or set(map(methodcaller("count", ","), lines)) != {commas}:
        raise _Unusual
    return header, lines[1:]


def _floats(values: list[str]) -> np.ndarray:
    """Python's own float() of each field, as the row parser reads it; NaN for an empty field
    (a field of spaces, or text that reads as NaN, is left to the row parser)."""
    joined = "".join(values)
    if not joined:
        return np.full(len(values), np.nan)
    if joined.isascii() and joined.isdigit() and "" not in values and max(map(len, values)) <= 15:
        # int() of up to 15 digits is float()'s value, read faster
        return np.fromiter(map(int, values), dtype=float, count=len(values))
    try:
        parsed = np.fromiter(map(float, map(EMPTY.get, values, values)), dtype=float,
                             count=len(values))
    except ValueError:
        raise _Unusual from None
    if np.count_nonzero(np.isnan(parsed)) != values.count(""):
        raise _Unusual
    return parsed


def _check(metric, variant, c: dict[str, np.ndarray]) -> None:
    """Every rule of the row parser, on whole columns; _Unusual when one is broken."""
    for names in (metric, variant):
        seen = set(names.tolist())
        if "" in seen or any(safe_cell(v) != v for v in seen
                             if v.startswith(FORMULA_PREFIXES) or ";" in v):
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
    if bad.any():
        raise _Unusual
    for column in ("sum", "sum_squares", *CUPED_COLUMNS):
        c[column][proportion] = np.nan


def _whole(values: np.ndarray) -> np.ndarray:
    return np.isfinite(values) & (values == np.trunc(values))


def _computable(values: np.ndarray) -> np.ndarray:
    size = np.abs(values)
    return np.isfinite(values) & ((values == 0) | ((size >= MIN_MAGNITUDE)
                                                   & (size <= MAX_MAGNITUDE)))


def _mixed_cuped(part: ResultColumns) -> bool:
    """A mean metric with CUPED columns for some variants and not others."""
    if np.isnan(part.pre_sum).all():
        return False
    names, code = part.metric_codes
    mean = ~part.proportion
    rows = np.bincount(code, mean, len(names))
    with_cuped = np.bincount(code, mean & ~np.isnan(part.pre_sum), len(names))
    return bool(np.any((with_cuped > 0) & (with_cuped < rows)))


def _split(experiment, metric, variant, columns) -> list[ResultColumns]:
    parts = []
    for name, rows in _experiments(experiment):
        part = ResultColumns(metric[rows], variant[rows], *(columns[c][rows] for c in NUMBERS),
                             experiment=name)
        if _mixed_cuped(part):
            raise _Unusual
        parts.append(part)
    return parts


def _experiments(experiment: np.ndarray) -> list[tuple[str, np.ndarray | slice]]:
    """Each experiment's name and rows, in the order experiments first appear."""
    if len(set(experiment.tolist())) == 1:
        return [(str(experiment[0]), slice(None))]
    names, first, code = np.unique(experiment, return_index=True, return_inverse=True)
    bounds = np.cumsum(np.bincount(code.ravel(), minlength=len(names)))
    groups = np.split(np.argsort(code.ravel(), kind="stable"), bounds[:-1])
    return [(str(names[k]), groups[k]) for k in np.argsort(first, kind="stable")]
