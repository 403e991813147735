"""Replace a workspace (its database and its data files) as a whole, or not at all.

A swap builds the new workspace in a staging folder beside the old one. It commits in one
SQLite transaction that copies the new rows into the live database (so sessions opened before
see them) and records the swap's id there; only then are the data files renamed into place,
the old ones kept aside until the new ones are in. `recover` finishes a swap interrupted after
its commit and discards one interrupted before it; opening a workspace runs it.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import sqlite3
import tempfile
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

from growthlab.db import open_workspace, set_setting, sqlite_utils, transaction
from growthlab.errors import InputError

# The names an uploaded events or assignments file is stored under: the kind, then the shape
# its reader goes by (growthlab.kpis.sources.DELIMITED, or Parquet).
DATA_SHAPES = (".csv", ".csv.gz", ".tsv", ".tsv.gz", ".parquet")
DATA_NAMES = ("events", *(f"{kind}{shape}" for kind in ("events", "assignments")
                          for shape in DATA_SHAPES), "milestones.toml")
STAGING = ".growthlab-swap-"
UPLOAD = ".growthlab-upload-"
SWAP_SETTING = "swap_id"
_held = threading.local()


def _held_folders() -> set[str]:
    if not hasattr(_held, "folders"):
        _held.folders = set()
    return _held.folders


@contextmanager
def _flock(folder: Path, wait: bool) -> Iterator[bool]:
    fd = os.open(folder, os.O_RDONLY)
    try:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | (0 if wait else fcntl.LOCK_NB))
        except BlockingIOError:
            yield False
            return
        _held_folders().add(str(folder))
        try:
            yield True
        finally:
            _held_folders().discard(str(folder))
    finally:
        os.close(fd)


@contextmanager
def workspace_lock(target: str | Path) -> Iterator[None]:
    """Hold the workspace's folder for one builder or restorer at a time (re-entrant per
    thread). The lock is the folder itself, so no lock file is left beside the data."""
    folder = Path(target).parent.resolve()
    if str(folder) in _held_folders():
        yield
        return
    with _flock(folder, wait=True):
        yield


def recover_interrupted(target: Path) -> None:
    """On opening: finish or discard swaps a crash left behind, unless one is running now."""
    folder = target.parent.resolve()
    if str(folder) in _held_folders() or not any(folder.glob(STAGING + "*")):
        return
    with _flock(folder, wait=False) as locked:
        if locked:
            recover(target)


def recover(target: Path) -> None:
    """Finish the swaps that committed before a crash; discard the others. Hold the lock."""
    for stage in Path(target).parent.glob(STAGING + "*"):
        manifest = _read_manifest(stage)
        if manifest and _swap_id(stage.parent / manifest["database"]) == manifest["id"]:
            _roll_forward(stage, manifest["placed"], manifest.get("replaced", DATA_NAMES))
        shutil.rmtree(stage, ignore_errors=True)
    for upload in Path(target).parent.glob(UPLOAD + "*"):
        _remove_abandoned(upload)


@contextmanager
def staged_upload(folder: Path, suffix: str, data: bytes) -> Iterator[Path]:
    """`data` in a file of its own beside the workspace, removed afterwards. It is locked
    before it takes the name `recover` looks for, so only a crashed upload's file is cleared."""
    fd, partial = tempfile.mkstemp(suffix=suffix, prefix=".partial-upload-", dir=folder)
    staged = folder / Path(partial).name.replace(".partial-upload-", UPLOAD)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        with open(fd, "wb", closefd=False) as out:
            out.write(data)
        os.rename(partial, staged)
        yield staged
    finally:
        Path(partial).unlink(missing_ok=True)
        staged.unlink(missing_ok=True)
        os.close(fd)


def _remove_abandoned(upload: Path) -> None:
    try:
        fd = os.open(upload, os.O_RDONLY)
    except FileNotFoundError:
        return
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        upload.unlink(missing_ok=True)
    except BlockingIOError:
        pass  # an upload being checked right now
    finally:
        os.close(fd)


