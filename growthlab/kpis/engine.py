"""Milestone KPIs on DuckDB: rules compiled to SQL with bound parameters, over files in place.

Events are `user_id, event, timestamp` in CSV or Parquet (a file or a folder of Parquet
files). Nothing is copied: every query reads the files where they are.
"""

from __future__ import annotations

import functools
import os
import re
import sys
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

from growthlab.errors import CapacityError, InputError
from growthlab.kpis import scan_cache
from growthlab.kpis.milestones import Milestone, validate
from growthlab.kpis.rules import (
    And,
    Compare,
    Node,
    Not,
    Reached,
    at_least_once_groups,
    compared,
    dependencies,
    events_in,
)
from growthlab.kpis.sources import (
    EVENT_COLUMNS,
    Backend,
    BackendError,
    Source,
    _timestamp_sql,
    future_cutoff,
)

# Past it DuckDB spills to disk: 20M events then cost the same time, and a page's whole process
# stays under 1 GiB (0.73 GiB; 1.16 GiB at 1GB).
MEMORY_LIMIT = "1GB"
APP_MEMORY_LIMIT = "512MB"  # the app shares its process with Streamlit: a page within 1 GiB
MEMORY_VARIABLE = "GROWTHLAB_DUCKDB_MEMORY"
DAY_MICROSECONDS = 86_400_000_000
MAX_BITMASK_DAYS = 126  # days 0..126 after the start: bits of a signed 128-bit number
SMALL_BITMASK_DAYS = 63  # days 0..63: bits of an unsigned 64-bit number, cheaper
ASSIGNMENT_COLUMNS = ("user_id", "experiment", "variant", "assigned_at")
ANONYMOUS = ("; leave out rows without a user id (anonymous or logged-out events) when "
             "exporting, or fill them in")
FIRST_YEAR, LAST_YEAR = 1900, 2199
# A clock time followed by a UTC offset; real offsets run from -12:00 to +14:00.
_OFFSET = r"\d:\d\d(:\d\d(\.\d*)?)?\s*[+-]\d"
_REAL_OFFSET = (r"\d:\d\d(:\d\d(\.\d*)?)?\s*(\+((0\d|1[0-3])(:?[0-5]\d)?|14(:?00)?)"
                r"|-((0\d|1[01])(:?[0-5]\d)?|12(:?00)?))$")


def memory_limit() -> str:
    """What DuckDB may use: $GROWTHLAB_DUCKDB_MEMORY (such as 2GB), else MEMORY_LIMIT."""
    value = os.environ.get(MEMORY_VARIABLE, "").strip() or MEMORY_LIMIT
    if not re.fullmatch(r"\d+(\.\d+)?\s*[KMGT]i?B", value, re.IGNORECASE):
        raise InputError(f"{value!r} is not an amount of memory; use one such as 512MB or 2GB",
                         field=MEMORY_VARIABLE)
    return value


def memory_bound(func):
    """Turn DuckDB running out of its memory into an error that says which setting to raise
    (some of a funnel's state cannot spill to disk)."""
    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except Exception as exc:
            duckdb = sys.modules.get("duckdb")
            if duckdb is None or not isinstance(exc, duckdb.OutOfMemoryException):
                raise
            raise CapacityError(
                f"the events need more memory than the {memory_limit()} DuckDB may use here; "
                f"set {MEMORY_VARIABLE} higher (for example {MEMORY_VARIABLE}=2GB) and run "
                "again") from None
    return wrapper


def connect(limit: str | None = None):
    """An in-memory DuckDB that spills past `limit` (memory_limit()) into the system's
    temporary folder (DuckDB's default, `.tmp` in the working folder, may be read-only or
    someone's project)."""
    import duckdb

    con = duckdb.connect()
    con.execute("SET TimeZone = 'UTC'")
    con.execute(f"SET memory_limit = '{limit or memory_limit()}'")
    spill = str(Path(tempfile.gettempdir()) / "growthlab-duckdb").replace("'", "''")
    con.execute(f"SET temp_directory = '{spill}'")
    return con


def connect_for(location):
    """DuckDB, embedded, for files; the database itself for a table in PostgreSQL."""
    source = Source.of(location)
    if getattr(source, "url", None):
        from growthlab.kpis.backends import Postgres

        return Postgres(source.url)
    return connect()


def _odd_timestamp_sql(column: str, duck_type: str) -> str:
    """True for a `parsed` timestamp outside the years, or text with an offset that does not
    exist (DuckDB reads +25:00 as a day's shift)."""
    years = (f"parsed < TIMESTAMP '{FIRST_YEAR}-01-01' OR "
             f"parsed >= TIMESTAMP '{LAST_YEAR + 1}-01-01'")
    if duck_type != "VARCHAR":
        return years
    return (f"{years} OR (regexp_matches({column}, '{_OFFSET}') AND "
            f"NOT regexp_matches({column}, '{_REAL_OFFSET}'))")


@dataclass(frozen=True)
class EventsInfo:
    rows: int
    users: int
    events: dict[str, int]
    first: str | None
    last: str | None


@memory_bound
def check_events(path: str | Path, con=None) -> EventsInfo:
    """Validate an events file (columns, timestamps, empty ids, event names) and summarise it,
    in one pass over a file; a table in a database is checked in place."""
    con = con or connect_for(path)
    if isinstance(con, Backend):
        return _check_table_events(con, Source.of(path))
    return _scan_events(con, Source.of(path), None)


def _check_table_events(con, source) -> EventsInfo:
    """check_events where the events live (PostgreSQL, Spark): there are no lines to name."""
    sql, params = source.select(con, EVENT_COLUMNS, "timestamp")
    _check_rows(con, source, EVENT_COLUMNS, "timestamp")
    try:
        rows, users, first, last = con.execute(
            f"SELECT count(*), count(DISTINCT user_id), min(timestamp), max(timestamp) "
            f"FROM ({sql})", params).fetchone()
        counts = dict(con.execute(f"SELECT event, count(*) FROM ({sql}) GROUP BY 1 "
                                  "ORDER BY 2 DESC", params).fetchall())
    except BackendError as exc:
        raise source.unreadable(exc) from None
    if rows == 0:
        raise InputError(source.empty(), source=str(source.path))
    _check_event_names(con, source, [e for e in counts if any(ord(ch) < 32 for ch in e)])
    _refuse_odd_values(con, source, {c: _distinct(sql, c) for c in ("user_id", "event")})
    return EventsInfo(rows, users, counts, _iso(first), _iso(last))


SCAN_COLUMNS = (("by_event", "BIGINT"), ("user_id", "VARCHAR"), ("event", "VARCHAR"),
                ("n", "BIGINT"), ("timed", "BIGINT"), ("first", "TIMESTAMP"),
                ("last", "TIMESTAMP"), ("odd", "BIGINT"), ("t0", "TIMESTAMP"),
                ("t_last", "TIMESTAMP"))


