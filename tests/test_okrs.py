"""OKR maths (progress, pace, status, forecast) and key-result lint."""

from datetime import date, timedelta

import pytest

from growthlab import okrs
from growthlab.db import open_workspace
from growthlab.errors import InputError

START, END = date(2026, 10, 1), date(2026, 12, 31)


@pytest.mark.parametrize("baseline,target,value,expected", [
    (10, 20, 15, 0.5), (10, 20, 10, 0.0), (10, 20, 25, 1.5), (10, 20, 5, -0.5),
    (6, 3, 4.5, 0.5), (6, 3, 3, 1.0), (6, 3, 7, -1 / 3),  # decreasing metric
])
def test_progress_increase_and_decrease(baseline, target, value, expected):
    assert okrs.progress(baseline, target, value) == pytest.approx(expected)


def test_progress_refuses_equal_baseline_and_target():
    with pytest.raises(InputError, match="target equals baseline"):
        okrs.progress(5, 5, 6)


@pytest.mark.parametrize("today,expected", [
    (START - timedelta(days=3), 0.0), (START, 0.0), (START + (END - START) / 2, 0.5),
    (END, 1.0), (END + timedelta(days=20), 1.0)])
def test_expected_progress_before_during_after(today, expected):
    assert okrs.expected_progress(START, END, today) == pytest.approx(expected, abs=0.01)


@pytest.mark.parametrize("actual,expected,status", [
    (0.5, 0.55, "on track"), (0.7, 0.5, "on track"), (0.3, 0.5, "at risk"),
    (0.2, 0.5, "off track"), (0.0, 0.0, "on track")])
def test_status_thresholds(actual, expected, status):
    assert okrs.status(actual, expected) == status


def test_forecast_is_a_least_squares_line():
    points = [(START, 10.0), (START + timedelta(days=10), 12.0), (START + timedelta(days=20),
                                                                  14.0)]
    assert okrs.forecast(points, START + timedelta(days=40)) == pytest.approx(18.0)
    assert okrs.forecast(points[:1], END) is None


def test_key_result_view_is_stale_and_forecasts_decreasing_metric():
    row = {"baseline": 6.0, "target": 3.0, "start_date": "2026-10-01", "end_date": "2026-12-31",
           "statement": "Cut days to first shared list from 6 to 3", "metric": "days",
           "metric_kind": "value_creation"}
    checkins = [{"date": "2026-10-05", "value": 6.0, "confidence": 5},
                {"date": "2026-10-19", "value": 5.0, "confidence": 6}]
    view = okrs.key_result_view(row, checkins, date(2026, 11, 20))
    assert view.stale and view.progress == pytest.approx(1 / 3)
    assert view.forecast_progress > 1  # falling 1 day per 2 weeks reaches 3 before the end
    fresh = okrs.key_result_view(row, checkins, date(2026, 10, 25))
    assert not fresh.stale


@pytest.mark.parametrize("statement,metric,kind,codes", [
    ("Launch offline mode by end of quarter", "offline_mode", "value_creation", ["output"]),
    ("Ship the new onboarding checklist", "checklist", "value_creation", ["output"]),
    ("Migrate all teams to the new editor", "editor", "value_creation", ["output"]),
    ("Raise activation from 13% to 20%", "first_value", "value_creation", []),
    ("Launch-driven: raise weekly exports from 2 to 3 per team", "exports", "value_creation",
     []),
    ("Grow expansion MRR from $42k to $60k", "expansion_mrr", "value_capture",
     ["value_capture"]),
    ("Reduce churn from 4% to 3%", "churn", "value_creation", ["value_capture"]),
    ("Raise conversion to paid from 2% to 3%", "paid", "value_creation", ["value_capture"]),
    ("Raise NPS from 30 to 45", "nps", "value_creation", ["nps"]),
    ("Launch the guided onboarding checklist to 100% of new teams", "checklist",
     "value_creation", ["output"]),
    ("Roll out offline mode to 50% of users", "offline", "value_creation", ["output"]),
    ("Migrate 80% of customers to the new billing page", "billing", "value_creation",
     ["output"]),
    ("Raise the share of teams exporting weekly to 40%", "exports", "value_creation", []),
    ("Reduce churned accounts from 5% to 3%", "accounts", "value_creation", ["value_capture"]),
    ("Reduce cancellations from 300 to 200 a month", "cancels", "value_creation",
     ["value_capture"]),
    ("Increase ACV from $8k to $10k", "acv", "value_creation", ["value_capture"]),
    ("Grow paid seats from 1,200 to 1,500", "seats", "value_creation", ["value_capture"]),
    ("Raise net revenue retention from 104% to 110%", "nrr", "value_creation",
     ["value_capture"]),
    ("Raise renewals from 80% to 85%", "renewals", "value_creation", ["value_capture"]),
    ("Cut customer effort score from 4 to 3", "ces", "value_creation", []),
])
def test_lint_rules_positive_and_negative(statement, metric, kind, codes):
    assert [w.code for w in okrs.lint_key_result(statement, metric, kind)] == codes


