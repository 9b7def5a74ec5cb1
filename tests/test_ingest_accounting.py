"""No row that gives a value goes nowhere: each is loaded, refused with an error naming it, or
skipped with a warning naming it, and the report's row counts add up to the rows read. The
export's number columns (value, value_min, value_max, qualifier) load where its value text is
empty or missing, on SQLite and PostgreSQL."""

from __future__ import annotations

import csv
import io

import pandas as pd
import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from biomatdb.exports import EXPORT_COLUMNS
from biomatdb.models import Measurement
from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest.accounting import account_rows
from biomatdb_ingest.mapping import map_columns
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_ingest.report import Report
from tests.conftest import snapshot

# (property, value, value_min, value_max, qualifier, uncertainty, unit, value_text) as the export
# writes them, and what each must load as: (qualifier, value_min, value_max, uncertainty) in the
# canonical unit (MPa, GPa, %, K)
EXPORTED = [
    ("tensile_strength", "50", "50", "50", "", "", "MPa", "50", ("=", 50.0, 50.0, None)),
    ("tensile_strength", "", "50", "70", "range", "", "MPa", "50 to 70", ("range", 50.0, 70.0, None)),
    ("youngs_modulus", "3.5", "3.5", "3.5", "~", "", "GPa", "~3.5", ("~", 3.5, 3.5, None)),
    ("elongation_at_break", "", "2", "", ">", "", "%", ">2", (">", 2.0, None, None)),
    ("elongation_at_break", "", "4", "", ">=", "", "%", ">=4", (">=", 4.0, None, None)),
    ("tensile_strength", "", "", "120", "<=", "", "MPa", "<=120", ("<=", None, 120.0, None)),
    ("glass_transition_temperature", "60", "60", "60", "", "2", "°C", "60", ("=", 333.15, 333.15, 2.0)),
]


def export_csv(rows, *, value_text: str = "kept") -> str:
    """A file with the export's header and these rows; ``value_text`` "kept", "emptied" or "dropped"."""
    columns = [c for c in EXPORT_COLUMNS if not (value_text == "dropped" and c == "value_text")]
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=columns, lineterminator="\n")
    writer.writeheader()
    for index, (prop, value, low, high, qualifier, uncertainty, unit, text, _) in enumerate(rows):
        row = dict.fromkeys(columns, "")
        row.update(
            id=f"bm-acct{index}",
            material=f"Material {index}",
            **{"class": "polymer"},
            property=prop,
            value=value,
            value_min=low,
            value_max=high,
            qualifier=qualifier,
            uncertainty=uncertainty,
            unit=unit,
            source="Test handbook 2001",
        )
        if value_text != "dropped":
            row["value_text"] = text if value_text == "kept" else ""
        writer.writerow(row)
    return out.getvalue()


def write(tmp_path, name: str, text: str):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8", newline="")
    return path


def stored(engine) -> list[tuple]:
    with Session(engine) as session:
        rows = session.execute(
            select(
                Measurement.property_key,
                Measurement.qualifier,
                Measurement.value_min,
                Measurement.value_max,
                Measurement.uncertainty,
            ).order_by(Measurement.id)
        ).all()
    return sorted(
        (
            (key, qualifier, *(None if x is None else pytest.approx(x) for x in (low, high, spread)))
            for key, qualifier, low, high, spread in rows
        ),
        key=lambda measurement: measurement[:2],
    )


def expected(rows) -> list[tuple]:
    return sorted(
        (
            (prop, qualifier, *(None if x is None else pytest.approx(x) for x in (low, high, spread)))
            for prop, *_, (qualifier, low, high, spread) in rows
        ),
        key=lambda measurement: measurement[:2],
    )


def assert_accounted(report: Report) -> None:
    counts = report.as_dict()["counts"]
    assert (
        counts["rows_loaded"] + counts["rows_refused"] + counts["rows_warned"] + counts["rows_empty"]
        == counts["rows_read"]
    )


@pytest.mark.parametrize("value_text", ["kept", "emptied", "dropped"])
def test_the_exports_numbers_load_whatever_its_value_text_holds(engine, tmp_path, value_text):
    """The adversarial reviewer's file: the export's headers, value_text empty, value and unit
    filled, once loaded "0 measurements added" without a word."""
    report = ingest_file(engine, write(tmp_path, "export.csv", export_csv(EXPORTED, value_text=value_text)))
    assert report.ok, report.errors
    assert [issue.type for issue in report.warnings] == []
    assert report.measurements_added == len(EXPORTED)
    assert (report.rows_read, report.rows_loaded) == (len(EXPORTED), len(EXPORTED))
    assert_accounted(report)
    assert stored(engine) == expected(EXPORTED)


