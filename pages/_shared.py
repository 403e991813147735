"""Streamlit-side helpers shared by the pages: workspace access, caching, errors, identity.

Kept out of `growthlab/`, which never imports Streamlit.
"""

from __future__ import annotations

import os
from pathlib import Path

import streamlit as st

from growthlab.db import get_setting, open_workspace, workspace_path
from growthlab.errors import GrowthLabError
from growthlab.kpis import Milestone, load_from_workspace


def require_app(page_file: str) -> None:
    """Send a session that opened this page directly (bypassing app.py) through app.py.

    On a freshly started server Streamlit serves `pages/*.py` by folder convention until
    app.py has called st.navigation once; such a run would skip page config, the demo build
    and the menu. The page is remembered and app.py switches back to it.
    """
    if not st.session_state.get("routed_by_app"):
        st.session_state["return_to"] = (f"pages/{Path(page_file).name}",
                                         st.query_params.to_dict())
        st.switch_page("app.py")


def workspace():
    """A fresh connection per call: never shared across Streamlit's threads."""
    return open_workspace(workspace_path())


def sign_in_configured() -> bool:
    """True when an OIDC provider is configured under [auth] in Streamlit secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # StreamlitSecretNotFoundError subclasses it
        return False


def actor() -> str:
    """Who is making a change: the signed-in user when sign-in is on, else 'local'."""
    try:
        if st.user.is_logged_in:
            return st.user.get("email") or st.user.get("name") or "signed-in user"
    except (AttributeError, KeyError):
        pass
    return os.environ.get("GROWTHLAB_USER", "local")


def report(exc: Exception) -> None:
    if isinstance(exc, GrowthLabError):
        st.error(str(exc), icon=":material/error:")
    else:
        raise exc


def changed(message: str) -> None:
    """After a write: clear cached reads, confirm, and rerun so every widget shows new data."""
    st.cache_data.clear()
    st.toast(message, icon=":material/check_circle:")


def data_file(db, setting: str) -> Path | None:
    """A workspace data path from settings, resolved beside the workspace file."""
    value = get_setting(db, setting)
    if not value:
        return None
    path = Path(value)
    if not path.is_absolute():
        path = workspace_path().parent / path
    return path if path.exists() else None


def file_stamp(path: Path) -> float:
    """Modification time of a file, or the newest file in a folder (cache key)."""
    if path.is_dir():
        return max((p.stat().st_mtime for p in path.glob("*.parquet")), default=0.0)
    return path.stat().st_mtime


def milestones(db) -> list[Milestone]:
    return load_from_workspace(db)


def milestone_names(db) -> dict[str, str]:
    return {m.key: m.name for m in load_from_workspace(db)}


@st.cache_data(show_spinner=False, max_entries=32)
def cached_funnel(events: str, stamp: float, rules: tuple, start=None, end=None,
                  by_cohort: bool = False):
    from growthlab.kpis import funnel

    return funnel(events, [Milestone(*r) for r in rules], start=start, end=end,
                  by_cohort=by_cohort)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_retention(events: str, stamp: float, event: str | None, days: tuple):
    from growthlab.kpis import retention

    return retention(events, event=event, days=days)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_pqls(events: str, stamp: float, rule: str, window: int | None, rules: tuple):
    from growthlab.kpis import qualified_users

    return qualified_users(events, rule, [Milestone(*r) for r in rules], window_days=window)


def rules_key(ms: list[Milestone]) -> tuple:
    return tuple((m.key, m.name, m.phase, m.rule, m.window_days, m.success_moment) for m in ms)


def workspace_funnel(db, *, start=None, end=None, by_cohort: bool = False):
    """The funnel of the workspace's events, cached by file and rules; None without events."""
    events = data_file(db, "events_path")
    ms = milestones(db)
    if events is None or not ms:
        return None
    with st.spinner("Scanning events with DuckDB…"):
        return cached_funnel(str(events), file_stamp(events), rules_key(ms), start, end,
                             by_cohort)


def page_link(page: str, label: str, icon: str | None = None, **params) -> None:
    st.page_link(page, label=label, icon=icon, query_params=params or None)
