"""``biomatdb search`` and ``biomatdb load-fixtures`` as a researcher and a curator use them."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from biomatdb.cli import app

SEMANTICS_CSV = Path(__file__).parent / "data" / "search_semantics.csv"


@pytest.fixture
def cli(tmp_path, monkeypatch):
    monkeypatch.setenv("BIOMATDB_DATA_DIR", str(tmp_path / "data"))
    monkeypatch.delenv("BIOMATDB_DATABASE_URL", raising=False)
    monkeypatch.delenv("BIOMATDB_ELASTICSEARCH_URL", raising=False)
    runner = CliRunner()

    def run(*args: str):
        return runner.invoke(app, list(args), catch_exceptions=False)

    assert run("ingest", str(SEMANTICS_CSV)).exit_code == 0
    return run


def test_search_json_has_results_facets_total_and_cursor(cli):
    result = cli("search", "--filter", "youngs_modulus >= 1 GPa AND density < 2 g/cm^3", "--facet", "class", "--json")
    assert result.exit_code == 0, result.output
    document = json.loads(result.stdout)
    assert set(document) == {"results", "facets", "total", "next_cursor", "spelling", "notes"}
    (beta,) = document["results"]
    assert (beta["name"], beta["class"]) == ("Beta", "polymer")
    assert {m["property"] for m in beta["measurements"]} == {"youngs_modulus", "density"}
    assert all(m["unit"] for m in beta["measurements"])
    assert document["facets"] == {"class": [{"value": "polymer", "count": 1}]}
    assert document["total"] == 1 and document["next_cursor"] is None


def test_search_pages_with_the_cursor(cli):
    first = json.loads(cli("search", "--sort", "name", "--limit", "4", "--json").stdout)
    assert [r["name"] for r in first["results"]] == ["Alpha", "Beta", "Delta", "Epsilon"]
    second = json.loads(
        cli("search", "--sort", "name", "--limit", "4", "--cursor", first["next_cursor"], "--json").stdout
    )
    assert [r["name"] for r in second["results"]] == ["Gamma", "Zeta"]


def test_search_text_and_table_output(cli):
    result = cli("search", "alpha", "--filter", "has youngs_modulus")
    assert result.exit_code == 0
    assert "Alpha" in result.stdout and "youngs_modulus" in result.stdout and "Beta" not in result.stdout


def test_bad_filter_exits_non_zero_with_the_position(cli):
    result = cli("search", "--filter", "youngs_modulus >= 1 kg")
    assert result.exit_code == 2
    assert "youngs_modulus >= 1 kg" in result.stderr
    caret_line = result.stderr.rstrip("\n").splitlines()[-1]
    # the caret sits under the value or its unit, two spaces in like the echoed filter
    assert caret_line.index("^") - 2 in ("youngs_modulus >= 1 kg".index("1"), "youngs_modulus >= 1 kg".index("kg"))


def test_unknown_property_is_refused(cli):
    result = cli("search", "--filter", "stiffnes > 3 GPa")
    assert result.exit_code == 2 and "stiffnes" in result.stderr


def test_search_match_certain_and_possible_marked_in_the_table(cli):
    certain = json.loads(cli("search", "--filter", "youngs_modulus >= 1 GPa", "--match", "certain", "--json").stdout)
    assert {hit["name"] for hit in certain["results"]} == {"Alpha", "Gamma", "Delta"}
    table = cli("search", "--filter", "youngs_modulus >= 1 GPa")
    assert table.exit_code == 0 and "(possible)" in table.stdout
    refused = cli("search", "--filter", "has density", "--match", "sure")
    assert refused.exit_code == 2 and "match" in refused.output


def test_search_by_composition_with_the_element_facet(cli, tmp_path):
    alloys = tmp_path / "alloys.csv"
    alloys.write_text(
        "Material,Class,Composition,Density (g/cm3)\n"
        'Nickel test alloy,metal,"Ni 54.5-57.0 wt%; Ti bal",6.45\n'
        'Nickel-free test alloy,metal,"Ti bal; Al 5.5-6.75 wt%; V 3.5-4.5 wt%",4.43\n',
        encoding="utf-8",
    )
    assert cli("ingest", str(alloys)).exit_code == 0
    result = cli(
        "search", "--filter", "NOT contains(Ni) AND class = metal", "--facet", "element", "--json", "--sort", "name"
    )
    document = json.loads(result.stdout)
    # Delta, a metal of the semantics data, has no composition recorded: NOT keeps it, as docs/search.md says
    assert [hit["name"] for hit in document["results"]] == ["Delta", "Nickel-free test alloy"]
    assert document["facets"]["element"] == [{"value": element, "count": 1} for element in ("Al", "Ti", "V")]


def test_search_shows_display_units_at_the_precision_written(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    table = cli("search", "--filter", "Tg > 37 degC OR degradation_time > 1 day", "--sort", "name").stdout
    assert "glass_transition_temperature 60 °C" in table  # written 60 °C; stored 333.15 K
    assert "degradation_time 3–6 months" in table and "333.15" not in table
    document = json.loads(cli("search", "--filter", "Tg > 37 degC", "--json").stdout)
    (tg,) = document["results"][0]["measurements"]
    assert (tg["value"], tg["unit"], tg["text"], tg["display"]) == (60.0, "°C", "60", "60 °C")
    assert (tg["value_canonical"], tg["unit_canonical"], tg["verbatim"]) == (
        pytest.approx(333.15),
        "K",
        {"value": "60", "unit": "°C"},
    )


def test_search_units_and_unit_system(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    us = cli(
        "search", "--filter", "Tg > 37 degC OR tensile_strength > 800 MPa", "--unit-system", "US", "--sort", "name"
    )
    assert us.exit_code == 0, us.output
    assert "glass_transition_temperature 140 °F" in us.stdout  # 60 °C to the degree Celsius: 1.8 °F
    assert "tensile_strength 131 ksi" in us.stdout  # 900 MPa, 3 digits
    over = cli("search", "--filter", "youngs_modulus > 50 GPa", "--units", "E:MPa", "--unit-system", "US", "--json")
    shown = [m for hit in json.loads(over.stdout)["results"] for m in hit["measurements"]]
    assert {m["unit"] for m in shown} == {"MPa"} and "(1.10 ± 0.04) × 10⁵ MPa" in {m["display"] for m in shown}


@pytest.mark.parametrize(
    ("option", "value", "message"),
    [
        ("--units", "youngs_modulus:K", "does not fit"),
        ("--units", "colour:MPa", "unknown property"),
        ("--unit-system", "imperial", "known: SI, US"),
    ],
)
def test_bad_units_exit_2_with_the_reason(cli, option, value, message):
    for command in (("search",), ("show", "Alpha"), ("export",)):
        result = cli(*command, option, value)
        assert result.exit_code == 2, (command, result.output)
        assert message in result.stderr


def test_show_and_export_in_the_asked_units(cli, monkeypatch):
    monkeypatch.setenv("COLUMNS", "250")
    shown = cli("show", "Delta", "--units", "youngs_modulus:MPa")
    row = next(line for line in shown.stdout.splitlines() if "youngs_modulus" in line)
    assert "(1.10 ± 0.04) × 10⁵" in row and "MPa" in row
    document = json.loads(cli("show", "Alpha", "--json", "--unit-system", "US").stdout)
    tg = next(m for m in document["measurements"] if m["property"] == "glass_transition_temperature")
    assert (tg["display"], tg["value_canonical"]) == ("140 °F", pytest.approx(333.15))
    exported = json.loads(cli("export", "--format", "json", "--unit-system", "US").stdout)
    (alpha_tg,) = [r for r in exported if r["material"] == "Alpha" and r["property"] == "glass_transition_temperature"]
    assert (alpha_tg["value"], alpha_tg["value_text"], alpha_tg["unit"]) == (140.0, "140", "°F")
    default = json.loads(cli("export", "--format", "json").stdout)
    (zeta,) = [r for r in default if r["material"] == "Zeta"]
    assert (zeta["value_text"], zeta["unit"]) == ("3 to 6", "months")
    assert (zeta["value"], zeta["value_min"], zeta["value_max"], zeta["qualifier"]) == (None, 3.0, 6.0, "range")


def test_export_of_a_search_takes_match_and_uncertainty(cli):
    """``110 ± 4 GPa`` (Delta) meets ``> 112 GPa`` only as the interval [106, 114]; ``>100 GPa``
    (Gamma) meets it possibly, never certainly: the export holds what the search finds."""
    import csv
    import io

    def exported(*args: str) -> set[str]:
        result = cli("export", "--filter", "youngs_modulus > 112 GPa", *args)
        assert result.exit_code == 0, result.output
        return {row["material"] for row in csv.DictReader(io.StringIO(result.stdout))}

    def searched(*args: str) -> set[str]:
        result = cli("search", "--filter", "youngs_modulus > 112 GPa", "--json", *args)
        return {hit["name"] for hit in json.loads(result.stdout)["results"]}

    assert exported() == searched() == {"Gamma"}
    assert exported("--uncertainty", "interval") == searched("--uncertainty", "interval") == {"Gamma", "Delta"}
    assert exported("--match", "certain", "--uncertainty", "interval") == set()
    assert exported("--match", "certain", "--uncertainty", "interval") == searched(
        "--match", "certain", "--uncertainty", "interval"
    )
    assert cli("export", "--filter", "youngs_modulus >").exit_code == 2
    assert cli("export", "--filter", "class = metal", "--dataset", "x").exit_code == 2


def test_show_says_a_test_temperature_in_the_display_unit(cli):
    """Alpha's tensile strength was measured at 37 °C (stored as 310.15 K)."""
    default, us = cli("show", "Alpha").stdout, cli("show", "Alpha", "--unit-system", "US").stdout
    assert "at 37 °C" in default and "at 98.6 °F" in us
    assert "310.15" not in default + us and "temperature_C" not in default


