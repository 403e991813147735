"""Every broken file gets a clear error naming it, exit 2, no traceback, nothing changed."""

import hashlib
import subprocess
import sys
from pathlib import Path

import pytest

from growthlab import experiments, learnings
from growthlab.cli import main
from growthlab.db import open_workspace
from growthlab.errors import InputError, RuleError

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p for p in CORPUS.iterdir() if p.name != "README.md")
GOOD_EVENTS = "user_id,event,timestamp\nu1,x,2026-01-01T10:00:00\nu2,x,2026-01-02T10:00:00\n"
GOOD_MILESTONES = '[[milestones]]\nkey = "a"\nname = "A"\nrule = "count(x) >= 1"\n'


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "ws" / "growthlab.db"
    db = open_workspace(path)
    experiments.create(db, title="Keep me")
    learnings.create(db, title="Keep this learning", body="It matters.")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    (tmp_path / "events.csv").write_text(GOOD_EVENTS)
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES)
    return path


def command(case: Path, tmp: Path) -> list[str]:
    kind = case.name.split("_")[0]
    return {
        "results": ["analyze", str(case)],
        "events": ["kpis", str(case), "--milestones", str(tmp / "m.toml")],
        "milestones": ["kpis", str(tmp / "events.csv"), "--milestones", str(case)],
        "assignments": ["analyze-events", str(tmp / "events.csv"), str(case), "--milestones",
                        str(tmp / "m.toml"), "--experiment", "x"],
        "archive": ["import", str(case)],
    }[kind]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corpus_is_large_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_file_is_refused_clearly(case, workspace, capsys):
    before = digest(workspace)
    code = main(["--workspace", str(workspace), *command(case, workspace.parent.parent)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and case.name in err, err
    assert len(err.strip().splitlines()) == 1, "one line a person can act on"
    assert digest(workspace) == before


def test_cli_process_prints_no_traceback(workspace):
    case = CORPUS / "results_binary_garbage.csv"
    out = subprocess.run([sys.executable, "-m", "growthlab", "analyze", str(case)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "binary file" in out.stderr


@pytest.mark.parametrize("rule", [
    "count(search) >=", "count(search) >= -1", "count() >= 1", "reached()", "count(a) >= 1 or",
    "not", "count(a) >>= 1", "((count(a) >= 1)", "count(a) >= 1)", "count(a) 5",
    "count(a); DROP TABLE events", "count('a') >= 1", "days(a) >= 1.5", "x" * 5000,
    "count(\"\") >= 1", "\x00", "count(a) >= 99999999999999999999999",
])
def test_broken_rules_are_rule_errors(rule):
    from growthlab.kpis import Milestone, validate

    with pytest.raises(RuleError) as err:
        validate([Milestone("first_value", "First value", "P", rule)])
    assert str(err.value).startswith('rule for "first_value"')


@pytest.mark.parametrize("fields,field", [
    ({"title": ""}, "title"), ({"title": "x", "variants": [("control", 1)]}, "variants"),
    ({"title": "x", "variants": [("a", 1), ("a", 1)]}, "variants"),
    ({"title": "x", "variants": [("a", 0), ("b", 1)]}, "variants"),
    ({"title": "x", "expected_acquisition": "huge"}, "expected_acquisition"),
])
def test_odd_experiment_form_values(workspace, fields, field):
    db = open_workspace(workspace)
    before = db["experiments"].count
    with pytest.raises(InputError) as err:
        experiments.create(db, **fields)
    assert err.value.field == field
    assert db["experiments"].count == before


@pytest.mark.parametrize("text,message", [
    ("control:abc", "'abc' is not a number"), ("control:50, treatment:x", "'x' is not a number"),
    (":", "has no variant name"), ("control:50, :50", "has no variant name"),
    ("control:50,  : ", "has no variant name"),
])
def test_odd_variant_text(text, message):
    with pytest.raises(InputError) as err:
        experiments.parse_variants(text)
    assert message in str(err.value) and err.value.field == "variants"
