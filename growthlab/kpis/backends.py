"""Run the milestone SQL where events live: in PostgreSQL (psycopg) or on Apache Spark.

The engine writes its SQL once, in DuckDB's dialect; sqlglot transpiles it for the backend,
parameters stay bound, and only aggregates (per milestone, cohort or variant) come back.
"""

from __future__ import annotations

import hashlib
import os
from datetime import date, datetime
from functools import lru_cache

from growthlab.errors import InputError
from growthlab.kpis.sources import (
    Backend,
    BackendError,
    Source,
    Table,
    _open,
    _without_password,
    first_line,
)

SPARK_CONF = {"spark.sql.session.timeZone": "UTC", "spark.sql.shuffle.partitions": "4",
              "spark.driver.memory": "2g", "spark.ui.enabled": "false",
              "spark.ui.showConsoleProgress": "false",
              "spark.sql.legacy.parquet.nanosAsLong": "true"}
# Text timestamps PostgreSQL may read: ISO 8601 as DuckDB reads it, with a real calendar date,
# maybe a clock time (24:00 is the next midnight) with Z, a real UTC offset or " UTC".
# PostgreSQL would read far more (03/11/2026 by its DateStyle, 'now', zone abbreviations).
_DAY = (r"[0-9]{4}-(0?[1-9]|1[0-2])-(0?[1-9]|1[0-9]|2[0-8])"
        r"|[0-9]{4}-(0?[13-9]|1[0-2])-(29|30)|[0-9]{4}-(0?[13578]|1[02])-31"
        r"|([0-9]{2}(0[48]|[2468][048]|[13579][26])|([02468][048]|[13579][26])00)-0?2-29")
_CLOCK = r"([01]?[0-9]|2[0-3]):[0-5][0-9](:[0-5][0-9](\.[0-9]*)?)?|24:00(:00(\.0*)?)?"
_ZONE = (r"Z|\+((0[0-9]|1[0-3])(:?[0-5][0-9])?|14(:?00)?)|-((0[0-9]|1[01])(:?[0-5][0-9])?"
         r"|12(:?00)?)| UTC")
ISO_TIMESTAMP = rf"^\s*({_DAY})((T|\s+)({_CLOCK})({_ZONE})?)?\s*$"


@lru_cache(maxsize=256)
def transpile(sql: str, dialect: str) -> str:
    """DuckDB SQL in `dialect`; refuses (rather than guesses) what the dialect lacks."""
    import sqlglot
    from sqlglot import exp

    tree = sqlglot.parse_one(sql, read="duckdb")
    for n, subquery in enumerate(tree.find_all(exp.Subquery)):
        if not subquery.alias and isinstance(subquery.parent, exp.From | exp.Join):
            subquery.set("alias", exp.TableAlias(this=exp.to_identifier(f"q{n}")))
    if dialect == "spark":
        for cte in tree.find_all(exp.CTE):
            cte.set("materialized", None)  # Spark plans CTEs itself
        for window in list(tree.find_all(exp.Window)):
            if isinstance(window.this, exp.RowNumber) and not window.args.get("order"):
                # No order: the row's place in the files, as DuckDB's row_number() OVER ().
                window.replace(exp.Anonymous(this="monotonically_increasing_id"))
    if dialect == "postgres":
        for try_cast in list(tree.find_all(exp.TryCast)):
            if try_cast.to.is_type("timestamptz"):
                try_cast.replace(_text_timestamp(try_cast.this))
        for literal in tree.find_all(exp.Literal):
            if literal.is_string and "%" in literal.this:
                literal.set("this", literal.this.replace("%", "%%"))  # psycopg's placeholders
    return tree.sql(dialect=dialect, unsupported_level=sqlglot.ErrorLevel.RAISE)


# Digits past microseconds cut, as DuckDB cuts them (PostgreSQL would round them).
_CUT = ("CASE WHEN strpos(v, '.') > 0 AND substr(v, strpos(v, '.') + 7, 1) BETWEEN '0' AND '9' "
        r"THEN regexp_replace(v, '(?<=\.[0-9]{6})[0-9]+', '') ELSE v END")


