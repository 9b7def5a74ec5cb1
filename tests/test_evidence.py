"""Biological evaluation: the endpoint vocabulary, evidence files through the pipeline (all or
nothing, re-upload, errors with suggestions), the records measurements imply, and the
``evidence(…)`` filter on SQLite and PostgreSQL."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import func, select

from biomatdb.evaluations import evaluations_of
from biomatdb.evidence import get_evidence_vocabulary
from biomatdb.models import BiologicalEvaluation, Material, Measurement
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.model import Query
from biomatdb_search.parser import parse_filter
from tests.preloaded import preloaded

DATA = Path(__file__).parent / "data"
SEMANTICS_CSV = DATA / "search_semantics.csv"
EVIDENCE_CSV = DATA / "evidence_small.csv"

ENDPOINT_KEYS = [
    "cytotoxicity",
    "sensitisation",
    "irritation",
    "systemic_toxicity",
    "pyrogenicity",
    "genotoxicity",
    "carcinogenicity",
    "reproductive_toxicity",
    "implantation",
    "haemocompatibility",
    "bioactivity",
    "cell_adhesion",
    "cell_proliferation",
    "osteogenic_differentiation",
    "angiogenesis",
    "antibacterial_activity",
    "inflammatory_response",
    "osseointegration",
    "in_vivo_degradation",
]
OUTCOME_KEYS = [
    "non_cytotoxic",
    "cytotoxic",
    "non_haemolytic",
    "haemolytic",
    "non_sensitising",
    "sensitising",
    "pass",
    "fail",
    "bioactive",
]


def test_the_public_endpoint_and_outcome_keys_are_in_the_vocabulary():
    vocabulary = get_evidence_vocabulary()
    assert set(ENDPOINT_KEYS) <= set(vocabulary.endpoints)
    assert set(OUTCOME_KEYS) <= set(vocabulary.outcomes)


@pytest.mark.parametrize(
    ("written", "endpoint"),
    [
        ("Cytotoxicity", "cytotoxicity"),
        ("ISO 10993-5:2009", "cytotoxicity"),
        ("MTT", "cytotoxicity"),
        ("sensitization", "sensitisation"),
        ("hemocompatibility", "haemocompatibility"),
        ("intracutaneous reactivity", "irritation"),
        ("apatite formation", "bioactivity"),
        ("ALP activity", "osteogenic_differentiation"),
        ("bone-implant contact", "osseointegration"),
        ("ISO 22196", "antibacterial_activity"),
    ],
)
def test_endpoints_resolve_from_what_curators_write(written, endpoint):
    assert get_evidence_vocabulary().endpoint(written).key == endpoint


def test_every_biological_property_reports_one_endpoint():
    vocabulary = get_evidence_vocabulary()
    for key, endpoint in {
        "cell_viability": "cytotoxicity",
        "cytotoxicity_grade": "cytotoxicity",
        "hemolysis": "haemocompatibility",
        "protein_adsorption": "protein_adsorption",
    }.items():
        assert vocabulary.endpoint_of_property(key) == endpoint


@preloaded
def evidence_core(engine, directory):
    assert ingest_file(engine, SEMANTICS_CSV).loaded
    report = ingest_file(engine, EVIDENCE_CSV)
    assert report.loaded, report.as_dict()["errors"]


def _ids(engine, *names):
    with engine.connect() as connection:
        return {row.id for row in connection.execute(select(Material.id).where(Material.name.in_(names)))}


def test_an_evidence_file_loads_records_and_their_measurements(evidence_core):
    with evidence_core.connect() as connection:
        alpha = _ids(evidence_core, "Alpha").pop()
        records = evaluations_of(connection, [alpha])[alpha]
        measured = connection.execute(
            select(Measurement.property_key, Measurement.value).where(
                Measurement.material_id == alpha, Measurement.property_key.in_(["cell_viability", "hemolysis"])
            )
        ).all()
    assert sorted(measured) == [("cell_viability", 92.0), ("hemolysis", 2.1)]
    by_endpoint = {record["endpoint"]: record for record in records}
    cytotoxicity = by_endpoint["cytotoxicity"]
    assert cytotoxicity["outcome"] == "non_cytotoxic"
    assert cytotoxicity["test_system"]["cellosaurus"] == "CVCL_0462"
    assert cytotoxicity["test_system"]["kind"] == "in vitro"
    assert cytotoxicity["value"] == 92.0 and cytotoxicity["unit"] == "%"
    assert cytotoxicity["standard"] == "ISO 10993-5:2009"
    assert cytotoxicity["source"] == "Test source A (2020)"
    assert by_endpoint["haemocompatibility"]["outcome"] == "non_haemolytic"
    implantation = by_endpoint["implantation"]
    assert (
        implantation["test_system"]["species"] == "rabbit" and implantation["test_system"]["site"] == "femoral condyle"
    )
    assert implantation["value"] is None and implantation["outcome"] == "well_tolerated"


def test_a_re_upload_of_the_same_evidence_changes_nothing(evidence_core, tmp_path):
    with evidence_core.connect() as connection:
        before = connection.execute(select(func.count()).select_from(BiologicalEvaluation)).scalar_one()
    assert ingest_file(evidence_core, EVIDENCE_CSV).unchanged
    edited = tmp_path / "evidence_small.csv"
    edited.write_text(EVIDENCE_CSV.read_text(encoding="utf-8") + "\n", encoding="utf-8")
    report = ingest_file(evidence_core, edited, IngestOptions(dataset="evidence_small"))
    assert report.loaded
    with evidence_core.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BiologicalEvaluation)).scalar_one() == before


def _bad(tmp_path, row: str) -> Path:
    lines = EVIDENCE_CSV.read_text(encoding="utf-8").splitlines()
    path = tmp_path / "bad.csv"
    path.write_text("\n".join([*lines, row]) + "\n", encoding="utf-8")
    return path


@pytest.mark.parametrize(
    ("row", "kind", "column", "suggested"),
    [
        ("Alpha,cytotoxcity,,in vitro,L929,,MTT,,24 h,non-cytotoxic,,,S", "unknown-endpoint", "Endpoint", "cytotoxicity"),
        ("Alpha,cytotoxicity,,in vitro,L929,,MTT,,24 h,non cytotoxc,,,S", "unknown-outcome", "Result", "non_cytotoxic"),
        ("Alpha,cytotoxicity,,in vitro,L92,,MTT,,24 h,non-cytotoxic,,,S", "unknown-cell-line", "Cell line / Model / Species",
         "L929"),
        ("Alpha,cytotoxicity,,in vitro,L929,,MTT,,a day,non-cytotoxic,,,S", "invalid-duration", "Duration", None),
        ("Omega,cytotoxicity,,in vitro,L929,,MTT,,24 h,non-cytotoxic,,,S", "unknown-material", None, None),
        ("Alpha,cytotoxicity,,in vitro,L929,,MTT,,24 h,non-cytotoxic,92,GPa,S", "unknown-quantity", "Value", None),
    ],
)  # fmt: skip
def test_a_bad_evidence_row_refuses_the_file_naming_row_column_and_value(
    engine, tmp_path, row, kind, column, suggested
):
    assert ingest_file(engine, SEMANTICS_CSV).loaded
    with engine.connect() as connection:
        before = connection.execute(select(func.count()).select_from(Measurement)).scalar_one()
    report = ingest_file(engine, _bad(tmp_path, row))
    assert not report.loaded
    issue = next(issue for issue in report.errors if issue.type == kind)
    assert issue.row == 7 and issue.column == column  # the seventh data row
    if suggested is not None:
        assert suggested in issue.suggestions
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Measurement)).scalar_one() == before
        assert connection.execute(select(func.count()).select_from(BiologicalEvaluation)).scalar_one() == 0


def test_skip_invalid_leaves_out_only_the_bad_evidence_row(engine, tmp_path):
    assert ingest_file(engine, SEMANTICS_CSV).loaded
    path = _bad(tmp_path, "Alpha,cytotoxcity,,in vitro,L929,,MTT,,24 h,non-cytotoxic,,,S")
    report = ingest_file(engine, path, IngestOptions(skip_invalid=True))
    assert report.loaded and report.rows_skipped == 1
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BiologicalEvaluation)).scalar_one() == 6


def test_measurements_of_an_endpoints_property_are_its_records(engine, tmp_path):
    """A material file's cell viability column is a cytotoxicity result: it gets its record, and
    the record goes with the measurement when the dataset goes."""
    from biomatdb_ingest.retract import retract_dataset

    assert ingest_file(engine, SEMANTICS_CSV).loaded
    material = tmp_path / "viability.csv"
    material.write_text(
        "Material,Class,Cell viability [%],Bone-implant contact [%],Method,Standard\n"
        "Alpha,polymer,88,,MTT,ISO 10993-5\nBeta,polymer,,45,,\n",
        encoding="utf-8",
    )
    assert ingest_file(engine, material).loaded
    with engine.connect() as connection:
        records = connection.execute(
            select(*BiologicalEvaluation.__table__.columns).order_by(BiologicalEvaluation.endpoint)
        ).all()
        viability, contact = records
        assert (viability.endpoint, viability.outcome, viability.method, viability.standard) == (
            "cytotoxicity",
            None,
            "MTT",
            "ISO 10993-5",
        )
        assert viability.measurement_id is not None
        # a cell viability is an in vitro result by what it measures; a bone-implant contact could
        # come from an animal or a patient, which the measurement does not say
        assert (viability.kind, contact.endpoint, contact.kind) == ("in vitro", "osseointegration", None)
    found = SqlBackend(engine).search(
        Query(filter=parse_filter('evidence(cytotoxicity) WHERE standard = "ISO 10993-5"'))
    )
    assert [hit.name for hit in found.results] == ["Alpha"]
    in_vitro = SqlBackend(engine).search(Query(filter=parse_filter("evidence(cytotoxicity) WHERE kind = in vitro")))
    assert [hit.name for hit in in_vitro.results] == ["Alpha"]
    with engine.begin() as connection:
        from biomatdb.models import Dataset

        dataset = connection.execute(select(Dataset.id).where(Dataset.name == "viability")).scalar_one()
        retract_dataset(connection, dataset)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(BiologicalEvaluation)).scalar_one() == 0


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("evidence(cytotoxicity)", {"Alpha", "Beta"}),
        ("evidence(cytotoxicity) = non_cytotoxic WHERE cell_line = L929", {"Alpha"}),
        ("evidence(cytotoxicity) = non_cytotoxic WHERE cell_line = MG-63", set()),
        ('evidence(cytotoxicity) WHERE standard = "ISO 10993-5"', {"Alpha", "Beta"}),
        ("evidence(implantation) WHERE species = rabbit AND duration >= 12 week", {"Alpha"}),
        ("evidence(implantation) WHERE duration >= 12 week", {"Alpha"}),
        ("evidence(implantation) WHERE duration < 30 day", {"Beta"}),
        ("evidence(implantation) WHERE kind = in vivo AND site = subcutaneous", {"Beta"}),
        ("hemolysis < 5 %", {"Alpha"}),
        ("NOT evidence(sensitisation) = sensitising", {"Alpha", "Gamma", "Delta", "Epsilon", "Zeta"}),
        ("evidence(sensitisation) != sensitising", set()),
        ("evidence(haemocompatibility) = non-haemolytic", {"Alpha"}),
        ("capsule_thickness > 100 um", {"Beta"}),
        ("evidence(cytotoxicity) = cytotoxic AND class = polymer", {"Beta"}),
    ],
)
def test_the_evidence_filter_answers_on_both_databases(evidence_core, text, expected):
    from biomatdb_search.memory import MemoryIndexes

    backend = SqlBackend(evidence_core)
    result = backend.search(Query(filter=parse_filter(text), limit=50))
    assert {hit.name for hit in result.results} == expected
    assert result.total == len(expected)
    for match in ("possible", "certain"):  # the in-memory index answers as SQL does
        query = Query(filter=parse_filter(text), limit=50, match=match, facets=["endpoint", "outcome"])
        in_sql = backend.search(query)
        memory_backend = SqlBackend(evidence_core, memory=MemoryIndexes(), wait_for_memory=True)
        memory_backend._from_sql = lambda *args: pytest.fail("answered in SQL, not from the index")  # type: ignore[method-assign]
        in_memory = memory_backend.search(query)
        assert [hit.name for hit in in_memory.results] == [hit.name for hit in in_sql.results]
        assert in_memory.facets == in_sql.facets


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("evidence(cytotoxcity)", "unknown-endpoint"),
        ("evidence(cytotoxicity) = haemolytic", "unknown-outcome"),
        ("evidence(cytotoxicity) WHERE cell_line = L92", "unknown-value"),
        ("evidence(cytotoxicity) WHERE temperature = 37 degC", "unknown-condition"),
        ("evidence(implantation) WHERE duration >= 12", "unit-error"),
        ("evidence(implantation) WHERE duration >= 12 GPa", "unit-error"),
        ("evidence(cytotoxicity) > non_cytotoxic", "syntax-error"),
    ],
)
def test_evidence_filters_that_cannot_be_answered_say_why(text, kind):
    from biomatdb.errors import QueryError

    with pytest.raises(QueryError) as raised:
        parse_filter(text)
    assert raised.value.type == kind
    assert raised.value.position is not None


# --- Elasticsearch: the translation, exactly, and the documents it searches -------------------


def test_the_evidence_filter_translates_to_one_nested_record():
    from elasticsearch.dsl import Search

    from biomatdb_search.backends.elastic_translate import ElasticTranslator

    node = parse_filter('evidence(cytotoxicity) = non_cytotoxic WHERE cell_line = L929 AND standard = "ISO 10993-5"')
    expected = {
        "nested": {
            "path": "evidence",
            "query": {
                "bool": {
                    "filter": [
                        {"term": {"evidence.endpoint": "cytotoxicity"}},
                        {"term": {"evidence.outcome": "non_cytotoxic"}},
                        {"term": {"evidence.cell_line": "l929"}},
                        {
                            "bool": {
                                "should": [
                                    {"term": {"evidence.standard": "iso 10993-5"}},
                                    {"prefix": {"evidence.standard": "iso 10993-5:"}},
                                ],
                                "minimum_should_match": 1,
                            }
                        },
                    ]
                }
            },
        }
    }
    assert ElasticTranslator({}).filter(node) == expected
    assert Search.from_dict({"query": expected}).to_dict() == {"query": expected}


@pytest.mark.parametrize(
    ("match", "text", "expected"),
    [
        ("possible", "duration >= 12 week", {"range": {"evidence.duration": {"gte": 84.0, "relation": "intersects"}}}),
        ("certain", "duration >= 12 week", {"range": {"evidence.duration": {"gte": 84.0, "relation": "within"}}}),
        (
            "possible",
            "duration != 1 day",
            {
                "bool": {
                    "filter": [{"exists": {"field": "evidence.duration"}}],
                    "must_not": [{"range": {"evidence.duration": {"gte": 1.0, "lte": 1.0, "relation": "within"}}}],
                }
            },
        ),
        ("possible", "species != rabbit", {"bool": {"must_not": [{"term": {"evidence.species": "rabbit"}}]}}),
    ],
)
def test_evidence_conditions_translate_as_sql_reads_them(match, text, expected):
    from biomatdb_search.backends.elastic_translate import ElasticTranslator

    node = parse_filter(f"evidence(implantation) WHERE {text}")
    body = ElasticTranslator({}, match).filter(node)
    assert body["nested"]["query"]["bool"]["filter"][1] == expected


def test_documents_carry_each_material_s_records(evidence_core):
    from biomatdb_search.backends.elastic import documents_from_core

    with evidence_core.connect() as connection:
        documents = {d["name"]: d for d in documents_from_core(connection)}
    alpha = documents["Alpha"]
    assert alpha["endpoints"] == ["cytotoxicity", "haemocompatibility", "implantation"]
    assert alpha["outcomes"] == ["non_cytotoxic", "non_haemolytic", "well_tolerated"]
    implantation = next(e for e in alpha["evidence"] if e["endpoint"] == "implantation")
    assert implantation["species"] == "rabbit" and implantation["duration"] == {"gte": 84.0, "lte": 84.0}
    assert documents["Gamma"]["evidence"] == [] and documents["Gamma"]["endpoints"] == []


def test_the_endpoint_and_outcome_facets_count_materials(evidence_core):
    result = SqlBackend(evidence_core).search(Query(facets=["endpoint", "outcome"], limit=1))
    endpoints = {f.value: f.count for f in result.facets["endpoint"]}
    outcomes = {f.value: f.count for f in result.facets["outcome"]}
    assert endpoints == {"cytotoxicity": 2, "implantation": 2, "haemocompatibility": 1, "sensitisation": 1}
    assert outcomes["non_cytotoxic"] == 1 and outcomes["fibrous_encapsulation"] == 1


# --- the CLI: show and export, and the export's round trip ------------------------------------


@pytest.fixture
def cli(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from biomatdb.cli import app

    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BIOMATDB_DATABASE_URL", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    return run


@pytest.mark.slow
def test_show_and_export_evidence_and_the_export_ingests_back_to_the_same(cli, tmp_path, monkeypatch):
    import csv
    import json

    assert cli("ingest", str(SEMANTICS_CSV)).exit_code == 0
    assert cli("ingest", str(EVIDENCE_CSV)).exit_code == 0
    shown = json.loads(cli("show", "Alpha", "--json").stdout)
    evaluations = shown["biological_evaluations"]
    assert {e["endpoint"] for e in evaluations} == {"cytotoxicity", "haemocompatibility", "implantation"}
    assert {"endpoint", "standard", "test_system", "contact", "exposure", "method", "duration", "outcome", "value",
            "value_min", "value_max", "unit", "verbatim", "source", "dataset"} <= set(evaluations[0])  # fmt: skip
    assert "Biological evaluation" in cli("show", "Alpha").stdout
    exported = cli("export", "--kind", "evidence", "--dataset", "evidence_small").stdout
    rows = list(csv.DictReader(exported.splitlines()))
    assert (
        len(rows) == 6
        and rows[0]["Result"] == "non-cytotoxic"
        and rows[0]["Outcome"] == "non_cytotoxic"
        and rows[0]["Value"] == "92"
    )
    as_json = json.loads(cli("export", "--kind", "evidence", "--format", "json").stdout)
    assert len(as_json) == 6 and {item["material"] for item in as_json} == {"Alpha", "Beta"}

    again = tmp_path / "evidence_small.csv"
    again.write_text(exported, encoding="utf-8")
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "fresh"))
    assert cli("ingest", str(SEMANTICS_CSV)).exit_code == 0
    result = cli("ingest", str(again))
    assert result.exit_code == 0, result.output
    assert cli("export", "--kind", "evidence", "--dataset", "evidence_small").stdout == exported


def test_an_outcome_column_keeps_the_result_as_written(evidence_core):
    """With an Outcome column, Result is the finding in the source's words; a cohort is described
    (clinical), and a strain in parentheses stays in the model shown while the species resolves."""
    report = ingest_file(evidence_core, DATA / "evidence_outcomes.csv")
    assert report.loaded, report.as_dict()["errors"]
    with evidence_core.connect() as connection:
        alpha, beta = (_ids(evidence_core, name).pop() for name in ("Alpha", "Beta"))
        found = evaluations_of(connection, [alpha, beta])
    clinical = next(e for e in found[alpha] if e["endpoint"] == "inflammatory_response")
    assert clinical["outcome"] == "chronic_inflammation"
    assert clinical["verbatim"] == "late sterile swelling in 2 of 20 patients"
    assert clinical["test_system"] == {
        "kind": "clinical",
        "model": "patients (n=20)",
        "species": None,
        "cellosaurus": None,
        "site": None,
    }
    rat = next(e for e in found[beta] if e["dataset"] == "evidence_outcomes")
    assert rat["test_system"]["model"] == "rat (Sprague Dawley)" and rat["test_system"]["species"] == "rat"
    result = SqlBackend(evidence_core).search(
        Query(
            filter=parse_filter(
                "evidence(implantation) = fibrous_encapsulation WHERE species = rat AND duration > 7 day"
            )
        )
    )
    assert {hit.name for hit in result.results} == {"Beta"}


def test_outcome_columns_of_a_material_file_are_evidence(engine, tmp_path):
    """``Cytotoxicity (ISO 10993-5)`` beside the properties of a material file holds outcomes:
    each cell is a record of its row's material, with the standard of the header."""
    material = tmp_path / "implants.csv"
    material.write_text(
        "Material,Class,Density [g/cm3],Cytotoxicity (ISO 10993-5),Sensitisation,Source\n"
        "Ti alloy X,metal,4.43,non-cytotoxic,no sensitisation,Handbook X (2001)\n"
        "Ni alloy Y,metal,6.45,,sensitising,Handbook X (2001)\n",
        encoding="utf-8",
    )
    report = ingest_file(engine, material)
    assert report.loaded, report.as_dict()["errors"]
    result = SqlBackend(engine).search(
        Query(filter=parse_filter('evidence(cytotoxicity) = non_cytotoxic WHERE standard = "ISO 10993-5"'))
    )
    assert [hit.name for hit in result.results] == ["Ti alloy X"]
    result = SqlBackend(engine).search(Query(filter=parse_filter("NOT evidence(sensitisation) = sensitising")))
    assert [hit.name for hit in result.results] == ["Ti alloy X"]
    with engine.connect() as connection:
        ids = _ids(engine, "Ti alloy X")
        (record, *_) = evaluations_of(connection, list(ids)).popitem()[1]
        assert record["source"] == "Handbook X (2001)" and record["verbatim"] == "non-cytotoxic"
    bad = tmp_path / "bad.csv"
    bad.write_text("Material,Class,Cytotoxicity (ISO 10993-5)\nZ,metal,harmless-ish\n", encoding="utf-8")
    refused = ingest_file(engine, bad)
    assert not refused.loaded
    (issue,) = [i for i in refused.errors if i.type == "unknown-outcome"]
    assert (issue.row, issue.column, issue.value) == (1, "Cytotoxicity (ISO 10993-5)", "harmless-ish")


