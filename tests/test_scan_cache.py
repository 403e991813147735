"""The checks of an unchanged events file are kept between runs: `kpis` run again on the same
file reads it once, with the same figures and warnings; any change to the file is read afresh."""

import json
import os
import subprocess
import sys
import time
from datetime import datetime, timedelta

import pytest
from test_kpis import write_events

from growthlab.kpis import Milestone, funnel, scan_cache
from growthlab.kpis.engine import connect
from growthlab.kpis.sources import quality

T0 = datetime(2026, 3, 2, 9, 0)
MILESTONES = [Milestone("visit", "Visit", "Struggle", "count(visit) >= 1"),
              Milestone("search", "Search", "Evaluation", "count(search) >= 2", window_days=7)]


def rows(searches: int = 2):
    found = []
    for u in range(40):
        start = T0 + timedelta(hours=u)
        found.append((f"u{u:02d}", "visit", start))
        found += [(f"u{u:02d}", "search", start + timedelta(days=d)) for d in range(searches)]
    found.append(("u00", "visit", T0))  # an exact duplicate row
    found.append(("u01", "visit", datetime(2150, 1, 1)))  # an event in the future
    return found


# Reads of the file above on a first run: the check, the funnel, the duplicate count (by hash,
# then exactly, as two hashes agree) and the row of the first future event.
FIRST_RUN = 5


class Counting:
    """A real DuckDB connection that records the statements reading every row of the events
    file at `path` (not its schema, read from the footer)."""

    def __init__(self, path):
        self.con, self.path, self.reads = connect(), str(path), []

    def execute(self, sql, params=None):
        schema = sql.startswith("DESCRIBE") or "FROM parquet_schema(" in sql  # the footer
        if self.path in json.dumps(params, default=str) and not schema:
            self.reads.append(sql)
        return self.con.execute(sql, params or [])

    def __getattr__(self, name):
        return getattr(self.con, name)


def kpis(path):
    con = Counting(path)
    result = funnel(path, MILESTONES, con=con, check=True)
    return result.as_dict(), quality(path, con).warnings(), sorted(result.checked.events), \
        len(con.reads)


@pytest.fixture
def settled(monkeypatch):
    """Files count as settled at once (the real wait is tested on its own below)."""
    monkeypatch.setattr(scan_cache, "FRESH_SECONDS", 0.0)


def test_a_second_run_on_an_unchanged_file_reads_it_once_with_the_same_figures(
        tmp_path, settled):
    path = write_events(tmp_path, rows(), "events.parquet")
    first = kpis(path)
    again = kpis(path)
    assert first[3] == FIRST_RUN
    assert again[3] == 1  # the funnel alone
    assert again[:3] == first[:3]
    assert any("1 exact duplicate" in w for w in again[1])
    assert any("in the future" in w for w in again[1])


def test_a_clean_file_is_read_three_times_on_its_first_run(tmp_path, settled):
    """Check, funnel and a duplicate count whose row hashes all differ: no exact recount."""
    clean = [row for row in rows() if row[2].year < 2100][:-1]
    first = kpis(write_events(tmp_path, clean, "events.parquet"))
    assert first[3] == 3 and first[1] == []


def test_a_file_rewritten_with_the_same_size_and_times_is_read_afresh(tmp_path, settled):
    path = write_events(tmp_path, rows(searches=2), "events.csv")
    before = kpis(path)
    stat = os.stat(path)
    text = path.read_text().replace("u05,search", "u05,visit_")  # one fewer searcher
    assert len(text) == stat.st_size
    path.write_text(text)
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))  # as a copy keeping times would
    after = kpis(path)
    assert after[3] == FIRST_RUN
    assert before[0]["milestones"][1]["users"] - after[0]["milestones"][1]["users"] == 1
    assert "visit_" in after[2] and "visit_" not in before[2]


def test_a_file_just_written_is_not_cached(tmp_path, private_cache):
    path = write_events(tmp_path, rows(), "events.parquet")
    kpis(path)
    assert not list(private_cache.iterdir())


@pytest.mark.parametrize("damage", ["bytes", "shape"])
def test_a_damaged_entry_is_recomputed_from_the_file(tmp_path, settled, private_cache, damage):
    path = write_events(tmp_path, rows(), "events.parquet")
    first = kpis(path)
    for entry in private_cache.iterdir():
        if damage == "bytes":
            entry.write_bytes(b"PAR1 not really")
        elif entry.suffix == ".json":
            entry.write_text(json.dumps({"duplicates": 0}))
        else:  # good Parquet, of another table
            connect().execute(f"COPY (SELECT 1 AS by_event) TO '{entry}' (FORMAT parquet)")
    again = kpis(path)
    assert again[:3] == first[:3]
    assert again[3] == FIRST_RUN


