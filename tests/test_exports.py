"""Exports ready for analysis: numbers as numbers in CSV, JSON and Parquet, in display units beside
the verbatim text, and an export that ingests back to the same export."""

from __future__ import annotations

import csv
import io
import json

import orjson
import pandas as pd
import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.catalog import export_csv, export_rows
from biomatdb.db import make_engine, migrate
from biomatdb.display import UnitChoice
from biomatdb.exports import EXPORT_COLUMNS, MEASUREMENT_FIELDS, blocks
from biomatdb.models import Material, Measurement
from biomatdb_ingest.fixtures import default_fixtures_dir, load_fixtures
from biomatdb_ingest.pipeline import IngestOptions, ingest_file

NUMBERS = [field.name for field in MEASUREMENT_FIELDS if field.type == "number"]
TEXTS = [field.name for field in MEASUREMENT_FIELDS if field.type == "string"]


@pytest.fixture(scope="module")
def fixture_export(fixtures_sqlite) -> dict[str, bytes]:
    """Every fixture, exported in each format."""
    engine = make_engine(f"sqlite:///{fixtures_sqlite.location}")
    try:
        with Session(engine) as session:
            exported = {name: b"".join(blocks(name, export_rows(session))) for name in ("csv", "json", "parquet")}
            measurements = session.scalar(select(func.count()).select_from(Measurement))
            unmeasured = session.scalar(select(func.count()).select_from(Material).where(~Material.measurements.any()))
    finally:
        engine.dispose()
    exported["counts"] = orjson.dumps([measurements, unmeasured])
    return exported


def test_the_full_fixture_csv_reads_into_pandas_as_numbers(fixture_export):
    """The CSV's value column held text in 363 cells ("380 to 400", ">=12", "~37")."""
    frame = pd.read_csv(io.BytesIO(fixture_export["csv"]), keep_default_na=False, na_values=[""])
    measurements, unmeasured = orjson.loads(fixture_export["counts"])
    assert len(frame) == measurements + unmeasured
    assert list(frame.columns) == EXPORT_COLUMNS
    numbers = frame[["value_min", "value_max"]].astype(float)
    assert all(frame[column].dtype == "float64" for column in NUMBERS)
    measured = frame[frame["property"].notna()]
    ranges = measured[measured["qualifier"] == "range"]
    assert len(ranges) > 200
    assert ranges["value"].isna().all() and (numbers.loc[ranges.index, "value_min"] <= ranges["value_max"]).all()
    points = measured[measured["qualifier"].isna()]
    assert len(points) > 9000 and (points["value"] == points["value_min"]).all()
    assert (points["value"] == points["value_max"]).all()
    lower = measured[measured["qualifier"].isin([">", ">="])]
    assert len(lower) > 0 and lower["value_max"].isna().all() and lower["value_min"].notna().all()
    terms = measured[measured["qualifier"] == "term"]
    assert terms[NUMBERS].isna().all().all() and terms["value_text"].notna().all()
    assert set(measured["qualifier"].dropna()) <= {"~", "range", ">", ">=", "<", "<=", "term"}
    # the verbatim text and unit stand beside the shown numbers: 130 K is shown as −143 °C
    assert (measured["verbatim_value"].notna()).mean() > 0.99
    written_in_kelvin = measured[(measured["verbatim_unit"] == "K") & (measured["unit"] == "°C")]
    assert len(written_in_kelvin) > 1000
    kelvin = written_in_kelvin["verbatim_value"].astype(float) - 273.15
    assert ((kelvin - written_in_kelvin["value_min"]).abs() <= 0.51 + written_in_kelvin["uncertainty"].fillna(0)).all()


def test_the_condition_temperature_is_a_number_in_the_display_unit_beside_its_text(fixture_export):
    frame = pd.read_csv(io.BytesIO(fixture_export["csv"]), keep_default_na=False, na_values=[""])
    assert frame["temperature_value"].dtype == "float64"
    tested = frame[frame["temperature"].notna()]
    assert len(tested) > 50
    assert tested["temperature_value"].notna().all() and set(tested["temperature_unit"]) == {"°C"}
    kelvin = tested["temperature"].str.removesuffix(" K").astype(float)
    assert ((kelvin - 273.15 - tested["temperature_value"]).abs() <= 0.5).all()
    as_text = pd.read_csv(io.BytesIO(fixture_export["csv"]), keep_default_na=False, dtype=str)
    at_25 = as_text[as_text["temperature"] == "298.15 K"]["temperature_value"]
    assert len(at_25) > 0 and set(at_25) == {"25"}  # 298.15 K is 25 °C, not 25.00
    untested = frame[frame["temperature"].isna()]
    assert untested["temperature_value"].isna().all() and untested["temperature_unit"].isna().all()
    table = pd.read_parquet(io.BytesIO(fixture_export["parquet"]))
    assert table["temperature_value"].dtype == "float64"
    assert table["temperature_value"].fillna(-1).tolist() == frame["temperature_value"].fillna(-1).tolist()


def test_the_json_export_has_numbers_booleans_and_nulls(fixture_export):
    rows = json.loads(fixture_export["json"])
    assert all(list(row) == EXPORT_COLUMNS for row in rows)
    for column in NUMBERS:
        assert {type(row[column]) for row in rows} == {float, type(None)}, column
    assert {type(row["biodegradable"]) for row in rows} == {bool, type(None)}
    for column in TEXTS:
        assert {type(row[column]) for row in rows} <= {str, type(None)}, column
    assert not any(row[column] == "" for row in rows for column in EXPORT_COLUMNS)
    csv_rows = list(csv.DictReader(io.StringIO(fixture_export["csv"].decode("utf-8"))))
    assert len(csv_rows) == len(rows)
    for as_json, as_csv in zip(rows, csv_rows, strict=True):
        for column in NUMBERS:
            assert as_json[column] == (float(as_csv[column]) if as_csv[column] else None)
        assert as_json["value_text"] == (as_csv["value_text"].removeprefix("'") or None)


