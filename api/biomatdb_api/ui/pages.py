"""What the pages show, assembled from the core: result rows with key properties, facet
links, properties grouped by category, similar materials, comparisons (the About page's
cards are ``biomatdb_api.ui.about``'s)."""

from __future__ import annotations

import math
import re
from collections import defaultdict
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlencode

from sqlalchemy import Engine, func, select

from biomatdb.display import (
    Converter,
    UnitChoice,
    scientific_row,
    shown_derived,
    shown_measurement,
    temperature_text,
    verbatim,
)
from biomatdb.errors import QueryError
from biomatdb.models import Material, Measurement, has_value
from biomatdb.units import conversion
from biomatdb.vocabulary import get_vocabulary
from biomatdb_api.ui.depict import structure_svg
from biomatdb_api.ui.display import View, display_choices, unit_label
from biomatdb_search.clauses import with_clause, without_clause
from biomatdb_search.model import FacetValue, Hit, MatchedMeasurement, SearchResult

FILTER_EXAMPLES = (
    "youngs_modulus in 0.1..3 GPa AND class = polymer",
    "tensile_strength > 50 MPa",
    "glass_transition_temperature < 37 degC",
    "biodegradable = yes AND has degradation_time",
    'substructure("C(=O)O")',
    "class = hydrogel OR class = natural",
)
ASHBY_EXAMPLES = ("class = polymer", "biodegradable = yes", "NOT class = composite")

KEY_PROPERTIES = (
    "youngs_modulus",
    "tensile_strength",
    "glass_transition_temperature",
    "density",
    "elongation_at_break",
    "degradation_time",
    "melting_temperature",
)
SHOWN_PER_RESULT = 3

# Okabe & Ito's palette, told apart with every common colour-vision deficiency; reference
# tissues are black and drawn as diamonds, so they never pass for a material class.
CLASS_COLOURS = {
    "metal": "#0072B2",
    "ceramic": "#E69F00",
    "glass": "#56B4E9",
    "polymer": "#009E73",
    "hydrogel": "#CC79A7",
    "natural": "#D55E00",
    "composite": "#F0E442",
    "tissue": "#000000",
}
_CLASS_ORDER = list(CLASS_COLOURS)
_BARE_WORD = re.compile(r"^[^\W\d][\w'\-]*$")
CONDITION_LABELS = {"medium": "medium", "method": "method", "standard": "standard", "specimen_state": "specimen"}


def class_colour(name: str) -> str:
    return CLASS_COLOURS.get(name, "#7f7f7f")


def class_order(name: str) -> tuple[int, str]:
    return (_CLASS_ORDER.index(name) if name in _CLASS_ORDER else len(_CLASS_ORDER), name)


#: What a query error is about, by its type, when it is not the filter text: the input it names
#: and the heading a page shows over it (an error of any other type is the filter's).
ERROR_SUBJECTS: dict[str, tuple[str, str]] = {
    "bad-cursor": ("cursor", "The link to this page of results has a problem"),
}
FILTER_SUBJECT = ("filter", "The filter has a problem")


def positioned_error(filter_text: str, exc: QueryError) -> dict[str, Any]:
    """A query error with what it is about (``subject``: the filter, or the page's cursor) and
    its heading; an error of the filter is cut at its position, so a page can point at the spot."""
    subject, title = ERROR_SUBJECTS.get(exc.type, FILTER_SUBJECT)
    position = exc.position if exc.position is not None and 0 <= exc.position <= len(filter_text) else None
    if subject != "filter":
        position = None
    error: dict[str, Any] = {
        "subject": subject,
        "title": title,
        "message": exc.message,
        "type": exc.type,
        "position": position,
        "expected": list(exc.expected[:8]),
        "more_expected": max(0, len(exc.expected) - 8),
    }
    if position is not None:
        word = re.match(r"\S*", filter_text[position:])  # always matches, if only the empty string
        token = (word.group(0) if word else "") or " "
        error.update(before=filter_text[:position], at=token, after=filter_text[position + len(token) :])
    return error


# --- search ----------------------------------------------------------------------------