@pytest.mark.parametrize("statement,output", [
    ("Improve the onboarding by launching a checklist", True),  # a movement with no target
    ("Run 12 experiments", True),
    ("Publish 20 SEO articles", True),
    ("Write 8 help-centre guides this quarter", True),
    ("Get 500 teams to complete a weekly review", False),  # what users do: an outcome
    ("Have 40% of new users create a second list in their first week", False),
    ("Get 30% of trials to send a first invite", False),
    ("Keep p95 runtime under 2 s for 99% of queries", False),
    ("Raise activation from 13% to 20% by launching a checklist", False),
    ("Grow teams running a weekly report from 300 to 450", False),
])
def test_lint_tells_outputs_from_user_behaviour(statement, output):
    codes = [w.code for w in okrs.lint_key_result(statement, "m", "value_creation")]
    assert ("output" in codes) is output, codes


def test_key_result_entry_is_validated_and_audited(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    objective = okrs.create_objective(db, title="Activate teams", start_date=START,
                                      end_date=END)
    common = dict(statement="Raise First value from 30% to 40%", metric="first_value",
                  metric_kind="value_creation", start_date=START, end_date=END)
    with pytest.raises(InputError, match="target: target equals baseline"):
        okrs.create_key_result(db, objective, baseline=30, target=30, direction="increase",
                               **common)
    with pytest.raises(InputError, match="target must be above"):
        okrs.create_key_result(db, objective, baseline=30, target=20, direction="increase",
                               **common)
    kr = okrs.create_key_result(db, objective, baseline=30, target=40, direction="increase",
                                **common)
    with pytest.raises(InputError, match="confidence"):
        okrs.add_checkin(db, kr, day=START, value=31, confidence=11)
    with pytest.raises(InputError, match="date: .* is after today"):
        okrs.add_checkin(db, kr, day=date(2026, 11, 25), value=31, confidence=7)
    okrs.add_checkin(db, kr, day=START, value=31, confidence=7, author="maya")
    actions = [r["action"] + ":" + r["entity"] for r in db.query("SELECT * FROM audit_log")]
    assert actions == ["create:objective", "create:key_result", "create:checkin"]


def test_key_result_edits_are_validated_versioned_and_audited(tmp_path):
    from growthlab.errors import StaleEditError

    db = open_workspace(tmp_path / "w.db")
    objective = okrs.create_objective(db, title="Activate teams", start_date=START,
                                      end_date=END)
    kr = okrs.create_key_result(db, objective, statement="Raise First value from 30% to 40%",
                                metric="first_value", metric_kind="value_creation",
                                direction="increase", baseline=30, target=40,
                                start_date=START, end_date=END)
    with pytest.raises(InputError, match="target must be above"):
        okrs.update_key_result(db, kr, 1, {"target": 25})
    saved = okrs.update_key_result(db, kr, 1, {"target": 45, "end_date": date(2027, 1, 31)},
                                   actor="maya")
    assert (saved["target"], saved["end_date"], saved["version"]) == (45, "2027-01-31", 2)
    with pytest.raises(StaleEditError):
        okrs.update_key_result(db, kr, 1, {"target": 50}, actor="tom")
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["action"], last["entity"]) == ("maya", "update", "key result")


def _row(**overrides) -> dict:
    return {"baseline": 30.0, "target": 40.0, "start_date": "2026-10-01",
            "end_date": "2026-12-31", "statement": "Raise First value from 30% to 40%",
            "metric": "first_value", "metric_kind": "value_creation",
            "created_at": "2026-11-20T09:00:00+00:00", **overrides}


def test_a_new_key_result_starts_and_ends_with_its_objective():
    objective = {"start_date": "2026-10-01", "end_date": "2026-12-31"}
    assert okrs.key_result_period(objective) == (date(2026, 10, 1), date(2026, 12, 31))


def test_a_key_result_created_today_is_not_stale_and_has_no_current_value():
    view = okrs.key_result_view(_row(), [], date(2026, 11, 20))
    assert not view.stale
    assert view.current is None and view.status == okrs.NO_CHECKIN
    assert view.progress == 0 and view.forecast_value is None
    # two weeks after it was written, still without a check-in, it is stale
    assert okrs.key_result_view(_row(), [], date(2026, 12, 5)).stale
    assert not okrs.key_result_view(_row(), [], date(2026, 12, 4)).stale


