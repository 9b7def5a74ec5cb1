"""The ingest benchmark runs end to end at a small size and writes the figures it promises.
(It measures; it asserts no speed: figures are read in benchmarks/README.md, not judged here.)"""

from __future__ import annotations

import json

import pytest

from benchmarks.generate import write_long, write_wide
from benchmarks.ingest import run


def test_generated_files_hold_the_measurements_they_say(tmp_path):
    wide, long = tmp_path / "wide.csv", tmp_path / "long.csv"
    assert write_wide(wide, 800, 7) == 800 and write_long(long, 500, 7) == 500
    assert len(long.read_text(encoding="utf-8").splitlines()) == 1 + 500
    assert ";" in wide.read_text(encoding="utf-8").splitlines()[0]


@pytest.mark.slow
def test_the_ingest_benchmark_writes_its_results(tmp_path):
    results = run(2_000, tmp_path, seed=3)
    assert json.loads((tmp_path / "results.json").read_text(encoding="utf-8")) == results
    by_name = {row["name"]: row for row in results}
    assert set(by_name) == {"ingest_sqlite", "store_only_sqlite", "store_minimal_sqlite", "ingest_sqlite_peak_rss"}
    ours = by_name["ingest_sqlite"]
    assert ours["unit"] == "measurements/s" and ours["value"] > 0 and ours["baseline"] > 0
    assert ours["met"] is (ours["ratio"] <= 3) and ours["target"] == "ratio <= 3"
    assert all(row["ratio"] > 0 for row in results)


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
