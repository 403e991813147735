"""The Experiment page's design tab: hypothesis, tags, metrics, priority and power."""

import json
from datetime import date

import streamlit as st

from growthlab import clock, edits, experiments, plans
from growthlab.errors import GrowthLabError
from growthlab.io import display_table, percents, plural
from growthlab.stats import detectable_effect, plan
from growthlab.stats.power import tuned_to_its_end, what_sets_the_size
from pages._shared import (
    access,
    actor,
    identity,
    opened,
    report,
    save_edit,
    save_row,
    sign_in_configured,
    widget_key,
    workspace_funnel,
    writer,
)

# Exact power takes 0.1-0.3 s a figure, and the planner shows four: computed once per input,
# not on every rerun of the page.
cached_plan = st.cache_data(show_spinner=False, max_entries=256)(plan)
cached_effect = st.cache_data(show_spinner=False, max_entries=256)(detectable_effect)
cached_tuning = st.cache_data(show_spinner=False, max_entries=64)(tuned_to_its_end)

def design_tab(db, exp: dict, rows: list, names: dict[str, str], alpha: float,
               correction: str = "none", metrics: int = 1, method: str = "frequentist",
               n_star: float = 5000.0) -> None:
    """`correction`, `metrics`, `method` and `n_star`: what the Results tab corrects over and
    the test it runs, for the planner."""
    selected = exp["id"]
    st.markdown(f"**Hypothesis.** {exp['hypothesis'] or '*not written yet*'}")
    missing = experiments.check_hypothesis(exp["hypothesis"])
    if missing:
        st.caption(f"Template: {experiments.HYPOTHESIS_HINT} Missing: {', '.join(missing)}.")
    primary = names.get(exp["primary_metric"], exp["primary_metric"]) or "none chosen yet"
    guardrails = [names.get(m, m) for m in experiments.guardrails(exp)]
    lower = [names.get(m, m) for m in experiments.lower_is_better(exp)]
    st.markdown(f"**Primary metric:** {primary} · **guardrails:** "
                f"{', '.join(guardrails) or 'none'}"
                + (f" · **lower is better:** {', '.join(lower)}" if lower else ""))
    st.dataframe(display_table({"variant": v["key"], "planned share": v["weight"]}
                               for v in experiments.variants(db, selected)),
                 hide_index=True,
                 column_config={"planned share": st.column_config.NumberColumn(format="percent")})
    with st.expander("Edit design and tags"):
        edit_design(db, exp, rows, names)
    st.markdown("#### Priority")
    prioritise(db, exp)
    st.markdown("#### Power and duration")
    power_plan(db, exp, rows, alpha, correction, metrics, method, n_star)


def plan_start(db, exp: dict, rows: list):
    """The planner's baseline and daily users: the experiment's results, else the events
    (scanned only when the results do not say)."""
    metric, control = exp["primary_metric"], experiments.design_control(db, exp["id"])
    started, until = exp["started_at"], clock.today()
    if exp["ended_at"]:
        until = date.fromisoformat(exp["ended_at"][:10])
    baseline = plans.baseline(rows, metric, control, None)
    traffic = plans.daily_traffic(rows, metric, started, until, None)
    if baseline is None or traffic is None:
        try:
            events = workspace_funnel(db)
        except GrowthLabError as exc:  # such as a file overwritten on disk since its upload
            report(exc)
            events = None
        baseline = baseline or plans.baseline([], metric, None, events)
        traffic = traffic or plans.daily_traffic([], metric, None, until, events)
    return baseline, traffic


