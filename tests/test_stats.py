"""Statistics engine: published reference values, degenerate input, and simulations."""

import math

import numpy as np
import pytest
from scipy import stats as sps
from statsmodels.stats.multitest import multipletests

from growthlab.errors import StatsError
from growthlab.stats import MetricRow, Options, analyze, detectable_effect, plan, srm_test
from growthlab.stats.compare import bayesian, effect, frequentist, sequential
from growthlab.stats.moments import mean_moments, proportion_moments

REFERENCE = [MetricRow("cv", "control", 10000, 1000), MetricRow("cv", "treatment", 10000, 1100)]


def one(method="frequentist", difference="relative", **kw):
    return analyze(REFERENCE, Options(method=method, difference=difference, **kw)).results[0]


# GrowthBook's published values for control 1000/10000 vs treatment 1100/10000.
@pytest.mark.parametrize("difference,estimate,low,high,p", [
    ("relative", 0.10, 0.01086, 0.18914, 0.02789),
    ("absolute", 0.01, 0.00150, 0.01850, 0.02107),
])
def test_frequentist_matches_gbstats(difference, estimate, low, high, p):
    r = one(difference=difference)
    assert r["estimate"] == pytest.approx(estimate, abs=1e-4)
    assert r["ci_low"] == pytest.approx(low, abs=1e-4)
    assert r["ci_high"] == pytest.approx(high, abs=1e-4)
    assert r["p_value"] == pytest.approx(p, abs=1e-4)
    assert r["significant"] is True


def test_sequential_matches_gbstats():
    r = one(method="sequential")
    assert r["ci_low"] == pytest.approx(-0.0422, abs=1e-4)
    assert r["ci_high"] == pytest.approx(0.2422, abs=1e-4)
    assert r["significant"] is False


def test_sequential_p_value_is_the_alpha_where_the_interval_touches_zero():
    r = one(method="sequential")
    at_p = one(method="sequential", alpha=r["p_value"])
    assert at_p["ci_low"] == pytest.approx(0.0, abs=1e-6)


def test_bayesian_flat_prior_matches_gbstats():
    r = one(method="bayesian")
    assert r["chance_to_win"] == pytest.approx(0.98606, abs=1e-4)
    assert r["p_value"] is None and r["significant"] is True
    # With a flat prior the credible interval equals the normal-approximation interval.
    assert r["ci_low"] == pytest.approx(0.01087, abs=1e-4)


def test_bayesian_risk_is_expected_loss():
    mu, sd = 0.1, 0.0454755
    draws = np.random.default_rng(1).normal(mu, sd, 2_000_000)
    r = one(method="bayesian")
    assert r["risk"]["control"] == pytest.approx(np.maximum(draws, 0).mean(), rel=2e-3)
    assert r["risk"]["treatment"] == pytest.approx(np.maximum(-draws, 0).mean(), rel=3e-2)


def test_informative_prior_shrinks_towards_prior_mean():
    flat = one(method="bayesian")
    shrunk = one(method="bayesian", prior_sd=0.05)
    assert 0 < shrunk["estimate"] < flat["estimate"]
    assert shrunk["chance_to_win"] < flat["chance_to_win"]


@pytest.mark.parametrize("users,p,flagged", [
    ([1000, 1200], 2.0079e-05, True),
    ([5000, 5200], 0.04767, False),
])
def test_srm_matches_gbstats(users, p, flagged):
    result = srm_test(users, [0.5, 0.5])
    assert result.p_value == pytest.approx(p, rel=1e-3)
    assert result.flagged is flagged


def test_srm_with_an_empty_arm_is_a_mismatch_not_a_crash():
    assert srm_test([1000, 0]).flagged is True


def test_srm_uses_planned_weights():
    assert srm_test([2000, 1000], [2, 1]).flagged is False
    assert srm_test([2000, 1000]).flagged is True