def sort_choices(has_text: bool) -> list[tuple[str, str]]:
    """Orders a reader can pick; the first, with no value, is the default: the best match when
    text is typed, else the stiffest first. A form sent with text typed into it, whatever order
    it showed before, is so sorted by relevance unless the reader picked another order."""
    by_property = [
        ("-youngs_modulus", "Stiffest first"),
        ("youngs_modulus", "Softest first"),
        ("-tensile_strength", "Strongest first"),
        ("density", "Lightest first"),
        ("glass_transition_temperature", "Lowest Tg first"),
        ("-specific_stiffness", "Stiffest for their weight first"),
        ("-specific_strength", "Strongest for their weight first"),
        ("name", "Name"),
    ]
    return [("", "Best match"), *by_property] if has_text else [("", "Stiffest first"), *by_property[1:]]


#: How a measurement ``v ± u`` enters a property filter (``biomatdb_search.model.Query.uncertainty``); the
#: first is the default.
UNCERTAINTY_CHOICES = [("point", "as the value v"), ("interval", "as the interval v − u to v + u")]


def effective_sort(sort: str, has_text: bool) -> str:
    """The order a sort choice stands for (the default choice has no value)."""
    return sort or ("relevance" if has_text else "-youngs_modulus")


def filter_value(text: str) -> str:
    """A value as a filter writes it: a bare word as it is, anything else quoted."""
    return text if _BARE_WORD.match(text) else '"' + text.replace('"', "") + '"'


#: The condition facets (``biomatdb_search.facets``) and the field a WHERE condition names for each.
CONDITION_FACETS = {"medium": "medium", "state": "specimen_state"}


def condition_clause(facet: str, value: str, properties: list[str]) -> str:
    """The filter that finds the materials a condition facet value counts: those with a measurement
    of some property under it. A WHERE condition binds to one property, so it is one ``has`` per
    property measured under it: ``(has tensile_strength WHERE medium = PBS) OR (…)``."""
    field = "state" if facet == "state" else facet
    clauses = [f"has {key} WHERE {field} = {filter_value(value)}" for key in properties]
    return clauses[0] if len(clauses) == 1 else "(" + " OR ".join(f"({clause})" for clause in clauses) + ")"


def condition_properties(engine: Engine, facets: Mapping[str, list[FacetValue]]) -> dict[tuple[str, str], list[str]]:
    """For each medium and specimen state a facet shows, the properties measured under it."""
    wanted = {name: [facet.value for facet in facets.get(name) or []][:12] for name in CONDITION_FACETS}
    found: dict[tuple[str, str], list[str]] = defaultdict(list)
    with engine.connect() as connection:
        for name, values in wanted.items():
            if not values:
                continue
            column = getattr(Measurement, CONDITION_FACETS[name])
            rows = connection.execute(
                select(column, Measurement.property_key)
                .where(column.in_(values))
                .distinct()
                .order_by(column, Measurement.property_key)
            )
            for value, key in rows:
                found[(name, value)].append(key)
    return dict(found)


def facet_links(
    facets: Mapping[str, list[FacetValue]],
    q: str,
    filter_text: str,
    state: Mapping[str, str | None] | None = None,
    view: View | None = None,
    condition_properties: Mapping[tuple[str, str], list[str]] | None = None,
) -> list[dict[str, Any]]:
    """Each facet value as a link to the same search narrowed by it (a condition value: by the
    properties measured under it, ``condition_properties``), keeping the search's ``state`` (its
    sort, match and uncertainty parameters) and the reader's units."""
    vocabulary = get_vocabulary()
    titles = {
        "class": "Class",
        "application": "Application",
        "biodegradable": "Biodegradable",
        "property": "Has property",
        "endpoint": "Biological evaluation",
        "outcome": "Outcome",
        "element": "Contains element",
        "medium": "Tested in medium",
        "state": "Specimen state",
    }
    groups = []
    for name, title in titles.items():
        values = facets.get(name) or []
        links = []
        for facet in values[:12]:
            if name == "property":
                clause, label = (
                    f"has {facet.value}",
                    vocabulary.properties[facet.value].name if facet.value in vocabulary.properties else facet.value,
                )
            elif name in ("endpoint", "outcome"):
                clause, label = _evidence_clause(name, facet.value)
            elif name == "element":
                clause, label = f"contains({facet.value})", facet.value
            elif name in CONDITION_FACETS:
                measured = (condition_properties or {}).get((name, facet.value))
                if not measured:
                    continue  # a value no property of the search was measured under: nothing to narrow by
                clause, label = condition_clause(name, facet.value, measured), facet.value
            elif name == "biodegradable":
                yes = facet.value.lower() in ("true", "yes", "1")
                clause, label = f"biodegradable = {'yes' if yes else 'no'}", "yes" if yes else "no"
            else:
                terms = vocabulary.classes if name == "class" else vocabulary.applications
                term = terms.get(facet.value)
                clause, label = (
                    f"{name} = {filter_value(facet.value)}",
                    term.name if term else facet.value.replace("_", " "),
                )
            # a value is on where its clause is a link of the filter's AND chain, however spelt;
            # following it then takes every copy of the clause out again
            removed = without_clause(filter_text, clause)
            active = removed is not None
            narrowed = removed if removed is not None else with_clause(filter_text, clause)
            params = {
                k: v
                for k, v in (
                    ("q", q),
                    ("filter", narrowed),
                    *(state or {}).items(),
                    *(view.params.items() if view else ()),
                )
                if v
            }
            links.append(
                {
                    "label": label,
                    "count": facet.count,
                    "href": "/?" + urlencode(params),
                    "active": active,
                    "removes": active,
                }
            )
        if links:
            groups.append({"name": name, "title": title, "links": links})
    return groups


