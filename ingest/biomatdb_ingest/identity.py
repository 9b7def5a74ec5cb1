"""Which stored material each of a file's material records is: the identity rules of
docs/identity.md (``biomatdb.identity``) applied to what the database holds, for one load.

A record names a stored material by its public id, then by a stored name or synonym, then by a
canonical structure when nothing tells the two apart (``biomatdb.identity.conflict``); a record
whose own public id is taken names the material that holds it. This module only reads: the
loader (``biomatdb_ingest.load``) writes the rows, and asks here which existing material a record is, and
which public id a new material takes.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from sqlalchemy import Connection, func, select

from biomatdb.identity import (
    Identity,
    conflict,
    identity_of,
    is_structure_string,
    material_key,
    name_of_record_key,
    spelling_variants,
)
from biomatdb.merge import vocabulary_grade
from biomatdb.models import Material, MaterialRedirect, MaterialSynonym
from biomatdb.sqlin import batches, in_values
from biomatdb.vocabulary import normalise_label
from biomatdb_ingest.loadstate import LoadState
from biomatdb_ingest.normalise import MaterialRecord, public_id_for


def public_id_of(record: MaterialRecord) -> str:
    """The public id a record asks for: the one it gives, else one folded from its name."""
    # the public id folds the name as it did before the identity rules, so that ids stay stable
    return record.public_id or public_id_for(normalise_label(record.name))


@dataclass(slots=True)
class Matches:
    """Which stored material each record of a chunk is, by ``record_key``, and by what rule
    (``matched_by``: ``id``, ``name``, ``synonym`` or ``structure``). ``public_ids_asked`` are the
    public ids looked up to match them and ``public_ids_stored`` those of them taken, with the
    material each names: ``MaterialMatcher.new_public_ids`` asks only for the others."""

    material_ids: dict[str, int] = field(default_factory=dict)
    matched_by: dict[str, str] = field(default_factory=dict)
    public_ids_asked: set[str] = field(default_factory=set)
    public_ids_stored: dict[str, int] = field(default_factory=dict)


@dataclass
class MaterialMatcher:
    """Decides, for one load, which stored material a record is. ``structure_ids`` (canonical
    SMILES -> structure id) holds every structure the records give: the loader stores them first.
    ``curated``: a curated dataset's two names for one structure mean two materials."""

    connection: Connection
    state: LoadState
    structure_ids: Mapping[str, int]
    curated: bool = True

    def match(self, records: list[MaterialRecord]) -> Matches:
        """The stored material each record is (``find``), and for each one not found whose own
        public id is taken, the material that holds that id (``_match_public_ids``)."""
        matches = self.find(records)
        self._match_public_ids([r for r in records if r.name_key not in matches.material_ids], matches)
        return matches

    def find(self, records: list[MaterialRecord]) -> Matches:
        """name_key -> existing material id, by public id, then name or synonym, then structure
        under the identity rules (docs/identity.md); ``matched_by`` says which."""
        matches = Matches()
        found, matched = matches.material_ids, matches.matched_by
        by_public = {r.public_id: r.name_key for r in records if r.public_id}
        for batch in batches(list(by_public)):
            for public_id, material_id in self.connection.execute(
                select(Material.public_id, Material.id).where(in_values(Material.public_id, batch))
            ):
                found[by_public[public_id]] = material_id
                matched[by_public[public_id]] = "id"
        public_ids = {r.name_key: r.public_id for r in records}
        given: dict[int, str | None] = {}  # material -> the id a record this call matched to it gives
        # material -> the public id an earlier chunk of this file gives it, asked for as candidates come
        given_before: dict[int, str] = {}
        asked: set[int] = set()

        def ask(material_ids: Iterable[int]) -> None:
            wanted = {material_id for material_id in material_ids if material_id not in asked}
            asked.update(wanted)
            given_before.update(self.state.per_material(wanted, "given_id"))

        def match(key: str, material_id: int, how: str) -> None:
            """``key``'s record is ``material_id``, unless this file gives that material another id."""
            public_id = public_ids.get(key)
            if key in found or given_before.get(material_id, public_id) != public_id:
                return
            if given.setdefault(material_id, public_id) != public_id:
                return
            found[key] = material_id
            matched[key] = how

        # every name a material is given is one of its synonyms (docs/identity.md): its shown name
        # matched is "name", another of its names "synonym"
        shown = Material.__table__.c.name
        by_label: dict[str, list[str]] = defaultdict(list)
        by_name: dict[str, list[str]] = defaultdict(list)
        for r in records:
            if r.name_key not in found and r.name_key:
                by_label[normalise_label(r.name)].append(r.name_key)
                by_name[name_of_record_key(r.name_key)].append(r.name_key)
        for batch in batches(list(by_label)):  # the shown name, the vocabulary's among them
            labelled = self.connection.execute(
                select(Material.name_key, func.min(Material.id))
                .where(in_values(Material.name_key, batch))
                .group_by(Material.name_key)
            ).all()
            ask(material_id for _, material_id in labelled)
            for label, material_id in labelled:
                for key in by_label[label]:
                    match(key, material_id, "name")
        names = [name for name, keys in by_name.items() if any(key not in found for key in keys)]
        for batch in batches(names):
            rows = self.connection.execute(
                select(MaterialSynonym.name_key, MaterialSynonym.material_id, shown)
                .join(Material, Material.id == MaterialSynonym.material_id)
                .where(in_values(MaterialSynonym.name_key, batch))
                .order_by(MaterialSynonym.material_id)
            ).all()
            ask(material_id for _, material_id, _ in rows)
            for name_key, material_id, name in rows:
                for key in by_name[name_key]:
                    match(key, material_id, "name" if material_key(name) == name_key else "synonym")
        by_structure: dict[int, list[MaterialRecord]] = {}
        names_of_structure: dict[int, set[str]] = {}  # every name the chunk gives a structure, found or not
        for record in records:
            if record.structure is None:
                continue
            structure_id = self.structure_ids[record.structure.canonical_smiles]
            if not is_structure_string(record.name):
                names_of_structure.setdefault(structure_id, set()).add(record.name)
            if record.name_key not in found:
                by_structure.setdefault(structure_id, []).append(record)
        for structure_batch in batches(list(by_structure)):
            candidates: dict[int, list[tuple[int, str, str | None]]] = {}
            for stored_structure, material_id, name, material_class in self.connection.execute(
                select(Material.structure_id, Material.id, Material.name, Material.material_class)
                .where(in_values(Material.structure_id, structure_batch))
                .order_by(Material.id)
            ):
                assert stored_structure is not None, "a structure of the batch, never NULL"
                candidates.setdefault(stored_structure, []).append((material_id, name, material_class))
            candidate_ids = [material_id for existing in candidates.values() for material_id, _, _ in existing]
            ask(candidate_ids)
            claimed_names = self.state.per_material(candidate_ids, "claimed_name")
            for structure_id, existing in candidates.items():
                named = sorted(names_of_structure.get(structure_id, ()))
                if self.curated and any(not spelling_variants(named[0], other) for other in named[1:]):
                    continue  # a file that gives one structure two names means two materials (grades)
                for record in by_structure[structure_id]:
                    identity = _identity(record)
                    for material_id, name, material_class in existing:
                        claimed = claimed_names.get(material_id)
                        if claimed is not None and not spelling_variants(claimed, record.name):
                            continue  # this file already calls it by another name
                        if (
                            conflict(
                                identity, identity_of(name, material_class=material_class, grade=vocabulary_grade(name))
                            )
                            is None
                        ):
                            match(record.name_key, material_id, "structure")
                            if record.name_key in found:
                                break
        return matches

    def new_public_ids(self, records: list[MaterialRecord], matches: Matches) -> dict[str, str]:
        """Public ids for new materials. A row named only by its structure folds to the id of a
        structure written in other letter case ("*c1ccccc1…", "*C1CCCCC1…": two structures), so
        when that id is taken it takes one from the structure as written."""
        chosen: dict[str, str] = {}
        wanted = {record.name_key: public_id_of(record) for record in records}
        # the ids ``match`` asked for just before (nothing was written since) and those of them it
        # found taken; only the others are asked for again
        asked, stored = matches.public_ids_asked, matches.public_ids_stored
        taken = {public_id for public_id in wanted.values() if public_id in stored}
        taken |= set(self._stored_public_ids(set(wanted.values()) - asked))
        for record in records:
            public_id = wanted[record.name_key]
            if is_structure_string(record.name) and not record.public_id:
                attempt = 1
                while public_id in taken:
                    public_id = public_id_for(f"{record.name_key}#{attempt}")
                    attempt += 1
            taken.add(public_id)
            chosen[record.name_key] = public_id
        return chosen

    def _match_public_ids(self, records: list[MaterialRecord], matches: Matches) -> None:
        """A record whose public id is taken already names that material: one stored under it, or
        one a merge kept for it (``material_redirects``), e.g. a re-upload of a merged row. Rows
        named only by a structure are matched by that structure, never by an id folded from it."""
        wanted = {public_id_of(record): record.name_key for record in records if not is_structure_string(record.name)}
        stored = self._stored_public_ids(wanted)
        for public_id, material_id in stored.items():
            key = wanted[public_id]
            if key not in matches.material_ids:
                matches.material_ids[key] = material_id
                matches.matched_by[key] = "id"
        matches.public_ids_asked, matches.public_ids_stored = set(wanted), stored

    def _stored_public_ids(self, public_ids: Iterable[str]) -> dict[str, int]:
        """Which of these public ids are taken, and the material each names: a stored material's
        own, or one a merge kept for it (``material_redirects``; a material's own id wins)."""
        stored: dict[str, int] = {}
        for batch in batches(sorted(set(public_ids))):
            for table, material in ((MaterialRedirect.__table__, "material_id"), (Material.__table__, "id")):
                stored.update(
                    self.connection.execute(
                        select(table.c.public_id, table.c[material]).where(in_values(table.c.public_id, batch))
                    ).all()
                )
        return stored


def _identity(record: MaterialRecord) -> Identity:
    return identity_of(
        record.name,
        material_class=record.material_class,
        grade=vocabulary_grade(record.name),
        composition=[(c.component.casefold(), c.fraction) for c in record.composition],
    )
