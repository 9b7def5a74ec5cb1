"""Polymer names: canonical repeat unit -> the common name, abbreviations and synonyms.

The entries live in ``polymers.toml`` beside this module (its header says how they were
checked); this module only reads them, refuses a malformed entry, and answers "which polymer
is this structure?" and "which polymer does this curator's name mean?". It needs no RDKit:
structures are compared as the canonical SMILES the file stores, so a caller looks a
structure up by ``parse_structure(text).canonical_smiles``.
"""

from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from functools import cache
from importlib import resources
from typing import Literal

from biomatdb.errors import VocabularyError
from biomatdb.vocabulary import normalise_label

#: The material classes a polymer entry may have (keys of classes.toml).
MATERIAL_CLASSES = ("polymer", "natural")

SourceHow = Literal["read", "remembered"]
SOURCE_HOWS = ("read", "remembered")

_ENTRY_FIELDS = {
    "key",
    "name",
    "abbreviations",
    "synonyms",
    "repeat_unit",
    "other_forms",
    "units",
    "copolymer",
    "class",
    "sources",
    "note",
    "grade",
}
_GRADE_FIELDS = {"name", "abbreviations", "synonyms"}
_SOURCE_FIELDS = {"citation", "how"}


@dataclass(frozen=True, slots=True)
class PolymerSource:
    """Where entries were checked: ``how`` is "read" (read while writing the file) or
    "remembered" (known from memory, not read)."""

    key: str
    citation: str
    how: SourceHow


@dataclass(frozen=True, slots=True)
class PolymerGrade:
    """A material with its own name that shares its entry's repeat unit (HDPE of polyethylene)."""

    name: str
    abbreviations: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PolymerName:
    key: str
    name: str
    abbreviations: tuple[str, ...] = ()
    synonyms: tuple[str, ...] = ()
    repeat_unit: str | None = None
    units: tuple[str, ...] = ()
    copolymer: bool = False
    material_class: str = "polymer"
    sources: tuple[str, ...] = ()
    grades: tuple[PolymerGrade, ...] = ()
    other_forms: tuple[str, ...] = ()
    note: str = ""

    @property
    def structures(self) -> tuple[str, ...]:
        """Every canonical SMILES that names this polymer: the repeat unit, then its other forms."""
        return ((self.repeat_unit,) if self.repeat_unit else ()) + self.other_forms


@dataclass(frozen=True)
class PolymerNames:
    entries: tuple[PolymerName, ...]
    sources: dict[str, PolymerSource]
    _by_key: dict[str, PolymerName] = field(repr=False, default_factory=dict)
    _by_structure: dict[str, str] = field(repr=False, default_factory=dict)
    _by_name: dict[str, tuple[str, int | None]] = field(repr=False, default_factory=dict)

    def __len__(self) -> int:
        return len(self.entries)

    def entry(self, key: str) -> PolymerName:
        """The entry with this key; VocabularyError when there is none."""
        try:
            return self._by_key[key]
        except KeyError:
            raise VocabularyError(f"unknown polymer {key!r}", type="unknown-polymer") from None

    def by_structure(self, canonical_smiles: str) -> PolymerName | None:
        """The polymer whose repeat unit (or another form of it) is exactly this canonical SMILES.

        The text is not canonicalised here: pass ``parse_structure(x).canonical_smiles``.
        A copolymer is never found by one of its comonomer units.
        """
        key = self._by_structure.get(canonical_smiles.strip())
        return None if key is None else self._by_key[key]

    def by_name(self, text: str) -> tuple[PolymerName, PolymerGrade | None] | None:
        """The polymer, and its grade when the text names one, that ``text`` names: its name,
        an abbreviation or a synonym, folded by ``normalise_label``; None when nothing matches."""
        found = self._by_name.get(normalise_label(text))
        if found is None:
            return None
        key, grade = found
        entry = self._by_key[key]
        return entry, None if grade is None else entry.grades[grade]

    def names_of(self, entry: PolymerName) -> list[str]:
        """All names of an entry as the file gives them: name, abbreviations, synonyms, then
        those of each grade."""
        names = [entry.name, *entry.abbreviations, *entry.synonyms]
        for grade in entry.grades:
            names += [grade.name, *grade.abbreviations, *grade.synonyms]
        return names


def _refuse(message: str) -> VocabularyError:
    return VocabularyError(message, type="invalid-vocabulary")


def _conflict(key: str, what: str, owner: str) -> VocabularyError:
    whose = "given twice in this entry" if owner == key else f"already {owner!r}'s"
    return VocabularyError(f"polymer {key!r}: the {what} is {whose}", type="vocabulary-conflict")


def _strings(spec: dict, name: str, where: str) -> tuple[str, ...]:
    values = spec.get(name, [])
    if not isinstance(values, list) or not all(isinstance(v, str) and v.strip() for v in values):
        raise _refuse(f"{where}: {name} must be a list of non-empty strings")
    return tuple(values)


def _structure(text: object, what: str, where: str) -> str:
    if not isinstance(text, str) or not text or text != text.strip() or " " in text or "*" not in text:
        raise _refuse(f"{where}: {what} {text!r} is not a repeat-unit SMILES with * attachment points")
    return text