def test_a_checked_in_key_result_reads_its_last_value_and_pace_status():
    checkins = [{"id": 1, "date": "2026-11-21", "value": 35.0, "confidence": 6}]
    view = okrs.key_result_view(_row(), checkins, date(2026, 11, 22))
    assert view.current == 35.0 and view.status in okrs.STATUSES and not view.stale


def test_the_checkin_log_is_newest_first_with_note_and_author():
    checkins = [{"id": 1, "date": "2026-10-05", "value": 30.5, "confidence": 5, "note": "first",
                 "author": "maya", "key_result_id": 3, "created_at": "x"},
                {"id": 3, "date": "2026-10-19", "value": 32.0, "confidence": 7, "note": "",
                 "author": "tom", "key_result_id": 3, "created_at": "x"},
                {"id": 2, "date": "2026-10-19", "value": 31.0, "confidence": 6,
                 "note": "same day, earlier", "author": "ana", "key_result_id": 3,
                 "created_at": "x"}]
    log = okrs.checkin_log(checkins)
    assert [c["author"] for c in log] == ["tom", "ana", "maya"]
    assert list(log[0]) == ["date", "value", "confidence", "note", "author"]
    assert log[2]["note"] == "first"
    assert [c["value"] for c in log] == ["32", "31", "30.5"]


def test_the_checkin_log_shows_a_value_read_from_data_with_four_figures():
    """Stored unrounded (40.1923076923077), it showed as '307692' in the narrow column."""
    log = okrs.checkin_log([{"id": 1, "date": "2026-11-20", "value": 40.1923076923077,
                             "confidence": 6, "note": "", "author": "a"}])
    assert log[0]["value"] == okrs.format_value(40.1923076923077) == "40.19"


def test_key_result_chart_shows_pace_check_ins_forecast_target_baseline_and_today():
    from growthlab.charts import key_result_history

    checkins = [{"id": 1, "date": "2026-11-21", "value": 35.0, "confidence": 6},
                {"id": 2, "date": "2026-11-28", "value": 36.5, "confidence": 6}]
    row = _row(unit="%")
    fig = key_result_history(okrs.key_result_view(row, checkins, date(2026, 12, 1)),
                             date(2026, 12, 1))
    assert [t.name for t in fig.data] == ["pace", "check-ins", "forecast"]
    assert list(fig.data[1].y) == [35.0, 36.5]
    lines = {(s.x0, s.x1, s.y0, s.y1, s.xref, s.yref) for s in fig.layout.shapes}
    assert lines == {(0, 1, row["target"], row["target"], "x domain", "y"),
                     (0, 1, row["baseline"], row["baseline"], "x domain", "y"),
                     ("2026-12-01", "2026-12-01", 0, 1, "x", "y domain")}
    assert {(a.text, a.y) for a in fig.layout.annotations} == {
        ("target", row["target"]), ("baseline", row["baseline"])}


def share_workspace(tmp_path, unit="share", baseline=0.115, target=0.125):
    db = open_workspace(tmp_path / "w.db")
    objective = okrs.create_objective(db, title="Activate teams", start_date=START,
                                      end_date=END)
    kr = okrs.create_key_result(db, objective, statement="Raise Value realization",
                                metric="value_realization", metric_kind="value_creation",
                                direction="increase" if target > baseline else "decrease",
                                unit=unit, baseline=baseline,
                                target=target, start_date=START, end_date=END)
    return db, kr


def view_of(db, kr, today=date(2026, 11, 24)):
    return next(v for o in okrs.overview(db, today) for v in o.key_results if v.row["id"] == kr)


def test_a_checkin_from_data_stores_the_share_unrounded_so_its_status_stands(tmp_path):
    """0.1192 rounded to 0.12 moved progress from 42% (off track) to 50% (at risk)."""
    db, kr = share_workspace(tmp_path)
    preview = okrs.DataCheckin(value=0.1192, share=0.1192, users=30_178,
                               signups_from=date(2026, 9, 28), signups_to=date(2026, 11, 16),
                               data_end="2026-11-23T23:00:00")
    okrs.checkin_from_data(db, view_of(db, kr), preview, today=date(2026, 11, 24),
                           author="vp")
    stored = next(db.query("SELECT value FROM checkins WHERE key_result_id = ?", [kr]))
    assert stored["value"] == 0.1192
    view = view_of(db, kr, today=date(2026, 12, 2))  # pace 68%
    assert (round(view.progress, 2), view.status) == (0.42, "off track")


