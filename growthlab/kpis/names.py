"""Event names a person typed (in a rule, a retention setting) checked against the data."""

from __future__ import annotations

from collections.abc import Iterable

from growthlab.errors import InputError
from growthlab.kpis.rules import events_in, parse_rule
from growthlab.spelling import closest


def unknown_events(known: Iterable[str], *, names: Iterable[str | None] = (),
                   rules: Iterable[str] = ()) -> list[str]:
    """A warning for each event name (given, or counted by a rule) that never occurs in the
    data, naming the closest one that does. Rules must already be valid."""
    known = list(known)
    wanted = [n for n in names if n]
    for rule in rules:
        wanted += sorted(events_in(parse_rule(rule)))
    return [_no_such_event(name, known) for name in dict.fromkeys(wanted) if name not in known]


def require_event(name: str, known: Iterable[str], what: str) -> None:
    """Refuse an event name the data does not hold where nothing could be computed without it."""
    known = list(known)
    if name not in known:
        raise InputError(_no_such_event(name, known), field=what)


def _no_such_event(name: str, known: list[str]) -> str:
    close = closest(name, known)
    return f"{_quoted(name)}: no such event" + (
        f"; did you mean {_quoted(close)}?" if close else " in the data")


def _quoted(name: str) -> str:
    """The name in quotes as it is written (repr, which shows control characters, but with a
    backslash single, as in the data)."""
    return repr(name).replace("\\\\", "\\")
