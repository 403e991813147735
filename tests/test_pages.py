"""Every page renders under Streamlit's AppTest, on the demo and on an empty workspace,
with the elements that answer its user's question (or an empty state saying what to do)."""

import json
import os
import subprocess
import sys
import time

import pytest
from conftest import ROOT, open_page


def everything(at) -> str:
    parts = [m.value for m in at.markdown] + [t.value for t in at.title]
    parts += [c.value for c in at.caption] + [s.value for s in at.subheader]
    for kind in ("info", "warning", "error", "success"):
        parts += [e.value for e in getattr(at, kind)]
    parts += [f"{m.label} {m.value}" for m in at.metric]
    return "\n".join(str(p) for p in parts)


DEMO = {
    "overview": (["Key results on track", "Needs attention, and what is being done",
                  "Biggest success gap", "First value → Value "
                  "realization", "New teams get to value in their first month"], 3),
    "okrs": (["Raise First value", "Reads like an output", "Value-capture metric",
              "Experiments pushing on it"], 6),
    "experiments": (["41 experiments", "Log an idea"], 0),
    "experiment": (["significant at 95%", "Add results"], 1),
    "milestones": (["Focus here", "Order is funnel order"], 2),
    "learnings": (["learnings, newest first"], 0),
    "settings": (["Squads", "Loops", "Product areas"], 0),
}
EMPTY = {
    "overview": "No objectives yet",
    "okrs": "No objectives yet",
    "experiments": "No experiments yet",
    "experiment": "No experiments yet",
    "milestones": "No milestones yet",
    "learnings": "The learning log is empty",
    "settings": "No product events yet",
}


@pytest.mark.parametrize("page", list(DEMO))
def test_page_renders_on_demo(page, demo_workspace, record_property):
    started = time.perf_counter()
    at = open_page(page)
    record_property("render_seconds", round(time.perf_counter() - started, 2))
    expected, charts = DEMO[page]
    text = everything(at)
    for phrase in expected:
        assert phrase in text, phrase
    assert len(at.get("plotly_chart")) >= charts


@pytest.mark.parametrize("page", list(EMPTY))
def test_page_renders_on_empty_workspace(page, empty_workspace):
    at = open_page(page)
    assert EMPTY[page] in everything(at)
    assert not at.get("plotly_chart"), "no empty charts: an empty state instead"


FIRST_RENDER = ("import json, sys\n"
                "from streamlit.testing.v1 import AppTest\n"
                "at = AppTest.from_file('app.py', default_timeout=60)\n"
                "at.switch_page(f'pages/{sys.argv[1]}.py')\n"
                "at.run()\n"
                "assert not at.exception, [e.message for e in at.exception]\n"
                "print(json.dumps(sorted(sys.modules)), file=sys.stderr)")


# pandas only for the editable grids (st.data_editor): the tables shown are built without it.
@pytest.mark.parametrize("page,absent", [
    ("okrs", {"growthlab.stats", "scipy", "duckdb", "pandas"}),  # events scanned on "check in"
    ("learnings", {"growthlab.stats", "scipy", "duckdb", "pandas"}),
    ("milestones", {"growthlab.stats", "scipy", "pandas"}),  # its editor opens on demand
    ("overview", {"scipy", "pandas"}),
    ("experiments", {"scipy", "pandas"}),
    ("research", {"scipy", "pandas"}),
    ("settings", {"scipy", "pandas"}),
    ("experiment", {"pandas"}),  # its grid for results by hand opens on a toggle
])
def test_a_page_starts_without_what_it_does_not_use(demo_workspace, page, absent):
    """The first page of a new server process pays for what it imports."""
    out = subprocess.run([sys.executable, "-c", FIRST_RENDER, page], capture_output=True,
                         text=True, timeout=120, cwd=ROOT)
    assert out.returncode == 0, out.stderr[-2000:]
    loaded = set(json.loads(out.stderr.strip().splitlines()[-1]))
    assert not absent & loaded


def test_the_milestones_page_says_which_setting_to_raise_when_memory_runs_out(
        demo_workspace, monkeypatch):
    monkeypatch.setenv("GROWTHLAB_DUCKDB_MEMORY", "1MB")
    at = open_page("milestones")
    assert any("GROWTHLAB_DUCKDB_MEMORY higher" in e.value for e in at.error)


def test_saving_milestones_over_a_colleague_s_newer_save_says_so_on_the_page(demo_workspace):
    from growthlab.db import open_workspace
    from growthlab.kpis import load_from_workspace, save_to_workspace
    from growthlab.kpis.milestones import milestones_version

    at = open_page("milestones", edit="true")
    db = open_workspace(demo_workspace)
    theirs = load_from_workspace(db)
    theirs[0] = theirs[0].__class__(**{**theirs[0].__dict__, "name": "Their first value"})
    save_to_workspace(db, theirs, actor="tom", version=milestones_version(db))
    next(b for b in at.button if b.label == "Save milestones").click().run()
    assert not at.exception
    assert any("changed" in e.value.lower() for e in at.error), [e.value for e in at.error]
    assert load_from_workspace(db)[0].name == "Their first value"  # theirs is kept


