"""OKRs: outcome objectives, key results on metrics, check-ins and lint."""

from datetime import date, timedelta

import streamlit as st

from growthlab import charts, clock, edits, okrs
from growthlab.errors import GrowthLabError
from growthlab.io import display_table
from growthlab.learnings import escape_markdown
from pages._shared import (
    attempt,
    milestone_names,
    opened,
    report,
    require_app,
    save_edit,
    save_row,
    show_refusal,
    widget_key,
    workspace,
    workspace_funnel,
    writer,
)

require_app(__file__)
db = workspace()
today = clock.today()
st.title("OKRs")
show_refusal()
st.caption("Key results state outcomes: a change in customer behaviour measured by a metric, "
           "not a feature shipped. " + okrs.STATUS_RULE)
names = milestone_names(db)
objectives = okrs.overview(db, today)
squads = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM squads ORDER BY name")}


def lint_box(statement: str, metric: str, kind: str) -> None:
    for warning in okrs.lint_key_result(statement, metric, kind):
        st.warning(f"**{warning.message}**  \n{warning.suggestion}", icon=":material/lightbulb:")


def metric_label(key: str) -> str:
    if key == okrs.CUSTOM_METRIC:
        return "Custom metric: checked in by hand"
    return names.get(key, key)


def asked_first(key: str, row: dict, value: float, button: str) -> bool:
    """Whether to stop and ask about a value that looks like a typo. Asked once per value:
    pressing the button again saves it as typed; a value that cannot be saved goes on to be
    refused with its reason."""
    try:
        doubt = okrs.unlikely_value(row, value)
    except GrowthLabError:
        return False
    if st.session_state.pop(key, None) == value or doubt is None:
        return False
    st.session_state[key] = value
    st.warning(f"{doubt} Press “{button}” again to save it as typed.", icon=":material/help:")
    return True


def checkin_form(kr) -> None:
    row = kr.row
    # Not clear_on_submit: a refused check-in keeps what was typed; a saved one starts afresh.
    round_ = st.session_state.setdefault(f"ci-round-{row['id']}", 0)
    with st.form(f"checkin-{row['id']}-{round_}"):
        st.markdown("**Check in**")
        c1, c2, c3 = st.columns(3)
        day = c1.date_input("Date", value=today, key=f"ci-date-{row['id']}")
        value = c2.number_input(f"Value ({row['unit'] or 'metric'})",
                                value=float(row["baseline"] if kr.current is None else kr.current),
                                format="%g", key=f"ci-value-{row['id']}")
        confidence = c3.slider("Confidence (0-10)", 0, 10, okrs.next_confidence(kr),
                               key=f"ci-conf-{row['id']}")
        note = st.text_input("Note", key=f"ci-note-{row['id']}",
                             placeholder="What moved it, what you will try next")
        asked = f"ci-asked-{row['id']}"
        if st.form_submit_button("Save check-in", type="primary") and not asked_first(
                asked, row, value, "Save check-in"):
            def save():
                okrs.add_checkin(db, row["id"], day=day, value=value, confidence=confidence,
                                 note=note, author=writer())
                for name in ("date", "value", "conf", "note"):
                    st.session_state.pop(f"ci-{name}-{row['id']}", None)
                st.session_state[f"ci-round-{row['id']}"] = round_ + 1

            attempt(save, "Check-in saved")


def from_data(kr) -> None:
    """A key result on a milestone KPI reads its value from the events, shown before written."""
    row = kr.row
    if row["metric"] not in names:
        return
    showing = f"data-preview-{row['id']}"
    if st.button(f"Check in from data ({names[row['metric']]})", key=f"data-{row['id']}",
                 icon=":material/database:"):
        st.session_state[showing] = True
    if not st.session_state.get(showing):
        return
    try:
        funnel = workspace_funnel(db)
        if funnel is None or funnel.users == 0:
            st.warning("No product events yet: upload them in Settings to check in from data.")
            return
        preview = okrs.data_checkin(funnel, row)
    except GrowthLabError as exc:
        report(exc)
        return
    with st.container(border=True):
        shown = f"{okrs.format_value(preview.value)} {row['unit']}".strip()
        st.markdown(f"**{shown}** "
                    + okrs.counted_users(preview, funnel.horizons[row["metric"]]))
        write, cancel = st.columns(2)
        if write.button("Write this check-in", key=f"data-confirm-{row['id']}", type="primary"):
            st.session_state.pop(showing, None)
            def write_it():
                okrs.checkin_from_data(db, kr, preview, today=today, author=writer())
                st.session_state.pop(f"ci-value-{row['id']}", None)  # the form starts from it

            attempt(write_it, f"Checked in {shown} from {preview.users:,} users' events")
        if cancel.button("Cancel", key=f"data-cancel-{row['id']}"):
            st.session_state.pop(showing, None)
            st.rerun()


