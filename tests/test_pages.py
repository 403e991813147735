"""Every page renders under Streamlit's AppTest, on the demo and on an empty workspace."""

import time
from pathlib import Path

import pytest
from conftest import open_page
from streamlit.testing.v1 import AppTest

ROOT = Path(__file__).resolve().parent.parent

PAGES = ["overview", "okrs", "experiments", "experiment", "milestones", "learnings", "settings"]




def texts(at: AppTest) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title]
    parts += [c.value for c in at.caption] + [s.value for s in at.subheader]
    for kind in ("info", "warning", "error", "success"):
        parts += [e.value for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_demo(page, demo_workspace, record_property):
    started = time.perf_counter()
    at = open_page(page)
    record_property("render_seconds", round(time.perf_counter() - started, 2))
    assert at.title, "every page has a title"


@pytest.mark.parametrize("page", PAGES)
def test_page_renders_on_empty_workspace(page, empty_workspace):
    at = open_page(page)
    assert at.title
