"""What full-text search indexes per material (SQLite FTS5, PostgreSQL tsvector,
Elasticsearch), derived data recomputed for the materials a change touched:

- ``search_text``: the material's name and all its names, its class, subclass, description and
  applications. Every text search filters on it, each word as a prefix.
- ``search_name`` and ``search_names``: the words of the shown name, and of every name (synonyms,
  the polymer vocabulary's names of its structure, and folded forms such as ``ti6al4v`` for
  "Ti-6Al-4V" or ``polylactide`` for "Poly(L-lactide)"). Both are space-delimited, with a space at
  each end. Relevance (``relevance``) ranks on them alike in every backend.
"""

from __future__ import annotations

import re
import unicodedata
from collections import defaultdict
from collections.abc import Iterable
from functools import lru_cache

from sqlalchemy import Connection, bindparam, select, update

from biomatdb.identity import is_derived_key, material_key
from biomatdb.models import ChemicalStructure, Material, MaterialApplication, MaterialSynonym
from biomatdb.sqlin import in_values

_BATCH = 500
# letters and digits; "_" and every other mark split words, in every backend alike
_WORD = re.compile(r"[^\W_]+", re.UNICODE)
_POLY = re.compile(r"^poly\s*[(\[](.+)[)\]]\s*$", re.IGNORECASE)
_STEREO = re.compile(r"^(?:d\s*,\s*l|dl|l|d|rac|meso)\s*-\s*", re.IGNORECASE)

#: How a name matches the words of a text query, and what each kind of match weighs: every word
#: whole in the shown name, every word whole in some name, every word a prefix of a word of the
#: shown name, of some name. A result's ``score`` is the sum over the maximum (15), in [0, 1];
#: a material matched only by its description or applications scores 0.
RELEVANCE_WEIGHTS = {"exact_name": 8, "exact_names": 4, "prefix_name": 2, "prefix_names": 1}
RELEVANCE_MAX = sum(RELEVANCE_WEIGHTS.values())


#: Letters that no Unicode decomposition takes apart, each written as the ASCII people type for it
#: (our own choices, lower case, since text is case-folded before this table applies):
_LETTERS = str.maketrans(
    {
        "æ": "ae",  # the ash ligature (Danish, Norwegian, Latin): "Cæsium" is typed "caesium"
        "ø": "o",  # the slashed o (Danish, Norwegian): "Ørsted" is typed "orsted"
        "œ": "oe",  # the French ligature: "cœur" is typed "coeur"
        "ł": "l",  # the Polish l with a stroke: "Łódź" is typed "lodz"
        "đ": "d",  # the d with a stroke (Croatian, Vietnamese): "Đurđevac" is typed "djurdjevac" or "durdevac"
        "ð": "d",  # the Icelandic eth
        "þ": "th",  # the Icelandic thorn, as English spells it
        "ı": "i",  # the Turkish dotless i (its capital "I" is an "i" already)
        "ħ": "h",  # the Maltese h with a stroke
        "ŧ": "t",  # the Sámi t with a stroke
        "ŋ": "n",  # the eng (Sámi, phonetics)
        "ə": "e",  # the schwa (Azerbaijani "Ə"): written "e" where a keyboard has none
    }
)

#: The longest word, in UTF-8 bytes, any index keeps: PostgreSQL's longest lexeme (2,047 bytes).
#: A longer word is cut on a letter boundary, at index and at query time alike; Elasticsearch's
#: whitespace tokenizer is told a longer limit in UTF-16 units, so it never cuts one again.
WORD_MAX_BYTES = 2_047


def fold(text: str) -> str:
    """A text as every backend compares it: without marks, case-folded, compatibility
    characters decomposed ("½" as "1⁄2", "ﬁ" as "fi"), the letters of ``_LETTERS`` in ASCII.

    The one definition of folding: the core stores its words (``search_text``), and every
    backend's query goes through it; no index folds again. It is a fixed point: ``fold(fold(t))
    == fold(t)``, which the loop ensures (case folding can bring a mark back: "İ" as "i̇")."""
    if text.isascii():  # most text: nothing to decompose, folding is lower case
        return text.lower()
    folded = text
    for _ in range(4):  # two rounds reach the fixed point for every character Python knows
        again = "".join(
            c for c in unicodedata.normalize("NFKD", folded) if not unicodedata.category(c).startswith("M")
        ).casefold()
        if again == folded:
            break
        folded = again
    return folded.translate(_LETTERS)


