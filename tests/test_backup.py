"""Backups: import checks everything before it replaces anything, replaces the workspace as a
whole, and a kill at any moment leaves the old workspace or the new one, never half."""

import gzip
import hashlib
import io
import random
import shutil
import signal
import sqlite3
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pandas as pd
import pytest

from growthlab import db as store
from growthlab import experiments, learnings, okrs
from growthlab.backup import export_workspace, import_workspace
from growthlab.cli import main
from growthlab.errors import GrowthLabError
from growthlab.kpis import check_events

MILESTONES = ('[[milestones]]\nkey = "active"\nname = "Active"\nphase = "Evaluation"\n'
              'rule = "count(search) >= 1"\n')
KILLS = 30


def events(users: int, prefix: str) -> pd.DataFrame:
    return pd.DataFrame({
        "user_id": [f"{prefix}{i}" for i in range(users)], "event": "search",
        "timestamp": pd.Timestamp("2026-01-05") + pd.to_timedelta(range(users), unit="min")})


def make_workspace(folder: Path, title: str, users: int, prefix: str) -> Path:
    """A small team workspace: rows in the main tables plus events, assignments, milestones."""
    path = folder / "growthlab.db"
    db = store.open_workspace(path)
    experiments.create(db, title=title)
    learnings.create(db, title=f"{title} taught us", body="Something true.")
    objective = okrs.create_objective(db, title=f"{title} objective", start_date="2026-01-01",
                                      end_date="2026-03-31")
    kr = okrs.create_key_result(db, objective, statement="Grow activation", metric="activation",
                                baseline=0.2, target=0.3, direction="increase",
                                metric_kind="value_creation", start_date="2026-01-01",
                                end_date="2026-03-31")
    okrs.add_checkin(db, kr, day="2026-01-10", value=0.22, confidence=7)
    db.execute("INSERT INTO milestones (key, name, phase, rule, position) "
               "VALUES ('active', 'Active', 'Evaluation', 'count(search) >= 1', 0)")
    store.set_setting(db, "events_path", "events")
    store.set_setting(db, "assignments_path", "assignments.parquet")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    (folder / "events").mkdir()
    frame = events(users, prefix)
    frame.to_parquet(folder / "events" / "events.parquet", index=False)
    frame.assign(experiment="EXP-001", variant=["control", "treatment"] * (users // 2),
                 assigned_at=frame.timestamp).drop(columns=["event", "timestamp"]).to_parquet(
        folder / "assignments.parquet", index=False)
    (folder / "milestones.toml").write_text(MILESTONES)
    return path


def tree(folder: Path) -> dict[str, str]:
    """Every file under the folder and its digest: what 'byte-identical' compares."""
    return {str(p.relative_to(folder)): hashlib.sha256(p.read_bytes()).hexdigest()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def state(path: Path) -> tuple:
    """What a person sees: the workspace's rows and its data files (opened as the app does)."""
    db = store.open_workspace(path)
    rows = tuple(tuple(r[0] for r in db.execute(sql).fetchall()) for sql in (
        "SELECT title FROM experiments ORDER BY id", "SELECT title FROM learnings ORDER BY id",
        "SELECT title FROM objectives ORDER BY id", "SELECT value FROM checkins ORDER BY id",
        "SELECT users FROM metric_results ORDER BY id"))
    db.conn.close()
    # milestones.toml is a person's own file beside a workspace (its milestones are rows)
    files = {k: v for k, v in tree(path.parent).items()
             if not k.startswith("growthlab.db") and k != "milestones.toml"}
    return rows, files


@pytest.fixture
def old_and_archive(tmp_path):
    new = make_workspace(tmp_path / "new", "New plan", 1000, "n")
    archive = tmp_path / "backup.zip"
    export_workspace(new, archive)
    old = make_workspace(tmp_path / "old", "Old plan", 300, "o")
    return old, archive


def members(archive: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(archive) as zf:
        return {name: zf.read(name) for name in zf.namelist()}


def write_zip(path: Path, content: dict[str, bytes]) -> Path:
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in content.items():
            zf.writestr(name, data)
    return path


def edited_db(data: bytes, tmp: Path, sql: str) -> bytes:
    path = tmp / "edit.db"
    path.write_bytes(data)
    conn = sqlite3.connect(path)
    conn.executescript(sql)
    conn.close()
    out = path.read_bytes()
    path.unlink()
    return out


def plain_db(tmp: Path) -> bytes:
    return edited_db(b"", tmp, "CREATE TABLE notes (text TEXT); INSERT INTO notes VALUES ('hi');")


def db_case(sql: str):
    return lambda m, tmp: {**m, "growthlab.db": edited_db(m["growthlab.db"], tmp, sql)}


RESULT = ("INSERT INTO metric_results (experiment_id, metric, variant, kind, users, conversions, "
          "updated_at) VALUES (1, 'activation', 'control', 'proportion', {users}, {conversions}, "
          "'2026-01-10T00:00:00+00:00')")

BAD_ARCHIVES = {
    "database_without_growthlab_tables": lambda m, tmp: {**m, "growthlab.db": plain_db(tmp)},
    "database_missing_a_table": db_case("DROP TABLE checkins"),
    "schema_version_0": db_case("DELETE FROM migrations WHERE version > 1; "
                                "UPDATE migrations SET version = 0"),
    "schema_version_-1": db_case("DELETE FROM migrations WHERE version > 1; "
                                 "UPDATE migrations SET version = -1"),
    "schema_version_newer": db_case(
        f"INSERT INTO migrations VALUES ({store.SCHEMA_VERSION + 1}, 'future', '2031-01-01')"),
    "check_constraint_broken": db_case(
        "PRAGMA ignore_check_constraints = ON; UPDATE checkins SET confidence = 42"),
    "foreign_key_broken": db_case(
        "INSERT INTO key_results (objective_id, statement, metric, baseline, target, "
        "start_date, end_date, created_at, updated_at) "
        "VALUES (999, 's', 'm', 0, 1, '2026-01-01', '2026-02-01', 'x', 'x')"),
    "text_where_a_number_belongs": db_case("UPDATE key_results SET baseline = 'lots'"),
    "milestone_rule_broken": db_case("UPDATE milestones SET rule = 'count(('"),
    "events_path_outside_the_workspace": db_case(
        "UPDATE settings SET value = '../../elsewhere.csv' WHERE key = 'events_path'"),
    "garbage_events_parquet": lambda m, tmp: {**m, "events/events.parquet": b"PAR1 not parquet"},
    "garbage_events_csv": lambda m, tmp: {
        **m, "events.csv": b"user_id,event,timestamp\nu1,search,not a time\n"},
    "garbage_milestones": lambda m, tmp: {**m, "milestones.toml": b"[[milestones]]\nkey = 3\n"},
    "garbage_assignments": lambda m, tmp: {**m, "assignments.parquet": b"\x00" * 64},
    "script_member": lambda m, tmp: {**m, "run.sh": b"#!/bin/sh\nrm -rf ~\n"},
    "wal_member": lambda m, tmp: {**m, "growthlab.db-wal": b"\x00" * 32},
    "nested_member": lambda m, tmp: {**m, "events/2026/more.parquet": m["events/events.parquet"]},
    "checkin_date_not_a_date": db_case("UPDATE checkins SET date = 'yesterday'"),
    "key_result_start_not_a_date": db_case("UPDATE key_results SET start_date = 'soon'"),
    "key_result_target_equals_baseline": db_case("UPDATE key_results SET target = baseline"),
    "objective_ends_before_it_starts": db_case("UPDATE objectives SET end_date = '2000-01-01'"),
    "learning_tags_not_json": db_case("UPDATE learnings SET tags = 'not json'"),
    "guardrails_not_json": db_case("UPDATE experiments SET guardrail_metrics = '{'"),
    "lower_is_better_not_a_list": db_case(
        "UPDATE experiments SET lower_is_better = '\"errors\"'"),
    "expected_effect_unknown_word": db_case(
        "UPDATE experiments SET expected_acquisition = 'bogus'"),
    "expected_retention_unknown_word": db_case("UPDATE experiments SET expected_retention = 'x'"),
    "rice_impact_off_the_scale": db_case("UPDATE experiments SET rice_impact = 7.77"),
    "pql_window_not_a_number": db_case(
        "INSERT OR REPLACE INTO settings VALUES ('pql_window_days', 'abc')"),
    "pql_window_too_long": db_case(
        "INSERT OR REPLACE INTO settings VALUES ('pql_window_days', '99999')"),
    "pql_rule_broken": db_case("INSERT OR REPLACE INTO settings VALUES ('pql_rule', '((((( x')"),
    "milestones_version_not_a_number": db_case(
        "INSERT OR REPLACE INTO settings VALUES ('milestones_version', 'x')"),
    "results_negative_users": db_case(RESULT.format(users=-5, conversions=0)),
    "results_more_conversions_than_users": db_case(RESULT.format(users=10, conversions=50)),
}


def assert_refused(old: Path, archive: Path, capsys, words: str) -> None:
    before = tree(old.parent)
    code = main(["--workspace", str(old), "import", str(archive)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and len(err.strip().splitlines()) == 1, err
    assert archive.name in err and words in err, err
    assert tree(old.parent) == before


@pytest.mark.parametrize("kind", BAD_ARCHIVES)
def test_malformed_archive_is_refused_before_anything_changes(kind, old_and_archive, tmp_path,
                                                              capsys):
    old, good = old_and_archive
    archive = write_zip(tmp_path / f"{kind}.zip", BAD_ARCHIVES[kind](members(good), tmp_path))
    assert_refused(old, archive, capsys, "")


def test_a_row_the_app_would_not_store_is_named_by_table_row_and_column(old_and_archive,
                                                                           tmp_path, capsys):
    old, good = old_and_archive
    content = BAD_ARCHIVES["checkin_date_not_a_date"](members(good), tmp_path)
    archive = write_zip(tmp_path / "bad_checkin.zip", content)
    assert_refused(old, archive, capsys, "table checkins: date: row 1: 'yesterday' is not a "
                                         "date; use YYYY-MM-DD; correct it in the workspace")


def test_zip_bomb_is_refused(old_and_archive, tmp_path, capsys):
    old, good = old_and_archive
    archive = tmp_path / "bomb.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members(good).items():
            zf.writestr(name, data)
        with zf.open("events.csv", "w") as out:
            chunk = b"\0" * (1 << 20)
            for _ in range(200):
                out.write(chunk)
    assert archive.stat().st_size < 5_000_000
    assert_refused(old, archive, capsys, "too large")


def test_many_small_bombs_are_refused_by_the_archive_total(old_and_archive, tmp_path, capsys):
    old, good = old_and_archive
    archive = tmp_path / "bomblets.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as zf:
        for name, data in members(good).items():
            zf.writestr(name, data)
        for i in range(150):
            zf.writestr(f"events/e{i:03}.parquet", b"\0" * (1 << 20))
    assert_refused(old, archive, capsys, "too large for its packed size")


def _data_spans(good: bytes) -> list[tuple[int, int, int]]:
    """(local header offset, data offset, compressed size) of each member."""
    spans = []
    with zipfile.ZipFile(io.BytesIO(good)) as zf:
        for info in zf.infolist():
            name_len, extra_len = (int.from_bytes(good[info.header_offset + k:
                                                       info.header_offset + k + 2], "little")
                                   for k in (26, 28))
            start = info.header_offset + 30 + name_len + extra_len
            spans.append((info.header_offset, start, info.compress_size))
    return spans


def corrupted_zips(good: bytes) -> list[tuple[str, bytes]]:
    """35 damaged copies of a good backup: flipped bytes, a bad CRC inside, truncated."""
    rng = random.Random(35)
    spans = _data_spans(good)
    central = [i for i in range(len(good)) if good.startswith(b"PK\x01\x02", i)]
    cases = []
    for k in range(15):
        _, start, size = spans[k % len(spans)]
        data = bytearray(good)
        data[start + rng.randrange(size - 1)] ^= 0xFF
        cases.append((f"flipped_{k}", bytes(data)))
    for k in range(10):
        member = k % len(spans)
        data = bytearray(good)
        for crc_at in (spans[member][0] + 14, central[member] + 16):
            data[crc_at:crc_at + 4] = rng.randbytes(4)
        cases.append((f"bad_crc_{k}", bytes(data)))
    for k in range(10):
        cases.append((f"truncated_{k}", good[:int(len(good) * (k + rng.random()) / 10.5)]))
    return cases


def test_35_corrupted_zips_say_the_archive_is_damaged(old_and_archive, tmp_path, capsys):
    old, good = old_and_archive
    cases = corrupted_zips(good.read_bytes())
    assert len(cases) == 35
    for name, data in cases:
        archive = tmp_path / f"{name}.zip"
        archive.write_bytes(data)
        assert_refused(old, archive, capsys, "the archive is damaged")


def test_damaged_archive_process_prints_no_traceback(old_and_archive, tmp_path):
    old, good = old_and_archive
    name, data = corrupted_zips(good.read_bytes())[0]
    (tmp_path / "damaged.zip").write_bytes(data)
    out = subprocess.run([sys.executable, "-m", "growthlab", "--workspace", str(old), "import",
                          str(tmp_path / "damaged.zip")], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 2 and "Traceback" not in out.stderr, out.stderr
    assert out.stderr.startswith("error: ") and "damaged" in out.stderr


def test_restore_replaces_the_data_files_as_a_whole(old_and_archive):
    old, archive = old_and_archive
    events(77, "x").to_parquet(old.parent / "events" / "second.parquet", index=False)
    (old.parent / "events.csv").write_text("user_id,event,timestamp\nz1,search,2026-01-01\n")
    import_workspace(archive, old)
    assert check_events(old.parent / "events").users == 1000
    assert (old.parent / "events.csv").exists()  # not the workspace's: its settings name events
    (old.parent / "events.csv").unlink()
    assert state(old) == state(archive.parent / "new" / "growthlab.db")


def test_restore_leaves_files_the_workspace_does_not_read_as_they_are(old_and_archive,
                                                                      tmp_path):
    """A team kept its own milestones.toml and an assignments.csv from another tool beside
    the workspace, which never read them: restoring a backup deleted both."""
    empty = tmp_path / "empty" / "growthlab.db"
    store.open_workspace(empty).conn.close()
    export_workspace(empty, tmp_path / "empty.zip")
    team = tmp_path / "team" / "growthlab.db"
    store.open_workspace(team).conn.close()
    (team.parent / "milestones.toml").write_text(MILESTONES)
    (team.parent / "assignments.csv").write_text("user_id,experiment,variant,assigned_at\n")
    before = {k: v for k, v in tree(team.parent).items() if not k.startswith("growthlab.db")}
    import_workspace(tmp_path / "empty.zip", team)
    after = {k: v for k, v in tree(team.parent).items() if not k.startswith("growthlab.db")}
    assert after == before


def test_restore_over_a_file_the_workspace_does_not_read_is_refused(old_and_archive, capsys):
    """The backup holds assignments.parquet; beside the workspace lies another tool's file of
    that name, which the workspace does not read: replacing it would lose it."""
    old, archive = old_and_archive
    db = store.open_workspace(old)
    db.execute("DELETE FROM settings WHERE key = 'assignments_path'")
    db.conn.close()
    before = state(old)
    assert main(["--workspace", str(old), "import", str(archive)]) == 2
    err = capsys.readouterr().err
    assert "assignments.parquet beside the workspace is not read by it" in err, err
    assert state(old) == before


def test_a_second_restore_of_a_demo_keeps_the_teams_own_milestones_toml(tmp_path):
    """The first import of a demo archive kept the team's milestones.toml; the second, now
    over a workspace marked as a demo, replaced it for good."""
    from growthlab.demo import create_demo

    demo = tmp_path / "demo" / "growthlab.db"
    create_demo(demo, users=300)
    export_workspace(demo, tmp_path / "demo.zip")
    team = tmp_path / "team" / "growthlab.db"
    team.parent.mkdir()
    (team.parent / "milestones.toml").write_text("# OUR OWN MILESTONES\n" + MILESTONES)
    import_workspace(tmp_path / "demo.zip", team)
    import_workspace(tmp_path / "demo.zip", team)
    assert (team.parent / "milestones.toml").read_text().startswith("# OUR OWN MILESTONES")


def test_a_backup_holds_milestones_toml_only_when_it_is_the_workspaces_milestones(tmp_path):
    """Milestones live in the workspace; a stale milestones.toml a person left beside it was
    zipped (and restored over theirs). A copy of the workspace's own, as the demo writes for
    the command line, is kept with it."""
    team = tmp_path / "team" / "growthlab.db"
    store.open_workspace(team).conn.close()
    (team.parent / "milestones.toml").write_text(MILESTONES)
    export_workspace(team, tmp_path / "team.zip")
    assert "milestones.toml" not in zipfile.ZipFile(tmp_path / "team.zip").namelist()


def test_restore_is_audited(old_and_archive):
    old, archive = old_and_archive
    import_workspace(archive, old, actor="ana@example.com")
    db = store.open_workspace(old)
    last = db.execute("SELECT actor, action, entity FROM audit_log ORDER BY id DESC").fetchone()
    assert tuple(last) == ("ana@example.com", "restore", "workspace")


def test_a_session_opened_before_a_restore_writes_into_the_restored_workspace(old_and_archive):
    old, archive = old_and_archive
    session = store.open_workspace(old)
    import_workspace(archive, old)
    experiments.create(session, title="Written after the restore")
    titles = [r[0] for r in store.open_workspace(old).execute("SELECT title FROM experiments")]
    assert titles == ["New plan", "Written after the restore"]


def test_import_creates_a_new_workspace(old_and_archive, tmp_path):
    _, archive = old_and_archive
    target = tmp_path / "fresh" / "growthlab.db"
    import_workspace(archive, target)
    assert state(target) == state(archive.parent / "new" / "growthlab.db")
    assert sorted(p.name for p in target.parent.iterdir()) == [
        "assignments.parquet", "events", "growthlab.db",
        "milestones.toml"]  # a copy of the workspace's own milestones


KNOWN = {"growthlab.db", "growthlab.db-wal", "growthlab.db-shm", "events", "assignments.parquet",
         "milestones.toml"}


def _growthlab(argv: list[str], kill_after: float | None = None) -> None:
    process = subprocess.Popen([sys.executable, "-m", "growthlab", *argv],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    if kill_after is None:
        assert process.wait(timeout=300) == 0
        return
    time.sleep(kill_after)
    process.send_signal(signal.SIGKILL)
    process.wait()


def kill_at_random_moments(template: Path, command: list[str], runs: int, seed: int) -> int:
    """Run `growthlab COMMAND` over copies of the template workspace, killed at random delays;
    count the runs that left the old or the new workspace, and nothing else beside it."""
    folder = template.parent.parent / "killed"
    target = folder / template.name

    def fresh_copy() -> list[str]:
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(template.parent, folder)
        return ["--workspace", str(target), *command]

    old = state(template)
    start = time.monotonic()
    _growthlab(fresh_copy())
    full = time.monotonic() - start
    new = state(target)
    assert new != old
    rng = random.Random(seed)
    survived = 0
    for _ in range(runs):
        _growthlab(fresh_copy(), kill_after=rng.uniform(0, full * 1.1))
        seen = state(target)
        survived += seen in (old, new) and {p.name for p in folder.iterdir()} <= KNOWN
    return survived


def test_import_killed_at_random_moments_leaves_old_or_new(old_and_archive, capsys):
    old, archive = old_and_archive
    session = store.open_workspace(old)
    experiments.create(session, title="Committed, still in the WAL")
    assert (old.parent / "growthlab.db-wal").stat().st_size > 0
    survived = kill_at_random_moments(old, ["import", str(archive)], KILLS, 12)
    session.conn.close()
    with capsys.disabled():
        print(f"\nimport killed at random moments: {survived}/{KILLS} left old or new")
    assert survived == KILLS


def test_an_older_backup_is_upgraded_on_import(old_and_archive, monkeypatch):
    old, archive = old_and_archive
    later = store.SCHEMA_VERSION + 1
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [
        (later, "add a column", "ALTER TABLE experiments ADD COLUMN notes TEXT")])
    monkeypatch.setattr(store, "SCHEMA_VERSION", later)
    import_workspace(archive, old)
    db = store.open_workspace(old)
    assert store.schema_version(db) == later
    assert [tuple(r) for r in db.execute("SELECT title, notes FROM experiments")] == [
        ("New plan", None)]


def test_a_backup_from_before_lower_is_better_imports_with_none_set(old_and_archive,
                                                                   tmp_path):
    old, archive = old_and_archive
    content = members(archive)
    content["growthlab.db"] = edited_db(content["growthlab.db"], tmp_path, (
        "ALTER TABLE experiments DROP COLUMN lower_is_better; "
        "ALTER TABLE checkins DROP COLUMN version; "  # migration 7, check-ins' versions
        "DELETE FROM migrations WHERE version > 5"))
    import_workspace(write_zip(tmp_path / "v5.zip", content), old)
    db = store.open_workspace(old)
    exp = next(db.query("SELECT * FROM experiments"))
    assert exp["title"] == "New plan" and experiments.lower_is_better(exp) == []


CRASH_AT_RENAME = """
import os, signal, sys
from growthlab.backup import import_workspace
rename, calls = os.rename, []
def crash_at(*args):
    calls.append(args)
    if len(calls) == int(sys.argv[1]):
        os.kill(os.getpid(), signal.SIGKILL)
    rename(*args)
os.rename = crash_at
import_workspace(sys.argv[2], sys.argv[3])
"""


def test_a_crash_at_each_step_of_an_import_leaves_old_or_new(old_and_archive):
    old, archive = old_and_archive
    template = old.parent.with_name("template")
    shutil.copytree(old.parent, template)
    expected = [state(old), state(archive.parent / "new" / "growthlab.db")]
    seen = []
    for step in range(1, 12):
        shutil.rmtree(old.parent)
        shutil.copytree(template, old.parent)
        subprocess.run([sys.executable, "-c", CRASH_AT_RENAME, str(step), str(archive), str(old)],
                       capture_output=True, timeout=120)
        seen.append(expected.index(state(old)) if state(old) in expected else None)
        assert {p.name for p in old.parent.iterdir()} <= KNOWN
    assert None not in seen and seen[0] == 0 and seen[-1] == 1, seen


def test_import_over_a_file_that_is_not_a_workspace_is_refused(old_and_archive, tmp_path,
                                                               capsys):
    _, archive = old_and_archive
    target = tmp_path / "notes" / "growthlab.db"
    target.parent.mkdir()
    target.write_text("my notes, not a workspace")
    assert main(["--workspace", str(target), "import", str(archive)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {target}: ") and "move it aside" in err, err
    assert tree(target.parent) == {"growthlab.db": hashlib.sha256(
        b"my notes, not a workspace").hexdigest()}


def test_every_export_can_be_imported(old_and_archive, tmp_path):
    old, _ = old_and_archive
    from growthlab import admin
    from growthlab.kpis import check_assignments

    events(5, "s").to_parquet(old.parent / "events" / "from march 2026.parquet", index=False)
    admin.use_data_file(store.open_workspace(old), "assignments",
                        b"user_id,experiment,variant,assigned_at\ns1,EXP-002,control,2026-03-01\n",
                        "assignments.csv", check_assignments, actor="maya")
    export_workspace(old, tmp_path / "again.zip")
    copy = tmp_path / "copy" / "growthlab.db"
    import_workspace(tmp_path / "again.zip", copy)
    assert state(copy) == state(old)


EVENTS_CSV = ("user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
              "u2,export,2026-03-02T11:00:00Z\n")


@pytest.mark.parametrize("name,data", [
    ("export.csv.gz", gzip.compress(EVENTS_CSV.encode())),
    ("export.tsv", EVENTS_CSV.replace(",", "\t").encode()),
    ("export.tsv.gz", gzip.compress(EVENTS_CSV.replace(",", "\t").encode())),
])
def test_events_uploaded_in_any_shape_are_backed_up_and_restored(tmp_path, name, data):
    from growthlab import admin

    workspace = tmp_path / "team" / "growthlab.db"
    db = store.open_workspace(workspace)
    admin.use_data_file(db, "events", data, name, check_events, actor="maya")
    stored = store.get_setting(db, "events_path")
    export_workspace(workspace, tmp_path / "team.zip")
    assert f"{stored}" in zipfile.ZipFile(tmp_path / "team.zip").namelist()
    copy = tmp_path / "copy" / "growthlab.db"
    import_workspace(tmp_path / "team.zip", copy)
    assert store.get_setting(store.open_workspace(copy), "events_path") == stored
    assert check_events(copy.parent / stored).rows == 2


def test_export_into_a_folder_that_does_not_exist_says_so(old_and_archive, tmp_path, capsys):
    old, _ = old_and_archive
    target = tmp_path / "no such folder" / "team.zip"
    assert main(["--workspace", str(old), "export", str(target)]) == 2
    err = capsys.readouterr().err
    assert f"{target.parent}" in err and "does not exist" in err and ".partial" not in err


def test_every_shape_an_upload_is_stored_in_is_a_backup_s_data_file():
    from growthlab.admin import _upload_suffix
    from growthlab.kpis.sources import DELIMITED
    from growthlab.swap import DATA_NAMES

    for kind in ("events", "assignments"):
        for name in [*DELIMITED, ".parquet", ".pq"]:
            assert f"{kind}{_upload_suffix('upload' + name)}" in DATA_NAMES


def test_events_replaced_by_another_shape_leave_no_stale_file_in_the_backup(tmp_path):
    from growthlab import admin

    workspace = tmp_path / "team" / "growthlab.db"
    db = store.open_workspace(workspace)
    buffer = io.BytesIO()
    pd.read_csv(io.StringIO(EVENTS_CSV)).to_parquet(buffer, index=False)
    admin.use_data_file(db, "events", buffer.getvalue(), "old.parquet", check_events,
                        actor="maya")
    admin.use_data_file(db, "events", EVENTS_CSV.replace(",", "\t").encode(), "new.tsv",
                        check_events, actor="maya")
    assert not (workspace.parent / "events.parquet").exists()
    export_workspace(workspace, tmp_path / "team.zip")
    assert sorted(zipfile.ZipFile(tmp_path / "team.zip").namelist()) == ["events.tsv",
                                                                         "growthlab.db"]


def test_a_refused_import_does_not_touch_a_workspace_in_another_journal_mode(old_and_archive):
    old, archive = old_and_archive
    conn = sqlite3.connect(old)
    conn.execute("PRAGMA journal_mode = DELETE")  # as a copy made by another tool may be
    conn.close()
    bad = write_zip(archive.parent / "bad.zip", {**members(archive), "growthlab.db": b"junk"})
    before = tree(old.parent)
    with pytest.raises(GrowthLabError):
        import_workspace(bad, old)
    assert tree(old.parent) == before
