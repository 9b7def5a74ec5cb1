"""read → map → parse → normalise → validate → load, for one file, all or nothing."""

from __future__ import annotations

import hashlib
import pickle
import shutil
import socket
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path

import pandas as pd
import psutil
from sqlalchemy import Engine, false, func, select, text as sql_text, update

from biomatdb import PIPELINE_VERSION
from biomatdb.chemistry import StructureLimits
from biomatdb.db import bulk_write
from biomatdb.errors import UnitError
from biomatdb.evaluations import derive_from_measurements, remove_dataset_records
from biomatdb.models import Dataset, DatasetUpload, Measurement
from biomatdb.ownership import Actor, may_change, refusal
from biomatdb.text import DATASET_NAME_MAX, HOSTILE, dataset_name_problem, printable, strip_hostile
from biomatdb.vocabulary import get_vocabulary
from biomatdb_ingest import evidence as evidence_files
from biomatdb_ingest.accounting import account_rows
from biomatdb_ingest.limits import ReadLimits
from biomatdb_ingest.load import Loader
from biomatdb_ingest.manifest import Manifest, ManifestError, manifest_path_for, read_manifest
from biomatdb_ingest.mapping import ColumnMap, map_columns, parse_mappings, with_mappings
from biomatdb_ingest.nested import oversized_materials
from biomatdb_ingest.normalise import Context, condition_temperature_K, normalise_chunk, source_record
from biomatdb_ingest.readers import ReadError, header_issues, open_table
from biomatdb_ingest.report import Issue, Report


@dataclass(frozen=True, slots=True)
class IngestOptions:
    dataset: str | None = None
    license: str | None = None
    origin: str | None = None
    uploader: str | None = None
    job: str | None = None  # the upload job's public id, recorded with the load (biomatdb_api.jobs)
    source: str | None = None  # a DOI or citation for every value that has none of its own
    manifest: Path | None = None
    # "Header=target" entries (--map), over the manifest's column specs: see biomatdb_ingest.mapping.parse_mappings
    column_mappings: tuple[str, ...] = ()
    dry_run: bool = False
    skip_invalid: bool = False
    strict: bool = False  # every warning is an error, those found while writing too: the load is refused
    chunk_rows: int = 50_000
    # who asks, through the API (None: a local load, unrestricted); see biomatdb.ownership
    actor: Actor | None = None
    # a replace that removes more than this share of the dataset's measurements needs replace=True
    replace_max_share: float | None = None
    replace: bool = False
    read_limits: ReadLimits = ReadLimits()
    staging_dir: Path | None = None  # where phase 1 spills normalised chunks (None: the system's temp folder)
    structure_limits: StructureLimits = StructureLimits()
    # measurements, evaluations and element contents one material may hold (biomatdb_ingest.nested)
    material_max_nested_records: int = 10_000


