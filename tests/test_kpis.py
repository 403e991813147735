"""Milestone rules, funnel, retention and per-variant counts against independent Python."""

import random
import tempfile
from collections import defaultdict
from datetime import datetime, time, timedelta
from pathlib import Path

import pandas as pd
import pytest

from growthlab.errors import GrowthLabError, InputError, RuleError
from growthlab.kpis import (
    Milestone,
    check_events,
    experiment_metrics,
    funnel,
    parse_milestones_toml,
    parse_rule,
    qualified_users,
    retention,
    validate,
)
from growthlab.kpis.engine import connect

T0 = datetime(2026, 3, 2, 9, 0, 0)


@pytest.mark.parametrize("rule,message", [
    ("count(search) >= ", 'column 18: expected a number after ">="'),
    ("count(search) >= 5 and", "column 23: expected count(EVENT)"),
    ("foo(search) > 1", "column 1: unknown function 'foo'"),
    ("count(search) >= 2.5", "whole number"),
    ("count(search >= 1", "expected ')' after the event"),
    ("count(search) => 1", "expected a comparison"),
    ('count("unclosed) >= 1', "unclosed quote"),
    ("", "the rule is empty"),
    ("(count(a) >= 1", "')' to close"),
    ("count(a) >= 1 count(b) >= 1", "expected 'and', 'or' or the end"),
])
def test_rule_errors_point_at_the_column(rule, message):
    with pytest.raises(RuleError) as err:
        parse_rule(rule, "first_value")
    assert str(err.value).startswith('rule for "first_value"')
    assert message in str(err.value)


def test_a_backslash_in_a_quoted_event_name_is_kept_unless_it_escapes_a_quote():
    """Event names come from exports ("export\\csv" in a file): only \\" and \\\\ are escapes."""
    from growthlab.kpis.names import unknown_events
    from growthlab.kpis.rules import events_in

    rule = r'count("export\csv") >= 1 and count("say \"hi\"") >= 1 and count("a\\b") >= 1'
    assert sorted(events_in(parse_rule(rule, "m"))) == ['a\\b', 'export\\csv', 'say "hi"']
    warned = unknown_events(["export\\csv"], rules=[r'count("export\cvs") >= 1'])
    assert warned == ["'export\\cvs': no such event; did you mean 'export\\csv'?"]


def test_unknown_reached_and_cycles_are_errors():
    with pytest.raises(RuleError, match="reached\\(nope\\) names no milestone"):
        validate([Milestone("a", "A", "P", "reached(nope)")])
    with pytest.raises(RuleError, match="cycle"):
        validate([Milestone("a", "A", "P", "reached(b)"), Milestone("b", "B", "P",
                                                                     "reached(a)")])


def write_events(tmp_path, rows, name="events.csv"):
    frame = pd.DataFrame(rows, columns=["user_id", "event", "timestamp"])
    path = tmp_path / name
    if name.endswith(".csv"):
        frame.assign(timestamp=frame.timestamp.map(lambda t: t.isoformat())).to_csv(path,
                                                                                     index=False)
    else:
        frame.to_parquet(path, index=False)
    return path


def random_events(seed=1, users=300):
    rng = random.Random(seed)
    names = ["search", "list_created", "export", "odd name: x"]
    rows = []
    for u in range(users):
        start = T0 + timedelta(days=rng.randrange(20), seconds=rng.randrange(86400))
        rows.append((f"u{u}", "visit", start))
        for _ in range(rng.randrange(0, 25)):
            offset = timedelta(days=rng.randrange(0, 30), seconds=rng.randrange(86400))
            rows.append((f"u{u}", rng.choice(names), start + offset))
    return rows


def python_reached(rows, milestones):
    """Independent evaluation of the rules in plain Python, one user at a time."""
    by_user = defaultdict(list)
    for user, event, ts in rows:
        by_user[user].append((event, ts))
    trees = validate(milestones)
    spec = {m.key: m for m in milestones}

    def holds(node, events, window_end):
        kind = type(node).__name__
        if kind == "Compare":
            inside = [ts for e, ts in events if e == node.event and ts < window_end]
            value = len(inside) if node.func == "count" else len({t.date() for t in inside})
            return {">=": value >= node.value, ">": value > node.value, "<=": value <= node.value,
                    "<": value < node.value, "==": value == node.value}[node.op]
        if kind == "Reached":
            return reached(node.key, events)
        if kind == "Not":
            return not holds(node.item, events, window_end)
        results = [holds(n, events, window_end) for n in node.items]
        return all(results) if kind == "And" else any(results)

    def reached(key, events):
        first = min(ts for _, ts in events)
        window = spec[key].window_days
        end = first + timedelta(days=window) if window else datetime.max
        return holds(trees[key], events, end)

    return {m.key: sum(reached(m.key, ev) for ev in by_user.values()) for m in milestones}


CONSTRUCTS = [
    Milestone("any", "Any", "P", "count(visit) >= 1"),
    Milestone("searcher", "Searcher", "P", "count(search) >= 3", 7),
    Milestone("quoted", "Quoted", "P", 'count("odd name: x") >= 2 or count(export) == 1', 10),
    Milestone("daily", "Daily", "P", "days(search) >= 3 and not count(export) > 2", 14),
    Milestone("chain", "Chain", "P", "reached(searcher) and count(list_created) >= 2", 21),
    Milestone("deep", "Deep", "P", "reached(chain) and (days(list_created) < 4 or "
                                   "count(export) <= 0)"),
]


