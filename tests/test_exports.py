"""Exports carry no live spreadsheet formulas and no live markup."""

import csv
import html
import io as stdio
import os
from html.parser import HTMLParser

import pytest
import tomllib
from conftest import ROOT, open_page
from markdown_it import MarkdownIt

from growthlab import admin, experiments, io, learnings
from growthlab.db import open_workspace
from growthlab.kpis import check_events

FORMULA = '=HYPERLINK("http://evil.example","x")'
TYPED = [FORMULA, "+1+2", "-3+cmd", "@SUM(A1)", "\t=1"]


def live_cells(text: str) -> list[str]:
    """Cells a spreadsheet would evaluate: they start like a formula and are not a number."""
    def number(cell: str) -> bool:
        try:
            float(cell)
            return True
        except ValueError:
            return False

    return [cell for row in csv.reader(stdio.StringIO(text)) for cell in row
            if cell.startswith(io.FORMULA_PREFIXES) and not number(cell)]


def test_a_csv_export_neutralises_its_header_too():
    users = [{"user_id": "u1", "signup": "2026-01-01", FORMULA: 3, "@SUM(A1)": 1}]
    text = io.to_csv(users, list(users[0]))
    assert live_cells(text) == []
    assert next(csv.reader(stdio.StringIO(text)))[2] == "'" + FORMULA


@pytest.mark.parametrize("cell", ["a;=1+1", "x;+cmd", "x; -2", "x;@SUM(A1)"])
def test_a_formula_after_a_semicolon_is_neutralised(cell):
    assert io.safe_cell(cell) == "'" + cell


def test_text_with_a_plain_semicolon_is_kept():
    assert io.safe_cell("a;b") == "a;b"


@pytest.fixture
def hostile_workspace(demo_workspace, monkeypatch):
    """The demo with formulas typed wherever a person can type a name or a title."""
    monkeypatch.setenv("GROWTHLAB_USER", "@SUM(A1)")
    db = open_workspace(demo_workspace)
    for table, name in (("squads", FORMULA), ("loops", "+1+2"), ("product_areas", "-3+cmd")):
        admin.add_to_taxonomy(db, table, name, "\t=1" if table != "product_areas" else "",
                              actor="@SUM(A1)")
    squad = next(db.query("SELECT id FROM squads WHERE name = ?", [FORMULA]))["id"]
    exp = experiments.create(db, title=FORMULA, squad_id=squad, actor="@SUM(A1)")
    experiments.set_ice(db, exp, "=cmd|'/C calc'!A0", 5, 5, 5, actor="@SUM(A1)")
    events = "".join(f'u{i},"{FORMULA.replace(chr(34), chr(34) * 2)}",2026-01-0{1 + i % 5}\n'
                     for i in range(20))
    admin.use_data_file(db, "events", f"user_id,event,timestamp\n{events}".encode(),
                        "evil.csv", check_events, actor="@SUM(A1)")
    admin.set_pql_rule(db, 'count("' + FORMULA.replace('"', '\\"') + '") >= 1', 30,
                       actor="@SUM(A1)")
    return demo_workspace, exp


def test_the_grids_write_no_file_of_their_own():
    """Streamlit's grid would download its cells as CSV unguarded, and they show text as typed:
    only the app's own exports, which go through `to_csv` or the Markdown export, write files
    (test_e2e_leader.py checks the grid's toolbar in a browser)."""
    config = tomllib.loads((ROOT / ".streamlit" / "config.toml").read_text())
    assert config["client"]["disableDataExport"] is True


def test_the_experiment_list_downloads_as_a_guarded_csv_of_what_is_shown(hostile_workspace):
    """The grid's own download is off; the list has a download of every row it shows, with
    formulas neutralised."""
    path, exp = hostile_workspace
    at = open_page("experiments")
    shown = at.dataframe[0].value
    assert [b for b in at.get("download_button") if b.proto.label == "Download the list (CSV)"]
    text = experiments.listing_csv(experiments.listing(open_workspace(path)))
    rows = list(csv.DictReader(stdio.StringIO(text)))
    assert len(rows) == len(shown) and list(rows[0]) == list(shown.columns)
    assert live_cells(text) == [] and any("HYPERLINK" in r["title"] for r in rows)
    assert not [r for r in rows if "." in r["ICE"] + r["ICE spread"] + r["RICE"]]  # no noise


@pytest.mark.parametrize("page,query", [
    ("experiments", {}), ("experiments", {"view": "review"}), ("settings", {}),
    ("milestones", {"tab": "Success moments & PQLs"}), ("experiment", "exp"),
])
def test_tables_on_screen_show_hostile_text_as_typed(hostile_workspace, page, query):
    path, exp = hostile_workspace
    at = open_page(page, **({"id": str(exp)} if query == "exp" else query))
    cells = [str(c) for table in at.dataframe for c in [*table.value.columns,
                                                          *table.value.to_numpy().ravel()]]
    hostile = [c for c in cells if "HYPERLINK" in c or "calc" in c or c in TYPED]
    assert hostile, "the page shows the hostile text"
    assert not [c for c in hostile if c.startswith("'")]


HOSTILE_BODY = ("Intro.\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(2)>\n\n"
                "[click](javascript:alert(3)) and [data](data:text/html;base64,PHNjcmlwdD4=) "
                "and [ok](https://example.com)\n\n[ref]: javascript:alert(4)\n\n"
                "<a href=\"javascript:alert(5)\">a</a> <SCRIPT SRC=//evil.example/x.js>"
                "</SCRIPT>\n\n[obfuscated](java&#115;cript:alert(6)) "
                "![img](data:image/svg+xml;base64,PHN2Zz4=)")
HOSTILE_TITLE = "Read [this](data:text/html;base64,PHNjcmlwdD4=) now"


