"""One experiment: its results and verdict, its design and power plan, its decision."""


import streamlit as st

from growthlab import charts, experiments, io
from growthlab.errors import GrowthLabError
from growthlab.report import SEQUENTIAL_P_VALUE, describe, results_table, tone
from growthlab.stats import Options, analyze
from growthlab.stats.analysis import drop_constant_metrics, sample_ratio
from pages._experiment_design import design_tab as design_tab_body
from pages._shared import (
    computed_caption,
    data_file,
    milestone_names,
    milestones,
    opened,
    require_app,
    save_row,
    show_refusal,
    workspace,
    writer,
)

require_app(__file__)
db = workspace()
names = milestone_names(db)
choices = {r["id"]: f"{r['key']} {r['title']} ({r['status']})"
           for r in db.query("SELECT id, key, title, status FROM experiments ORDER BY id DESC")}
if not choices:
    st.title("Experiment")
    st.info("No experiments yet. Log an idea on the Experiments page, then come back to plan "
            "it, analyse it and decide it.", icon=":material/science:")
    st.page_link("pages/experiments.py", label="Go to Experiments", icon=":material/add:")
    st.stop()

requested = st.query_params.get("id")
if requested and requested.isdigit() and int(requested) in choices:
    current = int(requested)
else:  # the most recently started experiment that has results, else the newest
    latest = db.execute("SELECT e.id FROM experiments e WHERE e.status IN ('running', "
                        "'analysing') AND EXISTS (SELECT 1 FROM metric_results m WHERE "
                        "m.experiment_id = e.id) ORDER BY e.started_at DESC LIMIT 1").fetchone()
    current = latest[0] if latest else next(iter(choices))
selected = st.selectbox("Experiment", list(choices), index=list(choices).index(current),
                        format_func=choices.get)
st.query_params["id"] = str(selected)
exp = experiments.get(db, selected)

st.title(f"{exp['key']} {exp['title']}")
show_refusal()
tags = [f"**{exp['status']}**", names.get(exp["milestone_key"], exp["milestone_key"]),
        exp["loop"], exp["product_area"], exp["squad"],
        f"acquisition: {exp['expected_acquisition']}", f"retention: {exp['expected_retention']}"]
st.markdown(" · ".join(t for t in tags if t))
if exp["key_result"]:
    st.caption(f"Pushes on key result: {exp['key_result']}")
if exp["result"]:
    st.success(f"Result: **{exp['result']}** · decision: **{exp['decision']}** · "
               f"{exp['conclusion']}", icon=":material/gavel:")

seen_results = opened("results", selected, {
    "id": selected, "version": experiments.results_version(db, selected)})


def save_results(rows, source: str, message: str) -> None:
    """Replace the stored results, unless someone replaced them since this page opened."""
    save_row("results", selected, lambda: experiments.record_results(
        db, selected, rows() if callable(rows) else rows, version=seen_results["version"],
        source=source, actor=writer()), message)


def import_results(data: bytes, name: str, source: str) -> None:
    """Validate a results table (file or typed) and replace the stored results with it."""
    save_results(lambda: io.parse_results_csv(data, name), source, f"Saved results from {name}")


results_tab, design_tab, decide_tab = st.tabs(["Results", "Design & power", "Lifecycle & decision"])

