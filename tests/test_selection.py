"""Selection over the fixtures (search/biomatdb_search/select/, docs/selection.md): golden rankings from the
data, the same answer on SQLite, PostgreSQL and the in-memory index, constraints that always
hold, presets, the API and the CLI."""

from __future__ import annotations

import json

import pytest
from hypothesis import HealthCheck, given, settings, strategies as st
from sqlalchemy.orm import Session
from typer.testing import CliRunner

from biomatdb.catalog import find_material
from biomatdb.errors import QueryError, VocabularyError
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.chemistry import ChemistryIndex
from biomatdb_search.memory import MemoryIndexes
from biomatdb_search.select.model import Requirement
from biomatdb_search.select.objectives import parse_objective, spec_of
from biomatdb_search.select.presets import presets
from biomatdb_search.select.service import select
from biomatdb_search.service import build_query
from tests.api_fixtures import open_client, settings_for
from tests.profiles import examples

CORTICAL = "match:youngs_modulus=cortical bone"


@pytest.fixture(scope="module")
def cores(tmp_path_factory, copy_fixtures_sqlite, copy_fixtures_postgresql):
    """The fixtures core on SQLite (SQL and in-memory index) and PostgreSQL."""
    sqlite = copy_fixtures_sqlite(tmp_path_factory.mktemp("select") / "core.sqlite")
    with copy_fixtures_postgresql("selection") as postgresql:
        chemistry = ChemistryIndex(sqlite)
        yield {
            "sqlite": (SqlBackend(sqlite, chemistry), sqlite),
            "postgresql": (SqlBackend(postgresql, ChemistryIndex(postgresql)), postgresql),
            "memory": (SqlBackend(sqlite, chemistry, memory=MemoryIndexes(), wait_for_memory=True), sqlite),
        }
    sqlite.dispose()


def run(core, constraint=None, *specs, **options):
    backend, engine = core
    requirement = Requirement(constraint=constraint, objectives=[parse_objective(s) for s in specs], **options)
    return select(backend, engine, requirement)


def subclass_of(engine, name: str) -> str | None:
    with Session(engine) as session:
        return find_material(session, name).subclass


@pytest.mark.parametrize("name", ["sqlite", "postgresql", "memory"])
def test_modulus_near_cortical_bone_ranks_mg_and_beta_ti_above_ti64_and_ti64_above_steel_and_cocr(cores, name):
    """The issue's check, with the groups read from the data (each material's subclass), not typed."""
    answer = run(cores[name], "class = metal", CORTICAL, limit=500)
    engine = cores[name][1]
    place = {c.name: c.rank for c in answer.results}
    groups: dict[str, list[str]] = {}
    for candidate in answer.results:
        groups.setdefault(subclass_of(engine, candidate.name) or "", []).append(candidate.name)
    ti64 = place["Ti-6Al-4V"]
    assert len(groups["magnesium alloy"]) >= 2 and len(groups["beta titanium alloy"]) >= 3
    for better in groups["magnesium alloy"] + groups["beta titanium alloy"]:
        assert place[better] < ti64, (better, place[better], ti64)
    for worse in groups["austenitic stainless steel"] + groups["cobalt-chromium alloy"]:
        assert place[worse] > ti64, (worse, place[worse], ti64)
    target = answer.targets[0]
    assert target.tissue == "Cortical bone" and target.measurements >= 3
    assert target.low is not None and target.high is not None and target.low < 20 < target.high  # GPa


def test_every_backend_ranks_alike(cores):
    """Parity: SQLite, PostgreSQL and the in-memory index give the same ranked answer."""
    for specs, constraint in (
        ((CORTICAL, "max:tensile_strength@0.5"), "class = metal"),
        (("min:density", "max:porosity@2"), "class = ceramic OR class = glass"),
        (("match:youngs_modulus=0.5..5 MPa",), "class = hydrogel"),
        (("max:specific_strength", "min:youngs_modulus^0.5/density"), "class = metal"),
    ):
        answers = {name: run(core, constraint, *specs, limit=500) for name, core in cores.items()}
        dumped = {name: a.model_dump(by_alias=True) for name, a in answers.items()}
        assert dumped["sqlite"]["results"], specs
        assert dumped["postgresql"] == dumped["sqlite"], specs
        assert dumped["memory"] == dumped["sqlite"], specs


