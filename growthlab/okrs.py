"""Outcome OKRs: objectives, key results on metrics, check-ins, progress and pace, lint."""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from datetime import date, timedelta

from growthlab import clock
from growthlab.db import audit, now, transaction, update_versioned
from growthlab.errors import GrowthLabError, InputError, StaleEditError

STALE_AFTER_DAYS = 14
METRIC_KINDS = ("value_creation", "value_capture")
DIRECTIONS = ("increase", "decrease")
STATUSES = ("on track", "at risk", "off track")
NO_CHECKIN = "no check-in yet"
DEFAULT_CONFIDENCE = 5
# A check-in a hundred times the planned move away is far likelier a slipped decimal point
# than news: real good or bad weeks on a small planned move (churn 3.0% -> 2.8%, at 4.1%)
# are many times the move, and must be recordable as they are.
MAX_PROGRESS = 100.0
# Closer than that, a value is questioned before it is saved, never refused: ten planned moves
# beyond the plan, or the plan's own scale with its decimal point slipped (42 for 4.2 days).
FAR_MOVES = 10
SLIPS = (10, 100, 0.1, 0.01)
SLIP_RATIO = 5  # a value this many times above or below the plan's nearer end is off its scale
# Units nothing can be below zero in (the first word of a key result's unit).
NON_NEGATIVE_UNITS = frozenset({"days", "day", "hours", "hour", "minutes", "weeks", "seconds",
                                "users", "teams", "accounts", "sessions", "searches"})
ON_TRACK_GAP = 0.10
AT_RISK_GAP = 0.25
STATUS_RULE = ("On track: progress within 10 points of the pace line (where time elapsed says "
               "you should be); at risk: 10 to 25 points behind; off track: more than 25 "
               "points behind.")

OUTPUT_WORDS = ("launch", "ship", "build", "built", "release", "migrate", "implement",
                "deliver", "roll out", "rolled out", "rolling out", "rollout", "deploy",
                "redesign", "create", "introduce", "complete", "run", "ran", "publish", "write",
                "wrote", "send", "sent", "hire", "host")
# Each word with its endings: "launching", "shipped", "running", "written"; not "runway".
OUTPUT = re.compile(r"\b(?:" + "|".join(
    rf"{re.escape(w.removesuffix('e'))}(?:e|es|ed|d|s|ing|ning|ped|ping|ten)?"
    for w in OUTPUT_WORDS) + r")\b", re.IGNORECASE)
# Who does it: "teams to complete a review", "users create a list" is what customers do.
BY_CUSTOMERS = re.compile(r"\b(?:teams?|users?|customers?|clients?|accounts?|people|members?|"
                          r"admins?|workspaces?|companies|visitors?|buyers?|owners?|trials?|"
                          r"sign-?ups|subscribers?|developers?|leads?|prospects?)\s+"
                          r"(?:(?:to|who|that)\s+)?$", re.IGNORECASE)
# What the business captures, as patterns: "churn" covers churned and churning.
CAPTURE = re.compile(
    r"\b(revenue|mrr|arr|churn\w*|arpu|arpa|acv|tcv|deal sizes?|bookings|billings|gmv|nrr|"
    r"conversions? to paid|paid conversions?|upsell\w*|ltv|pipeline|cancell?ations?|"
    r"cancels?|paid seats?|renewals?)\b", re.IGNORECASE)
# A change in a metric. A bare percentage is not one: "to 100% of new teams" is a rollout.
MOVEMENT = re.compile(r"\b(raise|increase|grow|lift|cut|reduce|lower|decrease|improve|double|"
                      r"halve|from\s+\S+\s+to)\b", re.IGNORECASE)


@dataclass(frozen=True)
class LintWarning:
    code: str
    message: str
    suggestion: str


