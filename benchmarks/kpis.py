"""Milestone KPIs on DuckDB vs a floor query and vs pandas, over 10 million events.

Run: python benchmarks/kpis.py [EVENTS]. Generates ~200k users, 10 event names and 90 days as
Parquet under benchmarks/out/, then times whole processes, as a user meets them (best of two
runs; peak RSS of each process alone, from /usr/bin/time):
  - `python -m growthlab kpis F --milestones M --json` for the six demo milestones (windows,
    days(), reached()): the first run on the file (an empty cache: validation, the funnel and
    the duplicate count each read it) and the same file again (its checks kept by
    growthlab.kpis.scan_cache, so only the funnel reads it);
  - the floor: a DuckDB process counting user x event groups of the same file, the result kept
    in DuckDB;
and asserts that the milestone counts equal a straightforward pandas implementation's.
"""

import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
from installed import byte_compile

from growthlab import demo_content
from growthlab.kpis import Milestone, milestones_toml
from growthlab.kpis.engine import connect

OUT = Path(__file__).parent / "out"
NAMES = ["visit", "search", "list_created", "export", "invite_sent", "upgrade", "review_posted",
         "referral_sent", "comment", "login"]
MILESTONES = [Milestone(**m) for m in demo_content.MILESTONES]


def generate(events: int, path: Path) -> None:
    rng = np.random.default_rng(3)
    users = events // 50
    user = rng.integers(0, users, events)
    weights = np.array([8, 30, 6, 3, 1, 0.3, 0.2, 0.3, 5, 10])
    name = rng.choice(len(NAMES), events, p=weights / weights.sum())
    signup = rng.uniform(0, 80, users)
    day = signup[user] + rng.exponential(8, events)
    keep = day < 90
    frame = pd.DataFrame({
        "user_id": pd.Series(user[keep]).map("u{:07d}".format),
        "event": np.array(NAMES)[name[keep]],
        "timestamp": pd.Timestamp("2026-01-01") + pd.to_timedelta(day[keep] * 86400, unit="s"),
    })
    frame.to_parquet(path, index=False, row_group_size=1_000_000)


FLOOR = ("import duckdb; print(duckdb.sql(\"select count(*) from (select user_id, event, "
         "count(*) from read_parquet('{}') group by all)\").fetchall())")


def timed(command: list[str], env=None) -> tuple[float, int, str]:
    """Wall seconds, peak RSS in bytes (of that process alone, from /usr/bin/time) and stdout
    of one whole process."""
    with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss:
        start = time.perf_counter()
        done = subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command],
                              capture_output=True, text=True, check=True, env=env)
        elapsed = time.perf_counter() - start
        return elapsed, int(rss.read().split()[-1]) * 1024, done.stdout


def best(command: list[str], runs: int = 2, env=None) -> tuple[float, int, str]:
    results = [timed(command, env) for _ in range(runs)]
    return (min(r[0] for r in results), max(r[1] for r in results), results[0][2])


def pandas_kpis(path: Path) -> dict[str, int]:
    frame = pd.read_parquet(path)
    first = frame.groupby("user_id")["timestamp"].min().rename("t0")
    frame = frame.join(first, on="user_id")
    frame["day"] = frame["timestamp"].dt.floor("D")
    reached: dict[str, pd.Series] = {}

    def measure(func, event, window):
        rows = frame[frame["event"] == event]
        if window is not None:
            rows = rows[rows["timestamp"] < rows["t0"] + pd.Timedelta(days=window)]
        grouped = rows.groupby("user_id")
        values = grouped.size() if func == "count" else grouped["day"].nunique()
        return values.reindex(first.index, fill_value=0)

    def holds(node, window):
        kind = type(node).__name__
        if kind == "Compare":
            v = measure(node.func, node.event, window)
            return {">=": v >= node.value, ">": v > node.value, "<=": v <= node.value,
                    "<": v < node.value, "==": v == node.value}[node.op]
        if kind == "Reached":
            return reached[node.key]
        if kind == "Not":
            return ~holds(node.item, window)
        parts = [holds(n, window) for n in node.items]
        out = parts[0]
        for p in parts[1:]:
            out = (out & p) if kind == "And" else (out | p)
        return out

    from growthlab.kpis import validate

    trees = validate(MILESTONES)
    for m in MILESTONES:
        reached[m.key] = holds(trees[m.key], m.window_days)
    return {k: int(v.sum()) for k, v in reached.items()}


def main(events: int) -> None:
    byte_compile()
    OUT.mkdir(exist_ok=True)
    path = OUT / f"events-{events}.parquet"
    if not path.exists():
        start = time.perf_counter()
        generate(events, path)
        print(f"generated {path.name} in {time.perf_counter() - start:.1f} s")
    rows = connect().execute("SELECT count(*), count(DISTINCT user_id) FROM read_parquet(?)",
                             [str(path)]).fetchone()
    print(f"{rows[0]:,} events, {rows[1]:,} users")
    milestones = OUT / "milestones.toml"
    milestones.write_text(milestones_toml(MILESTONES))
    floor_s, floor_peak, _ = best([sys.executable, "-c", FLOOR.format(path)])
    command = [sys.executable, "-m", "growthlab", "kpis", str(path), "--milestones",
               str(milestones), "--json"]
    with tempfile.TemporaryDirectory() as cache:
        env = {**os.environ, "GROWTHLAB_CACHE_DIR": cache}
        first, first_peak, out = timed(command, env)  # the file's first run: every check
        again, peak, again_out = best(command, env=env)  # its checks kept from the first
    assert again_out == out, "the repeat run printed other figures"
    users = {m["key"]: m["users"] for m in json.loads(out)["milestones"]}
    start = time.perf_counter()
    expected = pandas_kpis(path)
    pandas_s = time.perf_counter() - start
    print(f"  growthlab kpis --json, first run on the file  {first:7.2f} s   peak RSS "
          f"{first_peak / 2**30:.2f} GiB: {first / floor_s:.2f}x the floor")
    print(f"  the same file again (checks kept)             {again:7.2f} s   peak RSS "
          f"{peak / 2**30:.2f} GiB: {again / floor_s:.2f}x the floor")
    print(f"  floor: DuckDB user x event                    {floor_s:7.2f} s   peak RSS "
          f"{floor_peak / 2**30:.2f} GiB")
    print(f"  pandas (in this process)         {pandas_s:7.2f} s")
    print(f"  milestone users {users}")
    assert users == expected, f"pandas counts differ: {expected}"
    print("  same milestone counts as pandas: True")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
