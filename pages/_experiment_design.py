"""The Experiment page's design tab: hypothesis, tags, metrics, priority and power."""

import json

import streamlit as st

from growthlab import experiments
from growthlab.errors import GrowthLabError
from growthlab.stats import detectable_effect, plan
from pages._shared import actor, changed, opened_version, report, save_row, writer


def design_tab(db, exp: dict, rows: list, names: dict[str, str], alpha: float) -> None:
    selected = exp["id"]
    st.markdown(f"**Hypothesis.** {exp['hypothesis'] or '*not written yet*'}")
    missing = experiments.check_hypothesis(exp["hypothesis"])
    if missing:
        st.caption(f"Template: {experiments.HYPOTHESIS_HINT} Missing: {', '.join(missing)}.")
    st.markdown(f"**Primary metric:** {names.get(exp['primary_metric'], exp['primary_metric'])}"
                f" · **guardrails:** {', '.join(json.loads(exp['guardrail_metrics'])) or 'none'}")
    st.dataframe([{"variant": v["key"], "planned share": v["weight"]}
                  for v in experiments.variants(db, selected)], hide_index=True,
                 column_config={"planned share": st.column_config.NumberColumn(format="percent")})
    with st.expander("Edit design and tags"):
        edit_design(db, exp, rows, names)
    st.markdown("#### Priority")
    prioritise(db, exp)
    st.markdown("#### Power and duration")
    c = st.columns(5)
    baseline = c[0].number_input("Baseline rate", 0.001, 0.999, 0.30, format="%.3f")
    mde = c[1].number_input("Minimum detectable lift (relative)", 0.005, 5.0, 0.05,
                            format="%.3f")
    power = c[2].number_input("Power", 0.5, 0.99, 0.8)
    daily = c[3].number_input("Users per day in the experiment", 1, 10_000_000, 2000)
    n_variants = c[4].number_input("Variants", 2, 10, max(2, len(experiments.variants(
        db, selected))))
    try:
        p = plan(baseline, mde, relative=True, alpha=alpha, power=power,
                 variants=int(n_variants), daily_users=daily)
        st.success(f"**{p.users_per_variant:,} users per variant** ({p.total_users:,} in total) "
                   f"to detect {p.baseline:.1%} → {p.target:.1%}: about **{p.days:.0f} days** "
                   f"at {daily:,} users a day.", icon=":material/timer:")
        for weeks in (1, 2, 4):
            n = int(daily * 7 * weeks / n_variants)
            if n >= 2:
                effect = detectable_effect(baseline, n, alpha=alpha, power=power,
                                           variants=int(n_variants), relative=True)
                st.caption(f"Run {weeks} week(s): detects a lift of {effect:.1%} or more.")
    except GrowthLabError as exc:
        st.error(str(exc))


