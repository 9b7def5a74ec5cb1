"""Evidence files: biological-evaluation records in the long layout labs write, one row per
test result (docs/evidence.md, docs/ingest-format.md)::

    Material, Endpoint, Standard, Cell line / Model / Species, Method, Exposure, Duration,
    Result, Value, Unit, Source

A file is an evidence file when one of its headers names the endpoint column. Each row becomes
one record: the endpoint, outcome, contact and test system resolved through the vocabularies,
with errors (stable types, the row, column and value, the closest keys) for what they do not
know. A row's quantitative result (Value and Unit) goes through the measurement pipeline as a
measurement of the endpoint's property (``cell_viability``, ``hemolysis``…), so that units,
ranges, qualifiers and physical bounds are read as for any measurement; the record names it.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field

import pandas as pd

from biomatdb.errors import UnitError, VocabularyError
from biomatdb.evidence import (
    CONTACT_CATEGORIES,
    CONTACT_DURATIONS,
    EvidenceVocabulary,
    find_contact_category,
    find_contact_duration,
    find_exposure,
    find_kind,
    get_evidence_vocabulary,
)
from biomatdb.identity import record_key
from biomatdb.suggest import closest, did_you_mean
from biomatdb.units import conversion, parse_unit
from biomatdb.vocabulary import Property, Vocabulary, normalise_label
from biomatdb.vocabulary.conditions import load_conditions
from biomatdb.vocabulary.test_systems import load_test_systems
from biomatdb_ingest.cells import CellError, ParsedCell, parse_cell
from biomatdb_ingest.codes import file_issue
from biomatdb_ingest.mapping import Column, ColumnMap
from biomatdb_ingest.normalise import SourceRecord, source_record
from biomatdb_ingest.report import Issue

#: The evidence columns and the headers curators write for them (compared after normalise_label).
EVIDENCE_HEADERS: dict[str, tuple[str, ...]] = {
    "name": ("material", "material name", "name", "biomaterial", "sample"),
    "endpoint": ("endpoint", "test", "endpoint or test", "endpoint/test", "biological endpoint", "assay",
                 "biological test", "evaluation"),
    "standard": ("standard", "test standard", "iso standard", "guideline"),
    "kind": ("kind", "study type", "test type", "in vitro/in vivo", "setting", "test system kind"),
    "model": ("cell line / model / species", "cell line/model/species", "cell line", "model", "species", "cells",
              "cell type", "animal model", "test model", "test system", "organism", "cell line or species"),
    "site": ("site", "implantation site", "anatomical site", "implant site"),
    "contact": ("contact", "contact category", "contact type", "body contact", "nature of contact"),
    "contact_duration": ("contact duration", "duration of contact", "contact time category"),
    "method": ("method", "assay method", "technique", "test method"),
    "exposure": ("exposure", "exposure route", "extraction", "extract", "extraction conditions"),
    "duration": ("duration", "test duration", "time point", "follow-up", "follow up", "implantation time",
                 "implantation period", "period", "time"),
    "result": ("result", "finding", "conclusion", "qualitative result", "result as written"),
    "outcome": ("outcome", "outcome key"),
    "value": ("value", "quantitative result", "measured value", "result value"),
    "unit": ("unit", "units"),
    "property": ("property", "quantity", "measured quantity"),
    "source": ("source", "reference", "citation", "ref"),
    "doi": ("doi",),
    "ignore": ("quote", "notes", "note", "comment", "comments", "remarks"),
}  # fmt: skip
_PARENTHESES = re.compile(r"\([^()]*\)")
_INDEX = {normalise_label(header): role for role, headers in EVIDENCE_HEADERS.items() for header in headers}
#: Where the synthetic property column of the measurements goes: after every column of the file.
_PROPERTY_POSITION = 1_000_000
_VALUE_POSITION = 1_000_001


@dataclass(frozen=True, slots=True)
class EvidenceMap:
    """Which column of an evidence file holds what: role -> (position, label)."""

    columns: dict[str, tuple[int, str]]

    def label(self, role: str) -> str:
        return self.columns[role][1]

    def measurement_map(self) -> ColumnMap:
        """The long-layout column map the measurement pipeline reads a file's quantitative results
        with: its own Material, Value, Unit, Method, Standard, Source and DOI columns, and the
        property each row's record resolved to."""
        roles = {"name": "name", "value": "value", "unit": "unit", "method": "method", "standard": "standard"}
        roles |= {"source": "source", "doi": "doi"}
        columns = [
            Column(position=self.columns[role][0], label=self.columns[role][1], role=target)
            for role, target in roles.items()
            if role in self.columns
        ]
        endpoint_label = self.label("endpoint")
        columns.append(Column(position=_PROPERTY_POSITION, label=endpoint_label, role="property"))
        if "value" not in self.columns:  # a file of outcomes only: no row has a value to read
            columns.append(Column(position=_VALUE_POSITION, label="Value", role="value"))
        return ColumnMap(columns=columns, layout="long")