@pytest.mark.parametrize("rows,message", [
    ([MetricRow("m", "control", 0, 0), MetricRow("m", "b", 10, 1)], "variant 'control'"),
    ([MetricRow("m", "control", 10, 11), MetricRow("m", "b", 10, 1)], "more than users"),
    ([MetricRow("m", "control", 1, 1), MetricRow("m", "b", 10, 1)], "at least 2 users"),
    ([MetricRow("m", "control", 100, 0), MetricRow("m", "b", 100, 3)], "control mean is 0"),
    ([MetricRow("rev", "control", 10, sum=10, sum_squares=1),
      MetricRow("rev", "b", 10, sum=10, sum_squares=20)], "negative variance"),
    ([MetricRow("m", "control", 100, 100), MetricRow("m", "b", 100, 100)], "no variation"),
])
def test_degenerate_input_names_metric_and_variant(rows, message):
    with pytest.raises(StatsError) as err:
        analyze(rows)
    assert message in str(err.value)
    assert "metric 'm'" in str(err.value) or "metric 'rev'" in str(err.value)


def test_mean_metric_matches_welch_t_test_on_raw_data():
    rng = np.random.default_rng(3)
    a, b = rng.exponential(10, 400), rng.exponential(11.5, 300)
    rows = [MetricRow("rev", "control", a.size, sum=a.sum(), sum_squares=(a**2).sum()),
            MetricRow("rev", "b", b.size, sum=b.sum(), sum_squares=(b**2).sum())]
    r = analyze(rows, Options(difference="absolute")).results[0]
    expected = sps.ttest_ind(b, a, equal_var=False)
    assert r["p_value"] == pytest.approx(expected.pvalue, rel=1e-9)
    assert r["estimate"] == pytest.approx(b.mean() - a.mean())


def test_corrections_match_statsmodels_within_each_experiment():
    rng = np.random.default_rng(5)
    rows = []
    for exp in ("e1", "e2"):
        for metric in ("a", "b", "c"):
            rows.append(MetricRow(metric, "control", 5000, 500, experiment=exp))
            for v in ("v1", "v2"):
                rows.append(MetricRow(metric, v, 5000, int(rng.integers(470, 580)), experiment=exp))
    raw = analyze(rows).results
    for correction, method in (("holm", "holm"), ("bh", "fdr_bh")):
        adjusted = analyze(rows, Options(correction=correction)).results
        for exp in ("e1", "e2"):
            p = [r["p_value"] for r in raw if r["experiment"] == exp]
            got = [r["adjusted_p_value"] for r in adjusted if r["experiment"] == exp]
            assert got == pytest.approx(list(multipletests(p, method=method)[1]), abs=1e-12)
        assert all(r["significant"] == (r["adjusted_p_value"] < 0.05) for r in adjusted)


def test_results_keep_input_order_across_kinds_and_experiments():
    rows = [MetricRow("rev", "control", 100, sum=500, sum_squares=4000, experiment="x"),
            MetricRow("rev", "b", 100, sum=550, sum_squares=4500, experiment="x"),
            MetricRow("cv", "control", 100, 10, experiment="x"),
            MetricRow("cv", "b", 100, 14, experiment="x")]
    assert [r["metric"] for r in analyze(rows).results] == ["rev", "cv"]


def test_one_sided_test_halves_the_p_value_in_the_right_direction():
    two = one()
    greater = analyze(REFERENCE, Options(alternative="greater")).results[0]
    less = analyze(REFERENCE, Options(alternative="less")).results[0]
    assert greater["p_value"] == pytest.approx(two["p_value"] / 2, rel=1e-9)
    assert less["p_value"] == pytest.approx(1 - two["p_value"] / 2, rel=1e-9)
    assert greater["ci_high"] is None


def test_cuped_keeps_estimate_unbiased_and_shrinks_the_interval():
    rng = np.random.default_rng(11)
    estimates, widths_raw, widths_cuped = [], [], []
    for _ in range(200):
        arms = []
        for variant, lift in (("control", 0.0), ("b", 0.5)):
            pre = rng.normal(10, 3, 1000)
            post = pre * 0.9 + rng.normal(1 + lift, 1, 1000)
            arms.append(MetricRow("rev", variant, 1000, sum=post.sum(),
                                  sum_squares=(post**2).sum(), pre_sum=pre.sum(),
                                  pre_sum_squares=(pre**2).sum(), sum_product=(pre * post).sum()))
        cuped = analyze(arms, Options(difference="absolute")).results[0]
        raw = analyze(arms, Options(difference="absolute", cuped=False)).results[0]
        estimates.append(cuped["estimate"])
        widths_raw.append(raw["ci_high"] - raw["ci_low"])
        widths_cuped.append(cuped["ci_high"] - cuped["ci_low"])
    assert np.mean(estimates) == pytest.approx(0.5, abs=0.02)
    assert np.mean(widths_cuped) < 0.5 * np.mean(widths_raw)