def power_plan(db, exp: dict, rows: list, alpha: float, correction: str, metrics: int,
               method: str, n_star: float) -> None:
    selected = exp["id"]
    difference = st.session_state.get("difference") or "relative"
    relative = difference == "relative"
    baseline_start, traffic = plan_start(db, exp, rows)
    sd = baseline_start.sd if baseline_start else None
    start_daily = round(traffic.value) if traffic else 1000
    c = st.columns(6 if sd else 5)
    if sd:
        start_mean, start_sd = round(baseline_start.value, 4), round(sd, 4)
        baseline = c[0].number_input("Baseline mean", 0.0001, None, start_mean, format="%.4f",
                                     key=f"plan-mean-{selected}-{start_mean}")
        sd = c[5].number_input("Standard deviation", 0.0001, None, start_sd, format="%.4f",
                               key=f"plan-sd-{selected}-{start_sd}")
    else:
        start_rate = round(baseline_start.value, 4) if baseline_start else 0.1
        baseline = c[0].number_input("Baseline rate", 0.0001, 0.9999, start_rate,
                                     format="%.4f", key=f"plan-baseline-{selected}-{start_rate}")
    mde = c[1].number_input("Minimum detectable lift (relative)", 0.005, 5.0, 0.05,
                            format="%.3f", key=f"plan-mde-{selected}")
    power = c[2].number_input("Power", 0.5, 0.99, 0.8, key=f"plan-power-{selected}")
    daily = c[3].number_input("Users per day in the experiment", 1, 10_000_000, start_daily,
                              key=f"plan-daily-{selected}-{start_daily}")
    split = plans.planned_shares(experiments.variants(db, selected))
    if split:
        c[4].caption("Split, from the design: " + ", ".join(
            f"{name} {share}" for name, share in zip(split[0], percents(split[1]),
                                                     strict=True)))
        n_variants = len(split[0])
    else:
        n_variants = c[4].number_input("Variants", 2, 10, max(2, len(experiments.variants(
            db, selected))), key=f"plan-variants-{selected}")
    st.caption(f"Baseline: {baseline_start.source}." if baseline_start else
               f"No rate to plan from for {exp['primary_metric'] or 'the primary metric'} (not "
               "measured yet, or everyone or no one reaches it): type the baseline.")
    st.caption(f"Users per day: {traffic.source}." if traffic else
               "No traffic known yet: type how many users a day the experiment will get.")
    test = "relative lift" if relative else "absolute difference"
    if method == "sequential":
        test += f" (sequential, N* = {n_star:,.0f}, read at the planned end)"
    planned_method = "sequential" if method == "sequential" else "frequentist"
    shares = split[1] if split else None
    alpha, corrected = plans.planning_alpha(alpha, correction, metrics)
    try:
        p = cached_plan(baseline, mde if relative else baseline * mde, relative=relative,
                        alpha=alpha, power=power, variants=int(n_variants), daily_users=daily,
                        shares=shares, method=planned_method, n_star=n_star, sd=sd)
        sized = (f"**{p.users_per_variant:,} users per variant** ({p.total_users:,} in total)"
                 if not split else f"**{p.total_users:,} users in total**: " + ", ".join(
                     f"{name} {n:,} ({share})" for name, n, share in zip(
                         split[0], p.users_per_arm, percents(shares), strict=True)))
        sizing = what_sets_the_size(p, split[0], shares) if split else None
        st.success("{} to detect {} → {} ".format(sized, *p.change())
                   + f"with the test on the {test} that the Results tab runs{corrected}: "
                   f"**{plans.duration(p.days)}** at {daily:,} users a day."
                   + (f" {sizing[0].upper()}{sizing[1:]}." if sizing else ""),
                   icon=":material/timer:")
        tuned = cached_tuning(baseline, mde if relative else baseline * mde, relative=relative,
                              alpha=alpha, power=power, variants=int(n_variants),
                              daily_users=daily, shares=shares, method=planned_method,
                              n_star=n_star, sd=sd)
        if tuned:
            st.caption("The sequential test is tightest near N* users: set the Results tab's "
                       f"Tuning N* to {tuned.n_star:,.0f} before the test starts and it needs "
                       f"{tuned.total_users:,} users in total, "
                       f"{plans.duration(tuned.days)} at {daily:,} users a day.")
        for weeks in (1, 2, 4):
            users = daily * 7 * weeks
            n = int(users if split else users / n_variants)
            arm = plans.smallest_arm(users, shares, int(n_variants))
            if sd is None and plans.too_few_to_estimate(baseline, arm):
                st.caption(f"Run {plural(weeks, 'week')}: the smallest arm gets about "
                           f"{arm:,.0f} users ({plans.scarce(baseline, arm)}): too few to say "
                           "what it would detect; run longer.")
                continue
            effect = cached_effect(baseline, n, alpha=alpha, power=power,
                                       variants=int(n_variants), relative=relative,
                                       shares=shares, method=planned_method, n_star=n_star,
                                       sd=sd)
            lift = effect if relative else effect / baseline
            st.caption(f"Run {plural(weeks, 'week')}: detects a lift of {lift:.1%} or more.")
    except GrowthLabError as exc:
        st.error(str(exc))
        return
    if exp["planned_users"]:
        st.caption(f"Plan: {plural(exp['planned_users'], 'user')}"
                   + (f" over {plural(exp['planned_days'], 'day')}" if exp["planned_days"]
                      else "")
                   + ". Deciding before it is reached asks why.")
    if st.button("Save as this experiment's plan", key=f"plan-save-{selected}",
                 icon=":material/flag:"):
        version = opened("experiment", selected, exp)["version"]
        save_row("experiment", selected, lambda: plans.save(
            db, selected, version, p.total_users, p.days, actor=writer()),
            f"Plan saved: {p.total_users:,} users over {p.days:.0f} days")


