"""Words and JSON for analysis results: the same phrasing in the app and the CLI."""

from __future__ import annotations

import math

from growthlab.stats.analysis import Analysis
from growthlab.stats.srm import SrmResult

RESULT_FIELDS = ("experiment", "metric", "variant", "control", "users", "control_users", "mean",
                 "control_mean", "difference", "estimate", "ci_low", "ci_high", "p_value",
                 "adjusted_p_value", "chance_to_win", "risk", "significant", "error")
SEQUENTIAL_P_VALUE = ("The sequential p-value is the smallest alpha at which the always-valid "
                      "interval excludes no effect, so it is below alpha exactly when the "
                      "interval shown excludes 0 (gbstats reports 1 / e-value instead).")


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


def confidence(alpha: float) -> str:
    """The confidence level of alpha as people write it: 0.1 -> '90%', 0.001 -> '99.9%'."""
    return f"{(1 - alpha) * 100:.4g}%"


def format_effect(value: float | None, difference: str, kind: str = "mean",
                  decimals: int = 1) -> str:
    """An effect or interval bound: a relative lift in %, a proportion difference in
    percentage points, a mean difference as a number."""
    if value is None:
        return "unbounded"
    if difference == "relative":
        return f"{value:+.{decimals}%}"
    if kind == "proportion":
        return f"{value * 100:+.{decimals}f} pp"
    return f"{value:+.4g}"


def direction(r: dict) -> int:
    """+1 when the variant's mean is above the control's, -1 below, 0 equal (or no figures).

    A relative lift over a negative control mean has the opposite sign of the change:
    -10 -> -5 is a lift of -50% but the metric rose.
    """
    if not r["estimate"]:
        return 0
    sign = 1 if r["estimate"] > 0 else -1
    return -sign if _over_negative_base(r) else sign


def _over_negative_base(r: dict) -> bool:
    return r.get("difference") == "relative" and (r.get("control_mean") or 0) < 0


def tone(r: dict, srm: SrmResult | None = None) -> str:
    """How a page colours the sentence: failed, untrusted, good, bad or neutral."""
    if r["error"]:
        return "failed"
    if srm is not None and srm.flagged:
        return "untrusted"
    if not r["significant"]:
        return "neutral"
    return "good" if direction(r) > 0 else "bad"


def _decimals(r: dict) -> int:
    """Enough decimals for two significant digits of a lift (%) or a difference of
    proportions (pp) under one point: a significant +0.002% never reads as +0.0%."""
    points = abs(r["estimate"]) * 100
    if r["difference"] == "absolute" and r["kind"] != "proportion" or not points:
        return 1
    return max(1, min(6, 1 - math.floor(math.log10(points))))


def _negate(value: float | None) -> float | None:
    return None if value is None else -value


def _interval(r: dict) -> tuple[str, str]:
    low, high = r["ci_low"], r["ci_high"]
    if _over_negative_base(r):
        low, high = _negate(high), _negate(low)
    return tuple(format_effect(v, r["difference"], r["kind"], _decimals(r)) for v in (low, high))


def describe(r: dict, metric_name: str | None = None, alpha: float = 0.05,
             srm: SrmResult | None = None) -> str:
    """One plain sentence: what the variant did to the metric, with its interval and verdict.

    With a sample-ratio mismatch the verdict is withheld: the result cannot be trusted.
    """
    name = metric_name or r["metric"]
    if r["error"]:
        return (f"{name} cannot be compared between {r['variant']} and {r['control']}: "
                f"{r['error']['message']}.")
    variant = r["variant"].replace("_", " ")
    variant = variant[:1].upper() + variant[1:]
    sign = direction(r)
    size = format_effect(abs(r["estimate"]), r["difference"], r["kind"], _decimals(r)).lstrip("+")
    low, high = _interval(r)
    interval = "credible interval" if r["chance_to_win"] is not None else "CI"
    level = confidence(alpha)
    moved = f"moved {name} {'up' if sign > 0 else 'down'} by {size}" if sign else \
        f"did not move {name}"
    if srm is not None and srm.flagged:
        return (f"{variant} {moved} ({interval} {low} to {high}), but this result cannot be "
                f"trusted: users per variant do not match the planned split (sample ratio "
                f"mismatch, p = {srm.p_value:.2g}), so assignment or logging is broken.")
    if r["significant"]:
        verb = f"{'raised' if sign > 0 else 'lowered'} {name} by {size}"
        verdict = f"significant at {level}"
    elif r["adjusted_p_value"] is not None and r["p_value"] < alpha:
        verb = moved
        verdict = (f"not significant at {level} once corrected for multiple comparisons "
                   f"(adjusted p = {r['adjusted_p_value']:.3f})")
    else:
        verb = moved
        verdict = f"not significant at {level}: the data cannot tell this apart from no effect"
    if r["chance_to_win"] is not None:
        chance = 1 - r["chance_to_win"] if _over_negative_base(r) else r["chance_to_win"]
        verdict += f"; chance to beat {r['control']}: {chance:.1%}"
    return f"{variant} {verb} ({interval} {low} to {high}); {verdict}."


def results_table(results: list[dict], names: dict[str, str] | None = None) -> list[dict]:
    """One row per comparison for a table: differences of proportions in percentage points
    (with a `unit` column when absolute), a lift over a negative control mean signed as the
    change (as in the sentences), no figures where a comparison failed."""
    names = names or {}
    rows = []
    for r in results:
        relative = r["difference"] == "relative"
        scale = 100 if not relative and r["kind"] == "proportion" else 1
        row = {"metric": names.get(r["metric"], r["metric"]), "variant": r["variant"],
               "users": r["users"], "control users": r["control_users"],
               "control": r["control_mean"], "variant mean": r["mean"]}
        estimate, low, high = r["estimate"], r["ci_low"], r["ci_high"]
        if _over_negative_base(r) and estimate is not None:
            estimate, low, high = -estimate, _negate(high), _negate(low)
        effect = {"lift" if relative else "difference": estimate, "CI low": low,
                  "CI high": high}
        row |= {k: None if v is None else v * scale for k, v in effect.items()}
        if not relative:
            row["unit"] = "pp" if scale == 100 else ""
        row |= {"p-value": r["p_value"], "adjusted p": r["adjusted_p_value"],
                "chance to win": r["chance_to_win"],
                "significant": "could not compute" if r["error"] else
                "yes" if r["significant"] else "no"}
        rows.append(row)
    return rows
