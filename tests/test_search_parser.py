"""The filter language: a table of what users type → the model node, a table of mistakes →
where and why, and properties that hold for any text."""

import math
import re
from importlib import resources
from pathlib import Path

import pytest
from hypothesis import given, settings, strategies as st

from biomatdb.errors import QueryError
from biomatdb_search.model import (
    And,
    Condition,
    FieldFilter,
    HasProperty,
    Interval,
    Not,
    Or,
    PropertyFilter,
    Similarity,
    Substructure,
)
from biomatdb_search.parser import _ToModel, filter_parser, parse_filter
from biomatdb_search.service import build_query
from tests.profiles import examples

PSI_IN_MPA = 6.894757293168361e-3
KSI_IN_MPA = 6.894757293168361


def prop(key, *, low=None, high=None, low_open=False, high_open=False, where=()):
    return PropertyFilter(
        property=key, interval=Interval(low=low, high=high, low_open=low_open, high_open=high_open), where=tuple(where)
    )


def field(name, value, op="="):
    return FieldFilter(field=name, op=op, value=value)


def cond(name, value, op="="):
    return Condition(field=name, op=op, value=value)


def same(actual, expected) -> bool:
    """Model nodes equal up to float rounding in unit conversion."""
    return _close(actual.model_dump(), expected.model_dump())