def derived_rows(hit: Hit, choice: UnitChoice) -> list[dict[str, Any]]:
    """The derived value a hit shows for each derived filter or sort (the first combination of its
    measurements the backend gives: a certain one first, or the one it is sorted by), in the
    reader's units, with the measurements it is derived from and their sources."""
    rows, seen = [], set()
    for derived in hit.derived:
        if derived.index in seen:
            continue
        seen.add(derived.index)
        shown = shown_derived(derived.model_dump(), choice)
        rows.append(
            {
                "name": shown["name"],
                "text": shown["display"],
                "possible": shown["certainty"] == "possible",
                "inputs": [
                    {
                        "name": _property_name(m["property"]),
                        "text": m["display"],
                        "source": m.get("source"),
                        "dataset": m.get("dataset"),
                    }
                    for m in shown["inputs"]
                ],
            }
        )
    return rows


def _property_name(key: str) -> str:
    prop = get_vocabulary().properties.get(key)
    return prop.name if prop else key


def _key_value(
    name: str, converter: Converter, measured: list[dict[str, Any]], matched: list[MatchedMeasurement]
) -> list[dict[str, Any]]:
    """A result card's line for one property: its values summed up (:meth:`Converter.summary`);
    of a property the filter matched, the values that certainly match summed up, and those that
    only possibly do (a bound or a wide range meets it) each shown with that bound or range, and
    marked: a card never lets a possible match pass for a certain one. A measurement matched with no
    interval to meet (``has density``) has no certainty and is shown as it is."""
    certain = [m.model_dump() for m in matched if m.certainty != "possible"]
    possible = [m.model_dump() for m in matched if m.certainty == "possible"]
    maybe = "; ".join(dict.fromkeys(converter.measurement(m)["display"] for m in possible)) or None
    text = converter.summary(certain) if matched else converter.summary(measured)
    if text is None and maybe is not None:
        return [{"name": name, "text": maybe, "possible": True, "also_possible": None}]
    if text is None:
        return []
    return [{"name": name, "text": text, "possible": False, "also_possible": maybe}]


def result_rows(engine: Engine, result: SearchResult, view: View) -> list[dict[str, Any]]:
    """Each hit with a few key properties as readable spans (the filtered properties first), each
    end rounded to what was written of it."""
    public_ids = [hit.id for hit in result.results]
    if not public_ids:
        return []
    statement = (
        select(
            Material.public_id,
            Measurement.property_key.label("property"),
            Measurement.qualifier,
            Measurement.qualitative,
            Measurement.value,
            Measurement.value_min,
            Measurement.value_max,
            Measurement.uncertainty,
            Measurement.unit,
            Measurement.verbatim_value,
            Measurement.verbatim_unit,
            Measurement.verbatim_uncertainty,
        )
        .join(Measurement, Measurement.material_id == Material.id)
        .where(Material.public_id.in_(public_ids), has_value())
        .order_by(Measurement.id)
    )
    measured: dict[str, dict[str, list[dict[str, Any]]]] = defaultdict(lambda: defaultdict(list))
    with engine.connect() as connection:
        for row in connection.execute(statement).mappings():
            measurement = dict(row)
            measurement["verbatim"] = verbatim(row["verbatim_value"], row["verbatim_unit"], row["verbatim_uncertainty"])
            measured[row["public_id"]][row["property"]].append(measurement)
    vocabulary = get_vocabulary()
    rows = []
    for hit in result.results:
        matched = list(dict.fromkeys(m.property for m in hit.measurements))
        have = {key: found for key, found in measured.get(hit.id, {}).items() if key in vocabulary.properties}
        keys = [k for k in (*matched, *KEY_PROPERTIES) if k in have]
        keys = list(dict.fromkeys(keys))[:SHOWN_PER_RESULT] or sorted(have)[:SHOWN_PER_RESULT]
        values = []
        for key in keys:
            prop = vocabulary.properties[key]
            converter = view.converter(prop, have[key])
            values += _key_value(prop.name, converter, have[key], [m for m in hit.measurements if m.property == key])
        term = vocabulary.classes.get(hit.material_class or "")
        rows.append(
            {
                "id": hit.id,
                "name": hit.name,
                "class": hit.material_class,
                "class_name": term.name if term else hit.material_class,
                "key_values": values,
                "derived": derived_rows(hit, view.choice),
                "colour": class_colour(hit.material_class or ""),
            }
        )
    return rows


