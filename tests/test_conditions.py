"""Conditions through a vocabulary: ingest stores its spelling, filters resolve through it, a value
no one knows is refused with a "did you mean", the medium and state facets count, and
``GET /conditions`` and ``biomatdb conditions`` list the stored values; ``±`` as an interval."""

from __future__ import annotations

import json

import pytest
from alembic import command
from sqlalchemy import select, text
from typer.testing import CliRunner

from biomatdb.db import alembic_config, core_generation
from biomatdb.errors import QueryError, VocabularyError
from biomatdb.hashing import rehash_measurements
from biomatdb.models import Measurement
from biomatdb.vocabulary.conditions import CONDITION_FIELDS, load_conditions, parse_conditions, resolve, suggest
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.memory import MemoryIndexes
from biomatdb_search.model import PropertyFilter
from biomatdb_search.service import build_query

#: A lab sheet that writes its conditions as labs do: aliases, case, a free-text value.
LAB_CSV = (
    "Material,Class,Property,Value,Unit,Medium,Specimen state,Method,Standard,Source\n"
    "Extruded Mg test alloy,metal,tensile strength,240 ± 7,MPa,,as extruded,tensile test,ASTM E 8,Conditions fixture\n"
    "Cast Mg test alloy,metal,tensile strength,180,MPa,,As Cast,tension,,Conditions fixture\n"
    "PLA test film,polymer,tensile strength,55,MPa,phosphate buffered saline,hydrated/wet,,,Conditions fixture\n"
    "PLA test fibre,polymer,tensile strength,70,MPa,Phosphate-buffered saline,dry,,,Conditions fixture\n"
    "PCL test film,polymer,tensile strength,20,MPa,PBS,,,,Conditions fixture\n"
    "Gelatin test gel,hydrogel,tensile strength,0.1,MPa,artificial saliva,swollen in culture medium,,,Conditions fixture\n"
)


def load_lab(engine, folder):
    path = folder / "lab-conditions.csv"
    path.write_text(LAB_CSV, encoding="utf-8")
    report = ingest_file(engine, path, IngestOptions(dataset="lab-conditions"))
    assert report.ok and report.loaded, report.errors
    return engine


@pytest.fixture
def lab(engine, tmp_path):
    """The lab sheet in a core of its own, for a test that changes it (SQLite and PostgreSQL)."""
    return load_lab(engine, tmp_path)


@pytest.fixture(scope="module")
def lab_core(module_engine, tmp_path_factory):
    """The lab sheet loaded once per module, for tests that only read it (SQLite and PostgreSQL)."""
    return load_lab(module_engine, tmp_path_factory.mktemp("lab"))


def _stored(engine, column: str) -> dict[str, str | None]:
    with engine.connect() as connection:
        rows = connection.execute(
            text(f"SELECT m.name, x.{column} FROM measurements x JOIN materials m ON m.id = x.material_id")
        ).all()
    return dict(rows)


def _names(backend, filter_text: str, **options) -> list[str]:
    result = backend.search(build_query(filter_text=filter_text, sort="name", limit=50, **options))
    return [hit.name for hit in result.results]


# --- the vocabulary --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("field", "written", "name"),
    [
        ("specimen_state", "as extruded", "as-extruded"),
        ("specimen_state", "As-Extruded", "as-extruded"),
        ("specimen_state", "as_cast", "as-cast"),
        ("specimen_state", "wet", "hydrated"),
        ("specimen_state", "hydrated/wet", "hydrated"),
        ("specimen_state", "wrought", "wrought"),
        ("specimen_state", "annealed", "annealed"),
        ("specimen_state", "dry", "dry"),
        ("medium", "phosphate buffered saline", "PBS"),
        ("medium", "Phosphate-Buffered Saline", "PBS"),
        ("medium", "pbs", "PBS"),
        ("medium", "simulated body fluid", "SBF"),
        ("medium", "Dulbecco's modified Eagle's medium", "DMEM"),
        ("medium", "0.9% NaCl", "saline"),
        ("medium", "deionised water", "water"),
        ("method", "dynamic mechanical analysis", "DMA"),
        ("method", "tensile test", "tension"),
        ("standard", "ASTM F 67", "ASTM F67"),
        ("standard", "iso 10993-5", "ISO 10993-5"),
    ],
)
def test_a_written_condition_resolves_to_its_term(field, written, name):
    term = resolve(field, written)
    assert term is not None and term.name == name
    assert load_conditions().canonical(field, written) == name


