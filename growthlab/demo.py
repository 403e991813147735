"""The demo workspace: one coherent, seeded story of a product-led SaaS (see demo_content)."""

from __future__ import annotations

import hashlib
from datetime import date, datetime, time, timedelta
from pathlib import Path

import numpy as np

from growthlab import clock, experiments, learnings, okrs, research, survey
from growthlab import demo_content as story
from growthlab.db import get_setting, open_workspace, set_setting, transaction
from growthlab.errors import InputError
from growthlab.kpis import Milestone, experiment_metrics, milestones_toml, save_to_workspace
from growthlab.kpis.milestones import horizons
from growthlab.stats import MetricRow
from growthlab.swap import DATA_NAMES, SWAP_SETTING, Swap, data_tables, recover, workspace_lock

DAYS = 84
NUDGE_INDEX = 3  # "Export nudge after the second list": runs on real events and assignments
NUDGE_KEY = f"EXP-{NUDGE_INDEX + 1:03d}"
SMALL_AUDIENCE = {"Team workspace on sign-up"}  # too few invited visitors to tell
# Conversion of each milestone among the users an experiment targets.
TARGET_BASELINE = {"problem": 0.9, "interest": 0.75, "first_value": 0.34,
                   "value_realization": 0.27, "continued_value": 0.57, "value_growth": 0.40}


def monday(day: date) -> date:
    return day - timedelta(days=day.weekday())


QUARTER_DAY = 28  # the OKR quarter starts eight weeks before the anchor, 12 weeks of data
ONBOARDING_LIFT = 0.5


def _stamp(day: date, hour: int = 10) -> str:
    return datetime.combine(day, time(hour)).isoformat() + "+00:00"


def create_demo(path: str | Path, *, seed: int = 7, users: int = 50_000,
                anchor: date | None = None) -> str:
    """(Re)build the demo workspace at `path`, its events beside it. Returns a summary line.

    The demo is built beside the workspace and swapped in as a whole, under the workspace lock;
    it never replaces a team's workspace, nor a demo a team has started using.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with workspace_lock(path):
        return _build(path, seed, users, anchor)


def ensure_demo(path: str | Path) -> bool:
    """Create the demo when no workspace exists at `path`; True when it was created.

    Two first visits at once: the second waits for the first build and then finds it.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    with workspace_lock(path):
        if path.exists():
            return False
        _build(path, 7, 50_000, None)
    return True


def _build(path: Path, seed: int, users: int, anchor: date | None) -> str:
    recover(path)
    if path.exists():
        db = open_workspace(path)
        try:
            _refuse_to_replace_real_work(db, path)
        finally:
            db.conn.close()
    anchor = monday(anchor or clock.today())
    rng = np.random.default_rng(seed)
    with Swap(path) as swap:
        folder = swap.new
        start = anchor - timedelta(days=DAYS)
        (folder / "events").mkdir()
        nudge_start = anchor - timedelta(days=28)
        events, assignments = generate_events(rng, users, start, nudge_start)
        events.to_parquet(folder / "events" / "events.parquet", index=False)
        assignments.to_parquet(folder / "assignments.parquet", index=False)
        milestones = [Milestone(**m) for m in story.MILESTONES]
        (folder / "milestones.toml").write_text(milestones_toml(milestones), encoding="utf-8")
        db = open_workspace(swap.database)
        exp_count = _fill(db, milestones, anchor, rng, folder)
        set_setting(db, "demo_fingerprint", fingerprint(db, folder))
        db.conn.close()
        swap.commit(check=lambda live: _refuse_to_replace_real_work(live, path))
    return (f"demo workspace at {path}: {users:,} users, {len(events):,} events, "
            f"{exp_count} experiments")


