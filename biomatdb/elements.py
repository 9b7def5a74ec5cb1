"""The elements of a material, from its composition and its structure: what composition
filters search (``contains(Ni)``, ``composition.Al in 5.5..6.75 wt%``; docs/search.md).

A composition component is read as an element symbol (``Ti``), a chemical formula
(``Al2O3``, ``Ca10(PO4)6(OH)2``), a named constituent of ``vocabulary/components.toml``
(``HA``, ``beta-TCP``) or a polymer of ``vocabulary/polymers.toml`` with a repeat unit
(``PEEK``); anything else (``collagen``) has unknown elements. Each element's content is an
interval in percent on a basis, derived here once and stored in ``material_elements``:

- ``wt``: mass percent. A component on a mass basis gives each of its elements its mass
  fraction of the component's interval (Al2O3 99.9 wt% is Al 52.87 wt%), summed over the
  components; the balance (``bal``) is 100 minus the others, as an interval.
- ``at``: atom percent, from element components given in at% or mol% (the same for an
  element). A formula in mol% or any vol% component gives no content, only presence:
  converting would need densities or the whole mixture, which are not stored.

A basis is *complete* for a material (``material_element_bases``) when every component
resolved to elements on it: an element its composition does not name is then 0 on that
basis. A material without a composition but with a one-piece structure gets its structure's
mass fractions, complete; a copolymer's several units give their elements, no content.
"""

from __future__ import annotations

import re
import tomllib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Literal

from sqlalchemy import Connection, delete, insert, select

from biomatdb.sqlin import in_values

ELEMENTS = [
    "H",
    "He",
    "Li",
    "Be",
    "B",
    "C",
    "N",
    "O",
    "F",
    "Ne",
    "Na",
    "Mg",
    "Al",
    "Si",
    "P",
    "S",
    "Cl",
    "Ar",
    "K",
    "Ca",
    "Sc",
    "Ti",
    "V",
    "Cr",
    "Mn",
    "Fe",
    "Co",
    "Ni",
    "Cu",
    "Zn",
    "Ga",
    "Ge",
    "As",
    "Se",
    "Br",
    "Kr",
    "Rb",
    "Sr",
    "Y",
    "Zr",
    "Nb",
    "Mo",
    "Tc",
    "Ru",
    "Rh",
    "Pd",
    "Ag",
    "Cd",
    "In",
    "Sn",
    "Sb",
    "Te",
    "I",
    "Xe",
    "Cs",
    "Ba",
    "La",
    "Ce",
    "Pr",
    "Nd",
    "Pm",
    "Sm",
    "Eu",
    "Gd",
    "Tb",
    "Dy",
    "Ho",
    "Er",
    "Tm",
    "Yb",
    "Lu",
    "Hf",
    "Ta",
    "W",
    "Re",
    "Os",
    "Ir",
    "Pt",
    "Au",
    "Hg",
    "Tl",
    "Pb",
    "Bi",
    "Po",
    "At",
    "Rn",
    "Fr",
    "Ra",
    "Ac",
    "Th",
    "Pa",
    "U",
    "Np",
    "Pu",
    "Am",
    "Cm",
    "Bk",
    "Cf",
    "Es",
    "Fm",
    "Md",
    "No",
    "Lr",
    "Rf",
    "Db",
    "Sg",
    "Bh",
    "Hs",
    "Mt",
    "Ds",
    "Rg",
    "Cn",
    "Nh",
    "Fl",
    "Mc",
    "Lv",
    "Ts",
    "Og",
]
"""The 118 element symbols, in order of atomic number."""

_SYMBOLS = frozenset(ELEMENTS)
_BY_FOLDED = {symbol.casefold(): symbol for symbol in ELEMENTS}

Basis = Literal["wt", "at"]
BASES: tuple[Basis, ...] = ("wt", "at")
"""The bases an element's content is compared on: mass percent and atom percent."""

Presence = Literal["certain", "possible", "absent"]

