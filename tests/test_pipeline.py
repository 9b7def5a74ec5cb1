"""The whole pipeline on SQLite and PostgreSQL: messy files load, bad files change nothing."""

from __future__ import annotations

import json
import time

import pytest
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from biomatdb.catalog import find_material, material_json
from biomatdb.models import Dataset, DatasetUpload, Material, Measurement
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_search.core_sql import PG_SEARCH_VECTOR
from tests.conftest import snapshot

# Test data only: 10.5555 is Crossref's reserved example prefix; the citations are not real works.
WIDE_CSV = (
    'Material,Class,SMILES,Young\'s modulus [GPa],Tensile strength (MPa),"Density, g/cm³",Tg (°C),Source\n'
    'PLLA,polymer,*O[C@@H](C)C(=O)*,"3,5",50–70,1.25,60 ± 2,doi:10.5555/test.plla\n'
    "Ti-6Al-4V,alloy,,110,>860,4.43,,Test handbook 2001\n"
    'PCL,biopolymer,*OCCCCCC(=O)*,0.4,"0,69 GPa",1.145,−60,Test handbook 2001\n'
)
LONG_TSV = (
    "Material\tProperty\tValue\tUnit\tTemperature\tMedium\tMethod\tSource\n"
    "PLLA\tE\t3.2\tGPa\t37 °C\tPBS\tISO 527\tTest review 2010\n"
    "PLLA\tUTS\t7250\tpsi\t\t\t\tTest review 2010\n"
    "PLLA\tdegradation time\t>24\tmonth\t37 °C\tPBS\t\tTest review 2010\n"
    "Cortical bone\tE\t7–30\tGPa\t\t\t\tTest review 2010\n"
    "Cortical bone\tWCA\t~60\t°\t\t\t\tTest review 2010\n"
)


def write(tmp_path, name: str, text: str | bytes, encoding: str = "utf-8"):
    path = tmp_path / name
    if isinstance(text, bytes):
        path.write_bytes(text)
    else:
        path.write_text(text, encoding=encoding, newline="")
    return path


def measurements(engine, material: str) -> dict[str, list[dict]]:
    with Session(engine) as session:
        document = material_json(find_material(session, material))
    result: dict[str, list[dict]] = {}
    for m in document["measurements"]:
        result.setdefault(m["property"], []).append(m)
    return result


def test_wide_messy_csv_loads_in_canonical_units(engine, tmp_path):
    report = ingest_file(engine, write(tmp_path, "wide.csv", WIDE_CSV))
    assert report.ok, report.errors
    assert report.loaded
    assert (report.materials_created, report.measurements_added, report.rows_read) == (3, 11, 3)
    plla = measurements(engine, "PLLA")
    assert plla["youngs_modulus"][0]["value"] == 3.5
    assert plla["tensile_strength"][0]["qualifier"] == "range"
    assert (plla["tensile_strength"][0]["value_min"], plla["tensile_strength"][0]["value_max"]) == (50, 70)
    tg = plla["glass_transition_temperature"][0]
    assert tg["value"] == pytest.approx(333.15)
    assert tg["uncertainty"] == pytest.approx(2)  # a width in °C is a difference
    assert tg["verbatim"] == {"value": "60 ± 2", "unit": "°C"}
    assert tg["source"]["doi"] == "10.5555/test.plla"
    ti = measurements(engine, "Ti-6Al-4V")
    assert ti["tensile_strength"][0]["qualifier"] == ">"
    assert ti["tensile_strength"][0]["value_min"] == 860 and ti["tensile_strength"][0]["value_max"] is None
    pcl = measurements(engine, "PCL")
    assert pcl["tensile_strength"][0]["value"] == pytest.approx(690)  # inline unit overrides the header
    assert pcl["glass_transition_temperature"][0]["value"] == pytest.approx(213.15)
    with Session(engine) as session:
        assert find_material(session, "Ti-6Al-4V").material_class == "metal"
        assert find_material(session, "PCL").material_class == "polymer"
        structure = find_material(session, "PLLA").structure
        assert structure is not None and structure.canonical_smiles == "*O[C@@H](C)C(*)=O"


