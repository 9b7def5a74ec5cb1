"""``in_values``: the rows ``column.in_(values)`` selects, with the batch bound as one parameter."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, insert, select

from biomatdb.models import Source
from biomatdb.sqlin import in_values

KEYS = ["doi:10.1/a", "Müller 2021 — Ti-6Al-4V", "quote ' and \" and \\ too", "日本語の出典", "doi:10.1/e"]


@pytest.fixture
def stored(engine):
    with engine.begin() as connection:
        connection.execute(insert(Source), [{"key": key, "citation": key} for key in KEYS])
        ids = dict(connection.execute(select(Source.key, Source.id)).all())
    return engine, ids


@pytest.mark.parametrize(
    "wanted",
    [
        [],
        ["doi:10.1/a"],
        ["Müller 2021 — Ti-6Al-4V", "日本語の出典", "quote ' and \" and \\ too"],
        ["not stored", "doi:10.1/e", "doi:10.1/e"],
    ],
)
def test_strings_select_what_in_selects(stored, wanted):
    engine, _ = stored
    with engine.connect() as connection:
        ours = set(connection.execute(select(Source.key).where(in_values(Source.key, wanted))).scalars())
        theirs = set(connection.execute(select(Source.key).where(Source.key.in_(wanted))).scalars())
    assert ours == theirs == set(wanted) & set(KEYS)


def test_ids_select_update_and_delete_the_rows_named(stored):
    engine, ids = stored
    chosen = [ids["doi:10.1/a"], ids["日本語の出典"], 10**9]
    with engine.begin() as connection:
        assert sorted(connection.execute(select(Source.id).where(in_values(Source.id, chosen))).scalars()) == sorted(
            chosen[:2]
        )
        assert connection.execute(select(Source.id).where(in_values(Source.id, []))).all() == []
        assert connection.execute(delete(Source).where(in_values(Source.id, chosen))).rowcount == 2
        left = set(connection.execute(select(Source.key)).scalars())
    assert left == set(KEYS) - {"doi:10.1/a", "日本語の出典"}


def test_one_statement_serves_batches_of_any_length(stored):
    """The compiled statement is cached by shape: each batch still gets its own values."""
    engine, ids = stored
    with engine.connect() as connection:
        for size in (1, 3, 5):
            batch = sorted(ids.values())[:size]
            assert sorted(connection.execute(select(Source.id).where(in_values(Source.id, batch))).scalars()) == batch