def lint_key_result(statement: str, metric: str = "", metric_kind: str = "value_creation"
                    ) -> list[LintWarning]:
    """Warnings for key results that read like outputs, capture value, or target NPS."""
    text = f"{statement} {metric}".lower()
    warnings = []
    output_word = next((found[0].lower() for found in OUTPUT.finditer(statement)
                        if not BY_CUSTOMERS.search(statement[:found.start()])), None)
    # A movement with no figure ("improve the onboarding by launching...") sets no target.
    if output_word and not (MOVEMENT.search(statement) and re.search(r"\d", statement)):
        warnings.append(LintWarning(
            "output",
            f"Reads like an output: \"{output_word}\" describes a deliverable, not a change in "
            "customer behaviour. Shipping it does not tell you whether customers got value.",
            "Rewrite as an outcome: \"Raise <milestone KPI> from A to B\", and list the "
            "deliverable as an experiment that pushes on it."))
    capture = found[0] if (found := CAPTURE.search(text)) else None
    if metric_kind == "value_capture" or capture:
        warnings.append(LintWarning(
            "value_capture",
            f"Value-capture metric{f' ({capture})' if capture else ''}: it measures what the "
            "business got, not what customers got. As a squad goal it invites gaming (you can "
            "cut churn by hiding the cancel button) and one squad cannot see its own effect in it.",
            "Track it for finance, but set the squad a value-creation KPI it can move, such as "
            "the share of new teams reaching Value realization."))
    if re.search(r"\bnps\b|net promoter", text):
        warnings.append(LintWarning(
            "nps",
            "NPS as a target: a survey score that lags behaviour and is easy to nudge by who "
            "you ask and when.",
            "Use a customer-effort score or a usage KPI (a milestone) as the target."))
    return warnings


def progress(baseline: float, target: float, value: float) -> float:
    """Share of the way from baseline to target; right for decreasing metrics too."""
    if target == baseline:
        raise InputError("target equals baseline, so progress is undefined", field="target")
    return (value - baseline) / (target - baseline)


def expected_progress(start: date, end: date, today: date) -> float:
    """Where time says you should be: 0 before start, 1 after end, linear between."""
    span = (end - start).days
    if span <= 0:
        return 1.0
    return min(max((today - start).days / span, 0.0), 1.0)


def status(actual: float, expected: float) -> str:
    gap = expected - actual
    if gap <= ON_TRACK_GAP:
        return "on track"
    return "at risk" if gap <= AT_RISK_GAP else "off track"


def forecast(points: list[tuple[date, float]], end: date) -> float | None:
    """Least-squares line through the check-ins, read at the end date."""
    if len(points) < 2:
        return None
    xs = [(d - points[0][0]).days for d, _ in points]
    ys = [v for _, v in points]
    mx, my = sum(xs) / len(xs), sum(ys) / len(ys)
    sxx = sum((x - mx) ** 2 for x in xs)
    if sxx == 0:
        return None
    slope = sum((x - mx) * (y - my) for x, y in zip(xs, ys, strict=True)) / sxx
    return my + slope * ((end - points[0][0]).days - mx)


PERCENT_UNITS = re.compile(r"^\s*(%|percent|pct|per ?cent)", re.IGNORECASE)
SHARE_UNITS = ("", "share", "fraction", "ratio", "rate", "proportion")
CHECKIN_WEEKS = 8


@dataclass(frozen=True)
class DataCheckin:
    """What a check-in from data would write, shown to the person before anything is."""

    value: float
    share: float
    users: int
    signups_from: date
    signups_to: date
    data_end: str

    def note(self) -> str:
        return (f"From events: {self.users:,} sign-ups from {self.signups_from} to "
                f"{self.signups_to} whose window had closed by {self.data_end[:10]}.")


UNIT_FIELD = "set the Unit to % under “Edit this key result”"


def _share_top(unit: str) -> float:
    """What a whole share (every user) reads as in `unit`: 100 for '%', 'percent', '% of ...',
    1 for a share; refused for any other unit."""
    if PERCENT_UNITS.match(unit):
        return 100.0
    if unit.strip().lower() in SHARE_UNITS:
        return 1.0
    raise InputError(f"the unit {unit!r} is not a share or a percentage, and a milestone KPI "
                     f"is the share of users who reach it; {UNIT_FIELD}, or check in by hand "
                     "with the Check in form", field="unit")