#: Percent is at most this; a lower bound (``Zr ≥0.4 wt%``) reaches up to it.
WHOLE = 100.0

_DIGITS = 9  # contents are rounded to this many decimals, so that 100 − 11.75 is 88.25


def element_symbol(text: str) -> str | None:
    """The element symbol ``text`` is, compared without case (``ni`` is Ni), or None."""
    return _BY_FOLDED.get(text.strip().casefold())


# --- what a component is made of --------------------------------------------------------

_FORMULA_TOKEN = re.compile(r"([A-Z][a-z]?)|(\d+(?:\.\d+)?)|([(\[])|([)\]])|([·•.*+])")


def parse_formula(text: str) -> dict[str, float] | None:
    """Atoms per formula unit of a chemical formula (``Ca10(PO4)6(OH)2``, ``CaHPO4·2H2O``), or
    None when ``text`` is no formula. A run of capitals without a digit (``HA``, ``PS``, ``WC``)
    is taken for an abbreviation, not a formula: only a single symbol (``C``) is read so."""
    text = text.strip()
    if not text:
        return None
    if text in _SYMBOLS:
        return {text: 1.0}
    if not re.search(r"[a-z\d()\[\]·•]", text):
        return None
    stack: list[dict[str, float]] = [{}]
    hydrate: dict[str, float] = {}
    multiplier = 1.0  # a hydrate part's leading count: ·2H2O
    last: dict[str, float] | None = None  # what a count that follows multiplies
    position = 0
    at_part_start = True
    while position < len(text):
        found = _FORMULA_TOKEN.match(text, position)
        if found is None:
            return None
        symbol, count, opening, closing, _separator = found.groups()
        position = found.end()
        if symbol:
            if symbol not in _SYMBOLS:
                return None
            last = {symbol: 1.0}
            stack[-1][symbol] = stack[-1].get(symbol, 0.0) + 1.0
        elif count:
            number = float(count)
            if at_part_start and len(stack) == 1 and not stack[0]:
                multiplier = number
            elif last is None:
                return None
            else:
                for element, atoms in last.items():
                    stack[-1][element] = stack[-1].get(element, 0.0) + atoms * (number - 1)
                last = None
        elif opening:
            stack.append({})
            last = None
        elif closing:
            if len(stack) == 1:
                return None
            group = stack.pop()
            for element, atoms in group.items():
                stack[-1][element] = stack[-1].get(element, 0.0) + atoms
            last = group
        else:  # a hydrate or adduct separator
            if len(stack) != 1:
                return None
            _add(hydrate, stack[0], multiplier)
            stack, multiplier, last, at_part_start = [{}], 1.0, None, True
            continue
        at_part_start = False
    if len(stack) != 1 or not stack[0]:
        return None
    _add(hydrate, stack[0], multiplier)
    return hydrate


def _add(into: dict[str, float], atoms: dict[str, float], times: float) -> None:
    for element, count in atoms.items():
        into[element] = into.get(element, 0.0) + count * times


def structure_atoms(canonical_smiles: str) -> tuple[dict[str, float], bool]:
    """Atoms of a structure, hydrogens included and ``*`` attachment points left out, and
    whether they give the material's mass fractions: one piece (a molecule, a repeat unit,
    a salt) does; several repeat units of a copolymer, in unknown ratio, do not."""
    from rdkit import Chem  # here: reading a composition never loads RDKit

    mol = Chem.MolFromSmiles(canonical_smiles)
    if mol is None:
        return {}, False
    atoms: dict[str, float] = {}
    for atom in mol.GetAtoms():
        if atom.GetAtomicNum() == 0:
            continue
        atoms[atom.GetSymbol()] = atoms.get(atom.GetSymbol(), 0.0) + 1.0
        if hydrogens := atom.GetTotalNumHs():
            atoms["H"] = atoms.get("H", 0.0) + hydrogens
    pieces = len(Chem.GetMolFrags(mol))
    return atoms, pieces == 1 or "*" not in canonical_smiles


