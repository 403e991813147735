"""One experiment: its results and verdict, its design and power plan, its decision."""


from datetime import date

import streamlit as st

from growthlab import charts, clock, experiments, io, plans
from growthlab.db import open_workspace, workspace_path
from growthlab.errors import GrowthLabError, InputError
from growthlab.report import (
    CORRECTIONS,
    PAGE_SIZE,
    SENTENCE_LIMIT,
    caveats,
    describe,
    method_note,
    page_of,
    pages,
    results_table,
    summarise,
    tone,
    uncertain_bases,
)
from growthlab.stats import Options
from growthlab.stats.analysis import drop_constant_metrics as drop_constant_rows
from growthlab.stats.analysis import sample_ratio as assigned_ratio
from growthlab.stats.srm import p_text
from growthlab.stats.table import (
    ResultColumns,
    analyze_columns,
    drop_constant_metrics,
    sample_ratio,
)
from pages._experiment_design import design_tab as design_tab_body
from pages._shared import (
    data_file,
    dedupe_events,
    milestone_names,
    milestones,
    opened,
    require_app,
    save_row,
    show_refusal,
    workspace,
    writer,
)

HAND_ROWS = 200  # beyond this, results are uploaded, not typed

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
lower = set(experiments.lower_is_better(exp))

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


def correct_dates(base: dict) -> None:
    """The days it really ran: 'Move to running' is often clicked after assignment began."""
    with st.popover("Correct the dates", icon=":material/edit_calendar:"):
        st.caption("The planner's users per day, the progress against the plan and the "
                   "programme review count from these days.")
        stamped = [date.fromisoformat(base[k][:10]) for k in ("started_at", "ended_at")
                   if base[k]]
        # Stamps are UTC days: west of UTC in the evening one is already tomorrow's date.
        latest = max(clock.today(), *stamped)
        started = st.date_input("Started on", stamped[0], max_value=latest,
                                key=f"started-{selected}")
        ended = st.date_input("Ended on", stamped[1], max_value=latest,
                              key=f"ended-{selected}") if base["ended_at"] else None
        if st.button("Save dates", key=f"save-dates-{selected}"):
            save_row("experiment", selected, lambda: experiments.set_dates(
                db, selected, base["version"], started=started, ended=ended, actor=writer()),
                f"{exp['key']}: dates saved")


def save_results(rows, source: str, message: str) -> None:
    """Replace the stored results, unless someone replaced them since this page opened.
    `rows` is a list of MetricRow, or a function giving them (and how they were computed)."""
    def save():
        saved, notes = rows() if callable(rows) else (rows, None)
        experiments.record_results(db, selected, saved, version=seen_results["version"],
                                   source=source, actor=writer(), notes=notes)
        missing = experiments.missing_control(db, selected,
                                              list(dict.fromkeys(r.variant for r in saved)))
        if missing:
            st.toast(missing, icon=":material/warning:")

    save_row("results", selected, save, message)


def replace_ok(source: str, action: str) -> bool:
    """Whether results from `source` may be saved by `action`: when they would replace
    results that came another way (which are not kept), only once the person says so."""
    said = experiments.replacing(db, selected, source, action)
    if said is None:
        return True
    st.warning(said[0].upper() + said[1:] + ".", icon=":material/warning:")
    return st.checkbox("Replace them", key=f"replace-{source}-{selected}")


def import_results(data: bytes, name: str, source: str) -> None:
    """Validate a results table (file or typed) and replace the stored results with it."""
    save_results(lambda: (io.parse_results_csv(data, name), None), source,
                 f"Saved results from {name}")


@st.cache_resource(show_spinner="Reading results…", max_entries=4)
def stored_results(workspace: tuple, experiment_id: int, version: int) -> ResultColumns:
    """The experiment's results as columns, read once per results version of a workspace
    file (path and inode: a restore swaps the file). A resource, not data: a million rows are
    shared read-only instead of copied on every rerun."""
    return experiments.result_columns(open_workspace(workspace[0]), experiment_id)


