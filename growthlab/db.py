"""Open a workspace: one SQLite file, numbered migrations, pragmas, audit log.

A workspace is opened per call (never cached across Streamlit threads).
"""

from __future__ import annotations

import json
import os
import shutil
import sqlite3
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from growthlab import clock
from growthlab.errors import GrowthLabError, StaleEditError


class _NoPandasHere:
    """A finder that refuses `import pandas` to the thread that installed it only: Streamlit
    runs each browser tab's script in its own thread, and another tab importing pandas
    meanwhile must get it."""

    def __init__(self):
        self.thread = threading.get_ident()

    def find_spec(self, name, path=None, target=None):
        if name == "pandas" and threading.get_ident() == self.thread:
            raise ModuleNotFoundError("pandas is not imported for sqlite_utils", name=name)
        return None


def _import_sqlite_utils():
    """sqlite_utils, imported without pandas.

    It imports pandas when it can, only to give pd.Timestamp a column type (GrowthLab keeps
    dates as text): a third of a second on every page of a new server, most of which never
    needs pandas. A later `import pandas` works as usual, but the workspace then takes no
    pd.Timestamp (sqlite_utils raises KeyError, as for any type it does not map): write
    dates as ISO text, as GrowthLab does everywhere.
    """
    if "pandas" in sys.modules:
        import sqlite_utils

        return sqlite_utils
    finder = _NoPandasHere()
    sys.meta_path.insert(0, finder)
    try:
        import sqlite_utils
    finally:
        sys.meta_path.remove(finder)
    return sqlite_utils


sqlite_utils = _import_sqlite_utils()

DEFAULT_WORKSPACE = Path("data") / "growthlab.db"
BUSY_TIMEOUT_MS = 10_000

