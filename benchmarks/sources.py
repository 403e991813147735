"""Milestone KPIs where events live: PostgreSQL and Spark against DuckDB on Parquet.

Run: python benchmarks/sources.py [EVENTS] (default 10 million). Uses the Parquet file of
benchmarks/kpis.py (generated if missing), loads it into a PostgreSQL server started for the
run (COPY), then times whole `growthlab kpis --json` processes, as a person runs them:
  - DuckDB on the Parquet file (the floor: one machine, no database);
  - the same events in PostgreSQL (the SQL runs inside the database);
  - Apache Spark, a local session, on the same Parquet file;
checks that all three print the same JSON, and counts the rows PostgreSQL sent back.
Needs Debian's postgresql package and Java (as .ci/run installs) and `pip install -e '.[test]'`.
"""

import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT / "tests"), str(ROOT / "benchmarks")]

from engines import load_table, postgres_server  # noqa: E402
from kpis import MILESTONES, OUT, generate  # noqa: E402

from growthlab.kpis import funnel, milestones_toml  # noqa: E402
from growthlab.kpis.backends import Postgres  # noqa: E402
from growthlab.kpis.engine import connect  # noqa: E402
from growthlab.kpis.sources import quality  # noqa: E402


def timed_kpis(events: str, milestones: Path, *extra: str) -> tuple[float, str]:
    env = os.environ | {"PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    out = subprocess.run([sys.executable, "-m", "growthlab", "kpis", events, "--milestones",
                          str(milestones), "--json", *extra], capture_output=True, text=True,
                         env=env, check=True)
    return time.perf_counter() - start, out.stdout


def rows_returned(url: str) -> int:
    """Rows PostgreSQL sends back for the funnel with weekly cohorts (the app's query)."""
    backend = Postgres(url)
    counts = []
    execute = backend.conn.execute

    def counting(query, params=None):
        cursor = execute(query, params)
        counts.append(cursor.rowcount)
        return cursor

    backend.conn.execute = counting
    funnel(url, MILESTONES, by_cohort=True, con=backend)
    return sum(counts)


def quality_cost(path: Path) -> None:
    """What counting duplicates and future events adds to a kpis run, on DuckDB."""
    con = connect()
    start = time.perf_counter()
    quality(path, con)
    checked = time.perf_counter() - start
    start = time.perf_counter()
    funnel(path, MILESTONES, con=con)
    computed = time.perf_counter() - start
    print(f"duplicates + future check: {checked:.1f} s, the funnel itself {computed:.1f} s "
          "(in-process, DuckDB)")


def main(events: int = 10_000_000) -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"events-{events}.parquet"
    if not path.exists():
        generate(events, path)
    with tempfile.TemporaryDirectory() as tmp:
        milestones = Path(tmp) / "m.toml"
        milestones.write_text(milestones_toml(MILESTONES))
        duck, expected = timed_kpis(str(path), milestones)
        print(f"DuckDB on Parquet: {duck:.1f} s (whole process)")
        quality_cost(path)
        with postgres_server() as url:
            start = time.perf_counter()
            loaded = load_table(url, "events", path)
            print(f"COPY {loaded:,} events into PostgreSQL: {time.perf_counter() - start:.0f} s")
            table = f"{url}?table=events"
            pg, found = timed_kpis(table, milestones)
            same = "same JSON" if found == expected else "JSON DIFFERS"
            print(f"PostgreSQL: {pg:.1f} s, {pg / duck:.1f}x DuckDB; {same}; "
                  f"{rows_returned(table):,} rows returned for {loaded:,} events")
        spark, found = timed_kpis(str(path), milestones, "--engine", "spark")
        same = "same JSON" if found == expected else "JSON DIFFERS"
        print(f"Spark (local[2], whole process with JVM start): {spark:.1f} s, "
              f"{spark / duck:.1f}x DuckDB; {same}")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
