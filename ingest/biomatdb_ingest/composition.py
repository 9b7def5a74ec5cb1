"""Compositions of alloys and composites: ``Ti bal; Al 5.5-6.75 wt%; V 3.5-4.5 wt%``."""

from __future__ import annotations

import re
from dataclasses import dataclass

from biomatdb_ingest.cells import CellError, parse_cell

_BASIS = {"wt": "wt", "w/w": "wt", "mass": "wt", "mol": "mol", "at": "at", "vol": "vol", "v/v": "vol"}
_COMPONENT = re.compile(
    r"^\s*(?P<name>.+?)\s*[:=]?\s+(?P<amount>bal(?:ance)?\.?|rem(?:ainder)?\.?|[<>≤≥~≈]?\s*[-−+]?\d[\d.,]*(?:\s*[-–—]\s*\d[\d.,]*)?)"
    r"\s*(?P<unit>(?:wt|w/w|mass|mol|at|vol|v/v)?\.?\s*%)?\s*$",
    re.IGNORECASE,
)


@dataclass(frozen=True, slots=True)
class Component:
    component: str
    fraction: float | None  # percent; the low end for a range
    fraction_max: float | None
    basis: str
    is_balance: bool
    qualifier: str | None = None  # the amount's: = ~ < <= > >= range; None for a balance


def parse_composition(text: str, *, decimal: str = ".") -> tuple[Component, ...] | str:
    """The components, or a message saying what is wrong (errors are data here)."""
    components = []
    for position, part in enumerate(filter(None, (p.strip() for p in re.split(r"[;|\n]", text))), start=1):
        match = _COMPONENT.match(part)
        if match is None:
            return f"component {position} ({part!r}) is not 'NAME AMOUNT wt%' or 'NAME bal'"
        amount = match["amount"].lower()
        unit = (match["unit"] or "wt%").lower().replace(" ", "").replace(".", "").rstrip("%")
        basis = _BASIS.get(unit, "wt")
        if amount.startswith(("bal", "rem")):
            components.append(Component(match["name"], None, None, basis, True))
            continue
        parsed = parse_cell(amount, decimal=decimal)
        if parsed is None or isinstance(parsed, CellError):
            return f"component {position} ({part!r}): amount {amount!r} is not a number or range"
        low = parsed.low if parsed.low is not None else 0.0
        high = parsed.high if parsed.qualifier == "range" or parsed.qualifier.startswith("<") else None
        if not 0 <= low <= 100 or (high is not None and not 0 <= high <= 100):
            return f"component {position} ({part!r}): a percentage must lie between 0 and 100"
        components.append(Component(match["name"], low, high, basis, False, parsed.qualifier))
    if not components:
        return "empty composition"
    return tuple(components)
