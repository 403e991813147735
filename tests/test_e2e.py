"""End to end in a real browser: the main story of a growth squad, on a real server.

Starts `streamlit run app.py` on a free port against a copy of the demo workspace and drives
Debian's headless Chromium with Playwright. Screenshots of each step go to a temporary folder.
"""

import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest
from playwright.sync_api import expect, sync_playwright

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(demo_workspace):
    port = free_port()
    env = {**os.environ, "GROWTHLAB_WORKSPACE": str(demo_workspace)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "streamlit", "run", str(ROOT / "app.py"), "--server.headless",
         "true", "--server.port", str(port), "--browser.gatherUsageStats", "false"],
        cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    for _ in range(120):
        try:
            urllib.request.urlopen(f"{url}/_stcore/health", timeout=1)
            break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        raise RuntimeError(proc.stdout.read().decode()[-2000:])
    yield url
    proc.terminate()
    proc.wait(10)


def settle(page) -> None:
    """Wait until Streamlit has finished running the script, then check for exceptions."""
    page.wait_for_selector("[data-testid=stAppViewContainer]")
    page.get_by_text("For leaders").wait_for()  # st.navigation's own menu has replaced the
    time.sleep(0.4)                              # folder listing shown before the first run
    page.wait_for_function(
        "() => !document.querySelector('[data-testid=stStatusWidget]')", timeout=60_000)
    time.sleep(0.3)
    assert page.locator("[data-testid=stException]").count() == 0, page.locator(
        "[data-testid=stException]").first.inner_text()


def test_squad_story_in_a_real_browser(server, tmp_path, capsys):
    started = time.perf_counter()
    shots = tmp_path / "screenshots"
    shots.mkdir()
    results = tmp_path / "results.csv"
    results.write_text("metric,variant,users,conversions\n"
                       "value_realization,control,10000,1000\n"
                       "value_realization,treatment,10000,1100\n")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--no-first-run"])
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        step = 0

        def shot(name):
            nonlocal step
            step += 1
            page.screenshot(path=shots / f"{step:02d}-{name}.png", full_page=True)

        page.goto(f"{server}/experiments")
        settle(page)
        page.get_by_label("Title", exact=True).fill("Zebra export reminder")
        page.get_by_label("Title", exact=True).press("Enter")
        settle(page)
        hypothesis = page.get_by_label("Hypothesis", exact=True)
        hypothesis.fill("We believe a zebra-striped export reminder for list owners will help "
                        "them export, measured by Value realization.")
        page.get_by_text("Log an idea").click()  # blur commits the text area
        settle(page)
        page.get_by_label("Key result it pushes").click()
        page.keyboard.type("Raise Value realization")
        page.keyboard.press("Enter")
        shot("new-experiment")
        page.get_by_role("button", name="Log idea").click()
        settle(page)
        expect(page.get_by_role("heading", name="Zebra export reminder")).to_be_visible()

        page.locator("input[type=file]").first.set_input_files(str(results))
        expect(page.get_by_text("results.csv")).to_be_visible()
        settle(page)
        page.get_by_role("button", name="Import results").click()
        settle(page)
        expect(page.get_by_text("significant at 95%").first).to_be_visible()
        expect(page.get_by_text("Treatment raised Value realization by 10.0%")).to_be_visible()
        shot("verdict")

        page.get_by_role("tab", name="Lifecycle & decision").click()
        for target in ("backlog", "running", "analysing"):
            page.get_by_role("button", name=f"Move to {target}").click()
            settle(page)
            page.get_by_role("tab", name="Lifecycle & decision").click()
        page.get_by_label("Result", exact=True).click()  # pre-set from the primary metric
        page.keyboard.type("won")
        page.keyboard.press("Enter")
        page.get_by_label("Conclusion: what the data showed").fill(
            "Value realization rose about 10% with the reminder.")
        page.get_by_label("Learning title").fill("Zebra reminders lift exports")
        page.get_by_label("Learning (markdown): what we now believe, and how sure").fill(
            "A reminder at the right moment raised exports; one test, one audience.")
        shot("decide")
        page.get_by_role("button", name="Decide").click()
        settle(page)
        expect(page.get_by_text("Result: won").first).to_be_visible()

        page.goto(f"{server}/learnings?q=zebra")
        settle(page)
        expect(page.get_by_text("Zebra reminders lift exports").first).to_be_visible()
        shot("search")

        page.goto(f"{server}/okrs")
        settle(page)
        expect(page.get_by_text("Zebra export reminder").first).to_be_visible()
        shot("okrs")
        browser.close()
    with capsys.disabled():
        print(f"\ne2e story: {time.perf_counter() - started:.1f} s, screenshots in {shots}")