def in_unit(share: float, unit: str) -> float:
    """A milestone share in the key result's unit."""
    return share * _share_top(unit)


def check_share_scale(row: dict) -> None:
    """Refuse to read a milestone share onto a key result whose baseline and target are not on
    its unit's scale: a blank unit reads 0.4019 where the plan runs from 36 to 41."""
    unit = row.get("unit") or ""
    top, plan = _share_top(unit), (row["baseline"], row["target"])
    if all(0 <= v <= top for v in plan):
        return
    scale = "a percentage (0 to 100)" if top == 100 else "a share (0 to 1)"
    fix = (f"{UNIT_FIELD} if they are percentages" if top == 1 and all(0 <= v <= 100 for v in plan)
           else "change the baseline and target under “Edit this key result”")
    raise InputError(
        f"the unit {unit or '(blank)'} reads the milestone KPI as {scale}, but the baseline "
        f"{format_value(plan[0])} and target {format_value(plan[1])} are not on that scale; "
        f"{fix}, or check in by hand with the Check in form", field="unit")


def format_value(value: float, signed: bool = False) -> str:
    """A key result's value with four significant figures: a share of 0.1192 must not read as
    0.12, which would be a different progress and perhaps a different status."""
    sign = "+" if signed else ""
    if value == 0 or not math.isfinite(value) or abs(value) >= 1e15:
        return f"{value:{sign}.4g}"
    decimals = max(0, 3 - math.floor(math.log10(abs(value))))
    text = f"{value:{sign},.{decimals}f}"
    return text.rstrip("0").rstrip(".") if decimals else text


SHARE_WORDS = ("share", "fraction", "proportion")


def unit_bounds(row: dict) -> tuple[float, float] | None:
    """The range a share (0 to 1) or a percentage (0 to 100) can take, when the key result's
    baseline and target lie inside it; a percentage such as net revenue retention can pass
    100, and its baseline or target says so."""
    unit = (row.get("unit") or "").strip()
    top = 100.0 if PERCENT_UNITS.match(unit) else 1.0 if unit.lower() in SHARE_WORDS else None
    if top is None or not all(0 <= row[k] <= top for k in ("baseline", "target")):
        return None
    return 0.0, top


def check_checkin(row: dict, day, value: float, today: date) -> tuple[date, float]:
    """A check-in's date (from the key result's start to today) and a value the metric can
    take, not far outside its baseline-to-target plan."""
    day, start = _date(day, "date"), _date(row["start_date"], "start_date")
    if start > today:
        raise InputError(f"the key result starts on {start}; check in from then", field="date")
    if not start <= day <= today:
        where = "after today" if day > today else "before the key result starts"
        raise InputError(f"{day} is {where}; date a check-in from {start} to {today}",
                         field="date")
    return day, check_value(row, value)


def check_value(row: dict, value: float) -> float:
    """A value the key result's metric can take, not far outside its baseline-to-target plan."""
    value = float(value)
    shown = " ".join(filter(None, (format_value(value), row.get("unit") or "")))
    if not math.isfinite(value):
        raise InputError(f"{value} is not a number a metric can take", field="value")
    bounds = unit_bounds(row)
    if bounds and not bounds[0] <= value <= bounds[1]:
        raise InputError(f"{shown} is outside {bounds[0]:g} to {bounds[1]:g}, all a "
                         f"{row['unit'] or 'share'} can be; check the value", field="value")
    unit = (row.get("unit") or "").split()
    if value < 0 and unit and unit[0].lower() in NON_NEGATIVE_UNITS:
        raise InputError(f"{shown} is below 0, which {unit[0]} cannot be; check the value",
                         field="value")
    if abs(progress(row["baseline"], row["target"], value)) > MAX_PROGRESS:
        raise InputError(
            f"{shown} is far outside the plan (more than {MAX_PROGRESS:.0f} times the move from "
            f"baseline {format_value(row['baseline'])} to target {format_value(row['target'])}"
            "); check the value for a slipped decimal point or unit. If it is right, the "
            "baseline or target no longer fits: edit the key result first.", field="value")
    return value