def _fill(db, milestones: list[Milestone], anchor: date, rng, folder: Path) -> int:
    with transaction(db):
        ids = _taxonomy(db)
        save_to_workspace(db, milestones, actor="demo")
        set_setting(db, "demo", "true")
        set_setting(db, "events_path", "events")
        set_setting(db, "assignments_path", "assignments.parquet")
        set_setting(db, "pql_rule", story.PQL_RULE)
        set_setting(db, "pql_window_days", "30")
        kr_ids = _okrs(db, ids, anchor, _checkins_from_events(folder / "events", milestones,
                                                            anchor))
        exp_ids = _experiments(db, ids, kr_ids, anchor, rng)
        _general_learnings(db, anchor, rng)
        _research(db, anchor)
        _surveys(db, anchor, np.random.default_rng([16, int(rng.integers(1 << 31))]))
    computed = experiment_metrics(folder / "events", folder / "assignments.parquet",
                                  milestones, NUDGE_KEY)
    shown = ("value_realization", "first_value")
    not_final = computed.open_windows(horizons(milestones))
    experiments.record_results(db, exp_ids[NUDGE_INDEX],
                               [r for r in computed.rows if r.metric in shown],
                               source="events", actor="demo",
                               notes={"assigned": computed.assigned,
                                      "not_final": {k: v for k, v in not_final.items()
                                                    if k in shown}})
    return len(exp_ids)


def _refuse_to_replace_real_work(db, path: Path) -> None:
    """The demo may refresh itself, never a team's own workspace nor a demo they have used."""
    if get_setting(db, "demo") == "true":
        if get_setting(db, "demo_fingerprint") != fingerprint(db, path.parent):
            raise InputError("holds a demo your team has started using (it changed since it "
                             "was built); put the demo elsewhere with --workspace, or export "
                             "this one and remove it first", source=str(path))
    elif not is_blank(db):
        raise InputError("holds a team's workspace, not the demo; put the demo elsewhere "
                         "with --workspace, or export this one and remove it first",
                         source=str(path))


def fingerprint(db, folder: Path) -> str:
    """A digest of every row and data file of a workspace: any change a team makes to a demo
    (a row written, a file uploaded) changes it."""
    digest = hashlib.sha256()
    for table in data_tables(db):
        if table == "migrations":
            continue
        rows = db.execute(f"SELECT * FROM [{table}]").fetchall()
        if table == "settings":
            rows = [r for r in rows if r[0] not in ("demo_fingerprint", SWAP_SETTING)]
        digest.update(f"{table}{sorted(map(repr, rows))}".encode())
    for name in DATA_NAMES:
        files = sorted((folder / name).rglob("*")) if (folder / name).is_dir() else [
            folder / name]
        for file in (f for f in files if f.is_file()):
            digest.update(str(file.relative_to(folder)).encode())
            digest.update(hashlib.sha256(file.read_bytes()).digest())
    return digest.hexdigest()


def is_blank(db) -> bool:
    return all(db[t].count == 0 for t in ("objectives", "experiments", "learnings"))


