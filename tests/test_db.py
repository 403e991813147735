"""Workspace store: migrations, pragmas, optimistic edits, concurrent writers."""

import multiprocessing
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest
import tomllib

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


def test_current_workspace_reopens_unchanged(tmp_path):
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    experiments.create(db, title="Keep me")
    db.conn.close()
    again = store.open_workspace(path)
    assert store.migrate(again, path) == []
    assert [r["title"] for r in again.query("SELECT title FROM experiments")] == ["Keep me"]
    assert again.execute("SELECT count(*) FROM migrations").fetchone()[0] == store.SCHEMA_VERSION


def test_pending_migration_backs_up_first_and_is_recorded(tmp_path, monkeypatch):
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    experiments.create(db, title="Before v2")
    db.conn.close()
    current = store.SCHEMA_VERSION
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [
        (current + 1, "add a column", "ALTER TABLE experiments ADD COLUMN notes TEXT")])
    monkeypatch.setattr(store, "SCHEMA_VERSION", current + 1)
    upgraded = store.open_workspace(path)
    assert store.schema_version(upgraded) == current + 1
    backup = tmp_path / f"w.db.v{current}.bak"
    assert backup.exists()
    old = sqlite3.connect(backup)
    assert old.execute("SELECT max(version) FROM migrations").fetchone()[0] == current
    assert old.execute("SELECT title FROM experiments").fetchone()[0] == "Before v2"


def test_a_failed_migration_changes_nothing(tmp_path, monkeypatch):
    path = tmp_path / "w.db"
    store.open_workspace(path).conn.close()
    current = store.SCHEMA_VERSION
    monkeypatch.setattr(store, "MIGRATIONS", store.MIGRATIONS + [
        (current + 1, "broken", "ALTER TABLE experiments ADD COLUMN x TEXT;\n"
                                "SELECT * FROM nowhere;")])
    monkeypatch.setattr(store, "SCHEMA_VERSION", current + 1)
    with pytest.raises(sqlite3.OperationalError):
        store.open_workspace(path)
    conn = sqlite3.connect(path)
    columns = [r[1] for r in conn.execute("PRAGMA table_info(experiments)")]
    assert "x" not in columns
    assert conn.execute("SELECT max(version) FROM migrations").fetchone()[0] == current


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


def test_nested_failure_rolls_back_only_the_inner_part(tmp_path):
    db = store.open_workspace(tmp_path / "w.db")
    with store.transaction(db):
        experiments.create(db, title="Outer")
        with pytest.raises(GrowthLabError), store.transaction(db):
            experiments.create(db, title="Inner")
            raise GrowthLabError("inner step failed")
        experiments.create(db, title="After")
    assert [r["title"] for r in db.query("SELECT title FROM experiments ORDER BY id")] == [
        "Outer", "After"]


def test_outer_failure_rolls_back_everything(tmp_path):
    db = store.open_workspace(tmp_path / "w.db")
    with pytest.raises(GrowthLabError), store.transaction(db):
        experiments.create(db, title="Outer")
        with store.transaction(db):
            experiments.create(db, title="Inner")
        raise GrowthLabError("outer step failed")
    assert db["experiments"].count == 0 and db["audit_log"].count == 0
    assert not db.conn.in_transaction


def test_sqlite_utils_4_is_required():
    project = tomllib.loads((Path(__file__).parent.parent / "pyproject.toml").read_text())
    assert "sqlite-utils>=4" in project["project"]["dependencies"]


def test_opening_a_workspace_does_not_import_pandas_yet_leaves_it_importable(tmp_path):
    """sqlite_utils would import pandas (a third of a second of every page's first render)."""
    code = ("import sys\nfrom growthlab.db import open_workspace\n"
            "open_workspace(sys.argv[1]).conn.close()\nassert 'pandas' not in sys.modules\n"
            "import pandas\nprint(pandas.DataFrame([{'a': 1}]).shape)")
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path / "w.db")],
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "(1, 1)"


