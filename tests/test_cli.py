"""The CLI contract: JSON fields, exit codes, no tracebacks for a user's mistakes."""

import json
import re
import subprocess
import sys

import pytest

from growthlab.cli import build_parser, main
from growthlab.stats import plan

REFERENCE_CSV = ("metric,variant,users,conversions\n"
                 "first_value,control,10000,1000\nfirst_value,treatment,10000,1100\n")
RESULT_FIELDS = {"experiment", "metric", "variant", "control", "users", "control_users", "mean",
                 "control_mean", "difference", "estimate", "ci_low", "ci_high", "p_value",
                 "adjusted_p_value", "chance_to_win", "risk", "significant", "error"}


def run(*args, workspace=None):
    argv = (["--workspace", str(workspace)] if workspace else []) + list(args)
    return subprocess.run([sys.executable, "-m", "growthlab", *argv], capture_output=True,
                          text=True, timeout=120)


def test_analyze_json_matches_reference(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    out = run("analyze", str(path), "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    result = payload["results"][0]
    assert set(result) >= RESULT_FIELDS
    assert result["estimate"] == pytest.approx(0.10, abs=1e-4)
    assert [result["ci_low"], result["ci_high"]] == pytest.approx([0.01086, 0.18914], abs=1e-4)
    assert result["p_value"] == pytest.approx(0.02789, abs=1e-4)
    assert set(payload["srm"]) >= {"p_value", "flagged", "users", "expected_weights"}


def test_analyze_mixed_metrics_variants_and_experiments(tmp_path, capsys):
    path = tmp_path / "mixed.csv"
    path.write_text("experiment,metric,variant,users,conversions,sum,sum_squares\n"
                    "e1,cv,control,1000,100,,\ne1,cv,b,1000,130,,\ne1,cv,c,1000,90,,\n"
                    "e1,rev,control,1000,,5000,60000\ne1,rev,b,1000,,5600,70000\n"
                    "e1,rev,c,1000,,5100,61000\n"
                    "e2,cv,control,1000,100,,\ne2,cv,treatment,1200,120,,\n")
    assert main(["analyze", str(path), "--json", "--correction", "holm"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [(r["experiment"], r["metric"], r["variant"]) for r in payload["results"]] == [
        ("e1", "cv", "b"), ("e1", "cv", "c"), ("e1", "rev", "b"), ("e1", "rev", "c"),
        ("e2", "cv", "treatment")]
    assert all(r["adjusted_p_value"] >= r["p_value"] for r in payload["results"])
    assert payload["srm"]["experiment"] == "e2"
    assert set(payload["srm_by_experiment"]) == {"e1", "e2"}


def test_analyze_text_names_the_experiment_of_each_sentence_when_a_file_has_several(
        tmp_path, capsys):
    path = tmp_path / "two.csv"
    path.write_text("experiment,metric,variant,users,conversions\n"
                    "e1,signup,control,5000,500\ne1,signup,treatment,5000,560\n"
                    "e2,signup,control,5000,500\ne2,signup,treatment,5000,400\n")
    assert main(["analyze", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("e1: treatment moved signup up by 12.0%")
    assert lines[1].startswith("e2: treatment lowered signup by 20.0%")


@pytest.mark.parametrize("method", ["bayesian", "sequential"])
def test_analyze_methods(tmp_path, capsys, method):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    assert main(["analyze", str(path), "--json", "--method", method]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    if method == "bayesian":
        assert result["chance_to_win"] == pytest.approx(0.98606, abs=1e-4)
        assert result["p_value"] is None
    else:
        assert result["ci_low"] == pytest.approx(-0.0422, abs=1e-4)


@pytest.mark.parametrize("args,message", [
    (["analyze", "missing.csv"], "missing.csv: cannot read the file"),
    (["analyze", "{csv}", "--alpha", "2"], "alpha must be between 0 and 1"),
    (["analyze", "{csv}", "--weights", "0.5,x"], "--weights"),
    (["analyze", "{csv}", "--weights", "0.3,0.3,0.4"], "3 weights given for 2 variants"),
    (["analyze", "{csv}", "--weights", "control=0.5,treatmnt=0.5"],
     "'treatmnt' is not a variant; the variants are control, treatment"),
    (["analyze", "{csv}", "--weights", "control=0.5,0.5"], "--weights"),
    (["analyze", "{csv}", "--control", "ctrl"],
     "control 'ctrl' is not a variant; the variants are control, treatment"),
    (["analyze", "{csv}", "--method", "bayesian", "--correction", "holm"],
     "does not apply to the bayesian method"),
    (["analyze", "{csv}", "--method", "magic"], "invalid choice"),
    (["power", "--baseline", "1.5", "--mde", "0.1"], "baseline must be a conversion rate"),
    (["power", "--baseline", "0.1"], "--mde"),
    (["retention", "{csv}", "--days", "a,b"], "--days"),
    (["kpis", "{csv}", "--milestones", "nope.toml"], "nope.toml: cannot read the file"),
    # An empty name (often an unset shell variable) is refused, not read as "not given".
    (["retention", "{csv}", "--event", ""], "--event is empty"),
    (["retention", "{csv}", "--start-event", " "], "--start-event is empty"),
    (["retention", "{csv}", "--event", "\u200b\ufeff"], "--event is empty"),
    (["retention", "{csv}", "--milestone", ""], "--milestone is empty"),
    (["analyze", "{csv}", "--control", ""], "--control is empty"),
    (["analyze", "{csv}", "--lower-is-better", ""], "--lower-is-better is empty"),
    (["analyze", "{csv}", "--lower-is-better", "errors,,refunds"], "--lower-is-better"),
    (["analyze-events", "{csv}", "{csv}", "--milestones", "m.toml", "--experiment", ""],
     "--experiment is empty"),
])
def test_user_mistakes_exit_2_without_traceback(tmp_path, args, message):
    csv = tmp_path / "r.csv"
    csv.write_text(REFERENCE_CSV)
    out = run(*[a.replace("{csv}", str(csv)) for a in args])
    assert out.returncode == 2
    assert out.stderr.startswith("error: ") and message in out.stderr
    assert "Traceback" not in out.stderr


@pytest.mark.parametrize("args,message", [
    (["analyze", "{csv}", "--weights", "control=inf,treatment=1"], "--weights"),
    (["analyze", "{csv}", "--weights", "control=nan,treatment=1"], "--weights"),
    (["analyze", "{csv}", "--method", "bayesian", "--prior-sd", "nan"], "--prior-sd"),
    (["analyze", "{csv}", "--method", "bayesian", "--prior-sd", "0"], "--prior-sd"),
    (["analyze", "{csv}", "--method", "bayesian", "--prior-mean", "inf", "--prior-sd", "1"],
     "--prior-mean"),
    (["analyze", "{csv}", "--method", "sequential", "--n-star", "nan"], "--n-star"),
    (["analyze", "{csv}", "--alpha", "nan"], "--alpha"),
    (["power", "--baseline", "0.5", "--mde", "1e-300", "--relative"], "too small"),
    (["power", "--baseline", "0.5", "--mde", "0.1", "--variants", "100000000"], "--variants"),
    (["power", "--baseline", "nan", "--mde", "0.1"], "--baseline"),
    (["power", "--baseline", "0.5", "--mde", "0.1", "--daily-users", "inf"], "--daily-users"),
    (["power", "--baseline", "0.1", "--mde", "0.00000001"], "too small to plan"),
    (["power", "--baseline", "14", "--mde", "0.1", "--sd", "0"], "--sd"),
    (["power", "--baseline", "14", "--mde", "0.1", "--sd", "nan"], "--sd"),
    (["power", "--baseline", "0.1", "--mde", "0.1", "--method", "sequential", "--n-star",
      "0"], "--n-star"),
    (["power", "--baseline", "0.1", "--mde", "0.1", "--method", "bayesian"], "--method"),
    (["power", "--baseline", "-3", "--mde", "0.1", "--relative", "--sd", "1"],
     "positive baseline"),
    (["search", "modal", "--limit", "1000000000000000000000"], "--limit"),
    (["search", "modal", "--limit", "-1"], "--limit"),
    (["search", "modal", "--limit", "0"], "--limit"),
])
def test_nonsense_numbers_are_refused_naming_the_option(tmp_path, capsys, args, message):
    csv = tmp_path / "r.csv"
    csv.write_text(REFERENCE_CSV)
    assert main([a.replace("{csv}", str(csv)) for a in args]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: ") and message in err


def test_an_as_of_outside_the_event_years_is_refused(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text("user_id,event,timestamp\nu1,search,2026-01-01T10:00:00Z\n")
    milestones = tmp_path / "m.toml"
    milestones.write_text('[[milestones]]\nkey = "a"\nname = "A"\nphase = "P"\n'
                          'rule = "count(search) >= 1"\n')
    assert main(["kpis", str(events), "--milestones", str(milestones),
                 "--as-of", "0001-01-01T00:00:00+05:00"]) == 2
    err = capsys.readouterr().err
    assert "as_of" in err and "1900" in err


def test_retention_warns_about_an_event_that_never_occurs(tmp_path, capsys):
    events = tmp_path / "events.csv"
    events.write_text("user_id,event,timestamp\nu1,search,2026-01-01T10:00:00Z\n"
                      "u1,export,2026-01-03T10:00:00Z\n")
    assert main(["retention", str(events), "--event", "exports"]) == 0
    err = capsys.readouterr().err
    assert err.startswith("warning: ") and "'exports'" in err and "'export'" in err


def test_power_json():
    out = run("power", "--baseline", "0.1", "--mde", "0.1", "--relative", "--json")
    payload = json.loads(out.stdout)
    # sized for the relative lift the analysis tests (delta method), see test_planning.py
    expected = plan(0.1, 0.1, relative=True)
    assert payload["users_per_variant"] == expected.users_per_variant
    assert payload["total_users"] == expected.total_users
    assert payload["method"] == "frequentist"


def test_power_sizes_the_sequential_method_with_its_tuning():
    expected = plan(0.2, 0.05, relative=True, method="sequential", n_star=20_000)
    out = run("power", "--baseline", "0.2", "--mde", "0.05", "--relative", "--method",
              "sequential", "--n-star", "20000", "--json")
    assert out.returncode == 0, out.stderr
    payload = json.loads(out.stdout)
    assert payload["users_per_variant"] == expected.users_per_variant
    assert (payload["method"], payload["n_star"]) == ("sequential", 20_000)
    text = run("power", "--baseline", "0.2", "--mde", "0.05", "--relative", "--method",
               "sequential", "--n-star", "20000").stdout
    assert f"{expected.users_per_variant:,} users per variant" in text
    assert "sequential" in text and "20,000" in text


def test_power_says_which_n_star_suits_a_sequential_plan_and_that_plan_holds(tmp_path):
    text = run("power", "--baseline", "0.1", "--mde", "0.05", "--relative", "--method",
               "sequential").stdout
    advice = text.splitlines()[1]
    n_star = advice.split("--n-star ")[1].split()[0]
    total = advice.split(" users in total")[0].split()[-1]
    tuned = run("power", "--baseline", "0.1", "--mde", "0.05", "--relative", "--method",
                "sequential", "--n-star", n_star.replace(",", "")).stdout
    assert f"({total} in total)" in tuned, (advice, tuned)
    assert len(tuned.splitlines()) == 1, tuned  # tuned already: no more advice


def test_power_plans_a_mean_metric_from_its_standard_deviation():
    expected = plan(14.0, 0.05, relative=True, sd=10.0)
    out = run("power", "--baseline", "14", "--mde", "0.05", "--relative", "--sd", "10",
              "--json")
    assert out.returncode == 0, out.stderr
    assert json.loads(out.stdout)["users_per_variant"] == expected.users_per_variant
    assert "14 -> 14.7" in run("power", "--baseline", "14", "--mde", "0.05", "--relative",
                               "--sd", "10").stdout


def test_power_with_several_variants_says_the_alpha_of_each_comparison():
    text = run("power", "--baseline", "0.1", "--mde", "0.01", "--variants", "3").stdout
    assert "alpha 0.05" in text and "0.025 per comparison" in text


def test_power_refuses_an_effect_too_small_to_plan_and_prints_rates_that_differ():
    out = run("power", "--baseline", "0.1", "--mde", "0.00000001")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "too small to plan" in out.stderr and "larger MDE" in out.stderr
    text = run("power", "--baseline", "0.1", "--mde", "0.00004").stdout
    rates = re.search(r"detect ([\d.]+)% -> ([\d.]+)%", text).groups()
    assert rates[0] != rates[1] and float(rates[1]) == pytest.approx(10.004)


def test_a_vanishing_sample_ratio_p_value_reads_as_below_a_bound(tmp_path):
    path = tmp_path / "srm.csv"
    path.write_text("metric,variant,users,conversions\n"
                    "m,control,100000,1000\nm,treatment,50000,500\n")
    text = run("analyze", str(path)).stdout
    assert "p < 0.0001" in text and "p = 0:" not in text
    payload = json.loads(run("analyze", str(path), "--json").stdout)
    assert isinstance(payload["srm"]["p_value"], float)


def test_power_plans_an_uneven_split_from_weights():
    expected = plan(0.1, 0.1, relative=True, shares=[0.8, 0.2])
    for weights in ("0.8,0.2", "control=80,treatment=20"):
        out = run("power", "--baseline", "0.1", "--mde", "0.1", "--relative", "--weights",
                  weights, "--json")
        assert out.returncode == 0, out.stderr
        payload = json.loads(out.stdout)
        assert payload["users_per_arm"] == list(expected.users_per_arm)
        assert payload["total_users"] == expected.total_users
    text = run("power", "--baseline", "0.1", "--mde", "0.1", "--relative", "--weights",
               "control=0.8,treatment=0.2").stdout
    assert f"control {expected.users_per_arm[0]:,}" in text
    assert f"treatment {expected.users_per_arm[1]:,}" in text


def test_power_weights_and_variants_that_disagree_are_refused():
    out = run("power", "--baseline", "0.1", "--mde", "0.01", "--weights", "0.5,0.25,0.25",
              "--variants", "2")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "--weights" in out.stderr and "3" in out.stderr and "--variants" in out.stderr


def test_search_of_only_symbols_says_what_to_type(demo_workspace):
    out = run("search", "+++", workspace=demo_workspace)
    assert out.returncode == 0 and "no words to search for" in out.stdout


def test_kpis_search_export_import_on_demo(demo_workspace, tmp_path):
    folder = demo_workspace.parent
    kpis = json.loads(run("kpis", str(folder / "events"), "--milestones",
                          str(folder / "milestones.toml"), "--json").stdout)
    assert set(kpis) == {"users", "data_end", "milestones", "success_gap"}
    assert {"key", "name", "phase", "users", "eligible", "share",
            "conversion_from_previous"} <= set(kpis["milestones"][0])
    assert kpis["success_gap"]["from"] == "first_value"
    found = json.loads(run("search", "modal tour", "--json", workspace=demo_workspace).stdout)
    assert found["results"] and set(found["results"][0]) == {"kind", "id", "title", "snippet",
                                                             "score", "tags"}
    archive = tmp_path / "ws.zip"
    assert run("export", str(archive), workspace=demo_workspace).returncode == 0
    restored = tmp_path / "restored" / "growthlab.db"
    assert run("import", str(archive), workspace=restored).returncode == 0
    import sqlite3

    for table in ("experiments", "learnings", "checkins", "metric_results", "audit_log"):
        a = sqlite3.connect(demo_workspace).execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        b = sqlite3.connect(restored).execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        if table == "audit_log":  # the restore itself is the one new entry
            assert b[-1][3:5] == ("restore", "workspace")
            b = b[:-1]
        assert a == b, table
    assert (restored.parent / "events" / "events.parquet").read_bytes() == (
        folder / "events" / "events.parquet").read_bytes()


def test_every_cli_option_is_documented_in_the_readme():
    from pathlib import Path

    readme = (Path(__file__).parent.parent / "README.md").read_text()
    parser = build_parser()
    subparsers = next(a for a in parser._actions if a.dest == "command")
    for name, sub in subparsers.choices.items():
        assert f"growthlab {name}" in readme, name
        for action in sub._actions:
            for flag in action.option_strings:
                if flag.startswith("--") and flag != "--help":
                    assert flag in readme, f"{name} {flag}"


def test_one_sided_on_request(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    assert main(["analyze", str(path), "--json", "--alternative", "greater"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert result["p_value"] == pytest.approx(0.02789 / 2, abs=1e-4)
    assert result["ci_high"] is None
    assert main(["analyze", str(path), "--alternative", "less", "--method", "bayesian"]) == 2


def test_bayesian_prior_from_the_command_line(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    assert main(["analyze", str(path), "--json", "--method", "bayesian"]) == 0
    flat = json.loads(capsys.readouterr().out)["results"][0]
    assert main(["analyze", str(path), "--json", "--method", "bayesian",
                 "--prior-sd", "0.05"]) == 0
    shrunk = json.loads(capsys.readouterr().out)["results"][0]
    assert 0 < shrunk["estimate"] < flat["estimate"]
    assert main(["analyze", str(path), "--prior-sd", "0.05"]) == 2


def test_sequential_tuning(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    widths = []
    for n_star in ("5000", "20000"):
        assert main(["analyze", str(path), "--json", "--method", "sequential",
                     "--n-star", n_star]) == 0
        r = json.loads(capsys.readouterr().out)["results"][0]
        widths.append(r["ci_high"] - r["ci_low"])
    assert widths[1] < widths[0]  # tuned to the 20,000 users actually there: tighter


def test_analyze_events_reports_users_still_inside_their_window(demo_workspace):
    import pandas as pd

    folder = demo_workspace.parent
    args = ["analyze-events", str(folder / "events"), str(folder / "assignments.parquet"),
            "--milestones", str(folder / "milestones.toml"), "--experiment", "EXP-004", "--json"]
    counted = json.loads(run(*args).stdout)
    left_out = json.loads(run(*args, "--exclude-in-progress").stdout)
    assignments = pd.read_parquet(folder / "assignments.parquet")
    data_end = pd.read_parquet(folder / "events").timestamp.max()
    assert counted["data_end"] == data_end.isoformat()
    single = assignments.groupby("user_id").variant.transform("nunique") == 1
    assignments = assignments[single]
    rows = {r["metric"]: r for r in counted["results"]}
    kept = {r["metric"]: r for r in left_out["results"]}
    for metric, horizon in (("interest", 7), ("first_value", 14)):
        open_window = assignments.assigned_at + pd.Timedelta(days=horizon) > data_end
        expected = assignments[open_window].groupby("variant").size().to_dict()
        assert rows[metric]["in_progress_users"] == expected["treatment"] > 0
        assert rows[metric]["control_in_progress_users"] == expected["control"] > 0
        assert kept[metric]["users"] == rows[metric]["users"] - expected["treatment"]
        assert kept[metric]["control_users"] == (rows[metric]["control_users"]
                                                 - expected["control"])
    # 60-day windows in a 4-week-old experiment: no one is decided yet, so it is left out.
    assert "continued_value" in left_out["undecided_metrics"]
    assert "continued_value" not in kept and counted["undecided_metrics"] == []


def test_analyze_events_counts_users_inside_the_window_that_closes_last(demo_workspace,
                                                                          tmp_path):
    """The last milestone listed need not have the longest window: the note must count the
    users still waiting on the longest one."""
    folder = demo_workspace.parent
    milestones = tmp_path / "m.toml"
    milestones.write_text('[[milestones]]\nkey = "first_value"\nname = "First value"\n'
                          'rule = "count(search) >= 5"\nwindow_days = 14\n\n'
                          '[[milestones]]\nkey = "interest"\nname = "Interest"\n'
                          'rule = "count(search) >= 1"\nwindow_days = 7\n')
    args = ["analyze-events", str(folder / "events"), str(folder / "assignments.parquet"),
            "--milestones", str(milestones), "--experiment", "EXP-004"]
    payload = json.loads(run(*args, "--json").stdout)
    waiting = {r["metric"]: r["in_progress_users"] + r["control_in_progress_users"]
               for r in payload["results"]}
    assert waiting["first_value"] > waiting["interest"]
    out = run(*args).stdout
    assert f"{waiting['first_value']:,} user(s) are still inside the first_value window" in out


def test_analyze_events_with_nothing_to_test_names_each_milestone_and_the_start(tmp_path,
                                                                               capsys):
    """Sign-up happens before assignment, and an experiment's windows start at assigned_at:
    the refusal must say which milestones no one reached and why that may be."""
    events, assignments, milestones = (tmp_path / n for n in ("e.csv", "a.csv", "m.toml"))
    events.write_text("user_id,event,timestamp\n" + "".join(
        f"u{i},signed_up,2026-01-01T09:00:00Z\nu{i},visit,2026-01-02T10:00:00Z\n"
        for i in range(6)))
    assignments.write_text("user_id,experiment,variant,assigned_at\n" + "".join(
        f"u{i},E,{'control' if i % 2 else 'treatment'},2026-01-01T12:00:00Z\n"
        for i in range(6)))
    milestones.write_text('[[milestones]]\nkey = "signed_up"\nname = "Signed up"\n'
                          'rule = "count(signed_up) >= 1"\n\n[[milestones]]\nkey = "came_back"'
                          '\nname = "Came back"\nrule = "reached(signed_up) and '
                          'count(visit) >= 1"\n')
    assert main(["analyze-events", str(events), str(assignments), "--milestones",
                 str(milestones), "--experiment", "E"]) == 2
    err = capsys.readouterr().err
    assert "signed_up, came_back: reached by none" in err
    assert "before assigned_at do not count" in err


def test_kpis_as_of_is_checked(demo_workspace):
    folder = demo_workspace.parent
    out = run("kpis", str(folder / "events"), "--milestones", str(folder / "milestones.toml"),
              "--as-of", "last tuesday")
    assert out.returncode == 2 and "as_of" in out.stderr and "ISO 8601" in out.stderr
    out = run("kpis", str(folder / "events"), "--milestones", str(folder / "milestones.toml"),
              "--as-of", "2026-10-01", "--json")
    assert json.loads(out.stdout)["data_end"] == "2026-10-01T00:00:00"
    assert "--as-of" not in out.stderr and "no event comes before" not in out.stderr


@pytest.mark.parametrize("as_of,said", [
    ("2026-12-31", "is after the last event (2026-01-03"),
    ("2020-01-01", "no event comes before 2020-01-01 (the first is 2026-01-01"),
])
def test_kpis_warns_when_as_of_lies_outside_the_data(tmp_path, as_of, said):
    events, milestones = tmp_path / "e.csv", tmp_path / "m.toml"
    events.write_text("user_id,event,timestamp\nu1,visit,2026-01-01T10:00:00Z\n"
                      "u2,visit,2026-01-03T10:00:00Z\n")
    milestones.write_text('[[milestones]]\nkey = "v"\nname = "V"\nrule = "count(visit) >= 2"\n'
                          'window_days = 7\n')
    out = run("kpis", str(events), "--milestones", str(milestones), "--as-of", as_of, "--json")
    assert out.returncode == 0 and said in out.stderr, out.stderr


HOLDOUT_CSV = ("metric,variant,users,conversions\n"
               "first_value,treatment,8000,1040\nfirst_value,holdout,2000,200\n")


def test_control_and_weights_by_name_on_the_command_line(tmp_path, capsys):
    path = tmp_path / "holdout.csv"
    path.write_text(HOLDOUT_CSV)
    assert main(["analyze", str(path), "--json", "--control", "holdout",
                 "--weights", "holdout=0.2,treatment=0.8"]) == 0
    payload = json.loads(capsys.readouterr().out)
    result = payload["results"][0]
    assert (result["control"], result["variant"]) == ("holdout", "treatment")
    assert result["estimate"] == pytest.approx(0.30)
    assert payload["srm"]["flagged"] is False
    assert payload["srm"]["variants"] == ["treatment", "holdout"]
    assert main(["analyze", str(path), "--json", "--control", "holdout",
                 "--weights", "0.8,0.2"]) == 0  # a bare list, in the order of the file
    assert json.loads(capsys.readouterr().out)["srm"]["flagged"] is False


def test_analyze_events_takes_the_control_by_name(tmp_path, capsys):
    events = ["user_id,event,timestamp"]
    assignments = ["user_id,experiment,variant,assigned_at"]
    for i in range(400):
        variant = "treatment" if i % 2 else "holdout"
        assignments.append(f"u{i},x,{variant},2026-01-01T00:00:00")
        events.append(f"u{i},open,2026-01-01T01:00:00")
        if i % 5 == 0 or (variant == "treatment" and i % 3 == 0):
            events.append(f"u{i},export,2026-01-02T00:00:00")
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "a.csv").write_text("\n".join(assignments) + "\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "exported"\nname = "Exported"\n'
                                     'rule = "count(export) >= 1"\n')
    assert main(["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.csv"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "x", "--json",
                 "--control", "holdout", "--weights", "holdout=1,treatment=1"]) == 0
    result = json.loads(capsys.readouterr().out)["results"][0]
    assert (result["control"], result["variant"]) == ("holdout", "treatment")
    assert result["mean"] > result["control_mean"] and result["estimate"] > 0


def test_one_failed_comparison_does_not_stop_the_others(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\n"
                    "first_value,control,10000,1000\nfirst_value,treatment,10000,1100\n"
                    "rare,control,10000,0\nrare,treatment,10000,4\n"
                    "lonely,control,10000,10\n")
    assert main(["analyze", str(path), "--json"]) == 0
    results = {r["metric"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["first_value"]["error"] is None
    assert results["first_value"]["p_value"] == pytest.approx(0.02789, abs=1e-4)
    assert results["rare"]["error"]["code"] == "no_variance"
    assert results["rare"]["estimate"] is None and results["rare"]["p_value"] is None
    assert results["lonely"]["error"]["code"] == "missing_treatment_row"
    assert main(["analyze", str(path)]) == 0
    text = capsys.readouterr().out
    assert "rare cannot be compared" in text and "converted 0% of its users" in text
    assert "nan" not in text.lower() and "significant at 95%" in text


def test_the_verdict_states_the_confidence_level_of_the_chosen_alpha(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    assert main(["analyze", str(path), "--alpha", "0.1"]) == 0
    out = capsys.readouterr().out
    assert "significant at 90%" in out and "95%" not in out


def _result(**fields):
    base = {"experiment": None, "metric": "m", "kind": "mean", "variant": "treatment",
            "control": "control", "users": 100, "control_users": 100, "mean": 1.0,
            "control_mean": 1.0, "difference": "relative", "estimate": 0.1, "ci_low": 0.05,
            "ci_high": 0.15, "p_value": 0.001, "adjusted_p_value": None, "chance_to_win": None,
            "risk": None, "significant": True, "error": None}
    return base | fields


def test_a_negative_metric_going_from_minus_10_to_minus_5_rose():
    from growthlab.stats import MetricRow, Options, analyze

    rows = [MetricRow("net", "control", 100, sum=-1000, sum_squares=10400),
            MetricRow("net", "treatment", 100, sum=-500, sum_squares=2900)]
    from growthlab.report import describe

    text = describe(analyze(rows).results[0])
    assert "raised net by 50.0%" in text and "CI +" in text
    text = describe(analyze(rows, Options(method="bayesian")).results[0])
    assert "raised net by 50.0%" in text and "chance to beat control: 100.0%" in text


def test_a_significant_rise_of_a_negative_metric_suggests_a_win():
    from growthlab.experiments import suggest_result

    rose = _result(metric="net", control_mean=-10.0, mean=-5.0, estimate=-0.5, ci_low=-0.6,
                   ci_high=-0.4)
    assert suggest_result([rose], False, "net") == "won"


def test_absolute_differences_of_proportions_read_in_percentage_points():
    from growthlab.report import describe

    text = describe(_result(kind="proportion", difference="absolute", estimate=0.021,
                            ci_low=0.011, ci_high=0.031, control_mean=0.1, mean=0.121))
    assert "by 2.1 pp (CI +1.1 pp to +3.1 pp)" in text


def test_a_sample_ratio_mismatch_withholds_the_verdict(tmp_path, capsys):
    from growthlab.report import describe
    from growthlab.stats import srm_test

    flagged = srm_test([1000, 1200])
    text = describe(_result(), srm=flagged)
    assert "significant" not in text and "cannot be trusted" in text
    assert "sample ratio mismatch" in text
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\ncv,control,10000,1000\n"
                    "cv,treatment,12000,1500\n")
    assert main(["analyze", str(path)]) == 0
    out = capsys.readouterr().out
    assert "cannot be trusted" in out and "significant at" not in out


@pytest.mark.parametrize("rows,code", [
    ("cv,control,100,10\ncv,b,100,12\nrev,b,100,5\n", "missing_control_row"),
    ("cv,control,100,100\ncv,b,100,100\n", "no_variance"),
    ("cv,control,100,0\ncv,b,100,5\n", "no_variance"),
    ("cv,control,100,10\ncv,b,100,0\n", "zero_treatment_values"),
])
def test_comparisons_that_cannot_be_computed_exit_0_with_an_error(tmp_path, capsys, rows, code):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\n" + rows)
    assert main(["analyze", str(path), "--json"]) == 0
    errors = [r["error"] for r in json.loads(capsys.readouterr().out)["results"] if r["error"]]
    assert [e["code"] for e in errors] == [code] and errors[0]["message"]


def test_the_results_table_reads_like_the_sentences():
    from growthlab.report import results_table

    rose = _result(metric="net", control_mean=-10.0, mean=-5.0, estimate=-0.5, ci_low=-0.6,
                   ci_high=-0.4)
    points = _result(kind="proportion", difference="absolute", estimate=0.021, ci_low=0.011,
                     ci_high=0.031)
    failed = _result(estimate=None, ci_low=None, ci_high=None, p_value=None, significant=False,
                     error={"code": "zero_control_mean", "message": "..."})
    rows = results_table([rose, failed])
    assert (rows[0]["lift"], rows[0]["95% CI"]) == ("+50.0%", "+40.0% to +60.0%")
    assert rows[1]["lift"] == "–" and rows[1]["significant"] == "could not compute"
    row = results_table([points])[0]
    assert (row["difference"], row["95% CI"]) == ("+2.1 pp", "+1.1 pp to +3.1 pp")


def test_the_forest_chart_colours_a_negative_metric_that_rose_as_a_win():
    from growthlab import charts
    from growthlab.stats import MetricRow, analyze

    rows = [MetricRow("net", "control", 100, sum=-1000, sum_squares=10400),
            MetricRow("net", "treatment", 100, sum=-500, sum_squares=2900)]
    assert charts.forest(analyze(rows).results).data[0].marker.color == charts.WIN


def staggered_rollout(tmp_path):
    """Treatment's share of assignments goes from 20% to 80% halfway; both convert alike."""
    events, assignments = ["user_id,event,timestamp"], ["user_id,experiment,variant,assigned_at"]
    for i in range(2000):
        day, late = i * 20 // 2000, i >= 1000
        variant = "treatment" if (i % 5 < 4) == late else "control"
        when = f"2026-01-{1 + day:02d}T10:00:00"
        assignments.append(f"u{i},ramp,{variant},{when}")
        events.append(f"u{i},open,{when}")
        if i % 5 in (0, 3):
            events.append(f"u{i},export,2026-01-{2 + day:02d}T10:00:00")
    events.append("z,open,2026-01-22T00:00:00")  # the data ends on day 21
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "a.csv").write_text("\n".join(assignments) + "\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "exported"\nname = "Exported"\n'
                                     'rule = "count(export) >= 1"\nwindow_days = 14\n')
    return [str(tmp_path / "e.csv"), str(tmp_path / "a.csv"), "--milestones",
            str(tmp_path / "m.toml"), "--experiment", "ramp"]


def test_a_staggered_rollout_is_flagged_and_the_sample_ratio_counts_assigned_users(tmp_path,
                                                                                  capsys):
    args = staggered_rollout(tmp_path)
    assert main(["analyze-events", *args, "--json"]) == 0
    counted = json.loads(capsys.readouterr().out)
    assert counted["unequal_censoring"] == ["exported"]
    assert main(["analyze-events", *args]) == 0
    assert "rerun with --exclude-in-progress" in capsys.readouterr().err
    assert main(["analyze-events", *args, "--json", "--exclude-in-progress"]) == 0
    matured = json.loads(capsys.readouterr().out)
    assert matured["srm"]["users"] == counted["srm"]["users"] == [1000, 1000]
    assert matured["srm"]["flagged"] is False
    assert matured["results"][0]["significant"] is False  # both arms convert 40%


def test_a_verdict_on_a_milestone_whose_windows_are_still_open_says_it_is_not_final(
        tmp_path, capsys):
    """Every user was assigned in the last 10 days and the milestone has a 30-day window: the
    comparison counts who reached it by the data end, which the sentence must say, not read
    as the effect on the milestone."""
    events, assignments = ["user_id,event,timestamp"], ["user_id,experiment,variant,assigned_at"]
    for i in range(1200):
        variant = "treatment" if i % 2 else "control"
        when = f"2026-01-{1 + i % 10:02d}T10:00:00"
        assignments.append(f"u{i},fresh,{variant},{when}")
        events.append(f"u{i},open,{when}")
        if i % 10 < (6 if variant == "treatment" else 3):
            events.append(f"u{i},export,{when[:-8]}11:00:00")
    events.append("z,open,2026-01-12T00:00:00")
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "a.csv").write_text("\n".join(assignments) + "\n")
    (tmp_path / "m.toml").write_text(
        '[[milestones]]\nkey = "quick"\nname = "Quick"\nrule = "count(export) >= 1"\n'
        'window_days = 1\n[[milestones]]\nkey = "month"\nname = "Month"\n'
        'rule = "count(export) >= 1"\nwindow_days = 30\n')
    assert main(["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.csv"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "fresh"]) == 0
    lines = capsys.readouterr().out.splitlines()
    month = next(line for line in lines if "month" in line and "raised" in line)
    quick = next(line for line in lines if "quick" in line and "raised" in line)
    assert "not final: 100% of users are still inside their 30-day window" in month, month
    assert "not final" not in quick, quick


def test_a_relative_lift_over_a_mean_a_few_large_values_dominate_says_so(tmp_path, capsys):
    """Revenue where 5% of users pay lognormal amounts: the relative test called 'Treatment
    lowered revenue by 47.5%, significant' about three times as often as it should (15.8%
    at alpha 0.05, by simulation); the control's mean is only known to +-33% here."""
    path = tmp_path / "whale.csv"
    path.write_text("metric,variant,users,sum,sum_squares\n"
                    "revenue,control,2000,20650.32099238346,46832509.49237194\n"
                    "revenue,treatment,2000,10846.134283244539,7986718.618447022\n"
                    "steady,control,2000,20000,260000\nsteady,treatment,2000,21000,280000\n")
    assert main(["analyze", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    revenue = next(line for line in lines if "revenue" in line)
    steady = next(line for line in lines if "steady" in line)
    assert "the control's mean is known only to ±33%" in revenue, revenue
    assert "--difference absolute" in revenue, revenue
    assert "known only" not in steady, steady
    assert main(["analyze", str(path), "--difference", "absolute"]) == 0
    assert "known only" not in capsys.readouterr().out


def test_a_tiny_significant_effect_never_reads_as_zero(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\n"
                    "huge,control,900000000000,450000000000\n"
                    "huge,treatment,900000000000,450004500000\n")
    assert main(["analyze", str(path)]) == 0
    text = capsys.readouterr().out
    assert "by 0.0010%" in text and "0.0%" not in text
    assert main(["analyze", str(path), "--difference", "absolute"]) == 0
    assert "by 0.00050 pp" in capsys.readouterr().out


def test_one_sided_tests_follow_the_metric_over_a_negative_control_mean():
    from growthlab.stats import MetricRow, Options, analyze

    rows = [MetricRow("net", "control", 100, sum=-1000, sum_squares=10400),
            MetricRow("net", "treatment", 100, sum=-500, sum_squares=2900)]  # -10 -> -5: rose
    greater = analyze(rows, Options(alternative="greater")).results[0]
    less = analyze(rows, Options(alternative="less")).results[0]
    two_sided = analyze(rows).results[0]
    assert greater["significant"] and greater["p_value"] == pytest.approx(
        two_sided["p_value"] / 2)
    assert not less["significant"] and less["p_value"] > 0.99
    assert greater["ci_low"] is None and greater["ci_high"] < 0  # the lift is below 0


def test_two_arms_without_a_single_conversion_are_not_told_to_switch_to_absolute(tmp_path,
                                                                                capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nrare,control,5000,0\n"
                    "rare,treatment,5000,0\nfirst_value,control,5000,500\n"
                    "first_value,treatment,5000,560\n")
    assert main(["analyze", str(path), "--json"]) == 0
    results = {r["metric"]: r for r in json.loads(capsys.readouterr().out)["results"]}
    assert results["rare"]["error"]["code"] == "no_variance"
    assert results["first_value"]["error"] is None


def test_the_control_is_found_whatever_its_case_and_names_keep_their_case(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nactivated,new_flow B,5000,600\n"
                    "activated,Control,5000,500\n")
    assert main(["analyze", str(path)]) == 0
    assert capsys.readouterr().out.startswith("New flow B raised activated by 20.0%")


LOADED = ("import sys, runpy; sys.argv = ['growthlab', *sys.argv[1:]]\n"
          "try:\n    runpy.run_module('growthlab', run_name='__main__')\n"
          "except SystemExit as exit:\n    assert not exit.code, exit.code\n"
          "print(sorted({m.split('.')[0] for m in sys.modules}), file=sys.stderr)")


@pytest.mark.parametrize("command", [
    ["kpis", "{events}", "--milestones", "{milestones}", "--json"],
    ["retention", "{events}", "--json"],
    ["retention", "{events}", "--milestones", "{milestones}", "--milestone", "a"],
])
def test_kpis_and_retention_start_without_the_statistics_stack(tmp_path, command):
    events, milestones = tmp_path / "events.csv", tmp_path / "m.toml"
    events.write_text("user_id,event,timestamp\nu1,x,2026-01-01T10:00:00\n"
                      "u2,x,2026-01-09T10:00:00\n")
    milestones.write_text('[[milestones]]\nkey = "a"\nname = "A"\nrule = "count(x) >= 1"\n')
    argv = [a.format(events=events, milestones=milestones) for a in command]
    out = subprocess.run([sys.executable, "-c", LOADED, *argv], capture_output=True, text=True,
                         timeout=120)
    loaded = json.loads(out.stderr.strip().splitlines()[-1].replace("'", '"'))
    assert out.returncode == 0, out.stderr
    assert not {"scipy", "statsmodels", "pandas"} & set(loaded)


def test_analyze_needs_no_scipy_stats_statsmodels_or_pandas(tmp_path):
    path = tmp_path / "r.csv"
    path.write_text(REFERENCE_CSV)
    code = LOADED.replace("m.split('.')[0] for m", "m for m")
    for method in ("frequentist", "bayesian", "sequential"):
        out = subprocess.run([sys.executable, "-c", code, "analyze", str(path), "--json",
                              "--method", method], capture_output=True, text=True, timeout=120)
        loaded = set(json.loads(out.stderr.strip().splitlines()[-1].replace("'", '"')))
        assert out.returncode == 0, out.stderr
        assert not {"scipy.stats", "statsmodels", "pandas"} & loaded, method
        if method != "frequentist":  # only the t tails need scipy.special
            assert not any(m.startswith("scipy") for m in loaded), method


@pytest.mark.parametrize("lag,warned", [(-2, True), (2, False)])
def test_analyze_events_warns_when_counted_events_come_just_before_assignment(tmp_path, capsys,
                                                                            lag, warned):
    """Assigned two seconds after signing up (or a clock a little off): the sign-up does not
    count, so a milestone needing it is reached by few, and the numbers look plausible."""
    events = ["user_id,event,timestamp"]
    assignments = ["user_id,experiment,variant,assigned_at"]
    for i in range(400):
        assignments.append(f"u{i},x,{'treatment' if i % 2 else 'control'},2026-01-01T10:00:00")
        signed = "2026-01-01T10:00:00" if i % 10 == 0 else f"2026-01-01T09:59:{60 + lag:02d}" \
            if lag < 0 else f"2026-01-01T10:00:{lag:02d}"
        events.append(f"u{i},signed_up,{signed}")
        if i % 3:
            events.append(f"u{i},export,2026-01-02T00:00:00")
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "a.csv").write_text("\n".join(assignments) + "\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "activated"\nname = "Activated"\n'
                                     'rule = "count(signed_up) >= 1 and count(export) >= 1"\n')
    code = main(["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.csv"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "x"])
    err = capsys.readouterr().err
    assert code == 0, err
    said = "360 of 400 assigned users (90%) did 'signed_up' in the hour before their assignment"
    assert (said in err) is warned, err


def test_sentences_name_both_arms_when_the_comparator_is_not_called_control(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nm,A,1000,100\nm,B,1000,120\n")
    assert main(["analyze", str(path)]) == 0
    captured = capsys.readouterr()
    assert "B moved m up by 20.0% against A (" in captured.out
    assert "no variant is called control" in captured.err and "'A'" in captured.err
    assert main(["analyze", str(path), "--control", "b"]) == 0
    captured = capsys.readouterr()
    assert "A moved m down by 16.7% against B (" in captured.out and not captured.err


def test_a_variant_called_control_is_named_as_such_when_it_is_not_the_comparator(tmp_path,
                                                                                   capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nclicked,control,5000,500\n"
                    "clicked,treatment_a,5000,520\nclicked,treatment b,5000,640\n")
    assert main(["analyze", str(path), "--control", "treatment b"]) == 0
    out = capsys.readouterr().out
    assert "control lowered clicked by 21.9% against treatment b (" in out
    assert "treatment_a lowered clicked by 18.8% against treatment b (" in out
    assert main(["analyze", str(path)]) == 0
    captured = capsys.readouterr()
    assert "Treatment b raised clicked by 28.0% (" in captured.out and not captured.err


def test_variant_names_differing_only_in_case_are_refused_naming_both_lines(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nm,control,1000,100\n"
                    "m,treatment,1000,120\nm, Treatment ,1000,130\n")
    assert main(["analyze", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:4") and "'Treatment'" in err
    assert "'treatment'" in err and "line 3" in err


def _events_files(tmp_path, spell):
    events = ["user_id,event,timestamp"]
    assignments = ["user_id,experiment,variant,assigned_at"]
    for i in range(400):
        variant = spell(i) if i % 2 else "control"
        assignments.append(f"u{i},x,{variant},2026-01-01T00:00:00")
        events.append(f"u{i},open,2026-01-01T01:00:00")
        if i % 5 == 0 or (i % 2 and i % 3 == 0):
            events.append(f"u{i},export,2026-01-02T00:00:00")
    if spell(1) != spell(3):
        assignments.append("u1,x,treatment,2026-01-01T00:00:00")  # the same arm, respelt
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "a.csv").write_text("\n".join(assignments) + "\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "exported"\nname = "Exported"\n'
                                     'rule = "count(export) >= 1"\n')
    return ["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.csv"),
            "--milestones", str(tmp_path / "m.toml"), "--experiment", "x", "--json"]


def test_analyze_events_strips_spaces_around_assignment_variants(tmp_path, capsys):
    args = _events_files(tmp_path, lambda i: "treatment " if i % 4 == 1 else "treatment")
    assert main(args) == 0
    payload = json.loads(capsys.readouterr().out)
    assert [r["variant"] for r in payload["results"]] == ["treatment"]
    assert payload["excluded_users"] == 0 and payload["results"][0]["users"] == 200


def test_analyze_events_refuses_variants_differing_only_in_case(tmp_path, capsys):
    args = _events_files(tmp_path, lambda i: "Treatment" if i % 4 == 1 else "treatment")
    assert main(args) == 2
    err = capsys.readouterr().err
    assert "'treatment'" in err and "'Treatment'" in err and "a.csv" in err


def test_weights_name_variants_as_the_control_does(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("metric,variant,users,conversions\nm,control,1000,100\nm,treatment,1000,120\n")
    assert main(["analyze", str(path), "--json", "--control", "Control",
                 "--weights", "Control=0.5, Treatment =0.5"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["srm"]["expected_weights"] == [0.5, 0.5]


def test_a_staggered_rollout_withholds_the_verdict_after_its_warning(tmp_path, capsys):
    events = ["user_id,event,timestamp"]
    assignments = ["user_id,experiment,variant,assigned_at"]
    for i in range(400):
        day = "20" if i % 2 else "01"  # treatment starts 19 days after control
        assignments.append(f"u{i},x,{'treatment' if i % 2 else 'control'},2026-01-{day}T00:00:00")
        events.append(f"u{i},visit,2026-01-{day}T01:00:00")
        if i % 3 == 0 or (i % 2 == 0 and i % 5 == 0):
            events.append(f"u{i},click,2026-01-{day}T12:00:00")
    events.append("u0,visit,2026-01-21T00:00:00")
    (tmp_path / "e.csv").write_text("\n".join(events) + "\n")
    (tmp_path / "a.csv").write_text("\n".join(assignments) + "\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "clicked"\nname = "Clicked"\n'
                                     'rule = "count(click) >= 1"\nwindow_days = 14\n')
    assert main(["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.csv"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "x"]) == 0
    captured = capsys.readouterr()
    out = captured.out
    # DESIGN: warnings go to stderr (stdout stays the analysis a script reads)
    assert "warning: the arms have different shares" in captured.err
    assert "warning:" not in out
    sentence = next(line for line in out.splitlines() if "clicked" in line and "by" in line)
    assert "significant at" not in sentence and "cannot be trusted" in sentence
    assert "staggered" in sentence


def test_power_weights_by_name_plan_the_arm_called_control_as_the_control():
    from growthlab.stats import plan

    expected = plan(0.1, 0.02, shares=[0.8, 0.2])
    out = run("power", "--baseline", "0.1", "--mde", "0.02", "--weights",
              "treatment=0.2,control=0.8")
    assert out.returncode == 0, out.stderr
    assert f"{expected.total_users:,} users in total (control {expected.users_per_arm[0]:,}, "\
        f"treatment {expected.users_per_arm[1]:,})" in out.stdout
    twins = run("power", "--baseline", "0.1", "--mde", "0.02", "--weights",
                "control=0.8,Control=0.2")
    assert twins.returncode == 2 and "--weights" in twins.stderr and "once" in twins.stderr


@pytest.mark.parametrize("args,says", [
    (["--n-star", "500"], "--n-star"),
    (["--power", "0.04"], "--power"),
])
def test_power_options_that_would_be_ignored_or_meaningless_are_refused(args, says):
    out = run("power", "--baseline", "0.1", "--mde", "0.02", *args)
    assert out.returncode == 2 and says in out.stderr and "Traceback" not in out.stderr


FEWER_ERRORS_CSV = ("metric,variant,users,conversions\n"
                    "errors,control,10000,1000\nerrors,treatment,10000,864\n"
                    "first_value,control,10000,1000\nfirst_value,treatment,10000,1100\n")


def test_lower_is_better_changes_the_sentences_not_the_json(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(FEWER_ERRORS_CSV)
    assert main(["analyze", str(path), "--json"]) == 0
    plain = capsys.readouterr().out
    assert main(["analyze", str(path), "--json", "--lower-is-better", "errors"]) == 0
    assert capsys.readouterr().out == plain
    assert main(["analyze", str(path), "--method", "bayesian",
                 "--lower-is-better", "errors"]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].startswith("Treatment lowered errors (lower is better) by 13.6%")
    assert "chance to beat control: 100.0%" in lines[0]
    assert lines[1].startswith("Treatment raised first_value by 10.0%")
    assert "lower is better" not in lines[1]


def test_lower_is_better_naming_a_metric_the_results_lack_warns(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(FEWER_ERRORS_CSV)
    assert main(["analyze", str(path), "--lower-is-better", "errors, eror"]) == 0
    captured = capsys.readouterr()
    assert "warning: --lower-is-better names eror, which no result has" in captured.err
    assert "(lower is better)" in captured.out


def test_analyze_events_takes_lower_is_better(tmp_path, capsys):
    args = _events_files(tmp_path, lambda i: "treatment")[:-1]
    assert main([*args, "--lower-is-better", "exported"]) == 0
    sentence = next(line for line in capsys.readouterr().out.splitlines()
                    if "exported" in line)
    assert sentence.startswith("Treatment raised exported (lower is better) by")
