"""`growthlab analyze` reads the results CSV by column and analyses it through the columnar
path; its output is byte for byte the row path's (read_results_csv + analyze)."""

import csv
import io
from contextlib import redirect_stdout
from pathlib import Path

import numpy as np
import orjson
import pytest
from test_results_table import program

from growthlab.cli import _print_analysis, main
from growthlab.errors import GrowthLabError, StatsError
from growthlab.io import read_results_csv
from growthlab.io_results import _byte_codes, _columns, _Unusual, read_results_columns
from growthlab.report import analysis_payload
from growthlab.stats import MetricRow, Options, analyze
from growthlab.stats.table import ResultColumns

CORPUS = Path(__file__).parent / "bad_inputs"
COLUMNS = ("experiment", "metric", "variant", "users", "conversions", "sum", "sum_squares",
           "pre_sum", "pre_sum_squares", "sum_product")


def write(path, rows: list[MetricRow]) -> None:
    with path.open("w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for r in rows:
            out.writerow(["" if getattr(r, c) is None else
                          (repr(getattr(r, c)) if isinstance(getattr(r, c), float) else
                           getattr(r, c)) for c in COLUMNS])


def experiments(seed: int) -> list[MetricRow]:
    """Three experiments interleaved, one with a single failing comparison."""
    rows = [MetricRow(**(r.__dict__ | {"experiment": e}))
            for e in ("EXP-1", "EXP-2") for r in program(seed + len(e), metrics=25)]
    rows.insert(7, MetricRow("flat", "control", 100, conversions=0, experiment="EXP-3"))
    rows.insert(40, MetricRow("flat", "b", 90, conversions=3, experiment="EXP-3"))
    return rows


def row_path(path, options: Options, json: bool) -> str:
    analysis = analyze(read_results_csv(path), options)
    if json:
        return orjson.dumps(analysis_payload(analysis), option=orjson.OPT_INDENT_2).decode() + "\n"
    out = io.StringIO()
    with redirect_stdout(out):
        _print_analysis(analysis, options)
    return out.getvalue()


OPTIONS = [
    ([], Options()), (["--correction", "holm"], Options(correction="holm")),
    (["--correction", "bh", "--difference", "absolute"],
     Options(correction="bh", difference="absolute")),
    (["--method", "bayesian", "--prior-sd", "0.2"], Options(method="bayesian", prior_sd=0.2)),
    (["--method", "sequential", "--correction", "bh"],
     Options(method="sequential", correction="bh")),
    (["--control", "b", "--alternative", "greater"], Options(control="b", alternative="greater")),
]


@pytest.mark.parametrize("seed", range(2))
@pytest.mark.parametrize("args,options", OPTIONS)
@pytest.mark.parametrize("json", [True, False])
def test_analyze_writes_what_the_row_path_writes(tmp_path, capsys, seed, args, options, json):
    path = tmp_path / "results.csv"
    write(path, experiments(seed))
    expected = row_path(path, options, json)
    assert main(["analyze", str(path), *args, *(["--json"] if json else [])]) == 0
    assert capsys.readouterr().out == expected
    assert "missing_treatment_row" in expected or not json


def test_one_experiment_without_an_experiment_column(tmp_path, capsys):
    path = tmp_path / "results.csv"
    path.write_text("metric,variant,users,conversions\ncv,control,1000,100\ncv,b,1000,130\n"
                    "cv,c,900,0\nsignup,control,1000,1000\nsignup,b,1000,1000\n")
    expected = row_path(path, Options(), json=True)
    assert main(["analyze", str(path), "--json"]) == 0
    assert capsys.readouterr().out == expected


def test_results_are_written_in_chunks_as_one_document(tmp_path, capsys):
    from growthlab.report import write_analysis_json
    from growthlab.stats.table import analyze_experiments

    path = tmp_path / "results.csv"
    write(path, experiments(3))
    analyses, srm = analyze_experiments(read_results_columns(path))
    out = io.StringIO()
    write_analysis_json(out, analyses, srm, chunk=7)
    assert out.getvalue() == row_path(path, Options(), json=True)


def test_ordinary_files_are_read_by_column_as_the_row_parser_reads_them(tmp_path):
    path = tmp_path / "results.csv"
    rows = experiments(4)
    write(path, rows)
    by_column = _columns(path.read_bytes())
    assert [p.experiment for p in by_column] == ["EXP-1", "EXP-3", "EXP-2"]
    expected = [ResultColumns.from_rows([r for r in read_results_csv(path) if r.experiment == e])
                for e in ("EXP-1", "EXP-3", "EXP-2")]
    for got, want in zip(by_column, expected, strict=True):
        assert [got.row(i) for i in range(len(got))] == [want.row(i) for i in range(len(want))]


def test_a_quoted_file_is_read_by_the_row_parser_with_the_same_output(tmp_path, capsys):
    path = tmp_path / "results.csv"
    path.write_text('metric,variant,users,conversions\n"cv, signup",control,1000,100\r\n'
                    '"cv, signup",b,1000,130\n\n')
    expected = row_path(path, Options(), json=True)
    assert main(["analyze", str(path), "--json"]) == 0
    assert capsys.readouterr().out == expected
    assert '"metric": "cv, signup"' in expected


def row_error(path) -> str:
    """The message the row path gives for a bad results file."""
    try:
        rows = read_results_csv(path)
    except GrowthLabError as exc:
        return f"error: {exc}\n"
    try:
        analyze(rows, Options())
    except StatsError as exc:
        return f"error: {path}: {exc}\n"
    raise AssertionError(f"{path.name} is accepted by the row path")


@pytest.mark.parametrize("case", sorted(CORPUS.glob("results_*")), ids=lambda p: p.name)
def test_bad_results_files_get_the_row_path_s_own_message(case, capsys):
    assert main(["analyze", str(case)]) == 2
    assert capsys.readouterr().err == row_error(case)


def test_a_file_of_many_small_experiments_gives_the_same_output(tmp_path, capsys):
    from growthlab.cli import COLUMNAR_EXPERIMENTS

    path = tmp_path / "results.csv"
    write(path, [MetricRow("cv", v, 1000, conversions=100 + 7 * (e % 5) * (v == "b"),
                           experiment=f"E{e}")
                 for e in range(COLUMNAR_EXPERIMENTS + 1) for v in ("control", "b")])
    expected = row_path(path, Options(correction="holm"), json=True)
    assert main(["analyze", str(path), "--json", "--correction", "holm"]) == 0
    assert capsys.readouterr().out == expected


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
@pytest.mark.parametrize("experiment", ["", "EXP 50% off", "EXP-1,EXP-2,EXP-3"])
def test_mixed_results_json_is_the_row_path_s_for_every_method(tmp_path, capsys, method,
                                                               experiment):
    """Proportions and means (some with CUPED), failing comparisons, one or several
    experiments, and a name with a % that a result template must not read as a placeholder."""
    names = experiment.split(",")
    rows, index = [], {}
    for r in program(7, metrics=40):
        i = index.setdefault(r.metric, len(index))
        rows.append(MetricRow(**(r.__dict__ | {"experiment": names[i % len(names)],
                                               "metric": f"{r.metric} {i}%" if i % 5 else
                                               r.metric})))
    path = tmp_path / "results.csv"
    write(path, rows)
    expected = row_path(path, Options(method=method), json=True)
    assert main(["analyze", str(path), "--json", "--method", method]) == 0
    assert capsys.readouterr().out == expected
    assert '"error": {' in expected and '"kind": "mean"' in expected


@pytest.mark.parametrize("zeros", [("-0", "0"), ("0", "-0")])
def test_a_zero_keeps_its_sign_as_the_row_path_writes_it(tmp_path, capsys, zeros):
    """0.0 == -0.0, so a column of both is not one repeated value: each is written as read."""
    path = tmp_path / "results.csv"
    path.write_text("metric,variant,users,conversions\nm,control,1000,100\n"
                    f"m,a,1000,{zeros[0]}\nm,b,1000,{zeros[1]}\n")
    expected = row_path(path, Options(), json=True)
    assert main(["analyze", str(path), "--json"]) == 0
    assert capsys.readouterr().out == expected
    assert '"mean": -0.0' in expected and '"mean": 0.0' in expected


def _styled(rows: list[MetricRow], style: str) -> bytes:
    """The rows as a results CSV written one of the ways people's tools write them."""
    columns = list(COLUMNS)
    if style == "no experiment column":
        columns.remove("experiment")

    def cell(r: MetricRow, column: str) -> str:
        value = getattr(r, column)
        if value is None:
            return ""
        if column in ("metric", "variant"):
            value = {"unicode": f"{value} é 日本😀", "long names": value + "x" * 80,
                     "padded": f"  {value} "}.get(style, value)
        elif column == "users":
            value = {"number forms": f"{value:.1f}", "16 digits": f"{int(value):016d}",
                     "padded": f" {int(value)} "}.get(style, int(value))
        elif isinstance(value, float):
            value = {"number forms": f"{value:E}", "huge and tiny": repr(value)}.get(
                style, repr(value))
        return f'"{value}"' if style == "quoted" else str(value)

    header = [c.upper() + " " if style == "header case" else c for c in columns]
    lines = [",".join(header + (["note"] if style == "extra column" else []))]
    for r in rows:
        lines.append(",".join([cell(r, c) for c in columns]
                              + (["free text"] if style == "extra column" else [])))
    newline = "\r\n" if style in ("crlf", "bom") else "\n"
    text = newline.join(lines) + ("" if style == "no final newline" else newline)
    return ("\ufeff" if style == "bom" else "").encode() + text.encode()


def _scaled(rows: list[MetricRow], factor: float) -> list[MetricRow]:
    """Mean metrics with every sum (and sum of squares) scaled, as in other units."""
    out = []
    for r in rows:
        scale = {"sum": factor, "pre_sum": factor, "sum_squares": factor**2,
                 "pre_sum_squares": factor**2, "sum_product": factor**2}
        out.append(MetricRow(**{k: (v * scale[k] if k in scale and v is not None else v)
                                for k, v in r.__dict__.items()}))
    return out


BYTE_READER_STYLES = ["plain", "crlf", "bom", "unicode", "long names", "padded", "number forms",
                      "16 digits", "huge and tiny", "no final newline", "extra column",
                      "no experiment column", "header case"]


@pytest.mark.parametrize("method", ["frequentist", "sequential", "bayesian"])
@pytest.mark.parametrize("style", [*BYTE_READER_STYLES, "quoted"])
def test_files_written_every_way_give_the_row_path_s_bytes(tmp_path, capsys, style, method):
    """The results CSV in varied shapes (CRLF, BOM, unicode and long names, padded fields,
    numbers as 1.5E+02 or with leading zeros, sums near 1e-30 and 1e30, quotes): `analyze
    --json` writes what the row parser and the row analysis write, byte for byte."""
    rows = experiments(5)
    if style == "huge and tiny":
        rows = _scaled(rows[:40], 1e-9) + _scaled(rows[40:], 1e9)
    if style == "no experiment column":
        rows = [r for r in rows if r.experiment == "EXP-1"]
    path = tmp_path / "results.csv"
    path.write_bytes(_styled(rows, style))
    expected = row_path(path, Options(method=method), json=True)
    assert main(["analyze", str(path), "--json", "--method", method]) == 0
    assert capsys.readouterr().out == expected
    assert '"error": {' in expected


@pytest.mark.parametrize("style", BYTE_READER_STYLES)
def test_files_of_every_shape_but_quoted_are_read_from_their_bytes(tmp_path, style):
    """The byte reader takes these files itself (the row parser is not what passes the test
    above), with each column, and each name's number, as the row parser's rows give them."""
    rows = experiments(6)
    if style == "no experiment column":
        rows = [r for r in rows if r.experiment == "EXP-1"]
    path = tmp_path / "results.csv"
    path.write_bytes(_styled(rows, style))
    by_column = _columns(path.read_bytes())
    by_row = read_results_csv(path)
    for got in by_column:
        want = ResultColumns.from_rows([r for r in by_row if r.experiment == got.experiment])
        assert [got.row(i) for i in range(len(got))] == [want.row(i) for i in range(len(want))]
        for name in ("metric_codes", "variant_codes"):
            names, codes = getattr(got, name)
            expected_names, expected_codes = getattr(want, name)
            assert names == expected_names
            assert codes.tolist() == expected_codes.tolist()


def test_names_whose_bytes_number_alike_are_told_apart():
    """Names are numbered by sorting a number made of their bytes; two names that make the
    same number are found out and numbered by their text instead."""
    factor = 0x9E3779B97F4A7C15
    second = np.frombuffer(b"ab" * 4, dtype=np.uint64)[0]
    twin = (int(second) - factor) % 2**64  # (1, twin) and (0, second) make the same number
    rows = np.zeros((2, 16), dtype=np.uint8)
    rows[0, :8] = np.frombuffer(np.uint64(1).tobytes(), dtype=np.uint8)
    rows[0, 8:] = np.frombuffer(np.uint64(twin).tobytes(), dtype=np.uint8)
    rows[1, 8:] = np.frombuffer(second.tobytes(), dtype=np.uint8)
    assert _byte_codes(rows) is None
    assert _byte_codes(rows[[0, 0, 1]]) is None
    first, codes = _byte_codes(rows[[1, 1, 1]])
    assert first.tolist() == [0] and codes.tolist() == [0, 0, 0]


@pytest.mark.parametrize("data", [
    b"metric,variant,users,conversions\ncv,control,0,0\ncv,b,100,12\n",
    b"metric;variant;users;conversions\ncv;control;100;10\ncv;b;100;12\n",
    b"metric\tvariant\tusers\tsum\tsum_squares\ncv\tcontrol\t100\t10,5\t20\ncv\tb\t100\t12\t30\n",
])
def test_files_the_byte_reader_cannot_vouch_for_go_to_the_row_parser(data):
    """A variant with no users (refused naming its line), fields split by semicolons
    or tabs (read with their decimal commas)."""
    with pytest.raises(_Unusual):
        _columns(data)
