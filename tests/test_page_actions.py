"""What people do on the pages, under AppTest against a real demo workspace."""

from pathlib import Path

from conftest import open_page

from growthlab import experiments
from growthlab.db import open_workspace

ROOT = Path(__file__).resolve().parent.parent




def widget(items, label):
    return next(w for w in items if w.label == label)


def all_text(at) -> str:
    parts = [m.value for m in at.markdown] + [e.value for e in at.error]
    parts += [e.value for e in at.warning] + [e.value for e in at.success]
    parts += [e.value for e in at.info] + [c.value for c in at.caption]
    return "\n".join(parts)


def test_experiments_filters_come_from_the_url(demo_workspace):
    at = open_page("experiments", status="running")
    table = at.dataframe[0].value
    assert len(table) == 5 and set(table["status"]) == {"running"}
    assert at.multiselect(key="f-status").value == ["running"]


def test_board_and_review_views(demo_workspace):
    at = open_page("experiments", view="review")
    assert "Win rate" in [m.label for m in at.metric]
    assert "success gap is at **Value realization**" in all_text(at)
    at = open_page("experiments", view="board")
    assert any("Running" in m.value for m in at.markdown)


def test_score_ice_and_move_along_the_lifecycle(demo_workspace):
    db = open_workspace(demo_workspace)
    idea = next(db.query("SELECT id FROM experiments WHERE status = 'idea' LIMIT 1"))["id"]
    at = open_page("experiment", id=str(idea))
    widget(at.text_input, "Scorer").input("Priya")
    widget(at.number_input, "Impact").set_value(9)
    widget(at.number_input, "Ease").set_value(8)
    widget(at.button, "Save score").click().run()
    assert not at.exception
    score = next(db.query("SELECT * FROM ice_scores WHERE experiment_id = ? AND scorer = ?",
                          [idea, "Priya"]))
    assert (score["impact"], score["confidence"], score["ease"]) == (9, 5, 8)
    at.button(key="move-backlog").click().run()
    assert experiments.get(db, idea)["status"] == "backlog"
    assert not at.exception


def test_stale_edit_is_refused_and_shows_the_newer_content(demo_workspace):
    db = open_workspace(demo_workspace)
    idea = next(db.query("SELECT id, version FROM experiments WHERE status = 'idea' LIMIT 1"))
    at = open_page("experiment", id=str(idea["id"]))
    experiments.update(db, idea["id"], idea["version"], {"title": "Renamed by a colleague"},
                       actor="colleague")
    widget(at.text_area, "Hypothesis").input("We believe my change matters.")
    widget(at.button, "Save design").click().run()
    assert "changed by someone else since you opened it" in all_text(at)
    assert experiments.get(db, idea["id"])["title"] == "Renamed by a colleague"
    assert at.json, "the newer content is shown"


def test_results_verdict_and_srm_banner(demo_workspace):
    db = open_workspace(demo_workspace)
    srm_case = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-014'"))["id"]
    at = open_page("experiment", id=str(srm_case))
    assert any("Sample-ratio mismatch" in e.value for e in at.error)
    won = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-005'"))["id"]
    at = open_page("experiment", id=str(won))
    assert any("raised Value realization by 14.0%" in s.value for s in at.success)
    at.segmented_control(key="method").set_value("bayesian").run()
    assert any("chance to beat control" in s.value for s in at.success)


def test_checkin_and_live_lint_on_okrs(demo_workspace):
    db = open_workspace(demo_workspace)
    before = db["checkins"].count
    at = open_page("okrs")
    at.text_input(key="kr-statement").input("Launch the new editor to all teams").run()
    assert any("Reads like an output" in w.value for w in at.warning)
    kr = next(db.query("SELECT id FROM key_results ORDER BY id LIMIT 1"))["id"]
    at.number_input(key=f"ci-value-{kr}").set_value(37.5)
    at.text_input(key=f"ci-note-{kr}").input("Templates shipped")
    next(b for b in at.button if b.label == "Save check-in").click().run()
    assert not at.exception
    assert db["checkins"].count == before + 1
    last = next(db.query("SELECT * FROM checkins ORDER BY id DESC LIMIT 1"))
    assert (last["key_result_id"], last["value"], last["note"]) == (kr, 37.5, "Templates shipped")


def test_a_search_matching_only_a_key_result_points_at_the_okrs_page(demo_workspace):
    at = open_page("learnings", q="MRR")
    advice = " ".join(i.value for i in at.info)
    assert "on the OKRs page, 'Grow expansion MRR from \\$42k to \\$60k' holds" in advice
    srm = open_page("learnings", q="srm")
    assert not any("Showing results for" in i.value for i in srm.info)
    assert any("sample-ratio mismatch" in str(p.proto) or "Sales outreach" in str(p.proto)
               for p in srm.get("page_link"))


