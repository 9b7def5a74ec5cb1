"""The SQL backend's in-memory index: every material's searchable fields and every
measurement's interval and conditions as numpy columns, kept per generation of the core.

A search over SQL pays for each material it tests: at 100,000 materials a range matching
37,000 of them costs 80 ms for the ``EXISTS`` alone, and as much again for the exact total,
before a page is read. Over columns, a property filter tests only that property's slice of the
measurements (sorted by property, then material) and a whole filter tree is a few boolean
operations over arrays of one element per material. The page's rows, the matched measurements
and the facets are still read from the core, on the search's own connection.

The semantics are those of ``biomatdb_search.backends.sql`` (and so of every backend): a property filter
holds when one measurement of the property with a value meets the asked interval and every
WHERE condition; open and closed ends as ``interval_intersects`` says; text as an AND of word
prefixes over the words ``biomatdb.searchtext`` stores, relevance by its weights. The parity
suite runs every query through both this index and SQL and asserts the same answers.

An index is used only when it was built at the generation the search's connection reads; when
the core has moved on, the search runs in SQL while a thread builds the new index, so that no
request waits for a build.
"""

from __future__ import annotations

import bisect
import logging
import math
import threading
import weakref
from dataclasses import dataclass, field
from itertools import chain
from typing import Any

import numpy as np
import pandas as pd
from sqlalchemy import Engine, case, func, literal, or_, select

from biomatdb.db import core_generation, read_snapshot
from biomatdb.elements import BASES, Basis, zero_within
from biomatdb.indices import Ends, product_ends, term_ends
from biomatdb.models import (
    QUALITATIVE,
    Dataset,
    Material,
    MaterialApplication,
    MaterialElement,
    MaterialElementBasis,
    Measurement,
    Source,
)
from biomatdb.searchtext import RELEVANCE_WEIGHTS, query_words
from biomatdb_search.contract import (
    TEXT_CONDITION_FIELDS,
    FilterWalker,
    check_text_condition,
    no_chemistry_index,
    temperature_window,
)
from biomatdb_search.core_sql import evaluated_in
from biomatdb_search.derived import sort_index
from biomatdb_search.facets import locate
from biomatdb_search.model import (
    And,
    Condition,
    Contains,
    DerivedFilter,
    ElementContent,
    Evidence,
    FieldFilter,
    HasProperty,
    Interval,
    Not,
    Or,
    PropertyFilter,
    Similarity,
    Substructure,
)

log = logging.getLogger("biomatdb.search.memory")

_TEXT_CONDITIONS = TEXT_CONDITION_FIELDS
#: Most derived indices whose combinations of measurements an index keeps (the named ones, first asked).
CACHED_COMBINATIONS = 8


@dataclass(frozen=True)
class Words:
    """An inverted index: the distinct words in sorted order, and for each the positions of the
    materials that have it (CSR), so that every word with a prefix is one contiguous run."""

    words: list[str]
    indptr: np.ndarray
    rows: np.ndarray
    size: int

    @classmethod
    def build(cls, texts: list[str | None]) -> Words:
        split = [text.split() if text else [] for text in texts]
        rows = np.repeat(
            np.arange(len(texts), dtype=np.int64), np.fromiter(map(len, split), dtype=np.int64, count=len(split))
        )
        codes, uniques = pd.factorize(np.array(list(chain.from_iterable(split)), dtype=object))
        alphabetical = sorted(range(len(uniques)), key=uniques.__getitem__)
        words = [uniques[i] for i in alphabetical]
        rank = np.empty(len(uniques), dtype=np.int64)  # first-seen code -> place in sorted order
        rank[alphabetical] = np.arange(len(words))
        sorted_codes = rank[codes]
        order = np.argsort(sorted_codes, kind="stable")
        indptr = np.searchsorted(sorted_codes[order], np.arange(len(words) + 1))
        return cls(words=words, indptr=indptr, rows=rows[order], size=len(texts))

    def _run(self, low: int, high: int) -> np.ndarray:
        mask = np.zeros(self.size, dtype=bool)
        mask[self.rows[self.indptr[low] : self.indptr[high]]] = True
        return mask

    def exact(self, word: str) -> np.ndarray:
        """The materials with the word, whole."""
        low = bisect.bisect_left(self.words, word)
        high = low + 1 if low < len(self.words) and self.words[low] == word else low
        return self._run(low, high)

    def prefix(self, word: str) -> np.ndarray:
        """The materials with a word that starts with ``word``."""
        low = bisect.bisect_left(self.words, word)
        high = bisect.bisect_left(self.words, word[:-1] + chr(ord(word[-1]) + 1)) if word else len(self.words)
        return self._run(low, high)