@pytest.mark.parametrize(
    ("edit", "column", "value", "says"),
    [
        ({"value_min": "55"}, "value_text", "50 to 70", "say different values"),  # an edit of one of the two
        ({"value_text": "", "value_max": ""}, "value_min", "50", "value_max is empty"),
        ({"value_text": "", "qualifier": "between"}, "qualifier", "between", "unknown qualifier"),
        ({"value_text": "", "qualifier": ""}, "value_min", "50", "a value needs"),
        ({"value_text": "", "value_min": "fifty"}, "value_min", "fifty", "expected a number"),
    ],
)
def test_numbers_that_make_no_value_refuse_the_row_by_name(engine, tmp_path, edit, column, value, says):
    """A range row (50 to 70 MPa) edited so that its numbers make no value, or another value than
    its text: refused, naming the row, the column and the cell; the database unchanged."""
    frame = pd.read_csv(io.StringIO(export_csv(EXPORTED[:2])), dtype=str, keep_default_na=False)
    for key, cell in edit.items():
        frame.loc[1, key] = cell
    if edit.get("qualifier") == "":
        frame.loc[1, "value_max"] = ""
    before = snapshot(engine)
    report = ingest_file(engine, write(tmp_path, "edited.csv", frame.to_csv(index=False)))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("value-columns", 2, column, value)]
    assert says in report.errors[0].message
    assert (report.rows_loaded, report.rows_refused) == (1, 1)
    assert_accounted(report)
    assert snapshot(engine) == before


@pytest.mark.parametrize(
    ("row", "edit", "column", "value"),
    [
        (0, {"value_min": "56"}, "value_min", "56"),  # a point of 50 whose value_min says 56
        (0, {"value_text": "", "value_max": "49"}, "value_max", "49"),
        (3, {"value_max": "2"}, "value_max", "2"),  # a bound > 2 has no upper end
    ],
)
def test_an_end_that_disagrees_with_the_value_refuses_the_row(engine, tmp_path, row, edit, column, value):
    """``value 55, value_min 56`` loaded as 55 and ``> 900`` with a value_max of 900 as > 900: the
    edited end was ignored. Every end given must be an end of the value the row makes."""
    frame = pd.read_csv(io.StringIO(export_csv(EXPORTED[:4])), dtype=str, keep_default_na=False)
    for key, cell in edit.items():
        frame.loc[row, key] = cell
    before = snapshot(engine)
    report = ingest_file(engine, write(tmp_path, "ends.csv", frame.to_csv(index=False)))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("value-columns", row + 1, column, value)]
    assert_accounted(report)
    assert snapshot(engine) == before


def test_a_verbatim_value_without_its_value_is_refused_not_dropped(engine, tmp_path):
    """A row whose value cells were all emptied but whose verbatim value still says 110 was counted
    as loaded, with no measurement and no issue."""
    frame = pd.read_csv(io.StringIO(export_csv(EXPORTED[:2])), dtype=str, keep_default_na=False)
    frame["verbatim_value"] = frame["verbatim_value"].astype(object)
    frame.loc[0, ["value_text", "value", "value_min", "value_max", "qualifier"]] = ""
    frame.loc[0, "verbatim_value"] = "110"
    before = snapshot(engine)
    report = ingest_file(engine, write(tmp_path, "verbatim.csv", frame.to_csv(index=False)))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [
        ("value-columns", 1, "verbatim_value", "110")
    ]
    assert_accounted(report)
    assert snapshot(engine) == before


def test_a_qualitative_value_without_its_words_is_refused(engine, tmp_path):
    frame = pd.read_csv(io.StringIO(export_csv(EXPORTED[:1])), dtype=str, keep_default_na=False)
    frame.loc[0, ["value", "value_min", "value_max", "qualifier", "unit", "value_text"]] = ["", "", "", "term", "", ""]
    report = ingest_file(engine, write(tmp_path, "term.csv", frame.to_csv(index=False)))
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("value-columns", 1, "qualifier", "term")]


def test_a_qualitative_value_loads_from_its_verbatim_words_without_value_text(engine, tmp_path):
    """An export without its value_text column: a term's words are its verbatim value."""
    frame = pd.read_csv(io.StringIO(export_csv(EXPORTED[:1], value_text="dropped")), dtype=str, keep_default_na=False)
    frame.loc[0, ["property", "value", "value_min", "value_max", "qualifier", "unit", "verbatim_value"]] = [
        "melting_temperature",
        "",
        "",
        "",
        "term",
        "",
        "Amorphous",
    ]
    report = ingest_file(engine, write(tmp_path, "term.csv", frame.to_csv(index=False)))
    assert report.ok, report.errors
    with Session(engine) as session:
        assert session.execute(select(Measurement.qualifier, Measurement.qualitative)).all() == [("term", "amorphous")]