SCHEMA_V1 = """
CREATE TABLE squads (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    mission TEXT NOT NULL DEFAULT ''
);
CREATE TABLE product_areas (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE
);
CREATE TABLE loops (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL UNIQUE,
    description TEXT NOT NULL DEFAULT ''
);
CREATE TABLE milestones (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    name TEXT NOT NULL,
    phase TEXT NOT NULL,
    rule TEXT NOT NULL,
    window_days INTEGER,
    position INTEGER NOT NULL,
    success_moment TEXT CHECK (success_moment IN ('setup', 'aha', 'eureka', 'habit'))
);
CREATE TABLE objectives (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    why TEXT NOT NULL DEFAULT '',
    period TEXT NOT NULL DEFAULT '',
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    squad_id INTEGER REFERENCES squads(id),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE key_results (
    id INTEGER PRIMARY KEY,
    objective_id INTEGER NOT NULL REFERENCES objectives(id) ON DELETE CASCADE,
    statement TEXT NOT NULL,
    metric TEXT NOT NULL,
    metric_kind TEXT NOT NULL DEFAULT 'value_creation'
        CHECK (metric_kind IN ('value_creation', 'value_capture')),
    direction TEXT NOT NULL DEFAULT 'increase' CHECK (direction IN ('increase', 'decrease')),
    unit TEXT NOT NULL DEFAULT '',
    baseline REAL NOT NULL,
    target REAL NOT NULL,
    stretch REAL,
    start_date TEXT NOT NULL,
    end_date TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE checkins (
    id INTEGER PRIMARY KEY,
    key_result_id INTEGER NOT NULL REFERENCES key_results(id) ON DELETE CASCADE,
    date TEXT NOT NULL,
    value REAL NOT NULL,
    confidence INTEGER NOT NULL CHECK (confidence BETWEEN 0 AND 10),
    note TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX checkins_kr ON checkins(key_result_id, date);
CREATE TABLE experiments (
    id INTEGER PRIMARY KEY,
    key TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    hypothesis TEXT NOT NULL DEFAULT '',
    status TEXT NOT NULL DEFAULT 'idea'
        CHECK (status IN ('idea', 'backlog', 'running', 'analysing', 'decided', 'archived')),
    squad_id INTEGER REFERENCES squads(id),
    milestone_key TEXT,
    loop_id INTEGER REFERENCES loops(id),
    product_area_id INTEGER REFERENCES product_areas(id),
    key_result_id INTEGER REFERENCES key_results(id) ON DELETE SET NULL,
    primary_metric TEXT,
    guardrail_metrics TEXT NOT NULL DEFAULT '[]',
    expected_acquisition TEXT NOT NULL DEFAULT 'unknown',
    expected_retention TEXT NOT NULL DEFAULT 'unknown',
    observed_acquisition TEXT NOT NULL DEFAULT 'unknown',
    observed_retention TEXT NOT NULL DEFAULT 'unknown',
    rice_reach REAL,
    rice_impact REAL,
    rice_confidence REAL,
    rice_effort REAL,
    result TEXT CHECK (result IN ('won', 'lost', 'inconclusive', 'invalid', 'stopped_early')),
    decision TEXT CHECK (decision IN ('ship', 'iterate', 'abandon')),
    conclusion TEXT NOT NULL DEFAULT '',
    owner TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    backlog_at TEXT,
    started_at TEXT,
    ended_at TEXT,
    decided_at TEXT,
    archived_at TEXT,
    version INTEGER NOT NULL DEFAULT 1,
    updated_at TEXT NOT NULL
);
CREATE TABLE ice_scores (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    scorer TEXT NOT NULL,
    impact INTEGER NOT NULL CHECK (impact BETWEEN 1 AND 10),
    confidence INTEGER NOT NULL CHECK (confidence BETWEEN 1 AND 10),
    ease INTEGER NOT NULL CHECK (ease BETWEEN 1 AND 10),
    UNIQUE (experiment_id, scorer)
);
CREATE TABLE variants (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    key TEXT NOT NULL,
    name TEXT NOT NULL DEFAULT '',
    weight REAL NOT NULL CHECK (weight > 0),
    position INTEGER NOT NULL,
    UNIQUE (experiment_id, key)
);
CREATE TABLE metric_results (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    metric TEXT NOT NULL,
    variant TEXT NOT NULL,
    kind TEXT NOT NULL CHECK (kind IN ('proportion', 'mean')),
    users INTEGER NOT NULL,
    conversions INTEGER,
    sum REAL,
    sum_squares REAL,
    pre_sum REAL,
    pre_sum_squares REAL,
    sum_product REAL,
    source TEXT NOT NULL DEFAULT 'upload',
    position INTEGER NOT NULL DEFAULT 0,
    updated_at TEXT NOT NULL,
    UNIQUE (experiment_id, metric, variant)
);
CREATE TABLE learnings (
    id INTEGER PRIMARY KEY,
    title TEXT NOT NULL,
    body TEXT NOT NULL DEFAULT '',
    tags TEXT NOT NULL DEFAULT '[]',
    status TEXT NOT NULL DEFAULT 'emerging'
        CHECK (status IN ('emerging', 'supported', 'confirmed', 'rejected')),
    author TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    version INTEGER NOT NULL DEFAULT 1
);
CREATE TABLE learning_experiments (
    learning_id INTEGER NOT NULL REFERENCES learnings(id) ON DELETE CASCADE,
    experiment_id INTEGER NOT NULL REFERENCES experiments(id) ON DELETE CASCADE,
    relation TEXT NOT NULL CHECK (relation IN ('supports', 'contradicts')),
    PRIMARY KEY (learning_id, experiment_id)
);
CREATE TABLE settings (
    key TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
CREATE TABLE audit_log (
    id INTEGER PRIMARY KEY,
    at TEXT NOT NULL,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    entity TEXT NOT NULL,
    entity_id INTEGER,
    detail TEXT NOT NULL DEFAULT '{}'
);
CREATE VIRTUAL TABLE search_index USING fts5(
    kind UNINDEXED, ref_id UNINDEXED, title, body, tags,
    tokenize = 'porter unicode61 remove_diacritics 2'
);
CREATE TRIGGER learnings_ai AFTER INSERT ON learnings BEGIN
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    VALUES ('learning', new.id, new.title, new.body, new.tags || ' ' || new.status);
END;
CREATE TRIGGER learnings_au AFTER UPDATE ON learnings BEGIN
    DELETE FROM search_index WHERE kind = 'learning' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    VALUES ('learning', new.id, new.title, new.body, new.tags || ' ' || new.status);
END;
CREATE TRIGGER learnings_ad AFTER DELETE ON learnings BEGIN
    DELETE FROM search_index WHERE kind = 'learning' AND ref_id = old.id;
END;
CREATE VIEW experiment_search_rows AS
SELECT e.id AS ref_id,
       e.key || ' ' || e.title AS title,
       e.hypothesis || ' ' || e.conclusion AS body,
       coalesce(e.milestone_key, '') || ' ' || coalesce(l.name, '') || ' ' || coalesce(pa.name, '')
           || ' ' || coalesce(s.name, '') || ' ' || e.status || ' ' || coalesce(e.result, '')
           || ' ' || coalesce(e.decision, '') AS tags
FROM experiments e
LEFT JOIN loops l ON l.id = e.loop_id
LEFT JOIN product_areas pa ON pa.id = e.product_area_id
LEFT JOIN squads s ON s.id = e.squad_id;
CREATE TRIGGER experiments_ai AFTER INSERT ON experiments BEGIN
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    SELECT 'experiment', ref_id, title, body, tags
    FROM experiment_search_rows WHERE ref_id = new.id;
END;
CREATE TRIGGER experiments_au AFTER UPDATE ON experiments BEGIN
    DELETE FROM search_index WHERE kind = 'experiment' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    SELECT 'experiment', ref_id, title, body, tags
    FROM experiment_search_rows WHERE ref_id = new.id;
END;
CREATE TRIGGER experiments_ad AFTER DELETE ON experiments BEGIN
    DELETE FROM search_index WHERE kind = 'experiment' AND ref_id = old.id;
END;
"""

