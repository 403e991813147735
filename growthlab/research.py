"""Customer research: interviews, passages coded into struggle, motivation and outcome themes,
the jobs to be done those themes make, and the customer-experience map per milestone.

The same analysis runs on a coded-interviews CSV (`growthlab research`) and on a workspace's
interviews (the Research page): both become a list of `Coded` passages.
"""

from __future__ import annotations

import itertools
import math
import unicodedata
from collections import defaultdict
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path

from growthlab.db import audit, now, transaction, update_versioned
from growthlab.errors import InputError
from growthlab.io import csv_records, read_file, read_text, safe_cell

KINDS = ("struggle", "motivation", "outcome")
KIND_LABELS = {"struggle": "Struggle", "motivation": "Motivation", "outcome": "Desired outcome"}
KIND_ALIASES = {"desired outcome": "outcome"}  # the page's own label, as files export it
LENSES = ("thinking", "doing", "feeling")
COLUMNS = ("interview_id", "participant", "segment", "date", "kind", "theme", "excerpt")
MAX_NAME = 200
# Every struggle x motivation x outcome theme coded in one interview is a candidate job, and
# each is enumerated to rank them: beyond this many (over all interviews) ranking takes
# seconds and gigabytes, and no team reads that many.
MAX_CANDIDATES = 100_000
SEARCH_KINDS = ("interview", "excerpt", "job")  # documents in the learnings' search index


@dataclass(frozen=True)
class Coded:
    """One coded passage of an interview."""

    interview: str
    kind: str
    theme: str
    excerpt: str
    milestone: str | None = None
    lens: str | None = None
    participant: str = ""
    segment: str = ""
    date: str = ""


@dataclass
class Theme:
    kind: str
    theme: str
    interviews: int
    quotes: list[Coded]

    def as_dict(self) -> dict:
        return {"kind": self.kind, "theme": self.theme, "interviews": self.interviews,
                "excerpts": len(self.quotes)}


@dataclass
class Job:
    struggle: str
    motivation: str
    outcome: str
    evidence: list[str]  # the interviews holding all three themes

    @property
    def interviews(self) -> int:
        return len(self.evidence)

    @property
    def statement(self) -> str:
        return statement(self.struggle, self.motivation, self.outcome)

    def as_dict(self) -> dict:
        return {"struggle": self.struggle, "motivation": self.motivation,
                "outcome": self.outcome, "interviews": self.interviews,
                "statement": self.statement}


@dataclass
class Cell:
    """A theme on the customer-experience map: a milestone seen through a lens."""

    milestone: str
    lens: str
    kind: str
    theme: str
    interviews: int
    quotes: list[Coded] = field(default_factory=list)

    def as_dict(self) -> dict:
        return {"milestone": self.milestone, "lens": self.lens, "theme": self.theme,
                "interviews": self.interviews}


def statement(struggle: str, motivation: str, outcome: str) -> str:
    return f"When I {struggle}, help me {motivation}, so I can {outcome}."


def _name_order(name: str) -> tuple[str, str]:
    return name.casefold(), name


def themes(coded: list[Coded]) -> list[Theme]:
    """Themes ranked by the number of interviews that mention them, then by name."""
    groups: dict[tuple[str, str], list[Coded]] = defaultdict(list)
    for c in coded:
        groups[(c.kind, c.theme)].append(c)
    ranked = [Theme(kind, theme, len({c.interview for c in quotes}), quotes)
              for (kind, theme), quotes in groups.items()]
    return sorted(ranked, key=lambda t: (-t.interviews, _name_order(t.theme),
                                         KINDS.index(t.kind)))


def _held(coded: list[Coded]) -> dict[str, dict[str, set[str]]]:
    """The themes of each kind coded in each interview."""
    held: dict[str, dict[str, set[str]]] = defaultdict(lambda: {k: set() for k in KINDS})
    for c in coded:
        held[c.interview][c.kind].add(c.theme)
    return held


