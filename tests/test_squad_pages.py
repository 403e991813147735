"""A growth squad on the Experiment and Experiments pages: the planner, deciding early, the
board and the list."""

from datetime import date

from conftest import open_page

from growthlab import experiments, learnings, plans
from growthlab.db import open_workspace
from growthlab.kpis import funnel, load_from_workspace
from growthlab.stats import plan

TODAY = date(2026, 11, 24)


def by_key(db, key: str) -> dict:
    return experiments.get(db, next(db.query("SELECT id FROM experiments WHERE key = ?",
                                             [key]))["id"])


def number(at, prefix: str):
    return next(n for n in at.number_input if n.key and n.key.startswith(prefix))


def planned_sentence(at) -> str:
    return next(s.value for s in at.success if "users per variant" in s.value)


def test_the_planner_starts_from_the_experiments_own_baseline_and_traffic(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-004")
    rows = experiments.results(db, exp["id"])
    control = next(r for r in rows if r.metric == "value_realization" and r.variant == "control")
    users = plans.experiment_users(rows, "value_realization")
    days = (TODAY - date.fromisoformat(exp["started_at"][:10])).days
    at = open_page("experiment", id=str(exp["id"]))
    baseline = number(at, "plan-baseline").value
    assert baseline == round(control.conversions / control.users, 4) and baseline < 0.1
    assert number(at, "plan-daily").value == round(users / days)
    captions = " ".join(c.value for c in at.caption)
    assert "control's rate in the latest results" in captions and f"over {days} days" in captions
    mde = number(at, "plan-mde").value
    metrics = len({r.metric for r in rows})  # the Results tab's Holm corrects over them
    sized = plan(baseline, mde, relative=True, daily_users=round(users / days),
                 alpha=0.05 / metrics)
    assert f"{sized.users_per_variant:,} users per variant" in planned_sentence(at)
    assert "relative lift" in planned_sentence(at)


def test_the_planner_sizes_the_absolute_test_when_the_analysis_runs_it(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-004")
    at = open_page("experiment", id=str(exp["id"]))
    at.segmented_control(key="difference").set_value("absolute").run()
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    metrics = len({r.metric for r in experiments.results(db, exp["id"])})
    sized = plan(baseline, baseline * mde, relative=False, alpha=0.05 / metrics)
    assert f"{sized.users_per_variant:,} users per variant" in planned_sentence(at)
    assert "absolute difference" in planned_sentence(at)


def test_without_results_the_planner_starts_from_the_events(demo_workspace):
    db = open_workspace(demo_workspace)
    idea = next(db.query("SELECT * FROM experiments WHERE status = 'idea' AND primary_metric "
                         "= 'value_realization' LIMIT 1"))
    truth = funnel(demo_workspace.parent / "events", load_from_workspace(db), by_cohort=True)
    share = next(m["share"] for m in truth.milestones if m["key"] == "value_realization")
    at = open_page("experiment", id=str(idea["id"]))
    assert number(at, "plan-baseline").value == round(share, 4)
    traffic = plans.daily_traffic([], None, None, TODAY, truth)
    assert number(at, "plan-daily").value == round(traffic.value)
    assert "complete weeks" in " ".join(c.value for c in at.caption)


def test_the_plan_is_saved_on_the_experiment(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-004")
    at = open_page("experiment", id=str(exp["id"]))
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    daily = number(at, "plan-daily").value
    next(b for b in at.button if b.label == "Save as this experiment's plan").click().run()
    assert not at.exception
    metrics = len({r.metric for r in experiments.results(db, exp["id"])})
    sized = plan(baseline, mde, relative=True, daily_users=daily, alpha=0.05 / metrics)
    saved = experiments.get(db, exp["id"])
    assert (saved["planned_users"], saved["planned_days"]) == (sized.total_users,
                                                               -(-sized.days // 1))
    assert any("Plan:" in c.value and f"{sized.total_users:,} users" in c.value
               for c in at.caption)


def field(widgets, name: str):
    """The decide form's widget `name` (its key carries the experiment's id)."""
    return next(w for w in widgets if w.key and w.key.startswith(f"decide-{name}-"))


def decide_form(at, reason: str | None):
    field(at.text_area, "conclusion").input("Continued value rose 3%.")
    field(at.text_input, "title").input("Saved searches keep teams coming back")
    field(at.text_area, "body").input("Teams with saved searches return more often.")
    if reason is not None:
        field(at.text_area, "reason").input(reason)
    next(b for b in at.button if b.label == "Decide").click().run()
    assert not at.exception
    return at


def test_deciding_before_the_plan_warns_and_keeps_the_reason_in_the_learning(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-009")  # analysing: 28,009 users over 15 days
    plans.save(db, exp["id"], exp["version"], 70_000, 30, actor="maya")
    at = open_page("experiment", id=str(exp["id"]))
    warning = next(w.value for w in at.warning if "planned users" in w.value)
    assert "28,009 of 70,000 planned users (40%)" in warning
    assert "day 15 of 30 planned (50%)" in warning
    decide_form(at, reason="")
    assert any("reason:" in e.value and "40%" in e.value for e in at.error)
    assert experiments.get(db, exp["id"])["status"] == "analysing"
    decide_form(at, reason="The launch date is fixed by the partner deal.")
    decided = experiments.get(db, exp["id"])
    assert decided["status"] == "decided"
    learning = next(db.query("SELECT learning_id FROM learning_experiments WHERE "
                             "experiment_id = ?", [exp["id"]]))["learning_id"]
    body = learnings.get(db, learning)["body"]
    assert "Decided early** at 28,009 of 70,000 planned users (40%)" in body
    assert "partner deal" in body


def test_deciding_once_the_plan_is_reached_asks_nothing_more(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-009")
    plans.save(db, exp["id"], exp["version"], 28_000, 14, actor="maya")
    at = open_page("experiment", id=str(exp["id"]))
    assert not any("planned users" in w.value for w in at.warning)
    assert any("Plan reached" in c.value for c in at.caption)
    assert field(at.text_area, "reason").label == "Why, if the decision goes against the result?"
    decide_form(at, reason=None)
    assert experiments.get(db, exp["id"])["status"] == "decided"


def test_shipping_without_a_win_asks_why_and_the_learning_keeps_it(demo_workspace):
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-009")
    plans.save(db, exp["id"], exp["version"], 28_000, 14, actor="maya")
    at = open_page("experiment", id=str(exp["id"]))
    field(at.selectbox, "result").select("inconclusive")
    field(at.selectbox, "decision").select("ship")
    decide_form(at, reason="")
    assert any("reason:" in e.value and "ship an experiment whose result is inconclusive"
               in e.value for e in at.error)
    assert experiments.get(db, exp["id"])["status"] == "analysing"
    decide_form(at, reason="The new copy is required by legal either way.")
    assert experiments.get(db, exp["id"])["status"] == "decided"
    learning = next(db.query("SELECT learning_id FROM learning_experiments WHERE "
                             "experiment_id = ?", [exp["id"]]))["learning_id"]
    assert ("**Shipped without a win** (result: inconclusive): The new copy is required by "
            "legal either way.") in learnings.get(db, learning)["body"]


def test_the_board_shows_whole_titles_stage_loop_ice_and_result(demo_workspace):
    db = open_workspace(demo_workspace)
    everyone = experiments.listing(db)
    at = open_page("experiments", view="board")
    cards = [m.value for m in at.markdown]
    captions = [c.value for c in at.caption]
    opens = [p for p in at.get("page_link") if p.proto.label == "Open"]
    assert len(opens) == len(everyone)  # every experiment, none cut off
    for r in everyone:
        card = next(i for i, text in enumerate(cards) if text.startswith(r["key"]))
        assert learnings.escape_markdown(r["title"]) in cards[card]
        if r["result"]:
            assert f"**{r['result']}**" in cards[card]
    scored = next(r for r in everyone if r["ice"] is not None and r["loop"])
    assert any(f"{scored['loop']} · ICE {scored['ice']:.0f}" in c for c in captions)
    stages = [m for m in cards if m.startswith("**") and ") " not in m and m.endswith(")")]
    assert [s.split("**")[1] for s in stages] == [s.capitalize() for s in experiments.STATUSES]


def test_the_list_shows_every_row_with_scores_and_result_first(demo_workspace):
    at = open_page("experiments")
    table = at.dataframe[0].value  # its height, tall enough for every row: test_e2e.py
    assert list(table.columns[:7]) == ["key", "title", "status", "ICE", "ICE spread", "RICE",
                                       "result"]
    assert len(table) == 41
    assert "open" not in table.columns  # a link column opens a new tab


def test_the_lists_spread_is_blank_with_one_scorer_and_counts_each_dimension(demo_workspace):
    db = open_workspace(demo_workspace)
    at = open_page("experiments")
    table = at.dataframe[0].value.set_index("key")
    for r in experiments.listing(db):
        spread = table.loc[r["key"], "ICE spread"]
        assert spread == ("" if r["ice_scorers"] == 1 else str(round(r["ice_spread"])))
    scores = experiments.ice_scores(db, by_key(db, "EXP-026")["id"])
    assert {s["impact"] * s["confidence"] * s["ease"] for s in scores} == {120}
    assert int(table.loc["EXP-026", "ICE spread"]) > 0  # same ICE, different judgements
    caption = next(c.value for c in at.caption if "± shows" in c.value)
    assert "blank with a single scorer" in caption


def test_the_programme_review_counts_decided_and_archived_as_the_board_does(demo_workspace):
    at = open_page("experiments", view="review")
    shown = {m.label: m.value for m in at.metric}
    board = {s: sum(r["status"] == s for r in experiments.listing(open_workspace(
        demo_workspace))) for s in ("decided", "archived")}
    assert (shown["Decided"], shown["Archived"]) == (str(board["decided"]),
                                                     str(board["archived"]))
    assert board["archived"] > 0


def test_the_list_filters_are_kept_after_opening_an_experiment(demo_workspace):
    at = open_page("experiments", status="running", view="list")
    assert set(at.dataframe[0].value["status"]) == {"running"}
    at.switch_page("pages/experiment.py").run()
    at.query_params.clear()
    at.switch_page("pages/experiments.py").run()
    assert not at.exception
    assert at.multiselect(key="f-status").value == ["running"]
    assert set(at.dataframe[0].value["status"]) == {"running"}


def test_an_experiment_with_many_result_rows_counts_its_users_against_the_plan(demo_workspace):
    """Past the hand-entry limit (200 rows) the page still reads the users so far: the
    warning and the reason field agree with what `decide` will ask for."""
    from growthlab.stats import MetricRow

    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-009")
    rows = [MetricRow(f"segment_{i:03d}", v, 4000, conversions=400)
            for i in range(150) for v in ("control", "treatment")]
    experiments.record_results(db, exp["id"], rows,
                               version=experiments.results_version(db, exp["id"]))
    plans.save(db, exp["id"], experiments.get(db, exp["id"])["version"], 10_000, None,
               actor="maya")
    at = open_page("experiment", id=str(exp["id"]))
    warning = next(w.value for w in at.warning if "planned users" in w.value)
    assert "8,000 of 10,000 planned users (80%)" in warning
    assert [t for t in at.text_area if t.key and t.key.startswith("decide-reason")]


def test_the_planner_sizes_each_arm_by_the_design_s_planned_split(empty_workspace):
    """Half the users to treatment and a quarter each to control and holdout: the control
    fills last, so the test runs longer than an even split of the same users would."""
    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Uneven", primary_metric="activation", variants=[
        ("treatment", 50), ("control", 25), ("holdout", 25)])
    at = open_page("experiment", id=str(exp))
    assert not at.exception
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    daily = number(at, "plan-daily").value
    sized = plan(baseline, mde, relative=True, daily_users=daily, shares=(0.25, 0.5, 0.25))
    even = plan(baseline, mde, relative=True, daily_users=daily, variants=3)
    assert sized.days > even.days
    sentence = next(s.value for s in at.success if "users in total" in s.value)
    control, treatment, holdout = sized.users_per_arm
    assert f"**{sized.total_users:,} users in total**" in sentence
    assert f"control {control:,} (25%)" in sentence and f"treatment {treatment:,} (50%)" in \
        sentence and f"holdout {holdout:,} (25%)" in sentence
    assert f"**about {sized.days:.0f} days**" in sentence
    assert not any(n.key and n.key.startswith("plan-variants") for n in at.number_input)


def test_without_a_primary_metric_the_result_is_chosen_not_pre_set(empty_workspace):
    """Nothing calculated a verdict: the form must not offer 'inconclusive' as if it had."""
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="No primary")
    experiments.record_results(db, exp, [MetricRow("signup", "control", 4000, 400),
                                         MetricRow("signup", "treatment", 4000, 520)])
    for step in ("backlog", "running", "analysing"):
        experiments.move(db, exp, experiments.get(db, exp)["version"], step)
    at = open_page("experiment", id=str(exp))
    assert "Primary metric:** none chosen yet" in " ".join(m.value for m in at.markdown)
    result = field(at.selectbox, "result")
    assert result.value is None and "Pre-set" not in (result.help or "")
    decide_form(at, reason=None)
    assert any("result" in e.value for e in at.error)
    assert experiments.get(db, exp)["status"] == "analysing"
    field(at.selectbox, "result").set_value("won")
    decide_form(at, reason=None)
    assert experiments.get(db, exp)["result"] == "won"


def test_the_decide_form_starts_afresh_for_each_experiment(empty_workspace):
    """A verdict chosen (or pre-set) for one experiment must not carry over to the next one
    picked in the page's selector."""
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    won = experiments.create(db, title="Won", primary_metric="signup")
    bare = experiments.create(db, title="No primary")
    for exp in (won, bare):
        experiments.record_results(db, exp, [MetricRow("signup", "control", 4000, 400),
                                             MetricRow("signup", "treatment", 4000, 520)])
        for step in ("backlog", "running", "analysing"):
            experiments.move(db, exp, experiments.get(db, exp)["version"], step)
    at = open_page("experiment", id=str(won))
    assert field(at.selectbox, "result").value == "won"
    field(at.text_area, "conclusion").input("Signups rose 30%.")
    at.selectbox[0].set_value(bare).run()
    assert not at.exception
    assert field(at.selectbox, "result").value is None
    assert field(at.text_area, "conclusion").value == ""


def test_the_planner_sizes_for_the_correction_the_results_tab_applies(empty_workspace):
    """The Results tab corrects over every metric (Holm by default): a plan that ignores it
    promises 80% power and delivers about 55% with five other metrics."""
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Three metrics", primary_metric="signup")
    experiments.record_results(db, exp, [
        MetricRow(m, v, 4000, c) for m, c in (("signup", 400), ("invite", 300), ("export", 200))
        for v in ("control", "treatment")])
    at = open_page("experiment", id=str(exp))
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    daily = number(at, "plan-daily").value
    sized = plan(baseline, mde, relative=True, daily_users=daily, alpha=0.05 / 3)
    sentence = planned_sentence(at)
    assert f"**{sized.users_per_variant:,} users per variant**" in sentence
    assert "Holm correction over its 3 metrics" in sentence
    at.selectbox[1].set_value("none").run()  # the Results tab's correction
    unadjusted = plan(baseline, mde, relative=True, daily_users=daily)
    assert f"**{unadjusted.users_per_variant:,} users per variant**" in planned_sentence(at)


def test_the_week_captions_say_when_the_smallest_arm_is_too_small(empty_workspace):
    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Tiny control", primary_metric="activation",
                             variants=[("control", 1), ("treatment", 99)])
    at = open_page("experiment", id=str(exp))
    captions = [c.value for c in at.caption if c.value.startswith("Run 1 week")]
    assert captions and "too few to say what it would detect" in captions[0]


def test_the_planner_sizes_the_sequential_test_when_the_results_tab_runs_it(demo_workspace):
    """A fixed-horizon plan read by the sequential test had 39% power, not 80%."""
    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-004")
    at = open_page("experiment", id=str(exp["id"]))
    at.segmented_control(key="method").set_value("sequential").run()
    at.number_input(key="n-star").set_value(20_000.0).run()
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    metrics = len({r.metric for r in experiments.results(db, exp["id"])})
    sized = plan(baseline, mde, relative=True, alpha=0.05 / metrics, method="sequential",
                 n_star=20_000)
    sentence = planned_sentence(at)
    assert f"{sized.users_per_variant:,} users per variant" in sentence
    assert "sequential" in sentence and "20,000" in sentence


def test_the_planner_says_which_n_star_suits_its_sequential_plan(demo_workspace):
    """N* = 5,000 is tightest at 5,000 users; a plan ending far later needs fewer users with
    N* near its end, which must be set before the test starts."""
    from growthlab.stats.power import tuned_to_its_end

    db = open_workspace(demo_workspace)
    exp = by_key(db, "EXP-004")
    at = open_page("experiment", id=str(exp["id"]))
    at.segmented_control(key="method").set_value("sequential").run()
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    daily = number(at, "plan-daily").value
    metrics = len({r.metric for r in experiments.results(db, exp["id"])})
    tuned = tuned_to_its_end(baseline, mde, relative=True, alpha=0.05 / metrics,
                             method="sequential", n_star=5000.0, daily_users=daily)
    advice = [c.value for c in at.caption if "tightest near" in c.value]
    assert advice and f"Tuning N* to {tuned.n_star:,.0f}" in advice[0], advice
    assert f"{tuned.total_users:,} users in total" in advice[0], advice
    at.number_input(key="n-star").set_value(tuned.n_star).run()
    assert f"{tuned.total_users:,} in total" in planned_sentence(at)
    assert not [c.value for c in at.caption if "tightest near" in c.value]


def test_results_without_a_planned_arm_say_so_on_the_page(empty_workspace):
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Holdout", primary_metric="m", variants=[
        ("control", 0.45), ("treatment", 0.45), ("holdout", 0.1)])
    experiments.record_results(db, exp, [MetricRow("m", "control", 4500, 450),
                                         MetricRow("m", "treatment", 4500, 500)])
    at = open_page("experiment", id=str(exp))
    assert any("holdout (10%)" in w.value and "no results" in w.value for w in at.warning), \
        [w.value for w in at.warning]


def test_a_lift_over_a_mean_a_few_large_values_dominate_says_so_on_the_page(empty_workspace):
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Whales", primary_metric="revenue")
    experiments.record_results(db, exp, [
        MetricRow("revenue", "control", 2000, None, 20650.32099238346, 46832509.49237194),
        MetricRow("revenue", "treatment", 2000, None, 10846.134283244539, 7986718.618447022)])
    at = open_page("experiment", id=str(exp))
    said = [m.value for m in [*at.error, *at.success, *at.info, *at.warning]
            if "revenue" in m.value.lower() and "lowered" in m.value]
    assert said and "known only to ±33%" in said[0] and "Difference: absolute" in said[0], said


def test_the_planner_sizes_a_mean_metric_from_its_mean_and_standard_deviation(
        empty_workspace):
    """A primary metric that is a mean was planned as a 10% conversion rate (58,912 users)
    and said it had no rate 'not measured yet', though its results were there."""
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Searches", primary_metric="searches_per_user")
    experiments.record_results(db, exp, [
        MetricRow("searches_per_user", "control", 5000, sum=70_000.0,
                  sum_squares=70_000 * 14 + 5000 * 100.0),
        MetricRow("searches_per_user", "treatment", 5000, sum=72_000.0,
                  sum_squares=72_000 * 14.4 + 5000 * 100.0)])
    at = open_page("experiment", id=str(exp))
    captions = " ".join(c.value for c in at.caption)
    assert "No rate to plan from" not in captions and "control's mean" in captions
    mean, sd = number(at, "plan-mean").value, number(at, "plan-sd").value
    start = plans.baseline(experiments.results(db, exp), "searches_per_user", "control", None)
    assert (mean, sd) == (round(start.value, 4), round(start.sd, 4))
    sized = plan(mean, number(at, "plan-mde").value, relative=True, sd=sd)
    assert f"**{sized.users_per_variant:,} users per variant**" in planned_sentence(at)
    assert not any(n.key and n.key.startswith("plan-baseline") for n in at.number_input)


def _analysing(db, exp):
    for step in ("backlog", "running", "analysing"):
        experiments.move(db, exp, experiments.get(db, exp)["version"], step)


def test_results_without_the_designs_control_give_no_verdict(empty_workspace):
    """Two treatments compared with each other read as a win over the control."""
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Three arms", primary_metric="first_value", variants=[
        ("control", 0.5), ("treatment_a", 0.25), ("treatment_b", 0.25)])
    experiments.record_results(db, exp, [MetricRow("first_value", "treatment_a", 1000, 100),
                                         MetricRow("first_value", "treatment_b", 1000, 120)])
    _analysing(db, exp)
    at = open_page("experiment", id=str(exp))
    assert not at.exception
    assert any("no rows for the control 'control'" in e.value for e in at.error)
    assert not at.success or not any("raised" in s.value for s in at.success)
    assert not any("significant" in d.value.columns for d in at.dataframe)
    result = field(at.selectbox, "result")
    assert result.value is None and "no rows for the control" in result.help
    assert "treatment_a's rate" not in " ".join(c.value for c in at.caption)