def _scan_events(con, source: Source, as_of: datetime | None) -> EventsInfo:
    """One pass: per user (temp table `event_scan`, for a funnel's starts: first and last event
    before `as_of`, or before the future) and per event name, counting what check_events
    refuses. Only a file with something to refuse is read again, to name its first bad line."""
    import duckdb

    cut = _cutoff(as_of)
    source.select(con, EVENT_COLUMNS, "timestamp")  # refuses missing columns
    kind = source.columns(con)["timestamp"]
    raw_sql, params = source.raw_sql()
    before = " FILTER (WHERE parsed < CAST(? AS TIMESTAMP))"
    # Text timestamps may carry offsets that do not exist; years are checked per user below.
    odd = f"count(*) FILTER (WHERE {_odd_timestamp_sql('raw', kind)})" if kind == "VARCHAR" \
        else "CAST(0 AS BIGINT)"
    sql = ("CREATE OR REPLACE TEMP TABLE event_scan AS SELECT grouping(user_id) AS by_event, "
           "user_id, event, count(*) AS n, count(parsed) AS timed, min(parsed) AS first, "
           f"max(parsed) AS last, {odd} AS odd, min(parsed){before} AS t0, "
           f"max(parsed){before} AS t_last FROM ("
           "SELECT CAST(user_id AS VARCHAR) AS user_id, CAST(event AS VARCHAR) AS event, "
           f"{_timestamp_sql('timestamp', kind)} AS parsed, timestamp AS raw FROM {raw_sql}) "
           "GROUP BY GROUPING SETS ((user_id), (event))")
    cached = scan_cache.key(source, sql, cut)
    if cached and scan_cache.load_table(con, cached, "event_scan", SCAN_COLUMNS):
        return _summary(*_scanned(con))
    _refuse_decimal_ids(con, source)
    # Damaged Parquet statistics would let DuckDB rule out the very rows this looks for.
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    try:
        con.execute(sql, [cut] * 2 + params)
        users, events = _scanned(con)
    except duckdb.Error:
        _locate_refusal(con, source)
        raise
    finally:
        con.execute("RESET disabled_optimizers")
    if users[2] or not users[0] or any(
            e is None or not e.strip() or any(ord(ch) < 32 for ch in e) for e in events):
        _locate_refusal(con, source)
    _refuse_odd_values(con, source, SCANNED)
    if cached and scan_cache.key(source, sql, cut) == cached:  # unchanged while read
        scan_cache.save_table(con, cached, "event_scan")
    return _summary(users, events)


# Text an export writes for a missing id: read as an id, every anonymous row is one user.
PLACEHOLDER_IDS = ("null", "undefined", "none", "nan", "nil", "(null)", "<null>", "n/a", "#n/a",
                   "na", "\\n", "-", "unknown", "anonymous")
# Spaces, tabs, no-break and zero-width spaces around a value (DuckDB's trim takes spaces).
_EDGE_SPACE = r"^[\s\x{a0}\x{200b}\x{feff}]+|[\s\x{a0}\x{200b}\x{feff}]+$"


def _text_list(values) -> str:
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def _stripped(column: str, table: bool) -> str:
    """SQL: `column` without the space around it (in a database, the spaces only)."""
    return f"trim({column})" if table else f"regexp_replace({column}, '{_EDGE_SPACE}', '', 'g')"


# A value with space around it (few are: only those are cleaned) and another spelling of it,
# bare or padded otherwise.
PADDED_TWIN = ("WITH padded AS (SELECT v, {clean} AS c FROM {values} WHERE {padded}) "
               "SELECT a.v, b.v FROM padded a JOIN (SELECT v, v AS c FROM {values} UNION ALL "
               "SELECT v, c FROM padded) b ON a.c = b.c AND a.v <> b.v ORDER BY 1, 2 LIMIT 1")
# Ids and names mangled on their way out, found among a column's distinct values ({values}, a
# relation of one column v; {clean} strips v's edges, {padded} finds v with edges): the
# column, the query giving the first such value and the other spelling it is a twin of,
# what to say of it, and whether a database runs it (PostgreSQL and Spark count
# placeholders in their row check instead).
ODD_VALUES = (
    # Rounded to scientific notation (1.00E+19): different users then share one id. The '+'
    # tells them from hexadecimal ids such as 1e1318569860, which spreadsheets leave.
    ("user_id", "SELECT min(v), NULL FROM {values} WHERE "
     "regexp_full_match(trim(v), '[0-9]([.,][0-9]+)?[eE][+][0-9]+')",
     lambda found, _: f"{found!r} is a number in scientific notation: a spreadsheet rounded "
                      "the user ids, so different users may now share one; export the ids as "
                      "text (in Excel, format the column as Text before saving)", False),
    # Written both as '100001.0' and '100001' (some rows passed through a float column).
    ("user_id", "SELECT min(a.v), NULL FROM {values} a JOIN {values} b ON a.v = b.v || '.0'",
     lambda found, _: f"{found!r} and {found[:-2]!r} are both user ids: some ids were written "
                      "as decimal numbers, so one user would count as two; export the ids as "
                      "text or whole numbers", True),
    ("user_id", "SELECT min(v), NULL FROM {values} WHERE lower(trim(v)) IN "
     f"({_text_list(PLACEHOLDER_IDS)})",
     lambda found, _: f"{found!r} is not a user id but what an export writes for a missing "
                      f"one: all such rows would count as one user{ANONYMOUS}", False),
    ("user_id", PADDED_TWIN,
     lambda found, other: f"{found!r} and {other!r} are both user ids: some ids have spaces "
                          "around them, so one user would count as two; trim the ids when "
                          "exporting", True),
    ("event", PADDED_TWIN,
     lambda found, other: f"{found!r} and {other!r} are both event names: some names have "
                          "spaces around them, so a rule counting one misses the other's rows; "
                          "trim the names when exporting", True),
)


def _refuse_odd_values(con, source, values: dict[str, str]) -> None:
    """Refuse mangled user ids and event names (ODD_VALUES) of the columns in `values` (each
    the SQL of a relation of its distinct values, column v), naming the first row holding
    one in a file, the table and column in a database: every count made with them is
    wrong."""
    table = isinstance(con, Backend)
    for column, sql, why, anywhere in ODD_VALUES:
        if column not in values or table and not anywhere:
            continue
        padded = "v <> trim(v)" if table else f"regexp_matches(v, '{_EDGE_SPACE}')"
        found, other = con.execute(sql.format(
            values=values[column], clean=_stripped("v", table), padded=padded)).fetchone() \
            or (None, None)
        if found is None:
            continue
        if table:
            raise InputError(why(found, other), column=column, source=str(source.path))
        raise InputError(why(found, other), column=column,
                         **_first_row_with(con, source, column, [found]))


def _distinct(sql: str, column: str) -> str:
    """The relation of `column`'s distinct values in `sql`, as column v (for ODD_VALUES)."""
    return f"(SELECT DISTINCT {column} AS v FROM ({sql}) AS s)"


SCANNED = {"user_id": "(SELECT user_id AS v FROM event_scan WHERE by_event = 0)",
           "event": "(SELECT event AS v FROM event_scan WHERE by_event = 1)"}


def _refuse_decimal_ids(con, source: Source, column: str = "user_id") -> None:
    """Refuse a Parquet file whose ids are stored as floating-point numbers, as pandas writes
    an integer column that held a missing value: they read as '100123.0' and match no
    '100123' in another file or in the assignments, so one user would count as two."""
    if source.fmt != "parquet":
        return
    found = con.execute("SELECT min(file_name) FROM parquet_schema(?) WHERE lower(name) = ? AND "
                        "type IN ('FLOAT', 'DOUBLE')", [list(source.files), column]).fetchone()[0]
    if found is not None:
        raise InputError(f"{column} is stored as decimal numbers (such as 100123.0), which "
                         "match no id written as 100123 elsewhere; write the ids as integers "
                         f"or text (in pandas: df['{column}'] = df['{column}'].astype('Int64') "
                         "before to_parquet) and export again", column=column, source=found)


