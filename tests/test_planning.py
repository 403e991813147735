"""Planning an experiment: power sized for the test the analysis runs (checked by simulating
experiments), where the planner starts, and deciding before the plan is reached."""

import math
from datetime import date

import numpy as np
import pytest

from growthlab import experiments, plans
from growthlab.db import open_workspace
from growthlab.errors import InputError, StatsError
from growthlab.kpis import Funnel
from growthlab.stats import MetricRow, Options, analyze, detectable_effect, plan

SIMULATIONS = 10_000  # the power estimate's standard error is 0.4 points


def simulated_power(baseline: float, lift: float, users: int, difference: str,
                    seed: int, treated_users: int | None = None, **options) -> float:
    """Share of simulated experiments (true relative lift `lift`) the product's own analysis
    (with `options`: method, alpha, n_star) calls significant in the right direction; the
    treatment arm has `treated_users` (else as many as the control)."""
    rng = np.random.default_rng(seed)
    treated_users = treated_users or users
    control = rng.binomial(users, baseline, SIMULATIONS)
    treatment = rng.binomial(treated_users, baseline * (1 + lift), SIMULATIONS)
    rows = [MetricRow(f"m{i}", variant, n, conversions)
            for i in range(SIMULATIONS)
            for variant, n, conversions in (("control", users, control[i]),
                                            ("treatment", treated_users, treatment[i]))]
    return right_way(rows, lift, Options(difference=difference, **options))


def right_way(rows: list[MetricRow], lift: float, options: Options) -> float:
    results = analyze(rows, options).results
    return float(np.mean([r["significant"] and np.sign(r["estimate"]) == np.sign(lift)
                          for r in results]))


def simulated_mean_power(mean: float, sd: float, lift: float, users: int, difference: str,
                         seed: int) -> float:
    """As `simulated_power` for a mean metric of normally distributed values: each arm's
    sample mean and variance are drawn from their exact distributions (normal and scaled
    chi-square, independent) and stored as the sum and sum of squares the analysis reads."""
    rng = np.random.default_rng(seed)
    rows = []
    for variant, truth in (("control", mean), ("treatment", mean * (1 + lift))):
        means = rng.normal(truth, sd / np.sqrt(users), SIMULATIONS)
        variances = sd**2 * rng.chisquare(users - 1, SIMULATIONS) / (users - 1)
        rows += [MetricRow(f"m{i}", variant, users, sum=users * m,
                           sum_squares=(users - 1) * v + users * m * m)
                 for i, (m, v) in enumerate(zip(means, variances, strict=True))]
    return right_way(rows, lift, Options(difference=difference))


@pytest.mark.parametrize("baseline,lift", [(0.09, 0.10), (0.30, 0.05), (0.02, 0.25)])
def test_a_plan_for_the_relative_lift_gets_its_power_in_the_analysis(baseline, lift):
    sized = plan(baseline, lift, relative=True, power=0.8)
    power = simulated_power(baseline, lift, sized.users_per_variant, "relative", seed=14)
    assert power == pytest.approx(0.80, abs=0.02)


def test_a_plan_for_the_absolute_difference_gets_its_power_in_the_analysis():
    baseline, lift = 0.09, 0.10
    sized = plan(baseline, baseline * lift, relative=False, power=0.8)
    power = simulated_power(baseline, lift, sized.users_per_variant, "absolute", seed=15)
    assert power == pytest.approx(0.80, abs=0.02)


@pytest.mark.parametrize("shares,relative", [((0.25, 0.75), True), ((0.8, 0.2), False),
                                             ((0.5, 0.5), True)])
def test_a_plan_for_an_unequal_split_gets_its_power_with_each_arm_s_share(shares, relative):
    """A design sending a quarter of the users to the control needs more users in all than
    an even split, and each arm gets its share of them."""
    baseline, lift = 0.09, 0.10
    sized = plan(baseline, lift if relative else baseline * lift, relative=relative,
                 shares=shares, daily_users=1000)
    control, treated = sized.users_per_arm
    assert control == pytest.approx(shares[0] * sized.total_users, abs=1)
    assert treated == pytest.approx(shares[1] * sized.total_users, abs=1)
    assert sized.days == pytest.approx(sized.total_users / 1000)
    even = plan(baseline, lift if relative else baseline * lift, relative=relative)
    assert sized.total_users >= even.total_users - 2
    power = simulated_power(baseline, lift, control, "relative" if relative else "absolute",
                            seed=16, treated_users=treated)
    assert power == pytest.approx(0.80, abs=0.02)


