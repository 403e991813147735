"""Every broken file gets a clear error naming it, exit 2, no traceback, nothing changed."""

import gzip
import hashlib
import json
import subprocess
import sys
from datetime import date
from pathlib import Path

import pytest

from growthlab import experiments, learnings
from growthlab.cli import main
from growthlab.db import open_workspace
from growthlab.errors import InputError, RuleError
from growthlab.io import read_results_csv

CORPUS = Path(__file__).parent / "bad_inputs"
CASES = sorted(p for p in CORPUS.iterdir() if p.is_file() and p.name != "README.md")
WARNED = CORPUS / "warned"
GOOD_EVENTS = "user_id,event,timestamp\nu1,x,2026-01-01T10:00:00\nu2,x,2026-01-02T10:00:00\n"
GOOD_MILESTONES = '[[milestones]]\nkey = "a"\nname = "A"\nrule = "count(x) >= 1"\n'


@pytest.fixture
def workspace(tmp_path):
    path = tmp_path / "ws" / "growthlab.db"
    db = open_workspace(path)
    experiments.create(db, title="Keep me")
    learnings.create(db, title="Keep this learning", body="It matters.")
    db.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    db.conn.close()
    (tmp_path / "events.csv").write_text(GOOD_EVENTS)
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES)
    return path


def command(case: Path, tmp: Path) -> list[str]:
    kind = case.name.split("_")[0]
    return {
        "results": ["analyze", str(case)],
        "events": ["kpis", str(case), "--milestones", str(tmp / "m.toml")],
        "milestones": ["kpis", str(tmp / "events.csv"), "--milestones", str(case)],
        "assignments": ["analyze-events", str(tmp / "events.csv"), str(case), "--milestones",
                        str(tmp / "m.toml"), "--experiment", "x"],
        "archive": ["import", str(case)],
        "survey": ["survey", str(case)],
        "interviews": ["research", str(case)],
    }[kind]


def digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_corpus_is_large_enough():
    assert len(CASES) >= 50


@pytest.mark.parametrize("case", CASES, ids=lambda p: p.name)
def test_bad_file_is_refused_clearly(case, workspace, capsys):
    before = digest(workspace)
    code = main(["--workspace", str(workspace), *command(case, workspace.parent.parent)])
    err = capsys.readouterr().err
    assert code == 2, err
    assert err.startswith("error: ") and case.name in err, err
    assert len(err.strip().splitlines()) == 1, "one line a person can act on"
    assert digest(workspace) == before


def test_cli_process_prints_no_traceback(workspace):
    case = CORPUS / "results_binary_garbage.csv"
    out = subprocess.run([sys.executable, "-m", "growthlab", "analyze", str(case)],
                         capture_output=True, text=True, timeout=60)
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert "binary file" in out.stderr


@pytest.mark.parametrize("rule", [
    "count(search) >=", "count(search) >= -1", "count() >= 1", "reached()", "count(a) >= 1 or",
    "not", "count(a) >>= 1", "((count(a) >= 1)", "count(a) >= 1)", "count(a) 5",
    "count(a); DROP TABLE events", "count('a') >= 1", "days(a) >= 1.5", "x" * 5000,
    "count(\"\") >= 1", "\x00", "count(a) >= 99999999999999999999999",
])
def test_broken_rules_are_rule_errors(rule):
    from growthlab.kpis import Milestone, validate

    with pytest.raises(RuleError) as err:
        validate([Milestone("first_value", "First value", "P", rule)])
    assert str(err.value).startswith('rule for "first_value"')


@pytest.mark.parametrize("fields,field", [
    ({"title": ""}, "title"), ({"title": "x", "variants": [("control", 1)]}, "variants"),
    ({"title": "x", "variants": [("a", 1), ("a", 1)]}, "variants"),
    ({"title": "x", "variants": [("a", 0), ("b", 1)]}, "variants"),
    ({"title": "x", "expected_acquisition": "huge"}, "expected_acquisition"),
    ({"title": " keep ME "}, "title"),  # "Keep me" is there
])
def test_odd_experiment_form_values(workspace, fields, field):
    db = open_workspace(workspace)
    before = db["experiments"].count
    with pytest.raises(InputError) as err:
        experiments.create(db, **fields)
    assert err.value.field == field
    assert db["experiments"].count == before


@pytest.mark.parametrize("text,message", [
    ("control:abc", "'abc' is not a number"), ("control:50, treatment:x", "'x' is not a number"),
    (":", "has no variant name"), ("control:50, :50", "has no variant name"),
    ("control:50,  : ", "has no variant name"),
    ("control 50, treatment 50", "'control 50' has no ':' before its share; write "
                                 "control:50, treatment:50"),
    ("control=50, treatment=50", "'control=50' has no ':' before its share; write "
                                 "control:50, treatment:50"),
    ("control:50, treatment 50%", "'treatment 50%' has no ':' before its share; write "
                                  "control:50, treatment:50"),
])
def test_odd_variant_text(text, message):
    with pytest.raises(InputError) as err:
        experiments.parse_variants(text)
    assert message in str(err.value) and err.value.field == "variants"


