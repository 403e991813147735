"""Where events live: files in the shapes teams export, or a table in a database or catalog.

A `Source` is a file read in place (CSV, gzipped CSV, TSV, Parquet, or a folder of Parquet
files, hive-partitioned ones included); a `Table` is a table queried where it lives
(PostgreSQL, or a Spark catalog). Both give the same SELECT, in DuckDB's dialect, which a
backend (growthlab.kpis.backends) transpiles for its own engine.
"""

from __future__ import annotations

import csv
import gzip
import re
import sys
import zlib
from dataclasses import dataclass, replace
from datetime import datetime, time, timedelta
from pathlib import Path
from urllib.parse import parse_qs, quote, urlencode, urlsplit, urlunsplit

from growthlab import clock
from growthlab.errors import GrowthLabError, InputError
from growthlab.kpis import scan_cache

EVENT_COLUMNS = ("user_id", "event", "timestamp")
NEEDED = (*EVENT_COLUMNS, "experiment", "variant", "assigned_at")  # events' or assignments'
# Suffix -> delimiter; None leaves it to DuckDB's sniffer (a .csv may use ; or tabs).
DELIMITED = {".csv": None, ".csv.gz": None, ".tsv": "\t", ".tsv.gz": "\t"}
PARQUET = (".parquet", ".pq")
POSTGRES_SCHEMES = ("postgresql://", "postgres://")
_IDENTIFIER = re.compile(r"[A-Za-z_][A-Za-z0-9_$]*")
SHAPES = ".csv, .csv.gz, .tsv or .parquet file, or a folder of Parquet files"
# Text written with no time of day, or at local midnight (a date-only export writes
# 2026-01-05T00:00:00+02:00, which is 22:00 UTC): a repeat of it may be a second real event.
UNDATED_TEXT = (r"NOT regexp_matches({0}, '\d:\d') OR regexp_matches({0}, "
                r"'[ T]00:00(:00(\.0*)?)?\s*(Z|UTC|[+-]\d\d(:?\d\d)?)?\s*$')")


class BackendError(GrowthLabError):
    """A database or cluster refused a query or a connection; says which and why."""


class Backend:
    """An engine other than the embedded DuckDB: runs DuckDB-dialect SQL where events live."""

    name = ""
    text_timestamps: str | None = None  # the pattern text must match to be cast to a time

    def execute(self, sql: str, params=()):
        raise NotImplementedError

    def columns(self, source) -> dict[str, str]:
        """Lower-case column name -> DuckDB type name (TIMESTAMP, TIMESTAMP WITH TIME ZONE,
        DATE or VARCHAR: all GrowthLab needs to know to read the time column)."""
        raise NotImplementedError

    def relation(self, source) -> tuple[str, list]:
        raise NotImplementedError

    def where(self) -> str:
        """Where numbers were computed, for a caption."""
        raise NotImplementedError


def future_cutoff() -> datetime:
    """Events from here on are in the future: after the end of tomorrow (UTC), which leaves a
    day for clocks in any time zone."""
    return datetime.combine(clock.today() + timedelta(days=2), time())


class _Relation:
    """What files and tables share: the SELECT of the columns GrowthLab reads."""

    dedupe: bool

    def select(self, con, required: tuple[str, ...], time_column: str,
               undated: bool = False) -> tuple[str, list]:
        """SQL selecting the required columns with text ids and a UTC TIMESTAMP; with
        `undated`, also whether each row's time has no time of day (see UNDATED_TEXT)."""
        columns = self.columns(con)
        missing = [c for c in required if c not in columns]
        if missing:
            self.missing(missing, columns)
        sql, params = self.relation(con)
        parts = []
        for c in required:
            if c == time_column:
                parts.append(_timestamp_sql(c, columns[c]) + f" AS {c}")
            else:
                parts.append(f"CAST({c} AS VARCHAR) AS {c}")
        if undated:
            parts.append(f"{_undated_sql(time_column, columns[time_column])} AS undated")
        return f"SELECT {', '.join(parts)} FROM {sql}", params

    def events(self, con) -> tuple[str, list]:
        """The events query; without exact duplicate rows when the source was opened with
        `dedupe`."""
        if not self.dedupe:
            return self.select(con, EVENT_COLUMNS, "timestamp")
        sql, params = self.select(con, EVENT_COLUMNS, "timestamp", undated=True)
        # A row repeated with its time of day is a retried send; one repeated at midnight may
        # be a second real event on a date-only export, so each of those counts.
        return (f"WITH e AS ({sql}) SELECT DISTINCT user_id, event, timestamp FROM e WHERE NOT "
                "undated UNION ALL SELECT user_id, event, timestamp FROM e WHERE "
                "coalesce(undated, TRUE)"), params

    def missing(self, missing: list[str], columns: dict[str, str]):
        raise InputError(f"missing column(s) {', '.join(missing)}; found "
                         f"{', '.join(columns) or 'none'}", source=str(self.path), line=1)

    def empty(self) -> str:
        """What to say when there are no events: a CSV's header is all it holds."""
        return "has a header but no events" if self.fmt == "csv" else "has no rows"