def _close(a, b) -> bool:
    if isinstance(a, float) and isinstance(b, (int, float)):
        return math.isclose(a, b, rel_tol=1e-12, abs_tol=1e-12)
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_close(a[k], b[k]) for k in a)
    if isinstance(a, (list, tuple)) and isinstance(b, (list, tuple)):
        return len(a) == len(b) and all(_close(x, y) for x, y in zip(a, b, strict=True))
    return type(a) is type(b) and a == b


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        # the examples of the brief, one line each
        (
            "youngs_modulus >= 1 GPa AND density < 2 g/cm^3",
            And(items=(prop("youngs_modulus", low=1.0), prop("density", high=2.0, high_open=True))),
        ),
        (
            "youngs_modulus in 0.1..3 GPa AND class = polymer AND application = orthopaedic",
            And(
                items=(
                    prop("youngs_modulus", low=0.1, high=3.0),
                    field("class", "polymer"),
                    field("application", "orthopaedic"),
                )
            ),
        ),
        (
            "glass_transition_temperature > 37 degC AND NOT biodegradable = false",
            And(
                items=(
                    prop("glass_transition_temperature", low=310.15, low_open=True),
                    Not(item=field("biodegradable", False)),
                )
            ),
        ),
        (
            "(class = ceramic OR class = glass) AND has degradation_time",
            And(
                items=(
                    Or(items=(field("class", "ceramic"), field("class", "glass"))),
                    HasProperty(property="degradation_time"),
                )
            ),
        ),
        (
            "tensile_strength > 50 MPa WHERE medium = PBS AND temperature = 37 degC",
            prop(
                "tensile_strength", low=50.0, low_open=True, where=[cond("medium", "PBS"), cond("temperature", 310.15)]
            ),
        ),
        (
            "(tensile_strength > 50 MPa WHERE medium = PBS) AND class = polymer",
            And(
                items=(
                    prop("tensile_strength", low=50.0, low_open=True, where=[cond("medium", "PBS")]),
                    field("class", "polymer"),
                )
            ),
        ),
        (
            "class = polymer AND tensile_strength > 50 MPa WHERE medium = PBS",
            And(
                items=(
                    field("class", "polymer"),
                    prop("tensile_strength", low=50.0, low_open=True, where=[cond("medium", "PBS")]),
                )
            ),
        ),
        ("tensile_strength >= 100 ksi", prop("tensile_strength", low=100 * KSI_IN_MPA)),
        ("degradation_time < 6 month", prop("degradation_time", high=182.625, high_open=True)),
        ("water_contact_angle > 70 deg", prop("water_contact_angle", low=70.0, low_open=True)),
        ("porosity > 90 %", prop("porosity", low=90.0, low_open=True)),
        ("porosity > 90%", prop("porosity", low=90.0, low_open=True)),
        (
            'substructure("c1ccccc1") AND tensile_strength > 80 MPa',
            And(items=(Substructure(pattern="c1ccccc1"), prop("tensile_strength", low=80.0, low_open=True))),
        ),
        ('similarity("*O[C@@H](C)C(=O)*") >= 0.7', Similarity(smiles="*O[C@@H](C)C(=O)*", threshold=0.7)),
        ('similarity("*O[C@@H](C)C(=O)*") > 0.8', Similarity(smiles="*O[C@@H](C)C(=O)*", threshold=0.8)),
        ('similarity("CCO")', Similarity(smiles="CCO", threshold=0.7)),
        ("similarity('F/C=C\\F') >= 0.5", Similarity(smiles="F/C=C\\F", threshold=0.5)),
        # aliases, quoted names, case
        ("E >= 1 GPa", prop("youngs_modulus", low=1.0)),
        ("Tg < 0 degC", prop("glass_transition_temperature", high=273.15, high_open=True)),
        ("Young's modulus > 1 GPa", prop("youngs_modulus", low=1.0, low_open=True)),
        ('"Young’s modulus" > 1 GPa', prop("youngs_modulus", low=1.0, low_open=True)),
        ("'modulus in compression' >= 1 GPa", prop("compressive_modulus", low=1.0)),
        ('"Ca/P" = 1.67', prop("ca_p_ratio", low=1.67, high=1.67)),
        ("storage modulus > 1 kPa", prop("storage_modulus", low=1.0, low_open=True)),
        (
            "youngs_modulus IN 1..2 GPa and CLASS = Polymer",
            And(items=(prop("youngs_modulus", low=1.0, high=2.0), field("class", "polymer"))),
        ),
        ("not has porosity", Not(item=HasProperty(property="porosity"))),
        # operators and numbers
        ("youngs_modulus = 3 GPa", prop("youngs_modulus", low=3.0, high=3.0)),
        ("youngs_modulus == 3 GPa", prop("youngs_modulus", low=3.0, high=3.0)),
        ("youngs_modulus <= 3 GPa", prop("youngs_modulus", high=3.0)),
        ("youngs_modulus ≥ 3 GPa", prop("youngs_modulus", low=3.0)),
        (
            "youngs_modulus != 3 GPa",
            Or(
                items=(prop("youngs_modulus", high=3.0, high_open=True), prop("youngs_modulus", low=3.0, low_open=True))
            ),
        ),
        ("youngs_modulus in 3..3 GPa", prop("youngs_modulus", low=3.0, high=3.0)),
        ("youngs_modulus in 1.2e3..1.5e3 MPa", prop("youngs_modulus", low=1.2, high=1.5)),
        ("Tg < -60 degC", prop("glass_transition_temperature", high=213.15, high_open=True)),
        ("Tg < −60 °C", prop("glass_transition_temperature", high=213.15, high_open=True)),
        ("Tg in -60..37 °C", prop("glass_transition_temperature", low=213.15, high=310.15)),
        ("Tg > 98.6 degF", prop("glass_transition_temperature", low=310.15, low_open=True)),
        ("Tg > 300 K", prop("glass_transition_temperature", low=300.0, low_open=True)),
        ("poissons_ratio < 0.3", prop("poissons_ratio", high=0.3, high_open=True)),
        # units
        ("density < 2 g/cm³", prop("density", high=2.0, high_open=True)),
        ("density <= 2000 kg/m^3", prop("density", high=2.0)),
        ('density <= 2 "g / cm^3"', prop("density", high=2.0)),
        ("fracture_toughness > 2 MPa*m^0.5", prop("fracture_toughness", low=2.0, low_open=True)),
        ("fracture_toughness > 2 MPa√m", prop("fracture_toughness", low=2.0, low_open=True)),
        ("youngs_modulus > 100 kPa", prop("youngs_modulus", low=1e-4, low_open=True)),
        ("youngs_modulus > 1000 psi", prop("youngs_modulus", low=PSI_IN_MPA, low_open=True)),
        ("pore_size < 1 in", prop("pore_size", high=25400.0, high_open=True)),
        # material fields
        ("class = alloy", field("class", "metal")),
        ("class != Bioglass", field("class", "glass", "!=")),
        ('application = "soft tissue"', field("application", "soft_tissue")),
        ("biodegradable = yes", field("biodegradable", True)),
        ("biodegradable != No", field("biodegradable", False, "!=")),
        ("origin = Natural", field("origin", "natural")),
        ("dataset = ti64_review", field("dataset", "ti64_review")),
        ("dataset = 2024", field("dataset", "2024")),
        ("id = BM-000123", field("id", "BM-000123")),
        # WHERE
        (
            'tensile_strength > 50 MPa WHERE medium = "phosphate buffered saline"',
            prop("tensile_strength", low=50.0, low_open=True, where=[cond("medium", "PBS")]),
        ),
        (
            "tensile_strength > 50 MPa where medium = phosphate buffered saline and state = dry",
            prop(
                "tensile_strength",
                low=50.0,
                low_open=True,
                where=[cond("medium", "PBS"), cond("specimen_state", "dry")],
            ),
        ),
        (
            "E > 1 GPa WHERE temperature >= 37 °C AND method != DMA AND standard = 'ISO 527' AND source = doi",
            prop(
                "youngs_modulus",
                low=1.0,
                low_open=True,
                where=[
                    cond("temperature", 310.15, ">="),
                    cond("method", "DMA", "!="),
                    cond("standard", "ISO 527"),
                    cond("source", "doi"),
                ],
            ),
        ),
        (
            "E in 1..2 GPa WHERE dataset = ti64_review",
            prop("youngs_modulus", low=1.0, high=2.0, where=[cond("dataset", "ti64_review")]),
        ),
        (
            "has tensile_strength WHERE specimen_state = wet",
            prop("tensile_strength", where=[cond("specimen_state", "hydrated")]),
        ),
        (
            "E != 3 GPa WHERE state = dry",
            Or(
                items=(
                    prop("youngs_modulus", high=3.0, high_open=True, where=[cond("specimen_state", "dry")]),
                    prop("youngs_modulus", low=3.0, low_open=True, where=[cond("specimen_state", "dry")]),
                )
            ),
        ),
        (
            "NOT E > 1 GPa WHERE medium = PBS",
            Not(item=prop("youngs_modulus", low=1.0, low_open=True, where=[cond("medium", "PBS")])),
        ),
        # precedence: NOT over AND over OR; chains flatten
        (
            "class = metal OR class = glass AND NOT class = polymer",
            Or(
                items=(
                    field("class", "metal"),
                    And(items=(field("class", "glass"), Not(item=field("class", "polymer")))),
                )
            ),
        ),
        (
            "class = metal AND (class = glass AND class = polymer) AND has porosity",
            And(
                items=(
                    field("class", "metal"),
                    field("class", "glass"),
                    field("class", "polymer"),
                    HasProperty(property="porosity"),
                )
            ),
        ),
        ("NOT NOT class = metal", Not(item=Not(item=field("class", "metal")))),
    ],
)
def test_parses_to_the_model_node(text, expected):
    assert same(parse_filter(text), expected), parse_filter(text)