def test_a_checkin_from_data_keeps_a_confidence_of_zero(tmp_path):
    db, kr = share_workspace(tmp_path)
    okrs.add_checkin(db, kr, day="2026-11-01", value=0.116, confidence=0, author="vp")
    assert okrs.next_confidence(view_of(db, kr)) == 0
    preview = okrs.DataCheckin(0.117, 0.117, 100, date(2026, 10, 1), date(2026, 11, 1),
                               "2026-11-23")
    okrs.checkin_from_data(db, view_of(db, kr), preview, today=date(2026, 11, 24), author="vp")
    assert [c["confidence"] for c in db.query("SELECT confidence FROM checkins")] == [0, 0]


@pytest.mark.parametrize("horizon,said,unsaid", [
    (14, "whose 14-day window had closed by the data end (2026-11-23)", "no window"),
    (0, "the milestone has no window", "0-day"),
])
def test_a_checkin_from_data_says_which_users_it_counts(horizon, said, unsaid):
    preview = okrs.DataCheckin(0.117, 0.117, 1_200, date(2026, 10, 1), date(2026, 11, 1),
                               "2026-11-23T10:00:00")
    text = okrs.counted_users(preview, horizon)
    assert said in text and unsaid not in text
    assert text.startswith("of 1,200 users who signed up from 2026-10-01 to 2026-11-01")


def test_the_first_checkin_starts_at_a_middling_confidence(tmp_path):
    db, kr = share_workspace(tmp_path)
    assert okrs.next_confidence(view_of(db, kr)) == okrs.DEFAULT_CONFIDENCE == 5


@pytest.mark.parametrize("value,text", [
    (0.1192, "0.1192"), (0.115, "0.115"), (11.77, "11.77"), (36.5, "36.5"), (31.0, "31"),
    (0.0042, "0.0042"), (12345.6, "12,346"), (0.0, "0"), (-0.23, "-0.23"), (1e300, "1e+300")])
def test_a_value_is_shown_with_four_significant_figures(value, text):
    assert okrs.format_value(value) == text


def test_a_signed_value_reads_as_a_change():
    assert okrs.format_value(0.0042, signed=True) == "+0.0042"
    assert okrs.format_value(-0.23, signed=True) == "-0.23"


@pytest.mark.parametrize("day,message", [
    (date(2025, 10, 1), "date: 2025-10-01 is before the key result starts; date a check-in "
                        "from 2026-10-01 to 2026-11-24"),
    (date(2026, 9, 30), "date: 2026-09-30 is before the key result starts"),
    (date(2026, 11, 25), "date: 2026-11-25 is after today; date a check-in from 2026-10-01 "
                         "to 2026-11-24"),
])
def test_a_checkin_dated_outside_the_key_result_is_refused(tmp_path, day, message):
    db, kr = share_workspace(tmp_path)
    with pytest.raises(InputError) as refused:
        okrs.add_checkin(db, kr, day=day, value=0.12, confidence=5)
    assert str(refused.value).startswith(message)
    assert db["checkins"].count == 0


