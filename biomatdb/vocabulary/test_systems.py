"""Test systems of biological evaluations: cell lines (with their Cellosaurus accessions), cell
types, bacteria, and the species of in-vivo models.

The entries live in ``test_systems.toml`` beside this module (its header says how each accession
was verified); this module only reads them, refuses a malformed entry, and answers "which test
system does this curator's text name?" and, for a text that names none, "which names is it
closest to?".
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from types import MappingProxyType
from typing import Literal

from biomatdb.errors import VocabularyError
from biomatdb.suggest import LIMIT, closest
from biomatdb.vocabulary import normalise_label

TestSystemKind = Literal["cell_line", "cell_type", "species", "organism"]

#: The file's tables and the kind of entry each holds.
KINDS: Mapping[str, TestSystemKind] = MappingProxyType(
    {"cell_lines": "cell_line", "cell_types": "cell_type", "species": "species", "organisms": "organism"}
)

#: A Cellosaurus accession: ``CVCL_`` and four digits or capitals (CVCL_0462).
CELLOSAURUS_ACCESSION = re.compile(r"^CVCL_[0-9A-Z]{4}$")

_KEY = re.compile(r"^[a-z0-9]+(?:_[a-z0-9]+)*$")

# The fields each kind may have: an accession names a cell line only; a species is where a
# cell line or a cell type comes from (a species entry is its own species).
_FIELDS: Mapping[TestSystemKind, frozenset[str]] = MappingProxyType(
    {
        "cell_line": frozenset({"name", "aliases", "cellosaurus", "species", "cell_type", "source", "note"}),
        "cell_type": frozenset({"name", "aliases", "species", "source", "note"}),
        "species": frozenset({"name", "aliases", "source", "note"}),
        "organism": frozenset({"name", "aliases", "source", "note"}),
    }
)


def fold_designation(text: str) -> str:
    """Fold a test-system name for matching: ``normalise_label``, then only letters and digits.

    ``"MG-63"``, ``"MG63"`` and ``"mg 63"`` fold alike, as do ``"RAW 264.7"`` and ``"RAW264.7"``:
    curators write the same line with and without its dashes, dots, slashes and spaces.
    """
    return "".join(character for character in normalise_label(text) if character.isalnum())


@dataclass(frozen=True, slots=True)
class TestSystem:
    """One entry: a cell line, a cell type, a species or an organism.

    ``species`` is the key of the species entry the cells come from (a species entry's own key;
    None for organisms and for cell types whose species the record does not give).
    ``cellosaurus`` is set only for cell lines whose accession was verified; ``source`` says
    where it was read.
    """

    __test__ = False  # a domain class, not a pytest test class

    key: str
    kind: TestSystemKind
    name: str
    aliases: tuple[str, ...] = ()
    cellosaurus: str | None = None
    species: str | None = None
    cell_type: str | None = None
    source: str = ""
    note: str = ""

    @property
    def labels(self) -> tuple[str, ...]:
        """Every text that names this entry as the file gives it: key, name, then aliases."""
        return (self.key, self.name, *self.aliases)


@dataclass(frozen=True)
class TestSystems:
    """The test systems of one vocabulary file, indexed by key and by folded label."""

    __test__ = False

    entries: Mapping[str, TestSystem]
    _index: Mapping[str, str] = field(repr=False, default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def __iter__(self) -> Iterator[TestSystem]:
        return iter(self.entries.values())

    @property
    def labels(self) -> Mapping[str, str]:
        """Every folded label (key, name, alias) to the key of the entry it names."""
        return MappingProxyType(dict(self._index))

    def entry(self, key: str) -> TestSystem:
        """The entry with this key; VocabularyError when there is none."""
        try:
            return self.entries[key]
        except KeyError:
            raise VocabularyError(f"unknown test system {key!r}", type="unknown-test-system") from None

    def of_kind(self, kind: TestSystemKind) -> tuple[TestSystem, ...]:
        return tuple(entry for entry in self.entries.values() if entry.kind == kind)

    def resolve(self, text: str) -> TestSystem | None:
        """The entry whose key, name or alias ``text`` is, compared by ``fold_designation``
        (case, spaces and punctuation ignored); None when it names none, or folds to nothing."""
        key = self._index.get(fold_designation(text))
        return None if key is None else self.entries[key]

    def suggest(self, text: str, n: int = LIMIT) -> list[str]:
        """The names of at most ``n`` entries whose labels read most like ``text``, best first
        (``biomatdb.suggest.closest``, the rule every "did you mean" uses); [] when none is alike."""
        keys = closest(text, self._index, limit=n, fold=fold_designation)
        return [self.entries[key].name for key in keys]


def _refuse(message: str) -> VocabularyError:
    return VocabularyError(message, type="invalid-vocabulary")


def _text(spec: dict, name: str, where: str, *, required: bool = False) -> str | None:
    value = spec.get(name)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not value.strip():
        raise _refuse(f"{where}: {name} must be a non-empty string")
    return value


def _entry(key: str, kind: TestSystemKind, spec: object) -> TestSystem:
    where = f"{kind} {key!r}"
    if not _KEY.fullmatch(key):
        raise _refuse(f"{where}: a key is snake_case letters and digits")
    if not isinstance(spec, dict):
        raise _refuse(f"{where} is not a table")
    if unknown := set(spec) - _FIELDS[kind]:
        raise _refuse(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    aliases = spec.get("aliases", [])
    if not isinstance(aliases, list) or not all(isinstance(alias, str) and alias.strip() for alias in aliases):
        raise _refuse(f"{where}: aliases must be a list of non-empty strings")
    cellosaurus = _text(spec, "cellosaurus", where)
    source = _text(spec, "source", where) or ""
    if cellosaurus is not None:
        if not CELLOSAURUS_ACCESSION.fullmatch(cellosaurus):
            raise _refuse(f"{where}: {cellosaurus!r} is not a Cellosaurus accession (CVCL_ and four characters)")
        if not source:
            raise _refuse(f"{where}: an accession needs a source saying where it was read")
    return TestSystem(
        key=key,
        kind=kind,
        name=_text(spec, "name", where, required=True) or "",
        aliases=tuple(aliases),
        cellosaurus=cellosaurus,
        species=key if kind == "species" else _text(spec, "species", where),
        cell_type=_text(spec, "cell_type", where),
        source=source,
        note=_text(spec, "note", where) or "",
    )


def _index(entries: Mapping[str, TestSystem]) -> dict[str, str]:
    index: dict[str, str] = {}
    accessions: dict[str, str] = {}
    for entry in entries.values():
        if entry.species is not None:
            origin = entries.get(entry.species)
            if origin is None or origin.kind != "species":
                raise _refuse(f"{entry.kind} {entry.key!r}: species {entry.species!r} is not a [species] entry")
        if entry.cellosaurus is not None:
            owner = accessions.setdefault(entry.cellosaurus, entry.key)
            if owner != entry.key:
                raise VocabularyError(
                    f"accession {entry.cellosaurus} is given to both {owner!r} and {entry.key!r}",
                    type="vocabulary-conflict",
                )
        for label in entry.labels:
            folded = fold_designation(label)
            if not folded:
                raise _refuse(f"{entry.kind} {entry.key!r}: label {label!r} has no letter or digit")
            # The same entry may spell one label twice (hOB, HOb); two entries may not share one.
            owner = index.setdefault(folded, entry.key)
            if owner != entry.key:
                raise VocabularyError(
                    f"test system alias {label!r} names both {owner!r} and {entry.key!r}", type="vocabulary-conflict"
                )
    return index


def parse_test_systems(text: str) -> TestSystems:
    """Read a test_systems.toml text. Refuses, with a VocabularyError naming the entry: a TOML
    error, an unknown table or field, a key that is not snake_case or is used twice, an entry
    without a name, an accession that is malformed or has no source or names two entries, a
    species that is not a [species] entry, and one folded label given to two entries."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(f"test_systems.toml is not valid TOML: {exc}") from None
    if unknown := set(raw) - set(KINDS):
        raise _refuse(f"test_systems.toml: unknown table(s) {', '.join(sorted(unknown))}")
    entries: dict[str, TestSystem] = {}
    for table, kind in KINDS.items():
        specs = raw.get(table, {})
        if not isinstance(specs, dict):
            raise _refuse(f"test_systems.toml: [{table}] is not a table of entries")
        for key, spec in specs.items():
            if key in entries:
                raise VocabularyError(
                    f"{kind} {key!r}: the key is already {entries[key].kind} {key!r}'s", type="vocabulary-conflict"
                )
            entries[key] = _entry(key, kind, spec)
    return TestSystems(entries=MappingProxyType(entries), _index=MappingProxyType(_index(entries)))


@lru_cache(maxsize=1)
def load_test_systems() -> TestSystems:
    """The test systems shipped with this version, read once per process."""
    return parse_test_systems(resources.files(__package__).joinpath("test_systems.toml").read_text(encoding="utf-8"))