# --- one material ----------------------------------------------------------------------


def structure_of(document: dict[str, Any]) -> str | None:
    structure = document.get("structure")
    return structure_svg(structure["smiles"]) if structure and structure.get("smiles") else None


def makeup_of(document: dict[str, Any], svg: str | None) -> str:
    """What the material's page shows it by, and so the heading there: ``structure`` where a
    structure is drawn, ``composition`` where components are listed, else what its class is
    described by (classes.toml: metals and composites by their composition)."""
    if svg:
        return "structure"
    if document.get("composition"):
        return "composition"
    term = get_vocabulary().classes.get(document.get("class") or "")
    return term.described_by if term else "structure"


_TEMPERATURE_KEYS = ("temperature_C", "temperature_K", "temperature_display")


def conditions_text(conditions: Mapping[str, Any], choice: UnitChoice) -> list[str]:
    """A measurement's conditions as the page lists them: ``at 37 °C`` in the reader's units first."""
    parts = []
    temperature = temperature_text(conditions.get("temperature_K"), choice)
    if temperature is not None:
        parts.append(f"at {temperature}")
    for key, label in CONDITION_LABELS.items():
        if conditions.get(key):
            parts.append(f"{label}: {conditions[key]}")
    for key, value in conditions.items():
        if key not in CONDITION_LABELS and key not in _TEMPERATURE_KEYS and value not in (None, ""):
            parts.append(f"{key.replace('_', ' ')}: {value}")
    return parts


def grouped_properties(document: dict[str, Any], view: View) -> list[dict[str, Any]]:
    """Measurements by category, then property, both in the vocabulary's order (a data sheet's:
    mechanical, physical, thermal…; Young's modulus before elongation), in the reader's units:
    one unit per property, each value rounded to what was written of it."""
    vocabulary = get_vocabulary()
    by_property: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for measurement in document["measurements"]:
        by_property[measurement["property"]].append(measurement)
    categories: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for key in sorted(by_property, key=lambda k: (vocabulary.property_rank(k), k)):
        prop = vocabulary.properties.get(key)
        unit = view.unit_of(prop, by_property[key]) if prop else by_property[key][0]["unit"]
        rows = []
        for m in by_property[key]:
            source = m.get("source") or {}
            rows.append(
                {
                    "text": shown_measurement(m, view.choice, unit=unit)["display"],
                    "conditions": conditions_text(m["conditions"], view.choice),
                    "notes": m.get("notes"),
                    "citation": source.get("citation"),
                    "doi": source.get("doi"),
                    "url": source.get("url"),
                    "dataset": m["dataset"],
                }
            )
        categories[prop.category if prop else "other"].append(
            {
                "key": key,
                "name": prop.name if prop else key,
                "rows": rows,
                "unit": unit,
                # the unit shown is always one to pick, though the URL asked for one of its own
                "choices": [(u, unit_label(u) or "—") for u in dict.fromkeys((*display_choices(prop), unit))]
                if prop
                else [],
            }
        )
    titles = {key: category.name for key, category in vocabulary.categories.items()}
    return [
        {"name": name, "title": titles.get(name, "Other"), "properties": categories[name]}
        for name in (*titles, "other")
        if categories.get(name)
    ]