def _read_manifest(stage: Path) -> dict | None:
    try:
        return json.loads((stage / "manifest.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def _swap_id(database: Path) -> str | None:
    if not database.exists():
        return None
    try:
        conn = sqlite3.connect(database, timeout=10)
        try:
            row = conn.execute("SELECT value FROM settings WHERE key = ?",
                               [SWAP_SETTING]).fetchone()
        finally:
            conn.close()
    except sqlite3.Error:
        return None
    return row[0] if row else None


def owned(database: Path, folder: Path | None = None) -> set[str]:
    """The data files in `folder` (beside the workspace, by default) that are the workspace's
    own (DATA_NAMES): those its settings name, and a milestones.toml holding exactly its
    milestones (as the demo writes one). Other files there (a team's own milestones.toml, an
    assignments.csv from another tool) are not GrowthLab's to replace or remove."""
    if not _is_sqlite(database):
        return set()
    folder = (folder or database.parent).resolve()
    try:
        with sqlite3.connect(f"{database.resolve().as_uri()}?mode=ro", uri=True) as con:
            names = _named_in(con, folder)
            copy = _is_milestones_copy(sqlite_utils.Database(con), folder / "milestones.toml")
    except sqlite3.Error:
        return set()
    if copy:
        names.add("milestones.toml")
    return names & set(DATA_NAMES)


def _named_in(con: sqlite3.Connection, folder: Path) -> set[str]:
    """The names of the files in `folder` (resolved) a workspace's settings read from."""
    return {Path(v).name for (v,) in con.execute(
        "SELECT value FROM settings WHERE key LIKE '%\\_path' ESCAPE '\\'")
        if v and (folder / v).resolve().parent == folder}


def _is_milestones_copy(db: sqlite_utils.Database, path: Path) -> bool:
    """Whether `path` is a copy of the workspace's milestones, as GrowthLab writes them: a
    person's own file (or one edited since) differs."""
    from growthlab.kpis.milestones import load_from_workspace, milestones_toml

    try:
        return path.is_file() and path.read_text(encoding="utf-8") == milestones_toml(
            load_from_workspace(db))
    except (OSError, UnicodeDecodeError):
        return False


def refuse_shared(database: Path, names: set[str], doing: str) -> None:
    """Refuse to write data files `names` beside `database` when another workspace in that
    folder reads one of them (its settings name it): `doing` would replace its data too."""
    folder, ours = database.parent, database.resolve()
    for other in sorted(folder.iterdir()) if folder.is_dir() else []:
        # Copies of this workspace (growthlab.db.v5.bak, before a migration) are not others.
        if other.resolve() == ours or other.name.startswith(f"{ours.name}.") or \
                not _is_sqlite(other):
            continue
        try:
            with sqlite3.connect(f"{other.resolve().as_uri()}?mode=ro", uri=True) as con:
                used = _named_in(con, folder.resolve())
        except sqlite3.Error:
            continue  # not a workspace
        shared = sorted((used | ({"milestones.toml"} if used else set())) & names)
        if shared:
            raise InputError(f"the workspace {other.name} in the same folder reads "
                             f"{', '.join(shared)}: {doing} would replace its data too. Keep "
                             f"each workspace in a folder of its own (such as "
                             f"{folder / ours.stem / ours.name})", source=str(database))


def _is_sqlite(path: Path) -> bool:
    try:
        with path.open("rb") as f:
            return f.read(16) == b"SQLite format 3\x00"
    except OSError:  # a folder, or unreadable
        return False


class Swap:
    """A staging folder beside `target`: build the new workspace in `new` (the database under
    the target's name, data files under their names), then `commit`. Hold the lock."""

    def __init__(self, target: str | Path):
        self.target = Path(target)
        self.id = uuid.uuid4().hex
        self.folder = self.target.parent / f"{STAGING}{self.id}"
        self.new = self.folder / "new"
        self.database = self.new / self.target.name
        self._committed = self._finished = False

    def __enter__(self) -> Swap:
        self.new.mkdir(parents=True)
        (self.folder / "old").mkdir()
        return self

    def __exit__(self, *exc) -> None:
        if not self._committed or self._finished:
            shutil.rmtree(self.folder, ignore_errors=True)

    def commit(self, check: Callable[[sqlite_utils.Database], None] | None = None) -> None:
        """Make the staged workspace the live one. `check(live_db)` runs first, inside the
        committing transaction: raising there refuses the swap and changes nothing."""
        refuse_shared(self.target, set(DATA_NAMES), "replacing this workspace")
        ours, live = owned(self.target), self.target.parent
        placed = [name for name in DATA_NAMES if (self.new / name).exists()
                  # a copy of the milestones for the command line: theirs stays
                  and not (name == "milestones.toml" and (live / name).exists()
                           and name not in ours)]
        foreign = [name for name in placed if (live / name).exists() and name not in ours]
        if foreign:
            verb = "is" if len(foreign) == 1 else "are"
            raise InputError(f"{', '.join(foreign)} beside the workspace {verb} not read by it "
                             "(its settings name no such file), and replacing "
                             "this workspace would overwrite it: move it away first, or use a "
                             "folder of its own", source=str(self.target))
        replaced = sorted(set(placed) | ours)
        _write_atomically(self.folder / "manifest.json", json.dumps(
            {"id": self.id, "database": self.target.name, "placed": placed,
             "replaced": replaced}))
        for path in (self.new, *self.new.rglob("*")):
            _fsync(path)
        if self.target.exists():
            _copy_into_live(self.target, self.database, self.id, check)
        else:
            _install(self.target, self.database, self.id)
        self._committed = True
        _roll_forward(self.folder, placed, replaced)
        self._finished = True


def _copy_into_live(target: Path, staged: Path, swap_id: str, check) -> None:
    db = open_workspace(target)
    db.execute("PRAGMA synchronous = FULL")
    db.execute("ATTACH DATABASE ? AS incoming", [str(staged)])
    try:
        with transaction(db):
            if check:
                check(db)
            copy_rows(db, "incoming")
            set_setting(db, SWAP_SETTING, swap_id)
    finally:
        db.execute("DETACH DATABASE incoming")
        db.conn.close()


def _install(target: Path, staged: Path, swap_id: str) -> None:
    conn = sqlite3.connect(staged, isolation_level=None)
    try:
        conn.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE "
                     "SET value = excluded.value", [SWAP_SETTING, swap_id])
        conn.execute("PRAGMA journal_mode = DELETE")  # one file to rename; fails if still open
    finally:
        conn.close()
    _fsync(staged)
    for suffix in ("-wal", "-shm", "-journal"):
        Path(f"{target}{suffix}").unlink(missing_ok=True)  # strays of a removed workspace
    os.rename(staged, target)
    _fsync(target.parent)


def data_tables(db: sqlite_utils.Database, schema: str = "main") -> list[str]:
    """The tables holding a workspace's rows, parents first (the full-text index is left out:
    its triggers rebuild it)."""
    rows = db.execute(f"SELECT name, sql FROM {schema}.sqlite_master WHERE type = 'table' "
                      "AND name NOT LIKE 'sqlite%' ORDER BY rowid").fetchall()
    virtual = [name for name, sql in rows if sql.upper().startswith("CREATE VIRTUAL")]
    return [name for name, _ in rows
            if name not in virtual and not any(name.startswith(f"{v}_") for v in virtual)]


def copy_rows(db: sqlite_utils.Database, source: str) -> None:
    """Replace every row of the main database with those of the attached `source` schema.
    Run inside a transaction: a broken constraint or foreign key raises InputError."""
    tables = data_tables(db)
    db.execute("PRAGMA defer_foreign_keys = ON")
    for table in reversed(tables):
        db.execute(f"DELETE FROM main.[{table}]")
    for table in tables:
        columns = ", ".join(f"[{c[1]}]" for c in db.execute(f"PRAGMA main.table_info([{table}])"))
        try:
            db.execute(f"INSERT INTO main.[{table}] ({columns}) SELECT {columns} "
                       f"FROM {source}.[{table}] ORDER BY rowid")
        except sqlite3.IntegrityError as exc:
            raise InputError(f"a row breaks a rule of the schema ({exc})",
                             field=f"table {table}") from None
    broken = db.execute("PRAGMA main.foreign_key_check").fetchone()
    if broken:
        raise InputError(f"row {broken[1]} refers to a missing row of {broken[2]}",
                         field=f"table {broken[0]}")


def _roll_forward(stage: Path, placed: list[str], replaced) -> None:
    """Move the old data files (the `replaced` names) aside and the new ones in; safe to run
    again after a crash."""
    live_folder = stage.parent
    for name in DATA_NAMES:
        if name not in replaced:
            continue
        live, new, old = live_folder / name, stage / "new" / name, stage / "old" / name
        if name in placed and not new.exists():
            continue
        if live.exists() or live.is_symlink():
            _remove(old)
            os.rename(live, old)
        if name in placed:
            os.rename(new, live)
    _fsync(live_folder)
    (stage / "manifest.json").unlink(missing_ok=True)


def _remove(path: Path) -> None:
    if path.is_dir() and not path.is_symlink():
        shutil.rmtree(path)
    else:
        path.unlink(missing_ok=True)


def _write_atomically(path: Path, text: str) -> None:
    partial = path.with_name(path.name + ".partial")
    partial.write_text(text, encoding="utf-8")
    _fsync(partial)
    os.rename(partial, path)
    _fsync(path.parent)


def _fsync(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