def test_a_value_no_term_names_stays_as_written():
    assert resolve("specimen_state", "human femur, wet, transverse") is None
    assert load_conditions().canonical("specimen_state", " human femur, wet ") == "human femur, wet"


def test_suggestions_are_the_closest_terms_of_the_field():
    assert suggest("medium", "PSB")[0] == "PBS"
    assert suggest("specimen_state", "as extrudd")[0] == "as-extruded"
    assert suggest("medium", "zzzzzzzz") == []


def test_every_issue_term_is_in_the_vocabulary():
    """Issue 15: the specimen states and media it lists, and methods and standards."""
    for field, names in {
        "specimen_state": ["as-cast", "as-extruded", "wrought", "annealed", "dry", "hydrated"],
        "medium": ["PBS", "SBF", "DMEM", "saline", "water"],
    }.items():
        assert {t.name for t in load_conditions().field_terms(field)} >= set(names)
    assert load_conditions().field_terms("method") and load_conditions().field_terms("standard")


@pytest.mark.parametrize(
    ("toml", "refusal"),
    [
        ('[colour.red]\nname = "red"\n', "unknown table"),
        ('[medium.PBS]\nname = "PBS"\n', "snake_case"),
        ("[medium.pbs]\naliases = []\n", "name must be"),
        ('[medium.pbs]\nname = "PBS"\ncolour = "blue"\n', "unknown field"),
        ('[medium.pbs]\nname = "PBS"\n[medium.other]\nname = "P.B.S."\n', "names both"),
        ('[medium.pbs]\nname = "PBS"\naliases = [""]\n', "aliases must be"),
    ],
)
def test_a_malformed_vocabulary_is_refused(toml, refusal):
    with pytest.raises(VocabularyError, match=refusal):
        parse_conditions(toml)


def test_the_same_label_may_name_terms_of_different_fields():
    vocabulary = parse_conditions('[method.dry]\nname = "dry"\n[specimen_state.dry]\nname = "dry"\n')
    term = vocabulary.resolve("method", "dry")
    assert term is not None and term.field == "method"
    with pytest.raises(VocabularyError):
        vocabulary.resolve("colour", "dry")


def test_every_medium_method_and_standard_of_the_fixtures_is_a_term(fixtures_sqlite):
    """The fixtures' media, methods and standards are all terms; their specimen states are terms
    where they are one state, and stay as written where they describe a specimen."""
    from sqlalchemy import create_engine

    engine = create_engine(f"sqlite:///{fixtures_sqlite.location}")
    try:
        with engine.connect() as connection:
            for field in CONDITION_FIELDS:
                stored = connection.execute(
                    text(f"SELECT DISTINCT {field} FROM measurements WHERE {field} IS NOT NULL")
                ).scalars()
                values = list(stored)
                assert values, field
                spelled = [value for value in values if resolve(field, value) is not None]
                # stored in the vocabulary's spelling, never an alias of it
                assert all(getattr(resolve(field, value), "name", None) == value for value in spelled), field
                if field != "specimen_state":
                    assert spelled == values, field
            states = set(connection.execute(text("SELECT DISTINCT specimen_state FROM measurements")).scalars())
    finally:
        engine.dispose()
    assert {"as-extruded", "as-cast", "as-rolled", "annealed", "rubbery", "glassy"} <= states
    assert "as extruded" not in states and "as cast" not in states


# --- ingest ----------------------------------------------------------------------------------


def test_ingest_stores_the_vocabulary_spelling_and_free_text_as_written(lab_core):
    media, states = _stored(lab_core, "medium"), _stored(lab_core, "specimen_state")
    assert media == {
        "Extruded Mg test alloy": None,
        "Cast Mg test alloy": None,
        "PLA test film": "PBS",
        "PLA test fibre": "PBS",
        "PCL test film": "PBS",
        "Gelatin test gel": "artificial saliva",
    }
    assert states["Extruded Mg test alloy"] == "as-extruded"
    assert states["Cast Mg test alloy"] == "as-cast"
    assert states["PLA test film"] == "hydrated"
    assert states["Gelatin test gel"] == "swollen in culture medium"
    assert _stored(lab_core, "method")["Extruded Mg test alloy"] == "tension"
    assert _stored(lab_core, "standard")["Extruded Mg test alloy"] == "ASTM E8"


