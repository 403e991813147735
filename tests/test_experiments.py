"""Experiment lifecycle, decisions, prioritisation and programme review."""

import itertools
import statistics

import pytest

from growthlab import experiments, learnings
from growthlab.db import open_workspace
from growthlab.errors import InputError, StaleEditError, TransitionError
from growthlab.stats import MetricRow


@pytest.fixture
def db(tmp_path):
    return open_workspace(tmp_path / "w.db")


def walk(db, exp_id, *steps):
    for step in steps:
        experiments.move(db, exp_id, experiments.get(db, exp_id)["version"], step,
                         when=f"2026-10-{10 + len(step):02d}T09:00:00+00:00")


def test_lifecycle_moves_and_dates(db):
    exp = experiments.create(db, title="Export nudge")
    walk(db, exp, "backlog", "running", "analysing")
    row = experiments.get(db, exp)
    assert row["status"] == "analysing"
    assert row["backlog_at"] and row["started_at"] and row["ended_at"]


@pytest.mark.parametrize("path,to,reason", [
    ([], "running", "From idea it can go to backlog, archived"),
    (["backlog", "running"], "decided", "Deciding needs a result and a learning"),
    (["backlog", "running"], "idea", "From running it can go to analysing"),
    (["archived"], "backlog", "cannot go from archived to backlog"),
])
def test_invalid_transitions_are_refused_with_a_reason(db, path, to, reason):
    exp = experiments.create(db, title="x")
    walk(db, exp, *path)
    with pytest.raises(TransitionError, match=reason):
        experiments.move(db, exp, experiments.get(db, exp)["version"], to)


def test_deciding_requires_a_learning_and_records_everything(db):
    exp = experiments.create(db, title="Invite box", milestone_key="value_growth")
    walk(db, exp, "backlog", "running", "analysing")
    version = experiments.get(db, exp)["version"]
    with pytest.raises(InputError, match="deciding needs a learning"):
        experiments.decide(db, exp, version, result="won", decision="ship",
                           conclusion="Invites rose.", learning_title="", learning_body="")
    assert experiments.get(db, exp)["status"] == "analysing"
    learning = experiments.decide(
        db, exp, version, result="won", decision="ship", conclusion="Invites rose 12%.",
        learning_title="Invites from lists work", learning_body="One test, one audience.",
        observed_acquisition="positive")
    row = experiments.get(db, exp)
    assert (row["status"], row["result"], row["decision"]) == ("decided", "won", "ship")
    assert row["observed_acquisition"] == "positive"
    linked = learnings.get(db, learning)["experiments"]
    assert [(e["id"], e["relation"]) for e in linked] == [(exp, "supports")]
    assert learnings.search(db, "invites from lists")[0].id in (learning, exp)


def test_a_failed_decision_leaves_no_learning_behind(db):
    exp = experiments.create(db, title="x")
    walk(db, exp, "backlog", "running")  # not yet analysing
    with pytest.raises(TransitionError):
        experiments.decide(db, exp, experiments.get(db, exp)["version"], result="won",
                           decision="ship", conclusion="c", learning_title="t",
                           learning_body="b")
    assert db["learnings"].count == 0


def test_results_must_match_the_planned_variants(db):
    exp = experiments.create(db, title="x", variants=[("control", 1), ("b", 1)])
    with pytest.raises(InputError, match="variant\\(s\\) c are not planned"):
        experiments.record_results(db, exp, [MetricRow("m", "control", 100, 10),
                                             MetricRow("m", "c", 100, 12)])
    experiments.record_results(db, exp, [MetricRow("m", "control", 100, 10),
                                         MetricRow("m", "b", 100, 12)])
    assert [r.variant for r in experiments.results(db, exp)] == ["control", "b"]