def file_checksum(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def upload_checksum(path: Path, manifest: Manifest | None, options: IngestOptions) -> str:
    """The file's SHA-256, folded with whatever else decides what a load holds (manifest, dataset source,
    --skip-invalid, --map), so that "same checksum" means "same result"."""
    checksum = file_checksum(path)
    extras = [
        file_checksum(manifest.path) if manifest is not None and manifest.path is not None else "",
        options.source or "",
        "skip-invalid" if options.skip_invalid else "",
    ]
    if options.column_mappings:  # only then: the checksums of earlier uploads stay what they were
        extras.append("map:" + "\x1f".join(options.column_mappings))
    if not any(extras):
        return checksum
    return hashlib.sha256("\n".join([checksum, *extras]).encode("utf-8")).hexdigest()


def _manifest(path: Path, options: IngestOptions) -> Manifest | None:
    """The manifest named or beside the file, with the --map entries over it."""
    manifest: Manifest | None
    if options.manifest is not None:
        manifest = read_manifest(options.manifest)
    else:
        beside = manifest_path_for(path)
        manifest = read_manifest(beside) if beside.exists() else None
    return with_mappings(manifest, parse_mappings(options.column_mappings, get_vocabulary()))


def ingest_file(
    engine: Engine,
    path: Path | str,
    options: IngestOptions = IngestOptions(),
    progress: Callable[[int], None] | None = None,
) -> Report:
    """Ingest one file into one dataset. The report says what was (or would be) done and what is wrong.

    Without ``skip_invalid`` a single error leaves the database exactly as it was; with it,
    rows that have errors are left out and reported. With ``strict`` every warning is an error
    and ``skip_invalid`` skips nothing: a file that draws any issue changes nothing. A file
    identical to the dataset's last accepted upload changes nothing.
    """
    path = Path(path)
    report = Report(dry_run=options.dry_run, strict=options.strict)
    try:
        manifest = _manifest(path, options)
    except ManifestError as exc:
        report.record(Issue(type=exc.type, message=exc.message, suggestions=exc.suggestions))
        return report
    meta = manifest.dataset if manifest else {}
    report.dataset = options.dataset or meta.get("name") or path.stem
    if (problem := dataset_name_problem(report.dataset)) is not None:
        report.dataset = printable(report.dataset[:DATASET_NAME_MAX])
        report.record(Issue(type="constraint-error", message=problem, column="dataset name", value=report.dataset))
        return report
    try:
        table = open_table(path, limits=options.read_limits)
    except ReadError as exc:
        for issue in exc.issues:
            report.record(issue)
        return report
    report.locate = table.locate
    for issue in header_issues(table.header):
        report.record(issue)
    vocabulary = get_vocabulary()
    evidence_map, evidence_issues = evidence_files.evidence_map(table.header)
    wide_evidence: list[evidence_files.EvidenceColumn] = []
    if evidence_map is not None:  # an evidence file: its values are read as measurements of the endpoints
        column_map = evidence_map.measurement_map()
        for issue in evidence_issues:
            report.record(issue)
    else:
        column_map = map_columns(table.header, vocabulary, manifest)
        wide_evidence = evidence_files.evidence_columns(table.header, vocabulary)
        if wide_evidence:  # outcome columns of a material file: read as evidence, not as properties
            column_map = _without(column_map, {column.position for column in wide_evidence})
    for issue in column_map.issues:
        report.record(issue)
    dataset_source = source_record(
        options.source or meta.get("citation"), meta.get("doi") if not options.source else None
    )
    if isinstance(dataset_source, str):
        report.record(Issue(type="doi-error", message=f"dataset source: {dataset_source}"))
    context = Context(
        vocabulary=vocabulary,
        column_map=column_map,
        decimal=table.decimal,
        placeholders=manifest.placeholders if manifest else (),
        default_class=meta.get("default_class"),
        constant_conditions=dict(manifest.conditions) if manifest else {},
        dataset_source=dataset_source if not isinstance(dataset_source, str) else None,
        structure_limits=options.structure_limits,
    )
    _constant_temperature(context, report)
    _strict(report, options)
    if not report.ok:
        return report
    checksum = upload_checksum(path, manifest, options)
    # A first look, read-only: a refused or unchanged upload costs no parsing and takes no lock.
    with engine.connect() as connection:
        if _refused_or_unchanged(connection, report, checksum, options) is None:
            return report
    # Phase 1, with no write lock held: read, parse and normalise every chunk, spilled to a
    # staging folder, so that searches and other writers carry on while the CPU-heavy work runs.
    # Phase 2: one short write transaction applies the staged chunks; all or nothing.
    if options.staging_dir is not None:
        options.staging_dir.mkdir(parents=True, exist_ok=True)
        remove_stale_staging(options.staging_dir)
    with tempfile.TemporaryDirectory(
        prefix=f"{_STAGING_PREFIX}{_staging_owner()}-", dir=options.staging_dir
    ) as staging:
        staged = _stage(
            table,
            context,
            report,
            options,
            Path(staging),
            progress,
            evidence_map,
            wide_evidence if evidence_map is None else [],
        )
        if staged is None:
            return report
        return _apply(engine, report, staged, path=path, checksum=checksum, meta=meta, options=options, context=context)


_STAGING_PREFIX = "biomatdb-staging-"


def _staging_owner() -> str:
    """``pid.start-time.host`` of this process: a pid alone could be another process's after a
    reuse, or the same number in another container sharing the data folder."""
    process = psutil.Process()
    return f"{process.pid}.{int(process.create_time() * 100)}.{socket.gethostname()}"


def remove_stale_staging(root: Path, *, foreign_after_s: float = 86_400.0) -> int:
    """Remove staging folders left by ingests whose process is gone (a SIGKILL skips the clean-up);
    how many. A folder of another host (or one not named as this module names them) is removed
    only once untouched for ``foreign_after_s``."""
    removed = 0
    host = socket.gethostname()
    for folder in root.glob(f"{_STAGING_PREFIX}*"):
        owner = folder.name[len(_STAGING_PREFIX) :].rpartition("-")[0]
        pid_text, _, rest = owner.partition(".")
        started, _, owner_host = rest.partition(".")
        if owner_host == host and pid_text.isdigit() and started.isdigit():
            try:
                alive = int(psutil.Process(int(pid_text)).create_time() * 100) == int(started)
            except (psutil.NoSuchProcess, psutil.AccessDenied):
                alive = False
            stale = not alive
        else:
            try:
                stale = time.time() - folder.stat().st_mtime > foreign_after_s
            except OSError:
                stale = False
        if stale:
            shutil.rmtree(folder, ignore_errors=True)
            removed += 1
    return removed


@dataclass
class _Staged:
    """What phase 1 left for phase 2: the spilled chunks."""

    chunks: list[Path]
    evidence: bool = False  # an evidence file: each chunk carries its biological-evaluation records
    # the chunks' biological-evaluation records, spilled apart: phase 2 needs them before and after
    # the measurements, and reads the measurements once
    records: list[Path] = field(default_factory=list)

    def read(self):
        """Each chunk's (normalised chunk, rows to skip), in file order."""
        yield from self._load(self.chunks)

    def evidence_records(self) -> list:
        return [record for records in self._load(self.records) for record in records]

    @staticmethod
    def _load(paths: list[Path]):
        for spilled in paths:
            with spilled.open("rb") as handle:
                yield pickle.load(handle)  # our own file, written a moment ago by this process


def _refused_or_unchanged(connection, report: Report, checksum: str, options: IngestOptions) -> int | None:
    """None when the upload ends here: refused (not the dataset's owner) or the same as the last
    one; otherwise how many measurements the dataset holds now. Run once before phase 1 and again
    inside the write transaction, where it decides."""
    assert report.dataset is not None, "the dataset is named before phase 1"
    previous = connection.execute(
        select(Dataset.id, Dataset.checksum, Dataset.owner_key_id).where(Dataset.name == report.dataset)
    ).first()
    if previous is None:
        return 0
    if not may_change(previous.owner_key_id, options.actor):
        report.record(
            Issue(type="forbidden", message=refusal(report.dataset, previous.owner_key_id), value=report.dataset)
        )
        return None
    measurements_before = connection.execute(
        select(func.count()).select_from(Measurement).where(Measurement.dataset_id == previous.id)
    ).scalar_one()
    if previous.checksum == checksum and _last_pipeline(connection, previous.id) == PIPELINE_VERSION:
        report.unchanged = True
        report.loaded = not options.dry_run
        report.measurements_unchanged = measurements_before
        return None
    return measurements_before


def _stage(
    table,
    context: Context,
    report: Report,
    options: IngestOptions,
    staging: Path,
    progress: Callable[[int], None] | None,
    evidence_map: evidence_files.EvidenceMap | None = None,
    wide_evidence: list[evidence_files.EvidenceColumn] | None = None,
) -> _Staged | None:
    """Phase 1: normalise every chunk into ``staging``; None when the file cannot be loaded (the
    report says why)."""
    column_map = context.column_map
    staged = _Staged(chunks=[], evidence=evidence_map is not None)
    unreadable = False
    try:
        for raw in table.chunks(_rows_per_chunk(options.chunk_rows, column_map)):
            chunk = _clean_text(raw, table.header, report)
            evidence = None
            if evidence_map is not None:
                evidence = evidence_files.normalise_evidence(chunk, evidence_map, context.vocabulary)
                context.sources.update(evidence.sources)
                for issue in (*evidence.errors, *evidence.warnings):
                    report.record(issue)
                normalised = normalise_chunk(evidence.measurements, context)
            else:
                normalised = normalise_chunk(chunk, context)
                if wide_evidence:
                    name = column_map.role("name")
                    measured = normalised.measurements
                    sources = (
                        measured.groupby("row")["source_key"].first() if len(measured) else pd.Series(dtype=object)
                    )
                    if context.dataset_source is not None:
                        sources = sources.reindex(chunk.index).fillna(context.dataset_source.key)
                    evidence = evidence_files.wide_evidence(
                        chunk,
                        wide_evidence,
                        name_position=name.position if name is not None else None,
                        source_keys=sources,
                    )
                    for issue in (*evidence.errors, *evidence.warnings):
                        report.record(issue)
            report.rows_read += len(chunk)
            _account(chunk, context.column_map, normalised, evidence, report)
            for issue in normalised.errors:
                report.record(issue)
            for issue in normalised.warnings:
                report.record(issue)
            _strict(report, options)
            skip = normalised.error_rows if _skips_invalid(options) else set()
            if evidence is not None and _skips_invalid(options):
                skip |= {issue.row for issue in evidence.errors if issue.row is not None}
                evidence.records = [record for record in evidence.records if record.row not in skip]
            report.rows_skipped += len(skip)
            if report.ok or _skips_invalid(options):
                spilled = staging / f"chunk-{len(staged.chunks):06d}.pickle"
                with spilled.open("wb") as handle:
                    pickle.dump((normalised, skip), handle, protocol=pickle.HIGHEST_PROTOCOL)
                staged.chunks.append(spilled)
                if evidence is not None and evidence.records:
                    records = staging / f"records-{len(staged.records):06d}.pickle"
                    with records.open("wb") as handle:
                        pickle.dump(evidence.records, handle, protocol=pickle.HIGHEST_PROTOCOL)
                    staged.records.append(records)
            if progress is not None:
                progress(report.rows_read)
    except ReadError as exc:
        unreadable = True
        for issue in exc.issues:
            report.record(issue)
    if report.rows_accounted != report.rows_read and not unreadable:
        report.record(
            Issue(
                type="unaccounted-rows",
                value=str(report.rows_read - report.rows_accounted),
                message=f"of {report.rows_read:,} rows read, {report.rows_accounted:,} were loaded, refused, "
                "skipped with a warning or empty; the ingest refuses the file rather than drop the others "
                "(please report it as a bug of BiomatDB)",
            )
        )
    if report.rows_read == 0 and not unreadable:  # a row that cannot be read is not an empty table
        report.record(Issue(type="empty-table", message="the file has a header but no data rows"))
    # --skip-invalid skips rows with bad cells; a file that cannot be read to its end loads nothing,
    # or the rows after the unreadable one would be dropped without a word
    if not report.ok and not (_skips_invalid(options) and report.rows_read and not unreadable):
        return None
    return staged


def _account(chunk, column_map: ColumnMap, normalised, evidence, report: Report) -> None:
    """Count how the chunk's rows end (``biomatdb_ingest.accounting``), its unaccounted values and ignored
    rows added to the chunk's errors and warnings."""
    evidence_errors = {issue.row for issue in evidence.errors if issue.row is not None} if evidence else set()
    tally, issues = account_rows(
        chunk,
        column_map,
        measured=normalised.measurements,
        named_rows=normalised.named_rows,
        error_rows=normalised.error_rows | evidence_errors,
        warning_rows={issue.row for issue in normalised.warnings if issue.row is not None},
        recorded_rows={record.row for record in evidence.records} if evidence else (),
    )
    for issue in issues:
        normalised.add(issue)
    report.count_rows(tally)


def _skips_invalid(options: IngestOptions) -> bool:
    """Whether rows with errors are left out rather than refusing the file (never in strict mode)."""
    return options.skip_invalid and not options.strict


def _strict(report: Report, options: IngestOptions) -> bool:
    """In strict mode, the report's warnings so far become errors, refusing the load; whether any did."""
    if not (options.strict and report.warning_count):
        return False
    report.refuse_warnings()
    return True


def _apply(
    engine: Engine,
    report: Report,
    staged: _Staged,
    *,
    path: Path,
    checksum: str,
    meta: dict,
    options: IngestOptions,
    context: Context,
) -> Report:
    """Phase 2: the staged chunks into the core, in one write transaction."""
    assert report.dataset is not None, "the dataset is named before phase 1"
    with engine.connect() as connection, bulk_write(connection):
        transaction = connection.begin()
        try:
            _take_write_lock(connection)
            measurements_before = _refused_or_unchanged(connection, report, checksum, options)
            if measurements_before is None:
                transaction.rollback()
                return report
            loader = Loader.start(
                connection,
                dataset=report.dataset,
                checksum=checksum,
                filename=path.name,
                license=options.license or meta.get("license"),
                origin=options.origin or meta.get("origin"),
                uploader=options.uploader,
                job=options.job,
                source=context.dataset_source,
                owner_key_id=options.actor.key_id if options.actor is not None else None,
                measurements_before=measurements_before,
                kind=meta.get("kind"),
            )
            records = staged.evidence_records()
            if staged.evidence:
                unknown = evidence_files.unknown_materials(connection, loader, records)
                for issue in unknown:
                    report.record(issue)
                if unknown:
                    transaction.rollback()
                    return report
            for normalised, skip in staged.read():
                loader.load_chunk(normalised, context.sources, skip)
            counts = loader.finish(rows_read=report.rows_read)
            # the dataset's biological-evaluation records are written again: its file's, then those
            # its measurements of an endpoint's property imply
            remove_dataset_records(connection, loader.dataset_id)
            report.evaluations = evidence_files.load_records(connection, loader, records, context.sources)
            report.evaluations += derive_from_measurements(connection, loader.dataset_id)
            report.materials = loader.materials
            report.materials_named = loader.materials_named
            for issue in loader.issues:
                report.record(issue)
            for name in (
                "materials_created",
                "materials_updated",
                "measurements_added",
                "measurements_updated",
                "measurements_removed",
                "measurements_unchanged",
            ):
                setattr(report, name, getattr(counts, name))
            oversized = oversized_materials(connection, loader.dataset_id, options.material_max_nested_records)
            if oversized:
                for issue in oversized:
                    report.record(issue)
                transaction.rollback()
                return report
            if _replace_needs_confirmation(counts.measurements_removed, measurements_before, options):
                report.record(
                    Issue(
                        type="replace-unconfirmed",
                        value=str(counts.measurements_removed),
                        message=f"this upload would remove {counts.measurements_removed:,} of the "
                        f"{measurements_before:,} measurements of dataset {report.dataset!r}, more than "
                        f"{options.replace_max_share:.0%}; nothing was changed; upload again with "
                        f"replace=true to replace the dataset",
                    )
                )
                transaction.rollback()
                return report
            # the last check before the commit, so that strict mode refuses a warning the load
            # itself raised as surely as one found while reading
            if _strict(report, options):
                transaction.rollback()
                return report
            loader.close()
            if options.dry_run:
                transaction.rollback()
            else:
                transaction.commit()
                report.loaded = True
        except BaseException:
            if transaction.is_active:
                transaction.rollback()
            raise
    return report


# any constant would do: it names "an ingest writing" among PostgreSQL's advisory locks
_INGEST_LOCK = 0x62696F6D  # "biom"


def _take_write_lock(connection) -> None:
    """Make the write transaction the only one from its first statement, so that what it checks
    stays true until it commits. SQLite: a write (matching no row) takes the database's one write
    lock, waiting up to the busy timeout; reads outside go on (WAL). PostgreSQL: a transaction-
    scoped advisory lock, so that ingests apply one at a time (their phase 1 runs in parallel) and
    never race to create the same material."""
    if connection.dialect.name == "postgresql":
        connection.execute(sql_text("SELECT pg_advisory_xact_lock(:key)"), {"key": _INGEST_LOCK})
    else:
        connection.execute(update(Dataset).where(false()).values(name=Dataset.name))


def _without(column_map: ColumnMap, positions: set[int]) -> ColumnMap:
    """The column map with the columns at ``positions`` ignored, and no issue about them."""
    labels = {column.label for column in column_map.columns if column.position in positions}
    return ColumnMap(
        columns=[
            replace(column, role="ignore", property=None, unit=None) if column.position in positions else column
            for column in column_map.columns
        ],
        layout=column_map.layout,
        issues=[issue for issue in column_map.issues if issue.column not in labels],
    )


def _clean_text(chunk, header: list[str], report: Report):
    """The chunk without control or bidirectional-override characters, each cleaned cell warned."""
    for column in chunk.columns:
        texts = chunk[column]
        hostile = texts.str.contains(HOSTILE.pattern, regex=True, na=False)
        if not hostile.any():
            continue
        for row, text in texts[hostile].items():
            report.record(
                Issue(
                    type="control-character",
                    row=int(row),
                    column=header[column],
                    value=printable(text)[:200],
                    message="control or bidirectional-override characters were removed from this cell",
                )
            )
        chunk.loc[hostile, column] = texts[hostile].map(strip_hostile)
    return chunk


def _replace_needs_confirmation(removed: int, before: int, options: IngestOptions) -> bool:
    if options.replace or options.replace_max_share is None or before == 0:
        return False
    return removed > options.replace_max_share * before


def _last_pipeline(connection, dataset_id: int) -> str | None:
    """The pipeline version of the dataset's last upload: a newer pipeline may read the same file differently."""
    return connection.execute(
        select(DatasetUpload.pipeline_version)
        .where(DatasetUpload.dataset_id == dataset_id)
        .order_by(DatasetUpload.id.desc())
        .limit(1)
    ).scalar()


def _rows_per_chunk(chunk_rows: int, column_map) -> int:
    """A wide row holds one value per property column: its chunks have fewer rows, so that a chunk
    of any layout holds about ``chunk_rows`` values and memory stays bounded by that."""
    if column_map.layout != "wide":
        return chunk_rows
    return max(1, chunk_rows // max(1, len(column_map.measurement_columns)))


def _constant_temperature(context: Context, report: Report) -> None:
    text = context.constant_conditions.pop("temperature", None)
    if text is None:
        return
    try:
        context.constant_temperature_K = condition_temperature_K(text)
    except UnitError as exc:
        report.record(Issue(type="manifest-error", message=f"conditions.temperature: {exc.message}", value=text))