@pytest.mark.parametrize(
    ("text", "type_", "position", "message", "expected"),
    [
        # syntax: position and what would have been accepted there
        ("youngs_modulus >= ", "syntax-error", 18, "ends too early", "a number"),
        ("youngs_modulus 3 GPa", "syntax-error", 15, "unexpected '3'", "in"),
        ("class = polymer)", "syntax-error", 15, "unexpected ')'", "the end of the filter"),
        ("(class = polymer", "syntax-error", 16, "ends too early", ")"),
        ("density > 1 g/cm^3 density < 2 g/cm^3", "syntax-error", 19, "unexpected 'density'", "AND"),
        ("class = polymer AND", "syntax-error", 19, "ends too early", "a property or field name"),
        ("class = 'polymer", "syntax-error", 8, "unclosed quote", "'"),
        ("E > 1 GPa WHERE medium = PBS OR class = polymer", "syntax-error", 29, "in parentheses", "AND"),
        (
            "E > 1 GPa WHERE",
            "syntax-error",
            15,
            "ends too early",
            ("a condition (temperature, medium, method, standard, specimen_state, state, dataset, source)"),
        ),
        ("has", "syntax-error", 3, "ends too early", "a property name"),
        ("   ", "syntax-error", 0, "empty", "a property or field name"),
        ("density > 1 g/cm^3 @", "syntax-error", 19, "unexpected '@'", "AND"),
        # names
        ("youngs_modulos > 1 GPa", "unknown-property", 0, "did you mean youngs_modulus", "youngs_modulus"),
        ("class = polymer AND has porositty", "unknown-property", 24, "did you mean porosity", "porosity"),
        ("class = polymr", "unknown-class", 8, "did you mean polymer", "polymer"),
        ("application = cardiovasculr", "unknown-application", 14, "did you mean cardiovascular", "cardiovascular"),
        ("biodegradable = maybe", "invalid-value", 16, "true or false", "true"),
        ("origin = alien", "invalid-value", 9, "natural or synthetic", "synthetic"),
        ("E > 1 GPa WHERE temprature = 37 degC", "unknown-condition", 16, "did you mean temperature", "temperature"),
        ("E > 1 GPa WHERE medium = PBS AND class = polymer", "unknown-condition", 33, "in parentheses", "medium"),
        ("class = polymer WHERE medium = PBS", "syntax-error", 16, "belong to a property filter", ")"),
        ("class > polymer", "syntax-error", 6, "= or != only", "!="),
        ("E > 1 GPa WHERE medium < PBS", "syntax-error", 23, "= or != only", "="),
        ("density > light", "syntax-error", 10, "a number and a unit", "a number"),
        # units
        ("density > 1 MPa", "unit-error", 12, "does not fit density", "g/cm³"),  # the units as shown
        ("Tg > 37 kg", "unit-error", 8, "does not fit glass_transition_temperature", "°C"),
        ("water_contact_angle > 70", "unit-error", 24, "no unit given", "°"),
        ("porosity > 90", "unit-error", 13, "no unit given", "%"),
        ("E > 1 GPa WHERE temperature = 37", "unit-error", 32, "no unit given for temperature", "K"),
        ("E > 1 GPa WHERE temperature = 37 MPa", "unit-error", 33, "does not fit temperature", "K"),
        ("density > 1 furlongs_per_fortnight", "unknown-unit", 12, "unknown unit", "g/cm³"),
        ("E in 1..2 blorps", "unknown-unit", 10, "unknown unit", "GPa"),
        # numbers and intervals
        ("youngs_modulus in 3..1 GPa", "empty-interval", 18, "3 is above 1", "a number up to 1"),
        ("youngs_modulus > 1e999 GPa", "invalid-number", 17, "not a finite number", "a finite number"),
        ("Tg in 1..1e400 K", "invalid-number", 9, "not a finite number", "a finite number"),
        ("tensile_strength > 1e308 ksi", "invalid-number", 19, "too large", "a finite number"),
        # structures
        ('substructure("c1ccc(")', "structure-error", 19, "SMARTS Parse Error", "a valid SMARTS or SMILES"),
        ('substructure("C1CC")', "structure-error", 13, "unclosed ring", "a valid SMARTS or SMILES"),
        ('substructure("  ")', "structure-error", 13, "needs a SMARTS", "a SMARTS or SMILES pattern"),
        ('similarity("C(C)(C)(C)(C)C")', "structure-error", 11, "Explicit valence", "a valid SMILES"),
        ('similarity("CC(")', "structure-error", 14, "SMILES Parse Error", "a valid SMILES"),
        ('similarity("CCO") < 0.5', "syntax-error", 18, ">= (or >)", ">="),
        ('similarity("CCO") >= 1.5', "invalid-number", 21, "between 0 and 1", "a number between 0 and 1"),
    ],
)
def test_refuses_with_position_and_reason(text, type_, position, message, expected):
    with pytest.raises(QueryError) as caught:
        parse_filter(text)
    error = caught.value
    assert (error.type, error.position) == (type_, position), error.message
    assert message in error.message
    assert expected in error.expected