def _bounded(word: str) -> str:
    if len(word) * 4 <= WORD_MAX_BYTES:
        return word
    return word.encode()[:WORD_MAX_BYTES].decode(errors="ignore")


def words(text: str) -> list[str]:
    """The words of a text, in order: folded first (``fold``), then split on everything but
    letters and digits ("_" splits too), each cut to ``WORD_MAX_BYTES``. Folding before
    splitting is what keeps every backend alike: "½" is the words "1" and "2", and a combining
    accent ("e" + U+0301) is gone before it could split a word in two."""
    return [_bounded(word) for word in _WORD.findall(fold(text))]


def fold_word(word: str) -> str:
    """One word (or a few run together) as every backend compares it: ``words`` joined."""
    return "".join(words(word))


#: distinct words a free-text query may have: each costs every backend a clause per matching material
MAX_QUERY_WORDS = 32


def query_words(text: str) -> list[str]:
    """The distinct words of a text (``words``), in the order given: what a query searches for,
    and what the core stored for the same text."""
    return list(dict.fromkeys(words(text)))


def name_variants(name: str) -> list[str]:
    """Folded one-word forms of a name that people type: "Ti-6Al-4V" as ``ti6al4v``,
    "Poly(L-lactide)" and "poly(lactic acid)" as ``polylactide`` and ``polylacticacid``."""
    variants = []
    parts = words(name)
    squashed = "".join(parts)
    if len(parts) > 1 and len(squashed) <= 40:
        variants.append(squashed)
    poly = _POLY.match(name.strip())
    if poly:
        inner = _STEREO.sub("", poly.group(1).strip())
        joined = "poly" + "".join(_WORD.findall(inner))
        if joined not in variants:
            variants.append(joined)
    return [fold_word(variant) for variant in variants]


# the texts many materials share (a class, the vocabulary's names of a structure) are folded once a
# process: short texts go through a bounded cache (a load of millions of distinct names keeps its
# memory, and the shared ones, asked for by every material, stay in it); longer ones are folded anew
_SHARED_LENGTH = 100


@lru_cache(maxsize=16_384)
def _shared_words(text: str) -> tuple[str, ...]:
    return tuple(query_words(text))


@lru_cache(maxsize=16_384)
def _shared_variants(name: str) -> tuple[str, ...]:
    return tuple(name_variants(name))


class _Folded:
    """``query_words`` and ``name_variants`` of one material's texts, each text folded once: its
    name is read for all three search columns."""

    __slots__ = ("_variants", "_words")

    def __init__(self) -> None:
        self._words: dict[str, tuple[str, ...]] = {}
        self._variants: dict[str, tuple[str, ...]] = {}

    def words(self, text: str) -> tuple[str, ...]:
        found = self._words.get(text)
        if found is None:
            shared = len(text) <= _SHARED_LENGTH
            found = self._words[text] = _shared_words(text) if shared else tuple(query_words(text))
        return found

    def variants(self, name: str) -> tuple[str, ...]:
        found = self._variants.get(name)
        if found is None:
            shared = len(name) <= _SHARED_LENGTH
            found = self._variants[name] = _shared_variants(name) if shared else tuple(name_variants(name))
        return found


def words_of(names: Iterable[str], folded: _Folded | None = None) -> str:
    """The words of names and their folded forms, each once, as `` w1 w2 … `` (a space at each end)."""
    folded = folded or _Folded()
    seen: dict[str, None] = {}
    for name in names:
        for word in [*folded.words(name), *folded.variants(name)]:
            seen.setdefault(word, None)
    return " " + " ".join(seen) + " " if seen else " "


def vocabulary_names(name: str, canonical_smiles: str | None) -> list[str]:
    """The polymer vocabulary's names of a material: those of the entry of its structure, or of
    the entry its name names; with the names of the grade its name names, and no other grade's."""
    from biomatdb.vocabulary.polymers import polymer_names

    names = polymer_names()
    by_name = names.by_name(name)
    # a name the vocabulary knows says more than a structure: a curated PLGA grade may be stored
    # as its lactyl unit alone, which is PLA's
    entry = by_name[0] if by_name is not None else None
    if entry is None and canonical_smiles:
        entry = names.by_structure(canonical_smiles)
    if entry is None:
        return []
    found = [entry.name, *entry.abbreviations, *entry.synonyms]
    if by_name is not None and by_name[0].key == entry.key and by_name[1] is not None:
        grade = by_name[1]
        found += [grade.name, *grade.abbreviations, *grade.synonyms]
    return found