def _candidates(by_kind: dict[str, set[str]]) -> int:
    return math.prod(len(by_kind[k]) for k in KINDS)


def _hold(held: dict, total: int, interview: str, kind: str, theme: str, who: str,
          **where) -> int:
    """Add a theme coded in an interview to `held`; the new number of candidate jobs, refused
    beyond MAX_CANDIDATES."""
    by_kind = held[interview]
    if theme in by_kind[kind]:
        return total
    total += _candidates({**by_kind, kind: {theme}})
    if total > MAX_CANDIDATES:
        s, m, o = (len(by_kind[k]) + (k == kind) for k in KINDS)
        raise InputError(f"makes more than {MAX_CANDIDATES:,} candidate jobs (each struggle, "
                         f"motivation and outcome of an interview pair up): {who} holds "
                         f"{s} struggle, {m} motivation and {o} outcome themes; code fewer, "
                         "broader themes", **where)
    by_kind[kind].add(theme)
    return total


def jobs(coded: list[Coded]) -> list[Job]:
    """Every struggle, motivation and outcome theme coded in one interview makes a candidate
    job; ranked by how many interviews hold all three, then by the themes' names."""
    held = _held(coded)
    if (total := sum(map(_candidates, held.values()))) > MAX_CANDIDATES:
        raise InputError(f"the coded passages make {total:,} candidate jobs (limit "
                         f"{MAX_CANDIDATES:,}); code fewer, broader themes per interview",
                         field="jobs")
    evidence: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for interview, by_kind in held.items():
        for triple in itertools.product(*(sorted(by_kind[k]) for k in KINDS)):
            evidence[triple].append(interview)
    found = [Job(*triple, sorted(ids)) for triple, ids in evidence.items()]
    return sorted(found, key=lambda j: (-j.interviews, *map(_name_order, (
        j.struggle, j.motivation, j.outcome))))


def cx_map(coded: list[Coded], milestones: list[str] | None = None) -> list[Cell]:
    """Themes per milestone and lens (passages coded with both), milestones in funnel order
    (`milestones`; others after, in the order they first appear), lenses thinking, doing,
    feeling, each cell's themes ranked like `themes`."""
    groups: dict[tuple[str, str, str, str], list[Coded]] = defaultdict(list)
    for c in coded:
        if c.milestone and c.lens:
            groups[(c.milestone, c.lens, c.kind, c.theme)].append(c)
    order = list(milestones or [])
    order += [m for m in dict.fromkeys(c.milestone for c in coded if c.milestone and c.lens)
              if m not in order]
    cells = [Cell(m, lens, kind, theme, len({c.interview for c in quotes}), quotes)
             for (m, lens, kind, theme), quotes in groups.items()]
    return sorted(cells, key=lambda c: (order.index(c.milestone), LENSES.index(c.lens),
                                        -c.interviews, _name_order(c.theme),
                                        KINDS.index(c.kind)))


def evidence(coded: list[Coded], job: Job) -> list[Coded]:
    """The quotes behind a job: its three themes, in the interviews holding all three."""
    wanted = set(zip(KINDS, (job.struggle, job.motivation, job.outcome), strict=True))
    return [c for c in coded if c.interview in job.evidence and (c.kind, c.theme) in wanted]


def summarise(coded: list[Coded], milestones: list[str] | None = None) -> dict:
    """The `growthlab research --json` payload."""
    return {"interviews": len({c.interview for c in coded}),
            "themes": [t.as_dict() for t in themes(coded)],
            "jobs": [j.as_dict() for j in jobs(coded)],
            "cx_map": [c.as_dict() for c in cx_map(coded, milestones)]}


