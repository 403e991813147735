"""In a real browser: what a leader and a growth squad see on their way through the app.

Uses the server and Chromium of test_e2e.py; screenshots of each step go to a temporary folder.
"""

import re

from playwright.sync_api import expect, sync_playwright
from test_e2e import CHROMIUM, server, settle  # noqa: F401 - server is a fixture

from growthlab import okrs
from growthlab.db import open_workspace


def browser_page(p):
    browser = p.chromium.launch(executable_path=CHROMIUM, args=[
        "--no-sandbox", "--disable-gpu", "--disable-background-networking",
        "--disable-component-update", "--no-first-run"])
    return browser, browser.new_page(viewport={"width": 1400, "height": 1000})


def test_a_leader_reads_checkins_edits_an_objective_and_adds_a_key_result(
        server, demo_workspace, tmp_path):  # noqa: F811
    db = open_workspace(demo_workspace)
    objective = next(db.query("SELECT * FROM objectives ORDER BY id LIMIT 1"))
    with sync_playwright() as p:
        browser, page = browser_page(p)
        page.goto(f"{server}/")
        settle(page)
        page.get_by_text("Check-ins, newest first").first.click()
        log = page.locator("[data-testid=stDataFrame]").first
        expect(log).to_be_visible()
        page.screenshot(path=tmp_path / "01-overview-checkins.png", full_page=True)

        page.goto(f"{server}/okrs")
        settle(page)
        expect(page.get_by_text("Check-ins, newest first").first).to_be_visible()
        charts = page.locator("[data-testid=stPlotlyChart]")
        expect(charts.first).to_be_visible(timeout=30_000)
        log = page.locator("[data-testid=stDataFrame]").first.bounding_box()
        # the log (its cells are drawn on a canvas: test_leader_pages.py reads them) sits
        # beside a history chart, on its right
        assert any(log["x"] > c["x"] + c["width"] / 2 and log["y"] < c["y"] + c["height"]
                   and c["y"] < log["y"] + log["height"]
                   for c in (charts.nth(i).bounding_box() for i in range(charts.count())))
        page.get_by_text("Edit this objective").first.click()
        title = page.get_by_label("Objective", exact=True).first
        title.fill("New teams reach value in their first month")
        page.get_by_role("button", name="Save objective").first.click()
        settle(page)
        expect(page.get_by_text("New teams reach value in their first month").first
               ).to_be_visible()

        page.get_by_label("Statement", exact=True).last.fill(
            "Raise Continued value from 20% to 30%")
        page.get_by_label("Statement", exact=True).last.press("Enter")
        settle(page)
        metric = page.get_by_label("Metric", exact=True).last
        metric.click()
        metric.fill("Continued value")
        metric.press("Enter")
        settle(page)
        form = page.locator("[data-testid=stForm]").filter(
            has=page.get_by_role("button", name="Add key result"))
        start = [form.get_by_label(f"{part}, Start").get_attribute("aria-valuenow")
                 for part in ("year", "month", "day")]
        assert "-".join(f"{int(v):02d}" for v in start) == objective["start_date"]
        page.get_by_role("button", name="Add key result").click()
        settle(page)
        kr = page.get_by_role("heading", name="Raise Continued value from 20% to 30%")
        expect(kr).to_be_visible()
        expect(page.get_by_text(okrs.NO_CHECKIN).first).to_be_visible()
        page.screenshot(path=tmp_path / "02-okrs.png", full_page=True)
        browser.close()
    renamed = next(db.query("SELECT * FROM objectives WHERE id = ?", [objective["id"]]))
    assert renamed["title"] == "New teams reach value in their first month"


def test_a_squad_plans_decides_early_with_a_reason_and_reads_the_board(
        server, demo_workspace, tmp_path):  # noqa: F811
    db = open_workspace(demo_workspace)
    analysing = list(db.query("SELECT * FROM experiments WHERE status = 'analysing' "
                              "ORDER BY id"))
    with sync_playwright() as p:
        browser, page = browser_page(p)
        page.goto(f"{server}/experiments?status=analysing")
        settle(page)
        grid = page.locator("[data-testid=stDataFrame]").first
        assert grid.bounding_box()["height"] >= 35 * (len(analysing) + 1)
        # open the first row, EXP-009, by its row marker: the same tab, not a new one
        box = grid.bounding_box()
        page.mouse.click(box["x"] + 15, box["y"] + 35 + 17)
        settle(page)
        assert len(page.context.pages) == 1
        assert re.search(rf"/experiment\?id={analysing[0]['id']}$", page.url), page.url

        page.get_by_role("tab", name="Design & power").click()
        expect(page.get_by_text("Baseline: control's rate in the latest results").first
               ).to_be_visible()
        mde = page.get_by_label("Minimum detectable lift (relative)")
        mde.fill("0.020")
        mde.press("Enter")
        settle(page)
        page.get_by_role("tab", name="Design & power").click()
        expect(page.get_by_text("with the test on the relative lift").first).to_be_visible()
        page.get_by_role("button", name="Save as this experiment's plan").click()
        settle(page)

        page.get_by_role("tab", name="Lifecycle & decision").click()
        warning = page.get_by_text(re.compile(r"Before the plan.*planned users \(\d+%\)"))
        expect(warning).to_be_visible()
        page.get_by_label("Conclusion: what the data showed").fill("Return visits rose 3%.")
        page.get_by_label("Learning title").fill("Comment threads bring teams back")
        page.get_by_label("Learning (markdown): what we now believe, and how sure").fill(
            "Teams with comment threads return more often.")
        page.get_by_role("textbox", name="Why decide before the plan is reached?").fill(
            "The partner launch date is fixed.")
        page.screenshot(path=tmp_path / "03-decide-early.png", full_page=True)
        page.get_by_role("button", name="Decide", exact=True).click()
        settle(page)
        expect(page.get_by_text("Result:").first).to_be_visible()

        page.get_by_role("link", name="Experiments").first.click()  # the sidebar
        settle(page)
        assert "status=analysing" in page.url  # the filters the squad left with

        page.goto(f"{server}/experiments?view=board")
        settle(page)
        board = page.locator(".st-key-board")
        sizes = board.evaluate("e => [e.scrollWidth, e.clientWidth]")
        assert sizes[0] > sizes[1]  # the stage columns scroll sideways
        assert page.evaluate("document.querySelector('[data-testid=stMain]').scrollHeight"
                             ) < 2500
        longest = max((r["title"] for r in db.query("SELECT title FROM experiments")), key=len)
        expect(page.get_by_text(longest, exact=False).first).to_be_visible()
        page.screenshot(path=tmp_path / "04-board.png", full_page=True)
        browser.close()
    body = next(db.query("SELECT l.body FROM learnings l JOIN learning_experiments le ON "
                         "le.learning_id = l.id WHERE le.experiment_id = ?",
                         [analysing[0]["id"]]))["body"]
    assert "Decided early" in body and "partner launch date" in body