# --- free text in every cell: a record or a located error, never an exception -----------------

_EVIDENCE_HEADER = [
    "Material",
    "Endpoint",
    "Standard",
    "Kind",
    "Cell line / Model / Species",
    "Duration",
    "Result",
    "Outcome",
    "Value",
    "Unit",
    "Source",
]
_CELL = st.one_of(
    st.none(),
    st.text(max_size=30),
    st.sampled_from(
        ["cytotoxicity", "hemolysis ratio", "non-cytotoxic", "L-929", "NZW rabbit", "12 weeks", "4–12 weeks", "92",
         ">95", "%", "µm", "in vivo", "clinical", "ISO 10993-5:2009", "patients (n=3)", "rat (Wistar)", "grade 0"]
    ),
)  # fmt: skip


@given(
    st.lists(st.lists(_CELL, min_size=len(_EVIDENCE_HEADER), max_size=len(_EVIDENCE_HEADER)), min_size=1, max_size=5)
)
def test_every_evidence_row_is_a_record_or_a_located_error(rows):
    import pandas as pd

    from biomatdb.vocabulary import get_vocabulary
    from biomatdb_ingest.evidence import evidence_map, normalise_evidence

    emap, issues = evidence_map(_EVIDENCE_HEADER)
    assert emap is not None and issues == []
    chunk = pd.DataFrame(rows, index=range(1, len(rows) + 1), dtype=object)
    out = normalise_evidence(chunk, emap, get_vocabulary())
    recorded = {record.row for record in out.records}
    refused = {issue.row for issue in out.errors}
    assert recorded | refused == set(chunk.index)  # no row disappears without a word
    assert not recorded & refused
    for issue in out.errors:
        assert issue.type and issue.message
        assert issue.column is None or issue.column in _EVIDENCE_HEADER
    assert out.measurements is not None
    measured = set(out.measurements.index)
    for record in out.records:
        assert record.endpoint in get_evidence_vocabulary().endpoints
        assert record.outcome is None or get_evidence_vocabulary().outcomes[record.outcome].states(record.endpoint)
        assert (record.property is None) == (record.row not in measured)