def evidence_map(header: list[str]) -> tuple[EvidenceMap | None, list[Issue]]:
    """The evidence map of a header that has an endpoint column (None otherwise), and the issues
    of its headers: a column that is there twice, a missing Material column."""
    roles: dict[str, tuple[int, str]] = {}
    issues: list[Issue] = []
    for position, label in enumerate(header):
        role = _INDEX.get(normalise_label(label))
        if role is None or role == "ignore":
            continue
        if role in roles:
            issues.append(
                Issue(
                    type="duplicate-column",
                    column=label,
                    value=label,
                    message=f"column {label!r} is the {role} column, and so is {roles[role][1]!r}; keep one",
                )
            )
            continue
        roles[role] = (position, label)
    if "endpoint" not in roles:
        return None, []
    if "name" not in roles:
        issues.append(Issue(type="missing-column", message="an evidence file needs a Material column"))
    if not {"value", "result", "outcome"} & set(roles):
        issues.append(Issue(type="missing-column", message="an evidence file needs a Result, Outcome or Value column"))
    return EvidenceMap(columns=roles), issues


@dataclass(frozen=True, slots=True)
class EvidenceRecord:
    """One row of an evidence file, resolved; ``property`` names its quantitative result's
    property when the row has one (the measurement pipeline stores it)."""

    row: int
    material_name: str
    material_key: str
    endpoint: str
    outcome: str | None
    standard: str | None
    kind: str | None
    model: str | None
    model_key: str | None
    species: str | None
    cellosaurus: str | None
    site: str | None
    contact_category: str | None
    contact_duration: str | None
    exposure: str | None
    exposure_kind: str | None
    method: str | None
    duration: str | None
    duration_min_days: float | None
    duration_max_days: float | None
    verbatim: str | None
    source_key: str | None
    source_column: str | None
    property: str | None


@dataclass
class EvidenceChunk:
    records: list[EvidenceRecord] = field(default_factory=list)
    measurements: pd.DataFrame = field(default_factory=pd.DataFrame)  # the rows with a value, for normalise_chunk
    sources: dict[str, SourceRecord] = field(default_factory=dict)  # what the records cite, by key
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)

    def add(self, issue: Issue) -> None:
        """An error or a warning, as the catalogue says (``codes.file_issue``)."""
        file_issue(self, issue)


def _cell(chunk: pd.DataFrame, emap: EvidenceMap, role: str, row) -> str | None:
    if role not in emap.columns:
        return None
    text = chunk.at[row, emap.columns[role][0]]
    if text is None or (isinstance(text, float) and math.isnan(text)):
        return None
    text = str(text).strip()
    return text or None


def _duration_days(text: str) -> tuple[float | None, float | None] | str:
    """``24 h`` → (1, 1); ``4–12 weeks`` → (28, 84); a message when it is no duration."""
    parsed = parse_cell(text)
    if parsed is None or isinstance(parsed, CellError) or parsed.qualifier == "term":
        return f"duration {text!r} is not a time such as '24 h' or '12 weeks'"
    if not parsed.unit:
        return f"duration {text!r} has no unit; write it as '24 h' or '12 weeks'"
    try:
        to_days = conversion(parsed.unit, _DAYS)
    except UnitError as exc:
        return f"duration {text!r}: {exc.message}"
    low = parsed.low if parsed.low is not None else parsed.value
    high = parsed.high if parsed.high is not None else parsed.value
    if parsed.qualifier in (">", ">="):
        high = None
    if parsed.qualifier in ("<", "<="):
        low = None
    return (
        None if low is None else float(to_days.value(low)),
        None if high is None else float(to_days.value(high)),
    )


