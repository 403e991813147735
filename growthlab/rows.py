"""Every stored row checked with the rules the app applies when the row is entered, so that a
database from elsewhere (a backup) holds nothing a page cannot read."""

from __future__ import annotations

import json

from growthlab.errors import GrowthLabError, InputError


def check_rows(db) -> None:
    """Raise InputError naming the table, row and column of the first row the app would
    not have stored."""
    from growthlab.db import get_setting

    for table, check in _CHECKS.items():
        for row in db.query(f"SELECT rowid AS _row, * FROM [{table}] ORDER BY rowid"):
            try:
                check(row)
            except GrowthLabError as exc:
                column = getattr(exc, "field", None)
                raise _refusal(f"row {row['_row']}: {_detail(exc)}", f"table {table}: {column}"
                               if column else f"table {table}") from None
    for key, check in _SETTINGS.items():
        value = get_setting(db, key)
        try:
            if value is not None:
                check(value)
        except GrowthLabError as exc:
            raise _refusal(_detail(exc), f"setting {key}") from None


def _detail(exc: GrowthLabError) -> str:
    return getattr(exc, "detail", str(exc))


def _refusal(what: str, where: str) -> InputError:
    return InputError(f"{what}; correct it in the workspace it came from and export again",
                      field=where)


def _objective(row: dict) -> None:
    from growthlab.okrs import check_period

    check_period(row["start_date"], row["end_date"])


def _key_result(row: dict) -> None:
    from growthlab.okrs import check_key_result

    check_key_result(**{k: row[k] for k in (
        "statement", "metric", "baseline", "target", "direction", "metric_kind", "start_date",
        "end_date", "stretch")})


def _checkin(row: dict) -> None:
    from growthlab.okrs import _date

    _date(row["date"], "date")


def _experiment(row: dict) -> None:
    from growthlab.experiments import RICE_CONFIDENCES, RICE_IMPACTS, _effect

    for name in ("guardrail_metrics", "lower_is_better"):
        _json_list(row[name], name)
    for name in ("expected_acquisition", "expected_retention", "observed_acquisition",
                 "observed_retention"):
        _effect(row[name], name)
    for name, scale in (("rice_impact", RICE_IMPACTS), ("rice_confidence", RICE_CONFIDENCES)):
        if row[name] is not None and row[name] not in scale:
            raise InputError(f"{row[name]!r} is not on the scale "
                             f"({', '.join(f'{v:g}' for v in scale)})", field=name)


def _learning(row: dict) -> None:
    _json_list(row["tags"], "tags")


def _result(row: dict) -> None:
    from growthlab.io import MAX_USERS

    users, conversions = row["users"], row["conversions"]
    if not 0 <= users <= MAX_USERS:
        raise InputError(f"{users!r} users is not a count of people", field="users")
    if conversions is not None and not 0 <= conversions <= users:
        raise InputError(f"{conversions!r} conversions is not from 0 to users ({users})",
                         field="conversions")
    if row["sum_squares"] is not None and row["sum_squares"] < 0:
        raise InputError("sum_squares cannot be negative", field="sum_squares")


def _interview(row: dict) -> None:
    from growthlab.research import interview_date

    interview_date(row["date"], field="date")
    if not row["participant"].strip():
        raise InputError("is empty", field="participant")


def _theme(row: dict) -> None:
    from growthlab.research import theme_name

    if theme_name(row["name"], field="name") != row["name"]:
        raise InputError(f"{row['name'][:40]!r} has spaces at its edges or inside a line "
                         "break", field="name")


def _excerpt(row: dict) -> None:
    if not row["text"].strip():
        raise InputError("is empty", field="passage")


def _job(row: dict) -> None:
    from growthlab.research import _wording

    _wording(row["statement"])


def _survey(row: dict) -> None:
    from growthlab.survey import survey_date

    survey_date(row["taken_on"])


def _json_list(text: str, name: str) -> None:
    try:
        value = json.loads(text)
    except ValueError:
        raise InputError(f"{text[:40]!r} is not a JSON list", field=name) from None
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise InputError(f"{text[:40]!r} is not a JSON list of names", field=name)


def _whole_number(value: str) -> None:
    if not value.isdigit():
        raise InputError(f"{value!r} is not a whole number", field="value")


def _pql_rule(value: str) -> None:
    from growthlab.kpis import parse_rule

    parse_rule(value, "PQL rule")


def _pql_window(value: str) -> None:
    from growthlab.admin import check_pql_window

    check_pql_window(value)


_CHECKS = {"objectives": _objective, "key_results": _key_result, "checkins": _checkin,
           "experiments": _experiment, "learnings": _learning, "metric_results": _result,
           "interviews": _interview, "themes": _theme, "excerpts": _excerpt, "jobs": _job,
           "surveys": _survey}
_SETTINGS = {"pql_rule": _pql_rule, "pql_window_days": _pql_window,
             "milestones_version": _whole_number}