def generate_events(rng, users: int, start: date, nudge_start: date):
    """Seeded product events with a clear success gap between First value and Value realization.

    Users signing up from `nudge_start` on are assigned to EXP-004 (export nudge), whose
    treatment makes exporting more likely.
    """
    import pandas as pd

    signup = rng.integers(0, DAYS, users) + rng.uniform(7 / 24, 22 / 24, users)
    engagement = rng.beta(1.0, 1.8, users)
    life = np.minimum(rng.exponential(6 + 110 * engagement**2.2), DAYS - signup)
    interested = rng.random(users) < 0.76
    nudge_day = (nudge_start - start).days
    assigned = (signup >= nudge_day) & (rng.random(users) < 0.8)
    treated = assigned & (rng.random(users) < 0.5)
    export_boost = np.where(treated, 1.4, 1.0)
    # The Activation squad's onboarding work since the quarter began: new teams search and
    # save more, so First value rises week by week while exports (Value realization) lag.
    onboarding = 1 + ONBOARDING_LIFT * np.clip((signup - QUARTER_DAY) / (DAYS - QUARTER_DAY),
                                               0, 1)
    counts = {
        "visit": 1 + rng.poisson(0.5 + 2 * engagement),
        "search": interested * rng.poisson(onboarding * (2.5 + 1.1 * (life + 3)
                                                         * engagement**0.7)),
        "list_created": interested * rng.poisson(onboarding * (0.4 + 0.12 * (life + 3)
                                                               * engagement)),
        "export": interested * rng.poisson(0.15 * (life + 1) * engagement**1.3 * export_boost),
        "invite_sent": rng.poisson(0.01 * life * engagement),
        "upgrade": (rng.random(users) < 0.6 * engagement**2).astype(int),
        "review_posted": (rng.random(users) < 0.05 * engagement).astype(int),
        "referral_sent": rng.poisson(0.003 * engagement * life),
    }
    user_idx, names, offsets = [], [], []
    for name, n in counts.items():
        n = np.asarray(n, dtype=int)
        who = np.repeat(np.arange(users), n)
        if name == "visit":
            off = life[who] * rng.random(who.size) ** 1.5
            off[np.r_[0, np.cumsum(n)[:-1]]] = 0.0  # the first visit is the sign-up
        else:
            off = (life[who] + 0.5) * rng.random(who.size) ** 1.4 + rng.uniform(0, 0.02, who.size)
        user_idx.append(who)
        names.append(np.full(who.size, name))
        offsets.append(signup[who] + off)
    who, name, day = (np.concatenate(x) for x in (user_idx, names, offsets))
    keep = day < DAYS
    order = np.lexsort((day[keep], who[keep]))
    ids = np.char.add("u", np.char.zfill(np.arange(users).astype(str), 6))
    origin = pd.Timestamp(start)
    events = pd.DataFrame({
        "user_id": ids[who[keep][order]],
        "event": name[keep][order],
        "timestamp": origin + pd.to_timedelta(np.round(day[keep][order] * 86400), unit="s"),
    })
    members = np.flatnonzero(assigned)
    assign = pd.DataFrame({
        "user_id": ids[members],
        "experiment": NUDGE_KEY,
        "variant": np.where(treated[members], "treatment", "control"),
        "assigned_at": origin + pd.to_timedelta(np.round(signup[members] * 86400), unit="s"),
    })
    # A few users saw both variants (a caching bug): they must be excluded, not counted twice.
    dupes = assign.iloc[:25].assign(variant=lambda f: np.where(f.variant == "control",
                                                               "treatment", "control"))
    return events, pd.concat([assign, dupes], ignore_index=True)


def _taxonomy(db) -> dict[str, dict[str, int]]:
    ids: dict[str, dict[str, int]] = {"squads": {}, "loops": {}, "areas": {}}
    for name, mission in story.SQUADS:
        ids["squads"][name] = db["squads"].insert({"name": name, "mission": mission}).last_pk
    for name, description in story.LOOPS:
        ids["loops"][name] = db["loops"].insert({"name": name,
                                                 "description": description}).last_pk
    for name in story.AREAS:
        ids["areas"][name] = db["product_areas"].insert({"name": name}).last_pk
    return ids


def _checkin_days(anchor: date) -> list[date]:
    start = anchor - timedelta(weeks=8)
    return [start + timedelta(weeks=week, days=4) for week in range(8)]


def _checkins_from_events(events, milestones, anchor: date) -> dict[str, list[tuple]]:
    """Each milestone key result's weekly (value, note) as the events said on each day."""
    from growthlab.kpis import funnel
    from growthlab.okrs import checkin_from_funnel

    keys = [kr[1] for _, _, _, krs in story.OBJECTIVES for kr in krs if kr[8] is None]
    values: dict[str, list[tuple]] = {key: [] for key in keys}
    for day in _checkin_days(anchor):
        result = funnel(events, milestones, as_of=datetime.combine(day, time()), by_cohort=True)
        for key in keys:
            preview = checkin_from_funnel(result, key, "%")
            values[key].append((round(preview.value, 2), preview.note()))
    return values