def test_a_long_file_with_a_unit_column_accounts_for_every_row(engine, tmp_path):
    """A value, a value with a spread, a placeholder (no measurement), a spread without a value
    (refused: it would vanish), a row of placeholders (empty) and a row that names nothing."""
    text = (
        "Material,Property,Value,Unit,SD,Notes\n"
        "PLLA,E,3.5,GPa,0.2,\n"
        "PLLA,UTS,n.d.,MPa,,\n"
        "PLLA,Tg,,°C,2,\n"
        ",,n.d.,,,\n"
        ",,,,,stray note\n"
        "PCL,UTS,23,MPa,,\n"
    )
    refused = ingest_file(engine, write(tmp_path, "long.csv", text))
    assert [(e.type, e.row, e.column, e.value) for e in refused.errors] == [("missing-value", 3, "SD", "2")]
    counts = refused.as_dict()["counts"]
    assert (counts["rows_loaded"], counts["rows_refused"], counts["rows_warned"], counts["rows_empty"]) == (3, 1, 1, 1)
    assert [(w.type, w.row) for w in refused.warnings] == [("ignored-row", 5)]
    assert_accounted(refused)
    skipped = ingest_file(engine, write(tmp_path, "long.csv", text), IngestOptions(skip_invalid=True))
    assert skipped.loaded and skipped.measurements_added == 2 and skipped.rows_skipped == 1
    assert_accounted(skipped)


def test_a_wide_file_accounts_for_every_row(engine, tmp_path):
    text = (
        "Material,Class,Tensile strength (MPa),Density [g/cm3],Source\n"
        "PLLA,polymer,50–70,1.25,Test handbook 2001\n"
        "Ti-6Al-4V,metal,,4.43,Test handbook 2001\n"
        "PEEK,polymer,,,\n"
        ",,,,Test handbook 2001\n"
        ",,—,NA,\n"
    )
    report = ingest_file(engine, write(tmp_path, "wide.csv", text))
    assert report.ok and report.loaded and report.measurements_added == 3
    counts = report.as_dict()["counts"]
    assert (counts["rows_loaded"], counts["rows_refused"], counts["rows_warned"], counts["rows_empty"]) == (3, 0, 1, 1)
    assert [(w.type, w.row) for w in report.warnings] == [("ignored-row", 4)]
    assert_accounted(report)


def test_a_value_column_in_a_wide_file_is_warned_not_dropped_quietly(engine, tmp_path):
    """Without a Property column a Value column means nothing: the curator is told."""
    report = ingest_file(engine, write(tmp_path, "wide.csv", "Material,Value,Unit\nPLLA,3.5,GPa\n"))
    assert [(w.type, w.column) for w in report.warnings] == [("unknown-column", "Value")]


def test_the_exports_temperature_loads_from_its_value_and_unit(engine, tmp_path):
    frame = pd.read_csv(io.StringIO(export_csv(EXPORTED[:1])), dtype=str, keep_default_na=False)
    frame.loc[0, ["temperature", "temperature_value", "temperature_unit"]] = ["", "37", "°C"]
    report = ingest_file(engine, write(tmp_path, "temperature.csv", frame.to_csv(index=False)))
    assert report.ok, report.errors
    with Session(engine) as session:
        (temperature_K,) = session.scalars(select(Measurement.temperature_K)).all()
    assert temperature_K == pytest.approx(310.15)


def test_a_value_that_yields_nothing_is_refused_as_unaccounted():
    """The check itself, on a chunk whose normalising (as if broken) gave no measurement: the value
    is refused by row, column and cell rather than dropped."""
    header = ["Material", "Property", "Value", "Unit"]
    chunk = pd.DataFrame([["PLLA", "E", "3.5", "GPa"], ["PCL", "E", "0.4", "GPa"]], index=[1, 2], columns=[0, 1, 2, 3])
    cmap = map_columns(header, get_vocabulary())
    measured = pd.DataFrame({"row": [2], "source_column": ["Value"]})
    tally, issues = account_rows(
        chunk, cmap, measured=measured, named_rows={1, 2}, error_rows=set(), warning_rows=set()
    )
    assert [(i.type, i.row, i.column, i.value) for i in issues] == [("unaccounted-value", 1, "Value", "3.5")]
    assert (tally.loaded, tally.refused, tally.warned, tally.empty) == (1, 1, 0, 0)
