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
import re
import time
from pathlib import Path

VERSION = 5  # bump when what an entry holds, or the checks it stands for, change
FRESH_SECONDS = 2.0
KEEP = 64  # entries kept, most recently used first; older ones go when a new one is written
# Only files named like this are ever read or removed: the folder may hold other things. The
# suffixes are not .parquet, so a cache inside an events folder is not read as events.
ENTRY = re.compile(r"[0-9a-f]{40}\.(scan|json)")
PARTIAL_HOURS = 1  # a half-written entry this old was left by a process that died


def folder() -> Path:
    if os.environ.get("GROWTHLAB_CACHE_DIR"):
        return Path(os.environ["GROWTHLAB_CACHE_DIR"])
    base = os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache"
    return Path(base) / "growthlab"


def identity(name: str) -> tuple:
    """What tells one version of a file from another: its path as given (DuckDB reads hive
    columns such as event=visit/ from it) and as resolved, size, inode, and modification and
    change times (ctime changes with every write, and nothing can set it back)."""
    stat = os.stat(name)
    return (os.path.abspath(name), os.path.realpath(name), stat.st_size, stat.st_ino,
            stat.st_mtime_ns, stat.st_ctime_ns)


def fingerprint(files: tuple[str, ...]) -> list | None:
    """Each file's identity, or None when one is missing or was just written."""
    settled = time.time() - FRESH_SECONDS
    found = []
    for name in files:
        try:
            version = identity(name)
        except OSError:
            return None
        if max(version[4], version[5]) > settled * 1e9:
            return None
        found.append(list(version))
    return found


def key(source, query: str, *depends) -> str | None:
    """The entry name for what `query` (its SQL, so that a new version of GrowthLab computing
    it differently never reads an old entry) finds in `source`, or None when it cannot be
    cached."""
    files = getattr(source, "files", None)
    prints = fingerprint(files) if files else None
    if prints is None:
        return None
    import duckdb

    text = json.dumps([VERSION, duckdb.__version__, query, source.fmt, source.delimiter,
                       prints, [str(d) for d in depends]])
    return hashlib.sha256(text.encode()).hexdigest()[:40]


def read_json(name: str, shape: dict[str, type | tuple[type, ...]]) -> dict | None:
    """The entry's object if it has exactly the fields of `shape`, of those types; None
    (recompute) for anything else."""
    path = folder() / f"{name}.json"
    try:
        found = json.loads(path.read_text())
    except (OSError, ValueError):
        return None
    if not isinstance(found, dict) or set(found) != set(shape) or not all(
            isinstance(found[k], t) and not isinstance(found[k], bool)
            for k, t in shape.items()):
        _remove(path)
        return None
    _used(path)
    return found


def write_json(name: str, value: dict) -> None:
    _write(name, ".json", lambda path: path.write_text(json.dumps(value)))


def load_table(con, name: str, table: str, columns: tuple[tuple[str, str], ...]) -> bool:
    """Create temp table `table` from the entry if it holds exactly `columns` (names and
    DuckDB types); False (and no table) when there is no such entry."""
    path = folder() / f"{name}.scan"
    if not path.exists():
        return False
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE {table} AS SELECT * FROM read_parquet(?)",
                    [str(path)])
        found = tuple(con.execute(f"SELECT column_name, column_type FROM (DESCRIBE {table})")
                      .fetchall())
    except Exception:  # duckdb raises many types for a damaged file: recompute instead
        found = ()
    if found != columns:
        con.execute(f"DROP TABLE IF EXISTS {table}")
        _remove(path)
        return False
    _used(path)
    return True


def save_table(con, name: str, table: str) -> None:
    _write(name, ".scan",
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
    entries, now = [], time.time()
    for path in where.iterdir():
        if ENTRY.fullmatch(path.name):
            entries.append(path)
        elif path.name.endswith(".partial") and \
                now - path.stat().st_mtime > PARTIAL_HOURS * 3600:
            _remove(path)
    entries.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for old in entries[KEEP:]:
        _remove(old)


def _used(path: Path) -> None:
    """Mark an entry as just used, so pruning removes the least recently used first."""
    with contextlib.suppress(OSError):
        os.utime(path)


def _remove(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink()
