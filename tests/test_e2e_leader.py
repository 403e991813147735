"""In a real browser: the Overview's progress chart, read as a leader sees it.

Uses the server and Chromium of test_e2e.py; a screenshot goes to a temporary folder.
"""

from playwright.sync_api import expect, sync_playwright
from test_e2e import server, settle  # noqa: F401 - server is a fixture
from test_e2e_journeys import browser_page

from growthlab import okrs
from growthlab.db import open_workspace


def test_every_progress_label_is_drawn_whole_inside_the_chart(
        server, demo_workspace, tmp_path):  # noqa: F811
    views = [v for o in okrs.overview(open_workspace(demo_workspace)) for v in o.key_results]
    negative = [f"{v.progress:.0%} · {v.status}" for v in views if v.current is not None
                and v.progress < 0]
    assert negative, "the demo has a key result below its baseline"
    with sync_playwright() as p:
        browser, page = browser_page(p)
        page.goto(f"{server}/")
        settle(page)
        chart = page.locator("[data-testid=stPlotlyChart]").first
        expect(chart).to_be_visible(timeout=30_000)
        chart.scroll_into_view_if_needed()
        chart.screenshot(path=tmp_path / "overview-progress.png")
        area = chart.locator(".nsewdrag").first.bounding_box()  # the plotting area
        for text in negative:
            label = chart.locator("svg text", has_text=text)
            expect(label).to_have_count(1)
            box = label.bounding_box()
            assert area["x"] <= box["x"] and box["x"] + box["width"] <= area["x"] + area[
                "width"], (text, box, area)
        browser.close()


def test_a_grid_shows_notes_as_typed_and_offers_no_unguarded_download(
        server, demo_workspace, tmp_path):  # noqa: F811
    db = open_workspace(demo_workspace)
    kr = next(db.query("SELECT id FROM key_results ORDER BY id LIMIT 1"))["id"]
    okrs.add_checkin(db, kr, day="2026-11-23", value=36.5, confidence=7,
                     note="+0.04 since last week")
    with sync_playwright() as p:
        browser, page = browser_page(p)
        page.goto(f"{server}/okrs")
        settle(page)
        grid = page.locator("[data-testid=stDataFrame]").first
        expect(grid).to_be_visible(timeout=30_000)
        grid.hover()
        toolbar = page.locator("[data-testid=stElementToolbar]").first
        expect(toolbar.get_by_role("button", name="Search")).to_be_visible()
        page.screenshot(path=tmp_path / "okrs-grid-toolbar.png")
        assert toolbar.get_by_role("button", name="Download as CSV").count() == 0
        browser.close()
