"""The Research page under AppTest: interviews, coding, themes and jobs, the experience map
beside the KPIs, PMF surveys; empty states that say what to do; edits through save_edit."""

from conftest import open_page

from growthlab import research, survey
from growthlab.db import open_workspace


def text_of(at) -> str:
    parts = [m.value for m in at.markdown] + [c.value for c in at.caption]
    for kind in ("info", "warning", "error", "success", "subheader", "title"):
        parts += [e.value for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    parts += [e.label for e in at.expander] + [p.proto.label for p in at.get("page_link")]
    return "\n".join(str(p) for p in parts)


def test_research_page_on_the_demo(demo_workspace):
    at = open_page("research")
    text = text_of(at)
    for phrase in ["Themes, by the interviews that mention them", "Jobs to be done",
                   "When I have a good list but can't get it into our documents, help me",
                   "held by 6 interviews", "aimed at it: EXP-005",
                   "Success gap:** 6", "Thinking", "Feeling", "Very disappointed 38%",
                   "below the 40% line", "Who loves the product", "NPS", "CES"]:
        assert phrase in text, phrase
    assert len(at.get("plotly_chart")) == 2, "by segment and history"
    benefits = at.dataframe[-1].value
    assert benefits["benefit"].iloc[0] == "Exporting lists straight into our documents"


def test_research_page_empty_states(empty_workspace):
    at = open_page("research")
    text = text_of(at)
    for phrase in ["No interviews yet", "No coded passages yet", "No milestones yet",
                   "No PMF survey yet"]:
        assert phrase in text, phrase
    assert not at.get("plotly_chart")


def test_add_an_interview_then_code_a_passage(empty_workspace):
    at = open_page("research")
    next(t for t in at.text_input if t.label.startswith("Participant")).input("Ana")
    next(t for t in at.text_area if t.label.startswith("Notes")).input(
        "> Copying lists into the report takes an afternoon.")
    next(b for b in at.button if b.label == "Add interview").click().run()
    assert not at.exception
    db = open_workspace(empty_workspace)
    assert [r["participant"] for r in research.interviews(db)] == ["Ana"]
    assert "Nothing coded yet" in text_of(at)
    next(t for t in at.text_area if t.label.startswith("Passage")).input(
        "copying lists into the report takes an afternoon")
    next(t for t in at.text_input if t.label.startswith("New theme")).input(
        "copy lists by hand")
    next(b for b in at.button if b.label == "Code passage").click().run()
    assert not at.exception
    assert [(c.kind, c.theme) for c in research.coded(db)] == [("struggle",
                                                               "copy lists by hand")]
    assert "No job yet" in text_of(at)


def test_a_passage_not_in_the_notes_is_refused_on_the_page(demo_workspace):
    at = open_page("research")
    next(t for t in at.text_area if t.label.startswith("Passage")).input("I love it all")
    next(t for t in at.text_input if t.label.startswith("New theme")).input("love")
    next(b for b in at.button if b.label == "Code passage").click().run()
    assert any("is not in this interview's notes" in e.value for e in at.error)


def test_rewording_a_kept_job_is_a_versioned_save(demo_workspace):
    db = open_workspace(demo_workspace)
    at = open_page("research")
    kept = research.kept_jobs(db)[0]
    research.update_job(db, kept["id"], kept["version"], {"statement": "Colleague's words."})
    wording = next(t for t in at.text_input if t.label == "Wording")
    wording.input("When I cannot export, help me export, so I can brief.")
    next(b for b in at.button if b.label == "Save job").click().run()
    assert "changed by someone else since you opened it" in text_of(at)
    assert research.kept_jobs(db)[0]["statement"] == "Colleague's words."


def test_a_search_hit_on_a_passage_opens_its_interview(demo_workspace):
    db = open_workspace(demo_workspace)
    excerpt = db.execute("SELECT x.id, i.participant FROM excerpts x JOIN interviews i "
                         "ON i.id = x.interview_id WHERE x.text LIKE '%PowerPoint%'").fetchone()
    at = open_page("research", excerpt=str(excerpt[0]))
    assert excerpt[1] in [s.value for s in at.subheader]
    at = open_page("learnings", q="PowerPoint")
    assert "interview (1)" in at.multiselect(key="facet-kind").options


def test_surveys_sit_beside_each_other_in_history(empty_workspace):
    db = open_workspace(empty_workspace)
    survey.import_survey(db, name="Only one", taken_on="2026-05-01", responses=[
        survey.Response("r1", "very disappointed", "Agency", benefit="Speed")])
    at = open_page("research")
    assert len(at.get("plotly_chart")) == 1, "no history chart for a single survey"
    # One answer at 100% has not shown product-market fit; the page says so.
    assert ("(95% interval 20.7% to 100.0%): meets the 40% line, but its 95% interval spans "
            "the line: 1 answer cannot tell which side it is on." in text_of(at))


def test_a_workspace_with_too_many_candidate_jobs_says_so_instead_of_hanging(empty_workspace):
    # As an imported archive could hold: 47 themes of each kind coded in one interview.
    db = open_workspace(empty_workspace)
    first = research.add_interview(db, participant="Ana", day="2026-02-01", notes="all of it")
    for kind in research.KINDS:
        for n in range(47):
            db["excerpts"].insert({"interview_id": first, "text": "all of it",
                                   "theme_id": research.theme_id(db, kind, f"{kind} {n}"),
                                   "created_at": "2026-02-01T00:00:00"})
    at = open_page("research")
    assert "103,823 candidate jobs (limit 100,000)" in text_of(at)
    assert "No job yet" not in text_of(at)


def test_the_experience_map_says_which_themes_are_struggles(demo_workspace):
    # A leader reading why customers stall must tell a struggle from a motivation at a glance.
    at = open_page("research")
    cells = [m.value for m in at.markdown if "quote" in m.value and m.value.startswith("- ")]
    assert cells and all(line.startswith(("- **Struggle:**", "- **Motivation:**",
                                          "- **Desired outcome:**"))
                         for cell in cells for line in cell.splitlines())
    assert any("- **Struggle:** have a good list but can't get it into our documents (3 quotes"
               in cell for cell in cells), cells


def test_a_theme_named_in_markdown_is_shown_as_written(empty_workspace):
    # Expander labels render markdown: a theme could load an outside image or fake a link.
    db = open_workspace(empty_workspace)
    first = research.add_interview(db, participant="Ana", day="2026-02-01", notes="it hurts")
    research.code_passage(db, first, text="it hurts", kind="struggle",
                          theme="![pixel](http://evil.example/p.png) **loud**")
    at = open_page("research")
    [label] = [e.label for e in at.expander if e.label.startswith("Struggle")]
    assert "](http" not in label and "**loud**" not in label, label
    assert label.endswith("(1 interview)"), label
