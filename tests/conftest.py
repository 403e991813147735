"""Shared fixtures: a real demo workspace (built once) and fresh empty workspaces."""

import shutil
import sys
from datetime import date
from pathlib import Path

import pytest

from growthlab.db import open_workspace
from growthlab.demo import create_demo

ROOT = Path(__file__).resolve().parent.parent
DEMO_ANCHOR = date(2026, 11, 23)
DEMO_TODAY = "2026-11-24"  # the pages read today from GROWTHLAB_TODAY: no calendar drift


@pytest.fixture(autouse=True)
def pinned_today(monkeypatch):
    monkeypatch.setenv("GROWTHLAB_TODAY", DEMO_TODAY)


@pytest.fixture(autouse=True)
def main_module_kept(monkeypatch):
    """Streamlit's AppTest leaves app.py as the `__main__` module: a test spawning processes
    after it would have every child run app.py first (and fail where `pages` is not on its
    path), so each test ends with the `__main__` it began with."""
    monkeypatch.setitem(sys.modules, "__main__", sys.modules["__main__"])


@pytest.fixture(autouse=True)
def private_cache(tmp_path_factory, monkeypatch) -> Path:
    """Each test its own cache of event checks, never the user's ~/.cache."""
    folder = tmp_path_factory.mktemp("cache")
    monkeypatch.setenv("GROWTHLAB_CACHE_DIR", str(folder))
    monkeypatch.setenv("GROWTHLAB_DUCKDB_MEMORY", "")  # app.py's setting ends with the test
    return folder


@pytest.fixture(scope="session")
def demo_template(tmp_path_factory) -> Path:
    """The demo built once per test session (about 5 s); copy it before writing."""
    folder = tmp_path_factory.mktemp("demo-template")
    create_demo(folder / "growthlab.db", anchor=DEMO_ANCHOR)
    return folder / "growthlab.db"


@pytest.fixture
def demo_workspace(demo_template, tmp_path, monkeypatch) -> Path:
    """A private copy of the demo workspace, selected through GROWTHLAB_WORKSPACE."""
    folder = tmp_path / "demo"
    shutil.copytree(demo_template.parent, folder)
    path = folder / "growthlab.db"
    monkeypatch.setenv("GROWTHLAB_WORKSPACE", str(path))
    return path


@pytest.fixture
def empty_workspace(tmp_path, monkeypatch) -> Path:
    path = tmp_path / "empty" / "growthlab.db"
    open_workspace(path).conn.close()
    monkeypatch.setenv("GROWTHLAB_WORKSPACE", str(path))
    return path


def open_page(page: str, **query):
    """Run app.py under AppTest, switch to a page (with query parameters), no exception."""
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=60)
    at.run()
    at.switch_page(f"pages/{page}.py")
    for key, value in query.items():
        at.query_params[key] = value
    at.run()
    assert not at.exception, [e.message for e in at.exception]
    return at
