"""Learning log: full-text search, hostile queries, facets, safe markdown, exports."""

import csv
import io as stdio
import re
import sqlite3

import pytest

from growthlab import experiments, io, learnings
from growthlab.db import open_workspace
from growthlab.errors import InputError


@pytest.fixture
def db(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="Exporting is where evaluating teams stall",
                     body="Only a quarter of teams reaching first value export twice.",
                     tags=["value_realization", "research"], status="confirmed")
    learnings.create(db, title="Modal tours interrupt",
                     body="Two onboarding experiments with modal tours lowered activation.",
                     tags=["onboarding"], status="supported")
    exp = experiments.create(db, title="Invite teammates from a shared list",
                             hypothesis="We believe an invite box for list owners will grow "
                                        "the viral invite loop, measured by Value growth.",
                             milestone_key="value_growth")
    experiments.update(db, exp, 1, {"conclusion": "Invites from lists raised value growth."})
    return db


def test_search_ranks_title_matches_first_and_highlights(db):
    hits = learnings.search(db, "export")
    assert hits[0].title == "Exporting is where evaluating teams stall"
    assert "**export**" in hits[0].snippet.lower()
    assert "<mark>" in hits[0].snippet_html


def test_prefix_phrase_and_stemming(db):
    assert [h.title for h in learnings.search(db, "onboard*")] == ["Modal tours interrupt"]
    assert learnings.search(db, '"modal tours lowered"')
    assert not learnings.search(db, '"tours modal lowered"')
    assert learnings.search(db, "stalling")  # porter stemmer: stalling ~ stall


def test_experiment_hypotheses_and_conclusions_are_searchable(db):
    hits = learnings.search(db, "viral invite loop", kind="experiment")
    assert hits and hits[0].kind == "experiment" and hits[0].facets["stage"] == "value_growth"
    assert learnings.search(db, "raised value growth", kind="experiment")


HOSTILE = ['"', "(", ")", "AND", "OR NOT", "*", "NEAR(a b)", "title:export", "a -b", "^",
           "'; DROP TABLE learnings; --", "\x00", "💥 émoji", "x" * 5000, '"unclosed phrase',
           "col:* AND (", 'say "a"b"', "export*)", "-", "+x", "{a b}", "a:b:c", "NOT export",
           "exp\u00a0ort", "\"\"", "stall OR", "ex'port", "''", "a AND", "🙂*",
           "onbaording", "ǅǅǅ", "İİİstanbul", "ßßß", "ﬁﬁﬁ", "ΣΑΣ", "Ⅻ", "a" * 3000, "zz " * 200,
           "why do not", "the of and", "exprot*", "check*list", '"set-up check list"',
           '"' + "word " * 50 + '"', "-x-", "co-op-er-a-tion", "e-", "retention*", "b" * 24,
           "check " * 100 + "list", "(a OR b) AND c", "dont don't"]


@pytest.mark.parametrize("query", HOSTILE)
@pytest.mark.parametrize("any_word", [False, True])
def test_hostile_queries_parse(db, query, any_word):
    # search() lets sqlite errors through, so a list here means FTS5 parsed the query
    hits = learnings.search(db, query, any_word=any_word)
    assert isinstance(hits, list)
    assert db["learnings"].count == 2


def test_a_broken_database_is_not_mistaken_for_no_results(db):
    db.execute("DROP TABLE search_index")
    with pytest.raises(sqlite3.OperationalError, match="search_index"):
        learnings.search(db, "export")


def test_facets_filter_results(db):
    hits = learnings.search(db, "t*", limit=50)
    counts = learnings.facet_counts(hits)
    assert counts["status"]["confirmed"] == 1
    confirmed = learnings.search(db, "t*", facets={"status": ["confirmed"]})
    assert [h.title for h in confirmed] == ["Exporting is where evaluating teams stall"]