def edit_design(db, exp: dict, rows: list, names: dict[str, str]) -> None:
    """Hypothesis, metrics, tags and the key result, saved against the version read."""
    selected = exp["id"]
    lookups = {t: {r["name"]: r["id"] for r in db.query(f"SELECT id, name FROM {t} ORDER BY name")}
               for t in ("squads", "loops", "product_areas")}
    krs = {r["statement"]: r["id"] for r in db.query("SELECT id, statement FROM key_results")}
    known_metrics = list(dict.fromkeys([*names, *(r.metric for r in rows)]))
    guardrails = json.loads(exp["guardrail_metrics"])

    def pick(label, options, current, **kw):
        options = ["(none)", *options]
        return st.selectbox(label, options, index=options.index(current)
                            if current in options else 0, **kw)

    with st.form("edit-design"):
        title = st.text_input("Title", exp["title"])
        hypothesis = st.text_area("Hypothesis", exp["hypothesis"], help=experiments.HYPOTHESIS_HINT)
        c = st.columns(2)
        with c[0]:
            primary = pick("Primary metric", known_metrics, exp["primary_metric"],
                           format_func=lambda k: names.get(k, k))
        chosen_guardrails = c[1].multiselect("Guardrail metrics", list(dict.fromkeys(
            known_metrics + guardrails)), default=guardrails)
        c = st.columns(4)
        with c[0]:
            milestone = pick("Funnel stage", list(names), exp["milestone_key"],
                             format_func=lambda k: names.get(k, k))
        with c[1]:
            loop = pick("Loop", list(lookups["loops"]), exp["loop"])
        with c[2]:
            area = pick("Product area", list(lookups["product_areas"]), exp["product_area"])
        with c[3]:
            squad = pick("Squad", list(lookups["squads"]), exp["squad"])
        c = st.columns(2)
        acquisition = c[0].selectbox("Expected effect on acquisition", experiments.EFFECTS,
                                     index=experiments.EFFECTS.index(exp["expected_acquisition"]))
        retention = c[1].selectbox("Expected effect on retention", experiments.EFFECTS,
                                   index=experiments.EFFECTS.index(exp["expected_retention"]))
        kr = pick("Key result it pushes", list(krs), exp["key_result"])
        version = opened_version("experiment", exp)
        if st.form_submit_button("Save design", type="primary"):
            save_row("experiment", selected, lambda: experiments.update(db, selected, version, {
                "title": title.strip() or exp["title"], "hypothesis": hypothesis.strip(),
                "primary_metric": None if primary == "(none)" else primary,
                "guardrail_metrics": json.dumps(chosen_guardrails),
                "milestone_key": None if milestone == "(none)" else milestone,
                "loop_id": lookups["loops"].get(loop),
                "product_area_id": lookups["product_areas"].get(area),
                "squad_id": lookups["squads"].get(squad), "key_result_id": krs.get(kr),
                "expected_acquisition": acquisition, "expected_retention": retention},
                actor=writer()), "Design saved")


def prioritise(db, exp: dict) -> None:
    selected = exp["id"]
    scores = list(db.query("SELECT scorer, impact, confidence, ease FROM ice_scores "
                           "WHERE experiment_id = ? ORDER BY scorer", [selected]))
    score = experiments.ice(scores)
    c = st.columns(3)
    c[0].metric("ICE", "–" if score is None else f"{score.score:.0f} / 100",
                help="Mean over scorers of impact × confidence × ease / 10.")
    c[1].metric("Scorers disagree by", "–" if score is None else f"± {score.spread:.0f}")
    rice = experiments.rice(exp["rice_reach"], exp["rice_impact"], exp["rice_confidence"],
                            exp["rice_effort"])
    c[2].metric("RICE", "–" if rice is None else f"{rice:,.0f}",
                help="Reach × impact × confidence / effort.")
    if scores:
        st.dataframe(scores, hide_index=True)
    left, right = st.columns(2)
    with left.form("ice"):
        st.markdown("**Your ICE score** (1-10 each)")
        scorer = st.text_input("Scorer", value=actor())
        c = st.columns(3)
        impact = c[0].number_input("Impact", 1, 10, 5)
        confidence = c[1].number_input("Confidence", 1, 10, 5)
        ease = c[2].number_input("Ease", 1, 10, 5)
        if st.form_submit_button("Save score"):
            try:
                writer()
                experiments.set_ice(db, selected, scorer, impact, confidence, ease)
                changed("Score saved")
                st.rerun()
            except Exception as exc:  # noqa: BLE001
                report(exc)
    with right.form("rice"):
        st.markdown("**RICE** (optional)")
        c = st.columns(4)
        reach = c[0].number_input("Reach / quarter", 0.0, value=float(exp["rice_reach"] or 0))
        r_impact = c[1].selectbox("Impact", [0.25, 0.5, 1.0, 2.0, 3.0], index=2)
        r_confidence = c[2].selectbox("Confidence", [0.5, 0.8, 1.0], index=1)
        effort = c[3].number_input("Effort (person-weeks)", 0.5, value=float(
            exp["rice_effort"] or 1))
        version = opened_version("experiment", exp)
        if st.form_submit_button("Save RICE"):
            save_row("experiment", selected, lambda: experiments.update(db, selected, version, {
                "rice_reach": reach, "rice_impact": r_impact, "rice_confidence": r_confidence,
                "rice_effort": effort}, actor=writer()), "RICE saved")
