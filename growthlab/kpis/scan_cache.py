"""What the checks of unchanged event files found, kept between runs, so that running `kpis`
again on the same file reads it once instead of three times.

An entry is keyed by each file's path, size, inode and modification and change times, and by
what the check depends on (the instant the data is cut at). A file written less than
FRESH_SECONDS before the check began is never cached: a quick rewrite could leave its times
unchanged (git treats such "racily clean" files the same way). Tables in a database have no
such fingerprint and are not cached. A cache that cannot be read or written is skipped.

The folder is $GROWTHLAB_CACHE_DIR, else $XDG_CACHE_HOME/growthlab, else ~/.cache/growthlab.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import time
from pathlib import Path

VERSION = 1  # bump when what an entry holds changes
FRESH_SECONDS = 2.0
KEEP = 64  # newest entries kept; older ones are removed when a new one is written


def folder() -> Path:
    if os.environ.get("GROWTHLAB_CACHE_DIR"):
        return Path(os.environ["GROWTHLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "growthlab"


def fingerprint(files: tuple[str, ...]) -> list | None:
    """Each file's identity and times, or None when one is missing or was just written."""
    settled = time.time() - FRESH_SECONDS
    found = []
    for name in files:
        try:
            stat = os.stat(name)
        except OSError:
            return None
        if max(stat.st_mtime, stat.st_ctime) > settled:
            return None
        found.append([os.path.realpath(name), stat.st_size, stat.st_ino, stat.st_mtime_ns,
                      stat.st_ctime_ns])
    return found


def key(source, query: str, *depends) -> str | None:
    """The entry name for what `query` (its SQL, so that a new version of GrowthLab computing
    it differently never reads an old entry) finds in `source`, or None when it cannot be
    cached."""
    files = getattr(source, "files", None)
    prints = fingerprint(files) if files else None
    if prints is None:
        return None
    text = json.dumps([VERSION, query, source.fmt, source.delimiter, prints,
                       [str(d) for d in depends]])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def read_json(name: str) -> dict | None:
    try:
        return json.loads((folder() / f"{name}.json").read_text())
    except (OSError, ValueError):
        return None


def write_json(name: str, value: dict) -> None:
    _write(name, ".json", lambda path: path.write_text(json.dumps(value)))


def load_table(con, name: str, table: str) -> bool:
    """Create temp table `table` from the entry; False (and no table) when there is none."""
    path = folder() / f"{name}.parquet"
    if not path.exists():
        return False
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_parquet(?)",
                    [str(path)])
    except Exception:  # duckdb raises many types for a damaged file: recompute instead
        _remove(path)
        return False
    return True


def save_table(con, name: str, table: str) -> None:
    _write(name, ".parquet",
           lambda path: con.execute(f"COPY {table} TO '{_quoted(path)}' (FORMAT parquet)"))


def _quoted(path: Path) -> str:
    return str(path).replace("'", "''")


def _write(name: str, suffix: str, write) -> None:
    """Write through a temporary file and rename it, so a reader never sees half an entry."""
    target = folder() / f"{name}{suffix}"
    partial = target.with_name(f".{target.name}.{os.getpid()}.partial")
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        write(partial)
        os.replace(partial, target)
        _prune(target.parent)
    except Exception:  # a cache that cannot be written is only slower
        _remove(partial)


def _prune(where: Path) -> None:
    entries = sorted((p for p in where.iterdir() if not p.name.startswith(".")),
                     key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        _remove(old)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
