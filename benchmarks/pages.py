"""Page renders as a person meets them, under Streamlit's AppTest, each in its own process.

Run: python benchmarks/pages.py. Builds (once, under benchmarks/out/pages/) a realistic
workspace: the demo story with ~1M events, grown to 1,000 experiments with ICE scores, tags,
results, decisions and learnings. Then, each page in a fresh process:
  - cold: the first render in a new server process (imports included);
  - first: the first render of this workspace once the server is warm (another workspace's
    page rendered before it: imports done, this data's caches empty);
  - rerun: the same page again (what every click costs);
and the peak RSS of that process. Then the Milestones page on 20M events (the generator of
benchmarks/kpis.py) and the Experiment page with 20,000 and 1,000,000 result rows. Last, how
much of each cold and first figure is AppTest's own scan for components, which a server does
once at start-up. Modules are byte-compiled first, as an installed package is (under
PYTHONDONTWRITEBYTECODE each process would compile them again).
Tests never assert on time; this prints what a user gets.
"""

import json
import os
import shutil
import statistics
import subprocess
import sys
import time
from datetime import date, timedelta
from pathlib import Path

from installed import byte_compile

OUT = Path(__file__).parent / "out" / "pages"
ROOT = Path(__file__).resolve().parent.parent
ANCHOR = date(2026, 11, 23)
PAGES = ["overview", "okrs", "experiments", "experiment", "milestones", "research", "learnings",
         "settings"]
EXPERIMENTS = 1_000
DEMO_USERS = 64_000  # about 1M events
SCANS: list[float] = []


def build(path: Path) -> None:
    """The demo at ~1M events, then experiments up to EXPERIMENTS through the library."""
    import numpy as np

    from growthlab import demo_content, experiments
    from growthlab.db import open_workspace
    from growthlab.demo import create_demo
    from growthlab.stats import MetricRow

    print(create_demo(path, users=DEMO_USERS, anchor=ANCHOR))
    db = open_workspace(path)
    rng = np.random.default_rng(11)
    squads = [r["id"] for r in db.query("SELECT id FROM squads")]
    loops = [r["id"] for r in db.query("SELECT id FROM loops")]
    milestones = [m["key"] for m in demo_content.MILESTONES]
    start = db["experiments"].count
    for i in range(start, EXPERIMENTS):
        milestone = milestones[i % len(milestones)]
        exp = experiments.create(
            db, title=f"Idea {i}: nudge teams towards {milestone.replace('_', ' ')}",
            hypothesis=f"We believe nudge {i} for new teams will help them reach {milestone}, "
                       f"measured by {milestone}.", squad_id=squads[i % len(squads)],
            loop_id=loops[i % len(loops)], milestone_key=milestone, primary_metric=milestone,
            owner="bench", created_at=f"{ANCHOR - timedelta(days=int(i % 300))}T10:00:00")
        for scorer in ("maya", "leo", "ana")[: 1 + i % 3]:
            experiments.set_ice(db, exp, scorer, *(int(x) for x in rng.integers(3, 10, 3)))
        if i % 4 == 0:
            continue
        version = 1
        for step in ("backlog", "running", "analysing"):
            experiments.move(db, exp, version, step)
            version += 1
        n = int(rng.integers(2_000, 20_000))
        p = float(rng.uniform(0.05, 0.5))
        lift = float(rng.normal(0, 0.05))
        experiments.record_results(db, exp, [
            MetricRow(milestone, "control", n, conversions=round(n * p)),
            MetricRow(milestone, "treatment", n, conversions=round(n * p * (1 + lift))),
            MetricRow("searches_per_user", "control", n, sum=14.0 * n,
                      sum_squares=(n - 1) * 324 + n * 196),
            MetricRow("searches_per_user", "treatment", n, sum=14.2 * n,
                      sum_squares=(n - 1) * 324 + n * 14.2**2)])
        if i % 4 == 1:
            result = ("won", "lost", "inconclusive")[i % 3]
            experiments.decide(
                db, exp, version, result=result, decision="ship" if result == "won" else
                "iterate", conclusion=f"{milestone} moved by {lift:+.1%}.",
                learning_title=f"Nudge {i} {result}",
                learning_body=f"**What we tried.** Nudge {i}.\n\n**What happened.** "
                              f"{milestone} moved by {lift:+.1%}.")


