"""Turn one chunk of text cells into canonical material records and measurements.

Pure: a chunk (positional columns of text, indexed by data row) and a context in; records,
a measurement frame in canonical units, and issues out. Units convert per (property, unit)
as whole arrays; each distinct structure is parsed once per load.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from biomatdb.chemistry import Structure, StructureLimits, parse_structure
from biomatdb.doi import doi_key, trimmed_doi
from biomatdb.errors import StructureError, UnitError
from biomatdb.identity import record_key
from biomatdb.models import QUALITATIVE
from biomatdb.suggest import closest, did_you_mean
from biomatdb.text import MATERIAL_NAME_MAX
from biomatdb.units import Conversion, conversion
from biomatdb.vocabulary import Property, Vocabulary, get_vocabulary, normalise_label
from biomatdb.vocabulary.conditions import CONDITION_FIELDS, CONDITION_TEMPERATURE, load_conditions
from biomatdb_ingest import codes
from biomatdb_ingest.cells import ParsedCell, parse_cell, parse_column
from biomatdb_ingest.composition import Component, parse_composition
from biomatdb_ingest.export_values import value_texts
from biomatdb_ingest.mapping import VALUE_ROLES, Column, ColumnMap
from biomatdb_ingest.report import Issue

#: The temperature condition of a measurement, converted like a temperature property.
TEMPERATURE = CONDITION_TEMPERATURE

CONDITION_ROLES = ("medium", "method", "standard", "specimen_state", "notes")
MEASUREMENT_COLUMNS = [
    "row",
    "material_name",
    "material_key",
    "property_key",
    "qualifier",
    "value",
    "value_min",
    "value_max",
    "uncertainty",
    "unit",
    "verbatim_value",
    "verbatim_unit",
    "verbatim_uncertainty",
    "temperature_K",
    *CONDITION_ROLES,
    "source_key",
    "source_column",
    "qualitative",
]
_EXPECTED_VALUE = "expected a number, a range or a bound"
_DOI = re.compile(r"(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/[^\s,;]+)", re.IGNORECASE)
_DOI_EXACT = re.compile(r"^(?:https?://(?:dx\.)?doi\.org/|doi:\s*)?(10\.\d{4,9}/\S+)$", re.IGNORECASE)
_PUBLIC_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,31}$")
_LIST_SPLIT = re.compile(r"\s*[;|]\s*")
_TRUE = {"yes", "y", "true", "t", "1", "biodegradable", "resorbable", "degradable"}
_FALSE = {"no", "n", "false", "f", "0", "non-degradable", "nondegradable", "permanent", "bioinert", "non-biodegradable"}
_ORIGINS = {
    "natural": "natural",
    "synthetic": "synthetic",
    "biological": "natural",
    "man-made": "synthetic",
    "semi-synthetic": "synthetic",
}


@dataclass(frozen=True, slots=True)
class SourceRecord:
    key: str
    doi: str | None
    citation: str | None


@dataclass(slots=True)
class MaterialRecord:
    row: int
    name: str
    name_key: str  # how the file's rows name it: ``biomatdb.identity.record_key``
    public_id: str | None = None
    material_class: str | None = None
    subclass: str | None = None
    synonyms: tuple[str, ...] = ()
    description: str | None = None
    biodegradable: bool | None = None
    origin: str | None = None
    applications: tuple[str, ...] = ()
    regulatory_notes: str | None = None
    structure: Structure | None = None
    composition: tuple[Component, ...] = ()


@dataclass
class Context:
    """What normalising a file needs beyond the cells; caches live here for the whole load."""

    vocabulary: Vocabulary
    column_map: ColumnMap
    decimal: str = "."
    placeholders: tuple[str, ...] = ()
    default_class: str | None = None
    constant_conditions: dict[str, str] = field(default_factory=dict)
    dataset_source: SourceRecord | None = None
    structure_limits: StructureLimits = StructureLimits()
    structures: dict[str, Structure | str] = field(default_factory=dict)
    sources: dict[str, SourceRecord] = field(default_factory=dict)
    constant_temperature_K: float | None = None

    def __post_init__(self) -> None:
        if self.dataset_source is not None:
            self.sources[self.dataset_source.key] = self.dataset_source


@dataclass
class NormalisedChunk:
    materials: list[MaterialRecord]
    measurements: pd.DataFrame
    errors: list[Issue] = field(default_factory=list)
    warnings: list[Issue] = field(default_factory=list)
    named_rows: set[int] = field(default_factory=set)  # the rows that name a material (biomatdb_ingest.accounting)

    @property
    def error_rows(self) -> set[int]:
        return {issue.row for issue in self.errors if issue.row is not None}

    def add(self, issue: Issue) -> None:
        """An error or a warning, as the catalogue says (``codes.file_issue``)."""
        codes.file_issue(self, issue)


def source_record(citation: str | None, doi: str | None) -> SourceRecord | str | None:
    """A source from a citation text and/or a DOI; a message when the DOI is malformed."""
    citation = (citation or "").strip() or None
    doi = (doi or "").strip() or None
    if doi is not None:
        match = _DOI_EXACT.match(doi)
        if match is None:
            return f"malformed DOI {doi!r}; expected 10.NNNN/suffix"
        doi = trimmed_doi(match[1])
    elif citation is not None:
        exact = _DOI_EXACT.match(citation)
        if exact is not None:
            doi, citation = trimmed_doi(exact[1]), None
        else:
            embedded = _DOI.search(citation)
            if embedded is not None:
                doi = trimmed_doi(embedded[1])
    if doi is None and citation is None:
        return None
    key = doi_key(doi) if doi else f"cite:{normalise_label(citation)}"[:512]
    return SourceRecord(key=key, doi=doi, citation=citation)


def public_id_for(name_key: str) -> str:
    """The public id a new material gets: stable for the same normalised name."""
    return "bm-" + hashlib.sha256(name_key.encode("utf-8")).hexdigest()[:10]


def _text(chunk: pd.DataFrame, column: Column | None) -> pd.Series | None:
    if column is None:
        return None
    return chunk[column.position].astype(str).str.strip()


def _label(column: Column | None) -> str | None:
    return column.label if column is not None else None


def _cells(texts: pd.Series) -> Iterator[tuple[int, str]]:
    """A text column's cells with their rows (a chunk is indexed by data row)."""
    return zip(texts.index.tolist(), texts.tolist(), strict=True)