@st.cache_resource(show_spinner="Analysing…", max_entries=8)
def analysed(workspace: tuple, experiment_id: int, version: int, options: Options):
    kept, skipped = drop_constant_metrics(stored_results(workspace, experiment_id, version))
    return (analyze_columns(kept, options) if len(kept) else None), skipped


def not_tested(skipped: list[str]) -> str:
    return ("Not tested (every user has the same value): "
            + ", ".join(names.get(m, m) for m in skipped[:SENTENCE_LIMIT])
            + (f" and {len(skipped) - SENTENCE_LIMIT:,} more"
               if len(skipped) > SENTENCE_LIMIT else ""))


def show_results(analysis, skipped: list[str]) -> None:
    """Sentences for the comparisons that matter, counts for the rest, a paginated table and
    the forest chart of what was said."""
    primary = exp["primary_metric"]
    summary = summarise(analysis.metric, analysis.significant, analysis.failed, primary,
                        corrected=analysis.corrected_away, correction=correction)
    said = analysis.results(summary.highlighted)
    show = {"good": st.success, "bad": st.error, "neutral": st.info,
            "untrusted": st.warning, "failed": st.warning}
    not_final = experiments.results_notes(exp).get("not_final", {})
    shaky = uncertain_bases([stored], difference, "Difference: absolute", said)
    for r in said:
        down = r["metric"] in lower
        show[tone(r, srm, down)](describe(r, names.get(r["metric"]), alpha, srm,
                                          caveats=caveats(r, not_final, shaky),
                                          lower_is_better=down))
    st.caption(summary.sentence())
    failed = int(analysis.failed.sum())
    if correction in CORRECTIONS and len(analysis) > 1:
        counted = f", the {failed:,} not computed counted as p = 1" if failed else ""
        st.caption(f"Significance uses p-values {CORRECTIONS[correction]}-adjusted over the "
                   f"{len(analysis):,} comparisons{counted}; intervals are not adjusted. "
                   f"The command line adjusts them only when asked (`growthlab analyze "
                   f"--correction {correction}`).")
    views = {"all": summary.order,
             "significant": summary.order[analysis.significant[summary.order]],
             "could not compute": summary.order[analysis.failed[summary.order]]}
    c = st.columns([3, 1])
    view = c[0].segmented_control("Show", list(views), default="all",
                                  key="results-view") or "all"
    order = views[view]
    page = 1
    if pages(len(order)) > 1:
        page = c[1].number_input(f"Page (of {pages(len(order)):,})", 1, pages(len(order)), 1,
                                 key=f"results-page-{view}")
    shown = page_of(order, page)
    st.dataframe(io.display_table(results_table(
                     analysis.results(shown), names, primary, alpha, analysis.figure_names(),
                     lower)),
                 hide_index=True, width="stretch")
    if len(order) > len(shown):
        first = (min(page, pages(len(order))) - 1) * PAGE_SIZE
        st.caption(f"Rows {first + 1:,} to {first + len(shown):,} of {len(order):,}.")
    computed = [r for r in said if not r["error"]]
    if computed:
        st.plotly_chart(charts.forest(computed, names, lower))
    if skipped:
        st.caption(not_tested(skipped))


results_tab, design_tab, decide_tab = st.tabs(["Results", "Design & power", "Lifecycle & decision"])

