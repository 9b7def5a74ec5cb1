"""Map a file's header to what each column means: a descriptive role or a property with its unit.

Pure: header (and an optional manifest) in, a ``ColumnMap`` and issues out.
"""

from __future__ import annotations

import dataclasses
import json
import re
import shlex
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Literal

from rapidfuzz import fuzz, process

from biomatdb.errors import UnitError
from biomatdb.suggest import closest, did_you_mean, labels_of
from biomatdb.units import conversion, parse_unit, unknown_unit
from biomatdb.vocabulary import Property, Vocabulary, normalise_label
from biomatdb_ingest.manifest import ColumnSpec, Manifest, ManifestError
from biomatdb_ingest.report import Issue

#: Descriptive roles and the headers curators use for them (compared after normalise_label).
ROLE_HEADERS: dict[str, tuple[str, ...]] = {
    "id": ("id", "material id", "public id", "biomatdb id"),
    "name": ("material", "name", "material name", "polymer name", "polymer", "material/tissue", "tissue"),
    "class": ("class", "material class", "category", "type", "material type"),
    "subclass": ("subclass", "sub class", "family", "subfamily"),
    "synonyms": ("synonyms", "synonym", "also known as", "aliases", "other names"),
    "description": ("description",),
    "biodegradable": ("biodegradable", "biodegradability", "degradable", "resorbable"),
    "origin": ("origin", "natural/synthetic"),
    "applications": ("applications", "application", "uses", "use", "clinical applications"),
    "regulatory_notes": ("regulatory notes", "regulatory", "regulatory status"),
    "structure": ("smiles", "structure", "psmiles", "repeat unit", "repeat unit smiles", "polymer smiles"),
    "composition": ("composition", "chemical composition", "nominal composition"),
    "source": ("source", "reference", "ref", "citation", "references", "data source"),
    "doi": ("doi",),
    "temperature": ("temperature", "test temperature"),
    "medium": ("medium", "environment", "test medium", "test environment"),
    "method": ("method", "test method", "technique", "measurement method"),
    "standard": ("standard", "test standard"),
    "specimen_state": ("specimen state", "condition", "state", "specimen condition", "sample state", "conditions"),
    "notes": ("notes", "note", "remarks", "comments", "comment"),
    "property": ("property", "parameter", "quantity", "property name"),
    "value": ("value", "measured value", "result", "value text"),
    "unit": ("unit", "units"),
    "uncertainty": ("uncertainty", "sd", "std", "standard deviation", "±", "+/-", "error", "std dev", "s.d."),
    "verbatim_value": ("verbatim value",),
    "verbatim_unit": ("verbatim unit",),
    # the export's numbers (biomatdb.exports): a long row's value when its value text is empty
    # (biomatdb_ingest.export_values), checked against the text where both are given
    "value_min": ("value min",),
    "value_max": ("value max",),
    "qualifier": ("qualifier",),
    "value_point": (),  # the export's ``value`` column beside its ``value_text``: see map_columns
    "temperature_value": ("temperature value",),
    "temperature_unit": ("temperature unit",),
}
#: BiomatDB's own export (``biomatdb.exports``) is known by its ``value_text`` column, which the
#: ingest reads as the value; its ``value`` column beside it is then the number of a point.
EXPORT_VALUE_HEADER = "value text"
EXPORT_POINT_HEADER = "value"
#: Roles that give a long row's value: read only in the long layout.
VALUE_ROLES = ("value", "value_point", "value_min", "value_max", "qualifier")
#: With a Property column, any of these makes a file long.
_LONG_VALUE_ROLES = frozenset({"value", "value_point", "value_min", "value_max"})
#: Roles whose column may hold a unit in the header.
_UNIT_ROLES = {"temperature", "value", "uncertainty"}
_ROLE_INDEX = {normalise_label(header): role for role, headers in ROLE_HEADERS.items() for header in headers}
_ROLE_HEADERS_FOLDED = list(_ROLE_INDEX)
_UNIT_IN_HEADER = (
    re.compile(r"^(?P<name>.+?)\s*\[(?P<unit>[^\[\]]+)\]$"),
    re.compile(r"^(?P<name>.+?)\s*\((?P<unit>[^()]+)\)$"),
    re.compile(r"^(?P<name>.+?)\s*,\s*(?P<unit>[^,]+)$"),
    re.compile(r"^(?P<name>.+?)\s+in\s+(?P<unit>\S+)$"),
)
# a quantity over its unit, as tables in papers head columns: "Tg/°C", "Density / g/cm3"
_QUANTITY_OVER_UNIT = re.compile(r"^(?P<name>[^/]+?)\s*/\s*(?P<unit>.+)$")
#: A misspelt descriptive header is read when it is this close to a known one (and long enough).
_FUZZY_CUTOFF = 0.9
_FUZZY_MIN_LENGTH = 6