def test_long_tsv_with_conditions_and_unit_conversion(engine, tmp_path):
    report = ingest_file(engine, write(tmp_path, "long.tsv", LONG_TSV))
    assert report.ok, report.errors
    plla = measurements(engine, "PLLA")
    e = plla["youngs_modulus"][0]
    assert e["conditions"]["temperature_K"] == pytest.approx(310.15)
    assert e["conditions"]["medium"] == "PBS" and e["conditions"]["method"] == "ISO 527"
    assert plla["tensile_strength"][0]["value"] == pytest.approx(49.987, rel=1e-4)
    degradation = plla["degradation_time"][0]
    assert degradation["qualifier"] == ">" and degradation["value_min"] == pytest.approx(730.5)
    bone = measurements(engine, "cortical bone")
    assert bone["water_contact_angle"][0]["qualifier"] == "~"


def test_semicolon_file_with_decimal_commas_and_cp1252(engine, tmp_path):
    text = "Material;Class;Porosity (%);Compressive strength [MPa];Pore size [µm]\nHA porös;ceramic;60;2,5-4,5;150\n"
    report = ingest_file(engine, write(tmp_path, "eu.csv", text, encoding="cp1252"))
    assert report.ok, report.errors
    values = measurements(engine, "HA porös")
    assert (values["compressive_strength"][0]["value_min"], values["compressive_strength"][0]["value_max"]) == (
        2.5,
        4.5,
    )
    assert values["pore_size"][0]["verbatim"]["unit"] == "µm"


def test_xlsx_and_json_load_like_csv(engine, tmp_path):
    import pandas as pd

    frame = pd.DataFrame({"Material": ["PEEK"], "Class": ["polymer"], "E (GPa)": [3.6], "Density (g/cm3)": [1.3]})
    xlsx = tmp_path / "sheet.xlsx"
    frame.to_excel(xlsx, index=False, engine="openpyxl")
    assert ingest_file(engine, xlsx).ok
    records = [
        {
            "name": "Alumina",
            "class": "ceramic",
            "measurements": [
                {"property": "density", "value": "3.98", "unit": "g/cm3"},
                {"property": "hardness_vickers", "value": "1800", "unit": "HV"},
            ],
        }
    ]
    report = ingest_file(engine, write(tmp_path, "records.json", json.dumps(records)))
    assert report.ok, report.errors
    assert measurements(engine, "PEEK")["youngs_modulus"][0]["value"] == 3.6
    assert measurements(engine, "alumina")["hardness_vickers"][0]["value"] == 1800


def test_reingesting_the_same_file_changes_nothing(engine, tmp_path):
    path = write(tmp_path, "wide.csv", WIDE_CSV)
    ingest_file(engine, path)
    before = snapshot(engine)
    report = ingest_file(engine, path)
    assert report.unchanged and report.loaded
    assert snapshot(engine) == before


def test_a_changed_file_replaces_the_dataset_and_records_what_changed(engine, tmp_path):
    ingest_file(engine, write(tmp_path, "lab.csv", WIDE_CSV))
    changed = WIDE_CSV.replace('"3,5"', "3.9").replace(
        'PCL,biopolymer,*OCCCCCC(=O)*,0.4,"0,69 GPa",1.145,−60,Test handbook 2001\n', ""
    )
    report = ingest_file(engine, write(tmp_path, "lab.csv", changed))
    assert report.ok and report.loaded
    assert report.measurements_updated == 1  # PLLA's modulus
    assert report.measurements_removed == 4  # PCL's four values left the file
    assert report.measurements_added == 0
    assert report.measurements_unchanged == 6
    with Session(engine) as session:
        assert session.scalar(select(func.count()).select_from(Measurement)) == 7
        assert session.scalar(select(func.count()).where(Material.name == "PCL")) == 0
        uploads = session.scalars(select(DatasetUpload).order_by(DatasetUpload.id)).all()
        assert [u.measurements_added for u in uploads] == [11, 0]
        assert uploads[1].measurements_removed == 4
    assert measurements(engine, "PLLA")["youngs_modulus"][0]["value"] == 3.9


