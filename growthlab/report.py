"""Words and JSON for analysis results: the same phrasing in the app and the CLI."""

from __future__ import annotations

from growthlab.stats.analysis import Analysis

RESULT_FIELDS = ("experiment", "metric", "variant", "control", "users", "control_users", "mean",
                 "control_mean", "difference", "estimate", "ci_low", "ci_high", "p_value",
                 "adjusted_p_value", "chance_to_win", "risk", "significant")


def analysis_payload(analysis: Analysis) -> dict:
    """The `analyze --json` contract: {"results": [...], "srm": {...}}."""
    results = [{k: r[k] for k in RESULT_FIELDS} | {"kind": r["kind"]} for r in analysis.results]
    worst = analysis.worst_srm()
    srm = None
    if worst:
        experiment, result = worst
        srm = result.as_dict() | {"experiment": experiment or None}
    payload = {"results": results, "srm": srm}
    if len(analysis.srm) > 1:
        payload["srm_by_experiment"] = {k: v.as_dict() for k, v in analysis.srm.items()}
    return payload


def format_effect(value: float | None, difference: str) -> str:
    if value is None:
        return "unbounded"
    if difference == "relative":
        return f"{value:+.1%}"
    return f"{value:+.4g}"


def describe(r: dict, metric_name: str | None = None, alpha: float = 0.05) -> str:
    """One plain sentence: what the variant did to the metric, with its interval and verdict."""
    name = metric_name or r["metric"]
    estimate = r["estimate"]
    relative = r["difference"] == "relative"
    size = f"{abs(estimate):.1%}" if relative else f"{abs(estimate):.4g}"
    low = format_effect(r["ci_low"], r["difference"])
    high = format_effect(r["ci_high"], r["difference"])
    interval = "credible interval" if r["chance_to_win"] is not None else "CI"
    level = f"{1 - alpha:.0%}"
    variant = r["variant"].replace("_", " ").capitalize()
    if r["significant"]:
        verb = "raised" if estimate > 0 else "lowered"
        verdict = f"significant at {level}"
    elif r["adjusted_p_value"] is not None and r["p_value"] < alpha:
        verb = "moved" if estimate else "did not move"
        verdict = (f"not significant at {level} once corrected for multiple comparisons "
                   f"(adjusted p = {r['adjusted_p_value']:.3f})")
    else:
        verb = "moved" if estimate else "did not move"
        verdict = f"not significant at {level}: the data cannot tell this apart from no effect"
    if r["chance_to_win"] is not None:
        verdict += f"; chance to beat {r['control']}: {r['chance_to_win']:.1%}"
    amount = f" by {size}" if estimate and verb != "did not move" else ""
    if verb == "moved":
        amount = f" {'up' if estimate > 0 else 'down'} by {size}"
    return f"{variant} {verb} {name}{amount} ({interval} {low} to {high}); {verdict}."