def _row_groups(texts: pd.Series) -> Iterator[tuple[str, np.ndarray]]:
    """The rows (index labels) of each distinct text of a text column, in the order the texts
    first appear; missing cells are in no group. One sort of the codes, not an index object per
    text: a hostile file has a distinct unit on each of its rows."""
    codes, uniques = pd.factorize(texts, sort=False)
    labels = texts.index.to_numpy()
    order = np.argsort(codes, kind="stable")[np.count_nonzero(codes < 0) :]
    ends = np.cumsum(np.bincount(codes[codes >= 0], minlength=len(uniques)))
    start = 0
    for text, end in zip(uniques, ends.tolist(), strict=True):
        yield str(text), labels[order[start:end]]
        start = end


def normalise_chunk(chunk: pd.DataFrame, ctx: Context) -> NormalisedChunk:
    cmap = ctx.column_map
    out = NormalisedChunk(materials=[], measurements=pd.DataFrame(columns=MEASUREMENT_COLUMNS))
    names = _text(chunk, cmap.role("name"))
    ids = _text(chunk, cmap.role("id"))
    if names is None:
        names = ids if ids is not None else pd.Series("", index=chunk.index)
    names = names.str.replace(r"\s+", " ", regex=True)
    for row, name in _cells(names[names.str.len() > MATERIAL_NAME_MAX]):
        out.add(
            Issue(
                type="constraint-error",
                row=row,
                value=name[:80] + "…",
                column=_label(cmap.role("name")),
                message=f"a material name is at most {MATERIAL_NAME_MAX} characters; this one has {len(name):,}",
            )
        )
    structures = _text(chunk, cmap.role("structure"))
    if structures is not None:  # a row that names no material but gives its structure is named by it
        names = names.where(names != "", structures)
    keys = _record_keys(names, ids)
    out.named_rows = set(names.index[names != ""].tolist())
    row_sources = _row_sources(chunk, ctx, out)
    temperature = _row_temperature(chunk, ctx, out)
    conditions = {role: _text(chunk, cmap.role(role)) for role in CONDITION_ROLES}
    frames = _long_measurements(chunk, ctx, out) if cmap.layout == "long" else _wide_measurements(chunk, ctx, out)
    measurements = pd.concat(frames) if frames else pd.DataFrame(columns=MEASUREMENT_COLUMNS)
    if len(measurements):
        rows = measurements["row"].to_numpy()
        measurements["material_name"] = names.reindex(rows).to_numpy()
        measurements["material_key"] = keys.reindex(rows).to_numpy()
        missing = measurements["material_name"] == ""
        for row in sorted(set(measurements.loc[missing, "row"])):
            out.add(
                Issue(
                    type="missing-value",
                    message="a row with measurements needs a material name",
                    row=int(row),
                    column=_label(cmap.role("name")),
                    value="",
                )
            )
        measurements = measurements[~missing]
        rows = measurements["row"].to_numpy()
        measurements["source_key"] = row_sources.reindex(rows).to_numpy()
        for role in CONDITION_ROLES:
            given = conditions[role]
            column_values = measurements.pop(f"_{role}") if f"_{role}" in measurements else None
            values = given.reindex(rows).replace("", None).to_numpy() if given is not None else np.full(len(rows), None)
            if column_values is not None:
                values = np.where(pd.isna(column_values.to_numpy()), values, column_values.to_numpy())
            if ctx.constant_conditions.get(role):
                values = np.where(pd.isna(values), ctx.constant_conditions[role], values)
            measurements[role] = canonical_conditions(role, values) if role in CONDITION_FIELDS else values
        row_temperature = temperature.reindex(rows).to_numpy()
        if "_temperature_K" in measurements:
            own = measurements.pop("_temperature_K").to_numpy(dtype=float)
            row_temperature = np.where(np.isnan(own), row_temperature, own)
        measurements["temperature_K"] = row_temperature
    out.measurements = measurements.reindex(columns=MEASUREMENT_COLUMNS)
    out.materials = _materials(chunk, names, keys, ctx, out)
    return out


