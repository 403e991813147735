"""The same events give the same JSON on DuckDB, in PostgreSQL and on Apache Spark.

PostgreSQL is a real server these tests start (Debian's postgresql package, initdb into a
temporary folder, a free port); Spark is one local session shared by the whole run.
"""

import json
import os
from datetime import date

import pandas as pd
import psycopg
import pytest
from engines import PASSWORD, load_table, postgres_server

from growthlab.cli import main
from growthlab.db import open_workspace
from growthlab.demo import create_demo
from growthlab.kpis import funnel, load_from_workspace, milestones_toml, parse_milestones_toml
from growthlab.kpis.sources import Table

QUOTED = '''
[[milestones]]
key = "signed_up"
name = "Signed up"
rule = 'count("sign up") >= 1'

[[milestones]]
key = "engaged"
name = "Engaged"
rule = 'reached(signed_up) and days("page:view") >= 2'
window_days = 7

[[milestones]]
key = "shared"
name = "Shared"
rule = 'reached(engaged) and (count("a,b") >= 2 or count(share) >= 1) and not count("Ünï cøde") > 3'
window_days = 14

[[milestones]]
key = "loyal"
name = "Loyal"
rule = 'days("page:view") >= 4 or reached(shared)'
'''


def quoted_events() -> pd.DataFrame:
    names = ["sign up", "page:view", "page:view", "a,b", "share", "Ünï cøde", "page:view"]
    rows = []
    for u in range(400):
        start = pd.Timestamp("2026-03-01") + pd.Timedelta(hours=7 * u)
        for k in range(u % 9):
            rows.append((f"user {u}", names[(u + k * k) % len(names)],
                         start + pd.Timedelta(hours=13 * k * (1 + u % 4))))
    return pd.DataFrame(rows, columns=["user_id", "event", "timestamp"])


@pytest.fixture(scope="session")
def inputs(tmp_path_factory):
    """A small demo (events, assignments, milestones) and the quoted-names fixture, as files."""
    folder = tmp_path_factory.mktemp("engines")
    create_demo(folder / "growthlab.db", users=6000, anchor=date(2026, 11, 23))
    db = open_workspace(folder / "growthlab.db", create=False)
    (folder / "demo.toml").write_text(milestones_toml(load_from_workspace(db)))
    (folder / "quoted").mkdir()
    quoted_events().to_parquet(folder / "quoted" / "events.parquet", index=False)
    (folder / "quoted.toml").write_text(QUOTED)
    return folder


@pytest.fixture(scope="session")
def postgres(inputs):
    with postgres_server() as url:
        load_table(url, "events", inputs / "events")
        load_table(url, "analytics.assignments", inputs / "assignments.parquet",
                   time_type="timestamp")
        load_table(url, "quoted_events", inputs / "quoted" / "events.parquet")
        yield url


@pytest.fixture(scope="session")
def spark():
    from growthlab.kpis.backends import Spark

    backend = Spark()
    yield backend
    backend.session.stop()


def cli_json(capsys, *argv) -> dict:
    code = main([*argv, "--json"])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def table(url: str, name: str) -> str:
    return f"{url}?table={name}"


@pytest.mark.parametrize("events,milestones", [("events", "demo.toml"),
                                                ("quoted/events.parquet", "quoted.toml")])
def test_kpis_are_the_same_in_postgres_and_on_spark(inputs, postgres, spark, capsys, events,
                                                    milestones):
    name = {"events": "events", "quoted/events.parquet": "quoted_events"}[events]
    m = str(inputs / milestones)
    on_duckdb = cli_json(capsys, "kpis", str(inputs / events), "--milestones", m)
    assert on_duckdb["users"] > 100 and on_duckdb["success_gap"]
    assert cli_json(capsys, "kpis", table(postgres, name), "--milestones", m) == on_duckdb
    assert cli_json(capsys, "kpis", str(inputs / events), "--milestones", m,
                    "--engine", "spark") == on_duckdb