def test_same_structure_across_datasets_is_one_material(engine, tmp_path):
    ingest_file(engine, write(tmp_path, "a.csv", WIDE_CSV))
    other = "Polymer name,SMILES,Tg (K)\nPoly(L-lactide),*O[C@@H](C)C(*)=O,330\n"
    report = ingest_file(engine, write(tmp_path, "b.csv", other))
    assert report.ok, report.errors
    assert report.materials_created == 0 and report.materials_updated == 1
    plla = measurements(engine, "Poly(L-lactide)")
    assert len(plla["glass_transition_temperature"]) == 2
    assert {m["dataset"] for m in plla["glass_transition_temperature"]} == {"a", "b"}


def test_skip_invalid_loads_valid_rows_and_reports_the_rest(engine, tmp_path):
    text = "Material,Density (g/cm3),Porosity (%)\nGood,1.2,50\nBad,-1,50\nAlso good,2.0,10\n"
    strict = ingest_file(engine, write(tmp_path, "mixed.csv", text))
    assert not strict.loaded
    report = ingest_file(engine, write(tmp_path, "mixed.csv", text), IngestOptions(skip_invalid=True))
    assert report.loaded and report.rows_skipped == 1
    assert [(e.row, e.column, e.type) for e in report.errors] == [(2, "Density (g/cm3)", "constraint-error")]
    with Session(engine) as session:
        names = set(session.scalars(select(Material.name)))
    assert names == {"Good", "Also good"}


def test_dry_run_reports_and_changes_nothing(engine, tmp_path):
    before = snapshot(engine)
    report = ingest_file(engine, write(tmp_path, "wide.csv", WIDE_CSV), IngestOptions(dry_run=True))
    assert report.ok and not report.loaded and report.measurements_added == 11
    assert snapshot(engine) == before


