"""Growth experiments: lifecycle, tags, ICE/RICE, results and decisions."""

from __future__ import annotations

import gc
import json
import math
import re
import statistics
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from growthlab import clock
from growthlab.db import audit, get_setting, now, set_setting, transaction, update_versioned
from growthlab.errors import InputError, StaleEditError, StatsError, TransitionError
from growthlab.io import plain_name
from growthlab.report import better, describe
from growthlab.stats import MetricRow, control_of
from growthlab.stats.table import ResultColumns

STATUSES = ("idea", "backlog", "running", "analysing", "decided", "archived")
TRANSITIONS = {
    "idea": ("backlog", "archived"),
    "backlog": ("idea", "running", "archived"),
    "running": ("analysing",),
    "analysing": ("running", "decided"),
    "decided": ("archived",),
    "archived": (),
}
STATUS_DATE = {"backlog": "backlog_at", "running": "started_at", "analysing": "ended_at",
               "decided": "decided_at", "archived": "archived_at"}
RESULTS = ("won", "lost", "inconclusive", "invalid", "stopped_early")
DECISIONS = ("ship", "iterate", "abandon")
EFFECTS = ("positive", "neutral", "negative", "unknown")
HYPOTHESIS_HINT = ("We believe [change] for [who] will [outcome], measured by [milestone KPI].")


def check_hypothesis(text: str) -> list[str]:
    """Parts of the hypothesis template that are missing (empty when well formed)."""
    lower = (text or "").lower()
    missing = []
    for part, words in (("the change (\"We believe ...\")", ("we believe",)),
                        ("who it is for (\"for ...\")", (" for ",)),
                        ("the outcome (\"will ...\")", (" will ",)),
                        ("the KPI (\"measured by ...\")", ("measured by",))):
        if not any(w in f" {lower} " for w in words):
            missing.append(part)
    return missing


def _effect(value: str, name: str) -> str:
    if value not in EFFECTS:
        raise InputError(f"must be one of {', '.join(EFFECTS)}", field=name)
    return value


# A share typed without its colon: "control 50", "control=50", "treatment 50%".
_SHARE_WITHOUT_COLON = re.compile(r"([^:]*?)\s*(?:=|\s)\s*(\d+(?:\.\d+)?)\s*%?")


def parse_variants(text: str) -> list[tuple[str, float]]:
    """'control:50, treatment:50' -> [('control', 50.0), ('treatment', 50.0)]."""
    variants = []
    parts = [p.strip() for p in (text or "").split(",") if p.strip()]
    if meant := _meant_with_colons(parts):
        typed = next(p for p in parts if _with_colon(p) != p)
        raise InputError(f"{typed!r} has no ':' before its share; write {meant}",
                         field="variants")
    for part in parts:
        name, _, share = part.partition(":")
        if not name.strip():
            raise InputError(f"{part!r} has no variant name; write name:share, e.g. "
                             "control:50", field="variants")
        try:
            weight = float(share) if share.strip() else 1.0
        except ValueError:
            raise InputError(f"{share.strip()!r} is not a number in {part!r}; write name:share",
                             field="variants") from None
        variants.append((plain_name(name.strip(), "variants"), weight))
    return variants


def _with_colon(part: str) -> str:
    """A variant as name:share when its share was typed without the colon."""
    found = None if ":" in part else _SHARE_WITHOUT_COLON.fullmatch(part)
    return ":".join(found.groups()) if found else part


def _meant_with_colons(parts: list[str]) -> str | None:
    """The variants as name:share when shares were typed without colons ("control 50,
    treatment 50"): every variant then has a share, the names differ and the shares add up to
    100 or 1. Names that hold numbers ("variant 1, variant 2") are kept as names."""
    fixed = [_with_colon(p) for p in parts]
    split = [f.partition(":") for f in fixed]
    if fixed == parts or not all(colon for _, colon, _ in split) or \
            len({n.strip().casefold() for n, _, _ in split}) < len(split):
        return None
    try:
        total = sum(float(share) for _, _, share in split)
    except ValueError:
        return None
    return ", ".join(fixed) if any(math.isclose(total, t, rel_tol=0.01) for t in (1, 100)) \
        else None


ISSUED = "experiment_numbers"  # setting: the highest EXP-number ever given, kept or renamed


def next_key(db) -> str:
    """The next EXP-number: never one given before, even if that experiment was renamed
    (learnings, exports and files that name it must not come to mean another)."""
    row = db.execute("SELECT max(CAST(substr(key, 5) AS INTEGER)) FROM experiments "
                     "WHERE key LIKE 'EXP-%'").fetchone()
    return f"EXP-{max(row[0] or 0, int(get_setting(db, ISSUED, '0'))) + 1:03d}"


def _remember_number(db, key: str) -> None:
    if re.fullmatch(r"EXP-\d+", key) and int(key[4:]) > int(get_setting(db, ISSUED, "0")):
        set_setting(db, ISSUED, str(int(key[4:])))


