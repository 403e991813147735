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
           "exp\u00a0ort", "\"\"", "stall OR", "ex'port", "''", "a AND", "🙂*"]


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
    assert not learnings.search(db, "lowered activation")
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