def test_search_open_and_edit_a_learning(demo_workspace):
    at = open_page("learnings", q="modal")
    assert any("Modal tours interrupt" in str(p.proto) for p in at.get("page_link"))
    db = open_workspace(demo_workspace)
    learning = next(db.query("SELECT id FROM learnings WHERE title LIKE 'Modal tours%'"))["id"]
    at = open_page("learnings", learning=str(learning))
    widget(at.text_area, "Body (markdown)").input("Inline hints beat modal tours twice.")
    widget(at.button, "Save changes").click().run()
    assert not at.exception
    assert "Inline hints beat" in next(db.query("SELECT body FROM learnings WHERE id = ?",
                                                [learning]))["body"]


def test_settings_adds_a_squad_and_names_the_mode(demo_workspace):
    at = open_page("settings")
    assert any("Local single-user mode" in i.value for i in at.info)
    at.text_input(key="name-squads").input("Retention")
    next(b for b in at.button if b.label == "Add to squads").click().run()
    assert not at.exception
    db = open_workspace(demo_workspace)
    assert "Retention" in [r["name"] for r in db.query("SELECT name FROM squads")]


def test_edit_a_key_result_on_the_okrs_page(demo_workspace):
    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id, target FROM key_results ORDER BY id LIMIT 1"))
    at = open_page("okrs")
    kr_field(at, "target", kr["id"]).set_value(42.0)
    save_kr(at, kr["id"])
    assert not at.exception
    assert next(db.query("SELECT target FROM key_results WHERE id = ?", [kr["id"]]))[
        "target"] == 42.0


def test_milestone_retention_on_the_milestones_page(demo_workspace):
    at = open_page("milestones")
    assert not any("All cohorts: day 1" in c.value for c in at.caption), "hidden tabs wait"
    at = open_page("milestones", tab="Retention")
    assert any("All cohorts: day 1" in c.value for c in at.caption)
    at.selectbox(key="ret-milestone").set_value("value_realization").run()
    assert not at.exception
    assert any("All cohorts: day 1" in c.value for c in at.caption)


def test_backup_from_settings_restores_the_same_workspace(demo_workspace, tmp_path):
    from growthlab.backup import import_workspace

    at = open_page("settings")
    next(b for b in at.button if b.label == "Prepare a backup (.zip)").click().run()
    assert not at.exception
    archive = tmp_path / "backup.zip"
    archive.write_bytes(at.session_state["backup"])
    restored = tmp_path / "restored" / "growthlab.db"
    import_workspace(archive, restored)
    original = open_workspace(demo_workspace)
    copy = open_workspace(restored)
    for table in ("experiments", "learnings", "key_results", "checkins"):
        assert list(original.query(f"SELECT * FROM {table} ORDER BY id")) == list(
            copy.query(f"SELECT * FROM {table} ORDER BY id")), table


def test_similar_past_work_appears_while_typing_a_hypothesis(demo_workspace):
    at = open_page("experiments")
    at.text_area(key="new-hypothesis").input(
        "We believe a modal tour of export formats for new users will help them export, "
        "measured by Value realization.").run()
    text = all_text(at)
    assert "Similar past work" in text
    assert "Forced tour of exports" in text or "Modal tours interrupt" in text


def test_similar_past_work_shows_titles_as_typed(demo_workspace):
    db = open_workspace(demo_workspace)
    db.execute("UPDATE learnings SET title = '[Modal](http://evil.example) tours' "
               "WHERE title LIKE 'Modal tours%'")
    db.conn.commit()
    at = open_page("experiments")
    at.text_area(key="new-hypothesis").input("A modal tour of export formats").run()
    shown = [m.value for m in at.markdown if "tours" in m.value]
    assert shown and all("](http" not in m for m in shown), shown


def test_uploads_are_checked_before_anything_changes(demo_workspace):
    db = open_workspace(demo_workspace)
    before = db.execute("SELECT value FROM settings WHERE key = 'events_path'").fetchone()[0]
    at = open_page("settings")
    at.file_uploader(key="events-upload").upload(
        "mine.csv", b"user_id,event,timestamp\nu1,search,2026-01-01\nu2,search,someday\n").run()
    next(b for b in at.button if b.label == "Validate and use these events").click().run()
    assert any("mine.csv:3: column timestamp: 'someday'" in e.value for e in at.error)
    assert db.execute("SELECT value FROM settings WHERE key = 'events_path'").fetchone()[
        0] == before
    assert not list(demo_workspace.parent.glob("upload-check-*"))

    at.file_uploader(key="assignments-upload").upload(
        "assign.csv", b"user_id,experiment,variant,assigned_at\n"
                      b"u000001,EXP-050,control,2026-11-01\n").run()
    next(b for b in at.button if b.label == "Validate and use these assignments").click().run()
    assert not at.exception
    assert db.execute("SELECT value FROM settings WHERE key = 'assignments_path'").fetchone()[
        0] == "assignments.csv"


