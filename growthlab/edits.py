"""What an edit form sends: only the fields the person changed, against the row they opened.

A form shows the row as the person opened it. Sending every field back would also send the
old values of fields someone else changed meanwhile, and undo their change once the save is
retried against the newer version. Sending only the fields that differ from the opened row
means a retry carries the person's own change and nothing else.
"""

from __future__ import annotations

from datetime import date


def _comparable(value):
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, int | float):
        return float(value)
    if isinstance(value, str):
        return value.strip()
    if isinstance(value, list | tuple):
        return [_comparable(v) for v in value]
    return value


def same(before, after) -> bool:
    """Equal as a form shows them: dates as ISO text, 3 as 3.0, text without edge spaces."""
    return _comparable(before) == _comparable(after)


def changed_fields(opened: dict, submitted: dict) -> dict:
    """The submitted fields whose value differs from the row as it was opened."""
    return {name: value for name, value in submitted.items()
            if not same(opened.get(name), value)}


def with_stored(options: list, stored) -> list:
    """The choices a form offers, plus the stored value when it is no longer among them (a
    renamed milestone), so a field the person did not touch saves unchanged."""
    return list(options) if stored is None or stored in options else [*options, stored]


def number_text(value: float | None) -> str:
    """A number as a text field shows it: every digit, so saving it back changes nothing."""
    return "" if value is None else repr(float(value))