BAD_FILES: dict[str, tuple[str, str | bytes, str, int | None]] = {
    "malformed": ("bad.csv", "Material,Density (g/cm3)\nA,1.2\nB,1.3,extra,cells\n", "extra-cell", 2),
    "wrong unit": ("bad.csv", "Material,Density (MPa)\nA,1.2\n", "unit-error", None),
    "wrong inline unit": ("bad.csv", "Material,Density (g/cm3)\nA,1.2\nB,3 MPa\n", "unit-error", 2),
    "unknown unit": ("bad.csv", "Material,Tensile strength\nA,50 blorps\n", "unknown-unit", 1),
    "invalid smiles": ("bad.csv", "Material,SMILES,Density (g/cm3)\nA,C1CC(,1.2\n", "structure-error", 1),
    "valence": ("bad.csv", "Material,SMILES,Density (g/cm3)\nA,C(C)(C)(C)(C)C,1.2\n", "structure-error", 1),
    "duplicate headers": ("bad.csv", "Material,Density (g/cm3),Density (g/cm3)\nA,1.2,1.3\n", "duplicate-label", None),
    "empty file": ("bad.csv", "", "empty-file", None),
    "header only": ("bad.csv", "Material,Density (g/cm3)\n", "empty-table", None),
    "binary": ("bad.csv", b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x00", "format-error", None),
    "nul bytes": ("bad.csv", b"Material,Density (g/cm3)\nA,1.2\x00\n", "encoding-error", None),
    "nan": ("bad.csv", "Material,Density (g/cm3)\nA,NaN\n", "non-finite-number", 1),
    "inf": ("bad.csv", "Material,Density (g/cm3)\nA,inf\n", "non-finite-number", 1),
    "overflow": ("bad.csv", "Material,Density (g/cm3)\nA,1e400\n", "non-finite-number", 1),
    "negative density": ("bad.csv", "Material,Density (g/cm3)\nA,1.1\nB,-1.2\n", "constraint-error", 2),
    "porosity over 100": ("bad.csv", "Material,Porosity (%)\nA,101\n", "constraint-error", 1),
    "below absolute zero": ("bad.csv", "Material,Tg (°C)\nA,-300\n", "constraint-error", 1),
    "unknown class": ("bad.csv", "Material,Class,Density (g/cm3)\nA,unobtainium,1\n", "unknown-class", 1),
    "bad doi": ("bad.csv", "Material,Density (g/cm3),DOI\nA,1,10.12/x\n", "doi-error", 1),
    "unknown property": (
        "bad.tsv",
        "Material\tProperty\tValue\tUnit\nA\tflux capacitance\t3\tGPa\n",
        "unknown-property",
        1,
    ),
    "no name": ("bad.csv", "Material,Density (g/cm3)\nA,1\n,2\n", "missing-value", 2),
}


@pytest.mark.parametrize("case", list(BAD_FILES))
def test_bad_input_is_refused_precisely_and_changes_nothing(engine, tmp_path, case):
    ingest_file(engine, write(tmp_path, "good.csv", WIDE_CSV))
    before = snapshot(engine)
    name, content, error_type, row = BAD_FILES[case]
    report = ingest_file(engine, write(tmp_path, name, content))
    assert not report.loaded
    assert error_type in {e.type for e in report.errors}, report.errors
    if row is not None:
        assert row in {e.row for e in report.errors if e.type == error_type}
    assert all(e.message for e in report.errors)
    assert snapshot(engine) == before


@pytest.mark.slow
def test_a_valid_row_then_a_million_empty_rows_loads_quickly(engine, tmp_path):
    path = tmp_path / "padded.csv"
    with path.open("w") as handle:
        handle.write("Material;Density (g/cm3);Porosity (%)\nA;1,2;40\n")
        handle.write(";;\n" * 1_000_000)
    started = time.perf_counter()
    report = ingest_file(engine, path)
    elapsed = time.perf_counter() - started
    print(f"1 row + 1,000,000 empty rows ingested in {elapsed:.2f} s")
    assert report.ok, report.errors
    assert report.rows_read == 1 and report.measurements_added == 2


def test_the_dataset_keeps_license_source_and_counts(engine, tmp_path):
    options = IngestOptions(dataset="lab-2026", license="CC-BY-4.0", source="doi:10.5555/test.dataset")
    ingest_file(engine, write(tmp_path, "x.csv", "Material,Density (g/cm3)\nA,1\n"), options)
    with Session(engine) as session:
        dataset = session.scalars(select(Dataset).where(Dataset.name == "lab-2026")).one()
        assert dataset.license == "CC-BY-4.0"
        assert dataset.source is not None and dataset.source.doi == "10.5555/test.dataset"
        assert dataset.rows_read == 1 and dataset.checksum
        measurement = session.scalars(select(Measurement)).one()
        assert measurement.source is not None and measurement.source.doi == "10.5555/test.dataset"
        assert (measurement.source_row, measurement.source_column) == (1, "Density (g/cm3)")


def test_search_text_written_at_creation_is_what_a_refresh_computes(engine, tmp_path):
    from biomatdb.searchtext import refresh_search_text

    assert ingest_file(engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    assert ingest_file(engine, write(tmp_path, "long.tsv", LONG_TSV)).loaded
    with engine.connect() as connection:
        written = dict(connection.execute(select(Material.id, Material.search_text)).all())
    assert all(written.values())
    with engine.begin() as connection:
        refresh_search_text(connection, written)
        refreshed = dict(connection.execute(select(Material.id, Material.search_text)).all())
    assert refreshed == written


def test_new_materials_take_the_next_ids_and_are_found_by_full_text_search(engine, tmp_path):
    """Materials are written with ids chosen before the insert (SQLite: the largest plus one, as
    SQLite itself gives them; PostgreSQL: the table's sequence), many rows a statement: each is
    still in the full-text index, and the ids follow on from those already stored."""
    from sqlalchemy import text

    assert ingest_file(engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    with engine.connect() as connection:
        first_ids = sorted(connection.execute(select(Material.id)).scalars())
    rows = "".join(
        f"Bulk material {number},density,{1 + number / 1000},g/cm3,Test bulk 2020\n" for number in range(1200)
    )
    assert ingest_file(engine, write(tmp_path, "bulk.csv", "Material,Property,Value,Unit,Source\n" + rows)).loaded
    with engine.connect() as connection:
        new_ids = sorted(set(connection.execute(select(Material.id)).scalars()) - set(first_ids))
        if engine.dialect.name == "sqlite":
            connection.execute(text("INSERT INTO materials_fts(materials_fts) VALUES ('integrity-check')"))
            found = connection.execute(
                text("SELECT count(*) FROM materials_fts WHERE materials_fts MATCH 'bulk AND material'")
            ).scalar()
        else:
            found = connection.execute(
                text(f"SELECT count(*) FROM materials WHERE {PG_SEARCH_VECTOR} @@ 'bulk & material'::tsquery")
            ).scalar()
    assert new_ids == list(range(max(first_ids) + 1, max(first_ids) + 1 + 1200))
    assert found == 1200


def test_the_load_page_cache_is_given_back_after_the_load(sqlite_engine, tmp_path):
    from biomatdb.db import LOAD_CACHE_KIB

    with sqlite_engine.connect() as connection:
        before = connection.exec_driver_sql("PRAGMA cache_size").scalar()
    assert before != -LOAD_CACHE_KIB
    assert ingest_file(sqlite_engine, write(tmp_path, "wide.csv", WIDE_CSV)).loaded
    pooled = [sqlite_engine.connect() for _ in range(sqlite_engine.pool.checkedin())]  # the load's among them
    assert pooled and all(c.exec_driver_sql("PRAGMA cache_size").scalar() == before for c in pooled)
    for connection in pooled:
        connection.close()


def test_retracting_a_dataset_removes_the_synonyms_and_applications_it_gave_other_materials(engine, tmp_path):
    from biomatdb.models import Material, MaterialApplication, MaterialSynonym
    from biomatdb_ingest.retract import retract_dataset
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.model import Query

    first = tmp_path / "first.csv"
    first.write_text(
        "Material,Synonyms,Class,Application,Property,Value,Unit\n"
        "Alphamer,Alpha one,polymer,orthopaedic,tensile strength,10,MPa\n",
        encoding="utf-8",
    )
    second = tmp_path / "second.csv"
    second.write_text(
        "Material,Synonyms,Class,Application,Property,Value,Unit\n"
        "Alphamer,Zetaname,polymer,dental,tensile strength,12,MPa\n",
        encoding="utf-8",
    )
    assert ingest_file(engine, first).loaded
    assert ingest_file(engine, second).loaded

    def details() -> tuple[set[str], set[str], str]:
        with engine.connect() as connection:
            synonyms = set(connection.execute(select(MaterialSynonym.synonym)).scalars())
            applications = set(connection.execute(select(MaterialApplication.application)).scalars())
            text = connection.execute(select(Material.search_text)).scalar_one()
        return synonyms, applications, text

    synonyms, applications, text = details()
    # the search text holds folded words
    assert (
        {"Zetaname", "Alpha one"} <= synonyms
        and applications == {"orthopaedic", "dental"}
        and "zetaname" in text.split()
    )
    assert SqlBackend(engine).search(Query(text="zetaname")).total == 1
    with engine.begin() as connection:
        dataset_id = connection.execute(select(Dataset.id).where(Dataset.name == "second")).scalar_one()
        retract_dataset(connection, dataset_id)
    synonyms, applications, text = details()
    assert "Zetaname" not in synonyms and "Alpha one" in synonyms
    assert applications == {"orthopaedic"} and "zetaname" not in text.split() and "dental" not in text.split()
    assert SqlBackend(engine).search(Query(text="zetaname")).total == 0


def test_stale_staging_is_told_by_process_identity_not_pid_alone(tmp_path):
    """Found in review: a pid alone named the folder, so a reused pid (or the same pid in another
    container sharing the data folder) decided wrongly whether its ingest was alive."""
    import os
    import socket

    from biomatdb_ingest.pipeline import _STAGING_PREFIX, _staging_owner, remove_stale_staging

    ours = tmp_path / f"{_STAGING_PREFIX}{_staging_owner()}-abc123"
    reused_pid = tmp_path / f"{_STAGING_PREFIX}{os.getpid()}.1.{socket.gethostname()}-def456"
    other_host_fresh = tmp_path / f"{_STAGING_PREFIX}{os.getpid()}.1.elsewhere-ghi789"
    other_host_old = tmp_path / f"{_STAGING_PREFIX}1.1.elsewhere-jkl012"
    for folder in (ours, reused_pid, other_host_fresh, other_host_old):
        folder.mkdir()
    os.utime(other_host_old, (time.time() - 2 * 86_400, time.time() - 2 * 86_400))
    assert remove_stale_staging(tmp_path) == 2
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted([ours.name, other_host_fresh.name])


@pytest.mark.slow
def test_retraction_keeps_a_synonym_another_dataset_still_states(engine, tmp_path):
    """Found in review: retracting the dataset that first added a synonym removed it although a
    later dataset named the material by it, and that dataset's next upload made a duplicate."""
    from biomatdb.models import Material, MaterialApplication, MaterialSynonym
    from biomatdb_ingest.retract import retract_dataset

    files = {
        "base": "Material,Class,Property,Value,Unit\nAlphamer,polymer,tensile strength,10,MPa\n",
        "first": "Material,Synonyms,Class,Application,Property,Value,Unit\n"
        "Alphamer,Alpha one,polymer,dental,tensile strength,11,MPa\n",
        "second": "Material,Class,Application,Property,Value,Unit\nAlpha one,polymer,dental,tensile strength,12,MPa\n",
    }
    for name, text in files.items():
        path = tmp_path / f"{name}.csv"
        path.write_text(text, encoding="utf-8")
        assert ingest_file(engine, path).loaded, name
    with engine.begin() as connection:
        retract_dataset(connection, connection.execute(select(Dataset.id).where(Dataset.name == "first")).scalar_one())
    with engine.connect() as connection:
        # a material's own name is one of its synonyms (docs/identity.md)
        assert set(connection.execute(select(MaterialSynonym.synonym)).scalars()) == {"Alphamer", "Alpha one"}
        assert set(connection.execute(select(MaterialApplication.application)).scalars()) == {"dental"}
    again = ingest_file(engine, tmp_path / "second.csv", IngestOptions(dataset="second"))
    assert again.loaded or again.unchanged
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Material)).scalar() == 1
    with engine.begin() as connection:
        retract_dataset(connection, connection.execute(select(Dataset.id).where(Dataset.name == "second")).scalar_one())
    with engine.connect() as connection:
        # the base dataset's own name for it stays: base still measures it
        assert list(connection.execute(select(MaterialSynonym.synonym)).scalars()) == ["Alphamer"]
        assert list(connection.execute(select(MaterialApplication.application)).scalars()) == []


@pytest.mark.parametrize(
    ("text", "expected_gpa"),
    [
        # the locants of a name are no decimal commas: this file was read as decimal-comma and refused
        ('Material,Property,Value,Unit\n"Poly(1,4-butylene adipate)",E,1.234,GPa\n', 1.234),
        (
            (
                'Material,Property,Value,Unit\n"Poly(1,4-butylene adipate)",E,1.234,GPa\n'
                '"Poly(2,5-furandicarboxylate)",E,2.5,GPa\n'
            ),
            1.234,
        ),
        ('Material,E (GPa),Notes\n"Poly(1,4-butylene adipate)",1.234,"2,5 mm/min; 23 °C"\n', 1.234),
        # European files keep their decimal commas, names with locants or not
        ("Material;Property;Value;Unit\nPoly(1,4-butylene adipate);E;1,234;GPa\n", 1.234),
        ("Material;E (GPa);Density (g/cm3)\nPoly(1,4-butylene adipate);1,234;1,25\n", 1.234),
    ],
)
def test_numbers_inside_names_do_not_decide_the_decimal_mark(sqlite_engine, tmp_path, text, expected_gpa):
    report = ingest_file(sqlite_engine, write(tmp_path, "locants.csv", text))
    assert report.loaded, report.errors
    modulus = measurements(sqlite_engine, "Poly(1,4-butylene adipate)")["youngs_modulus"]
    assert [(m["value"], m["unit"]) for m in modulus] == [(expected_gpa, "GPa")]


@pytest.mark.parametrize(
    ("text", "column"),
    [
        ('Material,Property,Value,Unit\n"Poly(1,4-butylene adipate)",E,"0,35",GPa\nPCL,E,1.234,GPa\n', "Value"),
        ('Material,E (GPa)\n"Poly(1,4-butylene adipate)","0,35"\nPCL,1.234\n', "E (GPa)"),
    ],
)
def test_a_file_that_writes_both_decimal_marks_is_still_refused_as_ambiguous(sqlite_engine, tmp_path, text, column):
    """A decimal comma among the values (0,35) makes the file decimal-comma, so 1.234 may be 1234."""
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, write(tmp_path, "mixed.csv", text))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("ambiguous-number", 2, column, "1.234")]
    assert "'1.234'" in report.errors[0].message and "decimal commas" in report.errors[0].message
    assert snapshot(sqlite_engine) == before