def test_a_where_clause_may_not_run_into_an_or_silently():
    """Regression guard for the reading that would widen `… WHERE dataset = A OR dataset = B`."""
    with pytest.raises(QueryError) as caught:
        parse_filter("E > 1 GPa WHERE dataset = a OR dataset = b")
    assert caught.value.position == 28
    assert same(
        parse_filter("(E > 1 GPa WHERE dataset = a) OR dataset = b"),
        Or(items=(prop("youngs_modulus", low=1.0, low_open=True, where=[cond("dataset", "a")]), field("dataset", "b"))),
    )


def test_keywords_are_words_only_where_a_keyword_may_stand():
    with pytest.raises(QueryError, match="unknown material class 'android'"):
        parse_filter("class = android")
    assert same(
        parse_filter("E > 1 GPa WHERE medium = not specified"),
        prop("youngs_modulus", low=1.0, low_open=True, where=[cond("medium", "not specified")]),
    )


def test_nesting_and_the_number_of_conditions_are_bounded():
    """A chain of 2,000 ORs used to parse, then took SQLite minutes or failed there ("Expression tree
    is too large"): it is refused up front with a message that says what to write instead."""
    with pytest.raises(QueryError) as caught:
        parse_filter("NOT " * 40 + "class = metal")
    assert caught.value.type == "too-complex"
    chain = parse_filter(" OR ".join(f"id = m{i}" for i in range(50)))
    assert isinstance(chain, Or) and len(chain.items) == 50
    for joiner in (" OR ", " AND "):
        with pytest.raises(QueryError) as caught:
            parse_filter(joiner.join(f"E > {i} GPa" for i in range(51)))
        assert caught.value.type == "too-complex" and caught.value.position == 0
        assert "51 conditions; at most 50" in caught.value.message and "in 1..3 GPa" in caught.value.message
    assert parse_filter("(" * 500 + "class = metal" + ")" * 500) == field("class", "metal")


