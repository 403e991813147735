"""Streamlit-side helpers shared by the pages: workspace access, caching, errors, identity.

Kept out of `growthlab/`, which never imports Streamlit.
"""

from __future__ import annotations

import os
import time
from dataclasses import replace
from pathlib import Path
from urllib.parse import urlsplit

import streamlit as st

from growthlab import admin, clock, edits
from growthlab.access import Access
from growthlab.access import from_config as access_rules
from growthlab.db import get_setting, open_workspace, workspace_path
from growthlab.errors import GrowthLabError, StaleEditError
from growthlab.kpis import Milestone, load_from_workspace, scan_cache
from growthlab.kpis.sources import POSTGRES_SCHEMES, Table, computed_where, with_password


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
    if st.session_state.get("on_page") != page_file:  # a new visit opens rows afresh
        for key in [k for k in st.session_state if str(k).startswith("opened-")]:
            del st.session_state[key]
        st.session_state["on_page"] = page_file


def workspace():
    """A fresh connection per call: never shared across Streamlit's threads."""
    return open_workspace(workspace_path())


def sign_in_configured() -> bool:
    """True when an OIDC provider is configured under [auth] in Streamlit secrets."""
    try:
        return "auth" in st.secrets
    except FileNotFoundError:  # StreamlitSecretNotFoundError subclasses it
        return False


def identity() -> dict:
    """The signed-in person's claims (empty when nobody is signed in)."""
    try:
        return st.user.to_dict() if st.user.is_logged_in else {}
    except (AttributeError, KeyError):
        return {}


def actor() -> str:
    """Who is looking: the signed-in e-mail (or name) when sign-in is on, else the local user."""
    who = identity()
    if sign_in_configured() and who:
        return who.get("email") or who.get("name") or "signed-in user"
    return os.environ.get("GROWTHLAB_USER", "local")


def access() -> Access:
    """Who may write, from [growthlab] in the secrets (AccessConfigError when misconfigured)."""
    signed = sign_in_configured()
    return access_rules(st.secrets.get("growthlab") if signed else None, sign_in=signed)


def writer() -> str:
    """The actor for a change; refuses anyone who may only read before anything is written."""
    return access().check_writer(identity(), local=os.environ.get("GROWTHLAB_USER", "local"))


def opened(kind: str, row_id: int, current: dict) -> dict:
    """The row as this person first opened it on this page, kept across reruns.

    Forms are built from it and saved against its version, so a save over someone else's
    newer change is refused instead of silently overwriting it. It is dropped after a save,
    after a refusal (the form then reloads the newer row) and when the person leaves the page.
    """
    return st.session_state.setdefault(f"opened-{kind}-{row_id}", dict(current))


def opened_version(kind: str, row: dict) -> int:
    return opened(kind, row["id"], row)["version"]


def forget(kind: str, row_id: int) -> None:
    st.session_state.pop(f"opened-{kind}-{row_id}", None)


def widget_key(name: str, row: dict) -> str:
    """A form field's key, new for each opened version so a reloaded form shows the newer row."""
    return f"{name}-{row['id']}-v{row['version']}"


def attempt(action, message: str) -> None:
    """Run a write; confirm and rerun, or show why it was refused (re-raising real bugs)."""
    try:
        action()
    except Exception as exc:  # noqa: BLE001 - report() re-raises anything but user errors
        report(exc)
        return
    changed(message)
    st.rerun()


def save_row(kind: str, row_id: int, save, message: str, typed: dict | None = None) -> None:
    """A versioned save. After it the forms start from the saved row; after a stale refusal
    they reload the newer row at once, and the refusal is shown above them with what the
    person `typed`, so they can copy it back."""
    try:
        save()
    except StaleEditError as exc:
        forget(kind, row_id)
        st.session_state["refused"] = (str(exc), exc.current, typed or {})
        st.rerun()
    except Exception as exc:  # noqa: BLE001 - report() re-raises anything but user errors
        report(exc)
        return
    forget(kind, row_id)
    changed(message)
    st.rerun()


