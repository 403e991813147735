"""The demo workspace: deterministic, and it tells the story the pages rely on."""

import hashlib
import multiprocessing
import shutil
import sqlite3
import threading
import time
from datetime import date

import pytest

from growthlab import demo_content as story
from growthlab import okrs
from growthlab.db import open_workspace
from growthlab.demo import create_demo
from growthlab.errors import InputError
from growthlab.kpis import funnel, load_from_workspace
from growthlab.stats import analyze

TABLES = ["squads", "loops", "product_areas", "milestones", "objectives", "key_results",
          "checkins", "experiments", "ice_scores", "variants", "metric_results", "learnings",
          "learning_experiments", "interviews", "themes", "excerpts", "jobs",
          "research_citations", "surveys", "survey_responses"]


def _dump(path):
    conn = sqlite3.connect(path)
    out = {}
    for table in TABLES:
        rows = conn.execute(f"SELECT * FROM {table} ORDER BY 1").fetchall()
        columns = [d[0] for d in conn.execute(f"SELECT * FROM {table}").description]
        # Stamps of when the build ran differ; story dates (created_at of experiments and
        # learnings, lifecycle dates, check-in dates) must not.
        keep = [i for i, c in enumerate(columns) if c != "updated_at" and (
            c != "created_at" or table in ("experiments", "learnings"))]
        out[table] = [tuple(r[i] for i in keep) for r in rows]
    return out


def test_demo_is_deterministic(tmp_path, demo_template):
    from conftest import DEMO_ANCHOR

    create_demo(tmp_path / "growthlab.db", anchor=DEMO_ANCHOR)
    assert _dump(tmp_path / "growthlab.db") == _dump(demo_template)
    digest = [hashlib.sha256((p / "events" / "events.parquet").read_bytes()).hexdigest()
              for p in (tmp_path, demo_template.parent)]
    assert digest[0] == digest[1]


def test_demo_tells_the_story(demo_template):
    db = open_workspace(demo_template)
    assert [db[t].count for t in ("squads", "loops", "product_areas")] == [3, 4, 5]
    milestones = load_from_workspace(db)
    assert [m.key for m in milestones] == ["problem", "interest", "first_value",
                                           "value_realization", "continued_value",
                                           "value_growth"]
    result = funnel(demo_template.parent / "events", milestones)
    assert result.users >= 50_000
    assert (result.success_gap["from"], result.success_gap["to"]) == ("first_value",
                                                                     "value_realization")
    statuses = {r["status"] for r in db.query("SELECT status FROM experiments")}
    assert statuses == {"idea", "backlog", "running", "analysing", "decided", "archived"}
    assert 35 <= db["experiments"].count <= 45 and 25 <= db["learnings"].count <= 35
    results = {r["result"] for r in db.query("SELECT result FROM experiments")}
    assert {"won", "lost", "inconclusive", "invalid"} <= results
    from growthlab import experiments

    flagged = [e["key"] for e in db.query("SELECT id, key FROM experiments")
               if experiments.results(db, e["id"])
               and next(iter(analyze(experiments.results(db, e["id"])).srm.values())).flagged]
    assert flagged == ["EXP-014"]
    views = [kr for o in okrs.overview(db, date(2026, 11, 24)) for kr in o.key_results]
    assert len(views) == 6
    assert {kr.status for kr in views} == set(okrs.STATUSES)
    assert any(kr.lint for kr in views)


def test_demo_won_experiments_are_significant(demo_template):
    from growthlab import experiments

    db = open_workspace(demo_template)
    for e in db.query("SELECT id, key, result, milestone_key FROM experiments "
                      "WHERE result IN ('won', 'lost')"):
        primary = next(r for r in analyze(experiments.results(db, e["id"])).results
                       if r["metric"] == e["milestone_key"])
        assert primary["significant"], e["key"]
        assert (primary["estimate"] > 0) == (e["result"] == "won"), e["key"]


def test_demo_results_vary_like_samples_even_where_the_idea_did_nothing(demo_template):
    """Identical arms (p = 1.000 on every metric) read as made-up numbers; and where the
    demo's story says a test showed no clear effect, its primary metric is not significant."""
    from growthlab import experiments

    db = open_workspace(demo_template)
    for e in db.query("SELECT id, key, result, milestone_key FROM experiments"):
        rows = experiments.results(db, e["id"])
        if not rows:
            continue
        analysis = analyze(rows).results
        assert all(r["p_value"] < 0.99 for r in analysis), e["key"]
        if e["result"] in ("inconclusive", "stopped_early"):
            primary = next(r for r in analysis if r["metric"] == e["milestone_key"])
            assert not primary["significant"], e["key"]


def test_demo_refreshes_itself_but_never_replaces_a_team_workspace(tmp_path, demo_template):
    from growthlab import experiments

    shutil.copytree(demo_template.parent, tmp_path / "demo")
    create_demo(tmp_path / "demo" / "growthlab.db", users=2_000)  # a demo may be refreshed
    team = tmp_path / "team" / "growthlab.db"
    experiments.create(open_workspace(team), title="Our real experiment")
    before = team.read_bytes()
    with pytest.raises(InputError, match="holds a team's workspace"):
        create_demo(team, users=2_000)
    assert team.read_bytes() == before