def test_another_thread_imports_pandas_while_the_workspace_module_loads():
    """Streamlit runs each browser tab's script in its own thread: a tab importing pandas
    while another tab's first `import growthlab.db` loads sqlite_utils must get pandas, not
    an ImportError. The finder below holds the sqlite_utils import open until the other
    thread's `import pandas` has finished, so the two always overlap."""
    code = """
import sys, threading
from importlib.abc import MetaPathFinder
from importlib.machinery import PathFinder

outcome = {}

def other_tab():
    try:
        import pandas
        outcome["pandas"] = pandas.DataFrame([{"a": 1}]).shape
    except Exception as exc:
        outcome["pandas"] = repr(exc)

class Overlap(MetaPathFinder):
    def find_spec(self, name, path=None, target=None):
        if name != "sqlite_utils" or threading.current_thread() is not threading.main_thread():
            return None
        spec = PathFinder.find_spec(name, path)
        run = spec.loader.exec_module

        def exec_module(module):  # the module's code runs outside the global import lock
            tab = threading.Thread(target=other_tab)
            tab.start()
            tab.join()
            run(module)

        spec.loader.exec_module = exec_module
        return spec

sys.meta_path.insert(0, Overlap())
import growthlab.db
print(outcome["pandas"])
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=120)
    assert out.returncode == 0, out.stderr[-2000:]
    assert out.stdout.strip() == "(1, 1)"


def test_a_save_returns_the_row_as_of_its_own_commit(tmp_path):
    """A colleague saving the moment our commit lands must not be handed back as ours."""
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    exp = experiments.create(db, title="Original")
    colleague = store.open_workspace(path)
    statements = []

    def colleague_saves_right_after_our_commit(sql: str) -> None:
        statements.append(sql.strip().upper())
        if statements[-2:-1] == ["COMMIT"] and not db.conn.in_transaction:
            experiments.update(colleague, exp, 2, {"title": "Colleague"}, actor="colleague")

    db.conn.set_trace_callback(colleague_saves_right_after_our_commit)
    saved = experiments.update(db, exp, 1, {"title": "Mine"}, actor="me")
    db.conn.set_trace_callback(None)
    assert (saved["title"], saved["version"]) == ("Mine", 2)


def test_a_v1_workspace_gains_versions_for_scores_and_results(tmp_path, monkeypatch):
    path = tmp_path / "w.db"
    with monkeypatch.context() as m:
        m.setattr(store, "MIGRATIONS", store.MIGRATIONS[:1])
        m.setattr(store, "SCHEMA_VERSION", 1)
        old = store.open_workspace(path)
        exp = experiments.create(old, title="Scored")
        old.execute("INSERT INTO ice_scores (experiment_id, scorer, impact, confidence, ease) "
                    "VALUES (?, 'maya', 5, 5, 5)", [exp])
        old.conn.close()
    db = store.open_workspace(path)
    assert [s["version"] for s in experiments.ice_scores(db, exp)] == [1]
    assert experiments.results_version(db, exp) == 0


def _contender(path, name, kind, rounds, start, queue):
    """One person saving, again and again, what they last saw plus their own change."""
    from growthlab.stats import MetricRow

    db = store.open_workspace(path)
    stored, refused, bases = 0, 0, []
    start.wait()
    for i in range(rounds):
        try:
            if kind == "results":
                seen = experiments.results_version(db, 1)
                experiments.record_results(db, 1, [
                    MetricRow("m", "control", 1000, 100 + i % 50),
                    MetricRow("m", "treatment", 1000, 100 + i % 50)], version=seen, actor=name)
            else:
                seen = next(s["version"] for s in experiments.ice_scores(db, 1))
                experiments.set_ice(db, 1, "maya", 1 + i % 10, 5, 5, version=seen, actor=name)
            stored += 1
            bases.append(seen)
        except StaleEditError:
            refused += 1
    queue.put((stored, refused, bases))


@pytest.mark.parametrize("kind", ["results", "ice"])
def test_two_processes_saving_results_or_scores_lose_nothing(tmp_path, capsys, kind):
    path = tmp_path / "w.db"
    db = store.open_workspace(path)
    experiments.create(db, title="Contended")
    experiments.set_ice(db, 1, "maya", 5, 5, 5)
    ctx = multiprocessing.get_context("spawn")
    queue, start = ctx.Queue(), ctx.Barrier(2)
    workers = [ctx.Process(target=_contender, args=(path, n, kind, 300, start, queue))
               for n in ("a", "b")]
    for w in workers:
        w.start()
    outcomes = [queue.get(timeout=300) for _ in workers]
    for w in workers:
        w.join(60)
    stored = sum(o[0] for o in outcomes)
    refused = sum(o[1] for o in outcomes)
    bases = [b for o in outcomes for b in o[2]]
    lost = len(bases) - len(set(bases))  # two saves built on the same state: one overwrote
    with capsys.disabled():
        print(f"\n600 concurrent {kind} saves: stored {stored}, refused {refused}, lost {lost}")
    action = "record_results" if kind == "results" else "score"
    audited = db.execute("SELECT count(*) FROM audit_log WHERE action = ?", [action]).fetchone()
    final = (experiments.results_version(db, 1) if kind == "results"
             else experiments.ice_scores(db, 1)[0]["version"] - 1)
    assert stored + refused == 600 and lost == 0
    assert final == stored and audited[0] == stored + (kind == "ice")


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
