"""Export a whole workspace (database and data files) to a zip, and import one back safely.

An import checks everything before it replaces anything: the zip (known member names, sizes,
no damage), the database (GrowthLab's tables at a schema version this GrowthLab knows, every
row valid against them) and each data file as an upload would be. The workspace is then
replaced as a whole, or not at all (growthlab.swap).
"""

from __future__ import annotations

import os
import re
import shutil
import sqlite3
import struct
import tempfile
import zipfile
import zlib
from pathlib import Path

from growthlab import db as store
from growthlab.db import (
    audit,
    get_setting,
    migrate,
    open_workspace,
    schema_at,
    sqlite_utils,
    transaction,
    workspace_path,
)
from growthlab.errors import GrowthLabError, InputError
from growthlab.rows import check_rows
from growthlab.swap import (
    DATA_NAMES,
    Swap,
    copy_rows,
    data_tables,
    owned,
    recover,
    workspace_lock,
)

DB_NAME = "growthlab.db"
MEMBER = re.compile("|".join([re.escape(DB_NAME), r"events/[^/\\\x00-\x1f]+\.parquet",
                              *(re.escape(n) for n in DATA_NAMES if n != "events")]))
MAX_MEMBERS = 10_000
MAX_MEMBER_BYTES = 2_000_000_000
MAX_TOTAL_BYTES = 4_000_000_000
MAX_RATIO = 100  # unpacked / packed size of a member or archive over 1 MB: beyond, a bomb
_DAMAGE = (zipfile.BadZipFile, zipfile.LargeZipFile, zlib.error, EOFError, ValueError,
           struct.error)
_REMAKE = "make a new backup with `growthlab export`"


def export_workspace(workspace: str | Path | None, target: str | Path) -> str:
    """Snapshot the database with SQLite's backup API (consistent under writers) plus data."""
    source = workspace_path(workspace)
    if not source.exists():
        raise InputError("no workspace here to export", source=str(source))
    target = Path(target)
    if not target.parent.is_dir():
        raise InputError(f"the folder {target.parent} does not exist; create it or export to "
                         "another folder", source=str(target))
    with workspace_lock(source), tempfile.TemporaryDirectory() as tmp:
        recover(source)
        snapshot = Path(tmp) / DB_NAME
        src, dst = sqlite3.connect(source), sqlite3.connect(snapshot)
        with dst:
            src.backup(dst)
        src.close()
        dst.close()
        partial = target.with_name(target.name + ".partial")
        with zipfile.ZipFile(partial, "w", zipfile.ZIP_DEFLATED) as zf:
            zf.write(snapshot, DB_NAME)
            folder = source.parent
            in_use = _data_in_use(snapshot, folder)
            for name in DATA_NAMES:
                if name in in_use and (folder / name).is_file():
                    zf.write(folder / name, name)
            if "events" in in_use:
                for event_file in sorted((folder / "events").glob("*.parquet")):
                    zf.write(event_file, f"events/{event_file.name}")
        os.replace(partial, target)
    return f"exported {source} to {target}"


def _data_in_use(database: Path, folder: Path) -> set[str]:
    """The data files in `folder` the workspace reads (swap.owned): those its settings name
    (an events or assignments file replaced by one of another shape may still lie beside it)
    and a milestones.toml that is a copy of its milestones. A workspace that names none of a
    kind keeps every file of that kind, as before settings."""
    conn = sqlite3.connect(database)
    try:
        named = dict(conn.execute("SELECT key, value FROM settings WHERE key IN "
                                  "('events_path', 'assignments_path')").fetchall())
    finally:
        conn.close()
    used = owned(database, folder)
    for kind in ("events", "assignments"):
        if not named.get(f"{kind}_path"):
            used.update(n for n in DATA_NAMES if n.startswith(kind))
    return used


def import_workspace(archive: str | Path, workspace: str | Path | None, *,
                     actor: str = "local") -> str:
    """Replace the workspace with the archive's, only after the archive is fully checked."""
    archive = Path(archive)
    target = workspace_path(workspace)
    target.parent.mkdir(parents=True, exist_ok=True)
    with workspace_lock(target):
        recover(target)
        with Swap(target) as swap:
            unpacked = swap.folder / "unpacked"
            _unpack(archive, unpacked)
            _check_database(archive, unpacked / DB_NAME, swap.database, actor)
            _check_data_files(archive, unpacked)
            if target.exists():  # only now: opening may switch it to WAL or migrate it
                _check_opens(target)
            for name in DATA_NAMES:
                if (unpacked / name).exists():
                    os.rename(unpacked / name, swap.new / name)
            swap.commit()
    return f"imported {archive} into {target}"