Layout = Literal["wide", "long"]


@dataclass(frozen=True, slots=True)
class Column:
    position: int
    label: str
    role: str  # a ROLE_HEADERS key, "measurement" (wide property column) or "ignore"
    property: Property | None = None
    unit: str | None = None
    conditions: dict[str, str] = field(default_factory=dict)
    uncertainty_of: int | None = None  # position of the measurement column this one gives ± for


@dataclass(slots=True)
class ColumnMap:
    columns: list[Column]
    layout: Layout
    issues: list[Issue] = field(default_factory=list)

    def role(self, role: str) -> Column | None:
        return next((column for column in self.columns if column.role == role), None)

    @property
    def measurement_columns(self) -> list[Column]:
        return [column for column in self.columns if column.role == "measurement"]

    def uncertainty_column_for(self, position: int) -> Column | None:
        return next((c for c in self.columns if c.role == "uncertainty" and c.uncertainty_of == position), None)


def split_unit(label: str) -> tuple[str, str | None]:
    """``"Young's modulus [GPa]"`` → ``("Young's modulus", "GPa")``; no unit → ``(label, None)``."""
    for pattern in _UNIT_IN_HEADER:
        match = pattern.match(label.strip())
        if match:
            return match["name"].strip(), match["unit"].strip()
    return label.strip(), None


def _unit_or_issue(unit: str, label: str, prop: Property | None = None) -> Issue | None:
    """A header unit that pint cannot read, or whose dimension does not fit the column's property."""
    try:
        if prop is None:
            try:
                parse_unit(unit)
            except UnitError as exc:
                raise unknown_unit(exc, unit) from None
        else:
            conversion(unit, prop)
    except UnitError as exc:
        return Issue(
            type="unit-error",
            message=f"header unit: {exc.message}",
            column=label,
            value=unit,
            suggestions=exc.suggestions,
        )
    return None


def _classify(label: str, vocabulary: Vocabulary) -> tuple[str | None, Property | None, str | None, Issue | None]:
    """What a header means without a manifest: (role, property, unit, issue)."""
    folded = normalise_label(label)
    if folded in _ROLE_INDEX:
        return _ROLE_INDEX[folded], None, None, None
    prop = vocabulary.find_property(label)
    if prop is not None:
        return "measurement", prop, None, None
    name, unit = split_unit(label)
    if unit is not None:
        prop = vocabulary.find_property(name)
        role = _ROLE_INDEX.get(normalise_label(name))
        if prop is not None or role in _UNIT_ROLES:
            issue = _unit_or_issue(unit, label, prop)
            if issue is not None:
                return None, None, None, issue
            return (role or "measurement"), prop, unit, None
    over = _QUANTITY_OVER_UNIT.match(label.strip())
    if over is not None:  # read only when the unit fits: "Tg/Tm" is a ratio, not Tg in terametres
        prop = vocabulary.find_property(over["name"])
        role = _ROLE_INDEX.get(normalise_label(over["name"]))
        if (prop is not None or role in _UNIT_ROLES) and _unit_or_issue(over["unit"], label, prop) is None:
            return (role or "measurement"), prop, over["unit"].strip(), None
    if len(folded) >= _FUZZY_MIN_LENGTH:
        # rapidfuzz: one C++ pass over the role headers per unknown column (difflib took 72 % of
        # the time of a 1,000,000-column header)
        close = process.extractOne(folded, _ROLE_HEADERS_FOLDED, scorer=fuzz.ratio, score_cutoff=_FUZZY_CUTOFF * 100)
        if close:
            return (
                _ROLE_INDEX[close[0]],
                None,
                None,
                Issue(
                    type="fuzzy-header",
                    message=f"read header {label!r} as {close[0]!r}",
                    column=label,
                ),
            )
    return None, None, None, None