class Live(HTMLParser):
    """Scripts, event handlers and non-web links in rendered HTML."""

    def __init__(self):
        super().__init__()
        self.found = []

    def handle_starttag(self, tag, attrs):
        if tag in ("script", "iframe", "object", "embed"):
            self.found.append(tag)
        for name, value in attrs:
            if name.startswith("on"):
                self.found.append(name)
            if name in ("href", "src") and value and not value.startswith(
                    ("http://", "https://", "mailto:", "#")):
                self.found.append(f"{name}={value}")


def live_markup(markdown: str) -> list[str]:
    """Render as a permissive Markdown viewer would (raw HTML allowed) and list what is live."""
    from markdown_it import MarkdownIt

    renderer = MarkdownIt("commonmark", {"html": True})
    renderer.validateLink = lambda url: True  # a viewer that trusts every link
    parser = Live()
    parser.feed(renderer.render(markdown))
    return parser.found


def test_the_markdown_export_is_the_sanitised_form(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title=HOSTILE_TITLE, body=HOSTILE_BODY, tags="safety")
    assert live_markup(HOSTILE_BODY), "the hostile body would be live if exported as typed"
    text = learnings.to_markdown(learnings.listing(db))
    assert live_markup(text) == []
    lowered = text.lower()
    for raw in ("<script", "onerror=", "javascript:", "](data:"):
        assert raw not in lowered, raw
    assert "[ok](https://example.com)" in text and "Intro." in text


@pytest.mark.parametrize("body", [
    "Note ~~~<img src=x onerror=alert(1)>~~~ end",
    "Results ``` <script>alert(1)</script>",
    '<img src="x`" onerror=alert(1) x="`">',
    "`a` <img src=x onerror=alert(2)> `b`",
    "<svg/onload=alert(1)>",
    "<div\nonmouseover=alert(1)>hover</div>",
    "Results ``` [x](javascript:alert(1))",
    "```\n<script>alert(1)</script>\n```",
])
def test_markup_that_hides_from_the_code_splitter_is_not_live_in_the_export(body):
    text = learnings.sanitise_markdown(body)
    assert live_markup(text) == []
    assert "<img" not in text and "<script" not in text


def test_safe_links_and_quotes_survive_the_markdown_export():
    text = learnings.sanitise_markdown("> quoted\n\nsee <https://example.com> and 2 < 3")
    assert text.startswith("> quoted") and "<https://example.com>" in text
    assert "2 &lt; 3" in text


def test_a_data_link_in_a_title_is_shown_as_text(demo_workspace):
    db = open_workspace(demo_workspace)
    learning = learnings.create(db, title=HOSTILE_TITLE, body="Body.")
    at = open_page("learnings", learning=str(learning))
    shown = [h.value for h in at.subheader] + [str(p.proto.label) for p in at.get("page_link")]
    assert shown and not any("](data:" in s for s in shown)
    assert os.environ["GROWTHLAB_WORKSPACE"] == str(demo_workspace)


@pytest.mark.parametrize("where", ["milestone", "variant", "metric", "results"])
def test_names_shown_in_editable_grids_cannot_be_formulas(where, empty_workspace, tmp_path):
    from growthlab import experiments
    from growthlab.db import open_workspace
    from growthlab.errors import InputError
    from growthlab.io import parse_results_csv
    from growthlab.kpis import Milestone, validate
    from growthlab.stats import MetricRow

    formula = '=HYPERLINK("http://evil.example","x")'
    db = open_workspace(empty_workspace)
    with pytest.raises(InputError, match="starts like a spreadsheet formula"):
        if where == "milestone":
            validate([Milestone("a", formula, "P", "count(x) >= 1")])
        elif where == "variant":
            experiments.parse_variants("control:50, =1+1:50")
        elif where == "metric":
            exp = experiments.create(db, title="T")
            experiments.record_results(db, exp, [MetricRow(formula, "control", 100, 10),
                                                 MetricRow(formula, "treatment", 100, 12)])
        else:
            parse_results_csv(b"metric,variant,users,conversions\n+cmd,control,100,10\n"
                              b"+cmd,treatment,100,12\n")


@pytest.mark.parametrize("figure", ["+33.5%", "-0.57%", "+2.0 pp", "-1.90 pp to +1.42 pp",
                                    "+16.9% to +50.1%", "-1.234e+05", "unbounded to +3.0%",
                                    "-3"])
def test_a_figure_the_app_formatted_is_shown_as_is(figure):
    """A signed number, percentage or interval cannot run as a formula; quoting it would show
    `'+33.5%` in every results table."""
    assert io.safe_cell(figure) == figure


@pytest.mark.parametrize("cell", ["+1+2", "-3+cmd", "-2 pp+cmd", "+5% to =1", "-1 to +2;=3"])
def test_text_that_only_starts_like_a_figure_is_still_neutralised(cell):
    assert io.safe_cell(cell) == "'" + cell


@pytest.mark.parametrize(("body", "kept"), [
    ("clicked the <Export> button", "clicked the &lt;Export> button"),
    ("Raise <milestone KPI> from A to B", "Raise &lt;milestone KPI> from A to B"),
    ("a <3 b and x<y>z", "a &lt;3 b and x&lt;y>z")])
def test_angle_bracketed_text_that_is_not_html_is_kept_in_the_export(tmp_path, body, kept):
    db = open_workspace(tmp_path / "w.db")
    learnings.create(db, title="T", body=f"{body} <b>bold</b><script>alert(1)</script>")
    text = learnings.to_markdown(learnings.listing(db))
    assert f"{kept} bold" in text and live_markup(text) == [] and "alert" not in text
    shown = MarkdownIt("commonmark").render(text)
    assert html.unescape(body) in html.unescape(shown)
