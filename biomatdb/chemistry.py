"""Chemical structures through RDKit: canonical forms, identifiers and fingerprints.

Polymer repeat units are SMILES with ``*`` attachment points (``*CC(*)c1ccccc1``); they
are valid structures here. Placeholder atoms some datasets use for the head and tail of a
repeat unit (``[Ce]`` … ``[Th]``) are turned into ``*`` when the caller names them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from rdkit import Chem, DataStructs, RDLogger
from rdkit.Chem import Descriptors, rdFingerprintGenerator, rdMolDescriptors

from biomatdb.errors import StructureError

#: Morgan fingerprint shape stored in the core and used to screen searches.
FINGERPRINT_RADIUS = 2
FINGERPRINT_BITS = 2048

RDLogger.DisableLog("rdApp.*")


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


def _fingerprint_generator():
    global _morgan
    if _morgan is None:
        _morgan = rdFingerprintGenerator.GetMorganGenerator(radius=FINGERPRINT_RADIUS, fpSize=FINGERPRINT_BITS)
    return _morgan


def fingerprint(mol: Chem.Mol) -> DataStructs.ExplicitBitVect:
    return _fingerprint_generator().GetFingerprint(mol)


def parse_structure(text: str, *, placeholders: tuple[str, ...] = ()) -> Structure:
    """Read a SMILES (optionally with repeat-unit ``*``); raise StructureError with RDKit's reason."""
    given = text.strip()
    smiles = given
    for placeholder in placeholders:
        smiles = smiles.replace(placeholder, "*")
    if not smiles:
        raise StructureError("empty structure")
    mol, reason = _mol_or_reason(smiles)
    if mol is None:
        raise StructureError(f"invalid SMILES {given!r}: {reason}")
    is_repeat_unit = any(atom.GetAtomicNum() == 0 for atom in mol.GetAtoms())
    inchikey = None
    if not is_repeat_unit:
        inchikey = Chem.MolToInchiKey(mol) or None
    return Structure(
        input=given,
        canonical_smiles=Chem.MolToSmiles(mol),
        inchikey=inchikey,
        # a repeat unit's formula without its attachment points ("C3H4*2O2" → "C3H4O2"), as polymer texts write it
        formula=_ATTACHMENTS.sub("", rdMolDescriptors.CalcMolFormula(mol)),
        molecular_weight=float(Descriptors.MolWt(mol)),
        is_repeat_unit=is_repeat_unit,
        fingerprint=DataStructs.BitVectToBinaryText(fingerprint(mol)),
    )