def unlikely_value(row: dict, value: float) -> str | None:
    """Why a value that may be saved looks like a typo, to ask before saving it (a slipped
    decimal point, a share typed for a percentage, a number far beyond the plan); else None.
    A value that cannot be saved is refused as check_value refuses it."""
    value = check_value(row, value)
    baseline, target = row["baseline"], row["target"]
    move = abs(target - baseline)
    low, high = min(baseline, target) - move, max(baseline, target) + move
    if low <= value <= high:
        return None
    shown = " ".join(filter(None, (format_value(value), row.get("unit") or "")))
    plan = f"the plan runs from {format_value(baseline)} to {format_value(target)}"
    nearer = min((baseline, target), key=lambda end: abs(value - end))
    off_scale = nearer != 0 and not 1 / SLIP_RATIO < abs(value / nearer) < SLIP_RATIO
    meant = next((value * k for k in SLIPS if low <= value * k <= high), None)
    if off_scale and meant is not None:
        return (f"{shown}: did you mean {format_value(meant)}? {plan.capitalize()}; check for "
                "a slipped decimal point or a share typed for a percentage.")
    if abs(value - nearer) > FAR_MOVES * move:
        return (f"{shown} is more than {FAR_MOVES} times the planned move away from both the "
                f"baseline and the target ({plan}); check the value.")
    return None


def checkin_from_funnel(funnel, metric: str, unit: str,
                        weeks: int = CHECKIN_WEEKS) -> DataCheckin:
    """The milestone's share among the latest `weeks` weekly sign-up cohorts with users whose
    window has closed (users still inside their window are not counted as failures)."""
    cohorts = [c for c in funnel.cohorts if c["eligible"].get(metric)][-weeks:]
    if not cohorts:
        horizon = funnel.horizons.get(metric, 0)
        raise InputError(f"no user's {horizon}-day window for this milestone has closed by the "
                         f"data end ({(funnel.data_end or 'no events')[:10]}); check in once "
                         "the data covers it", field="metric")
    users = sum(c["eligible"][metric] for c in cohorts)
    share = sum(c["reached_eligible"][metric] for c in cohorts) / users
    last_day = date.fromisoformat(funnel.data_end[:10]) - timedelta(
        days=funnel.horizons.get(metric, 0))
    signups_to = min(date.fromisoformat(cohorts[-1]["cohort"]) + timedelta(days=6), last_day)
    return DataCheckin(in_unit(share, unit), share, users,
                       date.fromisoformat(cohorts[0]["cohort"]), signups_to, funnel.data_end)


def counted_users(preview: DataCheckin, horizon: int) -> str:
    """Whom a check-in from data counts, after its value: sign-ups whose `horizon`-day window
    had closed, or, for a milestone with no window, every sign-up with all their events."""
    who = f"of {preview.users:,} users who signed up from {preview.signups_from} to " \
          f"{preview.signups_to}"
    end = f"the data end ({preview.data_end[:10]})"
    if not horizon:
        return f"{who}, with all their events up to {end}: the milestone has no window."
    return (f"{who} and whose {horizon}-day window had closed by {end}. Users still inside "
            "their window are not counted as failures.")


def data_checkin(funnel, key_result: dict) -> DataCheckin:
    """What a check-in from data would write on `key_result`, on its unit's scale."""
    check_share_scale(key_result)
    return checkin_from_funnel(funnel, key_result["metric"], key_result["unit"])


def _date(value: str | date, name: str) -> date:
    if isinstance(value, date):
        return value
    try:
        return date.fromisoformat(str(value))
    except ValueError:
        raise InputError(f"{value!r} is not a date; use YYYY-MM-DD", field=name) from None