def _respelled_evidence(tmp_path):
    path = tmp_path / "evidence_small.csv"
    path.write_text(
        EVIDENCE_CSV.read_text(encoding="utf-8")
        .replace(",MTT,", ",MTT assay,")
        .replace(",live/dead,", ",LIVE/DEAD staining,")
        .replace("ASTM F756", "ASTM E8/E8M"),
        encoding="utf-8",
    )
    return path


def _record_conditions(engine) -> set[tuple[str | None, str | None]]:
    with engine.connect() as connection:
        return set(connection.execute(select(BiologicalEvaluation.method, BiologicalEvaluation.standard)).all())


def test_a_record_s_method_and_standard_are_spelled_as_the_condition_vocabulary_spells_them(engine, tmp_path):
    """``MTT assay`` is ``MTT``, ``LIVE/DEAD staining`` is ``viability staining``, ``ASTM E8/E8M``
    is ``ASTM E8``, as a measurement's would be; a text no term names stays as written."""
    assert ingest_file(engine, SEMANTICS_CSV).loaded
    report = ingest_file(engine, _respelled_evidence(tmp_path))
    assert report.loaded, report.as_dict()["errors"]
    stored = _record_conditions(engine)
    assert {("MTT", "ISO 10993-5:2009"), ("viability staining", "ISO 10993-5"), ("direct contact", "ASTM E8")} <= stored
    assert not {method for method, _ in stored} & {"MTT assay", "LIVE/DEAD staining"}
    assert ("histology", "ISO 10993-6") in stored  # no term: as written
    with engine.connect() as connection:
        methods = set(connection.execute(select(Measurement.method).where(Measurement.method.is_not(None))).scalars())
    assert "MTT" in methods and "MTT assay" not in methods


def test_migration_0018_respells_the_records_stored_before_it(engine, tmp_path):
    from alembic import command
    from sqlalchemy import text

    from biomatdb.db import alembic_config, core_generation

    assert ingest_file(engine, SEMANTICS_CSV).loaded
    assert ingest_file(engine, _respelled_evidence(tmp_path)).loaded
    with engine.begin() as connection:  # as a core before 0018 held them: as written
        connection.execute(
            text("UPDATE biological_evaluations SET method = 'LIVE/DEAD staining' WHERE method = 'viability staining'")
        )
        connection.execute(
            text("UPDATE biological_evaluations SET standard = 'ASTM E8/E8M' WHERE standard = 'ASTM E8'")
        )
        generation = core_generation(connection)
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0016")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    stored = _record_conditions(engine)
    assert ("viability staining", "ISO 10993-5") in stored and ("direct contact", "ASTM E8") in stored
    assert not {value for pair in stored for value in pair} & {"LIVE/DEAD staining", "ASTM E8/E8M"}
    with engine.connect() as connection:
        assert core_generation(connection) != generation