def test_bad_results_upload_keeps_the_old_results(demo_workspace):
    db = open_workspace(demo_workspace)
    won = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-005'"))["id"]
    before = list(db.query("SELECT * FROM metric_results WHERE experiment_id = ?", [won]))
    at = open_page("experiment", id=str(won))
    at.file_uploader(key=f"upload-{won}").upload(
        "new.csv", b"metric,variant,users,conversions\ncv,control,100,120\ncv,treatment,100,5\n"
    ).run()
    widget(at.button, "Import results").click().run()
    assert any("new.csv:2: column conversions" in e.value for e in at.error)
    assert list(db.query("SELECT * FROM metric_results WHERE experiment_id = ?",
                         [won])) == before


def test_results_saved_by_a_spreadsheet_with_decimal_commas_upload(demo_workspace):
    db = open_workspace(demo_workspace)
    won = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-005'"))["id"]
    at = open_page("experiment", id=str(won))
    assert list(at.file_uploader(key=f"upload-{won}").proto.type) == [".csv", ".tsv", ".txt"]
    at.file_uploader(key=f"upload-{won}").upload(
        "eu.csv", "\ufeffmetric;variant;users;sum;sum_squares\r\n"
                  "revenue;control;1000;5000,5;40000,25\r\n"
                  "revenue;treatment;1000;5500,75;45000,5\r\n;;;;\r\n".encode()).run()
    widget(at.button, "Import results").click().run()
    assert not at.error and not at.exception
    assert [(r["variant"], r["sum"], r["sum_squares"]) for r in db.query(
        "SELECT * FROM metric_results WHERE experiment_id = ? ORDER BY position", [won])] == [
        ("control", 5000.5, 40000.25), ("treatment", 5500.75, 45000.5)]


def test_decision_form_suggests_the_result_from_the_numbers(demo_workspace):
    db = open_workspace(demo_workspace)
    nudge = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-004'"))
    exp = experiments.get(db, nudge["id"])
    experiments.move(db, exp["id"], exp["version"], "analysing")
    at = open_page("experiment", id=str(exp["id"]))
    assert widget(at.selectbox, "Result").value == "won"  # value_realization +48%, significant


def test_check_in_from_data_previews_eligible_users_before_writing(demo_workspace):
    from growthlab.kpis import funnel, load_from_workspace
    from growthlab.okrs import checkin_from_funnel, format_value

    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id FROM key_results WHERE metric = 'value_realization'"))["id"]
    count = db["checkins"].count
    at = open_page("okrs")
    at.button(key=f"data-{kr}").click().run()
    assert not at.exception
    assert db["checkins"].count == count  # nothing is written before the person confirms
    expected = checkin_from_funnel(
        funnel(demo_workspace.parent / "events", load_from_workspace(db), by_cohort=True),
        "value_realization", "%")
    shown = " ".join(m.value for m in at.markdown)
    assert f"{format_value(expected.value)} %" in shown and f"{expected.users:,} users" in shown
    at.button(key=f"data-confirm-{kr}").click().run()
    assert not at.exception
    last = next(db.query("SELECT * FROM checkins WHERE key_result_id = ? ORDER BY id DESC "
                         "LIMIT 1", [kr]))
    assert last["value"] == expected.value and last["date"] == "2026-11-24"  # not rounded
    assert last["note"].startswith("From events:") and "window had closed" in last["note"]
    assert 9 < last["value"] < 14  # matured cohorts, not 9.3% of every sign-up


def test_check_in_from_data_on_a_milestone_without_a_window_says_so(demo_workspace):
    from dataclasses import replace

    from growthlab.kpis import load_from_workspace, save_to_workspace

    db = open_workspace(demo_workspace)
    save_to_workspace(db, [replace(m, window_days=None) for m in load_from_workspace(db)])
    kr = next(db.query("SELECT id FROM key_results WHERE metric = 'value_realization'"))["id"]
    at = open_page("okrs")
    at.button(key=f"data-{kr}").click().run()
    shown = " ".join(m.value for m in at.markdown)
    assert "the milestone has no window" in shown and "0-day" not in shown


def toasts(at) -> list[str]:
    return [t.value for t in at.toast]


def kr_field(at, name: str, kr_id: int):
    """A key-result edit field, whatever version of the row the form was built from."""
    return next(w for w in at.number_input if w.key and w.key.startswith(f"e-{name}-{kr_id}"))


def save_kr(at, kr_id: int):
    return next(b for b in at.button if b.label == "Save key result"
                and b.form_id == f"edit-kr-{kr_id}").click().run()


def test_a_retry_after_a_stale_refusal_keeps_the_colleagues_change(demo_workspace):
    from growthlab import okrs

    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT * FROM key_results ORDER BY id LIMIT 1"))
    at = open_page("okrs")
    okrs.update_key_result(db, kr["id"], kr["version"], {"target": kr["target"] + 2},
                           actor="colleague")
    kr_field(at, "base", kr["id"]).set_value(kr["baseline"] - 1)
    save_kr(at, kr["id"])
    assert "changed by someone else since you opened it" in all_text(at)
    kr_field(at, "base", kr["id"]).set_value(kr["baseline"] - 1)  # the person tries again
    save_kr(at, kr["id"])
    assert not at.exception
    stored = next(db.query("SELECT * FROM key_results WHERE id = ?", [kr["id"]]))
    assert (stored["target"], stored["baseline"]) == (kr["target"] + 2, kr["baseline"] - 1)


