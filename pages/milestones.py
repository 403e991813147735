"""Milestones: KPIs per customer milestone, the funnel and its success gap, retention, PQLs."""

import contextlib

import streamlit as st

from growthlab import admin, charts, io
from growthlab.db import get_setting
from growthlab.errors import GrowthLabError
from growthlab.io import display_table
from growthlab.kpis import Milestone, check_names, parse_rule, save_to_workspace, validate
from growthlab.kpis.milestones import last_to_close, milestones_toml, milestones_version
from growthlab.kpis.names import require_event
from pages._shared import (
    attempt,
    cached_event_names,
    cached_pqls,
    cached_retention,
    computed_caption,
    confirm_dropping,
    data_file,
    dedupe_events,
    event_warnings,
    file_stamp,
    milestones,
    no_events_yet,
    opened_version,
    quality_warnings,
    report,
    require_app,
    rules_key,
    save_row,
    show_refusal,
    workspace,
    workspace_funnel,
    writer,
)

require_app(__file__)
db = workspace()
st.title("Milestones")
st.caption("One KPI per customer milestone: a behaviour that shows the customer took the leap. "
           "The success gap is the step that loses the largest share of customers.")
ms = milestones(db)
events = data_file(db, "events_path")

if not ms:
    st.info("No milestones yet. Define them below (or upload a milestones.toml in Settings): "
            "six is typical, from Problem to Value growth.", icon=":material/conversion_path:")
if events is None:
    no_events_yet(db, "Upload an events file (user_id, event, timestamp) in Settings to "
                      "compute the KPIs.")
elif ms:
    with contextlib.suppress(GrowthLabError):  # the tab below reads them too and says why
        quality_warnings(db)
        event_warnings(db, rules=[m.rule for m in ms])  # such as a typo in an uploaded file
    # A tab's scan runs only while it is open (the funnel's is shared with other pages); the
    # open tab lives in the URL, so a view can be shared.
    funnel_tab, retention_tab, moments_tab = st.tabs(
        ["Funnel & success gap", "Retention", "Success moments & PQLs"], key="tab",
        bind="query-params")
    with funnel_tab:
        c = st.columns([1, 1, 2])
        start = c[0].date_input("Sign-ups from", value=None, key="from")
        end = c[1].date_input("Sign-ups before", value=None, key="to")
        try:
            funnel = workspace_funnel(db, start=start.isoformat() if start else None,
                                      end=end.isoformat() if end else None)
        except GrowthLabError as exc:
            report(exc)
            st.stop()
        if funnel.users == 0:
            st.warning("No users signed up in this date range.")
        else:
            gap = funnel.success_gap
            if gap:
                st.error(f"**Focus here:** {io.percent(gap['drop'])} of users who reach "
                         f"**{gap['from_name']}** never reach **{gap['to_name']}**. That is the "
                         "largest drop in the funnel, so a modest lift there pays most.",
                         icon=":material/target:")
            names = {m.key: m.name for m in ms}
            waiting = last_to_close(funnel.horizons)
            deepest = next(m for m in funnel.milestones if m["key"] == waiting)
            still_open = funnel.users - deepest["eligible"]
            st.caption(f"Data up to **{funnel.data_end[:16].replace('T', ' ')} UTC**. Shares "
                       "count only users whose milestone window has closed: "
                       f"{still_open:,} of {funnel.users:,} users are still inside the "
                       f"{funnel.horizons[deepest['key']]}-day window of {deepest['name']}, so "
                       "not having reached it yet is not counted as a failure.")
            if funnel.open_ended:
                st.warning("No window of their own: " + ", ".join(
                    names[k] for k in funnel.open_ended) + ". Recent sign-ups have had less "
                    "time to reach them, so their shares and late cohorts read low; give each a "
                    "window (days) in the editor below for shares that compare.",
                    icon=":material/schedule:")
            st.plotly_chart(charts.funnel_chart(funnel.milestones, gap, funnel.horizons))
            st.dataframe(
                display_table(m | {"still_in_window": funnel.users - m["eligible"]}
                              for m in funnel.milestones),
                hide_index=True, width="stretch",
                column_order=["name", "phase", "users", "eligible", "still_in_window", "share",
                              "conversion_from_previous"],
                column_config={
                    "users": st.column_config.NumberColumn("reached (all)", format="localized"),
                    "eligible": st.column_config.NumberColumn(
                        "window closed", format="localized",
                        help="Users whose window for this milestone ended by the data end"),
                    "still_in_window": st.column_config.NumberColumn(
                        "still in window", format="localized"),
                    "share": st.column_config.NumberColumn(
                        "share (window closed)", format="percent"),
                    "conversion_from_previous": st.column_config.NumberColumn(
                        "conversion from previous", format="percent")})
            st.plotly_chart(charts.cohort_lines(funnel.cohorts, names,
                                                [m.key for m in ms[1:]], funnel.horizons))
            computed_caption(events)
    with retention_tab:
        c = st.columns(4)
        event = c[0].text_input("Returning means doing (blank: any event)", key="ret-event",
                                help="Recurring use: count a return only for this event.")
        start_event = c[1].text_input("Cohort starts at first (blank: sign-up)",
                                      key="ret-start", help="First-time use: start each "
                                      "user's clock the first time they did this event.")
        only = c[2].selectbox("Only users who reached", ["(everyone)"] + [m.key for m in ms],
                              format_func=lambda k: {m.key: m.name for m in ms}.get(k, k),
                              key="ret-milestone")
        days_text = c[3].text_input("Days", value="1,7,30", key="ret-days")
        if retention_tab.open:
            try:
                days = tuple(int(d) for d in days_text.split(",") if d.strip())
                event_warnings(db, names=[event])
                if start_event:
                    require_event(start_event, cached_event_names(str(events), file_stamp(events)),
                                  "Cohort start event")
                with st.spinner("Computing retention…"):
                    table = cached_retention(str(events), file_stamp(events), event or None, days,
                                             start_event or None,
                                             None if only == "(everyone)" else only, rules_key(ms),
                                             dedupe_events(db))
                st.plotly_chart(charts.retention_heatmap(table))
                overall = " · ".join(f"day {d}: {io.percent(v)}" for d, v in
                                     zip(table.days, table.overall, strict=True) if v is not None)
                st.caption(f"All cohorts: {overall}. A user counts for day N only once the data "
                           "covers all of that day (a day cut short at the data end waits).")
                computed_caption(events)
            except ValueError:
                st.error("Days must be whole numbers separated by commas, e.g. 1,7,30.")
            except GrowthLabError as exc:
                report(exc)
    with moments_tab:
        moments = [m for m in ms if m.success_moment]
        if moments:
            st.markdown("**Success moments**")
            st.dataframe(display_table({"moment": m.success_moment, "milestone": m.name,
                                        "rule": m.rule} for m in moments),
                         hide_index=True, width="stretch")
        st.markdown("**Product-qualified leads**")
        c = st.columns([3, 1])
        rule = c[0].text_input("PQL rule", value=get_setting(db, "pql_rule", ""),
                               placeholder="count(message_sent) >= 2000")
        window = c[1].number_input("Within days of sign-up", 1, 3650,
                                   int(get_setting(db, "pql_window_days", "30")))
        if rule and moments_tab.open:
            try:
                parse_rule(rule, "PQL rule")
                event_warnings(db, rules=[rule])
                with st.spinner("Finding qualified users…"):
                    total, users = cached_pqls(str(events), file_stamp(events), rule,
                                               int(window), rules_key(ms),
                                               dedupe_events(db))
                st.metric("Qualified users", f"{total:,}")
                computed_caption(events)
                st.dataframe(display_table(users[:500]), hide_index=True,
                             width="stretch")
                st.download_button("Download PQLs as CSV",
                                   io.to_csv(users, list(users[0]) if users else ["user_id"]),
                                   file_name="pqls.csv", mime="text/csv")
                if rule != get_setting(db, "pql_rule") and st.button("Save as the PQL rule"):
                    attempt(lambda: admin.set_pql_rule(db, rule, int(window), actor=writer()),
                            "PQL rule saved")
            except GrowthLabError as exc:
                report(exc)