def _record_keys(names: pd.Series, ids: pd.Series | None) -> pd.Series:
    """Each row's ``record_key``: its name's, and the material id it gives, if it gives one."""
    if ids is None:
        return names.map(record_key)
    return pd.Series(
        [record_key(name, public_id or None) for name, public_id in zip(names, ids.fillna(""), strict=True)],
        index=names.index,
        dtype=object,
    )


def canonical_conditions(role: str, values: np.ndarray) -> np.ndarray:
    """A condition column in the vocabulary's spelling (``biomatdb.vocabulary.conditions``):
    ``as extruded`` is stored as ``as-extruded``, ``phosphate buffered saline`` as ``PBS``; a value
    no term names stays as written, without a warning (free text is how labs describe a
    specimen: docs/ingest-format.md). Each distinct value is resolved once."""
    column = pd.Series(values, dtype=object)
    written = column.notna()
    if not written.any():
        return column.to_numpy()
    vocabulary = load_conditions()
    spelled = {value: vocabulary.canonical(role, value) for value in pd.unique(column[written])}
    return column.map(spelled).where(written, None).to_numpy()


def _row_sources(chunk: pd.DataFrame, ctx: Context, out: NormalisedChunk) -> pd.Series:
    cmap = ctx.column_map
    source_column, doi_column = cmap.role("source"), cmap.role("doi")
    default = ctx.dataset_source.key if ctx.dataset_source else None
    labelled = doi_column or source_column  # where a malformed DOI is reported
    if labelled is None:
        return pd.Series(default, index=chunk.index, dtype=object)
    citations, dois = _text(chunk, source_column), _text(chunk, doi_column)
    pairs = pd.DataFrame(
        {
            "citation": citations if citations is not None else "",
            "doi": dois if dois is not None else "",
        },
        index=chunk.index,
    )
    keys = pd.Series(default, index=chunk.index, dtype=object)
    for key, rows in pairs.groupby(["citation", "doi"], sort=False).groups.items():
        citation, doi = (str(part) for part in (key if isinstance(key, tuple) else (key,)))
        record = source_record(citation, doi)
        if isinstance(record, str):
            label = labelled.label
            for row in rows:
                out.add(Issue(type="doi-error", message=record, row=int(row), column=label, value=doi or citation))
            continue
        if record is not None:
            ctx.sources.setdefault(record.key, record)
            keys.loc[rows] = record.key
    return keys


def _convert_temperatures(
    parsed: pd.DataFrame, header_unit: str | None, label: str, out: NormalisedChunk, raw: pd.Series
) -> pd.Series:
    result = pd.Series(np.nan, index=parsed.index)
    units = parsed["unit"].where(parsed["unit"].notna(), header_unit)
    cells = None
    for unit, rows in _row_groups(units.fillna("")):
        try:
            conv = conversion(unit or None, TEMPERATURE)
        except UnitError as exc:
            cells = dict(_cells(raw)) if cells is None else cells  # one pass, not a look-up a row
            for row in rows:
                out.add(
                    Issue(
                        type=exc.type,
                        message=exc.message,
                        row=int(row),
                        column=label,
                        value=cells[row],
                        suggestions=exc.suggestions,
                    )
                )
            continue
        result.loc[rows] = conv.value(parsed.loc[rows, "low"].to_numpy(dtype=float))
    bad = result.notna() & (result <= 0)
    for row in result.index[bad]:
        out.add(
            Issue(
                type="constraint-error",
                message="temperature below absolute zero",
                row=int(row),
                column=label,
                value=raw[row],
            )
        )
    return result.where(~bad)


def _temperature_texts(chunk: pd.DataFrame, cmap: ColumnMap, out: NormalisedChunk) -> pd.Series:
    """Each row's test temperature as text: its ``temperature`` cell, or, where that is empty, the
    export's ``temperature_value`` with its ``temperature_unit`` (a value without a unit is refused)."""
    column, number, unit = (cmap.role(role) for role in ("temperature", "temperature_value", "temperature_unit"))
    texts = chunk[column.position] if column is not None else pd.Series("", index=chunk.index, dtype=object)
    if number is None:
        return texts
    texts = texts.astype(object).where(texts.notna(), "").astype(str).str.strip()
    numbers = chunk[number.position].astype(object).where(chunk[number.position].notna(), "").astype(str).str.strip()
    units = (
        chunk[unit.position].astype(object).where(chunk[unit.position].notna(), "").astype(str).str.strip()
        if unit is not None
        else pd.Series("", index=chunk.index, dtype=object)
    )
    from_numbers = (texts == "") & (numbers != "")
    for row in texts.index[from_numbers & (units == "")]:
        out.add(
            Issue(
                type="missing-value",
                row=int(row),
                column=number.label,
                value=numbers[row],
                message="a temperature value needs its unit in a temperature_unit column",
            )
        )
    with_unit = from_numbers & (units != "")
    return texts.where(~with_unit, numbers + " " + units)


