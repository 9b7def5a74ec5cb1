"""The SQLite load inserts materials in statements of a few fixed sizes (``load._statement_sizes``):
each distinct SQL text is a prepared statement the driver keeps, so sizes that follow each
chunk's remainder kept a new statement of tens of MB per chunk."""

from itertools import accumulate

from hypothesis import given, strategies as st

from biomatdb_ingest.load import ROWS_PER_STATEMENT, _statement_sizes


@given(rows=st.integers(0, 200_000), limit=st.integers(1, 300_000))
def test_statements_cover_every_row_once_within_the_limit(rows, limit):
    statements = list(_statement_sizes(rows, limit))
    starts = [start for start, _ in statements]
    sizes = [size for _, size in statements]
    assert sum(sizes) == rows
    assert starts == [0, *accumulate(sizes)][:-1]
    assert all(0 < size <= min(limit, ROWS_PER_STATEMENT) for size in sizes)


def test_any_number_of_chunks_prepares_at_most_a_dozen_statement_texts():
    sizes = {size for rows in range(1, 20_000, 7) for _, size in _statement_sizes(rows, 250_000 // 20)}
    assert len(sizes) <= ROWS_PER_STATEMENT.bit_length()
    assert all(size & (size - 1) == 0 for size in sizes)  # powers of two