def _text_timestamp(value):
    """DuckDB's try_cast(value AS TIMESTAMPTZ) in PostgreSQL, which has no try_cast: a cast of
    the value as text (a number is then refused as text is). The check refused text outside
    ISO_TIMESTAMP first: matching it in every query made kpis 4 to 9 times as slow."""
    import sqlglot
    from sqlglot import exp

    text = exp.cast(value.copy(), "text")
    return exp.cast(sqlglot.parse_one(_CUT, read="postgres").transform(
        lambda node: text.copy() if isinstance(node, exp.Column) and node.name == "v" else node),
        "timestamptz")


class _Rows:
    def __init__(self, rows: list):
        self.rows = rows

    def fetchone(self):
        return self.rows[0] if self.rows else None

    def fetchall(self) -> list:
        return self.rows


class Postgres(Backend):
    """A PostgreSQL database: the password comes from the URL, PGPASSWORD or ~/.pgpass (the
    app passes it from its secrets); it is never written to the workspace."""

    name = "PostgreSQL"
    text_timestamps = ISO_TIMESTAMP

    def __init__(self, url: str):
        import psycopg

        if "table=" in url:
            url = Table.from_url(url).url
        self.url = _without_password(url)
        try:
            self.conn = psycopg.connect(url, autocommit=True, connect_timeout=10,
                                        options="-c TimeZone=UTC -c DateStyle=ISO")
        except psycopg.Error as exc:
            raise BackendError(f"{self.url}: cannot connect: {first_line(exc)}; check host, "
                               "port, database, user and password (in the URL, PGPASSWORD "
                               "or the app's secrets)") from None

    def execute(self, sql: str, params=()):
        import psycopg

        try:
            return self.conn.execute(transpile(sql, "postgres"), list(params))
        except psycopg.Error as exc:
            raise BackendError(f"{self.url}: PostgreSQL refused the query: "
                               f"{first_line(exc)}") from None

    def columns(self, source) -> dict[str, str]:
        if not isinstance(source, Table):
            raise InputError("with events in PostgreSQL, assignments must be a table in the "
                             f"same database: {self.url}?table=assignments",
                             source=str(source.path))
        return {name.lower(): _duck_type(pg_type) for name, pg_type in self._attributes(source)}

    def _attributes(self, source: Table) -> list:
        rows = self.conn.execute(
            "SELECT a.attname, format_type(a.atttypid, a.atttypmod) FROM pg_attribute a "
            "WHERE a.attrelid = to_regclass(%s) AND a.attnum > 0 AND NOT a.attisdropped "
            "ORDER BY a.attnum", [source.sql_name()]).fetchall()
        if not rows:
            found = self._spelt_otherwise(source.name)
            raise InputError(f"no table {source.name} in the database; " + (
                f"did you mean {found}? (names are exact, and PostgreSQL makes names created "
                "without quotes lower case)" if found else
                "names are exact: add the schema as in analytics.events"), source=source.path)
        return rows

    def _spelt_otherwise(self, name: str) -> str | None:
        """The table whose name differs from `name` only in case, if there is one."""
        parts = name.split(".")
        table, schema = parts[-1], parts[-2] if len(parts) > 1 else ""
        found = self.conn.execute(
            "SELECT n.nspname, c.relname FROM pg_class c JOIN pg_namespace n ON "
            "n.oid = c.relnamespace WHERE lower(c.relname) = lower(%s) AND "
            "c.relkind IN ('r', 'v', 'm', 'p', 'f') AND CASE WHEN %s = '' THEN "
            "pg_table_is_visible(c.oid) ELSE lower(n.nspname) = lower(%s) END "
            "ORDER BY c.relname = lower(c.relname) DESC, 1, 2 LIMIT 1",
            [table, schema, schema]).fetchone()
        if found is None:
            return None
        return ".".join([*parts[:-2], *found] if schema else [found[1]])

    def relation(self, source) -> tuple[str, list]:
        """The table, its columns renamed to lower case where they are not (PostgreSQL folds
        the unquoted names in GrowthLab's SQL, as files' headers are matched)."""
        names = [name for name, _ in self._attributes(source)]
        if all(name == name.lower() for name in names):
            return source.sql_name(), []
        renamed = ", ".join(_quoted(name) + (f" AS {_quoted(name.lower())}"
                                             if name != name.lower() else "") for name in names)
        return f"(SELECT {renamed} FROM {source.sql_name()}) AS src", []

    def where(self) -> str:
        return f"PostgreSQL ({self.url})"

    def close(self) -> None:
        self.conn.close()


