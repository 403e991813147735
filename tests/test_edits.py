"""The edit policy: a form sends only what the person changed against what they opened."""

from datetime import date

import pytest

from growthlab.edits import changed_fields, number_text, same, with_stored

OPENED = {"id": 3, "version": 4, "statement": "Raise first value", "baseline": 31.0,
          "target": 40.0, "stretch": None, "start_date": "2026-10-01", "tags": ["a", "b"]}


def test_an_untouched_form_sends_nothing():
    submitted = {"statement": "Raise first value ", "baseline": 31, "target": 40.0,
                 "stretch": None, "start_date": date(2026, 10, 1), "tags": ["a", "b"]}
    assert changed_fields(OPENED, submitted) == {}


def test_only_the_changed_field_is_sent():
    submitted = {"statement": "Raise first value", "baseline": 33.0, "target": 40.0,
                 "stretch": None, "start_date": date(2026, 10, 1), "tags": ["a", "b"]}
    assert changed_fields(OPENED, submitted) == {"baseline": 33.0}


@pytest.mark.parametrize("before,after", [
    (None, 0.0), ("", None), (40.0, 40.5), ("2026-10-01", date(2026, 10, 2)), (["a"], ["a", "b"]),
])
def test_real_differences_count(before, after):
    assert not same(before, after)


def test_a_stored_value_no_longer_offered_stays_a_choice():
    assert with_stored(["a", "b"], "old") == ["a", "b", "old"]
    assert with_stored(["a", "b"], "a") == ["a", "b"] and with_stored(["a"], None) == ["a"]


@pytest.mark.parametrize("value", [16.23456789, 0.1 + 0.2, 45.0, 1e-7])
def test_a_number_shown_as_text_reads_back_unchanged(value):
    assert float(number_text(value)) == value
    assert changed_fields({"stretch": value}, {"stretch": float(number_text(value))}) == {}