def test_as_of_gives_the_same_kpis_everywhere(inputs, postgres, spark, capsys):
    argv = ["--milestones", str(inputs / "quoted.toml"), "--as-of", "2026-03-20T12:00:00Z"]
    on_duckdb = cli_json(capsys, "kpis", str(inputs / "quoted" / "events.parquet"), *argv)
    assert cli_json(capsys, "kpis", table(postgres, "quoted_events"), *argv) == on_duckdb
    assert cli_json(capsys, "kpis", str(inputs / "quoted" / "events.parquet"), *argv,
                    "--engine", "spark") == on_duckdb


@pytest.mark.parametrize("options", [[], ["--event", "page:view", "--days", "0,1,3,7"],
                                     ["--start-event", "sign up", "--milestone", "engaged",
                                      "--milestones", "quoted.toml"]])
def test_retention_is_the_same_everywhere(inputs, postgres, spark, capsys, options):
    options = [str(inputs / o) if o.endswith(".toml") else o for o in options]
    on_duckdb = cli_json(capsys, "retention", str(inputs / "quoted" / "events.parquet"),
                         *options)
    assert cli_json(capsys, "retention", table(postgres, "quoted_events"), *options) == on_duckdb
    assert cli_json(capsys, "retention", str(inputs / "quoted" / "events.parquet"), *options,
                    "--engine", "spark") == on_duckdb


@pytest.mark.parametrize("options", [[], ["--exclude-in-progress", "--method", "bayesian"]])
def test_experiment_metrics_are_the_same_everywhere(inputs, postgres, spark, capsys, options):
    argv = ["--milestones", str(inputs / "demo.toml"), "--experiment", "EXP-004", *options]
    on_duckdb = cli_json(capsys, "analyze-events", str(inputs / "events"),
                         str(inputs / "assignments.parquet"), *argv)
    assert len(on_duckdb["results"]) >= 2
    assert cli_json(capsys, "analyze-events", table(postgres, "events"),
                    table(postgres, "analytics.assignments"), *argv) == on_duckdb
    assert cli_json(capsys, "analyze-events", str(inputs / "events"),
                    str(inputs / "assignments.parquet"), *argv, "--engine", "spark") == on_duckdb


def test_only_aggregates_come_back_from_postgres(inputs, postgres):
    from growthlab.kpis.backends import Postgres

    backend = Postgres(table(postgres, "events"))
    fetched = []
    execute = backend.conn.execute

    def counting(query, params=None):
        cursor = execute(query, params)
        fetched.append(cursor.rowcount)
        return cursor

    backend.conn.execute = counting
    milestones = parse_milestones_toml((inputs / "demo.toml").read_text())
    result = funnel(table(postgres, "events"), milestones, by_cohort=True, con=backend)
    assert max(fetched) == len(result.cohorts) and sum(fetched) < 100, fetched  # per cohort
    assert result.users == 6000


def test_the_password_may_come_from_pgpassword(inputs, postgres, capsys, monkeypatch):
    monkeypatch.setenv("PGPASSWORD", PASSWORD)
    url = postgres.replace(f":{PASSWORD}@", "@")
    argv = ["--milestones", str(inputs / "quoted.toml")]
    assert cli_json(capsys, "kpis", table(url, "quoted_events"), *argv) == cli_json(
        capsys, "kpis", table(postgres, "quoted_events"), *argv)


@pytest.mark.parametrize("events,message", [
    ("wrong-password", "cannot connect"),
    ("no_such_table", "no table no_such_table in the database"),
    ("analytics.events", "no table analytics.events"),
])
def test_postgres_mistakes_exit_2_naming_the_url_without_its_password(postgres, capsys,
                                                                      monkeypatch, events,
                                                                      message):
    monkeypatch.delenv("PGPASSWORD", raising=False)
    url = table(postgres, events)
    if events == "wrong-password":
        url = table(postgres.replace(PASSWORD, "nope"), "events")
    code = main(["retention", url])
    err = capsys.readouterr().err
    assert code == 2 and message in err and PASSWORD not in err and "nope" not in err, err
    assert err.startswith("error: postgresql://postgres@127.0.0.1:") and len(err.splitlines()) == 1