def test_detectable_effect_of_an_unequal_split_inverts_its_plan():
    sized = plan(0.2, 0.05, relative=True, shares=(0.25, 0.75))
    effect = detectable_effect(0.2, sized.total_users, relative=True, shares=(0.25, 0.75))
    assert effect == pytest.approx(0.05, rel=1e-3)


def test_the_relative_test_needs_more_users_than_the_absolute_one():
    relative = plan(0.09, 0.10, relative=True)
    absolute = plan(0.09, 0.009, relative=False)
    assert relative.users_per_variant > absolute.users_per_variant


@pytest.mark.parametrize("relative,mde", [(True, 0.05), (False, 0.01)])
def test_detectable_effect_inverts_the_plan(relative, mde):
    n = plan(0.2, mde, relative=relative).users_per_variant
    assert detectable_effect(0.2, n, relative=relative) == pytest.approx(mde, rel=1e-3)


@pytest.mark.parametrize("baseline,lift,n_star", [(0.57, 0.05, 5000.0), (0.2, 0.05, 5000.0),
                                                  (0.09, 0.1, 200_000.0)])
def test_a_sequential_plan_gets_its_power_from_the_sequential_test_read_at_its_end(
        baseline, lift, n_star):
    """The confidence sequence is wider than the fixed interval: a fixed-horizon plan gave
    the sequential test 39% power, not 80%."""
    sized = plan(baseline, lift, relative=True, alpha=0.025, method="sequential",
                 n_star=n_star)
    fixed = plan(baseline, lift, relative=True, alpha=0.025)
    assert sized.users_per_variant > 1.5 * fixed.users_per_variant
    assert sized.method == "sequential" and sized.n_star == n_star
    power = simulated_power(baseline, lift, sized.users_per_variant, "relative", seed=21,
                            method="sequential", alpha=0.025, n_star=n_star)
    assert power == pytest.approx(0.80, abs=0.02)
    assert detectable_effect(baseline, sized.users_per_variant, relative=True, alpha=0.025,
                             method="sequential", n_star=n_star) == pytest.approx(lift, rel=2e-3)


def test_a_sequential_plan_far_from_its_tuning_says_what_tuning_near_its_end_saves():
    """N* = 5,000 makes the sequence tightest at 5,000 users; a plan ending near 280,000
    needs about a sixth fewer users with N* set near its own end."""
    from growthlab.stats.power import tuned_to_its_end

    options = {"relative": True, "method": "sequential"}
    first = plan(0.1, 0.05, n_star=5000, **options)
    tuned = tuned_to_its_end(0.1, 0.05, n_star=5000, **options)
    assert tuned.total_users < 0.9 * first.total_users
    assert tuned == plan(0.1, 0.05, n_star=tuned.n_star, **options)
    assert abs(tuned.n_star - tuned.total_users) < 0.1 * tuned.total_users  # near its end
    assert tuned_to_its_end(0.1, 0.05, n_star=tuned.n_star, **options) is None  # tuned already
    assert tuned_to_its_end(0.1, 0.05, relative=True) is None  # not sequential


def test_the_n_star_a_plan_of_three_arms_suits_is_one_comparisons_users():
    """The sequence is read on a control and one arm: N* at all three arms' total needed
    377,688 users where N* at one comparison's needs fewer."""
    from growthlab.stats.power import tuned_to_its_end

    options = {"relative": True, "method": "sequential", "variants": 3}
    tuned = tuned_to_its_end(0.1, 0.05, n_star=5000, **options)
    compared = 2 * tuned.users_per_variant
    assert abs(tuned.n_star - compared) < 0.05 * compared
    at_total = plan(0.1, 0.05, n_star=float(tuned.total_users), **options)
    assert tuned.total_users < at_total.total_users


@pytest.mark.parametrize("baseline,lift", [(0.02, 2.0), (0.02, 3.0), (0.05, 1.0), (0.01, 1.0),
                                           (0.05, -0.8), (0.2, -0.5), (0.01, 0.5)])