def test_each_candidate_carries_its_criteria_measurements_and_sources(cores):
    answer = run(cores["sqlite"], "class = metal", CORTICAL, "max:fatigue_strength", limit=500)
    assert answer.method and answer.policy == "worst" and answer.missing == "penalise"
    assert answer.objectives == ["match:youngs_modulus=Cortical bone", "max:fatigue_strength"]
    some_missing = [c for c in answer.results if c.criteria[1].missing is not None]
    assert some_missing, "some metals have no fatigue strength in the fixtures"
    for candidate in answer.results:
        assert abs(sum(k.contribution for k in candidate.criteria) - candidate.score) < 1e-5
        for criterion in candidate.criteria:
            if criterion.missing is None:
                assert criterion.measurement is not None and criterion.measurement.dataset
                assert criterion.measurement.display
            else:
                assert criterion.score == 0 and criterion.missing.treatment == "penalised"
                assert "fatigue" in criterion.missing.reason.lower()
    assert any(c.pareto for c in answer.results)
    ranks = [c.rank for c in answer.results]
    assert ranks == list(range(1, len(ranks) + 1))
    scores = [c.score for c in answer.results]
    assert scores == sorted(scores, reverse=True)


def test_excluding_missing_values_leaves_only_complete_candidates(cores):
    penalised = run(cores["sqlite"], "class = metal", CORTICAL, "max:fatigue_strength", limit=500)
    excluded = run(cores["sqlite"], "class = metal", CORTICAL, "max:fatigue_strength", missing="exclude", limit=500)
    assert 0 < excluded.ranked < penalised.ranked
    assert all(k.missing is None for c in excluded.results for k in c.criteria)
    assert {e.name for e in excluded.excluded} == {
        c.name for c in penalised.results if any(k.missing for k in c.criteria)
    }


def test_the_interval_policy_changes_what_a_range_scores(cores):
    """A 4–785 MPa range (PCL's tensile strength) scores its low end worst case, its high end best case."""
    worst = run(cores["sqlite"], "class = polymer", "max:tensile_strength", limit=500)
    best = run(cores["sqlite"], "class = polymer", "max:tensile_strength", policy="best", limit=500)
    by_name = {c.name: c.criteria[0].value for c in worst.results}
    best_by_name = {c.name: c.criteria[0].value for c in best.results}
    assert any(best_by_name[n] > by_name[n] for n in by_name)
    assert all(best_by_name[n] >= by_name[n] for n in by_name)


