"""PMF surveys: numbers computed by hand from first principles, the CLI contract, history."""

import json
import math

import pytest

from growthlab import survey
from growthlab.cli import main
from growthlab.db import open_workspace
from growthlab.errors import InputError

Z = 1.959963984540054  # the 97.5% normal quantile


def hand_wilson(k: int, n: int) -> tuple[float, float]:
    p = k / n
    denominator = 1 + Z**2 / n
    centre = p + Z**2 / (2 * n)
    spread = Z * math.sqrt(p * (1 - p) / n + Z**2 / (4 * n**2))
    return (centre - spread) / denominator, (centre + spread) / denominator


def responses_csv() -> str:
    """48 still use the product (18 very disappointed), 2 no longer use it; NPS from 20
    answers: 10 promoters, 6 passives, 4 detractors; CES from 4 answers."""
    rows = ["respondent_id,pmf,segment,ces,nps,benefit"]
    answers = (["Very disappointed"] * 18 + ["somewhat disappointed"] * 20
               + ["not disappointed"] * 10 + ["No longer use"] * 2)
    nps = [10] * 6 + [9] * 4 + [8] * 3 + [7] * 3 + [6, 3, 0, 5]
    ces = {0: 2, 1: 3, 2: 5, 3: 7}
    for i, answer in enumerate(answers):
        segment = "Agency" if i % 2 == 0 else "In-house"
        benefit = {0: "Export to docs", 2: " export  to DOCS", 4: "Export to docs",
                   1: "Shared lists"}.get(i, "")
        rows.append(f"r{i},{answer},{segment},{ces.get(i, '')},"
                    f"{nps[i] if i < len(nps) else ''},{benefit}")
    return "\n".join(rows) + "\n"


