"""When two records are one material, and which of their names is shown: the rules of
docs/identity.md as pure functions, shared by ingest (matching a file's rows) and by the
merge of materials already stored (``biomatdb.merge``).

Two records are one material when they have the same canonical structure, compatible classes
and no conflicting grade, copolymer ratio or composition; or when their names fold to the same
key (``material_key``). The name shown is the best-ranked of every name the material is given
(``NameCandidate.rank``): a curated dataset's over the polymer vocabulary's over a public
compilation's; a material's own name over a synonym; a common name over a systematic one; any
name over a structure string, which is never shown: a material named by nothing else is shown by its family
and formula (``display_name_for_structure``).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache

from biomatdb.vocabulary import normalise_label

#: How a dataset's names rank: ``kind`` of the dataset (its manifest's ``[dataset] kind``).
DATASET_KINDS = ("curated", "compilation")
_SOURCE_RANK = {"curated": 3, "vocabulary": 2, "compilation": 1}

_RATIO = re.compile(r"(?<![\w.])(\d+(?:[.,]\d+)?)\s*[:/]\s*(\d+(?:[.,]\d+)?)(?![\w.])")
_PUNCTUATION = re.compile(r"[()\[\]{},;]+")
_SPACES = re.compile(r"\s+")
_SMILES_TEXT = re.compile(r"^[A-Za-z0-9@+\-\[\]()=#$*%/\\.:~]+$")
_SMILES_MARKS = re.compile(r"[*=#\[\]]|[a-z]\d|\d[a-z]|[A-Z]\(")
_SYSTEMATIC = re.compile(r"^poly\s*[(\[]|\b\d+\s*,\s*\d+\s*-|-\s*\d+\s*,\s*\d+|\boxy\s*-|ylene\)|diyl\b", re.IGNORECASE)

#: Words that make a grade or a form of a material distinct from the plain material
#: ("PMMA" and "PMMA bone cement"; "UHMWPE" and "highly cross-linked UHMWPE"; "CP-Ti Grade 2").
_QUALIFIERS = re.compile(
    r"\b(grade\s*[\w.]+|bone cement|cement|highly cross linked|cross linked|crosslinked|medical grade|"
    r"porous|dense|foam|fib(?:re|er)s?|film|sintered|cast|wrought|annealed|amorphous|semicrystalline|"
    r"oriented|composite|reinforced|filled|blend|coating|coated|scaffold|hydrogel|nanofib(?:re|er)s?|"
    r"powder|granules?|microspheres?|beads?|membrane|sponge|ha filled|bioactive)\b"
)


def source_rank(kind: str | None) -> int:
    """How a name's source ranks: a curated dataset, the polymer vocabulary, a public compilation."""
    return _SOURCE_RANK.get(kind or "curated", 0)


@lru_cache(maxsize=65_536)
def material_key(name: str) -> str:
    """A material name folded for matching: Unicode, case, quotes and dashes as in
    ``normalise_label``; ``50/50`` as ``50:50``; brackets and commas dropped; words in sorted
    order, so that "Bone (cortical)" and "Cortical bone" are one key; numbers and designations
    follow in their own order ("Workermat 0-1" is not "Workermat 1-0")."""
    folded = normalise_label(name)
    folded = _RATIO.sub(lambda m: f"{_number(m.group(1))}:{_number(m.group(2))}", folded)
    folded = _PUNCTUATION.sub(" ", folded)
    tokens = _SPACES.split(folded.strip())
    # words in any order, but numbers and designations in theirs: "Workermat 0-1" is not "1-0"
    words = sorted(token for token in tokens if not any(c.isdigit() for c in token))
    numbers = [token for token in tokens if any(c.isdigit() for c in token)]
    return " ".join(words + numbers)


#: Between a record key's name and the material id its row gives (no name holds it).
_ID_MARK = "\x1fid:"