def results_workspace(base: Path, rows: int) -> tuple[Path, int]:
    """A copy of the workspace whose running experiment EXP-004 has `rows` result rows (half
    proportion, half mean metrics; one in fifty truly moved), stored through the library."""
    import numpy as np

    from growthlab import experiments
    from growthlab.db import open_workspace
    from growthlab.stats import MetricRow

    folder = OUT / f"results-{rows}"
    path = folder / "growthlab.db"
    if not path.exists():
        shutil.rmtree(folder, ignore_errors=True)
        shutil.copytree(base.parent, folder)
    db = open_workspace(path)
    exp = next(db.query("SELECT id FROM experiments WHERE key = 'EXP-004'"))["id"]
    if db["metric_results"].count_where("experiment_id = ?", [exp]) != rows:
        rng = np.random.default_rng(rows)
        metric_rows = []
        for i in range(rows // 2):
            n = int(rng.integers(1_000, 50_000))
            lift = 0.1 if i % 50 == 0 else 0.0
            name = f"segment_{i:07d}"
            if i % 2:
                p = float(rng.uniform(0.02, 0.5))
                metric_rows += [MetricRow(name, v, n, conversions=int(rng.binomial(n, p * m)))
                                for v, m in (("control", 1), ("treatment", 1 + lift))]
            else:
                for v, m in (("control", 10.0), ("treatment", 10.0 * (1 + lift))):
                    mean = float(rng.normal(m, 5 / np.sqrt(n)))
                    metric_rows.append(MetricRow(name, v, n, sum=n * mean,
                                                 sum_squares=(n - 1) * 25 + n * mean**2))
        experiments.record_results(db, exp, metric_rows,
                                   version=experiments.results_version(db, exp))
    return path, exp


def events_workspace(base: Path, events: int) -> Path:
    """A copy of the workspace whose events are `events` rows from benchmarks/kpis.py."""
    sys.path.insert(0, str(Path(__file__).parent))
    from kpis import generate

    from growthlab.db import open_workspace, set_setting

    folder = OUT / f"events-{events}"
    path = folder / "growthlab.db"
    if not path.exists():
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        shutil.copy(base, path)
        (folder / "big").mkdir()
        generate(events, folder / "big" / "events.parquet")
        set_setting(open_workspace(path), "events_path", "big")
    return path


def child(page: str, workspace: str, warm: str, query: str) -> None:
    """Render one page: once on `warm` (a copy: imports, other cache keys), then on
    `workspace` twice. Prints seconds and peak RSS as JSON."""
    os.environ["GROWTHLAB_TODAY"] = str(ANCHOR + timedelta(days=1))
    sys.path[0] = str(ROOT)  # `pages` is the app's package, not this script
    from streamlit.testing.v1 import AppTest

    def render(path: str) -> tuple[AppTest, float]:
        os.environ["GROWTHLAB_WORKSPACE"] = path
        at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=1800)
        at.switch_page(f"pages/{page}.py")
        for pair in filter(None, query.split("&")):
            key, value = pair.split("=")
            at.query_params[key] = value
        started = time.perf_counter()
        at.run()
        assert not at.exception, [e.message for e in at.exception]
        return at, time.perf_counter() - started

    cold = render(warm)[1] if warm else None
    at, first = render(workspace)
    started = time.perf_counter()
    at.run()
    rerun = time.perf_counter() - started
    peak = peak_rss()
    print(json.dumps({"cold": cold, "first": first, "rerun": rerun, "peak": peak,
                      "scan": component_scan()}))


def component_scan() -> float:
    """Seconds AppTest spends in each new AppTest's first run reading every installed
    package's metadata for components: part of `cold` and `first`, though a server does it
    once, at start-up, before anyone opens a page."""
    from streamlit.components.v2.component_manager import BidiComponentManager

    started = time.perf_counter()
    BidiComponentManager().discover_and_register_components(start_file_watching=False)
    return time.perf_counter() - started


def peak_rss() -> int:
    """This process's peak resident memory in bytes (VmHWM: unlike ru_maxrss, it does not
    inherit the parent's peak across fork and exec)."""
    status = Path("/proc/self/status").read_text()
    return int(next(ln for ln in status.splitlines() if ln.startswith("VmHWM")).split()[1]) * 1024


def measure(page: str, workspace: Path, warm: Path | None = None, query: str = "") -> dict:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    out = subprocess.run([sys.executable, __file__, "--child", page, str(workspace),
                          str(warm or ""), query], capture_output=True, text=True,
                         cwd=ROOT, env=env | {"PYTHONPATH": str(ROOT)})
    if out.returncode:
        raise SystemExit(out.stderr[-3000:])
    return json.loads(out.stdout.strip().splitlines()[-1])


def line(what: str, m: dict) -> None:
    cold = f"{m['cold']:6.2f} s" if m["cold"] is not None else "      -"
    print(f"{what:<38} cold {cold}  first {m['first']:6.2f} s  rerun {m['rerun']:5.2f} s  "
          f"peak {m['peak'] / 2**30:.2f} GiB", flush=True)
    SCANS.append(m["scan"])


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    byte_compile("growthlab", "pages")
    print("load average at the start: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))
    base = OUT / "workspace" / "growthlab.db"
    if not base.exists():
        started = time.perf_counter()
        build(base)
        print(f"built the workspace in {time.perf_counter() - started:.0f} s")
    warm = OUT / "warm"
    shutil.rmtree(warm, ignore_errors=True)
    shutil.copytree(base.parent, warm)
    from growthlab.db import open_workspace
    from growthlab.kpis.engine import connect

    db = open_workspace(base)
    events = connect().execute("SELECT count(*) FROM read_parquet(?)", [
        str(base.parent / "events" / "*.parquet")]).fetchone()[0]
    print(f"workspace: {db['experiments'].count:,} experiments, {db['learnings'].count:,} "
          f"learnings, {db['metric_results'].count:,} result rows, {events:,} events")
    print("cold: first render of a new server process (imports included); first: of this "
          "workspace on a warm server; rerun: the same page again")
    for page in PAGES:
        line(page, measure(page, base, warm / "growthlab.db"))
    big = events_workspace(base, 20_000_000)
    line("milestones, 20M events", measure("milestones", big, warm / "growthlab.db"))
    for rows in (20_000, 1_000_000):
        path, exp = results_workspace(base, rows)
        line(f"experiment, {rows:,} result rows",
             measure("experiment", path, warm / "growthlab.db", query=f"id={exp}"))
    print(f"of each cold and first figure, AppTest's scan of the installed packages for "
          f"components (a server does it once at start-up): {statistics.median(SCANS):.2f} s")
    print("load average at the end: {:.1f} {:.1f} {:.1f}".format(*os.getloadavg()))


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        child(*sys.argv[2:6])
    else:
        main()