def _row_temperature(chunk: pd.DataFrame, ctx: Context, out: NormalisedChunk) -> pd.Series:
    column = ctx.column_map.role("temperature") or ctx.column_map.role("temperature_value")
    result = pd.Series(ctx.constant_temperature_K, index=chunk.index, dtype=float)
    if column is None:
        return result
    raw = _temperature_texts(chunk, ctx.column_map, out)
    parsed, errors = parse_column(raw, decimal=ctx.decimal)
    for row, text, error in errors:
        out.add(Issue(type=error.type, message=error.message, row=int(row), column=column.label, value=text))
    points = parsed[parsed["qualifier"].isin(["=", "~"]) & parsed["uncertainty"].isna()]
    for row in parsed.index.difference(points.index):
        spread = float(parsed.at[row, "uncertainty"])  # type: ignore[arg-type]  # a float column
        message = "a test temperature must be one value"
        if parsed.at[row, "qualifier"] in ("=", "~") and not np.isnan(spread):  # its ± has nowhere to go
            message += f"; its uncertainty (± {spread:g}) cannot be stored, so write the value alone"
        out.add(Issue(type="type-error", message=message, row=int(row), column=column.label, value=raw[row]))
    converted = _convert_temperatures(points, column.unit, column.label, out, raw)
    result.loc[converted.index] = converted
    return result


def _measurement_frame(
    parsed: pd.DataFrame,
    prop: Property,
    units: pd.Series,
    raw: pd.Series,
    label: str,
    out: NormalisedChunk,
    uncertainty: pd.DataFrame | None = None,
) -> pd.DataFrame | None:
    """Convert one property's parsed cells (grouped by unit) to canonical values, checking bounds.
    Qualitative cells (``amorphous``) become measurements without a value (:func:`_qualitative_frame`).

    ``uncertainty`` (from :func:`_uncertainty_frame`) gives a spread for some rows; one with a unit
    of its own converts in that unit, one without in the value's."""
    pieces = []
    qualitative = parsed["qualitative"].notna()
    if qualitative.any():
        pieces.append(_qualitative_frame(parsed[qualitative], prop, units[qualitative], raw, label, out, uncertainty))
        parsed, units = parsed[~qualitative], units[~qualitative]
    cells = None
    for unit, rows in _row_groups(units.fillna("")):
        try:
            conv = conversion(unit or None, prop)
        except UnitError as exc:
            cells = dict(_cells(raw)) if cells is None else cells  # one pass, not a look-up a row
            for row in rows:
                out.add(
                    Issue(
                        type=exc.type,
                        message=exc.message,
                        row=int(row),
                        column=label,
                        value=cells[row],
                        suggestions=exc.suggestions,
                    )
                )
            continue
        part = parsed.loc[rows]
        with np.errstate(over="ignore", invalid="ignore"):
            frame = pd.DataFrame(
                {
                    "row": part.index.to_numpy(),
                    "property_key": prop.key,
                    "qualifier": part["qualifier"].to_numpy(),
                    "value": conv.value(part["value"].to_numpy(dtype=float)),
                    "value_min": conv.value(part["low"].to_numpy(dtype=float)),
                    "value_max": conv.value(part["high"].to_numpy(dtype=float)),
                    "uncertainty": conv.delta(part["uncertainty"].to_numpy(dtype=float)),
                    "unit": prop.unit,
                    "verbatim_value": raw.loc[rows].to_numpy(),
                    "verbatim_unit": unit or None,
                    "verbatim_uncertainty": None,
                    "qualitative": None,
                }
            )
        if uncertainty is not None:
            spreads = uncertainty.reindex(part.index)
            extra = _spread(spreads, prop, conv, out)
            given = ~np.isnan(extra)
            frame["uncertainty"] = np.where(given, extra, frame["uncertainty"])
            frame["verbatim_uncertainty"] = np.where(
                given, _spread_texts(spreads, unit or None), frame["verbatim_uncertainty"].to_numpy(dtype=object)
            )
        pieces.append(_check_bounds(frame, prop, label, out))
    pieces = [piece for piece in pieces if len(piece)]
    return pd.concat(pieces) if pieces else None


def _qualitative_frame(
    part: pd.DataFrame,
    prop: Property,
    units: pd.Series,
    raw: pd.Series,
    label: str,
    out: NormalisedChunk,
    uncertainty: pd.DataFrame | None,
) -> pd.DataFrame:
    """Qualitative cells of one property as measurements of qualifier ``term``: the term's key,
    the verbatim text and unit, no value (the unit is not converted: there is nothing to convert).
    A term that cannot describe the property (``amorphous`` as a density), or one given an
    uncertainty, is an error on its cell."""
    terms = get_vocabulary().qualitative
    kept = []
    for row, key in _cells(part["qualitative"]):
        term = terms[key]
        if not term.describes(prop.key):
            out.add(
                Issue(
                    type="type-error",
                    row=int(row),
                    column=label,
                    value=raw[row],
                    message=(
                        f"{term.name!r} is a qualitative value of {', '.join(term.properties)}, not of {prop.key}; "
                        f"{_EXPECTED_VALUE}"
                    ),
                )
            )
        elif uncertainty is not None and row in uncertainty.index:
            out.add(
                Issue(
                    type="type-error",
                    row=row,
                    column=str(uncertainty.at[row, "label"]),
                    value=str(uncertainty.at[row, "text"]),
                    message=f"the value of {label!r} is qualitative ({term.name!r}): it has no uncertainty",
                )
            )
        else:
            kept.append(row)
    return pd.DataFrame(
        {
            "row": np.array(kept, dtype="int64"),
            "property_key": prop.key,
            "qualifier": QUALITATIVE,
            "value": np.nan,
            "value_min": np.nan,
            "value_max": np.nan,
            "uncertainty": np.nan,
            "unit": prop.unit,
            "verbatim_value": raw.loc[kept].to_numpy(),
            "verbatim_unit": units.loc[kept].to_numpy(dtype=object),
            "verbatim_uncertainty": None,
            "qualitative": part.loc[kept, "qualitative"].to_numpy(dtype=object),
        }
    )