def edit_design(db, exp: dict, rows: list, names: dict[str, str]) -> None:
    """Hypothesis, metrics, tags and the key result; sends only what the person changed."""
    base = opened("experiment", exp["id"], exp)
    lookups = {t: {r["id"]: r["name"] for r in db.query(f"SELECT id, name FROM {t} ORDER BY name")}
               for t in ("squads", "loops", "product_areas")}
    krs = {r["id"]: r["statement"] for r in db.query("SELECT id, statement FROM key_results")}
    krs = {k: f"{s} (key result {k})" if list(krs.values()).count(s) > 1 else s
           for k, s in krs.items()}
    metrics = {m: names.get(m, m) for m in [*names, *(r.metric for r in rows)]}
    guardrails = experiments.guardrails(base)
    lower = experiments.lower_is_better(base)

    def pick(label, labels: dict, name, noun):
        options = [None, *edits.with_stored(list(labels), base[name])]
        return st.selectbox(label, options, index=options.index(base[name]),
                            key=widget_key(f"d-{name}", base), format_func=lambda v: "(none)"
                            if v is None else labels.get(v, f"{v} (not a current {noun})"))

    with st.form("edit-design"):
        c = st.columns([1, 3])
        key = c[0].text_input("Key", base["key"], key=widget_key("d-key", base),
                              help="How results and assignments files name this experiment "
                              "(their experiment column), e.g. onboarding_v2.")
        title = c[1].text_input("Title", base["title"], key=widget_key("d-title", base))
        hypothesis = st.text_area("Hypothesis", base["hypothesis"],
                                  help=experiments.HYPOTHESIS_HINT,
                                  key=widget_key("d-hypothesis", base))
        c = st.columns(2)
        with c[0]:
            primary = pick("Primary metric", metrics, "primary_metric", "metric")
        chosen_guardrails = c[1].multiselect("Guardrail metrics", list(dict.fromkeys(
            [*metrics, *guardrails])), default=guardrails, key=widget_key("d-guard", base))
        chosen_lower = st.multiselect(
            "Lower is better", list(dict.fromkeys([*metrics, *lower])), default=lower,
            format_func=lambda m: metrics.get(m, m), key=widget_key("d-lower", base),
            help="Metrics where a drop is good news, such as errors, churn, refunds or time to "
            "value. A significant drop of them reads green and says \"(lower is better)\", a "
            "chance to beat the control is the chance of a drop, and a drop of the primary "
            "metric pre-sets the result to won; a guardrail among them is harmed when it "
            "rises.")
        c = st.columns(4)
        with c[0]:
            milestone = pick("Funnel stage", names, "milestone_key", "milestone")
        with c[1]:
            loop = pick("Loop", lookups["loops"], "loop_id", "loop")
        with c[2]:
            area = pick("Product area", lookups["product_areas"], "product_area_id", "area")
        with c[3]:
            squad = pick("Squad", lookups["squads"], "squad_id", "squad")
        c = st.columns(2)
        acquisition = c[0].selectbox("Expected effect on acquisition", experiments.EFFECTS,
                                     index=experiments.EFFECTS.index(base["expected_acquisition"]),
                                     key=widget_key("d-acq", base))
        retention = c[1].selectbox("Expected effect on retention", experiments.EFFECTS,
                                   index=experiments.EFFECTS.index(base["expected_retention"]),
                                   key=widget_key("d-ret", base))
        kr = pick("Key result it pushes", krs, "key_result_id", "key result")
        if st.form_submit_button("Save design", type="primary"):
            save_edit("experiment", base, lambda: {
                "key": key, "title": title.strip() or base["title"], "hypothesis": hypothesis,
                "primary_metric": primary, "guardrail_metrics": json.dumps(chosen_guardrails),
                "lower_is_better": json.dumps(chosen_lower),
                "milestone_key": milestone, "loop_id": loop, "product_area_id": area,
                "squad_id": squad, "key_result_id": kr,
                "expected_acquisition": acquisition, "expected_retention": retention},
                lambda changes: experiments.update(db, base["id"], base["version"], changes,
                                                   actor=writer()), "Design saved")


