"""The ingest benchmark runs end to end at a small size and writes the figures it promises.
(It measures; it asserts no speed: figures are read in benchmarks/README.md, not judged here.)"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from benchmarks.generate import write_long, write_wide
from benchmarks.ingest import run


def test_generated_files_hold_the_measurements_they_say(tmp_path):
    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    assert write_wide(wide, 800, 7) == 800 and write_long(long, 500, 7) == 500
    assert len(long.read_text(encoding="utf-8").splitlines()) == 1 + 500
    assert ";" in wide.read_text(encoding="utf-8").splitlines()[0]


def test_a_long_file_of_a_size_is_written_in_blocks_with_one_header(tmp_path, monkeypatch):
    import benchmarks.generate

    monkeypatch.setattr(benchmarks.generate, "_LONG_BLOCK", 1_000)
    path = tmp_path / "sized.csv"
    rows = benchmarks.generate.write_long_of_size(path, 0.3, 5)
    lines = path.read_text(encoding="utf-8").splitlines()
    assert rows > 3_000 and len(lines) == 1 + rows and lines.count(lines[0]) == 1
    assert 0.28e6 < path.stat().st_size < 0.32e6
    materials = {line.split(",")[0] for line in lines[1:]}
    assert rows // 20 < len(materials) <= rows // 10  # about one material per 10 rows, over all blocks


@pytest.mark.slow
def test_the_ingest_benchmark_writes_its_results(tmp_path):
    results = run(2_000, tmp_path, seed=3)
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8")) == results
    by_name = {row["name"]: row for row in results}
    assert set(by_name) == {
        "ingest_sqlite",
        "store_only_sqlite",
        "store_minimal_sqlite",
        "ingest_sqlite_vs_store_only",
        "ingest_sqlite_cpu_vs_store_only",
        "ingest_sqlite_peak_rss",
    }
    for name in ("ingest_sqlite_vs_store_only", "ingest_sqlite_cpu_vs_store_only"):
        floor = by_name[name]
        assert floor["met"] is (floor["ratio"] <= 1.5) and floor["baseline"] > 0
    ours = by_name["ingest_sqlite"]
    assert ours["unit"] == "measurements/s" and ours["value"] > 0 and ours["baseline"] > 0
    assert ours["met"] is (ours["ratio"] <= 3) and ours["target"] == "ratio <= 3"
    assert all(row["ratio"] > 0 for row in results)


@pytest.mark.slow
@pytest.mark.postgres
def test_the_postgresql_ingest_benchmark_compares_with_a_copy_of_the_same_rows(tmp_path):
    results = run(2_000, tmp_path, seed=3, backend="postgresql")
    by_name = {row["name"]: row for row in results}
    assert set(by_name) == {"ingest_postgresql", "ingest_postgresql_seconds", "ingest_postgresql_peak_rss"}
    ours = by_name["ingest_postgresql"]
    assert ours["unit"] == "measurements/s" and ours["value"] > 0 and ours["baseline"] > 0
    assert ours["met"] is (ours["ratio"] <= 3)
    assert by_name["ingest_postgresql_seconds"]["baseline"] > 0


@pytest.mark.slow
def test_the_load_benchmark_reports_both_phases_and_both_uploads(tmp_path):
    from benchmarks.load import run as run_load

    result = run_load(500, 1.0, 2, tmp_path)
    assert json.loads((tmp_path / "load-results.json").read_text(encoding="utf-8")) == result
    for phase in ("baseline", "during_upload"):
        assert result[phase]["requests"] > 0 and result[phase]["errors"] == 0, result[phase]
        assert result[phase]["p99_ms"] >= result[phase]["p50_ms"] > 0
    assert {name: job["upload_status"] for name, job in result["uploads"].items()} == {"big": 202, "second": 202}
    assert {job["job_status"] for job in result["uploads"].values()} == {"succeeded"}


@pytest.mark.slow
def test_the_search_core_generator_makes_distinct_structures_that_load(tmp_path, sqlite_engine):
    from benchmarks.search import write_core
    from biomatdb_ingest.pipeline import ingest_file

    path = tmp_path / "core.csv"
    assert write_core(path, 300, seed=5) == 3_000
    report = ingest_file(sqlite_engine, path)
    assert report.loaded and report.materials_created == 300, report.errors[:3]
    with sqlite_engine.connect() as connection:
        from sqlalchemy import func, select

        from biomatdb.models import ChemicalStructure

        assert connection.execute(select(func.count()).select_from(ChemicalStructure)).scalar() >= 150


@pytest.mark.slow
def test_the_search_benchmark_reports_every_kind_of_figure(tmp_path):
    from benchmarks.search import CHEMISTRY_SEARCHES, SEARCHES, run as run_search

    results = run_search("small", tmp_path, repetitions=2, materials=300)
    names = [row["name"] for row in results]
    assert len(SEARCHES) + len(CHEMISTRY_SEARCHES) + 5 >= 20  # the mix the speed issue asks for
    for kind in ("search", "chemistry", "index"):
        assert any(kind in name for name in names), kind
    for row in results:
        assert set(row) == {"name", "value", "unit", "baseline", "ratio", "target", "met"}
        assert row["value"] is not None and row["value"] >= 0, row
        if row["ratio"] is not None and row["baseline"] >= 0.1:
            assert row["ratio"] == pytest.approx(row["value"] / row["baseline"], rel=0.05, abs=0.02), row


@pytest.mark.slow
def test_the_selection_benchmark_reports_each_selection_against_its_plain_search(tmp_path):
    from benchmarks.select import SELECTIONS, run as run_select

    results = run_select("small", tmp_path, repetitions=2, materials=300)
    names = {row["name"] for row in results}
    for name, _, _ in SELECTIONS:
        assert {f"{name}_p50", f"{name}_p99", f"{name}_candidates"} <= names
    timed = [row for row in results if row["name"].endswith(("_p50", "_p99"))]
    assert timed and all(row["value"] > 0 and row["baseline"] > 0 for row in timed)
    assert all(row["value"] > 0 for row in results if row["name"].endswith("_candidates"))


@pytest.mark.slow
def test_the_startup_benchmark_times_each_command_against_the_bare_interpreter(tmp_path):
    from benchmarks.startup import COMMANDS, run as run_startup

    results = run_startup(tmp_path, repetitions=1, fixtures=Path(__file__).parents[1] / "fixtures" / "curated")
    by_name = {row["name"]: row for row in results}
    assert set(by_name) == {"python_c_pass", *(name for name, _ in COMMANDS)}
    bare = by_name.pop("python_c_pass")["value"]
    for row in by_name.values():  # every command is timed beside the interpreter's own start
        assert row["unit"] == "s" and row["value"] > 0 and row["baseline"] == pytest.approx(bare, abs=1e-3), row
    assert (tmp_path / "startup-data" / "biomatdb.sqlite").stat().st_size > 0
