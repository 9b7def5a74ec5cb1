"""The one place the pipeline writes: a set-based load of normalised chunks into the core.

The caller owns the transaction (``Connection.begin()``): a load is all or nothing. Which stored
material a record is (by public id, then name or synonym, then canonical structure) is decided
by ``biomatdb_ingest.identity``; this module creates and completes materials and writes measurements, as
batches (``executemany`` on SQLite, ``COPY`` on PostgreSQL), never an ORM object per row. What an
upload changes beyond its rows when it ends (claims, the diff with the previous upload, orphans,
redirects, the search outbox) is ``biomatdb_ingest.upload_end``'s; ``Loader.finish`` runs it in order.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import numpy as np
import pandas as pd
from sqlalchemy import Connection, delete, func, insert, select, text, update

from biomatdb import PIPELINE_VERSION
from biomatdb.chemistry import polymer_family
from biomatdb.db import bump_generation, driver_connection
from biomatdb.elements import refresh_elements
from biomatdb.hashing import measurement_hashes
from biomatdb.identity import (
    derived_key,
    display_name_for_structure,
    is_derived_key,
    is_structure_string,
    material_key,
)
from biomatdb.merge import merge_duplicates, refresh_names, vocabulary_grade, vocabulary_name
from biomatdb.models import (
    ChemicalStructure,
    CompositionComponent,
    Dataset,
    DatasetUpload,
    Material,
    MaterialApplication,
    MaterialSynonym,
    Measurement,
    Source,
)
from biomatdb.searchtext import refresh_search_text, search_columns
from biomatdb.sqlin import batches, in_values
from biomatdb.vocabulary import normalise_label
from biomatdb_ingest import loadstate, upload_end
from biomatdb_ingest.duplicates import possible_duplicates
from biomatdb_ingest.identity import MaterialMatcher, public_id_of
from biomatdb_ingest.loadstate import LoadState, ids as load_ids, names as load_names
from biomatdb_ingest.normalise import MaterialRecord, NormalisedChunk, SourceRecord
from biomatdb_ingest.report import MAX_RECORDS, Issue

STORED_COLUMNS = [
    "material_id",
    "property_key",
    "dataset_id",
    "upload_id",
    "source_id",
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
    "medium",
    "method",
    "standard",
    "specimen_state",
    "notes",
    "source_row",
    "source_column",
    "pipeline_version",
    "content_hash",
    "identity_hash",
    "qualitative",
]


def _now() -> datetime:
    return datetime.now(UTC)


@dataclass
class LoadCounts:
    materials_created: int = 0
    materials_updated: int = 0
    measurements_added: int = 0
    measurements_updated: int = 0
    measurements_removed: int = 0
    measurements_unchanged: int = 0


@dataclass
class Loader:
    """Loads one upload of one dataset; create with ``Loader.start`` inside a transaction."""

    connection: Connection
    dataset_id: int
    upload_id: int
    previous_upload_exists: bool
    # what the load remembers of every material the file names (the material each name key
    # resolved to, where it was first seen, how it was matched, the name and public id the file
    # gives each material, what it created and updated, the claims it states): TEMP tables of the
    # load's connection, so that memory does not grow with the file (biomatdb_ingest.loadstate)
    state: LoadState
    counts: LoadCounts = field(default_factory=LoadCounts)
    _source_ids: dict[str, int] = field(default_factory=dict)
    _structure_ids: dict[str, int] = field(default_factory=dict)
    issues: list[Issue] = field(default_factory=list)  # the report records each at its catalogued severity
    materials: list[dict] = field(default_factory=list)  # the report's ``materials``, set by ``finish``
    materials_named: int = 0  # how many materials the file names: ``materials`` lists the first ones
    curated: bool = True  # a curated dataset's two names for one structure mean two materials
    _absorbed: dict[int, list[str]] = field(default_factory=dict)  # kept id -> stored public ids merged into it
    # which stored material a record is (biomatdb_ingest.identity); it reads the structures this loader stores
    matcher: MaterialMatcher = field(init=False)

    def __post_init__(self) -> None:
        self.matcher = MaterialMatcher(self.connection, self.state, self._structure_ids, curated=self.curated)

    @classmethod
    def start(
        cls,
        connection: Connection,
        *,
        dataset: str,
        checksum: str,
        filename: str | None,
        license: str | None,
        origin: str | None,
        uploader: str | None,
        source: SourceRecord | None,
        job: str | None = None,
        owner_key_id: int | None = None,
        measurements_before: int = 0,
        kind: str | None = None,
    ) -> Loader:
        """``measurements_before``: how many measurements the dataset holds now (the caller counted them);
        ``kind``: curated or compilation (None: as it was, curated for a new dataset)."""
        existing = connection.execute(select(Dataset.id).where(Dataset.name == dataset)).scalar()
        now = _now()
        values = {"checksum": checksum, "filename": filename, "updated_at": now, "retracted_at": None}
        for key, value in (("license", license), ("origin", origin), ("uploader", uploader), ("kind", kind)):
            if value is not None:
                values[key] = value
        if existing is None:
            existing = connection.execute(
                insert(Dataset)
                .values(name=dataset, created_at=now, rows_read=0, owner_key_id=owner_key_id, **values)
                .returning(Dataset.id)
            ).scalar_one()
            previous = False
        else:
            connection.execute(update(Dataset).where(Dataset.id == existing).values(**values))
            previous = measurements_before > 0
        upload = connection.execute(
            insert(DatasetUpload)
            .values(
                dataset_id=existing,
                uploaded_at=now,
                checksum=checksum,
                filename=filename,
                uploader=uploader,
                pipeline_version=PIPELINE_VERSION,
                job_id=job,
            )
            .returning(DatasetUpload.id)
        ).scalar_one()
        loader = cls(
            connection=connection,
            dataset_id=existing,
            upload_id=upload,
            previous_upload_exists=previous,
            state=LoadState(connection),
            curated=connection.execute(select(Dataset.kind).where(Dataset.id == existing)).scalar() != "compilation",
        )
        if source is not None:
            source_id = loader._resolve_sources({source.key: source})[source.key]
            connection.execute(update(Dataset).where(Dataset.id == existing).values(source_id=source_id))
        return loader

    # --- sources and structures -------------------------------------------------------

    def _resolve_sources(self, sources: dict[str, SourceRecord]) -> dict[str, int]:
        wanted = [key for key in sources if key not in self._source_ids]
        for batch in batches(wanted):
            for key, source_id in self.connection.execute(
                select(Source.key, Source.id).where(in_values(Source.key, batch))
            ):
                self._source_ids[key] = source_id
        new = [sources[key] for key in wanted if key not in self._source_ids]
        if new:
            rows = self.connection.execute(
                insert(Source).returning(Source.key, Source.id, sort_by_parameter_order=True),
                [
                    {
                        "key": s.key,
                        "doi": s.doi,
                        "citation": s.citation,
                        "url": f"https://doi.org/{s.doi}" if s.doi else None,
                    }
                    for s in new
                ],
            )
            self._source_ids.update(dict(rows.all()))
        return self._source_ids

    def _resolve_structures(self, records: list[MaterialRecord]) -> None:
        wanted = {
            r.structure.canonical_smiles: r.structure
            for r in records
            if r.structure is not None and r.structure.canonical_smiles not in self._structure_ids
        }
        keys = list(wanted)
        for batch in batches(keys):
            query = select(ChemicalStructure.canonical_smiles, ChemicalStructure.id).where(
                in_values(ChemicalStructure.canonical_smiles, batch)
            )
            self._structure_ids.update(dict(self.connection.execute(query).all()))
        new = [wanted[key] for key in keys if key not in self._structure_ids]
        if new:
            rows = self.connection.execute(
                insert(ChemicalStructure).returning(
                    ChemicalStructure.canonical_smiles, ChemicalStructure.id, sort_by_parameter_order=True
                ),
                [
                    {
                        "input": s.input,
                        "canonical_smiles": s.canonical_smiles,
                        "inchikey": s.inchikey,
                        "formula": s.formula,
                        "molecular_weight": s.molecular_weight,
                        "is_repeat_unit": s.is_repeat_unit,
                        "fingerprint": s.fingerprint,
                        "pattern_fingerprint": s.pattern_fingerprint,
                    }
                    for s in new
                ],
            )
            self._structure_ids.update(dict(rows.all()))

    # --- materials ---------------------------------------------------------------------

    def resolve_materials(self, records: list[MaterialRecord], names: Iterable[tuple[str, str]]) -> dict[str, int]:
        """Ids for every material the chunk names (``names``: each ``record_key`` with its name),
        creating or completing materials as needed."""
        names = list(names)
        by_key: dict[str, MaterialRecord] = {}
        for record in records:
            by_key.setdefault(record.name_key, record)
        known = self.state.material_ids(set(by_key) | {key for key, _ in names})  # resolved by an earlier chunk
        for key, name in names:
            if key not in by_key and key not in known:
                by_key[key] = MaterialRecord(row=0, name=name, name_key=key)
        self._resolve_structures(list(by_key.values()))
        fresh = [r for key, r in by_key.items() if key not in known]
        matches = self.matcher.match(fresh)
        existing, matched_by = dict(matches.material_ids), matches.matched_by
        found = set(existing.values())
        to_create = [r for r in fresh if r.name_key not in existing]
        created: list[int] = []
        if to_create:
            public_ids = self.matcher.new_public_ids(to_create, matches)
            created = self._insert_materials(
                [self._material_row(r) | {"public_id": public_ids[r.name_key]} for r in to_create]
            )
            for record, material_id in zip(to_create, created, strict=True):
                existing[record.name_key] = material_id
            self.counts.materials_created += len(to_create)
            self._add_details(to_create, existing, created=True)
        # the name and public id the chunk first gives each material (an earlier chunk's stay)
        firsts: dict[int, tuple[str, str | None]] = {}
        for key, material_id in existing.items():
            name, given = firsts.get(material_id, (by_key[key].name, None))
            firsts[material_id] = (name, given or by_key[key].public_id or None)
        self.state.add_materials(firsts, created)
        self.state.add_names(
            [(r.name_key, r.row, r.name, r.material_class) for r in fresh],
            existing,
            matched_by,
            {r.name_key for r in to_create},
        )
        created_before = self.state.created_among(found)  # found: created by an earlier chunk, or stored
        completing = [r for r in fresh if r.name_key in existing and existing[r.name_key] in found - created_before]
        self._complete(completing, existing)
        return known | existing

    def _insert_materials(self, rows: list[dict]) -> list[int]:
        """Insert materials; their ids, in the order of ``rows``. The ids are known before the
        insert, which then goes through the driver, without RETURNING and without SQLAlchemy
        processing every row's parameters (each column's own bind processor formats its values,
        as SQLAlchemy would)."""
        table = Material.__table__
        dialect = self.connection.dialect
        columns = list(rows[0])
        processors = [table.c[column].type.bind_processor(dialect) for column in columns]
        values = [
            [row[column] for row in rows] if process is None else [process(row[column]) for row in rows]
            for column, process in zip(columns, processors, strict=True)
        ]
        names = ", ".join(f'"{column}"' for column in ["id", *columns])
        driver = driver_connection(self.connection)
        if dialect.name == "postgresql":
            # ids from the table's own sequence, in ascending order as RETURNING gave them; COPY
            # then writes the rows (the text-search index is updated as by INSERT)
            ids = sorted(
                self.connection.execute(
                    text("SELECT nextval(pg_get_serial_sequence('materials', 'id')) FROM generate_series(1, :n)"),
                    {"n": len(rows)},
                ).scalars()
            )
            with driver.cursor() as cursor, cursor.copy(f"COPY materials ({names}) FROM STDIN") as copy:
                for record in zip(ids, *values, strict=True):
                    copy.write_row(record)
            return ids
        # SQLite gives a new row the largest id plus one, and the load holds the write lock. Many
        # rows go in one statement: FTS5 writes out its pending terms at the end of every
        # statement, so that the search-text trigger, row by row, cost three times the rest
        first = (self.connection.execute(select(func.max(table.c.id))).scalar() or 0) + 1
        ids = list(range(first, first + len(rows)))
        one_row = "(" + ", ".join("?" for _ in range(len(columns) + 1)) + ")"
        records = list(zip(ids, *values, strict=True))
        limit = max(1, driver.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER) // (len(columns) + 1))
        for start, size in _statement_sizes(len(records), limit):
            batch = records[start : start + size]
            self.connection.exec_driver_sql(
                f"INSERT INTO materials ({names}) VALUES {', '.join([one_row] * len(batch))}",
                tuple(value for record in batch for value in record),
            )
        return ids

    def _material_row(self, record: MaterialRecord) -> dict:
        now = _now()
        name, name_key = record.name, normalise_label(record.name)  # the order names sort in
        if is_structure_string(name):  # the structure is never the name (docs/identity.md)
            structure = record.structure
            name = display_name_for_structure(
                structure.formula if structure else None,
                record.material_class,
                repeat_unit=bool(structure and structure.is_repeat_unit),
                family=polymer_family(structure.canonical_smiles) if structure else None,
            )
            name_key = derived_key(name)
        return {
            "public_id": public_id_of(record),
            "name": name,
            "name_key": name_key,
            "class": record.material_class,
            "subclass": record.subclass,
            "description": record.description,
            "biodegradable": record.biodegradable,
            "origin": record.origin,
            "regulatory_notes": record.regulatory_notes,
            "structure_id": self._structure_ids[record.structure.canonical_smiles] if record.structure else None,
            "created_by_dataset_id": self.dataset_id,
            "created_at": now,
            "updated_at": now,
            # the same columns refresh_search_text would compute from the rows _add_details writes
            **search_columns(
                name=name,
                synonyms=_distinct_synonyms(record.synonyms),
                material_class=record.material_class,
                subclass=record.subclass,
                description=record.description,
                applications=sorted(set(record.applications)),
                canonical_smiles=record.structure.canonical_smiles if record.structure else None,
                derived_name=is_derived_key(name_key),
            ),
        }

    def _add_details(
        self,
        records: list[MaterialRecord],
        ids: dict[str, int],
        *,
        created: bool,
        known: dict[int, tuple[set[str], set[str], bool]] | None = None,
    ) -> set[int]:
        """Insert synonyms, applications and compositions not yet recorded; returns the materials changed."""
        synonyms: list[dict[str, object]] = []
        applications: list[dict[str, object]] = []
        components: list[dict[str, object]] = []
        changed: set[int] = set()
        stated: set[tuple[str, int, str]] = set()  # (kind, material id, key): the claims of this file
        for record in records:
            material_id = ids[record.name_key]
            have_synonyms, have_applications, have_components = (known or {}).get(material_id, (set(), set(), False))
            names = [record.name, *record.synonyms]  # a material's own name is one of its synonyms
            for position, synonym in enumerate(names):
                key = material_key(synonym)
                if not key or is_structure_string(synonym):
                    continue  # a structure string is found by structure search, never by name
                stated.add(("name" if position == 0 else "synonym", material_id, key))
                if key and key not in have_synonyms:
                    have_synonyms.add(key)
                    synonyms.append(
                        {"material_id": material_id, "synonym": synonym, "name_key": key, "dataset_id": self.dataset_id}
                    )
                    changed.add(material_id)
            for application in record.applications:
                stated.add(("application", material_id, application))
                if application not in have_applications:
                    have_applications.add(application)
                    applications.append(
                        {"material_id": material_id, "application": application, "dataset_id": self.dataset_id}
                    )
                    changed.add(material_id)
            if record.composition and not have_components:
                components.extend(
                    {
                        "material_id": material_id,
                        "position": position,
                        "component": c.component,
                        "fraction": c.fraction,
                        "fraction_max": c.fraction_max,
                        "basis": c.basis,
                        "is_balance": c.is_balance,
                        "qualifier": c.qualifier,
                    }
                    for position, c in enumerate(record.composition)
                )
                changed.add(material_id)
        for table, rows in (
            (MaterialSynonym, synonyms),
            (MaterialApplication, applications),
            (CompositionComponent, components),
        ):
            if rows:
                self.connection.execute(insert(table), rows)
        self.state.add_claims(stated)
        return changed

    def _complete(self, records: list[MaterialRecord], ids: dict[str, int]) -> None:
        """Fill what existing materials lack; a material this dataset created takes its new values."""
        if not records:
            return
        material_ids = list({ids[r.name_key] for r in records})
        current = {}
        for batch in batches(material_ids):
            columns = [
                getattr(Material, name).label(name)
                for name in (
                    "id",
                    "name",
                    "name_key",
                    "created_by_dataset_id",
                    "material_class",
                    "subclass",
                    "description",
                    "biodegradable",
                    "origin",
                    "regulatory_notes",
                    "structure_id",
                )
            ]
            for row in self.connection.execute(select(*columns).where(in_values(Material.id, batch))).mappings():
                current[row["id"]] = row
        known: dict[int, tuple[set[str], set[str], bool]] = {
            material_id: (set(), set(), False) for material_id in material_ids
        }
        for batch in batches(material_ids):
            for material_id, key in self.connection.execute(
                select(MaterialSynonym.material_id, MaterialSynonym.name_key).where(
                    in_values(MaterialSynonym.material_id, batch)
                )
            ):
                known[material_id][0].add(key)
            for material_id, application in self.connection.execute(
                select(MaterialApplication.material_id, MaterialApplication.application).where(
                    in_values(MaterialApplication.material_id, batch)
                )
            ):
                known[material_id][1].add(application)
            for material_id in self.connection.execute(
                select(CompositionComponent.material_id)
                .where(in_values(CompositionComponent.material_id, batch))
                .distinct()
            ).scalars():
                known[material_id] = (known[material_id][0], known[material_id][1], True)
        changed = self._add_details(records, ids, created=False, known=known)
        for record in records:
            material_id = ids[record.name_key]
            row = current[material_id]
            owned = row["created_by_dataset_id"] == self.dataset_id
            wanted = {
                "material_class": record.material_class,
                "subclass": record.subclass,
                "description": record.description,
                "biodegradable": record.biodegradable,
                "origin": record.origin,
                "regulatory_notes": record.regulatory_notes,
                "structure_id": self._structure_ids[record.structure.canonical_smiles] if record.structure else None,
            }
            values = {
                column: value
                for column, value in wanted.items()
                if value is not None and row[column] != value and (owned or row[column] is None)
            }
            if values:
                self.connection.execute(
                    update(Material)
                    .where(Material.id == material_id)
                    .values(
                        {getattr(Material, column): value for column, value in values.items()}
                        | {Material.updated_at: _now()}
                    )
                )
                changed.add(material_id)
        self.state.mark(changed, "updated", unless_created=True)  # none of these was created by the load

    # --- measurements ------------------------------------------------------------------

    def load_chunk(
        self, chunk: NormalisedChunk, sources: dict[str, SourceRecord], skip_rows: set[int] | None = None
    ) -> int:
        """Load one normalised chunk; rows in ``skip_rows`` are left out. Returns measurements written."""
        records = [r for r in chunk.materials if not skip_rows or r.row not in skip_rows]
        frame = chunk.measurements
        if skip_rows:
            frame = frame[~frame["row"].isin(list(skip_rows))]
        used = set(frame["source_key"].dropna()) if len(frame) else set()  # a skipped row's source stays out
        self._resolve_sources({key: sources[key] for key in used})
        named = frame.drop_duplicates("material_key") if len(frame) else frame
        ids = self.resolve_materials(records, zip(named["material_key"], named["material_name"], strict=True))
        if not len(frame):
            return 0
        return self._insert_measurements(frame, ids)

    def _insert_measurements(self, frame: pd.DataFrame, ids: dict[str, int]) -> int:
        frame = frame.copy()
        frame["material_id"] = frame["material_key"].map(ids).astype("int64")
        frame["source_id"] = frame["source_key"].map(self._source_ids).astype("Int64")
        frame["dataset_id"] = self.dataset_id
        frame["upload_id"] = self.upload_id
        frame["source_row"] = frame["row"].astype("int64")
        frame["pipeline_version"] = PIPELINE_VERSION
        frame["identity_hash"], frame["content_hash"] = measurement_hashes(frame)
        # a column no row of the chunk fills is left out of the statement (no column here has a
        # default: it is NULL all the same), which saves the driver binding it on every row
        present = [column for column in STORED_COLUMNS if frame[column].notna().any()]
        rows = list(zip(*(_python_values(frame[column]) for column in present), strict=True))
        columns = ", ".join(f'"{column}"' for column in present)
        if self.connection.dialect.name == "postgresql":
            cursor = driver_connection(self.connection).cursor()
            with cursor.copy(f"COPY measurements ({columns}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row(row)
        else:
            placeholders = ", ".join("?" for _ in present)
            self.connection.exec_driver_sql(f"INSERT INTO measurements ({columns}) VALUES ({placeholders})", rows)
        self.counts.measurements_added += len(rows)
        return len(rows)

    # --- the end of an upload ----------------------------------------------------------

    def finish(self, *, rows_read: int) -> LoadCounts:
        """Replace the dataset's previous measurements with this upload's, apply the identity
        rules to the materials it touched, and record what changed. Every step that reads the
        file's materials reads them from ``state`` a page at a time."""
        counts = self.counts
        state = self.state
        upload_end.record_claims(self.connection, self.dataset_id)  # the merge reads which names each dataset gives
        upload_end.drop_unclaimed_synonyms(self.connection, self.dataset_id, state)
        self._merge_duplicates()
        upload_end.record_outbox(self.connection, self.dataset_id, state)
        if self.previous_upload_exists:
            diff = upload_end.diff_with_previous(self.connection, self.dataset_id, self.upload_id)
            counts.measurements_unchanged, counts.measurements_updated = diff.unchanged, diff.updated
            counts.measurements_added, counts.measurements_removed = diff.added, diff.removed
            self.connection.execute(
                delete(Measurement).where(
                    Measurement.dataset_id == self.dataset_id,
                    (Measurement.upload_id != self.upload_id) | Measurement.upload_id.is_(None),
                )
            )
        upload_end.remove_orphans(self.connection, self.dataset_id, state)
        state.fill_touched()  # what the file names and what the load updated, before names change
        touched = select(loadstate.touched.c.material_id)
        for page in state.pages(touched):
            renamed = refresh_names(self.connection, page, vocabulary_name=vocabulary_name)
            state.mark(renamed, "renamed")
            state.mark(renamed, "updated", unless_created=True)
        # the others got their search text on insert
        for page in state.pages(state.flagged("updated", "renamed", "searchable")):
            refresh_search_text(self.connection, page)
        for page in state.pages(touched):
            refresh_elements(self.connection, page)  # compositions and structures may have changed
        counts.materials_updated = state.updated_not_created()
        self.connection.execute(update(Dataset).where(Dataset.id == self.dataset_id).values(rows_read=rows_read))
        self.connection.execute(
            update(DatasetUpload)
            .where(DatasetUpload.id == self.upload_id)
            .values(
                rows_read=rows_read,
                materials_created=counts.materials_created,
                materials_updated=counts.materials_updated,
                measurements_added=counts.measurements_added,
                measurements_updated=counts.measurements_updated,
                measurements_removed=counts.measurements_removed,
                measurements_unchanged=counts.measurements_unchanged,
            )
        )
        upload_end.redirect_matched_ids(self.connection)
        self._report_materials()
        self.issues.extend(
            possible_duplicates(
                self.connection,
                select(load_ids.c.material_id).where(load_ids.c.created == 1),
                lambda: upload_end.created_records(self.connection),
            )
        )
        bump_generation(self.connection)
        return counts

    def close(self) -> None:
        """Drop the load's TEMP tables (before its commit; a rollback removes them too)."""
        self.state.drop()

    def _merge_duplicates(self) -> None:
        """Materials this file touched that the rules say are one with another (a row named by its
        structure beside a named one, a material stored before) are merged, the one kept first."""
        structures = select(Material.structure_id).join(load_names, load_names.c.material_id == Material.id).distinct()
        merges = merge_duplicates(
            self.connection,
            structure_ids=sorted(
                structure_id
                for structure_id in self.connection.execute(structures).scalars()
                if structure_id is not None
            ),
            grade_of=vocabulary_grade,
        )
        into = {merged: merge.kept for merge in merges for merged in merge.merged}
        if not into:
            return
        created = self.state.created_among(into)
        for merge in merges:  # what it absorbed that this upload did not create: the report says so
            stored = [
                public_id
                for material_id, public_id in zip(merge.merged, merge.merged_public_ids, strict=True)
                if material_id not in created
            ]
            if stored:
                self._absorbed.setdefault(merge.kept, []).extend(stored)
        self.counts.materials_created -= len(created)
        self.state.merged(into)
        kept = {merge.kept for merge in merges}
        self.state.mark(kept, "updated", unless_created=True)
        self.state.mark(kept, "searchable")  # created ones too: they gained names
        # the claims were recorded before the merge, which moved them with the materials

    def _report_materials(self) -> None:
        """Each material the file names, in file order: created or matched, and by what; the
        first ``MAX_RECORDS`` are listed (a report stays small for a file of millions of
        materials, as its errors and warnings do), all are counted in ``materials_named``."""
        n = load_names
        named = select(n.c.row, n.c.name, Material.public_id, n.c.matched_by, n.c.material_id).join(
            Material, Material.id == n.c.material_id
        )
        self.materials_named = self.state.count(named)
        for row, name, public_id, matched_by, material_id in self.connection.execute(
            named.order_by(n.c.row, n.c.seen).limit(MAX_RECORDS)
        ):
            # only what was found, or merged into another, has a ``matched_by``
            entry = {
                "row": row,
                "name": name,
                "id": public_id,
                "action": "matched" if matched_by else "created",
                "matched_by": matched_by,
            }
            if material_id in self._absorbed:  # stored materials merged into it, whose ids now redirect here
                entry["merged"] = sorted(self._absorbed[material_id])
            self.materials.append(entry)