def test_the_grammar_ships_as_package_data_and_each_rule_has_its_method():
    grammar = resources.files("biomatdb_search").joinpath("grammar/filter_v1.lark").read_text(encoding="utf-8")
    filter_parser()  # builds without conflicts being an error
    rules = set(re.findall(r"^\??([a-z_]+):", grammar, re.MULTILINE)) | set(re.findall(r"->\s*([a-z_]+)", grammar))
    inlined = {
        "start",
        "expr",
        "disjunction",
        "disjunction_open",
        "conjunction",
        "conjunction_open",
        "negation",
        "negation_open",
        "atom",
        "value",
    }
    quoted_as = {"or_": "disjunction", "and_": "conjunction", "not_": "negation"}  # aliases quote their rule
    for rule in rules - inlined:
        docstring = getattr(_ToModel, rule).__doc__ or ""
        assert f"``{quoted_as.get(rule, rule)}: " in docstring, rule


DOCS = Path(__file__).resolve().parent.parent / "docs" / "search.md"


def _documented_filters() -> list[str]:
    blocks = re.findall(r"```filter\n(.*?)```", DOCS.read_text(encoding="utf-8"), re.DOTALL)
    return [line for block in blocks for line in block.splitlines() if line.strip()]


@pytest.mark.parametrize("text", _documented_filters())
def test_every_example_in_the_docs_parses(text):
    parse_filter(text)


# --- properties that hold for any text ------------------------------------------------------

_PIECES = st.sampled_from(
    [
        "density",
        "E",
        "Tg",
        "class",
        "has ",
        "NOT ",
        " AND ",
        " OR ",
        " WHERE ",
        " in ",
        "..",
        "(",
        ")",
        "=",
        "!=",
        "<",
        ">=",
        "1",
        "-2.5",
        "−3",
        "1e999",
        "GPa",
        "g/cm^3",
        "°C",
        "%",
        "MPa√m",
        "polymer",
        "medium",
        "temperature",
        '"',
        "'",
        "substructure(",
        "similarity(",
        '"c1ccccc1"',
        "contains(",
        "composition.",
        "Ni",
        "wt%",
        "at%",
        "vol%",
        "state",
        " ",
        "@",
        "√",
        "...",
    ]
)


@settings(max_examples=examples(400), deadline=None)
@given(st.one_of(st.text(max_size=60), st.lists(_PIECES, max_size=20).map("".join)))
def test_any_text_parses_or_fails_with_a_query_error_inside_the_text(text):
    try:
        parse_filter(text)
    except QueryError as error:
        assert error.position is not None and 0 <= error.position <= len(text)
        assert error.message


# Generated filters: a model node and the text that writes it, parsed back to the node.

_QUANTITIES = [
    ("youngs_modulus", "GPa"),
    ("tensile_strength", "MPa"),
    ("glass_transition_temperature", "K"),
    ("density", "g/cm**3"),
    ("porosity", "%"),
    ("poissons_ratio", ""),
]
_finite = st.floats(allow_nan=False, allow_infinity=False, min_value=-1e300, max_value=1e300)
_word = st.from_regex(r"[A-Za-z][A-Za-z0-9_]{0,8}", fullmatch=True).filter(
    lambda w: w.casefold() not in {"and", "or", "not", "where", "in", "has", "similarity", "substructure", "contains"}
)


