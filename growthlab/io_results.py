"""A results CSV read column by column into one ResultColumns per experiment.

The file's bytes are cut into fields with numpy (where its commas and line ends are), whole
numbers are read digit by digit on whole columns, and the checks are those of
`io.parse_results_csv` done on whole columns; when any fails (or the file is unusual: quoted
fields, blank lines, short rows, a NUL or a lone carriage return) the row parser reads the file
instead, so every error message stays exactly its own. A file split by semicolons or tabs has
no header of known columns between its commas, so the row parser reads it too.
"""

from __future__ import annotations

from dataclasses import dataclass
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
    safe_cell,
)
from growthlab.stats.analysis import CUPED_COLUMNS
from growthlab.stats.table import NUMBERS, ResultColumns

NAMES = ("experiment", "metric", "variant")
EMPTY = {"": "nan"}
BOM = b"\xef\xbb\xbf"
COMMA, NEWLINE, CARRIAGE_RETURN = ord(","), ord("\n"), ord("\r")
# Whole numbers of up to 15 digits are below 2**53: read digit by digit they are exactly the
# float Python reads.
MAX_DIGITS = 15
# Text fields up to this long are cut out of the bytes as one fixed-width array.
MAX_WIDTH = 64
CUTS = np.zeros(256, dtype=bool)  # the bytes that end a field
CUTS[[COMMA, NEWLINE]] = True
FORMULA_BYTES = np.frombuffer("".join(FORMULA_PREFIXES).encode(), dtype=np.uint8)
WHITESPACE = np.array([9, 10, 11, 12, 13, 28, 29, 30, 31, 32])  # what str.strip strips in ASCII


class _Unusual(Exception):
    """The column reader cannot vouch for this file; the row parser decides."""


def read_results_columns(path: str | Path) -> list[ResultColumns]:
    """The results of each experiment, in the order experiments first appear."""
    data = read_file(path)
    try:
        return _columns(data)
    except _Unusual:
        return _from_rows(parse_results_csv(data, str(path)))


def _from_rows(rows) -> list[ResultColumns]:
    experiments: dict[str, list] = {}
    for r in rows:
        experiments.setdefault(r.experiment, []).append(r)
    return [ResultColumns.from_rows(part) for part in experiments.values()]


def _columns(data: bytes) -> list[ResultColumns]:
    header, buf, starts, ends = _fields(data)
    if (len(set(header)) != len(header) or not {"metric", "variant", "users"} <= set(header)
            or not ("conversions" in header or {"sum", "sum_squares"} <= set(header))):
        raise _Unusual
    at = {name: i for i, name in enumerate(header)}
    size = len(starts)
    text = {c: _texts(buf, starts[:, at[c]], ends[:, at[c]]) if c in at
            else _Text(np.full(size, "", dtype=object)) for c in NAMES}
    columns = {c: _numbers(buf, starts[:, at[c]], ends[:, at[c]]) if c in at
               else np.full(size, np.nan) for c in NUMBERS}
    _check(text["metric"], text["variant"], columns)
    return _split(text, columns)


def _fields(data: bytes) -> tuple[list[str], np.ndarray, np.ndarray, np.ndarray]:
    """The header and, for a file csv reads as one row per line with as many fields as the
    header (no quotes, no lone carriage return, no NUL, no blank line), the bytes and where
    each data field starts and ends (rows x columns)."""
    data = data.removeprefix(BOM)
    if b'"' in data or b"\x00" in data or data.endswith(b"\r"):
        raise _Unusual
    if not data.isascii():
        try:
            data.decode()
        except UnicodeDecodeError:
            raise _Unusual from None
    if not data.endswith(b"\n"):
        data += b"\n"
    # padded so that a window of MAX_WIDTH bytes fits from any field's start
    buf = np.frombuffer(data + bytes(MAX_WIDTH), dtype=np.uint8)
    cuts = np.flatnonzero(CUTS[buf])
    line = data.index(b"\n")
    header = [h.strip().lower() for h in data[:line].decode().split(",")]
    width = len(header)
    if cuts.size % width or cuts.size < 2 * width:
        raise _Unusual
    kinds = buf[cuts].reshape(-1, width)
    if (kinds[:, -1] != NEWLINE).any() or (kinds[:, :-1] != COMMA).any():
        raise _Unusual
    starts = np.empty_like(cuts)
    starts[0] = 0
    np.add(cuts[:-1], 1, out=starts[1:])
    starts, ends = starts.reshape(-1, width), cuts.reshape(-1, width)
    returns = data.count(b"\r")
    if returns:  # only as CRLF: the last field of a line ends before it
        crlf = buf[ends[:, -1] - 1] == CARRIAGE_RETURN
        if np.count_nonzero(crlf) != returns:
            raise _Unusual
        ends[:, -1] -= crlf
    starts, ends = starts[1:], ends[1:]
    if (ends - starts).max() > MAX_FIELD_CHARS:
        raise _Unusual
    return header, buf, starts, ends


