"""JSON documents: an array of records (or one under a usual key), nested measurements
flattened to rows, each row and column remembering its JSON path."""

from __future__ import annotations

import re
from array import array
from dataclasses import dataclass, field
from itertools import pairwise
from pathlib import Path
from typing import Any

import orjson

from biomatdb_ingest.limits import ReadLimits, check_columns
from biomatdb_ingest.readers.table import SAMPLE_BYTES, UTF8_BOM, ReadError, Table, format_error, label, refuse_binary
from biomatdb_ingest.report import Issue

#: Keys of a JSON object under which the array of records is looked for first.
_RECORD_KEYS = ("data", "records", "rows", "materials", "items", "results", "entries", "measurements")
_MEASUREMENTS = "measurements"


def open_json(path: Path, format: str, sheet: str | None, limits: ReadLimits) -> Table:
    """A JSON document's records as a table (``_open_json``)."""
    return _open_json(path, limits)


def _open_json(path: Path, limits: ReadLimits) -> Table:
    """JSON is UTF-8 (RFC 8259); a byte-order mark is dropped, anything else is refused."""
    content = path.read_bytes()
    if not content.strip():
        raise ReadError([Issue(type="empty-file", message=f"{path.name} is empty")])
    refuse_binary(path, content[:SAMPLE_BYTES])
    content = content.removeprefix(UTF8_BOM)
    try:
        document = orjson.loads(content)
    except orjson.JSONDecodeError as exc:
        try:
            content.decode("utf-8")
        except UnicodeDecodeError as not_utf8:
            line = content.count(b"\n", 0, not_utf8.start) + 1
            raise ReadError(
                [
                    Issue(
                        type="encoding-error",
                        message=f"{path.name} is not UTF-8, as JSON must be: byte "
                        f"0x{content[not_utf8.start]:02X} at line {line} (byte {not_utf8.start:,}); "
                        f"save it as UTF-8",
                    )
                ]
            ) from exc
        raise ReadError(
            [
                format_error(
                    f"{path.name} is not valid JSON: {exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno} (character {exc.pos:,})"
                )
            ]
        ) from exc
    _refuse_duplicate_keys(path, content)
    records, base = _json_records(path, document)
    header, rows, paths, issues = _json_rows(records, limits, base)
    if issues:
        raise ReadError(issues)
    return Table(
        path=path,
        format="json",
        encoding=None,
        delimiter=None,
        decimal=".",
        header=header,
        _records=lambda: enumerate(rows, start=1),
        _paths=paths,
    )


NEWLINE = b"\n"


class _DuplicateKey(Exception):
    def __init__(self, key: str) -> None:
        self.key = key


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key, value in pairs:
        if key in found:
            raise _DuplicateKey(key)
        found[key] = value
    return found


def _refuse_duplicate_keys(path: Path, content: bytes) -> None:
    """A key written twice in one object is refused, naming it and the line of its second
    occurrence: JSON parsers keep one of the two values, and the other would be lost unseen."""
    import json

    try:
        json.loads(content, object_pairs_hook=_no_duplicates)
    except _DuplicateKey as duplicate:
        where = ""
        written = re.compile(re.escape(json.dumps(duplicate.key, ensure_ascii=False).encode()) + rb"\s*:")
        starts = [m.start() for m in written.finditer(content)]
        for first, second in pairwise(starts):
            between = content[first:second]
            if b"{" not in between and b"}" not in between:  # the same flat object
                where = f" (line {content.count(NEWLINE, 0, second) + 1})"
                break
        raise ReadError(
            [
                Issue(
                    type="duplicate-label",
                    column=duplicate.key,
                    value=duplicate.key,
                    message=(
                        f"{path.name}: the key {duplicate.key!r} is written twice in one object{where}; "
                        f"only one of its values could be kept, so write each key once"
                    ),
                )
            ]
        ) from None


def _json_records(path: Path, document: Any) -> tuple[list[Any], str]:
    """The array of records and its JSON path: the document itself (``$``), or the one array an
    object holds (under one of ``_RECORD_KEYS`` when it holds several: ``$.materials``)."""
    if isinstance(document, list):
        return document, "$"
    if isinstance(document, dict):
        arrays = [key for key, value in document.items() if isinstance(value, list)]
        if len(arrays) == 1:
            return document[arrays[0]], json_path("$", arrays[0])
        for key in _RECORD_KEYS:
            if key in arrays:
                return document[key], json_path("$", key)
        found = f"arrays under {', '.join(map(repr, arrays))}, none named" if arrays else "no array; expected one under"
        raise ReadError(
            [format_error(f"{path.name} holds an object with {found} {', '.join(map(repr, _RECORD_KEYS))}")]
        )
    raise ReadError([format_error(f"{path.name} holds a single {_json_kind(document)}, not an array of records")])


_MEMBER_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def json_path(parent: str, step: str | int) -> str:
    """``parent`` and one step down: ``[2]`` for an index, ``.value`` for a plain name, ``['Tg (°C)']``
    for any other (RFC 9535's bracket notation, with ``'`` and ``\\`` escaped)."""
    if isinstance(step, int):
        return f"{parent}[{step}]"
    if _MEMBER_NAME.fullmatch(step):
        return f"{parent}.{step}"
    escaped = step.replace("\\", "\\\\").replace("'", "\\'")
    return f"{parent}['{escaped}']"