def test_a_primary_that_cannot_be_computed_is_not_pre_set_inconclusive(empty_workspace):
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Broken arm", primary_metric="first_value")
    experiments.record_results(db, exp, [
        MetricRow("first_value", "control", 400, 12), MetricRow("first_value", "treatment", 400, 0),
        MetricRow("signup", "control", 400, 100), MetricRow("signup", "treatment", 400, 140)])
    _analysing(db, exp)
    at = open_page("experiment", id=str(exp))
    result = field(at.selectbox, "result")
    assert result.value is None and "could not be compared for treatment" in result.help
    at.segmented_control(key="difference").set_value("absolute").run()
    result = field(at.selectbox, "result")
    assert result.value is None and "'treatment' converted 0% of its users" in result.help


def test_the_pre_set_result_follows_the_analysis_shown(empty_workspace):
    from growthlab.stats import MetricRow

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Switch", primary_metric="first_value")
    experiments.record_results(db, exp, [MetricRow("first_value", "control", 1000, 100),
                                         MetricRow("first_value", "treatment", 1000, 130)])
    _analysing(db, exp)
    at = open_page("experiment", id=str(exp))
    assert field(at.selectbox, "result").value == "inconclusive"
    next(s for s in at.select_slider if s.label == "Alpha").set_value(0.1).run()
    assert field(at.selectbox, "result").value == "won"
