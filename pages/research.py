"""Research: what customers say beside the numbers. Interviews coded into themes, jobs to be
done, the customer-experience map per milestone, and product-market-fit surveys."""

from datetime import date

import streamlit as st

from growthlab import charts, clock, research, survey
from growthlab.errors import GrowthLabError
from growthlab.io import display_table, percent, plural
from growthlab.learnings import escape_markdown, render_markdown
from pages._shared import (
    attempt,
    milestones,
    opened,
    report,
    require_app,
    save_edit,
    show_refusal,
    widget_key,
    workspace,
    workspace_funnel,
    writer,
)

NEW_THEME = "(a new theme: type it below)"
TOP_JOBS = 10

require_app(__file__)
db = workspace()
params = st.query_params
st.title("Research")
st.caption("What customers say, beside the numbers: code interviews into struggles, "
           "motivations and desired outcomes; the themes make the jobs to be done, and the "
           "experience map puts them on each milestone next to its KPI.")
show_refusal()
ms = milestones(db)
names = {m.key: m.name for m in ms}
coded = research.coded(db)
interviews_tab, jobs_tab, map_tab, pmf_tab = st.tabs(
    ["Interviews", "Themes & jobs", "Experience map", "PMF survey"])


def quote_line(c: research.Coded) -> str:
    where = " · ".join(x for x in (names.get(c.milestone, c.milestone), c.lens) if x)
    return (f"> {escape_markdown(c.excerpt)}\n>\n> — {escape_markdown(c.participant)}"
            f"{', ' + escape_markdown(c.segment) if c.segment else ''}"
            f"{' · ' + where if where else ''}")


def code_form(interview: dict) -> None:
    with st.form(f"code-{interview['id']}", clear_on_submit=True):
        st.markdown("**Code a passage**")
        text = st.text_area("Passage (copy the customer's words from the notes)")
        c = st.columns(2)
        kind = c[0].selectbox("Kind", research.KINDS, format_func=research.KIND_LABELS.get)
        picked = c[1].selectbox("Theme", [NEW_THEME, *research.theme_names(db)])
        new_theme = st.text_input("New theme (words that fit the job statement, e.g. 'have a "
                                  "good list but can't get it into our documents')")
        c = st.columns(2)
        milestone = c[0].selectbox("Milestone (optional)", [None, *names],
                                   format_func=lambda k: "—" if k is None else names[k])
        lens = c[1].selectbox("Lens (optional)", [None, *research.LENSES],
                              format_func=lambda v: "—" if v is None else v)
        if st.form_submit_button("Code passage", type="primary"):
            theme = new_theme if new_theme.strip() or picked == NEW_THEME else picked
            attempt(lambda: research.code_passage(
                db, interview["id"], text=text, kind=kind, theme=theme, milestone=milestone,
                lens=lens, actor=writer()), "Passage coded")


def edit_form(interview: dict) -> None:
    base = opened("interview", interview["id"], interview)
    with st.expander("Edit this interview"), st.form(f"edit-interview-{base['id']}"):
        participant = st.text_input("Participant", base["participant"],
                                    key=widget_key("i-who", base))
        segment = st.text_input("Segment", base["segment"], key=widget_key("i-segment", base))
        day = st.date_input("Date", date.fromisoformat(base["date"]),
                            key=widget_key("i-date", base))
        notes = st.text_area("Notes (markdown)", base["notes"], height=240,
                             key=widget_key("i-notes", base))
        if st.form_submit_button("Save interview"):
            save_edit("interview", base, lambda: {
                "participant": participant, "segment": segment, "date": day.isoformat(),
                "notes": notes}, lambda changes: research.update_interview(
                db, base["id"], base["version"], changes, actor=writer()), "Interview saved")


