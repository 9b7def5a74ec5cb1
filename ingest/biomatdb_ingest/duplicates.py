"""Possible duplicates: a material an upload created whose name is close to an existing one's.

A warning (``possible-duplicate``), not a merge: only the rules of docs/identity.md merge. Names
are compared after ``material_key`` (case, punctuation, word order, ``50/50`` as ``50:50``) with
rapidfuzz's token-set ratio, which also scores a name contained in another ("Hydroxyapatite" in
"Hydroxyapatite, dense") and small typos ("titanum"). A pair the rules already tell apart is not
warned: two structures, two grades or forms each stated, two copolymer ratios, incompatible classes.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Callable, Iterable

from rapidfuzz import fuzz, process
from sqlalchemy import Connection, Select, select

from biomatdb.identity import (
    classes_compatible,
    copolymer_ratio,
    is_derived_key,
    is_structure_string,
    material_key,
    qualifiers,
)
from biomatdb.models import Material, MaterialSynonym
from biomatdb.sqlin import in_values
from biomatdb_ingest.normalise import MaterialRecord
from biomatdb_ingest.report import Issue

#: token-set ratio (0-100) from which two names are called a possible duplicate
SCORE_CUTOFF = 90
#: above this many comparisons, names are compared only with names sharing a rare word
_FULL_COMPARISONS = 20_000_000
_BATCH = 500


def possible_duplicates(
    connection: Connection,
    created_ids: Select,
    created: Callable[[], Iterable[tuple[int, MaterialRecord]]],
) -> list[Issue]:
    """Warnings for the materials just created: ``created_ids`` selects their ids, ``created()``
    gives each with the record that created it, in order (read twice, a batch at a time, so that
    a load of millions of materials holds only the other materials' names)."""
    names, owners = [], []  # every name and synonym of every other material, with its material
    facts: dict[int, tuple[str, str | None, int | None]] = {}  # the other materials'
    for material_id, name, name_key, material_class, structure_id in connection.execute(
        select(Material.id, Material.name, Material.name_key, Material.material_class, Material.structure_id).where(
            Material.id.not_in(created_ids)
        )
    ):
        facts[material_id] = (name, material_class, structure_id)
        if not is_derived_key(name_key):
            names.append(material_key(name))
            owners.append(material_id)
    for material_id, name_key in connection.execute(
        select(MaterialSynonym.material_id, MaterialSynonym.name_key).where(
            MaterialSynonym.material_id.not_in(created_ids)
        )
    ):
        names.append(name_key)
        owners.append(material_id)
    if not names:
        return []
    # a row named only by its structure has no name to compare: its structure decides (docs/identity.md)
    queries = sum(1 for _, record in created() if not is_structure_string(record.name))
    pools = _Pools(names, blocked=queries * len(names) > _FULL_COMPARISONS)
    issues: list[Issue] = []
    batch: list[tuple[int, MaterialRecord]] = []
    for item in created():
        if not is_structure_string(item[1].name):
            batch.append(item)
        if len(batch) >= _BATCH:
            issues += _warn(connection, batch, names, owners, facts, pools)
            batch = []
    if batch:
        issues += _warn(connection, batch, names, owners, facts, pools)
    return issues


def _warn(
    connection: Connection,
    batch: list[tuple[int, MaterialRecord]],
    names: list[str],
    owners: list[int],
    facts: dict[int, tuple[str, str | None, int | None]],
    pools: _Pools,
) -> list[Issue]:
    structures = dict(
        connection.execute(
            select(Material.id, Material.structure_id).where(
                in_values(Material.id, sorted({material_id for material_id, _ in batch}))
            )
        ).all()
    )
    issues = []
    for material_id, record in batch:
        key = material_key(record.name)
        pool = pools.of(key)
        best: dict[int, tuple[float, str]] = {}
        if not pool:
            continue
        choices = [names[i] for i in pool]
        for _, score, index in process.extract(
            key, choices, scorer=fuzz.token_set_ratio, score_cutoff=SCORE_CUTOFF, limit=20
        ):
            owner = owners[pool[index]]
            if score > best.get(owner, (-1.0, ""))[0]:
                best[owner] = (score, choices[index])
        for owner, (score, matched) in sorted(best.items(), key=lambda item: (-item[1][0], item[0]))[:3]:
            name, material_class, structure_id = facts[owner]
            own_structure = structures.get(material_id)
            if _told_apart(record, name, matched, material_class, structure_id, own_structure):
                continue
            public_id = connection.execute(select(Material.public_id).where(Material.id == owner)).scalar_one()
            issues.append(
                Issue(
                    type="possible-duplicate",
                    row=record.row,
                    column=None,
                    value=record.name,
                    message=f"created {record.name!r}, which may be the existing material {public_id} {name!r} "
                    f"(names {score:.0f}% alike); if it is, name it so in the file, give it that id, "
                    f"or add the name as a synonym",
                )
            )
    return issues


def _told_apart(
    record: MaterialRecord,
    name: str,
    matched: str,
    material_class: str | None,
    structure_id: int | None,
    own_structure: int | None,
) -> bool:
    if not classes_compatible(record.material_class, material_class):
        return True
    if own_structure is not None and structure_id is not None and own_structure != structure_id:
        return True
    for other in (name, matched):
        if _numbers(record.name) != _numbers(other):  # "Nylon 6,6" and "Nylon 6,10"; "Polyimide 10"
            return True
        ours, theirs = copolymer_ratio(record.name), copolymer_ratio(other)
        if ours is not None and theirs is not None and ours != theirs:
            return True
        ours_q, theirs_q = qualifiers(record.name), qualifiers(other)
        if ours_q and theirs_q and ours_q != theirs_q:
            return True
    return False


def _numbers(name: str) -> list[str]:
    return re.findall(r"\d+", name)


class _Pools:
    """For a query, the indexes of the names worth scoring: all of them while that is cheap (the
    caller decides, from every query of the load), else those sharing a word, or a word's first
    four letters (a typo is rarely in them: "titanum"), that no more than one name in a hundred has."""

    def __init__(self, names: list[str], *, blocked: bool) -> None:
        self.everything = list(range(len(names)))
        self.blocked = blocked
        self.by_block: dict[str, list[int]] = defaultdict(list)
        if blocked:
            for index, name in enumerate(names):
                for block in _blocks(name):
                    self.by_block[block].append(index)
        self.common = max(50, len(names) // 100)

    def of(self, key: str) -> list[int]:
        if not self.blocked:
            return self.everything
        pool: set[int] = set()
        for block in _blocks(key):
            indexes = self.by_block.get(block, ())
            if len(indexes) <= self.common:
                pool.update(indexes)
        return sorted(pool)


def _blocks(name: str) -> set[str]:
    words = [word for word in name.split(" ") if len(word) >= 3]
    return {f"w:{word}" for word in words} | {f"p:{word[:4]}" for word in words if len(word) >= 5}