def _check_opens(target: Path) -> None:
    try:
        open_workspace(target).conn.close()
    except sqlite3.DatabaseError as exc:
        raise InputError(f"cannot be opened as a workspace ({exc}); move it aside, then import "
                         "again", source=str(target)) from None


def _refuse(archive: Path, message: str) -> InputError:
    return InputError(message, source=str(archive))


def _unpack(archive: Path, into: Path) -> None:
    if not archive.is_file():
        raise _refuse(archive, "file not found")
    with archive.open("rb") as f:
        if f.read(2) != b"PK":
            raise _refuse(archive, "not a zip file; use a file written by `growthlab export`")
    try:
        zf = zipfile.ZipFile(archive)
    except _DAMAGE:
        raise _refuse(archive, "the archive is damaged (its index is missing, as when a copy is "
                               f"cut short); {_REMAKE}") from None
    try:
        with zf:
            infos = zf.infolist()
            _check_members(archive, infos, into.parent)
            for info in infos:
                if not info.is_dir():
                    (into / info.filename).parent.mkdir(parents=True, exist_ok=True)
                    with zf.open(info) as src, (into / info.filename).open("wb") as out:
                        shutil.copyfileobj(src, out, 1 << 20)
    except _DAMAGE as exc:
        reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0][:200]
        raise _refuse(archive, f"the archive is damaged ({reason}); {_REMAKE}") from None


def _check_members(archive: Path, infos: list[zipfile.ZipInfo], scratch: Path) -> None:
    """Only the names export writes, each once, stored or deflated, within the size caps."""
    if len(infos) > MAX_MEMBERS:
        raise _refuse(archive, f"holds {len(infos):,} files; a GrowthLab backup holds a "
                               "database, events, assignments and milestones")
    seen = set()
    for info in infos:
        name = info.filename
        if not (MEMBER.fullmatch(name) or name == "events/"):
            raise _refuse(archive, f"unexpected file {name!r} inside; a GrowthLab backup holds "
                                   f"only {DB_NAME}, events, assignments and milestones files")
        if name in seen:
            raise _refuse(archive, f"{name} appears twice inside; {_REMAKE}")
        seen.add(name)
        if info.flag_bits & 0x1:
            raise _refuse(archive, f"{name} inside is encrypted; GrowthLab backups are not")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise _refuse(archive, f"{name} inside uses a compression GrowthLab does not write; "
                                   f"{_REMAKE}")
        if info.file_size > MAX_MEMBER_BYTES:
            raise _refuse(archive, f"{name} inside is too large ({info.file_size / 1e9:.1f} GB; "
                                   f"at most {MAX_MEMBER_BYTES / 1e9:.1f} GB a file)")
        if info.file_size > 1 << 20 and info.file_size > MAX_RATIO * info.compress_size:
            raise _refuse(archive, f"{name} inside is too large for its packed size "
                                   f"({info.file_size / 1e6:,.0f} MB from "
                                   f"{info.compress_size / 1e6:,.2f} MB); it looks like a zip bomb")
    total = sum(info.file_size for info in infos)
    if total > MAX_TOTAL_BYTES:
        raise _refuse(archive, f"is too large unpacked ({total / 1e9:.1f} GB; at most "
                               f"{MAX_TOTAL_BYTES / 1e9:.1f} GB)")
    packed = archive.stat().st_size
    if total > 1 << 20 and total > MAX_RATIO * packed:
        raise _refuse(archive, f"is too large for its packed size ({total / 1e6:,.0f} MB from "
                               f"{packed / 1e6:,.2f} MB); it looks like a zip bomb")
    if DB_NAME not in seen:
        raise _refuse(archive, f"has no {DB_NAME}; use a file written by `growthlab export`")
    if shutil.disk_usage(scratch).free < total:
        raise _refuse(archive, f"needs {total / 1e6:,.0f} MB free beside the workspace to be "
                               "checked; free some space and import again")


def _check_database(archive: Path, staged: Path, checked: Path, actor: str) -> None:
    """Rebuild the archive's database in a fresh workspace: its schema must be GrowthLab's and
    every row must pass the fresh schema's constraints and types."""
    _check_schema(archive, staged)
    db = open_workspace(checked)
    db.execute("ATTACH DATABASE ? AS incoming", [str(staged)])
    try:
        with transaction(db):
            copy_rows(db, "incoming")
            audit(db, actor, "restore", "workspace", None, {"archive": archive.name})
        _check_values(db)
        check_rows(db)
        _check_settings_and_milestones(db)
    except GrowthLabError as exc:
        raise _refuse(archive, f"{DB_NAME} inside: {exc}") from None
    finally:
        db.execute("DETACH DATABASE incoming")
        db.conn.close()