def test_edits_reindex_and_deletes_unindex(db):
    row = learnings.get(db, 2)
    learnings.update(db, 2, row["version"], {"body": "Inline hints beat carousels."})
    assert learnings.search(db, "carousels")
    assert not learnings.search(db, "\"lowered activation\"")
    db.execute("DELETE FROM learnings WHERE id = 2")
    assert not learnings.search(db, "carousels")


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script>", "[click](javascript:alert(1))",
    "<img src=x onerror=alert(1)>", '<a href="javascript:alert(1)">x</a>',
    "[x](JaVaScRiPt:alert(1))", "<iframe src='https://evil'></iframe>"])
def test_markdown_renders_without_running_html(body):
    rendered = learnings.render_markdown(body).lower()
    tags = re.findall(r"<[^>]+>", rendered)  # escaped text (&lt;...) is not a tag
    assert all(t in ("<p>", "</p>", "</a>") or t.startswith('<a href="http') for t in tags), tags
    assert not any("javascript:" in t or re.search(r"\son\w+=", t) for t in tags)


def test_markdown_keeps_ordinary_formatting():
    rendered = learnings.render_markdown("**bold** and [docs](https://example.com)")
    assert "<strong>bold</strong>" in rendered and 'href="https://example.com"' in rendered


def test_csv_export_neutralises_formulas():
    out = io.to_csv([{"title": "=HYPERLINK(\"http://x\")", "n": -3, "t": "-1+2", "a": "@cmd"}],
                    ["title", "n", "t", "a"])
    cells = next(csv.DictReader(stdio.StringIO(out)))
    assert cells == {"title": "'=HYPERLINK(\"http://x\")", "n": "-3", "t": "'-1+2", "a": "'@cmd"}


def test_learning_requires_title_and_body(db):
    with pytest.raises(InputError, match="title"):
        learnings.create(db, title=" ", body="x")
    with pytest.raises(InputError, match="body"):
        learnings.create(db, title="x", body="")


def test_markdown_export_lists_every_learning(db):
    text = learnings.to_markdown(learnings.listing(db))
    assert text.count("\n## ") == 2 and "Status: confirmed" in text


def test_snippets_read_as_plain_text(db):
    learnings.create(db, title="Formatting", body="**What we tried.** A `zebra` banner.")
    hit = learnings.search(db, "zebra")[0]
    assert hit.snippet == "What we tried. A **zebra** banner."


@pytest.fixture
def demo_db(demo_template):
    return open_workspace(demo_template)


@pytest.mark.parametrize(("typo", "word"), [("onbaording", "onboarding"), ("invte", "invite"),
                                            ("pricng", "pricing")])
def test_typos_find_what_the_word_finds(demo_db, typo, word):
    found = learnings.find(demo_db, typo, limit=50)
    assert found.did_you_mean == word
    assert {h.id for h in found.hits if h.kind == "learning"} == {
        h.id for h in learnings.search(demo_db, word, limit=50) if h.kind == "learning"} != set()


def test_a_word_in_the_index_is_never_corrected(db):
    found = learnings.find(db, "export")
    assert found.did_you_mean is None and found.hits


def test_a_typo_with_no_close_word_finds_nothing(db):
    found = learnings.find(db, "zqxwvy")
    assert found.did_you_mean is None and found.hits == []


def test_similar_past_work_is_not_spell_corrected(db):
    found = learnings.find(db, "zebrra stripes on exports", any_word=True)
    assert found.did_you_mean is None and not found.matched_all
    assert [h.title for h in found.hits] == ["Exporting is where evaluating teams stall"]
    assert learnings.find(db, "zebra stripes").matched_all  # nothing matched at all


def test_a_question_in_plain_words_finds_the_learnings(demo_db):
    found = learnings.find(demo_db, "why do teams not export", limit=50)
    titles = [h.title for h in found.hits if h.kind == "learning"]
    assert "Exporting is where evaluating teams stall" in titles[:3]
    assert found.hits[0].kind == "learning"