def create(db, *, title: str, hypothesis: str = "", squad_id: int | None = None,
           milestone_key: str | None = None, loop_id: int | None = None,
           product_area_id: int | None = None, key_result_id: int | None = None,
           primary_metric: str | None = None, guardrail_metrics: list[str] | None = None,
           lower_is_better: list[str] | None = None,
           expected_acquisition: str = "unknown", expected_retention: str = "unknown",
           variants: list[tuple[str, float]] | None = None, owner: str = "",
           key: str | None = None, created_at: str | None = None, actor: str = "local") -> int:
    """Log a new idea with its tags and planned variants (default control/treatment 50/50)."""
    title = _new_title(db, None, title)
    variants = variants or [("control", 0.5), ("treatment", 0.5)]
    keys = [v[0].strip() for v in variants]
    if len(variants) < 2 or len(set(keys)) != len(keys) or not all(keys):
        raise InputError("need at least two variants with distinct names", field="variants")
    if any(w <= 0 for _, w in variants):
        raise InputError("every planned allocation must be above 0", field="variants")
    stamp = created_at or now()
    with transaction(db):
        row_id = db["experiments"].insert({
            "key": key or next_key(db), "title": title, "hypothesis": hypothesis.strip(),
            "status": "idea", "squad_id": squad_id, "milestone_key": milestone_key,
            "loop_id": loop_id, "product_area_id": product_area_id,
            "key_result_id": key_result_id, "primary_metric": primary_metric or milestone_key,
            "guardrail_metrics": json.dumps(guardrail_metrics or []),
            "expected_acquisition": _effect(expected_acquisition, "expected_acquisition"),
            "expected_retention": _effect(expected_retention, "expected_retention"),
            "owner": owner, "created_at": stamp, "updated_at": stamp,
            # none is the column's default, as for the other columns migrations added
            **({"lower_is_better": json.dumps(lower_is_better)} if lower_is_better else {})
        }).last_pk
        total = sum(w for _, w in variants)
        db["variants"].insert_all(
            {"experiment_id": row_id, "key": k, "name": k.replace("_", " ").capitalize(),
             "weight": w / total, "position": i} for i, (k, w) in enumerate(zip(keys, (
                 w for _, w in variants), strict=True)))
        audit(db, actor, "create", "experiment", row_id, {"title": title})
    return row_id


WITH_TAGS = ("SELECT e.*, s.name AS squad, l.name AS loop, pa.name AS product_area, "
             "kr.statement AS key_result FROM experiments e "
             "LEFT JOIN squads s ON s.id = e.squad_id LEFT JOIN loops l ON l.id = e.loop_id "
             "LEFT JOIN product_areas pa ON pa.id = e.product_area_id "
             "LEFT JOIN key_results kr ON kr.id = e.key_result_id")
# listing() filter name -> column of a WITH_TAGS row
FILTER_COLUMNS = {"status": "status", "squad": "squad", "milestone": "milestone_key",
                  "loop": "loop", "area": "product_area", "result": "result"}


def get(db, experiment_id: int) -> dict:
    row = next(db.query(f"{WITH_TAGS} WHERE e.id = ?", [experiment_id]), None)
    if row is None:
        raise InputError(f"experiment {experiment_id} does not exist", field="experiment")
    return row


def move(db, experiment_id: int, version: int, to: str, *, when: str | None = None,
         actor: str = "local") -> dict:
    """Move along the lifecycle; refuses jumps that skip a step, with the reason."""
    current = get(db, experiment_id)
    if to not in STATUSES:
        raise TransitionError(f"unknown status {to!r}; use one of {', '.join(STATUSES)}")
    allowed = TRANSITIONS[current["status"]]
    if to not in allowed:
        hint = f" From {current['status']} it can go to {', '.join(allowed)}." if allowed else ""
        reason = ""
        if to == "decided":
            reason = " Deciding needs a result and a learning: record them with Decide."
        raise TransitionError(f"{current['key']} cannot go from {current['status']} to {to}."
                              f"{reason}{hint}")
    if to == "running" and len(list(db.query("SELECT 1 FROM variants WHERE experiment_id = ?",
                                              [experiment_id]))) < 2:
        raise TransitionError(f"{current['key']} needs at least two variants before it runs.")
    changes = {"status": to}
    if to in STATUS_DATE:
        changes[STATUS_DATE[to]] = when or now()
    if to == "running" and current["started_at"]:  # re-opened: it still started back then
        changes.update(started_at=current["started_at"], ended_at=None)
    return update_versioned(db, "experiments", experiment_id, version, changes, actor=actor,
                            entity="experiment")


