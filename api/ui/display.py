"""How values read on a page: display units (the reader's choice, kept in a cookie),
unit labels (``g/cm**3`` → g/cm³), numbers with three significant digits, and a
measurement as one short text (``1.2–3.5 GPa``, ``> 24 MPa``)."""

from __future__ import annotations

import math
import re
from collections.abc import Mapping
from urllib.parse import quote, unquote

from biomatdb.catalog import qualitative_text
from biomatdb.errors import BiomatError
from biomatdb.models import QUALITATIVE
from biomatdb.units import convert_value
from biomatdb.vocabulary import Property, get_vocabulary

UNITS_COOKIE = "biomatdb_units"

_SUPERSCRIPT = str.maketrans("0123456789-", "⁰¹²³⁴⁵⁶⁷⁸⁹⁻")
_LABEL_STEPS = (
    (re.compile(r"(\w+)\*\*0\.5"), r"√\1"),
    (re.compile(r"\*\*(-?\d+)"), lambda m: m.group(1).translate(_SUPERSCRIPT)),
    (re.compile(r"\bdegC\b"), "°C"),
    (re.compile(r"\bdegF\b"), "°F"),
    (re.compile(r"\bdeg\b"), "°"),
    (re.compile(r"\bu(m|g|L)\b"), r"µ\1"),
    (re.compile(r"\bohm\b"), "Ω"),
    (re.compile(r"\bpercent\b"), "%"),
    (re.compile(r"\bdimensionless\b"), ""),
    (re.compile(r"\*"), "·"),
)


def unit_label(unit: str) -> str:
    """A unit as people write it: ``g/cm**3`` → ``g/cm³``, ``degC`` → ``°C``, ``MPa*m**0.5`` → ``MPa·√m``."""
    label = unit
    for pattern, replacement in _LABEL_STEPS:
        label = pattern.sub(replacement, label)
    return label.strip()


def readable_number(value: float) -> str:
    """Three significant digits, never fewer integer digits than the value has; scientific
    notation (``1.2 × 10⁻⁵``) outside 0.01 … 1 000 000."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else str(value)
    magnitude = math.floor(math.log10(abs(value)))
    if -2 <= magnitude < 6:
        decimals = max(0, 2 - magnitude)
        text = f"{value:.{decimals}f}"
        if "." in text:
            text = text.rstrip("0").rstrip(".")
        if magnitude >= 4:  # 110 000, grouped by a narrow no-break space (SI style)
            text = f"{round(value):,}".replace(",", "\u202f")
        return "−" + text[1:] if text.startswith("-") else text
    mantissa = value / 10**magnitude
    head = f"{mantissa:.2f}".rstrip("0").rstrip(".")
    if head in ("10", "-10"):
        head, magnitude = head[:-1], magnitude + 1
    return f"{head.replace('-', '−')} × 10{str(magnitude).translate(_SUPERSCRIPT)}"


def parse_units_cookie(text: str | None) -> dict[str, str]:
    """The reader's display units from the cookie; pairs that no longer fit are dropped."""
    if not text:
        return {}
    vocabulary = get_vocabulary()
    units: dict[str, str] = {}
    for pair in unquote(text).split("|"):
        key, _, unit = pair.partition(":")
        prop = vocabulary.properties.get(key)
        if prop is not None and unit in display_choices(prop):
            units[key] = unit
    return units


def units_cookie(units: Mapping[str, str]) -> str:
    return quote("|".join(f"{key}:{unit}" for key, unit in sorted(units.items())), safe="")


def display_choices(prop: Property) -> tuple[str, ...]:
    """The units a reader may switch ``prop`` to; the canonical unit is always one."""
    return tuple(dict.fromkeys((*prop.display, prop.unit)))


def display_unit(prop: Property, chosen: Mapping[str, str]) -> str:
    """The reader's choice, else the vocabulary's first display unit (°C rather than K)."""
    return chosen.get(prop.key) or (prop.display[0] if prop.display else prop.unit)


class Shown:
    """Converts a property's canonical values into the unit a page shows them in."""

    def __init__(self, prop: Property, unit: str) -> None:
        self.prop = prop
        self.unit = unit
        self.label = unit_label(unit)

    @classmethod
    def of(cls, key: str, chosen: Mapping[str, str]) -> Shown | None:
        prop = get_vocabulary().properties.get(key)
        return None if prop is None else cls(prop, display_unit(prop, chosen))

    def value(self, canonical: float | None) -> float | None:
        if canonical is None or self.unit == self.prop.unit:
            return canonical
        try:
            return convert_value(canonical, self.prop.unit, self.unit, kind=self.prop.kind)
        except BiomatError:
            return canonical

    def delta(self, canonical: float) -> float:
        zero = self.value(0.0) or 0.0
        return abs((self.value(canonical) or 0.0) - zero)

    def text(
        self,
        qualifier: str,
        value: float | None,
        low: float | None,
        high: float | None,
        uncertainty: float | None = None,
        qualitative: str | None = None,
    ) -> str:
        """One measurement, e.g. ``60 °C``, ``1.2–3.5 GPa``, ``> 24 MPa``, ``≈ 5 %``, ``2.1 ± 0.3 GPa``,
        or a qualitative one in words, without a unit (``amorphous``)."""
        if qualifier == QUALITATIVE:
            return qualitative_text(qualitative)
        value, low, high = self.value(value), self.value(low), self.value(high)
        if qualifier == "range" and low is not None and high is not None:
            body = readable_number(low) if low == high else f"{readable_number(low)}–{readable_number(high)}"
        elif qualifier in (">", ">=") and low is not None:
            body = f"{'>' if qualifier == '>' else '≥'} {readable_number(low)}"
        elif qualifier in ("<", "<=") and high is not None:
            body = f"{'<' if qualifier == '<' else '≤'} {readable_number(high)}"
        else:
            shown = value if value is not None else (low if low is not None else high)
            body = ("≈ " if qualifier == "~" else "") + ("–" if shown is None else readable_number(shown))
        if uncertainty is not None and qualifier in ("=", "~"):
            body += f" ± {readable_number(self.delta(uncertainty))}"
        return f"{body} {self.label}".strip()

    def span_text(self, low: float, high: float) -> str:
        """A material's values of the property, lowest to highest."""
        return self.text("range", None, low, high)