def _check_bounds(frame: pd.DataFrame, prop: Property, label: str, out: NormalisedChunk) -> pd.DataFrame:
    ends = frame[["value_min", "value_max", "uncertainty"]].to_numpy(dtype=float)
    present = ~np.isnan(ends)
    bad_infinite = (present & ~np.isfinite(ends)).any(axis=1)
    bad = bad_infinite.copy()
    messages = np.full(len(frame), "", dtype=object)
    messages[bad_infinite] = "the value overflows after conversion to the canonical unit"
    bounds = ends[:, :2]
    with np.errstate(invalid="ignore"):
        if prop.min is not None:
            low_bad = (bounds < prop.min) if not prop.min_exclusive else (bounds <= prop.min)
            low_bad = (low_bad & present[:, :2]).any(axis=1) & ~bad
            messages[low_bad] = f"{prop.key} must lie within {prop.bounds_text()}"
            bad |= low_bad
        if prop.max is not None:
            high_bad = (bounds > prop.max) if not prop.max_exclusive else (bounds >= prop.max)
            high_bad = (high_bad & present[:, :2]).any(axis=1) & ~bad
            messages[high_bad] = f"{prop.key} must lie within {prop.bounds_text()}"
            bad |= high_bad
    for index in np.flatnonzero(bad):
        record = frame.iloc[index]
        out.add(
            Issue(
                type="constraint-error",
                message=messages[index],
                row=int(record["row"]),
                column=label,
                value=str(record["verbatim_value"]),
            )
        )
    return frame[~bad]


def _uncertainty_frame(
    chunk: pd.DataFrame, column: Column | None, ctx: Context, out: NormalisedChunk
) -> pd.DataFrame | None:
    """The spreads an uncertainty column gives, by row: ``spread``, its ``unit`` (the cell's, else the
    header's, else None: the value's) and the column ``label`` and cell ``text`` for messages."""
    if column is None:
        return None
    raw = chunk[column.position]
    parsed, errors = parse_column(raw, decimal=ctx.decimal)
    for row, text, error in errors:
        out.add(Issue(type=error.type, message=error.message, row=int(row), column=column.label, value=text))
    not_point = parsed["qualifier"] != "="
    for row in parsed.index[not_point | (parsed["low"] < 0)]:
        out.add(
            Issue(
                type="type-error",
                message="an uncertainty must be one non-negative number",
                row=int(row),
                column=column.label,
                value=raw[row],
            )
        )
    kept = parsed[~not_point & (parsed["low"] >= 0)]
    return pd.DataFrame(
        {
            "spread": kept["low"],
            "unit": kept["unit"].where(kept["unit"].notna(), column.unit),
            "cell_unit": kept["unit"],
            "label": column.label,
            "text": raw.reindex(kept.index),
        },
        index=kept.index,
    )


def _spread(
    uncertainty: pd.DataFrame, prop: Property, value_conversion: Conversion, out: NormalisedChunk
) -> np.ndarray:
    """Spreads in ``prop``'s canonical unit, as differences (2 °C of spread is 2 K); NaN where there is none,
    or where its unit does not fit ``prop`` (an error on the uncertainty's cell)."""
    result = np.full(len(uncertainty), np.nan)
    present = uncertainty["spread"].notna().to_numpy()
    units = uncertainty["unit"].where(uncertainty["unit"].notna(), "")
    for written, among_present in units[present].groupby(units[present], sort=False).indices.items():
        unit = str(written)
        positions = np.flatnonzero(present)[among_present]
        try:
            conv = conversion(unit, prop) if unit else value_conversion
        except UnitError as exc:
            for position in positions:
                record = uncertainty.iloc[position]
                out.add(
                    Issue(
                        type=exc.type,
                        message=f"uncertainty: {exc.message}",
                        row=int(uncertainty.index[position]),
                        column=record["label"],
                        value=record["text"],
                        suggestions=exc.suggestions,
                    )
                )
            continue
        with np.errstate(over="ignore", invalid="ignore"):
            result[positions] = conv.delta(uncertainty["spread"].to_numpy(dtype=float)[positions])
    return result


