"""The requirement a researcher states and the ranked answer: the public, stable shape of
``POST /api/v1/select`` and ``biomatdb select --json`` (docs/selection.md)."""

from __future__ import annotations

import math
from typing import Any, Literal, cast

from pydantic import BaseModel, ConfigDict, Field, JsonValue, PrivateAttr, field_validator, model_validator

from biomatdb_search.model import MAX_LIMIT

Policy = Literal["worst", "best", "midpoint"]
MissingPolicy = Literal["penalise", "exclude"]

#: Most objectives one requirement may weigh (each is a pass over the candidates).
MAX_OBJECTIVES = 12


class Objective(BaseModel):
    """One criterion: maximise or minimise a property (or derived index), or match a target —
    a value, a range, or a reference tissue's measurements of the property."""

    model_config = ConfigDict(extra="forbid")

    kind: Literal["max", "min", "match"] = Field(description="max, min or match.")
    property: str = Field(max_length=200, description="A property key, name or alias (or a derived index).")
    tissue: str | None = Field(
        None, max_length=200, description="match: a reference tissue's name or synonym (its measurements' range)."
    )
    low: float | None = Field(None, description="match: the target's low end, in `unit`.")
    high: float | None = Field(None, description="match: the target's high end, in `unit` (= low for a value).")
    unit: str | None = Field(None, max_length=100, description="match: the unit of low and high.")
    weight: float = Field(1.0, gt=0, le=1000, description="The criterion's weight, relative to the others'.")
    #: The target's numbers as a spec wrote them (``15.0``, ``20``): their digits, which a float loses.
    _written: tuple[str | None, str | None] | None = PrivateAttr(None)

    def written_target(self) -> tuple[str | None, str | None]:
        """The target's low and high ends as written: a spec's texts (``15.0..20``), else each
        number's shortest text (a JSON number: ``15.0`` is ``15``)."""
        if self._written is not None:
            return self._written
        return tuple(None if end is None else repr(float(end)).removesuffix(".0") for end in (self.low, self.high))  # type: ignore[return-value]

    @field_validator("low", "high", "weight")
    @classmethod
    def _finite(cls, value: float | None) -> float | None:
        if value is not None and not math.isfinite(value):
            raise ValueError("must be a finite number")
        return value

    @model_validator(mode="after")
    def _target(self) -> Objective:
        has_range = self.low is not None or self.high is not None
        if self.kind == "match":
            if (self.tissue is None) == (not has_range):
                raise ValueError("a match objective has a tissue or a low/high target, one of them")
            if has_range and self.low is not None and self.high is not None and self.low > self.high:
                raise ValueError(f"empty target: {self.low} is above {self.high}")
        elif self.tissue is not None or has_range:
            raise ValueError(f"a {self.kind} objective takes no target")
        return self


class Requirement(BaseModel):
    """What a material must meet (``constraint``, in the filter language) and what makes one
    better than another (``objectives``, weighted), or a preset to start from."""

    model_config = ConfigDict(
        extra="forbid",
        json_schema_extra={
            "examples": [
                {
                    "constraint": "class = metal",
                    "objectives": [{"kind": "match", "property": "youngs_modulus", "tissue": "cortical bone"}],
                    "policy": "worst",
                },
                {"preset": "load_bearing_bone_implant"},
            ]
        },
    )

    preset: str | None = Field(None, max_length=100, description="A preset's key (GET /api/v1/select/presets).")
    constraint: str | None = Field(
        None, max_length=2000, description="Filter language; with a preset, ANDed with the preset's."
    )
    objectives: list[Objective] = Field(
        default_factory=list, max_length=MAX_OBJECTIVES, description="With a preset, these replace its objectives."
    )
    policy: Policy = Field(
        "worst", description="How an interval value is scored: its worst end, its best, or its midpoint."
    )
    missing: MissingPolicy = Field(
        "penalise",
        description="A candidate without a value for a criterion: penalise (that criterion scores 0, "
        "stated in the answer) or exclude the candidate.",
    )
    limit: int = Field(20, ge=1, le=MAX_LIMIT, description="How many ranked candidates to return.")


class UsedMeasurement(BaseModel):
    """The measurement a criterion was scored on, as shown (display units) with its provenance."""

    property: str
    display: str | None = None
    value_min: float | None = Field(None, description="The low end, in `unit`, rounded as `display` shows it.")
    value_max: float | None = Field(None, description="The high end, in `unit`, rounded as `display` shows it.")
    unit: str = Field(description="The display unit, as people write it (`MPa`, `MPa·cm³/g`).")
    value_canonical_min: float | None = Field(None, description="The low end in `unit_canonical`, unrounded.")
    value_canonical_max: float | None = Field(None, description="The high end in `unit_canonical`, unrounded.")
    unit_canonical: str | None = Field(None, description="The canonical unit of the property or index.")
    conditions: dict = Field(default_factory=dict)
    source: str | None = None
    dataset: str


class Missing(BaseModel):
    reason: str
    treatment: Literal["penalised", "excluded"]


class Criterion(BaseModel):
    objective: str = Field(description="The objective as a spec: `match:youngs_modulus=Cortical bone@2`.")
    weight: float
    score: float = Field(description="The criterion's normalised score in [0, 1] (1: the best candidate).")
    contribution: float = Field(description="weight × score over the sum of weights: its share of the total.")
    value: float | None = Field(
        None,
        description="What was scored, in `unit`, rounded as `display` shows it: the value for max/min "
        "(the end of the measurement's interval the policy scored, or its midpoint), the distance from "
        "the target for match (`decades` when the target is positive, else in the display unit).",
    )
    unit: str | None = Field(None, description="The unit of `value`: the measurement's display unit, or `decades`.")
    display: str | None = Field(None, description="`value` and `unit` as people read them: `240 MPa`, `0.18 decades`.")
    value_canonical: float | None = Field(
        None, description="What was scored in `unit_canonical`, to 12 decimals (what `value` was before)."
    )
    unit_canonical: str | None = Field(None, description="The property's (index's) canonical unit, or `decades`.")
    measurement: UsedMeasurement | None = None
    missing: Missing | None = None