def map_columns(header: list[str], vocabulary: Vocabulary, manifest: Manifest | None = None) -> ColumnMap:
    """Decide what each column means. Issues of type ``unit-error``/``manifest-error`` are errors;
    ``unknown-column``/``fuzzy-header`` are warnings (the caller tells them apart by type)."""
    columns: list[Column] = []
    issues: list[Issue] = []
    positions = {label.strip(): position for position, label in enumerate(header)}
    specs = manifest.columns if manifest else {}
    for label, named in specs.items():
        if label not in positions:
            suggestions = closest(label, {normalise_label(text): text.strip() for text in header})
            given_by = f"the map entry {_shell_word(named.mapped_by)}" if named.mapped_by else "the manifest"
            issues.append(
                Issue(
                    type="manifest-error",
                    column=label,
                    suggestions=tuple(suggestions),
                    message=f"{given_by} names a column the file does not have{did_you_mean(suggestions)}",
                )
            )
    from_export = any(normalise_label(label) == EXPORT_VALUE_HEADER for label in header)
    for position, label in enumerate(header):
        spec = specs.get(label.strip())
        if spec is None and from_export and normalise_label(label) == EXPORT_POINT_HEADER:
            columns.append(Column(position=position, label=label, role="value_point"))
            continue
        if spec is not None:
            column, issue = _from_spec(position, label, spec, positions, vocabulary)
            if issue is not None:
                issues.append(issue)
            if column is not None:
                columns.append(column)
            continue
        role, prop, unit, issue = _classify(label, vocabulary)
        if issue is not None:
            issues.append(issue)
        if role is None:
            if issue is None:
                issues.append(_unknown_column(label, vocabulary))
            columns.append(Column(position=position, label=label, role="ignore"))
            continue
        columns.append(Column(position=position, label=label, role=role, property=prop, unit=unit))
    issues.extend(_duplicate_roles(columns))
    has_long = any(c.role == "property" for c in columns) and any(c.role in _LONG_VALUE_ROLES for c in columns)
    layout: Layout = "long" if has_long else "wide"
    if layout == "long":
        for column in columns:
            if column.role == "measurement":
                issues.append(
                    Issue(
                        type="layout-error",
                        message="a long-layout file (Property and Value columns) cannot also have property columns",
                        column=column.label,
                    )
                )
    if layout == "wide":
        for column in columns:
            if column.role in VALUE_ROLES:
                issues.append(
                    Issue(
                        type="unknown-column",
                        column=column.label,
                        message="a value column is read in the long layout, beside a Property column; ignored",
                    )
                )
            if column.role == "uncertainty" and column.uncertainty_of is None:
                issues.append(
                    Issue(
                        type="unknown-column",
                        column=column.label,
                        message="an uncertainty column is read in the long layout, or in a wide file with uncertainty_of "
                        "in a manifest (which column it belongs to); ignored",
                    )
                )
    if not any(c.role == "name" for c in columns) and not any(c.role == "id" for c in columns):
        issues.append(Issue(type="missing-label", message="no material name column (e.g. 'Material' or 'Name')"))
    return ColumnMap(columns=columns, layout=layout, issues=issues)