_DAYS = Property(key="duration", name="Duration", category="biological", unit="day", min=0)


def _quantity(
    endpoint: str, unit: str | None, named: str | None, vocabulary: Vocabulary, evidence: EvidenceVocabulary
) -> Property | str:
    """The property a row's value measures: the one named (a Property column, or an Endpoint cell
    that names a property), else the endpoint's property whose unit the value's unit fits."""
    if named is not None:
        return vocabulary.properties[named]
    candidates = [vocabulary.properties[key] for key in evidence.endpoints[endpoint].properties]
    fitting = []
    for prop in candidates:
        try:
            conversion(unit, prop)
        except UnitError:
            continue
        fitting.append(prop)
    if len(fitting) > 1 and unit:  # % fits a dimensionless grade too: the property measured in % itself wins
        same = [prop for prop in fitting if parse_unit(prop.unit) == parse_unit(unit)]
        fitting = same or fitting
    if len(fitting) == 1:
        return fitting[0]
    if not candidates:
        return (
            f"endpoint {endpoint!r} has no quantitative property; name the property in a Property column "
            "or give the result as an outcome"
        )
    keys = ", ".join(p.key for p in candidates)
    if not fitting:
        return f"unit {unit or '(none)'!r} fits none of endpoint {endpoint!r}'s properties ({keys})"
    return (
        f"unit {unit or '(none)'!r} fits several of endpoint {endpoint!r}'s properties ({keys}); add a Property column"
    )


