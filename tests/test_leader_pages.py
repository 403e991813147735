"""A leader on the OKRs page and the Overview: check-in history, new key results, objectives."""

from datetime import date, timedelta

from conftest import open_page
from test_signin import go, signed_in

from growthlab import okrs
from growthlab.db import open_workspace
from growthlab.kpis import funnel, load_from_workspace


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
            first["author"]) == ("2026-11-23", "36.5", 7, "Templates lifted saves", "ana")
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
    at.selectbox(key="kr-metric").set_value("continued_value").run()
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
    assert (kr["statement"], kr["start_date"], kr["metric"]) == (
        "Raise Continued value from 20% to 30%", objective["start_date"], "continued_value")
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
    edit = next(db.query("SELECT * FROM audit_log WHERE entity = 'objective' ORDER BY id DESC "
                         "LIMIT 1"))
    assert (edit["action"], edit["entity_id"]) == ("update", objective["id"])
    krs = list(db.query("SELECT end_date FROM key_results WHERE objective_id = ?",
                        [objective["id"]]))
    assert {kr["end_date"] for kr in krs} == {"2027-01-15"}  # they shared its end: they move
    assert f"Objective saved; {len(krs)} key results moved with it" in [t.value for t in
                                                                         at.toast]
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


def test_an_objective_title_in_markdown_is_shown_as_written(demo_workspace):
    db = open_workspace(demo_workspace)
    db.execute("UPDATE objectives SET title = ?, period = '' WHERE id = "
               "(SELECT min(id) FROM objectives)", ["**Win** [x](http://e.x) <b>it</b>"])
    db.conn.commit()
    at = open_page("okrs")
    labels = [e.label for e in at.expander]
    shown = next(label for label in labels if "Win" in label)
    assert "\\*\\*Win\\*\\* \\[x\\]" in shown, shown  # shown as typed, not a link
    assert "·  ·" not in shown


def share_key_result(db, objective: int = 1, statement: str = "Raise Value realization share "
                     "from 0.115 to 0.125") -> int:
    """The tester's key result: Value realization as a share, its planned move one point."""
    o = next(db.query("SELECT * FROM objectives WHERE id = ?", [objective]))
    return okrs.create_key_result(db, objective, statement=statement,
                                  metric="value_realization", baseline=0.115, target=0.125,
                                  direction="increase", metric_kind="value_creation",
                                  start_date=o["start_date"], end_date=o["end_date"],
                                  unit="share")