def test_saving_results_from_elsewhere_says_what_it_replaces_and_a_refresh_does_not(db):
    """Computing milestone KPIs from events deleted an uploaded guardrail's results without a
    word: what new results would replace is said first, unless they come the same way."""
    exp = experiments.create(db, title="x", variants=[("control", 1), ("b", 1)])
    assert experiments.replacing(db, exp, "events") is None  # nothing stored yet
    experiments.record_results(db, exp, [
        MetricRow("activation", "control", 100, 10), MetricRow("activation", "b", 100, 12),
        MetricRow("searches", "control", 100, None, 300.0, 1500.0),
        MetricRow("searches", "b", 100, None, 320.0, 1600.0)], source="upload")
    said = experiments.replacing(db, exp, "events", "computing from events")
    assert said == ("4 result rows from an upload (activation, searches) are stored: "
                    "computing from events replaces them, and they are not kept"), said
    assert experiments.replacing(db, exp, "upload") is None  # a new file of the same kind


def test_results_naming_another_experiment_are_refused_and_nothing_is_replaced(db):
    """A file exported for EXP-007 uploaded on EXP-001's page must not become its results."""
    mine = experiments.create(db, title="Mine")
    other = experiments.get(db, experiments.create(db, title="Theirs"))["key"]
    key = experiments.get(db, mine)["key"]
    kept = [MetricRow("m", "control", 100, 10), MetricRow("m", "treatment", 100, 12)]
    experiments.record_results(db, mine, kept)
    for named in ([other, other], [key, other]):
        rows = [MetricRow("m", v, 100, 20, experiment=e)
                for v, e in zip(("control", "treatment"), named, strict=True)]
        with pytest.raises(InputError, match=f"{other}.*not {key}") as refused:
            experiments.record_results(db, mine, rows, version=1)
        assert refused.value.field == "experiment"
        assert experiments.results(db, mine) == [
            MetricRow(**{**r.__dict__, "experiment": key}) for r in kept]
    experiments.record_results(db, mine, [MetricRow("m", v, 100, 30, experiment=e) for v, e in
                                          (("control", f" {key.lower()} "), ("treatment", ""))],
                               version=1)
    assert [r.conversions for r in experiments.results(db, mine)] == [30, 30]


def test_ice_is_averaged_over_scorers_with_spread(db):
    exp = experiments.create(db, title="x")
    maya = experiments.set_ice(db, exp, "maya", 8, 5, 5)
    experiments.set_ice(db, exp, "tom", 4, 5, 5)
    experiments.set_ice(db, exp, "maya", 10, 5, 5, version=maya)  # replaces maya's old score
    score = experiments.ice(list(db.query("SELECT * FROM ice_scores")))
    assert (score.score, score.spread, score.scorers) == (17.5, 7.5, 2)
    alone = experiments.ice([{"impact": 8, "confidence": 5, "ease": 5}])
    assert (alone.score, alone.spread, alone.scorers) == (20.0, None, 1)  # no one to disagree
    with pytest.raises(InputError, match="impact"):
        experiments.set_ice(db, exp, "ana", 11, 5, 5)
    assert experiments.rice(1000, 2, 0.8, 4) == 400


def spread_over_every_mix(scores: list[tuple[int, int, int]]) -> float:
    """The spread of I x C x E / 10 over every way of taking one scorer's impact, one's
    confidence and one's ease, enumerated."""
    mixes = [i * c * e / 10 for i, c, e in itertools.product(*zip(*scores, strict=True))]
    return statistics.pstdev(mixes)


@pytest.mark.parametrize("scores", [
    [(4, 5, 6), (5, 8, 3)],  # the same product, 12, from different judgements (EXP-026)
    [(10, 5, 5), (4, 5, 5)],
    [(2, 2, 2), (8, 8, 8), (5, 9, 1)],
])
def test_ice_spread_is_the_scorers_disagreement_on_each_dimension(scores):
    score = experiments.ice([{"impact": i, "confidence": c, "ease": e} for i, c, e in scores])
    assert score.spread == pytest.approx(spread_over_every_mix(scores)) and score.spread > 1


def test_ice_spread_is_zero_only_when_scorers_agree_on_every_dimension():
    same = [{"impact": 4, "confidence": 5, "ease": 6}] * 3
    assert experiments.ice(same).spread == 0