def interview_date(value, **where) -> str:
    """An interview's day as ISO text (YYYY-MM-DD, 1900-2199)."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{str(value)[:40]!r} is not a date; use YYYY-MM-DD", **where) from None
    if not 1900 <= day.year <= 2199:
        raise InputError(f"{day} is outside the years 1900-2199", **where)
    return day.isoformat()


def _choice(raw: str, allowed: tuple[str, ...], what: str, **where) -> str:
    value = " ".join(raw.replace("-", " ").split()).lower()
    value = KIND_ALIASES.get(value, value)
    if value not in allowed:
        raise InputError(f"{raw[:40]!r} is not a {what}; use one of {', '.join(allowed)}",
                         **where)
    return value


def theme_name(raw: str, **where) -> str:
    """A theme as stored: one line, no edge spaces, not empty, not a spreadsheet formula."""
    name = " ".join((raw or "").split())
    if not name:
        raise InputError("is empty; name the theme in a few words", **where)
    if len(name) > MAX_NAME:
        raise InputError(f"is {len(name)} characters; keep a theme under {MAX_NAME}", **where)
    if safe_cell(name[:1]) != name[:1]:
        raise InputError(f"{name[:40]!r} starts like a spreadsheet formula; start the theme "
                         "with a letter or a digit", **where)
    if safe_cell(name) != name:
        raise InputError(f"{name[:40]!r} has =, +, - or @ after a ';', which a spreadsheet "
                         "runs as a formula; reword it", **where)
    return name


def _same_interview(interview: str, seen_line: int, seen: tuple, about: tuple,
                    where: dict) -> None:
    for column, was, value in zip(("participant", "segment", "date"), seen, about, strict=True):
        if was != value:
            raise InputError(f"interview {interview[:40]!r} has another {column} on line "
                             f"{seen_line} ({was[:40]!r}, here {value[:40]!r}); give every row "
                             "of an interview the same", column=column, **where)


def parse_interviews_csv(data: bytes, source: str = "interviews.csv") -> list[Coded]:
    """Coded excerpts, one a row: `interview_id, participant, segment, date, kind, theme,
    excerpt` and optional `milestone, lens`."""
    _, records = csv_records(read_text(data, source), source, COLUMNS)
    first: dict[str, tuple[int, tuple[str, str, str]]] = {}
    held, candidates = _held([]), 0
    spelling: dict[tuple[str, str], str] = {}  # a theme is named as first written
    coded = []
    for line, rec in records:
        where = {"source": source, "line": line}
        for column in ("interview_id", "participant", "excerpt"):
            if not rec[column]:
                raise InputError("is empty", column=column, **where)
        interview = rec["interview_id"]
        about = (unicodedata.normalize("NFC", rec["participant"]),
                 unicodedata.normalize("NFC", rec["segment"]),
                 interview_date(rec["date"], column="date", **where))
        _same_interview(interview, *first.setdefault(interview, (line, about)), about, where)
        lens = rec.get("lens", "")
        kind = _choice(rec["kind"], KINDS, "kind", column="kind", **where)
        theme = theme_name(rec["theme"], column="theme", **where)
        theme = spelling.setdefault((kind, theme.casefold()), theme)
        candidates = _hold(held, candidates, interview, kind, theme,
                           f"interview {interview[:40]!r}", column="theme", **where)
        coded.append(Coded(
            interview, kind, theme, rec["excerpt"], rec.get("milestone") or None,
            _choice(lens, LENSES, "lens", column="lens", **where) if lens else None, *about))
    return coded


def read_interviews_csv(path: str | Path) -> list[Coded]:
    return parse_interviews_csv(read_file(path), str(path))


# The workspace: interviews, themes, coded passages, jobs and what cites them.

def add_interview(db, *, participant: str, segment: str = "", day, notes: str = "",
                  actor: str = "local") -> int:
    participant = " ".join((participant or "").split())
    if not participant:
        raise InputError("is empty; who was interviewed (a name or an alias)?",
                         field="participant")
    stamp = now()
    with transaction(db):
        row_id = db["interviews"].insert({
            "participant": participant, "segment": " ".join((segment or "").split()),
            "date": interview_date(day, field="date"), "notes": (notes or "").strip(),
            "author": actor, "created_at": stamp, "updated_at": stamp}).last_pk
        audit(db, actor, "create", "interview", row_id, {"participant": participant})
    return row_id


def update_interview(db, interview_id: int, version: int, changes: dict, *,
                     actor: str = "local") -> dict:
    if "participant" in changes and not (changes["participant"] or "").strip():
        raise InputError("is empty", field="participant")
    if "date" in changes:
        changes = {**changes, "date": interview_date(changes["date"], field="date")}
    return update_versioned(db, "interviews", interview_id, version, changes, actor=actor,
                            entity="interview")


def interviews(db) -> list[dict]:
    """Every interview, newest first, with how many passages are coded."""
    return list(db.query(
        "SELECT i.*, count(x.id) AS coded FROM interviews i LEFT JOIN excerpts x "
        "ON x.interview_id = i.id GROUP BY i.id ORDER BY i.date DESC, i.id DESC"))


def get_interview(db, interview_id: int) -> dict:
    row = next(db.query("SELECT * FROM interviews WHERE id = ?", [interview_id]), None)
    if row is None:
        raise InputError(f"interview {interview_id} does not exist", field="interview")
    return row


def interview_of(db, excerpt_id: int) -> int | None:
    row = db.execute("SELECT interview_id FROM excerpts WHERE id = ?", [excerpt_id]).fetchone()
    return row[0] if row else None


def _spelling(db, kind: str, name: str) -> str:
    """The stored name of the theme called `name` in any case, else `name` (a new theme)."""
    folded = name.casefold()
    return next((r[0] for r in db.execute("SELECT name FROM themes WHERE kind = ? ORDER BY id",
                                          [kind]) if r[0].casefold() == folded), name)


def theme_id(db, kind: str, name: str) -> int:
    """The theme's id (the same theme whatever the case it is written in), created when new."""
    kind = _choice(kind, KINDS, "kind", field="kind")
    name = _spelling(db, kind, theme_name(name, field="theme"))
    db.execute("INSERT INTO themes (kind, name) VALUES (?, ?) ON CONFLICT DO NOTHING",
               [kind, name])
    return db.execute("SELECT id FROM themes WHERE kind = ? AND name = ?",
                      [kind, name]).fetchone()[0]