@pytest.mark.parametrize("fmt", ["events.csv", "events.parquet"])
def test_every_construct_matches_plain_python(tmp_path, fmt):
    rows = random_events()
    path = write_events(tmp_path, rows, fmt)
    result = funnel(path, CONSTRUCTS)
    expected = python_reached(rows, CONSTRUCTS)
    assert {m["key"]: m["users"] for m in result.milestones} == expected
    assert result.users == 300


def test_windows_end_exactly_at_the_boundary(tmp_path):
    rows = [("a", "search", T0), ("a", "search", T0 + timedelta(days=7) - timedelta(seconds=1)),
            ("b", "search", T0), ("b", "search", T0 + timedelta(days=7))]
    result = funnel(write_events(tmp_path, rows), [Milestone("two", "Two", "P",
                                                             "count(search) >= 2", 7)])
    assert result.milestones[0]["users"] == 1


def test_days_counts_distinct_utc_days(tmp_path):
    rows = [("a", "search", datetime(2026, 3, 2, 23, 30)), ("a", "search",
                                                           datetime(2026, 3, 3, 0, 30)),
            ("b", "search", datetime(2026, 3, 2, 1, 0)), ("b", "search",
                                                          datetime(2026, 3, 2, 22, 0))]
    result = funnel(write_events(tmp_path, rows), [Milestone("d", "D", "P", "days(search) >= 2")])
    assert result.milestones[0]["users"] == 1


def test_timezone_offsets_are_converted_to_utc(tmp_path):
    path = tmp_path / "tz.csv"
    path.write_text("user_id,event,timestamp\na,search,2026-03-02T23:30:00+00:00\n"
                    "a,search,2026-03-03T01:30:00+02:00\n")
    result = funnel(path, [Milestone("d", "D", "P", "days(search) >= 2")])
    assert result.milestones[0]["users"] == 0  # both are 2026-03-02 in UTC


def test_hand_checked_funnel_and_success_gap(tmp_path):
    rows = []
    for i in range(10):
        rows.append((f"u{i}", "visit", T0))
        if i < 8:
            rows.append((f"u{i}", "search", T0 + timedelta(hours=1)))
        if i < 2:
            rows.append((f"u{i}", "export", T0 + timedelta(hours=2)))
    milestones = [Milestone("visit", "Visit", "Struggle", "count(visit) >= 1"),
                  Milestone("search", "Search", "Struggle", "count(search) >= 1"),
                  Milestone("export", "Export", "Evaluation", "reached(search) and "
                                                              "count(export) >= 1")]
    result = funnel(write_events(tmp_path, rows), milestones).as_dict()
    assert [m["users"] for m in result["milestones"]] == [10, 8, 2]
    assert [m["conversion_from_previous"] for m in result["milestones"]] == [None, 0.8, 0.25]
    assert result["success_gap"]["from"] == "search" and result["success_gap"]["to"] == "export"
    assert result["success_gap"]["drop"] == pytest.approx(0.75)


def test_retention_by_cohort_is_hand_checked(tmp_path):
    rows = [("a", "visit", T0), ("a", "visit", T0 + timedelta(days=1)),
            ("a", "visit", T0 + timedelta(days=7)),
            ("b", "visit", T0), ("b", "search", T0 + timedelta(days=1)),
            ("c", "visit", T0 + timedelta(days=8))]
    path = write_events(tmp_path, rows)
    table = retention(path, days=[1, 7])
    first = table.cohorts[0]
    assert first["users"] == 2 and first["retention"] == [1.0, 0.5]
    assert table.cohorts[1]["retention"] == [None, None]  # c: the data ends on its sign-up day
    assert retention(path, event="search", days=[1]).cohorts[0]["retention"] == [0.5]


def test_retention_counts_a_day_only_once_the_data_covers_all_of_it(tmp_path):
    """Data cut at 00:30: the last day has half an hour of events, so users whose day 1 it
    is are not yet known to have come back or not; counting them as lost reads as a collapse
    of the newest cohort."""
    start = datetime(2026, 3, 3, 10, 0)  # a Tuesday: both users in the same weekly cohort
    rows = [("a", "visit", start), ("a", "visit", start + timedelta(days=1)),
            ("b", "visit", start + timedelta(days=1)),
            ("z", "visit", datetime(2026, 3, 5, 0, 30))]  # the data ends half an hour into 5 Mar
    table = retention(write_events(tmp_path, rows), days=[1])
    cohort = table.cohorts[0]
    assert cohort["users"] == 3
    # a's day 1 (4 Mar) is covered: retained; b's (5 Mar) and z's (6 Mar) are not yet.
    assert cohort["retention"] == [1.0]


def test_pql_lists_qualifying_users(tmp_path):
    rows = [("a", "msg", T0 + timedelta(hours=i)) for i in range(5)] + [("b", "msg", T0)]
    total, users = qualified_users(write_events(tmp_path, rows), "count(msg) >= 3", [],
                                   window_days=30)
    assert total == 1 and users == [{"user_id": "a", "signup": "2026-03-02", "count(msg)": 5}]


