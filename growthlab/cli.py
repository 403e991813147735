"""`growthlab ...`: the command line over the same library the app uses.

Heavy modules (statsmodels, duckdb, pandas) are imported inside the commands that need them.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
from collections.abc import Sequence

from growthlab.errors import GrowthLabError, InputError

METHODS = ("frequentist", "bayesian", "sequential")
MAX_DAYS = 3650
MAX_VARIANTS = 20
MAX_LIMIT = 1000


class UsageError(GrowthLabError):
    pass


class _Parser(argparse.ArgumentParser):
    def error(self, message):  # argparse would exit with a usage dump; keep the contract
        raise UsageError(f"{self.prog}: {message}")


def _number(option: str, *, positive: bool = False):
    """An argparse type: a finite number (above 0 if `positive`), refused naming `option`."""
    def parse(text: str) -> float:
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or positive and value <= 0:
            kind = "a positive number" if positive else "a finite number"
            raise argparse.ArgumentTypeError(f"{option} {text!r}: give {kind}")
        return value
    return parse


def _name(option: str):
    """An argparse type: a name (an event, variant, experiment); an empty one, often an unset
    shell variable, is refused rather than read as the option not given."""
    def parse(text: str) -> str:
        if not any(ch.isprintable() and not ch.isspace() for ch in text):  # U+200B, BOM too
            raise argparse.ArgumentTypeError(f"{option} is empty; give a name or leave the "
                                             "option out")
        return text
    return parse


def _whole(option: str, low: int, high: int):
    """An argparse type: a whole number from `low` to `high`, refused naming `option`."""
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = None
        if value is None or not low <= value <= high:
            raise argparse.ArgumentTypeError(
                f"{option} {text!r}: give a whole number from {low} to {high:,}")
        return value
    return parse


def _weights(text: str) -> dict[str, float] | list[float]:
    """'control=0.8,treatment=0.2' (by name) or '0.8,0.2' (in the order of the file)."""
    parts = [p.strip() for p in text.split(",")]
    named = ["=" in p for p in parts]
    if any(named) and not all(named):
        raise argparse.ArgumentTypeError(
            f"--weights {text!r}: name every variant (control=0.8,treatment=0.2) or none")
    try:
        pairs = [p.partition("=") for p in parts]
        weights = {n.strip(): float(w) for n, _, w in pairs} if all(named) else [
            float(p) for p in parts]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--weights {text!r}: give numbers separated by commas, e.g. 0.5,0.5 or "
            "control=0.5,treatment=0.5") from None
    values = weights.values() if isinstance(weights, dict) else weights
    if not all(math.isfinite(w) and w > 0 for w in values):
        raise argparse.ArgumentTypeError("--weights: every weight must be a positive number")
    if isinstance(weights, dict) and (len(weights) != len(parts) or "" in weights):
        raise argparse.ArgumentTypeError(f"--weights {text!r}: name each variant once")
    return weights


def _days(text: str) -> list[int]:
    try:
        days = [int(d) for d in text.split(",")]
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"--days {text!r}: give whole days separated by commas, e.g. 1,7,30") from None
    if any(d < 0 for d in days):
        raise argparse.ArgumentTypeError("--days: days cannot be negative")
    if any(d > MAX_DAYS for d in days):
        raise argparse.ArgumentTypeError(f"--days: at most {MAX_DAYS:,} days (10 years)")
    return days


def _metrics(text: str) -> frozenset[str]:
    """'errors,churn' -> the metrics named; an empty one is refused, as an empty name is."""
    names = [n.strip() for n in text.split(",")]
    if not any(names):
        raise argparse.ArgumentTypeError("--lower-is-better is empty; name the metrics where "
                                         "lower is better, e.g. errors,churn, or leave it out")
    if not all(names):
        raise argparse.ArgumentTypeError(f"--lower-is-better {text!r}: a name between commas "
                                         "is empty; write errors,churn")
    return frozenset(names)


def _add_source_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--engine", choices=("duckdb", "spark"), default="duckdb",
                   help="where the SQL runs: DuckDB on this machine, or Apache Spark (local, or "
                        "Spark Connect when SPARK_REMOTE is set) over files or a table")
    p.add_argument("--dedupe", action="store_true",
                   help="drop exact duplicate rows (same user_id, event and timestamp)")


def _add_stats_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--method", choices=METHODS, default="frequentist")
    p.add_argument("--difference", choices=("relative", "absolute"), default="relative")
    p.add_argument("--alpha", type=_number("--alpha"), default=0.05)
    p.add_argument("--correction", choices=("none", "holm", "bh"), default="none")
    p.add_argument("--alternative", choices=("two-sided", "greater", "less"),
                   default="two-sided", help="one-sided tests (frequentist only)")
    p.add_argument("--n-star", type=_number("--n-star", positive=True), default=5000.0,
                   help="sequential tuning: total users where the interval is tightest")
    p.add_argument("--prior-mean", type=_number("--prior-mean"), default=0.0,
                   help="Bayesian normal prior on the relative lift: mean (default 0; "
                   "0.02 is +2%%)")
    p.add_argument("--prior-sd", type=_number("--prior-sd", positive=True), default=None,
                   help="Bayesian normal prior on the relative lift: standard deviation "
                   "(0.1 is 10%%; with --difference absolute scaled by each control's mean, as "
                   "in GrowthBook; default: flat prior)")
    p.add_argument("--control", type=_name("--control"), default=None,
                   help="the control variant (default: the one named control, else the first)")
    p.add_argument("--weights", type=_weights, default=None,
                   help="planned split by name, e.g. control=0.8,treatment=0.2 (a bare list "
                        "follows the order variants first appear in the file)")
    p.add_argument("--lower-is-better", type=_metrics, default=frozenset(),
                   metavar="METRIC[,METRIC...]",
                   help="metrics where a drop is good (errors, churn): the sentences say so; "
                        "the JSON is the same")
    p.add_argument("--json", action="store_true", help="print the JSON contract")


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="growthlab", description=__doc__.splitlines()[0])
    parser.add_argument("--workspace", help="workspace file (default $GROWTHLAB_WORKSPACE or "
                                            "data/growthlab.db)")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    p = sub.add_parser("demo", help="create/refresh the demo workspace")
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--users", type=int, default=50_000)

    p = sub.add_parser("analyze", help="significance tests of a summary results CSV")
    p.add_argument("results", help="CSV: metric, variant, users, conversions | sum, sum_squares")
    _add_stats_options(p)

    p = sub.add_parser("analyze-events", help="experiment milestone KPIs from raw events")
    p.add_argument("events")
    p.add_argument("assignments")
    p.add_argument("--milestones", required=True)
    p.add_argument("--experiment", type=_name("--experiment"), required=True)
    p.add_argument("--exclude-in-progress", action="store_true",
                   help="leave out users whose milestone window is still open at the data end")
    _add_source_options(p)
    _add_stats_options(p)

    p = sub.add_parser("kpis", help="milestone KPIs, funnel and success gap from events")
    p.add_argument("events")
    p.add_argument("--milestones", required=True)
    p.add_argument("--as-of", default=None,
                   help="the data ends here (ISO date or time, UTC); later events are ignored")
    _add_source_options(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("retention", help="retention by weekly signup cohort")
    p.add_argument("events")
    p.add_argument("--event", type=_name("--event"), default=None,
                   help="count returns only for this event")
    p.add_argument("--days", type=_days, default=[1, 7, 30])
    p.add_argument("--start-event", type=_name("--start-event"), default=None,
                   help="cohorts start at each user's first time doing this event")
    p.add_argument("--milestone", type=_name("--milestone"), default=None,
                   help="only users who reached this milestone (needs --milestones)")
    p.add_argument("--milestones", default=None)
    _add_source_options(p)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("power", help="users per variant for a proportion metric")
    p.add_argument("--baseline", type=_number("--baseline"), required=True)
    p.add_argument("--mde", type=_number("--mde"), required=True)
    p.add_argument("--relative", action="store_true", help="MDE is relative to the baseline")
    p.add_argument("--alpha", type=_number("--alpha"), default=0.05)
    p.add_argument("--power", type=_number("--power"), default=0.8)
    p.add_argument("--variants", type=_whole("--variants", 2, MAX_VARIANTS), default=None,
                   help="arms including the control (default 2, or one per --weights)")
    p.add_argument("--weights", type=_weights, default=None,
                   help="planned traffic split, the control's first: 0.8,0.2 or "
                   "control=0.8,treatment=0.2 (default: even)")
    p.add_argument("--daily-users", type=_number("--daily-users", positive=True), default=None)
    p.add_argument("--method", choices=("frequentist", "sequential"), default="frequentist",
                   help="the test the analysis runs: sequential is read at the planned end")
    p.add_argument("--n-star", type=_number("--n-star", positive=True), default=None,
                   help="sequential tuning: total users where the interval is tightest "
                   "(default 5000)")
    p.add_argument("--sd", type=_number("--sd", positive=True), default=None,
                   help="a mean metric's standard deviation: --baseline is then its mean")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("survey", help="product-market-fit survey: PMF share, NPS, CES")
    p.add_argument("responses", help="CSV: respondent_id, pmf [, segment, ces, nps, benefit]")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("research", help="coded interviews -> themes, jobs, CX map")
    p.add_argument("interviews", help="CSV: interview_id, participant, segment, date, kind, "
                                      "theme, excerpt [, milestone, lens]")
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("search", help="search learnings and experiments")
    p.add_argument("query")
    p.add_argument("--limit", type=_whole("--limit", 1, MAX_LIMIT), default=20)
    p.add_argument("--json", action="store_true")

    p = sub.add_parser("export", help="write the whole workspace to a zip")
    p.add_argument("path")
    p = sub.add_parser("import", help="replace the workspace with a zip from export")
    p.add_argument("path")
    return parser


def _print_json(payload) -> None:
    import orjson  # ~50x faster than json's pure-Python indenting encoder on 100k results

    print(orjson.dumps(payload, option=orjson.OPT_INDENT_2 | orjson.OPT_SERIALIZE_NUMPY).decode())


def _options(args):
    from growthlab.stats import Options

    if args.alternative != "two-sided" and args.method != "frequentist":
        raise UsageError("--alternative greater/less is for the frequentist method")
    if args.prior_sd is not None and args.method != "bayesian":
        raise UsageError("--prior-sd sets a prior for the bayesian method")
    return Options(method=args.method, difference=args.difference, alpha=args.alpha,
                   correction=args.correction, control=args.control, weights=args.weights,
                   alternative=args.alternative, prior_mean=args.prior_mean,
                   prior_sd=args.prior_sd, n_star=args.n_star)


def _print_analysis(analysis, options, untrusted: dict[str, str] | None = None,
                    not_final: dict[str, str] | None = None, parts=(),
                    lower: frozenset[str] = frozenset()) -> None:
    """The sentences and sample ratios; `untrusted` withholds the verdict of these metrics,
    saying why; `not_final` says why theirs may still move; a control mean in `parts` (the
    results as columns) too uncertain to divide by is said too; `lower`: the metrics where
    lower is better."""
    from growthlab.report import (
        SEQUENTIAL_P_VALUE,
        caveats,
        control_note,
        describe,
        uncertain_bases,
    )
    from growthlab.stats.srm import p_text

    note = control_note(analysis, options.control)
    if note:
        print(f"note: {note}", file=sys.stderr)
    if unknown := sorted(lower - {r["metric"] for r in analysis.results}):
        print(f"warning: --lower-is-better names {', '.join(unknown)}, which no result has",
              file=sys.stderr)
    several = len(analysis.srm) > 1
    shaky = uncertain_bases(parts, options.difference)
    for r in analysis.results:
        print(describe(r, alpha=options.alpha, srm=analysis.srm[r["experiment"] or ""],
                       label=r["experiment"] if several else None,
                       untrusted=(untrusted or {}).get(r["metric"]),
                       caveats=caveats(r, not_final or {}, shaky),
                       lower_is_better=r["metric"] in lower))
    for experiment, srm in analysis.srm.items():
        name = f" ({experiment})" if experiment else ""
        state = "MISMATCH: do not trust these results" if srm.flagged else "ok"
        users = ", ".join(f"{v} {u:,}" for v, u in zip(srm.variants, srm.users, strict=True))
        print(f"sample ratio{name}: users {users}, {p_text(srm.p_value)}: {state}")
    if options.method == "sequential":
        print(SEQUENTIAL_P_VALUE)


# Past this many experiments in one file the columnar analysis, one pass per experiment,
# is slower than the row analysis, one pass for them all.
COLUMNAR_EXPERIMENTS = 1_000


def cmd_analyze(args) -> None:
    from growthlab.errors import StatsError
    from growthlab.io_results import read_results_columns
    from growthlab.report import RESULT_FIELDS, analysis_payload, write_analysis_json
    from growthlab.stats import Analysis
    from growthlab.stats.table import analyze_experiments

    parts = read_results_columns(args.results)
    options = _options(args)
    if len(parts) > COLUMNAR_EXPERIMENTS:
        analysis = _analyze_rows(args.results, options)
        if args.json:
            _print_json(analysis_payload(analysis))
        else:
            _print_analysis(analysis, options, parts=parts, lower=args.lower_is_better)
        return
    try:
        analyses, srm = analyze_experiments(parts, options)
    except StatsError as exc:
        _analyze_rows(args.results, options)  # raises the row analysis' own message
        raise StatsError(f"{args.results}: {exc}") from None
    if args.json:
        write_analysis_json(sys.stdout, analyses, srm)
        return
    keys = ("experiment", "metric", "kind", *RESULT_FIELDS[2:])
    _print_analysis(Analysis([r for a in analyses for r in a.records(keys)], srm), options,
                    parts=parts, lower=args.lower_is_better)


def _analyze_rows(path: str, options):
    """The row-by-row analysis (one vectorised pass over every experiment), which also gives
    the exact message a user knows for a file the columnar one refuses."""
    from growthlab.errors import StatsError
    from growthlab.io import read_results_csv
    from growthlab.stats import analyze

    try:
        return analyze(read_results_csv(path), options)
    except StatsError as exc:
        raise StatsError(f"{path}: {exc}") from None


def cmd_analyze_events(args) -> None:
    from growthlab.kpis import check_events, load_milestones_file
    from growthlab.kpis.engine import experiment_metrics
    from growthlab.kpis.milestones import horizons, last_to_close
    from growthlab.stats import MetricRow, analyze
    from growthlab.stats.analysis import drop_constant_metrics, sample_ratio

    milestones = load_milestones_file(args.milestones)
    con, events = _open_events(args, args.events)
    assignments = _open_events(args, args.assignments)[1] if args.engine == "spark" else \
        args.assignments
    known = sorted(check_events(events, con).events)  # the check already names every event
    _warn_quality(events, con)
    _warn_unknown_events(known, rules=[m.rule for m in milestones])
    computed = experiment_metrics(events, assignments, milestones, args.experiment,
                                  exclude_in_progress=args.exclude_in_progress, con=con)
    if warning := computed.assignment_warning():
        print(f"warning: {warning}", file=sys.stderr)
    rows, skipped = drop_constant_metrics(computed.rows)
    if not rows:
        from growthlab.kpis.engine import check_ids_match

        check_ids_match(events, assignments, args.experiment, con)
        raise GrowthLabError(computed.nothing_to_test(args.experiment))
    options = _options(args)
    analysis = analyze(rows, options)
    # The sample ratio is about who was assigned, whatever the metrics count.
    analysis.srm[args.experiment] = sample_ratio(
        [MetricRow("assigned", v, n, conversions=0, experiment=args.experiment)
         for v, n in computed.assigned.items()], options.weights)
    if args.json:
        from growthlab.report import analysis_payload

        payload = analysis_payload(analysis)
        payload["unequal_censoring"] = computed.unequal_censoring
        for result in payload["results"]:
            result["in_progress_users"] = computed.in_progress[(result["metric"],
                                                                result["variant"])]
            result["control_in_progress_users"] = computed.in_progress[(result["metric"],
                                                                        result["control"])]
        payload["data_end"] = computed.data_end
        payload["excluded_users"] = computed.excluded
        payload["skipped_metrics"] = skipped
        payload["undecided_metrics"] = computed.undecided
        _print_json(payload)
        return
    biased = {} if args.exclude_in_progress else dict.fromkeys(
        computed.unequal_censoring, "the arms have different shares of users still inside "
        "their window (assignment was staggered); rerun with --exclude-in-progress")
    if biased:
        print(f"warning: the arms have different shares of users still inside their window for "
              f"{', '.join(biased)} (assignment was staggered), so counting "
              "them as not reached biases the comparison; rerun with --exclude-in-progress",
              file=sys.stderr)
    unfinished = {} if args.exclude_in_progress else computed.open_windows(horizons(milestones))
    _print_analysis(analysis, options, biased, unfinished, lower=args.lower_is_better)
    waiting = last_to_close(horizons(milestones))
    open_windows = computed.still_in_window(waiting)
    if open_windows:
        state = "left out" if args.exclude_in_progress else "counted as not reached yet"
        print(f"{open_windows:,} user(s) are still inside the {waiting} window at the data end "
              f"({computed.data_end}): {state}")
    if computed.excluded:
        print(f"{computed.excluded} user(s) assigned to more than one variant were excluded")
    if skipped:
        print(f"skipped (same value for every user): {', '.join(skipped)}")
    if computed.undecided:
        print(f"left out (fewer than two arms with 2 users whose window has closed): "
              f"{', '.join(computed.undecided)}")


def cmd_kpis(args) -> None:
    from growthlab.kpis import funnel, load_milestones_file

    milestones = load_milestones_file(args.milestones)
    con, events = _open_events(args, args.events)
    result = funnel(events, milestones, as_of=args.as_of, con=con, check=True)
    quality = _warn_quality(events, con)
    _warn_as_of(args.as_of, result, events, con, quality.future)
    _warn_unknown_events(sorted(result.checked.events), rules=[m.rule for m in milestones])
    if args.json:
        _print_json(result.as_dict())
        return
    print(f"{result.users:,} user{'' if result.users == 1 else 's'}; data end {result.data_end}")
    for m in result.milestones:
        share = "     -" if m["share"] is None else f"{m['share']:6.1%}"
        conv = m["conversion_from_previous"]
        conv_text = "" if conv is None else f"  {conv:6.1%} from previous"
        print(f"{m['name']:<24} {m['users']:>9,}  {share} of {m['eligible']:,} "
              f"eligible{conv_text}")
    if result.success_gap:
        from growthlab.io import percent

        gap = result.success_gap
        print(f"success gap: {gap['from']} -> {gap['to']} loses {percent(gap['drop'])} of users")
    print("shares count users whose milestone window had closed by the data end")
    if result.open_ended:
        print(f"note: no window of their own: {', '.join(result.open_ended)}; recent sign-ups "
              "have had less time to reach them, so their shares read low; give each a "
              "window_days for shares that compare")


def cmd_retention(args) -> None:
    from growthlab.kpis import check_events, load_milestones_file, retention
    from growthlab.kpis.names import require_event

    if args.milestone and not args.milestones:
        raise UsageError("--milestone needs --milestones M.toml to know its rule")
    milestones = load_milestones_file(args.milestones) if args.milestones else None
    con, events = _open_events(args, args.events)
    known = sorted(check_events(events, con).events)  # the check already names every event
    _warn_quality(events, con)
    _warn_unknown_events(known, names=[args.event])
    if args.start_event:
        require_event(args.start_event, known, "--start-event")
    table = retention(events, event=args.event, days=args.days,
                      start_event=args.start_event, milestone=args.milestone,
                      milestones=milestones, con=con)
    if args.json:
        _print_json(table.as_dict())
        return
    print("cohort        users  " + "  ".join(f"day {d:>3}" for d in table.days))
    for c in table.cohorts:
        cells = "  ".join(f"{v:7.1%}" if v is not None else "      -" for v in c["retention"])
        print(f"{c['cohort']}  {c['users']:>6}  {cells}")


def _open_events(args, location: str):
    """The engine and the source: DuckDB for files, PostgreSQL for a postgresql:// URL, and
    with --engine spark, Spark over files or a table in its catalog."""
    from growthlab.kpis.engine import connect_for
    from growthlab.kpis.sources import POSTGRES_SCHEMES, Source, Table, check_table_name

    if args.engine != "spark":
        source = Source.of(location, dedupe=args.dedupe)
        return connect_for(source), source
    from growthlab.kpis.backends import Spark

    if location.startswith(POSTGRES_SCHEMES):
        raise UsageError("--engine spark reads files or Spark tables; for PostgreSQL leave "
                         "--engine out and the SQL runs in the database")
    is_file = os.path.exists(location)
    source = Source.of(location, dedupe=args.dedupe) if is_file else Table(
        check_table_name(location, source=location), dedupe=args.dedupe)
    return Spark(), source


def _warn_as_of(as_of: str | None, result, events, con, future: int) -> None:
    """Say when --as-of lies outside the events: before the first, nobody is counted; after
    the last (before the future, whose events are left out), windows count as closed with no
    data to show what happened in them."""
    from growthlab.kpis.engine import last_event

    checked = result.checked
    if as_of is None or checked is None:
        return
    last = last_event(events, con) if future else checked.last
    if not result.users:
        print(f"warning: no event comes before {as_of} (the first is {checked.first}); "
              "give an --as-of within the data", file=sys.stderr)
    elif last is not None and result.data_end > last:
        print(f"warning: --as-of {as_of} is after the last event ({last}): windows "
              "that close after it count as closed with no data to show them, so users count "
              "as not reaching milestones they may have reached; give an --as-of within the "
              "data or leave it out", file=sys.stderr)


def _warn_quality(events, con):
    """Print what is odd in the events (duplicates, events in the future); returns it."""
    from growthlab.kpis.engine import events_quality

    quality = events_quality(events, con)
    for warning in quality.warnings():
        print(f"warning: {warning}", file=sys.stderr)
    return quality


def _warn_unknown_events(known: list[str], *, names=(), rules=()) -> None:
    """Print on stderr each event name that never occurs among the `known` ones."""
    from growthlab.kpis.names import unknown_events

    for warning in unknown_events(known, names=names, rules=rules):
        print(f"warning: {warning}", file=sys.stderr)


def cmd_power(args) -> None:
    from growthlab.report import is_control_name
    from growthlab.stats import plan
    from growthlab.stats.compare import DEFAULT_N_STAR
    from growthlab.stats.power import tuned_to_its_end, what_sets_the_size

    weights = args.weights
    if isinstance(weights, dict):  # the arm called control is the control, wherever named
        if len({n.casefold() for n in weights}) < len(weights):
            raise InputError("--weights: name each variant once (names match in any case)")
        weights = dict(sorted(weights.items(), key=lambda kv: not is_control_name(kv[0])))
    names = list(weights) if isinstance(weights, dict) else None
    shares = list(weights.values()) if names else weights
    if shares is not None and args.variants not in (None, len(shares)):
        raise InputError(f"--weights gives {len(shares)} shares but --variants is "
                         f"{args.variants}; give one weight per variant, or drop --variants")
    if args.n_star is not None and args.method != "sequential":
        raise InputError("--n-star tunes the sequential test; add --method sequential, or "
                         "drop --n-star")
    if args.power <= args.alpha:
        raise InputError(f"--power {args.power:g} is not above --alpha {args.alpha:g}: a test "
                         "that rarely finds a real effect plans nothing; use 0.8 or more")
    result = plan(args.baseline, args.mde, relative=args.relative, alpha=args.alpha,
                  power=args.power, variants=args.variants or 2, daily_users=args.daily_users,
                  shares=shares, method=args.method, n_star=args.n_star or DEFAULT_N_STAR,
                  sd=args.sd)
    if args.json:
        _print_json(result.as_dict())
        return
    goal = "to detect {} -> {} with ".format(*result.change()) + (
        f"{result.power:.0%} power at alpha {result.alpha}")
    if result.variants > 2:
        goal += f" ({result.comparison_alpha:.3g} per comparison)"
    if result.method == "sequential":
        goal += f", for the sequential test (N* = {result.n_star:,.0f}) read at the end"
    if result.users_per_arm is None:
        print(f"{result.users_per_variant:,} users per variant ({result.total_users:,} in "
              f"total) {goal}")
    else:
        names = names or ["control"] + [f"variant {i}" for i in range(1, len(shares))]
        arms = ", ".join(f"{name} {users:,}" for name, users in
                         zip(names, result.users_per_arm, strict=True))
        print(f"{result.total_users:,} users in total ({arms}) {goal}")
        if sizing := what_sets_the_size(result, names, shares):
            print(sizing[0].upper() + sizing[1:])
    if result.days is not None:
        print(f"about {result.days:.1f} days at {args.daily_users:,.0f} users a day")
    tuned = tuned_to_its_end(
        args.baseline, args.mde, relative=args.relative, alpha=args.alpha, power=args.power,
        variants=args.variants or 2, daily_users=args.daily_users, shares=shares,
        method=args.method, n_star=args.n_star or DEFAULT_N_STAR, sd=args.sd)
    if tuned:
        print(f"the sequential test is tightest near N* users: with --n-star "
              f"{tuned.n_star:,.0f} (set before the test starts) it needs "
              f"{tuned.total_users:,} users in total")


def cmd_search(args) -> None:
    from growthlab.db import open_workspace
    from growthlab.learnings import find

    found = find(open_workspace(args.workspace, create=False), args.query, limit=args.limit)
    if args.json:
        _print_json(found.as_dict())
        return
    if found.did_you_mean:
        print(f"showing results for: {found.did_you_mean}")
    if not found.matched_all:
        print("nothing holds every word; these hold some of them")
    for h in found.hits:
        print(f"[{h.kind} {h.id}] {h.title}\n    {h.snippet}")
        if h.matched_tags:
            print(f"    matched by tag: {', '.join(h.matched_tags)}")
    if not found.hits:
        print(f"no matches. {found.advice}" if found.has_words else found.advice)


def cmd_survey(args) -> None:
    from growthlab import survey

    result = survey.summarise(survey.read_responses_csv(args.responses))
    if args.json:
        _print_json(result)
        return
    print(f"{result['responses']:,} response{'' if result['responses'] == 1 else 's'}")
    for label, row in [("all", result["pmf"]), *((r["segment"], r)
                                                  for r in result["by_segment"])]:
        if row["share"] is None:
            print(f"{label:<24} {survey.verdict(row)}")
            continue
        print(f"{label:<24} {row['share']:6.1%} very disappointed (95% CI {row['ci_low']:.1%} "
              f"to {row['ci_high']:.1%}) of {row['answered']:,}: {survey.verdict(row)}")
    if result["nps"]["score"] is not None:
        print(f"NPS {result['nps']['score']:+.0f} ({result['nps']['answered']:,} answered)")
    if result["ces"]["mean"] is not None:
        print(f"CES {result['ces']['mean']:.2f} ({result['ces']['answered']:,} answered)")
    for b in result["main_benefit"]:
        print(f"main benefit (very disappointed): {b['benefit']} ({b['respondents']:,})")


def cmd_research(args) -> None:
    from growthlab import research

    result = research.summarise(research.read_interviews_csv(args.interviews))
    if args.json:
        _print_json(result)
        return
    print(f"{result['interviews']:,} interviews")
    for t in result["themes"]:
        print(f"{t['kind']:<10} {t['theme']}: {t['interviews']} interview(s), "
              f"{t['excerpts']} excerpt(s)")
    for j in result["jobs"][:10]:
        print(f"job ({j['interviews']} interview(s)): {j['statement']}")
    for c in result["cx_map"]:
        print(f"{c['milestone']} / {c['lens']}: {c['theme']} ({c['interviews']})")


def cmd_demo(args) -> None:
    from growthlab.db import workspace_path
    from growthlab.demo import create_demo

    summary = create_demo(workspace_path(args.workspace), seed=args.seed, users=args.users)
    print(summary)


def cmd_export(args) -> None:
    from growthlab.backup import export_workspace

    print(export_workspace(args.workspace, args.path))


def cmd_import(args) -> None:
    from growthlab.backup import import_workspace

    print(import_workspace(args.path, args.workspace,
                           actor=os.environ.get("GROWTHLAB_USER", "local")))


COMMANDS = {"demo": cmd_demo, "analyze": cmd_analyze, "analyze-events": cmd_analyze_events,
            "kpis": cmd_kpis, "retention": cmd_retention, "power": cmd_power,
            "search": cmd_search, "export": cmd_export, "import": cmd_import,
            "survey": cmd_survey, "research": cmd_research}


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = build_parser().parse_args(argv)
        COMMANDS[args.command](args)
    except GrowthLabError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    except BrokenPipeError:
        return 0
    except OSError as exc:
        print(f"error: {exc.filename or 'a file'}: {exc.strerror or exc}", file=sys.stderr)
        return 2
    except Exception as exc:
        if not _data_error(exc):
            raise
        message = str(exc).strip().splitlines()[0][:300]
        print(f"error: the data could not be processed: {message}", file=sys.stderr)
        return 2
    return 0


def _data_error(exc: Exception) -> bool:
    """DuckDB's errors about values, files and memory; not those about GrowthLab's own SQL."""
    duckdb = sys.modules.get("duckdb")
    return duckdb is not None and isinstance(exc, (duckdb.DataError, duckdb.OperationalError))