def test_assignments_in_a_file_with_events_in_postgres_are_refused(inputs, postgres, capsys):
    code = main(["analyze-events", table(postgres, "events"), str(inputs / "assignments.parquet"),
                 "--milestones", str(inputs / "demo.toml"), "--experiment", "EXP-004"])
    err = capsys.readouterr().err
    assert code == 2 and "assignments must be a table in the same database" in err, err


def test_spark_reads_a_table_in_its_catalog(inputs, spark, capsys):
    spark.session.read.parquet(str(inputs / "quoted" / "events.parquet")) \
        .createOrReplaceTempView("quoted_events")
    argv = ["--milestones", str(inputs / "quoted.toml")]
    assert cli_json(capsys, "kpis", "quoted_events", *argv, "--engine", "spark") == cli_json(
        capsys, "kpis", str(inputs / "quoted" / "events.parquet"), *argv)
    milestones = parse_milestones_toml(QUOTED)
    assert funnel(Table("quoted_events"), milestones, con=spark).users == 355


def test_spark_reads_csv_the_same_as_duckdb(inputs, spark, tmp_path, capsys):
    frame = pd.read_parquet(inputs / "quoted" / "events.parquet")
    frame.to_csv(tmp_path / "events.csv", index=False, date_format="%Y-%m-%dT%H:%M:%SZ")
    argv = ["--milestones", str(inputs / "quoted.toml")]
    assert cli_json(capsys, "kpis", str(tmp_path / "events.csv"), *argv, "--engine",
                    "spark") == cli_json(capsys, "kpis", str(tmp_path / "events.csv"), *argv)


def test_no_spark_remote_means_a_local_session(spark):
    assert "SPARK_REMOTE" not in os.environ
    assert spark.where().startswith("Apache Spark (local")


def test_settings_points_the_workspace_at_postgres_and_pages_say_so(postgres, demo_workspace):
    from conftest import ROOT
    from streamlit.testing.v1 import AppTest

    from growthlab.db import get_setting

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120)
    at.secrets["postgres"] = {"url": postgres}
    at.run()
    at.switch_page("pages/settings.py").run()
    at.text_input(key="pg-assignments").set_value("analytics.assignments")
    next(b for b in at.button if b.label == "Check the connection").click().run()
    assert any("events from 6,000 users" in s.value for s in at.success), at.success
    next(b for b in at.button if b.label == "Use these tables").click().run()
    assert not at.exception, [e.message for e in at.exception]
    db = open_workspace(demo_workspace, create=False)
    stored = get_setting(db, "events_path")
    assert stored.endswith("/growthlab?table=events") and PASSWORD not in stored
    assert get_setting(db, "assignments_path").endswith("?table=analytics.assignments")
    at.switch_page("pages/milestones.py").run()
    assert not at.exception, [e.message for e in at.exception]
    captions = [c.value for c in at.caption]
    assert any(c.startswith("Computed inside PostgreSQL (postgresql://postgres@127.0.0.1:")
               for c in captions), captions
    assert not any(PASSWORD in c for c in captions)


def test_a_table_with_an_empty_user_id_is_refused_counting_the_rows(postgres, tmp_path, capsys):
    frame = quoted_events().head(50)
    frame.loc[[3, 9], "user_id"] = "  "
    frame.to_parquet(tmp_path / "events.parquet", index=False)
    load_table(postgres, "broken.events", tmp_path / "events.parquet")
    assert main(["retention", table(postgres, "broken.events")]) == 2
    err = capsys.readouterr().err
    assert "table=broken.events: column user_id: user_id is empty (or only spaces) in 2 row(s)" \
        in err, err


