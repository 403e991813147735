"""Import and export of the public file formats, validated with file/line/column errors."""

from __future__ import annotations

import csv
import io
import math
import re
import struct
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from growthlab.errors import InputError

if TYPE_CHECKING:  # the statistics engine loads numpy and scipy; only results files need it
    from growthlab.stats.analysis import MetricRow

MAX_FIELD_CHARS = 10_000
MAX_USERS = 10**12
# Sums within 1e-30..1e30 in size keep every square, product and ratio the statistics take
# inside float64; past that they overflow or vanish into denormals.
MIN_MAGNITUDE, MAX_MAGNITUDE = 1e-30, 1e30
FORMULA_PREFIXES = ("=", "+", "-", "@", "\t", "\r")
# Spreadsheets in locales that split cells on ";" would start a new cell here.
_AFTER_SEMICOLON = re.compile(r";\s*[=+\-@]")
_BOUND = r"(?:[+-]?\d[\d,]*(?:\.\d+)?(?:e[+-]?\d+)?(?: ?(?:%|pp))?|unbounded)"
# A signed number, percentage or interval the app formatted: nothing a spreadsheet can run.
_FIGURE = re.compile(rf"{_BOUND}(?: to {_BOUND})?")
# Spreadsheets save "CSV" with semicolons between fields where the comma is the decimal mark,
# and tab-delimited text with either mark.
SEPARATORS = {",": "comma", ";": "semicolon", "\t": "tab"}
_DECIMAL_COMMA = re.compile(r"[+-]?\d+,\d+(?:[eE][+-]?\d+)?")
# 1-3 digits, a mark, 3 digits: a thousands separator or a decimal mark, unless the file says.
_THOUSANDS = re.compile(r"[+-]?[1-9]\d{0,2}([.,])\d{3}")


def read_text(data: bytes, source: str) -> str:
    """Decode an uploaded text file, refusing binary data and non-UTF-8 encodings."""
    if not data.strip():
        raise InputError("the file is empty", source=source)
    if looks_utf16(data[:4096]):
        raise InputError('this is UTF-16 text (Excel\'s "Unicode Text"), not UTF-8; save it as '
                         '"CSV UTF-8 (Comma delimited)"', source=source)
    if b"\x00" in data[:4096]:
        raise InputError("this looks like a binary file, not CSV text; export it as CSV",
                         source=source)
    if (nul := data.find(b"\x00")) >= 0:  # a damaged copy, or two files run together
        raise InputError("a NUL byte, which CSV text never holds: the file is damaged; "
                         "export it again", source=source, line=data.count(b"\n", 0, nul) + 1)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"not UTF-8 text (byte {exc.start}); save the file as UTF-8 CSV",
                         source=source, line=line) from None


def looks_utf16(head: bytes) -> bool:
    """A UTF-16 byte order mark, or text whose every other byte is NUL (ASCII in UTF-16)."""
    if head.startswith((b"\xff\xfe", b"\xfe\xff")):
        return True
    halves = head[0::2], head[1::2]
    return len(head) >= 4 and any(a.count(0) == len(a) and 0 not in b
                                  for a, b in (halves, halves[::-1]))


# Excel reads (and some exports write) a first line "sep=;" naming the separator.
_EXCEL_HINT = re.compile(r'"?sep=([^\w"\r\n])"?[ \t]*(?:\r?\n|$)', re.IGNORECASE)


def excel_separator(text: str) -> str | None:
    """The separator Excel's first line names ("sep=;"), or None when there is no such line."""
    found = _EXCEL_HINT.match(text)
    return found[1] if found else None


def _separator(text: str) -> str:
    """The separator Excel's first line names, else the comma, unless the header line has none
    and fields split on semicolons or tabs."""
    if hint := excel_separator(text):
        return hint
    header = text.partition("\n")[0]
    found = [s for s in SEPARATORS if s in header]
    return found[0] if len(found) == 1 else ","