def prioritise(db, exp: dict) -> None:
    selected = exp["id"]
    scores = experiments.ice_scores(db, selected)
    score = experiments.ice(scores)
    c = st.columns(3)
    c[0].metric("ICE", "–" if score is None else f"{score.score:.0f} / 100",
                help="Mean over scorers of impact × confidence × ease / 10.")
    c[1].metric("Scorers disagree by", "–" if score is None or score.spread is None else
                f"± {score.spread:.0f}", help=experiments.ICE_SPREAD_HELP)
    rice = experiments.rice(exp["rice_reach"], exp["rice_impact"], exp["rice_confidence"],
                            exp["rice_effort"])
    c[2].metric("RICE", "–" if rice is None else f"{rice:,.0f}",
                help="Reach × impact × confidence / effort.")
    if scores:
        st.dataframe(display_table(scores, ["scorer", "impact", "confidence", "ease"]),
                     hide_index=True)
    seen = opened("ice", selected, {"id": selected,
                                    "versions": {s["scorer"]: s["version"] for s in scores}})
    left, right = st.columns(2)
    with left.form("ice"):
        st.markdown("**Your ICE score** (1-10 each)")
        scorer = st.text_input("Scorer", value=actor(), disabled=sign_in_configured(),
                               help="With sign-in you score as yourself.")
        c = st.columns(3)
        impact = c[0].number_input("Impact", 1, 10, 5)
        confidence = c[1].number_input("Confidence", 1, 10, 5)
        ease = c[2].number_input("Ease", 1, 10, 5)
        if st.form_submit_button("Save score"):
            def save_score():
                who = access().scorer(identity(), scorer)
                experiments.set_ice(db, selected, who, impact, confidence, ease,
                                    version=seen["versions"].get(who), actor=writer())
            save_row("ice", selected, save_score, "Score saved")
    base = opened("experiment", selected, exp)
    with right.form("rice"):
        st.markdown("**RICE** (optional)")
        c = st.columns(4)
        reach = c[0].number_input("Reach / quarter", 0.0, value=float(base["rice_reach"] or 0),
                                  key=widget_key("r-reach", base))
        impacts = experiments.rice_options(experiments.RICE_IMPACTS, base["rice_impact"])
        r_impact = c[1].selectbox("Impact", impacts, key=widget_key("r-impact", base),
                                  index=impacts.index(base["rice_impact"] or 1.0))
        confidences = experiments.rice_options(experiments.RICE_CONFIDENCES,
                                               base["rice_confidence"])
        r_confidence = c[2].selectbox("Confidence", confidences,
                                      key=widget_key("r-confidence", base),
                                      index=confidences.index(base["rice_confidence"] or 0.8))
        effort = c[3].number_input("Effort (person-weeks)", 0.5, value=float(
            base["rice_effort"] or 1), key=widget_key("r-effort", base))
        if st.form_submit_button("Save RICE"):
            save_edit("experiment", base, lambda: {
                "rice_reach": reach, "rice_impact": r_impact, "rice_confidence": r_confidence,
                "rice_effort": effort},
                lambda changes: experiments.update(db, selected, base["version"], changes,
                                                   actor=writer()), "RICE saved")