def test_a_table_with_placeholder_user_ids_is_refused_counting_the_rows(postgres, tmp_path,
                                                                         capsys):
    """As in a file: 'null' written for a missing id would make one user of every such row."""
    frame = quoted_events().head(50)
    frame.loc[[3, 9, 11], "user_id"] = ["null", " null", "undefined"]
    frame.to_parquet(tmp_path / "events.parquet", index=False)
    load_table(postgres, "broken.placeholders", tmp_path / "events.parquet")
    assert main(["retention", table(postgres, "broken.placeholders")]) == 2
    err = capsys.readouterr().err
    assert "table=broken.placeholders: column user_id: user_id is text standing for a missing " \
           "id ('null') in 3 row(s)" in err, err


@pytest.mark.parametrize("column,values,says", [
    ("user_id", ["u1 ", "u1"], "'u1 ' and 'u1' are both user ids"),
    ("event", [" search", "search"], "' search' and 'search' are both event names"),
])
def test_a_table_with_padded_twins_is_refused_as_a_file_is(postgres, tmp_path, capsys, column,
                                                           values, says):
    frame = quoted_events().head(50)
    frame.loc[[3, 9], column] = values
    frame.to_parquet(tmp_path / "events.parquet", index=False)
    load_table(postgres, "broken.padded", tmp_path / "events.parquet")
    assert main(["retention", table(postgres, "broken.padded")]) == 2
    err = capsys.readouterr().err
    assert f"table=broken.padded: column {column}: {says}" in err, err


def test_nanosecond_timestamps_read_as_microseconds_everywhere(inputs, postgres, spark,
                                                               tmp_path, capsys):
    frame = quoted_events()
    frame["timestamp"] = frame["timestamp"].astype("datetime64[ns]") + pd.to_timedelta(
        [(i * 7919) % 1000 for i in range(len(frame))], unit="ns")
    frame.to_parquet(tmp_path / "events.parquet", index=False, coerce_timestamps=None,
                     allow_truncated_timestamps=False)
    load_table(postgres, "nano_events", tmp_path / "events.parquet")
    argv = ["--milestones", str(inputs / "quoted.toml")]
    on_duckdb = cli_json(capsys, "kpis", str(tmp_path / "events.parquet"), *argv)
    assert cli_json(capsys, "kpis", table(postgres, "nano_events"), *argv) == on_duckdb
    assert cli_json(capsys, "kpis", str(tmp_path / "events.parquet"), *argv, "--engine",
                    "spark") == on_duckdb


def test_a_table_with_capitalised_column_names_reads_like_a_file_with_them(inputs, postgres,
                                                                           capsys):
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute('CREATE TABLE "Exported" AS SELECT user_id AS "User_ID", event AS "Event", '
                     'timestamp AS "Timestamp" FROM quoted_events')
    m = str(inputs / "quoted.toml")
    on_file = cli_json(capsys, "kpis", str(inputs / "quoted" / "events.parquet"), "--milestones", m)
    assert cli_json(capsys, "kpis", table(postgres, "Exported"), "--milestones", m) == on_file


@pytest.mark.parametrize("columns,message", [
    ('user_id text, event text, "timestamp" timestamptz', "table=bare: has no rows"),
    ("user_id text, event text", "table=bare: missing column(s) timestamp; found user_id, event"),
])
def test_a_table_without_rows_or_columns_says_so_as_a_table(postgres, capsys, columns, message):
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("DROP TABLE IF EXISTS bare")
        conn.execute(f"CREATE TABLE bare ({columns})")
    assert main(["retention", table(postgres, "bare")]) == 2
    err = capsys.readouterr().err
    assert message in err and "header" not in err, err