def set_dates(db, experiment_id: int, version: int, *, started: date | None = None,
              ended: date | None = None, actor: str = "local") -> dict:
    """Correct the days the experiment started and ended: 'Move to running' is often clicked
    after assignment began, and the planner's traffic, its progress and the programme review
    count from these days."""
    exp = get(db, experiment_id)
    changes = {}
    for name, day, verb in (("started_at", started, "started"), ("ended_at", ended, "ended")):
        if day is None or (exp[name] or "")[:10] == day.isoformat():
            continue
        if not exp[name]:
            raise InputError(f"{exp['key']} has not {verb} yet: move it along first",
                             field=name)
        if day > clock.today():
            raise InputError(f"{day} is after today ({clock.today()})", field=name)
        changes[name] = f"{day.isoformat()}T00:00:00+00:00"
    start = changes.get("started_at", exp["started_at"]) or ""
    end = changes.get("ended_at", exp["ended_at"]) or ""
    if start and end and end[:10] < start[:10]:
        raise InputError(f"it would have ended ({end[:10]}) before it started ({start[:10]})",
                         field="ended_at" if "ended_at" in changes else "started_at")
    if not changes:
        return exp
    return update_versioned(db, "experiments", experiment_id, version, changes, actor=actor,
                            entity="experiment")


def update(db, experiment_id: int, version: int, changes: dict, *, actor: str = "local") -> dict:
    for name in ("expected_acquisition", "expected_retention", "observed_acquisition",
                 "observed_retention"):
        if name in changes:
            _effect(changes[name], name)
    for name in ("guardrail_metrics", "lower_is_better"):
        if name in changes:
            _metric_list(changes[name], name)
    if "status" in changes:
        raise InputError("change the status with move(), which checks the lifecycle",
                         field="status")
    if "key" in changes:
        changes = {**changes, "key": _new_key(db, experiment_id, changes["key"])}
    if "title" in changes:
        changes = {**changes, "title": _new_title(db, experiment_id, changes["title"])}
    return update_versioned(db, "experiments", experiment_id, version, changes, actor=actor,
                            entity="experiment")


def _metric_list(text: str, name: str) -> None:
    try:
        value = json.loads(text)
    except (TypeError, ValueError):
        value = None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{str(text)[:40]!r} is not a JSON list of metric names, such as "
                         '["errors"]', field=name)


def guardrails(exp: dict) -> list[str]:
    """The metrics the design guards: a change must not make them worse."""
    return json.loads(exp.get("guardrail_metrics") or "[]")


def lower_is_better(exp: dict) -> list[str]:
    """The metrics of the design where lower is better (errors, churn, refunds, time to
    value): a significant drop of them is good news."""
    return json.loads(exp.get("lower_is_better") or "[]")


def _new_title(db, experiment_id: int | None, title: str | None) -> str:
    """A title no other experiment has (case and spaces aside): two of one title read as one
    experiment in lists, searches and learnings."""
    title = (title or "").strip()
    if not title:
        raise InputError("is empty; give the experiment a short name", field="title")
    folded = " ".join(title.split()).casefold()
    for key, other in db.execute("SELECT key, title FROM experiments WHERE id IS NOT ?",
                                 [experiment_id]).fetchall():
        if " ".join(other.split()).casefold() == folded:
            raise InputError(f"{key} is already called {other!r}; give this experiment a "
                             "title of its own (what is new in it)", field="title")
    return title


def _new_key(db, experiment_id: int, key: str | None) -> str:
    """An experiment's key as its assignments name it: plain text, unique in any case."""
    key = (key or "").strip()
    if not key:
        raise InputError("is empty; use the name your assignments file gives the experiment, "
                         "or keep its EXP-number", field="key")
    if any(ord(ch) < 32 for ch in key):
        raise InputError("holds a tab, newline or other control character; use plain text",
                         field="key")
    plain_name(key, "key")
    taken = db.execute("SELECT key FROM experiments WHERE lower(key) = lower(?) AND id != ?",
                       [key, experiment_id]).fetchone()
    if taken:
        raise InputError(f"{taken[0]!r} is already another experiment's key; keys tell "
                         "experiments apart in results and assignments files", field="key")
    _remember_number(db, get(db, experiment_id)["key"])
    return key


def variants(db, experiment_id: int) -> list[dict]:
    return list(db.query("SELECT * FROM variants WHERE experiment_id = ? ORDER BY position",
                         [experiment_id]))


def planned_split(db, experiment_id: int, seen: list[str]
                  ) -> tuple[str | None, dict[str, float] | None]:
    """The control and planned weights (by name) of the experiment's design, for the
    variants that have results (`seen`, in the order they first appear): the control is
    the planned variant named `control`, else the first planned; None where the design
    does not cover the results."""
    planned = {v["key"]: v["weight"] for v in variants(db, experiment_id)}
    if not planned or any(v not in planned for v in seen):
        return None, None
    control = design_control(db, experiment_id)
    if control is None:
        return None, None
    weights = {v: planned[v] for v in seen} if len(seen) > 1 else None
    return (control if control in seen else None), weights