def _first_row_with(con, source: Source, column: str, values: list[str]) -> dict:
    """Where the file's first row whose `column` (as text) is one of `values` is, for an
    InputError: found only once something is known to be wrong, so a clean file costs nothing."""
    raw_sql, params = source.raw_sql()
    line = con.execute(f"SELECT min(line) FROM (SELECT row_number() OVER () AS line, "
                       f"CAST({column} AS VARCHAR) AS value FROM {raw_sql}) WHERE value IN "
                       f"({_in_list(values)})", params + values).fetchone()[0]
    return source.location(line)


def _summary(users: tuple, events: dict[str, int]) -> EventsInfo:
    rows, count, _, first, last = users
    return EventsInfo(rows, count, events, _iso(first), _iso(last))


def _scanned(con) -> tuple[tuple, dict[str, int]]:
    """(rows, users, rows refused, first, last) and rows per event name from `event_scan`."""
    users = con.execute(
        "SELECT sum(n), count(*), count(*) FILTER (WHERE user_id IS NULL OR trim(user_id) = '') "
        f"+ sum(n - timed) + sum(odd) + count(*) FILTER (WHERE first < TIMESTAMP "
        f"'{FIRST_YEAR}-01-01' OR last >= TIMESTAMP '{LAST_YEAR + 1}-01-01'), min(first), "
        "max(last) FROM event_scan WHERE by_event = 0").fetchone()
    events = dict(con.execute("SELECT event, n FROM event_scan WHERE by_event = 1 "
                              "ORDER BY n DESC, event").fetchall())
    return users, events


def _locate_refusal(con, source: Source) -> None:
    """Raise the error check_events gives for the first thing wrong in the file."""
    import duckdb

    sql, params = source.select(con, EVENT_COLUMNS, "timestamp")
    _check_rows(con, source, EVENT_COLUMNS, "timestamp")
    try:
        names = [e for (e,) in con.execute(f"SELECT DISTINCT event FROM ({sql})",
                                           params).fetchall()]
    except duckdb.Error as exc:
        raise source.unreadable(exc) from None
    if not names:
        raise InputError(source.empty(), source=str(source.path))
    _check_event_names(con, source, [e for e in names if any(ord(ch) < 32 for ch in e)])


def _check_event_names(con, source: Source, odd: list[str]) -> None:
    """Refuse event names holding a newline, tab or NUL (from a broken export), naming the
    first line; checked on the distinct names, so a clean file costs nothing."""
    if not odd:
        return
    if isinstance(con, Backend):
        raise InputError(f"event {odd[0]!r} holds a control character (a newline, tab or NUL); "
                         "fix the events so each name is plain text", column="event",
                         source=str(source.path))
    raise InputError(f"event {odd[0]!r} holds a control character (a newline, tab or NUL); "
                     "fix the export so each event name is plain text", column="event",
                     **_first_row_with(con, source, "event", odd))


@memory_bound
def events_quality(events, con=None):
    """`sources.quality` of the events (duplicate rows, events in the future), saying which
    setting to raise when DuckDB runs out of memory."""
    from growthlab.kpis.sources import quality

    return quality(events, con or connect_for(events))


@memory_bound
def check_assignments(path: str | Path, con=None) -> dict[str, int]:
    """Validate an assignments file; returns users assigned per experiment."""
    con = con or connect_for(path)
    source = Source.of(path)
    sql, params = source.select(con, ASSIGNMENT_COLUMNS, "assigned_at")
    _check_rows(con, source, ASSIGNMENT_COLUMNS, "assigned_at")
    _refuse_odd_assigned_ids(con, source, sql, params)
    _refuse_variant_twins(_first_lines(con, _trimmed(sql), params), source)
    counts = dict(con.execute(f"SELECT experiment, count(DISTINCT user_id) FROM ({sql}) "
                              "GROUP BY 1 ORDER BY 1", params).fetchall())
    if not counts:
        raise InputError("has a header but no assignments", source=str(source.path))
    return counts


def _refuse_odd_assigned_ids(con, source, sql: str, params: list) -> None:
    """ODD_VALUES among the assigned ids (`sql` selects the assignments): a placeholder or a
    padded id is a phantom user with no events, in the arm it was assigned to."""
    if isinstance(con, Backend):
        _refuse_odd_values(con, source, {"user_id": _distinct(sql, "user_id")})
        return
    con.execute(f"CREATE OR REPLACE TEMP TABLE assigned_ids AS SELECT DISTINCT user_id AS v "
                f"FROM ({sql})", params)
    _refuse_odd_values(con, source, {"user_id": "assigned_ids"})


def _check_rows(con, source: Source, required: tuple[str, ...], time_column: str) -> None:
    """Raise on the first row with an empty id or a bad timestamp, naming its line."""
    if isinstance(con, Backend):
        _check_table_rows(con, source, required, time_column)
        return
    columns = source.columns(con)
    _refuse_decimal_ids(con, source)
    raw_sql, params = source.raw_sql()
    texts = ", ".join(f"CAST({c} AS VARCHAR) AS {c}" for c in required)
    parsed = _timestamp_sql(time_column, columns[time_column])
    empty = " OR ".join(f"{c} IS NULL OR trim({c}) = ''" for c in required if c != time_column)
    odd = _odd_timestamp_sql(time_column, columns[time_column])
    # Damaged Parquet statistics would let DuckDB rule out the very rows this looks for.
    con.execute("SET disabled_optimizers = 'statistics_propagation'")
    try:
        bad = con.execute(
            f"SELECT * FROM (SELECT row_number() OVER () AS line, {texts}, {parsed} AS parsed "
            f"FROM {raw_sql}) WHERE {empty} OR parsed IS NULL OR {odd} ORDER BY line LIMIT 1",
            params).fetchone()
    except Exception as exc:  # duckdb raises many types for unreadable files
        raise source.unreadable(exc) from None
    finally:
        con.execute("RESET disabled_optimizers")
    if bad is None:
        return
    values = dict(zip(required, bad[1:-1], strict=True))
    where = source.location(bad[0])
    for c in required:
        if values[c] is None:
            _refuse_file_without_column(con, source, required)
        if not (values[c] or "").strip():
            raise InputError(f"{c} is empty (or only spaces){ANONYMOUS if c == 'user_id' else ''}",
                             column=c, **where)
    text = values[time_column]
    raise InputError(f"{text!r} {_timestamp_problem(text, bad[-1] is not None)}",
                     column=time_column, **where)


def _timestamp_problem(text: str, outside_years: bool) -> str:
    """What is wrong with a timestamp's `text`, and what to do."""
    if re.search(_OFFSET, text) and not re.search(_REAL_OFFSET, text):
        return "has a UTC offset that does not exist (they run from -12:00 to +14:00)"
    if outside_years:
        return f"is outside the years {FIRST_YEAR} to {LAST_YEAR}"
    if re.fullmatch(r"\s*\d{9,13}(\.\d+)?\s*", text):
        return ("looks like a Unix time (seconds or milliseconds since 1970), which is "
                "ambiguous; export timestamps as ISO 8601 such as 2024-03-01T09:30:00Z")
    return "is not a timestamp; use ISO 8601 such as 2024-03-01T09:30:00Z"


def _refuse_file_without_column(con, source: Source, required: tuple[str, ...]) -> None:
    """A folder's files are read by column name: one without a required column reads as
    rows with that value missing. Name the file and its columns instead."""
    if source.fmt != "parquet" or len(source.files) < 2:
        return
    found = con.execute("SELECT file_name, list(name ORDER BY name) FROM parquet_schema(?) "
                        "WHERE coalesce(num_children, 0) = 0 GROUP BY 1 ORDER BY 1",
                        [list(source.files)]).fetchall()
    for name, columns in found:
        missing = [c for c in required if c not in {col.lower() for col in columns}]
        if missing:
            raise InputError(f"has no column {missing[0]} (its columns: {', '.join(columns)}); "
                             f"every file of {source.path.name} needs {', '.join(required)}: "
                             "rename the column or move the file out", source=name)


