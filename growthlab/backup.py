"""Export a whole workspace (database and data files) to a zip, and import it back safely."""

from __future__ import annotations

import os
import shutil
import sqlite3
import tempfile
import zipfile
from pathlib import Path

from growthlab.db import SCHEMA_VERSION, workspace_path
from growthlab.errors import InputError

DB_NAME = "growthlab.db"
DATA_FILES = ("assignments.parquet", "milestones.toml", "events.csv", "events.parquet")


def export_workspace(workspace: str | Path | None, target: str | Path) -> str:
    """Snapshot the database with SQLite's backup API (consistent under writers) plus data."""
    source = workspace_path(workspace)
    if not source.exists():
        raise InputError("no workspace here to export", source=str(source))
    target = Path(target)
    with tempfile.TemporaryDirectory() as tmp:
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
            for name in DATA_FILES:
                if (folder / name).is_file():
                    zf.write(folder / name, name)
            for event_file in sorted((folder / "events").glob("*.parquet")):
                zf.write(event_file, f"events/{event_file.name}")
        os.replace(partial, target)
    return f"exported {source} to {target}"


def _check_archive(archive: Path) -> list[str]:
    if not archive.is_file():
        raise InputError("file not found", source=str(archive))
    if not zipfile.is_zipfile(archive):
        raise InputError("not a zip file; use a file written by `growthlab export`",
                         source=str(archive))
    with zipfile.ZipFile(archive) as zf:
        names = zf.namelist()
        if DB_NAME not in names:
            raise InputError(f"has no {DB_NAME}; use a file written by `growthlab export`",
                             source=str(archive))
        for name in names:
            if name.startswith("/") or ".." in Path(name).parts:
                raise InputError(f"unsafe path {name!r} inside the zip", source=str(archive))
    return names


def import_workspace(archive: str | Path, workspace: str | Path | None) -> str:
    """Replace the workspace with the archive's, only after the archive is fully checked."""
    archive = Path(archive)
    names = _check_archive(archive)
    target = workspace_path(workspace)
    target.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=target.parent) as tmp:
        with zipfile.ZipFile(archive) as zf:
            zf.extractall(tmp, members=names)
        staged = Path(tmp) / DB_NAME
        try:
            conn = sqlite3.connect(f"file:{staged}?mode=ro", uri=True)
            ok = conn.execute("PRAGMA integrity_check").fetchone()[0]
            version = conn.execute("SELECT max(version) FROM migrations").fetchone()[0]
            conn.close()
        except sqlite3.DatabaseError as exc:
            raise InputError(f"{DB_NAME} inside is not a GrowthLab workspace ({exc})",
                             source=str(archive)) from None
        if ok != "ok":
            raise InputError(f"{DB_NAME} inside is damaged: {ok}", source=str(archive))
        if version is None or version > SCHEMA_VERSION:
            raise InputError(f"workspace schema v{version} cannot be opened by this GrowthLab "
                             f"(v{SCHEMA_VERSION})", source=str(archive))
        for suffix in ("-wal", "-shm"):
            Path(str(target) + suffix).unlink(missing_ok=True)
        os.replace(staged, target)
        for name in names:
            if name == DB_NAME or name.endswith("/"):
                continue
            destination = target.parent / name
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.move(str(Path(tmp) / name), destination)
    return f"imported {archive} into {target}"