def check_period(start_date, end_date) -> tuple[date, date]:
    """A start and an end date, the end after the start."""
    start, end = _date(start_date, "start_date"), _date(end_date, "end_date")
    if end <= start:
        raise InputError("must be after the start date", field="end_date")
    return start, end


def optional_number(text: str, name: str) -> float | None:
    """A number typed in a form, or None when left blank."""
    if not (text or "").strip():
        return None
    try:
        return float(text)
    except ValueError:
        raise InputError(f"{text!r} is not a number", field=name) from None


def _text(value: str, name: str) -> str:
    value = (value or "").strip()
    if not value:
        raise InputError("is empty", field=name)
    return value


def create_objective(db, *, title: str, start_date, end_date, why: str = "", period: str = "",
                     squad_id: int | None = None, actor: str = "local") -> int:
    start, end = check_period(start_date, end_date)
    stamp = now()
    with transaction(db):
        row_id = db["objectives"].insert({
            "title": _text(title, "title"), "why": why, "period": period,
            "start_date": start.isoformat(), "end_date": end.isoformat(), "squad_id": squad_id,
            "created_at": stamp, "updated_at": stamp}).last_pk
        audit(db, actor, "create", "objective", row_id, {"title": title})
    return row_id


CUSTOM_METRIC = "(custom metric)"


def chosen_metric(choice: str | None, custom: str) -> str:
    """The metric a form's choice names: a milestone's key, or the custom metric's name."""
    if choice is None:
        raise InputError("choose one: a milestone KPI (checked in from data) or “Custom "
                         "metric” (checked in by hand) with its name", field="metric")
    return _text(custom, "custom metric name") if choice == CUSTOM_METRIC else choice


def check_unit(unit: str, baseline: float, target: float) -> str:
    """A unit the baseline and target fit: a share runs from 0 to 1."""
    unit = (unit or "").strip()
    if unit.lower() in SHARE_WORDS and not all(0 <= v <= 1 for v in (baseline, target)):
        raise InputError(f"a share runs from 0 to 1, and the baseline {format_value(baseline)} "
                         f"and target {format_value(target)} do not; set the unit to % if they "
                         "are percentages", field="unit")
    return unit


def check_key_result(*, statement: str, metric: str, baseline: float, target: float,
                     direction: str, metric_kind: str, start_date, end_date,
                     stretch: float | None = None, unit: str = "") -> dict:
    """Validate a key result's fields; returns them normalised."""
    if direction not in ("increase", "decrease"):
        raise InputError("must be increase or decrease", field="direction")
    if metric_kind not in ("value_creation", "value_capture"):
        raise InputError("must be value_creation or value_capture", field="metric_kind")
    if baseline == target:
        raise InputError("target equals baseline; a key result must move the metric",
                         field="target")
    if (target > baseline) != (direction == "increase"):
        word = "above" if direction == "increase" else "below"
        raise InputError(f"for a metric to {direction}, the target must be {word} the baseline",
                         field="target")
    if stretch is not None and (stretch - target) * (target - baseline) < 0:
        raise InputError("the stretch goal must lie beyond the target", field="stretch")
    start, end = check_period(start_date, end_date)
    return {"statement": _text(statement, "statement"), "metric": _text(metric, "metric"),
            "baseline": float(baseline), "target": float(target), "direction": direction,
            "metric_kind": metric_kind, "stretch": stretch, "start_date": start.isoformat(),
            "end_date": end.isoformat(), "unit": check_unit(unit, baseline, target)}


def key_result_period(objective: dict) -> tuple[date, date]:
    """Where a new key result starts and ends unless the person says otherwise: its
    objective's period, so its pace line starts where the objective's does."""
    return _date(objective["start_date"], "start_date"), _date(objective["end_date"], "end_date")


def create_key_result(db, objective_id: int, *, actor: str = "local", **fields) -> int:
    values = check_key_result(**fields)
    stamp = now()
    with transaction(db):
        row_id = db["key_results"].insert({**values, "objective_id": objective_id,
                                           "created_at": stamp, "updated_at": stamp}).last_pk
        audit(db, actor, "create", "key_result", row_id, {"statement": values["statement"]})
    return row_id