def test_a_reupload_in_other_spellings_of_the_same_terms_is_unchanged(lab, tmp_path):
    respelled = (
        LAB_CSV.replace("as extruded", "As-Extruded")
        .replace("phosphate buffered saline", "PBS")
        .replace("ASTM E 8", "ASTM E8")
    )
    path = tmp_path / "lab-conditions.csv"
    path.write_text(respelled, encoding="utf-8")
    report = ingest_file(lab, path, IngestOptions(dataset="lab-conditions"))
    assert report.ok and report.loaded
    assert (report.measurements_added, report.measurements_updated, report.measurements_removed) == (0, 0, 0)
    assert report.measurements_unchanged == 6


def test_migration_0016_respells_stored_values_and_keeps_reuploads_unchanged(lab, tmp_path):
    """A core loaded before the vocabulary holds the values as written; 0016 respells them and
    rehashes, so that the same file uploaded again is unchanged."""
    with lab.begin() as connection:  # as a core before 0016 held them
        connection.execute(text("UPDATE measurements SET medium = 'phosphate buffered saline' WHERE medium = 'PBS'"))
        connection.execute(
            text("UPDATE measurements SET specimen_state = 'as extruded' WHERE specimen_state = 'as-extruded'")
        )
        rehash_measurements(connection)
        generation = core_generation(connection)
    config = alembic_config(lab)
    with lab.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    with lab.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert set(_stored(lab, "medium").values()) == {None, "PBS", "artificial saliva"}
    assert _stored(lab, "specimen_state")["Extruded Mg test alloy"] == "as-extruded"
    with lab.connect() as connection:
        assert core_generation(connection) != generation
    path = tmp_path / "again" / "lab-conditions.csv"
    path.parent.mkdir()
    path.write_text(LAB_CSV.replace("Conditions fixture\n", "Conditions fixture \n"), encoding="utf-8")
    report = ingest_file(lab, path, IngestOptions(dataset="lab-conditions"))
    assert report.ok and report.loaded and not report.unchanged  # another file, the same measurements
    assert report.measurements_unchanged == 6 and report.measurements_updated == 0


def test_migration_0016_leaves_a_core_in_the_vocabulary_alone(lab):
    with lab.connect() as connection:
        generation = core_generation(connection)
        hashes = connection.execute(select(Measurement.id, Measurement.content_hash).order_by(Measurement.id)).all()
    config = alembic_config(lab)
    with lab.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0015")
    with lab.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with lab.connect() as connection:
        assert core_generation(connection) == generation
        assert (
            connection.execute(select(Measurement.id, Measurement.content_hash).order_by(Measurement.id)).all()
            == hashes
        )


# --- filters ---------------------------------------------------------------------------------

FOUND = [
    ("has tensile_strength WHERE state = as-extruded", ["Extruded Mg test alloy"]),
    ('has tensile_strength WHERE specimen_state = "as extruded"', ["Extruded Mg test alloy"]),
    ("tensile_strength > 100 MPa WHERE state = as_cast", ["Cast Mg test alloy"]),
    ('tensile_strength > 50 MPa WHERE medium = "phosphate buffered saline"', ["PLA test fibre", "PLA test film"]),
    ("has tensile_strength WHERE medium = phosphate buffered saline AND state = wet", ["PLA test film"]),
    ("has tensile_strength WHERE medium = pbs", ["PCL test film", "PLA test fibre", "PLA test film"]),
    ("has tensile_strength WHERE medium = Artificial Saliva", ["Gelatin test gel"]),
    ('has tensile_strength WHERE state = "swollen in culture medium"', ["Gelatin test gel"]),
    ("has tensile_strength WHERE method = tensile test AND standard = ASTM E8", ["Extruded Mg test alloy"]),
    (
        "has tensile_strength WHERE medium != PBS",
        ["Cast Mg test alloy", "Extruded Mg test alloy", "Gelatin test gel"],
    ),
]


@pytest.mark.parametrize(("filter_text", "expected"), FOUND)
def test_condition_filters_find_what_was_written_in_any_spelling(lab_core, filter_text, expected):
    """SQLite and PostgreSQL (``engine``), and the in-memory index over the same core."""
    assert _names(SqlBackend(lab_core), filter_text) == expected
    in_memory = SqlBackend(lab_core, memory=MemoryIndexes(), wait_for_memory=True)
    assert _names(in_memory, filter_text) == expected


