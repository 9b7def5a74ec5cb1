"""The cell parser: a table of what labs write, and properties that hold for any input."""

import math
from typing import cast

import pandas as pd
import pytest
from hypothesis import given, settings, strategies as st

from biomatdb_ingest.cells import _EXPECTED, CellError, ParsedCell, parse_cell, parse_column
from tests.profiles import examples


def point(x, unit=None, uncertainty=None, qualifier="="):
    return ParsedCell(qualifier, x, x, x, uncertainty, unit)


def span(low, high, unit=None):
    return ParsedCell("range", None, low, high, None, unit)


@pytest.mark.parametrize(
    ("text", "decimal", "expected"),
    [
        ("110", ".", point(110.0)),
        ("90–100", ".", span(90.0, 100.0)),
        ("90 - 100", ".", span(90.0, 100.0)),
        ("90-100", ".", span(90.0, 100.0)),
        ("90 to 100", ".", span(90.0, 100.0)),
        ("2,4-3,3", ".", span(2.4, 3.3)),
        ("2,4-3,3", ",", span(2.4, 3.3)),
        ("110 ± 4", ".", point(110.0, uncertainty=4.0)),
        ("110±4", ".", point(110.0, uncertainty=4.0)),
        ("110 +/- 4", ".", point(110.0, uncertainty=4.0)),
        ("110 ± 4 MPa", ".", point(110.0, "MPa", 4.0)),
        (">1000", ".", ParsedCell(">", None, 1000.0, None, None, None)),
        ("> 60 days", ".", ParsedCell(">", None, 60.0, None, None, "days")),
        ("≥ 5", ".", ParsedCell(">=", None, 5.0, None, None, None)),
        ("<0.1", ".", ParsedCell("<", None, None, 0.1, None, None)),
        ("<= 5", ".", ParsedCell("<=", None, None, 5.0, None, None)),
        ("≈ 0,5", ".", point(0.5, qualifier="~")),
        ("~3", ".", point(3.0, qualifier="~")),
        ("ca. 3", ".", point(3.0, qualifier="~")),
        ("1.2e3", ".", point(1200.0)),
        ("1,2E+03", ".", point(1200.0)),
        ("1.5e-3", ".", point(0.0015)),
        ("−60", ".", point(-60.0)),
        ("+5", ".", point(5.0)),
        ("-10 - -5", ".", span(-10.0, -5.0)),
        ("−10–−5", ".", span(-10.0, -5.0)),
        ("(−65)–(−60)", ".", span(-65.0, -60.0)),  # as Middleton & Tipton print negative ranges
        ("(-65) - (-60) °C", ".", span(-65.0, -60.0, "°C")),
        ("-5-10", ".", span(-5.0, 10.0)),
        ("0,69 GPa", ".", point(0.69, "GPa")),
        ("45 %", ".", point(45.0, "%")),
        ("45%", ".", point(45.0, "%")),
        ("37 °C", ".", point(37.0, "°C")),
        ("90–100 MPa", ".", span(90.0, 100.0, "MPa")),
        ("3,5 MPa√m", ",", point(3.5, "MPa√m")),
        ("1,200", ",", point(1.2)),
        ("1.5", ",", point(1.5)),
        ("1.2345", ",", point(1.2345)),
        ("  7  ", ".", point(7.0)),
        ("7\u00a0GPa", ".", point(7.0, "GPa")),
        ("", ".", None),
        ("   ", ".", None),
        ("n.d.", ".", None),
        ("NA", ".", None),
        ("N/A", ".", None),
        ("—", ".", None),
        ("-", ".", None),
        (None, ".", None),
        (float("nan"), ".", None),
        (3.25, ".", point(3.25)),
    ],
)
def test_cells_labs_write(text, decimal, expected):
    assert parse_cell(text, decimal=decimal) == expected


@pytest.mark.parametrize(
    ("text", "error_type"),
    [
        ("abc", "type-error"),
        ("1 000", "type-error"),
        ("NaN", "non-finite-number"),
        ("nan", "non-finite-number"),
        ("inf", "non-finite-number"),
        ("-Infinity", "non-finite-number"),
        ("1e400", "non-finite-number"),
        (float("inf"), "non-finite-number"),
        ("1,200", "ambiguous-number"),
        ("12,500", "ambiguous-number"),
        ("1.234,5", "ambiguous-number"),
        ("100-90", "range-error"),
        (">5-10", "type-error"),
        ("5-10 ± 1", "type-error"),
        (">5 ± 1", "type-error"),
        ("GPa", "type-error"),
        ("110(5)", "type-error"),  # regression: the parentheses went and 1105 was read
        ("3.15(2)", "type-error"),
    ],
)
def test_what_cannot_be_read_is_an_error_with_a_reason(text, error_type):
    result = parse_cell(text)
    assert isinstance(result, CellError)
    assert result.type == error_type and result.message