def similar_materials(
    engine: Engine, chemistry, material_id: int, document: dict[str, Any], *, threshold: float = 0.5, limit: int = 8
) -> list[dict[str, Any]]:
    """The materials nearest by structure (Tanimoto of Morgan fingerprints), best first."""
    structure = document.get("structure")
    if not structure or not structure.get("smiles"):
        return []
    scores = chemistry.similarity(structure["smiles"], threshold)
    best = sorted(
        ((score, other) for other, score in scores.items() if other != material_id),
        key=lambda pair: (-pair[0], pair[1]),
    )[:limit]
    if not best:
        return []
    with engine.connect() as connection:
        rows = {
            row.id: row
            for row in connection.execute(
                select(
                    Material.id, Material.public_id, Material.name, Material.material_class.label("material_class")
                ).where(Material.id.in_([other for _, other in best]))
            )
        }
    return [
        {"id": rows[o].public_id, "name": rows[o].name, "class": rows[o].material_class, "score": min(s, 1.0)}
        for s, o in best
        if o in rows
    ]


# --- Ashby -----------------------------------------------------------------------------


def properties_with_data(engine: Engine, view: View) -> list[dict[str, Any]]:
    """Properties the core has values of, with how many materials have each, most first."""
    vocabulary = get_vocabulary()
    with engine.connect() as connection:
        counts = connection.execute(
            select(Measurement.property_key, func.count(Measurement.material_id.distinct()))
            .where(has_value())
            .group_by(Measurement.property_key)
        ).all()
    found = [
        {
            "key": key,
            "name": vocabulary.properties[key].name,
            "count": count,
            "unit": unit_label(view.unit_of(vocabulary.properties[key])),
        }
        for key, count in counts
        if key in vocabulary.properties
    ]
    return sorted(found, key=lambda p: (-p["count"], p["name"]))


# --- compare ---------------------------------------------------------------------------


def _typical(measurements: list[dict[str, Any]]) -> float | None:
    """One number for a material's values of a property: the geometric middle of their span."""
    ends = [v for m in measurements for v in (m["value_min"], m["value"], m["value_max"]) if v is not None]
    if not ends:
        return None
    low, high = min(ends), max(ends)
    return math.sqrt(low * high) if low > 0 else (low + high) / 2


def comparison(documents: list[dict[str, Any]], view: View) -> dict[str, Any]:
    """The side-by-side table (a row per property) and the chart data: per property that at
    least two of the materials have, each one's typical value as a share of the highest."""
    vocabulary = get_vocabulary()
    keys = sorted(
        {m["property"] for d in documents for m in d["measurements"]}, key=lambda k: (vocabulary.property_rank(k), k)
    )
    table, chart_keys = [], []
    absolute: list[tuple[str, str, str]] = []
    for key in keys:
        prop = vocabulary.properties.get(key)
        every = [m for d in documents for m in d["measurements"] if m["property"] == key]
        # one unit and one notation per row, chosen from all of the row's values
        unit = view.unit_of(prop, every) if prop else every[0]["unit"]
        scientific = scientific_row(prop, unit, every) if prop else False
        cells, typical = [], []
        for document in documents:
            mine = [m for m in document["measurements"] if m["property"] == key]
            shown = (shown_measurement(m, view.choice, unit=unit, scientific=scientific)["display"] for m in mine)
            cells.append(list(dict.fromkeys(shown)))
            typical.append(_typical(mine))
        name = prop.name if prop else key
        table.append({"key": key, "name": name, "cells": cells})
        present = [t for t in typical if t is not None and t > 0]
        if len(present) >= 2:
            # a share of the highest is taken from a true zero (the canonical unit's: K); where
            # the row is shown from an offset's zero (°C, °F), the chart says so by the bar's name
            offset = prop is not None and conversion(unit, prop).offset != 0
            canonical = unit_label(prop.unit) if prop is not None else ""
            chart_keys.append((key, f"{name} (in {canonical})" if offset else name, typical))
            if offset:
                absolute.append((name, canonical, unit_label(unit)))
    series = []
    for index, document in enumerate(documents):
        series.append(
            {
                "id": document["id"],
                "name": document["name"],
                "values": [
                    None if (value := t[index]) is None else round(value / max(v for v in t if v is not None), 4)
                    for _, _, t in chart_keys
                ],
            }
        )
    return {
        "materials": [{"id": d["id"], "name": d["name"], "class": d["class"]} for d in documents],
        "table": table,
        "chart": {
            "properties": [name for _, name, _ in chart_keys],
            "series": series,
            "notes": _absolute_notes(absolute),
        },
    }