def edit_key_result(kr) -> None:
    base = opened("key_result", kr.row["id"], kr.row)
    with st.form(f"edit-kr-{base['id']}"):
        statement = st.text_input("Statement", base["statement"],
                                  key=widget_key("e-statement", base))
        c = st.columns(3)
        choices = [*names, okrs.CUSTOM_METRIC]
        stored = base["metric"] if base["metric"] in names else okrs.CUSTOM_METRIC
        metric = c[0].selectbox("Metric", choices, index=choices.index(stored),
                                format_func=metric_label, key=widget_key("e-metric", base))
        custom = c[1].text_input("Custom metric name", "" if base["metric"] in names
                                 else base["metric"], key=widget_key("e-custom", base),
                                 help="Used when the metric is “Custom metric”")
        unit = c[2].text_input("Unit", base["unit"], key=widget_key("e-unit", base),
                               help="% or share for a milestone KPI checked in from data")
        c = st.columns(4)
        baseline = c[0].number_input("Baseline", value=float(base["baseline"]),
                                     key=widget_key("e-base", base))
        target = c[1].number_input("Target", value=float(base["target"]),
                                   key=widget_key("e-target", base))
        stretch = c[2].text_input("Stretch (optional)", edits.number_text(base["stretch"]),
                                  key=widget_key("e-stretch", base))
        kind = c[3].selectbox("Metric kind", okrs.METRIC_KINDS,
                              index=okrs.METRIC_KINDS.index(base["metric_kind"]),
                              key=widget_key("e-kind", base))
        c = st.columns(3)
        direction = c[0].selectbox("Direction", okrs.DIRECTIONS,
                                   index=okrs.DIRECTIONS.index(base["direction"]),
                                   key=widget_key("e-dir", base))
        start = c[1].date_input("Start", date.fromisoformat(base["start_date"]),
                                key=widget_key("e-start", base))
        end = c[2].date_input("End", date.fromisoformat(base["end_date"]),
                              key=widget_key("e-end", base))
        if st.form_submit_button("Save key result"):
            save_edit("key_result", base, lambda: {
                "statement": statement, "metric": okrs.chosen_metric(metric, custom),
                "unit": unit, "baseline": baseline, "target": target,
                "stretch": okrs.optional_number(stretch, "stretch"), "metric_kind": kind,
                "direction": direction, "start_date": start, "end_date": end},
                lambda changes: okrs.update_key_result(db, base["id"], base["version"], changes,
                                                       actor=writer()), "Key result saved")


def edit_objective(objective) -> None:
    base = opened("objective", objective.row["id"], objective.row)
    owners = {None: "(no squad)", **{i: name for name, i in squads.items()}}
    with st.form(f"edit-objective-{base['id']}"):
        title = st.text_input("Objective", base["title"], key=widget_key("o-title", base))
        why = st.text_area("Why it matters", base["why"], key=widget_key("o-why", base))
        c = st.columns(4)
        period = c[0].text_input("Period", base["period"], key=widget_key("o-period", base))
        start = c[1].date_input("Start", date.fromisoformat(base["start_date"]),
                                key=widget_key("o-start", base))
        end = c[2].date_input("End", date.fromisoformat(base["end_date"]),
                              key=widget_key("o-end", base))
        choices = edits.with_stored(list(owners), base["squad_id"])
        squad = c[3].selectbox("Owning squad", choices, index=choices.index(base["squad_id"]),
                               format_func=lambda i: owners.get(i, f"squad {i}"),
                               key=widget_key("o-squad", base))
        if st.form_submit_button("Save objective"):
            moving = sum(bool(okrs.moved_dates(kr.row, base, start, end))
                         for kr in objective.key_results)
            save_edit("objective", base, lambda: {
                "title": title, "why": why, "period": period, "start_date": start,
                "end_date": end, "squad_id": squad},
                lambda changes: okrs.update_objective(db, base["id"], base["version"], changes,
                                                      actor=writer()),
                      "Objective saved" + (f"; {moving} key result{'s' * (moving != 1)} "
                                           "moved with it" if moving else ""))