def normalise_evidence(chunk: pd.DataFrame, emap: EvidenceMap, vocabulary: Vocabulary) -> EvidenceChunk:
    """The chunk's records and the measurement rows of their quantitative results; errors and
    warnings located by row and column."""
    evidence = get_evidence_vocabulary()
    systems = load_test_systems()
    out = EvidenceChunk()
    properties = pd.Series(None, index=chunk.index, dtype=object)

    def error(kind: str, row, role: str, value: str | None, message: str, suggestions=()) -> None:
        out.add(
            Issue(
                type=kind,
                row=int(row),
                column=emap.label(role) if role in emap.columns else None,
                value=value,
                message=message,
                suggestions=tuple(suggestions),
            )
        )

    for row in chunk.index:
        errors_before = len(out.errors)
        name = _cell(chunk, emap, "name", row)
        if name is None:
            error("missing-value", row, "name", None, "an evidence row needs the material's name")
        endpoint_text = _cell(chunk, emap, "endpoint", row)
        endpoint, named_property = None, None
        if endpoint_text is None:
            error("missing-value", row, "endpoint", None, "an evidence row needs its endpoint")
        else:
            found = evidence.find_endpoint(endpoint_text)
            prop = vocabulary.find_property(endpoint_text) if found is None else None
            if found is not None:
                endpoint = found.key
            elif prop is not None and evidence.endpoint_of_property(prop.key) is not None:
                endpoint, named_property = evidence.endpoint_of_property(prop.key), prop.key
            else:
                suggestions = evidence.closest_endpoints(endpoint_text)
                error(
                    "unknown-endpoint",
                    row,
                    "endpoint",
                    endpoint_text,
                    f"unknown endpoint {endpoint_text!r}{did_you_mean(suggestions)}",
                    suggestions,
                )
        property_text = _cell(chunk, emap, "property", row)
        if property_text is not None:
            prop = vocabulary.find_property(property_text)
            if prop is None:
                suggestions = closest(property_text, vocabulary.property_labels)
                error(
                    "unknown-property",
                    row,
                    "property",
                    property_text,
                    f"unknown property {property_text!r}{did_you_mean(suggestions)}",
                    suggestions,
                )
            else:
                named_property = prop.key
        # an Outcome column holds the outcome's key or alias, and Result the finding as written;
        # without one, the Result itself must name an outcome
        outcome = None
        result = _cell(chunk, emap, "result", row)
        outcome_role = "outcome" if "outcome" in emap.columns else "result"
        outcome_text = _cell(chunk, emap, outcome_role, row)
        if outcome_text is not None and endpoint is not None:
            try:
                outcome = evidence.outcome(outcome_text, endpoint).key
            except VocabularyError as exc:
                error("unknown-outcome", row, outcome_role, outcome_text,
                      f"{exc.message}{did_you_mean(list(exc.suggestions))}", exc.suggestions)  # fmt: skip
        kind_text = _cell(chunk, emap, "kind", row)
        kind = None
        if kind_text is not None:
            kind = find_kind(kind_text)
            if kind is None:
                error("unknown-kind", row, "kind", kind_text,
                      f"unknown test-system kind {kind_text!r}; expected in vitro, in vivo or clinical")  # fmt: skip
        model_text = _cell(chunk, emap, "model", row)
        model = model_key = species = cellosaurus = None
        if model_text is not None and kind != "clinical":  # a patient cohort is described, not looked up
            # "rat (Sprague Dawley)": the strain or detail in parentheses stays in the text shown
            system = systems.resolve(model_text) or systems.resolve(_PARENTHESES.sub(" ", model_text))
            if system is None:
                suggestions = systems.suggest(model_text)
                error(
                    "unknown-cell-line",
                    row,
                    "model",
                    model_text,
                    f"unknown cell line, cell type or species {model_text!r}{did_you_mean(suggestions)}",
                    suggestions,
                )
            else:
                model = system.name if systems.resolve(model_text) is system else model_text
                model_key, species, cellosaurus = system.key, system.species, system.cellosaurus
                if kind is None and system.kind in ("cell_line", "cell_type", "organism"):
                    kind = "in vitro"
                elif kind is None and system.kind == "species" and system.key != "human":
                    kind = "in vivo"
        contact_text = _cell(chunk, emap, "contact", row)
        contact = None
        if contact_text is not None:
            contact = find_contact_category(contact_text.split(",")[0])
            if contact is None:
                error("unknown-contact", row, "contact", contact_text,
                      f"unknown contact category {contact_text!r}; expected one of {', '.join(CONTACT_CATEGORIES)}")  # fmt: skip
            else:
                contact = contact_text if "," in contact_text else contact
        contact_duration_text = _cell(chunk, emap, "contact_duration", row)
        contact_duration = None
        if contact_duration_text is not None:
            contact_duration = find_contact_duration(contact_duration_text)
            if contact_duration is None:
                error("unknown-contact-duration", row, "contact_duration", contact_duration_text,
                      f"unknown contact duration {contact_duration_text!r}; expected one of "
                      f"{', '.join(CONTACT_DURATIONS)}")  # fmt: skip
        duration = _cell(chunk, emap, "duration", row)
        duration_days: tuple[float | None, float | None] = (None, None)
        if duration is not None:
            parsed = _duration_days(duration)
            if isinstance(parsed, str):
                error("invalid-duration", row, "duration", duration, parsed)
            else:
                duration_days = parsed
        value = _cell(chunk, emap, "value", row)
        quantity = None
        if value is not None and endpoint is not None:
            parsed_value = parse_cell(value)
            unit = _cell(chunk, emap, "unit", row)
            if isinstance(parsed_value, ParsedCell) and parsed_value.unit:  # a bad cell: the pipeline reports it
                unit = parsed_value.unit
            found_quantity = _quantity(endpoint, unit, named_property, vocabulary, evidence)
            if isinstance(found_quantity, str):
                error("unknown-quantity", row, "value", value, found_quantity)
            else:
                quantity = found_quantity.key
        if value is None and result is None and outcome_text is None:
            error("missing-value", row, "result", None, "an evidence row needs a result, a value, or both")
        source = source_record(_cell(chunk, emap, "source", row), _cell(chunk, emap, "doi", row))
        if isinstance(source, str):
            error("doi-error", row, "doi" if "doi" in emap.columns else "source", _cell(chunk, emap, "doi", row),
                  source)  # fmt: skip
            source = None
        if len(out.errors) > errors_before or name is None or endpoint is None:
            continue
        exposure = _cell(chunk, emap, "exposure", row)
        properties.at[row] = quantity
        out.records.append(
            EvidenceRecord(
                row=int(row),
                material_name=name,
                material_key=record_key(name),
                endpoint=endpoint,
                outcome=outcome,
                standard=_spelled("standard", _cell(chunk, emap, "standard", row)),
                kind=kind,
                model=model if model is not None else model_text,
                model_key=model_key,
                species=species,
                cellosaurus=cellosaurus,
                site=_cell(chunk, emap, "site", row),
                contact_category=contact,
                contact_duration=contact_duration,
                exposure=exposure,
                exposure_kind=find_exposure(exposure) if exposure else None,
                method=_spelled("method", _cell(chunk, emap, "method", row)),
                duration=duration,
                duration_min_days=duration_days[0],
                duration_max_days=duration_days[1],
                verbatim=result,
                source_key=source.key if source is not None else None,
                source_column=emap.label("result") if "result" in emap.columns else emap.label("value"),
                property=quantity,
            )
        )
        if source is not None:
            out.sources[source.key] = source
    measured = chunk.loc[properties.notna()].copy()
    measured[_PROPERTY_POSITION] = properties[properties.notna()]
    if "value" not in emap.columns:
        measured[_VALUE_POSITION] = pd.Series(dtype=object)
    out.measurements = measured
    return out