def save_edit(kind: str, base: dict, submitted, save, message: str) -> None:
    """Save only the fields the person changed (`submitted()` vs the opened `base`)."""
    try:
        changes = edits.changed_fields(base, submitted())
    except Exception as exc:  # noqa: BLE001 - report() re-raises anything but user errors
        report(exc)
        return
    if not changes:
        st.info("Nothing to save: the form matches the version you opened.")
        return
    save_row(kind, base["id"], lambda: save(changes), message, changes)


def confirm_dropping(db, milestones: list, key: str) -> bool:
    """Whether `milestones` may replace the workspace's: at once, unless keys that key
    results, experiments or coded passages use would go; then once the person says so."""
    from growthlab.kpis.milestones import dropped_in_use

    dropped = dropped_in_use(db, milestones)
    if not dropped:
        return True
    st.warning("Milestones in use would be dropped; what uses them loses its milestone "
               "(check-in from data, the experiment's funnel stage):\n\n"
               + "\n".join(f"- {line}" for line in dropped), icon=":material/link_off:")
    return st.checkbox("Drop them anyway", key=key)


def show_refusal() -> None:
    """The stale save refused on the previous run, with the newer row the form now shows."""
    if refused := st.session_state.pop("refused", None):
        st.error(refused[0], icon=":material/error:")
        with st.expander("What it is now", expanded=True):
            st.json({k: v for k, v in refused[1].items() if v not in (None, "")})
        if refused[2]:
            st.markdown("**Your version (not saved)**: copy what you need back into the form.")
            for field, value in refused[2].items():
                st.caption(field)
                st.code(str(value), language=None, wrap_lines=True)


def report(exc: Exception) -> None:
    """Show a user's mistake as an error; re-raise bugs."""
    if not isinstance(exc, GrowthLabError):
        raise exc
    st.error(str(exc), icon=":material/error:")


def changed(message: str) -> None:
    """Confirm a write. Cached reads need no clearing: every cached function is keyed by its
    inputs, the events file's modification time and the milestone rules, so a check-in does
    not throw away a funnel that took seconds to scan."""
    st.toast(message, icon=":material/check_circle:")


def postgres_secrets() -> dict:
    """[postgres] in .streamlit/secrets.toml: `url` (postgresql://user:password@host:port/db)
    or a `password` for the URL the workspace keeps; empty when not configured."""
    try:
        return dict(st.secrets.get("postgres", {}))
    except FileNotFoundError:  # StreamlitSecretNotFoundError subclasses it
        return {}


def missing_data_file(db, setting: str) -> str | None:
    """Where a data file the settings name should be, when it is no longer there (moved or
    deleted): saying "no events yet" would send the person to look elsewhere."""
    value = get_setting(db, setting)
    if not value or value.startswith(POSTGRES_SCHEMES):
        return None
    path = _beside_workspace(value)
    return None if path.exists() else str(path)


def _beside_workspace(value: str) -> Path:
    """A data path from settings: as written if absolute, else beside the workspace file."""
    path = Path(value)
    return path if path.is_absolute() else workspace_path().parent / path


def no_events_yet(db, what: str) -> None:
    """The empty state for events: none uploaded yet, or the uploaded file has gone."""
    if gone := missing_data_file(db, "events_path"):
        st.error(f"The events file is missing: {gone} is no longer in the workspace folder "
                 "(moved or deleted). Upload the events again in Settings.",
                 icon=":material/error:")
    else:
        st.info(f"No product events yet. {what}", icon=":material/upload_file:")


def data_file(db, setting: str) -> Path | str | None:
    """A workspace data path from settings, resolved beside the workspace file; or the URL of
    a PostgreSQL table, with its password from the secrets (never kept in the workspace)."""
    value = get_setting(db, setting)
    if not value:
        return None
    if value.startswith(POSTGRES_SCHEMES):
        secrets = postgres_secrets()
        return with_password(value, secrets.get("password") or urlsplit(
            secrets.get("url", "")).password)
    path = _beside_workspace(value)
    return path if path.exists() else None