def test_a_plan_for_a_large_relative_lift_gets_its_power_in_the_analysis(baseline, lift):
    """The first-order approximation under-powered large lifts (0.02 tripled: 63%; 0.05 down
    by 80%: 72%, with an arm often converting no one)."""
    sized = plan(baseline, lift, relative=True)
    power = simulated_power(baseline, lift, sized.users_per_variant, "relative", seed=22)
    assert power == pytest.approx(0.80, abs=0.02)
    found = detectable_effect(baseline, sized.users_per_variant, relative=True,
                              direction=np.sign(lift))
    # a rate cut to near 0 is detected less often (its arm often converts no one), so the
    # smallest detectable cut may be a little smaller than the planned one, never larger
    assert abs(found) <= abs(lift) * 1.001 and found == pytest.approx(lift, rel=0.05)


@pytest.mark.parametrize("baseline,mde", [(0.01, 0.02), (0.01, 0.05), (0.9, 0.09)])
def test_a_plan_for_a_large_absolute_difference_gets_its_power(baseline, mde):
    sized = plan(baseline, mde)
    power = simulated_power(baseline, mde / baseline, sized.users_per_variant, "absolute",
                            seed=23)
    assert power == pytest.approx(0.80, abs=0.02)


def test_a_plan_that_needs_more_users_than_anyone_has_is_refused():
    with pytest.raises(StatsError, match="too small to plan"):
        plan(0.1, 1e-8)


@pytest.mark.parametrize("lift,difference", [(0.05, "relative"), (-0.1, "relative"),
                                             (0.05, "absolute")])
def test_a_plan_for_a_mean_metric_gets_its_power_in_the_analysis(lift, difference):
    """Searches per user, mean 14 and standard deviation 10: about 3,200 users an arm for a
    5% lift, where a proportion plan said 58,912."""
    relative = difference == "relative"
    sized = plan(14.0, lift if relative else 14.0 * lift, relative=relative, sd=10.0)
    power = simulated_mean_power(14.0, 10.0, lift, sized.users_per_variant, difference,
                                 seed=24)
    assert power == pytest.approx(0.80, abs=0.02)


def test_a_mean_metric_plan_agrees_with_statsmodels():
    from statsmodels.stats.power import NormalIndPower, TTestIndPower

    sized = plan(14.0, 0.7, sd=10.0)
    for reference in (TTestIndPower(), NormalIndPower()):
        expected = reference.solve_power(effect_size=0.07, alpha=0.05, power=0.8, ratio=1)
        assert sized.users_per_variant == pytest.approx(expected, rel=3e-3)
    assert detectable_effect(14.0, sized.users_per_variant, sd=10.0) == pytest.approx(
        0.7, rel=2e-3)


def test_a_proportion_plan_agrees_with_statsmodels_for_a_small_difference():
    from statsmodels.stats.power import NormalIndPower

    sized = plan(0.3, 0.01)
    size = 0.01 / math.sqrt((0.3 * 0.7 + 0.31 * 0.69) / 2)
    expected = NormalIndPower().solve_power(effect_size=size, alpha=0.05, power=0.8)
    assert sized.users_per_variant == pytest.approx(expected, rel=3e-3)


# Where the planner starts, the plan saved on an experiment, and deciding before it is reached.

RESULTS = [MetricRow("value_realization", "control", 6000, 540),
           MetricRow("value_realization", "treatment", 6100, 610),
           MetricRow("searches", "control", 6000, sum=60_000.0, sum_squares=900_000.0),
           MetricRow("searches", "treatment", 6100, sum=61_000.0, sum_squares=910_000.0)]


def funnel_of(share: float, weekly_users: list[int], data_end: str) -> Funnel:
    cohorts = [{"cohort": f"2026-10-{5 + 7 * i:02d}", "users": n}
               for i, n in enumerate(weekly_users)]
    return Funnel(sum(weekly_users), data_end, [
        {"key": "value_realization", "name": "Value realization", "share": share}], None,
        cohorts)


def test_the_baseline_is_the_controls_rate_in_the_latest_results():
    start = plans.baseline(RESULTS, "value_realization", "control", None)
    assert start.value == 0.09 and "control" in start.source and "6,000" in start.source


def test_results_without_the_named_control_give_no_baseline_from_another_arm():
    rows = [MetricRow("value_realization", "treatment_a", 1000, 100),
            MetricRow("value_realization", "treatment_b", 1000, 120)]
    assert plans.baseline(rows, "value_realization", "control", None) is None
    start = plans.baseline(rows, "value_realization", "control",
                           funnel_of(0.093, [700], "2026-10-12"))
    assert start.value == 0.093 and "events" in start.source


