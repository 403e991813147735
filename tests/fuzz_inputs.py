"""A seeded mutation fuzzer: damaged copies of the corpus must end in a result or a
GrowthLabError, never another exception or a warning.

tests/test_bad_inputs.py runs a short pass; for a long one (not collected by pytest):

    PYTHONPATH=. python tests/fuzz_inputs.py [CASES] [SEED]

which also runs the funnel and the statistics on whatever the checks accept, and prints each
traceback left.
"""

from __future__ import annotations

import random
import sys
import tempfile
import traceback
import warnings
from collections import Counter
from pathlib import Path

CORPUS = Path(__file__).parent / "bad_inputs"
GOOD = {
    "results_proportions.csv": b"metric,variant,users,conversions\nsignup,control,1000,100\n"
                               b"signup,treatment,1000,120\n",
    "results_means.csv": b"metric,variant,users,sum,sum_squares,pre_sum,pre_sum_squares,"
                         b"sum_product\nrevenue,control,100,500,3000,400,2000,2300\n"
                         b"revenue,treatment,100,550,3500,410,2100,2500\n",
    "events_good.csv": b"user_id,event,timestamp\n" + b"".join(
        b"u%d,%s,2026-01-%02dT10:%02d:00%s\n" % (i % 7, (b"visit", b"search", b'"a,b"')[i % 3],
                                               1 + i % 28, i % 60, (b"", b"Z", b"+02:00")[i % 3])
        for i in range(40)),
    "assignments_good.csv": b"user_id,experiment,variant,assigned_at\n" + b"".join(
        b"u%d,exp,%s,2026-01-%02dT09:00:00\n" % (i, (b"control", b"treatment")[i % 2], 1 + i)
        for i in range(7)),
    "milestones_good.toml": b'[[milestones]]\nkey = "a"\nname = "A"\nrule = "count(visit) >= 1"\n'
                            b'[[milestones]]\nkey = "b"\nname = "B"\nphase = "Growth"\n'
                            b'rule = "reached(a) and (days(search) >= 2 or not count(x) > 3)"\n'
                            b"window_days = 14\n",
}
INSERTS = [b'"', b",", b"\x00", b"\n", b"\r", b"\xff", b"1e308", b"-1", b"(", b"not ", b"[",
           b"+25:00", b"99999999999999999999", b"\xe2\x80\xae", b"nan"]


def seeds() -> list[tuple[str, bytes]]:
    files = [(p.name, p.read_bytes()) for p in sorted(CORPUS.iterdir())
             if p.is_file() and p.name != "README.md" and p.stat().st_size < 200_000]
    return files + sorted(GOOD.items())


def mutate(data: bytes, rng: random.Random) -> bytes:
    data = bytearray(data)
    for _ in range(rng.randint(1, 4)):
        op = rng.randrange(6)
        at = rng.randrange(len(data) + 1)
        if op == 0 and data:
            data[min(at, len(data) - 1)] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[at:]
        elif op in (2, 3):
            lines = bytes(data).split(b"\n")
            i = rng.randrange(len(lines))
            if op == 2:
                lines.insert(i, lines[i])
            else:
                del lines[i]
            data = bytearray(b"\n".join(lines))
        elif op == 4:
            data[at:at] = rng.choice(INSERTS)
        else:
            data[at:at + rng.randint(1, 8)] = bytes(rng.randrange(256) for _ in range(4))
    return bytes(data)


def check(name: str, data: bytes, folder: Path, con, deep: bool) -> str:
    """Run the library entry point for this kind of file; 'ok' or 'refused'."""
    from growthlab.io import parse_results_csv
    from growthlab.kpis import check_assignments, check_events, load_milestones_file

    kind = name.split("_")[0]
    path = folder / name
    path.write_bytes(data)
    if kind == "results":
        rows = parse_results_csv(data, name)
        if deep:
            from growthlab.stats import Options, analyze

            analyze(rows, Options())
    elif kind == "milestones":
        milestones = load_milestones_file(path)
        if deep:
            from growthlab.kpis import funnel

            funnel(folder / "events_good.csv", milestones, con=con)
    elif kind == "events":
        check_events(path, con)
        if deep:
            from growthlab.kpis import Milestone, funnel

            rule = "count(visit) >= 1 or days(search) >= 2"
            funnel(path, [Milestone("a", "A", "P", rule, window_days=7)], con=con)
    elif kind == "assignments":
        check_assignments(path, con)
        if deep:
            from growthlab.kpis import Milestone, experiment_metrics

            experiment_metrics(folder / "events_good.csv", path,
                               [Milestone("a", "A", "P", "count(visit) >= 1")], "exp",
                               con=con)
    return "ok"


def run(cases: int, seed: int, *, deep: bool = False) -> tuple[Counter, list[str]]:
    """Fuzz `cases` mutated files; returns outcome counts and the tracebacks left."""
    from growthlab.errors import GrowthLabError
    from growthlab.kpis.engine import connect

    rng = random.Random(seed)
    pool = [s for s in seeds() if s[0].split("_")[0] in
            ("results", "milestones", "events", "assignments")]
    outcomes: Counter = Counter()
    failures: list[str] = []
    con = connect()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        (folder / "events_good.csv").write_bytes(GOOD["events_good.csv"])
        for i in range(cases):
            name, data = rng.choice(pool)
            mutated = mutate(data, rng)
            try:
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    outcomes[check(name, mutated, folder, con, deep)] += 1
            except GrowthLabError:
                outcomes["refused"] += 1
            except Exception:  # what the fuzzer is looking for
                outcomes["traceback"] += 1
                failures.append(f"case {i} ({name}, {mutated[:80]!r}):\n{traceback.format_exc()}")
    return outcomes, failures


if __name__ == "__main__":
    count = int(sys.argv[1]) if len(sys.argv) > 1 else 5000
    outcomes, failures = run(count, int(sys.argv[2]) if len(sys.argv) > 2 else 1, deep=True)
    for failure in failures:
        print(failure)
    print(f"{count} cases: {dict(outcomes)}; {len(failures)} traceback(s) left")
    sys.exit(1 if failures else 0)