def test_a_title_another_experiment_has_is_refused_naming_it(workspace):
    db = open_workspace(workspace)
    with pytest.raises(InputError) as refused:
        experiments.create(db, title="KEEP ME")
    assert "EXP-001 is already called 'Keep me'" in str(refused.value)
    other = experiments.create(db, title="Keep me, second run")
    row = experiments.get(db, other)
    with pytest.raises(InputError, match="EXP-001 is already called 'Keep me'"):
        experiments.update(db, other, row["version"], {"title": "keep me"})
    experiments.update(db, other, row["version"], {"title": "Keep me, second run "})


@pytest.mark.parametrize("text,names", [
    ("new checkout, old checkout", ["new checkout", "old checkout"]),
    ("variant 1, variant 2", ["variant 1", "variant 2"]),
    ("control, variant 2", ["control", "variant 2"]),
    ("arm 1, arm 2, arm 3:2", ["arm 1", "arm 2", "arm 3"]),
])
def test_variant_names_holding_spaces_or_numbers_are_kept(text, names):
    assert [name for name, _ in experiments.parse_variants(text)] == names


@pytest.mark.parametrize("name", ["results_denormal_means.csv", "results_near_float_limit.csv",
                                  "results_squares_overflow.csv",
                                  "results_users_beyond_any_audience.csv",
                                  "results_tiny_cuped_column.csv"])
def test_extreme_numbers_print_nothing_but_an_error_line(name):
    # A real process with Python's default warning filters: numpy warnings would show here.
    out = subprocess.run([sys.executable, "-W", "default", "-m", "growthlab", "analyze",
                          str(CORPUS / name)], capture_output=True, text=True, timeout=60)
    assert out.returncode == 2
    assert [line for line in out.stderr.splitlines() if not line.startswith("error:")] == []


@pytest.mark.parametrize("text,line,column", [
    ("u1,x,2026-01-01T10:00:00\nu2,x,2026-01-02T10:00:00+25:00\n", 3, "timestamp"),
    ("u1,x,2026-01-01T10:00:00-14:30\n", 2, "timestamp"),
    ("u1,x,2026-01-01T10:00:00\nu2,x,2026-01-01 10:00:00 -1300\n", 3, "timestamp"),
    ('u1,x,2026-01-01T10:00:00\nu2,"x,2026-01-02T10:00:00\nu3,x,2026-01-03T10:00:00\n', 3,
     "event"),
    ('"u1,x,2026-01-01T10:00:00\n', 2, "user_id"),
    ('u1,"a,b",2026-01-01T10:00:00\nu2,"x,2026-01-02T10:00:00\n', 3, "event"),
])
def test_silently_accepted_events_are_refused_naming_line_and_column(tmp_path, text, line,
                                                                     column):
    from growthlab.kpis import check_events

    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\n" + text)
    with pytest.raises(InputError) as err:
        check_events(path)
    assert (err.value.line, err.value.column) == (line, column), str(err.value)


@pytest.mark.parametrize("text,line,found", [
    ("u1,search\n", 2, 2),
    ("u1,x,2026-01-01T10:00:00,surprise\n", 2, 4),
    ("u1,x,2026-01-01T10:00:00\n\nu2,\"a,b\",2026-01-01T10:00:00\nu3,x\n", 5, 2),
])
def test_a_row_with_another_field_count_is_named_by_its_line(tmp_path, text, line, found):
    from growthlab.kpis import check_events

    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\n" + text)
    with pytest.raises(InputError) as err:
        check_events(path)
    assert err.value.line == line, str(err.value)
    assert f"{found} fields, expected 3" in str(err.value)
    assert "missing column" not in str(err.value)


def test_milestones_file_with_a_byte_order_mark_reads(tmp_path):
    from growthlab.kpis import load_milestones_file

    path = tmp_path / "m.toml"
    path.write_bytes(b"\xef\xbb\xbf" + GOOD_MILESTONES.encode())
    assert [m.key for m in load_milestones_file(path)] == ["a"]


def test_unclosed_quote_past_the_sniffed_sample_names_line_and_column(tmp_path):
    from growthlab.kpis import check_events

    rows = "".join(f"u{i},e{i % 3},2026-01-01T10:00:00\n" for i in range(30_000))
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\n" + rows + 'u9,"x,2026-01-02T10:00:00\n' + rows[:99])
    with pytest.raises(InputError) as err:
        check_events(path)
    assert (err.value.line, err.value.column) == (30_002, "event"), str(err.value)


def test_good_offsets_and_quotes_still_read(tmp_path):
    from growthlab.kpis import check_events

    path = tmp_path / "events.csv"
    path.write_text('user_id,event,timestamp\nu1,"say ""hi""",2026-01-01T10:00:00+14:00\n'
                    'u2,"a,b",2026-01-01T10:00:00-12:00\nu3,x,2026-01-01 10:00:00.5+0530\n'
                    "u4,x,2026-01-01T10:00:00Z\nu5,x,2026-01-01\n")
    info = check_events(path)
    assert info.events == {'say "hi"': 1, "a,b": 1, "x": 3}
    assert (info.first, info.last) == ("2025-12-31T20:00:00", "2026-01-01T22:00:00")


def test_parquet_dates_still_read_as_timestamps(tmp_path):
    import pandas as pd

    from growthlab.kpis import check_events

    path = tmp_path / "events.parquet"
    pd.DataFrame({"user_id": ["u1"], "event": ["x"],
                  "timestamp": [date(2026, 1, 1)]}).to_parquet(path)
    assert check_events(path).first == "2026-01-01T00:00:00"