def test_without_results_the_baseline_is_the_metrics_share_in_the_events():
    start = plans.baseline([], "value_realization", None, funnel_of(0.093, [700], "2026-10-12"))
    assert start.value == 0.093 and "events" in start.source
    assert plans.baseline([], "searches", None, None) is None  # a mean metric: no events


def test_a_mean_metric_starts_from_its_controls_mean_and_standard_deviation():
    start = plans.baseline(RESULTS, "searches", "control", None)
    assert start.value == 10.0 and start.sd == pytest.approx(math.sqrt(300_000 / 5999))
    assert "control's mean" in start.source and "6,000" in start.source


@pytest.mark.parametrize("rows,share", [
    ([MetricRow("problem", "control", 500, 500), MetricRow("problem", "treatment", 500, 499)],
     None),
    ([], 1.0), ([], 0.0)])
def test_a_rate_of_0_or_100_percent_is_no_baseline_to_plan_from(rows, share):
    events = None if share is None else Funnel(700, "2026-10-12", [
        {"key": "problem", "name": "Problem", "share": share}], None)
    assert plans.baseline(rows, "problem", "control", events) is None


def test_daily_traffic_is_the_experiments_own_else_new_users_in_the_events():
    own = plans.daily_traffic(RESULTS, "value_realization", "2026-11-01T10:00:00+00:00",
                              date(2026, 11, 11), None)
    assert own.value == 12_100 / 10 and "10 days" in own.source
    # the last week (starting 2026-10-26) is not complete at the data end: left out
    events = funnel_of(0.09, [700, 1400, 2100, 100], "2026-10-28T12:00:00")
    fresh = plans.daily_traffic([], None, None, date(2026, 11, 11), events)
    assert fresh.value == (700 + 1400 + 2100) / 21 and "3 complete weeks" in fresh.source


def _analysing(tmp_path, planned_users=None, planned_days=None):
    db = open_workspace(tmp_path / "w.db")
    exp = experiments.create(db, title="Export nudge", primary_metric="value_realization")
    experiments.record_results(db, exp, RESULTS)
    version = 1
    if planned_users:
        version = plans.save(db, exp, 1, planned_users, planned_days, actor="maya")["version"]
    for step, day in (("backlog", "2026-10-30"), ("running", "2026-11-01"),
                      ("analysing", "2026-11-11")):
        experiments.move(db, exp, version, step, when=f"{day}T10:00:00+00:00")
        version += 1
    return db, exp, version


def test_progress_against_the_plan_counts_users_and_days(tmp_path):
    db, exp, _ = _analysing(tmp_path, planned_users=30_250, planned_days=21)
    progress = plans.progress(experiments.get(db, exp), experiments.results(db, exp),
                              date(2026, 11, 12))
    assert (progress.users, progress.planned_users, progress.days, progress.planned_days) == (
        12_100, 30_250, 10, 21)
    assert progress.early
    assert progress.sentence() == ("12,100 of 30,250 planned users (40%), day 10 of 21 "
                                   "planned (48%)")
    assert plans.progress(experiments.get(db, exp) | {"planned_users": None}, [],
                          date(2026, 11, 12)) is None


def test_deciding_early_asks_why_and_the_reason_goes_into_the_learning(tmp_path):
    from growthlab import learnings

    db, exp, version = _analysing(tmp_path, planned_users=30_250, planned_days=21)
    decision = dict(result="won", decision="ship", conclusion="Exports rose.",
                    learning_title="Nudges lift exports", learning_body="A nudge helped.",
                    when="2026-11-12T09:00:00+00:00")
    with pytest.raises(InputError, match=r"reason: .*12,100 of 30,250 planned users \(40%\)"):
        experiments.decide(db, exp, version, **decision)
    assert experiments.get(db, exp)["status"] == "analysing"
    learning = experiments.decide(db, exp, version, reason="The effect is large and the "
                                  "launch date is fixed.", **decision)
    body = learnings.get(db, learning)["body"]
    assert body.startswith("A nudge helped.")
    assert "Decided early" in body and "12,100 of 30,250 planned users (40%)" in body
    assert "launch date is fixed" in body


def test_deciding_once_the_plan_is_reached_or_without_a_plan_needs_no_reason(tmp_path):
    decision = dict(result="won", decision="ship", conclusion="Exports rose.",
                    learning_title="Nudges lift exports", learning_body="A nudge helped.",
                    when="2026-11-30T09:00:00+00:00")
    db, exp, version = _analysing(tmp_path, planned_users=12_000, planned_days=10)
    experiments.decide(db, exp, version, **decision)
    db, exp, version = _analysing(tmp_path / "unplanned")
    experiments.decide(db, exp, version, **decision)
    assert experiments.get(db, exp)["status"] == "decided"


