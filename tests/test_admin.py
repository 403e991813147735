"""Workspace-wide changes (taxonomy, uploads, PQL rule, restores): checked and audited."""

import json
import threading

import pytest

from growthlab import admin
from growthlab.backup import export_workspace, import_workspace
from growthlab.db import get_setting, open_workspace
from growthlab.errors import InputError, RuleError
from growthlab.kpis import check_assignments, check_events
from growthlab.swap import UPLOAD, recover, staged_upload


@pytest.fixture
def db(empty_workspace):
    return open_workspace(empty_workspace)


def last_audit(db) -> dict:
    row = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    return row | {"detail": json.loads(row["detail"])}


def test_taxonomy_additions_are_audited_and_unique(db):
    admin.add_to_taxonomy(db, "squads", " Activation ", "First value", actor="maya")
    audit = last_audit(db)
    assert (audit["actor"], audit["action"], audit["entity"]) == ("maya", "create", "squads")
    with pytest.raises(InputError, match="already exists"):
        admin.add_to_taxonomy(db, "squads", "Activation", actor="maya")
    with pytest.raises(InputError, match="must be one of"):
        admin.add_to_taxonomy(db, "users", "x", actor="maya")


@pytest.mark.parametrize("kind,check,data", [
    ("events", check_events, b"user_id,event,timestamp\nu1,search,2026-01-01\n"),
    ("assignments", check_assignments,
     b"user_id,experiment,variant,assigned_at\nu1,EXP-001,control,2026-01-01\n"),
])
def test_uploads_are_audited(db, kind, check, data):
    admin.use_data_file(db, kind, data, "mine.csv", check, actor="maya")
    assert get_setting(db, f"{kind}_path") == f"{kind}.csv"
    audit = last_audit(db)
    assert (audit["actor"], audit["action"], audit["entity"]) == ("maya", "upload", kind)
    assert audit["detail"]["file"] == "mine.csv"


def test_a_bad_upload_changes_nothing_and_names_the_file(db, empty_workspace):
    with pytest.raises(InputError, match="mine.csv:2"):
        admin.use_data_file(db, "events", b"user_id,event,timestamp\nu1,search,someday\n",
                            "mine.csv", check_events, actor="maya")
    assert get_setting(db, "events_path") is None and db["audit_log"].count == 0
    assert not list(empty_workspace.parent.glob(".*upload-*"))


def test_an_assignments_upload_with_a_variant_in_two_cases_names_both_lines(db):
    data = (b"user_id,experiment,variant,assigned_at\nu1,EXP-A,treatment,2026-01-01\n"
            b"u2,EXP-A,control,2026-01-01\nu3,EXP-A,Treatment,2026-01-01\n")
    with pytest.raises(InputError) as refused:
        admin.use_data_file(db, "assignments", data, "mine.csv", check_assignments,
                            actor="maya")
    assert str(refused.value).startswith("mine.csv:4: column variant:")
    assert "'treatment' (mine.csv:2)" in str(refused.value)
    assert get_setting(db, "assignments_path") is None


def test_taxonomy_names_differing_only_in_case_are_refused_naming_the_existing_one(db):
    admin.add_to_taxonomy(db, "squads", "Activation", actor="maya")
    with pytest.raises(InputError, match="'Activation' already exists") as refused:
        admin.add_to_taxonomy(db, "squads", "activation", actor="maya")
    assert refused.value.field == "name"
    admin.add_to_taxonomy(db, "loops", "activation", actor="maya")  # another list
    assert [r["name"] for r in db.query("SELECT name FROM squads")] == ["Activation"]


def test_two_uploads_at_once_each_get_their_own_outcome(empty_workspace):
    good = b"user_id,event,timestamp\n" + b"".join(
        b"u%d,search,2026-01-%02dT10:00:00Z\n" % (i % 5000, 1 + i % 28) for i in range(200_000))
    bad = b"user_id,event,timestamp\nu1,search,2026-01-01\nu2,search,someday\n"
    for _ in range(4):
        start, outcome = threading.Barrier(2), {}

        def upload(who: str, data: bytes, outcome=outcome, start=start) -> None:
            db = open_workspace(empty_workspace)
            start.wait()
            try:
                admin.use_data_file(db, "events", data, f"{who}.csv", check_events, actor=who)
                outcome[who] = "installed"
            except Exception as exc:  # noqa: BLE001 - any failure is the outcome under test
                outcome[who] = f"{type(exc).__name__}: {exc}"
            finally:
                db.conn.close()

        threads = [threading.Thread(target=upload, args=("alice", good)),
                   threading.Thread(target=upload, args=("bob", bad))]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert outcome["alice"] == "installed", outcome
        assert outcome["bob"].startswith("InputError: bob.csv:3"), outcome
        assert (empty_workspace.parent / "events.csv").read_bytes() == good
        assert sorted(p.name for p in empty_workspace.parent.iterdir()
                      if not p.name.startswith("growthlab.db")) == ["events.csv"]
        (empty_workspace.parent / "events.csv").unlink()