def test_every_issue_of_a_json_upload_names_the_json_path_of_its_value(sqlite_engine, tmp_path):
    """A JSON upload's errors named a row of the flattened table, which the curator never saw."""
    document = {
        "source": "Test review 2010",
        "materials": [
            {"name": "PLLA", "class": "polymer", "measurements": [{"property": "E", "value": 3.5, "unit": "GPa"}]},
            {
                "name": "PCL",
                "class": "polymer",
                "colour": "white",
                "measurements": [
                    {"property": "E", "value": 0.4, "unit": "GPa"},
                    {"property": "Tg", "value": "abc", "unit": "°C"},
                ],
            },
            {
                "name": "Ti-6Al-4V",
                "class": "metall",
                "measurements": [
                    {"property": "density", "value": -4.4, "unit": "g/cm3"},
                    {"property": "E", "value": 110},
                ],
            },
        ],
    }
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, write(tmp_path, "deep.json", json.dumps(document))).as_dict()
    assert not report["loaded"] and snapshot(sqlite_engine) == before
    located = sorted(
        (issue["type"], issue["row"], issue["column"], issue["value"], issue["path"])
        for issue in report["errors"] + report["warnings"]
    )
    assert located == [
        ("constraint-error", 4, "value", "-4.4", "$.materials[2].measurements[0].value"),
        ("type-error", 3, "value", "abc", "$.materials[1].measurements[1].value"),
        ("unit-error", 5, "value", "110", "$.materials[2].measurements[1].value"),
        ("unknown-class", 4, "class", "metall", "$.materials[2].class"),
        ("unknown-column", None, "colour", None, "$.materials[*].colour"),
    ]
    as_csv = ingest_file(sqlite_engine, write(tmp_path, "flat.csv", "Material,E (GPa)\nPEEK,abc\n")).as_dict()
    assert set(as_csv["errors"][0]) == {"type", "message", "row", "column", "value"}  # no path outside JSON


