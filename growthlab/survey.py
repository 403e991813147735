"""Product-market-fit surveys: Sean Ellis' "very disappointed" share with its Wilson interval,
by segment, what the people who love the product name as its main benefit, NPS and CES, and
the history of the surveys a workspace imported."""

from __future__ import annotations

import math
import re
from collections import Counter, defaultdict
from dataclasses import dataclass
from datetime import date
from pathlib import Path

from growthlab.db import audit, now, transaction
from growthlab.errors import InputError
from growthlab.io import csv_records, read_file, read_text

PMF_ANSWERS = ("very disappointed", "somewhat disappointed", "not disappointed",
               "no longer use")
NO_LONGER_USE = "no longer use"
PMF_LINE = 0.40
Z95 = 1.959963984540054  # the normal quantile at 97.5%: a two-sided 95% interval
CES_RANGE = (1, 7)
MAX_BENEFITS = 5
# The question's own wording, as form tools export it: "Not disappointed (it isn't really that
# useful)", "N/A - I no longer use <product>".
_NO_LONGER_USE = re.compile(r"n/a ?[-\u2013\u2014:] ?i no longer use\b.*", re.DOTALL)
# A score as form tools export it: "9", "9.0" or "9,0" (a spreadsheet) or "10 - Extremely
# likely".
_SCORE = re.compile(r"(\d+)(?:[.,]0*)?(?:\s*[-\u2013\u2014:]\s*[^\d\s].*)?", re.DOTALL)


@dataclass(frozen=True)
class Response:
    respondent_id: str
    pmf: str
    segment: str = ""
    ces: int | None = None
    nps: int | None = None
    benefit: str = ""