def test_rows_holding_any_term_when_none_holds_every_term(db):
    found = learnings.find(db, "carousels export")
    assert not found.matched_all
    assert found.hits[0].title == "Exporting is where evaluating teams stall"
    assert learnings.find(db, "teams export").matched_all


def test_learnings_rank_above_experiments_for_the_same_match(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    experiments.create(db, title="Zebra banner", hypothesis="Zebra stripes on the banner.")
    learnings.create(db, title="Zebra banner", body="Zebra stripes on the banner.")
    assert [h.kind for h in learnings.search(db, "zebra banner")] == ["learning", "experiment"]


def test_a_tag_word_does_not_outrank_a_match_in_the_text(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="Export history panel", body="A panel of past exports.",
                     tags=["viral invite loop"])
    learnings.create(db, title="Invite reminder", body="Reminding owners to invite grew the "
                     "loop of new teams.", tags=["sharing"])
    hits = learnings.search(db, "invite loop")
    assert [h.title for h in hits] == ["Invite reminder", "Export history panel"]


def test_invite_loop_on_the_demo_puts_invites_first(demo_db):
    hits = learnings.search(demo_db, "invite loop", limit=10)
    assert all("export" not in h.title.lower() for h in hits[:5])


def test_snippets_are_longer_and_render_markdown_with_highlights(db):
    learnings.create(db, title="Formatting", body="**What we tried.** A *striped* `zebra` "
                     "banner on [the page](https://example.com) " + "and more words " * 20)
    hit = learnings.search(db, "zebra")[0]
    html = hit.snippet_html
    assert "<strong>What we tried.</strong>" in html and "<em>striped</em>" in html
    assert "<mark>zebra</mark>" in html and "**" not in html and "](" not in html
    assert len(hit.snippet.split()) >= 25


@pytest.mark.parametrize("body", [
    "<script>alert(1)</script> zebra", "zebra [click](javascript:alert(1))",
    "zebra <img src=x onerror=alert(1)>", "**half bold zebra", "zebra ` tick"])
def test_snippet_html_is_sanitised_and_balanced(tmp_path, body):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="T", body=body)
    html = learnings.search(db, "zebra")[0].snippet_html
    tags = re.findall(r"<[^>]+>", html)
    assert set(tags) <= {"<mark>", "</mark>", "<strong>", "</strong>", "<em>", "</em>",
                         "<code>", "</code>"}, tags
    assert "**" not in html and "`" not in html


def test_tags_render_as_escaped_chips():
    hit = learnings.Hit("learning", 1, "t", "s", 1.0, ["<b>x</b>", "onboarding"])
    assert "&lt;b&gt;" in hit.tags_html and hit.tags_html.count("<span") == 2


@pytest.mark.parametrize(("typo", "word"), [("nboarding", "onboarding"), ("xport", "export"),
                                            ("pnboarding", "onboarding")])
def test_a_typo_in_the_first_letter_is_corrected_too(demo_db, typo, word):
    found = learnings.find(demo_db, typo)
    assert found.did_you_mean == word and found.hits


@pytest.mark.parametrize(("body", "shown"), [
    ("zebra [click here](javascript:alert(1)) now", "click here now"),
    ("a ![zebra photo](https://example.com/z.png) here", "zebra</mark> photo here"),
    ("zebra ~~struck~~ out", "<s>struck</s> out"),
    ("| zebra | 2 |\n|---|---|\n| c | d |", "zebra</mark> 2 c d"),
    ("zebra [notes][1] here\n\n[1]: https://example.com", "notes here")])
def test_snippets_show_no_markdown_debris(tmp_path, body, shown):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="T", body=body)
    hit = learnings.search(db, "zebra")[0]
    assert shown in " ".join(hit.snippet_html.split())
    assert not re.search(r"[\[\]|~]|\]\(|---", hit.snippet_html + hit.snippet), hit.snippet_html


