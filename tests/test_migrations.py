"""The migrations build exactly the schema the models describe, on SQLite and PostgreSQL, and
walk down and up again."""

from __future__ import annotations

from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.migration import MigrationContext

from biomatdb.db import alembic_config
from biomatdb.models import Base


def _not_full_text(obj, name, type_, reflected, compare_to):
    # SQLite's FTS5 shadow tables and PostgreSQL's expression index live outside the models
    return not (name or "").startswith("materials_fts") and name != "ix_materials_search_text"


def _differences(engine) -> list:
    with engine.connect() as connection:
        context = MigrationContext.configure(connection, opts={"include_object": _not_full_text})
        return compare_metadata(context, Base.metadata)


def test_migrated_schema_matches_the_models(engine):
    assert _differences(engine) == []


def test_migrations_go_down_to_nothing_and_up_again(engine):
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "base")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    assert _differences(engine) == []


def test_the_head_revision_read_from_file_names_is_alembics():
    from alembic.script import ScriptDirectory

    from biomatdb.db import head_revision

    assert head_revision() == ScriptDirectory.from_config(alembic_config()).get_current_head()


def test_a_current_core_is_opened_without_writing(sqlite_engine):
    """``migrate`` on a core already at head with the vocabulary in step takes no write lock:
    it succeeds while another connection holds the database's one write lock."""
    import sqlite3

    from biomatdb.db import make_engine, migrate

    holder = sqlite3.connect(sqlite_engine.url.database, timeout=0)
    try:
        holder.execute("BEGIN IMMEDIATE")
        second = make_engine(sqlite_engine.url.render_as_string())
        from sqlalchemy import event

        event.listen(second, "connect", lambda connection, _record: connection.execute("PRAGMA busy_timeout = 0"))
        migrate(second)  # "database is locked" at once if it tried to write
        second.dispose()
    finally:
        holder.rollback()
        holder.close()


def test_going_below_0009_refuses_while_qualitative_values_exist(sqlite_engine, tmp_path):
    """Without its term a qualitative measurement would read as an interval with no ends, which
    the older code matches to every range filter: the downgrade refuses and changes nothing."""
    import pytest

    from biomatdb_ingest.pipeline import ingest_file
    from tests.conftest import snapshot

    path = tmp_path / "qualitative.csv"
    path.write_text("Material,Tm (°C)\nPDLLA,amorphous\nPLLA,175\n", encoding="utf-8")
    assert ingest_file(sqlite_engine, path).loaded
    before = snapshot(sqlite_engine)
    config = alembic_config(sqlite_engine)
    # the refusal must leave the transaction, so that it rolls the downgrade back
    with pytest.raises(RuntimeError, match="1 qualitative measurements"), sqlite_engine.begin() as connection:  # noqa: PT012
        config.attributes["connection"] = connection
        command.downgrade(config, "0008")
    assert snapshot(sqlite_engine) == before


def test_0014_derives_the_elements_of_materials_stored_before_it(engine, tmp_path):
    """Going down to 0013 and up again derives every stored material's elements anew: the same
    rows, but for a component stored without its qualifier, whose ``≥0.4`` is then read as 0.4."""
    from sqlalchemy import select

    from biomatdb.db import core_generation
    from biomatdb.models import MaterialElement, MaterialElementBasis
    from biomatdb_ingest.pipeline import ingest_file

    data = tmp_path / "alloys.csv"
    data.write_text(
        "Material,Class,Composition,SMILES,Density (g/cm3)\n"
        'Test titanium alloy,metal,"Ti bal; Al 5.5-6.75 wt%; O ≤0.2 wt%",,4.4\n'
        'Test magnesium alloy,metal,"Mg bal; Zr ≥0.4 wt%",,1.8\n'
        'Test apatite,ceramic,"HA 100 wt%",,3.1\n'
        "Test polystyrene,polymer,,*CC(*)c1ccccc1,1.05\n",
        encoding="utf-8",
    )
    assert ingest_file(engine, data).ok

    def stored():
        e = MaterialElement
        with engine.connect() as connection:
            rows = connection.execute(
                select(e.material_id, e.element, e.basis, e.fraction_min, e.fraction_max, e.presence, e.origin)
            ).all()
            bases = connection.execute(select(MaterialElementBasis.material_id, MaterialElementBasis.basis)).all()
            return sorted(rows, key=repr), sorted(bases), core_generation(connection)

    before, bases_before, generation_before = stored()
    assert len(before) == 3 + 2 + 4 + 2 and len(bases_before) == 4
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0013")
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    after, bases_after, generation_after = stored()
    zirconium = [row for row in before if row.element == "Zr"]
    assert [(row.fraction_min, row.fraction_max) for row in zirconium] == [(0.4, 100.0)]
    assert [(r.fraction_min, r.fraction_max) for r in after if r.element == "Zr"] == [(0.4, 0.4)]
    unchanged = [row for row in before if row.material_id != zirconium[0].material_id]
    assert unchanged == [row for row in after if row.material_id != zirconium[0].material_id]
    assert bases_after == bases_before and generation_after != generation_before