@dataclass(frozen=True)
class Source(_Relation):
    """A columnar or delimited file (or folder of Parquet files) read in place."""

    path: Path
    files: tuple[str, ...]
    fmt: str
    delimiter: str | None = None
    dedupe: bool = False

    @classmethod
    def of(cls, location, *, dedupe: bool = False) -> Source | Table:
        if isinstance(location, Source | Table):
            return replace(location, dedupe=True) if dedupe else location
        if str(location).startswith(POSTGRES_SCHEMES):
            return Table.from_url(str(location), dedupe=dedupe)
        path = Path(location)
        if path.is_dir():
            found = [p for p in path.rglob("*") if p.is_file()
                     and not _hidden(p.relative_to(path))]
            files = tuple(sorted(str(p) for p in found if p.suffix.lower() in PARQUET))
            if not files:
                raise InputError("folder has no .parquet files (sub-folders searched too)",
                                 source=str(path))
            _refuse_delimited_beside(path, found)
            return cls(path, files, "parquet", dedupe=dedupe)
        if not path.exists():
            raise InputError("file not found", source=str(path))
        name = path.name.lower()
        for suffix, delimiter in DELIMITED.items():
            if name.endswith(suffix):
                return cls(path, (str(path),), "csv", delimiter, dedupe)
        if path.suffix.lower() in PARQUET:
            return cls(path, (str(path),), "parquet", dedupe=dedupe)
        packed = "; a gzip-compressed file is read when named .csv.gz or .tsv.gz" \
            if name.endswith(".gz") else ""
        raise InputError(f"expected a {SHAPES}{packed}", source=str(path))

    def raw_sql(self) -> tuple[str, list]:
        if self.fmt == "csv":
            # Quotes as RFC 4180 says: left to the sniffer, an unclosed one is read as text.
            delim = f", delim = '{self.delimiter}'" if self.delimiter else ""
            return ("read_csv(?, all_varchar = true, header = true, quote = '\"', "
                    f"escape = '\"'{delim})"), [self.files[0]]
        return "read_parquet(?, union_by_name = true)", [list(self.files)]

    def relation(self, con) -> tuple[str, list]:
        return con.relation(self) if isinstance(con, Backend) else self.raw_sql()

    def columns(self, con) -> dict[str, str]:
        if isinstance(con, Backend):
            return con.columns(self)
        sql, params = self.raw_sql()
        try:
            rows = con.execute(f"DESCRIBE SELECT * FROM {sql}", params).fetchall()
        except Exception as exc:  # duckdb raises many types for unreadable files
            raise self.unreadable(exc) from None
        names = [n.lower() for n in (self._header() if self.fmt == "csv" else
                                     [r[0] for r in rows])]
        twice = sorted({n for n in names if names.count(n) > 1} & set(NEEDED))
        if twice:  # which one a reader takes is an accident: the person decides
            raise InputError(f"column {twice[0]!r} appears twice in the header; keep one",
                             source=str(self.path), line=1)
        return {r[0].lower(): r[1] for r in rows}

    def _header(self) -> list[str]:
        """The CSV header's names, as csv_problem reads them (empty if unreadable)."""
        try:
            with _open(self.path, "rt", encoding="utf-8-sig", newline="") as f:
                line = f.readline()
        except (OSError, UnicodeDecodeError, EOFError, zlib.error):
            return []
        return [h.strip(' "\r\n') for h in next(csv.reader(
            [line], delimiter=header_delimiter(line, self.delimiter)), [])]

    def missing(self, missing: list[str], columns: dict[str, str]):
        if self.fmt == "csv" and (found := csv_problem(self.path, self.delimiter)):
            raise found
        super().missing(missing, columns)

    def location(self, row: int) -> dict:
        """Where data row `row` (1-based) is, for an InputError: a line of a CSV file (after
        its header), a row of Parquet; in a folder, the row of the file holding it (a folder
        is read file after file, in the order of `files`)."""
        if self.fmt == "csv":
            return {"source": str(self.path), "line": row + 1}
        counts = _rows_per_file(self.files) if len(self.files) > 1 else {}
        if counts.keys() == set(self.files):
            for name in self.files:
                if row <= counts[name]:
                    return {"source": f"{name} row {row}"}
                row -= counts[name]
        return {"source": f"{self.path} row {row}"}

    def unreadable(self, exc: Exception) -> Exception:
        """The error for a file DuckDB cannot read; for CSV, the line that breaks it if found.
        Running out of memory is not the file's fault: that error is kept as it is."""
        duckdb = sys.modules.get("duckdb")
        if duckdb is not None and isinstance(exc, duckdb.OutOfMemoryException):
            return exc
        found = csv_problem(self.path, self.delimiter) if self.fmt == "csv" else None
        if self.fmt == "parquet" and self.path.is_file() and (
                really := what_it_is(self.path, "parquet")):
            return InputError(really, source=str(self.path))
        advice = ""
        if self.fmt == "parquet":
            advice = ("; the file is damaged or empty: remove it or export the folder again"
                      if self.path.is_dir() else "; the file is damaged: export it again")
        return found or InputError(f"cannot read as {self.fmt.upper()}: {first_line(exc)}"
                                   f"{advice}", source=str(self.path))