def test_a_checkin_from_data_on_a_share_is_written_and_shown_unrounded(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = share_key_result(db)
    at = open_page("okrs")
    typed = at.number_input(key=f"ci-value-{kr}")
    assert (typed.value, typed.proto.format) == (0.115, "%g")  # "%.2f" showed it as 0.12
    next(b for b in at.button if b.key == f"data-{kr}").click().run()
    preview = next(m.value for m in at.markdown if "signed up from" in m.value)
    next(b for b in at.button if b.label == "Write this check-in").click().run()
    assert not at.exception and not at.error
    stored = next(db.query("SELECT value FROM checkins WHERE key_result_id = ?", [kr]))["value"]
    read = okrs.checkin_from_funnel(funnel(demo_workspace.parent / "events",
                                           load_from_workspace(db), by_cohort=True),
                                    "value_realization", "share")
    assert stored == read.value != round(read.value, 2)  # as read, not rounded
    assert preview.startswith(f"**{okrs.format_value(stored)} share**")
    current = [m.value for m in at.metric if m.label == "Current"]
    assert f"{okrs.format_value(stored)} share" in current
    baseline = next(n for n in at.number_input if n.key == f"ci-value-{kr}")
    assert baseline.value == stored and baseline.proto.format == "%g"
    tops = [d.value["value"].iloc[0] for d in at.dataframe if "confidence" in d.value]
    assert okrs.format_value(stored) in tops, tops  # showed '307692' in a browser


def test_a_confidence_of_zero_stays_zero(demo_workspace):
    db = open_workspace(demo_workspace)
    at = open_page("okrs")
    at.slider(key="ci-conf-2").set_value(0)
    next(b for b in at.button if b.label == "Save check-in"
         and b.form_id.startswith("checkin-2-")).click().run()
    assert at.slider(key="ci-conf-2").value == 0
    next(b for b in at.button if b.key == "data-2").click().run()
    next(b for b in at.button if b.label == "Write this check-in").click().run()
    assert not at.exception and not at.error
    last = list(db.query("SELECT confidence, note FROM checkins WHERE key_result_id = 2 "
                         "ORDER BY id DESC LIMIT 2"))
    assert [c["confidence"] for c in last] == [0, 0]
    assert last[0]["note"].startswith("From events")


def test_a_value_typed_a_hundred_times_too_big_is_refused_on_the_page(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = share_key_result(db)
    at = open_page("okrs")
    at.number_input(key=f"ci-value-{kr}").set_value(11.9)
    next(b for b in at.button if b.label == "Save check-in"
         and b.form_id.startswith(f"checkin-{kr}-")).click().run()
    assert any(e.value.startswith("value: 11.9 share is outside 0 to 1") for e in at.error)
    assert not list(db.query("SELECT id FROM checkins WHERE key_result_id = ?", [kr]))


def test_the_overview_counts_and_lists_key_results_without_a_checkin(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = share_key_result(db, statement="Raise Continued value from 20% to 30%")
    views = [v for o in okrs.overview(db, date(2026, 11, 24)) for v in o.key_results]
    at = open_page("overview")
    waiting = next(m for m in at.metric if m.label == "No check-in yet")
    assert waiting.value == str(sum(v.status == okrs.NO_CHECKIN for v in views)) != "0"
    attention = next(m.value for m in at.markdown if m.value.startswith(
        ":gray-badge[No check-in yet]"))
    assert "Raise Continued value from 20% to 30%" in attention
    counted = [m for m in at.metric if m.label in ("Key results on track", "At risk",
                                                   "Off track", "No check-in yet")]
    assert sum(int(m.value.split(" of ")[0]) for m in counted) == len(views)
    assert kr


def test_adding_a_key_result_clears_the_form_so_a_second_click_adds_nothing(demo_workspace):
    db = open_workspace(demo_workspace)
    before = db["key_results"].count
    at = open_page("okrs")
    at.text_input(key="kr-statement").input("Raise Continued value from 20% to 30%").run()
    at.selectbox(key="kr-metric").set_value("continued_value").run()
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert db["key_results"].count == before + 1
    assert at.text_input(key="kr-statement").value == ""
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert db["key_results"].count == before + 1
    assert any(e.value.startswith("metric: choose one") for e in at.error)  # cleared too


def test_a_capped_forecast_says_so(demo_workspace):
    db = open_workspace(demo_workspace)
    o = next(db.query("SELECT * FROM objectives WHERE id = 1"))
    kr = okrs.create_key_result(db, 1, statement="Raise setup completion from 60% to 90%",
                                metric="setup", baseline=60, target=90, direction="increase",
                                metric_kind="value_creation", start_date=o["start_date"],
                                end_date=o["end_date"], unit="%")
    okrs.add_checkin(db, kr, day="2026-10-05", value=70, confidence=6)
    okrs.add_checkin(db, kr, day="2026-10-19", value=85, confidence=6)
    at = open_page("okrs")
    forecast = next(m.value for m in at.markdown if m.value.startswith("**Forecast**")
                    and "100 %" in m.value)
    assert "capped" in forecast


def test_a_checkin_note_is_shown_as_typed_on_both_pages(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id FROM key_results ORDER BY id LIMIT 1"))["id"]
    okrs.add_checkin(db, kr, day="2026-11-23", value=36.5, confidence=7,
                     note="+0.04 since last week")
    for page in ("okrs", "overview"):
        notes = {n for t in checkin_tables(open_page(page)) for n in t["note"]}
        assert "+0.04 since last week" in notes, page


def days_key_result(db) -> int:
    return next(db.query("SELECT id FROM key_results WHERE unit = 'days'"))["id"]


def add_typo(db, kr: int) -> int:
    """42 days typed for 4.2 on "Cut median days ... from 6 to 3": progress -1200%."""
    return okrs.add_checkin(db, kr, day="2026-11-23", value=42.0, confidence=7, author="maya",
                            note="Templates helped")


def key_result_figures(at, db, kr: int) -> tuple[str, str]:
    """The status badge and progress the page shows for a key result, and what they should
    read from the check-ins now stored."""
    view = next(v for o in okrs.overview(db, date(2026, 11, 24)) for v in o.key_results
                if v.row["id"] == kr)
    heading = next(m.value for m in at.markdown if m.value.startswith(
        f"#### {view.row['statement']}"))
    assert f"[{view.status.capitalize()}]" in heading
    assert f"{view.progress:.0%}" in [m.value for m in at.metric if m.label == "Progress"]
    return view


def fix_field(at, kind: str, name: str, checkin: int):
    return next(w for w in getattr(at, kind) if w.key and w.key.startswith(
        f"fix-{name}-{checkin}-"))


def test_a_mistyped_checkin_is_corrected_on_the_okrs_page(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = days_key_result(db)
    typo = add_typo(db, kr)
    at = open_page("okrs")
    assert key_result_figures(at, db, kr).status == "off track"
    assert any(e.label == "Correct or remove a check-in" for e in at.expander)
    at.selectbox(key=f"fix-pick-{kr}").set_value(typo).run()
    assert fix_field(at, "number_input", "value", typo).value == 42.0
    fix_field(at, "number_input", "value", typo).set_value(4.2)
    next(b for b in at.button if b.label == "Save correction"
         and b.form_id == f"fix-{typo}").click().run()
    assert not at.exception and not at.error
    stored = next(db.query("SELECT * FROM checkins WHERE id = ?", [typo]))
    assert (stored["value"], stored["note"], stored["version"]) == (4.2, "Templates helped", 2)
    assert key_result_figures(at, db, kr).status == "on track"
    assert "Check-in corrected" in [t.value for t in at.toast]
    edit = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (edit["action"], edit["entity"], edit["entity_id"]) == ("update", "check-in", typo)


def test_a_checkin_is_removed_on_the_okrs_page_once_confirmed(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = days_key_result(db)
    typo = add_typo(db, kr)
    at = open_page("okrs")
    at.selectbox(key=f"fix-pick-{kr}").set_value(typo).run()
    next(b for b in at.button if b.label == "Remove"
         and b.form_id == f"fix-{typo}").click().run()
    assert any("Remove the check-in of 2026-11-23 (42 days" in w.value for w in at.warning)
    assert db["checkins"].get(typo)  # not yet
    next(b for b in at.button if b.label == "Keep it").click().run()
    assert db["checkins"].get(typo)
    at.selectbox(key=f"fix-pick-{kr}").set_value(typo).run()
    next(b for b in at.button if b.label == "Remove"
         and b.form_id == f"fix-{typo}").click().run()
    next(b for b in at.button if b.label == "Remove it").click().run()
    assert not at.exception and not at.error
    assert not list(db.query("SELECT id FROM checkins WHERE id = ?", [typo]))
    assert key_result_figures(at, db, kr).current == 4.2
    gone = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (gone["action"], gone["entity"], gone["entity_id"]) == ("delete", "check-in", typo)


def test_a_correction_over_a_colleague_s_is_refused_on_the_page(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = days_key_result(db)
    typo = add_typo(db, kr)
    at = open_page("okrs")
    at.selectbox(key=f"fix-pick-{kr}").set_value(typo).run()
    okrs.update_checkin(db, typo, 1, {"value": 4.2}, actor="colleague")
    fix_field(at, "number_input", "value", typo).set_value(4.3)
    next(b for b in at.button if b.label == "Save correction"
         and b.form_id == f"fix-{typo}").click().run()
    assert "changed by someone else since you opened it" in text_of(at)
    assert next(db.query("SELECT value FROM checkins WHERE id = ?", [typo]))["value"] == 4.2


def test_a_value_that_looks_like_a_typo_is_questioned_before_it_is_saved(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = days_key_result(db)
    before = db["checkins"].count
    at = open_page("okrs")
    at.number_input(key=f"ci-value-{kr}").set_value(42.0)
    save = next(b for b in at.button if b.label == "Save check-in"
                and b.form_id.startswith(f"checkin-{kr}-"))
    save.click().run()
    assert any("42 days: did you mean 4.2?" in w.value and "Press “Save check-in” again" in w.value
               for w in at.warning)
    assert db["checkins"].count == before
    next(b for b in at.button if b.label == "Save check-in"
         and b.form_id.startswith(f"checkin-{kr}-")).click().run()
    assert not at.error and db["checkins"].count == before + 1  # asked, not refused


def test_a_new_key_result_waits_for_its_metric_to_be_chosen(demo_workspace):
    """The Metric box chose "Signed up" for "Raise Activated from 20% to 30%" unasked."""
    db = open_workspace(demo_workspace)
    before = db["key_results"].count
    at = open_page("okrs")
    assert at.selectbox(key="kr-metric").value is None
    at.text_input(key="kr-statement").input("Raise First value from 20% to 30%").run()
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert any(e.value.startswith("metric: choose one: a milestone KPI") for e in at.error)
    assert db["key_results"].count == before
    at.selectbox(key="kr-metric").set_value(okrs.CUSTOM_METRIC).run()
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert any(e.value.startswith("custom metric name: is empty") for e in at.error)
    at.text_input(key="kr-custom").input("Teams activated by hand").run()
    next(b for b in at.button if b.label == "Add key result").click().run()
    assert next(db.query("SELECT metric FROM key_results ORDER BY id DESC LIMIT 1"))[
        "metric"] == "Teams activated by hand"


def blank_unit_key_result(db) -> int:
    """The tester's key result: First value on 36 -> 41 with no unit."""
    o = next(db.query("SELECT * FROM objectives WHERE id = 1"))
    return okrs.create_key_result(db, 1, statement="Raise First value from 36 to 41",
                                  metric="first_value", baseline=36, target=41, unit="",
                                  direction="increase", metric_kind="value_creation",
                                  start_date=o["start_date"], end_date=o["end_date"])


def kr_field(at, kind: str, name: str, kr: int):
    return next(w for w in getattr(at, kind) if w.key and w.key.startswith(f"e-{name}-{kr}-"))


def test_a_share_is_not_checked_in_onto_a_plan_on_another_scale_and_the_unit_is_editable(
        demo_workspace):
    db = open_workspace(demo_workspace)
    kr = blank_unit_key_result(db)
    at = open_page("okrs")
    next(b for b in at.button if b.key == f"data-{kr}").click().run()
    refusal = next(e.value for e in at.error if e.value.startswith("unit: "))
    assert "set the Unit to % under “Edit this key result”" in refusal
    assert not any(b.label == "Write this check-in" for b in at.button)
    assert kr_field(at, "text_input", "unit", kr).value == ""
    kr_field(at, "text_input", "unit", kr).input("%")
    next(b for b in at.button if b.label == "Save key result"
         and b.form_id == f"edit-kr-{kr}").click().run()
    assert not at.error
    assert next(db.query("SELECT unit FROM key_results WHERE id = ?", [kr]))["unit"] == "%"
    next(b for b in at.button if b.key == f"data-{kr}").click().run()
    next(b for b in at.button if b.label == "Write this check-in").click().run()
    assert not at.exception and not at.error
    value = next(db.query("SELECT value FROM checkins WHERE key_result_id = ?", [kr]))["value"]
    assert 1 < value < 100  # a percentage, as the plan


def test_a_key_result_s_metric_is_changed_on_the_okrs_page(demo_workspace):
    """"Raise Activated from 20% to 30%" saved on "Signed up" could not be moved off it."""
    db = open_workspace(demo_workspace)
    kr = blank_unit_key_result(db)
    at = open_page("okrs")
    metric = kr_field(at, "selectbox", "metric", kr)
    assert metric.value == "first_value"
    metric.set_value("value_realization")
    next(b for b in at.button if b.label == "Save key result"
         and b.form_id == f"edit-kr-{kr}").click().run()
    assert not at.error
    assert next(db.query("SELECT metric FROM key_results WHERE id = ?", [kr]))[
        "metric"] == "value_realization"
    assert any(b.label == "Check in from data (Value realization)" for b in at.button)
    kr_field(at, "selectbox", "metric", kr).set_value(okrs.CUSTOM_METRIC)
    kr_field(at, "text_input", "custom", kr).input("Activated teams (by hand)")
    next(b for b in at.button if b.label == "Save key result"
         and b.form_id == f"edit-kr-{kr}").click().run()
    assert next(db.query("SELECT metric FROM key_results WHERE id = ?", [kr]))[
        "metric"] == "Activated teams (by hand)"
    assert not any(b.key == f"data-{kr}" for b in at.button)


def test_moving_an_objective_s_start_past_a_checkin_is_refused_naming_it(demo_workspace):
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id LIMIT 1"))
    first = next(db.query("SELECT min(c.date) AS d FROM checkins c JOIN key_results k ON "
                          "k.id = c.key_result_id WHERE k.objective_id = ?",
                          [objective["id"]]))["d"]
    later = date.fromisoformat(first) + timedelta(days=7)
    at = open_page("okrs")
    objective_field(at, "date_input", "start", objective["id"]).set_value(later)
    save_objective(at, objective["id"])
    refusal = next(e.value for e in at.error if e.value.startswith("start_date: key result"))
    assert f"has a check-in on {first}, before the new start {later}" in refusal
    assert "Correct or remove a check-in" in refusal
    assert next(db.query("SELECT start_date FROM objectives WHERE id = ?",
                         [objective["id"]]))["start_date"] == objective["start_date"]