def test_plain_snippets_hold_no_raw_html_or_markdown(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="T", body="zebra <b>bold</b> and [a link](https://example.com) "
                     "and *emphasis*")
    assert learnings.search(db, "zebra")[0].snippet == \
        "**zebra** bold and a link and emphasis"


def test_a_word_being_typed_finds_what_the_whole_word_finds(demo_db):
    whole = {h.id for h in learnings.search(demo_db, "activation") if h.kind == "learning"}
    typing = {h.id for h in learnings.search(demo_db, "activatio") if h.kind == "learning"}
    assert whole and typing == whole


@pytest.fixture
def checklist_db(tmp_path):
    """A colleague's log: the words are written one way, searched another."""
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="Onboarding checklists lift activation for admins",
                     body="A 5-step **setup checklist** shown on first login raised activation "
                          "by 15%. Teams that invited a colleague in week 1 retained better. "
                          "Don't show it to invited users: they're not admins. Price-sensitive "
                          "SMBs ignored the e-mail follow-up; the in-app nudge worked.",
                     tags=["activation", "onboarding"])
    learnings.create(db, title="Shorter signup flows lift activation",
                     body="Two fields instead of five converted more visitors; the lift held "
                          "for a month.", tags=["acquisition"])
    experiments.create(db, title="Annual plan toggle", hypothesis="We believe an annual toggle "
                       "will raise paid conversion, measured by revenue.")
    return db


CHECKLIST = "Onboarding checklists lift activation for admins"


@pytest.mark.parametrize("query", ["check list", "why do admins not use the checklist", "dont",
                                   "check*list", "checklist admnis", "onbaording"])
def test_a_word_that_is_english_or_held_or_inside_an_operator_is_not_rewritten(checklist_db,
                                                                               query):
    found = learnings.find(checklist_db, query)
    assert found.hits and found.hits[0].title == CHECKLIST
    if query == "checklist admnis":
        assert found.did_you_mean == "checklist admins"
    elif query == "onbaording":
        assert found.did_you_mean == "onboarding"
    else:
        assert found.did_you_mean is None


def test_a_typo_is_never_corrected_to_a_stop_word(checklist_db):
    """'teh' is closest to 'the', which matches nearly everything and is not searched for."""
    found = learnings.find(checklist_db, "teh checklist")
    assert "the" not in (found.did_you_mean or "").split()


def test_a_correction_that_finds_nothing_more_is_not_made(checklist_db):
    plain = learnings.find(checklist_db, "activation zqxwvy")
    found = learnings.find(checklist_db, "activation zqxwvy lifft")  # lift: rows already shown
    assert found.did_you_mean is None and not found.matched_all
    assert [h.id for h in found.hits] == [h.id for h in plain.hits]


@pytest.mark.parametrize("query", ["check list", "check-list", "on-boarding", "set-up",
                                   '"set-up checklist"', '"check list"', "e-mail", "email",
                                   "followup", "inapp", "in-app", "set up checklist"])
def test_hyphenated_split_and_joined_words_find_each_other(checklist_db, query):
    found = learnings.find(checklist_db, query)
    assert found.matched_all and found.did_you_mean is None
    assert found.hits[0].title == CHECKLIST


@pytest.mark.parametrize("query,titles", [
    ("email", {"Email digest", "E-mail digest", "E mail digest"}),
    ("checklist", {"Checklist in the sidebar", "Check list in the sidebar",
                   "Check-list in the sidebar"}),
])
def test_a_joined_word_also_finds_its_split_and_hyphenated_forms(tmp_path, query, titles):
    """'email' finding one learning must not stop it finding the 'e-mail' ones."""
    db = open_workspace(tmp_path / "w.db")
    for title in sorted(titles):
        learnings.create(db, title=title, body="What we learnt.", tags=[])
    assert {h.title for h in learnings.search(db, query)} == titles


@pytest.mark.parametrize("query", ['"setup checklist"', '"set up checklist"',
                                   '"set-up checklist"', '"setup check-list"',
                                   '"e-mail follow-up"', '"email followup"'])
