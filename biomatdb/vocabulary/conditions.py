"""The condition vocabulary (``conditions.toml``): specimen states, media, methods and standards.

It answers "which term does this text mean?" for one condition field: ``resolve("medium",
"phosphate buffered saline")`` is the term named ``PBS``, ``canonical`` gives the spelling to
store and compare (``as extruded`` → ``as-extruded``), and ``suggest`` the "did you mean" of a
text that names no term. A text no term names is not an error here: labs write free text, and
ingest keeps it as written (docs/ingest-format.md).
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType

from biomatdb.errors import VocabularyError
from biomatdb.suggest import LIMIT, closest
from biomatdb.vocabulary import Property, normalise_label

#: The temperature a measurement was made at: read like a temperature property, stored in kelvin
#: (``measurements.temperature_K``), shown in °C by default (a unit system may say °F).
CONDITION_TEMPERATURE = Property(
    key="temperature",
    name="Temperature",
    category="conditions",
    unit="K",
    kind="temperature",
    min=0,
    min_exclusive=True,
    display=("degC", "K", "degF"),
    default_display=("degC",),
)

#: The text condition fields of a measurement (``measurements`` columns), each a table of the file.
CONDITION_FIELDS = ("specimen_state", "medium", "method", "standard")

_KEY = re.compile(r"[a-z][a-z0-9_]*")
_ENTRY_FIELDS = frozenset({"name", "aliases", "note"})


def fold_condition(text: str) -> str:
    """Fold a condition text for matching: ``normalise_label``, then only letters and digits, so
    ``"as extruded"``, ``"As-Extruded"`` and ``"as_extruded"`` fold alike, as do ``"ASTM F 67"``
    and ``"ASTM F67"``."""
    return "".join(character for character in normalise_label(text) if character.isalnum())


@dataclass(frozen=True, slots=True)
class ConditionTerm:
    """One term of a condition field: ``name`` is the spelling stored, compared and shown."""

    field: str
    key: str
    name: str
    aliases: tuple[str, ...] = ()
    note: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        return (self.key, self.name, *self.aliases)


@dataclass(frozen=True)
class ConditionVocabulary:
    """The terms of every condition field, indexed by field and folded label."""

    terms: Mapping[str, Mapping[str, ConditionTerm]]
    _index: Mapping[str, Mapping[str, str]] = field(repr=False, default_factory=dict)

    def __iter__(self) -> Iterator[ConditionTerm]:
        for terms in self.terms.values():
            yield from terms.values()

    def field_terms(self, field_name: str) -> tuple[ConditionTerm, ...]:
        return tuple(self._terms(field_name).values())

    def resolve(self, field_name: str, text: str) -> ConditionTerm | None:
        """The term of ``field_name`` whose key, name or alias ``text`` is (``fold_condition``);
        None when it names none. A field that is not a condition field is refused."""
        key = self._labels(field_name).get(fold_condition(text))
        return None if key is None else self._terms(field_name)[key]

    def canonical(self, field_name: str, text: str) -> str:
        """The spelling to store and compare: the term's name, or ``text`` as written (stripped)
        when no term names it."""
        term = self.resolve(field_name, text)
        return text.strip() if term is None else term.name

    def suggest(self, field_name: str, text: str, n: int = LIMIT) -> list[str]:
        """The names of at most ``n`` terms of the field whose labels read most like ``text``,
        best first (``biomatdb.suggest.closest``, the rule of every "did you mean")."""
        keys = closest(text, self._labels(field_name), limit=n, fold=fold_condition)
        terms = self._terms(field_name)
        return [terms[key].name for key in keys]

    def _terms(self, field_name: str) -> Mapping[str, ConditionTerm]:
        try:
            return self.terms[field_name]
        except KeyError:
            raise VocabularyError(
                f"{field_name!r} is not a condition field; expected one of {', '.join(CONDITION_FIELDS)}",
                type="unknown-condition",
            ) from None

    def _labels(self, field_name: str) -> Mapping[str, str]:
        self._terms(field_name)
        return self._index[field_name]


def _refuse(message: str) -> VocabularyError:
    return VocabularyError(message, type="invalid-vocabulary")


def _term(field_name: str, key: str, spec: object) -> ConditionTerm:
    where = f"{field_name} {key!r}"
    if not _KEY.fullmatch(key):
        raise _refuse(f"{where}: a key is snake_case letters and digits")
    if not isinstance(spec, dict):
        raise _refuse(f"{where} is not a table")
    if unknown := set(spec) - _ENTRY_FIELDS:
        raise _refuse(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip() or name != name.strip():
        raise _refuse(f"{where}: name must be a non-empty string without spaces around it")
    aliases = spec.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) and alias.strip() for alias in aliases):
        raise _refuse(f"{where}: aliases must be a list of non-empty strings")
    note = spec.get("note", "")
    if not isinstance(note, str):
        raise _refuse(f"{where}: note must be a string")
    return ConditionTerm(field=field_name, key=key, name=name, aliases=tuple(aliases), note=note)


def parse_conditions(text: str) -> ConditionVocabulary:
    """Read a conditions.toml text. Refuses, with a VocabularyError naming the entry: a TOML
    error, an unknown table or field, a key that is not snake_case, an entry without a name, and
    one folded label given to two terms of a field."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(f"conditions.toml is not valid TOML: {exc}") from None
    if unknown := set(raw) - set(CONDITION_FIELDS):
        raise _refuse(f"conditions.toml: unknown table(s) {', '.join(sorted(unknown))}")
    terms: dict[str, Mapping[str, ConditionTerm]] = {}
    index: dict[str, Mapping[str, str]] = {}
    for field_name in CONDITION_FIELDS:
        specs = raw.get(field_name, {})
        if not isinstance(specs, dict):
            raise _refuse(f"conditions.toml: [{field_name}] is not a table of terms")
        entries = {key: _term(field_name, key, spec) for key, spec in specs.items()}
        labels: dict[str, str] = {}
        for entry in entries.values():
            for label in entry.labels:
                folded = fold_condition(label)
                if not folded:
                    raise _refuse(f"{field_name} {entry.key!r}: label {label!r} has no letter or digit")
                owner = labels.setdefault(folded, entry.key)
                if owner != entry.key:
                    raise VocabularyError(
                        f"{field_name} alias {label!r} names both {owner!r} and {entry.key!r}",
                        type="vocabulary-conflict",
                    )
        terms[field_name] = MappingProxyType(entries)
        index[field_name] = MappingProxyType(labels)
    return ConditionVocabulary(terms=MappingProxyType(terms), _index=MappingProxyType(index))


@lru_cache(maxsize=1)
def load_conditions() -> ConditionVocabulary:
    """The condition vocabulary shipped with this version, read once per process."""
    return parse_conditions(resources.files(__package__).joinpath("conditions.toml").read_text(encoding="utf-8"))


def resolve(field_name: str, text: str) -> ConditionTerm | None:
    """``load_conditions().resolve``: the term ``text`` names in the field, or None."""
    return load_conditions().resolve(field_name, text)


def suggest(field_name: str, text: str, n: int = LIMIT) -> list[str]:
    """``load_conditions().suggest``: the closest terms' names, best first."""
    return load_conditions().suggest(field_name, text, n)