def test_a_key_result_that_has_not_started_takes_no_checkin_yet(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    objective = okrs.create_objective(db, title="Next quarter", start_date="2027-01-01",
                                      end_date="2027-03-31")
    kr = okrs.create_key_result(db, objective, statement="Raise First value",
                                metric="first_value", metric_kind="value_creation",
                                direction="increase", baseline=30, target=40,
                                start_date="2027-01-01", end_date="2027-03-31")
    with pytest.raises(InputError, match="date: the key result starts on 2027-01-01; check in "
                                         "from then"):
        okrs.add_checkin(db, kr, day=date(2026, 11, 24), value=31, confidence=5)


@pytest.mark.parametrize("unit,baseline,target,value,message", [
    ("share", 0.115, 0.125, 1.05, "value: 1.05 share is outside 0 to 1"),
    ("share", 0.115, 0.125, -0.1, "value: -0.1 share is outside 0 to 1"),
    ("%", 12, 15, 105, "value: 105 % is outside 0 to 100"),
    ("% of new sign-ups", 12, 15, 100.5, "value: 100.5 % of new sign-ups is outside 0 to 100"),
    ("", 0.115, 0.125, float("nan"), "value: nan is not a number"),
    ("", 0.115, 0.125, float("inf"), "value: inf is not a number"),
    ("", 0.115, 0.125, 1e300, "value: 1e+300 is far outside the plan"),
    ("", 1.0, 1.06, 105, "value: 105 is far outside the plan"),  # 105 typed for 1.05
    ("days", 6, 3, -2, "value: -2 days is below 0, which days cannot be"),
])
def test_an_impossible_checkin_value_is_refused(tmp_path, unit, baseline, target, value,
                                                 message):
    db, kr = share_workspace(tmp_path, unit, baseline, target)
    with pytest.raises(InputError) as refused:
        okrs.add_checkin(db, kr, day="2026-11-20", value=value, confidence=5)
    assert str(refused.value).startswith(message)
    assert db["checkins"].count == 0


def test_a_far_value_asks_to_check_it_and_says_what_to_do_if_it_is_right(tmp_path):
    db, kr = share_workspace(tmp_path, "", 1.0, 1.06)
    with pytest.raises(InputError) as refused:
        okrs.add_checkin(db, kr, day="2026-11-20", value=105, confidence=5)
    text = str(refused.value)
    assert "check the value" in text and "edit the key result" in text and "1.06" in text


@pytest.mark.parametrize("unit,baseline,target,value", [
    ("share", 0.1, 0.3, 0.0), ("share", 0.1, 0.3, 1.0), ("%", 10, 40, 100.0),
    ("%", 95, 110, 118.0),  # a percentage that may pass 100 (net revenue retention)
    ("", 1.0, 1.06, 1.3),  # 500% of the way: unusual, still possible
    ("days", 6, 3, 0.5),
    ("%", 3.0, 2.8, 4.1),  # churn up a point on a planned 0.2-point cut: bad news, recorded
    ("", 0.8, 1.4, 4.0),  # invites per team: a great week, five times the planned move
])
def test_a_possible_checkin_value_is_kept(tmp_path, unit, baseline, target, value):
    db, kr = share_workspace(tmp_path, unit, baseline, target)
    okrs.add_checkin(db, kr, day="2026-10-01", value=value, confidence=5)
    assert next(db.query("SELECT value FROM checkins"))["value"] == value


def test_moving_an_objective_moves_the_key_results_that_shared_its_dates(tmp_path):
    db, kr = share_workspace(tmp_path)
    objective = next(db.query("SELECT * FROM objectives"))
    own = okrs.create_key_result(db, objective["id"], statement="Cut days to value",
                                 metric="days", metric_kind="value_creation",
                                 direction="decrease", baseline=6, target=3,
                                 start_date="2026-11-01", end_date=END)
    okrs.update_objective(db, objective["id"], objective["version"],
                          {"start_date": date(2026, 10, 5), "end_date": date(2027, 1, 15)},
                          actor="vp")
    dates = {r["id"]: (r["start_date"], r["end_date"]) for r in db.query(
        "SELECT * FROM key_results")}
    assert dates == {kr: ("2026-10-05", "2027-01-15"), own: ("2026-11-01", "2027-01-15")}
    moved = [r["entity"] for r in db.query("SELECT * FROM audit_log WHERE action = 'update' "
                                           "AND actor = 'vp'")]
    assert sorted(moved) == ["key result", "key result", "objective"]


def test_a_forecast_past_what_a_percentage_can_reach_is_capped():
    row = _row(unit="%", baseline=60.0, target=90.0)
    checkins = [{"id": 1, "date": "2026-10-05", "value": 70.0, "confidence": 6},
                {"id": 2, "date": "2026-10-19", "value": 85.0, "confidence": 6}]
    view = okrs.key_result_view(row, checkins, date(2026, 10, 20))
    assert view.forecast_value == 100.0 and view.forecast_capped
    assert view.forecast_progress == pytest.approx(40 / 30)
    free = okrs.key_result_view(_row(unit="days", baseline=60.0, target=90.0), checkins,
                                date(2026, 10, 20))
    assert free.forecast_value > 100 and not free.forecast_capped


def test_every_key_result_is_counted_and_those_without_a_checkin_need_attention():
    checked = [{"id": 1, "date": "2026-11-21", "value": v, "confidence": 6} for v in (39,)]
    behind = [{"id": 2, "date": "2026-11-21", "value": 31.0, "confidence": 3}]
    views = [okrs.key_result_view(_row(statement=s), c, date(2026, 11, 22))
             for s, c in (("ahead", checked), ("behind", behind), ("waiting", []))]
    assert okrs.status_counts(views) == {"on track": 1, "at risk": 0, "off track": 1,
                                         okrs.NO_CHECKIN: 1}
    assert [v.row["statement"] for v in okrs.needs_attention(views)] == ["behind", "waiting"]


def bar_labels(fig) -> list[tuple[str, float, str]]:
    """Every label the progress chart draws: (text, where it starts, how it is placed)."""
    bars, *others = fig.data
    shown = [(t, x, p) for t, x, p in zip(bars.text, bars.x, bars.textposition, strict=True)
             if p != "none"]
    return shown + [(t, x, p) for trace in others if trace.mode == "text"
                    for t, x, p in zip(trace.text, trace.x, [trace.textposition] * len(trace.x),
                                       strict=True)]


def test_a_bar_too_short_for_its_label_is_labelled_right_of_zero_inside_the_chart():
    """-8% drew its label left of the bar, outside the axis: it read 'rack'."""
    from growthlab.charts import progress_bars

    ahead = [{"id": 1, "date": "2026-11-21", "value": 37.5, "confidence": 6}]
    behind = [{"id": 2, "date": "2026-11-21", "value": 29.2, "confidence": 3}]
    views = [okrs.key_result_view(_row(statement=s), c, date(2026, 11, 22))
             for s, c in (("ahead", ahead), ("behind", behind), ("waiting", []))]
    labels = {text: (x, place) for text, x, place in bar_labels(progress_bars(views))}
    assert labels == {"75% · on track": (0.75, "inside"),
                      "-8% · off track": (0, "middle right"),
                      "no check-in yet": (0, "middle right")}


def test_date_ticks_fit_on_one_line():
    """Plotly's default date ticks put the year on a second line, cut off as 'Oct 42026'."""
    from growthlab.charts import confidence_trend, key_result_history

    checkins = [{"id": 1, "date": "2026-11-21", "value": 35.0, "confidence": 6}]
    view = okrs.key_result_view(_row(unit="%"), checkins, date(2026, 12, 1))
    for fig in (key_result_history(view, date(2026, 12, 1)), confidence_trend([view])):
        assert fig.layout.xaxis.tickformat == "%b %-d"
        assert fig.layout.xaxis.hoverformat == "%Y-%m-%d"


def test_moving_an_objective_past_a_key_result_s_own_end_names_that_key_result(tmp_path):
    db, kr = share_workspace(tmp_path)
    objective = next(db.query("SELECT * FROM objectives"))
    row = next(db.query("SELECT * FROM key_results WHERE id = ?", [kr]))
    okrs.update_key_result(db, kr, row["version"], {"end_date": "2026-10-31"})
    with pytest.raises(InputError) as refused:
        okrs.update_objective(db, objective["id"], objective["version"],
                              {"start_date": date(2026, 11, 15), "end_date": date(2027, 2, 15)})
    assert f"key result {row['statement']!r}" in str(refused.value)
    assert "2026-10-31" in str(refused.value)
    assert next(db.query("SELECT * FROM objectives"))["start_date"] == objective["start_date"]


def days_workspace(tmp_path):
    """The tester's key result: median days to a first shared list, 6 -> 3."""
    db, kr = share_workspace(tmp_path, "days", 6.0, 3.0)
    first = okrs.add_checkin(db, kr, day="2026-10-15", value=5.0, confidence=6, author="maya")
    typo = okrs.add_checkin(db, kr, day="2026-11-12", value=42.0, confidence=7, author="maya",
                            note="Templates helped")
    return db, kr, first, typo


def checkin(db, checkin_id):
    return next(db.query("SELECT * FROM checkins WHERE id = ?", [checkin_id]), None)


def test_a_mistyped_checkin_is_corrected_and_progress_pace_and_forecast_follow(tmp_path):
    """42 days typed for 4.2: progress -1200%, off track, and a forecast that kept it."""
    db, kr, _, typo = days_workspace(tmp_path)
    assert round(view_of(db, kr).progress, 2) == -12.0
    saved = okrs.update_checkin(db, typo, 1, {"value": 4.2, "note": "Templates helped a lot"},
                                actor="vp")
    assert (saved["value"], saved["note"], saved["confidence"], saved["version"]) == (
        4.2, "Templates helped a lot", 7, 2)
    view = view_of(db, kr)
    assert view.current == 4.2 and view.progress == pytest.approx(0.6)
    assert view.status == "on track"
    expected = okrs.forecast([(date(2026, 10, 15), 5.0), (date(2026, 11, 12), 4.2)], END)
    assert view.forecast_value == pytest.approx(expected)
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["action"], last["entity"], last["entity_id"]) == (
        "vp", "update", "check-in", typo)
    assert '"value": 4.2' in last["detail"]