SCHEMA_RESEARCH = """
CREATE TABLE interviews (
    id INTEGER PRIMARY KEY,
    participant TEXT NOT NULL,
    segment TEXT NOT NULL DEFAULT '',
    date TEXT NOT NULL,
    notes TEXT NOT NULL DEFAULT '',
    author TEXT NOT NULL DEFAULT '',
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL
);
CREATE TABLE themes (
    id INTEGER PRIMARY KEY,
    kind TEXT NOT NULL CHECK (kind IN ('struggle', 'motivation', 'outcome')),
    name TEXT NOT NULL,
    UNIQUE (kind, name)
);
CREATE TABLE excerpts (
    id INTEGER PRIMARY KEY,
    interview_id INTEGER NOT NULL REFERENCES interviews(id) ON DELETE CASCADE,
    theme_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    text TEXT NOT NULL,
    milestone_key TEXT,
    lens TEXT CHECK (lens IN ('thinking', 'doing', 'feeling')),
    author TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE INDEX excerpts_interview ON excerpts(interview_id);
CREATE TABLE jobs (
    id INTEGER PRIMARY KEY,
    struggle_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    motivation_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    outcome_id INTEGER NOT NULL REFERENCES themes(id) ON DELETE CASCADE,
    statement TEXT NOT NULL,
    adopted INTEGER NOT NULL DEFAULT 0 CHECK (adopted IN (0, 1)),
    version INTEGER NOT NULL DEFAULT 1,
    created_at TEXT NOT NULL,
    updated_at TEXT NOT NULL,
    UNIQUE (struggle_id, motivation_id, outcome_id)
);
CREATE TABLE research_citations (
    id INTEGER PRIMARY KEY,
    experiment_id INTEGER REFERENCES experiments(id) ON DELETE CASCADE,
    learning_id INTEGER REFERENCES learnings(id) ON DELETE CASCADE,
    job_id INTEGER REFERENCES jobs(id) ON DELETE CASCADE,
    theme_id INTEGER REFERENCES themes(id) ON DELETE CASCADE,
    CHECK ((experiment_id IS NULL) != (learning_id IS NULL)),
    CHECK ((job_id IS NULL) != (theme_id IS NULL))
);
CREATE UNIQUE INDEX research_citations_once ON research_citations (
    coalesce(experiment_id, 0), coalesce(learning_id, 0), coalesce(job_id, 0),
    coalesce(theme_id, 0));
CREATE TABLE surveys (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    taken_on TEXT NOT NULL,
    author TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL
);
CREATE TABLE survey_responses (
    id INTEGER PRIMARY KEY,
    survey_id INTEGER NOT NULL REFERENCES surveys(id) ON DELETE CASCADE,
    respondent_id TEXT NOT NULL,
    pmf TEXT NOT NULL CHECK (pmf IN ('very disappointed', 'somewhat disappointed',
                                     'not disappointed', 'no longer use')),
    segment TEXT NOT NULL DEFAULT '',
    ces INTEGER CHECK (ces BETWEEN 1 AND 7),
    nps INTEGER CHECK (nps BETWEEN 0 AND 10),
    benefit TEXT NOT NULL DEFAULT '',
    UNIQUE (survey_id, respondent_id)
);
CREATE TRIGGER interviews_ai AFTER INSERT ON interviews BEGIN
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    VALUES ('interview', new.id, new.participant, new.notes, new.segment);
END;
CREATE TRIGGER interviews_au AFTER UPDATE ON interviews BEGIN
    DELETE FROM search_index WHERE kind = 'interview' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    VALUES ('interview', new.id, new.participant, new.notes, new.segment);
END;
CREATE TRIGGER interviews_ad AFTER DELETE ON interviews BEGIN
    DELETE FROM search_index WHERE kind = 'interview' AND ref_id = old.id;
END;
CREATE TRIGGER excerpts_ai AFTER INSERT ON excerpts BEGIN
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    SELECT 'excerpt', new.id, t.name, new.text,
           t.kind || ' ' || coalesce(new.lens, '') || ' ' || coalesce(new.milestone_key, '')
    FROM themes t WHERE t.id = new.theme_id;
END;
CREATE TRIGGER excerpts_ad AFTER DELETE ON excerpts BEGIN
    DELETE FROM search_index WHERE kind = 'excerpt' AND ref_id = old.id;
END;
CREATE TRIGGER jobs_ai AFTER INSERT ON jobs BEGIN
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    VALUES ('job', new.id, new.statement, new.statement,
            CASE new.adopted WHEN 1 THEN 'adopted' ELSE 'candidate' END);
END;
CREATE TRIGGER jobs_au AFTER UPDATE ON jobs BEGIN
    DELETE FROM search_index WHERE kind = 'job' AND ref_id = old.id;
    INSERT INTO search_index (kind, ref_id, title, body, tags)
    VALUES ('job', new.id, new.statement, new.statement,
            CASE new.adopted WHEN 1 THEN 'adopted' ELSE 'candidate' END);
END;
CREATE TRIGGER jobs_ad AFTER DELETE ON jobs BEGIN
    DELETE FROM search_index WHERE kind = 'job' AND ref_id = old.id;
END;
"""