def test_dropping_duplicates_keeps_midnight_repeats_everywhere(postgres, spark, tmp_path,
                                                               capsys):
    """--dedupe drops rows repeated with a time of day and keeps those repeated at 00:00 (a
    date-only row may be a second real event) in DuckDB, PostgreSQL and Spark alike."""
    import duckdb
    from test_bad_inputs import DOUBLE_EXPORT_WITH_A_MIDNIGHT

    (tmp_path / "e.csv").write_text(DOUBLE_EXPORT_WITH_A_MIDNIGHT)
    duckdb.sql(f"COPY (SELECT * FROM read_csv('{tmp_path / 'e.csv'}')) TO "
               f"'{tmp_path / 'e.parquet'}' (FORMAT parquet)")
    load_table(postgres, "double_export", tmp_path / "e.parquet")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "two"\nname = "Two exports"\n'
                                     'rule = "count(export) >= 2"\n')
    argv = ["--milestones", str(tmp_path / "m.toml"), "--dedupe"]
    on_duckdb = cli_json(capsys, "kpis", str(tmp_path / "e.parquet"), *argv)
    assert on_duckdb["milestones"][0]["users"] == 1  # u2's two exports at midnight
    assert cli_json(capsys, "kpis", table(postgres, "double_export"), *argv) == on_duckdb
    assert cli_json(capsys, "kpis", str(tmp_path / "e.parquet"), *argv,
                    "--engine", "spark") == on_duckdb


def test_dropping_duplicates_reads_local_midnight_in_text_alike_everywhere(postgres, tmp_path,
                                                                            capsys):
    """Text written at local midnight with its offset (a date-only export) keeps its repeats
    in PostgreSQL and Spark as in DuckDB; a repeat with a time of day is dropped."""
    rows = [("u1", "signup", "2026-01-04T23:10:00+02:00"), ("u1", "export", "2026-01-04 "
            "23:10:00+02:00"), ("u1", "export", "2026-01-04 23:10:00+02:00"),
            ("u2", "signup", "2026-01-05T00:00:00+02:00"), ("u2", "export", "2026-01-05 "
            "00:00:00+02:00"), ("u2", "export", "2026-01-05 00:00:00+02:00")]
    (tmp_path / "e.csv").write_text("user_id,event,timestamp\n" + "".join(
        f"{u},{e},{t}\n" for u, e, t in rows))
    url = make_table(postgres, "local_midnights", 'user_id text, event text, "timestamp" text',
                     rows)
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "two"\nname = "Two exports"\n'
                                     'rule = "count(export) >= 2"\n')
    argv = ["--milestones", str(tmp_path / "m.toml"), "--dedupe"]
    on_duckdb = cli_json(capsys, "kpis", str(tmp_path / "e.csv"), *argv)
    assert on_duckdb["milestones"][0]["users"] == 1  # u2's two exports that day
    assert cli_json(capsys, "kpis", url, *argv) == on_duckdb
    assert cli_json(capsys, "kpis", str(tmp_path / "e.csv"), *argv,
                    "--engine", "spark") == on_duckdb