def theme_names(db) -> list[str]:
    return [r[0] for r in db.execute("SELECT DISTINCT name FROM themes ORDER BY name")]


def _plain(text: str) -> str:
    return " ".join(text.split()).casefold()


def code_passage(db, interview_id: int, *, text: str, kind: str, theme: str,
                 milestone: str | None = None, lens: str | None = None,
                 actor: str = "local") -> int:
    """Code a passage of an interview's notes (quoted from them: spacing and case aside)."""
    text = " ".join((text or "").split())
    if not text:
        raise InputError("is empty; paste the customer's words from the notes", field="passage")
    interview = get_interview(db, interview_id)
    if _plain(text) not in _plain(interview["notes"]):
        raise InputError("is not in this interview's notes; code the customer's own words, "
                         "copied from the notes", field="passage")
    if lens:
        lens = _choice(lens, LENSES, "lens", field="lens")
    if milestone and not db.execute("SELECT 1 FROM milestones WHERE key = ?",
                                    [milestone]).fetchone():
        raise InputError(f"{milestone!r} is not one of the workspace's milestones",
                         field="milestone")
    kind = _choice(kind, KINDS, "kind", field="kind")
    theme = _spelling(db, kind, theme_name(theme, field="theme"))
    held = _held(coded(db))
    _hold(held, sum(map(_candidates, held.values())), str(interview_id), kind, theme,
          f"the interview with {interview['participant'][:40]!r}", field="theme")
    with transaction(db):
        row_id = db["excerpts"].insert({
            "interview_id": interview_id, "theme_id": theme_id(db, kind, theme), "text": text,
            "milestone_key": milestone or None, "lens": lens or None, "author": actor,
            "created_at": now()}).last_pk
        audit(db, actor, "code", "interview", interview_id, {"excerpt": row_id, "kind": kind,
                                                             "theme": theme})
    return row_id