def _from_spec(position, label, spec, positions, vocabulary) -> tuple[Column | None, Issue | None]:
    if spec.ignore:
        return Column(position=position, label=label, role="ignore"), None
    if spec.uncertainty_of is not None:
        target = positions.get(spec.uncertainty_of.strip())
        if target is None:
            return None, Issue(
                type="manifest-error", message=f"uncertainty_of names no column: {spec.uncertainty_of!r}", column=label
            )
        return Column(position=position, label=label, role="uncertainty", unit=spec.unit, uncertainty_of=target), None
    if spec.property is not None:
        prop = vocabulary.find_property(spec.property)
        if prop is None:
            suggestions = closest(spec.property, vocabulary.property_labels)
            return None, Issue(
                type="manifest-error",
                column=label,
                value=spec.property,
                message=f"unknown property {spec.property!r}{did_you_mean(suggestions)}",
                suggestions=tuple(suggestions),
            )
        unit = spec.unit if spec.unit is not None else split_unit(label)[1]
        if unit is not None:
            issue = _unit_or_issue(unit, label, prop)
            if issue is not None:
                return None, issue
        return Column(
            position=position,
            label=label,
            role="measurement",
            property=prop,
            unit=unit,
            conditions=dict(spec.conditions),
        ), None
    if spec.role is not None:
        if spec.role not in ROLE_HEADERS:
            suggestions = closest(spec.role, _ROLE_NAMES)
            return None, Issue(
                type="manifest-error",
                column=label,
                value=spec.role,
                suggestions=tuple(suggestions),
                message=f"unknown role {spec.role!r}{did_you_mean(suggestions)}; known: {sorted(ROLE_HEADERS)}",
            )
        unit = spec.unit
        if unit is None and spec.role in _UNIT_ROLES:
            # the header's unit, as a header recognised without a manifest is read ("Temperature (°C)");
            # brackets or a comma that hold no unit ("Temperature, test") give none, as before
            header_unit = split_unit(label)[1]
            if header_unit is not None and _unit_or_issue(header_unit, label) is None:
                unit = header_unit
        return Column(position=position, label=label, role=spec.role, unit=unit), None
    return None, Issue(
        type="manifest-error", message="a manifest column needs role, property, uncertainty_of or ignore", column=label
    )


def _unit_fits(unit: str, prop: Property | None) -> bool:
    if prop is None:
        return False
    try:
        conversion(unit, prop)
    except UnitError:
        return False
    return True


def _unknown_column(label: str, vocabulary: Vocabulary) -> Issue:
    """The warning for a column nothing reads: the closest properties and roles, and how to map it."""
    name, unit = split_unit(label)
    suggestions = closest(name if unit is not None else label, _meanings(vocabulary))
    if unit is not None:  # a property whose dimension the header's unit cannot be is no suggestion
        fitting = [
            key for key in suggestions if key in ROLE_HEADERS or _unit_fits(unit, vocabulary.properties.get(key))
        ]
        wider = [
            key
            for key in closest(name, _meanings(vocabulary), limit=12)
            if key not in ROLE_HEADERS and _unit_fits(unit, vocabulary.properties.get(key))
        ]
        suggestions = list(dict.fromkeys(fitting + wider))[:3] or suggestions
    target = suggestions[0] if suggestions else None
    key = "role" if target in ROLE_HEADERS else "property"
    in_manifest = f'{key} = "{target}"' if target is not None else 'property = "…" or role = "…"'
    quoted = json.dumps(label.strip(), ensure_ascii=False)  # a TOML string, too
    message = (
        f"unknown column {quoted}, ignored{did_you_mean(suggestions) or '.'} Map it in the manifest "
        f"([columns.{quoted}] {in_manifest}) or with "
        f"--map {_shell_word(label.strip() + '=' + (target or 'PROPERTY_KEY'))}"
    )
    return Issue(type="unknown-column", message=message, column=label, suggestions=tuple(suggestions))


