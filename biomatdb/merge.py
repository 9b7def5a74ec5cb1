"""Applying the identity rules to stored materials: merging those that are one material, and
choosing each material's shown name. Ingest calls both at the end of a load for the materials
it touched; migration 0010 calls them once for every material already stored.

A merge keeps every measurement with its provenance (dataset, source, row, verbatim text): the
measurements move to the kept material, the merged one's names become its synonyms, and the
merged public id keeps answering through ``material_redirects``.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import cast

from sqlalchemy import Connection, Table, and_, bindparam, delete, func, insert, inspect, select, update

from biomatdb.identity import (
    Identity,
    NameCandidate,
    choose_name,
    classes_compatible,
    derived_key,
    display_name_for_structure,
    identity_of,
    is_derived_key,
    is_structure_string,
    material_key,
    source_rank,
)
from biomatdb.models import (
    BiologicalEvaluation,
    ChemicalStructure,
    CompositionComponent,
    Dataset,
    DetailClaim,
    Material,
    MaterialApplication,
    MaterialRedirect,
    MaterialSynonym,
    Measurement,
)
from biomatdb.outbox import record_changed, record_changed_rows
from biomatdb.sqlin import in_values
from biomatdb.vocabulary import normalise_label

_BATCH = 500
#: How a vocabulary names a structure: (name, grade key of that name or None) for a canonical SMILES.
StructureNamer = Callable[[str], str | None]
GradeOf = Callable[[str], str | None]
#: The polymer a structure is a form of, and all that polymer's forms: (key, canonical SMILES), or None.
SamePolymer = Callable[[str], tuple[str, tuple[str, ...]] | None]


def _no_name(_: str) -> None:
    return None


@dataclass(frozen=True, slots=True)
class Merge:
    kept: int
    merged: tuple[int, ...]
    merged_public_ids: tuple[str, ...] = ()


@dataclass(slots=True)
class _Facts:
    id: int
    public_id: str
    name: str
    material_class: str | None
    structure_id: int | None
    creator_kind: str
    identity: Identity = field(default_factory=Identity)


def _batches(items: list, size: int = _BATCH):
    for start in range(0, len(items), size):
        yield items[start : start + size]


def _dataset_kinds(connection: Connection) -> dict[int, str]:
    return dict(connection.execute(select(Dataset.id, Dataset.kind)).all())


def _facts(connection: Connection, material_ids: list[int], kinds: dict[int, str], grade_of: GradeOf) -> list[_Facts]:
    compositions: dict[int, list[tuple[str, float | None]]] = defaultdict(list)
    namers: dict[int, set[int]] = defaultdict(set)
    facts = []
    for batch in _batches(material_ids):
        for material_id, dataset_id in connection.execute(
            select(DetailClaim.material_id, DetailClaim.dataset_id).where(
                DetailClaim.kind == "name", in_values(DetailClaim.material_id, batch)
            )
        ):
            if kinds.get(dataset_id, "curated") == "curated":  # a compilation lists one polymer under
                namers[material_id].add(dataset_id)  # several names, from several sources
        for component in connection.execute(
            select(CompositionComponent.material_id, CompositionComponent.component, CompositionComponent.fraction)
            .where(in_values(CompositionComponent.material_id, batch))
            .order_by(CompositionComponent.material_id, CompositionComponent.position)
        ):
            compositions[component.material_id].append((component.component.casefold(), component.fraction))
        for row in connection.execute(
            select(
                Material.id,
                Material.public_id,
                Material.name,
                Material.name_key,
                Material.material_class.label("material_class"),
                Material.structure_id,
                Material.created_by_dataset_id,
            ).where(in_values(Material.id, batch))
        ):
            facts.append(
                _Facts(
                    id=row.id,
                    public_id=row.public_id,
                    name=row.name,
                    material_class=row.material_class,
                    structure_id=row.structure_id,
                    creator_kind=kinds.get(row.created_by_dataset_id, "curated"),
                    identity=identity_of(
                        row.name,
                        material_class=row.material_class,
                        grade=grade_of(row.name),
                        composition=compositions.get(row.id),
                        named_by=namers.get(row.id, ()),
                    ),
                )
            )
    return facts


def _keep_order(fact: _Facts) -> tuple[int, int]:
    """The material kept of a group: one a curated dataset created, then the oldest."""
    return (0 if fact.creator_kind == "curated" else 1, fact.id)


@dataclass(slots=True)
class _Group:
    members: list[_Facts]
    classes: set[str]
    compositions: set[tuple]
    namers: dict[int, set[str]]  # a curated dataset naming members -> the spellings of those names

    def admits(self, fact: _Facts) -> bool:
        """``conflict`` against every member is None; the grade, form and ratio are the bucket's."""
        identity = fact.identity
        if identity.material_class is not None and not all(
            classes_compatible(identity.material_class, other) for other in self.classes
        ):
            return False
        if identity.composition is not None and self.compositions - {identity.composition}:
            return False
        return all(self.namers.get(namer, {identity.spelling}) == {identity.spelling} for namer in identity.named_by)

    def add(self, fact: _Facts) -> None:
        identity = fact.identity
        self.members.append(fact)
        if identity.material_class is not None:
            self.classes.add(identity.material_class)
        if identity.composition is not None:
            self.compositions.add(identity.composition)
        for namer in identity.named_by:
            self.namers.setdefault(namer, set()).add(identity.spelling)