# Each migration is (version, name, sql). Append; never edit a released one.
MIGRATIONS: list[tuple[int, str, str]] = [
    (1, "initial schema", SCHEMA_V1),
    (2, "versions for ICE scores and result sets", """
ALTER TABLE ice_scores ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
ALTER TABLE experiments ADD COLUMN results_version INTEGER NOT NULL DEFAULT 0;
"""),
    (3, "customer research: interviews, coded passages, jobs, PMF surveys", SCHEMA_RESEARCH),
    (4, "an experiment's planned sample and duration", """
ALTER TABLE experiments ADD COLUMN planned_users INTEGER;
ALTER TABLE experiments ADD COLUMN planned_days INTEGER;
"""),
    (5, "how an experiment's stored results were computed", """
ALTER TABLE experiments ADD COLUMN results_notes TEXT NOT NULL DEFAULT '{}';
"""),
    (6, "metrics where lower is better, kept with an experiment's design", """
ALTER TABLE experiments ADD COLUMN lower_is_better TEXT NOT NULL DEFAULT '[]';
"""),
    (7, "versions for check-ins, which may be corrected or removed", """
ALTER TABLE checkins ADD COLUMN version INTEGER NOT NULL DEFAULT 1;
"""),
]
SCHEMA_VERSION = MIGRATIONS[-1][0]
MIGRATIONS_TABLE = ("CREATE TABLE IF NOT EXISTS migrations "
                    "(version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)")