def design_control(db, experiment_id: int) -> str | None:
    """The control of the experiment's design: the planned variant named `control`, else
    the first planned; None without a design or when two read as the control."""
    planned = [v["key"] for v in variants(db, experiment_id)]
    if not planned:
        return None
    try:
        return control_of(planned)
    except StatsError:  # two planned variants read as the control: the analysis asks which
        return None


def missing_control(db, experiment_id: int, seen: list[str]) -> str | None:
    """Why results with the variants `seen` get no verdict, when they lack the control the
    design names: any other arm taken as the control would compare treatments silently."""
    control = design_control(db, experiment_id)
    if control is None or not seen or control in seen:
        return None
    return (f"The results have no rows for the control '{control}' of the design (they have "
            f"{', '.join(seen)}), so no treatment can be compared with the control and there "
            f"is no verdict. Upload results that include '{control}'.")


def missing_arms(db, experiment_id: int, seen: list[str]) -> str | None:
    """The planned treatment arms with no results among `seen` (a missing control has its own
    message, missing_control): the other arms' sample ratio cannot show that one received
    nobody, so it is said."""
    from growthlab.io import percents

    planned = variants(db, experiment_id)
    control = design_control(db, experiment_id)
    if not seen or control not in seen:
        return None
    shares = dict(zip((v["key"] for v in planned), percents([v["weight"] for v in planned]),
                      strict=True))
    absent = [f"{v['key']} ({shares[v['key']]})" for v in planned if v["key"] not in seen]
    if not absent:
        return None
    return (f"The design plans {', '.join(absent)}, which {'has' if len(absent) == 1 else 'have'}"
            " no results: if it received no users, assignment is broken (the sample ratio of "
            "the other arms cannot show it); if its rows were left out, upload them.")


def results_version(db, experiment_id: int) -> int:
    """How many times the experiment's results were replaced (0: none recorded yet)."""
    row = db.execute("SELECT results_version FROM experiments WHERE id = ?",
                     [experiment_id]).fetchone()
    if row is None:
        raise InputError(f"experiment {experiment_id} does not exist", field="experiment")
    return row[0]


def record_results(db, experiment_id: int, rows: list[MetricRow], *, version: int = 0,
                   source: str = "upload", actor: str = "local",
                   notes: dict | None = None) -> int:
    """Replace the experiment's per-variant statistics (validated first; one transaction).

    `version` is the results version the caller saw; results replaced since are not
    overwritten (StaleEditError). `notes` say how they were computed ({"summary": what was
    counted, "warnings": [...]}, such as users left out after a staggered rollout): kept with
    them, so whoever opens them later reads them too (see `results_notes`).
    """
    from growthlab.stats import analyze

    exp = get(db, experiment_id)
    _check_experiment_column(exp["key"], rows)
    rows = [MetricRow(**{**r.__dict__, "experiment": exp["key"]}) for r in rows]
    for r in rows:
        plain_name(r.metric, "metric")
    planned = {v["key"] for v in variants(db, experiment_id)}
    unknown = sorted({r.variant for r in rows} - planned)
    if unknown:
        raise InputError(f"variant(s) {', '.join(unknown)} are not planned for {exp['key']} "
                         f"(planned: {', '.join(sorted(planned))})", field="variant")
    analyze(rows)  # refuse what the statistics cannot use before anything is written
    stamp = now()
    with transaction(db):
        bumped = db.execute("UPDATE experiments SET results_version = results_version + 1, "
                            "results_notes = ? WHERE id = ? AND results_version = ?",
                            [json.dumps(notes or {}), experiment_id, version])
        if bumped.rowcount == 0:
            raise StaleEditError("result set", {
                "version": results_version(db, experiment_id),
                "rows": [r.__dict__ for r in results(db, experiment_id)]})
        db.execute("DELETE FROM metric_results WHERE experiment_id = ?", [experiment_id])
        db["metric_results"].insert_all({
            "experiment_id": experiment_id, "metric": r.metric, "variant": r.variant,
            "kind": r.kind, "users": int(r.users), "conversions": r.conversions, "sum": r.sum,
            "sum_squares": r.sum_squares, "pre_sum": r.pre_sum,
            "pre_sum_squares": r.pre_sum_squares, "sum_product": r.sum_product,
            "source": source, "position": i, "updated_at": stamp} for i, r in enumerate(rows))
        audit(db, actor, "record_results", "experiment", experiment_id,
              {"rows": len(rows), "source": source, "version": version + 1})
    return len(rows)


def results_notes(exp: dict) -> dict:
    """How the stored results were computed: {"summary": str, "warnings": [str],
    "assigned": {variant: users}, "not_final": {metric: why its figures may still move}},
    or {}."""
    return json.loads(exp.get("results_notes") or "{}")