with results_tab:
    rows = experiments.results(db, selected)
    c = st.columns([3, 2, 2, 2])
    method = c[0].segmented_control("Method", ["frequentist", "bayesian", "sequential"],
                                    default="frequentist", key="method") or "frequentist"
    difference = c[1].segmented_control("Difference", ["relative", "absolute"],
                                        default="relative", key="difference") or "relative"
    bayesian = method == "bayesian"
    correction = c[2].selectbox("Multiple-testing correction", ["holm", "bh", "none"],
                                format_func={"holm": "Holm", "bh": "Benjamini-Hochberg",
                                             "none": "none"}.get, disabled=bayesian,
                                help="Adjusts p-values; the Bayesian method has none, so it "
                                     "does not apply there.")
    correction = "none" if bayesian else correction
    alpha = c[3].select_slider("Alpha", [0.01, 0.05, 0.1], value=0.05)
    prior_mean, prior_sd, n_star = 0.0, None, 5000.0
    if method == "sequential":
        n_star = st.number_input("Tuning N*: total users where the interval is tightest",
                                 min_value=100.0, value=5000.0, step=1000.0,
                                 help="Set it near the sample size you expect at the end.")
    if method == "bayesian" and st.toggle(
            "Informative prior", help="A normal prior on the effect shrinks noisy estimates "
            "towards what past experiments suggest. Off: a flat prior."):
        c = st.columns(2)
        prior_mean = c[0].number_input("Prior mean effect", value=0.0, format="%.3f")
        prior_sd = c[1].number_input("Prior standard deviation", min_value=0.001, value=0.1,
                                     format="%.3f")
    analysis = srm = None
    if not rows:
        st.info("No results yet. Upload a summary CSV below (one row per metric per variant) "
                "or compute the milestone KPIs from events.", icon=":material/upload_file:")
    else:
        control, weights = experiments.planned_split(db, selected, rows)
        try:
            srm = sample_ratio(rows, weights)
        except GrowthLabError:
            srm = None
        try:
            kept, skipped = drop_constant_metrics(rows)
            analysis = analyze(kept, Options(
                method=method, difference=difference, alpha=alpha, correction=correction,
                control=control, weights=weights, prior_mean=prior_mean, prior_sd=prior_sd,
                n_star=n_star))
        except GrowthLabError as exc:
            st.error(f"These results cannot be analysed: {exc}", icon=":material/error:")
            analysis = None
        if srm is not None and srm.flagged:
            st.error(f"**Sample-ratio mismatch** (p = {srm.p_value:.2g}): users per variant "
                     f"{dict(zip(srm.variants, srm.users, strict=True))} do not match the "
                     f"planned split {[round(w, 2) for w in srm.expected_weights]}. Assignment "
                     "or logging is broken; do not trust these results until it is fixed.",
                     icon=":material/report:")
        elif srm is not None:
            st.caption(f"Sample ratio ok, p = {srm.p_value:.2g}: users per variant match the "
                       "planned split.")
        if analysis:
            show = {"good": st.success, "bad": st.error, "neutral": st.info,
                    "untrusted": st.warning, "failed": st.warning}
            for r in analysis.results:
                show[tone(r, srm)](describe(r, names.get(r["metric"]), alpha, srm))
            relative = difference == "relative"
            fmt = "percent" if relative else "%.4g"
            shown = io.safe_table(results_table(analysis.results, names))
            st.dataframe(shown, hide_index=True, width="stretch", column_config={
                "control": st.column_config.NumberColumn(format="%.4g"),
                "variant mean": st.column_config.NumberColumn(format="%.4g"),
                "lift": st.column_config.NumberColumn(format="percent"),
                "difference": st.column_config.NumberColumn(format="%.4g"),
                "CI low": st.column_config.NumberColumn(format=fmt),
                "CI high": st.column_config.NumberColumn(format=fmt),
                "p-value": st.column_config.NumberColumn(format="%.4f"),
                "adjusted p": st.column_config.NumberColumn(format="%.4f"),
                "chance to win": st.column_config.NumberColumn(format="percent")})
            computed = [r for r in analysis.results if not r["error"]]
            if computed:
                st.plotly_chart(charts.forest(computed, names))
            if skipped:
                st.caption("Not tested (every user has the same value): "
                           + ", ".join(names.get(m, m) for m in skipped))
            st.caption({"frequentist": "Two-sided Welch t-test; lift CIs by the delta method.",
                        "bayesian": "Gaussian posterior on the lift with a flat prior; chance "
                                    "to win is the posterior probability the variant is better.",
                        "sequential": f"Always-valid confidence sequences (N* = {n_star:,.0f}): "
                                      f"safe to look every day. {SEQUENTIAL_P_VALUE}"}[method])

    st.markdown("#### Add results")
    with st.expander("Enter results by hand"):
        st.caption("One row per metric per variant: conversions for a proportion metric, or "
                   "sum and sum_squares for a mean metric.")
        planned = [v["key"] for v in experiments.variants(db, selected)]
        template = [{"metric": r.metric, "variant": r.variant, "users": r.users,
                     "conversions": r.conversions, "sum": r.sum, "sum_squares": r.sum_squares}
                    for r in rows] or [
            {"metric": exp["primary_metric"] or "conversion", "variant": v, "users": None,
             "conversions": None, "sum": None, "sum_squares": None} for v in planned]
        typed = st.data_editor(template, num_rows="dynamic", hide_index=True, width="stretch",
                               key=f"manual-{selected}")
        if st.button("Save these results"):
            text = io.to_csv(typed, ["metric", "variant", "users", "conversions", "sum",
                                     "sum_squares"])
            import_results(text.encode(), "manual entry", "manual")
    upload = st.file_uploader("Summary CSV: metric, variant, users, conversions (or sum, "
                              "sum_squares)", type=["csv"], key=f"upload-{selected}")
    if upload is not None and st.button("Import results", type="primary"):
        import_results(upload.getvalue(), upload.name, "upload")
    events = data_file(db, "events_path")
    assignments = data_file(db, "assignments_path")
    if events and assignments and st.button("Compute milestone KPIs from events",
                                            icon=":material/database:"):
        from growthlab.kpis import experiment_metrics

        def computed_rows():
            with st.status("Counting milestone KPIs per variant from events…") as status:
                funnel_steps = milestones(db)
                computed = experiment_metrics(events, assignments, funnel_steps, exp["key"])
                deepest = funnel_steps[-1].key
                still_open = computed.still_in_window(deepest)
                status.update(label=f"Counted up to {(computed.data_end or '')[:10]}: "
                                    f"{computed.excluded} user(s) in several variants excluded; "
                                    f"{still_open:,} still inside the {deepest} window count "
                                    "as not reached yet in both arms", state="complete")
                computed_caption(events)
            return drop_constant_metrics(computed.rows)[0]

        save_results(computed_rows, "events", "Results computed from events")

