"""Arms: one too small to compare fails its own comparison and no other; what the power
planner and the Experiment page say about arms and their shares."""

import json

import pytest
from conftest import open_page

from growthlab import experiments
from growthlab.cli import main
from growthlab.db import open_workspace, set_setting
from growthlab.io import read_results_csv
from growthlab.stats import MetricRow, analyze
from growthlab.stats.table import ResultColumns, analyze_columns

TINY = [MetricRow("activated", "control", 1000, 100),
        MetricRow("activated", "treatment", 1000, 160), MetricRow("activated", "holdout", 1, 0)]


def by_variant(results) -> dict:
    return {r["variant"]: r for r in results}


def analysed_both_ways(rows) -> list[dict]:
    """The row analysis' results, checked equal to the columnar analysis' (one policy)."""
    results = analyze(rows).results
    columns = analyze_columns(ResultColumns.from_rows(rows))
    assert columns.results(range(len(columns))) == results
    return results


def test_an_arm_of_one_user_fails_its_own_comparison_and_no_other():
    got = by_variant(analysed_both_ways(TINY))
    assert got["treatment"]["error"] is None and got["treatment"]["p_value"] < 0.01
    holdout = got["holdout"]
    assert holdout["error"]["code"] == "too_few_users"
    assert (holdout["users"], holdout["control_users"]) == (1, 1000)
    assert all(holdout[f] is None for f in ("estimate", "ci_low", "ci_high", "p_value"))
    message = holdout["error"]["message"]
    assert "'holdout' has 1 user:" in message and "at least 2 users in each arm" in message
    assert "collect more users in 'holdout'" in message


def test_a_control_of_one_user_fails_every_comparison_naming_the_control():
    rows = [MetricRow("m", "control", 1, 1), MetricRow("m", "b", 100, 10),
            MetricRow("m", "c", 100, 12)]
    for r in analysed_both_ways(rows):
        assert r["error"]["code"] == "too_few_users"
        assert "'control' has 1 user:" in r["error"]["message"]


def test_an_arm_with_no_user_fails_alone_and_shows_no_mean():
    """Milestones from events, users still in their window left out: an arm may have none
    whose window has closed."""
    rows = [*TINY[:2], MetricRow("activated", "holdout", 0, 0)]
    holdout = by_variant(analysed_both_ways(rows))["holdout"]
    assert holdout["error"]["code"] == "too_few_users" and holdout["mean"] is None
    assert "'holdout' has no users counted:" in holdout["error"]["message"]


def test_a_metric_no_one_reached_is_skipped_whatever_an_arm_with_no_users_says():
    from growthlab.stats.analysis import drop_constant_metrics
    from growthlab.stats.table import drop_constant_metrics as drop_constant_columns

    rows = [MetricRow("invited", "control", 500, 0), MetricRow("invited", "treatment", 500, 0),
            MetricRow("invited", "holdout", 0, 0), *TINY]
    assert drop_constant_metrics(rows) == (TINY, ["invited"])
    kept, skipped = drop_constant_columns(ResultColumns.from_rows(rows))
    assert [kept.row(i) for i in range(len(kept))] == TINY and skipped == ["invited"]


def test_a_mean_metric_arm_of_one_user_fails_alone_with_cuped_too():
    rows = [MetricRow("rev", v, n, sum=s, sum_squares=ss, pre_sum=p, pre_sum_squares=pp,
                      sum_product=sp)
            for v, n, s, ss, p, pp, sp in (("control", 500, 5000, 80000, 4000, 50000, 60000),
                                           ("treatment", 500, 5500, 90000, 4100, 51000, 63000),
                                           ("holdout", 1, 12, 144, 10, 100, 120))]
    got = by_variant(analysed_both_ways(rows))
    assert got["treatment"]["error"] is None
    assert got["holdout"]["error"]["code"] == "too_few_users"


