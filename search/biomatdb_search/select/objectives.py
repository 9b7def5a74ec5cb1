"""Objective specs as the CLI writes them, and back: ``max:tensile_strength``,
``min:density``, ``match:youngs_modulus=cortical bone``, ``match:youngs_modulus=10..30 GPa``,
``match:porosity=70 %``, each optionally weighted with ``@2``."""

from __future__ import annotations

import re

from pydantic import ValidationError

from biomatdb.errors import QueryError
from biomatdb_search.select.model import Objective

_WEIGHT = re.compile(r"@\s*(?P<weight>[^@]*)$")
_NUMBER = r"[-+]?(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][-+]?\d+)?"
_RANGE = re.compile(rf"^(?P<low>{_NUMBER})\s*\.\.\s*(?P<high>{_NUMBER})\s*(?P<unit>\S.*)?$")
_VALUE = re.compile(rf"^(?P<low>{_NUMBER})\s*(?P<unit>\S.*)?$")
KINDS = ("max", "min", "match")


def parse_objective(spec: str) -> Objective:
    """The objective a spec names; a ``QueryError`` saying what is wrong and where otherwise."""
    text = spec.strip()
    weight = 1.0
    found = _WEIGHT.search(text)
    if found:
        try:
            weight = float(found["weight"])
        except ValueError:
            raise QueryError(
                f"objective {spec!r}: the weight after @ must be a number, got {found['weight']!r}",
                position=found.start("weight"),
            ) from None
        text = text[: found.start()].strip()
    kind, colon, rest = text.partition(":")
    kind = kind.strip().lower()
    if not colon or kind not in KINDS:
        raise QueryError(
            f"objective {spec!r}: write max:PROPERTY, min:PROPERTY or match:PROPERTY=TARGET, optionally @WEIGHT",
            position=0,
            expected=[f"{k}:" for k in KINDS],
        )
    fields: dict = {"kind": kind, "weight": weight}
    if kind == "match":
        prop, equals, target = rest.partition("=")
        if not equals or not target.strip():
            raise QueryError(
                f"objective {spec!r}: a match names its target: match:PROPERTY=TISSUE, "
                "match:PROPERTY=LOW..HIGH UNIT or match:PROPERTY=VALUE UNIT",
                position=len(spec.rstrip()),
            )
        fields |= _target(target.strip())
    else:
        prop = rest
    fields["property"] = prop.strip()
    if not fields["property"]:
        raise QueryError(f"objective {spec!r}: no property named after {kind}:", position=len(kind) + 1)
    written = fields.pop("written", None)
    try:
        objective = Objective.model_validate(fields)
    except ValidationError as exc:
        problems = "; ".join(error["msg"] for error in exc.errors())
        raise QueryError(f"objective {spec!r}: {problems}") from None
    objective._written = written
    return objective


def _target(text: str) -> dict:
    for pattern in (_RANGE, _VALUE):
        found = pattern.match(text)
        if found:
            low_text = found["low"]
            high_text = found.groupdict().get("high") or low_text
            return {
                "low": float(low_text),
                "high": float(high_text),
                "unit": (found["unit"] or "").strip() or None,
                "written": (low_text, high_text),
            }
    return {"tissue": text}


def spec_of(objective: Objective, *, tissue: str | None = None) -> str:
    """The objective written as a spec (``tissue``: the tissue's name as found, over as asked)."""
    text = f"{objective.kind}:{objective.property}"
    if objective.kind == "match":
        if objective.tissue is not None:
            text += f"={tissue or objective.tissue}"
        else:
            low, high = objective.low, objective.high
            numbers = (
                f"{low:g}"
                if low == high
                else f"{'' if low is None else f'{low:g}'}..{'' if high is None else f'{high:g}'}"
            )
            text += f"={numbers}" + (f" {objective.unit}" if objective.unit else "")
    if objective.weight != 1:
        text += f"@{objective.weight:g}"
    return text