def csv_records(text: str, source: str, required: Iterable[str], *,
                delimiter: str | None = None) -> tuple[list[str], list[tuple[int, dict]]]:
    """Rows as (line number, {column: text}); checks the header has the required columns.
    A first line "sep=X" sets the separator and is not the header; with no `delimiter`, a
    header split by semicolons or tabs (what Excel saves as CSV in many locales) sets it."""
    hint = excel_separator(text)
    delimiter = hint or delimiter or _separator(text)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        if hint:
            next(reader)
        header = next(reader)
    except StopIteration:
        raise InputError("the file is empty", source=source) from None
    except csv.Error as exc:
        raise InputError(f"cannot read the header: {exc}", source=source, line=1) from None
    header = [h.strip().lower() for h in header]
    if hint and len(header) == 1 and (other := next(
            (name for sep, name in SEPARATORS.items() if sep != hint and sep in header[0]), None)):
        raise InputError(f"the first line says sep={hint} but the header is split by "
                         f"{other}s; delete the first line, or save the file with one "
                         "separator", source=source, line=reader.line_num)
    missing = [c for c in required if c not in header]
    if missing:
        raise InputError(f"missing column(s) {', '.join(missing)}; the header has "
                         f"{', '.join(header) or 'nothing'}", source=source, line=1)
    duplicated = sorted({h for h in header if header.count(h) > 1 and h})
    if duplicated:
        raise InputError(f"column {duplicated[0]!r} appears twice in the header", source=source,
                         line=1)
    rows = []
    try:
        for values in reader:
            line = reader.line_num
            if not any(v.strip() for v in values):
                continue
            if len(values) > len(header):
                name = SEPARATORS.get(delimiter, repr(delimiter))
                raise InputError(f"{len(values)} fields but the header has {len(header)}; "
                                 f"check for an unquoted {name}", source=source, line=line)
            for name, value in zip(header, values, strict=False):
                if len(value) > MAX_FIELD_CHARS:
                    raise InputError(f"field is {len(value):,} characters long (limit "
                                     f"{MAX_FIELD_CHARS:,})", source=source, line=line,
                                     column=name)
            rows.append((line, dict(zip(header, (v.strip() for v in values), strict=False))))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", source=source, line=reader.line_num) from None
    if not rows:
        raise InputError("the file has a header but no data rows", source=source)
    return header, rows


def _number(record: dict, column: str, source: str, line: int, *, integer: bool = False,
            required: bool = True, separator: str = ",") -> float | None:
    raw = record.get(column, "")
    if raw == "":
        if required:
            raise InputError("is empty; a number is needed", source=source, line=line,
                             column=column)
        return None
    try:
        value = float(_decimal_point(raw, separator, integer, source=source, line=line,
                                     column=column))
    except ValueError:
        raise InputError(f"{raw[:40]!r} is not a number", source=source, line=line,
                         column=column) from None
    if not math.isfinite(value):
        raise InputError(f"{raw!r} is not a finite number", source=source, line=line,
                         column=column)
    if integer and value != int(value):
        raise InputError(f"{raw!r} must be a whole number", source=source, line=line,
                         column=column)
    return value


def _decimal_point(raw: str, separator: str, integer: bool = False, **where) -> str:
    """The number as float() reads it: in a file split on semicolons or tabs a decimal comma
    is a point, and a number that may hold a thousands separator is refused, never guessed."""
    if separator == ",":
        return raw
    thousands = _THOUSANDS.fullmatch(raw)
    # A count has no decimals: "10,000" users is ten thousand or a mistake, never 10.
    if thousands and (integer or separator == "\t" or thousands[1] == "."):
        mark = thousands[1]
        raise InputError(f"{raw!r} could be {raw.replace(mark, '')} (with {mark!r} between "
                         f"thousands) or {raw.replace(',', '.')} (with a decimal {mark!r}); "
                         "format the column as numbers without thousands separators", **where)
    return raw.replace(",", ".") if _DECIMAL_COMMA.fullmatch(raw) else raw


