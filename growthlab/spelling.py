"""The closest known word to a mistyped one (search terms, event names).

rapidfuzz gives the optimal-string-alignment distance in C: a swapped pair of letters
("onbaording") is one edit, as a person counts it, where difflib's ratio is no distance at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping


def max_edits(word: str) -> int:
    """Edits a typo may hold: one in a short word, two in a longer one."""
    return 1 if len(word) <= 4 else 2


def closest(word: str, known: Iterable[str] | Mapping[str, int]) -> str | None:
    """The known word fewest edits away (case aside), the most frequent on a tie when `known`
    maps words to counts; None when none is within `max_edits(word)`."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    counts = known if isinstance(known, Mapping) else dict.fromkeys(known, 0)
    found = process.extract(word, list(counts), scorer=OSA.distance, processor=str.lower,
                            score_cutoff=max_edits(word), limit=None)
    if not found:
        return None
    return min(found, key=lambda m: (m[1], -counts[m[0]], m[0]))[0]
