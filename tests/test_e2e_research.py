"""End to end in a real browser: a researcher codes a passage of an interview and sees the
job to be done it supports (server and browser as in test_e2e)."""

import time

from playwright.sync_api import expect, sync_playwright
from test_e2e import CHROMIUM, server, settle  # noqa: F401 - server is a fixture

from growthlab import demo_content, research
from growthlab.db import open_workspace

THEME = "don't know which team lists are current"


def test_code_a_passage_and_see_its_job(server, demo_workspace, tmp_path, capsys):  # noqa: F811
    started = time.perf_counter()
    db = open_workspace(demo_workspace)
    felix = next(r for r in research.interviews(db) if r["participant"].startswith("Felix"))
    uncoded = demo_content.INTERVIEWS[-1][5]
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/research?interview={felix['id']}")
        settle(page)
        expect(page.get_by_test_id("stHtml").get_by_text(uncoded)).to_be_visible()
        page.get_by_label("Passage (copy the customer's words from the notes)").fill(
            "nobody knows which lists are current")
        page.get_by_label("New theme", exact=False).fill(THEME)
        page.get_by_role("button", name="Code passage").click()
        settle(page)
        page.get_by_role("tab", name="Themes & jobs").click()
        statement = research.statement(THEME, "see my team's lists in one place",
                                       "bring new colleagues up to speed quickly")
        expect(page.get_by_text(statement)).to_be_visible()
        page.screenshot(path=tmp_path / "job.png", full_page=True)
        browser.close()
    assert [(c.kind, c.theme) for c in research.coded(db, felix["id"])][-1] == (
        "struggle", THEME)
    with capsys.disabled():
        print(f"\ne2e research: {time.perf_counter() - started:.1f} s, screenshot "
              f"{tmp_path / 'job.png'}")