@pytest.mark.parametrize("text", ["1.234", "3.600", "12.500 MPa", "1.200–1.500", ">2.000"])
def test_a_point_before_three_digits_is_ambiguous_in_a_decimal_comma_file(text):
    """A German spreadsheet writes 3600 as 3.600: in a file of decimal commas that is never read as 3.6."""
    result = parse_cell(text, decimal=",")
    assert isinstance(result, CellError) and result.type == "ambiguous-number", result
    assert parse_cell(text.replace(".", ""), decimal=",") is not None


def lab_format(x: float, decimal: str) -> str:
    text = repr(x)
    return text.replace(".", ",") if decimal == "," else text


finite = st.floats(allow_nan=False, allow_infinity=False, width=64)


@given(finite, st.sampled_from([".", ","]))
def test_any_float_written_by_a_lab_reads_back_exactly(x, decimal):
    assert parse_cell(lab_format(x, decimal), decimal=decimal) == point(x)


@given(finite, finite, st.sampled_from(["–", " - ", " to "]))
def test_ranges_read_back(a, b, separator):
    low, high = sorted((a, b))
    assert parse_cell(f"{low!r}{separator}{high!r}") == span(low, high)


unsigned = st.one_of(
    st.integers(0, 10**6).map(str),
    st.floats(0, 1e6).map(lambda x: f"{x:.3f}"),
    st.floats(0, 1e6).map(lambda x: f"{x:.2f}".replace(".", ",")),
    st.just("9" * 400),
)
# the shapes parse_column reads a column at a time, and near misses that must fall back to parse_cell
shaped = st.builds(
    lambda sign, space, a, separator, b, unit: f"{sign}{space}{a}{separator}{b if separator else ''}{unit}",
    st.sampled_from(["", ">", ">=", "≥", "<", "<=", "≤", "~", "≈", "-"]),
    st.sampled_from(["", " "]),
    unsigned,
    st.sampled_from(["", "–", "-", " - ", "±", " ± ", " to "]),
    unsigned,
    st.sampled_from(["", "", " MPa"]),
)
cells = st.one_of(
    st.text(max_size=12),
    shaped,
    finite.map(repr),
    st.tuples(finite, finite).map(lambda ab: f"{min(ab)!r}–{max(ab)!r}"),
    st.sampled_from(
        [
            "",
            "n.d.",
            "NaN",
            ">60",
            "~3",
            "110 ± 4 MPa",
            "0,69 GPa",
            "1,200",
            "inf",
            "abc",
            "amorphous",
            "Not detected",
            "NB",
            "amorphous-ish",
        ]
    ),
)


@settings(max_examples=examples(400))
@given(st.lists(cells, max_size=30), st.sampled_from([".", ","]))
def test_column_agrees_with_cells_and_never_raises(texts, decimal):
    series = pd.Series(texts, index=range(1, len(texts) + 1), dtype=object)
    frame, errors = parse_column(series, decimal=decimal)
    assert set(frame.index).isdisjoint(label for label, _, _ in errors)
    for label, text in series.items():
        single = parse_cell(text, decimal=decimal)
        if single is None:
            assert label not in frame.index and label not in {e[0] for e in errors}
        elif isinstance(single, CellError):
            assert (label, text, single) in errors
        else:
            row = cast(pd.Series, frame.loc[cast(int, label)])
            assert row["qualifier"] == single.qualifier
            for field in ("value", "low", "high", "uncertainty"):
                ours, theirs = float(row[field]), getattr(single, field)
                assert (theirs is None and math.isnan(ours)) or ours == theirs
            assert row["unit"] == single.unit
            assert row["qualitative"] == single.qualitative


def qualitative(key):
    return ParsedCell("term", None, None, None, None, None, key)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("amorphous", qualitative("amorphous")),
        ("  Amorphous ", qualitative("amorphous")),
        ("amorphous (no Tm)", qualitative("amorphous")),
        ("not applicable", qualitative("not_applicable")),
        ("None detected", qualitative("not_detected")),
        ("< LOD", qualitative("not_detected")),
        ("not determined", qualitative("not_determined")),
        ("No melting point", qualitative("no_melting_point")),
        ("NB", qualitative("did_not_break")),
        ("non-degradable", qualitative("non_degradable")),
        # abbreviations that mean two things stay no measurement, as documented
        ("n.d.", None),
        ("N/A", None),
        ("NA", None),
        ("none", None),
        # near misses are no term: refused as before
        ("amorphous-ish", CellError("type-error", _EXPECTED)),
        ("mostly amorphous", CellError("type-error", _EXPECTED)),
    ],
)
def test_qualitative_cells_are_read_as_their_vocabulary_term(text, expected):
    assert parse_cell(text) == expected


def test_plain_numeric_columns_take_the_fast_path_in_bulk():
    series = pd.Series([str(i / 8) for i in range(100_000)], index=range(1, 100_001))
    frame, errors = parse_column(series)
    assert not errors and len(frame) == 100_000
    assert frame["value"].iloc[-1] == 99_999 / 8