with results_tab:
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
                                 min_value=100.0, value=5000.0, step=1000.0, key="n-star",
                                 help="Set it near the sample size you expect at the end.")
    if method == "bayesian" and st.toggle(
            "Informative prior", help="A normal prior on the effect shrinks noisy estimates "
            "towards what past experiments suggest. Off: a flat prior."):
        c = st.columns(2)
        prior_mean = c[0].number_input("Prior mean lift", value=0.0, format="%.3f",
                                       help="A relative lift: 0.02 is +2%.")
        prior_sd = c[1].number_input("Prior standard deviation of the lift", min_value=0.001,
                                     value=0.1, format="%.3f",
                                     help="A relative lift: 0.1 is 10%. On the absolute scale "
                                     "it is scaled by each control's mean, as in GrowthBook.")
    analysis = srm = withheld = None
    checked = []  # what the pre-set result reads
    source = (str(workspace_path()), workspace_path().stat().st_ino)
    version = experiments.results_version(db, selected)
    stored = stored_results(source, selected, version)
    if not len(stored):
        st.info("No results yet. Upload a summary CSV below (one row per metric per variant) "
                "or compute the milestone KPIs from events.", icon=":material/upload_file:")
    else:
        notes = experiments.results_notes(exp)
        for warning in notes.get("warnings", []):  # how they were computed, for everyone
            st.warning(warning, icon=":material/schedule:")
        if notes.get("summary"):
            st.caption(notes["summary"])
        control, weights = experiments.planned_split(db, selected, stored.variants())
        try:
            assigned = experiments.assigned_rows(exp)  # who was assigned, as the CLI counts
            srm = assigned_ratio(assigned, weights) if assigned else sample_ratio(stored, weights)
        except GrowthLabError:
            srm = None
        withheld = experiments.missing_control(db, selected, stored.variants())
        if absent := experiments.missing_arms(db, selected, stored.variants()):
            st.warning(absent, icon=":material/call_split:")
        try:
            analysis, skipped = (None, []) if withheld else analysed(
                source, selected, version, Options(
                    method=method, difference=difference, alpha=alpha, correction=correction,
                    control=control, weights=weights, prior_mean=prior_mean,
                    prior_sd=prior_sd, n_star=n_star))
        except GrowthLabError as exc:
            st.error(f"These results cannot be analysed: {exc}", icon=":material/error:")
            analysis, skipped = None, []
        if withheld:
            st.error(f"**No control in the results.** {withheld}", icon=":material/error:")
        if srm is not None and srm.flagged:
            users = ", ".join(f"{v} {n:,}" for v, n in zip(srm.variants, srm.users, strict=True))
            planned = ", ".join(f"{v} {share}" for v, share in zip(
                srm.variants, io.percents(srm.expected_weights), strict=True))
            st.error(f"**Sample-ratio mismatch** ({p_text(srm.p_value)}): users per variant "
                     f"({users}) do not match the planned split ({planned}). Assignment or "
                     "logging is broken; do not trust these results until it is fixed.",
                     icon=":material/report:")
        elif srm is not None:
            st.caption(f"Sample ratio ok, {p_text(srm.p_value)}: users per variant match the "
                       "planned split.")
        if analysis is None and skipped:
            st.info(f"{not_tested(skipped)}: every arm converts all or none of its users, so "
                    "there is nothing to compare.", icon=":material/info:")
        if analysis:
            show_results(analysis, skipped)
            checked = experiments.verdict_rows(analysis, exp)
            st.caption(method_note(analysis.options))

    st.markdown("#### Add results")
    # A toggle, not an expander: the grid (and pandas, which it needs) loads only when asked.
    rows = [stored.row(i) for i in range(len(stored))] if len(stored) <= HAND_ROWS else []
    if st.toggle("Enter results by hand", key=f"by-hand-{selected}"):
        st.caption("One row per metric per variant: conversions for a proportion metric, or "
                   "sum and sum_squares for a mean metric.")
        planned = [v["key"] for v in experiments.variants(db, selected)]
        if len(stored) > HAND_ROWS:
            st.caption(f"{len(stored):,} rows are too many to edit here: upload a CSV instead, "
                       "or start a new result set below.")
        template = [{"metric": r.metric, "variant": r.variant, "users": r.users,
                     "conversions": r.conversions, "sum": r.sum, "sum_squares": r.sum_squares}
                    for r in rows] or [
            {"metric": exp["primary_metric"] or "conversion", "variant": v, "users": None,
             "conversions": None, "sum": None, "sum_squares": None} for v in planned]
        typed = st.data_editor(template, num_rows="dynamic", hide_index=True, width="stretch",
                               key=f"manual-{selected}")
        # The grid holds no CUPED columns and no notes: saving it over results that came
        # another way loses those, so it asks too.
        if st.button("Save these results",
                     disabled=not replace_ok("manual", "saving this grid")):
            text = io.to_csv(typed, ["metric", "variant", "users", "conversions", "sum",
                                     "sum_squares"])
            import_results(text.encode(), "manual entry", "manual")
    upload = st.file_uploader("Summary CSV: metric, variant, users, conversions (or sum, "
                              "sum_squares)", type=["csv", "tsv", "txt"],
                              key=f"upload-{selected}")
    if upload is not None and st.button("Import results", type="primary",
                                        disabled=not replace_ok("upload", "importing this file")):
        import_results(upload.getvalue(), upload.name, "upload")
    events = data_file(db, "events_path")
    assignments = data_file(db, "assignments_path")
    if events and assignments and st.button("Compute milestone KPIs from events",
                                            icon=":material/database:",
                                            disabled=not replace_ok(
                                                "events", "computing from events")):
        from growthlab.kpis import experiment_metrics
        from growthlab.kpis.engine import UnknownExperiment
        from growthlab.kpis.milestones import horizons, last_to_close
        from growthlab.kpis.sources import Source, computed_where

        def computed_rows():
            with st.status("Counting milestone KPIs per variant from events…") as status:
                funnel_steps = milestones(db)
                source = Source.of(events, dedupe=dedupe_events(db))
                try:
                    computed = experiment_metrics(source, assignments, funnel_steps, exp["key"])
                except UnknownExperiment as exc:
                    status.update(state="error")
                    raise InputError(
                        f"the assignments file names no experiment {exp['key']!r}; it has "
                        f"{', '.join(exc.names[:10]) or 'none'}. Set this experiment's Key "
                        "(Design & power tab) to the name the file uses") from None
                warnings = [computed.assignment_warning()]
                staggered = computed.unequal_censoring
                if staggered:  # counting open windows as not reached would bias the arms
                    computed = experiment_metrics(source, assignments, funnel_steps,
                                                  exp["key"], exclude_in_progress=True)
                    warnings.insert(0, (
                        f"The arms have different shares of users still inside their window "
                        f"for {', '.join(staggered)} (assignment was staggered): counting them "
                        "as not reached would bias the comparison, so users whose window is "
                        "still open are left out of every metric."))
                deepest = last_to_close(horizons(funnel_steps))
                still_open = computed.still_in_window(deepest)
                counted = "are left out" if staggered else "count as not reached yet in both arms"
                summary = (f"Computed from events up to {(computed.data_end or '')[:10]}: "
                           f"{io.plural(computed.excluded, 'user')} in several variants "
                           f"excluded; {still_open:,} still inside the {deepest} window "
                           f"{counted}. {computed_where(events)}")
                status.update(label=summary, state="complete")
            kept, skipped = drop_constant_rows(computed.rows)
            if not kept:
                raise GrowthLabError(computed.nothing_to_test(exp["key"]))
            if computed.undecided:  # as the command line says them
                warnings.append(f"Left out: {', '.join(computed.undecided)} (fewer than 2 "
                                "users in an arm whose window has closed).")
            if skipped:
                warnings.append(f"Skipped: {', '.join(skipped)} (the same for every user: "
                                "reached by all or by none).")
            return kept, {"summary": summary, "warnings": [w for w in warnings if w],
                          "assigned": computed.assigned,
                          "not_final": {} if staggered else computed.open_windows(
                              horizons(funnel_steps))}

        save_results(computed_rows, "events", "Results computed from events")