def wilson(successes: int, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson's score interval for a proportion (stays inside 0..1, sound for small n)."""
    p = successes / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return max(0.0, centre - half), min(1.0, centre + half)


def pmf(responses: list[Response]) -> dict:
    """The share answering "very disappointed" among those who still use the product."""
    answered = [r for r in responses if r.pmf != NO_LONGER_USE]
    very = sum(r.pmf == "very disappointed" for r in answered)
    if not answered:
        return {"answered": 0, "very_disappointed": 0, "share": None, "ci_low": None,
                "ci_high": None, "meets_40": False}
    low, high = wilson(very, len(answered))
    share = very / len(answered)
    return {"answered": len(answered), "very_disappointed": very, "share": share,
            "ci_low": low, "ci_high": high, "meets_40": share >= PMF_LINE}


def verdict(row: dict) -> str:
    """`pmf`'s result against the 40% line, saying when the 95% interval spans the line: a
    share from a handful of answers has not shown (or ruled out) product-market fit."""
    if row["share"] is None:
        return "no one answered who still uses the product"
    side = "meets the 40% line" if row["meets_40"] else "below the 40% line"
    if row["ci_low"] >= PMF_LINE or row["ci_high"] < PMF_LINE:
        return side
    answers = f"{row['answered']:,} answer" + ("s" if row["answered"] > 1 else "")
    return f"{side}, but its 95% interval spans the line: {answers} cannot tell which side " \
        "it is on"


def by_segment(responses: list[Response]) -> list[dict]:
    """`pmf` for each named segment, in name order (respondents without one are left out).
    Segments are grouped ignoring case and spacing; each shows its most common spelling."""
    groups: dict[str, list[Response]] = defaultdict(list)
    spellings: dict[str, Counter] = defaultdict(Counter)
    for r in responses:
        if name := " ".join(r.segment.split()):
            groups[name.casefold()].append(r)
            spellings[name.casefold()][name] += 1
    named = {spellings[k].most_common(1)[0][0]: rows for k, rows in groups.items()}
    return [{"segment": s, **pmf(named[s])} for s in sorted(named, key=lambda s: (s.casefold(), s))]


def nps(responses: list[Response]) -> dict:
    """% promoters (9-10) minus % detractors (0-6), in points from -100 to 100."""
    scores = [r.nps for r in responses if r.nps is not None]
    if not scores:
        return {"answered": 0, "score": None}
    promoters = sum(s >= 9 for s in scores)
    detractors = sum(s <= 6 for s in scores)
    return {"answered": len(scores), "score": 100 * (promoters - detractors) / len(scores)}


def ces(responses: list[Response]) -> dict:
    scores = [r.ces for r in responses if r.ces is not None]
    return {"answered": len(scores), "mean": sum(scores) / len(scores) if scores else None}


def main_benefits(responses: list[Response], limit: int = MAX_BENEFITS) -> list[dict]:
    """What the "very disappointed" group names as the main benefit, most named first.
    Answers are grouped ignoring case and spacing; each shows its most common spelling."""
    named = [" ".join(r.benefit.split()) for r in responses
             if r.pmf == "very disappointed" and r.benefit.strip()]
    groups: dict[str, Counter] = {}
    for text in named:
        groups.setdefault(text.casefold(), Counter())[text] += 1
    ranked = sorted(groups.values(), key=lambda c: (-c.total(), c.most_common(1)[0][0]))
    return [{"benefit": c.most_common(1)[0][0], "respondents": c.total(),
             "share": c.total() / len(named)} for c in ranked[:limit]]


def summarise(responses: list[Response]) -> dict:
    """The `growthlab survey --json` payload."""
    return {"responses": len(responses), "pmf": pmf(responses),
            "by_segment": by_segment(responses), "ces": ces(responses), "nps": nps(responses),
            "main_benefit": main_benefits(responses)}


def _answer(raw: str, source: str, line: int) -> str:
    answer = " ".join(raw.split()).lower()
    if _NO_LONGER_USE.fullmatch(answer):
        answer = NO_LONGER_USE
    answer = answer.split(" (")[0]
    if answer not in PMF_ANSWERS:
        shown = raw[:40] if raw else "nothing"
        raise InputError(f"{shown!r} is not an answer to the PMF question; use one of "
                         f"{', '.join(PMF_ANSWERS)}", source=source, line=line, column="pmf")
    return answer


def _score(raw: str, low: int, high: int, column: str, source: str, line: int) -> int | None:
    if raw == "":
        return None
    found = _SCORE.fullmatch(raw)
    value = int(found[1]) if found else None
    if value is None or not low <= value <= high:
        raise InputError(f"{raw[:40]!r} is not a whole number from {low} to {high}",
                         source=source, line=line, column=column)
    return value


def parse_responses_csv(data: bytes, source: str = "responses.csv") -> list[Response]:
    """Survey answers: `respondent_id, pmf` and optional `segment, ces, nps, benefit`."""
    _, records = csv_records(read_text(data, source), source, ("respondent_id", "pmf"))
    seen: dict[str, int] = {}
    responses = []
    for line, rec in records:
        respondent = rec["respondent_id"]
        if not respondent:
            raise InputError("is empty; give each respondent an id", source=source, line=line,
                             column="respondent_id")
        if respondent in seen:
            raise InputError(f"respondent {respondent[:40]!r} already answered on line "
                             f"{seen[respondent]}; keep one row per respondent", source=source,
                             line=line, column="respondent_id")
        seen[respondent] = line
        responses.append(Response(
            respondent, _answer(rec["pmf"], source, line), rec.get("segment", ""),
            _score(rec.get("ces", ""), *CES_RANGE, "ces", source, line),
            _score(rec.get("nps", ""), 0, 10, "nps", source, line), rec.get("benefit", "")))
    return responses


def read_responses_csv(path: str | Path) -> list[Response]:
    return parse_responses_csv(read_file(path), str(path))


def survey_date(value) -> str:
    """The day a survey closed, as ISO text."""
    try:
        day = value if isinstance(value, date) else date.fromisoformat(str(value).strip())
    except ValueError:
        raise InputError(f"{str(value)[:40]!r} is not a date; use YYYY-MM-DD",
                         field="taken_on") from None
    if not 1900 <= day.year <= 2199:
        raise InputError(f"{day} is outside 1900-2199", field="taken_on")
    return day.isoformat()


def import_survey(db, *, name: str, taken_on, responses: list[Response],
                  actor: str = "local") -> int:
    """Store a survey and its responses in one transaction."""
    name = " ".join((name or "").split())
    if not name:
        raise InputError("is empty; name the survey (e.g. 'PMF survey, March')", field="name")
    if not responses:
        raise InputError("has no responses", field="responses")
    stamp = survey_date(taken_on)
    with transaction(db):
        survey_id = db["surveys"].insert({"name": name, "taken_on": stamp, "author": actor,
                                          "created_at": now()}).last_pk
        db["survey_responses"].insert_all(
            {"survey_id": survey_id, "respondent_id": r.respondent_id, "pmf": r.pmf,
             "segment": r.segment, "ces": r.ces, "nps": r.nps, "benefit": r.benefit}
            for r in responses)
        audit(db, actor, "import", "survey", survey_id, {"name": name,
                                                         "responses": len(responses)})
    return survey_id


def surveys(db) -> list[dict]:
    """Every imported survey, newest first, with its number of responses."""
    return list(db.query(
        "SELECT s.*, count(r.id) AS responses FROM surveys s LEFT JOIN survey_responses r "
        "ON r.survey_id = s.id GROUP BY s.id ORDER BY s.taken_on DESC, s.id DESC"))


def responses(db, survey_id: int) -> list[Response]:
    return [Response(r["respondent_id"], r["pmf"], r["segment"], r["ces"], r["nps"],
                     r["benefit"]) for r in db.query(
        "SELECT * FROM survey_responses WHERE survey_id = ? ORDER BY id", [survey_id])]


def history(db) -> list[dict]:
    """The PMF share, NPS and CES of each survey, oldest first."""
    return [{"survey": s["name"], "taken_on": s["taken_on"], **pmf(answers),
             "nps": nps(answers)["score"], "ces": ces(answers)["mean"]}
            for s in reversed(surveys(db)) for answers in [responses(db, s["id"])]]