def _okrs(db, ids, anchor: date, from_events: dict[str, list[tuple]]) -> list[list[int]]:
    start, end = anchor - timedelta(weeks=8), anchor + timedelta(weeks=5)
    middle = start + (end - start) / 2
    period = f"Q{(middle.month - 1) // 3 + 1} {middle.year}"
    kr_ids = []
    for title, why, squad, key_results in story.OBJECTIVES:
        objective = okrs.create_objective(db, title=title, why=why, period=period,
                                          start_date=start, end_date=end,
                                          squad_id=ids["squads"][squad], actor="demo")
        ids_here = []
        for i, (statement, metric, kind, direction, unit, baseline, target, stretch, values,
                confidences) in enumerate(key_results):
            kr = okrs.create_key_result(db, objective, statement=statement, metric=metric,
                                        metric_kind=kind, direction=direction, unit=unit,
                                        baseline=baseline, target=target, stretch=stretch,
                                        start_date=start, end_date=end, actor="demo")
            author = story.PEOPLE[i % len(story.PEOPLE)]
            checkins = from_events[metric] if values is None else [
                (value, _checkin_note(week, value, baseline)) for week, value in
                enumerate(values)]
            for day, (value, note), confidence in zip(_checkin_days(anchor), checkins,
                                                      confidences, strict=False):
                okrs.add_checkin(db, kr, day=day, value=value, confidence=confidence,
                                 author=author, note=note)
            ids_here.append(kr)
        kr_ids.append(ids_here)
    return kr_ids


def _checkin_note(week: int, value: float, baseline: float) -> str:
    if week == 0 and value == baseline:
        return "Baseline confirmed from last quarter's cohorts."
    if week == 0:
        return f"First reading: {value:g} against the {baseline:g} planned from last quarter."
    moved = "up" if value > baseline else "down" if value < baseline else "flat"
    return f"Week {week + 1}: {moved} against baseline ({baseline:g} then, {value:g} now)."


def _experiments(db, ids, kr_ids, anchor: date, rng) -> list[int]:
    out = []
    for i, spec in enumerate(story.EXPERIMENTS):
        (title, change, who, outcome, milestone, loop, area, squad, acquisition, retention,
         status, result, decision, lift, kr, conclusion) = spec
        name = next(m["name"] for m in story.MILESTONES if m["key"] == milestone)
        created = anchor - timedelta(days=int(80 - i * 1.5))
        exp_id = experiments.create(
            db, title=title,
            hypothesis=f"We believe {change} for {who} will help them {outcome}, measured by "
                       f"{name}.",
            squad_id=ids["squads"][squad], milestone_key=milestone,
            loop_id=ids["loops"][loop], product_area_id=ids["areas"][area],
            key_result_id=kr_ids[kr[0]][kr[1]] if kr else None,
            guardrail_metrics=["searches_per_user"], expected_acquisition=acquisition,
            expected_retention=retention, owner=story.PEOPLE[i % len(story.PEOPLE)],
            key=f"EXP-{i + 1:03d}", created_at=_stamp(created), actor="demo")
        _score(db, exp_id, i, rng)
        _advance(db, exp_id, i, spec, anchor, rng)
        out.append(exp_id)
    return out


def _score(db, exp_id: int, i: int, rng) -> None:
    for scorer in story.PEOPLE[i % 3: i % 3 + 1 + i % 3]:
        impact, confidence, ease = (int(x) for x in rng.integers(3, 10, 3))
        experiments.set_ice(db, exp_id, scorer, impact, confidence, ease)
    db.execute("UPDATE experiments SET rice_reach = ?, rice_impact = ?, rice_confidence = ?, "
               "rice_effort = ? WHERE id = ?",
               [int(rng.integers(5, 50)) * 100, float(rng.choice([0.5, 1, 2, 3])),
                float(rng.choice([0.5, 0.8, 1.0])), int(rng.integers(1, 9)), exp_id])


