"""Workspace-wide changes (taxonomy, uploads, PQL rule, restores): checked and audited."""

import json

import pytest

from growthlab import admin
from growthlab.backup import export_workspace, import_workspace
from growthlab.db import get_setting, open_workspace
from growthlab.errors import InputError, RuleError
from growthlab.kpis import check_assignments, check_events


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
    assert not list(empty_workspace.parent.glob("upload-check-*"))


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