@dataclass(frozen=True)
class Codes:
    """A text column as integer codes (-1: not recorded) of its values as the database's own
    ``lower()`` gave them, so that ``equals`` compares exactly as the SQL backend's
    ``lower(column) = value.lower()``: SQLite's lower() folds ASCII letters only, PostgreSQL's
    by its ctype, and a copy in Python would differ from either."""

    codes: np.ndarray
    index: dict[str, int]

    @classmethod
    def build(cls, lowered) -> Codes:
        raw_codes, uniques = pd.factorize(pd.Series(lowered, dtype=object), use_na_sentinel=True)
        index = {str(value): code for code, value in enumerate(uniques)}
        return cls(codes=raw_codes.astype(np.int32), index=index)

    def known(self) -> np.ndarray:
        return self.codes >= 0

    def equals(self, value: str) -> np.ndarray:
        code = self.index.get(str(value).lower())
        if code is None:
            return np.zeros(len(self.codes), dtype=bool)
        return self.codes == code


_PRESENCES = ["certain", "possible", "absent"]
_BASIS_CODE: dict[str | None, int] = {None: 0, **{basis: i for i, basis in enumerate(BASES, start=1)}}


@dataclass(frozen=True)
class Elements:
    """``material_elements`` in columns, sorted by element, then material position, and the
    complete bases (``material_element_bases``) as one mask per basis."""

    slices: dict[str, tuple[int, int]]
    position: np.ndarray
    basis: np.ndarray  # ``_BASIS_CODE``
    low: np.ndarray  # NaN: no end
    high: np.ndarray
    low_open: np.ndarray
    high_open: np.ndarray
    presence: np.ndarray  # codes of ``_PRESENCES``
    complete: dict[Basis, np.ndarray]

    @classmethod
    def build(cls, connection, positions, size: int) -> Elements:
        e = MaterialElement
        rows = connection.execute(
            select(
                e.material_id, e.element, e.basis, e.fraction_min, e.fraction_max, e.low_open, e.high_open, e.presence
            )
        ).all()
        columns = list(zip(*rows, strict=True)) if rows else [()] * 8
        element_codes, symbols = pd.factorize(np.array(columns[1], dtype=object), sort=True)
        position = positions(columns[0])
        order = np.lexsort((position, element_codes))
        bounds = np.searchsorted(element_codes[order], np.arange(len(symbols) + 1))

        def floats(values) -> np.ndarray:
            return np.array([np.nan if v is None else v for v in values], dtype=float)[order]

        complete = {basis: np.zeros(size, dtype=bool) for basis in BASES}
        for basis in BASES:
            ids = connection.execute(
                select(MaterialElementBasis.material_id).where(MaterialElementBasis.basis == basis)
            ).scalars()
            complete[basis][positions(np.fromiter(ids, dtype=np.int64))] = True
        return cls(
            slices={str(symbol): (int(bounds[i]), int(bounds[i + 1])) for i, symbol in enumerate(symbols)},
            position=np.asarray(position, dtype=np.int64)[order],
            basis=np.array([_BASIS_CODE.get(b, -1) for b in columns[2]], dtype=np.int8)[order],
            low=floats(columns[3]),
            high=floats(columns[4]),
            low_open=np.array(columns[5], dtype=bool)[order],
            high_open=np.array(columns[6], dtype=bool)[order],
            presence=np.array([_PRESENCES.index(p) for p in columns[7]], dtype=np.int8)[order],
            complete=complete,
        )