def _advance(db, exp_id: int, i: int, spec, anchor: date, rng) -> None:
    (title, change, who, outcome, milestone, loop, area, squad, acquisition, retention,
     status, result, decision, lift, kr, conclusion) = spec
    order = experiments.STATUSES
    if status == "idea":
        return
    if i == NUDGE_INDEX:
        started = anchor - timedelta(days=28)
    elif status in ("running", "analysing"):
        started = anchor - timedelta(days=int(rng.integers(8, 24)))
    else:
        started = anchor - timedelta(days=int(76 - i * 1.2))
    length = int(rng.integers(14, 29))
    path = {"backlog": ["backlog"], "running": ["backlog", "running"],
            "analysing": ["backlog", "running", "analysing"],
            "decided": ["backlog", "running", "analysing"],
            "archived": ["backlog", "running", "analysing"]}[status]
    if status == "archived" and result == "stopped_early":
        length = int(rng.integers(4, 9))
    when = {"backlog": started - timedelta(days=5), "running": started,
            "analysing": min(started + timedelta(days=length), anchor - timedelta(days=1))}
    version = 1
    for step in path:
        experiments.move(db, exp_id, version, step, when=_stamp(when[step]), actor="demo")
        version += 1
    if order.index(status) >= order.index("running") and i != NUDGE_INDEX:
        rows = _results(milestone, lift, result, title in SMALL_AUDIENCE, rng, title)
        experiments.record_results(db, exp_id, rows, source="upload", actor="demo")
    if status in ("decided", "archived"):
        decided_on = when["analysing"] + timedelta(days=3)
        experiments.decide(
            db, exp_id, version, result=result, decision=decision, conclusion=conclusion,
            learning_title=_learning_title(title, result),
            learning_body=_learning_body(change, who, outcome, result, decision, conclusion),
            learning_status={"won": "supported", "lost": "supported"}.get(result, "emerging"),
            relation="supports",  # the learning is what the experiment showed, loss or not
            observed_acquisition=acquisition if result == "won" else "neutral",
            observed_retention=retention if result == "won" else (
                "negative" if result == "lost" else "neutral"),
            reason=conclusion if result in experiments.AGAINST_RESULT.get(decision, ()) else "",
            when=_stamp(decided_on), actor="demo")
        version += 2
        db.execute("UPDATE learnings SET created_at = ?, updated_at = ?, author = ? "
                   "WHERE id = (SELECT max(id) FROM learnings)",
                   [_stamp(decided_on), _stamp(decided_on), story.PEOPLE[i % 6]])
        if status == "archived":
            experiments.move(db, exp_id, version, "archived",
                             when=_stamp(decided_on + timedelta(days=2)), actor="demo")


def _results(milestone: str, lift: float, result: str | None, small: bool, rng,
             title: str) -> list[MetricRow]:
    """Expected figures for each arm; where the idea did nothing (lift 0), the treatment arm
    is a sample around the control's, so the two differ as two real arms would. Its numbers
    come from the title, leaving every other experiment's figures as they were."""
    p = TARGET_BASELINE[milestone]
    n_control = int(rng.integers(6, 20)) * 1000
    n_treatment = n_control + int(rng.integers(-60, 60))
    if result == "invalid":  # the SRM case: routing sent 9% more teams to treatment
        n_control, n_treatment = 10_000, 10_900
    if small:
        n_control, n_treatment = 1_500, 1_520
    noise = np.random.default_rng(int.from_bytes(hashlib.sha256(title.encode()).digest()[:8],
                                                 "little")) if lift == 0 else None
    rows = []
    for variant, n, effect in (("control", n_control, 0.0), ("treatment", n_treatment, lift)):
        conversions = round(n * p * (1 + effect))
        if noise is not None and variant == "treatment":
            conversions = int(noise.binomial(n, p))
        rows.append(MetricRow(milestone, variant, n, conversions))
    mean, sd = 14.0, 18.0
    for variant, n, effect in (("control", n_control, 0.0), ("treatment", n_treatment,
                                                              lift / 4)):
        m = mean * (1 + effect)
        if noise is not None and variant == "treatment":
            m += float(noise.normal(0, sd / np.sqrt(n)))
        rows.append(MetricRow("searches_per_user", variant, n, sum=n * m,
                              sum_squares=(n - 1) * sd**2 + n * m**2))
    return rows


def _learning_title(title: str, result: str) -> str:
    verdict = {"won": "worked", "lost": "backfired", "inconclusive": "showed no clear effect",
               "invalid": "needs a rerun (invalid data)",
               "stopped_early": "was stopped early"}[result]
    return f"{title} {verdict}"