def test_survey_json_matches_hand_computed_numbers(tmp_path, capsys):
    path = tmp_path / "responses.csv"
    path.write_text(responses_csv())
    assert main(["survey", str(path), "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["responses"] == 50
    low, high = hand_wilson(18, 48)
    assert out["pmf"] == pytest.approx({"answered": 48, "very_disappointed": 18,
                                        "share": 0.375, "ci_low": low, "ci_high": high,
                                        "meets_40": False})
    # On paper: centre (0.375 + 0.04001) / 1.08003 = 0.38426, half-width 0.14268 / 1.08003
    assert (round(low, 4), round(high, 4)) == (0.2522, 0.5164)
    assert out["nps"] == {"answered": 20, "score": pytest.approx((10 - 4) / 20 * 100)}
    assert out["ces"] == {"answered": 4, "mean": pytest.approx((2 + 3 + 5 + 7) / 4)}
    # Very disappointed: rows 0-17, so even rows are Agency (9 of 24 answered, row 48 left)
    agency, in_house = out["by_segment"]
    assert agency["segment"] == "Agency" and agency["answered"] == 24
    assert agency["very_disappointed"] == 9 and in_house["very_disappointed"] == 9
    assert in_house["answered"] == 24  # r49 no longer uses it; r47 not disappointed counts
    assert [b["benefit"] for b in out["main_benefit"]] == ["Export to docs", "Shared lists"]
    assert out["main_benefit"][0]["respondents"] == 3


def test_wilson_agrees_with_statsmodels():
    from statsmodels.stats.proportion import proportion_confint

    assert survey.wilson(18, 48) == pytest.approx(proportion_confint(18, 48, method="wilson"))


def test_meets_40_at_the_line_and_nobody_answered():
    at_line = [survey.Response(f"r{i}", "very disappointed" if i < 4 else "not disappointed")
               for i in range(10)]
    assert survey.pmf(at_line)["meets_40"] is True
    gone = [survey.Response("r1", "no longer use")]
    assert survey.pmf(gone) == {"answered": 0, "very_disappointed": 0, "share": None,
                                "ci_low": None, "ci_high": None, "meets_40": False}


@pytest.mark.parametrize("k,n", [(0, 5), (5, 5), (1, 1), (200, 400), (3, 1000)])
def test_wilson_agrees_with_the_formula_and_stays_in_0_1(k, n):
    low, high = survey.wilson(k, n)
    assert (low, high) == pytest.approx(hand_wilson(k, n), abs=1e-12)
    assert 0 <= low <= k / n <= high <= 1


def test_unknown_answer_is_exit_2_naming_file_and_line(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text("respondent_id,pmf\nr1,very disappointed\nr2,meh\n")
    assert main(["survey", str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith(f"error: {path}:3: column pmf: 'meh'")


def test_text_output_names_the_40_percent_line(tmp_path, capsys):
    path = tmp_path / "r.csv"
    path.write_text(responses_csv())
    assert main(["survey", str(path)]) == 0
    out = capsys.readouterr().out
    assert "37.5% very disappointed" in out and "below the 40% line" in out
    assert "NPS +30" in out


def test_history_over_imported_surveys(tmp_path):
    db = open_workspace(tmp_path / "w.db")
    first = [survey.Response(f"a{i}", "very disappointed" if i < 3 else "not disappointed")
             for i in range(10)]
    second = [survey.Response(f"b{i}", "very disappointed" if i < 5 else "not disappointed",
                              nps=10) for i in range(10)]
    survey.import_survey(db, name="Spring", taken_on="2026-03-01", responses=first)
    survey.import_survey(db, name="Summer", taken_on="2026-06-01", responses=second)
    history = survey.history(db)
    assert [(h["survey"], h["share"], h["nps"]) for h in history] == [
        ("Spring", 0.3, None), ("Summer", 0.5, 100.0)]
    assert survey.responses(db, survey.surveys(db)[0]["id"]) == second


@pytest.mark.parametrize("name,day,message", [
    ("", "2026-01-01", "name the survey"), ("Q1", "01/02/2026", "not a date"),
    ("Q1", "2300-01-01", "outside 1900-2199")])
def test_import_refuses_unnamed_or_undated_surveys(tmp_path, name, day, message):
    db = open_workspace(tmp_path / "w.db")
    with pytest.raises(Exception, match=message):
        survey.import_survey(db, name=name, taken_on=day,
                             responses=[survey.Response("r", "not disappointed")])
    assert db["surveys"].count == 0


def test_form_exports_read_scores_with_their_labels_and_spreadsheet_decimals():
    # Typeform / Google Forms export "10 - Extremely likely"; pandas writes 9.0 beside blanks.
    data = ("respondent_id,pmf,ces,nps\nr1,Very disappointed,7 - Very easy,"
            "10 - Extremely likely\nr2,not disappointed,2.0,0 – Not at all likely\n"
            "r3,not disappointed,,9.0\n").encode()
    rows = survey.parse_responses_csv(data)
    assert [(r.ces, r.nps) for r in rows] == [(7, 10), (2, 0), (None, 9)]


@pytest.mark.parametrize("raw", ["9.5", "10 or 9", "11 - Beyond", "-1", "1e1", "nine"])
def test_scores_that_are_not_one_whole_number_are_still_refused(raw):
    data = f"respondent_id,pmf,nps\nr1,very disappointed,{raw}\n".encode()
    with pytest.raises(InputError) as err:
        survey.parse_responses_csv(data)
    assert (err.value.line, err.value.column) == (2, "nps")


def test_segments_spelled_differently_are_one_segment():
    answers = [survey.Response("r1", "very disappointed", "Agency"),
               survey.Response("r2", "not disappointed", "agency "),
               survey.Response("r3", "very disappointed", " Agency"),
               survey.Response("r4", "not disappointed", "In-house")]
    rows = survey.by_segment(answers)
    assert [(r["segment"], r["answered"], r["very_disappointed"]) for r in rows] == [
        ("Agency", 3, 2), ("In-house", 1, 0)]


def test_a_segment_for_every_respondent_still_adds_up():
    # A free-text column (a company name) mapped to segment makes a segment per respondent.
    answers = [survey.Response(f"r{i}", "very disappointed" if i % 3 else "no longer use",
                               f"S{i % 2_000}") for i in range(6_000)]
    rows = survey.by_segment(answers)
    assert len(rows) == 2_000 and sum(r["answered"] for r in rows) == 4_000
    assert rows[0]["segment"] == "S0" and rows[0]["answered"] == 2


def test_the_questions_own_wording_from_a_form_export_reads():
    # Sean Ellis' answer options as Google Forms / Typeform export them.
    data = ("respondent_id,pmf\nr1,Very disappointed\nr2,Somewhat disappointed\n"
            "r3,Not disappointed (it isn't really that useful)\n"
            "r4,N/A - I no longer use Scout\nr5,N/A \u2013 I no longer use it\n").encode()
    assert [r.pmf for r in survey.parse_responses_csv(data)] == [
        "very disappointed", "somewhat disappointed", "not disappointed", "no longer use",
        "no longer use"]


@pytest.mark.parametrize("raw", ["Very disappointed?", "not very disappointed", "N/A",
                                 "disappointed (very)", "I no longer use"])
def test_other_answers_are_still_refused(raw):
    with pytest.raises(InputError) as err:
        survey.parse_responses_csv(f"respondent_id,pmf\nr1,{raw}\n".encode())
    assert (err.value.line, err.value.column) == (2, "pmf")


def test_a_verdict_says_when_the_interval_spans_the_40_percent_line(tmp_path, capsys):
    """One respondent at 100% has not shown product-market fit: the verdict says the answers
    are too few, wherever the share itself falls."""
    one = survey.pmf([survey.Response("r1", "very disappointed")])
    assert one["meets_40"] is True and one["ci_low"] < 0.40
    assert survey.verdict(one) == ("meets the 40% line, but its 95% interval spans the line: "
                                   "1 answer cannot tell which side it is on")
    # Exactly on the line, many answers cannot tell either: the wording blames no sample size.
    on_line = survey.pmf([survey.Response(f"r{i}", "very disappointed" if i < 400 else "x")
                          for i in range(1000)])
    assert survey.verdict(on_line).endswith("1,000 answers cannot tell which side it is on")
    clear = survey.pmf([survey.Response(f"r{i}", "very disappointed" if i < 70 else "x")
                        for i in range(100)])
    assert clear["ci_low"] > 0.40 and survey.verdict(clear) == "meets the 40% line"
    low = survey.pmf([survey.Response(f"r{i}", "very disappointed" if i < 10 else "x")
                      for i in range(100)])
    assert low["ci_high"] < 0.40 and survey.verdict(low) == "below the 40% line"
    path = tmp_path / "r.csv"
    path.write_text("respondent_id,pmf,segment\nr1,very disappointed,Solo\n"
                    + "".join(f"r{i},not disappointed,Team\n" for i in range(2, 60)))
    assert main(["survey", str(path)]) == 0
    solo = next(line for line in capsys.readouterr().out.splitlines()
                if line.startswith("Solo"))
    assert solo.endswith("1 answer cannot tell which side it is on")