def assigned_rows(exp: dict) -> list[MetricRow] | None:
    """Users assigned per variant when the results were computed from assignments (they may
    count fewer: users still in their window after a staggered rollout): what the sample-ratio
    check and the progress against the plan count. None for results from elsewhere."""
    assigned = results_notes(exp).get("assigned")
    return [MetricRow("assigned", v, n, conversions=0, experiment=exp["key"])
            for v, n in assigned.items()] if assigned else None


def _check_experiment_column(key: str, rows: list[MetricRow]) -> None:
    """Rows naming an experiment (a results file's `experiment` column) must name this one:
    a file exported for another experiment is not this one's results."""
    others = sorted({r.experiment.strip() for r in rows if r.experiment and
                     r.experiment.strip().casefold() != key.casefold()})
    if others:
        named = ", ".join(others[:3]) + (f" and {len(others) - 3:,} more" if len(others) > 3
                                         else "")
        raise InputError(f"the rows are for {named}, not {key}; upload them on "
                         f"that experiment's page, or keep only {key}'s rows (or leave the "
                         "experiment column empty)", field="experiment")


RESULT_SOURCES = {"upload": "an upload", "manual": "entry by hand", "events": "events"}


def replacing(db, experiment_id: int, source: str,
              action: str = "saving these") -> str | None:
    """What `action`, saving results from `source`, would replace without keeping: the
    stored results when they came another way (computing again from events only refreshes
    those from events). None when there is nothing to say."""
    n, sources = db.execute("SELECT count(*), group_concat(DISTINCT source) FROM "
                            "metric_results WHERE experiment_id = ?", [experiment_id]).fetchone()
    if not n or set(sources.split(",")) == {source}:
        return None
    metrics = [m for (m,) in db.execute(
        "SELECT metric FROM metric_results WHERE experiment_id = ? GROUP BY metric "
        "ORDER BY min(position) LIMIT 6", [experiment_id])]
    shown = ", ".join(metrics[:5]) + (", …" if len(metrics) > 5 else "")
    came = " and ".join(RESULT_SOURCES.get(s, s) for s in sorted(sources.split(",")))
    return (f"{n:,} result rows from {came} ({shown}) are stored: {action} replaces them, "
            "and they are not kept")


def results(db, experiment_id: int) -> list[MetricRow]:
    key = get(db, experiment_id)["key"]
    return [MetricRow(metric=r["metric"], variant=r["variant"], users=r["users"],
                      conversions=r["conversions"], sum=r["sum"], sum_squares=r["sum_squares"],
                      pre_sum=r["pre_sum"], pre_sum_squares=r["pre_sum_squares"],
                      sum_product=r["sum_product"], experiment=key)
            for r in db.query("SELECT * FROM metric_results WHERE experiment_id = ? "
                              "ORDER BY position, id", [experiment_id])]


def result_columns(db, experiment_id: int) -> ResultColumns:
    """The stored results as columns: no row object per metric and variant."""
    key = get(db, experiment_id)["key"]
    cursor = db.execute("SELECT metric, variant, users, conversions, sum, sum_squares, pre_sum, "
                        "pre_sum_squares, sum_product FROM metric_results "
                        "WHERE experiment_id = ? ORDER BY position, id", [experiment_id])
    parts = []
    gc.disable()  # a million short-lived tuples would trigger collections for nothing
    try:
        while chunk := cursor.fetchmany(50_000):
            parts.append(ResultColumns.from_tuples(chunk, key))
    finally:
        gc.enable()
    return ResultColumns.concat(parts, key)


def decide(db, experiment_id: int, version: int, *, result: str, decision: str,
           conclusion: str, learning_title: str, learning_body: str,
           learning_status: str = "emerging", relation: str = "supports",
           observed_acquisition: str = "unknown", observed_retention: str = "unknown",
           reason: str = "", when: str | None = None, actor: str = "local") -> int:
    """Record the result and decision; deciding requires a learning. Returns the learning id.

    Deciding before the experiment's planned sample or duration is reached, or against the
    result (shipping without a win, abandoning a win), needs a `reason`, which the learning
    keeps beside how far along the experiment was or what the result was.
    """
    from growthlab import learnings

    if result not in RESULTS:
        raise InputError(f"{'is not chosen' if result is None else repr(result) + ' is not one'}"
                         f"; choose one of {', '.join(RESULTS)}", field="result")
    if decision not in DECISIONS:
        raise InputError(f"must be one of {', '.join(DECISIONS)}", field="decision")
    if not (conclusion or "").strip():
        raise InputError("is empty; say in a sentence what the data showed", field="conclusion")
    if not (learning_title or "").strip() or not (learning_body or "").strip():
        raise InputError("deciding needs a learning: a title and what it taught, written for "
                         "someone who was not there", field="learning")
    exp = get(db, experiment_id)
    learning_body = learning_body.strip() + _why_note(db, exp, result, decision, reason, when)
    with transaction(db):
        learning_id = learnings.create(
            db, title=learning_title, body=learning_body, status=learning_status,
            tags=experiment_tags(exp), author=actor, experiments=[(experiment_id, relation)])
        update(db, experiment_id, version, {
            "result": result, "decision": decision, "conclusion": conclusion.strip(),
            "observed_acquisition": observed_acquisition,
            "observed_retention": observed_retention}, actor=actor)
        move(db, experiment_id, version + 1, "decided", when=when, actor=actor)
    return learning_id


