"""Search latency over 100,000 learnings and experiments, and the Experiments page at 1,000.

Run: python benchmarks/search.py [ROWS]. Loads ROWS learnings and experiments (half each) into
a fresh workspace, then prints p50/p95 latency over a fixed set of queries, beside a baseline
of the same queries as a LIKE scan (what a team's wiki search does), and the time AppTest
takes to render the Experiments page with 1,000 experiments.
"""

import itertools
import json
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

from growthlab import learnings
from growthlab.db import now, open_workspace, transaction

WORDS = [
    "export", "list", "search", "invite", "onboarding", "checklist", "modal", "tour", "template",
    "upgrade", "pricing", "referral", "digest", "comment", "share", "team", "workspace",
    "retention", "activation", "value", "growth", "mobile", "filter", "suggestion", "notion",
    "docs", "slack", "alert", "keyboard", "dark", "summary", "report", "seat", "annual", "trial",
    "nudge", "reminder", "prompt", "banner", "gallery", "library", "extension", "win-back",
]
QUERIES = ["export", "modal tour", "onboard*", '"invite loop"', "pricing annual", "retention",
           "slack notifications", "template gallery", "checklist activation", "seat banner",
           "win-back", "mobile list", "referral credit", "zzz-not-there", "team trial"]


def vocabulary(rng: random.Random, size: int = 20_000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    made = {"".join(rng.choice(letters) for _ in range(rng.randint(3, 9))) for _ in range(size)}
    return WORDS + sorted(made)


def fill(db, rows: int) -> None:
    """Text with a Zipf-like word distribution, as prose has: few common words, a long tail."""
    rng = random.Random(5)
    stamp = now()
    words = vocabulary(rng)
    weights = [1 / (rank + 10) for rank in range(len(words))]
    rng.shuffle(weights)
    cumulative = list(itertools.accumulate(weights))

    def text(n):
        return " ".join(rng.choices(words, cum_weights=cumulative, k=n))

    with transaction(db):
        db["learnings"].insert_all(({
            "title": text(6), "body": text(80), "tags": json.dumps([rng.choice(WORDS)]),
            "status": "supported", "author": "bench", "created_at": stamp, "updated_at": stamp}
            for _ in range(rows // 2)), batch_size=5000)
        db["experiments"].insert_all(({
            "key": f"EXP-{i:06d}", "title": text(5), "hypothesis": text(30),
            "conclusion": text(20), "status": rng.choice(["idea", "backlog", "running",
                                                          "decided"]),
            "created_at": stamp, "updated_at": stamp} for i in range(rows // 2)),
            batch_size=5000)


def percentiles(samples):
    samples = sorted(samples)
    return statistics.median(samples), samples[int(len(samples) * 0.95) - 1]


def main(rows: int) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "bench.db"
        db = open_workspace(path)
        start = time.perf_counter()
        fill(db, rows)
        print(f"loaded {rows:,} rows in {time.perf_counter() - start:.1f} s")
        fts, like = [], []
        for _ in range(5):
            for q in QUERIES:
                t = time.perf_counter()
                learnings.search(db, q, limit=20)
                fts.append((time.perf_counter() - t) * 1000)
                word = q.strip('"*').split()[0]
                t = time.perf_counter()
                list(db.query("SELECT id FROM learnings WHERE title LIKE ? OR body LIKE ? "
                              "UNION ALL SELECT id FROM experiments WHERE title LIKE ? OR "
                              "hypothesis LIKE ? OR conclusion LIKE ?", [f"%{word}%"] * 5))
                like.append((time.perf_counter() - t) * 1000)
        p50, p95 = percentiles(fts)
        l50, l95 = percentiles(like)
        print(f"  FTS5 search: p50 {p50:.1f} ms, p95 {p95:.1f} ms over {len(fts)} queries")
        print(f"  baseline, LIKE scan for the first word (no ranking, no stemming): "
              f"p50 {l50:.1f} ms, p95 {l95:.1f} ms; search is {l95 / p95:.1f}x faster at p95")
    page_render()


def page_render() -> None:
    import os

    from streamlit.testing.v1 import AppTest

    from growthlab import experiments

    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "ws.db"
        db = open_workspace(path)
        with transaction(db):
            for i in range(1000):
                experiments.create(db, title=f"Experiment {i}", key=f"EXP-{i:04d}")
        os.environ["GROWTHLAB_WORKSPACE"] = str(path)
        root = Path(__file__).resolve().parent.parent
        sys.path[0] = str(root)  # `pages` is the app's package, not benchmarks/pages.py
        at = AppTest.from_file(str(root / "app.py"), default_timeout=120)
        at.run()
        at.switch_page("pages/experiments.py")
        timings = []
        for _ in range(3):
            t = time.perf_counter()
            at.run()
            timings.append(time.perf_counter() - t)
        assert not at.exception
        assert len(at.dataframe[0].value) == 1000, "the page must list every experiment"
        print(f"  Experiments page with 1,000 experiments under AppTest: best "
              f"{min(timings):.2f} s, median {statistics.median(timings):.2f} s")


if __name__ == "__main__":
    main(int(sys.argv[1]) if len(sys.argv) > 1 else 100_000)