@cache
def _named_components() -> dict[str, str]:
    from biomatdb.vocabulary import normalise_label

    raw = tomllib.loads(resources.files("biomatdb.vocabulary").joinpath("components.toml").read_text(encoding="utf-8"))
    named = {}
    for key, spec in raw["component"].items():
        if parse_formula(spec["formula"]) is None:
            raise ValueError(f"components.toml: {key}'s formula {spec['formula']!r} is not a formula")
        for name in spec["names"]:
            named[normalise_label(name)] = spec["formula"]
    return named


@cache
def component_atoms(name: str) -> dict[str, float] | None:
    """Atoms per unit of a composition component, in the order the module docstring gives, or
    None when its elements are unknown."""
    from biomatdb.vocabulary import normalise_label
    from biomatdb.vocabulary.polymers import polymer_names

    atoms = parse_formula(name)
    if atoms is not None:
        return atoms
    formula = _named_components().get(normalise_label(name))
    if formula is not None:
        return parse_formula(formula)
    polymer = polymer_names().by_name(name)
    if polymer is not None and polymer[0].repeat_unit:
        found, whole = structure_atoms(polymer[0].repeat_unit)
        return found if whole and found else None
    return None


@cache
def _atomic_weights() -> dict[str, float]:
    from rdkit import Chem

    table = Chem.GetPeriodicTable()
    return {symbol: table.GetAtomicWeight(symbol) for symbol in ELEMENTS}


def mass_fractions(atoms: dict[str, float]) -> dict[str, float]:
    """Each element's share of the mass (0–1) of a formula unit."""
    weights = _atomic_weights()
    masses = {element: count * weights[element] for element, count in atoms.items()}
    total = sum(masses.values())
    return {element: mass / total for element, mass in masses.items()} if total > 0 else {}


# --- intervals --------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Share:
    """A share in percent: [low, high], each end open or closed."""

    low: float
    high: float
    low_open: bool = False
    high_open: bool = False

    def times(self, factor: float) -> Share:
        return Share(self.low * factor, self.high * factor, self.low_open, self.high_open)

    def plus(self, other: Share) -> Share:
        return Share(
            self.low + other.low,
            self.high + other.high,
            self.low_open or other.low_open,
            self.high_open or other.high_open,
        )

    def presence(self) -> Presence:
        """Certainly above zero, possibly, or certainly zero."""
        if self.low > 0 or self.low_open:
            return "certain"
        if self.high == 0 and not self.high_open:
            return "absent"
        return "possible"


@dataclass(frozen=True, slots=True)
class StoredComponent:
    """A ``composition_components`` row; ``qualifier`` is None for a row stored before 0014."""

    component: str
    fraction: float | None
    fraction_max: float | None
    basis: str
    is_balance: bool
    qualifier: str | None = None


def component_share(c: StoredComponent) -> Share:
    """A non-balance component's share: ``5`` is [5, 5], ``5.5-6.75`` [5.5, 6.75], ``≤0.18``
    [0, 0.18], ``<0.1`` [0, 0.1), ``≥0.4`` [0.4, 100]."""
    low = c.fraction if c.fraction is not None else 0.0
    if c.qualifier in (">", ">="):
        return Share(low, WHOLE, low_open=c.qualifier == ">")
    high = c.fraction_max if c.fraction_max is not None else low
    return Share(low, high, high_open=c.qualifier == "<")


def balance_share(others: Sequence[Share]) -> Share:
    """The balance: 100 minus the other components, as an interval, never below 0."""
    low = WHOLE - sum(share.high for share in others)
    high = WHOLE - sum(share.low for share in others)
    return Share(
        max(low, 0.0),
        max(high, 0.0),
        low_open=low > 0 and any(share.high_open for share in others),
        high_open=high > 0 and any(share.low_open for share in others),
    )


# --- a material's element contents --------------------------------------------------------