@pytest.mark.parametrize("result,decision,heading", [
    ("inconclusive", "ship", "Shipped without a win"),
    ("lost", "ship", "Shipped without a win"),
    ("invalid", "ship", "Shipped without a win"),
    ("won", "abandon", "Abandoned a win"),
])
def test_a_decision_against_the_result_asks_why_and_the_learning_keeps_it(
        tmp_path, result, decision, heading):
    from growthlab import learnings

    db, exp, version = _analysing(tmp_path)
    chosen = dict(result=result, decision=decision, conclusion="No lift in exports.",
                  learning_title="Nudges do not lift exports", learning_body="No effect seen.",
                  when="2026-11-30T09:00:00+00:00")
    with pytest.raises(InputError, match=rf"reason: .*{decision}.*{result}"):
        experiments.decide(db, exp, version, **chosen)
    assert experiments.get(db, exp)["status"] == "analysing"
    learning = experiments.decide(db, exp, version, reason="Legal requires the new copy.",
                                  **chosen)
    body = learnings.get(db, learning)["body"]
    assert f"**{heading}** (result: {result}): Legal requires the new copy." in body


def test_a_reason_given_when_none_is_needed_is_kept_in_the_learning(tmp_path):
    from growthlab import learnings

    db, exp, version = _analysing(tmp_path)
    learning = experiments.decide(db, exp, version, result="won", decision="ship",
                                  conclusion="Exports rose.", learning_title="Nudges work",
                                  learning_body="A nudge helped.", reason="Legal asked too.",
                                  when="2026-11-30T09:00:00+00:00")
    assert learnings.get(db, learning)["body"].endswith("**Why this decision**: Legal asked too.")


def test_a_decision_that_follows_the_result_asks_nothing_more(tmp_path):
    for result, decision in (("won", "ship"), ("inconclusive", "iterate"),
                             ("lost", "abandon"), ("inconclusive", "abandon")):
        db, exp, version = _analysing(tmp_path / f"{result}-{decision}")
        experiments.decide(db, exp, version, result=result, decision=decision,
                           conclusion="Seen.", learning_title="A learning",
                           learning_body="What it taught.", when="2026-11-30T09:00:00+00:00")
        assert experiments.get(db, exp)["decision"] == decision


def test_a_saved_plan_is_versioned_and_audited(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    exp = experiments.create(db, title="Export nudge")
    saved = plans.save(db, exp, 1, 34_480, 18, actor="maya")
    assert (saved["planned_users"], saved["planned_days"], saved["version"]) == (34_480, 18, 2)
    last = next(db.query("SELECT * FROM audit_log ORDER BY id DESC LIMIT 1"))
    assert (last["actor"], last["entity"]) == ("maya", "experiment")
    with pytest.raises(InputError, match="planned_users"):
        plans.save(db, exp, 2, 0, 18)


def test_a_test_started_today_reads_as_one_day_not_one_days():
    traffic = plans.daily_traffic(RESULTS, "value_realization", "2026-11-24", date(2026, 11, 24),
                                  None)
    assert traffic.source.endswith("over 1 day")


def test_plan_words_never_say_0_percent_or_0_days():
    assert plans.percent(0.25) == "25%" and plans.percent(0.00001) == "0.001%"
    assert plans.percent(0.995) == "99.5%" and plans.duration(15544.2) == "about 15,544 days"
    assert plans.scarce(0.99, 350) == "about 4 users who do not convert"
    assert plans.scarce(0.10, 70) == "about 7 conversions"
    assert plans.duration(0.4) == "less than a day" and plans.duration(1.2) == "about 1 day"
    assert plans.duration(12.4) == "about 12 days"


def test_an_arm_too_small_for_the_normal_approximation_is_said_so():
    """A 1% control at 1,000 users a day holds 70 users after a week, 7 conversions at 10%:
    the detectable lift the formula gives would be reached with 71% power, not 80%."""
    assert plans.smallest_arm(7000, [0.01, 0.99], 2) == pytest.approx(70)
    assert plans.too_few_to_estimate(0.10, 70)
    assert not plans.too_few_to_estimate(0.10, 2000)
    assert plans.too_few_to_estimate(0.995, 2000)  # 10 users who do not convert
