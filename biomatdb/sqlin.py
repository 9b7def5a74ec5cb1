"""``column IN (values)`` for a batch of many values, bound as one parameter.

SQLAlchemy binds each value of ``column.in_(values)`` as a parameter of its own, coerced and
expanded at every execution: over the batched look-ups of a large load that cost more than a
second before the database saw a statement. Here the batch is one parameter: a JSON array read by
``json_each`` on SQLite, an array compared with ``= ANY`` on PostgreSQL; both use the column's
index as ``IN`` does, and the statement is compiled once for every batch.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Sequence
from typing import Any, TypeVar

from sqlalchemy import String, TypeDecorator, bindparam
from sqlalchemy.ext.compiler import compiles
from sqlalchemy.sql.expression import ColumnElement
from sqlalchemy.sql.sqltypes import NULLTYPE
from sqlalchemy.sql.visitors import InternalTraversal

#: How many values a look-up binds at a time.
IN_BATCH = 500

_T = TypeVar("_T")


def batches(items: Sequence[_T], size: int = IN_BATCH) -> Iterator[Sequence[_T]]:
    """``items`` in consecutive slices of at most ``size``, for ``in_values``."""
    for start in range(0, len(items), size):
        yield items[start : start + size]


class _Values(TypeDecorator):
    """A list of ints or strings: JSON text on SQLite, the list itself (an array) on PostgreSQL."""

    impl = String
    cache_ok = True

    def process_bind_param(self, value, dialect):
        return value if dialect.name == "postgresql" else json.dumps(value)


class _InValues(ColumnElement[Any]):
    inherit_cache = True
    _traverse_internals = [  # noqa: RUF012 (SQLAlchemy's own declaration)
        ("column", InternalTraversal.dp_clauseelement),
        ("values", InternalTraversal.dp_clauseelement),
    ]

    def __init__(self, column: Any, values: list) -> None:
        self.type = NULLTYPE  # not Boolean: SQLite would be given ``(… IN …) = 1``, which no index serves
        self.column = column.__clause_element__() if hasattr(column, "__clause_element__") else column
        self.values = bindparam(None, values, type_=_Values())


def in_values(column: Any, values: Iterable[int] | Iterable[str]) -> ColumnElement[Any]:
    """``column IN values`` (ints or strings), with the values bound as a single parameter."""
    return _InValues(column, [value if isinstance(value, str) else int(value) for value in values])


@compiles(_InValues)
def _json_each(element: _InValues, compiler, **kw) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    return f"{column} IN (SELECT value FROM json_each({values}))"


@compiles(_InValues, "postgresql")
def _any(element: _InValues, compiler, **kw) -> str:
    column, values = compiler.process(element.column, **kw), compiler.process(element.values, **kw)
    array = compiler.dialect.type_compiler_instance.process(element.column.type)
    return f"{column} = ANY(CAST({values} AS {array}[]))"