@dataclass
class JsonPaths:
    """Where each flattened row and column came from, for :meth:`Table.locate`: per row the index
    of its record and of its measurement (-1: the record has none), and which columns the
    measurement gave (the others are the record's); interned, as most rows share one set."""

    base: str
    keys: list[str] = field(default_factory=list)  # by column position, as written in the file
    records: array = field(default_factory=lambda: array("q"))
    measurements: array = field(default_factory=lambda: array("q"))
    own: array = field(default_factory=lambda: array("q"))  # index into ``own_sets``
    own_sets: list[frozenset[int]] = field(default_factory=list)
    _interned: dict[frozenset[int], int] = field(default_factory=dict, repr=False)

    def add(self, record: int, measurement: int | None, own: frozenset[int]) -> None:
        self.records.append(record)
        self.measurements.append(-1 if measurement is None else measurement)
        index = self._interned.setdefault(own, len(self.own_sets))
        if index == len(self.own_sets):
            self.own_sets.append(own)
        self.own.append(index)

    def object_path(self, record: int, measurement: int | None = None) -> str:
        path = json_path(self.base, record)
        return path if measurement is None else json_path(json_path(path, _MEASUREMENTS), measurement)

    def path(self, row: int | None, position: int | None) -> str | None:
        """The path of data row ``row`` (1-based) at column ``position``; see :meth:`Table.locate`."""
        if row is None or not 1 <= row <= len(self.records):
            if position is None or position >= len(self.keys):
                return None
            in_measurements = any(position in own for own in self.own_sets)
            shape = f"{self.base}[*]" + (f".{_MEASUREMENTS}[*]" if in_measurements else "")
            return json_path(shape, self.keys[position])
        index = row - 1
        record, measurement = self.records[index], self.measurements[index]
        if measurement < 0:
            return (
                self.object_path(record)
                if position is None
                else json_path(self.object_path(record), self.keys[position])
            )
        if position is None:
            return self.object_path(record, measurement)
        if position in self.own_sets[self.own[index]]:
            return json_path(self.object_path(record, measurement), self.keys[position])
        return json_path(self.object_path(record), self.keys[position])


def _json_rows(
    records: list[Any], limits: ReadLimits, base: str = "$"
) -> tuple[list[str], list[list[str]], JsonPaths, list[Issue]]:
    """One row per record, or per measurement of a record with a ``measurements`` array (the
    record's other fields repeated; a measurement's field wins over the record's of the same name),
    with where each row and cell came from."""
    columns: dict[str, int] = {}
    flat_rows: list[dict[str, str]] = []
    paths = JsonPaths(base=base)
    issues: list[Issue] = []
    for number, record in enumerate(records, start=1):
        row = len(flat_rows) + 1
        record_path = paths.object_path(number - 1)
        if not isinstance(record, dict):
            issues.append(
                format_error(
                    f"record {number} is a {_json_kind(record)}, not an object of fields", row=row, path=record_path
                )
            )
            continue
        measurements = record.get(_MEASUREMENTS)
        if isinstance(measurements, dict) or (
            isinstance(measurements, list) and not all(isinstance(m, dict) for m in measurements)
        ):
            issues.append(
                format_error(
                    f"record {number}: {_MEASUREMENTS!r} must be an array of objects",
                    row=row,
                    column=_MEASUREMENTS,
                    path=json_path(record_path, _MEASUREMENTS),
                )
            )
            continue
        nested = isinstance(measurements, list)
        fields = _json_fields(record, number, row, issues, skip=_MEASUREMENTS if nested else None, path=record_path)
        for measurement_index, measurement in enumerate(measurements if nested and measurements else [{}]):
            where = f"record {number}, measurement {measurement_index + 1}"
            has_measurement = nested and bool(measurements)
            own = _json_fields(
                measurement,
                where,
                len(flat_rows) + 1,
                issues,
                skip=None,
                path=paths.object_path(number - 1, measurement_index) if has_measurement else record_path,
            )
            flat = {**fields, **own}
            for key in flat:
                columns.setdefault(key, len(columns))
            paths.add(
                number - 1, measurement_index if has_measurement else None, frozenset(columns[key] for key in own)
            )
            flat_rows.append(flat)
    check_columns(len(columns), limits)  # before the dense rows are built: sparse keys would fill them
    header = [label(key) for key in columns]
    paths.keys = list(columns)
    rows = [[flat.get(key, "") for key in columns] for flat in flat_rows]
    return header, rows, paths, issues


def _json_fields(
    record: dict[str, Any], where: int | str, row: int, issues: list[Issue], skip: str | None, path: str
) -> dict[str, str]:
    fields = {}
    for key, value in record.items():
        if key == skip:
            continue
        if isinstance(value, dict) or (
            isinstance(value, list) and any(isinstance(item, (dict, list)) for item in value)
        ):
            issues.append(
                format_error(
                    f"record {where}: field {key!r} holds a nested {_json_kind(value)}; "
                    f"only {_MEASUREMENTS!r} may hold objects, other fields must be flat",
                    row=row,
                    column=key,
                    path=json_path(path, key),
                )
            )
            continue
        fields[key] = "; ".join(map(_json_text, value)) if isinstance(value, list) else _json_text(value)
    return fields


def _json_text(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() and abs(value) < 1e16 else repr(value)
    return str(value)


def _json_kind(value: Any) -> str:
    return {dict: "object", list: "array", str: "string", bool: "boolean", type(None): "null"}.get(
        type(value), "number"
    )
