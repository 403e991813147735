"""Words and JSON for analysis results: the same phrasing in the app and the CLI."""

from __future__ import annotations

import math
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING

import numpy as np

from growthlab.stats.analysis import Analysis
from growthlab.stats.srm import SrmResult, p_text

if TYPE_CHECKING:
    from growthlab.stats.table import ResultColumns

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


def write_analysis_json(out, analyses, srm: dict[str, SrmResult], chunk: int = 1_000) -> None:
    """The `analyze --json` contract for columnar analyses, byte for byte what orjson writes for
    `analysis_payload`, written a chunk of results at a time: a million of them never sit in
    memory at once, and a chunk's text (~0.6 MB) stays in the processor's cache and in memory
    the allocator reuses (from ~2 MB it maps fresh pages for each chunk; at 20,000 it took
    twice as long)."""
    import orjson

    head, tail = orjson.dumps(analysis_payload(Analysis([], srm)),
                              option=orjson.OPT_INDENT_2).split(b"[]", 1)
    write = _writer(out)
    write(head + b"[")
    empty = True
    for analysis in analyses:
        for start in range(0, len(analysis), chunk):
            k = np.arange(start, min(start + chunk, len(analysis)))
            if not empty:
                write(b",")
            write(_results_json(_result_parts(analysis, k), len(k)))
            empty = False
    write((b"]" if empty else b"\n  ]") + tail + b"\n")


def _results_json(parts: list[str | list[str]], size: int) -> bytes:
    """`size` results as orjson indents them inside `{"results": [...]}`, from the parts of a
    result in order: text every result shares, or a column of one token per result. The
    tokens are interleaved in one list and joined once (as str: bytes.join takes a buffer of
    each item, several times slower), with no formatting per result."""
    pieces, columns, text = [], [], "\n    {\n"
    for part in parts:
        if isinstance(part, str):
            text += part
        else:
            pieces.append(text)
            columns.append(part)
            text = ""
    pieces.append(text + "\n    },")
    width = len(pieces) + len(columns)
    flat = [""] * (size * width)
    flat[0::width] = [pieces[0]] * size
    for j, column in enumerate(columns):
        flat[2 * j + 1::width] = column
        flat[2 * j + 2::width] = [pieces[j + 1]] * size
    flat[-1] = pieces[-1][:-1]
    return "".join(flat).encode()


def _result_parts(analysis, k: np.ndarray) -> list[str | list[str]]:
    """The parts of the results of comparisons k of a ColumnAnalysis (see `_results_json`),
    each value as `ColumnAnalysis.result` gives it."""
    base, row = analysis.base[k], analysis.row[k]
    either = np.where(row >= 0, row, base)
    users, means, figures = analysis.columns.users, analysis.moments.mean, analysis.figures
    values = {
        "experiment": _json_text(analysis.columns.experiment or None),
        "metric": _text_tokens(analysis.metric[k]), "variant": _text_tokens(analysis.variant[k]),
        "control": _json_text(analysis.control),
        "users": _number_tokens(users[row].astype(np.int64), row >= 0),
        "control_users": _number_tokens(users[base].astype(np.int64), base >= 0),
        "mean": _number_tokens(means[row], row >= 0),
        "control_mean": _number_tokens(means[base], base >= 0),
        "difference": _json_text(analysis.options.difference),
        "risk": _risk_parts(figures["risk_control"], figures["risk_treatment"], k),
        "significant": _choice(analysis.significant[k], "true", "false"),
        "error": _error_tokens(analysis, k),
        "kind": _choice(analysis.columns.proportion[either], '"proportion"', '"mean"')}
    for name in ("estimate", "ci_low", "ci_high", "p_value", "adjusted_p_value", "chance_to_win"):
        values[name] = "null" if figures[name] is None else _number_tokens(figures[name][k])
    parts = []
    for key in (*RESULT_FIELDS, "kind"):
        parts.append((",\n" if parts else "") + f'      "{key}": ')
        value = values[key]
        parts.extend(value if isinstance(value, tuple) else [value])
    return parts