def test_a_phrase_finds_its_words_written_joined_split_or_hyphenated(tmp_path, query):
    """A quoted phrase matches the same words written another way: one learning says
    'set-up checklist' and 'e mail follow up', another 'setup check list' and 'email follow-up'."""
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="Split", body="The set-up checklist and the e mail follow up "
                     "helped.", tags=[])
    learnings.create(db, title="Joined", body="The setup check list and the email follow-up "
                     "helped.", tags=[])
    learnings.create(db, title="Other", body="A setup wizard; a checklist elsewhere.", tags=[])
    assert {h.title for h in learnings.search(db, query)} == {"Split", "Joined"}


@pytest.mark.parametrize("query", ["retention", "retain", "retained", "retaining"])
def test_a_derived_word_finds_its_family(checklist_db, query):
    assert [h.title for h in learnings.search(checklist_db, query)] == [CHECKLIST]


@pytest.mark.parametrize(("query", "title"), [
    ("conversion", "Shorter signup flows lift activation"),
    ("converts", "EXP-001 Annual plan toggle"), ("activated", CHECKLIST), ("onboard", CHECKLIST)])
def test_each_member_of_a_family_finds_the_others(checklist_db, query, title):
    assert title in [h.title for h in learnings.search(checklist_db, query)]


@pytest.mark.parametrize(("word", "relative"), [
    ("retention", "retain"), ("retained", "retention"), ("conversion", "convert"),
    ("converted", "conversion"), ("decision", "decide"), ("deciding", "decision"),
    ("subscription", "subscribe"), ("submission", "submit"), ("inclusion", "include"),
    ("explanation", "explain"), ("notification", "notify"), ("solution", "solve"),
    ("extension", "extend"), ("reception", "receive"), ("production", "produce"),
    ("consumption", "consume"), ("persuasion", "persuade"), ("maintenance", "maintain")])
def test_derivational_relatives(word, relative):
    from growthlab.spelling import relatives

    assert relative in relatives(word)


@pytest.mark.parametrize("word", ["mention", "band", "station", "export", "list", "tain"])
def test_no_made_up_relatives(word):
    from growthlab.spelling import is_english, relatives

    assert all(is_english(r) for r in relatives(word)) and word not in relatives(word)


@pytest.mark.parametrize("query", ["check list", "check-list"])
def test_the_checklist_learning_ranks_first_for_split_and_hyphenated_queries(checklist_db,
                                                                             query):
    titles = [h.title for h in learnings.search(checklist_db, query)]
    assert titles[0] == CHECKLIST and "Shorter signup flows lift activation" not in titles


@pytest.mark.parametrize("query", ["%", "$", '"', "*", "-", "AND", "🙂", "( )"])
def test_a_query_of_symbols_says_it_has_no_words(checklist_db, query):
    found = learnings.find(checklist_db, query)
    assert found.hits == [] and not found.has_words
    assert "no words to search for" in found.advice and "Nothing matches" not in found.advice


@pytest.fixture
def arms_db(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="Routing bug", body="Assignment sent 9% more teams to the "
                     "treatment arm (sample-ratio mismatch); a rerun is planned.")
    learnings.create(db, title="Ice cream", body="Mr Price, mice and rice: nothing to see.")
    return db


@pytest.mark.parametrize("term", sorted(learnings.FIELD_TERMS))
def test_a_field_abbreviation_is_never_corrected_into_another_word(arms_db, term):
    for typed in (term, term.upper()):
        assert learnings.find(arms_db, typed).did_you_mean is None, typed


def test_an_abbreviation_also_finds_what_it_stands_for(arms_db):
    found = learnings.find(arms_db, "SRM")
    assert found.did_you_mean is None and [h.title for h in found.hits] == ["Routing bug"]
    assert learnings.find(arms_db, "srm rerun").hits[0].title == "Routing bug"