@pytest.mark.parametrize(
    ("filter_text", "suggested"),
    [
        ("has tensile_strength WHERE medium = PSB", "PBS"),
        ("has tensile_strength WHERE state = as extrudd", "as-extruded"),
        ("has tensile_strength WHERE medium = artificial salvia", "artificial saliva"),
        ("NOT has tensile_strength WHERE method = tensle", "tension"),
    ],
)
def test_a_condition_value_neither_the_vocabulary_nor_the_data_knows_is_refused(lab_core, filter_text, suggested):
    with pytest.raises(QueryError) as refused:
        SqlBackend(lab_core).search(build_query(filter_text=filter_text))
    assert refused.value.type == "unknown-condition-value"
    assert suggested in refused.value.expected
    assert f"did you mean {suggested}" in refused.value.message


def test_a_vocabulary_term_no_measurement_has_finds_nothing_without_refusal(lab_core):
    assert _names(SqlBackend(lab_core), "has tensile_strength WHERE medium = SBF") == []


def test_a_condition_value_held_only_within_longer_written_values_is_noted(lab_core):
    """`state = wet` is the term hydrated, which the gel's lab wrote only inside longer text
    ("swollen in culture medium", swollen being another name of it): `=` does not match it, and
    the answer says so and how to ask for it; a value no stored text holds gets no note."""
    for backend in (SqlBackend(lab_core), SqlBackend(lab_core, memory=MemoryIndexes(), wait_for_memory=True)):
        result = backend.search(build_query(filter_text="has tensile_strength WHERE state = wet"))
        assert [hit.name for hit in result.results] == ["PLA test film"]
        (note,) = result.notes
        assert "specimen state = 'hydrated'" in note and "1 stored value holds it" in note
        assert note.endswith('state = "swollen in culture medium"')
        plain = backend.search(build_query(filter_text="has tensile_strength WHERE state = dry"))
        assert plain.notes == [] and [hit.name for hit in plain.results] == ["PLA test fibre"]
    assert _names(SqlBackend(lab_core), 'has tensile_strength WHERE state = "swollen in culture medium"') == [
        "Gelatin test gel"
    ]


def test_the_parser_spells_condition_values_as_the_vocabulary(lab_core):
    from biomatdb_search.parser import parse_filter

    node = parse_filter('E > 1 GPa WHERE state = "as extruded" AND medium = phosphate buffered saline AND source = x')
    assert isinstance(node, PropertyFilter)
    assert [(c.field, c.value) for c in node.where] == [
        ("specimen_state", "as-extruded"),
        ("medium", "PBS"),
        ("source", "x"),
    ]


# --- facets and the listing --------------------------------------------------------------------


def test_medium_and_state_facets_count_materials_over_the_matches(lab_core):
    result = SqlBackend(lab_core).search(build_query(filter_text="class = polymer", facets=["medium", "state"]))
    assert [(v.value, v.count) for v in result.facets["medium"]] == [("PBS", 3)]
    assert [(v.value, v.count) for v in result.facets["state"]] == [("dry", 1), ("hydrated", 1)]
    everything = SqlBackend(lab_core, memory=MemoryIndexes(), wait_for_memory=True).search(
        build_query(facets=["medium", "state"])
    )
    assert [(v.value, v.count) for v in everything.facets["medium"]] == [("PBS", 3), ("artificial saliva", 1)]


def test_the_listing_counts_materials_and_measurements_per_value(lab_core):
    from biomatdb_search.conditions import read_listing

    listed = {f.field: f.values for f in read_listing(lab_core)}
    assert list(listed) == list(CONDITION_FIELDS)
    media = [(v.value, v.term, v.materials, v.measurements) for v in listed["medium"]]
    assert media == [("PBS", "pbs", 3, 3), ("artificial saliva", None, 1, 1)]
    (state,) = read_listing(lab_core, "state")
    assert state.field == "specimen_state" and len(state.values) == 5


@pytest.mark.anyio
async def test_get_conditions_lists_the_values_with_counts(lab, api):
    response = await api.get("/api/v1/conditions", params={"field": "medium"})
    assert response.status_code == 200
    assert response.json() == [
        {
            "field": "medium",
            "values": [
                {"value": "PBS", "term": "pbs", "materials": 3, "measurements": 3},
                {"value": "artificial saliva", "term": None, "materials": 1, "measurements": 1},
            ],
        }
    ]
    every = (await api.get("/api/v1/conditions")).json()
    assert [f["field"] for f in every] == list(CONDITION_FIELDS)
    assert (await api.get("/api/v1/conditions", params={"field": "colour"})).status_code == 422
    refused = await api.get("/api/v1/materials", params={"filter": "has tensile_strength WHERE medium = PSB"})
    assert refused.status_code == 400 and "did you mean PBS" in refused.json()["detail"]


