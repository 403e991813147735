"""A new team bringing its own data: event names checked against the data everywhere one is
typed, one consistent summary of the events, replacing events only after a before -> after."""

import re
from pathlib import Path

import pytest
from conftest import open_page

from growthlab.cli import main
from growthlab.db import open_workspace
from growthlab.errors import InputError
from growthlab.kpis import Milestone, parse_milestones_toml, save_to_workspace
from growthlab.kpis.engine import event_names
from growthlab.kpis.names import require_event, unknown_events

ROOT = Path(__file__).resolve().parent.parent
EVENTS = ("user_id,event,timestamp\nu1,cart,2026-01-01T10:00:00Z\n"
          "u1,checkout,2026-01-02T10:00:00Z\nu2,cart,2026-01-03T10:00:00Z\n"
          "u2,Signed Up,2026-01-01T09:00:00Z\n")
MILESTONES = ('[[milestones]]\nkey = "carted"\nname = "Carted"\nphase = "P"\n'
              'rule = "count(cartt) >= 1"\n')


@pytest.fixture
def files(tmp_path):
    events, milestones = tmp_path / "events.csv", tmp_path / "m.toml"
    events.write_text(EVENTS)
    milestones.write_text(MILESTONES)
    return events, milestones


def test_event_names_are_the_distinct_names_in_the_data(files):
    assert event_names(files[0]) == ["Signed Up", "cart", "checkout"]


def test_an_unknown_event_warns_with_the_closest_known_one():
    known = ["cart", "checkout", "Signed Up"]
    assert unknown_events(known, names=["cartt", "cart", None]) == [
        "'cartt': no such event; did you mean 'cart'?"]
    assert unknown_events(known, rules=['count(cart) >= 1 and days("signed up") >= 2',
                                        "count(zebra) > 0"]) == [
        "'signed up': no such event; did you mean 'Signed Up'?",
        "'zebra': no such event in the data"]


def test_a_start_event_that_never_occurs_is_an_error():
    require_event("cart", ["cart"], "start event")
    with pytest.raises(InputError, match="start event: 'cartt': no such event; did you mean"):
        require_event("cartt", ["cart"], "start event")


def test_cli_rules_warn_on_stderr_and_keep_the_exit_code(files, tmp_path, capsys):
    events, milestones = files
    assert main(["kpis", str(events), "--milestones", str(milestones), "--json"]) == 0
    captured = capsys.readouterr()
    assert captured.err == "warning: 'cartt': no such event; did you mean 'cart'?\n"
    assert captured.out.startswith("{")
    assignments = tmp_path / "a.csv"
    assignments.write_text("user_id,experiment,variant,assigned_at\n"
                           "u1,E,control,2026-01-01\nu2,E,treatment,2026-01-01\n")
    main(["analyze-events", str(events), str(assignments), "--milestones", str(milestones),
          "--experiment", "E"])
    assert "warning: 'cartt': no such event; did you mean 'cart'?" in capsys.readouterr().err


