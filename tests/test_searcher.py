"""The searcher on the Learnings page: typos, questions, ranking, readable hits, shareable
filters (AppTest against the demo workspace)."""

import json

import pytest
from conftest import open_page

from growthlab import learnings
from growthlab.db import open_workspace


def links(at) -> list[str]:
    return [p.proto.label for p in at.get("page_link")]


def html(at) -> str:
    return "\n".join(h.proto.body for h in at.get("html"))


@pytest.mark.parametrize(("typo", "word", "title"), [
    ("onbaording", "onboarding", "Onboarding e-mail with a personal search plan"),
    ("invte", "invite", "Invite teammates from a shared list worked"),
    ("pricng", "pricing", "Annual plan toggle on pricing showed no clear effect")])
def test_a_typo_finds_the_learnings_and_says_what_it_searched(demo_workspace, typo, word, title):
    at = open_page("learnings", q=typo)
    assert any(f"Showing results for **{word}**" in i.value for i in at.info)
    assert any(title in label for label in links(at))


def test_a_question_in_plain_words_puts_the_learning_first(demo_workspace):
    at = open_page("learnings", q="why do teams not export")
    assert "Exporting is where evaluating teams stall" in links(at)[:3]
    assert not at.info  # nothing to correct, and something matched


def test_learnings_come_before_experiments_and_tags_do_not_lead(demo_workspace):
    labels = links(open_page("learnings", q="invite loop"))
    assert not labels[0].startswith("EXP-") and "export" not in labels[0].lower()


def test_hits_render_markdown_highlights_and_tag_chips(demo_workspace):
    body = html(open_page("learnings", q="export"))
    assert "<strong>What we tried.</strong>" in body and "<mark>" in body
    assert "**" not in body and "<span" in body and "sharing &amp; export" in body


def test_search_filters_live_in_the_url(demo_workspace):
    at = open_page("learnings", q="export", kind="learning")
    assert at.multiselect(key="facet-kind").value == ["learning"]
    assert links(at) and not any(label.startswith("EXP-") for label in links(at))
    at.multiselect(key="facet-status").select("confirmed").run()
    assert (at.query_params["status"], at.query_params["kind"]) == ("confirmed", "learning")
    confirmed = learnings.search(open_workspace(demo_workspace), "export", limit=200,
                                 facets={"status": ["confirmed"], "kind": ["learning"]})
    assert links(at) == [h.title for h in confirmed]
    assert "Exporting is where evaluating teams stall" in links(at)


def test_cli_search_json_keeps_its_keys_and_adds_the_correction(demo_workspace, capsys):
    from growthlab.cli import main

    assert main(["--workspace", str(demo_workspace), "search", "pricng", "--json"]) == 0
    payload = json.loads(capsys.readouterr().out)
    assert payload["did_you_mean"] == "pricing" and payload["matched_all"] is True
    assert set(payload["results"][0]) == {"kind", "id", "title", "snippet", "score", "tags"}
    assert payload["results"][0]["title"] == "Annual plan toggle on pricing showed no clear effect"
    assert main(["--workspace", str(demo_workspace), "search", "pricng"]) == 0
    assert capsys.readouterr().out.startswith("showing results for: pricing\n")


@pytest.mark.parametrize("query", ["%", '"', "*"])
def test_a_query_of_symbols_says_what_to_type(demo_workspace, query):
    at = open_page("learnings", q=query)
    said = " ".join(i.value for i in at.info)
    assert "no words to search for" in said and "Try fewer words" not in said


def test_hits_found_only_through_tags_say_which_tag(demo_workspace, capsys):
    from growthlab.cli import main

    assert main(["--workspace", str(demo_workspace), "search", '"invite loop"']) == 0
    out = capsys.readouterr().out
    assert out.count("matched by tag: viral invite loop") >= 5
    assert "matched by tag" in html(open_page("learnings", q='"invite loop"'))