def test_pql_columns_show_what_the_rule_measures_in_its_order(tmp_path):
    """days(export) >= 2 is about days, not exports: the list shows days(export), and it is
    sorted by the rule's first measure, not by whichever event name sorts first."""
    rows = ([("a", "export", T0 + timedelta(hours=i)) for i in range(6)]  # 6 exports, 1 day
            + [("a", "export", T0 + timedelta(days=1)), ("a", "ask", T0)]
            + [("b", "export", T0 + timedelta(days=d)) for d in range(3)]
            + [("b", "ask", T0 + timedelta(hours=h)) for h in range(3)])
    total, users = qualified_users(write_events(tmp_path, rows),
                                   "days(export) >= 2 and count(ask) >= 1", [], window_days=30)
    assert total == 2
    assert users == [
        {"user_id": "b", "signup": "2026-03-02", "days(export)": 3, "count(ask)": 3},
        {"user_id": "a", "signup": "2026-03-02", "days(export)": 2, "count(ask)": 1}]


def test_experiment_metrics_count_from_assignment_and_exclude_double_assignment(tmp_path):
    events = [("a", "visit", T0), ("a", "export", T0 + timedelta(days=1)),
              ("b", "export", T0 - timedelta(days=1)), ("b", "visit", T0 + timedelta(days=2)),
              ("c", "export", T0 + timedelta(days=3)), ("d", "export", T0 + timedelta(days=1))]
    assignments = pd.DataFrame({
        "user_id": ["a", "b", "c", "d", "d", "e"],
        "experiment": ["x"] * 6,
        "variant": ["control", "control", "treatment", "control", "treatment", "treatment"],
        "assigned_at": [T0, T0, T0, T0, T0, T0]})
    assignments_path = tmp_path / "assignments.parquet"
    assignments.to_parquet(assignments_path)
    computed = experiment_metrics(
        write_events(tmp_path, events), assignments_path,
        [Milestone("exported", "Exported", "P", "count(export) >= 1", 2)], "x")
    counts = {r.variant: (r.users, r.conversions) for r in computed.rows}
    # a converts; b's export is before assignment; c's is after the 2-day window; e has no events.
    assert counts == {"control": (2, 1), "treatment": (2, 0)}
    assert computed.excluded == 1


@pytest.mark.parametrize("content,message", [
    ("user_id,event\na,b\n", "missing column(s) timestamp"),
    ("user_id,event,timestamp\na,search,yesterday\n",
     "events.csv:2: column timestamp: 'yesterday'"),
    ("user_id,event,timestamp\na,search,1767258000\n",
     "'1767258000' looks like a Unix time (seconds or milliseconds since 1970)"),
    ("user_id,event,timestamp\na,search,1767258000123\n",
     "'1767258000123' looks like a Unix time"),
    ("user_id,event,timestamp\na,search,2026-01-01\n,search,2026-01-01\n",
     "events.csv:3: column user_id: user_id is empty"),
    ("user_id,event,timestamp\n", "no events"),
])
def test_events_validation_names_the_line(tmp_path, content, message):
    path = tmp_path / "events.csv"
    path.write_text(content)
    with pytest.raises(InputError) as err:
        check_events(path)
    assert message in str(err.value) and "events.csv" in str(err.value)


def test_milestones_toml_errors_name_the_entry():
    with pytest.raises(InputError, match="milestone 2: window_days"):
        parse_milestones_toml('milestones = [{key="a", name="A", rule="count(x) >= 1"}, '
                              '{key="b", name="B", rule="count(x) >= 1", window_days=-3}]\n')
    with pytest.raises(InputError, match="not valid TOML"):
        parse_milestones_toml("[[milestones]\n")


ENTRY = '[[milestones]]\nkey = "{key}"\nname = "{name}"\nrule = "count(x) >= 1"\n'


@pytest.mark.parametrize("third,line,says", [
    ('key = "b"\nname = "C"\nrule = "count(x) >= 1"\n', 13,
     "m.toml:13: key: key 'b' is used twice"),
    ('key = "c"\nname = "C"\nrule = "count(x) >= 1"\nwindow_days = -3\n', 13,
     "m.toml:13: window_days: window_days must be"),
    ('key = "c"\nname = "C"\nrule = "count(x) >= 1"\ncolour = "red"\n', 13,
     "m.toml:13: unknown field(s) colour"),
    ('key = "c"\nname = 3\nrule = "count(x) >= 1"\n', 13, "m.toml:13: name: is missing"),
    ('key = "c"\nname = "C"\nrule = "count(x) >="\n', 13,
     'm.toml:13: rule for "c", column 12: expected a number'),
    ('key = "c"\nname = "C"\nrule = "reached(d)"\n', 13,
     'm.toml:13: rule for "c": reached(d) names no milestone'),
])
def test_milestones_toml_errors_name_the_line_the_entry_starts_on(third, line, says):
    """tomllib gives no lines: an entry is named by the line of its [[milestones]] header."""
    text = ("# funnel\n\n" + ENTRY.format(key="a", name="A") + "\n"
            + ENTRY.format(key="b", name="B").replace("[[milestones]]", "[[ milestones ]]")
            + "\n[[milestones]]\n" + third)
    assert text.splitlines()[line - 1] == "[[milestones]]"
    with pytest.raises((InputError, RuleError)) as refused:
        parse_milestones_toml(text, "m.toml")
    assert str(refused.value).startswith(says), str(refused.value)