def _quoted(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _duck_type(name: str) -> str:
    """PostgreSQL's or Spark's type name as DuckDB's (Spark's `timestamp` is an instant)."""
    name = name.lower()
    if "with time zone" in name or name == "timestamp":
        return "TIMESTAMP WITH TIME ZONE"
    if name.startswith("timestamp"):
        return "TIMESTAMP"
    return "DATE" if name == "date" else "VARCHAR"


def spark_session():
    """A Spark Connect session when SPARK_REMOTE is set, else a local one on this machine."""
    from pyspark.sql import SparkSession

    remote = os.environ.get("SPARK_REMOTE", "").strip()
    if remote:
        session = SparkSession.builder.remote(remote).getOrCreate()
        session.conf.set("spark.sql.session.timeZone", "UTC")
        return session
    builder = SparkSession.builder.master("local[2]").appName("growthlab")
    for key, value in SPARK_CONF.items():
        builder = builder.config(key, value)
    session = builder.getOrCreate()
    session.sparkContext.setLogLevel("ERROR")
    return session


class Spark(Backend):
    """Apache Spark over files (read where they are) or tables in its catalog."""

    name = "Apache Spark"

    def __init__(self, session=None):
        self.session = session or spark_session()
        self.views: dict[tuple, str] = {}

    def execute(self, sql: str, params=()):
        from pyspark.errors import PySparkException

        args = [_spark_param(p) for p in params]
        try:
            return _Rows(self.session.sql(transpile(sql, "spark"), args=args).collect())
        except PySparkException as exc:
            raise BackendError(f"Spark refused the query: {first_line(exc)}") from None

    def frame(self, source):
        from pyspark.errors import PySparkException

        try:
            return self.session.table(self.relation(source)[0].replace('"', "`"))
        except PySparkException as exc:
            raise source.unreadable(exc) from None

    def columns(self, source) -> dict[str, str]:
        return {name.lower(): _duck_type(kind) for name, kind in self.frame(source).dtypes}

    def relation(self, source) -> tuple[str, list]:
        if isinstance(source, Table):
            return source.sql_name(), []
        key = (source.files, source.delimiter)
        if key not in self.views:
            view = f"growthlab_{hashlib.sha1(repr(key).encode()).hexdigest()[:16]}"
            self._read(source).createOrReplaceTempView(view)
            self.views[key] = view
        return self.views[key], []

    def _read(self, source: Source):
        from pyspark.sql.functions import expr

        reader = self.session.read
        if source.fmt == "csv":
            with _open(source.path, "rt", encoding="utf-8-sig", errors="replace") as f:
                header = f.readline()
            delimiter = source.delimiter or next((d for d in ",;\t" if d in header), ",")
            return reader.options(header=True, sep=delimiter, quote='"', escape='"',
                                  encoding="UTF-8").csv(str(source.path))
        frame = reader.parquet(str(source.path)) if source.path.is_dir() else reader.parquet(
            *source.files)  # a folder: Spark discovers hive partitions
        for column in _nanosecond_columns(source.files[0]):
            # Spark reads nanoseconds as a count (nanosAsLong): microseconds, as DuckDB cuts.
            frame = frame.withColumn(column, expr(f"timestamp_micros(div(`{column}`, 1000))"))
        return frame

    def where(self) -> str:
        master = self.session.conf.get("spark.master", None) if not os.environ.get(
            "SPARK_REMOTE") else os.environ["SPARK_REMOTE"]
        return f"Apache Spark ({master or 'Spark Connect'})"


def _nanosecond_columns(path: str) -> list[str]:
    import pyarrow as pa
    import pyarrow.parquet as pq

    return [f.name for f in pq.read_schema(path)
            if pa.types.is_timestamp(f.type) and f.type.unit == "ns"]


def _spark_param(value):
    """Spark would read a naive datetime in the Python process's time zone: pass text."""
    if isinstance(value, datetime | date):
        return value.isoformat(sep=" ") if isinstance(value, datetime) else value.isoformat()
    return value