def show_interview(interview: dict) -> None:
    st.subheader(escape_markdown(interview["participant"]))
    st.caption(f"{escape_markdown(interview['segment']) or 'no segment'} · {interview['date']} "
               f"· interviewed by {escape_markdown(interview['author']) or 'unknown'}")
    st.html(render_markdown(interview["notes"]) if interview["notes"] else
            "<p><em>No notes yet: edit the interview to add them.</em></p>")
    passages = research.passages(db, interview["id"])
    if passages:
        st.dataframe(display_table(
            [{"kind": p["kind"], "theme": p["theme"], "passage": p["text"],
              "milestone": names.get(p["milestone_key"], p["milestone_key"]), "lens": p["lens"]}
             for p in passages]), hide_index=True)
    else:
        st.info("Nothing coded yet. Copy a passage from the notes into the form below and say "
                "whether it is a struggle, a motivation or a desired outcome.",
                icon=":material/format_quote:")
    code_form(interview)
    edit_form(interview)


def theme_card(t: research.Theme) -> None:
    """A theme's quotes, the learnings citing it, and a form to cite it from a learning."""
    with st.expander(f"{research.KIND_LABELS[t.kind]}: {escape_markdown(t.theme)} "
                     f"({t.interviews} interview{'s' if t.interviews != 1 else ''})"):
        st.markdown("\n\n".join(quote_line(c) for c in t.quotes))
        theme = research.theme_ids(db)[(t.kind, t.theme)]
        for learning in research.citing(db, theme_id=theme)["learnings"]:
            st.page_link("pages/learnings.py", label="cited by: "
                         f"{escape_markdown(learning['title'])}",
                         query_params={"learning": learning["id"]}, icon=":material/lightbulb:")
        options = {r["id"]: r["title"] for r in db.query(
            "SELECT id, title FROM learnings ORDER BY id DESC")}
        with st.form(f"cite-theme-{theme}"):
            c = st.columns([4, 1])
            learning = c[0].selectbox("A learning that cites this theme", list(options),
                                      format_func=options.get)
            if c[1].form_submit_button("Cite") and learning is not None:
                attempt(lambda: research.cite(db, theme_id=theme, learning_id=learning,
                                              actor=writer()), "Theme cited")


def job_card(i: int, job: research.Job, experiments_list: dict[int, str]) -> None:
    """A candidate job: wording (the team's when kept), evidence, what aims at it."""
    kept = research.stored_job(db, job)
    with st.container(border=True):
        wording = kept["statement"] if kept else job.statement
        st.markdown(f"**{escape_markdown(wording)}**"
                    f"{'  :green-badge[adopted]' if kept and kept['adopted'] else ''}")
        st.caption(f"held by {plural(job.interviews, 'interview')}")
        with st.expander("Evidence"):
            st.markdown("\n\n".join(quote_line(c)
                                    for c in research.evidence(coded, job)))
        if kept:
            cited = research.citing(db, job_id=kept["id"])
            for e in cited["experiments"]:
                st.page_link("pages/experiment.py", label=f"aimed at it: {e['key']} "
                             f"{escape_markdown(e['title'])} "
                             f"({e['result'] or e['status']})",
                             query_params={"id": e["id"]}, icon=":material/science:")
            for learning in cited["learnings"]:
                st.page_link("pages/learnings.py", label="cited by: "
                             f"{escape_markdown(learning['title'])}",
                             query_params={"learning": learning["id"]},
                             icon=":material/lightbulb:")
        base = opened("job", kept["id"], kept) if kept else None
        with st.form(f"job-{i}"):
            c = st.columns([4, 1])
            key = widget_key("j-text", base) if base else f"j-text-new-{i}"
            text = c[0].text_input("Wording", base["statement"] if base else wording,
                                   key=key)
            adopt = c[1].checkbox("Adopted", bool(base and base["adopted"]),
                                  key=f"{key}-adopted")
            if st.form_submit_button("Save job"):
                if base:
                    save_edit("job", base, lambda: {"statement": text,
                                                    "adopted": int(adopt)},
                              lambda changes: research.update_job(
                                  db, base["id"], base["version"], changes,
                                  actor=writer()), "Job saved")
                else:
                    attempt(lambda: research.keep_job(
                        db, job, wording=text, adopted=adopt, actor=writer()),
                        "Job saved")
        with st.form(f"aim-{i}"):
            c = st.columns([4, 1])
            aim = c[0].selectbox("Aim an experiment at this job", list(experiments_list),
                                 format_func=experiments_list.get, key=f"aim-pick-{i}")
            if c[1].form_submit_button("Aim it") and aim is not None:
                attempt(lambda: research.aim(db, job, aim, actor=writer()),
                        "Experiment aimed at the job")