def test_two_milestones_of_one_name_are_refused_naming_both(tmp_path):
    from growthlab.db import open_workspace
    from growthlab.kpis import check_names, save_to_workspace

    text = ENTRY.format(key="activated", name="Activated") + "\n" + ENTRY.format(
        key="shared", name="activated ")
    with pytest.raises(InputError) as refused:
        parse_milestones_toml(text, "m.toml")
    assert str(refused.value).startswith("m.toml:6: name: 'activated ' is also the name of "
                                         "milestone 'activated' (m.toml:1)"), str(refused.value)
    twins = [Milestone("activated", "Activated", "P", "count(x) >= 1"),
             Milestone("shared", "Activated", "P", "count(x) >= 1")]
    with pytest.raises(InputError, match="milestone 2: name: 'Activated' is also the name of "
                                         "milestone 'activated' .milestone 1."):
        check_names(twins)
    db = open_workspace(tmp_path / "w.db")
    with pytest.raises(InputError, match="is also the name of"):
        save_to_workspace(db, twins)
    assert db["milestones"].count == 0


def test_retention_first_time_and_milestone_cohorts(tmp_path):
    rows = [("a", "visit", T0), ("a", "search", T0 + timedelta(days=2)),
            ("a", "search", T0 + timedelta(days=3)),
            ("b", "visit", T0), ("b", "search", T0 + timedelta(days=1)),
            ("c", "visit", T0), ("c", "visit", T0 + timedelta(days=10))]
    path = write_events(tmp_path, rows)
    # First-time search: a starts on day 2 and searches again the next day; b never returns.
    first_time = retention(path, event="search", days=[1], start_event="search")
    assert first_time.cohorts[0]["users"] == 2 and first_time.overall == [0.5]
    searchers = [Milestone("searched", "Searched", "P", "count(search) >= 1")]
    only = retention(path, days=[1], milestone="searched", milestones=searchers)
    assert only.cohorts[0]["users"] == 2 and only.overall == [0.5]  # b active on day 1
    with pytest.raises(InputError, match="no milestone 'nope'"):
        retention(path, milestone="nope", milestones=searchers)


def test_milestone_set_saves_are_versioned(tmp_path):
    from growthlab.db import open_workspace
    from growthlab.errors import StaleEditError
    from growthlab.kpis import load_from_workspace, save_to_workspace
    from growthlab.kpis.milestones import milestones_version

    db = open_workspace(tmp_path / "w.db")
    first = [Milestone("a", "A", "P", "count(x) >= 1")]
    assert save_to_workspace(db, first, version=0) == 1
    save_to_workspace(db, first + [Milestone("b", "B", "P", "count(y) >= 1")], version=1)
    with pytest.raises(StaleEditError, match="changed by someone else"):
        save_to_workspace(db, first, version=1)
    assert [m.key for m in load_from_workspace(db)] == ["a", "b"]
    assert milestones_version(db) == 2


def converting_cohorts(seed=3, users=4000, days=84, window=30, rate=0.5, within=28):
    """Sign-ups spread over `days`; a true `rate` convert within `within` days of sign-up."""
    rng = random.Random(seed)
    rows = []
    for u in range(users):
        start = T0 + timedelta(days=rng.uniform(0, days))
        rows.append((f"u{u}", "signup", start))
        if rng.random() < rate:
            rows.append((f"u{u}", "export", start + timedelta(days=rng.uniform(0, within))))
    export_end = T0 + timedelta(days=days)  # the export stops: later events are not in the data
    rows = [r for r in rows if r[2] <= export_end]
    return rows, max(r[2] for r in rows)


CONVERTED = [Milestone("signed_up", "Signed up", "Struggle", "count(signup) >= 1"),
             Milestone("converted", "Converted", "Evaluation",
                       "reached(signed_up) and count(export) >= 1", 30)]


def test_open_windows_are_not_failures(tmp_path):
    rows, last = converting_cohorts()
    result = funnel(write_events(tmp_path, rows, "events.parquet"), CONVERTED, by_cohort=True)
    data = result.as_dict()
    assert data["data_end"] == last.isoformat()
    converted = data["milestones"][1]
    starts = {}
    for user, _, ts in rows:
        starts[user] = min(ts, starts.get(user, ts))
    matured = [u for u, t in starts.items() if t + timedelta(days=30) <= last]
    assert converted["eligible"] == len(matured)
    assert converted["users"] == sum(1 for _, e, _ in rows if e == "export")  # meaning kept
    assert converted["share"] == pytest.approx(0.5, abs=0.03)  # the truth, not ~42%
    assert converted["conversion_from_previous"] == pytest.approx(0.5, abs=0.03)
    assert data["milestones"][0]["eligible"] == data["users"]  # no window: every user counts
    # Cohorts whose windows are all still open have no share, not a fake 0%.
    late = [c for c in result.cohorts if datetime.fromisoformat(c["cohort"])
            > last - timedelta(days=23)]
    assert late and all(c["shares"]["converted"] is None for c in late)
    assert all(c["eligible"]["converted"] == 0 for c in late)
    early = [c for c in result.cohorts if c["shares"]["converted"] is not None]
    assert all(0.4 < c["shares"]["converted"] < 0.6 for c in early if c["eligible"]["converted"]
               > 100)


def test_horizon_follows_reached_chains(tmp_path):
    from growthlab.kpis.milestones import horizons

    chain = [Milestone("a", "A", "P", "count(x) >= 1", 7),
             Milestone("b", "B", "P", "reached(a) and count(y) >= 1"),
             Milestone("c", "C", "P", "reached(b) and count(z) >= 1", 3),
             Milestone("d", "D", "P", "count(z) >= 1")]
    assert horizons(chain) == {"a": 7, "b": 7, "c": 7, "d": 0}


