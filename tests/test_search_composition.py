"""Composition filters (docs/search.md, "Composition"): what a composition's components and a
structure's atoms say of a material's elements (biomatdb/elements.py), how the filter language
writes it (search/biomatdb_search/composition.py), and what SQL (SQLite, PostgreSQL) and the in-memory index
answer on a small dataset whose answers are known by hand. Every backend's answers are compared
on the fixtures by the parity suite (tests/search_parity_cases.py)."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from biomatdb.elements import StoredComponent, derive, parse_formula
from biomatdb.errors import QueryError
from biomatdb.models import MaterialElement
from biomatdb_ingest.composition import parse_composition
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.sql import SqlBackend
from biomatdb_search.memory import MemoryIndexes
from biomatdb_search.model import And, Contains, ElementContent, FieldFilter, Interval, Not, Or
from biomatdb_search.parser import parse_filter
from biomatdb_search.service import build_query
from tests.preloaded import preloaded

# --- what a component is made of ------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "atoms"),
    [
        ("Ti", {"Ti": 1}),
        ("C", {"C": 1}),
        ("Al2O3", {"Al": 2, "O": 3}),
        ("MgO", {"Mg": 1, "O": 1}),
        ("Ca10(PO4)6(OH)2", {"Ca": 10, "P": 6, "O": 26, "H": 2}),
        ("CaHPO4·2H2O", {"Ca": 1, "H": 5, "P": 1, "O": 6}),
        ("Ca(H2PO4)2·H2O", {"Ca": 1, "H": 6, "P": 2, "O": 9}),
        ("HA", None),  # an abbreviation, not hydrogen and an unknown "A"
        ("PS", None),  # capitals without a digit: an abbreviation, not phosphorus sulfide
        ("WC", None),
        ("lactyl", None),
        ("Xy2O", None),
        ("Ca(PO4", None),
        ("", None),
    ],
)
def test_a_formula_gives_its_atoms_and_an_abbreviation_none(text, atoms):
    assert parse_formula(text) == atoms


def _contents(composition: str, structure: str | None = None) -> tuple[dict, set]:
    parsed = parse_composition(composition) if composition else ()
    assert not isinstance(parsed, str), parsed
    components = [
        StoredComponent(c.component, c.fraction, c.fraction_max, c.basis, c.is_balance, c.qualifier) for c in parsed
    ]
    rows, complete = derive(components, structure)
    return {
        (row.element, row.basis): (
            (round(row.share.low, 2), round(row.share.high, 2)) if row.share else None,
            row.presence,
        )
        for row in rows
    }, complete


def test_the_balance_is_what_the_others_leave_as_an_interval():
    contents, complete = _contents("Ti bal; Al 5.5-6.75 wt%; V 3.5-4.5 wt%; Fe ≤0.30 wt%; O ≤0.20 wt%")
    assert contents == {
        ("Ti", "wt"): ((88.25, 91.0), "certain"),
        ("Al", "wt"): ((5.5, 6.75), "certain"),
        ("V", "wt"): ((3.5, 4.5), "certain"),
        ("Fe", "wt"): ((0.0, 0.3), "possible"),  # a trace limit: there or not
        ("O", "wt"): ((0.0, 0.2), "possible"),
    }
    assert complete == {"wt"}


def test_a_compound_by_mass_gives_its_elements_their_mass_fractions():
    contents, complete = _contents("HA 60 wt%; beta-TCP 40 wt%")
    assert contents[("Ca", "wt")] == ((39.44, 39.44), "certain")  # 0.6 × 39.89 % + 0.4 × 38.76 %
    assert complete == {"wt"}


def test_an_element_in_at_or_mol_percent_is_atom_percent_and_the_balance_takes_that_basis():
    contents, complete = _contents("Ni 50 mol%; Ti bal")
    assert contents == {("Ni", "at"): ((50.0, 50.0), "certain"), ("Ti", "at"): ((50.0, 50.0), "certain")}
    assert complete == {"at"}


@pytest.mark.parametrize(
    "composition",
    ["ZrO2 97 mol%; Y2O3 3 mol%", "PEEK bal; hydroxyapatite 40 vol%"],
)
def test_compounds_by_moles_or_volume_give_presence_only(composition):
    contents, complete = _contents(composition)
    assert contents and all(basis is None and share is None for (_, basis), (share, _) in contents.items())
    assert complete == set()


def test_an_unknown_component_leaves_room_for_every_element_it_may_hold():
    contents, complete = _contents("collagen bal; hydroxyapatite 50-80 wt%")
    assert contents[("Ca", "wt")] == ((19.95, 81.92), "certain")  # at most what HA gives, plus collagen's 50 %
    assert complete == set()
    contents, _ = _contents("Al 5 wt%; HA 30 vol%")
    assert contents[("Al", "wt")] == ((5.0, 5.0), "certain")  # an element named alone states its own content


def test_a_structure_gives_its_atoms_and_a_copolymer_of_units_no_content():
    contents, complete = _contents("", "*CC(*)c1ccccc1")
    assert contents == {("C", "wt"): ((92.26, 92.26), "certain"), ("H", "wt"): ((7.74, 7.74), "certain")}
    assert complete == {"wt"}
    contents, complete = _contents("lactyl 50 mol%; glycolyl 50 mol%", "*OC(C)C(=O)*.*OCC(=O)*")
    assert contents == {(e, None): (None, "certain") for e in ("C", "H", "O")} and complete == set()


# --- the filter language --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "node"),
    [
        ("composition.Ni = 0 wt%", ElementContent(element="Ni", basis="wt", interval=Interval(low=0, high=0))),
        ("contains(Ni)", Contains(element="Ni")),
        ("NOT contains(Ni)", Not(item=Contains(element="Ni"))),
        (
            "composition.Al in 5.5..6.75 wt%",
            ElementContent(element="Al", basis="wt", interval=Interval(low=5.5, high=6.75)),
        ),
        ("contains(ni)", Contains(element="Ni")),
        ("CONTAINS(In)", Contains(element="In")),  # indium, not the keyword
        (
            "composition.Ti >= 80 at.%",
            ElementContent(element="Ti", basis="at", interval=Interval(low=80)),
        ),
        (
            "composition.Ni < 1 mol%",
            ElementContent(element="Ni", basis="at", interval=Interval(high=1, high_open=True)),
        ),
        (
            "composition.Fe != 2 wt%",
            Or(
                items=(
                    ElementContent(element="Fe", basis="wt", interval=Interval(high=2, high_open=True)),
                    ElementContent(element="Fe", basis="wt", interval=Interval(low=2, low_open=True)),
                )
            ),
        ),
    ],
)
def test_composition_filters_parse(text, node):
    assert parse_filter(text) == node


def test_contains_and_a_field_parse_together():
    assert parse_filter("contains(Ca) AND class = ceramic") == And(
        items=(Contains(element="Ca"), FieldFilter(field="class", value="ceramic"))
    )
    assert parse_filter("NOT contains(Ni) AND class = metal") == And(
        items=(Not(item=Contains(element="Ni")), FieldFilter(field="class", value="metal"))
    )


@pytest.mark.parametrize(
    ("text", "error_type", "position"),
    [
        ("composition.Ni = 0 MPa", "unit-error", 19),
        ("composition.Ni = 0", "unit-error", 18),
        ("composition.Ni = 0 %", "unit-error", 19),
        ("composition.Ni < 5 vol%", "unit-error", 19),
        ("composition.Al in 5.5..6.75 GPa", "unit-error", 28),
        ("composition.Xx = 1 wt%", "unknown-element", 12),
        ("contains(Nii)", "unknown-element", 9),
        ("composition.Ni > 120 wt%", "invalid-number", 17),
        ("composition.Ni in 5..1 wt%", "empty-interval", 18),
        ("contains(Ni) WHERE medium = PBS", "syntax-error", 13),
    ],
)
def test_a_wrong_composition_filter_is_refused_where_it_goes_wrong(text, error_type, position):
    with pytest.raises(QueryError) as refused:
        parse_filter(text)
    assert (refused.value.type, refused.value.position) == (error_type, position)


def test_a_wrong_unit_names_the_composition_units():
    with pytest.raises(QueryError) as refused:
        parse_filter("composition.Ni = 0 MPa")
    assert refused.value.expected == ["wt%", "at%"] and "MPa is not a composition unit" in refused.value.message


# --- answers, on SQLite and PostgreSQL, in SQL and from the in-memory index -----------------

COMPOSITIONS_CSV = (
    "Material,Class,Composition,SMILES,Density (g/cm3)\n"
    'Trace nickel alloy,metal,"Co bal; Cr 27-30 wt%; Ni ≤0.5 wt%",,8.3\n'
    'Nickel alloy,metal,"Ni 54.5-57.0 wt%; Ti bal",,6.45\n'
    'Atomic nickel alloy,metal,"Ni 50 at%; Ti bal",,6.46\n'
    'Titanium alloy,metal,"Ti bal; Al 5.5-6.75 wt%; V 3.5-4.5 wt%",,4.43\n'
    "Unknown metal,metal,,,7.0\n"
    'Open zirconium alloy,metal,"Mg bal; Zr ≥0.4 wt%",,1.8\n'
    'Calcium ceramic,ceramic,"HA 60 wt%; beta-TCP 40 wt%",,3.1\n'
    'Zirconia,ceramic,"ZrO2 97 mol%; Y2O3 3 mol%",,6.0\n'
    'Collagen composite,composite,"collagen bal; hydroxyapatite 50-80 wt%",,1.8\n'
    "Styrene polymer,polymer,,*CC(*)c1ccccc1,1.05\n"
)

ANSWERS = [
    # filter, possible matches, certain matches
    (
        "contains(Ni)",
        {"Trace nickel alloy", "Nickel alloy", "Atomic nickel alloy"},
        {"Nickel alloy", "Atomic nickel alloy"},
    ),
    (
        "NOT contains(Ni) AND class = metal",
        {"Titanium alloy", "Unknown metal", "Open zirconium alloy"},
        {"Titanium alloy", "Unknown metal", "Open zirconium alloy", "Trace nickel alloy"},
    ),
    (
        "composition.Ni = 0 wt%",
        {"Trace nickel alloy", "Titanium alloy", "Open zirconium alloy", "Calcium ceramic", "Styrene polymer"},
        {"Titanium alloy", "Open zirconium alloy", "Calcium ceramic", "Styrene polymer"},
    ),
    ("composition.Ni in 40..60 at%", {"Atomic nickel alloy"}, {"Atomic nickel alloy"}),
    ("composition.Ni in 40..60 wt%", {"Nickel alloy"}, {"Nickel alloy"}),
    ("composition.Al in 5.5..6.75 wt%", {"Titanium alloy"}, {"Titanium alloy"}),
    ("composition.Al > 0 wt%", {"Titanium alloy"}, {"Titanium alloy"}),
    ("contains(Ca) AND class = ceramic", {"Calcium ceramic"}, {"Calcium ceramic"}),
    ("composition.Ca > 30 wt%", {"Calcium ceramic", "Collagen composite"}, {"Calcium ceramic"}),
    ("composition.Zr > 50 wt%", {"Open zirconium alloy"}, set()),
    ("contains(Zr)", {"Zirconia", "Open zirconium alloy"}, {"Zirconia", "Open zirconium alloy"}),
    ("composition.C > 90 wt%", {"Styrene polymer"}, {"Styrene polymer"}),
    ("contains(H) AND class = polymer", {"Styrene polymer"}, {"Styrene polymer"}),
    ("composition.Ti in 40..50 wt%", {"Nickel alloy"}, {"Nickel alloy"}),
]


@preloaded
def compositions_core(engine, directory):
    data = directory / "compositions.csv"
    data.write_text(COMPOSITIONS_CSV, encoding="utf-8")
    report = ingest_file(engine, data)
    assert report.ok, report.errors[:3]


@pytest.mark.parametrize(("filter_text", "possible", "certain"), ANSWERS)
def test_composition_filters_answer_as_worked_out_by_hand(compositions_core, filter_text, possible, certain):
    in_sql = SqlBackend(compositions_core)
    in_memory = SqlBackend(compositions_core, memory=MemoryIndexes(), wait_for_memory=True)
    for match, expected in (("possible", possible), ("certain", certain)):
        query = build_query(filter_text=filter_text, facets=["element", "class"], sort="name", limit=50, match=match)
        answer = in_sql.search(query)
        assert {hit.name for hit in answer.results} == expected, match
        remembered = in_memory.search(query)
        assert [h.id for h in remembered.results] == [h.id for h in answer.results]
        assert remembered.facets == answer.facets and remembered.total == answer.total


def test_the_element_facet_counts_what_contains_finds(compositions_core):
    backend = SqlBackend(compositions_core)
    facet = backend.search(build_query(facets=["element"], limit=1)).facets["element"]
    counts = {value.value: value.count for value in facet}
    assert counts["Ni"] == 3 and counts["Ca"] == 2 and "Cr" in counts
    for element, count in counts.items():
        assert backend.search(build_query(filter_text=f"contains({element})", limit=1)).total == count, element
    narrowed = backend.search(build_query(filter_text="class = ceramic", facets=["element"], limit=1))
    assert {v.value: v.count for v in narrowed.facets["element"]}["Ca"] == 1  # over the same filtered set


def test_a_reupload_keeps_the_element_rows_as_they_were(compositions_core, tmp_path):
    def rows():
        with compositions_core.connect() as connection:
            return sorted(
                connection.execute(
                    select(MaterialElement.element, MaterialElement.basis, MaterialElement.fraction_min)
                ).all(),
                key=repr,
            )

    before = rows()
    data = tmp_path / "compositions.csv"
    data.write_text(COMPOSITIONS_CSV, encoding="utf-8")
    assert ingest_file(compositions_core, data).ok
    assert rows() == before and len(before) > 20


def test_the_search_page_lists_elements_as_links_that_narrow_by_contains():
    from biomatdb_api.ui.pages import facet_links
    from biomatdb_search.model import FacetValue

    groups = facet_links({"element": [FacetValue(value="Ni", count=3)]}, "", "class = metal")
    (group,) = groups
    assert group["title"] == "Contains element"
    (link,) = group["links"]
    assert (link["label"], link["count"], link["active"]) == ("Ni", 3, False)
    assert link["href"] == "/?filter=class+%3D+metal+AND+contains%28Ni%29"
    parse_filter("class = metal AND contains(Ni)")  # what the link asks for is a filter
