"""The closest known word to a mistyped one (search terms, event names), whether a word is
English, and a word's derivational relatives.

rapidfuzz gives the optimal-string-alignment distance in C: a swapped pair of letters
("onbaording") is one edit, as a person counts it, where difflib's ratio is no distance at all.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from functools import cache


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


def near(word: str, known: Mapping[str, int], limit: int = 8) -> list[str]:
    """The known words within `max_edits(word)` (case aside), fewest edits then most frequent
    first, at most `limit`."""
    from rapidfuzz import process
    from rapidfuzz.distance import OSA

    found = process.extract(word, list(known), scorer=OSA.distance, processor=str.lower,
                            score_cutoff=max_edits(word), limit=None)
    return [m[0] for m in sorted(found, key=lambda m: (m[1], -known[m[0]], m[0]))[:limit]]


def edits(a: str, b: str) -> int:
    """Edits between two words (case aside), a swapped pair of letters counting one."""
    from rapidfuzz.distance import OSA

    return OSA.distance(a.lower(), b.lower())


def is_english(word: str) -> bool:
    """Whether `word` is an ordinary English word (in pyspellchecker's English word list,
    which holds no common misspellings)."""
    return word.lower() in _english()


@cache
def _english():
    from spellchecker import SpellChecker

    return SpellChecker(language="en", distance=1)


# Verb and noun endings of Latinate word families whose Porter stems differ (retain, retent),
# so the index cannot match one by the other; families Porter conflates (activate, activation;
# onboard, onboarding) need none.
DERIVATIONS = (
    ("tain", "tention"), ("tain", "tenance"), ("vert", "version"), ("mit", "mission"),
    ("cide", "cision"), ("ceive", "ception"), ("scribe", "scription"), ("sume", "sumption"),
    ("duce", "duction"), ("clude", "clusion"), ("end", "ension"), ("and", "ansion"),
    ("ain", "anation"), ("ify", "ification"), ("olve", "olution"), ("ade", "asion"),
    ("pel", "pulsion"), ("ode", "osion"))
_INFLECTIONS = (("ied", "y"), ("ies", "y"), ("ing", ""), ("ing", "e"), ("ed", ""), ("ed", "e"),
                ("es", ""), ("s", ""), ("d", ""))


def relatives(word: str) -> tuple[str, ...]:
    """English words of `word`'s derivational family that its stem does not match: the noun
    of a verb and the verb of a noun, by `DERIVATIONS` ("retained" -> "retention")."""
    word = word.lower()
    bases = {word} | {word[:-len(end)] + add for end, add in _INFLECTIONS
                      if word.endswith(end) and len(word) - len(end) >= 3}
    found = set()
    for base in bases:
        for verb, noun in DERIVATIONS:
            for have, other in ((verb, noun), (noun, verb)):
                if base.endswith(have) and len(base) > len(have):
                    found.add(base[:-len(have)] + other)
    return tuple(sorted(w for w in found - {word} if is_english(w)))
