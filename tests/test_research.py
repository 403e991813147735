"""Customer research: themes, jobs and the CX map counted by hand; the CLI contract; the
workspace's interviews, coding, kept jobs, citations and search."""

import json

import pytest

from growthlab import experiments, learnings, research
from growthlab.cli import main
from growthlab.db import open_workspace
from growthlab.errors import InputError, StaleEditError

HEADER = "interview_id,participant,segment,date,kind,theme,excerpt,milestone,lens"
# Three interviews. Hand count:
#   i1: struggle A, B; motivation M; outcome O      -> jobs (A,M,O), (B,M,O)
#   i2: struggle A;    motivation M, N; outcome O   -> jobs (A,M,O), (A,N,O)
#   i3: struggle B;    motivation M;    outcome P   -> job  (B,M,P)
# so (A,M,O) is held by 2 interviews, every other job by 1 (then by name: A-N-O, B-M-O,
# B-M-P). Themes by interviews: M 3; A 2, B 2, O 2 (by name); N 1, P 1.
ROWS = [
    "i1,Ana,Agency,2026-01-05,struggle,A,\"Exports, every week, by hand\",value_realization,"
    "feeling",
    "i1,Ana,Agency,2026-01-05,struggle,B,Blank page,interest,thinking",
    "i1,Ana,Agency,2026-01-05,motivation,M,One click,,",
    "i1,Ana,Agency,2026-01-05,outcome,O,Reuse it,,",
    "i2,Bo,In-house,2026-01-06,Struggle,A,Copying lists again,value_realization,FEELING",
    "i2,Bo,In-house,2026-01-06,motivation,M,Straight into docs,value_realization,doing",
    "i2,Bo,In-house,2026-01-06,motivation,N,Templates,,",
    "i2,Bo,In-house,2026-01-06,outcome,O,No rework,,",
    "i3,Cy,Agency,2026-01-07,struggle,B,Where to start,interest,thinking",
    "i3,Cy,Agency,2026-01-07,motivation,M,Fewer steps,,",
    "i3,Cy,Agency,2026-01-07,outcome,P,Report on time,,",
]


@pytest.fixture
def interviews_csv(tmp_path):
    path = tmp_path / "interviews.csv"
    path.write_text("\n".join([HEADER, *ROWS]) + "\n")
    return path


def test_research_json_ranks_themes_and_jobs_as_counted_by_hand(interviews_csv, capsys):
    assert main(["research", str(interviews_csv), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["interviews"] == 3
    assert [(t["theme"], t["kind"], t["interviews"], t["excerpts"]) for t in out["themes"]] == [
        ("M", "motivation", 3, 3), ("A", "struggle", 2, 2), ("B", "struggle", 2, 2),
        ("O", "outcome", 2, 2), ("N", "motivation", 1, 1), ("P", "outcome", 1, 1)]
    assert [(j["struggle"], j["motivation"], j["outcome"], j["interviews"])
            for j in out["jobs"]] == [("A", "M", "O", 2), ("A", "N", "O", 1),
                                      ("B", "M", "O", 1), ("B", "M", "P", 1)]
    assert out["jobs"][0]["statement"] == "When I A, help me M, so I can O."
    assert out["cx_map"] == [
        {"milestone": "value_realization", "lens": "doing", "theme": "M", "interviews": 1},
        {"milestone": "value_realization", "lens": "feeling", "theme": "A", "interviews": 2},
        {"milestone": "interest", "lens": "thinking", "theme": "B", "interviews": 2}]


def test_cx_map_follows_the_funnel_order_given():
    coded = research.parse_interviews_csv(("\n".join([HEADER, *ROWS]) + "\n").encode())
    cells = research.cx_map(coded, ["problem", "interest", "value_realization"])
    assert [c.milestone for c in cells] == ["interest", "value_realization", "value_realization"]


def test_text_output_lists_the_top_job(interviews_csv, capsys):
    assert main(["research", str(interviews_csv)]) == 0
    out = capsys.readouterr().out
    assert "3 interviews" in out and "job (2 interview(s)): When I A, help me M" in out


@pytest.mark.parametrize("row,column,message", [
    ("i9,Di,X,2026-01-01,pain,A,q,,", "kind", "'pain' is not a kind"),
    ("i9,Di,X,2026-01-01,struggle,A,q,interest,hearing", "lens", "'hearing' is not a lens"),
    ("i9,Di,X,2026-13-01,struggle,A,q,,", "date", "not a date"),
    ("i9,Di,X,2026-01-01,struggle,,q,,", "theme", "is empty"),
    ("i9,,X,2026-01-01,struggle,A,q,,", "participant", "is empty"),
    ("i9,Di,X,2026-01-01,struggle,=A(1),q,,", "theme", "'=A(1)' starts like a spreadsheet"),
])
def test_bad_rows_name_file_line_and_column(tmp_path, capsys, row, column, message):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, ROWS[0], row]) + "\n")
    assert main(["research", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:3: column {column}: ") and message in err


def test_an_interview_with_two_participants_names_both_lines(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, ROWS[0], ROWS[1].replace("Ana", "Ann")]) + "\n")
    assert main(["research", str(path)]) == 2
    assert "bad.csv:3: column participant: interview 'i1' has another participant" in (
        capsys.readouterr().err)


