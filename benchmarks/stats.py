"""The statistics engine against vectorised scipy, a Python loop over gbstats and a per-row
scipy loop, on the same rows with the outputs checked equal; then whole processes.

Run: python benchmarks/stats.py [N]. In this process, for N (100,000) proportion comparisons
and each method (frequentist, sequential, Bayesian):
  - `analyze()` from MetricRows and `analyze_columns()` from columns (the CLI's path);
  - the same formulas vectorised with numpy/scipy.stats;
  - a Python loop over gbstats 0.8.0 (TwoSidedTTest, SequentialTwoSidedTTest,
    EffectBayesianABTest), one comparison at a time;
checking estimate, interval, p-value (frequentist) and chance to win (Bayesian) agree within
1e-9 (gbstats' sequential p-value is 1 / e-value, a different quantity, so it is not compared).
Then whole processes, best of two, peak RSS of each process alone (/usr/bin/time), each
writing its JSON to a file:
  - `growthlab analyze --json` on 40,000 metric pairs vs a plain per-row scipy loop process
    reading the same CSV;
  - `growthlab analyze --json --method M` on the N comparisons, for each method, vs a Python
    process that reads the same CSV (csv module), loops gbstats over the same comparisons and
    writes them as JSON (json.dumps), with every figure both give checked equal within 1e-9;
    the ratio against the in-process gbstats loop above (no file) is printed beside it;
  - `growthlab analyze --json --correction bh` on a 1,000,000-row results CSV.
"""

import csv
import math
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from installed import byte_compile
from scipy import stats as sps

from growthlab.stats import MetricRow, Options, analyze
from growthlab.stats.table import ResultColumns, analyze_columns

OUT = Path(__file__).parent / "out"
FIGURES = ("estimate", "ci_low", "ci_high", "p_value", "chance_to_win")
LOOP = r"""
import csv, json, math, sys
from scipy import stats
rows = {}
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        rows.setdefault(r["metric"], {})[r["variant"]] = (float(r["users"]),
                                                          float(r["conversions"]))
out = []
for metric, arms in rows.items():
    (a, b), (c, d) = arms["control"], arms["treatment"]
    pc, pt = b / a, d / c
    vc, vt = pc * (1 - pc), pt * (1 - pt)
    est = pt / pc - 1
    se = math.sqrt(vt / (pc**2 * c) + vc * pt**2 / (pc**4 * a))
    dof = (vc / a + vt / c) ** 2 / ((vc / a) ** 2 / (a - 1) + (vt / c) ** 2 / (c - 1))
    half = stats.t.ppf(0.975, dof) * se
    out.append({"metric": metric, "estimate": est, "ci_low": est - half,
                "ci_high": est + half, "p_value": 2 * stats.t.sf(abs(est / se), dof)})
print(json.dumps({"results": out}, indent=2))
"""
GBSTATS = r"""
import csv, json, sys
from gbstats.bayesian.tests import EffectBayesianABTest
from gbstats.frequentist.tests import SequentialTwoSidedTTest, TwoSidedTTest
from gbstats.models.statistics import ProportionStatistic
test = {"frequentist": TwoSidedTTest, "sequential": SequentialTwoSidedTTest,
        "bayesian": EffectBayesianABTest}[sys.argv[2]]
arms = {}
with open(sys.argv[1], newline="") as f:
    for r in csv.DictReader(f):
        arms.setdefault(r["metric"], {})[r["variant"]] = ProportionStatistic(
            n=float(r["users"]), sum=float(r["conversions"]))
out = []
for metric, arm in arms.items():
    r = test(arm["control"], arm["treatment"]).compute_result()
    out.append({"metric": metric, "variant": "treatment", "estimate": r.expected,
                "ci_low": r.ci[0], "ci_high": r.ci[1], "p_value": getattr(r, "p_value", None),
                "chance_to_win": getattr(r, "chance_to_win", None)})
print(json.dumps({"results": out}))
"""


def sample(n: int, seed: int = 1):
    rng = np.random.default_rng(seed)
    nc = rng.integers(1_000, 50_000, n).astype(float)
    nt = rng.integers(1_000, 50_000, n).astype(float)
    xc = rng.binomial(nc.astype(int), 0.1).astype(float)
    xt = rng.binomial(nt.astype(int), 0.105).astype(float)
    return nc, xc, nt, xt


