"""Search versions are monotonic across a promotion (``biomatdb.search_version``): the core's
epoch (PostgreSQL's timeline) in the high bits, its generation in the low ones."""

from __future__ import annotations

import pytest
from hypothesis import given, strategies as st
from sqlalchemy import text

from biomatdb.db import core_generation, make_engine, migrate
from biomatdb.errors import BiomatError
from biomatdb.search_version import EPOCH_MAX, GENERATION_BITS, compose, core_epoch, search_version

generations = st.integers(min_value=0, max_value=(1 << GENERATION_BITS) - 1)
epochs = st.integers(min_value=0, max_value=EPOCH_MAX - 1)


@given(epochs, generations, generations)
def test_any_version_of_a_later_epoch_is_newer_than_any_of_an_earlier(epoch, before, after):
    assert compose(epoch + 1, after) > compose(epoch, before)
    assert compose(epoch + 1, after) < 1 << 63  # Elasticsearch's versions are signed 64-bit


@given(epochs, generations, generations)
def test_within_an_epoch_versions_follow_generations(epoch, one, other):
    assert (compose(epoch, one) < compose(epoch, other)) == (one < other)
    assert compose(epoch, one) & ((1 << GENERATION_BITS) - 1) == one


def test_composition_is_epoch_high_generation_low_and_refuses_what_does_not_fit():
    assert compose(0, 12345) == 12345  # SQLite, never promoted: the generation itself
    assert compose(2, 7) == (2 << 53) + 7
    with pytest.raises(BiomatError, match="53 bits"):
        compose(1, 1 << GENERATION_BITS)
    with pytest.raises(BiomatError, match="timeline"):
        compose(EPOCH_MAX + 1, 0)


def test_sqlite_has_epoch_zero(sqlite_engine):
    with sqlite_engine.connect() as connection:
        assert core_epoch(connection) == 0
        assert search_version(connection, core_generation(connection)) == core_generation(connection)


def test_a_postgresql_primary_reads_its_timeline(pg_engine):
    with pg_engine.connect() as connection:
        assert core_epoch(connection) == 1  # a fresh cluster's first timeline


@pytest.mark.slow
def test_the_version_after_a_real_promotion_exceeds_the_one_before_for_the_same_generation():
    """A dedicated primary and standby (the shared ones stay as they are): the standby is
    promoted, and the version it computes for the generation it holds (lower than what the old
    primary moved on to) is higher than the old primary's."""
    from tests.postgres import _start_session_cluster, start_standby, wait_replayed

    primary = _start_session_cluster()
    if isinstance(primary, str):
        pytest.fail(primary, pytrace=False)
    standby = None
    try:
        from tests.postgres import admin_connection

        with admin_connection(primary.server) as admin:
            admin.execute('CREATE DATABASE "promoted"')
        old = make_engine(primary.server.url("promoted"))
        migrate(old)
        standby = start_standby(primary)
        wait_replayed(primary.server, standby.server)
        standby.halt()  # the standby falls behind: what the primary writes now it never receives
        with old.connect() as connection:
            generation = core_generation(connection)
            before = search_version(connection, generation)
            connection.execute(text("UPDATE core_state SET generation = generation + 1000 WHERE id = 1"))
            connection.commit()
            lost = search_version(connection, core_generation(connection))
        old.dispose()
        primary.halt()  # the primary is lost, and the standby, started again, is promoted
        standby.start()
        standby._owner_run("pg_ctl", "promote", "--wait", "--pgdata", str(standby.data_dir))
        new = make_engine(standby.server.url("promoted"))
        try:
            with new.connect() as connection:
                assert connection.execute(text("SELECT pg_is_in_recovery()")).scalar() is False
                assert core_generation(connection) == generation  # the standby never saw the last write
                after = search_version(connection, generation)
                assert core_epoch(connection) == 2
        finally:
            new.dispose()
        print(f"\nversion before {before:,}, lost write {lost:,}, after the promotion {after:,}")
        assert after > lost > before
        assert after & ((1 << GENERATION_BITS) - 1) == generation
    finally:
        if standby is not None:
            standby.stop()
        primary.stop()
