"""An experiment's plan: where the power planner starts (the metric's real baseline and
traffic), the sample and duration saved on the experiment, and how far along it is."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np

from growthlab.db import update_versioned
from growthlab.errors import InputError, StatsError
from growthlab.io import percent
from growthlab.report import CORRECTIONS
from growthlab.stats import MetricRow, control_of
from growthlab.stats.moments import mean_moments

COMPLETE_WEEKS = 4


@dataclass(frozen=True)
class Estimate:
    """A number the planner starts from, with where it comes from in words."""

    value: float
    source: str
    sd: float | None = None  # a mean metric's standard deviation; None for a rate


def baseline(rows: list[MetricRow], metric: str | None, control: str | None,
             funnel) -> Estimate | None:
    """The metric's conversion rate: its control's in the latest results, else its share in
    the events (users whose window has closed); None when neither knows a rate strictly
    between 0 and 100%, the only rates a test can be planned from. A mean metric's start is
    its control's mean and standard deviation in the results (None when they vary not)."""
    mine = [r for r in rows if r.metric == metric]
    if mine:
        name = control or control_of([r.variant for r in mine])
        arm = next((r for r in mine if r.variant == name), None)
        if arm and arm.kind == "mean":
            return _mean_start(arm)
        if arm and 0 < arm.conversions < arm.users:
            return Estimate(arm.conversions / arm.users,
                            f"{name}'s rate in the latest results ({arm.conversions:,.0f} of "
                            f"{arm.users:,.0f} users)")
    share = next((m["share"] for m in (funnel.milestones if funnel else [])
                  if m["key"] == metric), None)
    if share is None or not 0 < share < 1:
        return None
    return Estimate(share, "its share among users in the events whose window has closed")


def _mean_start(arm: MetricRow) -> Estimate | None:
    moments = mean_moments(arm.users, arm.sum, arm.sum_squares)
    mean, sd = float(moments.mean[0]), math.sqrt(float(moments.var[0]))
    if not sd > 0 or mean <= 0:
        return None
    return Estimate(mean, f"{arm.variant}'s mean in the latest results ({arm.users:,.0f} "
                          f"users, standard deviation {sd:,.4g})", sd)


# Below this many expected conversions (or non-conversions) in the smallest arm, the normal
# approximation the planner uses overstates power (a 1% control with 7: 71%, not 80%).
MIN_EXPECTED_EVENTS = 20


def smallest_arm(users: float, shares: list[float] | None, variants: int) -> float:
    """Users the smallest arm gets out of `users` in the experiment."""
    return users * min(shares) if shares else users / variants


def too_few_to_estimate(baseline: float, arm_users: float) -> bool:
    return min(baseline, 1 - baseline) * arm_users < MIN_EXPECTED_EVENTS


def scarce(baseline: float, users: float) -> str:
    """What a small arm lacks, in words: conversions, or non-conversions for a high rate."""
    if baseline > 0.5:
        return f"about {users * (1 - baseline):,.0f} users who do not convert"
    return f"about {users * baseline:,.0f} conversions"


def duration(days: float) -> str:
    """How long a plan runs, in words: 'about 12 days', 'less than a day'."""
    if days < 1:
        return "less than a day"
    return f"about {days:,.0f} day{'s' if round(days) != 1 else ''}"


def corrected_metrics(columns, guardrails: list[str]) -> int:
    """How many metrics the Results tab corrects over: those in the results, else the
    primary metric and the guardrails the design names."""
    return len(columns.metric_codes[0]) if len(columns) else 1 + len(guardrails)


def planning_alpha(alpha: float, correction: str, metrics: int) -> tuple[float, str]:
    """The alpha to size the primary metric's test with, and words saying why: the Results
    tab corrects over every metric, and a plan that ignores it promises power the analysis
    does not give. Bonferroni over the metrics is the bound either correction meets, so the
    plan gets at least its power."""
    if correction not in CORRECTIONS or metrics < 2:
        return alpha, ""
    return alpha / metrics, (f", with the {CORRECTIONS[correction]} correction over its "
                             f"{metrics} metrics")