def _check_table_rows(con, source, required: tuple[str, ...], time_column: str) -> None:
    """In a table there are no lines to name: raise counting the rows with an empty id, with
    text that is no timestamp (naming one), or with a timestamp missing or outside the years.
    Each row gets its first problem, computed once (a text match is slow in PostgreSQL)."""
    relation, params = source.relation(con)
    ids = [c for c in required if c != time_column]
    kind = source.columns(con)[time_column]
    raw = f"CAST({time_column} AS VARCHAR)"
    parsed = _timestamp_sql(time_column, kind)
    cases = [f"WHEN {c} IS NULL OR trim(CAST({c} AS VARCHAR)) = '' THEN '{c}'" for c in ids]
    cases.append(f"WHEN lower(trim(CAST(user_id AS VARCHAR))) IN "
                 f"({_text_list(PLACEHOLDER_IDS)}) THEN 'placeholder'")
    if con.text_timestamps and kind == "VARCHAR":  # cast only the text that matches
        cases.append(f"WHEN {raw} IS NULL OR trim({raw}) = '' THEN 'time' "
                     f"WHEN NOT regexp_matches({raw}, ?) THEN 'text'")
        params = [con.text_timestamps, *params]
    else:
        cases.append(f"WHEN {parsed} IS NULL AND trim({raw}) <> '' THEN 'text'")
    cases.append(f"WHEN {parsed} IS NULL OR {parsed} < CAST('{FIRST_YEAR}-01-01' AS TIMESTAMP) "
                 f"OR {parsed} >= CAST('{LAST_YEAR + 1}-01-01' AS TIMESTAMP) THEN 'time'")
    found = {problem: (n, example, user) for problem, n, example, user in con.execute(
        f"SELECT problem, count(*), min(raw), min(user_id) FROM (SELECT CASE {' '.join(cases)} "
        f"END AS problem, {raw} AS raw, CAST(user_id AS VARCHAR) AS user_id FROM {relation}) "
        "AS checked GROUP BY problem", params).fetchall()}
    for c in ids:
        if c in found:
            raise InputError(f"{c} is empty (or only spaces) in {found[c][0]:,} row(s); fix or "
                             "filter them out", column=c, source=str(source.path))
    if "placeholder" in found:
        n, _, example = found["placeholder"]
        raise InputError(f"user_id is text standing for a missing id ({example.strip()!r}) in "
                         f"{n:,} row(s){ANONYMOUS}", column="user_id", source=str(source.path))
    if "text" in found:
        n, example, _ = found["text"]
        raise InputError(f"{example!r} {_timestamp_problem(example, False)}; {n:,} row(s) hold "
                         "no ISO 8601 timestamp: fix or filter them out", column=time_column,
                         source=str(source.path))
    if "time" in found:
        raise InputError(f"{time_column} is missing or outside the years {FIRST_YEAR} to "
                         f"{LAST_YEAR} in {found['time'][0]:,} row(s); fix or filter them out",
                         column=time_column, source=str(source.path))


def _iso(value) -> str | None:
    return value.isoformat() if value is not None else None


class _Compiler:
    """Compile milestone trees into per-user aggregate columns and boolean flag expressions.

    count(E) and days(E) columns aggregate the raw events joined to the user's start, in one
    scan; a window compares each event's age (microseconds after the start, computed once per
    event) with a whole number of days. reached(K) reads K's computed flag column, so a chain
    of reached() stays linear.
    """

    def __init__(self, milestones: list[Milestone], trees: dict[str, Node], bitmask: bool):
        self.bitmask = bitmask
        self.index = {m.key: i for i, m in enumerate(milestones)}
        self.trees = trees
        self.columns: dict[tuple, str] = {}
        self.sql = {"count": [], "days": []}
        self.params: dict[str, list] = {"count": [], "days": []}
        self.flags = [self.expr(trees[m.key], m.window_days) for m in milestones]

    def column(self, func: str, events: tuple[str, ...], window: int | None) -> str:
        key = (func, events, window)
        if key not in self.columns:
            alias = f"c{len(self.columns)}"
            self.columns[key] = alias
            condition = f"event IN ({_in_list(events)})"
            self.params[func].extend(events)
            if window is not None:
                condition += f" AND age < {int(window) * DAY_MICROSECONDS}"
            counter = _counter(func, window, self.bitmask)
            self.sql[func].append(f"{counter.format(f'FILTER (WHERE {condition})')} AS {alias}")
        return self.columns[key]

    def expr(self, node: Node, window: int | None) -> str:
        if isinstance(node, Compare):
            return f"coalesce({self.column(node.func, (node.event,), window)}, 0) {node.op} " \
                   f"{int(node.value)}"
        if isinstance(node, Reached):
            return f"m{self.index[node.key]}"
        if isinstance(node, Not):
            return f"NOT ({self.expr(node.item, window)})"
        if isinstance(node, And):
            return "(" + " AND ".join(self.expr(n, window) for n in node.items) + ")"
        groups, others = at_least_once_groups(node.items)
        parts = [f"coalesce({self.column(func, events, window)}, 0) > 0"
                 for func, events in groups.items()]
        return "(" + " OR ".join(parts + [self.expr(n, window) for n in others]) + ")"

    def levels(self) -> list[list[int]]:
        """Milestone indexes by reached() depth: a level's flags read only earlier levels."""
        depth: dict[str, int] = {}

        def level(key: str) -> int:
            if key not in depth:
                depth[key] = 1 + max((level(d) for d in dependencies(self.trees[key])),
                                     default=-1)
            return depth[key]

        levels: list[list[int]] = [[] for _ in range(1 + max(map(level, self.index)))]
        for key, i in self.index.items():
            levels[depth[key]].append(i)
        return levels

    def flags_sql(self, source: str) -> str:
        """CTEs ending in `flags`, the source's columns then m0..mk.

        Levels are materialised: inlined, DuckDB would expand each reached() again.
        """
        ctes = []
        for n, level in enumerate(self.levels()):
            columns = ", ".join(f"({self.flags[i]}) AS m{i}" for i in level)
            ctes.append(f"flags_{n} AS MATERIALIZED (SELECT *, {columns} FROM {source})")
            source = f"flags_{n}"
        return ", ".join(ctes) + f", flags AS (SELECT * FROM {source})"

    def aliases(self, func: str) -> list[str]:
        return [alias for (f, _, _), alias in self.columns.items() if f == func]

    def events_of(self, func: str) -> list[str]:
        return sorted({event for f, events, _ in self.columns if f == func for event in events})


def _counter(func: str, window: int | None, bitmask: bool) -> str:
    """The aggregate of a count() or days() column. On DuckDB (`bitmask`), days inside a window
    of up to MAX_BITMASK_DAYS are bits of one 128-bit number per user: far cheaper than
    COUNT(DISTINCT); PostgreSQL and Spark have no 128-bit integers to transpile it to."""
    if func == "count":
        return "count(*) {}"
    if not bitmask or window is None or window > MAX_BITMASK_DAYS:
        return "count(DISTINCT CAST(timestamp AS DATE)) {}"
    # The shift is evaluated for events the filter then drops, which may be later.
    kind, top = ("UBIGINT", SMALL_BITMASK_DAYS) if window <= SMALL_BITMASK_DAYS else \
        ("HUGEINT", MAX_BITMASK_DAYS)
    return f"bit_count(bit_or(CAST(1 AS {kind}) << least(day, {top})) {{}})"