def plan_merges(facts: Iterable[_Facts]) -> list[tuple[_Facts, list[_Facts]]]:
    """Group materials of one structure that the rules say are one material: each joins the
    first group (in keep order) none of whose members it conflicts with (``conflict``).

    Groups are kept per grade, form and ratio, which must be equal; a material that a curated
    dataset names joins no group where that dataset names another material, which is seen
    without a scan when every group of its bucket has such a name (one dataset naming a
    thousand grades of one structure costs a thousand steps, not a million)."""
    buckets: dict[tuple, list[_Group]] = defaultdict(list)
    holding: dict[tuple, dict[int, int]] = defaultdict(lambda: defaultdict(int))  # namer -> groups naming
    spelt: dict[tuple, set[tuple[int, str]]] = defaultdict(set)  # (namer, spelling) a group holds
    for fact in sorted(facts, key=_keep_order):
        identity = fact.identity
        key = (identity.grade, identity.qualifiers, identity.ratio)
        groups = buckets[key]
        blocked = (
            any(
                holding[key][namer] == len(groups) and (namer, identity.spelling) not in spelt[key]
                for namer in identity.named_by
            )
            if groups
            else False
        )
        group = None if blocked else next((g for g in groups if g.admits(fact)), None)
        if group is None:
            group = _Group(members=[], classes=set(), compositions=set(), namers={})
            groups.append(group)
        for namer in identity.named_by:
            if namer not in group.namers:
                holding[key][namer] += 1
            spelt[key].add((namer, identity.spelling))
        group.add(fact)
    ordered = sorted(
        (group for groups in buckets.values() for group in groups), key=lambda group: _keep_order(group.members[0])
    )
    return [(group.members[0], group.members[1:]) for group in ordered if len(group.members) > 1]