@pytest.fixture
def db(tmp_path):
    return open_workspace(tmp_path / "w.db")


NOTES = ("We talked for 40 minutes.\n\n> I save great results but copying a list into the "
         "report takes an afternoon.\n\n> I want it in the doc in one click so we reuse the "
         "research.")


def interview(db, who="Ana", notes=NOTES):
    return research.add_interview(db, participant=who, segment="Agency", day="2026-02-01",
                                  notes=notes)


def code_job(db, interview_id):
    research.code_passage(db, interview_id, text="copying a list into the report takes an "
                          "afternoon", kind="struggle", theme="copy lists by hand")
    research.code_passage(db, interview_id, text="in the doc in one click", kind="motivation",
                          theme="get a list into my doc in one click")
    research.code_passage(db, interview_id, text="we  reuse the research", kind="outcome",
                          theme="reuse research")


def test_coding_passages_makes_the_job_they_support(db):
    code_job(db, interview(db))
    [job] = research.jobs(research.coded(db))
    assert job.statement == ("When I copy lists by hand, help me get a list into my doc in one "
                             "click, so I can reuse research.")
    assert job.evidence == ["1"]


def test_a_passage_must_be_the_customers_words(db):
    first = interview(db)
    with pytest.raises(InputError, match="not in this interview's notes"):
        research.code_passage(db, first, text="I love everything", kind="struggle", theme="x")
    with pytest.raises(InputError, match="not a lens"):
        research.code_passage(db, first, text="one click", kind="motivation", theme="x",
                              lens="smell")
    with pytest.raises(InputError, match="not one of the workspace's milestones"):
        research.code_passage(db, first, text="one click", kind="motivation", theme="x",
                              milestone="nowhere")
    assert db["excerpts"].count == 0 and db["themes"].count == 0


def test_kept_job_wording_is_versioned_and_adoptable(db):
    code_job(db, interview(db))
    [job] = research.jobs(research.coded(db))
    job_id = research.keep_job(db, job)
    assert research.keep_job(db, job) == job_id
    kept = research.stored_job(db, job)
    research.update_job(db, job_id, kept["version"], {"statement": "When I copy lists, help "
                        "me export, so I can reuse.", "adopted": True})
    with pytest.raises(StaleEditError):
        research.update_job(db, job_id, kept["version"], {"adopted": False})
    [row] = research.kept_jobs(db)
    assert row["adopted"] == 1 and row["statement"].startswith("When I copy lists, help")