def test_cli_user_mistakes_exit_2_without_a_traceback(workspace, tmp_path, capsys):
    events = str(tmp_path / "events.csv")
    for argv in (["export", str(tmp_path / "missing" / "backup.zip")],
                 ["retention", events, "--days", "100000000000"],
                 ["retention", events, "--days", "1,99999"]):
        code = main(["--workspace", str(workspace), *argv])
        err = capsys.readouterr().err
        assert code == 2 and err.startswith("error: ") and len(err.splitlines()) == 1, err


def test_fuzzed_corpus_raises_only_growthlab_errors():
    from fuzz_inputs import run

    outcomes, failures = run(2000, seed=12)
    assert failures == [], failures[0]
    assert outcomes["refused"] > 1000 and outcomes["ok"] > 20, outcomes


def test_a_stray_comma_names_its_line_not_the_header(workspace, capsys):
    case = CORPUS / "events_stray_comma.csv"
    assert main(["kpis", str(case), "--milestones", str(workspace.parent.parent / "m.toml")]) == 2
    assert "events_stray_comma.csv:9: 4 fields, expected 3" in capsys.readouterr().err


def test_a_file_not_in_utf8_says_how_to_convert_it():
    from growthlab.kpis import check_events

    with pytest.raises(InputError) as err:
        check_events(CORPUS / "events_latin1.csv")
    assert err.value.line == 3 and "not UTF-8" in str(err.value)
    assert "iconv -f WINDOWS-1252 -t UTF-8 events_latin1.csv" in str(err.value)


@pytest.mark.parametrize("name,line", [("events_tsv_short_row.tsv", 3)])
def test_other_shapes_name_the_line_too(name, line):
    from growthlab.kpis import check_events

    with pytest.raises(InputError) as err:
        check_events(CORPUS / name)
    assert err.value.line == line and "2 fields, expected 3" in str(err.value)


def test_assignment_ids_written_differently_are_reported_as_such(tmp_path, capsys):
    (tmp_path / "events.csv").write_text("user_id,event,timestamp\n" + "".join(
        f"{219483890 + i},search,2026-01-0{1 + i % 5}T10:00:00Z\n" for i in range(20)))
    (tmp_path / "assignments.csv").write_text("user_id,experiment,variant,assigned_at\n" + "".join(
        f"{219483890 + i}.0,x,{('control', 'treatment')[i % 2]},2026-01-01T09:00:00Z\n"
        for i in range(20)))
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x)", "count(search)"))
    code = main(["analyze-events", str(tmp_path / "events.csv"), str(tmp_path / "assignments.csv"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "x"])
    err = capsys.readouterr().err
    assert code == 2 and "reached by all or none" not in err, err
    assert "only 0 of the 20 users assigned in 'x' appear in the events" in err
    assert "'219483890.0'" in err and "'219483890'" in err


def test_variants_spelt_in_two_cases_are_refused_naming_both_lines(workspace, capsys):
    """At upload (check_assignments) as analyze-events refuses them: 'treatment' on line 3
    and 'Treatment' on line 5 would be two arms of one name ('Treatment' in another
    experiment on line 4 is no twin)."""
    from growthlab.kpis import check_assignments

    case = CORPUS / "assignments_variant_case_twins.csv"
    with pytest.raises(InputError) as refused:
        check_assignments(case)
    main(["--workspace", str(workspace), *command(case, workspace.parent.parent)])
    for said in (str(refused.value), capsys.readouterr().err.removeprefix("error: ").strip()):
        assert said.startswith(f"{case}:5: column variant: ") and f"{case}:3" in said, said
        assert "'Treatment'" in said and "'treatment'" in said and ":4" not in said


def test_an_event_in_the_future_is_reported_and_kept_out_of_the_data_end(capsys):
    case = str(WARNED / "events_future_row.csv")
    assert main(["retention", case, "--days", "1,30", "--json"]) == 0
    captured = capsys.readouterr()
    table = json.loads(captured.out)
    assert "1 event(s) dated on or after 2026-11-26, in the future (first at line 7)" in \
        captured.err
    assert table["overall"][1] is None, "no one has had 30 days yet: not 0.0%"


def test_the_data_end_ignores_an_event_in_the_future(tmp_path, capsys):
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x)", "count(visit)"))
    assert main(["kpis", str(WARNED / "events_future_row.csv"), "--milestones",
                 str(tmp_path / "m.toml"), "--json"]) == 0
    result = json.loads(capsys.readouterr().out)
    assert result["data_end"] == "2026-01-12T10:00:00"


def test_exact_duplicate_rows_are_counted_and_dropped_with_dedupe(tmp_path, capsys):
    case = WARNED / "events_duplicate_rows.csv"
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x) >= 1", "count(search) >= 2"))
    assert main(["kpis", str(case), "--milestones", str(tmp_path / "m.toml"), "--json"]) == 0
    captured = capsys.readouterr()
    assert "3 exact duplicate row(s)" in captured.err and "--dedupe" in captured.err
    assert json.loads(captured.out)["milestones"][0]["users"] == 2
    assert main(["kpis", str(case), "--milestones", str(tmp_path / "m.toml"), "--json",
                 "--dedupe"]) == 0
    captured = capsys.readouterr()
    assert "dropped 3 exact duplicate row(s)" in captured.err
    assert json.loads(captured.out)["milestones"][0]["users"] == 0


