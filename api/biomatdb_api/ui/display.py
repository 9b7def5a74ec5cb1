"""The reader's display units on a page: ``?units=`` and ``?unit_system=`` in the URL (kept in every
link and form a page makes), else the unit switch's cookie. Converting, rounding and spelling are
``biomatdb.display``'s, as for the CLI and the API."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import quote, unquote

from biomatdb.display import (
    Converter,
    UnitChoice,
    parse_unit_system,
    parse_units,
    unit_label,
    unit_systems,
    units_text,
)
from biomatdb.errors import BiomatError
from biomatdb.indices import load_indices
from biomatdb.vocabulary import Property, get_vocabulary

UNITS_COOKIE = "biomatdb_units"

__all__ = ["UNITS_COOKIE", "View", "display_choices", "parse_units_cookie", "unit_label", "units_cookie", "view_of"]


def display_choices(prop: Property) -> tuple[str, ...]:
    """The units a reader may switch ``prop`` to; the canonical unit is always one."""
    return tuple(dict.fromkeys((*prop.display, prop.unit)))


def _fitting(pairs: Iterable[str], separator: str) -> dict[str, str]:
    """The ``property:unit`` pairs whose unit is one the reader may switch the property (or derived
    index) to."""
    vocabulary = get_vocabulary()
    units: dict[str, str] = {}
    for pair in pairs:
        key, _, unit = pair.partition(separator)
        prop = vocabulary.find_property(key.strip()) if key.strip() else None
        if prop is None and (index := load_indices().find(key.strip())) is not None:
            prop = index.as_property()  # a derived index: its units of indices.toml
        if prop is not None and unit.strip() in display_choices(prop):
            units[prop.key] = unit.strip()
    return units


def parse_units_cookie(text: str | None) -> dict[str, str]:
    """The reader's display units from the cookie; pairs that no longer fit are dropped."""
    return _fitting(unquote(text).split("|"), ":") if text else {}


def units_cookie(units: Mapping[str, str]) -> str:
    return quote("|".join(f"{key}:{unit}" for key, unit in sorted(units.items())), safe="")


@dataclass(frozen=True)
class View:
    """The display units of one page: what to convert with, and what every link keeps."""

    choice: UnitChoice = field(default_factory=UnitChoice)
    #: What the URL asked for that the page could not use, each with why: said on the page.
    ignored: tuple[str, ...] = ()

    @property
    def params(self) -> dict[str, str]:
        """The query parameters that carry these units to the next page."""
        found = {}
        if self.choice.units:
            found["units"] = units_text(self.choice.units)
        if self.choice.system:
            found["unit_system"] = self.choice.system
        return found

    def with_unit(self, key: str, unit: str) -> View:
        return View(UnitChoice(units={**self.choice.units, key: unit}, system=self.choice.system), self.ignored)

    def converter(self, prop: Property, measurements: Iterable[Mapping[str, Any]] = ()) -> Converter:
        """Shows ``prop`` in the one unit these measurements of it are shown in."""
        return Converter(prop, self.unit_of(prop, measurements))

    def unit_of(self, prop: Property, measurements: Iterable[Mapping[str, Any]] = ()) -> str:
        return self.choice.unit_of(prop, measurements)


def _asked_units(text: str) -> tuple[dict[str, str], list[str]]:
    """The ``?units=`` pairs of a URL read as the API reads them (:func:`biomatdb.display.parse_units`,
    any unit of the property's dimension: ``density:kg/m^3``, ``youngs_modulus:Msi``), pair by pair:
    those it accepts, and for each it refuses why."""
    units: dict[str, str] = {}
    ignored: list[str] = []
    for pair in text.split(","):
        if not pair.strip():
            continue
        try:
            units.update(parse_units(pair))
        except BiomatError as exc:
            ignored.append(f"{pair.strip()!r}: {exc.message.removeprefix('units: ')}")
    return units, ignored


def view_of(query: Mapping[str, str], cookie: str | None) -> View:
    """The units a page's URL asks for, read as the API reads them, else the cookie's; a pair or a
    unit system the page cannot use is not refused (the page is still shown) but said on it
    (:attr:`View.ignored`), never dropped silently."""
    ignored: list[str] = []
    if query.get("units"):
        units, ignored = _asked_units(query["units"])
    else:
        units = parse_units_cookie(cookie)
    try:
        system = parse_unit_system(query.get("unit_system"))
    except BiomatError as exc:
        system = None
        ignored.append(exc.message)
    return View(UnitChoice(units=units, system=system), tuple(ignored))


def system_choices() -> list[tuple[str, str]]:
    """The unit systems a reader may pick, the default first."""
    return [("", "Default units"), *((key, system.name) for key, system in unit_systems().items())]
