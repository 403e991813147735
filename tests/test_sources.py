"""Events in every shape teams export give the same milestone KPIs."""

import gzip
import json

import pandas as pd
import pytest

from growthlab.cli import main
from growthlab.errors import InputError
from growthlab.kpis import check_events, funnel, parse_milestones_toml
from growthlab.kpis.sources import Source, Table

MILESTONES = parse_milestones_toml('''
[[milestones]]
key = "a"
name = "Searched"
rule = "count(search) >= 1"
[[milestones]]
key = "b"
name = "Came back"
rule = "reached(a) and days(visit) >= 2"
window_days = 14
''')


def events_frame() -> pd.DataFrame:
    rows = [(f"u{u}", ("search", "visit")[(u + d) % 2],
             pd.Timestamp("2026-01-01") + pd.Timedelta(days=u % 40 + d, hours=d))
            for u in range(60) for d in range(u % 5)]
    return pd.DataFrame(rows, columns=["user_id", "event", "timestamp"])


@pytest.fixture
def shapes(tmp_path):
    frame = events_frame()
    text = frame.to_csv(index=False, date_format="%Y-%m-%dT%H:%M:%S")
    (tmp_path / "events.csv").write_text(text)
    (tmp_path / "events.csv.gz").write_bytes(gzip.compress(text.encode()))
    frame.to_csv(tmp_path / "events.tsv", sep="\t", index=False,
                 date_format="%Y-%m-%dT%H:%M:%S")
    hive = tmp_path / "hive"
    for month, part in frame.groupby(frame.timestamp.dt.strftime("%Y-%m")):
        (hive / f"month={month}").mkdir(parents=True)
        part.to_parquet(hive / f"month={month}" / "part-0.parquet", index=False)
    (hive / "_SUCCESS").write_text("")
    return tmp_path


@pytest.mark.parametrize("name", ["events.csv.gz", "events.tsv", "hive"])
def test_every_shape_gives_the_same_kpis_as_csv(shapes, name):
    expected = funnel(shapes / "events.csv", MILESTONES).as_dict()
    assert funnel(shapes / name, MILESTONES).as_dict() == expected
    assert check_events(shapes / name).rows == check_events(shapes / "events.csv").rows


def test_a_partitioned_folder_is_read_from_its_sub_folders(shapes, capsys):
    (shapes / "m.toml").write_text('[[milestones]]\nkey = "a"\nname = "A"\n'
                                   'rule = "count(search) >= 1"\n')
    assert main(["kpis", str(shapes / "hive"), "--milestones", str(shapes / "m.toml"),
                 "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["users"] == 48


@pytest.mark.parametrize("name,message", [
    ("events.txt", "expected a .csv, .csv.gz, .tsv or .parquet file"),
    ("empty", "folder has no .parquet files (sub-folders searched too)"),
])
def test_unknown_shapes_say_which_ones_are_read(tmp_path, name, message):
    path = tmp_path / name
    path.mkdir() if name == "empty" else path.write_text("x")
    with pytest.raises(InputError, match=message.replace("(", r"\(").replace(")", r"\)")):
        Source.of(path)


@pytest.mark.parametrize("url,table,shown", [
    ("postgresql://ana:s3cret@db.example:5432/prod?table=analytics.events", "analytics.events",
     "postgresql://ana@db.example:5432/prod?table=analytics.events"),
    ("postgresql://ana@db/prod?sslmode=require&table=events", "events",
     "postgresql://ana@db/prod?sslmode=require&table=events"),
])
def test_a_postgres_url_names_a_table_and_never_shows_its_password(url, table, shown):
    source = Source.of(url)
    assert isinstance(source, Table) and source.name == table
    assert source.path == shown and "s3cret" not in source.path


@pytest.mark.parametrize("url", ["postgresql://ana@db/prod", "postgresql://db/p?table=a;drop",
                                 'postgresql://db/p?table=a"b', "postgresql://db/p?table=a.b.c.d"])
def test_a_postgres_url_without_a_plain_table_name_is_refused(url):
    with pytest.raises(InputError):
        Source.of(url)


@pytest.mark.parametrize("url", ["postgresql://ana:s3cret@db:99999/prod?table=events",
                                 "postgresql://ana:s3cret@db:port/prod?table=events",
                                 "postgresql://ana:s3cret@[::1/prod?table=events"])
def test_a_malformed_postgres_url_is_an_error_not_a_traceback(url, tmp_path, capsys):
    milestones = tmp_path / "m.toml"
    milestones.write_text('[[milestones]]\nkey = "a"\nname = "A"\nrule = "count(visit) >= 1"\n')
    assert main(["kpis", url, "--milestones", str(milestones), "--json"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and "not a valid PostgreSQL URL" in err
    assert "s3cret" not in err and "Traceback" not in err


def test_a_folder_mixing_parquet_with_delimited_event_files_is_refused_naming_one(shapes):
    """Only a folder's Parquet files are read: days exported as .csv.gz beside them would be
    left out without a word, and the data would end days early."""
    late = shapes / "hive" / "month=2026-03"
    late.mkdir()
    (late / "day-31.csv.gz").write_bytes((shapes / "events.csv.gz").read_bytes())
    with pytest.raises(InputError) as refused:
        Source.of(shapes / "hive")
    message = str(refused.value)
    assert "day-31.csv.gz" in message and "Parquet" in message and "1 file" in message


def test_a_file_of_a_folder_without_a_required_column_is_named(tmp_path):
    """One export renamed event to event_name: its rows would read as empty events."""
    folder = tmp_path / "daily"
    folder.mkdir()
    frame = events_frame()
    frame[:100].to_parquet(folder / "a.parquet", index=False)
    frame[100:].rename(columns={"event": "event_name"}).to_parquet(folder / "b.parquet",
                                                                   index=False)
    with pytest.raises(InputError) as refused:
        check_events(folder)
    message = str(refused.value)
    assert "b.parquet" in message and "no column event" in message and "event_name" in message


@pytest.mark.parametrize("column,value,message", [
    ("user_id", " ", "column user_id: user_id is empty"),
    ("user_id", "1.23E+19", "column user_id: '1.23E+19' is a number in scientific notation"),
    ("event", "sign\nup", "column event: event 'sign\\nup' holds a control character"),
    ("timestamp", "03/11/2026 10:00", "column timestamp: '03/11/2026 10:00' is not a timestamp"),
])
def test_a_bad_row_in_a_folder_is_named_by_its_file_and_row_there(tmp_path, column, value,
                                                                  message):
    """Row 1,831 of a folder of daily files helps no one: which file, which row of it."""
    folder = tmp_path / "daily"
    folder.mkdir()
    frame = events_frame().astype({"timestamp": str})
    frame.loc[50 + 37 + 4, column] = value  # row 5 of the third file
    for name, rows in (("a", frame[:50]), ("b", frame[50:87]), ("c", frame[87:])):
        rows.to_parquet(folder / f"{name}.parquet", index=False)
    with pytest.raises(InputError) as refused:
        check_events(folder)
    assert str(refused.value).startswith(f"{folder / 'c.parquet'} row 5: {message}")