def test_dates_without_a_time_of_day_are_not_called_duplicates_to_drop(tmp_path, capsys):
    """Two searches on one day share user, event and a date-only timestamp: they may well be
    two searches, so advising --dedupe would delete real events."""
    case = WARNED / "events_dates_only.csv"
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x) >= 1", "count(search) >= 2"))
    assert main(["kpis", str(case), "--milestones", str(tmp_path / "m.toml"), "--json"]) == 0
    err = capsys.readouterr().err
    assert "--dedupe" not in err
    assert "no time of day" in err and "2 row(s)" in err and "cannot tell" in err


def test_events_at_the_unix_epoch_are_called_out(tmp_path, capsys):
    """An SDK that lost its clock writes 1970-01-01 00:00:00: that row becomes the user's
    sign-up and every window closes in 1970."""
    case = WARNED / "events_unix_epoch_default.csv"
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x)", "count(visit)"))
    assert main(["kpis", str(case), "--milestones", str(tmp_path / "m.toml"), "--json"]) == 0
    err = capsys.readouterr().err
    assert "2 event(s) at exactly 1970-01-01 00:00:00" in err and "Unix epoch" in err


def test_a_cut_short_gzip_says_to_export_it_again(capsys):
    assert main(["retention", str(CORPUS / "events_truncated.csv.gz")]) == 2
    err = capsys.readouterr().err
    assert "events_truncated.csv.gz: cannot read" in err and "export or download it again" in err


def test_an_empty_part_file_in_a_parquet_folder_says_what_to_do(tmp_path, capsys):
    # A crashed writer leaves a 0-byte part beside the good ones.
    import duckdb

    folder = tmp_path / "events" / "month=2026-01"
    folder.mkdir(parents=True)
    duckdb.sql("SELECT 'u1' AS user_id, 'signup' AS event, TIMESTAMP '2026-01-02' AS timestamp"
               ).write_parquet(str(folder / "part-0.parquet"))
    (folder / "part-1.parquet").write_bytes(b"")
    assert main(["retention", str(tmp_path / "events")]) == 2
    err = capsys.readouterr().err
    assert "cannot read as PARQUET" in err
    assert "remove it or export the folder again" in err


COMMA_RESULTS = ("metric,variant,users,conversions,sum,sum_squares\n"
                 "signup,control,10000,1000,,\nsignup,treatment,10000,1100,,\n"
                 "revenue,control,1000,,5000.5,40000.25\nrevenue,treatment,1000,,5500.75,45000.5\n"
                 "basket,control,1000,,0.125,12.5e3\nbasket,treatment,1000,,2.25,1.5e4\n")


@pytest.mark.parametrize("separator,decimal,prefix,newline", [
    (";", ",", "\ufeff", "\r\n"), (";", ".", "", "\n"), ("\t", ",", "", "\r\n"),
    ("\t", ".", "\ufeff", "\n")])
def test_semicolon_and_tab_files_read_as_their_comma_twin(tmp_path, capsys, separator, decimal,
                                                          prefix, newline):
    # What Excel saves as "CSV" in locales whose decimal mark is a comma, and as tab-delimited
    # text; blank lines as a spreadsheet leaves them.
    comma, other = tmp_path / "comma.csv", tmp_path / "other.csv"
    comma.write_text(COMMA_RESULTS)
    text = COMMA_RESULTS.replace(",", separator).replace(".", decimal)
    other.write_bytes((prefix + text.replace("\n", newline) + newline * 2).encode())
    assert main(["analyze", str(comma), "--json"]) == 0
    expected = capsys.readouterr().out
    assert main(["analyze", str(other), "--json"]) == 0
    assert capsys.readouterr().out == expected
    assert '"mean": 5.50075' in expected


COMMA_SURVEY = ("respondent_id,pmf,segment,ces,nps,benefit\n"
                "r1,Very disappointed,Agency,6,10,Exports\n"
                "r2,somewhat disappointed,Agency,5,8.0,\n"
                "r3,Not disappointed,In-house,,3,\"Fast, simple\"\n")
COMMA_INTERVIEWS = ("interview_id,participant,segment,date,kind,theme,excerpt\n"
                    "i1,Priya,Agency,2026-10-12,struggle,lists stuck,\"I copy them, by hand\"\n"
                    "i1,Priya,Agency,2026-10-12,motivation,one step export,It should just go\n"
                    "i1,Priya,Agency,2026-10-12,outcome,client ready,So I can send it\n")


@pytest.mark.parametrize("command,text", [("survey", COMMA_SURVEY),
                                          ("research", COMMA_INTERVIEWS)])
def test_semicolon_survey_and_interview_files_read_as_their_comma_twin(tmp_path, capsys,
                                                                       command, text):
    """What Excel saves as "CSV" where the comma is the decimal mark, read as the results
    reader reads it (a score of 8,0 too)."""
    comma, semicolon = tmp_path / "comma.csv", tmp_path / "semicolon.csv"
    comma.write_text(text)
    euro = text.replace(",", ";").replace("8.0", "8,0").replace("them; by", "them, by")
    semicolon.write_bytes(("\ufeff" + euro.replace("Fast; simple", "Fast, simple")
                           .replace("\n", "\r\n")).encode())
    assert main([command, str(comma), "--json"]) == 0
    expected = capsys.readouterr().out
    assert main([command, str(semicolon), "--json"]) == 0
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("separator,decimal,hint", [
    (";", ",", "sep=;"), (",", ".", "SEP=,"), ("\t", ",", "sep=\t"), ("|", ".", "sep=|")])