def test_a_demo_built_by_an_older_growthlab_still_refreshes_after_an_upgrade(tmp_path,
                                                                             demo_template):
    """A migration adds a column to every row: the untouched demo then read as one a team
    had used, and `growthlab demo` refused to refresh it."""
    import sqlite_utils

    from growthlab.db import SCHEMA_VERSION
    from growthlab.demo import fingerprint

    shutil.copytree(demo_template.parent, tmp_path / "demo")
    path = tmp_path / "demo" / "growthlab.db"
    conn = sqlite3.connect(path)  # the demo as the schema before the newest built it
    conn.execute("ALTER TABLE checkins DROP COLUMN version")
    conn.execute("DELETE FROM migrations WHERE version = ?", [SCHEMA_VERSION])
    conn.commit()
    conn.close()
    conn = sqlite3.connect(path)
    conn.execute("UPDATE settings SET value = ? WHERE key = 'demo_fingerprint'",
                 [fingerprint(sqlite_utils.Database(conn), path.parent)])
    conn.commit()
    conn.close()
    open_workspace(path)  # the upgrade migrates it
    create_demo(path, users=2_000)  # and it is still a demo nobody touched


def test_demo_key_results_on_milestones_read_what_their_events_say(demo_template):
    from datetime import datetime, time

    from growthlab.okrs import checkin_from_funnel

    db = open_workspace(demo_template)
    milestones = load_from_workspace(db)
    views = {kr.row["metric"]: kr for o in okrs.overview(db, date(2026, 11, 24))
             for kr in o.key_results}
    for metric in ("first_value", "value_realization"):
        last = views[metric].checkins[-1]
        day = date.fromisoformat(last["date"])
        said = checkin_from_funnel(funnel(demo_template.parent / "events", milestones,
                                          as_of=datetime.combine(day, time()), by_cohort=True),
                                   metric, "%")
        assert last["value"] == round(said.value, 2) and last["note"] == said.note()
    # The onboarding work moves First value; exports lag, so Value realization is off track.
    assert views["first_value"].status == "on track"
    assert views["value_realization"].status == "off track"
    gap = funnel(demo_template.parent / "events", milestones).success_gap
    assert gap["to"] == "value_realization"
    db.conn.close()  # later tests copy the template folder: leave no -wal file behind


def _use_a_row(folder):
    from growthlab import experiments

    db = open_workspace(folder / "growthlab.db")
    experiments.create(db, title="Our first real idea")
    db.conn.close()


def _upload_assignments(folder):
    import pandas as pd

    pd.DataFrame({"user_id": ["t1"], "experiment": ["EXP-900"], "variant": ["control"],
                  "assigned_at": [pd.Timestamp("2026-11-01")]}).to_parquet(
        folder / "assignments.parquet", index=False)


@pytest.mark.parametrize("use", [_use_a_row, _upload_assignments], ids=["row", "upload"])
def test_demo_refuses_a_demo_the_team_has_started_using(tmp_path, demo_template, use):
    from test_backup import tree

    shutil.copytree(demo_template.parent, tmp_path / "demo")
    open_workspace(tmp_path / "demo" / "growthlab.db").conn.close()  # fold in a copied WAL
    use(tmp_path / "demo")
    before = tree(tmp_path / "demo")
    with pytest.raises(InputError, match="started using"):
        create_demo(tmp_path / "demo" / "growthlab.db", users=2_000)
    assert tree(tmp_path / "demo") == before


def test_demo_build_killed_at_random_moments_leaves_old_or_new(tmp_path, capsys):
    from test_backup import kill_at_random_moments

    template = tmp_path / "old" / "growthlab.db"
    create_demo(template, users=1_000, seed=1)
    runs = 20
    survived = kill_at_random_moments(template, ["demo", "--users", "1500", "--seed", "3"],
                                      runs, 32)
    with capsys.disabled():
        print(f"\ndemo build killed at random moments: {survived}/{runs} left old or new")
    assert survived == runs


def _build_demo(path, barrier, queue):
    barrier.wait()
    try:
        create_demo(path, users=1_000)
        queue.put("ok")
    except Exception as exc:  # noqa: BLE001 - the test reports what went wrong
        queue.put(f"{type(exc).__name__}: {exc}")


def test_two_demo_builds_at_once_both_finish(tmp_path, capsys):
    ctx = multiprocessing.get_context("spawn")
    rounds, outcomes = 3, []
    for i in range(rounds):
        path = tmp_path / f"demo{i}" / "growthlab.db"
        barrier, queue = ctx.Barrier(2), ctx.Queue()
        workers = [ctx.Process(target=_build_demo, args=(path, barrier, queue))
                   for _ in range(2)]
        for w in workers:
            w.start()
        for w in workers:
            w.join(300)
        outcomes += [queue.get(timeout=5) for _ in workers]
        assert open_workspace(path)["experiments"].count == len(story.EXPERIMENTS)
    failures = [o for o in outcomes if o != "ok"]
    with capsys.disabled():
        print(f"\ntwo demo builds at once: {len(failures)} failed of {len(outcomes)}")
    assert not failures


def test_a_first_visit_waits_for_a_build_in_progress(tmp_path, demo_template):
    from growthlab.demo import ensure_demo
    from growthlab.swap import workspace_lock

    path = tmp_path / "demo" / "growthlab.db"
    path.parent.mkdir()
    built = []
    with workspace_lock(path):
        visit = threading.Thread(target=lambda: built.append(ensure_demo(path)))
        visit.start()
        time.sleep(0.5)
        shutil.copy(demo_template, path)
    visit.join(120)
    assert built == [False]