def test_the_list_leaves_the_spread_blank_with_one_scorer(db):
    alone = experiments.create(db, title="Alone")
    pair = experiments.create(db, title="Pair")
    experiments.set_ice(db, alone, "maya", 8, 5, 5)
    experiments.set_ice(db, pair, "maya", 4, 5, 6)
    experiments.set_ice(db, pair, "tom", 5, 8, 3)
    shown = {r["title"]: r["ICE spread"] for r in experiments.list_rows(experiments.listing(db))}
    assert shown == {"Alone": "", "Pair": "6"}


def test_backlog_ranks_by_ice_and_filters_by_tags(db):
    low = experiments.create(db, title="Low", milestone_key="first_value")
    high = experiments.create(db, title="High", milestone_key="first_value")
    other = experiments.create(db, title="Other", milestone_key="interest")
    for exp, impact in ((low, 2), (high, 9), (other, 10)):
        experiments.set_ice(db, exp, "maya", impact, 5, 5)
    ranked = experiments.listing(db, milestone=["first_value"])
    assert [r["title"] for r in ranked] == ["High", "Low"]


def test_programme_review_counts(db):
    won = experiments.create(db, title="a")
    lost = experiments.create(db, title="b")
    for exp, result, decision in ((won, "won", "ship"), (lost, "lost", "abandon")):
        walk(db, exp, "backlog", "running", "analysing")
        experiments.decide(db, exp, experiments.get(db, exp)["version"], result=result,
                           decision=decision, conclusion="c", learning_title="t",
                           learning_body="b")
    review = experiments.programme_review(experiments.listing(db))
    assert (review["decided"], review["wins"], review["win_rate"]) == (2, 1, 0.5)
    assert review["weekly"][0]["started"] == 2


def test_programme_review_counts_decided_and_archived_as_the_board_does(db):
    for title, archive in (("kept", False), ("shelved", True)):
        exp = experiments.create(db, title=title)
        walk(db, exp, "backlog", "running", "analysing")
        experiments.decide(db, exp, experiments.get(db, exp)["version"], result="lost",
                           decision="abandon", conclusion="c", learning_title=title,
                           learning_body="b")
        if archive:
            walk(db, exp, "archived")
    walk(db, experiments.create(db, title="never run"), "archived")
    rows = experiments.listing(db)
    review = experiments.programme_review(rows)
    board = {s: sum(r["status"] == s for r in rows) for s in ("decided", "archived")}
    assert (review["decided"], review["archived"]) == (board["decided"], board["archived"])
    assert review["win_rate"] == 0  # both results count towards it


@pytest.mark.parametrize("srm,rows,expected", [
    (True, [], "invalid"),
    (False, [{"metric": "m", "significant": True, "estimate": 0.1}], "won"),
    (False, [{"metric": "m", "significant": True, "estimate": -0.1}], "lost"),
    (False, [{"metric": "m", "significant": False, "estimate": 0.1}], "inconclusive"),
    (False, [{"metric": "other", "significant": True, "estimate": 0.1}], None),
    (False, [{"metric": "m", "significant": False, "estimate": None,
              "error": {"code": "no_variance", "message": "b converted 0%"}}], None),
    (False, [{"metric": "m", "significant": False, "estimate": 0.1},
             {"metric": "m", "significant": False, "estimate": None,
              "error": {"code": "no_variance", "message": "c converted 0%"}}], None),
])
def test_suggested_result(srm, rows, expected):
    assert experiments.suggest_result(rows, srm, "m") == expected


def test_no_pre_set_result_says_why():
    failed = [{"metric": "m", "variant": "b", "significant": False, "estimate": None,
               "error": {"code": "no_variance", "message": "'b' converted 0% of its users"}}]
    assert "'b' converted 0% of its users" in experiments.verdict_help(failed, False, "m")
    assert "no primary metric" in experiments.verdict_help([], False, None)
    withheld = "The results have no rows for the control"
    assert withheld in experiments.verdict_help([], False, "m", withheld=withheld)
    assert experiments.verdict_help([{"metric": "m", "significant": True, "estimate": 0.1,
                                      "error": None}], False, "m").startswith("Pre-set")