# Decisions that go against the result: they may be right, but the learning says why.
AGAINST_RESULT = {"ship": ("lost", "inconclusive", "invalid", "stopped_early"),
                  "abandon": ("won",)}


def _why_note(db, exp: dict, result: str, decision: str, reason: str, when: str | None) -> str:
    """What a learning says of a decision taken before the plan was reached, or against the
    result ('' for neither); either needs a `reason`."""
    from growthlab import plans

    today = date.fromisoformat(when[:10]) if when else clock.today()
    progress = plans.progress(exp, results(db, exp["id"]), today)
    headings, asks = [], []
    if progress is not None and progress.early:
        headings.append(f"**Decided early** at {progress.sentence()}")
        asks.append(f"deciding at {progress.sentence()}: say why you decide before the "
                    "planned sample or duration is reached")
    if result in AGAINST_RESULT.get(decision, ()):
        headings.append(f"**{'Shipped without a win' if decision == 'ship' else 'Abandoned a win'}"
                        f"** (result: {result})")
        asks.append(f"the decision is to {decision} an experiment whose result is {result}: "
                    "say why")
    if not headings:  # a reason given anyway is kept: the person meant it to be read
        return f"\n\n**Why this decision**: {reason.strip()}" if (reason or "").strip() else ""
    if not (reason or "").strip():
        raise InputError("; ".join(asks) + "; the learning will keep it", field="reason")
    return f"\n\n{'; '.join(headings)}: {reason.strip()}"


def verdict_rows(analysis, exp: dict) -> list[dict]:
    """The comparisons the pre-set result reads, from a ColumnAnalysis: the primary
    metric's and the guardrails', however many other metrics moved."""
    wanted = [exp["primary_metric"], *guardrails(exp)]
    return analysis.results(np.flatnonzero(np.isin(analysis.metric, wanted)))


def suggest_result(results: list[dict], srm_flagged: bool, primary_metric: str | None, *,
                   lower_is_better: Collection[str] = (), guardrails: Collection[str] = ()
                   ) -> str | None:
    """What the numbers say the result is, for the primary metric (the squad decides); None
    when they say nothing: no primary metric with results, or one that could not be
    computed (its failure is not 'inconclusive'). A drop is the good way for the metrics
    `lower_is_better`; a win that made one of the `guardrails` significantly worse is
    'inconclusive', not 'won': a trade-off the squad weighs (see `guardrail_harm`)."""
    if srm_flagged:
        return "invalid"
    primary = [r for r in results if r["metric"] == primary_metric]
    if not primary:
        return None
    lower = primary_metric in lower_is_better
    if any(r["significant"] and better(r, lower) < 0 for r in primary):
        return "lost"
    if any(r["significant"] and better(r, lower) > 0 for r in primary):
        return "inconclusive" if _harmed(results, primary_metric, lower_is_better,
                                         guardrails) else "won"
    if any(r.get("error") for r in primary):
        return None
    return "inconclusive"


def _harmed(results: list[dict], primary_metric: str | None, lower_is_better: Collection[str],
            guardrails: Collection[str]) -> list[dict]:
    """The guardrails a variant that won the primary metric made significantly worse."""
    def moved(r: dict) -> int:
        return better(r, r["metric"] in lower_is_better) if r["significant"] else 0

    if not guardrails:
        return []
    winners = {r["variant"] for r in results if r["metric"] == primary_metric and moved(r) > 0}
    return [r for r in results if r["metric"] in guardrails and r["metric"] != primary_metric
            and r["variant"] in winners and not r.get("error") and moved(r) < 0]


def guardrail_harm(results: list[dict], srm_flagged: bool, primary_metric: str | None, *,
                   lower_is_better: Collection[str] = (), guardrails: Collection[str] = (),
                   names: dict[str, str] | None = None, alpha: float = 0.05) -> str | None:
    """Why a win of the primary metric is pre-set 'inconclusive': which guardrails got
    significantly worse, and by how much. None when the primary did not win or none did."""
    if suggest_result(results, srm_flagged, primary_metric,
                      lower_is_better=lower_is_better) != "won":
        return None
    harmed = _harmed(results, primary_metric, lower_is_better, guardrails)
    if not harmed:
        return None
    names = names or {}
    said = " ".join(describe(r, names.get(r["metric"]), alpha,
                             lower_is_better=r["metric"] in lower_is_better) for r in harmed)
    return (f"The primary metric won, but a guardrail got worse: {said} The result is pre-set "
            "to inconclusive, not won: weigh the gain against the harm (shipping anyway asks "
            "why).")