def _in_list(names: list[str]) -> str:
    return ", ".join("?" for _ in names) or "NULL"


def _flags_query(con, milestones, events_sql, events_params, starts_sql, starts_params,
                 *, after_start: bool, extra_start_columns: str = "") -> tuple[str, list]:
    """SQL ending in CTE `flags`: one row per user with t0 and boolean m0..mk."""
    compiler = _Compiler(milestones, validate(milestones), not isinstance(con, Backend))
    join = "e.user_id = s.user_id" + (" AND e.timestamp >= s.t0" if after_start else "")
    measured = sorted(set(compiler.events_of("count")) | set(compiler.events_of("days")))
    columns = ", ".join(compiler.sql["count"] + compiler.sql["days"]) or "0 AS c_none"
    picked = ", ".join(f"c.{a}" for a in compiler.aliases("count") + compiler.aliases("days"))
    # One scan of the events for every count() and days(); the inner join lets DuckDB build
    # its hash table on the small side (users), not on events.
    sql = (f"WITH events AS NOT MATERIALIZED ({events_sql}), starts AS ({starts_sql}), "
           f"counted AS (SELECT user_id, {columns} FROM (SELECT e.user_id, e.event, "
           "e.timestamp, date_diff('microsecond', s.t0, e.timestamp) AS age, "
           "date_diff('day', CAST(s.t0 AS DATE), CAST(e.timestamp AS DATE)) AS day "
           f"FROM events e JOIN starts s ON {join} WHERE e.event IN ({_in_list(measured)})) "
           "GROUP BY user_id), "
           f"per_user AS (SELECT s.user_id, s.t0{extra_start_columns}, {picked or 'c.c_none'} "
           "FROM starts s LEFT JOIN counted c USING (user_id))")
    params = (events_params + starts_params + compiler.params["count"]
              + compiler.params["days"] + measured)
    return sql + ", " + compiler.flags_sql("per_user"), params


SIGNUP = ("SELECT user_id, min(timestamp) AS t0, max(timestamp) AS t_last FROM events "
          "GROUP BY user_id")


def as_of_timestamp(value: str | datetime | None) -> datetime | None:
    """`--as-of` as a naive UTC instant (a date alone means 00:00 UTC that day)."""
    if value is None or isinstance(value, datetime) and value.tzinfo is None:
        return value
    if isinstance(value, str):
        try:
            value = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
        except ValueError:
            raise InputError(f"{value!r} is not a date; use ISO 8601 such as 2026-03-01 or "
                             "2026-03-01T12:00:00Z", field="as_of") from None
    if not FIRST_YEAR <= value.year <= LAST_YEAR:  # before converting: year 1 cannot shift
        raise InputError(f"{value.date()} is outside the years {FIRST_YEAR} to {LAST_YEAR} "
                         "that events fall in", field="as_of")
    return value.astimezone(UTC).replace(tzinfo=None) if value.tzinfo else value


def _events(con, events, as_of: datetime | None) -> tuple[str, list]:
    """The events query, without the events after `as_of` (the data then ends there) or, by
    default, those dated in the future (one row in year 2150 would end the data there)."""
    sql, params = Source.of(events).events(con)
    return (f"SELECT * FROM ({sql}) WHERE timestamp < CAST(? AS TIMESTAMP)",
            params + [_cutoff(as_of)])


def _cutoff(as_of: datetime | None) -> datetime:
    """Where the events read end: at `as_of`, but never past the future (an --as-of after
    tomorrow still leaves out the events dated then, as the warning about them says)."""
    return min(as_of, future_cutoff()) if as_of else future_cutoff()


def last_event(events, con=None) -> str | None:
    """The latest event before the future: where the data really ends."""
    con = con or connect_for(events)
    sql, params = _events(con, events, None)
    return _iso(con.execute(f"SELECT max(timestamp) FROM ({sql})", params).fetchone()[0])


def _data_end_sql(as_of: datetime | None, latest: str) -> tuple[str, list]:
    if as_of is None:
        return f"({latest})", []
    return "CAST(? AS TIMESTAMP)", [as_of]


def _eligible(horizon: int) -> str:
    """SQL: the user's window for a milestone with this horizon has closed by the data end."""
    return f"t0 + INTERVAL {int(horizon)} DAY <= data_end" if horizon else "t0 <= data_end"


def _signup_flags(con, events, milestones, as_of=None, starts=SIGNUP) -> tuple[str, list]:
    """Milestone flags per user, windows starting at each user's first event (sign-up)."""
    events_sql, params = _events(con, events, as_of)
    return _flags_query(con, milestones, events_sql, params, starts, [], after_start=False)


@dataclass
class Funnel:
    """Milestones reached, with censoring: shares count only users whose window has closed."""

    users: int
    data_end: str | None
    milestones: list[dict]
    success_gap: dict | None
    cohorts: list[dict] = field(default_factory=list)
    horizons: dict[str, int] = field(default_factory=dict)
    open_ended: list[str] = field(default_factory=list)  # no window of their own, past the first
    checked: EventsInfo | None = field(default=None, compare=False)  # what check=True found

    def as_dict(self) -> dict:
        return {"users": self.users, "data_end": self.data_end, "milestones": self.milestones,
                "success_gap": self.success_gap}