def test_no_match_says_key_results_are_on_the_okrs_page_naming_those_that_hold_the_words(
        arms_db):
    from datetime import date

    from growthlab import okrs

    objective = okrs.create_objective(arms_db, title="Grow expansion", start_date=date(2026, 10, 1),
                                      end_date=date(2026, 12, 31))
    okrs.create_key_result(arms_db, objective, statement="Grow expansion MRR from $42k to $60k",
                           metric="expansion_mrr", metric_kind="value_capture",
                           direction="increase", baseline=42, target=60,
                           start_date=date(2026, 10, 1), end_date=date(2026, 12, 31))
    found = learnings.find(arms_db, "mrr")
    assert found.hits == [] and found.advice.startswith("Nothing matches")
    assert "'Grow expansion MRR from $42k to $60k'" in found.advice
    assert "OKRs page" in found.advice
    assert "OKRs page" in learnings.find(arms_db, "zqxwvy").advice
    assert "'Grow expansion" not in learnings.find(arms_db, "zqxwvy").advice


def test_a_query_with_words_that_match_nothing_advises_fewer_words(checklist_db):
    found = learnings.find(checklist_db, "zqxwvy")
    assert found.has_words and found.advice.startswith("Nothing matches")


def test_a_typo_is_corrected_to_the_word_closest_to_it_as_a_whole(demo_db):
    found = learnings.find(demo_db, "refferal", limit=50)
    assert found.did_you_mean == "referral"
    titles = [h.title for h in found.hits]
    assert "Referral credits replace purchases rather than adding them" in titles
    assert {h.id for h in found.hits} == {h.id for h in learnings.search(demo_db, "referral",
                                                                          limit=50)}


def test_the_correction_label_is_the_word_searched(demo_db):
    found = learnings.find(demo_db, "sidebyside", limit=50)
    assert found.did_you_mean == "side"
    assert {h.id for h in found.hits} == {h.id for h in learnings.search(demo_db, "side ",
                                                                          limit=50)}


@pytest.mark.parametrize("question", ["why doesn't the checklist work",
                                      "why doesn’t the checklist work",
                                      "why don't checklists work", "isn't the checklist working"])
def test_contractions_are_stop_words(demo_db, question):
    terms = [t.text for t in learnings.parse_terms(question)]
    assert not any("'" in t or "’" in t or t in ("doesn", "didn", "isn", "t") for t in terms)
    assert learnings.parse_terms(question)[0].text.startswith("checklist")
    found = learnings.find(demo_db, question, limit=50)
    held = ["checklist" in (h.title + h.snippet).lower() for h in found.hits]
    assert held[:3] == [True] * 3 and sorted(held, reverse=True) == held


def test_rows_found_only_through_tags_say_so_and_come_newest_first(demo_db):
    found = learnings.find(demo_db, '"invite loop"', limit=50)
    tagged = [h for h in found.hits if h.matched_tags]
    assert tagged and all([t.lower() for t in h.matched_tags] == ["viral invite loop"]
                          for h in tagged)
    learning_dates = [learnings.get(demo_db, h.id)["created_at"] for h in tagged
                      if h.kind == "learning"]
    assert learning_dates == sorted(learning_dates, reverse=True)
    kinds = [h.kind for h in tagged]
    assert kinds == sorted(kinds, key=lambda k: -learnings.KIND_WEIGHTS.get(k, 1.0))
    assert not any(h.matched_tags for h in learnings.find(demo_db, "referral").hits)


def test_plain_snippets_keep_angle_bracketed_words_that_are_not_html(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="T", body="zebra: clicked the <Export> button to raise <milestone "
                     "KPI>, then <i>saw</i> <script>alert(1)</script> it")
    assert learnings.search(db, "zebra")[0].snippet == \
        "**zebra**: clicked the <Export> button to raise <milestone KPI>, then saw it"