def _spread_texts(uncertainty: pd.DataFrame, value_unit: str | None) -> np.ndarray:
    """Each spread as written, with the unit it was read in (``4 GPa``: its cell's, else its
    header's, else the value's), so that it is shown with its written digits; None where none."""
    texts = np.full(len(uncertainty), None, dtype=object)
    for position, (text, unit, cell_unit) in enumerate(
        zip(uncertainty["text"], uncertainty["unit"], uncertainty["cell_unit"], strict=True)
    ):
        if not isinstance(text, str) or not text.strip():
            continue
        written = text.strip()
        if not isinstance(cell_unit, str):  # the cell gave no unit: say the one it was read in
            read_in = unit if isinstance(unit, str) else value_unit
            written = f"{written} {read_in}" if read_in else written
        texts[position] = written
    return texts


def condition_temperature_K(text: str) -> float:
    """A manifest's temperature condition, file-wide or a column's, in kelvin: one value with its
    unit, as a row's test temperature must be ("37 degC", "~310 K"); a range, a bound or a value
    with an uncertainty ("37 ± 1 degC": a condition has no uncertainty to keep it in) is refused."""
    parsed = parse_cell(text, decimal=".")
    if not isinstance(parsed, ParsedCell) or parsed.qualifier not in ("=", "~") or parsed.value is None:
        raise UnitError(f"expected one temperature such as '300 K', got {text!r}")
    if parsed.uncertainty is not None:
        raise UnitError(
            f"expected one temperature such as '300 K', got {text!r}: its uncertainty "
            f"(± {parsed.uncertainty:g}) cannot be stored, so write the value alone"
        )
    kelvin = float(conversion(parsed.unit, TEMPERATURE).value(parsed.value))
    if not kelvin > 0:
        raise UnitError(f"{text!r} is at or below absolute zero")
    return kelvin


def _report_cell_errors(errors, label: str, out: NormalisedChunk) -> None:
    for row, text, error in errors:
        out.add(Issue(type=error.type, message=error.message, row=int(row), column=label, value=str(text)))


def _with_column_conditions(frame: pd.DataFrame, column: Column, ctx: Context, out: NormalisedChunk) -> pd.DataFrame:
    """Conditions a manifest gives for one column override the row's and the file's."""
    for key, value in column.conditions.items():
        if key == "temperature":
            try:
                kelvin = condition_temperature_K(value)
            except UnitError as exc:
                out.add(
                    Issue(type="manifest-error", message=f"temperature {value!r}: {exc.message}", column=column.label)
                )
                continue
            frame["_temperature_K"] = kelvin
        else:
            frame[f"_{key}"] = value
    return frame


def _wide_measurements(chunk: pd.DataFrame, ctx: Context, out: NormalisedChunk) -> list[pd.DataFrame]:
    frames = []
    for column in ctx.column_map.measurement_columns:
        raw = chunk[column.position]
        parsed, errors = parse_column(raw, decimal=ctx.decimal)
        _report_cell_errors(errors, column.label, out)
        uncertainty = _uncertainty_frame(chunk, ctx.column_map.uncertainty_column_for(column.position), ctx, out)
        _uncertainty_without_value(uncertainty, parsed.index, {row for row, _, _ in errors}, out)
        if not len(parsed):
            continue
        units = parsed["unit"].where(parsed["unit"].notna(), column.unit)
        assert column.property is not None, "a measurement column names its property (biomatdb_ingest.mapping)"
        frame = _measurement_frame(parsed, column.property, units, raw, column.label, out, uncertainty)
        if frame is not None:
            frame["source_column"] = column.label
            frames.append(_with_column_conditions(frame, column, ctx, out))
    return frames


def _uncertainty_without_value(
    uncertainty: pd.DataFrame | None, valued: pd.Index, refused: set, out: NormalisedChunk
) -> None:
    """An uncertainty is refused on a row that gives no value for it: it would otherwise vanish."""
    if uncertainty is None:
        return
    for row in uncertainty.index.difference(valued):
        if row in refused:
            continue
        spread = uncertainty.loc[row]
        out.add(
            Issue(
                type="missing-value",
                row=int(row),
                column=spread["label"],
                value=str(spread["text"]),
                message="an uncertainty needs a value in the same row; this row gives none",
            )
        )