def _sum(record: dict, column: str, source: str, line: int, *, required: bool = True,
         separator: str = ",") -> float | None:
    value = _number(record, column, source, line, required=required, separator=separator)
    if value and not MIN_MAGNITUDE <= abs(value) <= MAX_MAGNITUDE:
        size = "large" if abs(value) > 1 else "small"
        raise InputError(f"{record[column]!r} is too {size} to compute with; values must be 0 or "
                         f"between {MIN_MAGNITUDE:g} and {MAX_MAGNITUDE:g} in size (rescale "
                         "the metric, e.g. to thousands or cents)", source=source, line=line,
                         column=column)
    return value


def parse_results_csv(data: bytes, source: str = "results.csv") -> list[MetricRow]:
    """Summary results: one row per metric per variant (proportion or mean metrics)."""
    from growthlab.stats.analysis import MetricRow

    text = read_text(data, source)
    sep = _separator(text)
    header, records = csv_records(text, source, ("metric", "variant", "users"), delimiter=sep)
    has_conversions = "conversions" in header
    has_means = "sum" in header and "sum_squares" in header
    if not has_conversions and not has_means:
        raise InputError("needs a 'conversions' column (proportion metrics) or 'sum' and "
                         "'sum_squares' columns (mean metrics)", source=source, line=1)
    rows: list[MetricRow] = []
    seen: dict[tuple[str, str, str], int] = {}
    spelt: dict[tuple[str, str], tuple[str, int]] = {}
    for line, rec in records:
        for col in ("metric", "variant"):
            if not rec.get(col):
                raise InputError("is empty; name the metric and the variant", source=source,
                                 line=line, column=col)
            plain_name(rec[col], col, source=source, line=line, column=col)
        experiment = rec.get("experiment", "")
        _check_spelling(spelt, experiment, rec["variant"], source, line)
        key = (experiment, rec["metric"], rec["variant"])
        if key in seen:
            raise InputError(f"metric {rec['metric']!r}, variant {rec['variant']!r} already "
                             f"appears on line {seen[key]}; keep one row per metric per variant",
                             source=source, line=line)
        seen[key] = line
        users = _number(rec, "users", source, line, integer=True, separator=sep)
        if users < 0:
            raise InputError("users cannot be negative", source=source, line=line, column="users")
        if users == 0:  # one user is an arm too small to compare: that comparison fails
            raise InputError(f"metric {rec['metric']!r}, variant {rec['variant']!r} has "
                             "0 users, so the row holds nothing to analyse (a variant needs at "
                             "least 2 users to estimate a variance); fill in its users or "
                             "remove the row", source=source, line=line, column="users")
        if users > MAX_USERS:
            raise InputError(f"{rec['users']!r} users is more than any audience (at most "
                             f"{MAX_USERS:,}); check the column", source=source, line=line,
                             column="users")
        conversions = (_number(rec, "conversions", source, line, integer=True, required=False,
                               separator=sep) if has_conversions else None)
        values = {}
        if conversions is not None:
            if conversions < 0:
                raise InputError("conversions cannot be negative", source=source, line=line,
                                 column="conversions")
            if conversions > users:
                raise InputError(f"conversions ({conversions:g}) are more than users "
                                 f"({users:g})", source=source, line=line, column="conversions")
        elif has_means:
            values["sum"] = _sum(rec, "sum", source, line, separator=sep)
            values["sum_squares"] = _sum(rec, "sum_squares", source, line, separator=sep)
            if values["sum_squares"] < 0:
                raise InputError("sum_squares cannot be negative", source=source, line=line,
                                 column="sum_squares")
            _cuped_values(rec, header, values, source, line, sep)
        else:
            raise InputError("conversions is empty and the file has no sum/sum_squares columns",
                             source=source, line=line, column="conversions")
        rows.append(MetricRow(metric=rec["metric"], variant=rec["variant"], users=users,
                              conversions=conversions, experiment=experiment, **values))
    _check_cuped_per_metric(rows, [line for line, _ in records], source)
    return rows


