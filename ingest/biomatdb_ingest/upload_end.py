"""What an upload changes beyond its own rows, at its end (``Loader.finish``): the claims its
dataset makes, the synonyms it no longer gives, the search outbox, the diff with the dataset's
previous upload, the materials it leaves without a row, the public ids its matched rows would
have had. Each step is set-based SQL over the load's TEMP tables (``biomatdb_ingest.loadstate``),
a page at a time, inside the load's transaction; the loader decides the order.
"""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime
from typing import NamedTuple

from sqlalchemy import Connection, Integer, and_, case, delete, func, insert, literal, select

from biomatdb.identity import is_structure_string
from biomatdb.models import (
    BiologicalEvaluation,
    DetailClaim,
    Material,
    MaterialRedirect,
    MaterialSynonym,
    Measurement,
)
from biomatdb.outbox import record_changed
from biomatdb.sqlin import batches, in_values
from biomatdb.vocabulary import normalise_label
from biomatdb_ingest import loadstate
from biomatdb_ingest.loadstate import LoadState, claims as load_claims, ids as load_ids, names as load_names
from biomatdb_ingest.normalise import MaterialRecord, public_id_for


class MeasurementDiff(NamedTuple):
    """How an upload's measurements compare with the previous upload's of its dataset."""

    unchanged: int
    updated: int
    added: int
    removed: int


def _now() -> datetime:
    return datetime.now(UTC)


def created_records(connection: Connection) -> Iterator[tuple[int, MaterialRecord]]:
    """Each material the load created (and kept), with the record of the file that created it,
    in the order the file's keys resolved; a material that merges left with several such keys
    takes its place from the first and its record from the last."""
    n = load_names
    created = (n.c.record == 1) & n.c.material_id.in_(select(load_ids.c.material_id).where(load_ids.c.created == 1))
    several = dict(
        connection.execute(
            select(n.c.material_id, func.max(n.c.ord)).where(created).group_by(n.c.material_id).having(func.count() > 1)
        ).all()
    )
    last = {}
    if several:
        for material_id, row, name, material_class in connection.execute(
            select(n.c.material_id, n.c.row, n.c.name, n.c.material_class).where(
                in_values(n.c.ord, sorted(several.values()))
            )
        ):
            last[material_id] = MaterialRecord(row=row, name=name, name_key="", material_class=material_class)
    done: set[int] = set()
    after = -1
    while True:
        page = connection.execute(
            select(n.c.ord, n.c.material_id, n.c.row, n.c.name, n.c.material_class, n.c.key)
            .where(created, n.c.ord > after)
            .order_by(n.c.ord)
            .limit(loadstate.PAGE)
        ).all()
        if not page:
            return
        for _, material_id, row, name, material_class, key in page:
            if material_id in several:
                if material_id in done:
                    continue
                done.add(material_id)
                yield material_id, last[material_id]
            else:
                yield material_id, MaterialRecord(row=row, name=name, name_key=key, material_class=material_class)
        after = page[-1][0]


def drop_unclaimed_synonyms(connection: Connection, dataset_id: int, state: LoadState) -> None:
    """Names this dataset gave before and no longer gives (nor does any other dataset) go."""
    claimed = (
        select(DetailClaim.material_id)
        .where(
            DetailClaim.kind.in_(("synonym", "name")),
            DetailClaim.material_id == MaterialSynonym.material_id,
            DetailClaim.value_key == MaterialSynonym.name_key,
        )
        .exists()
    )
    stale = and_(MaterialSynonym.dataset_id == dataset_id, ~claimed)
    materials = set(connection.execute(select(MaterialSynonym.material_id).where(stale)).scalars())
    if materials:
        connection.execute(delete(MaterialSynonym).where(stale))
        state.mark(materials, "updated", unless_created=True)


def redirect_matched_ids(connection: Connection) -> None:
    """The public id a matched row would have had answers with the material it matched: the id
    an earlier version, which made that row a material of its own, gave out keeps working.
    The first key (in the order the file met them) to want an id has it."""
    n, wanted = load_names, loadstate.redirects
    after = -1
    while True:
        page = connection.execute(
            select(n.c.seen, n.c.name, n.c.material_id)
            .where(n.c.matched_by.is_not(None), n.c.seen > after)
            .order_by(n.c.seen)
            .limit(loadstate.PAGE)
        ).all()
        if not page:
            break
        rows = [
            {"public_id": public_id_for(normalise_label(name)), "material_id": material_id}
            for _, name, material_id in page
            if not is_structure_string(name)
        ]
        if rows:
            connection.execute(loadstate.insert_into(connection, wanted).on_conflict_do_nothing(), rows)
        after = page[-1][0]
    own = select(Material.id).where(Material.public_id == wanted.c.public_id).exists()
    redirected = select(MaterialRedirect.public_id).where(MaterialRedirect.public_id == wanted.c.public_id).exists()
    connection.execute(
        insert(MaterialRedirect).from_select(
            ["public_id", "material_id", "merged_at"],
            select(wanted.c.public_id, wanted.c.material_id, literal(_now(), MaterialRedirect.merged_at.type)).where(
                ~own, ~redirected
            ),
        )
    )