def test_0015_gives_records_derived_from_in_vitro_properties_their_kind(engine, tmp_path):
    """A record derived from a cell viability before 0015 had no kind; after it, ``in vitro``. A
    bone-implant contact's record stays without one."""
    from sqlalchemy import select, update

    from biomatdb.models import BiologicalEvaluation
    from biomatdb_ingest.pipeline import ingest_file

    data = tmp_path / "derived.csv"
    data.write_text(
        "Material,Class,Cell viability [%],Bone-implant contact [%]\nTest polymer,polymer,91,\nTest metal,metal,,52\n",
        encoding="utf-8",
    )
    assert ingest_file(engine, data).ok
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0014")
        connection.execute(update(BiologicalEvaluation).values(kind=None))  # as 0013 derived them
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as connection:
        kinds = dict(connection.execute(select(BiologicalEvaluation.endpoint, BiologicalEvaluation.kind)).all())
    assert kinds == {"cytotoxicity": "in vitro", "osseointegration": None}


def test_0025_trims_stored_dois_and_folds_a_source_into_the_one_it_duplicates(engine, tmp_path):
    """A DOI stored before ingest trimmed it (``10.1000/kept)``, ``10.1000/alone.``) is trimmed by
    0025; one whose trimmed DOI is another source's is folded into that source, its measurements
    pointing there with their identity hashes computed again; the materials that cite a changed
    source wait in the search outbox, and the core's generation moves on."""
    from sqlalchemy import delete, func, select, text

    from biomatdb.db import core_generation
    from biomatdb.hashing import rehash_measurements
    from biomatdb.models import Material, Measurement, SearchOutbox, Source
    from biomatdb_ingest.pipeline import ingest_file

    data = tmp_path / "cited.csv"
    data.write_text(
        "Material,Class,DOI,Density (g/cm3)\n"
        "Test kept polymer,polymer,10.1000/kept,1.1\n"
        "Test folded polymer,polymer,10.1000/fold,1.2\n"
        "Test alone polymer,polymer,10.1000/alone,1.3\n"
        "Test uncited polymer,polymer,,1.4\n",
        encoding="utf-8",
    )
    assert ingest_file(engine, data).ok
    config = alembic_config(engine)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.downgrade(config, "0024")
        # as ingest stored them before it trimmed a DOI's closing punctuation
        for old, stored in (("10.1000/fold", "10.1000/kept)"), ("10.1000/alone", "10.1000/alone.")):
            connection.execute(
                text("UPDATE sources SET doi = :stored, key = :key WHERE doi = :old"),
                {"stored": stored, "key": f"doi:{stored}", "old": old},
            )
        connection.execute(delete(SearchOutbox))
        generation = core_generation(connection)
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, "head")
    with engine.connect() as connection:
        sources = connection.execute(select(Source.key, Source.doi).where(Source.doi.is_not(None))).all()
        cited = dict(
            connection.execute(
                select(Material.name, Source.doi)
                .join(Measurement, Measurement.material_id == Material.id)
                .outerjoin(Source, Source.id == Measurement.source_id)
            ).all()
        )
        queued = set(
            connection.scalars(select(Material.name).join(SearchOutbox, SearchOutbox.material_id == Material.id))
        )
        assert core_generation(connection) != generation
        hashes = connection.execute(select(Measurement.id, Measurement.identity_hash).order_by(Measurement.id)).all()
    assert sorted(sources) == [("doi:10.1000/alone", "10.1000/alone"), ("doi:10.1000/kept", "10.1000/kept")]
    assert cited["Test folded polymer"] == cited["Test kept polymer"] == "10.1000/kept"
    assert cited["Test alone polymer"] == "10.1000/alone"
    assert queued == {"Test kept polymer", "Test folded polymer", "Test alone polymer"}
    # the stored hashes are those of the rows as they now are: computing them again changes none
    with engine.connect() as connection, connection.begin() as transaction:
        rehash_measurements(connection)
        again = connection.execute(select(Measurement.id, Measurement.identity_hash).order_by(Measurement.id)).all()
        assert again == hashes
        assert connection.scalar(select(func.count()).select_from(Measurement)) == 4
        transaction.rollback()