def _long_measurements(chunk: pd.DataFrame, ctx: Context, out: NormalisedChunk) -> list[pd.DataFrame]:
    cmap = ctx.column_map
    property_column = cmap.role("property")
    assert property_column is not None, "a long table has a property column (biomatdb_ingest.mapping)"
    value_label = next(column.label for column in map(cmap.role, VALUE_ROLES) if column is not None)
    unit_column = cmap.role("unit")
    raw, composing = value_texts(chunk, cmap, ctx.decimal)
    for issue in composing:
        out.add(issue)
    parsed, errors = parse_column(raw, decimal=ctx.decimal)
    _report_cell_errors(errors, value_label, out)
    property_text = chunk[property_column.position].astype(str).str.strip().reindex(parsed.index)
    value_column = cmap.role("value")
    header_unit = value_column.unit if value_column is not None else None
    units = parsed["unit"]
    if unit_column is not None:
        unit_text = chunk[unit_column.position].astype(str).str.strip().reindex(parsed.index).replace("", None)
        units = units.where(units.notna(), unit_text)
    units = units.where(units.notna(), header_unit)
    uncertainty = _uncertainty_frame(chunk, cmap.role("uncertainty"), ctx, out)
    refused = {row for row, _, _ in errors} | {issue.row for issue in composing}
    _uncertainty_without_value(uncertainty, parsed.index, refused, out)
    verbatim = _carried_verbatim(chunk, cmap)
    frames = []
    for text, rows in _row_groups(property_text):
        prop = ctx.vocabulary.find_property(text) if text else None
        if prop is None:
            suggestions = tuple(closest(text, ctx.vocabulary.property_labels))
            message = "missing property name" if not text else f"unknown property {text!r}{did_you_mean(suggestions)}"
            for row in rows:
                out.add(
                    Issue(
                        type="unknown-property",
                        message=message,
                        row=int(row),
                        column=property_column.label,
                        value=text,
                        suggestions=suggestions,
                    )
                )
            continue
        frame = _measurement_frame(parsed.loc[rows], prop, units.loc[rows], raw, value_label, out, uncertainty)
        if frame is not None:
            frame["source_column"] = value_label
            frames.append(frame if verbatim is None else _with_verbatim(frame, verbatim))
    return frames


def _carried_verbatim(chunk: pd.DataFrame, cmap: ColumnMap) -> pd.DataFrame | None:
    """The ``verbatim_value``/``verbatim_unit`` columns of an export, by row: what the value's source
    wrote (the ``source`` and ``doi`` columns name it), kept as the measurement's verbatim text and unit,
    so that an export ingests back to the same provenance. The value itself is read from the value
    column, as always; the verbatim text only tells the precision it was written with."""
    value_column = cmap.role("verbatim_value")
    if value_column is None:
        return None
    unit_column = cmap.role("verbatim_unit")
    units = chunk[unit_column.position] if unit_column is not None else pd.Series("", index=chunk.index)
    return pd.DataFrame({"value": chunk[value_column.position], "unit": units}, index=chunk.index).fillna("")


def _with_verbatim(frame: pd.DataFrame, verbatim: pd.DataFrame) -> pd.DataFrame:
    """``frame`` with the verbatim text and unit its rows' ``verbatim`` cells give, where they give one."""
    given = verbatim.reindex(frame["row"].to_numpy())
    values = given["value"].fillna("").astype(str)
    present = (values.str.strip() != "").to_numpy()
    units = given["unit"].fillna("").astype(str).str.strip()
    frame = frame.copy()
    frame["verbatim_value"] = np.where(present, values.to_numpy(dtype=object), frame["verbatim_value"].to_numpy())
    frame["verbatim_unit"] = np.where(
        present, units.where(units != "", None).to_numpy(dtype=object), frame["verbatim_unit"].to_numpy(dtype=object)
    )
    return frame


def _structure(text: str, ctx: Context) -> Structure | str:
    cached = ctx.structures.get(text)
    if cached is None:
        try:
            cached = parse_structure(text, placeholders=ctx.placeholders, limits=ctx.structure_limits)
        except StructureError as exc:
            cached = exc.message
        ctx.structures[text] = cached
    return cached


@dataclass(frozen=True, slots=True)
class _Refusal:
    """Why one cell of a material field is refused, with the text to report it by."""

    message: str
    value: str
    suggestions: tuple[str, ...] = ()


#: A material field's value (None: the record keeps its default), and what was refused in its
#: cell (a refusal drops the record, unless its field's issues are warnings). A plain tuple: one
#: is made per cell.
_Parsed = tuple[object, tuple[_Refusal, ...]]


def _public_id_field(text: str, ctx: Context) -> _Parsed:
    if _PUBLIC_ID.match(text):
        return text, ()
    return None, (_Refusal("a material id is 1-32 letters, digits, '.', '_' or '-'", text),)


def _class_field(text: str, ctx: Context) -> _Parsed:
    material_class = ctx.vocabulary.find_class(text)
    if material_class is not None:
        return material_class, ()
    suggestions = tuple(closest(text, ctx.vocabulary.class_labels))
    message = f"unknown material class{did_you_mean(suggestions)} (expected one of {', '.join(ctx.vocabulary.classes)})"
    return None, (_Refusal(message, text, suggestions),)


def _as_written(text: str, ctx: Context) -> _Parsed:
    return text, ()


def _synonyms_field(text: str, ctx: Context) -> _Parsed:
    synonyms = tuple(s for s in _LIST_SPLIT.split(text) if s)
    too_long = tuple(
        _Refusal(
            f"a synonym is at most {MATERIAL_NAME_MAX} characters; this one has {len(synonym):,}",
            synonym[:80] + "…",
        )
        for synonym in synonyms
        if len(synonym) > MATERIAL_NAME_MAX
    )
    return synonyms, too_long


def _biodegradable_field(text: str, ctx: Context) -> _Parsed:
    flag = text.casefold()
    if flag in _TRUE or flag in _FALSE:
        return flag in _TRUE, ()
    return None, (_Refusal("biodegradable must be yes or no", text),)


