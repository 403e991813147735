"""End to end in a real browser: a searcher who mistypes and asks questions finds what past
experiments taught (same server and browser set-up as test_e2e.py)."""

from playwright.sync_api import expect, sync_playwright
from test_e2e import CHROMIUM, server, settle  # noqa: F401 - server is a fixture

__all__ = ["server"]


def test_searcher_story_in_a_real_browser(server, tmp_path):  # noqa: F811
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        page.goto(f"{server}/learnings")
        settle(page)
        box = page.get_by_label("Search learnings, experiments and research")
        box.fill("onbaording")
        box.press("Enter")
        settle(page)
        expect(page.get_by_text("Showing results for onboarding")).to_be_visible()
        first = page.locator("[data-testid=stPageLink]").first
        expect(first).to_contain_text("Onboarding e-mail with a personal search plan")
        expect(page.locator("mark").first).to_have_text("onboarding", ignore_case=True)
        assert "onbaording" in page.url and "**" not in page.locator("main").inner_text()
        page.screenshot(path=tmp_path / "typo.png", full_page=True)

        box.fill("why do teams not export")
        box.press("Enter")
        settle(page)
        links = page.locator("[data-testid=stPageLink]").all_inner_texts()
        assert "Exporting is where evaluating teams stall" in " ".join(links[:3])
        assert not links[0].startswith("EXP-")
        page.get_by_label("Kind").click()
        page.get_by_role("option", name="learning").click()
        settle(page)
        assert "kind=learning" in page.url
        assert not any(t.startswith("EXP-") for t in
                       page.locator("[data-testid=stPageLink]").all_inner_texts())
        page.screenshot(path=tmp_path / "question.png", full_page=True)
        browser.close()