def compose(
    *,
    name: str,
    synonyms: Iterable[str],
    material_class: str | None,
    subclass: str | None,
    description: str | None,
    applications: Iterable[str],
    extra_names: Iterable[str] = (),
    folded: _Folded | None = None,
) -> str:
    folded = folded or _Folded()
    own = material_key(name)  # the name is one of the synonyms too (docs/identity.md): said once
    seen = {own}
    names = []
    for synonym in [*synonyms, *extra_names]:
        key = material_key(synonym)
        if key not in seen:
            seen.add(key)
            names.append(synonym)
    variants = [*folded.variants(name), *(v for n in names for v in folded.variants(n))]
    parts = [
        name,
        *names,
        *variants,
        material_class or "",
        subclass or "",
        description or "",
        *(a.replace("_", " ") for a in applications),
    ]
    # stored as its folded words, each once: every full-text index then splits it alike (PostgreSQL
    # would keep "3.4" or "PEG_DA" whole, FTS5 would not) and finds what query_words makes of a query
    return " ".join(dict.fromkeys(word for part in parts for word in folded.words(part)))


def search_columns(
    *,
    name: str,
    synonyms: Iterable[str],
    material_class: str | None,
    subclass: str | None,
    description: str | None,
    applications: Iterable[str],
    canonical_smiles: str | None,
    derived_name: bool = False,
) -> dict[str, str]:
    """``search_text``, ``search_name`` and ``search_names`` of one material. A name derived from
    the structure ("Polyester (C3H4O2 repeat unit)") is searchable, but not ranked as a name."""
    synonyms = list(synonyms)
    extra = vocabulary_names(name, canonical_smiles)
    own = [] if derived_name else [name]
    folded = _Folded()
    return {
        "search_text": compose(
            name=name,
            synonyms=synonyms,
            material_class=material_class,
            subclass=subclass,
            description=description,
            applications=applications,
            extra_names=extra,
            folded=folded,
        ),
        "search_name": words_of(own, folded),
        "search_names": words_of([*own, *synonyms, *extra], folded),
    }


def names_and_applications(
    connection: Connection, material_ids: list[int]
) -> tuple[defaultdict[int, list[str]], defaultdict[int, list[str]]]:
    """Synonyms (in the order given) and applications (sorted) of these materials."""
    synonyms, applications = defaultdict(list), defaultdict(list)
    for material_id, synonym in connection.execute(
        select(MaterialSynonym.material_id, MaterialSynonym.synonym)
        .where(MaterialSynonym.material_id.in_(material_ids))
        .order_by(MaterialSynonym.id)
    ):
        synonyms[material_id].append(synonym)
    for material_id, application in connection.execute(
        select(MaterialApplication.material_id, MaterialApplication.application)
        .where(MaterialApplication.material_id.in_(material_ids))
        .order_by(MaterialApplication.application)
    ):
        applications[material_id].append(application)
    return synonyms, applications


def refresh_search_text(connection: Connection, material_ids: Iterable[int]) -> None:
    """Recompute the search columns of these materials (missing ids are ignored)."""
    ids = sorted(set(material_ids))
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        synonyms, applications = names_and_applications(connection, batch)
        rows = [
            {
                "material": row.id,
                **search_columns(
                    name=row.name,
                    synonyms=synonyms[row.id],
                    material_class=row.material_class,
                    subclass=row.subclass,
                    description=row.description,
                    applications=applications[row.id],
                    canonical_smiles=row.canonical_smiles,
                    derived_name=is_derived_key(row.name_key),
                ),
            }
            for row in connection.execute(
                select(
                    Material.id,
                    Material.name,
                    Material.name_key,
                    Material.material_class.label("material_class"),
                    Material.subclass,
                    Material.description,
                    ChemicalStructure.canonical_smiles,
                )
                .outerjoin(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
                .where(in_values(Material.id, batch))
            )
        ]
        if rows:
            connection.execute(
                update(Material)
                .where(Material.id == bindparam("material"))
                .values(
                    search_text=bindparam("search_text"),
                    search_name=bindparam("search_name"),
                    search_names=bindparam("search_names"),
                ),
                rows,
            )