def remove_passage(db, excerpt_id: int, *, actor: str = "local") -> None:
    with transaction(db):
        db.execute("DELETE FROM excerpts WHERE id = ?", [excerpt_id])
        audit(db, actor, "uncode", "excerpt", excerpt_id)


def coded(db, interview_id: int | None = None) -> list[Coded]:
    """The workspace's coded passages (of one interview when given), oldest first."""
    rows = db.query(
        "SELECT x.*, t.kind, t.name AS theme, i.participant, i.segment, i.date FROM excerpts x "
        "JOIN themes t ON t.id = x.theme_id JOIN interviews i ON i.id = x.interview_id "
        "WHERE ? IS NULL OR x.interview_id = ? ORDER BY x.id", [interview_id, interview_id])
    return [Coded(str(r["interview_id"]), r["kind"], r["theme"], r["text"], r["milestone_key"],
                  r["lens"], r["participant"], r["segment"], r["date"]) for r in rows]


def passages(db, interview_id: int) -> list[dict]:
    return list(db.query(
        "SELECT x.id, x.text, x.milestone_key, x.lens, t.kind, t.name AS theme FROM excerpts x "
        "JOIN themes t ON t.id = x.theme_id WHERE x.interview_id = ? ORDER BY x.id",
        [interview_id]))


def _theme_ids(db, job: Job) -> list[int]:
    return [theme_id(db, kind, name) for kind, name in zip(
        KINDS, (job.struggle, job.motivation, job.outcome), strict=True)]


def stored_job(db, job: Job) -> dict | None:
    """The team's wording and adoption of a candidate job, when it kept one."""
    return next(db.query(
        "SELECT j.* FROM jobs j JOIN themes s ON s.id = j.struggle_id JOIN themes m "
        "ON m.id = j.motivation_id JOIN themes o ON o.id = j.outcome_id WHERE s.name = ? "
        "AND m.name = ? AND o.name = ? AND s.kind = 'struggle' AND m.kind = 'motivation' "
        "AND o.kind = 'outcome'", [job.struggle, job.motivation, job.outcome]), None)


def keep_job(db, job: Job, *, wording: str | None = None, adopted: bool = False,
             actor: str = "local") -> int:
    """Store a candidate job (to adopt it, reword it or cite it); its id if already kept."""
    if existing := stored_job(db, job):
        return existing["id"]
    text = _wording(wording or job.statement)
    stamp = now()
    with transaction(db):
        s, m, o = _theme_ids(db, job)
        row_id = db["jobs"].insert({
            "struggle_id": s, "motivation_id": m, "outcome_id": o, "statement": text,
            "adopted": int(adopted), "created_at": stamp, "updated_at": stamp}).last_pk
        audit(db, actor, "create", "job", row_id, {"statement": text, "adopted": adopted})
    return row_id


def _wording(text: str) -> str:
    text = " ".join((text or "").split())
    if not text:
        raise InputError("is empty; say the job as 'When I ..., help me ..., so I can ...'",
                         field="statement")
    return text


def update_job(db, job_id: int, version: int, changes: dict, *, actor: str = "local") -> dict:
    """Reword or adopt a kept job (versioned: a colleague's newer change is never lost)."""
    if "statement" in changes:
        changes = {**changes, "statement": _wording(changes["statement"])}
    if "adopted" in changes:
        changes = {**changes, "adopted": int(bool(changes["adopted"]))}
    return update_versioned(db, "jobs", job_id, version, changes, actor=actor, entity="job")


def kept_jobs(db) -> list[dict]:
    """The jobs the team kept, adopted first, with their themes."""
    return list(db.query(
        "SELECT j.*, s.name AS struggle, m.name AS motivation, o.name AS outcome FROM jobs j "
        "JOIN themes s ON s.id = j.struggle_id JOIN themes m ON m.id = j.motivation_id "
        "JOIN themes o ON o.id = j.outcome_id ORDER BY j.adopted DESC, j.id"))


