"""``evidence(endpoint) [= outcome] [WHERE …]`` in SQL: one biological-evaluation record of the
material satisfies all of it (docs/evidence.md), over the relational core. The rules per condition
live here once, outside the backends; the in-memory index (search/biomatdb_search/memory.py) follows them and a
parity test holds them together."""

from __future__ import annotations

from sqlalchemy import ColumnElement, and_, exists, func, not_, or_, select

from biomatdb.models import BiologicalEvaluation, Dataset, Material, Source
from biomatdb_search.model import Evidence, EvidenceCondition

_E = BiologicalEvaluation
_TEXT_COLUMNS = {
    "kind": _E.kind,
    "cell_line": _E.model_key,
    "species": _E.species,
    "site": _E.site,
    "method": _E.method,
    "exposure": _E.exposure,
    "contact": _E.contact_category,
    "contact_duration": _E.contact_duration,
}


def _lower_equals(column, value: str) -> ColumnElement[bool]:
    return and_(column.is_not(None), func.lower(column) == value.lower())


def duration_holds(op: str, days: float, match: str) -> ColumnElement[bool]:
    """The record's duration (``duration_min_days``..``duration_max_days``, a missing end open)
    meets ``op days``: overlaps it (possible) or lies wholly within it (certain). A record with no
    duration meets no duration condition."""
    low, high = _E.duration_min_days, _E.duration_max_days
    known = or_(low.is_not(None), high.is_not(None))
    if match == "certain":
        holds = {
            ">=": and_(low.is_not(None), low >= days),
            ">": and_(low.is_not(None), low > days),
            "<=": and_(high.is_not(None), high <= days),
            "<": and_(high.is_not(None), high < days),
            "=": and_(low == days, high == days),
            "!=": or_(high < days, low > days),
        }[op]
    else:
        holds = {
            ">=": or_(high.is_(None), high >= days),
            ">": or_(high.is_(None), high > days),
            "<=": or_(low.is_(None), low <= days),
            "<": or_(low.is_(None), low < days),
            "=": and_(or_(low.is_(None), low <= days), or_(high.is_(None), high >= days)),
            "!=": not_(and_(low.is_not(None), high.is_not(None), low == days, high == days)),
        }[op]
    return and_(known, holds)


def evidence_condition(c: EvidenceCondition, match: str) -> ColumnElement[bool]:
    """One WHERE condition on the same record; ``!=`` also holds where the field is not recorded."""
    if c.field == "duration":
        return duration_holds(c.op, float(c.value), match)
    wanted = str(c.value)
    if c.field == "standard":  # ISO 10993-5 is also ISO 10993-5:2009
        holds = and_(
            _E.standard.is_not(None),
            or_(func.lower(_E.standard) == wanted.lower(), func.lower(_E.standard).like(wanted.lower() + ":%")),
        )
    elif c.field == "dataset":
        holds = _E.dataset_id.in_(select(Dataset.id).where(func.lower(Dataset.name) == wanted.lower()))
    elif c.field == "source":
        holds = and_(
            _E.source_id.is_not(None),
            _E.source_id.in_(
                select(Source.id).where(
                    or_(func.lower(Source.doi) == wanted.lower(), func.lower(Source.citation) == wanted.lower())
                )
            ),
        )
    else:
        holds = _lower_equals(_TEXT_COLUMNS[c.field], wanted)
    return holds if c.op == "=" else not_(holds)


def evidence_record_matches(node: Evidence, match: str) -> ColumnElement[bool]:
    """The row-level test: endpoint, outcome and every condition, on one record."""
    tests = [_E.endpoint == node.endpoint]
    if node.outcome is not None:
        same = and_(_E.outcome.is_not(None), _E.outcome == node.outcome)
        tests.append(same if node.outcome_op == "=" else not_(same))
    tests.extend(evidence_condition(c, match) for c in node.where)
    return and_(*tests)


def evidence_exists(node: Evidence, match: str) -> ColumnElement[bool]:
    return exists().where(_E.material_id == Material.id, evidence_record_matches(node, match))
