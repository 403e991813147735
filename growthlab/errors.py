"""Errors a user can cause. Each carries a message a person can act on."""

from __future__ import annotations


class GrowthLabError(Exception):
    """Base class: anything the user can fix (bad file, bad value, stale edit)."""


class InputError(GrowthLabError):
    """Bad input in a file, form field or argument; says where and what."""

    def __init__(self, message: str, *, source: str | None = None, line: int | None = None,
                 column: str | int | None = None, field: str | None = None):
        self.source, self.line, self.column, self.field = source, line, column, field
        where = []
        if source:
            where.append(str(source))
        if line is not None:
            where.append(str(line))
        prefix = ":".join(where)
        if column is not None:
            prefix = f"{prefix}: column {column}" if prefix else f"column {column}"
        if field is not None:
            prefix = f"{prefix}: {field}" if prefix else field
        super().__init__(f"{prefix}: {message}" if prefix else message)
        self.detail = message


class StatsError(GrowthLabError):
    """Statistics asked of data that cannot support them (0 users, conversions > users...)."""


class CapacityError(GrowthLabError):
    """Data larger than the resources GrowthLab may use; says which setting to raise."""


class RuleError(GrowthLabError):
    """A milestone rule that does not parse or refers to something unknown."""


class StaleEditError(GrowthLabError):
    """A save against a row that changed since it was read."""

    def __init__(self, entity: str, current: dict):
        self.current = current
        super().__init__(
            f"This {entity} was changed by someone else since you opened it "
            f"(now version {current.get('version')}). Review their change and save again."
        )


class TransitionError(GrowthLabError):
    """An experiment lifecycle move that is not allowed."""