def _origin_field(text: str, ctx: Context) -> _Parsed:
    origin = _ORIGINS.get(text.casefold())
    if origin is not None:
        return origin, ()
    return None, (_Refusal("origin must be natural or synthetic", text),)


def _applications_field(text: str, ctx: Context) -> _Parsed:
    """Applications by their vocabulary key; one the vocabulary lacks is kept under its folded
    label, with a warning."""
    applications: list[str] = []
    unknown: list[_Refusal] = []
    for application in filter(None, _LIST_SPLIT.split(text)):
        key = ctx.vocabulary.find_application(application)
        if key is None:
            key = normalise_label(application).replace(" ", "_")
            suggestions = tuple(closest(application, ctx.vocabulary.application_labels))
            message = f"application not in the vocabulary; kept as {key!r}{did_you_mean(suggestions)}"
            unknown.append(_Refusal(message, application, suggestions))
        if key not in applications:
            applications.append(key)
    return tuple(applications), tuple(unknown)


def _structure_field(text: str, ctx: Context) -> _Parsed:
    structure = _structure(text, ctx)
    if isinstance(structure, str):
        return None, (_Refusal(structure, text),)
    return structure, ()


def _composition_field(text: str, ctx: Context) -> _Parsed:
    composition = parse_composition(text, decimal=ctx.decimal)
    if isinstance(composition, str):
        return None, (_Refusal(composition, text),)
    return composition, ()


@dataclass(frozen=True, slots=True)
class _MaterialField:
    """One field of a material record: the column role it is read from, the ``MaterialRecord``
    attribute it sets, how a non-empty cell is read, and the issue code of a refused cell (an
    error drops the record; a warning, ``ingest/biomatdb_ingest/issues.toml`` says which, keeps it with the value
    read). An empty cell leaves the attribute at its default; ``fallback`` gives the text an
    empty cell stands for (the manifest's default class)."""

    role: str
    attribute: str
    parse: Callable[[str, Context], _Parsed]
    issue: str
    fallback: Callable[[Context], str | None] | None = None


#: The material fields, in the order their cells are read and their issues reported.
_MATERIAL_FIELDS: tuple[_MaterialField, ...] = (
    _MaterialField("id", "public_id", _public_id_field, "type-error"),
    _MaterialField("class", "material_class", _class_field, "unknown-class", fallback=lambda ctx: ctx.default_class),
    _MaterialField("subclass", "subclass", _as_written, "type-error"),  # never refused: kept as written
    _MaterialField("synonyms", "synonyms", _synonyms_field, "constraint-error"),
    _MaterialField("description", "description", _as_written, "type-error"),
    _MaterialField("regulatory_notes", "regulatory_notes", _as_written, "type-error"),
    _MaterialField("biodegradable", "biodegradable", _biodegradable_field, "type-error"),
    _MaterialField("origin", "origin", _origin_field, "type-error"),
    _MaterialField("applications", "applications", _applications_field, "unknown-application"),
    _MaterialField("structure", "structure", _structure_field, "structure-error"),
    _MaterialField("composition", "composition", _composition_field, "composition-error"),
)


def _materials(
    chunk: pd.DataFrame, names: pd.Series, keys: pd.Series, ctx: Context, out: NormalisedChunk
) -> list[MaterialRecord]:
    """One record per material the chunk's rows name (``record_key``), from the first row that
    names it, its fields read as ``_MATERIAL_FIELDS`` says; a record with a refused field is left out."""
    cmap = ctx.column_map
    named = names != ""
    firsts = names[named]
    firsts = firsts[~keys[named].duplicated()]  # one record per material the rows name
    first_keys = keys.reindex(firsts.index).tolist()
    records = [
        MaterialRecord(row=row, name=name, name_key=key)
        for (row, name), key in zip(_cells(firsts), first_keys, strict=True)
    ]
    # each record's issues, field by field: reported in record order, as the rows come
    found: list[list[Issue]] = [[] for _ in records]
    for spec in _MATERIAL_FIELDS:
        column = cmap.role(spec.role)
        texts = _text(chunk, column)
        fallback = (spec.fallback(ctx) if spec.fallback is not None else None) or ""
        if texts is None and not fallback:
            continue  # nothing gives this field: every record keeps its default
        # one list per field: a Series lookup per cell costs more than the rest of the loop
        cells: list[str] = [""] * len(records) if texts is None else texts.reindex(firsts.index).fillna("").tolist()
        label = _label(column)
        for position, cell in enumerate(cells):
            text = cell or fallback
            if not text:
                continue
            value, refusals = spec.parse(text, ctx)
            record = records[position]
            if value is not None:
                setattr(record, spec.attribute, value)
            if refusals:
                found[position].extend(
                    Issue(
                        type=spec.issue,
                        message=refusal.message,
                        row=record.row,
                        column=label,
                        value=refusal.value,
                        suggestions=refusal.suggestions,
                    )
                    for refusal in refusals
                )
    kept = []
    for record, issues in zip(records, found, strict=True):
        for issue in issues:
            out.add(issue)
        if not any(codes.severity(issue.type) == "error" for issue in issues):
            kept.append(record)
    return kept
