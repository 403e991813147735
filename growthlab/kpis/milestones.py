"""Milestones: the ordered funnel of customer leaps, each with one KPI rule."""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from pathlib import Path

import tomllib

from growthlab.errors import InputError, RuleError
from growthlab.kpis.rules import Node, dependencies, measures, parse_rule

SUCCESS_MOMENTS = ("setup", "aha", "eureka", "habit")
PHASES = ("Struggle", "Evaluation", "Growth")
KEY_PATTERN = re.compile(r"[a-z][a-z0-9_]*")
MAX_WINDOW_DAYS = 3650
MAX_MILESTONES = 200
MAX_MEASURES = 200


@dataclass(frozen=True)
class Milestone:
    key: str
    name: str
    phase: str
    rule: str
    window_days: int | None = None
    success_moment: str | None = None

    def as_dict(self) -> dict:
        return {k: v for k, v in asdict(self).items() if v is not None}


def validate(milestones: list[Milestone], source: str | None = None,
             lines: list[int] | None = None) -> dict[str, Node]:
    """Check keys, windows and rules; return each milestone's parsed rule.

    With a `source` (a file name), rule errors are prefixed with it; with the `lines` each
    entry starts on in that file (`entry_lines`), other errors name the line.
    """
    try:
        return _validate(milestones, source or "milestones", lines)
    except RuleError as exc:
        if source and not str(exc).startswith(f"{source}:"):
            raise RuleError(f"{source}: {exc}") from None
        raise


def _on_line(exc: RuleError, where: dict) -> RuleError:
    """A milestone's rule error with the line its entry starts on, when known."""
    return RuleError(f"{_place(where)}: {exc}") if "line" in where else exc


# tomllib reports no positions: an entry is found by its [[milestones]] header line.
_ENTRY_HEADER = re.compile(r"""^[ \t]*\[\[[ \t]*(milestones|"milestones"|'milestones')[ \t]*\]\]""",
                           re.MULTILINE)


def entry_lines(text: str) -> list[int]:
    """The line each [[milestones]] header of a milestones file is on, in order."""
    return [text.count("\n", 0, found.start()) + 1 for found in _ENTRY_HEADER.finditer(text)]


def _places(source: str, count: int, lines: list[int] | None) -> list[dict]:
    """Where each of `count` milestones is, for an InputError: its line when `lines` has one
    for each (an array of inline tables has no headers), else its number."""
    if lines is not None and len(lines) == count:
        return [{"source": source, "line": line} for line in lines]
    return [{"source": f"{source}: milestone {i}"} for i in range(1, count + 1)]


def _place(where: dict) -> str:
    return f"{where['source']}:{where['line']}" if "line" in where else \
        where["source"].rpartition(": ")[2]


def check_names(milestones: list[Milestone], source: str | None = None,
                lines: list[int] | None = None) -> None:
    """Refuse two milestones of one name (case and spaces aside): the funnel would show two
    rows that read the same."""
    places = _places(source or "milestones", len(milestones), lines)
    seen: dict[str, int] = {}
    for i, m in enumerate(milestones):
        first = seen.setdefault(" ".join((m.name or "").split()).casefold(), i)
        if first != i:
            raise InputError(f"{m.name!r} is also the name of milestone "
                             f"{milestones[first].key!r} ({_place(places[first])}); give "
                             "each milestone its own name", **places[i], field="name")