def correct_checkins(kr) -> None:
    """Correct a check-in's value, confidence or note, or remove it (once confirmed)."""
    row, by_id = kr.row, {c["id"]: c for c in reversed(kr.checkins)}
    shown = {i: " ".join(filter(None, (okrs.format_value(c["value"]), row["unit"])))
             for i, c in by_id.items()}
    picked = st.selectbox("Check-in", list(by_id), index=None, key=f"fix-pick-{row['id']}",
                          placeholder="Choose the check-in to correct or remove",
                          format_func=lambda i: f"{by_id[i]['date']} · {shown[i]} · "
                                                f"{by_id[i]['author']}")
    if picked not in by_id:
        return
    base = opened("checkin", picked, by_id[picked])
    removing = f"fix-remove-{row['id']}"
    with st.form(f"fix-{picked}"):
        c = st.columns(2)
        value = c[0].number_input(f"Value ({row['unit'] or 'metric'})", value=float(
            base["value"]), format="%g", key=widget_key("fix-value", base))
        confidence = c[1].slider("Confidence (0-10)", 0, 10, base["confidence"],
                                 key=widget_key("fix-conf", base))
        note = st.text_input("Note", base["note"], key=widget_key("fix-note", base))
        save, remove = st.columns(2)
        if save.form_submit_button("Save correction", type="primary") and not asked_first(
                f"fix-asked-{picked}", row, value, "Save correction"):
            save_edit("checkin", base, lambda: {"value": value, "confidence": confidence,
                                                "note": note},
                      lambda changes: okrs.update_checkin(db, picked, base["version"], changes,
                                                          actor=writer()), "Check-in corrected")
        if remove.form_submit_button("Remove"):
            st.session_state[removing] = picked
    if st.session_state.get(removing) != picked:
        return
    st.warning(f"Remove the check-in of {base['date']} ({shown[picked]}, confidence "
               f"{base['confidence']}/10, by {base['author'] or 'unknown'})? Progress, pace, "
               "status and forecast are worked out again without it; the audit log keeps what "
               "it said.", icon=":material/delete:")
    yes, no = st.columns(2)
    if yes.button("Remove it", type="primary", key=f"fix-yes-{picked}"):
        st.session_state.pop(removing, None)
        save_row("checkin", picked, lambda: okrs.remove_checkin(
            db, picked, base["version"], actor=writer()), "Check-in removed")
    if no.button("Keep it", key=f"fix-no-{picked}"):
        st.session_state.pop(removing, None)
        st.rerun()


def checkin_history(kr) -> None:
    st.markdown("**Check-ins**, newest first")
    if not kr.checkins:
        st.caption("No check-in yet.")
        return
    st.dataframe(display_table(okrs.checkin_log(kr.checkins)), hide_index=True,
                 height=250, key=f"log-{kr.row['id']}", column_config={
                     "value": st.column_config.TextColumn(),  # four figures, as the tiles
                     "confidence": st.column_config.NumberColumn(format="%d/10"),
                     "note": st.column_config.TextColumn(width="large")})
    with st.expander("Correct or remove a check-in", icon=":material/edit_note:"):
        correct_checkins(kr)


for objective in objectives:
    o = objective.row
    label = " · ".join(part for part in (f"**{escape_markdown(o['title'])}**",
                                          escape_markdown(o["period"]),
                                          escape_markdown(o["squad"] or "no squad")) if part)
    with st.expander(label,
                     expanded=True):
        st.caption(f"{o['start_date']} to {o['end_date']}" + (f" · {o['why']}" if o["why"]
                                                             else ""))
        with st.expander("Edit this objective", icon=":material/edit:"):
            edit_objective(objective)
        if not objective.key_results:
            st.info("No key results yet: add one below.")
        for kr in objective.key_results:
            row = kr.row
            badge = {"on track": "green", "at risk": "orange", "off track": "red",
                     okrs.NO_CHECKIN: "gray"}[kr.status]
            st.markdown(f"#### {row['statement']}\n:{badge}-badge[{kr.status.capitalize()}]")
            c = st.columns(4)
            unit, shown = row["unit"], okrs.format_value
            if kr.current is None:
                c[0].metric("Current", okrs.NO_CHECKIN, help=f"Baseline {shown(row['baseline'])} "
                            f"{unit}: check in to record where it stands.")
            else:
                c[0].metric("Current", f"{shown(kr.current)} {unit}",
                            delta=f"{shown(kr.current - row['baseline'], signed=True)} vs "
                                  "baseline",
                            delta_color="normal" if row["direction"] == "increase"
                            else "inverse")
            stretch = "none" if row["stretch"] is None else shown(row["stretch"])
            c[1].metric("Target", f"{shown(row['target'])} {unit}",
                        help=f"Baseline {shown(row['baseline'])}; stretch {stretch}")
            c[2].metric("Progress", f"{kr.progress:.0%}", help=f"Pace says {kr.expected:.0%}")
            c[3].metric("Confidence", "–" if kr.confidence is None else f"{kr.confidence}/10")
            if kr.stale:
                st.warning(f"Stale: last check-in {kr.last_checkin or 'never'}; check in at "
                           f"least every {okrs.STALE_AFTER_DAYS} days.", icon=":material/schedule:")
            lint_box(row["statement"], row["metric"], row["metric_kind"])
            left, right = st.columns([3, 2])
            left.plotly_chart(charts.key_result_history(kr, today), key=f"history-{row['id']}")
            with right:
                checkin_history(kr)
            left, right = st.columns([3, 2])
            with left:
                if kr.forecast_value is not None:
                    capped = (", capped: the trend runs past all it can reach"
                              if kr.forecast_capped else "")
                    st.markdown(f"**Forecast** at {row['end_date']}: "
                                f"{shown(kr.forecast_value)} {unit} ({kr.forecast_progress:.0%} "
                                f"of the way to target{capped})")
                st.markdown("**Experiments pushing on it**")
                if kr.experiments:
                    for e in kr.experiments:
                        outcome = f" · **{e['result']}**" if e["result"] else ""
                        st.page_link("pages/experiment.py", label=f"{e['key']} {e['title']} "
                                     f"({e['status']}){outcome}", query_params={"id": e["id"]})
                else:
                    st.caption("None yet: link an experiment to this key result from the "
                               "Experiments page.")
            with right:
                from_data(kr)
            checkin_form(kr)
            with st.expander("Edit this key result"):
                edit_key_result(kr)
        if objective.key_results and objective.uncovered:
            st.warning("No running experiment pushes on: " + "; ".join(
                kr.row["statement"] for kr in objective.uncovered)
                + ". Link or start one from the Experiments page.", icon=":material/target:")