def _check_schema(archive: Path, staged: Path) -> None:
    """GrowthLab's tables at a known schema version; upgraded in place when older."""
    def refuse(why: str) -> InputError:
        return _refuse(archive, f"{DB_NAME} inside {why}")

    conn = sqlite3.connect(staged, isolation_level=None)
    try:
        conn.execute("PRAGMA trusted_schema = OFF")
        ok = conn.execute("PRAGMA integrity_check(1)").fetchone()[0]
        if ok != "ok":
            raise refuse(f"is damaged ({ok}); {_REMAKE}")
        db = sqlite_utils.Database(conn)
        if "migrations" not in db.table_names():
            raise refuse("has none of GrowthLab's tables; use a file written by "
                         "`growthlab export`")
        versions = [r[0] for r in conn.execute("SELECT version FROM migrations ORDER BY 1")]
        known = [m[0] for m in store.MIGRATIONS]
        if versions and isinstance(versions[-1], int) and versions[-1] > store.SCHEMA_VERSION:
            raise refuse(f"is schema v{versions[-1]}, newer than this GrowthLab "
                         f"(v{store.SCHEMA_VERSION}); upgrade GrowthLab to import it")
        if not versions or versions != known[:len(versions)]:
            raise refuse(f"says schema version {versions[-1] if versions else 'none'}, which "
                         f"GrowthLab never wrote (it knows 1 to {store.SCHEMA_VERSION})")
        _check_tables(refuse, db, schema_at(versions[-1]))
        migrate(db)
    except sqlite3.DatabaseError as exc:
        raise refuse(f"is not a GrowthLab workspace ({exc})") from None
    finally:
        conn.close()


def _check_tables(refuse, db: sqlite_utils.Database, expected: sqlite_utils.Database) -> None:
    have = {t: {c.name for c in db[t].columns} for t in data_tables(db)}
    want = {t: {c.name for c in expected[t].columns} for t in data_tables(expected)}
    if missing := sorted(set(want) - set(have)):
        raise refuse(f"has no {', '.join(missing)} table: not a whole GrowthLab workspace")
    if extra := sorted(set(have) - set(want)):
        raise refuse(f"holds tables GrowthLab does not know ({', '.join(extra)})")
    for table, columns in want.items():
        if have[table] != columns:
            raise refuse(f"has table {table} with columns {', '.join(sorted(have[table]))}; "
                         f"GrowthLab's has {', '.join(sorted(columns))}")


def _check_values(db: sqlite_utils.Database) -> None:
    """Numbers where the schema says numbers, text (never bytes) where it says text."""
    for table in data_tables(db):
        for column in db[table].columns:
            numeric = column.type.upper() in ("INTEGER", "REAL")
            wrong = "('text', 'blob')" if numeric else "('blob')"
            row = db.execute(f"SELECT rowid FROM [{table}] WHERE typeof([{column.name}]) IN "
                             f"{wrong} LIMIT 1").fetchone()
            if row:
                kind = "text where a number belongs" if numeric else "binary data"
                raise InputError(f"row {row[0]} holds {kind}", field=f"table {table}: "
                                                                    f"{column.name}")


def _check_settings_and_milestones(db: sqlite_utils.Database) -> None:
    from growthlab.kpis import load_from_workspace, validate

    for key in ("events_path", "assignments_path"):
        value = get_setting(db, key)
        if value and value not in DATA_NAMES:
            raise InputError(f"{value!r} points outside the workspace; a backup's data files "
                             "sit beside its database", field=f"setting {key}")
    validate(load_from_workspace(db), "milestones")


def _check_data_files(archive: Path, unpacked: Path) -> None:
    """Each data file must pass the check an upload of it would."""
    from growthlab.kpis import check_assignments, check_events, load_milestones_file

    checks = {"events": check_events, "assignments": check_assignments,
              "milestones": load_milestones_file}
    for name in DATA_NAMES:
        if (unpacked / name).exists():
            try:
                checks[name.partition(".")[0]](unpacked / name)
            except GrowthLabError as exc:
                raise _refuse(archive, str(exc).replace(f"{unpacked}{os.sep}", "")) from None
