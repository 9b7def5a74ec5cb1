"""The export's columns and their types, and the three formats an export is written in: CSV,
JSON and Parquet. The CLI (``biomatdb export``), the API (``GET /export``) and the data package
all write through this module, so that their columns, types and cells cannot disagree.

A row is a dict of typed cells: ``str`` or None for text, ``bool`` or None for a flag, and for a
number a :class:`~biomatdb.precision.Shown` (the value rounded to the precision written), a
float, or None. Each format writes a cell by the column's type:

- **CSV**: text as it is (made safe for a spreadsheet), a number as the ingest parser reads it
  back with its trailing zeros (``4.00``), a flag as ``yes``/``no``; an empty cell for None.
- **JSON**: a number is a number, a flag a boolean, nothing is ``null``.
- **Parquet**: float64 for a number, bool for a flag, string for text; nulls for nothing.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

import orjson

from biomatdb.precision import Shown
from biomatdb.spreadsheet import neutralise

FieldType = Literal["string", "number", "boolean"]


@dataclass(frozen=True, slots=True)
class ExportField:
    """One column of an export: its name, its type, and what it holds (the data package's schema)."""

    name: str
    type: FieldType = "string"
    description: str | None = None
    required: bool = False


_IN_UNIT = "in the row's unit (the display or chosen unit), rounded to the precision written"

#: The long layout of measurements: a row per measurement, and one per material without any.
MEASUREMENT_FIELDS: tuple[ExportField, ...] = (
    ExportField("id", description="BiomatDB public id of the material", required=True),
    ExportField("material", description="material name", required=True),
    ExportField("class", description="material class"),
    ExportField("subclass"),
    ExportField("synonyms", description="other names, separated by '; '"),
    ExportField("description"),
    ExportField("biodegradable", "boolean"),
    ExportField("origin"),
    ExportField("applications", description="applications, separated by '; '"),
    ExportField("regulatory notes"),
    ExportField("smiles", description="canonical SMILES of the structure (or repeat unit)"),
    ExportField("composition", description="composition, as 'Ti bal; Al 5.5-6.75 wt%'"),
    ExportField("property", description="vocabulary key of the measured property"),
    ExportField("value", "number", f"the value of a point (qualifier empty or '~'), {_IN_UNIT}; empty otherwise"),
    ExportField("value_min", "number", f"lower end of the value's interval (a point's value), {_IN_UNIT}"),
    ExportField("value_max", "number", f"upper end of the value's interval (a point's value), {_IN_UNIT}"),
    ExportField(
        "qualifier",
        description="empty for a plain value; ~ (approximate), range, >, >=, <, <=, or term (a qualitative value)",
    ),
    ExportField("uncertainty", "number", f"standard uncertainty, {_IN_UNIT}"),
    ExportField("unit", description="the unit of the numbers (display or chosen); empty beside a qualitative value"),
    ExportField(
        "value_text",
        description="the value as text in the unit, as the ingest reads it back: '4.00', '4.00 to 5.00', '>24', "
        "'~5', or a qualitative value in words ('amorphous')",
    ),
    ExportField("verbatim_value", description="the value as the source wrote it"),
    ExportField("verbatim_unit", description="the unit as the source wrote it"),
    ExportField(
        "temperature", description="temperature of the measurement as the ingest reads it back, in kelvin ('310.15 K')"
    ),
    ExportField(
        "temperature_value",
        "number",
        "temperature of the measurement in temperature_unit (°C by default; °F in the US unit system)",
    ),
    ExportField("temperature_unit", description="the unit of temperature_value ('°C')"),
    ExportField("medium"),
    ExportField("method"),
    ExportField("standard"),
    ExportField("specimen state"),
    ExportField("notes"),
    ExportField("source", description="citation of the value's source"),
    ExportField("doi", description="DOI of the value's source"),
)
EXPORT_COLUMNS = [field.name for field in MEASUREMENT_FIELDS]

FORMATS = ("csv", "json", "parquet")
MEDIA_TYPES: dict[str, str] = {
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
    "parquet": "application/vnd.apache.parquet",
}
#: Rows per Parquet row group (and so per block a Parquet export is streamed in).
PARQUET_ROWS = 5000


def csv_cell(value: Any, field: ExportField) -> str:
    """A cell's CSV text: a number as it reads back (``4.00``), a flag ``yes``/``no``, nothing empty,
    text made safe to open in a spreadsheet."""
    if value is None:
        return ""
    if field.type == "boolean":
        return "yes" if value else "no"
    if field.type == "number":
        return value.text() if isinstance(value, Shown) else repr(float(value)).removesuffix(".0")
    return neutralise(str(value))


def json_cell(value: Any, field: ExportField) -> Any:
    """A cell's JSON (and Parquet) value: a float, a boolean, a string, or None."""
    if value is None:
        return None
    if field.type == "number":
        return float(value)
    if field.type == "boolean":
        return bool(value)
    return str(value)


def csv_blocks(
    rows: Iterable[Mapping[str, Any]], *, fields: Sequence[ExportField] = MEASUREMENT_FIELDS, flush_bytes: int = 1 << 16
) -> Iterator[str]:
    """The CSV text in blocks of about ``flush_bytes``: a header, then every row, text cells made
    safe to open in a spreadsheet (``biomatdb.spreadsheet``)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow([field.name for field in fields])
    for row in rows:
        writer.writerow([csv_cell(row.get(field.name), field) for field in fields])
        if buffer.tell() > flush_bytes:
            yield buffer.getvalue()
            buffer.seek(0)
            buffer.truncate()
    yield buffer.getvalue()


def json_row(row: Mapping[str, Any], fields: Sequence[ExportField] = MEASUREMENT_FIELDS) -> dict[str, Any]:
    return {field.name: json_cell(row.get(field.name), field) for field in fields}


def json_blocks(
    rows: Iterable[Mapping[str, Any]], *, fields: Sequence[ExportField] = MEASUREMENT_FIELDS
) -> Iterator[bytes]:
    """A JSON array of the rows, one object per line, every column in every object."""
    yield b"["
    for index, row in enumerate(rows):
        yield (b"," if index else b"") + b"\n" + orjson.dumps(json_row(row, fields))
    yield b"\n]\n"


def parquet_schema(fields: Sequence[ExportField] = MEASUREMENT_FIELDS):
    import pyarrow as pa  # type: ignore[import-untyped]

    arrow = {"string": pa.string(), "number": pa.float64(), "boolean": pa.bool_()}
    return pa.schema(
        [pa.field(field.name, arrow[field.type], metadata={"description": field.description or ""}) for field in fields]
    )


class _Sink:
    """A write-only file that hands on what was written since it was last emptied."""

    def __init__(self) -> None:
        self.parts: list[bytes] = []
        self.closed = False
        self.position = 0

    def write(self, data) -> int:
        chunk = bytes(data)
        self.parts.append(chunk)
        self.position += len(chunk)
        return len(chunk)

    def tell(self) -> int:
        return self.position

    def flush(self) -> None:
        return None

    def close(self) -> None:
        self.closed = True

    def writable(self) -> bool:
        return True

    def take(self) -> bytes:
        data, self.parts = b"".join(self.parts), []
        return data


def parquet_blocks(
    rows: Iterable[Mapping[str, Any]],
    *,
    fields: Sequence[ExportField] = MEASUREMENT_FIELDS,
    rows_per_group: int = PARQUET_ROWS,
) -> Iterator[bytes]:
    """A Parquet file of the rows, typed by column (:func:`parquet_schema`), written with pyarrow
    one row group of ``rows_per_group`` at a time and handed on as each group is written."""
    import pyarrow as pa
    import pyarrow.parquet as pq  # type: ignore[import-untyped]

    schema = parquet_schema(fields)
    sink = _Sink()
    with pq.ParquetWriter(sink, schema, compression="zstd") as writer:
        group: list[dict[str, Any]] = []
        for row in rows:
            group.append(json_row(row, fields))
            if len(group) >= rows_per_group:
                writer.write_table(pa.Table.from_pylist(group, schema=schema))
                group = []
                yield sink.take()
        if group:
            writer.write_table(pa.Table.from_pylist(group, schema=schema))
    yield sink.take()


def _csv_bytes(rows: Iterable[Mapping[str, Any]], *, fields: Sequence[ExportField]) -> Iterator[bytes]:
    return (block.encode("utf-8") for block in csv_blocks(rows, fields=fields))


_WRITERS: dict[str, Callable[..., Iterator[bytes]]] = {
    "csv": _csv_bytes,
    "json": json_blocks,
    "parquet": parquet_blocks,
}


def blocks(
    format: str, rows: Iterable[Mapping[str, Any]], *, fields: Sequence[ExportField] = MEASUREMENT_FIELDS
) -> Iterator[bytes]:
    """The export of ``rows`` in ``format`` (one of :data:`FORMATS`) as bytes, block by block."""
    return _WRITERS[format](rows, fields=fields)