def test_an_own_lifecycle_move_does_not_make_the_next_design_save_stale(demo_workspace):
    db = open_workspace(demo_workspace)
    idea = next(db.query("SELECT id FROM experiments WHERE status = 'idea' LIMIT 1"))["id"]
    at = open_page("experiment", id=str(idea))
    at.button(key="move-backlog").click().run()
    assert experiments.get(db, idea)["status"] == "backlog"
    widget(at.text_input, "Title").input("Renamed after the move")
    widget(at.button, "Save design").click().run()
    assert "changed by someone else" not in all_text(at)
    assert experiments.get(db, idea)["title"] == "Renamed after the move"


def test_a_move_uses_the_version_the_person_opened(demo_workspace):
    db = open_workspace(demo_workspace)
    idea = next(db.query("SELECT id, version FROM experiments WHERE status = 'idea' LIMIT 1"))
    at = open_page("experiment", id=str(idea["id"]))
    experiments.update(db, idea["id"], idea["version"], {"title": "Renamed by a colleague"},
                       actor="colleague")
    at.button(key="move-backlog").click().run()
    assert "changed by someone else since you opened it" in all_text(at)
    assert experiments.get(db, idea["id"])["status"] == "idea"


def test_the_rice_form_starts_from_the_stored_scores(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT * FROM experiments WHERE rice_impact = 2 AND rice_confidence "
                        "= 0.5 LIMIT 1"))
    at = open_page("experiment", id=str(exp["id"]))
    widget(at.number_input, "Effort (person-weeks)").set_value(exp["rice_effort"] + 1)
    widget(at.button, "Save RICE").click().run()
    stored = experiments.get(db, exp["id"])
    assert (stored["rice_impact"], stored["rice_confidence"], stored["rice_effort"]) == (
        2, 0.5, exp["rice_effort"] + 1)


def test_a_learning_retried_after_a_refusal_is_never_reported_saved_when_it_was_not(
        demo_workspace):
    from growthlab import learnings

    db = open_workspace(demo_workspace)
    item = learnings.get(db, next(db.query("SELECT id FROM learnings LIMIT 1"))["id"])
    at = open_page("learnings", learning=str(item["id"]))
    learnings.update(db, item["id"], item["version"], {"body": "The colleague's text."},
                     actor="colleague")
    widget(at.text_area, "Body (markdown)").input("My text.")
    widget(at.button, "Save changes").click().run()
    assert "changed by someone else since you opened it" in all_text(at)
    widget(at.button, "Save changes").click().run()
    body = learnings.get(db, item["id"])["body"]
    assert body == "My text." or "Learning updated" not in toasts(at)
    assert body == "The colleague's text."


def _experiment_with_results(workspace, variants, rows):
    from growthlab.stats import MetricRow

    db = open_workspace(workspace)
    exp = experiments.create(db, title="Holdout", variants=variants, primary_metric="primary")
    experiments.record_results(db, exp, [MetricRow(*r) for r in rows])
    return exp


def test_results_take_control_and_split_from_the_design(empty_workspace):
    exp = _experiment_with_results(empty_workspace, [("holdout", 20), ("treatment", 80)], [
        ("primary", "treatment", 8000, 1040), ("primary", "holdout", 2000, 200)])
    at = open_page("experiment", id=str(exp))
    text = all_text(at)
    assert "treatment raised primary by 30.0% against holdout" in text
    assert "Sample ratio ok, p = 1" in text and "Sample-ratio mismatch" not in text


def test_a_comparison_that_cannot_be_computed_leaves_the_others_on_the_page(empty_workspace):
    exp = _experiment_with_results(empty_workspace, None, [
        ("primary", "control", 1000, 100), ("primary", "treatment", 1000, 150),
        ("rare", "control", 1000, 0), ("rare", "treatment", 1000, 3)])
    at = open_page("experiment", id=str(exp))
    assert any("Treatment raised primary by 50.0%" in s.value for s in at.success)
    assert any("rare cannot be compared" in w.value and "converted 0% of its users" in w.value
               for w in at.warning)
    assert "nan" not in all_text(at).lower()
    assert len(at.get("plotly_chart")) == 1


def test_a_sample_ratio_mismatch_withholds_the_green_verdict(empty_workspace):
    exp = _experiment_with_results(empty_workspace, None, [
        ("primary", "control", 10000, 1000), ("primary", "treatment", 12000, 1500)])
    at = open_page("experiment", id=str(exp))
    assert not any("significant at" in s.value for s in at.success)
    assert any("cannot be trusted" in w.value for w in at.warning)
    at.segmented_control(key="method").set_value("sequential").run()
    assert "smallest alpha at which the always-valid interval excludes" in all_text(at)