@dataclass(frozen=True, slots=True)
class ElementContent:
    """One row of ``material_elements``: an element's content on a basis (``basis`` None: its
    presence only, no content)."""

    element: str
    basis: Basis | None
    share: Share | None
    presence: Presence
    origin: Literal["composition", "structure"]


def _basis_of(basis: str) -> Basis | None:
    return {"wt": "wt", "at": "at", "mol": "at"}.get(basis)  # type: ignore[return-value]


def derive(
    components: Sequence[StoredComponent], structure_smiles: str | None
) -> tuple[list[ElementContent], set[Basis]]:
    """Every element's content and presence, and the complete bases, of one material."""
    shares: dict[tuple[str, Basis], Share] = {}
    presences: dict[str, list[Presence]] = {}
    complete: set[Basis] = set()
    if components:
        others_bases = {c.basis for c in components if not c.is_balance}
        # a balance takes the basis of the rest ("PEEK bal; HA 40 vol%" is 60 vol%)
        stated = [
            c.basis if not c.is_balance or len(others_bases) != 1 else next(iter(others_bases)) for c in components
        ]
        fixed = [component_share(c) for c in components if not c.is_balance]
        # what the components whose elements are unknown on a basis may hold of it: an element's
        # content there is at least what the known ones give, and at most that plus this
        unknown: dict[Basis, float] = {"wt": 0.0, "at": 0.0}
        named = {c.component.strip() for c in components if c.component.strip() in _SYMBOLS}
        for c, basis in zip(components, stated, strict=True):
            if c.is_balance:
                share = balance_share(fixed) if len(set(stated)) == 1 else Share(0.0, WHOLE)
            else:
                share = component_share(c)
            atoms = component_atoms(c.component)
            on = _basis_of(basis)
            single = c.component.strip() if c.component.strip() in _SYMBOLS else None
            known_on = {"wt": on == "wt" and atoms is not None, "at": on == "at" and single is not None}
            for each in BASES:
                if not known_on[each]:
                    unknown[each] += share.high if on == each else WHOLE
            if atoms is None:
                continue
            parts: list[tuple[tuple[str, Basis], Share]] = []
            if known_on["wt"]:
                parts = [((element, "wt"), share.times(f)) for element, f in mass_fractions(atoms).items()]
            elif known_on["at"] and single is not None:
                parts = [((single, "at"), share)]
            for key, part in parts:
                shares[key] = shares[key].plus(part) if key in shares else part
            for element in atoms:
                presences.setdefault(element, []).append(share.presence())
        for (element, basis), share in shares.items():
            if unknown[basis] and element not in named:  # ``Al 5 wt%`` states Al's content itself
                shares[(element, basis)] = Share(share.low, share.high + unknown[basis], share.low_open)
        complete = {basis for basis in BASES if not unknown[basis]}
    rows = _rows(shares, presences, "composition")
    if structure_smiles and not complete:
        atoms, whole = structure_atoms(structure_smiles)
        listed = {row.element for row in rows}
        if not components and whole and atoms:
            structure_shares = {
                (element, "wt"): Share(fraction * WHOLE, fraction * WHOLE)
                for element, fraction in mass_fractions(atoms).items()
            }
            rows += _rows(structure_shares, {element: ["certain"] for element in atoms}, "structure")  # type: ignore[arg-type]
            complete = {"wt"}
        else:
            rows += [ElementContent(e, None, None, "certain", "structure") for e in sorted(atoms) if e not in listed]
    return rows, complete


def _rows(shares: dict[tuple[str, Basis], Share], presences: dict[str, list[Presence]], origin) -> list[ElementContent]:
    rows = []
    for element in sorted(presences):
        seen = presences[element]
        presence: Presence = "certain" if "certain" in seen else "possible" if "possible" in seen else "absent"
        quantified = [basis for basis in BASES if (element, basis) in shares]
        for basis in quantified:
            share = shares[(element, basis)]
            share = Share(
                round(share.low, _DIGITS), round(min(share.high, WHOLE), _DIGITS), share.low_open, share.high_open
            )
            rows.append(ElementContent(element, basis, share, presence, origin))
        if not quantified:
            rows.append(ElementContent(element, None, None, presence, origin))
    return rows


