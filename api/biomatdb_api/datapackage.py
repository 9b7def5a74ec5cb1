"""A dataset as a Frictionless Data Package: ``datapackage.json`` (a Table Schema for the
long-layout CSV, the license, the sources) beside ``data.csv``, checked by the
``frictionless`` package before it leaves the service."""

from __future__ import annotations

import os
import re
import shutil
import tempfile
import zipfile
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, func, select
from sqlalchemy.orm import Session

from biomatdb.catalog import csv_blocks, export_rows, in_export_of
from biomatdb.errors import BiomatError
from biomatdb.exports import MEASUREMENT_FIELDS
from biomatdb.models import Dataset, Material, Measurement, Source


def table_schema() -> dict[str, Any]:
    """The Table Schema of the export's columns (``biomatdb.exports``: one list of names, types and descriptions)."""
    fields = []
    for column in MEASUREMENT_FIELDS:
        field: dict[str, Any] = {"name": column.name, "type": column.type}
        if column.type == "boolean":
            field["trueValues"], field["falseValues"] = ["yes"], ["no"]
        if column.description:
            field["description"] = column.description
        if column.required:
            field["constraints"] = {"required": True}
        fields.append(field)
    return {"fields": fields, "missingValues": [""]}


def _slug(text: str) -> str:
    return re.sub(r"[^a-z0-9._-]+", "-", text.lower()).strip("-") or "dataset"


def _source(doi: str | None, citation: str | None, url: str | None) -> dict[str, str]:
    entry = {"title": citation or (f"doi:{doi}" if doi else url or "source")}
    if doi:
        entry["path"] = f"https://doi.org/{doi}"
    elif url:
        entry["path"] = url
    return entry


def descriptor(connection: Connection, dataset: Dataset, *, data_path: str) -> dict[str, Any]:
    """The ``datapackage.json`` of one dataset, its CSV at ``data_path`` (a file name or a URL)."""
    sources = []
    if dataset.source is not None:
        sources.append(_source(dataset.source.doi, dataset.source.citation, dataset.source.url))
    used = select(Measurement.source_id).where(Measurement.dataset_id == dataset.id).distinct()
    for doi, citation, url in connection.execute(
        select(Source.doi, Source.citation, Source.url).where(Source.id.in_(used)).order_by(Source.key)
    ):
        entry = _source(doi, citation, url)
        if entry not in sources:
            sources.append(entry)
    package: dict[str, Any] = {
        "name": _slug(dataset.name),
        "title": dataset.name,
        "profile": "tabular-data-package",
        "description": f"Dataset {dataset.name!r} of BiomatDB, one row per measurement in display units.",
        "created": dataset.updated_at.isoformat(),
        "resources": [
            {
                "name": "measurements",
                "path": data_path,
                "format": "csv",
                "mediatype": "text/csv",
                "encoding": "utf-8",
                "profile": "tabular-data-resource",
                "schema": table_schema(),
            }
        ],
    }
    if dataset.license:
        package["licenses"] = [{"name": _slug(dataset.license), "title": dataset.license}]
    if sources:
        package["sources"] = sources
    return package


def check_descriptor(package: dict[str, Any]) -> None:
    from frictionless import Package

    report = Package.validate_descriptor(package)
    if not report.valid:
        raise BiomatError("; ".join(message for (message,) in report.flatten(["message"])), type="datapackage-error")


def _changed_at(session: Session, dataset: Dataset) -> datetime:
    """When what the dataset's export holds last changed (UTC): its own last upload, or a later
    change to one of its materials (another upload's merge or update of a shared material); no
    earlier than a zip archive can date a member."""
    materials = session.scalar(select(func.max(Material.updated_at)).where(in_export_of(dataset.id)))
    times = [t.replace(tzinfo=UTC) if t.tzinfo is None else t for t in (dataset.updated_at, materials) if t]
    return max([*times, datetime(1980, 1, 1, tzinfo=UTC)])


def write_zip(session: Session, dataset: Dataset) -> Path:
    """``datapackage.json`` and ``data.csv`` zipped in a temporary directory, data validated
    against the schema; the caller removes ``path.parent``."""
    from frictionless import Package

    directory = Path(tempfile.mkdtemp(prefix="biomatdb-datapackage-"))
    try:
        package = descriptor(session.connection(), dataset, data_path="data.csv")
        with (directory / "data.csv").open("w", encoding="utf-8", newline="") as handle:
            handle.writelines(csv_blocks(export_rows(session, dataset=dataset.name)))
        report = Package(package, basepath=str(directory)).validate()
        if not report.valid:
            messages = [message for (message,) in report.flatten(["message"])][:5]
            raise BiomatError("the data package does not validate: " + "; ".join(messages), type="datapackage-error")
        import orjson

        (directory / "datapackage.json").write_bytes(orjson.dumps(package, option=orjson.OPT_INDENT_2))
        archive = directory / f"{package['name']}.zip"
        # dated by the dataset's last change, inside and on disk: the answer's Last-Modified and
        # ETag (Starlette's, of the file's mtime and size) then stay the same until the data changes
        changed = _changed_at(session, dataset)
        with zipfile.ZipFile(archive, "w", compression=zipfile.ZIP_DEFLATED) as bundle:
            for name in ("datapackage.json", "data.csv"):
                member = zipfile.ZipInfo(name, date_time=changed.timetuple()[:6])
                member.compress_type = zipfile.ZIP_DEFLATED
                bundle.writestr(member, (directory / name).read_bytes())
        os.utime(archive, (changed.timestamp(), changed.timestamp()))
        return archive
    except BaseException:
        shutil.rmtree(directory, ignore_errors=True)
        raise
