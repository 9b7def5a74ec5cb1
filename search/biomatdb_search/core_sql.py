"""The relational core's own SQL that more than one part of search needs, whichever backend
answers a search (not a backend itself, so that no backend imports another):

- text search over the core's full-text index (SQLite FTS5 ``materials_fts``, PostgreSQL
  full-text search over ``materials.search_text``), both as an AND of word prefixes: the SQL
  backend filters with it, and respelling (``biomatdb_search.spelling``) asks it whether a word matches;
- a measurement's interval tested against an asked one: the SQL backend's property filters and
  ``biomatdb_search.core_derived``'s combinations;
- measurements read by id as a result shows them: the SQL backend's hits and derived values'
  inputs;
- the materials of a dataset, as ``dataset = NAME`` and the dataset facet mean them: the SQL
  backend's filter and the in-memory index's.
"""

from __future__ import annotations

from sqlalchemy import (
    ColumnElement,
    Connection,
    and_,
    cast,
    column,
    exists,
    func,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)
from sqlalchemy.dialects.postgresql import TSQUERY

from biomatdb.models import BiologicalEvaluation, Dataset, Material, Measurement, Source
from biomatdb.searchtext import query_words
from biomatdb_search.contract import matched_measurement
from biomatdb_search.model import Interval, MatchedMeasurement

_FTS = table("materials_fts", column("rowid"), column("materials_fts"), column("rank"))


#: PostgreSQL's words of the search text: the words the core stored, as they are (the text search
#: parser and a dictionary would split and fold them again; migration 0024 indexes this expression)
PG_SEARCH_VECTOR = "array_to_tsvector(array_remove(string_to_array(coalesce(materials.search_text, ''), ' '), ''))"


def text_condition(dialect: str, query_text: str) -> ColumnElement[bool]:
    """Materials whose search text has every word of ``query_text`` as a prefix of one of its words.

    The words are ``biomatdb.searchtext.query_words``'s, and no index splits or folds them again:
    SQLite's full-text table splits on ASCII punctuation and spaces only (its ``ascii`` tokenizer,
    which a folded word never holds), PostgreSQL takes the stored words and the query's lexemes as
    they are (no parser, no dictionary)."""
    tokens = query_words(query_text)  # folded, as the search text holds them
    if not tokens:
        return true()
    if dialect == "postgresql":
        # a word is letters and digits only, so it needs no quoting inside the quotes
        tsquery = " & ".join(f"'{token}':*" for token in tokens)
        return literal_column(PG_SEARCH_VECTOR).op("@@")(cast(literal(tsquery), TSQUERY))
    match = " ".join(f'"{token}"*' for token in tokens)
    return Material.id.in_(select(_FTS.c.rowid).where(_FTS.c.materials_fts.op("MATCH")(match)))


def text_matches_any(connection: Connection, word: str) -> bool:
    """Some material's search text has a word that starts with ``word``: on SQLite, the
    full-text index asked directly, so that it stops at the first match (through
    ``materials.id IN (…)`` it read all 64,000 matches of "poly" first, 28 ms)."""
    if connection.dialect.name == "sqlite":
        match = " ".join(f'"{token}"*' for token in query_words(word))
        if not match:
            return True
        found = select(_FTS.c.rowid).where(_FTS.c.materials_fts.op("MATCH")(match)).limit(1)
        return connection.execute(found).first() is not None
    found = select(Material.id).where(text_condition(connection.dialect.name, word)).limit(1)
    return connection.execute(found).first() is not None


# --- a measurement's interval ---------------------------------------------------------


def uncertain_ends(low, high):
    """A measurement's ends widened by its uncertainty, for ``uncertainty=interval``: ``v ± u`` is
    [v − u, v + u]; a missing end (NULL) stays missing, a measurement without ``u`` stays as it is."""
    spread = func.abs(func.coalesce(Measurement.uncertainty, 0.0))
    return low - spread, high + spread


def interval_intersects(asked: Interval, uncertainty: str = "point") -> ColumnElement[bool]:
    """A measurement's interval meets the asked one. Its ends: ``value_min`` (NULL = −∞, open
    for ``>``) and ``value_max`` (NULL = +∞, open for ``<``); with ``uncertainty="interval"``,
    each widened by the measurement's uncertainty (``uncertain_ends``)."""
    low, high = Measurement.value_min, Measurement.value_max
    if uncertainty == "interval":
        low, high = uncertain_ends(low, high)
    return ends_intersect(asked, low, high, Measurement.qualifier == ">", Measurement.qualifier == "<")