def test_as_of_cuts_the_data_and_the_success_gap_uses_eligible_users(tmp_path):
    # Three users a week apart; each converts 2 days after sign-up except the last.
    rows = [("a", "signup", T0), ("a", "export", T0 + timedelta(days=2)),
            ("b", "signup", T0 + timedelta(days=7)), ("b", "export", T0 + timedelta(days=9)),
            ("c", "signup", T0 + timedelta(days=14))]
    path = write_events(tmp_path, rows)
    ms = [Milestone("signed_up", "Signed up", "S", "count(signup) >= 1"),
          Milestone("converted", "Converted", "E", "reached(signed_up) and count(export) >= 1",
                    5)]
    # The data ends at c's sign-up: c is still inside the window, so 2 of 2 eligible convert.
    whole = funnel(path, ms).as_dict()
    assert (whole["milestones"][1]["eligible"], whole["milestones"][1]["share"]) == (2, 1.0)
    assert whole["success_gap"]["drop"] == pytest.approx(0.0)
    # As of noon the day b signed up: a is eligible, b is not; b's export is not seen yet.
    early = funnel(path, ms, as_of="2026-03-09T12:00:00Z").as_dict()
    assert early["data_end"] == "2026-03-09T12:00:00"
    assert early["users"] == 2
    assert [m["users"] for m in early["milestones"]] == [2, 1]
    assert early["milestones"][1]["eligible"] == 1


def test_no_eligible_user_means_no_share(tmp_path):
    rows = [("a", "signup", T0), ("a", "export", T0 + timedelta(hours=1))]
    ms = [Milestone("converted", "Converted", "E", "count(export) >= 1", 30)]
    row = funnel(write_events(tmp_path, rows), ms).as_dict()["milestones"][0]
    assert (row["users"], row["eligible"], row["share"]) == (1, 0, None)


def test_experiment_variants_keep_the_assignment_order_and_count_open_windows(tmp_path):
    events = [("a", "export", T0 + timedelta(days=1)), ("b", "visit", T0),
              ("c", "export", T0 + timedelta(days=20)), ("d", "visit", T0 + timedelta(days=20))]
    assignments = pd.DataFrame({
        "user_id": ["c", "a", "b", "d"], "experiment": ["x"] * 4,
        "variant": ["treatment", "alpha", "alpha", "treatment"],
        "assigned_at": [T0, T0, T0, T0 + timedelta(days=19)]})
    path = tmp_path / "assignments.csv"
    assignments.to_csv(path, index=False)
    ms = [Milestone("exported", "Exported", "P", "count(export) >= 1", 7)]
    rows = experiment_metrics(write_events(tmp_path, events), path, ms, "x").rows
    assert [r.variant for r in rows] == ["treatment", "alpha"]  # as first listed, not sorted
    result = experiment_metrics(write_events(tmp_path, events), path, ms, "x")
    assert result.in_progress == {("exported", "treatment"): 1, ("exported", "alpha"): 0}
    kept = experiment_metrics(write_events(tmp_path, events), path, ms, "x",
                              exclude_in_progress=True)
    # Only one treatment user's window has closed: too few to compare, so it is left out.
    assert kept.rows == [] and kept.undecided == ["exported"]


@pytest.mark.parametrize("unit,scale", [("%", 100), ("percent", 100), ("% of sign-ups", 100),
                                        ("", 1), ("share", 1)])
def test_check_in_from_data_counts_eligible_users_in_the_key_results_unit(tmp_path, unit,
                                                                          scale):
    from growthlab.okrs import checkin_from_funnel

    rows, last = converting_cohorts()
    result = funnel(write_events(tmp_path, rows, "events.parquet"), CONVERTED, by_cohort=True)
    preview = checkin_from_funnel(result, "converted", unit)
    starts = {}
    for user, _, ts in rows:
        starts[user] = min(ts, starts.get(user, ts))
    counted = [u for u, t in starts.items() if t + timedelta(days=30) <= last
               and t.date() >= preview.signups_from]
    assert preview.users == len(counted) > 1000
    assert preview.signups_to == (last - timedelta(days=30)).date()
    assert (preview.signups_to - preview.signups_from).days < 8 * 7
    assert preview.value == pytest.approx(0.5 * scale, rel=0.08)
    assert preview.value == pytest.approx(preview.share * scale)
    assert preview.data_end == last.isoformat() and "sign-ups from" in preview.note()


def test_check_in_from_data_refuses_a_unit_that_is_not_a_share(tmp_path):
    from growthlab.okrs import checkin_from_funnel

    rows, last = converting_cohorts(users=300)
    result = funnel(write_events(tmp_path, rows), CONVERTED, by_cohort=True)
    with pytest.raises(InputError, match="unit 'users' is not a share"):
        checkin_from_funnel(result, "converted", "users")
    recent = [r for r in rows if r[2] > last - timedelta(days=10)]
    fresh = funnel(write_events(tmp_path, recent, "fresh.csv"), CONVERTED, by_cohort=True)
    with pytest.raises(InputError, match="window for this milestone has closed"):
        checkin_from_funnel(fresh, "converted", "%")