def test_milestones_page_shows_matured_shares_and_who_is_still_inside_a_window(demo_workspace):
    from growthlab.kpis import funnel, load_from_workspace

    db = open_workspace(demo_workspace)
    truth = funnel(demo_workspace.parent / "events", load_from_workspace(db), by_cohort=True)
    at = open_page("milestones")
    deepest = truth.milestones[-1]
    caption = next(c.value for c in at.caption if "Shares count only users" in c.value)
    assert f"{truth.users - deepest['eligible']:,} of {truth.users:,} users" in caption
    table = at.dataframe[0].value
    assert list(table["share"]) == [m["share"] for m in truth.milestones]
    assert list(table["still_in_window"]) == [truth.users - m["eligible"]
                                              for m in truth.milestones]
    lines = at.get("plotly_chart")[1].proto.spec
    assert "windows still open" in lines  # the cohorts whose windows are open are marked


def test_a_design_save_keeps_the_key_result_when_two_share_a_statement(demo_workspace):
    from growthlab import okrs

    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT * FROM experiments WHERE key_result_id IS NOT NULL LIMIT 1"))
    kr = next(db.query("SELECT * FROM key_results WHERE id = ?", [exp["key_result_id"]]))
    okrs.create_key_result(db, kr["objective_id"], statement=kr["statement"], metric=kr["metric"],
                           baseline=kr["baseline"], target=kr["target"],
                           direction=kr["direction"], metric_kind=kr["metric_kind"],
                           start_date="2027-01-01", end_date="2027-03-31", actor="setup")
    at = open_page("experiment", id=str(exp["id"]))
    widget(at.text_input, "Title").input(exp["title"] + " (v2)")
    widget(at.button, "Save design").click().run()
    after = experiments.get(db, exp["id"])
    assert after["title"].endswith("(v2)") and after["key_result_id"] == exp["key_result_id"]