def file_stamp(path: Path | str) -> tuple:
    """What identifies a version of an events file (or folder) for the cache; a table in a
    database is read again every five minutes."""
    if isinstance(path, str):
        return (Table.from_url(path).path, int(time.time() // 300))
    # Every file of a folder: .pq is Parquet too, and a CSV added beside is refused on read.
    files = sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
    # Today too: which events count as in the future (and are left out) moves with it.
    return (clock.today().isoformat(), *(scan_cache.identity(str(f)) for f in files))


def milestones(db) -> list[Milestone]:
    return load_from_workspace(db)


def milestone_names(db) -> dict[str, str]:
    return {m.key: m.name for m in load_from_workspace(db)}


def _read(events: str, dedupe: bool):
    """The events as the workspace reads them: without exact duplicate rows when its setting
    says so."""
    from growthlab.kpis.sources import Source

    return Source.of(events, dedupe=True) if dedupe else events


@st.cache_data(show_spinner=False, max_entries=32)
def cached_funnel(events: str, stamp: tuple, rules: tuple, start=None, end=None,
                  by_cohort: bool = False, dedupe: bool = False):
    from growthlab.kpis import funnel

    return funnel(_read(events, dedupe), [Milestone(*r) for r in rules], start=start, end=end,
                  by_cohort=by_cohort)


@st.cache_data(show_spinner=False, max_entries=32)
def cached_retention(events: str, stamp: tuple, event: str | None, days: tuple,
                     start_event: str | None = None, milestone: str | None = None,
                     rules: tuple = (), dedupe: bool = False):
    from growthlab.kpis import retention

    return retention(_read(events, dedupe), event=event, days=days, start_event=start_event,
                     milestone=milestone, milestones=[Milestone(*r) for r in rules])


@st.cache_data(show_spinner=False, max_entries=16)
def cached_pqls(events: str, stamp: tuple, rule: str, window: int | None, rules: tuple,
                dedupe: bool = False):
    from growthlab.kpis import qualified_users

    return qualified_users(_read(events, dedupe), rule, [Milestone(*r) for r in rules],
                           window_days=window)


@st.cache_data(show_spinner=False, max_entries=16)
def cached_quality(events: str, stamp: tuple):
    """Duplicates and future events, counted on the rows as they are (dropping duplicates
    changes only how the warning reads)."""
    from growthlab.kpis.engine import events_quality

    return events_quality(events)


def dedupe_events(db) -> bool:
    """Whether the pages drop exact duplicate rows: the workspace's setting (rows repeated at
    00:00, which may be two real events of a date-only export, are kept either way)."""
    return data_file(db, "events_path") is not None and admin.dedupe(db)


def quality_warnings(db) -> None:
    """Warn about exact duplicate rows and events dated in the future in the workspace's
    events, as the command line does: both change what the pages count."""
    events = data_file(db, "events_path")
    if events is None:
        return
    found = replace(cached_quality(str(events), file_stamp(events)),
                    deduped=dedupe_events(db))
    for warning in found.warnings("turn on “Drop exact duplicate rows” in Settings to drop "
                                  "them"):
        st.warning(warning.split(": ", 1)[1], icon=":material/content_copy:")


@st.cache_data(show_spinner=False, max_entries=16)
def cached_event_names(events: str, stamp: tuple) -> list[str]:
    from growthlab.kpis.engine import event_names

    return event_names(events)


def event_warnings(db, *, names=(), rules=()) -> None:
    """Warn about each event name (given, or in a rule) the workspace's events never hold."""
    from growthlab.kpis.names import unknown_events

    events = data_file(db, "events_path")
    if events is None:
        return
    for warning in unknown_events(cached_event_names(str(events), file_stamp(events)),
                                  names=names, rules=rules):
        st.warning(warning, icon=":material/help:")


def rules_key(ms: list[Milestone]) -> tuple:
    return tuple((m.key, m.name, m.phase, m.rule, m.window_days, m.success_moment) for m in ms)


def workspace_funnel(db, *, start=None, end=None):
    """The funnel of the workspace's events with its weekly cohorts, cached by file and rules
    (one scan serves every page that shows it); None without events."""
    events = data_file(db, "events_path")
    ms = milestones(db)
    if events is None or not ms:
        return None
    with st.spinner("Scanning events…"):
        return cached_funnel(str(events), file_stamp(events), rules_key(ms), start, end, True,
                             dedupe_events(db))


def computed_caption(events: Path | str) -> None:
    """Say where the numbers above were computed (this machine, or inside the database)."""
    st.caption(computed_where(events))


def page_link(page: str, label: str, icon: str | None = None, **params) -> None:
    st.page_link(page, label=label, icon=icon, query_params=params or None)