@settings(max_examples=examples(15), suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(threshold=st.integers(50, 1500), basis=st.sampled_from(["tensile_strength", "yield_strength"]))
def test_a_candidate_that_violates_the_constraint_never_appears(cores, threshold, basis):
    backend, _ = cores["sqlite"]
    constraint = f"{basis} >= {threshold} MPa"
    answer = run(cores["sqlite"], constraint, CORTICAL, limit=500)
    allowed = {h.id for h in backend.search(build_query(filter_text=constraint, limit=500)).results}
    assert {c.id for c in answer.results} <= allowed
    assert answer.candidates == len(allowed)


def test_refusals_say_what_is_wrong(cores):
    with pytest.raises(QueryError, match="not a reference tissue"):
        run(cores["sqlite"], None, "match:youngs_modulus=Ti-6Al-4V")
    with pytest.raises(QueryError, match="no material named"):
        run(cores["sqlite"], None, "match:youngs_modulus=unobtainium")
    with pytest.raises(QueryError, match="unknown property"):
        run(cores["sqlite"], None, "max:youngs_modulsu")
    with pytest.raises(QueryError, match="unit"):
        run(cores["sqlite"], None, "match:youngs_modulus=10..30")
    with pytest.raises(QueryError, match=r"dimension|unit"):
        run(cores["sqlite"], None, "match:youngs_modulus=10..30 kg")
    with pytest.raises(QueryError, match="at least one objective"):
        run(cores["sqlite"], "class = metal")
    with pytest.raises(VocabularyError, match="did you mean"):
        run(cores["sqlite"], None, preset="load_bearing_bone_implnt")


@pytest.mark.parametrize(
    "spec",
    [
        "max:tensile_strength",
        "min:density@0.5",
        "match:youngs_modulus=cortical bone@2",
        "match:youngs_modulus=10..30 GPa",
        "match:porosity=70 %",
    ],
)
def test_objective_specs_read_back_as_written(spec):
    assert spec_of(parse_objective(spec)) == spec


@pytest.mark.parametrize(
    ("objective", "system", "shown"),
    [
        ("match:youngs_modulus=580..725 ksi", None, "4.00–5.00 GPa"),  # was 4–5 GPa (:.3g)
        ("match:youngs_modulus=580..725 ksi", "US", "580–725 ksi"),
        ("match:youngs_modulus=15.25..20.0 GPa", None, "15.25–20.0 GPa"),  # was 15.2–20 GPa
        ("match:youngs_modulus=2 GPa", None, "2 GPa"),
        ("match:degradation_time=6..12 months", None, "6–12 months"),
        ("match:specific_stiffness=25 GPa*cm^3/g", "SI", "25 MN·m/kg"),
        ({"kind": "match", "property": "youngs_modulus", "low": 10.0, "unit": "GPa"}, None, "≥ 10 GPa"),
    ],
)
def test_a_target_is_shown_as_written_in_the_display_unit(objective, system, shown):
    """A selection's target was formatted with ``:.3g`` in the display unit: ``580..725 ksi`` read
    ``4–5 GPa`` and ``15.25..20.0 GPa`` read ``15.2–20 GPa``."""
    from biomatdb.display import UnitChoice
    from biomatdb_search.select.model import Objective
    from biomatdb_search.select.service import _resolve

    parsed = parse_objective(objective) if isinstance(objective, str) else Objective.model_validate(objective)
    resolved = _resolve(None, None, parsed, UnitChoice(system=system))  # type: ignore[arg-type]  # a value target needs no core
    assert resolved.shown_target is not None and resolved.shown_target.display == shown


@pytest.mark.parametrize("spec", ["maximise:density", "max:", "match:density", "match:density=", "max:density@x"])
def test_bad_objective_specs_are_refused(spec):
    with pytest.raises(QueryError, match="objective"):
        parse_objective(spec)


@pytest.mark.parametrize("key", sorted(presets()))
def test_every_preset_ranks_candidates_on_both_sql_backends(cores, key):
    answers = {name: run(cores[name], None, preset=key, limit=50) for name in ("sqlite", "postgresql")}
    assert answers["sqlite"].results, key
    assert answers["sqlite"].model_dump() == answers["postgresql"].model_dump()
    assert all(c.material_class != "tissue" for c in answers["sqlite"].results)


def test_the_stent_preset_leaves_out_materials_recorded_as_haemolytic(cores):
    backend, engine = cores["sqlite"]
    answer = select(backend, engine, Requirement(preset="cardiovascular_stent", limit=500))
    haemolytic = {
        h.id
        for h in backend.search(build_query(filter_text="evidence(haemocompatibility) = haemolytic", limit=500)).results
    }
    assert not haemolytic & {c.id for c in answer.results}


@pytest.mark.anyio
async def test_the_api_answers_what_the_service_does(cores, tmp_path):
    _, engine = cores["sqlite"]
    manager, client = await open_client(settings_for(engine, tmp_path / "data"))
    try:
        body = {
            "constraint": "class = metal",
            "objectives": [{"kind": "match", "property": "E", "tissue": "compact bone"}],
        }
        response = await client.post("/api/v1/select", json=body)
        assert response.status_code == 200, response.text
        answer = response.json()
        assert set(answer) >= {"results", "method", "policy"}
        first = answer["results"][0]
        assert set(first) >= {"id", "name", "rank", "score", "pareto", "criteria"}
        assert set(first["criteria"][0]) >= {"objective", "score", "measurement", "missing"}
        assert first["criteria"][0]["measurement"]["source"]
        direct = run(cores["sqlite"], "class = metal", CORTICAL, limit=20)
        assert [r["name"] for r in answer["results"]] == [c.name for c in direct.results]
        bad = await client.post("/api/v1/select", json={"objectives": [{"kind": "max", "property": "nope"}]})
        assert bad.status_code == 400 and "unknown property" in bad.text
        invalid = await client.post("/api/v1/select", json={"objectives": [{"kind": "match", "property": "E"}]})
        assert invalid.status_code == 422
        listed = await client.get("/api/v1/select/presets")
        assert {p["key"] for p in listed.json()} == set(presets())
        schema = (await client.get("/openapi.json")).json()
        assert "/api/v1/select" in schema["paths"]
        assert schema["components"]["schemas"]["Requirement"].get("examples")
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)