def test_a_design_save_keeps_a_metric_and_stage_that_are_no_longer_offered(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT * FROM experiments WHERE milestone_key IS NOT NULL LIMIT 1"))
    db.execute("UPDATE experiments SET primary_metric = 'legacy_metric_x', "
               "milestone_key = 'renamed_stage' WHERE id = ?", [exp["id"]])
    db.conn.commit()
    at = open_page("experiment", id=str(exp["id"]))
    assert "renamed_stage (not a current milestone)" in widget(at.selectbox, "Funnel stage").options
    widget(at.text_area, "Hypothesis").input("We believe X for Y will Z.")
    widget(at.button, "Save design").click().run()
    after = experiments.get(db, exp["id"])
    assert after["hypothesis"] == "We believe X for Y will Z."
    assert (after["primary_metric"], after["milestone_key"]) == ("legacy_metric_x",
                                                                 "renamed_stage")


def test_a_key_result_save_keeps_a_precise_stretch(demo_workspace):
    from growthlab import okrs

    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT * FROM key_results WHERE direction = 'increase' LIMIT 1"))
    stretch = kr["target"] + 1.23456789
    okrs.update_key_result(db, kr["id"], kr["version"], {"stretch": stretch}, actor="setup")
    at = open_page("okrs")
    base = next(w for w in at.number_input if w.key.startswith(f"e-base-{kr['id']}-"))
    base.set_value(kr["baseline"] - 0.5)
    next(b for b in at.button if b.label == "Save key result"
         and b.form_id == f"edit-kr-{kr['id']}").click().run()
    row = next(db.query("SELECT * FROM key_results WHERE id = ?", [kr["id"]]))
    assert row["baseline"] == kr["baseline"] - 0.5 and row["stretch"] == stretch


def test_a_refused_save_keeps_what_the_person_typed_on_screen(demo_workspace):
    from growthlab import learnings

    db = open_workspace(demo_workspace)
    item = learnings.get(db, next(db.query("SELECT id FROM learnings LIMIT 1"))["id"])
    at = open_page("learnings", learning=str(item["id"]))
    learnings.update(db, item["id"], item["version"], {"title": "Colleague's title"},
                     actor="colleague")
    mine = "Two paragraphs of careful analysis I typed for twenty minutes."
    widget(at.text_area, "Body (markdown)").input(mine)
    widget(at.button, "Save changes").click().run()
    assert "changed by someone else" in all_text(at)
    assert "Your version (not saved)" in all_text(at)
    assert any(mine in c.value for c in at.code)


def test_one_scan_of_the_events_serves_overview_okrs_check_in_and_milestones(demo_workspace,
                                                                             monkeypatch):
    from growthlab import kpis

    scans = []
    real = kpis.funnel
    monkeypatch.setattr(kpis, "funnel", lambda *a, **k: scans.append(a) or real(*a, **k))
    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id FROM key_results WHERE metric = 'value_realization'"))["id"]
    open_page("overview")
    at = open_page("okrs")
    at.button(key=f"data-{kr}").click().run()
    assert any("window had closed" in m.value for m in at.markdown)
    open_page("milestones")
    assert len(scans) == 1


def test_a_refused_checkin_keeps_what_was_typed_and_a_saved_one_clears_it(demo_workspace):
    from datetime import date

    db = open_workspace(demo_workspace)
    before = db["checkins"].count
    kr = next(db.query("SELECT id FROM key_results ORDER BY id LIMIT 1"))["id"]
    at = open_page("okrs")
    at.date_input(key=f"ci-date-{kr}").set_value(date(2027, 1, 5))
    at.text_input(key=f"ci-note-{kr}").input("Templates shipped")
    next(b for b in at.button if b.label == "Save check-in").click().run()
    assert any("after today" in e.value for e in at.error)
    assert db["checkins"].count == before
    assert at.text_input(key=f"ci-note-{kr}").value == "Templates shipped"
    at.date_input(key=f"ci-date-{kr}").set_value(date(2026, 11, 20))
    next(b for b in at.button if b.label == "Save check-in").click().run()
    assert db["checkins"].count == before + 1
    assert at.text_input(key=f"ci-note-{kr}").value == ""


def test_results_by_hand_open_on_a_toggle_and_save(demo_workspace):
    """The grid for results typed by hand shows only when asked; saving it as it opens (the
    stored rows) records them again as a new version, from a manual entry."""
    db = open_workspace(demo_workspace)
    won = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-005'"))["id"]
    before = experiments.result_columns(db, won)
    version = experiments.get(db, won)["results_version"]
    at = open_page("experiment", id=str(won))
    assert not [b for b in at.button if b.label == "Save these results"]
    at.toggle(key=f"by-hand-{won}").set_value(True).run()
    assert widget(at.button, "Save these results").disabled  # it replaces the upload
    assert any("saving this grid replaces them" in w.value for w in at.warning)
    widget(at.checkbox, "Replace them").check().run()
    widget(at.button, "Save these results").click().run()
    assert not at.exception and not at.error
    after = experiments.result_columns(db, won)
    assert [after.row(i) for i in range(len(after))] == [before.row(i)
                                                         for i in range(len(before))]
    assert {r["source"] for r in db.query("SELECT source FROM metric_results WHERE "
                                          "experiment_id = ?", [won])} == {"manual"}
    assert experiments.get(db, won)["results_version"] == version + 1


def test_computing_from_events_over_uploaded_results_asks_first(demo_workspace):
    """One click replaced EXP-004's uploaded results, a guardrail's among them, with the
    milestone KPIs: the uploaded rows were deleted without a word."""
    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-004'"))["id"]
    experiments.record_results(db, exp, experiments.results(db, exp), source="upload",
                               version=experiments.results_version(db, exp))
    before = db.execute("SELECT count(*) FROM metric_results WHERE experiment_id = ? AND "
                        "source = 'upload'", [exp]).fetchone()[0]
    assert before
    at = open_page("experiment", id=str(exp))
    button = widget(at.button, "Compute milestone KPIs from events")
    assert button.disabled
    warning = next(w.value for w in at.warning
                   if "are stored: computing from events replaces them" in w.value)
    assert f"{before:,} result rows from an upload" in warning, warning
    widget(at.checkbox, "Replace them").check().run()
    widget(at.button, "Compute milestone KPIs from events").click().run()
    assert not at.exception and not at.error
    assert {r["source"] for r in db.query("SELECT source FROM metric_results WHERE "
                                          "experiment_id = ?", [exp])} == {"events"}
    at = open_page("experiment", id=str(exp))
    assert not widget(at.button, "Compute milestone KPIs from events").disabled  # a refresh


def test_a_verdict_from_events_says_it_is_not_final_while_windows_are_open(demo_workspace):
    """EXP-004's users all joined within its 30-day value_realization window: 'Treatment
    raised Value realization by 33.5%' read as the effect on the milestone."""
    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-004'"))["id"]
    at = open_page("experiment", id=str(exp))
    widget(at.button, "Compute milestone KPIs from events").click().run()
    assert not at.exception and not at.error
    again = open_page("experiment", id=str(exp))  # kept with the results, for everyone
    said = [m.value for m in [*again.success, *again.error, *again.info, *again.warning]
            if "Value realization" in m.value]
    assert said and "not final: 100% of users are still inside their 30-day window" in said[0], \
        said


def test_results_from_events_need_the_key_the_assignments_use_and_say_where_to_set_it(
        demo_workspace):
    db = open_workspace(demo_workspace)
    exp = experiments.get(db, next(db.query("SELECT id FROM experiments WHERE key = "
                                            "'EXP-004'"))["id"])
    experiments.update(db, exp["id"], exp["version"], {"key": "search_ranking_v2"})
    at = open_page("experiment", id=str(exp["id"]))
    widget(at.button, "Compute milestone KPIs from events").click().run()
    error = next(e.value for e in at.error if "names no experiment" in e.value)
    assert "'search_ranking_v2'" in error and "EXP-004" in error and "Key" in error
    assert str(demo_workspace.parent) not in error
    widget(at.text_input, "Key").input("EXP-004")
    widget(at.button, "Save design").click().run()
    assert experiments.get(db, exp["id"])["key"] == "EXP-004"
    widget(at.button, "Compute milestone KPIs from events").click().run()
    assert not at.error and not at.exception
    assert db.execute("SELECT count(*) FROM metric_results WHERE experiment_id = ?",
                      [exp["id"]]).fetchone()[0] > 0


def test_a_refused_restore_names_the_uploaded_file_as_the_person_named_it(demo_workspace):
    at = open_page("settings")
    at.file_uploader(key="restore-upload").upload("bad_events.zip", b"PK\x03\x04 not really").run()
    widget(at.button, "Check and restore").click().run()
    error = next(e.value for e in at.error if "bad_events.zip" in e.value)
    assert error.startswith("bad_events.zip: "), error


def staggered_rollout(workspace, milestones) -> int:
    """Treatment starts 15 days after control; both arms convert 40%, 12 days after
    assignment; the data ends on day 35. Returns the experiment's id."""
    from datetime import datetime, timedelta

    from growthlab.db import set_setting
    from growthlab.kpis import save_to_workspace

    folder = workspace.parent
    events, assignments = ["user_id,event,timestamp"], ["user_id,experiment,variant,assigned_at"]
    day0 = datetime(2026, 1, 1, 10)
    for i in range(3000):
        variant, day = ("control", i // 50) if i < 1500 else ("treatment", 15 + (i - 1500) // 100)
        when = day0 + timedelta(days=day)
        assignments.append(f"u{i},ramp,{variant},{when:%Y-%m-%dT%H:%M:%S}")
        events.append(f"u{i},open,{when:%Y-%m-%dT%H:%M:%S}")
        if i % 5 in (0, 3):
            events.append(f"u{i},export,{when + timedelta(days=12):%Y-%m-%dT%H:%M:%S}")
    events = events[:1] + [e for e in events[1:] if e[-19:] < "2026-02-05"]
    events.append("z,open,2026-02-05T00:00:00")  # the data ends on day 35
    (folder / "ramp-events.csv").write_text("\n".join(events) + "\n")
    (folder / "ramp-assignments.csv").write_text("\n".join(assignments) + "\n")
    db = open_workspace(workspace)
    set_setting(db, "events_path", "ramp-events.csv")
    set_setting(db, "assignments_path", "ramp-assignments.csv")
    save_to_workspace(db, milestones)
    return experiments.create(db, title="Ramp", key="ramp", primary_metric="exported")


def test_results_from_events_of_a_staggered_rollout_leave_out_users_still_in_their_window(
        demo_workspace):
    """Treatment starts 15 days after control and both arms convert 40%, 12 days after
    assignment: counting open windows as not reached puts treatment at 21% against 31%. The
    page says so and counts only users whose window has closed, as the CLI's
    --exclude-in-progress does."""
    from growthlab.kpis import Milestone, experiment_metrics
    from growthlab.stats import MetricRow

    folder = demo_workspace.parent
    milestones = [Milestone("exported", "Exported", "Evaluation", "count(export) >= 1", 14)]
    exp = staggered_rollout(demo_workspace, milestones)
    db = open_workspace(demo_workspace)
    at = open_page("experiment", id=str(exp))
    widget(at.button, "Compute milestone KPIs from events").click().run()
    assert not at.exception
    warning = next(w.value for w in at.warning if "staggered" in w.value)
    assert "exported" in warning and "left out" in warning
    stored = {r["variant"]: (r["users"], r["conversions"]) for r in db.query(
        "SELECT variant, users, conversions FROM metric_results WHERE experiment_id = ?",
        [exp])}
    matured = experiment_metrics(folder / "ramp-events.csv", folder / "ramp-assignments.csv",
                                 milestones, "ramp", exclude_in_progress=True)
    assert stored == {r.variant: (r.users, r.conversions) for r in matured.rows}
    assert stored == {"control": (1050, 420), "treatment": (600, 240)}  # 40% each
    again = open_page("experiment", id=str(exp))  # a colleague, a day later
    assert any("staggered" in w.value for w in again.warning)
    # The sample ratio is about who was assigned (1,500 each), not who is counted.
    assert not any("Sample-ratio mismatch" in e.value for e in [*at.error, *again.error])
    assert any("Computed from events up to 2026-02-05" in c.value and "left out" in c.value
               for c in again.caption), [c.value for c in again.caption]
    experiments.record_results(db, exp, [MetricRow("exported", "control", 10, 5),
                                         MetricRow("exported", "treatment", 10, 6)],
                               version=experiments.get(db, exp)["results_version"])
    typed = open_page("experiment", id=str(exp))  # results from elsewhere: no such notes
    assert not any("staggered" in w.value for w in typed.warning)
    assert not any("Computed from events" in c.value for c in typed.caption)


def test_the_days_an_experiment_ran_can_be_corrected_on_its_page(demo_workspace):
    """Moved to running days after assignment began: the squad sets the real start, and the
    programme review and progress count from it."""
    from datetime import date

    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT id, started_at FROM experiments WHERE status = 'running' "
                        "ORDER BY id"))
    at = open_page("experiment", id=str(exp["id"]))
    at.date_input(key=f"started-{exp['id']}").set_value(date(2026, 10, 1))
    widget(at.button, "Save dates").click().run()
    assert not at.exception and not at.error
    assert experiments.get(db, exp["id"])["started_at"].startswith("2026-10-01")
    at = open_page("experiment", id=str(exp["id"]))
    assert "running 2026-10-01" in " ".join(c.value for c in at.caption)


