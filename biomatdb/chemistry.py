"""Chemical structures through RDKit: canonical forms, identifiers and fingerprints.

Polymer repeat units are SMILES with ``*`` attachment points (``*CC(*)c1ccccc1``); they
are valid structures here. Placeholder atoms some datasets use for the head and tail of a
repeat unit (``[Ce]`` … ``[Th]``) are turned into ``*`` when the caller names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import Descriptors, rdFingerprintGenerator, rdMolDescriptors

from biomatdb.errors import StructureError

#: Morgan fingerprint shape stored in the core and used to screen searches.
FINGERPRINT_RADIUS = 2
FINGERPRINT_BITS = 2048

RDLogger.DisableLog("rdApp.*")  # type: ignore[attr-defined]  # missing from RDKit's stubs


_ATTACHMENTS = re.compile(r"\*\d*")


@dataclass(frozen=True, slots=True)
class Structure:
    input: str
    canonical_smiles: str
    inchikey: str | None
    formula: str
    molecular_weight: float
    is_repeat_unit: bool
    fingerprint: bytes
    pattern_fingerprint: bytes


def _mol_or_reason(smiles: str) -> tuple[Chem.Mol | None, str]:
    """Parse with RDKit, returning its own words when it refuses."""
    mol = Chem.MolFromSmiles(smiles, sanitize=False)
    if mol is None:
        return None, "RDKit could not parse the SMILES (syntax error)"
    problems = Chem.DetectChemistryProblems(mol)
    if problems:
        return None, "; ".join(problem.Message() for problem in problems)
    try:
        Chem.SanitizeMol(mol)
    except Exception as exc:  # RDKit raises its own MolSanitizeException family
        return None, str(exc)
    return mol, ""


_morgan = None
_patterns = None


def pattern_fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    """The fingerprint RDKit's SubstructLibrary screens substructure searches with: stored per
    structure, so that the search index is built without parsing the structures again."""
    global _patterns
    if _patterns is None:
        from rdkit.Chem import rdSubstructLibrary

        _patterns = rdSubstructLibrary.PatternHolder()
    return _patterns.MakeFingerprint(mol)


def _fingerprint_generator():
    global _morgan
    if _morgan is None:
        _morgan = rdFingerprintGenerator.GetMorganGenerator(radius=FINGERPRINT_RADIUS, fpSize=FINGERPRINT_BITS)
    return _morgan


def fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    return _fingerprint_generator().GetFingerprint(mol)


def packed_fingerprint(bits: DataStructs.ExplicitBitVect) -> bytes:
    """A fingerprint as it is stored: ``FINGERPRINT_BITS / 8`` bytes, bit ``i`` in byte ``i // 8``
    at position ``i % 8`` (least significant first). The search index reads every structure's
    bits straight into one numpy array, with no RDKit object per structure."""
    return bytes.fromhex(DataStructs.BitVectToFPSText(bits))


def unpacked_fingerprint(packed: bytes) -> DataStructs.ExplicitBitVect:
    """The RDKit bit vector of a stored (packed) fingerprint."""
    return DataStructs.CreateFromFPSText(packed.hex())


def fingerprint_on_bits(packed: bytes) -> list[int]:
    """The positions of a stored (packed) fingerprint's set bits, in increasing order."""
    return np.flatnonzero(np.unpackbits(np.frombuffer(packed, dtype=np.uint8), bitorder="little")).tolist()


@dataclass(frozen=True, slots=True)
class StructureLimits:
    """How large a structure may be before RDKit sees it: a 5,000-atom ring or a 60 × 60 fused
    grid took RDKit up to 1.7 GB and a minute, or a segmentation fault under a memory cap.
    The largest structure of the fixtures has 314 characters and 166 atoms."""

    max_chars: int = 2_000
    max_atoms: int = 1_000
    max_ring_closures: int = 200


_ATOM_TOKENS = re.compile(r"\[[^\]]*\]|Br|Cl|[BCNOPSFI]|[bcnops]|\*")
_RING_CLOSURES = re.compile(r"%\d\d|\d")


def structure_size_problem(smiles: str, limits: StructureLimits) -> str | None:
    """Why ``smiles`` is too large to parse, counted from its text alone, or None."""
    if len(smiles) > limits.max_chars:
        return (
            f"the structure has {len(smiles):,} characters, over the limit of {limits.max_chars:,} "
            f"(setting BIOMATDB_STRUCTURE_MAX_CHARS)"
        )
    atoms = len(_ATOM_TOKENS.findall(smiles))
    if atoms > limits.max_atoms:
        return (
            f"the structure has {atoms:,} atoms, over the limit of {limits.max_atoms:,} "
            f"(setting BIOMATDB_STRUCTURE_MAX_ATOMS)"
        )
    closures = len(_RING_CLOSURES.findall(re.sub(r"\[[^\]]*\]", "", smiles))) // 2
    if closures > limits.max_ring_closures:
        return (
            f"the structure closes {closures:,} rings, over the limit of {limits.max_ring_closures:,} "
            f"(setting BIOMATDB_STRUCTURE_MAX_RING_CLOSURES)"
        )
    return None


@lru_cache(maxsize=256)
def parse_query_structure(text: str, limits: StructureLimits = StructureLimits()) -> Structure:
    """``parse_structure`` of a query's SMILES, remembered (a failure is not): a similarity search
    parses its SMILES twice (the filter parser checks it, the chemistry index takes its
    fingerprint), and a user pages through the same query again."""
    return parse_structure(text, limits=limits)