def _rows_per_file(files: tuple[str, ...]) -> dict[str, int]:
    """Rows in each Parquet file, from their footers."""
    import duckdb

    with duckdb.connect() as con:
        return dict(con.execute("SELECT file_name, num_rows FROM parquet_file_metadata(?)",
                                [list(files)]).fetchall())


def _refuse_delimited_beside(folder: Path, found: list[Path]) -> None:
    """A folder is read as its Parquet files: CSV or TSV events beside them would be left
    out without a word."""
    others = sorted(p for p in found if p.name.lower().endswith(tuple(DELIMITED)))
    if others:
        raise InputError(f"folder holds {len(others):,} file(s) of events that are not "
                         f"Parquet, such as {others[0].relative_to(folder)}, and only its "
                         "Parquet files are read; convert them to Parquet or move them out",
                         source=str(folder))


def _hidden(relative: Path) -> bool:
    """Spark and Hive leave _SUCCESS, _temporary/ and .crc files beside the data."""
    return any(part.startswith(("_", ".")) for part in relative.parts)


@dataclass(frozen=True)
class Table(_Relation):
    """A table queried where it lives: in PostgreSQL (`url` set) or a Spark catalog."""

    name: str
    url: str | None = None  # postgresql://user[:password]@host:port/db, without ?table=
    dedupe: bool = False
    fmt = "table"

    @classmethod
    def from_url(cls, url: str, *, dedupe: bool = False) -> Table:
        """`postgresql://user@host:port/db?table=schema.events` (other query parameters, such
        as sslmode, go to the connection)."""
        parts = _split(url)
        query = parse_qs(parts.query, keep_blank_values=True)
        table = query.pop("table", [""])[-1].strip()
        if not table:
            raise InputError("add the table to read: ?table=events (or ?table=schema.events)",
                             source=_without_password(url))
        rest = urlunsplit(parts._replace(query=urlencode(query, doseq=True)))
        return cls(check_table_name(table, source=_without_password(url)), rest, dedupe)

    @property
    def path(self) -> str:
        """What errors and captions name: the URL without its password, with the table."""
        if self.url is None:
            return self.name
        return f"{_without_password(self.url)}{'&' if '?' in self.url else '?'}table={self.name}"

    def sql_name(self) -> str:
        return ".".join(f'"{part}"' for part in self.name.split("."))

    def relation(self, con) -> tuple[str, list]:
        return con.relation(self)

    def columns(self, con) -> dict[str, str]:
        if not isinstance(con, Backend):
            raise InputError("a table is read where it lives: give a postgresql:// URL, or "
                             "run with --engine spark", source=self.path)
        return con.columns(self)

    def location(self, row: int) -> dict:
        return {"source": self.path}

    def missing(self, missing: list[str], columns: dict[str, str]):
        raise InputError(f"missing column(s) {', '.join(missing)}; found "
                         f"{', '.join(columns) or 'none'}", source=self.path)

    def unreadable(self, exc: Exception) -> InputError:
        return InputError(f"cannot read the table: {first_line(exc)}", source=self.path)


