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