def update_objective(db, objective_id: int, version: int, changes: dict, *,
                     actor: str = "local") -> dict:
    row = next(db.query("SELECT * FROM objectives WHERE id = ?", [objective_id]))
    merged = {**row, **changes}
    _text(merged["title"], "title")
    start, end = check_period(merged["start_date"], merged["end_date"])
    changes = {**changes, "start_date": start.isoformat(), "end_date": end.isoformat()}
    with transaction(db):
        saved = update_versioned(db, "objectives", objective_id, version, changes, actor=actor,
                                 entity="objective")
        _move_key_results(db, row, saved, actor)
    return saved


def moved_dates(key_result: dict, objective: dict, start, end) -> dict:
    """The dates a key result takes when its objective moves to `start`-`end`: those it
    shared with the objective, so its pace line follows; dates set apart stay."""
    new = {"start_date": _date(start, "start_date").isoformat(),
           "end_date": _date(end, "end_date").isoformat()}
    return {k: new[k] for k in new if key_result[k] == objective[k] != new[k]}


def _move_key_results(db, old: dict, new: dict, actor: str) -> None:
    for kr in list(db.query("SELECT * FROM key_results WHERE objective_id = ?", [old["id"]])):
        if moved := moved_dates(kr, old, new["start_date"], new["end_date"]):
            dates = {**kr, **moved}
            if dates["end_date"] <= dates["start_date"]:
                raise InputError(
                    f"moving the objective moves key result {kr['statement']!r} to start on "
                    f"{dates['start_date']}, after the {dates['end_date']} it ends on; edit that "
                    "key result's end first, or pick dates that keep it inside them",
                    field="start_date")
            update_key_result(db, kr["id"], kr["version"], moved, actor=actor)


def update_key_result(db, key_result_id: int, version: int, changes: dict, *,
                      actor: str = "local") -> dict:
    """Edit a key result; the merged result is validated as at entry, the change audited."""
    row = next(db.query("SELECT * FROM key_results WHERE id = ?", [key_result_id]))
    merged = {**row, **changes}
    checked = check_key_result(**{k: merged[k] for k in (
        "statement", "metric", "baseline", "target", "direction", "metric_kind", "start_date",
        "end_date", "stretch", "unit")})
    if "start_date" in changes:
        _keep_checkins_inside(db, row, checked["start_date"])
    values = {k: checked[k] for k in changes if k in checked} | {
        k: v for k, v in changes.items() if k not in checked}
    return update_versioned(db, "key_results", key_result_id, version, values, actor=actor,
                            entity="key result")


def _keep_checkins_inside(db, row: dict, start: str) -> None:
    """Refuse a start after the key result's first check-in: every check-in is dated from
    its key result's start, in the chart, the forecast and the form alike."""
    first = db.execute("SELECT min(date) FROM checkins WHERE key_result_id = ?",
                       [row["id"]]).fetchone()[0]
    if first is not None and first < start:
        raise InputError(
            f"key result {row['statement']!r} has a check-in on {first}, before the new start "
            f"{start}; start on or before {first}, or remove the earlier check-ins first "
            "(“Correct or remove a check-in”)", field="start_date")


def _confidence(value) -> int:
    if not 0 <= int(value) <= 10:
        raise InputError("must be between 0 and 10", field="confidence")
    return int(value)


def add_checkin(db, key_result_id: int, *, day, value: float, confidence: int, note: str = "",
                author: str = "local") -> int:
    confidence = _confidence(confidence)
    row = next(db.query("SELECT * FROM key_results WHERE id = ?", [key_result_id]), None)
    if row is None:
        raise InputError(f"no key result {key_result_id}", field="key_result_id")
    day, value = check_checkin(row, day, value, clock.today())
    with transaction(db):
        row_id = db["checkins"].insert({
            "key_result_id": key_result_id, "date": day.isoformat(),
            "value": value, "confidence": confidence, "note": note,
            "author": author, "created_at": now()}).last_pk
        audit(db, author, "create", "checkin", row_id, {"key_result_id": key_result_id,
                                                        "value": value})
    return row_id