@dataclass(frozen=True)
class _Text:
    """A text column: each field's text, stripped as the row parser strips it; and, when read
    from plain bytes, each distinct text in the order it first appears (`names`) and each
    field's index into them (`codes`), as ResultColumns numbers them."""

    values: np.ndarray
    names: list[str] | None = None
    codes: np.ndarray | None = None
    plain: bool = False  # known to hold no empty text and nothing like a formula

    def distinct(self) -> set[str]:
        return set(self.names if self.names is not None else self.values.tolist())

    def codes_of(self, rows: np.ndarray | slice) -> tuple[list[str], np.ndarray] | None:
        """The names and codes of these rows alone."""
        if self.codes is None:
            return None
        if isinstance(rows, slice):
            return self.names, self.codes
        first, codes = _first_appearance(self.codes[rows])
        return [self.names[c] for c in self.codes[rows][first].tolist()], codes


def _texts(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> _Text:
    """A text column; the str of each distinct text is made once when its bytes are ASCII and
    need no stripping (numbered by sorting the bytes, several times faster than hashing a str
    for every field)."""
    width = int((ends - starts).max())
    if width == 0:
        return _Text(np.full(len(starts), "", dtype=object))
    chars = _chars(buf, starts, ends, width) if width <= MAX_WIDTH else None
    found = None
    if chars is not None and chars.max() < 128:
        last = chars[np.arange(len(chars)), np.maximum(ends - starts - 1, 0)]
        if not (np.isin(chars[:, 0], WHITESPACE).any() or np.isin(last, WHITESPACE).any()):
            found = _byte_codes(chars)
    if found is None:
        return _Text(np.array(list(map(str.strip, _decoded(buf, starts, ends))), dtype=object))
    first, codes = found
    names = _ascii(chars[first])
    plain = not ((ends == starts).any() or np.isin(chars[first, 0], FORMULA_BYTES).any()
                 or (chars[first] == ord(";")).any())
    return _Text(np.array(names, dtype=object)[codes], names, codes, plain)


def _chars(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray, width: int) -> np.ndarray:
    """Each field's bytes, NUL-padded to `width` (rows x width)."""
    chars = _windows(buf, width)[starts]
    chars[np.arange(width) >= (ends - starts)[:, None]] = 0
    return chars


def _ascii(chars: np.ndarray) -> list[str]:
    """ASCII rows of bytes as str: each byte is its character, one UCS-4 code unit."""
    return chars.astype(np.uint32).view(f"U{chars.shape[1]}").ravel().tolist()


def _decoded(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> list[str]:
    """Each field's text as written."""
    width = int((ends - starts).max())
    if width == 0:
        return [""] * len(starts)
    if width > MAX_WIDTH:
        data = buf.tobytes()
        return [data[a:b].decode() for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    chars = _chars(buf, starts, ends, width)
    if chars.max() < 128:
        return _ascii(chars)
    return list(map(bytes.decode, chars.view(f"S{width}").ravel().tolist()))


def _byte_codes(chars: np.ndarray) -> tuple[np.ndarray, np.ndarray] | None:
    """The first row of each distinct row of bytes, in order of appearance, and each row's
    index into them; None when two distinct rows share the number they are sorted by."""
    width = -(-chars.shape[1] // 8) * 8
    words = np.zeros((len(chars), width), dtype=np.uint8)
    words[:, :chars.shape[1]] = chars
    words = words.view(np.uint64)
    key = words[:, 0]
    for j in range(1, words.shape[1]):
        key = key * np.uint64(0x9E3779B97F4A7C15) + words[:, j]
    first, codes = _first_appearance(key)
    if words.shape[1] > 1 and (words[first[codes]] != words).any():
        return None
    return first, codes


def _first_appearance(keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The first index of each distinct key, in order of appearance, and each key's index
    into them."""
    first, inverse = np.unique(keys, return_index=True, return_inverse=True)[1:]
    order = np.argsort(first, kind="stable")
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    return first[order], rank[inverse.ravel()]


def _numbers(buf: np.ndarray, starts: np.ndarray, ends: np.ndarray) -> np.ndarray:
    """Each field as Python's float() reads it (as the row parser does), NaN when empty."""
    lengths = ends - starts
    width = int(lengths.max())
    if width == 0:
        return np.full(len(starts), np.nan)
    if width <= MAX_DIGITS:
        digits = _windows(buf, width)[ends - width] - ord("0")  # right-aligned; wraps below 0
        digits[np.arange(width) < (width - lengths)[:, None]] = 0
        if not (digits > 9).any():
            values = np.zeros(len(starts), dtype=np.int64)
            for j in range(width):
                values = values * 10 + digits[:, j]
            values = values.astype(float)
            values[lengths == 0] = np.nan
            return values
    return _floats(_decoded(buf, starts, ends))


def _windows(buf: np.ndarray, width: int) -> np.ndarray:
    """Every run of `width` bytes of buf (a view: row i starts at byte i)."""
    return np.lib.stride_tricks.sliding_window_view(buf, width)


def _floats(values: list[str]) -> np.ndarray:
    """Python's own float() of each field; NaN for an empty field (text that reads as NaN is
    left to the row parser)."""
    try:
        parsed = np.fromiter(map(float, map(EMPTY.get, values, values)), dtype=float,
                             count=len(values))
    except ValueError:
        raise _Unusual from None
    if np.count_nonzero(np.isnan(parsed)) != values.count(""):
        raise _Unusual
    return parsed


def _check(metric: _Text, variant: _Text, c: dict[str, np.ndarray]) -> None:
    """Every rule of the row parser, on whole columns; _Unusual when one is broken."""
    for names in (metric, variant):
        if not names.plain and ("" in (seen := names.distinct()) or _formula_like(seen)):
            raise _Unusual
    spellings = variant.distinct()
    if len({v.casefold() for v in spellings}) != len(spellings):
        raise _Unusual  # the row parser names the lines of two spellings of one arm
    users, conversions = c["users"], c["conversions"]
    proportion = ~np.isnan(conversions)
    mean = ~proportion
    with np.errstate(invalid="ignore"):
        bad = (~_whole(users) | (users < 1) | (users > MAX_USERS)
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


def _formula_like(names: set[str]) -> bool:
    """Whether a spreadsheet could run any of the names as a formula (each name that may is
    checked only when one of them starts like a formula or holds a semicolon)."""
    joined = "\n" + "\n".join(names)
    if ";" not in joined and not any("\n" + p in joined for p in FORMULA_PREFIXES):
        return False
    return any(safe_cell(v) != v for v in names if v.startswith(FORMULA_PREFIXES) or ";" in v)


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


def _split(text: dict[str, _Text], columns: dict[str, np.ndarray]) -> list[ResultColumns]:
    metric, variant = text["metric"], text["variant"]
    parts = []
    for name, rows in _experiments(text["experiment"].values):
        part = ResultColumns(metric.values[rows], variant.values[rows],
                             *(columns[c][rows] for c in NUMBERS), experiment=name)
        part.known_codes(metric.codes_of(rows), variant.codes_of(rows))
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