def record_key(name: str, public_id: str | None = None) -> str:
    """How one file's rows name one material: by ``material_key``, except that a row named only
    by its structure string is keyed by that string as written (folding it would join different
    structures: case tells aromatic from aliphatic atoms).

    A row that gives a material id (``public_id``) names that id's material: rows of one name
    with two ids are two materials. An export names each material by its shown name, and many
    repeat units are shown by their formula, so that many of its materials share a name."""
    key = "smiles:" + name.strip() if is_structure_string(name) else material_key(name)
    return key + _ID_MARK + public_id if public_id else key


def name_of_record_key(key: str) -> str:
    """The name part of a ``record_key``: what the row's name matches stored names and synonyms by."""
    return key.split(_ID_MARK, 1)[0]


def _number(text: str) -> str:
    return text.replace(",", ".")


@lru_cache(maxsize=65_536)
def is_structure_string(name: str) -> bool:
    """Whether a name is a structure string rather than words: it has SMILES' marks (``*``, bonds,
    brackets, ring closures) and RDKit reads it ("*CC(*)O"); "PP" and "Evil[2Jname" are names."""
    text = unicodedata.normalize("NFKC", name).strip()
    if not text or " " in text or not _SMILES_TEXT.match(text) or not _SMILES_MARKS.search(text):
        return False
    from rdkit import Chem, RDLogger

    RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # missing from RDKit's stubs
    return Chem.MolFromSmiles(text, sanitize=False) is not None


def name_kind(name: str) -> str:
    """``structure`` (a SMILES string), ``systematic`` (a source-based or IUPAC-style polymer name:
    "Poly(oxy-1,4-phenylene…)") or ``common`` ("PEEK", "Bisphenol-A polycarbonate")."""
    if is_structure_string(name):
        return "structure"
    return "systematic" if _SYSTEMATIC.search(name) else "common"


_KIND_RANK = {"common": 2, "systematic": 1, "structure": 0}


@dataclass(frozen=True, slots=True)
class NameCandidate:
    """A name a material is given: by a dataset of a kind (or the vocabulary), as its own name
    or as a synonym. ``order`` breaks ties: the name seen first wins."""

    name: str
    source: str  # curated | vocabulary | compilation
    primary: bool
    order: int = 0

    @property
    def rank(self) -> tuple[int, int, int, int, int]:
        kind = name_kind(self.name)
        return (int(kind != "structure"), source_rank(self.source), int(self.primary), _KIND_RANK[kind], -self.order)


def choose_name(candidates: Iterable[NameCandidate]) -> NameCandidate | None:
    """The name to show, or None when every candidate is a structure string (or there is none)."""
    best = max(candidates, key=lambda candidate: candidate.rank, default=None)
    return None if best is None or name_kind(best.name) == "structure" else best


_CLASS_NAMES = {"polymer": "Polymer", "natural": "Natural polymer", "hydrogel": "Hydrogel", "composite": "Composite"}


#: A material's own ``name_key`` is its name folded by ``normalise_label``, the order names sort
#: in; names are matched by their synonyms' ``material_key``. The name key of a name derived from
#: a structure starts with ``~``: it sorts after every real name (``~`` is past the letters).
DERIVED_KEY_PREFIX = "~"


def derived_key(name: str) -> str:
    return DERIVED_KEY_PREFIX + normalise_label(name)


def is_derived_key(key: str | None) -> bool:
    """Whether a material's name key is that of a name derived from its structure (or none)."""
    return not key or key.startswith(DERIVED_KEY_PREFIX)


def display_name_for_structure(
    formula: str | None, material_class: str | None, *, repeat_unit: bool, family: str | None = None
) -> str:
    """A readable name for a material known only by its structure: its family, when its linkages
    tell it (``biomatdb.chemistry.polymer_family``), and formula: "Polyester (C3H4O2 repeat unit)"."""
    kind = family or _CLASS_NAMES.get(material_class or "", "Material")
    if not formula:
        return f"Unnamed {kind.lower()}"
    return f"{kind} ({formula} repeat unit)" if repeat_unit else f"{kind} ({formula})"