def zero_within(low: float | None, high: float | None, low_open: bool, high_open: bool) -> bool:
    """Whether 0 lies in the asked interval: an element a complete composition does not name
    has content 0, which meets (and lies within) exactly the intervals holding 0."""
    above = low is None or low < 0 or (low == 0 and not low_open)
    below = high is None or high > 0 or (high == 0 and not high_open)
    return above and below


# --- the stored rows ----------------------------------------------------------------------

_BATCH = 500
_DERIVED_KEPT = 10_000  # distinct (composition, structure) pairs remembered while refreshing: memory stays bounded


def _stored_rows(rows: list[ElementContent], complete: set[Basis]) -> tuple[list[dict], list[Basis]]:
    """A material's ``material_elements`` rows but for its id, and its complete bases, in order."""
    elements = [
        {
            "element": row.element,
            "basis": row.basis,
            "fraction_min": row.share.low if row.share else None,
            "fraction_max": row.share.high if row.share else None,
            "low_open": bool(row.share and row.share.low_open),
            "high_open": bool(row.share and row.share.high_open),
            "presence": row.presence,
            "origin": row.origin,
        }
        for row in rows
    ]
    return elements, sorted(complete)


def refresh_elements(connection: Connection, material_ids: Iterable[int]) -> None:
    """Derive again the element rows and complete bases of these materials (those that no
    longer exist lose theirs), in the caller's transaction."""
    from biomatdb.models import ChemicalStructure, CompositionComponent, Material, MaterialElement, MaterialElementBasis

    ids = sorted(set(material_ids))
    derived_of: dict[tuple[tuple[StoredComponent, ...], str | None], tuple[list[dict], list[Basis]]] = {}
    for start in range(0, len(ids), _BATCH):
        batch = ids[start : start + _BATCH]
        connection.execute(delete(MaterialElement).where(in_values(MaterialElement.material_id, batch)))
        connection.execute(delete(MaterialElementBasis).where(in_values(MaterialElementBasis.material_id, batch)))
        components: dict[int, list[StoredComponent]] = {}
        for row in connection.execute(
            select(
                CompositionComponent.material_id,
                CompositionComponent.component,
                CompositionComponent.fraction,
                CompositionComponent.fraction_max,
                CompositionComponent.basis,
                CompositionComponent.is_balance,
                CompositionComponent.qualifier,
            )
            .where(in_values(CompositionComponent.material_id, batch))
            .order_by(CompositionComponent.material_id, CompositionComponent.position)
        ):
            components.setdefault(row.material_id, []).append(
                StoredComponent(
                    row.component, row.fraction, row.fraction_max, row.basis, bool(row.is_balance), row.qualifier
                )
            )
        element_rows, basis_rows = [], []
        for material_id, smiles in connection.execute(
            select(Material.id, ChemicalStructure.canonical_smiles)
            .outerjoin(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
            .where(in_values(Material.id, batch))
            .order_by(Material.id)  # rows stored in the order of their materials, whatever the plan
        ):
            # materials of one structure and no composition (most of a large upload) derive alike
            key = (tuple(components.get(material_id, ())), smiles)
            derived = derived_of.get(key)
            if derived is None:
                if len(derived_of) >= _DERIVED_KEPT:
                    derived_of.clear()
                derived = derived_of[key] = _stored_rows(*derive(key[0], smiles))
            elements, bases = derived
            element_rows += [{"material_id": material_id, **row} for row in elements]
            basis_rows += [{"material_id": material_id, "basis": basis} for basis in bases]
        if element_rows:
            connection.execute(insert(MaterialElement), element_rows)
        if basis_rows:
            connection.execute(insert(MaterialElementBasis), basis_rows)