def make_table(url: str, name: str, columns: str, rows: list[tuple]) -> str:
    """`name` (replaced) with `columns` holding `rows`; the URL reading it."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"DROP TABLE IF EXISTS {name}")
        conn.execute(f"CREATE TABLE {name} ({columns})")
        with conn.cursor() as cursor:
            marks = ", ".join(["%s"] * len(rows[0]))
            cursor.executemany(f"INSERT INTO {name} VALUES ({marks})", rows)
    return table(url, name)


MDY_ROWS = [("1", "signup", "2026-10-01 10:00:00"), ("1", "search", "03/11/2026 10:00"),
            ("2", "signup", "Oct 5 2026 10:00"), ("3", "signup", "2026-10-02 10:00:00 CEST"),
            ("5", "signup", "now")]


@pytest.mark.parametrize("text", [text for _, _, text in MDY_ROWS[1:]])
def test_text_postgresql_would_read_as_a_time_is_refused_as_duckdb_refuses_it(
        inputs, postgres, tmp_path, capsys, text):
    """DateStyle 'ISO, MDY' reads 03/11/2026 as March 11th and `now` as the clock; DuckDB
    reads neither: the same rows must be refused on both engines."""
    rows = [MDY_ROWS[0], ("2", "search", text)]
    pd.DataFrame(rows, columns=["user_id", "event", "timestamp"]).to_csv(
        tmp_path / "mdy.csv", index=False)
    argv = ["--milestones", str(inputs / "quoted.toml")]
    url = make_table(postgres, "mdy", "user_id text, event text, timestamp text", rows)
    refused = f"column timestamp: {text!r} is not a timestamp; use ISO 8601"
    for location in (str(tmp_path / "mdy.csv"), url):
        assert main(["kpis", location, *argv]) == 2
        err = capsys.readouterr().err
        shown = location.replace(f":{PASSWORD}", "")
        assert err.replace(":3: ", ": ").startswith(f"error: {shown}: {refused}"), err
    assert "1 row(s) hold no ISO 8601 timestamp" in err and PASSWORD not in err


def test_a_table_counts_its_rows_that_are_not_timestamps_naming_one(postgres, capsys):
    url = make_table(postgres, "mdy", "user_id text, event text, timestamp text", MDY_ROWS)
    assert main(["retention", url]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {url.replace(':' + PASSWORD, '')}: column timestamp: "
                          "'03/11/2026 10:00' is not a timestamp"), err
    assert "; 4 row(s) hold no ISO 8601 timestamp: fix or filter them out" in err, err


def test_assignments_in_a_table_with_text_postgresql_would_read_are_refused(inputs, postgres,
                                                                           capsys):
    rows = [("1", "EXP-004", "control", "2026-10-01 10:00:00"),
            ("2", "EXP-004", "treatment", "10/01/2026 11:00")]
    url = make_table(postgres, "mdy_assignments",
                     "user_id text, experiment text, variant text, assigned_at text", rows)
    code = main(["analyze-events", table(postgres, "events"), url, "--milestones",
                 str(inputs / "demo.toml"), "--experiment", "EXP-004"])
    err = capsys.readouterr().err
    assert code == 2 and "table=mdy_assignments: column assigned_at: '10/01/2026 11:00' is " \
        "not a timestamp" in err, err


@pytest.mark.parametrize("column,value", [("bigint", 1761359400), ("text", "1761359400"),
                                          ("double precision", 1761359400123.0)])
def test_unix_times_in_a_table_are_refused_naming_table_and_column(postgres, capsys, column,
                                                                   value):
    url = make_table(postgres, "epochs", f"user_id text, event text, timestamp {column}",
                     [("1", "signup", value), ("2", "signup", value)])
    assert main(["retention", url]) == 2
    err = capsys.readouterr().err
    shown = url.replace(f":{PASSWORD}", "")
    assert err.startswith(f"error: {shown}: column timestamp: '{str(value).removesuffix('.0')}"
                          "' looks like a Unix time (seconds or milliseconds since 1970)"), err
    assert "export timestamps as ISO 8601" in err and "2 row(s) hold no ISO" in err, err


# Text in the ISO 8601 shapes DuckDB reads, each an instant PostgreSQL must read the same;
# then text DuckDB refuses (or reads only by names and words outside ISO 8601).
ISO_TEXT = ["2026-10-01 10:00:00", "2026-10-01T10:00:00Z", "2026-10-01", "2026-1-5",
            " 2026-01-05 9:30 ", "2026-01-05T10:00", "2026-01-05  10:00:00.5",
            "2026-01-05T10:00:00.123456789+02:00", "2026-01-05T10:00:00.9999999Z",
            "2026-01-05 10:00:00+0530", "2026-01-05 10:00:00-12", "2026-01-05 10:00:00+14:00",
            "2026-01-05 24:00:00", "2024-02-29 10:00", "2000-02-29", "2026-01-05 10:00:00 UTC"]
NOT_ISO_TEXT = ["03/11/2026 10:00", "Oct 5 2026 10:00", "2026-10-02 10:00:00 CEST", "now",
                "today", "epoch", "infinity", "1761359400", "20260105", "2026-02-30",
                "2023-02-29", "1900-02-29", "2026-13-01", "2026-01-05 24:00:01",
                "2026-01-05 10:60", "2026-01-05 10:00:60", "2026-01-05 10:00:00 +02:00",
                "2026-01-05 10:00:00+15", "2026-01-05 10:00:00+02:60", "2026-01-05 10",
                "2026-01-05 T10:00", "2026-01-05 10:00:00,5", "J2461000", "2026-01-05 allballs",
                "2026-01-05 10:00:00 America/New_York", "", " "]


@pytest.mark.parametrize("text", ISO_TEXT + NOT_ISO_TEXT)
def test_postgresql_reads_a_text_timestamp_only_as_duckdb_does(postgres, text):
    """The check lets PostgreSQL cast only text matching `text_timestamps`: that text it
    reads as DuckDB does, whatever its DateStyle."""
    from growthlab.kpis.backends import Postgres
    from growthlab.kpis.engine import connect
    from growthlab.kpis.sources import _timestamp_sql

    sql = (f"SELECT {_timestamp_sql('t', 'VARCHAR')} FROM (SELECT CAST(? AS VARCHAR) AS t) AS q")
    on_duckdb = connect().execute(sql, [text]).fetchone()[0]
    backend = Postgres(postgres)
    backend.conn.execute("SET DateStyle = 'ISO, MDY'")
    matches = backend.execute("SELECT regexp_matches(?, ?)", [text, backend.text_timestamps]
                              ).fetchone()[0]
    assert matches == (text in ISO_TEXT)
    if matches:
        assert backend.execute(sql, [text]).fetchone()[0] == on_duckdb is not None


def test_a_blank_timestamp_in_a_text_column_is_missing(postgres, capsys):
    url = make_table(postgres, "blank", "user_id text, event text, timestamp text",
                     [("1", "signup", "2026-10-01 10:00:00"), ("2", "signup", " "),
                      ("3", "signup", None)])
    assert main(["retention", url]) == 2
    assert "column timestamp: timestamp is missing or outside the years 1900 to 2199 in 2 " \
        "row(s)" in capsys.readouterr().err


def test_iso_text_timestamps_give_the_same_kpis_in_postgresql(inputs, postgres, tmp_path,
                                                             capsys):
    frame = quoted_events()
    shapes = ["%Y-%m-%dT%H:%M:%SZ", "%Y-%m-%d %H:%M:%S", "%Y-%m-%dT%H:%M:%S.123456789+00:00",
              "%Y-%m-%d %H:%M:%S UTC"]
    latest = frame["timestamp"].idxmax()  # PostgreSQL would round its 7 digits up a second
    frame["timestamp"] = [t.strftime("%Y-%m-%dT%H:%M:%S.9999999Z" if i == latest else
                                     shapes[i % len(shapes)])
                          for i, t in enumerate(frame["timestamp"])]
    frame.to_csv(tmp_path / "events.csv", index=False)
    url = make_table(postgres, "iso_text", "user_id text, event text, timestamp text",
                     list(frame.itertuples(index=False, name=None)))
    argv = ["--milestones", str(inputs / "quoted.toml")]
    assert cli_json(capsys, "kpis", url, *argv) == cli_json(
        capsys, "kpis", str(tmp_path / "events.csv"), *argv)


@pytest.mark.parametrize("given,folded", [("prod.Events", "prod.events"), ("Events", "events"),
                                          ("PROD.EVENTS", "prod.events")])
def test_a_table_name_in_the_wrong_case_suggests_the_one_postgresql_folded(postgres, capsys,
                                                                           given, folded):
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("CREATE SCHEMA IF NOT EXISTS prod")
        conn.execute("CREATE TABLE IF NOT EXISTS prod.events AS SELECT * FROM events LIMIT 5")
    assert main(["retention", table(postgres, given)]) == 2
    err = capsys.readouterr().err
    assert f"no table {given} in the database" in err and f"did you mean {folded}?" in err, err