def _meanings(vocabulary: Vocabulary) -> dict[str, str]:
    """What a column may mean, for "did you mean": every property label to its key, every role
    header to its role."""
    return {**_ROLE_INDEX, **vocabulary.property_labels}


def _shell_word(text: str) -> str:
    """``text`` quoted for a shell command line: in double quotes unless it holds what they expand."""
    return f'"{text}"' if not re.search(r'["$`\\!]', text) else shlex.quote(text)


_MAP_UNIT = re.compile(r"^(?P<target>.*?)\s*\[(?P<unit>[^\[\]]*)\]$")
_ROLE_NAMES = labels_of(ROLE_HEADERS)


def parse_mappings(entries: Iterable[str], vocabulary: Vocabulary) -> dict[str, ColumnSpec]:
    """``--map "Header=target"`` entries as manifest column specs, by header: they override the
    manifest's and the vocabulary's reading of that column. A target is a property (a key or
    alias of the vocabulary), a role (``name``, ``class``, ``temperature``, … : ``ROLE_HEADERS``)
    or ``ignore``, with an optional unit in brackets (``"E=youngs_modulus [GPa]"``; without one a
    property or a unit role reads the header's). The last ``=`` splits, so a header may hold one.

    Refuses (ManifestError, naming the entry) one without ``=``, with an empty header or target,
    with an unknown target (the closest properties and roles suggested), or mapping a header
    another entry maps too. Whether the file has the header is the mapping's to say."""
    specs: dict[str, ColumnSpec] = {}
    for entry in entries:
        header, equals, target = entry.rpartition("=")
        header, target = header.strip(), target.strip()
        if not equals or not header or not target:
            raise ManifestError(f"map entry {_shell_word(entry)}: expected HEADER=PROPERTY_KEY (or a role, or ignore)")
        unit = None
        if (bracketed := _MAP_UNIT.match(target)) is not None:
            target, unit = bracketed["target"].strip(), bracketed["unit"].strip() or None
        if header in specs:
            raise ManifestError(f"map entry {_shell_word(entry)}: column {header!r} is mapped twice")
        if target == "ignore":
            specs[header] = ColumnSpec(ignore=True, mapped_by=entry)
        elif target in ROLE_HEADERS:
            specs[header] = ColumnSpec(role=target, unit=unit, mapped_by=entry)
        elif (prop := vocabulary.find_property(target)) is not None:
            specs[header] = ColumnSpec(property=prop.key, unit=unit, mapped_by=entry)
        else:
            suggestions = closest(target, _meanings(vocabulary))
            raise ManifestError(
                f"map entry {_shell_word(entry)}: unknown property {target!r}{did_you_mean(suggestions)}"
                f" (a property key, a role such as name or temperature, or ignore)",
                suggestions=tuple(suggestions),
            )
    return specs


def with_mappings(manifest: Manifest | None, mappings: Mapping[str, ColumnSpec]) -> Manifest | None:
    """``manifest`` with ``mappings`` (from :func:`parse_mappings`) over its column specs."""
    if not mappings:
        return manifest
    base = manifest if manifest is not None else Manifest()
    return dataclasses.replace(base, columns={**base.columns, **mappings})


def _duplicate_roles(columns: list[Column]) -> list[Issue]:
    seen: dict[str, Column] = {}
    issues = []
    for column in columns:
        if column.role in ("measurement", "ignore"):
            continue
        if column.role == "uncertainty" and column.uncertainty_of is not None:
            continue
        first = seen.setdefault(column.role, column)
        if first is not column:
            issues.append(
                Issue(
                    type="duplicate-role",
                    message=f"columns {first.label!r} and {column.label!r} both give the {column.role}; "
                    "ignore one in a manifest",
                    column=column.label,
                )
            )
    return issues