def _check_spelling(spelt: dict, experiment: str, variant: str, source: str, line: int) -> None:
    """Refuse a variant spelt as another one in a different case: they would read as two arms
    with the same name."""
    first, at = spelt.setdefault((experiment, variant.casefold()), (variant, line))
    if first != variant:
        raise InputError(f"variant {variant!r} and variant {first!r} on line {at} differ only "
                         "in case, so they would be two arms with the same name; spell the "
                         "same arm the same way on every line", source=source, line=line,
                         column="variant")


def _check_cuped_per_metric(rows: list[MetricRow], lines: list[int], source: str) -> None:
    """CUPED for every variant of a metric or for none: a mix would compare an adjusted arm
    with a plain one."""
    with_cuped: dict[tuple[str, str], set[bool]] = {}
    for r in rows:
        if r.kind == "mean":
            with_cuped.setdefault((r.experiment, r.metric), set()).add(r.has_cuped)
    for r, line in zip(rows, lines, strict=True):
        if r.kind == "mean" and not r.has_cuped and with_cuped[(r.experiment, r.metric)] == {
                True, False}:
            raise InputError(f"metric {r.metric!r}, variant {r.variant!r} has no CUPED columns "
                             "while other variants of the metric do; give pre_sum, "
                             "pre_sum_squares and sum_product for every variant or for none",
                             source=source, line=line, column="pre_sum")


def _cuped_values(record: dict, header: list[str], values: dict, source: str, line: int,
                  separator: str) -> None:
    """All three CUPED columns of a mean metric, or none: a partial set would be ignored."""
    from growthlab.stats.analysis import CUPED_COLUMNS

    given = {c: _sum(record, c, source, line, required=False, separator=separator)
             for c in CUPED_COLUMNS if c in header}
    present = [c for c, v in given.items() if v is not None]
    missing = [c for c in CUPED_COLUMNS if c not in present]
    if present and missing:
        raise InputError(f"is missing or empty while {', '.join(present)} "
                         f"{'is' if len(present) == 1 else 'are'} given; CUPED needs all of "
                         f"{', '.join(CUPED_COLUMNS)} (or none)", source=source, line=line,
                         column=missing[0])
    values.update(given)


def read_file(path: str | Path) -> bytes:
    """A file's bytes, or an InputError naming it (missing, a folder, no permission)."""
    try:
        return Path(path).read_bytes()
    except OSError as exc:
        raise InputError(f"cannot read the file ({exc.strerror})", source=str(path)) from None


def read_results_csv(path: str | Path) -> list[MetricRow]:
    return parse_results_csv(read_file(path), str(path))


def plain_name(value: str, field: str, **where) -> str:
    """A name shown in editable grids: refuse text a spreadsheet would run as a formula (the
    grids' own download cannot neutralise what an editor must show as stored)."""
    if safe_cell(value) != value:
        raise InputError(f"{value[:40]!r} starts like a spreadsheet formula; start the name "
                         "with a letter or a digit", field=field, **where)
    return value


def percent(share: float) -> str:
    """A share as people write it: whole percents, but never 0% or 100% for a share that is
    not (0.33% of users retained is not nobody)."""
    if share in (0, 1) or 0.01 <= share <= 0.99:
        return f"{share:.0%}"
    for places in range(1, 12):
        text = f"{share * 100:.{places}f}".rstrip("0").rstrip(".")
        if text not in ("0", "100", "-0"):
            return f"{text}%"
    return f"{share:.0%}"


