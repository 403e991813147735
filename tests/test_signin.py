"""Sign-in: required when OIDC is configured; author recorded; deny by default."""

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from growthlab.backup import export_workspace
from growthlab.db import open_workspace
from growthlab.kpis import load_from_workspace, milestones_toml

ROOT = Path(__file__).resolve().parent.parent
AUTH = {"redirect_uri": "http://localhost:8501/oauth2callback", "cookie_secret": "s3cret",
        "client_id": "growthlab", "client_secret": "x",
        "server_metadata_url": "https://id.example.com/.well-known/openid-configuration"}
# A listed viewer as the identity provider may spell them: case, spaces, a zero-width
# space and a trailing dot.
HOSTILE_VIEWER = " Ceo@SCOUT.example.\u200b"


def app(user: dict, **growthlab) -> AppTest:
    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.secrets["auth"] = AUTH
    at.secrets["growthlab"] = growthlab or {"viewers": []}
    at.user = user
    return at


def signed_in(email: str | None, **growthlab) -> AppTest:
    user = {"is_logged_in": True} | ({"email": email} if email is not None else {"name": "Anon"})
    return app(user, **growthlab)


def go(at: AppTest, page: str, **query) -> AppTest:
    at.switch_page(f"pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def click(at: AppTest, label: str) -> AppTest:
    next(b for b in at.button if b.label == label).click().run()
    assert not at.exception, [e.message for e in at.exception]
    return at


def add_squad(at: AppTest, name: str) -> AppTest:
    at.run()
    go(at, "settings")
    at.text_input(key="name-squads").input(name)
    return click(at, "Add to squads")


def state(path: Path) -> tuple:
    """Everything a write could change: every table's rows and the data files beside it."""
    db = open_workspace(path)
    tables = {t: list(db.query(f"SELECT * FROM [{t}] ORDER BY rowid"))
              for t in db.table_names() if not t.startswith("search_index")}
    db.conn.close()
    files = sorted((str(f.relative_to(path.parent)), f.stat().st_size, f.stat().st_mtime_ns)
                   for f in path.parent.rglob("*") if f.is_file()
                   and not f.name.startswith(path.name))
    return tables, files


def refusals(at: AppTest) -> int:
    return sum("read-only access" in e.value for e in at.error)


def every_action(at: AppTest, path: Path, tmp_path: Path) -> list[int]:
    """Try every kind of change the app offers; for each, how many read-only refusals showed."""
    db = open_workspace(path)
    idea = next(db.query("SELECT id FROM experiments WHERE status = 'idea' LIMIT 1"))["id"]
    analysing = next(db.query("SELECT id FROM experiments WHERE status = 'analysing' "
                              "LIMIT 1"))["id"]
    kr = next(db.query("SELECT id FROM key_results WHERE metric = 'first_value'"))["id"]
    checkin = next(db.query("SELECT max(id) AS id FROM checkins WHERE key_result_id = ?",
                            [kr]))["id"]
    learning = next(db.query("SELECT id FROM learnings LIMIT 1"))["id"]
    toml = milestones_toml(load_from_workspace(db)).encode()
    other = open_workspace(tmp_path / "other" / "growthlab.db")
    other.conn.close()
    export_workspace(tmp_path / "other" / "growthlab.db", tmp_path / "other.zip")
    refused = []
    at.run()

    go(at, "settings")
    for action in (
        lambda: (at.text_input(key="name-squads").input("Shadow squad"),
                 click(at, "Add to squads")),
        lambda: (at.file_uploader(key="events-upload").upload(
            "e.csv", b"user_id,event,timestamp\nu1,search,2026-01-01\n").run(),
                 click(at, "Validate and use these events")),
        lambda: (at.file_uploader(key="assignments-upload").upload(
            "a.csv", b"user_id,experiment,variant,assigned_at\nu1,EXP-001,control,"
                     b"2026-01-01\n").run(), click(at, "Validate and use these assignments")),
        lambda: (at.file_uploader(key="toml-upload").upload("m.toml", toml).run(),
                 click(at, "Validate and replace milestones")),
        lambda: (at.file_uploader(key="restore-upload").upload(
            "other.zip", (tmp_path / "other.zip").read_bytes()).run(),
                 click(at, "Check and restore")),
    ):
        action()
        refused.append(refusals(at))

    go(at, "okrs")
    for action in (
        lambda: (next(t for t in at.text_input if t.label == "Objective").input("Shadow"),
                 click(at, "Add objective")),
        lambda: next(b for b in at.button if b.label == "Save check-in").click().run(),
        lambda: (at.button(key=f"data-{kr}").click().run(),
                 at.button(key=f"data-confirm-{kr}").click().run()),
        lambda: (next(w for w in at.number_input if w.key and w.key.startswith(
            f"e-target-{kr}")).set_value(44.0), next(
            b for b in at.button if b.label == "Save key result"
            and b.form_id == f"edit-kr-{kr}").click().run()),
        lambda: (at.text_input(key="kr-statement").input("Raise X from 1 to 2"),
                 click(at, "Add key result")),
        lambda: (at.selectbox(key=f"fix-pick-{kr}").set_value(checkin).run(),
                 next(w for w in at.number_input if w.key and w.key.startswith(
                     f"fix-value-{checkin}-")).set_value(1.0),
                 click(at, "Save correction")),
        lambda: (at.selectbox(key=f"fix-pick-{kr}").set_value(checkin).run(),
                 click(at, "Remove"), click(at, "Remove it")),
    ):
        action()
        refused.append(refusals(at))

    go(at, "experiments")
    at.text_input(key="new-title").input("Shadow idea")
    refused.append(refusals(click(at, "Log idea")))

    go(at, "experiment", id=str(idea))
    for action in (
        lambda: click(at, "Save score"),
        lambda: (next(n for n in at.number_input if n.label == "Effort (person-weeks)")
                 .set_value(7.0), click(at, "Save RICE")),
        lambda: (next(t for t in at.text_input if t.label == "Title").input("Shadow"),
                 click(at, "Save design")),
        lambda: at.button(key="move-backlog").click().run(),
        lambda: (at.file_uploader(key=f"upload-{idea}").upload(
            "r.csv", b"metric,variant,users,conversions\nm,control,100,10\n"
                     b"m,treatment,100,12\n").run(), click(at, "Import results")),
    ):
        action()
        refused.append(refusals(at))

    go(at, "experiment", id=str(analysing))
    next(t for t in at.text_area if t.label.startswith("Conclusion")).input("It worked.")
    next(t for t in at.text_input if t.label == "Learning title").input("Shadow learning")
    next(t for t in at.text_area if t.label.startswith("Learning (markdown)")).input("Body.")
    refused.append(refusals(click(at, "Decide")))

    go(at, "learnings", learning=str(learning))
    for action in (
        lambda: (next(t for t in at.text_area if t.label == "Body (markdown)").input("Shadow"),
                 click(at, "Save changes")),
        lambda: click(at, "Link"),
        lambda: (next(t for t in at.text_input if t.label == "Title"
                      and t.form_id == "new-learning").input("Shadow"),
                 next(t for t in at.text_area if t.label.startswith("What we learned"))
                 .input("Shadow body."), click(at, "Save learning")),
    ):
        action()
        refused.append(refusals(at))

    go(at, "milestones", tab="Success moments & PQLs")
    rule = next(t for t in at.text_input if t.label == "PQL rule")
    rule.input(f"({rule.value}) or count(search) >= 1000").run()
    refused.append(refusals(click(at, "Save as the PQL rule")))
    go(at, "milestones", edit="true")
    refused.append(refusals(click(at, "Save milestones")))
    return refused


ACTIONS = 24


def test_a_viewer_however_spelled_gets_no_write_through(demo_workspace, tmp_path, capsys):
    before = state(demo_workspace)
    at = signed_in(HOSTILE_VIEWER, editors=["@scout.example"], viewers=["ceo@scout.example"])
    refused = every_action(at, demo_workspace, tmp_path)
    with capsys.disabled():
        print(f"\nviewer {HOSTILE_VIEWER!r}: {sum(refused)} of {len(refused)} changes refused, "
              f"{'none' if state(demo_workspace) == before else 'some'} written")
    assert state(demo_workspace) == before
    assert refused == [1] * ACTIONS


@pytest.mark.parametrize("email", ["CEO@Scout.Example", "  ceo@scout.example ",
                                   "ceo@scout.example\u200b", "ceo@scout.example."])
def test_the_older_viewers_list_holds_against_odd_spellings(demo_workspace, email):
    before = state(demo_workspace)
    at = add_squad(signed_in(email, viewers=["ceo@scout.example"]), "Shadow squad")
    assert refusals(at) == 1
    assert state(demo_workspace) == before


def test_only_listed_editors_write(demo_workspace):
    at = add_squad(signed_in("anna@elsewhere.example", editors=["@scout.example"]), "Shadow")
    assert refusals(at) == 1
    at = add_squad(signed_in("Maya@Scout.example", editors=["@scout.example"]), "Retention")
    assert refusals(at) == 0
    db = open_workspace(demo_workspace)
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["entity"]) == ("maya@scout.example", "squads")


