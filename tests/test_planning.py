"""Power planning sizes the test the analysis runs, checked by simulating experiments."""

import numpy as np
import pytest

from growthlab.stats import MetricRow, Options, analyze, detectable_effect, plan

SIMULATIONS = 10_000  # the power estimate's standard error is 0.4 points


def simulated_power(baseline: float, lift: float, users: int, difference: str,
                    seed: int) -> float:
    """Share of simulated experiments (true relative lift `lift`) the product's own analysis
    calls significant in the right direction."""
    rng = np.random.default_rng(seed)
    control = rng.binomial(users, baseline, SIMULATIONS)
    treatment = rng.binomial(users, baseline * (1 + lift), SIMULATIONS)
    rows = [MetricRow(f"m{i}", variant, users, conversions)
            for i in range(SIMULATIONS)
            for variant, conversions in (("control", control[i]), ("treatment", treatment[i]))]
    results = analyze(rows, Options(difference=difference)).results
    return float(np.mean([r["significant"] and r["estimate"] > 0 for r in results]))


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


def test_the_relative_test_needs_more_users_than_the_absolute_one():
    relative = plan(0.09, 0.10, relative=True)
    absolute = plan(0.09, 0.009, relative=False)
    assert relative.users_per_variant > absolute.users_per_variant


@pytest.mark.parametrize("relative,mde", [(True, 0.05), (False, 0.01)])
def test_detectable_effect_inverts_the_plan(relative, mde):
    n = plan(0.2, mde, relative=relative).users_per_variant
    assert detectable_effect(0.2, n, relative=relative) == pytest.approx(mde, rel=1e-3)