def percents(shares: Sequence[float]) -> list[str]:
    """Shares of a whole (a planned split, as weights) as percentages with the fewest
    decimals, up to 2, that add up to 100% and show no share as 0% or 100% that is not:
    49.5%, 49.5%, 1% (not 50%, 50%, 1%)."""
    shares = [s / sum(shares) for s in shares]
    for places in range(3):
        shown = [round(100 * s, places) for s in shares]
        plausible = all((v == 0) == (s == 0) and (v == 100) == (s == 1)
                        for v, s in zip(shown, shares, strict=True))
        if plausible and abs(sum(shown) - 100) < 10 ** -(places + 3):
            break
    return [f"{v:.{places}f}".rstrip("0").rstrip(".") + "%" if places else f"{v:.0f}%"
            for v in shown]


def plural(count: float, noun: str) -> str:
    """A count and its noun, agreeing: 1 experiment, 2 experiments."""
    return f"{count:,} {noun}{'' if count == 1 else 's'}"


def safe_cell(value):
    """Neutralise spreadsheet formula injection in exported text cells."""
    if isinstance(value, str) and not _FIGURE.fullmatch(value) and (
            value.startswith(FORMULA_PREFIXES) or _AFTER_SEMICOLON.search(value)):
        return "'" + value
    return value


def to_csv(records: list[dict], columns: list[str]) -> str:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([safe_cell(c) for c in columns])
    for rec in records:
        writer.writerow([safe_cell(rec.get(c)) for c in columns])
    return out.getvalue()


def display_table(records: Iterable[dict], columns: list[str] | None = None):
    """`records` (only `columns`, when given) for st.dataframe, text as typed (the formula
    guard is for files; the grids' own CSV download is off in .streamlit/config.toml), as the
    pyarrow Table pandas would make of them (an integer column with gaps holds floats, NaN is
    missing), built without pandas: importing it costs a page a third of a second on a new
    server, and pyarrow's own constructors import it. When a column holds anything but bool,
    int, float or str, or is named by other than text, the records, for Streamlit to type
    through pandas."""
    import pyarrow as pa

    records = [{k: v for k, v in r.items() if columns is None or k in columns}
               for r in records]
    names = list(dict.fromkeys(k for r in records for k in r))
    arrays = [_arrow_column(pa, [r.get(n) for r in records]) for n in names]
    if any(a is None for a in arrays) or not all(isinstance(n, str) for n in names):
        return records
    return pa.Table.from_arrays(arrays, names=names)


def _arrow_column(pa, values: list):
    kinds = {type(v) for v in values if v is not None}
    if not kinds:
        return pa.nulls(len(values))
    if not (kinds in ({bool}, {str}) or kinds <= {int, float}) or int in kinds and any(
            type(v) is int and not -2**63 <= v < 2**63 for v in values):
        return None
    present = [v is not None and v == v for v in values]  # NaN is missing, as in pandas
    buffers = [None if all(present) else _bits(pa, present)]
    n = len(values)
    if kinds == {bool}:
        return pa.Array.from_buffers(pa.bool_(), n, [*buffers, _bits(pa, values)])
    if kinds == {int} and all(present):
        return pa.Array.from_buffers(pa.int64(), n, [
            *buffers, pa.py_buffer(struct.pack(f"<{n}q", *values))])
    if kinds != {str}:
        data = struct.pack(f"<{n}d", *(0.0 if v is None else float(v) for v in values))
        return pa.Array.from_buffers(pa.float64(), n, [*buffers, pa.py_buffer(data)])
    encoded = [b"" if v is None else v.encode() for v in values]
    offsets = [0]
    for text in encoded:
        offsets.append(offsets[-1] + len(text))
    return pa.Array.from_buffers(pa.large_string(), n, [
        *buffers, pa.py_buffer(struct.pack(f"<{n + 1}q", *offsets)),
        pa.py_buffer(b"".join(encoded))])


def _bits(pa, flags: list):
    """Arrow's bitmap of `flags` (least significant bit first)."""
    bits = bytearray((len(flags) + 7) // 8)
    for i, flag in enumerate(flags):
        if flag:
            bits[i >> 3] |= 1 << (i & 7)
    return pa.py_buffer(bytes(bits))
