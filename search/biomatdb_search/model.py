"""The one backend-neutral query model: what the filter language parses into, what the
API and the CLI build, and what every backend translates.

Property filters are already in the property's canonical unit (the parser converted
them), as an interval with open or closed ends. A material matches when one of its
measurements of that property, itself taken as an interval, intersects the asked one, and
every ``where`` condition holds for that same measurement.
"""

from __future__ import annotations

import base64
import hashlib
import math
from typing import Annotated, Any, Literal

import orjson
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

FACETS = (
    "class",
    "application",
    "biodegradable",
    "origin",
    "property",
    "dataset",
    "element",
    "endpoint",
    "outcome",
    "medium",
    "state",
)
"""What facets can count; each counts materials, never measurements (``medium`` and ``state``: the
materials with a measurement in that medium, of that specimen state)."""

MAX_LIMIT = 500

MAX_OFFSET = 2**53
"""The furthest a cursor may point: beyond any real page, and well inside the 64-bit
integer every database's OFFSET takes (a cursor is text a client can forge)."""


class _Node(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Interval(_Node):
    """An interval on a property's canonical unit; ``None`` is unbounded on that side."""

    low: float | None = None
    high: float | None = None
    low_open: bool = False
    high_open: bool = False

    @model_validator(mode="after")
    def _finite_and_ordered(self) -> Interval:
        for end in (self.low, self.high):
            if end is not None and not math.isfinite(end):
                raise ValueError("interval ends must be finite numbers (leave an end out for no bound)")
        if self.low is not None and self.high is not None and self.low > self.high:
            raise ValueError(f"empty interval: {self.low} is above {self.high}")
        return self


#: The comparison operators of the filter language, and the two that text and fields take.
CompareOp = Literal["=", "!=", "<", "<=", ">", ">="]
EqualityOp = Literal["=", "!="]
ConditionField = Literal["temperature", "medium", "method", "standard", "specimen_state", "dataset", "source"]
MaterialField = Literal["class", "application", "biodegradable", "origin", "dataset", "id"]
EvidenceField = Literal[
    "kind",
    "cell_line",
    "species",
    "site",
    "method",
    "standard",
    "exposure",
    "contact",
    "contact_duration",
    "duration",
    "dataset",
    "source",
]


class Condition(_Node):
    """A condition on the same measurement: ``medium = PBS``, ``temperature = 37 degC``.

    ``temperature`` is compared in kelvin; the text fields compare case-insensitively.
    """

    field: ConditionField
    op: CompareOp = "="
    value: str | float


class PropertyFilter(_Node):
    kind: Literal["property"] = "property"
    property: str
    interval: Interval = Interval()
    where: tuple[Condition, ...] = ()


class HasProperty(_Node):
    """``has degradation_time``: at least one measurement of the property."""

    kind: Literal["has"] = "has"
    property: str


class FieldFilter(_Node):
    """A material's own fields: ``class = polymer``, ``application = orthopaedic``."""

    kind: Literal["field"] = "field"
    field: MaterialField
    op: EqualityOp = "="
    value: str | bool


class Substructure(_Node):
    """Materials whose structure contains the SMARTS (or SMILES) pattern."""

    kind: Literal["substructure"] = "substructure"
    pattern: str


#: The Tanimoto threshold of a bare ``similarity("…")``.
DEFAULT_SIMILARITY = 0.7


class Similarity(_Node):
    """Materials whose Morgan fingerprint has Tanimoto ≥ ``threshold`` to the SMILES."""

    kind: Literal["similarity"] = "similarity"
    smiles: str
    threshold: float = Field(DEFAULT_SIMILARITY, ge=0.0, le=1.0)


class EvidenceCondition(_Node):
    """A condition on the same biological-evaluation record: ``cell_line = L929`` (the test
    system's vocabulary key), ``species = rabbit``, ``kind = in vivo``, ``duration >= 12 week``
    (compared in days, an interval like a measurement's), or a text field compared ignoring case
    (``standard = ISO 10993-5`` also holds for ``ISO 10993-5:2009``)."""

    field: EvidenceField
    op: CompareOp = "="
    value: str | float


class Evidence(_Node):
    """``evidence(cytotoxicity) = non_cytotoxic WHERE cell_line = L929``: the material has a
    biological-evaluation record of the endpoint, with the outcome (``!=``: with another outcome,
    or none stated), for which every condition holds."""

    kind: Literal["evidence"] = "evidence"
    endpoint: str
    outcome: str | None = None
    outcome_op: EqualityOp = "="
    where: tuple[EvidenceCondition, ...] = ()


class Contains(_Node):
    """``contains(Ni)``: the material's composition or structure holds the element
    (``biomatdb.elements``); possibly (a trace limit such as ``Ni ≤0.5 wt%``) or, for
    ``match=certain``, surely."""

    kind: Literal["contains"] = "contains"
    element: str


class ElementContent(_Node):
    """``composition.Al in 5.5..6.75 wt%``: the element's content, in percent on ``basis``, meets
    the interval (lies within it, for ``match=certain``); an element a complete composition does
    not name has content 0."""

    kind: Literal["composition"] = "composition"
    element: str
    basis: Literal["wt", "at"]
    interval: Interval = Interval()


class DerivedFilter(_Node):
    """``youngs_modulus / density > 25 GPa/(g/cm^3)``: a ratio or power law of the material's
    properties (``biomatdb.indices``) meets the interval, in the index's canonical unit, for some
    combination of one measurement of each property (docs/search.md, "Derived properties"):
    ``index`` is a named index's key or the expression, ``terms`` its properties and exponents."""

    kind: Literal["derived"] = "derived"
    index: str
    terms: tuple[tuple[str, float], ...]
    interval: Interval = Interval()

    @field_validator("terms")
    @classmethod
    def _some_terms(cls, terms: tuple[tuple[str, float], ...]) -> tuple[tuple[str, float], ...]:
        if not terms or any(not math.isfinite(power) or power == 0 for _, power in terms):
            raise ValueError("a derived filter multiplies properties, each to a finite power other than 0")
        if len({key for key, _ in terms}) != len(terms):
            raise ValueError("a derived filter names each property once")
        return terms


class And(_Node):
    kind: Literal["and"] = "and"
    items: tuple[Filter, ...]


class Or(_Node):
    kind: Literal["or"] = "or"
    items: tuple[Filter, ...]


class Not(_Node):
    kind: Literal["not"] = "not"
    item: Filter


Filter = Annotated[
    PropertyFilter
    | HasProperty
    | FieldFilter
    | Substructure
    | Similarity
    | Contains
    | ElementContent
    | Evidence
    | DerivedFilter
    | And
    | Or
    | Not,
    Field(discriminator="kind"),
]

And.model_rebuild()
Or.model_rebuild()
Not.model_rebuild()


class Sort(_Node):
    """``name``, or a property key: ascending by each material's lowest value of it,
    descending (``-key``) by its highest; materials without the property come last.
    ``relevance`` orders by text match (the default when there is text)."""

    key: str = "name"
    descending: bool = False

    @classmethod
    def parse(cls, text: str | None) -> Sort | None:
        if not text:
            return None
        text = text.strip()
        if text.startswith("-"):
            return cls(key=text[1:].strip(), descending=True)
        return cls(key=text.lstrip("+").strip())

    def __str__(self) -> str:
        return ("-" if self.descending else "") + self.key


class Query(BaseModel):
    """A whole search: free text, a filter, facets to count, sort, a page and where it starts."""

    model_config = ConfigDict(extra="forbid")

    text: str | None = Field(None, description="Free text over names, synonyms, description and applications.")
    filter: Filter | None = Field(None, description="The parsed filter (see the filter language).")
    facets: list[str] = Field(default_factory=list, description=f"Facets to count: {', '.join(FACETS)}.")
    sort: Sort | None = None
    match: Literal["possible", "certain"] = Field(
        "possible",
        description=(
            "possible: a measurement matches a property filter when its interval meets the asked one; certain: "
            "only when its whole interval, a bound included, lies within it."
        ),
    )
    uncertainty: Literal["point", "interval"] = Field(
        "point",
        description=(
            "point: a measurement `v ± u` is the point v; interval: it counts as [v − u, v + u] for matching and "
            "certainty (a range or a bound widens by u on each side)."
        ),
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT)
    cursor: str | None = Field(None, description="Opaque cursor from a previous page's next_cursor.")

    @field_validator("facets")
    @classmethod
    def _known_facets(cls, facets: list[str]) -> list[str]:
        unknown = [f for f in facets if f not in FACETS]
        if unknown:
            raise ValueError(f"unknown facet {unknown[0]!r}; expected one of {', '.join(FACETS)}")
        return list(dict.fromkeys(facets))

    @field_validator("text")
    @classmethod
    def _blank_is_none(cls, text: str | None) -> str | None:
        return text.strip() or None if text is not None else None

    def fingerprint(self) -> str:
        """What a cursor is bound to: the same query, other page."""
        body = self.model_dump(mode="json", exclude={"cursor", "limit"})
        return hashlib.blake2b(orjson.dumps(body, option=orjson.OPT_SORT_KEYS), digest_size=6).hexdigest()


class MatchedMeasurement(BaseModel):
    """A measurement a search shows. A backend gives canonical values; the CLI and the API show
    them (``biomatdb.display``): ``value``…``unit`` in display units, rounded to the precision
    written, the canonical ones beside them."""

    property: str
    value: float | None = None
    value_min: float | None = None
    value_max: float | None = None
    qualifier: str
    uncertainty: float | None = None
    unit: str
    text: str | None = Field(None, description="The value as the ingest parser reads it back, in `unit`.")
    display: str | None = Field(None, description="The value as people read it, with its unit: `4.00–5.00 GPa`.")
    value_canonical: float | None = Field(None, description="`value` in the property's canonical unit, unrounded.")
    value_canonical_min: float | None = None
    value_canonical_max: float | None = None
    uncertainty_canonical: float | None = None
    unit_canonical: str | None = Field(None, description="The property's canonical unit.")
    verbatim: dict[str, str | None] | None = Field(
        None,
        description="The value and unit as written: `value`, `unit`; `uncertainty`: one from a column of its own, as written with its unit.",
    )
    conditions: dict = Field(default_factory=dict)
    source: str | None = None
    dataset: str
    certainty: Literal["certain", "possible"] | None = Field(
        None,
        description=(
            "certain: the measurement's whole interval lies within an asked interval it was matched for; possible: it "
            "only meets it. None for a measurement shown for `has`."
        ),
    )


class DerivedValue(BaseModel):
    """A derived property a hit matched a derived filter with (``youngs_modulus / density > …``):
    its interval from one combination of the material's measurements, and those measurements. A
    backend gives canonical values; the CLI and the API show them in the index's display unit."""

    index: str = Field(description="The named index's key, or the expression as the filter resolved it.")
    expression: str = Field(description="The index as a filter writes it: `youngs_modulus/density`.")
    name: str
    value_min: float | None = Field(None, description="The derived interval's low end, in `unit`; None: unbounded.")
    value_max: float | None = Field(None, description="Its high end, in `unit`; None: unbounded.")
    low_open: bool = False
    high_open: bool = False
    unit: str
    display: str | None = Field(None, description="The derived interval as people read it: `24.8–25.9 GPa·cm³/g`.")
    value_canonical_min: float | None = None
    value_canonical_max: float | None = None
    unit_canonical: str
    certainty: Literal["certain", "possible"] = Field(
        description="certain: the derived interval lies within the asked one; possible: it only meets it."
    )
    inputs: list[MatchedMeasurement] = Field(
        default_factory=list, description="The measurements the value is derived from, one per property, with sources."
    )


class Hit(BaseModel):
    id: str
    name: str
    material_class: str | None = Field(None, serialization_alias="class", validation_alias="class")
    score: float | None = Field(None, description="Similarity or text relevance, where the query has one.")
    measurements: list[MatchedMeasurement] = Field(default_factory=list)
    derived: list[DerivedValue] = Field(
        default_factory=list,
        description="For each derived filter the hit matched, the combinations of its measurements that met it.",
    )

    model_config = ConfigDict(populate_by_name=True)


class FacetValue(BaseModel):
    value: str
    count: int


class SearchResult(BaseModel):
    model_config = ConfigDict(
        json_schema_extra={
            "examples": [
                {
                    "results": [
                        {
                            "id": "bm-7baae26c1e",
                            "name": "PDLLA",
                            "class": "polymer",
                            "score": None,
                            "measurements": [
                                {
                                    "property": "youngs_modulus",
                                    "value": 1.9,
                                    "value_min": 1.9,
                                    "value_max": 1.9,
                                    "qualifier": "=",
                                    "uncertainty": None,
                                    "unit": "GPa",
                                    "conditions": {},
                                    "source": "Middleton JC, Tipton AJ. Synthetic biodegradable polymers as orthopedic devices. "
                                    "Biomaterials 21 (2000) 2335-2346 (Table 1)",
                                    "dataset": "biomatdb-curated-polymers",
                                }
                            ],
                        }
                    ],
                    "facets": {"class": [{"value": "polymer", "count": 13}]},
                    "total": 13,
                    "next_cursor": "eyJvIjoxLCJxIjoiMTZiZGM3ZDFiZDdjIn0",
                }
            ]
        }
    )

    results: list[Hit]
    facets: dict[str, list[FacetValue]] = Field(default_factory=dict)
    total: int
    spelling: dict[str, str] = Field(
        default_factory=dict,
        description=(
            "Words of the text that matched nothing, each with the indexed word searched instead "
            '("titanum": "titanium").'
        ),
    )
    notes: list[str] = Field(
        default_factory=list,
        description=(
            "What the reader should know of how the filter was read: a condition value that stored values "
            "hold only within longer text (state = wet and a lab's 'wet (G12)'), with how to ask for them."
        ),
    )
    next_cursor: str | None = None


def encode_cursor(query: Query, offset: int, after: list[Any] | None = None) -> str:
    """A cursor to the page at ``offset``; ``after``: the sort values of the last hit before it,
    for a backend that pages by them (Elasticsearch's ``search_after``), which others ignore."""
    body: dict[str, Any] = {"o": offset, "q": query.fingerprint()}
    if after is not None:
        body["a"] = after
    raw = orjson.dumps(body)
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def cursor_after(query: Query) -> list[Any] | None:
    """The sort values a cursor carries (``encode_cursor``'s ``after``), or None; call after
    ``decode_cursor``, which refuses a cursor that is not this query's."""
    if not query.cursor:
        return None
    padded = query.cursor + "=" * (-len(query.cursor) % 4)
    after = orjson.loads(base64.urlsafe_b64decode(padded)).get("a")
    if after is not None and not isinstance(after, list):
        from biomatdb.errors import QueryError

        raise QueryError("the cursor is not one this service gave out", type="bad-cursor")
    return after


def decode_cursor(query: Query) -> int:
    """The offset a cursor stands for; a cursor from another query is refused."""
    from biomatdb.errors import QueryError

    if not query.cursor:
        return 0
    try:
        padded = query.cursor + "=" * (-len(query.cursor) % 4)
        body = orjson.loads(base64.urlsafe_b64decode(padded))
        offset, bound_to = body["o"], body["q"]
    except (ValueError, KeyError, TypeError) as exc:
        raise QueryError("the cursor is not one this service gave out", type="bad-cursor") from exc
    if type(offset) is not int or not 0 <= offset <= MAX_OFFSET:
        raise QueryError("the cursor is not one this service gave out", type="bad-cursor")
    if bound_to != query.fingerprint():
        raise QueryError("the cursor belongs to another query", type="bad-cursor")
    return offset


def has_property_filter(node: Filter | None, negated: bool = False) -> bool:
    """Some filter of the tree, not under NOT, can match certainly or only possibly: a property
    filter (its measurements), a derived one (its combinations of measurements) or a composition
    filter (its element contents)."""
    if isinstance(node, (And, Or)):
        return any(has_property_filter(item, negated) for item in node.items)
    if isinstance(node, Not):
        return has_property_filter(node.item, not negated)
    return isinstance(node, (PropertyFilter, Contains, ElementContent, DerivedFilter)) and not negated


def certain_first(query: Query, sort: Sort | None) -> bool:
    """Under relevance (text with a word, no other sort; ``sort`` already resolved, relevance as
    None), materials that match the filter certainly come before those that only possibly match
    it, then by relevance: every backend orders so when the filter has a property filter and the
    search is not ``match=certain`` already."""
    from biomatdb.searchtext import query_words

    return (
        sort is None
        and query.match == "possible"
        and bool(query.text and query_words(query.text))
        and has_property_filter(query.filter)
    )


def sort_note(query: Query) -> str | None:
    """What a reader should be told of the order a search gives but was not asked for: relevance
    with no word to rank by is name order (as every backend orders it, the API too); else None."""
    from biomatdb.searchtext import query_words

    if query.sort is not None and query.sort.key == "relevance" and not (query.text and query_words(query.text)):
        return "sort relevance needs text with a word to rank by; sorted by name instead"
    return None
