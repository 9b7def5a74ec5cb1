"""The one text per material that full-text search indexes (SQLite FTS5, PostgreSQL
tsvector, Elasticsearch): its name, synonyms, class, subclass, description and
applications. Derived data, recomputed for the materials a change touched."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

from sqlalchemy import Connection, bindparam, select, update

from biomatdb.identity import material_key
from biomatdb.models import Material, MaterialApplication, MaterialSynonym

_BATCH = 500


def compose(*, name: str, synonyms: Iterable[str], material_class: str | None, subclass: str | None,
            description: str | None, applications: Iterable[str]) -> str:
    own = material_key(name)  # the name is one of the synonyms too (docs/identity.md): said once
    parts = [name, *(synonym for synonym in synonyms if material_key(synonym) != own), material_class or "",
             subclass or "", description or "",
             *(a.replace("_", " ") for a in applications)]
    return " ".join(part for part in parts if part)


def names_and_applications(connection: Connection, material_ids: list[int]
                           ) -> tuple[defaultdict[int, list[str]], defaultdict[int, list[str]]]:
    """Synonyms (in the order given) and applications (sorted) of these materials."""
    synonyms, applications = defaultdict(list), defaultdict(list)
    for material_id, synonym in connection.execute(
            select(MaterialSynonym.material_id, MaterialSynonym.synonym)
            .where(MaterialSynonym.material_id.in_(material_ids)).order_by(MaterialSynonym.id)):
        synonyms[material_id].append(synonym)
    for material_id, application in connection.execute(
            select(MaterialApplication.material_id, MaterialApplication.application)
            .where(MaterialApplication.material_id.in_(material_ids)).order_by(MaterialApplication.application)):
        applications[material_id].append(application)
    return synonyms, applications


def refresh_search_text(connection: Connection, material_ids: Iterable[int]) -> None:
    """Recompute ``materials.search_text`` for these materials (missing ids are ignored)."""
    ids = sorted(set(material_ids))
    for start in range(0, len(ids), _BATCH):
        batch = ids[start:start + _BATCH]
        synonyms, applications = names_and_applications(connection, batch)
        rows = [
            {"material": row.id, "text": compose(
                name=row.name, synonyms=synonyms[row.id], material_class=row.material_class, subclass=row.subclass,
                description=row.description, applications=applications[row.id])}
            for row in connection.execute(
                select(Material.id, Material.name, Material.material_class.label("material_class"), Material.subclass, Material.description)
                .where(Material.id.in_(batch)))
        ]
        if rows:
            connection.execute(update(Material).where(Material.id == bindparam("material"))
                               .values(search_text=bindparam("text")), rows)