def parse_structure(
    text: str, *, placeholders: tuple[str, ...] = (), limits: StructureLimits = StructureLimits()
) -> Structure:
    """Read a SMILES (optionally with repeat-unit ``*``); raise StructureError with RDKit's reason,
    or naming the limit when the text is too large to hand to RDKit at all."""
    given = text.strip()
    smiles = given
    for placeholder in placeholders:
        smiles = smiles.replace(placeholder, "*")
    if not smiles:
        raise StructureError("empty structure")
    if (problem := structure_size_problem(smiles, limits)) is not None:
        raise StructureError(problem)
    mol, reason = _mol_or_reason(smiles)
    if mol is None:
        raise StructureError(f"invalid SMILES {given!r}: {reason}")
    is_repeat_unit = bool(_stars(mol))
    inchikey = None
    if not is_repeat_unit:
        inchikey = Chem.MolToInchiKey(mol) or None
    return Structure(
        input=given,
        canonical_smiles=Chem.MolToSmiles(mol),
        inchikey=inchikey,
        # a repeat unit's formula without its attachment points ("C3H4*2O2" → "C3H4O2"), as polymer texts write it
        formula=_ATTACHMENTS.sub("", rdMolDescriptors.CalcMolFormula(mol)),
        molecular_weight=float(Descriptors.MolWt(mol)),  # type: ignore[attr-defined]  # set at import, unstubbed
        is_repeat_unit=is_repeat_unit,
        fingerprint=packed_fingerprint(fingerprint(mol)),
        pattern_fingerprint=DataStructs.BitVectToBinaryText(pattern_fingerprint(mol)),
    )


#: Polymer families by the linkage their repeat unit holds, the first that matches naming it
#: (a polyimide's imide before its amide; a polycarbonate's carbonate before an ester).
_FAMILIES = (  # by atomic number, so that aromatic atoms (a phthalimide's ring) match too
    ("Polysiloxane", "[Si]-[#8]"),
    ("Polyimide", "[#6](=O)[#7][#6](=O)"),
    ("Polyurethane", "[#7][#6](=O)[#8][#6]"),
    ("Polyurea", "[#7][#6](=O)[#7]"),
    ("Polycarbonate", "[#6][#8][#6](=O)[#8][#6]"),
    ("Polyamide", "[#6][#6](=O)[#7]"),
    ("Polyester", "[#6][#6](=O)[#8][#6]"),
    ("Polysulfone", "[#6][#16](=O)(=O)[#6]"),
    ("Polyether ketone", "[#6][#6](=O)[c].[c][#8][c]"),
    ("Polyether", "[#6][#8X2][#6]"),
    ("Polysulfide", "[#6][#16X2][#6]"),
)
_family_patterns: list[tuple[str, Chem.Mol]] | None = None


#: an attachment point (``*``): matched in RDKit's C++, where a Python loop over a polymer's
#: atoms cost most of the demo's first start (issue 18)
_STAR = Chem.MolFromSmarts("[#0]")


def _stars(mol: Chem.Mol) -> list[int]:
    """The indices of a structure's attachment points (``*``), in atom order."""
    return [match[0] for match in mol.GetSubstructMatches(_STAR, uniquify=False, maxMatches=1_000_000)]


def _two_units(mol: Chem.Mol) -> Chem.Mol:
    """Two copies of a two-ended repeat unit joined tail to head (itself when it has other ends)."""
    stars = _stars(mol)
    if len(stars) != 2:
        return mol
    first, second = Chem.RWMol(mol), Chem.RWMol(mol)
    for copy, labels in ((first, (1, 2)), (second, (2, 3))):
        for index, label in zip(stars, labels, strict=True):
            copy.GetAtomWithIdx(index).SetAtomMapNum(label)
    try:
        return Chem.molzip(Chem.CombineMols(first, second))
    except Exception:  # RDKit's own error family: an end it cannot join
        return mol


@lru_cache(maxsize=65_536)
def polymer_family(canonical_smiles: str) -> str | None:
    """The family a repeat unit belongs to by its linkages ("Polyester", "Polyimide"), "Vinyl
    polymer" for an all-carbon backbone, or None when it is no repeat unit or none fits."""
    global _family_patterns
    if "*" not in canonical_smiles:  # a SMILES writes every attachment point with a star
        return None
    mol = Chem.MolFromSmiles(canonical_smiles)
    if mol is None or not _stars(mol):  # type: ignore[redundant-expr]  # RDKit's stubs say never None
        return None
    if _family_patterns is None:
        _family_patterns = [(family, Chem.MolFromSmarts(smarts)) for family, smarts in _FAMILIES]
    joined = _two_units(mol)  # a linkage may span the unit's ends: *OC(C)C(*)=O is an ester
    for family, pattern in _family_patterns:
        if joined.HasSubstructMatch(pattern):
            return family
    stars = (mol.GetAtomWithIdx(index) for index in _stars(mol))
    ends = [atom.GetNeighbors()[0] for atom in stars if atom.GetDegree() == 1]
    if len(ends) == 2 and all(atom.GetAtomicNum() == 6 for atom in ends):
        path = (
            Chem.GetShortestPath(mol, ends[0].GetIdx(), ends[1].GetIdx())
            if ends[0].GetIdx() != ends[1].GetIdx()
            else (ends[0].GetIdx(),)
        )
        if all(
            mol.GetAtomWithIdx(index).GetAtomicNum() == 6 and not mol.GetAtomWithIdx(index).GetIsAromatic()
            for index in path
        ):
            return "Vinyl polymer"
    return None