def _learning_body(change, who, outcome, result, decision, conclusion) -> str:
    meaning = {
        "won": "The effect held for the whole test period. It tells us what worked for this "
               "audience in this period; it does not promise the same lift elsewhere.",
        "lost": "The change made things worse for this audience. Before trying a variant of it, "
                "read why it likely failed.",
        "inconclusive": "We could not tell the effect apart from zero with the traffic we had. "
                        "That is not proof of no effect: a smaller effect may exist.",
        "invalid": "The numbers cannot be trusted, so nothing about the idea itself was learned "
                   "yet.",
        "stopped_early": "Too little data to say anything about the idea; the note says why "
                         "it stopped.",
    }[result]
    return (f"**What we tried.** {change[0].upper()}{change[1:]}, for {who}, hoping they would "
            f"{outcome}.\n\n**What happened.** {conclusion}\n\n**What it means.** {meaning}\n\n"
            f"**Decision.** {decision.capitalize()}.")


def _general_learnings(db, anchor: date, rng) -> None:
    for i, (title, body, tags, status) in enumerate(story.GENERAL_LEARNINGS):
        created = anchor - timedelta(days=int(70 - i * 6))
        learnings.create(db, title=title, body=body, tags=tags, status=status,
                         author=story.PEOPLE[(i + 2) % len(story.PEOPLE)],
                         created_at=_stamp(created))



def _research(db, anchor: date) -> None:
    """Twelve coded interviews; the team adopted the top job and aims export experiments at
    it, and a learning cites the struggle theme behind the success gap."""
    for i, (who, segment, days, context, quotes, uncoded) in enumerate(story.INTERVIEWS):
        notes = "\n\n".join([context, *(f"> {quote}" for _, quote, _, _ in quotes),
                              *([f"> {uncoded}"] if uncoded else [])])
        interview = research.add_interview(db, participant=who, segment=segment,
                                           day=anchor - timedelta(days=days), notes=notes,
                                           actor=story.PEOPLE[i % len(story.PEOPLE)])
        for theme, quote, milestone, lens in quotes:
            kind, name = story.THEMES[theme]
            research.code_passage(db, interview, text=quote, kind=kind, theme=name,
                                  milestone=milestone, lens=lens, actor="demo")
    top = research.jobs(research.coded(db))[0]
    job = research.keep_job(db, top, adopted=True, actor="demo")
    for key in ("EXP-004", "EXP-005", "EXP-006"):
        experiment = db.execute("SELECT id FROM experiments WHERE key = ?", [key]).fetchone()[0]
        research.cite(db, job_id=job, experiment_id=experiment, actor="demo")
    stall = db.execute("SELECT id FROM learnings WHERE title = ?",
                       [story.GENERAL_LEARNINGS[0][0]]).fetchone()[0]
    research.cite(db, theme_id=research.theme_ids(db)[story.THEMES["gap"]], learning_id=stall,
                  actor="demo")


def _surveys(db, anchor: date, rng) -> None:
    """The PMF surveys: answer counts as in the story, benefits and scores drawn per group."""
    for name, weeks, segments in story.SURVEYS:
        answers = []
        for segment, counts in segments.items():
            for answer, count in zip(survey.PMF_ANSWERS, counts, strict=True):
                answers += [(segment, answer)] * count
        responses = []
        for n, (segment, answer) in enumerate(answers):
            benefits, weights = zip(*story.BENEFITS[answer], strict=True)
            (nps_low, nps_high), (ces_low, ces_high) = story.SCORES[answer]
            responses.append(survey.Response(
                f"R{weeks:02d}-{n + 1:04d}", answer, segment,
                int(rng.integers(ces_low, ces_high + 1)), int(rng.integers(nps_low, nps_high + 1)),
                str(rng.choice(benefits, p=np.array(weights) / sum(weights)))))
        survey.import_survey(db, name=name, taken_on=anchor - timedelta(weeks=weeks),
                             responses=responses, actor="demo")