def merge_duplicates(
    connection: Connection,
    material_ids: Iterable[int] | None = None,
    *,
    structure_ids: Iterable[int] | None = None,
    grade_of: GradeOf = _no_name,
    same_polymer: SamePolymer | None = None,
) -> list[Merge]:
    """Merge the materials that share a structure with any of ``material_ids`` (or that have one
    of ``structure_ids``; neither: every material) and are one material by the rules; returns what
    was merged into what. Structures that ``same_polymer`` calls one polymer (another cut of one
    chain) count as one structure."""
    same_polymer = same_polymer or vocabulary_forms
    kinds = _dataset_kinds(connection)
    if structure_ids is not None:
        seeds = list(structure_ids)
    elif material_ids is None:
        found = connection.execute(
            select(Material.structure_id).where(Material.structure_id.is_not(None)).distinct()
        ).scalars()
        seeds = [structure_id for structure_id in found if structure_id is not None]
    else:
        ids = sorted(set(material_ids))
        seeds = []
        for batch in _batches(ids):
            found = connection.execute(
                select(Material.structure_id)
                .where(in_values(Material.id, batch), Material.structure_id.is_not(None))
                .distinct()
            ).scalars()
            seeds += [structure_id for structure_id in found if structure_id is not None]
    smiles_of = _smiles(connection, sorted(set(seeds)))
    group_of: dict[int, str] = {}  # structure id -> the group it belongs to
    forms: dict[str, set[str]] = {}
    for structure_id, smiles in smiles_of.items():
        polymer = same_polymer(smiles)
        if polymer is None:
            group_of[structure_id] = f"structure:{structure_id}"
        else:
            group_of[structure_id] = f"polymer:{polymer[0]}"
            forms[polymer[0]] = set(polymer[1])
    wanted = sorted({form for group in forms.values() for form in group} - set(smiles_of.values()))
    for batch in _batches(wanted):
        for structure_id, smiles in connection.execute(
            select(ChemicalStructure.id, ChemicalStructure.canonical_smiles).where(
                in_values(ChemicalStructure.canonical_smiles, batch)
            )
        ):
            polymer = same_polymer(smiles)
            if polymer is not None:
                group_of[structure_id] = f"polymer:{polymer[0]}"
    by_group: dict[str, list[int]] = defaultdict(list)
    structure_ids = sorted(group_of)
    for batch in _batches(structure_ids):
        for material_id, member_of in connection.execute(
            select(Material.id, Material.structure_id).where(in_values(Material.structure_id, batch))
        ):
            if member_of is not None:
                by_group[group_of[member_of]].append(material_id)
    merges = []
    for group in sorted(by_group):
        members = by_group[group]
        if len(members) < 2:
            continue
        for kept, merged in plan_merges(_facts(connection, members, kinds, grade_of)):
            merge_into(connection, kept.id, [fact.id for fact in merged])
            merges.append(
                Merge(
                    kept=kept.id,
                    merged=tuple(fact.id for fact in merged),
                    merged_public_ids=tuple(fact.public_id for fact in merged),
                )
            )
    return merges


def _smiles(connection: Connection, structure_ids: list[int]) -> dict[int, str]:
    found = {}
    for batch in _batches(structure_ids):
        found.update(
            dict(
                connection.execute(
                    select(ChemicalStructure.id, ChemicalStructure.canonical_smiles).where(
                        in_values(ChemicalStructure.id, batch)
                    )
                ).all()
            )
        )
    return found


_FILLED = ("material_class", "subclass", "description", "biodegradable", "origin", "regulatory_notes", "structure_id")