class Candidate(BaseModel):
    id: str
    name: str
    material_class: str | None = Field(None, serialization_alias="class", validation_alias="class")
    rank: int
    score: float = Field(description="The weighted sum of the criteria's scores, in [0, 1].")
    pareto: bool = Field(description="No other candidate is at least as good on every criterion and better on one.")
    criteria: list[Criterion]

    model_config = ConfigDict(populate_by_name=True)


class Target(BaseModel):
    """A match objective's target as used: the range in the display unit, rounded as ``display``
    shows it, beside the canonical range it is matched with, and where it came from."""

    objective: str
    low: float | None = Field(description="The target's low end in `unit`, as `display` rounds it; None: unbounded.")
    high: float | None = Field(description="The target's high end in `unit`, as `display` rounds it; None: unbounded.")
    unit: str = Field(description="The display unit (`?unit_system=`, `?units=`), as people write it.")
    display: str
    low_canonical: float | None = Field(None, description="The low end in `unit_canonical`, full precision.")
    high_canonical: float | None = Field(None, description="The high end in `unit_canonical`, full precision.")
    unit_canonical: str = Field("", description="The property's canonical unit, in which candidates are matched.")
    tissue: str | None = None
    measurements: int = Field(0, description="How many of the tissue's measurements the range spans.")


class Excluded(BaseModel):
    id: str
    name: str
    reason: str


#: An answer over the fixtures (``biomatdb select -c 'class = metal' -o 'match:youngs_modulus=cortical
#: bone@2' -o max:tensile_strength --limit 1 --json``), for the OpenAPI document.
SELECTION_EXAMPLE: dict[str, Any] = {
    "results": [
        {
            "id": "bm-e6cceb2797",
            "name": "Ti-35Nb-7Zr-5Ta-0.4O",
            "class": "metal",
            "rank": 1,
            "score": 0.62064,
            "pareto": True,
            "criteria": [
                {
                    "objective": "match:youngs_modulus=Cortical bone@2",
                    "weight": 2.0,
                    "score": 0.454545,
                    "contribution": 0.30303,
                    "value": 0.34,
                    "unit": "decades",
                    "display": "0.34 decades",
                    "value_canonical": 0.342422680822,
                    "unit_canonical": "decades",
                    "measurement": {
                        "property": "youngs_modulus",
                        "display": "66.0 GPa",
                        "value_min": 66.0,
                        "value_max": 66.0,
                        "unit": "GPa",
                        "value_canonical_min": 66.0,
                        "value_canonical_max": 66.0,
                        "unit_canonical": "GPa",
                        "conditions": {},
                        "source": "Niinomi M. Mechanical properties of biomedical titanium alloys. Materials Science and Engineering A 243 (1998) 231-236",
                        "dataset": "biomatdb-curated-metals-ceramics-glasses",
                    },
                    "missing": None,
                },
                {
                    "objective": "max:tensile_strength",
                    "weight": 1.0,
                    "score": 0.95283,
                    "contribution": 0.31761,
                    "value": 1010.0,
                    "unit": "MPa",
                    "display": "1010 MPa",
                    "value_canonical": 1010.0,
                    "unit_canonical": "MPa",
                    "measurement": {
                        "property": "tensile_strength",
                        "display": "1010 MPa",
                        "value_min": 1010.0,
                        "value_max": 1010.0,
                        "unit": "MPa",
                        "value_canonical_min": 1010.0,
                        "value_canonical_max": 1010.0,
                        "unit_canonical": "MPa",
                        "conditions": {},
                        "source": "Niinomi M. Mechanical properties of biomedical titanium alloys. Materials Science and Engineering A 243 (1998) 231-236",
                        "dataset": "biomatdb-curated-metals-ceramics-glasses",
                    },
                    "missing": None,
                },
            ],
        }
    ],
    "method": "weighted sum of ratio-normalised criterion scores (docs/selection.md)",
    "policy": "worst",
    "missing": "penalise",
    "constraint": "class = metal",
    "objectives": ["match:youngs_modulus=Cortical bone@2", "max:tensile_strength"],
    "targets": [
        {
            "objective": "match:youngs_modulus=Cortical bone@2",
            "low": 3.0,
            "high": 30.0,
            "unit": "GPa",
            "display": "3–30 GPa",
            "low_canonical": 3.0,
            "high_canonical": 30.0,
            "unit_canonical": "GPa",
            "tissue": "Cortical bone",
            "measurements": 10,
        }
    ],
    "candidates": 32,
    "ranked": 31,
    "excluded": [],
}


class Selection(BaseModel):
    model_config = ConfigDict(json_schema_extra={"examples": [cast(JsonValue, SELECTION_EXAMPLE)]})

    results: list[Candidate]
    method: str = Field(description="The ranking method (docs/selection.md).")
    policy: Policy
    missing: MissingPolicy
    constraint: str | None = Field(None, description="The constraint as applied (a preset's and the request's).")
    objectives: list[str] = Field(description="The objectives as specs, in order.")
    targets: list[Target] = Field(default_factory=list)
    candidates: int = Field(description="How many materials met the constraint.")
    ranked: int = Field(description="How many of them were ranked (the others are excluded).")
    excluded: list[Excluded] = Field(default_factory=list, description="Up to `limit` excluded candidates, with why.")