def _text_tokens(values: np.ndarray) -> str | list[str]:
    """Each text as orjson writes it: split from one indented list, since a JSON string
    holds no raw line break (one text when all are the same)."""
    import orjson

    if (values == values[0]).all():
        return _json_text(values[0])
    return orjson.dumps(values.tolist(), option=orjson.OPT_INDENT_2)[4:-2].decode().split(
        ",\n  ")


def _number_tokens(values: np.ndarray, present: np.ndarray | None = None) -> list[str]:
    """Each number as orjson writes a Python float or int (NaN and infinities as null), null
    where not `present`."""
    import orjson

    tokens = orjson.dumps(values, option=orjson.OPT_SERIALIZE_NUMPY)[1:-1].decode().split(",")
    if present is not None:
        for j in np.flatnonzero(~present).tolist():
            tokens[j] = "null"
    return tokens


def _choice(condition: np.ndarray, yes: str, no: str) -> str | list[str]:
    if condition.all() or not condition.any():
        return yes if condition.all() else no
    return np.array([no, yes], dtype=object)[condition.astype(np.intp)].tolist()


RISK = ('{\n        "control": ', ',\n        "treatment": ', "\n      }")


def _risk_parts(control: np.ndarray | None, treatment: np.ndarray | None,
                k: np.ndarray) -> str | tuple | list[str]:
    """`{"control": c, "treatment": t}`, null where the control's risk is not finite."""
    if control is None:
        return "null"
    present = np.isfinite(control[k])
    c, t = _number_tokens(control[k]), _number_tokens(treatment[k])
    if present.all():
        return (RISK[0], c, RISK[1], t, RISK[2])
    return [f"{RISK[0]}{a}{RISK[1]}{b}{RISK[2]}" if p else "null"
            for a, b, p in zip(c, t, present.tolist(), strict=True)]


def _error_tokens(analysis, k: np.ndarray) -> str | list[str]:
    failed = np.flatnonzero(analysis.failure[k])
    if not failed.size:
        return "null"
    tokens = ["null"] * len(k)
    for j in failed.tolist():
        tokens[j] = _json_text(analysis.result(int(k[j]))["error"])
    return tokens


def _json_text(value) -> str:
    return _json(value).decode()


def _json(value) -> bytes:
    """One value as orjson indents it three levels deep (inside a result)."""
    import orjson

    return orjson.dumps(value, option=orjson.OPT_INDENT_2).replace(b"\n", b"\n      ")


def _writer(out):
    out.flush()
    buffer = getattr(out, "buffer", None)
    if buffer is None:
        return lambda data: out.write(data.decode())
    return buffer.write


def method_note(options) -> str:
    """How the method computed the figures, the prior used included (`options`: Options)."""
    if options.method == "frequentist":
        return "Two-sided Welch t-test; lift CIs by the delta method."
    if options.method == "sequential":
        return (f"Always-valid confidence sequences (N* = {options.n_star:,.0f}): safe to look "
                f"every day. {SEQUENTIAL_P_VALUE}")
    effect = "lift" if options.difference == "relative" else "difference"
    prior = "a flat prior"
    if options.prior_sd is not None:
        mean, sd = (f"{v:+.1%}" if effect == "lift" else f"{v:+g}"
                    for v in (options.prior_mean, options.prior_sd))
        prior = f"a normal prior on the {effect} (mean {mean}, standard deviation {sd.lstrip('+')})"
    return (f"Gaussian posterior on the {effect} with {prior}; chance to win is the posterior "
            "probability the variant is better.")


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


def better(r: dict, lower_is_better: bool = False) -> int:
    """+1 when the variant did better than the control, -1 worse, 0 neither: `direction`,
    turned round for a metric where lower is better (errors, churn, time to value)."""
    return -direction(r) if lower_is_better else direction(r)


def _chance(r: dict, lower_is_better: bool = False) -> float:
    """The chance the variant beats the control. gbstats' chance to win is of a higher lift:
    over a negative control mean that is a fall, and where lower is better a fall wins."""
    rise = 1 - r["chance_to_win"] if _over_negative_base(r) else r["chance_to_win"]
    return 1 - rise if lower_is_better else rise