def test_a_correction_against_a_changed_checkin_is_refused(tmp_path):
    from growthlab.errors import StaleEditError

    db, kr, _, typo = days_workspace(tmp_path)
    okrs.update_checkin(db, typo, 1, {"value": 4.2}, actor="maya")
    with pytest.raises(StaleEditError, match="check-in was changed by someone else"):
        okrs.update_checkin(db, typo, 1, {"value": 4.3}, actor="tom")
    assert checkin(db, typo)["value"] == 4.2


@pytest.mark.parametrize("changes,message", [
    ({"confidence": 11}, "confidence: must be between 0 and 10"),
    ({"value": -1.0}, "value: -1 days is below 0"),
    ({"value": float("nan")}, "value: nan is not a number"),
    ({"value": 4.0, "confidence": 12}, "confidence: must be between 0 and 10"),
    ({"date": "2026-11-13"}, "date: only a check-in's value, confidence and note can be"),
])
def test_a_correction_is_checked_as_a_checkin_and_nothing_is_half_written(tmp_path, changes,
                                                                           message):
    from growthlab.errors import GrowthLabError

    db, kr, _, typo = days_workspace(tmp_path)
    before, audited = checkin(db, typo), db["audit_log"].count
    with pytest.raises(GrowthLabError) as refused:
        okrs.update_checkin(db, typo, 1, changes, actor="vp")
    assert str(refused.value).startswith(message)
    assert checkin(db, typo) == before and db["audit_log"].count == audited


