"""Everything in fixtures/ loads through the real pipeline, strictly, in seconds, on SQLite
and PostgreSQL, with exact counts per file; loading again changes nothing."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from biomatdb.db import make_engine
from biomatdb.models import BiologicalEvaluation, Dataset, Material, MaterialApplication, Measurement, Source
from biomatdb_ingest.fixtures import default_fixtures_dir, fixture_files, load_fixtures
from tests.conftest import snapshot

# file -> (rows read, materials created, measurements added), loading in fixture_files order
EXPECTED = {
    "bicerano-afzal/HT_MD_polymer_properties.csv": (315, 314, 1601),
    "curated/hydrogels-natural-composites.xlsx": (130, 34, 125),
    "curated/metals-ceramics.csv": (131, 54, 517),
    "curated/polymers.csv": (314, 24, 312),
    "curated/reference-tissues.tsv": (74, 13, 74),
    "evidence/biological-evaluation.csv": (380, 0, 5),
    "polymetrix-tg/Polymer_Tg.csv": (7252, 6675, 7252),
}
# the evidence file creates no material (it cites curated ones, loaded before it) and has 5 values
# that are measurements of an endpoint's property (a haemolysis ratio, cell viabilities, a bone-implant contact).
# materials that a dataset loaded earlier already holds (the same repeat unit, or another cut of
# it, under the identity rules of docs/identity.md) are matched, not created: polymers.csv
# creates 24 here and 37 alone; PolyMetriX's rows named only by a structure join the named row
# of that structure. The workbook's hydrogels stay apart from their polymers (another class).
DOI = re.compile(r"^10\.\d{4,9}/\S+$")

# the loads themselves are what is tested, on both backends: slow by nature (CI runs them)
pytestmark = pytest.mark.slow


@pytest.fixture(params=["sqlite", "postgresql"])
def loaded(request):
    """The session's core with every fixture loaded (tests/cores.py), and that load's reports."""
    if request.param == "sqlite":
        core = request.getfixturevalue("fixtures_sqlite")
        engine = make_engine(f"sqlite:///{core.location}")
    else:
        core = request.getfixturevalue("fixtures_postgresql")
        engine = make_engine(request.getfixturevalue("pg_server").url(core.location))
    yield engine, core
    engine.dispose()


def test_every_fixture_loads_strictly_with_exact_counts(loaded):
    engine, core = loaded
    root = default_fixtures_dir()
    assert [str(p.relative_to(root)) for p in fixture_files(root)] == list(EXPECTED)
    reports = core.reports
    print(f"\nall {len(reports)} fixture files loaded into {engine.dialect.name} in {core.seconds:.1f} s")
    for path, report in reports:
        assert report.ok and report.loaded and report.warning_count == 0, (path, report.errors[:3], report.warnings[:3])
    counts = {
        str(path.relative_to(root)): (r.rows_read, r.materials_created, r.measurements_added) for path, r in reports
    }
    assert counts == EXPECTED
    with engine.connect() as connection:
        assert connection.scalar(select(func.count()).select_from(Dataset)) == len(EXPECTED)
        assert connection.scalar(select(func.count()).select_from(Measurement)) == sum(
            m for _, _, m in EXPECTED.values()
        )
        assert connection.scalar(select(func.count()).where(Measurement.source_id.is_(None))) == 0
        assert (
            connection.scalar(select(func.count()).select_from(Material).where(Material.material_class.is_(None))) == 0
        )
        evidence = select(Dataset.id).where(Dataset.name == "biomatdb-curated-biological-evaluation")
        from_file = select(func.count()).where(
            BiologicalEvaluation.dataset_id.in_(evidence), BiologicalEvaluation.source_row.is_not(None)
        )
        assert connection.scalar(from_file) == EXPECTED["evidence/biological-evaluation.csv"][0]
        dois = connection.scalars(select(Source.doi).where(Source.doi.is_not(None))).all()
        assert dois and all(DOI.match(doi) for doi in dois), [d for d in dois if not DOI.match(d)]
        curated = select(Dataset.id).where(Dataset.filename.like("%curated%"))
        curated_materials = select(Material.id).where(Material.created_by_dataset_id.in_(curated))
        assert (
            connection.scalar(
                select(func.count())
                .select_from(Material)
                .where(Material.id.in_(curated_materials), Material.biodegradable.is_(None))
            )
            == 0
        )
        with_applications = select(MaterialApplication.material_id)
        assert (
            connection.scalar(
                select(func.count())
                .select_from(Material)
                .where(Material.id.in_(curated_materials), ~Material.id.in_(with_applications))
            )
            == 0
        )


def test_loading_the_fixtures_again_changes_nothing(fixtures_sqlite, copy_fixtures_sqlite, tmp_path):
    assert all(report.ok for _, report in fixtures_sqlite.reports)
    engine = copy_fixtures_sqlite(tmp_path / "again.sqlite")
    before = snapshot(engine)
    again = load_fixtures(engine, default_fixtures_dir())
    assert again and all(report.unchanged for _, report in again)
    assert snapshot(engine) == before
    engine.dispose()