def tone(r: dict, srm: SrmResult | None = None, lower_is_better: bool = False) -> str:
    """How a page colours the sentence: failed, untrusted, good, bad or neutral."""
    if r["error"]:
        return "failed"
    if srm is not None and srm.flagged:
        return "untrusted"
    if not r["significant"]:
        return "neutral"
    return "good" if better(r, lower_is_better) > 0 else "bad"


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
             srm: SrmResult | None = None, label: str | None = None,
             untrusted: str | None = None, caveats: Sequence[str] = (),
             lower_is_better: bool = False) -> str:
    """One plain sentence: what the variant did to the metric, with its interval and verdict;
    after "`label`: " (such as the experiment's key) when given. `caveats` are clauses on
    what the figures cannot yet say (users inside their milestone window, a control mean too
    uncertain to divide by). The verbs stay neutral (raised, lowered); a metric where
    `lower_is_better` says so once, as its colour follows.

    With a sample-ratio mismatch, or another reason the result is `untrusted` (why, as a
    clause), the verdict is withheld: the result cannot be trusted.
    """
    name = metric_name or r["metric"]
    prefix = f"{label}: " if label else ""
    if r["error"]:
        return (f"{prefix}{name} cannot be compared between {r['variant']} and "
                f"{r['control']}: {r['error']['message']}.")
    if lower_is_better:
        name += " (lower is better)"
    against = ""
    if is_control_name(r["control"]):
        variant = r["variant"].replace("_", " ")
        variant = prefix + (variant if label else variant[:1].upper() + variant[1:])
    else:  # the comparator is another arm: name both as the file does
        variant, against = prefix + r["variant"], f" against {r['control']}"
    sign = direction(r)
    size = format_effect(abs(r["estimate"]), r["difference"], r["kind"], _decimals(r)).lstrip("+")
    low, high = _interval(r)
    interval = "credible interval" if r["chance_to_win"] is not None else "CI"
    level = confidence(alpha)
    moved = (f"moved {name} {'up' if sign > 0 else 'down'} by {size}" if sign else
             f"did not move {name}") + against
    if srm is not None and srm.flagged:
        untrusted = (f"users per variant do not match the planned split (sample ratio "
                     f"mismatch, {p_text(srm.p_value)}), so assignment or logging is broken")
    if untrusted:
        return (f"{variant} {moved} ({interval} {low} to {high}), but this result cannot be "
                f"trusted: {untrusted}.")
    if r["significant"]:
        verb = f"{'raised' if sign > 0 else 'lowered'} {name} by {size}{against}"
        verdict = f"significant at {level}"
    elif r["adjusted_p_value"] is not None and r["p_value"] < alpha:
        verb = moved
        verdict = (f"not significant at {level} once corrected for multiple comparisons "
                   f"(adjusted p = {r['adjusted_p_value']:.3f})")
    else:
        verb = moved
        verdict = f"not significant at {level}: the data cannot tell this apart from no effect"
    if r["chance_to_win"] is not None:
        verdict += (f"; chance to beat {r['control']}: "
                    f"{_chance(r, lower_is_better):.1%}")
    verdict += "".join(f"; {c}" for c in caveats)
    return f"{variant} {verb} ({interval} {low} to {high}); {verdict}."


# Above this standard error of the control's mean, relative to the mean, the delta method's
# interval of a lift is too narrow: a mean a few large values dominate (5% of users paying
# lognormal amounts: 15.8% false positives at alpha 0.05 with the control's mean known to
# +-30%, 5-8% at +-13-22%, by simulation).
UNCERTAIN_BASE = 0.2