def test_results_without_the_designs_control_are_saved_with_a_warning(db):
    exp = experiments.create(db, title="Three arms", variants=[
        ("control", 0.5), ("treatment_a", 0.25), ("treatment_b", 0.25)])
    rows = [MetricRow("m", "treatment_a", 1000, 100), MetricRow("m", "treatment_b", 1000, 120)]
    experiments.record_results(db, exp, rows)
    missing = experiments.missing_control(db, exp, ["treatment_a", "treatment_b"])
    assert "'control'" in missing and "treatment_a, treatment_b" in missing
    assert experiments.missing_control(db, exp, ["control", "treatment_b"]) is None
    assert experiments.design_control(db, exp) == "control"


def test_results_without_a_planned_treatment_arm_say_so(db):
    """A holdout planned at 10% with no results: it may have received nobody (assignment is
    broken) or its rows were left out; the sample-ratio check over the other arms cannot
    tell, so the page must."""
    exp = experiments.create(db, title="Three arms", variants=[
        ("control", 0.45), ("treatment", 0.45), ("holdout", 0.1)])
    said = experiments.missing_arms(db, exp, ["control", "treatment"])
    assert "holdout (10%)" in said and "no results" in said, said
    assert experiments.missing_arms(db, exp, ["control", "treatment", "holdout"]) is None
    assert experiments.missing_arms(db, exp, ["treatment", "holdout"]) is None  # the control's
    assert experiments.missing_arms(db, exp, []) is None  # no results at all


def test_hypothesis_template_check():
    assert experiments.check_hypothesis("We believe X for Y will Z, measured by First value.") \
        == []
    assert len(experiments.check_hypothesis("Make exports better")) == 4


def test_reopening_keeps_the_first_start_and_durations_stay_positive(db):
    exp = experiments.create(db, title="Reopened")
    for step, day in (("backlog", "01"), ("running", "02"), ("analysing", "20"),
                      ("running", "22")):
        experiments.move(db, exp, experiments.get(db, exp)["version"], step,
                         when=f"2026-10-{day}T09:00:00+00:00")
    row = experiments.get(db, exp)
    assert row["started_at"].startswith("2026-10-02") and row["ended_at"] is None
    experiments.move(db, exp, row["version"], "analysing", when="2026-10-30T09:00:00+00:00")
    row = experiments.get(db, exp)
    assert experiments.duration_days(row) == 28
    review = experiments.programme_review(experiments.listing(db))
    assert review["median_duration_days"] == 28


def test_a_record_ending_before_it_started_has_no_duration():
    row = {"started_at": "2026-10-22T09:00:00+00:00", "ended_at": "2026-10-20T09:00:00+00:00"}
    assert experiments.duration_days(row) is None


def test_results_are_saved_against_the_version_read(db):
    exp = experiments.create(db, title="x")
    rows = [MetricRow("m", "control", 100, 10), MetricRow("m", "treatment", 100, 12)]
    assert experiments.results_version(db, exp) == 0
    experiments.record_results(db, exp, rows, version=0, actor="alice")
    with pytest.raises(StaleEditError, match="changed by someone else"):
        experiments.record_results(db, exp, rows[:1] + [MetricRow("m", "treatment", 100, 50)],
                                   version=0, actor="bob")
    assert [r.conversions for r in experiments.results(db, exp)] == [10, 12]
    assert experiments.results_version(db, exp) == 1
    audited = db.execute("SELECT actor FROM audit_log WHERE action = 'record_results'")
    assert [r[0] for r in audited] == ["alice"]


def test_ice_scores_are_versioned_and_audited(db):
    exp = experiments.create(db, title="x")
    first = experiments.set_ice(db, exp, "maya", 8, 5, 5, actor="maya")
    with pytest.raises(StaleEditError):
        experiments.set_ice(db, exp, "maya", 2, 2, 2, actor="tom")  # did not see maya's score
    experiments.set_ice(db, exp, "maya", 9, 5, 5, version=first, actor="maya")
    with pytest.raises(StaleEditError):
        experiments.set_ice(db, exp, "maya", 3, 3, 3, version=first, actor="tom")
    assert [(s["impact"], s["version"]) for s in experiments.ice_scores(db, exp)] == [(9, 2)]
    audited = list(db.query("SELECT actor, entity, detail FROM audit_log "
                            "WHERE entity = 'ice_score'"))
    assert [a["actor"] for a in audited] == ["maya", "maya"]
    assert '"impact": 9' in audited[-1]["detail"]