def test_the_cli_prints_the_ranking(cores, monkeypatch):
    from biomatdb.cli import app

    _, engine = cores["sqlite"]
    monkeypatch.setenv("BIOMATDB_DATABASE_URL", engine.url.render_as_string(hide_password=False))
    runner = CliRunner()
    result = runner.invoke(app, ["select", "-c", "class = metal", "-o", f"{CORTICAL}@2", "--json", "--limit", "5"])
    assert result.exit_code == 0, result.output
    answer = json.loads(result.output)
    assert [r["rank"] for r in answer["results"]] == [1, 2, 3, 4, 5]
    assert answer["objectives"] == ["match:youngs_modulus=Cortical bone@2"]
    table = runner.invoke(app, ["select", "--preset", "dental_restoration", "--limit", "3"])
    assert table.exit_code == 0, table.output
    assert "candidates ranked" in table.output
    listed = runner.invoke(app, ["select", "--list-presets"])
    assert "load_bearing_bone_implant" in listed.output
    bad = runner.invoke(app, ["select", "-o", "max:nonsense"])
    assert bad.exit_code == 2 and "unknown property" in bad.output


def test_a_derived_index_is_ranked_from_every_pairing_of_its_inputs(cores):
    """``max:specific_strength`` scores tensile strength over density (biomatdb.indices), worst case:
    the lowest quotient any pair of the material's measurements gives."""
    backend, _ = cores["sqlite"]
    answer = run(cores["sqlite"], "class = metal", "max:specific_strength", limit=500)
    assert answer.objectives == ["max:specific_strength"] and answer.results
    hits = {
        h.id: h
        for h in backend.search(
            build_query(filter_text="class = metal AND (has tensile_strength OR has density)", limit=500)
        ).results
    }
    for candidate in answer.results:
        (criterion,) = candidate.criteria
        measurements = hits[candidate.id].measurements
        strengths = [m.value_min for m in measurements if m.property == "tensile_strength"]
        densities = [m.value_max for m in measurements if m.property == "density"]
        if criterion.missing is not None:
            assert not strengths or not densities
            continue
        # MPa over g/cm³, the canonical units: the worst pairing is the weakest over the densest
        assert criterion.value_canonical == pytest.approx(min(strengths) / max(densities), rel=1e-9)
        assert criterion.measurement is not None and "tensile_strength" in criterion.measurement.conditions["from"]
    with pytest.raises(QueryError, match="not to a tissue"):
        run(cores["sqlite"], None, "match:specific_stiffness=cortical bone")
    with pytest.raises(QueryError, match="unknown"):
        run(cores["sqlite"], None, "max:youngs_modulus/densty")