def _source(key: str, spec: object) -> PolymerSource:
    where = f"source {key!r}"
    if not isinstance(spec, dict):
        raise _refuse(f"{where} is not a table")
    if unknown := set(spec) - _SOURCE_FIELDS:
        raise _refuse(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    citation, how = spec.get("citation"), spec.get("how")
    if not isinstance(citation, str) or not citation.strip():
        raise _refuse(f"{where} has no citation")
    if how not in SOURCE_HOWS:
        raise _refuse(f"{where}: how must be one of {', '.join(SOURCE_HOWS)}, not {how!r}")
    return PolymerSource(key=key, citation=citation, how=how)


def _grade(spec: object, where: str) -> PolymerGrade:
    if not isinstance(spec, dict):
        raise _refuse(f"{where}: a grade is not a table")
    if unknown := set(spec) - _GRADE_FIELDS:
        raise _refuse(f"{where}: a grade has unknown field(s) {', '.join(sorted(unknown))}")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _refuse(f"{where}: a grade has no name")
    return PolymerGrade(
        name=name, abbreviations=_strings(spec, "abbreviations", where), synonyms=_strings(spec, "synonyms", where)
    )


def _entry(spec: object, position: int, sources: dict[str, PolymerSource]) -> PolymerName:
    if not isinstance(spec, dict):
        raise _refuse(f"polymer #{position} is not a table")
    key = spec.get("key")
    if not isinstance(key, str) or not key.strip():
        raise _refuse(f"polymer #{position} (name {spec.get('name')!r}) has no key")
    where = f"polymer {key!r}"
    if unknown := set(spec) - _ENTRY_FIELDS:
        raise _refuse(f"{where}: unknown field(s) {', '.join(sorted(unknown))}")
    name = spec.get("name")
    if not isinstance(name, str) or not name.strip():
        raise _refuse(f"{where} has no name")
    material_class = spec.get("class")
    if material_class not in MATERIAL_CLASSES:
        raise _refuse(f"{where}: class must be one of {', '.join(MATERIAL_CLASSES)}, not {material_class!r}")
    cited = _strings(spec, "sources", where)
    if not cited:
        raise _refuse(f"{where} names no source")
    if uncatalogued := [s for s in cited if s not in sources]:
        raise _refuse(f"{where} cites unknown source(s) {', '.join(uncatalogued)}")
    copolymer = spec.get("copolymer", False)
    if not isinstance(copolymer, bool):
        raise _refuse(f"{where}: copolymer must be true or false")
    repeat_unit = spec.get("repeat_unit")
    if repeat_unit is not None:
        repeat_unit = _structure(repeat_unit, "repeat_unit", where)
    units = tuple(_structure(u, "unit", where) for u in _strings(spec, "units", where))
    other_forms = tuple(_structure(f, "other form", where) for f in _strings(spec, "other_forms", where))
    if copolymer and (repeat_unit is not None or len(units) < 2):
        raise _refuse(f"{where}: a copolymer has two or more units and no repeat_unit")
    if units and not copolymer:
        raise _refuse(f"{where}: units are for copolymers (copolymer = true)")
    if other_forms and repeat_unit is None and not copolymer:
        raise _refuse(f"{where}: other_forms without a repeat_unit")
    grades = spec.get("grade", [])
    if not isinstance(grades, list):
        raise _refuse(f"{where}: grade must be an array of tables ([[polymer.grade]])")
    note = spec.get("note", "")
    if not isinstance(note, str):
        raise _refuse(f"{where}: note must be a string")
    return PolymerName(
        key=key,
        name=name,
        abbreviations=_strings(spec, "abbreviations", where),
        synonyms=_strings(spec, "synonyms", where),
        repeat_unit=repeat_unit,
        units=units,
        copolymer=copolymer,
        material_class=material_class,
        sources=cited,
        grades=tuple(_grade(g, where) for g in grades),
        other_forms=other_forms,
        note=note,
    )


def _labels(entry: PolymerName):
    """(label, grade index or None) for every name of an entry."""
    for label in (entry.name, *entry.abbreviations, *entry.synonyms):
        yield label, None
    for index, grade in enumerate(entry.grades):
        for label in (grade.name, *grade.abbreviations, *grade.synonyms):
            yield label, index


def parse_polymer_names(text: str) -> PolymerNames:
    """Read a polymers.toml text. Refuses, with a VocabularyError naming the entry, a TOML
    error, a missing key or name, an unknown field, class or source, a duplicate key, one
    structure given to two entries, and one folded name given to two entries (or twice)."""
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise _refuse(f"polymers.toml is not valid TOML: {exc}") from None
    if unknown := set(raw) - {"sources", "polymer"}:
        raise _refuse(f"polymers.toml: unknown table(s) {', '.join(sorted(unknown))}")
    sources = {key: _source(key, spec) for key, spec in raw.get("sources", {}).items()}
    entries = tuple(_entry(spec, position, sources) for position, spec in enumerate(raw.get("polymer", []), start=1))
    by_key: dict[str, PolymerName] = {}
    by_structure: dict[str, str] = {}
    by_name: dict[str, tuple[str, int | None]] = {}
    for entry in entries:
        if entry.key in by_key:
            raise VocabularyError(f"polymer {entry.key!r} is defined twice", type="vocabulary-conflict")
        by_key[entry.key] = entry
        for smiles in entry.structures:
            if smiles in by_structure:
                raise _conflict(entry.key, f"structure {smiles}", by_structure[smiles])
            by_structure[smiles] = entry.key
        for label, grade in _labels(entry):
            folded = normalise_label(label)
            if folded in by_name:
                raise _conflict(entry.key, f"name {label!r}", by_name[folded][0])
            by_name[folded] = (entry.key, grade)
    return PolymerNames(entries=entries, sources=sources, _by_key=by_key, _by_structure=by_structure, _by_name=by_name)


@cache
def polymer_names() -> PolymerNames:
    """The polymer names shipped with this version, read once per process."""
    return parse_polymer_names(resources.files(__package__).joinpath("polymers.toml").read_text(encoding="utf-8"))