def test_reached_refers_to_the_computed_flag_so_chains_stay_small(tmp_path):
    # Each milestone uses the previous one twice: inlining doubled the SQL at every level.
    rows = [("a", "x", T0), ("b", "y", T0)]
    path = write_events(tmp_path, rows)
    chain = [Milestone("m0", "M0", "P", "count(x) >= 1")]
    chain += [Milestone(f"m{i}", f"M{i}", "P", f"reached(m{i - 1}) and not not reached(m{i - 1})")
              for i in range(1, 22)]
    result = funnel(path, chain)
    assert [m["users"] for m in result.milestones] == [1] * 22


def test_reached_may_point_forward_and_keeps_the_targets_window(tmp_path):
    rows = [("a", "x", T0), ("a", "y", T0 + timedelta(days=3)), ("b", "y", T0)]
    path = write_events(tmp_path, rows)
    ms = [Milestone("both", "Both", "P", "reached(late_y) and count(x) >= 1"),
          Milestone("late_y", "Y in 2 days", "P", "count(y) >= 1", window_days=2)]
    assert [m["users"] for m in funnel(path, ms).milestones] == [0, 1]


def test_rule_with_ten_thousand_or_terms_works(tmp_path):
    rows = [("a", "e9999", T0), ("b", "e5", T0), ("c", "other", T0), ("d", "e5", T0),
            ("d", "e7", T0)]
    path = write_events(tmp_path, rows)
    any_of = " or ".join(f"count(e{i}) >= 1" for i in range(10_000))
    twice = " or ".join(f"count(e{i}) > 1" for i in range(0, 10_000, 1000))
    ms = [Milestone("any", "Any", "P", any_of),
          Milestone("mixed", "Mixed", "P", f"({any_of}) and not count(e7) >= 1"),
          Milestone("days", "Days", "P", any_of.replace("count(", "days(")),
          Milestone("twice", "Twice", "P", twice)]
    assert [m["users"] for m in funnel(path, ms).milestones] == [3, 2, 3, 0]


def test_too_many_different_counts_are_refused_naming_the_milestone():
    from growthlab.kpis.milestones import MAX_MEASURES

    rule = " or ".join(f"count(e{i}) >= 2" for i in range(MAX_MEASURES + 1))
    with pytest.raises(RuleError, match=f'rule for "wide".*at most {MAX_MEASURES}'):
        validate([Milestone("wide", "Wide", "P", rule)])


@pytest.mark.parametrize("rule", ["(" * 300 + "count(x) >= 1" + ")" * 300,
                                  "not " * 1000 + "count(x) >= 1",
                                  "not (" * 200 + "count(x) >= 1" + ")" * 200],
                         ids=["parentheses", "not", "both"])
def test_deeply_nested_rules_are_refused_past_the_stated_depth(rule):
    from growthlab.kpis.rules import MAX_DEPTH

    with pytest.raises(RuleError, match=f'rule for "deep", column \\d+: nested more than '
                                        f'{MAX_DEPTH} deep'):
        parse_rule(rule, "deep")
    parse_rule("not " * MAX_DEPTH + "count(x) >= 1", "deep")


@pytest.mark.parametrize("window", [2147483647, 2**63 - 1, 3651])
def test_window_beyond_the_stated_maximum_is_refused_naming_the_milestone(tmp_path, window):
    from growthlab.kpis.milestones import MAX_WINDOW_DAYS

    path = write_events(tmp_path, [("a", "x", T0)])
    ms = [Milestone("long", "Long", "P", "count(x) >= 1", window_days=window)]
    refused = f"window_days: .* milestone 'long'; use at most {MAX_WINDOW_DAYS:,}"
    with pytest.raises(InputError, match=refused):
        funnel(path, ms)
    ms = [Milestone("long", "Long", "P", "count(x) >= 1", window_days=MAX_WINDOW_DAYS)]
    assert funnel(path, ms).milestones[0]["users"] == 1


@pytest.mark.parametrize("text", ["a = " + "[" * 5000 + "]" * 5000,
                                  "a = " + "{b=" * 5000 + "1" + "}" * 5000],
                         ids=["arrays", "tables"])
def test_toml_nested_thousands_deep_is_a_clear_error(text):
    with pytest.raises(InputError, match="m.toml: .*nested too deeply"):
        parse_milestones_toml(text, "m.toml")


def test_more_milestones_than_a_funnel_holds_are_refused():
    from growthlab.kpis.milestones import MAX_MILESTONES

    chain = [Milestone(f"m{i}", "M", "P", f"reached(m{i - 1})" if i else "count(x) >= 1")
             for i in range(MAX_MILESTONES + 1)]
    with pytest.raises(InputError, match=f"at most {MAX_MILESTONES}"):
        validate(chain)
    validate(chain[:MAX_MILESTONES])


def test_merged_at_least_once_lists_match_plain_python(tmp_path):
    rows = random_events(seed=4)
    path = write_events(tmp_path, rows, "events.parquet")
    ms = [Milestone("anyof", "Any of", "P", 'count(search) >= 1 or count("odd name: x") > 0 '
                    "or count(export) >= 2 or days(list_created) >= 1 or days(export) > 0", 3),
          Milestone("none", "None of", "P", "not (count(export) >= 1 or count(list_created) >= 1)"
                    " and reached(later)"),
          Milestone("later", "Later", "P", "reached(anyof) or (days(search) >= 1 or "
                    "days(export) >= 1) and count(visit) >= 1", 5)]
    result = funnel(path, ms)
    assert {m["key"]: m["users"] for m in result.milestones} == python_reached(rows, ms)