# Qualitative cells: "amorphous" in a melting-point column is a fact, not a number and not an error.
QUALITATIVE_CSV = (
    "Material,Class,Tg (°C),Tm (°C),Density (g/cm3)\n"
    "PDLLA,polymer,55,amorphous,1.25\n"
    "PLLA,polymer,60,175,1.25\n"
    "PEG 400,polymer,Not determined,no melting point,1.13\n"
    "Silk fibroin,natural,n.d.,,1.35\n"
)


def test_a_qualitative_cell_is_stored_as_a_fact_without_a_value(engine, tmp_path):
    report = ingest_file(engine, write(tmp_path, "qualitative.csv", QUALITATIVE_CSV))
    assert report.loaded, report.errors
    assert report.measurements_added == 10  # "n.d." and the empty cell are still no measurement
    (tm,) = measurements(engine, "PDLLA")["melting_temperature"]
    assert {
        k: tm[k]
        for k in (
            "qualifier",
            "qualitative",
            "value",
            "value_min",
            "value_max",
            "uncertainty",
            "unit",
            "text",
            "verbatim",
        )
    } == {
        "qualifier": "term",
        "qualitative": "amorphous",
        "value": None,
        "value_min": None,
        "value_max": None,
        "uncertainty": None,
        "unit": "K",
        "text": "amorphous",
        "verbatim": {"value": "amorphous", "unit": "°C"},
    }
    peg = measurements(engine, "PEG 400")
    assert [
        (m["qualitative"], m["text"]) for m in peg["glass_transition_temperature"] + peg["melting_temperature"]
    ] == [("not_determined", "not determined"), ("no_melting_point", "no melting point")]
    assert "glass_transition_temperature" not in measurements(engine, "Silk fibroin")
    with engine.connect() as connection:  # the column itself, as COPY (PostgreSQL) and executemany wrote it
        stored = connection.execute(
            select(Measurement.qualitative, Measurement.qualifier)
            .where(Measurement.qualitative.is_not(None))
            .order_by(Measurement.qualitative)
        ).all()
    assert [tuple(row) for row in stored] == [
        ("amorphous", "term"),
        ("no_melting_point", "term"),
        ("not_determined", "term"),
    ]
    assert ingest_file(engine, write(tmp_path, "qualitative.csv", QUALITATIVE_CSV)).unchanged


