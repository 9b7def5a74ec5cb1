"""The preloaded cores of ``tests/preloaded.py`` reach only the tests that ask for them."""

import pytest
from sqlalchemy import func, select

from biomatdb.models import Material
from biomatdb_ingest.pipeline import ingest_file
from tests.api_fixtures import SEMANTICS_CSV
from tests.preloaded import preloaded


def _materials(engine) -> int:
    with engine.connect() as connection:
        return connection.scalar(select(func.count()).select_from(Material))


@preloaded(engine="sqlite_engine")
def probe_core(engine, directory):
    """The six materials of the search-semantics file, loaded in advance."""
    assert ingest_file(engine, SEMANTICS_CSV).ok


@pytest.fixture
def semantics(sqlite_engine):
    """This module's own fixture, sharing only its name with the preloaded ``semantics`` core."""
    return sqlite_engine


def test_the_preloaded_core_reaches_the_test_that_asks_for_it(probe_core):
    assert _materials(probe_core) == 6


def test_a_fixture_that_only_shares_a_preloaded_name_loads_nothing(semantics):
    assert _materials(semantics) == 0


def test_a_test_that_asks_for_no_preloaded_core_gets_an_empty_one(sqlite_engine):
    assert _materials(sqlite_engine) == 0