def uncertain_bases(parts: Iterable[ResultColumns], difference: str,
                    switch: str = "--difference absolute", controls: Iterable[dict] | None = None
                    ) -> dict[tuple[str, str, str], str]:
    """For a relative difference: per (experiment, metric, variant) mean row whose mean is
    too uncertain to divide by (UNCERTAIN_BASE), what a comparison against it must say
    (`switch`: how to choose the absolute difference where it is read). With `controls`
    (results), only their controls' rows: a page says a few of a million."""
    found: dict[tuple[str, str, str], str] = {}
    if difference != "relative":
        return found
    wanted = None if controls is None else [(r["metric"], r["control"]) for r in controls]
    for part in parts:
        n = part.users
        with np.errstate(divide="ignore", invalid="ignore"):
            mean = part.sum / n
            spread = np.sqrt((part.sum_squares - part.sum * mean) / (n - 1) / n) / np.abs(mean)
        shaky = (n >= 2) & np.isfinite(spread) & (spread > UNCERTAIN_BASE)
        if wanted is not None:
            shaky &= np.isin(part.metric, [m for m, _ in wanted]) & np.isin(
                part.variant, [c for _, c in wanted])
        for i in np.flatnonzero(shaky):
            found[(part.experiment, str(part.metric[i]), str(part.variant[i]))] = (
                f"the control's mean is known only to ±{spread[i]:.0%} (a few large values "
                f"weigh heavily), so the lift's interval may be too narrow: read the absolute "
                f"difference ({switch}) or cap the metric before exporting")
    return found


def caveats(r: dict, not_final: dict[str, str], shaky: dict[tuple[str, str, str], str]
            ) -> list[str]:
    """The caveat clauses of one comparison's sentence: its milestone's windows still open
    (`not_final`, by metric), its control's mean too uncertain (`shaky`, uncertain_bases)."""
    said = [f"not final: {not_final[r['metric']]}"] if r["metric"] in not_final else []
    if base := shaky.get((r["experiment"] or "", r["metric"], r["control"])):
        said.append(base)
    return said


def is_control_name(variant: str) -> bool:
    """Whether a variant is called control (any case), so 'the control' names it."""
    return variant.strip().lower() == "control"


def control_note(analysis: Analysis, asked: str | None) -> str | None:
    """Which arm was taken as the control when none is called control and none was asked."""
    taken = {r["experiment"]: r["control"] for r in analysis.results
             if not is_control_name(r["control"])}
    if asked is not None or not taken:
        return None
    arms = ", ".join(f"'{c}'" + (f" ({e})" if e else "") for e, c in list(taken.items())[:3])
    if len(taken) > 3:
        arms += f" and {len(taken) - 3:,} more"
    return (f"no variant is called control, so the first listed was taken as the control: "
            f"{arms}; name it with --control")


NO_FIGURE = "–"
SENTENCE_LIMIT = 10
PAGE_SIZE = 50


def results_table(results: list[dict], names: dict[str, str] | None = None,
                  primary: str | None = None, alpha: float = 0.05,
                  figures: tuple[str, ...] | None = None,
                  lower_is_better: Collection[str] = ()) -> list[dict]:
    """One row of text per comparison, read as the sentences read: effects of proportions in
    percentage points when absolute, a lift over a negative control mean signed as the
    change, the primary metric and those where lower is better marked. A column appears only
    for the `figures` the method has (by default those any result has), and a comparison
    that failed shows a dash."""
    names = names or {}
    figures = figures if figures is not None else present_figures(results)
    return [_table_row(r, names, primary, alpha, figures, r["metric"] in lower_is_better)
            for r in results]


def present_figures(results: list[dict]) -> tuple[str, ...]:
    """The optional figures (p-value, adjusted p, chance to win) any of the results has."""
    return tuple(f for f in ("p_value", "adjusted_p_value", "chance_to_win")
                 if any(r[f] is not None for r in results))


def _table_row(r: dict, names: dict, primary: str | None, alpha: float, figures,
               lower: bool) -> dict:
    name = names.get(r["metric"], r["metric"])
    failed = r["error"] is not None
    marks = ", ".join(m for m, on in (("primary", r["metric"] == primary),
                                      ("lower is better", lower)) if on)
    row = {"metric": f"{name} ({marks})" if marks else name,
           "variant": r["variant"], "users": _count(r["users"]),
           "control users": _count(r["control_users"]),
           "control": _mean(r["control_mean"], r["kind"]),
           "variant mean": _mean(r["mean"], r["kind"])}
    effect = "lift" if r["difference"] == "relative" else "difference"
    interval = f"{confidence(alpha)} {'credible interval' if 'chance_to_win' in figures else 'CI'}"
    if failed:
        row |= {effect: NO_FIGURE, interval: NO_FIGURE}
    else:
        estimate = -r["estimate"] if _over_negative_base(r) else r["estimate"]
        low, high = _interval(r)
        row |= {effect: format_effect(estimate, r["difference"], r["kind"], _decimals(r)),
                interval: f"{low} to {high}"}
    for figure in figures:
        row[FIGURE_LABELS[figure]] = NO_FIGURE if failed else _figure(r, figure, lower)
    row["significant"] = "could not compute" if failed else "yes" if r["significant"] else "no"
    return row