def check_table_name(name: str, *, source: str | None = None) -> str:
    """A table name as `table` or `schema.table` (or `catalog.schema.table`) of plain
    identifiers; quoted in SQL, never spliced from other text."""
    parts = name.split(".")
    if len(parts) > 3 or not all(_IDENTIFIER.fullmatch(p) for p in parts):
        raise InputError(f"{name!r} is not a table name; use letters, digits and _ as in "
                         "events or analytics.events", source=source, field="table")
    return name


def with_password(url: str, password: str | None) -> str:
    """The URL with `password` put in (kept out of the workspace, which stores it without)."""
    parts = urlsplit(url)
    if not password or parts.password is not None or not parts.username:
        return url
    netloc = f"{parts.username}:{quote(password, safe='')}@{parts.netloc.rpartition('@')[2]}"
    return urlunsplit(parts._replace(netloc=netloc))


def table_url(url: str, table: str) -> str:
    """`url` (postgresql://user:password@host:port/db) reading `table`."""
    check_table_name(table.strip(), source=_without_password(url))
    return f"{url}{'&' if '?' in url else '?'}table={table.strip()}"


def location_name(location) -> str:
    """How to name where events are on screen: a file's name, or a table's URL without its
    password."""
    source = Source.of(location)
    return source.path if isinstance(source, Table) else Path(source.path).name


def computed_where(location) -> str:
    """Where numbers from these events were computed, for a caption under them."""
    source = Source.of(location)
    if isinstance(source, Table) and source.url:
        return (f"Computed inside PostgreSQL ({_without_password(source.url)}, table "
                f"{source.name}); only aggregates came back.")
    return f"Computed by DuckDB on this machine from {Path(source.path).name}."


def _split(url: str):
    """The URL's parts, or an InputError (without the password) for a bad host or port."""
    try:
        parts = urlsplit(url)
        _ = parts.port  # raises ValueError for a port that is not a number in 0-65535
    except ValueError as exc:
        shown = re.sub(r"(//[^:/@]*):[^@/]*@", r"\1@", url)
        raise InputError(f"not a valid PostgreSQL URL ({exc}); write it as "
                         "postgresql://user@host:5432/database?table=events",
                         source=shown) from None
    return parts


def _without_password(url: str) -> str:
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit(parts._replace(netloc=netloc))


def _undated_sql(column: str, duck_type: str) -> str:
    """SQL: the row's time has no time of day. Text says so as written; a typed time (whose
    zone is gone) only by falling at 00:00 UTC."""
    if duck_type == "VARCHAR":
        return f"({UNDATED_TEXT.format(f'trim({column})')})"
    parsed = _timestamp_sql(column, duck_type)
    return f"({parsed} = date_trunc('day', {parsed}))"


def _timestamp_sql(column: str, duck_type: str) -> str:
    """A naive UTC TIMESTAMP in microseconds (nanoseconds are cut, not rounded as a cast
    would: PostgreSQL and Spark keep microseconds, and the same events give the same windows
    everywhere)."""
    if duck_type == "TIMESTAMP":
        return column
    if duck_type == "TIMESTAMP_NS":
        return f"make_timestamp(epoch_ns({column}) // 1000)"
    if duck_type.startswith("TIMESTAMP"):
        return f"CAST({column} AS TIMESTAMP)"
    return f"CAST(try_cast({column} AS TIMESTAMPTZ) AS TIMESTAMP)"


def first_line(exc: Exception) -> str:
    return str(exc).strip().splitlines()[0][:200]


def _open(path: Path, mode: str, **kwargs):
    opener = gzip.open if path.name.lower().endswith(".gz") else open
    return opener(path, mode, **kwargs)


def what_it_is(path: Path, fmt: str) -> str | None:
    """What a file read as `fmt` (csv or parquet) really is, when its first bytes say it is
    something else (a renamed workbook, Parquet named .csv, gzip without .gz, UTF-16 text,
    nothing at all): the sentence to say instead of a reader's error."""
    from growthlab.io import looks_utf16

    try:
        with path.open("rb") as f:
            head = f.read(4096)
    except OSError:
        return None
    gzipped = path.name.lower().endswith(".gz")
    if head.startswith(b"PAR1"):
        return None if fmt == "parquet" else "this is a Parquet file; name it .parquet"
    if head.startswith(b"PK\x03\x04"):
        return ("this is a zip archive or an Excel workbook, not events; export the sheet as "
                "CSV UTF-8, or the events as CSV or Parquet")
    if head.startswith(b"\x1f\x8b") and not gzipped:
        return ("this file is gzip-compressed; name it .csv.gz or .tsv.gz for what it holds, or "
                "decompress it")
    if gzipped:
        return None
    if not head.strip():
        return "the file is empty; export the events again"
    if looks_utf16(head):
        return ('this is UTF-16 text (Excel\'s "Unicode Text"), not UTF-8; save it as "CSV '
                'UTF-8 (Comma delimited)"')
    if fmt == "parquet" and b"\x00" not in head and (b"," in head or b"\t" in head):
        return "this is CSV text, not Parquet; name it .csv (or .tsv for tabs)"
    return None