def test_nobody_writes_when_no_editors_are_listed(demo_workspace):
    at = add_squad(app({"is_logged_in": True, "email": "maya@scout.example"}, other=1),
                   "Shadow")
    assert refusals(at) == 1
    assert any("read-only access" in s.value for s in at.success)


def test_an_identity_without_an_email_cannot_write(demo_workspace):
    before = state(demo_workspace)
    at = add_squad(signed_in(None, viewers=[]), "Shadow squad")
    assert refusals(at) == 1
    assert state(demo_workspace) == before


@pytest.mark.parametrize("growthlab,message", [
    ({"viewers": "ceo@scout.example"}, "viewers must be a list of e-mails, not str"),
    ({"editors": ["maya@scout.example", 7]}, "entry 2 (7) is not text"),
])
def test_a_misconfigured_list_stops_the_app_with_a_clear_message(demo_workspace, growthlab,
                                                                  message):
    at = signed_in("maya@scout.example", **growthlab)
    at.run()
    assert not at.exception
    assert any(message in e.value for e in at.error)
    assert not at.button and not at.text_input


def test_signed_out_users_see_only_the_sign_in(demo_workspace):
    at = app({"is_logged_in": False})
    at.run()
    assert not at.exception
    assert [b.label for b in at.button] == ["Sign in"]
    assert "Sign in to continue" in at.markdown[0].value