@st.composite
def _conditions(draw):
    conditions = []
    for _ in range(draw(st.integers(0, 2))):
        if draw(st.booleans()):
            kelvin = draw(st.floats(min_value=0, max_value=5000))
            op = draw(st.sampled_from(["=", "!=", "<", "<=", ">", ">="]))
            conditions.append((f"temperature {op} {kelvin!r} K", cond("temperature", kelvin, op)))
        else:
            name = draw(st.sampled_from(["medium", "method", "standard", "specimen_state", "dataset", "source"]))
            value = draw(st.one_of(_word, st.lists(_word, min_size=2, max_size=3).map(" ".join)))
            op = draw(st.sampled_from(["=", "!="]))
            conditions.append((f'{name} {op} "{value}"', cond(name, value, op)))
    return conditions


@st.composite
def _property_filters(draw):
    key, unit = draw(st.sampled_from(_QUANTITIES))
    op = draw(st.sampled_from(["=", "<", "<=", ">", ">=", "in"]))
    x = draw(_finite)
    if op == "in":
        y = draw(_finite)
        low, high = min(x, y), max(x, y)
        text, node = f"{key} in {low!r}..{high!r} {unit}", prop(key, low=low, high=high)
    else:
        text = f"{key} {op} {x!r} {unit}"
        node = prop(
            key,
            **{
                "=": {"low": x, "high": x},
                "<": {"high": x, "high_open": True},
                "<=": {"high": x},
                ">": {"low": x, "low_open": True},
                ">=": {"low": x},
            }[op],
        )
    conditions = draw(_conditions())
    if conditions:
        text = f"({text} WHERE {' AND '.join(t for t, _ in conditions)})"
        node = PropertyFilter(property=node.property, interval=node.interval, where=tuple(c for _, c in conditions))
    return text, node


_leaves = st.one_of(
    _property_filters(),
    st.sampled_from(["metal", "ceramic", "polymer", "hydrogel"]).map(lambda c: (f"class = {c}", field("class", c))),
    st.sampled_from(["orthopaedic", "dental"]).map(lambda a: (f"application != {a}", field("application", a, "!="))),
    st.booleans().map(lambda b: (f"biodegradable = {str(b).lower()}", field("biodegradable", b))),
    st.sampled_from(["density", "porosity"]).map(lambda k: (f"has {k}", HasProperty(property=k))),
    st.floats(0, 1).map(lambda t: (f'similarity("CCO") >= {t!r}', Similarity(smiles="CCO", threshold=t))),
)


def _combine(children):
    def joined(kind, parts):
        word = " AND " if kind is And else " OR "
        items: list[str] = []
        for _, node in parts:
            items += node.items if isinstance(node, kind) else [node]  # the parser flattens
        return "(" + word.join(text for text, _ in parts) + ")", kind(items=tuple(items))

    return st.one_of(
        st.lists(children, min_size=2, max_size=3).map(lambda parts: joined(And, parts)),
        st.lists(children, min_size=2, max_size=3).map(lambda parts: joined(Or, parts)),
        children.map(lambda part: (f"NOT {part[0]}", Not(item=part[1]))),
    )


@settings(max_examples=examples(150), deadline=None)
@given(st.recursive(_leaves, _combine, max_leaves=8))
def test_generated_filters_parse_back_to_their_node(case):
    text, node = case
    assert same(parse_filter(text), node), text


@pytest.mark.parametrize(
    ("filter_text", "unit"),
    [("specific_stiffness > 25", "GPa·cm³/g"), ("youngs_modulus^(1/3)/density > 2", "GPa^⅓·cm³/g")],
)
def test_a_missing_unit_is_asked_for_as_people_write_it(filter_text, unit):
    """The refusal read "expected a unit like GPa**(1/3)/(g/cm**3)", pint's spelling."""
    with pytest.raises(QueryError) as refused:
        build_query(filter_text=filter_text)
    assert refused.value.message.endswith(f"expected a unit like {unit}") and "**" not in refused.value.message
