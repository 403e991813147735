"""Workspace-wide changes made from Settings and Milestones, each checked and audited.

Pages never write to the database themselves: they pass the checked writer (see
`growthlab.access`) to these functions, which record who did what in the audit log.
"""

from __future__ import annotations

from collections.abc import Callable
from contextlib import contextmanager
from pathlib import Path

from growthlab.db import audit, get_setting, set_setting, transaction
from growthlab.errors import GrowthLabError, InputError
from growthlab.kpis.sources import DELIMITED
from growthlab.swap import DATA_NAMES, refuse_shared, staged_upload, workspace_lock

TAXONOMY = {"squads": "mission", "loops": "description", "product_areas": None}
MAX_PQL_WINDOW_DAYS = 3650


def add_to_taxonomy(db, table: str, name: str, detail: str = "", *, actor: str) -> int:
    """Add a squad, loop or product area (names are unique, case aside)."""
    if table not in TAXONOMY:
        raise InputError(f"must be one of {', '.join(TAXONOMY)}", field="table")
    name = (name or "").strip()
    if not name:
        raise InputError("is empty", field="name")
    values = {"name": name} | ({TAXONOMY[table]: detail} if TAXONOMY[table] else {})
    with transaction(db):
        taken = next((n for (n,) in db.execute(f"SELECT name FROM {table}")
                      if n.casefold() == name.casefold()), None)
        if taken is not None:
            raise InputError(f"{taken!r} already exists" + (
                "; the same name in another case would read as a second one" if taken != name
                else ""), field="name")
        new_id = db[table].insert(values).last_pk
        audit(db, actor, "create", table, new_id, values)
    return new_id


def workspace_file(db) -> Path:
    """The workspace's database file."""
    return Path(next(r for r in db.execute("PRAGMA database_list").fetchall()
                     if r[1] == "main")[2])


def workspace_folder(db) -> Path:
    """The folder holding the workspace file and its data files."""
    return workspace_file(db).parent


def check_data_file(db, kind: str, data: bytes, name: str, check: Callable):
    """What `check` finds in an uploaded events or assignments file, changing nothing (so a
    person can see it before it replaces the current file); errors name the upload."""
    with _checked_upload(db, kind, data, name, check) as (_, summary):
        return summary


def use_data_file(db, kind: str, data: bytes, name: str, check: Callable, *, actor: str):
    """Check an uploaded events or assignments file beside the workspace; only a valid one
    replaces the current one. Returns what `check` found; errors name the upload."""
    with _checked_upload(db, kind, data, name, check) as (staged, summary):
        final = staged.parent / f"{kind}{_upload_suffix(name)}"
        refuse_shared(workspace_file(db), {n for n in DATA_NAMES
                                           if n.partition(".")[0] == kind},
                      f"uploading {kind} here")
        with workspace_lock(final):
            staged.replace(final)
            with transaction(db):
                set_setting(db, f"{kind}_path", final.name)
                audit(db, actor, "upload", kind, None, {"file": name, "stored_as": final.name,
                                                        "bytes": len(data)})
            _remove_replaced(final)
    return summary


def _remove_replaced(final: Path) -> None:
    """The files of the same kind in other shapes, which the new upload replaced (a backup
    would otherwise carry a stale events.parquet beside the events.tsv in use)."""
    kind = final.name.partition(".")[0]
    for name in DATA_NAMES:
        if name.startswith(f"{kind}.") and name != final.name:
            (final.parent / name).unlink(missing_ok=True)


@contextmanager
def _checked_upload(db, kind: str, data: bytes, name: str, check: Callable):
    if kind not in ("events", "assignments"):
        raise InputError("must be events or assignments", field="kind")
    with staged_upload(workspace_folder(db), _upload_suffix(name), data) as staged:
        try:
            summary = check(staged)
        except GrowthLabError as exc:
            raise InputError(str(exc).replace(str(staged), name).replace(staged.name, name)
                             ) from None
        yield staged, summary


def _upload_suffix(name: str) -> str:
    """The file's shape from its name (.csv.gz, .tsv, ...): the reader goes by the suffix."""
    return next((s for s in DELIMITED if name.lower().endswith(s)), ".parquet")


def describe_events_change(before, after) -> str:
    """One sentence on the events now in use (and what they replaced)."""
    days = f"{(after.first or '-')[:10]} to {(after.last or '-')[:10]}"
    if before is None:
        return f"{after.rows:,} events from {after.users:,} users, {days}"
    return (f"{before.rows:,} → {after.rows:,} events, {before.users:,} → {after.users:,} "
            f"users, now {days}")


def events_change(before, after) -> list[dict]:
    """Rows of what replacing the events changes (`EventsInfo` before, or None, and after)."""
    def figures(info) -> list[str]:
        if info is None:
            return ["none"] * 4
        days = f"{(info.first or '-')[:10]} to {(info.last or '-')[:10]}"
        return [f"{info.rows:,}", f"{info.users:,}", f"{len(info.events):,}", days]

    return [{"": label, "before": old, "after": new} for label, old, new in zip(
        ("Events", "Users", "Event names", "Dates"), figures(before), figures(after),
        strict=True)]


def set_pql_rule(db, rule: str, window_days: int, *, actor: str) -> None:
    """The rule (and window) that makes a user a product-qualified lead."""
    from growthlab.kpis import parse_rule

    rule = (rule or "").strip()
    if not rule:
        raise InputError("is empty", field="PQL rule")
    parse_rule(rule, "PQL rule")
    window_days = check_pql_window(window_days)
    with transaction(db):
        set_setting(db, "pql_rule", rule)
        set_setting(db, "pql_window_days", str(window_days))
        audit(db, actor, "update", "pql_rule", None, {"rule": rule, "window_days": window_days})


DEDUPE_SETTING = "events_dedupe"


def set_dedupe(db, on: bool, *, actor: str) -> None:
    """Whether the workspace's events are read without exact duplicate rows (same user_id,
    event and timestamp), as `--dedupe` reads them on the command line."""
    with transaction(db):
        set_setting(db, DEDUPE_SETTING, "1" if on else "")
        audit(db, actor, "update", "events_dedupe", None, {"dedupe": bool(on)})


def dedupe(db) -> bool:
    return get_setting(db, DEDUPE_SETTING) == "1"


def check_pql_window(window_days) -> int:
    """The PQL window as the Milestones page reads it: whole days from 1 to 3650."""
    try:
        days = int(window_days)
    except (TypeError, ValueError):
        raise InputError(f"{window_days!r} is not a whole number of days",
                         field="PQL window") from None
    if not 1 <= days <= MAX_PQL_WINDOW_DAYS:
        raise InputError(f"must be from 1 to {MAX_PQL_WINDOW_DAYS} days", field="PQL window")
    return days


def use_table(db, kind: str, url: str, check: Callable, *, actor: str):
    """Point the workspace's events or assignments at a table in PostgreSQL, once `check`
    reads it; the URL is stored without its password. Returns what `check` found."""
    from growthlab.kpis.sources import Table

    if kind not in ("events", "assignments"):
        raise InputError("must be events or assignments", field="kind")
    table = Table.from_url(url)
    summary = check(url)
    with transaction(db):
        set_setting(db, f"{kind}_path", table.path)
        audit(db, actor, "connect", kind, None, {"table": table.path})
    return summary