def test_signed_in_user_is_the_author_of_changes(demo_workspace):
    at = add_squad(signed_in("maya@scout.example", editors=["maya@scout.example"]),
                   "Retention")
    assert not at.exception
    assert any("you are maya@scout.example; you can make changes" in s.value
               for s in at.success)
    db = open_workspace(demo_workspace)
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["entity"]) == ("maya@scout.example", "squads")


def test_with_sign_in_an_ice_score_is_always_the_signed_in_editors_own(demo_workspace):
    from growthlab import experiments

    db = open_workspace(demo_workspace)
    idea = next(db.query("SELECT id FROM experiments WHERE status = 'idea' LIMIT 1"))["id"]
    experiments.set_ice(db, idea, "priya@scout.example", 9, 9, 9, actor="priya@scout.example")
    at = go(signed_in("maya@scout.example", editors=["@scout.example"]).run(), "experiment",
            id=str(idea))
    scorer = next(t for t in at.text_input if t.label == "Scorer")
    assert scorer.disabled and scorer.value == "maya@scout.example"
    next(n for n in at.number_input if n.label == "Impact").set_value(1)
    click(at, "Save score")
    scores = {s["scorer"]: s["impact"] for s in experiments.ice_scores(db, idea)}
    assert scores["priya@scout.example"] == 9 and scores["maya@scout.example"] == 1