def test_an_assignments_upload_counts_users_per_experiment_not_their_sum(demo_workspace):
    """Two experiments on the same two users are 2 users, not 4."""
    at = open_page("settings")
    at.file_uploader(key="assignments-upload").upload(
        "assign.csv", b"user_id,experiment,variant,assigned_at\n"
                      b"u1,a,control,2026-11-01\nu2,a,treatment,2026-11-01\n"
                      b"u1,b,control,2026-11-02\nu2,b,treatment,2026-11-02\n").run()
    widget(at.button, "Validate and use these assignments").click().run()
    said = next(s.value for s in at.success if "assign.csv" in s.value)
    assert "4 users" not in said and "a (2 users), b (2 users)" in said, said


def test_an_experiment_stamped_after_today_still_opens(demo_workspace):
    """Stamps are UTC days: west of UTC in the evening (or on a pinned day before the stamp)
    the start is after today's date, and the date picker must still take it."""
    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT id, version FROM experiments WHERE status = 'running' "
                        "ORDER BY id"))
    db.execute("UPDATE experiments SET started_at = '2026-11-25T01:30:00+00:00' WHERE id = ?",
               [exp["id"]])  # the tests' today is 2026-11-24
    db.conn.commit()
    at = open_page("experiment", id=str(exp["id"]))
    assert at.date_input(key=f"started-{exp['id']}").value.isoformat() == "2026-11-25"