@pytest.fixture
def loop_db(demo_workspace):
    """The demo, plus a learning with no tags linked to an experiment in the viral loop and
    one tagged with the loop's name only."""
    db = open_workspace(demo_workspace)
    viral = next(db.query("SELECT e.id FROM experiments e JOIN loops l ON l.id = e.loop_id "
                          "WHERE l.name = 'Viral invite loop' ORDER BY e.id"))["id"]
    learnings.create(db, title="Zebra invites only linked", body="Zebra invite banner.",
                     experiments=[(viral, "supports")])
    learnings.create(db, title="Zebra invites only tagged", body="Zebra invite banner.",
                     tags=["viral invite loop"])
    learnings.create(db, title="Zebra invites elsewhere", body="Zebra invite banner.")
    return db


def test_learnings_match_facets_through_tags_and_linked_experiments(loop_db):
    found = learnings.search(loop_db, "zebra", limit=50, facets={"loop": ["Viral invite loop"]})
    assert sorted(h.title for h in found) == ["Zebra invites only linked",
                                              "Zebra invites only tagged"]
    invite = learnings.search(loop_db, "invite", limit=200,
                              facets={"loop": ["Viral invite loop"]})
    tagged = {r["id"] for r in loop_db.query(
        "SELECT id FROM learnings WHERE tags LIKE '%viral invite loop%'")}
    found_learnings = {h.id for h in invite if h.kind == "learning"}
    all_invite = {h.id for h in learnings.search(loop_db, "invite", limit=200)
                  if h.kind == "learning"}
    assert found_learnings and tagged & all_invite <= found_learnings
    for facet in ("stage", "area", "squad", "result"):
        values = learnings.facet_counts(invite).get(facet, {})
        assert any(h.kind == "learning" and learnings.facet_matches(h, facet, list(values))
                   for h in invite), facet


def test_the_tag_facet_filters_every_kind_by_tag(loop_db):
    found = learnings.search(loop_db, "invite", limit=200, facets={"tag": ["viral invite loop"]})
    assert {h.kind for h in found} == {"learning", "experiment"}
    assert all("viral invite loop" in [t.lower() for t in h.tags] for h in found)
    assert learnings.facet_counts(found)["tag"]["viral invite loop"] == len(found)


def test_facet_options_name_milestones_and_say_whose_status(loop_db):
    hits = learnings.search(loop_db, "invite", limit=200)
    options = learnings.facet_options(loop_db, hits)
    stages = dict(options["stage"])
    assert "first_value" in stages and stages["first_value"].startswith("First value (")
    statuses = dict(options["status"])
    assert statuses["supported"].startswith("learning: supported (")
    assert statuses["decided"].startswith("experiment: decided (")
    assert all(label.startswith("learning:") for label in list(statuses.values())[:1])


@pytest.mark.parametrize(("total", "page", "caption", "pages"), [
    (93, 1, "showing 1-50 of 93", 2), (93, 2, "showing 51-93 of 93", 2),
    (93, 9, "showing 51-93 of 93", 2), (122, 3, "showing 101-122 of 122", 3),
    (0, 1, "showing 0 of 0", 1), (7, 0, "showing 1-7 of 7", 1)])
def test_paging_says_what_is_shown(total, page, caption, pages):
    shown = learnings.paging(total, page)
    assert (shown.caption, shown.pages) == (caption, pages)
    assert shown.stop - shown.start == min(50, max(total - shown.start, 0))


def test_exports_hold_what_is_shown(db):
    assert [r["status"] for r in learnings.listing(db, ["confirmed"])] == ["confirmed"]
    hits = learnings.search(db, "t*", limit=50)
    among = learnings.learnings_among(db, hits)
    assert [r["id"] for r in among] == [h.id for h in hits if h.kind == "learning"]
    assert "# Learning log" in learnings.to_markdown(among)
    assert learnings.export_note(2, 3) == ("Exports the 2 learnings among these 3 matches "
                                           "(experiments and research are not exported).")