def _distinct_synonyms(synonyms) -> list[str]:
    seen, kept = set(), []
    for synonym in synonyms:
        key = material_key(synonym)
        if key and key not in seen and not is_structure_string(synonym):
            seen.add(key)
            kept.append(synonym)
    return kept


def _python_values(column: pd.Series) -> list:
    """A column as Python values for the driver, missing values as None."""
    kind = column.dtype.kind if isinstance(column.dtype, np.dtype) else None  # None: Int64, str and other NA types
    if kind == "f":
        values = column.to_numpy()
        objects = values.astype(object)
        objects[np.isnan(values)] = None
        return objects.tolist()
    if kind is not None and kind in "iub":
        return column.tolist()
    return column.astype(object).where(column.notna(), None).tolist()


#: Most rows one multi-row INSERT of materials takes (a power of two).
ROWS_PER_STATEMENT = 1024


def _statement_sizes(rows: int, limit: int) -> Iterator[tuple[int, int]]:
    """``(start, size)`` of each statement that inserts ``rows`` rows, at most ``limit`` a statement:
    full statements of ``ROWS_PER_STATEMENT`` rows, then the rest in falling powers of two.

    Each distinct SQL text is a statement the driver prepares and keeps in its cache (128 of
    them). Sized by the variable limit and each chunk's remainder, a new statement of tens of
    MB was prepared and kept for nearly every chunk (56 MB of SQLite's memory after 13 chunks of
    a 40 MB file: benchmarks/README.md, session 13); now at most a dozen texts ever occur."""
    size = min(ROWS_PER_STATEMENT, 1 << (max(1, limit).bit_length() - 1))
    start = 0
    while start < rows:
        while size > rows - start:
            size //= 2
        yield start, size
        start += size
