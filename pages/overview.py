"""Overview for leaders: are we on track, and what are we doing about what is not?"""


import streamlit as st

from growthlab import charts, clock, experiments, okrs
from growthlab.errors import GrowthLabError
from growthlab.io import display_table, percent, plural
from pages._shared import (
    computed_caption,
    data_file,
    page_link,
    report,
    require_app,
    workspace,
    workspace_funnel,
)

require_app(__file__)
db = workspace()
today = clock.today()
st.title("Overview")
objectives = okrs.overview(db, today)


def success_gap(running: list[dict]) -> None:
    """The biggest success gap, and whether a running experiment works on it."""
    try:
        funnel = workspace_funnel(db)
    except GrowthLabError as exc:  # such as a file overwritten on disk since its upload
        report(exc)
        return
    if funnel and funnel.success_gap:
        gap = funnel.success_gap
        st.subheader("Biggest success gap")
        st.markdown(
            f"**{gap['from_name']} → {gap['to_name']}** loses **{percent(gap['drop'])}** of users. "
            "A modest lift here pays most, so this is where experiments should focus.")
        computed_caption(data_file(db, "events_path"))
        focused = [e for e in running if e["milestone_key"] == gap["to"]]
        if focused:
            push = "pushes" if len(focused) == 1 else "push"
            st.success(f"{plural(len(focused), 'running experiment')} {push} on "
                       f"{gap['to_name']}: "
                       + ", ".join(f"{e['key']} {e['title']}" for e in focused),
                       icon=":material/science:")
        else:
            st.warning(f"No running experiment targets {gap['to_name']}.",
                       icon=":material/warning:")
    elif funnel is None:
        st.info("Add product events in Settings to see the biggest success gap.",
                icon=":material/conversion_path:")


if not objectives:
    st.info("No objectives yet. Start with one outcome: a change in customer behaviour you "
            "want this quarter, with key results on milestone KPIs; the success gap below "
            "is a good place to aim one.", icon=":material/flag:")
    page_link("pages/okrs.py", "Write your first objective", ":material/add:")
    success_gap([e for e in experiments.listing(db) if e["status"] == "running"])
    st.stop()

all_krs = [kr for o in objectives for kr in o.key_results]
counts = okrs.status_counts(all_krs)
cols = st.columns(5)
cols[0].metric("Key results on track", f"{counts['on track']} of {len(all_krs)}")
cols[1].metric("At risk", counts["at risk"])
cols[2].metric("Off track", counts["off track"])
cols[3].metric("No check-in yet", counts[okrs.NO_CHECKIN])
programme = experiments.listing(db)
running = [e for e in programme if e["status"] == "running"]
cols[4].metric("Experiments running", len(running))
st.caption(okrs.STATUS_RULE)

attention = okrs.needs_attention(all_krs)
if attention:
    with st.container(border=True):
        st.markdown("**Needs attention, and what is being done about it**")
        for kr in attention:
            active = [e for e in kr.experiments if e["status"] in ("running", "analysing")]
            doing = ", ".join(f"{e['key']} {e['title']} ({e['status']})" for e in active)
            colour = {"off track": "red", "at risk": "orange"}.get(kr.status, "gray")
            action = ("check in on the OKRs page to see where it stands"
                      if kr.status == okrs.NO_CHECKIN
                      else doing or ":red[nothing running; start an experiment]")
            st.markdown(f":{colour}-badge[{kr.status.capitalize()}] {kr.row['statement']}: "
                        + action)

gap_col, programme_col = st.columns([3, 2])
with gap_col:
    success_gap(running)
with programme_col:
    review = experiments.programme_review(programme)
    st.subheader("Experiment programme")
    a, b = st.columns(2)
    a.metric("Win rate", "–" if review["win_rate"] is None else f"{review['win_rate']:.0%}",
             help="Won among decided and archived experiments with a valid result (won, lost, "
                  "inconclusive).")
    b.metric("Median duration", "–" if review["median_duration_days"] is None
             else plural(round(review["median_duration_days"]), "day"))
    page_link("pages/experiments.py", "Open the programme review", ":material/insights:",
              view="review")

for objective in objectives:
    row = objective.row
    st.divider()
    st.subheader(row["title"])
    st.caption(f"{row['period']} · {row['squad'] or 'no squad'} · {row['start_date']} to "
               f"{row['end_date']}" + (f" · {row['why']}" if row["why"] else ""))
    if not objective.key_results:
        st.info("This objective has no key results yet. Add them on the OKRs page.")
        continue
    chart_col, side_col = st.columns([3, 2])
    chart_col.plotly_chart(charts.progress_bars(objective.key_results),
                           key=f"progress-{row['id']}")
    with side_col:
        for kr in objective.key_results:
            forecast = ("no forecast yet" if kr.forecast_progress is None
                        else f"forecast {kr.forecast_progress:.0%} of target by the end")
            linked = len(kr.experiments)
            flags = []
            if kr.stale:
                flags.append("stale check-in")
            if kr.lint:
                flags.append("lint: " + ", ".join(w.code.replace("_", " ") for w in kr.lint))
            confidence = "–" if kr.confidence is None else kr.confidence
            st.markdown(f"**{kr.status.capitalize()}** · {kr.row['statement']}  \n"
                        f"{forecast} · confidence {confidence}/10 · {plural(linked, 'experiment')}"
                        + (f" · ⚠ {'; '.join(flags)}" if flags else ""))
    if objective.uncovered:
        st.warning("No running experiment pushes on: " + "; ".join(
            kr.row["statement"] for kr in objective.uncovered), icon=":material/target:")
    log = objective.checkin_log()
    with st.expander(f"Check-ins, newest first ({len(log)})"):
        st.dataframe(display_table(log), hide_index=True,
                     key=f"log-{row['id']}", column_config={
                         "key result": st.column_config.TextColumn(width="medium"),
                         "value": st.column_config.TextColumn(),  # four figures, as the tiles
                         "confidence": st.column_config.NumberColumn(format="%d/10"),
                         "note": st.column_config.TextColumn(width="large")})
    with st.expander("Confidence trend"):
        st.plotly_chart(charts.confidence_trend(objective.key_results),
                        key=f"confidence-{row['id']}")