def merge_into(connection: Connection, kept: int, merged: list[int]) -> None:
    """Move everything of ``merged`` onto ``kept`` and delete them (inside the caller's transaction)."""
    if not merged:
        return
    now = datetime.now(UTC)
    kept_row = (
        connection.execute(
            select(Material.public_id, *(getattr(Material, column).label(column) for column in _FILLED)).where(
                Material.id == kept
            )
        )
        .mappings()
        .one()
    )
    others = (
        connection.execute(
            select(
                Material.id,
                Material.public_id,
                Material.name,
                Material.created_by_dataset_id,
                *(getattr(Material, column).label(column) for column in _FILLED),
            )
            .where(in_values(Material.id, merged))
            .order_by(Material.id)
        )
        .mappings()
        .all()
    )
    # every name a dataset gave the merged materials is one of their synonyms, claimed by it: those
    # move; a name they only showed (the vocabulary's, one derived from a structure) is derived again
    have = set(
        connection.execute(select(MaterialSynonym.name_key).where(MaterialSynonym.material_id == kept)).scalars()
    )
    for synonym in connection.execute(
        select(MaterialSynonym.synonym, MaterialSynonym.name_key, MaterialSynonym.dataset_id)
        .where(in_values(MaterialSynonym.material_id, merged))
        .order_by(MaterialSynonym.id)
    ).all():
        if synonym.name_key not in have:
            have.add(synonym.name_key)
            connection.execute(
                insert(MaterialSynonym).values(
                    material_id=kept, synonym=synonym.synonym, name_key=synonym.name_key, dataset_id=synonym.dataset_id
                )
            )
    applications = set(
        connection.execute(
            select(MaterialApplication.application).where(MaterialApplication.material_id == kept)
        ).scalars()
    )
    for application, dataset_id in connection.execute(
        select(MaterialApplication.application, MaterialApplication.dataset_id).where(
            in_values(MaterialApplication.material_id, merged)
        )
    ).all():
        if application not in applications:
            applications.add(application)
            connection.execute(
                insert(MaterialApplication).values(material_id=kept, application=application, dataset_id=dataset_id)
            )
    for claim in connection.execute(
        select(DetailClaim.kind, DetailClaim.value_key, DetailClaim.dataset_id).where(
            in_values(DetailClaim.material_id, merged)
        )
    ).all():
        _claim(connection, claim.kind, kept, claim.value_key, claim.dataset_id)
    has_components = (
        connection.execute(
            select(CompositionComponent.id).where(CompositionComponent.material_id == kept).limit(1)
        ).first()
        is not None
    )
    if not has_components:
        for other in others:
            moved = connection.execute(
                update(CompositionComponent)
                .where(CompositionComponent.material_id == other["id"])
                .values(material_id=kept)
            ).rowcount
            if moved:
                break
    filled = {}
    for column in _FILLED:
        if kept_row[column] is None:
            value = next((other[column] for other in others if other[column] is not None), None)
            if value is not None:
                filled[column] = value
    connection.execute(update(Material).where(Material.id == kept).values(updated_at=now, **filled))
    connection.execute(update(Measurement).where(in_values(Measurement.material_id, merged)).values(material_id=kept))
    if inspect(connection).has_table(BiologicalEvaluation.__tablename__):  # migration 0010 merges before 0013
        connection.execute(
            update(BiologicalEvaluation)
            .where(in_values(BiologicalEvaluation.material_id, merged))
            .values(material_id=kept)
        )
    connection.execute(
        update(MaterialRedirect).where(in_values(MaterialRedirect.material_id, merged)).values(material_id=kept)
    )
    merged_ids = [other["public_id"] for other in others]
    connection.execute(delete(MaterialRedirect).where(in_values(MaterialRedirect.public_id, merged_ids)))  # a re-merge
    connection.execute(
        insert(MaterialRedirect),
        [{"public_id": public_id, "material_id": kept, "merged_at": now} for public_id in merged_ids],
    )
    record_changed_rows(
        connection,
        [(other["id"], other["public_id"]) for other in others] + [(kept, kept_row["public_id"])],
        now,
    )
    connection.execute(delete(Material).where(in_values(Material.id, merged)))


def _claim(connection: Connection, kind: str, material_id: int, key: str, dataset_id: int) -> None:
    exists = connection.execute(
        select(DetailClaim.kind).where(
            and_(
                DetailClaim.kind == kind,
                DetailClaim.material_id == material_id,
                DetailClaim.value_key == key,
                DetailClaim.dataset_id == dataset_id,
            )
        )
    ).first()
    if exists is None:
        connection.execute(
            insert(DetailClaim).values(kind=kind, material_id=material_id, value_key=key, dataset_id=dataset_id)
        )