@pytest.mark.slow
def test_the_cli_lists_conditions_as_the_api_does(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BIOMATDB_DATABASE_URL", raising=False)
    monkeypatch.delenv("BIOMATDB_ELASTICSEARCH_URL", raising=False)
    from biomatdb.cli import app

    path = tmp_path / "lab.csv"
    path.write_text(LAB_CSV, encoding="utf-8")
    runner = CliRunner()
    assert runner.invoke(app, ["ingest", str(path)], catch_exceptions=False).exit_code == 0
    listed = runner.invoke(app, ["conditions", "--field", "medium", "--json"], catch_exceptions=False)
    assert listed.exit_code == 0
    assert json.loads(listed.stdout)[0]["values"][0] == {
        "value": "PBS",
        "term": "pbs",
        "materials": 3,
        "measurements": 3,
    }
    table = runner.invoke(app, ["conditions", "--field", "state"], catch_exceptions=False)
    assert table.exit_code == 0 and "as-extruded" in table.stdout and "(as written)" in table.stdout
    assert runner.invoke(app, ["conditions", "--field", "colour"]).exit_code == 2
    refused = runner.invoke(app, ["search", "--filter", "has tensile_strength WHERE medium = PSB"])
    assert refused.exit_code == 2 and "did you mean PBS" in refused.output


# --- ± as an interval --------------------------------------------------------------------------

UNCERTAIN = [
    # 240 ± 7 MPa is the point 240, or [233, 247]
    ("tensile_strength >= 245 MPa WHERE state = as-extruded", [], ["Extruded Mg test alloy"]),
    ("tensile_strength in 230..235 MPa", [], ["Extruded Mg test alloy"]),
    ("tensile_strength in 239..241 MPa", ["Extruded Mg test alloy"], ["Extruded Mg test alloy"]),
    ("tensile_strength > 200 MPa", ["Extruded Mg test alloy"], ["Extruded Mg test alloy"]),
    ("tensile_strength < 233 MPa AND class = metal", ["Cast Mg test alloy"], ["Cast Mg test alloy"]),
    (
        "tensile_strength <= 233 MPa AND class = metal",
        ["Cast Mg test alloy"],
        ["Cast Mg test alloy", "Extruded Mg test alloy"],
    ),
]


@pytest.mark.parametrize(("filter_text", "as_point", "as_interval"), UNCERTAIN)
def test_uncertainty_interval_reads_v_plus_minus_u_as_an_interval(lab_core, filter_text, as_point, as_interval):
    for backend in (SqlBackend(lab_core), SqlBackend(lab_core, memory=MemoryIndexes(), wait_for_memory=True)):
        assert _names(backend, filter_text) == as_point
        assert _names(backend, filter_text, uncertainty="interval") == as_interval


def test_certainty_under_uncertainty_interval(lab_core):
    """[233, 247] lies within ``> 200 MPa`` but only meets ``>= 240 MPa``; the point 240 lies within both."""
    for backend in (SqlBackend(lab_core), SqlBackend(lab_core, memory=MemoryIndexes(), wait_for_memory=True)):
        certain = _names(
            backend, "tensile_strength >= 240 MPa AND class = metal", match="certain", uncertainty="interval"
        )
        assert certain == []
        assert _names(backend, "tensile_strength >= 240 MPa AND class = metal", match="certain") == [
            "Extruded Mg test alloy"
        ]
        shown = backend.search(
            build_query(filter_text="tensile_strength >= 240 MPa AND class = metal", uncertainty="interval")
        )
        assert [m.certainty for hit in shown.results for m in hit.measurements] == ["possible"]


@pytest.mark.anyio
async def test_the_api_takes_uncertainty(lab, api):
    params = {"filter": "tensile_strength >= 245 MPa", "uncertainty": "interval"}
    found = (await api.get("/api/v1/materials", params=params)).json()
    assert [hit["name"] for hit in found["results"]] == ["Extruded Mg test alloy"]
    body = {"filter": "tensile_strength >= 245 MPa", "uncertainty": "interval"}
    assert (await api.post("/api/v1/search", json=body)).json()["total"] == 1
    assert (await api.get("/api/v1/materials", params={"filter": "tensile_strength >= 245 MPa"})).json()["total"] == 0
    assert (await api.get("/api/v1/materials", params={**params, "uncertainty": "wide"})).status_code == 422