def test_a_cache_folder_that_cannot_be_written_only_costs_time(tmp_path, settled, monkeypatch):
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    monkeypatch.setenv("GROWTHLAB_CACHE_DIR", str(blocker / "cache"))
    path = write_events(tmp_path, rows(), "events.parquet")
    assert kpis(path)[3] == FIRST_RUN
    assert kpis(path)[3] == FIRST_RUN


def test_a_refused_file_leaves_nothing_in_the_cache(tmp_path, settled, private_cache):
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,visit,2026-03-02\n,visit,2026-03-03\n")
    wait_until_settled(path)
    for _ in range(2):
        run = subprocess.run([sys.executable, "-m", "growthlab", "kpis", str(path),
                              "--milestones", str(milestones_file(tmp_path))],
                             capture_output=True, text=True)
        assert run.returncode == 2 and "events.csv:3:" in run.stderr
    assert not list(private_cache.iterdir())


def wait_until_settled(path):
    """The real wait: a file changed under FRESH_SECONDS ago is never cached."""
    while os.stat(path).st_ctime + scan_cache.FRESH_SECONDS >= time.time():
        time.sleep(0.1)


def milestones_file(tmp_path):
    path = tmp_path / "milestones.toml"
    path.write_text('[[milestones]]\nkey = "visit"\nname = "Visit"\nphase = "Struggle"\n'
                    'rule = "count(visit) >= 1"\n')
    return path


def test_the_cli_prints_the_same_json_and_warnings_from_the_cache(tmp_path, private_cache):
    path = write_events(tmp_path, rows(), "events.parquet")
    command = [sys.executable, "-m", "growthlab", "kpis", str(path), "--milestones",
               str(milestones_file(tmp_path)), "--json"]
    wait_until_settled(path)
    first = subprocess.run(command, capture_output=True, text=True, check=True)
    assert {p.suffix for p in private_cache.iterdir()} == {".json", ".scan"}
    again = subprocess.run(command, capture_output=True, text=True, check=True)
    assert json.loads(again.stdout) == json.loads(first.stdout)
    assert again.stderr == first.stderr and "exact duplicate" in again.stderr


def test_a_run_as_of_another_day_does_not_take_the_checks_of_today(tmp_path, settled,
                                                                    monkeypatch):
    path = write_events(tmp_path, rows(), "events.parquet")
    funnel(path, MILESTONES, check=True)  # today's checks, kept
    as_of = funnel(path, MILESTONES, as_of="2026-03-02T20:00", check=True).as_dict()
    monkeypatch.setenv("GROWTHLAB_CACHE_DIR", str(tmp_path / "empty-cache"))
    assert as_of == funnel(path, MILESTONES, as_of="2026-03-02T20:00", check=True).as_dict()
    assert as_of["users"] == 11 and as_of != funnel(path, MILESTONES, check=True).as_dict()


def test_a_path_through_a_symlink_reads_its_own_hive_columns(tmp_path, settled):
    """DuckDB takes event=visit/ from the path as given: a link to the same file, under
    another hive folder name, holds other events."""
    real = tmp_path / "export" / "event=visit"
    real.mkdir(parents=True)
    write_events(real, rows(), "part-0.parquet")
    (tmp_path / "current").symlink_to(real)
    through_link = kpis(tmp_path / "current")
    kpis(real)
    assert kpis(tmp_path / "current")[:3] == through_link[:3]
    assert through_link[2] == ["search", "visit"] and kpis(real)[2] == ["visit"]


def test_the_cache_removes_only_its_own_entries(tmp_path, settled, private_cache, monkeypatch):
    monkeypatch.setattr(scan_cache, "KEEP", 2)
    theirs = [private_cache / f"report_{i}.txt" for i in range(5)]
    for other in theirs:
        other.write_text("somebody else's")
    for n in range(3):
        kpis(write_events(tmp_path, rows(searches=n + 1), f"events-{n}.parquet"))
    assert all(other.exists() for other in theirs)
    assert len([p for p in private_cache.iterdir() if scan_cache.ENTRY.fullmatch(p.name)]) == 2


def test_a_cache_inside_the_events_folder_is_not_read_as_events(tmp_path, settled, monkeypatch):
    folder = tmp_path / "events"
    folder.mkdir()
    write_events(folder, rows(), "part-0.parquet")
    monkeypatch.setenv("GROWTHLAB_CACHE_DIR", str(folder))
    first = kpis(folder)
    assert kpis(folder)[:3] == first[:3]