@pytest.mark.anyio
async def test_a_derived_objective_is_shown_as_search_shows_the_same_derived_value(cores, tmp_path):
    """``max:specific_strength`` showed ``903–1.13e+03 MPa/(g/cm³)``: a pint-style unit, unrounded
    ends, ``199–211`` where search shows ``200–210``, and no US conversion. It reads as search shows
    the same derived value: the same unit label, written precision and unit system."""
    _, engine = cores["sqlite"]
    manager, client = await open_client(settings_for(engine, tmp_path / "data"))
    body = {"constraint": "class = metal", "objectives": [{"kind": "max", "property": "specific_strength"}]}
    answer: dict = {}
    try:
        for params, unit in [({}, "MPa·cm³/g"), ({"unit_system": "US"}, "ksi/(lb/in³)")]:
            answer = (await client.post("/api/v1/select", json=body | {"limit": 5}, params=params)).json()
            searched = await client.get(
                "/api/v1/materials",
                params={"filter": "specific_strength > 0 MPa*cm^3/g AND class = metal", "limit": 100, **params},
            )
            derived = {
                (hit["id"], d["value_canonical_min"], d["value_canonical_max"]): d
                for hit in searched.json()["results"]
                for d in hit["derived"]
            }
            compared = 0
            for candidate in answer["results"]:
                used = candidate["criteria"][0]["measurement"]
                assert used["unit"] == unit and used["display"].endswith(f" {unit}"), used
                assert used["unit_canonical"] == "MPa·cm³/g"
                same = derived.get((candidate["id"], used["value_canonical_min"], used["value_canonical_max"]))
                if same is not None:
                    compared += 1
                    assert (used["display"], used["value_min"], used["value_max"]) == (
                        same["display"],
                        same["value_min"],
                        same["value_max"],
                    )
            assert compared, "search shows some of the same pairings"
        ti64 = next(c for c in answer["results"] if c["name"] == "Ti-6Al-4V")["criteria"][0]["measurement"]
        assert (
            ti64["display"] == "8.0–8.5 × 10² ksi/(lb/in³)"
        )  # 895–930 MPa over 4.4–4.5 g/cm³, 2 digits, no trailing zeros
        chosen = await client.post(
            "/api/v1/select", json=body | {"limit": 1}, params={"units": "specific_strength:kN*m/kg"}
        )
        assert chosen.json()["results"][0]["criteria"][0]["measurement"]["unit"] == "kN·m/kg"
        plain = {"constraint": "class = metal", "objectives": [{"kind": "max", "property": "density"}], "limit": 1}
        used = (await client.post("/api/v1/select", json=plain, params={"unit_system": "US"})).json()
        measurement = used["results"][0]["criteria"][0]["measurement"]
        assert measurement["unit"] == "lb/in³" and measurement["unit_canonical"] == "g/cm³"
        assert measurement["value_max"] < measurement["value_canonical_max"]  # lb/in³, not g/cm³
    finally:
        await client.aclose()
        await manager.__aexit__(None, None, None)


@pytest.mark.parametrize(
    ("policy", "shown", "canonical"),
    [("worst", "4 MPa", 4.0), ("best", "785 MPa", 785.0), ("midpoint", "395 MPa", 394.5)],
)
def test_a_criterion_value_is_the_scored_end_as_shown(cores, policy, shown, canonical):
    """PCL's 4–785 MPa under each policy: the end (or midpoint) scored, in MPa to its digits."""
    answer = run(cores["sqlite"], "id = bm-f4b5cd4cb9", "max:tensile_strength", policy=policy)  # PCL
    (candidate,) = answer.results
    (criterion,) = candidate.criteria
    assert criterion.measurement is not None and criterion.measurement.display == "4–785 MPa"
    assert (criterion.display, criterion.unit, criterion.value_canonical) == (shown, "MPa", canonical)


def test_a_distance_in_the_unit_is_rounded_as_a_difference():
    """A target that is not positive (0..0.3 GPa) is matched in the unit: 0.4 GPa is 0.1 GPa away
    (the place of the coarser number), in US units 15 ksi (one digit, two through the factor)."""
    from biomatdb.display import Converter
    from biomatdb.vocabulary import get_vocabulary
    from biomatdb_search.model import MatchedMeasurement
    from biomatdb_search.select.method import Span, distance
    from biomatdb_search.select.shown import measurement_value

    prop = get_vocabulary().properties["youngs_modulus"]
    m = MatchedMeasurement.model_validate(
        {
            "property": "youngs_modulus",
            "qualifier": "=",
            "value": 0.4,
            "value_min": 0.4,
            "value_max": 0.4,
            "uncertainty": None,
            "unit": "GPa",
            "verbatim": {"value": "0.4", "unit": "GPa"},
            "conditions": {},
            "dataset": "d",
        }
    )
    target: dict[str, object] = {"property": "youngs_modulus", "qualifier": "range", "value": None}
    target |= {"value_min": 0.0, "value_max": 0.3, "uncertainty": None, "unit": "GPa"}
    target["verbatim"] = {"value": "0 to 0.3", "unit": "GPa"}
    d = distance(0.4, Span(0.0, 0.3))
    for unit, display in (("GPa", "0.1 GPa"), ("ksi", "15 ksi")):
        shown = measurement_value(
            "match",
            -d,
            d,
            m,
            Converter(prop, unit),
            Span(0.4, 0.4),
            target=Span(0.0, 0.3),
            target_measurements=[target],
        )
        assert shown.display == display and shown.unit_canonical == "GPa"
