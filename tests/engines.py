"""A real PostgreSQL server for the tests (Debian's postgresql package), started and stopped
by the tests themselves, and helpers to load events into it."""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from growthlab.kpis.sources import _timestamp_sql

PASSWORD = "growthlab-test"


def postgres_bin() -> Path:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    if not found:
        raise RuntimeError("PostgreSQL is not installed: apt-get install postgresql "
                           "(.ci/run does this)")
    return found[-1].parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _as_postgres(*argv: str) -> None:
    subprocess.run(["runuser", "-u", "postgres", "--", *argv], check=True,
                   capture_output=True, timeout=120)


@contextmanager
def postgres_server():
    """Yield the URL (with password) of a fresh database on a free port; `trust` only on the
    server's own socket, a password over TCP as in production."""
    bin_dir = postgres_bin()
    folder = Path(tempfile.mkdtemp(prefix="growthlab-pg-"))
    data = folder / "data"
    shutil.chown(folder, "postgres")
    port = free_port()
    pwfile = folder / "pw"
    pwfile.write_text(PASSWORD)
    shutil.chown(pwfile, "postgres")
    try:
        _as_postgres(str(bin_dir / "initdb"), "-D", str(data), "-U", "postgres", "-E", "UTF8",
                     "--auth-local=trust", "--auth-host=scram-sha-256",
                     f"--pwfile={pwfile}", "--no-sync")
        _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w",
                     "-o", f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                     "-c full_page_writes=off -c synchronous_commit=off "
                     "-c shared_buffers=256MB -c max_parallel_workers_per_gather=0", "start")
        _as_postgres(str(bin_dir / "psql"), "-h", str(folder), "-p", str(port), "-U",
                     "postgres", "-c", "CREATE DATABASE growthlab")
        yield f"postgresql://postgres:{PASSWORD}@127.0.0.1:{port}/growthlab"
    finally:
        if (data / "postmaster.pid").exists():
            _as_postgres(str(bin_dir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def load_table(url: str, table: str, path: Path, *, time_type: str = "timestamptz") -> int:
    """COPY the rows of a Parquet file or folder into `table` (replaced), its columns as text
    and its time column (timestamp or assigned_at) as `time_type`. Returns rows loaded."""
    import duckdb
    import psycopg

    files = [str(path / "*.parquet")] if path.is_dir() else [str(path)]
    with tempfile.TemporaryDirectory() as tmp:
        csv = Path(tmp) / "rows.csv"
        con = duckdb.connect()
        con.execute("SET TimeZone = 'UTC'")
        columns = dict(r[:2] for r in con.execute("DESCRIBE SELECT * FROM read_parquet(?)",
                                                  [files]).fetchall())
        # Microseconds, as GrowthLab reads them (PostgreSQL would round nanoseconds).
        select = ", ".join(f'{_timestamp_sql(c, kind)} AS "{c}"' if c in ("timestamp",
                           "assigned_at") else f'"{c}"' for c, kind in columns.items())
        con.execute(f"COPY (SELECT {select} FROM read_parquet({files!r})) TO '{csv}' (HEADER)")
        schema = table.rpartition(".")[0]
        name = ".".join(f'"{p}"' for p in table.split("."))
        types = ", ".join(f'"{c}" {time_type if c in ("timestamp", "assigned_at") else "text"}'
                          for c in columns)
        with psycopg.connect(url, autocommit=True, options="-c TimeZone=UTC") as conn:
            if schema:
                conn.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            conn.execute(f"DROP TABLE IF EXISTS {name}")
            conn.execute(f"CREATE TABLE {name} ({types})")
            with conn.cursor().copy(f"COPY {name} FROM STDIN (FORMAT csv, HEADER true)") as copy, \
                    open(csv, "rb") as f:
                while chunk := f.read(1 << 20):
                    copy.write(chunk)
            conn.execute(f"ANALYZE {name}")
            return conn.execute(f"SELECT count(*) FROM {name}").fetchone()[0]
