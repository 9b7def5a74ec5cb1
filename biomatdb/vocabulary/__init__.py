"""The controlled vocabulary: properties, material classes, applications, and the qualitative
values labs write where a number would stand.

The terms live in the TOML files beside this module; this module only reads them and
answers "which term does this curator's text mean?".
"""

from __future__ import annotations

import re
import tomllib
import unicodedata
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache, lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Literal, Protocol

from biomatdb.errors import VocabularyError

PropertyKind = Literal["quantity", "temperature", "angle"]

_QUOTES = str.maketrans({"’": "'", "‘": "'", "`": "'", "´": "'", "′": "'", "“": '"', "”": '"', "″": '"'})
_SEPARATORS = re.compile(r"[\s_\-–—‐]+")
_EDGE_PUNCTUATION = " .,:;*"


@lru_cache(maxsize=65_536)  # labels repeat down a file's rows; bounded for a file of millions of names
def normalise_label(text: str) -> str:
    """Fold a label for matching: Unicode-normalised, case-folded, quotes and dashes unified.

    ``"Young’s  Modulus"``, ``"young's modulus"`` and ``"YOUNG'S_MODULUS"`` fold alike.
    """
    folded = unicodedata.normalize("NFKC", text).translate(_QUOTES).casefold()
    return _SEPARATORS.sub(" ", folded).strip(_EDGE_PUNCTUATION)


@dataclass(frozen=True, slots=True)
class Property:
    key: str
    name: str
    category: str
    unit: str
    kind: PropertyKind = "quantity"
    min: float | None = None
    max: float | None = None
    min_exclusive: bool = False
    max_exclusive: bool = False
    display: tuple[str, ...] = ()
    aliases: tuple[str, ...] = ()
    #: the unit shown by default; several: the one that suits the value's magnitude (biomatdb.display)
    default_display: tuple[str, ...] = ()

    def bounds_text(self) -> str:
        low = "(" if self.min_exclusive else "["
        high = ")" if self.max_exclusive else "]"
        lo = "-∞" if self.min is None else f"{self.min:g}"
        hi = "∞" if self.max is None else f"{self.max:g}"
        return f"{low}{lo}, {hi}{high} {self.unit}"


#: What a material of a class is described by on its page: a drawn structure, or its composition.
MAKEUPS = ("structure", "composition")