def test_experiments_and_learnings_cite_jobs_and_themes(db):
    code_job(db, interview(db))
    [job] = research.jobs(research.coded(db))
    job_id = research.keep_job(db, job, adopted=True)
    exp = experiments.create(db, title="Export to Docs")
    learning = learnings.create(db, title="Lists are reused", body="Teams reuse lists.")
    research.cite(db, job_id=job_id, experiment_id=exp)
    research.cite(db, job_id=job_id, experiment_id=exp)  # twice is once
    theme = research.theme_ids(db)[("struggle", "copy lists by hand")]
    research.cite(db, theme_id=theme, learning_id=learning)
    cited = research.citing(db, job_id=job_id)
    assert [e["title"] for e in cited["experiments"]] == ["Export to Docs"]
    assert research.citing(db, theme_id=theme)["learnings"][0]["title"] == "Lists are reused"
    assert research.cited_by(db, experiment_id=exp) == [{"text": job.statement, "kind": "job"}]
    with pytest.raises(InputError):
        research.cite(db, job_id=job_id, theme_id=theme, experiment_id=exp)
    experiments_row = experiments.get(db, exp)
    db.execute("DELETE FROM experiments WHERE id = ?", [experiments_row["id"]])
    assert research.citing(db, job_id=job_id)["experiments"] == []


def test_interview_notes_passages_and_jobs_are_searchable(db):
    first = interview(db)
    code_job(db, first)
    research.keep_job(db, research.jobs(research.coded(db))[0], adopted=True)
    hits = learnings.search(db, "afternoon")
    assert {h.kind for h in hits} == {"interview", "excerpt"}
    assert "<mark>afternoon</mark>" in hits[0].snippet_html
    job_hits = learnings.search(db, "click", kind="job")
    assert job_hits and job_hits[0].title.startswith("When I copy lists by hand")
    research.update_interview(db, first, 1, {"notes": NOTES.replace("afternoon", "evening")})
    assert [h.kind for h in learnings.search(db, "afternoon")] == ["excerpt"]


def test_interview_needs_a_participant_and_a_date(db):
    with pytest.raises(InputError, match="participant"):
        research.add_interview(db, participant=" ", day="2026-01-01")
    with pytest.raises(InputError, match="not a date"):
        research.add_interview(db, participant="Ana", day="yesterday")


def research_workspace(path):
    from growthlab import survey

    db = open_workspace(path)
    first = interview(db)
    code_job(db, first)
    job_id = research.keep_job(db, research.jobs(research.coded(db))[0], adopted=True)
    research.cite(db, job_id=job_id, experiment_id=experiments.create(db, title="Docs export"))
    survey.import_survey(db, name="Spring", taken_on="2026-03-01", responses=[
        survey.Response("r1", "very disappointed", "Agency", 2, 9, "Export")])
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    return path


TABLES = ("interviews", "themes", "excerpts", "jobs", "research_citations", "surveys",
          "survey_responses")


def test_export_and_import_keep_every_research_row(tmp_path):
    from growthlab.backup import export_workspace, import_workspace

    source = research_workspace(tmp_path / "a" / "growthlab.db")
    export_workspace(source, tmp_path / "backup.zip")
    target = tmp_path / "b" / "growthlab.db"
    import_workspace(tmp_path / "backup.zip", target)
    before, after = open_workspace(source), open_workspace(target)
    for table in TABLES:
        rows = after.execute(f"SELECT * FROM {table}").fetchall()
        assert rows and rows == before.execute(f"SELECT * FROM {table}").fetchall(), table
    assert {h.kind for h in learnings.search(after, "afternoon")} == {"interview", "excerpt"}
    assert learnings.search(after, "click", kind="job")


@pytest.mark.parametrize("sql,words", [
    ("UPDATE interviews SET date = 'someday'", "table interviews: date: row 1: 'someday'"),
    ("UPDATE themes SET name = ' padded'", "table themes: name: row 1"),
    ("UPDATE surveys SET taken_on = 'soon'", "table surveys: taken_on: row 1"),
    ("UPDATE jobs SET statement = ' '", "table jobs: statement: row 1"),
    ("UPDATE excerpts SET text = ''", "table excerpts: passage: row 1"),
    ("PRAGMA ignore_check_constraints = ON; UPDATE survey_responses SET pmf = 'meh'",
     "survey_responses"),
])
def test_an_archive_with_research_rows_the_app_would_not_store_is_refused(tmp_path, capsys,
                                                                          sql, words):
    import sqlite3
    import zipfile

    from growthlab.backup import export_workspace

    source = research_workspace(tmp_path / "a" / "growthlab.db")
    conn = sqlite3.connect(source)
    conn.executescript(sql)
    conn.close()
    export_workspace(source, tmp_path / "bad.zip")
    assert zipfile.is_zipfile(tmp_path / "bad.zip")
    target = research_workspace(tmp_path / "b" / "growthlab.db")
    assert main(["--workspace", str(target), "import", str(tmp_path / "bad.zip")]) == 2
    err = capsys.readouterr().err
    assert words in err, err
    assert open_workspace(target)["interviews"].count == 1