def test_power_matches_the_closed_form():
    result = plan(0.10, 0.10, relative=True)
    h = 2 * math.asin(math.sqrt(0.11)) - 2 * math.asin(math.sqrt(0.10))
    # Var(2 asin sqrt(p_hat)) = 1/n per arm, so the difference has variance 2/n.
    expected = 2 * ((sps.norm.ppf(0.975) + sps.norm.ppf(0.8)) / h) ** 2
    assert result.users_per_variant == math.ceil(expected)
    assert plan(0.10, 0.10, relative=True, variants=3).users_per_variant > result.users_per_variant


def test_detectable_effect_inverts_power():
    n = plan(0.2, 0.05, relative=True).users_per_variant
    assert detectable_effect(0.2, n, relative=True) == pytest.approx(0.05, rel=1e-3)


@pytest.mark.parametrize("kwargs", [dict(baseline=0, mde=0.1), dict(baseline=0.5, mde=0.6),
                                    dict(baseline=0.5, mde=0), dict(baseline=0.1, mde=0.1,
                                                                    variants=1)])
def test_power_refuses_impossible_plans(kwargs):
    with pytest.raises(StatsError):
        plan(**kwargs)


def _aa_proportions(rng, sims, n, p=0.1):
    c, t = rng.binomial(n, p, sims), rng.binomial(n, p, sims)
    return proportion_moments(np.full(sims, n), c), proportion_moments(np.full(sims, n), t)


def test_aa_false_positive_rate_proportions():
    control, treatment = _aa_proportions(np.random.default_rng(20), 10_000, 2_000)
    p = frequentist(effect(control, treatment)).p_value
    assert 0.04 <= (p < 0.05).mean() <= 0.06


def test_aa_false_positive_rate_means():
    rng = np.random.default_rng(21)
    sims, n = 10_000, 400
    arms = []
    for _ in range(2):
        x = rng.lognormal(1.0, 0.8, (sims, n))
        arms.append(mean_moments(np.full(sims, n), x.sum(1), (x**2).sum(1)))
    p = frequentist(effect(*arms)).p_value
    assert 0.04 <= (p < 0.05).mean() <= 0.06


def test_bayesian_aa_calls_a_winner_at_about_alpha():
    control, treatment = _aa_proportions(np.random.default_rng(22), 10_000, 2_000)
    ctw = bayesian(effect(control, treatment)).chance_to_win
    assert 0.04 <= ((ctw > 0.975) | (ctw < 0.025)).mean() <= 0.06


def test_daily_peeking_sequential_stays_valid_where_fixed_horizon_does_not(capsys):
    rng = np.random.default_rng(23)
    sims, days, daily = 2_000, 28, 250
    c = rng.binomial(daily, 0.1, (days, sims)).cumsum(0)
    t = rng.binomial(daily, 0.1, (days, sims)).cumsum(0)
    fixed_hit = np.zeros(sims, bool)
    seq_hit = np.zeros(sims, bool)
    for day in range(days):
        n = np.full(sims, daily * (day + 1))
        eff = effect(proportion_moments(n, c[day]), proportion_moments(n, t[day]))
        fixed_hit |= frequentist(eff).p_value < 0.05
        s = sequential(eff)
        seq_hit |= (s.ci_low > 0) | (s.ci_high < 0)
    with capsys.disabled():
        print(f"\nA/A with {days} daily peeks: fixed-horizon false positives "
              f"{fixed_hit.mean():.3f}, sequential {seq_hit.mean():.3f}")
    assert seq_hit.mean() <= 0.05
    assert fixed_hit.mean() >= 0.15


def test_sample_ratio_stands_alone_when_an_arm_is_empty():
    from growthlab.stats.analysis import sample_ratio

    rows = [MetricRow("cv", "control", 1000, 100), MetricRow("cv", "treatment", 0, 0)]
    with pytest.raises(StatsError):
        analyze(rows)
    result = sample_ratio(rows)
    assert result.flagged and result.users == [1000, 0]
