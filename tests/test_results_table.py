"""Results of many comparisons: the columnar analysis agrees with `analyze`, and the table,
the summary and the pages a squad reads are shaped for people (growthlab/report.py)."""

import random

import pytest

from growthlab.errors import StatsError
from growthlab.stats import MetricRow, Options, analyze
from growthlab.stats.analysis import drop_constant_metrics, sample_ratio
from growthlab.stats.table import ResultColumns, analyze_columns
from growthlab.stats.table import drop_constant_metrics as drop_constant_columns
from growthlab.stats.table import sample_ratio as sample_ratio_columns


def program(seed: int, metrics: int = 60) -> list[MetricRow]:
    """Proportion and mean metrics (some with CUPED) over three variants, with missing rows,
    a control that never converts, arms with no variation and a flat metric."""
    rng = random.Random(seed)
    rows = []
    for i in range(metrics):
        name = f"metric_{i}"
        kind = rng.random()
        for variant in ("control", "b", "c"):
            if rng.random() < 0.08:
                continue
            n = rng.randint(50, 5000)
            if kind < 0.45:
                rate = 0.0 if variant == "control" and i % 17 == 0 else rng.uniform(0.01, 0.6)
                rows.append(MetricRow(name, variant, n, conversions=round(n * rate),
                                      experiment="EXP-1"))
            elif i % 23 == 0:
                rows.append(MetricRow(name, variant, n, sum=3.0 * n, sum_squares=9.0 * n,
                                      experiment="EXP-1"))
            else:
                mean, sd = rng.uniform(-5, 20), rng.uniform(0.5, 9)
                extra = {}
                if i % 4 == 0:
                    pre = mean * 0.8
                    extra = {"pre_sum": n * pre, "pre_sum_squares": (n - 1) * sd**2 + n * pre**2,
                             "sum_product": (n - 1) * 0.6 * sd * sd + n * pre * mean}
                rows.append(MetricRow(name, variant, n, sum=n * mean,
                                      sum_squares=(n - 1) * sd**2 + n * mean**2,
                                      experiment="EXP-1", **extra))
    for variant in ("control", "b", "c", "only_here"):
        rows.append(MetricRow("always", variant, 100, conversions=100, experiment="EXP-1"))
    return rows


@pytest.mark.parametrize("seed", range(3))
@pytest.mark.parametrize("options", [
    Options(), Options(correction="holm"), Options(correction="bh", difference="absolute"),
    Options(method="bayesian", prior_sd=0.2), Options(method="sequential", correction="holm"),
    Options(control="b", alternative="greater"), Options(cuped=False)])
def test_the_columnar_analysis_gives_analyze_s_results(seed, options):
    rows, _ = drop_constant_metrics(program(seed))
    expected = analyze(rows, options).results
    columns, _ = drop_constant_columns(ResultColumns.from_rows(program(seed)))
    got = analyze_columns(columns, options)
    assert len(got) == len(expected)
    assert got.results(range(len(got))) == expected
    assert any(r["error"] for r in expected) and any(r["significant"] for r in expected)


def test_constant_metrics_and_the_sample_ratio_match_the_row_versions():
    rows = program(5)
    kept, skipped = drop_constant_metrics(rows)
    columns, skipped_columns = drop_constant_columns(ResultColumns.from_rows(rows))
    assert skipped_columns == skipped == ["always"]
    assert [columns.row(i) for i in range(len(columns))] == kept
    weights = {"control": 0.5, "b": 0.25, "c": 0.25}
    assert sample_ratio_columns(columns, weights) == sample_ratio(kept, weights)


def test_dropping_a_flat_metric_keeps_the_control_the_rows_would_pick():
    """With no variant named control, the first one listed is the control. A flat metric
    listed first with the arms the other way round must not make the treatment the control
    once it is dropped (the page's columns and the command's rows agree)."""
    rows = [MetricRow("flat", "new_flow", 100, conversions=100),
            MetricRow("flat", "old_flow", 100, conversions=100),
            MetricRow("activation", "old_flow", 1000, conversions=100),
            MetricRow("activation", "new_flow", 1000, conversions=150)]
    kept, _ = drop_constant_metrics(rows)
    columns, _ = drop_constant_columns(ResultColumns.from_rows(rows))
    assert columns.variants() == ["old_flow", "new_flow"]
    by_rows = analyze(kept).results
    assert [(r["control"], r["variant"]) for r in by_rows] == [("old_flow", "new_flow")]
    assert analyze_columns(columns).results(range(1)) == by_rows


@pytest.mark.parametrize("rows,message", [
    ([("m", "control", 10, 1), ("m", "control", 10, 2), ("m", "b", 10, 1)], "appears twice"),
    ([("m", "control", 10, 1), ("n", "control", 10, 2)], "only one variant"),
])
def test_bad_result_sets_are_refused_as_analyze_refuses_them(rows, message):
    rows = [MetricRow(*r) for r in rows]
    with pytest.raises(StatsError, match=message) as by_rows:
        analyze(rows)
    with pytest.raises(StatsError, match=message) as by_columns:
        analyze_columns(ResultColumns.from_rows(rows))
    assert str(by_columns.value) == str(by_rows.value)