def test_cli_retention_warns_on_event_and_refuses_an_absent_start_event(files, capsys):
    events = str(files[0])
    assert main(["retention", events, "--event", "checkot"]) == 0
    assert capsys.readouterr().err == (
        "warning: 'checkot': no such event; did you mean 'checkout'?\n")
    assert main(["retention", events, "--start-event", "cartt"]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: --start-event: 'cartt': no such event; did you mean 'cart'?")


def test_readme_shows_a_quoted_event_name_in_a_toml_rule():
    readme = (ROOT / "README.md").read_text()
    block = next(b for b in re.findall(r"```toml\n(.*?)```", readme, re.DOTALL)
                 if "Signed Up" in b)
    rules = [m.rule for m in parse_milestones_toml(block)]
    assert unknown_events(["Signed Up", "search"], rules=rules) == []
    assert len(rules) >= 2  # single quotes and escaped double quotes


def test_milestone_editor_warns_about_an_event_the_data_lacks(demo_workspace):
    save_to_workspace(open_workspace(demo_workspace),
                      [Milestone("carted", "Carted", "P", "count(exprt) >= 1")])
    at = open_page("milestones")
    assert "'exprt': no such event; did you mean 'export'?" in [w.value for w in at.warning]


def test_pql_rule_warns_about_an_event_the_data_lacks(demo_workspace):
    at = open_page("milestones", tab="Success moments & PQLs")
    next(t for t in at.text_input if t.label == "PQL rule").input("count(serch) >= 5").run()
    assert "'serch': no such event; did you mean 'search'?" in [w.value for w in at.warning]


def test_retention_warns_on_event_and_refuses_an_absent_start_event(demo_workspace):
    at = open_page("milestones", tab="Retention")
    at.text_input(key="ret-event").input("exprt").run()
    assert "'exprt': no such event; did you mean 'export'?" in [w.value for w in at.warning]
    at.text_input(key="ret-event").input("").run()
    at.text_input(key="ret-start").input("lst_created").run()
    assert any("'lst_created': no such event; did you mean 'list_created'?" in e.value
               for e in at.error)


NEW_EVENTS = EVENTS.encode()


def test_checking_an_upload_changes_nothing(demo_workspace):
    from growthlab import admin
    from growthlab.kpis import check_events

    db = open_workspace(demo_workspace)
    before = db.execute("SELECT value FROM settings WHERE key = 'events_path'").fetchone()[0]
    info = admin.check_data_file(db, "events", NEW_EVENTS, "mine.csv", check_events)
    assert (info.rows, info.users) == (4, 2)
    assert db.execute("SELECT value FROM settings WHERE key = 'events_path'").fetchone()[
        0] == before
    assert not [p for p in demo_workspace.parent.iterdir() if "upload" in p.name]


def test_events_change_reads_before_and_after():
    from growthlab.admin import events_change
    from growthlab.kpis.engine import EventsInfo

    old = EventsInfo(2, 1, {"a": 2}, "2026-01-01T00:00:00", "2026-01-02T00:00:00")
    new = EventsInfo(45_638, 3_000, {"a": 1, "b": 2}, "2026-02-01T10:00:00", None)
    assert events_change(old, new) == [
        {"": "Events", "before": "2", "after": "45,638"},
        {"": "Users", "before": "1", "after": "3,000"},
        {"": "Event names", "before": "1", "after": "2"},
        {"": "Dates", "before": "2026-01-01 to 2026-01-02", "after": "2026-02-01 to -"}]
    assert events_change(None, new)[0] == {"": "Events", "before": "none", "after": "45,638"}


def upload_events(at):
    at.file_uploader(key="events-upload").upload("mine.csv", NEW_EVENTS).run()
    next(b for b in at.button if b.label == "Validate and use these events").click().run()
    assert not at.exception


def test_replacing_events_asks_first_with_before_and_after(demo_workspace):
    db = open_workspace(demo_workspace)
    at = open_page("settings")
    before = [m.value for m in at.metric]
    upload_events(at)
    assert db.execute("SELECT value FROM settings WHERE key = 'events_path'").fetchone()[
        0] != "events.csv"
    change = next(d.value for d in at.dataframe if "after" in d.value.columns)
    assert list(change["after"][:2]) == ["4", "2"] and list(change["before"][:2]) == before[:2]
    next(b for b in at.button if b.label == "Keep the current events").click().run()
    assert [m.value for m in at.metric] == before
    assert "Replace the events" not in [b.label for b in at.button]
    upload_events(at)
    next(b for b in at.button if b.label == "Replace the events").click().run()
    assert db.execute("SELECT value FROM settings WHERE key = 'events_path'").fetchone()[
        0] == "events.csv"
    assert [m.value for m in at.metric] == ["4", "2", "3"]
    assert any(f"{before[0]} → 4 events" in s.value for s in at.success)


def test_a_first_upload_shows_one_consistent_summary(empty_workspace):
    at = open_page("settings")
    upload_events(at)
    assert [m.value for m in at.metric] == ["4", "2", "3"]
    assert any("4 events from 2 users" in s.value for s in at.success)
    assert not [e.value for e in at.info if "No events yet" in e.value]


def test_the_app_says_when_rows_repeat_and_drops_them_when_asked(empty_workspace):
    """An SDK retrying a send repeats rows: the pages must say so, as the command line does,
    and a workspace setting drops them everywhere."""
    from growthlab import admin
    from growthlab.db import set_setting
    from growthlab.kpis import funnel
    from growthlab.kpis.sources import Source

    events = empty_workspace.parent / "events.csv"
    retried = "u3,cart,2026-01-04T10:00:00Z\n"
    events.write_text(EVENTS + retried * 3)
    db = open_workspace(empty_workspace)
    set_setting(db, "events_path", "events.csv")
    steps = [Milestone("carted", "Carted", "P", "count(cart) >= 1"),
             Milestone("twice", "Carted twice", "P", "count(cart) >= 2")]
    save_to_workspace(db, steps)
    at = open_page("milestones")
    warned = [w.value for w in at.warning if "duplicate" in w.value]
    assert warned and "2 exact duplicate row(s)" in warned[0] and "Settings" in warned[0]
    twice = next(r for r in at.dataframe[0].value.to_dict("records") if r["key"] == "twice")
    assert twice["users"] == 1  # u3's one cart counted three times
    settings = open_page("settings")
    settings.toggle(key="events-dedupe").set_value(True).run()
    assert not settings.exception and admin.dedupe(db)
    at = open_page("milestones")
    assert any("dropped 2 exact duplicate" in w.value for w in at.warning)
    deduped = funnel(Source.of(events, dedupe=True), steps)
    twice = next(r for r in at.dataframe[0].value.to_dict("records") if r["key"] == "twice")
    assert twice["users"] == deduped.milestones[1]["users"] == 0


def test_events_with_dates_only_are_never_deduplicated_by_the_app(empty_workspace):
    """Two carts by one user on one day, dates only: they may be two carts, so the setting
    (turned on for an earlier file) must not drop one, and Settings does not offer it."""
    from growthlab import admin
    from growthlab.db import set_setting

    events = empty_workspace.parent / "events.csv"
    events.write_text("user_id,event,timestamp\nu1,cart,2026-01-04\nu1,cart,2026-01-04\n"
                      "u2,cart,2026-01-05\nu3,ping,2026-01-05T10:00:00Z\n")  # one timed row
    db = open_workspace(empty_workspace)
    set_setting(db, "events_path", "events.csv")
    save_to_workspace(db, [Milestone("twice", "Carted twice", "P", "count(cart) >= 2")])
    admin.set_dedupe(db, True, actor="earlier")
    at = open_page("milestones")
    twice = next(r for r in at.dataframe[0].value.to_dict("records") if r["key"] == "twice")
    assert twice["users"] == 1
    assert any("no time of day" in w.value for w in at.warning)
    settings = open_page("settings")
    toggle = settings.toggle(key="events-dedupe")
    assert toggle.disabled and "time of day" in toggle.help


def test_a_milestones_upload_that_drops_keys_in_use_asks_first(demo_workspace):
    """The team's own file lacks first_value, which a key result and experiments use: the
    upload names them and replaces nothing until the person says so; a byte-order mark (as
    Windows editors save) is no obstacle."""
    from growthlab.kpis import load_from_workspace

    db = open_workspace(demo_workspace)
    before = load_from_workspace(db)
    mine = ("\ufeff[[milestones]]\r\nkey = \"searched\"\r\nname = \"Searched\"\r\n"
            "phase = \"Activation\"\r\nrule = \"count(search) >= 1\"\r\n").encode()
    at = open_page("settings")
    at.file_uploader(key="toml-upload").upload("ours.toml", mine).run()
    assert not at.error, [e.value for e in at.error]
    warning = next(w.value for w in at.warning if "would be dropped" in w.value)
    assert "first_value: key result 'Raise First value" in warning
    button = next(b for b in at.button if b.label == "Validate and replace milestones")
    assert button.disabled
    assert load_from_workspace(db) == before
    at.checkbox(key="toml-drop").check().run()
    next(b for b in at.button if b.label == "Validate and replace milestones").click().run()
    assert not at.exception and [m.key for m in load_from_workspace(db)] == ["searched"]


def test_the_app_drops_timed_duplicates_though_one_repeat_falls_at_midnight(empty_workspace):
    """A double export with one repeated row at exactly 00:00: the setting still drops the
    retried sends (the others), keeps the midnight repeat, and Settings still offers it."""
    from test_bad_inputs import DOUBLE_EXPORT_WITH_A_MIDNIGHT

    from growthlab import admin
    from growthlab.db import set_setting

    (empty_workspace.parent / "events.csv").write_text(DOUBLE_EXPORT_WITH_A_MIDNIGHT)
    db = open_workspace(empty_workspace)
    set_setting(db, "events_path", "events.csv")
    save_to_workspace(db, [Milestone("two", "Two exports", "P", "count(export) >= 2")])
    admin.set_dedupe(db, True, actor="team")
    at = open_page("milestones")
    two = next(r for r in at.dataframe[0].value.to_dict("records") if r["key"] == "two")
    assert two["users"] == 1  # u2 (midnight), not u1 (a retried send)
    assert any("dropped 2 exact duplicate row(s)" in w.value for w in at.warning)
    toggle = open_page("settings").toggle(key="events-dedupe")
    assert not toggle.disabled and toggle.value