def test_results_from_events_say_which_milestones_were_left_out(demo_workspace):
    """A 30-day window no treatment user has finished yet: that milestone cannot be compared,
    and the page says so (as the CLI does) instead of letting it vanish."""
    from growthlab.kpis import Milestone

    exp = staggered_rollout(demo_workspace, [
        Milestone("exported", "Exported", "Evaluation", "count(export) >= 1", 14),
        Milestone("exported_late", "Exported late", "Evaluation", "count(export) >= 1", 30)])
    at = open_page("experiment", id=str(exp))
    widget(at.button, "Compute milestone KPIs from events").click().run()
    assert not at.exception
    again = open_page("experiment", id=str(exp))
    assert any("Left out: exported_late" in w.value for w in again.warning), \
        [w.value for w in again.warning]


def _analysing(workspace, rows, **design) -> int:
    from growthlab.stats import MetricRow

    db = open_workspace(workspace)
    exp = experiments.create(db, title="Fewer errors", **design)
    experiments.record_results(db, exp, [MetricRow(*r) for r in rows])
    for step in ("backlog", "running", "analysing"):
        experiments.move(db, exp, experiments.get(db, exp)["version"], step)
    return exp


def test_a_good_drop_of_a_lower_is_better_metric_is_green_and_pre_set_won(empty_workspace):
    exp = _analysing(empty_workspace, [("errors", "control", 10000, 1000),
                                       ("errors", "treatment", 10000, 864)],
                     primary_metric="errors")
    at = open_page("experiment", id=str(exp))
    assert any("lowered errors by 13.6%" in e.value for e in at.error)
    assert widget(at.selectbox, "Result").value == "lost"
    chosen = widget(at.multiselect, "Lower is better")
    assert "errors" in chosen.options and chosen.help
    chosen.set_value(["errors"])
    widget(at.button, "Save design").click().run()
    assert not at.exception
    assert widget(at.selectbox, "Result").value == "won"  # the pre-set follows the design
    db = open_workspace(empty_workspace)
    assert experiments.lower_is_better(experiments.get(db, exp)) == ["errors"]
    assert db.execute("SELECT count(*) FROM audit_log WHERE action = 'update' AND "
                      "detail LIKE '%lower_is_better%'").fetchone()[0] == 1
    at = open_page("experiment", id=str(exp))
    assert any("lowered errors (lower is better) by 13.6%" in s.value for s in at.success)
    assert not at.error
    assert widget(at.selectbox, "Result").value == "won"
    assert "**lower is better:** errors" in all_text(at)


def test_a_win_that_harms_a_guardrail_is_not_pre_set_won_and_says_why(empty_workspace):
    exp = _analysing(empty_workspace, [
        ("activation", "control", 10000, 1000), ("activation", "treatment", 10000, 1100),
        ("errors", "control", 10000, 1000), ("errors", "treatment", 10000, 1200)],
        primary_metric="activation", guardrail_metrics=["errors"], lower_is_better=["errors"])
    at = open_page("experiment", id=str(exp))
    assert widget(at.selectbox, "Result").value == "inconclusive"
    warning = next(w.value for w in at.warning if "guardrail got worse" in w.value)
    assert "raised errors (lower is better) by 20.0%" in warning
