"""Today, as an input: GROWTHLAB_TODAY (an ISO date) pins it for tests and recorded demos."""

from __future__ import annotations

import os
from datetime import UTC, date, datetime

from growthlab.errors import InputError


def today() -> date:
    pinned = os.environ.get("GROWTHLAB_TODAY", "").strip()
    if not pinned:
        return date.today()
    try:
        return date.fromisoformat(pinned)
    except ValueError:
        raise InputError(f"GROWTHLAB_TODAY={pinned!r} is not a date; use YYYY-MM-DD or unset "
                         "it") from None


def now() -> datetime:
    """This instant in UTC; on a pinned day (GROWTHLAB_TODAY), that day at this time, so what
    is stamped agrees with what is counted as today."""
    instant = datetime.now(UTC)
    if not os.environ.get("GROWTHLAB_TODAY", "").strip():
        return instant
    return datetime.combine(today(), instant.time(), tzinfo=UTC)
