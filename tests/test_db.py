"""Workspace store: migrations, pragmas, optimistic edits, concurrent writers."""

import multiprocessing
import sqlite3

import pytest

from growthlab import db as store
from growthlab import experiments
from growthlab.errors import GrowthLabError, StaleEditError


def test_fresh_workspace_is_created_at_the_latest_schema(tmp_path):
    db = store.open_workspace(tmp_path / "new" / "w.db")
    assert store.schema_version(db) == store.SCHEMA_VERSION
    assert db.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    assert db.execute("PRAGMA foreign_keys").fetchone()[0] == 1
    assert db.execute("PRAGMA busy_timeout").fetchone()[0] == store.BUSY_TIMEOUT_MS
    assert {"experiments", "learnings", "search_index", "audit_log"} <= set(db.table_names())


def test_v1_workspace_reopens_unchanged(tmp_path):
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    experiments.create(db, title="Keep me")
    db.conn.close()
    again = store.open_workspace(path)
    assert store.migrate(again, path) == []
    assert [r["title"] for r in again.query("SELECT title FROM experiments")] == ["Keep me"]
    assert again.execute("SELECT count(*) FROM migrations").fetchone()[0] == 1


def test_pending_migration_backs_up_first_and_is_recorded(tmp_path, monkeypatch):
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    experiments.create(db, title="Before v2")
    db.conn.close()
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [
        (2, "add a column", "ALTER TABLE experiments ADD COLUMN notes TEXT")])
    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    upgraded = store.open_workspace(path)
    assert store.schema_version(upgraded) == 2
    backup = tmp_path / "w.db.v1.bak"
    assert backup.exists()
    old = sqlite3.connect(backup)
    assert old.execute("SELECT max(version) FROM migrations").fetchone()[0] == 1
    assert old.execute("SELECT title FROM experiments").fetchone()[0] == "Before v2"


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "w.db"
    store.open_workspace(path).conn.close()
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [
        (2, "broken", "ALTER TABLE experiments ADD COLUMN x TEXT;\nSELECT * FROM nowhere;")])
    monkeypatch.setattr(store, "SCHEMA_VERSION", 2)
    with pytest.raises(sqlite3.OperationalError):
        store.open_workspace(path)
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(experiments)")]
    assert "x" not in columns
    assert conn.execute("SELECT max(version) FROM migrations").fetchone()[0] == 1


def test_newer_workspace_is_refused(tmp_path):
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    db.execute("INSERT INTO migrations VALUES (99, 'future', '2030-01-01')")
    db.conn.close()
    with pytest.raises(GrowthLabError, match="newer than this GrowthLab"):
        store.open_workspace(path)


def test_stale_save_is_refused_with_the_newer_content(tmp_path):
    db = store.open_workspace(tmp_path / "w.db")
    exp = experiments.create(db, title="Original")
    experiments.update(db, exp, 1, {"title": "Alice's edit"}, actor="alice")
    with pytest.raises(StaleEditError) as err:
        experiments.update(db, exp, 1, {"title": "Bob's edit"}, actor="bob")
    assert "changed by someone else since you opened it" in str(err.value)
    assert err.value.current["title"] == "Alice's edit"
    assert experiments.get(db, exp)["title"] == "Alice's edit"


def _editor(path, name, rounds, queue):
    db = store.open_workspace(path)
    stored = refused = 0
    for i in range(rounds):
        row = experiments.get(db, 1)
        try:
            experiments.update(db, 1, row["version"], {"conclusion": f"{name}-{i}"}, actor=name)
            stored += 1
        except StaleEditError:
            refused += 1
    queue.put((name, stored, refused))


def test_two_processes_editing_lose_nothing(tmp_path, capsys):
    path = tmp_path / "w.db"
    experiments.create(store.open_workspace(path), title="Contended")
    queue = multiprocessing.get_context("spawn").Queue()
    ctx = multiprocessing.get_context("spawn")
    workers = [ctx.Process(target=_editor, args=(path, n, 500, queue)) for n in ("a", "b")]
    for w in workers:
        w.start()
    for w in workers:
        w.join(120)
    outcomes = [queue.get(timeout=5) for _ in workers]
    stored = sum(o[1] for o in outcomes)
    refused = sum(o[2] for o in outcomes)
    db = store.open_workspace(path)
    audited = db.execute("SELECT count(*) FROM audit_log WHERE action = 'update'").fetchone()[0]
    version = experiments.get(db, 1)["version"]
    with capsys.disabled():
        print(f"\n1000 concurrent edits: stored {stored}, refused {refused}, "
              f"lost {1000 - stored - refused}")
    assert stored + refused == 1000
    assert audited == stored and version == stored + 1


def _open_new(paths, barrier, queue):
    failures = []
    for path in paths:
        barrier.wait()
        try:
            store.open_workspace(path).conn.close()
        except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
            failures.append(f"{type(exc).__name__}: {exc}")
    queue.put(failures)


def test_two_processes_opening_a_new_workspace_at_once(tmp_path, capsys):
    rounds = 20
    ctx = multiprocessing.get_context("spawn")
    paths = [tmp_path / f"w{i}" / "growthlab.db" for i in range(rounds)]
    barrier, queue = ctx.Barrier(2), ctx.Queue()
    workers = [ctx.Process(target=_open_new, args=(paths, barrier, queue)) for _ in range(2)]
    for w in workers:
        w.start()
    failures = [f for _ in workers for f in queue.get(timeout=300)]
    for w in workers:
        w.join(60)
    with capsys.disabled():
        print(f"\ntwo processes opening a new workspace: {len(failures)} failed of "
              f"{2 * rounds} opens {sorted(set(failures))[:2]}")
    assert not failures
    for path in paths:
        assert store.schema_version(store.open_workspace(path)) == store.SCHEMA_VERSION
