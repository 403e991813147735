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