def verdict_help(results: list[dict], srm_flagged: bool, primary_metric: str | None,
                 withheld: str | None = None, *, lower_is_better: Collection[str] = (),
                 guardrails: Collection[str] = (), alpha: float = 0.05) -> str:
    """Where the pre-set result comes from, or why there is none (`withheld`: why the
    analysis gave no results)."""
    harm = guardrail_harm(results, srm_flagged, primary_metric, guardrails=guardrails,
                          lower_is_better=lower_is_better, alpha=alpha)
    if harm:
        return f"{harm} Change it if you know better."
    if suggest_result(results, srm_flagged, primary_metric, lower_is_better=lower_is_better):
        return ("Pre-set from the primary metric's analysis on the Results tab; change it if "
                "you know better.")
    failed = [r for r in results if r["metric"] == primary_metric and r.get("error")]
    if withheld:
        why = withheld
    elif failed:
        why = (f"the primary metric could not be compared for {failed[0]['variant']}: "
               f"{failed[0]['error']['message']}.")
    else:
        why = "the experiment has no primary metric with results."
    return f"No verdict computed: {why} Choose what the data showed."
def experiment_tags(exp: dict) -> list[str]:
    tags = [exp.get("milestone_key"), exp.get("loop"), exp.get("product_area"), exp.get("squad")]
    return [t for t in tags if t]


def ice_scores(db, experiment_id: int) -> list[dict]:
    return list(db.query("SELECT scorer, impact, confidence, ease, version FROM ice_scores "
                         "WHERE experiment_id = ? ORDER BY scorer", [experiment_id]))


def set_ice(db, experiment_id: int, scorer: str, impact: int, confidence: int, ease: int, *,
            version: int | None = None, actor: str = "local") -> int:
    """Save a scorer's ICE score against the version of it the caller saw (None: no score).

    Returns the new version; a score changed since is refused (StaleEditError).
    """
    for name, value in (("impact", impact), ("confidence", confidence), ("ease", ease)):
        if not 1 <= int(value) <= 10:
            raise InputError("must be a whole number from 1 to 10", field=name)
    scorer = (scorer or "").strip()
    if not scorer:
        raise InputError("is empty; say who scored", field="scorer")
    values = {"impact": int(impact), "confidence": int(confidence), "ease": int(ease)}
    with transaction(db):
        saved = db.execute(
            "INSERT INTO ice_scores (experiment_id, scorer, impact, confidence, ease) "
            "VALUES (?,?,?,?,?) ON CONFLICT(experiment_id, scorer) DO NOTHING"
            if version is None else
            "UPDATE ice_scores SET impact = ?4, confidence = ?5, ease = ?6, version = version + 1 "
            "WHERE experiment_id = ?1 AND scorer = ?2 AND version = ?3",
            [experiment_id, scorer, *([] if version is None else [version]), *values.values()])
        if saved.rowcount == 0:
            current = next((s for s in ice_scores(db, experiment_id) if s["scorer"] == scorer),
                           {"scorer": scorer, "version": None})
            raise StaleEditError("ICE score", current)
        new_version = 1 if version is None else version + 1
        audit(db, actor, "score", "ice_score", experiment_id,
              {"scorer": scorer, **values, "version": new_version})
    return new_version


@dataclass(frozen=True)
class IceScore:
    score: float
    spread: float | None  # None with one scorer: no one to disagree with
    scorers: int


ICE_SPREAD_HELP = ("How much scorers disagree: the standard deviation of the ICE over every "
                   "mix of one scorer's impact, one's confidence and one's ease (0 only when "
                   "they agree on all three). Needs two or more scorers.")


def ice(scores: list[dict]) -> IceScore | None:
    """Mean of each scorer's I x C x E / 10 (0-100), with the spread between scorers
    (`ICE_SPREAD_HELP`): scorers giving (4, 5, 6) and (5, 8, 3) both score 12, yet disagree."""
    if not scores:
        return None
    each = [s["impact"] * s["confidence"] * s["ease"] / 10 for s in scores]
    spread = _mixed_spread(scores) if len(each) > 1 else None
    return IceScore(statistics.fmean(each), spread, len(each))


def _mixed_spread(scores: list[dict]) -> float:
    """The standard deviation of I x C x E / 10 over every mix of the scorers' dimensions:
    for independent choices, Var(ICE) = E[I^2] E[C^2] E[E^2] - (E[I] E[C] E[E])^2."""
    squares = means = 1.0
    for dimension in ("impact", "confidence", "ease"):
        values = [s[dimension] for s in scores]
        squares *= statistics.fmean(v * v for v in values)
        means *= statistics.fmean(values)
    return math.sqrt(max(squares - means * means, 0.0)) / 10