def _absolute_notes(absolute: list[tuple[str, str, str]]) -> list[str]:
    """What the compare caption says of the bars taken in a unit from absolute zero, once per
    pair of units: ``[(property name, chart unit, table unit), …]``."""
    by_units: dict[tuple[str, str], list[str]] = defaultdict(list)
    for name, canonical, shown in absolute:
        by_units[(canonical, shown)].append(name)
    notes = []
    for (canonical, shown), names in by_units.items():
        subject = names[0] if len(names) == 1 else ", ".join(names[:-1]) + " and " + names[-1]
        whose = "its" if len(names) == 1 else "their"
        notes.append(
            f"{subject}: {whose} bars are shares of the highest in {canonical}, counted from absolute zero "
            f"(the table shows {shown}, whose zero is arbitrary)."
        )
    return notes


#: The columns of the biological-evaluation matrix: each record's test-system kind.
EVIDENCE_KINDS = ("in vitro", "in vivo", "clinical")


def evidence_matrix(document: dict[str, Any]) -> list[dict[str, Any]]:
    """The material's biological evaluation as a matrix, endpoint by endpoint (the vocabulary's
    order): per kind (in vitro, in vivo, clinical, and "not stated"), the outcome badges of its
    records, each once, with the reading that colours it; then the records, with their sources."""
    from biomatdb.evidence import get_evidence_vocabulary

    vocabulary = get_evidence_vocabulary()
    by_endpoint: dict[str, list[dict[str, Any]]] = defaultdict(list)
    for record in document.get("biological_evaluations", ()):
        by_endpoint[record["endpoint"]].append(record)
    rows = []
    for key, endpoint in vocabulary.endpoints.items():
        records = by_endpoint.get(key)
        if not records:
            continue
        cells: dict[str, list[dict[str, str]]] = {kind: [] for kind in (*EVIDENCE_KINDS, "")}
        for record in records:
            kind = record["test_system"]["kind"] or ""
            outcome = vocabulary.outcomes.get(record["outcome"]) if record["outcome"] else None
            badge = (
                {"text": outcome.name, "reading": outcome.reading}
                if outcome is not None
                else {"text": record["verbatim"] or "result", "reading": "neutral"}
            )
            if badge not in cells[kind]:
                cells[kind].append(badge)
        rows.append(
            {
                "key": key,
                "name": endpoint.name,
                "standard": endpoint.standard,
                "cells": [cells[kind] for kind in EVIDENCE_KINDS],
                "unstated": cells[""],
                "records": [
                    {
                        **record,
                        "outcome_name": vocabulary.outcomes[record["outcome"]].name
                        if record["outcome"] in vocabulary.outcomes
                        else None,
                        "result": _evidence_result(record),
                    }
                    for record in records
                ],
            }
        )
    return rows


def _evidence_clause(facet: str, value: str) -> tuple[str, str]:
    """The filter clause and the label of an endpoint or outcome facet value: ``evidence(KEY)``,
    or the outcome under each endpoint it can be the outcome of, joined by OR."""
    from biomatdb.evidence import get_evidence_vocabulary

    vocabulary = get_evidence_vocabulary()
    if facet == "endpoint":
        endpoint = vocabulary.endpoints.get(value)
        return f"evidence({value})", endpoint.name if endpoint else value
    outcome = vocabulary.outcomes.get(value)
    if outcome is None:
        return f"evidence({value})", value
    endpoints = outcome.endpoints or tuple(vocabulary.endpoints)
    clauses = [f"evidence({endpoint}) = {value}" for endpoint in endpoints]
    return (clauses[0] if len(clauses) == 1 else "(" + " OR ".join(clauses) + ")"), outcome.name


def _evidence_result(record: dict[str, Any]) -> str | None:
    """A record's quantitative result as shown: ``92 %``, ``2–5 %``, ``> 5 %``; None without one."""
    from biomatdb.catalog import format_number

    low, high, unit = record["value_min"], record["value_max"], record["unit"] or ""
    if low is None and high is None:
        return None
    if low is not None and high is not None:
        text = format_number(low) if low == high else f"{format_number(low)}–{format_number(high)}"
    else:
        text = f"{record['qualifier'] or ''} {format_number(low if low is not None else high)}".strip()
    return f"{text} {unit}".strip()
