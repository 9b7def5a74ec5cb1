"""What one material costs on disk and in a search process, for sizing a deployment.

``python -m benchmarks.footprint [--materials N ...] [--out DIR]`` generates the search
benchmark's core (``benchmarks.search.write_core``: about 10 measurements a material, 65 % of
materials polymers with a structure), loads it through the pipeline into a fresh database on a
PostgreSQL server started for the run (``benchmarks.pg``), and measures

- on disk: ``pg_database_size`` and each table's ``pg_total_relation_size`` (heap, indexes and
  TOAST), after ``VACUUM ANALYZE``; per material and per measurement;
- the Elasticsearch documents: the JSON source of every material's search document
  (``biomatdb_search.backends.elastic.documents_from_core``), as bulk-indexing would send it; what a
  node stores for it (inverted index, doc values, nested documents) is not measured here, for
  no node runs on this machine;
- in memory, in this process: the resident set before and after building the in-memory
  search index (``biomatdb_search.memory.build``) and the chemistry index (``ChemistryIndex``), and the
  in-memory index's own arrays (``MemoryIndex.nbytes``).

``DIR/footprint.json`` holds one row per size. deploy/README.md computes 10M-material figures
from these rows.
"""

from __future__ import annotations

import argparse
import gc
import json
import multiprocessing
import tempfile
import time
from pathlib import Path

import psutil


def measure(materials: int, seed: int = 42) -> dict:
    import orjson
    from sqlalchemy import text

    from benchmarks.pg import postgres_database
    from benchmarks.search import write_core
    from biomatdb.db import make_engine, migrate
    from biomatdb_ingest.pipeline import IngestOptions, ingest_file
    from biomatdb_search.backends.elastic import documents_from_core

    with tempfile.TemporaryDirectory(prefix="biomatdb-footprint-") as work, postgres_database("footprint") as url:
        data = Path(work) / f"core-{materials}.csv"
        measurements = write_core(data, materials, seed)
        engine = make_engine(url)
        migrate(engine)
        with engine.connect() as connection:
            empty_bytes = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
        started = time.perf_counter()
        report = ingest_file(
            engine, data, IngestOptions(dataset="generated", license="CC0-1.0", staging_dir=Path(work) / "staging")
        )
        load_s = time.perf_counter() - started
        assert report.loaded, report.errors[:3]
        with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as connection:
            connection.execute(text("VACUUM ANALYZE"))
        with engine.connect() as connection:
            database_bytes = connection.execute(text("SELECT pg_database_size(current_database())")).scalar_one()
            tables = {
                name: int(size)
                for name, size in connection.execute(
                    text(
                        "SELECT relname, pg_total_relation_size(oid) FROM pg_class"
                        " WHERE relkind = 'r' AND relnamespace = 'public'::regnamespace"
                        " ORDER BY 2 DESC"
                    )
                )
            }
            stored = {
                name: connection.execute(text(f"SELECT count(*) FROM {name}")).scalar_one()
                for name in ("materials", "measurements", "structures")
            }
        with engine.connect() as connection:
            document_bytes = sum(len(orjson.dumps(document)) for document in documents_from_core(connection))
        engine.dispose()
        with multiprocessing.get_context("spawn").Pool(1) as pool:  # a fresh process: no heap left by the load
            resident = pool.apply(_index_resident_bytes, (url,))
    return {
        "materials": stored["materials"],
        "measurements": stored["measurements"],
        "structures": stored["structures"],
        "generated_measurements": measurements,
        "load_s": round(load_s, 1),
        "database_bytes": database_bytes,
        "empty_database_bytes": empty_bytes,
        "table_bytes": tables,
        "disk_bytes_per_material": round((database_bytes - empty_bytes) / stored["materials"], 1),
        "disk_bytes_per_measurement": round((database_bytes - empty_bytes) / stored["measurements"], 1),
        "document_json_bytes": document_bytes,
        "document_json_bytes_per_material": round(document_bytes / stored["materials"], 1),
        **resident,
        "rss_bytes_per_material": round(
            (resident["rss_memory_index_bytes"] + resident["rss_chemistry_index_bytes"]) / stored["materials"], 1
        ),
    }


def _index_resident_bytes(url: str) -> dict[str, int]:
    """In a process of its own: the resident set that the in-memory search index and then the
    chemistry index add, and the arrays each holds."""
    from biomatdb.db import core_generation, make_engine
    from biomatdb_search.chemistry import ChemistryIndex
    from biomatdb_search.memory import build

    engine = make_engine(url)
    with engine.connect() as connection:
        core_generation(connection)  # the driver and the pool warmed before the first figure
    gc.collect()
    process = psutil.Process()
    before = process.memory_info().rss
    with engine.connect() as connection:
        index = build(connection, core_generation(connection))
    gc.collect()
    after_memory = process.memory_info().rss
    snapshot = ChemistryIndex(engine).snapshot()
    gc.collect()
    after_chemistry = process.memory_info().rss
    engine.dispose()
    arrays = (snapshot.fingerprints, snapshot.fingerprint_counts, snapshot.material_ids, snapshot.structure_of)
    return {
        "memory_index_nbytes": index.nbytes(),
        "rss_memory_index_bytes": after_memory - before,
        "chemistry_arrays_nbytes": sum(array.nbytes for array in arrays),
        "rss_chemistry_index_bytes": after_chemistry - after_memory,
    }


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.footprint")
    parser.add_argument("--materials", type=int, nargs="+", default=[10_000, 30_000])
    parser.add_argument("--out", type=Path, default=Path("benchmarks/out"))
    arguments = parser.parse_args()
    arguments.out.mkdir(parents=True, exist_ok=True)
    rows = []
    for materials in arguments.materials:
        rows.append(measure(materials))
        print(json.dumps(rows[-1], indent=2), flush=True)
        (arguments.out / "footprint.json").write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
