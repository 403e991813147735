"""Milestone KPIs on DuckDB vs a floor query and vs pandas, over 10 million events.

Run: python benchmarks/kpis.py [EVENTS]. Generates ~200k users, 10 event names and 90 days as
Parquet under benchmarks/out/, then times in the same run:
  - the full milestone KPIs + funnel for the six demo milestones (GrowthLab, DuckDB);
  - the floor: one DuckDB group-by of user x event counts over the same file;
  - a straightforward pandas implementation of the same KPIs;
and prints both ratios and the peak memory of the GrowthLab run (its own process).
"""

import json
import resource
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd

from growthlab import demo_content
from growthlab.kpis import Milestone, funnel
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


def floor(path: Path) -> float:
    con = connect()
    start = time.perf_counter()
    con.execute("SELECT user_id, event, count(*) FROM read_parquet(?) GROUP BY ALL",
                [str(path)]).fetchall()
    return time.perf_counter() - start


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


def child() -> None:
    """Run the GrowthLab funnel alone so its peak memory is its own."""
    path = Path(sys.argv[2])
    start = time.perf_counter()
    result = funnel(path, MILESTONES)
    elapsed = time.perf_counter() - start
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
    print(json.dumps({"seconds": elapsed, "peak": peak,
                      "users": {m["key"]: m["users"] for m in result.milestones}}))


def main(events: int) -> None:
    OUT.mkdir(exist_ok=True)
    path = OUT / f"events-{events}.parquet"
    if not path.exists():
        start = time.perf_counter()
        generate(events, path)
        print(f"generated {path.name} in {time.perf_counter() - start:.1f} s")
    rows = connect().execute("SELECT count(*), count(DISTINCT user_id) FROM read_parquet(?)",
                             [str(path)]).fetchone()
    print(f"{rows[0]:,} events, {rows[1]:,} users")
    floor_s = min(floor(path) for _ in range(2))
    runs = [json.loads(subprocess.run([sys.executable, __file__, "--child", str(path)],
                                      capture_output=True, text=True, check=True).stdout)
            for _ in range(2)]
    ours = min(r["seconds"] for r in runs)
    peak = max(r["peak"] for r in runs)
    start = time.perf_counter()
    expected = pandas_kpis(path)
    pandas_s = time.perf_counter() - start
    same = expected == runs[0]["users"]
    print(f"  GrowthLab KPIs + funnel  {ours:7.2f} s   peak RSS {peak / 2**30:.2f} GiB")
    print(f"  floor (user x event)     {floor_s:7.2f} s   ratio {ours / floor_s:.2f}x the floor")
    print(f"  pandas                   {pandas_s:7.2f} s   GrowthLab is {pandas_s / ours:.1f}x "
          "faster")
    print(f"  same milestone counts as pandas: {same}")


if __name__ == "__main__":
    if len(sys.argv) > 1 and sys.argv[1] == "--child":
        child()
    else:
        main(int(sys.argv[1]) if len(sys.argv) > 1 else 10_000_000)