@pytest.mark.parametrize(
    ("filter_text", "expected"),
    [
        # a range never meets a qualitative measurement, and "has" means a value is known
        ("Tm > 0 degC", ["PLLA"]),
        ("Tm in 0..100000 K", ["PLLA"]),
        ("Tm < 1000 degC", ["PLLA"]),
        ("has Tm", ["PLLA"]),
        ("has Tm WHERE dataset = qualitative", ["PLLA"]),
        ("NOT has Tm", ["PDLLA", "PEG 400", "Silk fibroin"]),
        ("NOT Tm > 0 degC", ["PDLLA", "PEG 400", "Silk fibroin"]),
        ("has Tg", ["PDLLA", "PLLA"]),
        ("dataset = qualitative", ["PDLLA", "PEG 400", "PLLA", "Silk fibroin"]),
    ],
)
def test_no_filter_matches_a_qualitative_measurement(engine, tmp_path, filter_text, expected):
    from biomatdb_search.backends.sql import SqlBackend
    from biomatdb_search.service import build_query

    assert ingest_file(engine, write(tmp_path, "qualitative.csv", QUALITATIVE_CSV)).loaded
    result = SqlBackend(engine).search(build_query(filter_text=filter_text, facets=["property"], sort="name"))
    assert [hit.name for hit in result.results] == expected
    assert all(m.qualifier != "term" for hit in result.results for m in hit.measurements)
    counts = {value.value: value.count for value in result.facets["property"]}
    assert counts.get("melting_temperature", 0) == ("PLLA" in expected)  # the facet counts what "has" finds