CORRECTABLE = ("value", "confidence", "note")


def _checkin(db, checkin_id: int) -> dict:
    row = next(db.query("SELECT * FROM checkins WHERE id = ?", [checkin_id]), None)
    if row is None:
        raise GrowthLabError(f"check-in {checkin_id} no longer exists.")
    return row


def update_checkin(db, checkin_id: int, version: int, changes: dict, *,
                   actor: str = "local") -> dict:
    """Correct a check-in's value, confidence or note, checked as a new check-in's are; the
    change is audited and refused against a newer version."""
    if fixed := sorted(set(changes) - set(CORRECTABLE)):
        raise InputError("only a check-in's value, confidence and note can be corrected; "
                         "remove it and check in again to change anything else",
                         field=", ".join(fixed))
    row = _checkin(db, checkin_id)
    key_result = next(db.query("SELECT * FROM key_results WHERE id = ?",
                               [row["key_result_id"]]))
    values = dict(changes)
    if "value" in values:
        values["value"] = check_value(key_result, values["value"])
    if "confidence" in values:
        values["confidence"] = _confidence(values["confidence"])
    return update_versioned(db, "checkins", checkin_id, version, values, actor=actor,
                            entity="check-in")


def remove_checkin(db, checkin_id: int, version: int, *, actor: str = "local") -> None:
    """Remove a check-in, unless it changed since `version`; the audit log keeps what it said."""
    with transaction(db):
        row = _checkin(db, checkin_id)
        if row["version"] != version:
            raise StaleEditError("check-in", row)
        db.execute("DELETE FROM checkins WHERE id = ?", [checkin_id])
        audit(db, actor, "delete", "check-in", checkin_id, {k: row[k] for k in (
            "key_result_id", "date", "value", "confidence", "note", "author")})


def next_confidence(view: KeyResultView) -> int:
    """Where a check-in's confidence starts: the last one's (0 is a real answer), else 5."""
    return DEFAULT_CONFIDENCE if view.confidence is None else view.confidence


def checkin_from_data(db, view: KeyResultView, preview: DataCheckin, *, today: date,
                      author: str) -> int:
    """Write the previewed value as read from the events, unrounded, at today's date."""
    check_share_scale(view.row)
    return add_checkin(db, view.row["id"], day=today, value=preview.value,
                       confidence=next_confidence(view), note=preview.note(), author=author)


@dataclass
class KeyResultView:
    """A key result with everything a leader needs: progress, pace, status, forecast."""

    row: dict
    checkins: list[dict]
    current: float | None  # None until the first check-in: the baseline is not a reading
    progress: float
    expected: float
    status: str
    forecast_value: float | None
    forecast_progress: float | None
    stale: bool
    last_checkin: str | None
    confidence: int | None
    lint: list[LintWarning]
    experiments: list[dict] = field(default_factory=list)
    forecast_capped: bool = False  # the trend runs past all a share or percentage can be

    @property
    def has_running_experiment(self) -> bool:
        return any(e["status"] in ("running", "analysing") for e in self.experiments)