def test_conversion_counts_users_who_reached_both_steps_with_both_windows_closed(tmp_path):
    # Sharer does not imply Habit: no Habit user shares, so Habit -> Sharer converts 0%,
    # never 400% (sharers over habit users), and the success gap says so.
    rows = []
    for i in range(40):
        rows.append((f"u{i}", "search", T0))
        if i < 10:
            rows += [(f"u{i}", "search", T0 + timedelta(days=d)) for d in (1, 2)]
        elif i < 20:
            rows.append((f"u{i}", "share", T0 + timedelta(hours=1)))
    rows.append(("late", "search", T0 + timedelta(days=40)))
    ms = [Milestone("searched", "Searched", "P", "count(search) >= 1"),
          Milestone("habit", "Habit", "P", "days(search) >= 3", 7),
          Milestone("sharer", "Sharer", "P", "reached(searched) and count(share) >= 1", 3)]
    result = funnel(write_events(tmp_path, rows), ms).as_dict()
    conversions = [m["conversion_from_previous"] for m in result["milestones"]]
    assert conversions == [None, 10 / 40, 0.0]  # "late" is still inside the Habit window
    assert (result["success_gap"]["from"], result["success_gap"]["drop"]) == ("habit", 1.0)


def test_users_assigned_after_the_data_end_are_not_decided(tmp_path):
    events = [("a", "export", T0 + timedelta(hours=1)), ("b", "visit", T0),
              ("c", "visit", T0 + timedelta(hours=2))]
    assignments = pd.DataFrame({
        "user_id": ["a", "b", "c", "d"], "experiment": ["x"] * 4,
        "variant": ["control", "control", "treatment", "treatment"],
        "assigned_at": [T0, T0, T0, T0 + timedelta(days=5)]})
    path = tmp_path / "assignments.csv"
    assignments.to_csv(path, index=False)
    ms = [Milestone("exported", "Exported", "P", "count(export) >= 1")]
    result = experiment_metrics(write_events(tmp_path, events), path, ms, "x")
    assert result.in_progress == {("exported", "control"): 0, ("exported", "treatment"): 1}


@pytest.mark.parametrize("window", [1, 30, 62, 63, 64, 126, 127, 300, None])
def test_days_in_any_window_match_plain_python(tmp_path, monkeypatch, window):
    monkeypatch.setenv("GROWTHLAB_TODAY", "2028-01-01")  # the 400 days of events are past
    rng = random.Random(window or 0)
    rows = [(f"u{u}", "search", T0 + timedelta(days=rng.randrange(400),
                                               seconds=rng.randrange(86400)))
            for u in range(60) for _ in range(rng.randrange(1, 60))]
    milestones = [Milestone(f"d{n}", f"D{n}", "P", f"days(search) >= {n}", window)
                  for n in (1, 5, 20, 40)]
    path = write_events(tmp_path, rows, "events.parquet")
    result = funnel(path, milestones, check=True)
    assert {m["key"]: m["users"] for m in result.milestones} == python_reached(rows, milestones)
    assert result == funnel(path, milestones)


@pytest.mark.parametrize("window", [63, 64, 126])
def test_every_calendar_day_a_window_touches_counts_in_days(tmp_path, monkeypatch, window):
    """A user starting at 23:00 touches window + 1 calendar days before the window closes;
    the last one is the widest bit of the day bitmask."""
    monkeypatch.setenv("GROWTHLAB_TODAY", "2028-01-01")
    start = datetime(2026, 3, 2, 23, 0)
    rows = [("u", "search", start)] + [
        ("u", "search", datetime.combine(start.date() + timedelta(days=d), time(22)))
        for d in range(1, window + 1)]
    milestones = [Milestone("all", "All", "P", f"days(search) >= {window + 1}", window)]
    assert funnel(write_events(tmp_path, rows, "events.parquet"), milestones,
                  check=True).milestones[0]["users"] == 1


@pytest.mark.parametrize("as_of", [None, "2026-03-10", "2020-01-01"])
def test_a_checked_funnel_counts_as_the_unchecked_one(tmp_path, as_of):
    path = write_events(tmp_path, random_events(), "events.csv")
    assert funnel(path, CONSTRUCTS, as_of=as_of, check=True, by_cohort=True) == funnel(
        path, CONSTRUCTS, as_of=as_of, by_cohort=True)


@pytest.mark.parametrize("case", sorted((Path(__file__).parent / "bad_inputs").glob("events_*")),
                         ids=lambda p: p.name)
def test_a_checked_funnel_refuses_a_file_as_check_events_does(case):
    with pytest.raises(GrowthLabError) as expected:
        check_events(case)
    with pytest.raises(GrowthLabError) as refused:
        funnel(case, CONSTRUCTS, check=True)
    assert str(refused.value) == str(expected.value)