def test_the_pql_rule_is_checked_and_audited(db):
    admin.set_pql_rule(db, "count(search) >= 5", 30, actor="maya")
    assert (get_setting(db, "pql_rule"), get_setting(db, "pql_window_days")) == (
        "count(search) >= 5", "30")
    assert (last_audit(db)["entity"], last_audit(db)["actor"]) == ("pql_rule", "maya")
    with pytest.raises(RuleError):
        admin.set_pql_rule(db, "count(search >= 5", 30, actor="maya")
    with pytest.raises(InputError, match="PQL window"):
        admin.set_pql_rule(db, "count(search) >= 5", 0, actor="maya")


def test_a_restore_is_audited_in_the_restored_workspace(db, empty_workspace, tmp_path):
    export_workspace(empty_workspace, tmp_path / "backup.zip")
    import_workspace(tmp_path / "backup.zip", empty_workspace, actor="maya")
    restored = open_workspace(empty_workspace)
    audit = last_audit(restored)
    assert (audit["actor"], audit["action"], audit["detail"]) == (
        "maya", "restore", {"archive": "backup.zip"})


def test_recovery_clears_a_crashed_uploads_file_but_not_one_being_checked(empty_workspace):
    folder = empty_workspace.parent
    crashed = folder / f"{UPLOAD}crashed.csv"
    crashed.write_bytes(b"user_id,event,timestamp\n")
    with staged_upload(folder, ".csv", b"user_id,event,timestamp\n") as in_use:
        recover(empty_workspace)
        assert in_use.exists() and not crashed.exists()
    assert not in_use.exists()


def test_an_upload_never_replaces_the_events_another_workspace_in_the_folder_reads(tmp_path):
    """Data files live beside the workspace: a second workspace created in the same folder
    would silently replace the first one's events.csv. It is refused, naming the other."""
    first, second = open_workspace(tmp_path / "team.db"), open_workspace(tmp_path / "trial.db")
    events = b"user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
    admin.use_data_file(first, "events", events, "team.csv", check_events, actor="maya")
    before = (tmp_path / "events.csv").read_bytes()
    with pytest.raises(InputError, match="team.db") as refused:
        admin.use_data_file(second, "events", events.replace(b"u1", b"u9"), "trial.csv",
                            check_events, actor="tom")
    assert "folder of its own" in str(refused.value)
    assert (tmp_path / "events.csv").read_bytes() == before
    assert get_setting(second, "events_path") is None
    admin.use_data_file(second, "assignments", b"user_id,experiment,variant,assigned_at\n"
                        b"u1,x,control,2026-03-01T09:00:00Z\n", "a.csv", check_assignments,
                        actor="tom")  # team.db has none: nothing of its is replaced


def test_a_restore_or_a_demo_never_replaces_another_workspace_s_data_in_the_folder(tmp_path):
    """A demo built for a new workspace path, or a backup restored there, swaps in its data
    files beside it: in a folder another workspace reads them from, both are refused, and the
    other workspace's files stay as they were."""
    from growthlab.demo import create_demo

    team = open_workspace(tmp_path / "team.db")
    events = b"user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
    admin.use_data_file(team, "events", events, "team.csv", check_events, actor="maya")
    with pytest.raises(InputError, match="team.db"):
        create_demo(tmp_path / "new.db", users=300)
    elsewhere = tmp_path / "other" / "o.db"
    create_demo(elsewhere, users=300)
    export_workspace(elsewhere, tmp_path / "o.zip")
    with pytest.raises(InputError, match="team.db"):
        import_workspace(tmp_path / "o.zip", tmp_path / "restored.db")
    assert (tmp_path / "events.csv").read_bytes() == events
    assert not (tmp_path / "assignments.parquet").exists()