st.divider()
if objectives:
    st.subheader("Write a key result")
    st.caption("Lint runs as you type. It never blocks saving: it points at output goals, "
               "value-capture metrics and NPS targets.")
    by_id = {o.row["id"]: o.row for o in objectives}
    statement = st.text_input("Statement", key="kr-statement",
                              placeholder="Raise First value from 31% to 40% of new sign-ups")
    metric_choice = st.selectbox("Metric", [*names, okrs.CUSTOM_METRIC], index=None,
                                 key="kr-metric", format_func=metric_label,
                                 placeholder="Choose a milestone KPI (checked in from data) or "
                                             "a custom metric")
    custom = st.text_input("Custom metric name", key="kr-custom",
                           disabled=metric_choice != okrs.CUSTOM_METRIC)
    kind = st.radio("Metric kind", ["value_creation", "value_capture"], horizontal=True,
                    key="kr-kind", format_func=lambda k: k.replace("_", " "))
    if statement:
        lint_box(statement, custom if metric_choice == okrs.CUSTOM_METRIC
                 else metric_choice or "", kind)
    objective_id = st.selectbox("Objective", list(by_id), key="kr-objective",
                                format_func=lambda i: by_id[i]["title"])
    period_start, period_end = okrs.key_result_period(by_id[objective_id])
    with st.form("new-kr"):
        c = st.columns(4)
        direction = c[0].selectbox("Direction", ["increase", "decrease"])
        baseline = c[1].number_input("Baseline", value=0.0)
        target = c[2].number_input("Target", value=1.0)
        unit = c[3].text_input("Unit", value="%")
        d1, d2 = st.columns(2)
        start = d1.date_input("Start", value=period_start, key=f"kr-start-{objective_id}")
        end = d2.date_input("End", value=period_end, key=f"kr-end-{objective_id}")
        if st.form_submit_button("Add key result", type="primary"):
            def add():
                who = writer()
                okrs.create_key_result(
                    db, objective_id, statement=statement,
                    metric=okrs.chosen_metric(metric_choice, custom), metric_kind=kind,
                    direction=direction, unit=unit, baseline=baseline, target=target,
                    start_date=start, end_date=end, actor=who)
                for name in ("statement", "metric", "custom"):  # a second click adds no twin
                    st.session_state.pop(f"kr-{name}", None)

            attempt(add, "Key result added")
else:
    st.info("No objectives yet. Start with one outcome the team wants this quarter (a change "
            "in customer behaviour), then write its key results on milestone KPIs.",
            icon=":material/flag:")

with st.expander("Add an objective", expanded=not objectives), st.form("new-objective"):
    title = st.text_input("Objective", placeholder="New teams get to value in their first "
                                                   "month")
    why = st.text_area("Why it matters")
    c = st.columns(3)
    period = c[0].text_input("Period", value=f"Q{(today.month - 1) // 3 + 1} {today.year}")
    start = c[1].date_input("Start", value=today, key="o-start")
    end = c[2].date_input("End", value=today + timedelta(days=90), key="o-end")
    squad = st.selectbox("Owning squad", ["(none)"] + list(squads))
    if st.form_submit_button("Add objective", type="primary"):
        attempt(lambda: okrs.create_objective(
            db, title=title, why=why, period=period, start_date=start, end_date=end,
            squad_id=squads.get(squad), actor=writer()), "Objective added")