def test_duckdb_spills_into_the_system_temp_folder_not_the_working_folder(tmp_path,
                                                                          monkeypatch):
    """Past its memory limit DuckDB writes to disk; by default into `.tmp` in the folder the
    app was started from, which may be read-only or someone's project."""
    started_in, system_temp = tmp_path / "project", tmp_path / "temp"
    started_in.mkdir()
    system_temp.mkdir()
    monkeypatch.chdir(started_in)
    monkeypatch.setattr(tempfile, "tempdir", str(system_temp))
    con = connect("20MB")
    con.execute("CREATE TEMP TABLE spilled AS SELECT random() AS x FROM range(5000000)")
    assert con.execute("SELECT count(*) FROM spilled").fetchone()[0] == 5_000_000
    assert list(system_temp.rglob("duckdb_temp_*"))
    assert not list(started_in.iterdir())


def _cli_kpis(events, milestones_path, env):
    import os
    import subprocess
    import sys

    return subprocess.run([sys.executable, "-m", "growthlab", "kpis", str(events),
                           "--milestones", str(milestones_path)], capture_output=True,
                          text=True, env={**os.environ, **env})


def _milestones_toml(tmp_path):
    path = tmp_path / "m.toml"
    path.write_text('[[milestones]]\nkey = "s"\nname = "S"\nphase = "P"\n'
                    'rule = "count(search) >= 2"\nwindow_days = 7\n')
    return path


def test_running_out_of_memory_says_which_setting_to_raise(tmp_path):
    rows = [(f"u{u}", e, T0 + timedelta(minutes=u)) for u in range(3000)
            for e in ("visit", "search", "search")]
    events = write_events(tmp_path, rows, "events.parquet")
    run = _cli_kpis(events, _milestones_toml(tmp_path), {"GROWTHLAB_DUCKDB_MEMORY": "1MB"})
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert "more memory than the 1MB DuckDB may use" in run.stderr
    assert "GROWTHLAB_DUCKDB_MEMORY=2GB" in run.stderr
    enough = _cli_kpis(events, _milestones_toml(tmp_path), {"GROWTHLAB_DUCKDB_MEMORY": "256MB"})
    assert enough.returncode == 0 and "3,000 users" in enough.stdout


@pytest.mark.parametrize("value", ["lots", "512", "-1GB", "2 GB of RAM"])
def test_a_memory_setting_that_is_no_amount_is_refused_naming_it(tmp_path, value):
    events = write_events(tmp_path, [("u1", "search", T0)], "events.csv")
    run = _cli_kpis(events, _milestones_toml(tmp_path), {"GROWTHLAB_DUCKDB_MEMORY": value})
    assert run.returncode == 2 and "Traceback" not in run.stderr
    assert f"GROWTHLAB_DUCKDB_MEMORY: {value!r} is not an amount of memory" in run.stderr


def test_the_window_that_closes_last_is_the_longest_latest_listed():
    from growthlab.kpis.milestones import last_to_close

    assert last_to_close({"a": 0, "b": 30, "c": 7}) == "b"
    assert last_to_close({"a": 14, "b": 14, "c": 7}) == "b"
    assert last_to_close({"a": 0}) == "a"


def test_nothing_to_test_explains_assignment_only_when_a_milestone_is_reached_by_none():
    from growthlab.kpis.engine import ExperimentMetrics
    from growthlab.stats import MetricRow

    waiting = ExperimentMetrics(rows=[], excluded=0, in_progress={}, data_end=None,
                                undecided=["habit"], assigned={}, unequal_censoring=[])
    said = waiting.nothing_to_test("E")
    assert "habit: too few users whose window has closed" in said and "assigned_at" not in said
    none = ExperimentMetrics(rows=[MetricRow("signed_up", v, 10, 0) for v in ("a", "b")],
                             excluded=0, in_progress={}, data_end=None, undecided=[],
                             assigned={}, unequal_censoring=[])
    assert "before assigned_at do not count" in none.nothing_to_test("E")


def test_a_milestones_file_with_a_byte_order_mark_reads_as_without(tmp_path):
    from growthlab.kpis.milestones import read_milestones_toml

    text = '[[milestones]]\r\nkey = "a"\r\nname = "A"\r\nphase = "P"\r\nrule = "count(x) >= 1"\r\n'
    assert read_milestones_toml(b"\xef\xbb\xbf" + text.encode(), "m.toml") == \
        read_milestones_toml(text.encode(), "m.toml")


def test_replacing_milestones_names_what_loses_its_milestone(demo_workspace):
    from growthlab.db import open_workspace
    from growthlab.kpis import load_from_workspace
    from growthlab.kpis.milestones import dropped_in_use

    db = open_workspace(demo_workspace)
    current = load_from_workspace(db)
    assert dropped_in_use(db, current) == []
    kept = [m for m in current if m.key != "first_value"]
    lines = dropped_in_use(db, kept)
    assert len(lines) == 1 and lines[0].startswith("first_value: key result 'Raise First value")
    using = [r["key"] for r in db.query("SELECT key FROM experiments WHERE milestone_key = "
                                        "'first_value' OR primary_metric = 'first_value'")]
    assert using and all(key in lines[0] for key in using)


def test_replacing_milestones_names_the_pql_rule_that_needs_one(demo_workspace):
    from growthlab import admin
    from growthlab.db import open_workspace
    from growthlab.kpis import load_from_workspace
    from growthlab.kpis.milestones import dropped_in_use

    db = open_workspace(demo_workspace)
    admin.set_pql_rule(db, "reached(value_growth) and count(invite_sent) >= 1", 30, actor="m")
    kept = [m for m in load_from_workspace(db) if m.key != "value_growth"]
    assert any(line.startswith("value_growth:") and "the PQL rule" in line
               for line in dropped_in_use(db, kept))