def header_delimiter(line: str, delimiter: str | None) -> str:
    """The delimiter the file's suffix gives, else the first of comma, semicolon and tab
    that its header line holds (as DuckDB's sniffer would find)."""
    return delimiter or next((d for d in ",;\t" if d in line), ",")


def csv_problem(path: Path, delimiter: str | None = None) -> InputError | None:
    """What the file really is, if not CSV text; else the first line that is not UTF-8 or
    leaves a quote open, naming line and column; else the first row whose field count differs
    from the header's."""
    if found := what_it_is(path, "csv"):
        return InputError(found, source=str(path))
    header: list[str] = []
    try:
        with _open(path, "rb") as f:
            for number, raw in enumerate(f, start=1):
                try:
                    line = raw.decode("utf-8-sig" if number == 1 else "utf-8")
                except UnicodeDecodeError as exc:
                    return InputError(
                        f"not UTF-8 text (byte {exc.start + 1} of the line); convert the file "
                        f"to UTF-8, e.g. iconv -f WINDOWS-1252 -t UTF-8 {path.name} > "
                        f"utf8-{path.name.removesuffix('.gz')}", source=str(path), line=number)
                if number == 1:
                    delimiter = header_delimiter(line, delimiter)
                    header = [h.strip(' "\r\n').lower() for h in line.split(delimiter)]
                if line.count('"') % 2:
                    field = _unclosed_field(line, delimiter)
                    column = header[field] if field < len(header) else field + 1
                    return InputError('a quote (") opens here and is not closed on its line; '
                                      'close it, or write a quote inside a value as ""',
                                      source=str(path), line=number, column=column)
    except (OSError, EOFError, zlib.error) as exc:  # a damaged .gz
        return InputError(f"cannot read: {first_line(exc)}; the file is cut short or damaged: "
                          "export or download it again", source=str(path))
    return _ragged_row(path, delimiter, len(header)) if header else None


def _ragged_row(path: Path, delimiter: str, expected: int) -> InputError | None:
    """The first row whose field count differs from the header's (DuckDB's sniffer then
    reads the header as one column, or a data row as the header)."""
    with _open(path, "rt", encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f, delimiter=delimiter)
        start = 1
        try:
            for row in reader:
                if row and len(row) != expected:
                    return InputError(f"{len(row)} fields, expected {expected} as in the "
                                      "header", source=str(path), line=start)
                start = reader.line_num + 1
        except csv.Error:  # a field past csv's size limit: leave the error to DuckDB
            return None
    return None


def _unclosed_field(line: str, delimiter: str) -> int:
    field = opened = 0
    quoted = False
    for char in line:
        if char == '"':
            quoted = not quoted
            opened = field
        elif char == delimiter and not quoted:
            field += 1
    return opened