def milestone_editor() -> None:
    """The grid of milestones, live-validated, and saving them (refused over a newer save)."""
    show_refusal()
    version = opened_version("milestones", {"id": 0, "version": milestones_version(db)})
    edited = st.data_editor(
        [m.as_dict() | {"window_days": m.window_days, "success_moment": m.success_moment}
         for m in ms] or [{"key": "first_value", "name": "First value", "phase": "Evaluation",
                           "rule": "count(search) >= 5", "window_days": 14,
                           "success_moment": None}],
        num_rows="dynamic", hide_index=True, width="stretch",
        key=f"milestone-editor-v{version}",
        column_config={
            "window_days": st.column_config.NumberColumn("window (days)", min_value=1, step=1),
            "success_moment": st.column_config.SelectboxColumn(
                "success moment", options=["setup", "aha", "eureka", "habit"]),
            "rule": st.column_config.TextColumn(width="large")})
    try:
        candidate = [Milestone(r["key"] or "", r["name"] or "", r["phase"] or "",
                               r["rule"] or "",
                               int(r["window_days"]) if r.get("window_days") else None,
                               r.get("success_moment") or None) for r in edited]
        validate(candidate)
        check_names(candidate)
        st.success("Rules are valid.", icon=":material/check:")
        if rules_key(candidate) != rules_key(ms):  # the saved rules are warned about above
            event_warnings(db, rules=[m.rule for m in candidate])
        allowed = confirm_dropping(db, candidate, "editor-drop")
        if st.button("Save milestones", type="primary", disabled=not allowed):
            save_row("milestones", 0, lambda: save_to_workspace(db, candidate, actor=writer(),
                                                                version=version),
                     "Milestones saved", {"Your milestones (TOML)": milestones_toml(candidate)})
    except GrowthLabError as exc:
        st.error(str(exc), icon=":material/error:")


st.divider()
# The grid needs pandas (0.4 s on a new server's first render): it is built only when opened.
with st.expander("Edit milestones", expanded=not ms, key="edit", on_change="rerun",
                 bind="query-params", icon=":material/edit:") as editing:
    st.caption("Order is funnel order. Rules: count(E), days(E), reached(KEY), comparisons, "
               "and, or, not, parentheses. Example: count(search) >= 5 and "
               "count(list_created) >= 1")
    if editing.open:
        milestone_editor()