def test_the_parquet_export_is_typed_and_holds_the_csv_values(fixture_export):
    table = pd.read_parquet(io.BytesIO(fixture_export["parquet"]))
    frame = pd.read_csv(io.BytesIO(fixture_export["csv"]), keep_default_na=False, na_values=[""], dtype=str)
    assert list(table.columns) == EXPORT_COLUMNS and len(table) == len(frame)
    for column in NUMBERS:
        assert table[column].dtype == "float64", column
        expected = frame[column].astype(float)
        assert ((table[column] == expected) | (table[column].isna() & expected.isna())).all(), column
    for column in ("id", "material", "property", "unit", "value_text", "verbatim_value", "doi"):
        assert pd.api.types.is_string_dtype(table[column]), column
    assert {type(flag) for flag in table["biodegradable"].dropna()} == {bool}
    assert table["id"].tolist() == frame["id"].tolist()
    assert table["value_text"].fillna("").tolist() == frame["value_text"].fillna("").str.removeprefix("'").tolist()


@pytest.fixture(scope="module")
def cited_core(tmp_path_factory):
    """Every fixture but PolyMetriX's: curated tables, the MD-simulated polymers and the evidence."""
    folder = tmp_path_factory.mktemp("cited-core")
    engine = make_engine(f"sqlite:///{folder / 'core.sqlite'}")
    migrate(engine)
    for name in ("curated", "evidence", "bicerano-afzal"):
        assert all(report.ok for _, report in load_fixtures(engine, default_fixtures_dir() / name))
    yield engine
    engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize("choice", [UnitChoice(), UnitChoice(system="US")], ids=["default units", "US"])
def test_an_export_ingests_back_to_the_same_export(cited_core, tmp_path, choice):
    """Export, ingest into a fresh core, export again: byte for byte the same file, the verbatim
    text and unit included, in every format."""
    with Session(cited_core) as session:
        first = "".join(export_csv(session, choice=choice))
        first_parquet = b"".join(blocks("parquet", export_rows(session, choice=choice)))
    (tmp_path / "export.csv").write_text(first, encoding="utf-8")
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    migrate(fresh)
    try:
        report = ingest_file(fresh, tmp_path / "export.csv", IngestOptions(dataset="round trip"))
        assert report.ok and report.warning_count == 0, (report.errors[:3], report.warnings[:3])
        with Session(fresh) as session:
            again = "".join(export_csv(session, choice=choice))
            again_parquet = b"".join(blocks("parquet", export_rows(session, choice=choice)))
    finally:
        fresh.dispose()
    assert len(first.splitlines()) > 2500
    assert again == first
    assert pd.read_parquet(io.BytesIO(again_parquet)).equals(pd.read_parquet(io.BytesIO(first_parquet)))


@pytest.mark.slow
def test_the_full_fixture_export_ingests_back_to_the_same_export(fixture_export, tmp_path):
    """Of the fixtures' 7,112 materials only 5,502 names are distinct (PolyMetriX's repeat units
    are shown by their formula): the export's ``id`` column keeps them apart on the way back."""
    (tmp_path / "export.csv").write_bytes(fixture_export["csv"])
    fresh = make_engine(f"sqlite:///{tmp_path / 'fresh.sqlite'}")
    migrate(fresh)
    try:
        assert ingest_file(fresh, tmp_path / "export.csv", IngestOptions(dataset="round trip")).ok
        with Session(fresh) as session:
            again = "".join(export_csv(session)).encode("utf-8")
    finally:
        fresh.dispose()
    assert again == fixture_export["csv"]


def test_the_cli_writes_parquet_to_a_file_and_to_stdout(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from biomatdb.cli import app
    from tests.test_pipeline import LONG_TSV

    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BIOMATDB_DATABASE_URL", raising=False)
    runner = CliRunner()
    (tmp_path / "long.tsv").write_text(LONG_TSV, encoding="utf-8")
    assert runner.invoke(app, ["ingest", str(tmp_path / "long.tsv")]).exit_code == 0
    written = runner.invoke(app, ["export", "--format", "parquet", "-o", str(tmp_path / "out.parquet")])
    assert written.exit_code == 0, written.output
    table = pd.read_parquet(tmp_path / "out.parquet")
    printed = runner.invoke(app, ["export", "--format", "parquet", "--unit-system", "US"])
    assert printed.exit_code == 0 and printed.stdout_bytes.startswith(b"PAR1")
    in_us = pd.read_parquet(io.BytesIO(printed.stdout_bytes))
    as_csv = pd.read_csv(io.StringIO(runner.invoke(app, ["export"]).stdout), keep_default_na=False, na_values=[""])
    assert len(table) == len(in_us) == len(as_csv) > 0
    assert table["value_min"].dtype == "float64"
    strength = table[(table["material"] == "PLLA") & (table["property"] == "tensile_strength")].iloc[0]
    assert (strength["value"], strength["unit"], strength["verbatim_value"], strength["verbatim_unit"]) == (
        49.99,
        "MPa",
        "7250",
        "psi",
    )
    # US strengths by magnitude, and a US unit it was written in is kept: 7250 psi (it read 7.25 ksi)
    (in_us_units,) = in_us[(in_us["material"] == "PLLA") & (in_us["property"] == "tensile_strength")].itertuples()
    assert in_us_units.unit == "psi" and float(in_us_units.value) == pytest.approx(7250)  # type: ignore[arg-type]
    assert runner.invoke(app, ["export", "--format", "xlsx"]).exit_code == 2