@dataclass(frozen=True)
class Quality:
    """What is odd but not wrong in events: exact duplicate rows and rows dated in the future
    (those are left out, so the data does not end in the future)."""

    source: str
    duplicates: int
    future: int
    cutoff: datetime
    first_future: str | None = None  # where the first one is: "line 9" or "row 9"
    deduped: bool = False
    undated_repeats: int = 0  # of the duplicates, those with no time of day: maybe real
    at_epoch: int = 0  # rows at exactly 1970-01-01 00:00:00, an SDK's default for no time

    def warnings(self, remedy: str = "rerun with --dedupe to drop them") -> list[str]:
        """What to tell the person; `remedy` says how to drop duplicates where they are."""
        found = []
        if self.future:
            where = f" (first at {self.first_future})" if self.first_future else ""
            found.append(f"{self.source}: {self.future:,} event(s) dated on or after "
                         f"{self.cutoff.date()}, in the future{where}; they are left out, "
                         "so the data ends at the latest event before then")
        if self.at_epoch:
            found.append(f"{self.source}: {self.at_epoch:,} event(s) at exactly 1970-01-01 "
                         "00:00:00, the Unix epoch, which SDKs write when they have no time: "
                         "each makes its user's first event 1970, so every window of theirs "
                         "closed long ago; fix or filter them")
        timed = self.duplicates - self.undated_repeats
        if timed and self.deduped:
            found.append(f"{self.source}: dropped {timed:,} exact duplicate row(s) (same "
                         "user_id, event and timestamp)")
        elif timed:
            found.append(f"{self.source}: {timed:,} exact duplicate row(s) (same user_id, "
                         f"event and timestamp) each count again; {remedy}")
        if self.undated_repeats:
            kept = ", and they are kept while the others are dropped" if timed and \
                self.deduped else ""
            found.append(f"{self.source}: {self.undated_repeats:,} row(s) repeat another's "
                         "user_id, event and timestamp, but those timestamps have no time of "
                         "day (dates only), so GrowthLab cannot tell a retried send from a "
                         f"second event that day: each counts{kept}; export the time of day "
                         "to tell them apart")
        return found


QUALITY_SHAPE = {"duplicates": int, "future": int, "first_future": (str, type(None)),
                 "undated_repeats": int, "at_epoch": int}


def quality(events, con) -> Quality:
    """Count exact duplicate rows and events in the future (one pass over the events)."""
    source = Source.of(events)
    cutoff = future_cutoff()
    sql, params = source.select(con, EVENT_COLUMNS, "timestamp", undated=True)
    epoch = "timestamp = CAST('1970-01-01 00:00:00' AS TIMESTAMP)"
    counts = (f"SELECT coalesce(sum(n - 1), 0), coalesce(sum(n) FILTER (WHERE timestamp >= "
              "CAST(? AS TIMESTAMP)), 0), coalesce(sum(n - 1) FILTER (WHERE undated), 0), "
              f"coalesce(sum(n) FILTER (WHERE {epoch}), 0) FROM (SELECT user_id, event, "
              "timestamp, count(*) AS n, bool_or(coalesce(undated, TRUE)) AS undated "
              f"FROM ({sql}) GROUP BY user_id, event, timestamp)")
    hashed = (f"SELECT count(*) - count(DISTINCT hash(user_id, event, timestamp)), count(*) "
              f"FILTER (WHERE timestamp >= CAST(? AS TIMESTAMP)), 0, count(*) FILTER (WHERE "
              f"{epoch}) FROM ({sql})")  # no duplicates by hash: none undated either
    first_line = (f"SELECT min(line) FROM (SELECT row_number() OVER () AS line, timestamp "
                  f"FROM ({sql})) WHERE timestamp >= CAST(? AS TIMESTAMP)")
    cached = None if isinstance(con, Backend) else \
        scan_cache.key(source, counts + first_line, cutoff)
    found = scan_cache.read_json(cached, QUALITY_SHAPE) if cached else None
    if found is None:
        found = _quality(source, con, (hashed, counts), first_line, [cutoff, *params])
        if cached and scan_cache.key(source, counts + first_line, cutoff) == cached:
            scan_cache.write_json(cached, found)
    return Quality(str(source.path), found["duplicates"], found["future"], cutoff,
                   found["first_future"], source.dedupe, found["undated_repeats"],
                   found["at_epoch"])


def _quality(source, con, counts: tuple[str, str], first_line: str, params: list) -> dict:
    """`counts`: a count by 64-bit hashes of user, event and timestamp, then the exact one.
    Hashes that all differ prove the rows differ, and that aggregate is far cheaper than
    grouping the rows; only when two agree (a duplicate, or a collision) are rows grouped.
    Other engines have no such hash and group the rows."""
    hashed, exact = counts
    duplicates, future, undated, at_epoch = (None,) * 4 if isinstance(con, Backend) else \
        con.execute(hashed, params).fetchone()
    if duplicates != 0:
        duplicates, future, undated, at_epoch = con.execute(exact, params).fetchone()
    first = None
    if future and isinstance(source, Source) and not isinstance(con, Backend):
        line = con.execute(first_line, params[1:] + params[:1]).fetchone()[0]
        where = source.location(line)
        first = f"line {where['line']}" if "line" in where else f"row {line}"
    return {"duplicates": int(duplicates), "future": int(future), "first_future": first,
            "undated_repeats": int(undated), "at_epoch": int(at_epoch)}