def unknown_materials(connection, loader, records: list[EvidenceRecord]) -> list[Issue]:
    """An error for each row whose material the core does not hold: evidence is about materials
    that are there (a material file creates them); the message suggests the closest names."""
    from sqlalchemy import select

    from biomatdb.models import Material
    from biomatdb_ingest.normalise import MaterialRecord

    first: dict[str, EvidenceRecord] = {}
    for record in records:
        first.setdefault(record.material_key, record)
    found = loader.matcher.find(
        [MaterialRecord(row=r.row, name=r.material_name, name_key=key) for key, r in first.items()]
    ).material_ids
    missing = [record for record in records if record.material_key not in found]
    if not missing:
        return []
    labels = {normalise_label(name): name for (name,) in connection.execute(select(Material.name))}
    issues = []
    for record in missing:
        suggestions = closest(record.material_name, labels)
        issues.append(
            Issue(
                type="unknown-material",
                row=record.row,
                column=None,
                value=record.material_name,
                message=f"no material named {record.material_name!r} in the database{did_you_mean(suggestions)}; "
                "load the material first",
                suggestions=tuple(suggestions),
            )
        )
    return issues


def _spelled(field: str, text: str | None) -> str | None:
    """A record's method or standard as the condition vocabulary spells it (``LIVE/DEAD staining``
    → ``viability staining``), as a measurement's is (``biomatdb_ingest.normalise.canonical_conditions``);
    a text no term names stays as written."""
    if not text:
        return None
    return load_conditions().canonical(field, text)


def load_records(connection, loader, records: list[EvidenceRecord], sources: dict[str, SourceRecord]) -> int:
    """Write the upload's records (after its measurements, which the quantitative ones name);
    how many."""
    from datetime import UTC, datetime

    from sqlalchemy import insert, select

    from biomatdb.models import BiologicalEvaluation, Material, Measurement
    from biomatdb.outbox import record_changed
    from biomatdb_ingest.normalise import MaterialRecord

    if not records:
        return 0
    source_ids = loader._resolve_sources({key: sources[key] for key in {r.source_key for r in records} if key})
    first: dict[str, EvidenceRecord] = {}
    for record in records:
        first.setdefault(record.material_key, record)
    material_ids = loader.matcher.find(
        [MaterialRecord(row=r.row, name=r.material_name, name_key=key) for key, r in first.items()]
    ).material_ids
    measured = dict(
        connection.execute(
            select(Measurement.source_row, Measurement.id).where(Measurement.upload_id == loader.upload_id)
        ).all()
    )
    rows = [
        {
            "material_id": material_ids[record.material_key],
            "dataset_id": loader.dataset_id,
            "upload_id": loader.upload_id,
            "source_id": source_ids.get(record.source_key) if record.source_key else None,
            "measurement_id": measured.get(record.row) if record.property else None,
            "endpoint": record.endpoint,
            "outcome": record.outcome,
            "standard": record.standard,
            "kind": record.kind,
            "model": record.model,
            "model_key": record.model_key,
            "species": record.species,
            "cellosaurus": record.cellosaurus,
            "site": record.site,
            "contact_category": record.contact_category,
            "contact_duration": record.contact_duration,
            "exposure": record.exposure,
            "exposure_kind": record.exposure_kind,
            "method": record.method,
            "duration": record.duration,
            "duration_min_days": record.duration_min_days,
            "duration_max_days": record.duration_max_days,
            "verbatim": record.verbatim,
            "source_row": record.row,
            "source_column": record.source_column,
        }
        for record in records
        if record.material_key in material_ids
    ]
    connection.execute(insert(BiologicalEvaluation), rows)
    # their search documents change (the old records' materials were recorded by the loader)
    now = datetime.now(UTC)
    record_changed(connection, Material.id.in_(sorted({row["material_id"] for row in rows})), now)
    return len(rows)