with interviews_tab:
    rows = research.interviews(db)
    if not rows:
        st.info("No interviews yet. Talk to your best customers (paying, recently converted, "
                "reached value), then add each conversation below and code what they said.",
                icon=":material/record_voice_over:")
    else:
        wanted = params.get("interview")
        if params.get("excerpt", "").isdigit():
            wanted = str(research.interview_of(db, int(params["excerpt"])))
        ids = [r["id"] for r in rows]
        labels = {r["id"]: f"{r['participant']} · {r['segment'] or 'no segment'} · {r['date']} "
                           f"· {r['coded']} coded" for r in rows}
        chosen = st.selectbox("Interview", ids, format_func=labels.get,
                              index=ids.index(int(wanted)) if wanted and wanted.isdigit()
                              and int(wanted) in ids else 0)
        params["interview"] = str(chosen)
        with st.container(border=True):
            show_interview(next(r for r in rows if r["id"] == chosen))
    with st.expander("Add an interview", expanded=not rows), st.form("new-interview",
                                                                      clear_on_submit=True):
        c = st.columns(3)
        who = c[0].text_input("Participant (a name or an alias)")
        segment = c[1].text_input("Segment (e.g. Agency)")
        day = c[2].date_input("Date", clock.today())
        notes = st.text_area("Notes (markdown): their words as said", height=200)
        if st.form_submit_button("Add interview", type="primary"):
            attempt(lambda: research.add_interview(db, participant=who, segment=segment,
                                                   day=day, notes=notes, actor=writer()),
                    "Interview added")

with jobs_tab:
    if not coded:
        st.info("No coded passages yet. Open an interview and code what the customer said as "
                "a struggle, a motivation or a desired outcome: themes and jobs to be done "
                "appear here.", icon=":material/label:")
    else:
        st.subheader("Themes, by the interviews that mention them")
        ranked = research.themes(coded)
        st.dataframe(display_table([{"kind": research.KIND_LABELS[t.kind],
                                     "theme": t.theme, "interviews": t.interviews,
                                     "quotes": len(t.quotes)} for t in ranked]),
                     hide_index=True)
        for t in ranked[:6]:
            theme_card(t)

        st.subheader("Jobs to be done")
        st.caption("When I <struggle>, help me <motivation>, so I can <desired outcome>: "
                   "from themes coded in the same interview, ranked by how many interviews "
                   "hold all three. Reword a job and adopt the ones the team works on.")
        try:
            candidates = research.jobs(coded)
        except GrowthLabError as exc:
            report(exc)
            candidates = None
        if candidates == []:
            st.info("No job yet: a job needs a struggle, a motivation and a desired outcome "
                    "coded in the same interview.", icon=":material/work:")
        experiments_list = {r["id"]: f"{r['key']} {r['title']}" for r in db.query(
            "SELECT id, key, title FROM experiments ORDER BY id DESC")}
        for i, job in enumerate((candidates or [])[:TOP_JOBS]):
            job_card(i, job, experiments_list)