def test_demo_research_tells_the_events_story(demo_template):
    from growthlab import survey
    from growthlab.kpis import funnel, load_from_workspace

    db = open_workspace(demo_template)
    coded = research.coded(db)
    assert len({c.interview for c in coded}) == 12
    gap = funnel(demo_template.parent / "events", load_from_workspace(db)).success_gap
    assert (gap["from"], gap["to"]) == ("first_value", "value_realization")
    struggle = next(t for t in research.themes(coded) if t.kind == "struggle")
    assert "can't get it into our documents" in struggle.theme
    feeling = [c for c in research.cx_map(coded) if c.milestone == gap["to"]
               and c.lens == "feeling"]
    assert feeling[0].theme == struggle.theme
    top = research.jobs(coded)[0]
    assert top.struggle == struggle.theme and top.interviews == 6
    kept = research.stored_job(db, top)
    assert kept["adopted"] == 1
    assert [e["key"] for e in research.citing(db, job_id=kept["id"])["experiments"]] == [
        "EXP-004", "EXP-005", "EXP-006"]
    latest = survey.surveys(db)[0]
    assert latest["responses"] == 400
    answers = survey.responses(db, latest["id"])
    assert not survey.pmf(answers)["meets_40"]
    assert survey.main_benefits(answers)[0]["benefit"].startswith("Exporting lists")
    assert len(survey.history(db)) == 2


def test_a_file_whose_themes_make_too_many_candidate_jobs_is_refused_at_its_line(tmp_path,
                                                                               capsys):
    # One interview coded with 47 themes of each kind: every struggle x motivation x outcome
    # is a candidate job. After the 46th outcome: 47 * 47 * 46 = 101,614 pairs, beyond
    # 100,000 (45 outcomes make 99,405). Unbounded, 100 of each took 27 s and 1.9 GB.
    rows = [f"i1,Ana,X,2026-01-01,{kind},{kind} {n},q" for kind in research.KINDS
            for n in range(47)]
    path = tmp_path / "heavy.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    assert main(["research", str(path)]) == 2
    err = capsys.readouterr().err
    line = 1 + 47 + 47 + 46
    assert err.startswith(f"error: {path}:{line}: column theme: ") and "100,000" in err, err
    assert "interview 'i1' holds 47 struggle, 47 motivation and 46 outcome themes" in err, err


def test_coding_refuses_a_theme_that_would_make_too_many_candidate_jobs(db):
    notes = " ".join(f"w{n}" for n in range(150))
    first = research.add_interview(db, participant="Ana", day="2026-02-01", notes=notes)
    for n in range(46):
        for kind in research.KINDS:
            research.code_passage(db, first, text=f"w{n}", kind=kind, theme=f"{kind} {n}")
    # 46 of each make 97,336 pairs; a 47th struggle 99,452; then a 47th motivation 101,614.
    research.code_passage(db, first, text="w46", kind="struggle", theme="struggle 46")
    with pytest.raises(InputError, match="100,000") as err:
        research.code_passage(db, first, text="w46", kind="motivation", theme="motivation 46")
    assert err.value.field == "theme"
    research.code_passage(db, first, text="w47", kind="motivation", theme="motivation 3")
    assert len(research.jobs(research.coded(db))) == 47 * 46 * 46