def _validate(milestones: list[Milestone], source: str, lines: list[int] | None
              ) -> dict[str, Node]:
    if len(milestones) > MAX_MILESTONES:
        raise InputError(f"{len(milestones)} milestones; a funnel holds at most "
                         f"{MAX_MILESTONES}", source=source)
    trees: dict[str, Node] = {}
    at: dict[str, dict] = {}
    for m, where in zip(milestones, _places(source, len(milestones), lines), strict=True):
        if not KEY_PATTERN.fullmatch(m.key or ""):
            raise InputError(f"key {m.key!r} must be lowercase letters, digits and _ "
                             "(e.g. first_value)", **where, field="key")
        if m.key in trees:
            raise InputError(f"key {m.key!r} is used twice; keys must be unique",
                             **where, field="key")
        if not (m.name or "").strip():
            raise InputError("name is empty", **where, field="name")
        from growthlab.io import plain_name

        plain_name(m.name, "name", **where)
        if m.window_days is not None and (not isinstance(m.window_days, int)
                                          or isinstance(m.window_days, bool)
                                          or m.window_days <= 0):
            raise InputError(f"window_days must be a whole number of days above 0, not "
                             f"{m.window_days!r}", **where, field="window_days")
        if m.window_days is not None and m.window_days > MAX_WINDOW_DAYS:
            raise InputError(f"{m.window_days:,} days for milestone {m.key!r}; use at most "
                             f"{MAX_WINDOW_DAYS:,} (10 years)", **where,
                             field="window_days")
        if m.success_moment is not None and m.success_moment not in SUCCESS_MOMENTS:
            raise InputError(f"success_moment must be one of {', '.join(SUCCESS_MOMENTS)}",
                             **where, field="success_moment")
        try:
            trees[m.key] = parse_rule(m.rule or "", m.key)
        except RuleError as exc:
            raise _on_line(exc, where) from None
        at[m.key] = where
    for key, tree in trees.items():
        for dep in dependencies(tree):
            if dep not in trees:
                raise _on_line(RuleError(f'rule for "{key}": reached({dep}) names no '
                                         f"milestone; known keys: {', '.join(trees)}"), at[key])
    _check_cycles(trees)
    _check_measures(milestones, trees)
    return trees


def _check_measures(milestones: list[Milestone], trees: dict[str, Node]) -> None:
    """Each distinct count (events, window) is a column per user, so their number is capped."""
    seen: set[tuple] = set()
    for m in milestones:
        seen |= {(*measure, m.window_days) for measure in measures(trees[m.key])}
        if len(seen) > MAX_MEASURES:
            raise RuleError(f'rule for "{m.key}": the milestones count more than {MAX_MEASURES} '
                            f"different events (per window); use at most {MAX_MEASURES}. A list "
                            "such as count(a) >= 1 or count(b) >= 1 counts once")


def _check_cycles(trees: dict[str, Node]) -> None:
    state: dict[str, int] = {}

    def visit(key: str, path: list[str]) -> None:
        if state.get(key) == 2:
            return
        if state.get(key) == 1:
            cycle = " -> ".join(path[path.index(key):] + [key])
            raise RuleError(f'rule for "{path[-1]}": reached() goes round in a cycle ({cycle})')
        state[key] = 1
        for dep in dependencies(trees[key]):
            visit(dep, path + [key])
        state[key] = 2

    for key in trees:
        visit(key, [])


def horizons(milestones: list[Milestone]) -> dict[str, int]:
    """Days after its start before a milestone's outcome is known for a user.

    The longest window on the milestone and on every milestone its rule reaches, transitively
    (0 when none has a window: all of the user's events count, so every user is decided).
    """
    trees = validate(milestones)
    by_key = {m.key: m for m in milestones}
    known: dict[str, int] = {}

    def horizon(key: str) -> int:
        if key not in known:
            own = by_key[key].window_days or 0
            known[key] = max([own, *(horizon(dep) for dep in dependencies(trees[key]))])
        return known[key]

    return {m.key: horizon(m.key) for m in milestones}


def last_to_close(spans: dict[str, int]) -> str:
    """The milestone (of `horizons`) whose window closes last: the latest listed among
    equals. Users inside it are the ones the data cannot decide yet."""
    longest = max(spans.values())
    return [key for key, span in spans.items() if span == longest][-1]


def parse_milestones_toml(text: str, source: str = "milestones.toml") -> list[Milestone]:
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise InputError(f"not valid TOML: {exc}", source=source) from None
    except RecursionError:
        raise InputError("arrays or tables are nested too deeply to read; a milestones "
                         "file needs only [[milestones]] tables of plain values",
                         source=source) from None
    entries = data.get("milestones")
    if not isinstance(entries, list) or not entries:
        raise InputError("no [[milestones]] entries found; each needs key, name, phase and rule",
                         source=source)
    milestones = []
    allowed = {"key", "name", "phase", "rule", "window_days", "success_moment"}
    lines = entry_lines(text)
    for entry, where in zip(entries, _places(source, len(entries), lines), strict=True):
        if not isinstance(entry, dict):
            raise InputError("must be a table with key, name, phase and rule", **where)
        unknown = set(entry) - allowed
        if unknown:
            raise InputError(f"unknown field(s) {', '.join(sorted(unknown))}", **where)
        for field in ("key", "name", "rule"):
            if not isinstance(entry.get(field), str):
                raise InputError("is missing or not text", **where, field=field)
        if not isinstance(entry.get("phase", ""), str):
            raise InputError("is not text", **where, field="phase")
        milestones.append(Milestone(entry["key"], entry["name"], entry.get("phase", ""),
                                    entry["rule"], entry.get("window_days"),
                                    entry.get("success_moment")))
    validate(milestones, source, lines)
    check_names(milestones, source, lines)
    return milestones