# --- when two records are one material -------------------------------------------------

#: Classes a material may be recorded under by different sources and still be one material.
_COMPATIBLE = {frozenset({"polymer", "natural"})}


def classes_compatible(first: str | None, second: str | None) -> bool:
    return first is None or second is None or first == second or frozenset({first, second}) in _COMPATIBLE


def copolymer_ratio(name: str) -> tuple[float, ...] | None:
    """The ratio a name gives ("PLGA 85:15", "50/50 DL-PLG"), normalised to sum to 100."""
    match = _RATIO.search(normalise_label(name))
    if match is None:
        return None
    parts = (float(_number(match.group(1))), float(_number(match.group(2))))
    total = sum(parts)
    return None if total <= 0 else tuple(round(100 * part / total, 3) for part in parts)


def qualifiers(name: str) -> frozenset[str]:
    """The grade and form words of a name ("highly cross linked", "bone cement", "grade 2")."""
    folded = normalise_label(name).replace("-", " ")
    found = {_SPACES.sub(" ", match.group(1)) for match in _QUALIFIERS.finditer(folded)}
    if "highly cross linked" in found:
        found.discard("cross linked")
    if "bone cement" in found:
        found.discard("cement")
    return frozenset(found)


@dataclass(frozen=True, slots=True)
class Identity:
    """What decides whether two records with one structure are one material."""

    material_class: str | None = None
    grade: str | None = None  # the polymer vocabulary's grade ("hdpe") or None
    qualifiers: frozenset[str] = frozenset()
    ratio: tuple[float, ...] | None = None
    composition: tuple[tuple[str, float | None], ...] | None = None
    # the datasets that give it a name of its own (not only a structure): one dataset that gives
    # one structure two names means two materials (grades such as "Pellethane 2363-80A" and "-75D")
    named_by: frozenset[int] = frozenset()
    spelling: str = ""  # its name's letters and digits, folded (``spelling_variants``)


def identity_of(
    name: str,
    *,
    material_class: str | None,
    grade: str | None = None,
    composition: Iterable[tuple[str, float | None]] | None = None,
    named_by: Iterable[int] = (),
) -> Identity:
    parts = tuple(composition) if composition is not None else ()
    return Identity(
        material_class=material_class,
        grade=grade,
        qualifiers=qualifiers(name),
        ratio=copolymer_ratio(name),
        composition=parts or None,
        named_by=frozenset(named_by),
        spelling=_spelling(name),
    )


def _spelled_alike(first: str, second: str) -> bool:
    # the same letters and digits: punctuation and case aside, nothing else ("PEG 2000" is not
    # "PEG 20000", nor "Pellethane 2363-80A" "-80AE")
    return first == second


def _spelling(name: str) -> str:
    return re.sub(r"[\W_]+", "", normalise_label(name))


def spelling_variants(first: str, second: str) -> bool:
    """Whether two names are one name spelt two ways: the same letters and digits, in the same
    order ("2,2,2trifluoroethyl" and "2,2,2-trifluoroethyl")."""
    return _spelled_alike(_spelling(first), _spelling(second))


def conflict(first: Identity, second: Identity) -> str | None:
    """Why two records of one structure are two materials, or None when they are one."""
    if not classes_compatible(first.material_class, second.material_class):
        return f"classes differ ({first.material_class} and {second.material_class})"
    if first.grade != second.grade:
        return f"grades differ ({first.grade or 'none'} and {second.grade or 'none'})"
    if first.qualifiers != second.qualifiers:
        return (
            f"grade or form differ ({', '.join(sorted(first.qualifiers)) or 'none'} and "
            f"{', '.join(sorted(second.qualifiers)) or 'none'})"
        )
    if first.ratio != second.ratio:
        return "copolymer ratios differ"
    if first.composition is not None and second.composition is not None and first.composition != second.composition:
        return "compositions differ"
    if first.named_by & second.named_by and not _spelled_alike(first.spelling, second.spelling):
        return "one dataset names them as two materials"
    return None
