"""A digest of everything a load stores, to show that a change to the pipeline stores the same rows.

``python -m benchmarks.digest OUT [--rows N] [--backend sqlite|postgresql]`` loads the fixtures,
then generated files (``benchmarks/generate.py``: a wide and a long file), the long file again
(an unchanged re-upload), another long file under the same dataset name (a replace, with the
re-upload diff) and a file with bad rows under ``--skip-invalid``, into a fresh core; and prints
one SHA-256 per table over its rows, every column but timestamps, in a stable order (the core's
generation moves by a random step: not compared). Run it on two commits with the same
``PYTHONHASHSEED`` (sources are created in the order of a set of their keys) and compare the
output: the same lines mean the same stored rows. On PostgreSQL the outbox's ids follow the order
of a plan (two runs of one commit differ); ``search_outbox without id`` compares its rows alone,
and ``material_elements without id`` the element rows, whose ids follow the order of a query.
"""

from __future__ import annotations

import argparse
import hashlib
import json
from pathlib import Path

from sqlalchemy import Engine, inspect, text

from benchmarks.generate import write_long, write_wide

# tables a load writes; FTS5's own tables are checked with its integrity check instead
TABLES = (
    "sources",
    "structures",
    "datasets",
    "dataset_uploads",
    "materials",
    "material_synonyms",
    "material_applications",
    "composition_components",
    "material_elements",
    "material_element_bases",
    "measurements",
    "biological_evaluations",
    "detail_claims",
    "material_redirects",
    "search_outbox",
)
TIMESTAMPS = {"created_at", "updated_at", "uploaded_at", "merged_at", "retracted_at"}


def table_digests(engine: Engine) -> dict[str, str]:
    """``table -> "rows sha256"`` over every column but timestamps, rows sorted as text."""
    digests = {}
    inspector = inspect(engine)
    with engine.connect() as connection:
        for table in TABLES:
            columns = [c["name"] for c in inspector.get_columns(table) if c["name"] not in TIMESTAMPS]
            names = ", ".join(f'"{column}"' for column in columns)
            rows = sorted(repr(tuple(row)) for row in connection.execute(text(f"SELECT {names} FROM {table}")))
            digest = hashlib.sha256("\n".join(rows).encode("utf-8")).hexdigest()
            digests[table] = f"{len(rows)} {digest}"
        # the outbox is filled by INSERT … SELECT without an order: which id a row gets is the plan's
        outbox = sorted(
            repr(tuple(row)) for row in connection.execute(text("SELECT material_id, public_id FROM search_outbox"))
        )
        digests["search_outbox without id"] = (
            f"{len(outbox)} {hashlib.sha256(chr(10).join(outbox).encode('utf-8')).hexdigest()}"
        )
        # element rows are written in the order a query gives their materials, which on PostgreSQL
        # may follow the plan: their rows without the id say whether the same rows were stored
        columns = [c["name"] for c in inspector.get_columns("material_elements") if c["name"] != "id"]
        elements = sorted(
            repr(tuple(row)) for row in connection.execute(text(f"SELECT {', '.join(columns)} FROM material_elements"))
        )
        digests["material_elements without id"] = (
            f"{len(elements)} {hashlib.sha256(chr(10).join(elements).encode('utf-8')).hexdigest()}"
        )
        if engine.dialect.name == "sqlite":
            connection.execute(text("INSERT INTO materials_fts(materials_fts) VALUES ('integrity-check')"))
            digests["materials_fts"] = "integrity-check ok"
    return digests


def _bad_rows(path: Path) -> None:
    """A long file with two rows that cannot load: an unknown unit and text for a number."""
    path.write_text(
        "Material,Property,Value,Unit,Source\n"
        "Skip material 1,density,1.2,g/cm3,Skip citation\n"
        "Skip material 2,density,heavy,g/cm3,Skip citation\n"
        "Skip material 3,UTS,40,furlongs,Skip citation\n"
        "Skip material 4,UTS,45 ± 2,MPa,Skip citation\n",
        encoding="utf-8",
    )


def load_all(engine: Engine, work: Path, rows: int, seed: int) -> list[str]:
    """The loads the digest is taken after; each report's counts, for the output."""
    from biomatdb_ingest.fixtures import default_fixtures_dir, load_fixtures
    from biomatdb_ingest.pipeline import IngestOptions, ingest_file

    summary = []
    for path, report in load_fixtures(engine, default_fixtures_dir()):
        if not report.ok:
            raise SystemExit(f"fixture {path} refused: {report.errors[:3]}")
    summary.append("fixtures loaded")
    (work / "again").mkdir(parents=True, exist_ok=True)
    wide, long, other = work / "wide.csv", work / "long.csv", work / "again" / "long.csv"
    write_wide(wide, rows // 2, seed)
    write_long(long, rows - rows // 2, seed)
    write_long(other, rows // 4, seed + 7)
    bad = work / "skipped.csv"
    _bad_rows(bad)
    for path, options in (
        (wide, IngestOptions()),
        (long, IngestOptions()),
        (long, IngestOptions()),
        (other, IngestOptions()),
        (bad, IngestOptions(skip_invalid=True)),
    ):
        report = ingest_file(engine, path, options)
        if not report.loaded:
            raise SystemExit(f"{path} refused: {report.errors[:3]}")
        summary.append(
            f"{path.name}: +{report.measurements_added} ~{report.measurements_updated} "
            f"-{report.measurements_removed} ={report.measurements_unchanged} skipped {report.rows_skipped}"
            f" materials +{report.materials_created}"
        )
    return summary


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.digest")
    parser.add_argument("out", type=Path, help="a folder for the generated files and the SQLite core")
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=42)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    args = parser.parse_args()
    from biomatdb.db import make_engine, migrate

    args.out.mkdir(parents=True, exist_ok=True)
    if args.backend == "sqlite":
        for stale in args.out.glob("digest.sqlite*"):
            stale.unlink()
        engine = make_engine(f"sqlite:///{args.out / 'digest.sqlite'}")
        migrate(engine)
        summary = load_all(engine, args.out, args.rows, args.seed)
        print(json.dumps({"loads": summary, "tables": table_digests(engine)}, indent=2))
        return
    from benchmarks.pg import postgres_database

    with postgres_database("biomatdb_digest") as url:
        engine = make_engine(url)
        migrate(engine)
        summary = load_all(engine, args.out, args.rows, args.seed)
        print(json.dumps({"loads": summary, "tables": table_digests(engine)}, indent=2))
        engine.dispose()


if __name__ == "__main__":
    main()