def record_claims(connection: Connection, dataset_id: int) -> None:
    """This upload's synonyms and applications, as claims of its dataset (its earlier claims go)."""
    connection.execute(delete(DetailClaim).where(DetailClaim.dataset_id == dataset_id))
    connection.execute(
        insert(DetailClaim).from_select(
            ["kind", "material_id", "value_key", "dataset_id"],
            select(
                load_claims.c.kind,
                load_claims.c.material_id,
                load_claims.c.value_key,
                literal(dataset_id, Integer),
            ),
        )
    )


def record_outbox(connection: Connection, dataset_id: int, state: LoadState) -> None:
    """Every material whose search document this upload may change, in the same transaction:
    those with measurements of this dataset (old or new), those it created, those it updated
    (one outbox row each, however often recorded)."""
    now = _now()
    touched = (
        select(Measurement.material_id)
        .where(Measurement.dataset_id == dataset_id)
        .union(select(BiologicalEvaluation.material_id).where(BiologicalEvaluation.dataset_id == dataset_id))
    )
    record_changed(connection, Material.id.in_(touched) | (Material.created_by_dataset_id == dataset_id), now)
    updated = select(load_ids.c.material_id).where(load_ids.c.updated == 1, load_ids.c.created == 0)
    for page in state.pages(updated):
        for batch in batches(page):
            record_changed(connection, in_values(Material.id, batch), now)


def diff_with_previous(connection: Connection, dataset_id: int, upload_id: int) -> MeasurementDiff:
    """Count unchanged, added, removed and updated measurements in SQL, by content and identity hash."""
    m = Measurement.__table__
    is_new = case((m.c.upload_id == upload_id, 1), else_=0)
    per_content = (
        select(
            m.c.material_id,
            m.c.identity_hash,
            m.c.content_hash,
            func.sum(is_new).label("n_new"),
            func.sum(1 - is_new).label("n_old"),
        )
        .where(m.c.dataset_id == dataset_id)
        .group_by(m.c.material_id, m.c.identity_hash, m.c.content_hash)
        .subquery()
    )
    same = case((per_content.c.n_new < per_content.c.n_old, per_content.c.n_new), else_=per_content.c.n_old)
    per_identity = (
        select(
            func.sum(same).label("unchanged"),
            func.sum(per_content.c.n_new - same).label("added"),
            func.sum(per_content.c.n_old - same).label("removed"),
        )
        .group_by(per_content.c.material_id, per_content.c.identity_hash)
        .subquery()
    )
    updated = case((per_identity.c.added < per_identity.c.removed, per_identity.c.added), else_=per_identity.c.removed)
    unchanged, added, removed, both = connection.execute(
        select(
            func.coalesce(func.sum(per_identity.c.unchanged), literal(0)),
            func.coalesce(func.sum(per_identity.c.added), literal(0)),
            func.coalesce(func.sum(per_identity.c.removed), literal(0)),
            func.coalesce(func.sum(updated), literal(0)),
        )
    ).one()
    return MeasurementDiff(
        unchanged=int(unchanged),
        updated=int(both),
        added=int(added) - int(both),
        removed=int(removed) - int(both),
    )


def remove_orphans(connection: Connection, dataset_id: int, state: LoadState) -> None:
    """Materials this dataset created that no longer have any measurement or row leave with it,
    unless another dataset still names or describes them (a merge may have joined its rows)."""
    has_measurements = select(Measurement.material_id).where(Measurement.material_id == Material.id).exists()
    claimed = select(DetailClaim.material_id).where(DetailClaim.material_id == Material.id).exists()
    candidates = (
        connection.execute(
            select(Material.id).where(
                and_(
                    Material.created_by_dataset_id == dataset_id,
                    ~has_measurements,
                    ~claimed,
                    ~state.in_file(Material.id),  # a material the file names stays
                )
            )
        )
        .scalars()
        .all()
    )
    for batch in batches(candidates):
        connection.execute(delete(Material).where(in_values(Material.id, batch)))
