"""The SQL backend: the query model translated with SQLAlchemy, for SQLite and PostgreSQL.

Every filter becomes a two-valued boolean over ``materials`` (never NULL, so that NOT is
exact): property filters are correlated ``EXISTS`` over ``measurements`` with the interval
test and the WHERE conditions on the same row. Facets are counted over the same filtered
id set as the results. Text search uses SQLite FTS5 or PostgreSQL full-text search over
``materials.search_text``, both as an AND of word prefixes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable
from typing import Any

import numpy as np
from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Engine,
    Integer,
    Select,
    and_,
    any_,
    case,
    column,
    delete,
    exists,
    false,
    func,
    insert,
    literal,
    literal_column,
    not_,
    or_,
    select,
    table,
    true,
)

from biomatdb.db import read_snapshot
from biomatdb.elements import zero_within
from biomatdb.models import (
    Dataset,
    Material,
    MaterialApplication,
    MaterialElement,
    MaterialElementBasis,
    Measurement,
    Source,
    has_value,
)
from biomatdb.searchtext import RELEVANCE_MAX, RELEVANCE_WEIGHTS, query_words
from biomatdb_search.contract import (
    FilterWalker,
    check_text_condition,
    checked,
    no_chemistry_index,
    temperature_window,
)
from biomatdb_search.core_derived import derived_exists, derived_sort_value, derived_values
from biomatdb_search.core_evidence import evidence_exists
from biomatdb_search.core_sql import (
    ends_intersect,
    ends_within,
    interval_intersects,
    interval_within,
    matched_row,
    of_dataset,
    text_condition,
)
from biomatdb_search.derived import sort_index
from biomatdb_search.facets import facet_index
from biomatdb_search.model import (
    And,
    Condition,
    Contains,
    DerivedFilter,
    ElementContent,
    Evidence,
    FacetValue,
    FieldFilter,
    Filter,
    HasProperty,
    Hit,
    MatchedMeasurement,
    Not,
    Or,
    PropertyFilter,
    Query,
    SearchResult,
    Similarity,
    Sort,
    Substructure,
    certain_first,
    encode_cursor,
)

# The ids a search matched, kept for the facets of the same request (SQLite: a connection's own
# temporary table, written without touching the database's write lock).
_MATCHED = table("temp_search_matched", column("id"))
_MATCHED_DDL = "CREATE TEMP TABLE IF NOT EXISTS temp_search_matched (id INTEGER PRIMARY KEY)"

Chemistry = Callable[[Substructure | Similarity], dict[int, float]]


def _not(expression: ColumnElement[bool]) -> ColumnElement[bool]:
    return not_(expression)


def _text_equals(column, value: str | float) -> ColumnElement[bool]:
    # lower() on both sides, never casefold(): casefold turns "ß" into "ss", which no database's
    # lower() does, so a value stored with "ß" could not be found even as written
    return and_(column.is_not(None), func.lower(column) == str(value).lower())


class SqlTranslator(FilterWalker[ColumnElement[bool]]):
    """Query model → SQLAlchemy expressions over ``materials``; one method per node kind."""

    def __init__(
        self, chemistry: Chemistry | None, dialect: str, match: str = "possible", uncertainty: str = "point"
    ) -> None:
        self.chemistry = chemistry
        self.dialect = dialect
        self.match = match
        self.uncertainty = uncertainty
        self.scores: dict[int, float] = {}

    def node_and(self, node: And) -> ColumnElement[bool]:
        """``expr AND expr``: every item holds."""
        return and_(*(self.filter(item) for item in node.items))

    def node_or(self, node: Or) -> ColumnElement[bool]:
        """``expr OR expr``: some item holds."""
        return or_(*(self.filter(item) for item in node.items))

    def node_not(self, node: Not) -> ColumnElement[bool]:
        """``NOT expr``: the item does not hold (every expression here is two-valued)."""
        return _not(self.filter(node.item))

    def node_property(self, node: PropertyFilter) -> ColumnElement[bool]:
        """``property OP value unit [WHERE conditions]``: one measurement satisfies all of it."""
        return exists().where(Measurement.material_id == Material.id, self.measurement_matches(node))

    def node_has(self, node: HasProperty) -> ColumnElement[bool]:
        """``has property``: at least one measurement of it with a value (a qualitative one is not counted)."""
        return exists().where(Measurement.material_id == Material.id, has_measurement(node))

    def node_field(self, node: FieldFilter) -> ColumnElement[bool]:
        """``class|application|biodegradable|origin|dataset|id (=|!=) value``."""
        if node.field == "class":
            holds = _text_equals(Material.material_class, node.value)
        elif node.field == "origin":
            holds = _text_equals(Material.origin, node.value)
        elif node.field == "id":
            holds = Material.public_id == str(node.value)
        elif node.field == "biodegradable":
            holds = and_(Material.biodegradable.is_not(None), Material.biodegradable == bool(node.value))
        elif node.field == "application":
            holds = exists().where(
                MaterialApplication.material_id == Material.id, MaterialApplication.application == str(node.value)
            )
        else:  # dataset: it gives the material a measurement or an evaluation record
            holds = of_dataset(str(node.value))
        return holds if node.op == "=" else _not(holds)

    def node_evidence(self, node: Evidence) -> ColumnElement[bool]:
        """``evidence(endpoint) [= outcome] [WHERE conditions]``: one record satisfies all of it."""
        return evidence_exists(node, self.match)

    def node_derived(self, node: DerivedFilter) -> ColumnElement[bool]:
        """``derived_comparison``/``derived_interval``: a combination of the material's measurements,
        one per property of the index, meets the interval (``biomatdb_search.core_derived``)."""
        return derived_exists(node, self.match, self.uncertainty)

    def node_substructure(self, node: Substructure) -> ColumnElement[bool]:
        """``substructure("SMARTS")``: resolved by the in-process RDKit index."""
        return self._chemistry(node)

    def node_similarity(self, node: Similarity) -> ColumnElement[bool]:
        """``similarity("SMILES") >= t``: resolved by the in-process RDKit index, with scores."""
        return self._chemistry(node)

    def node_contains(self, node: Contains) -> ColumnElement[bool]:
        """``contains: _CONTAINS "(" NAME ")"``: an element row of the material that may hold it
        (that surely does, for a certain match)."""
        presences = ("certain",) if self.match == "certain" else ("certain", "possible")
        return exists().where(
            MaterialElement.material_id == Material.id,
            MaterialElement.element == node.element,
            MaterialElement.presence.in_(presences),
        )

    def node_composition(self, node: ElementContent) -> ColumnElement[bool]:
        """``composition: _COMPOSITION_OF NAME OP NUMBER unit?`` and ``composition_interval``: the
        element's content on the basis meets the interval (lies within it, for a certain match);
        a complete composition that does not name the element has 0 of it."""
        element_row = and_(MaterialElement.element == node.element, MaterialElement.basis == node.basis)
        test = ends_within if self.match == "certain" else ends_intersect
        holds = exists().where(
            MaterialElement.material_id == Material.id,
            element_row,
            test(
                node.interval,
                MaterialElement.fraction_min,
                MaterialElement.fraction_max,
                MaterialElement.low_open,
                MaterialElement.high_open,
            ),
        )
        asked = node.interval
        if not zero_within(asked.low, asked.high, asked.low_open, asked.high_open):
            return holds
        complete = exists().where(
            MaterialElementBasis.material_id == Material.id, MaterialElementBasis.basis == node.basis
        )
        named = exists().where(MaterialElement.material_id == Material.id, element_row)
        return or_(holds, and_(complete, _not(named)))

    def _chemistry(self, node: Substructure | Similarity) -> ColumnElement[bool]:
        if self.chemistry is None:
            raise no_chemistry_index()
        found = self.chemistry(node)
        if isinstance(node, Similarity):
            for material_id, score in found.items():
                self.scores[material_id] = max(score, self.scores.get(material_id, 0.0))
        if not found:
            return false()
        if self.dialect == "postgresql":  # one array parameter: PostgreSQL takes at most 65,535 parameters
            return Material.id == any_(literal(sorted(found), ARRAY(Integer)))
        return Material.id.in_(sorted(found))

    # --- one measurement -----------------------------------------------------------------

    def measurement_matches(self, node: PropertyFilter) -> ColumnElement[bool]:
        """The row-level test of a property filter: property, a value, interval and conditions."""
        test = interval_within if self.match == "certain" else interval_intersects
        return and_(
            Measurement.property_key == node.property,
            has_value(),
            test(node.interval, self.uncertainty),
            *(condition(c) for c in node.where),
        )

    def measurement_certain(self, node: PropertyFilter) -> ColumnElement[bool]:
        """The measurement meets the filter and lies wholly within its interval."""
        return and_(
            Measurement.property_key == node.property,
            has_value(),
            interval_within(node.interval, self.uncertainty),
            *(condition(c) for c in node.where),
        )


def has_measurement(node: HasProperty) -> ColumnElement[bool]:
    """The row-level test of ``has property``: a measurement of it with a value."""
    return and_(Measurement.property_key == node.property, has_value())


def condition(c: Condition) -> ColumnElement[bool]:
    """``WHERE field OP value`` on the same measurement; ``!=`` also holds where it is not recorded."""
    if c.field == "temperature":
        t = Measurement.temperature_K
        low, high = temperature_window(float(c.value))
        known = t.is_not(None)
        if c.op == "=":
            return and_(known, t.between(low, high))
        if c.op == "!=":
            return or_(~known, t < low, t > high)
        compare = {"<": t < low, "<=": t <= high, ">": t > high, ">=": t >= low}[c.op]
        return and_(known, compare)
    holds: ColumnElement[bool]
    if c.field == "dataset":
        holds = Measurement.dataset_id.in_(select(Dataset.id).where(func.lower(Dataset.name) == str(c.value).lower()))
    elif c.field == "source":
        wanted = str(c.value).lower()
        # a measurement without a source is not from it: two-valued, so that ``!=`` holds there
        holds = and_(
            Measurement.source_id.is_not(None),
            Measurement.source_id.in_(
                select(Source.id).where(or_(func.lower(Source.doi) == wanted, func.lower(Source.citation) == wanted))
            ),
        )
    else:
        holds = _text_equals(getattr(Measurement, c.field), c.value)
    check_text_condition(c)
    return holds if c.op == "=" else _not(holds)


def positive_property_filters(node: Filter | None, negated: bool = False) -> list[PropertyFilter | HasProperty]:
    """The property filters whose matching measurements a hit shows (those not under NOT)."""
    if node is None:
        return []
    if isinstance(node, (And, Or)):
        return [f for item in node.items for f in positive_property_filters(item, negated)]
    if isinstance(node, Not):
        return positive_property_filters(node.item, not negated)
    if isinstance(node, (PropertyFilter, HasProperty)) and not negated:
        return [node]
    return []


class SqlBackend:
    """Answers a ``Query`` from the relational core (SQLite or PostgreSQL).

    With ``memory`` (a ``biomatdb_search.memory.MemoryIndexes``), a search whose connection reads the
    generation that an in-memory index was built at is answered from it; otherwise, and for a
    node that index does not evaluate, in SQL. ``wait_for_memory`` builds the index in the
    request instead of in the background (tests, benchmarks)."""

    def __init__(
        self, engine: Engine, chemistry: Chemistry | None = None, *, memory=None, wait_for_memory: bool = False
    ) -> None:
        self.engine = engine
        self.chemistry = chemistry
        self.dialect = engine.dialect.name
        self.memory = memory
        self.wait_for_memory = wait_for_memory

    # --- pieces ----------------------------------------------------------------------

    def _relevance(self, query_text: str) -> ColumnElement:
        """How the material's names match the query's words (``biomatdb.searchtext``'s weights):
        whole words of the shown name, of any name, prefixes of either; the same on every backend."""
        tokens = [
            token.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") for token in query_words(query_text)
        ]
        columns = {
            "name": func.coalesce(Material.search_name, literal(" ")),
            "names": func.coalesce(Material.search_names, literal(" ")),
        }
        score: ColumnElement[int] = literal(0)
        for kind, weight in RELEVANCE_WEIGHTS.items():
            exact, column = kind.split("_")
            patterns = [f"% {token} %" if exact == "exact" else f"% {token}%" for token in tokens]
            matches = and_(*(columns[column].like(pattern, escape="\\") for pattern in patterns))
            score = score + case((matches, weight), else_=0)
        return score

    def _name_order(self):
        key = Material.name_key.collate("C") if self.dialect == "postgresql" else Material.name_key
        return [key, Material.public_id.collate("C") if self.dialect == "postgresql" else Material.public_id]

    def _where(self, query: Query, translator: SqlTranslator) -> ColumnElement[bool]:
        parts = []
        if query.text:
            parts.append(text_condition(self.dialect, query.text))
        if query.filter is not None:
            parts.append(translator.filter(query.filter))
        return and_(true(), *parts)

    def _ordered(
        self, statement: Select, query: Query, sort: Sort | None, certain: ColumnElement[bool] | None = None
    ) -> Select:
        if sort is None:
            if query.text and query_words(query.text):  # text without a word matches everything: no relevance
                first = [] if certain is None else [case((certain, 0), else_=1)]
                return statement.order_by(*first, self._relevance(query.text).desc(), *self._name_order())
            return statement.order_by(*self._name_order())
        if sort.key == "name":
            order = self._name_order()
            if sort.descending:
                order = [o.desc() for o in order]
            return statement.order_by(*order)
        index = sort_index(sort.key)
        if index is not None:  # a derived index: over each material's combinations of measurements
            value = derived_sort_value(index.terms, sort.descending).label("extreme")
        else:
            extreme: ColumnElement[float]
            if sort.descending:
                extreme = func.max(func.coalesce(Measurement.value_max, Measurement.value_min))
            else:
                extreme = func.min(func.coalesce(Measurement.value_min, Measurement.value_max))
            # each matching material's extreme, looked up through (material_id, property_key): a
            # GROUP BY over every measurement of the property, joined, cost 2.3 times as much
            value = (
                select(extreme)
                .where(Measurement.material_id == Material.id, Measurement.property_key == sort.key)
                .correlate(Material)
                .scalar_subquery()
                .label("extreme")
            )
        statement = statement.add_columns(value)
        ordered: ColumnElement[Any] = literal_column("extreme")
        return statement.order_by(
            (ordered.desc() if sort.descending else ordered.asc()).nulls_last(), *self._name_order()
        )

    # --- the search ------------------------------------------------------------------

    def search(self, query: Query) -> SearchResult:
        from biomatdb_search.spelling import respell

        typed = query  # a cursor is bound to the text as typed: a load may change what it is respelled to
        with self.engine.connect() as connection:
            read_snapshot(connection)  # the total, the page and its rows all of one state of the core
            found = checked(typed, connection, self.engine)
            index = None
            if self.memory is not None:
                index = self.memory.current(self.engine, connection, wait=self.wait_for_memory)
            query, spelling = respell(self.engine, query, words=index.text.words if index is not None else None)
            result = self._search(connection, index, typed, query, spelling, found.offset, found.sort)
        return result.model_copy(update={"notes": found.notes}) if found.notes else result

    def _search(
        self,
        connection,
        index,
        typed: Query,
        query: Query,
        spelling: dict[str, str],
        offset: int,
        sort: Sort | None,
    ) -> SearchResult:
        if sort is not None and sort.key == "relevance":
            sort = None
        answer = None
        if index is not None:
            from biomatdb_search.memory import Unsupported

            try:
                answer = self._from_memory(connection, index, query, sort, offset)
            except Unsupported:
                answer = None
        if answer is None:
            answer = self._from_sql(connection, query, sort, offset)
        total, page_ids, facets, scores = answer
        hits = self._hits(connection, page_ids, query, scores)
        if connection.in_transaction():
            connection.rollback()  # the temporary rows go with it
        next_offset = offset + query.limit
        next_cursor = encode_cursor(typed, next_offset) if next_offset < total else None
        return SearchResult(results=hits, facets=facets, total=total, next_cursor=next_cursor, spelling=spelling)

    def _from_sql(self, connection, query: Query, sort: Sort | None, offset: int):
        """The total, the page's material ids, the facets and the similarity scores, in SQL."""
        chemistry = _Once(self.chemistry) if self.chemistry is not None else None
        translator = SqlTranslator(chemistry, self.dialect, query.match, query.uncertainty)
        where = self._where(query, translator)
        by_similarity = (sort is not None and sort.key == "similarity") or (
            sort is None and not query.text and translator.scores
        )
        facets: dict[str, list[FacetValue]] = {}
        if query.facets:
            if self.dialect == "sqlite" and (query.text or query.filter is not None):
                # the filter runs once, then the page reads the ids it kept
                where = self._materialise(connection, where)
            matched = np.fromiter(connection.execute(select(Material.id).where(where)).scalars(), dtype=np.int64)
            total = len(matched)
            facets = facet_index(connection, self.engine).count(matched, query.facets)
        else:
            total = connection.execute(select(func.count()).select_from(Material).where(where)).scalar_one()
        if by_similarity:
            rows = connection.execute(select(Material.id, Material.name_key, Material.public_id).where(where)).all()
            rows.sort(key=lambda r: (-translator.scores.get(r.id, 0.0), r.name_key, r.public_id))
            page_ids = [r.id for r in rows[offset : offset + query.limit]]
        else:
            certain = None
            if query.filter is not None and certain_first(query, sort):
                certain = SqlTranslator(chemistry, self.dialect, "certain", query.uncertainty).filter(query.filter)
            statement = self._ordered(select(Material.id).where(where), query, sort, certain)
            page_ids = list(connection.execute(statement.limit(query.limit).offset(offset)).scalars())
        return total, page_ids, facets, translator.scores

    def _from_memory(self, connection, index, query: Query, sort: Sort | None, offset: int):
        """The same as ``_from_sql``, from the in-memory index of the generation ``connection`` reads."""
        from biomatdb_search.memory import Evaluator

        chemistry = _Once(self.chemistry) if self.chemistry is not None else None
        evaluator = Evaluator(index, connection, chemistry, query.match, query.uncertainty)
        mask = np.ones(index.size, dtype=bool)
        words = bool(query.text and query_words(query.text))
        if words:
            mask &= index.text_matches(query.text)
        if query.filter is not None:
            mask &= evaluator.filter(query.filter)
        matched = np.flatnonzero(mask)
        total = len(matched)
        facets = (
            facet_index(connection, self.engine).count(index.material_ids[matched], query.facets)
            if query.facets
            else {}
        )
        by_similarity = (sort is not None and sort.key == "similarity") or (
            sort is None and not query.text and evaluator.scored.any()
        )
        if offset >= total:
            page: np.ndarray = matched[:0]
        elif by_similarity:
            page = matched[np.lexsort((index.name_rank[matched], -evaluator.score[matched]))]
        elif sort is None and words:
            relevance = index.relevance(query.text)
            keys = [index.name_rank[matched], -relevance[matched]]
            if query.filter is not None and certain_first(query, sort):
                certain = Evaluator(index, connection, chemistry, "certain", query.uncertainty).filter(query.filter)
                keys.append(~certain[matched])
            page = matched[np.lexsort(keys)]
        elif sort is None or sort.key == "name":
            page = index.name_order[mask[index.name_order]]
            if sort is not None and sort.descending:
                page = page[::-1]
        else:
            extreme = index.extreme(sort.key, sort.descending)[matched]
            missing = np.isnan(extreme)
            value = np.where(missing, 0.0, -extreme if sort.descending else extreme)
            page = matched[np.lexsort((index.name_rank[matched], value, missing))]
        page = page[offset : offset + query.limit]
        return total, index.material_ids[page].tolist(), facets, evaluator.scores_of(page)

    def _materialise(self, connection, where: ColumnElement[bool]) -> ColumnElement[bool]:
        """The matching ids into this connection's temporary table, inside a transaction that the
        search rolls back when it is done; the condition that reads them back."""
        connection.exec_driver_sql(_MATCHED_DDL)
        connection.execute(delete(_MATCHED))
        connection.execute(insert(_MATCHED).from_select(["id"], select(Material.id).where(where)))
        return Material.id.in_(select(_MATCHED.c.id))

    def _hits(self, connection, page_ids: list[int], query: Query, scores: dict[int, float]) -> list[Hit]:
        if not page_ids:
            return []
        materials = {
            row.id: row
            for row in connection.execute(
                select(
                    Material.id, Material.public_id, Material.name, Material.material_class.label("material_class")
                ).where(Material.id.in_(page_ids))
            )
        }
        shown: dict[int, list[MatchedMeasurement]] = defaultdict(list)
        filters = positive_property_filters(query.filter)
        if filters:
            translator = SqlTranslator(None, self.dialect, query.match, query.uncertainty)
            tests = [
                translator.measurement_matches(f) if isinstance(f, PropertyFilter) else has_measurement(f)
                for f in filters
            ]
            # a measurement shown for a property filter is certain or possible; one shown only for ``has``, neither
            by_property = [f for f in filters if isinstance(f, PropertyFilter)]
            certainty: ColumnElement[Any] = literal(None)
            if by_property:
                certainty = case(
                    (or_(*(translator.measurement_certain(f) for f in by_property)), literal("certain")),
                    (or_(*(translator.measurement_matches(f) for f in by_property)), literal("possible")),
                    else_=literal(None),
                )
            statement = (
                select(
                    Measurement.__table__,
                    Dataset.name.label("dataset_name"),
                    Source.doi.label("doi"),
                    Source.citation.label("citation"),
                    certainty.label("certainty"),
                )
                .join(Dataset, Dataset.id == Measurement.dataset_id)
                .outerjoin(Source, Source.id == Measurement.source_id)
                .where(Measurement.material_id.in_(page_ids), or_(*tests))
                .order_by(Measurement.property_key, Measurement.id)
            )
            for row in connection.execute(statement).mappings():
                shown[row["material_id"]].append(matched_row(row))
        derived = derived_values(connection, page_ids, query)
        scores = dict(scores)
        if query.text and query_words(query.text):
            for material_id, relevance in connection.execute(
                select(Material.id, self._relevance(query.text)).where(Material.id.in_(page_ids))
            ):
                scores.setdefault(material_id, round(relevance / RELEVANCE_MAX, 6))
        return [
            Hit(
                id=materials[i].public_id,
                name=materials[i].name,
                material_class=materials[i].material_class,
                score=scores.get(i),
                measurements=shown[i],
                derived=derived.get(i, []),
            )
            for i in page_ids
        ]


class _Once:
    """A chemistry index that answers each node once per search: a filter evaluated twice (once
    as asked, once for certainty) runs its substructure search once."""

    def __init__(self, chemistry) -> None:
        self.chemistry = chemistry
        self._found: dict = {}
        self._arrays: dict = {}

    def __call__(self, node):
        if node not in self._found:
            self._found[node] = self.chemistry(node)
        return self._found[node]

    def arrays(self, node):
        if node not in self._arrays:
            arrays = getattr(self.chemistry, "arrays", None)
            if arrays is None:
                found = self(node)
                self._arrays[node] = (
                    np.fromiter(found, dtype=np.int64, count=len(found)),
                    np.fromiter(found.values(), dtype=float, count=len(found)),
                )
            else:
                self._arrays[node] = arrays(node)
        return self._arrays[node]