def workspace_path(path: str | Path | None = None) -> Path:
    """The workspace file: the given path, else $GROWTHLAB_WORKSPACE, else data/growthlab.db."""
    if path:
        return Path(path)
    env = os.environ.get("GROWTHLAB_WORKSPACE")
    return Path(env) if env else DEFAULT_WORKSPACE


def events_dir(path: str | Path | None = None) -> Path:
    """The folder of event files beside the workspace file."""
    return workspace_path(path).parent / "events"


def now() -> str:
    return clock.now().replace(microsecond=0).isoformat()


def open_workspace(path: str | Path | None = None, *, create: bool = True) -> sqlite_utils.Database:
    """Open (and upgrade) a workspace. A fresh file is created at the latest schema.

    A restore or demo build a crash interrupted is finished or discarded first. Creating and
    upgrading hold the workspace lock, so two processes opening a new workspace do not both
    build it.
    """
    from growthlab.swap import recover_interrupted, workspace_lock

    target = workspace_path(path)
    if not target.exists():
        if not create:
            raise GrowthLabError(f"{target}: no workspace here. Run `growthlab demo` first.")
        target.parent.mkdir(parents=True, exist_ok=True)
    recover_interrupted(target)
    conn = sqlite3.connect(str(target), timeout=BUSY_TIMEOUT_MS / 1000, isolation_level=None,
                           check_same_thread=False)
    conn.execute(f"PRAGMA busy_timeout = {BUSY_TIMEOUT_MS}")
    conn.execute("PRAGMA foreign_keys = ON")
    conn.execute("PRAGMA synchronous = NORMAL")
    db = sqlite_utils.Database(conn)
    if conn.execute("PRAGMA journal_mode").fetchone()[0] != "wal" or (
            schema_version(db) != SCHEMA_VERSION):
        with workspace_lock(target):
            conn.execute("PRAGMA journal_mode = WAL")
            migrate(db, target)
    return db


def schema_version(db: sqlite_utils.Database) -> int:
    if "migrations" not in db.table_names():
        return 0
    row = db.execute("SELECT max(version) FROM migrations").fetchone()
    return row[0] or 0


def migrate(db: sqlite_utils.Database, path: Path | None = None) -> list[int]:
    """Apply pending migrations in order; back the file up first when it holds data."""
    current = schema_version(db)
    if current > SCHEMA_VERSION:
        raise GrowthLabError(
            f"{path}: workspace is schema v{current}, newer than this GrowthLab "
            f"(v{SCHEMA_VERSION}). Upgrade GrowthLab to open it."
        )
    pending = [m for m in MIGRATIONS if m[0] > current]
    if pending and current > 0 and path is not None:
        backup = path.with_name(f"{path.name}.v{current}.bak")
        db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        shutil.copy2(path, backup)
    untouched_demo = bool(pending) and current > 0 and path is not None and _untouched_demo(
        db, path)
    applied = []
    for version, name, sql in pending:
        with transaction(db):
            if schema_version(db) >= version:  # another process applied it while we waited
                continue
            db.execute(MIGRATIONS_TABLE)
            for statement in _split_sql(sql):
                db.execute(statement)
            db.execute("INSERT INTO migrations VALUES (?, ?, ?)", [version, name, now()])
        applied.append(version)
    if untouched_demo and applied:  # new columns change every row, not the team's use of it
        from growthlab.demo import fingerprint

        set_setting(db, "demo_fingerprint", fingerprint(db, path.parent))
    return applied


