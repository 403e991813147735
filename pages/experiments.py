"""Experiments: the backlog ranked by ICE, the board, and the programme review."""

import streamlit as st

from growthlab import charts, experiments, learnings
from growthlab.errors import GrowthLabError
from growthlab.io import display_table, plural
from pages._shared import (
    actor,
    changed,
    milestone_names,
    report,
    require_app,
    workspace,
    workspace_funnel,
    writer,
)

require_app(__file__)
db = workspace()
st.title("Experiments")
names = milestone_names(db)
squads = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM squads ORDER BY name")}
loops = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM loops ORDER BY name")}
areas = {r["name"]: r["id"] for r in db.query("SELECT id, name FROM product_areas ORDER BY name")}
krs = {r["statement"]: r["id"] for r in db.query("SELECT id, statement FROM key_results")}

FILTERS = {"status": list(experiments.STATUSES), "squad": list(squads),
           "milestone": list(names), "loop": list(loops), "area": list(areas),
           "result": list(experiments.RESULTS)}
params = st.query_params
VIEW_PARAMS = [*FILTERS, "q", "view"]
BOARD_COLUMN, BOARD_HEIGHT, LIST_ROW = 290, 720, 35
if any(params.get_all(name) for name in VIEW_PARAMS):
    st.session_state["experiments-view"] = {n: params.get_all(n) for n in VIEW_PARAMS}
elif saved := st.session_state.get("experiments-view"):  # back from an experiment
    for name, values in saved.items():
        params[name] = values


def board_card(r: dict) -> None:
    """One experiment on the board: its whole title, stage and loop, ICE and result."""
    with st.container(border=True):
        result = f" · **{r['result']}**" if r["result"] else ""
        st.markdown(f"{r['key']}{result}  \n{learnings.escape_markdown(r['title'])}")
        tags = [names.get(r["milestone_key"], r["milestone_key"]), r["loop"],
                None if r["ice"] is None else f"ICE {r['ice']:.0f}"]
        st.caption(" · ".join(t for t in tags if t))
        st.page_link("pages/experiment.py", label="Open", icon=":material/arrow_forward:",
                     query_params={"id": r["id"]})


def from_url(name: str) -> list[str]:
    return [v for v in params.get_all(name) if v in FILTERS[name]]


with st.sidebar:
    st.header("Filters")
    st.caption("Filters live in the address bar: copy it to share this view.")
    chosen = {}
    for name, options in FILTERS.items():
        chosen[name] = st.multiselect(
            name.capitalize(), options, default=from_url(name), key=f"f-{name}",
            format_func=(lambda k: names.get(k, k)) if name == "milestone" else str)
        params[name] = chosen[name]
    text = st.text_input("Title or hypothesis contains", value=params.get("q", ""), key="f-q")
    params["q"] = text

rows = experiments.listing(db, text=text, **chosen)
views = ["list", "board", "review"]
view = st.segmented_control("View", views, default=params.get("view", "list")
                            if params.get("view") in views else "list", key="view-choice",
                            format_func=lambda v: {"list": "List", "board": "Board",
                                                   "review": "Programme review"}[v])
params["view"] = view or "list"

if not rows:
    if db["experiments"].count == 0:
        st.info("No experiments yet. Log your first idea below: a hypothesis about a customer "
                "outcome and the milestone KPI it should move.", icon=":material/science:")
    else:
        st.info("No experiment matches these filters. Clear a filter in the sidebar.",
                icon=":material/filter_alt_off:")
elif view == "board":
    st.caption("Each stage scrolls down on its own; scroll sideways for later stages.")
    with st.container(horizontal=True, wrap=False, key="board"):
        for status in experiments.STATUSES:
            items = [r for r in rows if r["status"] == status]
            with st.container(width=BOARD_COLUMN, height=BOARD_HEIGHT, border=True,
                              key=f"board-{status}"):
                st.markdown(f"**{status.capitalize()}** ({len(items)})")
                for r in items:
                    board_card(r)
elif view == "review":
    review = experiments.programme_review(rows)
    c = st.columns(5)
    c[0].metric("Experiments", review["experiments"])
    c[1].metric("Decided", review["decided"])
    c[2].metric("Archived", review["archived"])
    c[3].metric("Win rate", "–" if review["win_rate"] is None else f"{review['win_rate']:.0%}",
                help="Won among decided and archived experiments with a valid result (won, "
                     "lost or inconclusive).")
    c[4].metric("Median duration", "–" if review["median_duration_days"] is None
                else plural(round(review["median_duration_days"]), "day"))
    try:
        funnel = workspace_funnel(db)
    except GrowthLabError as exc:  # such as a file overwritten on disk since its upload
        report(exc)
        funnel = None
    gap_key = funnel.success_gap["to"] if funnel and funnel.success_gap else None
    st.plotly_chart(charts.coverage_heatmap(rows, list(names.items()), list(loops), gap_key))
    if gap_key:
        at_gap = sum(r["milestone_key"] == gap_key for r in rows)
        st.markdown(f"The success gap is at **{names[gap_key]}**: {at_gap} of {len(rows)} "
                    "experiments here target it.")
    st.plotly_chart(charts.cadence(review["weekly"]))
    per_squad = []
    for squad in squads:
        mine = [r for r in rows if r["squad"] == squad]
        if mine:
            rv = experiments.programme_review(mine)
            per_squad.append({"squad": squad, "experiments": rv["experiments"],
                              "running": rv["running"], "decided": rv["decided"],
                              "archived": rv["archived"],
                              "win rate": rv["win_rate"],
                              "median days": rv["median_duration_days"]})
    st.dataframe(display_table(per_squad), hide_index=True, width="stretch",
                 column_config={"win rate": st.column_config.NumberColumn(format="percent")})