def test_export_takes_the_sort_of_search_and_refuses_a_bad_one_alike(cli):
    """The API's export took ``sort`` and the CLI's had no ``--sort``."""
    import csv
    import io

    def order(*args: str) -> list[str]:
        result = cli("export", *args)
        assert result.exit_code == 0, result.output
        return list(dict.fromkeys(row["material"] for row in csv.DictReader(io.StringIO(result.stdout))))

    def searched(*args: str) -> list[str]:
        result = cli("search", "--json", "--limit", "500", *args)
        return [hit["name"] for hit in json.loads(result.stdout)["results"]]

    descending = order("--filter", "youngs_modulus > 0 GPa", "--sort", "-youngs_modulus")
    assert descending == searched("--filter", "youngs_modulus > 0 GPa", "--sort", "-youngs_modulus")
    assert descending == order("--filter", "youngs_modulus > 0 GPa", "--sort", "youngs_modulus")[::-1]
    assert len(descending) > 2
    # --sort alone exports every material, in that order (as GET /export?sort= does)
    assert order("--sort", "name") == searched("--sort", "name") == sorted(searched("--sort", "name"))
    refused_export = cli("export", "--sort", "youngs_modulos")
    refused_search = cli("search", "--sort", "youngs_modulos")
    assert refused_export.exit_code == refused_search.exit_code == 2
    assert refused_export.stderr == refused_search.stderr and "youngs_modulos" in refused_export.stderr
    assert "did you mean youngs_modulus" in refused_export.stderr
    refused = cli("export", "--sort", "name", "--dataset", "x")
    assert refused.exit_code == 2 and "--sort" in refused.stderr
    help_text = cli("export", "--help").stdout
    assert "--sort" in help_text


def test_sort_relevance_without_text_says_it_sorts_by_name(cli):
    """`--sort relevance` with no text fell back to name order without a word (as the API orders it)."""
    quiet = cli("search", "alpha", "--sort", "relevance", "--json")
    said = cli("search", "--filter", "has youngs_modulus", "--sort", "relevance", "--json")
    assert quiet.exit_code == said.exit_code == 0
    assert "note:" not in quiet.stderr
    assert "note: sort relevance needs text with a word to rank by; sorted by name instead" in said.stderr
    names = [hit["name"] for hit in json.loads(said.stdout)["results"]]
    assert names == sorted(names, key=str.casefold)


def test_the_help_has_no_stray_escape():
    result = CliRunner().invoke(app, ["search", "--help"], terminal_width=200)
    assert result.exit_code == 0 and "\\[" not in result.stdout and "v − u" in result.stdout