def test_a_theme_spelled_in_another_case_is_the_same_theme(tmp_path, capsys):
    # Exports typed by several researchers: "Manual export" and "manual export" are one theme;
    # counted apart, each showed half its interviews and the job split in two.
    rows = ["i1,Ana,A,2026-01-01,struggle,Manual export,q", "i1,Ana,A,2026-01-01,motivation,M,q",
            "i1,Ana,A,2026-01-01,outcome,O,q", "i2,Bo,A,2026-01-02,struggle,manual  EXPORT,q",
            "i2,Bo,A,2026-01-02,motivation,m,q", "i2,Bo,A,2026-01-02,outcome,O,q"]
    path = tmp_path / "mixed.csv"
    path.write_text("\n".join([HEADER, *rows]) + "\n")
    assert main(["research", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert [(t["theme"], t["interviews"]) for t in out["themes"]] == [
        ("M", 2), ("Manual export", 2), ("O", 2)]
    assert [(j["statement"], j["interviews"]) for j in out["jobs"]] == [
        ("When I Manual export, help me M, so I can O.", 2)]


def test_coding_reuses_a_theme_whatever_its_case(db):
    first, second = interview(db), interview(db, who="Bo")
    research.code_passage(db, first, text="one click", kind="motivation", theme="Éasy export")
    research.code_passage(db, second, text="one click", kind="motivation", theme="éASY Export")
    research.code_passage(db, second, text="one click", kind="outcome", theme="éasy export")
    assert [(t.kind, t.theme, t.interviews) for t in research.themes(research.coded(db))] == [
        ("motivation", "Éasy export", 2), ("outcome", "éasy export", 1)]


@pytest.mark.parametrize("row,column,message", [
    ("i1,Ann,Agency,2026-01-05,struggle,B,q,,", "participant",
     "interview 'i1' has another participant on line 2 ('Ana', here 'Ann')"),
    ("i1,Ana,agency,2026-01-05,struggle,B,q,,", "segment",
     "interview 'i1' has another segment on line 2 ('Agency', here 'agency')"),
    ("i1,Ana,Agency,2026-01-06,struggle,B,q,,", "date",
     "interview 'i1' has another date on line 2 ('2026-01-05', here '2026-01-06')"),
])
def test_an_inconsistent_interview_names_the_column_that_differs(tmp_path, capsys, row,
                                                                 column, message):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, ROWS[0], row]) + "\n")
    assert main(["research", str(path)]) == 2
    assert f"bad.csv:3: column {column}: {message}" in capsys.readouterr().err


def test_a_name_typed_composed_or_decomposed_is_the_same_participant():
    # Two tools wrote "José": one as é, one as e + a combining accent; they look the same.
    rows = ["i1,Jos\u00e9,Agency,2026-01-05,struggle,A,q,,",
            "i1,Jose\u0301,Agency,2026-01-05,outcome,O,q,,"]
    coded = research.parse_interviews_csv("\n".join([HEADER, *rows]).encode())
    assert {c.participant for c in coded} == {"Jos\u00e9"}


def test_a_theme_with_a_formula_after_a_semicolon_is_told_so(tmp_path, capsys):
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([HEADER, 'i1,Ana,A,2026-01-05,struggle,"slow; =1+1",q,,']) + "\n")
    assert main(["research", str(path)]) == 2
    err = capsys.readouterr().err
    assert "starts like" not in err and "after a ';'" in err, err


def test_the_kind_the_page_calls_desired_outcome_reads_as_outcome(tmp_path, capsys):
    # The page labels the kind "Desired outcome"; a file exported with that label must read.
    rows = ["i1,Ana,A,2026-01-01,Struggle,S,q", "i1,Ana,A,2026-01-01,motivation,M,q",
            "i1,Ana,A,2026-01-01,Desired outcome,O,q",
            "i2,Bo,A,2026-01-02,struggle,S,q", "i2,Bo,A,2026-01-02,motivation,M,q",
            "i2,Bo,A,2026-01-02,desired-outcome,O,q"]
    path = tmp_path / "labels.csv"
    path.write_text("\n".join([HEADER.rsplit(",", 2)[0], *rows]) + "\n")
    assert main(["research", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert {(t["kind"], t["theme"]) for t in out["themes"]} == {
        ("struggle", "S"), ("motivation", "M"), ("outcome", "O")}
    assert [j["interviews"] for j in out["jobs"]] == [2]