else:
    table = experiments.list_rows(rows, names)
    c = st.columns([4, 1])
    c[0].caption(f"{plural(len(rows), 'experiment')}; backlog ranked by ICE (mean over "
                 "scorers; ± shows how much scorers disagree, blank with a single scorer). "
                 "Select a row to open the experiment.")
    c[1].download_button("Download the list (CSV)", experiments.listing_csv(rows, names),
                         "experiments.csv", "text/csv", icon=":material/download:")
    picked = st.dataframe(
        display_table(table), hide_index=True, width="stretch", key="experiment-list",
        height=LIST_ROW * (len(table) + 1) + 3, on_select="rerun", selection_mode="single-row",
        column_config={
            "key": st.column_config.TextColumn(width=70, pinned=True),
            "title": st.column_config.TextColumn(width=320, pinned=True),
            "status": st.column_config.TextColumn(width=80),
            "ICE": st.column_config.NumberColumn(format="%.0f", width=50),
            "ICE spread": st.column_config.TextColumn("±", width=50,
                                                      help=experiments.ICE_SPREAD_HELP),
            "RICE": st.column_config.NumberColumn(format="%.0f", width=60),
            "result": st.column_config.TextColumn(width=100),
            "decision": st.column_config.TextColumn(width=80)})
    if picked.selection.rows:
        st.switch_page("pages/experiment.py",
                       query_params={"id": rows[picked.selection.rows[0]]["id"]})

st.divider()
st.subheader("Log an idea")
st.caption(f"Write the hypothesis as: *{experiments.HYPOTHESIS_HINT}*")
title = st.text_input("Title", key="new-title", placeholder="Export nudge after the second list")
hypothesis = st.text_area("Hypothesis", key="new-hypothesis", placeholder=(
    "We believe an export prompt for users with two lists will help them export, measured by "
    "Value realization."))
if hypothesis or title:
    missing = experiments.check_hypothesis(hypothesis)
    if hypothesis and missing:
        st.caption("The hypothesis is missing " + ", ".join(missing) + ".")
    similar = learnings.search(db, f"{title} {hypothesis}"[:300], limit=4, any_word=True)
    if similar:
        st.markdown("**Similar past work**: read before you repeat it")
        for hit in similar:
            st.markdown(f"- *{hit.kind}* **{learnings.escape_markdown(hit.title)}**")
            st.html(f"<div style='font-size:.85rem;margin:-.5rem 0 .4rem 1.4rem'>"
                    f"{hit.snippet_html}</div>")
with st.form("new-experiment"):
    c = st.columns(3)
    milestone = c[0].selectbox("Funnel stage / milestone", list(names) or ["(none)"],
                               format_func=lambda k: names.get(k, k))
    loop = c[1].selectbox("Loop", ["(none)"] + list(loops))
    area = c[2].selectbox("Product area", ["(none)"] + list(areas))
    c = st.columns(3)
    squad = c[0].selectbox("Squad", ["(none)"] + list(squads))
    acquisition = c[1].selectbox("Expected effect on acquisition", experiments.EFFECTS, index=3)
    retention = c[2].selectbox("Expected effect on retention", experiments.EFFECTS, index=3)
    kr = st.selectbox("Key result it pushes", ["(none)"] + list(krs))
    variants_text = st.text_input("Variants and planned split", value="control:50, treatment:50",
                                  help="name:share, separated by commas")
    if st.form_submit_button("Log idea", type="primary"):
        try:
            variants = experiments.parse_variants(variants_text)
            new_id = experiments.create(
                db, title=title, hypothesis=hypothesis, squad_id=squads.get(squad),
                milestone_key=milestone if milestone in names else None,
                loop_id=loops.get(loop), product_area_id=areas.get(area),
                key_result_id=krs.get(kr), expected_acquisition=acquisition,
                expected_retention=retention, variants=variants, owner=actor(), actor=writer())
            changed("Idea logged")
            st.switch_page("pages/experiment.py", query_params={"id": new_id})
        except Exception as exc:  # noqa: BLE001
            report(exc)