def test_a_results_file_with_an_arm_of_one_user_reads_and_analyses_the_others(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nactivated,control,1000,100\n"
                    "activated,treatment,1000,160\nactivated,holdout,1,0\n")
    assert [r.users for r in read_results_csv(path)] == [1000, 1000, 1]
    assert main(["analyze", str(path), "--json"]) == 0
    got = by_variant(json.loads(capsys.readouterr().out)["results"])
    assert got["treatment"]["error"] is None
    assert got["holdout"]["error"]["code"] == "too_few_users"
    assert main(["analyze", str(path), "--weights",
                 "control=0.4995,treatment=0.4995,holdout=0.001"]) == 0
    out = capsys.readouterr().out
    assert "Treatment raised activated by 60.0%" in out
    assert "activated cannot be compared between holdout and control: 'holdout' has 1 user:" \
        in out


def test_a_results_file_with_an_arm_of_no_users_is_still_refused(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nm,control,0,0\nm,b,100,12\n")
    assert main(["analyze", str(path)]) == 2
    assert "has 0 users" in capsys.readouterr().err


def _events_with_a_holdout_of_one(folder, holdout: int = 1):
    """400 users in control and treatment (treatment converts more), `holdout` users in a
    holdout; a 7-day window, and 20 users per arm assigned too late for it to close."""
    events, assignments = ["user_id,event,timestamp"], ["user_id,experiment,variant,assigned_at"]
    arms = ["control", "treatment"] * 200 + ["holdout"] * holdout
    for i, variant in enumerate(arms):
        day = 20 if i >= len(arms) - 40 - holdout and variant != "holdout" else 1 + i % 10
        assignments.append(f"u{i},x,{variant},2026-01-{day:02d}T00:00:00")
        events.append(f"u{i},open,2026-01-{day:02d}T01:00:00")
        if i % 4 in (0, 1) or (variant == "treatment" and i % 3 == 0):
            events.append(f"u{i},export,2026-01-{day:02d}T12:00:00")
    events.append("z,open,2026-01-22T00:00:00")
    (folder / "e.csv").write_text("\n".join(events) + "\n")
    (folder / "a.csv").write_text("\n".join(assignments) + "\n")
    (folder / "m.toml").write_text('[[milestones]]\nkey = "exported"\nname = "Exported"\n'
                                   'rule = "count(export) >= 1"\nwindow_days = 7\n')
    return ["analyze-events", str(folder / "e.csv"), str(folder / "a.csv"), "--milestones",
            str(folder / "m.toml"), "--experiment", "x"]


@pytest.mark.parametrize("left_out", [[], ["--exclude-in-progress"]])
def test_analyze_events_compares_the_main_arms_beside_a_holdout_of_one(tmp_path, capsys,
                                                                       left_out):
    args = [*_events_with_a_holdout_of_one(tmp_path), *left_out]
    assert main([*args, "--json"]) == 0, capsys.readouterr().err
    payload = json.loads(capsys.readouterr().out)
    got = by_variant(payload["results"])
    assert got["treatment"]["error"] is None and got["treatment"]["p_value"] is not None
    assert got["holdout"]["error"]["code"] == "too_few_users"
    assert got["holdout"]["users"] == 1 and payload["undecided_metrics"] == []
    assert payload["srm"]["users"] == [200, 200, 1]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "cannot be compared between holdout and control: 'holdout' has 1 user:" in out
    assert "at least 2 users in each arm" in out


def test_analyze_events_leaves_out_a_milestone_only_when_no_two_arms_can_be_compared(
        tmp_path, capsys):
    """Every treatment user still in the window: one arm left with closed windows, nothing
    to compare it with."""
    args = _events_with_a_holdout_of_one(tmp_path, holdout=0)
    lines = (tmp_path / "a.csv").read_text().splitlines()
    (tmp_path / "a.csv").write_text("\n".join(
        line.replace("2026-01-0", "2026-01-2").replace("2026-01-10", "2026-01-20")
        if ",treatment," in line else line for line in lines) + "\n")
    assert main([*args, "--exclude-in-progress"]) == 2
    assert "too few users whose window has closed" in capsys.readouterr().err


def test_the_page_saves_results_from_events_and_shows_the_tiny_arm_as_not_comparable(
        demo_workspace):
    from growthlab.kpis import Milestone, save_to_workspace

    folder = demo_workspace.parent
    _events_with_a_holdout_of_one(folder)
    db = open_workspace(demo_workspace)
    set_setting(db, "events_path", "e.csv")
    set_setting(db, "assignments_path", "a.csv")
    save_to_workspace(db, [Milestone("exported", "Exported", "Evaluation",
                                     "count(export) >= 1", 7)])
    exp = experiments.create(db, title="Tiny holdout", key="x", primary_metric="exported",
                             variants=[("control", 0.495), ("treatment", 0.495),
                                       ("holdout", 0.01)])
    at = open_page("experiment", id=str(exp))
    next(b for b in at.button if b.label == "Compute milestone KPIs from events").click().run()
    assert not at.exception and not at.error, [e.value for e in at.error]
    stored = {r.variant: r.users for r in experiments.results(db, exp)}
    assert stored["holdout"] == 1 and stored["control"] > 100
    at.run()
    said = " ".join(w.value for w in at.warning)
    assert "Exported cannot be compared between holdout and control: 'holdout' has 1 user" \
        in said
    assert any(s.value.startswith("Treatment raised Exported by") for s in at.success)


@pytest.mark.parametrize("shares,shown", [
    ([0.495, 0.495, 0.01], ["49.5%", "49.5%", "1%"]),
    ([0.25, 0.5, 0.25], ["25%", "50%", "25%"]),
    ([2 / 3, 1 / 3], ["67%", "33%"]),
    ([0.4985, 0.4985, 0.003], ["49.85%", "49.85%", "0.3%"]),
])
def test_shares_are_written_with_the_digits_that_keep_them_apart_and_adding_up(shares, shown):
    from growthlab.io import percents

    assert percents(shares) == shown


@pytest.mark.parametrize("n,noun,said", [(1, "experiment", "1 experiment"),
                                         (2, "experiment", "2 experiments"),
                                         (0, "learning", "0 learnings"),
                                         (12_345, "response", "12,345 responses")])
def test_a_count_agrees_with_its_noun(n, noun, said):
    from growthlab.io import plural

    assert plural(n, noun) == said


HOLDOUT_SPLIT = [0.495, 0.495, 0.01]


def test_the_plan_says_which_arm_sets_its_size():
    from growthlab.stats import plan
    from growthlab.stats.power import what_sets_the_size as sized_by

    p = plan(0.4, 0.05, relative=True, shares=HOLDOUT_SPLIT, daily_users=1000)
    assert p.sized_by == (2,) and p.as_dict()["sized_by"] == (2,)
    assert sized_by(p, ["control", "treatment", "holdout"], HOLDOUT_SPLIT) == (
        f"the holdout (1%) needs {p.users_per_arm[2]:,} users: it sets the size")
    quarters = plan(0.4, 0.05, relative=True, shares=[0.25, 0.5, 0.25])
    assert quarters.sized_by == (0, 2)
    assert sized_by(quarters, ["control", "treatment", "holdout"], [0.25, 0.5, 0.25]) == (
        f"the control and holdout (25% each) need {quarters.users_per_arm[0]:,} users each: "
        "they set the size")
    even = plan(0.4, 0.05, relative=True, variants=3)
    assert even.sized_by is None and "sized_by" not in even.as_dict()
    assert sized_by(even, ["control", "b", "c"], None) is None


def test_power_says_which_named_arm_sets_the_size(capsys):
    from growthlab.stats import plan

    expected = plan(0.4, 0.05, relative=True, shares=HOLDOUT_SPLIT)
    assert main(["power", "--baseline", "0.4", "--mde", "0.05", "--relative", "--weights",
                 "control=49.5,treatment=49.5,holdout=1"]) == 0
    assert (f"The holdout (1%) needs {expected.users_per_arm[2]:,} users: it sets the size"
            in capsys.readouterr().out)


def _tiny_holdout_experiment(db) -> int:
    from growthlab.kpis import Milestone, save_to_workspace

    save_to_workspace(db, [Milestone("activated", "Activated", "Struggle",
                                     "count(project_created) >= 1", 7),
                           Milestone("habit", "Habit", "Growth", "days(session) >= 3", 14)])
    exp = experiments.create(db, title="Tiny holdout", primary_metric="activated",
                             guardrail_metrics=["habit"],
                             variants=[("control", 0.495), ("treatment", 0.495),
                                       ("holdout", 0.01)])
    experiments.record_results(db, exp, [
        MetricRow("activated", "control", 1000, 400), MetricRow("activated", "treatment", 1000,
                                                                 440),
        MetricRow("activated", "holdout", 1, 0)])
    return exp


def test_the_experiment_page_writes_the_planned_split_alike_and_names_its_arms(empty_workspace):
    from growthlab.stats import plan

    db = open_workspace(empty_workspace)
    exp = _tiny_holdout_experiment(db)
    at = open_page("experiment", id=str(exp))
    captions = [c.value for c in at.caption]
    assert "Split, from the design: control 49.5%, treatment 49.5%, holdout 1%" in captions
    banner = next(e.value for e in at.error if "Sample-ratio mismatch" in e.value)
    assert "planned split (control 49.5%, treatment 49.5%, holdout 1%)" in banner, banner
    assert "(control 1,000, treatment 1,000, holdout 1)" in banner, banner
    sentence = next(s.value for s in at.success if "users in total" in s.value)
    baseline, mde = number(at, "plan-baseline").value, number(at, "plan-mde").value
    daily = number(at, "plan-daily").value
    sized = plan(baseline, mde, relative=True, daily_users=daily, shares=HOLDOUT_SPLIT)
    assert f"control {sized.users_per_arm[0]:,} (49.5%)" in sentence, sentence
    assert sentence.endswith(f"a day. The holdout (1%) needs {sized.users_per_arm[2]:,} users: "
                             "it sets the size."), sentence
    markdown = " ".join(m.value for m in at.markdown)
    assert "**Primary metric:** Activated · **guardrails:** Habit" in markdown
    said = " ".join(w.value for w in at.warning)
    assert "Activated cannot be compared between holdout and control" in said


def number(at, prefix: str):
    return next(n for n in at.number_input if n.key and n.key.startswith(prefix))


def test_a_single_experiment_and_learning_are_counted_in_the_singular(empty_workspace):
    from growthlab import learnings

    db = open_workspace(empty_workspace)
    experiments.create(db, title="Only one")
    learnings.create(db, title="Only lesson", body="It matters.")
    listed = " ".join(c.value for c in open_page("experiments", view="list").caption)
    assert "1 experiment;" in listed and "1 experiments" not in listed
    learned = " ".join(c.value for c in open_page("learnings").caption)
    assert "1 learning," in learned and "1 learnings" not in learned


def test_a_problem_on_several_rows_says_what_the_others_are():
    from growthlab.errors import StatsError

    rows = [MetricRow("m", v, 10, 11) for v in ("control", "b", "c")]
    with pytest.raises(StatsError) as err:
        analyze(rows)
    assert str(err.value).endswith("(and 2 more rows with the same problem)"), str(err.value)


def test_the_page_says_why_there_is_nothing_to_test_as_the_command_line_does(demo_workspace):
    from growthlab.kpis import Milestone, save_to_workspace

    folder = demo_workspace.parent
    _events_with_a_holdout_of_one(folder)
    db = open_workspace(demo_workspace)
    set_setting(db, "events_path", "e.csv")
    set_setting(db, "assignments_path", "a.csv")
    save_to_workspace(db, [Milestone("imported", "Imported", "Evaluation",
                                     "count(import) >= 1", 7)])
    exp = experiments.create(db, title="Nobody imports", key="x", primary_metric="imported")
    at = open_page("experiment", id=str(exp))
    next(b for b in at.button if b.label == "Compute milestone KPIs from events").click().run()
    said = " ".join(e.value for e in at.error)
    assert "nothing to test in x yet (imported: reached by none)" in said, said
    assert "no result rows" not in said