def _ratio(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def _funnel_rows(milestones: list[Milestone], counts: dict[str, list[int]]) -> list[dict]:
    rows = []
    for i, m in enumerate(milestones):
        rows.append({"key": m.key, "name": m.name, "phase": m.phase,
                     "users": counts["reached"][i], "eligible": counts["eligible"][i],
                     "share": _ratio(counts["reached_eligible"][i], counts["eligible"][i]),
                     "conversion_from_previous": _ratio(counts["step_reached"][i],
                                                        counts["step_from"][i])
                     if i else None})
    return rows


def success_gap(rows: list[dict]) -> dict | None:
    """The step with the lowest conversion from the previous milestone (among users eligible
    for it): where a modest lift pays most."""
    best = None
    for prev, row in zip(rows, rows[1:], strict=False):
        if row["conversion_from_previous"] is None:
            continue
        drop = 1 - row["conversion_from_previous"]
        if best is None or drop > best["drop"]:
            best = {"from": prev["key"], "to": row["key"], "drop": drop,
                    "from_name": prev["name"], "to_name": row["name"]}
    return best


COUNTS = ("reached", "eligible", "reached_eligible", "step_reached", "step_from")


@memory_bound
def funnel(events: str | Path, milestones: list[Milestone], *, start: str | None = None,
           end: str | None = None, by_cohort: bool = False, as_of=None, con=None,
           check: bool = False) -> Funnel:
    """Users reaching each milestone, shares among eligible users, and the success gap.

    `start`/`end` (ISO dates) keep users whose first event falls in [start, end). The data
    ends at the latest event, or at `as_of` (later events are ignored). With `check`, the
    events are first validated as check_events does, in the pass that finds each user's
    first event, so the file is read twice in all.
    """
    from growthlab.kpis.milestones import horizons

    as_of = as_of_timestamp(as_of)
    con = con or connect_for(events)
    starts, checked = SIGNUP, None
    if check and isinstance(con, Backend):
        checked = check_events(events, con)
    elif check:
        checked = _scan_events(con, Source.of(events), as_of)
        starts = "SELECT user_id, t0, t_last FROM event_scan WHERE by_event = 0 AND t0 IS NOT NULL"
    base, params = _signup_flags(con, events, milestones, as_of, starts)
    end_sql, end_params = _data_end_sql(as_of, "SELECT max(t_last) FROM starts")
    where, where_params = _date_filter(start, end)
    spans = list(horizons(milestones).values())
    aggregates = []
    for i, h in enumerate(spans):
        previous = f"m{i - 1}" if i else "FALSE"
        step = _eligible(max(h, spans[i - 1] if i else 0))  # both windows closed
        aggregates += [f"count(*) FILTER (WHERE m{i})",
                       f"count(*) FILTER (WHERE {_eligible(h)})",
                       f"count(*) FILTER (WHERE m{i} AND {_eligible(h)})",
                       f"count(*) FILTER (WHERE {previous} AND m{i} AND {step})",
                       f"count(*) FILTER (WHERE {previous} AND {step})"]
    rows = con.execute(
        f"{base}, bounds AS (SELECT {end_sql} AS data_end) "
        f"SELECT CAST(date_trunc('week', t0) AS DATE) AS cohort, max(data_end), count(*), "
        f"{', '.join(aggregates)} FROM flags CROSS JOIN bounds {where} GROUP BY 1 ORDER BY 1",
        params + end_params + where_params).fetchall()
    data_end = as_of or _data_end(con, base, params, end_sql, end_params, rows)
    totals = {name: [0] * len(milestones) for name in COUNTS}
    cohorts = []
    for r in rows:
        counts = {name: [r[3 + len(COUNTS) * i + k] for i in range(len(milestones))]
                  for k, name in enumerate(COUNTS)}
        for name in COUNTS:
            totals[name] = [a + b for a, b in zip(totals[name], counts[name], strict=True)]
        cohorts.append({"cohort": r[0].isoformat(), "users": r[2],
                        "shares": {m.key: _ratio(counts["reached_eligible"][i],
                                                 counts["eligible"][i])
                                   for i, m in enumerate(milestones)},
                        "eligible": {m.key: counts["eligible"][i]
                                     for i, m in enumerate(milestones)},
                        "reached_eligible": {m.key: counts["reached_eligible"][i]
                                             for i, m in enumerate(milestones)}})
    milestone_rows = _funnel_rows(milestones, totals)
    return Funnel(sum(r[2] for r in rows), _iso(data_end), milestone_rows,
                  success_gap(milestone_rows), cohorts if by_cohort else [],
                  dict(zip((m.key for m in milestones), spans, strict=True)),
                  [m.key for m in milestones[1:] if m.window_days is None], checked)


def _data_end(con, base, params, end_sql, end_params, rows):
    """The data end from the funnel rows, or (when a date filter left none) asked directly."""
    if rows:
        return rows[0][1]
    return con.execute(f"{base} SELECT {end_sql}", params + end_params).fetchone()[0]


def _date_filter(start: str | None, end: str | None) -> tuple[str, list]:
    conditions, params = [], []
    if start:
        conditions.append("t0 >= CAST(? AS TIMESTAMP)")
        params.append(start)
    if end:
        conditions.append("t0 < CAST(? AS TIMESTAMP)")
        params.append(end)
    return ("WHERE " + " AND ".join(conditions) if conditions else ""), params


@dataclass
class Retention:
    days: list[int]
    event: str | None
    cohorts: list[dict]
    overall: list[float | None]

    def as_dict(self) -> dict:
        return {"days": self.days, "event": self.event, "cohorts": self.cohorts,
                "overall": self.overall}


@memory_bound
def retention(events: str | Path, *, event: str | None = None, days=(1, 7, 30),
              start_event: str | None = None, milestone: str | None = None,
              milestones: list[Milestone] | None = None, con=None) -> Retention:
    """Share of each weekly cohort active on day N after its start (UTC calendar days).

    The start is the user's first event (sign-up), or with `start_event` the first time they
    did that event (first-time use). Returning means any event, or `event` (recurring use).
    With `milestone`, only users who reached it (as the funnel counts it) are in the cohorts.
    A user counts towards day N only once the data covers all of that day.
    """
    days = [int(d) for d in days]
    if not days or any(d < 0 for d in days):
        raise InputError("days must be whole numbers of 0 or more", field="days")
    con = con or connect_for(events)
    events_sql, params = _events(con, events, None)
    if milestone:
        keys = [m.key for m in milestones or []]
        if milestone not in keys:
            raise InputError(f"no milestone {milestone!r}; known: {', '.join(keys) or 'none'}",
                             field="milestone")
        prefix, params = _flags_query(con, milestones, events_sql, params, SIGNUP, [],
                                      after_start=False)
        members = f"SELECT user_id FROM flags WHERE m{keys.index(milestone)}"
    else:
        prefix = f"WITH events AS NOT MATERIALIZED ({events_sql}), starts AS ({SIGNUP})"
        members = "SELECT user_id FROM starts"
    if start_event:
        cohort = (f"SELECT user_id, min(timestamp) AS t0 FROM events WHERE event = ? AND "
                  f"user_id IN ({members}) GROUP BY user_id")
        params = params + [start_event]
    else:
        cohort = f"SELECT user_id, t0 FROM starts WHERE user_id IN ({members})"
    returns = ", ".join(
        f"bool_or(CAST(e.timestamp AS DATE) = CAST(s.t0 AS DATE) + {d}) AS r{i}"
        for i, d in enumerate(days))
    event_filter = "WHERE e.event = ?" if event else ""
    # Day N counts once the data covers all of it: an export cut at 00:30 has not seen
    # that day's returns yet.
    covered = {d: f"CAST(CAST(s.t0 AS DATE) + {d + 1} AS TIMESTAMP) <= last.data_end"
               for d in days}
    cells = ", ".join(
        f"count(*) FILTER (WHERE {covered[d]}), "
        f"count(*) FILTER (WHERE r.r{i} AND {covered[d]})"
        for i, d in enumerate(days))
    sql = (f"{prefix}, cohort AS ({cohort}), "
           f"ret AS (SELECT e.user_id, {returns} FROM events e JOIN cohort s USING (user_id) "
           f"{event_filter} GROUP BY 1), "
           "last AS (SELECT max(timestamp) AS data_end FROM events) "
           "SELECT CAST(date_trunc('week', s.t0) AS DATE), count(*), "
           f"{cells} FROM cohort s LEFT JOIN ret r USING (user_id) CROSS JOIN last "
           "GROUP BY 1 ORDER BY 1")
    rows = con.execute(sql, params + ([event] if event else [])).fetchall()
    cohorts = []
    totals = [[0, 0] for _ in days]
    for r in rows:
        shares = []
        for i in range(len(days)):
            eligible, retained = r[2 + 2 * i], r[3 + 2 * i]
            totals[i][0] += eligible
            totals[i][1] += retained
            shares.append(retained / eligible if eligible else None)
        cohorts.append({"cohort": r[0].isoformat(), "users": r[1], "retention": shares})
    overall = [t[1] / t[0] if t[0] else None for t in totals]
    return Retention(days, event, cohorts, overall)


@memory_bound
def qualified_users(events: str | Path, rule: str, milestones: list[Milestone], *,
                    window_days: int | None = None, con=None) -> tuple[int, list[dict]]:
    """Users whose usage satisfies a PQL rule (it may use reached() of any milestone)."""
    pql = Milestone("pql", "Product-qualified lead", "PQL", rule, window_days)
    if any(m.key == "pql" for m in milestones):
        raise InputError("a milestone is already keyed 'pql'; rename it", field="key")
    all_milestones = [*milestones, pql]
    trees = validate(all_milestones)
    con = con or connect_for(events)
    base, all_params = _signup_flags(con, events, all_milestones)
    pql_flag = f"m{len(milestones)}"
    total = con.execute(f"{base} SELECT count(*) FILTER (WHERE {pql_flag}) FROM flags",
                        all_params).fetchone()[0]
    shown = compared(trees["pql"])  # what the rule compares: count(E) or days(E)
    window = " AND e.timestamp < q.t0 + CAST(? AS INTEGER) * INTERVAL 1 DAY" if window_days else ""
    counts = ", ".join(
        (f"count(*) FILTER (WHERE e.event = ?{window})" if func == "count" else
         f"count(DISTINCT CAST(e.timestamp AS DATE)) FILTER (WHERE e.event = ?{window})")
        + f" AS n{i}" for i, (func, _) in enumerate(shown))
    count_params = [p for _, name in shown
                    for p in ([name, window_days] if window_days else [name])]
    rows = con.execute(
        f"{base}, q AS (SELECT user_id, t0 FROM flags WHERE {pql_flag}) "
        f"SELECT q.user_id, CAST(q.t0 AS DATE){', ' + counts if counts else ''} FROM q "
        f"LEFT JOIN events e ON e.user_id = q.user_id GROUP BY q.user_id, q.t0 "
        f"ORDER BY {'n0 DESC, ' if shown else ''}q.user_id",
        all_params + count_params).fetchall()
    users = [{"user_id": r[0], "signup": r[1].isoformat(),
              **{f"{func}({name})": r[2 + i] for i, (func, name) in enumerate(shown)}}
             for r in rows]
    return total, users


@dataclass
class ExperimentMetrics:
    """Per-variant proportion metrics of one experiment, one per milestone."""

    rows: list  # MetricRow, variants in the order they first appear in the assignments
    excluded: int  # users assigned to more than one variant
    in_progress: dict[tuple[str, str], int]  # (milestone, variant): windows still open
    data_end: str | None
    undecided: list[str] = field(default_factory=list)  # left out: no 2 arms with closed windows
    assigned: dict[str, int] = field(default_factory=dict)  # users per variant, for the SRM
    unequal_censoring: list[str] = field(default_factory=list)  # arms' open windows differ
    # Users who did a counted event in the hour before their assignment, and the commonest
    # such event: assigned just after signing up, that sign-up never counts.
    just_before: tuple[int, str | None] = (0, None)

    def assignment_warning(self, share: float = 0.10) -> str | None:
        """What to say when many users did a counted event just before their assignment."""
        from growthlab.io import percent

        users, event = self.just_before
        assigned = sum(self.assigned.values())
        if not assigned or users < share * assigned:
            return None
        return (f"{users:,} of {assigned:,} assigned users ({percent(users / assigned)}) did "
                f"{event!r} in the hour before their assignment; events before assigned_at do "
                "not count (windows start at assignment), so milestones needing it are "
                "reached by few. If users are assigned as they sign up, record the assignment "
                "first, and check both files share one clock and precision")

    def nothing_to_test(self, experiment: str) -> str:
        """Why no milestone can be tested: which ones every assigned user reached, which no
        one did, which have too few closed windows; and that windows start at assignment."""
        reached: dict[str, list[float]] = {}
        for r in self.rows:
            totals = reached.setdefault(r.metric, [0.0, 0.0])
            totals[0] += r.conversions or 0
            totals[1] += r.users
        groups = {"reached by none": [m for m, (c, _) in reached.items() if c == 0],
                  "reached by all": [m for m, (c, n) in reached.items() if n and c == n],
                  "too few users whose window has closed": self.undecided}
        said = "; ".join(f"{', '.join(keys)}: {what}" for what, keys in groups.items() if keys)
        why = ("; an experiment's windows start at each user's assigned_at and events before "
               "assigned_at do not count, so a milestone done before assignment (such as "
               "signing up) is never reached") if groups["reached by none"] else ""
        return f"nothing to test in {experiment} yet ({said}){why}"

    def still_in_window(self, key: str) -> int:
        """Assigned users, all arms together, whose window for milestone `key` is open."""
        return sum(n for (metric, _), n in self.in_progress.items() if metric == key)

    def open_windows(self, horizons: dict[str, int], least: float = 0.01) -> dict[str, str]:
        """Per milestone with at least `least` of its users still inside their window, why
        its comparison is not final: it counts who reached it by the data end."""
        from growthlab.io import percents

        users = sum(self.assigned.values())
        said = {}
        for key, days in horizons.items():
            still = self.still_in_window(key)
            if users and still >= least * users:
                said[key] = (f"{percents([still, users - still])[0]} of users are still inside "
                             f"their {days}-day window, so this counts who reached it by the "
                             "data end")
        return said

    def check_censoring(self, threshold: float = 0.001) -> None:
        """Flag milestones whose arms have different shares of users still in their window
        (a staggered rollout): counting those users as not reached would bias the comparison."""
        for key in dict.fromkeys(k for k, _ in self.in_progress):
            still = [self.in_progress[(key, v)] for v in self.assigned]
            done = [n - s for n, s in zip(self.assigned.values(), still, strict=True)]
            if min(sum(still), sum(done)) and all(self.assigned.values()) and _independence(
                    [still, done]) < threshold:
                self.unequal_censoring.append(key)


def _independence(table: list[list[int]]) -> float:
    """Pearson's chi-square test of independence of a table's rows and columns, as scipy's
    chi2_contingency(correction=False), without importing scipy.stats."""
    import numpy as np
    from scipy.special import chdtrc

    observed = np.asarray(table, dtype=float)
    expected = observed.sum(1, keepdims=True) * observed.sum(0) / observed.sum()
    dof = (observed.shape[0] - 1) * (observed.shape[1] - 1)
    if dof == 0:
        return 1.0
    return float(chdtrc(dof, ((observed - expected) ** 2 / expected).sum()))


@memory_bound
def experiment_metrics(events: str | Path, assignments: str | Path,
                       milestones: list[Milestone], experiment: str, *,
                       exclude_in_progress: bool = False, as_of=None,
                       con=None) -> ExperimentMetrics:
    """Milestones reached per variant, each user's windows starting at their assignment.

    Users whose window is still open at the data end count as not (yet) reached unless
    `exclude_in_progress`: both arms are censored alike, so the comparison stays fair.
    """
    from growthlab.kpis.milestones import horizons
    from growthlab.stats import MetricRow
    from growthlab.stats.compare import FEWEST_USERS

    as_of = as_of_timestamp(as_of)
    con = con or connect_for(events)
    events_sql, params = _events(con, events, as_of)
    assign_source = Source.of(assignments)
    assign_sql, assign_params = assign_source.select(con, ASSIGNMENT_COLUMNS, "assigned_at")
    _check_rows(con, assign_source, ASSIGNMENT_COLUMNS, "assigned_at")
    _refuse_odd_assigned_ids(con, assign_source, assign_sql, assign_params)
    assign_sql = _trimmed(assign_sql)
    first_lines = _first_lines(con, assign_sql, assign_params)
    _refuse_variant_twins(first_lines, assign_source)
    if as_of is not None:
        assign_sql = f"SELECT * FROM ({assign_sql}) WHERE assigned_at < CAST(? AS TIMESTAMP)"
        assign_params = assign_params + [as_of]
        first_lines = _first_lines(con, assign_sql, assign_params)
    variants = _variants_in_order(first_lines, experiment, assign_source)
    measured = sorted({e for tree in validate(milestones).values() for e in events_in(tree)})
    starts = (f"WITH a AS (SELECT * FROM ({assign_sql}) WHERE experiment = ?), "
              "multi AS (SELECT user_id FROM a GROUP BY 1 HAVING count(DISTINCT variant) > 1) "
              "SELECT user_id, min(variant) AS variant, min(assigned_at) AS t0 FROM a "
              "WHERE user_id NOT IN (SELECT user_id FROM multi) GROUP BY 1")
    base, all_params = _flags_query(con, milestones, events_sql, params, starts,
                                    assign_params + [experiment], after_start=True,
                                    extra_start_columns=", s.variant")
    end_sql, end_params = _data_end_sql(as_of, "SELECT max(timestamp) FROM events")
    spans = list(horizons(milestones).values())
    sums = ", ".join(f"count(*) FILTER (WHERE m{i}), count(*) FILTER (WHERE {_eligible(h)}), "
                     f"count(*) FILTER (WHERE m{i} AND {_eligible(h)})"
                     for i, h in enumerate(spans))
    found = con.execute(f"{base}, bounds AS (SELECT {end_sql} AS data_end) "
                        f"SELECT variant, max(data_end), count(*), {sums} "
                        "FROM flags CROSS JOIN bounds GROUP BY 1",
                        all_params + end_params).fetchall()
    excluded = con.execute(
        f"SELECT count(*) FROM (SELECT user_id FROM ({assign_sql}) WHERE experiment = ? "
        "GROUP BY 1 HAVING count(DISTINCT variant) > 1)",
        assign_params + [experiment]).fetchone()[0]
    by_variant = {r[0]: r for r in found}
    rows, in_progress, undecided = [], {}, []
    for i, m in enumerate(milestones):
        metric_rows = []
        for variant in (v for v in variants if v in by_variant):
            r = by_variant[variant]
            users, reached, eligible, reached_eligible = r[2], *r[3 + 3 * i: 6 + 3 * i]
            in_progress[(m.key, variant)] = users - eligible
            if exclude_in_progress:
                users, reached = eligible, reached_eligible
            metric_rows.append(MetricRow(metric=m.key, variant=variant, users=users,
                                         conversions=reached, experiment=experiment))
        # An arm too small fails its own comparisons; with no two arms to compare, there is
        # nothing to test on this milestone yet.
        if exclude_in_progress and sum(r.users >= FEWEST_USERS for r in metric_rows) < 2:
            undecided.append(m.key)
        else:
            rows.extend(metric_rows)
    data_end = as_of or (found[0][1] if found else None)
    assigned = {v: by_variant[v][2] for v in variants if v in by_variant}
    just_before = con.execute(  # no mode(): PostgreSQL and Spark spell it otherwise
        f"WITH events AS NOT MATERIALIZED ({events_sql}), starts AS ({starts}), "
        "early AS (SELECT DISTINCT s.user_id, e.event FROM events e JOIN starts s "
        "ON e.user_id = s.user_id AND e.timestamp < s.t0 AND "
        f"e.timestamp >= s.t0 - INTERVAL 1 HOUR WHERE e.event IN ({_in_list(measured)})) "
        "SELECT (SELECT count(DISTINCT user_id) FROM early), event FROM early GROUP BY event "
        "ORDER BY count(*) DESC, event LIMIT 1",
        params + assign_params + [experiment] + measured).fetchone()
    result = ExperimentMetrics(rows, int(excluded), in_progress, _iso(data_end), undecided,
                               assigned, just_before=tuple(just_before or (0, None)))
    result.check_censoring()
    return result


class UnknownExperiment(InputError):
    """The assignments name no experiment so; `names` are those they do name."""

    def __init__(self, message: str, *, names: list[str], **where):
        super().__init__(message, **where)
        self.names = names


def _trimmed(assign_sql: str) -> str:
    """Names as the results reader takes them: 'treatment ' is the arm 'treatment'."""
    return ("SELECT user_id, trim(experiment) AS experiment, trim(variant) AS variant, "
            f"assigned_at FROM ({assign_sql})")


def _first_lines(con, assign_sql, params) -> list[tuple[str, str, int]]:
    """Each (experiment, variant) with the row it first appears on, in that order."""
    return con.execute(
        f"SELECT experiment, variant, min(line) FROM (SELECT row_number() OVER () AS line, "
        f"experiment, variant FROM ({assign_sql})) GROUP BY 1, 2 ORDER BY 3", params).fetchall()


def _refuse_variant_twins(first_lines: list[tuple[str, str, int]], source) -> None:
    """Refuse an experiment's variant spelt in two cases ('treatment', 'Treatment'): they
    would be two arms with the same name. Names the first line of each spelling."""
    spelt: dict[tuple[str, str], tuple[str, int]] = {}
    for experiment, variant, line in first_lines:
        first, at = spelt.setdefault((experiment, variant.casefold()), (variant, line))
        if first != variant:
            where = source.location(at)
            place = ":".join(str(where[k]) for k in ("source", "line") if k in where)
            raise InputError(f"variant {variant!r} of experiment {experiment!r} and variant "
                             f"{first!r} ({place}) differ only in case, so they would be two "
                             "arms with the same name; spell the same arm the same way on "
                             "every line", column="variant", **source.location(line))


def _variants_in_order(variants: list[tuple[str, str, int]], experiment, source) -> list[str]:
    """The experiment's variants in the order they first appear in the assignments file."""
    mine = [v for e, v, _ in variants if e == experiment]
    if not mine:
        known = sorted({e for e, _, _ in variants})
        raise UnknownExperiment(f"no assignments for experiment {experiment!r}; the file has "
                                f"{', '.join(known[:10]) or 'none'}", source=str(source.path),
                                names=known)
    return mine


def check_ids_match(events, assignments, experiment: str, con=None) -> None:
    """Raise when few of an experiment's assigned users appear in the events: ids written
    differently ('219483890.0' against '219483890') make every milestone look constant."""
    con = con or connect_for(events)
    events_sql, params = Source.of(events).events(con)
    source = Source.of(assignments)
    assign_sql, assign_params = source.select(con, ASSIGNMENT_COLUMNS, "assigned_at")
    assigned, matched, missing, seen = con.execute(
        f"WITH a AS (SELECT DISTINCT user_id FROM ({assign_sql}) WHERE experiment = ?), "
        f"e AS (SELECT DISTINCT user_id FROM ({events_sql})) "
        "SELECT count(*), count(e.user_id), min(a.user_id) FILTER (WHERE e.user_id IS NULL), "
        "(SELECT min(user_id) FROM e) FROM a LEFT JOIN e ON a.user_id = e.user_id",
        [*assign_params, experiment, *params]).fetchone()
    if assigned and matched * 2 < assigned:
        raise InputError(f"only {matched:,} of the {assigned:,} users assigned in {experiment!r} "
                         f"appear in the events: user ids must match exactly (assignments have "
                         f"{missing!r}, events have {seen!r}); export both with the same ids",
                         source=str(source.path))


@memory_bound
def event_names(events: str | Path, con=None) -> list[str]:
    """The distinct event names in the events, sorted: one small aggregate query, no checks."""
    import duckdb

    con = con or connect_for(events)
    source = Source.of(events)
    sql, params = source.select(con, EVENT_COLUMNS, "timestamp")
    try:
        rows = con.execute(f"SELECT DISTINCT event FROM ({sql}) ORDER BY 1", params).fetchall()
    except (duckdb.Error, BackendError) as exc:
        raise source.unreadable(exc) from None
    return [r[0] for r in rows if r[0] is not None]