def cite(db, *, job_id: int | None = None, theme_id: int | None = None,
         experiment_id: int | None = None, learning_id: int | None = None,
         actor: str = "local") -> None:
    """Record that an experiment (aimed at it) or a learning cites a job or a theme."""
    if (job_id is None) == (theme_id is None):
        raise InputError("cite either a job or a theme", field="cites")
    if (experiment_id is None) == (learning_id is None):
        raise InputError("an experiment or a learning cites research, one at a time",
                         field="cited by")
    with transaction(db):
        db.execute("INSERT INTO research_citations (experiment_id, learning_id, job_id, "
                   "theme_id) VALUES (?, ?, ?, ?) ON CONFLICT DO NOTHING",
                   [experiment_id, learning_id, job_id, theme_id])
        audit(db, actor, "cite", "job" if job_id else "theme", job_id or theme_id,
              {"experiment_id": experiment_id, "learning_id": learning_id})


def aim(db, job: Job, experiment_id: int, *, actor: str = "local") -> int:
    """Aim an experiment at a job (kept, so it can be cited); the job's id."""
    job_id = keep_job(db, job, actor=actor)
    cite(db, job_id=job_id, experiment_id=experiment_id, actor=actor)
    return job_id


def citing(db, *, job_id: int | None = None, theme_id: int | None = None) -> dict:
    """The experiments (with their status and result) and learnings citing a job or theme."""
    where = "c.job_id = ?" if job_id is not None else "c.theme_id = ?"
    target = job_id if job_id is not None else theme_id
    return {
        "experiments": list(db.query(
            "SELECT e.id, e.key, e.title, e.status, e.result, e.decision FROM research_citations"
            f" c JOIN experiments e ON e.id = c.experiment_id WHERE {where} ORDER BY e.id",
            [target])),
        "learnings": list(db.query(
            "SELECT l.id, l.title, l.status FROM research_citations c JOIN learnings l "
            f"ON l.id = c.learning_id WHERE {where} ORDER BY l.id", [target]))}


def cited_by(db, *, experiment_id: int | None = None,
             learning_id: int | None = None) -> list[dict]:
    """What research an experiment or a learning cites: jobs' statements and themes."""
    return list(db.query(
        "SELECT coalesce(j.statement, t.name) AS text, CASE WHEN j.id IS NULL THEN t.kind "
        "ELSE 'job' END AS kind FROM research_citations c LEFT JOIN jobs j ON j.id = c.job_id "
        "LEFT JOIN themes t ON t.id = c.theme_id WHERE c.experiment_id IS ? AND "
        "c.learning_id IS ? ORDER BY c.id", [experiment_id, learning_id]))


def theme_ids(db) -> dict[tuple[str, str], int]:
    return {(r["kind"], r["name"]): r["id"] for r in db.query("SELECT * FROM themes")}


def search_meta(db, kind: str, ids: list[int]) -> dict[int, tuple[str, list[str], dict]]:
    """Title, tags and facets of research search hits of one kind, by id."""
    if not ids:
        return {}
    sql = {
        "interview": "SELECT id, participant || ' (' || date || ')' AS title, segment AS tag "
                     "FROM interviews WHERE id IN ({})",
        "excerpt": "SELECT x.id, t.name || ' · ' || i.participant AS title, t.kind AS tag "
                   "FROM excerpts x JOIN themes t ON t.id = x.theme_id JOIN interviews i "
                   "ON i.id = x.interview_id WHERE x.id IN ({})",
        "job": "SELECT id, statement AS title, CASE adopted WHEN 1 THEN 'adopted' ELSE "
               "'candidate' END AS tag FROM jobs WHERE id IN ({})"}[kind]
    return {m["id"]: (m["title"], [m["tag"]] if m["tag"] else [], {})
            for m in db.query(sql.format(",".join("?" * len(ids))), ids)}