def planned_shares(variants: list[dict]) -> tuple[list[str], list[float]] | None:
    """The design's variants with their shares of the traffic, the control's first; None
    when the design splits the users evenly (the planner then sizes each variant alike)."""
    weights = {v["key"]: float(v["weight"]) for v in variants}
    if len(weights) < 2 or len(set(weights.values())) == 1:
        return None
    try:
        control = control_of(list(weights))
    except StatsError:  # two variants read as the control: the Results tab asks which
        return None
    names = [control, *(k for k in weights if k != control)]
    total = sum(weights.values())
    return names, [weights[k] / total for k in names]


def metric_rows(columns, metric: str | None) -> list[MetricRow]:
    """One metric's rows (else the first metric's) of a stored result set: all the planner
    and the progress read, without a row object per comparison of a large set."""
    if not len(columns):
        return []
    wanted = columns.metric == metric
    return [columns.row(int(i)) for i in np.flatnonzero(
        wanted if wanted.any() else columns.metric == columns.metric[0])]


def experiment_users(rows: list[MetricRow], metric: str | None) -> int | None:
    """Users in the experiment so far: every arm of the metric (else of the first metric)."""
    if not rows:
        return None
    metric = metric if any(r.metric == metric for r in rows) else rows[0].metric
    return int(sum(r.users for r in rows if r.metric == metric))


def days_run(started_at: str | None, until: date) -> int | None:
    if not started_at:
        return None
    return max((until - date.fromisoformat(started_at[:10])).days, 1)


def daily_traffic(rows: list[MetricRow], metric: str | None, started_at: str | None,
                  until: date, funnel) -> Estimate | None:
    """Users a day: the experiment's own so far, else new users a day in the latest complete
    weeks of events; None when neither is known."""
    users, days = experiment_users(rows, metric), days_run(started_at, until)
    if users and days:
        return Estimate(users / days, f"{users:,} users in its results over {days} "
                                      f"day{'s' if days != 1 else ''}")
    if not funnel or not funnel.data_end:
        return None
    end = date.fromisoformat(funnel.data_end[:10])
    weeks = [c for c in funnel.cohorts
             if date.fromisoformat(c["cohort"]) + timedelta(days=7) <= end][-COMPLETE_WEEKS:]
    if not weeks:
        return None
    return Estimate(sum(c["users"] for c in weeks) / (7 * len(weeks)),
                    f"new users a day in the events' last {len(weeks)} complete weeks")


@dataclass(frozen=True)
class Progress:
    """How far along an experiment is against its saved plan."""

    users: int
    planned_users: int
    days: int
    planned_days: int | None

    @property
    def early(self) -> bool:
        """Short of the planned sample, or of the planned duration."""
        return self.users < self.planned_users or (
            self.planned_days is not None and self.days < self.planned_days)

    def sentence(self) -> str:
        text = (f"{self.users:,} of {self.planned_users:,} planned users "
                f"({percent(self.users / self.planned_users)})")
        if self.planned_days:
            text += (f", day {self.days} of {self.planned_days} planned "
                     f"({percent(self.days / self.planned_days)})")
        return text


def progress(exp: dict, rows: list[MetricRow], today: date) -> Progress | None:
    """Users and days so far against the plan saved on the experiment (None without one).

    Days run from the start to the end of the run (or today while it runs)."""
    if not exp.get("planned_users"):
        return None
    until = date.fromisoformat(exp["ended_at"][:10]) if exp.get("ended_at") else today
    return Progress(experiment_users(rows, exp.get("primary_metric")) or 0,
                    exp["planned_users"], days_run(exp.get("started_at"), until) or 0,
                    exp.get("planned_days"))


def save(db, experiment_id: int, version: int, planned_users: int,
         planned_days: float | None, *, actor: str = "local") -> dict:
    """Keep a plan (users in all arms, days) on the experiment; versioned and audited."""
    if not planned_users or planned_users < 2:
        raise InputError("must be at least 2 users", field="planned_users")
    days = None if planned_days is None else math.ceil(planned_days)
    return update_versioned(db, "experiments", experiment_id, version,
                            {"planned_users": int(planned_users), "planned_days": days},
                            actor=actor, entity="experiment")
