"""Tables a page shows are built without pandas, yet typed exactly as pandas types them, so a
page shows the same table as when Streamlit converted the rows itself."""

from datetime import date

import pandas as pd
import pyarrow as pa
import pytest

from growthlab import io

NAN = float("nan")


def by_pandas(records: list[dict]) -> pa.Table:
    """What Streamlit makes of rows it is given: a DataFrame, then Arrow."""
    return pa.Table.from_pandas(pd.DataFrame(records), preserve_index=False)


@pytest.mark.parametrize("records", [
    [{"text": "a", "n": 1, "share": 0.5, "done": True}, {"text": "b", "n": 2, "share": 0.25,
                                                          "done": False}],
    [{"value": 3}, {"value": None}, {"value": 5}],  # pandas holds gaps in floats
    [{"n": 1}, {"n": 2.5}],
    [{"share": NAN}, {"share": 0.1}, {"share": None}],
    [{"done": True}, {"done": None}],
    [{"note": "ümlaut ✓ 日本"}, {"note": None}, {"note": ""}],
    [{"empty": None}, {"empty": None}],
    [{"a": 1}, {"b": "only here"}, {"a": 2, "c": 0.5}],  # keys in order of first appearance
    [{"n": -2**63}, {"n": 2**63 - 1}],
    [{"n": i, "text": f"row {i}" * (i % 3)} for i in range(1_000)],
    [],
])
def test_a_table_is_typed_as_pandas_types_it(records):
    mine = io.display_table(records)
    assert mine.schema == by_pandas(records).schema.remove_metadata()
    assert mine.equals(by_pandas(records).replace_schema_metadata())


@pytest.mark.parametrize("records", [
    [{"n": 2**63}],
    [{"mixed": 1}, {"mixed": "one"}],
    [{"mixed": True}, {"mixed": 1}],
    [{"day": date(2026, 1, 1)}],
    [{"nested": {"a": 1}}],
    [{1: "x", "b": 2}],  # a column named by a number
])
def test_columns_pandas_would_type_its_own_way_are_left_to_it(records):
    assert io.display_table(records) == records  # the records, not an Arrow table


def test_a_shown_table_shows_text_as_typed():
    """A check-in note "+0.04 since last week" read "'+0.04 since…": the formula guard is for
    files a person downloads (`to_csv`, the Markdown export), never for the screen."""
    rows = [{"note": "+0.04 since last week", "name": "=HYPERLINK(1)", "n": -3, "+cmd": "x"}]
    assert io.display_table(rows + [{"drop": 1}], ["note", "name", "n", "+cmd"]
                            ).to_pylist() == rows + [{"note": None, "name": None, "n": None,
                                                      "+cmd": None}]


@pytest.mark.parametrize("share,text", [
    (0.25, "25%"), (0.0033, "0.3%"), (0.00001, "0.001%"), (0.995, "99.5%"),
    (0.9999, "99.99%"), (0, "0%"), (1, "100%"), (0.004, "0.4%")])
def test_a_share_is_never_written_0_or_100_percent_unless_it_is(share, text):
    """'day 30: 0%' for 0.33% retained, or a step that 'loses 0% of users', reads as none."""
    assert io.percent(share) == text