def test_excel_s_separator_line_is_read_as_the_separator_not_as_the_header(
        tmp_path, capsys, separator, decimal, hint):
    # Excel reads (and some exports write) "sep=;" as a first line naming the separator.
    comma, hinted = tmp_path / "comma.csv", tmp_path / "hinted.csv"
    comma.write_text(COMMA_RESULTS)
    text = COMMA_RESULTS.replace(",", separator).replace(".", decimal)
    hinted.write_bytes(("\ufeff" + hint + "\r\n" + text.replace("\n", "\r\n")).encode())
    assert main(["analyze", str(comma), "--json"]) == 0
    expected = capsys.readouterr().out
    assert main(["analyze", str(hinted), "--json"]) == 0
    assert capsys.readouterr().out == expected


def test_after_a_separator_line_errors_name_the_file_s_own_line_numbers(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("sep=;\nmetric;variant;users;conversions\nm;control;100;10\n"
                    "m;treatment;abc;12\n")
    with pytest.raises(InputError) as err:
        read_results_csv(path)
    assert (err.value.line, err.value.column) == (4, "users"), str(err.value)


def test_a_separator_line_the_header_contradicts_is_named_on_the_header_s_line(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("sep=;\nmetric,variant,users,conversions\nm,control,100,10\n")
    with pytest.raises(InputError) as err:
        read_results_csv(path)
    assert err.value.line == 2 and "sep=; but the header is split by commas" in str(err.value)


def test_a_quoted_separator_line_is_read_as_one(tmp_path, capsys):
    comma, quoted = tmp_path / "comma.csv", tmp_path / "quoted.csv"
    comma.write_text(COMMA_RESULTS)
    quoted.write_text('"sep=;"\n' + COMMA_RESULTS.replace(",", ";"))
    assert main(["analyze", str(comma), "--json"]) == 0
    expected = capsys.readouterr().out
    assert main(["analyze", str(quoted), "--json"]) == 0
    assert capsys.readouterr().out == expected


def test_in_a_semicolon_file_a_comma_is_the_decimal_mark(tmp_path):
    path = tmp_path / "results.csv"
    path.write_text("metric;variant;users;sum;sum_squares\nm;control;10;1,125;2,5e3\n"
                    "m;treatment;10;-12,5;1000\n")
    assert [(r.sum, r.sum_squares) for r in read_results_csv(path)] == [(1.125, 2500.0),
                                                                       (-12.5, 1000.0)]


@pytest.mark.parametrize("name,line,column,says", [
    ("results_semicolon_thousands_dot.csv", 2, "users",
     "'10.000' could be 10000 (with '.' between thousands) or 10.000"),
    ("results_tabs_thousands_comma.tsv", 3, "users",
     "'5,000' could be 5000 (with ',' between thousands) or 5.000"),
    ("results_semicolon_thousands_comma.csv", 2, "users",
     "'10,000' could be 10000 (with ',' between thousands) or 10.000"),
    ("results_semicolon_decimal_users.csv", 3, "users", "'1000,5' must be a whole number"),
    ("results_semicolon_extra_field.csv", 3, None,
     "5 fields but the header has 4; check for an unquoted semicolon"),
    ("results_semicolon_misspelt_column.csv", 1, None,
     "missing column(s) users; the header has metric, variant, user, conversions"),
])
def test_semicolon_and_tab_files_are_refused_naming_line_and_column(name, line, column, says):
    with pytest.raises(InputError) as err:
        read_results_csv(CORPUS / name)
    assert (err.value.line, err.value.column) == (line, column), str(err.value)
    assert says in str(err.value)


@pytest.mark.parametrize("name", ["results_utf16.csv", "results_utf16_without_bom.csv"])
def test_a_utf16_file_is_named_as_such_with_how_to_save_it(name):
    with pytest.raises(InputError) as err:
        read_results_csv(CORPUS / name)
    assert "UTF-16" in str(err.value) and 'save it as "CSV UTF-8' in str(err.value)
    assert "binary" not in str(err.value)


def test_a_variant_with_no_users_names_its_line():
    """(One user is an arm too small to compare: that comparison fails alone, see
    test_arms.py.)"""
    with pytest.raises(InputError) as err:
        read_results_csv(CORPUS / "results_zero_users.csv")
    assert (err.value.line, err.value.column) == (2, "users"), str(err.value)
    assert "metric 'cv', variant 'control' has 0 users" in str(err.value)
    assert "at least 2 users" in str(err.value)


EVENTS_TEXT = "user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"


def _parquet_bytes() -> bytes:
    import io as stdio

    import pandas as pd

    buffer = stdio.BytesIO()
    pd.DataFrame({"user_id": ["u1"], "event": ["search"],
                  "timestamp": [pd.Timestamp("2026-03-01")]}).to_parquet(buffer, index=False)
    return buffer.getvalue()


@pytest.mark.parametrize("name,data,says", [
    ("utf16.csv", EVENTS_TEXT.encode("utf-16"), "UTF-16"),
    ("utf16_nobom.csv", EVENTS_TEXT.encode("utf-16-le"), "UTF-16"),
    ("parquet_as.csv", "parquet", "a Parquet file; name it .parquet"),
    ("workbook.csv", b"PK\x03\x04" + b"\x00" * 60, "a zip archive or an Excel workbook"),
    ("packed.csv", gzip.compress(EVENTS_TEXT.encode()), "gzip-compressed; name it .csv.gz"),
    ("empty.csv", b"", "the file is empty"),
    ("blank.csv", b"\n\n  \n", "the file is empty"),
    ("text_as.parquet", EVENTS_TEXT.encode(), "CSV text, not Parquet; name it .csv"),
    ("packed_as.parquet", gzip.compress(EVENTS_TEXT.encode()),
     "gzip-compressed; name it .csv.gz"),
])
def test_an_events_file_that_is_something_else_is_named_for_what_it_is(tmp_path, capsys, name,
                                                                      data, says):
    path = tmp_path / name
    path.write_bytes(_parquet_bytes() if data == "parquet" else data)
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert says in err and "Traceback" not in err and "WINDOWS-1252" not in err, err
    assert err.startswith(f"error: {path}"), err


def test_a_gzip_file_named_otherwise_says_how_to_name_it(tmp_path, capsys):
    path = tmp_path / "export_2026.gz"
    path.write_bytes(gzip.compress(EVENTS_TEXT.encode()))
    assert main(["retention", str(path)]) == 2
    assert "named .csv.gz or .tsv.gz" in capsys.readouterr().err


def test_an_uploaded_file_s_advice_names_the_upload_not_the_staged_copy(tmp_path):
    from growthlab import admin
    from growthlab.db import open_workspace
    from growthlab.kpis import check_events

    db = open_workspace(tmp_path / "w.db")
    latin1 = "user_id,event,timestamp\nu1,café,2026-03-01T10:00:00Z\n".encode("latin-1")
    with pytest.raises(InputError) as err:
        admin.check_data_file(db, "events", latin1, "mine.csv", check_events)
    assert "iconv -f WINDOWS-1252 -t UTF-8 mine.csv > utf8-mine.csv" in str(err.value)
    assert ".growthlab-upload" not in str(err.value)


@pytest.mark.parametrize("header,column", [
    ("user_id,event,timestamp,timestamp", "timestamp"),
    ("user_id,event,timestamp,User_ID", "user_id"),
])
def test_a_header_naming_a_needed_column_twice_is_refused(tmp_path, capsys, header, column):
    """Which of the two would be read is an accident of the reader; the person decides."""
    path = tmp_path / "events.csv"
    path.write_text(f"{header}\nu1,search,2026-03-01T10:00:00Z,2027-01-01T00:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:1: column {column!r} appears twice in the header" in err, err


def test_user_ids_a_spreadsheet_turned_into_rounded_numbers_are_refused(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nab12,search,2026-03-01T10:00:00Z\n"
                    "1.00E+19,search,2026-03-01T10:00:00Z\n1.00E+19,export,2026-03-02T10:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: column user_id: '1.00E+19'" in err and "as text" in err, err


def test_hexadecimal_user_ids_shaped_like_exponents_are_ids(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\n1e1318569860,search,2026-03-01T10:00:00Z\n"
                    "2e99,search,2026-03-01T11:00:00Z\nab12,search,2026-03-01T12:00:00Z\n")
    assert main(["retention", str(path)]) == 0, capsys.readouterr().err


@pytest.mark.parametrize("placeholder", ["null", "undefined", "None", "NaN", "(null)", "N/A"])
def test_a_user_id_that_stands_for_a_missing_one_is_refused_as_an_empty_one(tmp_path, capsys,
                                                                             placeholder):
    """Trackers and exports write a missing id as text: every anonymous event would then
    belong to one user called 'null', who reaches every milestone."""
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
                    f"{placeholder},page_view,2026-03-01T10:00:00Z\n"
                    f"{placeholder},search,2026-03-02T10:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: column user_id: {placeholder!r} is not a user id" in err, err
    assert "anonymous" in err, err


def test_a_user_id_written_with_and_without_spaces_around_it_is_refused(tmp_path, capsys):
    """'u1 ' and 'u1' would count as two users, halving that user's counts."""
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,signup,2026-03-01T10:00:00Z\n"
                    "u2,signup,2026-03-01T10:00:00Z\nu1 ,search,2026-03-02T10:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:4: column user_id: 'u1 ' and 'u1' are both user ids" in err, err
    assert "spaces" in err, err


def test_an_event_name_written_with_and_without_spaces_around_it_is_refused(tmp_path, capsys):
    """A rule counting 'search' would silently miss the rows written 'search '."""
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
                    "u2, search,2026-03-01T10:00:00Z\nu1,export,2026-03-02T10:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: column event: ' search' and 'search' are both event names" in err, err


@pytest.mark.parametrize("twin,other", [("u1\t", "u1"), (" u1", "u1 "), ("u1\u200b", "u1")])
def test_an_id_with_tabs_or_invisible_spaces_beside_another_spelling_is_refused(tmp_path, capsys,
                                                                                twin, other):
    path = tmp_path / "events.csv"
    path.write_text(f"user_id,event,timestamp\nu2,signup,2026-03-01T10:00:00Z\n"
                    f'"{other}",signup,2026-03-01T10:00:00Z\n"{twin}",search,2026-03-02T10:00:00Z\n',
                    encoding="utf-8")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert "are both user ids" in err and "spaces around them" in err, err


@pytest.mark.parametrize("placeholder", ["\\N", "NA", "anonymous"])
def test_more_spellings_of_a_missing_id_are_refused(tmp_path, capsys, placeholder):
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
                    f"{placeholder},page_view,2026-03-01T10:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    assert f"{path}:3: column user_id: {placeholder!r} is not a user id" in \
        capsys.readouterr().err


@pytest.mark.parametrize("row,says", [
    ("null,x,control,2026-03-01T10:00:00Z", "'null' is not a user id"),
    ('"u2 ",x,control,2026-03-01T10:00:00Z', "'u2 ' and 'u2' are both user ids"),
])
def test_assignments_with_a_missing_or_padded_id_are_refused_naming_the_line(tmp_path, capsys,
                                                                             row, says):
    """Phantom users with no events pushed the control's rate down and the sample ratio off."""
    (tmp_path / "e.csv").write_text("user_id,event,timestamp\nu1,signup,2026-03-01T10:00:00Z\n"
                                    "u2,signup,2026-03-01T10:00:00Z\n")
    (tmp_path / "a.csv").write_text("user_id,experiment,variant,assigned_at\n"
                                    "u1,x,treatment,2026-03-01T10:00:00Z\n"
                                    f"u2,x,control,2026-03-01T10:00:00Z\n{row}\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "s"\nname = "S"\n'
                                     'rule = "count(signup) >= 1"\n')
    assert main(["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.csv"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "x"]) == 2
    err = capsys.readouterr().err
    assert f"{tmp_path / 'a.csv'}:4: column user_id: {says}" in err, err


def test_ids_and_names_padded_the_same_way_everywhere_are_read(tmp_path, capsys):
    """Spaces alone are no mistake: only two spellings of one id or one name are."""
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\n u1,search ,2026-03-01T10:00:00Z\n"
                    " u2,search ,2026-03-02T10:00:00Z\n")
    assert main(["retention", str(path)]) == 0, capsys.readouterr().err


def test_an_empty_user_id_says_what_to_do_with_anonymous_events(tmp_path, capsys):
    path = tmp_path / "events.csv"
    path.write_text("user_id,event,timestamp\nu1,search,2026-03-01T10:00:00Z\n"
                    ",page_view,2026-03-01T10:00:00Z\n")
    assert main(["retention", str(path)]) == 2
    err = capsys.readouterr().err
    assert f"{path}:3: column user_id: user_id is empty" in err and "anonymous" in err, err


DOUBLE_EXPORT_WITH_A_MIDNIGHT = (
    "user_id,event,timestamp\n"
    "u1,signup,2026-01-04T09:15:00Z\nu1,export,2026-01-04T10:00:00Z\n"
    "u2,signup,2026-01-05T00:00:00Z\nu2,export,2026-01-05T00:00:00Z\n"  # a real midnight
    "u3,signup,2026-01-05T11:00:00Z\n"
    # the export job ran twice for these rows:
    "u1,export,2026-01-04T10:00:00Z\nu2,export,2026-01-05T00:00:00Z\n"
    "u3,signup,2026-01-05T11:00:00Z\n")


def test_one_repeat_at_midnight_does_not_stop_dropping_the_timed_duplicates(tmp_path, capsys):
    """A double export holds thousands of repeated rows with a time of day; one of them falls
    at exactly 00:00. That one may be two real events, but the others are retries: --dedupe
    drops the timed ones and keeps the midnight repeat, and the advice says so."""
    (tmp_path / "e.csv").write_text(DOUBLE_EXPORT_WITH_A_MIDNIGHT)
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "two"\nname = "Two exports"\n'
                                     'rule = "count(export) >= 2"\n')
    args = ["kpis", str(tmp_path / "e.csv"), "--milestones", str(tmp_path / "m.toml"), "--json"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "2 exact duplicate row(s)" in captured.err and "--dedupe" in captured.err
    assert "1 row(s) repeat" in captured.err and "no time of day" in captured.err
    assert json.loads(captured.out)["milestones"][0]["users"] == 2
    assert main([*args, "--dedupe"]) == 0
    captured = capsys.readouterr()
    assert "dropped 2 exact duplicate row(s)" in captured.err
    assert "kept" in captured.err and "no time of day" in captured.err
    assert json.loads(captured.out)["milestones"][0]["users"] == 1  # u2: midnight kept


@pytest.mark.parametrize("midnight,timed", [
    ("2026-01-05T00:00:00+02:00", "2026-01-04T23:10:00+02:00"),  # 22:00 UTC the day before
    ("2026-01-05 00:00-0500", "2026-01-05 09:30-05:00"),
    ("2026-01-05", "2026-01-05T09:30:00Z"),
])
def test_a_date_only_export_with_a_utc_offset_keeps_its_midnight_repeats(tmp_path, capsys,
                                                                         midnight, timed):
    """A date-only export writes local midnight with its offset (00:00+02:00 is 22:00 UTC): a
    repeat there may be a second real event that day, as at 00:00 UTC, so --dedupe keeps it;
    a repeat with a time of day is still a retry, and is dropped."""
    (tmp_path / "e.csv").write_text(
        "user_id,event,timestamp\n"
        f"u1,signup,{timed}\nu1,export,{timed}\nu1,export,{timed}\n"
        f"u2,signup,{midnight}\nu2,export,{midnight}\nu2,export,{midnight}\n")
    (tmp_path / "m.toml").write_text('[[milestones]]\nkey = "two"\nname = "Two exports"\n'
                                     'rule = "count(export) >= 2"\n')
    args = ["kpis", str(tmp_path / "e.csv"), "--milestones", str(tmp_path / "m.toml"), "--json",
            "--dedupe"]
    assert main(args) == 0
    captured = capsys.readouterr()
    assert "dropped 1 exact duplicate row(s)" in captured.err, captured.err
    assert "1 row(s) repeat" in captured.err and "no time of day" in captured.err, captured.err
    assert json.loads(captured.out)["milestones"][0]["users"] == 1  # u2, whose repeat is kept


def test_user_ids_stored_as_decimals_in_one_parquet_file_are_refused_naming_it(tmp_path, capsys):
    """pandas writes an integer id column that held a missing value as float64: that file's
    ids read as '100123.0' and match no '100123' in the other files, so each of those users
    would count twice (8,199 users instead of 8,000 on a real folder)."""
    import pandas as pd

    folder = tmp_path / "daily"
    folder.mkdir()
    pd.DataFrame({"user_id": ["1", "2"], "event": ["signup"] * 2, "timestamp": pd.to_datetime(
        ["2026-10-01 10:00", "2026-10-01 11:00"])}).to_parquet(folder / "day1.parquet")
    pd.DataFrame({"user_id": [1.0, 2.0], "event": ["search"] * 2, "timestamp": pd.to_datetime(
        ["2026-10-02 10:00", "2026-10-02 11:00"])}).to_parquet(folder / "day2.parquet")
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES)
    assert main(["kpis", str(folder), "--milestones", str(tmp_path / "m.toml")]) == 2
    err = capsys.readouterr().err
    assert "day2.parquet" in err and "user_id" in err and "decimal" in err
    assert "astype" in err  # what to do


def test_assignments_with_user_ids_stored_as_decimals_are_refused(tmp_path, capsys):
    import pandas as pd

    (tmp_path / "e.csv").write_text("user_id,event,timestamp\n1,visit,2026-10-01T10:00:00Z\n"
                                    "2,visit,2026-10-01T11:00:00Z\n")
    pd.DataFrame({"user_id": [1.0, 2.0], "experiment": ["x"] * 2,
                  "variant": ["control", "treatment"],
                  "assigned_at": pd.to_datetime(["2026-10-01 09:00"] * 2)}).to_parquet(
        tmp_path / "a.parquet")
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x)", "count(visit)"))
    assert main(["analyze-events", str(tmp_path / "e.csv"), str(tmp_path / "a.parquet"),
                 "--milestones", str(tmp_path / "m.toml"), "--experiment", "x"]) == 2
    err = capsys.readouterr().err
    assert "a.parquet" in err and "user_id" in err and "decimal" in err


def test_as_of_after_today_still_leaves_out_events_in_the_future(tmp_path, capsys, monkeypatch):
    """--as-of 2026-12-31 on 2026-11-29: the warning says events dated from 2026-12-01 on are
    left out, so they are, and --as-of then lies after the last real event (not after the row
    dated 2150), which is said too."""
    monkeypatch.setenv("GROWTHLAB_TODAY", "2026-11-29")
    (tmp_path / "e.csv").write_text(
        "user_id,event,timestamp\n1,signup,2026-10-01T10:00:00Z\n2,signup,2026-10-20T10:00:00Z\n"
        "3,signup,2026-12-24T10:00:00Z\n4,signup,2150-01-01T00:00:00Z\n")
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x)", "count(signup)"))
    assert main(["kpis", str(tmp_path / "e.csv"), "--milestones", str(tmp_path / "m.toml"),
                 "--as-of", "2026-12-31", "--json"]) == 0
    captured = capsys.readouterr()
    assert "2 event(s) dated on or after 2026-12-01" in captured.err
    assert json.loads(captured.out)["users"] == 2
    assert "after the last event (2026-10-20T10:00:00)" in captured.err