def refresh_names(
    connection: Connection, material_ids: Iterable[int], *, vocabulary_name: StructureNamer = _no_name
) -> set[int]:
    """Set each material's shown name to the best of the names it is given (docs/identity.md);
    returns the materials renamed. Every name stays a synonym, so that it still finds the material."""
    ids = sorted(set(material_ids))
    kinds = _dataset_kinds(connection)
    renamed = set()
    for batch in _batches(ids):
        primary: dict[tuple[int, str], set[int]] = defaultdict(set)
        for material_id, key, dataset_id in connection.execute(
            select(DetailClaim.material_id, DetailClaim.value_key, DetailClaim.dataset_id).where(
                DetailClaim.kind == "name", in_values(DetailClaim.material_id, batch)
            )
        ):
            primary[(material_id, key)].add(dataset_id)
        candidates: dict[int, list[NameCandidate]] = defaultdict(list)
        for order, synonym in enumerate(
            connection.execute(
                select(
                    MaterialSynonym.material_id,
                    MaterialSynonym.synonym,
                    MaterialSynonym.name_key,
                    MaterialSynonym.dataset_id,
                )
                .where(in_values(MaterialSynonym.material_id, batch))
                .order_by(MaterialSynonym.id)
            )
        ):
            namers = primary.get((synonym.material_id, synonym.name_key), set())
            source = max(
                (kinds.get(dataset_id, "curated") for dataset_id in namers | {synonym.dataset_id}), key=source_rank
            )
            candidates[synonym.material_id].append(
                NameCandidate(synonym.synonym, source, primary=bool(namers), order=order + 1)
            )
        rows = connection.execute(
            select(
                Material.id,
                Material.name,
                Material.name_key,
                Material.material_class.label("material_class"),
                Material.created_by_dataset_id,
                Material.structure_id,
                ChemicalStructure.canonical_smiles,
                ChemicalStructure.formula,
                ChemicalStructure.is_repeat_unit,
            )
            .outerjoin(ChemicalStructure, ChemicalStructure.id == Material.structure_id)
            .where(in_values(Material.id, batch))
        ).all()
        structure_ids = sorted({row.structure_id for row in rows if row.structure_id is not None})
        first_of_structure = (
            dict(
                connection.execute(
                    select(Material.structure_id, func.min(Material.id))
                    .where(in_values(Material.structure_id, structure_ids))
                    .group_by(Material.structure_id)
                ).all()
            )
            if structure_ids
            else {}
        )
        for row in rows:
            shown = material_key(row.name)
            # on a tie the name shown now stays: names do not flip between loads, and a core stored
            # before these rules keeps the names it showed where they rank alike
            own = candidates[row.id] = [
                replace(c, order=-1) if material_key(c.name) == shown else c for c in candidates[row.id]
            ]
            if not own and not is_derived_key(row.name_key):  # a material no dataset names any more keeps its name
                own.append(NameCandidate(row.name, kinds.get(row.created_by_dataset_id, "curated"), primary=True))
            # the vocabulary names a structure's first material, and any that no dataset names: the
            # others of that structure are kept apart by the rules, and their own names tell them apart
            if (
                row.canonical_smiles
                and (first_of_structure.get(row.structure_id) == row.id or not own)
                and (common := vocabulary_name(row.canonical_smiles))
            ):
                own.append(NameCandidate(common, "vocabulary", primary=True, order=0))
            best = choose_name(own)
            if best is None:
                name = display_name_for_structure(
                    row.formula,
                    row.material_class,
                    repeat_unit=bool(row.is_repeat_unit),
                    family=_family(row.canonical_smiles),
                )
                key = derived_key(name)
            else:
                name, key = best.name, normalise_label(best.name)
            if (name, key) != (row.name, row.name_key):
                connection.execute(update(Material).where(Material.id == row.id).values(name=name, name_key=key))
                renamed.add(row.id)
    return renamed


def _family(canonical_smiles: str | None) -> str | None:
    if not canonical_smiles:
        return None
    from biomatdb.chemistry import polymer_family

    return polymer_family(canonical_smiles)


def vocabulary_name(canonical_smiles: str) -> str | None:
    """The polymer vocabulary's common name of a repeat unit, or None."""
    from biomatdb.vocabulary.polymers import polymer_names

    entry = polymer_names().by_structure(canonical_smiles)
    return None if entry is None else entry.name


def vocabulary_forms(canonical_smiles: str) -> tuple[str, tuple[str, ...]] | None:
    """The polymer vocabulary's entry of a structure and every structure of that entry (its repeat
    unit and the other cuts of the same chain datasets write: PTFE's ``*C(*)(F)F``)."""
    from biomatdb.vocabulary.polymers import polymer_names

    entry = polymer_names().by_structure(canonical_smiles)
    return None if entry is None else (entry.key, entry.structures)


def vocabulary_grade(name: str) -> str | None:
    """The polymer vocabulary's grade a name states ("HDPE", "highly cross-linked UHMWPE"), as a key."""
    from biomatdb.vocabulary.polymers import polymer_names

    names = polymer_names()
    found = names.by_name(name)
    if found is None:
        for word in material_key(name).split(" "):
            found = names.by_name(word)
            if found is not None and found[1] is not None:
                break
    if found is None or found[1] is None:
        return None
    return material_key(found[1].name)