def test_an_events_file_rewritten_with_its_old_size_and_time_is_a_new_version(tmp_path):
    """As `cp -p` or `rsync -t` would leave it: the page's cached figures must not survive."""
    sys.path.insert(0, str(ROOT / "pages"))
    from _shared import file_stamp

    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,search,2026-03-02\n")
    before = file_stamp(path)
    stat = path.stat()
    path.write_text("user_id,event,timestamp\nu2,export,2026-03-02\n")
    os.utime(path, ns=(stat.st_atime_ns, stat.st_mtime_ns))
    assert file_stamp(path) != before


def test_a_file_added_to_an_events_folder_is_a_new_version_whatever_its_suffix(tmp_path):
    """.pq files are read as Parquet too: adding one must not leave the pages' figures as
    they were."""
    sys.path.insert(0, str(ROOT / "pages"))
    from _shared import file_stamp

    (tmp_path / "jan.pq").write_bytes(b"PAR1")
    before = file_stamp(tmp_path)
    (tmp_path / "feb.pq").write_bytes(b"PAR1")
    assert file_stamp(tmp_path) != before


def test_the_app_leaves_streamlit_room_beside_duckdb(demo_workspace):
    """The command line lets DuckDB use 1 GB; the app 512 MB, so a page stays within 1 GiB."""
    from growthlab.kpis.engine import memory_limit

    assert memory_limit() == "1GB"
    open_page("milestones")
    assert memory_limit() == "512MB"


def test_an_events_file_gone_from_disk_is_called_missing_not_absent(demo_workspace):
    import shutil

    shutil.move(demo_workspace.parent / "events", demo_workspace.parent.parent / "moved-events")
    try:
        for page in ("milestones", "settings"):
            at = open_page(page)
            assert any("The events file is missing" in e.value for e in at.error), page
            assert not any("No product events yet" in i.value for i in at.info), page
    finally:
        shutil.move(demo_workspace.parent.parent / "moved-events", demo_workspace.parent / "events")


def test_a_team_without_objectives_still_sees_its_success_gap_on_the_overview(demo_workspace):
    """A new team with events and milestones but no OKRs yet: where to aim the first one."""
    from growthlab.db import open_workspace

    db = open_workspace(demo_workspace)
    db.execute("DELETE FROM objectives")
    db.conn.commit()
    at = open_page("overview")
    text = everything(at)
    assert "No objectives yet" in text and "Biggest success gap" in text
    assert "First value → Value realization" in text


def test_the_milestone_editor_is_built_when_opened_on_a_page_with_milestones(demo_workspace):
    """Its grid needs pandas (0.4 s of a new server's first render)."""
    assert "Rules are valid" not in everything(open_page("milestones"))
    assert "Rules are valid" in everything(open_page("milestones", edit="true"))


def test_a_new_team_without_milestones_finds_the_editor_open(empty_workspace):
    assert "Rules are valid" in everything(open_page("milestones"))


@pytest.mark.parametrize("page", ["overview", "okrs", "experiments", "experiment",
                                  "milestones", "research", "settings"])
def test_an_events_file_replaced_on_disk_by_one_it_cannot_read_is_named_not_a_traceback(
        demo_workspace, page):
    """Uploads are checked, but the file can be overwritten later (an export job, a colleague
    copying over it): every page still opens and says what is wrong with which file."""
    from growthlab.db import open_workspace, set_setting

    (demo_workspace.parent / "events.csv").write_text("u0,open,2026-01-01T10:00:00\n")
    set_setting(open_workspace(demo_workspace), "events_path", "events.csv")
    db = open_workspace(demo_workspace)
    untested = next(db.query("SELECT id FROM experiments WHERE id NOT IN (SELECT experiment_id "
                             "FROM metric_results) ORDER BY id"))["id"]  # plans from events
    query = {"experiment": {"id": str(untested)}, "experiments": {"view": "review"}}
    at = open_page(page, **query.get(page, {}))
    if page in ("overview", "experiments", "experiment", "milestones", "settings"):
        assert any("missing column(s) user_id, event, timestamp" in e.value
                   for e in at.error), [e.value for e in at.error]


def test_a_new_workspace_path_beside_another_workspace_says_why_no_demo_is_built(
        tmp_path, monkeypatch):
    """GROWTHLAB_WORKSPACE=team/new.db where team/ holds a workspace with its events: the demo
    would replace them, so the app says so instead (and the events stay)."""
    from growthlab import admin
    from growthlab.db import open_workspace
    from growthlab.kpis import check_events

    events = b"user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
    admin.use_data_file(open_workspace(tmp_path / "ws.db"), "events", events, "e.csv",
                        check_events, actor="maya")
    monkeypatch.setenv("GROWTHLAB_WORKSPACE", str(tmp_path / "new.db"))
    from streamlit.testing.v1 import AppTest

    at = AppTest.from_file(str(ROOT / "app.py"), default_timeout=120).run()
    assert any("ws.db" in e.value and "folder of its own" in e.value for e in at.error)
    assert (tmp_path / "events.csv").read_bytes() == events