rows = rows or plans.metric_rows(stored, exp["primary_metric"])
with design_tab:
    design_tab_body(db, exp, rows, names, alpha, correction, plans.corrected_metrics(
        stored, experiments.guardrails(exp)), method=method, n_star=n_star)

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
    if exp["started_at"]:
        correct_dates(base)
    progress = plans.progress(exp, experiments.assigned_rows(exp) or rows, clock.today())
    early = exp["status"] in ("running", "analysing") and progress is not None and progress.early
    if early:
        st.warning(f"**Before the plan**: {progress.sentence()}. An effect read this early is "
                   "often larger than the real one; deciding now asks why, and the learning "
                   "keeps the reason.", icon=":material/hourglass_top:")
    elif progress is not None and exp["status"] in ("running", "analysing"):
        st.caption(f"Plan reached: {progress.sentence()}.")
    elif exp["status"] in ("running", "analysing"):
        st.caption("No plan saved: size one on the Design & power tab to see how far along "
                   "the experiment is.")
    if exp["status"] == "analysing":
        st.markdown("#### Decide")
        st.caption("Deciding requires a learning, written for someone who was not there.")
        flagged = bool(srm and srm.flagged)
        direction = {"lower_is_better": lower, "guardrails": experiments.guardrails(exp)}
        harm = experiments.guardrail_harm(checked, flagged, exp["primary_metric"], names=names,
                                          alpha=alpha, **direction)
        if harm:
            st.warning(harm, icon=":material/shield:")
        with st.form("decide"):
            suggested = experiments.suggest_result(checked, flagged, exp["primary_metric"],
                                                   **direction)
            c = st.columns(2)
            # Keyed on the analysis shown, so the pre-set follows a change of its settings.
            result = c[0].selectbox(
                "Result", experiments.RESULTS,
                key=f"decide-result-{selected}-{method}-{difference}-{alpha}-{correction}-"
                    f"{prior_mean}-{prior_sd}-{n_star}-{version}-{exp['version']}",
                index=experiments.RESULTS.index(suggested) if suggested else None,
                placeholder="Choose what the data showed",
                help=experiments.verdict_help(checked, flagged, exp["primary_metric"],
                                              withheld, alpha=alpha, **direction))
            decision = c[1].selectbox("Decision", experiments.DECISIONS,
                                      key=f"decide-decision-{selected}")
            conclusion = st.text_area("Conclusion: what the data showed",
                                      key=f"decide-conclusion-{selected}")
            l_title = st.text_input("Learning title", key=f"decide-title-{selected}")
            l_body = st.text_area("Learning (markdown): what we now believe, and how sure",
                                  key=f"decide-body-{selected}")
            reason = st.text_area(
                "Why decide before the plan is reached?" if early else
                "Why, if the decision goes against the result?", key=f"decide-reason-{selected}",
                help="Needed when deciding early, shipping without a win or abandoning a win; "
                "kept in the learning.")
            c = st.columns(3)
            l_status = c[0].selectbox("Learning status", ["emerging", "supported", "confirmed",
                                                          "rejected"],
                                      key=f"decide-status-{selected}")
            obs_acq = c[1].selectbox("Observed effect on acquisition", experiments.EFFECTS, 3,
                                     key=f"decide-acquisition-{selected}")
            obs_ret = c[2].selectbox("Observed effect on retention", experiments.EFFECTS, 3,
                                     key=f"decide-retention-{selected}")
            if st.form_submit_button("Decide", type="primary"):
                save_row("experiment", selected, lambda: experiments.decide(
                    db, selected, base["version"], result=result, decision=decision,
                    conclusion=conclusion, learning_title=l_title, learning_body=l_body,
                    learning_status=l_status, observed_acquisition=obs_acq,
                    observed_retention=obs_ret, reason=reason, actor=writer()),
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