@dataclass
class MemoryIndex:
    """One generation of the core, in columns. Positions are indexes into ``material_ids``."""

    generation: int
    material_ids: np.ndarray  # sorted
    public_ids: dict[str, int]
    name_order: np.ndarray  # positions by (name_key, public_id), as the SQL backend orders names
    name_rank: np.ndarray
    material_class: Codes
    origin: Codes
    biodegradable: np.ndarray  # -1 not recorded, 0, 1
    applications: dict[str, np.ndarray]
    # measurements, sorted by property, then material position
    slices: dict[str, tuple[int, int]]
    position: np.ndarray
    has_value: np.ndarray
    qualifier: np.ndarray  # codes of ``_QUALIFIERS``
    value_min: np.ndarray  # NaN: no end (−∞)
    value_max: np.ndarray  # NaN: no end (+∞)
    uncertainty: np.ndarray  # |u|, 0: none (``uncertainty=interval`` widens the ends by it)
    temperature: np.ndarray  # NaN: not recorded
    conditions: dict[str, Codes]
    dataset_id: np.ndarray
    source_id: np.ndarray  # -1: none
    text: Words
    name_words: Words
    names_words: Words
    elements: Elements
    _extremes: dict[tuple[str, bool], np.ndarray] = field(default_factory=dict)
    _combinations: dict[tuple, tuple[np.ndarray, Ends]] = field(default_factory=dict)

    @property
    def size(self) -> int:
        return len(self.material_ids)

    def nbytes(self) -> int:
        """The arrays' bytes (the word lists and dictionaries not counted)."""
        arrays = [value for value in vars(self).values() if isinstance(value, np.ndarray)]
        for words in (self.text, self.name_words, self.names_words):
            arrays += [words.indptr, words.rows]
        arrays += [codes.codes for codes in (self.material_class, self.origin, *self.conditions.values())]
        arrays += list(self.applications.values())
        arrays += [value for value in vars(self.elements).values() if isinstance(value, np.ndarray)]
        arrays += list(self.elements.complete.values())
        return sum(array.nbytes for array in arrays)

    def locate(self, material_ids: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The positions of those ids that are materials of this generation, and which ids those are."""
        return locate(self.material_ids, material_ids)

    # --- text ----------------------------------------------------------------------------

    def text_matches(self, text: str) -> np.ndarray:
        """Every word of the text is a prefix of a word of the material's search text."""
        mask = np.ones(self.size, dtype=bool)
        for word in query_words(text):
            mask &= self.text.prefix(word)
        return mask

    def relevance(self, text: str) -> np.ndarray:
        """``biomatdb.searchtext``'s weights, summed per material, as the SQL backend's ``LIKE`` tests sum them."""
        words = query_words(text)
        score = np.zeros(self.size, dtype=np.int64)
        for kind, weight in RELEVANCE_WEIGHTS.items():
            exact, column = kind.split("_")
            index = self.name_words if column == "name" else self.names_words
            matches = np.ones(self.size, dtype=bool)
            for word in words:
                matches &= index.exact(word) if exact == "exact" else index.prefix(word)
            score += weight * matches
        return score

    # --- sorting by a property -----------------------------------------------------------

    def combinations(self, terms: tuple[tuple[str, float], ...], uncertainty: str = "point") -> tuple[np.ndarray, Ends]:
        """Every combination of one measurement per term, of one material, that can enter the index
        (``biomatdb_search.core_derived.Combination``): the material positions and the derived ends
        (``biomatdb.indices``), NaN where unbounded; ``uncertainty="interval"``: each input
        ``v ± u`` as [v − u, v + u]."""
        cached = self._combinations.get((terms, uncertainty))
        if cached is not None:
            return cached
        rows_of = []
        for key, _ in terms:
            start, stop = self.slices.get(key, (0, 0))
            rows_of.append(start + np.flatnonzero(self.has_value[start:stop]))
        picked = [rows_of[0]]
        positions = self.position[rows_of[0]]
        for rows in rows_of[1:]:  # join on the material: both sides sorted by position
            theirs = self.position[rows]
            left = np.searchsorted(theirs, positions, "left")
            counts = np.searchsorted(theirs, positions, "right") - left
            mine = np.repeat(np.arange(len(positions)), counts)
            offsets = np.arange(int(counts.sum())) - np.repeat(np.cumsum(counts) - counts, counts)
            picked = [chosen[mine] for chosen in picked] + [rows[np.repeat(left, counts) + offsets]]
            positions = positions[mine]
        qualifier = self.qualifier
        widen = uncertainty == "interval"  # v ± u as [v − u, v + u], as ``biomatdb_search.core_derived.Term``
        ends, defined = product_ends(
            [
                term_ends(
                    exponent,
                    self.value_min[rows] - (self.uncertainty[rows] if widen else 0.0),
                    self.value_max[rows] + (self.uncertainty[rows] if widen else 0.0),
                    qualifier[rows] == _QUALIFIER_CODE[">"],
                    qualifier[rows] == _QUALIFIER_CODE["<"],
                )
                for (_, exponent), rows in zip(terms, picked, strict=True)
            ]
        )
        found = positions[defined], tuple(end[defined] for end in ends)
        if len(self._combinations) < CACHED_COMBINATIONS:  # ad-hoc expressions must not fill memory
            self._combinations[(terms, uncertainty)] = found
        return found

    def derived_extreme(self, terms: tuple[tuple[str, float], ...], descending: bool) -> np.ndarray:
        """Each material's sort key over its combinations, as ``biomatdb_search.core_derived``'s
        ``derived_sort_value``, NaN without one."""
        positions, (low, high, _, _) = self.combinations(terms)
        with np.errstate(invalid="ignore"):
            if descending:
                keys = np.where(~np.isnan(high), high, np.where(low > 0, low, np.nan))
            else:
                keys = np.where(low > 0, low, high)
        out = np.full(self.size, np.nan)
        (np.fmax if descending else np.fmin).at(out, positions, keys)
        return out

    def extreme(self, key: str, descending: bool) -> np.ndarray:
        """Each material's highest (descending) or lowest value of the property, NaN without one;
        over every measurement of it, as the SQL backend's ``max(coalesce(value_max, value_min))``.
        A derived index's key (``biomatdb_search.derived.sort_index``): over its combinations."""
        cached = self._extremes.get((key, descending))
        if cached is not None:
            return cached
        index = sort_index(key)
        if index is not None:
            out = self.derived_extreme(index.terms, descending)
            if index.named:  # an ad-hoc expression's keys are not kept: there is no end to them
                self._extremes[(key, descending)] = out
            return out
        out = np.full(self.size, np.nan)
        start, stop = self.slices.get(key, (0, 0))
        if stop > start:
            low, high = self.value_min[start:stop], self.value_max[start:stop]
            values = np.where(np.isnan(high), low, high) if descending else np.where(np.isnan(low), high, low)
            positions = self.position[start:stop]
            first = np.flatnonzero(np.r_[True, positions[1:] != positions[:-1]])
            reduce = np.fmax if descending else np.fmin
            out[positions[first]] = reduce.reduceat(values, first)
        self._extremes[(key, descending)] = out
        return out


_QUALIFIERS = ["=", "~", ">", ">=", "<", "<=", "range", QUALITATIVE]
_QUALIFIER_CODE = {q: i for i, q in enumerate(_QUALIFIERS)}


_MEASUREMENT_ROW = np.dtype(
    [
        ("id", "i8"),
        ("material_id", "i8"),
        ("property_key", "O"),
        ("qualifier", "i1"),
        ("value_min", "f8"),
        ("value_max", "f8"),
        ("uncertainty", "f8"),
        ("temperature", "f8"),
        ("dataset_id", "i8"),
        ("source_id", "i8"),
    ]
)


def _raw(connection, statement) -> Any:
    """A DBAPI cursor over ``statement``, on the connection's own transaction: rows as plain
    tuples, read straight into numpy (SQLAlchemy's rows, then a DataFrame of them, cost 9 times
    as much at 1,000,000 measurements)."""
    compiled = statement.compile(dialect=connection.dialect, compile_kwargs={"render_postcompile": True})
    cursor = connection.connection.cursor()
    parameters = compiled.params
    if compiled.positiontup is not None:
        parameters = tuple(parameters[name] for name in compiled.positiontup)
    cursor.execute(str(compiled), parameters)
    return cursor


def build(connection, generation: int) -> MemoryIndex:
    """From one connection, inside one read snapshot (``read_snapshot``), so that every column is
    of ``generation``."""
    cursor = _raw(
        connection,
        select(
            Material.id,
            Material.public_id,
            Material.name_key,
            func.lower(Material.material_class),
            func.lower(Material.origin),
            Material.biodegradable,
            Material.search_text,
            Material.search_name,
            Material.search_names,
        ).order_by(Material.id),
    )
    try:
        materials = cursor.fetchall()
    finally:
        cursor.close()
    columns = list(zip(*materials, strict=True)) if materials else [()] * 9
    material_ids = np.array(columns[0], dtype=np.int64)
    size = len(material_ids)
    keys = list(zip((key or "" for key in columns[2]), columns[1], strict=True))
    name_order = np.array(sorted(range(size), key=keys.__getitem__), dtype=np.int64)
    name_rank = np.empty(size, dtype=np.int64)
    name_rank[name_order] = np.arange(size)
    biodegradable = np.array([-1 if value is None else int(bool(value)) for value in columns[5]], dtype=np.int8)

    def positions(ids) -> np.ndarray:
        return np.searchsorted(material_ids, np.asarray(ids, dtype=np.int64))

    applications: dict[str, list[int]] = {}
    for material_id, application in connection.execute(
        select(MaterialApplication.material_id, MaterialApplication.application)
    ):
        applications.setdefault(application, []).append(material_id)

    qualifier = case(*((Measurement.qualifier == q, i) for i, q in enumerate(_QUALIFIERS)), else_=-1)
    cursor = _raw(
        connection,
        select(
            Measurement.id,
            Measurement.material_id,
            Measurement.property_key,
            qualifier,
            func.coalesce(Measurement.value_min, literal(-math.inf)),
            func.coalesce(Measurement.value_max, literal(math.inf)),
            func.abs(func.coalesce(Measurement.uncertainty, literal(0.0))),
            func.coalesce(Measurement.temperature_K, literal(-math.inf)),
            Measurement.dataset_id,
            func.coalesce(Measurement.source_id, literal(-1)),
        ),
    )
    try:
        rows = np.fromiter(cursor, dtype=_MEASUREMENT_ROW)
    finally:
        cursor.close()
    property_codes, properties = pd.factorize(rows["property_key"], sort=True)
    position = positions(rows["material_id"])
    order = np.lexsort((position, property_codes))
    rows, property_codes, position = rows[order], property_codes[order], position[order]
    bounds = np.searchsorted(property_codes, np.arange(len(properties) + 1))
    slices = {str(key): (int(bounds[i]), int(bounds[i + 1])) for i, key in enumerate(properties)}

    def ends(values: np.ndarray) -> np.ndarray:  # the stored NULL, read as an infinite sentinel, as NaN
        values = values.copy()
        values[np.isinf(values)] = np.nan
        return values

    # the text conditions, recorded on a few measurements each: read where they are, placed by id
    conditions = {name: np.full(len(rows), None, dtype=object) for name in _TEXT_CONDITIONS}
    by_id = np.argsort(rows["id"])
    cursor = _raw(
        connection,
        select(Measurement.id, *(func.lower(getattr(Measurement, name)) for name in _TEXT_CONDITIONS)).where(
            or_(*(getattr(Measurement, name).is_not(None) for name in _TEXT_CONDITIONS))
        ),
    )
    try:
        recorded = cursor.fetchall()
    finally:
        cursor.close()
    if recorded:
        recorded_columns = list(zip(*recorded, strict=True))
        where = by_id[np.searchsorted(rows["id"][by_id], np.array(recorded_columns[0], dtype=np.int64))]
        for i, name in enumerate(_TEXT_CONDITIONS, start=1):
            conditions[name][where] = recorded_columns[i]

    return MemoryIndex(
        generation=generation,
        material_ids=material_ids,
        public_ids={public_id: i for i, public_id in enumerate(columns[1])},
        name_order=name_order,
        name_rank=name_rank,
        material_class=Codes.build(list(columns[3])),
        origin=Codes.build(list(columns[4])),
        biodegradable=biodegradable,
        applications={app: np.unique(positions(ids)) for app, ids in applications.items()},
        slices=slices,
        position=position.astype(np.int32),
        has_value=rows["qualifier"] != _QUALIFIER_CODE[QUALITATIVE],
        qualifier=rows["qualifier"],
        value_min=ends(rows["value_min"]),
        value_max=ends(rows["value_max"]),
        uncertainty=rows["uncertainty"].copy(),
        temperature=ends(rows["temperature"]),
        conditions={name: Codes.build(values) for name, values in conditions.items()},
        dataset_id=rows["dataset_id"].astype(np.int32),
        source_id=rows["source_id"].astype(np.int32),
        text=Words.build(list(columns[6])),
        name_words=Words.build(list(columns[7])),
        names_words=Words.build(list(columns[8])),
        elements=Elements.build(connection, positions, size),
    )


class Unsupported(Exception):
    """A filter node this index does not evaluate: the search runs in SQL."""


class Evaluator(FilterWalker[np.ndarray]):
    """A filter tree → a boolean mask over the index's materials, one method per node kind."""

    def __init__(
        self, index: MemoryIndex, connection, chemistry, match: str = "possible", uncertainty: str = "point"
    ) -> None:
        self.index = index
        self.match = match
        self.uncertainty = uncertainty
        self.connection = connection  # for the small tables a condition names: datasets, sources
        self.chemistry = chemistry
        self.score = np.zeros(index.size)  # similarity, the highest of the query's similarity nodes
        self.scored = np.zeros(index.size, dtype=bool)

    def scores_of(self, positions: np.ndarray) -> dict[int, float]:
        """``{material id: similarity}`` of those positions that a similarity node scored."""
        positions = positions[self.scored[positions]]
        return dict(zip(self.index.material_ids[positions].tolist(), self.score[positions].tolist(), strict=True))

    def node_and(self, node: And) -> np.ndarray:
        mask = np.ones(self.index.size, dtype=bool)
        for item in node.items:
            mask &= self.filter(item)
        return mask

    def node_or(self, node: Or) -> np.ndarray:
        mask = np.zeros(self.index.size, dtype=bool)
        for item in node.items:
            mask |= self.filter(item)
        return mask

    def node_not(self, node: Not) -> np.ndarray:
        return ~self.filter(node.item)

    def _materials_of(self, start: int, rows: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.index.size, dtype=bool)
        mask[self.index.position[start + np.flatnonzero(rows)]] = True
        return mask

    def node_property(self, node: PropertyFilter) -> np.ndarray:
        start, stop = self.index.slices.get(node.property, (0, 0))
        index = self.index
        test = interval_within if self.match == "certain" else interval_intersects
        low, high = index.value_min[start:stop], index.value_max[start:stop]
        if self.uncertainty == "interval":  # v ± u as [v − u, v + u]: biomatdb_search.core_sql.uncertain_ends
            spread = index.uncertainty[start:stop]
            low, high = low - spread, high + spread
        rows = index.has_value[start:stop] & test(node.interval, low, high, index.qualifier[start:stop])
        for c in node.where:
            if not rows.any():
                break
            rows &= self.condition(c, start, stop)
        return self._materials_of(start, rows)

    def node_has(self, node: HasProperty) -> np.ndarray:
        start, stop = self.index.slices.get(node.property, (0, 0))
        return self._materials_of(start, self.index.has_value[start:stop])

    def node_field(self, node: FieldFilter) -> np.ndarray:
        index = self.index
        if node.field == "class":
            holds = index.material_class.equals(str(node.value))
        elif node.field == "origin":
            holds = index.origin.equals(str(node.value))
        elif node.field == "id":
            holds = np.zeros(index.size, dtype=bool)
            if (position := index.public_ids.get(str(node.value))) is not None:
                holds[position] = True
        elif node.field == "biodegradable":
            holds = index.biodegradable == int(bool(node.value))
        elif node.field == "application":
            holds = np.zeros(index.size, dtype=bool)
            holds[index.applications.get(str(node.value), np.zeros(0, np.int64))] = True
        else:  # dataset: it gives the material a measurement or an evaluation record (core_sql.of_dataset)
            rows = np.isin(index.dataset_id, self._dataset_ids(str(node.value)))
            holds = self._materials_of(0, rows)
            evaluated = np.sort(np.array(evaluated_in(self.connection, str(node.value)), dtype=np.int64))
            holds[locate(index.material_ids, evaluated)[0]] = True
        return holds if node.op == "=" else ~holds

    def node_evidence(self, node: Evidence) -> np.ndarray:
        """``evidence(…)``: the materials with a matching record, read from the small table of
        records on the search's own connection, by the SQL backend's row-level rule."""
        from sqlalchemy import select

        from biomatdb.models import BiologicalEvaluation
        from biomatdb_search.core_evidence import evidence_record_matches

        ids = np.fromiter(
            self.connection.execute(
                select(BiologicalEvaluation.material_id).where(evidence_record_matches(node, self.match)).distinct()
            ).scalars(),
            dtype=np.int64,
        )
        mask = np.zeros(self.index.size, dtype=bool)
        mask[locate(self.index.material_ids, np.sort(ids))[0]] = True
        return mask

    def node_derived(self, node: DerivedFilter) -> np.ndarray:
        """``biomatdb_search.backends.sql``'s ``node_derived`` over the index's combinations of measurements."""
        positions, ends = self.index.combinations(node.terms, self.uncertainty)
        test = ends_within if self.match == "certain" else ends_intersect
        return self._positions(positions[test(node.interval, *ends)])

    def node_substructure(self, node: Substructure) -> np.ndarray:
        return self._chemistry(node)

    def node_similarity(self, node: Similarity) -> np.ndarray:
        return self._chemistry(node)

    def node_contains(self, node: Contains) -> np.ndarray:
        """``biomatdb_search.backends.sql``'s ``node_contains`` over the element columns."""
        elements = self.index.elements
        start, stop = elements.slices.get(node.element, (0, 0))
        presence = elements.presence[start:stop]
        rows = presence == 0 if self.match == "certain" else presence <= 1
        return self._positions(elements.position[start:stop][rows])

    def node_composition(self, node: ElementContent) -> np.ndarray:
        """``biomatdb_search.backends.sql``'s ``node_composition`` over the element columns."""
        elements = self.index.elements
        start, stop = elements.slices.get(node.element, (0, 0))
        on_basis = elements.basis[start:stop] == _BASIS_CODE[node.basis]
        test = ends_within if self.match == "certain" else ends_intersect
        ends = (elements.low[start:stop], elements.high[start:stop])
        rows = on_basis & test(node.interval, *ends, elements.low_open[start:stop], elements.high_open[start:stop])
        holds = self._positions(elements.position[start:stop][rows])
        asked = node.interval
        if zero_within(asked.low, asked.high, asked.low_open, asked.high_open):
            named = self._positions(elements.position[start:stop][on_basis])
            holds |= elements.complete[node.basis] & ~named
        return holds

    def _positions(self, positions: np.ndarray) -> np.ndarray:
        mask = np.zeros(self.index.size, dtype=bool)
        mask[positions] = True
        return mask

    def _chemistry(self, node: Substructure | Similarity) -> np.ndarray:
        if self.chemistry is None:
            raise no_chemistry_index()
        ids, scores = self.chemistry.arrays(node)  # the SQL backend's ``_Once``: arrays from any chemistry index
        positions, inside = self.index.locate(ids)
        scores = scores[inside]
        if isinstance(node, Similarity):
            self.score[positions] = np.where(self.scored[positions], np.maximum(self.score[positions], scores), scores)
            self.scored[positions] = True
        mask = np.zeros(self.index.size, dtype=bool)
        mask[positions] = True
        return mask

    # --- one measurement's conditions -------------------------------------------------------

    def _dataset_ids(self, name: str) -> np.ndarray:
        return np.fromiter(
            self.connection.execute(select(Dataset.id).where(func.lower(Dataset.name) == name.lower())).scalars(),
            dtype=np.int64,
        )

    def condition(self, c: Condition, start: int, stop: int) -> np.ndarray:
        """``WHERE field OP value`` on the same measurement; ``!=`` also holds where it is not recorded."""
        index = self.index
        if c.field == "temperature":
            t = index.temperature[start:stop]
            low, high = temperature_window(float(c.value))
            known = ~np.isnan(t)
            with np.errstate(invalid="ignore"):
                if c.op == "=":
                    return known & (t >= low) & (t <= high)
                if c.op == "!=":
                    return ~known | (t < low) | (t > high)
                return known & {"<": t < low, "<=": t <= high, ">": t > high, ">=": t >= low}[c.op]
        if c.field == "dataset":
            holds = np.isin(index.dataset_id[start:stop], self._dataset_ids(str(c.value)))
        elif c.field == "source":
            wanted = str(c.value).lower()
            ids = np.fromiter(
                self.connection.execute(
                    select(Source.id).where(
                        or_(func.lower(Source.doi) == wanted, func.lower(Source.citation) == wanted)
                    )
                ).scalars(),
                dtype=np.int64,
            )
            holds = np.isin(index.source_id[start:stop], ids)
        else:
            holds = index.conditions[c.field].codes[start:stop] == index.conditions[c.field].index.get(
                str(c.value).lower(), -2
            )
        check_text_condition(c)
        return holds if c.op == "=" else ~holds


def interval_intersects(asked: Interval, low: np.ndarray, high: np.ndarray, qualifier: np.ndarray) -> np.ndarray:
    """``biomatdb_search.core_sql.interval_intersects`` over columns."""
    return ends_intersect(asked, low, high, qualifier == _QUALIFIER_CODE[">"], qualifier == _QUALIFIER_CODE["<"])


def ends_intersect(
    asked: Interval, low: np.ndarray, high: np.ndarray, low_open: np.ndarray, high_open: np.ndarray
) -> np.ndarray:
    """``biomatdb_search.core_sql.ends_intersect`` over columns: NaN ends are open to infinity;
    two ends that touch meet only when both are closed."""
    rows = np.ones(len(low), dtype=bool)
    with np.errstate(invalid="ignore"):
        if asked.low is not None:
            above = high > asked.low
            if not asked.low_open:
                above |= (high == asked.low) & ~high_open
            rows &= np.isnan(high) | above
        if asked.high is not None:
            below = low < asked.high
            if not asked.high_open:
                below |= (low == asked.high) & ~low_open
            rows &= np.isnan(low) | below
    return rows


def interval_within(asked: Interval, low: np.ndarray, high: np.ndarray, qualifier: np.ndarray) -> np.ndarray:
    """``biomatdb_search.core_sql.interval_within`` over columns."""
    return ends_within(asked, low, high, qualifier == _QUALIFIER_CODE[">"], qualifier == _QUALIFIER_CODE["<"])


def ends_within(
    asked: Interval, low: np.ndarray, high: np.ndarray, low_open: np.ndarray, high_open: np.ndarray
) -> np.ndarray:
    """``biomatdb_search.core_sql.ends_within`` over columns: a NaN end is infinite, never within a bound."""
    rows = np.ones(len(low), dtype=bool)
    if asked.low is not None:
        inside = low > asked.low
        touching = low == asked.low
        inside |= touching & low_open if asked.low_open else touching
        rows &= inside  # NaN compares False: a missing end is not within
    if asked.high is not None:
        inside = high < asked.high
        touching = high == asked.high
        inside |= touching & high_open if asked.high_open else touching
        rows &= inside
    return rows


class MemoryIndexes:
    """One index per engine, at the newest generation built; builds run in a thread of their own."""

    def __init__(self) -> None:
        self._values: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()
        self._building: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()  # engine -> its build thread
        self._lock = threading.Lock()

    def current(self, engine: Engine, connection, *, wait: bool = False) -> MemoryIndex | None:
        """The index at the generation ``connection`` reads, or None (a build is started) when
        there is none yet; ``wait`` builds it on ``connection`` instead."""
        generation = core_generation(connection)
        with self._lock:
            cached = self._values.get(engine)
        if cached is not None and cached.generation == generation:
            return cached
        if wait:
            value = build(connection, generation)
            self._keep(engine, value)
            return value
        self.start(engine)
        return None

    def state(self, engine: Engine, connection) -> str:
        """``current``: searches use the index; ``building``: they run in SQL until it is built."""
        with self._lock:
            cached = self._values.get(engine)
        if cached is not None and cached.generation == core_generation(connection):
            return "current"
        return "building" if engine in self._building else "stale"

    def _keep(self, engine: Engine, value: MemoryIndex) -> None:
        """The newest build replaces the one before, whatever its generation: a restored core's
        generation may be lower (refusing it made the build thread rebuild without end)."""
        with self._lock:
            self._values[engine] = value

    def start(self, engine: Engine) -> threading.Thread | None:
        """Build the engine's index in the background unless a build is running."""
        with self._lock:
            if engine in self._building:
                return None
            thread = threading.Thread(
                target=self._build, args=(weakref.ref(engine),), name="biomatdb-memory-index", daemon=True
            )
            self._building[engine] = thread
        thread.start()
        return thread

    def join(self, engine: Engine, timeout: float = 60) -> None:
        """Wait for the engine's build, if one runs: before the engine is disposed, so that the
        build's connection is closed, not left to the garbage collector."""
        with self._lock:
            thread = self._building.get(engine)
        if thread is not None:
            thread.join(timeout)

    def _build(self, engine_ref) -> None:
        engine = engine_ref()
        if engine is None:
            return
        try:
            while True:
                with engine.connect() as connection:
                    generation = core_generation(read_snapshot(connection))
                    with self._lock:
                        cached = self._values.get(engine)
                    if cached is not None and cached.generation == generation:
                        return
                    self._keep(engine, build(connection, generation))
        except Exception:  # a core not migrated yet, a database away: searches run in SQL meanwhile
            log.warning("could not build the in-memory search index", exc_info=True)
        finally:
            with self._lock:
                self._building.pop(engine, None)


memory_indexes = MemoryIndexes()
