"""The hostile corpus (tests/hostile.py), each file ingested in a process of its own under the
bounds the safety issue sets: CPU time 30 s (``RLIMIT_CPU``: past it the process is killed
and the test fails) and memory 1 GiB of peak resident memory (measured in the process, with an
address-space cap as a backstop). Each must end in a report whose errors name what is wrong,
never a crash, and leave the database exactly as it was."""

from __future__ import annotations

import concurrent.futures
import multiprocessing
import resource
import shutil
from pathlib import Path

import pytest

from biomatdb.db import make_engine, migrate
from biomatdb.rlimits import process_limits
from biomatdb_ingest.pipeline import IngestOptions, ingest_file
from tests.conftest import snapshot
from tests.hostile import CORPUS, EXPECTED, GOOD_ROW, HEADER

CPU_SECONDS = 30
PEAK_RSS_BYTES = 1 << 30
ADDRESS_SPACE_BYTES = 3 << 30  # a backstop: a runaway allocation fails here instead of taking the machine


def ingest_bounded(url: str, path: str) -> tuple[dict, int]:
    """In the worker process: the ingest under the limits; its report and the peak RSS in bytes."""
    engine = make_engine(url)
    try:
        with process_limits(memory_bytes=ADDRESS_SPACE_BYTES, cpu_seconds=CPU_SECONDS):
            report = ingest_file(engine, Path(path), IngestOptions(staging_dir=Path(path).parent / "staging"))
    finally:
        engine.dispose()
    return report.as_dict(), resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


@pytest.fixture(scope="module")
def template(tmp_path_factory):
    """A core holding one good dataset, and its snapshot."""
    root = tmp_path_factory.mktemp("hostile-core")
    engine = make_engine(f"sqlite:///{root / 'core.sqlite'}")
    migrate(engine)
    good = root / "good.csv"
    good.write_text(HEADER + GOOD_ROW, encoding="utf-8")
    assert ingest_file(engine, good).loaded
    state = snapshot(engine)
    with engine.connect() as connection:
        connection.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return root / "core.sqlite", state


@pytest.fixture
def core(template, tmp_path):
    """A copy of the template for one file: one file's damage cannot spill into the next test."""
    source, state = template
    copy = tmp_path / "core.sqlite"
    shutil.copyfile(source, copy)
    url = f"sqlite:///{copy}"
    engine = make_engine(url)
    yield url, engine, state
    engine.dispose()


@pytest.fixture
def workers():
    """A process for one file, forked from a server that has the pipeline imported: one file's
    crash cannot break the next file's test."""
    context = multiprocessing.get_context("forkserver")
    context.set_forkserver_preload(["biomatdb_ingest.pipeline"])
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=context) as pool:
        yield pool


def test_the_corpus_has_at_least_sixty_files_each_with_its_expected_refusal():
    assert len(CORPUS) >= 60
    assert set(EXPECTED) == set(CORPUS)


@pytest.mark.slow
@pytest.mark.parametrize("name", sorted(CORPUS))
def test_a_hostile_file_is_refused_within_bounds_and_changes_nothing(name, core, workers, tmp_path):
    url, engine, before = core
    path = CORPUS[name](tmp_path)
    future = workers.submit(ingest_bounded, url, str(path))
    try:
        report, peak_rss = future.result(timeout=600)
    except concurrent.futures.process.BrokenProcessPool as exc:
        pytest.fail(f"{name}: the ingest's process died (a crash, or past {CPU_SECONDS} s of CPU): {exc}")
    assert not report["loaded"], f"{name} was loaded"
    assert report["errors"], f"{name}: refused without an error"
    for error in report["errors"]:
        assert error["type"] and error["message"], error
        assert error["type"] != "internal-error", error
    assert EXPECTED[name] in [error["type"] for error in report["errors"]], report["errors"][:3]
    assert peak_rss < PEAK_RSS_BYTES, f"{name}: peak RSS {peak_rss / 2**20:.0f} MiB"
    assert snapshot(engine) == before, f"{name} changed the database"
    print(f"{name}: {[e['type'] for e in report['errors']][:3]}; peak RSS {peak_rss / 2**20:.0f} MiB")