def test_a_file_of_dates_only_does_not_say_it_drops_what_it_keeps(tmp_path, capsys):
    """Every repeat is a date: with --dedupe nothing is dropped, and the warning must not say
    'kept while the others are dropped'."""
    case = WARNED / "events_dates_only.csv"
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES.replace("count(x) >= 1", "count(search) >= 2"))
    assert main(["kpis", str(case), "--milestones", str(tmp_path / "m.toml"), "--json",
                 "--dedupe"]) == 0
    err = capsys.readouterr().err
    assert "no time of day" in err and "dropped" not in err


def test_ids_written_both_as_decimals_and_as_integers_are_refused(tmp_path, capsys):
    """'100001.0' beside '100001' in one CSV: one user counted as two."""
    (tmp_path / "e.csv").write_text("user_id,event,timestamp\n100001,signup,2026-10-01T10:00:00Z\n"
                                    "100002,signup,2026-10-01T11:00:00Z\n"
                                    "100001.0,search,2026-10-02T10:00:00Z\n")
    (tmp_path / "m.toml").write_text(GOOD_MILESTONES)
    assert main(["kpis", str(tmp_path / "e.csv"), "--milestones", str(tmp_path / "m.toml")]) == 2
    err = capsys.readouterr().err
    assert "e.csv:4" in err and "'100001.0'" in err and "'100001'" in err
