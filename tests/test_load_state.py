"""The load's per-material state lives in TEMP tables of its connection (biomatdb_ingest.loadstate), and the
end of the upload reads it a page at a time: pages of any size store the same rows."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select, text

from benchmarks.digest import table_digests
from benchmarks.generate import write_long, write_wide
from biomatdb.db import make_engine, migrate
from biomatdb.models import Material, SearchOutbox
from biomatdb_ingest import loadstate
from biomatdb_ingest.load import Loader
from biomatdb_ingest.pipeline import IngestOptions, ingest_file


def _files(folder: Path) -> list[Path]:
    """A wide file (structures: merges, shared structures), a long one, and a replacement of the
    long one under the same dataset (materials matched by name)."""
    wide, long, again = folder / "wide.csv", folder / "long.csv", folder / "again.csv"
    write_wide(wide, 800, 3)
    write_long(long, 1_500, 5)
    write_long(again, 1_200, 6)
    return [wide, long, again]


def _load(engine, files: list[Path], chunk_rows: int) -> list:
    reports = []
    for path in files:
        dataset = "long" if path.stem in {"long", "again"} else path.stem
        report = ingest_file(engine, path, IngestOptions(dataset=dataset, chunk_rows=chunk_rows))
        assert report.ok, report.errors[:3]
        reports.append(report)
    return reports


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_pages_of_any_size_store_the_same_rows(tmp_path, monkeypatch):
    files = _files(tmp_path)
    digests, named = [], []
    for page in (loadstate.PAGE, 7):  # the same chunks (sources are created per chunk)
        monkeypatch.setattr(loadstate, "PAGE", page)
        engine = make_engine(f"sqlite:///{tmp_path / f'core-{page}.sqlite'}")
        migrate(engine)
        reports = _load(engine, files, 97)
        digests.append(table_digests(engine))
        named.append([(r.materials_created, r.materials_updated, r.materials_named, r.warning_count) for r in reports])
        engine.dispose()
    assert named[0] == named[1]
    assert digests[0] == digests[1]
    assert named[0][2][2] > named[0][2][0]  # the replacement matched materials the long file created


@pytest.mark.slow  # tens of seconds of CPU: CI runs it, the fast lane does not
def test_small_pages_reach_every_material(engine, tmp_path, monkeypatch):
    monkeypatch.setattr(loadstate, "PAGE", 5)
    files = _files(tmp_path)
    reports = _load(engine, files[:2], 211)
    with engine.connect() as connection:
        assert connection.execute(select(func.count()).select_from(Material)).scalar_one() == sum(
            r.materials_created for r in reports
        )
    reports += _load(engine, files[2:], 211)  # the replacement: its materials were created by the long file
    with engine.connect() as connection:
        materials = connection.execute(select(func.count()).select_from(Material)).scalar_one()
        unsearchable = connection.execute(
            select(func.count()).select_from(Material).where(Material.search_text.is_(None))
        ).scalar_one()
        queued = connection.execute(
            select(func.count()).select_from(Material).where(Material.id.in_(select(SearchOutbox.material_id)))
        ).scalar_one()
    assert unsearchable == 0
    assert queued == materials
    assert (
        reports[1].materials_named
        == reports[1].materials_created
        == len({row.split(",")[0] for row in (tmp_path / "long.csv").read_text().splitlines()[1:]})
    )
    assert len(reports[1].materials) == min(1_000, reports[1].materials_named)


def test_the_load_leaves_no_temp_table(sqlite_engine, tmp_path):
    path = tmp_path / "long.csv"
    write_long(path, 300, 1)
    assert ingest_file(sqlite_engine, path).ok
    assert ingest_file(sqlite_engine, path, IngestOptions(dataset="dry", dry_run=True)).ok
    # the pool hands the same connection back: the load's tables went before its commit
    with sqlite_engine.connect() as connection:
        left = connection.execute(text("SELECT name FROM sqlite_temp_master WHERE type = 'table'")).scalars().all()
    assert left == []


@pytest.mark.parametrize("size", [1, 2, 3, 10])
def test_pages_hand_out_every_id_once_in_order(engine, size):
    with engine.connect() as connection, connection.begin():
        state = loadstate.LoadState(connection)
        state.mark([9, 3, 7, 1, 5], "updated")
        state.mark([3, 5], "renamed")
        pages = list(state.pages(state.flagged("updated"), size))
        assert [i for page in pages for i in page] == [1, 3, 5, 7, 9]
        assert all(len(page) <= size for page in pages)
        assert [i for page in state.pages(state.flagged("renamed"), size) for i in page] == [3, 5]
        state.mark([3], "updated", unless_created=True)
        assert state.updated_not_created() == 5
        state.drop()


def test_loader_keeps_no_per_material_map():
    """What grew with the file (name keys, claims, rows seen, records) is not a field any more."""
    fields = set(Loader.__dataclass_fields__)
    assert not fields & {"_material_ids", "_seen", "_records", "_claims", "_claimed_names", "_created", "_updated"}