with map_tab:
    if not ms:
        st.info("No milestones yet. Define them on the Milestones page: the map places what "
                "customers think, do and feel on each one.", icon=":material/conversion_path:")
    else:
        cells = research.cx_map(coded, list(names))
        try:
            funnel = workspace_funnel(db)
        except GrowthLabError as exc:
            report(exc)
            funnel = None
        shares = {m["key"]: m for m in funnel.milestones} if funnel else {}
        gap = funnel.success_gap if funnel else None
        if not cells:
            st.info("No passage is placed on a milestone yet. When you code a passage, pick the "
                    "milestone and whether it is what the customer was thinking, doing or "
                    "feeling.", icon=":material/map:")
        header = st.columns([2, 1, 3, 3, 3])
        for column, label in zip(header, ["Milestone", "KPI", "Thinking", "Doing", "Feeling"],
                                 strict=True):
            column.markdown(f"**{label}**")
        for m in ms:
            row = st.columns([2, 1, 3, 3, 3])
            marker = (f"  \n:red[:material/target: **Success gap:** {percent(gap['drop'])} lost "
                      f"from {escape_markdown(gap['from_name'])}]"
                      if gap and gap["to"] == m.key else "")
            row[0].markdown(f"**{escape_markdown(m.name)}**  \n{escape_markdown(m.phase)}"
                            f"{marker}")
            kpi = shares.get(m.key)
            row[1].markdown("—" if not kpi or kpi["share"] is None else percent(kpi['share']))
            for column, lens in zip(row[2:], research.LENSES, strict=True):
                here = [c for c in cells if c.milestone == m.key and c.lens == lens][:3]
                column.markdown("\n".join(
                    f"- **{research.KIND_LABELS[c.kind]}:** {escape_markdown(c.theme)} "
                    f"({len(c.quotes)} quote"
                    f"{'s' if len(c.quotes) != 1 else ''}, {c.interviews} interview"
                    f"{'s' if c.interviews != 1 else ''})" for c in here) or "·")

with pmf_tab:
    taken = survey.surveys(db)
    if not taken:
        st.info("No PMF survey yet. Ask your active users \"How would you feel if you could no "
                "longer use the product?\" and import the answers below as CSV.",
                icon=":material/poll:")
    else:
        ids = [s["id"] for s in taken]
        labels = {s["id"]: f"{s['name']} · {s['taken_on']} · {plural(s['responses'], 'response')}"
                  for s in taken}
        chosen = st.selectbox("Survey", ids, format_func=labels.get, key="survey-pick")
        summary = survey.summarise(survey.responses(db, chosen))
        overall = summary["pmf"]
        c = st.columns(3)
        if overall["share"] is None:
            c[0].metric("Very disappointed", "—")
        else:
            c[0].metric("Very disappointed", f"{overall['share']:.0%}",
                        help=f"{overall['very_disappointed']:,} of {overall['answered']:,} who "
                             "still use the product; 95% Wilson interval "
                             f"{overall['ci_low']:.0%} to {overall['ci_high']:.0%}")
            st.caption(f"Product-market fit: {overall['share']:.1%} (95% interval "
                       f"{overall['ci_low']:.1%} to {overall['ci_high']:.1%}): "
                       f"{survey.verdict(overall)}.")
        nps, ces = summary["nps"], summary["ces"]
        c[1].metric("NPS", "—" if nps["score"] is None else f"{nps['score']:+.0f}",
                    help=f"% promoters (9-10) minus % detractors (0-6) of {nps['answered']:,}")
        c[2].metric("CES", "—" if ces["mean"] is None else f"{ces['mean']:.2f}",
                    help=f"mean customer effort score (1-7) of {ces['answered']:,}")
        st.plotly_chart(charts.pmf_by_segment(overall, summary["by_segment"]))
        st.markdown("**Who loves the product, and why**: the main benefit the \"very "
                    "disappointed\" group names")
        if summary["main_benefit"]:
            st.dataframe(display_table(summary["main_benefit"]), hide_index=True,
                         column_config={"share": st.column_config.NumberColumn(format="percent")})
        else:
            st.caption("No benefit named: add a benefit column to the survey.")
        history = survey.history(db)
        if len(history) > 1:
            st.plotly_chart(charts.pmf_history(history))
    with st.expander("Import a survey", expanded=not taken), st.form("import-survey",
                                                                      clear_on_submit=True):
        st.caption("CSV columns: respondent_id, pmf (very disappointed | somewhat disappointed "
                   "| not disappointed | no longer use) and optional segment, ces (1-7), "
                   "nps (0-10), benefit.")
        upload = st.file_uploader("Responses (CSV)", type=["csv"])
        c = st.columns(2)
        name = c[0].text_input("Survey name", "PMF survey")
        day = c[1].date_input("Closed on", clock.today())
        if st.form_submit_button("Import survey", type="primary") and upload is not None:
            attempt(lambda: survey.import_survey(
                db, name=name, taken_on=day, actor=writer(), responses=survey.parse_responses_csv(
                    upload.getvalue(), upload.name)),
                "Survey imported")