def test_refining_by_loop_or_tag_keeps_the_learnings(demo_workspace):
    at = open_page("learnings", q="invite", loop="Viral invite loop")
    assert at.multiselect(key="facet-loop").value == ["Viral invite loop"]
    assert sum(not label.startswith("EXP-") for label in links(at)) >= 5
    at = open_page("learnings", q="invite", tag="viral invite loop")
    assert at.multiselect(key="facet-tag").value == ["viral invite loop"]
    tagged = learnings.search(open_workspace(demo_workspace), "invite", limit=200,
                              facets={"tag": ["viral invite loop"]})
    assert links(at) == [h.title for h in tagged][:50] and len(tagged) < len(
        learnings.search(open_workspace(demo_workspace), "invite", limit=200))


def test_facets_show_milestone_names_and_whose_status(demo_workspace):
    at = open_page("learnings", q="invite")
    stage = at.multiselect(key="facet-stage")
    assert any(o.startswith("First value (") for o in stage.options)
    assert not any("_" in o for o in stage.options)
    statuses = at.multiselect(key="facet-status").options
    assert statuses[0].startswith("learning: ") and any(o.startswith("experiment: ")
                                                        for o in statuses)


def many_learnings(workspace, n: int) -> None:
    db = open_workspace(workspace)
    for i in range(n):
        learnings.create(db, title=f"Zebra pricing test {i}", body=f"Zebra effect {i}.",
                         tags="pricing", created_at=f"2020-01-01T00:00:{i % 60:02d}+00:00")


def test_the_list_pages_through_every_learning(demo_workspace):
    many_learnings(demo_workspace, 90)
    total = open_workspace(demo_workspace)["learnings"].count
    at = open_page("learnings")
    said = " ".join(c.value for c in at.caption)
    assert f"showing 1-50 of {total}" in said and len(links(at)) == 50
    oldest = learnings.listing(open_workspace(demo_workspace))[-1]["title"]
    at.query_params["page"] = "3"  # open_page's own first argument is called page
    at.run()
    assert oldest in links(at) and f"showing 101-{total} of {total}" in " ".join(
        c.value for c in at.caption)


def test_search_results_page_and_export_what_is_shown(demo_workspace):
    many_learnings(demo_workspace, 70)
    at = open_page("learnings", q="zebra")
    said = " ".join(c.value for c in at.caption)
    assert "showing 1-50 of 70" in said and len(links(at)) == 50
    assert "Exports the 70 learnings among these 70 matches" in said
    assert len(at.get("download_button")) == 2
    at.button(key="page-Next").click().run()
    assert at.query_params["page"] == "2" and len(links(at)) == 20


def test_a_tag_link_without_a_search_lists_the_learnings_so_tagged(demo_workspace):
    """?tag=activation was kept in the address bar and filtered nothing."""
    everyone = learnings.listing(open_workspace(demo_workspace))
    tagged = [r for r in everyone if "activation" in {t.casefold() for t in r["tags"]}]
    assert 0 < len(tagged) < len(everyone)
    at = open_page("learnings", tag="Activation")
    assert not at.exception
    assert any(c.value.startswith(f"{len(tagged)} learnings tagged ") for c in at.caption), \
        [c.value for c in at.caption]


def test_a_shared_filter_no_result_has_is_kept_and_said_not_dropped(demo_workspace):
    """A link with ?stage=habit where no match is at habit: the filter stays (nothing is
    shown) and the page says why, instead of quietly showing every result."""
    at = open_page("learnings", q="export", stage="habit")
    assert at.multiselect(key="facet-stage").value == ["habit"]
    assert at.query_params["stage"] == "habit"
    assert not links(at)
    assert any("habit" in i.value and "none of" in i.value for i in at.info), \
        [i.value for i in at.info]


def test_a_shared_filter_matches_its_value_whatever_the_case(demo_workspace):
    at = open_page("learnings", q="checklist", tag="ONBOARDING")
    assert at.multiselect(key="facet-tag").value == ["onboarding"]
    assert links(at)