RICE_IMPACTS = (0.25, 0.5, 1.0, 2.0, 3.0)
RICE_CONFIDENCES = (0.5, 0.8, 1.0)


def rice_options(scale: tuple[float, ...], stored: float | None) -> list[float]:
    """A RICE scale's choices, with a stored value that is off the scale kept selectable."""
    return sorted({*scale, *([float(stored)] if stored is not None else [])})


def rice(reach, impact, confidence, effort) -> float | None:
    if None in (reach, impact, confidence, effort) or not effort:
        return None
    return reach * impact * confidence / effort


def listing(db, *, text: str = "", **filters: list[str] | None) -> list[dict]:
    """Experiments with their tags and ICE/RICE scores, filtered; backlog ranked by score.

    Filters (status, squad, milestone, loop, area, result) keep rows whose value is listed.
    """
    unknown = set(filters) - set(FILTER_COLUMNS)
    if unknown:
        raise InputError(f"unknown filter(s): {', '.join(sorted(unknown))}", field="filters")
    scores: dict[int, list[dict]] = {}
    for s in db.query("SELECT * FROM ice_scores"):
        scores.setdefault(s["experiment_id"], []).append(s)
    needle = text.lower().strip()
    out = []
    for r in db.query(f"{WITH_TAGS} ORDER BY e.id"):
        if any(wanted and r[FILTER_COLUMNS[name]] not in wanted
               for name, wanted in filters.items()):
            continue
        if needle and needle not in f"{r['key']} {r['title']} {r['hypothesis']}".lower():
            continue
        score = ice(scores.get(r["id"], []))
        r["ice"] = score.score if score else None
        r["ice_spread"] = score.spread if score else None
        r["ice_scorers"] = score.scorers if score else 0
        r["rice"] = rice(r["rice_reach"], r["rice_impact"], r["rice_confidence"], r["rice_effort"])
        out.append(r)
    out.sort(key=lambda r: (STATUSES.index(r["status"]), -(r["ice"] or 0), r["id"]))
    return out


def duration_days(row: dict) -> int | None:
    """Days from first start to end; None while running or when the dates contradict."""
    if not row.get("started_at") or not row.get("ended_at"):
        return None
    days = (date.fromisoformat(row["ended_at"][:10])
            - date.fromisoformat(row["started_at"][:10])).days
    return days if days >= 0 else None


LIST_COLUMNS = ("key", "title", "status", "ICE", "ICE spread", "RICE", "result", "decision",
                "milestone", "loop", "squad", "area", "acquisition", "retention")


def list_rows(rows: list[dict], names: dict[str, str] | None = None) -> list[dict]:
    """The experiments list as shown: `listing` rows with milestone `names` for their keys."""
    names = names or {}
    def shown(value):  # as the page shows them: whole numbers, not float noise
        return None if value is None else round(value)

    return [dict(zip(LIST_COLUMNS, (
        r["key"], r["title"], r["status"], shown(r["ice"]),
        "" if r["ice_spread"] is None else str(round(r["ice_spread"])),  # blank, not "None"
        shown(r["rice"]),
        r["result"] or "", r["decision"] or "", names.get(r["milestone_key"], r["milestone_key"]),
        r["loop"], r["squad"], r["product_area"], r["expected_acquisition"],
        r["expected_retention"]), strict=True)) for r in rows]


def listing_csv(rows: list[dict], names: dict[str, str] | None = None) -> str:
    """The list as a CSV file, formulas neutralised (`io.to_csv`)."""
    from growthlab.io import to_csv

    return to_csv(list_rows(rows, names), list(LIST_COLUMNS))


def programme_review(rows: list[dict]) -> dict:
    """Win rate, cadence and median duration over the given experiments; `decided` and
    `archived` count statuses as the board does (the win rate counts every result, archived
    experiments' too)."""
    valid = [r for r in rows if r["result"] in ("won", "lost", "inconclusive")]
    wins = sum(r["result"] == "won" for r in valid)
    durations = [d for d in (duration_days(r) for r in rows) if d is not None]
    weekly: dict[str, dict[str, int]] = {}
    for r in rows:
        for field_name, label in (("started_at", "started"), ("decided_at", "decided")):
            if r.get(field_name):
                day = date.fromisoformat(r[field_name][:10])
                week = (day - timedelta(days=day.weekday())).isoformat()
                weekly.setdefault(week, {"started": 0, "decided": 0})[label] += 1
    return {
        "experiments": len(rows), "wins": wins,
        "decided": sum(r["status"] == "decided" for r in rows),
        "archived": sum(r["status"] == "archived" for r in rows),
        "win_rate": wins / len(valid) if valid else None,
        "median_duration_days": statistics.median(durations) if durations else None,
        "weekly": [{"week": w, **c} for w, c in sorted(weekly.items())],
        "running": sum(r["status"] == "running" for r in rows),
    }