def vectorised(method: str, nc, xc, nt, xt, alpha: float = 0.05, n_star: float = 5000.0):
    """gbstats' formulas (relative lift of a proportion) over whole arrays with scipy."""
    pc, pt = xc / nc, xt / nt
    vc, vt = pc * (1 - pc), pt * (1 - pt)
    est = pt / pc - 1
    var = vt / (pc**2 * nt) + vc * pt**2 / (pc**4 * nc)
    se = np.sqrt(var)
    out = {"estimate": est}
    if method == "frequentist":
        dof = (vc / nc + vt / nt) ** 2 / ((vc / nc) ** 2 / (nc - 1) + (vt / nt) ** 2 / (nt - 1))
        half = sps.t.ppf(1 - alpha / 2, dof) * se
        out["p_value"] = 2 * sps.t.sf(np.abs(est / se), dof)
    elif method == "sequential":
        n = nc + nt
        rho = np.sqrt((-2 * np.log(alpha) + np.log(-2 * np.log(alpha) + 1)) / n_star)
        s2 = var * n
        half = np.sqrt(s2) * np.sqrt(2 * (n * rho**2 + 1) * np.log(
            np.sqrt(n * rho**2 + 1) / alpha) / (n**2 * rho**2))
    else:
        half = sps.norm.ppf(1 - alpha / 2) * se
        out["chance_to_win"] = sps.norm.sf(0, est, se)
    out["ci_low"], out["ci_high"] = est - half, est + half
    return out


def gbstats_loop(method: str, nc, xc, nt, xt):
    from gbstats.bayesian.tests import EffectBayesianABTest
    from gbstats.frequentist.tests import SequentialTwoSidedTTest, TwoSidedTTest
    from gbstats.models.statistics import ProportionStatistic

    test = {"frequentist": TwoSidedTTest, "sequential": SequentialTwoSidedTTest,
            "bayesian": EffectBayesianABTest}[method]
    out = {f: [] for f in ("estimate", "ci_low", "ci_high", "p_value", "chance_to_win")}
    for a, b, c, d in zip(nc.tolist(), xc.tolist(), nt.tolist(), xt.tolist(), strict=True):
        r = test(ProportionStatistic(n=a, sum=b), ProportionStatistic(n=c, sum=d)).compute_result()
        out["estimate"].append(r.expected)
        out["ci_low"].append(r.ci[0])
        out["ci_high"].append(r.ci[1])
        if method == "frequentist":
            out["p_value"].append(r.p_value)
        if method == "bayesian":
            out["chance_to_win"].append(r.chance_to_win)
    return {k: np.array(v) for k, v in out.items() if v}


def largest_difference(ours: dict, theirs: dict) -> float:
    return max(float(np.max(np.abs(np.asarray(ours[k], float) - theirs[k]))) for k in theirs)


def timed(func):
    start = time.perf_counter()
    value = func()
    return value, time.perf_counter() - start


def in_process(n: int) -> dict[str, float]:
    nc, xc, nt, xt = sample(n)
    rows = [r for i in range(n) for r in (MetricRow(f"m{i}", "control", nc[i], xc[i]),
                                          MetricRow(f"m{i}", "treatment", nt[i], xt[i]))]
    columns = ResultColumns.from_rows(rows)
    print(f"{n:,} proportion comparisons, in this process (seconds; ratio = theirs / ours)")
    print(f"  {'method':<12} {'analyze()':>10} {'columns':>8} {'vec scipy':>10} {'gbstats':>8} "
          f"{'gbstats/analyze':>16} {'max diff':>9}")
    loops = {}
    for method in ("frequentist", "sequential", "bayesian"):
        options = Options(method=method)
        results, full = timed(lambda o=options: analyze(rows, o).results)
        table, col_s = timed(lambda o=options: analyze_columns(columns, o))
        ours = {f: [r[f] for r in results] for f in FIGURES}
        same = {f: table.figures[f] for f in FIGURES if table.figures[f] is not None}
        scipy_out, vec_s = timed(lambda m=method: vectorised(m, nc, xc, nt, xt))
        gb_out, gb_s = timed(lambda m=method: gbstats_loop(m, nc, xc, nt, xt))
        diff = max(largest_difference(ours, scipy_out), largest_difference(ours, gb_out),
                   largest_difference(same, gb_out))
        assert diff < 1e-9, f"{method}: outputs differ by {diff}"
        loops[method] = gb_s
        print(f"  {method:<12} {full:10.3f} {col_s:8.3f} {vec_s:10.3f} {gb_s:8.1f} "
              f"{gb_s / full:15.1f}x {diff:9.1e}")
    return loops


def write_csv(path: Path, n: int, experiments: int = 1) -> None:
    """n metric pairs (control, treatment) split over `experiments`; every other metric is a
    mean metric with sums, the rest proportions."""
    nc, xc, nt, xt = sample(n)
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(["experiment", "metric", "variant", "users", "conversions", "sum",
                      "sum_squares"])
        for i in range(n):
            exp = f"EXP-{i % experiments:03d}" if experiments > 1 else ""
            for variant, users, x in (("control", nc[i], xc[i]), ("treatment", nt[i], xt[i])):
                if i % 2 or experiments == 1:
                    out.writerow([exp, f"m{i}", variant, int(users), int(x), "", ""])
                else:
                    out.writerow([exp, f"m{i}", variant, int(users), "", x * 3.5,
                                  x * 3.5**2 * 2])