@dataclass(frozen=True, slots=True)
class Term:
    """A class or an application: a key, a human name and aliases; a class also says whether its
    materials are described by a structure or by a composition (``described_by``)."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    described_by: str = "structure"


#: Longest key of a qualitative term (``measurements.qualitative`` is a String(32)).
QUALITATIVE_KEY_MAX = 32


@dataclass(frozen=True, slots=True)
class QualitativeTerm:
    """A qualitative value (``amorphous``, ``not detected``): its key, the text shown and exported,
    aliases, and the properties it can describe (empty: any)."""

    key: str
    name: str
    aliases: tuple[str, ...] = ()
    properties: tuple[str, ...] = ()

    def describes(self, property_key: str) -> bool:
        return not self.properties or property_key in self.properties


@dataclass(frozen=True, slots=True)
class Category:
    """A property category (``mechanical``, ``thermal``…): its key and the heading shown over it."""

    key: str
    name: str


@dataclass(frozen=True)
class Vocabulary:
    properties: dict[str, Property]
    classes: dict[str, Term]
    applications: dict[str, Term]
    qualitative: dict[str, QualitativeTerm] = field(default_factory=dict)
    #: the property categories in a data sheet's order (categories.toml)
    categories: dict[str, Category] = field(default_factory=dict)
    _property_index: dict[str, str] = field(repr=False, default_factory=dict)
    _class_index: dict[str, str] = field(repr=False, default_factory=dict)
    _application_index: dict[str, str] = field(repr=False, default_factory=dict)
    _qualitative_index: dict[str, str] = field(repr=False, default_factory=dict)

    # Every folded label (key, name, alias) to the term it names: what "did you mean" compares
    # an unknown name with (biomatdb.suggest.closest). Defined before the method named
    # ``property``, which shadows the builtin in the rest of the class body.

    @property
    def property_labels(self) -> MappingProxyType[str, str]:
        return MappingProxyType(self._property_index)

    @property
    def class_labels(self) -> MappingProxyType[str, str]:
        return MappingProxyType(self._class_index)

    @property
    def application_labels(self) -> MappingProxyType[str, str]:
        return MappingProxyType(self._application_index)

    def category_rank(self, key: str) -> int:
        """Where category ``key`` comes in a data sheet (an unknown one last)."""
        order = list(self.categories)
        return order.index(key) if key in order else len(order)

    def property_rank(self, key: str) -> tuple[int, int]:
        """Where property ``key`` comes in a data sheet: by its category, then as properties.toml
        lists it (an unknown property last)."""
        prop = self.properties.get(key)
        if prop is None:
            return (len(self.categories), len(self.properties))
        return (self.category_rank(prop.category), list(self.properties).index(key))

    def find_property(self, text: str) -> Property | None:
        """The property that ``text`` (a key or an alias) names, or None."""
        key = self._property_index.get(normalise_label(text))
        return None if key is None else self.properties[key]

    def property(self, text: str) -> Property:
        found = self.find_property(text)
        if found is None:
            raise VocabularyError(f"unknown property {text!r}", type="unknown-property")
        return found

    def find_class(self, text: str) -> str | None:
        return self._class_index.get(normalise_label(text))

    def material_class(self, text: str) -> str:
        found = self.find_class(text)
        if found is None:
            raise VocabularyError(
                f"unknown material class {text!r}; expected one of {', '.join(self.classes)}",
                type="unknown-class",
            )
        return found

    def find_application(self, text: str) -> str | None:
        return self._application_index.get(normalise_label(text))

    def find_qualitative(self, text: str) -> QualitativeTerm | None:
        """The qualitative term ``text`` (its name or an alias) is, or None."""
        key = self._qualitative_index.get(normalise_label(text))
        return None if key is None else self.qualitative[key]


class _Labelled(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def aliases(self) -> tuple[str, ...]: ...


def label_index(entries: Mapping[str, _Labelled], what: str) -> dict[str, str]:
    """Every folded label (key, name, alias) of ``entries`` to its key; an alias that two entries
    claim is refused (VocabularyError ``vocabulary-conflict``)."""
    index: dict[str, str] = {}
    for key, entry in entries.items():
        for label in (key, entry.name, *entry.aliases):
            folded = normalise_label(label)
            owner = index.setdefault(folded, key)
            if owner != key:
                raise VocabularyError(
                    f"{what} alias {label!r} names both {owner!r} and {key!r}", type="vocabulary-conflict"
                )
    return index


def _read(name: str) -> dict:
    return tomllib.loads(resources.files(__package__).joinpath(name).read_text(encoding="utf-8"))


def _terms(raw: dict) -> dict[str, Term]:
    terms = {}
    for key, spec in raw.items():
        described_by = spec.get("described_by", "structure")
        if described_by not in MAKEUPS:
            raise VocabularyError(
                f"term {key!r}: described_by {described_by!r} is not one of {', '.join(MAKEUPS)}",
                type="vocabulary-conflict",
            )
        terms[key] = Term(key=key, name=spec["name"], aliases=tuple(spec.get("aliases", ())), described_by=described_by)
    return terms


def _default_display(key: str, spec: dict) -> tuple[str, ...]:
    """A property's ``default_display`` (one unit or a list), else its first display unit, else its
    canonical unit; each must be one of its display units."""
    given = spec.get("default_display")
    display = tuple(spec.get("display", ()))
    if given is None:
        return display[:1] or (spec["unit"],)
    units = (given,) if isinstance(given, str) else tuple(given)
    strays = [unit for unit in units if unit not in display]
    if not units or strays:
        raise VocabularyError(
            f"property {key!r}: default_display {strays or units!r} is not among its display units",
            type="vocabulary-conflict",
        )
    return units


@cache
def get_vocabulary() -> Vocabulary:
    """The vocabulary shipped with this version, read once per process."""
    categories = {key: Category(key=key, name=spec["name"]) for key, spec in _read("categories.toml").items()}
    properties = {}
    for key, spec in _read("properties.toml").items():
        if spec["category"] not in categories:
            raise VocabularyError(f"property {key!r} has unknown category {spec['category']!r}")
        properties[key] = Property(
            key=key,
            name=spec["name"],
            category=spec["category"],
            unit=spec["unit"],
            kind=spec.get("kind", "quantity"),
            min=spec.get("min"),
            max=spec.get("max"),
            min_exclusive=spec.get("min_exclusive", False),
            max_exclusive=spec.get("max_exclusive", False),
            display=tuple(spec.get("display", ())),
            aliases=tuple(spec.get("aliases", ())),
            default_display=_default_display(key, spec),
        )
    # one order everywhere (the API's list, a data sheet, a select): by category as categories.toml
    # lists them, then as properties.toml does
    rank = {key: index for index, key in enumerate(categories)}
    properties = dict(sorted(properties.items(), key=lambda item: rank[item[1].category]))
    classes = _terms(_read("classes.toml"))
    applications = _terms(_read("applications.toml"))
    qualitative = {}
    for key, spec in _read("qualitative.toml").items():
        unknown = [name for name in spec.get("properties", ()) if name not in properties]
        if unknown or len(key) > QUALITATIVE_KEY_MAX:
            raise VocabularyError(
                f"qualitative term {key!r}: "
                + (
                    f"unknown properties {unknown}" if unknown else f"a key is at most {QUALITATIVE_KEY_MAX} characters"
                ),
                type="vocabulary-conflict",
            )
        qualitative[key] = QualitativeTerm(
            key=key,
            name=spec["name"],
            aliases=tuple(spec.get("aliases", ())),
            properties=tuple(spec.get("properties", ())),
        )
    return Vocabulary(
        properties=properties,
        classes=classes,
        applications=applications,
        qualitative=qualitative,
        categories=categories,
        _property_index=label_index(properties, "property"),
        _class_index=label_index(classes, "class"),
        _application_index=label_index(applications, "application"),
        _qualitative_index=label_index(qualitative, "qualitative term"),
    )