def key_result_view(row: dict, checkins: list[dict], today: date,
                    experiments: list[dict] | None = None) -> KeyResultView:
    start, end = _date(row["start_date"], "start_date"), _date(row["end_date"], "end_date")
    points = [(_date(c["date"], "date"), c["value"]) for c in checkins]
    current = points[-1][1] if points else None
    actual = 0.0 if current is None else progress(row["baseline"], row["target"], current)
    expected = expected_progress(start, end, today)
    trend, bounds = forecast(points, end), unit_bounds(row)
    predicted = trend if trend is None or bounds is None else min(max(trend, bounds[0]),
                                                                  bounds[1])
    last = points[-1][0] if points else None
    return KeyResultView(
        row=row, checkins=checkins, current=current, progress=actual, expected=expected,
        status=NO_CHECKIN if current is None else status(actual, expected),
        forecast_value=predicted,
        forecast_progress=None if predicted is None else progress(row["baseline"], row["target"],
                                                                   predicted),
        forecast_capped=predicted != trend,
        stale=is_stale(row, last, today),
        last_checkin=last.isoformat() if last else None,
        confidence=checkins[-1]["confidence"] if checkins else None,
        lint=lint_key_result(row["statement"], row["metric"], row["metric_kind"]),
        experiments=experiments or [])


def status_counts(views: list[KeyResultView]) -> dict[str, int]:
    """How many key results stand at each status; those with no check-in yet count too."""
    return {s: sum(v.status == s for v in views) for s in (*STATUSES, NO_CHECKIN)}


def needs_attention(views: list[KeyResultView]) -> list[KeyResultView]:
    """What a leader should ask about: key results behind pace, then those never checked in."""
    behind = [v for v in views if v.status in ("at risk", "off track")]
    return behind + [v for v in views if v.status == NO_CHECKIN]


def is_stale(row: dict, last_checkin: date | None, today: date) -> bool:
    """No check-in for STALE_AFTER_DAYS: counted from the last check-in, else from when the
    key result started or was written, whichever is later (a new one is never stale)."""
    since = last_checkin or max(_date(row["start_date"], "start_date"),
                                _date(row["created_at"][:10], "created_at"))
    return (today - since) > timedelta(STALE_AFTER_DAYS)


def checkin_log(checkins: list[dict]) -> list[dict]:
    """Every check-in as a person reads it, newest first (latest written first on a day)."""
    ordered = sorted(checkins, key=lambda c: (c["date"], c["id"]), reverse=True)
    return [{k: format_value(c[k]) if k == "value" else c[k]
             for k in ("date", "value", "confidence", "note", "author")} for c in ordered]


@dataclass
class ObjectiveView:
    row: dict
    key_results: list[KeyResultView]

    @property
    def uncovered(self) -> list[KeyResultView]:
        """Key results no running experiment is pushing on."""
        return [kr for kr in self.key_results if not kr.has_running_experiment]

    def checkin_log(self) -> list[dict]:
        """Every check-in of its key results, newest first, each naming its key result."""
        statements = {kr.row["id"]: kr.row["statement"] for kr in self.key_results}
        everything = [c for kr in self.key_results for c in kr.checkins]
        ordered = sorted(everything, key=lambda c: (c["date"], c["id"]), reverse=True)
        return [{"key result": statements[c["key_result_id"]], **entry}
                for c, entry in zip(ordered, checkin_log(ordered), strict=True)]


def overview(db, today: date | None = None) -> list[ObjectiveView]:
    """Every objective with its key results, check-ins and linked experiments."""
    today = today or clock.today()
    checkins: dict[int, list[dict]] = {}
    for c in db.query("SELECT * FROM checkins ORDER BY date, id"):
        checkins.setdefault(c["key_result_id"], []).append(c)
    experiments: dict[int, list[dict]] = {}
    for e in db.query("SELECT id, key, title, status, result, decision, key_result_id "
                      "FROM experiments WHERE key_result_id IS NOT NULL ORDER BY id"):
        experiments.setdefault(e["key_result_id"], []).append(e)
    krs: dict[int, list[KeyResultView]] = {}
    for kr in db.query("SELECT * FROM key_results ORDER BY id"):
        krs.setdefault(kr["objective_id"], []).append(
            key_result_view(kr, checkins.get(kr["id"], []), today, experiments.get(kr["id"])))
    objectives = db.query("SELECT o.*, s.name AS squad FROM objectives o "
                          "LEFT JOIN squads s ON s.id = o.squad_id ORDER BY o.start_date, o.id")
    return [ObjectiveView(o, krs.get(o["id"], [])) for o in objectives]