def test_a_checkin_is_removed_audited_with_what_it_said_and_the_view_follows(tmp_path):
    db, kr, first, typo = days_workspace(tmp_path)
    okrs.remove_checkin(db, typo, 1, actor="vp")
    assert checkin(db, typo) is None
    view = view_of(db, kr)
    assert view.current == 5.0 and view.forecast_value is None  # one point: no trend
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["action"], last["entity"], last["entity_id"]) == (
        "vp", "delete", "check-in", typo)
    assert '"value": 42.0' in last["detail"] and "2026-11-12" in last["detail"]
    assert checkin(db, first)["value"] == 5.0


def test_removing_a_checkin_someone_corrected_meanwhile_is_refused(tmp_path):
    from growthlab.errors import GrowthLabError, StaleEditError

    db, kr, _, typo = days_workspace(tmp_path)
    okrs.update_checkin(db, typo, 1, {"value": 4.2}, actor="maya")
    with pytest.raises(StaleEditError):
        okrs.remove_checkin(db, typo, 1, actor="tom")
    assert checkin(db, typo)["value"] == 4.2
    okrs.remove_checkin(db, typo, 2, actor="tom")
    with pytest.raises(GrowthLabError, match="no longer exists"):
        okrs.remove_checkin(db, typo, 2, actor="tom")


@pytest.mark.parametrize("unit,baseline,target,value,said", [
    ("days", 6, 3, 42, "did you mean 4.2"),  # the decimal point slipped
    ("%", 36, 41, 3.976, "did you mean 39.76"),
    ("", 36, 41, 0.4019, "did you mean 40.19"),  # a share typed for a percentage
    ("days", 6, 3, 80, "did you mean 8"),
    ("", 0.8, 1.4, 9.0, "did you mean 0.9"),
    ("%", 12, 15, 1.3, "did you mean 13"),
    ("share", 0.115, 0.125, 0.011, "did you mean 0.11"),
    ("%", 3.0, 2.8, 9.0, "more than 10 times the planned move"),
])
def test_a_value_far_off_the_plan_is_questioned_before_saving(unit, baseline, target, value,
                                                              said):
    row = _row(unit=unit, baseline=float(baseline), target=float(target))
    warning = okrs.unlikely_value(row, value)
    assert said in warning and "check" in warning


@pytest.mark.parametrize("unit,baseline,target,value", [
    ("days", 6, 3, 4.2), ("days", 6, 3, 7.5), ("%", 3.0, 2.8, 4.1), ("", 0.8, 1.4, 4.0),
    ("%", 36, 41, 39.76), ("share", 0.115, 0.125, 0.11), ("%", 95, 110, 118.0),
    ("share", 0.05, 0.1, 0.0), ("", -10, 10, -35), ("share", 0.115, 0.125, 0.2),
])
def test_a_plausible_value_is_not_questioned(unit, baseline, target, value):
    assert okrs.unlikely_value(_row(unit=unit, baseline=float(baseline),
                                    target=float(target)), value) is None


def test_a_value_that_cannot_be_saved_is_refused_rather_than_questioned():
    with pytest.raises(InputError, match="value: 1e\\+300 is far outside the plan"):
        okrs.unlikely_value(_row(unit="", baseline=1.0, target=1.06), 1e300)