def process(command: list[str], out: Path = OUT / "process.json") -> tuple[float, int]:
    """Best wall time of two runs and the larger peak RSS (bytes) of that process alone; the
    process writes its standard output to `out`."""
    best, peak = math.inf, 0
    for _ in range(2):
        with tempfile.NamedTemporaryFile("r", suffix=".rss") as rss, out.open("wb") as sink:
            start = time.perf_counter()
            subprocess.run(["/usr/bin/time", "-f", "%M", "-o", rss.name, *command], check=True,
                           stdout=sink)
            best = min(best, time.perf_counter() - start)
            peak = max(peak, int(rss.read().split()[-1]) * 1024)
    return best, peak


def same_results(ours: Path, theirs: Path, method: str) -> float:
    """The largest difference between the figures both processes wrote, after checking they
    wrote the same comparisons in the same order."""
    import json

    mine, gb = (json.loads(p.read_bytes())["results"] for p in (ours, theirs))
    assert [(r["metric"], r["variant"]) for r in mine] == [
        (r["metric"], r["variant"]) for r in gb], f"{method}: not the same comparisons"
    assert all(r["error"] is None and r["control"] == "control" for r in mine)
    figures = ["estimate", "ci_low", "ci_high",
               {"frequentist": "p_value", "bayesian": "chance_to_win"}.get(method, "estimate")]
    diff = max(abs(a[f] - b[f]) for a, b in zip(mine, gb, strict=True) for f in figures)
    assert diff < 1e-9, f"{method}: the processes' outputs differ by {diff}"
    return diff


def processes(n: int, loops: dict[str, float]) -> None:
    OUT.mkdir(exist_ok=True)
    byte_compile()
    cli = [sys.executable, "-m", "growthlab", "analyze"]
    pairs = OUT / "results-40000.csv"
    write_csv(pairs, 40_000)
    ours, peak = process([*cli, str(pairs), "--json"])
    loop, loop_peak = process([sys.executable, "-c", LOOP, str(pairs)])
    print("whole processes (best of two; peak RSS of each process alone)")
    print(f"  analyze --json, 40,000 pairs      {ours:6.2f} s {peak / 2**20:6.0f} MiB; per-row "
          f"scipy loop process {loop:6.2f} s {loop_peak / 2**20:4.0f} MiB: {loop / ours:.1f}x "
          "faster")
    comparisons = OUT / f"results-{n}.csv"
    write_csv(comparisons, n)
    row = {}
    for method, gb_s in loops.items():
        ours_json, theirs_json = OUT / f"analyze-{method}.json", OUT / f"gbstats-{method}.json"
        seconds, peak = process([*cli, str(comparisons), "--json", "--method", method],
                                ours_json)
        gb_process, gb_peak = process([sys.executable, "-c", GBSTATS, str(comparisons), method],
                                      theirs_json)
        diff = same_results(ours_json, theirs_json, method)
        print(f"  analyze --json --method {method:<12} {n:,} comparisons {seconds:6.2f} s "
              f"{peak / 2**20:4.0f} MiB; gbstats loop process (reads the CSV, writes JSON) "
              f"{gb_process:6.1f} s {gb_peak / 2**20:4.0f} MiB: {gb_process / seconds:.1f}x "
              f"faster (max diff {diff:.1e}); gbstats loop in process (above, no file) "
              f"{gb_s:6.1f} s: {gb_s / seconds:.1f}x")
        row[method] = (seconds, peak, gb_process, gb_s)
    print(f"  for the README, {n:,} comparisons, {' / '.join(row)}: ours "
          f"{' / '.join(f'{v[0]:.2f}' for v in row.values())} s "
          f"({min(v[1] for v in row.values()) / 2**20:.0f}-"
          f"{max(v[1] for v in row.values()) / 2**20:.0f} MiB), gbstats loop processes "
          f"{' / '.join(f'{v[2]:.1f}' for v in row.values())} s: "
          f"**{' / '.join(f'{v[2] / v[0]:.1f}x' for v in row.values())}** faster (in process, "
          f"no file: {' / '.join(f'{v[3] / v[0]:.1f}x' for v in row.values())})")
    million = OUT / "results-1000000.csv"
    write_csv(million, 500_000, experiments=100)
    seconds, peak = process([*cli, str(million), "--json", "--correction", "bh"])
    print(f"  analyze --json --correction bh, 1,000,000 rows (100 experiments, half means) "
          f"{seconds:6.2f} s, peak RSS {peak / 2**30:.2f} GiB")


if __name__ == "__main__":
    size = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}")
    processes(size, in_process(size))
    print(f"{time.strftime('%Y-%m-%d %H:%M')}, load average {os.getloadavg()[0]:.1f}")