with design_tab:
    design_tab_body(db, exp, rows, names, alpha)

with decide_tab:
    base = opened("experiment", selected, exp)
    allowed = experiments.TRANSITIONS[exp["status"]]
    dates = {k: exp[v] for k, v in experiments.STATUS_DATE.items() if exp[v]}
    st.caption("Lifecycle: idea → backlog → running → analysing → decided → archived. "
               + " · ".join(f"{k} {v[:10]}" for k, v in dates.items()))
    for target in allowed:
        if target == "decided":
            continue
        if st.button(f"Move to {target}", key=f"move-{target}"):
            save_row("experiment", selected, lambda t=target: experiments.move(
                db, selected, base["version"], t, actor=writer()),
                f"{exp['key']} moved to {target}")
    if exp["status"] == "analysing":
        st.markdown("#### Decide")
        st.caption("Deciding requires a learning, written for someone who was not there.")
        with st.form("decide"):
            suggested = experiments.suggest_result(
                analysis.results if analysis else [], bool(srm and srm.flagged),
                exp["primary_metric"])
            c = st.columns(2)
            result = c[0].selectbox(
                "Result", experiments.RESULTS, index=experiments.RESULTS.index(suggested)
                if suggested else 2, help="Pre-set from the primary metric's analysis on the "
                "Results tab; change it if you know better.")
            decision = c[1].selectbox("Decision", experiments.DECISIONS)
            conclusion = st.text_area("Conclusion: what the data showed")
            l_title = st.text_input("Learning title")
            l_body = st.text_area("Learning (markdown): what we now believe, and how sure")
            c = st.columns(3)
            l_status = c[0].selectbox("Learning status", ["emerging", "supported", "confirmed",
                                                          "rejected"])
            obs_acq = c[1].selectbox("Observed effect on acquisition", experiments.EFFECTS, 3)
            obs_ret = c[2].selectbox("Observed effect on retention", experiments.EFFECTS, 3)
            if st.form_submit_button("Decide", type="primary"):
                save_row("experiment", selected, lambda: experiments.decide(
                    db, selected, base["version"], result=result, decision=decision,
                    conclusion=conclusion, learning_title=l_title, learning_body=l_body,
                    learning_status=l_status, observed_acquisition=obs_acq,
                    observed_retention=obs_ret, actor=writer()),
                    f"{exp['key']} decided: {result}, {decision}")
    elif exp["status"] not in ("decided", "archived"):
        st.caption("Decide once the experiment is in analysing.")
    linked = list(db.query(
        "SELECT l.id, l.title, l.status, le.relation FROM learning_experiments le "
        "JOIN learnings l ON l.id = le.learning_id WHERE le.experiment_id = ?", [selected]))
    if linked:
        st.markdown("#### Learnings")
        for item in linked:
            st.page_link("pages/learnings.py", label=f"{item['title']} ({item['status']}, "
                         f"{item['relation']})", query_params={"learning": item["id"]})