def _untouched_demo(db: sqlite_utils.Database, path: Path) -> bool:
    """A demo nobody has changed since it was built (growthlab.demo.fingerprint)."""
    from growthlab.demo import fingerprint

    return get_setting(db, "demo") == "true" and get_setting(
        db, "demo_fingerprint") == fingerprint(db, path.parent)


def schema_at(version: int) -> sqlite_utils.Database:
    """An empty in-memory workspace at schema `version`: what an archive's tables must match."""
    db = sqlite_utils.Database(memory=True)
    db.execute(MIGRATIONS_TABLE)
    for _, _, sql in (m for m in MIGRATIONS if m[0] <= version):
        for statement in _split_sql(sql):
            db.execute(statement)
    return db


def _split_sql(script: str) -> Iterator[str]:
    """Split a script into statements, keeping trigger bodies whole."""
    buffer = ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            if buffer.strip():
                yield buffer.strip()
            buffer = ""
    if buffer.strip():
        yield buffer.strip()


@contextmanager
def transaction(db: sqlite_utils.Database) -> Iterator[sqlite_utils.Database]:
    """One write transaction; nested inside another it is a savepoint (`Database.atomic()`).

    The outer level takes the write lock at once (BEGIN IMMEDIATE), so concurrent writers
    queue instead of failing when a read lock would have to be upgraded.
    """
    conn = db.conn
    if conn.in_transaction:
        with db.atomic():
            yield db
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield db
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise
    try:
        conn.execute("COMMIT")
    except BaseException:
        if conn.in_transaction:
            conn.execute("ROLLBACK")
        raise


def audit(db: sqlite_utils.Database, actor: str, action: str, entity: str,
          entity_id: int | None, detail: dict | None = None) -> None:
    db.execute(
        "INSERT INTO audit_log (at, actor, action, entity, entity_id, detail) VALUES (?,?,?,?,?,?)",
        [now(), actor or "local", action, entity, entity_id, json.dumps(detail or {}, default=str)],
    )


def update_versioned(db: sqlite_utils.Database, table: str, row_id: int, version: int,
                     changes: dict, *, actor: str, entity: str) -> dict:
    """Save `changes` only if the row is still at `version`; else raise StaleEditError."""
    columns = [c.name for c in db[table].columns]
    unknown = set(changes) - set(columns)
    if unknown:
        raise GrowthLabError(f"unknown field(s) for {entity}: {', '.join(sorted(unknown))}")
    with transaction(db):
        values = {**changes, "version": version + 1}
        if "updated_at" in columns:
            values["updated_at"] = now()
        assignments = ", ".join(f"[{k}] = ?" for k in values)
        cursor = db.execute(
            f"UPDATE [{table}] SET {assignments} WHERE id = ? AND version = ?",
            [*values.values(), row_id, version],
        )
        if cursor.rowcount == 0:
            current = next(db.query(f"SELECT * FROM [{table}] WHERE id = ?", [row_id]), None)
            if current is None:
                raise GrowthLabError(f"{entity} {row_id} no longer exists.")
            raise StaleEditError(entity, current)
        audit(db, actor, "update", entity, row_id, changes)
        return next(db.query(f"SELECT * FROM [{table}] WHERE id = ?", [row_id]))


def get_setting(db: sqlite_utils.Database, key: str, default: str | None = None) -> str | None:
    row = db.execute("SELECT value FROM settings WHERE key = ?", [key]).fetchone()
    return row[0] if row else default


def set_setting(db: sqlite_utils.Database, key: str, value: str) -> None:
    db.execute("INSERT INTO settings VALUES (?, ?) ON CONFLICT(key) DO UPDATE SET value = ?",
               [key, value, value])