def _table(options: Options, primary: str | None = "metric_3"):
    from growthlab.report import results_table

    rows, _ = drop_constant_metrics(program(1))
    analysis = analyze_columns(ResultColumns.from_rows(rows), options)
    results = analysis.results(range(len(analysis)))
    return results, results_table(results, primary=primary, alpha=options.alpha)


@pytest.mark.parametrize("options,hidden,shown", [
    (Options(), {"adjusted p", "chance to win"}, {"p-value", "95% CI"}),
    (Options(correction="holm"), {"chance to win"}, {"p-value", "adjusted p"}),
    (Options(method="bayesian"), {"p-value", "adjusted p"},
     {"chance to win", "95% credible interval"}),
    (Options(method="sequential", alpha=0.1), {"chance to win", "adjusted p"},
     {"p-value", "90% CI"}),
])
def test_the_table_hides_what_a_method_does_not_have_and_never_shows_none(options, hidden,
                                                                          shown):
    _, table = _table(options)
    assert not hidden & set(table[0]) and shown <= set(table[0])
    cells = [value for row in table for value in row.values()]
    assert None not in cells and not any("None" in str(v) or "nan" in str(v) for v in cells)


def test_absolute_differences_of_proportions_read_in_percentage_points():
    results, table = _table(Options(difference="absolute"))
    for r, row in zip(results, table, strict=True):
        if r["error"]:
            assert row["difference"] == "–"
        elif r["kind"] == "proportion":
            points = float(row["difference"].removesuffix(" pp"))
            exact = r["estimate"] * 100
            assert abs(points - exact) <= max(0.05, abs(exact) * 0.05)
            assert row["difference"].endswith(" pp") and row["95% CI"].count(" pp") == 2
        else:
            assert "pp" not in row["difference"]


def test_the_summary_puts_the_primary_metric_first_and_counts_what_it_does_not_say():
    import numpy as np

    from growthlab.report import page_of, pages, summarise

    metric = np.array([f"m{i % 500}" for i in range(1000)], dtype=object)
    significant = np.zeros(1000, dtype=bool)
    significant[[3, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50, 51]] = True
    failed = np.zeros(1000, dtype=bool)
    failed[[7, 8]] = True
    summary = summarise(metric, significant, failed, primary="m7", limit=10)
    assert summary.order[:2].tolist() == [7, 507] and sorted(summary.order) == list(range(1000))
    assert summary.highlighted == [7, 507, 3, 40, 41, 42, 43, 44, 45, 46, 47, 48, 8]
    assert (summary.significant, summary.failed, summary.unsaid_significant) == (13, 2, 3)
    assert summary.sentence() == ("1,000 comparisons: 13 significant, 985 not significant, 2 "
                                  "could not be computed. Not written out: 3 more significant; "
                                  "the table lists them all.")
    assert pages(1000, 50) == 20 and pages(0) == 1
    assert page_of(summary.order, 99, 50).tolist() == summary.order[950:].tolist()


def test_the_experiment_page_summarises_and_paginates_many_comparisons(empty_workspace):
    from conftest import open_page

    from growthlab import experiments
    from growthlab.db import open_workspace

    db = open_workspace(empty_workspace)
    rows = []
    for i in range(600):
        lift = 1.0 if i % 40 == 7 else 0.0  # 15 metrics truly moved
        control = 0 if i % 100 == 3 else 200  # 6 with a control that never converts
        rows += [MetricRow(f"segment_{i:03d}", "control", 2000, conversions=control),
                 MetricRow(f"segment_{i:03d}", "treatment", 2000,
                           conversions=round(200 * (1 + lift)))]
    exp = experiments.create(db, title="Many segments", primary_metric="segment_599")
    experiments.record_results(db, exp, rows)
    at = open_page("experiment", id=str(exp))
    sentences = [e.value for kind in ("success", "error", "info", "warning")
                 for e in getattr(at, kind) if "segment_" in e.value]
    assert len(sentences) == 1 + 10 + 6, "primary, 10 of 15 significant, the 6 failures"
    assert sum("segment_599" in s for s in sentences) == 1
    summary = next(c.value for c in at.caption if "comparisons:" in c.value)
    assert summary.startswith("600 comparisons: 15 significant, 579 not significant, 6 could")
    assert "5 more significant" in summary
    table = at.dataframe[0].value
    assert len(table) == 50 and table["metric"][0] == "segment_599 (primary)"
    assert not table.isna().any().any() and "None" not in table.to_string()
    assert any("Rows 1 to 50 of 600" in c.value for c in at.caption)
    at.number_input(key="results-page-all").set_value(12).run()
    assert at.dataframe[0].value["metric"].tolist() == [f"segment_{i:03d}" for i in
                                                        range(549, 599)]
    at.segmented_control(key="results-view").set_value("significant").run()
    significant = at.dataframe[0].value
    assert len(significant) == 15 and set(significant["significant"]) == {"yes"}