def load_milestones_file(path: str | Path) -> list[Milestone]:
    from growthlab.io import read_file

    return read_milestones_toml(read_file(path), str(path))


def read_milestones_toml(data: bytes, source: str = "milestones.toml") -> list[Milestone]:
    """An uploaded or saved milestones file, with or without a UTF-8 byte-order mark."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        raise InputError("not UTF-8 text; save the file as UTF-8", source=source) from None
    return parse_milestones_toml(text, source)


def _toml_string(value: str) -> str:
    escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
    return f'"{escaped}"'


def milestones_toml(milestones: list[Milestone]) -> str:
    parts = []
    for m in milestones:
        lines = ["[[milestones]]"]
        for field, value in m.as_dict().items():
            lines.append(f"{field} = {value if isinstance(value, int) else _toml_string(value)}")
        parts.append("\n".join(lines))
    return "\n\n".join(parts) + "\n"


def load_from_workspace(db) -> list[Milestone]:
    return [Milestone(r["key"], r["name"], r["phase"], r["rule"], r["window_days"],
                      r["success_moment"])
            for r in db.query("SELECT * FROM milestones ORDER BY position")]


def milestones_version(db) -> int:
    """The version of the workspace's milestone set (they are saved as one document)."""
    from growthlab.db import get_setting

    return int(get_setting(db, "milestones_version", "0"))


def dropped_in_use(db, milestones: list[Milestone]) -> list[str]:
    """What loses its milestone if `milestones` replace the workspace's: a line per key
    dropped that a key result, an experiment, a coded interview passage or the PQL rule
    names."""
    from growthlab.db import get_setting
    from growthlab.errors import RuleError
    from growthlab.kpis.rules import dependencies, parse_rule

    kept = {m.key for m in milestones}
    try:
        pql_needs = set(dependencies(parse_rule(get_setting(db, "pql_rule") or "", "pql")))
    except RuleError:  # no rule, or one that no longer parses: it needs nothing named here
        pql_needs = set()
    lines = []
    for (key,) in db.execute("SELECT key FROM milestones ORDER BY position").fetchall():
        if key in kept:
            continue
        uses = [f"key result {r[0]!r}" for r in db.execute(
            "SELECT statement FROM key_results WHERE metric = ? ORDER BY id", [key])]
        uses += [r[0] for r in db.execute(
            "SELECT key FROM experiments WHERE milestone_key = ? OR primary_metric = ? OR "
            "EXISTS (SELECT 1 FROM json_each(guardrail_metrics) WHERE value = ?) ORDER BY id",
            [key, key, key])]
        passages = db.execute("SELECT count(*) FROM excerpts WHERE milestone_key = ?",
                              [key]).fetchone()[0]
        uses += [f"{passages} coded passage(s)"] if passages else []
        uses += ["the PQL rule"] if key in pql_needs else []
        if uses:
            lines.append(f"{key}: {', '.join(uses)}")
    return lines


def save_to_workspace(db, milestones: list[Milestone], actor: str = "local",
                      version: int | None = None) -> int:
    """Replace the workspace's milestones (validated first; one transaction).

    With `version` (what the editor opened), a set changed since then is refused. Returns
    the new version.
    """
    from growthlab.db import audit, set_setting, transaction
    from growthlab.errors import StaleEditError

    validate(milestones)
    check_names(milestones)
    with transaction(db):
        current = milestones_version(db)
        if version is not None and version != current:
            keys = [r["key"] for r in db.query("SELECT key FROM milestones ORDER BY position")]
            raise StaleEditError("milestone set", {"version": current, "keys": keys})
        db.execute("DELETE FROM milestones")
        for position, m in enumerate(milestones):
            db["milestones"].insert({**asdict(m), "position": position})
        set_setting(db, "milestones_version", str(current + 1))
        audit(db, actor, "replace", "milestones", None, {"keys": [m.key for m in milestones]})
    return current + 1