def ends_intersect(asked: Interval, low, high, low_open, high_open) -> ColumnElement[bool]:
    """An interval stored as its ends (NULL: unbounded) and whether each is open meets the asked
    one; two ends that touch meet only when both are closed."""
    tests = []
    if asked.low is not None:
        above = high > asked.low
        if not asked.low_open:
            above = or_(above, and_(high == asked.low, not_(high_open)))
        tests.append(or_(high.is_(None), above))
    if asked.high is not None:
        below = low < asked.high
        if not asked.high_open:
            below = or_(below, and_(low == asked.high, not_(low_open)))
        tests.append(or_(low.is_(None), below))
    return and_(true(), *tests)


def interval_within(asked: Interval, uncertainty: str = "point") -> ColumnElement[bool]:
    """The measurement's whole interval lies within the asked one (``ends_within``).

    The ends are compared as ``value_min + 0``, an expression no index serves: given a bare
    ``value_min > x`` inside the per-material ``EXISTS``, SQLite's planner chose the
    ``(property_key, value_min, value_max)`` index over ``(material_id, property_key)`` and
    scanned every matching measurement of the property for each material (a certain
    ``glass_transition_temperature > 400 K`` ran for minutes at 100,000 materials). With
    ``uncertainty="interval"``, the ends are widened by the uncertainty (``uncertain_ends``)."""
    low, high = Measurement.value_min + 0, Measurement.value_max + 0
    if uncertainty == "interval":
        low, high = uncertain_ends(Measurement.value_min, Measurement.value_max)
    return ends_within(asked, low, high, Measurement.qualifier == ">", Measurement.qualifier == "<")


def ends_within(asked: Interval, low_end, high_end, low_open, high_open) -> ColumnElement[bool]:
    """An interval stored as its ends lies within the asked one: each asked end is met by the
    stored one, which is not missing (−∞ or +∞: NULL, which no comparison meets). Equal ends are
    within unless the asked end is open and the stored one closed (``>60`` is within ``> 60``;
    ``60`` is not)."""
    tests = []
    if asked.low is not None:
        touching = true() if not asked.low_open else low_open
        tests.append(or_(low_end > asked.low, and_(low_end == asked.low, touching)))
    if asked.high is not None:
        touching = true() if not asked.high_open else high_open
        tests.append(or_(high_end < asked.high, and_(high_end == asked.high, touching)))
    return and_(true(), *tests)


# --- measurements as a result shows them -----------------------------------------------


def measurement_rows(connection, ids: list[int]) -> dict[int, MatchedMeasurement]:
    """The measurements of these ids as a search result shows them, by id."""
    if not ids:
        return {}
    statement = (
        select(
            Measurement.__table__,
            Dataset.name.label("dataset_name"),
            Source.doi.label("doi"),
            Source.citation.label("citation"),
        )
        .join(Dataset, Dataset.id == Measurement.dataset_id)
        .outerjoin(Source, Source.id == Measurement.source_id)
        .where(Measurement.id.in_(ids))
    )
    return {row["id"]: matched_row(row) for row in connection.execute(statement).mappings()}


def matched_row(row) -> MatchedMeasurement:
    """A measurement row (with ``dataset_name``, ``doi``, ``citation``) as a search result shows it."""
    return matched_measurement(
        row,
        property_key=row["property_key"],
        dataset=row["dataset_name"],
        doi=row["doi"],
        citation=row["citation"],
        certainty=row.get("certainty"),
    )


def dataset_ids(name: str):
    """The ids of the datasets called ``name`` (case-insensitive), as a subquery."""
    return select(Dataset.id).where(func.lower(Dataset.name) == name.lower())


def of_dataset(name: str) -> ColumnElement[bool]:
    """The material belongs to dataset ``name``: the dataset gives it a measurement or a
    biological-evaluation record, as ``biomatdb.catalog.dataset_counts`` counts its materials
    (the About card and ``/datasets``)."""
    ids = dataset_ids(name)
    return or_(
        exists().where(Measurement.material_id == Material.id, Measurement.dataset_id.in_(ids)),
        exists().where(BiologicalEvaluation.material_id == Material.id, BiologicalEvaluation.dataset_id.in_(ids)),
    )


def evaluated_in(connection: Connection, name: str) -> list[int]:
    """The ids of the materials dataset ``name`` gives a biological-evaluation record of."""
    return list(
        connection.execute(
            select(BiologicalEvaluation.material_id)
            .where(BiologicalEvaluation.dataset_id.in_(dataset_ids(name)))
            .distinct()
        ).scalars()
    )