def test_an_experiment_s_key_can_be_set_to_the_name_the_team_s_assignments_use(db):
    """A team's assignment exports name experiments their own way (onboarding_v2); the key
    GrowthLab gave (EXP-001) can be changed to it, once, uniquely, as plain text."""
    first = experiments.create(db, title="Onboarding v2")
    other = experiments.create(db, title="Pricing page")
    saved = experiments.update(db, first, 1, {"key": "  onboarding_v2 "})
    assert experiments.get(db, first)["key"] == "onboarding_v2" and saved["version"] == 2
    for taken, says in (("onboarding_v2", "already"), ("ONBOARDING_V2", "already"),
                        ("", "is empty"), ("=cmd()", "formula"), ("a\tb", "tab")):
        with pytest.raises(InputError, match=says) as err:
            experiments.update(db, other, 1, {"key": taken})
        assert err.value.field == "key"
    assert experiments.get(db, other)["key"] == "EXP-002"


def test_a_renamed_experiment_s_number_is_never_given_again(db):
    first = experiments.create(db, title="Onboarding v2")
    experiments.update(db, first, 1, {"key": "onboarding_v2"})
    second = experiments.create(db, title="Pricing page")
    assert experiments.get(db, second)["key"] == "EXP-002"


def test_when_an_experiment_ran_can_be_corrected_within_reason(db, monkeypatch):
    """'Move to running' is often clicked days after assignment began (or for an experiment
    logged after the fact): the start and end can be set to the days it really ran."""
    from datetime import date

    monkeypatch.setenv("GROWTHLAB_TODAY", "2026-11-29")
    exp = experiments.create(db, title="Checklist")
    walk(db, exp, "backlog", "running")

    def dates(**changes):
        return experiments.set_dates(db, exp, experiments.get(db, exp)["version"], **changes)

    with pytest.raises(InputError, match="has not ended"):
        dates(ended=date(2026, 11, 20))
    row = dates(started=date(2026, 11, 2))
    assert row["started_at"].startswith("2026-11-02")
    experiments.move(db, exp, row["version"], "analysing")
    row = dates(ended=date(2026, 11, 22))
    assert row["ended_at"].startswith("2026-11-22")
    with pytest.raises(InputError, match="before it started"):
        dates(started=date(2026, 11, 23))
    with pytest.raises(InputError, match="after today"):
        dates(ended=date(2026, 12, 1))
    assert experiments.get(db, exp)["started_at"].startswith("2026-11-02")
    assert experiments.duration_days(experiments.get(db, exp)) == 20


def test_lifecycle_stamps_follow_a_pinned_today(db, monkeypatch):
    """A recorded demo pins today: moving an experiment then must not stamp the real date
    (a start after 'today' made its days run and the programme review wrong)."""
    monkeypatch.setenv("GROWTHLAB_TODAY", "2026-03-01")
    exp = experiments.create(db, title="Pinned")
    experiments.move(db, exp, experiments.get(db, exp)["version"], "backlog")
    experiments.move(db, exp, experiments.get(db, exp)["version"], "running")
    row = experiments.get(db, exp)
    assert row["created_at"].startswith("2026-03-01")
    assert row["started_at"].startswith("2026-03-01")


def errors_row(estimate: float, metric: str = "errors", significant: bool = True) -> dict:
    return {"metric": metric, "variant": "treatment", "control": "control", "users": 10000,
            "control_users": 10000, "mean": 0.1 * (1 + estimate), "control_mean": 0.1,
            "difference": "relative", "kind": "proportion", "estimate": estimate,
            "ci_low": estimate - 0.07, "ci_high": estimate + 0.07, "p_value": 0.0004,
            "adjusted_p_value": None, "chance_to_win": None, "risk": None,
            "significant": significant, "error": None}