def apply_identity_rules(connection: Connection) -> list[Merge]:
    """Bring a core stored before the identity rules under them (migration 0010): name keys folded
    again, every material's name one of its synonyms, duplicates merged, names chosen again. The
    search index learns of every material through the outbox."""
    from biomatdb.db import bump_generation

    synonyms = cast(Table, MaterialSynonym.__table__)
    seen: set[tuple[int, str]] = set()
    doomed, rekeyed = [], []
    for row in connection.execute(
        select(synonyms.c.id, synonyms.c.material_id, synonyms.c.synonym).order_by(synonyms.c.id)
    ).all():
        key = material_key(row.synonym)
        if is_structure_string(row.synonym) or (row.material_id, key) in seen:
            doomed.append(row.id)
        else:
            seen.add((row.material_id, key))
            rekeyed.append({"synonym_id": row.id, "key": key})
    for batch in _batches(doomed):
        connection.execute(delete(synonyms).where(in_values(synonyms.c.id, batch)))
    if rekeyed:
        connection.execute(
            update(synonyms).where(synonyms.c.id == bindparam("synonym_id")).values(name_key=bindparam("key")), rekeyed
        )
    claims = cast(Table, DetailClaim.__table__)
    old_claims = connection.execute(
        select(claims.c.kind, claims.c.material_id, claims.c.value_key, claims.c.dataset_id).where(
            claims.c.kind == "synonym"
        )
    ).all()
    connection.execute(delete(claims).where(claims.c.kind == "synonym"))
    names_by_key = {
        (row.material_id, row.name_key): row.synonym
        for row in connection.execute(select(synonyms.c.material_id, synonyms.c.name_key, synonyms.c.synonym))
    }
    refolded = set()
    for claim in old_claims:
        # an old key folded the name with normalise_label; the same text folds to one new key
        key = material_key(claim.value_key)
        if (claim.material_id, key) in names_by_key:
            refolded.add(("synonym", claim.material_id, key, claim.dataset_id))
    materials = connection.execute(select(Material.id, Material.name, Material.created_by_dataset_id)).all()
    for material in materials:
        key = material_key(material.name)
        if is_structure_string(material.name) or not key:
            continue
        if (material.id, key) not in names_by_key:
            connection.execute(
                insert(synonyms).values(
                    material_id=material.id,
                    synonym=material.name,
                    name_key=key,
                    dataset_id=material.created_by_dataset_id,
                )
            )
            names_by_key[(material.id, key)] = material.name
        elif names_by_key[(material.id, key)] != material.name:
            # one name spelt two ways ("PLGA 50/50", "PLGA 50:50") is one synonym now: the spelling
            # the material was shown by is kept
            connection.execute(
                update(synonyms)
                .where(synonyms.c.material_id == material.id, synonyms.c.name_key == key)
                .values(synonym=material.name)
            )
            names_by_key[(material.id, key)] = material.name
        if material.created_by_dataset_id is not None:
            refolded.add(("name", material.id, key, material.created_by_dataset_id))
    rows = [
        {"kind": kind, "material_id": material_id, "value_key": key, "dataset_id": dataset_id}
        for kind, material_id, key, dataset_id in sorted(refolded)
    ]
    for batch in _batches(rows, 5_000):
        connection.execute(insert(claims), batch)
    if materials:
        connection.execute(
            update(cast(Table, Material.__table__))
            .where(Material.__table__.c.id == bindparam("material"))
            .values(name_key=bindparam("key")),
            [
                {
                    "material": material.id,
                    "key": "" if is_structure_string(material.name) else normalise_label(material.name),
                }
                for material in materials
            ],
        )
    merges = merge_duplicates(connection, grade_of=vocabulary_grade)
    all_ids = list(connection.execute(select(Material.id)).scalars())
    refresh_names(connection, all_ids, vocabulary_name=vocabulary_name)
    # the search columns are computed again by migration 0011, which adds the name relevance columns
    now = datetime.now(UTC)
    for batch in _batches(all_ids):
        record_changed(connection, in_values(Material.id, batch), now)
    bump_generation(connection)
    return merges