def test_the_results_table_shows_signed_effects_without_a_quote(demo_workspace):
    from conftest import open_page

    from growthlab.db import open_workspace

    db = open_workspace(demo_workspace)
    exp = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-004'"))["id"]
    at = open_page("experiment", id=str(exp))
    table = at.dataframe[0].value
    cells = [str(v) for column in ("lift", "95% CI") for v in table[column]]
    assert cells and not any(c.startswith("'") for c in cells), cells
    assert all(c[0] in "+-" for c in cells)


def test_results_where_every_metric_is_constant_say_so_instead_of_an_error(empty_workspace):
    from conftest import open_page

    from growthlab import experiments
    from growthlab.db import open_workspace

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Everyone converts", primary_metric="signed_in")
    experiments.record_results(db, exp, [MetricRow("signed_in", v, 1000, conversions=1000)
                                         for v in ("control", "treatment")])
    at = open_page("experiment", id=str(exp))
    assert not at.error, [e.value for e in at.error]
    said = " ".join(e.value for e in [*at.info, *at.caption])
    assert "signed_in" in said and "same value" in said


def test_the_page_says_which_comparisons_the_correction_made_not_significant(empty_workspace):
    """Holm on the page (the command line corrects only when asked): B's interval excludes 0
    but its adjusted p does not reach alpha, so the page must say so in words, not leave a
    'no' beside an interval that excludes 0."""
    from conftest import open_page

    from growthlab import experiments
    from growthlab.db import open_workspace

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Three arms", variants=[
        ("control", 1), ("b", 1), ("c", 1)])
    experiments.record_results(db, exp, [MetricRow("activation", "control", 5000, 500),
                                         MetricRow("activation", "b", 5000, 568),
                                         MetricRow("activation", "c", 5000, 505)])
    unadjusted = analyze(experiments.results(db, exp)).results[0]
    assert unadjusted["significant"] and unadjusted["ci_low"] > 0
    at = open_page("experiment", id=str(exp))
    said = [i.value for i in at.info]
    assert any(s.startswith("B moved activation up by 13.6%") and "once corrected for "
               "multiple comparisons (adjusted p = 0.07" in s for s in said), said
    captions = " ".join(c.value for c in at.caption)
    assert "1 significant only before the Holm correction" in captions
    assert "adjusted over the 2 comparisons; intervals are not adjusted" in captions


@pytest.mark.parametrize("options,said", [
    (Options(method="bayesian"), "with a flat prior"),
    (Options(method="bayesian", prior_mean=0.02, prior_sd=0.01),
     "normal prior on the lift (mean +2.0%, standard deviation 1.0%)"),
    (Options(method="bayesian", difference="absolute", prior_sd=0.5),
     "normal prior on the difference (mean +0, standard deviation 0.5)"),
    (Options(method="sequential", n_star=2000), "N* = 2,000"),
])
def test_the_method_note_says_the_prior_used(options, said):
    from growthlab.report import method_note

    assert said in method_note(options)


def test_the_experiment_page_names_an_informative_prior(empty_workspace):
    from conftest import open_page

    from growthlab import experiments
    from growthlab.db import open_workspace

    db = open_workspace(empty_workspace)
    exp = experiments.create(db, title="Prior", primary_metric="first_value")
    experiments.record_results(db, exp, [MetricRow("first_value", "control", 1000, 100),
                                         MetricRow("first_value", "treatment", 1000, 120)])
    at = open_page("experiment", id=str(exp))
    at.segmented_control(key="method").set_value("bayesian").run()
    next(t for t in at.toggle if t.label == "Informative prior").set_value(True).run()
    captions = " ".join(c.value for c in at.caption)
    assert "flat prior" not in captions and "normal prior on the lift" in captions


FEWER_ERRORS = [MetricRow("errors", "control", 10000, 1000),
                MetricRow("errors", "treatment", 10000, 864)]


def test_a_significant_drop_of_a_lower_is_better_metric_reads_as_good():
    from growthlab.report import describe, tone

    r = analyze(FEWER_ERRORS).results[0]
    assert tone(r) == "bad" and tone(r, lower_is_better=True) == "good"
    said = describe(r, lower_is_better=True)
    assert said.startswith("Treatment lowered errors (lower is better) by 13.6% (CI ")
    assert said.count("lower is better") == 1
    assert "lower is better" not in describe(r)


def test_chance_to_beat_counts_a_drop_as_beating_the_control_when_lower_is_better():
    from growthlab.report import describe, results_table

    r = analyze(FEWER_ERRORS, Options(method="bayesian")).results[0]
    assert "chance to beat control: 0.0%" in describe(r)
    assert "chance to beat control: 100.0%" in describe(r, lower_is_better=True)
    row = results_table([r], lower_is_better={"errors"})[0]
    assert (row["metric"], row["chance to win"]) == ("errors (lower is better)", "100.0%")
    assert results_table([r])[0]["chance to win"] == "0.0%"


def test_the_forest_chart_colours_a_good_drop_as_a_win():
    from growthlab import charts

    results = analyze(FEWER_ERRORS).results
    assert charts.forest(results).data[0].marker.color == charts.LOSS
    assert charts.forest(results, lower_is_better={"errors"}).data[0].marker.color \
        == charts.WIN
