"""A leader on the OKRs page and the Overview: check-in history, new key results, objectives."""

from datetime import date

from conftest import open_page
from test_signin import go, signed_in

from growthlab import okrs
from growthlab.db import open_workspace


def text_of(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("info", "warning", "error", "success"):
        parts += [e.value for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(parts)


def checkin_tables(at) -> list:
    return [d.value for d in at.dataframe if "author" in d.value.columns]


def test_every_checkin_is_readable_newest_first_on_the_okrs_page(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id FROM key_results ORDER BY id LIMIT 1"))["id"]
    okrs.add_checkin(db, kr, day="2026-11-23", value=36.5, confidence=7, author="ana",
                     note="Templates lifted saves")
    stored = list(db.query("SELECT * FROM checkins WHERE key_result_id = ?", [kr]))
    at = open_page("okrs")
    table = checkin_tables(at)[0]
    assert list(table.columns) == ["date", "value", "confidence", "note", "author"]
    assert len(table) == len(stored)
    first = table.iloc[0]
    assert (first["date"], first["value"], first["confidence"], first["note"],
            first["author"]) == ("2026-11-23", 36.5, 7, "Templates lifted saves", "ana")
    assert list(table["date"]) == sorted(table["date"], reverse=True)
    assert set(table["author"]) == {c["author"] for c in stored}


def test_the_overview_shows_each_objectives_checkins_in_an_expander(demo_workspace):
    db = open_workspace(demo_workspace)
    at = open_page("overview")
    assert any(e.label.startswith("Check-ins") for e in at.expander)
    tables = checkin_tables(at)
    assert sum(len(t) for t in tables) == db["checkins"].count
    assert all(list(t["date"]) == sorted(t["date"], reverse=True) for t in tables)
    notes = {c["note"] for c in db.query("SELECT note FROM checkins")}
    assert notes <= {n for t in tables for n in t["note"]}
    assert "key result" in tables[0].columns


def test_a_new_key_result_starts_with_its_objective_and_waits_for_a_checkin(demo_workspace):
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id DESC LIMIT 1"))
    at = open_page("okrs")
    at.text_input(key="kr-statement").input("Raise Continued value from 20% to 30%").run()
    at.selectbox(key="kr-objective").set_value(objective["title"]).run()
    start = next(d for d in at.date_input if d.label == "Start" and d.key.startswith("kr-"))
    end = next(d for d in at.date_input if d.label == "End" and d.key.startswith("kr-"))
    assert (start.value, end.value) == (date.fromisoformat(objective["start_date"]),
                                        date.fromisoformat(objective["end_date"]))
    next(n for n in at.number_input if n.label == "Baseline" and n.form_id == "new-kr"
         ).set_value(20.0)
    next(n for n in at.number_input if n.label == "Target" and n.form_id == "new-kr"
         ).set_value(30.0)
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert not at.exception
    kr = next(db.query("SELECT * FROM key_results ORDER BY id DESC LIMIT 1"))
    assert (kr["statement"], kr["start_date"]) == ("Raise Continued value from 20% to 30%",
                                                   objective["start_date"])
    current = [m for m in at.metric if m.label == "Current"]
    assert current[-1].value == "no check-in yet"
    assert not any("Stale" in w.value and kr["statement"] in w.value for w in at.warning)
    stale = [w.value for w in at.warning if w.value.startswith("Stale")]
    views = [v for o in okrs.overview(db, date(2026, 11, 24)) for v in o.key_results]
    assert len(stale) == sum(v.stale for v in views) and not views[-1].stale


def objective_field(at, kind, name: str, objective_id: int):
    return next(w for w in getattr(at, kind) if w.key and w.key.startswith(
        f"o-{name}-{objective_id}-"))


def save_objective(at, objective_id: int):
    return next(b for b in at.button if b.label == "Save objective"
                and b.form_id == f"edit-objective-{objective_id}").click().run()


def test_an_objective_is_edited_from_the_okrs_page_and_audited(demo_workspace):
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id LIMIT 1"))
    squads = {r["name"]: r["id"] for r in db.query("SELECT * FROM squads")}
    other = next(name for name, i in squads.items() if i != objective["squad_id"])
    at = open_page("okrs")
    objective_field(at, "text_input", "title", objective["id"]).input("Teams reach value fast")
    objective_field(at, "date_input", "end", objective["id"]).set_value(date(2027, 1, 15))
    objective_field(at, "selectbox", "squad", objective["id"]).set_value(squads[other])
    save_objective(at, objective["id"])
    assert not at.exception
    saved = next(db.query("SELECT * FROM objectives WHERE id = ?", [objective["id"]]))
    assert (saved["title"], saved["end_date"], saved["squad_id"]) == (
        "Teams reach value fast", "2027-01-15", squads[other])
    assert saved["start_date"] == objective["start_date"]
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["action"], last["entity"], last["entity_id"]) == ("update", "objective",
                                                                   objective["id"])
    assert any("Teams reach value fast" in e.label for e in at.expander)


def test_an_objective_edit_is_refused_when_the_end_is_before_the_start(demo_workspace):
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id LIMIT 1"))
    at = open_page("okrs")
    objective_field(at, "date_input", "end", objective["id"]).set_value(date(2020, 1, 1))
    save_objective(at, objective["id"])
    assert any("end_date: must be after the start date" in e.value for e in at.error)
    assert next(db.query("SELECT end_date FROM objectives WHERE id = ?", [objective["id"]]))[
        "end_date"] == objective["end_date"]


def test_a_stale_objective_edit_is_refused(demo_workspace):
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id LIMIT 1"))
    at = open_page("okrs")
    okrs.update_objective(db, objective["id"], objective["version"], {"title": "Colleague's"},
                          actor="colleague")
    objective_field(at, "text_input", "title", objective["id"]).input("Mine")
    save_objective(at, objective["id"])
    assert "changed by someone else since you opened it" in text_of(at)
    assert next(db.query("SELECT title FROM objectives WHERE id = ?", [objective["id"]]))[
        "title"] == "Colleague's"


def test_a_viewer_cannot_edit_an_objective(demo_workspace):
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id LIMIT 1"))
    at = go(signed_in("ceo@scout.example", editors=["@scout.example"],
                      viewers=["ceo@scout.example"]).run(), "okrs")
    objective_field(at, "text_input", "title", objective["id"]).input("Renamed by a viewer")
    save_objective(at, objective["id"])
    assert any("read-only access" in e.value for e in at.error)
    assert next(db.query("SELECT * FROM objectives WHERE id = ?", [objective["id"]])) == objective
