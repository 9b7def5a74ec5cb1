"""The vocabulary: properties with their canonical units, categories and aliases; the
material classes and applications."""

from __future__ import annotations

from fastapi import APIRouter

from biomatdb.display import unit_label, unit_systems
from biomatdb.vocabulary import get_vocabulary
from biomatdb_api.problems import responses
from biomatdb_api.schemas import PropertyOut, TermOut, UnitSystemOut

router = APIRouter(tags=["vocabulary"])


@router.get("/properties", response_model=list[PropertyOut], responses=responses(429), summary="Properties")
def properties() -> list[PropertyOut]:
    """Every property a filter, a sort or a dataset column may name."""
    return [
        PropertyOut(
            key=p.key,
            name=p.name,
            category=p.category,
            unit=p.unit,
            unit_label=unit_label(p.unit),
            kind=p.kind,
            min=p.min,
            max=p.max,
            display_units=list(p.display),
            default_display_units=list(p.default_display),
            display_unit_labels=[unit_label(unit) for unit in p.display],
            aliases=list(p.aliases),
        )
        for p in get_vocabulary().properties.values()
    ]


@router.get("/unit-systems", response_model=list[UnitSystemOut], responses=responses(429), summary="Unit systems")
def systems() -> list[UnitSystemOut]:
    """The presets of display units that ``?unit_system=`` names."""
    return [
        UnitSystemOut(
            key=s.key,
            name=s.name,
            units=dict(s.units),
            unit_labels={unit_label(canonical): unit_label(shown) for canonical, shown in s.units.items()},
            units_by_magnitude={canonical: list(units) for canonical, units in s.by_magnitude.items()},
        )
        for s in unit_systems().values()
    ]


@router.get("/classes", response_model=list[TermOut], responses=responses(429), summary="Material classes")
def classes() -> list[TermOut]:
    return [TermOut(key=t.key, name=t.name, aliases=list(t.aliases)) for t in get_vocabulary().classes.values()]


@router.get("/applications", response_model=list[TermOut], responses=responses(429), summary="Applications")
def applications() -> list[TermOut]:
    return [TermOut(key=t.key, name=t.name, aliases=list(t.aliases)) for t in get_vocabulary().applications.values()]
