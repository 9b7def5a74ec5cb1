"""The search outbox is bounded: one row per material, however often it changes or however long
Elasticsearch is away, and none at all when no Elasticsearch is configured (``biomatdb.outbox``).
On SQLite and PostgreSQL."""

from __future__ import annotations

import random
import threading

import pytest
from sqlalchemy import func, select

from biomatdb.db import make_engine, migrate
from biomatdb.models import Material, SearchOutbox
from biomatdb.outbox import record_changed, record_changed_rows
from biomatdb_ingest.pipeline import ingest_file
from biomatdb_search.backends.elastic_sync import _claimed, _delete_claimed, sync, sync_status
from tests.es_transport import Rule, bulk_answer, scripted_client
from tests.test_pipeline import write
from tests.test_search_elastic_sync import ALIAS, alias_on, no_reindex

MATERIALS = 10


def _ten_materials(tmp_path, round_: int = 0) -> str:
    rows = "".join(f"Mat{i} alloy,alloy,{100 + i + round_},Test handbook 2001\n" for i in range(MATERIALS))
    return write(tmp_path, "ten.csv", "Material,Class,Young's modulus [GPa],Source\n" + rows)


def _rows(engine) -> list[tuple[int, int]]:
    with engine.connect() as connection:
        return [
            tuple(row)
            for row in connection.execute(
                select(SearchOutbox.material_id, SearchOutbox.changes).order_by(SearchOutbox.id)
            )
        ]


@pytest.mark.slow
def test_a_thousand_changes_of_ten_materials_leave_ten_outbox_rows(engine, tmp_path):
    assert ingest_file(engine, _ten_materials(tmp_path)).loaded
    with engine.connect() as connection:
        ids = list(connection.execute(select(Material.id).order_by(Material.id)).scalars())
    assert len(ids) == MATERIALS and len(_rows(engine)) == MATERIALS
    first_wait = sync_status(engine, None, ALIAS).oldest_wait_s
    chooser = random.Random(19)
    for _ in range(1_000):
        chosen = chooser.sample(ids, chooser.randint(1, 3))
        with engine.begin() as connection:
            if chooser.random() < 0.5:
                record_changed(connection, Material.id.in_(chosen))
            else:
                record_changed_rows(connection, [(m, None) for m in chosen])
    rows = _rows(engine)
    print(f"outbox rows after 1,000 changes of {MATERIALS} materials: {len(rows)}")
    assert len(rows) == MATERIALS
    assert sorted(m for m, _ in rows) == ids
    assert sum(changes for _, changes in rows) > 1_000  # every change counted into its material's row
    status = sync_status(engine, None, ALIAS)
    assert status.outbox_rows == MATERIALS
    assert status.oldest_wait_s is not None and first_wait is not None
    assert status.oldest_wait_s >= first_wait  # coalescing keeps the first wait: /ready's warning holds
    with engine.connect() as connection:  # a coalesced row keeps its material's public id
        assert connection.execute(select(func.count()).where(SearchOutbox.public_id.is_(None))).scalar_one() == 0


def test_re_uploads_through_the_pipeline_leave_one_row_per_material(engine, tmp_path):
    for round_ in range(5):
        assert ingest_file(engine, _ten_materials(tmp_path, round_)).loaded
    assert len(_rows(engine)) == MATERIALS


def test_a_retraction_queues_each_material_it_touched_once(engine, tmp_path):
    from biomatdb.models import Dataset
    from biomatdb_ingest.retract import retract_dataset

    assert ingest_file(engine, _ten_materials(tmp_path)).loaded
    with engine.begin() as connection:
        dataset_id = connection.execute(select(Dataset.id)).scalar_one()
        retract_dataset(connection, dataset_id)
    rows = _rows(engine)
    assert len(rows) == MATERIALS and {changes for _, changes in rows} == {2}  # the load's and the retraction's


def test_without_elasticsearch_configured_nothing_is_written_to_the_outbox(tmp_path):
    engine = make_engine(f"sqlite:///{tmp_path / 'core.sqlite'}", search_outbox=False)
    try:
        migrate(engine)
        assert ingest_file(engine, _ten_materials(tmp_path)).loaded
        with engine.connect() as connection:
            assert connection.execute(select(func.count()).select_from(Material)).scalar_one() == MATERIALS
        assert _rows(engine) == []
        assert sync_status(engine, None, ALIAS).outbox_rows == 0
    finally:
        engine.dispose()


def test_the_settings_turn_the_outbox_on_only_with_elasticsearch(tmp_path):
    from biomatdb.settings import Settings

    assert Settings(data_dir=tmp_path).search_outbox is False
    assert Settings(data_dir=tmp_path, elasticsearch_url="http://localhost:9200").search_outbox is True


def test_a_change_coalesced_while_its_document_is_written_keeps_the_row(sqlite_engine, tmp_path):
    """SQLite: the drainer deletes a row only at the change count it claimed."""
    assert ingest_file(sqlite_engine, _ten_materials(tmp_path)).loaded
    with sqlite_engine.connect() as connection:
        changed = connection.execute(select(Material.id, Material.public_id).order_by(Material.id)).first()
    written = bulk_answer(lambda action, source: None)

    def change_then_answer(request):
        with sqlite_engine.begin() as connection:  # a later upload touches the material meanwhile
            record_changed_rows(connection, [tuple(changed)])
        return written(request)

    client, _ = scripted_client([no_reindex(), alias_on(), Rule("PUT", r"/_bulk", [change_then_answer, written])])
    report = sync(sqlite_engine, client, ALIAS, batch=100, backoff_s=0.001)
    # the first batch left the changed row (at 2 changes), and the second wrote it again
    assert (report.batches, report.outbox_rows, report.upserted) == (2, MATERIALS + 1, MATERIALS + 1)
    assert _rows(sqlite_engine) == []


@pytest.mark.slow
def test_on_postgresql_a_change_to_a_claimed_row_waits_for_the_claim_and_is_kept(pg_engine, tmp_path):
    """PostgreSQL: a drainer's claim (FOR UPDATE SKIP LOCKED) holds the row; an upsert into it waits
    for the claim to end, then finds the row gone and writes a fresh one. Another drainer skips it."""
    assert ingest_file(pg_engine, _ten_materials(tmp_path)).loaded
    with pg_engine.connect() as connection:
        changed = connection.execute(select(Material.id, Material.public_id).order_by(Material.id)).first()
    done = threading.Event()

    def change() -> None:
        with pg_engine.begin() as connection:
            record_changed_rows(connection, [tuple(changed)])
        done.set()

    with _claimed(pg_engine, 1) as (claim, rows):
        assert [row.material_id for row in rows] == [changed.id]
        writer = threading.Thread(target=change)
        writer.start()
        assert not done.wait(1.0)  # the upsert waits for the claim
        with _claimed(pg_engine, 100) as (_, others):  # a second drainer takes the rest, without waiting
            assert changed.id not in {row.material_id for row in others} and len(others) == MATERIALS - 1
        claim.execute(_delete_claimed([(row.id, row.changes) for row in rows]))
    writer.join(30)
    assert done.is_set()
    assert (changed.id, 1) in _rows(pg_engine) and len(_rows(pg_engine)) == MATERIALS