def test_a_key_result_s_metric_and_unit_are_edited_validated_and_audited(tmp_path):
    db, kr = share_workspace(tmp_path, "", 20.0, 30.0)
    with pytest.raises(InputError, match="metric: is empty"):
        okrs.update_key_result(db, kr, 1, {"metric": "  "})
    with pytest.raises(InputError) as refused:
        okrs.update_key_result(db, kr, 1, {"unit": "share"})
    assert "unit: a share runs from 0 to 1" in str(refused.value)
    assert "set the unit to %" in str(refused.value)
    saved = okrs.update_key_result(db, kr, 1, {"metric": "activated", "unit": " % "},
                                   actor="vp")
    assert (saved["metric"], saved["unit"], saved["version"]) == ("activated", "%", 2)
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["action"], last["entity"]) == ("update", "key result")
    assert '"metric": "activated"' in last["detail"] and '"unit": "%"' in last["detail"]


def test_the_metric_is_what_the_person_chose():
    assert okrs.chosen_metric("first_value", "") == "first_value"
    assert okrs.chosen_metric("first_value", "ignored unless custom") == "first_value"
    assert okrs.chosen_metric(okrs.CUSTOM_METRIC, " Invites per team ") == "Invites per team"


def test_no_metric_is_picked_for_the_person():
    with pytest.raises(InputError) as refused:
        okrs.chosen_metric(None, "")
    assert str(refused.value).startswith("metric: choose one: a milestone KPI")
    with pytest.raises(InputError) as refused:
        okrs.chosen_metric(okrs.CUSTOM_METRIC, "  ")
    assert str(refused.value).startswith("custom metric name: is empty")


@pytest.mark.parametrize("unit,baseline,target,said", [
    ("", 36.0, 41.0, "set the Unit to % under “Edit this key result”"),
    ("share", 36.0, 41.0, "set the Unit to % under “Edit this key result”"),
    ("%", 95.0, 120.0, "check in by hand"),
])
def test_a_share_is_not_read_onto_a_key_result_on_another_scale(unit, baseline, target, said):
    with pytest.raises(InputError) as refused:
        okrs.check_share_scale(_row(unit=unit, baseline=baseline, target=target))
    assert said in str(refused.value) and str(refused.value).startswith("unit: ")


@pytest.mark.parametrize("unit,baseline,target", [
    ("", 0.36, 0.41), ("share", 0.1, 0.2), ("%", 36.0, 41.0), ("% of sign-ups", 0.2, 0.3)])
def test_a_share_is_read_onto_a_key_result_on_its_scale(unit, baseline, target):
    okrs.check_share_scale(_row(unit=unit, baseline=baseline, target=target))


def test_a_share_is_never_written_onto_a_key_result_on_another_scale(tmp_path):
    """A blank unit on 36 -> 41 wrote 0.4019 from data: progress -712%."""
    db, kr = share_workspace(tmp_path, "", 36.0, 41.0)
    preview = okrs.DataCheckin(0.4019, 0.4019, 100, START, START, "2026-11-23")
    with pytest.raises(InputError, match="unit: "):
        okrs.checkin_from_data(db, view_of(db, kr), preview, today=date(2026, 11, 24),
                               author="vp")
    assert db["checkins"].count == 0


def test_a_unit_that_is_no_share_names_the_field_to_change():
    with pytest.raises(InputError) as refused:
        okrs.in_unit(0.4, "teams")
    assert "set the Unit to % under “Edit this key result”" in str(refused.value)


def test_moving_a_start_past_a_checkin_is_refused_naming_the_first_one(tmp_path):
    db, kr = share_workspace(tmp_path)
    okrs.add_checkin(db, kr, day="2026-10-05", value=0.116, confidence=5)
    okrs.add_checkin(db, kr, day="2026-10-20", value=0.118, confidence=5)
    objective = next(db.query("SELECT * FROM objectives"))
    with pytest.raises(InputError) as refused:
        okrs.update_objective(db, objective["id"], objective["version"],
                              {"start_date": date(2026, 10, 10)})
    text = str(refused.value)
    assert text.startswith("start_date: key result 'Raise Value realization' has a check-in "
                           "on 2026-10-05, before the new start 2026-10-10")
    assert "Correct or remove a check-in" in text
    assert next(db.query("SELECT * FROM objectives"))["start_date"] == "2026-10-01"
    assert next(db.query("SELECT start_date FROM key_results"))["start_date"] == "2026-10-01"
    with pytest.raises(InputError, match="has a check-in on 2026-10-05"):
        okrs.update_key_result(db, kr, 1, {"start_date": "2026-10-06"})
    saved = okrs.update_objective(db, objective["id"], objective["version"],
                                  {"start_date": date(2026, 10, 5)})
    assert saved["start_date"] == "2026-10-05"
    assert next(db.query("SELECT start_date FROM key_results"))["start_date"] == "2026-10-05"