@pytest.mark.parametrize("estimate,expected", [(-0.136, "won"), (0.136, "lost")])
def test_a_significant_drop_of_a_lower_is_better_primary_is_a_win(estimate, expected):
    rows = [errors_row(estimate)]
    assert experiments.suggest_result(rows, False, "errors", lower_is_better=["errors"]) \
        == expected
    assert experiments.suggest_result(rows, False, "errors") == \
        {"won": "lost", "lost": "won"}[expected]


@pytest.mark.parametrize("guardrail,lower,expected", [
    (errors_row(0.2), ["errors"], "inconclusive"),  # errors rose: harmed
    (errors_row(-0.2), ["errors"], "won"),  # errors fell: helped
    (errors_row(-0.2, "retention"), [], "inconclusive"),  # retention fell: harmed
    (errors_row(0.2, significant=False), ["errors"], "won"),  # not significant: no harm
])
def test_a_primary_win_with_a_harmed_guardrail_is_not_pre_set_won(guardrail, lower, expected):
    rows = [errors_row(0.1, "activation"), guardrail]
    assert experiments.suggest_result(rows, False, "activation", lower_is_better=lower,
                                      guardrails=[guardrail["metric"]]) == expected
    assert experiments.suggest_result(rows, False, "activation", lower_is_better=lower) == "won"


def test_only_a_guardrail_harmed_by_the_winning_variant_holds_the_win_back():
    other = {**errors_row(0.2), "variant": "b"}
    rows = [errors_row(0.1, "activation"), {**errors_row(0.0, "activation"), "variant": "b",
                                            "significant": False}, other]
    kwargs = {"lower_is_better": ["errors"], "guardrails": ["errors"]}
    assert experiments.suggest_result(rows, False, "activation", **kwargs) == "won"
    assert experiments.suggest_result([*rows, errors_row(0.2)], False, "activation",
                                      **kwargs) == "inconclusive"


def test_a_harmed_guardrail_is_named_with_how_much_it_moved():
    rows = [errors_row(0.1, "activation"), errors_row(0.2)]
    kwargs = {"lower_is_better": ["errors"], "guardrails": ["errors"]}
    harm = experiments.guardrail_harm(rows, False, "activation", names={"errors": "Errors"},
                                      alpha=0.1, **kwargs)
    assert harm.startswith("The primary metric won, but a guardrail got worse:")
    assert "Treatment raised Errors (lower is better) by 20.0%" in harm
    assert "significant at 90%" in harm and "inconclusive" in harm
    help_text = experiments.verdict_help(rows, False, "activation", **kwargs)
    assert "inconclusive" in help_text and "errors" in help_text and "20.0%" in help_text
    assert experiments.guardrail_harm([errors_row(0.1, "activation"), errors_row(-0.2)],
                                      False, "activation", **kwargs) is None
    lost = [errors_row(-0.1, "activation"), errors_row(0.2)]
    assert experiments.guardrail_harm(lost, False, "activation", **kwargs) is None


def test_lower_is_better_metrics_are_kept_with_the_design_checked_and_audited(db):
    exp_id = experiments.create(db, title="Fewer errors", primary_metric="errors",
                                lower_is_better=["errors"])
    exp = experiments.get(db, exp_id)
    assert experiments.lower_is_better(exp) == ["errors"]
    assert experiments.lower_is_better(experiments.get(db, experiments.create(
        db, title="Default"))) == []
    experiments.update(db, exp_id, exp["version"],
                       {"lower_is_better": '["errors", "refunds"]'}, actor="ana")
    assert experiments.lower_is_better(experiments.get(db, exp_id)) == ["errors", "refunds"]
    logged = db.execute("SELECT actor, detail FROM audit_log WHERE action = 'update' AND "
                        "entity = 'experiment' ORDER BY id DESC LIMIT 1").fetchone()
    assert logged[0] == "ana" and "refunds" in logged[1]
    with pytest.raises(InputError, match="lower_is_better"):
        experiments.update(db, exp_id, exp["version"] + 1, {"lower_is_better": "errors"})