@pytest.mark.parametrize(
    ("text", "column", "value", "message"),
    [
        (
            "Material,Density (g/cm3)\nPDLLA,amorphous\n",
            "Density (g/cm3)",
            "amorphous",
            (
                "'amorphous' is a qualitative value of melting_temperature, crystallization_temperature, crystallinity, "
                "not of density"
            ),
        ),
        (
            "Material,Property,Value,Unit,SD\nPDLLA,Tm,amorphous,°C,2\n",
            "SD",
            "2",
            "the value of 'Value' is qualitative ('amorphous'): it has no uncertainty",
        ),
        ("Material,Tm (°C)\nPDLLA,amorphous-ish\n", "Tm (°C)", "amorphous-ish", "expected a number"),
        (
            "Material,E (GPa),Temperature\nPDLLA,3,not determined\n",
            "Temperature",
            "not determined",
            "a test temperature must be one value",
        ),
    ],
)
def test_a_qualitative_value_where_it_cannot_stand_is_refused(sqlite_engine, tmp_path, text, column, value, message):
    before = snapshot(sqlite_engine)
    report = ingest_file(sqlite_engine, write(tmp_path, "wrong.csv", text))
    assert not report.loaded
    assert [(e.type, e.row, e.column, e.value) for e in report.errors] == [("type-error", 1, column, value)]
    assert message in report.errors[0].message
    assert snapshot(sqlite_engine) == before


def test_the_report_lists_the_first_materials_and_counts_them_all(sqlite_engine, tmp_path, monkeypatch):
    """A file of millions of materials keeps a report of bounded size, as its issues are."""
    import biomatdb_ingest.load

    monkeypatch.setattr(biomatdb_ingest.load, "MAX_RECORDS", 3)
    path = tmp_path / "many.csv"
    path.write_text(
        "Material,Young's modulus (GPa)\n" + "".join(f"Grade {n} alloy,{100 + n}\n" for n in range(7)), encoding="utf-8"
    )
    report = ingest_file(sqlite_engine, path)
    assert report.loaded and report.materials_created == 7
    assert report.materials_named == 7 and report.as_dict()["counts"]["materials_named"] == 7
    assert [entry["name"] for entry in report.materials] == ["Grade 0 alloy", "Grade 1 alloy", "Grade 2 alloy"]