FIGURE_LABELS = {"p_value": "p-value", "adjusted_p_value": "adjusted p",
                 "chance_to_win": "chance to win"}


def _figure(r: dict, figure: str, lower: bool) -> str:
    value = r[figure]
    if figure == "chance_to_win":
        return f"{_chance(r, lower):.1%}"
    return "< 0.0001" if value < 0.0001 else f"{value:.4f}"


def _count(value: int | None) -> str:
    return NO_FIGURE if value is None else f"{value:,}"


def _mean(value: float | None, kind: str) -> str:
    if value is None:
        return NO_FIGURE
    return f"{value:.2%}" if kind == "proportion" else f"{value:.4g}"


@dataclass
class ResultsSummary:
    """What a page says about many comparisons: a sentence for those that matter (the
    primary metric's, then the significant ones, those the multiple-testing correction made
    not significant, then the failures, each up to a limit), counts for the rest, and the
    table's order (the primary metric first)."""

    order: np.ndarray
    highlighted: list[int]
    total: int
    significant: int
    failed: int
    unsaid_significant: int
    unsaid_failed: int
    corrected: int = 0
    correction: str = ""

    def sentence(self) -> str:
        quiet = self.total - self.significant - self.failed
        text = (f"{self.total:,} comparison{'s' if self.total != 1 else ''}: "
                f"{self.significant:,} significant")
        if self.corrected:
            text += (f" ({self.corrected:,} significant only before the {self.correction} "
                     "correction)")
        text += f", {quiet:,} not significant"
        if self.failed:
            text += f", {self.failed:,} could not be computed"
        unsaid = [f"{n:,} more {what}" for n, what in (
            (self.unsaid_significant, "significant"), (self.unsaid_failed, "that failed"))
            if n]
        if unsaid:
            text += f". Not written out: {' and '.join(unsaid)}; the table lists them all"
        return text + "."


CORRECTIONS = {"holm": "Holm", "bh": "Benjamini-Hochberg"}


def summarise(metric: np.ndarray, significant: np.ndarray, failed: np.ndarray,
              primary: str | None, limit: int = SENTENCE_LIMIT,
              corrected: np.ndarray | None = None, correction: str = "none") -> ResultsSummary:
    """Pick the comparisons worth a sentence and order the table, from per-comparison
    arrays (metric name, significant, failed, and `corrected`: significant only before the
    `correction`)."""
    is_primary = metric == primary if primary else np.zeros(len(metric), dtype=bool)
    order = np.concatenate([np.flatnonzero(is_primary), np.flatnonzero(~is_primary)])
    loud = np.flatnonzero(significant & ~is_primary)
    corrected = np.zeros(len(metric), dtype=bool) if corrected is None else corrected
    close = np.flatnonzero(corrected & ~is_primary)
    broken = np.flatnonzero(failed & ~is_primary)
    highlighted = [*np.flatnonzero(is_primary).tolist(), *loud[:limit].tolist(),
                   *close[:limit].tolist(), *broken[:limit].tolist()]
    return ResultsSummary(order, highlighted, len(metric), int(significant.sum()),
                          int(failed.sum()), max(0, loud.size - limit),
                          max(0, broken.size - limit), int(corrected.sum()),
                          CORRECTIONS.get(correction, correction))


def pages(total: int, size: int = PAGE_SIZE) -> int:
    """How many pages of `size` rows a table of `total` rows has (at least one)."""
    return max(1, -(-total // size))


def page_of(order: np.ndarray, page: int, size: int = PAGE_SIZE) -> np.ndarray:
    """The rows of page `page` (from 1), clamped to the last page."""
    page = min(max(1, page), pages(len(order), size))
    return order[(page - 1) * size: page * size]