# --- evidence columns of a material file ---------------------------------------------------------

_STANDARD_IN_HEADER = re.compile(
    r"^(?P<name>.+?)\s*[\(\[](?P<standard>(?:ISO|ASTM|USP|JIS|EN|OECD)\b[^\)\]]*)[\)\]]\s*$", re.IGNORECASE
)


@dataclass(frozen=True, slots=True)
class EvidenceColumn:
    """A column of a material file that holds outcomes of one endpoint: ``Cytotoxicity (ISO 10993-5)``."""

    position: int
    label: str
    endpoint: str
    standard: str | None


def evidence_columns(header: list[str], vocabulary: Vocabulary) -> list[EvidenceColumn]:
    """The columns of a (wide) material file that name an endpoint rather than a property: a
    header naming an endpoint with its standard in brackets (``Cytotoxicity (ISO 10993-5)``), or
    one naming an endpoint and no property (``Sensitisation``). Their cells are outcomes."""
    evidence = get_evidence_vocabulary()
    found = []
    for position, label in enumerate(header):
        match = _STANDARD_IN_HEADER.match(label.strip())
        name, standard = (match["name"], match["standard"].strip()) if match else (label.strip(), None)
        endpoint = evidence.find_endpoint(name)
        if endpoint is None or (standard is None and vocabulary.find_property(name) is not None):
            continue
        found.append(EvidenceColumn(position=position, label=label, endpoint=endpoint.key, standard=standard))
    return found


def wide_evidence(
    chunk: pd.DataFrame,
    columns: list[EvidenceColumn],
    *,
    name_position: int | None,
    source_keys: pd.Series | None = None,
) -> EvidenceChunk:
    """The records of a material file's evidence columns: one per non-empty cell, its outcome
    resolved (an unknown one is an error naming the row, column and value)."""
    evidence = get_evidence_vocabulary()
    out = EvidenceChunk()
    if name_position is None:
        return out
    for column in columns:
        texts = chunk[column.position]
        for label, text in texts.items():
            row = int(str(label))  # the chunk's index is the file's row number
            if text is None or (isinstance(text, float) and math.isnan(text)) or not str(text).strip():
                continue
            written = str(text).strip()
            name = chunk.at[label, name_position]
            if name is None or (isinstance(name, float) and math.isnan(name)) or not str(name).strip():
                continue
            try:
                outcome = evidence.outcome(written, column.endpoint).key
            except VocabularyError as exc:
                out.add(
                    Issue(
                        type="unknown-outcome",
                        row=row,
                        column=column.label,
                        value=written,
                        message=f"{exc.message}{did_you_mean(list(exc.suggestions))}",
                        suggestions=exc.suggestions,
                    )
                )
                continue
            material = str(name).strip()
            out.records.append(
                EvidenceRecord(
                    row=row,
                    material_name=material,
                    material_key=record_key(material),
                    endpoint=column.endpoint,
                    outcome=outcome,
                    standard=_spelled("standard", column.standard),
                    kind=None,
                    model=None,
                    model_key=None,
                    species=None,
                    cellosaurus=None,
                    site=None,
                    contact_category=None,
                    contact_duration=None,
                    exposure=None,
                    exposure_kind=None,
                    method=None,
                    duration=None,
                    duration_min_days=None,
                    duration_max_days=None,
                    verbatim=written,
                    source_key=None if source_keys is None else source_keys.get(row),
                    source_column=column.label,
                    property=None,
                )
            )
    return out
