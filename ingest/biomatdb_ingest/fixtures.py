"""Loading ``fixtures/``: every data file through the real pipeline, strictly, idempotently.

A data file is a CSV, TSV, XLSX or JSON file; its dataset name, license and source come
from the manifest beside it (``FILE.manifest.toml``), the same mechanism curators use. Material
files and evidence files (``fixtures/evidence``, docs/evidence.md) load alike; files load in path
order, so ``curated/`` creates the materials before ``evidence/`` cites them.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from sqlalchemy import Engine

from biomatdb.shipped import fixtures_dir
from biomatdb_ingest.manifest import manifest_path_for, read_manifest
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from biomatdb_ingest.readers import folder_suffixes
from biomatdb_ingest.report import Report


def default_fixtures_dir() -> Path:
    """The shipped fixtures: the source tree's ``fixtures/``, or the copy a wheel installs."""
    return fixtures_dir()


def fixture_files(root: Path) -> list[Path]:
    """The data files under ``root``, in a stable order (by path; manifests and notes are not data)."""
    return sorted(
        p
        for p in root.rglob("*")
        if p.is_file() and p.suffix.lower() in folder_suffixes() and not p.name.startswith(".")
    )


#: The notes on a fixture folder's data: where it comes from, its license, how it was compiled.
NOTES_NAME = "SOURCE.txt"


def fixture_notes(root: Path) -> dict[str, Path]:
    """Each fixture dataset's name (its manifest's ``[dataset] name``) to the notes of the folder
    it is in (``SOURCE.txt``); a dataset whose folder has no notes is left out."""
    notes = {}
    for path in fixture_files(root):
        manifest = manifest_path_for(path)
        name = read_manifest(manifest).dataset.get("name") if manifest.is_file() else None
        if name and (path.parent / NOTES_NAME).is_file():
            notes[name] = path.parent / NOTES_NAME
    return notes


def load_fixtures(
    engine: Engine,
    root: Path,
    *,
    chunk_rows: int = 50_000,
    progress: Callable[[int], None] | None = None,
    on_start: Callable[[Path, int, int], None] | None = None,
    on_done: Callable[[Path, Report], None] | None = None,
) -> list[tuple[Path, Report]]:
    """Ingest every fixture file strictly; an unchanged file is a no-op. Stops at the first
    file that does not load (that file changes nothing) and returns the reports so far.
    ``on_start(path, n, total)`` is told of each file (the n-th of total) before it loads,
    ``progress(rows)`` the rows read as it loads, ``on_done(path, report)`` when it is done."""
    reports = []
    paths = fixture_files(root)
    for number, path in enumerate(paths, start=1):
        if on_start is not None:
            on_start(path, number, len(paths))
        report = ingest_file(engine, path, IngestOptions(chunk_rows=chunk_rows), progress=progress)
        reports.append((path, report))
        if on_done is not None:
            on_done(path, report)
        if not report.ok:
            break
    return reports
